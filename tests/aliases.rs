//! Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases, and aliases
//! as `KeyId` in the operations that accept them.
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

use std::time::Duration;

mod harness;

use kms_keystore::{
    CreateAliasRequest, DecryptRequest, EncryptRequest, GenerateDataKeyRequest,
    GetKeyPolicyRequest, Kms, ListAliasesRequest, ListResourceTagsRequest, OriginType,
    PutKeyPolicyRequest, ReEncryptRequest, Result, ScheduleKeyDeletionRequest, Tag,
    TagResourceRequest, UpdateAliasRequest, UpdateKeyDescriptionRequest, default_key_policy,
};

use harness::{ACCOUNT, Harness, MISSING_KEY, REGION, code};

fn alias(kms: &Kms, name: &str, key: &str) -> Result<()> {
    kms.create_alias(CreateAliasRequest::new(name, key))
}

fn target_of(kms: &Kms, name: &str) -> String {
    kms.describe_key(name)
        .unwrap()
        .key_metadata
        .key_id
        .to_string()
}

/// The aliases that point to a key (ListAliases also lists AWS's
/// predefined aliases, without a key, until their AWS managed key exists).
fn all_aliases(kms: &Kms) -> Vec<String> {
    kms.list_aliases(ListAliasesRequest::default())
        .unwrap()
        .aliases
        .into_iter()
        .filter(|a| a.target_key_id.is_some())
        .map(|a| a.alias_name.to_string())
        .collect()
}

fn schedule_deletion(kms: &Kms, key: &str) {
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: key.into(),
        pending_window_in_days: Some(7),
    })
    .unwrap();
}

fn encrypt_with(kms: &Kms, key_id: &str) -> Result<Vec<u8>> {
    kms.encrypt(EncryptRequest {
        key_id: key_id.into(),
        plaintext: "secret".into(),
        ..Default::default()
    })
    .map(|r| r.ciphertext_blob)
}

// ---- names ----------------------------------------------------------------

fn alias_names_are_alias_slash_and_1_to_250_allowed_characters(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    alias(kms, "alias/Example_Alias-1/sub", &k).unwrap();
    alias(kms, &format!("alias/{}", "a".repeat(250)), &k).unwrap();
    assert_eq!(
        code(alias(kms, &format!("alias/{}", "a".repeat(251)), &k)),
        "ValidationException",
        "257 characters break the model's 256"
    );
    // AWS's text for a name without `alias/` (a ValidationException).
    let err = alias(kms, "example", &k).unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert_eq!(
        err.message(),
        "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
    );
    assert_eq!(code(alias(kms, "alias/", &k)), "InvalidAliasNameException");
    // The model's pattern allows ':', KMS does not: AWS's own text.
    let err = alias(kms, "alias/a:b", &k).unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert_eq!(
        err.message(),
        "alias/a:b contains invalid characters for an alias"
    );
    assert_eq!(code(alias(kms, "alias/a b", &k)), "ValidationException");
    assert_eq!(code(alias(kms, "alias/é", &k)), "ValidationException");
    assert_eq!(code(alias(kms, "", &k)), "ValidationException");
    assert_eq!(all_aliases(kms).len(), 2);
}

fn alias_names_are_case_sensitive(h: &Harness) {
    let kms = &h.kms;
    let (a, b) = (h.key(), h.key());
    alias(kms, "alias/App", &a).unwrap();
    alias(kms, "alias/app", &b).unwrap();
    assert_eq!(target_of(kms, "alias/App"), a);
    assert_eq!(target_of(kms, "alias/app"), b);
}

fn the_alias_aws_prefix_is_reserved(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    assert_eq!(
        code(alias(kms, "alias/aws/ebs", &k)),
        "NotAuthorizedException"
    );
    assert_eq!(
        code(kms.delete_alias("alias/aws/ebs")),
        "NotAuthorizedException"
    );
    assert_eq!(
        code(kms.update_alias(UpdateAliasRequest::new("alias/aws/ebs", &k))),
        "NotAuthorizedException"
    );
    assert!(all_aliases(kms).is_empty());
    // Only the `alias/aws/` namespace is reserved.
    alias(kms, "alias/aws", &k).unwrap();
    alias(kms, "alias/awsome", &k).unwrap();
}

// ---- one alias, one key; a key, many aliases --------------------------------

fn an_alias_name_is_unique_and_points_to_one_key(h: &Harness) {
    let kms = &h.kms;
    let (a, b) = (h.key(), h.key());
    alias(kms, "alias/app", &a).unwrap();
    assert_eq!(code(alias(kms, "alias/app", &b)), "AlreadyExistsException");
    assert_eq!(code(alias(kms, "alias/app", &a)), "AlreadyExistsException");
    assert_eq!(target_of(kms, "alias/app"), a);
}

fn a_key_can_have_many_aliases(h: &Harness) {
    let kms = &h.kms;
    let origin = h.origin;
    let k = h.key();
    for i in 0..5 {
        alias(kms, &format!("alias/{origin}/{i}"), &k).unwrap();
    }
    for i in 0..5 {
        assert_eq!(target_of(kms, &format!("alias/{origin}/{i}")), k);
    }
}

fn a_key_has_at_most_50_aliases(h: &Harness) {
    let kms = &h.kms;
    let (a, b) = (h.key(), h.key());
    for i in 0..50 {
        alias(kms, &format!("alias/a{i:02}"), &a).unwrap();
    }
    assert_eq!(code(alias(kms, "alias/a50", &a)), "LimitExceededException");
    alias(kms, "alias/b", &b).unwrap();
    assert_eq!(
        code(kms.update_alias(UpdateAliasRequest::new("alias/b", &a))),
        "LimitExceededException"
    );
    assert_eq!(
        target_of(kms, "alias/b"),
        b,
        "a failed update changes nothing"
    );
    // Re-pointing an alias at the key it already names does not count twice.
    kms.update_alias(UpdateAliasRequest::new("alias/a00", &a))
        .unwrap();
    // Deleting one makes room.
    kms.delete_alias("alias/a00").unwrap();
    alias(kms, "alias/a50", &a).unwrap();
}

fn the_aliases_per_key_quota_is_configurable(h: &Harness) {
    let mut quotas = kms_keystore::Quotas::default();
    quotas.aliases_per_key = 2;
    let h = &Harness::with_config(h.origin, |c| c.with_quotas(quotas));
    let kms = &h.kms;
    let k = h.key();
    alias(kms, "alias/one", &k).unwrap();
    alias(kms, "alias/two", &k).unwrap();
    assert_eq!(
        code(alias(kms, "alias/three", &k)),
        "LimitExceededException"
    );
}

// ---- not found -----------------------------------------------------------------

fn unknown_keys_and_aliases_are_not_found(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    let missing = MISSING_KEY;
    assert_eq!(code(alias(kms, "alias/x", missing)), "NotFoundException");
    assert_eq!(
        code(kms.update_alias(UpdateAliasRequest::new("alias/nope", &k))),
        "NotFoundException"
    );
    alias(kms, "alias/x", &k).unwrap();
    assert_eq!(
        code(kms.update_alias(UpdateAliasRequest::new("alias/x", missing))),
        "NotFoundException"
    );
    assert_eq!(code(kms.delete_alias("alias/nope")), "NotFoundException");
    assert_eq!(code(kms.describe_key("alias/nope")), "NotFoundException");
    assert_eq!(code(encrypt_with(kms, "alias/nope")), "NotFoundException");
}

fn an_alias_cannot_target_another_alias(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    alias(kms, "alias/first", &k).unwrap();
    assert_eq!(
        code(alias(kms, "alias/second", "alias/first")),
        "NotFoundException"
    );
    let arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/first");
    assert_eq!(code(alias(kms, "alias/second", &arn)), "NotFoundException");
    assert_eq!(
        code(kms.update_alias(UpdateAliasRequest::new("alias/first", "alias/first"))),
        "NotFoundException"
    );
}

fn create_alias_accepts_the_target_key_arn(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    let arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{k}");
    alias(kms, "alias/by-arn", &arn).unwrap();
    assert_eq!(target_of(kms, "alias/by-arn"), k);
}

// ---- aliases as KeyId -------------------------------------------------------------

fn crypto_operations_and_describe_key_accept_alias_names_and_alias_arns(h: &Harness) {
    let kms = &h.kms;
    let origin = h.origin;
    let k = h.key();
    let name = format!("alias/crypto-{origin}");
    alias(kms, &name, &k).unwrap();
    let alias_arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:{name}");
    for id in [name.as_str(), alias_arn.as_str()] {
        assert_eq!(target_of(kms, id), k);
        let blob = encrypt_with(kms, id).unwrap();
        let pt = kms
            .decrypt(DecryptRequest {
                ciphertext_blob: blob.clone(),
                key_id: Some(id.into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(pt.plaintext.expose_secret(), b"secret");
        kms.re_encrypt(ReEncryptRequest {
            ciphertext_blob: blob,
            source_key_id: Some(id.into()),
            destination_key_id: id.into(),
            ..Default::default()
        })
        .unwrap();
        kms.generate_data_key(GenerateDataKeyRequest {
            key_id: id.into(),
            number_of_bytes: Some(32),
            ..Default::default()
        })
        .unwrap();
    }
}

fn an_alias_arn_of_another_account_or_region_is_not_found(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    alias(kms, "alias/app", &k).unwrap();
    for arn in [
        "arn:aws:kms:us-east-1:111122223333:alias/app",
        "arn:aws:kms:us-west-2:444455556666:alias/app",
    ] {
        assert_eq!(code(kms.describe_key(arn)), "NotFoundException", "{arn}");
        assert_eq!(code(encrypt_with(kms, arn)), "NotFoundException", "{arn}");
    }
}

fn operations_that_take_only_a_key_id_or_arn_refuse_aliases(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    alias(kms, "alias/app", &k).unwrap();
    let arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/app");
    for id in ["alias/app", arn.as_str()] {
        let s = || id.to_string();
        assert_eq!(code(kms.enable_key(id)), "NotFoundException");
        assert_eq!(code(kms.disable_key(id)), "NotFoundException");
        assert_eq!(
            code(kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: s(),
                pending_window_in_days: None,
            })),
            "NotFoundException"
        );
        assert_eq!(code(kms.cancel_key_deletion(id)), "NotFoundException");
        assert_eq!(
            code(kms.tag_resource(TagResourceRequest {
                key_id: s(),
                tags: vec![Tag::new("a", "b")],
            })),
            "NotFoundException"
        );
        assert_eq!(
            code(kms.list_resource_tags(ListResourceTagsRequest {
                key_id: s(),
                ..Default::default()
            })),
            "NotFoundException"
        );
        assert_eq!(
            code(kms.put_key_policy(PutKeyPolicyRequest::new(
                id,
                default_key_policy(kms.account_id())
            ))),
            "NotFoundException"
        );
        assert_eq!(
            code(kms.get_key_policy(GetKeyPolicyRequest {
                key_id: s(),
                policy_name: None,
            })),
            "NotFoundException"
        );
        assert_eq!(
            code(kms.update_key_description(UpdateKeyDescriptionRequest::new(id, "d"))),
            "NotFoundException"
        );
        assert_eq!(
            code(kms.list_aliases(ListAliasesRequest {
                key_id: Some(s()),
                ..Default::default()
            })),
            "NotFoundException"
        );
    }
    // Nothing happened to the key.
    let meta = kms.describe_key(&k).unwrap().key_metadata;
    assert_eq!(meta.key_state, kms_keystore::KeyState::Enabled);
}

// ---- UpdateAlias and DeleteAlias ------------------------------------------------------

fn update_alias_repoints_the_alias_and_keeps_its_creation_date(h: &Harness) {
    let (kms, clock) = (&h.kms, &h.clock);
    let origin = h.origin;
    let (a, b) = (h.key(), h.key());
    let name = format!("alias/moving-{origin}");
    alias(kms, &name, &a).unwrap();
    let before = kms
        .list_aliases(ListAliasesRequest::default())
        .unwrap()
        .aliases
        .into_iter()
        .find(|x| x.alias_name == name.as_str())
        .unwrap();
    clock.advance(Duration::from_secs(60));
    kms.update_alias(UpdateAliasRequest::new(&name, &b))
        .unwrap();
    assert_eq!(target_of(kms, &name), b);
    let after = kms
        .list_aliases(ListAliasesRequest::default())
        .unwrap()
        .aliases
        .into_iter()
        .find(|x| x.alias_name == name.as_str())
        .unwrap();
    assert_eq!(after.creation_date, before.creation_date);
    assert_eq!(
        after.last_updated_date.unwrap().as_millis(),
        before.last_updated_date.unwrap().as_millis() + 60_000
    );
    assert_eq!(after.target_key_id.unwrap().to_string(), b);
}

fn delete_alias_removes_only_the_alias(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    alias(kms, "alias/a", &k).unwrap();
    alias(kms, "alias/b", &k).unwrap();
    kms.delete_alias("alias/a").unwrap();
    assert_eq!(all_aliases(kms), vec!["alias/b"]);
    assert_eq!(code(kms.describe_key("alias/a")), "NotFoundException");
    encrypt_with(kms, &k).unwrap();
    // The name is free again.
    alias(kms, "alias/a", &k).unwrap();
}

fn aliases_work_for_disabled_keys(h: &Harness) {
    let kms = &h.kms;
    let (a, b) = (h.key(), h.key());
    kms.disable_key(&a).unwrap();
    alias(kms, "alias/disabled", &a).unwrap();
    assert_eq!(
        code(encrypt_with(kms, "alias/disabled")),
        "DisabledException"
    );
    kms.update_alias(UpdateAliasRequest::new("alias/disabled", &b))
        .unwrap();
    kms.update_alias(UpdateAliasRequest::new("alias/disabled", &a))
        .unwrap();
    kms.delete_alias("alias/disabled").unwrap();
}

// ---- keys pending deletion ----------------------------------------------------------------

fn a_key_pending_deletion_gets_no_new_alias_but_keeps_its_aliases(h: &Harness) {
    let kms = &h.kms;
    let origin = h.origin;
    let (k, other) = (h.key(), h.key());
    let name = format!("alias/pending-{origin}");
    alias(kms, &name, &k).unwrap();
    schedule_deletion(kms, &k);
    // CreateAlias: KMSInvalidStateException, and no alias is made.
    assert_eq!(
        code(alias(kms, "alias/new", &k)),
        "KMSInvalidStateException"
    );
    assert!(!all_aliases(kms).contains(&"alias/new".to_string()));
    // UpdateAlias onto it: KMSInvalidStateException.
    let other_alias = format!("alias/other-{origin}");
    alias(kms, &other_alias, &other).unwrap();
    assert_eq!(
        code(kms.update_alias(UpdateAliasRequest::new(&other_alias, &k))),
        "KMSInvalidStateException"
    );
    assert_eq!(target_of(kms, &other_alias), other);
    // The existing alias still resolves for DescribeKey and ListAliases...
    assert_eq!(target_of(kms, &name), k);
    let listed = kms
        .list_aliases(ListAliasesRequest {
            key_id: Some(k.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.aliases.len(), 1);
    // ... but the key cannot be used through it.
    assert_eq!(code(encrypt_with(kms, &name)), "KMSInvalidStateException");
    // UpdateAlias away from it succeeds.
    kms.update_alias(UpdateAliasRequest::new(&name, &other))
        .unwrap();
    kms.update_alias(UpdateAliasRequest::new(&name, &other))
        .unwrap();
    // DeleteAlias of an alias of a key pending deletion succeeds.
    let third = format!("alias/third-{origin}");
    kms.cancel_key_deletion(&k).unwrap();
    alias(kms, &third, &k).unwrap();
    schedule_deletion(kms, &k);
    kms.delete_alias(&third).unwrap();
}

fn a_deleted_key_takes_its_aliases_with_it(h: &Harness) {
    let (kms, clock) = (&h.kms, &h.clock);
    let origin = h.origin;
    let (k, keep) = (h.key(), h.key());
    let (gone, kept) = (
        format!("alias/gone-{origin}"),
        format!("alias/kept-{origin}"),
    );
    alias(kms, &gone, &k).unwrap();
    alias(kms, &format!("{gone}-2"), &k).unwrap();
    alias(kms, &kept, &keep).unwrap();
    schedule_deletion(kms, &k);
    clock.advance(Duration::from_secs(7 * 86_400));
    assert_eq!(all_aliases(kms), vec![kept.clone()]);
    assert_eq!(code(kms.describe_key(&gone)), "NotFoundException");
    assert_eq!(code(kms.delete_alias(&gone)), "NotFoundException");
    // The name can be used again.
    alias(kms, &gone, &keep).unwrap();
    assert_eq!(target_of(kms, &gone), keep);
}

fn an_alias_is_gone_as_soon_as_the_deletion_date_passes_even_without_a_list(h: &Harness) {
    let (kms, clock) = (&h.kms, &h.clock);
    let k = h.key();
    alias(kms, "alias/soon", &k).unwrap();
    schedule_deletion(kms, &k);
    clock.advance(Duration::from_secs(7 * 86_400));
    let other = h.key();
    assert_eq!(
        code(kms.update_alias(UpdateAliasRequest::new("alias/soon", &other))),
        "NotFoundException"
    );
    assert_eq!(code(encrypt_with(kms, "alias/soon")), "NotFoundException");
    // CreateAlias with the old name succeeds: the alias went with the key.
    alias(kms, "alias/soon", &other).unwrap();
}

// ---- ListAliases ---------------------------------------------------------------------------

fn list_aliases_shows_name_arn_target_and_dates(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    let created = kms.now();
    alias(kms, "alias/app", &k).unwrap();
    let page = kms.list_aliases(ListAliasesRequest::default()).unwrap();
    assert!(!page.truncated);
    assert_eq!(page.next_marker, None);
    let a = &page.aliases[0];
    assert_eq!(a.alias_name, "alias/app");
    assert_eq!(
        a.alias_arn,
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/app")
    );
    assert_eq!(a.target_key_id.unwrap().to_string(), k);
    assert_eq!(a.creation_date, Some(created));
    assert_eq!(a.last_updated_date, Some(created));
    let json = serde_json::to_value(&page).unwrap();
    let entry = &json["Aliases"][0];
    for field in [
        "AliasName",
        "AliasArn",
        "TargetKeyId",
        "CreationDate",
        "LastUpdatedDate",
    ] {
        assert!(entry.get(field).is_some(), "{field} in {json}");
    }
    assert_eq!(json["Truncated"], false);
}

fn list_aliases_pages_with_limit_and_marker(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    let names: Vec<String> = (0..7).map(|i| format!("alias/p{i}")).collect();
    for n in &names {
        alias(kms, n, &k).unwrap();
    }
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_aliases(ListAliasesRequest {
                limit: Some(3),
                marker: marker.clone(),
                ..Default::default()
            })
            .unwrap();
        assert!(page.aliases.len() <= 3);
        seen.extend(page.aliases.iter().map(|a| a.alias_name.to_string()));
        assert_eq!(page.truncated, page.next_marker.is_some());
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    // The 14 predefined `alias/aws/…` aliases come first, in name order.
    let (predefined, own): (Vec<String>, Vec<String>) =
        seen.into_iter().partition(|n| n.starts_with("alias/aws/"));
    assert_eq!(predefined.len(), 14, "{predefined:?}");
    assert!(predefined.is_sorted());
    assert_eq!(own, names);
    // The default page is 50.
    for i in 0..55 {
        alias(kms, &format!("alias/q{i:02}"), &h.key()).unwrap();
    }
    let page = kms.list_aliases(ListAliasesRequest::default()).unwrap();
    assert_eq!(page.aliases.len(), 50);
    assert!(page.truncated);
}

#[test]
fn list_aliases_limit_is_1_to_100_and_markers_must_be_ours() {
    let h = Harness::new(OriginType::AwsKms);
    let kms = &h.kms;
    for limit in [0, 101] {
        assert_eq!(
            code(kms.list_aliases(ListAliasesRequest {
                limit: Some(limit),
                ..Default::default()
            })),
            "ValidationException",
            "{limit}"
        );
    }
    kms.list_aliases(ListAliasesRequest {
        limit: Some(100),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        code(kms.list_aliases(ListAliasesRequest {
            marker: Some("garbage!".into()),
            ..Default::default()
        })),
        "InvalidMarkerException"
    );
}

fn list_aliases_can_filter_by_key_id_or_key_arn(h: &Harness) {
    let kms = &h.kms;
    let (a, b) = (h.key(), h.key());
    alias(kms, "alias/a1", &a).unwrap();
    alias(kms, "alias/b1", &b).unwrap();
    alias(kms, "alias/a2", &a).unwrap();
    let arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{a}");
    for id in [a.clone(), arn] {
        let page = kms
            .list_aliases(ListAliasesRequest {
                key_id: Some(id),
                ..Default::default()
            })
            .unwrap();
        let names: Vec<_> = page
            .aliases
            .iter()
            .map(|x| x.alias_name.to_string())
            .collect();
        assert_eq!(names, ["alias/a1", "alias/a2"]);
    }
    // Filtered paging.
    let first = kms
        .list_aliases(ListAliasesRequest {
            key_id: Some(a.clone()),
            limit: Some(1),
            ..Default::default()
        })
        .unwrap();
    assert!(first.truncated);
    let second = kms
        .list_aliases(ListAliasesRequest {
            key_id: Some(a.clone()),
            limit: Some(1),
            marker: first.next_marker,
        })
        .unwrap();
    assert_eq!(second.aliases[0].alias_name, "alias/a2");
    assert!(!second.truncated);
    assert_eq!(
        code(kms.list_aliases(ListAliasesRequest {
            key_id: Some(MISSING_KEY.into()),
            ..Default::default()
        })),
        "NotFoundException"
    );
}

fn concurrent_creates_of_one_alias_name_let_exactly_one_win(h: &Harness) {
    let kms = &h.kms;
    let keys: Vec<String> = (0..8).map(|_| h.key()).collect();
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = keys
            .iter()
            .map(|k| {
                let kms = kms.clone();
                s.spawn(move || alias(&kms, "alias/race", k))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<&String> = keys
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_ok())
        .map(|(k, _)| k)
        .collect();
    assert_eq!(winners.len(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| e.code() == "AlreadyExistsException")
    );
    assert_eq!(&target_of(kms, "alias/race"), winners[0]);
}

harness::management_tests!(
    alias_names_are_alias_slash_and_1_to_250_allowed_characters,
    alias_names_are_case_sensitive,
    the_alias_aws_prefix_is_reserved,
    an_alias_name_is_unique_and_points_to_one_key,
    a_key_can_have_many_aliases,
    a_key_has_at_most_50_aliases,
    the_aliases_per_key_quota_is_configurable,
    unknown_keys_and_aliases_are_not_found,
    an_alias_cannot_target_another_alias,
    create_alias_accepts_the_target_key_arn,
    crypto_operations_and_describe_key_accept_alias_names_and_alias_arns,
    an_alias_arn_of_another_account_or_region_is_not_found,
    operations_that_take_only_a_key_id_or_arn_refuse_aliases,
    update_alias_repoints_the_alias_and_keeps_its_creation_date,
    delete_alias_removes_only_the_alias,
    aliases_work_for_disabled_keys,
    a_key_pending_deletion_gets_no_new_alias_but_keeps_its_aliases,
    a_deleted_key_takes_its_aliases_with_it,
    an_alias_is_gone_as_soon_as_the_deletion_date_passes_even_without_a_list,
    list_aliases_shows_name_arn_target_and_dates,
    list_aliases_pages_with_limit_and_marker,
    list_aliases_can_filter_by_key_id_or_key_arn,
    concurrent_creates_of_one_alias_name_let_exactly_one_win,
);
