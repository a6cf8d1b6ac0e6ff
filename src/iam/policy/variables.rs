//! Policy variables (`${aws:username}`, `${name, 'default'}`, `${*}`,
//! `${?}`, `${$}`): detected once at parse time into a [`Template`],
//! resolved against a request's condition keys at evaluation.

use super::ConditionContext;
use super::matching::Tok;

/// One piece of a pattern that uses variables.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    /// A character or wildcard of the pattern itself (`${*}` is
    /// `Tok::Char('*')`).
    Tok(Tok),
    /// `${name}` or `${name, 'default'}`.
    Var {
        /// The condition key.
        name: Box<str>,
        /// The value used when the key is absent.
        default: Option<Box<str>>,
    },
}

/// A pattern or value with at least one policy variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Template {
    pieces: Vec<Piece>,
}

/// Parses the variable at the start of `rest` (just after `${`): the piece
/// and the length of `rest` it takes (through `}`), or `None` when it is not
/// a well-formed variable (then `${` is literal text).
fn parse_var(rest: &str) -> Option<(Piece, usize)> {
    let end = rest.find('}')?;
    let inner = &rest[..end];
    let piece = match inner {
        "*" => Piece::Tok(Tok::Char('*')),
        "?" => Piece::Tok(Tok::Char('?')),
        "$" => Piece::Tok(Tok::Char('$')),
        _ => {
            let (name, default) = match inner.split_once(',') {
                None => (inner.trim(), None),
                Some((name, default)) => {
                    let d = default.trim();
                    let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
                    (name.trim(), Some(d.into()))
                }
            };
            if name.is_empty() {
                return None;
            }
            Piece::Var {
                name: name.into(),
                default,
            }
        }
    };
    Some((piece, end + 1))
}

impl Template {
    /// The template of `text` when it holds a policy variable (`*` and `?`
    /// are wildcards when `wildcards`), else `None`.
    pub(super) fn parse(text: &str, wildcards: bool) -> Option<Template> {
        if !text.contains("${") {
            return None;
        }
        let lit = |c: char| match c {
            '*' if wildcards => Tok::Star,
            '?' if wildcards => Tok::One,
            c => Tok::Char(c),
        };
        let mut pieces = Vec::new();
        let mut any_var = false;
        let mut i = 0;
        while let Some(c) = text[i..].chars().next() {
            if let Some(rest) = text[i..].strip_prefix("${")
                && let Some((piece, len)) = parse_var(rest)
            {
                any_var = true;
                pieces.push(piece);
                i += 2 + len;
                continue;
            }
            pieces.push(Piece::Tok(lit(c)));
            i += c.len_utf8();
        }
        any_var.then_some(Template { pieces })
    }

    /// The pattern with every variable replaced by its value (as literal
    /// characters), or `None` when a variable cannot be resolved: the key
    /// is absent and has no default, or it has other than one value.
    pub(super) fn resolve(&self, context: &ConditionContext) -> Option<Vec<Tok>> {
        let mut out = Vec::with_capacity(self.pieces.len());
        for piece in &self.pieces {
            match piece {
                Piece::Tok(t) => out.push(*t),
                Piece::Var { name, default } => {
                    let value = match (context.get(name), default) {
                        (Some([v]), _) => v.as_str(),
                        (None, Some(d)) => d,
                        _ => return None,
                    };
                    out.extend(value.chars().map(Tok::Char));
                }
            }
        }
        Some(out)
    }

    /// [`Template::resolve`] as plain text (wildcards as `*` and `?`).
    pub(super) fn resolve_text(&self, context: &ConditionContext) -> Option<String> {
        let toks = self.resolve(context)?;
        Some(
            toks.iter()
                .map(|t| match t {
                    Tok::Char(c) => *c,
                    Tok::Star => '*',
                    Tok::One => '?',
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_detected_and_resolved() {
        let mut cx = ConditionContext::default();
        cx.set("aws:username", "bob");
        let t = Template::parse("a/${aws:UserName}/${*}${?}${$}*", true).unwrap();
        let got = t.resolve(&cx).unwrap();
        let mut want: Vec<Tok> = "a/bob/*?$".chars().map(Tok::Char).collect();
        want.push(Tok::Star);
        assert_eq!(got, want);
        assert!(Template::parse("no variables", true).is_none());
        assert!(Template::parse("${unclosed", true).is_none());
        assert!(Template::parse("${}", true).is_none());
        let d = Template::parse("${x, 'dflt'}", false).unwrap();
        assert_eq!(d.resolve_text(&cx).as_deref(), Some("dflt"));
        cx.set_values("x", vec![]);
        assert_eq!(d.resolve_text(&cx), None, "present with no value");
        assert_eq!(
            Template::parse("${nope}", false).unwrap().resolve_text(&cx),
            None
        );
    }
}
