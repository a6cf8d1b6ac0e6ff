//! The persistence layer: model → records (here: the records of keys,
//! aliases and custom key stores, and the commit helpers of [`Commit`]) and
//! records → model (`durable.rs`: opening a durable service), side by side.
//! It knows the model and the storage, never the service's locks: the
//! service (`service.rs`) calls it with the locks held.
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
//! | Enable/DisableKeyRotation, RotateKeyOnDemand, an automatic rotation | key state (the versions after the first are in it) | the schedule; the new version published |
//! | TagResource, UntagResource, UpdateKeyDescription, PutKeyPolicy | key state | the key's mutable part |
//! | CreateGrant, RetireGrant, RevokeGrant | key state (its grants are in it) | the key's grants |
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

use zeroize::Zeroizing;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::ids::{AliasName, ClusterId};
use crate::key::{KeyLifecycle, KeyManager};
use crate::storage::records::{
    AliasRecord, ConnectionRecord, ExpirationRecord, GrantRecord, ImportRecord,
    ImportedMaterialRecord, KeyRecord, KeyStateRecord, LifecycleRecord, MultiRegionRecord,
    RotationRecord, RotationScheduleRecord, SecretBytes, SecretVec, StoreBackendRecord,
    StoreRecord, StoreStateRecord,
};
use crate::storage::{Batch, Storage, Table};
use crate::store::ConnectionState;
use crate::store::cloudhsm::CloudHsm;

#[cfg(feature = "durable")]
pub(crate) mod durable;

use super::model::aliases::AliasEntry;
use super::model::grants::Grant;
use super::model::import::{Expiration, ImportState, ImportedSecret};
use super::model::key::{KeyEntry, KeyMutable};
use super::model::store::{StoreBackend, StoreEntry};
use super::model::versions::{MaterialVersion, RotationKind, RotationSchedule};

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
        KeyLifecycle::PendingReplicaDeletion { window_days } => {
            LifecycleRecord::PendingReplicaDeletion { window_days }
        }
        KeyLifecycle::PendingImport => LifecycleRecord::PendingImport,
    }
}

/// The state record of `entry`: its mutable part `m` with `lifecycle`, and
/// its material versions after the first — those published, then
/// `pending` (a rotation being committed). A key with imported material
/// records every material `m` associates with it, with the bytes of those
/// imported now (sealed with the record).
pub(crate) fn key_state_record(
    entry: &KeyEntry,
    m: &KeyMutable,
    lifecycle: KeyLifecycle,
    pending: &[MaterialVersion],
) -> KeyStateRecord {
    let published = entry.versions.iter().flat_map(|v| v.iter()).skip(1);
    let r = &m.rotation;
    KeyStateRecord {
        lifecycle: lifecycle_record(lifecycle),
        description: m.description.clone(),
        tags: m.tags.clone(),
        policy: m.policy.clone(),
        grants: m.grants.iter().map(grant_record).collect(),
        rotations: published.chain(pending).map(rotation_record).collect(),
        rotation: (*r != RotationSchedule::default()).then(|| RotationScheduleRecord {
            enabled: r.enabled,
            period_days: r.period_days,
            next: r.next.map(Timestamp::as_millis),
            on_demand_count: r.on_demand_count,
        }),
        multi_region: m.multi_region.as_ref().map(|mr| MultiRegionRecord {
            primary: mr.primary.to_string(),
            replicas: mr.replicas.iter().map(ToString::to_string).collect(),
        }),
        import: m.import.as_deref().map(import_record),
    }
}

/// The record of a key's imported materials.
fn import_record(i: &ImportState) -> ImportRecord {
    ImportRecord {
        materials: i
            .materials
            .iter()
            .map(|s| ImportedMaterialRecord {
                material_id: s.id.hex(),
                material: match &s.secret {
                    Some(ImportedSecret::Symmetric(v)) => {
                        Some(SecretBytes(Zeroizing::new(*v.material.expose_secret())))
                    }
                    _ => None,
                },
                date: match &s.secret {
                    Some(ImportedSecret::Symmetric(v)) => Some(v.date.as_millis()),
                    _ => None,
                },
                secret: match &s.secret {
                    Some(ImportedSecret::Hmac(k)) => Some(SecretVec::new(k.expose_secret())),
                    // Encoding a pair this crate holds does not fail; an
                    // empty record would not read back, and says so there.
                    Some(ImportedSecret::KeyPair(p)) => {
                        Some(SecretVec(p.to_pkcs8().unwrap_or_default()))
                    }
                    _ => None,
                },
                expiration: s.expiration.map(|e| match e {
                    Expiration::Never => ExpirationRecord::Never,
                    Expiration::At(t) => ExpirationRecord::At {
                        valid_to: t.as_millis(),
                    },
                }),
                description: s.description.clone(),
                rotation_date: s.rotation_date.map(Timestamp::as_millis),
            })
            .collect(),
        current: i.current,
        ..ImportRecord::default()
    }
}

fn rotation_record(v: &MaterialVersion) -> RotationRecord {
    RotationRecord {
        material: SecretBytes(Zeroizing::new(*v.material.expose_secret())),
        date: v.date.as_millis(),
        kind: v
            .rotation
            .unwrap_or(RotationKind::Automatic)
            .as_str()
            .to_owned(),
    }
}

pub(crate) fn grant_record(g: &Grant) -> GrantRecord {
    let (context_equals, context_subset) = match &g.constraints {
        Some(c) => (
            c.encryption_context_equals.clone(),
            c.encryption_context_subset.clone(),
        ),
        None => (None, None),
    };
    GrantRecord {
        id: g.id.clone(),
        name: g.name.clone(),
        creation_date: g.creation_date.as_millis(),
        grantee: g.grantee.clone(),
        retiring: g.retiring.clone(),
        operations: g.operations.iter().map(|o| o.as_str().to_owned()).collect(),
        context_equals,
        context_subset,
    }
}

pub(crate) fn key_record(entry: &KeyEntry, order: u64) -> KeyRecord {
    KeyRecord {
        order,
        creation_date: entry.creation_date.as_millis(),
        backing: entry.backing.to_record(),
        // The original material; the versions rotations add are in the
        // key state record.
        material: entry
            .versions
            .as_ref()
            .and_then(|v| v.get(0))
            .map(|v| SecretBytes(Zeroizing::new(*v.material.expose_secret()))),
        secret: entry.kind.to_record(),
        aws_managed: entry.manager == KeyManager::Aws,
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

/// What a commit needs of the service, and no more: the storage, and the
/// CloudHSM clusters whose key objects are committed with their keys. The
/// service hands one out ([`Service::commit`](super::service::Service::commit))
/// while it holds the locks the change needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Commit<'a> {
    pub(crate) storage: &'a Storage,
    pub(crate) cloudhsm: &'a CloudHsm,
}

impl Commit<'_> {
    /// CreateKey's commit: the key, its state, and for a CloudHSM key the
    /// key object generated in `cluster`, the key's store's (discarded
    /// again if the commit fails).
    pub(crate) fn persist_new_key(
        &self,
        entry: &KeyEntry,
        cluster: Option<ClusterId>,
    ) -> Result<()> {
        if !self.storage.is_durable() {
            return Ok(());
        }
        let result = (|| {
            let mut batch = self.new_key_batch(entry)?;
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

    /// A batch holding a new key's two records: what never changes and
    /// its state.
    fn new_key_batch(&self, entry: &KeyEntry) -> Result<Batch> {
        let mut batch = Batch::new();
        let id = entry.id.to_string();
        batch.put(
            Table::Keys,
            id.clone(),
            &key_record(entry, self.storage.next_order()),
        )?;
        let m = entry.state.read();
        batch.put(
            Table::KeyStates,
            id,
            &key_state_record(entry, &m, m.lifecycle, &[]),
        )?;
        Ok(batch)
    }

    /// An AWS managed key's creation on first use: the key, its state and
    /// its predefined alias `name`, in one transaction.
    pub(crate) fn persist_new_managed_key(
        &self,
        entry: &KeyEntry,
        name: &AliasName,
        alias: &AliasEntry,
    ) -> Result<()> {
        if !self.storage.is_durable() {
            return Ok(());
        }
        let mut batch = self.new_key_batch(entry)?;
        batch.put(Table::Aliases, name.to_string(), &alias_record(alias))?;
        self.storage.commit(batch)
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
        self.persist_key_rotation(entry, m, lifecycle, &[])
    }

    /// Commits key `entry`'s mutable part `m`, whose imported materials
    /// (an import, a rotation or a deletion) are about to be published.
    pub(crate) fn persist_key_import(&self, entry: &KeyEntry, m: &KeyMutable) -> Result<()> {
        if !self.storage.is_durable() {
            return Ok(());
        }
        self.commit_key_state(entry, &key_state_record(entry, m, m.lifecycle, &[]))
    }

    /// Commits `record` as key `entry`'s state record.
    fn commit_key_state(&self, entry: &KeyEntry, record: &KeyStateRecord) -> Result<()> {
        let mut batch = Batch::new();
        batch.put(Table::KeyStates, entry.id.to_string(), record)?;
        self.storage.commit(batch)
    }

    /// Commits key `entry`'s mutable part `m` with `lifecycle` and the
    /// material versions `pending` that are not yet published.
    pub(crate) fn persist_key_rotation(
        &self,
        entry: &KeyEntry,
        m: &KeyMutable,
        lifecycle: KeyLifecycle,
        pending: &[MaterialVersion],
    ) -> Result<()> {
        if !self.storage.is_durable() {
            return Ok(());
        }
        self.commit_key_state(entry, &key_state_record(entry, m, lifecycle, pending))
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
}
