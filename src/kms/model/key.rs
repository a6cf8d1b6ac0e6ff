//! A KMS key as the service holds it: [`KeyEntry`] (identity, material,
//! and the mutable part behind the key's own lock), [`KeyMutable`], and
//! [`LifecycleWord`], the lifecycle mirrored in one atomic word for the
//! cryptographic path. Plain data: the service takes the locks.

use std::sync::Arc;

use crate::clock::Timestamp;
use crate::error::{AwsMessage, Error, Result};
use crate::iam::policy::{Policy, PolicyKind};
use crate::ids::{KeyId, Region};
use crate::key::{KeyLifecycle, KeyManager, MultiRegionKeyType, Tag};
use crate::sync::RwLock;
use crate::sync::{AtomicBool, Ordering};

use super::backing::Backing;
use super::grants::KeyGrants;
use super::import::{ImportState, ImportedMaterial, ImportedSet};
use super::kind::{KeyKind, PairMaterial};
use super::multi_region::MultiRegion;
use super::versions::{MaterialVersion, RotationSchedule, Versions};

/// The mutable part of a key.
#[derive(Clone, Debug)]
pub(crate) struct KeyMutable {
    pub(crate) lifecycle: KeyLifecycle,
    pub(crate) description: String,
    pub(crate) tags: Vec<Tag>,
    /// `None` means the default key policy.
    pub(crate) policy: Option<String>,
    /// `policy`, compiled (`None` with it).
    pub(crate) compiled_policy: Option<Arc<Policy>>,
    /// The key's grants: they live and go with the key.
    pub(crate) grants: KeyGrants,
    /// Set, under the key's lock, by the deletion at the end of the window
    /// once it has committed and removed the key from the tables. A change
    /// that took the lock after that finds the key gone.
    pub(crate) deleted: bool,
    /// Automatic rotation and the on-demand count; the versions themselves
    /// are in [`KeyEntry::versions`].
    pub(crate) rotation: RotationSchedule,
    /// For a multi-Region key (its id is an `mrk-` id): where its primary
    /// and replicas are (boxed: one word for the keys that have none).
    pub(crate) multi_region: Option<Box<MultiRegion>>,
    /// For a key with imported material (origin `EXTERNAL`): its imports
    /// (boxed: one word for the keys that have none).
    pub(crate) import: Option<Box<ImportState>>,
}

impl KeyMutable {
    /// The key's multi-Region role in `region` (`None` for a single-Region
    /// key), as [`MultiRegion::key_type`] tells it.
    pub(crate) fn multi_region_type(&self, region: &Region) -> Option<MultiRegionKeyType> {
        self.multi_region.as_deref().map(|mr| mr.key_type(region))
    }

    /// True if this is a multi-Region replica key as seen from `region`.
    pub(crate) fn is_replica_in(&self, region: &Region) -> bool {
        self.multi_region_type(region) == Some(MultiRegionKeyType::Replica)
    }

    /// The mutable part of a new key: enabled, with no grants, no rotation
    /// and no multi-Region relations (set those after, where they apply).
    pub(crate) fn new(
        description: String,
        tags: Vec<Tag>,
        policy: Option<String>,
        compiled_policy: Option<Arc<Policy>>,
    ) -> KeyMutable {
        KeyMutable {
            lifecycle: KeyLifecycle::Enabled,
            description,
            tags,
            policy,
            compiled_policy,
            grants: KeyGrants::default(),
            deleted: false,
            rotation: RotationSchedule::default(),
            multi_region: None,
            import: None,
        }
    }
}

/// The immutable part of a key, as [`KeyEntry::new`] takes it.
pub(crate) struct KeyIdentity {
    pub(crate) id: KeyId,
    pub(crate) arn: String,
    pub(crate) creation_date: Timestamp,
    pub(crate) manager: KeyManager,
    pub(crate) backing: Backing,
    pub(crate) kind: KeyKind,
    pub(crate) versions: Option<Versions>,
    pub(crate) imported: Option<Box<ImportedMaterial>>,
}

/// A KMS key: immutable identity and material, mutable state behind a lock.
#[derive(Debug)]
pub(crate) struct KeyEntry {
    pub(crate) id: KeyId,
    pub(crate) arn: String,
    pub(crate) creation_date: Timestamp,
    /// `CUSTOMER`, or `AWS` for an AWS managed key (created behind a
    /// predefined `alias/aws/…` alias on first use).
    pub(crate) manager: KeyManager,
    pub(crate) backing: Backing,
    /// Symmetric or HMAC (with the HMAC secret): the key spec and usage.
    pub(crate) kind: KeyKind,
    /// Every version of the KMS material (AWS_KMS and EXTERNAL_KEY_STORE
    /// keys; only AWS_KMS keys rotate), append-only: the hot path reads it
    /// with no lock (`versions.rs`). `None` for CloudHSM keys. Each
    /// version's cipher is expanded on its first use: a key never used
    /// holds no key schedule — with aws-lc, whose schedule is a C-heap
    /// context, that is most of what an idle key would cost.
    pub(crate) versions: Option<Versions>,
    /// A key with imported material (origin `EXTERNAL`): the material
    /// while it has it (`versions` is `None`). `None` for other keys.
    pub(crate) imported: Option<Box<ImportedMaterial>>,
    pub(crate) state: RwLock<KeyMutable>,
    /// `state.lifecycle`, mirrored for the cryptographic path.
    pub(crate) lifecycle: LifecycleWord,
    /// `state.policy.is_none()`, mirrored for authorization's fast path:
    /// the key has the default key policy.
    pub(crate) default_policy: AtomicBool,
    /// Set when the key leaves the key table (under the table's write
    /// lock, before it goes): a per-thread cache that still holds the
    /// entry then knows to look in the table (`service/cache.rs`).
    pub(crate) removed: AtomicBool,
}

impl KeyEntry {
    /// A key from its identity and mutable state; the mirrors of the
    /// state that the hot path reads (lifecycle word, default-policy flag)
    /// are derived here, so no constructor can set them apart.
    pub(crate) fn new(identity: KeyIdentity, state: KeyMutable) -> KeyEntry {
        let KeyIdentity {
            id,
            arn,
            creation_date,
            manager,
            backing,
            kind,
            versions,
            imported,
        } = identity;
        KeyEntry {
            id,
            arn,
            creation_date,
            manager,
            backing,
            kind,
            versions,
            imported,
            lifecycle: LifecycleWord::new(state.lifecycle),
            default_policy: AtomicBool::new(state.policy.is_none()),
            removed: AtomicBool::new(false),
            state: RwLock::new(state),
        }
    }

    /// True while the key has the default key policy (set under the key's
    /// lock with `state.policy`).
    #[inline]
    pub(crate) fn default_policy(&self) -> bool {
        self.default_policy.load(Ordering::Acquire)
    }

    /// True once the key has left the key table.
    #[inline]
    pub(crate) fn is_removed(&self) -> bool {
        self.removed.load(Ordering::Acquire)
    }

    /// The compiled form of a key's stored `policy`. A stored policy that
    /// does not compile (checked under older rules) compiles to nothing:
    /// the key allows no one.
    #[cfg_attr(not(feature = "durable"), allow(dead_code))]
    pub(crate) fn compile_policy(policy: Option<&str>) -> Option<Arc<Policy>> {
        policy
            .and_then(|p| Policy::parse(p, PolicyKind::Key).ok())
            .map(Arc::new)
    }

    /// Sets the key's policy (under its lock, `m`): the text, its compiled
    /// form, and the fast-path mirror.
    pub(crate) fn set_policy(&self, m: &mut KeyMutable, text: String, compiled: Arc<Policy>) {
        m.policy = Some(text);
        m.compiled_policy = Some(compiled);
        self.default_policy.store(false, Ordering::Release);
    }

    /// The current version of the KMS material (`None` for a CloudHSM
    /// key, whose material is in its cluster).
    #[inline]
    pub(crate) fn current_material(&self) -> Option<&MaterialVersion> {
        self.versions.as_ref().map(Versions::current)
    }

    /// The key pair an asymmetric key uses now — the one place that says
    /// which: the pair KMS made at CreateKey, or, for a key with imported
    /// material, the pair imported now. A key whose imported pair was
    /// deleted or expired after its state was checked is pending import
    /// (`KMSInvalidStateException`); a key that is not asymmetric has none
    /// (an internal error: its usage was checked first).
    pub(crate) fn key_pair(&self) -> Result<Arc<PairMaterial>> {
        let Some(entry) = self.kind.asymmetric() else {
            return Err(Error::internal(
                "an asymmetric operation on a key without a key pair",
            ));
        };
        if let Some(own) = entry.own_pair() {
            return Ok(Arc::clone(own));
        }
        // Cloned out: the snapshot is not held while the pair works.
        let imported = self.imported.as_ref().map(|i| i.load());
        imported
            .as_deref()
            .and_then(ImportedSet::key_pair)
            .cloned()
            .ok_or_else(|| {
                Error::from(AwsMessage::PendingImport {
                    arn: self.arn.clone(),
                })
            })
    }

    /// RSAES-OAEP or SM2PKE encryption under this asymmetric key's
    /// current pair ([`KeyEntry::key_pair`]); see
    /// [`KeyKind::pair_encrypt`].
    pub(crate) fn pair_encrypt(
        &self,
        alg: crate::key::EncryptionAlgorithmSpec,
        plaintext: &[u8],
        rng: &crate::crypto::rng::SecureRng,
    ) -> Result<Vec<u8>> {
        self.kind
            .pair_encrypt(self.key_pair()?.pair(), alg, plaintext, rng)
    }

    /// The decryption that reverses [`KeyEntry::pair_encrypt`]; see
    /// [`KeyKind::pair_decrypt`].
    pub(crate) fn pair_decrypt(
        &self,
        alg: crate::key::EncryptionAlgorithmSpec,
        ciphertext: &[u8],
        rng: &crate::crypto::rng::SecureRng,
    ) -> Result<crate::crypto::Plaintext> {
        self.kind
            .pair_decrypt(self.key_pair()?.pair(), alg, ciphertext, rng)
    }

    /// Version `index` of the KMS material, if the key has it.
    #[inline]
    pub(crate) fn material_version(&self, index: u32) -> Option<&MaterialVersion> {
        self.versions.as_ref()?.get(index)
    }

    /// The key's lifecycle, read without taking its lock.
    pub(crate) fn lifecycle(&self) -> KeyLifecycle {
        self.lifecycle
            .load()
            .unwrap_or_else(|| self.state.read().lifecycle)
    }
}

/// A key's lifecycle in one atomic word, so that the cryptographic path —
/// which reads it on every call, from every thread — loads a shared cache
/// line instead of writing one (a read lock is a write to the lock word).
/// Written only under the key's `state` write lock, right after
/// `KeyMutable::lifecycle`, which stays the record.
///
/// Layout: bits 0–1 the variant (0 Enabled, 1 Disabled, 2 PendingDeletion,
/// 3 "read the lock"), bits 2–9 the deletion window in days, bits 10–63 the
/// deletion date in milliseconds (good for 570,000 years).
#[derive(Debug)]
pub(crate) struct LifecycleWord(crate::sync::AtomicU64);

impl LifecycleWord {
    const UNENCODABLE: u64 = 3;

    pub(crate) fn new(lifecycle: KeyLifecycle) -> LifecycleWord {
        LifecycleWord(crate::sync::AtomicU64::new(Self::encode(lifecycle)))
    }

    /// Records `lifecycle`; call with the key's state write lock held.
    pub(crate) fn store(&self, lifecycle: KeyLifecycle) {
        self.0
            .store(Self::encode(lifecycle), crate::sync::Ordering::Release);
    }

    /// The lifecycle, or `None` if it does not fit the word (then the lock
    /// has it).
    fn load(&self) -> Option<KeyLifecycle> {
        let w = self.0.load(crate::sync::Ordering::Acquire);
        match w & 3 {
            0 => Some(KeyLifecycle::Enabled),
            1 => Some(KeyLifecycle::Disabled),
            2 => Some(KeyLifecycle::PendingDeletion {
                deletion_date: Timestamp::from_millis(w >> 10),
                window_days: ((w >> 2) & 0xff) as u32,
            }),
            _ => None,
        }
    }

    fn encode(lifecycle: KeyLifecycle) -> u64 {
        match lifecycle {
            KeyLifecycle::Enabled => 0,
            KeyLifecycle::Disabled => 1,
            KeyLifecycle::PendingDeletion {
                deletion_date,
                window_days,
            } if window_days <= 0xff && deletion_date.as_millis() < 1 << 54 => {
                (deletion_date.as_millis() << 10) | (u64::from(window_days) << 2) | 2
            }
            KeyLifecycle::PendingDeletion { .. }
            | KeyLifecycle::PendingReplicaDeletion { .. }
            | KeyLifecycle::PendingImport => Self::UNENCODABLE,
        }
    }
}

#[cfg(test)]
mod lifecycle_word_tests {
    use super::*;

    #[test]
    fn every_lifecycle_round_trips_through_the_word() {
        for lifecycle in [
            KeyLifecycle::Enabled,
            KeyLifecycle::Disabled,
            KeyLifecycle::PendingDeletion {
                deletion_date: Timestamp::from_millis(0),
                window_days: 7,
            },
            KeyLifecycle::PendingDeletion {
                deletion_date: Timestamp::from_millis(1_767_225_600_123),
                window_days: 30,
            },
        ] {
            let word = LifecycleWord::new(KeyLifecycle::Enabled);
            word.store(lifecycle);
            assert_eq!(word.load(), Some(lifecycle));
        }
    }

    #[test]
    fn a_lifecycle_too_large_for_the_word_defers_to_the_lock() {
        let waiting = KeyLifecycle::PendingReplicaDeletion { window_days: 7 };
        assert_eq!(LifecycleWord::new(waiting).load(), None);
        let far = KeyLifecycle::PendingDeletion {
            deletion_date: Timestamp::from_millis(u64::MAX),
            window_days: 7,
        };
        assert_eq!(LifecycleWord::new(far).load(), None);
        let wide = KeyLifecycle::PendingDeletion {
            deletion_date: Timestamp::from_millis(5),
            window_days: 300,
        };
        assert_eq!(LifecycleWord::new(wide).load(), None);
    }
}
