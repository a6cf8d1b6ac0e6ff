//! Shared setup for the integration tests.
#![allow(dead_code, unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kms_keystore::{
    CreateKeyRequest, DecryptRequest, EncryptRequest, EncryptionContext, Kms, KmsConfig,
    ManualClock,
};

/// The account every test KMS lives in.
pub const ACCOUNT: &str = "111122223333";
/// The Region every test KMS lives in.
pub const REGION: &str = "us-west-2";
/// The seed of [`kms`].
pub const SEED: u64 = 0x5eed;

/// A seeded KMS on a manual clock (2023-01-01T00:00:00Z).
pub fn kms() -> (Kms, ManualClock) {
    kms_with_seed(SEED)
}

/// A KMS with `seed` on a fresh manual clock.
pub fn kms_with_seed(seed: u64) -> (Kms, ManualClock) {
    let clock = ManualClock::default();
    let config = KmsConfig::new(ACCOUNT, REGION)
        .unwrap()
        .with_clock(clock.clone())
        .with_seed(seed);
    (Kms::new(config), clock)
}

/// Creates a standard key and returns its key id.
pub fn new_key(kms: &Kms) -> String {
    kms.create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id
        .to_string()
}

/// Creates a key of `spec` and `usage`; its key id.
pub fn create_key_of(
    kms: &Kms,
    spec: kms_keystore::KeySpec,
    usage: kms_keystore::KeyUsage,
) -> kms_keystore::Result<String> {
    create_key_with_origin(kms, kms_keystore::OriginType::AwsKms, spec, usage)
}

/// Creates a key of `origin`, `spec` and `usage`; its key id.
pub fn create_key_with_origin(
    kms: &Kms,
    origin: kms_keystore::OriginType,
    spec: kms_keystore::KeySpec,
    usage: kms_keystore::KeyUsage,
) -> kms_keystore::Result<String> {
    kms.create_key(CreateKeyRequest {
        origin: Some(origin),
        key_spec: Some(spec),
        key_usage: Some(usage),
        ..Default::default()
    })
    .map(|r| r.key_metadata.key_id.to_string())
}

/// Runs `TrentService.<op>` with a JSON body through `w`: the HTTP status
/// and the JSON answer.
pub fn wire(
    w: &kms_keystore::server::Dispatcher,
    op: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let r = w.dispatch(&format!("TrentService.{op}"), body.to_string().as_bytes());
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

/// An encryption context from pairs.
pub fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Encrypts `plaintext` under `key_id` with `context`; the blob.
pub fn encrypt(kms: &Kms, key_id: &str, plaintext: &[u8], context: &EncryptionContext) -> Vec<u8> {
    kms.encrypt(EncryptRequest {
        key_id: key_id.to_string(),
        plaintext: plaintext.into(),
        encryption_context: context.clone(),
        ..Default::default()
    })
    .unwrap()
    .ciphertext_blob
}

/// Decrypts `blob` with `context` and no KeyId.
pub fn decrypt(
    kms: &Kms,
    blob: &[u8],
    context: &EncryptionContext,
) -> kms_keystore::Result<Vec<u8>> {
    kms.decrypt(DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        encryption_context: context.clone(),
        ..Default::default()
    })
    .map(|r| r.plaintext.expose_secret().to_vec())
}

/// The error code of `r`, panicking with the value if it succeeded.
pub fn code<T: std::fmt::Debug>(r: kms_keystore::Result<T>) -> &'static str {
    match r {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e.code(),
    }
}
