//! A reference evaluator of the IAM policy language, written from the shared
//! contract (`policy_spec.md`) and AWS's documented evaluation rules, apart
//! from the crate's engine: it walks the document as a `serde_json::Value`
//! on every request, with no compilation step, so that the two share no
//! code and little structure.
//!
//! [`check`] says whether a document is well formed (a reason if not);
//! [`evaluate`] answers one request against a checked document. [`Stats`]
//! counts how conditions came out, so that the differential test can show
//! that its random cases reach both outcomes of every operator.
//!
//! The generator of random cases is in `generator.rs`.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "shared by test targets that use different parts"
)]

pub mod generator;

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Map, Value};

/// Which kind of policy a document is checked as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A key policy: every statement names principals.
    Key,
    /// An identity policy: no statement names principals.
    Identity,
}

/// How a statement's principal element matched the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// The statement names the caller (or it is an identity policy).
    Direct,
    /// The statement names the caller's account; the caller is not its root.
    Account,
}

/// The reference's answer: the deciding Deny and Allow statements, as
/// (position, Sid).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// The first applying Deny statement.
    pub deny: Option<(usize, Option<String>)>,
    /// The first applying Allow with a direct match, else the first with an
    /// account match.
    pub allow: Option<(usize, Option<String>, How)>,
}

/// The kind of a caller, as the reference sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Who {
    /// An account root.
    Root,
    /// An IAM user.
    User,
    /// An IAM role (acting as a session).
    Role,
    /// An assumed-role session.
    AssumedRole,
    /// An AWS service principal with this name.
    Service(String),
}

/// A caller: its kind, partition, account and the ARNs a `Principal`
/// element names it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// Its kind.
    pub who: Who,
    /// Its partition (`aws`, …).
    pub partition: String,
    /// Its account (`None` for a service).
    pub account: Option<String>,
    /// The ARNs that name it exactly.
    pub match_arns: Vec<String>,
}

/// One request.
#[derive(Clone, Debug)]
pub struct Req<'a> {
    /// The caller.
    pub caller: &'a Caller,
    /// The action (`kms:Encrypt`).
    pub action: &'a str,
    /// The resource ARN.
    pub resource: &'a str,
    /// The condition keys: name (any case, unique ignoring case) → values.
    pub context: &'a [(String, Vec<String>)],
}

impl Req<'_> {
    /// The values of `key`, compared ASCII case-insensitively.
    fn values(&self, key: &str) -> Option<&[String]> {
        self.context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }
}

/// How often each base operator's conditions held and failed, how often
/// each qualifier ran, and so on: evidence that random cases exercise
/// both outcomes.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// (name, outcome) → count, for base operators, qualifiers and
    /// statement-level events.
    pub counts: BTreeMap<(&'static str, bool), u64>,
}

impl Stats {
    fn note(&mut self, what: &'static str, outcome: bool) {
        *self.counts.entry((what, outcome)).or_insert(0) += 1;
    }

    /// How many times `what` came out `outcome`.
    pub fn count(&self, what: &str, outcome: bool) -> u64 {
        self.counts
            .iter()
            .filter(|((w, o), _)| *w == what && *o == outcome)
            .map(|(_, n)| *n)
            .sum()
    }
}

// ---------------------------------------------------------------------------
// Operators

/// The base operators, with whether each is negated and how its values are
/// compared.
pub const BASES: &[(&str, Family, bool)] = &[
    ("StringEquals", Family::Str(StrOp::Eq), false),
    ("StringNotEquals", Family::Str(StrOp::Eq), true),
    ("StringEqualsIgnoreCase", Family::Str(StrOp::EqCi), false),
    ("StringNotEqualsIgnoreCase", Family::Str(StrOp::EqCi), true),
    ("StringLike", Family::Str(StrOp::Like), false),
    ("StringNotLike", Family::Str(StrOp::Like), true),
    ("NumericEquals", Family::Num(Cmp::Eq), false),
    ("NumericNotEquals", Family::Num(Cmp::Eq), true),
    ("NumericLessThan", Family::Num(Cmp::Lt), false),
    ("NumericLessThanEquals", Family::Num(Cmp::Le), false),
    ("NumericGreaterThan", Family::Num(Cmp::Gt), false),
    ("NumericGreaterThanEquals", Family::Num(Cmp::Ge), false),
    ("DateEquals", Family::Date(Cmp::Eq), false),
    ("DateNotEquals", Family::Date(Cmp::Eq), true),
    ("DateLessThan", Family::Date(Cmp::Lt), false),
    ("DateLessThanEquals", Family::Date(Cmp::Le), false),
    ("DateGreaterThan", Family::Date(Cmp::Gt), false),
    ("DateGreaterThanEquals", Family::Date(Cmp::Ge), false),
    ("Bool", Family::Bool, false),
    ("BinaryEquals", Family::Binary, false),
    ("IpAddress", Family::Ip, false),
    ("NotIpAddress", Family::Ip, true),
    ("ArnEquals", Family::Arn, false),
    ("ArnLike", Family::Arn, false),
    ("ArnNotEquals", Family::Arn, true),
    ("ArnNotLike", Family::Arn, true),
    ("Null", Family::Null, false),
];

/// How a string operator compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrOp {
    /// Exact.
    Eq,
    /// Equal after `to_lowercase`.
    EqCi,
    /// Glob.
    Like,
}

/// An ordering test `context OP policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `==`
    Eq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, v: T, p: T) -> bool {
        match self {
            Cmp::Eq => v == p,
            Cmp::Lt => v < p,
            Cmp::Le => v <= p,
            Cmp::Gt => v > p,
            Cmp::Ge => v >= p,
        }
    }
}

/// An operator family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// String*.
    Str(StrOp),
    /// Numeric*.
    Num(Cmp),
    /// Date*.
    Date(Cmp),
    /// Bool.
    Bool,
    /// BinaryEquals.
    Binary,
    /// IpAddress / NotIpAddress.
    Ip,
    /// Arn*.
    Arn,
    /// Null.
    Null,
}

/// A set qualifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Set {
    None,
    Any,
    All,
}

/// A parsed operator name.
#[derive(Clone, Copy, Debug)]
struct Operator {
    base: &'static str,
    family: Family,
    negated: bool,
    set: Set,
    if_exists: bool,
}

fn operator(name: &str) -> Option<Operator> {
    let (set, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
        (Set::Any, r)
    } else if let Some(r) = name.strip_prefix("ForAllValues:") {
        (Set::All, r)
    } else {
        (Set::None, name)
    };
    let (if_exists, base) = match rest.strip_suffix("IfExists") {
        Some(b) => (true, b),
        None => (false, rest),
    };
    let &(base, family, negated) = BASES.iter().find(|(n, _, _)| *n == base)?;
    if family == Family::Null && (if_exists || set != Set::None) {
        return None;
    }
    Some(Operator {
        base,
        family,
        negated,
        set,
        if_exists,
    })
}

// ---------------------------------------------------------------------------
// Checking a document

/// Parses and checks `text` as a policy of `kind`: the document, or why it
/// is malformed.
pub fn check(text: &str, kind: Kind) -> Result<Value, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let top = doc.as_object().ok_or("the document is not an object")?;
    for (k, v) in top {
        match k.as_str() {
            "Version" => {
                if v != "2012-10-17" && v != "2008-10-17" {
                    return Err(format!("bad Version {v}"));
                }
            }
            "Id" => {
                if !v.is_string() {
                    return Err("Id is not a string".into());
                }
            }
            "Statement" => {}
            other => return Err(format!("unknown top-level key {other}")),
        }
    }
    let statements = statements(&doc).ok_or("no Statement, or an empty or non-object one")?;
    for st in statements {
        check_statement(st, kind)?;
    }
    Ok(doc)
}

/// The statements of a document (`None` when missing, empty, or holding a
/// non-object).
fn statements(doc: &Value) -> Option<Vec<&Map<String, Value>>> {
    match doc.get("Statement")? {
        Value::Object(one) => Some(vec![one]),
        Value::Array(many) if !many.is_empty() => many.iter().map(Value::as_object).collect(),
        _ => None,
    }
}

fn check_statement(st: &Map<String, Value>, kind: Kind) -> Result<(), String> {
    for k in st.keys() {
        if ![
            "Sid",
            "Effect",
            "Principal",
            "NotPrincipal",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
        ]
        .contains(&k.as_str())
        {
            return Err(format!("unknown statement key {k}"));
        }
    }
    if let Some(sid) = st.get("Sid")
        && !sid.is_string()
    {
        return Err("Sid is not a string".into());
    }
    match st.get("Effect").and_then(Value::as_str) {
        Some("Allow" | "Deny") => {}
        _ => return Err("Effect missing or not Allow/Deny".into()),
    }
    for (a, b) in [
        ("Principal", "NotPrincipal"),
        ("Action", "NotAction"),
        ("Resource", "NotResource"),
    ] {
        if st.contains_key(a) && st.contains_key(b) {
            return Err(format!("both {a} and {b}"));
        }
    }
    let principal = st.get("Principal").or_else(|| st.get("NotPrincipal"));
    match (kind, principal) {
        (Kind::Key, None) => return Err("a key policy statement without Principal".into()),
        (Kind::Identity, Some(_)) => {
            return Err("an identity policy statement with Principal".into());
        }
        (Kind::Key, Some(p)) => check_principal(p)?,
        (Kind::Identity, None) => {}
    }
    for key in ["Action", "NotAction"] {
        if let Some(v) = st.get(key) {
            for a in strings(v).ok_or(format!("{key} is not a string or strings"))? {
                // IAM's grammar: `*`, or `service:name` where the service
                // is letters, digits and `-`, and the name letters, digits
                // and the wildcards `*` and `?` (no policy variables).
                let well_formed = a == "*"
                    || a.split_once(':').is_some_and(|(service, name)| {
                        !service.is_empty()
                            && service
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                            && !name.is_empty()
                            && name
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'?')
                    });
                if !well_formed {
                    return Err(format!("action {a} is not service:name"));
                }
            }
        }
    }
    for key in ["Resource", "NotResource"] {
        if let Some(v) = st.get(key) {
            strings(v).ok_or(format!("{key} is not a string or strings"))?;
        }
    }
    if let Some(c) = st.get("Condition") {
        check_condition(c)?;
    }
    Ok(())
}

/// A string or an array of strings, as a list (`None` otherwise).
fn strings(v: &Value) -> Option<Vec<&str>> {
    match v {
        Value::String(s) => Some(vec![s]),
        Value::Array(a) => a.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// A string or a non-empty array of strings.
fn non_empty_strings(v: &Value) -> Option<Vec<&str>> {
    strings(v).filter(|l| !l.is_empty())
}

fn check_principal(p: &Value) -> Result<(), String> {
    match p {
        Value::String(s) if s == "*" => Ok(()),
        Value::Object(o) if !o.is_empty() => {
            for (k, v) in o {
                let entries = non_empty_strings(v).ok_or(format!("bad {k} principal value"))?;
                match k.as_str() {
                    "AWS" => {
                        for e in entries {
                            if aws_entry(e).is_none() {
                                return Err(format!("bad AWS principal {e}"));
                            }
                        }
                    }
                    "Service" => {
                        if entries.iter().any(|e| e.is_empty()) {
                            return Err("empty Service principal".into());
                        }
                    }
                    other => return Err(format!("unknown principal type {other}")),
                }
            }
            Ok(())
        }
        _ => Err("bad Principal".into()),
    }
}

/// What an `AWS` principal entry names.
#[derive(Debug, PartialEq, Eq)]
enum AwsEntry {
    /// `*`.
    Anyone,
    /// An account: bare id (no partition) or its root ARN (with partition).
    Account(String, Option<String>),
    /// A user, role or session ARN, matched exactly.
    Exact,
}

fn twelve_digits(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn aws_entry(e: &str) -> Option<AwsEntry> {
    if e == "*" {
        return Some(AwsEntry::Anyone);
    }
    if twelve_digits(e) {
        return Some(AwsEntry::Account(e.to_owned(), None));
    }
    let parts: Vec<&str> = e.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return None;
    };
    if *arn != "arn" || partition.is_empty() || !region.is_empty() || !twelve_digits(account) {
        return None;
    }
    match *service {
        "iam" => {
            if *resource == "root" {
                return Some(AwsEntry::Account(
                    (*account).to_owned(),
                    Some((*partition).to_owned()),
                ));
            }
            let rest = resource
                .strip_prefix("user/")
                .or_else(|| resource.strip_prefix("role/"))?;
            (!rest.is_empty()).then_some(AwsEntry::Exact)
        }
        "sts" => {
            let rest = resource.strip_prefix("assumed-role/")?;
            let names: Vec<&str> = rest.split('/').collect();
            (names.len() == 2 && names.iter().all(|n| !n.is_empty())).then_some(AwsEntry::Exact)
        }
        _ => None,
    }
}

/// A condition value as text: strings as they are, numbers and booleans in
/// their JSON spelling; `None` for anything else.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A condition entry's policy values (`None` when malformed).
fn condition_values(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(a) if !a.is_empty() => a.iter().map(scalar_text).collect(),
        Value::Array(_) => None,
        other => scalar_text(other).map(|s| vec![s]),
    }
}

fn check_condition(c: &Value) -> Result<(), String> {
    let ops = c.as_object().ok_or("Condition is not an object")?;
    for (name, block) in ops {
        let op = operator(name).ok_or(format!("unknown operator {name}"))?;
        let block = block
            .as_object()
            .ok_or(format!("{name} does not hold an object"))?;
        for (key, v) in block {
            let values = condition_values(v).ok_or(format!("bad values for {name} {key}"))?;
            for p in &values {
                let ok = match op.family {
                    Family::Num(_) => p.parse::<f64>().is_ok(),
                    Family::Date(_) => epoch_ms(p).is_some(),
                    Family::Bool | Family::Null => {
                        p.eq_ignore_ascii_case("true") || p.eq_ignore_ascii_case("false")
                    }
                    Family::Ip => network(p).is_some(),
                    Family::Str(_) | Family::Binary | Family::Arn => true,
                };
                if !ok {
                    return Err(format!("{name}: bad value {p}"));
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Value parsing

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    // Count days by whole years, then months: slow but plainly right.
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days = 0i64;
    if y >= 1970 {
        for year in 1970..y {
            days += if leap(year) { 366 } else { 365 };
        }
    } else {
        for year in y..1970 {
            days -= if leap(year) { 366 } else { 365 };
        }
    }
    for month in 1..m {
        days += month_len(y, month);
    }
    days + d - 1
}

fn month_len(y: i64, m: i64) -> i64 {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        _ => 28,
    }
}

/// A fixed-width run of ASCII digits as a number.
fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A date value as epoch milliseconds, per the contract's accepted forms.
pub fn epoch_ms(s: &str) -> Option<i64> {
    if let Some(secs) = digits(s) {
        return secs.checked_mul(1000);
    }
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?);
    if !(1..=12).contains(&m) || d < 1 || d > month_len(y, m) {
        return None;
    }
    let day_ms = days_from_civil(y, m, d) * 86_400_000;
    if b.len() == 10 {
        return Some(day_ms);
    }
    // YYYY-MM-DDThh:mm:ss[.f{1,9}](Z|±hh:mm)
    if b.len() < 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, se) = (
        digits(s.get(11..13)?)?,
        digits(s.get(14..16)?)?,
        digits(s.get(17..19)?)?,
    );
    if h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut ms = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=9).contains(&n) {
            return None;
        }
        let mut three = frac[..n].to_owned();
        while three.len() < 3 {
            three.push('0');
        }
        ms = digits(&three[..3])?;
        rest = &frac[n..];
    }
    let offset_ms = if rest == "Z" {
        0
    } else {
        let rb = rest.as_bytes();
        if rb.len() != 6 || rb[3] != b':' || !(rb[0] == b'+' || rb[0] == b'-') {
            return None;
        }
        let (oh, om) = (digits(&rest[1..3])?, digits(&rest[4..6])?);
        if oh > 23 || om > 59 {
            return None;
        }
        let sign = if rb[0] == b'+' { 1 } else { -1 };
        sign * (oh * 3600 + om * 60) * 1000
    };
    Some(day_ms + ((h * 60 + mi) * 60 + se) * 1000 + ms - offset_ms)
}

/// An address or CIDR as (address, prefix length).
pub fn network(s: &str) -> Option<(IpAddr, u32)> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => {
            let l: u32 = digits(l)?.try_into().ok()?;
            if l > max {
                return None;
            }
            l
        }
    };
    Some((addr, len))
}

fn in_network(v: &str, p: &str) -> bool {
    let (Ok(addr), Some((net, len))) = (v.parse::<IpAddr>(), network(p)) else {
        return false;
    };
    let (a, n, bits) = match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    if len == 0 {
        return true;
    }
    let shift = bits - len;
    (a >> shift) == (n >> shift)
}

// ---------------------------------------------------------------------------
// Patterns and variables

/// One element of a pattern: a literal character or a wildcard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    One,
}

/// Reads `text` as a pattern: `*` and `?` are wildcards; with `vars`,
/// `${..}` policy variables are resolved from `req`. `None` when a variable
/// cannot be resolved.
fn pattern(text: &str, vars: bool, req: &Req<'_>) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if vars
            && let Some(after) = rest.strip_prefix("${")
            && let Some(close) = after.find('}')
        {
            let inner = &after[..close];
            match inner {
                "*" => out.push(Tok::Lit('*')),
                "?" => out.push(Tok::Lit('?')),
                "$" => out.push(Tok::Lit('$')),
                _ => out.extend(variable(inner, req)?.chars().map(Tok::Lit)),
            }
            rest = &after[close + 1..];
            continue;
        }
        let mut chars = rest.chars();
        let c = chars.next()?;
        out.push(match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Lit(c),
        });
        rest = chars.as_str();
    }
    Some(out)
}

/// The value of a variable body `name` or `name, 'default'`.
fn variable(inner: &str, req: &Req<'_>) -> Option<String> {
    let (name, default) = match inner.split_once(',') {
        Some((n, d)) => {
            let d = d.trim();
            let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (n.trim(), Some(d))
        }
        None => (inner, None),
    };
    match req.values(name) {
        Some([one]) => Some(one.clone()),
        Some(_) => None,
        None => default.map(str::to_owned),
    }
}

/// The pattern as text, wildcards written back as `*` and `?`.
fn text_of(p: &[Tok]) -> String {
    p.iter()
        .map(|t| match t {
            Tok::Lit(c) => *c,
            Tok::Star => '*',
            Tok::One => '?',
        })
        .collect()
}

/// Whether `p` matches all of `s`, comparing characters with `eq`: the
/// classic scan that, on a mismatch, retries from the last `*` one
/// character further.
fn glob_by(p: &[Tok], s: &[char], eq: &dyn Fn(char, char) -> bool) -> bool {
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < s.len() {
        match p.get(i) {
            Some(Tok::Star) => {
                star = Some((i, j));
                i += 1;
            }
            Some(Tok::One) => {
                i += 1;
                j += 1;
            }
            Some(Tok::Lit(c)) if eq(*c, s[j]) => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((si, sj)) => {
                    star = Some((si, sj + 1));
                    i = si + 1;
                    j = sj + 1;
                }
                None => return false,
            },
        }
    }
    p[i..].iter().all(|t| *t == Tok::Star)
}

fn glob(p: &[Tok], s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    glob_by(p, &chars, &|a, b| a == b)
}

fn glob_ascii_ci(p: &[Tok], s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    glob_by(p, &chars, &|a, b| a.eq_ignore_ascii_case(&b))
}

fn arn_match(v: &str, p: &[Tok]) -> bool {
    let vparts: Vec<&str> = v.splitn(6, ':').collect();
    let mut pparts: Vec<Vec<Tok>> = vec![Vec::new()];
    for t in p {
        if *t == Tok::Lit(':') && pparts.len() < 6 {
            pparts.push(Vec::new());
        } else if let Some(last) = pparts.last_mut() {
            last.push(*t);
        }
    }
    let arn = [Tok::Lit('a'), Tok::Lit('r'), Tok::Lit('n')];
    if vparts.len() != 6 || pparts.len() != 6 || vparts[0] != "arn" || pparts[0] != arn {
        return false;
    }
    vparts.iter().zip(&pparts).all(|(v, p)| glob(p, v))
}

// ---------------------------------------------------------------------------
// Evaluation

/// What `doc` (already [`check`]ed) says about `req`.
pub fn evaluate(doc: &Value, req: &Req<'_>, kind: Kind, stats: &mut Stats) -> Decision {
    let vars = doc.get("Version").and_then(Value::as_str) == Some("2012-10-17");
    let mut decision = Decision::default();
    let mut account_allow = None;
    for (index, st) in statements(doc).unwrap_or_default().into_iter().enumerate() {
        let Some(how) = applies(st, req, kind, vars, stats) else {
            continue;
        };
        let sid = st.get("Sid").and_then(Value::as_str).map(str::to_owned);
        if st.get("Effect").and_then(Value::as_str) == Some("Deny") {
            if decision.deny.is_none() {
                decision.deny = Some((index, sid));
            }
        } else if how == How::Direct {
            if decision.allow.is_none() {
                decision.allow = Some((index, sid, How::Direct));
            }
        } else if account_allow.is_none() {
            account_allow = Some((index, sid, How::Account));
        }
    }
    if decision.allow.is_none() {
        decision.allow = account_allow;
    }
    decision
}

/// Whether `st` applies to `req`, and how its principal matched.
fn applies(
    st: &Map<String, Value>,
    req: &Req<'_>,
    kind: Kind,
    vars: bool,
    stats: &mut Stats,
) -> Option<How> {
    let how = match kind {
        Kind::Identity => How::Direct,
        Kind::Key => {
            if let Some(p) = st.get("Principal") {
                principal_match(p, req.caller)?
            } else {
                let p = st.get("NotPrincipal")?;
                if principal_match(p, req.caller).is_some() {
                    return None;
                }
                How::Direct
            }
        }
    };
    let action_hit = |v: &Value| {
        strings(v)
            .unwrap_or_default()
            .iter()
            .any(|a| pattern(a, false, req).is_some_and(|p| glob_ascii_ci(&p, req.action)))
    };
    let action_ok = match (st.get("Action"), st.get("NotAction")) {
        (Some(a), _) => action_hit(a),
        (None, Some(na)) => !action_hit(na),
        (None, None) => false,
    };
    if !action_ok {
        return None;
    }
    let resource_hit = |v: &Value| {
        strings(v)
            .unwrap_or_default()
            .iter()
            .any(|r| pattern(r, vars, req).is_some_and(|p| glob(&p, req.resource)))
    };
    let resource_ok = match (st.get("Resource"), st.get("NotResource")) {
        (Some(r), _) => resource_hit(r),
        (None, Some(nr)) => !resource_hit(nr),
        (None, None) => false,
    };
    if !resource_ok {
        return None;
    }
    if let Some(c) = st.get("Condition") {
        let mut all = true;
        for (name, block) in c.as_object()? {
            let op = operator(name)?;
            for (key, v) in block.as_object()? {
                let values = condition_values(v)?;
                let holds = condition(op, key, &values, req, vars);
                stats.note(op.base, holds);
                let q = match (op.set, op.if_exists) {
                    (Set::None, false) => "plain",
                    (Set::None, true) => "IfExists",
                    (Set::Any, false) => "ForAnyValue",
                    (Set::Any, true) => "ForAnyValue+IfExists",
                    (Set::All, false) => "ForAllValues",
                    (Set::All, true) => "ForAllValues+IfExists",
                };
                stats.note(q, holds);
                all &= holds;
            }
        }
        if !all {
            return None;
        }
    }
    Some(how)
}

/// How a principal element matches the caller (`None`: not at all).
fn principal_match(p: &Value, caller: &Caller) -> Option<How> {
    if p == "*" {
        return Some(How::Direct);
    }
    let mut best: Option<How> = None;
    let mut offer = |h: How| {
        if best != Some(How::Direct) {
            best = Some(h);
        }
    };
    let o = p.as_object()?;
    if let Some(aws) = o.get("AWS") {
        for e in strings(aws).unwrap_or_default() {
            match aws_entry(e)? {
                AwsEntry::Anyone => {
                    if !matches!(caller.who, Who::Service(_)) {
                        offer(How::Direct);
                    }
                }
                AwsEntry::Account(account, partition) => {
                    if caller.account.as_deref() != Some(account.as_str()) {
                        continue;
                    }
                    let same_partition = partition.is_none_or(|p| p == caller.partition);
                    match caller.who {
                        Who::Root if same_partition => offer(How::Direct),
                        Who::Root | Who::Service(_) => {}
                        _ => offer(How::Account),
                    }
                }
                AwsEntry::Exact => {
                    if caller.match_arns.iter().any(|a| a == e) {
                        offer(How::Direct);
                    }
                }
            }
        }
    }
    if let (Some(svc), Who::Service(name)) = (o.get("Service"), &caller.who)
        && strings(svc)
            .unwrap_or_default()
            .iter()
            .any(|s| s.eq_ignore_ascii_case(name))
    {
        offer(How::Direct);
    }
    best
}

/// Whether one (operator, key, values) condition entry holds.
fn condition(op: Operator, key: &str, policy: &[String], req: &Req<'_>, vars: bool) -> bool {
    let present = req.values(key);
    if op.family == Family::Null {
        let absent = present.is_none_or(<[String]>::is_empty);
        return policy.iter().any(|p| {
            if p.eq_ignore_ascii_case("true") {
                absent
            } else {
                !absent
            }
        });
    }
    // Resolve the policy values once; an unresolvable one matches nothing.
    let substitutes = vars && matches!(op.family, Family::Str(_) | Family::Arn);
    let resolved: Vec<Option<Vec<Tok>>> = policy
        .iter()
        .map(|p| {
            if substitutes {
                pattern(p, true, req)
            } else {
                pattern(p, false, req)
            }
        })
        .collect();
    let hit = |v: &str| -> bool {
        policy
            .iter()
            .zip(&resolved)
            .any(|(raw, p)| p.as_ref().is_some_and(|p| pair(op.family, v, raw, p)))
    };
    match op.set {
        Set::None => match present {
            None => op.if_exists || op.negated,
            Some(vs) => {
                let any = vs.iter().any(|v| hit(v));
                any != op.negated
            }
        },
        Set::Any => match present {
            None => op.if_exists,
            Some([]) => false,
            Some(vs) => vs.iter().any(|v| hit(v) != op.negated),
        },
        Set::All => match present {
            None | Some([]) => true,
            Some(vs) => vs.iter().all(|v| hit(v) != op.negated),
        },
    }
}

/// The positive match of context value `v` against policy value `raw`
/// (`p`: the same after variable substitution, as a pattern).
fn pair(family: Family, v: &str, raw: &str, p: &[Tok]) -> bool {
    match family {
        Family::Str(StrOp::Eq) => v == text_of(p),
        Family::Str(StrOp::EqCi) => v.to_lowercase() == text_of(p).to_lowercase(),
        Family::Str(StrOp::Like) => glob(p, v),
        Family::Num(cmp) => match (v.parse::<f64>(), raw.parse::<f64>()) {
            (Ok(v), Ok(p)) => cmp.holds(v, p),
            _ => false,
        },
        Family::Date(cmp) => match (epoch_ms(v), epoch_ms(raw)) {
            (Some(v), Some(p)) => cmp.holds(v, p),
            _ => false,
        },
        Family::Bool => v.eq_ignore_ascii_case(raw),
        Family::Binary => v == raw,
        Family::Ip => in_network(v, raw),
        Family::Arn => arn_match(v, p),
        Family::Null => false,
    }
}
