//! The per-thread key cache: how the cryptographic path finds a key
//! without taking the key table's lock or writing the entry's reference
//! count.
//!
//! A read lock writes its lock word, and an `Arc` clone its count, so with
//! every thread reading the one key table (or the one hot key), those
//! cache lines moved between the cores on every call. Instead each thread
//! keeps, for the keys it used last, the key's *cell* (`KeyTable`'s
//! [`KeyCell`]: the entry, published while the key is in the table),
//! tagged with the service's serial number (see [`serial`]). A hit loads
//! the entry from the cell through `arc-swap`, which writes only a slot of
//! the reading thread's own, and checks the entry's `removed` flag; a miss,
//! or a cell whose key has left the table, falls back to the table under
//! its read lock and refills the slot. The call then holds a [`HeldKey`].
//!
//! Why it is exact: a key leaves the table (`KeyTable::remove`) under the
//! table's write lock, its entry marked removed and its cell withdrawn
//! *before* the table lets go of it, so a hit that finds the entry and
//! reads the flag clear found a key that was in the table at that moment —
//! what the locked lookup would have found. New keys are never cached
//! before a lookup found them in the table. A cell keeps no entry alive
//! after its withdrawal: a deleted key's material is wiped when the calls
//! in flight let go of it, as before.

use std::cell::RefCell;
use std::sync::Arc;

use crate::ids::KeyId;
use crate::kms::model::key::KeyEntry;
use crate::kms::model::table::KeyCell;
use crate::sync::PublishedRef;

/// Slots per thread (direct-mapped by the key id's last byte).
const SLOTS: usize = 64;

struct Slot {
    service: u64,
    id: KeyId,
    cell: Arc<KeyCell>,
}

crate::sync::thread_local! {
    static CACHE: RefCell<Vec<Option<Slot>>> = const { RefCell::new(Vec::new()) };
}

/// A key entry held for one call: loaned from its cell (no reference count
/// written), or an `Arc` of the caller's. One guard either way (an owned
/// `Arc` is a guard that owes nothing), so reaching the entry reads no
/// variant first, and a held key is two words, not three.
pub(crate) struct HeldKey(PublishedRef<KeyEntry>);

impl HeldKey {
    /// The entry, loaned from its cell.
    #[inline]
    pub(crate) fn loaned(entry: PublishedRef<KeyEntry>) -> HeldKey {
        HeldKey(entry)
    }

    /// The entry as an owned `Arc` (tests: to watch its count).
    #[cfg(all(test, not(feature = "shuttle")))]
    pub(crate) fn to_arc(&self) -> Arc<KeyEntry> {
        self.0.to_arc()
    }
}

impl std::ops::Deref for HeldKey {
    type Target = KeyEntry;
    #[inline]
    fn deref(&self) -> &KeyEntry {
        &self.0
    }
}

impl From<Arc<KeyEntry>> for HeldKey {
    fn from(entry: Arc<KeyEntry>) -> HeldKey {
        HeldKey(PublishedRef::owned(entry))
    }
}

impl std::fmt::Debug for HeldKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

/// A serial number for a new service, never reused in the process (a
/// service's address can be; with a fixed seed, its key ids are too).
pub(crate) fn serial() -> u64 {
    // A plain std atomic: a counter of services, not state the schedule
    // exploration needs to see.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn slot_of(id: &KeyId) -> usize {
    usize::from(id.as_bytes()[15]) % SLOTS
}

/// The entry of key `id` of service `service`, if this thread has its
/// cell cached and the key is still in the table.
#[inline(always)]
pub(crate) fn get(service: u64, id: &KeyId) -> Option<HeldKey> {
    // Loaded into its place from inside the closure, rather than handed
    // out of it as an `Option` in a `Result`: that was copied out wider
    // than it was written (a failed store forward on every hit).
    let mut entry = None;
    let _ = CACHE.try_with(|c| {
        if let Some(Some(s)) = c.borrow().get(slot_of(id))
            && s.service == service
            && s.id == *id
        {
            entry = s.cell.load();
        }
    });
    let entry = entry?;
    // Checked with the cache released: under shuttle this load may switch
    // threads.
    (!entry.is_removed()).then_some(HeldKey::loaned(entry))
}

/// Remembers `cell`, just found in service `service`'s table under key `id`.
pub(crate) fn put(service: u64, id: KeyId, cell: Arc<KeyCell>) {
    let slot = Slot { service, id, cell };
    // A thread being torn down caches nothing.
    let _ = CACHE.try_with(|c| {
        let mut c = c.borrow_mut();
        if c.is_empty() {
            c.resize_with(SLOTS, || None);
        }
        if let Some(s) = c.get_mut(slot_of(&slot.id)) {
            *s = Some(slot);
        }
    });
}
