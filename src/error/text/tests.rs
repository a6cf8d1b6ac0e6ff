//! One test per entry of AWS's message table: the exact text and the code.

use super::*;
use crate::error::Error;

const ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn check(case: AwsMessage, code: &str, text: &str) {
    let err = Error::from(case.clone());
    assert_eq!(err.code(), code);
    assert_eq!(err.message(), text);
    assert_eq!(err.aws_message(), Some(&case));
    assert_eq!(err.hint(), None);
}

#[test]
fn key_not_found() {
    check(
        AwsMessage::KeyNotFound { arn: ARN.into() },
        "NotFoundException",
        &format!("Key '{ARN}' does not exist"),
    );
}

#[test]
fn invalid_key_id() {
    check(
        AwsMessage::InvalidKeyId {
            key_id: "mrk-fake-key-id".into(),
        },
        "NotFoundException",
        "Invalid keyId 'mrk-fake-key-id'",
    );
}

#[test]
fn alias_not_found() {
    check(
        AwsMessage::AliasNotFound {
            arn: "arn:aws:kms:us-east-1:111122223333:alias/x".into(),
        },
        "NotFoundException",
        "Alias arn:aws:kms:us-east-1:111122223333:alias/x is not found.",
    );
}

#[test]
fn disabled() {
    check(
        AwsMessage::Disabled { arn: ARN.into() },
        "DisabledException",
        &format!("{ARN} is disabled."),
    );
}

#[test]
fn pending_deletion() {
    check(
        AwsMessage::PendingDeletion { arn: ARN.into() },
        "KMSInvalidStateException",
        &format!("{ARN} is pending deletion."),
    );
}

#[test]
fn pending_import() {
    check(
        AwsMessage::PendingImport { arn: ARN.into() },
        "KMSInvalidStateException",
        &format!("{ARN} is pending import."),
    );
}

#[test]
fn not_pending_deletion() {
    check(
        AwsMessage::NotPendingDeletion { arn: ARN.into() },
        "KMSInvalidStateException",
        &format!("{ARN} is not pending deletion."),
    );
}

#[test]
fn invalid_ciphertext_has_no_message() {
    check(
        AwsMessage::InvalidCiphertext,
        "InvalidCiphertextException",
        "",
    );
}

#[test]
fn incorrect_key() {
    check(
        AwsMessage::IncorrectKey,
        "IncorrectKeyException",
        "The key ID in the request does not identify a CMK that can perform this operation.",
    );
}

#[test]
fn alias_prefix() {
    check(
        AwsMessage::AliasPrefix,
        "ValidationException",
        "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
    );
}

#[test]
fn reserved_alias_has_no_message() {
    check(AwsMessage::ReservedAlias, "NotAuthorizedException", "");
}

#[test]
fn alias_invalid_characters() {
    check(
        AwsMessage::AliasInvalidCharacters {
            name: "alias/my:alias".into(),
        },
        "ValidationException",
        "alias/my:alias contains invalid characters for an alias",
    );
}

#[test]
fn validation_one_violation_shows_the_value() {
    check(
        AwsMessage::Validation(vec![Violation::new(
            "numberOfBytes",
            Shown::Value("1025".into()),
            Constraint::MaxValue(1024),
        )]),
        "ValidationException",
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024",
    );
}

#[test]
fn validation_of_a_secret_hides_the_value() {
    check(
        AwsMessage::Validation(vec![Violation::new(
            "plaintext",
            Shown::Hidden,
            Constraint::MaxLength(4096),
        )]),
        "ValidationException",
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096",
    );
}

#[test]
fn validation_enum_lists_the_set() {
    check(
        AwsMessage::Validation(vec![Violation::new(
            "keyUsage",
            Shown::Value("RANDOM".into()),
            Constraint::Enum(vec![
                "ENCRYPT_DECRYPT".into(),
                "SIGN_VERIFY".into(),
                "GENERATE_VERIFY_MAC".into(),
            ]),
        )]),
        "ValidationException",
        "1 validation error detected: Value 'RANDOM' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: [ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC]",
    );
}

#[test]
fn validation_several_violations() {
    check(
        AwsMessage::Validation(vec![
            Violation::new("keyId", Shown::Null, Constraint::NotNull),
            Violation::new(
                "tags.1.member.tagKey",
                Shown::Value("k".repeat(129)),
                Constraint::MaxLength(128),
            ),
        ]),
        "ValidationException",
        &format!(
            "2 validation errors detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null; Value '{}' at 'tags.1.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 128",
            "k".repeat(129)
        ),
    );
}

#[test]
fn validation_other_constraints() {
    let cases = [
        (
            Constraint::MinLength(1),
            "Member must have length greater than or equal to 1",
        ),
        (
            Constraint::MinValue(1),
            "Member must have value greater than or equal to 1",
        ),
        (
            Constraint::Pattern("^[a-zA-Z0-9:/_-]+$".into()),
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
        ),
        (Constraint::Other("as written".into()), "as written"),
    ];
    for (constraint, text) in cases {
        assert_eq!(constraint.to_string(), text);
    }
}

#[test]
fn key_usage_required() {
    check(
        AwsMessage::KeyUsageRequired,
        "ValidationException",
        "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.",
    );
}

#[test]
fn number_of_bytes_required() {
    check(
        AwsMessage::NumberOfBytesRequired,
        "ValidationException",
        "NumberOfBytes is required.",
    );
}

#[test]
fn reserved_tag_key() {
    check(
        AwsMessage::ReservedTagKey,
        "TagException",
        "Tags beginning with aws: are reserved",
    );
}

#[test]
fn duplicate_tag_keys() {
    check(
        AwsMessage::DuplicateTagKeys,
        "TagException",
        "Duplicate tag keys",
    );
}

#[test]
fn too_many_tags() {
    check(AwsMessage::TooManyTags, "TagException", "Too many tags");
}

#[test]
fn dry_run() {
    check(
        AwsMessage::DryRun,
        "DryRunOperationException",
        "The request would have succeeded, but the DryRun option is set.",
    );
}

#[test]
fn key_usage_not_valid() {
    check(
        AwsMessage::KeyUsageNotValid {
            arn: ARN.into(),
            usage: "ENCRYPT_DECRYPT".into(),
            operation: "GenerateMac".into(),
        },
        "InvalidKeyUsageException",
        &format!("{ARN} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac."),
    );
}

#[test]
fn origin_not_valid() {
    check(
        AwsMessage::OriginNotValid {
            arn: ARN.into(),
            origin: "AWS_KMS".into(),
        },
        "UnsupportedOperationException",
        &format!("{ARN} origin is AWS_KMS which is not valid for this operation."),
    );
}

#[test]
fn a_hint_stays_out_of_the_message() {
    let err = Error::from(AwsMessage::Disabled { arn: ARN.into() })
        .with_hint("Enable the key (EnableKey) to use it.");
    assert_eq!(err.message(), format!("{ARN} is disabled."));
    assert_eq!(err.hint(), Some("Enable the key (EnableKey) to use it."));
    assert_eq!(
        err.to_string(),
        format!("DisabledException: {ARN} is disabled.")
    );
}

#[test]
fn key_spec_or_number_of_bytes() {
    check(
        AwsMessage::KeySpecOrNumberOfBytes,
        "ValidationException",
        "Please specify either number of bytes or key spec.",
    );
}

#[test]
fn violation_helpers_name_the_bound_broken_and_only_then() {
    let shown = || Shown::Value("ab".into());
    assert_eq!(Violation::length("m", "ab", shown, 1, 2), None);
    assert_eq!(
        Violation::length("m", "ab", shown, 3, 5).map(|v| v.to_string()),
        Some("Value 'ab' at 'm' failed to satisfy constraint: Member must have length greater than or equal to 3".into())
    );
    assert_eq!(
        Violation::length("m", "ab", || Shown::Hidden, 0, 1).map(|v| v.to_string()),
        Some("Value at 'm' failed to satisfy constraint: Member must have length less than or equal to 1".into())
    );
    // Characters, not bytes.
    assert_eq!(Violation::length("m", "éé", shown, 1, 2), None);
    assert_eq!(Violation::range("n", 5, 1, 5), None);
    assert_eq!(
        Violation::range("n", 0, 1, 5).map(|v| v.constraint),
        Some(Constraint::MinValue(1))
    );
    assert_eq!(Violation::pattern("m", true, shown, "[a]+"), None);
    assert_eq!(
        Violation::pattern("m", false, shown, "[a]+").map(|v| v.to_string()),
        Some("Value 'ab' at 'm' failed to satisfy constraint: Member must satisfy regular expression pattern: [a]+".into())
    );
}
