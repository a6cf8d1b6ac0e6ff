//! From proxy failures to KMS exceptions, per calling context, as the
//! SPEC's XKS error table says (with DESIGN Decisions 7, 8 and 10). The
//! proxy's `errorMessage` never reaches a KMS caller: messages are built
//! here from the error kind alone.

use super::error::XksError;
use super::network::VpcEndpointServiceError;
use crate::error::{Error, kms_err};
use crate::store::ConnectionErrorCode;

/// Which KMS operation made the proxy call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum XksCallSite {
    /// CreateCustomKeyStore or UpdateCustomKeyStore (GetHealthStatus).
    CreateOrUpdateStore,
    /// CreateKey (GetKeyMetadata).
    CreateKey,
    /// Encrypt, Decrypt, ReEncrypt, GenerateDataKey* (proxy Encrypt/Decrypt).
    Crypto,
}

/// The KMS exception for `err` at `site`.
///
/// | proxy error | Create/UpdateCustomKeyStore | CreateKey | crypto ops |
/// |---|---|---|---|
/// | Validation, Internal, InvalidResponse | XksProxyInvalidResponse | CustomKeyStoreInvalidState | KMSInvalidState |
/// | InvalidState, InvalidKeyUsage | XksProxyInvalidResponse¹ | XksKeyInvalidConfiguration | KMSInvalidState |
/// | InvalidCiphertext | XksProxyInvalidResponse¹ | CustomKeyStoreInvalidState¹ | KMSInvalidState |
/// | AuthenticationFailed | XksProxyIncorrectAuthenticationCredential | CustomKeyStoreInvalidState | KMSInvalidState |
/// | AccessDenied | XksProxyInvalidConfiguration¹ | CustomKeyStoreInvalidState (Decision 8) | KMSInvalidState |
/// | KeyNotFound | XksProxyInvalidResponse¹ | XksKeyNotFound | KMSInvalidState |
/// | InvalidUriPath | XksProxyInvalidConfiguration | CustomKeyStoreInvalidState | KMSInvalidState |
/// | UnsupportedOperation | XksProxyInvalidResponse¹ | XksKeyInvalidConfiguration (Decision 7) | KMSInvalidState |
/// | Throttling, DependencyTimeout, Unreachable, TimedOut, InvalidTls | XksProxyUriUnreachable | CustomKeyStoreInvalidState | KMSInvalidState |
///
/// ¹ The SPEC table has no entry ("—"); these are this crate's choices. A
/// key-level error in answer to a health check is a nonsensical answer,
/// hence "invalid response"; an authorization denial is a proxy
/// configuration matter.
pub(crate) fn kms_error(err: XksError, site: XksCallSite, store_id: &str) -> Error {
    use XksError as E;
    let cause = err.describe();
    match site {
        XksCallSite::CreateOrUpdateStore => match err {
            E::AuthenticationFailed => kms_err!(
                XksProxyIncorrectAuthenticationCredential,
                "The external key store proxy rejected the authentication credential of custom key store {store_id}: {cause}."
            ).with_hint("Check the AccessKeyId and RawSecretAccessKey configured on the proxy and update the key store's XksProxyAuthenticationCredential."),
            E::InvalidUriPath | E::AccessDenied => kms_err!(
                XksProxyInvalidConfiguration,
                "The external key store proxy of custom key store {store_id} refused the request: {cause}."
            ).with_hint("Check the XksProxyUriPath and the proxy's authorization rules for KMS."),
            E::Throttling | E::DependencyTimeout | E::Unreachable | E::TimedOut | E::InvalidTls => {
                kms_err!(
                    XksProxyUriUnreachable,
                    "KMS cannot communicate with the external key store proxy of custom key store {store_id}: {cause}."
                ).with_hint("Check the XksProxyUriEndpoint, the proxy's TLS certificate and that the proxy and its external key manager are available, then retry.")
            }
            E::Validation
            | E::Internal
            | E::InvalidResponse
            | E::InvalidState
            | E::InvalidKeyUsage
            | E::InvalidCiphertext
            | E::KeyNotFound
            | E::UnsupportedOperation => kms_err!(
                XksProxyInvalidResponse,
                "KMS cannot interpret the response of the external key store proxy of custom key store {store_id}: {cause}."
            ).with_hint("Check the proxy's logs and that it implements XKS proxy API v1."),
        },
        XksCallSite::CreateKey => match err {
            E::KeyNotFound => kms_err!(
                XksKeyNotFound,
                "The external key store proxy of custom key store {store_id} cannot find the external key: {cause}."
            ).with_hint("Check the XksKeyId."),
            E::InvalidState | E::InvalidKeyUsage | E::UnsupportedOperation => kms_err!(
                XksKeyInvalidConfiguration,
                "The external key cannot back a KMS key: {cause}."
            ).with_hint("It must be an ENABLED AES_256 key whose usages include ENCRYPT and DECRYPT."),
            _ => kms_err!(
                CustomKeyStoreInvalidState,
                "The external key store proxy of custom key store {store_id} could not complete the request: {cause}."
            ).with_hint("Fix the proxy or the key store's configuration, then retry."),
        },
        XksCallSite::Crypto => kms_err!(
            KmsInvalidState,
            "The external key store proxy of custom key store {store_id} could not complete the cryptographic operation: {cause}."
        ).with_hint("Fix the cause, then retry."),
    }
}

/// The KMS exception when every external key manager reports UNAVAILABLE
/// (a successful GetHealthStatus answer that KMS treats as unreachable).
pub(crate) fn fleet_unavailable_error(store_id: &str) -> Error {
    kms_err!(
        XksProxyUriUnreachable,
        "The external key store proxy of custom key store {store_id} reports that no external key manager is available."
    ).with_hint("Bring at least one external key manager back online, then retry.")
}

/// The `ConnectionErrorCode` a failed Connect records for `err`.
///
/// Unreachable, Throttling, DependencyTimeout → XKS_PROXY_NOT_REACHABLE;
/// TimedOut → XKS_PROXY_TIMED_OUT; AuthenticationFailed →
/// INVALID_CREDENTIALS; AccessDenied → XKS_PROXY_ACCESS_DENIED;
/// InvalidUriPath → XKS_PROXY_INVALID_CONFIGURATION; InvalidTls →
/// XKS_PROXY_INVALID_TLS_CONFIGURATION; everything else (Validation,
/// Internal, InvalidResponse and key-level errors a health check cannot
/// sensibly return) → XKS_PROXY_INVALID_RESPONSE. All managers UNAVAILABLE
/// is XKS_PROXY_NOT_REACHABLE too.
pub(crate) fn connection_error_code(err: XksError) -> ConnectionErrorCode {
    use ConnectionErrorCode as C;
    use XksError as E;
    match err {
        E::AuthenticationFailed => C::InvalidCredentials,
        E::AccessDenied => C::XksProxyAccessDenied,
        E::Unreachable | E::Throttling | E::DependencyTimeout => C::XksProxyNotReachable,
        E::TimedOut => C::XksProxyTimedOut,
        E::InvalidUriPath => C::XksProxyInvalidConfiguration,
        E::InvalidTls => C::XksProxyInvalidTlsConfiguration,
        E::Validation
        | E::Internal
        | E::InvalidResponse
        | E::InvalidState
        | E::InvalidCiphertext
        | E::InvalidKeyUsage
        | E::KeyNotFound
        | E::UnsupportedOperation => C::XksProxyInvalidResponse,
    }
}

/// The KMS exception for a VPC endpoint service problem (Create/Update).
pub(crate) fn vpc_error(err: VpcEndpointServiceError, service_name: &str) -> Error {
    match err {
        VpcEndpointServiceError::NotFound => kms_err!(
            XksProxyVpcEndpointServiceNotFound,
            "The VPC endpoint service {service_name} was not found, or KMS lacks permission to use it."
        ).with_hint("Check the service name and owner, and allow the KMS principal as a consumer."),
        VpcEndpointServiceError::InvalidConfiguration => kms_err!(
            XksProxyVpcEndpointServiceInvalidConfiguration,
            "The VPC endpoint service {service_name} does not meet the requirements of an external key store."
        ).with_hint("Check its allowed principals, acceptance setting, subnets and private DNS name."),
    }
}

/// The `ConnectionErrorCode` for a VPC endpoint service problem (Connect).
pub(crate) fn vpc_connection_error_code(err: VpcEndpointServiceError) -> ConnectionErrorCode {
    match err {
        VpcEndpointServiceError::NotFound => ConnectionErrorCode::XksVpcEndpointServiceNotFound,
        VpcEndpointServiceError::InvalidConfiguration => {
            ConnectionErrorCode::XksVpcEndpointServiceInvalidConfiguration
        }
    }
}
