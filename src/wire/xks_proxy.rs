//! The XKS Proxy API v1 served over HTTP, without the network (cargo
//! feature `xks-http`): an [`XksProxy`] takes one HTTP request (method,
//! path, headers, body) and answers with a status and a JSON body, calling
//! any [`ExternalKeyManager`]. The `kms-keystore-xks-proxy` binary is a thin
//! hyper shell over [`XksProxy::handle`]; [`XksProxyConfig`] is its JSON
//! configuration (the served path, the SigV4 credential, the in-memory
//! manager's external keys).
//!
//! Published as `kms_keystore::xks::proxy`.
//!
//! # Rules
//!
//! - Routes: `POST {prefix}/kms/xks/v1/health` and
//!   `POST {prefix}/kms/xks/v1/keys/{externalKeyId}/metadata|encrypt|decrypt`.
//!   Any other path is `404 InvalidUriPathException`; another method on a
//!   route is `501 UnsupportedOperationException`.
//! - Then SigV4, service `kms-xks-proxy`: a missing or malformed
//!   `Authorization`, an unknown access key id, another service, another
//!   Region (when one is configured), a date more than 15 minutes off, or a
//!   signature that does not match is `401 AuthenticationFailedException`.
//! - Then the body: not JSON, a required member missing (`requestMetadata`
//!   and its `kmsOperation` and `kmsRequestId`, `plaintext`, …), a value of
//!   the wrong type, or a blob that is not base64 is
//!   `400 ValidationException`.
//! - Then the manager. Its errors go out with their own names and statuses
//!   ([`XksError::http_status`]); its transport failures (a manager that is
//!   itself remote) are `503 DependencyTimeoutException` when it did not
//!   answer in time and `500 InternalException` otherwise.
//! - An Encrypt asking for `ciphertextDataIntegrityValueAlgorithm: SHA_256`
//!   gets the CDIV, SHA-256 over `aad || ciphertextMetadata || iv ||
//!   ciphertext || tag`, after the proxy has decrypted the ciphertext once
//!   to check it (so a key without DECRYPT answers
//!   `InvalidKeyUsageException`), as the spec's sample proxy does.
//! - Errors are `{"errorName": …, "errorMessage": …}`; the message never
//!   holds a secret or anything the request carried.

use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::WireRequest;
use super::fixture::{CredentialFixture, ExternalKeyFixture};
use super::sigv4;
use crate::error::{Error, Result};
use crate::ids::XksKeyId;
use crate::store::external::api::{
    XksCdivAlgorithm, XksDecryptRequest, XksDecryptResponse, XksEncryptRequest, XksEncryptResponse,
    XksOperation,
};
use crate::store::external::error::XksErrorBody;
use crate::store::external::{
    ExternalKeyManager, HealthStatusRequest, InMemoryExternalKeyManager, KeyMetadataRequest,
    XksCall, XksCredential, XksError, XksKeySpec, XksKeyStatus, XksKeyUsage, XksProxyUri,
};

pub use crate::store::external::api::XKS_SIGNING_NAME;

/// The endpoint the proxy gives its manager in [`XksCall::uri`]: the
/// manager sees the path the proxy serves under this placeholder host.
pub const LOCAL_ENDPOINT: &str = "https://xks-proxy.localhost";

/// The proxy API's version path, after the prefix.
const VERSION_PATH: &str = "/kms/xks/v1";

/// The proxy's configuration file (JSON), for the in-memory manager.
///
/// ```json
/// {
///   "uri_prefix": "example/uri/path/prefix",
///   "credential": {"access_key_id": "BETWEEN2TENAND3TENCHARACTERS",
///                  "secret_access_key": "PleaseReplaceThisWithSomeSecretOfLength43To64"},
///   "keys": [{"id": "foo"},
///            {"id": "encrypt_only_key", "usages": ["ENCRYPT"]},
///            {"id": "disabled", "status": "DISABLED"}]
/// }
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct XksProxyConfig {
    /// The path before `/kms/xks/v1` (e.g. `example/uri/path/prefix`;
    /// default none). Leading and trailing `/` are ignored.
    pub uri_prefix: Option<String>,
    /// The only SigV4 Region accepted (default: any).
    pub region: Option<String>,
    /// The credential requests must be signed with.
    pub credential: CredentialFixture,
    /// The external keys (defaults as in the server fixture: `AES_256`,
    /// `["ENCRYPT", "DECRYPT"]`, `ENABLED`).
    #[serde(default)]
    pub keys: Vec<ExternalKeyFixture>,
    /// Seed for key material and IVs (default: the system's randomness).
    pub seed: Option<u64>,
}

impl XksProxyConfig {
    /// Reads a configuration.
    ///
    /// # Errors
    /// `SerializationException` for JSON that is not a configuration.
    pub fn from_json(text: &str) -> Result<XksProxyConfig> {
        serde_json::from_str(text).map_err(|e| Error::Serialization {
            message: format!("XKS proxy configuration: {e}").into(),
        })
    }

    /// The served path, `/{prefix}/kms/xks/v1`, with `uri_prefix` replaced
    /// by `prefix_override` when given.
    ///
    /// # Errors
    /// `ValidationException` for a prefix the XKS URI path rules refuse.
    pub fn uri(&self, prefix_override: Option<&str>) -> Result<XksProxyUri> {
        let prefix = prefix_override
            .or(self.uri_prefix.as_deref())
            .unwrap_or("")
            .trim_matches('/');
        let path = if prefix.is_empty() {
            VERSION_PATH.to_owned()
        } else {
            format!("/{prefix}{VERSION_PATH}")
        };
        XksProxyUri::new(LOCAL_ENDPOINT, &path)
    }

    /// The proxy and the in-memory manager behind it, holding the keys.
    ///
    /// # Errors
    /// `ValidationException` for a bad prefix, credential, key id or key
    /// (more than ten usages); `AlreadyExistsException` for a repeated id.
    pub fn build(
        &self,
        prefix_override: Option<&str>,
    ) -> Result<(XksProxy, InMemoryExternalKeyManager)> {
        let uri = self.uri(prefix_override)?;
        let credential = XksCredential::new(
            &self.credential.access_key_id,
            self.credential.secret_access_key.expose_secret(),
        )?;
        let manager = InMemoryExternalKeyManager::new(uri.clone(), credential.clone(), self.seed);
        for key in &self.keys {
            manager.add_key(
                &key.id,
                key.spec.unwrap_or(XksKeySpec::Aes256),
                key.usages
                    .as_deref()
                    .unwrap_or(&[XksKeyUsage::Encrypt, XksKeyUsage::Decrypt]),
                key.status.unwrap_or(XksKeyStatus::Enabled),
            )?;
        }
        let mut proxy = XksProxy::new(Arc::new(manager.clone()), uri, credential);
        if let Some(region) = &self.region {
            proxy = proxy.with_region(region);
        }
        Ok((proxy, manager))
    }
}

/// One answer of the proxy: the HTTP status and JSON body, with what the
/// request was and how it failed, for the log line.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct XksProxyResponse {
    /// 200, or the error's status.
    pub status: u16,
    /// The JSON body; zeroized on drop (Decrypt's carries plaintext).
    pub body: Zeroizing<Vec<u8>>,
    /// The operation the path named, if it named one.
    pub operation: Option<XksOperation>,
    /// The error answered, if any.
    pub error: Option<XksError>,
}

impl std::fmt::Debug for XksProxyResponse {
    /// Shows status, operation and error; never the body.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XksProxyResponse")
            .field("status", &self.status)
            .field("operation", &self.operation)
            .field("error", &self.error)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl XksProxyResponse {
    /// The body as JSON (for tests).
    ///
    /// # Errors
    /// The parse error if the body is not JSON.
    pub fn json(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_slice(&self.body)
    }

    fn failure(op: Option<XksOperation>, error: XksError, message: &str) -> XksProxyResponse {
        // A transport failure of the manager is the proxy's dependency failing.
        let answered = match error {
            XksError::TimedOut => XksError::DependencyTimeout,
            e if e.is_transport() => XksError::Internal,
            e => e,
        };
        let body = XksErrorBody {
            error_name: answered
                .error_name()
                .unwrap_or("InternalException")
                .to_owned(),
            error_message: Some(message.to_owned()),
        };
        XksProxyResponse {
            status: answered.http_status().unwrap_or(500),
            body: Zeroizing::new(serde_json::to_vec(&body).unwrap_or_default()),
            operation: op,
            error: Some(answered),
        }
    }

    fn ok(op: XksOperation, body: Zeroizing<Vec<u8>>) -> XksProxyResponse {
        XksProxyResponse {
            status: 200,
            body,
            operation: Some(op),
            error: None,
        }
    }
}

/// What a request path names.
enum Route<'a> {
    Health,
    Key(XksOperation, &'a str),
}

/// The XKS proxy API over any [`ExternalKeyManager`]. Cheap to clone;
/// `Send + Sync`.
#[derive(Clone)]
pub struct XksProxy {
    manager: Arc<dyn ExternalKeyManager>,
    uri: XksProxyUri,
    credential: XksCredential,
    region: Option<String>,
}

impl std::fmt::Debug for XksProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XksProxy")
            .field("path", &self.uri.path())
            .field("credential", &self.credential)
            .field("region", &self.region)
            .field("manager", &self.manager)
            .finish()
    }
}

impl XksProxy {
    /// A proxy serving `uri`'s path (its endpoint is only passed on to the
    /// manager), accepting requests signed with `credential`, answering
    /// from `manager`. Calls reach the manager with that `uri` and
    /// `credential` and the default 250 ms deadline.
    pub fn new(
        manager: Arc<dyn ExternalKeyManager>,
        uri: XksProxyUri,
        credential: XksCredential,
    ) -> XksProxy {
        XksProxy {
            manager,
            uri,
            credential,
            region: None,
        }
    }

    /// The same proxy, accepting SigV4 scopes for `region` only.
    #[must_use]
    pub fn with_region(mut self, region: &str) -> XksProxy {
        self.region = Some(region.to_owned());
        self
    }

    /// The path it serves, `/{prefix}/kms/xks/v1`.
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    /// Answers one request, `now_secs` being the time (seconds since the
    /// epoch) the SigV4 date is checked against. Never panics, whatever
    /// the bytes. The module docs list the checks in order.
    pub fn handle(&self, req: &WireRequest<'_>, now_secs: u64) -> XksProxyResponse {
        let path = req.path.split_once('?').map_or(req.path, |(p, _)| p);
        let Some(route) = self.route(path) else {
            return XksProxyResponse::failure(
                None,
                XksError::InvalidUriPath,
                "No such path on this XKS proxy.",
            );
        };
        let op = match route {
            Route::Health => XksOperation::GetHealthStatus,
            Route::Key(op, _) => op,
        };
        if req.method != "POST" {
            return XksProxyResponse::failure(
                Some(op),
                XksError::UnsupportedOperation,
                "The XKS proxy API takes POST only.",
            );
        }
        if let Err(message) = self.authenticate(req, now_secs) {
            return XksProxyResponse::failure(Some(op), XksError::AuthenticationFailed, message);
        }
        let call = XksCall::new(self.uri.clone(), self.credential.clone());
        let result = match route {
            Route::Health => self.health(&call, req.body),
            Route::Key(op, key) => match key.parse::<XksKeyId>() {
                Err(_) => Err((XksError::KeyNotFound, "")),
                Ok(key) => self.key_operation(&call, op, &key, req.body),
            },
        };
        match result {
            Ok(body) => XksProxyResponse::ok(op, body),
            Err((error, message)) => {
                let message = if message.is_empty() {
                    error.describe()
                } else {
                    message
                };
                XksProxyResponse::failure(Some(op), error, message)
            }
        }
    }

    fn route<'p>(&self, path: &'p str) -> Option<Route<'p>> {
        let rest = path.strip_prefix(self.uri.path())?.strip_prefix('/')?;
        if rest == "health" {
            return Some(Route::Health);
        }
        let (key, op) = rest.strip_prefix("keys/")?.rsplit_once('/')?;
        if key.is_empty() || key.contains('/') {
            return None;
        }
        let op = match op {
            "metadata" => XksOperation::GetKeyMetadata,
            "encrypt" => XksOperation::Encrypt,
            "decrypt" => XksOperation::Decrypt,
            _ => return None,
        };
        Some(Route::Key(op, key))
    }

    /// SigV4 against the one credential; the refusal's reason (for the
    /// `errorMessage`) names no secret and nothing the request sent.
    fn authenticate(&self, req: &WireRequest<'_>, now_secs: u64) -> Result<(), &'static str> {
        let header = req
            .header("authorization")
            .ok_or("The request has no Authorization header.")?;
        let auth = sigv4::Authorization::parse(header)
            .map_err(|_| "The Authorization header is not a complete SigV4 signature.")?;
        if auth.service != XKS_SIGNING_NAME {
            return Err("The signature's scope is not for service kms-xks-proxy.");
        }
        if self.region.as_deref().is_some_and(|r| r != auth.region) {
            return Err("The signature's scope is not for this proxy's Region.");
        }
        if !constant_time_eq::constant_time_eq(
            auth.access_key_id.as_bytes(),
            self.credential.access_key_id().as_bytes(),
        ) {
            return Err("The access key id is not known to this proxy.");
        }
        if !auth.signed_headers.contains(&"host") {
            return Err("The signature does not cover the Host header.");
        }
        let date_secs = req
            .header("x-amz-date")
            .and_then(sigv4::parse_amz_date)
            .ok_or("The request has no valid X-Amz-Date header.")?;
        let amz_date = req.header("x-amz-date").unwrap_or_default();
        sigv4::check_skew(amz_date, date_secs, now_secs)
            .map_err(|_| "The request's date is more than 15 minutes from the proxy's clock.")?;
        let matches =
            sigv4::expected_signature(req, &auth, self.credential.expose_secret(), date_secs)
                .is_some_and(|expected| sigv4::signatures_match(&expected, auth.signature));
        if matches {
            Ok(())
        } else {
            Err("The request signature does not match.")
        }
    }

    fn health(
        &self,
        call: &XksCall,
        body: &[u8],
    ) -> std::result::Result<Zeroizing<Vec<u8>>, (XksError, &'static str)> {
        let request: HealthStatusRequest = parse(body)?;
        let response = self
            .manager
            .get_health_status(call, &request)
            .map_err(|e| (e, ""))?;
        to_json(&response)
    }

    fn key_operation(
        &self,
        call: &XksCall,
        op: XksOperation,
        key: &XksKeyId,
        body: &[u8],
    ) -> std::result::Result<Zeroizing<Vec<u8>>, (XksError, &'static str)> {
        let m = &self.manager;
        match op {
            XksOperation::GetKeyMetadata => {
                let request: KeyMetadataRequest = parse(body)?;
                to_json(
                    &m.get_key_metadata(call, key, &request)
                        .map_err(|e| (e, ""))?,
                )
            }
            XksOperation::Encrypt => {
                let request: XksEncryptRequest = parse(body)?;
                to_json(&self.encrypt(call, key, request).map_err(|e| (e, ""))?)
            }
            XksOperation::Decrypt => {
                let request: XksDecryptRequest = parse(body)?;
                let out = m.decrypt(call, key, request).map_err(|e| (e, ""))?;
                Ok(decrypt_body(&out))
            }
            XksOperation::GetHealthStatus => self.health(call, body),
        }
    }

    /// Encrypt, with the CDIV when asked for: computed over what the manager
    /// returned, then checked by decrypting the result once.
    fn encrypt(
        &self,
        call: &XksCall,
        key: &XksKeyId,
        request: XksEncryptRequest,
    ) -> std::result::Result<XksEncryptResponse, XksError> {
        let cdiv = request.ciphertext_data_integrity_value_algorithm;
        let check = cdiv.map(|_| {
            (
                request.request_metadata.clone(),
                request.additional_authenticated_data.clone(),
            )
        });
        let mut response = self.manager.encrypt(call, key, request)?;
        if let (Some(XksCdivAlgorithm::Sha256), Some((metadata, aad))) = (cdiv, check) {
            let value = ciphertext_data_integrity_value(aad.as_deref(), &response);
            let again = XksDecryptRequest::for_response(metadata, &response, aad);
            drop(self.manager.decrypt(call, key, again)?);
            response.ciphertext_data_integrity_value = Some(value);
        }
        Ok(response)
    }
}

/// The CDIV of an Encrypt answer: SHA-256 over
/// `aad || ciphertextMetadata || initializationVector || ciphertext ||
/// authenticationTag` (absent parts empty), as the XKS Proxy API defines it.
pub fn ciphertext_data_integrity_value(
    aad: Option<&[u8]>,
    response: &XksEncryptResponse,
) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(aad.unwrap_or_default());
    h.update(response.ciphertext_metadata.as_deref().unwrap_or_default());
    h.update(&response.initialization_vector);
    h.update(&response.ciphertext);
    h.update(&response.authentication_tag);
    h.finalize().to_vec()
}

/// A request body, or `ValidationException` naming no value.
fn parse<T: serde::de::DeserializeOwned>(
    body: &[u8],
) -> std::result::Result<T, (XksError, &'static str)> {
    serde_json::from_slice(body).map_err(|e| {
        let message = if e.is_data() {
            "A required member is missing, or a member has the wrong type or value."
        } else {
            "The request body is not a JSON object."
        };
        (XksError::Validation, message)
    })
}

fn to_json<T: serde::Serialize>(
    value: &T,
) -> std::result::Result<Zeroizing<Vec<u8>>, (XksError, &'static str)> {
    serde_json::to_vec(value)
        .map(Zeroizing::new)
        .map_err(|_| (XksError::Internal, ""))
}

/// `{"plaintext": "<base64>"}`, written explicitly: [`crate::Plaintext`]
/// serializes as a placeholder by design.
fn decrypt_body(out: &XksDecryptResponse) -> Zeroizing<Vec<u8>> {
    let encoded = Zeroizing::new(crate::base64_blob::encode(out.plaintext.expose_secret()));
    let mut body = Zeroizing::new(Vec::with_capacity(encoded.len() + 16));
    body.extend_from_slice(br#"{"plaintext":""#);
    body.extend_from_slice(encoded.as_bytes());
    body.extend_from_slice(br#""}"#);
    body
}
