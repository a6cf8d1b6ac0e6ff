//! The reference model: what SPEC.md (and the seeds) say KMS must do, as a
//! small pure state machine over indices. It knows nothing of the crate's
//! types; `tests/model.rs` drives it and the real `Kms` side by side.
//!
//! Where SPEC.md leaves the order of two failing checks open, the model
//! follows the order the crate documents on the operation (its rustdoc), and
//! says so. Section references (§) are to SPEC.md; "D<n>" to the decisions in
//! DESIGN.md.

#![allow(
    unreachable_pub,
    reason = "a module of a test crate; pub marks its interface"
)]

use std::collections::{BTreeMap, BTreeSet};

/// An AWS exception name.
pub type Code = &'static str;
/// What an operation should return.
pub type Outcome<T = ()> = Result<T, Code>;

pub const DAY_MS: u64 = 86_400_000;
/// CloudHSM locks `kmsuser` out after this many failed logins (§2 USER_LOCKED_OUT).
pub const MAX_FAILED_LOGINS: u32 = 5;
/// At most ten custom key stores per account and Region (§6).
pub const MAX_STORES: usize = 10;

/// A `kmsuser` password: one a person chose (an index into the test's list)
/// or one KMS rotated it to on connect (§4 kmsuser: "rotates its password to
/// a value only KMS knows"); rotated values are never equal to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pw {
    User(u8),
    Rotated(u64),
}

/// `ConnectionStateType` (§2), FAILED with its `ConnectionErrorCode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conn {
    Disconnected,
    Connecting,
    Connected,
    Failed(Code),
    Disconnecting,
}

impl Conn {
    pub fn name(self) -> &'static str {
        match self {
            Conn::Disconnected => "DISCONNECTED",
            Conn::Connecting => "CONNECTING",
            Conn::Connected => "CONNECTED",
            Conn::Failed(_) => "FAILED",
            Conn::Disconnecting => "DISCONNECTING",
        }
    }

    pub fn error_code(self) -> Option<Code> {
        match self {
            Conn::Failed(c) => Some(c),
            _ => None,
        }
    }
}

/// The state a key owns (§3); `Unavailable` is derived from its store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    Enabled,
    Disabled,
    PendingDeletion { date: u64, days: u32 },
}

/// A modelled CloudHSM cluster with two HSMs in two Availability Zones and
/// the fault switches the tests flip (§4).
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Cluster state ACTIVE (false: DEGRADED).
    pub active: bool,
    /// The security group allows TCP 2223-2225 in and out.
    pub sg_ok: bool,
    pub network: bool,
    pub internal_error: bool,
    /// Each HSM ACTIVE (false: DEGRADED); one per AZ.
    pub hsm_active: [bool; 2],
    /// A subnet has no free address.
    pub subnet_full: bool,
    pub password: Pw,
    pub failed_logins: u32,
    pub locked_out: bool,
    pub logged_in_elsewhere: bool,
    /// KMS is logged in as kmsuser.
    pub session: bool,
    /// The model keys whose material (labelled with the key ARN) is here.
    pub labels: BTreeSet<usize>,
}

impl Cluster {
    /// `provision_ready_cluster`: ACTIVE, two ACTIVE HSMs in two AZs,
    /// `kmsuser` with the first user password.
    pub fn ready() -> Cluster {
        Cluster {
            active: true,
            sg_ok: true,
            network: true,
            internal_error: false,
            hsm_active: [true, true],
            subnet_full: false,
            password: Pw::User(0),
            failed_logins: 0,
            locked_out: false,
            logged_in_elsewhere: false,
            session: false,
            labels: BTreeSet::new(),
        }
    }

    fn active_hsms(&self) -> usize {
        self.hsm_active.iter().filter(|a| **a).count()
    }

    /// Create store, update store, CreateKey: ≥2 ACTIVE HSMs in different
    /// AZs (§4 HSM requirements). The two HSMs are in two AZs.
    fn two_azs(&self) -> bool {
        self.active_hsms() == 2
    }

    /// The configuration check of Create/UpdateCustomKeyStore (§1, §4):
    /// ACTIVE, security group, two HSMs in two AZs.
    fn check_configuration(&self) -> Outcome {
        if !self.active {
            return Err("CloudHsmClusterNotActiveException");
        }
        if !self.sg_ok || !self.two_azs() {
            return Err("CloudHsmClusterInvalidConfigurationException");
        }
        Ok(())
    }

    /// Every call KMS makes over its session: an internal cluster error is
    /// `KMSInternalException` (§4, retry), a network problem
    /// `KMSInvalidStateException` ("KMS cannot communicate", §4).
    fn reachable(&self) -> Outcome {
        if self.internal_error {
            return Err("KMSInternalException");
        }
        if !self.network {
            return Err("KMSInvalidStateException");
        }
        Ok(())
    }

    fn session_valid(&self) -> bool {
        self.session && !self.locked_out
    }
}

/// A proxy failure the tests switch on (one at a time), in the XKS proxy
/// API's terms (§5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyFault {
    /// No TCP connection.
    Unreachable,
    /// The TLS handshake fails.
    InvalidTls,
    /// 429 ThrottlingException.
    Throttling,
    /// 403 AccessDeniedException.
    AccessDenied,
    /// 500 InternalException.
    Internal,
    /// An answer KMS cannot parse.
    Malformed,
}

/// An external key in the proxy's key manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtKey {
    Enabled,
    Disabled,
    Deleted,
}

/// An XKS proxy with its external key manager, reachable at its own
/// endpoint (PUBLIC_ENDPOINT connectivity).
#[derive(Clone, Debug)]
pub struct Proxy {
    pub fault: Option<ProxyFault>,
    /// Every external key manager reports UNAVAILABLE.
    pub fleet_down: bool,
    /// The credential (by index) the proxy accepts.
    pub credential: u8,
    pub keys: Vec<ExtKey>,
}

impl Proxy {
    pub fn new(keys: usize) -> Proxy {
        Proxy {
            fault: None,
            fleet_down: false,
            credential: 0,
            keys: vec![ExtKey::Enabled; keys],
        }
    }
}

/// Why a proxy call failed, before KMS maps it to its own error (§5 table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    Fault(ProxyFault),
    /// 401 AuthenticationFailedException.
    Credential,
    /// 404 KeyNotFoundException.
    KeyNotFound,
    /// 400 InvalidStateException (the external key is disabled).
    KeyDisabled,
    /// GetHealthStatus: every external key manager UNAVAILABLE.
    FleetUnavailable,
}

impl Failure {
    /// Create/UpdateCustomKeyStore (§5 table, first column; a failed TLS
    /// handshake is a failed connection, §5). Where the table has no entry
    /// (AccessDenied) the crate answers XksProxyInvalidConfigurationException.
    fn store_error(self) -> Code {
        match self {
            Failure::Credential => "XksProxyIncorrectAuthenticationCredentialException",
            Failure::Fault(ProxyFault::AccessDenied) => "XksProxyInvalidConfigurationException",
            Failure::Fault(
                ProxyFault::Unreachable | ProxyFault::InvalidTls | ProxyFault::Throttling,
            )
            | Failure::FleetUnavailable => "XksProxyUriUnreachableException",
            Failure::Fault(ProxyFault::Internal | ProxyFault::Malformed)
            | Failure::KeyNotFound
            | Failure::KeyDisabled => "XksProxyInvalidResponseException",
        }
    }

    /// The FAILED code of ConnectCustomKeyStore (§2 XKS codes, §5).
    fn connection_code(self) -> Code {
        match self {
            Failure::Credential => "INVALID_CREDENTIALS",
            Failure::Fault(ProxyFault::AccessDenied) => "XKS_PROXY_ACCESS_DENIED",
            Failure::Fault(ProxyFault::Unreachable | ProxyFault::Throttling)
            | Failure::FleetUnavailable => "XKS_PROXY_NOT_REACHABLE",
            Failure::Fault(ProxyFault::InvalidTls) => "XKS_PROXY_INVALID_TLS_CONFIGURATION",
            Failure::Fault(ProxyFault::Internal | ProxyFault::Malformed)
            | Failure::KeyNotFound
            | Failure::KeyDisabled => "XKS_PROXY_INVALID_RESPONSE",
        }
    }

    /// CreateKey (§5 table, second column; D8 for AccessDenied).
    fn create_key_error(self) -> Code {
        match self {
            Failure::KeyNotFound => "XksKeyNotFoundException",
            Failure::KeyDisabled => "XksKeyInvalidConfigurationException",
            _ => "CustomKeyStoreInvalidStateException",
        }
    }
}

/// Where a store's keys live.
#[derive(Clone, Debug)]
pub enum Backend {
    CloudHsm {
        cluster: usize,
        /// The kmsuser password KMS knows.
        pw: Pw,
    },
    Xks {
        proxy: usize,
        /// The credential (by index) KMS signs with.
        credential: u8,
    },
}

#[derive(Clone, Debug)]
pub struct Store {
    pub name: u8,
    pub backend: Backend,
    /// External key stores: the outcome of the connect sequence, probed
    /// when ConnectCustomKeyStore was called, applied when CONNECTING ends.
    pub probed: Option<Result<(), Code>>,
    pub conn: Conn,
    /// Stepped mode: when the pending CONNECTING/DISCONNECTING ends.
    pub due: Option<u64>,
    pub deleted: bool,
}

#[derive(Clone, Debug)]
pub struct Key {
    /// `None`: AWS_KMS. `Some(store)`: in that custom key store (AWS_CLOUDHSM
    /// or EXTERNAL_KEY_STORE by the store's type).
    pub store: Option<usize>,
    /// EXTERNAL_KEY_STORE keys: the external key (an index into the store's
    /// proxy's keys).
    pub xks_key: Option<usize>,
    pub life: Life,
    pub deleted: bool,
}

/// The key state DescribeKey shows (§3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
    Unavailable,
}

/// Store-side part of an UpdateCustomKeyStore request.
#[derive(Clone, Copy, Debug)]
pub struct Update {
    pub name: Option<u8>,
    /// `Some(None)`: a password that breaks the 7..32 length rule.
    pub password: Option<Option<u8>>,
    pub cluster: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub now: u64,
    /// Stepped mode: how long a connection change takes, in ms.
    pub step_ms: Option<u64>,
    pub clusters: Vec<Cluster>,
    pub proxies: Vec<Proxy>,
    pub stores: Vec<Store>,
    pub keys: Vec<Key>,
    /// Aliases (by the test's name index) and the key each points to.
    pub aliases: BTreeMap<u8, usize>,
    next_rotated: u64,
}

impl Model {
    pub fn new(now: u64, step_ms: Option<u64>) -> Model {
        Model {
            now,
            step_ms,
            clusters: Vec::new(),
            proxies: Vec::new(),
            stores: Vec::new(),
            keys: Vec::new(),
            aliases: BTreeMap::new(),
            next_rotated: 0,
        }
    }

    // ----- Observations --------------------------------------------------

    fn store_connected(&self, s: usize) -> bool {
        self.stores[s].conn == Conn::Connected
    }

    /// §3: PendingDeletion shows whatever the store; otherwise a key whose
    /// store is not CONNECTED is Unavailable.
    pub fn key_state(&self, k: usize) -> KeyState {
        let key = &self.keys[k];
        match key.life {
            Life::PendingDeletion { .. } => KeyState::PendingDeletion,
            _ if key.store.is_some_and(|s| !self.store_connected(s)) => KeyState::Unavailable,
            Life::Enabled => KeyState::Enabled,
            Life::Disabled => KeyState::Disabled,
        }
    }

    /// The cluster of a CloudHSM key.
    pub fn key_cluster(&self, k: usize) -> Option<usize> {
        self.keys[k].store.and_then(|s| self.store_cluster(s))
    }

    /// The cluster of a CloudHSM store.
    pub fn store_cluster(&self, s: usize) -> Option<usize> {
        match self.stores[s].backend {
            Backend::CloudHsm { cluster, .. } => Some(cluster),
            Backend::Xks { .. } => None,
        }
    }

    /// A call through `proxy` signed with `credential`, on external key
    /// `key` if any, in the order the in-memory manager documents: transport
    /// faults, the credential, any other fault, then the external key.
    fn proxy_call(&self, proxy: usize, credential: u8, key: Option<usize>) -> Result<(), Failure> {
        let p = &self.proxies[proxy];
        if let Some(f @ (ProxyFault::Unreachable | ProxyFault::InvalidTls)) = p.fault {
            return Err(Failure::Fault(f));
        }
        if p.credential != credential {
            return Err(Failure::Credential);
        }
        if let Some(f) = p.fault {
            return Err(Failure::Fault(f));
        }
        match key.map(|k| p.keys[k]) {
            Some(ExtKey::Deleted) => Err(Failure::KeyNotFound),
            Some(ExtKey::Disabled) => Err(Failure::KeyDisabled),
            _ => Ok(()),
        }
    }

    /// A call through external key store `s`'s proxy.
    fn store_call(&self, s: usize, key: Option<usize>) -> Result<(), Failure> {
        match self.stores[s].backend {
            Backend::Xks { proxy, credential } => self.proxy_call(proxy, credential, key),
            Backend::CloudHsm { .. } => Ok(()),
        }
    }

    /// GetHealthStatus: the call, then at least one external key manager
    /// not UNAVAILABLE (§5).
    fn health_check(&self, proxy: usize, credential: u8) -> Result<(), Failure> {
        self.proxy_call(proxy, credential, None)?;
        if self.proxies[proxy].fleet_down {
            return Err(Failure::FleetUnavailable);
        }
        Ok(())
    }

    /// The §3 table for cryptographic operations, then the backing key:
    /// Disabled is `DisabledException` [1]; PendingDeletion (D6) and
    /// Unavailable [11] are `KMSInvalidStateException`; then the cluster must
    /// be reachable, KMS logged in, an HSM ACTIVE and the key's material
    /// present (§4; D5: a lost backing key fails the call, the state stays).
    pub fn crypto_check(&self, k: usize) -> Outcome {
        match self.key_state(k) {
            KeyState::Enabled => {}
            KeyState::Disabled => return Err("DisabledException"),
            KeyState::PendingDeletion | KeyState::Unavailable => {
                return Err("KMSInvalidStateException");
            }
        }
        if let Some(c) = self.key_cluster(k) {
            let cl = &self.clusters[c];
            cl.reachable()?;
            if !cl.session_valid() || cl.active_hsms() == 0 || !cl.labels.contains(&k) {
                return Err("KMSInvalidStateException");
            }
        }
        // D10: every proxy failure in a cryptographic operation (the
        // external key disabled or gone included, §5) is KMSInvalidStateException.
        if let (Some(s), Some(x)) = (self.keys[k].store, self.keys[k].xks_key) {
            self.store_call(s, Some(x))
                .map_err(|_| "KMSInvalidStateException")?;
        }
        Ok(())
    }

    /// Whether a ciphertext made under `k` decrypts now, and if not, the
    /// error. A blob of a deleted key: `InvalidCiphertextException` (the
    /// crate's documented rule: a blob naming a key this KMS no longer has
    /// was not made here).
    pub fn decrypt(&self, k: usize) -> Outcome {
        if self.keys[k].deleted {
            return Err("InvalidCiphertextException");
        }
        self.crypto_check(k)
    }

    fn live_key(&self, k: usize) -> Outcome {
        if self.keys[k].deleted {
            Err("NotFoundException")
        } else {
            Ok(())
        }
    }

    // ----- Key operations --------------------------------------------------

    /// Encrypt and GenerateDataKey.
    pub fn encrypt(&self, k: usize) -> Outcome {
        self.live_key(k)?;
        self.crypto_check(k)
    }

    /// ReEncrypt: the source as Decrypt, then the destination as Encrypt.
    pub fn re_encrypt(&self, src: usize, dest: usize) -> Outcome {
        self.decrypt(src)?;
        self.encrypt(dest)
    }

    /// CreateKey. AWS_KMS always works. In a CloudHSM store (§1 CreateKey,
    /// §4): the store exists, is CONNECTED, then the cluster's checks in the
    /// order the crate documents (reachable, two HSMs in two AZs, session).
    ///
    /// With `xks_key` (origin EXTERNAL_KEY_STORE) the store must be an
    /// external key store (UnsupportedOperationException otherwise, the
    /// candidate §1 names; likewise AWS_CLOUDHSM needs a CloudHSM store), be
    /// CONNECTED, no other key in it may use the external key
    /// (XksKeyAlreadyInUseException), and the proxy's GetKeyMetadata must
    /// find the key ENABLED (§5).
    pub fn create_key(&mut self, store: Option<usize>, xks_key: Option<usize>) -> Outcome<usize> {
        if let Some(s) = store {
            let st = self
                .stores
                .get(s)
                .ok_or("CustomKeyStoreNotFoundException")?;
            if st.deleted {
                return Err("CustomKeyStoreNotFoundException");
            }
            if matches!(st.backend, Backend::Xks { .. }) != xks_key.is_some() {
                return Err("UnsupportedOperationException");
            }
            if st.conn != Conn::Connected {
                return Err("CustomKeyStoreInvalidStateException");
            }
            match st.backend {
                Backend::CloudHsm { cluster, .. } => {
                    let cl = &self.clusters[cluster];
                    cl.reachable()?;
                    if !cl.two_azs() {
                        return Err("CloudHsmClusterInvalidConfigurationException");
                    }
                    if !cl.session_valid() {
                        return Err("KMSInvalidStateException");
                    }
                }
                Backend::Xks { .. } => {
                    let in_use = self
                        .keys
                        .iter()
                        .any(|k| !k.deleted && k.store == Some(s) && k.xks_key == xks_key);
                    if in_use {
                        return Err("XksKeyAlreadyInUseException");
                    }
                    self.store_call(s, xks_key)
                        .map_err(Failure::create_key_error)?;
                }
            }
        }
        let k = self.keys.len();
        self.keys.push(Key {
            store,
            xks_key,
            life: Life::Enabled,
            deleted: false,
        });
        if let Some(c) = self.key_cluster(k) {
            self.clusters[c].labels.insert(k);
        }
        Ok(k)
    }

    /// EnableKey / DisableKey: not while PendingDeletion [3]; on an
    /// Unavailable key it succeeds and shows on reconnect [12].
    pub fn set_enabled(&mut self, k: usize, enabled: bool) -> Outcome {
        self.live_key(k)?;
        let key = &mut self.keys[k];
        if let Life::PendingDeletion { .. } = key.life {
            return Err("KMSInvalidStateException");
        }
        key.life = if enabled {
            Life::Enabled
        } else {
            Life::Disabled
        };
        Ok(())
    }

    /// ScheduleKeyDeletion: the window is 7–30 days (D1, checked first).
    pub fn schedule_deletion(&mut self, k: usize, days: u32) -> Outcome {
        if !(7..=30).contains(&days) {
            return Err("ValidationException");
        }
        self.live_key(k)?;
        let now = self.now;
        let key = &mut self.keys[k];
        if let Life::PendingDeletion { .. } = key.life {
            return Err("KMSInvalidStateException");
        }
        key.life = Life::PendingDeletion {
            date: now + u64::from(days) * DAY_MS,
            days,
        };
        Ok(())
    }

    /// CancelKeyDeletion: only from PendingDeletion [4]; the key comes back
    /// Disabled (§1 key lifecycle).
    pub fn cancel_deletion(&mut self, k: usize) -> Outcome {
        self.live_key(k)?;
        let key = &mut self.keys[k];
        match key.life {
            Life::PendingDeletion { .. } => {
                key.life = Life::Disabled;
                Ok(())
            }
            _ => Err("KMSInvalidStateException"),
        }
    }

    // ----- Aliases -----------------------------------------------------------

    /// CreateAlias (§1 aliases, the crate's rustdoc order): the key must
    /// exist (`NotFoundException`), the name be new
    /// (`AlreadyExistsException`), and the key not be pending deletion
    /// (`KMSInvalidStateException`; disabled or unavailable is fine).
    #[allow(
        dead_code,
        reason = "tests/shuttle.rs uses it; tests/model.rs draws no alias operations yet"
    )]
    pub fn create_alias(&mut self, a: u8, k: usize) -> Outcome {
        self.live_key(k)?;
        if self.aliases.contains_key(&a) {
            return Err("AlreadyExistsException");
        }
        if let Life::PendingDeletion { .. } = self.keys[k].life {
            return Err("KMSInvalidStateException");
        }
        self.aliases.insert(a, k);
        Ok(())
    }

    /// DeleteAlias: whatever the key's state; an unknown alias is
    /// `NotFoundException`.
    #[allow(
        dead_code,
        reason = "tests/shuttle.rs uses it; tests/model.rs draws no alias operations yet"
    )]
    pub fn delete_alias(&mut self, a: u8) -> Outcome {
        self.aliases.remove(&a).map(drop).ok_or("NotFoundException")
    }

    // ----- Store operations ------------------------------------------------

    fn live_store(&self, s: usize) -> Outcome<&Store> {
        match self.stores.get(s) {
            Some(st) if !st.deleted => Ok(st),
            _ => Err("CustomKeyStoreNotFoundException"),
        }
    }

    fn name_taken(&self, name: u8, except: Option<usize>) -> bool {
        self.stores
            .iter()
            .enumerate()
            .any(|(i, st)| !st.deleted && st.name == name && Some(i) != except)
    }

    /// CreateCustomKeyStore (§1, §4). The request's shape first (the
    /// password's length: `ValidationException` before any check that needs
    /// state, as AWS validates the request's syntax first), then the limit,
    /// the name, then the cluster
    /// (existence, ACTIVE, configuration), its use by another store, and the
    /// trust anchor. `cluster` may name no cluster; `password` `None` breaks
    /// the length rule.
    pub fn create_store(
        &mut self,
        name: u8,
        cluster: usize,
        right_trust_anchor: bool,
        password: Option<u8>,
    ) -> Outcome<usize> {
        let password = password.ok_or("ValidationException")?;
        if self.stores.iter().filter(|s| !s.deleted).count() >= MAX_STORES {
            return Err("LimitExceededException");
        }
        if self.name_taken(name, None) {
            return Err("CustomKeyStoreNameInUseException");
        }
        let cl = self
            .clusters
            .get(cluster)
            .ok_or("CloudHsmClusterNotFoundException")?;
        cl.check_configuration()?;
        let in_use = (0..self.stores.len())
            .any(|s| !self.stores[s].deleted && self.store_cluster(s) == Some(cluster));
        if in_use {
            return Err("CloudHsmClusterInUseException");
        }
        if !right_trust_anchor {
            return Err("IncorrectTrustAnchorException");
        }
        self.stores.push(Store {
            name,
            backend: Backend::CloudHsm {
                cluster,
                pw: Pw::User(password),
            },
            probed: None,
            conn: Conn::Disconnected,
            due: None,
            deleted: false,
        });
        Ok(self.stores.len() - 1)
    }

    /// CreateCustomKeyStore for an external key store with PUBLIC_ENDPOINT
    /// connectivity at `proxy`'s endpoint (§1): the limit, the name, the
    /// endpoint and path unused by another store (XksProxyUriInUseException),
    /// then GetHealthStatus through the proxy (§5 table, first column).
    /// `proxy` may name an endpoint where nothing answers.
    pub fn create_xks_store(&mut self, name: u8, proxy: usize, credential: u8) -> Outcome<usize> {
        if self.stores.iter().filter(|s| !s.deleted).count() >= MAX_STORES {
            return Err("LimitExceededException");
        }
        if self.name_taken(name, None) {
            return Err("CustomKeyStoreNameInUseException");
        }
        let in_use = self.stores.iter().any(|s| {
            !s.deleted && matches!(s.backend, Backend::Xks { proxy: p, .. } if p == proxy)
        });
        if in_use {
            return Err("XksProxyUriInUseException");
        }
        if proxy >= self.proxies.len() {
            return Err("XksProxyUriUnreachableException");
        }
        self.health_check(proxy, credential)
            .map_err(Failure::store_error)?;
        self.stores.push(Store {
            name,
            backend: Backend::Xks { proxy, credential },
            probed: None,
            conn: Conn::Disconnected,
            due: None,
            deleted: false,
        });
        Ok(self.stores.len() - 1)
    }

    /// ConnectCustomKeyStore (§1, §2, D4): a no-op when CONNECTED or
    /// CONNECTING, refused in FAILED and DISCONNECTING; a cluster that is not
    /// ACTIVE or lacks the security-group rules is thrown at once (the store
    /// stays DISCONNECTED, §1 "some failures are detected quickly").
    pub fn connect(&mut self, s: usize) -> Outcome {
        let st = self.live_store(s)?;
        match st.conn {
            Conn::Connected | Conn::Connecting => return Ok(()),
            Conn::Failed(_) | Conn::Disconnecting => {
                return Err("CustomKeyStoreInvalidStateException");
            }
            Conn::Disconnected => {}
        }
        match st.backend {
            Backend::CloudHsm { cluster, .. } => {
                let cl = &self.clusters[cluster];
                if !cl.active {
                    return Err("CloudHsmClusterNotActiveException");
                }
                if !cl.sg_ok {
                    return Err("CloudHsmClusterInvalidConfigurationException");
                }
            }
            // KMS's test request to the proxy (§1 XKS connect) is made when
            // Connect is called; its outcome shows when CONNECTING ends.
            Backend::Xks { proxy, credential } => {
                let outcome = self
                    .health_check(proxy, credential)
                    .map_err(Failure::connection_code);
                self.stores[s].probed = Some(outcome);
            }
        }
        self.stores[s].conn = Conn::Connecting;
        match self.step_ms {
            None => self.finish(s),
            Some(ms) => self.stores[s].due = Some(self.now + ms),
        }
        Ok(())
    }

    /// DisconnectCustomKeyStore (§1): refused when DISCONNECTED or
    /// DISCONNECTING.
    pub fn disconnect(&mut self, s: usize) -> Outcome {
        let st = self.live_store(s)?;
        if matches!(st.conn, Conn::Disconnected | Conn::Disconnecting) {
            return Err("CustomKeyStoreInvalidStateException");
        }
        self.stores[s].conn = Conn::Disconnecting;
        match self.step_ms {
            None => self.finish(s),
            Some(ms) => self.stores[s].due = Some(self.now + ms),
        }
        Ok(())
    }

    /// The end of CONNECTING or DISCONNECTING. Connecting runs the §2
    /// checks in the order the crate documents; a blocker that appeared
    /// after the call ends FAILED (NETWORK_ERRORS for the security group,
    /// INTERNAL_ERROR otherwise). Success logs KMS in and rotates the
    /// password; a wrong password counts as a failed login.
    fn finish(&mut self, s: usize) {
        let st = &self.stores[s];
        let (c, known) = match st.backend {
            Backend::CloudHsm { cluster, pw } => (cluster, pw),
            Backend::Xks { .. } => {
                let conn = st.conn;
                let probed = self.stores[s].probed.take();
                self.stores[s].conn = match (conn, probed) {
                    (Conn::Disconnecting, _) => Conn::Disconnected,
                    (Conn::Connecting, Some(Ok(()))) => Conn::Connected,
                    (Conn::Connecting, Some(Err(code))) => Conn::Failed(code),
                    (Conn::Connecting, None) => Conn::Failed("INTERNAL_ERROR"),
                    (other, _) => other,
                };
                return;
            }
        };
        if st.conn == Conn::Disconnecting {
            self.clusters[c].session = false;
            self.stores[s].conn = Conn::Disconnected;
            return;
        }
        if st.conn != Conn::Connecting {
            return;
        }
        let cl = &mut self.clusters[c];
        let code = if !cl.active {
            Some("INTERNAL_ERROR")
        } else if !cl.sg_ok {
            Some("NETWORK_ERRORS")
        } else if cl.internal_error {
            Some("INTERNAL_ERROR")
        } else if !cl.network {
            Some("NETWORK_ERRORS")
        } else if cl.subnet_full {
            Some("INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET")
        } else if cl.active_hsms() == 0 {
            Some("INSUFFICIENT_CLOUDHSM_HSMS")
        } else if cl.locked_out {
            Some("USER_LOCKED_OUT")
        } else if cl.logged_in_elsewhere {
            Some("USER_LOGGED_IN")
        } else if cl.password != known {
            cl.failed_logins += 1;
            if cl.failed_logins >= MAX_FAILED_LOGINS {
                cl.locked_out = true;
            }
            cl.session = false;
            Some("INVALID_CREDENTIALS")
        } else {
            None
        };
        match code {
            Some(code) => self.stores[s].conn = Conn::Failed(code),
            None => {
                let rotated = Pw::Rotated(self.next_rotated);
                self.next_rotated += 1;
                cl.password = rotated;
                cl.failed_logins = 0;
                cl.session = true;
                self.stores[s].backend = Backend::CloudHsm {
                    cluster: c,
                    pw: rotated,
                };
                self.stores[s].conn = Conn::Connected;
            }
        }
    }

    /// UpdateCustomKeyStore (§1, §2 table, D3): the password's shape first
    /// (`ValidationException`, even for an unknown store: the request's
    /// syntax), then the store, that it is a CloudHSM store. The name may
    /// change while CONNECTED or DISCONNECTED; the password and the cluster
    /// need DISCONNECTED. Then the name's uniqueness, and a new cluster's
    /// configuration and backup history.
    pub fn update_store(&mut self, s: usize, u: Update) -> Outcome {
        let password = match u.password {
            None => None,
            Some(None) => return Err("ValidationException"),
            Some(Some(p)) => Some(p),
        };
        let st = self.live_store(s)?;
        let Backend::CloudHsm { cluster, .. } = st.backend else {
            return Err("ValidationException");
        };
        let disconnected_only = u.password.is_some() || u.cluster.is_some();
        let allowed = if disconnected_only {
            st.conn == Conn::Disconnected
        } else {
            matches!(st.conn, Conn::Connected | Conn::Disconnected)
        };
        if !allowed {
            return Err("CustomKeyStoreInvalidStateException");
        }
        if let Some(name) = u.name
            && self.name_taken(name, Some(s))
        {
            return Err("CustomKeyStoreNameInUseException");
        }
        if let Some(c) = u.cluster {
            let cl = self
                .clusters
                .get(c)
                .ok_or("CloudHsmClusterNotFoundException")?;
            cl.check_configuration()?;
            // Every cluster here is unrelated to every other (none is
            // restored from another's backup).
            if c != cluster {
                return Err("CloudHsmClusterNotRelatedException");
            }
        }
        let st = &mut self.stores[s];
        if let Some(name) = u.name {
            st.name = name;
        }
        if let Some(p) = password {
            st.backend = Backend::CloudHsm {
                cluster,
                pw: Pw::User(p),
            };
        }
        Ok(())
    }

    /// UpdateCustomKeyStore of an external key store: a new name and/or
    /// credential, both allowed while CONNECTED or DISCONNECTED (§2 table,
    /// D3). A changed credential is tried with GetHealthStatus first (§1:
    /// KMS calls the proxy during Update; §5 table, first column).
    pub fn update_xks_store(
        &mut self,
        s: usize,
        name: Option<u8>,
        credential: Option<u8>,
    ) -> Outcome {
        let st = self.live_store(s)?;
        if !matches!(st.conn, Conn::Connected | Conn::Disconnected) {
            return Err("CustomKeyStoreInvalidStateException");
        }
        if let Some(name) = name
            && self.name_taken(name, Some(s))
        {
            return Err("CustomKeyStoreNameInUseException");
        }
        let Backend::Xks {
            proxy,
            credential: old,
        } = st.backend
        else {
            return Err("ValidationException");
        };
        if let Some(c) = credential
            && c != old
        {
            self.health_check(proxy, c).map_err(Failure::store_error)?;
        }
        let st = &mut self.stores[s];
        if let Some(name) = name {
            st.name = name;
        }
        if let Some(c) = credential {
            st.backend = Backend::Xks {
                proxy,
                credential: c,
            };
        }
        Ok(())
    }

    /// DeleteCustomKeyStore (§1): DISCONNECTED, and no KMS keys in any state.
    pub fn delete_store(&mut self, s: usize) -> Outcome {
        let st = self.live_store(s)?;
        if st.conn != Conn::Disconnected {
            return Err("CustomKeyStoreInvalidStateException");
        }
        if self.keys.iter().any(|k| !k.deleted && k.store == Some(s)) {
            return Err("CustomKeyStoreHasCMKsException");
        }
        self.stores[s].deleted = true;
        Ok(())
    }

    // ----- The world ---------------------------------------------------------

    /// Time passes: pending connection changes finish, then keys whose
    /// deletion date has come are deleted with their aliases; for a CloudHSM
    /// key KMS makes a best effort to delete the material, which fails when
    /// the cluster is unreachable or KMS is not logged in (§1 key lifecycle).
    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
        for s in 0..self.stores.len() {
            if self.stores[s].due.is_some_and(|d| d <= self.now) {
                self.stores[s].due = None;
                self.finish(s);
            }
        }
        for k in 0..self.keys.len() {
            let due =
                matches!(self.keys[k].life, Life::PendingDeletion { date, .. } if date <= self.now);
            if self.keys[k].deleted || !due {
                continue;
            }
            self.keys[k].deleted = true;
            self.aliases.retain(|_, target| *target != k);
            if let Some(c) = self.key_cluster(k) {
                let cl = &mut self.clusters[c];
                if cl.reachable().is_ok() && cl.session_valid() {
                    cl.labels.remove(&k);
                }
            }
        }
    }

    /// The cluster's `changePswd` for kmsuser: KMS's session ends, the
    /// failed-login count and any lockout are cleared.
    pub fn change_password(&mut self, c: usize, p: u8) {
        let cl = &mut self.clusters[c];
        cl.password = Pw::User(p);
        cl.failed_logins = 0;
        cl.locked_out = false;
        cl.session = false;
    }

    pub fn lock_out(&mut self, c: usize) {
        let cl = &mut self.clusters[c];
        cl.locked_out = true;
        cl.failed_logins = cl.failed_logins.max(MAX_FAILED_LOGINS);
        cl.session = false;
    }

    /// Deletes a key's material from its cluster on purpose.
    pub fn delete_material(&mut self, k: usize) -> Outcome {
        let c = self
            .key_cluster(k)
            .ok_or("CloudHsmResourceNotFoundException")?;
        if self.clusters[c].labels.remove(&k) {
            Ok(())
        } else {
            Err("CloudHsmResourceNotFoundException")
        }
    }
}
