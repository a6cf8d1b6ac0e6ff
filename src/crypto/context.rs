//! Encryption context: the map a caller binds to a ciphertext, and its
//! canonical AAD encoding.
//!
//! The AAD is the blob header followed by the pairs sorted by key (byte
//! order), each as `u32be(len(key)) || key || u32be(len(value)) || value`,
//! preceded by `u32be(number of pairs)`. The same pairs in any order give the
//! same bytes; a changed, missing or extra pair gives different bytes.

use std::collections::BTreeMap;

/// An encryption context: string keys and values, matched exactly and
/// case-sensitively on Decrypt; order does not matter.
pub type EncryptionContext = BTreeMap<String, String>;

/// Appends the canonical encoding of `ctx` to `out`.
pub fn encode_context(ctx: &EncryptionContext, out: &mut Vec<u8>) {
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
    out.extend_from_slice(&len(ctx.len()));
    for (k, v) in ctx {
        out.extend_from_slice(&len(k.len()));
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&len(v.len()));
        out.extend_from_slice(v.as_bytes());
    }
}

/// The AAD for a blob: `header || canonical(ctx)`; for an empty context it is
/// the header alone, borrowed, with no allocation.
pub(crate) fn aad<'a>(header: &'a [u8], ctx: &EncryptionContext) -> std::borrow::Cow<'a, [u8]> {
    if ctx.is_empty() {
        return std::borrow::Cow::Borrowed(header);
    }
    let mut out = Vec::with_capacity(
        header.len()
            + 4
            + ctx
                .iter()
                .map(|(k, v)| 8 + k.len() + v.len())
                .sum::<usize>(),
    );
    out.extend_from_slice(header);
    encode_context(ctx, &mut out);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn order_does_not_matter() {
        let a = ctx(&[("a", "1"), ("b", "2")]);
        let b = ctx(&[("b", "2"), ("a", "1")]);
        assert_eq!(aad(b"h", &a), aad(b"h", &b));
    }

    #[test]
    fn pairs_cannot_be_confused_by_concatenation() {
        assert_ne!(
            aad(b"h", &ctx(&[("ab", "c")])),
            aad(b"h", &ctx(&[("a", "bc")]))
        );
        assert_ne!(aad(b"h", &ctx(&[])), aad(b"h", &ctx(&[("", "")])));
    }

    #[test]
    fn case_matters() {
        assert_ne!(
            aad(b"h", &ctx(&[("A", "1")])),
            aad(b"h", &ctx(&[("a", "1")]))
        );
    }
}
