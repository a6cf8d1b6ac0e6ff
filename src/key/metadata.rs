//! `KeyMetadata` (with its multi-Region configuration) and `Tag`, with the
//! AWS JSON field names.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::ids::{ClusterId, CustomKeyStoreId, KeyId, XksKeyId};

use super::spec::{
    CustomerMasterKeySpec, EncryptionAlgorithmSpec, ExpirationModelType, KeyAgreementAlgorithmSpec,
    KeyManager, KeySpec, KeyState, KeyUsage, MacAlgorithmSpec, MultiRegionKeyType, OriginType,
    SigningAlgorithmSpec,
};

/// The metadata of a KMS key, as DescribeKey and CreateKey return it.
///
/// Serializes with the API's field names (`AWSAccountId`, `KeyId`, `Arn`,
/// …); fields AWS omits for a key are omitted here too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct KeyMetadata {
    /// The account that owns the key.
    #[serde(rename = "AWSAccountId")]
    pub aws_account_id: String,
    /// The key id (a UUID, or `mrk-…` for a multi-Region key).
    pub key_id: KeyId,
    /// The key ARN.
    pub arn: String,
    /// When the key was created.
    pub creation_date: Timestamp,
    /// Whether the key state is `Enabled`.
    pub enabled: bool,
    /// The description.
    pub description: String,
    /// `ENCRYPT_DECRYPT`, `GENERATE_VERIFY_MAC` (HMAC keys), `SIGN_VERIFY`
    /// or `KEY_AGREEMENT` (asymmetric keys).
    pub key_usage: KeyUsage,
    /// The key state.
    pub key_state: KeyState,
    /// When the key will be deleted (only in `PendingDeletion`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub deletion_date: Option<Timestamp>,
    /// Where the key material comes from.
    pub origin: OriginType,
    /// The custom key store holding the key, for keys in one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub custom_key_store_id: Option<CustomKeyStoreId>,
    /// The CloudHSM cluster holding the material, for CloudHSM key store keys.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cloud_hsm_cluster_id: Option<ClusterId>,
    /// `CUSTOMER`.
    pub key_manager: KeyManager,
    /// Deprecated twin of `KeySpec`.
    pub customer_master_key_spec: CustomerMasterKeySpec,
    /// The type of key material (`SYMMETRIC_DEFAULT`, `HMAC_256`, …).
    pub key_spec: KeySpec,
    /// The encryption algorithms the key supports (`[SYMMETRIC_DEFAULT]`);
    /// absent for keys that do not encrypt.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub encryption_algorithms: Vec<EncryptionAlgorithmSpec>,
    /// The MAC algorithms an HMAC key supports; absent for other keys.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub mac_algorithms: Vec<MacAlgorithmSpec>,
    /// The signing algorithms a `SIGN_VERIFY` key supports; absent for
    /// other keys.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub signing_algorithms: Vec<SigningAlgorithmSpec>,
    /// `[ECDH]` for a `KEY_AGREEMENT` key; absent for other keys.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub key_agreement_algorithms: Vec<KeyAgreementAlgorithmSpec>,
    /// True for a multi-Region key (primary or replica).
    pub multi_region: bool,
    /// The multi-Region key's primary and replicas (only for multi-Region
    /// keys).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub multi_region_configuration: Option<MultiRegionConfiguration>,
    /// The waiting period chosen in ScheduleKeyDeletion (only in `PendingDeletion`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pending_deletion_window_in_days: Option<u32>,
    /// The external key, for external key store keys.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub xks_key_configuration: Option<XksKeyConfiguration>,
    /// The current key material's id (64 lowercase hex digits), for keys
    /// whose material KMS holds and rotates (`AWS_KMS` symmetric keys);
    /// absent otherwise, as in AWS.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub current_key_material_id: Option<String>,
    /// For a key with imported material (origin `EXTERNAL`) that has it:
    /// whether it expires.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expiration_model: Option<ExpirationModelType>,
    /// When the imported material expires (`KEY_MATERIAL_EXPIRES` only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub valid_to: Option<Timestamp>,
}

/// `MultiRegionConfiguration`: a multi-Region key's role, its primary key
/// and its replica keys, as DescribeKey shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct MultiRegionConfiguration {
    /// `PRIMARY` or `REPLICA`: this key's role.
    pub multi_region_key_type: MultiRegionKeyType,
    /// The primary key (this key, if it is the primary).
    pub primary_key: MultiRegionKey,
    /// Every replica key (this key among them, if it is a replica).
    pub replica_keys: Vec<MultiRegionKey>,
}

/// `MultiRegionKey`: one key of a multi-Region key, by ARN and Region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct MultiRegionKey {
    /// The key ARN.
    pub arn: String,
    /// The key's Region.
    pub region: String,
}

/// `XksKeyConfiguration`: the external key behind an external key store key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct XksKeyConfiguration {
    /// The external key's id as the proxy knows it.
    pub id: XksKeyId,
}

/// A resource tag.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// 1–128 characters; the `aws:` prefix is reserved.
    pub tag_key: String,
    /// 0–256 characters.
    pub tag_value: String,
}

impl Tag {
    /// A tag.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Tag {
        Tag {
            tag_key: key.into(),
            tag_value: value.into(),
        }
    }
}
