//! UpdateKeyDescription, and the description in DescribeKey.
//!
//! The origin-independent scenarios run through `origins()`: today AWS_KMS
//! keys only; CloudHSM and external key store keys join it once CreateKey
//! makes them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use kms_keystore::kms::{
    CreateAliasRequest, CreateKeyRequest, ScheduleKeyDeletionRequest, UpdateKeyDescriptionRequest,
};
use kms_keystore::{Kms, KmsConfig, ManualClock, OriginType, Result};

fn service() -> Kms {
    Kms::new(
        KmsConfig::default()
            .with_clock(ManualClock::default())
            .with_seed(13),
    )
}

/// The origins whose keys the tests can create through the public API.
fn origins() -> Vec<OriginType> {
    vec![OriginType::AwsKms]
}

fn new_key(kms: &Kms, origin: OriginType) -> String {
    assert_eq!(origin, OriginType::AwsKms, "extend new_key for {origin}");
    kms.create_key(CreateKeyRequest::with_description("first"))
        .unwrap()
        .key_metadata
        .key_id
        .to_string()
}

fn code<T: std::fmt::Debug>(r: Result<T>) -> &'static str {
    r.unwrap_err().code()
}

fn describe(kms: &Kms, key: &str) -> String {
    kms.describe_key(key).unwrap().key_metadata.description
}

fn update(kms: &Kms, key: &str, d: &str) -> Result<()> {
    kms.update_key_description(UpdateKeyDescriptionRequest::new(key, d))
}

#[test]
fn update_key_description_shows_in_describe_key() {
    let kms = service();
    for origin in origins() {
        let k = new_key(&kms, origin);
        assert_eq!(describe(&kms, &k), "first");
        update(&kms, &k, "second").unwrap();
        assert_eq!(describe(&kms, &k), "second");
        // By key ARN; and through an alias DescribeKey shows it too.
        let arn = kms.describe_key(&k).unwrap().key_metadata.arn;
        update(&kms, &arn, "third").unwrap();
        kms.create_alias(CreateAliasRequest::new(format!("alias/d-{origin}"), &k))
            .unwrap();
        assert_eq!(describe(&kms, &format!("alias/d-{origin}")), "third");
        let json = serde_json::to_value(kms.describe_key(&k).unwrap()).unwrap();
        assert_eq!(json["KeyMetadata"]["Description"], "third");
    }
}

#[test]
fn descriptions_are_0_to_8192_characters() {
    let kms = service();
    let k = new_key(&kms, OriginType::AwsKms);
    update(&kms, &k, "").unwrap();
    assert_eq!(describe(&kms, &k), "");
    let longest = "é".repeat(8192);
    update(&kms, &k, &longest).unwrap();
    assert_eq!(describe(&kms, &k), longest);
    assert_eq!(
        code(update(&kms, &k, &"d".repeat(8193))),
        "ValidationException"
    );
    assert_eq!(
        describe(&kms, &k),
        longest,
        "a failed update changes nothing"
    );
}

#[test]
fn a_key_pending_deletion_keeps_its_description() {
    let kms = service();
    for origin in origins() {
        let k = new_key(&kms, origin);
        kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: k.clone(),
            pending_window_in_days: None,
        })
        .unwrap();
        assert_eq!(code(update(&kms, &k, "new")), "KMSInvalidStateException");
        assert_eq!(describe(&kms, &k), "first");
        kms.cancel_key_deletion(&k).unwrap();
        update(&kms, &k, "new").unwrap();
    }
}

#[test]
fn a_disabled_key_can_be_described_anew() {
    let kms = service();
    let k = new_key(&kms, OriginType::AwsKms);
    kms.disable_key(&k).unwrap();
    update(&kms, &k, "disabled key").unwrap();
    assert_eq!(describe(&kms, &k), "disabled key");
}

#[test]
fn update_key_description_takes_only_a_key_id_or_arn() {
    let kms = service();
    let k = new_key(&kms, OriginType::AwsKms);
    kms.create_alias(CreateAliasRequest::new("alias/app", &k))
        .unwrap();
    assert_eq!(code(update(&kms, "alias/app", "x")), "NotFoundException");
    assert_eq!(
        code(update(&kms, "1234abcd-12ab-34cd-56ef-1234567890ab", "x")),
        "NotFoundException"
    );
    assert_eq!(describe(&kms, &k), "first");
}
