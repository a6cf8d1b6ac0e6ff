//! The shapes of the imported key material operations:
//! GetParametersForImport, ImportKeyMaterial and DeleteImportedKeyMaterial.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::key::{AlgorithmSpec, ExpirationModelType, ImportType, WrappingKeySpec};

/// GetParametersForImport input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GetParametersForImportRequest {
    /// A key with origin `EXTERNAL`: key id or key ARN.
    pub key_id: String,
    /// How the material will be wrapped.
    pub wrapping_algorithm: Option<AlgorithmSpec>,
    /// The RSA wrapping key's size.
    pub wrapping_key_spec: Option<WrappingKeySpec>,
}

/// GetParametersForImport output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GetParametersForImportResponse {
    /// The key ARN.
    pub key_id: String,
    /// The token to give ImportKeyMaterial with material wrapped under
    /// `public_key`.
    #[serde(with = "crate::base64_blob")]
    pub import_token: Vec<u8>,
    /// The RSA wrapping public key, DER-encoded SubjectPublicKeyInfo.
    #[serde(with = "crate::base64_blob")]
    pub public_key: Vec<u8>,
    /// When the token and public key stop working (24 hours on).
    pub parameters_valid_to: Timestamp,
}

/// ImportKeyMaterial input.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImportKeyMaterialRequest {
    /// The key GetParametersForImport was called for.
    pub key_id: String,
    /// The token from that call.
    #[serde(with = "crate::base64_blob")]
    pub import_token: Vec<u8>,
    /// The key material, wrapped under that call's public key with its
    /// wrapping algorithm.
    #[serde(with = "crate::base64_blob")]
    pub encrypted_key_material: Vec<u8>,
    /// When the material expires (with `KEY_MATERIAL_EXPIRES` only).
    pub valid_to: Option<Timestamp>,
    /// Whether the material expires (default `KEY_MATERIAL_EXPIRES`).
    pub expiration_model: Option<ExpirationModelType>,
    /// New material or the key's own again (default: new for the first
    /// import, existing after).
    pub import_type: Option<ImportType>,
    /// A description of the material (0–256 characters).
    pub key_material_description: Option<String>,
    /// The id of the material being re-imported (64 lowercase hex digits).
    pub key_material_id: Option<String>,
}

impl std::fmt::Debug for ImportKeyMaterialRequest {
    /// The wrapped material and the token are not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportKeyMaterialRequest")
            .field("key_id", &self.key_id)
            .field("valid_to", &self.valid_to)
            .field("expiration_model", &self.expiration_model)
            .field("import_type", &self.import_type)
            .finish_non_exhaustive()
    }
}

/// ImportKeyMaterial output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ImportKeyMaterialResponse {
    /// The key ARN.
    pub key_id: String,
    /// The imported material's id.
    pub key_material_id: String,
}

/// DeleteImportedKeyMaterial input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeleteImportedKeyMaterialRequest {
    /// A key with origin `EXTERNAL`.
    pub key_id: String,
    /// The material to delete (default: the current material).
    pub key_material_id: Option<String>,
}

/// DeleteImportedKeyMaterial output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DeleteImportedKeyMaterialResponse {
    /// The key ARN.
    pub key_id: String,
    /// The deleted material's id (absent if the key had none).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_material_id: Option<String>,
}
