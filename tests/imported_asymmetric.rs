//! Asymmetric keys with imported key material (Origin EXTERNAL, feature
//! `asymmetric`): RSA and ECC keys created pending import, the wrapping
//! algorithms AWS allows for their private keys, ImportKeyMaterial of a
//! PKCS#8 private key generated here with RustCrypto's crates (the public
//! key derived from it), every asymmetric operation on the imported pair,
//! re-import of only the same key, deletion and expiry back to
//! PendingImport, the key-state table and grants on these keys, and (with
//! the feature `durable`) the imported pair sealed at rest across a reopen.
#![cfg(feature = "asymmetric")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[cfg(feature = "durable")]
mod durable;
mod import_support;

use std::time::Duration;

use common::{code, kms};
use import_support::{TestRng, import_req, wrap};
use kms_keystore::{
    AlgorithmSpec, Clock, CreateGrantRequest, CreateKeyRequest, DecryptRequest,
    DeleteImportedKeyMaterialRequest, DeriveSharedSecretRequest, EncryptRequest,
    EncryptionAlgorithmSpec, ExpirationModelType, GetParametersForImportRequest,
    GetPublicKeyRequest, GrantOperation, ImportKeyMaterialRequest, ImportType,
    KeyAgreementAlgorithmSpec, KeySpec, KeyState, KeyUsage, Kms, MessageType, MultiRegionKeyType,
    OriginType, ReplicateKeyRequest, SignRequest, SigningAlgorithmSpec, VerifyRequest,
    WrappingKeySpec,
};
use p256::elliptic_curve::Generate as _;
use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
use rsa::signature::Verifier as _;

const HOUR: Duration = Duration::from_secs(3600);

/// A private key made outside KMS: its PKCS#8 DER and its public key's
/// SubjectPublicKeyInfo DER.
struct Outside {
    pkcs8: Vec<u8>,
    spki: Vec<u8>,
}

fn rsa_key(bits: usize, seed: u64) -> (rsa::PrivateKey, Outside) {
    let key = rsa::PrivateKey::new(&mut TestRng(seed), bits).unwrap();
    let out = Outside {
        pkcs8: key.to_pkcs8_der().unwrap().as_bytes().to_vec(),
        spki: key
            .to_public_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes()
            .to_vec(),
    };
    (key, out)
}

macro_rules! ec_key {
    ($name:ident, $curve:ident) => {
        fn $name(seed: u64) -> ($curve::SecretKey, Outside) {
            let key = $curve::SecretKey::generate_from_rng(&mut TestRng(seed));
            let out = Outside {
                pkcs8: key.to_pkcs8_der().unwrap().as_bytes().to_vec(),
                spki: key
                    .public_key()
                    .to_public_key_der()
                    .unwrap()
                    .as_bytes()
                    .to_vec(),
            };
            (key, out)
        }
    };
}
ec_key!(p256_key, p256);
ec_key!(p384_key, p384);
ec_key!(p521_key, p521);
ec_key!(k256_key, k256);

fn external(kms: &Kms, spec: KeySpec, usage: KeyUsage) -> String {
    create_external(kms, spec, usage, false)
}

/// A key with Origin EXTERNAL of `spec` and `usage` (a multi-Region
/// primary key if `multi_region`); its key id.
fn create_external(kms: &Kms, spec: KeySpec, usage: KeyUsage, multi_region: bool) -> String {
    kms.create_key(CreateKeyRequest {
        origin: Some(OriginType::External),
        key_spec: Some(spec),
        key_usage: Some(usage),
        multi_region: Some(multi_region),
        ..Default::default()
    })
    .unwrap()
    .key_metadata
    .key_id
    .to_string()
}

fn try_params(
    kms: &Kms,
    key: &str,
    alg: AlgorithmSpec,
    spec: WrappingKeySpec,
) -> kms_keystore::Result<kms_keystore::GetParametersForImportResponse> {
    kms.get_parameters_for_import(GetParametersForImportRequest {
        key_id: key.into(),
        wrapping_algorithm: Some(alg),
        wrapping_key_spec: Some(spec),
    })
}

/// The ImportKeyMaterial request of `pkcs8` wrapped with `alg` under a
/// fresh RSA_4096 wrapping key (not expiring).
fn request_with(
    kms: &Kms,
    key: &str,
    alg: AlgorithmSpec,
    pkcs8: &[u8],
) -> ImportKeyMaterialRequest {
    let p = try_params(kms, key, alg, WrappingKeySpec::Rsa4096).unwrap();
    import_req(key, &p, wrap(&p.public_key, alg, pkcs8))
}

/// GetParametersForImport (RSA_AES_KEY_WRAP_SHA_256), wrap, import.
fn import(kms: &Kms, key: &str, pkcs8: &[u8]) -> kms_keystore::Result<String> {
    kms.import_key_material(request_with(
        kms,
        key,
        AlgorithmSpec::RsaAesKeyWrapSha256,
        pkcs8,
    ))
    .map(|r| r.key_material_id)
}

fn state(kms: &Kms, key: &str) -> KeyState {
    kms.describe_key(key).unwrap().key_metadata.key_state
}

fn public_key(kms: &Kms, key: &str) -> kms_keystore::Result<Vec<u8>> {
    kms.get_public_key(GetPublicKeyRequest {
        key_id: key.into(),
        ..Default::default()
    })
    .map(|r| r.public_key)
}

fn sign(
    kms: &Kms,
    key: &str,
    alg: SigningAlgorithmSpec,
    message: &[u8],
) -> kms_keystore::Result<Vec<u8>> {
    kms.sign(SignRequest {
        key_id: key.into(),
        message: message.to_vec().into(),
        message_type: Some(MessageType::Raw),
        signing_algorithm: Some(alg),
        ..Default::default()
    })
    .map(|r| r.signature)
}

fn verify(
    kms: &Kms,
    key: &str,
    alg: SigningAlgorithmSpec,
    message: &[u8],
    signature: &[u8],
) -> kms_keystore::Result<bool> {
    kms.verify(VerifyRequest {
        key_id: key.into(),
        message: message.to_vec().into(),
        message_type: Some(MessageType::Raw),
        signature: signature.to_vec(),
        signing_algorithm: Some(alg),
        ..Default::default()
    })
    .map(|r| r.signature_valid)
}

/// Verifies an ECDSA (DER) signature of `message` with the outside key's
/// public key, with the curve's own hash.
macro_rules! ec_verifies {
    ($curve:ident, $key:expr, $message:expr, $sig:expr) => {{
        let sig = $curve::ecdsa::DerSignature::from_bytes($sig).unwrap();
        let sig = $curve::ecdsa::Signature::try_from(sig).unwrap();
        $curve::ecdsa::VerifyingKey::from($key.public_key())
            .verify($message, &sig)
            .is_ok()
    }};
}

fn rsa_verifies(key: &rsa::PrivateKey, message: &[u8], sig: &[u8]) -> bool {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(message);
    key.to_public_key()
        .verify(
            rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            digest.as_slice(),
            sig,
        )
        .is_ok()
}

/// Each RSA and ECC key spec, with a usage AWS allows for it (each usage
/// of each family at least once).
const SPECS_AND_USAGES: [(KeySpec, KeyUsage); 7] = [
    (KeySpec::Rsa2048, KeyUsage::EncryptDecrypt),
    (KeySpec::Rsa3072, KeyUsage::SignVerify),
    (KeySpec::Rsa4096, KeyUsage::SignVerify),
    (KeySpec::EccNistP256, KeyUsage::SignVerify),
    (KeySpec::EccNistP384, KeyUsage::KeyAgreement),
    (KeySpec::EccNistP521, KeyUsage::SignVerify),
    (KeySpec::EccSecgP256k1, KeyUsage::SignVerify),
];

#[test]
fn rsa_and_ecc_keys_with_every_allowed_usage_start_pending_import_and_refuse_every_use() {
    let (kms, _) = kms();
    for (spec, usage) in SPECS_AND_USAGES {
        let key = external(&kms, spec, usage);
        let md = kms.describe_key(&key).unwrap().key_metadata;
        assert_eq!(md.key_state, KeyState::PendingImport, "{spec}");
        assert_eq!((md.key_spec, md.key_usage), (spec, usage));
        assert_eq!(md.origin, OriginType::External);
        assert!(!md.enabled);
        let pending = format!("{} is pending import.", md.arn);
        let err = public_key(&kms, &key).unwrap_err();
        assert_eq!(
            (err.code(), err.message()),
            ("KMSInvalidStateException", &*pending),
            "{spec}"
        );
        match usage {
            KeyUsage::SignVerify => {
                let alg = md.signing_algorithms[0];
                assert_eq!(
                    code(sign(&kms, &key, alg, b"m")),
                    "KMSInvalidStateException"
                );
                assert_eq!(
                    code(verify(&kms, &key, alg, b"m", b"sig")),
                    "KMSInvalidStateException"
                );
            }
            KeyUsage::EncryptDecrypt => {
                let enc = kms.encrypt(EncryptRequest {
                    key_id: key.clone(),
                    plaintext: b"m".to_vec().into(),
                    encryption_algorithm: Some(EncryptionAlgorithmSpec::RsaesOaepSha256),
                    ..Default::default()
                });
                assert_eq!(code(enc), "KMSInvalidStateException");
                let dec = kms.decrypt(DecryptRequest {
                    key_id: Some(key.clone()),
                    ciphertext_blob: vec![1; 256],
                    encryption_algorithm: Some(EncryptionAlgorithmSpec::RsaesOaepSha256),
                    ..Default::default()
                });
                assert_eq!(code(dec), "KMSInvalidStateException");
            }
            _ => {
                let (_, peer) = p384_key(1);
                let r = kms.derive_shared_secret(DeriveSharedSecretRequest {
                    key_id: key.clone(),
                    key_agreement_algorithm: Some(KeyAgreementAlgorithmSpec::Ecdh),
                    public_key: peer.spki,
                    ..Default::default()
                });
                assert_eq!(code(r), "KMSInvalidStateException");
            }
        }
        // Not before import, and not a grant (the key-state table).
        let grant = kms.create_grant(CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: "arn:aws:iam::111122223333:role/app".into(),
            operations: vec![GrantOperation::GetPublicKey],
            ..Default::default()
        });
        assert_eq!(code(grant), "KMSInvalidStateException");
    }
}

#[test]
fn ml_dsa_keys_refuse_origin_external() {
    let (kms, _) = kms();
    for spec in [KeySpec::MlDsa44, KeySpec::MlDsa65, KeySpec::MlDsa87] {
        let err = kms
            .create_key(CreateKeyRequest {
                origin: Some(OriginType::External),
                key_spec: Some(spec),
                key_usage: Some(KeyUsage::SignVerify),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err.code(), "UnsupportedOperationException", "{spec}");
        assert!(err.message().contains("ML-DSA"), "{err}");
    }
}

#[test]
fn an_rsa_private_key_is_wrapped_only_with_an_rsa_aes_key_wrap_algorithm() {
    let (kms, _) = kms();
    let key = external(&kms, KeySpec::Rsa2048, KeyUsage::SignVerify);
    for alg in [AlgorithmSpec::RsaesOaepSha1, AlgorithmSpec::RsaesOaepSha256] {
        let err = try_params(&kms, &key, alg, WrappingKeySpec::Rsa4096).unwrap_err();
        assert_eq!(err.code(), "UnsupportedOperationException", "{alg}");
        assert!(err.message().contains("RSA_AES_KEY_WRAP_SHA_256"), "{err}");
    }
    let (outside_key, outside) = rsa_key(2048, 3);
    for alg in [
        AlgorithmSpec::RsaAesKeyWrapSha1,
        AlgorithmSpec::RsaAesKeyWrapSha256,
    ] {
        let req = request_with(&kms, &key, alg, &outside.pkcs8);
        kms.import_key_material(req).unwrap();
    }
    let sig = sign(
        &kms,
        &key,
        SigningAlgorithmSpec::RsassaPkcs1V15Sha256,
        b"hi",
    )
    .unwrap();
    assert!(rsa_verifies(&outside_key, b"hi", &sig));
}

#[test]
fn ecc_nist_p521_material_is_not_wrapped_with_rsaes_oaep_under_an_rsa_2048_wrapping_key() {
    let (kms, _) = kms();
    let key = external(&kms, KeySpec::EccNistP521, KeyUsage::SignVerify);
    for alg in [AlgorithmSpec::RsaesOaepSha1, AlgorithmSpec::RsaesOaepSha256] {
        let err = try_params(&kms, &key, alg, WrappingKeySpec::Rsa2048).unwrap_err();
        assert_eq!(err.code(), "UnsupportedOperationException", "{alg}");
        assert!(err.message().contains("ECC_NIST_P521"), "{err}");
    }
    // A longer wrapping key, or RSA_AES_KEY_WRAP under RSA_2048, does.
    let (outside_key, outside) = p521_key(4);
    let p = try_params(
        &kms,
        &key,
        AlgorithmSpec::RsaesOaepSha256,
        WrappingKeySpec::Rsa3072,
    )
    .unwrap();
    let wrapped = wrap(
        &p.public_key,
        AlgorithmSpec::RsaesOaepSha256,
        &outside.pkcs8,
    );
    kms.import_key_material(import_req(&key, &p, wrapped))
        .unwrap();
    let p = try_params(
        &kms,
        &key,
        AlgorithmSpec::RsaAesKeyWrapSha1,
        WrappingKeySpec::Rsa2048,
    )
    .unwrap();
    let wrapped = wrap(
        &p.public_key,
        AlgorithmSpec::RsaAesKeyWrapSha1,
        &outside.pkcs8,
    );
    kms.import_key_material(import_req(&key, &p, wrapped))
        .unwrap();
    let sig = sign(&kms, &key, SigningAlgorithmSpec::EcdsaSha512, b"p521").unwrap();
    assert!(ec_verifies!(p521, outside_key, b"p521", &sig));
    // Other ECC material goes with RSAES_OAEP under RSA_2048.
    let key = external(&kms, KeySpec::EccNistP384, KeyUsage::SignVerify);
    try_params(
        &kms,
        &key,
        AlgorithmSpec::RsaesOaepSha1,
        WrappingKeySpec::Rsa2048,
    )
    .unwrap();
}

#[test]
fn each_spec_imports_its_private_key_derives_its_public_key_and_signs_with_it() {
    let (kms, _) = kms();
    let msg = b"signed by an imported key";
    type Check = Box<dyn Fn(&[u8]) -> bool>;
    let (rsa_k, rsa_o) = rsa_key(3072, 5);
    let (p256_k, p256_o) = p256_key(6);
    let (p384_k, p384_o) = p384_key(7);
    let (p521_k, p521_o) = p521_key(8);
    let (k256_k, k256_o) = k256_key(9);
    let cases: Vec<(KeySpec, SigningAlgorithmSpec, Outside, Check)> = vec![
        (
            KeySpec::Rsa3072,
            SigningAlgorithmSpec::RsassaPkcs1V15Sha256,
            rsa_o,
            Box::new(move |s| rsa_verifies(&rsa_k, msg, s)),
        ),
        (
            KeySpec::EccNistP256,
            SigningAlgorithmSpec::EcdsaSha256,
            p256_o,
            Box::new(move |s| ec_verifies!(p256, p256_k, msg, s)),
        ),
        (
            KeySpec::EccNistP384,
            SigningAlgorithmSpec::EcdsaSha384,
            p384_o,
            Box::new(move |s| ec_verifies!(p384, p384_k, msg, s)),
        ),
        (
            KeySpec::EccNistP521,
            SigningAlgorithmSpec::EcdsaSha512,
            p521_o,
            Box::new(move |s| ec_verifies!(p521, p521_k, msg, s)),
        ),
        (
            KeySpec::EccSecgP256k1,
            SigningAlgorithmSpec::EcdsaSha256,
            k256_o,
            Box::new(move |s| ec_verifies!(k256, k256_k, msg, s)),
        ),
    ];
    for (spec, alg, outside, check) in cases {
        let key = external(&kms, spec, KeyUsage::SignVerify);
        let id = import(&kms, &key, &outside.pkcs8).unwrap();
        assert_eq!(id.len(), 64, "{spec}");
        let md = kms.describe_key(&key).unwrap().key_metadata;
        assert_eq!(md.key_state, KeyState::Enabled, "{spec}");
        assert_eq!(
            md.expiration_model,
            Some(ExpirationModelType::KeyMaterialDoesNotExpire)
        );
        assert_eq!(public_key(&kms, &key).unwrap(), outside.spki, "{spec}");
        let sig = sign(&kms, &key, alg, msg).unwrap();
        assert!(check(&sig), "{spec}: the outside public key verifies");
        assert!(verify(&kms, &key, alg, msg, &sig).unwrap());
        assert_eq!(
            code(verify(&kms, &key, alg, b"another message", &sig)),
            "KMSInvalidSignatureException"
        );
    }
}

#[test]
fn material_that_is_not_a_private_key_of_the_key_spec_is_incorrect_key_material() {
    let (kms, _) = kms();
    let (_, p256_o) = p256_key(10);
    let (_, p384_o) = p384_key(11);
    let (_, k256_o) = k256_key(12);
    let (_, rsa_o) = rsa_key(2048, 13);
    let (_, rsa3072_o) = rsa_key(3072, 14);
    let sec1 = {
        use p256::pkcs8::DecodePrivateKey as _;
        p256::SecretKey::from_pkcs8_der(&p256_o.pkcs8)
            .unwrap()
            .to_sec1_der()
            .unwrap()
            .to_vec()
    };
    // Version 1 (multi-prime) in the PKCS#1 key inside the PKCS#8.
    let multi_prime = {
        let mut der = rsa_o.pkcs8.clone();
        // PrivateKeyInfo: version, rsaEncryption with NULL parameters,
        // then the OCTET STRING holding RSAPrivateKey, whose version is at 30.
        assert_eq!(&der[22..24], &[0x04, 0x82], "the PKCS#1 key at 26");
        assert_eq!(&der[30..33], &[0x02, 0x01, 0x00]);
        der[32] = 1;
        der
    };
    // Another key's public point in the ECPrivateKey's publicKey.
    let mismatched = {
        let (_, other) = p256_key(15);
        let mut der = p256_o.pkcs8.clone();
        let n = der.len();
        der[n - 64..].copy_from_slice(&other.pkcs8[other.pkcs8.len() - 64..]);
        der
    };
    let cases: [(KeySpec, &[u8], &str); 10] = [
        (KeySpec::Rsa2048, &multi_prime, "a multi-prime key"),
        (
            KeySpec::EccNistP256,
            &mismatched,
            "a key pair that is not one",
        ),
        (KeySpec::EccNistP384, &p256_o.pkcs8, "a P-256 key"),
        (KeySpec::EccNistP256, &k256_o.pkcs8, "a secp256k1 key"),
        (KeySpec::EccSecgP256k1, &p256_o.pkcs8, "a P-256 key"),
        (KeySpec::EccNistP256, &rsa_o.pkcs8, "an RSA key"),
        (KeySpec::Rsa2048, &rsa3072_o.pkcs8, "a 3072-bit key"),
        (KeySpec::Rsa2048, &p384_o.pkcs8, "an EC key"),
        (KeySpec::EccNistP256, &p256_o.spki, "the public key"),
        (KeySpec::EccNistP256, &sec1, "SEC1, not PKCS#8"),
    ];
    for (spec, material, what) in cases {
        let key = external(&kms, spec, KeyUsage::SignVerify);
        let arn = kms.describe_key(&key).unwrap().key_metadata.arn;
        let err = import(&kms, &key, material).unwrap_err();
        assert_eq!(
            err.code(),
            "IncorrectKeyMaterialException",
            "{spec}: {what}"
        );
        assert_eq!(
            err.message(),
            format!("The key material is not a {spec} private key for {arn}.")
        );
        assert_eq!(
            state(&kms, &key),
            KeyState::PendingImport,
            "nothing changed"
        );
    }
}

#[test]
fn a_second_import_takes_only_the_same_private_key_and_no_import_type() {
    let (kms, _) = kms();
    let key = external(&kms, KeySpec::EccNistP256, KeyUsage::SignVerify);
    let (first_key, first) = p256_key(20);
    let (_, other) = p256_key(21);
    let id = import(&kms, &key, &first.pkcs8).unwrap();
    let err = import(&kms, &key, &other.pkcs8).unwrap_err();
    assert_eq!(err.code(), "IncorrectKeyMaterialException");
    assert_eq!(public_key(&kms, &key).unwrap(), first.spki, "unchanged");
    // The same key again (to change its expiration, say): the same id.
    assert_eq!(import(&kms, &key, &first.pkcs8).unwrap(), id);
    // Also in another PKCS#8 encoding: RFC 5915's ECPrivateKey with
    // neither parameters nor public key.
    let mut minimal = vec![
        0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
        0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25,
        0x02, 0x01, 0x01, 0x04, 0x20,
    ];
    minimal.extend_from_slice(&first_key.to_bytes());
    assert_ne!(minimal, first.pkcs8);
    assert_eq!(import(&kms, &key, &minimal).unwrap(), id);
    // ImportType is for symmetric encryption keys only.
    for import_type in [ImportType::NewKeyMaterial, ImportType::ExistingKeyMaterial] {
        let mut req = request_with(&kms, &key, AlgorithmSpec::RsaAesKeyWrapSha256, &first.pkcs8);
        req.import_type = Some(import_type);
        let err = kms.import_key_material(req).unwrap_err();
        assert_eq!(err.code(), "ValidationException", "{import_type}");
        assert!(err.message().contains("ImportType"), "{err}");
    }
}

#[test]
fn deleted_material_makes_the_key_pending_import_until_the_same_key_is_imported_again() {
    let (kms, _) = kms();
    let key = external(&kms, KeySpec::Rsa2048, KeyUsage::SignVerify);
    let (outside_key, outside) = rsa_key(2048, 30);
    let id = import(&kms, &key, &outside.pkcs8).unwrap();
    let alg = SigningAlgorithmSpec::RsassaPkcs1V15Sha256;
    let before = sign(&kms, &key, alg, b"before").unwrap();
    let deleted = kms
        .delete_imported_key_material(DeleteImportedKeyMaterialRequest {
            key_id: key.clone(),
            key_material_id: None,
        })
        .unwrap();
    assert_eq!(deleted.key_material_id.as_deref(), Some(&*id));
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(
        code(sign(&kms, &key, alg, b"m")),
        "KMSInvalidStateException"
    );
    assert_eq!(
        code(verify(&kms, &key, alg, b"before", &before)),
        "KMSInvalidStateException"
    );
    assert_eq!(code(public_key(&kms, &key)), "KMSInvalidStateException");
    // Another key does not bring it back.
    let (_, other) = rsa_key(2048, 31);
    assert_eq!(
        code(import(&kms, &key, &other.pkcs8)),
        "IncorrectKeyMaterialException"
    );
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(import(&kms, &key, &outside.pkcs8).unwrap(), id);
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    assert_eq!(public_key(&kms, &key).unwrap(), outside.spki);
    assert!(verify(&kms, &key, alg, b"before", &before).unwrap());
    let after = sign(&kms, &key, alg, b"after").unwrap();
    assert!(rsa_verifies(&outside_key, b"after", &after));
}

#[test]
fn imported_asymmetric_material_expires_at_valid_to() {
    let (kms, clock) = kms();
    let key = external(&kms, KeySpec::EccNistP256, KeyUsage::SignVerify);
    let (_, outside) = p256_key(40);
    let valid_to = clock.now().saturating_add(HOUR);
    let mut req = request_with(
        &kms,
        &key,
        AlgorithmSpec::RsaAesKeyWrapSha256,
        &outside.pkcs8,
    );
    req.expiration_model = Some(ExpirationModelType::KeyMaterialExpires);
    req.valid_to = Some(valid_to);
    kms.import_key_material(req).unwrap();
    let md = kms.describe_key(&key).unwrap().key_metadata;
    assert_eq!(md.valid_to, Some(valid_to));
    let alg = SigningAlgorithmSpec::EcdsaSha256;
    sign(&kms, &key, alg, b"m").unwrap();
    clock.advance(HOUR - Duration::from_millis(1));
    sign(&kms, &key, alg, b"m").unwrap();
    clock.advance(Duration::from_millis(1));
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(
        code(sign(&kms, &key, alg, b"m")),
        "KMSInvalidStateException"
    );
    import(&kms, &key, &outside.pkcs8).unwrap();
    assert_eq!(public_key(&kms, &key).unwrap(), outside.spki);
}

#[test]
fn an_imported_rsa_encryption_key_decrypts_what_its_outside_public_key_encrypted() {
    let (kms, _) = kms();
    let key = external(&kms, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let (outside_key, outside) = rsa_key(2048, 50);
    import(&kms, &key, &outside.pkcs8).unwrap();
    let alg = EncryptionAlgorithmSpec::RsaesOaepSha256;
    let outside_ct = outside_key
        .to_public_key()
        .encrypt(
            &mut TestRng(51),
            rsa::Oaep::<sha2::Sha256>::new(),
            b"from outside",
        )
        .unwrap();
    let decrypt = |blob: Vec<u8>| {
        kms.decrypt(DecryptRequest {
            key_id: Some(key.clone()),
            ciphertext_blob: blob,
            encryption_algorithm: Some(alg),
            ..Default::default()
        })
        .map(|r| r.plaintext.expose_secret().to_vec())
    };
    assert_eq!(decrypt(outside_ct).unwrap(), b"from outside");
    let inside = kms
        .encrypt(EncryptRequest {
            key_id: key.clone(),
            plaintext: b"from inside".to_vec().into(),
            encryption_algorithm: Some(alg),
            ..Default::default()
        })
        .unwrap()
        .ciphertext_blob;
    let opened = outside_key
        .decrypt(rsa::Oaep::<sha2::Sha256>::new(), &inside)
        .unwrap();
    assert_eq!(opened, b"from inside");
}

#[test]
fn an_imported_key_agreement_key_derives_the_secret_the_peer_derives_and_says_external() {
    let (kms, _) = kms();
    let key = external(&kms, KeySpec::EccNistP256, KeyUsage::KeyAgreement);
    let (ours, outside) = p256_key(60);
    import(&kms, &key, &outside.pkcs8).unwrap();
    let (peer, peer_o) = p256_key(61);
    let r = kms
        .derive_shared_secret(DeriveSharedSecretRequest {
            key_id: key.clone(),
            key_agreement_algorithm: Some(KeyAgreementAlgorithmSpec::Ecdh),
            public_key: peer_o.spki,
            ..Default::default()
        })
        .unwrap();
    let expected =
        p256::ecdh::diffie_hellman(peer.to_nonzero_scalar(), ours.public_key().as_affine());
    assert_eq!(
        r.shared_secret.expose_secret(),
        expected.raw_secret_bytes().as_slice()
    );
    assert_eq!(r.key_origin, OriginType::External);
}

#[test]
fn grants_on_an_imported_signing_key_allow_its_operations_once_imported() {
    let (kms, _) = kms();
    let key = external(&kms, KeySpec::EccNistP256, KeyUsage::SignVerify);
    let (_, outside) = p256_key(70);
    import(&kms, &key, &outside.pkcs8).unwrap();
    let grantee = "arn:aws:iam::111122223333:role/app";
    let grant = |op| {
        kms.create_grant(CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: grantee.into(),
            operations: vec![op, GrantOperation::GetPublicKey],
            ..Default::default()
        })
    };
    assert!(grant(GrantOperation::Sign).is_ok());
    assert_eq!(code(grant(GrantOperation::Encrypt)), "ValidationException");
    let app = kms.as_caller(&grantee.parse().unwrap());
    assert_eq!(public_key(&app, &key).unwrap(), outside.spki);
    sign(&app, &key, SigningAlgorithmSpec::EcdsaSha256, b"granted").unwrap();
}

/// us-east-1 (where the primary keys are made) and eu-west-1.
fn two_regions() -> (kms_keystore::Partition, [Kms; 2], kms_keystore::ManualClock) {
    import_support::regions(["us-east-1", "eu-west-1"])
}

fn replicate(primary: &Kms, key: &str, region: &str) -> kms_keystore::Result<()> {
    primary
        .replicate_key(ReplicateKeyRequest {
            key_id: key.into(),
            replica_region: region.into(),
            ..Default::default()
        })
        .map(|_| ())
}

/// A multi-Region primary key of `spec` and `usage` in `kms[0]` with
/// `pkcs8` imported, replicated to `kms[1]` (pending import there); the
/// key id and the material id.
fn imported_primary_and_replica(
    kms: &[Kms; 2],
    spec: KeySpec,
    usage: KeyUsage,
    pkcs8: &[u8],
) -> (String, String) {
    let key = create_external(&kms[0], spec, usage, true);
    let id = import(&kms[0], &key, pkcs8).unwrap();
    replicate(&kms[0], &key, "eu-west-1").unwrap();
    (key, id)
}

#[test]
fn multi_region_rsa_and_ecc_keys_with_origin_external_are_primary_keys_pending_import() {
    let (_p, kms, _) = two_regions();
    for (spec, usage) in SPECS_AND_USAGES {
        let key = create_external(&kms[0], spec, usage, true);
        assert!(key.starts_with("mrk-"), "{spec}: {key}");
        let md = kms[0].describe_key(&key).unwrap().key_metadata;
        assert_eq!(md.key_state, KeyState::PendingImport, "{spec}");
        assert_eq!(md.origin, OriginType::External);
        assert_eq!((md.key_spec, md.key_usage), (spec, usage));
        assert!(md.multi_region);
        assert_eq!(
            md.multi_region_configuration.unwrap().multi_region_key_type,
            MultiRegionKeyType::Primary
        );
        assert_eq!(code(public_key(&kms[0], &key)), "KMSInvalidStateException");
    }
}

#[test]
fn a_replica_of_an_imported_signing_key_is_pending_import_and_takes_only_the_primary_private_key() {
    let (_p, kms, _) = two_regions();
    let (outside_key, outside) = p256_key(100);
    let (key, id) = imported_primary_and_replica(
        &kms,
        KeySpec::EccNistP256,
        KeyUsage::SignVerify,
        &outside.pkcs8,
    );
    let md = kms[1].describe_key(&key).unwrap().key_metadata;
    assert_eq!(md.key_state, KeyState::PendingImport);
    assert_eq!(md.origin, OriginType::External);
    assert_eq!(md.key_spec, KeySpec::EccNistP256);
    assert_eq!(
        md.multi_region_configuration.unwrap().multi_region_key_type,
        MultiRegionKeyType::Replica
    );
    // Neither the material nor the public key came with the replica.
    assert_eq!(code(public_key(&kms[1], &key)), "KMSInvalidStateException");
    let alg = SigningAlgorithmSpec::EcdsaSha256;
    assert_eq!(
        code(sign(&kms[1], &key, alg, b"m")),
        "KMSInvalidStateException"
    );
    // Another key of the same curve is not the primary key's.
    let (_, other) = p256_key(101);
    assert_eq!(
        code(import(&kms[1], &key, &other.pkcs8)),
        "IncorrectKeyMaterialException"
    );
    assert_eq!(state(&kms[1], &key), KeyState::PendingImport);
    assert_eq!(code(public_key(&kms[1], &key)), "KMSInvalidStateException");
    assert_eq!(import(&kms[1], &key, &outside.pkcs8).unwrap(), id);
    assert_eq!(state(&kms[1], &key), KeyState::Enabled);
    for k in &kms {
        assert_eq!(public_key(k, &key).unwrap(), outside.spki);
    }
    // A signature made in one Region verifies in the other.
    let east = sign(&kms[0], &key, alg, b"east").unwrap();
    let west = sign(&kms[1], &key, alg, b"west").unwrap();
    assert!(verify(&kms[1], &key, alg, b"east", &east).unwrap());
    assert!(verify(&kms[0], &key, alg, b"west", &west).unwrap());
    assert!(ec_verifies!(p256, outside_key, b"west", &west));
}

#[test]
fn an_imported_signing_key_moved_to_another_primary_region_replicates_pending_import_from_there() {
    let (_p, kms, _) = import_support::regions(["us-east-1", "eu-west-1", "ap-south-1"]);
    let (outside_key, outside) = p256_key(110);
    let key = create_external(&kms[0], KeySpec::EccNistP256, KeyUsage::SignVerify, true);
    let id = import(&kms[0], &key, &outside.pkcs8).unwrap();
    replicate(&kms[0], &key, "eu-west-1").unwrap();
    assert_eq!(import(&kms[1], &key, &outside.pkcs8).unwrap(), id);
    kms[0]
        .update_primary_region(kms_keystore::UpdatePrimaryRegionRequest {
            key_id: key.clone(),
            primary_region: "eu-west-1".into(),
        })
        .unwrap();
    let kind = |k: &Kms| {
        k.describe_key(&key)
            .unwrap()
            .key_metadata
            .multi_region_configuration
            .unwrap()
            .multi_region_key_type
    };
    assert_eq!(kind(&kms[0]), MultiRegionKeyType::Replica);
    assert_eq!(kind(&kms[1]), MultiRegionKeyType::Primary);
    // Only the new primary key replicates; its replica waits for the same
    // private key and refuses another one.
    assert_eq!(
        code(replicate(&kms[0], &key, "ap-south-1")),
        "UnsupportedOperationException"
    );
    replicate(&kms[1], &key, "ap-south-1").unwrap();
    assert_eq!(state(&kms[2], &key), KeyState::PendingImport);
    let (_, other) = p256_key(111);
    assert_eq!(
        code(import(&kms[2], &key, &other.pkcs8)),
        "IncorrectKeyMaterialException"
    );
    assert_eq!(import(&kms[2], &key, &outside.pkcs8).unwrap(), id);
    let alg = SigningAlgorithmSpec::EcdsaSha256;
    for (i, k) in kms.iter().enumerate() {
        assert_eq!(public_key(k, &key).unwrap(), outside.spki, "region {i}");
        let sig = sign(k, &key, alg, b"moved").unwrap();
        assert!(
            ec_verifies!(p256, outside_key, b"moved", &sig),
            "region {i}"
        );
    }
}

#[test]
fn a_replica_of_an_imported_rsa_key_refuses_another_rsa_key_and_signs_as_its_primary() {
    let (_p, kms, _) = two_regions();
    let (outside_key, outside) = rsa_key(2048, 110);
    let (key, id) =
        imported_primary_and_replica(&kms, KeySpec::Rsa2048, KeyUsage::SignVerify, &outside.pkcs8);
    let (_, other) = rsa_key(2048, 111);
    assert_eq!(
        code(import(&kms[1], &key, &other.pkcs8)),
        "IncorrectKeyMaterialException"
    );
    assert_eq!(import(&kms[1], &key, &outside.pkcs8).unwrap(), id);
    assert_eq!(public_key(&kms[1], &key).unwrap(), outside.spki);
    let alg = SigningAlgorithmSpec::RsassaPkcs1V15Sha256;
    let west = sign(&kms[1], &key, alg, b"west").unwrap();
    assert!(verify(&kms[0], &key, alg, b"west", &west).unwrap());
    assert!(rsa_verifies(&outside_key, b"west", &west));
}

#[test]
fn an_imported_multi_region_rsa_encryption_key_decrypts_in_one_region_what_another_encrypted() {
    let (_p, kms, _) = two_regions();
    let (_, outside) = rsa_key(2048, 120);
    let (key, _) = imported_primary_and_replica(
        &kms,
        KeySpec::Rsa2048,
        KeyUsage::EncryptDecrypt,
        &outside.pkcs8,
    );
    import(&kms[1], &key, &outside.pkcs8).unwrap();
    let alg = EncryptionAlgorithmSpec::RsaesOaepSha256;
    let encrypt = |k: &Kms, plaintext: &[u8]| {
        k.encrypt(EncryptRequest {
            key_id: key.clone(),
            plaintext: plaintext.to_vec().into(),
            encryption_algorithm: Some(alg),
            ..Default::default()
        })
        .unwrap()
        .ciphertext_blob
    };
    let decrypt = |k: &Kms, blob: Vec<u8>| {
        k.decrypt(DecryptRequest {
            key_id: Some(key.clone()),
            ciphertext_blob: blob,
            encryption_algorithm: Some(alg),
            ..Default::default()
        })
        .unwrap()
        .plaintext
        .expose_secret()
        .to_vec()
    };
    assert_eq!(decrypt(&kms[1], encrypt(&kms[0], b"east")), b"east");
    assert_eq!(decrypt(&kms[0], encrypt(&kms[1], b"west")), b"west");
}

#[test]
fn an_imported_multi_region_key_agreement_key_derives_one_secret_in_every_region() {
    let (_p, kms, _) = two_regions();
    let (ours, outside) = p384_key(130);
    let (key, _) = imported_primary_and_replica(
        &kms,
        KeySpec::EccNistP384,
        KeyUsage::KeyAgreement,
        &outside.pkcs8,
    );
    import(&kms[1], &key, &outside.pkcs8).unwrap();
    let (peer, peer_o) = p384_key(131);
    let derive = |k: &Kms| {
        k.derive_shared_secret(DeriveSharedSecretRequest {
            key_id: key.clone(),
            key_agreement_algorithm: Some(KeyAgreementAlgorithmSpec::Ecdh),
            public_key: peer_o.spki.clone(),
            ..Default::default()
        })
        .unwrap()
        .shared_secret
        .expose_secret()
        .to_vec()
    };
    let expected =
        p384::ecdh::diffie_hellman(peer.to_nonzero_scalar(), ours.public_key().as_affine());
    assert_eq!(derive(&kms[0]), expected.raw_secret_bytes().as_slice());
    assert_eq!(derive(&kms[1]), expected.raw_secret_bytes().as_slice());
}

#[test]
fn an_imported_multi_region_asymmetric_keys_deletion_and_expiry_are_its_own() {
    let (_p, kms, clock) = import_support::regions(["us-east-1", "eu-west-1", "ap-south-1"]);
    let (_, outside) = p256_key(140);
    let key = create_external(&kms[0], KeySpec::EccNistP256, KeyUsage::SignVerify, true);
    import(&kms[0], &key, &outside.pkcs8).unwrap();
    replicate(&kms[0], &key, "eu-west-1").unwrap();
    replicate(&kms[0], &key, "ap-south-1").unwrap();
    import(&kms[1], &key, &outside.pkcs8).unwrap();
    // ap-south-1's key expires in an hour; the others do not.
    let mut req = request_with(
        &kms[2],
        &key,
        AlgorithmSpec::RsaAesKeyWrapSha256,
        &outside.pkcs8,
    );
    req.expiration_model = Some(ExpirationModelType::KeyMaterialExpires);
    req.valid_to = Some(clock.now().saturating_add(HOUR));
    kms[2].import_key_material(req).unwrap();
    let alg = SigningAlgorithmSpec::EcdsaSha256;
    let sig = sign(&kms[2], &key, alg, b"m").unwrap();
    // The replica in eu-west-1 deletes its key: only it is pending import.
    kms[1]
        .delete_imported_key_material(DeleteImportedKeyMaterialRequest {
            key_id: key.clone(),
            key_material_id: None,
        })
        .unwrap();
    assert_eq!(state(&kms[1], &key), KeyState::PendingImport);
    assert_eq!(code(public_key(&kms[1], &key)), "KMSInvalidStateException");
    assert_eq!(state(&kms[0], &key), KeyState::Enabled);
    assert!(verify(&kms[0], &key, alg, b"m", &sig).unwrap());
    assert!(verify(&kms[2], &key, alg, b"m", &sig).unwrap());
    clock.advance(HOUR);
    assert_eq!(state(&kms[2], &key), KeyState::PendingImport);
    assert_eq!(state(&kms[0], &key), KeyState::Enabled);
    assert!(verify(&kms[0], &key, alg, b"m", &sig).unwrap());
    // The primary key's deletion leaves the replicas as they are.
    import(&kms[1], &key, &outside.pkcs8).unwrap();
    kms[0]
        .delete_imported_key_material(DeleteImportedKeyMaterialRequest {
            key_id: key.clone(),
            key_material_id: None,
        })
        .unwrap();
    assert_eq!(state(&kms[0], &key), KeyState::PendingImport);
    assert_eq!(state(&kms[1], &key), KeyState::Enabled);
    assert!(verify(&kms[1], &key, alg, b"m", &sig).unwrap());
}

#[test]
fn an_imported_multi_region_asymmetric_key_takes_no_new_material_and_does_not_rotate() {
    let (_p, kms, _) = two_regions();
    let (_, outside) = rsa_key(2048, 150);
    let (key, _) =
        imported_primary_and_replica(&kms, KeySpec::Rsa2048, KeyUsage::SignVerify, &outside.pkcs8);
    import(&kms[1], &key, &outside.pkcs8).unwrap();
    let (_, other) = rsa_key(2048, 151);
    for k in &kms {
        let mut req = request_with(k, &key, AlgorithmSpec::RsaAesKeyWrapSha256, &other.pkcs8);
        req.import_type = Some(ImportType::NewKeyMaterial);
        assert_eq!(code(k.import_key_material(req)), "ValidationException");
        assert_eq!(
            code(k.rotate_key_on_demand(&key)),
            "UnsupportedOperationException"
        );
    }
    for k in &kms {
        assert_eq!(public_key(k, &key).unwrap(), outside.spki);
    }
}

#[cfg(feature = "durable")]
#[test]
fn a_reopened_store_signs_with_the_imported_key_sealed_at_rest_and_keeps_its_deletion() {
    let path = durable::temp_dir("imported-pair").join("kms.redb");
    let clock = kms_keystore::ManualClock::default();
    let (outside_key, outside) = p384_key(90);
    let alg = SigningAlgorithmSpec::EcdsaSha384;
    let (key, id, before) = {
        let kms = durable::open(&path, &clock);
        let key = external(&kms, KeySpec::EccNistP384, KeyUsage::SignVerify);
        let id = import(&kms, &key, &outside.pkcs8).unwrap();
        let before = kms.describe_key(&key).unwrap().key_metadata;
        (key, id, before)
    };
    let file = std::fs::read(&path).unwrap();
    let scalar = outside_key.to_bytes();
    assert!(
        !file.windows(scalar.len()).any(|w| w == scalar.as_slice()),
        "the imported private key is in the file in clear"
    );
    let kms = durable::open(&path, &clock);
    assert_eq!(kms.describe_key(&key).unwrap().key_metadata, before);
    assert_eq!(public_key(&kms, &key).unwrap(), outside.spki);
    let sig = sign(&kms, &key, alg, b"after a restart").unwrap();
    assert!(ec_verifies!(p384, outside_key, b"after a restart", &sig));
    kms.delete_imported_key_material(DeleteImportedKeyMaterialRequest {
        key_id: key.clone(),
        key_material_id: None,
    })
    .unwrap();
    drop(kms);
    let kms = durable::open(&path, &clock);
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(
        code(sign(&kms, &key, alg, b"m")),
        "KMSInvalidStateException"
    );
    let (_, other) = p384_key(91);
    assert_eq!(
        code(import(&kms, &key, &other.pkcs8)),
        "IncorrectKeyMaterialException"
    );
    assert_eq!(import(&kms, &key, &outside.pkcs8).unwrap(), id);
    drop(kms);
    let kms = durable::open(&path, &clock);
    let sig = sign(&kms, &key, alg, b"reimported").unwrap();
    assert!(ec_verifies!(p384, outside_key, b"reimported", &sig));
}
