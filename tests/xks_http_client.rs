//! The HTTP XKS proxy client (`kms_keystore::xks::http`, feature
//! `xks-http`) under a KMS: external key stores whose proxy is a running
//! `kms-keystore-xks-proxy` (plain HTTP, allowed explicitly), or a canned
//! HTTP server for the answers our proxy never gives. Every failure must
//! come out as the in-memory manager's faults do (tests/external_key_store.rs).
#![cfg(feature = "xks-http")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use kms_keystore::xks::http::{HttpXksClient, HttpXksClientConfig};
use kms_keystore::{
    ConnectionErrorCode, ConnectionStateType, CreateCustomKeyStoreRequest, CreateKeyRequest,
    CustomKeyStoresListEntry, DataKeySpec, DecryptRequest, DescribeCustomKeyStoresRequest,
    EncryptRequest, GenerateDataKeyRequest, Kms, KmsConfig, ReEncryptRequest, SecretString,
    XksProxyAuthenticationCredential, XksProxyConnectivityType,
};
use serde_json::{Value, json};

const ACCESS_KEY_ID: &str = "XKSPROXYTESTKEY234567ABCD";
const SECRET: &str = "xksProxyTestSecretOf43To64CharactersLong0123456789";
const OTHER_SECRET: &str = "anotherSecretThatTheProxyDoesNotKnow0123456789";
const ENDPOINT: &str = "https://xks.example.com";
const PATH: &str = "/team/a/kms/xks/v1";
const REGION: &str = "us-west-2";

#[path = "xks_support/mod.rs"]
mod xks_support;
use xks_support::Proxy;

impl Proxy {
    fn start(secret: &str) -> Proxy {
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
        let (proxy, first) = Proxy::spawn(&text.to_string(), &["--log-format", "json"]);
        assert_eq!(first["path"], PATH);
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
    CreateCustomKeyStoreRequest {
        custom_key_store_name: name.into(),
        custom_key_store_type: Some(kms_keystore::CustomKeyStoreType::ExternalKeyStore),
        xks_proxy_uri_endpoint: Some(ENDPOINT.into()),
        xks_proxy_uri_path: Some(PATH.into()),
        xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
            access_key_id: ACCESS_KEY_ID.into(),
            raw_secret_access_key: SecretString::from(secret),
        }),
        xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
        ..Default::default()
    }
}

fn create_store(kms: &Kms) -> String {
    kms.create_custom_key_store(store_request("xks", SECRET))
        .unwrap()
        .custom_key_store_id
        .to_string()
}

fn describe(kms: &Kms, id: &str) -> CustomKeyStoresListEntry {
    kms.describe_custom_key_stores(DescribeCustomKeyStoresRequest {
        custom_key_store_id: Some(id.into()),
        ..Default::default()
    })
    .unwrap()
    .custom_key_stores
    .remove(0)
}

fn key_request(store: &str, xks_key_id: &str) -> CreateKeyRequest {
    CreateKeyRequest {
        origin: Some(kms_keystore::OriginType::ExternalKeyStore),
        custom_key_store_id: Some(store.into()),
        xks_key_id: Some(xks_key_id.into()),
        ..Default::default()
    }
}

fn xks_key(kms: &Kms, store: &str, xks_key_id: &str) -> String {
    kms.create_key(key_request(store, xks_key_id))
        .unwrap()
        .key_metadata
        .arn
}

fn encrypt(kms: &Kms, key: &str, plaintext: &str) -> kms_keystore::Result<Vec<u8>> {
    kms.encrypt(EncryptRequest {
        key_id: key.into(),
        plaintext: plaintext.into(),
        ..Default::default()
    })
    .map(|r| r.ciphertext_blob)
}

fn decrypt(kms: &Kms, blob: &[u8]) -> Vec<u8> {
    kms.decrypt(DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        ..Default::default()
    })
    .unwrap()
    .plaintext
    .expose_secret()
    .to_vec()
}

/// Connects `id` and returns its state and error code.
fn connect(kms: &Kms, id: &str) -> (ConnectionStateType, Option<ConnectionErrorCode>) {
    kms.connect_custom_key_store(id).unwrap();
    let d = describe(kms, id);
    (d.connection_state, d.connection_error_code)
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
    let err = encrypt(&kms, &key, "nobody there").unwrap_err();
    assert_eq!(err.code(), "KMSInvalidStateException");
    kms.disconnect_custom_key_store(&store).unwrap();
    assert_eq!(
        connect(&kms, &store),
        (
            ConnectionStateType::Failed,
            Some(ConnectionErrorCode::XksProxyNotReachable)
        )
    );
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
