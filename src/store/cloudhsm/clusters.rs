//! The cluster table behind its lock, with a generation number that every
//! write advances: [`Clusters`], and the write guard that advances it.
//!
//! The generation is what lets the per-thread cipher cache
//! (`cipher_cache.rs`) answer without the lock: an answer cached at
//! generation `g` is the answer the locked path would give for as long as
//! the generation is still `g`. A write advances it before its guard
//! unlocks, so no reader can see a change while the generation is old.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use crate::ids::ClusterId;
use crate::sync::{
    AtomicU64, Ordering, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
};

use super::Cluster;

type Map = BTreeMap<ClusterId, Cluster>;

/// The clusters of one account and Region, and their generation.
pub(super) struct Clusters {
    map: RwLock<Map>,
    generation: AtomicU64,
}

impl Clusters {
    /// No clusters, generation 0.
    pub(super) fn new() -> Clusters {
        Clusters {
            map: RwLock::new(Map::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// The clusters, read-locked.
    pub(super) fn read(&self) -> RwLockReadGuard<'_, Map> {
        self.map.read()
    }

    /// The clusters, locked for a read that may become a write.
    pub(super) fn upgradable_read(&self) -> Upgradable<'_> {
        Upgradable {
            guard: self.map.upgradable_read(),
            generation: &self.generation,
        }
    }

    /// The clusters, write-locked; the generation advances when the guard
    /// is dropped.
    pub(super) fn write(&self) -> Written<'_> {
        Written {
            guard: self.map.write(),
            generation: &self.generation,
        }
    }

    /// The generation: how many write guards have been dropped. Read under
    /// a read lock it is the generation of what the lock shows.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

/// An upgradable read of [`Clusters`].
pub(super) struct Upgradable<'a> {
    guard: RwLockUpgradableReadGuard<'a, Map>,
    generation: &'a AtomicU64,
}

impl<'a> Upgradable<'a> {
    /// Turns the read into a write (see [`Clusters::write`]).
    pub(super) fn upgrade(self) -> Written<'a> {
        Written {
            guard: RwLockUpgradableReadGuard::upgrade(self.guard),
            generation: self.generation,
        }
    }
}

impl Deref for Upgradable<'_> {
    type Target = Map;
    fn deref(&self) -> &Map {
        &self.guard
    }
}

/// A write of [`Clusters`]: dropping it advances the generation, then
/// unlocks (fields drop after `drop` runs).
pub(super) struct Written<'a> {
    guard: RwLockWriteGuard<'a, Map>,
    generation: &'a AtomicU64,
}

impl Drop for Written<'_> {
    fn drop(&mut self) {
        self.generation.fetch_add(1, Ordering::Release);
    }
}

impl Deref for Written<'_> {
    type Target = Map;
    fn deref(&self) -> &Map {
        &self.guard
    }
}

impl DerefMut for Written<'_> {
    fn deref_mut(&mut self) -> &mut Map {
        &mut self.guard
    }
}
