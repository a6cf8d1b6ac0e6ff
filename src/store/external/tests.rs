//! Tests of the XKS model: round trips, AAD binding, fault switches, the
//! error-mapping table, credentials, determinism and redaction.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::time::Duration;

use super::api::gcm_aad;
use super::mapping::{
    XksCallSite, connection_error_code, kms_error, vpc_connection_error_code, vpc_error,
};
use super::*;
use crate::error::ErrorCode;
use crate::store::ConnectionErrorCode;

const SECRET: &str = "PLANTEDsecretPLANTEDsecretPLANTEDsecret1234";
const ENDPOINT: &str = "https://xks.example.com";

fn uri() -> XksProxyUri {
    XksProxyUri::new(ENDPOINT, "/kms/xks/v1").unwrap()
}

fn cred() -> XksCredential {
    XksCredential::new("ABCDEFGHIJKLMNOPQRST", SECRET).unwrap()
}

fn setup(seed: Option<u64>) -> (InMemoryExternalKeyManager, XksCall, XksKeyId) {
    let ekm = InMemoryExternalKeyManager::new(uri(), cred(), seed);
    let key = ekm.add_aes_key("key-1").unwrap();
    (ekm, XksCall::new(uri(), cred()), key)
}

fn meta(op: &str) -> RequestMetadata {
    RequestMetadata::new(op, "req-1")
}

fn enc(
    ekm: &InMemoryExternalKeyManager,
    call: &XksCall,
    key: &XksKeyId,
    aad: Option<&[u8]>,
) -> Result<XksEncryptResponse, XksError> {
    let req = XksEncryptRequest::new(
        meta("Encrypt"),
        b"kms-layer-bytes".into(),
        aad.map(<[u8]>::to_vec),
    );
    ekm.encrypt(call, key, req)
}

fn dec(
    ekm: &InMemoryExternalKeyManager,
    call: &XksCall,
    key: &XksKeyId,
    out: &XksEncryptResponse,
    aad: Option<&[u8]>,
) -> Result<Vec<u8>, XksError> {
    let req = XksDecryptRequest::for_response(meta("Decrypt"), out, aad.map(<[u8]>::to_vec));
    ekm.decrypt(call, key, req)
        .map(|r| r.plaintext.expose_secret().to_vec())
}

#[test]
fn encrypt_then_decrypt_round_trips_without_metadata() {
    let (ekm, call, key) = setup(Some(1));
    let out = enc(&ekm, &call, &key, Some(b"header")).unwrap();
    assert_eq!(out.ciphertext.len(), b"kms-layer-bytes".len());
    assert_eq!(out.initialization_vector.len(), 12);
    assert_eq!(out.authentication_tag.len(), 16);
    assert_eq!(out.ciphertext_metadata, None);
    assert_eq!(
        dec(&ekm, &call, &key, &out, Some(b"header")).unwrap(),
        b"kms-layer-bytes"
    );
}

#[test]
fn encrypt_then_decrypt_round_trips_with_metadata() {
    let (ekm, call, key) = setup(Some(1));
    ekm.set_ciphertext_metadata(Some(b"v=1")).unwrap();
    let out = enc(&ekm, &call, &key, Some(b"header")).unwrap();
    assert_eq!(out.ciphertext_metadata.as_deref(), Some(&b"v=1"[..]));
    assert_eq!(
        dec(&ekm, &call, &key, &out, Some(b"header")).unwrap(),
        b"kms-layer-bytes"
    );
}

#[test]
fn decrypt_fails_when_aad_or_metadata_or_tag_changes() {
    let (ekm, call, key) = setup(Some(1));
    ekm.set_ciphertext_metadata(Some(b"v=1")).unwrap();
    let out = enc(&ekm, &call, &key, Some(b"header")).unwrap();
    assert_eq!(
        dec(&ekm, &call, &key, &out, Some(b"other")),
        Err(XksError::InvalidCiphertext)
    );
    assert_eq!(
        dec(&ekm, &call, &key, &out, None),
        Err(XksError::InvalidCiphertext)
    );
    let mut m = out.clone();
    m.ciphertext_metadata = Some(b"v=2".to_vec());
    assert_eq!(
        dec(&ekm, &call, &key, &m, Some(b"header")),
        Err(XksError::InvalidCiphertext)
    );
    let mut t = out.clone();
    t.authentication_tag[0] ^= 1;
    assert_eq!(
        dec(&ekm, &call, &key, &t, Some(b"header")),
        Err(XksError::InvalidCiphertext)
    );
    let other = ekm.add_aes_key("key-2").unwrap();
    assert_eq!(
        dec(&ekm, &call, &other, &out, Some(b"header")),
        Err(XksError::InvalidCiphertext)
    );
}

#[test]
fn metadata_cannot_be_moved_into_the_aad() {
    let (ekm, call, key) = setup(Some(1));
    ekm.set_ciphertext_metadata(Some(b"meta")).unwrap();
    let out = enc(&ekm, &call, &key, None).unwrap();
    let mut moved = out.clone();
    moved.ciphertext_metadata = None;
    assert_eq!(
        dec(&ekm, &call, &key, &moved, Some(b"meta")),
        Err(XksError::InvalidCiphertext)
    );
}

#[test]
fn gcm_aad_follows_the_length_prefixed_layout() {
    assert_eq!(gcm_aad(Some(b"ab"), None).unwrap().as_ref(), b"ab");
    assert_eq!(
        gcm_aad(Some(b"ab"), Some(b"xyz")).unwrap().as_ref(),
        [0, 2, b'a', b'b', 3, b'x', b'y', b'z']
    );
    assert_eq!(gcm_aad(None, Some(b"m")).unwrap().as_ref(), [0, 0, 1, b'm']);
    assert!(gcm_aad(None, Some(&[0; 256])).is_none());
}

#[test]
fn oversized_metadata_is_returned_so_kms_can_reject_it() {
    let (ekm, call, key) = setup(Some(1));
    ekm.set_ciphertext_metadata(Some(&[7; 21])).unwrap();
    let out = enc(&ekm, &call, &key, None).unwrap();
    assert_eq!(out.ciphertext_metadata.unwrap().len(), 21);
    assert!(ekm.set_ciphertext_metadata(Some(&[7; 256])).is_err());
}

#[test]
fn the_same_seed_gives_the_same_ciphertext() {
    let (a, call, key) = setup(Some(42));
    let (b, _, _) = setup(Some(42));
    assert_eq!(
        enc(&a, &call, &key, None).unwrap(),
        enc(&b, &call, &key, None).unwrap()
    );
    let (c, _, _) = setup(Some(43));
    assert_ne!(
        enc(&a, &call, &key, None).unwrap(),
        enc(&c, &call, &key, None).unwrap()
    );
}

#[test]
fn key_status_and_usage_and_existence_are_enforced() {
    let (ekm, call, key) = setup(None);
    ekm.disable_key(&key).unwrap();
    assert_eq!(enc(&ekm, &call, &key, None), Err(XksError::InvalidState));
    ekm.enable_key(&key).unwrap();
    let out = enc(&ekm, &call, &key, None).unwrap();
    ekm.delete_key(&key).unwrap();
    assert_eq!(
        dec(&ekm, &call, &key, &out, None),
        Err(XksError::KeyNotFound)
    );
    assert_eq!(enc(&ekm, &call, &key, None), Err(XksError::KeyNotFound));
    let wrap = ekm
        .add_key(
            "wrap-only",
            XksKeySpec::Aes256,
            &[XksKeyUsage::Wrap, XksKeyUsage::Unwrap],
            XksKeyStatus::Enabled,
        )
        .unwrap();
    assert_eq!(
        enc(&ekm, &call, &wrap, None),
        Err(XksError::InvalidKeyUsage)
    );
    let rsa = ekm
        .add_key(
            "rsa",
            XksKeySpec::Rsa2048,
            &[XksKeyUsage::Encrypt, XksKeyUsage::Decrypt],
            XksKeyStatus::Enabled,
        )
        .unwrap();
    assert_eq!(enc(&ekm, &call, &rsa, None), Err(XksError::InvalidKeyUsage));
    let md = ekm
        .get_key_metadata(&call, &rsa, &KeyMetadataRequest::default())
        .unwrap();
    assert_eq!(md.key_spec, XksKeySpec::Rsa2048);
    assert!(!md.is_usable_by_kms());
    assert!(ekm.add_aes_key("rsa").is_err(), "duplicate id");
    assert!(ekm.add_aes_key("bad/id").is_err());
}

#[test]
fn get_key_metadata_reports_spec_usage_and_status() {
    let (ekm, call, key) = setup(None);
    let md = ekm
        .get_key_metadata(&call, &key, &KeyMetadataRequest::default())
        .unwrap();
    assert!(md.is_usable_by_kms());
    ekm.disable_key(&key).unwrap();
    let md = ekm
        .get_key_metadata(&call, &key, &KeyMetadataRequest::default())
        .unwrap();
    assert_eq!(md.key_status, XksKeyStatus::Disabled);
    assert!(!md.is_usable_by_kms());
}

#[test]
fn wrong_or_rotated_credential_is_rejected() {
    let (ekm, call, key) = setup(None);
    let other = XksCredential::new("ZZZZZZZZZZZZZZZZZZZZ", SECRET).unwrap();
    let wrong = XksCall::new(uri(), other.clone());
    assert_eq!(
        enc(&ekm, &wrong, &key, None),
        Err(XksError::AuthenticationFailed)
    );
    ekm.rotate_credential(other);
    assert_eq!(
        enc(&ekm, &call, &key, None),
        Err(XksError::AuthenticationFailed)
    );
    assert!(enc(&ekm, &wrong, &key, None).is_ok());
}

#[test]
fn wrong_uri_path_is_rejected() {
    let (ekm, _, key) = setup(None);
    let call = XksCall::new(
        XksProxyUri::new(ENDPOINT, "/other/kms/xks/v1").unwrap(),
        cred(),
    );
    assert_eq!(enc(&ekm, &call, &key, None), Err(XksError::InvalidUriPath));
}

#[test]
fn each_fault_switch_makes_calls_fail_and_can_be_cleared() {
    let (ekm, call, key) = setup(None);
    type Switch = fn(&InMemoryExternalKeyManager, bool);
    let switches: [(Switch, XksError); 6] = [
        (
            InMemoryExternalKeyManager::set_unreachable,
            XksError::Unreachable,
        ),
        (
            InMemoryExternalKeyManager::set_invalid_tls,
            XksError::InvalidTls,
        ),
        (
            InMemoryExternalKeyManager::set_malformed_response,
            XksError::InvalidResponse,
        ),
        (
            InMemoryExternalKeyManager::set_throttling,
            XksError::Throttling,
        ),
        (
            InMemoryExternalKeyManager::set_access_denied,
            XksError::AccessDenied,
        ),
        (
            InMemoryExternalKeyManager::set_internal_error,
            XksError::Internal,
        ),
    ];
    for (switch, err) in switches {
        switch(&ekm, true);
        assert_eq!(enc(&ekm, &call, &key, None), Err(err));
        assert_eq!(
            ekm.get_health_status(&call, &HealthStatusRequest::default()),
            Err(err)
        );
        switch(&ekm, false);
        assert!(enc(&ekm, &call, &key, None).is_ok());
    }
}

#[test]
fn transport_faults_win_over_credential_checks_but_others_do_not() {
    let (ekm, _, key) = setup(None);
    let wrong = XksCall::new(
        uri(),
        XksCredential::new("ZZZZZZZZZZZZZZZZZZZZ", SECRET).unwrap(),
    );
    ekm.set_unreachable(true);
    assert_eq!(enc(&ekm, &wrong, &key, None), Err(XksError::Unreachable));
    ekm.set_unreachable(false);
    ekm.set_throttling(true);
    assert_eq!(
        enc(&ekm, &wrong, &key, None),
        Err(XksError::AuthenticationFailed)
    );
}

#[test]
fn faults_can_target_one_operation() {
    let (ekm, call, key) = setup(None);
    ekm.inject_fault(Some(XksOperation::Decrypt), XksError::DependencyTimeout);
    let out = enc(&ekm, &call, &key, None).unwrap();
    assert_eq!(
        dec(&ekm, &call, &key, &out, None),
        Err(XksError::DependencyTimeout)
    );
    ekm.clear_faults();
    assert!(dec(&ekm, &call, &key, &out, None).is_ok());
}

#[test]
fn latency_beyond_the_deadline_times_out_without_sleeping() {
    let (ekm, call, key) = setup(None);
    ekm.set_latency(Latency::simulated(Duration::from_secs(3600)));
    let started = std::time::Instant::now();
    assert_eq!(enc(&ekm, &call, &key, None), Err(XksError::TimedOut));
    assert!(started.elapsed() < Duration::from_secs(5));
    ekm.set_latency(Latency::simulated(Duration::from_millis(100)));
    assert!(enc(&ekm, &call, &key, None).is_ok());
    let patient = call.clone().with_deadline(Duration::from_secs(7200));
    ekm.set_latency(Latency::simulated(Duration::from_secs(3600)));
    assert!(enc(&ekm, &patient, &key, None).is_ok());
}

#[test]
fn real_latency_really_sleeps() {
    let (ekm, call, key) = setup(None);
    ekm.set_latency(Latency::real(Duration::from_millis(20)));
    let started = std::time::Instant::now();
    assert!(enc(&ekm, &call, &key, None).is_ok());
    assert!(started.elapsed() >= Duration::from_millis(20));
    let short = call.with_deadline(Duration::from_millis(5));
    assert_eq!(enc(&ekm, &short, &key, None), Err(XksError::TimedOut));
}

#[test]
fn health_reports_the_fleet_and_its_availability() {
    let (ekm, call, _) = setup(None);
    let h = ekm
        .get_health_status(&call, &HealthStatusRequest::default())
        .unwrap();
    assert!(h.is_available() && h.xks_proxy_fleet_size > 0 && !h.ekm_fleet_details.is_empty());
    ekm.set_ekm_health(EkmHealthStatus::Degraded);
    assert!(
        ekm.get_health_status(&call, &HealthStatusRequest::default())
            .unwrap()
            .is_available()
    );
    ekm.set_ekm_health(EkmHealthStatus::Unavailable);
    assert!(
        !ekm.get_health_status(&call, &HealthStatusRequest::default())
            .unwrap()
            .is_available()
    );
}

#[test]
fn calls_are_counted_per_operation_including_failures() {
    let (ekm, call, key) = setup(None);
    let out = enc(&ekm, &call, &key, None).unwrap();
    dec(&ekm, &call, &key, &out, None).unwrap();
    ekm.set_unreachable(true);
    let _ = enc(&ekm, &call, &key, None);
    assert_eq!(ekm.calls(XksOperation::Encrypt), 2);
    assert_eq!(ekm.calls(XksOperation::Decrypt), 1);
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), 0);
    let clone = ekm.clone();
    clone.reset_call_counts();
    assert_eq!(ekm.calls(XksOperation::Encrypt), 0, "clones share counters");
}

#[test]
fn credential_and_uri_validation_follow_the_api_model() {
    assert!(
        XksCredential::new("ABCDEFGHIJKLMNOPQRS", SECRET).is_err(),
        "19 chars"
    );
    assert!(
        XksCredential::new("ABCDEFGHIJKLMNOPQRS1", SECRET).is_err(),
        "1 is not base32"
    );
    assert!(XksCredential::new("ABCDEFGHIJKLMNOPQRST", &"a".repeat(42)).is_err());
    assert!(XksCredential::new("ABCDEFGHIJKLMNOPQRST", &"a".repeat(65)).is_err());
    assert!(XksCredential::new("ABCDEFGHIJKLMNOPQRST", &format!("{}!", "a".repeat(43))).is_err());
    let e = XksCredential::new("ABCDEFGHIJKLMNOPQRST", &format!("{}!", SECRET)).unwrap_err();
    assert!(!e.message().contains("PLANTED"));
    assert!(XksProxyUri::new("https://a.example.com", "/kms/xks/v1").is_ok());
    assert!(XksProxyUri::new("https://a.example.com", "/prefix_1/kms/xks/v12").is_ok());
    assert!(XksProxyUri::new("http://a.example.com", "/kms/xks/v1").is_err());
    assert!(XksProxyUri::new("https://a.example.com:443", "/kms/xks/v1").is_err());
    assert!(XksProxyUri::new("https://a.example.com", "/kms/xks/v123").is_err());
    assert!(XksProxyUri::new("https://a.example.com", "prefix/kms/xks/v1").is_err());
}

#[test]
fn debug_and_serde_never_show_the_secret_or_key_material() {
    let (ekm, call, key) = setup(Some(9));
    let text = format!("{ekm:?} {call:?} {:?}", cred());
    assert!(!text.contains("PLANTED"), "{text}");
    assert!(text.contains("ABCDEFGHIJKLMNOPQRST"));
    // Key material comes from the seeded stream: recompute it and look for it.
    let material = crate::crypto::rng::SecureRng::new(Some(9)).array::<32>();
    let hex: String = material.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&hex) && !text.contains(&format!("{material:?}")));
    let req = XksEncryptRequest::new(meta("Encrypt"), b"PLANTEDplaintext".into(), None);
    let json = serde_json::to_string(&req).unwrap();
    assert!(!json.contains("PLANTED") && !format!("{req:?}").contains("PLANTED"));
    let out = ekm.encrypt(&call, &key, req).unwrap();
    let back = ekm
        .decrypt(
            &call,
            &key,
            XksDecryptRequest::for_response(meta("Decrypt"), &out, None),
        )
        .unwrap();
    assert!(!format!("{back:?}").contains("PLANTED"));
    assert!(!serde_json::to_string(&back).unwrap().contains("PLANTED"));
}

#[test]
fn bodies_use_the_api_camel_case_names_and_base64() {
    let (ekm, call, key) = setup(Some(1));
    ekm.set_ciphertext_metadata(Some(b"m")).unwrap();
    let out = enc(&ekm, &call, &key, Some(b"a")).unwrap();
    let json = serde_json::to_value(&out).unwrap();
    for f in [
        "ciphertext",
        "ciphertextMetadata",
        "initializationVector",
        "authenticationTag",
    ] {
        assert!(json.get(f).is_some_and(|v| v.is_string()), "{f}");
    }
    let back: XksEncryptResponse = serde_json::from_value(json).unwrap();
    assert_eq!(back, out);
    let req = XksDecryptRequest::for_response(meta("Decrypt"), &out, Some(b"a".to_vec()));
    let json = serde_json::to_value(&req).unwrap();
    assert_eq!(json["encryptionAlgorithm"], "AES_GCM");
    assert_eq!(json["additionalAuthenticatedData"], "YQ==");
    assert_eq!(json["requestMetadata"]["kmsOperation"], "Decrypt");
    assert_eq!(
        serde_json::from_value::<XksDecryptRequest>(json).unwrap(),
        req
    );
    let md: KeyMetadataResponse = serde_json::from_str(
        r#"{"keySpec":"AES_256","keyUsage":["ENCRYPT","DECRYPT"],"keyStatus":"ENABLED"}"#,
    )
    .unwrap();
    assert!(md.is_usable_by_kms());
    let h = ekm
        .get_health_status(&call, &HealthStatusRequest::default())
        .unwrap();
    let json = serde_json::to_value(&h).unwrap();
    assert_eq!(json["ekmFleetDetails"][0]["healthStatus"], "ACTIVE");
    assert!(json.get("xksProxyFleetSize").is_some());
}

#[test]
fn errors_carry_names_and_statuses_of_the_proxy_api() {
    let expect = [
        (XksError::Validation, "ValidationException", 400),
        (XksError::InvalidState, "InvalidStateException", 400),
        (
            XksError::InvalidCiphertext,
            "InvalidCiphertextException",
            400,
        ),
        (XksError::InvalidKeyUsage, "InvalidKeyUsageException", 400),
        (
            XksError::AuthenticationFailed,
            "AuthenticationFailedException",
            401,
        ),
        (XksError::AccessDenied, "AccessDeniedException", 403),
        (XksError::KeyNotFound, "KeyNotFoundException", 404),
        (XksError::InvalidUriPath, "InvalidUriPathException", 404),
        (
            XksError::UnsupportedOperation,
            "UnsupportedOperationException",
            501,
        ),
        (XksError::Throttling, "ThrottlingException", 429),
        (XksError::Internal, "InternalException", 500),
        (
            XksError::DependencyTimeout,
            "DependencyTimeoutException",
            503,
        ),
    ];
    for (e, name, status) in expect {
        assert_eq!(e.error_name(), Some(name));
        assert_eq!(e.http_status(), Some(status));
        assert_eq!(XksError::from_error_name(name), e);
    }
    for e in [
        XksError::Unreachable,
        XksError::TimedOut,
        XksError::InvalidResponse,
        XksError::InvalidTls,
    ] {
        assert!(e.is_transport() && e.http_status().is_none());
    }
    assert_eq!(
        XksError::from_error_name("Bogus"),
        XksError::InvalidResponse
    );
    let body: XksErrorBody =
        serde_json::from_str(r#"{"errorName":"KeyNotFoundException","errorMessage":"x"}"#).unwrap();
    assert_eq!(body.error(), XksError::KeyNotFound);
}

#[test]
fn error_mapping_follows_the_spec_table_in_every_context() {
    use ErrorCode as K;
    use XksError as E;
    // (error, Create/Update, CreateKey, Connect code)
    let table = [
        (
            E::Validation,
            K::XksProxyInvalidResponse,
            K::CustomKeyStoreInvalidState,
            ConnectionErrorCode::XksProxyInvalidResponse,
        ),
        (
            E::InvalidState,
            K::XksProxyInvalidResponse,
            K::XksKeyInvalidConfiguration,
            ConnectionErrorCode::XksProxyInvalidResponse,
        ),
        (
            E::InvalidCiphertext,
            K::XksProxyInvalidResponse,
            K::CustomKeyStoreInvalidState,
            ConnectionErrorCode::XksProxyInvalidResponse,
        ),
        (
            E::InvalidKeyUsage,
            K::XksProxyInvalidResponse,
            K::XksKeyInvalidConfiguration,
            ConnectionErrorCode::XksProxyInvalidResponse,
        ),
        (
            E::AuthenticationFailed,
            K::XksProxyIncorrectAuthenticationCredential,
            K::CustomKeyStoreInvalidState,
            ConnectionErrorCode::InvalidCredentials,
        ),
        (
            E::AccessDenied,
            K::XksProxyInvalidConfiguration,
            K::CustomKeyStoreInvalidState,
            ConnectionErrorCode::XksProxyAccessDenied,
        ),
        (
            E::KeyNotFound,
            K::XksProxyInvalidResponse,
            K::XksKeyNotFound,
            ConnectionErrorCode::XksProxyInvalidResponse,
        ),
        (
            E::InvalidUriPath,
            K::XksProxyInvalidConfiguration,
            K::CustomKeyStoreInvalidState,
            ConnectionErrorCode::XksProxyInvalidConfiguration,
        ),
        (
            E::UnsupportedOperation,
            K::XksProxyInvalidResponse,
            K::XksKeyInvalidConfiguration,
            ConnectionErrorCode::XksProxyInvalidResponse,
        ),
        (
            E::Throttling,
            K::XksProxyUriUnreachable,
            K::CustomKeyStoreInvalidState,
            ConnectionErrorCode::XksProxyNotReachable,
        ),
        (
            E::Internal,
            K::XksProxyInvalidResponse,
            K::CustomKeyStoreInvalidState,
            ConnectionErrorCode::XksProxyInvalidResponse,
        ),
        (
            E::DependencyTimeout,
            K::XksProxyUriUnreachable,
            K::CustomKeyStoreInvalidState,
            ConnectionErrorCode::XksProxyNotReachable,
        ),
        (
            E::Unreachable,
            K::XksProxyUriUnreachable,
            K::CustomKeyStoreInvalidState,
            ConnectionErrorCode::XksProxyNotReachable,
        ),
        (
            E::TimedOut,
            K::XksProxyUriUnreachable,
            K::CustomKeyStoreInvalidState,
            ConnectionErrorCode::XksProxyTimedOut,
        ),
        (
            E::InvalidResponse,
            K::XksProxyInvalidResponse,
            K::CustomKeyStoreInvalidState,
            ConnectionErrorCode::XksProxyInvalidResponse,
        ),
        (
            E::InvalidTls,
            K::XksProxyUriUnreachable,
            K::CustomKeyStoreInvalidState,
            ConnectionErrorCode::XksProxyInvalidTlsConfiguration,
        ),
    ];
    assert_eq!(table.len(), XksError::values().len());
    for (e, store, create_key, code) in table {
        let s = kms_error(e, XksCallSite::CreateOrUpdateStore, "cks-1234567890abcdef0");
        assert_eq!(s.kind(), store, "{e:?}");
        assert!(s.message().contains("cks-1234567890abcdef0"));
        assert_eq!(
            kms_error(e, XksCallSite::CreateKey, "cks-1").kind(),
            create_key,
            "{e:?}"
        );
        assert_eq!(
            kms_error(e, XksCallSite::Crypto, "cks-1").kind(),
            K::KmsInvalidState,
            "{e:?}"
        );
        assert_eq!(connection_error_code(e), code, "{e:?}");
    }
    assert_eq!(
        mapping::fleet_unavailable_error("cks-1").kind(),
        K::XksProxyUriUnreachable
    );
}

#[test]
fn vpc_endpoint_services_resolve_or_report_their_problem() {
    let net = XksNetwork::new();
    let name = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0";
    assert_eq!(
        net.resolve_vpc_endpoint_service(name),
        Err(VpcEndpointServiceError::NotFound)
    );
    net.register_vpc_endpoint_service(name, VpcEndpointService::new(ENDPOINT));
    assert_eq!(net.resolve_vpc_endpoint_service(name).unwrap(), ENDPOINT);
    let mut bad = VpcEndpointService::new(ENDPOINT);
    bad.invalid_configuration = true;
    net.register_vpc_endpoint_service(name, bad.clone());
    let err = net.resolve_vpc_endpoint_service(name).unwrap_err();
    assert_eq!(err, VpcEndpointServiceError::InvalidConfiguration);
    assert_eq!(
        vpc_error(err, name).kind(),
        ErrorCode::XksProxyVpcEndpointServiceInvalidConfiguration
    );
    assert_eq!(
        vpc_connection_error_code(err),
        ConnectionErrorCode::XksVpcEndpointServiceInvalidConfiguration
    );
    bad.not_found = true;
    net.register_vpc_endpoint_service(name, bad);
    let err = net.resolve_vpc_endpoint_service(name).unwrap_err();
    assert_eq!(
        vpc_error(err, name).kind(),
        ErrorCode::XksProxyVpcEndpointServiceNotFound
    );
    assert_eq!(
        vpc_connection_error_code(err),
        ConnectionErrorCode::XksVpcEndpointServiceNotFound
    );
}

#[test]
fn the_network_resolves_attached_managers_and_is_unreachable_elsewhere() {
    let (ekm, call, key) = setup(None);
    let net = XksNetwork::new();
    assert_eq!(net.resolve(&uri()).err(), Some(XksError::Unreachable));
    net.attach(ENDPOINT, Arc::new(ekm.clone()));
    let proxy = net.clone().resolve(&uri()).unwrap();
    let req = XksEncryptRequest::new(meta("Encrypt"), b"x".into(), None);
    assert!(proxy.encrypt(&call, &key, req).is_ok());
    assert_eq!(
        ekm.calls(XksOperation::Encrypt),
        1,
        "the network reaches the same manager"
    );
    assert!(net.detach(ENDPOINT));
    assert_eq!(net.resolve(&uri()).err(), Some(XksError::Unreachable));
}

#[test]
fn managers_are_send_sync_and_usable_as_trait_objects() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<InMemoryExternalKeyManager>();
    assert_send_sync::<XksNetwork>();
    assert_send_sync::<XksCredential>();
    let _: Arc<dyn ExternalKeyManager> = Arc::new(setup(None).0);
}

/// A manager that implements only the owned calls, delegating to an
/// in-memory one and bending its answers: what a client for a remote
/// proxy looks like to KMS, which uses the provided in-place forms.
#[derive(Debug)]
struct OwnedOnly {
    inner: InMemoryExternalKeyManager,
    /// Bytes added to every Encrypt ciphertext and Decrypt plaintext.
    extra: usize,
    /// The IV length of every Encrypt answer (`None`: as given).
    iv_len: Option<usize>,
}

impl ExternalKeyManager for OwnedOnly {
    fn get_health_status(
        &self,
        call: &XksCall,
        request: &HealthStatusRequest,
    ) -> Result<HealthStatusResponse, XksError> {
        self.inner.get_health_status(call, request)
    }

    fn get_key_metadata(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: &KeyMetadataRequest,
    ) -> Result<KeyMetadataResponse, XksError> {
        self.inner.get_key_metadata(call, key_id, request)
    }

    fn encrypt(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: XksEncryptRequest,
    ) -> Result<XksEncryptResponse, XksError> {
        let mut r = self.inner.encrypt(call, key_id, request)?;
        r.ciphertext.extend(std::iter::repeat_n(0, self.extra));
        if let Some(n) = self.iv_len {
            r.initialization_vector.resize(n, 0);
        }
        Ok(r)
    }

    fn decrypt(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: XksDecryptRequest,
    ) -> Result<XksDecryptResponse, XksError> {
        let r = self.inner.decrypt(call, key_id, request)?;
        let mut p = r.plaintext.expose_secret().to_vec();
        p.extend(std::iter::repeat_n(0, self.extra));
        Ok(XksDecryptResponse {
            plaintext: p.into(),
        })
    }
}

fn owned_only(seed: u64, extra: usize, iv_len: Option<usize>) -> OwnedOnly {
    let (inner, _, _) = setup(Some(seed));
    OwnedOnly {
        inner,
        extra,
        iv_len,
    }
}

fn in_place_request(aad: &[u8]) -> XksEncryptInPlace<'_> {
    XksEncryptInPlace {
        request_metadata: RequestMetadataRef {
            kms_operation: "Encrypt",
            kms_request_id: "req-1",
            ..RequestMetadataRef::default()
        },
        additional_authenticated_data: Some(aad),
    }
}

fn in_place_decrypt<'a>(aad: &'a [u8], sealed: &'a XksSealed) -> XksDecryptInPlace<'a> {
    XksDecryptInPlace {
        request_metadata: RequestMetadataRef {
            kms_operation: "Decrypt",
            kms_request_id: "req-1",
            ..RequestMetadataRef::default()
        },
        additional_authenticated_data: Some(aad),
        ciphertext_metadata: sealed.ciphertext_metadata(),
        initialization_vector: sealed.initialization_vector(),
        authentication_tag: sealed.authentication_tag(),
    }
}

#[test]
fn the_in_place_forms_give_what_the_owned_forms_give() {
    // The in-memory manager's own in-place calls, and the provided ones
    // over a manager with only the owned calls, against the owned answer
    // of a manager with the same seed.
    let (owned, call, key) = setup(Some(9));
    let expected = enc(&owned, &call, &key, Some(b"header")).unwrap();
    let (in_memory, _, _) = setup(Some(9));
    let adapted = owned_only(9, 0, None);
    for manager in [&in_memory as &dyn ExternalKeyManager, &adapted] {
        let mut buf = b"kms-layer-bytes".to_vec();
        let sealed = manager
            .encrypt_in_place(&call, &key, &in_place_request(b"header"), &mut buf)
            .unwrap();
        assert_eq!(buf, expected.ciphertext);
        assert_eq!(
            sealed.initialization_vector(),
            expected.initialization_vector
        );
        assert_eq!(sealed.authentication_tag()[..], expected.authentication_tag);
        assert_eq!(sealed.ciphertext_metadata(), None);
        manager
            .decrypt_in_place(&call, &key, &in_place_decrypt(b"header", &sealed), &mut buf)
            .unwrap();
        assert_eq!(buf, b"kms-layer-bytes");
        // The AAD is bound in place as in the owned form.
        let mut again = expected.ciphertext.clone();
        assert_eq!(
            manager.decrypt_in_place(
                &call,
                &key,
                &in_place_decrypt(b"other", &sealed),
                &mut again
            ),
            Err(XksError::InvalidCiphertext)
        );
    }
}

#[test]
fn in_place_metadata_is_returned_and_authenticated() {
    let (ekm, call, key) = setup(Some(3));
    ekm.set_ciphertext_metadata(Some(b"vendor")).unwrap();
    let mut buf = b"kms-layer-bytes".to_vec();
    let sealed = ekm
        .encrypt_in_place(&call, &key, &in_place_request(b"h"), &mut buf)
        .unwrap();
    assert_eq!(sealed.ciphertext_metadata(), Some(&b"vendor"[..]));
    let tampered = XksSealed::new(
        sealed.initialization_vector(),
        sealed.authentication_tag(),
        Some(b"vendoR"),
    )
    .unwrap();
    let mut copy = buf.clone();
    assert_eq!(
        ekm.decrypt_in_place(&call, &key, &in_place_decrypt(b"h", &tampered), &mut copy),
        Err(XksError::InvalidCiphertext)
    );
    ekm.decrypt_in_place(&call, &key, &in_place_decrypt(b"h", &sealed), &mut buf)
        .unwrap();
    assert_eq!(buf, b"kms-layer-bytes");
}

#[test]
fn the_provided_in_place_forms_refuse_answers_kms_rejects() {
    let (_, call, key) = setup(Some(5));
    // A longer ciphertext, and IVs of neither 12 nor 16 bytes.
    for (extra, iv_len) in [(1, None), (0, Some(11)), (0, Some(13)), (0, Some(17))] {
        let manager = owned_only(5, extra, iv_len);
        let mut buf = b"kms-layer-bytes".to_vec();
        assert_eq!(
            manager.encrypt_in_place(&call, &key, &in_place_request(b"h"), &mut buf),
            Err(XksError::InvalidResponse),
            "{extra} extra bytes, IV of {iv_len:?}"
        );
    }
    // A 16-byte IV is the API's other length.
    let manager = owned_only(5, 0, Some(16));
    let mut buf = b"kms-layer-bytes".to_vec();
    let sealed = manager
        .encrypt_in_place(&call, &key, &in_place_request(b"h"), &mut buf)
        .unwrap();
    assert_eq!(sealed.initialization_vector().len(), 16);
    // A plaintext of another length than the ciphertext.
    let sealing = owned_only(5, 0, None);
    let mut buf = b"kms-layer-bytes".to_vec();
    let sealed = sealing
        .encrypt_in_place(&call, &key, &in_place_request(b"h"), &mut buf)
        .unwrap();
    let longer = owned_only(5, 1, None);
    assert_eq!(
        longer.decrypt_in_place(&call, &key, &in_place_decrypt(b"h", &sealed), &mut buf),
        Err(XksError::InvalidResponse)
    );
}

#[test]
fn a_sealed_answer_holds_only_the_apis_lengths() {
    for iv in [12, 16] {
        let sealed = XksSealed::new(&vec![1; iv], &[2; 16], None).unwrap();
        assert_eq!(sealed.initialization_vector(), vec![1; iv]);
        assert_eq!(sealed.authentication_tag(), &[2; 16]);
    }
    for iv in [0, 11, 13, 15, 17] {
        assert_eq!(
            XksSealed::new(&vec![1; iv], &[2; 16], None),
            Err(XksError::InvalidResponse),
            "IV of {iv} bytes"
        );
    }
    for tag in [0, 15, 17] {
        assert_eq!(
            XksSealed::new(&[1; 12], &vec![2; tag], None),
            Err(XksError::InvalidResponse),
            "tag of {tag} bytes"
        );
    }
}

#[test]
fn borrowed_metadata_becomes_the_same_owned_metadata() {
    let borrowed = RequestMetadataRef {
        aws_principal_arn: Some("arn:aws:iam::111122223333:user/alice"),
        kms_operation: "Encrypt",
        kms_request_id: "req-9",
        kms_key_arn: Some("arn:aws:kms:us-east-1:111122223333:key/k"),
        aws_source_vpc: Some("vpc-1"),
        aws_source_vpce: Some("vpce-1"),
        kms_via_service: Some("ec2.us-east-1.amazonaws.com"),
    };
    let owned = borrowed.to_request_metadata();
    assert_eq!(
        owned,
        RequestMetadata {
            aws_principal_arn: Some("arn:aws:iam::111122223333:user/alice".into()),
            kms_operation: "Encrypt".into(),
            kms_request_id: "req-9".into(),
            kms_key_arn: Some("arn:aws:kms:us-east-1:111122223333:key/k".into()),
            aws_source_vpc: Some("vpc-1".into()),
            aws_source_vpce: Some("vpce-1".into()),
            kms_via_service: Some("ec2.us-east-1.amazonaws.com".into()),
        }
    );
    let request = in_place_request(b"aad").to_request(b"p".into());
    assert_eq!(
        request.additional_authenticated_data.as_deref(),
        Some(&b"aad"[..])
    );
    assert_eq!(request.request_metadata.kms_request_id, "req-1");
}
