//! A key with imported key material (origin `EXTERNAL`):
//! [`ImportedMaterial`], the material while the key has it, read by the
//! cryptographic path without a lock; [`ImportState`], what the key's
//! mutable part keeps of its imports (the id of the material it was first
//! imported with, the expiration, the latest import parameters); and
//! [`ImportToken`], the opaque token GetParametersForImport hands out.
//!
//! Deleting or expiring the material drops it (it zeroizes); only its id
//! stays, so that a re-import can be checked to be the same material.

#[cfg(feature = "asymmetric")]
use std::sync::Arc;

use crate::clock::Timestamp;
use crate::ids::KeyId;
use crate::sync::{Snapshot, SnapshotRef};

use super::versions::{MaterialId, MaterialVersion};

/// The imported material, while the key has it.
#[derive(Debug)]
pub(crate) struct ImportedMaterial(Snapshot<Option<MaterialVersion>>);

impl ImportedMaterial {
    /// None yet.
    pub(crate) fn empty() -> ImportedMaterial {
        ImportedMaterial(Snapshot::new(None))
    }

    /// The material now (hold the reference briefly).
    #[inline]
    pub(crate) fn load(&self) -> SnapshotRef<Option<MaterialVersion>> {
        self.0.load()
    }

    /// Replaces the material; call with the key's state write lock held.
    pub(crate) fn set(&self, version: Option<MaterialVersion>) {
        self.0.store(version);
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
}

/// What a key with imported material keeps of its imports, in its mutable
/// part.
#[derive(Clone, Debug, Default)]
pub(crate) struct ImportState {
    /// The id of the material the key was first imported with: every
    /// later import must bring the same material. `None` until then.
    pub(crate) material_id: Option<MaterialId>,
    /// While the key has its material: when it expires.
    pub(crate) expiration: Option<Expiration>,
    /// `KeyMaterialDescription` of the latest import that gave one.
    pub(crate) description: Option<String>,
    /// The parameters of the latest GetParametersForImport (a later call
    /// replaces them: an older token no longer works).
    #[cfg(feature = "asymmetric")]
    pub(crate) parameters: Option<Arc<ImportParameters>>,
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
}
