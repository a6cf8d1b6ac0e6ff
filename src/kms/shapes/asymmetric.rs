//! The shapes of the asymmetric-key operations: Sign, Verify, GetPublicKey
//! and DeriveSharedSecret (GenerateDataKeyPair's are with the other data
//! key shapes in [`types`](super::types)).

use serde::{Deserialize, Serialize};

use crate::crypto::Plaintext;
use crate::key::{
    CustomerMasterKeySpec, EncryptionAlgorithmSpec, KeyAgreementAlgorithmSpec, KeySpec, KeyUsage,
    MessageType, OriginType, SigningAlgorithmSpec,
};

/// Sign input.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SignRequest {
    /// A `SIGN_VERIFY` key: key id, key ARN, alias name or alias ARN.
    pub key_id: String,
    /// The message (at most 4096 bytes) or, with `MessageType` `DIGEST`,
    /// its digest (sensitive: never printed).
    pub message: Plaintext,
    /// `RAW` (the default) or `DIGEST`.
    pub message_type: Option<MessageType>,
    /// Grant tokens.
    pub grant_tokens: Vec<String>,
    /// One of the key spec's signing algorithms (required).
    pub signing_algorithm: Option<SigningAlgorithmSpec>,
    /// Check everything, then fail with `DryRunOperationException`.
    pub dry_run: Option<bool>,
}

/// Sign output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct SignResponse {
    /// The key ARN.
    pub key_id: String,
    /// The signature: raw for RSA, DER-encoded (`ECDSA-Sig-Value`) for ECDSA.
    #[serde(with = "crate::base64_blob")]
    pub signature: Vec<u8>,
    /// The algorithm used.
    pub signing_algorithm: SigningAlgorithmSpec,
}

/// Verify input.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VerifyRequest {
    /// The `SIGN_VERIFY` key that made the signature.
    pub key_id: String,
    /// The message or its digest, as given to Sign.
    pub message: Plaintext,
    /// `RAW` (the default) or `DIGEST`.
    pub message_type: Option<MessageType>,
    /// The signature to check (1–6144 bytes).
    #[serde(with = "crate::base64_blob")]
    pub signature: Vec<u8>,
    /// The algorithm that made the signature (required).
    pub signing_algorithm: Option<SigningAlgorithmSpec>,
    /// Grant tokens.
    pub grant_tokens: Vec<String>,
    /// Check everything, then fail with `DryRunOperationException`.
    pub dry_run: Option<bool>,
}

/// Verify output (only for a valid signature; otherwise
/// `KMSInvalidSignatureException`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct VerifyResponse {
    /// The key ARN.
    pub key_id: String,
    /// Always `true`.
    pub signature_valid: bool,
    /// The algorithm used.
    pub signing_algorithm: SigningAlgorithmSpec,
}

/// GetPublicKey input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GetPublicKeyRequest {
    /// An asymmetric key: key id, key ARN, alias name or alias ARN.
    pub key_id: String,
    /// Grant tokens.
    pub grant_tokens: Vec<String>,
}

/// GetPublicKey output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GetPublicKeyResponse {
    /// The key ARN.
    pub key_id: String,
    /// The public key, DER SubjectPublicKeyInfo (RFC 5280).
    #[serde(with = "crate::base64_blob")]
    pub public_key: Vec<u8>,
    /// Deprecated twin of `KeySpec`.
    pub customer_master_key_spec: CustomerMasterKeySpec,
    /// The key spec.
    pub key_spec: KeySpec,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY` or `KEY_AGREEMENT`.
    pub key_usage: KeyUsage,
    /// For an `ENCRYPT_DECRYPT` key.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub encryption_algorithms: Vec<EncryptionAlgorithmSpec>,
    /// For a `SIGN_VERIFY` key.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub signing_algorithms: Vec<SigningAlgorithmSpec>,
    /// For a `KEY_AGREEMENT` key.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub key_agreement_algorithms: Vec<KeyAgreementAlgorithmSpec>,
}

/// `RecipientInfo`: a Nitro Enclave's attestation document. Accepted in
/// the shape; this KMS verifies no attestation, so any document is refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RecipientInfo {
    /// `RSAES_OAEP_SHA_256`.
    pub key_encryption_algorithm: Option<String>,
    /// The attestation document.
    #[serde(with = "crate::base64_blob")]
    pub attestation_document: Vec<u8>,
}

/// DeriveSharedSecret input.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeriveSharedSecretRequest {
    /// A `KEY_AGREEMENT` key.
    pub key_id: String,
    /// `ECDH` (required).
    pub key_agreement_algorithm: Option<KeyAgreementAlgorithmSpec>,
    /// The other party's public key: DER SubjectPublicKeyInfo on the key's
    /// curve (1–8192 bytes).
    #[serde(with = "crate::base64_blob")]
    pub public_key: Vec<u8>,
    /// Grant tokens.
    pub grant_tokens: Vec<String>,
    /// Check everything, then fail with `DryRunOperationException`.
    pub dry_run: Option<bool>,
    /// A Nitro Enclave recipient (refused: no attestation here).
    pub recipient: Option<RecipientInfo>,
}

/// DeriveSharedSecret output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DeriveSharedSecretResponse {
    /// The key ARN.
    pub key_id: String,
    /// The raw shared secret (the x coordinate of the shared point; redacted
    /// in Debug).
    pub shared_secret: Plaintext,
    /// `ECDH`.
    pub key_agreement_algorithm: KeyAgreementAlgorithmSpec,
    /// `AWS_KMS`.
    pub key_origin: OriginType,
}
