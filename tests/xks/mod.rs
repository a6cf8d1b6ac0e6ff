//! Shared setup for the external key store tests: a KMS on a manual clock,
//! in-memory external key managers attached at proxy endpoints, and request
//! builders.
#![allow(dead_code, reason = "each test file uses a different subset")]

use std::sync::Arc;
use std::time::Duration;

use kms_keystore::xks::{
    ExternalKeyManager, HealthStatusRequest, HealthStatusResponse, InMemoryExternalKeyManager,
    KeyMetadataRequest, KeyMetadataResponse, VpcEndpointService, XksCall, XksCredential,
    XksDecryptRequest, XksDecryptResponse, XksEncryptRequest, XksEncryptResponse, XksError,
    XksProxyUri,
};
use kms_keystore::{
    ConnectionStateType, CreateCustomKeyStoreRequest, CreateKeyRequest, CustomKeyStoresListEntry,
    DecryptRequest, DescribeCustomKeyStoresRequest, EncryptRequest, Kms, KmsConfig, ManualClock,
    SecretString, XksProxyAuthenticationCredential, XksProxyConnectivityType,
};

pub(crate) const ENDPOINT: &str = "https://xks.example.com";
pub(crate) const PATH: &str = "/kms/xks/v1";
pub(crate) const ACCESS_KEY_ID: &str = "ABCDEFGHIJKLMNOPQRST";
/// A secret planted to prove it never shows up in any output.
pub(crate) const SECRET: &str = "PLANTEDsecretPLANTEDsecretPLANTEDsecret1234";
pub(crate) const VPC_ENDPOINT: &str = "https://xks-private.example.com";
pub(crate) const VPC_SERVICE: &str = "com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0";
pub(crate) const EXTERNAL_KEY: &str = "bb8562717f809024";

pub(crate) struct Fixture {
    pub(crate) kms: Kms,
    pub(crate) clock: ManualClock,
}

/// A KMS with a manual clock and a seed.
pub(crate) fn fixture() -> Fixture {
    fixture_with(|c| c)
}

/// As [`fixture`], with the configuration adjusted by `f`.
pub(crate) fn fixture_with(f: impl FnOnce(KmsConfig) -> KmsConfig) -> Fixture {
    let clock = ManualClock::default();
    let config = KmsConfig::new("111122223333", "us-west-2")
        .unwrap()
        .with_clock(clock.clone())
        .with_seed(7);
    Fixture {
        kms: Kms::new(f(config)),
        clock,
    }
}

pub(crate) fn credential() -> XksCredential {
    XksCredential::new(ACCESS_KEY_ID, SECRET).unwrap()
}

/// An external key manager at `endpoint` + [`PATH`], accepting the
/// standard credential, attached to the KMS's network, holding an AES key
/// [`EXTERNAL_KEY`].
pub(crate) fn proxy_at(kms: &Kms, endpoint: &str) -> InMemoryExternalKeyManager {
    let ekm = InMemoryExternalKeyManager::new(
        XksProxyUri::new(endpoint, PATH).unwrap(),
        credential(),
        Some(11),
    );
    ekm.add_aes_key(EXTERNAL_KEY).unwrap();
    kms.xks_network().attach(endpoint, Arc::new(ekm.clone()));
    ekm
}

pub(crate) fn proxy(kms: &Kms) -> InMemoryExternalKeyManager {
    proxy_at(kms, ENDPOINT)
}

pub(crate) fn request_credential() -> XksProxyAuthenticationCredential {
    XksProxyAuthenticationCredential {
        access_key_id: ACCESS_KEY_ID.into(),
        raw_secret_access_key: SecretString::from(SECRET),
    }
}

/// CreateCustomKeyStore for a PUBLIC_ENDPOINT store at `endpoint`.
pub(crate) fn public_request(name: &str, endpoint: &str) -> CreateCustomKeyStoreRequest {
    CreateCustomKeyStoreRequest {
        custom_key_store_name: name.into(),
        custom_key_store_type: Some(kms_keystore::CustomKeyStoreType::ExternalKeyStore),
        xks_proxy_uri_endpoint: Some(endpoint.into()),
        xks_proxy_uri_path: Some(PATH.into()),
        xks_proxy_authentication_credential: Some(request_credential()),
        xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
        ..Default::default()
    }
}

/// CreateCustomKeyStore for a VPC_ENDPOINT_SERVICE store.
pub(crate) fn vpc_request(
    name: &str,
    endpoint: &str,
    service: &str,
) -> CreateCustomKeyStoreRequest {
    CreateCustomKeyStoreRequest {
        xks_proxy_connectivity: Some(XksProxyConnectivityType::VpcEndpointService),
        xks_proxy_vpc_endpoint_service_name: Some(service.into()),
        ..public_request(name, endpoint)
    }
}

/// Registers a healthy VPC endpoint service `service` in front of `endpoint`.
pub(crate) fn vpc_service(kms: &Kms, service: &str, endpoint: &str) {
    kms.xks_network()
        .register_vpc_endpoint_service(service, VpcEndpointService::new(endpoint));
}

/// Creates a PUBLIC store named `name` at [`ENDPOINT`] and returns its id.
pub(crate) fn create_store(kms: &Kms, name: &str) -> String {
    kms.create_custom_key_store(public_request(name, ENDPOINT))
        .unwrap()
        .custom_key_store_id
        .to_string()
}

/// A PUBLIC store with its proxy, connected.
pub(crate) fn connected_store(kms: &Kms) -> (String, InMemoryExternalKeyManager) {
    let ekm = proxy(kms);
    let id = create_store(kms, "xks");
    kms.connect_custom_key_store(&id).unwrap();
    assert_eq!(
        describe(kms, &id).connection_state,
        ConnectionStateType::Connected
    );
    (id, ekm)
}

pub(crate) fn describe(kms: &Kms, id: &str) -> CustomKeyStoresListEntry {
    kms.describe_custom_key_stores(DescribeCustomKeyStoresRequest {
        custom_key_store_id: Some(id.into()),
        ..Default::default()
    })
    .unwrap()
    .custom_key_stores
    .remove(0)
}

pub(crate) fn xks_key_request(store: &str, xks_key_id: &str) -> CreateKeyRequest {
    CreateKeyRequest {
        origin: Some(kms_keystore::OriginType::ExternalKeyStore),
        custom_key_store_id: Some(store.into()),
        xks_key_id: Some(xks_key_id.into()),
        ..Default::default()
    }
}

/// A KMS key backed by `xks_key_id` in `store`; returns its ARN.
pub(crate) fn xks_key(kms: &Kms, store: &str, xks_key_id: &str) -> String {
    kms.create_key(xks_key_request(store, xks_key_id))
        .unwrap()
        .key_metadata
        .arn
}

pub(crate) fn encrypt(kms: &Kms, key: &str, plaintext: &str) -> kms_keystore::Result<Vec<u8>> {
    kms.encrypt(EncryptRequest {
        key_id: key.into(),
        plaintext: plaintext.into(),
        ..Default::default()
    })
    .map(|r| r.ciphertext_blob)
}

pub(crate) fn decrypt(kms: &Kms, blob: &[u8]) -> kms_keystore::Result<Vec<u8>> {
    kms.decrypt(DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        ..Default::default()
    })
    .map(|r| r.plaintext.expose_secret().to_vec())
}

/// A long simulated latency: any call times out, without waiting.
pub(crate) const FOREVER: Duration = Duration::from_secs(3600);

/// A proxy wrapper that knows whether a call is in progress, so a test can
/// prove that other work finished *during* a slow proxy call, and that can
/// hold calls inside the proxy until the test releases them (so the test
/// does not depend on how fast a loaded machine runs its threads).
#[derive(Debug)]
pub(crate) struct Tracked {
    inner: InMemoryExternalKeyManager,
    in_flight: std::sync::atomic::AtomicUsize,
    held: std::sync::Mutex<bool>,
    gate: std::sync::Condvar,
}

impl Tracked {
    /// Wraps `inner` and attaches the wrapper at `endpoint` instead of it.
    pub(crate) fn attach(
        kms: &Kms,
        endpoint: &str,
        inner: InMemoryExternalKeyManager,
    ) -> Arc<Tracked> {
        let tracked = Arc::new(Tracked {
            inner,
            in_flight: Default::default(),
            held: std::sync::Mutex::new(false),
            gate: std::sync::Condvar::new(),
        });
        kms.xks_network().attach(endpoint, tracked.clone());
        tracked
    }

    /// How many calls are inside the proxy now.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// From now on, calls wait inside the proxy until [`Tracked::release`].
    pub(crate) fn hold(&self) {
        *self.held.lock().unwrap() = true;
    }

    /// Lets held calls (and later ones) through.
    pub(crate) fn release(&self) {
        *self.held.lock().unwrap() = false;
        self.gate.notify_all();
    }

    /// Waits (at most 30 s) until `n` calls are inside the proxy.
    pub(crate) fn wait_in_flight(&self, n: usize) {
        let started = std::time::Instant::now();
        while self.in_flight() < n {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "only {} of {n} calls reached the proxy",
                self.in_flight()
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn track<T>(&self, f: impl FnOnce() -> T) -> T {
        use std::sync::atomic::Ordering::SeqCst;
        self.in_flight.fetch_add(1, SeqCst);
        let mut held = self.held.lock().unwrap();
        while *held {
            held = self.gate.wait(held).unwrap();
        }
        drop(held);
        let out = f();
        self.in_flight.fetch_sub(1, SeqCst);
        out
    }
}

impl ExternalKeyManager for Tracked {
    fn get_health_status(
        &self,
        call: &XksCall,
        request: &HealthStatusRequest,
    ) -> Result<HealthStatusResponse, XksError> {
        self.track(|| self.inner.get_health_status(call, request))
    }

    fn get_key_metadata(
        &self,
        call: &XksCall,
        key_id: &kms_keystore::XksKeyId,
        request: &KeyMetadataRequest,
    ) -> Result<KeyMetadataResponse, XksError> {
        self.track(|| self.inner.get_key_metadata(call, key_id, request))
    }

    fn encrypt(
        &self,
        call: &XksCall,
        key_id: &kms_keystore::XksKeyId,
        request: XksEncryptRequest,
    ) -> Result<XksEncryptResponse, XksError> {
        self.track(|| self.inner.encrypt(call, key_id, request))
    }

    fn decrypt(
        &self,
        call: &XksCall,
        key_id: &kms_keystore::XksKeyId,
        request: XksDecryptRequest,
    ) -> Result<XksDecryptResponse, XksError> {
        self.track(|| self.inner.decrypt(call, key_id, request))
    }
}
