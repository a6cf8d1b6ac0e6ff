//! The alias table: aliases by name ([`AliasTable`]), each pointing to one
//! key ([`AliasEntry`]). Plain data: the service takes its lock, and the
//! alias operations (`ops/aliases.rs`) make the checks.

use std::collections::{BTreeMap, BTreeSet};

use crate::clock::Timestamp;
use crate::ids::{AliasName, KeyId};

/// One alias.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AliasEntry {
    pub(crate) target: KeyId,
    pub(crate) creation_date: Timestamp,
    pub(crate) last_updated_date: Timestamp,
}

/// Aliases by name (names are case-sensitive and unique in the account and
/// Region).
#[derive(Debug, Default)]
pub(crate) struct AliasTable {
    by_name: BTreeMap<AliasName, AliasEntry>,
}

impl AliasTable {
    /// The key `name` points to.
    pub(crate) fn target(&self, name: &AliasName) -> Option<KeyId> {
        self.by_name.get(name).map(|a| a.target)
    }

    /// The alias `name`.
    pub(crate) fn get(&self, name: &AliasName) -> Option<&AliasEntry> {
        self.by_name.get(name)
    }

    /// Whether alias `name` exists.
    pub(crate) fn contains(&self, name: &AliasName) -> bool {
        self.by_name.contains_key(name)
    }

    /// Adds alias `name`, or replaces it.
    pub(crate) fn insert(&mut self, name: AliasName, alias: AliasEntry) {
        self.by_name.insert(name, alias);
    }

    /// Removes alias `name`.
    pub(crate) fn remove(&mut self, name: &AliasName) {
        self.by_name.remove(name);
    }

    /// The aliases in name order, from `from` (inclusive) or the first.
    pub(crate) fn from(
        &self,
        from: Option<&AliasName>,
    ) -> impl Iterator<Item = (&AliasName, &AliasEntry)> {
        match from {
            Some(name) => self.by_name.range(name.clone()..),
            None => self.by_name.range::<AliasName, _>(..),
        }
    }

    /// How many aliases point to `key`.
    pub(crate) fn count_for(&self, key: &KeyId) -> usize {
        self.by_name.values().filter(|a| a.target == *key).count()
    }

    /// Puts back an alias read from durable storage.
    #[cfg(feature = "durable")]
    pub(crate) fn restore(&mut self, name: AliasName, alias: AliasEntry) {
        self.by_name.insert(name, alias);
    }

    /// The aliases that point to one of `keys`.
    pub(crate) fn names_targeting<'a>(
        &'a self,
        keys: &'a BTreeSet<KeyId>,
    ) -> impl Iterator<Item = &'a AliasName> + 'a {
        self.by_name
            .iter()
            .filter(|(_, a)| keys.contains(&a.target))
            .map(|(name, _)| name)
    }

    /// Removes every alias that points to one of `keys`.
    pub(crate) fn remove_targets(&mut self, keys: &BTreeSet<KeyId>) {
        if !keys.is_empty() {
            self.by_name.retain(|_, a| !keys.contains(&a.target));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_targets_drops_only_their_aliases() {
        let a = KeyId::from_bytes([1; 16]);
        let b = KeyId::from_bytes([2; 16]);
        let mut t = AliasTable::default();
        let e = |target| AliasEntry {
            target,
            creation_date: Timestamp::from_millis(0),
            last_updated_date: Timestamp::from_millis(0),
        };
        t.insert("alias/a1".parse().unwrap(), e(a));
        t.insert("alias/a2".parse().unwrap(), e(a));
        t.insert("alias/b1".parse().unwrap(), e(b));
        t.remove_targets(&BTreeSet::from([a]));
        assert_eq!(t.count_for(&a), 0);
        assert_eq!(t.count_for(&b), 1);
    }
}
