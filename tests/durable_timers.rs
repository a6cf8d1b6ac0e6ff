//! Due work and the disk (the rule in `src/kms/timers.rs`): the work that
//! has come due — a key deletion, the end of a stepped-mode connection
//! change — runs at the start of every call, cryptographic calls included,
//! so a durable service behaves as one in memory. A due change whose commit
//! fails stays due and is retried by the next call; the call proceeds on the
//! last committed state, except that a key past its deletion date is gone
//! for every call whose time is past it.
#![cfg(feature = "durable")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod durable;

use std::time::Duration;

use durable::{config, decrypt, encrypt, new_key, open, temp_dir};
use kms_keystore::{
    ConnectionMode, ConnectionStateType, CreateCustomKeyStoreRequest, CreateKeyRequest,
    DecryptRequest, DescribeCustomKeyStoresRequest, EncryptRequest, ErrorCode, Kms, KmsConfig,
    ListKeysRequest, ManualClock, OriginType, ScheduleKeyDeletionRequest, SecretString,
};

const PASSWORD: &str = "kmsPswd";
const STEP: Duration = Duration::from_millis(1_000);

fn store_state(kms: &Kms) -> ConnectionStateType {
    kms.describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
        .unwrap()
        .custom_key_stores[0]
        .connection_state
}

fn try_encrypt(kms: &Kms, key: &str) -> kms_keystore::Result<Vec<u8>> {
    kms.encrypt(EncryptRequest {
        key_id: key.into(),
        plaintext: "secret".into(),
        ..Default::default()
    })
    .map(|r| r.ciphertext_blob)
}

/// A CloudHSM store with one key, CONNECTED, then reconnecting in stepped
/// mode: CONNECTING, due at the clock's time when this returns. The key.
fn reconnecting_store_with_a_key(kms: &Kms, clock: &ManualClock) -> String {
    let (cluster, anchor) = kms
        .cloudhsm()
        .provision_ready_cluster(&["us-west-2a", "us-west-2b"], PASSWORD)
        .unwrap();
    let store = kms
        .create_custom_key_store(CreateCustomKeyStoreRequest {
            custom_key_store_name: "S".into(),
            cloud_hsm_cluster_id: Some(cluster.to_string()),
            trust_anchor_certificate: Some(anchor),
            key_store_password: Some(SecretString::from(PASSWORD)),
            ..Default::default()
        })
        .unwrap()
        .custom_key_store_id
        .to_string();
    kms.connect_custom_key_store(&store).unwrap();
    clock.advance(STEP);
    let key = kms
        .create_key(CreateKeyRequest {
            origin: Some(OriginType::AwsCloudHsm),
            custom_key_store_id: Some(store.clone()),
            ..Default::default()
        })
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    kms.disconnect_custom_key_store(&store).unwrap();
    clock.advance(STEP);
    kms.connect_custom_key_store(&store).unwrap();
    assert_eq!(store_state(kms), ConnectionStateType::Connecting);
    clock.advance(STEP);
    key
}

#[test]
fn encrypt_finishes_a_due_reconnect_itself_in_memory_and_durable_alike() {
    let stepped = ConnectionMode::Stepped {
        duration_millis: STEP.as_millis() as u64,
    };
    // In memory.
    let clock = ManualClock::default();
    let kms = Kms::new(
        KmsConfig::default()
            .with_clock(clock.clone())
            .with_connection_mode(stepped),
    );
    let key = reconnecting_store_with_a_key(&kms, &clock);
    assert!(try_encrypt(&kms, &key).is_ok());
    // Durable: the same, and the Encrypt committed the reconnect.
    let dir = temp_dir("timers-encrypt");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let durable_config = config(&path, &clock).with_connection_mode(stepped);
    let kms = Kms::open(durable_config.clone()).unwrap();
    let key = reconnecting_store_with_a_key(&kms, &clock);
    let blob = try_encrypt(&kms, &key).unwrap();
    kms.set_storage_failure(true);
    assert_eq!(store_state(&kms), ConnectionStateType::Connected);
    kms.set_storage_failure(false);
    drop(kms);
    let kms = Kms::open(durable_config).unwrap();
    assert_eq!(store_state(&kms), ConnectionStateType::Connected);
    assert_eq!(decrypt(&kms, &blob), b"secret");
}

#[test]
fn a_due_reconnect_whose_commit_fails_stays_due_and_encrypt_sees_the_last_committed_state() {
    let dir = temp_dir("timers-failing-reconnect");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let durable_config = config(&path, &clock).with_connection_mode(ConnectionMode::Stepped {
        duration_millis: STEP.as_millis() as u64,
    });
    let kms = Kms::open(durable_config.clone()).unwrap();
    let key = reconnecting_store_with_a_key(&kms, &clock);
    kms.set_storage_failure(true);
    // The reconnect is due but cannot be committed: the store is still
    // CONNECTING for this call and the next ones, and its key unusable.
    let err = try_encrypt(&kms, &key).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::KmsInvalidState);
    assert_eq!(store_state(&kms), ConnectionStateType::Connecting);
    let err = try_encrypt(&kms, &key).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::KmsInvalidState);
    // The disk heals: the next call, a cryptographic one, finishes it.
    kms.set_storage_failure(false);
    let blob = try_encrypt(&kms, &key).unwrap();
    assert_eq!(decrypt(&kms, &blob), b"secret");
    drop(kms);
    let kms = Kms::open(durable_config).unwrap();
    assert_eq!(store_state(&kms), ConnectionStateType::Connected);
}

#[test]
fn a_key_past_its_date_is_gone_for_every_call_while_its_deletion_cannot_be_committed() {
    let dir = temp_dir("timers-failing-delete");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let kms = open(&path, &clock);
    let doomed = new_key(&kms);
    let other = new_key(&kms);
    let blob = encrypt(&kms, &doomed, b"doomed");
    let arn = kms.describe_key(&doomed).unwrap().key_metadata.arn;
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: doomed.clone(),
        pending_window_in_days: Some(7),
    })
    .unwrap();
    clock.advance(Duration::from_secs(7 * 86_400));
    kms.set_storage_failure(true);
    assert_eq!(
        kms.describe_key(&doomed).unwrap_err().kind(),
        ErrorCode::NotFound
    );
    assert_eq!(
        kms.cancel_key_deletion(&doomed).unwrap_err().kind(),
        ErrorCode::NotFound
    );
    // Encrypt finds the key in this thread's key cache (the Encrypt
    // above put it there): the cache's answer names the key as AWS does.
    let err = try_encrypt(&kms, &doomed).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::NotFound);
    assert_eq!(err.message(), format!("Key '{arn}' does not exist"));
    let err = kms
        .decrypt(DecryptRequest {
            ciphertext_blob: blob.clone(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::InvalidCiphertext);
    // Listing shows the last committed state: the deletion is still due.
    assert_eq!(
        kms.list_keys(ListKeysRequest::default())
            .unwrap()
            .keys
            .len(),
        2
    );
    // The disk heals; the next call — Encrypt under another key — commits
    // the deletion (checked with the disk failing again: nothing more can
    // be committed after it).
    kms.set_storage_failure(false);
    encrypt(&kms, &other, b"other");
    kms.set_storage_failure(true);
    assert_eq!(
        kms.list_keys(ListKeysRequest::default())
            .unwrap()
            .keys
            .len(),
        1
    );
    kms.set_storage_failure(false);
    drop(kms);
    let kms = open(&path, &clock);
    let keys = kms.list_keys(ListKeysRequest::default()).unwrap().keys;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].key_id.to_string(), other);
}
