//! Request and response shapes of the grant operations: CreateGrant,
//! ListGrants, ListRetirableGrants, RetireGrant and RevokeGrant, with the
//! [`GrantOperation`] enum and the [`GrantConstraints`] structure, named as
//! the AWS API (and aws-sdk-kms) names them.
//!
//! ```
//! use kms_keystore::{CreateGrantRequest, GrantOperation};
//! let req = CreateGrantRequest {
//!     key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
//!     grantee_principal: "arn:aws:iam::111122223333:role/ExampleRole".into(),
//!     operations: vec![GrantOperation::Encrypt, GrantOperation::Decrypt],
//!     ..Default::default()
//! };
//! assert_eq!(GrantOperation::Encrypt.as_str(), "Encrypt");
//! assert_eq!(req.operations.len(), 2);
//! ```

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::crypto::EncryptionContext;
use crate::macros::wire_enum;

wire_enum! {
    /// An operation a grant may allow (the API's `GrantOperation`).
    pub enum GrantOperation ("operations") {
        /// Decrypt.
        Decrypt => "Decrypt",
        /// Encrypt.
        Encrypt => "Encrypt",
        /// GenerateDataKey.
        GenerateDataKey => "GenerateDataKey",
        /// GenerateDataKeyWithoutPlaintext.
        GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
        /// ReEncrypt, on the source key.
        ReEncryptFrom => "ReEncryptFrom",
        /// ReEncrypt, on the destination key.
        ReEncryptTo => "ReEncryptTo",
        /// Sign (asymmetric signing keys only).
        Sign => "Sign",
        /// Verify (asymmetric signing keys only).
        Verify => "Verify",
        /// GetPublicKey (asymmetric keys only).
        GetPublicKey => "GetPublicKey",
        /// CreateGrant.
        CreateGrant => "CreateGrant",
        /// RetireGrant.
        RetireGrant => "RetireGrant",
        /// DescribeKey.
        DescribeKey => "DescribeKey",
        /// GenerateDataKeyPair.
        GenerateDataKeyPair => "GenerateDataKeyPair",
        /// GenerateDataKeyPairWithoutPlaintext.
        GenerateDataKeyPairWithoutPlaintext => "GenerateDataKeyPairWithoutPlaintext",
        /// GenerateMac (HMAC keys only).
        GenerateMac => "GenerateMac",
        /// VerifyMac (HMAC keys only).
        VerifyMac => "VerifyMac",
        /// DeriveSharedSecret (key agreement keys only).
        DeriveSharedSecret => "DeriveSharedSecret",
    }
}

impl GrantOperation {
    /// The grant operations AWS allows on a symmetric encryption KMS key: the cryptographic operations of
    /// symmetric keys, the data key pair operations, CreateGrant,
    /// RetireGrant and DescribeKey.
    pub const SYMMETRIC_ENCRYPTION: &'static [GrantOperation] = &[
        GrantOperation::Decrypt,
        GrantOperation::Encrypt,
        GrantOperation::GenerateDataKey,
        GrantOperation::GenerateDataKeyWithoutPlaintext,
        GrantOperation::ReEncryptFrom,
        GrantOperation::ReEncryptTo,
        GrantOperation::CreateGrant,
        GrantOperation::RetireGrant,
        GrantOperation::DescribeKey,
        GrantOperation::GenerateDataKeyPair,
        GrantOperation::GenerateDataKeyPairWithoutPlaintext,
    ];

    /// The grant operations AWS allows on an HMAC KMS key: GenerateMac,
    /// VerifyMac, CreateGrant, RetireGrant and DescribeKey.
    pub const HMAC: &'static [GrantOperation] = &[
        GrantOperation::GenerateMac,
        GrantOperation::VerifyMac,
        GrantOperation::CreateGrant,
        GrantOperation::RetireGrant,
        GrantOperation::DescribeKey,
    ];

    /// The grant operations AWS allows on an asymmetric `ENCRYPT_DECRYPT`
    /// (RSA) key.
    pub const ASYMMETRIC_ENCRYPTION: &'static [GrantOperation] = &[
        GrantOperation::Decrypt,
        GrantOperation::Encrypt,
        GrantOperation::ReEncryptFrom,
        GrantOperation::ReEncryptTo,
        GrantOperation::GetPublicKey,
        GrantOperation::CreateGrant,
        GrantOperation::RetireGrant,
        GrantOperation::DescribeKey,
    ];

    /// The grant operations AWS allows on a `SIGN_VERIFY` key.
    pub const SIGN_VERIFY: &'static [GrantOperation] = &[
        GrantOperation::Sign,
        GrantOperation::Verify,
        GrantOperation::GetPublicKey,
        GrantOperation::CreateGrant,
        GrantOperation::RetireGrant,
        GrantOperation::DescribeKey,
    ];

    /// The grant operations AWS allows on a `KEY_AGREEMENT` key.
    pub const KEY_AGREEMENT: &'static [GrantOperation] = &[
        GrantOperation::DeriveSharedSecret,
        GrantOperation::GetPublicKey,
        GrantOperation::CreateGrant,
        GrantOperation::RetireGrant,
        GrantOperation::DescribeKey,
    ];

    /// Whether the operation takes an encryption context, so that a grant
    /// constraint applies to it (AWS: the cryptographic operations of
    /// symmetric keys; CreateGrant, whose constraint bounds the grants it
    /// creates). DescribeKey and RetireGrant do not.
    pub const fn takes_encryption_context(self) -> bool {
        matches!(
            self,
            GrantOperation::Decrypt
                | GrantOperation::Encrypt
                | GrantOperation::GenerateDataKey
                | GrantOperation::GenerateDataKeyWithoutPlaintext
                | GrantOperation::ReEncryptFrom
                | GrantOperation::ReEncryptTo
                | GrantOperation::GenerateDataKeyPair
                | GrantOperation::GenerateDataKeyPairWithoutPlaintext
                | GrantOperation::CreateGrant
        )
    }
}

/// A grant constraint: the grant allows its cryptographic operations only
/// when the request's encryption context equals (`EncryptionContextEquals`)
/// or includes (`EncryptionContextSubset`) these pairs. Keys compare without
/// regard to case, values exactly, as AWS compares them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GrantConstraints {
    /// Pairs the request's encryption context must include.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<EncryptionContext>,
    /// Pairs the request's encryption context must be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<EncryptionContext>,
}

/// CreateGrant input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateGrantRequest {
    /// The key, by key id or key ARN (not by alias).
    pub key_id: String,
    /// Who gets the permissions: a principal ARN (account root, IAM user or
    /// role, assumed-role session) or an AWS service principal.
    pub grantee_principal: String,
    /// Who may retire the grant, besides those AWS always allows.
    pub retiring_principal: Option<String>,
    /// The operations the grant allows: at least one, each valid for the key.
    pub operations: Vec<GrantOperation>,
    /// An encryption context constraint.
    pub constraints: Option<GrantConstraints>,
    /// Grant tokens (at most 10), each one CreateGrant returned.
    pub grant_tokens: Vec<String>,
    /// A name (1–256 of `[a-zA-Z0-9:/_-]`): a repeat with the same name and
    /// parameters returns the same grant id instead of a new grant.
    pub name: Option<String>,
    /// Check everything, then fail with `DryRunOperationException`.
    pub dry_run: Option<bool>,
}

/// CreateGrant output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct CreateGrantResponse {
    /// An opaque token naming the grant, unique to this call; pass it in
    /// `GrantTokens` or to RetireGrant.
    pub grant_token: String,
    /// The grant id: 64 hexadecimal characters.
    pub grant_id: String,
}

/// ListGrants input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListGrantsRequest {
    /// 1–100; default 50.
    pub limit: Option<u32>,
    /// `NextMarker` of the previous page.
    pub marker: Option<String>,
    /// The key, by key id or key ARN (not by alias).
    pub key_id: String,
    /// Only the grant with this id.
    pub grant_id: Option<String>,
    /// Only the grants to this grantee principal.
    pub grantee_principal: Option<String>,
}

/// One grant, as ListGrants and ListRetirableGrants show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GrantListEntry {
    /// The key's ARN.
    pub key_id: String,
    /// The grant id.
    pub grant_id: String,
    /// The name given to CreateGrant, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// When the grant was created.
    pub creation_date: Timestamp,
    /// The grantee principal, as given.
    pub grantee_principal: String,
    /// The retiring principal, as given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retiring_principal: Option<String>,
    /// The account that issued the grant, as its root ARN.
    pub issuing_account: String,
    /// The operations the grant allows.
    pub operations: Vec<GrantOperation>,
    /// The grant's constraint, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub constraints: Option<GrantConstraints>,
}

/// ListGrants and ListRetirableGrants output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListGrantsResponse {
    /// The page, in creation order.
    pub grants: Vec<GrantListEntry>,
    /// Pass as `Marker` for the next page.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_marker: Option<String>,
    /// Whether there are more.
    pub truncated: bool,
}

/// ListRetirableGrants input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListRetirableGrantsRequest {
    /// 1–100; default 50.
    pub limit: Option<u32>,
    /// `NextMarker` of the previous page.
    pub marker: Option<String>,
    /// The retiring principal whose grants to list.
    pub retiring_principal: String,
}

/// RetireGrant input: the grant by `GrantToken`, or by `KeyId` and `GrantId`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RetireGrantRequest {
    /// A token CreateGrant returned for the grant.
    pub grant_token: Option<String>,
    /// The key, by key id or key ARN.
    pub key_id: Option<String>,
    /// The grant id.
    pub grant_id: Option<String>,
    /// Check everything, then fail with `DryRunOperationException`.
    pub dry_run: Option<bool>,
}

/// RevokeGrant input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RevokeGrantRequest {
    /// The key, by key id or key ARN (not by alias).
    pub key_id: String,
    /// The grant id.
    pub grant_id: String,
    /// Check everything, then fail with `DryRunOperationException`.
    pub dry_run: Option<bool>,
}
