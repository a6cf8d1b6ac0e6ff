//! The service side of multi-Region keys: making a replica in this
//! Region's Kms, keeping every related key's relations ([`MultiRegion`])
//! in step, copying material versions from the primary key to its
//! replicas (imported materials' ids follow in `import.rs`), and what a
//! replica's deletion does to the others.
//!
//! Each Region's Kms is its own [`Service`] with its own locks and its own
//! durable file. A change that touches several Regions (ReplicateKey,
//! UpdatePrimaryRegion, a rotation, a replica's deletion) runs as a
//! sequence of per-Region changes, each committed then applied under that
//! Region's locks; no lock of one Region is held while another Region's is
//! taken, so the Regions cannot deadlock one another. Between the steps
//! another call may see the first Region changed and the next not yet, as
//! AWS's own Regions are eventually consistent.

use std::sync::Arc;

use crate::clock::Timestamp;
use crate::crypto::KeyMaterial;
use crate::error::{Error, Result, kms_err};
use crate::iam::policy::Policy;
use crate::ids::{KeyId, Region};
use crate::key::{KeyEvent, KeyLifecycle, KeyManager};
use crate::kms::call::Call;
use crate::kms::model::backing::Backing;
use crate::kms::model::import::{ImportState, ImportedMaterial};
use crate::kms::model::key::{KeyEntry, KeyIdentity, KeyMutable};
use crate::kms::model::multi_region::MultiRegion;
use crate::kms::model::versions::{MaterialVersion, RotationSchedule, Versions};
use crate::kms::shapes::types::ReplicateKeyRequest;
use crate::kms::support::access::{Action, Facts, NewKeyFacts};
use crate::kms::timers::Timer;
use crate::sync::RwLockUpgradableReadGuard;

use super::Service;
use super::rotation::{armed, days};

/// A copy of one material version, for a related key in another Region.
fn copy_version(v: &MaterialVersion) -> MaterialVersion {
    MaterialVersion::new(
        v.index,
        KeyMaterial::from_bytes(*v.material.expose_secret()),
        v.date,
        v.rotation,
    )
}

impl Service {
    /// The Kms of this account in `region`, if the partition has it.
    pub(crate) fn sibling_in(&self, region: &str) -> Option<Arc<Service>> {
        self.shared.service(self.account_id.as_str(), region)
    }

    /// `entry`'s multi-Region relations (`None` for a single-Region key).
    pub(crate) fn relations(&self, entry: &KeyEntry) -> Option<MultiRegion> {
        self.read_key(entry, |m| m.multi_region.as_deref().cloned())
    }

    /// True if `entry` is a multi-Region replica key.
    pub(crate) fn is_replica(&self, entry: &KeyEntry) -> bool {
        self.read_key(entry, |m| m.is_replica_in(&self.region))
    }

    /// The automatic rotation schedule `entry` follows: its own, or for a
    /// replica its primary key's (if the partition still has that Region).
    pub(crate) fn shared_rotation(&self, entry: &KeyEntry) -> RotationSchedule {
        let own = self.read_key(entry, |m| m.rotation);
        let Some(relations) = self.relations(entry).filter(|mr| mr.primary != self.region) else {
            return own;
        };
        self.sibling_in(relations.primary.as_str())
            .and_then(|primary| primary.keys.read().get(&entry.id))
            .map_or(own, |p| p.state.read().rotation)
    }

    /// ReplicateKey's step in the replica's Region (this service): checks
    /// that the caller may create keys here (`kms:CreateKey`), that no
    /// related key is here yet (`AlreadyExistsException`), the key quota
    /// and the policy lockout, then inserts the replica of the primary key
    /// `source` with its kind (key spec, usage and, for an HMAC or
    /// asymmetric key, its secret), its material versions and `relations`;
    /// a replica of a key with imported material is pending import, with
    /// the ids of the primary's materials (one pending rotation among
    /// them) and none of them imported.
    /// The caller's request was checked in the primary's Region.
    pub(crate) fn insert_replica(
        &self,
        cx: &Call,
        source: &KeyEntry,
        relations: MultiRegion,
        req: &ReplicateKeyRequest,
        policy: Option<Arc<Policy>>,
    ) -> Result<Arc<KeyEntry>> {
        let bypass = req.bypass_policy_lockout_safety_check == Some(true);
        self.authorize_account(
            cx,
            Action::CreateKey,
            &Facts {
                request_tags: Some(&req.tags),
                bypass_lockout: Some(bypass),
                new_key: Some(NewKeyFacts {
                    origin: source.backing.origin().as_str(),
                    key_spec: source.kind.spec().as_str(),
                    key_usage: source.kind.usage().as_str(),
                    multi_region: true,
                }),
                ..Facts::default()
            },
        )?;
        let id = source.id;
        let arn = self.key_arn(&id);
        if self.keys.read().contains(&id) {
            return Err(already_replicated(&arn));
        }
        if self.key_count() >= self.quotas.max_keys {
            return Err(kms_err!(
                LimitExceeded,
                "The account has {} KMS keys in {}, the most allowed. Delete keys or raise the quota.",
                self.quotas.max_keys,
                self.region
            ));
        }
        if let Some(policy) = &policy
            && !bypass
        {
            self.check_lockout(cx, policy, &arn)?;
        }
        // A symmetric key's material is in its versions; an HMAC or
        // asymmetric key's secret in its kind, copied with it.
        let versions = match &source.versions {
            None => None,
            Some(source) => {
                let mut all = source.iter();
                let first = all
                    .next()
                    .ok_or_else(|| Error::internal("a multi-Region key without its material"))?;
                let versions = Versions::new(copy_version(first));
                for v in all {
                    if !versions.push(copy_version(v)) {
                        return Err(Error::internal("a key's material versions are full"));
                    }
                }
                Some(versions)
            }
        };
        let kind = source.kind.replica()?;
        // A key with imported material: the replica gets none (the same
        // material is imported into it), only the ids of the primary's
        // materials, which its imports must match.
        let import = match (&source.imported, &source.backing) {
            (Some(_), Backing::Imported) => Some(self.read_key(source, |m| {
                replica_import_state(m.import.as_deref().unwrap_or(&ImportState::default()))
            })),
            _ => None,
        };
        let identity = KeyIdentity {
            id,
            arn,
            creation_date: cx.now,
            manager: KeyManager::Customer,
            backing: if import.is_some() {
                Backing::Imported
            } else {
                Backing::Kms
            },
            kind,
            versions,
            imported: import
                .is_some()
                .then(|| Box::new(ImportedMaterial::empty())),
        };
        // The primary key keeps the rotation schedule: a replica's is empty.
        let mut state = KeyMutable::new(
            req.description.clone().unwrap_or_default(),
            req.tags.clone(),
            req.policy.clone(),
            policy,
        );
        state.multi_region = Some(Box::new(relations));
        if let Some(import) = import {
            state.lifecycle = KeyLifecycle::PendingImport;
            state.import = Some(Box::new(import));
        }
        let entry = Arc::new(KeyEntry::new(identity, state));
        self.insert_new_key(Arc::clone(&entry))?;
        Ok(entry)
    }

    /// Sets the relations of key `id` here to `relations` (and, when
    /// given, its rotation schedule, moving its rotation timer): committed,
    /// then applied. Nothing happens if the key is not here (deleted
    /// meanwhile).
    pub(crate) fn set_relations(
        &self,
        id: &KeyId,
        relations: &MultiRegion,
        rotation: Option<RotationSchedule>,
    ) -> Result<()> {
        let Some(entry) = self.keys.read().get(id) else {
            return Ok(());
        };
        let m = entry.state.upgradable_read();
        if m.deleted {
            return Ok(());
        }
        let mut next = m.clone();
        next.multi_region = Some(Box::new(relations.clone()));
        if let Some(r) = rotation {
            next.rotation = r;
        }
        self.commit()
            .persist_key_state(&entry, &next, next.lifecycle)?;
        let mut m = RwLockUpgradableReadGuard::upgrade(m);
        self.timers
            .replace(armed(&m), armed(&next), Timer::KeyRotation(entry.id));
        *m = next;
        Ok(())
    }

    /// Sets `relations` on every related key in the Regions `relations`
    /// names, this one included. A Region whose Kms is gone is skipped.
    pub(crate) fn spread_relations(
        &self,
        id: &KeyId,
        relations: &MultiRegion,
        rotation: impl Fn(&Region) -> Option<RotationSchedule>,
    ) -> Result<()> {
        for region in relations.regions() {
            let service = if *region == self.region {
                None
            } else {
                match self.sibling_in(region.as_str()) {
                    Some(s) => Some(s),
                    None => continue,
                }
            };
            let service = service.as_deref().unwrap_or(self);
            service.set_relations(id, relations, rotation(region))?;
        }
        Ok(())
    }

    /// Brings the material versions of key `id` here up to `source`'s (a
    /// replica, after its primary rotated). A version this key has is
    /// never replaced; the missing ones are committed, then published.
    pub(crate) fn sync_versions(&self, id: &KeyId, source: &Versions) -> Result<()> {
        let Some(entry) = self.keys.read().get(id) else {
            return Ok(());
        };
        let Some(versions) = &entry.versions else {
            return Ok(());
        };
        let m = entry.state.upgradable_read();
        if m.deleted {
            return Ok(());
        }
        let pending: Vec<MaterialVersion> = source
            .iter()
            .skip(versions.len() as usize)
            .map(copy_version)
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        self.commit()
            .persist_key_rotation(&entry, &m, m.lifecycle, &pending)?;
        // The one writer of the versions holds the key's lock.
        let _m = RwLockUpgradableReadGuard::upgrade(m);
        for v in pending {
            if !versions.push(v) {
                return Err(Error::internal("a key's material versions are full"));
            }
        }
        Ok(())
    }

    /// After a rotation of `entry` (a multi-Region primary key): its
    /// replicas get the new versions. Best effort: a replica whose commit
    /// fails catches up at the next rotation.
    pub(crate) fn push_versions(&self, entry: &KeyEntry) {
        let Some(relations) = self.relations(entry) else {
            return;
        };
        let Some(versions) = &entry.versions else {
            return;
        };
        for region in relations.replicas.iter().filter(|r| **r != self.region) {
            if let Some(replica) = self.sibling_in(region.as_str()) {
                let _ = replica.sync_versions(&entry.id, versions);
            }
        }
    }

    /// The related keys of `gone` (keys of this Region just deleted, with
    /// their relations and deletion dates) forget them; a primary key
    /// waiting in PendingReplicaDeletion whose last replica that was
    /// starts its waiting period from that deletion date.
    pub(crate) fn forget_deleted(&self, gone: &[(KeyId, MultiRegion, Timestamp)]) {
        for (id, relations, at) in gone {
            for region in relations.regions().filter(|r| **r != self.region) {
                if let Some(other) = self.sibling_in(region.as_str()) {
                    let _ = other.replica_deleted(id, &self.region, *at);
                }
            }
        }
    }

    /// Key `id`'s related key in `region` was deleted at `at`.
    fn replica_deleted(&self, id: &KeyId, region: &Region, at: Timestamp) -> Result<()> {
        let Some(entry) = self.keys.read().get(id) else {
            return Ok(());
        };
        let m = entry.state.upgradable_read();
        let Some(relations) = m.multi_region.as_ref().filter(|mr| mr.has_region(region)) else {
            return Ok(());
        };
        if m.deleted {
            return Ok(());
        }
        let relations = relations.without(region);
        let lifecycle = match m.lifecycle {
            KeyLifecycle::PendingReplicaDeletion { window_days }
                if relations.replicas.is_empty() && relations.primary == self.region =>
            {
                m.lifecycle.apply(
                    KeyEvent::ReplicasDeleted {
                        deletion_date: at.saturating_add(days(window_days)),
                    },
                    &entry.arn,
                )?
            }
            l => l,
        };
        let mut next = m.clone();
        next.multi_region = Some(Box::new(relations));
        next.lifecycle = lifecycle;
        self.commit().persist_key_state(&entry, &next, lifecycle)?;
        let mut m = RwLockUpgradableReadGuard::upgrade(m);
        self.timers.replace(
            m.lifecycle.deletion_date(),
            lifecycle.deletion_date(),
            Timer::KeyDeletion(entry.id),
        );
        *m = next;
        entry.lifecycle.store(lifecycle);
        Ok(())
    }
}

/// A replica's import state, from its primary key's `primary`: the ids
/// of the primary's materials (one pending rotation among them), none of
/// them imported yet.
fn replica_import_state(primary: &ImportState) -> ImportState {
    let mut state = ImportState::default();
    state.follow(&primary.lineage());
    state
}

/// AlreadyExistsException: the Region already has a key of this
/// multi-Region key.
pub(crate) fn already_replicated(arn: &str) -> Error {
    kms_err!(AlreadyExists, "{arn} already exists.")
        .with_hint("A Region holds at most one key of a multi-Region key.")
}
