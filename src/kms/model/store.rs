//! What a custom key store is: the settings of each kind
//! ([`CloudHsmStore`], [`XksStore`]) joined in [`StoreBackend`], the
//! store entry and the store table, and the proxy route derived from an
//! external key store's settings.
//!
//! Behaviour over the settings (validation, connect, keys, describe,
//! records) is each kind's contract in `kms/backend/`.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Timestamp;
use crate::crypto::SecretString;
use crate::ids::{AccountId, ClusterId, CustomKeyStoreId};
use crate::store::cloudhsm::CuPassword;
use crate::store::external::{XksCall, XksCredential, XksProxyUri};
use crate::store::{ConnectionErrorCode, ConnectionState, XksProxyConnectivityType};

use crate::kms::support::quota::Quota;

/// The settings of a CloudHSM key store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CloudHsmStore {
    pub(crate) cluster_id: ClusterId,
    pub(crate) trust_anchor_certificate: String,
    /// The certificate of the cluster the store was created with; clusters
    /// that share its backup history have the same one.
    pub(crate) cluster_certificate: String,
    /// The `kmsuser` password KMS knows: the caller's until the first
    /// connect, then the one KMS rotated it to.
    pub(crate) key_store_password: CuPassword,
}

/// The settings of an external key store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct XksStore {
    pub(crate) uri_endpoint: String,
    pub(crate) uri_path: String,
    pub(crate) connectivity: XksProxyConnectivityType,
    pub(crate) vpc_endpoint_service_name: Option<String>,
    pub(crate) vpc_endpoint_service_owner: Option<AccountId>,
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: SecretString,
}

/// A store's backend settings: one variant per custom key store kind.
/// Its one `match` (`StoreBackend::contract`, in `kms/backend/mod.rs`)
/// is where every difference between the kinds is dispatched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StoreBackend {
    CloudHsm(CloudHsmStore),
    External(XksStore),
}

/// The outcome of a connect sequence: `Err` is the FAILED code.
pub(crate) type ConnectOutcome = std::result::Result<(), ConnectionErrorCode>;

/// A custom key store.
#[derive(Clone, Debug)]
pub(crate) struct StoreEntry {
    pub(crate) id: CustomKeyStoreId,
    pub(crate) name: String,
    pub(crate) creation_date: Timestamp,
    pub(crate) state: ConnectionState,
    /// In stepped mode: when the pending CONNECTING/DISCONNECTING finishes.
    pub(crate) transition_due: Option<Timestamp>,
    pub(crate) backend: StoreBackend,
    /// The custom key store request quota (shared with the entry's
    /// published copies).
    pub(crate) bucket: Option<Arc<Quota>>,
    /// External key stores: the outcome of the connect sequence, which KMS
    /// runs before it takes the lock to move the store to CONNECTING; it is
    /// applied when CONNECTING finishes.
    pub(crate) connect_outcome: Option<ConnectOutcome>,
    /// External key stores: the proxy route derived from `backend`, kept in
    /// step with it by `StoreEntry::set_backend`.
    pub(crate) route: Option<Arc<XksRoute>>,
}

/// The stores, in creation order (at most ten, so a vector is the right map).
#[derive(Clone, Debug, Default)]
pub(crate) struct StoreTable {
    pub(crate) stores: Vec<StoreEntry>,
}

impl StoreTable {
    pub(crate) fn get(&self, id: &str) -> Option<&StoreEntry> {
        self.stores.iter().find(|s| s.id.as_str() == id)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut StoreEntry> {
        self.stores.iter_mut().find(|s| s.id.as_str() == id)
    }

    pub(crate) fn by_name(&self, name: &str) -> Option<&StoreEntry> {
        self.stores.iter().find(|s| s.name == name)
    }
}

/// How KMS reaches an external key store's proxy: the validated URI and
/// credential in a ready call envelope, and the connectivity. Built once
/// when the store's settings are set (see `StoreEntry::set_backend`), so a
/// cryptographic call neither re-validates nor copies the settings.
#[derive(Debug)]
pub(crate) struct XksRoute {
    pub(crate) call: XksCall,
    pub(crate) connectivity: XksProxyConnectivityType,
    pub(crate) vpc_endpoint_service_name: Option<String>,
}

impl XksRoute {
    /// The route of settings `cfg` with calls bounded by `deadline`; `None`
    /// if the settings do not validate (they always do once stored).
    pub(crate) fn new(cfg: &XksStore, deadline: Duration) -> Option<XksRoute> {
        let uri = XksProxyUri::new(&cfg.uri_endpoint, &cfg.uri_path).ok()?;
        let credential =
            XksCredential::new(&cfg.access_key_id, cfg.secret_access_key.expose_secret()).ok()?;
        Some(XksRoute {
            call: XksCall::new(uri, credential).with_deadline(deadline),
            connectivity: cfg.connectivity,
            vpc_endpoint_service_name: cfg.vpc_endpoint_service_name.clone(),
        })
    }
}
