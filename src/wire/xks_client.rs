//! An XKS proxy client (cargo feature `xks-http`): [`HttpXksClient`]
//! implements [`ExternalKeyManager`] by calling a real XKS proxy over
//! HTTP(S), as KMS does. Attach it to a KMS's network like the in-memory
//! manager: `kms.xks_network().attach(endpoint, Arc::new(client))`.
//!
//! Published as `kms_keystore::xks::http`.
//!
//! # Rules
//!
//! - Each call is `POST {endpoint}{uriPath}/health` or
//!   `…/keys/{externalKeyId}/metadata|encrypt|decrypt`, the endpoint and path
//!   being the key store's ([`XksCall::uri`]); the body is the spec's JSON,
//!   `requestMetadata` included as KMS filled it (the real caller's ARN).
//! - Signed with SigV4, service `kms-xks-proxy`, the key store's credential
//!   ([`XksCall::credential`]) and the configured Region, at the wall-clock
//!   time (a proxy refuses a date more than 15 minutes off).
//! - The whole call — connect, TLS, request, answer — must end within
//!   [`XksCall::deadline`] (250 ms for KMS), or it is [`XksError::TimedOut`].
//! - TLS (1.2+) with rustls, the server's certificate checked against
//!   Mozilla's roots or the roots configured; a client certificate (mTLS)
//!   if configured. Plain `http://` only after
//!   [`HttpXksClientConfig::allow_plain_http`]. No redirects, no proxy from
//!   the environment.
//! - Connections are kept alive and reused (an agent's pool).
//! - Failures: nothing listening, DNS, a reset or a closed connection →
//!   [`XksError::Unreachable`]; the deadline → [`XksError::TimedOut`]; a
//!   TLS failure (untrusted CA, wrong name, old protocol) →
//!   [`XksError::InvalidTls`]; an error answer → the error its `errorName`
//!   names, or, without a readable one, the error its HTTP status stands for
//!   (400 Validation, 401 AuthenticationFailed, 403 AccessDenied, 404
//!   InvalidUriPath, 429 Throttling, 500 Internal, 501 UnsupportedOperation,
//!   503 DependencyTimeout); anything else, or a 200 whose body is not the
//!   operation's JSON → [`XksError::InvalidResponse`]. These are the errors
//!   the in-memory manager's faults produce, so KMS's exceptions and
//!   connection error codes come out the same.
//! - The secret access key is used only to sign; it is never in `Debug`
//!   output, errors or logs.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde::Serialize;
use serde::de::DeserializeOwned;
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig, TlsProvider};
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::ids::XksKeyId;
use crate::store::external::api::{
    RequestMetadata, XKS_SIGNING_NAME, XksCdivAlgorithm, XksDecryptRequest, XksDecryptResponse,
    XksEncryptRequest, XksEncryptResponse, XksEncryptionAlgorithm, XksOperation,
};
use crate::store::external::error::XksErrorBody;
use crate::store::external::{
    ExternalKeyManager, HealthStatusRequest, HealthStatusResponse, KeyMetadataRequest,
    KeyMetadataResponse, XksCall, XksError,
};

/// Largest answer read from a proxy (the largest valid one is about 6 KiB).
const MAX_RESPONSE: u64 = 64 * 1024;

/// The Region signed with unless configured.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How an [`HttpXksClient`] reaches proxies. Built with the methods below;
/// the default is HTTPS to the endpoint's host on port 443, Mozilla's root
/// certificates, no client certificate, Region `us-east-1`.
#[derive(Clone)]
pub struct HttpXksClientConfig {
    connect_to: Option<SocketAddr>,
    allow_plain_http: bool,
    roots: Option<Vec<Certificate<'static>>>,
    client_cert: Option<ClientCert>,
    region: String,
}

impl Default for HttpXksClientConfig {
    fn default() -> Self {
        HttpXksClientConfig::new()
    }
}

impl fmt::Debug for HttpXksClientConfig {
    /// Never shows a private key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpXksClientConfig")
            .field("connect_to", &self.connect_to)
            .field("allow_plain_http", &self.allow_plain_http)
            .field(
                "root_certificates",
                &self.roots.as_ref().map_or_else(
                    || "webpki-roots".to_owned(),
                    |r| format!("{} configured", r.len()),
                ),
            )
            .field("client_certificate", &self.client_cert.is_some())
            .field("region", &self.region)
            .finish()
    }
}

fn pem_error(what: &str) -> Error {
    Error::Serialization {
        message: format!("XKS proxy client: {what}").into(),
    }
}

impl HttpXksClientConfig {
    /// HTTPS to the endpoint's host, port 443, Mozilla's roots, `us-east-1`.
    pub fn new() -> HttpXksClientConfig {
        HttpXksClientConfig {
            connect_to: None,
            allow_plain_http: false,
            roots: None,
            client_cert: None,
            region: DEFAULT_REGION.to_owned(),
        }
    }

    /// Connects to `addr` whatever the endpoint's host (as curl's
    /// `--connect-to`): the `Host` header, the signature and the TLS server
    /// name stay the endpoint's. Key store endpoints carry no port, so this
    /// is how a proxy on another port is reached.
    pub fn connect_to(mut self, addr: SocketAddr) -> HttpXksClientConfig {
        self.connect_to = Some(addr);
        self
    }

    /// Speaks plain HTTP instead of HTTPS (the endpoint's `https://` is
    /// replaced by `http://`). For local tests only: the XKS spec requires
    /// TLS.
    pub fn allow_plain_http(mut self) -> HttpXksClientConfig {
        self.allow_plain_http = true;
        self
    }

    /// Trusts exactly the certificates in `pem` (one or more `CERTIFICATE`
    /// blocks) instead of Mozilla's roots.
    ///
    /// # Errors
    /// `SerializationException` if `pem` holds no certificate or a bad one.
    pub fn root_certificates_pem(mut self, pem: &[u8]) -> Result<HttpXksClientConfig> {
        let certs = pem_certificates(pem)?;
        self.roots = Some(certs);
        Ok(self)
    }

    /// Presents a client certificate (mTLS): `chain_pem` holds the
    /// certificate chain, leaf first, `key_pem` its private key.
    ///
    /// # Errors
    /// `SerializationException` for a bad chain or key (the message never
    /// shows the key).
    pub fn client_certificate_pem(
        mut self,
        chain_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<HttpXksClientConfig> {
        let chain = pem_certificates(chain_pem)?;
        let key = PrivateKey::from_pem(key_pem).map_err(|_| pem_error("no private key in PEM"))?;
        self.client_cert = Some(ClientCert::new_with_certs(&chain, key));
        Ok(self)
    }

    /// The Region requests are signed for (the KMS's Region).
    pub fn region(mut self, region: &str) -> HttpXksClientConfig {
        region.clone_into(&mut self.region);
        self
    }
}

fn pem_certificates(pem: &[u8]) -> Result<Vec<Certificate<'static>>> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        if let ureq::tls::PemItem::Certificate(c) = item.map_err(|_| pem_error("unreadable PEM"))? {
            certs.push(c);
        }
    }
    if certs.is_empty() {
        return Err(pem_error("no certificate in PEM"));
    }
    Ok(certs)
}

/// Resolves every host to one address (`connect_to`).
#[derive(Debug)]
struct ConnectTo(SocketAddr);

impl Resolver for ConnectTo {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> std::result::Result<ResolvedSocketAddrs, ureq::Error> {
        let mut addrs = self.empty();
        addrs.push(self.0);
        Ok(addrs)
    }
}

/// An [`ExternalKeyManager`] that is a real XKS proxy, called over HTTP(S)
/// (see the module docs for the rules). Cheap to clone: clones share the
/// connection pool.
#[derive(Clone)]
pub struct HttpXksClient {
    agent: ureq::Agent,
    config: Arc<HttpXksClientConfig>,
}

impl fmt::Debug for HttpXksClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpXksClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HttpXksClient {
    /// A client with its own connection pool.
    pub fn new(config: HttpXksClientConfig) -> HttpXksClient {
        let roots = match &config.roots {
            Some(certs) => RootCerts::new_with_certs(certs),
            None => RootCerts::WebPki,
        };
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .root_certs(roots)
            .client_cert(config.client_cert.clone())
            .build();
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .https_only(!config.allow_plain_http)
            .max_redirects(0)
            .proxy(None)
            .user_agent("kms-keystore-xks-client")
            .tls_config(tls)
            .build();
        let agent = match config.connect_to {
            Some(addr) => {
                ureq::Agent::with_parts(agent_config, DefaultConnector::new(), ConnectTo(addr))
            }
            None => ureq::Agent::new_with_config(agent_config),
        };
        HttpXksClient {
            agent,
            config: Arc::new(config),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HttpXksClientConfig {
        &self.config
    }

    /// The URL of `op`: the store's endpoint (scheme switched to `http`
    /// when plain HTTP is allowed) and path.
    fn url(&self, call: &XksCall, op: XksOperation, key_id: Option<&XksKeyId>) -> String {
        let url = call.uri.url(op, key_id);
        match url.strip_prefix("https://") {
            Some(rest) if self.config.allow_plain_http => format!("http://{rest}"),
            _ => url,
        }
    }

    /// Signs and sends one call; returns the answer's JSON or the failure.
    fn call<T: DeserializeOwned>(
        &self,
        call: &XksCall,
        op: XksOperation,
        key_id: Option<&XksKeyId>,
        body: &[u8],
    ) -> std::result::Result<T, XksError> {
        let url = self.url(call, op, key_id);
        let started = Instant::now();
        // One retry, on a fresh connection, when a kept-alive one turned
        // out to be closed before any answer.
        let mut attempt = 0;
        loop {
            let left = call.deadline.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(XksError::TimedOut);
            }
            match self.send_once(call, &url, body, left) {
                Err(Failure::Closed) if attempt == 0 => attempt += 1,
                Err(Failure::Closed) => return Err(XksError::Unreachable),
                Err(Failure::Xks(e)) => return Err(e),
                Ok((status, answer)) => return outcome(status, &answer),
            }
        }
    }

    fn send_once(
        &self,
        call: &XksCall,
        url: &str,
        body: &[u8],
        timeout: Duration,
    ) -> std::result::Result<(u16, Zeroizing<Vec<u8>>), Failure> {
        let headers = sign_headers(call, url, body, &self.config.region)?;
        let mut request = self
            .agent
            .post(url)
            .config()
            .timeout_global(Some(timeout))
            .build();
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let mut response = request.send(body).map_err(Failure::from)?;
        let status = response.status().as_u16();
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| match Failure::from(e) {
                // The head came: a cut body is a bad answer, not no answer.
                Failure::Closed => Failure::Xks(XksError::InvalidResponse),
                f => f,
            })?;
        Ok((status, Zeroizing::new(answer)))
    }
}

/// How one attempt failed.
enum Failure {
    /// The connection closed (or was reset) before an answer: retried once.
    Closed,
    /// Any other failure, final.
    Xks(XksError),
}

impl From<ureq::Error> for Failure {
    fn from(e: ureq::Error) -> Failure {
        use std::io::ErrorKind as K;
        match e {
            ureq::Error::Timeout(_) => Failure::Xks(XksError::TimedOut),
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
                Failure::Xks(XksError::Unreachable)
            }
            ureq::Error::Tls(_) | ureq::Error::Rustls(_) => Failure::Xks(XksError::InvalidTls),
            ureq::Error::Io(io) => {
                let tls = io
                    .get_ref()
                    .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
                if tls {
                    return Failure::Xks(XksError::InvalidTls);
                }
                match io.kind() {
                    K::TimedOut | K::WouldBlock => Failure::Xks(XksError::TimedOut),
                    K::ConnectionReset
                    | K::ConnectionAborted
                    | K::BrokenPipe
                    | K::UnexpectedEof
                    | K::NotConnected => Failure::Closed,
                    K::ConnectionRefused
                    | K::HostUnreachable
                    | K::NetworkUnreachable
                    | K::NetworkDown
                    | K::AddrNotAvailable => Failure::Xks(XksError::Unreachable),
                    _ => Failure::Xks(XksError::InvalidResponse),
                }
            }
            _ => Failure::Xks(XksError::InvalidResponse),
        }
    }
}

/// The headers of a signed call: host, content-type, x-amz-date,
/// authorization (and x-amz-content-sha256 if the signer adds it).
fn sign_headers(
    call: &XksCall,
    url: &str,
    body: &[u8],
    region: &str,
) -> std::result::Result<Vec<(String, String)>, Failure> {
    let base = [("content-type", "application/json")];
    let identity = aws_credential_types::Credentials::new(
        call.credential.access_key_id(),
        call.credential.expose_secret(),
        None,
        None,
        "kms-keystore-xks-client",
    )
    .into();
    // A signing failure is a bug of ours, never the proxy's; it is reported
    // as an unusable exchange, without the signer's text.
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(XKS_SIGNING_NAME)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|_| Failure::Xks(XksError::InvalidResponse))?
        .into();
    let request =
        SignableRequest::new("POST", url, base.iter().copied(), SignableBody::Bytes(body))
            .map_err(|_| Failure::Xks(XksError::InvalidResponse))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|_| Failure::Xks(XksError::InvalidResponse))?
        .into_parts();
    let mut headers: Vec<(String, String)> = base
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    for (name, value) in instructions.headers() {
        headers.push((name.to_owned(), value.to_owned()));
    }
    Ok(headers)
}

/// The result an answer stands for.
fn outcome<T: DeserializeOwned>(status: u16, body: &[u8]) -> std::result::Result<T, XksError> {
    if (200..300).contains(&status) {
        return serde_json::from_slice(body).map_err(|_| XksError::InvalidResponse);
    }
    let named = serde_json::from_slice::<XksErrorBody>(body)
        .ok()
        .map(|b| b.error())
        .filter(|e| !e.is_transport());
    Err(named.unwrap_or(match status {
        400 => XksError::Validation,
        401 => XksError::AuthenticationFailed,
        403 => XksError::AccessDenied,
        404 => XksError::InvalidUriPath,
        429 => XksError::Throttling,
        500 => XksError::Internal,
        501 => XksError::UnsupportedOperation,
        503 => XksError::DependencyTimeout,
        _ => XksError::InvalidResponse,
    }))
}

/// The Encrypt body but its plaintext, which [`encrypt_body`] writes.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EncryptRest<'a> {
    request_metadata: &'a RequestMetadata,
    encryption_algorithm: XksEncryptionAlgorithm,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_authenticated_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ciphertext_data_integrity_value_algorithm: Option<XksCdivAlgorithm>,
}

/// `{"plaintext":"<base64>", …}`, written explicitly: [`crate::Plaintext`]
/// serializes as a placeholder. Zeroized on drop.
fn encrypt_body(request: &XksEncryptRequest) -> Zeroizing<Vec<u8>> {
    let rest = EncryptRest {
        request_metadata: &request.request_metadata,
        encryption_algorithm: request.encryption_algorithm,
        additional_authenticated_data: request
            .additional_authenticated_data
            .as_deref()
            .map(crate::base64_blob::encode),
        ciphertext_data_integrity_value_algorithm: request
            .ciphertext_data_integrity_value_algorithm,
    };
    let rest = serde_json::to_vec(&rest).unwrap_or_else(|_| b"{}".to_vec());
    let encoded = Zeroizing::new(crate::base64_blob::encode(
        request.plaintext.expose_secret(),
    ));
    let mut body = Zeroizing::new(Vec::with_capacity(encoded.len() + rest.len() + 16));
    body.extend_from_slice(br#"{"plaintext":""#);
    body.extend_from_slice(encoded.as_bytes());
    body.push(b'"');
    // `rest` is a non-empty object: `{"requestMetadata":…}`.
    if let Some(tail) = rest.strip_prefix(b"{") {
        body.push(b',');
        body.extend_from_slice(tail);
    }
    body
}

fn json_body<T: Serialize>(value: &T) -> std::result::Result<Vec<u8>, XksError> {
    serde_json::to_vec(value).map_err(|_| XksError::Validation)
}

impl ExternalKeyManager for HttpXksClient {
    fn get_health_status(
        &self,
        call: &XksCall,
        request: &HealthStatusRequest,
    ) -> std::result::Result<HealthStatusResponse, XksError> {
        let body = json_body(request)?;
        self.call(call, XksOperation::GetHealthStatus, None, &body)
    }

    fn get_key_metadata(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: &KeyMetadataRequest,
    ) -> std::result::Result<KeyMetadataResponse, XksError> {
        let body = json_body(request)?;
        self.call(call, XksOperation::GetKeyMetadata, Some(key_id), &body)
    }

    fn encrypt(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: XksEncryptRequest,
    ) -> std::result::Result<XksEncryptResponse, XksError> {
        let body = encrypt_body(&request);
        self.call(call, XksOperation::Encrypt, Some(key_id), &body)
    }

    fn decrypt(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: XksDecryptRequest,
    ) -> std::result::Result<XksDecryptResponse, XksError> {
        let body = json_body(&request)?;
        self.call(call, XksOperation::Decrypt, Some(key_id), &body)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_the_errors_of_the_in_memory_manager() {
        let err = |status, body: &str| outcome::<HealthStatusResponse>(status, body.as_bytes());
        for e in XksError::values()
            .iter()
            .copied()
            .filter(|e| !e.is_transport())
        {
            let body = format!(
                r#"{{"errorName":"{}","errorMessage":"x"}}"#,
                e.error_name().unwrap_or_default()
            );
            assert_eq!(err(e.http_status().unwrap_or(500), &body), Err(e), "{e:?}");
        }
        assert_eq!(err(401, ""), Err(XksError::AuthenticationFailed));
        assert_eq!(err(403, "<html>"), Err(XksError::AccessDenied));
        assert_eq!(err(404, ""), Err(XksError::InvalidUriPath));
        assert_eq!(err(429, ""), Err(XksError::Throttling));
        assert_eq!(err(500, ""), Err(XksError::Internal));
        assert_eq!(err(503, ""), Err(XksError::DependencyTimeout));
        assert_eq!(err(418, ""), Err(XksError::InvalidResponse));
        assert_eq!(
            err(400, r#"{"errorName":"NoSuchThing"}"#),
            Err(XksError::Validation)
        );
        assert_eq!(err(200, "not json"), Err(XksError::InvalidResponse));
        assert_eq!(
            err(200, r#"{"xksProxyFleetSize":1}"#),
            Err(XksError::InvalidResponse)
        );
    }

    #[test]
    fn the_encrypt_body_carries_the_plaintext_and_every_other_member() {
        let mut request = XksEncryptRequest::new(
            RequestMetadata::new("Encrypt", "req-1"),
            crate::crypto::Plaintext::from(b"secret bytes".to_vec()),
            Some(b"aad".to_vec()),
        );
        request.ciphertext_data_integrity_value_algorithm = Some(XksCdivAlgorithm::Sha256);
        let body = encrypt_body(&request);
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json["plaintext"],
            crate::base64_blob::encode(b"secret bytes")
        );
        assert_eq!(json["encryptionAlgorithm"], "AES_GCM");
        assert_eq!(
            json["additionalAuthenticatedData"],
            crate::base64_blob::encode(b"aad")
        );
        assert_eq!(json["ciphertextDataIntegrityValueAlgorithm"], "SHA_256");
        assert_eq!(json["requestMetadata"]["kmsOperation"], "Encrypt");
        // It reads back as the request it was.
        let back: XksEncryptRequest = serde_json::from_slice(&body).unwrap();
        assert_eq!(back, request);
    }

    #[test]
    fn plain_http_only_when_allowed() {
        let call = XksCall::new(
            crate::store::external::XksProxyUri::new("https://xks.example.com", "/kms/xks/v1")
                .unwrap(),
            crate::store::external::XksCredential::new(
                "ABCDEFGHIJKLMNOPQRST",
                "PLANTEDsecretPLANTEDsecretPLANTEDsecret1234",
            )
            .unwrap(),
        );
        let tls = HttpXksClient::new(HttpXksClientConfig::new());
        assert_eq!(
            tls.url(&call, XksOperation::GetHealthStatus, None),
            "https://xks.example.com/kms/xks/v1/health"
        );
        let plain = HttpXksClient::new(HttpXksClientConfig::new().allow_plain_http());
        assert_eq!(
            plain.url(&call, XksOperation::GetHealthStatus, None),
            "http://xks.example.com/kms/xks/v1/health"
        );
        let shown = format!("{plain:?}");
        assert!(!shown.contains("PLANTED"), "{shown}");
    }
}
