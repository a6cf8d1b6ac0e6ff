//! A key with imported key material (origin `EXTERNAL`):
//! [`ImportState`], what the key's mutable part keeps of its materials
//! (every material ever associated with the key, by version index: its id,
//! whether it is imported now, its expiration and description, when it
//! became current; which one is current; the latest import parameters);
//! [`ImportedMaterial`], the materials imported now ([`ImportedSecret`]: a
//! symmetric key's material versions, an HMAC key's one secret or an
//! asymmetric key's one key pair),
//! mirrored from it for the cryptographic path, which reads them without a
//! lock; [`Lineage`], a multi-Region primary key's material ids and
//! current index, which its replicas follow; and
//! [`ImportToken`], the opaque token GetParametersForImport hands out.
//!
//! A symmetric key's materials are numbered in import order, and a
//! ciphertext names the version that sealed it (`versions.rs`). The first
//! is current; ImportKeyMaterial with `NEW_KEY_MATERIAL` adds one pending
//! rotation (never used until RotateKeyOnDemand makes it current, so a
//! pending material that is deleted leaves its number free for another).
//! Deleting or expiring a material drops it (it zeroizes); its id stays,
//! so that a re-import can be checked to be the same material.
//! A multi-Region replica key lists the same ids at the same indexes as
//! its primary key (so a ciphertext's version means the same material in
//! every Region); it imports each material itself.

use std::sync::Arc;

use crate::clock::Timestamp;
use crate::crypto::mac::HmacKey;
use crate::ids::KeyId;
use crate::sync::{Snapshot, SnapshotRef};

use super::kind::PairMaterial;
use super::versions::{MaterialId, MaterialVersion};

/// An imported material's secret, while it is imported.
#[cfg_attr(
    not(any(feature = "asymmetric", feature = "durable")),
    allow(dead_code, reason = "imports need the feature `asymmetric`")
)]
#[derive(Clone, Debug)]
pub(crate) enum ImportedSecret {
    /// A symmetric encryption key's: a version of its material.
    Symmetric(Arc<MaterialVersion>),
    /// An HMAC key's secret (its one material).
    Hmac(Arc<HmacKey>),
    /// An asymmetric key's key pair (its one material).
    KeyPair(Arc<PairMaterial>),
}

/// The materials a key has imported now, by version index, and the
/// current one's index: a mirror of [`ImportState`], published under the
/// key's state lock after each change.
#[derive(Clone, Debug, Default)]
pub(crate) struct ImportedSet {
    /// Version `i`'s material while it is imported.
    slots: Vec<Option<ImportedSecret>>,
    /// The current version's index.
    current: u32,
}

impl ImportedSet {
    /// The current material, if the key has it now.
    #[inline]
    pub(crate) fn current(&self) -> Option<&MaterialVersion> {
        self.get(self.current)
    }

    /// Version `index`, if it is imported now. A version pending rotation
    /// is imported but not yet usable: it is after the current one, and
    /// no ciphertext names it.
    #[inline]
    pub(crate) fn get(&self, index: u32) -> Option<&MaterialVersion> {
        if index > self.current {
            return None;
        }
        match self.slots.get(index as usize)? {
            Some(ImportedSecret::Symmetric(v)) => Some(v),
            _ => None,
        }
    }

    /// An HMAC key's secret, if it is imported now.
    #[inline]
    pub(crate) fn hmac(&self) -> Option<&HmacKey> {
        match self.slots.get(self.current as usize)? {
            Some(ImportedSecret::Hmac(k)) => Some(k),
            _ => None,
        }
    }

    /// An asymmetric key's key pair, if it is imported now.
    #[inline]
    pub(crate) fn key_pair(&self) -> Option<&Arc<PairMaterial>> {
        match self.slots.get(self.current as usize)? {
            Some(ImportedSecret::KeyPair(p)) => Some(p),
            _ => None,
        }
    }
}

/// The imported materials, mirrored for the cryptographic path.
#[derive(Debug)]
pub(crate) struct ImportedMaterial(Snapshot<ImportedSet>);

impl ImportedMaterial {
    /// None yet.
    pub(crate) fn empty() -> ImportedMaterial {
        ImportedMaterial(Snapshot::new(ImportedSet::default()))
    }

    /// The materials now (hold the reference briefly).
    #[inline]
    pub(crate) fn load(&self) -> SnapshotRef<ImportedSet> {
        self.0.load()
    }

    /// Publishes `state`'s materials; call with the key's state write lock
    /// held, after the change has been committed.
    pub(crate) fn publish(&self, state: &ImportState) {
        self.0.store(ImportedSet {
            slots: state.materials.iter().map(|m| m.secret.clone()).collect(),
            current: state.current,
        });
    }
}

/// When imported material expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expiration {
    /// `KEY_MATERIAL_DOES_NOT_EXPIRE`.
    Never,
    /// `KEY_MATERIAL_EXPIRES` at `valid_to` (its timer is armed).
    At(Timestamp),
}

impl Expiration {
    /// The deadline, if it expires.
    pub(crate) fn valid_to(self) -> Option<Timestamp> {
        match self {
            Expiration::Never => None,
            Expiration::At(t) => Some(t),
        }
    }

    /// ExpirationModel.
    pub(crate) fn model(self) -> crate::key::ExpirationModelType {
        match self {
            Expiration::Never => crate::key::ExpirationModelType::KeyMaterialDoesNotExpire,
            Expiration::At(_) => crate::key::ExpirationModelType::KeyMaterialExpires,
        }
    }
}

/// ListKeyRotations' `KeyMaterialState` of an imported material.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MaterialState {
    /// Encrypts and decrypts.
    Current,
    /// Decrypts what it sealed while current.
    NonCurrent,
    /// Imported with `NEW_KEY_MATERIAL`, waiting for RotateKeyOnDemand.
    PendingRotation,
    /// A multi-Region key's material imported with `NEW_KEY_MATERIAL`
    /// into its primary key but not yet into every replica key: the
    /// rotation waits for those imports.
    PendingMultiRegionImportAndRotation,
}

impl MaterialState {
    /// The API name.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            MaterialState::Current => "CURRENT",
            MaterialState::NonCurrent => "NON_CURRENT",
            MaterialState::PendingRotation => "PENDING_ROTATION",
            MaterialState::PendingMultiRegionImportAndRotation => {
                "PENDING_MULTI_REGION_IMPORT_AND_ROTATION"
            }
        }
    }
}

/// One material associated with a key with imported material.
#[derive(Clone, Debug)]
pub(crate) struct MaterialSlot {
    /// Its id (`MaterialId::derive_imported`).
    pub(crate) id: MaterialId,
    /// The material while it is imported (`ImportState` `IMPORTED`).
    pub(crate) secret: Option<ImportedSecret>,
    /// While imported: when it expires.
    pub(crate) expiration: Option<Expiration>,
    /// `KeyMaterialDescription` of the latest import that gave one.
    pub(crate) description: Option<String>,
    /// When RotateKeyOnDemand made it current (`None` for the first).
    pub(crate) rotation_date: Option<Timestamp>,
}

/// What a key with imported material keeps of its imports, in its mutable
/// part.
#[derive(Clone, Debug, Default)]
pub(crate) struct ImportState {
    /// Every material associated with the key, by version index (the
    /// first is the one the key was first imported with; at most the last
    /// is pending rotation). Empty until the first import.
    pub(crate) materials: Vec<MaterialSlot>,
    /// The current material's index.
    pub(crate) current: u32,
    /// The parameters of the latest GetParametersForImport (a later call
    /// replaces them: an older token no longer works).
    #[cfg(feature = "asymmetric")]
    pub(crate) parameters: Option<Arc<ImportParameters>>,
}

impl ImportState {
    /// The current material's slot (none before the first import).
    pub(crate) fn current_slot(&self) -> Option<&MaterialSlot> {
        self.materials.get(self.current as usize)
    }

    /// The state of material `index`; `everywhere`: whether a material
    /// pending rotation is imported into every related multi-Region key
    /// (always true for a single-Region key).
    pub(crate) fn state_of(&self, index: usize, everywhere: bool) -> MaterialState {
        match index.cmp(&(self.current as usize)) {
            std::cmp::Ordering::Less => MaterialState::NonCurrent,
            std::cmp::Ordering::Equal => MaterialState::Current,
            std::cmp::Ordering::Greater if everywhere => MaterialState::PendingRotation,
            std::cmp::Ordering::Greater => MaterialState::PendingMultiRegionImportAndRotation,
        }
    }

    /// The materials' ids and rotation dates, in order, and the current
    /// one's index: what a multi-Region primary key's replicas follow.
    pub(crate) fn lineage(&self) -> Lineage {
        Lineage {
            materials: self
                .materials
                .iter()
                .map(|m| (m.id, m.rotation_date))
                .collect(),
            current: self.current,
        }
    }

    /// Makes this (a replica's) state follow its primary key's `lineage`:
    /// the same material ids at the same indexes (a material the primary
    /// key has that this one lacks comes in pending import; one the
    /// primary no longer has goes, with its secret), the same rotation
    /// dates and the same current material. Returns whether anything
    /// changed.
    pub(crate) fn follow(&mut self, lineage: &Lineage) -> bool {
        let mut changed = false;
        for (i, &(id, rotation_date)) in lineage.materials.iter().enumerate() {
            match self.materials.get_mut(i) {
                Some(slot) if slot.id == id => {
                    if slot.rotation_date != rotation_date {
                        slot.rotation_date = rotation_date;
                        changed = true;
                    }
                    continue;
                }
                Some(_) => self.materials.truncate(i),
                None => {}
            }
            self.materials.push(MaterialSlot {
                id,
                secret: None,
                expiration: None,
                description: None,
                rotation_date,
            });
            changed = true;
        }
        if self.materials.len() > lineage.materials.len() {
            self.materials.truncate(lineage.materials.len());
            changed = true;
        }
        if self.current != lineage.current {
            self.current = lineage.current;
            changed = true;
        }
        changed
    }

    /// The index of the material pending rotation, if there is one.
    pub(crate) fn pending(&self) -> Option<usize> {
        let last = self.materials.len().checked_sub(1)?;
        (last > self.current as usize).then_some(last)
    }

    /// The index of the material whose id is `id`.
    pub(crate) fn find(&self, id: MaterialId) -> Option<usize> {
        self.materials.iter().position(|m| m.id == id)
    }

    /// Whether every material permanently associated with the key (all
    /// but one pending rotation) is imported: only then is the key usable.
    pub(crate) fn complete(&self) -> bool {
        !self.materials.is_empty()
            && self.materials[..=self.current as usize]
                .iter()
                .all(|m| m.secret.is_some())
    }

    /// The deadlines of the materials that expire (each one's timer).
    pub(crate) fn deadlines(&self) -> std::collections::BTreeSet<Timestamp> {
        self.materials
            .iter()
            .filter_map(|m| m.expiration.and_then(Expiration::valid_to))
            .collect()
    }
}

/// A multi-Region primary key's materials as its replicas follow them
/// ([`ImportState::lineage`]): ids and rotation dates by index, and the
/// current index. No secret is in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Lineage {
    /// Each material's id and rotation date, by version index.
    pub(crate) materials: Vec<(MaterialId, Option<Timestamp>)>,
    /// The current material's index.
    pub(crate) current: u32,
}

/// One GetParametersForImport's parameters: the wrapping key pair, and
/// until when they work.
#[cfg(feature = "asymmetric")]
#[derive(Debug)]
pub(crate) struct ImportParameters {
    /// The token's own random part.
    pub(crate) nonce: [u8; 16],
    /// The RSA key pair and the wrapping algorithm.
    pub(crate) wrapping: crate::crypto::import::WrappingKey,
    /// ParametersValidTo.
    pub(crate) valid_to: Timestamp,
}

/// The import token: a version byte, the key id it is for, and the random
/// nonce of its parameters. Opaque to the caller; nothing secret is in it
/// (the wrapping private key stays in the service).
#[cfg_attr(
    not(feature = "asymmetric"),
    allow(dead_code, reason = "imports need the feature `asymmetric`")
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ImportToken {
    /// The key the parameters belong to.
    pub(crate) key: KeyId,
    /// The parameters' nonce.
    pub(crate) nonce: [u8; 16],
}

#[cfg_attr(
    not(feature = "asymmetric"),
    allow(dead_code, reason = "imports need the feature `asymmetric`")
)]
impl ImportToken {
    const VERSION: u8 = 1;

    /// The bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let id = self.key.to_string();
        let mut out = Vec::with_capacity(2 + id.len() + 16);
        out.push(Self::VERSION);
        out.push(id.len() as u8);
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&self.nonce);
        out
    }

    /// Reads a token; `None` for bytes that are not one.
    pub(crate) fn decode(bytes: &[u8]) -> Option<ImportToken> {
        let (&version, rest) = bytes.split_first()?;
        let (&len, rest) = rest.split_first()?;
        if version != Self::VERSION || rest.len() != usize::from(len) + 16 {
            return None;
        }
        let (id, nonce) = rest.split_at(usize::from(len));
        let key = std::str::from_utf8(id).ok()?.parse().ok()?;
        Some(ImportToken {
            key,
            nonce: nonce.try_into().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn an_import_token_round_trips_and_junk_is_not_one() {
        let t = ImportToken {
            key: KeyId::from_random_bytes([4; 16]),
            nonce: [9; 16],
        };
        assert_eq!(ImportToken::decode(&t.encode()), Some(t));
        let bytes = t.encode();
        assert_eq!(ImportToken::decode(&bytes[..bytes.len() - 1]), None);
        assert_eq!(ImportToken::decode(&[]), None);
        let mut other_version = bytes.clone();
        other_version[0] = 2;
        assert_eq!(ImportToken::decode(&other_version), None);
        let mut longer = bytes;
        longer.push(0);
        assert_eq!(ImportToken::decode(&longer), None);
    }

    fn slot(n: u8, imported: bool) -> MaterialSlot {
        let key = KeyId::from_random_bytes([1; 16]);
        let material = crate::crypto::KeyMaterial::from_bytes([n; 32]);
        let id = MaterialId::derive_imported(&key, material.expose_secret());
        MaterialSlot {
            id,
            secret: imported.then(|| {
                ImportedSecret::Symmetric(Arc::new(MaterialVersion::imported(
                    u32::from(n),
                    material,
                    Timestamp::from_millis(0),
                    id,
                )))
            }),
            expiration: imported.then_some(Expiration::Never),
            description: None,
            rotation_date: None,
        }
    }

    #[cfg(feature = "asymmetric")]
    #[test]
    fn an_imported_key_pair_is_published_for_use_and_never_prints_its_private_key() {
        use crate::key::KeySpec;
        use crate::kms::model::kind::KeyKind;
        let rng = crate::crypto::rng::SecureRng::new(Some(5));
        let made = crate::crypto::asymmetric::KeyPair::generate(
            crate::crypto::asymmetric::PairSpec::P256,
            &rng,
        )
        .unwrap();
        let der = made.to_pkcs8().unwrap();
        let pair = KeyKind::imported_pair(KeySpec::EccNistP256, &der).unwrap();
        assert_eq!(pair.to_pkcs8().unwrap(), der, "one encoding");
        assert!(KeyKind::imported_pair(KeySpec::EccNistP384, &der).is_none());
        let key = KeyId::from_random_bytes([2; 16]);
        let state = ImportState {
            materials: vec![MaterialSlot {
                id: MaterialId::derive_imported(&key, &der),
                secret: Some(ImportedSecret::KeyPair(Arc::new(pair))),
                expiration: Some(Expiration::Never),
                description: None,
                rotation_date: None,
            }],
            ..ImportState::default()
        };
        let published = ImportedMaterial::empty();
        assert!(published.load().key_pair().is_none());
        published.publish(&state);
        let set = published.load();
        assert!(set.key_pair().is_some() && set.hmac().is_none() && set.current().is_none());
        let printed = format!("{state:?} {:?}", *set);
        assert!(
            printed.contains(crate::crypto::material::REDACTED),
            "{printed}"
        );
        // The private scalar appears in no form.
        let crate::crypto::asymmetric::KeyPair::P256(scalar) = &made else {
            panic!("a P-256 pair")
        };
        let scalar = scalar.to_bytes();
        let hex: String = scalar.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!printed.contains(&hex), "{printed}");
        assert!(
            !printed.contains(&format!("{:?}", &scalar[..8])),
            "{printed}"
        );
    }

    #[test]
    fn material_pending_rotation_is_not_published_for_use_and_does_not_count_for_the_key_state() {
        let mut state = ImportState {
            materials: vec![slot(0, true), slot(1, true)],
            ..ImportState::default()
        };
        assert_eq!(state.pending(), Some(1));
        assert_eq!(state.state_of(0, true), MaterialState::Current);
        assert_eq!(state.state_of(1, true), MaterialState::PendingRotation);
        assert_eq!(
            state.state_of(1, false),
            MaterialState::PendingMultiRegionImportAndRotation
        );
        assert!(state.complete());
        let published = ImportedMaterial::empty();
        published.publish(&state);
        let set = published.load();
        assert_eq!(set.current().map(|v| v.index), Some(0));
        assert!(set.get(1).is_none(), "pending material must not decrypt");
        // Rotated: both usable, the first for decryption only.
        state.current = 1;
        assert_eq!(state.pending(), None);
        assert_eq!(state.state_of(0, false), MaterialState::NonCurrent);
        published.publish(&state);
        let set = published.load();
        assert_eq!(set.current().map(|v| v.index), Some(1));
        assert_eq!(set.get(0).map(|v| v.index), Some(0));
        // A non-current material missing: the key is not complete.
        state.materials[0] = slot(0, false);
        assert!(!state.complete());
        assert!(!ImportState::default().complete());
    }

    #[test]
    fn a_replica_follows_its_primarys_lineage_and_keeps_its_own_secrets() {
        let mut primary = ImportState {
            materials: vec![slot(0, true), slot(1, true), slot(2, true)],
            ..ImportState::default()
        };
        primary.current = 1;
        // A replica with the first imported, and another pending material
        // the primary key no longer has.
        let mut replica = ImportState {
            materials: vec![slot(0, true), slot(5, true)],
            ..ImportState::default()
        };
        assert!(replica.follow(&primary.lineage()));
        assert_eq!(replica.lineage(), primary.lineage());
        assert!(
            replica.materials[0].secret.is_some(),
            "its own import stays"
        );
        assert!(replica.materials[1].secret.is_none());
        assert!(replica.materials[2].secret.is_none());
        assert!(!replica.complete(), "the new current one is not imported");
        assert!(
            !replica.follow(&primary.lineage()),
            "nothing left to change"
        );
        // The primary key's pending material deleted: it goes here too.
        let mut fewer = primary.clone();
        fewer.materials.truncate(2);
        assert!(replica.follow(&fewer.lineage()));
        assert_eq!(replica.materials.len(), 2);
        assert_eq!(replica.pending(), None);
    }
}
