//! The IAM policy language, as KMS key policies and IAM identity policies
//! use it: [`Policy::parse`] checks a document and compiles it,
//! [`Policy::evaluate`] answers one request.
//!
//! (Interface only: the engine lands with the policy-language work.)

use crate::error::Result;

use super::Caller;

/// Which kind of policy a document is: the checks differ (a key policy's
/// statements must name principals; an identity policy's must not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// A key policy (resource-based): `Principal`/`NotPrincipal` required.
    Key,
    /// An identity-based policy attached to a user or role: no principal.
    Identity,
}

/// A checked, compiled policy document.
#[derive(Clone, Debug)]
pub struct Policy {
    _private: (),
}

/// One statement of a policy, as reported in a decision: its position
/// (0-based, in document order) and its `Sid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementRef {
    /// The statement's position in the document, from 0.
    pub index: usize,
    /// The statement's `Sid`, if it has one.
    pub sid: Option<String>,
}

/// How a key policy statement's principal matched the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalMatch {
    /// It names the caller itself (its ARN, its role's ARN, `*`, or the
    /// account root when the caller is that root), or the policy is an
    /// identity policy.
    Direct,
    /// It names the caller's account (`"111122223333"` or
    /// `arn:aws:iam::111122223333:root`) and the caller is not the root: the
    /// account's IAM policies decide.
    Account,
}

/// What one policy says about one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// The first `Deny` statement (in document order) that applies.
    pub deny: Option<StatementRef>,
    /// The first `Allow` statement that applies with a
    /// [`PrincipalMatch::Direct`] match, else the first that applies with an
    /// [`PrincipalMatch::Account`] match.
    pub allow: Option<(StatementRef, PrincipalMatch)>,
}

/// The request a policy is evaluated against.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// Who asks.
    pub caller: &'a Caller,
    /// The action, such as `kms:Encrypt`.
    pub action: &'a str,
    /// The resource, a key ARN.
    pub resource: &'a str,
    /// The condition keys of the request.
    pub context: &'a ConditionContext,
}

/// The condition keys of a request and their values. Key names compare
/// case-insensitively; values are strings (numbers, dates and booleans in
/// their policy spelling).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConditionContext {
    /// Lower-cased key name → values. A single-valued key has one value; a
    /// multivalued key (`kms:EncryptionContextKeys`, `aws:TagKeys`, …) may
    /// have none or several.
    entries: Vec<(String, Vec<String>)>,
}

impl ConditionContext {
    /// Sets the single-valued key `key` to `value`.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.set_values(key, vec![value.into()]);
    }

    /// Sets the multivalued key `key` to `values`.
    pub fn set_values(&mut self, key: &str, values: Vec<String>) {
        let key = key.to_ascii_lowercase();
        self.entries.retain(|(k, _)| *k != key);
        self.entries.push((key, values));
    }

    /// The values of `key` (any case), `None` if the request has no such key.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }
}

impl Policy {
    /// Checks `text` as a policy of `kind` and compiles it; a document that
    /// breaks the grammar is `MalformedPolicyDocumentException` naming the
    /// problem.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Policy> {
        let _ = (text, kind);
        Ok(Policy { _private: () })
    }

    /// What this policy says about `request`.
    pub fn evaluate(&self, request: &Request<'_>) -> Evaluation {
        let _ = request;
        Evaluation::default()
    }
}
