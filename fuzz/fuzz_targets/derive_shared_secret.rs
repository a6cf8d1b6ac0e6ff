//! DeriveSharedSecret with any public key bytes on a P-256 key agreement
//! key: never a panic; bytes that are not a P-256 SubjectPublicKeyInfo are
//! `ValidationException`, and a valid one gives a 32-byte secret.
#![no_main]
use std::sync::OnceLock;

use kms_keystore::{
    CreateKeyRequest, DeriveSharedSecretRequest, KeyAgreementAlgorithmSpec, KeySpec, KeyUsage,
    Kms, KmsConfig,
};
use libfuzzer_sys::fuzz_target;

fn kms() -> &'static (Kms, String) {
    static K: OnceLock<(Kms, String)> = OnceLock::new();
    K.get_or_init(|| {
        let kms = Kms::new(KmsConfig::default().with_seed(1));
        let key = kms
            .create_key(CreateKeyRequest {
                key_spec: Some(KeySpec::EccNistP256),
                key_usage: Some(KeyUsage::KeyAgreement),
                ..Default::default()
            })
            .expect("a key agreement key")
            .key_metadata
            .key_id
            .to_string();
        (kms, key)
    })
}

fuzz_target!(|data: &[u8]| {
    let (kms, key) = kms();
    match kms.derive_shared_secret(DeriveSharedSecretRequest {
        key_id: key.clone(),
        key_agreement_algorithm: Some(KeyAgreementAlgorithmSpec::Ecdh),
        public_key: data.to_vec(),
        ..Default::default()
    }) {
        Ok(r) => assert_eq!(r.shared_secret.len(), 32),
        Err(e) => assert_eq!(e.code(), "ValidationException", "{e}"),
    }
});
