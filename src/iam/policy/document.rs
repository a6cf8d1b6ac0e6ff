//! The policy grammar: a JSON document checked element by element and
//! compiled into [`Statement`]s. Every refusal is
//! `MalformedPolicyDocumentException` naming the problem.

use serde_json::{Map, Value};

use crate::error::{Error, Result, kms_err};
use crate::iam::AwsPartition;

use super::PolicyKind;
use super::condition::Condition;
use super::matching::{Glob, Principals};
use super::variables::Template;

/// `X` or `NotX`, with its values.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Element<T> {
    /// `X`: applies when a value matches.
    Is(T),
    /// `NotX`: applies when no value matches.
    Not(T),
}

/// A resource pattern: compiled, or with policy variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ResourcePattern {
    /// No variables.
    Fixed(Glob),
    /// With variables, resolved per request.
    Template(Template),
}

/// One compiled statement of a policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// Position in the document.
    pub(super) index: usize,
    /// `Sid`.
    pub(super) sid: Option<String>,
    /// `Effect: Allow`.
    pub(super) allow: bool,
    /// `None` for an identity policy (no principal element).
    pub(super) principal: Option<Element<Principals>>,
    /// `None`: no action element, the statement never applies.
    pub(super) action: Option<Element<Vec<Glob>>>,
    /// `None`: no resource element, the statement never applies.
    pub(super) resource: Option<Element<Vec<ResourcePattern>>>,
    /// The `Condition` entries (all must hold); `None` without a
    /// `Condition` element.
    pub(super) condition: Option<Vec<Condition>>,
}

/// The checked document.
pub(super) struct Document {
    /// The statements, in document order.
    pub(super) statements: Vec<Statement>,
}

/// A malformed-document error for a policy of `kind`.
pub(super) fn malformed(kind: PolicyKind, what: impl std::fmt::Display) -> Error {
    let which = match kind {
        PolicyKind::Key => "key policy",
        PolicyKind::Identity => "policy",
    };
    kms_err!(
        MalformedPolicyDocument,
        "The {which} is malformed: {what}. Fix the document; see the IAM JSON policy grammar."
    )
}

/// Parses and checks `text` as a policy of `kind`.
pub(super) fn parse(text: &str, kind: PolicyKind) -> Result<Document> {
    let bad = |what: std::fmt::Arguments<'_>| malformed(kind, what);
    let value: Value =
        serde_json::from_str(text).map_err(|e| bad(format_args!("it is not valid JSON ({e})")))?;
    let Value::Object(top) = value else {
        return Err(bad(format_args!("the document must be a JSON object")));
    };
    for key in top.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            return Err(bad(format_args!(
                "unknown top-level element '{key}' (allowed: Version, Id, Statement)"
            )));
        }
    }
    let variables = match top.get("Version") {
        None => false,
        Some(v) => match v.as_str() {
            Some("2012-10-17") => true,
            Some("2008-10-17") => false,
            _ => {
                return Err(bad(format_args!(
                    "Version must be \"2012-10-17\" or \"2008-10-17\""
                )));
            }
        },
    };
    if let Some(v) = top.get("Id")
        && !v.is_string()
    {
        return Err(bad(format_args!("Id must be a string")));
    }
    let cx = Cx { kind, variables };
    let statements = match top.get("Statement") {
        None => return Err(bad(format_args!("the Statement element is missing"))),
        Some(Value::Object(s)) => vec![cx.statement(s, 0)?],
        Some(Value::Array(list)) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, s)| match s {
                Value::Object(s) => cx.statement(s, i),
                _ => Err(bad(format_args!("Statement {i} must be an object"))),
            })
            .collect::<Result<Vec<_>>>()?,
        Some(_) => {
            return Err(bad(format_args!(
                "Statement must be a statement object or a non-empty list of them"
            )));
        }
    };
    Ok(Document { statements })
}

/// What statement parsing needs to know about the document.
struct Cx {
    kind: PolicyKind,
    variables: bool,
}

impl Cx {
    fn bad(&self, what: impl std::fmt::Display) -> Error {
        malformed(self.kind, what)
    }

    fn statement(&self, s: &Map<String, Value>, i: usize) -> Result<Statement> {
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
                return Err(self.bad(format_args!("statement {i} has an unknown element '{key}'")));
            }
        }
        let sid = match s.get("Sid") {
            None => None,
            Some(Value::String(sid)) => Some(sid.clone()),
            Some(_) => {
                return Err(self.bad(format_args!("the Sid of statement {i} must be a string")));
            }
        };
        let allow = match s.get("Effect").and_then(Value::as_str) {
            Some("Allow") => true,
            Some("Deny") => false,
            _ => {
                return Err(self.bad(format_args!(
                    "statement {i} must have an Effect of \"Allow\" or \"Deny\""
                )));
            }
        };
        let principal = match (s.get("Principal"), s.get("NotPrincipal"), self.kind) {
            (Some(_), Some(_), _) => {
                return Err(self.bad(format_args!(
                    "statement {i} has both Principal and NotPrincipal"
                )));
            }
            (Some(_), None, PolicyKind::Identity) | (None, Some(_), PolicyKind::Identity) => {
                return Err(self.bad(format_args!(
                    "statement {i} names a principal; an identity-based policy must not have Principal or NotPrincipal"
                )));
            }
            (None, None, PolicyKind::Identity) => None,
            (Some(p), None, PolicyKind::Key) => Some(Element::Is(self.principals(p, i)?)),
            (None, Some(p), PolicyKind::Key) => Some(Element::Not(self.principals(p, i)?)),
            (None, None, PolicyKind::Key) => {
                return Err(self.bad(format_args!(
                    "statement {i} names no principal; every key policy statement needs a Principal"
                )));
            }
        };
        let action = self.either(s, "Action", "NotAction", i)?;
        let action = match action {
            None => None,
            Some((is, list)) => {
                for a in &list {
                    self.check_action(a)?;
                }
                let globs = list.iter().map(|a| Glob::new(a)).collect();
                Some(if is {
                    Element::Is(globs)
                } else {
                    Element::Not(globs)
                })
            }
        };
        let resource = self
            .either(s, "Resource", "NotResource", i)?
            .map(|(is, list)| {
                let patterns = list
                    .iter()
                    .map(|r| match self.template(r, true) {
                        Some(t) => ResourcePattern::Template(t),
                        None => ResourcePattern::Fixed(Glob::new(r)),
                    })
                    .collect();
                if is {
                    Element::Is(patterns)
                } else {
                    Element::Not(patterns)
                }
            });
        let condition = match s.get("Condition") {
            None => None,
            Some(c) => Some(self.condition(c, i)?),
        };
        Ok(Statement {
            index: i,
            sid,
            allow,
            principal,
            action,
            resource,
            condition,
        })
    }

    fn template(&self, text: &str, wildcards: bool) -> Option<Template> {
        if self.variables {
            Template::parse(text, wildcards)
        } else {
            None
        }
    }

    /// A string, or a non-empty list of non-empty strings.
    fn string_list(&self, v: &Value, what: &str, i: usize) -> Result<Vec<String>> {
        let bad = || {
            self.bad(format_args!(
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

    /// `is` or `not` (not both): whether it is `is`, and the values.
    fn either(
        &self,
        s: &Map<String, Value>,
        is: &str,
        not: &str,
        i: usize,
    ) -> Result<Option<(bool, Vec<String>)>> {
        match (s.get(is), s.get(not)) {
            (None, None) => Ok(None),
            (Some(_), Some(_)) => {
                Err(self.bad(format_args!("statement {i} has both {is} and {not}")))
            }
            (Some(v), None) => Ok(Some((true, self.string_list(v, is, i)?))),
            (None, Some(v)) => Ok(Some((false, self.string_list(v, not, i)?))),
        }
    }

    /// `*` or `service:action`, where the action may use `*` and `?`.
    fn check_action(&self, a: &str) -> Result<()> {
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
            Err(self.bad(format_args!(
                "action '{a}' is not of the form \"service:Action\" (for example \"kms:Encrypt\" or \"kms:*\")"
            )))
        }
    }

    fn principals(&self, p: &Value, i: usize) -> Result<Principals> {
        match p {
            Value::String(s) if s == "*" => Ok(Principals::Everyone),
            Value::Object(m) if !m.is_empty() => {
                let mut aws_any = false;
                let (mut accounts, mut arns, mut services) = (Vec::new(), Vec::new(), Vec::new());
                for (kind, v) in m {
                    let values = self.string_list(v, &format!("Principal {kind}"), i)?;
                    match kind.as_str() {
                        "AWS" => {
                            for a in values {
                                match aws_principal(&a) {
                                    Some(AwsEntry::Any) => aws_any = true,
                                    Some(AwsEntry::Account(partition, acct)) => {
                                        accounts.push((partition, acct.into()));
                                    }
                                    Some(AwsEntry::Arn) => arns.push(a.into()),
                                    None => {
                                        return Err(self.bad(format_args!(
                                            "statement {i} has an invalid AWS principal '{a}' (use an account id, an IAM or STS ARN, or \"*\")"
                                        )));
                                    }
                                }
                            }
                        }
                        "Service" => services.extend(values.into_iter().map(String::into_boxed_str)),
                        other => {
                            return Err(self.bad(format_args!(
                                "statement {i} has an unknown principal type '{other}' (allowed: AWS, Service)"
                            )));
                        }
                    }
                }
                Ok(Principals::Named {
                    aws_any,
                    accounts,
                    arns,
                    services,
                })
            }
            _ => Err(self.bad(format_args!(
                "the principal of statement {i} must be \"*\" or an object such as {{\"AWS\": \"arn:aws:iam::111122223333:root\"}}"
            ))),
        }
    }

    /// `{"Operator": {"key": value or [values]}}`; values are strings,
    /// numbers or booleans.
    fn condition(&self, c: &Value, i: usize) -> Result<Vec<Condition>> {
        let bad = || {
            self.bad(format_args!(
                "the Condition of statement {i} must map operators to {{\"key\": value or [values]}}"
            ))
        };
        let Value::Object(ops) = c else {
            return Err(bad());
        };
        let scalar = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        let mut out = Vec::new();
        for (op, block) in ops {
            let Value::Object(keys) = block else {
                return Err(bad());
            };
            for (key, v) in keys {
                let values = match v {
                    Value::Array(a) if a.is_empty() => {
                        return Err(self.bad(format_args!(
                            "the {op} condition on '{key}' in statement {i} has an empty list of values"
                        )));
                    }
                    Value::Array(a) => a.iter().map(scalar).collect::<Option<Vec<_>>>(),
                    v => scalar(v).map(|s| vec![s]),
                };
                let values = values.ok_or_else(bad)?;
                let cond = Condition::compile(op, key, &values, self.variables)
                    .map_err(|e| self.bad(format_args!("statement {i}: {e}")))?;
                out.push(cond);
            }
        }
        Ok(out)
    }
}

/// What an `AWS` principal entry names.
enum AwsEntry {
    /// `*`.
    Any,
    /// An account: a bare id (any partition) or its root ARN.
    Account(Option<AwsPartition>, String),
    /// A user, role or assumed-role ARN.
    Arn,
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Classifies an `AWS` principal entry; `None` when it is none of `*`, an
/// account id, `arn:P:iam::A:root|user/…|role/…` or
/// `arn:P:sts::A:assumed-role/ROLE/SESSION`.
fn aws_principal(a: &str) -> Option<AwsEntry> {
    if a == "*" {
        return Some(AwsEntry::Any);
    }
    if is_account_id(a) {
        return Some(AwsEntry::Account(None, a.to_owned()));
    }
    let parts: Vec<&str> = a.splitn(6, ':').collect();
    let ["arn", partition, service, "", account, resource] = parts[..] else {
        return None;
    };
    let partition: AwsPartition = partition.parse().ok()?;
    if !is_account_id(account) {
        return None;
    }
    let nonempty_after =
        |prefix: &str| resource.strip_prefix(prefix).is_some_and(|r| !r.is_empty());
    match service {
        "iam" if resource == "root" => Some(AwsEntry::Account(Some(partition), account.to_owned())),
        "iam" if nonempty_after("user/") || nonempty_after("role/") => Some(AwsEntry::Arn),
        "sts" => {
            let (role, session) = resource.strip_prefix("assumed-role/")?.split_once('/')?;
            (!role.is_empty() && !session.is_empty() && !session.contains('/'))
                .then_some(AwsEntry::Arn)
        }
        _ => None,
    }
}
