//! Shared setup for the CloudHSM key store tests: a seeded `Kms` on a
//! `ManualClock` with one cluster that meets every requirement.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers shared by test crates (each uses a part); they fail loudly like tests"
)]

use std::time::Duration;

use kms_keystore::cloudhsm::KMS_USER;
use kms_keystore::{
    ClusterId, ConnectionErrorCode, ConnectionStateType, CreateCustomKeyStoreRequest,
    CreateKeyRequest, CustomKeyStoreType, CustomKeyStoresListEntry, DecryptRequest,
    DescribeCustomKeyStoresRequest, EncryptRequest, ErrorCode, HsmId, KeyMetadata, KeyState, Kms,
    KmsConfig, ListKeysRequest, ManualClock, OriginType, Plaintext, ScheduleKeyDeletionRequest,
    SecretString, UpdateCustomKeyStoreRequest,
};

/// The `kmsuser` password of the documentation's example.
pub const PASSWORD: &str = "kmsPswd";
/// Two Availability Zones.
pub const AZS: [&str; 2] = ["us-west-2a", "us-west-2b"];

/// A Kms, its clock and a ready cluster.
pub struct Env {
    pub kms: Kms,
    pub clock: ManualClock,
    pub cluster: ClusterId,
    pub trust_anchor: String,
}

/// The default environment: seed 42, immediate connections, AWS's quotas.
pub fn env() -> Env {
    env_with(|c| c)
}

/// An environment whose configuration `f` adjusts.
pub fn env_with(f: impl FnOnce(KmsConfig) -> KmsConfig) -> Env {
    let clock = ManualClock::default();
    let kms = Kms::new(f(KmsConfig::default()
        .with_clock(clock.clone())
        .with_seed(42)));
    let (cluster, trust_anchor) = kms
        .cloudhsm()
        .provision_ready_cluster(&AZS, PASSWORD)
        .unwrap();
    Env {
        kms,
        clock,
        cluster,
        trust_anchor,
    }
}

/// Asserts `r` failed with `code`.
#[track_caller]
pub fn assert_err<T: std::fmt::Debug>(r: kms_keystore::Result<T>, code: ErrorCode) {
    match r {
        Ok(v) => panic!("expected {code}, got Ok({v:?})"),
        Err(e) => assert_eq!(e.kind(), code, "{e}"),
    }
}

impl Env {
    /// A CreateCustomKeyStore request for the env's cluster.
    pub fn store_request(&self, name: &str) -> CreateCustomKeyStoreRequest {
        request_for(name, &self.cluster, &self.trust_anchor, PASSWORD)
    }

    /// Creates a store for the env's cluster (DISCONNECTED).
    pub fn create_store(&self) -> String {
        self.kms
            .create_custom_key_store(self.store_request("ExampleKeyStore"))
            .unwrap()
            .custom_key_store_id
            .to_string()
    }

    /// Creates and connects a store for the env's cluster.
    pub fn connected_store(&self) -> String {
        let id = self.create_store();
        self.kms.connect_custom_key_store(&id).unwrap();
        assert_eq!(self.state(&id), ConnectionStateType::Connected);
        id
    }

    /// Another ready cluster, unrelated to the env's.
    pub fn other_cluster(&self) -> (ClusterId, String) {
        self.kms
            .cloudhsm()
            .provision_ready_cluster(&AZS, PASSWORD)
            .unwrap()
    }

    /// A cluster restored from `source`'s backup, with an HSM in each AZ.
    pub fn restored_cluster(&self, source: &ClusterId) -> ClusterId {
        let hsm = self.kms.cloudhsm();
        let id = hsm
            .create_cluster_from_backup(
                source,
                &[("subnet-r1", "us-west-2a"), ("subnet-r2", "us-west-2b")],
            )
            .unwrap();
        for az in AZS {
            hsm.create_hsm(&id, az).unwrap();
        }
        id
    }

    /// DescribeCustomKeyStores for one store.
    pub fn describe(&self, id: &str) -> CustomKeyStoresListEntry {
        let mut out = self
            .kms
            .describe_custom_key_stores(DescribeCustomKeyStoresRequest {
                custom_key_store_id: Some(id.to_owned()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(out.custom_key_stores.len(), 1);
        out.custom_key_stores.remove(0)
    }

    /// The store's ConnectionState.
    pub fn state(&self, id: &str) -> ConnectionStateType {
        self.describe(id).connection_state
    }

    /// The store's ConnectionErrorCode.
    pub fn error_code(&self, id: &str) -> Option<ConnectionErrorCode> {
        self.describe(id).connection_error_code
    }

    /// Connects `id` and asserts it ends FAILED with `code`.
    #[track_caller]
    pub fn assert_connect_fails_with(&self, id: &str, code: ConnectionErrorCode) {
        self.kms.connect_custom_key_store(id).unwrap();
        let entry = self.describe(id);
        assert_eq!(entry.connection_state, ConnectionStateType::Failed);
        assert_eq!(entry.connection_error_code, Some(code));
    }

    /// Updates the store's `kmsuser` password.
    pub fn update_password(&self, id: &str, password: &str) -> kms_keystore::Result<()> {
        self.kms
            .update_custom_key_store(UpdateCustomKeyStoreRequest {
                custom_key_store_id: id.to_owned(),
                key_store_password: Some(SecretString::from(password)),
                ..Default::default()
            })
    }

    /// Updates the store's cluster.
    pub fn update_cluster(&self, id: &str, cluster: &str) -> kms_keystore::Result<()> {
        self.kms
            .update_custom_key_store(UpdateCustomKeyStoreRequest {
                custom_key_store_id: id.to_owned(),
                cloud_hsm_cluster_id: Some(cluster.to_owned()),
                ..Default::default()
            })
    }

    /// CreateKey in CloudHSM store `store`.
    pub fn create_key(&self, store: &str) -> kms_keystore::Result<KeyMetadata> {
        self.kms
            .create_key(CreateKeyRequest {
                origin: Some(OriginType::AwsCloudHsm),
                custom_key_store_id: Some(store.to_owned()),
                description: Some("Example key".into()),
                ..Default::default()
            })
            .map(|r| r.key_metadata)
    }

    /// A standard AWS_KMS key.
    pub fn create_kms_key(&self) -> String {
        self.kms
            .create_key(CreateKeyRequest::default())
            .unwrap()
            .key_metadata
            .key_id
            .to_string()
    }

    /// Encrypts a fixed plaintext under `key`.
    pub fn encrypt(&self, key: &str) -> kms_keystore::Result<Vec<u8>> {
        self.kms
            .encrypt(EncryptRequest {
                key_id: key.to_owned(),
                plaintext: "secret data".into(),
                ..Default::default()
            })
            .map(|r| r.ciphertext_blob)
    }

    /// Decrypts `blob`.
    pub fn decrypt(&self, blob: &[u8]) -> kms_keystore::Result<Plaintext> {
        self.kms
            .decrypt(DecryptRequest {
                ciphertext_blob: blob.to_vec(),
                ..Default::default()
            })
            .map(|r| r.plaintext)
    }

    /// The key's KeyState as DescribeKey shows it.
    pub fn key_state(&self, key: &str) -> KeyState {
        self.kms.describe_key(key).unwrap().key_metadata.key_state
    }

    /// The HSMs of `cluster`, in order.
    pub fn hsms(&self, cluster: &ClusterId) -> Vec<HsmId> {
        let out = self
            .kms
            .cloudhsm()
            .describe_clusters(Some(std::slice::from_ref(cluster)));
        out.clusters[0]
            .hsms
            .iter()
            .map(|h| h.hsm_id.clone())
            .collect()
    }

    /// The subnets of `cluster`, in order.
    pub fn subnets(&self, cluster: &ClusterId) -> Vec<String> {
        let out = self
            .kms
            .cloudhsm()
            .describe_clusters(Some(std::slice::from_ref(cluster)));
        out.clusters[0].subnet_mapping.keys().cloned().collect()
    }

    /// The labels of the key objects in `cluster`.
    pub fn labels(&self, cluster: &ClusterId) -> Vec<String> {
        self.kms.cloudhsm().key_labels(cluster).unwrap()
    }

    /// A connected store with one key: (store id, key id).
    pub fn store_and_key(&self) -> (String, String) {
        let store = self.connected_store();
        let key = self.create_key(&store).unwrap().key_id.to_string();
        (store, key)
    }

    /// Schedules `key`'s deletion in `days`.
    pub fn schedule(&self, key: &str, days: u32) {
        self.kms
            .schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: key.to_owned(),
                pending_window_in_days: Some(days),
            })
            .unwrap();
    }

    /// How many keys ListKeys lists.
    pub fn key_count(&self) -> usize {
        self.kms
            .list_keys(ListKeysRequest::default())
            .unwrap()
            .keys
            .len()
    }

    /// How many custom key stores DescribeCustomKeyStores lists.
    pub fn store_count(&self) -> usize {
        self.kms
            .describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
            .unwrap()
            .custom_key_stores
            .len()
    }

    /// Advances the clock.
    pub fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }
}

/// A CreateCustomKeyStore request of type AWS_CLOUDHSM.
pub fn request_for(
    name: &str,
    cluster: &ClusterId,
    trust_anchor: &str,
    password: &str,
) -> CreateCustomKeyStoreRequest {
    CreateCustomKeyStoreRequest {
        custom_key_store_name: name.to_owned(),
        custom_key_store_type: Some(CustomKeyStoreType::AwsCloudhsm),
        cloud_hsm_cluster_id: Some(cluster.to_string()),
        trust_anchor_certificate: Some(trust_anchor.to_owned()),
        key_store_password: Some(SecretString::from(password)),
        ..Default::default()
    }
}

/// The name KMS logs in as.
pub const KMSUSER: &str = KMS_USER;
