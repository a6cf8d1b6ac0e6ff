//! SM2 KMS keys (feature `asymmetric`), which AWS makes only in the China
//! Regions: refused elsewhere; in cn-north-1 CreateKey SM2 for SIGN_VERIFY
//! (SM2DSA, RAW and DIGEST) and ENCRYPT_DECRYPT (SM2PKE), DescribeKey,
//! GetPublicKey (an SPKI checked with RustCrypto's `sm2`), signatures and
//! ciphertexts checked apart from the KMS, SM2 data key pairs, and the
//! durable store.
#![cfg(feature = "asymmetric")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[cfg(feature = "durable")]
mod durable;

use common::{ACCOUNT, code};
use kms_keystore::{
    CreateKeyRequest, DataKeyPairSpec, DecryptRequest, EncryptRequest, EncryptionAlgorithmSpec,
    GenerateDataKeyPairRequest, GenerateDataKeyPairResponse, GetPublicKeyRequest, KeySpec,
    KeyUsage, Kms, KmsConfig, ManualClock, MessageType, OriginType, SignRequest,
    SigningAlgorithmSpec, VerifyRequest,
};
use sm2::dsa::signature::Verifier as _;
use sm2::dsa::signature::hazmat::PrehashVerifier as _;
use sm2::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use sm3::Digest as _;

/// AWS KMS's default SM2 distinguishing ID.
const DIST_ID: &str = "1234567812345678";

fn china_kms() -> Kms {
    let config = KmsConfig::new(ACCOUNT, "cn-north-1")
        .unwrap()
        .with_clock(ManualClock::default())
        .with_seed(common::SEED);
    Kms::new(config)
}

fn create(kms: &Kms, usage: KeyUsage) -> kms_keystore::Result<String> {
    common::create_key_of(kms, KeySpec::Sm2, usage)
}

fn public_key(kms: &Kms, key: &str) -> sm2::PublicKey {
    let out = kms
        .get_public_key(GetPublicKeyRequest {
            key_id: key.into(),
            ..Default::default()
        })
        .unwrap();
    sm2::PublicKey::from_public_key_der(&out.public_key).unwrap()
}

fn sign_req(key: &str, message_type: MessageType, message: &[u8]) -> SignRequest {
    SignRequest {
        key_id: key.into(),
        message: message.into(),
        message_type: Some(message_type),
        signing_algorithm: Some(SigningAlgorithmSpec::Sm2Dsa),
        ..Default::default()
    }
}

fn sign(kms: &Kms, key: &str, message_type: MessageType, message: &[u8]) -> Vec<u8> {
    kms.sign(sign_req(key, message_type, message))
        .unwrap()
        .signature
}

fn verify(
    kms: &Kms,
    key: &str,
    message_type: MessageType,
    message: &[u8],
    sig: &[u8],
) -> kms_keystore::Result<bool> {
    kms.verify(VerifyRequest {
        key_id: key.into(),
        message: message.into(),
        message_type: Some(message_type),
        signature: sig.to_vec(),
        signing_algorithm: Some(SigningAlgorithmSpec::Sm2Dsa),
        ..Default::default()
    })
    .map(|r| r.signature_valid)
}

/// Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) (GB/T 32918.2 §5.5), with
/// the curve's parameters as GB/T 32918.5 publishes them, apart from `sm2`.
fn z(public: &sm2::PublicKey) -> Vec<u8> {
    let hex = |s: &str| {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect::<Vec<u8>>()
    };
    let point = public.to_sec1_bytes();
    assert_eq!(point[0], 0x04, "an uncompressed point");
    let mut h = sm3::Sm3::new();
    h.update(((DIST_ID.len() * 8) as u16).to_be_bytes());
    h.update(DIST_ID.as_bytes());
    h.update(hex(
        "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC",
    ));
    h.update(hex(
        "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93",
    ));
    h.update(hex(
        "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7",
    ));
    h.update(hex(
        "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
    ));
    h.update(&point[1..]);
    h.finalize().to_vec()
}

/// e = SM3(Z ‖ M), what Sign with `DIGEST` takes.
fn e(public: &sm2::PublicKey, message: &[u8]) -> Vec<u8> {
    let mut h = sm3::Sm3::new();
    h.update(z(public));
    h.update(message);
    h.finalize().to_vec()
}

/// GenerateDataKeyPair SM2 under a new symmetric key.
fn sm2_data_key_pair(kms: &Kms) -> kms_keystore::Result<GenerateDataKeyPairResponse> {
    kms.generate_data_key_pair(GenerateDataKeyPairRequest {
        key_id: common::new_key(kms),
        key_pair_spec: Some(DataKeyPairSpec::Sm2),
        ..Default::default()
    })
}

#[test]
fn sm2_is_refused_outside_the_china_regions() {
    let (kms, _) = common::kms();
    for usage in [KeyUsage::SignVerify, KeyUsage::EncryptDecrypt] {
        let err = create(&kms, usage).unwrap_err();
        assert_eq!(err.code(), "UnsupportedOperationException");
        assert_eq!(
            err.message(),
            "KeySpec SM2 is supported only in the AWS China Regions."
        );
    }
    let err = sm2_data_key_pair(&kms).unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
    assert!(err.message().contains("China Regions"), "{err}");
}

#[test]
fn sm2_keys_are_made_in_cn_north_1_with_their_algorithms() {
    let kms = china_kms();
    let sign_key = create(&kms, KeyUsage::SignVerify).unwrap();
    let md = serde_json::to_value(kms.describe_key(&sign_key).unwrap().key_metadata).unwrap();
    assert_eq!(md["KeySpec"], "SM2");
    assert_eq!(md["KeyUsage"], "SIGN_VERIFY");
    assert_eq!(md["SigningAlgorithms"], serde_json::json!(["SM2DSA"]));
    assert!(md.get("EncryptionAlgorithms").is_none(), "{md}");
    assert!(
        md["Arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws-cn:kms:cn-north-1:"),
        "{md}"
    );
    let enc_key = create(&kms, KeyUsage::EncryptDecrypt).unwrap();
    let md = serde_json::to_value(kms.describe_key(&enc_key).unwrap().key_metadata).unwrap();
    assert_eq!(md["EncryptionAlgorithms"], serde_json::json!(["SM2PKE"]));
    assert!(md.get("SigningAlgorithms").is_none(), "{md}");
    let pk = kms
        .get_public_key(GetPublicKeyRequest {
            key_id: enc_key,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(pk.key_spec, KeySpec::Sm2);
    assert_eq!(pk.encryption_algorithms, [EncryptionAlgorithmSpec::Sm2Pke]);
}

#[test]
fn sm2_key_agreement_multi_region_and_imports_are_refused() {
    let kms = china_kms();
    let err = create(&kms, KeyUsage::KeyAgreement).unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
    assert!(err.message().contains("KEY_AGREEMENT"), "{err}");
    let err = create(&kms, KeyUsage::GenerateVerifyMac).unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    let err = kms
        .create_key(CreateKeyRequest {
            key_spec: Some(KeySpec::Sm2),
            key_usage: Some(KeyUsage::SignVerify),
            multi_region: Some(true),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
    let err = common::create_key_with_origin(
        &kms,
        OriginType::External,
        KeySpec::Sm2,
        KeyUsage::SignVerify,
    )
    .unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
}

#[test]
fn get_public_key_is_an_ec_spki_on_the_sm2_curve() {
    let kms = china_kms();
    let key = create(&kms, KeyUsage::SignVerify).unwrap();
    let der = kms
        .get_public_key(GetPublicKeyRequest {
            key_id: key.clone(),
            ..Default::default()
        })
        .unwrap()
        .public_key;
    // AlgorithmIdentifier { id-ecPublicKey, 1.2.156.10197.1.301 }.
    let id_ec_public_key = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    let sm2_curve = [0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];
    let mut alg_id = id_ec_public_key.to_vec();
    alg_id.extend_from_slice(&sm2_curve);
    assert!(der.windows(alg_id.len()).any(|w| w == alg_id), "{der:02x?}");
    // 65-byte uncompressed point: 0x30 0x59 ... 0x03 0x42 0x00 0x04.
    assert_eq!(der.len(), 91);
    assert!(sm2::PublicKey::from_public_key_der(&der).is_ok());
    assert!(p256::PublicKey::from_public_key_der(&der).is_err());
}

#[test]
fn a_raw_signature_verifies_with_sm2_and_the_default_distinguishing_id() {
    let kms = china_kms();
    let key = create(&kms, KeyUsage::SignVerify).unwrap();
    let public = public_key(&kms, &key);
    let message = b"the message KMS hashes with SM3 and Z";
    let sig = sign(&kms, &key, MessageType::Raw, message);
    let parsed = sm2::dsa::Signature::from_der(&sig).expect("a DER (r, s) signature");
    let verifier = sm2::dsa::VerifyingKey::new(DIST_ID, public).unwrap();
    verifier.verify(message, &parsed).unwrap();
    assert!(verifier.verify(b"another message", &parsed).is_err());
    let other_id = sm2::dsa::VerifyingKey::new("another ID", public).unwrap();
    assert!(other_id.verify(message, &parsed).is_err());
    assert!(verify(&kms, &key, MessageType::Raw, message, &sig).unwrap());
    let err = verify(&kms, &key, MessageType::Raw, b"tampered", &sig).unwrap_err();
    assert_eq!(err.code(), "KMSInvalidSignatureException");
}

#[test]
fn raw_signs_e_of_sm3_z_and_message_as_digest_does() {
    let kms = china_kms();
    let key = create(&kms, KeyUsage::SignVerify).unwrap();
    let public = public_key(&kms, &key);
    let verifier = sm2::dsa::VerifyingKey::new(DIST_ID, public).unwrap();
    let message = b"raw and digest agree";
    let e = e(&public, message);
    // A RAW signature is a signature of e ...
    let raw = sign(&kms, &key, MessageType::Raw, message);
    let raw_sig = sm2::dsa::Signature::from_der(&raw).unwrap();
    verifier.verify_prehash(&e, &raw_sig).unwrap();
    assert!(verify(&kms, &key, MessageType::Digest, &e, &raw).unwrap());
    // ... and a DIGEST signature of e is one of the message.
    let digest = sign(&kms, &key, MessageType::Digest, &e);
    let digest_sig = sm2::dsa::Signature::from_der(&digest).unwrap();
    verifier.verify(message, &digest_sig).unwrap();
    assert!(verify(&kms, &key, MessageType::Raw, message, &digest).unwrap());
    // DIGEST takes e as given: SM3 of the message alone is another e.
    let plain = sm3::Sm3::digest(message).to_vec();
    let plain_sig = sign(&kms, &key, MessageType::Digest, &plain);
    assert!(
        verifier
            .verify(message, &sm2::dsa::Signature::from_der(&plain_sig).unwrap())
            .is_err()
    );
}

#[test]
fn sm2_signing_refuses_other_algorithms_and_message_shapes() {
    let kms = china_kms();
    let key = create(&kms, KeyUsage::SignVerify).unwrap();
    let r = kms.sign(SignRequest {
        signing_algorithm: Some(SigningAlgorithmSpec::EcdsaSha256),
        ..sign_req(&key, MessageType::Raw, b"m")
    });
    assert_eq!(code(r), "InvalidKeyUsageException");
    let p256 = common::create_key_of(&kms, KeySpec::EccNistP256, KeyUsage::SignVerify).unwrap();
    let err = kms
        .sign(sign_req(&p256, MessageType::Raw, b"m"))
        .unwrap_err();
    assert_eq!(err.code(), "InvalidKeyUsageException");
    assert_eq!(
        err.message(),
        "Algorithm SM2DSA is incompatible with key spec ECC_NIST_P256."
    );
    let err = kms
        .sign(sign_req(&key, MessageType::Digest, &[0; 31]))
        .unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert_eq!(
        err.message(),
        "Digest is invalid length for algorithm SM2DSA."
    );
    let r = kms.sign(sign_req(&key, MessageType::ExternalMu, &[0; 64]));
    assert_eq!(code(r), "ValidationException");
    let enc = create(&kms, KeyUsage::EncryptDecrypt).unwrap();
    let r = kms.sign(sign_req(&enc, MessageType::Raw, b"m"));
    assert_eq!(code(r), "InvalidKeyUsageException");
}

fn encrypt(
    kms: &Kms,
    key: &str,
    alg: Option<EncryptionAlgorithmSpec>,
    plaintext: &[u8],
) -> kms_keystore::Result<Vec<u8>> {
    kms.encrypt(EncryptRequest {
        key_id: key.into(),
        plaintext: plaintext.into(),
        encryption_algorithm: alg,
        ..Default::default()
    })
    .map(|r| r.ciphertext_blob)
}

fn decrypt(kms: &Kms, key: &str, blob: &[u8]) -> kms_keystore::Result<Vec<u8>> {
    kms.decrypt(DecryptRequest {
        key_id: Some(key.into()),
        ciphertext_blob: blob.to_vec(),
        encryption_algorithm: Some(EncryptionAlgorithmSpec::Sm2Pke),
        ..Default::default()
    })
    .map(|r| r.plaintext.expose_secret().to_vec())
}

#[test]
fn sm2pke_round_trips_in_gm_t_0009_der_c1c3c2() {
    let kms = china_kms();
    let key = create(&kms, KeyUsage::EncryptDecrypt).unwrap();
    let pt = b"SM2PKE plaintext".to_vec();
    let blob = encrypt(&kms, &key, Some(EncryptionAlgorithmSpec::Sm2Pke), &pt).unwrap();
    assert_eq!(decrypt(&kms, &key, &blob).unwrap(), pt);
    // SEQUENCE { INTEGER x, INTEGER y, OCTET STRING C3 (32), OCTET STRING C2 }:
    // C2 (as long as the plaintext) comes last.
    assert_eq!(blob[0], 0x30);
    let c2 = &blob[blob.len() - pt.len() - 2..];
    assert_eq!(&c2[..2], &[0x04, pt.len() as u8]);
    let c3 = &blob[blob.len() - pt.len() - 2 - 34..blob.len() - pt.len() - 2];
    assert_eq!(&c3[..2], &[0x04, 32]);
    // A ciphertext made apart from the KMS with the public key decrypts.
    let public = public_key(&kms, &key);
    let outside = sm2::pke::EncryptingKey::new_with_mode(public, sm2::pke::Mode::C1C3C2)
        .encrypt_der(&mut OutsideRng(0), b"from outside")
        .unwrap();
    assert_eq!(decrypt(&kms, &key, &outside).unwrap(), b"from outside");
    // Tampered C2 does not decrypt.
    let mut bad = blob.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(
        code(decrypt(&kms, &key, &bad)),
        "InvalidCiphertextException"
    );
}

/// The outside party's random source: SHA-256 of a counter (a test's
/// stand-in, apart from the KMS's source).
struct OutsideRng(u64);

impl rand_core::TryRng for OutsideRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        use sha2::Digest as _;
        for chunk in dst.chunks_mut(32) {
            self.0 += 1;
            let block = sha2::Sha256::digest(self.0.to_le_bytes());
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for OutsideRng {}

#[test]
fn sm2pke_takes_at_most_1024_bytes_and_only_its_algorithm() {
    let kms = china_kms();
    let key = create(&kms, KeyUsage::EncryptDecrypt).unwrap();
    let max = vec![0x5a; 1024];
    let blob = encrypt(&kms, &key, Some(EncryptionAlgorithmSpec::Sm2Pke), &max).unwrap();
    assert_eq!(decrypt(&kms, &key, &blob).unwrap(), max);
    let r = encrypt(
        &kms,
        &key,
        Some(EncryptionAlgorithmSpec::Sm2Pke),
        &[0; 1025],
    );
    assert_eq!(code(r), "ValidationException");
    for alg in [
        None,
        Some(EncryptionAlgorithmSpec::RsaesOaepSha256),
        Some(EncryptionAlgorithmSpec::SymmetricDefault),
    ] {
        assert_eq!(
            code(encrypt(&kms, &key, alg, b"pt")),
            "InvalidKeyUsageException",
            "{alg:?}"
        );
    }
    let rsa = common::create_key_of(&kms, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt).unwrap();
    let err = encrypt(&kms, &rsa, Some(EncryptionAlgorithmSpec::Sm2Pke), b"pt").unwrap_err();
    assert_eq!(
        err.message(),
        "Algorithm SM2PKE is incompatible with key spec RSA_2048."
    );
}

#[test]
fn sm2_data_key_pairs_are_made_in_the_china_regions() {
    let kms = china_kms();
    let out = sm2_data_key_pair(&kms).unwrap();
    assert_eq!(out.key_pair_spec, DataKeyPairSpec::Sm2);
    let secret = sm2::SecretKey::from_pkcs8_der(out.private_key_plaintext.expose_secret()).unwrap();
    let public = sm2::PublicKey::from_public_key_der(&out.public_key).unwrap();
    assert_eq!(secret.public_key(), public);
}

#[cfg(feature = "durable")]
#[test]
fn an_sm2_key_is_sealed_in_the_durable_store_and_signs_after_a_reopen() {
    let path = durable::temp_dir("sm2").join("kms.redb");
    let clock = ManualClock::default();
    let config = || {
        KmsConfig::new(ACCOUNT, "cn-north-1")
            .unwrap()
            .with_clock(clock.clone())
            .with_durable_storage(&path, durable::root())
    };
    let kms = Kms::open(config()).unwrap();
    let key = create(&kms, KeyUsage::SignVerify).unwrap();
    let enc = create(&kms, KeyUsage::EncryptDecrypt).unwrap();
    let public = public_key(&kms, &key);
    let blob = encrypt(&kms, &enc, Some(EncryptionAlgorithmSpec::Sm2Pke), b"kept").unwrap();
    drop(kms);
    let kms = Kms::open(config()).unwrap();
    assert_eq!(public_key(&kms, &key), public);
    let sig = sign(&kms, &key, MessageType::Raw, b"after reopen");
    sm2::dsa::VerifyingKey::new(DIST_ID, public)
        .unwrap()
        .verify(
            b"after reopen",
            &sm2::dsa::Signature::from_der(&sig).unwrap(),
        )
        .unwrap();
    assert_eq!(decrypt(&kms, &enc, &blob).unwrap(), b"kept");
}
