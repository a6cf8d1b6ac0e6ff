//! Request and response shapes of the KMS operations, with the API's field
//! names (PascalCase in JSON) so the wire layer can read and write them as
//! they are.
//!
//! Requests are `Default`, so Rust callers fill only what they need:
//!
//! ```
//! use kms_keystore::EncryptRequest;
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
    /// True for a multi-Region primary key (an `mrk-` id; `AWS_KMS`
    /// origin only). Replicate it with ReplicateKey.
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

/// ReplicateKey input.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReplicateKeyRequest {
    /// The multi-Region primary key (key id or key ARN).
    pub key_id: String,
    /// The Region of the new replica (`us-east-1`, …).
    pub replica_region: String,
    /// The replica's key policy; the default key policy when absent.
    pub policy: Option<String>,
    /// Skip the key policy lockout safety check.
    pub bypass_policy_lockout_safety_check: Option<bool>,
    /// The replica's description (the primary's is not copied).
    pub description: Option<String>,
    /// The replica's tags (the primary's are not copied).
    pub tags: Vec<Tag>,
}

/// ReplicateKey output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ReplicateKeyResponse {
    /// The new replica key's metadata.
    pub replica_key_metadata: KeyMetadata,
    /// The replica's key policy.
    pub replica_policy: String,
    /// The replica's tags.
    pub replica_tags: Vec<Tag>,
}

/// UpdatePrimaryRegion input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdatePrimaryRegionRequest {
    /// The current primary key (key id or key ARN).
    pub key_id: String,
    /// The Region of the replica that becomes the primary key.
    pub primary_region: String,
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
    /// When the key will be deleted; absent for a multi-Region primary key
    /// with replicas (its waiting period starts when the last replica is
    /// deleted).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub deletion_date: Option<Timestamp>,
    /// `PendingDeletion`, or `PendingReplicaDeletion` for a multi-Region
    /// primary key with replicas.
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
    /// `SYMMETRIC_DEFAULT` (the default) for a symmetric key;
    /// `RSAES_OAEP_SHA_1` or `RSAES_OAEP_SHA_256` for an RSA key.
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
    /// `SYMMETRIC_DEFAULT` (the default) for a symmetric key;
    /// `RSAES_OAEP_SHA_1` or `RSAES_OAEP_SHA_256` for an RSA key.
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
    /// The id of the key material version that decrypted the blob
    /// (`AWS_KMS` keys; absent for keys in custom key stores).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_material_id: Option<String>,
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
    /// The source key material version that decrypted the blob (`AWS_KMS`
    /// keys only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source_key_material_id: Option<String>,
    /// The destination key's current material version, which sealed the
    /// new blob (`AWS_KMS` keys only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub destination_key_material_id: Option<String>,
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

/// `XksProxyAuthenticationCredential`: the SigV4 credential KMS signs proxy
/// requests with. The secret never appears in Debug or serde output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct XksProxyAuthenticationCredential {
    /// 20–30 characters of `[A-Z2-7]`.
    pub access_key_id: String,
    /// 43–64 characters of `[a-zA-Z0-9/+=]`.
    pub raw_secret_access_key: crate::crypto::SecretString,
}

/// CreateCustomKeyStore input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateCustomKeyStoreRequest {
    /// 1–256 characters, unique in the account and Region.
    pub custom_key_store_name: String,
    /// `AWS_CLOUDHSM` (default) or `EXTERNAL_KEY_STORE`.
    pub custom_key_store_type: Option<crate::store::CustomKeyStoreType>,
    /// CloudHSM: the cluster.
    pub cloud_hsm_cluster_id: Option<String>,
    /// CloudHSM: the content of `customerCA.crt`.
    pub trust_anchor_certificate: Option<String>,
    /// CloudHSM: the current `kmsuser` password.
    pub key_store_password: Option<crate::crypto::SecretString>,
    /// XKS: `https://` host of the proxy.
    pub xks_proxy_uri_endpoint: Option<String>,
    /// XKS: `/kms/xks/v1` or `/<prefix>/kms/xks/v1`.
    pub xks_proxy_uri_path: Option<String>,
    /// XKS: the VPC endpoint service name (VPC_ENDPOINT_SERVICE only).
    pub xks_proxy_vpc_endpoint_service_name: Option<String>,
    /// XKS: the VPC endpoint service owner (12 digits).
    pub xks_proxy_vpc_endpoint_service_owner: Option<String>,
    /// XKS: the SigV4 credential.
    pub xks_proxy_authentication_credential: Option<XksProxyAuthenticationCredential>,
    /// XKS: `PUBLIC_ENDPOINT` or `VPC_ENDPOINT_SERVICE`.
    pub xks_proxy_connectivity: Option<crate::store::XksProxyConnectivityType>,
}

/// CreateCustomKeyStore output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct CreateCustomKeyStoreResponse {
    /// `cks-` + 17 hex digits.
    pub custom_key_store_id: crate::ids::CustomKeyStoreId,
}

/// UpdateCustomKeyStore input: every field but the id is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateCustomKeyStoreRequest {
    /// The store.
    pub custom_key_store_id: String,
    /// A new unique name.
    pub new_custom_key_store_name: Option<String>,
    /// CloudHSM: the current `kmsuser` password.
    pub key_store_password: Option<crate::crypto::SecretString>,
    /// CloudHSM: a cluster that shares the backup history of the current one.
    pub cloud_hsm_cluster_id: Option<String>,
    /// XKS: a new endpoint.
    pub xks_proxy_uri_endpoint: Option<String>,
    /// XKS: a new path.
    pub xks_proxy_uri_path: Option<String>,
    /// XKS: a new VPC endpoint service name.
    pub xks_proxy_vpc_endpoint_service_name: Option<String>,
    /// XKS: a new VPC endpoint service owner.
    pub xks_proxy_vpc_endpoint_service_owner: Option<String>,
    /// XKS: a new credential (both parts).
    pub xks_proxy_authentication_credential: Option<XksProxyAuthenticationCredential>,
    /// XKS: a new connectivity.
    pub xks_proxy_connectivity: Option<crate::store::XksProxyConnectivityType>,
}

/// DescribeCustomKeyStores input: all stores, or one by id or by name (not both).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeCustomKeyStoresRequest {
    /// One store by id.
    pub custom_key_store_id: Option<String>,
    /// One store by name.
    pub custom_key_store_name: Option<String>,
    /// 1–1000.
    pub limit: Option<u32>,
    /// `NextMarker` of the previous page.
    pub marker: Option<String>,
}

/// `XksProxyConfiguration` as DescribeCustomKeyStores shows it: no secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct XksProxyConfiguration {
    /// Connectivity.
    pub connectivity: crate::store::XksProxyConnectivityType,
    /// The access key id (not the secret).
    pub access_key_id: String,
    /// Endpoint.
    pub uri_endpoint: String,
    /// Path.
    pub uri_path: String,
    /// VPC endpoint service name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub vpc_endpoint_service_name: Option<String>,
    /// VPC endpoint service owner.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub vpc_endpoint_service_owner: Option<String>,
}

/// One entry of DescribeCustomKeyStores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct CustomKeyStoresListEntry {
    /// Id.
    pub custom_key_store_id: crate::ids::CustomKeyStoreId,
    /// Name.
    pub custom_key_store_name: String,
    /// CloudHSM: the cluster.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cloud_hsm_cluster_id: Option<crate::ids::ClusterId>,
    /// CloudHSM: the trust anchor certificate.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub trust_anchor_certificate: Option<String>,
    /// Connection state.
    pub connection_state: crate::store::ConnectionStateType,
    /// Only when FAILED.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub connection_error_code: Option<crate::store::ConnectionErrorCode>,
    /// Creation date.
    pub creation_date: Timestamp,
    /// Type.
    pub custom_key_store_type: crate::store::CustomKeyStoreType,
    /// XKS: the proxy configuration.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub xks_proxy_configuration: Option<XksProxyConfiguration>,
}

/// DescribeCustomKeyStores output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeCustomKeyStoresResponse {
    /// The page.
    pub custom_key_stores: Vec<CustomKeyStoresListEntry>,
    /// Pass as `Marker` for the next page.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_marker: Option<String>,
    /// Whether there are more.
    pub truncated: bool,
}

/// EnableKeyRotation input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EnableKeyRotationRequest {
    /// Key id or key ARN.
    pub key_id: String,
    /// 90–2560 days; AWS's default is 365.
    pub rotation_period_in_days: Option<u32>,
}

/// GetKeyRotationStatus output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GetKeyRotationStatusResponse {
    /// Whether automatic rotation is enabled.
    pub key_rotation_enabled: bool,
    /// The key ARN.
    pub key_id: String,
    /// The rotation period, when rotation is enabled.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rotation_period_in_days: Option<u32>,
    /// The next rotation, when rotation is enabled.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_rotation_date: Option<Timestamp>,
    /// When an on-demand rotation still in progress began. Rotations here
    /// complete within the call, so it is always absent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub on_demand_rotation_start_date: Option<Timestamp>,
}

/// RotateKeyOnDemand output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct RotateKeyOnDemandResponse {
    /// The key id (a UUID), as AWS returns it.
    pub key_id: String,
}

/// ListKeyRotations' `IncludeKeyMaterial`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IncludeKeyMaterial {
    /// Only the versions rotations made (the default).
    #[default]
    RotationsOnly,
    /// Every version, the original material first.
    AllKeyMaterial,
}

/// ListKeyRotations input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListKeyRotationsRequest {
    /// Key id or key ARN.
    pub key_id: String,
    /// Which versions to list.
    pub include_key_material: Option<IncludeKeyMaterial>,
    /// 1–1000; default 100.
    pub limit: Option<u32>,
    /// `NextMarker` of the previous page.
    pub marker: Option<String>,
}

/// One version of a key's material in ListKeyRotations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct RotationsListEntry {
    /// The key id.
    pub key_id: String,
    /// The material's id (64 lowercase hex digits).
    pub key_material_id: String,
    /// `CURRENT` or `NON_CURRENT`; for imported material also
    /// `PENDING_ROTATION`, or on a multi-Region key
    /// `PENDING_MULTI_REGION_IMPORT_AND_ROTATION` (imported into the primary
    /// key but not yet into every replica key).
    pub key_material_state: String,
    /// When the rotation made it (absent for the original material).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rotation_date: Option<Timestamp>,
    /// `AUTOMATIC` or `ON_DEMAND` (absent for the original material).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rotation_type: Option<String>,
    /// Imported material's description (keys with Origin `EXTERNAL` only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_material_description: Option<String>,
    /// `IMPORTED` or `PENDING_IMPORT` (keys with Origin `EXTERNAL` only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub import_state: Option<String>,
    /// Whether imported material expires (while imported).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expiration_model: Option<crate::key::ExpirationModelType>,
    /// When imported material expires (`KEY_MATERIAL_EXPIRES` only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub valid_to: Option<Timestamp>,
}

/// ListKeyRotations output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListKeyRotationsResponse {
    /// The page, oldest first.
    pub rotations: Vec<RotationsListEntry>,
    /// Pass as `Marker` for the next page.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_marker: Option<String>,
    /// Whether there are more.
    pub truncated: bool,
}

/// GenerateDataKeyPair input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GenerateDataKeyPairRequest {
    /// Key id, key ARN, alias name or alias ARN of a symmetric key.
    pub key_id: String,
    /// Bound to the encrypted private key.
    pub encryption_context: EncryptionContext,
    /// The kind of key pair (required).
    pub key_pair_spec: Option<crate::key::DataKeyPairSpec>,
    /// Accepted and checked for shape.
    pub grant_tokens: Vec<String>,
    /// Check everything, then fail with `DryRunOperationException`.
    pub dry_run: Option<bool>,
    /// A Nitro Enclave recipient (GenerateDataKeyPair only; refused: no
    /// attestation here).
    pub recipient: Option<super::asymmetric::RecipientInfo>,
}

/// GenerateDataKeyPair output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GenerateDataKeyPairResponse {
    /// The private key (PKCS#8 DER) encrypted under the KMS key: Decrypt
    /// returns the PKCS#8.
    #[serde(with = "crate::base64_blob")]
    pub private_key_ciphertext_blob: Vec<u8>,
    /// The private key, PKCS#8 DER (redacted in Debug).
    pub private_key_plaintext: Plaintext,
    /// The public key (DER, SubjectPublicKeyInfo).
    #[serde(with = "crate::base64_blob")]
    pub public_key: Vec<u8>,
    /// The key ARN.
    pub key_id: String,
    /// The kind of key pair.
    pub key_pair_spec: crate::key::DataKeyPairSpec,
}

/// GenerateDataKeyPairWithoutPlaintext output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GenerateDataKeyPairWithoutPlaintextResponse {
    /// The private key (PKCS#8 DER) encrypted under the KMS key.
    #[serde(with = "crate::base64_blob")]
    pub private_key_ciphertext_blob: Vec<u8>,
    /// The public key (DER, SubjectPublicKeyInfo).
    #[serde(with = "crate::base64_blob")]
    pub public_key: Vec<u8>,
    /// The key ARN.
    pub key_id: String,
    /// The kind of key pair.
    pub key_pair_spec: crate::key::DataKeyPairSpec,
}
