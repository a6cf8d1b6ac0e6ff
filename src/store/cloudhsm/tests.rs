#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use super::*;
use crate::error::ErrorCode;
use crate::store::ConnectionErrorCode;
use crate::store::ConnectionErrorCode as E;

const AZS: &[&str] = &["us-east-1a", "us-east-1b"];
const PW: &str = "kmsPswd1";

fn ready() -> (CloudHsm, ClusterId, String) {
    let hsm = CloudHsm::standalone(Some(1));
    let (id, ta) = hsm.provision_ready_cluster(AZS, PW).unwrap();
    (hsm, id, ta)
}

fn pw(s: &str) -> CuPassword {
    CuPassword::new(s)
}

fn connected() -> (CloudHsm, ClusterId, CuPassword) {
    let (hsm, id, _) = ready();
    let session = hsm.connect(&id, &pw(PW)).unwrap().unwrap();
    (hsm, id, session)
}

fn code(hsm: &CloudHsm, id: &ClusterId, p: &str) -> ConnectionErrorCode {
    hsm.connect(id, &pw(p)).unwrap().unwrap_err()
}

fn hsms(hsm: &CloudHsm, id: &ClusterId) -> Vec<HsmDescription> {
    hsm.describe_clusters(Some(std::slice::from_ref(id)))
        .clusters[0]
        .hsms
        .clone()
}

fn subnet_ids(hsm: &CloudHsm, id: &ClusterId) -> Vec<String> {
    hsm.describe_clusters(Some(std::slice::from_ref(id)))
        .clusters[0]
        .subnet_mapping
        .keys()
        .cloned()
        .collect()
}

fn seal(hsm: &CloudHsm, id: &ClusterId, label: &str, s: &CuPassword) -> Result<()> {
    let mut buf = *b"data";
    hsm.seal_in_place(id, label, s, &[0; 12], b"", &mut buf)
        .map(drop)
}

// ----- Provisioning -----

#[test]
fn create_cluster_is_uninitialized_with_good_rules_and_no_hsms() {
    let hsm = CloudHsm::standalone(Some(2));
    let id = hsm
        .create_cluster(&[("subnet-a", "az-a"), ("subnet-b", "az-b")])
        .unwrap();
    let d = &hsm.describe_clusters(None).clusters[0];
    assert_eq!(d.state, ClusterState::Uninitialized);
    assert!(d.hsms.is_empty());
    assert!(d.security_group.starts_with("sg-"));
    assert_eq!(d.subnet_mapping["subnet-a"], "az-a");
    assert_eq!(d.certificates.cluster_certificate, None);
    assert!(id.as_str().parse::<ClusterId>().is_ok());
}

#[test]
fn create_cluster_rejects_no_or_repeated_subnets() {
    let hsm = CloudHsm::standalone(Some(2));
    assert_eq!(
        hsm.create_cluster(&[]).unwrap_err().kind(),
        ErrorCode::CloudHsmInvalidRequest
    );
    let dup = hsm.create_cluster(&[("s", "a"), ("s", "b")]).unwrap_err();
    assert_eq!(dup.kind(), ErrorCode::CloudHsmInvalidRequest);
}

#[test]
fn same_seed_gives_same_ids() {
    let a = CloudHsm::standalone(Some(9))
        .provision_ready_cluster(AZS, PW)
        .unwrap();
    let b = CloudHsm::standalone(Some(9))
        .provision_ready_cluster(AZS, PW)
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn initialize_needs_an_uninitialized_cluster_with_an_active_hsm() {
    let hsm = CloudHsm::standalone(Some(2));
    let id = hsm.create_cluster(&[("subnet-a", "az-a")]).unwrap();
    let ta = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert_eq!(
        hsm.initialize_cluster(&id, ta).unwrap_err().kind(),
        ErrorCode::CloudHsmInvalidRequest
    );
    hsm.create_hsm(&id, "az-a").unwrap();
    assert_eq!(
        hsm.initialize_cluster(&id, "not a pem").unwrap_err().kind(),
        ErrorCode::CloudHsmInvalidRequest
    );
    hsm.initialize_cluster(&id, ta).unwrap();
    let d = &hsm.describe_clusters(None).clusters[0];
    assert_eq!(d.state, ClusterState::Initialized);
    assert!(
        d.certificates
            .cluster_certificate
            .as_deref()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert!(hsm.initialize_cluster(&id, ta).is_err(), "only once");
    hsm.check_trust_anchor(&id, ta).unwrap();
}

#[test]
fn activate_needs_initialized() {
    let hsm = CloudHsm::standalone(Some(2));
    let id = hsm.create_cluster(&[("subnet-a", "az-a")]).unwrap();
    hsm.create_hsm(&id, "az-a").unwrap();
    assert_eq!(
        hsm.activate_cluster(&id).unwrap_err().kind(),
        ErrorCode::CloudHsmInvalidRequest
    );
    hsm.initialize_cluster(&id, "-----BEGIN CERTIFICATE-----\nA\n")
        .unwrap();
    hsm.activate_cluster(&id).unwrap();
    assert_eq!(
        hsm.describe_clusters(None).clusters[0].state,
        ClusterState::Active
    );
}

#[test]
fn unknown_cluster_is_resource_not_found() {
    let hsm = CloudHsm::standalone(Some(2));
    let id = ClusterId::from_random_bytes([0; 11]);
    assert_eq!(
        hsm.create_hsm(&id, "a").unwrap_err().kind(),
        ErrorCode::CloudHsmResourceNotFound
    );
    assert_eq!(
        hsm.activate_cluster(&id).unwrap_err().kind(),
        ErrorCode::CloudHsmResourceNotFound
    );
    assert_eq!(
        hsm.delete_cluster(&id).unwrap_err().kind(),
        ErrorCode::CloudHsmResourceNotFound
    );
}

#[test]
fn create_hsm_is_active_in_the_subnet_of_its_az() {
    let (hsm, id, _) = ready();
    let h = hsms(&hsm, &id);
    assert_eq!(h.len(), 2);
    assert!(
        h.iter()
            .all(|h| h.state == HsmState::Active && h.state_message == "HSM created.")
    );
    let mapping = &hsm.describe_clusters(None).clusters[0].subnet_mapping;
    for x in &h {
        assert_eq!(mapping[&x.subnet_id], x.availability_zone);
        assert!(x.eni_id.starts_with("eni-") && x.eni_ip.starts_with("10.0."));
    }
}

#[test]
fn create_hsm_fails_without_a_subnet_in_that_az() {
    let (hsm, id, _) = ready();
    assert_eq!(
        hsm.create_hsm(&id, "eu-west-1a").unwrap_err().kind(),
        ErrorCode::CloudHsmInvalidRequest
    );
}

#[test]
fn delete_hsm_removes_it() {
    let (hsm, id, _) = ready();
    let h = hsms(&hsm, &id)[0].hsm_id.clone();
    hsm.delete_hsm(&id, &h).unwrap();
    assert_eq!(hsms(&hsm, &id).len(), 1);
    assert_eq!(
        hsm.delete_hsm(&id, &h).unwrap_err().kind(),
        ErrorCode::CloudHsmResourceNotFound
    );
}

#[test]
fn cluster_from_backup_shares_certificate_users_and_keys_and_is_active_with_an_hsm() {
    let (hsm, id, session) = connected();
    hsm.generate_key(&id, "arn:k1", &session).unwrap();
    let copy = hsm
        .create_cluster_from_backup(&id, &[("subnet-x", "az-x"), ("subnet-y", "az-y")])
        .unwrap();
    assert_eq!(
        hsm.describe_clusters(Some(std::slice::from_ref(&copy)))
            .clusters[0]
            .state,
        ClusterState::Initialized
    );
    assert!(hsm.shares_backup_history(&id, &copy));
    hsm.create_hsm(&copy, "az-x").unwrap();
    hsm.create_hsm(&copy, "az-y").unwrap();
    let out = hsm.describe_clusters(None);
    let [a, b] = &out.clusters[..] else { panic!() };
    assert_eq!(a.certificates, b.certificates);
    assert_eq!(
        hsm.describe_clusters(Some(std::slice::from_ref(&copy)))
            .clusters[0]
            .state,
        ClusterState::Active
    );
    hsm.check_configuration(&copy).unwrap();
    // The users were copied with the rotated password; the key is usable there.
    let s2 = hsm.connect(&copy, &session).unwrap().unwrap();
    seal(&hsm, &copy, "arn:k1", &s2).unwrap();
    let ta = hsm.provision_ready_cluster(AZS, PW).unwrap();
    assert!(!hsm.shares_backup_history(&id, &ta.0));
}

#[test]
fn cluster_from_backup_needs_an_initialized_source() {
    let hsm = CloudHsm::standalone(Some(2));
    let id = hsm.create_cluster(&[("s", "a")]).unwrap();
    let err = hsm
        .create_cluster_from_backup(&id, &[("t", "b")])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::CloudHsmInvalidRequest);
}

#[test]
fn create_user_checks_the_password_rule_and_duplicates() {
    let (hsm, id, _) = ready();
    for bad in ["short", "has-special!", "a23456789012345678901234567890123"] {
        assert_eq!(
            hsm.create_user(&id, "u", bad, false).unwrap_err().kind(),
            ErrorCode::CloudHsmInvalidRequest
        );
    }
    hsm.create_user(&id, "u", "abcdefg", false).unwrap();
    assert!(hsm.create_user(&id, "u", "abcdefg", false).is_err());
    assert!(hsm.create_user(&id, KMS_USER, "abcdefg", false).is_err());
}

#[test]
fn create_user_needs_an_active_cluster() {
    let hsm = CloudHsm::standalone(Some(2));
    let id = hsm.create_cluster(&[("s", "a")]).unwrap();
    assert_eq!(
        hsm.create_user(&id, KMS_USER, PW, false)
            .unwrap_err()
            .kind(),
        ErrorCode::CloudHsmInvalidRequest
    );
}

#[test]
fn delete_user_makes_connect_fail_with_user_not_found() {
    let (hsm, id, _) = ready();
    hsm.delete_user(&id, KMS_USER).unwrap();
    assert_eq!(code(&hsm, &id, PW), E::UserNotFound);
    assert!(hsm.delete_user(&id, KMS_USER).is_err());
}

#[test]
fn provisioned_cluster_meets_every_kms_requirement() {
    let (hsm, id, ta) = ready();
    hsm.check_configuration(&id).unwrap();
    hsm.check_trust_anchor(&id, &ta).unwrap();
    hsm.check_trust_anchor(&id, &ta.replace('\n', "\r\n"))
        .unwrap();
    assert!(hsm.connect(&id, &pw(PW)).unwrap().is_ok());
}

// ----- Configuration checks -----

#[test]
fn check_configuration_fails_for_missing_or_inactive_clusters() {
    let (hsm, id, _) = ready();
    hsm.set_cluster_state(&id, ClusterState::Degraded).unwrap();
    assert_eq!(
        hsm.check_configuration(&id).unwrap_err().kind(),
        ErrorCode::CloudHsmClusterNotActive
    );
    hsm.delete_cluster(&id).unwrap();
    assert_eq!(
        hsm.check_configuration(&id).unwrap_err().kind(),
        ErrorCode::CloudHsmClusterNotFound
    );
}

#[test]
fn check_configuration_needs_subnets_in_two_azs() {
    let hsm = CloudHsm::standalone(Some(3));
    let (id, _) = hsm.provision_ready_cluster(&["a"], PW).unwrap();
    let err = hsm.check_configuration(&id).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::CloudHsmClusterInvalidConfiguration);
    assert!(err.message().contains("subnets"), "{err:?}");
}

#[test]
fn check_configuration_needs_the_security_group_rules() {
    let (hsm, id, _) = ready();
    hsm.set_security_group_rules(&id, true, false).unwrap();
    let err = hsm.check_configuration(&id).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::CloudHsmClusterInvalidConfiguration);
    assert!(err.message().contains("2223-2225"), "{err:?}");
}

#[test]
fn check_configuration_needs_two_active_hsms_in_different_azs() {
    let (hsm, id, _) = ready();
    let h = hsms(&hsm, &id);
    hsm.degrade_hsm(&id, &h[0].hsm_id).unwrap();
    hsm.create_hsm(&id, AZS[1]).unwrap();
    let err = hsm.check_configuration(&id).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::CloudHsmClusterInvalidConfiguration);
    assert!(err.message().contains("two ACTIVE HSMs"), "{err:?}");
}

#[test]
fn wrong_trust_anchor_is_incorrect_trust_anchor() {
    let (hsm, id, _) = ready();
    let err = hsm
        .check_trust_anchor(&id, "-----BEGIN CERTIFICATE-----\nBBBB\n")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::IncorrectTrustAnchor);
}

// ----- Connect: every code -----

#[test]
fn connect_rotates_the_password_and_the_old_one_stops_working() {
    let (hsm, id, _) = ready();
    let new = hsm.connect(&id, &pw(PW)).unwrap().unwrap();
    assert_ne!(new.expose_secret(), PW);
    assert_eq!(new.expose_secret().len(), 32);
    assert!(
        new.expose_secret()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
    );
    hsm.disconnect(&id);
    assert_eq!(code(&hsm, &id, PW), E::InvalidCredentials);
    assert!(hsm.connect(&id, &new).unwrap().is_ok());
}

#[test]
fn connect_fails_with_cluster_not_found_after_deletion() {
    let (hsm, id, _) = ready();
    hsm.delete_cluster(&id).unwrap();
    assert_eq!(code(&hsm, &id, PW), E::ClusterNotFound);
}

#[test]
fn connect_throws_cluster_not_active_when_not_active() {
    let (hsm, id, _) = ready();
    hsm.set_cluster_state(&id, ClusterState::Initialized)
        .unwrap();
    assert_eq!(
        hsm.connect(&id, &pw(PW)).unwrap_err().kind(),
        ErrorCode::CloudHsmClusterNotActive
    );
}

#[test]
fn connect_throws_invalid_configuration_when_security_group_is_broken() {
    let (hsm, id, _) = ready();
    hsm.break_security_group(&id).unwrap();
    assert_eq!(
        hsm.connect(&id, &pw(PW)).unwrap_err().kind(),
        ErrorCode::CloudHsmClusterInvalidConfiguration
    );
}

#[test]
fn connect_fails_with_network_errors_when_unreachable() {
    let (hsm, id, _) = ready();
    hsm.set_network_reachable(&id, false).unwrap();
    assert_eq!(code(&hsm, &id, PW), E::NetworkErrors);
    hsm.set_network_reachable(&id, true).unwrap();
    assert!(hsm.connect(&id, &pw(PW)).unwrap().is_ok());
}

#[test]
fn connect_fails_with_internal_error_when_injected() {
    let (hsm, id, _) = ready();
    hsm.set_internal_error(&id, true).unwrap();
    assert_eq!(code(&hsm, &id, PW), E::InternalError);
}

#[test]
fn connect_fails_with_subnet_not_found_after_a_subnet_is_deleted() {
    let (hsm, id, _) = ready();
    hsm.delete_subnet(&id, &subnet_ids(&hsm, &id)[0]).unwrap();
    assert_eq!(code(&hsm, &id, PW), E::SubnetNotFound);
    assert!(hsm.delete_subnet(&id, "subnet-nope").is_err());
}

#[test]
fn connect_fails_with_insufficient_free_addresses_when_a_subnet_is_full() {
    let (hsm, id, _) = ready();
    hsm.exhaust_subnet(&id, &subnet_ids(&hsm, &id)[1]).unwrap();
    assert_eq!(code(&hsm, &id, PW), E::InsufficientFreeAddressesInSubnet);
    hsm.set_subnet_free_addresses(&id, &subnet_ids(&hsm, &id)[1], 1)
        .unwrap();
    assert!(hsm.connect(&id, &pw(PW)).unwrap().is_ok());
}

#[test]
fn connect_fails_with_insufficient_hsms_without_an_active_hsm() {
    let (hsm, id, _) = ready();
    let h = hsms(&hsm, &id);
    hsm.delete_hsm(&id, &h[0].hsm_id).unwrap();
    hsm.degrade_hsm(&id, &h[1].hsm_id).unwrap();
    assert_eq!(code(&hsm, &id, PW), E::InsufficientCloudhsmHsms);
    hsm.set_hsm_state(&id, &h[1].hsm_id, HsmState::Active)
        .unwrap();
    assert!(
        hsm.connect(&id, &pw(PW)).unwrap().is_ok(),
        "one active HSM is enough to connect"
    );
}

#[test]
fn connect_fails_with_user_locked_out_after_five_bad_passwords() {
    let (hsm, id, _) = ready();
    for _ in 0..4 {
        assert_eq!(code(&hsm, &id, "wrongPw1"), E::InvalidCredentials);
    }
    assert_eq!(
        code(&hsm, &id, "wrongPw1"),
        E::InvalidCredentials,
        "the fifth failure locks"
    );
    assert_eq!(
        code(&hsm, &id, PW),
        E::UserLockedOut,
        "even the right password"
    );
    hsm.change_password(&id, KMS_USER, "newPass1").unwrap();
    assert!(
        hsm.connect(&id, &pw("newPass1")).unwrap().is_ok(),
        "changePswd unlocks"
    );
}

#[test]
fn a_good_login_clears_the_failed_login_count() {
    let (hsm, id, _) = ready();
    for _ in 0..4 {
        code(&hsm, &id, "wrongPw1");
    }
    let p = hsm.connect(&id, &pw(PW)).unwrap().unwrap();
    hsm.disconnect(&id);
    for _ in 0..4 {
        code(&hsm, &id, "wrongPw1");
    }
    assert!(hsm.connect(&id, &p).unwrap().is_ok());
}

#[test]
fn connect_fails_with_user_locked_out_when_locked() {
    let (hsm, id, _) = ready();
    hsm.lock_out_user(&id, KMS_USER).unwrap();
    assert_eq!(code(&hsm, &id, PW), E::UserLockedOut);
}

#[test]
fn connect_fails_with_user_logged_in_when_logged_in_elsewhere() {
    let (hsm, id, _) = ready();
    hsm.set_logged_in_elsewhere(&id, KMS_USER, true).unwrap();
    assert_eq!(code(&hsm, &id, PW), E::UserLoggedIn);
    hsm.set_logged_in_elsewhere(&id, KMS_USER, false).unwrap();
    assert!(hsm.connect(&id, &pw(PW)).unwrap().is_ok());
}

#[test]
fn connect_fails_with_invalid_credentials_for_a_two_factor_kmsuser() {
    let (hsm, id, _) = ready();
    hsm.delete_user(&id, KMS_USER).unwrap();
    hsm.create_user(&id, KMS_USER, PW, true).unwrap();
    for _ in 0..6 {
        assert_eq!(code(&hsm, &id, PW), E::InvalidCredentials);
    }
}

#[test]
fn connect_fails_with_invalid_credentials_after_password_changed_behind_kms() {
    let (hsm, id, _) = ready();
    hsm.change_password(&id, KMS_USER, "otherPw1").unwrap();
    assert_eq!(code(&hsm, &id, PW), E::InvalidCredentials);
}

// ----- Keys -----

#[test]
fn generated_key_seals_and_opens() {
    let (hsm, id, s) = connected();
    hsm.generate_key(&id, "arn:k", &s).unwrap();
    let mut buf = *b"secret data";
    let tag = hsm
        .seal_in_place(&id, "arn:k", &s, &[1; 12], b"aad", &mut buf)
        .unwrap();
    assert_ne!(&buf, b"secret data");
    let mut bad = buf;
    assert_eq!(
        hsm.open_in_place(&id, "arn:k", &s, &[1; 12], b"xx", &mut bad, &tag)
            .unwrap_err()
            .kind(),
        ErrorCode::InvalidCiphertext
    );
    hsm.open_in_place(&id, "arn:k", &s, &[1; 12], b"aad", &mut buf, &tag)
        .unwrap();
    assert_eq!(&buf, b"secret data");
}

/// The thread's cipher cache lends a key object's cipher without writing
/// its reference count, and keeps nothing alive once the object is gone:
/// a backup's copy of the object has a cell of its own, and deleting the
/// object withdraws the cell the cache holds. (Not under shuttle, whose
/// loads count.)
#[cfg(not(feature = "shuttle"))]
#[test]
fn the_cipher_cache_lends_without_counting_and_keeps_no_deleted_key_object() {
    let (hsm, id, s) = connected();
    hsm.generate_key(&id, "arn:k", &s).unwrap();
    let first = hsm.cipher_for(&id, "arn:k", &s).unwrap();
    let weak = std::sync::Arc::downgrade(&first.to_arc());
    drop(first);
    let counted = weak.strong_count();
    let held: Vec<_> = (0..4)
        .map(|_| hsm.cipher_for(&id, "arn:k", &s).unwrap())
        .collect();
    assert_eq!(weak.strong_count(), counted, "a cached hit writes no count");
    let copy = hsm.0.clusters.read().get(&id).unwrap().keys["arn:k"].clone();
    assert!(copy.cell.load().is_some(), "a copy publishes its own cell");
    drop(copy);
    assert!(
        hsm.cipher_for(&id, "arn:k", &s).is_ok(),
        "dropping a copy leaves the original's cell published"
    );
    assert!(hsm.delete_key(&id, "arn:k", &s));
    assert!(weak.upgrade().is_some(), "the calls in flight keep it");
    drop(held);
    assert!(
        weak.upgrade().is_none(),
        "the thread's cache keeps no cipher alive after the object's deletion"
    );
    assert!(hsm.cipher_for(&id, "arn:k", &s).is_err());
}

#[test]
fn generate_key_needs_two_active_hsms_in_different_azs() {
    let (hsm, id, s) = connected();
    hsm.degrade_hsm(&id, &hsms(&hsm, &id)[0].hsm_id).unwrap();
    assert_eq!(
        hsm.generate_key(&id, "arn:k", &s).unwrap_err().kind(),
        ErrorCode::CloudHsmClusterInvalidConfiguration
    );
}

#[test]
fn generate_key_needs_a_valid_session() {
    let (hsm, id, s) = connected();
    hsm.disconnect(&id);
    assert_eq!(
        hsm.generate_key(&id, "arn:k", &s).unwrap_err().kind(),
        ErrorCode::KmsInvalidState
    );
    let id2 = ClusterId::from_random_bytes([0; 11]);
    assert_eq!(
        hsm.generate_key(&id2, "arn:k", &s).unwrap_err().kind(),
        ErrorCode::CloudHsmClusterNotFound
    );
}

#[test]
fn key_use_fails_when_the_network_is_down() {
    let (hsm, id, s) = connected();
    hsm.generate_key(&id, "arn:k", &s).unwrap();
    hsm.set_network_reachable(&id, false).unwrap();
    let err = seal(&hsm, &id, "arn:k", &s).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::KmsInvalidState);
    assert!(
        err.message()
            .contains("KMS cannot communicate with your CloudHSM cluster"),
        "{err:?}"
    );
}

#[test]
fn key_use_fails_with_internal_error_when_injected() {
    let (hsm, id, s) = connected();
    hsm.generate_key(&id, "arn:k", &s).unwrap();
    hsm.set_internal_error(&id, true).unwrap();
    assert_eq!(
        seal(&hsm, &id, "arn:k", &s).unwrap_err().kind(),
        ErrorCode::KmsInternal
    );
}

#[test]
fn key_use_fails_after_password_change_deletion_or_lockout_of_kmsuser() {
    let faults: [fn(&CloudHsm, &ClusterId); 3] = [
        |h, id| h.change_password(id, KMS_USER, "otherPw1").unwrap(),
        |h, id| h.delete_user(id, KMS_USER).unwrap(),
        |h, id| h.lock_out_user(id, KMS_USER).unwrap(),
    ];
    for fault in faults {
        let (hsm, id, s) = connected();
        hsm.generate_key(&id, "arn:k", &s).unwrap();
        fault(&hsm, &id);
        let err = seal(&hsm, &id, "arn:k", &s).unwrap_err();
        assert_eq!(err.kind(), ErrorCode::KmsInvalidState);
        assert!(err.message().contains("not logged in"), "{err:?}");
    }
}

#[test]
fn key_use_fails_when_the_material_was_deleted() {
    let (hsm, id, s) = connected();
    hsm.generate_key(&id, "arn:k", &s).unwrap();
    hsm.delete_key_material(&id, "arn:k").unwrap();
    let err = seal(&hsm, &id, "arn:k", &s).unwrap_err();
    assert!(err.message().contains("arn:k"), "{err:?}");
    assert!(hsm.delete_key_material(&id, "arn:k").is_err());
}

#[test]
fn key_use_fails_when_no_active_hsm_holds_the_key() {
    let (hsm, id, s) = connected();
    hsm.generate_key(&id, "arn:k", &s).unwrap();
    let h = hsms(&hsm, &id);
    hsm.restore_hsm_without_key(&id, &h[0].hsm_id, "arn:k")
        .unwrap();
    seal(&hsm, &id, "arn:k", &s).unwrap();
    hsm.degrade_hsm(&id, &h[1].hsm_id).unwrap();
    let err = seal(&hsm, &id, "arn:k", &s).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::KmsInvalidState);
    assert!(err.message().contains("not in any active HSM"), "{err:?}");
}

#[test]
fn key_use_fails_without_active_hsms_or_cluster() {
    let (hsm, id, s) = connected();
    hsm.generate_key(&id, "arn:k", &s).unwrap();
    for h in hsms(&hsm, &id) {
        hsm.delete_hsm(&id, &h.hsm_id).unwrap();
    }
    assert!(
        seal(&hsm, &id, "arn:k", &s)
            .unwrap_err()
            .message()
            .contains("no ACTIVE HSM")
    );
    hsm.create_hsm(&id, AZS[0]).unwrap();
    seal(&hsm, &id, "arn:k", &s).unwrap();
    hsm.delete_cluster(&id).unwrap();
    assert_eq!(
        seal(&hsm, &id, "arn:k", &s).unwrap_err().kind(),
        ErrorCode::KmsInvalidState
    );
}

#[test]
fn new_hsms_receive_copies_of_existing_keys() {
    let (hsm, id, s) = connected();
    hsm.generate_key(&id, "arn:k", &s).unwrap();
    let old = hsms(&hsm, &id);
    hsm.create_hsm(&id, AZS[0]).unwrap();
    for h in old {
        hsm.delete_hsm(&id, &h.hsm_id).unwrap();
    }
    seal(&hsm, &id, "arn:k", &s).unwrap();
}

#[test]
fn random_bytes_need_an_active_hsm() {
    let (hsm, id, _) = ready();
    assert_eq!(hsm.random_bytes(&id, 32).unwrap().len(), 32);
    for h in hsms(&hsm, &id) {
        hsm.degrade_hsm(&id, &h.hsm_id).unwrap();
    }
    assert_eq!(
        hsm.random_bytes(&id, 32).unwrap_err().kind(),
        ErrorCode::KmsInvalidState
    );
}

#[test]
fn delete_key_is_best_effort() {
    let (hsm, id, s) = connected();
    hsm.generate_key(&id, "arn:k", &s).unwrap();
    hsm.set_network_reachable(&id, false).unwrap();
    assert!(!hsm.delete_key(&id, "arn:k", &s));
    hsm.set_network_reachable(&id, true).unwrap();
    assert!(hsm.delete_key(&id, "arn:k", &s));
    assert!(!hsm.delete_key(&id, "arn:k", &s));
    assert!(seal(&hsm, &id, "arn:k", &s).is_err());
}

// ----- Output -----

#[test]
fn describe_clusters_has_the_cloudhsmv2_shape() {
    let (hsm, id, _) = ready();
    let v = serde_json::to_value(hsm.describe_clusters(None)).unwrap();
    let c = &v["Clusters"][0];
    assert_eq!(c["ClusterId"], id.as_str());
    assert_eq!(c["State"], "ACTIVE");
    assert_eq!(c["HsmType"], "hsm1.medium");
    assert_eq!(c["BackupPolicy"], "DEFAULT");
    assert!(c["VpcId"].as_str().unwrap().starts_with("vpc-"));
    assert!(c["CreateTimestamp"].is_number());
    assert!(c["Certificates"]["ClusterCertificate"].is_string());
    assert_eq!(c["SubnetMapping"].as_object().unwrap().len(), 2);
    let h = &c["Hsms"][0];
    for f in [
        "AvailabilityZone",
        "ClusterId",
        "EniId",
        "EniIp",
        "HsmId",
        "State",
        "StateMessage",
        "SubnetId",
    ] {
        assert!(h[f].is_string(), "{f}");
    }
    let other = ClusterId::from_random_bytes([0; 11]);
    assert!(hsm.describe_clusters(Some(&[other])).clusters.is_empty());
}

#[test]
fn passwords_never_appear_in_debug_or_serde_output() {
    let planted = "PlantedSecret77";
    let (hsm, id, _) = ready();
    hsm.create_user(&id, "alice", planted, false).unwrap();
    let rotated = hsm.connect(&id, &pw(PW)).unwrap().unwrap();
    let debug = format!("{hsm:?}");
    let json = serde_json::to_string(&hsm.describe_clusters(None)).unwrap();
    for out in [&debug, &json, &format!("{rotated:?}")] {
        assert!(!out.contains(planted), "{out}");
        assert!(!out.contains(PW));
        assert!(!out.contains(rotated.expose_secret()));
    }
    assert!(debug.contains("alice") && debug.contains(crate::crypto::material::REDACTED));
}

#[test]
fn handle_is_send_sync_and_clones_share_clusters() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CloudHsm>();
    let (hsm, id, _) = ready();
    hsm.clone().delete_cluster(&id).unwrap();
    assert!(hsm.describe_clusters(None).clusters.is_empty());
}
