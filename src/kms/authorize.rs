//! Authorization, in the service layer: who may do what with a key.
//!
//! [`Service::authorize`] decides one request as AWS documents KMS's
//! evaluation:
//! 1. an explicit `Deny` in the key policy or in any of the caller's
//!    identity-based policies refuses the request, whatever else allows it;
//! 2. otherwise the key policy must allow it: for the caller directly (an
//!    account root, or any principal of the key's own account named by its
//!    ARN), or for the caller's account root — which delegates to the
//!    account's IAM policies, so one of the caller's identity-based policies
//!    must allow it too. A caller of another account always needs both (its
//!    account root needs only the key policy);
//! 3. otherwise a grant of the key to the caller for the operation, whose
//!    constraints the request's encryption context meets, allows it;
//! 4. otherwise the request is refused (`AccessDeniedException`, with AWS's
//!    message naming the kind of policy that did not allow it).
//!
//! Operations on no key (CreateKey, ListKeys, GenerateRandom, the custom key
//! store operations) are decided by identity-based policies alone
//! ([`Service::authorize_account`]): the account root may do all of them.
//!
//! The hot path: a key with the default key policy (the account root may do
//! everything, no conditions, no Deny) called by its own account's root is
//! allowed by one atomic load ([`KeyEntry::default_policy`]) — the decision
//! compiled in advance, invalidated by PutKeyPolicy. Everything else builds
//! the request's condition keys and evaluates.

use std::sync::Arc;

use crate::clock::Timestamp;
use crate::crypto::EncryptionContext;
use crate::error::{Error, Result, kms_err};
use crate::iam::directory::Identity;
use crate::iam::policy::{
    ConditionContext, Evaluation, Policy, PolicyKind, PrincipalMatch, Request, StatementRef,
};
use crate::iam::{Caller, PrincipalKind};

use super::call::Call;
use super::model::key::KeyEntry;
use super::service::Service;
use super::shapes::grants::GrantOperation;
use super::support::access::request_alias;
use super::support::policy::default_key_policy;

use super::support::access::{Action, Facts};

/// Where the statement that decided a request is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicySource {
    /// The key's key policy.
    KeyPolicy,
    /// An identity-based policy of the caller's user or role.
    IdentityPolicy {
        /// The user or role the policy is attached to.
        principal_arn: String,
        /// The policy's name.
        policy_name: String,
    },
}

/// One policy statement that took part in a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecidingStatement {
    /// The policy it is in.
    pub source: PolicySource,
    /// Its position in the policy's `Statement` list, from 0.
    pub index: usize,
    /// Its `Sid`, if it has one.
    pub sid: Option<String>,
}

/// How a request was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecisionKind {
    /// Allowed by policies (the statements say which).
    Allowed,
    /// Allowed by a grant (`grant_id` says which), no policy allowing it.
    AllowedByGrant,
    /// Refused by an explicit `Deny` statement.
    ExplicitDeny,
    /// Refused because nothing allows it.
    ImplicitDeny,
}

/// The answer to "may this caller do this?", as a policy simulator gives it
/// ([`Kms::simulate_authorization`](super::Kms::simulate_authorization)):
/// the outcome, the statements that decided it, and the error the request
/// would get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationDecision {
    /// Allowed or refused, and how.
    pub kind: DecisionKind,
    /// The deciding statements: the `Deny` for an explicit deny; for an
    /// allow, the key policy statement and, where the key policy delegates
    /// to IAM, the identity policy statement. Empty for an implicit deny or
    /// a grant.
    pub statements: Vec<DecidingStatement>,
    /// The grant that allowed the request.
    pub grant_id: Option<String>,
    /// The `AccessDeniedException` message a refused request gets.
    pub message: Option<String>,
}

impl AuthorizationDecision {
    /// True if the request is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(
            self.kind,
            DecisionKind::Allowed | DecisionKind::AllowedByGrant
        )
    }

    fn into_result(self) -> Result<()> {
        match self.message {
            Some(message) if !self.is_allowed() => Err(Error::AccessDenied {
                message: message.into(),
            }),
            _ => Ok(()),
        }
    }
}

/// Which kind of policy failed to allow a request, for AWS's message.
#[derive(Clone, Copy)]
enum Missing {
    ResourceBased,
    IdentityBased,
}

fn denied_message(
    caller: &Caller,
    action: Action,
    resource: &str,
    why: Result<(), Missing>,
) -> String {
    let who = &caller.arn;
    let action = action.name();
    match why {
        Ok(()) => format!(
            "User: {who} is not authorized to perform: {action} on resource: {resource} with an explicit deny in a resource-based policy"
        ),
        Err(Missing::ResourceBased) => format!(
            "User: {who} is not authorized to perform: {action} on resource: {resource} because no resource-based policy allows the {action} action"
        ),
        Err(Missing::IdentityBased) => format!(
            "User: {who} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
        ),
    }
}

fn identity_deny_message(caller: &Caller, action: Action, resource: &str) -> String {
    format!(
        "User: {} is not authorized to perform: {} on resource: {resource} with an explicit deny in an identity-based policy",
        caller.arn,
        action.name()
    )
}

/// What the caller's identity-based policies say: the first explicit deny,
/// the first allow.
#[derive(Default)]
struct IdentityVerdict {
    deny: Option<DecidingStatement>,
    allow: Option<DecidingStatement>,
}

fn statement(source: PolicySource, s: StatementRef) -> DecidingStatement {
    DecidingStatement {
        source,
        index: s.index,
        sid: s.sid,
    }
}

/// What the caller's identity-based policies (those of `identity`, its IAM
/// record) say about `request`: the first explicit deny, the first allow.
fn identity_verdict(identity: Option<&Identity>, request: &Request<'_>) -> IdentityVerdict {
    let mut verdict = IdentityVerdict::default();
    let Some(identity) = identity else {
        return verdict;
    };
    for named in &identity.policies {
        let e = named.policy.evaluate(request);
        let source = || PolicySource::IdentityPolicy {
            principal_arn: identity.principal.arn(),
            policy_name: named.name.clone(),
        };
        if verdict.deny.is_none()
            && let Some(d) = e.deny
        {
            verdict.deny = Some(statement(source(), d));
        }
        if verdict.allow.is_none()
            && let Some((a, _)) = e.allow
        {
            verdict.allow = Some(statement(source(), a));
        }
    }
    verdict
}

impl Service {
    /// The compiled default key policy of this account (`None` only if it
    /// failed to compile, which would refuse every request on keys that
    /// have it rather than allow them).
    fn default_policy(&self) -> Option<&Arc<Policy>> {
        self.default_policy
            .get_or_init(|| {
                Policy::parse(&default_key_policy(&self.account_id), PolicyKind::Key)
                    .ok()
                    .map(Arc::new)
            })
            .as_ref()
    }

    /// The key policy of `entry`, compiled; `None` (nothing allowed) for a
    /// stored policy that no longer compiles.
    fn key_policy(&self, entry: &KeyEntry) -> Option<Arc<Policy>> {
        if entry.default_policy() {
            return self.default_policy().cloned();
        }
        self.read_key(entry, |m| m.compiled_policy.clone())
    }

    /// True if `caller` is this account's root.
    fn is_own_root(&self, caller: &Caller) -> bool {
        std::ptr::eq(caller, &self.root) || caller.principal == self.root.principal
    }

    /// Authorizes `action` on `entry` for the call's caller, or
    /// `AccessDeniedException`.
    #[inline]
    pub(crate) fn authorize(
        &self,
        cx: &Call,
        entry: &KeyEntry,
        action: Action,
        facts: &Facts<'_>,
    ) -> Result<()> {
        if entry.default_policy() && self.is_own_root(cx.caller) {
            return Ok(());
        }
        self.decide(cx, entry, action, facts).into_result()
    }

    /// Decides `action` on `entry` for the call's caller, with the statements
    /// that decided it.
    pub(crate) fn decide(
        &self,
        cx: &Call,
        entry: &KeyEntry,
        action: Action,
        facts: &Facts<'_>,
    ) -> AuthorizationDecision {
        self.decide_by(cx, entry, action, facts, true)
    }

    /// As [`Service::decide`], by policies alone when `grants` is false
    /// (RetireGrant: a grant allows retiring only itself, which the
    /// operation checks).
    pub(crate) fn decide_by(
        &self,
        cx: &Call,
        entry: &KeyEntry,
        action: Action,
        facts: &Facts<'_>,
        grants: bool,
    ) -> AuthorizationDecision {
        let caller = cx.caller;
        let key_policy = self.key_policy(entry);
        // The caller's IAM record, looked up once for the whole decision.
        let identity = self.shared.iam.identity(&caller.principal);
        let identity = identity.as_deref();
        // Policies without conditions or variables read no condition key:
        // the decision then depends on caller, action and key alone, and
        // the request's context is not built at all.
        let context = if key_policy.as_deref().is_none_or(Policy::is_context_free)
            && identity.is_none_or(|i| i.policies.iter().all(|p| p.policy.is_context_free()))
        {
            ConditionContext::default()
        } else {
            self.condition_context(cx, Some(entry), identity, facts)
        };
        let request = Request {
            caller,
            action: action.name(),
            resource: &entry.arn,
            context: &context,
        };
        let evaluation = key_policy.map(|p| p.evaluate(&request)).unwrap_or_default();
        let grants = grants.then_some(facts);
        self.decide_with(entry, action, grants, &evaluation, identity, &request)
    }

    /// The decision of `request` given the key policy's `evaluation`.
    fn decide_with(
        &self,
        entry: &KeyEntry,
        action: Action,
        grants: Option<&Facts<'_>>,
        key_policy: &Evaluation,
        identity: Option<&Identity>,
        request: &Request<'_>,
    ) -> AuthorizationDecision {
        let caller = request.caller;
        let denied = |kind, statements, message| AuthorizationDecision {
            kind,
            statements,
            grant_id: None,
            message: Some(message),
        };
        let foreign = caller.principal.account().is_some_and(|a| {
            *a != self.account_id || caller.principal.partition() != self.shared.partition
        });
        if foreign && !action.cross_account() {
            // Permissions for other operations have no effect across
            // accounts, whatever the policies say.
            return denied(
                DecisionKind::ImplicitDeny,
                Vec::new(),
                denied_message(caller, action, &entry.arn, Err(Missing::ResourceBased)),
            );
        }
        let identity = identity_verdict(identity, request);
        if let Some(deny) = &key_policy.deny {
            return denied(
                DecisionKind::ExplicitDeny,
                vec![statement(PolicySource::KeyPolicy, deny.clone())],
                denied_message(caller, action, &entry.arn, Ok(())),
            );
        }
        if let Some(deny) = identity.deny {
            return denied(
                DecisionKind::ExplicitDeny,
                vec![deny],
                identity_deny_message(caller, action, &entry.arn),
            );
        }
        let needs_iam = foreign && !caller.principal.is_root();
        let missing = match &key_policy.allow {
            Some((s, PrincipalMatch::Direct)) if !needs_iam => {
                return AuthorizationDecision {
                    kind: DecisionKind::Allowed,
                    statements: vec![statement(PolicySource::KeyPolicy, s.clone())],
                    grant_id: None,
                    message: None,
                };
            }
            Some((s, _)) => match identity.allow {
                Some(i) => {
                    return AuthorizationDecision {
                        kind: DecisionKind::Allowed,
                        statements: vec![statement(PolicySource::KeyPolicy, s.clone()), i],
                        grant_id: None,
                        message: None,
                    };
                }
                None => Missing::IdentityBased,
            },
            None => Missing::ResourceBased,
        };
        if let Some(grant_id) =
            grants.and_then(|facts| self.grant_for(caller, entry, action, facts))
        {
            return AuthorizationDecision {
                kind: DecisionKind::AllowedByGrant,
                statements: Vec::new(),
                grant_id: Some(grant_id),
                message: None,
            };
        }
        denied(
            DecisionKind::ImplicitDeny,
            Vec::new(),
            denied_message(caller, action, &entry.arn, Err(missing)),
        )
    }

    /// The grant of `entry` that allows `action` to the caller, if any. A
    /// grant allowing CreateGrant allows only grants it covers: a subset of
    /// its operations, under a constraint at least as strict as its own.
    fn grant_for(
        &self,
        caller: &Caller,
        entry: &KeyEntry,
        action: Action,
        facts: &Facts<'_>,
    ) -> Option<String> {
        let op = action.grant_operation()?;
        let empty = EncryptionContext::new();
        let context = facts.encryption_context.unwrap_or(&empty);
        match (op, facts.grant) {
            (GrantOperation::CreateGrant, Some(new)) => {
                self.grant_covering(entry, caller, new.operations, new.constraints)
            }
            (GrantOperation::CreateGrant, None) => None,
            _ => self.grant_allowing(entry, caller, op, context),
        }
    }

    /// The key policy lockout safety check of CreateKey and PutKeyPolicy:
    /// under `policy`, the call's caller must still be allowed to call
    /// PutKeyPolicy on the key (`key_arn`) — by the policy itself, or by
    /// the policy's delegation to the account and one of the caller's
    /// identity-based policies — with no explicit deny, in this call's
    /// context. Else `MalformedPolicyDocumentException` with AWS's message.
    pub(crate) fn check_lockout(&self, cx: &Call, policy: &Policy, key_arn: &str) -> Result<()> {
        let identity = self.shared.iam.identity(&cx.caller.principal);
        let identity = identity.as_deref();
        let context = self.condition_context(cx, None, identity, &Facts::default());
        let request = Request {
            caller: cx.caller,
            action: Action::PutKeyPolicy.name(),
            resource: key_arn,
            context: &context,
        };
        let evaluation = policy.evaluate(&request);
        let identity = identity_verdict(identity, &request);
        let allowed = evaluation.deny.is_none()
            && identity.deny.is_none()
            && match evaluation.allow {
                Some((_, PrincipalMatch::Direct)) => true,
                Some((_, PrincipalMatch::Account)) => identity.allow.is_some(),
                None => false,
            };
        if allowed {
            Ok(())
        } else {
            Err(kms_err!(
                MalformedPolicyDocument,
                "The new key policy will not allow you to update the key policy in the future."
            ))
        }
    }

    /// Authorizes `action`, an operation on no particular key, for the
    /// call's caller: the account root may; another principal of the
    /// account needs an identity-based policy allowing the action on `*`
    /// and no explicit deny; anyone else is refused.
    pub(crate) fn authorize_account(
        &self,
        cx: &Call,
        action: Action,
        facts: &Facts<'_>,
    ) -> Result<()> {
        if self.is_own_root(cx.caller) {
            return Ok(());
        }
        self.decide_account(cx, action, facts).into_result()
    }

    /// Decides `action`, an operation on no particular key (resource `*`),
    /// for the call's caller.
    pub(crate) fn decide_account(
        &self,
        cx: &Call,
        action: Action,
        facts: &Facts<'_>,
    ) -> AuthorizationDecision {
        let caller = cx.caller;
        let resource = "*";
        let allowed = |statements| AuthorizationDecision {
            kind: DecisionKind::Allowed,
            statements,
            grant_id: None,
            message: None,
        };
        if self.is_own_root(caller) {
            return allowed(Vec::new());
        }
        let identity = self.shared.iam.identity(&caller.principal);
        let identity = identity.as_deref();
        let context = self.condition_context(cx, None, identity, facts);
        let request = Request {
            caller,
            action: action.name(),
            resource,
            context: &context,
        };
        let verdict = identity_verdict(identity, &request);
        if let Some(deny) = verdict.deny {
            return AuthorizationDecision {
                kind: DecisionKind::ExplicitDeny,
                statements: vec![deny],
                grant_id: None,
                message: Some(identity_deny_message(caller, action, resource)),
            };
        }
        let own = caller.principal.account() == Some(&self.account_id);
        match verdict.allow {
            Some(allow) if own => allowed(vec![allow]),
            _ => AuthorizationDecision {
                kind: DecisionKind::ImplicitDeny,
                statements: Vec::new(),
                grant_id: None,
                message: Some(denied_message(
                    caller,
                    action,
                    resource,
                    Err(Missing::IdentityBased),
                )),
            },
        }
    }

    /// The condition keys of a request: the caller's (global keys, with its
    /// IAM record `identity`), the key's, and what the operation adds
    /// (`facts`).
    pub(crate) fn condition_context(
        &self,
        cx: &Call,
        entry: Option<&KeyEntry>,
        identity: Option<&Identity>,
        facts: &Facts<'_>,
    ) -> ConditionContext {
        let mut c = ConditionContext::default();
        let caller = cx.caller;
        let p = &caller.principal;
        // aws:PrincipalArn is the role's ARN for a role session.
        let principal_arn = match p.kind() {
            PrincipalKind::AssumedRole { .. } => {
                caller.match_arns.last().cloned().unwrap_or_else(|| p.arn())
            }
            _ => p.arn(),
        };
        c.set("aws:PrincipalArn", principal_arn);
        c.set("aws:PrincipalType", p.principal_type());
        if let Some(account) = p.account() {
            c.set("aws:PrincipalAccount", account.as_str());
            c.set("kms:CallerAccount", account.as_str());
        } else {
            c.set("aws:PrincipalServiceName", p.arn());
        }
        match p.kind() {
            PrincipalKind::Root { account } => c.set("aws:userid", account.as_str()),
            PrincipalKind::User { name, .. } => {
                c.set("aws:username", name.as_str());
                if let Some(i) = &identity {
                    c.set("aws:userid", i.unique_id.as_str());
                }
            }
            PrincipalKind::AssumedRole { session, .. } => {
                if let Some(i) = &identity {
                    c.set("aws:userid", format!("{}:{session}", i.unique_id));
                }
            }
            PrincipalKind::Role { .. } => {
                if let Some(i) = &identity {
                    c.set("aws:userid", i.unique_id.as_str());
                }
            }
            PrincipalKind::Service { .. } => {}
        }
        if let Some(i) = &identity {
            for (k, v) in &i.tags {
                c.set(&format!("aws:PrincipalTag/{k}"), v.as_str());
            }
        }
        c.set("aws:CurrentTime", iso8601(cx.now));
        c.set("aws:EpochTime", (cx.now.as_millis() / 1000).to_string());
        if let Some(ip) = &caller.source_ip {
            c.set("aws:SourceIp", ip.to_string());
        }
        if let Some(secure) = caller.secure_transport {
            c.set("aws:SecureTransport", if secure { "true" } else { "false" });
        }
        if let Some(service) = &caller.via_service {
            c.set("kms:ViaService", service.as_str());
        }
        if let Some(entry) = entry {
            c.set("kms:KeyOrigin", entry.backing.origin().as_str());
            c.set("kms:KeySpec", "SYMMETRIC_DEFAULT");
            c.set("kms:CustomerMasterKeySpec", "SYMMETRIC_DEFAULT");
            c.set("kms:KeyUsage", "ENCRYPT_DECRYPT");
            let multi_region = self.read_key(entry, |m| {
                m.multi_region.as_ref().map(|mr| mr.key_type(&self.region))
            });
            c.set("kms:MultiRegion", bool_str(multi_region.is_some()));
            if let Some(key_type) = multi_region {
                c.set("kms:MultiRegionKeyType", key_type.as_str());
            }
            for tag in self.read_key(entry, |m| m.tags.clone()) {
                c.set(&format!("aws:ResourceTag/{}", tag.tag_key), tag.tag_value);
            }
            let aliases = self.read_aliases(|t| {
                let keys = std::collections::BTreeSet::from([entry.id]);
                t.names_targeting(&keys)
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
            });
            c.set_values("kms:ResourceAliases", aliases);
        }
        if let Some(new) = facts.new_key {
            c.set("kms:KeyOrigin", new.origin);
            c.set("kms:KeySpec", new.key_spec);
            c.set("kms:CustomerMasterKeySpec", new.key_spec);
            c.set("kms:KeyUsage", new.key_usage);
            c.set("kms:MultiRegion", bool_str(new.multi_region));
            if new.multi_region {
                c.set("kms:MultiRegionKeyType", "PRIMARY");
            }
        }
        if let Some(ctx) = facts.encryption_context {
            for (k, v) in ctx {
                c.set(&format!("kms:EncryptionContext:{k}"), v.as_str());
            }
            c.set_values("kms:EncryptionContextKeys", ctx.keys().cloned().collect());
        }
        if let Some(alg) = facts.encryption_algorithm {
            c.set("kms:EncryptionAlgorithm", alg);
        }
        if let Some(alg) = facts.signing_algorithm {
            c.set("kms:SigningAlgorithm", alg);
        }
        if let Some(t) = facts.message_type {
            c.set("kms:MessageType", t);
        }
        if let Some(alg) = facts.key_agreement_algorithm {
            c.set("kms:KeyAgreementAlgorithm", alg);
        }
        if let Some(spec) = facts.data_key_pair_spec {
            c.set("kms:DataKeyPairSpec", spec);
        }
        if let Some(alias) = facts.key_id.and_then(request_alias) {
            c.set("kms:RequestAlias", alias);
        }
        if let Some(b) = facts.bypass_lockout {
            c.set("kms:BypassPolicyLockoutSafetyCheck", bool_str(b));
        }
        if let Some(b) = facts.re_encrypt_on_same_key {
            c.set("kms:ReEncryptOnSameKey", bool_str(b));
        }
        if let Some(days) = facts.pending_window_days {
            c.set(
                "kms:ScheduleKeyDeletionPendingWindowInDays",
                days.to_string(),
            );
        }
        if let Some(region) = facts.replica_region {
            c.set("kms:ReplicaRegion", region);
        }
        if let Some(region) = facts.primary_region {
            c.set("kms:PrimaryRegion", region);
        }
        if let Some(days) = facts.rotation_period_days {
            c.set("kms:RotationPeriodInDays", days.to_string());
        }
        if let Some((algorithm, spec)) = facts.wrapping {
            c.set("kms:WrappingAlgorithm", algorithm);
            c.set("kms:WrappingKeySpec", spec);
        }
        if let Some((model, valid_to)) = facts.expiration {
            c.set("kms:ExpirationModel", model);
            if let Some(t) = valid_to {
                c.set("kms:ValidTo", (t.as_millis() / 1000).to_string());
            }
        }
        if let Some(tags) = facts.request_tags {
            for tag in tags {
                c.set(
                    &format!("aws:RequestTag/{}", tag.tag_key),
                    tag.tag_value.as_str(),
                );
            }
            c.set_values(
                "aws:TagKeys",
                tags.iter().map(|t| t.tag_key.clone()).collect(),
            );
        }
        if let Some(keys) = facts.tag_keys {
            c.set_values("aws:TagKeys", keys.to_vec());
        }
        if let Some(g) = facts.grant {
            c.set_values(
                "kms:GrantOperations",
                g.operations.iter().map(|o| o.as_str().to_owned()).collect(),
            );
            c.set("kms:GranteePrincipal", g.grantee);
            if let Some(r) = g.retiring {
                c.set("kms:RetiringPrincipal", r);
            }
            if let Some(t) = g.constraints {
                if t.encryption_context_equals.is_some() {
                    c.set("kms:GrantConstraintType", "EncryptionContextEquals");
                } else if t.encryption_context_subset.is_some() {
                    c.set("kms:GrantConstraintType", "EncryptionContextSubset");
                }
            }
            c.set(
                "kms:GrantIsForAWSResource",
                bool_str(caller.via_service.is_some()),
            );
        }
        c
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// `2026-11-30T02:57:21Z`: a time as `aws:CurrentTime` shows it.
pub(crate) fn iso8601(t: Timestamp) -> String {
    let (y, m, d, h, mi, s) = crate::clock::civil(t.as_millis() / 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_time_is_iso_8601_utc() {
        assert_eq!(iso8601(Timestamp::from_millis(0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            iso8601(Timestamp::from_millis(1_582_934_400_000 + 3_723_000)),
            "2020-02-29T01:02:03Z"
        );
        assert_eq!(
            iso8601(Timestamp::from_millis(4_102_444_799_000)),
            "2099-12-31T23:59:59Z"
        );
    }

    #[test]
    fn action_names_are_iam_names_and_cross_account_is_aws_list() {
        assert_eq!(Action::from_name("KMS:encrypt"), Some(Action::Encrypt));
        assert_eq!(Action::from_name("kms:Nope"), None);
        let cross: Vec<_> = [
            Action::Encrypt,
            Action::DisableKey,
            Action::DescribeKey,
            Action::PutKeyPolicy,
            Action::CreateGrant,
        ]
        .into_iter()
        .filter(|a| a.cross_account())
        .collect();
        assert_eq!(
            cross,
            [Action::Encrypt, Action::DescribeKey, Action::CreateGrant]
        );
    }
}
