//! AWS's fixed message texts, in one table: [`AwsMessage`], one case per
//! text, with the typed fields the text shows (the key ARN, the member path,
//! the rejected value, the allowed set). [`fmt::Display`] renders AWS's
//! words byte for byte; [`AwsMessage::code`] names the exception.
//!
//! Each case names its source: an AWS-recorded response (LocalStack's
//! snapshot tests, `tests/aws/services/kms/test_kms.snapshot.json`, are
//! recorded against AWS and validated there; AWS CloudTrail examples in the
//! AWS documentation) or, where no recording was found, the crate's own text
//! kept without guidance (marked "not recorded").

use std::fmt;

use super::ErrorCode;

/// How a validation message shows the rejected value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shown {
    /// `Value '<v>' at '<member>'`: the value, as AWS echoes it.
    Value(String),
    /// `Value at '<member>'`: a secret (`Plaintext`) or a value AWS does not
    /// echo.
    Hidden,
    /// `Value null at '<member>'`: the member is absent.
    Null,
}

/// The constraint a member broke, in the API model's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Constraint {
    /// `Member must have length less than or equal to <n>`
    MaxLength(usize),
    /// `Member must have length greater than or equal to <n>`
    MinLength(usize),
    /// `Member must have value less than or equal to <n>`
    MaxValue(i64),
    /// `Member must have value greater than or equal to <n>`
    MinValue(i64),
    /// `Member must satisfy regular expression pattern: <p>`
    Pattern(String),
    /// `Member must satisfy enum value set: [<a>, <b>, …]`
    Enum(Vec<String>),
    /// `Member must not be null`
    NotNull,
    /// A constraint the model has no standard wording for, as written.
    Other(String),
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constraint::MaxLength(n) => {
                write!(f, "Member must have length less than or equal to {n}")
            }
            Constraint::MinLength(n) => {
                write!(f, "Member must have length greater than or equal to {n}")
            }
            Constraint::MaxValue(n) => {
                write!(f, "Member must have value less than or equal to {n}")
            }
            Constraint::MinValue(n) => {
                write!(f, "Member must have value greater than or equal to {n}")
            }
            Constraint::Pattern(p) => {
                write!(f, "Member must satisfy regular expression pattern: {p}")
            }
            Constraint::Enum(set) => {
                write!(
                    f,
                    "Member must satisfy enum value set: [{}]",
                    set.join(", ")
                )
            }
            Constraint::NotNull => f.write_str("Member must not be null"),
            Constraint::Other(s) => f.write_str(s),
        }
    }
}

/// One broken constraint of a `ValidationException`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Violation {
    /// The member path as AWS names it: `plaintext`, `tags.1.member.tagKey`.
    pub member: String,
    /// The rejected value, as shown.
    pub value: Shown,
    /// The constraint broken.
    pub constraint: Constraint,
}

impl Violation {
    /// `value` at `member` broke `constraint`.
    pub fn new(member: impl Into<String>, value: Shown, constraint: Constraint) -> Violation {
        Violation {
            member: member.into(),
            value,
            constraint,
        }
    }
}

impl Violation {
    /// The length violations of a string member whose model length is
    /// `min..=max` characters, in AWS's wording: none, or the bound broken.
    pub(crate) fn length(
        member: &str,
        value: &str,
        shown: impl FnOnce() -> Shown,
        min: usize,
        max: usize,
    ) -> Option<Violation> {
        let n = value.chars().count();
        let constraint = if n < min {
            Constraint::MinLength(min)
        } else if n > max {
            Constraint::MaxLength(max)
        } else {
            return None;
        };
        Some(Violation::new(member, shown(), constraint))
    }

    /// The range violation of a number member whose model range is
    /// `min..=max`, in AWS's wording: none, or the bound broken, with the
    /// value shown.
    pub(crate) fn range(member: &str, value: i64, min: i64, max: i64) -> Option<Violation> {
        let constraint = if value < min {
            Constraint::MinValue(min)
        } else if value > max {
            Constraint::MaxValue(max)
        } else {
            return None;
        };
        Some(Violation::new(
            member,
            Shown::Value(value.to_string()),
            constraint,
        ))
    }

    /// `Value '<v>' at '<member>' failed to satisfy constraint: Member must
    /// satisfy regular expression pattern: <pattern>`, or none when `ok`.
    pub(crate) fn pattern(
        member: &str,
        ok: bool,
        shown: impl FnOnce() -> Shown,
        pattern: &str,
    ) -> Option<Violation> {
        (!ok).then(|| Violation::new(member, shown(), Constraint::Pattern(pattern.to_owned())))
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Shown::Value(v) => write!(f, "Value '{v}' at '{}'", self.member)?,
            Shown::Hidden => write!(f, "Value at '{}'", self.member)?,
            Shown::Null => write!(f, "Value null at '{}'", self.member)?,
        }
        write!(f, " failed to satisfy constraint: {}", self.constraint)
    }
}

/// AWS's fixed message texts, one case per text, rendered by `Display`.
///
/// Match on [`Error::aws_message`](crate::Error::aws_message) to branch on a
/// case without parsing the message.
///
/// ```
/// use kms_keystore::{AwsMessage, Error};
/// let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// let err = Error::from(AwsMessage::Disabled { arn: arn.into() });
/// assert_eq!(err.code(), "DisabledException");
/// assert_eq!(err.message(), format!("{arn} is disabled."));
/// assert!(matches!(err.aws_message(), Some(AwsMessage::Disabled { .. })));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AwsMessage {
    /// `NotFoundException`: `Key '<arn>' does not exist` (no full stop).
    /// Source: LocalStack snapshot `test_get_key_does_not_exist`, also for a
    /// well-formed `mrk-` id.
    KeyNotFound {
        /// The key ARN.
        arn: String,
    },
    /// `NotFoundException`: `Invalid keyId '<id>'`. Source: LocalStack
    /// snapshot `test_get_key_invalid_uuid`.
    InvalidKeyId {
        /// The key id as given.
        key_id: String,
    },
    /// `NotFoundException`: `Alias <alias ARN> is not found.` Source: an
    /// AWS answer quoted in cloudposse/docs issue 152 ("Alias
    /// arn:aws:kms:us-west-2:…:alias/parameter_store_key is not found."),
    /// and moto's `test__delete_alias__raises_if_alias_is_not_found`.
    AliasNotFound {
        /// The alias ARN.
        arn: String,
    },
    /// `DisabledException`: `<arn> is disabled.` Source: issue 17's
    /// measurement against AWS.
    Disabled {
        /// The key ARN.
        arn: String,
    },
    /// `KMSInvalidStateException`: `<arn> is pending deletion.` Source:
    /// issue 17; the same form as the recorded `is pending import.`.
    PendingDeletion {
        /// The key ARN.
        arn: String,
    },
    /// `KMSInvalidStateException`: `<arn> is pending import.` Source:
    /// LocalStack snapshot `test_import_key_symmetric`.
    PendingImport {
        /// The key ARN.
        arn: String,
    },
    /// `KMSInvalidStateException`: `<arn> is not pending deletion.` Not
    /// recorded.
    NotPendingDeletion {
        /// The key ARN.
        arn: String,
    },
    /// `InvalidCiphertextException` with no message: the wire body has no
    /// `message` member. Source: LocalStack snapshots
    /// `test_encrypt_decrypt_encryption_context` and others (botocore reads
    /// `Message: ""` and no modelled `message`).
    InvalidCiphertext,
    /// `IncorrectKeyException`: `The key ID in the request does not identify
    /// a CMK that can perform this operation.` Source: LocalStack snapshot
    /// `test_error_messaging_for_invalid_keys`; AWS's CloudTrail example.
    IncorrectKey,
    /// `ValidationException` from CreateAlias (and the other alias
    /// operations) for a name without `alias/`. Source: LocalStack snapshot
    /// `test_create_alias`.
    AliasPrefix,
    /// `NotAuthorizedException` with no message: CreateAlias, UpdateAlias or
    /// DeleteAlias of an `alias/aws/…` name. Source: moto's
    /// `test__create_alias__raises_if_reserved_alias`, written from AWS's
    /// answer.
    ReservedAlias,
    /// `ValidationException`: `<name> contains invalid characters for an
    /// alias` — a `:` after `alias/`, which the API model's pattern allows
    /// but KMS refuses. Source: moto's
    /// `test__create_alias__raises_if_alias_has_restricted_characters_semicolon`,
    /// written from AWS's answer.
    AliasInvalidCharacters {
        /// The alias name as given.
        name: String,
    },
    /// `ValidationException`: `<n> validation error(s) detected: <v>; <v>`.
    /// Source: LocalStack snapshots (`test_generate_random_invalid_number_of_bytes`,
    /// `test_plaintext_size_for_encrypt`, `test_hmac_create_key_invalid_operations`).
    Validation(Vec<Violation>),
    /// `ValidationException` from CreateKey with an asymmetric or HMAC
    /// `KeySpec` and no `KeyUsage`. Source: LocalStack snapshot
    /// `test_hmac_create_key_invalid_operations`.
    KeyUsageRequired,
    /// `ValidationException` from GenerateRandom without `NumberOfBytes`.
    /// Source: LocalStack snapshot `test_generate_random_invalid_number_of_bytes[None]`.
    NumberOfBytesRequired,
    /// `ValidationException` from GenerateDataKey (and
    /// GenerateDataKeyWithoutPlaintext) with both or neither of `KeySpec`
    /// and `NumberOfBytes`: `Please specify either number of bytes or key
    /// spec.` Source: moto's KMS responses and the AWS-compatible suites
    /// that agree with it (the same text for both cases).
    KeySpecOrNumberOfBytes,
    /// `TagException`: `Tags beginning with aws: are reserved` (the prefix
    /// matched case-insensitively). Source: LocalStack's validated
    /// `services/kms/utils.py`.
    ReservedTagKey,
    /// `TagException`: `Duplicate tag keys`. Source: as [`AwsMessage::ReservedTagKey`].
    DuplicateTagKeys,
    /// `TagException`: `Too many tags` (more than 50 in the request). Source:
    /// as [`AwsMessage::ReservedTagKey`].
    TooManyTags,
    /// `DryRunOperationException`: `The request would have succeeded, but
    /// the DryRun option is set.` Source: LocalStack's `services/kms/utils.py`.
    DryRun,
    /// `InvalidKeyUsageException`: `<arn> key usage is <usage> which is not
    /// valid for <operation>.` Source: LocalStack snapshot
    /// `test_error_messaging_for_invalid_keys`.
    KeyUsageNotValid {
        /// The key ARN.
        arn: String,
        /// The key's usage, e.g. `ENCRYPT_DECRYPT`.
        usage: String,
        /// The operation, e.g. `GenerateMac`.
        operation: String,
    },
    /// `UnsupportedOperationException`: `<arn> origin is <origin> which is
    /// not valid for this operation.` Source: LocalStack snapshot
    /// `test_get_parameters_for_import`.
    OriginNotValid {
        /// The key ARN.
        arn: String,
        /// The key's origin, e.g. `AWS_KMS`.
        origin: String,
    },
}

impl AwsMessage {
    /// The exception AWS answers this text with.
    pub fn code(&self) -> ErrorCode {
        match self {
            AwsMessage::KeyNotFound { .. }
            | AwsMessage::InvalidKeyId { .. }
            | AwsMessage::AliasNotFound { .. } => ErrorCode::NotFound,
            AwsMessage::Disabled { .. } => ErrorCode::Disabled,
            AwsMessage::PendingDeletion { .. }
            | AwsMessage::PendingImport { .. }
            | AwsMessage::NotPendingDeletion { .. } => ErrorCode::KmsInvalidState,
            AwsMessage::InvalidCiphertext => ErrorCode::InvalidCiphertext,
            AwsMessage::ReservedAlias => ErrorCode::NotAuthorized,
            AwsMessage::IncorrectKey => ErrorCode::IncorrectKey,
            AwsMessage::AliasPrefix
            | AwsMessage::AliasInvalidCharacters { .. }
            | AwsMessage::Validation(_)
            | AwsMessage::KeyUsageRequired
            | AwsMessage::NumberOfBytesRequired
            | AwsMessage::KeySpecOrNumberOfBytes => ErrorCode::Validation,
            AwsMessage::ReservedTagKey | AwsMessage::DuplicateTagKeys | AwsMessage::TooManyTags => {
                ErrorCode::Tag
            }
            AwsMessage::DryRun => ErrorCode::DryRunOperation,
            AwsMessage::KeyUsageNotValid { .. } => ErrorCode::InvalidKeyUsage,
            AwsMessage::OriginNotValid { .. } => ErrorCode::UnsupportedOperation,
        }
    }
}

impl fmt::Display for AwsMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AwsMessage::KeyNotFound { arn } => write!(f, "Key '{arn}' does not exist"),
            AwsMessage::InvalidKeyId { key_id } => write!(f, "Invalid keyId '{key_id}'"),
            AwsMessage::AliasNotFound { arn } => write!(f, "Alias {arn} is not found."),
            AwsMessage::Disabled { arn } => write!(f, "{arn} is disabled."),
            AwsMessage::PendingDeletion { arn } => write!(f, "{arn} is pending deletion."),
            AwsMessage::PendingImport { arn } => write!(f, "{arn} is pending import."),
            AwsMessage::NotPendingDeletion { arn } => write!(f, "{arn} is not pending deletion."),
            AwsMessage::InvalidCiphertext | AwsMessage::ReservedAlias => Ok(()),
            AwsMessage::IncorrectKey => f.write_str(
                "The key ID in the request does not identify a CMK that can perform this operation.",
            ),
            AwsMessage::AliasInvalidCharacters { name } => {
                write!(f, "{name} contains invalid characters for an alias")
            }
            AwsMessage::AliasPrefix => f.write_str(
                "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
            ),
            AwsMessage::Validation(violations) => {
                let n = violations.len();
                let s = if n == 1 { "" } else { "s" };
                write!(f, "{n} validation error{s} detected: ")?;
                for (i, v) in violations.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
            AwsMessage::KeyUsageRequired => f.write_str(
                "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.",
            ),
            AwsMessage::NumberOfBytesRequired => f.write_str("NumberOfBytes is required."),
            AwsMessage::KeySpecOrNumberOfBytes => {
                f.write_str("Please specify either number of bytes or key spec.")
            }
            AwsMessage::ReservedTagKey => f.write_str("Tags beginning with aws: are reserved"),
            AwsMessage::DuplicateTagKeys => f.write_str("Duplicate tag keys"),
            AwsMessage::TooManyTags => f.write_str("Too many tags"),
            AwsMessage::DryRun => {
                f.write_str("The request would have succeeded, but the DryRun option is set.")
            }
            AwsMessage::KeyUsageNotValid {
                arn,
                usage,
                operation,
            } => write!(f, "{arn} key usage is {usage} which is not valid for {operation}."),
            AwsMessage::OriginNotValid { arn, origin } => {
                write!(f, "{arn} origin is {origin} which is not valid for this operation.")
            }
        }
    }
}

#[cfg(test)]
mod tests;
