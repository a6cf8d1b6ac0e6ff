//! Request checks that more than one API area makes: tag lists (CreateKey,
//! TagResource), descriptions (CreateKey, UpdateKeyDescription) and grant
//! tokens (the cryptographic operations, GenerateDataKeyPair), with the
//! limits they enforce, and the largest ciphertext blob (Decrypt,
//! ReEncrypt).

use std::collections::HashSet;

use crate::error::{AwsMessage, Constraint, Error, Result, Shown, Violation};
use crate::key::Tag;

/// Longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 8192;
/// Most tags on one key.
pub const MAX_TAGS: usize = 50;
/// Largest ciphertext blob Decrypt accepts.
pub const MAX_CIPHERTEXT_BLOB: usize = 6144;

/// Checks a description: at most [`MAX_DESCRIPTION_CHARS`] characters
/// (`ValidationException`).
/// A binary member (a message, MAC, signature, public key) outside
/// `1..=max` bytes: `ValidationException` naming the bound, without
/// echoing the bytes.
pub(crate) fn check_binary_len(member: &str, n: usize, max: usize) -> Result<()> {
    if n == 0 || n > max {
        return Err(Error::invalid(
            member,
            Shown::Hidden,
            if n == 0 {
                Constraint::MinLength(1)
            } else {
                Constraint::MaxLength(max)
            },
        ));
    }
    Ok(())
}

pub(crate) fn check_description(description: &str) -> Result<()> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Error::invalid(
            "description",
            Shown::Value(description.to_owned()),
            Constraint::MaxLength(MAX_DESCRIPTION_CHARS),
        ));
    }
    Ok(())
}

/// Checks a tag list as TagResource and CreateKey do, in AWS's order:
/// first the model's constraints on every tag, all reported at once
/// (`ValidationException`, e.g. `Value '<key>' at 'tags.1.member.tagKey'
/// failed to satisfy constraint: Member must have length less than or equal
/// to 128`): keys of 1–128 and values of 0–256 characters; then a tag key
/// twice (`Duplicate tag keys`), more than 50 tags (`Too many tags`) and a
/// key beginning with `aws:` in any case (`Tags beginning with aws: are
/// reserved`), each `TagException`.
pub(crate) fn validate_tags(tags: &[Tag]) -> Result<()> {
    let mut violations = Vec::new();
    for (i, t) in tags.iter().enumerate() {
        let n = i + 1;
        let key_chars = t.tag_key.chars().count();
        if key_chars < 1 {
            violations.push(Violation::new(
                format!("tags.{n}.member.tagKey"),
                Shown::Value(t.tag_key.clone()),
                Constraint::MinLength(1),
            ));
        } else if key_chars > 128 {
            violations.push(Violation::new(
                format!("tags.{n}.member.tagKey"),
                Shown::Value(t.tag_key.clone()),
                Constraint::MaxLength(128),
            ));
        }
        if t.tag_value.chars().count() > 256 {
            violations.push(Violation::new(
                format!("tags.{n}.member.tagValue"),
                Shown::Value(t.tag_value.clone()),
                Constraint::MaxLength(256),
            ));
        }
    }
    if !violations.is_empty() {
        return Err(Error::from(AwsMessage::Validation(violations)));
    }
    let mut seen = HashSet::with_capacity(tags.len());
    if !tags.iter().all(|t| seen.insert(t.tag_key.as_str())) {
        return Err(Error::from(AwsMessage::DuplicateTagKeys));
    }
    if tags.len() > MAX_TAGS {
        return Err(Error::from(AwsMessage::TooManyTags)
            .with_hint(format!("A request can have at most {MAX_TAGS} tags.")));
    }
    if tags.iter().any(|t| is_reserved_tag_key(&t.tag_key)) {
        return Err(Error::from(AwsMessage::ReservedTagKey));
    }
    Ok(())
}

/// Whether a tag key is in the `aws:` namespace, in any case (`AWS:key` too).
pub(crate) fn is_reserved_tag_key(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
}

/// Checks a request's `GrantTokens`: at most 10, each 1–8192 characters
/// (`ValidationException`).
pub(crate) fn check_grant_tokens(tokens: &[String]) -> Result<()> {
    if tokens.len() > 10 {
        return Err(Error::invalid(
            "grantTokens",
            Shown::Value(format!("[{}]", tokens.join(", "))),
            Constraint::MaxLength(10),
        ));
    }
    if let Some(t) = tokens.iter().find(|t| t.is_empty() || t.len() > 8192) {
        return Err(Error::invalid(
            "grantTokens",
            Shown::Value(format!("[{}]", tokens.join(", "))),
            if t.is_empty() {
                Constraint::MinLength(1)
            } else {
                Constraint::MaxLength(8192)
            },
        ));
    }
    Ok(())
}
