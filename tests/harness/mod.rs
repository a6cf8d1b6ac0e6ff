//! The key-management test harness: a seeded [`Kms`] on a [`ManualClock`]
//! holding a ready key of one origin, and the macros that instantiate one
//! body of tests once per origin (as rustls-test runs its API tests once per
//! crypto provider).
//!
//! - AWS_KMS: keys in KMS itself.
//! - AWS_CLOUDHSM: a CloudHSM key store on a provisioned cluster (two HSMs in
//!   two Availability Zones), CONNECTED.
//! - EXTERNAL_KEY_STORE: an [`InMemoryExternalKeyManager`] attached to the
//!   Kms's XKS network at a public endpoint, its store CONNECTED; every KMS
//!   key gets its own external key.
//!
//! A test body is a function `fn name(h: &Harness)`; [`management_tests!`]
//! turns a list of them into the modules `aws_kms`, `cloudhsm` and
//! `external_key_store`, each with one `#[test]` per body, named after it.
//! [`custom_key_store_tests!`] does the same for the two custom key store
//! origins only, for behaviour that exists only there (a disconnected store).

#![allow(
    dead_code,
    unreachable_pub,
    unused_macros,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "shared by several test crates, each using a part; helpers fail loudly like tests"
)]

use std::cell::Cell;
use std::sync::Arc;

use kms_keystore::xks::{InMemoryExternalKeyManager, XksCredential, XksProxyUri};
use kms_keystore::{
    ConnectionStateType, CreateCustomKeyStoreRequest, CreateKeyRequest, CustomKeyStoreType,
    DescribeCustomKeyStoresRequest, KeyState, Kms, KmsConfig, ListKeysRequest, ManualClock,
    OriginType, Result, SecretString, XksProxyAuthenticationCredential, XksProxyConnectivityType,
};

/// The account every harness Kms lives in.
pub const ACCOUNT: &str = "111122223333";
/// The Region every harness Kms lives in.
pub const REGION: &str = "us-west-2";
/// The seed of every harness Kms.
pub const SEED: u64 = 0x5eed;
/// A key id no Kms has.
pub const MISSING_KEY: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

/// The CloudHSM cluster's Availability Zones.
const AZS: [&str; 2] = ["us-west-2a", "us-west-2b"];
/// The `kmsuser` password.
const KMSUSER_PASSWORD: &str = "kmsPswd";
/// The XKS proxy's endpoint, path and credential.
const XKS_ENDPOINT: &str = "https://xks.harness.example.com";
const XKS_PATH: &str = "/kms/xks/v1";
const XKS_ACCESS_KEY_ID: &str = "AKIAHARNESSXKSPROXYZ";
const XKS_SECRET: &str = "harnessSecretAccessKeyForTheXksProxy0123456";

/// Every origin, in the order the macros instantiate them.
pub const ORIGINS: [OriginType; 3] = [
    OriginType::AwsKms,
    OriginType::AwsCloudHsm,
    OriginType::ExternalKeyStore,
];

/// A Kms that makes keys of one origin.
pub struct Harness {
    /// The service.
    pub kms: Kms,
    /// Its clock.
    pub clock: ManualClock,
    /// The origin of the keys [`Harness::key`] makes.
    pub origin: OriginType,
    /// The CONNECTED custom key store the keys go in (custom origins only).
    store: Option<String>,
    /// The external key manager behind the XKS store.
    proxy: Option<InMemoryExternalKeyManager>,
    /// How many external keys the proxy has made.
    external_keys: Cell<usize>,
}

impl Harness {
    /// A Kms with the default configuration and a ready store for `origin`.
    pub fn new(origin: OriginType) -> Harness {
        Harness::with_config(origin, |c| c)
    }

    /// As [`Harness::new`], with the configuration adjusted by `f`.
    pub fn with_config(origin: OriginType, f: impl FnOnce(KmsConfig) -> KmsConfig) -> Harness {
        let clock = ManualClock::default();
        let config = KmsConfig::new(ACCOUNT, REGION)
            .unwrap()
            .with_clock(clock.clone())
            .with_seed(SEED);
        let kms = Kms::new(f(config));
        let mut h = Harness {
            kms,
            clock,
            origin,
            store: None,
            proxy: None,
            external_keys: Cell::new(0),
        };
        match origin {
            OriginType::AwsKms => {}
            OriginType::AwsCloudHsm => h.store = Some(h.cloudhsm_store()),
            OriginType::ExternalKeyStore => {
                let (store, proxy) = h.xks_store();
                h.store = Some(store);
                h.proxy = Some(proxy);
            }
            other => panic!("the harness makes no {other} keys"),
        }
        h
    }

    /// A CONNECTED CloudHSM key store on a freshly provisioned cluster.
    fn cloudhsm_store(&self) -> String {
        let (cluster, trust_anchor) = self
            .kms
            .cloudhsm()
            .provision_ready_cluster(&AZS, KMSUSER_PASSWORD)
            .unwrap();
        self.create_and_connect(CreateCustomKeyStoreRequest {
            custom_key_store_name: "harness-cloudhsm".into(),
            custom_key_store_type: Some(CustomKeyStoreType::AwsCloudhsm),
            cloud_hsm_cluster_id: Some(cluster.to_string()),
            trust_anchor_certificate: Some(trust_anchor),
            key_store_password: Some(SecretString::from(KMSUSER_PASSWORD)),
            ..Default::default()
        })
    }

    /// An external key manager on the XKS network and its CONNECTED store.
    fn xks_store(&self) -> (String, InMemoryExternalKeyManager) {
        let proxy = InMemoryExternalKeyManager::new(
            XksProxyUri::new(XKS_ENDPOINT, XKS_PATH).unwrap(),
            XksCredential::new(XKS_ACCESS_KEY_ID, XKS_SECRET).unwrap(),
            Some(SEED),
        );
        self.kms
            .xks_network()
            .attach(XKS_ENDPOINT, Arc::new(proxy.clone()));
        let store = self.create_and_connect(CreateCustomKeyStoreRequest {
            custom_key_store_name: "harness-xks".into(),
            custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
            xks_proxy_uri_endpoint: Some(XKS_ENDPOINT.into()),
            xks_proxy_uri_path: Some(XKS_PATH.into()),
            xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
            xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
                access_key_id: XKS_ACCESS_KEY_ID.into(),
                raw_secret_access_key: SecretString::from(XKS_SECRET),
            }),
            ..Default::default()
        });
        (store, proxy)
    }

    fn create_and_connect(&self, request: CreateCustomKeyStoreRequest) -> String {
        let id = self
            .kms
            .create_custom_key_store(request)
            .unwrap()
            .custom_key_store_id
            .to_string();
        self.kms.connect_custom_key_store(&id).unwrap();
        assert_eq!(self.store_state(&id), ConnectionStateType::Connected);
        id
    }

    /// The custom key store the harness's keys live in; `None` for AWS_KMS.
    pub fn store(&self) -> Option<&str> {
        self.store.as_deref()
    }

    /// The connection state of custom key store `id`.
    pub fn store_state(&self, id: &str) -> ConnectionStateType {
        self.kms
            .describe_custom_key_stores(DescribeCustomKeyStoresRequest {
                custom_key_store_id: Some(id.into()),
                ..Default::default()
            })
            .unwrap()
            .custom_key_stores
            .remove(0)
            .connection_state
    }

    /// Disconnects the harness's custom key store; its keys become Unavailable.
    pub fn disconnect(&self) {
        let store = self.store().expect("only custom key stores disconnect");
        self.kms.disconnect_custom_key_store(store).unwrap();
        assert_eq!(self.store_state(store), ConnectionStateType::Disconnected);
    }

    /// Reconnects the harness's custom key store.
    pub fn connect(&self) {
        let store = self.store().expect("only custom key stores connect");
        self.kms.connect_custom_key_store(store).unwrap();
        assert_eq!(self.store_state(store), ConnectionStateType::Connected);
    }

    /// `request` for a key of the harness's origin: the origin, the store
    /// and, for EXTERNAL_KEY_STORE, a new external key.
    pub fn key_request(&self, request: CreateKeyRequest) -> CreateKeyRequest {
        let xks_key_id = self.proxy.as_ref().map(|proxy| {
            let n = self.external_keys.get();
            self.external_keys.set(n + 1);
            let id = format!("harness-external-key-{n}");
            proxy.add_aes_key(&id).unwrap();
            id
        });
        CreateKeyRequest {
            origin: Some(self.origin),
            custom_key_store_id: self.store.clone(),
            xks_key_id,
            ..request
        }
    }

    /// CreateKey with `request`, made a key of the harness's origin; the key id.
    pub fn create_key(&self, request: CreateKeyRequest) -> Result<String> {
        self.kms
            .create_key(self.key_request(request))
            .map(|r| r.key_metadata.key_id.to_string())
    }

    /// A new Enabled key of the harness's origin; its key id.
    pub fn key(&self) -> String {
        let key = self.create_key(CreateKeyRequest::default()).unwrap();
        let meta = self.kms.describe_key(&key).unwrap().key_metadata;
        assert_eq!(meta.origin, self.origin);
        assert_eq!(meta.key_state, KeyState::Enabled);
        key
    }

    /// The key's ARN.
    pub fn arn(&self, key: &str) -> String {
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{key}")
    }

    /// The key's KeyState as DescribeKey shows it.
    pub fn key_state(&self, key: &str) -> KeyState {
        self.kms.describe_key(key).unwrap().key_metadata.key_state
    }

    /// How many keys ListKeys lists.
    pub fn key_count(&self) -> usize {
        self.kms
            .list_keys(ListKeysRequest::default())
            .unwrap()
            .keys
            .len()
    }
}

/// The error code of `r`, panicking with the value if it succeeded.
#[track_caller]
pub fn code<T: std::fmt::Debug>(r: Result<T>) -> &'static str {
    match r {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e.code(),
    }
}

/// One module `$module` of `#[test]`s, one per body `$test`, each running
/// its body on a fresh [`Harness`] of `$origin`.
macro_rules! origin_tests {
    ($module:ident, $origin:expr, [$($test:ident),* $(,)?]) => {
        mod $module {
            $(
                #[test]
                fn $test() {
                    super::$test(&$crate::harness::Harness::new($origin));
                }
            )*
        }
    };
}

/// Instantiates the test bodies `fn name(h: &Harness)` once per origin:
/// modules `aws_kms`, `cloudhsm` and `external_key_store`.
macro_rules! management_tests {
    ($($test:ident),* $(,)?) => {
        $crate::harness::origin_tests!(
            aws_kms, ::kms_keystore::OriginType::AwsKms, [$($test),*]
        );
        $crate::harness::origin_tests!(
            cloudhsm, ::kms_keystore::OriginType::AwsCloudHsm, [$($test),*]
        );
        $crate::harness::origin_tests!(
            external_key_store, ::kms_keystore::OriginType::ExternalKeyStore, [$($test),*]
        );
    };
}

/// Instantiates the test bodies once per custom key store origin: modules
/// `cloudhsm` and `external_key_store` (behaviour AWS_KMS keys cannot have).
macro_rules! custom_key_store_tests {
    ($($test:ident),* $(,)?) => {
        $crate::harness::origin_tests!(
            cloudhsm, ::kms_keystore::OriginType::AwsCloudHsm, [$($test),*]
        );
        $crate::harness::origin_tests!(
            external_key_store, ::kms_keystore::OriginType::ExternalKeyStore, [$($test),*]
        );
    };
}

pub(crate) use {custom_key_store_tests, management_tests, origin_tests};
