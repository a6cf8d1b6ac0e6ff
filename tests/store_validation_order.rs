//! The order in which CreateCustomKeyStore and UpdateCustomKeyStore report
//! errors: as in AWS, a request that breaks the API's syntax (a required
//! member missing, a member that must be null for the store type, a length
//! or pattern) is `ValidationException` before any check that needs the
//! account's state (the limit of ten stores, a name in use, uniqueness of a
//! proxy URI, the store's connection state, a cluster or proxy lookup).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod cloudhsm_support;
mod xks;

use cloudhsm_support::{AZS, PASSWORD, request_for};
use kms_keystore::xks::XksOperation;
use kms_keystore::{
    CreateCustomKeyStoreRequest, Kms, Result, SecretString, UpdateCustomKeyStoreRequest,
    XksProxyAuthenticationCredential, XksProxyConnectivityType,
};
use xks::*;

fn code<T: std::fmt::Debug>(r: Result<T>) -> &'static str {
    r.unwrap_err().code()
}

/// Asserts that CreateCustomKeyStore refuses each request with
/// `ValidationException`.
fn each_create_is_invalid(kms: &Kms, requests: Vec<(&'static str, CreateCustomKeyStoreRequest)>) {
    for (what, req) in requests {
        assert_eq!(
            code(kms.create_custom_key_store(req)),
            "ValidationException",
            "{what}"
        );
    }
}

/// A CloudHSM store request for a new ready cluster.
fn cloudhsm_request(kms: &Kms, name: &str) -> CreateCustomKeyStoreRequest {
    let (cluster, anchor) = kms
        .cloudhsm()
        .provision_ready_cluster(&AZS, PASSWORD)
        .unwrap();
    request_for(name, &cluster, &anchor, PASSWORD)
}

/// Creates a CloudHSM store named `name` on a new cluster; returns its id.
fn cloudhsm_store(kms: &Kms, name: &str) -> String {
    kms.create_custom_key_store(cloudhsm_request(kms, name))
        .unwrap()
        .custom_key_store_id
        .to_string()
}

/// Fills the account with ten PUBLIC external key stores, named `full-0`
/// to `full-9`, each at its own endpoint.
fn fill_to_limit(kms: &Kms) {
    for i in 0..10 {
        let endpoint = format!("https://full-{i}.example.com");
        proxy_at(kms, &endpoint);
        kms.create_custom_key_store(public_request(&format!("full-{i}"), &endpoint))
            .unwrap();
    }
}

/// CloudHSM create requests named `name`, each broken in one member.
fn malformed_cloudhsm_requests(
    kms: &Kms,
    name: &str,
) -> Vec<(&'static str, CreateCustomKeyStoreRequest)> {
    let good = cloudhsm_request(kms, name);
    vec![
        (
            "malformed cluster id",
            CreateCustomKeyStoreRequest {
                cloud_hsm_cluster_id: Some("cluster-1".into()),
                ..good.clone()
            },
        ),
        (
            "missing cluster id",
            CreateCustomKeyStoreRequest {
                cloud_hsm_cluster_id: None,
                ..good.clone()
            },
        ),
        (
            "missing trust anchor",
            CreateCustomKeyStoreRequest {
                trust_anchor_certificate: None,
                ..good.clone()
            },
        ),
        (
            "trust anchor too long",
            CreateCustomKeyStoreRequest {
                trust_anchor_certificate: Some("x".repeat(5001)),
                ..good.clone()
            },
        ),
        (
            "password too short",
            CreateCustomKeyStoreRequest {
                key_store_password: Some(SecretString::from("short")),
                ..good.clone()
            },
        ),
        (
            "an XKS member given",
            CreateCustomKeyStoreRequest {
                xks_proxy_uri_endpoint: Some(ENDPOINT.into()),
                ..good
            },
        ),
    ]
}

/// External key store create requests named `name` at [`ENDPOINT`] +
/// [`PATH`], each broken in one member.
fn malformed_xks_requests(name: &str) -> Vec<(&'static str, CreateCustomKeyStoreRequest)> {
    let good = public_request(name, ENDPOINT);
    let vpc = vpc_request(name, ENDPOINT, VPC_SERVICE);
    vec![
        (
            "endpoint not https",
            CreateCustomKeyStoreRequest {
                xks_proxy_uri_endpoint: Some("http://xks.example.com".into()),
                ..good.clone()
            },
        ),
        (
            "malformed path",
            CreateCustomKeyStoreRequest {
                xks_proxy_uri_path: Some("/kms/xks/version1".into()),
                ..good.clone()
            },
        ),
        (
            "access key id too short",
            CreateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
                    access_key_id: "ABCDEFGHIJKLMNOPQRS".into(),
                    raw_secret_access_key: SecretString::from(SECRET),
                }),
                ..good.clone()
            },
        ),
        (
            "secret too short",
            CreateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
                    access_key_id: ACCESS_KEY_ID.into(),
                    raw_secret_access_key: SecretString::from("tooShort"),
                }),
                ..good.clone()
            },
        ),
        (
            "missing connectivity",
            CreateCustomKeyStoreRequest {
                xks_proxy_connectivity: None,
                ..good.clone()
            },
        ),
        (
            "a CloudHSM member given",
            CreateCustomKeyStoreRequest {
                cloud_hsm_cluster_id: Some("cluster-234567abcdef".into()),
                ..good.clone()
            },
        ),
        (
            "a service name for PUBLIC_ENDPOINT",
            CreateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_name: Some(VPC_SERVICE.into()),
                ..good
            },
        ),
        (
            "service name with bad characters",
            CreateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_name: Some(
                    "com.amazonaws.vpce.us-west-2.vpce-svc-0123456789ABCDEF0".into(),
                ),
                ..vpc.clone()
            },
        ),
        (
            "malformed service owner",
            CreateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_owner: Some("1111-2222-3333".into()),
                ..vpc.clone()
            },
        ),
        (
            "VPC without a service name",
            CreateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_name: None,
                ..vpc
            },
        ),
    ]
}

// ---- CreateCustomKeyStore: CloudHSM ---------------------------------------

#[test]
fn create_cloudhsm_validates_the_request_before_the_name() {
    let f = fixture();
    cloudhsm_store(&f.kms, "taken");
    each_create_is_invalid(&f.kms, malformed_cloudhsm_requests(&f.kms, "taken"));
    // Well formed, the request meets the name.
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(cloudhsm_request(&f.kms, "taken"))
        ),
        "CustomKeyStoreNameInUseException"
    );
    // Also when the cluster does not exist: the name comes before the cluster.
    let req = CreateCustomKeyStoreRequest {
        cloud_hsm_cluster_id: Some("cluster-234567abcdef".into()),
        ..cloudhsm_request(&f.kms, "taken")
    };
    assert_eq!(
        code(f.kms.create_custom_key_store(req)),
        "CustomKeyStoreNameInUseException"
    );
}

#[test]
fn create_cloudhsm_validates_the_request_before_the_store_limit() {
    let f = fixture();
    fill_to_limit(&f.kms);
    each_create_is_invalid(&f.kms, malformed_cloudhsm_requests(&f.kms, "eleventh"));
    // Well formed, the request meets the limit.
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(cloudhsm_request(&f.kms, "eleventh"))
        ),
        "LimitExceededException"
    );
}

// ---- CreateCustomKeyStore: external key stores ---------------------------

#[test]
fn create_xks_validates_the_request_before_the_name() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    vpc_service(&f.kms, VPC_SERVICE, ENDPOINT);
    cloudhsm_store(&f.kms, "taken");
    let calls = ekm.calls(XksOperation::GetHealthStatus);
    each_create_is_invalid(&f.kms, malformed_xks_requests("taken"));
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), calls);
    // Well formed, the request meets the name, before the proxy is called.
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(public_request("taken", ENDPOINT))
        ),
        "CustomKeyStoreNameInUseException"
    );
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), calls);
}

#[test]
fn create_xks_validates_the_request_before_the_store_limit() {
    let f = fixture();
    proxy(&f.kms);
    vpc_service(&f.kms, VPC_SERVICE, ENDPOINT);
    fill_to_limit(&f.kms);
    each_create_is_invalid(&f.kms, malformed_xks_requests("eleventh"));
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(public_request("eleventh", ENDPOINT))
        ),
        "LimitExceededException"
    );
}

#[test]
fn create_xks_validates_the_request_before_proxy_uri_uniqueness() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    vpc_service(&f.kms, VPC_SERVICE, ENDPOINT);
    create_store(&f.kms, "xks");
    let calls = ekm.calls(XksOperation::GetHealthStatus);
    // Every request below repeats the store's endpoint and path, under the
    // store's own name and under a free one.
    for name in ["xks", "other"] {
        for (what, req) in malformed_xks_requests(name).into_iter().filter(|(_, r)| {
            r.xks_proxy_uri_endpoint.as_deref() == Some(ENDPOINT)
                && r.xks_proxy_uri_path.as_deref() == Some(PATH)
        }) {
            assert_eq!(
                code(f.kms.create_custom_key_store(req)),
                "ValidationException",
                "{what}, named {name}"
            );
        }
    }
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), calls);
    // Well formed, the same requests meet the name, then the URI.
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(public_request("xks", ENDPOINT))
        ),
        "CustomKeyStoreNameInUseException"
    );
    assert_eq!(
        code(
            f.kms
                .create_custom_key_store(public_request("other", ENDPOINT))
        ),
        "XksProxyUriInUseException"
    );
}

// ---- UpdateCustomKeyStore -------------------------------------------------

/// Update requests for store `id`, each with one member that breaks the
/// API's syntax whatever the store's type.
fn malformed_updates(id: &str) -> Vec<(&'static str, UpdateCustomKeyStoreRequest)> {
    let base = UpdateCustomKeyStoreRequest {
        custom_key_store_id: id.into(),
        ..Default::default()
    };
    vec![
        (
            "name too long",
            UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("n".repeat(257)),
                ..base.clone()
            },
        ),
        (
            "password too short",
            UpdateCustomKeyStoreRequest {
                key_store_password: Some(SecretString::from("short")),
                ..base.clone()
            },
        ),
        (
            "malformed cluster id",
            UpdateCustomKeyStoreRequest {
                cloud_hsm_cluster_id: Some("cluster-1".into()),
                ..base.clone()
            },
        ),
        (
            "endpoint not https",
            UpdateCustomKeyStoreRequest {
                xks_proxy_uri_endpoint: Some("http://xks.example.com".into()),
                ..base.clone()
            },
        ),
        (
            "malformed path",
            UpdateCustomKeyStoreRequest {
                xks_proxy_uri_path: Some("/kms/xks/version1".into()),
                ..base.clone()
            },
        ),
        (
            "secret too short",
            UpdateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
                    access_key_id: ACCESS_KEY_ID.into(),
                    raw_secret_access_key: SecretString::from("tooShort"),
                }),
                ..base.clone()
            },
        ),
        (
            "service name with bad characters",
            UpdateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_name: Some("com.amazonaws.vpce.US_WEST".into()),
                ..base.clone()
            },
        ),
        (
            "malformed service owner",
            UpdateCustomKeyStoreRequest {
                xks_proxy_vpc_endpoint_service_owner: Some("owner".into()),
                ..base
            },
        ),
    ]
}

#[test]
fn update_validates_the_syntax_before_looking_up_the_store() {
    let f = fixture();
    for (what, req) in malformed_updates("cks-1234567890abcdef0") {
        assert_eq!(
            code(f.kms.update_custom_key_store(req)),
            "ValidationException",
            "{what}"
        );
    }
    // Well formed: the store is not found.
    assert_eq!(
        code(f.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            custom_key_store_id: "cks-1234567890abcdef0".into(),
            new_custom_key_store_name: Some("fine".into()),
            ..Default::default()
        })),
        "CustomKeyStoreNotFoundException"
    );
}

#[test]
fn update_validates_the_request_before_the_connection_state() {
    let f = fixture();
    let (xks, _ekm) = connected_store(&f.kms);
    let hsm = cloudhsm_store(&f.kms, "hsm");
    f.kms.connect_custom_key_store(&hsm).unwrap();
    for id in [&xks, &hsm] {
        for (what, req) in malformed_updates(id) {
            assert_eq!(
                code(f.kms.update_custom_key_store(req)),
                "ValidationException",
                "{what} on {id}"
            );
        }
    }
    // Well formed, a change that needs DISCONNECTED is refused for the state.
    assert_eq!(
        code(f.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            custom_key_store_id: xks.clone(),
            xks_proxy_uri_endpoint: Some("https://xks-new.example.com".into()),
            ..Default::default()
        })),
        "CustomKeyStoreInvalidStateException"
    );
    assert_eq!(
        code(f.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            custom_key_store_id: hsm.clone(),
            key_store_password: Some(SecretString::from("newPassword")),
            ..Default::default()
        })),
        "CustomKeyStoreInvalidStateException"
    );
}

#[test]
fn update_validates_the_request_before_the_name() {
    let f = fixture();
    proxy(&f.kms);
    let xks = create_store(&f.kms, "xks");
    let hsm = cloudhsm_store(&f.kms, "hsm");
    for (id, taken) in [(&xks, "hsm"), (&hsm, "xks")] {
        for (what, req) in malformed_updates(id) {
            if req.new_custom_key_store_name.is_some() {
                continue;
            }
            let req = UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some(taken.into()),
                ..req
            };
            assert_eq!(
                code(f.kms.update_custom_key_store(req)),
                "ValidationException",
                "{what} on {id}"
            );
        }
    }
    // Well formed, the request meets the name.
    for (id, taken) in [(&xks, "hsm"), (&hsm, "xks")] {
        assert_eq!(
            code(f.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                custom_key_store_id: id.clone(),
                new_custom_key_store_name: Some(taken.into()),
                ..Default::default()
            })),
            "CustomKeyStoreNameInUseException",
            "{id}"
        );
    }
    // With a new cluster that does not exist: the name is checked first.
    assert_eq!(
        code(f.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            custom_key_store_id: hsm.clone(),
            new_custom_key_store_name: Some("xks".into()),
            cloud_hsm_cluster_id: Some("cluster-234567abcdef".into()),
            ..Default::default()
        })),
        "CustomKeyStoreNameInUseException"
    );
}

#[test]
fn update_refuses_members_of_the_other_store_type_before_state_checks() {
    let f = fixture();
    let (xks, _ekm) = connected_store(&f.kms);
    let hsm = cloudhsm_store(&f.kms, "hsm");
    f.kms.connect_custom_key_store(&hsm).unwrap();
    // Well-formed members that must be null for the store's type, on a
    // CONNECTED store, with a name in use.
    let to_xks = UpdateCustomKeyStoreRequest {
        custom_key_store_id: xks.clone(),
        new_custom_key_store_name: Some("hsm".into()),
        key_store_password: Some(SecretString::from("newPassword")),
        ..Default::default()
    };
    assert_eq!(
        code(f.kms.update_custom_key_store(to_xks)),
        "ValidationException"
    );
    let to_hsm = UpdateCustomKeyStoreRequest {
        custom_key_store_id: hsm.clone(),
        new_custom_key_store_name: Some("xks".into()),
        xks_proxy_uri_path: Some("/other/kms/xks/v1".into()),
        ..Default::default()
    };
    assert_eq!(
        code(f.kms.update_custom_key_store(to_hsm)),
        "ValidationException"
    );
    // Rules that depend on the store's current settings (here: a change of
    // connectivity without a new endpoint) come after the connection state.
    let switch = UpdateCustomKeyStoreRequest {
        custom_key_store_id: xks.clone(),
        xks_proxy_connectivity: Some(XksProxyConnectivityType::VpcEndpointService),
        xks_proxy_vpc_endpoint_service_name: Some(VPC_SERVICE.into()),
        ..Default::default()
    };
    assert_eq!(
        code(f.kms.update_custom_key_store(switch)),
        "CustomKeyStoreInvalidStateException"
    );
}
