//! HMAC keys: CreateKey with HMAC_224/256/384/512 and GENERATE_VERIFY_MAC,
//! GenerateMac and VerifyMac (limits, algorithms, `KMSInvalidMacException`),
//! key usage against the other operations, the key-state table, rotation,
//! grants, key policies, the wire, durable storage and secret hygiene.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[cfg(feature = "durable")]
mod durable;

use common::{ACCOUNT, REGION, code, kms, kms_with_seed, new_key, wire};
use kms_keystore::server::Dispatcher;
use kms_keystore::{
    CreateGrantRequest, CreateKeyRequest, DecryptRequest, EnableKeyRotationRequest, EncryptRequest,
    GenerateDataKeyRequest, GenerateMacRequest, GrantOperation, KeySpec, KeyUsage, Kms,
    MAX_MAC_MESSAGE, MacAlgorithmSpec, Principal, PutKeyPolicyRequest, ScheduleKeyDeletionRequest,
    VerifyMacRequest,
};
use serde_json::json;

const SPECS: [(KeySpec, MacAlgorithmSpec, usize); 4] = [
    (KeySpec::Hmac224, MacAlgorithmSpec::HmacSha224, 28),
    (KeySpec::Hmac256, MacAlgorithmSpec::HmacSha256, 32),
    (KeySpec::Hmac384, MacAlgorithmSpec::HmacSha384, 48),
    (KeySpec::Hmac512, MacAlgorithmSpec::HmacSha512, 64),
];

fn hmac_key(kms: &Kms, spec: KeySpec) -> String {
    kms.create_key(CreateKeyRequest {
        key_spec: Some(spec),
        key_usage: Some(KeyUsage::GenerateVerifyMac),
        ..Default::default()
    })
    .unwrap()
    .key_metadata
    .key_id
    .to_string()
}

fn gen_req(key: &str, alg: MacAlgorithmSpec, message: &[u8]) -> GenerateMacRequest {
    GenerateMacRequest {
        key_id: key.into(),
        mac_algorithm: Some(alg),
        message: message.into(),
        ..Default::default()
    }
}

fn mac(kms: &Kms, key: &str, alg: MacAlgorithmSpec, message: &[u8]) -> Vec<u8> {
    kms.generate_mac(gen_req(key, alg, message)).unwrap().mac
}

fn ver_req(key: &str, alg: MacAlgorithmSpec, message: &[u8], mac: &[u8]) -> VerifyMacRequest {
    VerifyMacRequest {
        key_id: key.into(),
        mac_algorithm: Some(alg),
        message: message.into(),
        mac: mac.to_vec(),
        ..Default::default()
    }
}

fn arn(id: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}")
}

#[test]
fn describe_key_shows_each_hmac_spec_with_its_usage_and_mac_algorithm() {
    let (kms, _) = kms();
    for (spec, alg, _) in SPECS {
        let id = hmac_key(&kms, spec);
        let md = kms.describe_key(&id).unwrap().key_metadata;
        assert_eq!(md.key_spec, spec);
        assert_eq!(md.customer_master_key_spec.as_str(), spec.as_str());
        assert_eq!(md.key_usage, KeyUsage::GenerateVerifyMac);
        assert_eq!(md.mac_algorithms, [alg]);
        assert!(md.encryption_algorithms.is_empty());
        let json = serde_json::to_value(&md).unwrap();
        assert_eq!(json["MacAlgorithms"], json!([alg.as_str()]));
        assert!(json.get("EncryptionAlgorithms").is_none(), "{json}");
    }
    // A symmetric key lists no MAC algorithms.
    let sym = new_key(&kms);
    let json = serde_json::to_value(kms.describe_key(&sym).unwrap().key_metadata).unwrap();
    assert!(json.get("MacAlgorithms").is_none(), "{json}");
    assert_eq!(json["EncryptionAlgorithms"], json!(["SYMMETRIC_DEFAULT"]));
}

#[test]
fn create_key_refuses_an_hmac_spec_with_any_other_usage_or_none() {
    let (kms, _) = kms();
    for usage in KeyUsage::values() {
        if *usage == KeyUsage::GenerateVerifyMac {
            continue;
        }
        let err = kms
            .create_key(CreateKeyRequest {
                key_spec: Some(KeySpec::Hmac256),
                key_usage: Some(*usage),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err.code(), "ValidationException", "{usage}");
        assert_eq!(
            err.message(),
            format!("KeyUsage {usage} is not compatible with KeySpec HMAC_256.")
        );
    }
    let err = kms
        .create_key(CreateKeyRequest {
            key_spec: Some(KeySpec::Hmac512),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert_eq!(
        err.message(),
        "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
    );
    // GENERATE_VERIFY_MAC needs an HMAC spec.
    let r = kms.create_key(CreateKeyRequest {
        key_usage: Some(KeyUsage::GenerateVerifyMac),
        ..Default::default()
    });
    assert_eq!(code(r), "ValidationException");
    assert!(kms.list_keys(Default::default()).unwrap().keys.is_empty());
}

#[test]
fn generate_mac_gives_a_mac_of_the_spec_size_that_verify_mac_accepts() {
    let (kms, _) = kms();
    for (spec, alg, len) in SPECS {
        let id = hmac_key(&kms, spec);
        let out = kms.generate_mac(gen_req(&id, alg, b"hello")).unwrap();
        assert_eq!(out.mac.len(), len, "{spec}");
        assert_eq!(out.mac_algorithm, alg);
        assert_eq!(out.key_id, arn(&id));
        // HMAC is deterministic: the same message gives the same MAC.
        assert_eq!(mac(&kms, &id, alg, b"hello"), out.mac);
        assert_ne!(mac(&kms, &id, alg, b"hellp"), out.mac);
        let v = kms
            .verify_mac(ver_req(&id, alg, b"hello", &out.mac))
            .unwrap();
        assert!(v.mac_valid);
        assert_eq!(v.mac_algorithm, alg);
        assert_eq!(v.key_id, arn(&id));
    }
}

#[test]
fn verify_mac_refuses_another_message_mac_or_key_with_kms_invalid_mac() {
    let (kms, _) = kms();
    let alg = MacAlgorithmSpec::HmacSha256;
    let a = hmac_key(&kms, KeySpec::Hmac256);
    let b = hmac_key(&kms, KeySpec::Hmac256);
    let tag = mac(&kms, &a, alg, b"message");
    let mut flipped = tag.clone();
    flipped[31] ^= 0x80;
    for (key, message, m) in [
        (&a, &b"messagf"[..], &tag[..]),
        (&a, b"message", &flipped[..]),
        (&a, b"message", &tag[..31]),
        (&b, b"message", &tag[..]),
    ] {
        let err = kms.verify_mac(ver_req(key, alg, message, m)).unwrap_err();
        assert_eq!(err.code(), "KMSInvalidMacException");
    }
}

#[test]
fn a_mac_algorithm_of_another_size_is_invalid_key_usage() {
    let (kms, _) = kms();
    let id = hmac_key(&kms, KeySpec::Hmac224);
    let err = kms
        .generate_mac(gen_req(&id, MacAlgorithmSpec::HmacSha256, b"m"))
        .unwrap_err();
    assert_eq!(err.code(), "InvalidKeyUsageException");
    assert_eq!(
        err.message(),
        "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224."
    );
    let tag = mac(&kms, &id, MacAlgorithmSpec::HmacSha224, b"m");
    let err = kms
        .verify_mac(ver_req(&id, MacAlgorithmSpec::HmacSha512, b"m", &tag))
        .unwrap_err();
    assert_eq!(err.code(), "InvalidKeyUsageException");
}

#[test]
fn message_mac_and_algorithm_limits_are_validation_errors() {
    let (kms, _) = kms();
    let alg = MacAlgorithmSpec::HmacSha256;
    let id = hmac_key(&kms, KeySpec::Hmac256);
    let big = vec![1u8; MAX_MAC_MESSAGE];
    let tag = mac(&kms, &id, alg, &big);
    assert!(kms.verify_mac(ver_req(&id, alg, &big, &tag)).is_ok());
    let over = vec![1u8; MAX_MAC_MESSAGE + 1];
    let err = kms.generate_mac(gen_req(&id, alg, &over)).unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert_eq!(
        err.message(),
        "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096"
    );
    assert_eq!(
        code(kms.generate_mac(gen_req(&id, alg, b""))),
        "ValidationException"
    );
    assert_eq!(
        code(kms.verify_mac(ver_req(&id, alg, &over, &tag))),
        "ValidationException"
    );
    assert_eq!(
        code(kms.verify_mac(ver_req(&id, alg, b"m", b""))),
        "ValidationException"
    );
    assert_eq!(
        code(kms.verify_mac(ver_req(&id, alg, b"m", &vec![0; 6145]))),
        "ValidationException"
    );
    let err = kms
        .generate_mac(GenerateMacRequest {
            mac_algorithm: None,
            ..gen_req(&id, alg, b"m")
        })
        .unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert!(err.message().contains("macAlgorithm"), "{err}");
}

#[test]
fn each_key_refuses_the_operations_of_the_other_usage() {
    let (kms, _) = kms();
    let hmac = hmac_key(&kms, KeySpec::Hmac224);
    let sym = new_key(&kms);
    let err = kms
        .generate_mac(gen_req(&sym, MacAlgorithmSpec::HmacSha224, b"m"))
        .unwrap_err();
    assert_eq!(err.code(), "InvalidKeyUsageException");
    assert_eq!(
        err.message(),
        format!(
            "{} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.",
            arn(&sym)
        )
    );
    assert_eq!(
        code(kms.verify_mac(ver_req(&sym, MacAlgorithmSpec::HmacSha224, b"m", &[0; 28]))),
        "InvalidKeyUsageException"
    );
    let err = kms
        .encrypt(EncryptRequest {
            key_id: hmac.clone(),
            plaintext: b"p".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "InvalidKeyUsageException");
    assert_eq!(
        err.message(),
        format!(
            "{} key usage is GENERATE_VERIFY_MAC which is not valid for Encrypt.",
            arn(&hmac)
        )
    );
    assert_eq!(
        code(kms.generate_data_key(GenerateDataKeyRequest {
            key_id: hmac.clone(),
            number_of_bytes: Some(32),
            ..Default::default()
        })),
        "InvalidKeyUsageException"
    );
    // Decrypt naming the HMAC key: its usage, before the blob's key.
    let blob = common::encrypt(&kms, &sym, b"p", &Default::default());
    let err = kms
        .decrypt(DecryptRequest {
            ciphertext_blob: blob,
            key_id: Some(hmac.clone()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "InvalidKeyUsageException");
    assert!(err.message().contains("not valid for Decrypt"), "{err}");
}

#[test]
fn mac_operations_follow_the_key_state_table() {
    let (kms, _) = kms();
    let alg = MacAlgorithmSpec::HmacSha256;
    let id = hmac_key(&kms, KeySpec::Hmac256);
    let tag = mac(&kms, &id, alg, b"m");
    kms.disable_key(&id).unwrap();
    let err = kms.generate_mac(gen_req(&id, alg, b"m")).unwrap_err();
    assert_eq!(err.code(), "DisabledException");
    assert_eq!(err.message(), format!("{} is disabled.", arn(&id)));
    assert_eq!(
        code(kms.verify_mac(ver_req(&id, alg, b"m", &tag))),
        "DisabledException"
    );
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: id.clone(),
        pending_window_in_days: Some(7),
    })
    .unwrap();
    assert_eq!(
        code(kms.generate_mac(gen_req(&id, alg, b"m"))),
        "KMSInvalidStateException"
    );
    assert_eq!(
        code(kms.verify_mac(ver_req(&id, alg, b"m", &tag))),
        "KMSInvalidStateException"
    );
    assert_eq!(
        code(kms.generate_mac(gen_req("11111111-2222-3333-4444-555555555555", alg, b"m"))),
        "NotFoundException"
    );
}

#[test]
fn dry_run_checks_everything_then_answers_dry_run_operation() {
    let (kms, _) = kms();
    let alg = MacAlgorithmSpec::HmacSha384;
    let id = hmac_key(&kms, KeySpec::Hmac384);
    let tag = mac(&kms, &id, alg, b"m");
    let r = kms.generate_mac(GenerateMacRequest {
        dry_run: Some(true),
        ..gen_req(&id, alg, b"m")
    });
    assert_eq!(code(r), "DryRunOperationException");
    let r = kms.verify_mac(VerifyMacRequest {
        dry_run: Some(true),
        ..ver_req(&id, alg, b"m", &tag)
    });
    assert_eq!(code(r), "DryRunOperationException");
    // A check that fails comes first.
    let r = kms.generate_mac(GenerateMacRequest {
        dry_run: Some(true),
        ..gen_req(&id, MacAlgorithmSpec::HmacSha256, b"m")
    });
    assert_eq!(code(r), "InvalidKeyUsageException");
}

#[test]
fn hmac_keys_do_not_rotate_and_their_status_reads_false() {
    let (kms, _) = kms();
    let id = hmac_key(&kms, KeySpec::Hmac256);
    let err = kms
        .enable_key_rotation(EnableKeyRotationRequest {
            key_id: id.clone(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
    assert!(err.message().contains("HMAC_256"), "{err}");
    assert_eq!(
        code(kms.disable_key_rotation(&id)),
        "UnsupportedOperationException"
    );
    assert_eq!(
        code(kms.rotate_key_on_demand(&id)),
        "UnsupportedOperationException"
    );
    let status = kms.get_key_rotation_status(&id).unwrap();
    assert!(!status.key_rotation_enabled);
    let md = kms.describe_key(&id).unwrap().key_metadata;
    assert!(md.current_key_material_id.is_none());
}

#[test]
fn grants_on_hmac_keys_allow_only_the_hmac_operations_and_they_work() {
    let (kms, _) = kms();
    let alg = MacAlgorithmSpec::HmacSha256;
    let id = hmac_key(&kms, KeySpec::Hmac256);
    let sym = new_key(&kms);
    let bob = "arn:aws:iam::111122223333:user/bob";
    let req = |key: &str, ops: &[GrantOperation]| CreateGrantRequest {
        key_id: key.into(),
        grantee_principal: bob.into(),
        operations: ops.to_vec(),
        ..Default::default()
    };
    let err = kms
        .create_grant(req(
            &id,
            &[GrantOperation::GenerateMac, GrantOperation::Encrypt],
        ))
        .unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert!(err.message().contains("[Encrypt]"), "{err}");
    assert_eq!(
        code(kms.create_grant(req(&sym, &[GrantOperation::VerifyMac]))),
        "ValidationException"
    );
    let as_bob = kms.as_caller(&bob.parse::<Principal>().unwrap());
    assert_eq!(
        code(as_bob.generate_mac(gen_req(&id, alg, b"m"))),
        "AccessDeniedException"
    );
    kms.create_grant(req(
        &id,
        &[
            GrantOperation::GenerateMac,
            GrantOperation::VerifyMac,
            GrantOperation::DescribeKey,
        ],
    ))
    .unwrap();
    let tag = mac(&as_bob, &id, alg, b"m");
    assert!(as_bob.verify_mac(ver_req(&id, alg, b"m", &tag)).is_ok());
}

#[test]
fn a_key_policy_decides_generate_mac_and_verify_mac_separately() {
    let (kms, _) = kms();
    let alg = MacAlgorithmSpec::HmacSha256;
    let id = hmac_key(&kms, KeySpec::Hmac256);
    let tag = mac(&kms, &id, alg, b"m");
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "admin", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "nomac", "Effect": "Deny",
             "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
             "Action": "kms:GenerateMac", "Resource": "*"}
        ]
    });
    kms.put_key_policy(PutKeyPolicyRequest::new(&id, policy.to_string()))
        .unwrap();
    assert_eq!(
        code(kms.generate_mac(gen_req(&id, alg, b"m"))),
        "AccessDeniedException"
    );
    assert!(kms.verify_mac(ver_req(&id, alg, b"m", &tag)).is_ok());
}

#[test]
fn a_seeded_kms_makes_the_same_hmac_keys() {
    let alg = MacAlgorithmSpec::HmacSha512;
    let run = |seed| {
        let (kms, _) = kms_with_seed(seed);
        let id = hmac_key(&kms, KeySpec::Hmac512);
        mac(&kms, &id, alg, b"m")
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn requests_and_responses_never_print_the_message() {
    let (kms, _) = kms();
    let id = hmac_key(&kms, KeySpec::Hmac256);
    let req = gen_req(&id, MacAlgorithmSpec::HmacSha256, b"top-secret-message");
    assert!(!format!("{req:?}").contains("top-secret"));
    let v = ver_req(
        &id,
        MacAlgorithmSpec::HmacSha256,
        b"top-secret-message",
        b"x",
    );
    assert!(!format!("{v:?}").contains("top-secret"));
}

#[test]
fn the_wire_creates_hmac_keys_and_runs_generate_mac_and_verify_mac() {
    let (kms, _) = kms();
    let w = Dispatcher::new(kms);
    let (status, v) = wire(
        &w,
        "CreateKey",
        json!({"KeySpec": "HMAC_384", "KeyUsage": "GENERATE_VERIFY_MAC"}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["KeyMetadata"]["MacAlgorithms"], json!(["HMAC_SHA_384"]));
    let key = v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let (status, v) = wire(
        &w,
        "GenerateMac",
        json!({"KeyId": key, "Message": "aGVsbG8=", "MacAlgorithm": "HMAC_SHA_384"}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["MacAlgorithm"], "HMAC_SHA_384");
    let m = v["Mac"].as_str().unwrap().to_owned();
    let (status, v) = wire(
        &w,
        "VerifyMac",
        json!({"KeyId": key, "Message": "aGVsbG8=", "MacAlgorithm": "HMAC_SHA_384", "Mac": m}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["MacValid"], true);
    let (status, v) = wire(
        &w,
        "VerifyMac",
        json!({"KeyId": key, "Message": "aGVsbG9v", "MacAlgorithm": "HMAC_SHA_384", "Mac": m}),
    );
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "KMSInvalidMacException");
    let (status, v) = wire(
        &w,
        "GenerateMac",
        json!({"KeyId": key, "Message": "aGVsbG8="}),
    );
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "ValidationException");
}

#[cfg(feature = "durable")]
#[test]
fn an_hmac_key_survives_a_restart_and_makes_the_same_macs() {
    use kms_keystore::ManualClock;
    let dir = durable::temp_dir("hmac");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let alg = MacAlgorithmSpec::HmacSha224;
    let (id, tag) = {
        let kms = durable::open(&path, &clock);
        let id = hmac_key(&kms, KeySpec::Hmac224);
        let tag = mac(&kms, &id, alg, b"m");
        (id, tag)
    };
    let kms = durable::open(&path, &clock);
    assert_eq!(mac(&kms, &id, alg, b"m"), tag);
    let md = kms.describe_key(&id).unwrap().key_metadata;
    assert_eq!(md.key_spec, KeySpec::Hmac224);
    assert_eq!(md.key_usage, KeyUsage::GenerateVerifyMac);
}

#[test]
fn an_hmac_key_lists_no_rotations() {
    let (kms, _) = kms();
    let key = hmac_key(&kms, KeySpec::Hmac256);
    for include in [None, Some(kms_keystore::IncludeKeyMaterial::AllKeyMaterial)] {
        let r = kms
            .list_key_rotations(kms_keystore::ListKeyRotationsRequest {
                key_id: key.clone(),
                include_key_material: include,
                ..Default::default()
            })
            .unwrap();
        assert!(r.rotations.is_empty());
        assert!(!r.truncated);
    }
}
