//! The shapes of the HMAC operations: GenerateMac and VerifyMac.

use serde::{Deserialize, Serialize};

use crate::crypto::Plaintext;
use crate::key::MacAlgorithmSpec;

/// GenerateMac input.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GenerateMacRequest {
    /// The message, 1–4096 bytes (sensitive: never printed).
    pub message: Plaintext,
    /// An HMAC key: key id, key ARN, alias name or alias ARN.
    pub key_id: String,
    /// The key spec's algorithm (an HMAC_256 key takes HMAC_SHA_256).
    pub mac_algorithm: Option<MacAlgorithmSpec>,
    /// Grant tokens.
    pub grant_tokens: Vec<String>,
    /// Check everything, then fail with `DryRunOperationException`.
    pub dry_run: Option<bool>,
}

/// GenerateMac output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GenerateMacResponse {
    /// The HMAC of the message.
    #[serde(with = "crate::base64_blob")]
    pub mac: Vec<u8>,
    /// The algorithm used.
    pub mac_algorithm: MacAlgorithmSpec,
    /// The key ARN.
    pub key_id: String,
}

/// VerifyMac input.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VerifyMacRequest {
    /// The message, 1–4096 bytes (sensitive: never printed).
    pub message: Plaintext,
    /// The HMAC key that made `mac`.
    pub key_id: String,
    /// The algorithm that made `mac`.
    pub mac_algorithm: Option<MacAlgorithmSpec>,
    /// The HMAC to check (1–6144 bytes).
    #[serde(with = "crate::base64_blob")]
    pub mac: Vec<u8>,
    /// Grant tokens.
    pub grant_tokens: Vec<String>,
    /// Check everything, then fail with `DryRunOperationException`.
    pub dry_run: Option<bool>,
}

/// VerifyMac output (only when the MAC is valid; otherwise
/// `KMSInvalidMacException`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct VerifyMacResponse {
    /// The key ARN.
    pub key_id: String,
    /// Always `true`.
    pub mac_valid: bool,
    /// The algorithm used.
    pub mac_algorithm: MacAlgorithmSpec,
}
