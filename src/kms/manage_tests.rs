//! Key management (aliases, tags, key policies, descriptions) on keys of
//! every origin, and on keys that are Unavailable because their custom key
//! store is disconnected.
//!
//! CloudHSM and external key store keys cannot be created through the
//! public API yet, so these crate-internal tests put such keys (and a
//! CONNECTED store for them) straight into the tables. Once CreateKey makes
//! them, the same scenarios belong in the integration tests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::stores::{CloudHsmStore, StoreBackend, StoreEntry, XksStore};
use super::*;
use crate::clock::ManualClock;
use crate::crypto::KeyMaterial;
use crate::ids::{ClusterId, XksKeyId};
use crate::key::{KeyLifecycle, KeyState, OriginType, Tag};
use crate::store::{ConnectionState, XksProxyConnectivityType};

const ORIGINS: [OriginType; 3] = [
    OriginType::AwsKms,
    OriginType::AwsCloudHsm,
    OriginType::ExternalKeyStore,
];

fn kms() -> Kms {
    Kms::new(
        KmsConfig::default()
            .with_clock(ManualClock::default())
            .with_seed(11),
    )
}

/// Adds a CONNECTED store of the kind `origin` needs; returns its id.
fn add_store(kms: &Kms, origin: OriginType) -> CustomKeyStoreId {
    let id = CustomKeyStoreId::from_random_bytes(kms.inner.rng.array());
    let backend = match origin {
        OriginType::AwsCloudHsm => StoreBackend::CloudHsm(CloudHsmStore {
            cluster_id: ClusterId::from_random_bytes([7; 11]),
            trust_anchor_certificate: "customerCA".into(),
            key_store_password: crate::store::cloudhsm::CuPassword::new("kmsPswd"),
            cluster_certificate: "cluster certificate".into(),
        }),
        _ => StoreBackend::External(XksStore {
            uri_endpoint: "https://xks.example.com".into(),
            uri_path: "/kms/xks/v1".into(),
            connectivity: XksProxyConnectivityType::PublicEndpoint,
            vpc_endpoint_service_name: None,
            vpc_endpoint_service_owner: None,
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY0000".into(),
        }),
    };
    kms.inner.stores.write().stores.push(StoreEntry {
        id: id.clone(),
        name: format!("store-{id}"),
        creation_date: kms.now(),
        state: ConnectionState::Connected,
        transition_due: None,
        backend,
        bucket: None::<Mutex<_>>,
    });
    id
}

fn set_store_state(kms: &Kms, id: &CustomKeyStoreId, state: ConnectionState) {
    if let Some(s) = kms.inner.stores.write().get_mut(id.as_str()) {
        s.state = state;
    }
}

/// A key of `origin`, Enabled; custom key store keys get their own
/// CONNECTED store. Returns the key id and its store, if any.
fn key_of(kms: &Kms, origin: OriginType) -> (String, Option<CustomKeyStoreId>) {
    if origin == OriginType::AwsKms {
        let key = kms.create_key(CreateKeyRequest::default()).unwrap();
        return (key.key_metadata.key_id.to_string(), None);
    }
    let store = add_store(kms, origin);
    let inner = &kms.inner;
    let id = inner.new_key_id();
    let (backing, material) = match origin {
        OriginType::AwsCloudHsm => (
            Backing::CloudHsm {
                store: store.clone(),
            },
            None,
        ),
        _ => (
            Backing::External {
                store: store.clone(),
                xks_key_id: "external-key-1".parse::<XksKeyId>().unwrap(),
            },
            Some(KeyMaterial::from_bytes(inner.rng.array())),
        ),
    };
    let entry = Arc::new(KeyEntry {
        id,
        arn: inner.key_arn(&id),
        creation_date: inner.clock.now(),
        backing,
        cipher: material.as_ref().map(crate::crypto::Cipher::new),
        material,
        state: RwLock::new(KeyMutable {
            lifecycle: KeyLifecycle::Enabled,
            description: String::new(),
            tags: Vec::new(),
            policy: None,
        }),
    });
    inner.keys.write().insert(entry);
    (id.to_string(), Some(store))
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
        set_store_state(&kms, &store, ConnectionState::Disconnected);
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
        set_store_state(&kms, &store.unwrap(), ConnectionState::Disconnected);
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
