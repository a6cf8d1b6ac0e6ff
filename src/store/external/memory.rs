//! [`InMemoryExternalKeyManager`]: an XKS proxy and its external key manager
//! in one process, doing real AES-256-GCM, with switches to make it fail in
//! every way the proxy API allows.
//!
//! What it checks, in order, on every call (the first failure wins):
//! 1. transport faults injected with [`InMemoryExternalKeyManager::inject_fault`]
//!    (`Unreachable`, `InvalidTls`);
//! 2. the simulated [`Latency`] against the call's deadline (`TimedOut`);
//! 3. the SigV4 credential (`AuthenticationFailedException`);
//! 4. the URI path (`InvalidUriPathException`);
//! 5. any other injected fault (throttling, access denied, internal error,
//!    malformed response, …);
//! 6. the operation itself: request limits (`ValidationException`), key
//!    existence (`KeyNotFoundException`), key spec and usages
//!    (`InvalidKeyUsageException`), key status (`InvalidStateException`),
//!    tag (`InvalidCiphertextException`).
//!
//! Every call is counted per operation before any check, so a test can
//! prove how many proxy calls a KMS operation made.
//!
//! Callers on many threads do not wait for each other: a call reads the
//! switches and keys from one [`Snapshot`] (which a switch replaces whole)
//! and borrows the key's cipher from it, and counts itself in its
//! thread's own stripe of the counters.

use crate::sync::{AtomicU64, Ordering};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::sync::{Mutex, Snapshot};

use super::ExternalKeyManager;
use super::api::{
    AUTHENTICATION_TAG_LEN, EkmFleetDetail, EkmHealthStatus, HealthStatusRequest,
    HealthStatusResponse, KeyMetadataRequest, KeyMetadataResponse, MAX_AAD_LEN, MAX_PLAINTEXT_LEN,
    RequestMetadataRef, XksCall, XksCredential, XksDecryptInPlace, XksDecryptRequest,
    XksDecryptResponse, XksEncryptInPlace, XksEncryptRequest, XksEncryptResponse, XksKeySpec,
    XksKeyStatus, XksKeyUsage, XksOperation, XksProxyUri, XksSealed, gcm_aad,
};
use super::error::XksError;
use crate::crypto::aead::{NONCE_LEN, TAG_LEN};
use crate::crypto::rng::SecureRng;
use crate::crypto::{Cipher, KeyMaterial, Plaintext};
use crate::error::{Constraint, Error, Result, Shown, kms_err};
use crate::ids::XksKeyId;

/// Most `keyUsage` values a key may list (the proxy API's limit).
pub const MAX_KEY_USAGES: usize = 10;

/// Simulated network latency of the proxy.
///
/// The manager compares `delay` with the call's deadline
/// ([`XksCall::deadline`]): longer, and the call fails with
/// [`XksError::TimedOut`]; otherwise it succeeds. Tests observe timeouts
/// without waiting. With `sleep` set, the manager also really sleeps — the
/// full `delay`, or only the deadline when it times out — so wall-clock
/// behaviour (and the KMS rule that no lock is held during a proxy call)
/// can be exercised too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Latency {
    /// The simulated round-trip time.
    pub delay: Duration,
    /// Whether to really sleep.
    pub sleep: bool,
}

impl Latency {
    /// A simulated delay, not slept.
    pub const fn simulated(delay: Duration) -> Latency {
        Latency {
            delay,
            sleep: false,
        }
    }

    /// A delay the manager really sleeps.
    pub const fn real(delay: Duration) -> Latency {
        Latency { delay, sleep: true }
    }
}

/// One external key.
#[derive(Clone)]
struct ExternalKey {
    spec: XksKeySpec,
    usages: Vec<XksKeyUsage>,
    status: XksKeyStatus,
    /// AES_256 keys only; the key schedule zeroizes on drop. Shared with
    /// calls in flight, so a call neither copies nor re-expands it.
    cipher: Option<Arc<Cipher>>,
}

/// What the switches set.
#[derive(Clone)]
struct State {
    credential: XksCredential,
    keys: BTreeMap<XksKeyId, ExternalKey>,
    /// Injected faults: `None` scope means every operation.
    faults: Vec<(Option<XksOperation>, XksError)>,
    latency: Latency,
    fleet: Vec<EkmFleetDetail>,
    ciphertext_metadata: Option<Vec<u8>>,
}

/// Stripes of the call counters: a thread counts in stripe `thread index
/// mod STRIPES`, so up to this many threads never write a shared line.
const STRIPES: usize = 16;

/// One stripe of the call counters, on a cache line (pair) of its own.
#[derive(Default)]
#[repr(align(128))]
struct Counters([AtomicU64; 4]);

crate::sync::thread_local! {
    /// This thread's counter stripe.
    static STRIPE: usize = {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % STRIPES
    };
}

struct Inner {
    uri: XksProxyUri,
    rng: SecureRng,
    /// The switches and keys, replaced whole by a switch.
    state: Snapshot<State>,
    /// Serializes the switches' read-modify-replace of `state`.
    writer: Mutex<()>,
    calls: [Counters; STRIPES],
}

/// An in-memory XKS proxy plus external key manager.
///
/// Cheap to clone: clones share the keys, switches and counters.
///
/// ```
/// use kms_keystore::xks::{
///     ExternalKeyManager, InMemoryExternalKeyManager, RequestMetadata, XksCall, XksCredential,
///     XksDecryptRequest, XksEncryptRequest, XksOperation, XksProxyUri,
/// };
/// let uri = XksProxyUri::new("https://xks.example.com", "/kms/xks/v1").unwrap();
/// let cred = XksCredential::new("ABCDEFGHIJKLMNOPQRST", &"s".repeat(43)).unwrap();
/// let ekm = InMemoryExternalKeyManager::new(uri.clone(), cred.clone(), Some(7));
/// let key = ekm.add_aes_key("key-1").unwrap();
/// let call = XksCall::new(uri, cred);
/// let req = XksEncryptRequest::new(RequestMetadata::new("Encrypt", "r-1"), b"kms layer".into(), None);
/// let out = ekm.encrypt(&call, &key, req).unwrap();
/// let back = ekm
///     .decrypt(&call, &key, XksDecryptRequest::for_response(RequestMetadata::new("Decrypt", "r-2"), &out, None))
///     .unwrap();
/// assert_eq!(back.plaintext.expose_secret(), b"kms layer");
/// assert_eq!(ekm.calls(XksOperation::Encrypt), 1);
/// ```
#[derive(Clone)]
pub struct InMemoryExternalKeyManager(Arc<Inner>);

impl std::fmt::Debug for InMemoryExternalKeyManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.0.state.load();
        f.debug_struct("InMemoryExternalKeyManager")
            .field("uri", &self.0.uri)
            .field("credential", &state.credential)
            .field("keys", &state.keys.keys().collect::<Vec<_>>())
            .field("faults", &state.faults)
            .field("latency", &state.latency)
            .finish_non_exhaustive()
    }
}

const fn op_index(op: XksOperation) -> usize {
    match op {
        XksOperation::GetHealthStatus => 0,
        XksOperation::GetKeyMetadata => 1,
        XksOperation::Encrypt => 2,
        XksOperation::Decrypt => 3,
    }
}

impl InMemoryExternalKeyManager {
    /// A healthy proxy at `uri` that accepts `credential`, with two ACTIVE
    /// external key managers and no keys. With a `seed`, key material and
    /// IVs are the same on every run for the same calls.
    pub fn new(
        uri: XksProxyUri,
        credential: XksCredential,
        seed: Option<u64>,
    ) -> InMemoryExternalKeyManager {
        let fleet = (1..=2)
            .map(|i| EkmFleetDetail {
                id: format!("hsm-{i}"),
                model: "InMemoryEkm".to_owned(),
                health_status: EkmHealthStatus::Active,
            })
            .collect();
        InMemoryExternalKeyManager(Arc::new(Inner {
            uri,
            rng: SecureRng::new(seed),
            state: Snapshot::new(State {
                credential,
                keys: BTreeMap::new(),
                faults: Vec::new(),
                latency: Latency::default(),
                fleet,
                ciphertext_metadata: None,
            }),
            writer: Mutex::new(()),
            calls: Default::default(),
        }))
    }

    /// Runs `f` on a copy of the state and publishes the copy if `f`
    /// succeeds (switches are rare; calls read without waiting).
    fn update<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let _writer = self.0.writer.lock();
        let mut next = State::clone(&self.0.state.load());
        let out = f(&mut next)?;
        self.0.state.store(next);
        Ok(out)
    }

    /// Where the proxy listens.
    pub fn uri(&self) -> &XksProxyUri {
        &self.0.uri
    }

    // ---- external keys -------------------------------------------------

    /// Adds an external key. AES_256 keys get fresh random material; other
    /// specs are stored for GetKeyMetadata only and cannot encrypt.
    ///
    /// # Errors
    /// `ValidationException` for a bad id or more than ten usages;
    /// `AlreadyExistsException` if the id is taken.
    pub fn add_key(
        &self,
        id: &str,
        spec: XksKeySpec,
        usages: &[XksKeyUsage],
        status: XksKeyStatus,
    ) -> Result<XksKeyId> {
        let id: XksKeyId = id.parse()?;
        let material =
            (spec == XksKeySpec::Aes256).then(|| KeyMaterial::from_bytes(self.0.rng.array()));
        self.insert_key(id, spec, usages, status, material.as_ref())
    }

    /// [`InMemoryExternalKeyManager::add_key`] with the material given (a
    /// durable server's keys, read back from their sealed file); `material`
    /// is used only for AES_256 keys.
    pub(crate) fn insert_key(
        &self,
        id: XksKeyId,
        spec: XksKeySpec,
        usages: &[XksKeyUsage],
        status: XksKeyStatus,
        material: Option<&KeyMaterial>,
    ) -> Result<XksKeyId> {
        if usages.len() > MAX_KEY_USAGES {
            return Err(Error::invalid(
                "keyUsage",
                Shown::Value(format!("{usages:?}")),
                Constraint::MaxLength(MAX_KEY_USAGES),
            ));
        }
        let cipher = material
            .filter(|_| spec == XksKeySpec::Aes256)
            .map(|m| Arc::new(Cipher::new(m)));
        self.update(|state| {
            if state.keys.contains_key(&id) {
                return Err(kms_err!(
                    AlreadyExists,
                    "External key '{id}' already exists in this key manager."
                ));
            }
            state.keys.insert(
                id.clone(),
                ExternalKey {
                    spec,
                    usages: usages.to_vec(),
                    status,
                    cipher,
                },
            );
            Ok(id)
        })
    }

    /// Adds an ENABLED AES_256 key with usages ENCRYPT and DECRYPT: one KMS
    /// can back a key with.
    ///
    /// # Errors
    /// As [`InMemoryExternalKeyManager::add_key`].
    pub fn add_aes_key(&self, id: &str) -> Result<XksKeyId> {
        self.add_key(
            id,
            XksKeySpec::Aes256,
            &[XksKeyUsage::Encrypt, XksKeyUsage::Decrypt],
            XksKeyStatus::Enabled,
        )
    }

    /// Sets a key's status in the external key manager.
    ///
    /// # Errors
    /// `NotFoundException` if there is no such key.
    pub fn set_key_status(&self, id: &XksKeyId, status: XksKeyStatus) -> Result<()> {
        self.update(|state| {
            let key = state.keys.get_mut(id).ok_or_else(|| {
                kms_err!(
                    NotFound,
                    "External key '{id}' does not exist in this key manager."
                )
            })?;
            key.status = status;
            Ok(())
        })
    }

    /// Disables a key: Encrypt and Decrypt fail with `InvalidStateException`.
    ///
    /// # Errors
    /// `NotFoundException` if there is no such key.
    pub fn disable_key(&self, id: &XksKeyId) -> Result<()> {
        self.set_key_status(id, XksKeyStatus::Disabled)
    }

    /// Enables a key again.
    ///
    /// # Errors
    /// `NotFoundException` if there is no such key.
    pub fn enable_key(&self, id: &XksKeyId) -> Result<()> {
        self.set_key_status(id, XksKeyStatus::Enabled)
    }

    /// Deletes a key and its material: every call naming it then fails with
    /// `KeyNotFoundException`.
    ///
    /// # Errors
    /// `NotFoundException` if there is no such key.
    pub fn delete_key(&self, id: &XksKeyId) -> Result<()> {
        self.update(|state| {
            state.keys.remove(id).map(drop).ok_or_else(|| {
                kms_err!(
                    NotFound,
                    "External key '{id}' does not exist in this key manager."
                )
            })
        })
    }

    /// The ids of the keys it holds, in order.
    pub fn key_ids(&self) -> Vec<XksKeyId> {
        self.0.state.load().keys.keys().cloned().collect()
    }

    // ---- fault switches ------------------------------------------------

    /// Makes every call to `op` (or, with `None`, to every operation) fail
    /// with `error` until [`clear_faults`](Self::clear_faults). Transport
    /// errors (`Unreachable`, `InvalidTls`) win over the credential and path
    /// checks; the others apply after them. `InvalidResponse` models a
    /// malformed answer.
    pub fn inject_fault(&self, op: Option<XksOperation>, error: XksError) {
        self.set(|state| state.faults.push((op, error)));
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.set(|state| state.faults.clear());
    }

    /// Switch: nothing listens (`Unreachable`) on every operation.
    pub fn set_unreachable(&self, on: bool) {
        self.switch(XksError::Unreachable, on);
    }

    /// Switch: the TLS handshake fails (`InvalidTls`) on every operation.
    pub fn set_invalid_tls(&self, on: bool) {
        self.switch(XksError::InvalidTls, on);
    }

    /// Switch: every answer is malformed (`InvalidResponse`).
    pub fn set_malformed_response(&self, on: bool) {
        self.switch(XksError::InvalidResponse, on);
    }

    /// Switch: every call is throttled (`ThrottlingException`).
    pub fn set_throttling(&self, on: bool) {
        self.switch(XksError::Throttling, on);
    }

    /// Switch: the proxy's authorization denies every call (`AccessDeniedException`).
    pub fn set_access_denied(&self, on: bool) {
        self.switch(XksError::AccessDenied, on);
    }

    /// Switch: every call fails inside the proxy (`InternalException`).
    pub fn set_internal_error(&self, on: bool) {
        self.switch(XksError::Internal, on);
    }

    fn switch(&self, error: XksError, on: bool) {
        self.set(|state| {
            state
                .faults
                .retain(|(op, e)| !(op.is_none() && *e == error));
            if on {
                state.faults.push((None, error));
            }
        });
    }

    /// [`Self::update`] for a change that cannot fail.
    fn set(&self, f: impl FnOnce(&mut State)) {
        let _ = self.update(|state| {
            f(state);
            Ok(())
        });
    }

    /// Sets the simulated latency (see [`Latency`]).
    pub fn set_latency(&self, latency: Latency) {
        self.set(|state| state.latency = latency);
    }

    /// The current simulated latency.
    pub fn latency(&self) -> Latency {
        self.0.state.load().latency
    }

    /// Replaces the credential the proxy accepts (a rotation on the proxy
    /// side): calls signed with the old one fail with
    /// `AuthenticationFailedException`.
    pub fn rotate_credential(&self, credential: XksCredential) {
        self.set(|state| state.credential = credential);
    }

    /// Sets every external key manager's health (UNAVAILABLE everywhere
    /// makes KMS treat the proxy as unreachable).
    pub fn set_ekm_health(&self, status: EkmHealthStatus) {
        self.set(|state| {
            for d in &mut state.fleet {
                d.health_status = status;
            }
        });
    }

    /// Replaces the fleet GetHealthStatus reports.
    pub fn set_ekm_fleet(&self, fleet: Vec<EkmFleetDetail>) {
        self.set(|state| state.fleet = fleet);
    }

    /// Makes Encrypt return `metadata` as `ciphertextMetadata` (bound into
    /// the tag), or none with `None` (the default). Lengths above 20 are
    /// allowed on purpose, to test that KMS rejects them.
    ///
    /// # Errors
    /// `ValidationException` above 255 bytes, which the AAD layout's
    /// one-byte length cannot carry.
    pub fn set_ciphertext_metadata(&self, metadata: Option<&[u8]>) -> Result<()> {
        if metadata.is_some_and(|m| m.len() > usize::from(u8::MAX)) {
            // Binary: not shown.
            return Err(Error::invalid(
                "ciphertextMetadata",
                Shown::Hidden,
                Constraint::MaxLength(usize::from(u8::MAX)),
            ));
        }
        let metadata = metadata.map(<[u8]>::to_vec);
        self.set(|state| state.ciphertext_metadata = metadata);
        Ok(())
    }

    // ---- counters ------------------------------------------------------

    /// How many calls to `op` arrived (including failed ones).
    pub fn calls(&self, op: XksOperation) -> u64 {
        self.0
            .calls
            .iter()
            .map(|stripe| stripe.0[op_index(op)].load(Ordering::Relaxed))
            .sum()
    }

    /// Sets every counter back to zero.
    pub fn reset_call_counts(&self) {
        for stripe in &self.0.calls {
            for c in &stripe.0 {
                c.store(0, Ordering::Relaxed);
            }
        }
    }

    // ---- the request pipeline -----------------------------------------

    /// Steps 1–5 of the module docs: counts the call, then applies
    /// transport faults, latency, credential, path and injected faults.
    fn admit(&self, call: &XksCall, op: XksOperation) -> Result<(), XksError> {
        let stripe = STRIPE.try_with(|s| *s).unwrap_or(0);
        if let Some(counters) = self.0.calls.get(stripe) {
            counters.0[op_index(op)].fetch_add(1, Ordering::Relaxed);
        }
        let (latency, auth_ok, fault) = {
            let state = self.0.state.load();
            let applies = |scope: &Option<XksOperation>| scope.is_none_or(|s| s == op);
            let transport = state
                .faults
                .iter()
                .find(|(s, e)| {
                    applies(s) && matches!(e, XksError::Unreachable | XksError::InvalidTls)
                })
                .map(|(_, e)| *e);
            if let Some(e) = transport {
                return Err(e);
            }
            let fault = state
                .faults
                .iter()
                .find(|(s, _)| applies(s))
                .map(|(_, e)| *e);
            (state.latency, call.credential == state.credential, fault)
        };
        if latency.delay > call.deadline {
            if latency.sleep {
                std::thread::sleep(call.deadline);
            }
            return Err(XksError::TimedOut);
        }
        if latency.sleep && !latency.delay.is_zero() {
            std::thread::sleep(latency.delay);
        }
        if !auth_ok {
            return Err(XksError::AuthenticationFailed);
        }
        if call.uri.path() != self.0.uri.path() || call.uri.endpoint() != self.0.uri.endpoint() {
            return Err(XksError::InvalidUriPath);
        }
        fault.map_or(Ok(()), Err)
    }
}

/// Looks a key up in `state` and checks spec, usage and status for
/// `usage`; returns its cipher and the `ciphertextMetadata` Encrypt adds,
/// borrowed from the state.
fn usable_cipher<'s>(
    state: &'s State,
    key_id: &XksKeyId,
    usage: XksKeyUsage,
) -> Result<(&'s Cipher, Option<&'s [u8]>), XksError> {
    let key = state.keys.get(key_id).ok_or(XksError::KeyNotFound)?;
    if !key.usages.contains(&usage) {
        return Err(XksError::InvalidKeyUsage);
    }
    let cipher = key.cipher.as_deref().ok_or(XksError::InvalidKeyUsage)?;
    if key.status != XksKeyStatus::Enabled {
        return Err(XksError::InvalidState);
    }
    let metadata = match usage {
        XksKeyUsage::Encrypt => state.ciphertext_metadata.as_deref(),
        _ => None,
    };
    Ok((cipher, metadata))
}

impl ExternalKeyManager for InMemoryExternalKeyManager {
    fn get_health_status(
        &self,
        call: &XksCall,
        _request: &HealthStatusRequest,
    ) -> Result<HealthStatusResponse, XksError> {
        self.admit(call, XksOperation::GetHealthStatus)?;
        let state = self.0.state.load();
        Ok(HealthStatusResponse {
            xks_proxy_fleet_size: 1,
            xks_proxy_vendor: "kms-keystore".to_owned(),
            xks_proxy_model: "InMemoryExternalKeyManager".to_owned(),
            ekm_vendor: "kms-keystore".to_owned(),
            ekm_fleet_details: state.fleet.clone(),
        })
    }

    fn get_key_metadata(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        _request: &KeyMetadataRequest,
    ) -> Result<KeyMetadataResponse, XksError> {
        self.admit(call, XksOperation::GetKeyMetadata)?;
        let state = self.0.state.load();
        let key = state.keys.get(key_id).ok_or(XksError::KeyNotFound)?;
        Ok(KeyMetadataResponse {
            key_spec: key.spec,
            key_usage: key.usages.clone(),
            key_status: key.status,
        })
    }

    fn encrypt(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: XksEncryptRequest,
    ) -> Result<XksEncryptResponse, XksError> {
        let XksEncryptRequest {
            plaintext,
            additional_authenticated_data: aad,
            ..
        } = request;
        // Sealed in the request's own buffer: no copy of the plaintext.
        let request = XksEncryptInPlace {
            request_metadata: RequestMetadataRef::default(),
            additional_authenticated_data: aad.as_deref(),
        };
        let (ciphertext, sealed) = plaintext
            .try_seal_into_ciphertext(|buf| self.encrypt_in_place(call, key_id, &request, buf))?;
        Ok(XksEncryptResponse {
            ciphertext,
            ciphertext_metadata: sealed.ciphertext_metadata().map(<[u8]>::to_vec),
            initialization_vector: sealed.initialization_vector().to_vec(),
            authentication_tag: sealed.authentication_tag().to_vec(),
            ciphertext_data_integrity_value: None,
        })
    }

    fn decrypt(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: XksDecryptRequest,
    ) -> Result<XksDecryptResponse, XksError> {
        let XksDecryptRequest {
            request_metadata: _,
            ciphertext,
            ciphertext_metadata,
            encryption_algorithm: _,
            additional_authenticated_data,
            initialization_vector,
            authentication_tag,
        } = request;
        let borrowed = XksDecryptInPlace {
            request_metadata: RequestMetadataRef::default(),
            additional_authenticated_data: additional_authenticated_data.as_deref(),
            ciphertext_metadata: ciphertext_metadata.as_deref(),
            initialization_vector: &initialization_vector,
            authentication_tag: &authentication_tag,
        };
        // Opened in the request's own buffer (zeroed if the tag fails).
        let mut plaintext = Plaintext::from(ciphertext);
        self.decrypt_in_place(call, key_id, &borrowed, plaintext.as_mut_slice())?;
        Ok(XksDecryptResponse { plaintext })
    }

    /// Seals `buf` in place with no allocation (none without ciphertext
    /// metadata).
    fn encrypt_in_place(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: &XksEncryptInPlace<'_>,
        buf: &mut [u8],
    ) -> Result<XksSealed, XksError> {
        let aad = request.additional_authenticated_data;
        self.admit(call, XksOperation::Encrypt)?;
        if buf.len() > MAX_PLAINTEXT_LEN || aad.is_some_and(|a| a.len() > MAX_AAD_LEN) {
            return Err(XksError::Validation);
        }
        let state = self.0.state.load();
        let (cipher, metadata) = usable_cipher(&state, key_id, XksKeyUsage::Encrypt)?;
        let gcm_aad = gcm_aad(aad, metadata).ok_or(XksError::Validation)?;
        let iv: [u8; NONCE_LEN] = self.0.rng.array();
        let tag = cipher.seal_in_place(&iv, &gcm_aad, buf);
        XksSealed::new(&iv, &tag, metadata)
    }

    /// Opens `buf` in place with no allocation (none without ciphertext
    /// metadata); a ciphertext whose tag fails is wiped.
    fn decrypt_in_place(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: &XksDecryptInPlace<'_>,
        buf: &mut [u8],
    ) -> Result<(), XksError> {
        self.admit(call, XksOperation::Decrypt)?;
        let aad = request.additional_authenticated_data;
        let metadata = request.ciphertext_metadata;
        let iv_len = request.initialization_vector.len();
        if buf.len() > MAX_PLAINTEXT_LEN
            || aad.is_some_and(|a| a.len() > MAX_AAD_LEN)
            || metadata.is_some_and(|m| m.len() > usize::from(u8::MAX))
            || (iv_len != 12 && iv_len != 16)
            || request.authentication_tag.len() != AUTHENTICATION_TAG_LEN
        {
            return Err(XksError::Validation);
        }
        let state = self.0.state.load();
        let (cipher, _) = usable_cipher(&state, key_id, XksKeyUsage::Decrypt)?;
        // This manager only ever issues 12-byte IVs, so a 16-byte one cannot
        // be one of its ciphertexts.
        let iv: &[u8; NONCE_LEN] = request
            .initialization_vector
            .try_into()
            .map_err(|_| XksError::InvalidCiphertext)?;
        let tag: &[u8; TAG_LEN] = request
            .authentication_tag
            .try_into()
            .map_err(|_| XksError::Validation)?;
        let gcm_aad = gcm_aad(aad, metadata).ok_or(XksError::Validation)?;
        cipher
            .open_in_place(iv, &gcm_aad, buf, tag)
            .map_err(|_| XksError::InvalidCiphertext)
    }
}
