//! Imported key material: GetParametersForImport, ImportKeyMaterial and
//! DeleteImportedKeyMaterial, for symmetric encryption keys created with
//! Origin `EXTERNAL` (feature `asymmetric`: the wrapping keys are RSA).
//!
//! Order of checks: the request's own members (`ValidationException`),
//! the key (`NotFoundException`), authorization (key policy and IAM only:
//! no grant operation allows these actions), the key's origin
//! (`UnsupportedOperationException`), its state (`KMSInvalidStateException`),
//! then the token and the material.

use std::time::Duration;

use crate::error::{Constraint, Error, Result, Shown, kms_err};
use crate::key::state::KeyOperation;
use crate::key::{ExpirationModelType, ImportType, OriginType};
use crate::kms::Kms;
use crate::kms::model::import::Expiration;
use crate::kms::model::key::KeyEntry;
use crate::kms::shapes::import::{
    DeleteImportedKeyMaterialRequest, DeleteImportedKeyMaterialResponse,
    GetParametersForImportRequest, GetParametersForImportResponse, ImportKeyMaterialRequest,
    ImportKeyMaterialResponse,
};
use crate::kms::support::access::{Action, Facts};

/// How long GetParametersForImport's token and public key work.
pub const IMPORT_PARAMETERS_VALIDITY: Duration = Duration::from_secs(24 * 3600);
/// The latest `ValidTo` ImportKeyMaterial accepts, after the request.
pub const MAX_VALID_TO: Duration = Duration::from_secs(365 * 86_400);
/// The longest `KeyMaterialDescription`.
const MAX_MATERIAL_DESCRIPTION: usize = 256;

/// `UnsupportedOperationException` for a key whose origin is not `EXTERNAL`.
fn check_origin(entry: &KeyEntry) -> Result<()> {
    let origin = entry.backing.origin();
    if origin == OriginType::External && entry.imported.is_some() {
        return Ok(());
    }
    Err(kms_err!(
        UnsupportedOperation,
        "{} origin is {origin} which is not valid for this operation.",
        entry.arn
    ))
}

/// `KeyMaterialId`: 64 lowercase hex digits.
fn check_material_id(id: &str) -> Result<()> {
    let shown = || Shown::Value(id.to_owned());
    if id.len() != 64 {
        let c = if id.len() < 64 {
            Constraint::MinLength(64)
        } else {
            Constraint::MaxLength(64)
        };
        return Err(Error::invalid("keyMaterialId", shown(), c));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(Error::invalid(
            "keyMaterialId",
            shown(),
            Constraint::Pattern("^[a-f0-9]+$".to_owned()),
        ));
    }
    Ok(())
}

/// ImportKeyMaterial's request members, checked before the key is looked
/// at: the expiration model and `ValidTo` combination, the description
/// and material id formats. Returns the expiration model.
fn check_import_request(req: &ImportKeyMaterialRequest) -> Result<ExpirationModelType> {
    if req.import_token.is_empty() {
        return Err(Error::required("importToken"));
    }
    if req.encrypted_key_material.is_empty() {
        return Err(Error::required("encryptedKeyMaterial"));
    }
    let model = req
        .expiration_model
        .unwrap_or(ExpirationModelType::KeyMaterialExpires);
    match (model, req.valid_to) {
        (ExpirationModelType::KeyMaterialExpires, None) => {
            return Err(kms_err!(
                Validation,
                "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES"
            ));
        }
        (ExpirationModelType::KeyMaterialDoesNotExpire, Some(_)) => {
            return Err(kms_err!(
                Validation,
                "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE"
            ));
        }
        _ => {}
    }
    if let Some(d) = &req.key_material_description {
        if d.chars().count() > MAX_MATERIAL_DESCRIPTION {
            return Err(Error::invalid(
                "keyMaterialDescription",
                Shown::Value(d.clone()),
                Constraint::MaxLength(MAX_MATERIAL_DESCRIPTION),
            ));
        }
        let ok = d
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c.is_whitespace() || ":/_.-".contains(c));
        if !ok {
            return Err(Error::invalid(
                "keyMaterialDescription",
                Shown::Value(d.clone()),
                Constraint::Pattern("^[a-zA-Z0-9:/_\\s.-]+$".to_owned()),
            ));
        }
    }
    if let Some(id) = &req.key_material_id {
        check_material_id(id)?;
        if req.import_type == Some(ImportType::NewKeyMaterial) {
            return Err(kms_err!(
                Validation,
                "You cannot specify a KeyMaterialId with ImportType NEW_KEY_MATERIAL."
            ));
        }
    }
    Ok(model)
}

impl Kms {
    /// GetParametersForImport (key id or key ARN of a key with Origin
    /// `EXTERNAL`): a new RSA wrapping key pair of `WrappingKeySpec`
    /// (`RSA_2048`, `RSA_3072`, `RSA_4096`) for `WrappingAlgorithm`
    /// (`RSAES_OAEP_SHA_1`, `RSAES_OAEP_SHA_256`, `RSA_AES_KEY_WRAP_SHA_1`,
    /// `RSA_AES_KEY_WRAP_SHA_256`): its public key (DER
    /// SubjectPublicKeyInfo), an import token bound to this key and pair,
    /// and `ParametersValidTo`, 24 hours on. The key's earlier parameters
    /// stop working. Tokens live in memory: they do not survive a restart.
    ///
    /// Errors: `ValidationException` (a member missing),
    /// `NotFoundException`, `UnsupportedOperationException` (origin not
    /// `EXTERNAL`; `RSAES_PKCS1_V1_5`, `SM2PKE` or an `SM2` wrapping key),
    /// `KMSInvalidStateException` (pending deletion), `AccessDeniedException`.
    pub fn get_parameters_for_import(
        &self,
        req: GetParametersForImportRequest,
    ) -> Result<GetParametersForImportResponse> {
        let cx = self.begin();
        let algorithm = req
            .wrapping_algorithm
            .ok_or_else(|| Error::required("wrappingAlgorithm"))?;
        let spec = req
            .wrapping_key_spec
            .ok_or_else(|| Error::required("wrappingKeySpec"))?;
        let entry = self.inner.resolve(&cx, &req.key_id, false)?;
        self.inner.authorize(
            &cx,
            &entry,
            Action::GetParametersForImport,
            &Facts {
                wrapping: Some((algorithm.as_str(), spec.as_str())),
                ..Facts::default()
            },
        )?;
        check_origin(&entry)?;
        self.inner
            .check_key(&entry, KeyOperation::GetParametersForImport)?;
        #[cfg(feature = "asymmetric")]
        {
            use crate::key::{AlgorithmSpec, WrappingKeySpec};
            if matches!(
                algorithm,
                AlgorithmSpec::RsaesPkcs1V15 | AlgorithmSpec::Sm2pke
            ) || spec == WrappingKeySpec::Sm2
            {
                return Err(kms_err!(
                    UnsupportedOperation,
                    "WrappingAlgorithm {algorithm} with WrappingKeySpec {spec} is not supported. Use RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256 with RSA_2048, RSA_3072 or RSA_4096."
                ));
            }
            // The key pair is made before the key's lock is taken: RSA key
            // generation takes a while.
            let wrapping =
                crate::crypto::import::WrappingKey::generate(algorithm, spec, &self.inner.rng)
                    .ok_or_else(|| Error::internal("RSA wrapping key generation failed"))?;
            let public_key = wrapping
                .public_key_der()
                .ok_or_else(|| Error::internal("RSA public key encoding failed"))?;
            let valid_to = cx.now.saturating_add(IMPORT_PARAMETERS_VALIDITY);
            let nonce = self.inner.rng.array();
            let token = crate::kms::model::import::ImportToken {
                key: entry.id,
                nonce,
            };
            self.inner.set_import_parameters(
                &entry,
                std::sync::Arc::new(crate::kms::model::import::ImportParameters {
                    nonce,
                    wrapping,
                    valid_to,
                }),
            )?;
            Ok(GetParametersForImportResponse {
                key_id: entry.arn.clone(),
                import_token: token.encode(),
                public_key,
                parameters_valid_to: valid_to,
            })
        }
        #[cfg(not(feature = "asymmetric"))]
        {
            // No key has Origin EXTERNAL without the feature.
            let _ = (algorithm, spec);
            Err(Error::internal(
                "a key with imported material without the feature `asymmetric`",
            ))
        }
    }

    /// ImportKeyMaterial: unwraps `EncryptedKeyMaterial` with the private
    /// key of the parameters `ImportToken` names, and makes the 32 bytes
    /// found the key's material; the key is Enabled. The first import fixes
    /// the material: a later one must bring the same
    /// (`IncorrectKeyMaterialException`), and may change the expiration.
    /// `ExpirationModel` defaults to `KEY_MATERIAL_EXPIRES`, which needs a
    /// `ValidTo` after now and at most 365 days on; at `ValidTo` the
    /// material is deleted and the key is pending import.
    ///
    /// Errors: `ValidationException`, `NotFoundException`,
    /// `UnsupportedOperationException` (origin not `EXTERNAL`;
    /// `NEW_KEY_MATERIAL` after the first import: on-demand rotation of
    /// imported material is not built), `KMSInvalidStateException`,
    /// `InvalidImportTokenException`, `ExpiredImportTokenException`,
    /// `InvalidCiphertextException` (the material does not unwrap),
    /// `IncorrectKeyMaterialException`, `AccessDeniedException`.
    pub fn import_key_material(
        &self,
        req: ImportKeyMaterialRequest,
    ) -> Result<ImportKeyMaterialResponse> {
        let cx = self.begin();
        let model = check_import_request(&req)?;
        let entry = self.inner.resolve(&cx, &req.key_id, false)?;
        self.inner.authorize(
            &cx,
            &entry,
            Action::ImportKeyMaterial,
            &Facts {
                expiration: Some((model.as_str(), req.valid_to)),
                ..Facts::default()
            },
        )?;
        check_origin(&entry)?;
        self.inner
            .check_key(&entry, KeyOperation::ImportKeyMaterial)?;
        let expiration = match (model, req.valid_to) {
            (ExpirationModelType::KeyMaterialExpires, Some(valid_to)) => {
                if valid_to <= cx.now || valid_to > cx.now.saturating_add(MAX_VALID_TO) {
                    return Err(kms_err!(
                        Validation,
                        "ValidTo must be a future date and time no more than 365 days from now: {valid_to}."
                    ));
                }
                Expiration::At(valid_to)
            }
            _ => Expiration::Never,
        };
        #[cfg(feature = "asymmetric")]
        {
            use crate::crypto::KeyMaterial;
            use crate::kms::model::versions::{MaterialId, MaterialVersion};
            let token = crate::kms::model::import::ImportToken::decode(&req.import_token);
            let parameters = self.inner.import_parameters(&entry, token, cx.now)?;
            let bytes = parameters
                .wrapping
                .unwrap(&req.encrypted_key_material, &self.inner.rng)
                .map_err(|_| crate::kms::support::errors::invalid_ciphertext())?;
            let bytes: &[u8; KeyMaterial::LEN] = bytes[..]
                .try_into()
                .map_err(|_| crate::kms::service::import::incorrect_material(&entry.arn))?;
            let material = KeyMaterial::from_bytes(*bytes);
            let id = MaterialId::derive_imported(&entry.id, &material);
            let own = entry
                .state
                .read()
                .import
                .as_ref()
                .and_then(|i| i.material_id);
            let import_type = req.import_type.unwrap_or(if own.is_some() {
                ImportType::ExistingKeyMaterial
            } else {
                ImportType::NewKeyMaterial
            });
            match (import_type, own) {
                (ImportType::NewKeyMaterial, Some(_)) => {
                    return Err(kms_err!(
                        UnsupportedOperation,
                        "Importing NEW_KEY_MATERIAL into {}, which has imported key material, is not supported by this KMS yet (on-demand rotation of imported key material).",
                        entry.arn
                    ));
                }
                (ImportType::ExistingKeyMaterial, None) => {
                    return Err(crate::kms::service::import::incorrect_material(&entry.arn));
                }
                _ => {}
            }
            if let Some(expected) = &req.key_material_id
                && *expected != id.hex()
            {
                return Err(crate::kms::service::import::incorrect_material(&entry.arn));
            }
            self.inner.import_material(
                &entry,
                MaterialVersion::imported(material, cx.now, id),
                expiration,
                req.key_material_description.clone(),
            )?;
            Ok(ImportKeyMaterialResponse {
                key_id: entry.arn.clone(),
                key_material_id: id.hex(),
            })
        }
        #[cfg(not(feature = "asymmetric"))]
        {
            let _ = expiration;
            Err(Error::internal(
                "a key with imported material without the feature `asymmetric`",
            ))
        }
    }

    /// DeleteImportedKeyMaterial (key id or key ARN of a key with Origin
    /// `EXTERNAL`): deletes the key's material now (its expiry timer goes
    /// too); the key is pending import until the same material is imported
    /// again. On a key that has no material it changes nothing. Allowed in
    /// every key state; a key pending deletion stays so.
    ///
    /// Errors: `ValidationException` (`KeyMaterialId` not 64 lowercase hex
    /// digits), `NotFoundException` (no such key, or a `KeyMaterialId` that
    /// is not the key's), `UnsupportedOperationException` (origin not
    /// `EXTERNAL`), `AccessDeniedException`.
    pub fn delete_imported_key_material(
        &self,
        req: DeleteImportedKeyMaterialRequest,
    ) -> Result<DeleteImportedKeyMaterialResponse> {
        let cx = self.begin();
        if let Some(id) = &req.key_material_id {
            check_material_id(id)?;
        }
        let entry = self.inner.resolve(&cx, &req.key_id, false)?;
        self.inner.authorize(
            &cx,
            &entry,
            Action::DeleteImportedKeyMaterial,
            &Facts::default(),
        )?;
        check_origin(&entry)?;
        let id = self
            .inner
            .delete_imported_material(&entry, req.key_material_id.as_deref())?;
        Ok(DeleteImportedKeyMaterialResponse {
            key_id: entry.arn.clone(),
            key_material_id: id.map(|id| id.hex()),
        })
    }
}
