//! Multi-Region keys across the Regions of one partition: CreateKey with
//! `MultiRegion`, ReplicateKey and its refusals, DescribeKey's
//! `MultiRegionConfiguration`, ciphertexts that cross Regions, shared
//! rotation, UpdatePrimaryRegion, deletion of a primary key with replicas,
//! and the multi-Region condition keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use kms_keystore::{
    AwsPartition, CreateKeyRequest, DecryptRequest, EnableKeyRotationRequest, EncryptRequest,
    ErrorCode, GenerateMacRequest, KeySpec, KeyUsage, Kms, KmsConfig, MacAlgorithmSpec,
    ManualClock, MultiRegionKeyType, OriginType, Partition, ReplicateKeyRequest,
    ScheduleKeyDeletionRequest, Tag, UpdatePrimaryRegionRequest, VerifyMacRequest,
};

const ACCOUNT: &str = "111122223333";
const DAY: Duration = Duration::from_secs(86_400);

/// Three Regions of one account in the `aws` partition, on one clock.
struct World {
    partition: Partition,
    clock: ManualClock,
    east: Kms,
    west: Kms,
    sydney: Kms,
}

fn world() -> World {
    let clock = ManualClock::default();
    let partition = Partition::with_seed(AwsPartition::Aws, 3);
    let add = |region: &str, seed: u64| {
        partition
            .add(
                KmsConfig::new(ACCOUNT, region)
                    .unwrap()
                    .with_clock(clock.clone())
                    .with_seed(seed),
            )
            .unwrap()
    };
    let east = add("us-east-1", 1);
    let west = add("eu-west-1", 2);
    let sydney = add("ap-southeast-2", 3);
    World {
        partition,
        clock,
        east,
        west,
        sydney,
    }
}

fn primary(kms: &Kms) -> String {
    kms.create_key(CreateKeyRequest {
        multi_region: Some(true),
        description: Some("primary".into()),
        ..CreateKeyRequest::default()
    })
    .unwrap()
    .key_metadata
    .key_id
    .to_string()
}

fn replicate(
    kms: &Kms,
    key: &str,
    region: &str,
) -> kms_keystore::Result<kms_keystore::ReplicateKeyResponse> {
    kms.replicate_key(ReplicateKeyRequest {
        key_id: key.into(),
        replica_region: region.into(),
        ..ReplicateKeyRequest::default()
    })
}

fn encrypt(kms: &Kms, key: &str, plaintext: &str) -> Vec<u8> {
    kms.encrypt(EncryptRequest {
        key_id: key.into(),
        plaintext: plaintext.into(),
        ..EncryptRequest::default()
    })
    .unwrap()
    .ciphertext_blob
}

fn decrypt(kms: &Kms, blob: &[u8]) -> kms_keystore::Result<Vec<u8>> {
    kms.decrypt(DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        ..DecryptRequest::default()
    })
    .map(|r| r.plaintext.expose_secret().to_vec())
}

fn regions_of(kms: &Kms, key: &str) -> (MultiRegionKeyType, String, Vec<String>) {
    let m = kms.describe_key(key).unwrap().key_metadata;
    assert!(m.multi_region);
    let c = m.multi_region_configuration.unwrap();
    (
        c.multi_region_key_type,
        c.primary_key.region,
        c.replica_keys.into_iter().map(|k| k.region).collect(),
    )
}

#[test]
fn create_key_with_multi_region_makes_a_primary_key_with_an_mrk_id() {
    let w = world();
    let m = w
        .east
        .create_key(CreateKeyRequest {
            multi_region: Some(true),
            ..CreateKeyRequest::default()
        })
        .unwrap()
        .key_metadata;
    assert!(m.key_id.is_multi_region());
    assert!(m.key_id.to_string().starts_with("mrk-"), "{}", m.key_id);
    assert_eq!(
        m.arn,
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{}", m.key_id)
    );
    let c = m.multi_region_configuration.unwrap();
    assert_eq!(c.multi_region_key_type, MultiRegionKeyType::Primary);
    assert_eq!(c.primary_key.arn, m.arn);
    assert!(c.replica_keys.is_empty());
    // A single-Region key has neither.
    let single = w
        .east
        .create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata;
    assert!(!single.multi_region && single.multi_region_configuration.is_none());
    assert!(!single.key_id.is_multi_region());
}

#[test]
fn multi_region_keys_are_refused_in_custom_key_stores() {
    let w = world();
    for origin in [OriginType::AwsCloudHsm, OriginType::ExternalKeyStore] {
        let err = w
            .east
            .create_key(CreateKeyRequest {
                multi_region: Some(true),
                origin: Some(origin),
                custom_key_store_id: Some("cks-1234567890abcdef0".into()),
                ..CreateKeyRequest::default()
            })
            .unwrap_err();
        assert_eq!(err.kind(), ErrorCode::UnsupportedOperation, "{err}");
        assert!(err.message().contains("custom key store"), "{err}");
    }
}

#[test]
fn replicate_key_makes_an_enabled_replica_with_its_own_policy_tags_and_description() {
    let w = world();
    let key = primary(&w.east);
    let out = w
        .east
        .replicate_key(ReplicateKeyRequest {
            key_id: key.clone(),
            replica_region: "eu-west-1".into(),
            description: Some("replica".into()),
            tags: vec![Tag::new("site", "dublin")],
            ..ReplicateKeyRequest::default()
        })
        .unwrap();
    let r = &out.replica_key_metadata;
    assert_eq!(r.key_id.to_string(), key);
    assert_eq!(r.arn, format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{key}"));
    assert_eq!(r.key_state, kms_keystore::KeyState::Enabled);
    assert_eq!(r.description, "replica");
    assert_eq!(out.replica_tags, vec![Tag::new("site", "dublin")]);
    assert_eq!(
        out.replica_policy,
        kms_keystore::default_key_policy(&ACCOUNT.parse().unwrap())
    );
    // The replica lives in the replica Region's Kms, with its own details.
    let seen = w.west.describe_key(&key).unwrap().key_metadata;
    assert_eq!(seen.description, "replica");
    assert_eq!(
        w.east.describe_key(&key).unwrap().key_metadata.description,
        "primary"
    );
    assert_eq!(
        regions_of(&w.east, &key),
        (
            MultiRegionKeyType::Primary,
            "us-east-1".into(),
            vec!["eu-west-1".into()]
        )
    );
    assert_eq!(
        regions_of(&w.west, &key),
        (
            MultiRegionKeyType::Replica,
            "us-east-1".into(),
            vec!["eu-west-1".into()]
        )
    );
    // A second replica: every related key lists both.
    replicate(&w.east, &key, "ap-southeast-2").unwrap();
    for kms in [&w.east, &w.west, &w.sydney] {
        assert_eq!(
            regions_of(kms, &key).2,
            vec!["eu-west-1".to_owned(), "ap-southeast-2".to_owned()]
        );
    }
    // The key is by id and by ARN in each Region.
    let arn = format!("arn:aws:kms:ap-southeast-2:{ACCOUNT}:key/{key}");
    assert_eq!(w.sydney.describe_key(&arn).unwrap().key_metadata.arn, arn);
}

#[test]
fn a_ciphertext_made_in_one_region_decrypts_with_the_related_key_in_another() {
    let w = world();
    let key = primary(&w.east);
    replicate(&w.east, &key, "eu-west-1").unwrap();
    let from_east = encrypt(&w.east, &key, "east");
    let from_west = encrypt(&w.west, &key, "west");
    assert_eq!(decrypt(&w.west, &from_east).unwrap(), b"east");
    assert_eq!(decrypt(&w.east, &from_west).unwrap(), b"west");
    // A Region with no related key cannot.
    assert_eq!(
        decrypt(&w.sydney, &from_east).unwrap_err().kind(),
        ErrorCode::InvalidCiphertext
    );
    // Neither can a single-Region key's ciphertext cross.
    let single = w
        .east
        .create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    let blob = encrypt(&w.east, &single, "x");
    assert!(decrypt(&w.west, &blob).is_err());
}

#[test]
fn replicate_key_refuses_what_aws_refuses() {
    let w = world();
    let key = primary(&w.east);
    let code = |r: kms_keystore::Result<kms_keystore::ReplicateKeyResponse>| r.unwrap_err().kind();
    // The request's shape.
    for bad in ["", "eu", "EU-west-1", "eu-west-x"] {
        assert_eq!(
            code(replicate(&w.east, &key, bad)),
            ErrorCode::Validation,
            "{bad}"
        );
    }
    // A single-Region key.
    let single = w
        .east
        .create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    assert_eq!(
        code(replicate(&w.east, &single, "eu-west-1")),
        ErrorCode::UnsupportedOperation
    );
    // A Region the partition does not hold.
    let err = replicate(&w.east, &key, "sa-east-1").unwrap_err();
    assert_eq!(err.kind(), ErrorCode::UnsupportedOperation, "{err}");
    assert!(err.message().contains("sa-east-1"), "{err}");
    // Its own Region, and a Region that already has a replica.
    assert_eq!(
        code(replicate(&w.east, &key, "us-east-1")),
        ErrorCode::AlreadyExists
    );
    replicate(&w.east, &key, "eu-west-1").unwrap();
    assert_eq!(
        code(replicate(&w.east, &key, "eu-west-1")),
        ErrorCode::AlreadyExists
    );
    // Only the primary key replicates.
    assert_eq!(
        code(replicate(&w.west, &key, "ap-southeast-2")),
        ErrorCode::UnsupportedOperation
    );
    // The primary's key state.
    w.east.disable_key(&key).unwrap();
    assert_eq!(
        code(replicate(&w.east, &key, "ap-southeast-2")),
        ErrorCode::Disabled
    );
    // A refused call made no key.
    assert_eq!(
        w.sydney.describe_key(&key).unwrap_err().kind(),
        ErrorCode::NotFound
    );
    // An unknown mrk id is not found.
    let unknown = "mrk-0123456789abcdef0123456789abcdef";
    assert_eq!(
        code(replicate(&w.east, unknown, "eu-west-1")),
        ErrorCode::NotFound
    );
}

#[test]
fn rotating_the_primary_key_rotates_every_replica() {
    let w = world();
    let key = primary(&w.east);
    replicate(&w.east, &key, "eu-west-1").unwrap();
    let before = encrypt(&w.east, &key, "v0");
    w.east.rotate_key_on_demand(&key).unwrap();
    let material = |kms: &Kms| {
        kms.describe_key(&key)
            .unwrap()
            .key_metadata
            .current_key_material_id
            .unwrap()
    };
    assert_eq!(material(&w.east), material(&w.west));
    let after = encrypt(&w.east, &key, "v1");
    assert_eq!(decrypt(&w.west, &after).unwrap(), b"v1");
    assert_eq!(decrypt(&w.west, &before).unwrap(), b"v0");
    let from_west = encrypt(&w.west, &key, "w1");
    assert_eq!(decrypt(&w.east, &from_west).unwrap(), b"w1");

    // Rotation is set on the primary only.
    let err = w
        .west
        .enable_key_rotation(EnableKeyRotationRequest {
            key_id: key.clone(),
            rotation_period_in_days: None,
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::UnsupportedOperation, "{err}");
    assert_eq!(
        w.west.rotate_key_on_demand(&key).unwrap_err().kind(),
        ErrorCode::UnsupportedOperation
    );
    assert_eq!(
        w.west.disable_key_rotation(&key).unwrap_err().kind(),
        ErrorCode::UnsupportedOperation
    );

    // Automatic rotation on the primary's schedule reaches the replica,
    // whose status shows the primary's schedule.
    w.east
        .enable_key_rotation(EnableKeyRotationRequest {
            key_id: key.clone(),
            rotation_period_in_days: Some(90),
        })
        .unwrap();
    let status = w.west.get_key_rotation_status(&key).unwrap();
    assert!(status.key_rotation_enabled);
    assert_eq!(status.rotation_period_in_days, Some(90));
    let on_demand = material(&w.west);
    w.clock.advance(DAY * 91);
    w.east.describe_key(&key).unwrap(); // runs the due rotation
    assert_ne!(material(&w.east), on_demand);
    assert_eq!(material(&w.west), material(&w.east));
    let rotated = encrypt(&w.east, &key, "v2");
    assert_eq!(decrypt(&w.west, &rotated).unwrap(), b"v2");
}

#[test]
fn a_replica_made_after_rotations_has_every_version() {
    let w = world();
    let key = primary(&w.east);
    let v0 = encrypt(&w.east, &key, "v0");
    w.east.rotate_key_on_demand(&key).unwrap();
    w.east.rotate_key_on_demand(&key).unwrap();
    let v2 = encrypt(&w.east, &key, "v2");
    replicate(&w.east, &key, "eu-west-1").unwrap();
    assert_eq!(decrypt(&w.west, &v0).unwrap(), b"v0");
    assert_eq!(decrypt(&w.west, &v2).unwrap(), b"v2");
}

#[test]
fn update_primary_region_swaps_the_roles_and_moves_the_rotation_schedule() {
    let w = world();
    let key = primary(&w.east);
    replicate(&w.east, &key, "eu-west-1").unwrap();
    replicate(&w.east, &key, "ap-southeast-2").unwrap();
    w.east
        .enable_key_rotation(EnableKeyRotationRequest {
            key_id: key.clone(),
            rotation_period_in_days: Some(180),
        })
        .unwrap();
    w.east
        .update_primary_region(UpdatePrimaryRegionRequest {
            key_id: key.clone(),
            primary_region: "eu-west-1".into(),
        })
        .unwrap();
    for kms in [&w.east, &w.west, &w.sydney] {
        let (_, primary, replicas) = regions_of(kms, &key);
        assert_eq!(primary, "eu-west-1");
        assert_eq!(
            replicas,
            vec!["us-east-1".to_owned(), "ap-southeast-2".to_owned()]
        );
    }
    assert_eq!(regions_of(&w.west, &key).0, MultiRegionKeyType::Primary);
    assert_eq!(regions_of(&w.east, &key).0, MultiRegionKeyType::Replica);
    // The new primary rotates; the old one cannot.
    assert_eq!(
        w.west
            .get_key_rotation_status(&key)
            .unwrap()
            .rotation_period_in_days,
        Some(180)
    );
    w.west.rotate_key_on_demand(&key).unwrap();
    assert_eq!(
        w.east.rotate_key_on_demand(&key).unwrap_err().kind(),
        ErrorCode::UnsupportedOperation
    );
    let blob = encrypt(&w.west, &key, "after");
    assert_eq!(decrypt(&w.east, &blob).unwrap(), b"after");
    assert_eq!(decrypt(&w.sydney, &blob).unwrap(), b"after");
    // Only the new primary replicates (and updates the primary Region).
    assert_eq!(
        w.east
            .update_primary_region(UpdatePrimaryRegionRequest {
                key_id: key.clone(),
                primary_region: "ap-southeast-2".into(),
            })
            .unwrap_err()
            .kind(),
        ErrorCode::UnsupportedOperation
    );
}

#[test]
fn update_primary_region_refuses_what_aws_refuses() {
    let w = world();
    let key = primary(&w.east);
    let update = |kms: &Kms, region: &str| {
        kms.update_primary_region(UpdatePrimaryRegionRequest {
            key_id: key.clone(),
            primary_region: region.into(),
        })
        .unwrap_err()
        .kind()
    };
    assert_eq!(update(&w.east, "not a region"), ErrorCode::Validation);
    // No replica there.
    assert_eq!(update(&w.east, "eu-west-1"), ErrorCode::NotFound);
    replicate(&w.east, &key, "eu-west-1").unwrap();
    assert_eq!(
        update(&w.east, "us-east-1"),
        ErrorCode::UnsupportedOperation
    );
    // Both keys must be Enabled.
    w.west.disable_key(&key).unwrap();
    assert_eq!(update(&w.east, "eu-west-1"), ErrorCode::Disabled);
    w.west.enable_key(&key).unwrap();
    w.east.disable_key(&key).unwrap();
    assert_eq!(update(&w.east, "eu-west-1"), ErrorCode::Disabled);
    assert_eq!(regions_of(&w.west, &key).1, "us-east-1");
}

#[test]
fn a_primary_key_with_replicas_waits_for_them_before_its_deletion_window_starts() {
    let w = world();
    let key = primary(&w.east);
    replicate(&w.east, &key, "eu-west-1").unwrap();
    let out = w
        .east
        .schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key.clone(),
            pending_window_in_days: Some(10),
        })
        .unwrap();
    assert_eq!(
        out.key_state,
        kms_keystore::KeyState::PendingReplicaDeletion
    );
    assert_eq!(out.deletion_date, None);
    assert_eq!(out.pending_window_in_days, 10);
    let m = w.east.describe_key(&key).unwrap().key_metadata;
    assert_eq!(m.key_state, kms_keystore::KeyState::PendingReplicaDeletion);
    assert_eq!(
        (m.deletion_date, m.pending_deletion_window_in_days),
        (None, Some(10))
    );
    // Not usable meanwhile; the replica is.
    let err = w
        .east
        .encrypt(EncryptRequest {
            key_id: key.clone(),
            plaintext: "x".into(),
            ..EncryptRequest::default()
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::KmsInvalidState);
    let blob = encrypt(&w.west, &key, "kept");
    // However long it waits, the primary stays while a replica exists.
    w.clock.advance(DAY * 40);
    assert_eq!(
        w.east.describe_key(&key).unwrap().key_metadata.key_state,
        kms_keystore::KeyState::PendingReplicaDeletion
    );
    // The replica's deletion starts the primary's window, from the
    // replica's deletion date.
    let replica_gone = w
        .west
        .schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key.clone(),
            pending_window_in_days: Some(7),
        })
        .unwrap()
        .deletion_date
        .unwrap();
    w.clock.advance(DAY * 7);
    assert_eq!(
        w.west.describe_key(&key).unwrap_err().kind(),
        ErrorCode::NotFound
    );
    let m = w.east.describe_key(&key).unwrap().key_metadata;
    assert_eq!(m.key_state, kms_keystore::KeyState::PendingDeletion);
    assert_eq!(m.deletion_date, Some(replica_gone.saturating_add(DAY * 10)));
    assert!(
        m.multi_region_configuration
            .unwrap()
            .replica_keys
            .is_empty()
    );
    assert_eq!(
        decrypt(&w.east, &blob).unwrap_err().kind(),
        ErrorCode::KmsInvalidState
    );
    w.clock.advance(DAY * 10);
    assert_eq!(
        w.east.describe_key(&key).unwrap_err().kind(),
        ErrorCode::NotFound
    );
    drop(w.partition);
}

#[test]
fn cancelling_the_deletion_of_a_primary_waiting_for_its_replicas_leaves_it_disabled() {
    let w = world();
    let key = primary(&w.east);
    replicate(&w.east, &key, "eu-west-1").unwrap();
    w.east
        .schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key.clone(),
            pending_window_in_days: None,
        })
        .unwrap();
    w.east.cancel_key_deletion(&key).unwrap();
    assert_eq!(
        w.east.describe_key(&key).unwrap().key_metadata.key_state,
        kms_keystore::KeyState::Disabled
    );
}

#[test]
fn a_single_region_key_or_a_primary_without_replicas_is_scheduled_as_before() {
    let w = world();
    let key = primary(&w.east);
    let out = w
        .east
        .schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key.clone(),
            pending_window_in_days: Some(7),
        })
        .unwrap();
    assert_eq!(out.key_state, kms_keystore::KeyState::PendingDeletion);
    assert!(out.deletion_date.is_some());
}

/// A policy that lets user `u` do `action` under `condition`, the account
/// root administering the key.
fn policy(action: &str, condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Sid":"admin","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
        {{"Sid":"u","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/u"}},"Action":"{action}","Resource":"*",
          "Condition":{condition}}}]}}"#
    )
}

/// Key `key` (made in `kms`) gets policy `policy`; user `u` then calls.
fn as_u(w: &World, kms: &Kms, key: &str, policy: String) -> Kms {
    kms.put_key_policy(kms_keystore::PutKeyPolicyRequest::new(key, policy))
        .unwrap();
    let u = w
        .partition
        .iam()
        .create_user(ACCOUNT, "/", "u")
        .or_else(|_| "arn:aws:iam::111122223333:user/u".parse())
        .unwrap();
    kms.as_caller(&u)
}

#[test]
fn the_multi_region_condition_keys_are_set() {
    let cases = [
        (
            "kms:Encrypt",
            r#"{"Bool":{"kms:MultiRegion":"true"}}"#,
            r#"{"Bool":{"kms:MultiRegion":"false"}}"#,
        ),
        (
            "kms:Encrypt",
            r#"{"StringEquals":{"kms:MultiRegionKeyType":"REPLICA"}}"#,
            r#"{"StringEquals":{"kms:MultiRegionKeyType":"PRIMARY"}}"#,
        ),
    ];
    for (action, matching, failing) in cases {
        for (condition, allowed) in [(matching, true), (failing, false)] {
            let w = world();
            let key = primary(&w.east);
            replicate(&w.east, &key, "eu-west-1").unwrap();
            let u = as_u(&w, &w.west, &key, policy(action, condition));
            let got = u.encrypt(EncryptRequest {
                key_id: key.clone(),
                plaintext: "x".into(),
                ..EncryptRequest::default()
            });
            assert_eq!(got.is_ok(), allowed, "{condition}: {got:?}");
        }
    }
    // kms:ReplicaRegion on ReplicateKey.
    for (region, allowed) in [("eu-west-1", true), ("ap-southeast-2", false)] {
        let w = world();
        let key = primary(&w.east);
        let u = as_u(
            &w,
            &w.east,
            &key,
            policy(
                "kms:ReplicateKey",
                r#"{"StringEquals":{"kms:ReplicaRegion":"eu-west-1"}}"#,
            ),
        );
        // `u` may create keys in every Region (an identity policy).
        w.partition
            .iam()
            .put_identity_policy(
                u.caller(),
                "create",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateKey","Resource":"*"}]}"#,
            )
            .unwrap();
        let got = replicate(&u, &key, region);
        assert_eq!(got.is_ok(), allowed, "{region}: {got:?}");
        if !allowed {
            assert_eq!(got.unwrap_err().kind(), ErrorCode::AccessDenied);
        }
    }
    // kms:PrimaryRegion on UpdatePrimaryRegion, on both keys.
    for (region, allowed) in [("eu-west-1", true), ("ap-southeast-2", false)] {
        let w = world();
        let key = primary(&w.east);
        replicate(&w.east, &key, "eu-west-1").unwrap();
        replicate(&w.east, &key, "ap-southeast-2").unwrap();
        let p = policy(
            "kms:UpdatePrimaryRegion",
            r#"{"StringEquals":{"kms:PrimaryRegion":"eu-west-1"}}"#,
        );
        for kms in [&w.west, &w.sydney] {
            kms.put_key_policy(kms_keystore::PutKeyPolicyRequest::new(&key, p.clone()))
                .unwrap();
        }
        let u = as_u(&w, &w.east, &key, p);
        let got = u.update_primary_region(UpdatePrimaryRegionRequest {
            key_id: key.clone(),
            primary_region: region.into(),
        });
        assert_eq!(got.is_ok(), allowed, "{region}: {got:?}");
    }
}

#[test]
fn replicate_key_needs_create_key_permission_in_the_replica_region() {
    let w = world();
    let key = primary(&w.east);
    let u = as_u(&w, &w.east, &key, policy("kms:ReplicateKey", "{}"));
    let err = replicate(&u, &key, "eu-west-1").unwrap_err();
    assert_eq!(err.kind(), ErrorCode::AccessDenied, "{err}");
    assert!(err.message().contains("kms:CreateKey"), "{err}");
    assert_eq!(
        w.west.describe_key(&key).unwrap_err().kind(),
        ErrorCode::NotFound
    );
    assert!(regions_of(&w.east, &key).2.is_empty());
}

/// A multi-Region primary of `spec` and `usage` in `kms`.
fn primary_of(kms: &Kms, spec: KeySpec, usage: KeyUsage) -> String {
    kms.create_key(CreateKeyRequest {
        multi_region: Some(true),
        key_spec: Some(spec),
        key_usage: Some(usage),
        ..CreateKeyRequest::default()
    })
    .unwrap()
    .key_metadata
    .key_id
    .to_string()
}

#[test]
fn a_multi_region_hmac_key_replicates_its_secret_a_mac_made_in_one_region_verifies_in_the_other() {
    let w = world();
    let key = primary_of(&w.east, KeySpec::Hmac384, KeyUsage::GenerateVerifyMac);
    assert!(key.starts_with("mrk-"), "{key}");
    let out = replicate(&w.east, &key, "eu-west-1").unwrap();
    let r = &out.replica_key_metadata;
    assert_eq!(r.key_spec, KeySpec::Hmac384);
    assert_eq!(r.key_usage, KeyUsage::GenerateVerifyMac);
    assert_eq!(r.mac_algorithms, [MacAlgorithmSpec::HmacSha384]);
    assert_eq!(
        r.multi_region_configuration
            .as_ref()
            .unwrap()
            .multi_region_key_type,
        MultiRegionKeyType::Replica
    );
    let mac = |kms: &Kms, message: &[u8]| {
        kms.generate_mac(GenerateMacRequest {
            key_id: key.clone(),
            mac_algorithm: Some(MacAlgorithmSpec::HmacSha384),
            message: message.into(),
            ..GenerateMacRequest::default()
        })
        .unwrap()
        .mac
    };
    let east = mac(&w.east, b"across Regions");
    assert_eq!(mac(&w.west, b"across Regions"), east, "one secret");
    let verified = w
        .west
        .verify_mac(VerifyMacRequest {
            key_id: key.clone(),
            mac_algorithm: Some(MacAlgorithmSpec::HmacSha384),
            message: b"across Regions".as_slice().into(),
            mac: east,
            ..VerifyMacRequest::default()
        })
        .unwrap();
    assert!(verified.mac_valid);
    // HMAC keys do not rotate, multi-Region or not.
    let err = w
        .east
        .enable_key_rotation(EnableKeyRotationRequest {
            key_id: key,
            ..EnableKeyRotationRequest::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
}

#[cfg(feature = "asymmetric")]
#[test]
fn a_multi_region_asymmetric_key_replicates_its_key_pair_across_regions() {
    use kms_keystore::{
        EncryptionAlgorithmSpec, GetPublicKeyRequest, SignRequest, SigningAlgorithmSpec,
        VerifyRequest,
    };
    let w = world();
    let signing = primary_of(&w.east, KeySpec::EccNistP256, KeyUsage::SignVerify);
    replicate(&w.east, &signing, "ap-southeast-2").unwrap();
    let public = |kms: &Kms, key: &str| {
        kms.get_public_key(GetPublicKeyRequest {
            key_id: key.into(),
            ..GetPublicKeyRequest::default()
        })
        .unwrap()
        .public_key
    };
    assert_eq!(public(&w.east, &signing), public(&w.sydney, &signing));
    let signature = w
        .east
        .sign(SignRequest {
            key_id: signing.clone(),
            message: b"signed in us-east-1".as_slice().into(),
            signing_algorithm: Some(SigningAlgorithmSpec::EcdsaSha256),
            ..SignRequest::default()
        })
        .unwrap()
        .signature;
    let valid = w
        .sydney
        .verify(VerifyRequest {
            key_id: signing,
            message: b"signed in us-east-1".as_slice().into(),
            signature,
            signing_algorithm: Some(SigningAlgorithmSpec::EcdsaSha256),
            ..VerifyRequest::default()
        })
        .unwrap();
    assert!(valid.signature_valid);

    let rsa = primary_of(&w.east, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    replicate(&w.east, &rsa, "eu-west-1").unwrap();
    let blob = w
        .east
        .encrypt(EncryptRequest {
            key_id: rsa.clone(),
            plaintext: b"for the replica".as_slice().into(),
            encryption_algorithm: Some(EncryptionAlgorithmSpec::RsaesOaepSha256),
            ..EncryptRequest::default()
        })
        .unwrap()
        .ciphertext_blob;
    let plain = w
        .west
        .decrypt(DecryptRequest {
            key_id: Some(rsa),
            ciphertext_blob: blob,
            encryption_algorithm: Some(EncryptionAlgorithmSpec::RsaesOaepSha256),
            ..DecryptRequest::default()
        })
        .unwrap()
        .plaintext;
    assert_eq!(plain.expose_secret(), b"for the replica");
}

#[cfg(feature = "asymmetric")]
#[test]
fn a_multi_region_ml_dsa_key_replicates_its_key_pair_across_regions() {
    use kms_keystore::{GetPublicKeyRequest, SignRequest, SigningAlgorithmSpec, VerifyRequest};
    let w = world();
    let key = primary_of(&w.east, KeySpec::MlDsa65, KeyUsage::SignVerify);
    replicate(&w.east, &key, "ap-southeast-2").unwrap();
    let public = |kms: &Kms| {
        kms.get_public_key(GetPublicKeyRequest {
            key_id: key.clone(),
            ..GetPublicKeyRequest::default()
        })
        .unwrap()
        .public_key
    };
    assert_eq!(public(&w.east), public(&w.sydney));
    let message = b"signed in ap-southeast-2".as_slice();
    let signature = w
        .sydney
        .sign(SignRequest {
            key_id: key.clone(),
            message: message.into(),
            signing_algorithm: Some(SigningAlgorithmSpec::MlDsaShake256),
            ..SignRequest::default()
        })
        .unwrap()
        .signature;
    let valid = w
        .east
        .verify(VerifyRequest {
            key_id: key.clone(),
            message: message.into(),
            signature,
            signing_algorithm: Some(SigningAlgorithmSpec::MlDsaShake256),
            ..VerifyRequest::default()
        })
        .unwrap();
    assert!(valid.signature_valid);
}
