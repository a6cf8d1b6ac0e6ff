//! Time in one place: the table of every deadline the service keeps — key
//! deletion dates, automatic key rotations, the expiry of imported key
//! material and the end of stepped-mode connection changes — and
//! `Service::advance` (`service.rs`), the only code that runs work when its time comes.
//!
//! # When due work runs, and the disk
//!
//! Every public operation begins with `Service::begin`: it
//! reads the clock once and, if the earliest deadline has passed, runs
//! `Service::advance` (`service.rs`) with that time before doing anything else. That holds
//! for **every** call, the cryptographic ones (Encrypt, Decrypt, ReEncrypt,
//! GenerateDataKey*, GenerateRandom) included, so a service in memory and a
//! durable one behave the same: whichever call comes first after a deadline
//! finishes the work, as if the service had done it on time.
//!
//! Durable, that work is committed like any other change (check, commit,
//! then apply; see `persist/`), so **a cryptographic call can commit to
//! the disk**, but only when something is due. When nothing is due the
//! check is one clock read and one atomic load, and no lock is taken.
//!
//! A due change whose commit fails is not applied and **stays due**: the
//! next call (of any kind) retries it. The call that found it proceeds on
//! the last committed state — a store whose CONNECTING could not be
//! committed is still CONNECTING for it (Encrypt under its keys answers
//! `KMSInvalidStateException`), a key whose deletion could not be committed
//! is still listed by ListKeys. One thing does not wait for the commit: a
//! key whose deletion date has passed reads as `NotFoundException` (and its
//! ciphertexts as `InvalidCiphertextException`) for every call whose time
//! is past that date, purged or not.
//!
//! # Order
//!
//! `advance(now)` runs the timers due by `now` in deadline order; at the
//! same instant a store transition runs before a key deletion, and a
//! deletion before a rotation (a key deleted then is not rotated; so a
//! CloudHSM key store that finishes connecting at the moment one of its
//! keys' windows ends lets that key's material be deleted from the
//! cluster). Concurrent callers that find work due run `advance` one at a
//! time: a call returns from `begin` only once the work due at its time has
//! been done (or has failed to commit). Timers are changed under the lock
//! of what they belong to (a key's state, the store table), taken before
//! the timer table's own lock, which is last in the lock order.

use crate::sync::{AtomicU64, Ordering};
use std::collections::BTreeSet;

use crate::sync::Mutex;

use crate::clock::Timestamp;
use crate::ids::{CustomKeyStoreId, KeyId};

/// What is due at a deadline. Variants at the same instant run in
/// declaration order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// A stepped-mode CONNECTING or DISCONNECTING of this store finishes.
    StoreTransition(CustomKeyStoreId),
    /// This key's deletion window ends: the key is deleted.
    KeyDeletion(KeyId),
    /// This key's next automatic rotation: a new material version, and the
    /// next period armed (`service/rotation.rs`).
    KeyRotation(KeyId),
    /// This key's imported material reaches its `ValidTo`: the material is
    /// deleted and the key is pending import (`service/import.rs`).
    ImportedMaterialExpiry(KeyId),
}

/// The deadlines, in order, and the earliest one in an atomic word so that
/// "is anything due?" is one load, with no write to a shared cache line.
#[derive(Debug)]
pub(crate) struct Timers {
    table: Mutex<BTreeSet<(Timestamp, Timer)>>,
    /// The earliest deadline in `table`, in milliseconds; `u64::MAX` when
    /// the table is empty. Written only under `table`'s lock.
    earliest: AtomicU64,
    /// Held by the one caller running `Service::advance`.
    running: Mutex<()>,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            table: Mutex::new(BTreeSet::new()),
            earliest: AtomicU64::new(u64::MAX),
            running: Mutex::new(()),
        }
    }
}

impl Timers {
    /// Taken by the one caller running `Service::advance`: concurrent
    /// callers that find work due run it one at a time.
    pub(crate) fn running(&self) -> crate::sync::MutexGuard<'_, ()> {
        self.running.lock()
    }

    /// Whether a deadline has passed by `now`: one atomic load.
    #[inline]
    pub(crate) fn is_due(&self, now: Timestamp) -> bool {
        now.as_millis() >= self.earliest.load(Ordering::Acquire)
    }

    /// The earliest deadline, if any.
    #[cfg(test)]
    pub(crate) fn earliest(&self) -> Option<Timestamp> {
        match self.earliest.load(Ordering::Acquire) {
            u64::MAX => None,
            ms => Some(Timestamp::from_millis(ms)),
        }
    }

    /// Adds `timer` at `at`.
    pub(crate) fn set(&self, at: Timestamp, timer: Timer) {
        self.replace(None, Some(at), timer);
    }

    /// Removes `timer` at `at` (nothing if it is not there).
    pub(crate) fn cancel(&self, at: Timestamp, timer: Timer) {
        self.replace(Some(at), None, timer);
    }

    /// Moves `timer` from `old` to `new` (either may be absent), under one
    /// lock.
    pub(crate) fn replace(&self, old: Option<Timestamp>, new: Option<Timestamp>, timer: Timer) {
        let mut table = self.table.lock();
        if let Some(old) = old {
            table.remove(&(old, timer.clone()));
        }
        if let Some(new) = new {
            table.insert((new, timer));
        }
        self.publish(&table);
    }

    /// The timers due by `now`, in order. They stay in the table until the
    /// work is done (whoever does it removes them), so a failed commit
    /// leaves them due.
    pub(crate) fn due(&self, now: Timestamp) -> Vec<(Timestamp, Timer)> {
        self.table
            .lock()
            .iter()
            .take_while(|(at, _)| *at <= now)
            .cloned()
            .collect()
    }

    fn publish(&self, table: &BTreeSet<(Timestamp, Timer)>) {
        let earliest = table.first().map_or(u64::MAX, |(at, _)| at.as_millis());
        self.earliest.store(earliest, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn key(b: u8) -> Timer {
        Timer::KeyDeletion(KeyId::from_bytes([b; 16]))
    }

    fn store(s: &str) -> Timer {
        Timer::StoreTransition(s.parse().unwrap())
    }

    #[test]
    fn an_empty_table_is_never_due() {
        let timers = Timers::default();
        assert_eq!(timers.earliest(), None);
        assert!(!timers.is_due(t(0)));
        assert!(!timers.is_due(t(u64::MAX - 1)));
    }

    #[test]
    fn the_earliest_deadline_word_follows_inserts_and_cancels() {
        let timers = Timers::default();
        timers.set(t(500), key(1));
        assert_eq!(timers.earliest(), Some(t(500)));
        timers.set(t(200), key(2));
        assert_eq!(timers.earliest(), Some(t(200)));
        assert!(!timers.is_due(t(199)));
        assert!(timers.is_due(t(200)));
        timers.cancel(t(200), key(2));
        assert_eq!(timers.earliest(), Some(t(500)));
        assert!(!timers.is_due(t(200)));
        timers.replace(Some(t(500)), Some(t(900)), key(1));
        assert_eq!(timers.earliest(), Some(t(900)));
        timers.cancel(t(900), key(1));
        assert_eq!(timers.earliest(), None);
    }

    #[test]
    fn cancelling_a_timer_that_is_not_set_changes_nothing() {
        let timers = Timers::default();
        timers.set(t(10), key(1));
        timers.cancel(t(10), key(2));
        timers.cancel(t(11), key(1));
        assert_eq!(timers.due(t(10)), vec![(t(10), key(1))]);
    }

    #[test]
    fn due_timers_come_in_deadline_order_and_stay_until_removed() {
        let timers = Timers::default();
        timers.set(t(30), key(3));
        timers.set(t(10), key(1));
        timers.set(t(20), store("cks-1234567890abcdef0"));
        timers.set(t(40), key(4));
        assert_eq!(
            timers.due(t(30)),
            vec![
                (t(10), key(1)),
                (t(20), store("cks-1234567890abcdef0")),
                (t(30), key(3)),
            ]
        );
        // Reading what is due removes nothing: the work does.
        assert_eq!(timers.due(t(30)).len(), 3);
        assert_eq!(timers.earliest(), Some(t(10)));
    }

    #[test]
    fn at_the_same_instant_a_store_transition_comes_before_a_key_deletion() {
        let timers = Timers::default();
        timers.set(t(7), key(0));
        timers.set(t(7), store("cks-1234567890abcdef0"));
        assert_eq!(
            timers.due(t(7)),
            vec![(t(7), store("cks-1234567890abcdef0")), (t(7), key(0))]
        );
    }
}
