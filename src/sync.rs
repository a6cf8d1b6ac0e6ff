//! The crate's locks and atomics, from one place: parking_lot's `Mutex` and
//! `RwLock` (with upgradable reads) and the std atomics normally, and thin
//! wrappers over awslabs' `shuttle` checker under the test-only `shuttle`
//! feature, so that `tests/shuttle.rs` can explore the interleavings of the
//! crate's own locking.
//!
//! Code in the crate imports these names (and `thread_local!`) from
//! `crate::sync`, never from `parking_lot` or `std::sync::atomic`
//! (`std::sync::{Arc, OnceLock}` stay std: shuttle does not need them). The
//! shuttle versions offer the same subset of the API the crate uses, with
//! the same blocking semantics. Inside a `shuttle::check_*` run they are
//! shuttle's; outside one they fall back to parking_lot and std, so every
//! other test also passes with the feature on (`--all-features`). The
//! feature is still never for users.

/// Per-thread statics: std's, or under shuttle a pair (shuttle's inside a
/// run, so that each of its threads has its own, as they may share an OS
/// thread; std's elsewhere).
#[cfg(feature = "shuttle")]
pub(crate) use checked::dual_thread_local as thread_local;
#[cfg(not(feature = "shuttle"))]
pub(crate) use parking_lot::{Mutex, RwLock, RwLockUpgradableReadGuard};
#[cfg(not(feature = "shuttle"))]
#[allow(
    unused_imports,
    reason = "the guard types, for code that names them (not all do)"
)]
pub(crate) use parking_lot::{MutexGuard, RwLockReadGuard, RwLockWriteGuard};
#[cfg(not(feature = "shuttle"))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
/// Per-thread statics: std's (see above for the `shuttle` feature's).
#[cfg(not(feature = "shuttle"))]
pub(crate) use std::thread_local;

#[cfg(feature = "shuttle")]
pub(crate) use checked::{
    AtomicBool, AtomicU32, AtomicU64, AtomicUsize, LocalKey, Mutex, Ordering, RwLock,
    RwLockUpgradableReadGuard,
};
#[cfg(feature = "shuttle")]
#[allow(
    unused_imports,
    reason = "the guard types, for code that names them (not all do)"
)]
pub(crate) use checked::{MutexGuard, RwLockReadGuard, RwLockWriteGuard};

/// A read-mostly value replaced whole: readers [`Snapshot::load`] the
/// current one, writers [`Snapshot::store`] a new one (serialized by a lock
/// of their own). Over `arc-swap`: a load writes only a slot of the
/// reading thread's own, so readers on many cores share the value's cache
/// lines without writing any (a read lock would write its lock word; an
/// `Arc` clone, the count). Under shuttle, an `Arc` behind its `RwLock`, so
/// that the exploration sees every load and store.
pub(crate) struct Snapshot<T> {
    #[cfg(not(feature = "shuttle"))]
    current: arc_swap::ArcSwap<T>,
    #[cfg(feature = "shuttle")]
    current: checked::RwLock<std::sync::Arc<T>>,
}

/// A loaded [`Snapshot`]: the value as it was at the load, kept alive
/// while this lives (hold it briefly).
pub(crate) struct SnapshotRef<T> {
    #[cfg(not(feature = "shuttle"))]
    guard: arc_swap::Guard<std::sync::Arc<T>>,
    #[cfg(feature = "shuttle")]
    guard: std::sync::Arc<T>,
}

impl<T> Snapshot<T> {
    /// A snapshot holding `value`.
    pub(crate) fn new(value: T) -> Snapshot<T> {
        Snapshot {
            #[cfg(not(feature = "shuttle"))]
            current: arc_swap::ArcSwap::from_pointee(value),
            #[cfg(feature = "shuttle")]
            current: checked::RwLock::new(std::sync::Arc::new(value)),
        }
    }

    /// The current value.
    #[inline]
    pub(crate) fn load(&self) -> SnapshotRef<T> {
        SnapshotRef {
            #[cfg(not(feature = "shuttle"))]
            guard: self.current.load(),
            #[cfg(feature = "shuttle")]
            guard: std::sync::Arc::clone(&self.current.read()),
        }
    }

    /// Replaces the value; loads from now on see `value`.
    pub(crate) fn store(&self, value: T) {
        #[cfg(not(feature = "shuttle"))]
        self.current.store(std::sync::Arc::new(value));
        #[cfg(feature = "shuttle")]
        {
            *self.current.write() = std::sync::Arc::new(value);
        }
    }
}

impl<T> std::ops::Deref for SnapshotRef<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Snapshot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.load(), f)
    }
}

/// A shared value that can be withdrawn: readers [`Published::load`] it
/// while it is there, without writing its reference count (the same
/// `arc-swap` slots as [`Snapshot`]), and [`Published::withdraw`] takes it
/// away for good. A reader's [`Published`] reference keeps the value alive
/// only as long as the reader holds it, so a withdrawn value is dropped as
/// soon as the readers in flight let go. Under shuttle, an `Option<Arc>`
/// behind its `RwLock`.
pub(crate) struct Published<T> {
    #[cfg(not(feature = "shuttle"))]
    current: arc_swap::ArcSwapOption<T>,
    #[cfg(feature = "shuttle")]
    current: checked::RwLock<Option<std::sync::Arc<T>>>,
}

/// A loaded [`Published`] value, kept alive while this lives (hold it for
/// one call).
pub(crate) struct PublishedRef<T> {
    #[cfg(not(feature = "shuttle"))]
    guard: arc_swap::Guard<Option<std::sync::Arc<T>>>,
    #[cfg(feature = "shuttle")]
    guard: Option<std::sync::Arc<T>>,
}

impl<T> Published<T> {
    /// `value`, published.
    pub(crate) fn new(value: std::sync::Arc<T>) -> Published<T> {
        Published {
            #[cfg(not(feature = "shuttle"))]
            current: arc_swap::ArcSwapOption::new(Some(value)),
            #[cfg(feature = "shuttle")]
            current: checked::RwLock::new(Some(value)),
        }
    }

    /// The value, unless it was withdrawn.
    #[inline]
    pub(crate) fn load(&self) -> Option<PublishedRef<T>> {
        let r = PublishedRef {
            #[cfg(not(feature = "shuttle"))]
            guard: self.current.load(),
            #[cfg(feature = "shuttle")]
            guard: self.current.read().clone(),
        };
        r.guard.is_some().then_some(r)
    }

    /// Withdraws the value: loads from now on find nothing.
    pub(crate) fn withdraw(&self) {
        #[cfg(not(feature = "shuttle"))]
        self.current.store(None);
        #[cfg(feature = "shuttle")]
        {
            *self.current.write() = None;
        }
    }
}

impl<T> PublishedRef<T> {
    #[inline]
    fn inner(&self) -> &Option<std::sync::Arc<T>> {
        &self.guard
    }

    /// A reference that owns `value` (its reference count written once),
    /// for a value that is not published but goes where published ones do.
    pub(crate) fn owned(value: std::sync::Arc<T>) -> PublishedRef<T> {
        PublishedRef {
            #[cfg(not(feature = "shuttle"))]
            guard: arc_swap::Guard::from_inner(Some(value)),
            #[cfg(feature = "shuttle")]
            guard: Some(value),
        }
    }

    /// The value as an owned `Arc` (its reference count written; tests:
    /// to watch its count).
    #[cfg(all(test, not(feature = "shuttle")))]
    pub(crate) fn to_arc(&self) -> std::sync::Arc<T> {
        match self.inner() {
            Some(v) => std::sync::Arc::clone(v),
            None => unreachable!("a PublishedRef is made only from a published value"),
        }
    }
}

impl<T> std::ops::Deref for PublishedRef<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        match self.inner() {
            Some(v) => v,
            None => unreachable!("a PublishedRef is made only from a published value"),
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Published<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.load() {
            Some(v) => f.debug_tuple("Published").field(&*v).finish(),
            None => f.write_str("Withdrawn"),
        }
    }
}

/// parking_lot's API, modelled by `shuttle` inside a schedule exploration.
///
/// Each primitive works in two modes, chosen at every acquisition: inside
/// a `shuttle::check_*` run (a current shuttle task exists) it goes through
/// shuttle's own primitives, so the exploration sees and schedules every
/// acquisition; anywhere else (the unit and integration tests, built with
/// `--all-features`) it is plain parking_lot or std. A lock's data always
/// lives in the real lock; inside a run the shuttle lock is taken first and
/// released last, so the real one is never contended there and never
/// blocks the one OS thread shuttle's tasks share.
///
/// The upgradable read is built from a gate mutex plus the shuttle rwlock:
///
/// - `read` takes the rwlock's read side only;
/// - `upgradable_read` takes the gate, then the read side;
/// - `write` takes the gate, then the write side;
/// - `upgrade` keeps the gate, releases the read side and takes the write
///   side.
///
/// This keeps parking_lot's guarantees: an upgradable reader excludes
/// writers and other upgradable readers (they wait for the gate) but not
/// plain readers; and between its release of the read side and its taking
/// of the write side in `upgrade`, no writer can run (the gate is still
/// held), only plain readers, which see exactly what the upgradable reader
/// saw — so what it checked still holds when it writes, as with
/// parking_lot's atomic upgrade. Both acquisitions go gate first, so the
/// gate adds no lock-order cycle. The one difference: parking_lot's fair
/// policy makes a new reader wait behind a parked writer, and shuttle's
/// does not, so a deadlock that needs that policy is not found here
/// (shuttle still reports a thread taking a read lock it already holds).
///
/// Poisoning is dropped (parking_lot has none; a panic ends the shuttle run
/// anyway).
///
/// An atomic holds a shuttle atomic and a std one, and uses the one of the
/// mode it is called in (a value never crosses from one mode to the other:
/// a shuttle run builds what it uses and drops it before it ends).
#[cfg(feature = "shuttle")]
mod checked {
    use std::fmt;
    use std::ops::{Deref, DerefMut};
    use std::sync::PoisonError;

    use shuttle::sync as s;

    pub(crate) use std::sync::atomic::Ordering;

    /// Whether the caller runs as a task of a shuttle exploration.
    #[inline]
    fn in_run() -> bool {
        shuttle::current::try_get_current_task().is_some()
    }

    /// Shuttle's guard when taken inside a run, else nothing.
    fn scheduled<G>(take: impl FnOnce() -> G) -> Option<G> {
        in_run().then(take)
    }

    /// A mutex; `lock` returns the guard itself, as parking_lot's does.
    #[derive(Default)]
    pub(crate) struct Mutex<T> {
        sched: s::Mutex<()>,
        data: parking_lot::Mutex<T>,
    }

    /// A held [`Mutex`]: the data, then (dropped last) shuttle's lock.
    pub(crate) struct MutexGuard<'a, T> {
        data: parking_lot::MutexGuard<'a, T>,
        _sched: Option<s::MutexGuard<'a, ()>>,
    }

    impl<T> Mutex<T> {
        /// An unlocked mutex holding `value`.
        #[track_caller]
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex {
                sched: s::Mutex::new(()),
                data: parking_lot::Mutex::new(value),
            }
        }

        /// Blocks until the mutex is this thread's.
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            let sched = scheduled(|| self.sched.lock().unwrap_or_else(PoisonError::into_inner));
            MutexGuard {
                data: self.data.lock(),
                _sched: sched,
            }
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.data
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            &mut self.data
        }
    }

    impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(&self.data, f)
        }
    }

    /// A reader-writer lock with upgradable reads (see the module docs).
    pub(crate) struct RwLock<T> {
        /// Held by upgradable readers and writers (inside a run).
        gate: s::Mutex<()>,
        /// Shuttle's view of the read and write sides (inside a run).
        sched: s::RwLock<()>,
        data: parking_lot::RwLock<T>,
    }

    impl<T> RwLock<T> {
        /// An unlocked lock holding `value`.
        #[track_caller]
        pub(crate) fn new(value: T) -> RwLock<T> {
            RwLock {
                gate: s::Mutex::new(()),
                sched: s::RwLock::new(()),
                data: parking_lot::RwLock::new(value),
            }
        }

        /// Shared access, alongside other readers and one upgradable reader.
        pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
            let sched = scheduled(|| self.sched.read().unwrap_or_else(PoisonError::into_inner));
            RwLockReadGuard {
                data: self.data.read(),
                _sched: sched,
            }
        }

        /// Exclusive access.
        pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
            let sched = scheduled(|| {
                let gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
                let side = self.sched.write().unwrap_or_else(PoisonError::into_inner);
                (side, gate)
            });
            RwLockWriteGuard {
                data: self.data.write(),
                _sched: sched,
            }
        }

        /// Shared access that excludes writers and other upgradable readers,
        /// and can become exclusive with [`RwLockUpgradableReadGuard::upgrade`].
        pub(crate) fn upgradable_read(&self) -> RwLockUpgradableReadGuard<'_, T> {
            let sched = scheduled(|| {
                let gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
                let side = self.sched.read().unwrap_or_else(PoisonError::into_inner);
                (side, gate)
            });
            RwLockUpgradableReadGuard {
                lock: self,
                data: self.data.upgradable_read(),
                sched,
            }
        }
    }

    impl<T: Default> Default for RwLock<T> {
        fn default() -> Self {
            RwLock::new(T::default())
        }
    }

    impl<T: fmt::Debug> fmt::Debug for RwLock<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(&self.data, f)
        }
    }

    /// Shared access: the data, then (dropped last) shuttle's read side.
    pub(crate) struct RwLockReadGuard<'a, T> {
        data: parking_lot::RwLockReadGuard<'a, T>,
        _sched: Option<s::RwLockReadGuard<'a, ()>>,
    }

    impl<T> Deref for RwLockReadGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.data
        }
    }

    /// Exclusive access; releases the data, shuttle's write side, then the
    /// gate.
    pub(crate) struct RwLockWriteGuard<'a, T> {
        data: parking_lot::RwLockWriteGuard<'a, T>,
        _sched: Option<(s::RwLockWriteGuard<'a, ()>, s::MutexGuard<'a, ()>)>,
    }

    impl<T> Deref for RwLockWriteGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.data
        }
    }

    impl<T> DerefMut for RwLockWriteGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            &mut self.data
        }
    }

    /// Upgradable shared access: the data, then shuttle's read side and
    /// the gate.
    pub(crate) struct RwLockUpgradableReadGuard<'a, T> {
        lock: &'a RwLock<T>,
        data: parking_lot::RwLockUpgradableReadGuard<'a, T>,
        sched: Option<(s::RwLockReadGuard<'a, ()>, s::MutexGuard<'a, ()>)>,
    }

    impl<'a, T> RwLockUpgradableReadGuard<'a, T> {
        /// Exclusive access, with no writer in between: the gate stays
        /// held while the read side is swapped for the write side. Inside a
        /// run, shuttle's write side is taken first: once it is held, no
        /// plain reader holds the data, so the real upgrade never waits.
        pub(crate) fn upgrade(guard: Self) -> RwLockWriteGuard<'a, T> {
            let RwLockUpgradableReadGuard { lock, data, sched } = guard;
            let sched = sched.map(|(side, gate)| {
                drop(side);
                let side = lock.sched.write().unwrap_or_else(PoisonError::into_inner);
                (side, gate)
            });
            RwLockWriteGuard {
                data: parking_lot::RwLockUpgradableReadGuard::upgrade(data),
                _sched: sched,
            }
        }
    }

    impl<T> Deref for RwLockUpgradableReadGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.data
        }
    }

    /// The atomics the crate uses, in both modes (see the module docs).
    macro_rules! dual_atomic {
        ($($name:ident: $t:ty),*) => {$(
            #[doc = concat!("`", stringify!($name), "` in both modes.")]
            #[derive(Default)]
            pub(crate) struct $name {
                sched: s::atomic::$name,
                plain: std::sync::atomic::$name,
            }

            #[allow(dead_code, reason = "the subset the crate uses varies by type")]
            impl $name {
                /// A new atomic holding `v`.
                pub(crate) const fn new(v: $t) -> $name {
                    $name {
                        sched: s::atomic::$name::new(v),
                        plain: std::sync::atomic::$name::new(v),
                    }
                }

                /// Loads the value.
                pub(crate) fn load(&self, order: Ordering) -> $t {
                    if in_run() { self.sched.load(order) } else { self.plain.load(order) }
                }

                /// Stores `v`.
                pub(crate) fn store(&self, v: $t, order: Ordering) {
                    if in_run() { self.sched.store(v, order) } else { self.plain.store(v, order) }
                }

                /// Applies `f` until it stores (or `f` declines).
                pub(crate) fn fetch_update(
                    &self,
                    set: Ordering,
                    fetch: Ordering,
                    f: impl FnMut($t) -> Option<$t>,
                ) -> Result<$t, $t> {
                    if in_run() {
                        self.sched.fetch_update(set, fetch, f)
                    } else {
                        self.plain.fetch_update(set, fetch, f)
                    }
                }
            }

            impl fmt::Debug for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    fmt::Debug::fmt(&self.load(Ordering::SeqCst), f)
                }
            }
        )*};
    }

    dual_atomic!(AtomicBool: bool, AtomicU32: u32, AtomicU64: u64, AtomicUsize: usize);

    /// The integer atomics' `fetch_add`.
    macro_rules! dual_fetch_add {
        ($($name:ident: $t:ty),*) => {$(
            impl $name {
                /// Adds `v`, returning the previous value.
                #[allow(dead_code, reason = "the subset the crate uses varies by type")]
                pub(crate) fn fetch_add(&self, v: $t, order: Ordering) -> $t {
                    if in_run() { self.sched.fetch_add(v, order) } else { self.plain.fetch_add(v, order) }
                }
            }
        )*};
    }

    dual_fetch_add!(AtomicU32: u32, AtomicU64: u64, AtomicUsize: usize);

    /// A per-thread value in both modes: per shuttle task inside a run (the
    /// tasks share an OS thread), per OS thread elsewhere. Declared with
    /// [`crate::sync::thread_local!`].
    pub(crate) struct LocalKey<T: 'static> {
        plain: &'static std::thread::LocalKey<T>,
        sched: &'static shuttle::thread::LocalKey<T>,
    }

    /// A per-thread value that was already destroyed.
    #[derive(Debug)]
    pub(crate) struct AccessError;

    impl<T: 'static> LocalKey<T> {
        /// The pair of keys `thread_local!` declares.
        pub(crate) const fn new(
            plain: &'static std::thread::LocalKey<T>,
            sched: &'static shuttle::thread::LocalKey<T>,
        ) -> LocalKey<T> {
            LocalKey { plain, sched }
        }

        /// Lends the value, unless it was destroyed.
        pub(crate) fn try_with<R>(
            &'static self,
            f: impl FnOnce(&T) -> R,
        ) -> Result<R, AccessError> {
            if in_run() {
                self.sched.try_with(f).map_err(|_| AccessError)
            } else {
                self.plain.try_with(f).map_err(|_| AccessError)
            }
        }
    }

    /// `thread_local!` for [`LocalKey`]: a std and a shuttle per-thread
    /// value behind one name.
    macro_rules! dual_thread_local {
        ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr };) => {
            $crate::sync::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
        };
        ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr;) => {
            $(#[$attr])* $vis static $name: $crate::sync::LocalKey<$t> = {
                ::std::thread_local!(static PLAIN: $t = $init);
                ::shuttle::thread_local!(static SCHED: $t = $init);
                $crate::sync::LocalKey::new(&PLAIN, &SCHED)
            };
        };
    }
    pub(crate) use dual_thread_local;
}

#[cfg(all(test, feature = "shuttle"))]
mod shuttle_mode_tests {
    //! The `shuttle` feature's primitives: scheduled by shuttle inside a
    //! run (else these explorations would find nothing), plain outside.

    use super::{AtomicU64, Mutex, Ordering, RwLock};
    use std::sync::Arc;

    /// Runs `body` over 200 random schedules; the panic's message, if one
    /// schedule failed.
    fn explore_for_failure(body: impl Fn() + Send + Sync + 'static) -> Option<String> {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            shuttle::check_random(body, 200);
        }));
        outcome.err().map(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default()
        })
    }

    #[test]
    fn inside_a_run_atomics_are_schedule_points() {
        let failure = explore_for_failure(|| {
            let n = Arc::new(AtomicU64::new(0));
            let racer = {
                let n = Arc::clone(&n);
                shuttle::thread::spawn(move || {
                    let v = n.load(Ordering::SeqCst);
                    n.store(v + 1, Ordering::SeqCst);
                })
            };
            let v = n.load(Ordering::SeqCst);
            n.store(v + 1, Ordering::SeqCst);
            racer.join().unwrap();
            assert_eq!(n.load(Ordering::SeqCst), 2, "a lost update");
        });
        assert!(failure.unwrap().contains("a lost update"));
    }

    #[test]
    fn inside_a_run_a_mutex_order_inversion_is_a_found_deadlock() {
        let failure = explore_for_failure(|| {
            let locks = Arc::new((Mutex::new(()), Mutex::new(())));
            let other = {
                let locks = Arc::clone(&locks);
                shuttle::thread::spawn(move || {
                    let _b = locks.1.lock();
                    let _a = locks.0.lock();
                })
            };
            {
                let _a = locks.0.lock();
                let _b = locks.1.lock();
            }
            other.join().unwrap();
        });
        assert!(failure.unwrap().contains("deadlock"));
    }

    /// The upgrade waits for plain readers: one that holds the read side
    /// while it waits for a lock the upgrader holds is a deadlock.
    #[test]
    fn inside_a_run_an_upgrade_waiting_on_a_reader_is_a_found_deadlock() {
        let failure = explore_for_failure(|| {
            let locks = Arc::new((RwLock::new(0u8), RwLock::new(0u8)));
            let other = {
                let locks = Arc::clone(&locks);
                shuttle::thread::spawn(move || {
                    let _r0 = locks.0.read();
                    let _w1 = locks.1.write();
                })
            };
            {
                let up0 = locks.0.upgradable_read();
                let _r1 = locks.1.read();
                let _w0 = super::RwLockUpgradableReadGuard::upgrade(up0);
            }
            other.join().unwrap();
        });
        assert!(failure.unwrap().contains("deadlock"));
    }

    #[test]
    fn outside_a_run_the_primitives_are_plain() {
        let n = AtomicU64::new(1);
        n.fetch_add(2, Ordering::SeqCst);
        let m = Mutex::new(n.load(Ordering::SeqCst));
        let rw = RwLock::new(*m.lock());
        let up = rw.upgradable_read();
        let mut w = super::RwLockUpgradableReadGuard::upgrade(up);
        *w += 1;
        drop(w);
        assert_eq!(*rw.read(), 4);
    }
}
