//! The key table: keys by id for lookup, and by creation order for ListKeys
//! paging.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::ids::KeyId;
use crate::sync::{Ordering, Published};

use super::key::KeyEntry;

/// The id map's hasher: foldhash, seeded per process. Key ids are random
/// UUIDs that callers cannot choose, so SipHash's DoS resistance buys
/// nothing here, and its 16-byte hash was a tenth of an Encrypt's
/// non-AES work.
type IdHasher = foldhash::fast::RandomState;

/// A key's entry as the per-thread key caches hold it (`service/cache.rs`):
/// published while the key is in the table, withdrawn when it leaves, so a
/// cache keeps no entry (and no material) alive past its removal.
pub(crate) type KeyCell = Published<KeyEntry>;

/// One key of the table.
#[derive(Debug)]
struct Row {
    /// Its creation order.
    seq: u64,
    entry: Arc<KeyEntry>,
    cell: Arc<KeyCell>,
}

impl Row {
    /// The entry leaves the table: marked removed, then withdrawn from the
    /// caches.
    fn retire(&self) {
        self.entry.removed.store(true, Ordering::Release);
        self.cell.withdraw();
    }
}

/// Keys by id, plus their creation order.
#[derive(Debug, Default)]
pub(crate) struct KeyTable {
    by_id: HashMap<KeyId, Row, IdHasher>,
    by_seq: BTreeMap<u64, KeyId>,
    next_seq: u64,
}

impl KeyTable {
    pub(crate) fn get(&self, id: &KeyId) -> Option<Arc<KeyEntry>> {
        self.by_id.get(id).map(|r| Arc::clone(&r.entry))
    }

    /// The published entry of key `id`, for a key cache.
    pub(crate) fn cell(&self, id: &KeyId) -> Option<Arc<KeyCell>> {
        self.by_id.get(id).map(|r| Arc::clone(&r.cell))
    }

    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    pub(crate) fn contains(&self, id: &KeyId) -> bool {
        self.by_id.contains_key(id)
    }

    pub(crate) fn insert(&mut self, entry: Arc<KeyEntry>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_seq.insert(seq, entry.id);
        let row = Row {
            seq,
            cell: Arc::new(Published::new(Arc::clone(&entry))),
            entry,
        };
        if let Some(old) = self.by_id.insert(row.entry.id, row) {
            // Replaced (never done today): the old entry has left the table.
            old.retire();
            self.by_seq.remove(&old.seq);
        }
    }

    /// Removes the key `id`: its entry is marked removed and withdrawn
    /// from the key caches (the caller holds the table's write lock).
    pub(crate) fn remove(&mut self, id: &KeyId) -> Option<Arc<KeyEntry>> {
        let row = self.by_id.remove(id)?;
        row.retire();
        self.by_seq.remove(&row.seq);
        Some(row.entry)
    }

    /// Marks every entry removed and withdraws it from the key caches: the
    /// table is about to be replaced.
    #[cfg_attr(not(feature = "durable"), allow(dead_code))]
    pub(crate) fn retire_all(&self) {
        for row in self.by_id.values() {
            row.retire();
        }
    }

    /// Up to `limit` keys in creation order, starting at sequence `from`;
    /// also the sequence number to continue from, if any keys remain.
    pub(crate) fn page(&self, from: u64, limit: usize) -> (Vec<Arc<KeyEntry>>, Option<u64>) {
        let mut out = Vec::with_capacity(limit.min(self.by_seq.len()));
        let mut iter = self.by_seq.range(from..);
        for (_, id) in iter.by_ref().take(limit) {
            if let Some(r) = self.by_id.get(id) {
                out.push(Arc::clone(&r.entry));
            }
        }
        let next = iter.next().map(|(seq, _)| *seq);
        (out, next)
    }

    /// Every key, in creation order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<KeyEntry>> {
        self.by_seq
            .values()
            .filter_map(|id| self.by_id.get(id).map(|r| &r.entry))
    }
}
