//! The service facade: [`Kms`], one AWS account in one Region, with a method
//! per KMS operation.
//!
//! The operations are split by area, one file each under `ops/`: keys
//! (CreateKey, DescribeKey, ListKeys, the key lifecycle), cryptographic
//! operations (Encrypt, Decrypt, ReEncrypt, GenerateDataKey*,
//! GenerateRandom), custom key stores, aliases, tags and descriptions, key
//! policies, grants, durable storage, and the operations accepted but not
//! implemented. The request and response shapes are re-exported here.
//!
//! # Layers
//!
//! Inside `kms/` every module imports only from the layers below it:
//!
//! ```text
//! mod.rs      facade: Kms, KmsConfig, Quotas, ConnectionMode; the pub use list
//!   ops/      one file per API area, each `impl Kms`; never import each other
//!   service   Service: owns the tables, the only code that takes their locks
//!             (the lock order is documented there); shared helpers; call.rs;
//!             authorize.rs (who may do what: key policy, IAM, grants)
//!   partition Partition and Iam: accounts × Regions, identities
//!   persist/  records <-> model (commit helpers; durable open)
//!   timers    the timer table          backend/  one contract per store kind
//!   model/    key entry, key table, alias table, store entry (plain data)
//!   support/  paging, errors, quota bucket, request checks, policy documents
//!   shapes/   the request and response types
//!   env       the narrow environment a backend receives
//! ```
//!
//! Every public operation starts with `self.begin()` (`Service::begin`):
//! one clock read, the due work (`timers.rs` says when that touches the
//! disk), and the per-call context `Call` passed down.

mod authorize;
mod backend;
mod call;
mod env;
mod model;
mod ops;
mod partition;
mod persist;
mod service;
mod shapes;
mod support;
mod timers;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock, Timestamp};
use crate::crypto::rng::SecureRng;
use crate::error::Result;
use crate::iam::{Caller, Principal};

use crate::ids::{AccountId, Region};
use crate::storage::Storage;
use crate::store::cloudhsm::CloudHsm;
use crate::store::external::XksNetwork;
use crate::store::external::api::DEFAULT_DEADLINE;
pub use authorize::{AuthorizationDecision, DecidingStatement, DecisionKind, PolicySource};
pub use partition::{Iam, Partition};
pub use shapes::access::SimulateAuthorizationRequest;

pub use ops::asymmetric::MAX_SIGN_MESSAGE;
pub use ops::crypto::{MAX_PLAINTEXT, MAX_RANDOM_BYTES};
pub use ops::import::{IMPORT_PARAMETERS_VALIDITY, MAX_VALID_TO};
pub use ops::keys::{DEFAULT_PENDING_WINDOW_DAYS, PENDING_WINDOW_DAYS};
pub use ops::mac::MAX_MAC_MESSAGE;
pub use ops::rotation::{
    DEFAULT_ROTATION_PERIOD_DAYS, MAX_ON_DEMAND_ROTATIONS, ROTATION_PERIOD_DAYS,
};
pub use ops::stores::MAX_CUSTOM_KEY_STORES;
pub use shapes::asymmetric::{
    DeriveSharedSecretRequest, DeriveSharedSecretResponse, GetPublicKeyRequest,
    GetPublicKeyResponse, RecipientInfo, SignRequest, SignResponse, VerifyRequest, VerifyResponse,
};
pub use shapes::grants::{
    CreateGrantRequest, CreateGrantResponse, GrantConstraints, GrantListEntry, GrantOperation,
    ListGrantsRequest, ListGrantsResponse, ListRetirableGrantsRequest, RetireGrantRequest,
    RevokeGrantRequest,
};
pub use shapes::import::{
    DeleteImportedKeyMaterialRequest, DeleteImportedKeyMaterialResponse,
    GetParametersForImportRequest, GetParametersForImportResponse, ImportKeyMaterialRequest,
    ImportKeyMaterialResponse,
};
pub use shapes::mac::{
    GenerateMacRequest, GenerateMacResponse, VerifyMacRequest, VerifyMacResponse,
};
pub use shapes::manage::{
    AliasListEntry, CreateAliasRequest, GetKeyPolicyRequest, GetKeyPolicyResponse,
    ListAliasesRequest, ListAliasesResponse, ListKeyPoliciesRequest, ListKeyPoliciesResponse,
    ListResourceTagsRequest, ListResourceTagsResponse, PutKeyPolicyRequest, TagResourceRequest,
    UntagResourceRequest, UpdateAliasRequest, UpdateKeyDescriptionRequest,
};
pub use shapes::types::{
    CancelKeyDeletionResponse, CreateCustomKeyStoreRequest, CreateCustomKeyStoreResponse,
    CreateKeyRequest, CustomKeyStoresListEntry, DecryptRequest, DecryptResponse,
    DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse, EnableKeyRotationRequest,
    EncryptRequest, EncryptResponse, GenerateDataKeyPairRequest, GenerateDataKeyPairResponse,
    GenerateDataKeyPairWithoutPlaintextResponse, GenerateDataKeyRequest, GenerateDataKeyResponse,
    GenerateDataKeyWithoutPlaintextResponse, GenerateRandomRequest, GenerateRandomResponse,
    GetKeyRotationStatusResponse, IncludeKeyMaterial, KeyListEntry, KeyMetadataResponse,
    ListKeyRotationsRequest, ListKeyRotationsResponse, ListKeysRequest, ListKeysResponse,
    ReEncryptRequest, ReEncryptResponse, ReplicateKeyRequest, ReplicateKeyResponse,
    RotateKeyOnDemandResponse, RotationsListEntry, ScheduleKeyDeletionRequest,
    ScheduleKeyDeletionResponse, UpdateCustomKeyStoreRequest, UpdatePrimaryRegionRequest,
    XksProxyAuthenticationCredential, XksProxyConfiguration,
};
pub use support::policy::{DEFAULT_POLICY_NAME, MAX_KEY_POLICY_BYTES, default_key_policy};
pub use support::validate::{MAX_CIPHERTEXT_BLOB, MAX_DESCRIPTION_CHARS, MAX_TAGS};

pub(crate) use call::Call;
pub(crate) use service::Service;

/// Limits the service enforces. The defaults are AWS's.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quotas {
    /// KMS keys per account and Region (AWS: 100,000, adjustable).
    pub max_keys: usize,
    /// Cryptographic requests per second per custom key store (AWS: 1,800);
    /// `None` turns the quota off.
    pub custom_key_store_requests_per_second: Option<u32>,
    /// Aliases per KMS key (AWS: 50, adjustable).
    pub aliases_per_key: usize,
    /// Grants per KMS key (AWS: 50,000, adjustable); CreateGrant beyond it
    /// is `LimitExceededException`.
    pub grants_per_key: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            max_keys: 100_000,
            custom_key_store_requests_per_second: Some(1_800),
            aliases_per_key: 50,
            grants_per_key: model::grants::DEFAULT_GRANTS_PER_KEY,
        }
    }
}

/// How connection-state changes of custom key stores complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConnectionMode {
    /// Connect and disconnect finish before the call returns (the default):
    /// DescribeCustomKeyStores shows CONNECTED/FAILED or DISCONNECTED at once.
    #[default]
    Immediate,
    /// Connect leaves the store CONNECTING and disconnect DISCONNECTING until
    /// the [`Clock`] has moved on by this many milliseconds; the transient
    /// states are observable.
    Stepped {
        /// How long a connection change takes, on the clock.
        duration_millis: u64,
    },
}

/// Configuration of a [`Kms`].
///
/// ```
/// use kms_keystore::{KmsConfig, ManualClock};
/// let config = KmsConfig::new("111122223333", "us-west-2")
///     .unwrap()
///     .with_clock(ManualClock::default())
///     .with_seed(7);
/// assert_eq!(config.region().as_str(), "us-west-2");
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct KmsConfig {
    account_id: AccountId,
    region: Region,
    clock: Arc<dyn Clock>,
    seed: Option<u64>,
    /// Service limits.
    pub quotas: Quotas,
    /// How connection changes complete.
    pub connection_mode: ConnectionMode,
    /// Where a durable Kms keeps its state (see [`Kms::open`]).
    #[cfg(feature = "durable")]
    durable: Option<persist::durable::DurableSettings>,
    /// How long KMS waits for an external key store proxy to answer
    /// (the XKS specification's 250 ms by default).
    pub xks_proxy_timeout: Duration,
    /// The partition the Kms joins ([`Partition::add`]); `None` makes a
    /// partition of its own.
    partition: Option<Arc<service::Shared>>,
}

impl KmsConfig {
    /// A configuration for `account_id` (12 digits) in `region`, with the
    /// system clock, OS-seeded randomness and AWS's quotas.
    pub fn new(account_id: &str, region: &str) -> Result<KmsConfig> {
        Ok(KmsConfig {
            account_id: account_id.parse()?,
            region: region.parse()?,
            clock: Arc::new(SystemClock),
            seed: None,
            quotas: Quotas::default(),
            connection_mode: ConnectionMode::default(),
            #[cfg(feature = "durable")]
            durable: None,
            xks_proxy_timeout: DEFAULT_DEADLINE,
            partition: None,
        })
    }

    /// The same configuration, joining the partition `shared`.
    pub(crate) fn in_partition(mut self, shared: Arc<service::Shared>) -> KmsConfig {
        self.partition = Some(shared);
        self
    }

    /// Uses `clock` for every timestamp, deletion window and quota.
    pub fn with_clock(mut self, clock: impl Clock) -> KmsConfig {
        self.clock = Arc::new(clock);
        self
    }

    /// Makes key ids, key material, nonces and ciphertexts deterministic: the
    /// same seed and the same calls give the same results.
    pub fn with_seed(mut self, seed: u64) -> KmsConfig {
        self.seed = Some(seed);
        self
    }

    /// Replaces the quotas.
    pub fn with_quotas(mut self, quotas: Quotas) -> KmsConfig {
        self.quotas = quotas;
        self
    }

    /// Sets how connection changes complete.
    pub fn with_connection_mode(mut self, mode: ConnectionMode) -> KmsConfig {
        self.connection_mode = mode;
        self
    }

    /// Sets how long KMS waits for an external key store proxy to answer
    /// each call (default 250 ms, as the XKS specification says). A proxy
    /// slower than this fails the call as timed out.
    pub fn with_xks_proxy_timeout(mut self, timeout: Duration) -> KmsConfig {
        self.xks_proxy_timeout = timeout;
        self
    }

    /// The account.
    pub fn account_id(&self) -> &AccountId {
        &self.account_id
    }

    /// The Region.
    pub fn region(&self) -> &Region {
        &self.region
    }
}

#[cfg(feature = "durable")]
impl KmsConfig {
    /// Keeps the Kms's state in the database file at `path` (created if it
    /// does not exist), sealed under `root_key`. Open the Kms with
    /// [`Kms::open`]; [`Kms::new`] ignores this setting and stays in memory.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("kms-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// use kms_keystore::{Kms, KmsConfig};
    /// use kms_keystore::CreateKeyRequest;
    /// use kms_keystore::RootKey;
    ///
    /// let root = RootKey::from_bytes([42; 32]); // from your secret manager
    /// let path = dir.join("kms.redb");
    /// let config = KmsConfig::default().with_durable_storage(&path, root.clone());
    /// let key_id = {
    ///     let kms = Kms::open(config.clone()).unwrap();
    ///     kms.create_key(CreateKeyRequest::default()).unwrap().key_metadata.key_id
    /// }; // the Kms is closed when its last clone is dropped
    /// let kms = Kms::open(config).unwrap();
    /// assert!(kms.describe_key(&key_id.to_string()).is_ok());
    /// # drop(kms); std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn with_durable_storage(
        mut self,
        path: impl AsRef<std::path::Path>,
        root_key: crate::storage::RootKey,
    ) -> KmsConfig {
        self.durable = Some(persist::durable::DurableSettings {
            path: path.as_ref().to_owned(),
            root_key,
        });
        self
    }

    /// The durable store's file, if [`KmsConfig::with_durable_storage`] set one.
    pub fn durable_storage_path(&self) -> Option<&std::path::Path> {
        self.durable.as_ref().map(|d| d.path.as_path())
    }
}

impl Default for KmsConfig {
    /// Account `111122223333` in `us-west-2`, as in the AWS documentation.
    fn default() -> Self {
        KmsConfig {
            account_id: AccountId::new_unchecked("111122223333"),
            region: Region::new_unchecked("us-west-2"),
            clock: Arc::new(SystemClock),
            seed: None,
            quotas: Quotas::default(),
            connection_mode: ConnectionMode::default(),
            #[cfg(feature = "durable")]
            durable: None,
            xks_proxy_timeout: DEFAULT_DEADLINE,
            partition: None,
        }
    }
}

/// AWS KMS for one account in one Region, in process.
///
/// Cheap to clone (an `Arc` inside); `Send + Sync`.
///
/// ```
/// use kms_keystore::{Kms, KmsConfig};
/// use kms_keystore::{CreateKeyRequest, EncryptRequest, DecryptRequest};
///
/// let kms = Kms::new(KmsConfig::default());
/// let key = kms.create_key(CreateKeyRequest::default()).unwrap().key_metadata;
/// let ct = kms
///     .encrypt(EncryptRequest { key_id: key.key_id.to_string(), plaintext: "hello".into(), ..Default::default() })
///     .unwrap();
/// let pt = kms
///     .decrypt(DecryptRequest { ciphertext_blob: ct.ciphertext_blob, ..Default::default() })
///     .unwrap();
/// assert_eq!(pt.plaintext.expose_secret(), b"hello");
/// ```
#[derive(Clone, Debug)]
pub struct Kms {
    pub(crate) inner: Arc<Service>,
    /// Who calls through this handle; `None` is the account root.
    caller: Option<Arc<Caller>>,
}

impl Kms {
    /// A service with no keys and no key stores, in memory: its state goes
    /// with the process. [`Kms::open`] opens a durable one.
    pub fn new(config: KmsConfig) -> Kms {
        let rng = Arc::new(SecureRng::new(config.seed));
        Kms::build(config, rng, Arc::new(Storage::memory()))
    }

    /// A service on `storage`, empty in memory (a durable one is filled by
    /// the caller).
    pub(crate) fn build(config: KmsConfig, rng: Arc<SecureRng>, storage: Arc<Storage>) -> Kms {
        let inner = Arc::new(Service::new(config, rng, storage));
        inner.shared.register(&inner);
        Kms {
            inner,
            caller: None,
        }
    }

    /// Begins a call through this handle: the clock read once, the due
    /// work, and the caller (`Service::begin`).
    #[inline]
    pub(crate) fn begin(&self) -> Call<'_> {
        let caller = self.caller.as_deref().unwrap_or(&self.inner.root);
        self.inner.begin(caller)
    }

    /// A handle on the same KMS whose calls are made by `principal`: every
    /// operation through it is authorized as that caller would be (key
    /// policy, the caller's IAM policies, grants). The handle returned by
    /// [`Kms::new`] calls as the account root.
    ///
    /// ```
    /// use kms_keystore::{Kms, KmsConfig, Principal};
    /// let kms = Kms::new(KmsConfig::default());
    /// let bob = kms.as_caller(&"arn:aws:iam::111122223333:user/bob".parse().unwrap());
    /// assert_eq!(bob.caller().arn(), "arn:aws:iam::111122223333:user/bob");
    /// assert!(kms.caller().is_root());
    /// ```
    pub fn as_caller(&self, principal: &Principal) -> Kms {
        Kms {
            inner: Arc::clone(&self.inner),
            caller: Some(Arc::new(self.inner.shared.iam.caller(principal))),
        }
    }

    /// The same handle, with `aws:SourceIp` set to `ip` for its calls.
    pub fn with_source_ip(&self, ip: std::net::IpAddr) -> Kms {
        self.with_caller(|c| c.source_ip = Some(ip))
    }

    /// The same handle, with `aws:SecureTransport` set for its calls.
    pub fn with_secure_transport(&self, secure: bool) -> Kms {
        self.with_caller(|c| c.secure_transport = Some(secure))
    }

    /// The same handle, calling through the AWS service `service` (such as
    /// `s3.us-west-2.amazonaws.com`) on the caller's behalf: sets
    /// `kms:ViaService` (and `kms:GrantIsForAWSResource` for grant
    /// operations), and the `kmsViaService` external key store proxies see.
    pub fn via_service(&self, service: &str) -> Kms {
        self.with_caller(|c| c.via_service = Some(service.to_owned()))
    }

    fn with_caller(&self, f: impl FnOnce(&mut Caller)) -> Kms {
        let mut caller = (*self.caller_arc()).clone();
        f(&mut caller);
        Kms {
            inner: Arc::clone(&self.inner),
            caller: Some(Arc::new(caller)),
        }
    }

    /// The IAM identities of this KMS's partition: create users and roles,
    /// attach identity policies, issue access keys.
    pub fn iam(&self) -> Iam {
        Iam::of(Arc::clone(&self.inner.shared))
    }

    /// This handle's caller, shared with a handle on another service.
    fn caller_arc(&self) -> Arc<Caller> {
        self.caller
            .clone()
            .unwrap_or_else(|| Arc::new(self.inner.root.clone()))
    }

    /// The KMS of another account (or Region) of the partition, called as
    /// this handle's caller, when `key_id` is a key ARN or alias ARN of it:
    /// the operations AWS allows across accounts run there.
    pub(crate) fn routed(&self, key_id: &str) -> Option<Kms> {
        let inner = self.inner.route(key_id)?;
        Some(Kms {
            inner,
            caller: Some(self.caller_arc()),
        })
    }

    /// As [`Kms::routed`] for Decrypt and ReEncrypt: by `key_id` when
    /// given, else by the key the ciphertext names.
    pub(crate) fn routed_blob(&self, key_id: Option<&str>, blob: &[u8]) -> Option<Kms> {
        match key_id {
            Some(k) => self.routed(k),
            None => Some(Kms {
                inner: self.inner.blob_owner(blob)?,
                caller: Some(self.caller_arc()),
            }),
        }
    }

    /// As [`Kms::routed`] for RetireGrant: by `key_id` when given, else by
    /// the account whose service issued the grant token.
    pub(crate) fn routed_grant(&self, key_id: Option<&str>, token: Option<&str>) -> Option<Kms> {
        if let Some(k) = key_id {
            return self.routed(k);
        }
        Some(Kms {
            inner: self.inner.token_owner(token?)?,
            caller: Some(self.caller_arc()),
        })
    }

    /// Who calls through this handle.
    pub fn caller(&self) -> &Principal {
        &self.caller.as_deref().unwrap_or(&self.inner.root).principal
    }

    /// The account id.
    pub fn account_id(&self) -> &AccountId {
        &self.inner.account_id
    }

    /// The Region.
    pub fn region(&self) -> &Region {
        &self.inner.region
    }

    /// The clock's current time.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The network through which this KMS reaches external key store
    /// proxies: attach an external key manager (for example an
    /// [`InMemoryExternalKeyManager`](crate::store::external::InMemoryExternalKeyManager))
    /// at its endpoint, and register VPC endpoint services, before creating
    /// external key stores that use them. The handle is shared: changes
    /// made through a clone are seen by this KMS.
    pub fn xks_network(&self) -> &XksNetwork {
        &self.inner.xks_network
    }

    /// The CloudHSM clusters of this account and Region: provision clusters
    /// for CloudHSM key stores here, inspect them (`describe_clusters`,
    /// `key_labels`) and break them on purpose with the fault switches.
    /// The handle shares the Kms's clock and randomness, so seeded runs are
    /// deterministic.
    ///
    /// ```
    /// use kms_keystore::{Kms, KmsConfig};
    /// let kms = Kms::new(KmsConfig::default().with_seed(1));
    /// let (cluster, _trust_anchor) = kms
    ///     .cloudhsm()
    ///     .provision_ready_cluster(&["us-west-2a", "us-west-2b"], "kmsPswd")
    ///     .unwrap();
    /// assert_eq!(kms.cloudhsm().describe_clusters(Some(&[cluster])).clusters.len(), 1);
    /// ```
    pub fn cloudhsm(&self) -> &CloudHsm {
        &self.inner.cloudhsm
    }
}
