//! Key management (aliases, tags, key policies, descriptions) on keys of
//! every origin, and on keys that are Unavailable because their custom key
//! store is disconnected — all through the public API. The keys come from
//! the shared harness: `aws_kms`, `cloudhsm` and `external_key_store` run
//! the same body; `disconnected_store` runs for the custom key store origins
//! only, the ones whose keys can be Unavailable.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

mod harness;

use kms_keystore::{
    CreateAliasRequest, CreateKeyRequest, EncryptRequest, GetKeyPolicyRequest, KeyState, Kms,
    ListAliasesRequest, ListKeyPoliciesRequest, ListResourceTagsRequest, PutKeyPolicyRequest,
    Result, ScheduleKeyDeletionRequest, Tag, TagResourceRequest, UntagResourceRequest,
    UpdateAliasRequest, UpdateKeyDescriptionRequest, default_key_policy,
};

use harness::Harness;

/// Runs every management operation on `key` and checks each one took effect.
fn manage(kms: &Kms, key: &str, tag: &str) {
    let alias = format!("alias/{tag}");
    kms.create_alias(CreateAliasRequest::new(&alias, key))
        .unwrap();
    assert_eq!(
        kms.describe_key(&alias)
            .unwrap()
            .key_metadata
            .key_id
            .to_string(),
        key
    );
    kms.update_alias(UpdateAliasRequest::new(&alias, key))
        .unwrap();
    let listed = kms
        .list_aliases(ListAliasesRequest {
            key_id: Some(key.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.aliases.len(), 1);

    kms.tag_resource(TagResourceRequest {
        key_id: key.into(),
        tags: vec![Tag::new("team", tag), Tag::new("tier", "1")],
    })
    .unwrap();
    kms.untag_resource(UntagResourceRequest {
        key_id: key.into(),
        tag_keys: vec!["tier".into()],
    })
    .unwrap();
    let tags = kms
        .list_resource_tags(ListResourceTagsRequest {
            key_id: key.into(),
            ..Default::default()
        })
        .unwrap()
        .tags;
    assert_eq!(tags, vec![Tag::new("team", tag)]);

    let policy = default_key_policy(kms.account_id()).replace("key-default-1", tag);
    kms.put_key_policy(PutKeyPolicyRequest::new(key, policy.clone()))
        .unwrap();
    let got = kms
        .get_key_policy(GetKeyPolicyRequest {
            key_id: key.into(),
            policy_name: None,
        })
        .unwrap();
    assert_eq!(got.policy, policy);
    assert_eq!(
        kms.list_key_policies(ListKeyPoliciesRequest {
            key_id: key.into(),
            ..Default::default()
        })
        .unwrap()
        .policy_names,
        vec!["default"]
    );

    kms.update_key_description(UpdateKeyDescriptionRequest::new(key, tag))
        .unwrap();
    assert_eq!(
        kms.describe_key(&alias).unwrap().key_metadata.description,
        tag
    );

    kms.delete_alias(&alias).unwrap();
    assert_eq!(
        kms.describe_key(&alias).unwrap_err().code(),
        "NotFoundException"
    );
}

fn every_management_operation_takes_effect(h: &Harness) {
    let key = h.key();
    let meta = h.kms.describe_key(&key).unwrap().key_metadata;
    assert_eq!(meta.origin, h.origin);
    assert_eq!(
        meta.custom_key_store_id.map(|s| s.to_string()).as_deref(),
        h.store()
    );
    manage(&h.kms, &key, &format!("k-{}", h.origin));
}

harness::management_tests!(every_management_operation_takes_effect);

/// Keys whose custom key store is DISCONNECTED: Unavailable, or still
/// PendingDeletion.
mod disconnected_store {
    use super::*;

    fn keys_unavailable_in_a_disconnected_store_can_still_be_managed(h: &Harness) {
        let kms = &h.kms;
        let key = h.key();
        h.disconnect();
        assert_eq!(h.key_state(&key), KeyState::Unavailable);
        // The key-state table lets every management operation run on an
        // Unavailable key.
        manage(kms, &key, &format!("u-{}", h.origin));
        // ... while cryptographic operations, also through an alias, fail.
        kms.create_alias(CreateAliasRequest::new("alias/unavailable", &key))
            .unwrap();
        let err = kms
            .encrypt(EncryptRequest {
                key_id: "alias/unavailable".into(),
                plaintext: "x".into(),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err.code(), "KMSInvalidStateException");
        // An alias can also move to an Unavailable key.
        let other = kms
            .create_key(CreateKeyRequest::default())
            .unwrap()
            .key_metadata
            .key_id
            .to_string();
        kms.update_alias(UpdateAliasRequest::new("alias/unavailable", &other))
            .unwrap();
        kms.update_alias(UpdateAliasRequest::new("alias/unavailable", &key))
            .unwrap();
        kms.delete_alias("alias/unavailable").unwrap();
        // Reconnected, the key is usable again.
        h.connect();
        assert_eq!(h.key_state(&key), KeyState::Enabled);
        kms.encrypt(EncryptRequest {
            key_id: key.clone(),
            plaintext: "x".into(),
            ..Default::default()
        })
        .unwrap();
    }

    fn a_key_pending_deletion_in_a_disconnected_store_keeps_the_pending_deletion_rules(
        h: &Harness,
    ) {
        let kms = &h.kms;
        let key = h.key();
        let alias = format!("alias/pending-{}", h.origin);
        kms.create_alias(CreateAliasRequest::new(&alias, &key))
            .unwrap();
        kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key.clone(),
            pending_window_in_days: Some(7),
        })
        .unwrap();
        h.disconnect();
        assert_eq!(h.key_state(&key), KeyState::PendingDeletion);
        let code = |r: Result<()>| r.unwrap_err().code();
        assert_eq!(
            code(kms.tag_resource(TagResourceRequest {
                key_id: key.clone(),
                tags: vec![Tag::new("a", "b")],
            })),
            "KMSInvalidStateException"
        );
        assert_eq!(
            code(kms.create_alias(CreateAliasRequest::new("alias/late", &key))),
            "KMSInvalidStateException"
        );
        assert_eq!(
            code(kms.update_key_description(UpdateKeyDescriptionRequest::new(&key, "d"))),
            "KMSInvalidStateException"
        );
        // Policies and the existing alias can still be managed.
        kms.put_key_policy(PutKeyPolicyRequest::new(
            &key,
            default_key_policy(kms.account_id()),
        ))
        .unwrap();
        kms.delete_alias(&alias).unwrap();
    }

    harness::custom_key_store_tests!(
        keys_unavailable_in_a_disconnected_store_can_still_be_managed,
        a_key_pending_deletion_in_a_disconnected_store_keeps_the_pending_deletion_rules,
    );
}
