//! Multi-Region keys with imported key material (feature `asymmetric`),
//! beyond the symmetric basics in `imported_keys.rs`: multi-Region HMAC
//! keys (each Region imports the primary key's secret; a MAC made in one
//! Region verifies in another; deletion and expiry per key), and rotation
//! of imported material on a multi-Region symmetric key: new material goes
//! into the primary key, each replica imports the same, the material is
//! `PENDING_MULTI_REGION_IMPORT_AND_ROTATION` until every replica has it,
//! RotateKeyOnDemand on the primary key waits for that and then rotates
//! every Region, and deleting the primary key's pending material deletes
//! it from the replicas.
#![cfg(feature = "asymmetric")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod import_support;

use std::time::Duration;

use common::{code, ctx};
use import_support::{
    expiring_request, external_hmac_key, external_multi_region_key, import, import_new,
    materials as listed, rotations,
};
use kms_keystore::{
    Clock, DeleteImportedKeyMaterialRequest, GenerateMacRequest, ImportType, KeySpec, KeyState,
    Kms, MacAlgorithmSpec, ManualClock, MultiRegionKeyType, OriginType, ReplicateKeyRequest,
    VerifyMacRequest,
};

const HOUR: Duration = Duration::from_secs(3600);

/// us-east-1, eu-west-1 and ap-south-1 of one account, on one clock.
fn regions() -> (kms_keystore::Partition, [Kms; 3], ManualClock) {
    import_support::regions(["us-east-1", "eu-west-1", "ap-south-1"])
}

fn replicate(primary: &Kms, key: &str, region: &str) {
    primary
        .replicate_key(ReplicateKeyRequest {
            key_id: key.into(),
            replica_region: region.into(),
            ..Default::default()
        })
        .unwrap();
}

fn state(kms: &Kms, key: &str) -> KeyState {
    kms.describe_key(key).unwrap().key_metadata.key_state
}

fn current_id(kms: &Kms, key: &str) -> Option<String> {
    kms.describe_key(key)
        .unwrap()
        .key_metadata
        .current_key_material_id
}

fn states(kms: &Kms, key: &str) -> Vec<String> {
    listed(kms, key).into_iter().map(|(_, s, _)| s).collect()
}

fn encrypt(kms: &Kms, key: &str, plaintext: &[u8]) -> Vec<u8> {
    common::encrypt(kms, key, plaintext, &ctx(&[]))
}

fn try_decrypt(kms: &Kms, blob: &[u8]) -> kms_keystore::Result<Vec<u8>> {
    common::decrypt(kms, blob, &ctx(&[]))
}

fn delete(kms: &Kms, key: &str, id: Option<&str>) -> kms_keystore::Result<Option<String>> {
    kms.delete_imported_key_material(DeleteImportedKeyMaterialRequest {
        key_id: key.into(),
        key_material_id: id.map(str::to_owned),
    })
    .map(|r| r.key_material_id)
}

const FIRST: [u8; 32] = [7; 32];
const SECOND: [u8; 32] = [9; 32];

/// A multi-Region symmetric key with imported material `FIRST` in
/// us-east-1 (primary) and replicas in the two other Regions, each with
/// `FIRST` imported; the key id and `FIRST`'s material id.
fn imported_everywhere(kms: &[Kms; 3]) -> (String, String) {
    let key = external_multi_region_key(&kms[0]);
    let first = import(&kms[0], &key, &FIRST).unwrap();
    replicate(&kms[0], &key, "eu-west-1");
    replicate(&kms[0], &key, "ap-south-1");
    for replica in &kms[1..] {
        assert_eq!(import(replica, &key, &FIRST).unwrap(), first);
    }
    (key, first)
}

const PENDING_MR: &str = "PENDING_MULTI_REGION_IMPORT_AND_ROTATION";

#[test]
fn new_material_on_a_primary_is_pending_multi_region_import_until_every_replica_imports_it() {
    let (_p, kms, _) = regions();
    let (key, first) = imported_everywhere(&kms);
    let second = import_new(&kms[0], &key, &SECOND).unwrap();
    // Every Region lists it, with one material id; the replicas have not
    // imported it.
    assert_eq!(
        listed(&kms[0], &key),
        [
            (first.clone(), "CURRENT".into(), "IMPORTED".into()),
            (second.clone(), PENDING_MR.into(), "IMPORTED".into()),
        ]
    );
    for replica in &kms[1..] {
        assert_eq!(
            listed(replica, &key)[1],
            (second.clone(), PENDING_MR.into(), "PENDING_IMPORT".into())
        );
        assert_eq!(state(replica, &key), KeyState::Enabled);
    }
    // One replica imports it: still waiting for the other.
    let mut req = import_support::request(&kms[1], &key, &SECOND);
    req.import_type = Some(ImportType::ExistingKeyMaterial);
    req.key_material_id = Some(second.clone());
    assert_eq!(
        kms[1].import_key_material(req).unwrap().key_material_id,
        second
    );
    assert_eq!(states(&kms[0], &key), ["CURRENT", PENDING_MR]);
    assert_eq!(states(&kms[1], &key), ["CURRENT", PENDING_MR]);
    // The last replica imports it: PENDING_ROTATION everywhere.
    assert_eq!(import(&kms[2], &key, &SECOND).unwrap(), second);
    for k in &kms {
        assert_eq!(states(k, &key), ["CURRENT", "PENDING_ROTATION"]);
        assert_eq!(current_id(k, &key), Some(first.clone()));
    }
}

#[test]
fn a_replica_refuses_new_material_and_material_its_primary_does_not_have() {
    let (_p, kms, _) = regions();
    let (key, _) = imported_everywhere(&kms);
    assert_eq!(
        code(import_new(&kms[1], &key, &SECOND)),
        "UnsupportedOperationException"
    );
    import_new(&kms[0], &key, &SECOND).unwrap();
    assert_eq!(
        code(import_new(&kms[1], &key, &SECOND)),
        "UnsupportedOperationException",
        "new material is for the primary key, even while it is pending"
    );
    assert_eq!(
        code(import(&kms[1], &key, &[3; 32])),
        "IncorrectKeyMaterialException"
    );
    assert_eq!(listed(&kms[1], &key)[1].2, "PENDING_IMPORT");
}

#[test]
fn rotate_key_on_demand_on_the_primary_waits_for_every_replica_then_rotates_every_region() {
    let (_p, kms, _) = regions();
    let (key, first) = imported_everywhere(&kms);
    let before = encrypt(&kms[1], &key, b"before");
    let second = import_new(&kms[0], &key, &SECOND).unwrap();
    import(&kms[1], &key, &SECOND).unwrap();
    let err = kms[0].rotate_key_on_demand(&key).unwrap_err();
    assert_eq!(err.code(), "KMSInvalidStateException");
    assert!(err.to_string().contains("ap-south-1"), "{err}");
    // Refused: nothing rotated, and the refusal used no rotation.
    for k in &kms {
        assert_eq!(current_id(k, &key), Some(first.clone()));
    }
    import(&kms[2], &key, &SECOND).unwrap();
    kms[0].rotate_key_on_demand(&key).unwrap();
    let primary = rotations(&kms[0], &key, false);
    for k in &kms {
        assert_eq!(current_id(k, &key), Some(second.clone()));
        assert_eq!(states(k, &key), ["NON_CURRENT", "CURRENT"]);
        let rotated = rotations(k, &key, false);
        assert_eq!(rotated.len(), 1);
        assert_eq!(rotated[0].rotation_date, primary[0].rotation_date);
        assert_eq!(rotated[0].rotation_type.as_deref(), Some("ON_DEMAND"));
    }
    // Ciphertexts from before and after cross every Region.
    let after = encrypt(&kms[2], &key, b"after");
    for k in &kms {
        assert_eq!(try_decrypt(k, &before).unwrap(), b"before");
        assert_eq!(try_decrypt(k, &after).unwrap(), b"after");
    }
    // The new ciphertext needs the second material: without it in
    // eu-west-1, that Region cannot decrypt it (nor encrypt).
    delete(&kms[1], &key, Some(&second)).unwrap();
    assert_eq!(state(&kms[1], &key), KeyState::PendingImport);
    assert_eq!(
        code(try_decrypt(&kms[1], &after)),
        "KMSInvalidStateException"
    );
    assert_eq!(try_decrypt(&kms[0], &after).unwrap(), b"after");
}

#[test]
fn rotate_key_on_demand_on_a_replica_is_refused() {
    let (_p, kms, _) = regions();
    let (key, first) = imported_everywhere(&kms);
    import_new(&kms[0], &key, &SECOND).unwrap();
    import(&kms[1], &key, &SECOND).unwrap();
    import(&kms[2], &key, &SECOND).unwrap();
    assert_eq!(
        code(kms[1].rotate_key_on_demand(&key)),
        "UnsupportedOperationException"
    );
    assert_eq!(current_id(&kms[1], &key), Some(first));
}

#[test]
fn deleting_the_primarys_pending_material_deletes_it_from_every_replica() {
    let (_p, kms, _) = regions();
    let (key, first) = imported_everywhere(&kms);
    let second = import_new(&kms[0], &key, &SECOND).unwrap();
    import(&kms[1], &key, &SECOND).unwrap();
    assert_eq!(delete(&kms[0], &key, Some(&second)).unwrap(), Some(second));
    for k in &kms {
        assert_eq!(
            listed(k, &key),
            [(first.clone(), "CURRENT".into(), "IMPORTED".into())]
        );
        assert_eq!(state(k, &key), KeyState::Enabled);
    }
    // Gone from the replica too: it takes it no more.
    assert_eq!(
        code(import(&kms[1], &key, &SECOND)),
        "IncorrectKeyMaterialException"
    );
    // Other material can take its place, and reaches the replicas.
    let third = import_new(&kms[0], &key, &[4; 32]).unwrap();
    for k in &kms[1..] {
        assert_eq!(listed(k, &key)[1].0, third);
    }
}

#[test]
fn deleting_a_replicas_pending_material_changes_only_that_replica() {
    let (_p, kms, _) = regions();
    let (key, _) = imported_everywhere(&kms);
    let second = import_new(&kms[0], &key, &SECOND).unwrap();
    for k in &kms[1..] {
        import(k, &key, &SECOND).unwrap();
    }
    delete(&kms[1], &key, Some(&second)).unwrap();
    // Still listed there, pending import; the other keys keep theirs.
    assert_eq!(
        listed(&kms[1], &key)[1],
        (second.clone(), PENDING_MR.into(), "PENDING_IMPORT".into())
    );
    assert_eq!(state(&kms[1], &key), KeyState::Enabled);
    assert_eq!(listed(&kms[0], &key)[1].2, "IMPORTED");
    assert_eq!(listed(&kms[2], &key)[1].2, "IMPORTED");
    // Not in every replica any more: the rotation waits again.
    assert_eq!(states(&kms[0], &key)[1], PENDING_MR);
    assert_eq!(
        code(kms[0].rotate_key_on_demand(&key)),
        "KMSInvalidStateException"
    );
    import(&kms[1], &key, &SECOND).unwrap();
    kms[0].rotate_key_on_demand(&key).unwrap();
    assert_eq!(current_id(&kms[1], &key), Some(second));
}

#[test]
fn a_replica_made_while_material_is_pending_lists_it_and_the_rotation_waits_for_it() {
    let (_p, kms, _) = regions();
    let key = external_multi_region_key(&kms[0]);
    let first = import(&kms[0], &key, &FIRST).unwrap();
    let second = import_new(&kms[0], &key, &SECOND).unwrap();
    // No replica yet: nothing to wait for.
    assert_eq!(states(&kms[0], &key), ["CURRENT", "PENDING_ROTATION"]);
    replicate(&kms[0], &key, "eu-west-1");
    assert_eq!(
        listed(&kms[1], &key),
        [
            (first, "CURRENT".into(), "PENDING_IMPORT".into()),
            (second.clone(), PENDING_MR.into(), "PENDING_IMPORT".into()),
        ]
    );
    assert_eq!(states(&kms[0], &key), ["CURRENT", PENDING_MR]);
    assert_eq!(
        code(kms[0].rotate_key_on_demand(&key)),
        "KMSInvalidStateException"
    );
    import(&kms[1], &key, &FIRST).unwrap();
    import(&kms[1], &key, &SECOND).unwrap();
    assert_eq!(state(&kms[1], &key), KeyState::Enabled);
    kms[0].rotate_key_on_demand(&key).unwrap();
    assert_eq!(current_id(&kms[1], &key), Some(second));
}

#[test]
fn the_expiry_of_the_primarys_pending_material_removes_it_from_the_replicas() {
    let (_p, kms, clock) = regions();
    let (key, _) = imported_everywhere(&kms);
    let mut req = expiring_request(&kms[0], &key, &SECOND, clock.now().saturating_add(HOUR));
    req.import_type = Some(ImportType::NewKeyMaterial);
    kms[0].import_key_material(req).unwrap();
    import(&kms[1], &key, &SECOND).unwrap();
    assert_eq!(listed(&kms[1], &key).len(), 2);
    clock.advance(HOUR);
    for k in &kms {
        assert_eq!(listed(k, &key).len(), 1, "{:?}", listed(k, &key));
        assert_eq!(state(k, &key), KeyState::Enabled);
    }
}

#[test]
fn an_update_of_the_primary_region_keeps_the_pending_material_and_its_wait() {
    let (_p, kms, _) = regions();
    let (key, _) = imported_everywhere(&kms);
    let second = import_new(&kms[0], &key, &SECOND).unwrap();
    import(&kms[1], &key, &SECOND).unwrap();
    kms[0]
        .update_primary_region(kms_keystore::UpdatePrimaryRegionRequest {
            key_id: key.clone(),
            primary_region: "eu-west-1".into(),
        })
        .unwrap();
    // eu-west-1 is primary now; ap-south-1 still lacks the material.
    assert_eq!(states(&kms[1], &key), ["CURRENT", PENDING_MR]);
    assert_eq!(
        code(kms[1].rotate_key_on_demand(&key)),
        "KMSInvalidStateException"
    );
    import(&kms[2], &key, &SECOND).unwrap();
    kms[1].rotate_key_on_demand(&key).unwrap();
    for k in &kms {
        assert_eq!(current_id(k, &key), Some(second.clone()));
    }
}

/// The bytes of an HMAC secret of `len` bytes, seeded by `seed`.
fn secret(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn hmac_algorithm(spec: KeySpec) -> (MacAlgorithmSpec, usize) {
    match spec {
        KeySpec::Hmac224 => (MacAlgorithmSpec::HmacSha224, 28),
        KeySpec::Hmac256 => (MacAlgorithmSpec::HmacSha256, 32),
        KeySpec::Hmac384 => (MacAlgorithmSpec::HmacSha384, 48),
        KeySpec::Hmac512 => (MacAlgorithmSpec::HmacSha512, 64),
        other => panic!("not an HMAC spec: {other}"),
    }
}

fn external_multi_region_hmac_key(kms: &Kms, spec: KeySpec) -> String {
    external_hmac_key(kms, spec, true)
}

fn try_mac(kms: &Kms, key: &str, alg: MacAlgorithmSpec) -> kms_keystore::Result<Vec<u8>> {
    kms.generate_mac(GenerateMacRequest {
        key_id: key.into(),
        message: b"message".to_vec().into(),
        mac_algorithm: Some(alg),
        ..Default::default()
    })
    .map(|r| r.mac)
}

fn verifies(kms: &Kms, key: &str, alg: MacAlgorithmSpec, mac: &[u8]) -> bool {
    kms.verify_mac(VerifyMacRequest {
        key_id: key.into(),
        message: b"message".to_vec().into(),
        mac_algorithm: Some(alg),
        mac: mac.to_vec(),
        ..Default::default()
    })
    .unwrap()
    .mac_valid
}

#[test]
fn a_multi_region_hmac_key_with_imported_material_replicates_pending_import_and_macs_across_regions()
 {
    for spec in [
        KeySpec::Hmac224,
        KeySpec::Hmac256,
        KeySpec::Hmac384,
        KeySpec::Hmac512,
    ] {
        let (_p, kms, _) = regions();
        let (alg, len) = hmac_algorithm(spec);
        let key = external_multi_region_hmac_key(&kms[0], spec);
        assert!(key.starts_with("mrk-"), "{key}");
        let md = kms[0].describe_key(&key).unwrap().key_metadata;
        assert_eq!(md.key_state, KeyState::PendingImport);
        assert_eq!(md.origin, OriginType::External);
        assert!(md.multi_region);
        let primary_secret = secret(len, 1);
        import(&kms[0], &key, &primary_secret).unwrap();
        replicate(&kms[0], &key, "eu-west-1");
        let md = kms[1].describe_key(&key).unwrap().key_metadata;
        assert_eq!(md.key_state, KeyState::PendingImport, "{spec}");
        assert_eq!(md.origin, OriginType::External);
        assert_eq!(md.key_spec, spec);
        assert_eq!(
            md.multi_region_configuration.unwrap().multi_region_key_type,
            MultiRegionKeyType::Replica
        );
        assert_eq!(
            code(try_mac(&kms[1], &key, alg)),
            "KMSInvalidStateException"
        );
        // Only the primary key's secret.
        assert_eq!(
            code(import(&kms[1], &key, &secret(len, 2))),
            "IncorrectKeyMaterialException",
            "{spec}"
        );
        assert_eq!(state(&kms[1], &key), KeyState::PendingImport);
        import(&kms[1], &key, &primary_secret).unwrap();
        assert_eq!(state(&kms[1], &key), KeyState::Enabled);
        let east = try_mac(&kms[0], &key, alg).unwrap();
        let west = try_mac(&kms[1], &key, alg).unwrap();
        assert_eq!(east, west, "{spec}");
        assert!(verifies(&kms[1], &key, alg, &east));
        assert!(verifies(&kms[0], &key, alg, &west));
    }
}

#[test]
fn an_imported_multi_region_hmac_key_takes_no_new_material_in_any_region() {
    let (_p, kms, _) = regions();
    let key = external_multi_region_hmac_key(&kms[0], KeySpec::Hmac256);
    import(&kms[0], &key, &secret(32, 1)).unwrap();
    replicate(&kms[0], &key, "eu-west-1");
    for k in &kms[..2] {
        assert_eq!(
            code(import_new(k, &key, &secret(32, 1))),
            "ValidationException"
        );
    }
    assert_eq!(
        code(kms[0].rotate_key_on_demand(&key)),
        "UnsupportedOperationException"
    );
}

#[test]
fn an_imported_multi_region_hmac_keys_deletion_and_expiry_are_its_own() {
    let (_p, kms, clock) = regions();
    let (alg, len) = hmac_algorithm(KeySpec::Hmac384);
    let key = external_multi_region_hmac_key(&kms[0], KeySpec::Hmac384);
    let s = secret(len, 5);
    import(&kms[0], &key, &s).unwrap();
    replicate(&kms[0], &key, "eu-west-1");
    replicate(&kms[0], &key, "ap-south-1");
    import(&kms[1], &key, &s).unwrap();
    // ap-south-1's secret expires in an hour; the others do not.
    let req = expiring_request(&kms[2], &key, &s, clock.now().saturating_add(HOUR));
    kms[2].import_key_material(req).unwrap();
    let mac = try_mac(&kms[2], &key, alg).unwrap();
    // The replica in eu-west-1 deletes its secret: only it is pending import.
    delete(&kms[1], &key, None).unwrap();
    assert_eq!(state(&kms[1], &key), KeyState::PendingImport);
    assert_eq!(state(&kms[0], &key), KeyState::Enabled);
    assert!(verifies(&kms[0], &key, alg, &mac));
    clock.advance(HOUR);
    assert_eq!(state(&kms[2], &key), KeyState::PendingImport);
    assert_eq!(state(&kms[0], &key), KeyState::Enabled);
    assert!(verifies(&kms[0], &key, alg, &mac));
    // The primary key's deletion leaves the replicas as they are.
    import(&kms[1], &key, &s).unwrap();
    delete(&kms[0], &key, None).unwrap();
    assert_eq!(state(&kms[0], &key), KeyState::PendingImport);
    assert_eq!(state(&kms[1], &key), KeyState::Enabled);
    assert!(verifies(&kms[1], &key, alg, &mac));
}
