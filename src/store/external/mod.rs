//! External key stores, model only: the XKS proxy API v1 contract
//! ([`ExternalKeyManager`] and the [`api`] shapes), an in-memory external
//! key manager with fault switches ([`InMemoryExternalKeyManager`]), the
//! network KMS reaches proxies through ([`XksNetwork`]), and the mapping
//! from proxy failures to KMS exceptions (crate-internal, in `mapping`).
//!
//! Nothing here knows about `Kms`; the facade resolves a store's proxy URI
//! through an [`XksNetwork`] and calls the trait.

pub(crate) mod api;
pub(crate) mod error;
pub(crate) mod mapping;
pub(crate) mod memory;
pub(crate) mod network;

#[cfg(test)]
mod tests;

pub(crate) use api::{
    EkmHealthStatus, HealthStatusRequest, HealthStatusResponse, KeyMetadataRequest,
    KeyMetadataResponse, XksCall, XksCredential, XksDecryptInPlace, XksDecryptRequest,
    XksDecryptResponse, XksEncryptInPlace, XksEncryptRequest, XksEncryptResponse, XksKeySpec,
    XksKeyStatus, XksKeyUsage, XksProxyUri, XksSealed,
};
pub(crate) use error::XksError;
pub(crate) use memory::{InMemoryExternalKeyManager, Latency};
pub(crate) use network::{VpcEndpointService, VpcEndpointServiceError, XksNetwork};
// Only the unit tests (this module's and `kms::backend::external`'s) name
// these through the module; the public paths are in `crate::xks`.
#[cfg(test)]
pub(crate) use api::{RequestMetadata, RequestMetadataRef, XksOperation};
#[cfg(test)]
pub(crate) use error::XksErrorBody;

use crate::crypto::Plaintext;
use crate::ids::XksKeyId;

/// An external key manager as KMS sees it through an XKS proxy (API v1).
///
/// Each method is one proxy endpoint. `call` is the transport envelope
/// (URL, SigV4 credential, deadline); the body is the request's JSON.
/// A client for a real proxy implements this over HTTPS; the crate ships
/// [`InMemoryExternalKeyManager`].
///
/// KMS encrypts and decrypts through the in-place forms,
/// [`encrypt_in_place`](ExternalKeyManager::encrypt_in_place) and
/// [`decrypt_in_place`](ExternalKeyManager::decrypt_in_place), whose
/// provided implementations call [`encrypt`](ExternalKeyManager::encrypt)
/// and [`decrypt`](ExternalKeyManager::decrypt): a manager needs only the
/// four endpoint methods, and one in the same process may override the
/// in-place forms to work in the caller's buffer with borrowed inputs.
pub trait ExternalKeyManager: Send + Sync + std::fmt::Debug {
    /// `POST <path>/health`.
    ///
    /// # Errors
    /// Any [`XksError`]; all managers UNAVAILABLE is a successful answer
    /// that [`HealthStatusResponse::is_available`] reports.
    fn get_health_status(
        &self,
        call: &XksCall,
        request: &HealthStatusRequest,
    ) -> Result<HealthStatusResponse, XksError>;

    /// `POST <path>/keys/<key_id>/metadata`.
    ///
    /// # Errors
    /// [`XksError::KeyNotFound`] for an unknown key, or any failure of the call.
    fn get_key_metadata(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: &KeyMetadataRequest,
    ) -> Result<KeyMetadataResponse, XksError>;

    /// `POST <path>/keys/<key_id>/encrypt`.
    ///
    /// # Errors
    /// [`XksError::KeyNotFound`], [`XksError::InvalidState`] (key disabled),
    /// [`XksError::InvalidKeyUsage`], or any failure of the call.
    ///
    /// The request is given by value, so a manager may encrypt its
    /// plaintext buffer in place and return it as the ciphertext.
    fn encrypt(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: XksEncryptRequest,
    ) -> Result<XksEncryptResponse, XksError>;

    /// `POST <path>/keys/<key_id>/decrypt`.
    ///
    /// # Errors
    /// As [`ExternalKeyManager::encrypt`], plus
    /// [`XksError::InvalidCiphertext`] when the tag does not verify.
    ///
    /// By value, as for `encrypt`: the ciphertext buffer may be decrypted
    /// in place.
    fn decrypt(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: XksDecryptRequest,
    ) -> Result<XksDecryptResponse, XksError>;

    /// Encrypt with borrowed inputs, sealing `buf` in place: on success
    /// `buf` holds the ciphertext, which is as long as the plaintext was.
    /// KMS calls this form for every cryptographic operation.
    ///
    /// The provided implementation builds the [`XksEncryptRequest`], calls
    /// [`encrypt`](ExternalKeyManager::encrypt) and copies the ciphertext
    /// back. A manager in the same process overrides it to seal without
    /// allocating, as [`InMemoryExternalKeyManager`] does.
    ///
    /// # Errors
    /// As [`encrypt`](ExternalKeyManager::encrypt), plus
    /// [`XksError::InvalidResponse`] when the answer is one KMS rejects:
    /// a ciphertext of another length, an IV of neither 12 nor 16 bytes, or
    /// a tag of another length than 16 bytes.
    fn encrypt_in_place(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: &XksEncryptInPlace<'_>,
        buf: &mut [u8],
    ) -> Result<XksSealed, XksError> {
        let owned = request.to_request(Plaintext::from(buf.to_vec()));
        let resp = self.encrypt(call, key_id, owned)?;
        if resp.ciphertext.len() != buf.len() {
            return Err(XksError::InvalidResponse);
        }
        let sealed = XksSealed::new(
            &resp.initialization_vector,
            &resp.authentication_tag,
            resp.ciphertext_metadata.as_deref(),
        )?;
        buf.copy_from_slice(&resp.ciphertext);
        Ok(sealed)
    }

    /// Decrypt with borrowed inputs, opening `buf` in place: on success
    /// `buf` holds the plaintext (as long as the ciphertext was). KMS calls
    /// this form for every cryptographic operation.
    ///
    /// The provided implementation builds the [`XksDecryptRequest`], calls
    /// [`decrypt`](ExternalKeyManager::decrypt) and copies the plaintext
    /// back; [`InMemoryExternalKeyManager`] overrides it.
    ///
    /// # Errors
    /// As [`decrypt`](ExternalKeyManager::decrypt), plus
    /// [`XksError::InvalidResponse`] for a plaintext of another length than
    /// the ciphertext. On an error `buf` is left as it was.
    fn decrypt_in_place(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: &XksDecryptInPlace<'_>,
        buf: &mut [u8],
    ) -> Result<(), XksError> {
        let resp = self.decrypt(call, key_id, request.to_request(buf.to_vec()))?;
        let plaintext = resp.plaintext.expose_secret();
        if plaintext.len() != buf.len() {
            return Err(XksError::InvalidResponse);
        }
        buf.copy_from_slice(plaintext);
        Ok(())
    }
}
