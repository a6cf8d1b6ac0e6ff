//! Key policy documents: the default key policy and the checks a policy
//! document must pass (CreateKey and PutKeyPolicy make them). The
//! operations are in `ops/policy.rs`; the lockout safety check, which
//! evaluates the new policy for the caller, is authorization's
//! (`authorize.rs`).
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
//!    the caller can still call PutKeyPolicy on the key — evaluated for the
//!    caller in the request's context, with its identity-based policies
//!    where the policy delegates to its account — else
//!    `MalformedPolicyDocumentException`.

use crate::error::{Error, Result, Shown, Violation, kms_err};
use crate::iam::policy::{Policy, PolicyKind};
use crate::ids::AccountId;

/// The name of the key policy callers manage; the only one PutKeyPolicy sets.
pub const DEFAULT_POLICY_NAME: &str = "default";
/// The key policy size quota (not adjustable), in bytes.
pub const MAX_KEY_POLICY_BYTES: usize = 32_768;
/// The model's length limit of a policy, in characters.
const MODEL_MAX_POLICY_CHARS: usize = 131_072;

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
    let shown = || Shown::Value(policy.to_owned());
    let allowed = |c: char| matches!(c, '\u{09}' | '\u{0A}' | '\u{0D}' | '\u{20}'..='\u{FF}');
    let ok = !policy.is_empty() && policy.chars().all(allowed);
    Error::check_all(
        [
            Violation::pattern("policy", ok, shown, r"[\u0009\u000A\u000D\u0020-\u00FF]+"),
            Violation::length("policy", policy, shown, 1, MODEL_MAX_POLICY_CHARS),
        ]
        .into_iter()
        .flatten(),
    )
}

/// Parses and checks a policy that passed [`check_policy_shape`]: the size
/// quota (`LimitExceededException`), then JSON and the policy grammar
/// (`MalformedPolicyDocumentException`, from [`Policy::parse`]), compiled.
pub(crate) fn parse_policy(policy: &str) -> Result<Policy> {
    if policy.len() > MAX_KEY_POLICY_BYTES {
        return Err(kms_err!(
            LimitExceeded,
            "The key policy is {} bytes; a key policy can be at most {MAX_KEY_POLICY_BYTES} bytes. Shorten it.",
            policy.len()
        ));
    }
    Policy::parse(policy, PolicyKind::Key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_passes_every_check() {
        let account: AccountId = "111122223333".parse().unwrap();
        let text = default_key_policy(&account);
        check_policy_shape(&text).unwrap();
        let policy = parse_policy(&text).unwrap();
        assert!(policy.is_context_free());
    }
}
