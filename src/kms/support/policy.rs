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
//!    `Sid` and `Condition`. As the API documents, a statement without an
//!    action or resource element is accepted and has no effect.
//! 4. unless `BypassPolicyLockoutSafetyCheck` is true, a policy under which
//!    the caller can still call PutKeyPolicy on the key, else
//!    `MalformedPolicyDocumentException`.
//!
//! The lockout check is conservative where conditions make the outcome
//! unknowable: the caller keeps access only if an `Allow` statement without
//! a `Condition` grants it and no `Deny` statement (with or without a
//! condition) takes it away.

use serde_json::{Map, Value};

use crate::error::{Error, Result, kms_err};
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

/// Which principals a statement names.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Principals {
    /// `"*"`: everyone.
    Everyone,
    /// `{"AWS": [...], "Service": [...], ...}`: the AWS principals (other
    /// kinds never match the account root).
    Named { aws: Vec<String> },
}

/// `X` or `NotX`, with its values.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Element<T> {
    Is(T),
    Not(T),
}

/// One statement, as far as the lockout check needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Statement {
    allow: bool,
    principal: Element<Principals>,
    action: Option<Element<Vec<String>>>,
    resource: Option<Element<Vec<String>>>,
    has_condition: bool,
}

/// A key policy that passed the grammar checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PolicyDocument {
    statements: Vec<Statement>,
}

fn malformed(what: impl std::fmt::Display) -> Error {
    kms_err!(
        MalformedPolicyDocument,
        "The key policy is malformed: {what}. Fix the document; see the IAM JSON policy grammar."
    )
}

/// Parses and checks a policy that passed [`check_policy_shape`]: the size
/// quota (`LimitExceededException`), then JSON and the policy grammar
/// (`MalformedPolicyDocumentException`).
pub(crate) fn parse_policy(policy: &str) -> Result<PolicyDocument> {
    if policy.len() > MAX_KEY_POLICY_BYTES {
        return Err(kms_err!(
            LimitExceeded,
            "The key policy is {} bytes; a key policy can be at most {MAX_KEY_POLICY_BYTES} bytes. Shorten it.",
            policy.len()
        ));
    }
    let value: Value = serde_json::from_str(policy)
        .map_err(|e| malformed(format_args!("it is not valid JSON ({e})")))?;
    let Value::Object(top) = value else {
        return Err(malformed("the document must be a JSON object"));
    };
    for key in top.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            return Err(malformed(format_args!(
                "unknown top-level element '{key}' (allowed: Version, Id, Statement)"
            )));
        }
    }
    if let Some(v) = top.get("Version") {
        match v.as_str() {
            Some("2012-10-17" | "2008-10-17") => {}
            _ => {
                return Err(malformed(
                    "Version must be \"2012-10-17\" or \"2008-10-17\"",
                ));
            }
        }
    }
    if let Some(v) = top.get("Id")
        && !v.is_string()
    {
        return Err(malformed("Id must be a string"));
    }
    let statements = match top.get("Statement") {
        None => return Err(malformed("the Statement element is missing")),
        Some(Value::Object(s)) => vec![parse_statement(s, 0)?],
        Some(Value::Array(list)) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, s)| match s {
                Value::Object(s) => parse_statement(s, i),
                _ => Err(malformed(format_args!("Statement {i} must be an object"))),
            })
            .collect::<Result<Vec<_>>>()?,
        Some(_) => {
            return Err(malformed(
                "Statement must be a statement object or a non-empty list of them",
            ));
        }
    };
    Ok(PolicyDocument { statements })
}

fn parse_statement(s: &Map<String, Value>, i: usize) -> Result<Statement> {
    for key in s.keys() {
        if !matches!(
            key.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        ) {
            return Err(malformed(format_args!(
                "statement {i} has an unknown element '{key}'"
            )));
        }
    }
    if let Some(v) = s.get("Sid")
        && !v.is_string()
    {
        return Err(malformed(format_args!(
            "the Sid of statement {i} must be a string"
        )));
    }
    let allow = match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => true,
        Some("Deny") => false,
        _ => {
            return Err(malformed(format_args!(
                "statement {i} must have an Effect of \"Allow\" or \"Deny\""
            )));
        }
    };
    let principal = match (s.get("Principal"), s.get("NotPrincipal")) {
        (Some(p), None) => Element::Is(parse_principal(p, i)?),
        (None, Some(p)) => Element::Not(parse_principal(p, i)?),
        (None, None) => {
            return Err(malformed(format_args!(
                "statement {i} names no principal; every key policy statement needs a Principal"
            )));
        }
        (Some(_), Some(_)) => {
            return Err(malformed(format_args!(
                "statement {i} has both Principal and NotPrincipal"
            )));
        }
    };
    let action = either(s, "Action", "NotAction", i, check_action)?;
    let resource = either(s, "Resource", "NotResource", i, |_| Ok(()))?;
    let has_condition = match s.get("Condition") {
        None => false,
        Some(c) => {
            check_condition(c, i)?;
            true
        }
    };
    Ok(Statement {
        allow,
        principal,
        action,
        resource,
        has_condition,
    })
}

/// A string, or a non-empty list of non-empty strings.
fn string_list(v: &Value, what: &str, i: usize) -> Result<Vec<String>> {
    let bad = || {
        malformed(format_args!(
            "{what} of statement {i} must be a non-empty string or a non-empty list of them"
        ))
    };
    let list = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|x| x.as_str().map(str::to_owned).ok_or_else(bad))
            .collect::<Result<Vec<_>>>()?,
        _ => return Err(bad()),
    };
    if list.iter().any(String::is_empty) {
        return Err(bad());
    }
    Ok(list)
}

fn either(
    s: &Map<String, Value>,
    is: &str,
    not: &str,
    i: usize,
    check: impl Fn(&str) -> Result<()>,
) -> Result<Option<Element<Vec<String>>>> {
    let element = match (s.get(is), s.get(not)) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(malformed(format_args!(
                "statement {i} has both {is} and {not}"
            )));
        }
        (Some(v), None) => Element::Is(string_list(v, is, i)?),
        (None, Some(v)) => Element::Not(string_list(v, not, i)?),
    };
    let (Element::Is(values) | Element::Not(values)) = &element;
    for v in values {
        check(v)?;
    }
    Ok(Some(element))
}

/// `*` or `service:action`, where the action may use `*` and `?`.
fn check_action(a: &str) -> Result<()> {
    if a == "*" {
        return Ok(());
    }
    let ok = a.split_once(':').is_some_and(|(service, action)| {
        !service.is_empty()
            && service
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !action.is_empty()
            && action
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
    });
    if ok {
        Ok(())
    } else {
        Err(malformed(format_args!(
            "action '{a}' is not of the form \"service:Action\" (for example \"kms:Encrypt\" or \"kms:*\")"
        )))
    }
}

fn parse_principal(p: &Value, i: usize) -> Result<Principals> {
    match p {
        Value::String(s) if s == "*" => Ok(Principals::Everyone),
        Value::Object(m) if !m.is_empty() => {
            let mut aws = Vec::new();
            for (kind, v) in m {
                let values = string_list(v, &format!("Principal {kind}"), i)?;
                match kind.as_str() {
                    "AWS" => {
                        for a in &values {
                            check_aws_principal(a, i)?;
                        }
                        aws.extend(values);
                    }
                    "Service" | "Federated" | "CanonicalUser" => {}
                    other => {
                        return Err(malformed(format_args!(
                            "statement {i} has an unknown principal type '{other}' (allowed: AWS, Service, Federated, CanonicalUser)"
                        )));
                    }
                }
            }
            Ok(Principals::Named { aws })
        }
        _ => Err(malformed(format_args!(
            "the principal of statement {i} must be \"*\" or an object such as {{\"AWS\": \"arn:aws:iam::111122223333:root\"}}"
        ))),
    }
}

/// An AWS principal: `*`, a 12-digit account id, or an IAM or STS ARN.
fn check_aws_principal(a: &str, i: usize) -> Result<()> {
    let is_account = a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit());
    let is_arn = {
        let parts: Vec<&str> = a.splitn(6, ':').collect();
        matches!(parts[..], ["arn", partition, "iam" | "sts", "", account, resource]
            if partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && !resource.is_empty())
    };
    if a == "*" || is_account || is_arn {
        Ok(())
    } else {
        Err(malformed(format_args!(
            "statement {i} has an invalid AWS principal '{a}' (use an account id, an IAM or STS ARN, or \"*\")"
        )))
    }
}

/// `{"Operator": {"key": value or [values]}}`; values are strings, numbers
/// or booleans.
fn check_condition(c: &Value, i: usize) -> Result<()> {
    let bad = || {
        malformed(format_args!(
            "the Condition of statement {i} must map operators to {{\"key\": value or [values]}}"
        ))
    };
    let Value::Object(ops) = c else {
        return Err(bad());
    };
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    for block in ops.values() {
        let Value::Object(keys) = block else {
            return Err(bad());
        };
        for v in keys.values() {
            let ok = match v {
                Value::Array(a) => a.iter().all(scalar),
                v => scalar(v),
            };
            if !ok {
                return Err(bad());
            }
        }
    }
    Ok(())
}

/// `*`/`?` wildcard match, as IAM matches actions and resources.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

impl PolicyDocument {
    /// Whether the account root may call PutKeyPolicy on `key_arn` under
    /// this policy (see the module documentation for the rule).
    fn root_can_put_policy(&self, account: &AccountId, key_arn: &str) -> bool {
        let root = format!(":iam::{account}:root");
        let names_root = |p: &Principals| match p {
            Principals::Everyone => true,
            Principals::Named { aws } => aws.iter().any(|a| {
                a == "*"
                    || a == account.as_str()
                    || (a.starts_with("arn:aws")
                        && a.ends_with(&root)
                        && a.matches(':').count() == 5)
            }),
        };
        let action_matches = |a: &String| {
            wildcard_match(
                &a.to_ascii_lowercase(),
                &PUT_KEY_POLICY_ACTION.to_ascii_lowercase(),
            )
        };
        let resource_matches = |r: &String| wildcard_match(r, key_arn);
        let mut allowed = false;
        for s in &self.statements {
            let principal = match &s.principal {
                Element::Is(p) => names_root(p),
                Element::Not(p) => !names_root(p),
            };
            let action = match &s.action {
                None => false,
                Some(Element::Is(v)) => v.iter().any(action_matches),
                Some(Element::Not(v)) => !v.iter().any(action_matches),
            };
            let resource = match &s.resource {
                None => false,
                Some(Element::Is(v)) => v.iter().any(resource_matches),
                Some(Element::Not(v)) => !v.iter().any(resource_matches),
            };
            if !(principal && action && resource) {
                continue;
            }
            if !s.allow {
                return false;
            }
            if !s.has_condition {
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
    fn wildcards_match_like_iam() {
        assert!(wildcard_match("kms:*", "kms:putkeypolicy"));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("kms:put*policy", "kms:putkeypolicy"));
        assert!(wildcard_match("kms:putkeypolic?", "kms:putkeypolicy"));
        assert!(!wildcard_match("kms:get*", "kms:putkeypolicy"));
        assert!(!wildcard_match("kms:putkeypolicy?", "kms:putkeypolicy"));
        assert!(wildcard_match("a*b*c", "aXbYc"));
        assert!(!wildcard_match("a*b*c", "aXbY"));
        assert!(wildcard_match(
            "arn:aws:kms:*:111122223333:key/*",
            "arn:aws:kms:us-west-2:111122223333:key/x"
        ));
    }

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
