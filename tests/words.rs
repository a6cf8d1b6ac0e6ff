//! AWS's words for validation and the crate's hints kept apart (issue 17):
//! every broken model constraint of a request reported at once, the member
//! path and the rejected value as AWS shows them (never a `sensitive`
//! member's), and the crate's advice in `hint()`, never in `message()`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use kms_keystore::xks::XksCredential;
use kms_keystore::{
    CreateCustomKeyStoreRequest, CreateGrantRequest, CreateKeyRequest, CustomKeyStoreType,
    DescribeCustomKeyStoresRequest, Error, GenerateDataKeyRequest, GrantOperation, Kms, KmsConfig,
    ListKeyPoliciesRequest, ListKeysRequest, PutKeyPolicyRequest, ScheduleKeyDeletionRequest,
    XksProxyAuthenticationCredential, XksProxyConnectivityType,
};

fn kms() -> Kms {
    Kms::new(KmsConfig::default().with_seed(17))
}

fn key(kms: &Kms) -> String {
    kms.create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id
        .to_string()
}

fn validation(err: Error) -> String {
    assert_eq!(err.code(), "ValidationException", "{err:?}");
    err.message().to_owned()
}

#[test]
fn create_grant_reports_every_broken_member_with_its_value() {
    let kms = kms();
    let key = key(&kms);
    let long = "a".repeat(257);
    let err = kms
        .create_grant(CreateGrantRequest {
            key_id: key,
            grantee_principal: "bad principal".into(),
            name: Some(long.clone()),
            operations: vec![GrantOperation::Decrypt],
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(
        validation(err),
        format!(
            "2 validation errors detected: Value 'bad principal' at 'granteePrincipal' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[\\w+=,.@:/-]+$; Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 256"
        )
    );
}

#[test]
fn an_empty_principal_breaks_both_its_pattern_and_its_length() {
    let kms = kms();
    let key = key(&kms);
    let err = kms
        .create_grant(CreateGrantRequest {
            key_id: key,
            grantee_principal: String::new(),
            operations: vec![GrantOperation::Decrypt],
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(
        validation(err),
        "2 validation errors detected: Value '' at 'granteePrincipal' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[\\w+=,.@:/-]+$; Value '' at 'granteePrincipal' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
}

#[test]
fn pending_window_names_the_bound_broken() {
    let kms = kms();
    let key = key(&kms);
    for (days, text) in [
        (6, "greater than or equal to 7"),
        (31, "less than or equal to 30"),
    ] {
        let err = kms
            .schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: key.clone(),
                pending_window_in_days: Some(days),
            })
            .unwrap_err();
        assert_eq!(
            validation(err),
            format!(
                "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value {text}"
            )
        );
    }
}

#[test]
fn generate_data_key_without_exactly_one_length_is_aws_text() {
    let kms = kms();
    let key = key(&kms);
    for (spec, n) in [
        (None, None),
        (Some(kms_keystore::DataKeySpec::Aes256), Some(32)),
    ] {
        let err = kms
            .generate_data_key(GenerateDataKeyRequest {
                key_id: key.clone(),
                key_spec: spec,
                number_of_bytes: n,
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(
            validation(err),
            "Please specify either number of bytes or key spec."
        );
    }
}

#[test]
fn limit_and_marker_violations_show_the_value() {
    let kms = kms();
    let err = kms
        .list_keys(ListKeysRequest {
            limit: Some(1001),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(
        validation(err),
        "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000"
    );
    let key = key(&kms);
    let err = kms
        .list_key_policies(ListKeyPoliciesRequest {
            key_id: key.clone(),
            limit: Some(0),
            marker: Some(String::new()),
        })
        .unwrap_err();
    assert_eq!(
        validation(err),
        "2 validation errors detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; Value '' at 'marker' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    // A well-formed foreign marker: the advice is the hint.
    let err = kms
        .list_key_policies(ListKeyPoliciesRequest {
            key_id: key,
            limit: None,
            marker: Some("abc".into()),
        })
        .unwrap_err();
    assert_eq!(err.code(), "InvalidMarkerException");
    assert_eq!(
        err.message(),
        "Marker 'abc' is not one this service returned."
    );
    assert!(err.hint().is_some_and(|h| h.contains("one page")));
}

#[test]
fn policy_name_violations_show_the_value() {
    let kms = kms();
    let key = key(&kms);
    let err = kms
        .put_key_policy(PutKeyPolicyRequest {
            policy_name: Some("no-dash".into()),
            ..PutKeyPolicyRequest::new(&key, "{}")
        })
        .unwrap_err();
    assert_eq!(
        validation(err),
        "1 validation error detected: Value 'no-dash' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+"
    );
}

#[test]
fn secrets_are_never_shown_and_both_credential_parts_are_reported() {
    let secret = "s3cr3t!";
    let err = XksCredential::new("lowercase", secret).unwrap_err();
    let text = validation(err);
    assert!(
        !text.contains(secret) && !text.contains("lowercase"),
        "{text}"
    );
    assert_eq!(
        text,
        "4 validation errors detected: Value at 'xksProxyAuthenticationCredential.accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[A-Z2-7]+$; Value at 'xksProxyAuthenticationCredential.accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 20; Value at 'xksProxyAuthenticationCredential.rawSecretAccessKey' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9\\/+=]+$; Value at 'xksProxyAuthenticationCredential.rawSecretAccessKey' failed to satisfy constraint: Member must have length greater than or equal to 43"
    );

    let kms = kms();
    let err = kms
        .create_custom_key_store(CreateCustomKeyStoreRequest {
            custom_key_store_name: "hsm".into(),
            cloud_hsm_cluster_id: Some("cluster-234567abcdef".into()),
            trust_anchor_certificate: Some("cert".into()),
            key_store_password: Some("short".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(
        validation(err),
        "1 validation error detected: Value at 'keyStorePassword' failed to satisfy constraint: Member must have length greater than or equal to 7"
    );
}

#[test]
fn a_missing_member_is_value_null_with_the_rule_in_the_hint() {
    let kms = kms();
    let err = kms
        .create_custom_key_store(CreateCustomKeyStoreRequest {
            custom_key_store_name: "hsm".into(),
            trust_anchor_certificate: Some("cert".into()),
            key_store_password: Some("kmsPswd123".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(
        err.hint(),
        Some("A custom key store of type AWS_CLOUDHSM needs this member.")
    );
    assert_eq!(
        validation(err),
        "1 validation error detected: Value null at 'cloudHsmClusterId' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn xks_endpoint_breaking_pattern_and_length_reports_both() {
    let kms = kms();
    let err = kms
        .create_custom_key_store(CreateCustomKeyStoreRequest {
            custom_key_store_name: "xks".into(),
            custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
            xks_proxy_uri_endpoint: Some("http://a".into()),
            xks_proxy_uri_path: Some("/kms/xks/v1".into()),
            xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
            xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
                access_key_id: "A".repeat(20),
                raw_secret_access_key: "a".repeat(43).into(),
            }),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(
        validation(err),
        "2 validation errors detected: Value 'http://a' at 'xksProxyUriEndpoint' failed to satisfy constraint: Member must satisfy regular expression pattern: ^https://[a-zA-Z0-9.-]+$; Value 'http://a' at 'xksProxyUriEndpoint' failed to satisfy constraint: Member must have length greater than or equal to 10"
    );
}

#[test]
fn describe_by_id_and_name_is_a_short_fact_with_a_hint() {
    let kms = kms();
    let err = kms
        .describe_custom_key_stores(DescribeCustomKeyStoresRequest {
            custom_key_store_id: Some("cks-1234567890abcdef0".into()),
            custom_key_store_name: Some("x".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(
        validation(err.clone()),
        "CustomKeyStoreId and CustomKeyStoreName cannot both be specified."
    );
    assert!(err.hint().is_some());
}
