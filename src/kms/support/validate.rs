//! Request checks that more than one API area makes: tag lists (CreateKey,
//! TagResource), descriptions (CreateKey, UpdateKeyDescription) and grant
//! tokens (the cryptographic operations, GenerateDataKeyPair), with the
//! limits they enforce, and the largest ciphertext blob (Decrypt,
//! ReEncrypt).

use std::collections::HashSet;

use crate::error::{Error, Result, kms_err};
use crate::key::Tag;

/// Longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 8192;
/// Most tags on one key.
pub const MAX_TAGS: usize = 50;
/// Largest ciphertext blob Decrypt accepts.
pub const MAX_CIPHERTEXT_BLOB: usize = 6144;

/// Checks a description: at most [`MAX_DESCRIPTION_CHARS`] characters
/// (`ValidationException`).
pub(crate) fn check_description(description: &str) -> Result<()> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Error::validation(
            "description",
            format_args!("Member must have length less than or equal to {MAX_DESCRIPTION_CHARS}"),
        ));
    }
    Ok(())
}

/// Checks a tag list as TagResource and CreateKey do: at most 50 tags, keys of
/// 1–128 and values of 0–256 characters, no `aws:` prefix, no key twice.
/// Every failure is `TagException`.
pub(crate) fn validate_tags(tags: &[Tag]) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(kms_err!(
            Tag,
            "A key can have at most {MAX_TAGS} tags; the request has {}.",
            tags.len()
        ));
    }
    let mut seen = HashSet::with_capacity(tags.len());
    for t in tags {
        let n = t.tag_key.chars().count();
        if !(1..=128).contains(&n) {
            return Err(kms_err!(
                Tag,
                "Tag key '{}' must be 1 to 128 characters long.",
                t.tag_key
            ));
        }
        if t.tag_value.chars().count() > 256 {
            return Err(kms_err!(
                Tag,
                "The value of tag '{}' must be at most 256 characters long.",
                t.tag_key
            ));
        }
        if t.tag_key.starts_with("aws:") {
            return Err(kms_err!(
                Tag,
                "Tag key '{}' uses the reserved prefix 'aws:'.",
                t.tag_key
            ));
        }
        if !seen.insert(t.tag_key.as_str()) {
            return Err(kms_err!(
                Tag,
                "Tag key '{}' appears more than once in the request.",
                t.tag_key
            ));
        }
    }
    Ok(())
}

/// Checks a request's `GrantTokens`: at most 10, each 1–8192 characters
/// (`ValidationException`).
pub(crate) fn check_grant_tokens(tokens: &[String]) -> Result<()> {
    if tokens.len() > 10 {
        return Err(Error::validation(
            "grantTokens",
            "Member must have length less than or equal to 10",
        ));
    }
    if tokens.iter().any(|t| t.is_empty() || t.len() > 8192) {
        return Err(Error::validation(
            "grantTokens",
            "Member must have length between 1 and 8192",
        ));
    }
    Ok(())
}
