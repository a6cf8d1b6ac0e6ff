//! CloudHSM key stores through `Kms`: CreateCustomKeyStore,
//! ConnectCustomKeyStore (every connection error code), DisconnectCustomKeyStore,
//! UpdateCustomKeyStore and DeleteCustomKeyStore, in immediate and stepped mode.

mod cloudhsm_support;

use std::time::Duration;

use cloudhsm_support::{AZS, Env, KMSUSER, PASSWORD, assert_err, env, env_with, request_for};
use kms_keystore::cloudhsm::{ClusterState, HsmState};
use kms_keystore::{
    ConnectionErrorCode as Code, ConnectionMode, ConnectionStateType as State, CustomKeyStoreType,
    DescribeCustomKeyStoresRequest, ErrorCode, KeyState, ScheduleKeyDeletionRequest, SecretString,
    UpdateCustomKeyStoreRequest, XksProxyAuthenticationCredential, XksProxyConnectivityType,
};

// ----- CreateCustomKeyStore -------------------------------------------------

#[test]
fn create_custom_key_store_makes_a_disconnected_cloudhsm_store() {
    let env = env();
    let mut req = env.store_request("ExampleKeyStore");
    req.custom_key_store_type = None; // AWS_CLOUDHSM is the default
    let id = env
        .kms
        .create_custom_key_store(req)
        .unwrap()
        .custom_key_store_id;
    let entry = env.describe(id.as_str());
    assert_eq!(entry.custom_key_store_name, "ExampleKeyStore");
    assert_eq!(entry.custom_key_store_type, CustomKeyStoreType::AwsCloudhsm);
    assert_eq!(entry.cloud_hsm_cluster_id.as_ref(), Some(&env.cluster));
    assert_eq!(
        entry.trust_anchor_certificate.as_deref(),
        Some(env.trust_anchor.as_str())
    );
    assert_eq!(entry.connection_state, State::Disconnected);
    assert_eq!(entry.connection_error_code, None);
    assert_eq!(entry.creation_date, env.kms.now());
    assert!(entry.xks_proxy_configuration.is_none());
}

#[test]
fn describe_custom_key_stores_json_has_the_aws_cli_fields_and_no_password() {
    let env = env();
    let id = env.connected_store();
    let json = serde_json::to_value(
        env.kms
            .describe_custom_key_stores(DescribeCustomKeyStoresRequest {
                custom_key_store_id: Some(id.clone()),
                ..Default::default()
            })
            .unwrap(),
    )
    .unwrap();
    let entry = &json["CustomKeyStores"][0];
    for field in [
        "CustomKeyStoreId",
        "CustomKeyStoreName",
        "CustomKeyStoreType",
        "CloudHsmClusterId",
        "TrustAnchorCertificate",
        "CreationDate",
        "ConnectionState",
    ] {
        assert!(entry.get(field).is_some(), "{field} missing: {entry}");
    }
    assert_eq!(entry["CustomKeyStoreType"], "AWS_CLOUDHSM");
    assert_eq!(entry["ConnectionState"], "CONNECTED");
    assert!(entry.get("ConnectionErrorCode").is_none());
    assert!(entry["CreationDate"].is_number());
    let text = json.to_string();
    assert!(!text.contains(PASSWORD));
    assert!(!text.contains("KeyStorePassword"));
    // Nor does the service's Debug output (it shows the clusters).
    let debug = format!("{:?}", env.kms);
    assert!(debug.contains(env.cluster.as_str()));
    assert!(!debug.contains(PASSWORD));
}

#[test]
fn create_requires_cluster_id_trust_anchor_and_password() {
    let env = env();
    let mut req = env.store_request("a");
    req.cloud_hsm_cluster_id = None;
    assert_err(env.kms.create_custom_key_store(req), ErrorCode::Validation);
    let mut req = env.store_request("b");
    req.trust_anchor_certificate = None;
    assert_err(env.kms.create_custom_key_store(req), ErrorCode::Validation);
    let mut req = env.store_request("c");
    req.key_store_password = None;
    assert_err(env.kms.create_custom_key_store(req), ErrorCode::Validation);
    assert_eq!(env.store_count(), 0, "a failed create makes no store");
}

#[test]
fn create_rejects_a_cluster_id_that_breaks_the_pattern() {
    let env = env();
    for bad in [
        "cluster-1a23b4cdefg", // '1' is not in [2-7a-zA-Z]
        "cluster-abc",
        "cluster-abcdefghijklmnopq",
        "clustr-abcdefghijk",
    ] {
        let mut req = env.store_request("a");
        req.cloud_hsm_cluster_id = Some(bad.into());
        let err = env.kms.create_custom_key_store(req).unwrap_err();
        assert_eq!(err.kind(), ErrorCode::Validation, "{bad}");
        assert!(err.message().contains("cloudHsmClusterId"), "{err}");
    }
}

#[test]
fn create_rejects_a_trust_anchor_outside_1_to_5000_characters() {
    let env = env();
    for bad in [String::new(), "x".repeat(5001)] {
        let mut req = env.store_request("a");
        req.trust_anchor_certificate = Some(bad);
        let err = env.kms.create_custom_key_store(req).unwrap_err();
        assert_eq!(err.kind(), ErrorCode::Validation);
        assert!(err.message().contains("trustAnchorCertificate"), "{err}");
    }
}

#[test]
fn create_rejects_a_password_outside_7_to_32_characters() {
    let env = env();
    for bad in ["kmsPsw", &"p".repeat(33)] {
        let mut req = env.store_request("a");
        req.key_store_password = Some(SecretString::from(bad));
        let err = env.kms.create_custom_key_store(req).unwrap_err();
        assert_eq!(err.kind(), ErrorCode::Validation);
        assert!(err.message().contains("keyStorePassword"), "{err}");
        assert!(!err.message().contains(bad), "the password is not echoed");
    }
}

type SetField = fn(&mut kms_keystore::CreateCustomKeyStoreRequest);

#[test]
fn create_rejects_xks_parameters_for_a_cloudhsm_store() {
    let env = env();
    let setters: [(&str, SetField); 6] = [
        ("xksProxyUriEndpoint", |r| {
            r.xks_proxy_uri_endpoint = Some("https://xks.example.com".into())
        }),
        ("xksProxyUriPath", |r| {
            r.xks_proxy_uri_path = Some("/kms/xks/v1".into())
        }),
        ("xksProxyVpcEndpointServiceName", |r| {
            r.xks_proxy_vpc_endpoint_service_name =
                Some("com.amazonaws.vpce.us-west-2.vpce-svc-1".into())
        }),
        ("xksProxyVpcEndpointServiceOwner", |r| {
            r.xks_proxy_vpc_endpoint_service_owner = Some("111122223333".into())
        }),
        ("xksProxyAuthenticationCredential", |r| {
            r.xks_proxy_authentication_credential = Some(XksProxyAuthenticationCredential {
                access_key_id: "ABCDEFGHIJKLMNOPQRST".into(),
                raw_secret_access_key: "a".repeat(43).as_str().into(),
            })
        }),
        ("xksProxyConnectivity", |r| {
            r.xks_proxy_connectivity = Some(XksProxyConnectivityType::PublicEndpoint)
        }),
    ];
    for (field, set) in setters {
        let mut req = env.store_request("a");
        set(&mut req);
        let err = env.kms.create_custom_key_store(req).unwrap_err();
        assert_eq!(err.kind(), ErrorCode::Validation, "{field}");
        assert!(err.message().contains(field), "{err}");
    }
    assert_eq!(env.store_count(), 0);
}

#[test]
fn create_fails_when_the_cluster_does_not_exist() {
    let env = env();
    let mut req = env.store_request("a");
    req.cloud_hsm_cluster_id = Some("cluster-abcdefghijk".into());
    assert_err(
        env.kms.create_custom_key_store(req),
        ErrorCode::CloudHsmClusterNotFound,
    );
    env.kms.cloudhsm().delete_cluster(&env.cluster).unwrap();
    assert_err(
        env.kms.create_custom_key_store(env.store_request("b")),
        ErrorCode::CloudHsmClusterNotFound,
    );
    assert_eq!(env.store_count(), 0);
}

#[test]
fn create_fails_when_the_cluster_is_not_active() {
    let env = env();
    let fresh = env
        .kms
        .cloudhsm()
        .create_cluster(&[("subnet-1", "us-west-2a"), ("subnet-2", "us-west-2b")])
        .unwrap();
    assert_err(
        env.kms
            .create_custom_key_store(request_for("a", &fresh, &env.trust_anchor, PASSWORD)),
        ErrorCode::CloudHsmClusterNotActive,
    );
    env.kms
        .cloudhsm()
        .set_cluster_state(&env.cluster, ClusterState::Degraded)
        .unwrap();
    assert_err(
        env.kms.create_custom_key_store(env.store_request("b")),
        ErrorCode::CloudHsmClusterNotActive,
    );
}

#[test]
fn create_fails_when_the_cluster_is_associated_with_another_store() {
    let env = env();
    env.create_store();
    let err = env
        .kms
        .create_custom_key_store(env.store_request("Second"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::CloudHsmClusterInUse);
    assert_eq!(env.store_count(), 1);
}

#[test]
fn create_fails_when_the_cluster_shares_backup_history_with_an_associated_cluster() {
    let env = env();
    env.create_store();
    let restored = env.restored_cluster(&env.cluster);
    assert_err(
        env.kms.create_custom_key_store(request_for(
            "Second",
            &restored,
            &env.trust_anchor,
            PASSWORD,
        )),
        ErrorCode::CloudHsmClusterInUse,
    );
    // An unrelated cluster is fine.
    let (other, other_ta) = env.other_cluster();
    env.kms
        .create_custom_key_store(request_for("Third", &other, &other_ta, PASSWORD))
        .unwrap();
}

#[test]
fn create_fails_when_the_cluster_has_private_subnets_in_one_az() {
    let env = env();
    let subnets = env.subnets(&env.cluster);
    env.kms
        .cloudhsm()
        .delete_subnet(&env.cluster, &subnets[1])
        .unwrap();
    let err = env
        .kms
        .create_custom_key_store(env.store_request("a"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::CloudHsmClusterInvalidConfiguration);
    assert!(err.message().contains("subnets"), "{err}");
}

#[test]
fn create_fails_when_the_security_group_lacks_the_2223_2225_rules() {
    let env = env();
    for (inbound, outbound) in [(false, true), (true, false)] {
        env.kms
            .cloudhsm()
            .set_security_group_rules(&env.cluster, inbound, outbound)
            .unwrap();
        let err = env
            .kms
            .create_custom_key_store(env.store_request("a"))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorCode::CloudHsmClusterInvalidConfiguration);
        assert!(err.message().contains("security group"), "{err}");
    }
}

#[test]
fn create_fails_when_the_cluster_has_hsms_in_one_az() {
    let env = env();
    let hsm = env.kms.cloudhsm();
    let hsms = env.hsms(&env.cluster);
    hsm.create_hsm(&env.cluster, AZS[0]).unwrap();
    hsm.delete_hsm(&env.cluster, &hsms[1]).unwrap();
    let err = env
        .kms
        .create_custom_key_store(env.store_request("a"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::CloudHsmClusterInvalidConfiguration);
    assert!(err.message().contains("HSMs"), "{err}");
}

#[test]
fn create_fails_when_the_cluster_has_one_active_hsm() {
    let env = env();
    let hsms = env.hsms(&env.cluster);
    env.kms
        .cloudhsm()
        .degrade_hsm(&env.cluster, &hsms[0])
        .unwrap();
    assert_err(
        env.kms.create_custom_key_store(env.store_request("a")),
        ErrorCode::CloudHsmClusterInvalidConfiguration,
    );
}

#[test]
fn create_fails_with_the_trust_anchor_of_another_cluster() {
    let env = env();
    let (_, other_ta) = env.other_cluster();
    assert_err(
        env.kms
            .create_custom_key_store(request_for("a", &env.cluster, &other_ta, PASSWORD)),
        ErrorCode::IncorrectTrustAnchor,
    );
    assert_eq!(env.store_count(), 0);
}

#[test]
fn create_does_not_check_the_password_a_wrong_one_fails_connect_with_invalid_credentials() {
    let env = env();
    let id = env
        .kms
        .create_custom_key_store(request_for(
            "a",
            &env.cluster,
            &env.trust_anchor,
            "wrongPswd",
        ))
        .unwrap()
        .custom_key_store_id
        .to_string();
    env.assert_connect_fails_with(&id, Code::InvalidCredentials);
}

// ----- ConnectCustomKeyStore ------------------------------------------------

#[test]
fn connect_makes_the_store_connected() {
    let env = env();
    let id = env.create_store();
    env.kms.connect_custom_key_store(&id).unwrap();
    let entry = env.describe(&id);
    assert_eq!(entry.connection_state, State::Connected);
    assert_eq!(entry.connection_error_code, None);
    // Already connected: a successful no-op.
    env.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(env.state(&id), State::Connected);
}

#[test]
fn connect_rotates_the_kmsuser_password_so_the_callers_no_longer_logs_in() {
    let env = env();
    let id = env.connected_store();
    env.kms.disconnect_custom_key_store(&id).unwrap();
    // KMS kept the rotated password: reconnecting works.
    env.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(env.state(&id), State::Connected);
    env.kms.disconnect_custom_key_store(&id).unwrap();
    // The password the caller gave is no longer kmsuser's.
    env.update_password(&id, PASSWORD).unwrap();
    env.assert_connect_fails_with(&id, Code::InvalidCredentials);
}

#[test]
fn connect_fails_with_invalid_credentials_when_kmsuser_password_was_changed() {
    let env = env();
    let id = env.create_store();
    env.kms
        .cloudhsm()
        .change_password(&env.cluster, KMSUSER, "newPswd1")
        .unwrap();
    env.assert_connect_fails_with(&id, Code::InvalidCredentials);
}

#[test]
fn connect_fails_with_invalid_credentials_when_kmsuser_has_two_factor_authentication() {
    let env = env();
    let id = env.create_store();
    let hsm = env.kms.cloudhsm();
    hsm.delete_user(&env.cluster, KMSUSER).unwrap();
    hsm.create_user(&env.cluster, KMSUSER, PASSWORD, true)
        .unwrap();
    env.assert_connect_fails_with(&id, Code::InvalidCredentials);
}

#[test]
fn five_wrong_passwords_lock_kmsuser_out() {
    let env = env();
    let id = env
        .kms
        .create_custom_key_store(request_for(
            "a",
            &env.cluster,
            &env.trust_anchor,
            "wrongPswd",
        ))
        .unwrap()
        .custom_key_store_id
        .to_string();
    for _ in 0..5 {
        env.assert_connect_fails_with(&id, Code::InvalidCredentials);
        env.kms.disconnect_custom_key_store(&id).unwrap();
    }
    // Even the right password no longer helps.
    env.update_password(&id, PASSWORD).unwrap();
    env.assert_connect_fails_with(&id, Code::UserLockedOut);
}

#[test]
fn connect_fails_with_cluster_not_found_when_the_cluster_was_deleted() {
    let env = env();
    let id = env.create_store();
    env.kms.cloudhsm().delete_cluster(&env.cluster).unwrap();
    env.assert_connect_fails_with(&id, Code::ClusterNotFound);
}

#[test]
fn connect_fails_with_network_errors_when_the_cluster_is_unreachable() {
    let env = env();
    let id = env.create_store();
    env.kms
        .cloudhsm()
        .set_network_reachable(&env.cluster, false)
        .unwrap();
    env.assert_connect_fails_with(&id, Code::NetworkErrors);
}

#[test]
fn connect_fails_with_insufficient_cloudhsm_hsms_without_an_active_hsm() {
    let env = env();
    let id = env.create_store();
    let hsm = env.kms.cloudhsm();
    let hsms = env.hsms(&env.cluster);
    hsm.degrade_hsm(&env.cluster, &hsms[0]).unwrap();
    hsm.set_hsm_state(&env.cluster, &hsms[1], HsmState::DeleteInProgress)
        .unwrap();
    env.assert_connect_fails_with(&id, Code::InsufficientCloudhsmHsms);
}

#[test]
fn connect_needs_only_one_active_hsm() {
    let env = env();
    let id = env.create_store();
    let hsms = env.hsms(&env.cluster);
    env.kms
        .cloudhsm()
        .delete_hsm(&env.cluster, &hsms[0])
        .unwrap();
    env.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(env.state(&id), State::Connected);
}

#[test]
fn connect_fails_with_user_locked_out() {
    let env = env();
    let id = env.create_store();
    env.kms
        .cloudhsm()
        .lock_out_user(&env.cluster, KMSUSER)
        .unwrap();
    env.assert_connect_fails_with(&id, Code::UserLockedOut);
}

#[test]
fn connect_fails_with_user_not_found_without_kmsuser() {
    let env = env();
    let id = env.create_store();
    env.kms
        .cloudhsm()
        .delete_user(&env.cluster, KMSUSER)
        .unwrap();
    env.assert_connect_fails_with(&id, Code::UserNotFound);
}

#[test]
fn connect_fails_with_user_logged_in_when_kmsuser_is_logged_in_elsewhere() {
    let env = env();
    let id = env.create_store();
    env.kms
        .cloudhsm()
        .set_logged_in_elsewhere(&env.cluster, KMSUSER, true)
        .unwrap();
    env.assert_connect_fails_with(&id, Code::UserLoggedIn);
}

#[test]
fn connect_fails_with_subnet_not_found_when_a_subnet_was_deleted() {
    let env = env();
    let id = env.create_store();
    let subnets = env.subnets(&env.cluster);
    env.kms
        .cloudhsm()
        .delete_subnet(&env.cluster, &subnets[0])
        .unwrap();
    env.assert_connect_fails_with(&id, Code::SubnetNotFound);
}

#[test]
fn connect_fails_with_insufficient_free_addresses_in_subnet() {
    let env = env();
    let id = env.create_store();
    let subnets = env.subnets(&env.cluster);
    env.kms
        .cloudhsm()
        .exhaust_subnet(&env.cluster, &subnets[1])
        .unwrap();
    env.assert_connect_fails_with(&id, Code::InsufficientFreeAddressesInSubnet);
}

#[test]
fn connect_fails_with_internal_error_when_the_cluster_fails_internally() {
    let env = env();
    let id = env.create_store();
    env.kms
        .cloudhsm()
        .set_internal_error(&env.cluster, true)
        .unwrap();
    env.assert_connect_fails_with(&id, Code::InternalError);
}

#[test]
fn connect_throws_cluster_not_active_and_leaves_the_store_disconnected() {
    let env = env();
    let id = env.create_store();
    env.kms
        .cloudhsm()
        .set_cluster_state(&env.cluster, ClusterState::UpdateInProgress)
        .unwrap();
    assert_err(
        env.kms.connect_custom_key_store(&id),
        ErrorCode::CloudHsmClusterNotActive,
    );
    assert_eq!(env.state(&id), State::Disconnected);
}

#[test]
fn connect_throws_invalid_configuration_without_security_group_rules_and_leaves_the_store_disconnected()
 {
    let env = env();
    let id = env.create_store();
    env.kms
        .cloudhsm()
        .break_security_group(&env.cluster)
        .unwrap();
    assert_err(
        env.kms.connect_custom_key_store(&id),
        ErrorCode::CloudHsmClusterInvalidConfiguration,
    );
    assert_eq!(env.state(&id), State::Disconnected);
}

#[test]
fn a_failed_store_recovers_by_disconnect_fix_and_connect() {
    let env = env();
    let id = env.create_store();
    env.kms
        .cloudhsm()
        .set_logged_in_elsewhere(&env.cluster, KMSUSER, true)
        .unwrap();
    env.assert_connect_fails_with(&id, Code::UserLoggedIn);
    assert_err(
        env.kms.connect_custom_key_store(&id),
        ErrorCode::CustomKeyStoreInvalidState,
    );
    env.kms.disconnect_custom_key_store(&id).unwrap();
    let entry = env.describe(&id);
    assert_eq!(entry.connection_state, State::Disconnected);
    assert_eq!(entry.connection_error_code, None);
    env.kms
        .cloudhsm()
        .set_logged_in_elsewhere(&env.cluster, KMSUSER, false)
        .unwrap();
    env.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(env.state(&id), State::Connected);
}

// ----- Stepped mode -----------------------------------------------------------

fn stepped() -> Env {
    env_with(|c| {
        c.with_connection_mode(ConnectionMode::Stepped {
            duration_millis: 1_000,
        })
    })
}

#[test]
fn stepped_connect_shows_connecting_until_the_clock_moves() {
    let env = stepped();
    let id = env.create_store();
    env.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(env.state(&id), State::Connecting);
    env.kms.connect_custom_key_store(&id).unwrap(); // a no-op while CONNECTING
    env.advance(Duration::from_millis(999));
    assert_eq!(env.state(&id), State::Connecting);
    env.advance(Duration::from_millis(1));
    assert_eq!(env.state(&id), State::Connected);
}

#[test]
fn stepped_disconnect_shows_disconnecting_until_the_clock_moves() {
    let env = stepped();
    let id = env.create_store();
    env.kms.connect_custom_key_store(&id).unwrap();
    env.advance(Duration::from_secs(1));
    env.kms.disconnect_custom_key_store(&id).unwrap();
    assert_eq!(env.state(&id), State::Disconnecting);
    assert_err(
        env.kms.connect_custom_key_store(&id),
        ErrorCode::CustomKeyStoreInvalidState,
    );
    assert_err(
        env.kms.disconnect_custom_key_store(&id),
        ErrorCode::CustomKeyStoreInvalidState,
    );
    env.advance(Duration::from_secs(1));
    assert_eq!(env.state(&id), State::Disconnected);
}

#[test]
fn stepped_connect_failure_shows_failed_after_the_clock_moves() {
    let env = stepped();
    let id = env.create_store();
    env.kms
        .cloudhsm()
        .delete_user(&env.cluster, KMSUSER)
        .unwrap();
    env.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(env.state(&id), State::Connecting);
    assert_eq!(env.error_code(&id), None);
    env.advance(Duration::from_secs(1));
    assert_eq!(env.state(&id), State::Failed);
    assert_eq!(env.error_code(&id), Some(Code::UserNotFound));
}

#[test]
fn stepped_connect_ends_network_errors_when_the_security_group_breaks_while_connecting() {
    let env = stepped();
    let id = env.create_store();
    env.kms.connect_custom_key_store(&id).unwrap();
    env.kms
        .cloudhsm()
        .break_security_group(&env.cluster)
        .unwrap();
    env.advance(Duration::from_secs(1));
    assert_eq!(env.state(&id), State::Failed);
    assert_eq!(env.error_code(&id), Some(Code::NetworkErrors));
}

#[test]
fn keys_read_unavailable_while_their_store_is_connecting_or_disconnecting() {
    let env = stepped();
    let id = env.create_store();
    env.kms.connect_custom_key_store(&id).unwrap();
    env.advance(Duration::from_secs(1));
    let key = env.create_key(&id).unwrap().key_id.to_string();
    env.kms.disconnect_custom_key_store(&id).unwrap();
    assert_eq!(env.key_state(&key), KeyState::Unavailable);
    env.advance(Duration::from_secs(1));
    env.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(env.state(&id), State::Connecting);
    assert_eq!(env.key_state(&key), KeyState::Unavailable);
    assert_err(env.encrypt(&key), ErrorCode::KmsInvalidState);
    env.advance(Duration::from_secs(1));
    assert_eq!(env.key_state(&key), KeyState::Enabled);
    env.encrypt(&key).unwrap();
}

// ----- UpdateCustomKeyStore ---------------------------------------------------

#[test]
fn update_renames_a_connected_store() {
    let env = env();
    let id = env.connected_store();
    env.kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            custom_key_store_id: id.clone(),
            new_custom_key_store_name: Some("Renamed".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(env.describe(&id).custom_key_store_name, "Renamed");
}

#[test]
fn update_password_and_cluster_require_a_disconnected_store() {
    let env = env();
    let id = env.connected_store();
    let restored = env.restored_cluster(&env.cluster);
    assert_err(
        env.update_password(&id, "otherPswd"),
        ErrorCode::CustomKeyStoreInvalidState,
    );
    assert_err(
        env.update_cluster(&id, restored.as_str()),
        ErrorCode::CustomKeyStoreInvalidState,
    );
    assert_eq!(
        env.describe(&id).cloud_hsm_cluster_id.as_ref(),
        Some(&env.cluster)
    );
}

#[test]
fn update_password_fixes_a_store_that_failed_with_invalid_credentials() {
    let env = env();
    let id = env.create_store();
    env.kms
        .cloudhsm()
        .change_password(&env.cluster, KMSUSER, "changedPswd")
        .unwrap();
    env.assert_connect_fails_with(&id, Code::InvalidCredentials);
    env.kms.disconnect_custom_key_store(&id).unwrap();
    env.update_password(&id, "changedPswd").unwrap();
    env.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(env.state(&id), State::Connected);
}

#[test]
fn update_rejects_a_password_outside_7_to_32_characters() {
    let env = env();
    let id = env.create_store();
    assert_err(env.update_password(&id, "short"), ErrorCode::Validation);
    assert_err(
        env.update_password(&id, &"p".repeat(33)),
        ErrorCode::Validation,
    );
    // Nothing changed: the original password still connects.
    env.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(env.state(&id), State::Connected);
}

#[test]
fn update_moves_the_store_to_a_cluster_restored_from_its_backup() {
    let env = env();
    let id = env.connected_store();
    let key = env.create_key(&id).unwrap().key_id.to_string();
    let blob = env.encrypt(&key).unwrap();
    env.kms.disconnect_custom_key_store(&id).unwrap();
    let restored = env.restored_cluster(&env.cluster);
    env.update_cluster(&id, restored.as_str()).unwrap();
    assert_eq!(
        env.describe(&id).cloud_hsm_cluster_id.as_ref(),
        Some(&restored)
    );
    env.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(env.state(&id), State::Connected);
    let meta = env.kms.describe_key(&key).unwrap().key_metadata;
    assert_eq!(meta.cloud_hsm_cluster_id.as_ref(), Some(&restored));
    // The restored cluster holds the key material: old ciphertext decrypts.
    assert_eq!(env.decrypt(&blob).unwrap().expose_secret(), b"secret data");
}

#[test]
fn update_moves_the_store_to_a_restored_cluster_after_the_original_was_deleted() {
    let env = env();
    let id = env.create_store();
    let restored = env.restored_cluster(&env.cluster);
    env.kms.cloudhsm().delete_cluster(&env.cluster).unwrap();
    env.assert_connect_fails_with(&id, Code::ClusterNotFound);
    env.kms.disconnect_custom_key_store(&id).unwrap();
    env.update_cluster(&id, restored.as_str()).unwrap();
    env.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(env.state(&id), State::Connected);
}

#[test]
fn update_fails_for_an_unrelated_cluster() {
    let env = env();
    let id = env.create_store();
    let (other, _) = env.other_cluster();
    assert_err(
        env.update_cluster(&id, other.as_str()),
        ErrorCode::CloudHsmClusterNotRelated,
    );
    assert_eq!(
        env.describe(&id).cloud_hsm_cluster_id.as_ref(),
        Some(&env.cluster)
    );
}

#[test]
fn update_fails_when_the_new_cluster_does_not_exist() {
    let env = env();
    let id = env.create_store();
    assert_err(
        env.update_cluster(&id, "cluster-abcdefghijk"),
        ErrorCode::CloudHsmClusterNotFound,
    );
}

#[test]
fn update_fails_when_the_new_cluster_is_not_active() {
    let env = env();
    let id = env.create_store();
    // Restored from a backup, without HSMs yet: INITIALIZED, not ACTIVE.
    let restored = env
        .kms
        .cloudhsm()
        .create_cluster_from_backup(
            &env.cluster,
            &[("subnet-r1", "us-west-2a"), ("subnet-r2", "us-west-2b")],
        )
        .unwrap();
    assert_err(
        env.update_cluster(&id, restored.as_str()),
        ErrorCode::CloudHsmClusterNotActive,
    );
}

#[test]
fn update_fails_when_the_new_cluster_has_hsms_in_one_az() {
    let env = env();
    let id = env.create_store();
    let hsm = env.kms.cloudhsm();
    let restored = hsm
        .create_cluster_from_backup(
            &env.cluster,
            &[("subnet-r1", "us-west-2a"), ("subnet-r2", "us-west-2b")],
        )
        .unwrap();
    hsm.create_hsm(&restored, AZS[0]).unwrap();
    hsm.create_hsm(&restored, AZS[0]).unwrap();
    assert_err(
        env.update_cluster(&id, restored.as_str()),
        ErrorCode::CloudHsmClusterInvalidConfiguration,
    );
}

#[test]
fn update_rejects_a_malformed_cluster_id_and_xks_parameters() {
    let env = env();
    let id = env.create_store();
    assert_err(env.update_cluster(&id, "cluster-1"), ErrorCode::Validation);
    let err = env
        .kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            custom_key_store_id: id.clone(),
            xks_proxy_uri_path: Some("/kms/xks/v1".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::Validation);
    assert!(err.message().contains("xksProxyUriPath"), "{err}");
    let err = env
        .kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            custom_key_store_id: id.clone(),
            xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
                access_key_id: "ABCDEFGHIJKLMNOPQRST".into(),
                raw_secret_access_key: "a".repeat(43).as_str().into(),
            }),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::Validation);
}

// ----- DeleteCustomKeyStore ---------------------------------------------------

#[test]
fn delete_fails_for_a_connected_store() {
    let env = env();
    let id = env.connected_store();
    assert_err(
        env.kms.delete_custom_key_store(&id),
        ErrorCode::CustomKeyStoreInvalidState,
    );
    assert_eq!(env.store_count(), 1);
}

#[test]
fn delete_fails_while_the_store_holds_keys_even_pending_deletion() {
    let env = env();
    let id = env.connected_store();
    let key = env.create_key(&id).unwrap().key_id.to_string();
    env.kms
        .schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key.clone(),
            pending_window_in_days: Some(7),
        })
        .unwrap();
    env.kms.disconnect_custom_key_store(&id).unwrap();
    assert_eq!(env.key_state(&key), KeyState::PendingDeletion);
    assert_err(
        env.kms.delete_custom_key_store(&id),
        ErrorCode::CustomKeyStoreHasCmks,
    );
    env.advance(Duration::from_secs(6 * 86_400));
    assert_err(
        env.kms.delete_custom_key_store(&id),
        ErrorCode::CustomKeyStoreHasCmks,
    );
}

#[test]
fn delete_succeeds_once_the_keys_deletion_windows_have_passed() {
    let env = env();
    let id = env.connected_store();
    for _ in 0..2 {
        let key = env.create_key(&id).unwrap().key_id.to_string();
        env.kms
            .schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: key,
                pending_window_in_days: Some(7),
            })
            .unwrap();
    }
    env.kms.disconnect_custom_key_store(&id).unwrap();
    env.advance(Duration::from_secs(7 * 86_400));
    env.kms.delete_custom_key_store(&id).unwrap();
    assert_err(
        env.kms
            .describe_custom_key_stores(DescribeCustomKeyStoresRequest {
                custom_key_store_id: Some(id.clone()),
                ..Default::default()
            }),
        ErrorCode::CustomKeyStoreNotFound,
    );
    // The cluster is untouched and can back a new store, once its crypto
    // officer sets a kmsuser password the new store is told.
    assert_eq!(
        env.kms
            .cloudhsm()
            .describe_clusters(Some(std::slice::from_ref(&env.cluster)))
            .clusters
            .len(),
        1
    );
    let again = env.create_store();
    env.assert_connect_fails_with(&again, Code::InvalidCredentials);
    env.kms.disconnect_custom_key_store(&again).unwrap();
    env.kms
        .cloudhsm()
        .change_password(&env.cluster, KMSUSER, PASSWORD)
        .unwrap();
    env.kms.connect_custom_key_store(&again).unwrap();
    assert_eq!(env.state(&again), State::Connected);
}
