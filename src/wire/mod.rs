//! The AWS JSON 1.1 protocol, without the network: an `X-Amz-Target` and a
//! JSON body in, an HTTP status and a JSON body out, exactly as AWS answers.
//!
//! What lives here: the [`Dispatcher`] (a table from operation name to a
//! handler, one per service), the error body AWS writes, and the JSON
//! [`fixture`] that provisions what lives outside KMS (CloudHSM clusters,
//! external key managers) for the server binary. What does not: sockets,
//! HTTP parsing or SigV4 — that is the `kms-keystore-server` binary (cargo
//! feature `server`), a thin shell over [`Dispatcher::dispatch`].
//!
//! Published as `kms_keystore::server` (declared in `lib.rs`); the
//! protocol's rules (blobs, errors, validation, unsupported operations) are
//! documented there, once.

mod cloudhsm_ops;
pub(crate) mod fixture;
mod kms_ops;
pub(crate) mod members;
mod model;
#[cfg(any(feature = "server", feature = "xks-http"))]
mod sigv4;
#[cfg(feature = "xks-http")]
pub(crate) mod xks_client;
#[cfg(feature = "xks-http")]
pub(crate) mod xks_proxy;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{AwsMessage, Constraint, Error, Result, Shown, Violation};
use crate::kms::{Kms, Partition};
use crate::store::cloudhsm::CloudHsm;

/// The `Content-Type` of every request and response of the protocol.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The `X-Amz-Target` prefix of AWS KMS.
pub const KMS_TARGET_PREFIX: &str = "TrentService";

/// The `X-Amz-Target` prefix of AWS CloudHSM v2.
pub const CLOUDHSMV2_TARGET_PREFIX: &str = "BaldrApiService";

/// A service the dispatcher serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Service {
    /// AWS KMS (`TrentService`).
    Kms,
    /// AWS CloudHSM v2 (`BaldrApiService`).
    CloudHsmV2,
}

impl Service {
    /// Every service, in a fixed order.
    pub const fn values() -> &'static [Service] {
        &[Service::Kms, Service::CloudHsmV2]
    }

    /// The service's `X-Amz-Target` prefix.
    pub const fn target_prefix(self) -> &'static str {
        match self {
            Service::Kms => KMS_TARGET_PREFIX,
            Service::CloudHsmV2 => CLOUDHSMV2_TARGET_PREFIX,
        }
    }

    /// The service whose target prefix is `prefix`.
    pub fn from_target_prefix(prefix: &str) -> Option<Service> {
        Service::values()
            .iter()
            .copied()
            .find(|s| s.target_prefix() == prefix)
    }

    /// The operations this crate routes for the service, in name order.
    pub fn routed_operations(self) -> impl Iterator<Item = &'static str> {
        self.table().iter().map(|op| op.name)
    }

    /// Every operation of the service's API model (routed or not), in name
    /// order.
    pub fn model_operations(self) -> &'static [&'static str] {
        match self {
            Service::Kms => model::KMS_OPERATIONS,
            Service::CloudHsmV2 => model::CLOUDHSMV2_OPERATIONS,
        }
    }

    fn table(self) -> &'static [Operation] {
        match self {
            Service::Kms => kms_ops::OPERATIONS,
            Service::CloudHsmV2 => cloudhsm_ops::OPERATIONS,
        }
    }
}

/// An HTTP answer: status and JSON body (`Content-Type` is always
/// [`CONTENT_TYPE`]).
///
/// For Decrypt, GenerateDataKey and GenerateRandom the body holds the
/// plaintext in base64, as AWS sends it: it is zeroized when the response
/// is dropped, and `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WireResponse {
    /// The HTTP status: 200, 400, 500, …
    pub status: u16,
    /// The JSON body.
    pub body: zeroize::Zeroizing<Vec<u8>>,
    /// For an error, the crate's guidance ([`Error::hint`]), which AWS has
    /// no field for: the server sends it as the [`HINT_HEADER`] header,
    /// never in the body.
    pub hint: Option<String>,
}

/// The response header that carries an error's [`Error::hint`].
pub const HINT_HEADER: &str = "x-kms-keystore-hint";

impl WireResponse {
    fn ok(body: Vec<u8>) -> WireResponse {
        WireResponse {
            status: 200,
            body: zeroize::Zeroizing::new(body),
            hint: None,
        }
    }

    /// The AWS error body for `err`, with `status`.
    fn error_with_status(status: u16, code: &str, message: &str) -> WireResponse {
        #[derive(Serialize)]
        struct ErrorBody<'a> {
            #[serde(rename = "__type")]
            kind: &'a str,
            // AWS sends no `message` where it has none to give
            // (InvalidCiphertextException).
            #[serde(skip_serializing_if = "str::is_empty")]
            message: &'a str,
        }
        let body = serde_json::to_vec(&ErrorBody {
            kind: code,
            message,
        })
        .unwrap_or_else(|_| b"{}".to_vec());
        WireResponse {
            status,
            body: zeroize::Zeroizing::new(body),
            hint: None,
        }
    }

    /// The AWS error body for `err`, with its HTTP status; its hint apart.
    pub fn from_error(err: &Error) -> WireResponse {
        let mut resp =
            WireResponse::error_with_status(err.http_status(), err.code(), err.message());
        resp.hint = err.hint().map(str::to_owned);
        resp
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body parsed as JSON.
    ///
    /// # Errors
    /// `SerializationException` if the body is not JSON (never the case for
    /// a body the dispatcher made).
    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).map_err(|e| serialization(&e.to_string()))
    }

    /// For an error answer, the exception name (`__type`).
    pub fn error_type(&self) -> Option<String> {
        if self.is_success() {
            return None;
        }
        self.json().ok()?.get("__type")?.as_str().map(str::to_owned)
    }
}

impl std::fmt::Debug for WireResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("WireResponse");
        d.field("status", &self.status);
        if self.is_success() {
            d.field("body", &format_args!("<{} bytes>", self.body.len()));
        } else {
            d.field("body", &String::from_utf8_lossy(&self.body));
        }
        d.finish()
    }
}

/// A handler: runs an operation on the input object, returns the output.
type Handler = fn(&Dispatcher, Input) -> Result<Value>;

/// A request's input object and the members its operation requires.
pub(crate) struct Input {
    value: Value,
    required: &'static [&'static str],
}

/// One routed operation.
pub(crate) struct Operation {
    /// The operation's name in the API model.
    name: &'static str,
    /// The input's required members (PascalCase), checked before the handler.
    required: &'static [&'static str],
    /// Runs it.
    run: Handler,
}

/// Builds an operation table: `"Name" [required members] => handler`.
macro_rules! operations {
    ($( $name:literal [$($req:literal),*] => $run:expr, )*) => {
        &[$( $crate::wire::Operation { name: $name, required: &[$($req),*], run: $run }, )*]
    };
}
pub(crate) use operations;

/// One HTTP request as the server received it: what `Dispatcher::handle`
/// (feature `server`) authenticates and routes.
#[derive(Clone, Copy, Debug)]
pub struct WireRequest<'a> {
    /// `POST` for every AWS JSON 1.1 call.
    pub method: &'a str,
    /// The request target: path and query (`/`).
    pub path: &'a str,
    /// The headers, names lower-cased, in the order received.
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
    /// The peer's address (`aws:SourceIp`), if known.
    pub peer: Option<std::net::IpAddr>,
    /// True if the request came over TLS (`aws:SecureTransport`).
    pub secure: bool,
}

impl WireRequest<'_> {
    /// The first header named `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the server decides who is asking.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMode {
    /// Any well-formed SigV4 credential acts as the root of the default
    /// account; the signature's scope still selects the Region.
    #[default]
    Permissive,
    /// The signature is verified against the access keys of the fixture's
    /// principals, and the key's principal is the caller.
    Strict,
}

/// Routes AWS JSON 1.1 requests to a [`Kms`] and to the CloudHSM clusters
/// it sees ([`Kms::cloudhsm`]). Cheap to clone; `Send + Sync`.
///
/// A dispatcher made by [`Dispatcher::new`] serves one account in one
/// Region. One made by [`Fixture::build_server`](crate::server::Fixture::build_server)
/// (or [`Dispatcher::for_partition`]) serves every account and Region of a
/// [`Partition`]: the account × Region's [`Kms`] is created on first use,
/// with the same clock and a seed of its own.
#[derive(Clone, Debug)]
pub struct Dispatcher {
    /// The default account and Region's KMS, or, inside
    /// `Dispatcher::handle`, the caller's handle for this request.
    kms: Kms,
    /// The accounts and Regions beyond it.
    world: Option<std::sync::Arc<members::Members>>,
    auth: AuthMode,
}

impl Dispatcher {
    /// A dispatcher for `kms`: KMS requests run on it, cloudhsmv2 requests
    /// on its CloudHSM service. It serves `kms`'s account and Region only,
    /// in [`AuthMode::Permissive`] until [`Dispatcher::with_auth`].
    pub fn new(kms: Kms) -> Dispatcher {
        Dispatcher {
            kms,
            world: None,
            auth: AuthMode::Permissive,
        }
    }

    /// A dispatcher for every account and Region of `partition`. `default`
    /// (a member of `partition`) is the account and Region of requests that
    /// carry no signature, and of every permissive request's account; an
    /// account × Region the partition lacks is added on first use as
    /// `template` says (its account, Region and durable file replaced; the
    /// seed, when `template` has one, derived per account × Region).
    pub fn for_partition(
        partition: Partition,
        default: Kms,
        template: members::MemberTemplate,
    ) -> Dispatcher {
        Dispatcher {
            kms: default,
            world: Some(std::sync::Arc::new(members::Members::new(
                partition, template,
            ))),
            auth: AuthMode::Permissive,
        }
    }

    /// The same dispatcher, deciding who is asking as `auth` says.
    #[must_use]
    pub fn with_auth(mut self, auth: AuthMode) -> Dispatcher {
        self.auth = auth;
        self
    }

    /// How it decides who is asking.
    pub fn auth(&self) -> AuthMode {
        self.auth
    }

    /// The KMS it serves (the default account and Region's).
    pub fn kms(&self) -> &Kms {
        &self.kms
    }

    /// The CloudHSM service it serves (the one the KMS sees).
    pub fn cloudhsm(&self) -> &CloudHsm {
        self.kms.cloudhsm()
    }

    /// The KMS of `account` in `region`, created on first use (`None` for a
    /// dispatcher of one account and Region, asked for another, or when a
    /// durable file cannot be opened).
    ///
    /// # Errors
    /// `ValidationException` for an account or Region that is not valid;
    /// what [`Kms::open`] returns for a durable file it cannot open.
    pub fn kms_in(&self, account: &str, region: &str) -> Result<Kms> {
        if self.kms.account_id().as_str() == account && self.kms.region().as_str() == region {
            return Ok(self.kms.clone());
        }
        match &self.world {
            Some(world) => world.get_or_add(account, region),
            None => Err(Error::Validation {
                message: format!(
                    "This server serves account {} in {} only.",
                    self.kms.account_id(),
                    self.kms.region()
                )
                .into(),
            }),
        }
    }

    /// Handles one HTTP request: who is asking (SigV4), in which Region,
    /// then the operation its `X-Amz-Target` names. Never panics, whatever
    /// the bytes.
    ///
    /// - **Strict** ([`AuthMode::Strict`]): the `Authorization` header must
    ///   be a SigV4 signature by an access key of the partition's IAM (a
    ///   fixture principal's, or one from [`Iam::create_access_key`](crate::Iam::create_access_key)),
    ///   for the service the target names (`kms`, or `cloudhsm` for
    ///   cloudhsmv2), dated within 15 minutes of the KMS's clock. The key's
    ///   principal is the caller; the request runs on the KMS of the
    ///   caller's account in the scope's Region.
    /// - **Permissive** ([`AuthMode::Permissive`]): a well-formed
    ///   `Authorization` header is parsed for its Region (and service) only:
    ///   any access key, signature and date act as the root of the default
    ///   account. A request without one runs in the default account and
    ///   Region.
    ///
    /// Refusals, all HTTP 400 with AWS's JSON error body:
    /// `MissingAuthenticationTokenException` (strict, no header),
    /// `IncompleteSignatureException` (not a SigV4 header, or a part
    /// missing), `InvalidSignatureException` (another service's scope, a
    /// Region that is not valid, a date more than 15 minutes off, a
    /// signature that does not match), `UnrecognizedClientException` (an
    /// unknown access key id, or a session token that is missing, not
    /// expected, or not the key's).
    #[cfg(feature = "server")]
    pub fn handle(&self, req: &WireRequest<'_>) -> WireResponse {
        let Some(target) = req.header("x-amz-target") else {
            return WireResponse::error_with_status(
                400,
                "UnknownOperationException",
                "The request has no X-Amz-Target header.",
            );
        };
        match self.authenticate(req, target) {
            Ok(handle) => handle.dispatch(target, req.body),
            Err(refusal) => refusal.response(),
        }
    }

    /// The dispatcher that runs `req` as its caller, in its Region.
    #[cfg(feature = "server")]
    fn authenticate(
        &self,
        req: &WireRequest<'_>,
        target: &str,
    ) -> std::result::Result<Dispatcher, sigv4::Refusal> {
        use sigv4::{Authorization, Refusal};
        let strict = self.auth == AuthMode::Strict;
        let Some(header) = req.header("authorization") else {
            if strict {
                return Err(Refusal::Missing);
            }
            return Ok(self.on(self.kms.clone(), req));
        };
        let auth = Authorization::parse(header)?;
        let signing_name = match target.split_once('.').map(|(p, _)| p) {
            Some(CLOUDHSMV2_TARGET_PREFIX) => "cloudhsm",
            _ => "kms",
        };
        if auth.service != signing_name {
            return Err(Refusal::InvalidSignature(format!(
                "Credential should be scoped to correct service: '{signing_name}'."
            )));
        }
        let region_ok = auth.region.parse::<crate::ids::Region>().is_ok_and(|r| {
            crate::iam::AwsPartition::of_region(&r)
                == crate::iam::AwsPartition::of_region(self.kms.region())
        });
        if !region_ok {
            return Err(invalid_region(auth.region));
        }
        if !strict {
            let kms = self
                .kms_in(self.kms.account_id().as_str(), auth.region)
                .map_err(|_| invalid_region(auth.region))?;
            return Ok(self.on(kms, req));
        }
        let Some(amz_date) = req.header("x-amz-date") else {
            return Err(Refusal::Incomplete(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                    .to_owned(),
            ));
        };
        let Some(date_secs) = sigv4::parse_amz_date(amz_date) else {
            return Err(Refusal::Incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{}'.",
                amz_date.chars().take(32).collect::<String>()
            )));
        };
        sigv4::check_skew(amz_date, date_secs, self.kms.now().as_millis() / 1000)?;
        let iam = self.kms.iam();
        let Some((principal, secret)) = iam.access_key(auth.access_key_id) else {
            return Err(Refusal::UnknownKey);
        };
        // Temporary credentials need their token; long-term ones take none.
        let token_ok = match (
            iam.session_token(auth.access_key_id),
            req.header("x-amz-security-token"),
        ) {
            (None, None) => true,
            (Some(want), Some(got)) => sigv4::signatures_match(want.expose_secret(), got),
            _ => false,
        };
        if !token_ok {
            return Err(Refusal::UnknownKey);
        }
        let matches = sigv4::expected_signature(req, &auth, secret.expose_secret(), date_secs)
            .is_some_and(|expected| sigv4::signatures_match(&expected, auth.signature));
        drop(secret);
        if !matches {
            return Err(Refusal::InvalidSignature(
                sigv4::SIGNATURE_MISMATCH.to_owned(),
            ));
        }
        let account = principal
            .account()
            .map_or_else(|| self.kms.account_id().to_string(), ToString::to_string);
        let kms = self
            .kms_in(&account, auth.region)
            .map_err(|_| invalid_region(auth.region))?;
        Ok(self.on(kms.as_caller(&principal), req))
    }

    /// This dispatcher running on `kms`, with the request's transport.
    #[cfg(feature = "server")]
    fn on(&self, kms: Kms, req: &WireRequest<'_>) -> Dispatcher {
        let mut kms = kms.with_secure_transport(req.secure);
        if let Some(ip) = req.peer {
            kms = kms.with_source_ip(ip);
        }
        Dispatcher {
            kms,
            world: self.world.clone(),
            auth: self.auth,
        }
    }

    /// Runs the request `target` (the `X-Amz-Target` header, e.g.
    /// `TrentService.Encrypt`) with the JSON `body`, and returns AWS's
    /// answer. Never panics, whatever the bytes.
    pub fn dispatch(&self, target: &str, body: &[u8]) -> WireResponse {
        let Some((prefix, name)) = target.split_once('.') else {
            return unknown_operation(target);
        };
        let Some(service) = Service::from_target_prefix(prefix) else {
            return unknown_operation(target);
        };
        let Some(op) = service.table().iter().find(|op| op.name == name) else {
            if service.model_operations().contains(&name) {
                return WireResponse::from_error(&model::not_implemented(service, name));
            }
            return unknown_operation(target);
        };
        let result = parse_object(body)
            .and_then(|value| {
                (op.run)(
                    self,
                    Input {
                        value,
                        required: op.required,
                    },
                )
            })
            .and_then(|mut out| {
                let body = serde_json::to_vec(&out).map_err(|e| Error::internal(&e.to_string()));
                scrub_plaintext(&mut out);
                body
            });
        match result {
            Ok(body) => WireResponse::ok(body),
            Err(err) => WireResponse::from_error(&err),
        }
    }
}

/// The output members that carry secrets.
const SECRET_MEMBERS: &[&str] = &["Plaintext", "PrivateKeyPlaintext"];

/// Zeroizes the secret members of an output once it is written.
fn scrub_plaintext(out: &mut Value) {
    for member in SECRET_MEMBERS {
        if let Some(Value::String(s)) = out.get_mut(*member) {
            zeroize::Zeroize::zeroize(s);
        }
    }
}

/// AWS's refusal of a scope whose Region this server does not serve.
#[cfg(feature = "server")]
fn invalid_region(region: &str) -> sigv4::Refusal {
    let shown: String = region.chars().take(64).collect();
    sigv4::Refusal::InvalidSignature(format!(
        "Credential should be scoped to a valid region, not '{shown}'."
    ))
}

fn unknown_operation(target: &str) -> WireResponse {
    let shown: String = target.chars().take(256).collect();
    WireResponse::error_with_status(
        400,
        "UnknownOperationException",
        &format!(
            "Unknown operation '{shown}'. The X-Amz-Target must be {KMS_TARGET_PREFIX}.<Operation> or {CLOUDHSMV2_TARGET_PREFIX}.<Operation>."
        ),
    )
}

fn serialization(message: &str) -> Error {
    Error::Serialization {
        message: message.into(),
    }
}

/// Reads the body as a JSON object, with `null` members removed (AWS reads
/// a `null` member as absent). An empty body is `{}`.
fn parse_object(body: &[u8]) -> Result<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    let mut value: Value = serde_json::from_slice(body)
        .map_err(|e| serialization(&format!("The request body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(serialization(
            "The request body must be a JSON object (start of structure expected).",
        ));
    }
    strip_nulls(&mut value);
    Ok(value)
}

fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// `Value null at 'keyId' failed to satisfy constraint: Member must not be
/// null`, for every required member that is absent, in AWS's wording.
fn check_required(input: &Value, required: &[&str]) -> Result<()> {
    let missing: Vec<Violation> = required
        .iter()
        .filter(|name| input.get(**name).is_none())
        .map(|name| Violation::new(camel(name), Shown::Null, Constraint::NotNull))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::from(AwsMessage::Validation(missing)))
    }
}

/// `KeyId` → `keyId`: how AWS names members in validation messages.
fn camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Deserializes the input object as `T`, as AWS reads a request: first the
/// JSON types (a wrong type or bad base64 is `SerializationException`),
/// then the model's constraints (a missing required member or an enum value
/// outside the model is `ValidationException`).
fn input<T: DeserializeOwned>(input: Input) -> Result<T> {
    let missing = check_required(&input.value, input.required);
    let parsed = serde_json::from_value(input.value).map_err(|e| {
        let message = e.to_string();
        if message.contains("validation error detected") {
            Error::Validation {
                message: message.into(),
            }
        } else {
            serialization(&message)
        }
    });
    match (parsed, missing) {
        (Err(e), _) if e.code() == "SerializationException" => Err(e),
        (_, Err(e)) | (Err(e), Ok(())) => Err(e),
        (Ok(t), Ok(())) => Ok(t),
    }
}

/// Serializes an output as the response body.
fn output<T: Serialize>(out: Result<T>) -> Result<Value> {
    serde_json::to_value(out?).map_err(|e| Error::internal(&e.to_string()))
}

/// `{}`: the output of operations that return nothing.
fn empty(out: Result<()>) -> Result<Value> {
    out.map(|()| Value::Object(Map::new()))
}

/// Serializes an output whose secret member (`Plaintext`,
/// `PrivateKeyPlaintext`) serializes as a redaction placeholder: the member
/// is written from `expose_secret()` as base64, as AWS sends it.
fn output_with_secret<T: Serialize>(
    out: Result<T>,
    member: &'static str,
    secret: impl FnOnce(&T) -> &crate::crypto::Plaintext,
) -> Result<Value> {
    let out = out?;
    let mut value = serde_json::to_value(&out).map_err(|e| Error::internal(&e.to_string()))?;
    let Value::Object(map) = &mut value else {
        return Err(Error::internal("output is not an object"));
    };
    map.insert(
        member.to_owned(),
        Value::String(crate::base64_blob::encode(secret(&out).expose_secret())),
    );
    Ok(value)
}
