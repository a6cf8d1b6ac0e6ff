//! One contract per custom key store kind.
//!
//! [`KeyStoreBackend`] names what differs between `AWS_CLOUDHSM` and
//! `EXTERNAL_KEY_STORE` stores: the request shape and update checks, the
//! new-store checks and the probes that run with no lock held, connect
//! precheck, connect and disconnect, create key and key access, random,
//! release of key material, describe, and the durable record. Each kind
//! implements it on its settings type in its own module — [`cloudhsm`] on
//! `CloudHsmStore`, [`external`] on `XksStore` — and those modules never
//! import each other. The data plane (`seal`/`open`) is [`cipher`].
//!
//! [`StoreBackend::contract`] holds the one `match` on the kind (as rustls
//! joins its TLS 1.2 and 1.3 state machines in one enum); a request that
//! names a kind finds its [`StoreKind`] in the [`kinds`] table.
//!
//! A backend receives a [`BackendEnv`] and plain data (the store's
//! settings, the store table, a key's backing), never the service, so it
//! cannot call back up. It takes no service lock: the caller holds what
//! the documented lock order asks for.

pub(crate) mod cipher;
mod cloudhsm;
mod external;
pub(crate) mod kinds;

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use crate::crypto::{KeyMaterial, Plaintext};
use crate::error::Result;
use crate::ids::{ClusterId, CustomKeyStoreId};
use crate::key::OriginType;
use crate::key::state::KeyOperation;
use crate::storage::Batch;
use crate::storage::records::StoreBackendRecord;
use crate::store::ConnectionErrorCode;
use crate::store::{ConnectionEvent, ConnectionState, CustomKeyStoreType, Transition};

use self::cipher::KeyAccess;
use crate::kms::env::{BackendEnv, CryptoEnv};
use crate::kms::model::backing::Backing;
use crate::kms::model::store::{ConnectOutcome, StoreBackend, StoreEntry, StoreTable, XksRoute};
use crate::kms::shapes::types::{
    CreateCustomKeyStoreRequest, UpdateCustomKeyStoreRequest, XksProxyConfiguration,
};

/// A finished connection change: the store's new state and settings
/// (a connect rotates the `kmsuser` password). Committed, not yet applied.
pub(crate) struct Finished {
    pub(crate) state: ConnectionState,
    pub(crate) backend: StoreBackend,
}

/// Adds a store's state record — its new state and settings — to a batch:
/// the caller's commit hook, which a backend calls exactly once with the
/// batch its own changes go in (so both commit together).
pub(crate) type PutState<'a> =
    &'a mut dyn FnMut(&mut Batch, ConnectionState, &StoreBackend) -> Result<()>;

/// Adds a store's record at the end of DISCONNECTING to a batch: the
/// caller's commit hook, holding the state the connection-state table gave
/// (a backend never names a connection state itself); called exactly once.
pub(crate) type PutClosed<'a> = &'a mut dyn FnMut(&mut Batch, &StoreBackend) -> Result<()>;

/// The fields of a DescribeCustomKeyStores entry that belong to a kind.
#[derive(Debug, Default)]
pub(crate) struct Described {
    pub(crate) cloud_hsm_cluster_id: Option<ClusterId>,
    pub(crate) trust_anchor_certificate: Option<String>,
    pub(crate) xks_proxy_configuration: Option<XksProxyConfiguration>,
}

/// The contract of one custom key store kind, implemented on its settings.
pub(crate) trait KeyStoreBackend: Any {
    /// The settings, to be downcast by their own kind (`StoreBackend::settings`).
    fn as_any(&self) -> &dyn Any;

    /// The store's type.
    fn store_type(&self) -> CustomKeyStoreType;

    // ---- request shape and update checks --------------------------------

    /// UpdateCustomKeyStore's shape for this kind (`ValidationException`):
    /// no member of another kind. Needs no state.
    fn update_shape(&self, req: &UpdateCustomKeyStoreRequest) -> Result<()>;

    /// Whether the members `req` gives may change while the store is
    /// CONNECTED (otherwise it must be DISCONNECTED).
    fn update_while_connected(&self, req: &UpdateCustomKeyStoreRequest) -> bool;

    /// The backend's update rules, after the generic ones; returns the new
    /// settings. `id` is the store, `table` every store (for uniqueness).
    fn plan_update(
        &self,
        env: &BackendEnv<'_>,
        id: &CustomKeyStoreId,
        req: &UpdateCustomKeyStoreRequest,
        table: &StoreTable,
    ) -> Result<StoreBackend>;

    // ---- probes that run with no lock held ------------------------------

    /// Whether ConnectCustomKeyStore and UpdateCustomKeyStore contact the
    /// backend with no lock held, on a snapshot of the settings that is
    /// checked again under the lock.
    fn probes(&self) -> bool;

    /// UpdateCustomKeyStore's contact with the backend, for a store in
    /// `state` moving to settings `new`.
    fn probe_update(
        &self,
        env: &BackendEnv<'_>,
        store: &str,
        state: ConnectionState,
        new: &StoreBackend,
    ) -> Result<()>;

    /// ConnectCustomKeyStore's contact with the backend, for a store it
    /// moves to CONNECTING: the connect sequence's outcome, or `None` if
    /// this kind connects under the lock instead.
    fn probe_connect(&self, env: &BackendEnv<'_>) -> Option<ConnectOutcome>;

    // ---- connect, disconnect --------------------------------------------

    /// Problems ConnectCustomKeyStore reports at once (the store stays
    /// DISCONNECTED).
    fn connect_precheck(&self, env: &BackendEnv<'_>) -> Result<()>;

    /// Finishes CONNECTING for store `id`: runs the connect sequence (or
    /// uses `probed`), commits through `put`, and returns the outcome for
    /// the caller to apply.
    fn connect(
        &self,
        env: &BackendEnv<'_>,
        id: &CustomKeyStoreId,
        probed: Option<ConnectOutcome>,
        put: PutState<'_>,
    ) -> Result<Finished>;

    /// Finishes DISCONNECTING: the backend's side of the disconnect,
    /// committed with the store's record (added by `put`, with the state
    /// the connection-state table's `Closed` event gives).
    fn disconnect(&self, env: &BackendEnv<'_>, put: PutClosed<'_>) -> Result<()>;

    // ---- keys ------------------------------------------------------------

    /// The origin of the keys this kind holds.
    fn key_origin(&self) -> OriginType;

    /// The backing of a new key in store `store` (parses CreateKey's
    /// `XksKeyId` where the kind needs one). Needs no state.
    fn new_key(&self, store: &CustomKeyStoreId, xks_key_id: Option<&str>) -> Result<Backing>;

    /// CreateKey's backend work for key `arn` with `backing`, called with
    /// no lock held; returns the key's own KMS material, if it has any.
    fn create_key(
        &self,
        env: &BackendEnv<'_>,
        arn: &str,
        backing: &Backing,
    ) -> Result<Option<KeyMaterial>>;

    /// Undoes [`create_key`](KeyStoreBackend::create_key) for key `arn`
    /// when CreateKey fails after it (the store changed meanwhile).
    fn abandon_key(&self, env: &CryptoEnv<'_>, arn: &str);

    /// What a cryptographic `op` on key `arn` in `store` uses (called
    /// under the store table's read lock, after the key-state check and
    /// the quota).
    fn key_access(
        &self,
        env: &CryptoEnv<'_>,
        store: &StoreEntry,
        arn: &str,
        op: KeyOperation,
    ) -> Result<KeyAccess>;

    /// GenerateRandom with the id of store `id`, in `state`: `n` bytes, or
    /// why not. Called with no lock held.
    fn random(
        &self,
        env: &BackendEnv<'_>,
        id: &CustomKeyStoreId,
        state: ConnectionState,
        n: usize,
    ) -> Result<Plaintext>;

    /// When key `arn` is deleted: the cluster whose key object KMS removes
    /// now, or `None` (nothing to remove, or it cannot be reached: the
    /// material stays behind, as in AWS).
    fn release_key(&self, env: &CryptoEnv<'_>, arn: &str) -> Option<ClusterId>;

    // ---- describe, records ----------------------------------------------

    /// The store's cluster, for KeyMetadata (`None` unless CloudHSM).
    fn cluster_id(&self) -> Option<&ClusterId>;

    /// The kind's fields of a DescribeCustomKeyStores entry.
    fn describe(&self) -> Described;

    /// The proxy route of these settings (external key stores).
    fn route(&self, deadline: Duration) -> Option<Arc<XksRoute>>;

    /// The durable record of these settings.
    fn to_record(&self) -> StoreBackendRecord;
}

/// A kind as a request names it: what CreateCustomKeyStore does before
/// there are settings. Found in the [`kinds`] table.
pub(crate) trait StoreKind: Sync {
    /// The type requests name.
    fn store_type(&self) -> CustomKeyStoreType;

    /// The origin of the keys this kind holds.
    fn key_origin(&self) -> OriginType;

    /// The syntax of this kind's members of an UpdateCustomKeyStore
    /// request, whatever the store's type (`ValidationException`, before
    /// the store is looked up). Needs no state.
    fn update_syntax(&self, req: &UpdateCustomKeyStoreRequest) -> Result<()>;

    /// CreateCustomKeyStore's shape for this kind (`ValidationException`);
    /// needs no state.
    fn shape(
        &self,
        env: &BackendEnv<'_>,
        req: &CreateCustomKeyStoreRequest,
    ) -> Result<Box<dyn NewStore>>;

    /// The settings a durable record of this kind holds; `None` if the
    /// record is of another kind.
    #[cfg_attr(
        not(any(feature = "durable", test)),
        allow(dead_code, reason = "records are read back by durable storage only")
    )]
    fn read_record(&self, rec: &StoreBackendRecord) -> Option<Result<StoreBackend>>;
}

/// A new store's settings, shape validated, before the checks that need
/// state.
pub(crate) trait NewStore {
    /// Whether creating the store contacts the backend, with no lock held,
    /// after [`NewStore::precheck`] (which then runs again under the lock).
    fn probes(&self) -> bool;

    /// The checks that need state and come before the probe.
    fn precheck(&self, env: &BackendEnv<'_>, table: &StoreTable) -> Result<()>;

    /// The contact with the backend, with no lock held; `name` is the new
    /// store's.
    fn probe(&self, env: &BackendEnv<'_>, name: &str) -> Result<()>;

    /// The last checks, under the store table's lock, and the settings.
    fn into_backend(
        self: Box<Self>,
        env: &BackendEnv<'_>,
        table: &StoreTable,
    ) -> Result<StoreBackend>;
}

impl StoreBackend {
    /// The contract of this store's kind: the one `match` on the kind.
    pub(crate) fn contract(&self) -> &dyn KeyStoreBackend {
        match self {
            StoreBackend::CloudHsm(c) => c,
            StoreBackend::External(x) => x,
        }
    }

    /// The settings, if they are of kind `T`.
    pub(crate) fn settings<T: 'static>(&self) -> Option<&T> {
        self.contract().as_any().downcast_ref()
    }

    /// The store's type.
    pub(crate) fn store_type(&self) -> CustomKeyStoreType {
        self.contract().store_type()
    }
}

/// The state CONNECTING ends in for a connect sequence's outcome.
pub(crate) fn connect_outcome(store_id: &str, outcome: ConnectOutcome) -> ConnectionState {
    let event = match outcome {
        Ok(()) => ConnectionEvent::Established,
        Err(code) => ConnectionEvent::AttemptFailed(code),
    };
    match ConnectionState::Connecting.apply(event, store_id) {
        Ok(Transition::To(next)) => next,
        _ => ConnectionState::Failed {
            code: ConnectionErrorCode::InternalError,
        },
    }
}
