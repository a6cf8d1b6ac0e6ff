//! Imported key material: GetParametersForImport, ImportKeyMaterial and
//! DeleteImportedKeyMaterial, for symmetric encryption, HMAC, RSA and ECC
//! keys created with Origin `EXTERNAL` (feature `asymmetric`: the wrapping keys are RSA),
//! multi-Region keys of each of these specs among them (a replica imports only
//! its primary key's materials, each new one after the primary key); their
//! on-demand rotation is in `rotation.rs`.
//!
//! Order of checks: the request's own members (`ValidationException`),
//! the key (`NotFoundException`), authorization (key policy and IAM only:
//! no grant operation allows these actions), the key's origin
//! (`UnsupportedOperationException`), its state (`KMSInvalidStateException`),
//! then the token and the material.

use std::time::Duration;

use crate::error::{Constraint, Error, Result, Shown, kms_err};
use crate::key::state::KeyOperation;
use crate::key::{ExpirationModelType, ImportType, KeySpec, OriginType};
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

/// `ImportType`, `KeyMaterialDescription` and `KeyMaterialId` are for
/// symmetric encryption keys only: an HMAC key has one material, imported
/// once and re-imported as it was (`ValidationException` otherwise).
fn check_symmetric_members(req: &ImportKeyMaterialRequest, spec: KeySpec) -> Result<()> {
    if spec == KeySpec::SymmetricDefault {
        return Ok(());
    }
    let given = [
        ("ImportType", req.import_type.is_some()),
        (
            "KeyMaterialDescription",
            req.key_material_description.is_some(),
        ),
        ("KeyMaterialId", req.key_material_id.is_some()),
    ];
    match given.iter().find(|(_, g)| *g) {
        Some((member, _)) => Err(kms_err!(
            Validation,
            "{member} is valid only for symmetric encryption KMS keys; this key's KeySpec is {spec}."
        )),
        None => Ok(()),
    }
}

/// The wrapping algorithms AWS allows for the key material of key spec
/// `spec` (`UnsupportedOperationException` otherwise): an RSA private key
/// only with `RSA_AES_KEY_WRAP_SHA_1` or `RSA_AES_KEY_WRAP_SHA_256` (it is
/// too long for RSAES-OAEP alone), and ECC_NIST_P521 material not with
/// `RSAES_OAEP_*` under an `RSA_2048` wrapping key.
#[cfg(feature = "asymmetric")]
fn check_wrapping(
    spec: KeySpec,
    algorithm: crate::key::AlgorithmSpec,
    wrapping: crate::key::WrappingKeySpec,
) -> Result<()> {
    use crate::key::{AlgorithmSpec as A, WrappingKeySpec as W};
    let oaep = matches!(algorithm, A::RsaesOaepSha1 | A::RsaesOaepSha256);
    match spec {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 if oaep => Err(kms_err!(
            UnsupportedOperation,
            "WrappingAlgorithm {algorithm} cannot wrap {spec} key material (an RSA private key). Use RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256."
        )),
        KeySpec::EccNistP521 if oaep && wrapping == W::Rsa2048 => Err(kms_err!(
            UnsupportedOperation,
            "WrappingAlgorithm {algorithm} with WrappingKeySpec RSA_2048 cannot wrap ECC_NIST_P521 key material. Use RSA_3072 or RSA_4096, or RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256."
        )),
        _ => Ok(()),
    }
}

/// `IncorrectKeyMaterialException` for asymmetric key material that is not
/// a private key of the key's spec in PKCS#8.
#[cfg(feature = "asymmetric")]
fn not_a_private_key(arn: &str, spec: KeySpec) -> Error {
    kms_err!(
        IncorrectKeyMaterial,
        "The key material is not a {spec} private key for {arn}."
    )
    .with_hint(format!(
        "Import the private key of a {spec} key pair (not its public key), DER-encoded in PKCS #8 (RFC 5208) format."
    ))
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
    /// The algorithm must suit the key's material, as AWS's table of
    /// wrapping algorithms says: an RSA key's private key only with
    /// `RSA_AES_KEY_WRAP_SHA_1` or `RSA_AES_KEY_WRAP_SHA_256`, an
    /// ECC_NIST_P521 key's not with `RSAES_OAEP_*` under `RSA_2048`.
    ///
    /// Errors: `ValidationException` (a member missing),
    /// `NotFoundException`, `UnsupportedOperationException` (origin not
    /// `EXTERNAL`; `RSAES_PKCS1_V1_5`, `SM2PKE` or an `SM2` wrapping key;
    /// an algorithm and wrapping key that cannot wrap the key's material),
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
            check_wrapping(entry.kind.spec(), algorithm, spec)?;
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
    /// key of the parameters `ImportToken` names, and imports the bytes
    /// found. An HMAC key takes one material, of the lengths AWS allows
    /// for its spec (`HMAC_224` 28–64 bytes, `HMAC_256` 32–64, `HMAC_384`
    /// 48–128, `HMAC_512` 64–128), and only it again after; an RSA or ECC
    /// key takes one private key, in PKCS#8 (`PrivateKeyInfo`, DER) of its
    /// spec's modulus size or named curve, whose public key becomes the
    /// key's (GetPublicKey), and only that key again after (in any PKCS#8
    /// encoding of it); `ImportType`,
    /// `KeyMaterialDescription` and `KeyMaterialId` are for symmetric keys
    /// only. A symmetric key takes 32 bytes as `ImportType` says. `NEW_KEY_MATERIAL` (the default for the
    /// first import) brings material the key has not had: the first becomes
    /// current and the key is Enabled; a later one is pending rotation
    /// (ListKeyRotations' `PENDING_ROTATION`, one at a time) until
    /// [`rotate_key_on_demand`](Kms::rotate_key_on_demand) makes it
    /// current. `EXISTING_KEY_MATERIAL` (the default after) re-imports one
    /// of the key's materials (`KeyMaterialId`, if given, must be its id),
    /// for example one deleted or expired, or to change its expiration; once
    /// every material the key has rotated through is imported again the key
    /// is Enabled. A multi-Region replica takes only its primary key's
    /// materials (`NEW_KEY_MATERIAL` is `UnsupportedOperationException`
    /// there): new material to rotate to goes into the primary key, and
    /// each replica lists it too, pending import, until the same material
    /// is imported there with `EXISTING_KEY_MATERIAL`; until every replica
    /// has, it is `PENDING_MULTI_REGION_IMPORT_AND_ROTATION` in
    /// ListKeyRotations (then `PENDING_ROTATION`) and the primary key does
    /// not rotate. `ExpirationModel` defaults to `KEY_MATERIAL_EXPIRES`,
    /// which needs a `ValidTo` after now and at most 365 days on; at
    /// `ValidTo` the material is deleted as
    /// [`delete_imported_key_material`](Kms::delete_imported_key_material)
    /// deletes it. Returns the material's `KeyMaterialId`.
    ///
    /// Errors: `ValidationException` (also a symmetric-only member for an
    /// HMAC key), `NotFoundException`,
    /// `UnsupportedOperationException` (origin not `EXTERNAL`;
    /// `NEW_KEY_MATERIAL` for a multi-Region replica key),
    /// `KMSInvalidStateException` (the key state; `NEW_KEY_MATERIAL` while
    /// another material is pending rotation),
    /// `InvalidImportTokenException`, `ExpiredImportTokenException`,
    /// `InvalidCiphertextException` (the material does not unwrap),
    /// `IncorrectKeyMaterialException` (material of a length the key's
    /// spec does not allow, not a private key of the key's spec, existing
    /// material the key does not have, new
    /// material it has; a `KeyMaterialId` that is not the material's),
    /// `AccessDeniedException`.
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
        let spec = entry.kind.spec();
        check_symmetric_members(&req, spec)?;
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
            use std::sync::Arc;

            use crate::crypto::KeyMaterial;
            use crate::kms::model::import::{ImportToken, ImportedSecret};
            use crate::kms::model::kind::KeyKind;
            use crate::kms::model::versions::{MaterialId, MaterialVersion};

            let token = ImportToken::decode(&req.import_token);
            let parameters = self.inner.import_parameters(&entry, token, cx.now)?;
            let bytes = parameters
                .wrapping
                .unwrap(&req.encrypted_key_material, &self.inner.rng)
                .map_err(|_| crate::kms::support::errors::invalid_ciphertext())?;
            // The material's bytes: 32 for a symmetric key, the lengths
            // its spec allows for an HMAC key, the PKCS#8 private key of
            // an asymmetric key (its id is of the pair's one encoding, so
            // the same key re-imported in another encoding is the same).
            let incorrect = || crate::kms::service::import::incorrect_material(&entry.arn);
            let pair = if crate::kms::model::kind::is_asymmetric_spec(spec) {
                let pair = KeyKind::imported_pair(spec, &bytes)
                    .ok_or_else(|| not_a_private_key(&entry.arn, spec))?;
                let der = pair
                    .to_pkcs8()
                    .ok_or_else(|| Error::internal("an imported key pair that does not encode"))?;
                Some((pair, der))
            } else {
                None
            };
            let id = MaterialId::derive_imported(
                &entry.id,
                pair.as_ref().map_or(&bytes[..], |(_, der)| &der[..]),
            );
            let now = cx.now;
            let secret: Box<dyn FnOnce(u32) -> ImportedSecret> = match (spec, pair) {
                (_, Some((pair, _))) => Box::new(move |_| ImportedSecret::KeyPair(Arc::new(pair))),
                (KeySpec::SymmetricDefault, None) => {
                    let bytes: &[u8; KeyMaterial::LEN] =
                        bytes[..].try_into().map_err(|_| incorrect())?;
                    let material = KeyMaterial::from_bytes(*bytes);
                    Box::new(move |index| {
                        ImportedSecret::Symmetric(Arc::new(MaterialVersion::imported(
                            index, material, now, id,
                        )))
                    })
                }
                (_, None) => {
                    let key = KeyKind::imported_hmac_key(spec, &bytes).ok_or_else(incorrect)?;
                    Box::new(move |_| ImportedSecret::Hmac(Arc::new(key)))
                }
            };
            let id = self.inner.import_material(
                &entry,
                id,
                secret,
                req.import_type,
                req.key_material_id.as_deref(),
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
    /// `EXTERNAL`): deletes the material `KeyMaterialId` names, or the
    /// current one, now (its expiry timer goes too). Material pending
    /// rotation is no longer associated with the key (other material may
    /// be imported in its place) and the key state stays; any other
    /// material leaves the key pending import until the same material is
    /// imported again, and until then ciphertexts fail with
    /// `KMSInvalidStateException`. Material that is not imported changes
    /// nothing. Allowed in every key state; a key pending deletion stays
    /// so. Deleting a multi-Region primary key's material pending rotation
    /// deletes it from its replicas too; a replica's deletion changes only
    /// the replica (its material pending rotation stays listed there,
    /// pending import). Returns the deleted material's id.
    ///
    /// Errors: `ValidationException` (`KeyMaterialId` not 64 lowercase hex
    /// digits), `NotFoundException` (no such key, or a `KeyMaterialId` that
    /// is not one of the key's), `UnsupportedOperationException` (origin
    /// not `EXTERNAL`), `AccessDeniedException`.
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
