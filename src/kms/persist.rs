//! The KMS side of durable storage: the records of keys, aliases and custom
//! key stores, the commit hooks the operations call, and key deletion at the
//! end of the waiting period.
//!
//! Every hook returns at once when the Kms is in memory. Durable, each
//! mutating operation follows one rule: **check, commit, then apply**. It
//! computes the new records from the checked request, commits them in one
//! transaction, and changes the in-memory state only if the commit
//! succeeded; a failed commit fails the call with `KMSInternalException`
//! and changes nothing. The lock a writer holds across its commit is an
//! *upgradable* read lock (writers of the same table wait; readers — the
//! cryptographic path — do not), upgraded to a write lock only to apply.
//!
//! | operation | commits | applies after |
//! |---|---|---|
//! | CreateKey | key + key state (+ the cluster's key object) | insert in the key table |
//! | Enable/DisableKey, Schedule/CancelKeyDeletion | key state | lifecycle + deletion schedule |
//! | TagResource, UntagResource, UpdateKeyDescription, PutKeyPolicy | key state | the key's mutable part |
//! | Create/Update/DeleteAlias | the alias | the alias table |
//! | key deletion when its window ends | key, key state, its aliases, its cluster key object | remove from the tables |
//! | custom key store operations | the store (+ the cluster, for connect/disconnect) | the store table |
//! | CloudHSM cluster changes | the cluster and its changed key objects | the cluster |
//!
//! A CloudHSM key's object is generated in the cluster before CreateKey
//! commits; if the commit fails it is discarded again. Key deletion and the
//! end of a stepped-mode connection change are due work: when and by which
//! call they are committed, and what happens when that commit fails, is
//! written once in `timers.rs`.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::sync::RwLockUpgradableReadGuard;
use zeroize::Zeroizing;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::{AliasName, KeyId};
use crate::key::KeyLifecycle;
use crate::storage::records::{
    AliasRecord, ConnectionRecord, KeyRecord, KeyStateRecord, LifecycleRecord, SecretBytes,
    StoreBackendRecord, StoreRecord, StoreStateRecord,
};
use crate::storage::{Batch, Table};
use crate::store::ConnectionState;
use crate::store::cloudhsm::CloudHsm;

use super::aliases::AliasEntry;
use super::model::store::{StoreBackend, StoreEntry};
use super::{Inner, KeyEntry, KeyMutable, Kms, KmsConfig, Timer};

impl Kms {
    /// Opens a service on the storage `config` names: a durable one
    /// (cargo feature `durable`) on the file given to
    /// `KmsConfig::with_durable_storage`,
    /// restoring everything it holds, or, without durable storage, a new
    /// service in memory (as [`Kms::new`]).
    ///
    /// Only one `Kms` (in one process) may have a file open at a time; it is
    /// closed when the last clone of the `Kms` (and of its
    /// [`cloudhsm`](Kms::cloudhsm) handle) is dropped.
    ///
    /// # Errors
    /// `IncorrectKeyException` when the root key is not the one the file is
    /// sealed under; `ValidationException` when the file belongs to another
    /// account, Region or seed; `KMSInternalException` when the file cannot
    /// be opened (missing directory, open elsewhere) or read, or is not a
    /// store.
    pub fn open(config: KmsConfig) -> Result<Kms> {
        #[cfg(feature = "durable")]
        {
            super::durable::open(config)
        }
        #[cfg(not(feature = "durable"))]
        {
            Ok(Kms::new(config))
        }
    }
}

pub(crate) fn lifecycle_record(l: KeyLifecycle) -> LifecycleRecord {
    match l {
        KeyLifecycle::Enabled => LifecycleRecord::Enabled,
        KeyLifecycle::Disabled => LifecycleRecord::Disabled,
        KeyLifecycle::PendingDeletion {
            deletion_date,
            window_days,
        } => LifecycleRecord::PendingDeletion {
            deletion_date: deletion_date.as_millis(),
            window_days,
        },
    }
}

pub(crate) fn key_state_record(m: &KeyMutable, lifecycle: KeyLifecycle) -> KeyStateRecord {
    KeyStateRecord {
        lifecycle: lifecycle_record(lifecycle),
        description: m.description.clone(),
        tags: m.tags.clone(),
        policy: m.policy.clone(),
    }
}

pub(crate) fn key_record(entry: &KeyEntry, order: u64) -> KeyRecord {
    KeyRecord {
        order,
        creation_date: entry.creation_date.as_millis(),
        backing: entry.backing.to_record(),
        material: entry
            .material
            .as_ref()
            .map(|m| SecretBytes(Zeroizing::new(*m.expose_secret()))),
    }
}

pub(crate) fn alias_record(a: &AliasEntry) -> AliasRecord {
    AliasRecord {
        target: a.target.to_string(),
        creation_date: a.creation_date.as_millis(),
        last_updated_date: a.last_updated_date.as_millis(),
    }
}

pub(crate) fn connection_record(s: ConnectionState) -> ConnectionRecord {
    match s {
        ConnectionState::Disconnected => ConnectionRecord::Disconnected,
        ConnectionState::Connecting => ConnectionRecord::Connecting,
        ConnectionState::Connected => ConnectionRecord::Connected,
        ConnectionState::Failed { code } => ConnectionRecord::Failed {
            code: code.as_str().to_owned(),
        },
        ConnectionState::Disconnecting => ConnectionRecord::Disconnecting,
    }
}

/// The record of a store's settings (each kind writes its own).
pub(crate) fn store_backend_record(b: &StoreBackend) -> StoreBackendRecord {
    b.contract().to_record()
}

/// The state record of store `s` with its state, name, stepped-mode due time
/// and settings replaced by the given ones.
pub(crate) fn store_state_record(
    name: &str,
    state: ConnectionState,
    transition_due: Option<Timestamp>,
    backend: &StoreBackend,
) -> StoreStateRecord {
    StoreStateRecord {
        name: name.to_owned(),
        state: connection_record(state),
        transition_due: transition_due.map(Timestamp::as_millis),
        backend: store_backend_record(backend),
    }
}

impl Inner {
    /// CreateKey's commit: the key, its state, and for a CloudHSM key the
    /// key object generated in the cluster (discarded again if the commit
    /// fails).
    pub(crate) fn persist_new_key(&self, entry: &KeyEntry) -> Result<()> {
        if !self.storage.is_durable() {
            return Ok(());
        }
        let cluster = entry
            .backing
            .store()
            .and_then(|store| self.store_cluster_id(store));
        let result = (|| {
            let mut batch = Batch::new();
            let id = entry.id.to_string();
            batch.put(
                Table::Keys,
                id.clone(),
                &key_record(entry, self.storage.next_order()),
            )?;
            let m = entry.state.read();
            batch.put(Table::KeyStates, id, &key_state_record(&m, m.lifecycle))?;
            drop(m);
            if let Some(cluster) = &cluster {
                self.cloudhsm
                    .put_key_object(cluster, &entry.arn, &mut batch)?;
            }
            self.storage.commit(batch)
        })();
        if result.is_err()
            && let Some(cluster) = &cluster
        {
            self.cloudhsm.discard_key_object(cluster, &entry.arn);
        }
        result
    }

    /// Commits key `entry`'s mutable part `m` with `lifecycle`.
    pub(crate) fn persist_key_state(
        &self,
        entry: &KeyEntry,
        m: &KeyMutable,
        lifecycle: KeyLifecycle,
    ) -> Result<()> {
        if !self.storage.is_durable() {
            return Ok(());
        }
        let mut batch = Batch::new();
        batch.put(
            Table::KeyStates,
            entry.id.to_string(),
            &key_state_record(m, lifecycle),
        )?;
        self.storage.commit(batch)
    }

    /// Commits alias `name` pointing as `alias` says, or its deletion.
    pub(crate) fn persist_alias(&self, name: &AliasName, alias: Option<&AliasEntry>) -> Result<()> {
        if !self.storage.is_durable() {
            return Ok(());
        }
        let mut batch = Batch::new();
        match alias {
            Some(a) => batch.put(Table::Aliases, name.to_string(), &alias_record(a))?,
            None => batch.delete(Table::Aliases, name.to_string()),
        }
        self.storage.commit(batch)
    }

    /// Adds store `store`'s state record, as given, to `batch` (in memory,
    /// nothing).
    pub(crate) fn put_store_state(
        &self,
        batch: &mut Batch,
        store: &StoreEntry,
        state: ConnectionState,
        transition_due: Option<Timestamp>,
        backend: &StoreBackend,
        name: Option<&str>,
    ) -> Result<()> {
        if !self.storage.is_durable() {
            return Ok(());
        }
        batch.put(
            Table::StoreStates,
            store.id.to_string(),
            &store_state_record(name.unwrap_or(&store.name), state, transition_due, backend),
        )
    }

    /// CreateCustomKeyStore's commit: the new store's records.
    pub(crate) fn persist_new_store(&self, store: &StoreEntry) -> Result<()> {
        if !self.storage.is_durable() {
            return Ok(());
        }
        let mut batch = Batch::new();
        batch.put(
            Table::Stores,
            store.id.to_string(),
            &StoreRecord {
                order: self.storage.next_order(),
                creation_date: store.creation_date.as_millis(),
            },
        )?;
        self.put_store_state(
            &mut batch,
            store,
            store.state,
            store.transition_due,
            &store.backend,
            None,
        )?;
        self.storage.commit(batch)
    }

    /// Commits a store change given as its new state, due time, settings and
    /// name (`None`: unchanged).
    pub(crate) fn persist_store(
        &self,
        store: &StoreEntry,
        state: ConnectionState,
        transition_due: Option<Timestamp>,
        backend: &StoreBackend,
        name: Option<&str>,
    ) -> Result<()> {
        if !self.storage.is_durable() {
            return Ok(());
        }
        let mut batch = Batch::new();
        self.put_store_state(&mut batch, store, state, transition_due, backend, name)?;
        self.storage.commit(batch)
    }

    /// DeleteCustomKeyStore's commit.
    pub(crate) fn persist_store_deleted(&self, store: &StoreEntry) -> Result<()> {
        if !self.storage.is_durable() {
            return Ok(());
        }
        let mut batch = Batch::new();
        batch.delete(Table::Stores, store.id.to_string());
        batch.delete(Table::StoreStates, store.id.to_string());
        self.storage.commit(batch)
    }

    /// Deletes the keys in `due` (deletion timers, see `timers.rs`) whose
    /// deletion date has passed by `now`, with their aliases and (best
    /// effort, as AWS) their CloudHSM key material.
    ///
    /// Linearizable against every change to those keys: the key table, the
    /// alias table and each key's own state lock are held from the re-check
    /// of the deletion date through the commit and the removal, and each
    /// deleted key is marked `deleted` under its lock, so a transition
    /// (CancelKeyDeletion) either comes first and keeps the key, or comes
    /// after and finds it gone. Durable, the deletion is committed first;
    /// if the commit fails nothing changes and the timers stay due.
    pub(crate) fn delete_due_keys(&self, due: &[(Timestamp, KeyId)], now: Timestamp) {
        // Lock order: keys → aliases → each key's state (in key id order).
        let keys = self.keys.upgradable_read();
        let aliases = self.aliases.upgradable_read();
        let mut candidates: Vec<(Timestamp, Arc<KeyEntry>)> = Vec::new();
        for (at, id) in due {
            match keys.get(id) {
                Some(entry) => candidates.push((*at, entry)),
                // Already gone: the timer is stale.
                None => self.timers.cancel(*at, Timer::KeyDeletion(*id)),
            }
        }
        candidates.sort_by_key(|(_, e)| e.id);
        let mut gone = Vec::new();
        for (at, entry) in &candidates {
            let m = entry.state.upgradable_read();
            match m.lifecycle.deletion_date() {
                Some(d) if d <= now => gone.push((entry, m)),
                // Cancelled or rescheduled: that change moved its timer,
                // but a timer left at `at` is stale either way.
                date => {
                    if date != Some(*at) {
                        self.timers.cancel(*at, Timer::KeyDeletion(entry.id));
                    }
                }
            }
        }
        if gone.is_empty() {
            return;
        }
        let ids: BTreeSet<KeyId> = gone.iter().map(|(e, _)| e.id).collect();
        // CloudHSM material KMS can delete now (the store is connected and
        // the cluster reachable); the rest stays behind, as in AWS.
        let material: Vec<(crate::ids::ClusterId, &str)> = gone
            .iter()
            .filter_map(|(e, _)| {
                let store = e.backing.store()?;
                self.release_key_material(store, &e.arn)
                    .map(|cluster| (cluster, e.arn.as_str()))
            })
            .collect();
        if self.storage.is_durable() {
            let mut batch = Batch::new();
            for (e, _) in &gone {
                batch.delete(Table::Keys, e.id.to_string());
                batch.delete(Table::KeyStates, e.id.to_string());
            }
            for name in aliases.names_targeting(&ids) {
                batch.delete(Table::Aliases, name.to_string());
            }
            for (cluster, label) in &material {
                CloudHsm::delete_key_object(cluster, label, &mut batch);
            }
            if self.storage.commit(batch).is_err() {
                // Still due: the next call retries.
                return;
            }
        }
        let mut keys = RwLockUpgradableReadGuard::upgrade(keys);
        for id in &ids {
            keys.remove(id);
        }
        drop(keys);
        // A deleted key's aliases go with it.
        RwLockUpgradableReadGuard::upgrade(aliases).remove_targets(&ids);
        for (cluster, label) in &material {
            self.cloudhsm.discard_key_object(cluster, label);
        }
        for (entry, m) in gone {
            if let Some(d) = m.lifecycle.deletion_date() {
                self.timers.cancel(d, Timer::KeyDeletion(entry.id));
            }
            RwLockUpgradableReadGuard::upgrade(m).deleted = true;
        }
    }
}
