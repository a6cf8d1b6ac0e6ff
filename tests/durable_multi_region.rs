//! Multi-Region keys, durable: each Region's Kms keeps its own key of the
//! multi-Region key in its own file, material sealed like any other; a
//! restart of every Region keeps the relations, the material versions
//! (ciphertexts still cross Regions), the roles after UpdatePrimaryRegion
//! and a primary key waiting for its replicas.
#![cfg(feature = "durable")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod durable;

use std::path::Path;

use durable::{ACCOUNT, decrypt, encrypt, root, temp_dir};
use kms_keystore::{
    AwsPartition, CreateKeyRequest, Kms, KmsConfig, ManualClock, MultiRegionKeyType, Partition,
    ReplicateKeyRequest, ScheduleKeyDeletionRequest, UpdatePrimaryRegionRequest,
};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

/// The partition with each Region's Kms durable in `dir`.
fn open(dir: &Path, clock: &ManualClock) -> (Partition, Vec<Kms>) {
    let partition = Partition::new(AwsPartition::Aws);
    let services = REGIONS
        .iter()
        .map(|region| {
            partition
                .add(
                    KmsConfig::new(ACCOUNT, region)
                        .unwrap()
                        .with_clock(clock.clone())
                        .with_durable_storage(dir.join(format!("{region}.redb")), root()),
                )
                .unwrap()
        })
        .collect();
    (partition, services)
}

fn roles(kms: &Kms, key: &str) -> (MultiRegionKeyType, String, Vec<String>) {
    let c = kms
        .describe_key(key)
        .unwrap()
        .key_metadata
        .multi_region_configuration
        .unwrap();
    (
        c.multi_region_key_type,
        c.primary_key.region,
        c.replica_keys.into_iter().map(|k| k.region).collect(),
    )
}

#[test]
fn a_restart_keeps_the_relations_the_material_and_the_roles() {
    let dir = temp_dir("multi-region");
    let clock = ManualClock::default();
    let (key, blobs) = {
        let (_p, k) = open(&dir, &clock);
        let key = k[0]
            .create_key(CreateKeyRequest {
                multi_region: Some(true),
                ..CreateKeyRequest::default()
            })
            .unwrap()
            .key_metadata
            .key_id
            .to_string();
        let v0 = encrypt(&k[0], &key, b"v0");
        for region in &REGIONS[1..] {
            k[0].replicate_key(ReplicateKeyRequest {
                key_id: key.clone(),
                replica_region: (*region).into(),
                ..ReplicateKeyRequest::default()
            })
            .unwrap();
        }
        k[0].rotate_key_on_demand(&key).unwrap();
        let v1 = encrypt(&k[1], &key, b"v1");
        k[0].update_primary_region(UpdatePrimaryRegionRequest {
            key_id: key.clone(),
            primary_region: "eu-west-1".into(),
        })
        .unwrap();
        (key, vec![v0, v1])
    };
    let (_p, k) = open(&dir, &clock);
    for kms in &k {
        assert_eq!(decrypt(kms, &blobs[0]), b"v0");
        assert_eq!(decrypt(kms, &blobs[1]), b"v1");
        let (_, primary, replicas) = roles(kms, &key);
        assert_eq!(primary, "eu-west-1");
        assert_eq!(replicas, vec!["us-east-1", "ap-southeast-2"]);
    }
    assert_eq!(roles(&k[1], &key).0, MultiRegionKeyType::Primary);
    // The roles still act: the new primary rotates and its replicas follow.
    k[1].rotate_key_on_demand(&key).unwrap();
    let v2 = encrypt(&k[1], &key, b"v2");
    assert_eq!(decrypt(&k[2], &v2), b"v2");
    assert_eq!(
        k[0].rotate_key_on_demand(&key).unwrap_err().code(),
        "UnsupportedOperationException"
    );
}

#[test]
fn a_primary_waiting_for_its_replicas_still_waits_after_a_restart() {
    let dir = temp_dir("multi-region-deletion");
    let clock = ManualClock::default();
    let key = {
        let (_p, k) = open(&dir, &clock);
        let key = k[0]
            .create_key(CreateKeyRequest {
                multi_region: Some(true),
                ..CreateKeyRequest::default()
            })
            .unwrap()
            .key_metadata
            .key_id
            .to_string();
        k[0].replicate_key(ReplicateKeyRequest {
            key_id: key.clone(),
            replica_region: "eu-west-1".into(),
            ..ReplicateKeyRequest::default()
        })
        .unwrap();
        k[0].schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key.clone(),
            pending_window_in_days: Some(7),
        })
        .unwrap();
        key
    };
    let (_p, k) = open(&dir, &clock);
    let m = k[0].describe_key(&key).unwrap().key_metadata;
    assert_eq!(m.key_state, kms_keystore::KeyState::PendingReplicaDeletion);
    assert_eq!(m.pending_deletion_window_in_days, Some(7));
}

#[test]
fn a_restart_keeps_a_multi_region_hmac_keys_secret_in_every_region() {
    use kms_keystore::{GenerateMacRequest, KeySpec, KeyUsage, MacAlgorithmSpec};
    let dir = temp_dir("multi-region-hmac");
    let clock = ManualClock::default();
    let mac = |kms: &Kms, key: &str| {
        kms.generate_mac(GenerateMacRequest {
            key_id: key.into(),
            mac_algorithm: Some(MacAlgorithmSpec::HmacSha256),
            message: b"kept".as_slice().into(),
            ..GenerateMacRequest::default()
        })
        .unwrap()
        .mac
    };
    let (key, before) = {
        let (_p, k) = open(&dir, &clock);
        let key = k[0]
            .create_key(CreateKeyRequest {
                multi_region: Some(true),
                key_spec: Some(KeySpec::Hmac256),
                key_usage: Some(KeyUsage::GenerateVerifyMac),
                ..CreateKeyRequest::default()
            })
            .unwrap()
            .key_metadata
            .key_id
            .to_string();
        k[0].replicate_key(ReplicateKeyRequest {
            key_id: key.clone(),
            replica_region: REGIONS[1].into(),
            ..ReplicateKeyRequest::default()
        })
        .unwrap();
        let before = mac(&k[0], &key);
        assert_eq!(mac(&k[1], &key), before);
        (key, before)
    };
    let (_p, k) = open(&dir, &clock);
    assert_eq!(mac(&k[0], &key), before);
    assert_eq!(mac(&k[1], &key), before, "the replica's secret survived");
    assert_eq!(roles(&k[1], &key).0, MultiRegionKeyType::Replica);
}
