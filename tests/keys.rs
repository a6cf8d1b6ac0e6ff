//! CreateKey, DescribeKey, ListKeys and the key lifecycle (enable, disable,
//! deletion scheduling, cancellation, deletion on the clock).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{ACCOUNT, REGION, code, kms, new_key};
use kms_keystore::{
    CreateKeyRequest, CustomerMasterKeySpec, EncryptionAlgorithmSpec, Error, ErrorCode, KeyManager,
    KeySpec, KeyState, KeyUsage, Kms, ListKeysRequest, MAX_DESCRIPTION_CHARS, OriginType,
    ScheduleKeyDeletionRequest, Tag,
};

const DAY: Duration = Duration::from_secs(86_400);

fn schedule(kms: &Kms, key_id: &str, days: Option<u32>) -> kms_keystore::Result<()> {
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: key_id.to_string(),
        pending_window_in_days: days,
    })
    .map(drop)
}

fn state(kms: &Kms, key_id: &str) -> KeyState {
    kms.describe_key(key_id).unwrap().key_metadata.key_state
}

fn with_tags(tags: Vec<Tag>) -> CreateKeyRequest {
    CreateKeyRequest {
        tags,
        ..Default::default()
    }
}

// ---------------------------------------------------------------- CreateKey

#[test]
fn create_key_makes_an_enabled_symmetric_customer_key() {
    let (kms, clock) = kms();
    let md = kms
        .create_key(CreateKeyRequest::with_description("app key"))
        .unwrap()
        .key_metadata;
    assert_eq!(md.aws_account_id, ACCOUNT);
    assert_eq!(
        md.arn,
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{}", md.key_id)
    );
    assert_eq!(md.creation_date, kms_keystore::Clock::now(&clock));
    assert!(md.enabled);
    assert_eq!(md.description, "app key");
    assert_eq!(md.key_state, KeyState::Enabled);
    assert_eq!(md.key_usage, KeyUsage::EncryptDecrypt);
    assert_eq!(md.key_spec, KeySpec::SymmetricDefault);
    assert_eq!(
        md.customer_master_key_spec,
        CustomerMasterKeySpec::SymmetricDefault
    );
    assert_eq!(md.origin, OriginType::AwsKms);
    assert_eq!(md.key_manager, KeyManager::Customer);
    assert_eq!(
        md.encryption_algorithms,
        vec![EncryptionAlgorithmSpec::SymmetricDefault]
    );
    assert!(!md.multi_region);
    assert_eq!(md.deletion_date, None);
    assert_eq!(md.pending_deletion_window_in_days, None);
    assert_eq!(md.custom_key_store_id, None);
}

#[test]
fn create_key_gives_each_key_a_distinct_uuid() {
    let (kms, _) = kms();
    let a = new_key(&kms);
    let b = new_key(&kms);
    assert_ne!(a, b);
    for id in [&a, &b] {
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
    }
}

#[test]
fn create_key_accepts_description_of_8192_chars() {
    let (kms, _) = kms();
    let d = "d".repeat(MAX_DESCRIPTION_CHARS);
    assert_eq!(MAX_DESCRIPTION_CHARS, 8192);
    let md = kms
        .create_key(CreateKeyRequest::with_description(d.clone()))
        .unwrap()
        .key_metadata;
    assert_eq!(md.description, d);
}

#[test]
fn create_key_rejects_description_of_8193_chars() {
    let (kms, _) = kms();
    let r = kms.create_key(CreateKeyRequest::with_description("d".repeat(8193)));
    assert_eq!(code(r), "ValidationException");
}

#[test]
fn create_key_counts_description_length_in_characters_not_bytes() {
    let (kms, _) = kms();
    // 8192 two-byte characters: 16384 bytes, still 8192 characters.
    let ok = kms.create_key(CreateKeyRequest::with_description("é".repeat(8192)));
    assert!(ok.is_ok(), "{ok:?}");
    let r = kms.create_key(CreateKeyRequest::with_description("é".repeat(8193)));
    assert_eq!(code(r), "ValidationException");
}

#[test]
fn create_key_accepts_empty_description() {
    let (kms, _) = kms();
    let md = kms
        .create_key(CreateKeyRequest::with_description(""))
        .unwrap()
        .key_metadata;
    assert_eq!(md.description, "");
}

#[test]
fn create_key_accepts_explicit_encrypt_decrypt_and_symmetric_default() {
    let (kms, _) = kms();
    let md = kms
        .create_key(CreateKeyRequest {
            key_usage: Some(KeyUsage::EncryptDecrypt),
            key_spec: Some(KeySpec::SymmetricDefault),
            origin: Some(OriginType::AwsKms),
            multi_region: Some(false),
            ..Default::default()
        })
        .unwrap()
        .key_metadata;
    assert_eq!(md.key_spec, KeySpec::SymmetricDefault);
    assert_eq!(md.key_usage, KeyUsage::EncryptDecrypt);
}

#[test]
fn create_key_accepts_deprecated_customer_master_key_spec_symmetric_default() {
    let (kms, _) = kms();
    let md = kms
        .create_key(CreateKeyRequest {
            customer_master_key_spec: Some(CustomerMasterKeySpec::SymmetricDefault),
            ..Default::default()
        })
        .unwrap()
        .key_metadata;
    assert_eq!(md.key_spec, KeySpec::SymmetricDefault);
}

#[test]
fn create_key_rejects_every_key_spec_it_does_not_make_as_unsupported() {
    let (kms, _) = kms();
    let mut tried = 0;
    // The RSA, ECC and ML-DSA specs are made with the feature `asymmetric`
    // (tests/asymmetric.rs, tests/ml_dsa.rs), refused without it.
    let made_asymmetric = |s: &KeySpec| {
        cfg!(feature = "asymmetric")
            && (s.as_str().starts_with("RSA_")
                || s.as_str().starts_with("ML_DSA_")
                || (s.as_str().starts_with("ECC_") && *s != KeySpec::EccNistEdwards25519))
    };
    for spec in KeySpec::values() {
        if *spec == KeySpec::SymmetricDefault
            || spec.mac_algorithm().is_some()
            || made_asymmetric(spec)
        {
            continue;
        }
        // Without KeyUsage a non-symmetric spec fails validation first.
        let r = kms.create_key(CreateKeyRequest {
            key_spec: Some(*spec),
            ..Default::default()
        });
        assert_eq!(code(r), "ValidationException", "{spec}");
        let usage = if spec.as_str().starts_with("HMAC") {
            KeyUsage::GenerateVerifyMac
        } else {
            KeyUsage::SignVerify
        };
        let r = kms.create_key(CreateKeyRequest {
            key_spec: Some(*spec),
            key_usage: Some(usage),
            ..Default::default()
        });
        assert_eq!(code(r), "UnsupportedOperationException", "{spec}");
        tried += 1;
    }
    assert!(tried >= if cfg!(feature = "asymmetric") { 5 } else { 15 });
    assert!(
        kms.list_keys(ListKeysRequest::default())
            .unwrap()
            .keys
            .is_empty()
    );
}

#[test]
fn create_key_takes_an_asymmetric_customer_master_key_spec_only_with_the_feature() {
    let (kms, _) = kms();
    let r = kms.create_key(CreateKeyRequest {
        customer_master_key_spec: Some(CustomerMasterKeySpec::Rsa2048),
        key_usage: Some(KeyUsage::SignVerify),
        ..Default::default()
    });
    if cfg!(feature = "asymmetric") {
        assert_eq!(r.unwrap().key_metadata.key_spec, KeySpec::Rsa2048);
    } else {
        assert_eq!(code(r), "UnsupportedOperationException");
    }
}

#[test]
fn create_key_rejects_key_spec_together_with_customer_master_key_spec() {
    let (kms, _) = kms();
    let r = kms.create_key(CreateKeyRequest {
        key_spec: Some(KeySpec::SymmetricDefault),
        customer_master_key_spec: Some(CustomerMasterKeySpec::SymmetricDefault),
        ..Default::default()
    });
    assert_eq!(code(r), "ValidationException");
}

#[test]
fn create_key_rejects_a_usage_other_than_encrypt_decrypt_for_symmetric_default() {
    let (kms, _) = kms();
    for usage in KeyUsage::values() {
        if *usage == KeyUsage::EncryptDecrypt {
            continue;
        }
        let r = kms.create_key(CreateKeyRequest {
            key_usage: Some(*usage),
            ..Default::default()
        });
        assert_eq!(code(r), "ValidationException", "{usage}");
    }
}

#[test]
fn create_key_makes_a_sign_verify_rsa_key_only_with_the_feature() {
    let (kms, _) = kms();
    let r = kms.create_key(CreateKeyRequest {
        key_usage: Some(KeyUsage::SignVerify),
        key_spec: Some(KeySpec::Rsa2048),
        ..Default::default()
    });
    if cfg!(feature = "asymmetric") {
        assert_eq!(r.unwrap().key_metadata.key_usage, KeyUsage::SignVerify);
    } else {
        assert_eq!(code(r), "UnsupportedOperationException");
    }
}

#[cfg(not(feature = "asymmetric"))]
#[test]
fn without_the_asymmetric_feature_origin_external_is_refused_naming_the_feature() {
    let (kms, _) = kms();
    let err = kms
        .create_key(CreateKeyRequest {
            origin: Some(OriginType::External),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
    assert!(err.message().contains("`asymmetric`"), "{err}");
}

#[test]
fn create_key_refuses_a_multi_region_key_in_a_custom_key_store() {
    let (kms, _) = kms();
    let r = kms.create_key(CreateKeyRequest {
        multi_region: Some(true),
        origin: Some(OriginType::AwsCloudHsm),
        custom_key_store_id: Some("cks-1234567890abcdef0".into()),
        ..Default::default()
    });
    assert_eq!(code(r), "UnsupportedOperationException");
    let made = kms.create_key(CreateKeyRequest {
        multi_region: Some(true),
        ..Default::default()
    });
    assert!(made.unwrap().key_metadata.multi_region);
}

#[test]
fn create_key_requires_a_custom_key_store_id_for_custom_key_store_origins() {
    let (kms, _) = kms();
    for origin in [OriginType::AwsCloudHsm, OriginType::ExternalKeyStore] {
        let r = kms.create_key(CreateKeyRequest {
            origin: Some(origin),
            ..Default::default()
        });
        assert_eq!(code(r), "ValidationException", "{origin}");
    }
}

#[test]
fn create_key_rejects_custom_key_store_id_with_origin_aws_kms() {
    let (kms, _) = kms();
    let r = kms.create_key(CreateKeyRequest {
        custom_key_store_id: Some("cks-1234567890abcdef0".into()),
        ..Default::default()
    });
    assert_eq!(code(r), "ValidationException");
}

#[test]
fn create_key_rejects_xks_key_id_without_external_key_store_origin() {
    let (kms, _) = kms();
    let r = kms.create_key(CreateKeyRequest {
        xks_key_id: Some("ext-key-1".into()),
        ..Default::default()
    });
    assert_eq!(code(r), "ValidationException");
}

#[test]
fn create_key_accepts_50_tags() {
    let (kms, _) = kms();
    let tags = (0..50).map(|i| Tag::new(format!("k{i}"), "v")).collect();
    assert!(kms.create_key(with_tags(tags)).is_ok());
}

#[test]
fn create_key_rejects_51_tags() {
    let (kms, _) = kms();
    let tags = (0..51).map(|i| Tag::new(format!("k{i}"), "v")).collect();
    let err = kms.create_key(with_tags(tags)).unwrap_err();
    assert_eq!(err.code(), "TagException");
    assert_eq!(err.message(), "Too many tags");
}

#[test]
fn create_key_accepts_tag_key_of_128_chars_and_rejects_129() {
    let (kms, _) = kms();
    assert!(
        kms.create_key(with_tags(vec![Tag::new("k".repeat(128), "v")]))
            .is_ok()
    );
    let r = kms.create_key(with_tags(vec![Tag::new("k".repeat(129), "v")]));
    let err = r.unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert_eq!(
        err.message(),
        format!(
            "1 validation error detected: Value '{}' at 'tags.1.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 128",
            "k".repeat(129)
        )
    );
}

#[test]
fn create_key_rejects_empty_tag_key() {
    let (kms, _) = kms();
    let r = kms.create_key(with_tags(vec![Tag::new("", "v")]));
    assert_eq!(code(r), "ValidationException");
}

#[test]
fn create_key_accepts_tag_value_of_0_and_256_chars_and_rejects_257() {
    let (kms, _) = kms();
    assert!(kms.create_key(with_tags(vec![Tag::new("k", "")])).is_ok());
    assert!(
        kms.create_key(with_tags(vec![Tag::new("k", "v".repeat(256))]))
            .is_ok()
    );
    let r = kms.create_key(with_tags(vec![
        Tag::new("ok", "v"),
        Tag::new("k", "v".repeat(257)),
    ]));
    let err = r.unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert_eq!(
        err.message(),
        format!(
            "1 validation error detected: Value '{}' at 'tags.2.member.tagValue' failed to satisfy constraint: Member must have length less than or equal to 256",
            "v".repeat(257)
        )
    );
}

#[test]
fn create_key_rejects_reserved_aws_tag_prefix() {
    let (kms, _) = kms();
    for key in ["aws:owner", "AWS:owner", "Aws:x"] {
        let err = kms
            .create_key(with_tags(vec![Tag::new(key, "v")]))
            .unwrap_err();
        assert_eq!(err.code(), "TagException", "{key}");
        assert_eq!(err.message(), "Tags beginning with aws: are reserved");
    }
}

#[test]
fn create_key_rejects_duplicate_tag_keys() {
    let (kms, _) = kms();
    let r = kms.create_key(with_tags(vec![Tag::new("k", "1"), Tag::new("k", "2")]));
    let err = r.unwrap_err();
    assert_eq!(err.code(), "TagException");
    assert_eq!(err.message(), "Duplicate tag keys");
}

#[test]
fn create_key_that_fails_validation_creates_no_key() {
    let (kms, _) = kms();
    let _ = kms.create_key(CreateKeyRequest::with_description("d".repeat(8193)));
    let _ = kms.create_key(with_tags(vec![Tag::new("aws:x", "v")]));
    let page = kms.list_keys(ListKeysRequest::default()).unwrap();
    assert!(page.keys.is_empty(), "{page:?}");
}

// -------------------------------------------------------------- DescribeKey

#[test]
fn describe_key_by_key_id_and_by_key_arn_give_the_same_metadata() {
    let (kms, _) = kms();
    let created = kms
        .create_key(CreateKeyRequest::with_description("x"))
        .unwrap()
        .key_metadata;
    let by_id = kms
        .describe_key(&created.key_id.to_string())
        .unwrap()
        .key_metadata;
    let by_arn = kms.describe_key(&created.arn).unwrap().key_metadata;
    assert_eq!(by_id, created);
    assert_eq!(by_arn, created);
}

#[test]
fn describe_key_accepts_an_uppercase_key_id() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let md = kms.describe_key(&id.to_uppercase()).unwrap().key_metadata;
    assert_eq!(md.key_id.to_string(), id);
}

#[test]
fn describe_key_of_unknown_key_is_not_found() {
    let (kms, _) = kms();
    new_key(&kms);
    let r = kms.describe_key("1234abcd-12ab-34cd-56ef-1234567890ab");
    assert_eq!(code(r), "NotFoundException");
}

#[test]
fn describe_key_with_a_key_arn_of_another_account_is_not_found() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let r = kms.describe_key(&format!("arn:aws:kms:{REGION}:444455556666:key/{id}"));
    assert_eq!(code(r), "NotFoundException");
}

#[test]
fn describe_key_with_a_key_arn_of_another_region_is_not_found() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let r = kms.describe_key(&format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{id}"));
    assert_eq!(code(r), "NotFoundException");
}

#[test]
fn describe_key_with_a_malformed_arn_is_invalid_arn() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    for arn in [
        format!("arn:aws:kms:{REGION}:1234:key/{id}"),
        format!("arn:aws:s3:{REGION}:{ACCOUNT}:key/{id}"),
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/not-a-uuid"),
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:bucket/{id}"),
        "arn:aws:kms".to_string(),
    ] {
        assert_eq!(code(kms.describe_key(&arn)), "InvalidArnException", "{arn}");
    }
}

#[test]
fn describe_key_with_a_malformed_key_id_is_not_found() {
    let (kms, _) = kms();
    assert_eq!(code(kms.describe_key("not-a-key")), "NotFoundException");
}

#[test]
fn describe_key_with_an_empty_key_id_is_a_validation_error() {
    let (kms, _) = kms();
    assert_eq!(code(kms.describe_key("")), "ValidationException");
}

#[test]
fn describe_key_with_a_key_id_over_2048_chars_is_a_validation_error() {
    let (kms, _) = kms();
    assert_eq!(
        code(kms.describe_key(&"a".repeat(2049))),
        "ValidationException"
    );
}

#[test]
fn describe_key_works_in_every_key_state() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    assert_eq!(state(&kms, &id), KeyState::Enabled);
    kms.disable_key(&id).unwrap();
    assert_eq!(state(&kms, &id), KeyState::Disabled);
    schedule(&kms, &id, Some(7)).unwrap();
    assert_eq!(state(&kms, &id), KeyState::PendingDeletion);
}

// ----------------------------------------------------------------- ListKeys

fn list_all(kms: &Kms, limit: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_keys(ListKeysRequest {
                limit: Some(limit),
                marker: marker.take(),
            })
            .unwrap();
        assert!(page.keys.len() <= limit as usize);
        out.extend(page.keys.iter().map(|k| k.key_id.to_string()));
        assert_eq!(page.truncated, page.next_marker.is_some());
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => return out,
        }
    }
}

#[test]
fn list_keys_of_an_empty_account_is_empty_and_not_truncated() {
    let (kms, _) = kms();
    let page = kms.list_keys(ListKeysRequest::default()).unwrap();
    assert!(page.keys.is_empty());
    assert!(!page.truncated);
    assert_eq!(page.next_marker, None);
}

#[test]
fn list_keys_gives_key_id_and_key_arn_in_creation_order() {
    let (kms, _) = kms();
    let ids: Vec<String> = (0..3).map(|_| new_key(&kms)).collect();
    let page = kms.list_keys(ListKeysRequest::default()).unwrap();
    let listed: Vec<String> = page.keys.iter().map(|k| k.key_id.to_string()).collect();
    assert_eq!(listed, ids);
    for k in &page.keys {
        assert_eq!(
            k.key_arn,
            format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{}", k.key_id)
        );
    }
}

#[test]
fn list_keys_accepts_limit_1() {
    let (kms, _) = kms();
    let a = new_key(&kms);
    new_key(&kms);
    let page = kms
        .list_keys(ListKeysRequest {
            limit: Some(1),
            marker: None,
        })
        .unwrap();
    assert_eq!(page.keys.len(), 1);
    assert_eq!(page.keys[0].key_id.to_string(), a);
    assert!(page.truncated);
    assert!(page.next_marker.is_some());
}

#[test]
fn list_keys_accepts_limit_1000() {
    let (kms, _) = kms();
    new_key(&kms);
    let page = kms
        .list_keys(ListKeysRequest {
            limit: Some(1000),
            marker: None,
        })
        .unwrap();
    assert_eq!(page.keys.len(), 1);
}

#[test]
fn list_keys_rejects_limit_0() {
    let (kms, _) = kms();
    let r = kms.list_keys(ListKeysRequest {
        limit: Some(0),
        marker: None,
    });
    assert_eq!(code(r), "ValidationException");
}

#[test]
fn list_keys_rejects_limit_1001() {
    let (kms, _) = kms();
    let r = kms.list_keys(ListKeysRequest {
        limit: Some(1001),
        marker: None,
    });
    assert_eq!(code(r), "ValidationException");
}

#[test]
fn list_keys_defaults_to_100_per_page() {
    let (kms, _) = kms();
    for _ in 0..101 {
        new_key(&kms);
    }
    let page = kms.list_keys(ListKeysRequest::default()).unwrap();
    assert_eq!(page.keys.len(), 100);
    assert!(page.truncated);
    let rest = kms
        .list_keys(ListKeysRequest {
            limit: None,
            marker: page.next_marker,
        })
        .unwrap();
    assert_eq!(rest.keys.len(), 1);
    assert!(!rest.truncated);
}

#[test]
fn list_keys_pages_with_marker_through_every_key_once() {
    let (kms, _) = kms();
    let ids: Vec<String> = (0..7).map(|_| new_key(&kms)).collect();
    for limit in [1, 2, 3, 7, 8] {
        assert_eq!(list_all(&kms, limit), ids, "limit {limit}");
    }
}

#[test]
fn list_keys_exact_page_is_not_truncated() {
    let (kms, _) = kms();
    for _ in 0..4 {
        new_key(&kms);
    }
    let page = kms
        .list_keys(ListKeysRequest {
            limit: Some(4),
            marker: None,
        })
        .unwrap();
    assert_eq!(page.keys.len(), 4);
    assert!(!page.truncated);
    assert_eq!(page.next_marker, None);
}

#[test]
fn list_keys_rejects_a_marker_it_did_not_return() {
    let (kms, _) = kms();
    new_key(&kms);
    for marker in ["not a marker!", "%%%%", "AAAA"] {
        let r = kms.list_keys(ListKeysRequest {
            limit: None,
            marker: Some(marker.into()),
        });
        assert_eq!(code(r), "InvalidMarkerException", "{marker}");
    }
}

#[test]
fn list_keys_rejects_an_empty_marker() {
    let (kms, _) = kms();
    let r = kms.list_keys(ListKeysRequest {
        limit: None,
        marker: Some(String::new()),
    });
    assert_eq!(code(r), "ValidationException");
}

#[test]
fn list_keys_marker_survives_deletion_of_the_next_key() {
    let (kms, clock) = kms();
    let ids: Vec<String> = (0..4).map(|_| new_key(&kms)).collect();
    let first = kms
        .list_keys(ListKeysRequest {
            limit: Some(2),
            marker: None,
        })
        .unwrap();
    schedule(&kms, &ids[2], Some(7)).unwrap();
    clock.advance(DAY * 7);
    let rest = kms
        .list_keys(ListKeysRequest {
            limit: Some(2),
            marker: first.next_marker,
        })
        .unwrap();
    let listed: Vec<String> = rest.keys.iter().map(|k| k.key_id.to_string()).collect();
    assert_eq!(listed, vec![ids[3].clone()]);
}

#[test]
fn list_keys_shows_keys_pending_deletion() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    schedule(&kms, &id, None).unwrap();
    assert_eq!(list_all(&kms, 10), vec![id]);
}

// -------------------------------------------------------- Enable / Disable

#[test]
fn disable_key_makes_the_key_disabled_and_not_enabled() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    kms.disable_key(&id).unwrap();
    let md = kms.describe_key(&id).unwrap().key_metadata;
    assert_eq!(md.key_state, KeyState::Disabled);
    assert!(!md.enabled);
}

#[test]
fn enable_key_brings_a_disabled_key_back() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    kms.disable_key(&id).unwrap();
    kms.enable_key(&id).unwrap();
    let md = kms.describe_key(&id).unwrap().key_metadata;
    assert_eq!(md.key_state, KeyState::Enabled);
    assert!(md.enabled);
}

#[test]
fn enable_and_disable_are_idempotent() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    kms.enable_key(&id).unwrap();
    assert_eq!(state(&kms, &id), KeyState::Enabled);
    kms.disable_key(&id).unwrap();
    kms.disable_key(&id).unwrap();
    assert_eq!(state(&kms, &id), KeyState::Disabled);
}

#[test]
fn enable_and_disable_accept_the_key_arn() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}");
    kms.disable_key(&arn).unwrap();
    assert_eq!(state(&kms, &id), KeyState::Disabled);
    kms.enable_key(&arn).unwrap();
    assert_eq!(state(&kms, &id), KeyState::Enabled);
}

#[test]
fn enable_and_disable_of_unknown_key_are_not_found() {
    let (kms, _) = kms();
    let unknown = "1234abcd-12ab-34cd-56ef-1234567890ab";
    assert_eq!(code(kms.enable_key(unknown)), "NotFoundException");
    assert_eq!(code(kms.disable_key(unknown)), "NotFoundException");
}

#[test]
fn enable_and_disable_with_a_malformed_arn_are_invalid_arn() {
    let (kms, _) = kms();
    let arn = "arn:aws:kms:us-west-2:12:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    assert_eq!(code(kms.enable_key(arn)), "InvalidArnException");
    assert_eq!(code(kms.disable_key(arn)), "InvalidArnException");
}

#[test]
fn enable_and_disable_of_a_key_pending_deletion_are_invalid_state() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    schedule(&kms, &id, None).unwrap();
    assert_eq!(code(kms.enable_key(&id)), "KMSInvalidStateException");
    assert_eq!(code(kms.disable_key(&id)), "KMSInvalidStateException");
    assert_eq!(state(&kms, &id), KeyState::PendingDeletion);
}

// ---------------------------------------------------- ScheduleKeyDeletion

#[test]
fn schedule_key_deletion_defaults_to_a_30_day_window() {
    let (kms, clock) = kms();
    let id = new_key(&kms);
    let now = kms_keystore::Clock::now(&clock);
    let resp = kms
        .schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: id.clone(),
            pending_window_in_days: None,
        })
        .unwrap();
    assert_eq!(resp.pending_window_in_days, 30);
    assert_eq!(resp.key_state, KeyState::PendingDeletion);
    assert_eq!(resp.deletion_date, Some(now.saturating_add(DAY * 30)));
    assert_eq!(
        resp.key_id,
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}")
    );
}

#[test]
fn schedule_key_deletion_shows_deletion_date_and_window_in_metadata() {
    let (kms, clock) = kms();
    let id = new_key(&kms);
    let now = kms_keystore::Clock::now(&clock);
    schedule(&kms, &id, Some(10)).unwrap();
    let md = kms.describe_key(&id).unwrap().key_metadata;
    assert_eq!(md.key_state, KeyState::PendingDeletion);
    assert!(!md.enabled);
    assert_eq!(md.deletion_date, Some(now.saturating_add(DAY * 10)));
    assert_eq!(md.pending_deletion_window_in_days, Some(10));
}

#[test]
fn schedule_key_deletion_accepts_7_and_30_days() {
    let (kms, _) = kms();
    for days in [7, 30] {
        let id = new_key(&kms);
        let resp = kms
            .schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: id,
                pending_window_in_days: Some(days),
            })
            .unwrap();
        assert_eq!(resp.pending_window_in_days, days);
    }
}

#[test]
fn schedule_key_deletion_rejects_6_and_31_days() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    for days in [0, 6, 31, 365] {
        assert_eq!(
            code(schedule(&kms, &id, Some(days))),
            "ValidationException",
            "{days}"
        );
    }
    assert_eq!(state(&kms, &id), KeyState::Enabled);
}

#[test]
fn schedule_key_deletion_of_a_disabled_key_works() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    kms.disable_key(&id).unwrap();
    schedule(&kms, &id, Some(7)).unwrap();
    assert_eq!(state(&kms, &id), KeyState::PendingDeletion);
}

#[test]
fn schedule_key_deletion_twice_is_invalid_state() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    schedule(&kms, &id, Some(7)).unwrap();
    assert_eq!(
        code(schedule(&kms, &id, Some(8))),
        "KMSInvalidStateException"
    );
    let md = kms.describe_key(&id).unwrap().key_metadata;
    assert_eq!(md.pending_deletion_window_in_days, Some(7));
}

#[test]
fn schedule_key_deletion_of_unknown_key_is_not_found() {
    let (kms, _) = kms();
    let r = schedule(&kms, "1234abcd-12ab-34cd-56ef-1234567890ab", None);
    assert_eq!(code(r), "NotFoundException");
}

// ------------------------------------------------------ CancelKeyDeletion

#[test]
fn cancel_key_deletion_leaves_the_key_disabled() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    schedule(&kms, &id, None).unwrap();
    let resp = kms.cancel_key_deletion(&id).unwrap();
    assert_eq!(
        resp.key_id,
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}")
    );
    let md = kms.describe_key(&id).unwrap().key_metadata;
    assert_eq!(md.key_state, KeyState::Disabled);
    assert!(!md.enabled);
    assert_eq!(md.deletion_date, None);
    assert_eq!(md.pending_deletion_window_in_days, None);
}

#[test]
fn cancel_key_deletion_of_a_key_not_pending_deletion_is_invalid_state() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    assert_eq!(
        code(kms.cancel_key_deletion(&id)),
        "KMSInvalidStateException"
    );
    kms.disable_key(&id).unwrap();
    assert_eq!(
        code(kms.cancel_key_deletion(&id)),
        "KMSInvalidStateException"
    );
}

#[test]
fn cancel_key_deletion_of_unknown_key_is_not_found() {
    let (kms, _) = kms();
    let r = kms.cancel_key_deletion("1234abcd-12ab-34cd-56ef-1234567890ab");
    assert_eq!(code(r), "NotFoundException");
}

#[test]
fn cancelled_key_survives_past_its_old_deletion_date() {
    let (kms, clock) = kms();
    let id = new_key(&kms);
    schedule(&kms, &id, Some(7)).unwrap();
    kms.cancel_key_deletion(&id).unwrap();
    clock.advance(DAY * 8);
    assert_eq!(state(&kms, &id), KeyState::Disabled);
    assert_eq!(list_all(&kms, 10), vec![id]);
}

#[test]
fn rescheduled_key_is_deleted_at_the_new_date_only() {
    let (kms, clock) = kms();
    let id = new_key(&kms);
    schedule(&kms, &id, Some(7)).unwrap();
    kms.cancel_key_deletion(&id).unwrap();
    schedule(&kms, &id, Some(30)).unwrap();
    clock.advance(DAY * 7);
    assert_eq!(state(&kms, &id), KeyState::PendingDeletion);
    clock.advance(DAY * 23);
    assert_eq!(code(kms.describe_key(&id)), "NotFoundException");
}

// ------------------------------------------------- deletion on the clock

#[test]
fn key_still_exists_one_millisecond_before_its_deletion_date() {
    let (kms, clock) = kms();
    let id = new_key(&kms);
    schedule(&kms, &id, Some(7)).unwrap();
    clock.advance(DAY * 7 - Duration::from_millis(1));
    assert_eq!(state(&kms, &id), KeyState::PendingDeletion);
    kms.cancel_key_deletion(&id).unwrap();
    assert_eq!(state(&kms, &id), KeyState::Disabled);
}

#[test]
fn key_is_gone_when_its_window_has_passed() {
    let (kms, clock) = kms();
    let id = new_key(&kms);
    schedule(&kms, &id, Some(7)).unwrap();
    clock.advance(DAY * 7);
    assert_eq!(code(kms.describe_key(&id)), "NotFoundException");
    assert_eq!(code(kms.enable_key(&id)), "NotFoundException");
    assert_eq!(code(kms.disable_key(&id)), "NotFoundException");
    assert_eq!(code(kms.cancel_key_deletion(&id)), "NotFoundException");
    assert_eq!(code(schedule(&kms, &id, None)), "NotFoundException");
}

#[test]
fn deleted_key_disappears_from_list_keys() {
    let (kms, clock) = kms();
    let keep = new_key(&kms);
    let gone = new_key(&kms);
    schedule(&kms, &gone, Some(7)).unwrap();
    clock.advance(DAY * 30);
    assert_eq!(list_all(&kms, 100), vec![keep]);
}

#[test]
fn deleted_key_cannot_be_cancelled_even_if_never_looked_at() {
    let (kms, clock) = kms();
    let id = new_key(&kms);
    schedule(&kms, &id, Some(7)).unwrap();
    clock.advance(DAY * 365);
    assert_eq!(code(kms.cancel_key_deletion(&id)), "NotFoundException");
    assert_eq!(code(kms.describe_key(&id)), "NotFoundException");
}

// ----------------------------------------------------------------- general

#[test]
fn kms_is_clone_send_sync() {
    const fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    const _: () = assert_traits::<Kms>();
    let (kms, _) = kms();
    let other = kms.clone();
    let id = new_key(&other);
    // A clone shares the same keys.
    assert_eq!(
        kms.describe_key(&id)
            .unwrap()
            .key_metadata
            .key_id
            .to_string(),
        id
    );
    let handle = std::thread::spawn(move || new_key(&other));
    let id2 = handle.join().unwrap();
    assert_eq!(state(&kms, &id2), KeyState::Enabled);
}

#[test]
fn error_code_is_the_aws_exception_name() {
    let cases = [
        (ErrorCode::NotFound, "NotFoundException"),
        (ErrorCode::InvalidArn, "InvalidArnException"),
        (ErrorCode::InvalidMarker, "InvalidMarkerException"),
        (ErrorCode::Disabled, "DisabledException"),
        (ErrorCode::KmsInvalidState, "KMSInvalidStateException"),
        (ErrorCode::KmsInternal, "KMSInternalException"),
        (ErrorCode::DryRunOperation, "DryRunOperationException"),
        (ErrorCode::IncorrectKey, "IncorrectKeyException"),
        (ErrorCode::InvalidCiphertext, "InvalidCiphertextException"),
        (ErrorCode::InvalidKeyUsage, "InvalidKeyUsageException"),
        (
            ErrorCode::UnsupportedOperation,
            "UnsupportedOperationException",
        ),
        (ErrorCode::Validation, "ValidationException"),
        (ErrorCode::Tag, "TagException"),
        (ErrorCode::LimitExceeded, "LimitExceededException"),
        (
            ErrorCode::CustomKeyStoreHasCmks,
            "CustomKeyStoreHasCMKsException",
        ),
        (
            ErrorCode::CustomKeyStoreInvalidState,
            "CustomKeyStoreInvalidStateException",
        ),
    ];
    for (kind, name) in cases {
        let err: Error = kind.with_message("m");
        assert_eq!(err.code(), name);
        assert_eq!(err.kind(), kind);
        assert_eq!(err.to_string(), format!("{name}: m"));
    }
    assert_eq!(ErrorCode::KmsInternal.http_status(), 500);
    assert_eq!(ErrorCode::NotFound.http_status(), 400);
}
