//! External key stores through `Kms`: CreateCustomKeyStore with every
//! validation, uniqueness and proxy check, DescribeCustomKeyStores without
//! the secret, Connect/Disconnect with every XKS connection error code,
//! UpdateCustomKeyStore and DeleteCustomKeyStore.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod xks;

use std::time::Duration;

use kms_keystore::xks::{EkmHealthStatus, Latency, VpcEndpointService, XksError, XksOperation};
use kms_keystore::{
    ConnectionErrorCode, ConnectionMode, ConnectionStateType, CreateCustomKeyStoreRequest,
    DescribeCustomKeyStoresRequest, Kms, KmsConfig, SecretString, UpdateCustomKeyStoreRequest,
    XksProxyAuthenticationCredential, XksProxyConnectivityType,
};
use xks::*;

fn code<T: std::fmt::Debug>(r: kms_keystore::Result<T>) -> &'static str {
    r.unwrap_err().code()
}

fn store_count(kms: &Kms) -> usize {
    kms.describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
        .unwrap()
        .custom_key_stores
        .len()
}

// ---- CreateCustomKeyStore ---------------------------------------------

#[test]
fn create_public_store_calls_get_health_status_once_and_starts_disconnected() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    let id = create_store(&f.kms, "xks");
    assert!(id.starts_with("cks-"));
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), 1);
    let d = describe(&f.kms, &id);
    assert_eq!(d.connection_state, ConnectionStateType::Disconnected);
    assert_eq!(d.connection_error_code, None);
    assert_eq!(d.custom_key_store_type.as_str(), "EXTERNAL_KEY_STORE");
    let x = d.xks_proxy_configuration.unwrap();
    assert_eq!(x.connectivity, XksProxyConnectivityType::PublicEndpoint);
    assert_eq!(x.access_key_id, ACCESS_KEY_ID);
    assert_eq!(x.uri_endpoint, ENDPOINT);
    assert_eq!(x.uri_path, PATH);
    assert_eq!(x.vpc_endpoint_service_name, None);
    assert_eq!(x.vpc_endpoint_service_owner, None);
    assert_eq!(d.cloud_hsm_cluster_id, None);
}

#[test]
fn create_vpc_store_does_not_call_the_proxy_and_defaults_the_owner_to_the_account() {
    let f = fixture();
    let ekm = proxy_at(&f.kms, VPC_ENDPOINT);
    vpc_service(&f.kms, VPC_SERVICE, VPC_ENDPOINT);
    let id = f
        .kms
        .create_custom_key_store(vpc_request("vpc", VPC_ENDPOINT, VPC_SERVICE))
        .unwrap()
        .custom_key_store_id;
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), 0);
    let x = describe(&f.kms, id.as_str())
        .xks_proxy_configuration
        .unwrap();
    assert_eq!(x.connectivity, XksProxyConnectivityType::VpcEndpointService);
    assert_eq!(x.vpc_endpoint_service_name.as_deref(), Some(VPC_SERVICE));
    assert_eq!(
        x.vpc_endpoint_service_owner.as_deref(),
        Some("111122223333")
    );
}

#[test]
fn create_vpc_store_keeps_a_given_owner() {
    let f = fixture();
    vpc_service(&f.kms, VPC_SERVICE, VPC_ENDPOINT);
    let req = CreateCustomKeyStoreRequest {
        xks_proxy_vpc_endpoint_service_owner: Some("444455556666".into()),
        ..vpc_request("vpc", VPC_ENDPOINT, VPC_SERVICE)
    };
    let id = f
        .kms
        .create_custom_key_store(req)
        .unwrap()
        .custom_key_store_id;
    let x = describe(&f.kms, id.as_str())
        .xks_proxy_configuration
        .unwrap();
    assert_eq!(
        x.vpc_endpoint_service_owner.as_deref(),
        Some("444455556666")
    );
}

#[test]
fn create_requires_every_xks_field() {
    let f = fixture();
    proxy(&f.kms);
    let base = public_request("xks", ENDPOINT);
    let cases: Vec<(&str, CreateCustomKeyStoreRequest)> = vec![
        (
            "xksProxyConnectivity",
            CreateCustomKeyStoreRequest {
                xks_proxy_connectivity: None,
                ..base.clone()
            },
        ),
        (
            "xksProxyUriEndpoint",
            CreateCustomKeyStoreRequest {
                xks_proxy_uri_endpoint: None,
                ..base.clone()
            },
        ),
        (
            "xksProxyUriPath",
            CreateCustomKeyStoreRequest {
                xks_proxy_uri_path: None,
                ..base.clone()
            },
        ),
        (
            "xksProxyAuthenticationCredential",
            CreateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: None,
                ..base.clone()
            },
        ),
        (
            "xksProxyVpcEndpointServiceName",
            CreateCustomKeyStoreRequest {
                xks_proxy_connectivity: Some(XksProxyConnectivityType::VpcEndpointService),
                ..base.clone()
            },
        ),
    ];
    for (field, req) in cases {
        let err = f.kms.create_custom_key_store(req).unwrap_err();
        assert_eq!(err.code(), "ValidationException", "{field}");
        assert!(err.message().contains(field), "{field}: {}", err.message());
    }
    assert_eq!(store_count(&f.kms), 0);
}

#[test]
fn cloudhsm_parameters_with_the_external_type_are_a_validation_error() {
    let f = fixture();
    proxy(&f.kms);
    let base = public_request("xks", ENDPOINT);
    for req in [
        CreateCustomKeyStoreRequest {
            cloud_hsm_cluster_id: Some("cluster-234567abcde".into()),
            ..base.clone()
        },
        CreateCustomKeyStoreRequest {
            trust_anchor_certificate: Some("-----BEGIN CERTIFICATE-----".into()),
            ..base.clone()
        },
        CreateCustomKeyStoreRequest {
            key_store_password: Some(SecretString::from("kmsPswd1")),
            ..base.clone()
        },
    ] {
        assert_eq!(
            code(f.kms.create_custom_key_store(req)),
            "ValidationException"
        );
    }
    assert_eq!(store_count(&f.kms), 0);
}

#[test]
fn every_xks_field_is_checked_against_the_api_pattern() {
    let f = fixture();
    proxy(&f.kms);
    vpc_service(&f.kms, VPC_SERVICE, VPC_ENDPOINT);
    let public = public_request("xks", ENDPOINT);
    let vpc = vpc_request("vpc", VPC_ENDPOINT, VPC_SERVICE);
    let cred = |id: &str, secret: &str| {
        Some(XksProxyAuthenticationCredential {
            access_key_id: id.into(),
            raw_secret_access_key: SecretString::from(secret),
        })
    };
    let bad: Vec<(&str, CreateCustomKeyStoreRequest)> = vec![
        (
            "xksProxyUriEndpoint",
            CreateCustomKeyStoreRequest {
                xks_proxy_uri_endpoint: Some("http://xks.example.com".into()),
                ..public.clone()
            },
        ),
        (
            "xksProxyUriEndpoint",
            CreateCustomKeyStoreRequest {
                xks_proxy_uri_endpoint: Some("https://xks.example.com:443".into()),
                ..public.clone()
            },
        ),
        (
            "xksProxyUriEndpoint",
            CreateCustomKeyStoreRequest {
                xks_proxy_uri_endpoint: Some("https://xks.example.com/kms".into()),
                ..public.clone()
            },
        ),
        (
            "xksProxyUriEndpoint",
            CreateCustomKeyStoreRequest {
                xks_proxy_uri_endpoint: Some("https://a".into()),
                ..public.clone()
            },
        ),
        (
            "xksProxyUriPath",
            CreateCustomKeyStoreRequest {
                xks_proxy_uri_path: Some("/kms/xks/v123".into()),
                ..public.clone()
            },
        ),
        (
            "xksProxyUriPath",
            CreateCustomKeyStoreRequest {
                xks_proxy_uri_path: Some("/prefix/kms/xks".into()),
                ..public.clone()
            },
        ),
        (
            "xksProxyUriPath",
            CreateCustomKeyStoreRequest {
                xks_proxy_uri_path: Some("kms/xks/v1".into()),
                ..public.clone()
            },
        ),
        (
            "accessKeyId",
            CreateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: cred("ABCDEFGHIJKLMNOPQRS", SECRET),
                ..public.clone()
            },
        ),
        (
            "accessKeyId",
            CreateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: cred(&"A".repeat(31), SECRET),
                ..public.clone()
            },
        ),
        (
            "accessKeyId",
            CreateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: cred("ABCDEFGHIJKLMNOPQRS1", SECRET),
                ..public.clone()
            },
        ),
        (
            "accessKeyId",
            CreateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: cred("abcdefghijklmnopqrst", SECRET),
                ..public.clone()
            },
        ),
        (
            "accessKeyId",
            CreateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: cred("", SECRET),
                ..public.clone()
            },
        ),
        (
            "rawSecretAccessKey",
            CreateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: cred(ACCESS_KEY_ID, &"s".repeat(42)),
                ..public.clone()
            },
        ),
        (
            "rawSecretAccessKey",
            CreateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: cred(ACCESS_KEY_ID, &"s".repeat(65)),
                ..public.clone()
            },
        ),
        (
            "rawSecretAccessKey",
            CreateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: cred(
                    ACCESS_KEY_ID,
                    &format!("{}-", "s".repeat(43)),
                ),
                ..public.clone()
            },
        ),
        (
            "rawSecretAccessKey",
            CreateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: cred(ACCESS_KEY_ID, ""),
                ..public.clone()
            },
        ),
        (
            "xksProxyVpcEndpointServiceName",
            CreateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_name: Some(
                    "com.amazonaws.vpce.us-west-2.svc-0123".into(),
                ),
                ..vpc.clone()
            },
        ),
        (
            "xksProxyVpcEndpointServiceName",
            CreateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_name: Some(
                    "org.amazonaws.vpce.us-west-2.vpce-svc-0123".into(),
                ),
                ..vpc.clone()
            },
        ),
        (
            "xksProxyVpcEndpointServiceName",
            CreateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_name: Some(
                    "com.amazonaws.vpce.uswest2.vpce-svc-0123".into(),
                ),
                ..vpc.clone()
            },
        ),
        (
            "xksProxyVpcEndpointServiceName",
            CreateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_name: Some(
                    "com.amazonaws.vpce.us-west-2.vpce-svc-ABC".into(),
                ),
                ..vpc.clone()
            },
        ),
        (
            "xksProxyVpcEndpointServiceOwner",
            CreateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_owner: Some("11112222333".into()),
                ..vpc.clone()
            },
        ),
        (
            "xksProxyVpcEndpointServiceName",
            CreateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_name: Some(VPC_SERVICE.into()),
                ..public.clone()
            },
        ),
        (
            "xksProxyVpcEndpointServiceOwner",
            CreateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_owner: Some("111122223333".into()),
                ..public.clone()
            },
        ),
    ];
    for (field, req) in bad {
        let err = f.kms.create_custom_key_store(req).unwrap_err();
        assert_eq!(err.code(), "ValidationException", "{field}: {err:?}");
        assert!(err.message().contains(field), "{field}: {}", err.message());
        assert!(!err.message().contains(SECRET));
    }
    assert_eq!(store_count(&f.kms), 0);
    // The patterns' edges that are valid.
    let ok_service = "eu.amazonaws.vpce.us-gov-west-1.vpce-svc-0a1b2c";
    vpc_service(&f.kms, ok_service, VPC_ENDPOINT);
    f.kms
        .create_custom_key_store(vpc_request("vpc", VPC_ENDPOINT, ok_service))
        .unwrap();
    proxy_at(&f.kms, "https://x.example.com");
    f.kms
        .create_custom_key_store(CreateCustomKeyStoreRequest {
            xks_proxy_authentication_credential: Some(request_credential()),
            ..public_request("public", "https://x.example.com")
        })
        .unwrap();
}

#[test]
fn the_same_endpoint_and_path_cannot_serve_two_stores() {
    let f = fixture();
    proxy(&f.kms);
    create_store(&f.kms, "one");
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(public_request("two", ENDPOINT))
        ),
        "XksProxyUriInUseException"
    );
    // Another path on the same public endpoint is another proxy URI.
    let other_path = CreateCustomKeyStoreRequest {
        xks_proxy_uri_path: Some("/tenant-b/kms/xks/v1".into()),
        ..public_request("two", ENDPOINT)
    };
    // The proxy serves only PATH, so creation reaches it and fails on the path;
    // the uniqueness rule did not refuse it.
    assert_eq!(
        code(f.kms.create_custom_key_store(other_path)),
        "XksProxyInvalidConfigurationException"
    );
}

#[test]
fn a_vpc_stores_endpoint_cannot_be_reused_by_any_store() {
    let f = fixture();
    proxy_at(&f.kms, VPC_ENDPOINT);
    vpc_service(&f.kms, VPC_SERVICE, VPC_ENDPOINT);
    f.kms
        .create_custom_key_store(vpc_request("vpc", VPC_ENDPOINT, VPC_SERVICE))
        .unwrap();
    // A PUBLIC store with the VPC store's endpoint (another path).
    let public = CreateCustomKeyStoreRequest {
        xks_proxy_uri_path: Some("/other/kms/xks/v1".into()),
        ..public_request("public", VPC_ENDPOINT)
    };
    assert_eq!(
        code(f.kms.create_custom_key_store(public)),
        "XksProxyUriEndpointInUseException"
    );
    // Another VPC store with the same endpoint and another service.
    let service2 = "com.amazonaws.vpce.us-west-2.vpce-svc-0000000000000002";
    vpc_service(&f.kms, service2, VPC_ENDPOINT);
    let vpc2 = CreateCustomKeyStoreRequest {
        xks_proxy_uri_path: Some("/other/kms/xks/v1".into()),
        ..vpc_request("vpc2", VPC_ENDPOINT, service2)
    };
    assert_eq!(
        code(f.kms.create_custom_key_store(vpc2)),
        "XksProxyUriEndpointInUseException"
    );
}

#[test]
fn a_vpc_store_cannot_take_a_public_stores_endpoint() {
    let f = fixture();
    proxy(&f.kms);
    create_store(&f.kms, "public");
    vpc_service(&f.kms, VPC_SERVICE, ENDPOINT);
    let vpc = CreateCustomKeyStoreRequest {
        xks_proxy_uri_path: Some("/other/kms/xks/v1".into()),
        ..vpc_request("vpc", ENDPOINT, VPC_SERVICE)
    };
    assert_eq!(
        code(f.kms.create_custom_key_store(vpc)),
        "XksProxyUriEndpointInUseException"
    );
}

#[test]
fn each_vpc_store_needs_its_own_endpoint_service() {
    let f = fixture();
    vpc_service(&f.kms, VPC_SERVICE, VPC_ENDPOINT);
    f.kms
        .create_custom_key_store(vpc_request("vpc", VPC_ENDPOINT, VPC_SERVICE))
        .unwrap();
    let other = vpc_request("vpc2", "https://xks-2.example.com", VPC_SERVICE);
    assert_eq!(
        code(f.kms.create_custom_key_store(other)),
        "XksProxyVpcEndpointServiceInUseException"
    );
}

#[test]
fn a_missing_or_misconfigured_vpc_endpoint_service_is_refused_at_creation() {
    let f = fixture();
    // Not registered at all.
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(vpc_request("vpc", VPC_ENDPOINT, VPC_SERVICE))
        ),
        "XksProxyVpcEndpointServiceNotFoundException"
    );
    // Registered but KMS lacks permission (not found).
    let mut svc = VpcEndpointService::new(VPC_ENDPOINT);
    svc.not_found = true;
    f.kms
        .xks_network()
        .register_vpc_endpoint_service(VPC_SERVICE, svc);
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(vpc_request("vpc", VPC_ENDPOINT, VPC_SERVICE))
        ),
        "XksProxyVpcEndpointServiceNotFoundException"
    );
    // Breaks a requirement.
    let mut svc = VpcEndpointService::new(VPC_ENDPOINT);
    svc.invalid_configuration = true;
    f.kms
        .xks_network()
        .register_vpc_endpoint_service(VPC_SERVICE, svc);
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(vpc_request("vpc", VPC_ENDPOINT, VPC_SERVICE))
        ),
        "XksProxyVpcEndpointServiceInvalidConfigurationException"
    );
    // Its private DNS name is not the store's endpoint.
    vpc_service(&f.kms, VPC_SERVICE, "https://elsewhere.example.com");
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(vpc_request("vpc", VPC_ENDPOINT, VPC_SERVICE))
        ),
        "XksProxyVpcEndpointServiceInvalidConfigurationException"
    );
    assert_eq!(store_count(&f.kms), 0);
}

#[test]
fn an_unreachable_or_unavailable_proxy_refuses_a_public_store() {
    let f = fixture();
    // Nothing listens at the endpoint.
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(public_request("xks", ENDPOINT))
        ),
        "XksProxyUriUnreachableException"
    );
    let ekm = proxy(&f.kms);
    type Switch<'a> = Box<dyn Fn() + 'a>;
    let cases: Vec<(&str, Switch<'_>, Switch<'_>)> = vec![
        (
            "unreachable",
            Box::new(|| ekm.set_unreachable(true)),
            Box::new(|| ekm.set_unreachable(false)),
        ),
        (
            "tls",
            Box::new(|| ekm.set_invalid_tls(true)),
            Box::new(|| ekm.set_invalid_tls(false)),
        ),
        (
            "throttled",
            Box::new(|| ekm.set_throttling(true)),
            Box::new(|| ekm.set_throttling(false)),
        ),
        (
            "timed out",
            Box::new(|| ekm.set_latency(Latency::simulated(FOREVER))),
            Box::new(|| ekm.set_latency(Latency::default())),
        ),
        (
            "dependency timeout",
            Box::new(|| ekm.inject_fault(None, XksError::DependencyTimeout)),
            Box::new(|| ekm.clear_faults()),
        ),
        (
            "all unavailable",
            Box::new(|| ekm.set_ekm_health(EkmHealthStatus::Unavailable)),
            Box::new(|| ekm.set_ekm_health(EkmHealthStatus::Active)),
        ),
    ];
    for (what, breaks, heals) in cases {
        breaks();
        assert_eq!(
            code(
                f.kms
                    .create_custom_key_store(public_request("xks", ENDPOINT))
            ),
            "XksProxyUriUnreachableException",
            "{what}"
        );
        heals();
    }
    assert_eq!(store_count(&f.kms), 0);
    // DEGRADED managers are available.
    ekm.set_ekm_health(EkmHealthStatus::Degraded);
    create_store(&f.kms, "xks");
}

#[test]
fn the_timeout_is_the_configured_one() {
    // Default: 250 ms.
    let f = fixture();
    let ekm = proxy(&f.kms);
    ekm.set_latency(Latency::simulated(Duration::from_millis(251)));
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(public_request("xks", ENDPOINT))
        ),
        "XksProxyUriUnreachableException"
    );
    ekm.set_latency(Latency::simulated(Duration::from_millis(250)));
    create_store(&f.kms, "xks");
    // Configured: 2 s.
    let f = fixture_with(|c| c.with_xks_proxy_timeout(Duration::from_secs(2)));
    let ekm = proxy(&f.kms);
    ekm.set_latency(Latency::simulated(Duration::from_millis(2001)));
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(public_request("xks", ENDPOINT))
        ),
        "XksProxyUriUnreachableException"
    );
    ekm.set_latency(Latency::simulated(Duration::from_secs(1)));
    create_store(&f.kms, "xks");
}

#[test]
fn proxy_answers_at_creation_map_to_the_create_column() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    let cases: Vec<(XksError, &str)> = vec![
        (
            XksError::AuthenticationFailed,
            "XksProxyIncorrectAuthenticationCredentialException",
        ),
        (
            XksError::InvalidUriPath,
            "XksProxyInvalidConfigurationException",
        ),
        (
            XksError::AccessDenied,
            "XksProxyInvalidConfigurationException",
        ),
        (
            XksError::InvalidResponse,
            "XksProxyInvalidResponseException",
        ),
        (XksError::Internal, "XksProxyInvalidResponseException"),
        (XksError::Validation, "XksProxyInvalidResponseException"),
    ];
    for (fault, expected) in cases {
        ekm.inject_fault(Some(XksOperation::GetHealthStatus), fault);
        let err = f
            .kms
            .create_custom_key_store(public_request("xks", ENDPOINT))
            .unwrap_err();
        assert_eq!(err.code(), expected, "{fault:?}");
        ekm.clear_faults();
    }
    assert_eq!(store_count(&f.kms), 0);
}

#[test]
fn a_credential_the_proxy_rejects_or_a_wrong_path_refuse_the_store() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    let wrong = CreateCustomKeyStoreRequest {
        xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
            access_key_id: "ZZZZZZZZZZZZZZZZZZZZ".into(),
            raw_secret_access_key: SecretString::from(SECRET),
        }),
        ..public_request("xks", ENDPOINT)
    };
    assert_eq!(
        code(f.kms.create_custom_key_store(wrong)),
        "XksProxyIncorrectAuthenticationCredentialException"
    );
    let path = CreateCustomKeyStoreRequest {
        xks_proxy_uri_path: Some("/wrong/kms/xks/v1".into()),
        ..public_request("xks", ENDPOINT)
    };
    assert_eq!(
        code(f.kms.create_custom_key_store(path)),
        "XksProxyInvalidConfigurationException"
    );
    ekm.set_malformed_response(true);
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(public_request("xks", ENDPOINT))
        ),
        "XksProxyInvalidResponseException"
    );
}

#[test]
fn the_generic_rules_apply_to_external_stores_too() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    create_store(&f.kms, "xks");
    let calls = ekm.calls(XksOperation::GetHealthStatus);
    // Name in use: refused before the proxy is called.
    let req = CreateCustomKeyStoreRequest {
        xks_proxy_uri_path: Some("/b/kms/xks/v1".into()),
        ..public_request("xks", ENDPOINT)
    };
    assert_eq!(
        code(f.kms.create_custom_key_store(req)),
        "CustomKeyStoreNameInUseException"
    );
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), calls);
    // Ten stores at most, whatever their type.
    for i in 1..10 {
        let endpoint = format!("https://xks-{i}.example.com");
        proxy_at(&f.kms, &endpoint);
        f.kms
            .create_custom_key_store(public_request(&format!("xks-{i}"), &endpoint))
            .unwrap();
    }
    proxy_at(&f.kms, "https://xks-10.example.com");
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(public_request("xks-10", "https://xks-10.example.com"))
        ),
        "LimitExceededException"
    );
}

#[test]
fn the_secret_never_leaves_kms() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    let id = create_store(&f.kms, "xks");
    let listing = f
        .kms
        .describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
        .unwrap();
    let json = serde_json::to_string(&listing).unwrap();
    assert!(json.contains(ACCESS_KEY_ID), "the access key id is shown");
    assert!(!json.contains(SECRET), "{json}");
    assert!(!json.contains("RawSecretAccessKey"));
    assert!(!format!("{listing:?}").contains(SECRET));
    let debug = format!("{:?}", f.kms);
    assert!(
        debug.contains(id.as_str()),
        "the Debug output shows the store"
    );
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(!format!("{:?}", f.kms.xks_network()).contains(SECRET));
    assert!(!format!("{:?}", public_request("xks", ENDPOINT)).contains(SECRET));
    // Nor in an error message.
    ekm.rotate_credential(
        kms_keystore::xks::XksCredential::new("ZZZZZZZZZZZZZZZZZZZZ", &"z".repeat(43)).unwrap(),
    );
    let err = f
        .kms
        .create_custom_key_store(public_request("xks2", "https://xks.example.com"))
        .unwrap_err();
    assert!(!err.to_string().contains(SECRET));
}

// ---- ConnectCustomKeyStore / DisconnectCustomKeyStore ------------------

#[test]
fn connect_checks_the_proxy_and_ends_connected() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    let id = create_store(&f.kms, "xks");
    f.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), 2);
    let d = describe(&f.kms, &id);
    assert_eq!(d.connection_state, ConnectionStateType::Connected);
    assert_eq!(d.connection_error_code, None);
    // Connecting again is a no-op that does not call the proxy.
    f.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), 2);
    f.kms.disconnect_custom_key_store(&id).unwrap();
    assert_eq!(
        describe(&f.kms, &id).connection_state,
        ConnectionStateType::Disconnected
    );
    assert_eq!(
        code(f.kms.disconnect_custom_key_store(&id)),
        "CustomKeyStoreInvalidStateException"
    );
    assert_eq!(
        code(f.kms.connect_custom_key_store("cks-00000000000000000")),
        "CustomKeyStoreNotFoundException"
    );
}

type Breaker = fn(&kms_keystore::xks::InMemoryExternalKeyManager);

#[test]
fn every_proxy_failure_at_connect_shows_as_failed_with_its_code() {
    let cases: Vec<(&str, Breaker, ConnectionErrorCode)> = vec![
        (
            "credential rotated on the proxy",
            |e| {
                e.rotate_credential(
                    kms_keystore::xks::XksCredential::new("ZZZZZZZZZZZZZZZZZZZZ", &"z".repeat(43))
                        .unwrap(),
                )
            },
            ConnectionErrorCode::InvalidCredentials,
        ),
        (
            "access denied",
            |e| e.set_access_denied(true),
            ConnectionErrorCode::XksProxyAccessDenied,
        ),
        (
            "unreachable",
            |e| e.set_unreachable(true),
            ConnectionErrorCode::XksProxyNotReachable,
        ),
        (
            "every manager unavailable",
            |e| e.set_ekm_health(EkmHealthStatus::Unavailable),
            ConnectionErrorCode::XksProxyNotReachable,
        ),
        (
            "throttling",
            |e| e.set_throttling(true),
            ConnectionErrorCode::XksProxyNotReachable,
        ),
        (
            "timed out",
            |e| e.set_latency(Latency::simulated(FOREVER)),
            ConnectionErrorCode::XksProxyTimedOut,
        ),
        (
            "malformed answer",
            |e| e.set_malformed_response(true),
            ConnectionErrorCode::XksProxyInvalidResponse,
        ),
        (
            "internal error",
            |e| e.set_internal_error(true),
            ConnectionErrorCode::XksProxyInvalidResponse,
        ),
        (
            "wrong URI path",
            |e| e.inject_fault(None, XksError::InvalidUriPath),
            ConnectionErrorCode::XksProxyInvalidConfiguration,
        ),
        (
            "bad TLS",
            |e| e.set_invalid_tls(true),
            ConnectionErrorCode::XksProxyInvalidTlsConfiguration,
        ),
    ];
    for (what, breaks, expected) in cases {
        let f = fixture();
        let ekm = proxy(&f.kms);
        let id = create_store(&f.kms, "xks");
        breaks(&ekm);
        f.kms.connect_custom_key_store(&id).unwrap();
        let d = describe(&f.kms, &id);
        assert_eq!(d.connection_state, ConnectionStateType::Failed, "{what}");
        assert_eq!(d.connection_error_code, Some(expected), "{what}");
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["ConnectionErrorCode"], expected.as_str(), "{what}");
    }
}

#[test]
fn a_detached_proxy_is_not_reachable_at_connect() {
    let f = fixture();
    proxy(&f.kms);
    let id = create_store(&f.kms, "xks");
    assert!(f.kms.xks_network().detach(ENDPOINT));
    f.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(
        describe(&f.kms, &id).connection_error_code,
        Some(ConnectionErrorCode::XksProxyNotReachable)
    );
}

#[test]
fn a_failed_store_must_be_disconnected_before_it_connects_again() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    let id = create_store(&f.kms, "xks");
    ekm.set_unreachable(true);
    f.kms.connect_custom_key_store(&id).unwrap();
    ekm.set_unreachable(false);
    assert_eq!(
        code(f.kms.connect_custom_key_store(&id)),
        "CustomKeyStoreInvalidStateException"
    );
    f.kms.disconnect_custom_key_store(&id).unwrap();
    let d = describe(&f.kms, &id);
    assert_eq!(d.connection_state, ConnectionStateType::Disconnected);
    assert_eq!(d.connection_error_code, None);
    f.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(
        describe(&f.kms, &id).connection_state,
        ConnectionStateType::Connected
    );
}

#[test]
fn vpc_endpoint_service_problems_at_connect_have_their_own_codes() {
    for (not_found, invalid, moved, expected) in [
        (
            true,
            false,
            false,
            ConnectionErrorCode::XksVpcEndpointServiceNotFound,
        ),
        (
            false,
            true,
            false,
            ConnectionErrorCode::XksVpcEndpointServiceInvalidConfiguration,
        ),
        (
            false,
            false,
            true,
            ConnectionErrorCode::XksVpcEndpointServiceInvalidConfiguration,
        ),
    ] {
        let f = fixture();
        let ekm = proxy_at(&f.kms, VPC_ENDPOINT);
        vpc_service(&f.kms, VPC_SERVICE, VPC_ENDPOINT);
        let id = f
            .kms
            .create_custom_key_store(vpc_request("vpc", VPC_ENDPOINT, VPC_SERVICE))
            .unwrap()
            .custom_key_store_id
            .to_string();
        let mut svc = VpcEndpointService::new(if moved {
            "https://elsewhere.example.com"
        } else {
            VPC_ENDPOINT
        });
        svc.not_found = not_found;
        svc.invalid_configuration = invalid;
        f.kms
            .xks_network()
            .register_vpc_endpoint_service(VPC_SERVICE, svc);
        f.kms.connect_custom_key_store(&id).unwrap();
        let d = describe(&f.kms, &id);
        assert_eq!(d.connection_state, ConnectionStateType::Failed);
        assert_eq!(d.connection_error_code, Some(expected));
        assert_eq!(
            ekm.calls(XksOperation::GetHealthStatus),
            0,
            "the proxy is not reached"
        );
    }
}

#[test]
fn a_vpc_store_connects_through_its_endpoint_service() {
    let f = fixture();
    let ekm = proxy_at(&f.kms, VPC_ENDPOINT);
    vpc_service(&f.kms, VPC_SERVICE, VPC_ENDPOINT);
    let id = f
        .kms
        .create_custom_key_store(vpc_request("vpc", VPC_ENDPOINT, VPC_SERVICE))
        .unwrap()
        .custom_key_store_id
        .to_string();
    f.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(
        describe(&f.kms, &id).connection_state,
        ConnectionStateType::Connected
    );
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), 1);
    // Its keys work through the service too.
    let key = xks_key(&f.kms, &id, EXTERNAL_KEY);
    let blob = encrypt(&f.kms, &key, "through the VPC").unwrap();
    assert_eq!(decrypt(&f.kms, &blob).unwrap(), b"through the VPC");
    // If the service goes away, the keys fail (not the store's state).
    let mut gone = VpcEndpointService::new(VPC_ENDPOINT);
    gone.not_found = true;
    f.kms
        .xks_network()
        .register_vpc_endpoint_service(VPC_SERVICE, gone);
    assert_eq!(code(decrypt(&f.kms, &blob)), "KMSInvalidStateException");
}

#[test]
fn stepped_mode_shows_connecting_then_the_outcome() {
    let f = fixture_with(|c| {
        c.with_connection_mode(ConnectionMode::Stepped {
            duration_millis: 1000,
        })
    });
    let ekm = proxy(&f.kms);
    let id = create_store(&f.kms, "xks");
    f.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(
        describe(&f.kms, &id).connection_state,
        ConnectionStateType::Connecting
    );
    f.clock.advance(Duration::from_millis(1000));
    assert_eq!(
        describe(&f.kms, &id).connection_state,
        ConnectionStateType::Connected
    );
    f.kms.disconnect_custom_key_store(&id).unwrap();
    assert_eq!(
        describe(&f.kms, &id).connection_state,
        ConnectionStateType::Disconnecting
    );
    f.clock.advance(Duration::from_millis(1000));
    ekm.set_access_denied(true);
    f.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(
        describe(&f.kms, &id).connection_state,
        ConnectionStateType::Connecting
    );
    f.clock.advance(Duration::from_millis(1000));
    let d = describe(&f.kms, &id);
    assert_eq!(d.connection_state, ConnectionStateType::Failed);
    assert_eq!(
        d.connection_error_code,
        Some(ConnectionErrorCode::XksProxyAccessDenied)
    );
}

#[test]
fn disconnecting_makes_keys_unavailable_without_calling_the_proxy() {
    let f = fixture();
    let (id, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &id, EXTERNAL_KEY);
    let blob = encrypt(&f.kms, &key, "secret").unwrap();
    f.kms.disconnect_custom_key_store(&id).unwrap();
    assert_eq!(
        f.kms
            .describe_key(&key)
            .unwrap()
            .key_metadata
            .key_state
            .as_str(),
        "Unavailable"
    );
    ekm.reset_call_counts();
    assert_eq!(code(encrypt(&f.kms, &key, "x")), "KMSInvalidStateException");
    assert_eq!(code(decrypt(&f.kms, &blob)), "KMSInvalidStateException");
    assert_eq!(ekm.calls(XksOperation::Encrypt), 0);
    assert_eq!(ekm.calls(XksOperation::Decrypt), 0);
    f.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(
        f.kms
            .describe_key(&key)
            .unwrap()
            .key_metadata
            .key_state
            .as_str(),
        "Enabled"
    );
    assert_eq!(decrypt(&f.kms, &blob).unwrap(), b"secret");
}

// ---- UpdateCustomKeyStore ---------------------------------------------

fn update(id: &str) -> UpdateCustomKeyStoreRequest {
    UpdateCustomKeyStoreRequest {
        custom_key_store_id: id.into(),
        ..Default::default()
    }
}

const NEW_SECRET: &str = "NEWsecretNEWsecretNEWsecretNEWsecretNEWsecret";

fn new_credential() -> XksProxyAuthenticationCredential {
    XksProxyAuthenticationCredential {
        access_key_id: "QRSTUVWXYZ234567ABCD".into(),
        raw_secret_access_key: SecretString::from(NEW_SECRET),
    }
}

#[test]
fn name_credential_and_path_can_change_while_connected() {
    let f = fixture();
    let (id, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &id, EXTERNAL_KEY);
    // The name: no proxy call.
    let calls = ekm.calls(XksOperation::GetHealthStatus);
    f.kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            new_custom_key_store_name: Some("renamed".into()),
            ..update(&id)
        })
        .unwrap();
    assert_eq!(describe(&f.kms, &id).custom_key_store_name, "renamed");
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), calls);
    // The proxy rotates its credential: crypto fails until KMS is told.
    let rotated =
        kms_keystore::xks::XksCredential::new("QRSTUVWXYZ234567ABCD", NEW_SECRET).unwrap();
    ekm.rotate_credential(rotated);
    assert_eq!(code(encrypt(&f.kms, &key, "x")), "KMSInvalidStateException");
    f.kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_authentication_credential: Some(new_credential()),
            ..update(&id)
        })
        .unwrap();
    assert_eq!(
        ekm.calls(XksOperation::GetHealthStatus),
        calls + 1,
        "KMS checks the new credential"
    );
    let d = describe(&f.kms, &id);
    assert_eq!(d.connection_state, ConnectionStateType::Connected);
    assert_eq!(
        d.xks_proxy_configuration.unwrap().access_key_id,
        "QRSTUVWXYZ234567ABCD"
    );
    let blob = encrypt(&f.kms, &key, "rotated").unwrap();
    assert_eq!(decrypt(&f.kms, &blob).unwrap(), b"rotated");
    // The path: checked at the proxy; a path it does not serve is refused.
    let err = f
        .kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_uri_path: Some("/moved/kms/xks/v1".into()),
            ..update(&id)
        })
        .unwrap_err();
    assert_eq!(err.code(), "XksProxyInvalidConfigurationException");
    assert_eq!(
        describe(&f.kms, &id)
            .xks_proxy_configuration
            .unwrap()
            .uri_path,
        PATH,
        "a failed update changes nothing"
    );
    f.kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_uri_path: Some(PATH.into()),
            ..update(&id)
        })
        .unwrap();
}

#[test]
fn a_credential_the_proxy_rejects_is_not_stored() {
    let f = fixture();
    let (id, ekm) = connected_store(&f.kms);
    let calls = ekm.calls(XksOperation::GetHealthStatus);
    let err = f
        .kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_authentication_credential: Some(new_credential()),
            ..update(&id)
        })
        .unwrap_err();
    assert_eq!(
        err.code(),
        "XksProxyIncorrectAuthenticationCredentialException"
    );
    assert!(!err.to_string().contains(NEW_SECRET));
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), calls + 1);
    assert_eq!(
        describe(&f.kms, &id)
            .xks_proxy_configuration
            .unwrap()
            .access_key_id,
        ACCESS_KEY_ID
    );
}

#[test]
fn a_new_credential_needs_both_parts() {
    let f = fixture();
    let (id, _ekm) = connected_store(&f.kms);
    for cred in [
        XksProxyAuthenticationCredential {
            access_key_id: "QRSTUVWXYZ234567ABCD".into(),
            ..Default::default()
        },
        XksProxyAuthenticationCredential {
            raw_secret_access_key: SecretString::from(NEW_SECRET),
            ..Default::default()
        },
    ] {
        let err = f
            .kms
            .update_custom_key_store(UpdateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: Some(cred),
                ..update(&id)
            })
            .unwrap_err();
        assert_eq!(err.code(), "ValidationException");
        // The rule is the crate's advice: the hint, not AWS's message.
        assert!(err.hint().is_some_and(|h| h.contains("both")), "{err:?}");
    }
}

#[test]
fn endpoint_connectivity_and_vpc_settings_need_a_disconnected_store() {
    let f = fixture();
    let (id, _ekm) = connected_store(&f.kms);
    for req in [
        UpdateCustomKeyStoreRequest {
            xks_proxy_uri_endpoint: Some("https://xks-2.example.com".into()),
            ..update(&id)
        },
        UpdateCustomKeyStoreRequest {
            xks_proxy_connectivity: Some(XksProxyConnectivityType::VpcEndpointService),
            ..update(&id)
        },
        UpdateCustomKeyStoreRequest {
            xks_proxy_vpc_endpoint_service_name: Some(VPC_SERVICE.into()),
            ..update(&id)
        },
        UpdateCustomKeyStoreRequest {
            xks_proxy_vpc_endpoint_service_owner: Some("111122223333".into()),
            ..update(&id)
        },
    ] {
        assert_eq!(
            code(f.kms.update_custom_key_store(req)),
            "CustomKeyStoreInvalidStateException"
        );
    }
}

#[test]
fn a_failed_store_cannot_be_updated_until_disconnected() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    let id = create_store(&f.kms, "xks");
    ekm.set_unreachable(true);
    f.kms.connect_custom_key_store(&id).unwrap();
    ekm.set_unreachable(false);
    assert_eq!(
        code(f.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            new_custom_key_store_name: Some("x".into()),
            ..update(&id)
        })),
        "CustomKeyStoreInvalidStateException"
    );
}

#[test]
fn switching_connectivity_follows_the_api_rules() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    let id = create_store(&f.kms, "xks");
    proxy_at(&f.kms, VPC_ENDPOINT);
    vpc_service(&f.kms, VPC_SERVICE, VPC_ENDPOINT);
    let to_vpc = UpdateCustomKeyStoreRequest {
        xks_proxy_connectivity: Some(XksProxyConnectivityType::VpcEndpointService),
        ..update(&id)
    };
    // To VPC: a new endpoint and a service name are required.
    let err = f.kms.update_custom_key_store(to_vpc.clone()).unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert!(err.message().contains("xksProxyUriEndpoint"));
    let err = f
        .kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_uri_endpoint: Some(VPC_ENDPOINT.into()),
            ..to_vpc.clone()
        })
        .unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert!(err.message().contains("xksProxyVpcEndpointServiceName"));
    let err = f
        .kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_uri_endpoint: Some(ENDPOINT.into()),
            xks_proxy_vpc_endpoint_service_name: Some(VPC_SERVICE.into()),
            ..to_vpc.clone()
        })
        .unwrap_err();
    assert_eq!(
        err.code(),
        "ValidationException",
        "the same endpoint is not new"
    );
    let calls = ekm.calls(XksOperation::GetHealthStatus);
    f.kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_uri_endpoint: Some(VPC_ENDPOINT.into()),
            xks_proxy_vpc_endpoint_service_name: Some(VPC_SERVICE.into()),
            ..to_vpc
        })
        .unwrap();
    assert_eq!(
        ekm.calls(XksOperation::GetHealthStatus),
        calls,
        "a disconnected VPC store is not reachable yet"
    );
    let x = describe(&f.kms, &id).xks_proxy_configuration.unwrap();
    assert_eq!(x.connectivity, XksProxyConnectivityType::VpcEndpointService);
    assert_eq!(x.uri_endpoint, VPC_ENDPOINT);
    assert_eq!(x.vpc_endpoint_service_name.as_deref(), Some(VPC_SERVICE));
    assert_eq!(
        x.vpc_endpoint_service_owner.as_deref(),
        Some("111122223333")
    );
    // Back to PUBLIC: a new endpoint, and no (or an empty) service name.
    let to_public = UpdateCustomKeyStoreRequest {
        xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
        xks_proxy_uri_endpoint: Some(ENDPOINT.into()),
        ..update(&id)
    };
    assert_eq!(
        code(f.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_vpc_endpoint_service_name: Some(VPC_SERVICE.into()),
            ..to_public.clone()
        })),
        "ValidationException"
    );
    f.kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_vpc_endpoint_service_name: Some(String::new()),
            ..to_public
        })
        .unwrap();
    assert_eq!(
        ekm.calls(XksOperation::GetHealthStatus),
        calls + 1,
        "a public endpoint is checked during the update"
    );
    let x = describe(&f.kms, &id).xks_proxy_configuration.unwrap();
    assert_eq!(x.connectivity, XksProxyConnectivityType::PublicEndpoint);
    assert_eq!(x.vpc_endpoint_service_name, None);
    assert_eq!(x.vpc_endpoint_service_owner, None);
    f.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(
        describe(&f.kms, &id).connection_state,
        ConnectionStateType::Connected
    );
}

#[test]
fn update_checks_the_new_values_like_create() {
    let f = fixture();
    proxy(&f.kms);
    let id = create_store(&f.kms, "xks");
    proxy_at(&f.kms, "https://xks-2.example.com");
    f.kms
        .create_custom_key_store(public_request("xks2", "https://xks-2.example.com"))
        .unwrap();
    let cases: Vec<(UpdateCustomKeyStoreRequest, &str)> = vec![
        (
            UpdateCustomKeyStoreRequest {
                xks_proxy_uri_endpoint: Some("https://xks-2.example.com".into()),
                ..update(&id)
            },
            "XksProxyUriInUseException",
        ),
        (
            UpdateCustomKeyStoreRequest {
                xks_proxy_uri_endpoint: Some("ftp://x.example.com".into()),
                ..update(&id)
            },
            "ValidationException",
        ),
        (
            UpdateCustomKeyStoreRequest {
                xks_proxy_uri_path: Some("/kms/xks".into()),
                ..update(&id)
            },
            "ValidationException",
        ),
        (
            UpdateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_name: Some(VPC_SERVICE.into()),
                ..update(&id)
            },
            "ValidationException",
        ),
        (
            UpdateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_owner: Some("111122223333".into()),
                ..update(&id)
            },
            "ValidationException",
        ),
        (
            UpdateCustomKeyStoreRequest {
                key_store_password: Some(SecretString::from("kmsPswd1")),
                ..update(&id)
            },
            "ValidationException",
        ),
        (
            UpdateCustomKeyStoreRequest {
                cloud_hsm_cluster_id: Some("cluster-234567abcde".into()),
                ..update(&id)
            },
            "ValidationException",
        ),
        (
            UpdateCustomKeyStoreRequest {
                xks_proxy_uri_endpoint: Some("https://nowhere.example.com".into()),
                ..update(&id)
            },
            "XksProxyUriUnreachableException",
        ),
        (
            UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("xks2".into()),
                ..update(&id)
            },
            "CustomKeyStoreNameInUseException",
        ),
    ];
    let before = describe(&f.kms, &id);
    for (req, expected) in cases {
        assert_eq!(
            code(f.kms.update_custom_key_store(req.clone())),
            expected,
            "{req:?}"
        );
    }
    assert_eq!(
        describe(&f.kms, &id),
        before,
        "failed updates change nothing"
    );
}

#[test]
fn vpc_updates_check_the_endpoint_service() {
    let f = fixture();
    vpc_service(&f.kms, VPC_SERVICE, VPC_ENDPOINT);
    let id = f
        .kms
        .create_custom_key_store(vpc_request("vpc", VPC_ENDPOINT, VPC_SERVICE))
        .unwrap()
        .custom_key_store_id
        .to_string();
    let service2 = "com.amazonaws.vpce.us-west-2.vpce-svc-0000000000000002";
    let with = |name: &str| UpdateCustomKeyStoreRequest {
        xks_proxy_vpc_endpoint_service_name: Some(name.into()),
        ..update(&id)
    };
    assert_eq!(
        code(f.kms.update_custom_key_store(with(service2))),
        "XksProxyVpcEndpointServiceNotFoundException"
    );
    let mut bad = VpcEndpointService::new(VPC_ENDPOINT);
    bad.invalid_configuration = true;
    f.kms
        .xks_network()
        .register_vpc_endpoint_service(service2, bad);
    assert_eq!(
        code(f.kms.update_custom_key_store(with(service2))),
        "XksProxyVpcEndpointServiceInvalidConfigurationException"
    );
    assert_eq!(
        code(f.kms.update_custom_key_store(with(""))),
        "ValidationException"
    );
    vpc_service(&f.kms, service2, VPC_ENDPOINT);
    f.kms.update_custom_key_store(with(service2)).unwrap();
    // A second VPC store cannot take the service now in use.
    let third = "com.amazonaws.vpce.us-west-2.vpce-svc-0000000000000003";
    vpc_service(&f.kms, third, "https://xks-3.example.com");
    let id3 = f
        .kms
        .create_custom_key_store(vpc_request("vpc3", "https://xks-3.example.com", third))
        .unwrap()
        .custom_key_store_id
        .to_string();
    assert_eq!(
        code(f.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_vpc_endpoint_service_name: Some(service2.into()),
            ..update(&id3)
        })),
        "XksProxyVpcEndpointServiceInUseException"
    );
    f.kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_vpc_endpoint_service_owner: Some("444455556666".into()),
            ..update(&id)
        })
        .unwrap();
    assert_eq!(
        describe(&f.kms, &id)
            .xks_proxy_configuration
            .unwrap()
            .vpc_endpoint_service_owner
            .as_deref(),
        Some("444455556666")
    );
}

#[test]
fn a_connected_vpc_store_checks_a_new_credential_at_the_proxy() {
    let f = fixture();
    let ekm = proxy_at(&f.kms, VPC_ENDPOINT);
    vpc_service(&f.kms, VPC_SERVICE, VPC_ENDPOINT);
    let id = f
        .kms
        .create_custom_key_store(vpc_request("vpc", VPC_ENDPOINT, VPC_SERVICE))
        .unwrap()
        .custom_key_store_id
        .to_string();
    // Disconnected: KMS cannot reach a VPC proxy yet, so nothing is checked.
    f.kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_authentication_credential: Some(new_credential()),
            ..update(&id)
        })
        .unwrap();
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), 0);
    f.kms
        .update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_authentication_credential: Some(request_credential()),
            ..update(&id)
        })
        .unwrap();
    f.kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), 1);
    // Connected: it is.
    assert_eq!(
        code(f.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            xks_proxy_authentication_credential: Some(new_credential()),
            ..update(&id)
        })),
        "XksProxyIncorrectAuthenticationCredentialException"
    );
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), 2);
}

// ---- DeleteCustomKeyStore ---------------------------------------------

#[test]
fn delete_needs_a_disconnected_store_without_keys_and_leaves_the_proxy_alone() {
    let f = fixture();
    let (id, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &id, EXTERNAL_KEY);
    assert_eq!(
        code(f.kms.delete_custom_key_store(&id)),
        "CustomKeyStoreInvalidStateException"
    );
    f.kms
        .schedule_key_deletion(kms_keystore::ScheduleKeyDeletionRequest {
            key_id: key.clone(),
            pending_window_in_days: Some(7),
        })
        .unwrap();
    f.kms.disconnect_custom_key_store(&id).unwrap();
    assert_eq!(
        code(f.kms.delete_custom_key_store(&id)),
        "CustomKeyStoreHasCMKsException",
        "a key pending deletion still counts"
    );
    f.clock.advance(Duration::from_secs(7 * 86_400));
    f.kms.delete_custom_key_store(&id).unwrap();
    assert_eq!(
        code(f.kms.delete_custom_key_store(&id)),
        "CustomKeyStoreNotFoundException"
    );
    assert_eq!(store_count(&f.kms), 0);
    assert_eq!(ekm.key_ids().len(), 1, "the external key is untouched");
    // The proxy URI is free again.
    create_store(&f.kms, "again");
}

#[test]
fn external_stores_and_a_default_config_use_250_ms() {
    assert_eq!(
        KmsConfig::default().xks_proxy_timeout,
        Duration::from_millis(250)
    );
}

#[test]
fn a_slow_health_check_does_not_block_other_stores() {
    let f = fixture_with(|c| c.with_xks_proxy_timeout(Duration::from_millis(400)));
    // Store B is connected and has a key.
    let (b, _ekm_b) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &b, EXTERNAL_KEY);
    // Store A's proxy answers slowly.
    let slow_endpoint = "https://slow.example.com";
    let slow = proxy_at(&f.kms, slow_endpoint);
    let a = f
        .kms
        .create_custom_key_store(public_request("slow", slow_endpoint))
        .unwrap()
        .custom_key_store_id
        .to_string();
    slow.set_latency(Latency::real(Duration::from_millis(250)));
    let tracked = Tracked::attach(&f.kms, slow_endpoint, slow.clone());
    let slow_new = proxy_at(&f.kms, "https://slow-2.example.com");
    slow_new.set_latency(Latency::real(Duration::from_millis(250)));
    let tracked_new = Tracked::attach(&f.kms, "https://slow-2.example.com", slow_new.clone());
    let in_flight = || tracked.in_flight() + tracked_new.in_flight();
    type Op<'a> = Box<dyn Fn() -> kms_keystore::Result<()> + Sync + 'a>;
    let operations: Vec<(&str, Op<'_>)> = vec![
        ("connect", Box::new(|| f.kms.connect_custom_key_store(&a))),
        (
            "update",
            Box::new(|| {
                // The proxy's credential is rotated, and KMS is told.
                slow.rotate_credential(
                    kms_keystore::xks::XksCredential::new("QRSTUVWXYZ234567ABCD", NEW_SECRET)
                        .unwrap(),
                );
                f.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                    custom_key_store_id: a.clone(),
                    xks_proxy_authentication_credential: Some(new_credential()),
                    ..Default::default()
                })
            }),
        ),
        (
            "create",
            Box::new(|| {
                f.kms
                    .create_custom_key_store(public_request("slow-2", "https://slow-2.example.com"))
                    .map(drop)
            }),
        ),
    ];
    for (what, op) in operations {
        std::thread::scope(|s| {
            let slow_call = s.spawn(&op);
            while in_flight() == 0 {
                assert!(!slow_call.is_finished(), "{what} did not call the proxy");
                std::thread::yield_now();
            }
            let blob = encrypt(&f.kms, &key, "not blocked").unwrap();
            assert_eq!(decrypt(&f.kms, &blob).unwrap(), b"not blocked");
            f.kms
                .update_custom_key_store(UpdateCustomKeyStoreRequest {
                    custom_key_store_id: b.clone(),
                    new_custom_key_store_name: Some(format!("b-{what}")),
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(
                in_flight(),
                1,
                "{what}: store B was used and renamed while A's proxy was still answering"
            );
            slow_call.join().unwrap().unwrap();
        });
    }
    assert_eq!(
        describe(&f.kms, &a).connection_state,
        ConnectionStateType::Connected
    );
}
