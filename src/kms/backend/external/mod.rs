//! The external key store backend ([`KeyStoreBackend`] on [`XksStore`],
//! and [`KeyCipher`] on [`DoubleLayer`]): what CreateCustomKeyStore,
//! UpdateCustomKeyStore and ConnectCustomKeyStore check for an
//! `EXTERNAL_KEY_STORE` store, CreateKey with an external key, and double
//! encryption through the proxy. This module imports no other backend and
//! nothing of the service.
//!
//! # How KMS reaches a proxy
//!
//! A store's proxy is found through the [`XksNetwork`](crate::store::external::XksNetwork)
//! of the `Kms`: for `PUBLIC_ENDPOINT` at the store's `XksProxyUriEndpoint`;
//! for `VPC_ENDPOINT_SERVICE` through the registered VPC endpoint service,
//! whose private DNS name must be that endpoint. Every call carries the
//! store's URI, its credential and the configured timeout
//! ([`KmsConfig::with_xks_proxy_timeout`](crate::KmsConfig::with_xks_proxy_timeout),
//! 250 ms by default) as its deadline. KMS does not retry.
//!
//! No lock of the `Kms` is held during a proxy call: the store's settings
//! are copied out first, and management operations re-check under the lock
//! afterwards (see `kms/service.rs`).
//!
//! # Double encryption
//!
//! Encrypt first seals the plaintext under the KMS key's own material (the
//! KMS layer, AAD = blob header ‖ canonical encryption context, exactly as
//! for an `AWS_KMS` key but with blob kind `0x02`). The proxy then encrypts
//! the KMS layer's `ciphertext ‖ tag` under the external key with
//! `additionalAuthenticatedData` = blob header (version, kind, KMS key id)
//! ‖ the KMS layer's nonce — 30 bytes that bind the proxy layer to this KMS
//! key and to this one ciphertext. The encryption context is bound by the
//! KMS layer only, so a wrong context on Decrypt is
//! `InvalidCiphertextException` (the caller's mistake) rather than a proxy
//! failure. The blob layout is [`crypto::blob`](crate::crypto::blob)'s
//! double layer; an absent and an empty `ciphertextMetadata` are the same
//! (KMS never sends an empty one).
//!
//! Every proxy failure, and any malformed proxy answer (IV not 12 or 16
//! bytes, tag not 16, metadata over 20, ciphertext or plaintext not the
//! input's length), is `KMSInvalidStateException` (DESIGN decision 10);
//! nothing is ever encrypted or decrypted with one layer only.
//!
//! Both layers are sealed in the buffer the blob is written to, and opened
//! in the buffer the plaintext is returned in: KMS calls the manager's
//! in-place forms ([`ExternalKeyManager::encrypt_in_place`] and
//! [`ExternalKeyManager::decrypt_in_place`]) with borrowed request metadata
//! and AAD. The in-memory manager seals there without allocating; any
//! other manager gets the owned request its trait method takes, through the
//! trait's provided in-place forms.

use std::any::Any;
use std::sync::Arc;

use crate::crypto::aead::{NONCE_LEN, TAG_LEN};
use crate::crypto::blob::{
    BlobKind, Body, DoubleBlobWriter, HEADER_LEN_V2, Header, HeaderBytes, MAX_XKS_METADATA_LEN,
    XksLayer,
};
use crate::crypto::{EncryptionContext, Plaintext, SecretString, context};
use crate::error::{AwsMessage, Error, Result, Shown, Violation, kms_err};
use crate::ids::{AccountId, CustomKeyStoreId, XksKeyId};
use crate::store::external::api::{
    HealthStatusRequest, KeyMetadataRequest, KeyMetadataResponse, MAX_IV_LEN, RequestMetadata,
    RequestMetadataRef, XksDecryptInPlace, XksEncryptInPlace, XksKeySpec, XksKeyStatus,
    XksKeyUsage,
};
use crate::store::external::api::{validate_endpoint, validate_path};
use crate::store::external::mapping::{
    XksCallSite, connection_error_code, fleet_unavailable_error, kms_error,
    vpc_connection_error_code, vpc_error,
};
use crate::store::external::{
    ExternalKeyManager, VpcEndpointServiceError, XksCall, XksCredential, XksError, XksProxyUri,
};
use crate::store::{ConnectionErrorCode, ConnectionState, XksProxyConnectivityType};

use crate::crypto::KeyMaterial;
use crate::ids::ClusterId;
use crate::key::OriginType;
use crate::key::state::KeyOperation;
use crate::storage::Batch;
use crate::storage::records::{SecretText, StoreBackendRecord};
use crate::store::CustomKeyStoreType;

use super::cipher::{DoubleLayer, KeyAccess, KeyCipher, KeyRef};
use super::{
    Described, Finished, KeyStoreBackend, NewStore, PutClosed, PutState, StoreKind, connect_outcome,
};
use crate::kms::env::{BackendEnv, CryptoEnv};
use crate::kms::model::backing::Backing;
use crate::kms::model::store::{
    ConnectOutcome, StoreBackend, StoreEntry, StoreTable, XksRoute, XksStore,
};
use crate::kms::shapes::types::{
    CreateCustomKeyStoreRequest, UpdateCustomKeyStoreRequest, XksProxyAuthenticationCredential,
    XksProxyConfiguration,
};
use crate::kms::support::errors::invalid_ciphertext;
use crate::kms::support::seal::{OpenInput, SealInput, seal_borrowed};

/// Longest AAD KMS gives the proxy: blob header ‖ KMS-layer nonce. A
/// double-layer blob has an 18-byte format-1 header; the room is that of
/// the longest header, so no header overflows it.
const PROXY_AAD_LEN: usize = HEADER_LEN_V2 + NONCE_LEN;

/// Why KMS could not get an answer it can use from a store's proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProxyFailure {
    /// The VPC endpoint service is missing or misconfigured.
    Vpc(VpcEndpointServiceError),
    /// The call failed (proxy error or transport failure).
    Proxy(XksError),
    /// GetHealthStatus answered, but every external key manager is UNAVAILABLE.
    FleetUnavailable,
    /// The stored settings no longer validate (a bug).
    Internal,
}

impl ProxyFailure {
    /// The exception for CreateCustomKeyStore and UpdateCustomKeyStore.
    fn store_error(self, store: &str, service_name: Option<&str>) -> Error {
        match self {
            ProxyFailure::Vpc(e) => vpc_error(e, service_name.unwrap_or_default()),
            ProxyFailure::Proxy(e) => kms_error(e, XksCallSite::CreateOrUpdateStore, store),
            ProxyFailure::FleetUnavailable => fleet_unavailable_error(store),
            ProxyFailure::Internal => Error::internal("stored XKS settings do not validate"),
        }
    }

    /// The `ConnectionErrorCode` a failed connection attempt records.
    fn connection_code(self) -> ConnectionErrorCode {
        match self {
            ProxyFailure::Vpc(e) => vpc_connection_error_code(e),
            ProxyFailure::Proxy(e) => connection_error_code(e),
            ProxyFailure::FleetUnavailable => ConnectionErrorCode::XksProxyNotReachable,
            ProxyFailure::Internal => ConnectionErrorCode::InternalError,
        }
    }

    /// The exception at `site` (CreateKey or a cryptographic operation).
    /// A VPC endpoint service that has gone away means the proxy cannot be
    /// reached.
    fn call_error(self, site: XksCallSite, store: &str) -> Error {
        match self {
            ProxyFailure::Vpc(_) => kms_error(XksError::Unreachable, site, store),
            ProxyFailure::Proxy(e) => kms_error(e, site, store),
            ProxyFailure::FleetUnavailable => kms_error(XksError::Unreachable, site, store),
            ProxyFailure::Internal => Error::internal("stored XKS settings do not validate"),
        }
    }
}

// ---- validation of the request's XKS fields ----------------------------

/// A member given where it has no place: a short factual message naming
/// its member path.
fn must_be_null(field: &str, why: &str) -> Error {
    kms_err!(Validation, "'{field}' must be null {why}.")
}

/// A member the request needs is absent: AWS's `Value null at '<member>'
/// failed to satisfy constraint: Member must not be null`, the rule in the
/// hint.
fn required(field: &str, why: &str) -> Error {
    Error::required(field).with_hint(format!("'{field}' is required {why}."))
}

/// The API model's `XksProxyVpcEndpointServiceNameType` pattern.
const VPC_SERVICE_NAME_PATTERN: &str =
    r"^(com|eu)\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$";

/// `XksProxyVpcEndpointServiceName`: 20–64 characters matching
/// `^(com|eu)\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$`.
fn validate_vpc_service_name(name: &str) -> Result<()> {
    const FIELD: &str = "xksProxyVpcEndpointServiceName";
    let ok = ["com.amazonaws.vpce.", "eu.amazonaws.vpce."]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .and_then(|rest| rest.split_once(".vpce-svc-"))
        .is_some_and(|(region, service)| {
            let parts: Vec<&str> = region.split('-').collect();
            let (digits, words) = parts.split_last().unwrap_or((&"", &[]));
            (2..=3).contains(&words.len())
                && words
                    .iter()
                    .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
                && !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !service.is_empty()
                && service
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        });
    let shown = || Shown::Value(name.to_owned());
    Error::check_all(
        [
            Violation::pattern(FIELD, ok, shown, VPC_SERVICE_NAME_PATTERN),
            Violation::length(FIELD, name, shown, 20, 64),
        ]
        .into_iter()
        .flatten(),
    )
}

/// `XksProxyVpcEndpointServiceOwner`: 12 digits.
fn validate_owner(owner: &str) -> Result<AccountId> {
    const FIELD: &str = "xksProxyVpcEndpointServiceOwner";
    owner.parse().map_err(|_| {
        let shown = || Shown::Value(owner.to_owned());
        let ok = owner.len() == 12 && owner.bytes().all(|b| b.is_ascii_digit());
        let violations: Vec<Violation> = [
            Violation::pattern(FIELD, ok, shown, "[0-9]{12}"),
            Violation::length(FIELD, owner, shown, 12, 12),
        ]
        .into_iter()
        .flatten()
        .collect();
        Error::from(AwsMessage::Validation(violations))
    })
}

/// Both parts of `XksProxyAuthenticationCredential`, validated.
fn validate_credential(cred: &XksProxyAuthenticationCredential) -> Result<(String, SecretString)> {
    if cred.access_key_id.is_empty() {
        return Err(required(
            "xksProxyAuthenticationCredential.accessKeyId",
            "(specify both AccessKeyId and RawSecretAccessKey, even to change one)",
        ));
    }
    if cred.raw_secret_access_key.expose_secret().is_empty() {
        return Err(required(
            "xksProxyAuthenticationCredential.rawSecretAccessKey",
            "(specify both AccessKeyId and RawSecretAccessKey, even to change one)",
        ));
    }
    XksCredential::new(
        &cred.access_key_id,
        cred.raw_secret_access_key.expose_secret(),
    )?;
    Ok((
        cred.access_key_id.clone(),
        cred.raw_secret_access_key.clone(),
    ))
}

/// The uniqueness rules among the account's external key stores, in this
/// order: endpoint + path (`XksProxyUriInUseException`); a VPC store's
/// endpoint, which no other store may use (`XksProxyUriEndpointInUseException`);
/// a VPC store's endpoint service (`XksProxyVpcEndpointServiceInUseException`).
/// `except` is the store being updated.
fn check_unique(
    table: &StoreTable,
    except: Option<&CustomKeyStoreId>,
    cfg: &XksStore,
) -> Result<()> {
    let others: Vec<(&CustomKeyStoreId, &XksStore)> = table
        .stores
        .iter()
        .filter(|s| Some(&s.id) != except)
        .filter_map(|s| s.backend.settings::<XksStore>().map(|x| (&s.id, x)))
        .collect();
    let vpc = XksProxyConnectivityType::VpcEndpointService;
    if let Some((id, _)) = others
        .iter()
        .find(|(_, o)| o.uri_endpoint == cfg.uri_endpoint && o.uri_path == cfg.uri_path)
    {
        return Err(kms_err!(
            XksProxyUriInUse,
            "The proxy URI {}{} is already used by external key store {id}.",
            cfg.uri_endpoint,
            cfg.uri_path
        ).with_hint("Each external key store in a Region needs its own XksProxyUriEndpoint and XksProxyUriPath combination."));
    }
    if let Some((id, o)) = others.iter().find(|(_, o)| {
        o.uri_endpoint == cfg.uri_endpoint && (o.connectivity == vpc || cfg.connectivity == vpc)
    }) {
        let why = if o.connectivity == vpc {
            "it is the private DNS name of that store's VPC endpoint service, which no other external key store may use"
        } else {
            "an external key store with VPC_ENDPOINT_SERVICE connectivity needs an endpoint (private DNS name) that no other external key store uses"
        };
        return Err(kms_err!(
            XksProxyUriEndpointInUse,
            "The XksProxyUriEndpoint {} is already used by external key store {id}: {why}.",
            cfg.uri_endpoint
        )
        .with_hint("Choose another endpoint."));
    }
    if cfg.connectivity == vpc
        && let Some((id, _)) = others.iter().find(|(_, o)| {
            o.connectivity == vpc && o.vpc_endpoint_service_name == cfg.vpc_endpoint_service_name
        })
    {
        return Err(kms_err!(
            XksProxyVpcEndpointServiceInUse,
            "The VPC endpoint service {} is already used by external key store {id}.",
            cfg.vpc_endpoint_service_name.as_deref().unwrap_or_default()
        )
        .with_hint("Each external key store needs its own VPC endpoint service."));
    }
    Ok(())
}

/// The shape of a new external key store (`ValidationException`): the XKS
/// fields are required, the CloudHSM ones forbidden, each matches the API's
/// pattern, and the VPC fields agree with the connectivity. `account` is
/// the default `XksProxyVpcEndpointServiceOwner`. Returns the settings;
/// needs no state (see [`check_new_store`]).
fn xks_shape(req: &CreateCustomKeyStoreRequest, account: &AccountId) -> Result<XksStore> {
    const WHY: &str = "when CustomKeyStoreType is EXTERNAL_KEY_STORE";
    if req.cloud_hsm_cluster_id.is_some() {
        return Err(must_be_null("cloudHsmClusterId", WHY));
    }
    if req.trust_anchor_certificate.is_some() {
        return Err(must_be_null("trustAnchorCertificate", WHY));
    }
    if req.key_store_password.is_some() {
        return Err(must_be_null("keyStorePassword", WHY));
    }
    let connectivity = req
        .xks_proxy_connectivity
        .ok_or_else(|| required("xksProxyConnectivity", WHY))?;
    let endpoint = req
        .xks_proxy_uri_endpoint
        .as_deref()
        .ok_or_else(|| required("xksProxyUriEndpoint", WHY))?;
    let path = req
        .xks_proxy_uri_path
        .as_deref()
        .ok_or_else(|| required("xksProxyUriPath", WHY))?;
    let cred = req
        .xks_proxy_authentication_credential
        .as_ref()
        .ok_or_else(|| required("xksProxyAuthenticationCredential", WHY))?;
    XksProxyUri::new(endpoint, path)?;
    let (access_key_id, secret_access_key) = validate_credential(cred)?;
    let service_name = req
        .xks_proxy_vpc_endpoint_service_name
        .as_deref()
        .filter(|n| !n.is_empty());
    let (vpc_endpoint_service_name, vpc_endpoint_service_owner) = match connectivity {
        XksProxyConnectivityType::VpcEndpointService => {
            let name = service_name.ok_or_else(|| {
                required(
                    "xksProxyVpcEndpointServiceName",
                    "when XksProxyConnectivity is VPC_ENDPOINT_SERVICE",
                )
            })?;
            validate_vpc_service_name(name)?;
            let owner = match req.xks_proxy_vpc_endpoint_service_owner.as_deref() {
                Some(o) => validate_owner(o)?,
                None => account.clone(),
            };
            (Some(name.to_owned()), Some(owner))
        }
        XksProxyConnectivityType::PublicEndpoint => {
            const PUBLIC: &str = "when XksProxyConnectivity is PUBLIC_ENDPOINT";
            if service_name.is_some() {
                return Err(must_be_null("xksProxyVpcEndpointServiceName", PUBLIC));
            }
            if req.xks_proxy_vpc_endpoint_service_owner.is_some() {
                return Err(must_be_null("xksProxyVpcEndpointServiceOwner", PUBLIC));
            }
            (None, None)
        }
    };
    Ok(XksStore {
        uri_endpoint: endpoint.to_owned(),
        uri_path: path.to_owned(),
        connectivity,
        vpc_endpoint_service_name,
        vpc_endpoint_service_owner,
        access_key_id,
        secret_access_key,
    })
}

/// The syntax of the XKS members of an UpdateCustomKeyStore request,
/// whatever the store's type: each member given matches the API's length
/// and pattern (an empty `XksProxyVpcEndpointServiceName` is allowed: it
/// asks for none), and a credential has both parts. Needs no state.
fn xks_update_syntax(req: &UpdateCustomKeyStoreRequest) -> Result<()> {
    if let Some(endpoint) = &req.xks_proxy_uri_endpoint {
        validate_endpoint(endpoint)?;
    }
    if let Some(path) = &req.xks_proxy_uri_path {
        validate_path(path)?;
    }
    if let Some(cred) = &req.xks_proxy_authentication_credential {
        validate_credential(cred)?;
    }
    if let Some(name) = req
        .xks_proxy_vpc_endpoint_service_name
        .as_deref()
        .filter(|n| !n.is_empty())
    {
        validate_vpc_service_name(name)?;
    }
    if let Some(owner) = &req.xks_proxy_vpc_endpoint_service_owner {
        validate_owner(owner)?;
    }
    Ok(())
}

/// The shape of an update of an external key store
/// (`ValidationException`): no CloudHSM member. Needs no state.
fn xks_update_shape(req: &UpdateCustomKeyStoreRequest) -> Result<()> {
    const WHY: &str = "for a custom key store of type EXTERNAL_KEY_STORE";
    if req.key_store_password.is_some() {
        return Err(must_be_null("keyStorePassword", WHY));
    }
    if req.cloud_hsm_cluster_id.is_some() {
        return Err(must_be_null("cloudHsmClusterId", WHY));
    }
    Ok(())
}

/// The checks of a new external key store that need state, on settings
/// from [`xks_shape`]: uniqueness among the account's external key
/// stores, then for `VPC_ENDPOINT_SERVICE` the endpoint service. Does
/// not call the proxy (see [`probe_new_store`]).
fn check_new_store(env: &BackendEnv<'_>, cfg: &XksStore, table: &StoreTable) -> Result<()> {
    check_unique(table, None, cfg)?;
    check_vpc_service(env, cfg)
}

/// CreateCustomKeyStore's proxy contact: for `PUBLIC_ENDPOINT`, KMS
/// calls GetHealthStatus (the proxy must be reachable, accept the
/// credential and path, answer well, and have at least one external key
/// manager not UNAVAILABLE). A VPC store is first contacted at connect.
/// Called with no lock held.
fn probe_new_store(env: &BackendEnv<'_>, cfg: &XksStore, name: &str) -> Result<()> {
    if cfg.connectivity == XksProxyConnectivityType::VpcEndpointService {
        return Ok(());
    }
    health_check(env, cfg, "CreateCustomKeyStore")
        .map_err(|f| f.store_error(&format!("'{name}'"), None))
}

/// Validates an update of an external key store (after
/// [`xks_update_shape`]) and returns the new settings. The generic code
/// has already checked the connection state for the fields given. Rules,
/// which depend on the store's settings: a new credential needs both
/// parts; every value matches the API's pattern; switching to
/// `VPC_ENDPOINT_SERVICE` needs a new endpoint and a service name;
/// switching to `PUBLIC_ENDPOINT` needs a new endpoint and no (or an
/// empty) service name; a service name or owner needs VPC connectivity;
/// then the uniqueness rules and the VPC endpoint service.
fn update(
    env: &BackendEnv<'_>,
    id: &CustomKeyStoreId,
    cfg: &XksStore,
    req: &UpdateCustomKeyStoreRequest,
    table: &StoreTable,
) -> Result<XksStore> {
    let mut new = cfg.clone();
    if let Some(cred) = &req.xks_proxy_authentication_credential {
        (new.access_key_id, new.secret_access_key) = validate_credential(cred)?;
    }
    if let Some(endpoint) = &req.xks_proxy_uri_endpoint {
        new.uri_endpoint.clone_from(endpoint);
    }
    if let Some(path) = &req.xks_proxy_uri_path {
        new.uri_path.clone_from(path);
    }
    XksProxyUri::new(&new.uri_endpoint, &new.uri_path)?;
    let service_name = req.xks_proxy_vpc_endpoint_service_name.as_deref();
    let vpc = XksProxyConnectivityType::VpcEndpointService;
    if let Some(to) = req.xks_proxy_connectivity
        && to != cfg.connectivity
    {
        let new_endpoint = req
            .xks_proxy_uri_endpoint
            .as_deref()
            .is_some_and(|e| e != cfg.uri_endpoint);
        if !new_endpoint {
            return Err(kms_err!(
                Validation,
                "'xksProxyUriEndpoint' must be a new endpoint when XksProxyConnectivity changes to {to}."
            ));
        }
        if to == vpc {
            if service_name.is_none_or(str::is_empty) {
                return Err(required(
                    "xksProxyVpcEndpointServiceName",
                    "when XksProxyConnectivity changes to VPC_ENDPOINT_SERVICE",
                ));
            }
            new.vpc_endpoint_service_owner = Some(env.account_id.clone());
        } else {
            if service_name.is_some_and(|n| !n.is_empty()) {
                return Err(must_be_null(
                    "xksProxyVpcEndpointServiceName",
                    "(or empty) when XksProxyConnectivity changes to PUBLIC_ENDPOINT",
                ));
            }
            new.vpc_endpoint_service_name = None;
            new.vpc_endpoint_service_owner = None;
        }
        new.connectivity = to;
    }
    const NEEDS_VPC: &str = "unless XksProxyConnectivity is VPC_ENDPOINT_SERVICE";
    if let Some(name) = service_name.filter(|n| !n.is_empty()) {
        if new.connectivity != vpc {
            return Err(must_be_null("xksProxyVpcEndpointServiceName", NEEDS_VPC));
        }
        validate_vpc_service_name(name)?;
        new.vpc_endpoint_service_name = Some(name.to_owned());
    } else if service_name.is_some() && new.connectivity == vpc {
        return Err(required(
            "xksProxyVpcEndpointServiceName",
            "when XksProxyConnectivity is VPC_ENDPOINT_SERVICE",
        ));
    }
    if let Some(owner) = &req.xks_proxy_vpc_endpoint_service_owner {
        if new.connectivity != vpc {
            return Err(must_be_null("xksProxyVpcEndpointServiceOwner", NEEDS_VPC));
        }
        new.vpc_endpoint_service_owner = Some(validate_owner(owner)?);
    }
    check_unique(table, Some(id), &new)?;
    let route_changed = new.connectivity != cfg.connectivity
        || new.uri_endpoint != cfg.uri_endpoint
        || new.vpc_endpoint_service_name != cfg.vpc_endpoint_service_name
        || new.vpc_endpoint_service_owner != cfg.vpc_endpoint_service_owner;
    if route_changed {
        check_vpc_service(env, &new)?;
    }
    Ok(new)
}

/// UpdateCustomKeyStore's proxy contact, with no lock held: when a
/// setting the proxy sees changed (endpoint, path, connectivity, VPC
/// endpoint service, credential), KMS calls GetHealthStatus with the
/// new settings — always for `PUBLIC_ENDPOINT`, and for
/// `VPC_ENDPOINT_SERVICE` only while CONNECTED (KMS's interface endpoint
/// exists only then). Failures use the Create/UpdateCustomKeyStore
/// column of the error table.
fn probe_update(
    env: &BackendEnv<'_>,
    store: &str,
    state: ConnectionState,
    old: &XksStore,
    new: &XksStore,
) -> Result<()> {
    let changed = old.uri_endpoint != new.uri_endpoint
        || old.uri_path != new.uri_path
        || old.connectivity != new.connectivity
        || old.vpc_endpoint_service_name != new.vpc_endpoint_service_name
        || old.access_key_id != new.access_key_id
        || !old
            .secret_access_key
            .ct_eq(new.secret_access_key.expose_secret());
    let reachable =
        new.connectivity == XksProxyConnectivityType::PublicEndpoint || state.is_connected();
    if !(changed && reachable) {
        return Ok(());
    }
    health_check(env, new, "UpdateCustomKeyStore")
        .map_err(|f| f.store_error(store, new.vpc_endpoint_service_name.as_deref()))
}

/// The connect sequence; `Err` is the FAILED code. For a VPC store KMS
/// finds the endpoint service (XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND,
/// XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION), then for both kinds
/// it sends GetHealthStatus through the proxy (INVALID_CREDENTIALS,
/// XKS_PROXY_ACCESS_DENIED, XKS_PROXY_NOT_REACHABLE — also when every
/// external key manager is UNAVAILABLE —, XKS_PROXY_TIMED_OUT,
/// XKS_PROXY_INVALID_RESPONSE, XKS_PROXY_INVALID_CONFIGURATION,
/// XKS_PROXY_INVALID_TLS_CONFIGURATION).
fn connect_sequence(
    env: &BackendEnv<'_>,
    cfg: &XksStore,
) -> std::result::Result<(), ConnectionErrorCode> {
    health_check(env, cfg, "ConnectCustomKeyStore").map_err(ProxyFailure::connection_code)
}

/// For a VPC store: the endpoint service exists and is usable
/// (`XksProxyVpcEndpointServiceNotFoundException`,
/// `XksProxyVpcEndpointServiceInvalidConfigurationException`), and its
/// private DNS name is the store's endpoint (the latter exception too).
/// Nothing for a public store.
fn check_vpc_service(env: &BackendEnv<'_>, cfg: &XksStore) -> Result<()> {
    if cfg.connectivity != XksProxyConnectivityType::VpcEndpointService {
        return Ok(());
    }
    let name = cfg.vpc_endpoint_service_name.as_deref().unwrap_or_default();
    let endpoint = env
        .crypto
        .xks
        .resolve_vpc_endpoint_service(name)
        .map_err(|e| vpc_error(e, name))?;
    if endpoint != cfg.uri_endpoint {
        return Err(kms_err!(
            XksProxyVpcEndpointServiceInvalidConfiguration,
            "The private DNS name of VPC endpoint service {name} is {endpoint}, not the XksProxyUriEndpoint {}.",
            cfg.uri_endpoint
        ).with_hint("Set XksProxyUriEndpoint to https:// followed by the service's private DNS name."));
    }
    Ok(())
}

/// For a `VPC_ENDPOINT_SERVICE` route: the service exists, is usable,
/// and its private DNS name is the store's endpoint. Nothing for a
/// `PUBLIC_ENDPOINT` route.
fn check_route(env: &CryptoEnv<'_>, route: &XksRoute) -> std::result::Result<(), ProxyFailure> {
    if route.connectivity == XksProxyConnectivityType::VpcEndpointService {
        let name = route
            .vpc_endpoint_service_name
            .as_deref()
            .ok_or(ProxyFailure::Vpc(VpcEndpointServiceError::NotFound))?;
        let endpoint = env
            .xks
            .resolve_vpc_endpoint_service(name)
            .map_err(ProxyFailure::Vpc)?;
        if endpoint != route.call.uri.endpoint() {
            return Err(ProxyFailure::Vpc(
                VpcEndpointServiceError::InvalidConfiguration,
            ));
        }
    }
    Ok(())
}

/// The manager a store's calls reach through `route`: for
/// `PUBLIC_ENDPOINT` the one at the store's endpoint; for
/// `VPC_ENDPOINT_SERVICE` the one behind the service, whose private DNS
/// name must be the store's endpoint. Looked up on every call, since
/// proxies and VPC endpoint services come and go.
fn manager(
    env: &CryptoEnv<'_>,
    route: &XksRoute,
) -> std::result::Result<Arc<dyn ExternalKeyManager>, ProxyFailure> {
    check_route(env, route)?;
    env.xks
        .resolve(&route.call.uri)
        .map_err(ProxyFailure::Proxy)
}

/// The manager and call envelope for settings `cfg` (which may not be
/// stored yet: a probe of new settings).
fn route(
    env: &BackendEnv<'_>,
    cfg: &XksStore,
) -> std::result::Result<(Arc<dyn ExternalKeyManager>, XksCall), ProxyFailure> {
    let route = XksRoute::new(cfg, env.xks_timeout).ok_or(ProxyFailure::Internal)?;
    let manager = manager(&env.crypto, &route)?;
    Ok((manager, route.call))
}

/// GetHealthStatus through the store's route, on behalf of `operation`.
fn health_check(
    env: &BackendEnv<'_>,
    cfg: &XksStore,
    operation: &str,
) -> std::result::Result<(), ProxyFailure> {
    let (manager, call) = route(env, cfg)?;
    let request = HealthStatusRequest {
        request_metadata: RequestMetadata::new(
            operation,
            request_id(&env.crypto, &mut uuid::Uuid::encode_buffer()),
        ),
    };
    let health = manager
        .get_health_status(&call, &request)
        .map_err(ProxyFailure::Proxy)?;
    if health.xks_proxy_fleet_size == 0 || health.ekm_fleet_details.is_empty() {
        return Err(ProxyFailure::Proxy(XksError::InvalidResponse));
    }
    if !health.is_available() {
        return Err(ProxyFailure::FleetUnavailable);
    }
    Ok(())
}

/// A fresh `kmsRequestId`.
fn request_id<'b>(env: &CryptoEnv<'_>, buf: &'b mut [u8; 45]) -> &'b str {
    // Encoded into the caller's stack buffer, not through `Display`.
    uuid::Uuid::from_bytes(env.rng.array())
        .hyphenated()
        .encode_lower(buf)
}

/// `requestMetadata` for a call made on behalf of the account's caller,
/// borrowed from the call (the request id is written into `id`).
fn caller_metadata<'a>(
    env: &CryptoEnv<'a>,
    operation: &'a str,
    key_arn: Option<&'a str>,
    id: &'a mut [u8; 45],
) -> RequestMetadataRef<'a> {
    RequestMetadataRef {
        aws_principal_arn: Some(env.principal_arn),
        kms_operation: operation,
        kms_request_id: request_id(env, id),
        kms_key_arn: key_arn,
        kms_via_service: env.via_service,
        ..RequestMetadataRef::default()
    }
}

/// A proxy failure of a cryptographic call as KMS answers it. An answer
/// the in-place call rejects (`InvalidResponse`: an IV, tag, ciphertext or
/// plaintext of the wrong length, or a body that is not the API's) is an
/// invalid response to `op`.
fn crypto_error(err: XksError, op: &str, store: &str) -> Error {
    match err {
        XksError::InvalidResponse => invalid_response(
            store,
            op,
            &format!(
                "{} (a body that is not the API's, or an IV, tag or result of the wrong length)",
                err.describe()
            ),
        ),
        err => kms_error(err, XksCallSite::Crypto, store),
    }
}

/// Why an external key cannot back a KMS key, or `None` if it can.
fn unusable_because(meta: &KeyMetadataResponse) -> Option<String> {
    let mut problems = Vec::new();
    if meta.key_spec != XksKeySpec::Aes256 {
        problems.push(format!("its KeySpec is {}, not AES_256", meta.key_spec));
    }
    for usage in [XksKeyUsage::Encrypt, XksKeyUsage::Decrypt] {
        if !meta.key_usage.contains(&usage) {
            problems.push(format!("its KeyUsage does not include {usage}"));
        }
    }
    if meta.key_status != XksKeyStatus::Enabled {
        problems.push(format!("its status is {}, not ENABLED", meta.key_status));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

fn invalid_response(store: &str, op: &str, problem: &str) -> Error {
    kms_err!(
        KmsInvalidState,
        "The external key store proxy of custom key store {store} returned an invalid {op} response: {problem}."
    ).with_hint("Check the proxy's logs and that it implements XKS proxy API v1.")
}

/// The AAD KMS gives the proxy: blob header ‖ KMS-layer nonce.
fn proxy_aad(header: &[u8], nonce: &[u8; NONCE_LEN]) -> ProxyAad {
    let mut aad = ProxyAad {
        buf: [0; PROXY_AAD_LEN],
        len: 0,
    };
    let len = header.len() + NONCE_LEN;
    aad.buf[..header.len()].copy_from_slice(header);
    aad.buf[header.len()..len].copy_from_slice(nonce);
    aad.len = len;
    aad
}

/// The AAD KMS gives the proxy, on the stack: at most [`PROXY_AAD_LEN`]
/// bytes (a format-2 or format-3 header is longer than a format-1 one).
struct ProxyAad {
    buf: [u8; PROXY_AAD_LEN],
    len: usize,
}

impl std::ops::Deref for ProxyAad {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// CreateKey in an external key store (the generic code has checked the
/// store's type and state and that no other key uses the external key):
/// the proxy's GetKeyMetadata must find the external key
/// (`XksKeyNotFoundException`), and it must be AES_256, ENABLED, with
/// ENCRYPT and DECRYPT (`XksKeyInvalidConfigurationException`). Other
/// proxy failures follow the CreateKey column of the error table.
/// Called with no lock held.
fn create_key(
    env: &BackendEnv<'_>,
    cfg: &XksStore,
    store: &CustomKeyStoreId,
    xks_key_id: &XksKeyId,
) -> Result<()> {
    let (manager, call) =
        route(env, cfg).map_err(|f| f.call_error(XksCallSite::CreateKey, store.as_str()))?;
    let request = KeyMetadataRequest {
        request_metadata: caller_metadata(
            &env.crypto,
            "CreateKey",
            None,
            &mut uuid::Uuid::encode_buffer(),
        )
        .to_request_metadata(),
    };
    let meta = manager
        .get_key_metadata(&call, xks_key_id, &request)
        .map_err(|e| kms_error(e, XksCallSite::CreateKey, store.as_str()))?;
    if let Some(why) = unusable_because(&meta) {
        return Err(kms_err!(
            XksKeyInvalidConfiguration,
            "External key {xks_key_id} cannot back a KMS key: {why}."
        )
        .with_hint("It must be an ENABLED AES_256 key whose usages include ENCRYPT and DECRYPT."));
    }
    Ok(())
}

/// Runs `f` with the manager of a cryptographic call, lent without a
/// reference count (as [`manager`] finds it), or gives the exception the
/// call fails with when there is none.
fn with_crypto_manager<T>(
    env: &CryptoEnv<'_>,
    route: &XksRoute,
    store: &CustomKeyStoreId,
    f: impl FnOnce(&dyn ExternalKeyManager) -> Result<T>,
) -> Result<T> {
    check_route(env, route)
        .and_then(|()| {
            env.xks
                .with_manager(&route.call.uri, f)
                .map_err(ProxyFailure::Proxy)
        })
        .map_err(|fail| fail.call_error(XksCallSite::Crypto, store.as_str()))?
}

impl KeyCipher for DoubleLayer {
    /// Double encryption: the KMS layer under the key's own material, then
    /// the proxy's layer under the external key (see the module docs).
    /// Exactly one proxy Encrypt call; no lock held during it. The KMS
    /// layer is sealed in the caller's plaintext buffer (borrowed bytes:
    /// straight into the blob), which the proxy then seals again in place:
    /// the only copy is into the blob.
    fn seal(
        self,
        env: &CryptoEnv<'_>,
        key: &KeyRef<'_>,
        plaintext: SealInput<'_>,
        ctx: &EncryptionContext,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let call = XksCryptoCall::new(key.backing, &self.route, self.operation)?;
        let store = call.store;
        let cipher = key.own_cipher()?;
        with_crypto_manager(env, call.route, store, |manager| {
            let header = Header {
                kind: BlobKind::Double,
                key_id: *key.id,
                material: None,
            }
            .to_bytes();
            let nonce: [u8; NONCE_LEN] = env.rng.nonce();
            // The KMS layer (ciphertext ‖ tag) is sealed where the blob's
            // body goes, and the proxy seals it again there, in place.
            let layer_len = plaintext.len() + TAG_LEN;
            let aad = context::aad(&header, ctx);
            let blob = match plaintext {
                SealInput::Owned(plaintext) => {
                    let blob = DoubleBlobWriter::begin(out, &header, &nonce, layer_len);
                    let (ciphertext, tag) = plaintext
                        .seal_into_ciphertext(|buf| cipher.seal_in_place(&nonce, &aad, buf));
                    out.extend_from_slice(&ciphertext);
                    out.extend_from_slice(&tag);
                    blob
                }
                // Borrowed bytes are sealed straight into the blob, and a
                // buffer reused by `encrypt_into` is overwritten in place.
                SealInput::Borrowed(bytes) => {
                    let blob = DoubleBlobWriter::begin_sized(out, &header, &nonce, layer_len);
                    seal_borrowed(cipher, &nonce, &aad, bytes, &mut out[blob.body_at()..])?;
                    blob
                }
            };
            let mut id = uuid::Uuid::encode_buffer();
            // The proxy's AAD (header ‖ nonce) is read where the blob
            // begins, not assembled in a copy of its own (read back at
            // once, the copy stalled on its own stores).
            let (proxy_aad, body) = blob.head_and_body(out);
            let request = XksEncryptInPlace {
                request_metadata: caller_metadata(env, call.operation, Some(key.arn), &mut id),
                additional_authenticated_data: Some(proxy_aad),
            };
            let sealed = manager
                .encrypt_in_place(&call.route.call, call.xks_key_id, &request, body)
                .map_err(|e| crypto_error(e, "Encrypt", store.as_str()))?;
            let metadata = sealed.ciphertext_metadata().unwrap_or_default();
            if metadata.len() > MAX_XKS_METADATA_LEN {
                return Err(invalid_response(
                    store.as_str(),
                    "Encrypt",
                    &format!("ciphertextMetadata longer than {MAX_XKS_METADATA_LEN} bytes"),
                ));
            }
            blob.finish(
                out,
                sealed.initialization_vector(),
                metadata,
                sealed.authentication_tag(),
            );
            Ok(())
        })
    }

    /// Reverses the seal: the proxy removes its layer (one proxy
    /// Decrypt call, no lock held), then the KMS layer is opened with the
    /// key's own material, in the buffer the proxy returned. A single-layer
    /// blob is never accepted for an external key store key.
    fn open(
        self,
        env: &CryptoEnv<'_>,
        key: &KeyRef<'_>,
        input: OpenInput<'_>,
        ctx: &EncryptionContext,
    ) -> Result<Plaintext> {
        let call = XksCryptoCall::new(key.backing, &self.route, self.operation)?;
        let blob = input.blob()?;
        let Body::Double(layer) = blob.body else {
            return Err(invalid_ciphertext());
        };
        // The proxy's fields are copied out (a few dozen bytes, on the
        // stack): the buffer they were read from is about to be opened.
        let fields = ProxyFields::copy_of(&layer).ok_or_else(invalid_ciphertext)?;
        let aad = proxy_aad(blob.header_bytes, blob.nonce);
        let header = HeaderBytes::copy_of(blob.header_bytes).ok_or_else(invalid_ciphertext)?;
        let nonce = *blob.nonce;
        let n = layer.ciphertext.len();
        let body = input.bytes().len() - n..input.bytes().len();
        let store = call.store;
        let cipher = key.own_cipher()?;
        with_crypto_manager(env, call.route, store, |manager| {
            // `Blob::read` has checked this; kept so the split below cannot underflow.
            if n < TAG_LEN {
                return Err(invalid_ciphertext());
            }
            let mut id = uuid::Uuid::encode_buffer();
            let request = XksDecryptInPlace {
                request_metadata: caller_metadata(env, call.operation, Some(key.arn), &mut id),
                additional_authenticated_data: Some(&aad),
                ciphertext_metadata: (!fields.metadata().is_empty()).then_some(fields.metadata()),
                initialization_vector: fields.iv(),
                authentication_tag: &fields.tag,
            };
            // The proxy opens its layer in the blob's own buffer, then the
            // KMS layer is opened there too, and the plaintext stays where
            // it was opened: nothing is copied.
            input.open_at(body, |buf| {
                manager
                    .decrypt_in_place(&call.route.call, call.xks_key_id, &request, buf)
                    .map_err(|e| crypto_error(e, "Decrypt", store.as_str()))?;
                let (kms_layer, tag) = buf.split_at_mut(n - TAG_LEN);
                let tag: &[u8; TAG_LEN] = (&*tag)
                    .try_into()
                    .map_err(|_| Error::internal("tag length"))?;
                cipher
                    .open_in_place(&nonce, &context::aad(&header, ctx), kms_layer, tag)
                    .map_err(|_| invalid_ciphertext())?;
                Ok(kms_layer.len())
            })
        })
    }
}

/// The proxy's IV, ciphertext metadata and tag of a double-layer blob,
/// copied onto the stack.
struct ProxyFields {
    iv: [u8; MAX_IV_LEN],
    iv_len: usize,
    metadata: [u8; MAX_XKS_METADATA_LEN],
    metadata_len: usize,
    tag: [u8; TAG_LEN],
}

impl ProxyFields {
    /// The fields of `layer`; `None` if they are longer than a blob holds.
    fn copy_of(layer: &XksLayer<'_>) -> Option<ProxyFields> {
        let mut fields = ProxyFields {
            iv: [0; MAX_IV_LEN],
            iv_len: layer.iv.len(),
            metadata: [0; MAX_XKS_METADATA_LEN],
            metadata_len: layer.metadata.len(),
            tag: *layer.tag,
        };
        fields
            .iv
            .get_mut(..layer.iv.len())?
            .copy_from_slice(layer.iv);
        fields
            .metadata
            .get_mut(..layer.metadata.len())?
            .copy_from_slice(layer.metadata);
        Some(fields)
    }

    fn iv(&self) -> &[u8] {
        &self.iv[..self.iv_len]
    }

    fn metadata(&self) -> &[u8] {
        &self.metadata[..self.metadata_len]
    }
}

/// One cryptographic proxy call for an external key store key: its store,
/// the store's route, the external key, and the KMS operation it serves.
struct XksCryptoCall<'a> {
    store: &'a CustomKeyStoreId,
    route: &'a XksRoute,
    xks_key_id: &'a XksKeyId,
    operation: &'static str,
}

impl<'a> XksCryptoCall<'a> {
    /// The call for a key with `backing` (which must be an external key
    /// store key) through `route`, on behalf of `operation`.
    fn new(
        backing: &'a Backing,
        route: &'a XksRoute,
        operation: &'static str,
    ) -> Result<XksCryptoCall<'a>> {
        let Backing::External { store, xks_key_id } = backing else {
            return Err(Error::internal(
                "an XKS route for a key without an external key",
            ));
        };
        Ok(XksCryptoCall {
            store,
            route,
            xks_key_id,
            operation,
        })
    }
}

/// The `EXTERNAL_KEY_STORE` kind, as requests and records name it.
pub(crate) struct XksKind;

impl StoreKind for XksKind {
    fn store_type(&self) -> CustomKeyStoreType {
        CustomKeyStoreType::ExternalKeyStore
    }

    fn key_origin(&self) -> OriginType {
        OriginType::ExternalKeyStore
    }

    fn update_syntax(&self, req: &UpdateCustomKeyStoreRequest) -> Result<()> {
        xks_update_syntax(req)
    }

    fn shape(
        &self,
        env: &BackendEnv<'_>,
        req: &CreateCustomKeyStoreRequest,
    ) -> Result<Box<dyn NewStore>> {
        Ok(Box::new(NewXksStore(xks_shape(req, env.account_id)?)))
    }

    fn read_record(&self, rec: &StoreBackendRecord) -> Option<Result<StoreBackend>> {
        let StoreBackendRecord::External {
            uri_endpoint,
            uri_path,
            connectivity,
            vpc_endpoint_service_name,
            vpc_endpoint_service_owner,
            access_key_id,
            secret_access_key,
        } = rec
        else {
            return None;
        };
        Some((|| {
            Ok(StoreBackend::External(XksStore {
                uri_endpoint: uri_endpoint.clone(),
                uri_path: uri_path.clone(),
                connectivity: connectivity.parse()?,
                vpc_endpoint_service_name: vpc_endpoint_service_name.clone(),
                vpc_endpoint_service_owner: vpc_endpoint_service_owner
                    .as_deref()
                    .map(str::parse)
                    .transpose()?,
                access_key_id: access_key_id.clone(),
                secret_access_key: SecretString::from(secret_access_key.0.as_str()),
            }))
        })())
    }
}

/// A new external key store's settings, shape validated.
struct NewXksStore(XksStore);

impl NewStore for NewXksStore {
    /// KMS contacts the proxy (GetHealthStatus, `PUBLIC_ENDPOINT` only)
    /// once every other check has passed, with no lock held.
    fn probes(&self) -> bool {
        true
    }

    fn precheck(&self, env: &BackendEnv<'_>, table: &StoreTable) -> Result<()> {
        check_new_store(env, &self.0, table)
    }

    fn probe(&self, env: &BackendEnv<'_>, name: &str) -> Result<()> {
        probe_new_store(env, &self.0, name)
    }

    fn into_backend(
        self: Box<Self>,
        env: &BackendEnv<'_>,
        table: &StoreTable,
    ) -> Result<StoreBackend> {
        check_new_store(env, &self.0, table)?;
        Ok(StoreBackend::External(self.0))
    }
}

impl KeyStoreBackend for XksStore {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn store_type(&self) -> CustomKeyStoreType {
        XksKind.store_type()
    }

    fn update_shape(&self, req: &UpdateCustomKeyStoreRequest) -> Result<()> {
        xks_update_shape(req)
    }

    fn update_while_connected(&self, req: &UpdateCustomKeyStoreRequest) -> bool {
        req.xks_proxy_uri_endpoint.is_none()
            && req.xks_proxy_connectivity.is_none()
            && req.xks_proxy_vpc_endpoint_service_name.is_none()
            && req.xks_proxy_vpc_endpoint_service_owner.is_none()
    }

    fn plan_update(
        &self,
        env: &BackendEnv<'_>,
        id: &CustomKeyStoreId,
        req: &UpdateCustomKeyStoreRequest,
        table: &StoreTable,
    ) -> Result<StoreBackend> {
        update(env, id, self, req, table).map(StoreBackend::External)
    }

    /// The proxy is contacted with no lock held; the store's settings are
    /// checked again under the lock afterwards.
    fn probes(&self) -> bool {
        true
    }

    fn probe_update(
        &self,
        env: &BackendEnv<'_>,
        store: &str,
        state: ConnectionState,
        new: &StoreBackend,
    ) -> Result<()> {
        let new = new
            .settings::<XksStore>()
            .ok_or_else(|| Error::internal("store type changed"))?;
        probe_update(env, store, state, self, new)
    }

    fn probe_connect(&self, env: &BackendEnv<'_>) -> Option<ConnectOutcome> {
        Some(connect_sequence(env, self))
    }

    /// External key stores have none: every problem shows as FAILED with
    /// a connection error code.
    fn connect_precheck(&self, _env: &BackendEnv<'_>) -> Result<()> {
        Ok(())
    }

    /// The outcome probed with no lock held when ConnectCustomKeyStore was
    /// called, committed.
    fn connect(
        &self,
        env: &BackendEnv<'_>,
        id: &CustomKeyStoreId,
        probed: Option<ConnectOutcome>,
        put: PutState<'_>,
    ) -> Result<Finished> {
        let outcome = probed.unwrap_or(Err(ConnectionErrorCode::InternalError));
        let state = connect_outcome(id.as_str(), outcome);
        let backend = StoreBackend::External(self.clone());
        let mut batch = Batch::new();
        put(&mut batch, state, &backend)?;
        env.storage.commit(batch)?;
        Ok(Finished { state, backend })
    }

    /// Nothing to do at the proxy: the store's record is committed.
    fn disconnect(&self, env: &BackendEnv<'_>, put: PutClosed<'_>) -> Result<()> {
        let mut batch = Batch::new();
        put(&mut batch, &StoreBackend::External(self.clone()))?;
        env.storage.commit(batch)
    }

    fn key_origin(&self) -> OriginType {
        XksKind.key_origin()
    }

    fn new_key(&self, store: &CustomKeyStoreId, xks_key_id: Option<&str>) -> Result<Backing> {
        Ok(Backing::External {
            store: store.clone(),
            xks_key_id: xks_key_id.unwrap_or_default().parse()?,
        })
    }

    /// The proxy's GetKeyMetadata (see [`create_key`]), then the key's own
    /// KMS material.
    fn create_key(
        &self,
        env: &BackendEnv<'_>,
        _arn: &str,
        backing: &Backing,
    ) -> Result<Option<KeyMaterial>> {
        let (store, xks_key_id) = backing
            .external_key()
            .ok_or_else(|| Error::internal("an external key store key without an external key"))?;
        create_key(env, self, store, xks_key_id)?;
        Ok(Some(KeyMaterial::from_bytes(env.crypto.rng.array())))
    }

    /// Nothing was made at the proxy: an external key is only looked up.
    fn abandon_key(&self, _env: &CryptoEnv<'_>, _arn: &str) {}

    /// The store's route, and the KMS operation the proxy is told it serves.
    fn key_access(
        &self,
        _env: &CryptoEnv<'_>,
        store: &StoreEntry,
        _arn: &str,
        op: KeyOperation,
    ) -> Result<KeyAccess> {
        store
            .route
            .clone()
            .map(|route| {
                KeyAccess::Double(DoubleLayer {
                    route,
                    operation: op.api_name(),
                })
            })
            .ok_or_else(|| Error::internal("stored XKS settings do not validate"))
    }

    fn random(
        &self,
        _env: &BackendEnv<'_>,
        _id: &CustomKeyStoreId,
        _state: ConnectionState,
        _n: usize,
    ) -> Result<Plaintext> {
        Err(kms_err!(
            UnsupportedOperation,
            "GenerateRandom with the id of an external key store is not supported; use a CloudHSM key store."
        ))
    }

    /// The external key stays with the external key manager.
    fn release_key(&self, _env: &CryptoEnv<'_>, _arn: &str) -> Option<ClusterId> {
        None
    }

    fn cluster_id(&self) -> Option<&ClusterId> {
        None
    }

    fn describe(&self) -> Described {
        Described {
            cloud_hsm_cluster_id: None,
            trust_anchor_certificate: None,
            xks_proxy_configuration: Some(XksProxyConfiguration {
                connectivity: self.connectivity,
                access_key_id: self.access_key_id.clone(),
                uri_endpoint: self.uri_endpoint.clone(),
                uri_path: self.uri_path.clone(),
                vpc_endpoint_service_name: self.vpc_endpoint_service_name.clone(),
                vpc_endpoint_service_owner: self
                    .vpc_endpoint_service_owner
                    .as_ref()
                    .map(|a| a.to_string()),
            }),
        }
    }

    fn route(&self, deadline: std::time::Duration) -> Option<Arc<XksRoute>> {
        XksRoute::new(self, deadline).map(Arc::new)
    }

    fn to_record(&self) -> StoreBackendRecord {
        StoreBackendRecord::External {
            uri_endpoint: self.uri_endpoint.clone(),
            uri_path: self.uri_path.clone(),
            connectivity: self.connectivity.as_str().to_owned(),
            vpc_endpoint_service_name: self.vpc_endpoint_service_name.clone(),
            vpc_endpoint_service_owner: self
                .vpc_endpoint_service_owner
                .as_ref()
                .map(ToString::to_string),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: SecretText::new(self.secret_access_key.expose_secret()),
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod record_tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    fn settings(connectivity: XksProxyConnectivityType) -> XksStore {
        let vpc = connectivity == XksProxyConnectivityType::VpcEndpointService;
        XksStore {
            uri_endpoint: "https://xks.example.com".into(),
            uri_path: "/kms/xks/v1".into(),
            connectivity,
            vpc_endpoint_service_name: vpc
                .then(|| "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0".into()),
            vpc_endpoint_service_owner: vpc.then(|| "111122223333".parse().unwrap()),
            access_key_id: "ABCDEFGHIJKLMNOPQRST".into(),
            secret_access_key: SecretString::from("PLANTEDsecretPLANTEDsecretPLANTEDsecret1234"),
        }
    }

    #[test]
    fn the_settings_round_trip_through_their_record() {
        for connectivity in [
            XksProxyConnectivityType::PublicEndpoint,
            XksProxyConnectivityType::VpcEndpointService,
        ] {
            let cfg = settings(connectivity);
            let rec = cfg.to_record();
            let back = XksKind.read_record(&rec).unwrap().unwrap();
            assert_eq!(back, StoreBackend::External(cfg.clone()));
            assert_eq!(back.store_type(), CustomKeyStoreType::ExternalKeyStore);
            assert_eq!(back.settings::<XksStore>(), Some(&cfg));
            let described = back.contract().describe();
            assert!(described.cloud_hsm_cluster_id.is_none());
            let proxy = described.xks_proxy_configuration.unwrap();
            assert_eq!(proxy.connectivity, connectivity);
            assert_eq!(proxy.uri_path, cfg.uri_path);
            assert!(
                back.contract()
                    .route(std::time::Duration::from_millis(250))
                    .is_some()
            );
        }
    }

    #[test]
    fn a_record_with_a_bad_connectivity_is_an_error() {
        let mut rec = settings(XksProxyConnectivityType::PublicEndpoint).to_record();
        if let StoreBackendRecord::External { connectivity, .. } = &mut rec {
            *connectivity = "SOMEWHERE_ELSE".into();
        }
        assert!(XksKind.read_record(&rec).unwrap().is_err());
    }
}
