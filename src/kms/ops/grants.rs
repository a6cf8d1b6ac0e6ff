//! Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant and
//! RevokeGrant.
//!
//! A grant belongs to one key and lives in its state: it is committed with
//! the key (durable), counted against the key's grant quota
//! ([`Quotas::grants_per_key`](crate::Quotas::grants_per_key), AWS's 50,000),
//! and goes when the key is deleted. Each change checks the whole request
//! and the key-state table under the key's lock, then changes the key: a
//! call that fails (or a `DryRun`) changes nothing.
//!
//! Who may call CreateGrant, ListGrants and RevokeGrant is the key policy's
//! and IAM's to say (authorization); who may retire a grant is the grant's
//! (its retiring principal, its grantee if it allows RetireGrant, the
//! issuing account), checked here.

use crate::error::{AwsMessage, Constraint, Error, Result, Shown, Violation, kms_err};
use crate::iam::Principal;
use crate::key::KeySpec;
use crate::key::state::KeyOperation;

use crate::kms::Kms;
use crate::kms::model::grants::Grant;
use crate::kms::model::key::KeyEntry;
use crate::kms::service::grants::{grant_id_bytes, invalid_grant_token};
use crate::kms::shapes::grants::{
    CreateGrantRequest, CreateGrantResponse, GrantConstraints, GrantOperation, ListGrantsRequest,
    ListGrantsResponse, ListRetirableGrantsRequest, RetireGrantRequest, RevokeGrantRequest,
};
use crate::kms::support::access::{Action, Facts, GrantFacts};
use crate::kms::support::paging::{check_limit, decode_marker, encode_marker};

/// ListGrants and ListRetirableGrants: the default and the largest page.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;
/// Most pairs in one grant constraint.
const MAX_CONSTRAINT_PAIRS: usize = 8;
/// Longest encryption context value in a grant constraint.
const MAX_CONSTRAINT_VALUE_CHARS: usize = 384;

/// The API model's `PrincipalIdType` pattern.
const PRINCIPAL_ID_PATTERN: &str = r"^[\w+=,.@:/-]+$";
/// The API model's `GrantNameType` pattern.
const GRANT_NAME_PATTERN: &str = "^[a-zA-Z0-9:/_-]+$";

/// The model's violations of a `PrincipalIdType` member: 1–256 characters
/// of `[\w+=,.@:/-]`, each broken constraint reported, the value shown.
fn principal_id_violations(member: &str, value: &str) -> impl Iterator<Item = Violation> {
    let shown = || Shown::Value(value.to_owned());
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b));
    [
        Violation::pattern(member, ok, shown, PRINCIPAL_ID_PATTERN),
        Violation::length(member, value, shown, 1, 256),
    ]
    .into_iter()
    .flatten()
}

/// Checks a `PrincipalIdType` member (`ValidationException`).
fn check_principal_id(member: &str, value: &str) -> Result<()> {
    Error::check_all(principal_id_violations(member, value))
}

/// A principal parameter: the model's checks, then a principal ARN or
/// service principal (`InvalidArnException`). Returns its canonical ARN.
fn principal_arn(field: &str, value: &str) -> Result<String> {
    check_principal_id(field, value)?;
    let principal: Principal = value.parse()?;
    Ok(principal.arn())
}

/// The model's violations of a grant `Name`: 1–256 characters of
/// `[a-zA-Z0-9:/_-]`.
fn name_violations(name: &str) -> impl Iterator<Item = Violation> {
    let shown = || Shown::Value(name.to_owned());
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":/_-".contains(&b));
    [
        Violation::pattern("name", ok, shown, GRANT_NAME_PATTERN),
        Violation::length("name", name, shown, 1, 256),
    ]
    .into_iter()
    .flatten()
}

/// Checks a `GrantId` parameter: 1–128 characters (`ValidationException`),
/// and the 64 hexadecimal characters of a grant id
/// (`InvalidGrantIdException`).
fn check_grant_id(id: &str) -> Result<()> {
    Error::check_all(Violation::length(
        "grantId",
        id,
        || Shown::Value(id.to_owned()),
        1,
        128,
    ))?;
    if grant_id_bytes(id).is_none() {
        return Err(kms_err!(InvalidGrantId, "Grant id '{id}' is not valid.")
            .with_hint("A grant id is 64 hexadecimal characters, as CreateGrant returns it."));
    }
    Ok(())
}

/// The violation of an empty `Operations` list (`Value '[]' at
/// 'operations'`): the model sets no minimum, but a grant allows at least
/// one operation.
fn empty_operations() -> Violation {
    Violation::new(
        "operations",
        Shown::Value("[]".into()),
        Constraint::MinLength(1),
    )
}

/// Checks the operations and the constraint of a CreateGrant for `entry`
/// (`ValidationException`): each operation must be one the key's kind
/// allows.
fn check_operations_and_constraints(
    operations: &[GrantOperation],
    constraints: Option<&GrantConstraints>,
    entry: &KeyEntry,
) -> Result<()> {
    let key_arn = &entry.arn;
    let allowed = entry.kind.grant_operations();
    if operations.is_empty() {
        return Err(Error::from(AwsMessage::Validation(
            vec![empty_operations()],
        )));
    }
    let invalid: Vec<&str> = operations
        .iter()
        .filter(|op| !allowed.contains(op))
        .map(|op| op.as_str())
        .collect();
    if !invalid.is_empty() {
        return Err(kms_err!(
            Validation,
            "Grant operations [{}] are not valid for KMS key {key_arn}.",
            invalid.join(", ")
        )
        .with_hint(format!(
            "A {} key ({}) allows [{}].",
            entry.kind.spec(),
            entry.kind.usage(),
            allowed
                .iter()
                .map(|op| op.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let Some(c) = constraints else {
        return Ok(());
    };
    let pairs = match (&c.encryption_context_equals, &c.encryption_context_subset) {
        (Some(_), Some(_)) => {
            return Err(kms_err!(
                Validation,
                "A grant constraint may have EncryptionContextEquals or EncryptionContextSubset, not both."
            ));
        }
        (Some(p), None) | (None, Some(p)) => p,
        (None, None) => return Ok(()),
    };
    // AWS: an encryption context grant constraint cannot be used for the
    // cryptographic operations of asymmetric or HMAC keys, which take no
    // encryption context.
    if entry.kind.spec() != KeySpec::SymmetricDefault {
        return Err(kms_err!(
            Validation,
            "Grant constraints are not supported for KMS key {key_arn}: a {} key's operations take no encryption context.",
            entry.kind.spec()
        ));
    }
    if pairs.len() > MAX_CONSTRAINT_PAIRS {
        return Err(kms_err!(
            Validation,
            "A grant constraint can have at most {MAX_CONSTRAINT_PAIRS} encryption context pairs; this one has {}.",
            pairs.len()
        ));
    }
    if let Some((k, _)) = pairs
        .iter()
        .find(|(_, v)| v.chars().count() > MAX_CONSTRAINT_VALUE_CHARS)
    {
        return Err(kms_err!(
            Validation,
            "The value of encryption context key '{k}' in the grant constraint is longer than {MAX_CONSTRAINT_VALUE_CHARS} characters."
        ));
    }
    if !operations.iter().any(|op| op.takes_encryption_context()) {
        return Err(kms_err!(
            Validation,
            "Grant constraints apply only to operations that take an encryption context; none of [{}] does.",
            operations
                .iter()
                .map(|op| op.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(())
}

/// `DryRunOperationException` if `dry_run` is set.
fn check_dry_run(dry_run: Option<bool>) -> Result<()> {
    if dry_run == Some(true) {
        return Err(Error::from(AwsMessage::DryRun));
    }
    Ok(())
}

/// `NotFoundException` for grant `id` of key `arn`.
fn grant_not_found(id: &str, arn: &str) -> Error {
    kms_err!(NotFound, "Grant ID {id} not found for key {arn}.")
}

/// The page of `items` from `marker`, `limit` long.
fn page<T>(items: Vec<T>, limit: usize, marker: Option<&str>) -> Result<(Vec<T>, Option<String>)> {
    let from = match marker {
        None => 0,
        Some(m) => usize::try_from(decode_marker(m)?).unwrap_or(usize::MAX),
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(from).take(limit).collect();
    let end = from.saturating_add(page.len());
    let next = (end < total).then(|| encode_marker(end as u64));
    Ok((page, next))
}

impl Kms {
    /// CreateGrant: gives `GranteePrincipal` the `Operations` on a key (key
    /// id or key ARN, not an alias), optionally under an encryption context
    /// constraint, and returns the grant id and a grant token.
    ///
    /// Checks, in order: the members' lengths and patterns and a non-empty
    /// `Operations` (`ValidationException`); the `GrantTokens`
    /// (`InvalidGrantTokenException`); the principals (a principal ARN or
    /// an AWS service principal, else `InvalidArnException`); the key
    /// (`NotFoundException`); the operations (only those valid for a
    /// symmetric encryption key) and the constraint (one of
    /// `EncryptionContextEquals`/`EncryptionContextSubset`, at most 8 pairs
    /// with values up to 384 characters, and only with an operation that
    /// takes an encryption context) — `ValidationException`; the key state
    /// (Disabled: `DisabledException`; PendingDeletion:
    /// `KMSInvalidStateException`; a key in a disconnected custom key store
    /// may get grants); the key's grant quota (`LimitExceededException`).
    /// Then `DryRun` fails with `DryRunOperationException`.
    ///
    /// With a `Name`, a repeat of an existing grant's name and parameters
    /// returns that grant's id (and a new token) instead of a new grant.
    pub fn create_grant(&self, req: CreateGrantRequest) -> Result<CreateGrantResponse> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.create_grant(req);
        }
        let cx = self.begin();
        let inner = &*self.inner;
        // Every broken model constraint of the request, reported at once.
        let mut violations: Vec<Violation> =
            principal_id_violations("granteePrincipal", &req.grantee_principal).collect();
        if let Some(r) = &req.retiring_principal {
            violations.extend(principal_id_violations("retiringPrincipal", r));
        }
        if let Some(name) = &req.name {
            violations.extend(name_violations(name));
        }
        if req.operations.is_empty() {
            violations.push(empty_operations());
        }
        Error::check_all(violations)?;
        inner.check_grant_tokens(&req.grant_tokens)?;
        let grantee_arn = principal_arn("granteePrincipal", &req.grantee_principal)?;
        let retiring_arn = req
            .retiring_principal
            .as_deref()
            .map(|r| principal_arn("retiringPrincipal", r))
            .transpose()?;
        let entry = inner.resolve(&cx, &req.key_id, false)?;
        check_operations_and_constraints(&req.operations, req.constraints.as_ref(), &entry)?;
        inner.authorize(
            &cx,
            &entry,
            Action::CreateGrant,
            &Facts {
                grant: Some(GrantFacts {
                    operations: &req.operations,
                    grantee: &grantee_arn,
                    retiring: retiring_arn.as_deref(),
                    constraints: req.constraints.as_ref(),
                }),
                ..Facts::default()
            },
        )?;
        let mut operations: Vec<GrantOperation> = Vec::with_capacity(req.operations.len());
        for op in &req.operations {
            if !operations.contains(op) {
                operations.push(*op);
            }
        }
        let constraints = req.constraints.filter(|c| {
            c.encryption_context_equals.is_some() || c.encryption_context_subset.is_some()
        });
        let max = inner.quotas.grants_per_key;
        let grant_id = inner.with_key_mut(&entry, KeyOperation::CreateGrant, |m| {
            let mut grant = Grant {
                id: String::new(),
                name: req.name,
                creation_date: cx.now,
                grantee: req.grantee_principal,
                grantee_arn,
                retiring: req.retiring_principal,
                retiring_arn,
                operations,
                constraints,
            };
            if let Some(existing) = m.grants.find_repeat(&grant) {
                let id = existing.id.clone();
                check_dry_run(req.dry_run)?;
                return Ok(id);
            }
            if m.grants.len() >= max {
                return Err(kms_err!(
                    LimitExceeded,
                    "Key {} has {} grants, the most a KMS key can have ({max}).",
                    entry.arn,
                    m.grants.len()
                )
                .with_hint("Retire or revoke grants first."));
            }
            check_dry_run(req.dry_run)?;
            grant.id = loop {
                let id = inner.new_grant_id();
                if !m.grants.contains(&id) {
                    break id;
                }
            };
            let id = grant.id.clone();
            m.grants.push(grant);
            Ok(id)
        })?;
        let grant_token = inner.grant_token(&entry.id, &grant_id)?;
        Ok(CreateGrantResponse {
            grant_token,
            grant_id,
        })
    }

    /// ListGrants: the grants of a key (key id or key ARN), in creation
    /// order, `Limit` (1–100, default 50) at a time; `NextMarker`
    /// continues. `GrantId` keeps only that grant (a malformed id is
    /// `InvalidGrantIdException`), `GranteePrincipal` only the grants to
    /// that principal. Each entry shows the key ARN and the issuing
    /// account's root ARN. Works in every key state.
    pub fn list_grants(&self, req: ListGrantsRequest) -> Result<ListGrantsResponse> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.list_grants(req);
        }
        let cx = self.begin();
        let inner = &*self.inner;
        let limit = check_limit(req.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        if let Some(m) = &req.marker {
            decode_marker(m)?;
        }
        if let Some(id) = &req.grant_id {
            check_grant_id(id)?;
        }
        let grantee = match &req.grantee_principal {
            Some(p) => {
                check_principal_id("granteePrincipal", p)?;
                // A principal that does not parse matches as written.
                Some(
                    p.parse::<Principal>()
                        .map_or_else(|_| p.clone(), |p| p.arn()),
                )
            }
            None => None,
        };
        let entry = inner.resolve(&cx, &req.key_id, false)?;
        inner.authorize(&cx, &entry, Action::ListGrants, &Facts::default())?;
        inner.check_key(&entry, KeyOperation::ListGrants)?;
        let all = inner.read_key(&entry, |m| {
            m.grants
                .iter()
                .filter(|g| req.grant_id.as_deref().is_none_or(|id| g.id == id))
                .filter(|g| {
                    grantee
                        .as_deref()
                        .is_none_or(|p| g.grantee_arn == p || g.grantee == p)
                })
                .map(|g| inner.grant_entry(&entry, g))
                .collect::<Vec<_>>()
        });
        let (grants, next) = page(all, limit, req.marker.as_deref())?;
        Ok(ListGrantsResponse {
            grants,
            truncated: next.is_some(),
            next_marker: next,
        })
    }

    /// ListRetirableGrants: every grant of this account's keys whose
    /// retiring principal is `RetiringPrincipal` (a principal ARN, else
    /// `InvalidArnException`), by key then grant creation order, `Limit`
    /// (1–100, default 50) at a time.
    pub fn list_retirable_grants(
        &self,
        req: ListRetirableGrantsRequest,
    ) -> Result<ListGrantsResponse> {
        let cx = self.begin();
        let inner = &*self.inner;
        let limit = check_limit(req.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        if let Some(m) = &req.marker {
            decode_marker(m)?;
        }
        let retiring = principal_arn("retiringPrincipal", &req.retiring_principal)?;
        inner.authorize_account(&cx, Action::ListRetirableGrants, &Facts::default())?;
        let all = inner.retirable_grants(&cx, &retiring);
        let (grants, next) = page(all, limit, req.marker.as_deref())?;
        Ok(ListGrantsResponse {
            grants,
            truncated: next.is_some(),
            next_marker: next,
        })
    }

    /// RetireGrant: deletes a grant named by its `GrantToken`, or by
    /// `KeyId` (key id or key ARN) and `GrantId`. The caller must be the
    /// grant's retiring principal, its grantee if the grant allows
    /// RetireGrant, or the root of the account that issued it
    /// (`AccessDeniedException` otherwise). A token this service did not
    /// issue is `InvalidGrantTokenException`; a grant that does not exist
    /// is `NotFoundException`. Works in every key state. `DryRun` fails with
    /// `DryRunOperationException` after the checks.
    pub fn retire_grant(&self, req: RetireGrantRequest) -> Result<()> {
        if let Some(owner) = self.routed_grant(req.key_id.as_deref(), req.grant_token.as_deref()) {
            return owner.retire_grant(req);
        }
        let cx = self.begin();
        let inner = &*self.inner;
        // Both members' model constraints, reported at once.
        let mut violations = Vec::new();
        if let Some(t) = &req.grant_token {
            violations.extend(Violation::length(
                "grantToken",
                t,
                || Shown::Value(t.clone()),
                1,
                8192,
            ));
        }
        if let Some(id) = &req.grant_id {
            violations.extend(Violation::length(
                "grantId",
                id,
                || Shown::Value(id.clone()),
                1,
                128,
            ));
        }
        Error::check_all(violations)?;
        if let Some(id) = &req.grant_id {
            check_grant_id(id)?;
        }
        let (entry, grant_id) = match (&req.grant_token, &req.key_id, &req.grant_id) {
            (Some(token), _, _) => {
                let (key, id) = inner
                    .read_grant_token(token)
                    .ok_or_else(invalid_grant_token)?;
                (inner.key_by_id(&cx, &key)?, id)
            }
            (None, Some(key), Some(id)) => (inner.resolve(&cx, key, false)?, id.clone()),
            (None, _, _) => {
                return Err(kms_err!(
                    Validation,
                    "RetireGrant needs the grant: a GrantToken, or both a KeyId and a GrantId."
                ));
            }
        };
        // A key or IAM policy allowing kms:RetireGrant lets the caller
        // retire any grant of the key; the grant itself lets its retiring
        // principal (and its grantee, if it allows RetireGrant) retire it.
        let by_policy = inner.decide_by(&cx, &entry, Action::RetireGrant, &Facts::default(), false);
        inner.with_key_mut(&entry, KeyOperation::RetireGrant, |m| {
            let grant = m
                .grants
                .get(&grant_id)
                .ok_or_else(|| grant_not_found(&grant_id, &entry.arn))?;
            if !inner.may_retire(grant, cx.caller) && !by_policy.is_allowed() {
                return Err(kms_err!(
                    AccessDenied,
                    "User: {} is not authorized to perform: kms:RetireGrant on resource: {} because no resource-based policy allows the kms:RetireGrant action",
                    cx.caller.arn,
                    entry.arn
                ));
            }
            check_dry_run(req.dry_run)?;
            m.grants.remove(&grant_id);
            Ok(())
        })
    }

    /// RevokeGrant: deletes grant `GrantId` of a key (key id or key ARN).
    /// A malformed grant id is `InvalidGrantIdException`, one the key does
    /// not have `NotFoundException`. Works in every key state. `DryRun`
    /// fails with `DryRunOperationException` after the checks.
    pub fn revoke_grant(&self, req: RevokeGrantRequest) -> Result<()> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.revoke_grant(req);
        }
        let cx = self.begin();
        let inner = &*self.inner;
        check_grant_id(&req.grant_id)?;
        let entry = inner.resolve(&cx, &req.key_id, false)?;
        inner.authorize(&cx, &entry, Action::RevokeGrant, &Facts::default())?;
        inner.with_key_mut(&entry, KeyOperation::RevokeGrant, |m| {
            if !m.grants.contains(&req.grant_id) {
                return Err(grant_not_found(&req.grant_id, &entry.arn));
            }
            check_dry_run(req.dry_run)?;
            m.grants.remove(&req.grant_id);
            Ok(())
        })
    }
}
