//! Secrets never show in Debug or serde output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::marker::PhantomData;

use base64::Engine as _;
use common::{decrypt, encrypt, kms, new_key};
use kms_keystore::internal::REDACTED;
use kms_keystore::{
    DataKeySpec, DecryptRequest, EncryptRequest, EncryptionContext, GenerateDataKeyRequest,
    GenerateRandomRequest, KeyMaterial, Plaintext,
};

const SECRET: &[u8] = b"TOPSECRET-4242-hunter2";

/// Fails if `out` shows `secret` as text, as a Rust byte list, as hex or as
/// base64 (standard or URL-safe, padded or not).
fn assert_no_leak(out: &str, secret: &[u8]) {
    assert!(secret.len() >= 8, "use a secret long enough to spot");
    if let Ok(s) = std::str::from_utf8(secret) {
        assert!(!out.contains(s), "plaintext text leaked: {out}");
    }
    let list = format!("{:?}", &secret[..8]);
    assert!(
        !out.contains(list.trim_end_matches(']')),
        "byte list leaked: {out}"
    );
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        !out.to_lowercase().contains(&hex[..16]),
        "hex leaked: {out}"
    );
    for engine in [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        let b64 = engine.encode(secret);
        assert!(!out.contains(&b64[..8]), "base64 leaked: {out}");
    }
}

#[test]
fn the_leak_check_catches_each_encoding() {
    let shown = [
        String::from_utf8(SECRET.to_vec()).unwrap(),
        format!("{SECRET:?}"),
        SECRET.iter().map(|b| format!("{b:02X}")).collect(),
        base64::engine::general_purpose::STANDARD.encode(SECRET),
    ];
    for s in shown {
        let caught = std::panic::catch_unwind(|| assert_no_leak(&s, SECRET)).is_err();
        assert!(caught, "not caught: {s}");
    }
}

#[test]
fn decrypt_response_debug_and_json_hide_the_plaintext() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let blob = encrypt(&kms, &id, SECRET, &EncryptionContext::new());
    let resp = kms
        .decrypt(DecryptRequest {
            ciphertext_blob: blob,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(resp.plaintext.expose_secret(), SECRET);
    let debug = format!("{resp:?}");
    assert!(debug.contains(REDACTED), "{debug}");
    assert_no_leak(&debug, SECRET);
    assert_no_leak(&format!("{resp:#?}"), SECRET);
    let json = serde_json::to_string(&resp).unwrap();
    assert!(json.contains("\"Plaintext\""), "{json}");
    assert_no_leak(&json, SECRET);
}

#[test]
fn generate_data_key_response_debug_and_json_hide_the_data_key() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let resp = kms
        .generate_data_key(GenerateDataKeyRequest {
            key_id: id,
            key_spec: Some(DataKeySpec::Aes256),
            ..Default::default()
        })
        .unwrap();
    let key = resp.plaintext.expose_secret().to_vec();
    assert_eq!(key.len(), 32);
    assert_no_leak(&format!("{resp:?}"), &key);
    assert_no_leak(&format!("{resp:#?}"), &key);
    let json = serde_json::to_string(&resp).unwrap();
    assert!(json.contains("\"CiphertextBlob\""), "{json}");
    assert_no_leak(&json, &key);
}

#[test]
fn generate_random_response_debug_and_json_hide_the_bytes() {
    let (kms, _) = kms();
    let resp = kms
        .generate_random(GenerateRandomRequest {
            number_of_bytes: Some(64),
            custom_key_store_id: None,
        })
        .unwrap();
    let bytes = resp.plaintext.expose_secret().to_vec();
    assert_no_leak(&format!("{resp:?}"), &bytes);
    assert_no_leak(&serde_json::to_string(&resp).unwrap(), &bytes);
}

#[test]
fn plaintext_debug_and_json_are_redacted() {
    let p = Plaintext::from(SECRET);
    assert_eq!(format!("{p:?}"), REDACTED);
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(json, format!("\"{REDACTED}\""));
    assert_no_leak(&json, SECRET);
}

#[test]
fn key_material_debug_is_redacted() {
    let bytes: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
    let m = KeyMaterial::from_bytes(bytes);
    let debug = format!("{m:?}");
    assert!(debug.contains(REDACTED), "{debug}");
    assert_no_leak(&debug, &bytes);
    assert_no_leak(&format!("{m:#?}"), &bytes);
}

/// `Probe::<T>::serializable()` is true only when `T: Serialize` (an inherent
/// method wins over the blanket trait method when its bound holds).
struct Probe<T>(PhantomData<T>);
trait NotSerializable {
    fn serializable(&self) -> bool {
        false
    }
}
impl<T> NotSerializable for Probe<T> {}
impl<T: serde::Serialize> Probe<T> {
    fn serializable(&self) -> bool {
        true
    }
}

#[test]
fn key_material_cannot_be_serialized_at_all() {
    assert!(!Probe::<KeyMaterial>(PhantomData).serializable());
    // The probe does detect serializable types.
    assert!(Probe::<Plaintext>(PhantomData).serializable());
}

#[test]
fn encrypt_request_debug_hides_the_plaintext() {
    let req = EncryptRequest {
        key_id: "alias/x".into(),
        plaintext: SECRET.into(),
        ..Default::default()
    };
    assert_no_leak(&format!("{req:?}"), SECRET);
}

#[test]
fn errors_do_not_carry_the_plaintext() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let blob = encrypt(&kms, &id, SECRET, &common::ctx(&[("a", "b")]));
    let err = decrypt(&kms, &blob, &EncryptionContext::new()).unwrap_err();
    assert_eq!(err.code(), "InvalidCiphertextException");
    assert_no_leak(&format!("{err:?} {err}"), SECRET);
    kms.disable_key(&id).unwrap();
    let err = kms
        .encrypt(EncryptRequest {
            key_id: id,
            plaintext: SECRET.into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "DisabledException");
    assert_no_leak(&format!("{err:?} {err}"), SECRET);
}

#[cfg(feature = "asymmetric")]
#[test]
fn generate_data_key_pair_response_debug_and_json_hide_the_private_key() {
    use kms_keystore::{DataKeyPairSpec, GenerateDataKeyPairRequest};
    let (kms, _) = kms();
    let id = new_key(&kms);
    for spec in [DataKeyPairSpec::EccNistP256, DataKeyPairSpec::Rsa2048] {
        let resp = kms
            .generate_data_key_pair(GenerateDataKeyPairRequest {
                key_id: id.clone(),
                key_pair_spec: Some(spec),
                ..Default::default()
            })
            .unwrap();
        // The PKCS#8 header is the same for every key of a spec: look for
        // the private part after it.
        let pkcs8 = resp.private_key_plaintext.expose_secret();
        let private = &pkcs8[pkcs8.len() / 2..];
        for out in [
            format!("{resp:?}"),
            format!("{resp:#?}"),
            serde_json::to_string(&resp).unwrap(),
        ] {
            assert_no_leak(&out, private);
            assert!(out.contains(REDACTED), "{out}");
        }
    }
}

#[cfg(feature = "asymmetric")]
#[test]
fn derive_shared_secret_response_debug_and_json_hide_the_secret() {
    use kms_keystore::{
        CreateKeyRequest, DeriveSharedSecretRequest, GetPublicKeyRequest,
        KeyAgreementAlgorithmSpec, KeySpec, KeyUsage,
    };
    let (kms, _) = kms();
    let id = kms
        .create_key(CreateKeyRequest {
            key_spec: Some(KeySpec::EccNistP384),
            key_usage: Some(KeyUsage::KeyAgreement),
            ..Default::default()
        })
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    let public = kms
        .get_public_key(GetPublicKeyRequest {
            key_id: id.clone(),
            ..Default::default()
        })
        .unwrap()
        .public_key;
    let resp = kms
        .derive_shared_secret(DeriveSharedSecretRequest {
            key_id: id,
            key_agreement_algorithm: Some(KeyAgreementAlgorithmSpec::Ecdh),
            public_key: public,
            ..Default::default()
        })
        .unwrap();
    let secret = resp.shared_secret.expose_secret().to_vec();
    assert_eq!(secret.len(), 48);
    assert_no_leak(&format!("{resp:?}"), &secret);
    assert_no_leak(&serde_json::to_string(&resp).unwrap(), &secret);
}
