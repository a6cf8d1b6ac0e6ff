//! Matching: `*`/`?` globs (linear time, no allocation), the ARN comparison
//! of the `Arn*` operators, and a statement's principals against a caller.

use crate::iam::{AwsPartition, Caller, PrincipalKind};

use super::PrincipalMatch;

/// One element of a glob pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tok {
    /// This character, literally.
    Char(char),
    /// `*`: any run of characters, including none.
    Star,
    /// `?`: exactly one character.
    One,
}

/// The tokens of `pattern`, where `*` and `?` are wildcards.
pub(super) fn tokens(pattern: &str) -> Vec<Tok> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Char(c),
        })
        .collect()
}

/// A compiled glob: `*` alone, a pattern without wildcards, or tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Glob {
    /// `*`: matches everything.
    Any,
    /// No wildcard: the whole string.
    Exact(Box<str>),
    /// With wildcards.
    Wild(Box<[Tok]>),
}

impl Glob {
    /// Compiles `pattern` (`*` and `?` are wildcards).
    pub(super) fn new(pattern: &str) -> Glob {
        if pattern == "*" {
            Glob::Any
        } else if pattern.contains(['*', '?']) {
            Glob::Wild(tokens(pattern).into())
        } else {
            Glob::Exact(pattern.into())
        }
    }

    /// Whether the whole of `text` matches; `ascii_ci` compares ASCII
    /// letters case-insensitively.
    pub(super) fn matches(&self, text: &str, ascii_ci: bool) -> bool {
        match self {
            Glob::Any => true,
            Glob::Exact(p) if ascii_ci => p.eq_ignore_ascii_case(text),
            Glob::Exact(p) => **p == *text,
            Glob::Wild(toks) => match_tokens(toks, text, ascii_ci),
        }
    }
}

/// The classic two-pointer wildcard match of `toks` against the whole of
/// `text`: O(len(toks) × len(text)) at worst, no allocation.
pub(super) fn match_tokens(toks: &[Tok], text: &str, ascii_ci: bool) -> bool {
    let eq = |a: char, b: char| a == b || ascii_ci && a.eq_ignore_ascii_case(&b);
    let (mut pi, mut ti) = (0usize, 0usize);
    // After the last `*`: the token after it, and the text position it
    // currently absorbs up to.
    let mut star: Option<(usize, usize)> = None;
    while let Some(c) = text[ti..].chars().next() {
        match toks.get(pi) {
            Some(Tok::Star) => {
                pi += 1;
                star = Some((pi, ti));
            }
            Some(Tok::One) => {
                pi += 1;
                ti += c.len_utf8();
            }
            Some(&Tok::Char(p)) if eq(p, c) => {
                pi += 1;
                ti += c.len_utf8();
            }
            _ => match star {
                Some((sp, st)) => {
                    // Let the last `*` absorb one more character.
                    let next = st + text[st..].chars().next().map_or(1, char::len_utf8);
                    star = Some((sp, next));
                    pi = sp;
                    ti = next;
                }
                None => return false,
            },
        }
    }
    toks[pi.min(toks.len())..].iter().all(|t| *t == Tok::Star)
}

/// The six parts of an ARN pattern, each a glob, or `None` when the pattern
/// is not six `:`-separated parts starting with `arn` (it matches nothing).
pub(super) fn arn_parts(toks: &[Tok]) -> Option<[Box<[Tok]>; 6]> {
    let starts_arn = matches!(toks, [Tok::Char('a'), Tok::Char('r'), Tok::Char('n'), ..]);
    if !starts_arn {
        return None;
    }
    let mut parts: [Vec<Tok>; 6] = Default::default();
    let mut n = 0;
    for t in toks {
        if *t == Tok::Char(':') && n < 5 {
            n += 1;
        } else {
            parts[n].push(*t);
        }
    }
    (n == 5).then(|| parts.map(Vec::into_boxed_slice))
}

/// `ArnLike`/`ArnEquals`: `value` split the same way, each part matched
/// against its pattern part.
pub(super) fn arn_matches(parts: &[Box<[Tok]>; 6], value: &str) -> bool {
    if !value.starts_with("arn") {
        return false;
    }
    let mut it = value.splitn(6, ':');
    parts
        .iter()
        .all(|p| it.next().is_some_and(|v| match_tokens(p, v, false)))
}

/// The principals a `Principal`/`NotPrincipal` element names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Principals {
    /// `"*"`: everyone, service principals included.
    Everyone,
    /// `{"AWS": …, "Service": …}`.
    Named {
        /// `{"AWS": "*"}`: every AWS (non-service) principal.
        aws_any: bool,
        /// Account ids and root ARNs: the account, and the partition for
        /// an ARN (`None` for a bare account id: any partition).
        accounts: Vec<(Option<AwsPartition>, Box<str>)>,
        /// Other AWS ARNs, matched exactly against the caller's ARNs.
        arns: Vec<Box<str>>,
        /// Service principal names (ASCII case-insensitive).
        services: Vec<Box<str>>,
    },
}

impl Principals {
    /// How these principals name `caller`: the best match over all entries.
    pub(super) fn match_caller(&self, caller: &Caller) -> Option<PrincipalMatch> {
        let Principals::Named {
            aws_any,
            accounts,
            arns,
            services,
        } = self
        else {
            return Some(PrincipalMatch::Direct);
        };
        let p = &caller.principal;
        if let PrincipalKind::Service { name } = p.kind() {
            return services
                .iter()
                .any(|s| s.eq_ignore_ascii_case(name))
                .then_some(PrincipalMatch::Direct);
        }
        if *aws_any
            || arns
                .iter()
                .any(|a| caller.match_arns.iter().any(|m| **a == **m))
        {
            return Some(PrincipalMatch::Direct);
        }
        let account = p.account()?;
        let mut best = None;
        for (partition, acct) in accounts {
            if **acct != *account.as_str() || partition.is_some_and(|x| x != p.partition()) {
                continue;
            }
            if p.is_root() {
                return Some(PrincipalMatch::Direct);
            }
            best = Some(PrincipalMatch::Account);
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(p: &str, t: &str) -> bool {
        Glob::new(p).matches(t, false)
    }

    #[test]
    fn globs_match_whole_strings() {
        assert!(glob("kms:*", "kms:putkeypolicy"));
        assert!(glob("*", "anything"));
        assert!(glob("*", ""));
        assert!(glob("kms:put*policy", "kms:putkeypolicy"));
        assert!(glob("kms:putkeypolic?", "kms:putkeypolicy"));
        assert!(!glob("kms:get*", "kms:putkeypolicy"));
        assert!(!glob("kms:putkeypolicy?", "kms:putkeypolicy"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("a*b*c", "aXbY"));
        assert!(glob("a**", "a"));
        assert!(glob("?", "é"));
        assert!(!glob("??", "é"));
        assert!(glob("*é?", "xxéy"));
        assert!(!glob("abc", "ABC"));
        assert!(Glob::new("KMS:Put*").matches("kms:putkeypolicy", true));
        assert!(Glob::new("kms:encrypt").matches("KMS:Encrypt", true));
        assert!(glob(
            "arn:aws:kms:*:111122223333:key/*",
            "arn:aws:kms:us-west-2:111122223333:key/x"
        ));
    }

    #[test]
    fn globs_are_not_exponential() {
        let pattern = format!("{}b", "*a".repeat(40));
        let text = "a".repeat(20_000);
        assert!(!glob(&pattern, &text));
        assert!(glob(&format!("{}*", "*a".repeat(40)), &text));
    }

    #[test]
    fn arn_patterns_split_into_six_parts() {
        let parts = arn_parts(&tokens("arn:aws:kms:*:*:key/*")).unwrap();
        assert!(arn_matches(&parts, "arn:aws:kms:us-west-2:1:key/a:b"));
        assert!(!arn_matches(&parts, "arn:aws:kms:us-west-2:1:alias/a"));
        assert!(!arn_matches(&parts, "arn:aws:kms:us-west-2"));
        assert!(arn_parts(&tokens("*")).is_none());
        assert!(arn_parts(&tokens("arn:aws:kms")).is_none());
    }
}
