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

use crate::error::{AwsMessage, Error, Result, kms_err};
use crate::ids::AliasName;
use crate::key::state::KeyOperation;

use crate::kms::Kms;
use crate::kms::model::aliases::AliasEntry;
use crate::kms::model::key::KeyEntry;
use crate::kms::service::Service;
use crate::kms::shapes::manage::{
    AliasListEntry, CreateAliasRequest, ListAliasesRequest, ListAliasesResponse, UpdateAliasRequest,
};
use crate::kms::support::access::{Action, Facts};
use crate::kms::support::managed::PREDEFINED;
use crate::kms::support::paging::{check_limit, decode_alias_marker, encode_alias_marker};

/// ListAliases: the default and the largest page.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;

/// Reads an `AliasName` parameter: `ValidationException` for the model's
/// length and pattern and for a name that does not begin with `alias/`
/// (AWS's `Alias must start with the prefix "alias/"…`),
/// `InvalidAliasNameException` for a name part that is empty, too long or
/// has characters it may not have.
fn parse_alias_name(s: &str) -> Result<AliasName> {
    s.parse()
}

/// `alias/aws/…` belongs to AWS managed keys: the caller may not create,
/// repoint or delete such an alias.
fn check_not_reserved(name: &AliasName, operation: &str) -> Result<()> {
    if name.is_reserved() {
        return Err(Error::from(AwsMessage::ReservedAlias).with_hint(format!(
            "{operation} of '{name}': the alias/aws/ prefix is reserved for AWS managed keys. Choose a name that does not begin with alias/aws/."
        )));
    }
    Ok(())
}

fn alias_not_found(inner: &Service, name: &AliasName) -> Error {
    Error::from(AwsMessage::AliasNotFound {
        arn: name.arn(&inner.region, &inner.account_id),
    })
}

/// Two name-ordered sequences of aliases as one, in name order.
fn merge_by_name<T>(
    a: impl Iterator<Item = (AliasName, T)>,
    b: impl Iterator<Item = (AliasName, T)>,
) -> impl Iterator<Item = (AliasName, T)> {
    let mut a = a.peekable();
    let mut b = b.peekable();
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some((x, _)), Some((y, _))) if y < x => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}

fn key_gone(entry: &KeyEntry) -> Error {
    Error::from(AwsMessage::KeyNotFound {
        arn: entry.arn.clone(),
    })
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
        let cx = self.begin();
        let inner = &*self.inner;
        let name = parse_alias_name(&req.alias_name)?;
        check_not_reserved(&name, "kms:CreateAlias")?;
        // Aliases of keys whose deletion date has passed went when the
        // call began.
        let entry = inner.resolve(&cx, &req.target_key_id, false)?;
        inner.authorize(&cx, &entry, Action::CreateAlias, &Facts::default())?;
        let connected = inner.connected(&entry);
        inner.change_alias(|keys, aliases| {
            if !keys.contains(&entry.id) {
                return Err(key_gone(&entry));
            }
            if aliases.contains(&name) {
                return Err(kms_err!(
                    AlreadyExists,
                    "An alias with the name {} already exists",
                    name.arn(&inner.region, &inner.account_id)
                )
                .with_hint("Choose another name, or use UpdateAlias to point it at another key."));
            }
            inner.check_with(&entry, connected, KeyOperation::CreateAlias)?;
            let quota = inner.quotas.aliases_per_key;
            if aliases.count_for(&entry.id) >= quota {
                return Err(kms_err!(
                    LimitExceeded,
                    "Key {} already has {quota} aliases, the most allowed.",
                    entry.arn
                ));
            }
            let now = cx.now;
            let alias = AliasEntry {
                target: entry.id,
                creation_date: now,
                last_updated_date: now,
            };
            Ok((name, Some(alias)))
        })
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
        let cx = self.begin();
        let inner = &*self.inner;
        let name = parse_alias_name(&req.alias_name)?;
        check_not_reserved(&name, "kms:UpdateAlias")?;
        let new = inner.resolve(&cx, &req.target_key_id, false)?;
        inner.authorize(&cx, &new, Action::UpdateAlias, &Facts::default())?;
        let current = inner.alias_target(&name)?;
        if let Ok(old) = inner.key_by_id(&cx, &current) {
            inner.authorize(&cx, &old, Action::UpdateAlias, &Facts::default())?;
        }
        let new_connected = inner.connected(&new);
        inner.change_alias(|keys, aliases| {
            if !keys.contains(&new.id) {
                return Err(key_gone(&new));
            }
            let current = aliases
                .target(&name)
                .ok_or_else(|| alias_not_found(inner, &name))?;
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
                    "Key {} already has {quota} aliases, the most allowed.",
                    new.arn
                ));
            }
            let Some(mut alias) = aliases.get(&name).cloned() else {
                return Err(alias_not_found(inner, &name));
            };
            alias.target = new.id;
            alias.last_updated_date = cx.now;
            Ok((name, Some(alias)))
        })
    }

    /// DeleteAlias: removes an alias; the key is not affected. Works whatever
    /// the key's state. An unknown alias is `NotFoundException`;
    /// `alias/aws/…` is `NotAuthorizedException`.
    pub fn delete_alias(&self, alias_name: &str) -> Result<()> {
        let cx = self.begin();
        let inner = &*self.inner;
        let name = parse_alias_name(alias_name)?;
        check_not_reserved(&name, "kms:DeleteAlias")?;
        let target = inner.alias_target(&name)?;
        if let Ok(entry) = inner.key_by_id(&cx, &target) {
            inner.authorize(&cx, &entry, Action::DeleteAlias, &Facts::default())?;
        }
        inner.change_alias(|keys, aliases| {
            let target = aliases
                .target(&name)
                .ok_or_else(|| alias_not_found(inner, &name))?;
            if let Some(entry) = keys.get(&target) {
                inner.check_with(&entry, true, KeyOperation::DeleteAlias)?;
            }
            Ok((name, None))
        })
    }

    /// ListAliases: every alias in the account and Region, or only those of
    /// one key (`KeyId`: key id or key ARN), in name order, `Limit` (1–100,
    /// default 50) at a time; `NextMarker` continues. A marker this service
    /// did not return is `InvalidMarkerException`.
    ///
    /// Without `KeyId` the list includes AWS's predefined aliases
    /// (`alias/aws/s3`, …): without `TargetKeyId` and dates until their AWS
    /// managed key is created by first use, as AWS lists them.
    pub fn list_aliases(&self, req: ListAliasesRequest) -> Result<ListAliasesResponse> {
        let cx = self.begin();
        let inner = &*self.inner;
        let limit = check_limit(req.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        let from = req.marker.as_deref().map(decode_alias_marker).transpose()?;
        inner.authorize_account(&cx, Action::ListAliases, &Facts::default())?;
        let only = match &req.key_id {
            None => None,
            Some(k) => {
                let entry = inner.resolve(&cx, k, false)?;
                inner.check_key(&entry, KeyOperation::ListAliases)?;
                Some(entry.id)
            }
        };
        // The predefined aliases whose AWS managed key does not exist yet
        // are listed too, without a key (never for a `KeyId` filter).
        let predefined: Vec<AliasName> = match only {
            Some(_) => Vec::new(),
            None => PREDEFINED
                .iter()
                .filter_map(|s| s.alias_name().parse::<AliasName>().ok())
                .filter(|name| from.as_ref().is_none_or(|f| name >= f))
                .collect(),
        };
        inner.read_aliases(|aliases| {
            let real = aliases
                .from(from.as_ref())
                .filter(|(_, a)| only.is_none_or(|k| a.target == k))
                .map(|(name, a)| (name.clone(), Some(a.clone())));
            let unused = predefined
                .into_iter()
                .filter(|name| !aliases.contains(name))
                .map(|name| (name, None));
            let mut merged = merge_by_name(real, unused);
            let page: Vec<AliasListEntry> = merged
                .by_ref()
                .take(limit)
                .map(|(name, a)| AliasListEntry {
                    alias_arn: name.arn(&inner.region, &inner.account_id),
                    alias_name: name,
                    target_key_id: a.as_ref().map(|a| a.target),
                    creation_date: a.as_ref().map(|a| a.creation_date),
                    last_updated_date: a.as_ref().map(|a| a.last_updated_date),
                })
                .collect();
            let next = merged.next().map(|(name, _)| encode_alias_marker(&name));
            Ok(ListAliasesResponse {
                aliases: page,
                truncated: next.is_some(),
                next_marker: next,
            })
        })
    }
}
