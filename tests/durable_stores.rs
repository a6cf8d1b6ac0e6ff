//! Custom key stores and the modelled CloudHSM clusters survive a restart:
//! settings, connection states (as documented), cluster changes, and the
//! keys whose material lives in a cluster.
#![cfg(feature = "durable")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod durable;

use std::path::Path;
use std::time::Duration;

use durable::{config, decrypt, open, temp_dir};
use kms_keystore::cloudhsm::KMS_USER;
use kms_keystore::{
    ClusterId, ConnectionErrorCode, ConnectionMode, ConnectionStateType,
    CreateCustomKeyStoreRequest, CreateKeyRequest, CustomKeyStoresListEntry,
    DescribeCustomKeyStoresRequest, ErrorCode, KeyState, Kms, ManualClock, OriginType,
    ScheduleKeyDeletionRequest, SecretString, UpdateCustomKeyStoreRequest,
};

const PASSWORD: &str = "kmsPswd";
const AZS: [&str; 2] = ["us-west-2a", "us-west-2b"];

fn cluster(kms: &Kms) -> (ClusterId, String) {
    kms.cloudhsm()
        .provision_ready_cluster(&AZS, PASSWORD)
        .unwrap()
}

fn create_store(kms: &Kms, name: &str, cluster: &ClusterId, trust_anchor: &str) -> String {
    kms.create_custom_key_store(CreateCustomKeyStoreRequest {
        custom_key_store_name: name.into(),
        cloud_hsm_cluster_id: Some(cluster.to_string()),
        trust_anchor_certificate: Some(trust_anchor.into()),
        key_store_password: Some(SecretString::from(PASSWORD)),
        ..Default::default()
    })
    .unwrap()
    .custom_key_store_id
    .to_string()
}

fn stores(kms: &Kms) -> Vec<CustomKeyStoresListEntry> {
    kms.describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
        .unwrap()
        .custom_key_stores
}

fn store(kms: &Kms, id: &str) -> CustomKeyStoresListEntry {
    stores(kms)
        .into_iter()
        .find(|s| s.custom_key_store_id.as_str() == id)
        .unwrap()
}

fn hsm_key(kms: &Kms, store: &str) -> String {
    kms.create_key(CreateKeyRequest {
        origin: Some(OriginType::AwsCloudHsm),
        custom_key_store_id: Some(store.into()),
        ..Default::default()
    })
    .unwrap()
    .key_metadata
    .key_id
    .to_string()
}

fn stepped(path: &Path, clock: &ManualClock) -> Kms {
    Kms::open(
        config(path, clock).with_connection_mode(ConnectionMode::Stepped {
            duration_millis: 1_000,
        }),
    )
    .unwrap()
}

#[test]
fn a_connected_cloudhsm_store_comes_back_connected_and_its_keys_decrypt() {
    let dir = temp_dir("cloudhsm");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (store_id, key, blob, clusters, before) = {
        let kms = open(&path, &clock);
        let (cluster, anchor) = cluster(&kms);
        let store_id = create_store(&kms, "Example", &cluster, &anchor);
        kms.connect_custom_key_store(&store_id).unwrap();
        let key = hsm_key(&kms, &store_id);
        let blob = durable::encrypt(&kms, &key, b"in the cluster");
        let clusters = kms.cloudhsm().describe_clusters(None);
        (store_id, key, blob, clusters, stores(&kms))
    };
    let kms = open(&path, &clock);
    assert_eq!(stores(&kms), before);
    assert_eq!(
        store(&kms, &store_id).connection_state,
        ConnectionStateType::Connected
    );
    assert_eq!(kms.cloudhsm().describe_clusters(None), clusters);
    let cluster = &clusters.clusters[0].cluster_id;
    let arn = kms.describe_key(&key).unwrap().key_metadata.arn;
    assert_eq!(kms.cloudhsm().key_labels(cluster).unwrap(), vec![arn]);
    assert_eq!(
        kms.describe_key(&key).unwrap().key_metadata.key_state,
        KeyState::Enabled
    );
    assert_eq!(decrypt(&kms, &blob), b"in the cluster");
    // The rotated kmsuser password came back on both sides: KMS can
    // disconnect, reconnect and make new keys.
    kms.disconnect_custom_key_store(&store_id).unwrap();
    kms.connect_custom_key_store(&store_id).unwrap();
    assert_eq!(
        store(&kms, &store_id).connection_state,
        ConnectionStateType::Connected
    );
    let again = hsm_key(&kms, &store_id);
    let blob = durable::encrypt(&kms, &again, b"new");
    assert_eq!(decrypt(&kms, &blob), b"new");
}

#[test]
fn disconnected_and_failed_stores_keep_their_state_and_code() {
    let dir = temp_dir("states");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (idle, failed) = {
        let kms = open(&path, &clock);
        let (c1, a1) = cluster(&kms);
        let (c2, a2) = cluster(&kms);
        let idle = create_store(&kms, "Idle", &c1, &a1);
        let failed = create_store(&kms, "Failed", &c2, &a2);
        kms.cloudhsm().lock_out_user(&c2, KMS_USER).unwrap();
        kms.connect_custom_key_store(&failed).unwrap();
        (idle, failed)
    };
    let kms = open(&path, &clock);
    assert_eq!(
        store(&kms, &idle).connection_state,
        ConnectionStateType::Disconnected
    );
    let f = store(&kms, &failed);
    assert_eq!(f.connection_state, ConnectionStateType::Failed);
    assert_eq!(
        f.connection_error_code,
        Some(ConnectionErrorCode::UserLockedOut)
    );
}

#[test]
fn a_connection_change_in_progress_does_not_survive_a_restart() {
    let dir = temp_dir("stepped");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (connecting, disconnecting, cluster_b) = {
        let kms = stepped(&path, &clock);
        let (c1, a1) = cluster(&kms);
        let (c2, a2) = cluster(&kms);
        let connecting = create_store(&kms, "Connecting", &c1, &a1);
        let disconnecting = create_store(&kms, "Disconnecting", &c2, &a2);
        kms.connect_custom_key_store(&disconnecting).unwrap();
        clock.advance(Duration::from_secs(2));
        assert_eq!(
            store(&kms, &disconnecting).connection_state,
            ConnectionStateType::Connected
        );
        kms.connect_custom_key_store(&connecting).unwrap();
        kms.disconnect_custom_key_store(&disconnecting).unwrap();
        assert_eq!(
            store(&kms, &connecting).connection_state,
            ConnectionStateType::Connecting
        );
        assert_eq!(
            store(&kms, &disconnecting).connection_state,
            ConnectionStateType::Disconnecting
        );
        (connecting, disconnecting, c2)
    };
    let kms = stepped(&path, &clock);
    assert_eq!(
        store(&kms, &connecting).connection_state,
        ConnectionStateType::Disconnected
    );
    assert_eq!(
        store(&kms, &disconnecting).connection_state,
        ConnectionStateType::Disconnected
    );
    // Connecting again works for both (the interrupted connect never
    // touched the cluster; the disconnect logged KMS out).
    for id in [&connecting, &disconnecting] {
        kms.connect_custom_key_store(id).unwrap();
    }
    clock.advance(Duration::from_secs(2));
    for id in [&connecting, &disconnecting] {
        assert_eq!(
            store(&kms, id).connection_state,
            ConnectionStateType::Connected
        );
    }
    let _ = cluster_b;
}

#[test]
fn a_stepped_connect_that_finishes_after_the_call_is_durable_too() {
    let dir = temp_dir("stepped-finish");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let id = {
        let kms = stepped(&path, &clock);
        let (c, a) = cluster(&kms);
        let id = create_store(&kms, "S", &c, &a);
        kms.connect_custom_key_store(&id).unwrap();
        clock.advance(Duration::from_secs(2));
        // Observed (and committed) by this call.
        assert_eq!(
            store(&kms, &id).connection_state,
            ConnectionStateType::Connected
        );
        id
    };
    let kms = stepped(&path, &clock);
    assert_eq!(
        store(&kms, &id).connection_state,
        ConnectionStateType::Connected
    );
    hsm_key(&kms, &id);
}

#[test]
fn store_updates_and_deletions_survive_a_restart() {
    let dir = temp_dir("update");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (kept, deleted) = {
        let kms = open(&path, &clock);
        let (c1, a1) = cluster(&kms);
        let (c2, a2) = cluster(&kms);
        let kept = create_store(&kms, "Before", &c1, &a1);
        let deleted = create_store(&kms, "Deleted", &c2, &a2);
        kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            custom_key_store_id: kept.clone(),
            new_custom_key_store_name: Some("After".into()),
            ..Default::default()
        })
        .unwrap();
        kms.cloudhsm()
            .change_password(&c1, KMS_USER, "newPswd9")
            .unwrap();
        kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            custom_key_store_id: kept.clone(),
            key_store_password: Some(SecretString::from("newPswd9")),
            ..Default::default()
        })
        .unwrap();
        kms.delete_custom_key_store(&deleted).unwrap();
        (kept, deleted)
    };
    let kms = open(&path, &clock);
    let all = stores(&kms);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].custom_key_store_name, "After");
    assert!(
        all.iter()
            .all(|s| s.custom_key_store_id.as_str() != deleted)
    );
    // The new password was kept: connecting succeeds.
    kms.connect_custom_key_store(&kept).unwrap();
    assert_eq!(
        store(&kms, &kept).connection_state,
        ConnectionStateType::Connected
    );
}

#[test]
fn cluster_changes_survive_a_restart() {
    let dir = temp_dir("clusters");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let before = {
        let kms = open(&path, &clock);
        let hsm = kms.cloudhsm();
        let (a, _) = cluster(&kms);
        let (b, _) = cluster(&kms);
        let (gone, _) = cluster(&kms);
        let restored = hsm
            .create_cluster_from_backup(
                &a,
                &[("subnet-r1", "us-west-2a"), ("subnet-r2", "us-west-2b")],
            )
            .unwrap();
        hsm.create_hsm(&restored, "us-west-2a").unwrap();
        hsm.break_security_group(&a).unwrap();
        let first = hsm
            .describe_clusters(Some(std::slice::from_ref(&b)))
            .clusters[0]
            .hsms[0]
            .hsm_id
            .clone();
        hsm.delete_hsm(&b, &first).unwrap();
        hsm.lock_out_user(&b, KMS_USER).unwrap();
        hsm.set_network_reachable(&b, false).unwrap();
        hsm.delete_cluster(&gone).unwrap();
        hsm.describe_clusters(None)
    };
    let kms = open(&path, &clock);
    assert_eq!(kms.cloudhsm().describe_clusters(None), before);
    assert_eq!(before.clusters.len(), 3);
}

#[test]
fn a_connect_whose_write_fails_changes_neither_the_store_nor_the_cluster() {
    let dir = temp_dir("connect-failure");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let kms = open(&path, &clock);
    let (c, a) = cluster(&kms);
    let id = create_store(&kms, "S", &c, &a);
    kms.set_storage_failure(true);
    let err = kms.connect_custom_key_store(&id).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::KmsInternal);
    assert_eq!(
        store(&kms, &id).connection_state,
        ConnectionStateType::Disconnected
    );
    kms.set_storage_failure(false);
    // The cluster's kmsuser password was not rotated: the store's one still
    // logs in.
    kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(
        store(&kms, &id).connection_state,
        ConnectionStateType::Connected
    );
    kms.set_storage_failure(true);
    let labels = kms.cloudhsm().key_labels(&c).unwrap();
    let err = kms
        .create_key(CreateKeyRequest {
            origin: Some(OriginType::AwsCloudHsm),
            custom_key_store_id: Some(id.clone()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::KmsInternal);
    // No key object was left behind in the cluster.
    assert_eq!(kms.cloudhsm().key_labels(&c).unwrap(), labels);
    assert_eq!(
        kms.cloudhsm().break_security_group(&c).unwrap_err().kind(),
        ErrorCode::KmsInternal
    );
    kms.set_storage_failure(false);
    drop(kms);
    let kms = open(&path, &clock);
    assert_eq!(
        store(&kms, &id).connection_state,
        ConnectionStateType::Connected
    );
    assert!(kms.cloudhsm().key_labels(&c).unwrap().is_empty());
    hsm_key(&kms, &id);
}

#[test]
fn deleting_a_cloudhsm_key_deletes_its_material_durably() {
    let dir = temp_dir("hsm-delete");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let cluster_id = {
        let kms = open(&path, &clock);
        let (c, a) = cluster(&kms);
        let id = create_store(&kms, "S", &c, &a);
        kms.connect_custom_key_store(&id).unwrap();
        let key = hsm_key(&kms, &id);
        kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key,
            pending_window_in_days: Some(7),
        })
        .unwrap();
        clock.advance(Duration::from_secs(8 * 86_400));
        kms.list_keys(Default::default()).unwrap();
        assert!(kms.cloudhsm().key_labels(&c).unwrap().is_empty());
        c
    };
    let kms = open(&path, &clock);
    assert!(kms.cloudhsm().key_labels(&cluster_id).unwrap().is_empty());
    assert!(kms.list_keys(Default::default()).unwrap().keys.is_empty());
}
