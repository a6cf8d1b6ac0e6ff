//! Time in one place: the table of every deadline the service keeps — key
//! deletion dates and the end of stepped-mode connection changes — and
//! [`Inner::advance`], the only code that runs work when its time comes.
//!
//! # When due work runs, and the disk
//!
//! Every public operation begins with [`Inner::begin`](super::call): it
//! reads the clock once and, if the earliest deadline has passed, runs
//! [`Inner::advance`] with that time before doing anything else. That holds
//! for **every** call, the cryptographic ones (Encrypt, Decrypt, ReEncrypt,
//! GenerateDataKey*, GenerateRandom) included, so a service in memory and a
//! durable one behave the same: whichever call comes first after a deadline
//! finishes the work, as if the service had done it on time.
//!
//! Durable, that work is committed like any other change (check, commit,
//! then apply; see `persist.rs`), so **a cryptographic call can commit to
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
//! same instant a store transition runs before a key deletion (so a
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

use super::Inner;

/// What is due at a deadline. Variants at the same instant run in
/// declaration order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// A stepped-mode CONNECTING or DISCONNECTING of this store finishes.
    StoreTransition(CustomKeyStoreId),
    /// This key's deletion window ends: the key is deleted.
    KeyDeletion(KeyId),
}

/// The deadlines, in order, and the earliest one in an atomic word so that
/// "is anything due?" is one load, with no write to a shared cache line.
#[derive(Debug)]
pub(crate) struct Timers {
    table: Mutex<BTreeSet<(Timestamp, Timer)>>,
    /// The earliest deadline in `table`, in milliseconds; `u64::MAX` when
    /// the table is empty. Written only under `table`'s lock.
    earliest: AtomicU64,
    /// Held by the one caller running [`Inner::advance`].
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

impl Inner {
    /// Runs the work due by `now`: finishes stepped-mode store transitions
    /// and deletes keys whose window has ended, in deadline order. The only
    /// place due work runs; see the module documentation for the rules.
    #[cold]
    pub(crate) fn advance(&self, now: Timestamp) {
        let _running = self.timers.running.lock();
        let mut keys: Vec<(Timestamp, KeyId)> = Vec::new();
        for (at, timer) in self.timers.due(now) {
            match timer {
                Timer::KeyDeletion(id) => keys.push((at, id)),
                Timer::StoreTransition(store) => {
                    // Deletions due earlier go first (one commit for a run).
                    if !keys.is_empty() {
                        self.delete_due_keys(&std::mem::take(&mut keys), now);
                    }
                    self.finish_due_transition(&store, at, now);
                }
            }
        }
        if !keys.is_empty() {
            self.delete_due_keys(&keys, now);
        }
    }

    /// Fills the timer table from the key and store tables (a durable
    /// service on open).
    #[cfg_attr(
        not(feature = "durable"),
        allow(dead_code, reason = "used when a durable service opens")
    )]
    pub(crate) fn refill_timers(&self) {
        for entry in self.keys.read().iter() {
            if let Some(date) = entry.state.read().lifecycle.deletion_date() {
                self.timers.set(date, Timer::KeyDeletion(entry.id));
            }
        }
        for store in &self.stores.read().stores {
            if let Some(due) = store.transition_due {
                self.timers
                    .set(due, Timer::StoreTransition(store.id.clone()));
            }
        }
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

    mod service {
        use std::time::Duration;

        use crate::clock::ManualClock;
        use crate::crypto::SecretString;
        use crate::key::OriginType;
        use crate::kms::{
            ConnectionMode, CreateCustomKeyStoreRequest, CreateKeyRequest,
            DescribeCustomKeyStoresRequest, ListKeysRequest, ScheduleKeyDeletionRequest,
        };
        use crate::store::ConnectionStateType;
        use crate::{Kms, KmsConfig};

        fn kms(clock: &ManualClock, mode: ConnectionMode) -> Kms {
            Kms::new(
                KmsConfig::default()
                    .with_clock(clock.clone())
                    .with_seed(3)
                    .with_connection_mode(mode),
            )
        }

        fn schedule(kms: &Kms, key: &str) -> crate::clock::Timestamp {
            kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: key.into(),
                pending_window_in_days: Some(7),
            })
            .unwrap()
            .deletion_date
        }

        #[test]
        fn scheduling_and_cancelling_a_deletion_sets_and_clears_its_timer() {
            let clock = ManualClock::default();
            let kms = kms(&clock, ConnectionMode::Immediate);
            let key = kms.create_key(CreateKeyRequest::default()).unwrap();
            let key = key.key_metadata.key_id.to_string();
            assert_eq!(kms.inner.timers.earliest(), None);
            let date = schedule(&kms, &key);
            assert_eq!(kms.inner.timers.earliest(), Some(date));
            kms.cancel_key_deletion(&key).unwrap();
            assert_eq!(kms.inner.timers.earliest(), None);
        }

        #[test]
        fn a_deletion_runs_from_the_first_call_after_its_date_whatever_the_call() {
            let clock = ManualClock::default();
            let kms = kms(&clock, ConnectionMode::Immediate);
            let doomed = kms.create_key(CreateKeyRequest::default()).unwrap();
            let doomed = doomed.key_metadata.key_id.to_string();
            let other = kms.create_key(CreateKeyRequest::default()).unwrap();
            let other = other.key_metadata.key_id.to_string();
            let date = schedule(&kms, &doomed);
            clock.set(date);
            // A cryptographic call under another key does the deletion.
            kms.encrypt(crate::kms::EncryptRequest {
                key_id: other.clone(),
                plaintext: "x".into(),
                ..Default::default()
            })
            .unwrap();
            assert_eq!(kms.inner.keys.read().len(), 1);
            assert_eq!(kms.inner.timers.earliest(), None);
        }

        #[test]
        fn a_store_connect_due_with_a_key_deletion_runs_first_so_the_material_goes_too() {
            let clock = ManualClock::default();
            let kms = kms(
                &clock,
                ConnectionMode::Stepped {
                    duration_millis: 1_000,
                },
            );
            let (cluster, anchor) = kms
                .cloudhsm()
                .provision_ready_cluster(&["us-west-2a", "us-west-2b"], "kmsPswd")
                .unwrap();
            let store = kms
                .create_custom_key_store(CreateCustomKeyStoreRequest {
                    custom_key_store_name: "S".into(),
                    cloud_hsm_cluster_id: Some(cluster.to_string()),
                    trust_anchor_certificate: Some(anchor),
                    key_store_password: Some(SecretString::from("kmsPswd")),
                    ..Default::default()
                })
                .unwrap()
                .custom_key_store_id
                .to_string();
            let state = |kms: &Kms| {
                kms.describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
                    .unwrap()
                    .custom_key_stores[0]
                    .connection_state
            };
            kms.connect_custom_key_store(&store).unwrap();
            clock.advance(Duration::from_millis(1_000));
            assert_eq!(state(&kms), ConnectionStateType::Connected);
            let key = kms
                .create_key(CreateKeyRequest {
                    origin: Some(OriginType::AwsCloudHsm),
                    custom_key_store_id: Some(store.clone()),
                    ..Default::default()
                })
                .unwrap()
                .key_metadata
                .key_id
                .to_string();
            assert_eq!(kms.cloudhsm().key_labels(&cluster).unwrap().len(), 1);
            let date = schedule(&kms, &key);
            kms.disconnect_custom_key_store(&store).unwrap();
            clock.advance(Duration::from_millis(1_000));
            assert_eq!(state(&kms), ConnectionStateType::Disconnected);
            // Reconnect so that CONNECTING ends at the deletion date.
            clock.set(crate::clock::Timestamp::from_millis(
                date.as_millis() - 1_000,
            ));
            kms.connect_custom_key_store(&store).unwrap();
            assert_eq!(kms.inner.timers.due(date).len(), 2);
            clock.set(date);
            kms.list_keys(ListKeysRequest::default()).unwrap();
            assert_eq!(state(&kms), ConnectionStateType::Connected);
            assert_eq!(kms.inner.keys.read().len(), 0);
            // Deleted while its store was connected: the material went too.
            assert!(kms.cloudhsm().key_labels(&cluster).unwrap().is_empty());
            assert_eq!(kms.inner.timers.earliest(), None);
        }

        #[cfg(feature = "durable")]
        #[test]
        fn reopening_a_durable_service_refills_the_timer_table() {
            let dir = std::env::temp_dir().join(format!(
                "kms-timers-refill-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let clock = ManualClock::default();
            let config = KmsConfig::default()
                .with_clock(clock.clone())
                .with_durable_storage(
                    dir.join("kms.redb"),
                    crate::storage::RootKey::from_bytes([7; 32]),
                );
            let date = {
                let kms = Kms::open(config.clone()).unwrap();
                let key = kms.create_key(CreateKeyRequest::default()).unwrap();
                schedule(&kms, &key.key_metadata.key_id.to_string())
            };
            let kms = Kms::open(config).unwrap();
            assert_eq!(kms.inner.timers.earliest(), Some(date));
            clock.set(date);
            kms.list_keys(ListKeysRequest::default()).unwrap();
            assert_eq!(kms.inner.keys.read().len(), 0);
            assert_eq!(kms.inner.timers.earliest(), None);
            drop(kms);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
