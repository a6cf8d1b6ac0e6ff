//! Condition operators: their names parsed into one [`Test`] enum that
//! carries its policy values, compiled once (numbers, dates, networks,
//! globs, variables), and the one place that evaluates them, with the set
//! qualifiers (`ForAnyValue:`, `ForAllValues:`), `…IfExists` and `Null`.

use std::net::IpAddr;

use super::ConditionContext;
use super::matching::{Glob, Tok, arn_matches, arn_parts, match_tokens, tokens};
use super::variables::Template;

/// How a comparison operator compares a context value `v` with a policy
/// value `p`: `v OP p`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cmp {
    /// `==`.
    Eq,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
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

/// A string policy value: fixed, or with variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum StrValue<T> {
    /// No variables: compiled.
    Fixed(T),
    /// With variables: resolved per request.
    Template(Template),
}

/// The six part-globs of an ARN pattern.
pub(super) type ArnParts = [Box<[Tok]>; 6];

/// An IP network of `IpAddress`/`NotIpAddress`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    fn parse(s: &str) -> Option<IpNet> {
        let (addr, prefix) = match s.split_once('/') {
            None => (s, None),
            Some((a, p)) => (a, Some(p)),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
            Some(_) => return None,
        };
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    fn contains(&self, v: IpAddr) -> bool {
        match (self.addr, v) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// An operator's test of one context value against its policy values,
/// with the values compiled: one variant per family.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Test {
    /// `StringEquals` (and `StringNotEquals`).
    StringEquals(Vec<StrValue<Box<str>>>),
    /// `StringEqualsIgnoreCase`: fixed values are stored lower-cased.
    StringEqualsIgnoreCase(Vec<StrValue<Box<str>>>),
    /// `StringLike`: globs.
    StringLike(Vec<StrValue<Glob>>),
    /// `Numeric*`.
    Numeric(Cmp, Vec<f64>),
    /// `Date*`, in epoch milliseconds.
    Date(Cmp, Vec<i64>),
    /// `Bool`: `true`/`false` in any case.
    Bool(Vec<Box<str>>),
    /// `BinaryEquals`: base64 text.
    Binary(Vec<Box<str>>),
    /// `IpAddress`.
    Ip(Vec<IpNet>),
    /// `ArnEquals`/`ArnLike`: six part-globs, `None` for a pattern that
    /// matches nothing.
    Arn(Vec<StrValue<Option<ArnParts>>>),
    /// `Null`: `true` (the key must be absent) or `false`.
    Null(Vec<bool>),
}

/// The set qualifier of an operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Qualifier {
    /// None: the key's values as one.
    Single,
    /// `ForAnyValue:`.
    AnyValue,
    /// `ForAllValues:`.
    AllValues,
}

/// One `operator: {key: values}` entry of a `Condition`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Condition {
    key: Box<str>,
    test: Test,
    negated: bool,
    qualifier: Qualifier,
    if_exists: bool,
}

/// The operator families: base name → (negated, kind).
#[derive(Clone, Copy)]
enum Family {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

fn base_operator(name: &str) -> Option<(Family, bool)> {
    use Family as F;
    Some(match name {
        "StringEquals" => (F::StringEquals, false),
        "StringNotEquals" => (F::StringEquals, true),
        "StringEqualsIgnoreCase" => (F::StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (F::StringEqualsIgnoreCase, true),
        "StringLike" => (F::StringLike, false),
        "StringNotLike" => (F::StringLike, true),
        "NumericEquals" => (F::Numeric(Cmp::Eq), false),
        "NumericNotEquals" => (F::Numeric(Cmp::Eq), true),
        "NumericLessThan" => (F::Numeric(Cmp::Lt), false),
        "NumericLessThanEquals" => (F::Numeric(Cmp::Le), false),
        "NumericGreaterThan" => (F::Numeric(Cmp::Gt), false),
        "NumericGreaterThanEquals" => (F::Numeric(Cmp::Ge), false),
        "DateEquals" => (F::Date(Cmp::Eq), false),
        "DateNotEquals" => (F::Date(Cmp::Eq), true),
        "DateLessThan" => (F::Date(Cmp::Lt), false),
        "DateLessThanEquals" => (F::Date(Cmp::Le), false),
        "DateGreaterThan" => (F::Date(Cmp::Gt), false),
        "DateGreaterThanEquals" => (F::Date(Cmp::Ge), false),
        "Bool" => (F::Bool, false),
        "BinaryEquals" => (F::Binary, false),
        "IpAddress" => (F::Ip, false),
        "NotIpAddress" => (F::Ip, true),
        "ArnEquals" | "ArnLike" => (F::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (F::Arn, true),
        "Null" => (F::Null, false),
        _ => return None,
    })
}

/// The operator's parts: qualifier, family, negated, IfExists.
fn parse_operator(op: &str) -> Result<(Qualifier, Family, bool, bool), String> {
    let (qualifier, rest) = if let Some(r) = op.strip_prefix("ForAnyValue:") {
        (Qualifier::AnyValue, r)
    } else if let Some(r) = op.strip_prefix("ForAllValues:") {
        (Qualifier::AllValues, r)
    } else {
        (Qualifier::Single, op)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) if base_operator(b).is_some() => (b, true),
        _ => (rest, false),
    };
    let Some((family, negated)) = base_operator(base) else {
        return Err(format!("unknown condition operator '{op}'"));
    };
    if matches!(family, Family::Null) && (if_exists || qualifier != Qualifier::Single) {
        return Err(format!(
            "condition operator '{op}' is not allowed: Null takes neither IfExists nor ForAnyValue:/ForAllValues:"
        ));
    }
    Ok((qualifier, family, negated, if_exists))
}

/// Parses a date: epoch seconds (digits only: a time before 1970 is
/// written as a date), `YYYY-MM-DD`, or
/// `YYYY-MM-DDThh:mm:ss[.f{1,9}](Z|±hh:mm)`, as epoch milliseconds.
pub(super) fn parse_date(s: &str) -> Option<i64> {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if digits(s) {
        return s.parse::<i64>().ok()?.checked_mul(1000);
    }
    let num = |t: &str, n: usize| -> Option<i64> {
        if t.len() == n && digits(t) {
            t.parse().ok()
        } else {
            None
        }
    };
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = num(s.get(0..4)?, 4)?;
    let month = num(s.get(5..7)?, 2)?;
    let day = num(s.get(8..10)?, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let date_ms = crate::clock::days_from_civil(year, month, day) * 86_400_000;
    if s.len() == 10 {
        return Some(date_ms);
    }
    let time = s.get(10..)?.strip_prefix('T')?;
    if time.len() < 9 || time.as_bytes()[2] != b':' || time.as_bytes()[5] != b':' {
        return None;
    }
    let (h, m, sec) = (
        num(time.get(0..2)?, 2)?,
        num(time.get(3..5)?, 2)?,
        num(time.get(6..8)?, 2)?,
    );
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let mut rest = time.get(8..)?;
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=9).contains(&n) {
            return None;
        }
        for d in frac.bytes().take(n.min(3)) {
            millis = millis * 10 + i64::from(d - b'0');
        }
        for _ in n..3 {
            millis *= 10;
        }
        rest = &frac[n..];
    }
    let offset_ms = if rest == "Z" {
        0
    } else {
        let sign = match rest.as_bytes().first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return None,
        };
        let o = &rest[1..];
        if o.len() != 5 || o.as_bytes()[2] != b':' {
            return None;
        }
        let (oh, om) = (num(o.get(0..2)?, 2)?, num(o.get(3..5)?, 2)?);
        if oh > 23 || om > 59 {
            return None;
        }
        sign * (oh * 60 + om) * 60_000
    };
    Some(date_ms + ((h * 60 + m) * 60 + sec) * 1000 + millis - offset_ms)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Condition {
    /// Compiles `op: {key: values}`; `variables` when the document's
    /// version substitutes policy variables. The error names the problem.
    pub(super) fn compile(
        op: &str,
        key: &str,
        values: &[String],
        variables: bool,
    ) -> Result<Condition, String> {
        let (qualifier, family, negated, if_exists) = parse_operator(op)?;
        let bad = |what: &str, v: &str| {
            format!("the {op} value '{v}' of condition key '{key}' is not {what}")
        };
        let template = |v: &str, wildcards: bool| {
            if variables {
                Template::parse(v, wildcards)
            } else {
                None
            }
        };
        let strings = |lower: bool| {
            values
                .iter()
                .map(|v| match template(v, false) {
                    Some(t) => StrValue::Template(t),
                    None if lower => StrValue::Fixed(v.to_lowercase().into()),
                    None => StrValue::Fixed(v.as_str().into()),
                })
                .collect()
        };
        let boolean = |v: &String| {
            if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") {
                Ok(v.as_str().into())
            } else {
                Err(bad("true or false", v))
            }
        };
        let test = match family {
            Family::StringEquals => Test::StringEquals(strings(false)),
            Family::StringEqualsIgnoreCase => Test::StringEqualsIgnoreCase(strings(true)),
            Family::StringLike => Test::StringLike(
                values
                    .iter()
                    .map(|v| match template(v, true) {
                        Some(t) => StrValue::Template(t),
                        None => StrValue::Fixed(Glob::new(v)),
                    })
                    .collect(),
            ),
            Family::Numeric(cmp) => Test::Numeric(
                cmp,
                values
                    .iter()
                    .map(|v| v.parse::<f64>().map_err(|_| bad("a number", v)))
                    .collect::<Result<_, _>>()?,
            ),
            Family::Date(cmp) => Test::Date(
                cmp,
                values
                    .iter()
                    .map(|v| parse_date(v).ok_or_else(|| bad("a date", v)))
                    .collect::<Result<_, _>>()?,
            ),
            Family::Bool => Test::Bool(values.iter().map(boolean).collect::<Result<_, _>>()?),
            Family::Binary => Test::Binary(values.iter().map(|v| v.as_str().into()).collect()),
            Family::Ip => Test::Ip(
                values
                    .iter()
                    .map(|v| IpNet::parse(v).ok_or_else(|| bad("an IP address or CIDR block", v)))
                    .collect::<Result<_, _>>()?,
            ),
            Family::Arn => Test::Arn(
                values
                    .iter()
                    .map(|v| match template(v, true) {
                        Some(t) => StrValue::Template(t),
                        None => StrValue::Fixed(arn_parts(&tokens(v))),
                    })
                    .collect(),
            ),
            Family::Null => Test::Null(
                values
                    .iter()
                    .map(|v| boolean(v).map(|_| v.eq_ignore_ascii_case("true")))
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(Condition {
            key: key.into(),
            test,
            negated,
            qualifier,
            if_exists,
        })
    }

    /// Whether this entry holds for the request's condition keys.
    pub(super) fn holds(&self, context: &ConditionContext) -> bool {
        let values = context.get(&self.key);
        if let Test::Null(want) = &self.test {
            let absent = values.is_none_or(<[String]>::is_empty);
            return want.contains(&absent);
        }
        let matches = |v: &String| self.test.any_match(v, context) != self.negated;
        match (self.qualifier, values) {
            (Qualifier::Single, None) => self.if_exists || self.negated,
            (Qualifier::Single, Some(vs)) => {
                vs.iter().any(|v| self.test.any_match(v, context)) != self.negated
            }
            (Qualifier::AnyValue, None) => self.if_exists,
            (Qualifier::AnyValue, Some(vs)) => vs.iter().any(matches),
            (Qualifier::AllValues, None) => true,
            (Qualifier::AllValues, Some(vs)) => vs.iter().all(matches),
        }
    }
}

impl Test {
    /// Whether context value `v` matches some policy value (the positive
    /// operator's match).
    fn any_match(&self, v: &str, context: &ConditionContext) -> bool {
        match self {
            Test::StringEquals(ps) => ps.iter().any(|p| match p {
                StrValue::Fixed(p) => **p == *v,
                StrValue::Template(t) => t.resolve_text(context).is_some_and(|p| p == v),
            }),
            Test::StringEqualsIgnoreCase(ps) => {
                let lower;
                let v_lower = if v.is_ascii() {
                    None
                } else {
                    lower = v.to_lowercase();
                    Some(lower.as_str())
                };
                let eq = |p: &str| match v_lower {
                    None => v.eq_ignore_ascii_case(p),
                    Some(l) => l == p,
                };
                ps.iter().any(|p| match p {
                    StrValue::Fixed(p) => eq(p),
                    StrValue::Template(t) => t
                        .resolve_text(context)
                        .is_some_and(|p| eq(&p.to_lowercase())),
                })
            }
            Test::StringLike(ps) => ps.iter().any(|p| match p {
                StrValue::Fixed(g) => g.matches(v, false),
                StrValue::Template(t) => t
                    .resolve(context)
                    .is_some_and(|toks| match_tokens(&toks, v, false)),
            }),
            Test::Numeric(cmp, ps) => v
                .parse::<f64>()
                .is_ok_and(|v| ps.iter().any(|&p| cmp.holds(v, p))),
            Test::Date(cmp, ps) => {
                parse_date(v).is_some_and(|v| ps.iter().any(|&p| cmp.holds(v, p)))
            }
            Test::Bool(ps) => ps.iter().any(|p| v.eq_ignore_ascii_case(p)),
            Test::Binary(ps) => ps.iter().any(|p| **p == *v),
            Test::Ip(ps) => v
                .parse::<IpAddr>()
                .is_ok_and(|a| ps.iter().any(|n| n.contains(a))),
            Test::Arn(ps) => ps.iter().any(|p| match p {
                StrValue::Fixed(parts) => parts.as_ref().is_some_and(|parts| arn_matches(parts, v)),
                StrValue::Template(t) => t
                    .resolve(context)
                    .and_then(|toks| arn_parts(&toks))
                    .is_some_and(|parts| arn_matches(&parts, v)),
            }),
            Test::Null(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_in_every_accepted_form() {
        let midnight = 1_577_836_800_000;
        assert_eq!(parse_date("1577836800"), Some(midnight));
        assert_eq!(parse_date("2020-01-01"), Some(midnight));
        assert_eq!(parse_date("2020-01-01T00:00:00Z"), Some(midnight));
        assert_eq!(parse_date("2020-01-01T00:00:01.5Z"), Some(midnight + 1500));
        assert_eq!(
            parse_date("2020-01-01T00:00:01.123456789Z"),
            Some(midnight + 1123)
        );
        assert_eq!(parse_date("2020-01-01T01:00:00+01:00"), Some(midnight));
        assert_eq!(parse_date("2019-12-31T23:30:00-00:30"), Some(midnight));
        assert_eq!(parse_date("2020-02-29"), Some(midnight + 59 * 86_400_000));
        assert_eq!(parse_date("1969-12-31"), Some(-86_400_000));
        for bad in [
            "2019-02-29",
            "2020-13-01",
            "2020-01-01T24:00:00Z",
            "2020-01-01T00:00:00",
            "2020-01-01T00:00:00.Z",
            "2020-01-01T00:00:00.1234567890Z",
            "2020-01-01T00:00Z",
            "2020-01-01t00:00:00Z",
            "2020-1-01",
            "yesterday",
            "",
            "1.5",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn networks_hold_their_addresses_only() {
        let n = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.255.0.1".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(!n.contains("::ffff:10.0.0.1".parse().unwrap()));
        let all = IpNet::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("1.2.3.4".parse().unwrap()));
        let v6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        let host = IpNet::parse("192.0.2.7").unwrap();
        assert!(host.contains("192.0.2.7".parse().unwrap()));
        assert!(!host.contains("192.0.2.8".parse().unwrap()));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0/8",
            "x",
            "10.0.0.0/+8",
        ] {
            assert!(IpNet::parse(bad).is_none(), "{bad}");
        }
    }
}
