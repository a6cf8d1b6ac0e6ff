//! The XKS proxy (`kms-keystore-xks-proxy`, feature `xks-http`): every
//! endpoint, every error of the XKS Proxy API with its status, and the 401s.
//!
//! Most tests start the binary on a free loopback port and speak raw
//! HTTP/1.1 over `std::net::TcpStream`, signing as KMS does with the
//! maintained `aws-sigv4` crate (service `kms-xks-proxy`). The errors only
//! fault switches can cause (throttling, access denied, internal,
//! dependency timeout) go through `XksProxy::handle` in process, over an
//! `InMemoryExternalKeyManager` with its faults injected.
#![cfg(feature = "xks-http")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use base64::Engine as _;
use kms_keystore::server::WireRequest;
use kms_keystore::xks::proxy::{XksProxy, XksProxyConfig, ciphertext_data_integrity_value};
use kms_keystore::xks::{XksEncryptResponse, XksError, XksOperation};
use serde_json::{Value, json};

const ACCESS_KEY_ID: &str = "XKSPROXYTESTKEY234567ABCD";
const SECRET: &str = "xksProxyTestSecretOf43To64CharactersLong0123456789";
const PREFIX: &str = "team/a";
const BASE: &str = "/team/a/kms/xks/v1";

fn config_json() -> String {
    json!({
        "uri_prefix": PREFIX,
        "credential": {"access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET},
        "seed": 7,
        "keys": [
            {"id": "k1"},
            {"id": "enc_only", "usages": ["ENCRYPT"]},
            {"id": "dec_only", "usages": ["DECRYPT"]},
            {"id": "none", "usages": []},
            {"id": "off", "status": "DISABLED"},
            {"id": "rsa", "spec": "RSA_2048", "usages": ["SIGN", "VERIFY"]}
        ]
    })
    .to_string()
}

#[path = "xks_support/mod.rs"]
mod xks_support;
use xks_support::Proxy;

impl Proxy {
    fn start(extra: &[&str]) -> Proxy {
        Proxy::start_at(extra, BASE)
    }

    /// Starts the binary, which must announce that it serves `base`.
    fn start_at(extra: &[&str], base: &str) -> Proxy {
        let (proxy, first) = Proxy::spawn(&config_json(), extra);
        assert_eq!(first["path"], base);
        assert_eq!(
            first["keys"],
            json!(["dec_only", "enc_only", "k1", "none", "off", "rsa"])
        );
        proxy
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        s
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// How a test signs: credential, service, Region, date.
#[derive(Clone, Copy)]
struct Signer<'a> {
    key: &'a str,
    secret: &'a str,
    service: &'a str,
    region: &'a str,
    secs: u64,
}

impl Signer<'static> {
    fn good() -> Signer<'static> {
        Signer {
            key: ACCESS_KEY_ID,
            secret: SECRET,
            service: "kms-xks-proxy",
            region: "us-east-1",
            secs: now_secs(),
        }
    }
}

/// The headers of a request to `path` signed by `s` (host, content-type,
/// x-amz-date, authorization), as KMS sends them.
fn signed_headers(host: &str, path: &str, body: &[u8], s: Signer<'_>) -> Vec<(String, String)> {
    let base = [("host", host), ("content-type", "application/json")];
    let identity =
        aws_credential_types::Credentials::new(s.key, s.secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(s.region)
        .name(s.service)
        .time(UNIX_EPOCH + Duration::from_secs(s.secs))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let request = SignableRequest::new(
        "POST",
        format!("http://{host}{path}"),
        base.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let mut headers: Vec<(String, String)> = base
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    for (n, v) in instructions.headers() {
        headers.push((n.to_ascii_lowercase(), v.to_owned()));
    }
    headers
}

struct Reply {
    status: u16,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&self.body));
        })
    }

    fn error_name(&self) -> String {
        self.json()["errorName"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

fn send(s: &mut TcpStream, method: &str, path: &str, headers: &[(String, String)], body: &[u8]) {
    let mut req = format!("{method} {path} HTTP/1.1\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if !headers.iter().any(|(n, _)| n == "host") {
        req.push_str("host: localhost\r\n");
    }
    req.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    s.write_all(&bytes).unwrap();
}

fn read_reply(s: &mut TcpStream) -> Reply {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_ne!(s.read(&mut byte).unwrap(), 0, "closed before an answer");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap();
    let len = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    s.read_exact(&mut body).unwrap();
    Reply { status, body }
}

impl Proxy {
    /// POST `path` with `body`, signed by `signer`, on connection `s`.
    fn post_on(&self, s: &mut TcpStream, path: &str, body: &Value, signer: Signer<'_>) -> Reply {
        let body = body.to_string().into_bytes();
        let host = self.addr.to_string();
        send(
            s,
            "POST",
            path,
            &signed_headers(&host, path, &body, signer),
            &body,
        );
        read_reply(s)
    }

    fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_on(&mut self.connect(), path, body, Signer::good())
    }

    fn post_as(&self, path: &str, body: &Value, signer: Signer<'_>) -> Reply {
        self.post_on(&mut self.connect(), path, body, signer)
    }
}

fn metadata(op: &str) -> Value {
    json!({
        "awsPrincipalArn": "arn:aws:iam::111122223333:user/Alice",
        "kmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "kmsOperation": op,
        "kmsRequestId": "4112f4d6-db54-4af4-ae30-c55a22a8dfae"
    })
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
}

fn encrypt_body(plaintext: &[u8], aad: Option<&[u8]>) -> Value {
    let mut body = json!({
        "requestMetadata": metadata("Encrypt"),
        "plaintext": b64(plaintext),
        "encryptionAlgorithm": "AES_GCM",
    });
    if let Some(aad) = aad {
        body["additionalAuthenticatedData"] = json!(b64(aad));
    }
    body
}

fn decrypt_body(encrypted: &Value, aad: Option<&[u8]>) -> Value {
    let mut body = json!({
        "requestMetadata": metadata("Decrypt"),
        "ciphertext": encrypted["ciphertext"],
        "initializationVector": encrypted["initializationVector"],
        "authenticationTag": encrypted["authenticationTag"],
        "encryptionAlgorithm": "AES_GCM",
    });
    if let Some(aad) = aad {
        body["additionalAuthenticatedData"] = json!(b64(aad));
    }
    body
}

fn path(rest: &str) -> String {
    format!("{BASE}/{rest}")
}

#[test]
fn every_endpoint_answers_in_the_specs_shapes() {
    let p = Proxy::start(&[]);
    let health = p.post(
        &path("health"),
        &json!({"requestMetadata": {"kmsOperation": "KmsHealthCheck", "kmsRequestId": "r-1"}}),
    );
    assert_eq!(health.status, 200);
    let h = health.json();
    assert_eq!(h["xksProxyFleetSize"], 1);
    assert_eq!(h["ekmFleetDetails"][0]["healthStatus"], "ACTIVE");
    assert!(h["xksProxyVendor"].is_string() && h["ekmVendor"].is_string());

    let meta = p.post(
        &path("keys/k1/metadata"),
        &json!({"requestMetadata": metadata("CreateKey")}),
    );
    assert_eq!(meta.status, 200);
    assert_eq!(
        meta.json(),
        json!({"keySpec": "AES_256", "keyUsage": ["ENCRYPT", "DECRYPT"], "keyStatus": "ENABLED"})
    );
    let rsa = p
        .post(
            &path("keys/rsa/metadata"),
            &json!({"requestMetadata": metadata("DescribeKey")}),
        )
        .json();
    assert_eq!(rsa["keySpec"], "RSA_2048");
    assert_eq!(rsa["keyUsage"], json!(["SIGN", "VERIFY"]));
    let off = p
        .post(
            &path("keys/off/metadata"),
            &json!({"requestMetadata": metadata("DescribeKey")}),
        )
        .json();
    assert_eq!(off["keyStatus"], "DISABLED");

    // Encrypt then Decrypt, with and without AAD, on one kept-alive connection.
    let mut conn = p.connect();
    for aad in [None, Some(&b"project=nile"[..])] {
        let enc = p.post_on(
            &mut conn,
            &path("keys/k1/encrypt"),
            &encrypt_body(b"kms layer ciphertext", aad),
            Signer::good(),
        );
        assert_eq!(enc.status, 200);
        let e = enc.json();
        assert_eq!(unb64(&e["ciphertext"]).len(), 20);
        assert_eq!(unb64(&e["initializationVector"]).len(), 12);
        assert_eq!(unb64(&e["authenticationTag"]).len(), 16);
        assert_ne!(unb64(&e["ciphertext"]), b"kms layer ciphertext");
        assert!(e.get("ciphertextDataIntegrityValue").is_none());
        let dec = p.post_on(
            &mut conn,
            &path("keys/k1/decrypt"),
            &decrypt_body(&e, aad),
            Signer::good(),
        );
        assert_eq!(dec.status, 200);
        assert_eq!(unb64(&dec.json()["plaintext"]), b"kms layer ciphertext");
    }
}

#[test]
fn cdiv_is_sha256_over_aad_iv_ciphertext_and_tag() {
    let p = Proxy::start(&[]);
    for aad in [None, Some(&b"dept=finance"[..])] {
        let mut body = encrypt_body(b"data key", aad);
        body["ciphertextDataIntegrityValueAlgorithm"] = json!("SHA_256");
        let e = p.post(&path("keys/k1/encrypt"), &body).json();
        let mut input = aad.unwrap_or_default().to_vec();
        for field in ["initializationVector", "ciphertext", "authenticationTag"] {
            input.extend(unb64(&e[field]));
        }
        use sha2::Digest as _;
        let want = sha2::Sha256::digest(&input).to_vec();
        assert_eq!(unb64(&e["ciphertextDataIntegrityValue"]), want);
        let dec = p.post(&path("keys/k1/decrypt"), &decrypt_body(&e, aad));
        assert_eq!(unb64(&dec.json()["plaintext"]), b"data key");
    }
    // The CDIV is checked by a decryption: an encrypt-only key cannot give one.
    let mut body = encrypt_body(b"x", None);
    body["ciphertextDataIntegrityValueAlgorithm"] = json!("SHA_256");
    let r = p.post(&path("keys/enc_only/encrypt"), &body);
    assert_eq!(
        (r.status, r.error_name().as_str()),
        (400, "InvalidKeyUsageException")
    );
}

#[test]
fn cdiv_covers_ciphertext_metadata() {
    let e = XksEncryptResponse {
        ciphertext: vec![1, 2],
        ciphertext_metadata: Some(vec![9]),
        initialization_vector: vec![3; 12],
        authentication_tag: vec![4; 16],
        ciphertext_data_integrity_value: None,
    };
    use sha2::Digest as _;
    let mut input = b"a".to_vec();
    input.push(9);
    input.extend([3; 12]);
    input.extend([1, 2]);
    input.extend([4; 16]);
    assert_eq!(
        ciphertext_data_integrity_value(Some(b"a"), &e),
        sha2::Sha256::digest(&input).to_vec()
    );
}

#[test]
fn the_specs_errors_come_with_their_statuses() {
    let p = Proxy::start(&[]);
    let check = |r: Reply, status: u16, name: &str| {
        assert_eq!((r.status, r.error_name()), (status, name.to_owned()));
    };
    let md = json!({"requestMetadata": metadata("DescribeKey")});
    // Paths.
    check(
        p.post("/team/b/kms/xks/v1/health", &md),
        404,
        "InvalidUriPathException",
    );
    check(
        p.post(&path("keys/k1/rotate"), &md),
        404,
        "InvalidUriPathException",
    );
    check(
        p.post(&path("keys//metadata"), &md),
        404,
        "InvalidUriPathException",
    );
    check(
        p.post("/kms/xks/v1/health", &md),
        404,
        "InvalidUriPathException",
    );
    // Method.
    let mut s = p.connect();
    let host = p.addr.to_string();
    let target = path("health");
    send(
        &mut s,
        "GET",
        &target,
        &signed_headers(&host, &target, b"", Signer::good()),
        b"",
    );
    check(read_reply(&mut s), 501, "UnsupportedOperationException");
    // Keys.
    check(
        p.post(&path("keys/nope/metadata"), &md),
        404,
        "KeyNotFoundException",
    );
    check(
        p.post(&path("keys/no$such/metadata"), &md),
        404,
        "KeyNotFoundException",
    );
    let enc = encrypt_body(b"x", None);
    check(
        p.post(&path("keys/nope/encrypt"), &enc),
        404,
        "KeyNotFoundException",
    );
    check(
        p.post(&path("keys/dec_only/encrypt"), &enc),
        400,
        "InvalidKeyUsageException",
    );
    check(
        p.post(&path("keys/none/encrypt"), &enc),
        400,
        "InvalidKeyUsageException",
    );
    check(
        p.post(&path("keys/rsa/encrypt"), &enc),
        400,
        "InvalidKeyUsageException",
    );
    check(
        p.post(&path("keys/off/encrypt"), &enc),
        400,
        "InvalidStateException",
    );
    let good = p.post(&path("keys/enc_only/encrypt"), &enc).json();
    check(
        p.post(&path("keys/enc_only/decrypt"), &decrypt_body(&good, None)),
        400,
        "InvalidKeyUsageException",
    );
    // Ciphertexts that do not authenticate.
    let e = p
        .post(&path("keys/k1/encrypt"), &encrypt_body(b"abc", Some(b"a")))
        .json();
    check(
        p.post(&path("keys/k1/decrypt"), &decrypt_body(&e, None)),
        400,
        "InvalidCiphertextException",
    );
    check(
        p.post(&path("keys/k1/decrypt"), &decrypt_body(&e, Some(b"b"))),
        400,
        "InvalidCiphertextException",
    );
    let mut tampered = decrypt_body(&e, Some(b"a"));
    let mut tag = unb64(&e["authenticationTag"]);
    tag[0] ^= 1;
    tampered["authenticationTag"] = json!(b64(&tag));
    check(
        p.post(&path("keys/k1/decrypt"), &tampered),
        400,
        "InvalidCiphertextException",
    );
    // Bodies.
    for body in [
        json!({}),
        json!({"requestMetadata": {}}),
        json!({"requestMetadata": {"kmsOperation": "Encrypt"}}),
        json!({"requestMetadata": metadata("Encrypt"), "encryptionAlgorithm": "AES_GCM"}),
        json!({"requestMetadata": metadata("Encrypt"), "plaintext": "AA==", "encryptionAlgorithm": "RSA"}),
        json!({"requestMetadata": metadata("Encrypt"), "plaintext": "not base64!", "encryptionAlgorithm": "AES_GCM"}),
        json!({"requestMetadata": metadata("Encrypt"), "plaintext": b64(&[0; 4301]), "encryptionAlgorithm": "AES_GCM"}),
        json!([1, 2]),
    ] {
        check(
            p.post(&path("keys/k1/encrypt"), &body),
            400,
            "ValidationException",
        );
    }
    check(
        p.post(&path("health"), &json!({})),
        400,
        "ValidationException",
    );
    let mut s = p.connect();
    let target = path("keys/k1/metadata");
    send(
        &mut s,
        "POST",
        &target,
        &signed_headers(&host, &target, b"{", Signer::good()),
        b"{",
    );
    check(read_reply(&mut s), 400, "ValidationException");
    // The limits: 4300 bytes of plaintext and 8192 of AAD pass.
    let big = encrypt_body(&[7; 4300], Some(&[8; 8192]));
    let e = p.post(&path("keys/k1/encrypt"), &big);
    assert_eq!(e.status, 200);
    let d = p.post(
        &path("keys/k1/decrypt"),
        &decrypt_body(&e.json(), Some(&[8; 8192])),
    );
    assert_eq!(unb64(&d.json()["plaintext"]), vec![7; 4300]);
    // A body over 64 KiB.
    let mut s = p.connect();
    let huge = vec![b' '; 70 * 1024];
    send(
        &mut s,
        "POST",
        &target,
        &signed_headers(&host, &target, &huge, Signer::good()),
        &huge,
    );
    check(read_reply(&mut s), 413, "ValidationException");
}

#[test]
fn authentication_failures_are_401() {
    let p = Proxy::start(&[]);
    let md = json!({"requestMetadata": metadata("DescribeKey")});
    let target = path("keys/k1/metadata");
    let good = Signer::good();
    let bad_signers = [
        Signer {
            key: "INVALIDXKSPROXYTESTKEY2345",
            ..good
        },
        Signer {
            secret: "anotherSecretOf43To64CharactersLong0123456789ab",
            ..good
        },
        Signer {
            service: "kms",
            ..good
        },
        Signer {
            secs: good.secs - 16 * 60,
            ..good
        },
        Signer {
            secs: good.secs + 16 * 60,
            ..good
        },
    ];
    for signer in bad_signers {
        let r = p.post_as(&target, &md, signer);
        assert_eq!(
            (r.status, r.error_name().as_str()),
            (401, "AuthenticationFailedException")
        );
        // The message never carries the secret or the signature.
        let text = String::from_utf8_lossy(&r.body).into_owned();
        assert!(!text.contains(SECRET) && !text.contains(signer.secret));
    }
    // Unsigned, or a signature over another body.
    let mut s = p.connect();
    let body = md.to_string().into_bytes();
    send(
        &mut s,
        "POST",
        &target,
        &[("content-type".into(), "application/json".into())],
        &body,
    );
    assert_eq!(read_reply(&mut s).status, 401);
    let host = p.addr.to_string();
    let headers = signed_headers(&host, &target, b"{\"other\":1}", good);
    send(&mut s, "POST", &target, &headers, &body);
    assert_eq!(read_reply(&mut s).status, 401);
    // Signed for another path.
    let headers = signed_headers(&host, &path("keys/k2/metadata"), &body, good);
    send(&mut s, "POST", &target, &headers, &body);
    assert_eq!(read_reply(&mut s).status, 401);
    // The same request, signed right, on the same connection: 200.
    assert_eq!(p.post_on(&mut s, &target, &md, good).status, 200);
    // Any Region is accepted when none is configured.
    assert_eq!(
        p.post_as(
            &target,
            &md,
            Signer {
                region: "eu-west-3",
                ..good
            }
        )
        .status,
        200
    );
    // The log names operations and statuses, never the secret.
    let log = p.log();
    assert!(log.contains("AuthenticationFailedException"), "{log}");
    assert!(!log.contains(SECRET));
}

#[test]
fn a_uri_prefix_on_the_command_line_wins() {
    let p = Proxy::start_at(
        &["--uri-prefix", "/other/prefix/"],
        "/other/prefix/kms/xks/v1",
    );
    let md = json!({"requestMetadata": {"kmsOperation": "KmsHealthCheck", "kmsRequestId": "r"}});
    assert_eq!(p.post("/other/prefix/kms/xks/v1/health", &md).status, 200);
    assert_eq!(p.post(&path("health"), &md).status, 404);
}

// ---- in process: the errors only fault switches cause ------------------

fn in_process() -> (XksProxy, kms_keystore::xks::InMemoryExternalKeyManager) {
    let config = XksProxyConfig::from_json(&config_json()).unwrap();
    config.build(None).unwrap()
}

fn handle(proxy: &XksProxy, rest: &str, body: &Value) -> (u16, String, Option<XksError>) {
    let target = path(rest);
    let body = body.to_string().into_bytes();
    let headers = signed_headers("xks.example.com", &target, &body, Signer::good());
    let r = proxy.handle(
        &WireRequest {
            method: "POST",
            path: &target,
            headers: &headers,
            body: &body,
            peer: None,
            secure: false,
        },
        now_secs(),
    );
    let name = r.json().unwrap()["errorName"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (r.status, name, r.error)
}

#[test]
fn every_manager_error_keeps_its_name_and_status() {
    let (proxy, manager) = in_process();
    let md = json!({"requestMetadata": metadata("DescribeKey")});
    for &error in XksError::values() {
        manager.clear_faults();
        manager.inject_fault(Some(XksOperation::GetKeyMetadata), error);
        let (status, name, answered) = handle(&proxy, "keys/k1/metadata", &md);
        let want = match error {
            XksError::TimedOut => XksError::DependencyTimeout,
            e if e.is_transport() => XksError::Internal,
            e => e,
        };
        assert_eq!(answered, Some(want), "{error:?}");
        assert_eq!(status, want.http_status().unwrap(), "{error:?}");
        assert_eq!(name, want.error_name().unwrap(), "{error:?}");
        // The fault is scoped: health still answers.
        let (ok, _, none) = handle(
            &proxy,
            "health",
            &json!({"requestMetadata": {"kmsOperation": "KmsHealthCheck", "kmsRequestId": "r"}}),
        );
        assert_eq!((ok, none), (200, None));
    }
    // The statuses, as the spec lists them.
    manager.clear_faults();
    for (error, status, name) in [
        (XksError::Throttling, 429, "ThrottlingException"),
        (XksError::AccessDenied, 403, "AccessDeniedException"),
        (XksError::Internal, 500, "InternalException"),
        (
            XksError::DependencyTimeout,
            503,
            "DependencyTimeoutException",
        ),
        (
            XksError::UnsupportedOperation,
            501,
            "UnsupportedOperationException",
        ),
    ] {
        manager.clear_faults();
        manager.inject_fault(None, error);
        let (got_status, got_name, _) = handle(&proxy, "keys/k1/metadata", &md);
        assert_eq!((got_status, got_name.as_str()), (status, name));
    }
}

#[test]
fn a_config_is_checked_when_built() {
    let bad = |text: &str| XksProxyConfig::from_json(text).and_then(|c| c.build(None).map(drop));
    assert!(bad(r#"{"credential": {"access_key_id": "lowercase-not-allowed-x", "secret_access_key": "s"}}"#).is_err());
    let cred = format!(
        r#""credential": {{"access_key_id": "{ACCESS_KEY_ID}", "secret_access_key": "{SECRET}"}}"#
    );
    assert!(bad(&format!(r#"{{{cred}, "uri_prefix": "bad prefix!"}}"#)).is_err());
    assert!(
        bad(&format!(
            r#"{{{cred}, "keys": [{{"id": "a"}}, {{"id": "a"}}]}}"#
        ))
        .is_err()
    );
    assert!(bad(&format!(r#"{{{cred}, "unknown": 1}}"#)).is_err());
    assert!(bad(&format!(r#"{{{cred}}}"#)).is_ok());
    // Debug output never shows the secret.
    let (proxy, manager) = in_process();
    assert!(!format!("{proxy:?} {manager:?}").contains(SECRET));
    let config = XksProxyConfig::from_json(&config_json()).unwrap();
    assert!(!format!("{config:?}").contains(SECRET));
}

#[test]
fn a_signed_encrypt_is_answered_quickly_on_loopback() {
    // Not a benchmark: one kept-alive connection, 200 signed Encrypts; the
    // figure is printed (`--nocapture`) and only bounded loosely.
    let p = Proxy::start(&["--quiet"]);
    let mut s = p.connect();
    let target = path("keys/k1/encrypt");
    let host = p.addr.to_string();
    let body = encrypt_body(&[5; 64], Some(b"aad"))
        .to_string()
        .into_bytes();
    let headers = signed_headers(&host, &target, &body, Signer::good());
    let mut times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        send(&mut s, "POST", &target, &headers, &body);
        assert_eq!(read_reply(&mut s).status, 200);
        times.push(t.elapsed());
    }
    times.sort();
    let p50 = times[times.len() / 2];
    println!(
        "Encrypt round trip over one keep-alive connection: p50 {p50:?}, p99 {:?}",
        times[198]
    );
    assert!(p50 < Duration::from_millis(50), "p50 {p50:?}");
}
