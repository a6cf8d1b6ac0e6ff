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
    /// material, made now, unless the key has had `limit` on-demand
    /// rotations (`LimitExceededException`). The automatic schedule is not
    /// moved, as in AWS.
    pub(crate) fn rotate_on_demand(
        &self,
        entry: &KeyEntry,
        limit: u32,
        now: Timestamp,
    ) -> Result<()> {
        let m = entry.state.upgradable_read();
        self.check_mutable(entry, &m)?;
        crate::key::state::check(
            KeyOperation::KeyRotation,
            self.key_state(entry, m.lifecycle),
            &entry.arn,
        )?;
        if m.rotation.on_demand_count >= limit {
            return Err(kms_err!(
                LimitExceeded,
                "You have exceeded the maximum number of on-demand rotations ({limit}) for KMS key {}.",
                entry.arn
            ));
        }
        let versions = entry
            .versions
            .as_ref()
            .ok_or_else(|| Error::internal("an AWS_KMS key without its material"))?;
        let version = self.new_version(&entry.id, versions.len(), now, RotationKind::OnDemand);
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
            pending.push(self.new_version(&id, index, next, RotationKind::Automatic));
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
    }

    /// Arms yearly automatic rotation on a new AWS managed key's `entry`
    /// (created at `now`), before it is committed and inserted: AWS always
    /// rotates AWS managed keys every 365 days, and their rotation cannot
    /// be changed.
    #[allow(dead_code, reason = "called by the creation of AWS managed keys")]
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

    /// Version `index` of key `id`'s material: fresh material, dated `date`.
    fn new_version(
        &self,
        id: &KeyId,
        index: u32,
        date: Timestamp,
        kind: RotationKind,
    ) -> MaterialVersion {
        MaterialVersion::new(
            id,
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
