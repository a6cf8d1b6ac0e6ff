//! Key management (aliases, tags, key policies, descriptions) on keys of
//! every origin, and on keys that are Unavailable because their custom key
//! store is disconnected — all through the public API.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kms_keystore::kms::*;
use kms_keystore::store::external::{InMemoryExternalKeyManager, XksCredential, XksProxyUri};
use kms_keystore::store::{CustomKeyStoreType, XksProxyConnectivityType};
use kms_keystore::{KeyState, Kms, KmsConfig, ManualClock, OriginType, Result, Tag};

const ORIGINS: [OriginType; 3] = [
    OriginType::AwsKms,
    OriginType::AwsCloudHsm,
    OriginType::ExternalKeyStore,
];

const ACCESS_KEY_ID: &str = "ABCDEFGHIJKLMNOPQRST";

fn kms() -> Kms {
    Kms::new(
        KmsConfig::default()
            .with_clock(ManualClock::default())
            .with_seed(11),
    )
}

/// A CONNECTED store of the kind `origin` needs; returns its id.
fn add_store(kms: &Kms, origin: OriginType) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let req = match origin {
        OriginType::AwsCloudHsm => {
            let (cluster, trust_anchor) = kms
                .cloudhsm()
                .provision_ready_cluster(&["us-west-2a", "us-west-2b"], "kmsPswd")
                .unwrap();
            CreateCustomKeyStoreRequest {
                custom_key_store_name: format!("hsm-{n}"),
                cloud_hsm_cluster_id: Some(cluster.to_string()),
                trust_anchor_certificate: Some(trust_anchor),
                key_store_password: Some("kmsPswd".into()),
                ..Default::default()
            }
        }
        _ => {
            let endpoint = format!("https://xks{n}.example.com");
            let secret = "s".repeat(43);
            let ekm = InMemoryExternalKeyManager::new(
                XksProxyUri::new(&endpoint, "/kms/xks/v1").unwrap(),
                XksCredential::new(ACCESS_KEY_ID, &secret).unwrap(),
                None,
            );
            ekm.add_aes_key("external-key-1").unwrap();
            kms.xks_network().attach(&endpoint, Arc::new(ekm));
            CreateCustomKeyStoreRequest {
                custom_key_store_name: format!("xks-{n}"),
                custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
                xks_proxy_uri_endpoint: Some(endpoint),
                xks_proxy_uri_path: Some("/kms/xks/v1".into()),
                xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
                xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
                    access_key_id: ACCESS_KEY_ID.into(),
                    raw_secret_access_key: secret.into(),
                }),
                ..Default::default()
            }
        }
    };
    let id = kms
        .create_custom_key_store(req)
        .unwrap()
        .custom_key_store_id
        .to_string();
    kms.connect_custom_key_store(&id).unwrap();
    id
}

/// A key of `origin`, Enabled; custom key store keys get their own
/// CONNECTED store. Returns the key id and its store, if any.
fn key_of(kms: &Kms, origin: OriginType) -> (String, Option<String>) {
    if origin == OriginType::AwsKms {
        let key = kms.create_key(CreateKeyRequest::default()).unwrap();
        return (key.key_metadata.key_id.to_string(), None);
    }
    let store = add_store(kms, origin);
    let key = kms
        .create_key(CreateKeyRequest {
            origin: Some(origin),
            custom_key_store_id: Some(store.clone()),
            xks_key_id: (origin == OriginType::ExternalKeyStore).then(|| "external-key-1".into()),
            ..Default::default()
        })
        .unwrap();
    (key.key_metadata.key_id.to_string(), Some(store))
}

fn disconnect(kms: &Kms, store: &str) {
    kms.disconnect_custom_key_store(store).unwrap();
}

fn state_of(kms: &Kms, key: &str) -> KeyState {
    kms.describe_key(key).unwrap().key_metadata.key_state
}

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

#[test]
fn management_works_the_same_for_every_origin() {
    let kms = kms();
    for origin in ORIGINS {
        let (key, _) = key_of(&kms, origin);
        assert_eq!(state_of(&kms, &key), KeyState::Enabled, "{origin}");
        let meta = kms.describe_key(&key).unwrap().key_metadata;
        assert_eq!(meta.origin, origin);
        manage(&kms, &key, &format!("k-{origin}"));
    }
}

#[test]
fn keys_unavailable_in_a_disconnected_store_can_still_be_managed() {
    let kms = kms();
    for origin in [OriginType::AwsCloudHsm, OriginType::ExternalKeyStore] {
        let (key, store) = key_of(&kms, origin);
        let store = store.unwrap();
        disconnect(&kms, &store);
        assert_eq!(state_of(&kms, &key), KeyState::Unavailable, "{origin}");
        // The key-state table lets every management operation run on an
        // Unavailable key.
        manage(&kms, &key, &format!("u-{origin}"));
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
        assert_eq!(err.code(), "KMSInvalidStateException", "{origin}");
        // An alias can also move to an Unavailable key.
        let (other, _) = key_of(&kms, OriginType::AwsKms);
        kms.update_alias(UpdateAliasRequest::new("alias/unavailable", &other))
            .unwrap();
        kms.update_alias(UpdateAliasRequest::new("alias/unavailable", &key))
            .unwrap();
        kms.delete_alias("alias/unavailable").unwrap();
    }
}

#[test]
fn a_key_pending_deletion_in_a_disconnected_store_keeps_the_pending_deletion_rules() {
    let kms = kms();
    for origin in [OriginType::AwsCloudHsm, OriginType::ExternalKeyStore] {
        let (key, store) = key_of(&kms, origin);
        let alias = format!("alias/pending-{origin}");
        kms.create_alias(CreateAliasRequest::new(&alias, &key))
            .unwrap();
        kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key.clone(),
            pending_window_in_days: Some(7),
        })
        .unwrap();
        disconnect(&kms, &store.unwrap());
        assert_eq!(state_of(&kms, &key), KeyState::PendingDeletion);
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
}
