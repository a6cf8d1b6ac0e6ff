//! The XKS proxy API v1 shapes: the transport envelope of a call
//! ([`XksCall`]: target URI, SigV4 credential, deadline), the request and
//! response bodies with the API's camelCase names, and the API's enums.
//!
//! Binary fields are `Vec<u8>` carried as standard base64 in JSON. Fields
//! holding plaintext are [`Plaintext`]: zeroized on drop, redacted in
//! `Debug` and in serde output (a wire client writes them explicitly).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::Plaintext;
use crate::crypto::material::REDACTED;
use crate::error::{Error, Result, Shown, Violation};
use crate::macros::wire_enum;

/// The SigV4 signing name (service) of the XKS proxy API.
#[cfg(feature = "xks-http")]
pub const XKS_SIGNING_NAME: &str = "kms-xks-proxy";
/// How long KMS waits for a proxy answer before it gives up (250 ms).
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(250);
/// Largest plaintext the proxy must accept for Encrypt (bytes).
pub const MAX_PLAINTEXT_LEN: usize = 4300;
/// Largest additionalAuthenticatedData the proxy must accept (bytes).
pub const MAX_AAD_LEN: usize = 8192;
/// Largest ciphertextMetadata KMS accepts from a proxy (bytes).
pub const MAX_CIPHERTEXT_METADATA_LEN: usize = 20;
/// Length of the AES-GCM authentication tag (bytes).
pub const AUTHENTICATION_TAG_LEN: usize = 16;

wire_enum! {
    /// `encryptionAlgorithm`: v1 knows only AES-GCM.
    pub enum XksEncryptionAlgorithm ("encryptionAlgorithm") {
        /// AES in Galois/Counter Mode.
        AesGcm => "AES_GCM",
    }
}

wire_enum! {
    /// `ciphertextDataIntegrityValueAlgorithm`: v1 knows only SHA-256.
    pub enum XksCdivAlgorithm ("ciphertextDataIntegrityValueAlgorithm") {
        /// SHA-256.
        Sha256 => "SHA_256",
    }
}

wire_enum! {
    /// `keySpec` of an external key. KMS accepts only `AES_256`; the others
    /// exist so that a manager can hold keys KMS must refuse.
    pub enum XksKeySpec ("keySpec") {
        /// A 256-bit AES key.
        Aes256 => "AES_256",
        /// A 128-bit AES key.
        Aes128 => "AES_128",
        /// An RSA 2048-bit key pair.
        Rsa2048 => "RSA_2048",
        /// An RSA 3072-bit key pair.
        Rsa3072 => "RSA_3072",
        /// An RSA 4096-bit key pair.
        Rsa4096 => "RSA_4096",
        /// An EC key on NIST P-256.
        EcP256 => "EC_P256",
    }
}

wire_enum! {
    /// One `keyUsage` value of an external key.
    pub enum XksKeyUsage ("keyUsage") {
        /// Encrypt.
        Encrypt => "ENCRYPT",
        /// Decrypt.
        Decrypt => "DECRYPT",
        /// Sign.
        Sign => "SIGN",
        /// Verify.
        Verify => "VERIFY",
        /// Wrap another key.
        Wrap => "WRAP",
        /// Unwrap another key.
        Unwrap => "UNWRAP",
        /// Derive keys.
        Derive => "DERIVE",
    }
}

wire_enum! {
    /// `keyStatus` of an external key.
    pub enum XksKeyStatus ("keyStatus") {
        /// Usable.
        Enabled => "ENABLED",
        /// Disabled in the external key manager.
        Disabled => "DISABLED",
    }
}

wire_enum! {
    /// `healthStatus` of one external key manager in the fleet.
    pub enum EkmHealthStatus ("healthStatus") {
        /// Fully available.
        Active => "ACTIVE",
        /// Available, impaired.
        Degraded => "DEGRADED",
        /// Not available.
        Unavailable => "UNAVAILABLE",
    }
}

wire_enum! {
    /// The four proxy API operations (used to count calls and target faults).
    pub enum XksOperation ("operation") {
        /// `POST …/health`.
        GetHealthStatus => "GetHealthStatus",
        /// `POST …/keys/<id>/metadata`.
        GetKeyMetadata => "GetKeyMetadata",
        /// `POST …/keys/<id>/encrypt`.
        Encrypt => "Encrypt",
        /// `POST …/keys/<id>/decrypt`.
        Decrypt => "Decrypt",
    }
}

/// The SigV4 credential KMS signs proxy requests with
/// (`XksProxyAuthenticationCredential`).
///
/// The secret is zeroized on drop, compared in constant time, never printed
/// and never serialized.
#[derive(Clone)]
pub struct XksCredential {
    access_key_id: String,
    secret: Zeroizing<String>,
}

impl XksCredential {
    /// Validates and wraps a credential: `AccessKeyId` 20–30 characters of
    /// `[A-Z2-7]`, `RawSecretAccessKey` 43–64 characters of `[a-zA-Z0-9/+=]`.
    ///
    /// # Errors
    /// `ValidationException` naming the field that breaks its constraint.
    pub fn new(access_key_id: &str, raw_secret_access_key: &str) -> Result<XksCredential> {
        const ID: &str = "xksProxyAuthenticationCredential.accessKeyId";
        const SECRET: &str = "xksProxyAuthenticationCredential.rawSecretAccessKey";
        // Both members are `sensitive` in the API model: no message shows
        // either value. Every broken constraint is reported at once.
        let id_ok = !access_key_id.is_empty()
            && access_key_id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b));
        let secret_ok = !raw_secret_access_key.is_empty()
            && raw_secret_access_key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'='));
        Error::check_all(
            [
                Violation::pattern(ID, id_ok, || Shown::Hidden, "^[A-Z2-7]+$"),
                Violation::length(ID, access_key_id, || Shown::Hidden, 20, 30),
                Violation::pattern(SECRET, secret_ok, || Shown::Hidden, r"^[a-zA-Z0-9\/+=]+$"),
                Violation::length(SECRET, raw_secret_access_key, || Shown::Hidden, 43, 64),
            ]
            .into_iter()
            .flatten(),
        )?;
        Ok(XksCredential {
            access_key_id: access_key_id.to_owned(),
            secret: Zeroizing::new(raw_secret_access_key.to_owned()),
        })
    }

    /// The access key id (not secret).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The raw secret access key. Callers must not log or persist it.
    pub fn expose_secret(&self) -> &str {
        &self.secret
    }
}

impl PartialEq for XksCredential {
    /// Constant time in the secret.
    fn eq(&self, other: &Self) -> bool {
        let same_secret =
            constant_time_eq::constant_time_eq(self.secret.as_bytes(), other.secret.as_bytes());
        same_secret & (self.access_key_id == other.access_key_id)
    }
}
impl Eq for XksCredential {}

/// The secret access key lives in a `Zeroizing` buffer: dropping the
/// credential clears it (the access key id is not secret).
impl zeroize::ZeroizeOnDrop for XksCredential {}

impl fmt::Debug for XksCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XksCredential")
            .field("access_key_id", &self.access_key_id)
            .field("raw_secret_access_key", &format_args!("{REDACTED}"))
            .finish()
    }
}

/// Where a proxy is: `XksProxyUriEndpoint` + `XksProxyUriPath`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct XksProxyUri {
    endpoint: String,
    path: String,
}

impl XksProxyUri {
    /// Validates both parts: the endpoint is 10–128 characters matching
    /// `^https://[a-zA-Z0-9.-]+$` (no port, no path); the path is 10–128
    /// characters, `/kms/xks/v<1-2 digits>` with an optional prefix of
    /// `[a-zA-Z0-9/_-]` starting with `/`.
    ///
    /// # Errors
    /// `ValidationException` naming `xksProxyUriEndpoint` or `xksProxyUriPath`.
    pub fn new(endpoint: &str, path: &str) -> Result<XksProxyUri> {
        validate_endpoint(endpoint)?;
        validate_path(path)?;
        Ok(XksProxyUri {
            endpoint: endpoint.to_owned(),
            path: path.to_owned(),
        })
    }

    /// The endpoint, `https://host`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The URI path, e.g. `/kms/xks/v1`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The full URL of an operation, e.g. `https://h/kms/xks/v1/keys/k/encrypt`.
    pub fn url(&self, op: XksOperation, key_id: Option<&crate::ids::XksKeyId>) -> String {
        let base = format!("{}{}", self.endpoint, self.path);
        match (op, key_id) {
            (XksOperation::GetHealthStatus, _) | (_, None) => format!("{base}/health"),
            (XksOperation::GetKeyMetadata, Some(k)) => format!("{base}/keys/{k}/metadata"),
            (XksOperation::Encrypt, Some(k)) => format!("{base}/keys/{k}/encrypt"),
            (XksOperation::Decrypt, Some(k)) => format!("{base}/keys/{k}/decrypt"),
        }
    }
}

/// `XksProxyUriEndpoint`: 10–128 characters matching `^https://[a-zA-Z0-9.-]+$`.
pub(crate) fn validate_endpoint(endpoint: &str) -> Result<()> {
    const FIELD: &str = "xksProxyUriEndpoint";
    let host_ok = endpoint.strip_prefix("https://").is_some_and(|host| {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
    });
    let shown = || Shown::Value(endpoint.to_owned());
    Error::check_all(
        [
            Violation::pattern(FIELD, host_ok, shown, "^https://[a-zA-Z0-9.-]+$"),
            Violation::length(FIELD, endpoint, shown, 10, 128),
        ]
        .into_iter()
        .flatten(),
    )
}

/// `XksProxyUriPath`: 10–128 characters matching the API's pattern.
pub(crate) fn validate_path(path: &str) -> Result<()> {
    const FIELD: &str = "xksProxyUriPath";
    let ok = path
        .rsplit_once("/kms/xks/v")
        .is_some_and(|(prefix, version)| {
            let version_ok =
                (1..=2).contains(&version.len()) && version.bytes().all(|b| b.is_ascii_digit());
            let prefix_ok = prefix.is_empty()
                || (prefix.len() >= 2
                    && prefix.starts_with('/')
                    && prefix
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-')));
            version_ok && prefix_ok
        });
    let shown = || Shown::Value(path.to_owned());
    Error::check_all(
        [
            Violation::pattern(
                FIELD,
                ok,
                shown,
                r"^(/[a-zA-Z0-9\/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$",
            ),
            Violation::length(FIELD, path, shown, 10, 128),
        ]
        .into_iter()
        .flatten(),
    )
}

/// The transport envelope of one proxy call: where it goes, how it is
/// signed and how long the caller waits. None of it is in the JSON body;
/// an HTTP client turns it into the URL, the SigV4 `Authorization` header
/// and a socket timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XksCall {
    /// The proxy's endpoint and URI path as the key store knows them.
    pub uri: XksProxyUri,
    /// The credential the key store signs with.
    pub credential: XksCredential,
    /// How long the caller waits for the answer ([`DEFAULT_DEADLINE`]).
    pub deadline: Duration,
}

impl XksCall {
    /// A call to `uri` signed with `credential`, with the 250 ms deadline.
    pub fn new(uri: XksProxyUri, credential: XksCredential) -> XksCall {
        XksCall {
            uri,
            credential,
            deadline: DEFAULT_DEADLINE,
        }
    }

    /// The same call with another deadline.
    pub fn with_deadline(mut self, deadline: Duration) -> XksCall {
        self.deadline = deadline;
        self
    }
}

/// `requestMetadata`, carried by every request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestMetadata {
    /// The principal that called KMS (absent for health checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_principal_arn: Option<String>,
    /// The KMS operation that caused this call (e.g. `Encrypt`,
    /// `CreateKey`, `KmsHealthCheck`).
    pub kms_operation: String,
    /// The KMS request id (opaque to the proxy).
    pub kms_request_id: String,
    /// The KMS key's ARN (Encrypt, Decrypt, and GetKeyMetadata outside CreateKey).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    /// The VPC the KMS request came from, if through a VPC endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_source_vpc: Option<String>,
    /// The VPC endpoint the KMS request came through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_source_vpce: Option<String>,
    /// The AWS service that called KMS on the caller's behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_via_service: Option<String>,
}

impl RequestMetadata {
    /// Metadata with just the operation and the request id.
    pub fn new(
        kms_operation: impl Into<String>,
        kms_request_id: impl Into<String>,
    ) -> RequestMetadata {
        RequestMetadata {
            kms_operation: kms_operation.into(),
            kms_request_id: kms_request_id.into(),
            ..RequestMetadata::default()
        }
    }
}

/// GetHealthStatus request body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthStatusRequest {
    /// Who asks and why.
    pub request_metadata: RequestMetadata,
}

/// One external key manager in the proxy's fleet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EkmFleetDetail {
    /// The manager's id.
    pub id: String,
    /// Its model.
    pub model: String,
    /// Its health.
    pub health_status: EkmHealthStatus,
}

/// GetHealthStatus response body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthStatusResponse {
    /// Number of proxy instances (> 0).
    pub xks_proxy_fleet_size: u32,
    /// Proxy vendor.
    pub xks_proxy_vendor: String,
    /// Proxy model.
    pub xks_proxy_model: String,
    /// External key manager vendor.
    pub ekm_vendor: String,
    /// The external key managers (1–10).
    pub ekm_fleet_details: Vec<EkmFleetDetail>,
}

impl HealthStatusResponse {
    /// Whether at least one external key manager is ACTIVE or DEGRADED.
    /// When none is, KMS treats the proxy as unreachable.
    pub fn is_available(&self) -> bool {
        self.ekm_fleet_details
            .iter()
            .any(|d| d.health_status != EkmHealthStatus::Unavailable)
    }
}

/// GetKeyMetadata request body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyMetadataRequest {
    /// Who asks and why.
    pub request_metadata: RequestMetadata,
}

/// GetKeyMetadata response body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyMetadataResponse {
    /// The external key's type.
    pub key_spec: XksKeySpec,
    /// What it may be used for (≤ 10 values).
    pub key_usage: Vec<XksKeyUsage>,
    /// Whether it is enabled.
    pub key_status: XksKeyStatus,
}

impl KeyMetadataResponse {
    /// Whether KMS can back a key with it: AES_256, ENABLED, and both
    /// ENCRYPT and DECRYPT among its usages.
    pub fn is_usable_by_kms(&self) -> bool {
        self.key_spec == XksKeySpec::Aes256
            && self.key_status == XksKeyStatus::Enabled
            && self.key_usage.contains(&XksKeyUsage::Encrypt)
            && self.key_usage.contains(&XksKeyUsage::Decrypt)
    }
}

mod opt_blob {
    //! `Option<Vec<u8>>` as optional base64.
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => crate::base64_blob::serialize(b, s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let s = Option::<std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.map(|s| crate::base64_blob::decode(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Encrypt request body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct XksEncryptRequest {
    /// Who asks and why.
    pub request_metadata: RequestMetadata,
    /// The bytes to encrypt (for KMS: its own layer's ciphertext).
    pub plaintext: Plaintext,
    /// Always `AES_GCM`.
    pub encryption_algorithm: XksEncryptionAlgorithm,
    /// Bound to the ciphertext; needed again to decrypt.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_blob")]
    pub additional_authenticated_data: Option<Vec<u8>>,
    /// Asks for a CDIV. Accepted but not implemented by the in-memory
    /// manager, which never returns `ciphertextDataIntegrityValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext_data_integrity_value_algorithm: Option<XksCdivAlgorithm>,
}

impl XksEncryptRequest {
    /// An AES_GCM request without CDIV.
    pub fn new(
        request_metadata: RequestMetadata,
        plaintext: Plaintext,
        aad: Option<Vec<u8>>,
    ) -> XksEncryptRequest {
        XksEncryptRequest {
            request_metadata,
            plaintext,
            encryption_algorithm: XksEncryptionAlgorithm::AesGcm,
            additional_authenticated_data: aad,
            ciphertext_data_integrity_value_algorithm: None,
        }
    }
}

/// Encrypt response body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct XksEncryptResponse {
    /// Same length as the plaintext.
    #[serde(with = "crate::base64_blob")]
    pub ciphertext: Vec<u8>,
    /// Vendor data (≤ 20 bytes, or KMS rejects the response), authenticated
    /// by the tag.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_blob")]
    pub ciphertext_metadata: Option<Vec<u8>>,
    /// 12 or 16 bytes.
    #[serde(with = "crate::base64_blob")]
    pub initialization_vector: Vec<u8>,
    /// 16 bytes.
    #[serde(with = "crate::base64_blob")]
    pub authentication_tag: Vec<u8>,
    /// SHA-256 CDIV, when the request asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_blob")]
    pub ciphertext_data_integrity_value: Option<Vec<u8>>,
}

/// Decrypt request body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct XksDecryptRequest {
    /// Who asks and why.
    pub request_metadata: RequestMetadata,
    /// As the Encrypt response gave it.
    #[serde(with = "crate::base64_blob")]
    pub ciphertext: Vec<u8>,
    /// As the Encrypt response gave it.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_blob")]
    pub ciphertext_metadata: Option<Vec<u8>>,
    /// Always `AES_GCM`.
    pub encryption_algorithm: XksEncryptionAlgorithm,
    /// The AAD given to Encrypt.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_blob")]
    pub additional_authenticated_data: Option<Vec<u8>>,
    /// As the Encrypt response gave it.
    #[serde(with = "crate::base64_blob")]
    pub initialization_vector: Vec<u8>,
    /// As the Encrypt response gave it.
    #[serde(with = "crate::base64_blob")]
    pub authentication_tag: Vec<u8>,
}

impl XksDecryptRequest {
    /// The Decrypt request that reverses `encrypted` under the same AAD.
    pub fn for_response(
        request_metadata: RequestMetadata,
        encrypted: &XksEncryptResponse,
        aad: Option<Vec<u8>>,
    ) -> XksDecryptRequest {
        XksDecryptRequest {
            request_metadata,
            ciphertext: encrypted.ciphertext.clone(),
            ciphertext_metadata: encrypted.ciphertext_metadata.clone(),
            encryption_algorithm: XksEncryptionAlgorithm::AesGcm,
            additional_authenticated_data: aad,
            initialization_vector: encrypted.initialization_vector.clone(),
            authentication_tag: encrypted.authentication_tag.clone(),
        }
    }
}

/// Decrypt response body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct XksDecryptResponse {
    /// Same length as the ciphertext.
    pub plaintext: Plaintext,
}

/// [`RequestMetadata`] borrowed from the call it describes: what the
/// in-place calls ([`ExternalKeyManager::encrypt_in_place`] and
/// [`ExternalKeyManager::decrypt_in_place`]) carry, so that KMS builds no
/// strings for a manager in the same process.
///
/// [`ExternalKeyManager::encrypt_in_place`]: crate::xks::ExternalKeyManager::encrypt_in_place
/// [`ExternalKeyManager::decrypt_in_place`]: crate::xks::ExternalKeyManager::decrypt_in_place
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestMetadataRef<'a> {
    /// The principal that called KMS.
    pub aws_principal_arn: Option<&'a str>,
    /// The KMS operation that caused this call.
    pub kms_operation: &'a str,
    /// The KMS request id.
    pub kms_request_id: &'a str,
    /// The KMS key's ARN.
    pub kms_key_arn: Option<&'a str>,
    /// The VPC the KMS request came from.
    pub aws_source_vpc: Option<&'a str>,
    /// The VPC endpoint the KMS request came through.
    pub aws_source_vpce: Option<&'a str>,
    /// The AWS service that called KMS on the caller's behalf.
    pub kms_via_service: Option<&'a str>,
}

impl RequestMetadataRef<'_> {
    /// The owned metadata with the same fields, as a request body carries it.
    pub fn to_request_metadata(&self) -> RequestMetadata {
        let owned = |s: Option<&str>| s.map(str::to_owned);
        RequestMetadata {
            aws_principal_arn: owned(self.aws_principal_arn),
            kms_operation: self.kms_operation.to_owned(),
            kms_request_id: self.kms_request_id.to_owned(),
            kms_key_arn: owned(self.kms_key_arn),
            aws_source_vpc: owned(self.aws_source_vpc),
            aws_source_vpce: owned(self.aws_source_vpce),
            kms_via_service: owned(self.kms_via_service),
        }
    }
}

/// An Encrypt whose plaintext is the caller's buffer, sealed in place: the
/// borrowed form of [`XksEncryptRequest`] (always `AES_GCM`, no CDIV).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XksEncryptInPlace<'a> {
    /// Who asks and why.
    pub request_metadata: RequestMetadataRef<'a>,
    /// Bound to the ciphertext; needed again to decrypt.
    pub additional_authenticated_data: Option<&'a [u8]>,
}

impl XksEncryptInPlace<'_> {
    /// The owned request body for `plaintext`.
    pub fn to_request(&self, plaintext: Plaintext) -> XksEncryptRequest {
        XksEncryptRequest::new(
            self.request_metadata.to_request_metadata(),
            plaintext,
            self.additional_authenticated_data.map(<[u8]>::to_vec),
        )
    }
}

/// A Decrypt whose ciphertext is the caller's buffer, opened in place: the
/// borrowed form of [`XksDecryptRequest`] (always `AES_GCM`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XksDecryptInPlace<'a> {
    /// Who asks and why.
    pub request_metadata: RequestMetadataRef<'a>,
    /// The AAD given to Encrypt.
    pub additional_authenticated_data: Option<&'a [u8]>,
    /// As Encrypt gave it.
    pub ciphertext_metadata: Option<&'a [u8]>,
    /// As Encrypt gave it.
    pub initialization_vector: &'a [u8],
    /// As Encrypt gave it.
    pub authentication_tag: &'a [u8],
}

impl XksDecryptInPlace<'_> {
    /// The owned request body for `ciphertext`.
    pub fn to_request(&self, ciphertext: Vec<u8>) -> XksDecryptRequest {
        XksDecryptRequest {
            request_metadata: self.request_metadata.to_request_metadata(),
            ciphertext,
            ciphertext_metadata: self.ciphertext_metadata.map(<[u8]>::to_vec),
            encryption_algorithm: XksEncryptionAlgorithm::AesGcm,
            additional_authenticated_data: self.additional_authenticated_data.map(<[u8]>::to_vec),
            initialization_vector: self.initialization_vector.to_vec(),
            authentication_tag: self.authentication_tag.to_vec(),
        }
    }
}

/// Longest IV an Encrypt answer may carry (bytes): the API allows 12 or 16.
pub const MAX_IV_LEN: usize = 16;

/// What an in-place Encrypt answers beside the ciphertext it left in the
/// caller's buffer: the borrowed form's [`XksEncryptResponse`], held inline
/// (no allocation unless the manager returns ciphertextMetadata).
#[derive(Clone, PartialEq, Eq)]
pub struct XksSealed {
    iv: [u8; MAX_IV_LEN],
    iv_len: u8,
    tag: [u8; AUTHENTICATION_TAG_LEN],
    metadata: Option<Vec<u8>>,
}

impl XksSealed {
    /// An answer with this IV (12 or 16 bytes), tag and metadata.
    ///
    /// # Errors
    /// [`XksError::InvalidResponse`](crate::xks::XksError::InvalidResponse)
    /// when the IV is not 12 or 16 bytes or the tag is not
    /// [`AUTHENTICATION_TAG_LEN`] bytes: KMS would reject such an answer.
    pub fn new(
        initialization_vector: &[u8],
        authentication_tag: &[u8],
        ciphertext_metadata: Option<&[u8]>,
    ) -> Result<XksSealed, super::XksError> {
        let iv_len = initialization_vector.len();
        let tag: [u8; AUTHENTICATION_TAG_LEN] = authentication_tag
            .try_into()
            .map_err(|_| super::XksError::InvalidResponse)?;
        if iv_len != 12 && iv_len != MAX_IV_LEN {
            return Err(super::XksError::InvalidResponse);
        }
        let mut iv = [0; MAX_IV_LEN];
        iv[..iv_len].copy_from_slice(initialization_vector);
        Ok(XksSealed {
            iv,
            iv_len: iv_len as u8,
            tag,
            metadata: ciphertext_metadata.map(<[u8]>::to_vec),
        })
    }

    /// The IV (12 or 16 bytes).
    pub fn initialization_vector(&self) -> &[u8] {
        &self.iv[..usize::from(self.iv_len)]
    }

    /// The authentication tag.
    pub fn authentication_tag(&self) -> &[u8; AUTHENTICATION_TAG_LEN] {
        &self.tag
    }

    /// The ciphertextMetadata, if the manager returned any (KMS rejects
    /// more than [`MAX_CIPHERTEXT_METADATA_LEN`] bytes).
    pub fn ciphertext_metadata(&self) -> Option<&[u8]> {
        self.metadata.as_deref()
    }
}

impl fmt::Debug for XksSealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XksSealed")
            .field("initialization_vector", &self.initialization_vector())
            .field("authentication_tag", &self.tag)
            .field("ciphertext_metadata", &self.metadata)
            .finish()
    }
}

/// The GCM AAD the proxy feeds its key manager. Without metadata it is the
/// caller's AAD as is; with metadata it is
/// `len16be(aad) || aad || len8(metadata) || metadata`, so neither part can
/// be moved into the other.
///
/// Returns `None` if a length does not fit its prefix. Without metadata the
/// caller's AAD is borrowed, not copied.
pub fn gcm_aad<'a>(
    aad: Option<&'a [u8]>,
    metadata: Option<&[u8]>,
) -> Option<std::borrow::Cow<'a, [u8]>> {
    let aad = aad.unwrap_or_default();
    let Some(meta) = metadata else {
        return Some(std::borrow::Cow::Borrowed(aad));
    };
    let aad_len = u16::try_from(aad.len()).ok()?;
    let meta_len = u8::try_from(meta.len()).ok()?;
    let mut out = Vec::with_capacity(3 + aad.len() + meta.len());
    out.extend_from_slice(&aad_len.to_be_bytes());
    out.extend_from_slice(aad);
    out.push(meta_len);
    out.extend_from_slice(meta);
    Some(std::borrow::Cow::Owned(out))
}
