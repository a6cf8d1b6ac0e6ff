//! The per-thread key cache: how the cryptographic path finds a key
//! without taking the key table's lock.
//!
//! A read lock writes its lock word, so with every thread reading the one
//! key table, that word's cache line moved between the cores on every
//! call. Instead each thread keeps, for the keys it used last, a `Weak`
//! reference to the entry, tagged with the service's serial number (see
//! [`serial`]). A hit upgrades the `Weak` — which writes only the entry's
//! own reference count, a line no other key shares — and checks the
//! entry's `removed` flag; a miss, or an entry that has left the table,
//! falls back to the table under its read lock and refills the slot.
//!
//! Why it is exact: the flag is set under the table's write lock *before*
//! the entry leaves the table (`KeyTable::remove`), so a hit that reads it
//! clear found a key that was in the table at that moment — what the
//! locked lookup would have found. New keys are never cached before a
//! lookup found them in the table. A `Weak` keeps no material alive: a
//! deleted key's material is wiped when its last user lets go, as before.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use crate::ids::KeyId;
use crate::kms::model::key::KeyEntry;

/// Slots per thread (direct-mapped by the key id's last byte).
const SLOTS: usize = 64;

struct Slot {
    service: u64,
    id: KeyId,
    entry: Weak<KeyEntry>,
}

crate::sync::thread_local! {
    static CACHE: RefCell<Vec<Option<Slot>>> = const { RefCell::new(Vec::new()) };
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

/// The entry of key `id` of service `service`, if this thread has it
/// cached and it is still in the table.
#[inline]
pub(crate) fn get(service: u64, id: &KeyId) -> Option<Arc<KeyEntry>> {
    let entry = CACHE
        .try_with(|c| {
            let c = c.borrow();
            match c.get(slot_of(id)) {
                Some(Some(s)) if s.service == service && s.id == *id => s.entry.upgrade(),
                _ => None,
            }
        })
        .ok()
        .flatten()?;
    // Checked with the cache released: under shuttle this load may switch
    // threads.
    (!entry.is_removed()).then_some(entry)
}

/// Remembers `entry`, just found in service `service`'s table.
pub(crate) fn put(service: u64, entry: &Arc<KeyEntry>) {
    let slot = Slot {
        service,
        id: entry.id,
        entry: Arc::downgrade(entry),
    };
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
