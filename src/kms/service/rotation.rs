//! The service side of key rotation: changing a key's automatic rotation
//! schedule, adding a material version (on demand, or when the schedule's
//! timer is due), and arming yearly rotation for an AWS managed key.
//!
//! Every change follows the persistence rule (check, commit, then apply)
//! under the key's own `state` lock, taken upgradable: the cryptographic
//! path keeps reading the key meanwhile. A new version is published in the
//! key's append-only [`Versions`](crate::kms::model::versions::Versions)
//! only after its commit, still under that lock (the one writer). The
//! schedule's timer (`Timer::KeyRotation`) is moved with the schedule, after
//! the key's lock in the lock order.
//!
//! An automatic rotation due while the key is not Enabled does not happen
//! (AWS does not rotate disabled keys or keys pending deletion): the timer
//! is dropped, the schedule keeps its date, and EnableKey re-arms the timer
//! (`Service::transition`), so the overdue rotation runs at the next call.
//! A clock moved past several periods at once catches up: one version per
//! period missed, each dated when it fell due.

use std::time::Duration;

use crate::clock::Timestamp;
use crate::crypto::KeyMaterial;
use crate::error::{Error, Result, kms_err};
use crate::ids::KeyId;
use crate::key::KeyLifecycle;
use crate::key::state::KeyOperation;
use crate::kms::model::key::{KeyEntry, KeyMutable};
use crate::kms::model::versions::{MaterialVersion, RotationKind, RotationSchedule};
use crate::sync::RwLockUpgradableReadGuard;

use super::Service;
use crate::kms::timers::Timer;

/// The period of an AWS managed key's automatic rotation, in days.
pub(crate) const AWS_MANAGED_PERIOD_DAYS: u32 = 365;

/// The most versions one catch-up adds (a clock moved centuries ahead).
const MAX_CATCH_UP: usize = 4096;

/// `days` as a duration.
pub(crate) fn days(days: u32) -> Duration {
    Duration::from_secs(u64::from(days) * 86_400)
}

/// The next automatic rotation of a key whose mutable part is `m`, if its
/// timer should be armed.
pub(crate) fn armed(m: &KeyMutable) -> Option<Timestamp> {
    if m.deleted || !m.rotation.enabled {
        return None;
    }
    m.rotation.next
}

impl Service {
    /// Sets `entry`'s automatic rotation, after checking the key state for
    /// Enable/DisableKeyRotation: on with `period_days` (the next rotation
    /// `period_days` after `now`, as AWS counts from the enable date), or
    /// off. Enabling again with another period moves the next date.
    pub(crate) fn set_rotation(
        &self,
        entry: &KeyEntry,
        enable: Option<u32>,
        now: Timestamp,
    ) -> Result<RotationSchedule> {
        let m = entry.state.upgradable_read();
        self.check_mutable(entry, &m)?;
        crate::key::state::check(
            KeyOperation::KeyRotation,
            self.key_state(entry, m.lifecycle),
            &entry.arn,
        )?;
        let before = m.rotation;
        let mut after = before;
        match enable {
            Some(period) => {
                // Enabling a key that already rotates on the same period
                // changes nothing (AWS keeps its date).
                if !(before.enabled && before.period_days == period) {
                    after.enabled = true;
                    after.period_days = period;
                    after.next = Some(now.saturating_add(days(period)));
                }
            }
            None => {
                after.enabled = false;
                after.next = None;
            }
        }
        if after == before {
            return Ok(after);
        }
        let mut next_m = m.clone();
        next_m.rotation = after;
        self.commit()
            .persist_key_state(entry, &next_m, next_m.lifecycle)?;
        let mut m = RwLockUpgradableReadGuard::upgrade(m);
        self.timers.replace(
            armed_schedule(&before),
            armed_schedule(&after),
            Timer::KeyRotation(entry.id),
        );
        m.rotation = after;
        Ok(after)
    }

    /// RotateKeyOnDemand's change: a new current version of `entry`'s
    /// material, made now (for a key with imported material, the material
    /// pending rotation), unless the key has had `limit` on-demand
    /// rotations (`LimitExceededException`). The automatic schedule is not
    /// moved, as in AWS.
    pub(crate) fn rotate_on_demand(
        &self,
        entry: &KeyEntry,
        limit: u32,
        now: Timestamp,
    ) -> Result<()> {
        // Imported material rotates to material imported for it.
        if entry.imported.is_some() {
            return self.rotate_imported(entry, limit, now);
        }
        let m = entry.state.upgradable_read();
        self.check_mutable(entry, &m)?;
        crate::key::state::check(
            KeyOperation::KeyRotation,
            self.key_state(entry, m.lifecycle),
            &entry.arn,
        )?;
        check_on_demand_limit(&m, limit, &entry.arn)?;
        let versions = entry
            .versions
            .as_ref()
            .ok_or_else(|| Error::internal("an AWS_KMS key without its material"))?;
        let version = self.new_version(versions.len(), now, RotationKind::OnDemand);
        let mut next_m = m.clone();
        next_m.rotation.on_demand_count += 1;
        self.commit().persist_key_rotation(
            entry,
            &next_m,
            next_m.lifecycle,
            std::slice::from_ref(&version),
        )?;
        let mut m = RwLockUpgradableReadGuard::upgrade(m);
        if !versions.push(version) {
            return Err(Error::internal("a key's material versions are full"));
        }
        *m = next_m;
        Ok(())
    }

    /// The automatic rotation of key `id` due at `at` (its timer), run by
    /// `advance` at `now`. Nothing but the timer changes if the key is
    /// gone, no longer rotating on that date, or not Enabled; a failed
    /// commit leaves it due.
    pub(crate) fn rotate_due(&self, id: KeyId, at: Timestamp, now: Timestamp) {
        let timer = Timer::KeyRotation(id);
        let Some(entry) = self.keys.read().get(&id) else {
            self.timers.cancel(at, timer);
            return;
        };
        let m = entry.state.upgradable_read();
        let due = armed(&m) == Some(at) && at <= now;
        let enabled = m.lifecycle == KeyLifecycle::Enabled;
        let (Some(versions), true, true) = (&entry.versions, due, enabled) else {
            // Stale (moved or turned off: that change set its own timer),
            // or waiting for EnableKey, which re-arms it.
            if armed(&m) != Some(at) || !enabled {
                self.timers.cancel(at, timer);
            }
            return;
        };
        let period = days(m.rotation.period_days);
        let mut pending = Vec::new();
        let mut next = at;
        while next <= now && pending.len() < MAX_CATCH_UP {
            let index = versions.len() + pending.len() as u32;
            pending.push(self.new_version(index, next, RotationKind::Automatic));
            next = next.saturating_add(period);
        }
        let mut next_m = m.clone();
        next_m.rotation.next = Some(next);
        if self
            .commit()
            .persist_key_rotation(&entry, &next_m, next_m.lifecycle, &pending)
            .is_err()
        {
            // Still due: the next call retries.
            return;
        }
        let mut m = RwLockUpgradableReadGuard::upgrade(m);
        for v in pending {
            if !versions.push(v) {
                break;
            }
        }
        *m = next_m;
        self.timers.replace(Some(at), Some(next), timer);
        drop(m);
        // A multi-Region primary key's replicas share the new material.
        self.push_versions(&entry);
    }

    /// Arms yearly automatic rotation on a new AWS managed key's `entry`
    /// (created at `now`), before it is committed and inserted: AWS always
    /// rotates AWS managed keys every 365 days, and their rotation cannot
    /// be changed.
    pub(crate) fn arm_yearly_rotation(&self, entry: &KeyEntry, now: Timestamp) {
        let next = now.saturating_add(days(AWS_MANAGED_PERIOD_DAYS));
        entry.state.write().rotation = RotationSchedule {
            enabled: true,
            period_days: AWS_MANAGED_PERIOD_DAYS,
            next: Some(next),
            on_demand_count: 0,
        };
        self.timers.set(next, Timer::KeyRotation(entry.id));
    }

    /// Version `index` of a key's material: fresh material, dated `date`.
    fn new_version(&self, index: u32, date: Timestamp, kind: RotationKind) -> MaterialVersion {
        MaterialVersion::new(
            index,
            KeyMaterial::from_bytes(self.rng.array()),
            date,
            Some(kind),
        )
    }

    /// A key change's first check, under the key's lock: the key was not
    /// deleted meanwhile and its deletion date has not passed.
    fn check_mutable(&self, entry: &KeyEntry, m: &KeyMutable) -> Result<()> {
        if m.deleted {
            return Err(kms_err!(NotFound, "Key '{}' does not exist.", entry.arn));
        }
        Ok(())
    }
}

fn armed_schedule(r: &RotationSchedule) -> Option<Timestamp> {
    r.enabled.then_some(r.next).flatten()
}

/// `LimitExceededException` once key `arn` (its mutable part `m`) has made
/// its `limit` on-demand rotations.
pub(crate) fn check_on_demand_limit(m: &KeyMutable, limit: u32, arn: &str) -> Result<()> {
    if m.rotation.on_demand_count >= limit {
        return Err(kms_err!(
            LimitExceeded,
            "You have exceeded the maximum number of on-demand rotations ({limit}) for KMS key {arn}."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::key::KeyManager;
    use crate::kms::model::backing::Backing;
    use crate::kms::model::key::KeyIdentity;
    use crate::kms::model::versions::MaterialId;
    use crate::kms::model::versions::Versions;
    use crate::kms::{DecryptRequest, EnableKeyRotationRequest, Kms, KmsConfig};

    /// Format-1 blobs, written by the crate before key rotation existed
    /// (produced with that code, kept as data): key id, key material,
    /// encryption context, plaintext, blob.
    type Vector = (
        &'static str,
        &'static str,
        (&'static str, &'static str),
        &'static [u8],
        &'static str,
    );
    const FORMAT_1: &[Vector] = &[(
        "51d3f04c-0cdf-4738-b489-2739e9570fee",
        "5047d4ec0dd32647041c7bdd150424dfd4a293d3d43e53b772b25853c24b1a0f",
        ("purpose", "format-1 vector"),
        b"written before key rotation",
        "010151d3f04c0cdf4738b4892739e9570feea299a5ee5a2fa8edad3c28741eb5b8cc76a7bc06b013a2f39fc039c84e7a1f529acf41b8871182049c9646fdbb39907d149be72b9a7458",
    )];

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Puts a key with `material` (version 0) and `manager` in `kms`.
    fn insert(kms: &Kms, id: KeyId, material: [u8; 32], manager: KeyManager) -> Arc<KeyEntry> {
        let now = Timestamp::from_millis(0);
        let identity = KeyIdentity {
            id,
            arn: kms.inner.key_arn(&id),
            creation_date: now,
            manager,
            backing: Backing::Kms,
            kind: crate::kms::model::kind::KeyKind::Symmetric,
            versions: Some(Versions::new(MaterialVersion::new(
                0,
                KeyMaterial::from_bytes(material),
                now,
                None,
            ))),
            imported: None,
        };
        let state = KeyMutable::new(String::new(), Vec::new(), None, None);
        let entry = Arc::new(KeyEntry::new(identity, state));
        kms.inner.insert_new_key(Arc::clone(&entry)).unwrap();
        entry
    }

    #[test]
    fn format_1_blobs_decrypt_with_the_original_material_before_and_after_rotation() {
        for (id, material, (k, v), plaintext, blob) in FORMAT_1 {
            let kms = Kms::new(KmsConfig::default().with_seed(1));
            let id: KeyId = id.parse().unwrap();
            insert(
                &kms,
                id,
                unhex(material).try_into().unwrap(),
                KeyManager::Customer,
            );
            let req = || DecryptRequest {
                ciphertext_blob: unhex(blob),
                encryption_context: [(k.to_string(), v.to_string())].into_iter().collect(),
                ..Default::default()
            };
            let original = MaterialId::derive(&id, 0).to_string();
            let r = kms.decrypt(req()).unwrap();
            assert_eq!(r.plaintext.expose_secret(), *plaintext);
            assert_eq!(r.key_material_id.as_deref(), Some(original.as_str()));
            kms.rotate_key_on_demand(&id.to_string()).unwrap();
            let r = kms.decrypt(req()).unwrap();
            assert_eq!(r.plaintext.expose_secret(), *plaintext);
            assert_eq!(r.key_material_id.as_deref(), Some(original.as_str()));
        }
    }

    #[test]
    fn an_aws_managed_key_rotates_yearly_and_its_rotation_cannot_be_changed() {
        let clock = crate::clock::ManualClock::default();
        let kms = Kms::new(KmsConfig::default().with_seed(2).with_clock(clock.clone()));
        let id = KeyId::from_random_bytes([7; 16]);
        let now = crate::clock::Clock::now(&clock);
        let entry = insert(&kms, id, [3; 32], KeyManager::Aws);
        kms.inner.arm_yearly_rotation(&entry, now);
        let key = id.to_string();
        let s = kms.get_key_rotation_status(&key).unwrap();
        assert!(s.key_rotation_enabled);
        assert_eq!(s.rotation_period_in_days, Some(AWS_MANAGED_PERIOD_DAYS));
        assert_eq!(s.next_rotation_date, Some(now.saturating_add(days(365))));
        for err in [
            kms.enable_key_rotation(EnableKeyRotationRequest {
                key_id: key.clone(),
                rotation_period_in_days: Some(90),
            })
            .unwrap_err(),
            kms.disable_key_rotation(&key).unwrap_err(),
            kms.rotate_key_on_demand(&key).unwrap_err(),
        ] {
            assert_eq!(err.code(), "UnsupportedOperationException", "{err}");
        }
        clock.advance(days(365));
        kms.describe_key(&key).unwrap();
        assert_eq!(entry.versions.as_ref().unwrap().len(), 2);
        assert_eq!(
            entry.versions.as_ref().unwrap().current().rotation,
            Some(RotationKind::Automatic)
        );
    }
}
