//! The AWS JSON 1.1 dispatcher: routing, request parsing, response shapes and
//! error bodies, through `kms_keystore::server` only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kms_keystore::server::{Dispatcher, Fixture, Service, WireResponse};
use kms_keystore::{Error, Kms, KmsConfig, ManualClock, Timestamp};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A dispatcher over a seeded KMS on a manual clock, with one ready
/// CloudHSM cluster (`cluster-jw7qqa4ryqv`, kmsuser `kmsPswd1`) and one XKS
/// proxy (`https://xks.example.com`, external key `bb8562717f809024`).
fn dispatcher() -> Dispatcher {
    with_fixture(READY_FIXTURE).0
}

const XKS_SECRET: &str = "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo=";

const READY_FIXTURE: &str = r#"{
  "cloudhsm_clusters": [{
    "id": "cluster-jw7qqa4ryqv",
    "subnets": {"subnet-a6b10bd1": "us-west-2a", "subnet-b6b10bd2": "us-west-2b"},
    "hsms": ["us-west-2a", "us-west-2b"],
    "users": [{"name": "kmsuser", "password": "kmsPswd1"}]
  }],
  "external_key_managers": [{
    "uri_endpoint": "https://xks.example.com",
    "credential": {"access_key_id": "ABCDEFGHIJKLMNOPQRST",
                   "secret_access_key": "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo="},
    "keys": [{"id": "bb8562717f809024"}, {"id": "second"}]
  }]
}"#;

/// A dispatcher whose KMS sees what `text` provisions.
fn with_fixture(text: &str) -> (Dispatcher, kms_keystore::server::Provisioned) {
    let clock = ManualClock::new(Timestamp::from_millis(1_499_288_695_918));
    let kms = Kms::new(KmsConfig::default().with_clock(clock).with_seed(7));
    let p = Fixture::from_json(text)
        .unwrap()
        .provision(kms.cloudhsm(), kms.xks_network())
        .unwrap();
    (Dispatcher::new(kms), p)
}

/// Calls `TrentService.<op>` with `body`; returns the status and parsed body.
fn kms(w: &Dispatcher, op: &str, body: Value) -> (u16, Value) {
    call(
        w,
        &format!("TrentService.{op}"),
        body.to_string().as_bytes(),
    )
}

fn call(w: &Dispatcher, target: &str, body: &[u8]) -> (u16, Value) {
    let r = w.dispatch(target, body);
    let v: Value = serde_json::from_slice(&r.body).expect("every body is JSON");
    (r.status, v)
}

fn ok(w: &Dispatcher, op: &str, body: Value) -> Value {
    let (status, v) = kms(w, op, body);
    assert_eq!(status, 200, "{op}: {v}");
    v
}

/// Asserts an AWS error body: status, `__type`, and only `__type` and
/// `message` (only `__type` for InvalidCiphertextException, which AWS sends
/// without a message).
fn assert_error(status: u16, v: &Value, want_status: u16, want_type: &str) {
    assert_eq!(status, want_status, "{v}");
    assert_eq!(v["__type"], want_type, "{v}");
    if want_type == "InvalidCiphertextException" {
        assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
    } else {
        assert!(v["message"].is_string(), "{v}");
        assert_eq!(v.as_object().unwrap().len(), 2, "{v}");
    }
}

fn new_key(w: &Dispatcher) -> String {
    ok(w, "CreateKey", json!({}))["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().expect("a base64 string"))
        .expect("valid base64")
}

// ---------------------------------------------------------------- routing

/// A call of every routed KMS operation with its expected answer: the case
/// list must name every routed operation, so routing a new one without a
/// test fails here. Operations the crate answers with AWS's
/// `UnsupportedOperationException` (400, not 501) are routed too.
#[test]
fn every_routed_kms_operation_answers_with_its_output() {
    let (w, provisioned) = with_fixture(READY_FIXTURE);
    let key = new_key(&w);
    let other = new_key(&w);
    let blob =
        ok(&w, "Encrypt", json!({"KeyId": key, "Plaintext": "aGk="}))["CiphertextBlob"].clone();
    let doomed = new_key(&w);
    let mut tested = BTreeSet::new();
    let mut check = |op: &'static str, body: Value, expect: &dyn Fn(&Value)| {
        let v = ok(&w, op, body);
        expect(&v);
        tested.insert(op);
    };
    let empty = |v: &Value| assert_eq!(v, &json!({}));

    // Keys.
    check("CreateKey", json!({"Description": "d"}), &|v| {
        assert_eq!(v["KeyMetadata"]["Description"], "d")
    });
    check("DescribeKey", json!({"KeyId": key}), &|v| {
        assert_eq!(v["KeyMetadata"]["KeyId"], key.as_str());
        let id = v["KeyMetadata"]["CurrentKeyMaterialId"].as_str().unwrap();
        assert_eq!(id.len(), 64);
    });
    check("ListKeys", json!({"Limit": 1}), &|v| {
        assert_eq!(v["Keys"].as_array().unwrap().len(), 1);
        assert_eq!(v["Truncated"], true);
    });
    check("DisableKey", json!({"KeyId": key}), &empty);
    check("EnableKey", json!({"KeyId": key}), &empty);
    check(
        "ScheduleKeyDeletion",
        json!({"KeyId": doomed, "PendingWindowInDays": 7}),
        &|v| {
            assert_eq!(v["KeyState"], "PendingDeletion");
            assert_eq!(v["PendingWindowInDays"], 7);
            assert!(v["DeletionDate"].is_number());
        },
    );
    check("CancelKeyDeletion", json!({"KeyId": doomed}), &|v| {
        assert!(v["KeyId"].as_str().unwrap().ends_with(&doomed))
    });
    check(
        "UpdateKeyDescription",
        json!({"KeyId": key, "Description": "new words"}),
        &empty,
    );

    // Cryptography.
    check(
        "Encrypt",
        json!({"KeyId": key, "Plaintext": "aGk="}),
        &|v| {
            assert!(!b64(&v["CiphertextBlob"]).is_empty());
            assert_eq!(v["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
        },
    );
    check("Decrypt", json!({"CiphertextBlob": blob}), &|v| {
        assert_eq!(b64(&v["Plaintext"]), b"hi");
        assert_eq!(v["KeyMaterialId"].as_str().unwrap().len(), 64);
    });
    check(
        "ReEncrypt",
        json!({"CiphertextBlob": blob, "DestinationKeyId": other}),
        &|v| {
            assert!(!b64(&v["CiphertextBlob"]).is_empty());
            assert_eq!(v["SourceKeyMaterialId"].as_str().unwrap().len(), 64);
            assert_eq!(v["DestinationKeyMaterialId"].as_str().unwrap().len(), 64);
        },
    );
    check(
        "GenerateDataKey",
        json!({"KeyId": key, "KeySpec": "AES_256"}),
        &|v| {
            assert_eq!(b64(&v["Plaintext"]).len(), 32);
            assert!(!b64(&v["CiphertextBlob"]).is_empty());
        },
    );
    check(
        "GenerateDataKeyWithoutPlaintext",
        json!({"KeyId": key, "NumberOfBytes": 16}),
        &|v| assert!(v.get("Plaintext").is_none()),
    );
    check("GenerateRandom", json!({"NumberOfBytes": 24}), &|v| {
        assert_eq!(b64(&v["Plaintext"]).len(), 24)
    });

    // Aliases, tags, key policies.
    check(
        "CreateAlias",
        json!({"AliasName": "alias/app", "TargetKeyId": key}),
        &empty,
    );
    check(
        "UpdateAlias",
        json!({"AliasName": "alias/app", "TargetKeyId": other}),
        &empty,
    );
    check("ListAliases", json!({"KeyId": other}), &|v| {
        assert_eq!(v["Aliases"][0]["AliasName"], "alias/app");
        assert!(v["Aliases"][0]["CreationDate"].is_number());
    });
    check("DeleteAlias", json!({"AliasName": "alias/app"}), &empty);
    check(
        "TagResource",
        json!({"KeyId": key, "Tags": [{"TagKey": "team", "TagValue": "wire"}]}),
        &empty,
    );
    check("ListResourceTags", json!({"KeyId": key}), &|v| {
        assert_eq!(v["Tags"], json!([{"TagKey": "team", "TagValue": "wire"}]))
    });
    check(
        "UntagResource",
        json!({"KeyId": key, "TagKeys": ["team"]}),
        &empty,
    );
    check("ListKeyPolicies", json!({"KeyId": key}), &|v| {
        assert_eq!(v["PolicyNames"], json!(["default"]))
    });
    let policy = ok(&w, "GetKeyPolicy", json!({"KeyId": key}))["Policy"].clone();
    check(
        "GetKeyPolicy",
        json!({"KeyId": key, "PolicyName": "default"}),
        &|v| assert!(v["Policy"].as_str().unwrap().contains("Statement")),
    );
    check(
        "PutKeyPolicy",
        json!({"KeyId": key, "PolicyName": "default", "Policy": policy}),
        &empty,
    );

    // Grants.
    let grant = std::cell::RefCell::new((String::new(), String::new()));
    check(
        "CreateGrant",
        json!({"KeyId": key, "GranteePrincipal": "arn:aws:iam::111122223333:user/bob",
               "RetiringPrincipal": "arn:aws:iam::111122223333:user/alice",
               "Operations": ["Decrypt"]}),
        &|v| {
            let id = v["GrantId"].as_str().unwrap();
            assert_eq!(id.len(), 64);
            *grant.borrow_mut() = (id.to_owned(), v["GrantToken"].as_str().unwrap().to_owned());
        },
    );
    let (grant_id, grant_token) = grant.into_inner();
    check("ListGrants", json!({"KeyId": key}), &|v| {
        assert_eq!(v["Grants"][0]["GrantId"], grant_id.as_str());
        assert_eq!(v["Truncated"], false);
    });
    check(
        "ListRetirableGrants",
        json!({"RetiringPrincipal": "arn:aws:iam::111122223333:user/alice"}),
        &|v| assert_eq!(v["Grants"][0]["GrantId"], grant_id.as_str()),
    );
    check("RetireGrant", json!({"GrantToken": grant_token}), &empty);
    let second = ok(
        &w,
        "CreateGrant",
        json!({"KeyId": key, "GranteePrincipal": "arn:aws:iam::111122223333:user/bob",
               "Operations": ["Encrypt"]}),
    )["GrantId"]
        .clone();
    check(
        "RevokeGrant",
        json!({"KeyId": key, "GrantId": second}),
        &empty,
    );

    // Custom key stores: a CloudHSM store through its whole life, and an
    // external key store created and deleted.
    let trust_anchor = provisioned.cloudhsm_clusters[0]
        .trust_anchor
        .clone()
        .unwrap();
    let store = std::cell::RefCell::new(String::new());
    check(
        "CreateCustomKeyStore",
        json!({"CustomKeyStoreName": "hsm", "CloudHsmClusterId": "cluster-jw7qqa4ryqv",
               "TrustAnchorCertificate": trust_anchor, "KeyStorePassword": "kmsPswd1"}),
        &|v| {
            let id = v["CustomKeyStoreId"].as_str().unwrap();
            assert!(id.starts_with("cks-"));
            *store.borrow_mut() = id.to_owned();
        },
    );
    let store = store.into_inner();
    check(
        "DescribeCustomKeyStores",
        json!({"CustomKeyStoreId": store}),
        &|v| {
            let s = &v["CustomKeyStores"][0];
            assert_eq!(s["ConnectionState"], "DISCONNECTED");
            assert_eq!(s["CustomKeyStoreType"], "AWS_CLOUDHSM");
            assert!(s["CreationDate"].is_number());
            assert!(s.get("ConnectionErrorCode").is_none());
        },
    );
    check(
        "ConnectCustomKeyStore",
        json!({"CustomKeyStoreId": store}),
        &empty,
    );
    let hsm_key = ok(
        &w,
        "CreateKey",
        json!({"Origin": "AWS_CLOUDHSM", "CustomKeyStoreId": store}),
    );
    assert_eq!(
        hsm_key["KeyMetadata"]["CloudHsmClusterId"],
        "cluster-jw7qqa4ryqv"
    );
    assert_eq!(hsm_key["KeyMetadata"]["CustomKeyStoreId"], store.as_str());
    check(
        "DisconnectCustomKeyStore",
        json!({"CustomKeyStoreId": store}),
        &empty,
    );
    check(
        "UpdateCustomKeyStore",
        json!({"CustomKeyStoreId": store, "NewCustomKeyStoreName": "renamed"}),
        &empty,
    );
    let xks = ok(
        &w,
        "CreateCustomKeyStore",
        json!({"CustomKeyStoreName": "xks", "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
               "XksProxyUriEndpoint": "https://xks.example.com", "XksProxyUriPath": "/kms/xks/v1",
               "XksProxyConnectivity": "PUBLIC_ENDPOINT",
               "XksProxyAuthenticationCredential": {"AccessKeyId": "ABCDEFGHIJKLMNOPQRST",
                                                    "RawSecretAccessKey": XKS_SECRET}}),
    )["CustomKeyStoreId"]
        .clone();
    check(
        "DeleteCustomKeyStore",
        json!({"CustomKeyStoreId": xks}),
        &empty,
    );

    // HMAC keys.
    let mac_key = ok(
        &w,
        "CreateKey",
        json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}),
    )["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mac = std::cell::RefCell::new(Value::Null);
    check(
        "GenerateMac",
        json!({"KeyId": mac_key, "Message": "aGk=", "MacAlgorithm": "HMAC_SHA_256"}),
        &|v| {
            assert_eq!(v["MacAlgorithm"], "HMAC_SHA_256");
            *mac.borrow_mut() = v["Mac"].clone();
        },
    );
    check(
        "VerifyMac",
        json!({"KeyId": mac_key, "Message": "aGk=", "MacAlgorithm": "HMAC_SHA_256", "Mac": *mac.borrow()}),
        &|v| assert_eq!(v["MacValid"], true),
    );

    // Key rotation, on an AWS_KMS key.
    for (op, body) in [
        (
            "EnableKeyRotation",
            json!({"KeyId": key, "RotationPeriodInDays": 90}),
        ),
        ("GetKeyRotationStatus", json!({"KeyId": key})),
        ("RotateKeyOnDemand", json!({"KeyId": key})),
        ("ListKeyRotations", json!({"KeyId": key, "Limit": 5})),
        ("DisableKeyRotation", json!({"KeyId": key})),
    ] {
        let (status, v) = kms(&w, op, body);
        assert_eq!(status, 200, "{op}: {v}");
        tested.insert(op);
        match op {
            "GetKeyRotationStatus" => {
                assert_eq!(v["KeyRotationEnabled"], true, "{v}");
                assert_eq!(v["RotationPeriodInDays"], 90, "{v}");
                assert!(v["NextRotationDate"].is_number(), "{v}");
                assert!(v.get("OnDemandRotationStartDate").is_none(), "{v}");
            }
            "RotateKeyOnDemand" => assert!(v["KeyId"].is_string(), "{v}"),
            "ListKeyRotations" => {
                let r = &v["Rotations"][0];
                assert_eq!(r["RotationType"], "ON_DEMAND", "{v}");
                assert_eq!(r["KeyMaterialId"].as_str().unwrap().len(), 64, "{v}");
                assert!(r["RotationDate"].is_number(), "{v}");
                assert_eq!(v["Truncated"], false, "{v}");
            }
            _ => {}
        }
    }

    // Data key pairs: made with the feature `asymmetric`, refused naming
    // the feature without it (after the key checks).
    for op in ["GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"] {
        let (status, v) = kms(
            &w,
            op,
            json!({"KeyId": key, "KeyPairSpec": "ECC_NIST_P256"}),
        );
        if cfg!(feature = "asymmetric") {
            assert_eq!(status, 200, "{op}: {v}");
            assert!(v["PublicKey"].is_string(), "{v}");
            assert!(v["PrivateKeyCiphertextBlob"].is_string(), "{v}");
            assert_eq!(
                v.get("PrivateKeyPlaintext").is_some(),
                op == "GenerateDataKeyPair",
                "{v}"
            );
        } else {
            assert_error(status, &v, 400, "UnsupportedOperationException");
            assert!(v["message"].as_str().unwrap().contains("asymmetric"), "{v}");
        }
        tested.insert(op);
    }
    // The asymmetric-key operations are routed in every build: on a
    // symmetric key they answer the key usage error (their own checks), not
    // "not supported" (tests/asymmetric.rs runs them on asymmetric keys).
    for (op, body, want) in [
        (
            "Sign",
            json!({"KeyId": key, "Message": "bQ==", "SigningAlgorithm": "ECDSA_SHA_256"}),
            "InvalidKeyUsageException",
        ),
        (
            "Verify",
            json!({"KeyId": key, "Message": "bQ==", "Signature": "bQ==", "SigningAlgorithm": "ECDSA_SHA_256"}),
            "InvalidKeyUsageException",
        ),
        (
            "DeriveSharedSecret",
            json!({"KeyId": key, "KeyAgreementAlgorithm": "ECDH", "PublicKey": "bQ=="}),
            "InvalidKeyUsageException",
        ),
        (
            "GetPublicKey",
            json!({"KeyId": key}),
            "UnsupportedOperationException",
        ),
    ] {
        let (status, v) = kms(&w, op, body);
        assert_error(status, &v, 400, want);
        assert!(v["message"].as_str().unwrap().contains(op), "{op}: {v}");
        tested.insert(op);
    }

    // Imported key material: on an AWS_KMS key, AWS's refusal naming the
    // origin (the operations themselves: tests/imported_keys.rs).
    for (op, body) in [
        (
            "GetParametersForImport",
            json!({"KeyId": key, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"}),
        ),
        (
            "ImportKeyMaterial",
            json!({"KeyId": key, "ImportToken": "AAAA", "EncryptedKeyMaterial": "AAAA",
                   "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}),
        ),
        ("DeleteImportedKeyMaterial", json!({"KeyId": key})),
    ] {
        let (status, v) = kms(&w, op, body);
        assert_error(status, &v, 400, "UnsupportedOperationException");
        let message = v["message"].as_str().unwrap();
        assert!(
            message.ends_with("origin is AWS_KMS which is not valid for this operation."),
            "{v}"
        );
        tested.insert(op);
    }

    // Multi-Region keys: this dispatcher serves one Region, so a replica
    // Region is one it does not have (the partition's server: wire_sigv4).
    let (status, v) = kms(&w, "CreateKey", json!({"MultiRegion": true}));
    assert_eq!(status, 200, "{v}");
    let mrk = v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    assert_eq!(
        v["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"],
        "PRIMARY"
    );
    let (status, v) = kms(
        &w,
        "ReplicateKey",
        json!({"KeyId": mrk, "ReplicaRegion": "eu-west-1"}),
    );
    assert_error(status, &v, 400, "UnsupportedOperationException");
    tested.insert("ReplicateKey");
    let (status, v) = kms(
        &w,
        "UpdatePrimaryRegion",
        json!({"KeyId": mrk, "PrimaryRegion": "eu-west-1"}),
    );
    assert_error(status, &v, 400, "NotFoundException");
    tested.insert("UpdatePrimaryRegion");

    let routed: BTreeSet<&str> = Service::Kms.routed_operations().collect();
    assert_eq!(routed, tested, "every routed operation needs a case here");
}

#[test]
fn every_routed_operation_is_in_the_api_model_and_listed_once() {
    for service in Service::values() {
        let routed: Vec<&str> = service.routed_operations().collect();
        let mut sorted = routed.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(routed, sorted, "{service:?}: sorted, no duplicates");
        for op in routed {
            assert!(service.model_operations().contains(&op), "{op}");
        }
    }
}

#[test]
fn unimplemented_operations_of_the_model_are_refused_with_400_naming_the_operation_never_501() {
    let w = dispatcher();
    for service in Service::values() {
        let routed: BTreeSet<&str> = service.routed_operations().collect();
        let mut seen = 0;
        for op in service.model_operations() {
            if routed.contains(op) {
                continue;
            }
            seen += 1;
            let target = format!("{}.{op}", service.target_prefix());
            let (status, v) = call(&w, &target, b"{}");
            let expected = match service {
                Service::Kms => "UnsupportedOperationException",
                _ => "CloudHsmInvalidRequestException",
            };
            assert_error(status, &v, 400, expected);
            assert!(v["message"].as_str().unwrap().contains(op), "{v}");
        }
        assert!(seen > 0, "{service:?} has unimplemented operations");
    }
    // No operation name of either model, with any body, answers 501.
    for service in Service::values() {
        for op in service.model_operations() {
            let target = format!("{}.{op}", service.target_prefix());
            for body in [&b"{}"[..], b"", b"{\"KeyId\":\"alias/aws/s3\"}"] {
                let (status, v) = call(&w, &target, body);
                assert_ne!(status, 501, "{target}: {v}");
            }
        }
    }
    // One the seeds never use.
    let (status, v) = call(&w, "TrentService.GetKeyLastUsage", b"{}");
    assert_eq!(status, 400);
    assert!(v["message"].as_str().unwrap().contains("GetKeyLastUsage"));
}

#[test]
fn a_name_outside_the_model_is_unknown_operation_naming_it() {
    let w = dispatcher();
    let (status, v) = call(&w, "TrentService.MakeCoffee", b"{}");
    assert_error(status, &v, 400, "UnknownOperationException");
    assert!(v["message"].as_str().unwrap().contains("MakeCoffee"));
    // Operation names are case-sensitive.
    let (status, v) = call(&w, "TrentService.encrypt", b"{}");
    assert_error(status, &v, 400, "UnknownOperationException");
}

#[test]
fn an_unknown_target_prefix_is_unknown_operation() {
    let w = dispatcher();
    for target in [
        "DynamoDB_20120810.ListTables",
        "Encrypt",
        "",
        ".Encrypt",
        "TrentService",
        "trentservice.Encrypt",
        "BaldrApiService.Encrypt",
    ] {
        let (status, v) = call(&w, target, b"{}");
        assert_error(status, &v, 400, "UnknownOperationException");
    }
}

#[test]
fn a_kms_operation_name_does_not_route_under_the_cloudhsm_prefix() {
    let w = dispatcher();
    let (status, v) = call(&w, "BaldrApiService.CreateKey", b"{}");
    assert_error(status, &v, 400, "UnknownOperationException");
    let (status, v) = call(&w, "TrentService.DescribeClusters", b"{}");
    assert_error(status, &v, 400, "UnknownOperationException");
}

// ---------------------------------------------------------- request bodies

#[test]
fn malformed_json_is_serialization_exception() {
    let w = dispatcher();
    for body in [
        &b"{"[..],
        b"{\"KeyId\": }",
        b"not json",
        b"\xff\xfe",
        b"{\"KeyId\":\"a\"} trailing",
    ] {
        let (status, v) = call(&w, "TrentService.DescribeKey", body);
        assert_error(status, &v, 400, "SerializationException");
    }
}

#[test]
fn a_body_that_is_not_an_object_is_serialization_exception() {
    let w = dispatcher();
    for body in ["[]", "\"KeyId\"", "42", "null", "true"] {
        let (status, v) = call(&w, "TrentService.ListKeys", body.as_bytes());
        assert_error(status, &v, 400, "SerializationException");
    }
}

#[test]
fn a_member_of_the_wrong_type_is_serialization_exception() {
    let w = dispatcher();
    let key = new_key(&w);
    for body in [
        json!({"KeyId": 5}),
        json!({"KeyId": key, "Plaintext": 5}),
        json!({"KeyId": key, "Plaintext": "aGk=", "EncryptionContext": ["a"]}),
        json!({"KeyId": key, "Plaintext": "aGk=", "EncryptionContext": {"a": 1}}),
    ] {
        let (status, v) = kms(&w, "Encrypt", body);
        assert_error(status, &v, 400, "SerializationException");
    }
    let (status, v) = kms(&w, "ListKeys", json!({"Limit": "ten"}));
    assert_error(status, &v, 400, "SerializationException");
}

#[test]
fn a_blob_that_is_not_base64_is_serialization_exception() {
    let w = dispatcher();
    let key = new_key(&w);
    let (status, v) = kms(
        &w,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": "not base64!"}),
    );
    assert_error(status, &v, 400, "SerializationException");
    let (status, v) = kms(&w, "Decrypt", json!({"CiphertextBlob": "%%%"}));
    assert_error(status, &v, 400, "SerializationException");
}

#[test]
fn a_missing_required_member_is_validation_exception_in_aws_wording() {
    let w = dispatcher();
    let (status, v) = kms(&w, "DescribeKey", json!({}));
    assert_error(status, &v, 400, "ValidationException");
    assert_eq!(
        v["message"],
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"
    );
    let (status, v) = kms(&w, "Encrypt", json!({}));
    assert_error(status, &v, 400, "ValidationException");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.starts_with("2 validation errors detected: "), "{msg}");
    assert!(
        msg.contains("'keyId'") && msg.contains("'plaintext'"),
        "{msg}"
    );
}

#[test]
fn a_value_outside_the_model_is_validation_exception() {
    let w = dispatcher();
    let key = new_key(&w);
    let (status, v) = kms(&w, "CreateKey", json!({"KeySpec": "AES_9000"}));
    assert_error(status, &v, 400, "ValidationException");
    assert!(v["message"].as_str().unwrap().contains("keySpec"), "{v}");
    let (status, v) = kms(&w, "CreateKey", json!({"Origin": "SOMEWHERE"}));
    assert_error(status, &v, 400, "ValidationException");
    let (status, v) = kms(&w, "GenerateRandom", json!({"NumberOfBytes": 1025}));
    assert_error(status, &v, 400, "ValidationException");
    let (status, v) = kms(
        &w,
        "ScheduleKeyDeletion",
        json!({"KeyId": key, "PendingWindowInDays": 3}),
    );
    assert_error(status, &v, 400, "ValidationException");
    let (status, v) = kms(&w, "Encrypt", json!({"KeyId": key, "Plaintext": ""}));
    assert_error(status, &v, 400, "ValidationException");
}

#[test]
fn an_empty_body_reads_as_an_empty_object() {
    let w = dispatcher();
    new_key(&w);
    for body in [&b""[..], b"  \n"] {
        let (status, v) = call(&w, "TrentService.ListKeys", body);
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["Keys"].as_array().unwrap().len(), 1);
    }
}

#[test]
fn a_null_member_reads_as_absent() {
    let w = dispatcher();
    let (status, v) = kms(&w, "ListKeys", json!({"Limit": null, "Marker": null}));
    assert_eq!(status, 200, "{v}");
    let (status, v) = kms(&w, "DescribeKey", json!({"KeyId": null}));
    assert_error(status, &v, 400, "ValidationException");
}

#[test]
fn unknown_members_are_ignored() {
    let w = dispatcher();
    let (status, v) = kms(
        &w,
        "CreateKey",
        json!({"Description": "x", "Frobnicate": [1, 2]}),
    );
    assert_eq!(status, 200, "{v}");
}

// -------------------------------------------------------- response shapes

#[test]
fn errors_carry_the_exception_name_in_type_and_a_message() {
    let w = dispatcher();
    let (status, v) = kms(
        &w,
        "DescribeKey",
        json!({"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}),
    );
    assert_error(status, &v, 400, "NotFoundException");
    assert!(v["message"].as_str().unwrap().contains("1234abcd"));

    let key = new_key(&w);
    ok(&w, "DisableKey", json!({"KeyId": key}));
    let (status, v) = kms(&w, "Encrypt", json!({"KeyId": key, "Plaintext": "aGk="}));
    assert_error(status, &v, 400, "DisabledException");

    let (status, v) = kms(
        &w,
        "Decrypt",
        json!({"CiphertextBlob": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
    );
    assert_error(status, &v, 400, "InvalidCiphertextException");
}

#[test]
fn error_statuses_follow_the_error_http_status() {
    for (err, status) in [
        (
            Error::KmsInternal {
                message: "m".into(),
            },
            500,
        ),
        (
            Error::NotFound {
                message: "m".into(),
            },
            400,
        ),
        (
            Error::DependencyTimeout {
                message: "m".into(),
            },
            503,
        ),
    ] {
        let r = WireResponse::from_error(&err);
        assert_eq!(r.status, status);
        assert_eq!(r.status, err.http_status());
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v, json!({"__type": err.code(), "message": "m"}));
        assert_eq!(r.error_type().as_deref(), Some(err.code()));
    }
}

#[test]
fn dry_run_is_http_412_dry_run_operation_exception() {
    let w = dispatcher();
    let key = new_key(&w);
    let (status, v) = kms(
        &w,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": "aGk=", "DryRun": true}),
    );
    assert_error(status, &v, 412, "DryRunOperationException");
}

#[test]
fn timestamps_are_epoch_seconds_and_blobs_base64() {
    let w = dispatcher();
    let v = ok(&w, "CreateKey", json!({}));
    assert_eq!(v["KeyMetadata"]["CreationDate"], json!(1_499_288_695.918));
    let key = v["KeyMetadata"]["KeyId"].as_str().unwrap();
    let ct = ok(
        &w,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": B64.encode(b"hello")}),
    );
    let blob = b64(&ct["CiphertextBlob"]);
    assert!(blob.len() > 5 + 16);
    assert!(
        ct["KeyId"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:kms:us-west-2:")
    );
}

#[test]
fn plaintext_round_trips_as_base64_never_as_the_redaction_placeholder() {
    let w = dispatcher();
    let key = new_key(&w);
    let secret = B64.encode(b"attack at dawn");
    let ct = ok(
        &w,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": secret, "EncryptionContext": {"purpose": "test"}}),
    );
    let pt = ok(
        &w,
        "Decrypt",
        json!({"CiphertextBlob": ct["CiphertextBlob"], "EncryptionContext": {"purpose": "test"}}),
    );
    assert_eq!(pt["Plaintext"], secret.as_str());
    assert_eq!(pt["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
    let text = pt.to_string();
    assert!(!text.contains("Redacted"), "{text}");
    // A wrong context is InvalidCiphertextException, with no plaintext.
    let (status, v) = kms(
        &w,
        "Decrypt",
        json!({"CiphertextBlob": ct["CiphertextBlob"], "EncryptionContext": {"purpose": "other"}}),
    );
    assert_error(status, &v, 400, "InvalidCiphertextException");
}

#[test]
fn a_response_carrying_plaintext_does_not_show_it_in_debug() {
    let w = dispatcher();
    let key = new_key(&w);
    let secret = B64.encode(b"attack at dawn");
    let ct = ok(&w, "Encrypt", json!({"KeyId": key, "Plaintext": secret}));
    let r = w.dispatch(
        "TrentService.Decrypt",
        json!({"CiphertextBlob": ct["CiphertextBlob"]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200);
    let shown = format!("{r:?}");
    assert!(!shown.contains(&secret), "{shown}");
    assert!(!shown.contains("attack"), "{shown}");
}

#[test]
fn list_keys_pages_with_next_marker() {
    let w = dispatcher();
    for _ in 0..3 {
        new_key(&w);
    }
    let first = ok(&w, "ListKeys", json!({"Limit": 2}));
    assert_eq!(first["Truncated"], true);
    let second = ok(
        &w,
        "ListKeys",
        json!({"Limit": 2, "Marker": first["NextMarker"]}),
    );
    assert_eq!(second["Truncated"], false);
    assert!(second.get("NextMarker").is_none());
    assert_eq!(second["Keys"].as_array().unwrap().len(), 1);
    let (status, v) = kms(&w, "ListKeys", json!({"Marker": "bogus"}));
    assert_error(status, &v, 400, "InvalidMarkerException");
}

#[test]
fn external_key_store_keys_work_end_to_end_through_the_wire() {
    let w = dispatcher();
    let store = ok(
        &w,
        "CreateCustomKeyStore",
        json!({"CustomKeyStoreName": "xks", "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
               "XksProxyUriEndpoint": "https://xks.example.com", "XksProxyUriPath": "/kms/xks/v1",
               "XksProxyConnectivity": "PUBLIC_ENDPOINT",
               "XksProxyAuthenticationCredential": {"AccessKeyId": "ABCDEFGHIJKLMNOPQRST",
                                                    "RawSecretAccessKey": XKS_SECRET}}),
    )["CustomKeyStoreId"]
        .as_str()
        .unwrap()
        .to_owned();
    let create = json!({"Origin": "EXTERNAL_KEY_STORE", "CustomKeyStoreId": store,
                        "XksKeyId": "bb8562717f809024"});
    let (status, v) = kms(&w, "CreateKey", create.clone());
    assert_error(status, &v, 400, "CustomKeyStoreInvalidStateException");
    ok(
        &w,
        "ConnectCustomKeyStore",
        json!({"CustomKeyStoreId": store}),
    );
    let described = ok(
        &w,
        "DescribeCustomKeyStores",
        json!({"CustomKeyStoreId": store}),
    );
    let s = &described["CustomKeyStores"][0];
    assert_eq!(s["ConnectionState"], "CONNECTED");
    assert_eq!(
        s["XksProxyConfiguration"]["AccessKeyId"],
        "ABCDEFGHIJKLMNOPQRST"
    );
    assert!(!described.to_string().contains(XKS_SECRET));
    let key = ok(&w, "CreateKey", create.clone())["KeyMetadata"].clone();
    assert_eq!(
        key["XksKeyConfiguration"],
        json!({"Id": "bb8562717f809024"})
    );
    assert_eq!(key["Origin"], "EXTERNAL_KEY_STORE");
    let ct = ok(
        &w,
        "Encrypt",
        json!({"KeyId": key["KeyId"], "Plaintext": B64.encode(b"two layers")}),
    );
    let pt = ok(
        &w,
        "Decrypt",
        json!({"CiphertextBlob": ct["CiphertextBlob"]}),
    );
    assert_eq!(b64(&pt["Plaintext"]), b"two layers");
    let (status, v) = kms(&w, "CreateKey", create);
    assert_error(status, &v, 400, "XksKeyAlreadyInUseException");
    let (status, v) = kms(
        &w,
        "CreateKey",
        json!({"Origin": "EXTERNAL_KEY_STORE", "CustomKeyStoreId": store, "XksKeyId": "missing"}),
    );
    assert_error(status, &v, 400, "XksKeyNotFoundException");
}

// --------------------------------------------------------------- cloudhsmv2

const TWO_AZ_FIXTURE: &str = r#"{
  "cloudhsm_clusters": [{
    "id": "cluster-jw7qqa4ryqv",
    "subnets": {"subnet-a6b10bd1": "us-west-2a", "subnet-b6b10bd2": "us-west-2b"},
    "hsms": ["us-west-2a", "us-west-2b"],
    "users": [{"name": "kmsuser", "password": "kmsPswd1"}]
  }]
}"#;

fn hsm(w: &Dispatcher, op: &str, body: Value) -> (u16, Value) {
    call(
        w,
        &format!("BaldrApiService.{op}"),
        body.to_string().as_bytes(),
    )
}

#[test]
fn describe_clusters_shows_the_provisioned_cluster_in_the_seed_shape() {
    let (w, _) = with_fixture(TWO_AZ_FIXTURE);
    let (status, v) = hsm(&w, "DescribeClusters", json!({}));
    assert_eq!(status, 200, "{v}");
    let c = &v["Clusters"][0];
    assert_eq!(c["ClusterId"], "cluster-jw7qqa4ryqv");
    assert_eq!(c["State"], "ACTIVE");
    assert_eq!(c["HsmType"], "hsm1.medium");
    assert!(c["CreateTimestamp"].is_number());
    assert!(
        c["Certificates"]["ClusterCertificate"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert_eq!(c["SubnetMapping"]["subnet-a6b10bd1"], "us-west-2a");
    let hsms = c["Hsms"].as_array().unwrap();
    assert_eq!(hsms.len(), 2);
    let azs: BTreeSet<&str> = hsms
        .iter()
        .map(|h| h["AvailabilityZone"].as_str().unwrap())
        .collect();
    assert_eq!(azs, BTreeSet::from(["us-west-2a", "us-west-2b"]));
    for h in hsms {
        assert_eq!(h["State"], "ACTIVE");
        assert_eq!(h["ClusterId"], "cluster-jw7qqa4ryqv");
        assert!(h["HsmId"].as_str().unwrap().starts_with("hsm-"));
        assert!(h["EniIp"].is_string() && h["EniId"].is_string() && h["SubnetId"].is_string());
    }
}

#[test]
fn describe_clusters_filters_by_id_state_and_vpc() {
    let (w, _) = with_fixture(
        r#"{"cloudhsm_clusters": [
            {"id": "cluster-aaaaaaaaaaa", "subnets": {"s-1": "us-west-2a"}, "hsms": ["us-west-2a"]},
            {"id": "cluster-bbbbbbbbbbb", "subnets": {"s-2": "us-west-2a"}, "state": "UNINITIALIZED"}
        ]}"#,
    );
    let ids = |v: &Value| -> Vec<String> {
        v["Clusters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["ClusterId"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, all) = hsm(&w, "DescribeClusters", json!({}));
    assert_eq!(ids(&all), ["cluster-aaaaaaaaaaa", "cluster-bbbbbbbbbbb"]);
    let (_, v) = hsm(
        &w,
        "DescribeClusters",
        json!({"Filters": {"clusterIds": ["cluster-bbbbbbbbbbb"]}}),
    );
    assert_eq!(ids(&v), ["cluster-bbbbbbbbbbb"]);
    let (_, v) = hsm(
        &w,
        "DescribeClusters",
        json!({"Filters": {"states": ["ACTIVE"]}}),
    );
    assert_eq!(ids(&v), ["cluster-aaaaaaaaaaa"]);
    let vpc = all["Clusters"][1]["VpcId"].clone();
    let (_, v) = hsm(
        &w,
        "DescribeClusters",
        json!({"Filters": {"vpcIds": [vpc]}}),
    );
    assert_eq!(ids(&v), ["cluster-bbbbbbbbbbb"]);
    let (status, v) = hsm(
        &w,
        "DescribeClusters",
        json!({"Filters": {"states": ["NAPPING"]}}),
    );
    assert_error(status, &v, 400, "ValidationException");
    let (status, v) = hsm(
        &w,
        "DescribeClusters",
        json!({"Filters": {"color": ["red"]}}),
    );
    assert_error(status, &v, 400, "CloudHsmInvalidRequestException");
}

#[test]
fn create_hsm_and_delete_hsm_take_effect_at_once() {
    let (w, _) = with_fixture(TWO_AZ_FIXTURE);
    let (status, v) = hsm(
        &w,
        "CreateHsm",
        json!({"ClusterId": "cluster-jw7qqa4ryqv", "AvailabilityZone": "us-west-2b"}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["Hsm"]["State"], "ACTIVE");
    assert_eq!(v["Hsm"]["AvailabilityZone"], "us-west-2b");
    assert_eq!(v["Hsm"]["HsmType"], "hsm1.medium");
    let new_id = v["Hsm"]["HsmId"].as_str().unwrap().to_owned();
    let count = |w: &Dispatcher| {
        hsm(w, "DescribeClusters", json!({})).1["Clusters"][0]["Hsms"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(&w), 3);

    let (status, v) = hsm(
        &w,
        "DeleteHsm",
        json!({"ClusterId": "cluster-jw7qqa4ryqv", "HsmId": new_id}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["HsmId"], new_id.as_str());
    assert_eq!(count(&w), 2);

    // By ENI address too.
    let (_, d) = hsm(&w, "DescribeClusters", json!({}));
    let ip = d["Clusters"][0]["Hsms"][0]["EniIp"].clone();
    let (status, v) = hsm(
        &w,
        "DeleteHsm",
        json!({"ClusterId": "cluster-jw7qqa4ryqv", "EniIp": ip}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(count(&w), 1);
}

#[test]
fn cloudhsm_errors_name_the_cloudhsm_exceptions() {
    let (w, _) = with_fixture(TWO_AZ_FIXTURE);
    let (status, v) = hsm(
        &w,
        "CreateHsm",
        json!({"ClusterId": "cluster-zzzzzzzzzzz", "AvailabilityZone": "us-west-2a"}),
    );
    assert_error(status, &v, 400, "CloudHsmResourceNotFoundException");
    let (status, v) = hsm(
        &w,
        "CreateHsm",
        json!({"ClusterId": "cluster-jw7qqa4ryqv", "AvailabilityZone": "eu-west-1a"}),
    );
    assert_error(status, &v, 400, "CloudHsmInvalidRequestException");
    let (status, v) = hsm(
        &w,
        "DeleteHsm",
        json!({"ClusterId": "cluster-jw7qqa4ryqv", "HsmId": "hsm-zzzzzzzzzzz"}),
    );
    assert_error(status, &v, 400, "CloudHsmResourceNotFoundException");
    let (status, v) = hsm(
        &w,
        "DeleteHsm",
        json!({"ClusterId": "cluster-zzzzzzzzzzz", "HsmId": "hsm-zzzzzzzzzzz"}),
    );
    assert_error(status, &v, 400, "CloudHsmResourceNotFoundException");
    let (status, v) = hsm(&w, "DeleteHsm", json!({"ClusterId": "cluster-jw7qqa4ryqv"}));
    assert_error(status, &v, 400, "CloudHsmInvalidRequestException");
    let (status, v) = hsm(&w, "CreateHsm", json!({"ClusterId": "cluster-jw7qqa4ryqv"}));
    assert_error(status, &v, 400, "ValidationException");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("'availabilityZone'")
    );
    let (status, v) = hsm(
        &w,
        "CreateHsm",
        json!({"ClusterId": "not-a-cluster", "AvailabilityZone": "us-west-2a"}),
    );
    assert_error(status, &v, 400, "ValidationException");
}

// ------------------------------------------------------------------ fixture

fn cluster<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["Clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ClusterId"] == id)
        .unwrap_or_else(|| panic!("{id} in {v}"))
}

#[test]
fn the_fixture_expresses_every_cluster_state_the_key_store_work_models() {
    let (w, p) = with_fixture(
        r#"{"cloudhsm_clusters": [
          {"name": "source", "id": "cluster-sourcesourc",
           "subnets": {"subnet-1": "us-west-2a", "subnet-2": "us-west-2b"},
           "hsms": ["us-west-2a", "us-west-2b"],
           "users": [{"name": "kmsuser", "password": "kmsPswd1"}]},
          {"name": "restored", "id": "cluster-restoredres", "from_backup_of": "source",
           "subnets": {"subnet-3": "us-west-2a", "subnet-4": "us-west-2b"},
           "hsms": ["us-west-2a", "us-west-2b"]},
          {"id": "cluster-oneazoneazo", "subnets": {"subnet-5": "us-west-2a", "subnet-6": "us-west-2b"},
           "hsms": ["us-west-2a", "us-west-2a"],
           "users": [{"name": "kmsuser", "password": "kmsPswd1"}]},
          {"id": "cluster-uninitializ", "subnets": {"subnet-7": "us-west-2a"}, "state": "UNINITIALIZED"},
          {"id": "cluster-inactiveina", "subnets": {"subnet-8": "us-west-2a", "subnet-9": "us-west-2b"},
           "hsms": ["us-west-2a", "us-west-2b"], "state": "INITIALIZED",
           "users": [{"name": "kmsuser", "password": "kmsPswd1"}]},
          {"id": "cluster-nokmsusernn", "subnets": {"subnet-10": "us-west-2a"}, "hsms": []},
          {"id": "cluster-twofactortw", "subnets": {"subnet-11": "us-west-2a"},
           "hsms": [{"availability_zone": "us-west-2a", "state": "DEGRADED"}],
           "users": [{"name": "kmsuser", "password": "kmsPswd1", "two_factor": true, "locked_out": true}],
           "faults": {"deleted_subnets": ["subnet-11"], "network_reachable": false,
                      "security_group": {"inbound": false, "outbound": true}}}
        ]}"#,
    );
    let (_, v) = hsm(&w, "DescribeClusters", json!({}));
    let cert = |id: &str| cluster(&v, id)["Certificates"]["ClusterCertificate"].clone();
    assert_eq!(cert("cluster-restoredres"), cert("cluster-sourcesourc"));
    assert!(cert("cluster-restoredres").is_string());
    assert_ne!(cert("cluster-oneazoneazo"), cert("cluster-sourcesourc"));
    assert_eq!(cluster(&v, "cluster-restoredres")["State"], "ACTIVE");
    let one_az: BTreeSet<&str> = cluster(&v, "cluster-oneazoneazo")["Hsms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["AvailabilityZone"].as_str().unwrap())
        .collect();
    assert_eq!(one_az, BTreeSet::from(["us-west-2a"]));
    assert_eq!(cluster(&v, "cluster-uninitializ")["State"], "UNINITIALIZED");
    assert!(
        cluster(&v, "cluster-uninitializ")["Certificates"]
            .get("ClusterCertificate")
            .is_none()
    );
    assert_eq!(cluster(&v, "cluster-inactiveina")["State"], "INITIALIZED");
    assert_eq!(cluster(&v, "cluster-nokmsusernn")["State"], "ACTIVE");
    assert_eq!(cluster(&v, "cluster-nokmsusernn")["Hsms"], json!([]));
    assert_eq!(
        cluster(&v, "cluster-twofactortw")["Hsms"][0]["State"],
        "DEGRADED"
    );

    // The restored cluster reports its source's trust anchor; the fresh ones
    // a generated one; the uninitialized one none.
    let by_name = |n: &str| {
        p.cloudhsm_clusters
            .iter()
            .find(|c| c.name == n)
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_name("restored").trust_anchor,
        by_name("source").trust_anchor
    );
    assert!(by_name("source").trust_anchor.is_some());
    assert_eq!(by_name("cluster-uninitializ").trust_anchor, None);
    assert_eq!(by_name("source").hsm_ids.len(), 2);
}

#[test]
fn the_fixture_attaches_external_key_managers_with_keys_of_any_spec_status_and_usage() {
    use kms_keystore::xks::{
        KeyMetadataRequest, RequestMetadata, XksCall, XksCredential, XksKeySpec, XksKeyStatus,
        XksKeyUsage, XksProxyUri,
    };
    let network = kms_keystore::xks::XksNetwork::new();
    let secret = "a".repeat(43);
    let text = json!({
        "external_key_managers": [{
            "uri_endpoint": "https://xks.example.com",
            "credential": {"access_key_id": "ABCDEFGHIJKLMNOPQRST", "secret_access_key": secret},
            "keys": [
                {"id": "bb8562717f809024"},
                {"id": "rsa", "spec": "RSA_2048", "usages": ["SIGN", "VERIFY"]},
                {"id": "off", "status": "DISABLED"}
            ]
        }]
    })
    .to_string();
    let p = Fixture::from_json(&text)
        .unwrap()
        .provision(
            &kms_keystore::cloudhsm::CloudHsm::standalone(None),
            &network,
        )
        .unwrap();
    assert_eq!(p.external_key_managers[0].uri_path, "/kms/xks/v1");
    assert_eq!(p.external_key_managers[0].keys.len(), 3);

    let uri = XksProxyUri::new("https://xks.example.com", "/kms/xks/v1").unwrap();
    let proxy = network.resolve(&uri).unwrap();
    let call = XksCall::new(
        uri,
        XksCredential::new("ABCDEFGHIJKLMNOPQRST", &secret).unwrap(),
    );
    let meta = |id: &str| {
        proxy
            .get_key_metadata(
                &call,
                &id.parse().unwrap(),
                &KeyMetadataRequest {
                    request_metadata: RequestMetadata::new("CreateKey", "r-1"),
                },
            )
            .unwrap()
    };
    let aes = meta("bb8562717f809024");
    assert_eq!(aes.key_spec, XksKeySpec::Aes256);
    assert_eq!(aes.key_status, XksKeyStatus::Enabled);
    assert_eq!(aes.key_usage, [XksKeyUsage::Encrypt, XksKeyUsage::Decrypt]);
    assert_eq!(meta("rsa").key_spec, XksKeySpec::Rsa2048);
    assert_eq!(
        meta("rsa").key_usage,
        [XksKeyUsage::Sign, XksKeyUsage::Verify]
    );
    assert_eq!(meta("off").key_status, XksKeyStatus::Disabled);
}

#[test]
fn fixture_mistakes_are_reported_with_where_they_are() {
    let cases = [
        (r#"{"cloudhsm_cluster": []}"#, "cloudhsm_cluster"),
        (
            r#"{"cloudhsm_clusters": [{"subnets": {}, "colour": 1}]}"#,
            "colour",
        ),
    ];
    for (text, needle) in cases {
        let err = Fixture::from_json(text).unwrap_err();
        assert_eq!(err.code(), "SerializationException");
        assert!(err.message().contains(needle), "{err}");
    }
    let hsm = kms_keystore::cloudhsm::CloudHsm::standalone(None);
    let network = kms_keystore::xks::XksNetwork::new();
    for (text, needle) in [
        (
            r#"{"cloudhsm_clusters": [{"subnets": {"s": "a"}, "from_backup_of": "nope"}]}"#,
            "cloudhsm_clusters[0].from_backup_of",
        ),
        (
            r#"{"cloudhsm_clusters": [{"subnets": {"s": "a"}, "state": "UNINITIALIZED",
                 "users": [{"name": "kmsuser", "password": "kmsPswd1"}]}]}"#,
            "cloudhsm_clusters[0].state",
        ),
        (
            r#"{"cloudhsm_clusters": [{"subnets": {"s": "a"}, "hsms": ["b"]}]}"#,
            "cloudhsm_clusters[0].hsms[0]",
        ),
        (
            r#"{"cloudhsm_clusters": [{"subnets": {"s": "a"}, "users": [{"name": "kmsuser", "password": "short"}]}]}"#,
            "cloudhsm_clusters[0].users[0]",
        ),
        (
            r#"{"external_key_managers": [{"uri_endpoint": "http://x", "credential": {"access_key_id": "A", "secret_access_key": "b"}}]}"#,
            "external_key_managers[0]",
        ),
        (
            r#"{"external_key_managers": [{"uri_endpoint": "https://xks.example.com", "proxy_url": "https://127.0.0.1:4600",
                 "credential": {"access_key_id": "ABCDEFGHIJKLMNOPQRST", "secret_access_key": "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo="}}]}"#,
            "external_key_managers[0].proxy_url",
        ),
        #[cfg(not(feature = "xks-http"))]
        (
            r#"{"external_key_managers": [{"kind": "http", "uri_endpoint": "https://xks.example.com",
                 "credential": {"access_key_id": "ABCDEFGHIJKLMNOPQRST", "secret_access_key": "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo="}}]}"#,
            "`xks-http` feature",
        ),
    ] {
        let err = Fixture::from_json(text)
            .unwrap()
            .provision(&hsm, &network)
            .unwrap_err();
        assert_eq!(err.code(), "ValidationException", "{err}");
        assert!(err.message().contains(needle), "{needle}: {err}");
    }
}

#[test]
fn the_fixture_secrets_do_not_show_in_debug() {
    let f = Fixture::from_json(
        r#"{"cloudhsm_clusters": [{"subnets": {"s": "a"}, "users": [{"name": "kmsuser", "password": "kmsPswdSecret"}]}],
            "external_key_managers": [{"uri_endpoint": "https://xks.example.com",
              "credential": {"access_key_id": "ABCDEFGHIJKLMNOPQRST", "secret_access_key": "TopSecretTopSecretTopSecretTopSecretTopSecret"}}]}"#,
    )
    .unwrap();
    let shown = format!("{f:?}");
    assert!(!shown.contains("kmsPswdSecret"), "{shown}");
    assert!(!shown.contains("TopSecret"), "{shown}");
}

#[test]
fn the_shipped_example_fixture_provisions() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/server-fixture.json"
    ))
    .unwrap();
    let fixture = Fixture::from_json(&text).unwrap();
    fixture.kms_config().unwrap();
    let p = fixture
        .provision(
            &kms_keystore::cloudhsm::CloudHsm::standalone(None),
            &kms_keystore::xks::XksNetwork::new(),
        )
        .unwrap();
    assert!(!p.external_key_managers.is_empty());
    // examples/customerCA.crt is the primary cluster's trust anchor, for
    // `--trust-anchor-certificate file://examples/customerCA.crt`.
    let ca = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/customerCA.crt"
    ))
    .unwrap();
    let primary = &p.cloudhsm_clusters[0];
    assert_eq!(primary.cluster_id.as_str(), "cluster-jw7qqa4ryqv");
    assert_eq!(primary.trust_anchor.as_deref(), Some(ca.as_str()));
}

// ------------------------------------------------------------ robustness

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the target and the bytes, the answer is an AWS-shaped JSON
    /// body with a known status, and never a panic.
    #[test]
    fn any_request_gets_a_json_answer(
        op in prop::sample::select(vec![
            "TrentService.Encrypt", "TrentService.Decrypt", "TrentService.CreateKey",
            "TrentService.ListKeys", "TrentService.GenerateDataKey", "TrentService.ReEncrypt",
            "TrentService.CreateCustomKeyStore", "TrentService.UpdateCustomKeyStore",
            "BaldrApiService.DescribeClusters", "BaldrApiService.CreateHsm",
            "BaldrApiService.DeleteHsm", "TrentService.Sign", "Nope.Nope", "",
        ]),
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            "\\{(\"[A-Za-z]{1,12}\": ?(\"[ -~]{0,12}\"|-?[0-9]{1,5}|true|null|\\[\\]|\\{\\}),? ?){0,4}\\}"
                .prop_map(String::into_bytes),
        ],
    ) {
        let w = dispatcher();
        let r = w.dispatch(op, &body);
        prop_assert!([200, 400, 412, 500, 501].contains(&r.status), "{}", r.status);
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        prop_assert!(v.is_object());
        if r.status != 200 {
            prop_assert!(v["__type"].is_string());
        }
    }
}

#[test]
fn aws_words_on_the_wire_byte_for_byte() {
    let w = dispatcher();
    let key = new_key(&w);
    let arn = ok(&w, "DescribeKey", json!({"KeyId": key}))["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();

    // An enum value outside the model: the value and the set, no repeated
    // exception name.
    let (status, v) = kms(&w, "CreateKey", json!({"KeySpec": "AES_9000"}));
    assert_error(status, &v, 400, "ValidationException");
    let m = v["message"].as_str().unwrap();
    assert!(
        m.starts_with("1 validation error detected: Value 'AES_9000' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: ["),
        "{m}"
    );
    assert!(!m.contains("ValidationException"), "{m}");

    // A number out of range: the value and the bound broken.
    let (_, v) = kms(&w, "GenerateRandom", json!({"NumberOfBytes": 1025}));
    assert_eq!(
        v["message"],
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"
    );
    let (_, v) = kms(&w, "GenerateRandom", json!({}));
    assert_eq!(v["message"], "NumberOfBytes is required.");

    // A secret is not echoed.
    let big = B64.encode(vec![7u8; 4097]);
    let (_, v) = kms(&w, "Encrypt", json!({"KeyId": key, "Plaintext": big}));
    assert_eq!(
        v["message"],
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
    );

    // InvalidCiphertextException: no message member at all; the crate's
    // guidance is apart from the body.
    let blob = ok(
        &w,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": "aGk=", "EncryptionContext": {"a": "b"}}),
    )["CiphertextBlob"]
        .clone();
    let r = w.dispatch(
        "TrentService.Decrypt",
        json!({"CiphertextBlob": blob}).to_string().as_bytes(),
    );
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v, json!({"__type": "InvalidCiphertextException"}));
    assert!(r.hint.is_some());

    // IncorrectKeyException.
    let other = new_key(&w);
    let (_, v) = kms(
        &w,
        "Decrypt",
        json!({"CiphertextBlob": blob, "KeyId": other, "EncryptionContext": {"a": "b"}}),
    );
    assert_eq!(v["__type"], "IncorrectKeyException");
    assert_eq!(
        v["message"],
        "The key ID in the request does not identify a CMK that can perform this operation."
    );

    // Disabled: the ARN and nothing more.
    ok(&w, "DisableKey", json!({"KeyId": key}));
    let r = w.dispatch(
        "TrentService.Encrypt",
        json!({"KeyId": key, "Plaintext": "aGk="})
            .to_string()
            .as_bytes(),
    );
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["__type"], "DisabledException");
    assert_eq!(v["message"], format!("{arn} is disabled."));
    assert_eq!(
        r.hint.as_deref(),
        Some("Enable the key (EnableKey) to use it.")
    );

    // Pending deletion.
    ok(
        &w,
        "ScheduleKeyDeletion",
        json!({"KeyId": key, "PendingWindowInDays": 7}),
    );
    let (_, v) = kms(&w, "Encrypt", json!({"KeyId": key, "Plaintext": "aGk="}));
    assert_eq!(v["__type"], "KMSInvalidStateException");
    assert_eq!(v["message"], format!("{arn} is pending deletion."));

    // A missing key: no full stop.
    let missing = "1234abcd-12ab-34cd-56ef-1234567890ab";
    let (_, v) = kms(&w, "DescribeKey", json!({"KeyId": missing}));
    let missing_arn = arn.replace(&key, missing);
    assert_eq!(v["message"], format!("Key '{missing_arn}' does not exist"));

    // A well-formed multi-Region key id that does not exist is NotFound
    // naming its ARN; a malformed one is an invalid key id.
    let mrk = "mrk-d3b95762d3b95762d3b95762d3b95762";
    let (_, v) = kms(&w, "DescribeKey", json!({"KeyId": mrk}));
    assert_eq!(v["__type"], "NotFoundException");
    assert_eq!(
        v["message"],
        format!("Key '{}' does not exist", arn.replace(&key, mrk))
    );
    let (_, v) = kms(&w, "DescribeKey", json!({"KeyId": "mrk-fake-key-id"}));
    assert_eq!(v["__type"], "NotFoundException");
    assert_eq!(v["message"], "Invalid keyId 'mrk-fake-key-id'");

    // CreateKey: HMAC_256 without KeyUsage is AWS's ValidationException.
    let (_, v) = kms(&w, "CreateKey", json!({"KeySpec": "HMAC_256"}));
    assert_eq!(v["__type"], "ValidationException");
    assert_eq!(
        v["message"],
        "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
    );

    // DeleteAlias with a bad prefix: ValidationException, which DeleteAlias
    // lists (InvalidAliasNameException it does not).
    let (_, v) = kms(&w, "DeleteAlias", json!({"AliasName": "app"}));
    assert_eq!(v["__type"], "ValidationException");

    // DryRun.
    let k2 = new_key(&w);
    let (status, v) = kms(
        &w,
        "Encrypt",
        json!({"KeyId": k2, "Plaintext": "aGk=", "DryRun": true}),
    );
    assert_eq!(status, 412);
    assert_eq!(
        v["message"],
        "The request would have succeeded, but the DryRun option is set."
    );
}
