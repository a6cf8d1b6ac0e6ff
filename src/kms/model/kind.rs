//! What kind of KMS key an entry is: [`KeyKind`], the one place the key
//! specs this KMS makes are told apart — a symmetric encryption key (its
//! material in the entry's versions, or in its custom key store), an HMAC
//! key (its secret here) or, with the feature `asymmetric`, an RSA, ECC,
//! SM2 or ML-DSA key pair (its private key here) — with the key usages each spec allows,
//! the algorithms DescribeKey lists, and which cryptographic operations
//! each allows.

use crate::crypto::asymmetric::{Cipher, Hash, KeyPair, PairSpec, Scheme};
use crate::crypto::mac::{HmacHash, HmacKey};
use crate::crypto::rng::SecureRng;
use crate::crypto::{EncryptionContext, Plaintext};
use crate::error::kms_err;
use crate::error::{AwsMessage, Error, Result};
use crate::key::state::KeyOperation;
use crate::key::{
    EncryptionAlgorithmSpec, KeyAgreementAlgorithmSpec, KeySpec, KeyUsage, MacAlgorithmSpec,
    SigningAlgorithmSpec,
};
use crate::kms::shapes::grants::GrantOperation;
use crate::kms::support::errors::invalid_ciphertext;
use crate::storage::records::{KeySecretRecord, SecretVec};
use std::sync::Arc;
use zeroize::Zeroizing;

/// A key's kind, and the secret that belongs to it. One pointer wide:
/// every key pays for the field, most are symmetric (the per-key memory
/// budget, `tests/memory_per_key.rs`), so the kinds that hold a secret
/// share one box (two boxed variants would need a tag beside the pointer).
#[derive(Debug)]
pub(crate) enum KeyKind {
    /// `SYMMETRIC_DEFAULT`, `ENCRYPT_DECRYPT`.
    Symmetric,
    /// An HMAC or asymmetric key, with its secret.
    Owned(Box<OwnedKind>),
}

/// The kinds whose secret the entry holds.
#[derive(Debug)]
pub(crate) enum OwnedKind {
    /// `HMAC_224/256/384/512`, `GENERATE_VERIFY_MAC`.
    Hmac(HmacEntry),
    /// `RSA_*` and `SM2` (`ENCRYPT_DECRYPT` or `SIGN_VERIFY`), `ECC_NIST_*`
    /// (`SIGN_VERIFY` or `KEY_AGREEMENT`), `ECC_SECG_P256K1` and `ML_DSA_*`
    /// (`SIGN_VERIFY`).
    Asymmetric(AsymmetricEntry),
}

/// [`KeyKind`] seen through its box: the one view every method matches on.
enum View<'a> {
    Symmetric,
    Hmac(&'a HmacEntry),
    Asymmetric(&'a AsymmetricEntry),
}

/// An asymmetric key's spec, usage and, unless it is imported, key pair.
#[derive(Debug)]
pub(crate) struct AsymmetricEntry {
    /// The key spec (RSA, ECC or ML-DSA).
    spec: KeySpec,
    /// The usage chosen at CreateKey.
    usage: KeyUsage,
    /// The key pair; `None` for a key with imported material (origin
    /// `EXTERNAL`), whose pair is in its imported materials.
    pair: Option<Arc<PairMaterial>>,
}

impl AsymmetricEntry {
    /// The key pair KMS made for the key (`None`: imported).
    pub(crate) fn own_pair(&self) -> Option<&Arc<PairMaterial>> {
        self.pair.as_ref()
    }
}

/// An asymmetric key's material: its key pair (the private key zeroizes on
/// drop and never prints) and its public key as DER SubjectPublicKeyInfo
/// (GetPublicKey), made once.
pub(crate) struct PairMaterial {
    pair: KeyPair,
    public_key: Vec<u8>,
}

impl std::fmt::Debug for PairMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The pair prints its spec and a placeholder for its private key.
        f.debug_struct("PairMaterial")
            .field("pair", &self.pair)
            .finish_non_exhaustive()
    }
}

impl PairMaterial {
    /// The material of `pair` (`None` if its public key does not encode).
    fn new(pair: KeyPair) -> Option<PairMaterial> {
        let public_key = pair.public_key_der()?;
        Some(PairMaterial { pair, public_key })
    }

    /// The key pair.
    pub(crate) fn pair(&self) -> &KeyPair {
        &self.pair
    }

    /// The public key, DER SubjectPublicKeyInfo.
    pub(crate) fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// The private key as PKCS#8 DER, in this crate's one encoding of it
    /// (what an imported key's material id is derived from, and what the
    /// durable store keeps), zeroized on drop. `None` only if encoding fails.
    pub(crate) fn to_pkcs8(&self) -> Option<Zeroizing<Vec<u8>>> {
        self.pair.to_pkcs8()
    }
}

/// The usages AWS allows for a key spec, the first being the one a spec
/// with a single usage takes.
pub(crate) fn allowed_usages(spec: KeySpec) -> &'static [KeyUsage] {
    use KeySpec as K;
    match spec {
        K::SymmetricDefault => &[KeyUsage::EncryptDecrypt],
        K::Hmac224 | K::Hmac256 | K::Hmac384 | K::Hmac512 => &[KeyUsage::GenerateVerifyMac],
        K::Rsa2048 | K::Rsa3072 | K::Rsa4096 => &[KeyUsage::EncryptDecrypt, KeyUsage::SignVerify],
        K::EccNistP256 | K::EccNistP384 | K::EccNistP521 => {
            &[KeyUsage::SignVerify, KeyUsage::KeyAgreement]
        }
        K::EccSecgP256k1 => &[KeyUsage::SignVerify],
        K::Sm2 => &[
            KeyUsage::EncryptDecrypt,
            KeyUsage::SignVerify,
            KeyUsage::KeyAgreement,
        ],
        K::MlDsa44 | K::MlDsa65 | K::MlDsa87 | K::EccNistEdwards25519 => &[KeyUsage::SignVerify],
        K::MlKem512 | K::MlKem768 | K::MlKem1024 => &[KeyUsage::EncapsulateDecapsulate],
    }
}

/// Whether `spec` is one of the asymmetric specs this KMS makes with the
/// feature `asymmetric`: RSA, ECC (not Ed25519), ML-DSA and SM2 (in the
/// China Regions only: CreateKey checks the Region).
pub(crate) fn is_asymmetric_spec(spec: KeySpec) -> bool {
    pair_spec(spec).is_some()
}

/// The key pair kind of an RSA, ECC, SM2 or ML-DSA key spec (also of a data
/// key pair: GenerateDataKeyPair's `KeyPairSpec` has no ML-DSA specs).
pub(crate) fn pair_spec(spec: KeySpec) -> Option<PairSpec> {
    Some(match spec {
        KeySpec::Rsa2048 => PairSpec::Rsa2048,
        KeySpec::Rsa3072 => PairSpec::Rsa3072,
        KeySpec::Rsa4096 => PairSpec::Rsa4096,
        KeySpec::EccNistP256 => PairSpec::P256,
        KeySpec::EccNistP384 => PairSpec::P384,
        KeySpec::EccNistP521 => PairSpec::P521,
        KeySpec::EccSecgP256k1 => PairSpec::Secp256k1,
        KeySpec::Sm2 => PairSpec::Sm2,
        KeySpec::MlDsa44 => PairSpec::MlDsa44,
        KeySpec::MlDsa65 => PairSpec::MlDsa65,
        KeySpec::MlDsa87 => PairSpec::MlDsa87,
        _ => return None,
    })
}

/// The signing algorithms AWS allows for a key spec (with `SIGN_VERIFY`).
pub(crate) fn signing_algorithms(spec: KeySpec) -> &'static [SigningAlgorithmSpec] {
    use SigningAlgorithmSpec as S;
    match spec {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[
            S::RsassaPssSha256,
            S::RsassaPssSha384,
            S::RsassaPssSha512,
            S::RsassaPkcs1V15Sha256,
            S::RsassaPkcs1V15Sha384,
            S::RsassaPkcs1V15Sha512,
        ],
        KeySpec::EccNistP256 | KeySpec::EccSecgP256k1 => &[S::EcdsaSha256],
        KeySpec::EccNistP384 => &[S::EcdsaSha384],
        KeySpec::EccNistP521 => &[S::EcdsaSha512],
        KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => &[S::MlDsaShake256],
        KeySpec::Sm2 => &[S::Sm2Dsa],
        _ => &[],
    }
}

/// The encryption algorithms AWS allows for an asymmetric key spec (with
/// `ENCRYPT_DECRYPT`).
pub(crate) fn encryption_algorithms(spec: KeySpec) -> &'static [EncryptionAlgorithmSpec] {
    use EncryptionAlgorithmSpec as E;
    match spec {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
            &[E::RsaesOaepSha1, E::RsaesOaepSha256]
        }
        KeySpec::Sm2 => &[E::Sm2Pke],
        _ => &[],
    }
}

/// The signature scheme of a signing algorithm this KMS implements.
pub(crate) fn scheme(alg: SigningAlgorithmSpec) -> Option<Scheme> {
    use SigningAlgorithmSpec as S;
    Some(match alg {
        S::RsassaPssSha256 => Scheme::Pss(Hash::Sha256),
        S::RsassaPssSha384 => Scheme::Pss(Hash::Sha384),
        S::RsassaPssSha512 => Scheme::Pss(Hash::Sha512),
        S::RsassaPkcs1V15Sha256 => Scheme::Pkcs1v15(Hash::Sha256),
        S::RsassaPkcs1V15Sha384 => Scheme::Pkcs1v15(Hash::Sha384),
        S::RsassaPkcs1V15Sha512 => Scheme::Pkcs1v15(Hash::Sha512),
        S::EcdsaSha256 => Scheme::Ecdsa(Hash::Sha256),
        S::EcdsaSha384 => Scheme::Ecdsa(Hash::Sha384),
        S::EcdsaSha512 => Scheme::Ecdsa(Hash::Sha512),
        S::MlDsaShake256 => Scheme::MlDsa,
        // `raw` is chosen by the message type (`signing_input`).
        S::Sm2Dsa => Scheme::Sm2Dsa { raw: false },
        _ => return None,
    })
}

/// The cipher of an asymmetric encryption algorithm.
fn cipher(alg: EncryptionAlgorithmSpec) -> Option<Cipher> {
    match alg {
        EncryptionAlgorithmSpec::RsaesOaepSha1 => Some(Cipher::Oaep(Hash::Sha1)),
        EncryptionAlgorithmSpec::RsaesOaepSha256 => Some(Cipher::Oaep(Hash::Sha256)),
        EncryptionAlgorithmSpec::Sm2Pke => Some(Cipher::Sm2Pke),
        _ => None,
    }
}

/// `InvalidKeyUsageException`: `Algorithm <alg> is incompatible with key
/// spec <spec>.` (AWS's text for an algorithm the key cannot use).
pub(crate) fn incompatible_algorithm(alg: &str, spec: KeySpec) -> Error {
    kms_err!(
        InvalidKeyUsage,
        "Algorithm {alg} is incompatible with key spec {spec}."
    )
}

/// An HMAC key's spec and secret.
#[derive(Debug)]
pub(crate) struct HmacEntry {
    /// The key spec (one of the four HMAC specs).
    spec: KeySpec,
    /// The secret; `None` for a key with imported material (origin
    /// `EXTERNAL`), whose secret is in its imported materials.
    key: Option<HmacKey>,
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
    /// The kind through its box.
    fn view(&self) -> View<'_> {
        match self {
            KeyKind::Symmetric => View::Symmetric,
            KeyKind::Owned(o) => match &**o {
                OwnedKind::Hmac(h) => View::Hmac(h),
                OwnedKind::Asymmetric(a) => View::Asymmetric(a),
            },
        }
    }

    /// A new HMAC key of `spec` (`None` if `spec` is not an HMAC spec).
    pub(crate) fn new_hmac(spec: KeySpec, rng: &SecureRng) -> Option<KeyKind> {
        let hash = hmac_hash(spec)?;
        Some(KeyKind::Owned(Box::new(OwnedKind::Hmac(HmacEntry {
            spec,
            key: Some(HmacKey::generate(hash, rng)),
        }))))
    }

    /// An HMAC key of `spec` whose secret will be imported (`None` if
    /// `spec` is not an HMAC spec).
    pub(crate) fn imported_hmac(spec: KeySpec) -> Option<KeyKind> {
        hmac_hash(spec)?;
        Some(KeyKind::Owned(Box::new(OwnedKind::Hmac(HmacEntry {
            spec,
            key: None,
        }))))
    }

    #[cfg_attr(
        not(any(feature = "asymmetric", feature = "durable")),
        allow(dead_code, reason = "imports need the feature `asymmetric`")
    )]
    /// Imported HMAC key material for a key of `spec`: its bytes, of the
    /// length AWS allows for the spec (`None` otherwise, or if `spec` is
    /// not an HMAC spec).
    pub(crate) fn imported_hmac_key(spec: KeySpec, bytes: &[u8]) -> Option<HmacKey> {
        let allowed = match spec {
            KeySpec::Hmac224 => 28..=64,
            KeySpec::Hmac256 => 32..=64,
            KeySpec::Hmac384 => 48..=128,
            KeySpec::Hmac512 => 64..=128,
            _ => return None,
        };
        if !allowed.contains(&bytes.len()) {
            return None;
        }
        Some(HmacKey::imported(
            hmac_hash(spec)?,
            zeroize::Zeroizing::new(bytes.to_vec()),
        ))
    }

    /// A new RSA, ECC or ML-DSA key pair of `spec` for `usage` (`None` if
    /// `spec` is not one of those, or key generation failed).
    pub(crate) fn new_asymmetric(
        spec: KeySpec,
        usage: KeyUsage,
        rng: &SecureRng,
    ) -> Option<KeyKind> {
        let pair = KeyPair::generate(pair_spec(spec)?, rng)?;
        KeyKind::from_pair(spec, usage, Some(PairMaterial::new(pair)?))
    }

    /// An RSA or ECC key of `spec` and `usage` whose key pair will be
    /// imported (`None` if `spec` is not an asymmetric spec).
    pub(crate) fn imported_asymmetric(spec: KeySpec, usage: KeyUsage) -> Option<KeyKind> {
        pair_spec(spec)?;
        KeyKind::from_pair(spec, usage, None)
    }

    #[cfg_attr(
        not(any(feature = "asymmetric", feature = "durable")),
        allow(dead_code, reason = "imports need the feature `asymmetric`")
    )]
    /// Imported key material for an asymmetric key of `spec`: a private key
    /// in PKCS#8 (`PrivateKeyInfo`, DER) of the spec's algorithm and size or
    /// curve (an RSA key of exactly the modulus size, two primes; an EC key
    /// on the named curve), its public key derived from it. `None` for
    /// anything else.
    pub(crate) fn imported_pair(spec: KeySpec, der: &[u8]) -> Option<PairMaterial> {
        PairMaterial::new(KeyPair::from_pkcs8(pair_spec(spec)?, der)?)
    }

    /// The kind of an asymmetric key of `spec` and `usage` holding `pair`
    /// (`None`: imported later).
    fn from_pair(spec: KeySpec, usage: KeyUsage, pair: Option<PairMaterial>) -> Option<KeyKind> {
        Some(KeyKind::Owned(Box::new(OwnedKind::Asymmetric(
            AsymmetricEntry {
                spec,
                usage,
                pair: pair.map(Arc::new),
            },
        ))))
    }

    /// The asymmetric key's entry, for an RSA, ECC or ML-DSA key.
    pub(crate) fn asymmetric(&self) -> Option<&AsymmetricEntry> {
        match self.view() {
            View::Asymmetric(a) => Some(a),
            _ => None,
        }
    }

    /// Whether this is an RSA, ECC or ML-DSA key.
    pub(crate) fn is_asymmetric(&self) -> bool {
        is_asymmetric_spec(self.spec())
    }

    /// The encryption algorithm Encrypt, Decrypt or ReEncrypt uses on this
    /// key (`alg`, `SYMMETRIC_DEFAULT` when absent), once it suits the key
    /// and `ctx`: a symmetric key takes `SYMMETRIC_DEFAULT`; an RSA
    /// `ENCRYPT_DECRYPT` key takes `RSAES_OAEP_SHA_1` or
    /// `RSAES_OAEP_SHA_256`, an SM2 one `SM2PKE` (`InvalidKeyUsageException` otherwise, AWS's
    /// `Algorithm <alg> is incompatible with key spec <spec>.`) and no
    /// encryption context (`ValidationException`). Keys of other usages
    /// are refused by their usage first ([`KeyKind::check_usage`]).
    pub(crate) fn encryption_algorithm(
        &self,
        alg: Option<EncryptionAlgorithmSpec>,
        ctx: &EncryptionContext,
    ) -> Result<EncryptionAlgorithmSpec> {
        let alg = alg.unwrap_or(EncryptionAlgorithmSpec::SymmetricDefault);
        if !self.is_asymmetric() {
            if alg != EncryptionAlgorithmSpec::SymmetricDefault {
                return Err(kms_err!(
                    InvalidKeyUsage,
                    "Encryption algorithm {alg} is not valid for a symmetric encryption key; use SYMMETRIC_DEFAULT."
                ));
            }
            return Ok(alg);
        }
        if !encryption_algorithms(self.spec()).contains(&alg) {
            return Err(incompatible_algorithm(alg.as_str(), self.spec()));
        }
        if !ctx.is_empty() {
            return Err(kms_err!(
                Validation,
                "EncryptionContext is not supported with asymmetric KMS keys: {} is a {} key.",
                self.spec(),
                self.usage()
            )
            .with_hint("Omit EncryptionContext for asymmetric encryption."));
        }
        Ok(alg)
    }

    /// RSAES-OAEP or SM2PKE encryption of `plaintext` under an RSA or SM2
    /// `ENCRYPT_DECRYPT` key's `pair`
    /// ([`KeyEntry::key_pair`](super::key::KeyEntry::key_pair)) with `alg`
    /// (checked by [`KeyKind::encryption_algorithm`]): the raw OAEP
    /// ciphertext or SM2PKE's GM/T 0009 DER (C1C3C2), as AWS returns them.
    /// A plaintext over the limit (RSA_2048: 214 bytes with SHA-1, 190 with
    /// SHA-256; SM2PKE: 1024 bytes) is `ValidationException`.
    pub(crate) fn pair_encrypt(
        &self,
        pair: &KeyPair,
        alg: EncryptionAlgorithmSpec,
        plaintext: &[u8],
        rng: &SecureRng,
    ) -> Result<Vec<u8>> {
        let cipher = self.cipher(alg)?;
        let max = pair.max_plaintext(cipher);
        if plaintext.len() > max {
            return Err(kms_err!(
                Validation,
                "Plaintext is too long for {alg} with key spec {}: at most {max} bytes.",
                self.spec()
            ));
        }
        pair.encrypt(cipher, plaintext, rng)
            .ok_or_else(|| Error::internal("asymmetric encryption failed"))
    }

    /// RSAES-OAEP or SM2PKE decryption under an RSA or SM2
    /// `ENCRYPT_DECRYPT` key's `pair`; anything that does not decrypt is
    /// `InvalidCiphertextException`.
    pub(crate) fn pair_decrypt(
        &self,
        pair: &KeyPair,
        alg: EncryptionAlgorithmSpec,
        ciphertext: &[u8],
        rng: &SecureRng,
    ) -> Result<Plaintext> {
        let cipher = self.cipher(alg)?;
        let plaintext = pair
            .decrypt(cipher, ciphertext, rng)
            .ok_or_else(invalid_ciphertext)?;
        Ok(Plaintext::from(plaintext.to_vec()))
    }

    /// The cipher of an asymmetric key's encryption algorithm.
    fn cipher(&self, alg: EncryptionAlgorithmSpec) -> Result<Cipher> {
        match (self.asymmetric(), cipher(alg)) {
            (Some(_), Some(cipher)) if encryption_algorithms(self.spec()).contains(&alg) => {
                Ok(cipher)
            }
            _ => Err(incompatible_algorithm(alg.as_str(), self.spec())),
        }
    }

    /// The key spec.
    pub(crate) fn spec(&self) -> KeySpec {
        match self.view() {
            View::Symmetric => KeySpec::SymmetricDefault,
            View::Hmac(h) => h.spec,
            View::Asymmetric(a) => a.spec,
        }
    }

    /// The key usage.
    pub(crate) fn usage(&self) -> KeyUsage {
        match self.view() {
            View::Symmetric => KeyUsage::EncryptDecrypt,
            View::Hmac(_) => KeyUsage::GenerateVerifyMac,
            View::Asymmetric(a) => a.usage,
        }
    }

    /// DescribeKey's `EncryptionAlgorithms` (empty: absent).
    pub(crate) fn encryption_algorithms(&self) -> Vec<EncryptionAlgorithmSpec> {
        match self.view() {
            View::Symmetric => vec![EncryptionAlgorithmSpec::SymmetricDefault],
            View::Hmac(_) => Vec::new(),
            View::Asymmetric(a) if a.usage == KeyUsage::EncryptDecrypt => {
                encryption_algorithms(a.spec).to_vec()
            }
            View::Asymmetric(_) => Vec::new(),
        }
    }

    /// DescribeKey's `SigningAlgorithms` (empty: absent).
    pub(crate) fn signing_algorithms(&self) -> Vec<SigningAlgorithmSpec> {
        if self.usage() != KeyUsage::SignVerify {
            return Vec::new();
        }
        signing_algorithms(self.spec()).to_vec()
    }

    /// DescribeKey's `KeyAgreementAlgorithms` (empty: absent).
    pub(crate) fn key_agreement_algorithms(&self) -> Vec<KeyAgreementAlgorithmSpec> {
        if self.usage() != KeyUsage::KeyAgreement {
            return Vec::new();
        }
        vec![KeyAgreementAlgorithmSpec::Ecdh]
    }

    /// DescribeKey's `MacAlgorithms` (empty: absent).
    pub(crate) fn mac_algorithms(&self) -> Vec<MacAlgorithmSpec> {
        self.spec().mac_algorithm().into_iter().collect()
    }

    /// The grant operations AWS allows on a key of this kind.
    pub(crate) fn grant_operations(&self) -> &'static [GrantOperation] {
        match self.view() {
            View::Symmetric => GrantOperation::SYMMETRIC_ENCRYPTION,
            View::Hmac(_) => GrantOperation::HMAC,
            View::Asymmetric(a) => match a.usage {
                KeyUsage::EncryptDecrypt => GrantOperation::ASYMMETRIC_ENCRYPTION,
                KeyUsage::KeyAgreement => GrantOperation::KEY_AGREEMENT,
                _ => GrantOperation::SIGN_VERIFY,
            },
        }
    }

    /// The HMAC secret, for an HMAC key.
    pub(crate) fn hmac(&self) -> Option<&HmacKey> {
        match self.view() {
            View::Hmac(h) => h.key.as_ref(),
            _ => None,
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
            O::Encrypt | O::Decrypt | O::ReEncryptFrom | O::ReEncryptTo => KeyUsage::EncryptDecrypt,
            O::GenerateDataKey | O::GenerateDataKeyWithoutPlaintext | O::GenerateDataKeyPair => {
                // Data keys are sealed with SYMMETRIC_DEFAULT: an RSA
                // ENCRYPT_DECRYPT key cannot make them.
                if self.usage() == KeyUsage::EncryptDecrypt && self.is_asymmetric() {
                    return Err(incompatible_algorithm(
                        EncryptionAlgorithmSpec::SymmetricDefault.as_str(),
                        self.spec(),
                    ));
                }
                KeyUsage::EncryptDecrypt
            }
            O::GenerateMac | O::VerifyMac => KeyUsage::GenerateVerifyMac,
            O::Sign | O::Verify => KeyUsage::SignVerify,
            O::DeriveSharedSecret => KeyUsage::KeyAgreement,
            O::GetPublicKey => {
                if self.is_asymmetric() {
                    return Ok(());
                }
                return Err(kms_err!(
                    UnsupportedOperation,
                    "{arn} key spec is {} which is not valid for GetPublicKey.",
                    self.spec()
                ));
            }
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
        match self.view() {
            View::Symmetric => None,
            View::Hmac(h) => Some(match &h.key {
                Some(key) => KeySecretRecord::Hmac {
                    spec: h.spec.as_str().to_owned(),
                    key: SecretVec::new(key.expose_secret()),
                },
                None => KeySecretRecord::ImportedHmac {
                    spec: h.spec.as_str().to_owned(),
                },
            }),
            View::Asymmetric(a) => Some(match &a.pair {
                Some(pair) => KeySecretRecord::Asymmetric {
                    spec: a.spec.as_str().to_owned(),
                    usage: a.usage.as_str().to_owned(),
                    // Encoding a key this crate holds does not fail; an empty
                    // record would not read back, and says so there.
                    private_key: SecretVec(pair.to_pkcs8().unwrap_or_default()),
                },
                None => KeySecretRecord::ImportedAsymmetric {
                    spec: a.spec.as_str().to_owned(),
                    usage: a.usage.as_str().to_owned(),
                },
            }),
        }
    }

    /// The same kind with the same secret, for a multi-Region replica
    /// (through the record, the one place a secret is copied out and read
    /// back).
    pub(crate) fn replica(&self) -> Result<KeyKind> {
        KeyKind::from_record(self.to_record())
    }

    /// The kind a durable record describes (`None`: a symmetric key).
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
                Ok(KeyKind::Owned(Box::new(OwnedKind::Hmac(HmacEntry {
                    spec,
                    key: Some(key),
                }))))
            }
            KeySecretRecord::ImportedHmac { spec } => KeyKind::imported_hmac(spec.parse()?)
                .ok_or_else(|| Error::internal("a stored imported HMAC key of another spec")),
            KeySecretRecord::Asymmetric {
                spec,
                usage,
                private_key,
            } => Self::asymmetric_from_record(&spec, &usage, Some(&private_key)),
            KeySecretRecord::ImportedAsymmetric { spec, usage } => {
                Self::asymmetric_from_record(&spec, &usage, None)
            }
        }
    }

    /// An asymmetric key read back from its record (`der`: its private key;
    /// `None` for a key with imported material).
    fn asymmetric_from_record(spec: &str, usage: &str, der: Option<&SecretVec>) -> Result<KeyKind> {
        let spec: KeySpec = spec.parse()?;
        let usage: KeyUsage = usage.parse()?;
        if !cfg!(feature = "asymmetric") {
            return Err(kms_err!(
                UnsupportedOperation,
                "The stored state holds a {spec} key; this build of kms-keystore lacks the feature `asymmetric` that keys of that spec need."
            ));
        }
        let corrupt = || Error::internal("a stored asymmetric key that does not read back");
        let kind = pair_spec(spec).ok_or_else(corrupt)?;
        let pair = match der {
            Some(der) => Some(
                KeyPair::from_pkcs8(kind, &der.0)
                    .and_then(PairMaterial::new)
                    .ok_or_else(corrupt)?,
            ),
            None => None,
        };
        KeyKind::from_pair(spec, usage, pair).ok_or_else(corrupt)
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
