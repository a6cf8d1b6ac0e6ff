//! Multi-Region keys: ReplicateKey and UpdatePrimaryRegion.
//!
//! A multi-Region key is a set of keys with one `mrk-` id, one in each of
//! several Regions of the same account and partition: the primary key
//! (made by CreateKey with `MultiRegion`) and its replicas. They share their
//! material and its versions (a ciphertext made under one decrypts under
//! any other) and their rotation, which only the primary key's schedule
//! drives; policy, tags, description, aliases, grants and key state are
//! each key's own. A key with imported material is the exception: its
//! replicas get no material, and each imports the primary's with its own
//! expiration (`service/import.rs`). The Regions are the [`Partition`](crate::Partition)'s
//! Kms services: a replica Region whose Kms the partition does not hold is
//! refused. The service side is `service/multi_region.rs`.
//!
//! AWS shows a new replica as `Creating`, and the two keys of an
//! UpdatePrimaryRegion as `Updating`, for a few seconds; here both changes
//! are complete when the call returns, so callers see `Enabled` at once.

use crate::error::{Constraint, Error, Result, Shown, kms_err};
use crate::ids::Region;
use crate::key::state::KeyOperation;
use crate::kms::Kms;
use crate::kms::model::key::KeyEntry;
use crate::kms::model::multi_region::MultiRegion;
use crate::kms::shapes::types::{
    ReplicateKeyRequest, ReplicateKeyResponse, UpdatePrimaryRegionRequest,
};
use crate::kms::support::access::{Action, Facts};
use crate::kms::support::policy::{check_policy_shape, default_key_policy, parse_policy};
use crate::kms::support::validate::{check_description, validate_tags};

/// The API's pattern for a Region name (`RegionType`).
const REGION_PATTERN: &str = "^([a-z]+-){2,3}\\d+$";

/// A `RegionType` member: 1–32 characters matching [`REGION_PATTERN`]
/// (a Region name of two or three words and a number).
fn check_region(member: &str, s: &str) -> Result<Region> {
    if s.is_empty() {
        return Err(Error::required(member));
    }
    let words = s.split('-').count();
    match s.parse::<Region>() {
        Ok(region) if words <= 4 => Ok(region),
        _ if s.len() > 32 => Err(Error::invalid(
            member,
            Shown::Value(s.to_owned()),
            Constraint::MaxLength(32),
        )),
        _ => Err(Error::invalid(
            member,
            Shown::Value(s.to_owned()),
            Constraint::Pattern(REGION_PATTERN.to_owned()),
        )),
    }
}

/// The relations of `entry` if it is a multi-Region primary key, else
/// `UnsupportedOperationException` for `operation` (a single-Region key, or
/// a replica).
fn primary_relations(kms: &Kms, entry: &KeyEntry, operation: &str) -> Result<MultiRegion> {
    let relations = kms.inner.relations(entry).ok_or_else(|| {
        kms_err!(
            UnsupportedOperation,
            "{} is not a multi-Region key; {operation} supports only multi-Region keys.",
            entry.arn
        )
    })?;
    if relations.primary != kms.inner.region {
        return Err(kms_err!(
            UnsupportedOperation,
            "{} is a replica key; {operation} needs the primary key, in {}.",
            entry.arn,
            relations.primary
        ));
    }
    Ok(relations)
}

impl Kms {
    /// ReplicateKey: a replica of the multi-Region primary key `KeyId` (key
    /// id or key ARN) in `ReplicaRegion`, another Region of this account in
    /// the partition, with its own `Policy` (the default key policy when
    /// absent), `Description` and `Tags`, and the primary's material
    /// versions. The replica is Enabled; a replica of a key with imported
    /// material (Origin `EXTERNAL`) has none, and is pending import until
    /// the primary's material is imported into it.
    ///
    /// Errors, in order: `ValidationException` (ReplicaRegion missing or
    /// malformed, a description over 8192 characters), `TagException`,
    /// `MalformedPolicyDocumentException`, `NotFoundException`,
    /// `AccessDeniedException` (`kms:ReplicateKey` on the primary; then
    /// `kms:CreateKey` in the replica Region), `UnsupportedOperationException`
    /// (not a multi-Region key, a replica key, or a Region the partition
    /// does not hold), `DisabledException` / `KMSInvalidStateException`
    /// (the primary's key state), `AlreadyExistsException` (the Region
    /// already has a key of this multi-Region key), `LimitExceededException`.
    pub fn replicate_key(&self, req: ReplicateKeyRequest) -> Result<ReplicateKeyResponse> {
        let cx = self.begin();
        let region = check_region("replicaRegion", &req.replica_region)?;
        if let Some(d) = &req.description {
            check_description(d)?;
        }
        validate_tags(&req.tags)?;
        let policy = match &req.policy {
            Some(p) => {
                check_policy_shape(p)?;
                Some(std::sync::Arc::new(parse_policy(p)?))
            }
            None => None,
        };
        let inner = &*self.inner;
        let entry = inner.resolve(&cx, &req.key_id, false)?;
        inner.authorize(
            &cx,
            &entry,
            Action::ReplicateKey,
            &Facts {
                replica_region: Some(region.as_str()),
                ..Facts::default()
            },
        )?;
        let relations = primary_relations(self, &entry, "ReplicateKey")?;
        inner.check_key(&entry, KeyOperation::ReplicateKey)?;
        if relations.has_region(&region) {
            return Err(crate::kms::service::multi_region::already_replicated(
                &entry.id.arn(&region, &inner.account_id),
            ));
        }
        let Some(target) = inner.sibling_in(region.as_str()) else {
            return Err(kms_err!(
                UnsupportedOperation,
                "Region {region} is not available to account {} in this partition.",
                inner.account_id
            )
            .with_hint("Add a Kms for that Region to the partition (Partition::add)."));
        };
        let next = relations.with_replica(&region);
        let tcx = target.begin(cx.caller);
        let replica = target.insert_replica(&tcx, &entry, next.clone(), &req, policy)?;
        // Every other related key learns of the replica; then the replica
        // catches up with any rotation of the primary made meanwhile.
        inner.spread_relations(&entry.id, &next, |_| None)?;
        if let Some(versions) = &entry.versions {
            target.sync_versions(&entry.id, versions)?;
        }
        Ok(ReplicateKeyResponse {
            replica_key_metadata: target.metadata(&replica),
            replica_policy: req
                .policy
                .unwrap_or_else(|| default_key_policy(&inner.account_id)),
            replica_tags: req.tags,
        })
    }

    /// UpdatePrimaryRegion: the replica of the primary key `KeyId` (key id
    /// or key ARN) in `PrimaryRegion` becomes the primary key, and this
    /// one a replica; the automatic rotation schedule moves with the role.
    /// Both keys must be Enabled.
    ///
    /// Errors, in order: `ValidationException` (PrimaryRegion missing or
    /// malformed), `NotFoundException`, `AccessDeniedException`
    /// (`kms:UpdatePrimaryRegion` on both keys), `UnsupportedOperationException`
    /// (not a multi-Region key, not the primary key, or PrimaryRegion is
    /// the primary's own Region), `DisabledException` /
    /// `KMSInvalidStateException` (either key's state), `NotFoundException`
    /// (no replica in PrimaryRegion).
    pub fn update_primary_region(&self, req: UpdatePrimaryRegionRequest) -> Result<()> {
        let cx = self.begin();
        let region = check_region("primaryRegion", &req.primary_region)?;
        let inner = &*self.inner;
        let entry = inner.resolve(&cx, &req.key_id, false)?;
        let facts = Facts {
            primary_region: Some(region.as_str()),
            ..Facts::default()
        };
        inner.authorize(&cx, &entry, Action::UpdatePrimaryRegion, &facts)?;
        let relations = primary_relations(self, &entry, "UpdatePrimaryRegion")?;
        if region == inner.region {
            return Err(kms_err!(
                UnsupportedOperation,
                "{} is already the primary key in {region}.",
                entry.arn
            ));
        }
        inner.check_key(&entry, KeyOperation::UpdatePrimaryRegion)?;
        let replica_arn = entry.id.arn(&region, &inner.account_id);
        let missing = || {
            kms_err!(
                NotFound,
                "{} has no replica key in {region}: {replica_arn} does not exist.",
                entry.arn
            )
        };
        if !relations.replicas.contains(&region) {
            return Err(missing());
        }
        let target = inner.sibling_in(region.as_str()).ok_or_else(missing)?;
        let tcx = target.begin(cx.caller);
        let replica = target.key_by_id(&tcx, &entry.id)?;
        target.authorize(&tcx, &replica, Action::UpdatePrimaryRegion, &facts)?;
        target.check_key(&replica, KeyOperation::UpdatePrimaryRegion)?;
        let schedule = inner.read_key(&entry, |m| m.rotation);
        let next = relations.with_primary(&region);
        let own = inner.region.clone();
        inner.spread_relations(&entry.id, &next, |r| {
            if *r == region {
                Some(schedule)
            } else if *r == own {
                Some(Default::default())
            } else {
                None
            }
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_members_follow_the_api_pattern() {
        assert!(check_region("replicaRegion", "eu-west-1").is_ok());
        assert!(check_region("replicaRegion", "us-gov-west-1").is_ok());
        for bad in ["", "eu", "eu-west", "EU-west-1", "a-b-c-d-1", "eu-west-x"] {
            assert_eq!(
                check_region("replicaRegion", bad).unwrap_err().code(),
                "ValidationException",
                "{bad}"
            );
        }
    }
}
