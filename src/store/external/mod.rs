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
    KeyMetadataResponse, XksCall, XksCredential, XksDecryptRequest, XksDecryptResponse,
    XksEncryptRequest, XksEncryptResponse, XksKeySpec, XksKeyStatus, XksKeyUsage, XksProxyUri,
};
pub(crate) use error::XksError;
pub(crate) use memory::{InMemoryExternalKeyManager, Latency};
pub(crate) use network::{VpcEndpointService, VpcEndpointServiceError, XksNetwork};
// Only the unit tests (this module's and `kms::backend::external`'s) name
// these through the module; the public paths are in `crate::xks`.
#[cfg(test)]
pub(crate) use api::{RequestMetadata, XksOperation};
#[cfg(test)]
pub(crate) use error::XksErrorBody;

use crate::ids::XksKeyId;

/// An external key manager as KMS sees it through an XKS proxy (API v1).
///
/// Each method is one proxy endpoint. `call` is the transport envelope
/// (URL, SigV4 credential, deadline); the body is the request's JSON.
/// A client for a real proxy implements this over HTTPS; the crate ships
/// [`InMemoryExternalKeyManager`].
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
}
