//! What kind of KMS key an entry is: [`KeyKind`], the one place the key
//! specs this KMS makes are told apart — a symmetric encryption key (its
//! material in the entry's versions, or in its custom key store) or an HMAC
//! key (its secret here) — with the key usage, the algorithms DescribeKey
//! lists, and which cryptographic operations each allows.

use crate::crypto::mac::{HmacHash, HmacKey};
use crate::crypto::rng::SecureRng;
use crate::error::{AwsMessage, Error, Result};
use crate::key::state::KeyOperation;
use crate::key::{EncryptionAlgorithmSpec, KeySpec, KeyUsage, MacAlgorithmSpec};
use crate::kms::shapes::grants::GrantOperation;
use crate::storage::records::{KeySecretRecord, SecretVec};

/// A key's kind, and the secret that belongs to it. One pointer wide:
/// every key pays for the field, most are symmetric (the per-key memory
/// budget, `tests/memory_per_key.rs`).
#[derive(Debug)]
pub(crate) enum KeyKind {
    /// `SYMMETRIC_DEFAULT`, `ENCRYPT_DECRYPT`.
    Symmetric,
    /// `HMAC_224/256/384/512`, `GENERATE_VERIFY_MAC`.
    Hmac(Box<HmacEntry>),
}

/// An HMAC key's spec and secret.
#[derive(Debug)]
pub(crate) struct HmacEntry {
    /// The key spec (one of the four HMAC specs).
    spec: KeySpec,
    /// The secret.
    key: HmacKey,
}

/// The hash of an HMAC key spec (`None` for the others).
fn hmac_hash(spec: KeySpec) -> Option<HmacHash> {
    Some(match spec {
        KeySpec::Hmac224 => HmacHash::Sha224,
        KeySpec::Hmac256 => HmacHash::Sha256,
        KeySpec::Hmac384 => HmacHash::Sha384,
        KeySpec::Hmac512 => HmacHash::Sha512,
        _ => return None,
    })
}

impl KeyKind {
    /// A new HMAC key of `spec` (`None` if `spec` is not an HMAC spec).
    pub(crate) fn new_hmac(spec: KeySpec, rng: &SecureRng) -> Option<KeyKind> {
        let hash = hmac_hash(spec)?;
        Some(KeyKind::Hmac(Box::new(HmacEntry {
            spec,
            key: HmacKey::generate(hash, rng),
        })))
    }

    /// The key spec.
    pub(crate) fn spec(&self) -> KeySpec {
        match self {
            KeyKind::Symmetric => KeySpec::SymmetricDefault,
            KeyKind::Hmac(h) => h.spec,
        }
    }

    /// The key usage.
    pub(crate) fn usage(&self) -> KeyUsage {
        match self {
            KeyKind::Symmetric => KeyUsage::EncryptDecrypt,
            KeyKind::Hmac(_) => KeyUsage::GenerateVerifyMac,
        }
    }

    /// DescribeKey's `EncryptionAlgorithms` (empty: absent).
    pub(crate) fn encryption_algorithms(&self) -> Vec<EncryptionAlgorithmSpec> {
        match self {
            KeyKind::Symmetric => vec![EncryptionAlgorithmSpec::SymmetricDefault],
            KeyKind::Hmac(_) => Vec::new(),
        }
    }

    /// DescribeKey's `MacAlgorithms` (empty: absent).
    pub(crate) fn mac_algorithms(&self) -> Vec<MacAlgorithmSpec> {
        self.spec().mac_algorithm().into_iter().collect()
    }

    /// The grant operations AWS allows on a key of this kind.
    pub(crate) fn grant_operations(&self) -> &'static [GrantOperation] {
        match self {
            KeyKind::Symmetric => GrantOperation::SYMMETRIC_ENCRYPTION,
            KeyKind::Hmac(_) => GrantOperation::HMAC,
        }
    }

    /// The HMAC secret, for an HMAC key.
    pub(crate) fn hmac(&self) -> Option<&HmacKey> {
        match self {
            KeyKind::Hmac(h) => Some(&h.key),
            KeyKind::Symmetric => None,
        }
    }

    /// Whether the cryptographic `op` suits this key's usage: the
    /// encryption operations need an `ENCRYPT_DECRYPT` key, GenerateMac and
    /// VerifyMac a `GENERATE_VERIFY_MAC` key. Otherwise
    /// `InvalidKeyUsageException`, naming the key `arn`, its usage and the
    /// operation. Operations that are not cryptographic suit every key.
    pub(crate) fn check_usage(&self, op: KeyOperation, arn: &str) -> Result<()> {
        use KeyOperation as O;
        let needs = match op {
            O::Encrypt
            | O::Decrypt
            | O::ReEncryptFrom
            | O::ReEncryptTo
            | O::GenerateDataKey
            | O::GenerateDataKeyWithoutPlaintext
            | O::GenerateDataKeyPair => KeyUsage::EncryptDecrypt,
            O::GenerateMac | O::VerifyMac => KeyUsage::GenerateVerifyMac,
            _ => return Ok(()),
        };
        let usage = self.usage();
        if usage == needs {
            return Ok(());
        }
        Err(Error::from(AwsMessage::KeyUsageNotValid {
            arn: arn.to_owned(),
            usage: usage.as_str().to_owned(),
            operation: op.api_name().to_owned(),
        }))
    }

    /// The durable record of the kind's secret (`None` for a symmetric key,
    /// whose material is in its versions).
    pub(crate) fn to_record(&self) -> Option<KeySecretRecord> {
        match self {
            KeyKind::Symmetric => None,
            KeyKind::Hmac(h) => Some(KeySecretRecord::Hmac {
                spec: h.spec.as_str().to_owned(),
                key: SecretVec::new(h.key.expose_secret()),
            }),
        }
    }

    /// The kind a durable record describes (`None`: a symmetric key).
    #[cfg_attr(
        not(any(feature = "durable", test)),
        allow(dead_code, reason = "records are read back by durable storage only")
    )]
    pub(crate) fn from_record(rec: Option<KeySecretRecord>) -> Result<KeyKind> {
        let Some(rec) = rec else {
            return Ok(KeyKind::Symmetric);
        };
        match rec {
            KeySecretRecord::Hmac { spec, key } => {
                let spec: KeySpec = spec.parse()?;
                let corrupt = || Error::internal("a stored HMAC key of the wrong size");
                let hash = hmac_hash(spec).ok_or_else(corrupt)?;
                let key = HmacKey::from_bytes(hash, key.0).ok_or_else(corrupt)?;
                Ok(KeyKind::Hmac(Box::new(HmacEntry { spec, key })))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn the_kind_is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<KeyKind>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn an_hmac_key_round_trips_through_its_record() {
        let rng = SecureRng::new(Some(8));
        for spec in [
            KeySpec::Hmac224,
            KeySpec::Hmac256,
            KeySpec::Hmac384,
            KeySpec::Hmac512,
        ] {
            let kind = KeyKind::new_hmac(spec, &rng).unwrap();
            let back = KeyKind::from_record(kind.to_record()).unwrap();
            assert_eq!(back.spec(), spec);
            let tag = kind.hmac().unwrap().mac(b"m");
            assert!(back.hmac().unwrap().verify(b"m", &tag));
        }
        assert!(matches!(
            KeyKind::from_record(None).unwrap(),
            KeyKind::Symmetric
        ));
        assert!(KeyKind::new_hmac(KeySpec::SymmetricDefault, &rng).is_none());
    }

    #[test]
    fn each_kind_allows_only_the_operations_of_its_usage() {
        let rng = SecureRng::new(Some(8));
        let hmac = KeyKind::new_hmac(KeySpec::Hmac256, &rng).unwrap();
        let sym = KeyKind::Symmetric;
        for op in [KeyOperation::GenerateMac, KeyOperation::VerifyMac] {
            assert!(hmac.check_usage(op, "arn").is_ok());
            let err = sym.check_usage(op, "arn").unwrap_err();
            assert_eq!(err.code(), "InvalidKeyUsageException");
            assert_eq!(
                err.message(),
                format!(
                    "arn key usage is ENCRYPT_DECRYPT which is not valid for {}.",
                    op.api_name()
                )
            );
        }
        for op in [
            KeyOperation::Encrypt,
            KeyOperation::Decrypt,
            KeyOperation::ReEncryptFrom,
            KeyOperation::ReEncryptTo,
            KeyOperation::GenerateDataKey,
            KeyOperation::GenerateDataKeyWithoutPlaintext,
            KeyOperation::GenerateDataKeyPair,
        ] {
            assert!(sym.check_usage(op, "arn").is_ok());
            let err = hmac.check_usage(op, "arn").unwrap_err();
            assert_eq!(err.code(), "InvalidKeyUsageException");
            assert!(err.message().contains("GENERATE_VERIFY_MAC"), "{err}");
        }
        assert!(hmac.check_usage(KeyOperation::DescribeKey, "arn").is_ok());
    }

    #[test]
    fn describe_key_lists_each_kinds_algorithms() {
        let rng = SecureRng::new(Some(8));
        let hmac = KeyKind::new_hmac(KeySpec::Hmac384, &rng).unwrap();
        assert_eq!(hmac.mac_algorithms(), [MacAlgorithmSpec::HmacSha384]);
        assert!(hmac.encryption_algorithms().is_empty());
        assert_eq!(hmac.usage(), KeyUsage::GenerateVerifyMac);
        assert!(KeyKind::Symmetric.mac_algorithms().is_empty());
        assert_eq!(
            KeyKind::Symmetric.encryption_algorithms(),
            [EncryptionAlgorithmSpec::SymmetricDefault]
        );
    }
}
