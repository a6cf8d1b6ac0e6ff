//! Failure atomicity: a failed call changes nothing. For every operation and
//! each error it can return, a row gives a setup, the failing call and the
//! expected exception; the observable state — DescribeKey of every key,
//! DescribeCustomKeyStores, ListAliases, ListResourceTags and GetKeyPolicy of
//! every key, ListGrants of every key, the cluster view (`describe_clusters(None)` and each cluster's
//! key labels) — is snapshotted as JSON before and after the call and must be
//! identical.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kms_keystore::{
    CreateAliasRequest, CreateCustomKeyStoreRequest, CreateGrantRequest, CreateKeyRequest,
    DataKeyPairSpec, DataKeySpec, DecryptRequest, DescribeCustomKeyStoresRequest,
    EnableKeyRotationRequest, EncryptRequest, EncryptionAlgorithmSpec, GenerateDataKeyPairRequest,
    GenerateDataKeyRequest, GenerateRandomRequest, GetKeyPolicyRequest, GrantOperation, KeySpec,
    ListAliasesRequest, ListGrantsRequest, ListKeysRequest, ListResourceTagsRequest,
    PutKeyPolicyRequest, ReEncryptRequest, RetireGrantRequest, RevokeGrantRequest,
    ScheduleKeyDeletionRequest, SecretString, TagResourceRequest, UntagResourceRequest,
    UpdateAliasRequest, UpdateCustomKeyStoreRequest, UpdateKeyDescriptionRequest,
};
use std::sync::Arc;

use kms_keystore::cloudhsm::{ClusterState, HsmState, KMS_USER};
use kms_keystore::xks::{EkmHealthStatus, InMemoryExternalKeyManager, XksCredential, XksProxyUri};
use kms_keystore::{
    ClusterId, CustomKeyStoreType, EncryptionContext, Kms, KmsConfig, ManualClock, OriginType,
    Quotas, Tag, XksProxyAuthenticationCredential, XksProxyConnectivityType,
};
use serde_json::{Value, json};

const PASSWORD: &str = "kmsPswd";
const AZS: [&str; 2] = ["us-west-2a", "us-west-2b"];
const NO_SUCH_KEY: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
const NO_SUCH_STORE: &str = "cks-1234567890abcdef0";
const NO_SUCH_CLUSTER: &str = "cluster-zzzzzzzzzzz";
/// Keys per Kms in the `Full` base (its key quota).
const FULL_KEYS: usize = 9;

/// A Kms holding a bit of everything.
struct Env {
    kms: Kms,
    /// AWS_KMS keys: Enabled (alias/app, a tag, a policy), Enabled with two
    /// aliases (the per-key quota), Disabled, PendingDeletion (alias/pending).
    aws: String,
    aws2: String,
    disabled: String,
    pending: String,
    /// A CloudHSM key in the CONNECTED store `store1` (cluster 0).
    hsm: String,
    /// A CloudHSM key in the DISCONNECTED store `store2` (cluster 1): Unavailable.
    hsm2: String,
    store1: String,
    store2: String,
    /// A FAILED store (INVALID_CREDENTIALS) on cluster 2.
    store3: String,
    /// Clusters 0-2 back the stores; cluster 3 is spare; each with its
    /// trust anchor.
    clusters: Vec<(ClusterId, String)>,
    /// Ciphertexts under `aws` (with `ctx()`) and `hsm`.
    blob: Vec<u8>,
    hsm_blob: Vec<u8>,
    /// The XKS proxy at `XKS_ENDPOINT`, with external keys `ext-a` (backs
    /// `xks`), `ext-b` and `ext-off` (DISABLED).
    proxy: InMemoryExternalKeyManager,
    /// A CONNECTED external key store (`xks-one`) and its key.
    xks_store: String,
    xks: String,
    /// A FAILED external key store at `XKS_ENDPOINT_2` (nothing answers there).
    xks_failed: String,
    /// A ciphertext under `xks`.
    xks_blob: Vec<u8>,
    /// The one grant on `aws` (the per-key grant quota is 1): grantee bob,
    /// retiring principal alice; its id and token.
    grant_id: String,
    grant_token: String,
}

const BOB: &str = "arn:aws:iam::111122223333:user/bob";
const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

fn grant_req(key: &str) -> CreateGrantRequest {
    CreateGrantRequest {
        key_id: key.to_owned(),
        grantee_principal: BOB.into(),
        operations: vec![GrantOperation::Encrypt],
        ..Default::default()
    }
}

const XKS_ENDPOINT: &str = "https://xks.atomicity.example.com";
const XKS_ENDPOINT_2: &str = "https://xks2.atomicity.example.com";
const XKS_ENDPOINT_3: &str = "https://xks3.atomicity.example.com";
const XKS_PATH: &str = "/kms/xks/v1";
const XKS_ID: &str = "AKIAATOMICITYXKSTEST";
const XKS_SECRET: &str = "atomicitySecretAccessKey0123456789ABCDEFGHIJ";

fn xks_credential(secret: &str) -> XksProxyAuthenticationCredential {
    XksProxyAuthenticationCredential {
        access_key_id: XKS_ID.into(),
        raw_secret_access_key: SecretString::from(secret),
    }
}

fn xks_store_request(name: &str, endpoint: &str) -> CreateCustomKeyStoreRequest {
    CreateCustomKeyStoreRequest {
        custom_key_store_name: name.into(),
        custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
        xks_proxy_uri_endpoint: Some(endpoint.into()),
        xks_proxy_uri_path: Some(XKS_PATH.into()),
        xks_proxy_authentication_credential: Some(xks_credential(XKS_SECRET)),
        xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
        ..Default::default()
    }
}

fn xks_proxy(kms: &Kms, endpoint: &str) -> InMemoryExternalKeyManager {
    let proxy = InMemoryExternalKeyManager::new(
        XksProxyUri::new(endpoint, XKS_PATH).unwrap(),
        XksCredential::new(XKS_ID, XKS_SECRET).unwrap(),
        Some(0xa71),
    );
    kms.xks_network().attach(endpoint, Arc::new(proxy.clone()));
    proxy
}

fn xks_key_req(store: &str, ext: &str) -> CreateKeyRequest {
    CreateKeyRequest {
        origin: Some(OriginType::ExternalKeyStore),
        custom_key_store_id: Some(store.to_owned()),
        xks_key_id: Some(ext.to_owned()),
        ..Default::default()
    }
}

fn ctx() -> EncryptionContext {
    [("purpose".to_owned(), "atomicity".to_owned())]
        .into_iter()
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Base {
    /// The environment as described on [`Env`].
    Standard,
    /// The same with the key quota reached.
    Full,
}

fn store_request(
    name: &str,
    cluster: &(ClusterId, String),
    pw: &str,
) -> CreateCustomKeyStoreRequest {
    CreateCustomKeyStoreRequest {
        custom_key_store_name: name.into(),
        cloud_hsm_cluster_id: Some(cluster.0.to_string()),
        trust_anchor_certificate: Some(cluster.1.clone()),
        key_store_password: Some(SecretString::from(pw)),
        ..Default::default()
    }
}

fn env(base: Base) -> Env {
    let mut quotas = Quotas::default();
    quotas.aliases_per_key = 2;
    quotas.grants_per_key = 1;
    quotas.custom_key_store_requests_per_second = None;
    if base == Base::Full {
        quotas.max_keys = FULL_KEYS;
    }
    let kms = Kms::new(
        KmsConfig::default()
            .with_clock(ManualClock::default())
            .with_seed(0xa70)
            .with_quotas(quotas),
    );
    let key = |req: CreateKeyRequest| kms.create_key(req).unwrap().key_metadata.key_id.to_string();
    let aws = key(CreateKeyRequest {
        description: Some("the app key".into()),
        tags: vec![Tag {
            tag_key: "team".into(),
            tag_value: "payments".into(),
        }],
        ..Default::default()
    });
    let aws2 = key(CreateKeyRequest::default());
    let disabled = key(CreateKeyRequest::default());
    kms.disable_key(&disabled).unwrap();
    let pending = key(CreateKeyRequest::default());
    kms.create_alias(CreateAliasRequest::new("alias/app", aws.clone()))
        .unwrap();
    kms.create_alias(CreateAliasRequest::new("alias/two-a", aws2.clone()))
        .unwrap();
    kms.create_alias(CreateAliasRequest::new("alias/two-b", aws2.clone()))
        .unwrap();
    kms.create_alias(CreateAliasRequest::new("alias/pending", pending.clone()))
        .unwrap();
    let granted = kms
        .create_grant(CreateGrantRequest {
            retiring_principal: Some(ALICE.into()),
            ..grant_req(&aws)
        })
        .unwrap();
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: pending.clone(),
        pending_window_in_days: Some(30),
    })
    .unwrap();

    let clusters: Vec<(ClusterId, String)> = (0..4)
        .map(|_| {
            kms.cloudhsm()
                .provision_ready_cluster(&AZS, PASSWORD)
                .unwrap()
        })
        .collect();
    let store = |name: &str, c: usize, pw: &str| {
        kms.create_custom_key_store(store_request(name, &clusters[c], pw))
            .unwrap()
            .custom_key_store_id
            .to_string()
    };
    let store1 = store("store-one", 0, PASSWORD);
    let store2 = store("store-two", 1, PASSWORD);
    let store3 = store("store-three", 2, "WrongPswd");
    kms.connect_custom_key_store(&store1).unwrap();
    kms.connect_custom_key_store(&store2).unwrap();
    kms.connect_custom_key_store(&store3).unwrap();
    let hsm_key = |store: &str| {
        key(CreateKeyRequest {
            origin: Some(OriginType::AwsCloudHsm),
            custom_key_store_id: Some(store.to_owned()),
            ..Default::default()
        })
    };
    let hsm = hsm_key(&store1);
    let hsm2 = hsm_key(&store2);
    kms.disconnect_custom_key_store(&store2).unwrap();
    let encrypt = |k: &str| {
        kms.encrypt(EncryptRequest {
            key_id: k.to_owned(),
            plaintext: "atomic".into(),
            encryption_context: ctx(),
            ..Default::default()
        })
        .unwrap()
        .ciphertext_blob
    };
    let blob = encrypt(&aws);
    let hsm_blob = encrypt(&hsm);

    let proxy = xks_proxy(&kms, XKS_ENDPOINT);
    proxy.add_aes_key("ext-a").unwrap();
    proxy.add_aes_key("ext-b").unwrap();
    let off = proxy.add_aes_key("ext-off").unwrap();
    proxy.disable_key(&off).unwrap();
    let xks_store = kms
        .create_custom_key_store(xks_store_request("xks-one", XKS_ENDPOINT))
        .unwrap()
        .custom_key_store_id
        .to_string();
    kms.connect_custom_key_store(&xks_store).unwrap();
    let xks = key(xks_key_req(&xks_store, "ext-a"));
    let xks_blob = encrypt(&xks);
    // A store whose proxy answered at creation but is gone at connect.
    xks_proxy(&kms, XKS_ENDPOINT_2);
    let xks_failed = kms
        .create_custom_key_store(xks_store_request("xks-two", XKS_ENDPOINT_2))
        .unwrap()
        .custom_key_store_id
        .to_string();
    kms.xks_network().detach(XKS_ENDPOINT_2);
    kms.connect_custom_key_store(&xks_failed).unwrap();
    if base == Base::Full {
        while kms
            .list_keys(ListKeysRequest::default())
            .unwrap()
            .keys
            .len()
            < FULL_KEYS
        {
            key(CreateKeyRequest::default());
        }
    }
    Env {
        kms,
        aws,
        aws2,
        disabled,
        pending,
        hsm,
        hsm2,
        store1,
        store2,
        store3,
        clusters,
        blob,
        hsm_blob,
        proxy,
        xks_store,
        xks,
        xks_failed,
        xks_blob,
        grant_id: granted.grant_id,
        grant_token: granted.grant_token,
    }
}

/// Everything a caller can observe, as JSON.
fn snapshot(e: &Env) -> Value {
    let kms = &e.kms;
    let keys = kms
        .list_keys(ListKeysRequest {
            limit: Some(1000),
            ..Default::default()
        })
        .unwrap()
        .keys;
    let per_key: Vec<Value> = keys
        .iter()
        .map(|k| {
            let id = k.key_id.to_string();
            json!({
                "DescribeKey": kms.describe_key(&id).unwrap(),
                "Tags": kms.list_resource_tags(ListResourceTagsRequest {
                    key_id: id.clone(),
                    ..Default::default()
                }).unwrap(),
                "Policy": kms.get_key_policy(GetKeyPolicyRequest {
                    key_id: id.clone(),
                    ..Default::default()
                }).unwrap().policy,
                "Grants": kms.list_grants(ListGrantsRequest {
                    key_id: id.clone(),
                    limit: Some(100),
                    ..Default::default()
                }).unwrap(),
            })
        })
        .collect();
    let clusters = kms.cloudhsm().describe_clusters(None);
    let labels: Vec<Value> = clusters
        .clusters
        .iter()
        .map(|c| json!(kms.cloudhsm().key_labels(&c.cluster_id).unwrap()))
        .collect();
    json!({
        "Keys": per_key,
        "CustomKeyStores": kms
            .describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
            .unwrap(),
        "Aliases": kms.list_aliases(ListAliasesRequest { limit: Some(100), ..Default::default() }).unwrap(),
        "Clusters": clusters,
        "KeyLabels": labels,
        "ExternalKeys": e.proxy.key_ids().iter().map(|k| k.to_string()).collect::<Vec<_>>(),
    })
}

type Call = fn(&Env) -> kms_keystore::Result<()>;
type Setup = fn(&Env);

/// One row: the operation, what makes it fail, the base and extra setup, the
/// failing call, and the exception.
struct Row {
    op: &'static str,
    case: &'static str,
    base: Base,
    setup: Setup,
    call: Call,
    code: &'static str,
}

fn none(_: &Env) {}

macro_rules! row {
    ($op:literal, $case:literal, $code:literal, $call:expr) => {
        row!($op, $case, $code, Base::Standard, none, $call)
    };
    ($op:literal, $case:literal, $code:literal, setup $setup:expr, $call:expr) => {
        row!($op, $case, $code, Base::Standard, $setup, $call)
    };
    ($op:literal, $case:literal, $code:literal, $base:expr, $setup:expr, $call:expr) => {
        Row {
            op: $op,
            case: $case,
            base: $base,
            setup: $setup,
            call: $call,
            code: $code,
        }
    };
}

fn hsm_key_req(store: &str) -> CreateKeyRequest {
    CreateKeyRequest {
        origin: Some(OriginType::AwsCloudHsm),
        custom_key_store_id: Some(store.to_owned()),
        ..Default::default()
    }
}

fn enc(key: &str) -> EncryptRequest {
    EncryptRequest {
        key_id: key.to_owned(),
        plaintext: "x".into(),
        ..Default::default()
    }
}

fn dec(blob: &[u8]) -> DecryptRequest {
    DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        encryption_context: ctx(),
        ..Default::default()
    }
}

fn reenc(blob: &[u8], dest: &str) -> ReEncryptRequest {
    ReEncryptRequest {
        ciphertext_blob: blob.to_vec(),
        source_encryption_context: ctx(),
        destination_key_id: dest.to_owned(),
        ..Default::default()
    }
}

fn gdk(key: &str) -> GenerateDataKeyRequest {
    GenerateDataKeyRequest {
        key_id: key.to_owned(),
        key_spec: Some(DataKeySpec::Aes256),
        ..Default::default()
    }
}

fn upd(store: &str) -> UpdateCustomKeyStoreRequest {
    UpdateCustomKeyStoreRequest {
        custom_key_store_id: store.to_owned(),
        ..Default::default()
    }
}

fn tag(k: &str, v: &str) -> Tag {
    Tag {
        tag_key: k.into(),
        tag_value: v.into(),
    }
}

/// The account's IAM user `stranger`, whom no policy allows anything.
fn stranger(e: &Env) -> Kms {
    e.kms.as_caller(&kms_keystore::Principal::user(
        "111122223333".parse().unwrap(),
        "stranger",
    ))
}

fn cluster(e: &Env, i: usize) -> &ClusterId {
    &e.clusters[i].0
}

fn rows() -> Vec<Row> {
    vec![
        // ----- CreateKey
        row!(
            "CreateKey",
            "description too long",
            "ValidationException",
            |e| e
                .kms
                .create_key(CreateKeyRequest::with_description("d".repeat(8193)))
                .map(drop)
        ),
        row!(
            "CreateKey",
            "SM2 key spec",
            "UnsupportedOperationException",
            |e| e
                .kms
                .create_key(CreateKeyRequest {
                    key_spec: Some(KeySpec::Sm2),
                    key_usage: Some(kms_keystore::KeyUsage::SignVerify),
                    ..Default::default()
                })
                .map(drop)
        ),
        row!("CreateKey", "reserved tag prefix", "TagException", |e| e
            .kms
            .create_key(CreateKeyRequest {
                tags: vec![tag("ok", "1"), tag("aws:x", "2")],
                ..Default::default()
            })
            .map(drop)),
        row!(
            "CreateKey",
            "policy not JSON",
            "MalformedPolicyDocumentException",
            |e| e
                .kms
                .create_key(CreateKeyRequest {
                    policy: Some("{not json".into()),
                    ..Default::default()
                })
                .map(drop)
        ),
        row!(
            "CreateKey",
            "policy over 32 KB",
            "LimitExceededException",
            |e| e
                .kms
                .create_key(CreateKeyRequest {
                    policy: Some(format!("{{\"x\":\"{}\"}}", "a".repeat(40_000))),
                    ..Default::default()
                })
                .map(drop)
        ),
        row!(
            "CreateKey",
            "key quota reached",
            "LimitExceededException",
            Base::Full,
            none,
            |e| e.kms.create_key(CreateKeyRequest::default()).map(drop)
        ),
        row!(
            "CreateKey",
            "unknown store",
            "CustomKeyStoreNotFoundException",
            |e| e.kms.create_key(hsm_key_req(NO_SUCH_STORE)).map(drop)
        ),
        row!(
            "CreateKey",
            "store disconnected",
            "CustomKeyStoreInvalidStateException",
            |e| e.kms.create_key(hsm_key_req(&e.store2)).map(drop)
        ),
        row!(
            "CreateKey",
            "store failed",
            "CustomKeyStoreInvalidStateException",
            |e| e.kms.create_key(hsm_key_req(&e.store3)).map(drop)
        ),
        row!(
            "CreateKey",
            "one HSM degraded",
            "CloudHsmClusterInvalidConfigurationException",
            setup | e | {
                let d = e
                    .kms
                    .cloudhsm()
                    .describe_clusters(Some(&[cluster(e, 0).clone()]));
                let h = d.clusters[0].hsms[0].hsm_id.clone();
                e.kms
                    .cloudhsm()
                    .set_hsm_state(cluster(e, 0), &h, HsmState::Degraded)
                    .unwrap();
            },
            |e| e.kms.create_key(hsm_key_req(&e.store1)).map(drop)
        ),
        row!(
            "CreateKey",
            "kmsuser password changed",
            "KMSInvalidStateException",
            setup
                | e
                | e.kms
                    .cloudhsm()
                    .change_password(cluster(e, 0), KMS_USER, "NewPswd1")
                    .unwrap(),
            |e| e.kms.create_key(hsm_key_req(&e.store1)).map(drop)
        ),
        row!(
            "CreateKey",
            "cluster unreachable",
            "KMSInvalidStateException",
            setup
                | e
                | e.kms
                    .cloudhsm()
                    .set_network_reachable(cluster(e, 0), false)
                    .unwrap(),
            |e| e.kms.create_key(hsm_key_req(&e.store1)).map(drop)
        ),
        row!(
            "CreateKey",
            "cluster internal error",
            "KMSInternalException",
            setup
                | e
                | e.kms
                    .cloudhsm()
                    .set_internal_error(cluster(e, 0), true)
                    .unwrap(),
            |e| e.kms.create_key(hsm_key_req(&e.store1)).map(drop)
        ),
        row!(
            "CreateKey",
            "XksKeyId without EXTERNAL_KEY_STORE",
            "ValidationException",
            |e| e
                .kms
                .create_key(CreateKeyRequest {
                    xks_key_id: Some("ext-1".into()),
                    ..Default::default()
                })
                .map(drop)
        ),
        // ----- DescribeKey
        row!("DescribeKey", "unknown key", "NotFoundException", |e| e
            .kms
            .describe_key(NO_SUCH_KEY)
            .map(drop)),
        row!("DescribeKey", "malformed ARN", "InvalidArnException", |e| e
            .kms
            .describe_key("arn:aws:kms:us-west-2:111122223333:bucket/x")
            .map(drop)),
        // ----- EnableKey / DisableKey
        row!("EnableKey", "unknown key", "NotFoundException", |e| e
            .kms
            .enable_key(NO_SUCH_KEY)),
        row!(
            "EnableKey",
            "pending deletion",
            "KMSInvalidStateException",
            |e| e.kms.enable_key(&e.pending)
        ),
        row!("EnableKey", "alias given", "NotFoundException", |e| e
            .kms
            .enable_key("alias/app")),
        row!("DisableKey", "unknown key", "NotFoundException", |e| e
            .kms
            .disable_key(NO_SUCH_KEY)),
        row!(
            "DisableKey",
            "pending deletion",
            "KMSInvalidStateException",
            |e| e.kms.disable_key(&e.pending)
        ),
        // ----- ScheduleKeyDeletion / CancelKeyDeletion
        row!(
            "ScheduleKeyDeletion",
            "window of 6 days",
            "ValidationException",
            |e| e
                .kms
                .schedule_key_deletion(ScheduleKeyDeletionRequest {
                    key_id: e.aws.clone(),
                    pending_window_in_days: Some(6),
                })
                .map(drop)
        ),
        row!(
            "ScheduleKeyDeletion",
            "unknown key",
            "NotFoundException",
            |e| e
                .kms
                .schedule_key_deletion(ScheduleKeyDeletionRequest {
                    key_id: NO_SUCH_KEY.into(),
                    pending_window_in_days: None,
                })
                .map(drop)
        ),
        row!(
            "ScheduleKeyDeletion",
            "already pending",
            "KMSInvalidStateException",
            |e| e
                .kms
                .schedule_key_deletion(ScheduleKeyDeletionRequest {
                    key_id: e.pending.clone(),
                    pending_window_in_days: Some(7),
                })
                .map(drop)
        ),
        row!(
            "CancelKeyDeletion",
            "unknown key",
            "NotFoundException",
            |e| e.kms.cancel_key_deletion(NO_SUCH_KEY).map(drop)
        ),
        row!(
            "CancelKeyDeletion",
            "not pending",
            "KMSInvalidStateException",
            |e| e.kms.cancel_key_deletion(&e.aws).map(drop)
        ),
        row!(
            "CancelKeyDeletion",
            "unavailable key not pending",
            "KMSInvalidStateException",
            |e| e.kms.cancel_key_deletion(&e.hsm2).map(drop)
        ),
        // ----- Encrypt
        row!("Encrypt", "empty plaintext", "ValidationException", |e| e
            .kms
            .encrypt(EncryptRequest {
                plaintext: "".into(),
                ..enc(&e.aws)
            })
            .map(drop)),
        row!(
            "Encrypt",
            "4097-byte plaintext",
            "ValidationException",
            |e| e
                .kms
                .encrypt(EncryptRequest {
                    plaintext: vec![1u8; 4097].into(),
                    ..enc(&e.aws)
                })
                .map(drop)
        ),
        row!(
            "Encrypt",
            "eleven grant tokens",
            "ValidationException",
            |e| e
                .kms
                .encrypt(EncryptRequest {
                    grant_tokens: vec!["t".into(); 11],
                    ..enc(&e.aws)
                })
                .map(drop)
        ),
        row!(
            "Encrypt",
            "asymmetric algorithm",
            "InvalidKeyUsageException",
            |e| e
                .kms
                .encrypt(EncryptRequest {
                    encryption_algorithm: Some(EncryptionAlgorithmSpec::RsaesOaepSha256),
                    ..enc(&e.aws)
                })
                .map(drop)
        ),
        row!("Encrypt", "unknown key", "NotFoundException", |e| e
            .kms
            .encrypt(enc(NO_SUCH_KEY))
            .map(drop)),
        row!("Encrypt", "unknown alias", "NotFoundException", |e| e
            .kms
            .encrypt(enc("alias/none"))
            .map(drop)),
        row!("Encrypt", "disabled key", "DisabledException", |e| e
            .kms
            .encrypt(enc(&e.disabled))
            .map(drop)),
        row!(
            "Encrypt",
            "pending deletion",
            "KMSInvalidStateException",
            |e| e.kms.encrypt(enc(&e.pending)).map(drop)
        ),
        row!(
            "Encrypt",
            "unavailable key",
            "KMSInvalidStateException",
            |e| e.kms.encrypt(enc(&e.hsm2)).map(drop)
        ),
        row!(
            "Encrypt",
            "HSM key material deleted",
            "KMSInvalidStateException",
            setup | e | {
                let arn = e.kms.describe_key(&e.hsm).unwrap().key_metadata.arn;
                e.kms
                    .cloudhsm()
                    .delete_key_material(cluster(e, 0), &arn)
                    .unwrap();
            },
            |e| e.kms.encrypt(enc(&e.hsm)).map(drop)
        ),
        row!(
            "Encrypt",
            "cluster internal error",
            "KMSInternalException",
            setup
                | e
                | e.kms
                    .cloudhsm()
                    .set_internal_error(cluster(e, 0), true)
                    .unwrap(),
            |e| e.kms.encrypt(enc(&e.hsm)).map(drop)
        ),
        row!("Encrypt", "dry run", "DryRunOperationException", |e| e
            .kms
            .encrypt(EncryptRequest {
                dry_run: Some(true),
                ..enc(&e.hsm)
            })
            .map(drop)),
        // ----- Decrypt
        row!("Decrypt", "empty blob", "ValidationException", |e| e
            .kms
            .decrypt(dec(&[]))
            .map(drop)),
        row!(
            "Decrypt",
            "tampered blob",
            "InvalidCiphertextException",
            |e| {
                let mut b = e.blob.clone();
                let last = b.len() - 1;
                b[last] ^= 1;
                e.kms.decrypt(dec(&b)).map(drop)
            }
        ),
        row!(
            "Decrypt",
            "wrong context",
            "InvalidCiphertextException",
            |e| e
                .kms
                .decrypt(DecryptRequest {
                    encryption_context: EncryptionContext::new(),
                    ..dec(&e.blob)
                })
                .map(drop)
        ),
        row!(
            "Decrypt",
            "another key named",
            "IncorrectKeyException",
            |e| e
                .kms
                .decrypt(DecryptRequest {
                    key_id: Some(e.aws2.clone()),
                    ..dec(&e.blob)
                })
                .map(drop)
        ),
        row!(
            "Decrypt",
            "key disabled since",
            "DisabledException",
            setup | e | e.kms.disable_key(&e.aws).unwrap(),
            |e| e.kms.decrypt(dec(&e.blob)).map(drop)
        ),
        row!(
            "Decrypt",
            "store disconnected since",
            "KMSInvalidStateException",
            setup | e | e.kms.disconnect_custom_key_store(&e.store1).unwrap(),
            |e| e.kms.decrypt(dec(&e.hsm_blob)).map(drop)
        ),
        row!(
            "Decrypt",
            "cluster unreachable",
            "KMSInvalidStateException",
            setup
                | e
                | e.kms
                    .cloudhsm()
                    .set_network_reachable(cluster(e, 0), false)
                    .unwrap(),
            |e| e.kms.decrypt(dec(&e.hsm_blob)).map(drop)
        ),
        row!("Decrypt", "dry run", "DryRunOperationException", |e| e
            .kms
            .decrypt(DecryptRequest {
                dry_run: Some(true),
                ..dec(&e.blob)
            })
            .map(drop)),
        // ----- ReEncrypt
        row!(
            "ReEncrypt",
            "empty destination",
            "ValidationException",
            |e| e.kms.re_encrypt(reenc(&e.blob, "")).map(drop)
        ),
        row!(
            "ReEncrypt",
            "tampered source",
            "InvalidCiphertextException",
            |e| {
                let mut b = e.blob.clone();
                b[20] ^= 4;
                e.kms.re_encrypt(reenc(&b, &e.aws2)).map(drop)
            }
        ),
        row!(
            "ReEncrypt",
            "unknown destination",
            "NotFoundException",
            |e| e.kms.re_encrypt(reenc(&e.blob, NO_SUCH_KEY)).map(drop)
        ),
        row!(
            "ReEncrypt",
            "disabled destination",
            "DisabledException",
            |e| e.kms.re_encrypt(reenc(&e.blob, &e.disabled)).map(drop)
        ),
        row!(
            "ReEncrypt",
            "unavailable destination",
            "KMSInvalidStateException",
            |e| e.kms.re_encrypt(reenc(&e.blob, &e.hsm2)).map(drop)
        ),
        row!(
            "ReEncrypt",
            "pending destination",
            "KMSInvalidStateException",
            |e| e.kms.re_encrypt(reenc(&e.hsm_blob, &e.pending)).map(drop)
        ),
        row!("ReEncrypt", "dry run", "DryRunOperationException", |e| e
            .kms
            .re_encrypt(ReEncryptRequest {
                dry_run: Some(true),
                ..reenc(&e.blob, &e.hsm)
            })
            .map(drop)),
        // ----- GenerateDataKey*
        row!(
            "GenerateDataKey",
            "both KeySpec and NumberOfBytes",
            "ValidationException",
            |e| e
                .kms
                .generate_data_key(GenerateDataKeyRequest {
                    number_of_bytes: Some(16),
                    ..gdk(&e.aws)
                })
                .map(drop)
        ),
        row!(
            "GenerateDataKey",
            "disabled key",
            "DisabledException",
            |e| e.kms.generate_data_key(gdk(&e.disabled)).map(drop)
        ),
        row!(
            "GenerateDataKey",
            "unavailable key",
            "KMSInvalidStateException",
            |e| e.kms.generate_data_key(gdk(&e.hsm2)).map(drop)
        ),
        row!(
            "GenerateDataKey",
            "dry run",
            "DryRunOperationException",
            |e| e
                .kms
                .generate_data_key(GenerateDataKeyRequest {
                    dry_run: Some(true),
                    ..gdk(&e.hsm)
                })
                .map(drop)
        ),
        row!(
            "GenerateDataKeyWithoutPlaintext",
            "pending deletion",
            "KMSInvalidStateException",
            |e| e
                .kms
                .generate_data_key_without_plaintext(gdk(&e.pending))
                .map(drop)
        ),
        row!(
            "GenerateDataKeyPair",
            "no KeyPairSpec",
            "ValidationException",
            |e| e
                .kms
                .generate_data_key_pair(GenerateDataKeyPairRequest {
                    key_id: e.hsm.clone(),
                    ..Default::default()
                })
                .map(drop)
        ),
        row!(
            "GenerateDataKeyPair",
            "custom key store key",
            "UnsupportedOperationException",
            |e| e
                .kms
                .generate_data_key_pair(GenerateDataKeyPairRequest {
                    key_id: e.hsm.clone(),
                    key_pair_spec: Some(DataKeyPairSpec::EccNistP256),
                    ..Default::default()
                })
                .map(drop)
        ),
        // ----- GenerateRandom
        row!("GenerateRandom", "0 bytes", "ValidationException", |e| e
            .kms
            .generate_random(GenerateRandomRequest {
                number_of_bytes: Some(0),
                custom_key_store_id: None
            })
            .map(drop)),
        row!(
            "GenerateRandom",
            "unknown store",
            "CustomKeyStoreNotFoundException",
            |e| e
                .kms
                .generate_random(GenerateRandomRequest {
                    number_of_bytes: Some(8),
                    custom_key_store_id: Some(NO_SUCH_STORE.into()),
                })
                .map(drop)
        ),
        row!(
            "GenerateRandom",
            "store disconnected",
            "CustomKeyStoreInvalidStateException",
            |e| e
                .kms
                .generate_random(GenerateRandomRequest {
                    number_of_bytes: Some(8),
                    custom_key_store_id: Some(e.store2.clone()),
                })
                .map(drop)
        ),
        row!(
            "GenerateRandom",
            "cluster unreachable",
            "KMSInvalidStateException",
            setup
                | e
                | e.kms
                    .cloudhsm()
                    .set_network_reachable(cluster(e, 0), false)
                    .unwrap(),
            |e| e
                .kms
                .generate_random(GenerateRandomRequest {
                    number_of_bytes: Some(8),
                    custom_key_store_id: Some(e.store1.clone()),
                })
                .map(drop)
        ),
        // ----- Key rotation
        row!(
            "EnableKeyRotation",
            "period of 10 days",
            "ValidationException",
            |e| e.kms.enable_key_rotation(EnableKeyRotationRequest {
                key_id: e.aws.clone(),
                rotation_period_in_days: Some(10)
            })
        ),
        row!(
            "EnableKeyRotation",
            "disabled key",
            "DisabledException",
            |e| e.kms.enable_key_rotation(EnableKeyRotationRequest {
                key_id: e.disabled.clone(),
                rotation_period_in_days: None
            })
        ),
        row!(
            "EnableKeyRotation",
            "custom key store key",
            "UnsupportedOperationException",
            |e| e.kms.enable_key_rotation(EnableKeyRotationRequest {
                key_id: e.hsm.clone(),
                rotation_period_in_days: None
            })
        ),
        row!(
            "DisableKeyRotation",
            "pending deletion",
            "KMSInvalidStateException",
            |e| e.kms.disable_key_rotation(&e.pending)
        ),
        // ----- CreateCustomKeyStore
        row!(
            "CreateCustomKeyStore",
            "empty name",
            "ValidationException",
            |e| e
                .kms
                .create_custom_key_store(store_request("", &e.clusters[3], PASSWORD))
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "name in use",
            "CustomKeyStoreNameInUseException",
            |e| e
                .kms
                .create_custom_key_store(store_request("store-one", &e.clusters[3], PASSWORD))
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "short password",
            "ValidationException",
            |e| e
                .kms
                .create_custom_key_store(store_request("new", &e.clusters[3], "short"))
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "no trust anchor",
            "ValidationException",
            |e| e
                .kms
                .create_custom_key_store(CreateCustomKeyStoreRequest {
                    trust_anchor_certificate: None,
                    ..store_request("new", &e.clusters[3], PASSWORD)
                })
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "unknown cluster",
            "CloudHsmClusterNotFoundException",
            |e| {
                let mut req = store_request("new", &e.clusters[3], PASSWORD);
                req.cloud_hsm_cluster_id = Some(NO_SUCH_CLUSTER.into());
                e.kms.create_custom_key_store(req).map(drop)
            }
        ),
        row!(
            "CreateCustomKeyStore",
            "cluster in use",
            "CloudHsmClusterInUseException",
            |e| e
                .kms
                .create_custom_key_store(store_request("new", &e.clusters[0], PASSWORD))
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "cluster not active",
            "CloudHsmClusterNotActiveException",
            setup
                | e
                | e.kms
                    .cloudhsm()
                    .set_cluster_state(cluster(e, 3), ClusterState::Degraded)
                    .unwrap(),
            |e| e
                .kms
                .create_custom_key_store(store_request("new", &e.clusters[3], PASSWORD))
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "security group broken",
            "CloudHsmClusterInvalidConfigurationException",
            setup
                | e
                | e.kms
                    .cloudhsm()
                    .break_security_group(cluster(e, 3))
                    .unwrap(),
            |e| e
                .kms
                .create_custom_key_store(store_request("new", &e.clusters[3], PASSWORD))
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "wrong trust anchor",
            "IncorrectTrustAnchorException",
            |e| {
                let mut req = store_request("new", &e.clusters[3], PASSWORD);
                req.trust_anchor_certificate = Some(e.clusters[0].1.clone());
                e.kms.create_custom_key_store(req).map(drop)
            }
        ),
        row!(
            "CreateCustomKeyStore",
            "ten stores already",
            "LimitExceededException",
            setup | e | {
                for i in 0..5 {
                    let c = e
                        .kms
                        .cloudhsm()
                        .provision_ready_cluster(&AZS, PASSWORD)
                        .unwrap();
                    e.kms
                        .create_custom_key_store(store_request(
                            &format!("filler-{i}"),
                            &c,
                            PASSWORD,
                        ))
                        .unwrap();
                }
            },
            |e| e
                .kms
                .create_custom_key_store(store_request("eleventh", &e.clusters[3], PASSWORD))
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "XKS field on a CloudHSM store",
            "ValidationException",
            |e| e
                .kms
                .create_custom_key_store(CreateCustomKeyStoreRequest {
                    xks_proxy_uri_path: Some("/kms/xks/v1".into()),
                    ..store_request("new", &e.clusters[3], PASSWORD)
                })
                .map(drop)
        ),
        // ----- DescribeCustomKeyStores
        row!(
            "DescribeCustomKeyStores",
            "unknown id",
            "CustomKeyStoreNotFoundException",
            |e| e
                .kms
                .describe_custom_key_stores(DescribeCustomKeyStoresRequest {
                    custom_key_store_id: Some(NO_SUCH_STORE.into()),
                    ..Default::default()
                })
                .map(drop)
        ),
        row!(
            "DescribeCustomKeyStores",
            "bad marker",
            "InvalidMarkerException",
            |e| e
                .kms
                .describe_custom_key_stores(DescribeCustomKeyStoresRequest {
                    marker: Some("bm90IGEgbWFya2Vy".into()),
                    ..Default::default()
                })
                .map(drop)
        ),
        // ----- ConnectCustomKeyStore
        row!(
            "ConnectCustomKeyStore",
            "unknown store",
            "CustomKeyStoreNotFoundException",
            |e| e.kms.connect_custom_key_store(NO_SUCH_STORE)
        ),
        row!(
            "ConnectCustomKeyStore",
            "store failed",
            "CustomKeyStoreInvalidStateException",
            |e| e.kms.connect_custom_key_store(&e.store3)
        ),
        row!(
            "ConnectCustomKeyStore",
            "cluster not active",
            "CloudHsmClusterNotActiveException",
            setup
                | e
                | e.kms
                    .cloudhsm()
                    .set_cluster_state(cluster(e, 1), ClusterState::Degraded)
                    .unwrap(),
            |e| e.kms.connect_custom_key_store(&e.store2)
        ),
        row!(
            "ConnectCustomKeyStore",
            "security group broken",
            "CloudHsmClusterInvalidConfigurationException",
            setup
                | e
                | e.kms
                    .cloudhsm()
                    .break_security_group(cluster(e, 1))
                    .unwrap(),
            |e| e.kms.connect_custom_key_store(&e.store2)
        ),
        // ----- DisconnectCustomKeyStore
        row!(
            "DisconnectCustomKeyStore",
            "unknown store",
            "CustomKeyStoreNotFoundException",
            |e| e.kms.disconnect_custom_key_store(NO_SUCH_STORE)
        ),
        row!(
            "DisconnectCustomKeyStore",
            "already disconnected",
            "CustomKeyStoreInvalidStateException",
            |e| e.kms.disconnect_custom_key_store(&e.store2)
        ),
        // ----- UpdateCustomKeyStore
        row!(
            "UpdateCustomKeyStore",
            "unknown store",
            "CustomKeyStoreNotFoundException",
            |e| e.kms.update_custom_key_store(upd(NO_SUCH_STORE))
        ),
        row!(
            "UpdateCustomKeyStore",
            "empty name",
            "ValidationException",
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some(String::new()),
                ..upd(&e.store1)
            })
        ),
        row!(
            "UpdateCustomKeyStore",
            "name in use",
            "CustomKeyStoreNameInUseException",
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("store-two".into()),
                ..upd(&e.store1)
            })
        ),
        row!(
            "UpdateCustomKeyStore",
            "password while connected",
            "CustomKeyStoreInvalidStateException",
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("renamed".into()),
                key_store_password: Some(SecretString::from("NewPswd1")),
                ..upd(&e.store1)
            })
        ),
        row!(
            "UpdateCustomKeyStore",
            "name while failed",
            "CustomKeyStoreInvalidStateException",
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("renamed".into()),
                ..upd(&e.store3)
            })
        ),
        row!(
            "UpdateCustomKeyStore",
            "short password, with a new name",
            "ValidationException",
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("renamed".into()),
                key_store_password: Some(SecretString::from("short")),
                ..upd(&e.store2)
            })
        ),
        row!(
            "UpdateCustomKeyStore",
            "unknown cluster, with a new name and password",
            "CloudHsmClusterNotFoundException",
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("renamed".into()),
                key_store_password: Some(SecretString::from("NewPswd1")),
                cloud_hsm_cluster_id: Some(NO_SUCH_CLUSTER.into()),
                ..upd(&e.store2)
            })
        ),
        row!(
            "UpdateCustomKeyStore",
            "unrelated cluster",
            "CloudHsmClusterNotRelatedException",
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("renamed".into()),
                cloud_hsm_cluster_id: Some(cluster(e, 3).to_string()),
                ..upd(&e.store2)
            })
        ),
        row!(
            "UpdateCustomKeyStore",
            "cluster not active",
            "CloudHsmClusterNotActiveException",
            setup
                | e
                | e.kms
                    .cloudhsm()
                    .set_cluster_state(cluster(e, 1), ClusterState::Degraded)
                    .unwrap(),
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                key_store_password: Some(SecretString::from("NewPswd1")),
                cloud_hsm_cluster_id: Some(cluster(e, 1).to_string()),
                ..upd(&e.store2)
            })
        ),
        row!(
            "UpdateCustomKeyStore",
            "XKS field on a CloudHSM store",
            "ValidationException",
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("renamed".into()),
                xks_proxy_uri_path: Some("/kms/xks/v1".into()),
                ..upd(&e.store2)
            })
        ),
        // ----- DeleteCustomKeyStore
        row!(
            "DeleteCustomKeyStore",
            "unknown store",
            "CustomKeyStoreNotFoundException",
            |e| e.kms.delete_custom_key_store(NO_SUCH_STORE)
        ),
        row!(
            "DeleteCustomKeyStore",
            "connected",
            "CustomKeyStoreInvalidStateException",
            |e| e.kms.delete_custom_key_store(&e.store1)
        ),
        row!(
            "DeleteCustomKeyStore",
            "failed",
            "CustomKeyStoreInvalidStateException",
            |e| e.kms.delete_custom_key_store(&e.store3)
        ),
        row!(
            "DeleteCustomKeyStore",
            "holds keys",
            "CustomKeyStoreHasCMKsException",
            |e| e.kms.delete_custom_key_store(&e.store2)
        ),
        row!(
            "DeleteCustomKeyStore",
            "holds a key pending deletion",
            "CustomKeyStoreHasCMKsException",
            setup | e | {
                e.kms
                    .schedule_key_deletion(ScheduleKeyDeletionRequest {
                        key_id: e.hsm2.clone(),
                        pending_window_in_days: Some(7),
                    })
                    .unwrap();
            },
            |e| e.kms.delete_custom_key_store(&e.store2)
        ),
        // ----- Aliases
        row!(
            "CreateAlias",
            "name in use",
            "AlreadyExistsException",
            |e| e
                .kms
                .create_alias(CreateAliasRequest::new("alias/app", e.aws2.clone()))
        ),
        row!(
            "CreateAlias",
            "reserved name",
            "NotAuthorizedException",
            |e| e
                .kms
                .create_alias(CreateAliasRequest::new("alias/aws/s3", e.aws.clone()))
        ),
        row!(
            "CreateAlias",
            "no alias/ prefix",
            "ValidationException",
            |e| e
                .kms
                .create_alias(CreateAliasRequest::new("app", e.aws.clone()))
        ),
        row!("CreateAlias", "unknown key", "NotFoundException", |e| e
            .kms
            .create_alias(CreateAliasRequest::new(
                "alias/new",
                NO_SUCH_KEY
            ))),
        row!(
            "CreateAlias",
            "key pending deletion",
            "KMSInvalidStateException",
            |e| e
                .kms
                .create_alias(CreateAliasRequest::new("alias/new", e.pending.clone()))
        ),
        row!(
            "CreateAlias",
            "key has its two aliases",
            "LimitExceededException",
            |e| e
                .kms
                .create_alias(CreateAliasRequest::new("alias/new", e.aws2.clone()))
        ),
        row!("UpdateAlias", "unknown alias", "NotFoundException", |e| e
            .kms
            .update_alias(UpdateAliasRequest {
                alias_name: "alias/none".into(),
                target_key_id: e.aws.clone()
            })),
        row!("UpdateAlias", "unknown key", "NotFoundException", |e| e
            .kms
            .update_alias(UpdateAliasRequest {
                alias_name: "alias/app".into(),
                target_key_id: NO_SUCH_KEY.into()
            })),
        row!(
            "UpdateAlias",
            "new key pending deletion",
            "KMSInvalidStateException",
            |e| e.kms.update_alias(UpdateAliasRequest {
                alias_name: "alias/app".into(),
                target_key_id: e.pending.clone()
            })
        ),
        row!(
            "UpdateAlias",
            "new key has its two aliases",
            "LimitExceededException",
            |e| e.kms.update_alias(UpdateAliasRequest {
                alias_name: "alias/app".into(),
                target_key_id: e.aws2.clone()
            })
        ),
        row!("DeleteAlias", "unknown alias", "NotFoundException", |e| e
            .kms
            .delete_alias("alias/none")),
        row!(
            "DeleteAlias",
            "reserved name",
            "NotAuthorizedException",
            |e| e.kms.delete_alias("alias/aws/s3")
        ),
        row!("ListAliases", "bad marker", "InvalidMarkerException", |e| e
            .kms
            .list_aliases(ListAliasesRequest {
                marker: Some("!!".into()),
                ..Default::default()
            })
            .map(drop)),
        // ----- Grants
        row!(
            "CreateGrant",
            "an operation not valid for the key",
            "ValidationException",
            |e| e
                .kms
                .create_grant(CreateGrantRequest {
                    operations: vec![GrantOperation::Encrypt, GrantOperation::Sign],
                    ..grant_req(&e.aws2)
                })
                .map(drop)
        ),
        row!(
            "CreateGrant",
            "over the per-key grant quota",
            "LimitExceededException",
            |e| e.kms.create_grant(grant_req(&e.aws)).map(drop)
        ),
        row!("CreateGrant", "disabled key", "DisabledException", |e| e
            .kms
            .create_grant(grant_req(&e.disabled))
            .map(drop)),
        row!(
            "CreateGrant",
            "pending deletion",
            "KMSInvalidStateException",
            |e| e.kms.create_grant(grant_req(&e.pending)).map(drop)
        ),
        row!(
            "CreateGrant",
            "a grant token not issued here",
            "InvalidGrantTokenException",
            |e| e
                .kms
                .create_grant(CreateGrantRequest {
                    grant_tokens: vec!["not-a-token".into()],
                    ..grant_req(&e.aws2)
                })
                .map(drop)
        ),
        row!("CreateGrant", "dry run", "DryRunOperationException", |e| e
            .kms
            .create_grant(CreateGrantRequest {
                dry_run: Some(true),
                ..grant_req(&e.aws2)
            })
            .map(drop)),
        row!(
            "CreateGrant",
            "a key in an unavailable store, over quota",
            "LimitExceededException",
            setup | e | {
                e.kms.create_grant(grant_req(&e.hsm2)).unwrap();
            },
            |e| e.kms.create_grant(grant_req(&e.hsm2)).map(drop)
        ),
        row!("ListGrants", "bad marker", "InvalidMarkerException", |e| e
            .kms
            .list_grants(ListGrantsRequest {
                key_id: e.aws.clone(),
                marker: Some("!!".into()),
                ..Default::default()
            })
            .map(drop)),
        row!(
            "RetireGrant",
            "a caller the grant does not name",
            "AccessDeniedException",
            |e| e
                .kms
                .as_caller(&"arn:aws:iam::111122223333:user/mallory".parse().unwrap())
                .retire_grant(RetireGrantRequest {
                    grant_token: Some(e.grant_token.clone()),
                    ..Default::default()
                })
        ),
        row!("RetireGrant", "dry run", "DryRunOperationException", |e| e
            .kms
            .retire_grant(RetireGrantRequest {
                key_id: Some(e.aws.clone()),
                grant_id: Some(e.grant_id.clone()),
                dry_run: Some(true),
                ..Default::default()
            })),
        row!("RetireGrant", "unknown grant", "NotFoundException", |e| e
            .kms
            .retire_grant(RetireGrantRequest {
                key_id: Some(e.aws2.clone()),
                grant_id: Some(e.grant_id.clone()),
                ..Default::default()
            })),
        row!("RevokeGrant", "unknown grant", "NotFoundException", |e| e
            .kms
            .revoke_grant(RevokeGrantRequest {
                key_id: e.aws2.clone(),
                grant_id: e.grant_id.clone(),
                dry_run: None,
            })),
        row!(
            "RevokeGrant",
            "malformed grant id",
            "InvalidGrantIdException",
            |e| e.kms.revoke_grant(RevokeGrantRequest {
                key_id: e.aws.clone(),
                grant_id: "xyz".into(),
                dry_run: None,
            })
        ),
        row!("RevokeGrant", "dry run", "DryRunOperationException", |e| e
            .kms
            .revoke_grant(RevokeGrantRequest {
                key_id: e.aws.clone(),
                grant_id: e.grant_id.clone(),
                dry_run: Some(true),
            })),
        // ----- Tags
        row!(
            "TagResource",
            "one bad tag among good ones",
            "ValidationException",
            |e| e.kms.tag_resource(TagResourceRequest {
                key_id: e.aws.clone(),
                tags: vec![tag("new", "1"), tag("", "2")]
            })
        ),
        row!("TagResource", "a tag key twice", "TagException", |e| e
            .kms
            .tag_resource(TagResourceRequest {
                key_id: e.aws.clone(),
                tags: vec![tag("new", "1"), tag("new", "2")]
            })),
        row!(
            "TagResource",
            "over 50 tags on the key",
            "LimitExceededException",
            |e| e.kms.tag_resource(TagResourceRequest {
                key_id: e.aws.clone(),
                tags: (0..50).map(|i| tag(&format!("k{i}"), "v")).collect(),
            })
        ),
        row!("TagResource", "unknown key", "NotFoundException", |e| e
            .kms
            .tag_resource(TagResourceRequest {
                key_id: NO_SUCH_KEY.into(),
                tags: vec![tag("a", "b")]
            })),
        row!(
            "TagResource",
            "pending deletion",
            "KMSInvalidStateException",
            |e| e.kms.tag_resource(TagResourceRequest {
                key_id: e.pending.clone(),
                tags: vec![tag("a", "b")]
            })
        ),
        row!("UntagResource", "reserved tag key", "TagException", |e| e
            .kms
            .untag_resource(UntagResourceRequest {
                key_id: e.aws.clone(),
                tag_keys: vec!["team".into(), "aws:x".into()]
            })),
        row!(
            "UntagResource",
            "pending deletion",
            "KMSInvalidStateException",
            |e| e.kms.untag_resource(UntagResourceRequest {
                key_id: e.pending.clone(),
                tag_keys: vec!["team".into()]
            })
        ),
        row!(
            "ListResourceTags",
            "bad marker",
            "InvalidMarkerException",
            |e| e
                .kms
                .list_resource_tags(ListResourceTagsRequest {
                    key_id: e.aws.clone(),
                    marker: Some("!!".into()),
                    ..Default::default()
                })
                .map(drop)
        ),
        // ----- Key policy and description
        row!(
            "PutKeyPolicy",
            "malformed policy",
            "MalformedPolicyDocumentException",
            |e| e.kms.put_key_policy(PutKeyPolicyRequest::new(&e.aws, "[]"))
        ),
        row!(
            "PutKeyPolicy",
            "policy that locks the account out",
            "MalformedPolicyDocumentException",
            |e| {
                e
            .kms
            .put_key_policy(PutKeyPolicyRequest::new(
                &e.aws,
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:Encrypt","Resource":"*"}]}"#,
            ))
            }
        ),
        row!("PutKeyPolicy", "unknown key", "NotFoundException", |e| e
            .kms
            .put_key_policy(PutKeyPolicyRequest::new(NO_SUCH_KEY, "{}"))),
        row!(
            "GetKeyPolicy",
            "another policy name",
            "NotFoundException",
            |e| e
                .kms
                .get_key_policy(GetKeyPolicyRequest {
                    key_id: e.aws.clone(),
                    policy_name: Some("other".into())
                })
                .map(drop)
        ),
        row!(
            "UpdateKeyDescription",
            "too long",
            "ValidationException",
            |e| e.kms.update_key_description(UpdateKeyDescriptionRequest {
                key_id: e.aws.clone(),
                description: "d".repeat(8193)
            })
        ),
        row!(
            "UpdateKeyDescription",
            "pending deletion",
            "KMSInvalidStateException",
            |e| e.kms.update_key_description(UpdateKeyDescriptionRequest {
                key_id: e.pending.clone(),
                description: "x".into()
            })
        ),
        // ----- External key stores
        row!(
            "CreateCustomKeyStore",
            "XKS: name in use",
            "CustomKeyStoreNameInUseException",
            |e| e
                .kms
                .create_custom_key_store(xks_store_request("xks-one", XKS_ENDPOINT_3))
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "XKS: endpoint and path in use",
            "XksProxyUriInUseException",
            |e| e
                .kms
                .create_custom_key_store(xks_store_request("xks-new", XKS_ENDPOINT))
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "XKS: nothing answers",
            "XksProxyUriUnreachableException",
            |e| e
                .kms
                .create_custom_key_store(xks_store_request("xks-new", XKS_ENDPOINT_3))
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "XKS: wrong credential",
            "XksProxyIncorrectAuthenticationCredentialException",
            setup | e | drop(xks_proxy(&e.kms, XKS_ENDPOINT_3)),
            |e| e
                .kms
                .create_custom_key_store(CreateCustomKeyStoreRequest {
                    xks_proxy_authentication_credential: Some(xks_credential(
                        &XKS_SECRET.replace('0', "1")
                    )),
                    ..xks_store_request("xks-new", XKS_ENDPOINT_3)
                })
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "XKS: malformed proxy answer",
            "XksProxyInvalidResponseException",
            setup | e | xks_proxy(&e.kms, XKS_ENDPOINT_3).set_malformed_response(true),
            |e| e
                .kms
                .create_custom_key_store(xks_store_request("xks-new", XKS_ENDPOINT_3))
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "XKS: every key manager unavailable",
            "XksProxyUriUnreachableException",
            setup
                | e
                | xks_proxy(&e.kms, XKS_ENDPOINT_3).set_ekm_health(EkmHealthStatus::Unavailable),
            |e| e
                .kms
                .create_custom_key_store(xks_store_request("xks-new", XKS_ENDPOINT_3))
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "XKS: bad path",
            "ValidationException",
            |e| e
                .kms
                .create_custom_key_store(CreateCustomKeyStoreRequest {
                    xks_proxy_uri_path: Some("/not/the/path".into()),
                    ..xks_store_request("xks-new", XKS_ENDPOINT_3)
                })
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "XKS: password given",
            "ValidationException",
            |e| e
                .kms
                .create_custom_key_store(CreateCustomKeyStoreRequest {
                    key_store_password: Some(SecretString::from(PASSWORD)),
                    ..xks_store_request("xks-new", XKS_ENDPOINT_3)
                })
                .map(drop)
        ),
        row!(
            "CreateCustomKeyStore",
            "XKS: unknown VPC endpoint service",
            "XksProxyVpcEndpointServiceNotFoundException",
            |e| e
                .kms
                .create_custom_key_store(CreateCustomKeyStoreRequest {
                    xks_proxy_connectivity: Some(XksProxyConnectivityType::VpcEndpointService),
                    xks_proxy_vpc_endpoint_service_name: Some(
                        "com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0".into()
                    ),
                    ..xks_store_request("xks-new", XKS_ENDPOINT_3)
                })
                .map(drop)
        ),
        row!(
            "ConnectCustomKeyStore",
            "XKS: store failed",
            "CustomKeyStoreInvalidStateException",
            |e| e.kms.connect_custom_key_store(&e.xks_failed)
        ),
        row!(
            "UpdateCustomKeyStore",
            "XKS: credential the proxy rejects, with a new name",
            "XksProxyIncorrectAuthenticationCredentialException",
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("renamed".into()),
                xks_proxy_authentication_credential: Some(xks_credential(
                    &XKS_SECRET.replace('0', "1")
                )),
                ..upd(&e.xks_store)
            })
        ),
        row!(
            "UpdateCustomKeyStore",
            "XKS: path the proxy does not serve",
            "XksProxyInvalidConfigurationException",
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                xks_proxy_uri_path: Some("/other/kms/xks/v1".into()),
                ..upd(&e.xks_store)
            })
        ),
        row!(
            "UpdateCustomKeyStore",
            "XKS: endpoint while connected",
            "CustomKeyStoreInvalidStateException",
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("renamed".into()),
                xks_proxy_uri_endpoint: Some(XKS_ENDPOINT_3.into()),
                ..upd(&e.xks_store)
            })
        ),
        row!(
            "UpdateCustomKeyStore",
            "XKS: credential with one part",
            "ValidationException",
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
                    access_key_id: XKS_ID.into(),
                    ..Default::default()
                }),
                ..upd(&e.xks_store)
            })
        ),
        row!(
            "UpdateCustomKeyStore",
            "XKS: password given",
            "ValidationException",
            |e| e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("renamed".into()),
                key_store_password: Some(SecretString::from(PASSWORD)),
                ..upd(&e.xks_store)
            })
        ),
        row!(
            "DeleteCustomKeyStore",
            "XKS: connected",
            "CustomKeyStoreInvalidStateException",
            |e| e.kms.delete_custom_key_store(&e.xks_store)
        ),
        row!(
            "DeleteCustomKeyStore",
            "XKS: holds a key",
            "CustomKeyStoreHasCMKsException",
            setup | e | e.kms.disconnect_custom_key_store(&e.xks_store).unwrap(),
            |e| e.kms.delete_custom_key_store(&e.xks_store)
        ),
        row!(
            "CreateKey",
            "XKS: no XksKeyId",
            "ValidationException",
            |e| e
                .kms
                .create_key(CreateKeyRequest {
                    xks_key_id: None,
                    ..xks_key_req(&e.xks_store, "ext-b")
                })
                .map(drop)
        ),
        row!(
            "CreateKey",
            "XKS: origin on a CloudHSM store",
            "UnsupportedOperationException",
            |e| e.kms.create_key(xks_key_req(&e.store1, "ext-b")).map(drop)
        ),
        row!(
            "CreateKey",
            "XKS: external key in use",
            "XksKeyAlreadyInUseException",
            |e| e
                .kms
                .create_key(xks_key_req(&e.xks_store, "ext-a"))
                .map(drop)
        ),
        row!(
            "CreateKey",
            "XKS: no such external key",
            "XksKeyNotFoundException",
            |e| e
                .kms
                .create_key(xks_key_req(&e.xks_store, "ext-none"))
                .map(drop)
        ),
        row!(
            "CreateKey",
            "XKS: external key disabled",
            "XksKeyInvalidConfigurationException",
            |e| e
                .kms
                .create_key(xks_key_req(&e.xks_store, "ext-off"))
                .map(drop)
        ),
        row!(
            "CreateKey",
            "XKS: proxy unreachable",
            "CustomKeyStoreInvalidStateException",
            setup | e | e.proxy.set_unreachable(true),
            |e| e
                .kms
                .create_key(xks_key_req(&e.xks_store, "ext-b"))
                .map(drop)
        ),
        row!(
            "CreateKey",
            "XKS: proxy denies access",
            "CustomKeyStoreInvalidStateException",
            setup | e | e.proxy.set_access_denied(true),
            |e| e
                .kms
                .create_key(xks_key_req(&e.xks_store, "ext-b"))
                .map(drop)
        ),
        row!(
            "CreateKey",
            "XKS: store failed",
            "CustomKeyStoreInvalidStateException",
            |e| e
                .kms
                .create_key(xks_key_req(&e.xks_failed, "ext-b"))
                .map(drop)
        ),
        row!(
            "Encrypt",
            "XKS: proxy throttling",
            "KMSInvalidStateException",
            setup | e | e.proxy.set_throttling(true),
            |e| e.kms.encrypt(enc(&e.xks)).map(drop)
        ),
        row!(
            "Encrypt",
            "XKS: external key deleted",
            "KMSInvalidStateException",
            setup | e | e.proxy.delete_key(&"ext-a".parse().unwrap()).unwrap(),
            |e| e.kms.encrypt(enc(&e.xks)).map(drop)
        ),
        row!(
            "Decrypt",
            "XKS: external key disabled",
            "KMSInvalidStateException",
            setup | e | e.proxy.disable_key(&"ext-a".parse().unwrap()).unwrap(),
            |e| e.kms.decrypt(dec(&e.xks_blob)).map(drop)
        ),
        row!(
            "Decrypt",
            "XKS: proxy layer tampered",
            "KMSInvalidStateException",
            |e| {
                let mut b = e.xks_blob.clone();
                let last = b.len() - 1;
                b[last] ^= 1;
                e.kms.decrypt(dec(&b)).map(drop)
            }
        ),
        row!(
            "Decrypt",
            "XKS: wrong context",
            "InvalidCiphertextException",
            |e| e
                .kms
                .decrypt(DecryptRequest {
                    encryption_context: EncryptionContext::new(),
                    ..dec(&e.xks_blob)
                })
                .map(drop)
        ),
        row!(
            "ReEncrypt",
            "XKS destination, proxy unreachable",
            "KMSInvalidStateException",
            setup | e | e.proxy.set_unreachable(true),
            |e| e.kms.re_encrypt(reenc(&e.blob, &e.xks)).map(drop)
        ),
        row!(
            "GenerateDataKey",
            "XKS: wrong proxy credential",
            "KMSInvalidStateException",
            setup
                | e
                | e.proxy.rotate_credential(
                    XksCredential::new(XKS_ID, &XKS_SECRET.replace('A', "B")).unwrap()
                ),
            |e| e.kms.generate_data_key(gdk(&e.xks)).map(drop)
        ),
        row!(
            "GenerateRandom",
            "XKS store",
            "UnsupportedOperationException",
            |e| e
                .kms
                .generate_random(GenerateRandomRequest {
                    number_of_bytes: Some(8),
                    custom_key_store_id: Some(e.xks_store.clone()),
                })
                .map(drop)
        ),
        row!(
            "EnableKeyRotation",
            "XKS key",
            "UnsupportedOperationException",
            |e| e.kms.enable_key_rotation(EnableKeyRotationRequest {
                key_id: e.xks.clone(),
                rotation_period_in_days: None
            })
        ),
        // ----- ListKeys
        row!("ListKeys", "limit 0", "ValidationException", |e| e
            .kms
            .list_keys(ListKeysRequest {
                limit: Some(0),
                ..Default::default()
            })
            .map(drop)),
        row!("ListKeys", "bad marker", "InvalidMarkerException", |e| e
            .kms
            .list_keys(ListKeysRequest {
                marker: Some("!!".into()),
                ..Default::default()
            })
            .map(drop)),
        // ----- AccessDenied: a caller no policy allows changes nothing
        row!(
            "CreateKey",
            "caller not allowed",
            "AccessDeniedException",
            |e| stranger(e)
                .create_key(CreateKeyRequest::default())
                .map(drop)
        ),
        row!(
            "EnableKey",
            "caller not allowed",
            "AccessDeniedException",
            |e| stranger(e).enable_key(&e.disabled)
        ),
        row!(
            "DisableKey",
            "caller not allowed",
            "AccessDeniedException",
            |e| stranger(e).disable_key(&e.aws)
        ),
        row!(
            "ScheduleKeyDeletion",
            "caller not allowed",
            "AccessDeniedException",
            |e| {
                stranger(e)
                    .schedule_key_deletion(ScheduleKeyDeletionRequest {
                        key_id: e.aws.clone(),
                        ..Default::default()
                    })
                    .map(drop)
            }
        ),
        row!(
            "CancelKeyDeletion",
            "caller not allowed",
            "AccessDeniedException",
            |e| { stranger(e).cancel_key_deletion(&e.pending).map(drop) }
        ),
        row!(
            "Encrypt",
            "caller not allowed",
            "AccessDeniedException",
            |e| stranger(e).encrypt(enc(&e.aws)).map(drop)
        ),
        row!(
            "Decrypt",
            "caller not allowed",
            "AccessDeniedException",
            |e| stranger(e).decrypt(dec(&e.blob)).map(drop)
        ),
        row!(
            "ReEncrypt",
            "caller not allowed",
            "AccessDeniedException",
            |e| stranger(e).re_encrypt(reenc(&e.blob, &e.aws2)).map(drop)
        ),
        row!(
            "GenerateDataKey",
            "caller not allowed",
            "AccessDeniedException",
            |e| { stranger(e).generate_data_key(gdk(&e.aws)).map(drop) }
        ),
        row!(
            "GenerateRandom",
            "caller not allowed",
            "AccessDeniedException",
            |e| {
                stranger(e)
                    .generate_random(GenerateRandomRequest {
                        number_of_bytes: Some(8),
                        ..Default::default()
                    })
                    .map(drop)
            }
        ),
        row!(
            "CreateAlias",
            "caller not allowed",
            "AccessDeniedException",
            |e| stranger(e).create_alias(CreateAliasRequest::new("alias/new", e.aws.clone()))
        ),
        row!(
            "UpdateAlias",
            "caller not allowed",
            "AccessDeniedException",
            |e| stranger(e).update_alias(UpdateAliasRequest::new("alias/app", e.aws2.clone()))
        ),
        row!(
            "DeleteAlias",
            "caller not allowed",
            "AccessDeniedException",
            |e| stranger(e).delete_alias("alias/app")
        ),
        row!(
            "TagResource",
            "caller not allowed",
            "AccessDeniedException",
            |e| stranger(e).tag_resource(TagResourceRequest {
                key_id: e.aws.clone(),
                tags: vec![tag("k2", "v2")],
            })
        ),
        row!(
            "UntagResource",
            "caller not allowed",
            "AccessDeniedException",
            |e| stranger(e).untag_resource(UntagResourceRequest {
                key_id: e.aws.clone(),
                tag_keys: vec!["k".to_owned()],
            })
        ),
        row!(
            "UpdateKeyDescription",
            "caller not allowed",
            "AccessDeniedException",
            |e| {
                stranger(e).update_key_description(UpdateKeyDescriptionRequest::new(&e.aws, "d2"))
            }
        ),
        row!(
            "PutKeyPolicy",
            "caller not allowed",
            "AccessDeniedException",
            |e| stranger(e).put_key_policy(PutKeyPolicyRequest::new(
                &e.aws,
                kms_keystore::default_key_policy(&"111122223333".parse().unwrap()),
            ))
        ),
        row!(
            "ConnectCustomKeyStore",
            "caller not allowed",
            "AccessDeniedException",
            |e| { stranger(e).connect_custom_key_store(&e.store2) }
        ),
        row!(
            "DisconnectCustomKeyStore",
            "caller not allowed",
            "AccessDeniedException",
            |e| { stranger(e).disconnect_custom_key_store(&e.store1) }
        ),
        row!(
            "UpdateCustomKeyStore",
            "caller not allowed",
            "AccessDeniedException",
            |e| {
                stranger(e).update_custom_key_store(UpdateCustomKeyStoreRequest {
                    new_custom_key_store_name: Some("renamed".to_owned()),
                    ..upd(&e.store2)
                })
            }
        ),
        row!(
            "DeleteCustomKeyStore",
            "caller not allowed",
            "AccessDeniedException",
            |e| { stranger(e).delete_custom_key_store(&e.store3) }
        ),
    ]
}

#[test]
fn every_failed_call_leaves_the_observable_state_unchanged() {
    let rows = rows();
    let mut failures = Vec::new();
    for row in &rows {
        let e = env(row.base);
        (row.setup)(&e);
        let before = snapshot(&e);
        let r = (row.call)(&e);
        let after = snapshot(&e);
        let what = format!("{} ({})", row.op, row.case);
        match r {
            Ok(()) => failures.push(format!("{what}: succeeded, expected {}", row.code)),
            Err(err) if err.code() != row.code => failures.push(format!(
                "{what}: {} ({err}), expected {}",
                err.code(),
                row.code
            )),
            Err(_) => {}
        }
        if before != after {
            failures.push(format!(
                "{what}: the state changed\nbefore: {before}\nafter:  {after}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_table_covers_every_operation_that_can_fail() {
    let rows = rows();
    let ops: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.op).collect();
    for op in [
        "CreateKey",
        "DescribeKey",
        "EnableKey",
        "DisableKey",
        "ScheduleKeyDeletion",
        "CancelKeyDeletion",
        "Encrypt",
        "Decrypt",
        "ReEncrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateRandom",
        "CreateCustomKeyStore",
        "DescribeCustomKeyStores",
        "ConnectCustomKeyStore",
        "DisconnectCustomKeyStore",
        "UpdateCustomKeyStore",
        "DeleteCustomKeyStore",
        "CreateAlias",
        "UpdateAlias",
        "DeleteAlias",
        "TagResource",
        "UntagResource",
        "PutKeyPolicy",
        "UpdateKeyDescription",
        "CreateGrant",
        "ListGrants",
        "RetireGrant",
        "RevokeGrant",
    ] {
        assert!(ops.contains(op), "no row for {op}");
    }
}

#[test]
fn the_snapshot_sees_each_kind_of_change() {
    // A successful call of each kind changes the snapshot, so an unchanged
    // snapshot after a failed call means something.
    let changes: Vec<(&str, Call)> = vec![
        ("tag", |e| {
            e.kms.tag_resource(TagResourceRequest {
                key_id: e.aws.clone(),
                tags: vec![tag("new", "1")],
            })
        }),
        ("alias", |e| {
            e.kms
                .create_alias(CreateAliasRequest::new("alias/new", e.aws.clone()))
        }),
        ("key state", |e| e.kms.disable_key(&e.aws)),
        ("grant", |e| {
            e.kms.revoke_grant(RevokeGrantRequest {
                key_id: e.aws.clone(),
                grant_id: e.grant_id.clone(),
                dry_run: None,
            })
        }),
        ("description", |e| {
            e.kms.update_key_description(UpdateKeyDescriptionRequest {
                key_id: e.aws.clone(),
                description: "new".into(),
            })
        }),
        ("policy", |e| {
            e.kms.put_key_policy(PutKeyPolicyRequest::new(
                &e.aws,
                kms_keystore::default_key_policy(e.kms.account_id())
                    .replace("Enable IAM", "Let IAM"),
            ))
        }),
        ("store name", |e| {
            e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("renamed".into()),
                ..upd(&e.store1)
            })
        }),
        ("store connection", |e| {
            e.kms.disconnect_custom_key_store(&e.store1)
        }),
        ("cluster HSM", |e| {
            let d = e
                .kms
                .cloudhsm()
                .describe_clusters(Some(&[cluster(e, 0).clone()]));
            e.kms.cloudhsm().set_hsm_state(
                cluster(e, 0),
                &d.clusters[0].hsms[0].hsm_id,
                HsmState::Degraded,
            )
        }),
        ("cluster key material", |e| {
            let arn = e.kms.describe_key(&e.hsm).unwrap().key_metadata.arn;
            e.kms.cloudhsm().delete_key_material(cluster(e, 0), &arn)
        }),
        ("external key", |e| {
            e.proxy.delete_key(&"ext-b".parse().unwrap())
        }),
        ("XKS store name", |e| {
            e.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                new_custom_key_store_name: Some("xks-renamed".into()),
                ..upd(&e.xks_store)
            })
        }),
        ("new key", |e| {
            e.kms.create_key(CreateKeyRequest::default()).map(drop)
        }),
    ];
    for (what, change) in changes {
        let e = env(Base::Standard);
        let before = snapshot(&e);
        change(&e).unwrap_or_else(|err| panic!("{what}: {err}"));
        assert_ne!(before, snapshot(&e), "the snapshot misses a {what} change");
    }
}
