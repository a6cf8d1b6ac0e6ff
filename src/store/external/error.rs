//! [`XksError`]: what a call to an XKS proxy can fail with — the proxy's
//! own error names (its `errorName`, with the HTTP status it answers with)
//! and the transport failures a client sees before any answer arrives.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an XKS proxy call failed.
///
/// The first twelve variants are the proxy API's error names; a proxy sends
/// them as `{"errorName": …, "errorMessage": …}` with the HTTP status of
/// [`XksError::http_status`]. The last four are seen by the client only:
/// nothing answered, nothing answered in time, the answer was unreadable, or
/// TLS failed. The proxy's `errorMessage` is deliberately not kept here: KMS
/// logs it and never returns it to its callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum XksError {
    /// 400: the request is malformed (a field is missing, too long, or not
    /// one of the allowed values).
    Validation,
    /// 400: the external key is not in a state that allows the operation
    /// (for example it is DISABLED).
    InvalidState,
    /// 400: the ciphertext, IV, tag, metadata or AAD do not authenticate.
    InvalidCiphertext,
    /// 400: the external key's usages do not allow the operation.
    InvalidKeyUsage,
    /// 401: the SigV4 signature or credential was rejected.
    AuthenticationFailed,
    /// 403: the proxy's authorization rules deny the request.
    AccessDenied,
    /// 404: no external key has that id.
    KeyNotFound,
    /// 404: the URI path is not the proxy's.
    InvalidUriPath,
    /// 501: the proxy does not implement the operation.
    UnsupportedOperation,
    /// 429: too many requests.
    Throttling,
    /// 500: the proxy failed internally.
    Internal,
    /// 503: the external key manager did not answer the proxy in time.
    DependencyTimeout,
    /// Transport: no connection could be made (DNS, TCP, nothing listening).
    Unreachable,
    /// Transport: no answer within the caller's deadline.
    TimedOut,
    /// Transport: an answer came but is not a well-formed response.
    InvalidResponse,
    /// Transport: the TLS handshake failed (old protocol, bad certificate,
    /// host name mismatch, untrusted CA).
    InvalidTls,
}

impl XksError {
    /// Every variant, proxy errors first.
    pub const fn values() -> &'static [XksError] {
        use XksError as E;
        &[
            E::Validation,
            E::InvalidState,
            E::InvalidCiphertext,
            E::InvalidKeyUsage,
            E::AuthenticationFailed,
            E::AccessDenied,
            E::KeyNotFound,
            E::InvalidUriPath,
            E::UnsupportedOperation,
            E::Throttling,
            E::Internal,
            E::DependencyTimeout,
            E::Unreachable,
            E::TimedOut,
            E::InvalidResponse,
            E::InvalidTls,
        ]
    }

    /// The proxy API's `errorName` (e.g. `"KeyNotFoundException"`), or
    /// `None` for a transport failure, which has no name on the wire.
    pub const fn error_name(self) -> Option<&'static str> {
        use XksError as E;
        Some(match self {
            E::Validation => "ValidationException",
            E::InvalidState => "InvalidStateException",
            E::InvalidCiphertext => "InvalidCiphertextException",
            E::InvalidKeyUsage => "InvalidKeyUsageException",
            E::AuthenticationFailed => "AuthenticationFailedException",
            E::AccessDenied => "AccessDeniedException",
            E::KeyNotFound => "KeyNotFoundException",
            E::InvalidUriPath => "InvalidUriPathException",
            E::UnsupportedOperation => "UnsupportedOperationException",
            E::Throttling => "ThrottlingException",
            E::Internal => "InternalException",
            E::DependencyTimeout => "DependencyTimeoutException",
            E::Unreachable | E::TimedOut | E::InvalidResponse | E::InvalidTls => return None,
        })
    }

    /// The HTTP status the proxy answers this error with, or `None` for a
    /// transport failure.
    pub const fn http_status(self) -> Option<u16> {
        use XksError as E;
        Some(match self {
            E::Validation | E::InvalidState | E::InvalidCiphertext | E::InvalidKeyUsage => 400,
            E::AuthenticationFailed => 401,
            E::AccessDenied => 403,
            E::KeyNotFound | E::InvalidUriPath => 404,
            E::Throttling => 429,
            E::Internal => 500,
            E::UnsupportedOperation => 501,
            E::DependencyTimeout => 503,
            E::Unreachable | E::TimedOut | E::InvalidResponse | E::InvalidTls => return None,
        })
    }

    /// Whether the failure happened below the proxy API (no error body).
    pub const fn is_transport(self) -> bool {
        self.error_name().is_none()
    }

    /// Reads a proxy error name. An unknown name is itself a malformed
    /// response, so this returns [`XksError::InvalidResponse`] for it.
    pub fn from_error_name(name: &str) -> XksError {
        XksError::values()
            .iter()
            .copied()
            .find(|e| e.error_name() == Some(name))
            .unwrap_or(XksError::InvalidResponse)
    }

    /// A short description of the cause, for KMS messages. It never contains
    /// anything the proxy sent.
    pub const fn describe(self) -> &'static str {
        use XksError as E;
        match self {
            E::Validation => "the proxy rejected the request as invalid (ValidationException)",
            E::InvalidState => {
                "the external key is not enabled in the external key manager (InvalidStateException)"
            }
            E::InvalidCiphertext => {
                "the proxy could not authenticate the ciphertext (InvalidCiphertextException)"
            }
            E::InvalidKeyUsage => {
                "the external key's usages do not allow the operation (InvalidKeyUsageException)"
            }
            E::AuthenticationFailed => {
                "the proxy rejected the proxy authentication credential (AuthenticationFailedException)"
            }
            E::AccessDenied => {
                "the proxy's authorization rules deny the request (AccessDeniedException)"
            }
            E::KeyNotFound => "the proxy cannot find the external key (KeyNotFoundException)",
            E::InvalidUriPath => {
                "the proxy does not serve the configured URI path (InvalidUriPathException)"
            }
            E::UnsupportedOperation => {
                "the proxy does not support the operation (UnsupportedOperationException)"
            }
            E::Throttling => "the proxy is throttling requests (ThrottlingException)",
            E::Internal => "the proxy failed internally (InternalException)",
            E::DependencyTimeout => {
                "the external key manager did not answer the proxy in time (DependencyTimeoutException)"
            }
            E::Unreachable => "the proxy could not be reached",
            E::TimedOut => "the proxy did not answer in time",
            E::InvalidResponse => "the proxy's response could not be understood",
            E::InvalidTls => "the TLS connection to the proxy failed",
        }
    }
}

impl fmt::Display for XksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

impl std::error::Error for XksError {}

/// The proxy's error body: `{"errorName": …, "errorMessage": …}`.
///
/// `errorMessage` is kept for logging only; KMS never returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct XksErrorBody {
    /// One of the proxy API's error names.
    pub error_name: String,
    /// Free text for the proxy's operators (under 512 printable ASCII
    /// characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl XksErrorBody {
    /// The error this body names ([`XksError::InvalidResponse`] if unknown).
    pub fn error(&self) -> XksError {
        XksError::from_error_name(&self.error_name)
    }
}
