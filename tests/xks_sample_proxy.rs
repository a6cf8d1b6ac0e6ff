//! Chain 2: kms-keystore, through its HTTP XKS client, against AWS's
//! sample XKS proxy (aws-samples/aws-kms-xks-proxy) on SoftHSMv2 — a real
//! external key manager that is not ours. Run by `tests/xks_peer/chain2.sh`,
//! which builds the proxy and makes the SoftHSM token and keys, then runs
//! this test with `--ignored` and these variables:
//!
//! - `XKS_SAMPLE_PROXY_BIN`: the sample proxy's binary;
//! - `XKS_SAMPLE_WORKDIR`: a directory holding `softhsm2.conf` (the token)
//!   where the test writes the proxy's settings and log;
//! - `XKS_SAMPLE_SOFTHSM_LIB`, `XKS_SAMPLE_USER_PIN`: the PKCS#11 module and
//!   the token's user PIN.
//!
//! The token holds the AES-256 keys `foo` (every usage), `encrypt_only_key`
//! (no DECRYPT) and `impotent_key` (neither). The test starts and stops the
//! proxy itself (plain HTTP on loopback, allowed explicitly: the sample
//! proxy's TLS is not what this chain checks).
#![cfg(feature = "xks-http")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kms_keystore::xks::http::{HttpXksClient, HttpXksClientConfig};
use kms_keystore::{ConnectionErrorCode, ConnectionStateType, Kms, KmsConfig};

#[path = "xks_support/kms.rs"]
mod xks_kms;
use xks_kms::{ENDPOINT, assert_proxy_unreachable, connect, key_request, round_trips};

const ACCESS_KEY_ID: &str = "XKSLABACCESSKEY234567ABCD";
const SECRET: &str = "XksLabSecretAccessKeyForSoftHsmTesting0123456789";
const OTHER_SECRET: &str = "AnotherSecretTheSampleProxyWasNotGiven0123456789";
const PREFIX: &str = "example/uri/path/prefix";
const PATH: &str = "/example/uri/path/prefix/kms/xks/v1";
const REGION: &str = "us-east-1";

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run tests/xks_peer/chain2.sh"))
}

/// The sample proxy, running on SoftHSM; killed on drop.
struct SampleProxy {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl SampleProxy {
    /// Starts the proxy accepting `secret`; waits for its `/ping`.
    fn start(secret: &str) -> SampleProxy {
        let work = PathBuf::from(env("XKS_SAMPLE_WORKDIR"));
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let settings = work.join(format!("settings-{port}.toml"));
        std::fs::write(&settings, settings_toml(port, secret)).unwrap();
        let log = work.join(format!("proxy-{port}.log"));
        let child = Command::new(env("XKS_SAMPLE_PROXY_BIN"))
            .env("SOFTHSM2_CONF", work.join("softhsm2.conf"))
            .env("XKS_PROXY_SETTINGS_TOML", &settings)
            .current_dir(&work)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut proxy = SampleProxy { child, addr, log };
        let started = Instant::now();
        while !proxy.pings() {
            if let Some(status) = proxy.child.try_wait().unwrap() {
                panic!("the sample proxy exited ({status}): {}", proxy.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no /ping answer: {}",
                proxy.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        proxy
    }

    fn pings(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = TcpStream::connect(self.addr) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let req = "GET /ping HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
        let mut answer = String::new();
        s.write_all(req.as_bytes()).is_ok()
            && s.read_to_string(&mut answer).is_ok()
            && answer.contains("pong")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn client(&self) -> HttpXksClient {
        HttpXksClient::new(
            HttpXksClientConfig::new()
                .connect_to(self.addr)
                .allow_plain_http()
                .region(REGION),
        )
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SampleProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The sample proxy's settings (its `settings.toml` format): loopback,
/// SigV4 on, TLS off, the token's four keys.
fn settings_toml(port: u16, secret: &str) -> String {
    let lib = env("XKS_SAMPLE_SOFTHSM_LIB");
    let pin = env("XKS_SAMPLE_USER_PIN");
    format!(
        r#"[server]
ip = "127.0.0.1"
port = {port}
port_http_ping = {port}
region = "{REGION}"
service = "kms-xks-proxy"

[server.tcp_keepalive]
tcp_keepalive_secs = 60
tcp_keepalive_retries = 3
tcp_keepalive_interval_secs = 1

[tracing]
is_stdout_writer_enabled = true
is_file_writer_enabled = false
level = "INFO"

[security]
is_sigv4_auth_enabled = true
is_tls_enabled = false
is_mtls_enabled = false

[[external_key_stores]]
uri_path_prefix = "/{PREFIX}"
sigv4_access_key_id = "{ACCESS_KEY_ID}"
sigv4_secret_access_key = "{secret}"
xks_key_id_set = ["foo", "encrypt_only_key", "decrypt_only_key", "impotent_key"]

[pkcs11]
session_pool_max_size = 30
session_pool_timeout_milli = 0
session_eager_close = false
user_pin = "{pin}"
PKCS11_HSM_MODULE = "{lib}"
context_read_timeout_milli = 10

[limits]
max_plaintext_in_base64 = 8192
max_aad_in_base64 = 16384

[hsm_capabilities]
can_generate_iv = false
is_zero_iv_required = false
"#
    )
}

fn kms_attached_to(proxy: &SampleProxy) -> Kms {
    let kms = Kms::new(KmsConfig::new("111122223333", REGION).unwrap());
    kms.xks_network().attach(ENDPOINT, Arc::new(proxy.client()));
    kms
}

fn store_request(name: &str, secret: &str) -> kms_keystore::CreateCustomKeyStoreRequest {
    xks_kms::store_request(name, PATH, ACCESS_KEY_ID, secret)
}

fn create_key(kms: &Kms, store: &str, label: &str) -> kms_keystore::Result<String> {
    kms.create_key(key_request(store, label))
        .map(|k| k.key_metadata.arn)
}

#[test]
#[ignore = "needs AWS's sample XKS proxy and SoftHSM: run tests/xks_peer/chain2.sh"]
fn kms_works_through_the_sample_proxy_on_softhsm_and_breaks_as_aws_documents() {
    let mut proxy = SampleProxy::start(SECRET);
    let kms = kms_attached_to(&proxy);

    // A wrong secret: refused at CreateCustomKeyStore (first, while no
    // store holds the proxy's URI: a store's URI must be its own).
    let err = kms
        .create_custom_key_store(store_request("wrong", OTHER_SECRET))
        .unwrap_err();
    assert_eq!(
        err.code(),
        "XksProxyIncorrectAuthenticationCredentialException"
    );
    assert!(!err.to_string().contains(OTHER_SECRET));

    let store = kms
        .create_custom_key_store(store_request("softhsm", SECRET))
        .unwrap()
        .custom_key_store_id
        .to_string();
    assert_eq!(
        connect(&kms, &store),
        (ConnectionStateType::Connected, None)
    );

    // The SoftHSM key's label is the XksKeyId; both layers encrypt. The
    // ReEncrypt decrypts and encrypts again through the proxy (a store's
    // URI is its own, and it holds one KMS key per external key, so the
    // destination is the same key).
    let key = create_key(&kms, &store, "foo").unwrap();
    round_trips(&kms, &key, &key, "through SoftHSM");

    // The same external key twice in one store.
    let err = create_key(&kms, &store, "foo").unwrap_err();
    assert_eq!(err.code(), "XksKeyAlreadyInUseException");
    // Keys KMS cannot use: no DECRYPT, or neither usage.
    for label in ["encrypt_only_key", "impotent_key"] {
        let err = create_key(&kms, &store, label).unwrap_err();
        assert_eq!(err.code(), "XksKeyInvalidConfigurationException", "{label}");
    }
    // A label the token lacks.
    let err = create_key(&kms, &store, "no_such_label").unwrap_err();
    assert_eq!(err.code(), "XksKeyNotFoundException", "{}", proxy.log());

    // The proxy stopped: crypto fails, connecting is XKS_PROXY_NOT_REACHABLE.
    proxy.stop();
    assert_proxy_unreachable(&kms, &store, &key);

    // A wrong secret at connect, once the proxy's secret changed under the store:
    // INVALID_CREDENTIALS, as AWS documents the code.
    let rotated = SampleProxy::start(OTHER_SECRET);
    kms.xks_network()
        .attach(ENDPOINT, Arc::new(rotated.client()));
    kms.disconnect_custom_key_store(&store).unwrap();
    assert_eq!(
        connect(&kms, &store),
        (
            ConnectionStateType::Failed,
            Some(ConnectionErrorCode::InvalidCredentials)
        )
    );
}
