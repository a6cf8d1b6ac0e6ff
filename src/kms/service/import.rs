//! The service side of imported key material (origin `EXTERNAL`): keeping
//! a key's latest import parameters, importing its materials (new or
//! existing), rotating to a material pending rotation (RotateKeyOnDemand),
//! deleting one (DeleteImportedKeyMaterial), and expiring each when its
//! `ValidTo` timer (`Timer::ImportedMaterialExpiry`) is due.
//!
//! Every change follows the persistence rule (check, commit, then apply)
//! under the key's own `state` lock, taken upgradable; the material is
//! published to (or taken from) the key's
//! [`ImportedMaterial`](crate::kms::model::import::ImportedMaterial) only
//! after the commit, still under that lock. The expiry timer moves with
//! the expiration, after the key's lock in the lock order.
//!
//! A multi-Region key's replicas follow its primary key's materials
//! ([`Lineage`]): after each change to a primary key, once its lock is
//! released, each replica's Region takes the same ids at the same indexes
//! and the same current one ([`Service::follow_lineage`]); a replica
//! imports each material itself. Material pending rotation on a primary
//! key becomes current (RotateKeyOnDemand) only once every replica has
//! imported it ([`Service::pending_missing`]).

use crate::clock::Timestamp;
use crate::error::{Error, Result, kms_err};
use crate::ids::{KeyId, Region};
use crate::key::state::KeyOperation;
use crate::key::{ImportType, KeyEvent, KeyLifecycle, MultiRegionKeyType};
use crate::kms::model::import::{Expiration, ImportState, ImportedSecret, Lineage, MaterialSlot};
use crate::kms::model::key::{KeyEntry, KeyMutable};
use crate::kms::model::versions::{MaterialId, RotationSchedule};
use crate::kms::timers::Timer;
use crate::sync::RwLockUpgradableReadGuard;

use super::Service;

/// The key's import state (a key with imported material always has one).
fn import_state(entry: &KeyEntry, m: &KeyMutable) -> Result<ImportState> {
    match (&m.import, &entry.imported) {
        (Some(i), Some(_)) => Ok((**i).clone()),
        _ => Err(Error::internal(
            "a key with imported material without its import state",
        )),
    }
}

impl Service {
    /// Checks, under the key's lock `m`, that `entry` still exists and its
    /// state allows `op`.
    fn check_import_op(&self, entry: &KeyEntry, m: &KeyMutable, op: KeyOperation) -> Result<()> {
        if m.deleted {
            return Err(kms_err!(NotFound, "Key '{}' does not exist.", entry.arn));
        }
        crate::key::state::check(op, self.key_state(entry, m.lifecycle), &entry.arn)
    }

    /// GetParametersForImport's change: `parameters` become the key's
    /// latest (an older token stops working).
    #[cfg(feature = "asymmetric")]
    pub(crate) fn set_import_parameters(
        &self,
        entry: &KeyEntry,
        parameters: std::sync::Arc<crate::kms::model::import::ImportParameters>,
    ) -> Result<()> {
        let m = entry.state.upgradable_read();
        self.check_import_op(entry, &m, KeyOperation::GetParametersForImport)?;
        let mut import = import_state(entry, &m)?;
        import.parameters = Some(parameters);
        // The parameters are not committed: the wrapping private key is
        // never written, so a token from before a durable store reopens
        // no longer imports (GetParametersForImport gives a new one).
        let mut m = RwLockUpgradableReadGuard::upgrade(m);
        m.import = Some(Box::new(import));
        Ok(())
    }

    /// The parameters a token names, checked under the key's lock: this
    /// key's latest (`InvalidImportTokenException` otherwise), not expired
    /// by `now` (`ExpiredImportTokenException`).
    #[cfg(feature = "asymmetric")]
    pub(crate) fn import_parameters(
        &self,
        entry: &KeyEntry,
        token: Option<crate::kms::model::import::ImportToken>,
        now: Timestamp,
    ) -> Result<std::sync::Arc<crate::kms::model::import::ImportParameters>> {
        let m = entry.state.read();
        self.check_import_op(entry, &m, KeyOperation::ImportKeyMaterial)?;
        let invalid = || {
            kms_err!(
                InvalidImportToken,
                "The import token is not valid for {}. Use the ImportToken of the latest GetParametersForImport for this key.",
                entry.arn
            )
        };
        let token = token.ok_or_else(invalid)?;
        let parameters = m
            .import
            .as_ref()
            .and_then(|i| i.parameters.clone())
            .ok_or_else(invalid)?;
        if token.key != entry.id
            || !constant_time_eq::constant_time_eq_16(&token.nonce, &parameters.nonce)
        {
            return Err(invalid());
        }
        if now >= parameters.valid_to {
            return Err(kms_err!(
                ExpiredImportToken,
                "The import token for {} expired at {}. Call GetParametersForImport for new parameters.",
                entry.arn,
                parameters.valid_to
            ));
        }
        Ok(parameters)
    }

    #[cfg_attr(
        not(feature = "asymmetric"),
        allow(dead_code, reason = "imports need the feature `asymmetric`")
    )]
    /// ImportKeyMaterial's change: the material whose id is `id` (`secret`
    /// makes its secret, given its version index), imported with
    /// `expiration`, as `import_type` says (default: new for the first
    /// import, existing after). New material is the key's first (current)
    /// or, after that, pending rotation (one at a time); existing material
    /// must be one the key has (`IncorrectKeyMaterialException`), and
    /// `expected`, if given, its id. Once every material permanently
    /// associated with the key is imported, the key is Enabled; a material
    /// pending rotation leaves the key state alone. Returns its id.
    #[allow(
        clippy::too_many_arguments,
        reason = "ImportKeyMaterial's members, one each"
    )]
    pub(crate) fn import_material(
        &self,
        entry: &KeyEntry,
        id: MaterialId,
        secret: impl FnOnce(u32) -> ImportedSecret,
        import_type: Option<ImportType>,
        expected: Option<&str>,
        expiration: Expiration,
        description: Option<String>,
    ) -> Result<MaterialId> {
        let m = entry.state.upgradable_read();
        self.check_import_op(entry, &m, KeyOperation::ImportKeyMaterial)?;
        let mut import = import_state(entry, &m)?;
        if expected.is_some_and(|e| e != id.hex()) {
            return Err(incorrect_material(&entry.arn));
        }
        let import_type = import_type.unwrap_or(if import.materials.is_empty() {
            ImportType::NewKeyMaterial
        } else {
            ImportType::ExistingKeyMaterial
        });
        if import_type == ImportType::NewKeyMaterial {
            check_new_multi_region(&m, &self.region, &entry.arn)?;
        }
        let index = match (import_type, import.find(id)) {
            (ImportType::ExistingKeyMaterial, None) => return Err(incorrect_material(&entry.arn)),
            (ImportType::ExistingKeyMaterial, Some(i)) => i,
            (ImportType::NewKeyMaterial, Some(_)) => {
                return Err(kms_err!(
                    IncorrectKeyMaterial,
                    "The key material is already associated with {}. Import it with ImportType EXISTING_KEY_MATERIAL.",
                    entry.arn
                ));
            }
            (ImportType::NewKeyMaterial, None) => {
                if let Some(pending) = import.pending() {
                    return Err(kms_err!(
                        KmsInvalidState,
                        "{} already has key material {} pending rotation. Rotate the key (RotateKeyOnDemand) or delete that key material first.",
                        entry.arn,
                        import.materials[pending].id
                    ));
                }
                import.materials.push(MaterialSlot {
                    id,
                    secret: None,
                    expiration: None,
                    description: None,
                    rotation_date: None,
                });
                import.materials.len() - 1
            }
        };
        let slot = &mut import.materials[index];
        if slot.secret.is_none() {
            let version = u32::try_from(index)
                .map_err(|_| Error::internal("too many imported key materials"))?;
            slot.secret = Some(secret(version));
        }
        slot.expiration = Some(expiration);
        if description.is_some() {
            slot.description = description;
        }
        let permanent = index <= import.current as usize;
        let after = if permanent && import.complete() {
            m.lifecycle.apply(KeyEvent::Imported, &entry.arn)?
        } else {
            m.lifecycle
        };
        self.apply_import(entry, m, import, after, None)?;
        self.push_lineage(entry);
        Ok(id)
    }

    /// RotateKeyOnDemand of a key with imported material (through
    /// `rotate_on_demand`): its material
    /// pending rotation becomes current at `now` (the earlier ones stay,
    /// and decrypt); a multi-Region primary key's replicas follow.
    /// `KMSInvalidStateException` if none is pending, or if a related
    /// multi-Region key has not imported it yet;
    /// `LimitExceededException` after `limit` on-demand rotations.
    pub(super) fn rotate_imported(
        &self,
        entry: &KeyEntry,
        limit: u32,
        now: Timestamp,
    ) -> Result<()> {
        // The related keys are read before this key's lock is taken.
        let missing = self.pending_missing(entry);
        let m = entry.state.upgradable_read();
        self.check_import_op(entry, &m, KeyOperation::KeyRotation)?;
        let mut import = import_state(entry, &m)?;
        let Some(pending) = import.pending() else {
            return Err(kms_err!(
                KmsInvalidState,
                "{} has no key material pending rotation. Import new key material (ImportKeyMaterial with ImportType NEW_KEY_MATERIAL) first.",
                entry.arn
            ));
        };
        if m.multi_region.is_some() {
            let id = import.materials[pending].id;
            match missing {
                Some((checked, regions)) if checked == id && regions.is_empty() => {}
                Some((checked, regions)) if checked == id => {
                    return Err(kms_err!(
                        KmsInvalidState,
                        "Key material {id} of {} is pending multi-Region import and rotation: it is not imported into the related multi-Region key in {}. Import the same key material there (ImportKeyMaterial with ImportType EXISTING_KEY_MATERIAL), then rotate.",
                        entry.arn,
                        join(&regions)
                    ));
                }
                // The material changed since the related keys were read.
                _ => {
                    return Err(kms_err!(
                        KmsInvalidState,
                        "The key material pending rotation of {} changed during the request. Try again.",
                        entry.arn
                    ));
                }
            }
        }
        super::rotation::check_on_demand_limit(&m, limit, &entry.arn)?;
        import.current = u32::try_from(pending)
            .map_err(|_| Error::internal("too many imported key materials"))?;
        import.materials[pending].rotation_date = Some(now);
        let mut rotation = m.rotation;
        rotation.on_demand_count += 1;
        let lifecycle = m.lifecycle;
        self.apply_import(entry, m, import, lifecycle, Some(rotation))?;
        self.push_lineage(entry);
        Ok(())
    }

    /// For a multi-Region key with material pending rotation: that
    /// material's id, and the Regions of the related keys (this one
    /// included) that have not imported it, primary first. `None` for
    /// any other key. Takes each key's lock in turn, never two at once.
    pub(crate) fn pending_missing(&self, entry: &KeyEntry) -> Option<(MaterialId, Vec<Region>)> {
        let (relations, id, here) = self.read_key(entry, |m| {
            let relations = m.multi_region.as_deref()?.clone();
            let import = m.import.as_deref()?;
            let slot = &import.materials[import.pending()?];
            Some((relations, slot.id, slot.secret.is_some()))
        })?;
        let missing = relations
            .regions()
            .filter(|region| {
                if **region == self.region {
                    return !here;
                }
                // A Region the partition no longer has is not waited for.
                let Some(service) = self.sibling_in(region.as_str()) else {
                    return false;
                };
                let Some(other) = service.keys.read().get(&entry.id) else {
                    return false;
                };
                !service.read_key(&other, |m| {
                    m.deleted
                        || m.import.as_deref().is_some_and(|i| {
                            i.find(id).is_some_and(|k| i.materials[k].secret.is_some())
                        })
                })
            })
            .cloned()
            .collect();
        Some((id, missing))
    }

    /// After a change to `entry`'s materials: if it is a multi-Region
    /// primary key, each replica follows its [`Lineage`]. Best effort, as
    /// the versions of a rotation reach the replicas: a replica whose
    /// commit fails catches up at the primary key's next change.
    fn push_lineage(&self, entry: &KeyEntry) {
        let Some((replicas, lineage)) = self.read_key(entry, |m| {
            let relations = m
                .multi_region
                .as_deref()
                .filter(|mr| mr.key_type(&self.region) == MultiRegionKeyType::Primary)?;
            Some((relations.replicas.clone(), m.import.as_deref()?.lineage()))
        }) else {
            return;
        };
        for region in &replicas {
            if let Some(replica) = self.sibling_in(region.as_str()) {
                let _ = replica.follow_lineage(&entry.id, &lineage);
            }
        }
    }

    /// Key `id` here (a multi-Region replica) follows its primary key's
    /// `lineage`: committed, then published. A material the primary key
    /// dropped pending rotation goes here too (with its secret); a new one
    /// comes in pending import; after a rotation the same material is
    /// current, and if this key has not imported it, it is pending import.
    /// Nothing happens if the key is not here or nothing changes.
    pub(crate) fn follow_lineage(&self, id: &KeyId, lineage: &Lineage) -> Result<()> {
        let Some(entry) = self.keys.read().get(id) else {
            return Ok(());
        };
        let m = entry.state.upgradable_read();
        if m.deleted || m.import.is_none() {
            return Ok(());
        }
        let mut import = import_state(&entry, &m)?;
        if !import.follow(lineage) {
            return Ok(());
        }
        let after = if import.complete() {
            m.lifecycle
        } else {
            m.lifecycle.apply(KeyEvent::MaterialDeleted, &entry.arn)?
        };
        self.apply_import(&entry, m, import, after, None)
    }

    /// DeleteImportedKeyMaterial's change: the material `expected` names
    /// (`NotFoundException` if the key has none of that id), or the
    /// current one, is dropped. A material pending rotation goes for good
    /// (other material may take its place) and the key state stays; any
    /// other makes the key pending import (a key pending deletion stays
    /// so) until it is imported again. Deleting material that is not
    /// imported changes nothing. Returns the material's id (none if the
    /// key has never had material).
    pub(crate) fn delete_imported_material(
        &self,
        entry: &KeyEntry,
        expected: Option<&str>,
    ) -> Result<Option<MaterialId>> {
        let m = entry.state.upgradable_read();
        self.check_import_op(entry, &m, KeyOperation::DeleteImportedKeyMaterial)?;
        let mut import = import_state(entry, &m)?;
        let replica = m.is_replica_in(&self.region);
        let index = match expected {
            Some(expected) => import
                .materials
                .iter()
                .position(|s| s.id.hex() == expected)
                .ok_or_else(|| {
                    kms_err!(
                        NotFound,
                        "Key material {expected} does not exist for {}.",
                        entry.arn
                    )
                })?,
            None => import.current as usize,
        };
        let Some(slot) = import.materials.get(index) else {
            // Never imported: nothing to delete.
            return Ok(None);
        };
        let id = slot.id;
        // A primary key's pending material goes even if not imported here
        // (a replica made primary before it imported it).
        let listed_only = !replica && import.pending() == Some(index);
        if slot.secret.is_none() && !listed_only {
            // No effect, as AWS: nothing to delete.
            return Ok(Some(id));
        }
        let after = drop_material(&mut import, index, m.lifecycle, &entry.arn, replica)?;
        self.apply_import(entry, m, import, after, None)?;
        self.push_lineage(entry);
        Ok(Some(id))
    }

    /// Commits key `entry`'s new import state `import` (and `lifecycle`,
    /// and the rotation schedule if given) under its lock `m` (checked),
    /// then publishes the materials, moves the expiry timers and records
    /// the state.
    fn apply_import(
        &self,
        entry: &KeyEntry,
        m: RwLockUpgradableReadGuard<'_, KeyMutable>,
        import: ImportState,
        lifecycle: KeyLifecycle,
        rotation: Option<RotationSchedule>,
    ) -> Result<()> {
        let before = m.import.as_ref().map(|i| i.deadlines()).unwrap_or_default();
        let after = import.deadlines();
        let mut next_m = m.clone();
        next_m.import = Some(Box::new(import));
        next_m.lifecycle = lifecycle;
        if let Some(rotation) = rotation {
            next_m.rotation = rotation;
        }
        self.commit().persist_key_import(entry, &next_m)?;
        let mut m = RwLockUpgradableReadGuard::upgrade(m);
        if let (Some(imported), Some(import)) = (&entry.imported, &next_m.import) {
            imported.publish(import);
        }
        let timer = Timer::ImportedMaterialExpiry(entry.id);
        for at in before.difference(&after) {
            self.timers.cancel(*at, timer.clone());
        }
        for at in after.difference(&before) {
            self.timers.set(*at, timer.clone());
        }
        *m = next_m;
        entry.lifecycle.store(lifecycle);
        Ok(())
    }

    /// The expiry of key `id`'s imported materials due at `at` (its
    /// timer), run by `advance`: each material that expires then is
    /// dropped as DeleteImportedKeyMaterial drops it. Nothing but the
    /// timer changes if the key is gone or no material expires then; a
    /// failed commit leaves it due.
    pub(crate) fn expire_imported_due(&self, id: KeyId, at: Timestamp) {
        let timer = Timer::ImportedMaterialExpiry(id);
        let Some(entry) = self.keys.read().get(&id) else {
            self.timers.cancel(at, timer);
            return;
        };
        let m = entry.state.upgradable_read();
        let Ok(mut import) = import_state(&entry, &m) else {
            self.timers.cancel(at, timer);
            return;
        };
        let due: Vec<usize> = (0..import.materials.len())
            .filter(|&i| import.materials[i].expiration == Some(Expiration::At(at)))
            .collect();
        if m.deleted || due.is_empty() {
            self.timers.cancel(at, timer);
            return;
        }
        let mut lifecycle = m.lifecycle;
        let replica = m.is_replica_in(&self.region);
        // From the last: a pending material leaves the list.
        for &i in due.iter().rev() {
            match drop_material(&mut import, i, lifecycle, &entry.arn, replica) {
                Ok(l) => lifecycle = l,
                Err(_) => return,
            }
        }
        // On a failed commit the timer stays: the next call retries.
        if self
            .apply_import(&entry, m, import, lifecycle, None)
            .is_ok()
        {
            self.push_lineage(&entry);
        }
    }

    /// The expiry timers of keys with imported material (a durable
    /// service on open).
    pub(crate) fn refill_import_timers(&self, entry: &KeyEntry, m: &KeyMutable) {
        for at in m.import.iter().flat_map(|i| i.deadlines()) {
            self.timers.set(at, Timer::ImportedMaterialExpiry(entry.id));
        }
    }
}

/// Drops material `index` of `import` (which is imported): one pending
/// rotation leaves the list and the key state `lifecycle` stays (on a
/// multi-Region `replica`, whose materials follow its primary key's, it
/// stays listed, pending import); any other stays listed, pending import,
/// and the key is pending import. Returns the key's lifecycle after.
fn drop_material(
    import: &mut ImportState,
    index: usize,
    lifecycle: KeyLifecycle,
    arn: &str,
    replica: bool,
) -> Result<KeyLifecycle> {
    if import.pending() == Some(index) {
        if replica {
            let slot = &mut import.materials[index];
            slot.secret = None;
            slot.expiration = None;
        } else {
            import.materials.truncate(index);
        }
        return Ok(lifecycle);
    }
    let slot = &mut import.materials[index];
    slot.secret = None;
    slot.expiration = None;
    lifecycle.apply(KeyEvent::MaterialDeleted, arn)
}

/// New material for a multi-Region key: a replica takes only its primary
/// key's materials (`UnsupportedOperationException`); new material goes
/// into the primary key, then the same into each replica.
fn check_new_multi_region(m: &KeyMutable, region: &Region, arn: &str) -> Result<()> {
    match m.multi_region.as_deref() {
        Some(relations) if m.is_replica_in(region) => Err(kms_err!(
            UnsupportedOperation,
            "You cannot import new key material into {arn}, a replica key. Import it into the primary key in {}, then import the same key material here with ImportType EXISTING_KEY_MATERIAL.",
            relations.primary
        )),
        _ => Ok(()),
    }
}

/// Regions, comma-separated.
fn join(regions: &[Region]) -> String {
    regions
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg_attr(
    not(feature = "asymmetric"),
    allow(dead_code, reason = "imports need the feature `asymmetric`")
)]
/// `IncorrectKeyMaterialException`.
pub(crate) fn incorrect_material(arn: &str) -> Error {
    kms_err!(
        IncorrectKeyMaterial,
        "The key material is not the key material that was previously imported into {arn}."
    )
    .with_hint("Import the material the key was first imported with.")
}
