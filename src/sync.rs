//! The crate's locks and atomics, from one place: parking_lot's `Mutex` and
//! `RwLock` (with upgradable reads) and the std atomics normally, and thin
//! wrappers over awslabs' `shuttle` checker under the test-only `shuttle`
//! feature, so that `tests/shuttle.rs` can explore the interleavings of the
//! crate's own locking.
//!
//! Code in the crate imports these names (and `thread_local!`) from
//! `crate::sync`, never from `parking_lot` or `std::sync::atomic` (`std::sync::{Arc, OnceLock}` stay
//! std: shuttle does not need them). The shuttle versions offer the same
//! subset of the API the crate uses, with the same blocking semantics; they
//! work only inside a `shuttle::check_*` run, so the feature is never for
//! users.

#[cfg(not(feature = "shuttle"))]
pub(crate) use parking_lot::{Mutex, RwLock, RwLockUpgradableReadGuard};
#[cfg(not(feature = "shuttle"))]
#[allow(
    unused_imports,
    reason = "the guard types, for code that names them (not all do)"
)]
pub(crate) use parking_lot::{MutexGuard, RwLockReadGuard, RwLockWriteGuard};
#[cfg(feature = "shuttle")]
pub(crate) use shuttle::thread_local;
#[cfg(not(feature = "shuttle"))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
/// Per-thread statics: std's, or under shuttle its own, so that each of
/// its threads has its own (its threads may share an OS thread).
#[cfg(not(feature = "shuttle"))]
pub(crate) use std::thread_local;

#[cfg(feature = "shuttle")]
pub(crate) use checked::{
    AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Mutex, Ordering, RwLock,
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

/// parking_lot's API over `shuttle::sync`.
///
/// Shuttle's locks are std's (`LockResult`, poisoning, no upgradable read).
/// Poisoning is dropped (parking_lot has none; a panic ends the shuttle run
/// anyway), and the upgradable read is built from a gate mutex plus the
/// rwlock:
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
#[cfg(feature = "shuttle")]
mod checked {
    use std::fmt;
    use std::ops::{Deref, DerefMut};
    use std::sync::PoisonError;

    use shuttle::sync as s;

    pub(crate) use s::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
    pub(crate) use s::{MutexGuard, RwLockReadGuard};

    /// A mutex; `lock` returns the guard itself, as parking_lot's does.
    #[derive(Default)]
    pub(crate) struct Mutex<T>(s::Mutex<T>);

    impl<T> Mutex<T> {
        /// An unlocked mutex holding `value`.
        #[track_caller]
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(s::Mutex::new(value))
        }

        /// Blocks until the mutex is this thread's.
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(&self.0, f)
        }
    }

    /// A reader-writer lock with upgradable reads (see the module docs).
    pub(crate) struct RwLock<T> {
        /// Held by upgradable readers and writers.
        gate: s::Mutex<()>,
        data: s::RwLock<T>,
    }

    impl<T> RwLock<T> {
        /// An unlocked lock holding `value`.
        #[track_caller]
        pub(crate) fn new(value: T) -> RwLock<T> {
            RwLock {
                gate: s::Mutex::new(()),
                data: s::RwLock::new(value),
            }
        }

        /// Shared access, alongside other readers and one upgradable reader.
        pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
            self.data.read().unwrap_or_else(PoisonError::into_inner)
        }

        /// Exclusive access.
        pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
            let gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
            let data = self.data.write().unwrap_or_else(PoisonError::into_inner);
            RwLockWriteGuard { data, _gate: gate }
        }

        /// Shared access that excludes writers and other upgradable readers,
        /// and can become exclusive with [`RwLockUpgradableReadGuard::upgrade`].
        pub(crate) fn upgradable_read(&self) -> RwLockUpgradableReadGuard<'_, T> {
            let gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
            let data = self.data.read().unwrap_or_else(PoisonError::into_inner);
            RwLockUpgradableReadGuard {
                lock: self,
                data,
                gate,
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

    /// Exclusive access; releases the rwlock, then the gate.
    pub(crate) struct RwLockWriteGuard<'a, T> {
        data: s::RwLockWriteGuard<'a, T>,
        _gate: MutexGuard<'a, ()>,
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

    /// Upgradable shared access: the gate plus the read side.
    pub(crate) struct RwLockUpgradableReadGuard<'a, T> {
        lock: &'a RwLock<T>,
        data: RwLockReadGuard<'a, T>,
        gate: MutexGuard<'a, ()>,
    }

    impl<'a, T> RwLockUpgradableReadGuard<'a, T> {
        /// Exclusive access, with no writer in between: the gate stays
        /// held while the read side is swapped for the write side.
        pub(crate) fn upgrade(guard: Self) -> RwLockWriteGuard<'a, T> {
            let RwLockUpgradableReadGuard { lock, data, gate } = guard;
            drop(data);
            let data = lock.data.write().unwrap_or_else(PoisonError::into_inner);
            RwLockWriteGuard { data, _gate: gate }
        }
    }

    impl<T> Deref for RwLockUpgradableReadGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.data
        }
    }
}
