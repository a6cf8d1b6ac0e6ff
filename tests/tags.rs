//! Tags: TagResource, UntagResource, ListResourceTags, and Tags on CreateKey.
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
    CreateKeyRequest, Kms, ListResourceTagsRequest, OriginType, Result, ScheduleKeyDeletionRequest,
    Tag, TagResourceRequest, UntagResourceRequest,
};

use harness::{Harness, MISSING_KEY, code};

fn tag(kms: &Kms, key: &str, tags: Vec<Tag>) -> Result<()> {
    kms.tag_resource(TagResourceRequest {
        key_id: key.into(),
        tags,
    })
}

fn untag(kms: &Kms, key: &str, keys: &[&str]) -> Result<()> {
    kms.untag_resource(UntagResourceRequest {
        key_id: key.into(),
        tag_keys: keys.iter().map(|k| k.to_string()).collect(),
    })
}

fn tags_of(kms: &Kms, key: &str) -> Vec<Tag> {
    kms.list_resource_tags(ListResourceTagsRequest {
        key_id: key.into(),
        ..Default::default()
    })
    .unwrap()
    .tags
}

fn many(n: usize, prefix: &str) -> Vec<Tag> {
    (0..n)
        .map(|i| Tag::new(format!("{prefix}{i}"), "v"))
        .collect()
}

fn tag_resource_adds_tags_that_list_resource_tags_shows(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    tag(kms, &k, vec![Tag::new("team", "pay"), Tag::new("env", "")]).unwrap();
    assert_eq!(
        tags_of(kms, &k),
        vec![Tag::new("team", "pay"), Tag::new("env", "")]
    );
    // By key ARN too.
    let arn = kms.describe_key(&k).unwrap().key_metadata.arn;
    tag(kms, &arn, vec![Tag::new("by", "arn")]).unwrap();
    assert_eq!(tags_of(kms, &arn).len(), 3);
}

fn tagging_an_existing_tag_key_replaces_its_value(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    tag(
        kms,
        &k,
        vec![Tag::new("team", "pay"), Tag::new("env", "prod")],
    )
    .unwrap();
    tag(kms, &k, vec![Tag::new("team", "risk")]).unwrap();
    assert_eq!(
        tags_of(kms, &k),
        vec![Tag::new("team", "risk"), Tag::new("env", "prod")]
    );
}

fn tag_keys_and_values_are_case_sensitive(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    tag(kms, &k, vec![Tag::new("Team", "A"), Tag::new("team", "a")]).unwrap();
    assert_eq!(tags_of(kms, &k).len(), 2);
}

fn tags_on_create_key_are_listed(h: &Harness) {
    let kms = &h.kms;
    let k = h
        .create_key(CreateKeyRequest {
            tags: vec![Tag::new("a", "1"), Tag::new("b", "2")],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        tags_of(kms, &k),
        vec![Tag::new("a", "1"), Tag::new("b", "2")]
    );
}

fn tag_keys_are_1_to_128_and_values_0_to_256_characters(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    tag(
        kms,
        &k,
        vec![
            Tag::new("k".repeat(128), "v".repeat(256)),
            Tag::new("e", ""),
        ],
    )
    .unwrap();
    for bad in [
        Tag::new("", "v"),
        Tag::new("k".repeat(129), "v"),
        Tag::new("k", "v".repeat(257)),
    ] {
        assert_eq!(
            code(tag(kms, &k, vec![bad.clone()])),
            "ValidationException",
            "{bad:?}"
        );
        assert_eq!(
            code(h.create_key(CreateKeyRequest {
                tags: vec![bad.clone()],
                ..Default::default()
            })),
            "ValidationException"
        );
    }
    // Characters, not bytes.
    tag(kms, &k, vec![Tag::new("é".repeat(128), "ü".repeat(256))]).unwrap();
}

fn the_aws_prefix_is_reserved(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    assert_eq!(
        code(tag(kms, &k, vec![Tag::new("aws:createdBy", "me")])),
        "TagException"
    );
    assert_eq!(
        code(h.create_key(CreateKeyRequest {
            tags: vec![Tag::new("aws:x", "y")],
            ..Default::default()
        })),
        "TagException"
    );
    assert_eq!(code(untag(kms, &k, &["aws:x"])), "TagException");
    // The prefix in any case: `AWS:x` is reserved too; `awsome` is a user tag.
    let err = tag(kms, &k, vec![Tag::new("AWS:x", "1")]).unwrap_err();
    assert_eq!(err.code(), "TagException");
    assert_eq!(err.message(), "Tags beginning with aws: are reserved");
    assert_eq!(code(untag(kms, &k, &["Aws:x"])), "TagException");
    tag(kms, &k, vec![Tag::new("awsome", "2")]).unwrap();
}

fn a_tag_key_twice_in_one_call_is_rejected(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    assert_eq!(
        code(tag(kms, &k, vec![Tag::new("a", "1"), Tag::new("a", "2")])),
        "TagException"
    );
    assert_eq!(
        code(h.create_key(CreateKeyRequest {
            tags: vec![Tag::new("a", "1"), Tag::new("a", "1")],
            ..Default::default()
        })),
        "TagException"
    );
    assert!(tags_of(kms, &k).is_empty());
}

fn a_call_with_one_bad_tag_adds_none_of_them(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    tag(kms, &k, vec![Tag::new("keep", "old")]).unwrap();
    assert_eq!(
        code(tag(
            kms,
            &k,
            vec![
                Tag::new("keep", "new"),
                Tag::new("good", "1"),
                Tag::new("aws:bad", "2"),
            ]
        )),
        "TagException"
    );
    assert_eq!(tags_of(kms, &k), vec![Tag::new("keep", "old")]);
}

fn a_key_has_at_most_50_tags(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    // More than 50 in one request: TagException (as on CreateKey).
    assert_eq!(code(tag(kms, &k, many(51, "t"))), "TagException");
    assert_eq!(
        code(h.create_key(CreateKeyRequest {
            tags: many(51, "t"),
            ..Default::default()
        })),
        "TagException"
    );
    tag(kms, &k, many(50, "t")).unwrap();
    // Replacing values of existing keys does not add tags.
    tag(kms, &k, vec![Tag::new("t0", "new")]).unwrap();
    // One more tag key would make 51: LimitExceededException, nothing changes.
    assert_eq!(
        code(tag(
            kms,
            &k,
            vec![Tag::new("t1", "changed"), Tag::new("x", "1")]
        )),
        "LimitExceededException"
    );
    let tags = tags_of(kms, &k);
    assert_eq!(tags.len(), 50);
    assert!(tags.contains(&Tag::new("t1", "v")));
    // Room is made by untagging.
    untag(kms, &k, &["t49"]).unwrap();
    tag(kms, &k, vec![Tag::new("x", "1")]).unwrap();
}

fn untag_resource_removes_tags_and_ignores_unknown_keys(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    tag(
        kms,
        &k,
        vec![Tag::new("a", "1"), Tag::new("b", "2"), Tag::new("c", "3")],
    )
    .unwrap();
    untag(kms, &k, &["b", "not-there"]).unwrap();
    assert_eq!(
        tags_of(kms, &k),
        vec![Tag::new("a", "1"), Tag::new("c", "3")]
    );
    untag(kms, &k, &[]).unwrap();
    assert_eq!(tags_of(kms, &k).len(), 2);
    let err = untag(kms, &k, &["a", ""]).unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert_eq!(
        err.message(),
        "1 validation error detected: Value '' at 'tagKeys.2.member' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    assert_eq!(tags_of(kms, &k).len(), 2);
}

fn list_resource_tags_pages_with_limit_and_marker(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    let all = many(12, "p");
    tag(kms, &k, all.clone()).unwrap();
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_resource_tags(ListResourceTagsRequest {
                key_id: k.clone(),
                limit: Some(5),
                marker: marker.clone(),
            })
            .unwrap();
        assert!(page.tags.len() <= 5);
        assert_eq!(page.truncated, page.next_marker.is_some());
        seen.extend(page.tags);
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    assert_eq!(seen, all);
    let json = serde_json::to_value(
        kms.list_resource_tags(ListResourceTagsRequest {
            key_id: k.clone(),
            limit: Some(1),
            marker: None,
        })
        .unwrap(),
    )
    .unwrap();
    assert_eq!(json["Tags"][0]["TagKey"], "p0");
    assert_eq!(json["Truncated"], true);
    assert!(json["NextMarker"].is_string());
}

fn list_resource_tags_limit_is_1_to_50_and_markers_must_be_ours(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    for limit in [0, 51] {
        assert_eq!(
            code(kms.list_resource_tags(ListResourceTagsRequest {
                key_id: k.clone(),
                limit: Some(limit),
                marker: None,
            })),
            "ValidationException"
        );
    }
    assert_eq!(
        code(kms.list_resource_tags(ListResourceTagsRequest {
            key_id: k.clone(),
            limit: None,
            marker: Some("not-a-marker!".into()),
        })),
        "InvalidMarkerException"
    );
}

fn a_key_pending_deletion_cannot_be_tagged_but_its_tags_can_be_listed(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    tag(kms, &k, vec![Tag::new("a", "1")]).unwrap();
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: k.clone(),
        pending_window_in_days: None,
    })
    .unwrap();
    assert_eq!(
        code(tag(kms, &k, vec![Tag::new("b", "2")])),
        "KMSInvalidStateException"
    );
    assert_eq!(code(untag(kms, &k, &["a"])), "KMSInvalidStateException");
    assert_eq!(tags_of(kms, &k), vec![Tag::new("a", "1")]);
    kms.cancel_key_deletion(&k).unwrap();
    untag(kms, &k, &["a"]).unwrap();
}

fn a_disabled_key_can_be_tagged(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    kms.disable_key(&k).unwrap();
    tag(kms, &k, vec![Tag::new("a", "1")]).unwrap();
    untag(kms, &k, &["a"]).unwrap();
}

#[test]
fn tagging_an_unknown_key_is_not_found() {
    let h = Harness::new(OriginType::AwsKms);
    let kms = &h.kms;
    let missing = MISSING_KEY;
    assert_eq!(
        code(tag(kms, missing, vec![Tag::new("a", "1")])),
        "NotFoundException"
    );
    assert_eq!(code(untag(kms, missing, &["a"])), "NotFoundException");
    assert_eq!(
        code(kms.list_resource_tags(ListResourceTagsRequest {
            key_id: missing.into(),
            ..Default::default()
        })),
        "NotFoundException"
    );
}

harness::management_tests!(
    tag_resource_adds_tags_that_list_resource_tags_shows,
    tagging_an_existing_tag_key_replaces_its_value,
    tag_keys_and_values_are_case_sensitive,
    tags_on_create_key_are_listed,
    tag_keys_are_1_to_128_and_values_0_to_256_characters,
    the_aws_prefix_is_reserved,
    a_tag_key_twice_in_one_call_is_rejected,
    a_call_with_one_bad_tag_adds_none_of_them,
    a_key_has_at_most_50_tags,
    untag_resource_removes_tags_and_ignores_unknown_keys,
    list_resource_tags_pages_with_limit_and_marker,
    list_resource_tags_limit_is_1_to_50_and_markers_must_be_ours,
    a_key_pending_deletion_cannot_be_tagged_but_its_tags_can_be_listed,
    a_disabled_key_can_be_tagged,
);
