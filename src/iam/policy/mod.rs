//! The IAM policy language, as KMS key policies and IAM identity policies
//! use it: [`Policy::parse`] checks a document and compiles it,
//! [`Policy::evaluate`] answers one request.
//!
//! The exact semantics are those of the policy spec shared with the
//! reference evaluator of `tests/policy_differential.rs`. The parts:
//! `document` (the grammar, checks and compilation), `condition` (the
//! operators), `matching` (globs, ARNs, principals), `variables` (policy
//! variables). Everything a request does not determine is compiled at
//! parse time: [`Policy::decide`] allocates nothing for statements without
//! conditions or variables.

mod condition;
mod document;
mod matching;
#[cfg(test)]
mod tests;
mod variables;

use crate::error::Result;

use super::Caller;
use document::{Element, ResourcePattern};
use matching::match_tokens;

pub use document::Statement;

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
    kind: PolicyKind,
    statements: Vec<Statement>,
    context_free: bool,
}

/// [`Evaluation`] by statement index: what [`Policy::decide`] answers
/// without allocating ([`Policy::statement_ref`] names a statement).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// The index of the first applying `Deny` statement.
    pub deny: Option<usize>,
    /// The index of the deciding `Allow` statement and how it matched.
    pub allow: Option<(usize, PrincipalMatch)>,
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
        let doc = document::parse(text, kind)?;
        let context_free = doc.statements.iter().all(|s| !s.depends_on_context());
        Ok(Policy {
            kind,
            statements: doc.statements,
            context_free,
        })
    }

    /// What this policy says about `request`.
    pub fn evaluate(&self, request: &Request<'_>) -> Evaluation {
        let d = self.decide(request);
        Evaluation {
            deny: d.deny.map(|i| self.statement_ref(i)),
            allow: d.allow.map(|(i, m)| (self.statement_ref(i), m)),
        }
    }

    /// [`Policy::evaluate`] by statement index; allocates nothing unless a
    /// statement it must look at has a condition or a policy variable.
    pub fn decide(&self, request: &Request<'_>) -> Decision {
        let mut d = Decision::default();
        let mut account_allow = None;
        for s in &self.statements {
            let wanted = if s.allow {
                d.allow.is_none()
            } else {
                d.deny.is_none()
            };
            if !wanted {
                continue;
            }
            let Some(m) = s.scope_match(request) else {
                continue;
            };
            if !s.condition_holds(request.context) {
                continue;
            }
            match (s.allow, m) {
                (false, _) => d.deny = Some(s.index),
                (true, PrincipalMatch::Direct) => d.allow = Some((s.index, m)),
                (true, PrincipalMatch::Account) => {
                    account_allow = account_allow.or(Some((s.index, m)));
                }
            }
            if d.deny.is_some() && d.allow.is_some() {
                break;
            }
        }
        d.allow = d.allow.or(account_allow);
        d
    }

    /// The statement at `index` as a decision reports it.
    ///
    /// # Panics
    ///
    /// If `index` is not a statement of this policy.
    pub fn statement_ref(&self, index: usize) -> StatementRef {
        StatementRef {
            index,
            sid: self.statements[index].sid.clone(),
        }
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// The kind the policy was parsed as.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// True when no statement has a `Condition` or a policy variable: the
    /// decision depends only on the caller, the action and the resource
    /// (and may be cached by them).
    pub fn is_context_free(&self) -> bool {
        self.context_free
    }
}

impl Statement {
    /// The statement's position in the document, from 0.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The statement's `Sid`.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// True for `"Effect": "Allow"`, false for `"Deny"`.
    pub fn is_allow(&self) -> bool {
        self.allow
    }

    /// True when the statement has a `Condition` element (even an empty one).
    pub fn has_condition(&self) -> bool {
        self.condition.is_some()
    }

    fn depends_on_context(&self) -> bool {
        let resource_vars = match &self.resource {
            Some(Element::Is(r) | Element::Not(r)) => {
                r.iter().any(|p| matches!(p, ResourcePattern::Template(_)))
            }
            None => false,
        };
        self.condition.is_some() || resource_vars
    }

    /// Whether the principal, action and resource elements apply to
    /// `request` (the condition aside), and how the principal matched (an
    /// identity policy's statements match [`PrincipalMatch::Direct`]).
    pub fn scope_match(&self, request: &Request<'_>) -> Option<PrincipalMatch> {
        let m = match &self.principal {
            None => PrincipalMatch::Direct,
            Some(Element::Is(p)) => p.match_caller(request.caller)?,
            Some(Element::Not(p)) => match p.match_caller(request.caller) {
                None => PrincipalMatch::Direct,
                Some(_) => return None,
            },
        };
        let action_hit =
            |list: &[matching::Glob]| list.iter().any(|g| g.matches(request.action, true));
        let action = match &self.action {
            None => false,
            Some(Element::Is(list)) => action_hit(list),
            Some(Element::Not(list)) => !action_hit(list),
        };
        if !action {
            return None;
        }
        let resource_hit = |list: &[ResourcePattern]| {
            list.iter().any(|p| match p {
                ResourcePattern::Fixed(g) => g.matches(request.resource, false),
                ResourcePattern::Template(t) => t
                    .resolve(request.context)
                    .is_some_and(|toks| match_tokens(&toks, request.resource, false)),
            })
        };
        let resource = match &self.resource {
            None => false,
            Some(Element::Is(list)) => resource_hit(list),
            Some(Element::Not(list)) => !resource_hit(list),
        };
        resource.then_some(m)
    }

    /// Whether every `Condition` entry holds for `context` (true without a
    /// `Condition` element).
    pub fn condition_holds(&self, context: &ConditionContext) -> bool {
        self.condition
            .as_ref()
            .is_none_or(|c| c.iter().all(|c| c.holds(context)))
    }
}
