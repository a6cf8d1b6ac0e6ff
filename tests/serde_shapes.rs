//! JSON shapes match the AWS API (and the aws CLI output in the seeds).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{kms, new_key};
use kms_keystore::{
    Clock, CreateKeyRequest, DecryptRequest, EncryptRequest, KeyMetadata, ListKeysRequest,
    ScheduleKeyDeletionRequest, Timestamp,
};
use serde_json::{Value, json};

/// The aws CLI `create-key` output of seed 000, for a standard key (Origin
/// AWS_KMS, so without the custom key store fields), commas fixed.
const CLI_CREATE_KEY: &str = r#"{
  "KeyMetadata": {
    "AWSAccountId": "111122223333",
    "Arn": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "CreationDate": 1.499288695918E9,
    "Description": "Example key",
    "Enabled": true,
    "MultiRegion": false,
    "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
    "KeyManager": "CUSTOMER",
    "KeyState": "Enabled",
    "KeyUsage": "ENCRYPT_DECRYPT",
    "Origin": "AWS_KMS",
    "KeySpec": "SYMMETRIC_DEFAULT",
    "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
    "EncryptionAlgorithms": [
        "SYMMETRIC_DEFAULT"
    ]
  }
}"#;

fn create_example_key() -> (kms_keystore::Kms, kms_keystore::ManualClock, Value) {
    let (kms, clock) = kms();
    clock.set(Timestamp::from_millis(1_499_288_695_918));
    let resp = kms
        .create_key(CreateKeyRequest::with_description("Example key"))
        .unwrap();
    let v = serde_json::to_value(&resp).unwrap();
    (kms, clock, v)
}

#[test]
fn create_key_output_matches_the_aws_cli_shape_for_a_standard_key() {
    let (_, _, mut got) = create_example_key();
    let key_id = got["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let mut want: Value = serde_json::from_str(CLI_CREATE_KEY).unwrap();
    let md = want["KeyMetadata"].as_object_mut().unwrap();
    md.insert("KeyId".into(), json!(key_id));
    md.insert(
        "Arn".into(),
        json!(format!("arn:aws:kms:us-west-2:111122223333:key/{key_id}")),
    );
    // The current API adds the key material's id to that example's shape:
    // 64 lowercase hex digits.
    let material = got["KeyMetadata"]["CurrentKeyMaterialId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(material.len(), 64);
    assert!(
        material
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    );
    md.insert("CurrentKeyMaterialId".into(), json!(material));
    // Compare with numbers as f64, since the CLI writes 1.499288695918E9.
    let created = got["KeyMetadata"]["CreationDate"].as_f64().unwrap();
    assert!((created - 1_499_288_695.918).abs() < 1e-6, "{created}");
    got["KeyMetadata"]["CreationDate"] = want["KeyMetadata"]["CreationDate"].clone();
    assert_eq!(got, want);
}

#[test]
fn key_metadata_has_exactly_the_standard_key_fields() {
    let (_, _, got) = create_example_key();
    let md = got["KeyMetadata"].as_object().unwrap();
    let mut names: Vec<&str> = md.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        vec![
            "AWSAccountId",
            "Arn",
            "CreationDate",
            "CurrentKeyMaterialId",
            "CustomerMasterKeySpec",
            "Description",
            "Enabled",
            "EncryptionAlgorithms",
            "KeyId",
            "KeyManager",
            "KeySpec",
            "KeyState",
            "KeyUsage",
            "MultiRegion",
            "Origin",
        ]
    );
    assert_eq!(md["KeyManager"], "CUSTOMER");
    assert_eq!(md["Origin"], "AWS_KMS");
    assert_eq!(md["MultiRegion"], false);
    assert_eq!(md["Enabled"], true);
    assert_eq!(md["EncryptionAlgorithms"], json!(["SYMMETRIC_DEFAULT"]));
}

#[test]
fn creation_date_is_a_number_of_epoch_seconds() {
    let (kms, clock) = kms();
    let whole = clock.now();
    assert_eq!(whole.as_millis() % 1000, 0);
    let md = kms
        .create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata;
    let v = serde_json::to_value(&md).unwrap();
    assert!(v["CreationDate"].is_number(), "{v}");
    assert_eq!(v["CreationDate"], json!(whole.as_millis() / 1000));
    let (_, _, v) = create_example_key();
    assert_eq!(v["KeyMetadata"]["CreationDate"], json!(1_499_288_695.918));
}

#[test]
fn deletion_date_and_window_appear_only_while_pending_deletion() {
    let (kms, clock) = kms();
    let id = new_key(&kms);
    let before = serde_json::to_value(kms.describe_key(&id).unwrap()).unwrap();
    assert!(
        before["KeyMetadata"].get("DeletionDate").is_none(),
        "{before}"
    );
    assert!(
        before["KeyMetadata"]
            .get("PendingDeletionWindowInDays")
            .is_none()
    );

    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: id.clone(),
        pending_window_in_days: Some(7),
    })
    .unwrap();
    let pending = serde_json::to_value(kms.describe_key(&id).unwrap()).unwrap();
    let md = &pending["KeyMetadata"];
    let due = clock.now().saturating_add(Duration::from_secs(7 * 86_400));
    assert_eq!(md["DeletionDate"], json!(due.as_millis() / 1000));
    assert_eq!(md["PendingDeletionWindowInDays"], 7);
    assert_eq!(md["KeyState"], "PendingDeletion");
    assert_eq!(md["Enabled"], false);

    kms.cancel_key_deletion(&id).unwrap();
    let after = serde_json::to_value(kms.describe_key(&id).unwrap()).unwrap();
    assert!(
        after["KeyMetadata"].get("DeletionDate").is_none(),
        "{after}"
    );
    assert!(
        after["KeyMetadata"]
            .get("PendingDeletionWindowInDays")
            .is_none()
    );
    assert_eq!(after["KeyMetadata"]["KeyState"], "Disabled");
}

#[test]
fn key_metadata_round_trips_through_json() {
    let (kms, _) = kms();
    let md = kms
        .create_key(CreateKeyRequest::with_description("rt"))
        .unwrap()
        .key_metadata;
    let back: KeyMetadata = serde_json::from_str(&serde_json::to_string(&md).unwrap()).unwrap();
    assert_eq!(back, md);
}

#[test]
fn the_cli_key_metadata_deserializes() {
    let v: Value = serde_json::from_str(CLI_CREATE_KEY).unwrap();
    let md: KeyMetadata = serde_json::from_value(v["KeyMetadata"].clone()).unwrap();
    assert_eq!(
        md.key_id.to_string(),
        "1234abcd-12ab-34cd-56ef-1234567890ab"
    );
    assert_eq!(md.creation_date, Timestamp::from_millis(1_499_288_695_918));
    assert_eq!(md.description, "Example key");
}

#[test]
fn schedule_key_deletion_output_shape() {
    let (kms, clock) = kms();
    let id = new_key(&kms);
    let resp = kms
        .schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: id.clone(),
            pending_window_in_days: None,
        })
        .unwrap();
    let v = serde_json::to_value(&resp).unwrap();
    let due = clock.now().saturating_add(Duration::from_secs(30 * 86_400));
    assert_eq!(
        v,
        json!({
            "KeyId": format!("arn:aws:kms:us-west-2:111122223333:key/{id}"),
            "DeletionDate": due.as_millis() / 1000,
            "KeyState": "PendingDeletion",
            "PendingWindowInDays": 30,
        })
    );
}

#[test]
fn list_keys_output_shape() {
    let (kms, _) = kms();
    let a = new_key(&kms);
    new_key(&kms);
    let page = kms
        .list_keys(ListKeysRequest {
            limit: Some(1),
            marker: None,
        })
        .unwrap();
    let v = serde_json::to_value(&page).unwrap();
    assert_eq!(
        v["Keys"],
        json!([{ "KeyId": a, "KeyArn": format!("arn:aws:kms:us-west-2:111122223333:key/{a}") }])
    );
    assert_eq!(v["Truncated"], true);
    assert!(v["NextMarker"].is_string());
    let last = kms
        .list_keys(ListKeysRequest {
            limit: Some(1),
            marker: page.next_marker,
        })
        .unwrap();
    let v = serde_json::to_value(&last).unwrap();
    assert_eq!(v["Truncated"], false);
    assert!(v.get("NextMarker").is_none(), "{v}");
}

#[test]
fn encrypt_output_carries_the_blob_as_base64() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let resp = kms
        .encrypt(EncryptRequest {
            key_id: id.clone(),
            plaintext: "x".into(),
            ..Default::default()
        })
        .unwrap();
    let v = serde_json::to_value(&resp).unwrap();
    assert_eq!(v["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
    assert_eq!(
        v["KeyId"],
        format!("arn:aws:kms:us-west-2:111122223333:key/{id}")
    );
    use base64::Engine as _;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(v["CiphertextBlob"].as_str().unwrap())
        .unwrap();
    assert_eq!(blob, resp.ciphertext_blob);
}

#[test]
fn requests_read_the_api_field_names() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let req: EncryptRequest = serde_json::from_value(json!({
        "KeyId": id,
        "Plaintext": "aGVsbG8=",
        "EncryptionContext": { "b": "2", "a": "1" },
    }))
    .unwrap();
    assert_eq!(req.plaintext.expose_secret(), b"hello");
    let blob = kms.encrypt(req).unwrap().ciphertext_blob;
    use base64::Engine as _;
    let dreq: DecryptRequest = serde_json::from_value(json!({
        "CiphertextBlob": base64::engine::general_purpose::STANDARD.encode(&blob),
        "EncryptionContext": { "a": "1", "b": "2" },
    }))
    .unwrap();
    assert_eq!(
        kms.decrypt(dreq).unwrap().plaintext.expose_secret(),
        b"hello"
    );
    let creq: CreateKeyRequest = serde_json::from_value(json!({
        "Description": "d",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "Tags": [{ "TagKey": "k", "TagValue": "v" }],
    }))
    .unwrap();
    assert_eq!(creq.description.as_deref(), Some("d"));
    assert_eq!(creq.tags.len(), 1);
}
