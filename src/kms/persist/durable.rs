//! Records → model: opening a durable [`Kms`], restoring the state from
//! the file (cargo feature `durable`). Model → records is `persist/mod.rs`;
//! the public storage operations are in `ops/storage.rs`.
//!
//! What comes back on open, and how:
//!
//! - keys (material, state, description, tags, policy, grants), in creation order;
//!   deletion schedules keep their dates, judged against the [`Clock`] and
//!   put back in the timer table: a key whose date passed while the service
//!   was down is deleted by the first call after opening, of any kind
//!   (`timers.rs` says when due work runs and what a failed commit does),
//!   as if it had been running;
//! - aliases with their dates;
//! - custom key stores with their settings (the rotated `kmsuser` password,
//!   the XKS credential) and **their connection state**: a store that was
//!   CONNECTED comes back CONNECTED (its keys are usable at once, no
//!   reconnect), DISCONNECTED and FAILED (with its code) stay so. A
//!   connection change still in progress (stepped mode) did not survive:
//!   a CONNECTING store comes back DISCONNECTED (connect again) and a
//!   DISCONNECTING one finishes disconnecting on open. Request quotas start
//!   full;
//! - the modelled CloudHSM clusters: HSMs, users (passwords, lockouts, KMS's
//!   session), key objects, fault switches;
//! - with a seed, the random stream's position, so the ids and material a
//!   reopened service makes continue the sequence instead of repeating it.
//!
//! External key managers are the caller's (attached to
//! [`Kms::xks_network`]); only the external key store's settings, including
//! its sealed credential, are in the file. Attach the managers again after
//! opening.
//!
//! [`Clock`]: crate::Clock

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::clock::Timestamp;
use crate::crypto::KeyMaterial;
use crate::crypto::rng::SecureRng;
use crate::error::{Error, Result, kms_err};
use crate::ids::{CustomKeyStoreId, KeyId};
use crate::key::{KeyLifecycle, KeyManager, KeySpec};
use crate::storage::records::{
    AliasRecord, ClusterKeyRecord, ClusterRecord, ConnectionRecord, ExpirationRecord, GrantRecord,
    ImportRecord, ImportedMaterialRecord, KeyRecord, KeyStateRecord, LifecycleRecord,
    MultiRegionRecord, RotationRecord, RotationScheduleRecord, StoreBackendRecord, StoreRecord,
    StoreStateRecord,
};
use crate::storage::{Batch, Durable, Identity, RootKey, Storage, Table};
use crate::store::{ConnectionErrorCode, ConnectionEvent, ConnectionState, Transition};

use crate::kms::backend::kinds;
use crate::kms::model::aliases::{AliasEntry, AliasTable};
use crate::kms::model::backing::Backing;
use crate::kms::model::grants::{Grant, KeyGrants};
use crate::kms::model::import::{
    Expiration, ImportState, ImportedMaterial, ImportedSecret, MaterialSlot,
};
use crate::kms::model::key::{KeyEntry, KeyIdentity, KeyMutable};
use crate::kms::model::kind::{KeyKind, is_asymmetric_spec};
use crate::kms::model::multi_region::MultiRegion;
use crate::kms::model::store::{StoreBackend, StoreEntry, StoreTable};
use crate::kms::model::table::KeyTable;
use crate::kms::model::versions::{
    MaterialId, MaterialVersion, RotationKind, RotationSchedule, Versions,
};
use crate::kms::service::Service;
use crate::kms::shapes::grants::{GrantConstraints, GrantOperation};
use crate::kms::support::quota::Quota;
use crate::kms::{Kms, KmsConfig};

/// Where a durable Kms keeps its state, and the key that seals it.
#[derive(Clone, Debug)]
pub(crate) struct DurableSettings {
    pub(crate) path: PathBuf,
    pub(crate) root_key: RootKey,
}

fn parse<T: serde::de::DeserializeOwned>(table: Table, key: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        kms_err!(
            KmsInternal,
            "The durable store has a record it cannot read ({}/{key}: {e}). Restore the file from a backup.",
            table.name()
        )
    })
}

fn scan<T: serde::de::DeserializeOwned>(db: &Durable, table: Table) -> Result<Vec<(String, T)>> {
    db.scan(table)?
        .into_iter()
        .map(|(k, v)| {
            let rec = parse(table, &k, &v)?;
            Ok((k, rec))
        })
        .collect()
}

fn corrupt(what: &str) -> Error {
    kms_err!(
        KmsInternal,
        "The durable store is inconsistent ({what}). Restore the file from a backup."
    )
}

fn lifecycle(rec: &LifecycleRecord) -> KeyLifecycle {
    match rec {
        LifecycleRecord::Enabled => KeyLifecycle::Enabled,
        LifecycleRecord::Disabled => KeyLifecycle::Disabled,
        LifecycleRecord::PendingImport => KeyLifecycle::PendingImport,
        LifecycleRecord::PendingDeletion {
            deletion_date,
            window_days,
        } => KeyLifecycle::PendingDeletion {
            deletion_date: Timestamp::from_millis(*deletion_date),
            window_days: *window_days,
        },
        LifecycleRecord::PendingReplicaDeletion { window_days } => {
            KeyLifecycle::PendingReplicaDeletion {
                window_days: *window_days,
            }
        }
    }
}

/// A multi-Region key's relations from its state record.
fn multi_region(rec: Option<&MultiRegionRecord>) -> Result<Option<Box<MultiRegion>>> {
    let Some(rec) = rec else { return Ok(None) };
    Ok(Some(Box::new(MultiRegion {
        primary: rec.primary.parse()?,
        replicas: rec
            .replicas
            .iter()
            .map(|r| r.parse())
            .collect::<Result<Vec<_>>>()?,
    })))
}

/// A key's material versions: `first` (from its key record) and the
/// rotations its state record holds.
fn restore_versions(
    id: &KeyId,
    first: KeyMaterial,
    created: Timestamp,
    rotations: &[RotationRecord],
) -> Result<Versions> {
    let versions = Versions::new(MaterialVersion::new(0, first, created, None));
    for (i, r) in rotations.iter().enumerate() {
        let kind = RotationKind::parse(&r.kind)
            .ok_or_else(|| corrupt(&format!("key {id} has a rotation of kind {:?}", r.kind)))?;
        let v = MaterialVersion::new(
            versions.len(),
            KeyMaterial::from_bytes(*r.material.0),
            Timestamp::from_millis(r.date),
            Some(kind),
        );
        if !versions.push(v) {
            return Err(corrupt(&format!(
                "key {id} has more rotations than fit ({i})"
            )));
        }
    }
    Ok(versions)
}

fn rotation_schedule(rec: Option<&RotationScheduleRecord>) -> RotationSchedule {
    rec.map(|r| RotationSchedule {
        enabled: r.enabled,
        period_days: r.period_days,
        next: r.next.map(Timestamp::from_millis),
        on_demand_count: r.on_demand_count,
    })
    .unwrap_or_default()
}

fn connection_state(rec: &ConnectionRecord) -> Result<ConnectionState> {
    Ok(match rec {
        ConnectionRecord::Disconnected => ConnectionState::Disconnected,
        ConnectionRecord::Connecting => ConnectionState::Connecting,
        ConnectionRecord::Connected => ConnectionState::Connected,
        ConnectionRecord::Failed { code } => ConnectionState::Failed {
            code: code.parse::<ConnectionErrorCode>()?,
        },
        ConnectionRecord::Disconnecting => ConnectionState::Disconnecting,
    })
}

/// A grant from its record (the principals are parsed again for their
/// canonical form).
fn grant(rec: GrantRecord) -> Result<Grant> {
    let canonical = |p: &str| -> Result<String> {
        Ok(p.parse::<crate::iam::Principal>()
            .map_err(|_| corrupt(&format!("grant {} has principal {p}", rec.id)))?
            .arn())
    };
    let constraints = match (rec.context_equals, rec.context_subset) {
        (None, None) => None,
        (equals, subset) => Some(GrantConstraints {
            encryption_context_equals: equals,
            encryption_context_subset: subset,
        }),
    };
    Ok(Grant {
        grantee_arn: canonical(&rec.grantee)?,
        retiring_arn: rec.retiring.as_deref().map(canonical).transpose()?,
        operations: rec
            .operations
            .iter()
            .map(|o| o.parse::<GrantOperation>())
            .collect::<Result<Vec<_>>>()?,
        id: rec.id,
        name: rec.name,
        creation_date: Timestamp::from_millis(rec.creation_date),
        grantee: rec.grantee,
        retiring: rec.retiring,
        constraints,
    })
}

/// The settings a store record holds (each kind reads its own).
fn store_backend(rec: StoreBackendRecord) -> Result<StoreBackend> {
    kinds::from_record(&rec)
}

/// [`Kms::open`] with durable settings.
pub(crate) fn open(mut config: KmsConfig) -> Result<Kms> {
    let Some(settings) = config.durable.take() else {
        return Ok(Kms::new(config));
    };
    let rng = Arc::new(SecureRng::new(config.seed));
    let identity = Identity {
        account_id: config.account_id.to_string(),
        region: config.region.to_string(),
        seed: config.seed,
    };
    let db = Durable::open(
        &settings.path,
        &settings.root_key,
        &identity,
        Arc::clone(&rng),
    )?;

    let clusters: Vec<(String, ClusterRecord)> = scan(&db, Table::Clusters)?;
    let cluster_keys: Vec<(String, ClusterKeyRecord)> = scan(&db, Table::ClusterKeys)?;
    let stores: Vec<(String, StoreRecord)> = scan(&db, Table::Stores)?;
    let store_states: BTreeMap<String, StoreStateRecord> =
        scan(&db, Table::StoreStates)?.into_iter().collect();
    let keys: Vec<(String, KeyRecord)> = scan(&db, Table::Keys)?;
    let key_states: BTreeMap<String, KeyStateRecord> =
        scan(&db, Table::KeyStates)?.into_iter().collect();
    let aliases: Vec<(String, AliasRecord)> = scan(&db, Table::Aliases)?;

    let next_order = keys
        .iter()
        .map(|(_, k)| k.order)
        .chain(stores.iter().map(|(_, s)| s.order))
        .max()
        .map_or(0, |m| m.saturating_add(1));
    let kms = Kms::build(config, rng, Arc::new(Storage::durable(db, next_order)));
    let inner = &*kms.inner;
    inner.cloudhsm.restore(clusters, cluster_keys)?;

    // Custom key stores, in creation order.
    let mut stores = stores;
    stores.sort_by_key(|(_, s)| s.order);
    // Opening is a call like any other: one clock read (the timer table is
    // still empty, so nothing runs).
    let now = inner.begin(&inner.root).now;
    let mut store_table = StoreTable::default();
    {
        let table = &mut store_table;
        let mut states = store_states;
        for (id, rec) in stores {
            let state = states
                .remove(&id)
                .ok_or_else(|| corrupt(&format!("store {id} has no state record")))?;
            let backend = store_backend(state.backend)?;
            table.stores.push(StoreEntry {
                id: id.parse::<CustomKeyStoreId>()?,
                name: state.name,
                creation_date: Timestamp::from_millis(rec.creation_date),
                state: connection_state(&state.state)?,
                transition_due: state.transition_due.map(Timestamp::from_millis),
                route: StoreEntry::route_of(&backend, inner.xks_timeout),
                backend,
                bucket: inner
                    .quotas
                    .custom_key_store_requests_per_second
                    .map(|rate| Arc::new(Quota::new(rate, now))),
                connect_outcome: None,
            });
        }
    }

    // Keys, in creation order.
    let mut keys = keys;
    keys.sort_by_key(|(_, k)| k.order);
    let mut key_table = KeyTable::default();
    {
        let table = &mut key_table;
        let mut states = key_states;
        for (id, rec) in keys {
            let state = states
                .remove(&id)
                .ok_or_else(|| corrupt(&format!("key {id} has no state record")))?;
            let id: KeyId = id.parse()?;
            let backing = Backing::from_record(rec.backing)?;
            let creation_date = Timestamp::from_millis(rec.creation_date);
            let versions = match rec.material {
                Some(m) => Some(restore_versions(
                    &id,
                    KeyMaterial::from_bytes(*m.0),
                    creation_date,
                    &state.rotations,
                )?),
                None => None,
            };
            let rotation = rotation_schedule(state.rotation.as_ref());
            let multi_region = multi_region(state.multi_region.as_ref())?;
            let lifecycle = lifecycle(&state.lifecycle);
            let compiled_policy = KeyEntry::compile_policy(state.policy.as_deref());
            let mut m =
                KeyMutable::new(state.description, state.tags, state.policy, compiled_policy);
            m.lifecycle = lifecycle;
            m.grants = KeyGrants::from_vec(
                state
                    .grants
                    .into_iter()
                    .map(grant)
                    .collect::<Result<Vec<_>>>()?,
            );
            m.rotation = rotation;
            m.multi_region = multi_region;
            let kind = KeyKind::from_record(rec.secret)?;
            let imported = match &backing {
                Backing::Imported => Some(Box::new(restore_import(
                    &id,
                    kind.spec(),
                    &mut m,
                    state.import,
                )?)),
                _ => None,
            };
            let identity = KeyIdentity {
                id,
                arn: inner.key_arn(&id),
                creation_date,
                manager: if rec.aws_managed {
                    KeyManager::Aws
                } else {
                    KeyManager::Customer
                },
                backing,
                kind,
                versions,
                imported,
            };
            table.insert(Arc::new(KeyEntry::new(identity, m)));
        }
    }

    let mut alias_table = AliasTable::default();
    {
        let table = &mut alias_table;
        for (name, rec) in aliases {
            table.restore(
                name.parse()?,
                AliasEntry {
                    target: rec.target.parse()?,
                    creation_date: Timestamp::from_millis(rec.creation_date),
                    last_updated_date: Timestamp::from_millis(rec.last_updated_date),
                },
            );
        }
    }

    finish_interrupted_transitions(inner, &mut store_table, now)?;
    inner.restore(key_table, alias_table, store_table);
    // The deadlines (deletion dates) back in the timer table: the first
    // call after a date deletes the key, as if the service had been up.
    inner.refill_timers();
    Ok(kms)
}

/// A key with imported material (of `spec`) from its state record: its
/// import state into `m`, and its materials published.
fn restore_import(
    id: &KeyId,
    spec: KeySpec,
    m: &mut KeyMutable,
    rec: Option<ImportRecord>,
) -> Result<ImportedMaterial> {
    let mut rec = rec.ok_or_else(|| corrupt(&format!("key {id} has no import record")))?;
    // A file written before imported materials rotated: its one material.
    if rec.materials.is_empty()
        && let Some(material_id) = rec.material_id.take()
    {
        rec.materials.push(ImportedMaterialRecord {
            material_id,
            material: rec.material.take(),
            date: rec.date.take(),
            secret: None,
            expiration: rec.expiration.take(),
            description: rec.description.take(),
            rotation_date: None,
        });
    }
    let mut materials = Vec::with_capacity(rec.materials.len());
    for (index, r) in (0u32..).zip(rec.materials) {
        let material_id = MaterialId::from_hex(&r.material_id)
            .ok_or_else(|| corrupt(&format!("key {id} has a bad key material id")))?;
        // The material must be the one its id names.
        let check = |bytes: &[u8]| {
            if MaterialId::derive_imported(id, bytes) == material_id {
                Ok(())
            } else {
                Err(corrupt(&format!(
                    "key {id}'s imported material does not match its id"
                )))
            }
        };
        let secret = match (r.material, r.date, r.secret) {
            (Some(material), Some(date), None) if spec == KeySpec::SymmetricDefault => {
                let material = KeyMaterial::from_bytes(*material.0);
                check(material.expose_secret())?;
                Some(ImportedSecret::Symmetric(Arc::new(
                    MaterialVersion::imported(
                        index,
                        material,
                        Timestamp::from_millis(date),
                        material_id,
                    ),
                )))
            }
            (None, None, Some(bytes)) => {
                check(&bytes.0)?;
                let unsuited =
                    || corrupt(&format!("key {id}'s imported material does not suit it"));
                Some(if is_asymmetric_spec(spec) {
                    let pair = KeyKind::imported_pair(spec, &bytes.0).ok_or_else(unsuited)?;
                    ImportedSecret::KeyPair(Arc::new(pair))
                } else {
                    let key = KeyKind::imported_hmac_key(spec, &bytes.0).ok_or_else(unsuited)?;
                    ImportedSecret::Hmac(Arc::new(key))
                })
            }
            (None, None, None) => None,
            _ => {
                return Err(corrupt(&format!(
                    "key {id}'s imported material does not suit it"
                )));
            }
        };
        materials.push(MaterialSlot {
            id: material_id,
            secret,
            expiration: r.expiration.map(|e| match e {
                ExpirationRecord::Never => Expiration::Never,
                ExpirationRecord::At { valid_to } => {
                    Expiration::At(Timestamp::from_millis(valid_to))
                }
            }),
            description: r.description,
            rotation_date: r.rotation_date.map(Timestamp::from_millis),
        });
    }
    if !materials.is_empty() && rec.current as usize >= materials.len() {
        return Err(corrupt(&format!(
            "key {id}'s current imported material is not one of its materials"
        )));
    }
    let state = ImportState {
        materials,
        current: rec.current,
        #[cfg(feature = "asymmetric")]
        parameters: None,
    };
    let imported = ImportedMaterial::empty();
    imported.publish(&state);
    m.import = Some(Box::new(state));
    Ok(imported)
}

/// The state a store caught in a connection change comes back in, by the
/// connection-state table: DISCONNECTING finishes (`Closed`); CONNECTING is
/// abandoned as a disconnect would abandon it (`Disconnect`, then
/// `Closed`). Both end DISCONNECTED.
fn interrupted_ends(state: ConnectionState, store_id: &str) -> Result<ConnectionState> {
    let apply = |state: ConnectionState, event| -> Result<ConnectionState> {
        Ok(match state.apply(event, store_id)? {
            Transition::To(next) => next,
            Transition::NoOp => state,
        })
    };
    let state = match state {
        ConnectionState::Connecting => apply(state, ConnectionEvent::Disconnect)?,
        other => other,
    };
    apply(state, ConnectionEvent::Closed)
}

/// Stores caught in CONNECTING or DISCONNECTING come back DISCONNECTED; a
/// CloudHSM store's `kmsuser` session is logged out with it.
fn finish_interrupted_transitions(
    inner: &Service,
    table: &mut StoreTable,
    now: Timestamp,
) -> Result<()> {
    for store in table.stores.iter_mut() {
        if !matches!(
            store.state,
            ConnectionState::Connecting | ConnectionState::Disconnecting
        ) {
            continue;
        }
        let was_disconnecting = store.state == ConnectionState::Disconnecting;
        let end = interrupted_ends(store.state, store.id.as_str())?;
        let mut put = |batch: &mut Batch, backend: &StoreBackend| {
            inner
                .commit()
                .put_store_state(batch, store, end, None, backend, None)
        };
        if was_disconnecting {
            // The backend's side of the disconnect (a CloudHSM store's
            // `kmsuser` session is logged out), committed with the record.
            store
                .backend
                .contract()
                .disconnect(&inner.backend_env(now), &mut put)?;
        } else {
            let mut batch = Batch::new();
            put(&mut batch, &store.backend)?;
            inner.storage.commit(batch)?;
        }
        store.state = end;
        store.transition_due = None;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;
    use crate::storage::records::SecretBytes;

    fn key_mutable() -> KeyMutable {
        KeyMutable::new(String::new(), Vec::new(), None, None)
    }

    #[test]
    fn an_import_record_written_before_rotation_restores_its_one_material() {
        let id = KeyId::from_random_bytes([3; 16]);
        let material = KeyMaterial::from_bytes([8; 32]);
        let material_id = MaterialId::derive_imported(&id, material.expose_secret());
        let rec = ImportRecord {
            material: Some(SecretBytes(zeroize::Zeroizing::new([8; 32]))),
            date: Some(5),
            material_id: Some(material_id.hex()),
            expiration: Some(ExpirationRecord::At { valid_to: 9 }),
            description: Some("old".into()),
            ..ImportRecord::default()
        };
        let mut m = key_mutable();
        let imported = restore_import(&id, KeySpec::SymmetricDefault, &mut m, Some(rec)).unwrap();
        let state = m.import.unwrap();
        assert_eq!(state.materials.len(), 1);
        let slot = &state.materials[0];
        assert_eq!(slot.id, material_id);
        assert_eq!(
            slot.expiration,
            Some(Expiration::At(Timestamp::from_millis(9)))
        );
        assert_eq!(slot.description.as_deref(), Some("old"));
        assert_eq!(
            imported.load().current().map(|v| v.id(&id)),
            Some(material_id)
        );
    }

    #[test]
    fn an_import_record_whose_current_index_is_out_of_range_is_corrupt() {
        let id = KeyId::from_random_bytes([3; 16]);
        let rec = ImportRecord {
            materials: vec![ImportedMaterialRecord {
                material_id: MaterialId::derive(&id, 0).hex(),
                material: None,
                date: None,
                secret: None,
                expiration: None,
                description: None,
                rotation_date: None,
            }],
            current: 1,
            ..ImportRecord::default()
        };
        assert!(
            restore_import(
                &id,
                KeySpec::SymmetricDefault,
                &mut key_mutable(),
                Some(rec)
            )
            .is_err()
        );
    }
}
