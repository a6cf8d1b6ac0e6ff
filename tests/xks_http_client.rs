//! The HTTP XKS proxy client (`kms_keystore::xks::http`, feature
//! `xks-http`) under a KMS: external key stores whose proxy is a running
//! `kms-keystore-xks-proxy` (plain HTTP, allowed explicitly, or HTTPS with
//! a CA made in the test, optionally mTLS), or a canned HTTP server for the
//! answers our proxy never gives. Every failure must come out as the
//! in-memory manager's faults do (tests/external_key_store.rs).
#![cfg(feature = "xks-http")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use kms_keystore::xks::http::{HttpXksClient, HttpXksClientConfig};
use kms_keystore::{
    ConnectionErrorCode, ConnectionStateType, CreateCustomKeyStoreRequest, DataKeySpec,
    GenerateDataKeyRequest, Kms, KmsConfig, ReEncryptRequest,
};
use serde_json::{Value, json};

const ACCESS_KEY_ID: &str = "XKSPROXYTESTKEY234567ABCD";
const SECRET: &str = "xksProxyTestSecretOf43To64CharactersLong0123456789";
const OTHER_SECRET: &str = "anotherSecretThatTheProxyDoesNotKnow0123456789";
const PATH: &str = "/team/a/kms/xks/v1";
const REGION: &str = "us-west-2";

#[path = "xks_support/mod.rs"]
mod xks_support;
use xks_support::Proxy;

#[path = "xks_support/pki.rs"]
mod pki;

#[path = "xks_support/kms.rs"]
mod xks_kms;
use xks_kms::{
    ENDPOINT, assert_proxy_unreachable, connect, decrypt, encrypt, key_request, round_trips,
};

impl Proxy {
    fn start(secret: &str) -> Proxy {
        Proxy::start_with(secret, &[])
    }

    /// Started with `extra` flags (`--tls-cert …` for HTTPS).
    fn start_with(secret: &str, extra: &[&str]) -> Proxy {
        let text = json!({
            "uri_prefix": "team/a",
            "region": REGION,
            "credential": {"access_key_id": ACCESS_KEY_ID, "secret_access_key": secret},
            "keys": [
                {"id": "k1"},
                {"id": "k2"},
                {"id": "enc_only", "usages": ["ENCRYPT"]},
                {"id": "off", "status": "DISABLED"}
            ]
        });
        let mut flags = vec!["--log-format", "json"];
        flags.extend_from_slice(extra);
        let (proxy, first) = Proxy::spawn(&text.to_string(), &flags);
        assert_eq!(first["path"], PATH);
        let scheme = if extra.contains(&"--tls-cert") {
            "https"
        } else {
            "http"
        };
        assert_eq!(first["scheme"], scheme);
        proxy
    }

    /// A client reaching this proxy for `ENDPOINT`, over plain HTTP.
    fn client(&self) -> HttpXksClient {
        client_to(self.addr)
    }

    /// How many calls of `operation` the proxy answered with 200.
    fn answered(&self, operation: &str) -> usize {
        self.log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["fields"]["operation"] == operation && v["fields"]["status"] == 200)
            .count()
    }
}

fn client_to(addr: SocketAddr) -> HttpXksClient {
    HttpXksClient::new(
        HttpXksClientConfig::new()
            .connect_to(addr)
            .allow_plain_http()
            .region(REGION),
    )
}

fn kms() -> Kms {
    Kms::new(KmsConfig::new("111122223333", REGION).unwrap().with_seed(7))
}

fn attach(kms: &Kms, client: HttpXksClient) {
    kms.xks_network().attach(ENDPOINT, Arc::new(client));
}

fn store_request(name: &str, secret: &str) -> CreateCustomKeyStoreRequest {
    xks_kms::store_request(name, PATH, ACCESS_KEY_ID, secret)
}

fn create_store(kms: &Kms) -> String {
    kms.create_custom_key_store(store_request("xks", SECRET))
        .unwrap()
        .custom_key_store_id
        .to_string()
}

fn xks_key(kms: &Kms, store: &str, xks_key_id: &str) -> String {
    kms.create_key(key_request(store, xks_key_id))
        .unwrap()
        .key_metadata
        .arn
}

#[test]
fn kms_works_through_the_client_and_our_proxy() {
    let proxy = Proxy::start(SECRET);
    let kms = kms();
    attach(&kms, proxy.client());
    let store = create_store(&kms);
    assert_eq!(proxy.answered("GetHealthStatus"), 1, "{}", proxy.log());
    assert_eq!(
        connect(&kms, &store),
        (ConnectionStateType::Connected, None)
    );
    let key = xks_key(&kms, &store, "k1");
    let key2 = xks_key(&kms, &store, "k2");
    assert_eq!(proxy.answered("GetKeyMetadata"), 2);

    let blob = encrypt(&kms, &key, "through both layers").unwrap();
    assert_eq!(proxy.answered("Encrypt"), 1);
    assert_eq!(decrypt(&kms, &blob), b"through both layers");
    assert_eq!(proxy.answered("Decrypt"), 1);

    let dk = kms
        .generate_data_key(GenerateDataKeyRequest {
            key_id: key.clone(),
            key_spec: Some(DataKeySpec::Aes256),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(proxy.answered("Encrypt"), 2);
    assert_eq!(
        decrypt(&kms, &dk.ciphertext_blob),
        dk.plaintext.expose_secret()
    );
    assert_eq!(proxy.answered("Decrypt"), 2);

    let moved = kms
        .re_encrypt(ReEncryptRequest {
            ciphertext_blob: blob,
            destination_key_id: key2.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(moved.key_id, key2);
    assert_eq!(
        (proxy.answered("Decrypt"), proxy.answered("Encrypt")),
        (3, 3)
    );
    assert_eq!(
        decrypt(&kms, &moved.ciphertext_blob),
        b"through both layers"
    );

    // An external key the proxy lacks, or one KMS cannot use.
    let err = kms.create_key(key_request(&store, "missing")).unwrap_err();
    assert_eq!(err.code(), "XksKeyNotFoundException");
    for id in ["enc_only", "off"] {
        let err = kms.create_key(key_request(&store, id)).unwrap_err();
        assert_eq!(err.code(), "XksKeyInvalidConfigurationException", "{id}");
    }
    // The secret went into signatures only.
    assert!(!proxy.log().contains(SECRET));
    assert!(!format!("{:?}", proxy.client()).contains(SECRET));
}

#[test]
fn a_wrong_secret_is_refused_as_the_in_memory_manager_refuses_it() {
    let proxy = Proxy::start(SECRET);
    let kms = kms();
    attach(&kms, proxy.client());
    let err = kms
        .create_custom_key_store(store_request("bad", OTHER_SECRET))
        .unwrap_err();
    assert_eq!(
        err.code(),
        "XksProxyIncorrectAuthenticationCredentialException"
    );
    assert!(!err.to_string().contains(OTHER_SECRET));
    // A store created while the secret was right fails to connect once the
    // proxy's secret changed: INVALID_CREDENTIALS, as for the in-memory
    // manager's AuthenticationFailed.
    let store = create_store(&kms);
    let rotated = Proxy::start(OTHER_SECRET);
    attach(&kms, rotated.client());
    assert_eq!(
        connect(&kms, &store),
        (
            ConnectionStateType::Failed,
            Some(ConnectionErrorCode::InvalidCredentials)
        )
    );
}

#[test]
fn a_stopped_proxy_is_not_reachable() {
    let mut proxy = Proxy::start(SECRET);
    let kms = kms();
    attach(&kms, proxy.client());
    let store = create_store(&kms);
    assert_eq!(connect(&kms, &store).0, ConnectionStateType::Connected);
    let key = xks_key(&kms, &store, "k1");
    encrypt(&kms, &key, "warm the pool").unwrap();
    proxy.kill();
    assert_proxy_unreachable(&kms, &store, &key);
    // A new store on another KMS cannot be created there.
    let other = self::kms();
    attach(&other, proxy.client());
    let err = other
        .create_custom_key_store(store_request("other", SECRET))
        .unwrap_err();
    assert_eq!(err.code(), "XksProxyUriUnreachableException");
}

/// A server that answers every request with `response` (a whole HTTP
/// answer), or never answers when `response` is `None`.
fn canned(response: Option<&'static str>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let Some(response) = response else {
                held.push(stream);
                continue;
            };
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                let mut seen = Vec::new();
                // Read the head and the Content-Length body, then answer.
                loop {
                    let n = stream.read(&mut buf).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&seen).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len = head
                            .lines()
                            .find_map(|l| {
                                let (n, v) = l.split_once(':')?;
                                n.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            break;
                        }
                    }
                }
                let _ = stream.write_all(response.as_bytes());
            });
        }
    });
    addr
}

fn answer(status: &str, body: &'static str) -> &'static str {
    Box::leak(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_boxed_str(),
    )
}

#[test]
fn every_answer_gives_the_connection_error_code_of_the_in_memory_fault() {
    use ConnectionErrorCode as C;
    let cases = [
        ("never answers", None, C::XksProxyTimedOut),
        (
            "malformed JSON",
            Some(answer("200 OK", "{not json")),
            C::XksProxyInvalidResponse,
        ),
        (
            "500",
            Some(answer(
                "500 Internal Server Error",
                r#"{"errorName":"InternalException"}"#,
            )),
            C::XksProxyInvalidResponse,
        ),
        (
            "403",
            Some(answer(
                "403 Forbidden",
                r#"{"errorName":"AccessDeniedException"}"#,
            )),
            C::XksProxyAccessDenied,
        ),
        (
            "401 without a body",
            Some(answer("401 Unauthorized", "")),
            C::InvalidCredentials,
        ),
        (
            "404 path",
            Some(answer(
                "404 Not Found",
                r#"{"errorName":"InvalidUriPathException"}"#,
            )),
            C::XksProxyInvalidConfiguration,
        ),
        (
            "429",
            Some(answer(
                "429 Too Many Requests",
                r#"{"errorName":"ThrottlingException"}"#,
            )),
            C::XksProxyNotReachable,
        ),
        (
            "503",
            Some(answer(
                "503 Service Unavailable",
                r#"{"errorName":"DependencyTimeoutException"}"#,
            )),
            C::XksProxyNotReachable,
        ),
    ];
    let proxy = Proxy::start(SECRET);
    for (what, response, expected) in cases {
        let kms = kms();
        attach(&kms, proxy.client());
        let store = create_store(&kms);
        attach(&kms, client_to(canned(response)));
        let started = std::time::Instant::now();
        assert_eq!(
            connect(&kms, &store),
            (ConnectionStateType::Failed, Some(expected)),
            "{what}"
        );
        // The 250 ms deadline holds (generously, for a loaded machine).
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "{what}"
        );
    }
}

#[test]
fn plain_http_needs_the_explicit_allowance() {
    let proxy = Proxy::start(SECRET);
    let kms = kms();
    let https_only = || HttpXksClient::new(HttpXksClientConfig::new().connect_to(proxy.addr));
    // HTTPS to a plain-HTTP proxy: the TLS handshake fails.
    attach(&kms, https_only());
    let err = kms
        .create_custom_key_store(store_request("tls", SECRET))
        .unwrap_err();
    assert_eq!(err.code(), "XksProxyUriUnreachableException");
    assert_eq!(proxy.answered("GetHealthStatus"), 0);
    attach(&kms, proxy.client());
    let store = create_store(&kms);
    attach(&kms, https_only());
    assert_eq!(
        connect(&kms, &store),
        (
            ConnectionStateType::Failed,
            Some(ConnectionErrorCode::XksProxyInvalidTlsConfiguration)
        )
    );
}

// Chain 3: the client and our proxy over TLS, with certificates made here.

/// The proxy serving HTTPS with `server` (for the name it was issued for),
/// requiring client certificates from `client_ca` when given.
fn tls_proxy(server: &pki::Leaf, client_ca: Option<&pki::Ca>) -> Proxy {
    let cert = server.cert.to_str().unwrap().to_owned();
    let key = server.key.to_str().unwrap().to_owned();
    let ca = client_ca.map(|ca| ca.cert_file().to_str().unwrap().to_owned());
    let mut flags = vec!["--tls-cert", cert.as_str(), "--tls-key", key.as_str()];
    if let Some(ca) = &ca {
        flags.extend(["--client-ca", ca.as_str()]);
    }
    Proxy::start_with(SECRET, &flags)
}

/// A client reaching `proxy` over HTTPS, trusting only `roots`.
fn tls_client(proxy: &Proxy, roots: &pki::Ca) -> HttpXksClientConfig {
    HttpXksClientConfig::new()
        .connect_to(proxy.addr)
        .region(REGION)
        .root_certificates_pem(roots.pem().as_bytes())
        .unwrap()
}

/// Creates the store through `good` (a proxy KMS trusts), then points the
/// endpoint at `bad` and connects: the state and code that gives, and the
/// exception CreateCustomKeyStore gets from `bad`.
fn refused_over_tls(
    good: HttpXksClient,
    bad: HttpXksClient,
) -> (String, Option<ConnectionErrorCode>) {
    let kms = kms();
    attach(&kms, bad.clone());
    let created = kms
        .create_custom_key_store(store_request("refused", SECRET))
        .unwrap_err();
    attach(&kms, good);
    let store = create_store(&kms);
    attach(&kms, bad);
    let (state, code) = connect(&kms, &store);
    assert_eq!(state, ConnectionStateType::Failed);
    (created.code().to_owned(), code)
}

#[test]
fn kms_works_over_tls_with_a_ca_made_in_the_test() {
    let ca = pki::Ca::new("xks-test-ca");
    let server = ca.server("xks.example.com");
    let proxy = tls_proxy(&server, None);
    let kms = kms();
    attach(&kms, HttpXksClient::new(tls_client(&proxy, &ca)));
    let store = create_store(&kms);
    assert_eq!(
        connect(&kms, &store),
        (ConnectionStateType::Connected, None)
    );
    let key = xks_key(&kms, &store, "k1");
    let key2 = xks_key(&kms, &store, "k2");
    round_trips(&kms, &key, &key2, "over TLS");
    // Every call went through the TLS proxy: health (create, connect),
    // metadata ×2, Encrypt ×3 (Encrypt, GenerateDataKey, ReEncrypt),
    // Decrypt ×4.
    assert_eq!(proxy.answered("GetKeyMetadata"), 2, "{}", proxy.log());
    assert_eq!(proxy.answered("Encrypt"), 3);
    assert_eq!(proxy.answered("Decrypt"), 4);
    // Neither the SigV4 secret nor the TLS key reached the log.
    let log = proxy.log();
    assert!(!log.contains(SECRET));
    assert!(!log.contains(server.key_pem.lines().nth(1).unwrap()));
}

#[test]
fn a_proxy_certificate_from_a_foreign_ca_or_for_another_name_is_refused() {
    let ca = pki::Ca::new("xks-test-ca");
    let foreign = pki::Ca::new("foreign-ca");
    let good = tls_proxy(&ca.server("xks.example.com"), None);
    for (what, server) in [
        ("foreign CA", foreign.server("xks.example.com")),
        ("another name", ca.server("other.example.com")),
    ] {
        let bad = tls_proxy(&server, None);
        let (created, code) = refused_over_tls(
            HttpXksClient::new(tls_client(&good, &ca)),
            HttpXksClient::new(tls_client(&bad, &ca)),
        );
        assert_eq!(created, "XksProxyUriUnreachableException", "{what}");
        assert_eq!(
            code,
            Some(ConnectionErrorCode::XksProxyInvalidTlsConfiguration),
            "{what}"
        );
        assert_eq!(bad.answered("GetHealthStatus"), 0, "{what}: {}", bad.log());
        assert!(
            bad.log().contains("TLS handshake failed"),
            "{what}: {}",
            bad.log()
        );
    }
}

#[test]
fn mtls_needs_a_client_certificate_from_the_proxy_s_ca() {
    let ca = pki::Ca::new("xks-test-ca");
    let kms_ca = pki::Ca::new("kms-client-ca");
    let foreign = pki::Ca::new("foreign-client-ca");
    let proxy = tls_proxy(&ca.server("xks.example.com"), Some(&kms_ca));
    let with_cert = |leaf: &pki::Leaf| {
        let (chain, key) = leaf.pems();
        HttpXksClient::new(
            tls_client(&proxy, &ca)
                .client_certificate_pem(&chain, &key)
                .unwrap(),
        )
    };
    let good = with_cert(&kms_ca.client("kms"));
    // Through a client with the right certificate, all works.
    let kms = kms();
    attach(&kms, good.clone());
    let store = create_store(&kms);
    assert_eq!(
        connect(&kms, &store),
        (ConnectionStateType::Connected, None)
    );
    let key = xks_key(&kms, &store, "k1");
    let blob = encrypt(&kms, &key, "mutual").unwrap();
    assert_eq!(decrypt(&kms, &blob), b"mutual");
    let answered = proxy.answered("GetHealthStatus");
    // No certificate, or one from another CA: the handshake fails.
    for (what, bad) in [
        (
            "no certificate",
            HttpXksClient::new(tls_client(&proxy, &ca)),
        ),
        (
            "foreign certificate",
            with_cert(&foreign.client("intruder")),
        ),
    ] {
        let (created, code) = refused_over_tls(good.clone(), bad);
        assert_eq!(created, "XksProxyUriUnreachableException", "{what}");
        assert_eq!(
            code,
            Some(ConnectionErrorCode::XksProxyInvalidTlsConfiguration),
            "{what}"
        );
    }
    // Only the good client's health checks (one per round, its
    // CreateCustomKeyStore) were answered.
    assert_eq!(proxy.answered("GetHealthStatus"), answered + 2);
}

/// Runs the proxy binary with `args` until it exits: its status and
/// standard error.
fn proxy_exit(args: &[&str]) -> (std::process::ExitStatus, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kms-keystore-xks-proxy"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_proxy_serves_plain_http_only_when_asked_and_checks_its_tls_key() {
    let ca = pki::Ca::new("xks-test-ca");
    let server = ca.server("xks.example.com");
    let other = ca.server("other.example.com");
    let dir = server.cert.parent().unwrap();
    let config = dir.join("config.json");
    std::fs::write(
        &config,
        json!({"credential": {"access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET}})
            .to_string(),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let (status, err) = proxy_exit(&["--config", config]);
    assert!(!status.success());
    assert!(err.contains("--plain-http"), "{err}");
    // A key that is not the certificate's, or a file without a key.
    let (cert, other_key) = (server.cert.to_str().unwrap(), other.key.to_str().unwrap());
    let (status, mismatch) = proxy_exit(&[
        "--config",
        config,
        "--tls-cert",
        cert,
        "--tls-key",
        other_key,
    ]);
    assert!(!status.success());
    assert!(mismatch.contains("is not the key of"), "{mismatch}");
    let (status, err) = proxy_exit(&["--config", config, "--tls-cert", cert, "--tls-key", cert]);
    assert!(!status.success());
    assert!(err.contains("no private key"), "{err}");
    // No error shows the key.
    for line in other.key_pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!mismatch.contains(line));
    }
    // TLS and --plain-http together make no sense.
    let key = server.key.to_str().unwrap();
    let (status, _) = proxy_exit(&[
        "--config",
        config,
        "--tls-cert",
        cert,
        "--tls-key",
        key,
        "--plain-http",
    ]);
    assert!(!status.success());
}

// The server fixture's `"kind": "http"` external key managers.

/// A server (its dispatcher) built from `fixture`.
fn fixture_server(fixture: &Value) -> kms_keystore::Result<kms_keystore::server::Dispatcher> {
    kms_keystore::server::Fixture::from_json(&fixture.to_string())?
        .build_server(&kms_keystore::server::ServerOptions::default())
        .map(|(server, _)| server)
}

/// Calls `TrentService.<op>` on `server`: status and JSON.
fn call(server: &kms_keystore::server::Dispatcher, op: &str, body: Value) -> (u16, Value) {
    let r = server.dispatch(&format!("TrentService.{op}"), body.to_string().as_bytes());
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

fn ok(server: &kms_keystore::server::Dispatcher, op: &str, body: Value) -> Value {
    let (status, v) = call(server, op, body);
    assert_eq!(status, 200, "{op}: {v}");
    v
}

/// A fixture entry of kind `http` for `proxy`, trusting `ca`.
fn http_entry(proxy: &Proxy, ca: &pki::Ca) -> Value {
    json!({
        "kind": "http",
        "uri_endpoint": ENDPOINT,
        "uri_path": PATH,
        "credential": {"access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET},
        "proxy_url": format!("https://{}", proxy.addr),
        "root_certificates": ca.cert_file(),
    })
}

#[test]
fn a_server_fixture_of_kind_http_reaches_a_real_proxy_over_mtls() {
    let ca = pki::Ca::new("xks-test-ca");
    let kms_ca = pki::Ca::new("kms-client-ca");
    let proxy = tls_proxy(&ca.server("xks.example.com"), Some(&kms_ca));
    let client = kms_ca.client("kms");
    let mut entry = http_entry(&proxy, &ca);
    entry["client_certificate"] = json!(client.cert);
    entry["client_key"] = json!(client.key);
    let server = fixture_server(&json!({
        "region": REGION,
        "external_key_managers": [entry]
    }))
    .unwrap();
    let store = ok(
        &server,
        "CreateCustomKeyStore",
        json!({
            "CustomKeyStoreName": "fixture-http",
            "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
            "XksProxyUriEndpoint": ENDPOINT,
            "XksProxyUriPath": PATH,
            "XksProxyConnectivity": "PUBLIC_ENDPOINT",
            "XksProxyAuthenticationCredential": {
                "AccessKeyId": ACCESS_KEY_ID, "RawSecretAccessKey": SECRET
            }
        }),
    )["CustomKeyStoreId"]
        .clone();
    ok(
        &server,
        "ConnectCustomKeyStore",
        json!({"CustomKeyStoreId": store}),
    );
    let described = ok(
        &server,
        "DescribeCustomKeyStores",
        json!({"CustomKeyStoreId": store}),
    );
    assert_eq!(
        described["CustomKeyStores"][0]["ConnectionState"],
        "CONNECTED"
    );
    let key = ok(
        &server,
        "CreateKey",
        json!({"Origin": "EXTERNAL_KEY_STORE", "CustomKeyStoreId": store, "XksKeyId": "k1"}),
    )["KeyMetadata"]["KeyId"]
        .clone();
    let blob = ok(
        &server,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": "Zml4dHVyZQ=="}),
    )["CiphertextBlob"]
        .clone();
    let plain = ok(&server, "Decrypt", json!({"CiphertextBlob": blob}));
    assert_eq!(plain["Plaintext"], "Zml4dHVyZQ==");
    assert_eq!(proxy.answered("Encrypt"), 1, "{}", proxy.log());
    assert_eq!(proxy.answered("Decrypt"), 1);
    // A key the proxy does not hold is the proxy's answer, not the fixture's.
    let (status, v) = call(
        &server,
        "CreateKey",
        json!({"Origin": "EXTERNAL_KEY_STORE", "CustomKeyStoreId": store, "XksKeyId": "missing"}),
    );
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("XksKeyNotFoundException"))
    );
}

#[test]
fn a_server_fixture_of_kind_http_refuses_what_belongs_to_memory_managers() {
    let ca = pki::Ca::new("xks-test-ca");
    let proxy = tls_proxy(&ca.server("xks.example.com"), None);
    let entry = http_entry(&proxy, &ca);
    let with = |member: &str, value: Value| {
        let mut e = entry.clone();
        e[member] = value;
        fixture_server(&json!({"external_key_managers": [e]}))
            .err()
            .map(|e| (e.code().to_owned(), e.to_string()))
    };
    assert_eq!(with("kind", json!("http")), None);
    let (code, message) = with("keys", json!([{"id": "k1"}])).unwrap();
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("external_key_managers[0].keys"),
        "{message}"
    );
    let (_, message) = with("faults", json!({"unreachable": true})).unwrap();
    assert!(
        message.contains("external_key_managers[0].faults"),
        "{message}"
    );
    let (_, message) = with("proxy_url", json!("ftp://127.0.0.1:1")).unwrap();
    assert!(message.contains("proxy_url"), "{message}");
    let (_, message) = with("root_certificates", json!("/nonexistent/ca.pem")).unwrap();
    assert!(message.contains("root_certificates"), "{message}");
    let (_, message) = with("client_key", json!(ca.cert_file())).unwrap();
    assert!(message.contains("go together"), "{message}");
    // The http members on an in-memory manager are refused.
    let (_, message) = with("kind", json!("memory")).unwrap();
    assert!(
        message.contains("external_key_managers[0].proxy_url"),
        "{message}"
    );
}
