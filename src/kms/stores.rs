//! Custom key store operations common to both kinds: CreateCustomKeyStore,
//! DescribeCustomKeyStores, ConnectCustomKeyStore, DisconnectCustomKeyStore,
//! UpdateCustomKeyStore, DeleteCustomKeyStore — and the store table.
//!
//! What differs between CloudHSM and external key stores (validation of the
//! backend settings, the connect sequence, key material) lives in
//! `kms/cloudhsm.rs` and `kms/external.rs`; this module runs the connection
//! state machine and the connection-state table around them.

use std::sync::Arc;
use std::time::Duration;

use crate::sync::{Mutex, RwLockUpgradableReadGuard};

use crate::clock::Timestamp;
use crate::crypto::{KeyMaterial, Plaintext};
use crate::error::{Error, Result, kms_err};
use crate::ids::{ClusterId, CustomKeyStoreId, XksKeyId};
use crate::key::OriginType;
use crate::storage::Batch;
use crate::store::cloudhsm::CloudHsm;
use crate::store::{
    self, ConnectionErrorCode, ConnectionEvent, ConnectionState, CustomKeyStoreType,
    StoreOperation, Transition,
};

use super::backend::Finished;
use super::backend::kinds;
use super::env::{BackendEnv, CryptoEnv};
use super::keys::{check_limit, decode_marker, encode_marker};
use super::model::store::{ConnectOutcome, StoreBackend, StoreEntry, StoreTable, XksRoute};
use super::quota::TokenBucket;
use super::support::errors::{store_not_found as not_found, xks_key_already_in_use};
use super::{
    Backing, ConnectionMode, CreateCustomKeyStoreRequest, CreateCustomKeyStoreResponse,
    CustomKeyStoresListEntry, DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse,
    Inner, KeyTable, Kms, Timer, UpdateCustomKeyStoreRequest,
};

/// Most custom key stores per account and Region.
pub const MAX_CUSTOM_KEY_STORES: usize = 10;

impl StoreEntry {
    /// The proxy route of `backend`: for an external key store, the
    /// validated call envelope its cryptographic calls use.
    pub(crate) fn route_of(backend: &StoreBackend, deadline: Duration) -> Option<Arc<XksRoute>> {
        backend.contract().route(deadline)
    }

    /// Replaces the backend settings and the route derived from them.
    pub(crate) fn set_backend(&mut self, backend: StoreBackend, deadline: Duration) {
        self.route = StoreEntry::route_of(&backend, deadline);
        self.backend = backend;
    }
}

impl Kms {
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

/// The checks every new store passes: the limit of ten stores
/// (`LimitExceededException`), then the name's uniqueness
/// (`CustomKeyStoreNameInUseException`).
fn check_new_store(table: &StoreTable, req: &CreateCustomKeyStoreRequest) -> Result<()> {
    if table.stores.len() >= MAX_CUSTOM_KEY_STORES {
        return Err(kms_err!(
            LimitExceeded,
            "The account already has {MAX_CUSTOM_KEY_STORES} custom key stores in this Region, the most allowed. Delete one first."
        ));
    }
    if table.by_name(&req.custom_key_store_name).is_some() {
        return Err(kms_err!(
            CustomKeyStoreNameInUse,
            "A custom key store named '{}' already exists. Choose another name.",
            req.custom_key_store_name
        ));
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
    let n = name.chars().count();
    if !(1..=256).contains(&n) {
        return Err(Error::validation(
            field,
            "Member must have length between 1 and 256",
        ));
    }
    Ok(())
}

/// The state DISCONNECTING ends in, by the connection-state table
/// (`Closed`): DISCONNECTED.
pub(crate) fn disconnect_closed(store_id: &str) -> Result<ConnectionState> {
    match ConnectionState::Disconnecting.apply(ConnectionEvent::Closed, store_id)? {
        Transition::To(next) => Ok(next),
        Transition::NoOp => Ok(ConnectionState::Disconnecting),
    }
}

impl Inner {
    /// Finishes store `id`'s stepped-mode transition due at `at` (a timer
    /// [`Inner::advance`] found due by `now`): runs the backend's part,
    /// commits, applies, and removes the timer — all under the store
    /// table's lock, so Connect, Disconnect, Update and Delete of the store
    /// come wholly before or after. A timer that no longer matches the
    /// store (deleted, or its transition moved) is dropped. One whose
    /// change cannot be committed (durable storage) stays due.
    pub(crate) fn finish_due_transition(
        &self,
        id: &CustomKeyStoreId,
        at: Timestamp,
        now: Timestamp,
    ) {
        let timer = Timer::StoreTransition(id.clone());
        let table = self.stores.upgradable_read();
        let Some(store) = table.get(id.as_str()) else {
            self.timers.cancel(at, timer);
            return;
        };
        if store.transition_due != Some(at) || at > now {
            // Stale (or, never, early): only a stale timer is dropped.
            if store.transition_due != Some(at) {
                self.timers.cancel(at, timer);
            }
            return;
        }
        let Ok(finished) = self.finish_transition(store, store.state, store.connect_outcome, now)
        else {
            return;
        };
        let mut table = RwLockUpgradableReadGuard::upgrade(table);
        if let Some(store) = table.get_mut(id.as_str()) {
            store.transition_due = None;
            store.connect_outcome = None;
            store.state = finished.state;
            store.set_backend(finished.backend, self.xks_timeout);
        }
        self.timers.cancel(at, timer);
    }

    /// Completes `from` — CONNECTING (running the backend's connect
    /// sequence) or DISCONNECTING — for `store`, and commits the outcome;
    /// the caller applies it. `xks_outcome` is an external key store's
    /// connect outcome, probed with no lock held.
    fn finish_transition(
        &self,
        store: &StoreEntry,
        from: ConnectionState,
        xks_outcome: Option<std::result::Result<(), ConnectionErrorCode>>,
        now: Timestamp,
    ) -> Result<Finished> {
        match from {
            ConnectionState::Connecting => self.backend_connect(store, xks_outcome, now),
            ConnectionState::Disconnecting => self.backend_disconnect(store, now),
            state => Ok(Finished {
                state,
                backend: store.backend.clone(),
            }),
        }
    }

    /// After `store` moved to `next` (CONNECTING or DISCONNECTING): finishes
    /// it now ([`ConnectionMode::Immediate`]) or when the clock has moved on
    /// ([`ConnectionMode::Stepped`]). Commits, then applies.
    fn finish_or_schedule(
        &self,
        table: RwLockUpgradableReadGuard<'_, StoreTable>,
        id: &str,
        next: ConnectionState,
        xks_outcome: Option<std::result::Result<(), ConnectionErrorCode>>,
        now: Timestamp,
    ) -> Result<()> {
        let store = table.get(id).ok_or_else(|| not_found(id))?;
        let (finished, due) = match self.connection_mode {
            ConnectionMode::Immediate => {
                (self.finish_transition(store, next, xks_outcome, now)?, None)
            }
            ConnectionMode::Stepped { duration_millis } => {
                let due = now.saturating_add(Duration::from_millis(duration_millis));
                self.persist_store(store, next, Some(due), &store.backend, None)?;
                let backend = store.backend.clone();
                (
                    Finished {
                        state: next,
                        backend,
                    },
                    Some(due),
                )
            }
        };
        let mut table = RwLockUpgradableReadGuard::upgrade(table);
        let store = table
            .get_mut(id)
            .ok_or_else(|| Error::internal("store vanished under its lock"))?;
        store.state = finished.state;
        store.set_backend(finished.backend, self.xks_timeout);
        self.timers.replace(
            store.transition_due,
            due,
            Timer::StoreTransition(store.id.clone()),
        );
        store.transition_due = due;
        // Kept for the end of a stepped CONNECTING.
        store.connect_outcome = if due.is_some() { xks_outcome } else { None };
        Ok(())
    }

    /// The narrow environment a backend's control-plane call receives, at
    /// the call's `now`.
    pub(crate) fn backend_env(&self, now: Timestamp) -> BackendEnv<'_> {
        BackendEnv {
            now,
            storage: &self.storage,
            account_id: &self.account_id,
            xks_timeout: self.xks_timeout,
            crypto: self.crypto_env(),
        }
    }

    /// The narrow environment a backend's data-plane call receives (built
    /// from references only: nothing is read or allocated).
    pub(crate) fn crypto_env(&self) -> CryptoEnv<'_> {
        CryptoEnv {
            rng: &self.rng,
            cloudhsm: &self.cloudhsm,
            xks: &self.xks_network,
            principal_arn: &self.principal_arn,
        }
    }

    /// ConnectCustomKeyStore's probe, with no lock held: for store `id`,
    /// DISCONNECTED and of a kind that probes, the settings probed and the
    /// outcome (the store's lock is held only to copy the settings).
    fn connect_probe(
        &self,
        env: &BackendEnv<'_>,
        id: &str,
    ) -> Option<(StoreBackend, Option<ConnectOutcome>)> {
        let backend = {
            let table = self.stores.read();
            let store = table.get(id)?;
            if !(store.backend.contract().probes() && store.state == ConnectionState::Disconnected)
            {
                return None;
            }
            store.backend.clone()
        };
        let outcome = backend.contract().probe_connect(env);
        Some((backend, outcome))
    }

    /// Runs the backend's connect sequence and commits the store's outcome.
    fn backend_connect(
        &self,
        store: &StoreEntry,
        xks_outcome: Option<ConnectOutcome>,
        now: Timestamp,
    ) -> Result<Finished> {
        let mut put = |batch: &mut Batch, state: ConnectionState, backend: &StoreBackend| {
            self.put_store_state(batch, store, state, None, backend, None)
        };
        store
            .backend
            .contract()
            .connect(&self.backend_env(now), &store.id, xks_outcome, &mut put)
    }

    /// Runs the backend's disconnect and commits the store DISCONNECTED.
    fn backend_disconnect(&self, store: &StoreEntry, now: Timestamp) -> Result<Finished> {
        let state = disconnect_closed(store.id.as_str())?;
        let mut put = |batch: &mut Batch, backend: &StoreBackend| {
            self.put_store_state(batch, store, state, None, backend, None)
        };
        store
            .backend
            .contract()
            .disconnect(&self.backend_env(now), &mut put)?;
        Ok(Finished {
            state,
            backend: store.backend.clone(),
        })
    }

    /// Whether the store `id` is CONNECTED (false if it does not exist).
    pub(crate) fn store_connected(&self, id: &CustomKeyStoreId) -> bool {
        self.stores
            .read()
            .get(id.as_str())
            .is_some_and(|s| s.state.is_connected())
    }

    /// Takes one request from `store`'s quota, or `ThrottlingException`.
    pub(crate) fn take_store_quota(&self, store: &StoreEntry, now: Timestamp) -> Result<()> {
        let id = &store.id;
        let Some(bucket) = &store.bucket else {
            return Ok(());
        };
        if bucket.lock().try_take(now) {
            Ok(())
        } else {
            Err(kms_err!(
                Throttling,
                "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls. (Custom key store {id} request quota.)"
            ))
        }
    }

    /// The cluster of CloudHSM store `id`, if it exists.
    pub(crate) fn store_cluster_id(&self, id: &CustomKeyStoreId) -> Option<ClusterId> {
        self.stores
            .read()
            .get(id.as_str())?
            .backend
            .contract()
            .cluster_id()
            .cloned()
    }

    /// CreateKey in a custom key store: the store exists
    /// (`CustomKeyStoreNotFoundException`), is of the origin's type
    /// (`UnsupportedOperationException`) and CONNECTED
    /// (`CustomKeyStoreInvalidStateException`); a key that claims an
    /// external key needs one no other key of the store uses
    /// (`XksKeyAlreadyInUseException`); then the backend makes the key's
    /// material, with no lock held. Returns where the material is.
    pub(crate) fn create_key_in_store(
        &self,
        origin: OriginType,
        store_id: &str,
        arn: &str,
        xks_key_id: Option<&str>,
        now: Timestamp,
    ) -> Result<(Backing, Option<KeyMaterial>)> {
        let (backing, backend) = {
            let table = self.stores.read();
            let store = table.get(store_id).ok_or_else(|| not_found(store_id))?;
            let contract = store.backend.contract();
            if contract.key_origin() != origin {
                let wanted = kinds::of_origin(origin)
                    .map_or(CustomKeyStoreType::ExternalKeyStore, |k| k.store_type());
                return Err(kms_err!(
                    UnsupportedOperation,
                    "Custom key store {store_id} is of type {}; keys with Origin {origin} need a store of type {wanted}.",
                    store.backend.store_type()
                ));
            }
            store::check(StoreOperation::CreateKey, store.state, store.id.as_str())?;
            (
                contract.new_key(&store.id, xks_key_id)?,
                store.backend.clone(),
            )
        };
        if let Some((store, xks_key_id)) = backing.external_key()
            && self.xks_key_in_use(&self.keys.read(), store, xks_key_id)
        {
            return Err(xks_key_already_in_use(xks_key_id));
        }
        let material = match backend
            .contract()
            .create_key(&self.backend_env(now), arn, &backing)
        {
            Ok(material) => material,
            Err(e) => {
                // The store was disconnected or deleted while the backend
                // worked (a disconnect logs KMS out of the cluster): the
                // call then comes after that change, and answers as it
                // would have, in order. Upgradable: a change that is
                // committed but not yet applied finishes first.
                let table = self.stores.upgradable_read();
                let store = table.get(store_id).ok_or_else(|| not_found(store_id))?;
                store::check(StoreOperation::CreateKey, store.state, store.id.as_str())?;
                return Err(e);
            }
        };
        Ok((backing, material))
    }

    /// Whether another key in `store` already uses `xks_key_id`.
    pub(crate) fn xks_key_in_use(
        &self,
        keys: &KeyTable,
        store: &CustomKeyStoreId,
        xks_key_id: &XksKeyId,
    ) -> bool {
        keys.iter()
            .any(|k| k.backing.external_key() == Some((store, xks_key_id)))
    }

    /// GenerateRandom with a `CustomKeyStoreId`: bytes from a CONNECTED
    /// CloudHSM store's cluster. An external key store is
    /// `UnsupportedOperationException`.
    pub(crate) fn store_random(
        &self,
        store_id: &str,
        n: usize,
        now: Timestamp,
    ) -> Result<Plaintext> {
        // Copied out, so that no store lock is held during the cluster's work.
        let (backend, id, state) = {
            let table = self.stores.read();
            let store = table.get(store_id).ok_or_else(|| not_found(store_id))?;
            (store.backend.clone(), store.id.clone(), store.state)
        };
        backend
            .contract()
            .random(&self.backend_env(now), &id, state, n)
    }

    /// When key `arn` in `store` is deleted: the cluster whose key object
    /// KMS removes with it, if any (see `KeyStoreBackend::release_key`).
    pub(crate) fn release_key_material(
        &self,
        store: &CustomKeyStoreId,
        arn: &str,
    ) -> Option<ClusterId> {
        // Copied out: no store lock is held during the cluster's check.
        let backend = self.stores.read().get(store.as_str())?.backend.clone();
        backend.contract().release_key(&self.crypto_env(), arn)
    }

    /// UpdateCustomKeyStore's checks after the request's syntax
    /// ([`check_update_syntax`]), in order: the store exists, no member of
    /// the other store type is given (`ValidationException`), its connection
    /// state allows the fields given, the new name is free, then the
    /// backend's rules (those that depend on the store's settings, such as
    /// a change of connectivity, and those that need other state). Returns
    /// the new backend settings; changes nothing.
    fn plan_update(
        &self,
        table: &StoreTable,
        req: &UpdateCustomKeyStoreRequest,
        now: Timestamp,
    ) -> Result<StoreBackend> {
        let store = table
            .get(&req.custom_key_store_id)
            .ok_or_else(|| not_found(&req.custom_key_store_id))?;
        let contract = store.backend.contract();
        contract.update_shape(req)?;
        let op = if contract.update_while_connected(req) {
            StoreOperation::UpdateWhileConnectedAllowed
        } else {
            StoreOperation::UpdateDisconnectedOnly
        };
        store::check(op, store.state, store.id.as_str())?;
        if let Some(name) = &req.new_custom_key_store_name
            && table
                .by_name(name)
                .is_some_and(|other| other.id != store.id)
        {
            return Err(kms_err!(
                CustomKeyStoreNameInUse,
                "A custom key store named '{name}' already exists. Choose another name."
            ));
        }
        contract.plan_update(&self.backend_env(now), &store.id, req, table)
    }

    fn new_store_id(&self, table: &StoreTable) -> CustomKeyStoreId {
        loop {
            let id = CustomKeyStoreId::from_random_bytes(self.rng.array());
            if table.get(id.as_str()).is_none() {
                return id;
            }
        }
    }

    fn list_entry(&self, s: &StoreEntry) -> CustomKeyStoresListEntry {
        let described = s.backend.contract().describe();
        CustomKeyStoresListEntry {
            custom_key_store_id: s.id.clone(),
            custom_key_store_name: s.name.clone(),
            cloud_hsm_cluster_id: described.cloud_hsm_cluster_id,
            trust_anchor_certificate: described.trust_anchor_certificate,
            connection_state: s.state.state_type(),
            connection_error_code: s.state.error_code(),
            creation_date: s.creation_date,
            custom_key_store_type: s.backend.store_type(),
            xks_proxy_configuration: described.xks_proxy_configuration,
        }
    }
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
        let cx = self.inner.begin();
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
            {
                let table = inner.stores.read();
                check_new_store(&table, &req)?;
                shape.precheck(&env, &table)?;
            }
            shape.probe(&env, &req.custom_key_store_name)?;
        }
        // Hold the table for the whole check-then-insert, so two concurrent
        // creates cannot both take the last slot or the same name
        // (upgradable: readers carry on while the store is committed).
        let table = inner.stores.upgradable_read();
        check_new_store(&table, &req)?;
        let backend = shape.into_backend(&env, &table)?;
        let now = cx.now;
        let id = inner.new_store_id(&table);
        let entry = StoreEntry {
            id: id.clone(),
            name: req.custom_key_store_name,
            creation_date: now,
            state: ConnectionState::Disconnected,
            transition_due: None,
            route: StoreEntry::route_of(&backend, inner.xks_timeout),
            backend,
            bucket: inner
                .quotas
                .custom_key_store_requests_per_second
                .map(|rate| Mutex::new(TokenBucket::new(rate, now))),
            connect_outcome: None,
        };
        inner.persist_new_store(&entry)?;
        RwLockUpgradableReadGuard::upgrade(table).stores.push(entry);
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
        let _cx = self.inner.begin();
        let inner = &*self.inner;
        if req.custom_key_store_id.is_some() && req.custom_key_store_name.is_some() {
            return Err(Error::validation(
                "customKeyStoreName",
                "Specify either CustomKeyStoreId or CustomKeyStoreName, not both",
            ));
        }
        let limit = check_limit(req.limit, 1000, 1000)?;
        let from = match &req.marker {
            None => 0,
            Some(m) => decode_marker(m)?,
        };
        let table = inner.stores.read();
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
    }

    /// ConnectCustomKeyStore. From DISCONNECTED the store goes CONNECTING,
    /// then CONNECTED or FAILED with a `ConnectionErrorCode` (at once in the
    /// default [`ConnectionMode::Immediate`]). Already CONNECTING or CONNECTED:
    /// a successful no-op. FAILED or DISCONNECTING:
    /// `CustomKeyStoreInvalidStateException`. Some problems are found at once
    /// and thrown, leaving the store DISCONNECTED.
    pub fn connect_custom_key_store(&self, custom_key_store_id: &str) -> Result<()> {
        let cx = self.inner.begin();
        let inner = &*self.inner;
        // External key stores: KMS's test request to the proxy is made before
        // the lock is taken, and used only if the store's settings are still
        // the ones probed (otherwise probe again).
        // (Upgradable: readers carry on while the change is committed.)
        let env = inner.backend_env(cx.now);
        let (table, xks_outcome) = loop {
            let probe = inner.connect_probe(&env, custom_key_store_id);
            let table = inner.stores.upgradable_read();
            let store = table
                .get(custom_key_store_id)
                .ok_or_else(|| not_found(custom_key_store_id))?;
            let mut xks_outcome = None;
            if store.backend.contract().probes() && store.state == ConnectionState::Disconnected {
                match probe {
                    Some((probed, outcome)) if probed == store.backend => xks_outcome = outcome,
                    _ => continue,
                }
            }
            break (table, xks_outcome);
        };
        let store = table
            .get(custom_key_store_id)
            .ok_or_else(|| not_found(custom_key_store_id))?;
        let next = match store
            .state
            .apply(ConnectionEvent::Connect, store.id.as_str())?
        {
            Transition::NoOp => return Ok(()),
            Transition::To(next) => next,
        };
        store.backend.contract().connect_precheck(&env)?;
        inner.finish_or_schedule(table, custom_key_store_id, next, xks_outcome, cx.now)
    }

    /// DisconnectCustomKeyStore: CONNECTED, CONNECTING or FAILED →
    /// DISCONNECTING → DISCONNECTED. Keys in the store read `Unavailable`
    /// (except those pending deletion).
    pub fn disconnect_custom_key_store(&self, custom_key_store_id: &str) -> Result<()> {
        let cx = self.inner.begin();
        let inner = &*self.inner;
        let table = inner.stores.upgradable_read();
        let store = table
            .get(custom_key_store_id)
            .ok_or_else(|| not_found(custom_key_store_id))?;
        let Transition::To(next) = store
            .state
            .apply(ConnectionEvent::Disconnect, store.id.as_str())?
        else {
            return Ok(());
        };
        inner.finish_or_schedule(table, custom_key_store_id, next, None, cx.now)
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
        let cx = self.inner.begin();
        let inner = &*self.inner;
        check_update_syntax(&req)?;
        loop {
            // A backend that is contacted with no lock held plans the
            // update on a snapshot first, and probes the new settings.
            let snapshot = {
                let table = inner.stores.read();
                let store = table
                    .get(&req.custom_key_store_id)
                    .ok_or_else(|| not_found(&req.custom_key_store_id))?;
                if store.backend.contract().probes() {
                    let new = inner.plan_update(&table, &req, cx.now)?;
                    Some((store.backend.clone(), store.state, new))
                } else {
                    None
                }
            };
            if let Some((old, state, new)) = &snapshot {
                old.contract().probe_update(
                    &inner.backend_env(cx.now),
                    &req.custom_key_store_id,
                    *state,
                    new,
                )?;
            }
            // Upgradable: readers carry on while the change is committed.
            let table = inner.stores.upgradable_read();
            let backend = inner.plan_update(&table, &req, cx.now)?;
            let store = table
                .get(&req.custom_key_store_id)
                .ok_or_else(|| Error::internal("store vanished under the lock"))?;
            if let Some((old, state, _)) = &snapshot
                && (store.backend != *old || store.state != *state)
            {
                continue;
            }
            inner.persist_store(
                store,
                store.state,
                store.transition_due,
                &backend,
                req.new_custom_key_store_name.as_deref(),
            )?;
            let mut table = RwLockUpgradableReadGuard::upgrade(table);
            let store = table
                .get_mut(&req.custom_key_store_id)
                .ok_or_else(|| Error::internal("store vanished under the lock"))?;
            if let Some(name) = &req.new_custom_key_store_name {
                store.name.clone_from(name);
            }
            store.set_backend(backend, inner.xks_timeout);
            return Ok(());
        }
    }

    /// DeleteCustomKeyStore: only a DISCONNECTED store that holds no KMS keys
    /// (in any state, including PendingDeletion). The cluster or external key
    /// manager is left untouched.
    pub fn delete_custom_key_store(&self, custom_key_store_id: &str) -> Result<()> {
        let _cx = self.inner.begin();
        let inner = &*self.inner;
        // Lock order: keys, then stores. Holding the key table keeps a key
        // from being created in the store between the check and the removal.
        // (Upgradable locks: readers carry on while the deletion is committed.)
        let keys = inner.keys.upgradable_read();
        let table = inner.stores.upgradable_read();
        let store = table
            .get(custom_key_store_id)
            .ok_or_else(|| not_found(custom_key_store_id))?;
        store::check(StoreOperation::Delete, store.state, store.id.as_str())?;
        if keys.iter().any(|k| k.backing.store() == Some(&store.id)) {
            return Err(kms_err!(
                CustomKeyStoreHasCmks,
                "Custom key store {custom_key_store_id} still holds KMS keys. Schedule their deletion and wait for the waiting period to end."
            ));
        }
        inner.persist_store_deleted(store)?;
        RwLockUpgradableReadGuard::upgrade(table)
            .stores
            .retain(|s| s.id.as_str() != custom_key_store_id);
        drop(keys);
        Ok(())
    }
}
