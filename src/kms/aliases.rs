//! Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases, and the
//! alias table that `KeyId` parameters resolve through.
//!
//! An alias points to one key; a key can have several (at most
//! [`Quotas::aliases_per_key`](super::Quotas::aliases_per_key), 50 by
//! default). Aliases are not a property of the key: they do not appear in
//! DescribeKey, and they go when their key is deleted at the end of its
//! deletion window.
//!
//! Locks: `keys` (read) → `aliases` → the key's `state` (read). The key-state
//! check needs the key store's connection state, which is read before any of
//! these locks is taken.

use std::collections::{BTreeMap, BTreeSet};

use crate::sync::RwLockUpgradableReadGuard;

use crate::clock::Timestamp;
use crate::error::{Error, Result, kms_err};
use crate::ids::{AliasName, KeyId};
use crate::key::state::{self, KeyOperation};

use super::{
    AliasListEntry, CreateAliasRequest, Inner, KeyEntry, Kms, ListAliasesRequest,
    ListAliasesResponse, UpdateAliasRequest,
};

/// ListAliases: the default and the largest page.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;

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

    /// How many aliases point to `key`.
    fn count_for(&self, key: &KeyId) -> usize {
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

/// Reads an `AliasName` parameter: `ValidationException` for the model's
/// length and pattern, `InvalidAliasNameException` for a name that does not
/// begin with `alias/` or has characters the name part may not have.
fn parse_alias_name(s: &str) -> Result<AliasName> {
    s.parse()
}

/// `alias/aws/…` belongs to AWS managed keys: the caller may not create,
/// repoint or delete such an alias.
fn check_not_reserved(name: &AliasName, operation: &str) -> Result<()> {
    if name.is_reserved() {
        return Err(kms_err!(
            NotAuthorized,
            "The caller is not authorized to perform {operation} on '{name}': the alias/aws/ prefix is reserved for AWS managed keys. Choose a name that does not begin with alias/aws/."
        ));
    }
    Ok(())
}

fn alias_not_found(inner: &Inner, name: &AliasName) -> Error {
    kms_err!(
        NotFound,
        "Alias '{}' is not found.",
        name.arn(&inner.region, &inner.account_id)
    )
}

fn key_gone(entry: &KeyEntry) -> Error {
    kms_err!(NotFound, "Key '{}' does not exist.", entry.arn)
}

/// Alias markers carry the name to continue from, base64-encoded.
fn encode_alias_marker(name: &AliasName) -> String {
    crate::base64_blob::encode(name.as_str().as_bytes())
}

fn decode_alias_marker(marker: &str) -> Result<AliasName> {
    if marker.is_empty() || marker.chars().count() > 1024 {
        return Err(Error::validation(
            "marker",
            "Member must have length between 1 and 1024",
        ));
    }
    let bad = || {
        kms_err!(
            InvalidMarker,
            "Marker '{marker}' is not one this service returned. Pass the NextMarker of the previous ListAliases response."
        )
    };
    let bytes = crate::base64_blob::decode(marker).map_err(|_| bad())?;
    let s = String::from_utf8(bytes).map_err(|_| bad())?;
    s.parse().map_err(|_| bad())
}

impl Inner {
    /// The key an alias points to. `given` is the parameter as the caller
    /// wrote it, for the error message.
    pub(crate) fn alias_target(&self, alias: &AliasName, given: &str) -> Result<KeyId> {
        self.aliases
            .read()
            .target(alias)
            .ok_or_else(|| kms_err!(NotFound, "Alias '{given}' is not found."))
    }

    /// Whether `entry`'s key store (if any) is connected, read before the
    /// alias locks are taken.
    fn connected(&self, entry: &KeyEntry) -> bool {
        match entry.backing.store() {
            None => true,
            Some(store) => self.store_connected(store),
        }
    }

    /// Checks `op` against the key-state table, given the store connection
    /// state read earlier. Takes the key's state read lock.
    fn check_with(&self, entry: &KeyEntry, connected: bool, op: KeyOperation) -> Result<()> {
        let lifecycle = entry.state.read().lifecycle;
        state::check(op, lifecycle.key_state(connected), &entry.arn)
    }
}

impl Kms {
    /// CreateAlias: a new alias for a key, given by key id or key ARN.
    ///
    /// The name is `alias/` followed by 1–250 characters of `[a-zA-Z0-9/_-]`
    /// (`ValidationException` or `InvalidAliasNameException` otherwise);
    /// names beginning with `alias/aws/` are reserved for AWS managed keys
    /// (`NotAuthorizedException`). The name must be new in the account and
    /// Region (`AlreadyExistsException`); the key must exist
    /// (`NotFoundException`) and not be pending deletion
    /// (`KMSInvalidStateException`; a disabled or unavailable key is fine),
    /// and may have at most 50 aliases (`LimitExceededException`).
    ///
    /// ```
    /// use kms_keystore::{Kms, KmsConfig};
    /// use kms_keystore::{CreateAliasRequest, CreateKeyRequest};
    /// let kms = Kms::new(KmsConfig::default());
    /// let key = kms.create_key(CreateKeyRequest::default()).unwrap().key_metadata;
    /// kms.create_alias(CreateAliasRequest::new("alias/app", key.key_id.to_string())).unwrap();
    /// assert_eq!(kms.describe_key("alias/app").unwrap().key_metadata.key_id, key.key_id);
    /// ```
    pub fn create_alias(&self, req: CreateAliasRequest) -> Result<()> {
        let cx = self.inner.begin();
        let inner = &*self.inner;
        let name = parse_alias_name(&req.alias_name)?;
        check_not_reserved(&name, "kms:CreateAlias")?;
        // Aliases of keys whose deletion date has passed went when the
        // call began.
        let entry = inner.resolve(&cx, &req.target_key_id, false)?;
        let connected = inner.connected(&entry);
        // Upgradable locks: writers wait, readers (alias resolution on the
        // cryptographic path) carry on while the alias is committed.
        let keys = inner.keys.upgradable_read();
        if !keys.contains(&entry.id) {
            return Err(key_gone(&entry));
        }
        let aliases = inner.aliases.upgradable_read();
        if aliases.by_name.contains_key(&name) {
            return Err(kms_err!(
                AlreadyExists,
                "An alias with the name {} already exists. Choose another name, or use UpdateAlias to point it at another key.",
                name.arn(&inner.region, &inner.account_id)
            ));
        }
        inner.check_with(&entry, connected, KeyOperation::CreateAlias)?;
        let quota = inner.quotas.aliases_per_key;
        if aliases.count_for(&entry.id) >= quota {
            return Err(kms_err!(
                LimitExceeded,
                "Key {} already has {quota} aliases, the most allowed. Delete an alias or raise the quota.",
                entry.arn
            ));
        }
        let now = cx.now;
        let alias = AliasEntry {
            target: entry.id,
            creation_date: now,
            last_updated_date: now,
        };
        inner.persist_alias(&name, Some(&alias))?;
        RwLockUpgradableReadGuard::upgrade(aliases)
            .by_name
            .insert(name, alias);
        drop(keys);
        Ok(())
    }

    /// UpdateAlias: points an existing alias at another key (key id or key
    /// ARN).
    ///
    /// The alias must exist (`NotFoundException`; `alias/aws/…` is
    /// `NotAuthorizedException`). The key it points to now may be in any
    /// state; the new key must exist and not be pending deletion
    /// (`KMSInvalidStateException`), and may have at most 50 aliases
    /// (`LimitExceededException`). The alias keeps its `CreationDate`; its
    /// `LastUpdatedDate` moves on. (Both keys must have the same key spec and
    /// usage; every key here is a symmetric `ENCRYPT_DECRYPT` key, so they do.)
    pub fn update_alias(&self, req: UpdateAliasRequest) -> Result<()> {
        let cx = self.inner.begin();
        let inner = &*self.inner;
        let name = parse_alias_name(&req.alias_name)?;
        check_not_reserved(&name, "kms:UpdateAlias")?;
        let new = inner.resolve(&cx, &req.target_key_id, false)?;
        let new_connected = inner.connected(&new);
        let keys = inner.keys.upgradable_read();
        if !keys.contains(&new.id) {
            return Err(key_gone(&new));
        }
        let aliases = inner.aliases.upgradable_read();
        let current = aliases
            .by_name
            .get(&name)
            .ok_or_else(|| alias_not_found(inner, &name))?
            .target;
        if let Some(old) = keys.get(&current) {
            // Every state allows it; the row is checked all the same. The
            // store's connection state does not change the outcome.
            inner.check_with(&old, true, KeyOperation::UpdateAliasFrom)?;
        }
        inner.check_with(&new, new_connected, KeyOperation::UpdateAliasTo)?;
        let quota = inner.quotas.aliases_per_key;
        if current != new.id && aliases.count_for(&new.id) >= quota {
            return Err(kms_err!(
                LimitExceeded,
                "Key {} already has {quota} aliases, the most allowed. Delete an alias or raise the quota.",
                new.arn
            ));
        }
        let now = cx.now;
        let Some(mut alias) = aliases.by_name.get(&name).cloned() else {
            return Err(alias_not_found(inner, &name));
        };
        alias.target = new.id;
        alias.last_updated_date = now;
        inner.persist_alias(&name, Some(&alias))?;
        RwLockUpgradableReadGuard::upgrade(aliases)
            .by_name
            .insert(name, alias);
        drop(keys);
        Ok(())
    }

    /// DeleteAlias: removes an alias; the key is not affected. Works whatever
    /// the key's state. An unknown alias is `NotFoundException`;
    /// `alias/aws/…` is `NotAuthorizedException`.
    pub fn delete_alias(&self, alias_name: &str) -> Result<()> {
        let _cx = self.inner.begin();
        let inner = &*self.inner;
        let name = parse_alias_name(alias_name)?;
        check_not_reserved(&name, "kms:DeleteAlias")?;
        let keys = inner.keys.upgradable_read();
        let aliases = inner.aliases.upgradable_read();
        let target = aliases
            .target(&name)
            .ok_or_else(|| alias_not_found(inner, &name))?;
        if let Some(entry) = keys.get(&target) {
            inner.check_with(&entry, true, KeyOperation::DeleteAlias)?;
        }
        inner.persist_alias(&name, None)?;
        RwLockUpgradableReadGuard::upgrade(aliases)
            .by_name
            .remove(&name);
        drop(keys);
        Ok(())
    }

    /// ListAliases: every alias in the account and Region, or only those of
    /// one key (`KeyId`: key id or key ARN), in name order, `Limit` (1–100,
    /// default 50) at a time; `NextMarker` continues. A marker this service
    /// did not return is `InvalidMarkerException`.
    pub fn list_aliases(&self, req: ListAliasesRequest) -> Result<ListAliasesResponse> {
        let cx = self.inner.begin();
        let inner = &*self.inner;
        let limit = super::keys::check_limit(req.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        let from = req.marker.as_deref().map(decode_alias_marker).transpose()?;
        let only = match &req.key_id {
            None => None,
            Some(k) => {
                let entry = inner.resolve(&cx, k, false)?;
                inner.check_key(&entry, KeyOperation::ListAliases)?;
                Some(entry.id)
            }
        };
        let aliases = inner.aliases.read();
        let range = match &from {
            Some(name) => aliases.by_name.range(name.clone()..),
            None => aliases.by_name.range::<AliasName, _>(..),
        };
        let mut matching = range.filter(|(_, a)| only.is_none_or(|k| a.target == k));
        let page: Vec<AliasListEntry> = matching
            .by_ref()
            .take(limit as usize)
            .map(|(name, a)| AliasListEntry {
                alias_name: name.clone(),
                alias_arn: name.arn(&inner.region, &inner.account_id),
                target_key_id: a.target,
                creation_date: a.creation_date,
                last_updated_date: a.last_updated_date,
            })
            .collect();
        let next = matching.next().map(|(name, _)| encode_alias_marker(name));
        Ok(ListAliasesResponse {
            aliases: page,
            truncated: next.is_some(),
            next_marker: next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_markers_round_trip_and_reject_foreign_values() {
        let name: AliasName = "alias/a/b_c-d".parse().unwrap();
        assert_eq!(
            decode_alias_marker(&encode_alias_marker(&name)).unwrap(),
            name
        );
        for bad in ["not base64!", "AAAAAAAAAAA=", "YXBw"] {
            assert_eq!(
                decode_alias_marker(bad).unwrap_err().code(),
                "InvalidMarkerException",
                "{bad}"
            );
        }
        assert_eq!(
            decode_alias_marker("").unwrap_err().code(),
            "ValidationException"
        );
    }

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
        t.by_name.insert("alias/a1".parse().unwrap(), e(a));
        t.by_name.insert("alias/a2".parse().unwrap(), e(a));
        t.by_name.insert("alias/b1".parse().unwrap(), e(b));
        t.remove_targets(&BTreeSet::from([a]));
        assert_eq!(t.count_for(&a), 0);
        assert_eq!(t.count_for(&b), 1);
    }
}
