//! The service side of imported key material (origin `EXTERNAL`): keeping
//! a key's latest import parameters, importing its material, deleting it
//! (DeleteImportedKeyMaterial), and expiring it when its `ValidTo` timer
//! (`Timer::ImportedMaterialExpiry`) is due.
//!
//! Every change follows the persistence rule (check, commit, then apply)
//! under the key's own `state` lock, taken upgradable; the material is
//! published to (or taken from) the key's
//! [`ImportedMaterial`](crate::kms::model::import::ImportedMaterial) only
//! after the commit, still under that lock. The expiry timer moves with
//! the expiration, after the key's lock in the lock order.

use crate::clock::Timestamp;
use crate::error::{Error, Result, kms_err};
use crate::ids::KeyId;
use crate::key::state::KeyOperation;
use crate::key::{KeyEvent, KeyLifecycle};
use crate::kms::model::import::{Expiration, ImportState};
use crate::kms::model::key::{KeyEntry, KeyMutable};
use crate::kms::model::versions::{MaterialId, MaterialVersion};
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
        // The parameters are not committed: tokens do not survive a
        // restart (and durable storage refuses these keys for now).
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
    /// ImportKeyMaterial's change: `material` (whose id is `id`) becomes
    /// the key's, with `expiration`; the key is Enabled. The material must
    /// be the key's own if it has been imported before
    /// (`IncorrectKeyMaterialException`).
    pub(crate) fn import_material(
        &self,
        entry: &KeyEntry,
        material: MaterialVersion,
        expiration: Expiration,
        description: Option<String>,
    ) -> Result<()> {
        let m = entry.state.upgradable_read();
        self.check_import_op(entry, &m, KeyOperation::ImportKeyMaterial)?;
        let mut import = import_state(entry, &m)?;
        let id = material.id(&entry.id);
        if import.material_id.is_some_and(|own| own != id) {
            return Err(incorrect_material(&entry.arn));
        }
        let before = import.expiration.and_then(Expiration::valid_to);
        import.material_id = Some(id);
        import.expiration = Some(expiration);
        if description.is_some() {
            import.description = description;
        }
        let after = m.lifecycle.apply(KeyEvent::Imported, &entry.arn)?;
        let mut next_m = m.clone();
        next_m.import = Some(Box::new(import));
        self.commit()
            .persist_key_import(entry, &next_m, after, Some(&material))?;
        let mut m = RwLockUpgradableReadGuard::upgrade(m);
        if let Some(imported) = &entry.imported {
            imported.set(Some(material));
        }
        self.timers.replace(
            before,
            expiration.valid_to(),
            Timer::ImportedMaterialExpiry(entry.id),
        );
        next_m.lifecycle = after;
        *m = next_m;
        entry.lifecycle.store(after);
        Ok(())
    }

    /// DeleteImportedKeyMaterial's change: the key's material is dropped
    /// and the key is pending import (a key pending deletion stays so).
    /// `expected`, if given, must be the key's material id
    /// (`NotFoundException` otherwise). Returns the id of the material the
    /// key was imported with, if any.
    pub(crate) fn delete_imported_material(
        &self,
        entry: &KeyEntry,
        expected: Option<&str>,
    ) -> Result<Option<MaterialId>> {
        let m = entry.state.upgradable_read();
        self.check_import_op(entry, &m, KeyOperation::DeleteImportedKeyMaterial)?;
        let import = import_state(entry, &m)?;
        if let Some(expected) = expected
            && import.material_id.map(|id| id.hex()).as_deref() != Some(expected)
        {
            return Err(kms_err!(
                NotFound,
                "Key material {expected} does not exist for {}.",
                entry.arn
            ));
        }
        let has_material = entry.imported.as_ref().is_some_and(|i| i.load().is_some());
        if !has_material {
            // No effect, as AWS: nothing to delete.
            return Ok(import.material_id);
        }
        let id = import.material_id;
        self.drop_material(entry, m, import)?;
        Ok(id)
    }

    /// Drops the key's material under its lock `m` (checked): commit,
    /// then take the material out, cancel its expiry and record the state.
    fn drop_material(
        &self,
        entry: &KeyEntry,
        m: RwLockUpgradableReadGuard<'_, KeyMutable>,
        mut import: ImportState,
    ) -> Result<()> {
        let before = import.expiration.and_then(Expiration::valid_to);
        import.expiration = None;
        let after = m.lifecycle.apply(KeyEvent::MaterialDeleted, &entry.arn)?;
        let mut next_m = m.clone();
        next_m.import = Some(Box::new(import));
        next_m.lifecycle = after;
        self.commit()
            .persist_key_import(entry, &next_m, after, None)?;
        let mut m = RwLockUpgradableReadGuard::upgrade(m);
        if let Some(imported) = &entry.imported {
            imported.set(None);
        }
        if let Some(at) = before {
            self.timers
                .cancel(at, Timer::ImportedMaterialExpiry(entry.id));
        }
        *m = next_m;
        entry.lifecycle.store(after);
        Ok(())
    }

    /// The expiry of key `id`'s imported material due at `at` (its
    /// timer), run by `advance`. Nothing but the timer changes if the key
    /// is gone or its material no longer expires then; a failed commit
    /// leaves it due.
    pub(crate) fn expire_imported_due(&self, id: KeyId, at: Timestamp) {
        let timer = Timer::ImportedMaterialExpiry(id);
        let Some(entry) = self.keys.read().get(&id) else {
            self.timers.cancel(at, timer);
            return;
        };
        let m = entry.state.upgradable_read();
        let Ok(import) = import_state(&entry, &m) else {
            self.timers.cancel(at, timer);
            return;
        };
        if m.deleted || import.expiration != Some(Expiration::At(at)) {
            self.timers.cancel(at, timer);
            return;
        }
        // On a failed commit the timer stays: the next call retries.
        let _ = self.drop_material(&entry, m, import);
    }

    /// The expiry timers of keys with imported material (a durable
    /// service on open).
    pub(crate) fn refill_import_timers(&self, entry: &KeyEntry, m: &KeyMutable) {
        if let Some(at) = m
            .import
            .as_ref()
            .and_then(|i| i.expiration)
            .and_then(Expiration::valid_to)
            && m.lifecycle != KeyLifecycle::PendingImport
        {
            self.timers.set(at, Timer::ImportedMaterialExpiry(entry.id));
        }
    }
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
