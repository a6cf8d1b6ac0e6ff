//! Key policy documents: the default key policy, the checks a policy
//! document must pass (CreateKey and PutKeyPolicy make them), and the key
//! policy lockout safety check. The operations are in `ops/policy.rs`.
//!
//! # The caller
//!
//! This crate has no IAM: every request is made by the **account root**,
//! `arn:aws:iam::<account>:root`. The lockout safety check therefore asks
//! whether the new policy still lets the account root call
//! `kms:PutKeyPolicy` on the key.
//!
//! # What a policy must be
//!
//! In this order, as the API model and the quotas say:
//! 1. 1–131,072 characters of `[\u0009\u000A\u000D\u0020-\u00FF]`, else
//!    `ValidationException` (the model's constraint);
//! 2. at most 32,768 bytes, else `LimitExceededException` (the key policy
//!    size quota, DESIGN decision 2);
//! 3. a JSON document with the policy grammar's structure, else
//!    `MalformedPolicyDocumentException`: an object with `Statement` (one
//!    statement or a non-empty list) and optionally `Version`
//!    (`2012-10-17` or `2008-10-17`) and `Id`; each statement has `Effect`
//!    (`Allow` or `Deny`), exactly one of `Principal`/`NotPrincipal` (key
//!    policy statements must name principals), at most one of
//!    `Action`/`NotAction` and of `Resource`/`NotResource`, and optionally
//!    `Sid` and `Condition` (known operators, with values their operator
//!    can parse). As the API documents, a statement without an action or
//!    resource element is accepted and has no effect. The policy engine
//!    (`crate::iam::policy`, [`Policy::parse`] with [`PolicyKind::Key`])
//!    makes these checks.
//! 4. unless `BypassPolicyLockoutSafetyCheck` is true, a policy under which
//!    the caller can still call PutKeyPolicy on the key, else
//!    `MalformedPolicyDocumentException`.
//!
//! The lockout check is conservative where conditions make the outcome
//! unknowable: the caller keeps access only if an `Allow` statement without
//! a `Condition` grants it and no `Deny` statement (with or without a
//! condition) takes it away.

use crate::error::{Error, Result, kms_err};
use crate::iam::policy::{ConditionContext, Policy, PolicyKind, Request};
use crate::iam::{Caller, Principal};
use crate::ids::AccountId;

/// The name of the key policy callers manage; the only one PutKeyPolicy sets.
pub const DEFAULT_POLICY_NAME: &str = "default";
/// The key policy size quota (not adjustable), in bytes.
pub const MAX_KEY_POLICY_BYTES: usize = 32_768;
/// The model's length limit of a policy, in characters.
const MODEL_MAX_POLICY_CHARS: usize = 131_072;
/// The action the lockout safety check asks about.
const PUT_KEY_POLICY_ACTION: &str = "kms:PutKeyPolicy";

/// The default key policy KMS gives a key created without one: the account
/// root principal may do everything with the key (`kms:*`), which lets IAM
/// policies in the account grant access to it.
///
/// ```
/// let account = "111122223333".parse().unwrap();
/// let policy = kms_keystore::default_key_policy(&account);
/// assert!(policy.contains("arn:aws:iam::111122223333:root"));
/// assert!(policy.contains("\"kms:*\""));
/// ```
pub fn default_key_policy(account: &AccountId) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {{
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:aws:iam::{account}:root"
    }},
    "Action" : "kms:*",
    "Resource" : "*"
  }} ]
}}"#
    )
}

/// Checks a policy against the model: 1–131,072 characters of
/// `[\u0009\u000A\u000D\u0020-\u00FF]` (`ValidationException`).
pub(crate) fn check_policy_shape(policy: &str) -> Result<()> {
    let n = policy.chars().count();
    if n == 0 {
        return Err(Error::validation(
            "policy",
            "Member must have length greater than or equal to 1",
        ));
    }
    if n > MODEL_MAX_POLICY_CHARS {
        return Err(Error::validation(
            "policy",
            format_args!("Member must have length less than or equal to {MODEL_MAX_POLICY_CHARS}"),
        ));
    }
    let allowed = |c: char| matches!(c, '\u{09}' | '\u{0A}' | '\u{0D}' | '\u{20}'..='\u{FF}');
    if !policy.chars().all(allowed) {
        return Err(Error::validation(
            "policy",
            r"Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+",
        ));
    }
    Ok(())
}

/// A key policy that passed the grammar checks (the engine's compiled
/// policy).
#[derive(Clone, Debug)]
pub(crate) struct PolicyDocument {
    policy: Policy,
}

/// Parses and checks a policy that passed [`check_policy_shape`]: the size
/// quota (`LimitExceededException`), then JSON and the policy grammar
/// (`MalformedPolicyDocumentException`, from [`Policy::parse`]).
pub(crate) fn parse_policy(policy: &str) -> Result<PolicyDocument> {
    if policy.len() > MAX_KEY_POLICY_BYTES {
        return Err(kms_err!(
            LimitExceeded,
            "The key policy is {} bytes; a key policy can be at most {MAX_KEY_POLICY_BYTES} bytes. Shorten it.",
            policy.len()
        ));
    }
    Ok(PolicyDocument {
        policy: Policy::parse(policy, PolicyKind::Key)?,
    })
}

impl PolicyDocument {
    /// Whether the account root may call PutKeyPolicy on `key_arn` under
    /// this policy (see the module documentation for the rule): conditions
    /// are not evaluated; a conditional `Allow` does not count, a
    /// conditional `Deny` does.
    fn root_can_put_policy(&self, account: &AccountId, key_arn: &str) -> bool {
        let caller = Caller::new(Principal::root(account.clone()));
        let context = ConditionContext::default();
        let request = Request {
            caller: &caller,
            action: PUT_KEY_POLICY_ACTION,
            resource: key_arn,
            context: &context,
        };
        let mut allowed = false;
        for s in self.policy.statements() {
            if s.scope_match(&request).is_none() {
                continue;
            }
            if !s.is_allow() {
                return false;
            }
            if !s.has_condition() {
                allowed = true;
            }
        }
        allowed
    }

    /// The key policy lockout safety check: the caller (the account root)
    /// must still be able to call PutKeyPolicy on the key, else
    /// `MalformedPolicyDocumentException`.
    pub(crate) fn check_lockout(&self, account: &AccountId, key_arn: &str) -> Result<()> {
        if self.root_can_put_policy(account, key_arn) {
            return Ok(());
        }
        Err(kms_err!(
            MalformedPolicyDocument,
            "The new key policy will not allow you to update the key policy in the future: it does not allow the caller (arn:aws:iam::{account}:root) kms:PutKeyPolicy on {key_arn} without conditions. Add such a statement, or set BypassPolicyLockoutSafetyCheck to true if you mean to lock the caller out."
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_passes_every_check() {
        let account: AccountId = "111122223333".parse().unwrap();
        let text = default_key_policy(&account);
        check_policy_shape(&text).unwrap();
        let doc = parse_policy(&text).unwrap();
        doc.check_lockout(&account, "arn:aws:kms:us-west-2:111122223333:key/x")
            .unwrap();
        let other: AccountId = "444455556666".parse().unwrap();
        assert!(
            doc.check_lockout(&other, "arn:aws:kms:us-west-2:444455556666:key/x")
                .is_err()
        );
    }
}
