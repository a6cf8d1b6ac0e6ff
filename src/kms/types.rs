//! Request and response shapes of the KMS operations, with the API's field
//! names (PascalCase in JSON) so the wire layer can read and write them as
//! they are.
//!
//! Requests are `Default`, so Rust callers fill only what they need:
//!
//! ```
//! use kms_keystore::kms::EncryptRequest;
//! let req = EncryptRequest { key_id: "alias/app".into(), plaintext: "hi".into(), ..Default::default() };
//! assert!(req.encryption_context.is_empty());
//! ```
//!
//! Secret fields (plaintexts, passwords, XKS secrets) never appear in
//! `Debug` or serde output; the wire layer writes response plaintexts
//! explicitly.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::crypto::{EncryptionContext, Plaintext};
use crate::ids::KeyId;
use crate::key::{
    CustomerMasterKeySpec, DataKeySpec, EncryptionAlgorithmSpec, KeyMetadata, KeySpec, KeyState,
    KeyUsage, OriginType, Tag,
};

/// CreateKey input.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateKeyRequest {
    /// The key policy (JSON); the default policy when absent.
    pub policy: Option<String>,
    /// Description, up to 8192 characters.
    pub description: Option<String>,
    /// `ENCRYPT_DECRYPT` (the default) is the only usage implemented.
    pub key_usage: Option<KeyUsage>,
    /// Deprecated twin of `key_spec`.
    pub customer_master_key_spec: Option<CustomerMasterKeySpec>,
    /// `SYMMETRIC_DEFAULT` (the default) is the only spec implemented.
    pub key_spec: Option<KeySpec>,
    /// `AWS_KMS` (default), `AWS_CLOUDHSM` or `EXTERNAL_KEY_STORE`.
    pub origin: Option<OriginType>,
    /// The custom key store, for `AWS_CLOUDHSM` and `EXTERNAL_KEY_STORE`.
    pub custom_key_store_id: Option<String>,
    /// Skip the key policy lockout safety check.
    pub bypass_policy_lockout_safety_check: Option<bool>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Must be false (multi-Region keys are not implemented).
    pub multi_region: Option<bool>,
    /// The external key, for `EXTERNAL_KEY_STORE`.
    pub xks_key_id: Option<String>,
}

impl CreateKeyRequest {
    /// A request for a standard symmetric key with a description.
    pub fn with_description(description: impl Into<String>) -> CreateKeyRequest {
        CreateKeyRequest {
            description: Some(description.into()),
            ..Default::default()
        }
    }
}

/// CreateKey and DescribeKey output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct KeyMetadataResponse {
    /// The key's metadata.
    pub key_metadata: KeyMetadata,
}

/// ListKeys input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListKeysRequest {
    /// 1–1000; default 100.
    pub limit: Option<u32>,
    /// `NextMarker` of the previous page.
    pub marker: Option<String>,
}

/// One entry of ListKeys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyListEntry {
    /// Key id.
    pub key_id: KeyId,
    /// Key ARN.
    pub key_arn: String,
}

/// ListKeys output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListKeysResponse {
    /// The page.
    pub keys: Vec<KeyListEntry>,
    /// Pass as `Marker` for the next page.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_marker: Option<String>,
    /// Whether there are more.
    pub truncated: bool,
}

/// ScheduleKeyDeletion input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ScheduleKeyDeletionRequest {
    /// Key id or key ARN.
    pub key_id: String,
    /// 7–30; default 30.
    pub pending_window_in_days: Option<u32>,
}

/// ScheduleKeyDeletion output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ScheduleKeyDeletionResponse {
    /// Key ARN.
    pub key_id: String,
    /// When the key will be deleted.
    pub deletion_date: Timestamp,
    /// `PendingDeletion`.
    pub key_state: KeyState,
    /// The waiting period.
    pub pending_window_in_days: u32,
}

/// CancelKeyDeletion output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct CancelKeyDeletionResponse {
    /// Key ARN.
    pub key_id: String,
}

/// Encrypt input.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EncryptRequest {
    /// Key id, key ARN, alias name or alias ARN.
    pub key_id: String,
    /// 1–4096 bytes.
    pub plaintext: Plaintext,
    /// Bound to the ciphertext; Decrypt must give the same pairs.
    pub encryption_context: EncryptionContext,
    /// Accepted and checked for shape; grants are not modelled.
    pub grant_tokens: Vec<String>,
    /// `SYMMETRIC_DEFAULT` only.
    pub encryption_algorithm: Option<EncryptionAlgorithmSpec>,
    /// Check everything, then fail with `DryRunOperationException`.
    pub dry_run: Option<bool>,
}

/// Encrypt output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct EncryptResponse {
    /// The ciphertext blob.
    #[serde(with = "crate::base64_blob")]
    pub ciphertext_blob: Vec<u8>,
    /// The key ARN.
    pub key_id: String,
    /// `SYMMETRIC_DEFAULT`.
    pub encryption_algorithm: EncryptionAlgorithmSpec,
}

/// Decrypt input.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DecryptRequest {
    /// The ciphertext blob (1–6144 bytes).
    #[serde(with = "crate::base64_blob")]
    pub ciphertext_blob: Vec<u8>,
    /// The context given to Encrypt.
    pub encryption_context: EncryptionContext,
    /// Accepted and checked for shape; grants are not modelled.
    pub grant_tokens: Vec<String>,
    /// Optional; if given it must be the key that encrypted the blob.
    pub key_id: Option<String>,
    /// `SYMMETRIC_DEFAULT` only.
    pub encryption_algorithm: Option<EncryptionAlgorithmSpec>,
    /// Check everything, then fail with `DryRunOperationException`.
    pub dry_run: Option<bool>,
}

/// Decrypt output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DecryptResponse {
    /// The key ARN.
    pub key_id: String,
    /// The plaintext (redacted in Debug and serde).
    pub plaintext: Plaintext,
    /// `SYMMETRIC_DEFAULT`.
    pub encryption_algorithm: EncryptionAlgorithmSpec,
}

/// ReEncrypt input.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReEncryptRequest {
    /// The ciphertext blob.
    #[serde(with = "crate::base64_blob")]
    pub ciphertext_blob: Vec<u8>,
    /// The context the blob was made with.
    pub source_encryption_context: EncryptionContext,
    /// Optional; if given it must be the key that encrypted the blob.
    pub source_key_id: Option<String>,
    /// The key to encrypt under.
    pub destination_key_id: String,
    /// The context for the new blob.
    pub destination_encryption_context: EncryptionContext,
    /// `SYMMETRIC_DEFAULT` only.
    pub source_encryption_algorithm: Option<EncryptionAlgorithmSpec>,
    /// `SYMMETRIC_DEFAULT` only.
    pub destination_encryption_algorithm: Option<EncryptionAlgorithmSpec>,
    /// Accepted and checked for shape.
    pub grant_tokens: Vec<String>,
    /// Check everything, then fail with `DryRunOperationException`.
    pub dry_run: Option<bool>,
}

/// ReEncrypt output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ReEncryptResponse {
    /// The new blob.
    #[serde(with = "crate::base64_blob")]
    pub ciphertext_blob: Vec<u8>,
    /// The source key ARN.
    pub source_key_id: String,
    /// The destination key ARN.
    pub key_id: String,
    /// `SYMMETRIC_DEFAULT`.
    pub source_encryption_algorithm: EncryptionAlgorithmSpec,
    /// `SYMMETRIC_DEFAULT`.
    pub destination_encryption_algorithm: EncryptionAlgorithmSpec,
}

/// GenerateDataKey and GenerateDataKeyWithoutPlaintext input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GenerateDataKeyRequest {
    /// Key id, key ARN, alias name or alias ARN.
    pub key_id: String,
    /// Bound to the encrypted data key.
    pub encryption_context: EncryptionContext,
    /// 1–1024; exactly one of this and `key_spec`.
    pub number_of_bytes: Option<u32>,
    /// `AES_128` or `AES_256`; exactly one of this and `number_of_bytes`.
    pub key_spec: Option<DataKeySpec>,
    /// Accepted and checked for shape.
    pub grant_tokens: Vec<String>,
    /// Check everything, then fail with `DryRunOperationException`.
    pub dry_run: Option<bool>,
}

/// GenerateDataKey output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GenerateDataKeyResponse {
    /// The data key encrypted under the KMS key.
    #[serde(with = "crate::base64_blob")]
    pub ciphertext_blob: Vec<u8>,
    /// The data key (redacted in Debug and serde).
    pub plaintext: Plaintext,
    /// The key ARN.
    pub key_id: String,
}

/// GenerateDataKeyWithoutPlaintext output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GenerateDataKeyWithoutPlaintextResponse {
    /// The data key encrypted under the KMS key.
    #[serde(with = "crate::base64_blob")]
    pub ciphertext_blob: Vec<u8>,
    /// The key ARN.
    pub key_id: String,
}

/// GenerateRandom input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GenerateRandomRequest {
    /// 1–1024 (required).
    pub number_of_bytes: Option<u32>,
    /// A CloudHSM key store whose cluster makes the bytes.
    pub custom_key_store_id: Option<String>,
}

/// GenerateRandom output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GenerateRandomResponse {
    /// The bytes (redacted in Debug and serde).
    pub plaintext: Plaintext,
}
