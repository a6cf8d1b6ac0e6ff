//! UpdateKeyDescription, and the description in DescribeKey.
//!
//! Every scenario that involves a key runs once per origin (AWS_KMS,
//! AWS_CLOUDHSM, EXTERNAL_KEY_STORE) through the shared harness: modules
//! `aws_kms`, `cloudhsm` and `external_key_store`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod harness;

use kms_keystore::{
    CreateAliasRequest, CreateKeyRequest, Kms, Result, ScheduleKeyDeletionRequest,
    UpdateKeyDescriptionRequest,
};

use harness::{Harness, MISSING_KEY, code};

/// A key of the harness's origin described "first".
fn new_key(h: &Harness) -> String {
    h.create_key(CreateKeyRequest::with_description("first"))
        .unwrap()
}

fn describe(kms: &Kms, key: &str) -> String {
    kms.describe_key(key).unwrap().key_metadata.description
}

fn update(kms: &Kms, key: &str, d: &str) -> Result<()> {
    kms.update_key_description(UpdateKeyDescriptionRequest::new(key, d))
}

fn update_key_description_shows_in_describe_key(h: &Harness) {
    let kms = &h.kms;
    let origin = h.origin;
    let k = new_key(h);
    assert_eq!(describe(kms, &k), "first");
    update(kms, &k, "second").unwrap();
    assert_eq!(describe(kms, &k), "second");
    // By key ARN; and through an alias DescribeKey shows it too.
    let arn = kms.describe_key(&k).unwrap().key_metadata.arn;
    update(kms, &arn, "third").unwrap();
    kms.create_alias(CreateAliasRequest::new(format!("alias/d-{origin}"), &k))
        .unwrap();
    assert_eq!(describe(kms, &format!("alias/d-{origin}")), "third");
    let json = serde_json::to_value(kms.describe_key(&k).unwrap()).unwrap();
    assert_eq!(json["KeyMetadata"]["Description"], "third");
}

fn descriptions_are_0_to_8192_characters(h: &Harness) {
    let kms = &h.kms;
    let k = new_key(h);
    update(kms, &k, "").unwrap();
    assert_eq!(describe(kms, &k), "");
    let longest = "é".repeat(8192);
    update(kms, &k, &longest).unwrap();
    assert_eq!(describe(kms, &k), longest);
    assert_eq!(
        code(update(kms, &k, &"d".repeat(8193))),
        "ValidationException"
    );
    assert_eq!(
        describe(kms, &k),
        longest,
        "a failed update changes nothing"
    );
}

fn a_key_pending_deletion_keeps_its_description(h: &Harness) {
    let kms = &h.kms;
    let k = new_key(h);
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: k.clone(),
        pending_window_in_days: None,
    })
    .unwrap();
    assert_eq!(code(update(kms, &k, "new")), "KMSInvalidStateException");
    assert_eq!(describe(kms, &k), "first");
    kms.cancel_key_deletion(&k).unwrap();
    update(kms, &k, "new").unwrap();
}

fn a_disabled_key_can_be_described_anew(h: &Harness) {
    let kms = &h.kms;
    let k = new_key(h);
    kms.disable_key(&k).unwrap();
    update(kms, &k, "disabled key").unwrap();
    assert_eq!(describe(kms, &k), "disabled key");
}

fn update_key_description_takes_only_a_key_id_or_arn(h: &Harness) {
    let kms = &h.kms;
    let k = new_key(h);
    kms.create_alias(CreateAliasRequest::new("alias/app", &k))
        .unwrap();
    assert_eq!(code(update(kms, "alias/app", "x")), "NotFoundException");
    assert_eq!(code(update(kms, MISSING_KEY, "x")), "NotFoundException");
    assert_eq!(describe(kms, &k), "first");
}

harness::management_tests!(
    update_key_description_shows_in_describe_key,
    descriptions_are_0_to_8192_characters,
    a_key_pending_deletion_keeps_its_description,
    a_disabled_key_can_be_described_anew,
    update_key_description_takes_only_a_key_id_or_arn,
);
