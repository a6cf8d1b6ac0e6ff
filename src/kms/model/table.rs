//! The key table: keys by id for lookup, and by creation order for ListKeys
//! paging.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::ids::KeyId;
use crate::sync::Ordering;

use super::key::KeyEntry;

/// The id map's hasher: foldhash, seeded per process. Key ids are random
/// UUIDs that callers cannot choose, so SipHash's DoS resistance buys
/// nothing here, and its 16-byte hash was a tenth of an Encrypt's
/// non-AES work.
type IdHasher = foldhash::fast::RandomState;

/// Keys by id, plus their creation order.
#[derive(Debug, Default)]
pub(crate) struct KeyTable {
    by_id: HashMap<KeyId, (u64, Arc<KeyEntry>), IdHasher>,
    by_seq: BTreeMap<u64, KeyId>,
    next_seq: u64,
}

impl KeyTable {
    pub(crate) fn get(&self, id: &KeyId) -> Option<Arc<KeyEntry>> {
        self.by_id.get(id).map(|(_, e)| Arc::clone(e))
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
        if let Some((old_seq, old)) = self.by_id.insert(entry.id, (seq, entry)) {
            // Replaced (never done today): the old entry has left the table.
            old.removed.store(true, Ordering::Release);
            self.by_seq.remove(&old_seq);
        }
    }

    /// Removes the key `id`, marking its entry removed first (the caller
    /// holds the table's write lock).
    pub(crate) fn remove(&mut self, id: &KeyId) -> Option<Arc<KeyEntry>> {
        if let Some((_, entry)) = self.by_id.get(id) {
            entry.removed.store(true, Ordering::Release);
        }
        let (seq, entry) = self.by_id.remove(id)?;
        self.by_seq.remove(&seq);
        Some(entry)
    }

    /// Marks every entry removed: the table is about to be replaced.
    #[cfg_attr(not(feature = "durable"), allow(dead_code))]
    pub(crate) fn retire_all(&self) {
        for (_, entry) in self.by_id.values() {
            entry.removed.store(true, Ordering::Release);
        }
    }

    /// Up to `limit` keys in creation order, starting at sequence `from`;
    /// also the sequence number to continue from, if any keys remain.
    pub(crate) fn page(&self, from: u64, limit: usize) -> (Vec<Arc<KeyEntry>>, Option<u64>) {
        let mut out = Vec::with_capacity(limit.min(self.by_seq.len()));
        let mut iter = self.by_seq.range(from..);
        for (_, id) in iter.by_ref().take(limit) {
            if let Some((_, e)) = self.by_id.get(id) {
                out.push(Arc::clone(e));
            }
        }
        let next = iter.next().map(|(seq, _)| *seq);
        (out, next)
    }

    /// Every key, in creation order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<KeyEntry>> {
        self.by_seq
            .values()
            .filter_map(|id| self.by_id.get(id).map(|(_, e)| e))
    }
}
