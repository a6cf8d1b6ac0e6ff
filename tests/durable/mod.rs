//! Shared setup for the durable storage tests (`tests/durable_*.rs`).
#![allow(dead_code, unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use kms_keystore::{
    CreateKeyRequest, DecryptRequest, EncryptRequest, EncryptionContext, Kms, KmsConfig,
    ManualClock, RootKey,
};

/// The account and Region of every durable test service.
pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "us-west-2";

/// The root key the tests seal their stores under.
pub fn root() -> RootKey {
    RootKey::from_bytes([0x5a; 32])
}

/// A fresh, empty directory for one test's files, under cargo's target tmp.
pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "durable-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A durable configuration on `path` with `clock`.
pub fn config(path: &Path, clock: &ManualClock) -> KmsConfig {
    KmsConfig::new(ACCOUNT, REGION)
        .unwrap()
        .with_clock(clock.clone())
        .with_durable_storage(path, root())
}

/// Opens the durable service at `path` on `clock`.
pub fn open(path: &Path, clock: &ManualClock) -> Kms {
    Kms::open(config(path, clock)).unwrap()
}

/// Creates a standard key; its key id.
pub fn new_key(kms: &Kms) -> String {
    kms.create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id
        .to_string()
}

/// Encrypts under `key_id` with no context; the blob.
pub fn encrypt(kms: &Kms, key_id: &str, plaintext: &[u8]) -> Vec<u8> {
    kms.encrypt(EncryptRequest {
        key_id: key_id.to_owned(),
        plaintext: plaintext.into(),
        encryption_context: EncryptionContext::default(),
        ..Default::default()
    })
    .unwrap()
    .ciphertext_blob
}

/// Decrypts `blob` with no context and no KeyId; the plaintext.
pub fn decrypt(kms: &Kms, blob: &[u8]) -> Vec<u8> {
    kms.decrypt(DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        ..Default::default()
    })
    .unwrap()
    .plaintext
    .expose_secret()
    .to_vec()
}
