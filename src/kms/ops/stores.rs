//! Custom key store operations common to both kinds: CreateCustomKeyStore,
//! DescribeCustomKeyStores, ConnectCustomKeyStore, DisconnectCustomKeyStore,
//! UpdateCustomKeyStore, DeleteCustomKeyStore.
//!
//! What differs between CloudHSM and external key stores (validation of the
//! backend settings, the connect sequence, key material) lives in
//! `backend/`; the connection state machine around it, and every step that
//! holds the store table's lock, is the service's (`service.rs`). This
//! module checks the requests and calls down.

use std::sync::Arc;

use crate::error::{Error, Result, Shown, Violation, kms_err};
use crate::store::{ConnectionState, CustomKeyStoreType};

use crate::kms::Kms;
use crate::kms::backend::kinds;
use crate::kms::model::store::{StoreEntry, StoreTable};
use crate::kms::shapes::types::{
    CreateCustomKeyStoreRequest, CreateCustomKeyStoreResponse, DescribeCustomKeyStoresRequest,
    DescribeCustomKeyStoresResponse, UpdateCustomKeyStoreRequest,
};
use crate::kms::support::access::{Action, Facts};
use crate::kms::support::errors::store_not_found as not_found;
use crate::kms::support::paging::{check_limit, decode_marker, encode_marker};
use crate::kms::support::quota::Quota;

/// Most custom key stores per account and Region.
pub const MAX_CUSTOM_KEY_STORES: usize = 10;

/// The checks every new store passes: the limit of ten stores
/// (`LimitExceededException`), then the name's uniqueness
/// (`CustomKeyStoreNameInUseException`).
fn check_new_store(table: &StoreTable, req: &CreateCustomKeyStoreRequest) -> Result<()> {
    if table.stores.len() >= MAX_CUSTOM_KEY_STORES {
        return Err(kms_err!(
            LimitExceeded,
            "The account already has {MAX_CUSTOM_KEY_STORES} custom key stores in this Region, the most allowed."
        ).with_hint("Delete one first."));
    }
    if table.by_name(&req.custom_key_store_name).is_some() {
        return Err(kms_err!(
            CustomKeyStoreNameInUse,
            "A custom key store named '{}' already exists.",
            req.custom_key_store_name
        )
        .with_hint("Choose another name."));
    }
    Ok(())
}

/// UpdateCustomKeyStore's syntax (`ValidationException`): every member
/// given meets the API's length and pattern, whatever the store's type.
/// Checked before the store is looked up, as AWS validates a request
/// against its model before anything else.
fn check_update_syntax(req: &UpdateCustomKeyStoreRequest) -> Result<()> {
    if let Some(name) = &req.new_custom_key_store_name {
        check_name("newCustomKeyStoreName", name)?;
    }
    kinds::update_syntax(req)
}

fn check_name(field: &str, name: &str) -> Result<()> {
    Error::check_all(Violation::length(
        field,
        name,
        || Shown::Value(name.to_owned()),
        1,
        256,
    ))
}

impl Kms {
    /// CreateCustomKeyStore: a CloudHSM key store (`AWS_CLOUDHSM`, the
    /// default) or an external key store (`EXTERNAL_KEY_STORE`). The new
    /// store is DISCONNECTED.
    ///
    /// Checks, in order: the request's shape (`ValidationException`: the
    /// name, then the members of the store's type — present, absent, length
    /// and pattern), the limit of ten stores (`LimitExceededException`),
    /// the name's uniqueness (`CustomKeyStoreNameInUseException`), then the
    /// backend's rules that need state (cluster, proxy URI uniqueness, VPC
    /// endpoint service, proxy contact).
    pub fn create_custom_key_store(
        &self,
        req: CreateCustomKeyStoreRequest,
    ) -> Result<CreateCustomKeyStoreResponse> {
        let cx = self.begin();
        self.inner
            .authorize_account(&cx, Action::CreateCustomKeyStore, &Facts::default())?;
        let inner = &*self.inner;
        // The request's shape first: ValidationException comes before any
        // check that needs the account's state.
        check_name("customKeyStoreName", &req.custom_key_store_name)?;
        let store_type = req
            .custom_key_store_type
            .unwrap_or(CustomKeyStoreType::AwsCloudhsm);
        let env = inner.backend_env(cx.now);
        let shape = kinds::of_type(store_type)?.shape(&env, &req)?;
        if shape.probes() {
            // KMS contacts the backend once every other check has passed,
            // with no lock held; the checks run again under the write lock
            // below.
            inner.read_stores(|table| {
                check_new_store(table, &req)?;
                shape.precheck(&env, table)
            })?;
            shape.probe(&env, &req.custom_key_store_name)?;
        }
        // Hold the table for the whole check-then-insert, so two concurrent
        // creates cannot both take the last slot or the same name
        // (upgradable: readers carry on while the store is committed).
        let id = inner.insert_store(|table| {
            check_new_store(table, &req)?;
            let backend = shape.into_backend(&env, table)?;
            let now = cx.now;
            Ok(StoreEntry {
                id: inner.new_store_id(table),
                name: req.custom_key_store_name.clone(),
                creation_date: now,
                state: ConnectionState::Disconnected,
                transition_due: None,
                route: StoreEntry::route_of(&backend, inner.xks_timeout),
                backend,
                bucket: inner
                    .quotas
                    .custom_key_store_requests_per_second
                    .map(|rate| Arc::new(Quota::new(rate, now))),
                connect_outcome: None,
            })
        })?;
        Ok(CreateCustomKeyStoreResponse {
            custom_key_store_id: id,
        })
    }

    /// DescribeCustomKeyStores: every store, or one by `CustomKeyStoreId` or
    /// `CustomKeyStoreName` (not both); `Limit` 1–1000 and `Marker` paging.
    pub fn describe_custom_key_stores(
        &self,
        req: DescribeCustomKeyStoresRequest,
    ) -> Result<DescribeCustomKeyStoresResponse> {
        let cx = self.begin();
        self.inner
            .authorize_account(&cx, Action::DescribeCustomKeyStores, &Facts::default())?;
        let inner = &*self.inner;
        if req.custom_key_store_id.is_some() && req.custom_key_store_name.is_some() {
            return Err(kms_err!(
                Validation,
                "CustomKeyStoreId and CustomKeyStoreName cannot both be specified."
            )
            .with_hint("Give one of them, or neither to describe every key store."));
        }
        let limit = check_limit(req.limit, 1000, 1000)?;
        let from = match &req.marker {
            None => 0,
            Some(m) => decode_marker(m)?,
        };
        inner.read_stores(|table| {
            let selected: Vec<&StoreEntry> =
                match (&req.custom_key_store_id, &req.custom_key_store_name) {
                    (Some(id), _) => vec![table.get(id).ok_or_else(|| not_found(id))?],
                    (_, Some(name)) => vec![table.by_name(name).ok_or_else(|| {
                        kms_err!(
                            CustomKeyStoreNotFound,
                            "No custom key store is named '{name}' in this account and Region."
                        )
                    })?],
                    _ => table.stores.iter().collect(),
                };
            let start = usize::try_from(from).unwrap_or(usize::MAX);
            if start > selected.len() {
                return Err(kms_err!(
                    InvalidMarker,
                    "The marker is not one this service returned for this listing."
                ));
            }
            let end = start.saturating_add(limit).min(selected.len());
            let page = selected[start..end]
                .iter()
                .map(|s| inner.list_entry(s))
                .collect();
            let truncated = end < selected.len();
            Ok(DescribeCustomKeyStoresResponse {
                custom_key_stores: page,
                next_marker: truncated.then(|| encode_marker(end as u64)),
                truncated,
            })
        })
    }

    /// ConnectCustomKeyStore. From DISCONNECTED the store goes CONNECTING,
    /// then CONNECTED or FAILED with a `ConnectionErrorCode` (at once in the
    /// default [`ConnectionMode::Immediate`](crate::kms::ConnectionMode::Immediate)). Already CONNECTING or CONNECTED:
    /// a successful no-op. FAILED or DISCONNECTING:
    /// `CustomKeyStoreInvalidStateException`. Some problems are found at once
    /// and thrown, leaving the store DISCONNECTED.
    pub fn connect_custom_key_store(&self, custom_key_store_id: &str) -> Result<()> {
        let cx = self.begin();
        self.inner
            .authorize_account(&cx, Action::ConnectCustomKeyStore, &Facts::default())?;
        let inner = &*self.inner;
        inner.connect_store(custom_key_store_id, cx.now)
    }

    /// DisconnectCustomKeyStore: CONNECTED, CONNECTING or FAILED →
    /// DISCONNECTING → DISCONNECTED. Keys in the store read `Unavailable`
    /// (except those pending deletion).
    pub fn disconnect_custom_key_store(&self, custom_key_store_id: &str) -> Result<()> {
        let cx = self.begin();
        self.inner
            .authorize_account(&cx, Action::DisconnectCustomKeyStore, &Facts::default())?;
        let inner = &*self.inner;
        inner.disconnect_store(custom_key_store_id, cx.now)
    }

    /// UpdateCustomKeyStore. The name (and, for external key stores, the
    /// credential and the URI path) may change while CONNECTED or
    /// DISCONNECTED; everything else needs DISCONNECTED.
    ///
    /// Checks, in order: the syntax of every member given
    /// (`ValidationException`, before the store is looked up), the store
    /// exists (`CustomKeyStoreNotFoundException`), no member of the other
    /// store type is given (`ValidationException`), the connection state
    /// (`CustomKeyStoreInvalidStateException`), the new name's uniqueness
    /// (`CustomKeyStoreNameInUseException`), then the backend's rules —
    /// including the `ValidationException`s that depend on the store's
    /// current settings (a change of connectivity, VPC members on a
    /// `PUBLIC_ENDPOINT` store).
    ///
    /// For an external key store KMS also asks the proxy for its health with
    /// the new settings. That call is made once every check has passed and
    /// with no lock held; the update is applied only if the store did not
    /// change meanwhile (otherwise everything runs again).
    pub fn update_custom_key_store(&self, req: UpdateCustomKeyStoreRequest) -> Result<()> {
        let cx = self.begin();
        self.inner
            .authorize_account(&cx, Action::UpdateCustomKeyStore, &Facts::default())?;
        let inner = &*self.inner;
        check_update_syntax(&req)?;
        inner.update_store(&req, cx.now)
    }

    /// DeleteCustomKeyStore: only a DISCONNECTED store that holds no KMS keys
    /// (in any state, including PendingDeletion). The cluster or external key
    /// manager is left untouched.
    pub fn delete_custom_key_store(&self, custom_key_store_id: &str) -> Result<()> {
        let cx = self.begin();
        self.inner
            .authorize_account(&cx, Action::DeleteCustomKeyStore, &Facts::default())?;
        let inner = &*self.inner;
        inner.delete_store(custom_key_store_id)
    }
}
