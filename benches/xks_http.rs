//! Encrypt (32 bytes) through an external key store whose proxy is real:
//! the crate's `HttpXksClient` calling `kms-keystore-xks-proxy` over TLS
//! (a CA made here) on loopback, both layers of encryption included.
//!
//! Printed before the criterion groups, from timed loops of their own:
//! p50/p99 latency and requests per second with one caller (one kept-alive
//! connection) and with 8 concurrent callers (8 connections from the
//! client's pool); the proxy's own time per call (its `latency_us` log
//! field: from the request head to the answer, so without the client's
//! signing or the network); the client's SigV4 signing alone; and the
//! proxy's handler alone (routing, SigV4 verification, JSON, AES-GCM) on a
//! request signed beforehand, in process. With `XKS_BENCH_SAMPLE_PROXY`
//! set to `host:port` of AWS's sample proxy on SoftHSM (plain HTTP, set up
//! as tests/xks_sample_proxy.rs does: its credential, prefix and key
//! `foo`), the same Encrypt loop runs against it too.
//!
//! The criterion groups: `xks_http/encrypt_1_caller`,
//! `xks_http/encrypt_8_callers` (throughput of 8 Encrypts at once),
//! `xks_http/sigv4_sign`, `xks_http/proxy_handle`.
//!
//! `cargo bench --features xks-http --bench xks_http` (add `-- --quick`
//! for a short run).

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench whose setup fails must stop loudly, as a test does"
)]

#[allow(dead_code, reason = "shared with the tests, which use all of it")]
#[path = "../tests/xks_support/mod.rs"]
mod xks_support;

#[allow(dead_code, reason = "shared with the tests, which use all of it")]
#[path = "../tests/xks_support/pki.rs"]
mod pki;

#[allow(dead_code, reason = "shared with the tests, which use all of it")]
#[path = "../tests/xks_support/kms.rs"]
mod xks_kms;

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kms_keystore::server::WireRequest;
use kms_keystore::xks::http::{HttpXksClient, HttpXksClientConfig};
use kms_keystore::xks::proxy::XksProxyConfig;
use kms_keystore::{EncryptRequest, Kms, KmsConfig, Quotas};
use serde_json::json;
use xks_support::Proxy;

const ACCESS_KEY_ID: &str = "XKSBENCHKEY234567ABCDEFGH";
const SECRET: &str = "xksBenchSecretOf43To64CharactersLong0123456789ab";
const REGION: &str = "us-east-1";
const CALLERS: usize = 8;

/// The sample proxy's settings as tests/xks_sample_proxy.rs writes them.
const SAMPLE_ACCESS_KEY_ID: &str = "XKSLABACCESSKEY234567ABCD";
const SAMPLE_SECRET: &str = "XksLabSecretAccessKeyForSoftHsmTesting0123456789";
const SAMPLE_PATH: &str = "/example/uri/path/prefix/kms/xks/v1";

fn quick() -> bool {
    std::env::args().any(|a| a == "--quick")
}

/// A KMS whose endpoint is reached through `client`, with one external key
/// store at `path` and one KMS key over external key `xks_key`.
fn kms_with_key(
    client: HttpXksClient,
    path: &str,
    access_key_id: &str,
    secret: &str,
    xks_key: &str,
) -> (Kms, String) {
    // The store's request quota (AWS: 1,800 a second) would throttle the
    // timed loops: the bench measures the path, not the quota.
    let mut quotas = Quotas::default();
    quotas.custom_key_store_requests_per_second = None;
    let kms = Kms::new(
        KmsConfig::new("111122223333", REGION)
            .unwrap()
            .with_quotas(quotas),
    );
    kms.xks_network()
        .attach(xks_kms::ENDPOINT, Arc::new(client));
    let store = kms
        .create_custom_key_store(xks_kms::store_request("bench", path, access_key_id, secret))
        .expect("create the external key store")
        .custom_key_store_id;
    kms.connect_custom_key_store(store.as_str()).unwrap();
    let key = kms
        .create_key(xks_kms::key_request(store.as_str(), xks_key))
        .expect("create the KMS key")
        .key_metadata
        .key_id;
    (kms, key.to_string())
}

fn encrypt(kms: &Kms, key: &str) {
    let out = kms
        .encrypt(EncryptRequest {
            key_id: key.to_owned(),
            plaintext: vec![7u8; 32].into(),
            ..Default::default()
        })
        .expect("Encrypt");
    black_box(out);
}

/// p-th percentile (0–100) of sorted `v`.
fn pct(v: &[Duration], p: usize) -> Duration {
    v[(v.len() - 1) * p / 100]
}

/// `n` Encrypts by each of `callers` threads: all latencies, sorted, and
/// the requests per second over the whole run.
fn encrypt_loop(kms: &Kms, key: &str, callers: usize, n: usize) -> (Vec<Duration>, f64) {
    for _ in 0..20 {
        encrypt(kms, key);
    }
    let started = Instant::now();
    let mut all: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..callers)
            .map(|_| {
                s.spawn(|| {
                    (0..n)
                        .map(|_| {
                            let t = Instant::now();
                            encrypt(kms, key);
                            t.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let secs = started.elapsed().as_secs_f64();
    all.sort();
    let rate = all.len() as f64 / secs;
    (all, rate)
}

fn report(what: &str, lat: &[Duration], rate: f64) {
    println!(
        "{what}: p50 {:.0} µs, p99 {:.0} µs, {rate:.0} Encrypt/s ({} calls)",
        pct(lat, 50).as_secs_f64() * 1e6,
        pct(lat, 99).as_secs_f64() * 1e6,
        lat.len()
    );
}

/// The proxy's `latency_us` of every answered Encrypt in its JSON log.
fn proxy_latencies(proxy: &Proxy) -> Vec<Duration> {
    let mut v: Vec<Duration> = proxy
        .log()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["operation"] == "Encrypt" && v["fields"]["status"] == 200)
        .filter_map(|v| v["fields"]["latency_us"].as_u64())
        .map(Duration::from_micros)
        .collect();
    v.sort();
    v
}

/// The signed headers of a proxy Encrypt, as the client signs them.
fn signed_headers(url: &str, body: &[u8], now: SystemTime) -> Vec<(String, String)> {
    let identity =
        aws_credential_types::Credentials::new(ACCESS_KEY_ID, SECRET, None, None, "bench").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("kms-xks-proxy")
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let base = [("content-type", "application/json")];
    let request =
        SignableRequest::new("POST", url, base.iter().copied(), SignableBody::Bytes(body)).unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let mut headers: Vec<(String, String)> = vec![
        ("host".to_owned(), "xks.example.com".to_owned()),
        ("content-type".to_owned(), "application/json".to_owned()),
    ];
    for (name, value) in instructions.headers() {
        headers.push((name.to_owned(), value.to_owned()));
    }
    headers
}

fn encrypt_body() -> Vec<u8> {
    json!({
        "requestMetadata": {
            "awsPrincipalArn": "arn:aws:iam::111122223333:root",
            "kmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "kmsOperation": "Encrypt",
            "kmsRequestId": "4112f4d6-db54-4af4-ae30-c55a22a8dfae"
        },
        "plaintext": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "encryptionAlgorithm": "AES_GCM",
        "additionalAuthenticatedData": "YXdzOmttczpleGFtcGxl"
    })
    .to_string()
    .into_bytes()
}

fn xks_http(c: &mut Criterion) {
    let ca = pki::Ca::new("bench-ca");
    let server = ca.server("xks.example.com");
    let config = json!({
        "uri_prefix": "bench",
        "region": REGION,
        "credential": {"access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET},
        "keys": [{"id": "k1"}]
    })
    .to_string();
    let cert = server.cert.to_str().unwrap().to_owned();
    let key_file = server.key.to_str().unwrap().to_owned();
    let (proxy, _) = Proxy::spawn(
        &config,
        &[
            "--tls-cert",
            &cert,
            "--tls-key",
            &key_file,
            "--log-format",
            "json",
        ],
    );
    let client = HttpXksClient::new(
        HttpXksClientConfig::new()
            .connect_to(proxy.addr)
            .region(REGION)
            .root_certificates_pem(ca.pem().as_bytes())
            .unwrap(),
    );
    let (kms, key) = kms_with_key(client, "/bench/kms/xks/v1", ACCESS_KEY_ID, SECRET, "k1");

    let n = if quick() { 300 } else { 3000 };
    let (lat, rate) = encrypt_loop(&kms, &key, 1, n);
    report("our proxy over TLS, 1 caller", &lat, rate);
    let own = proxy_latencies(&proxy);
    let (lat8, rate8) = encrypt_loop(&kms, &key, CALLERS, n / 2);
    report("our proxy over TLS, 8 callers", &lat8, rate8);
    println!(
        "our proxy's own time per Encrypt (its latency_us, 1 caller): p50 {} µs, p99 {} µs",
        pct(&own, 50).as_micros(),
        pct(&own, 99).as_micros()
    );

    // The signing alone, and the proxy's handler alone.
    let url = "https://xks.example.com/bench/kms/xks/v1/keys/k1/encrypt";
    let body = encrypt_body();
    let sign_lat = {
        let mut v: Vec<Duration> = (0..n)
            .map(|_| {
                let t = Instant::now();
                black_box(signed_headers(url, &body, SystemTime::now()));
                t.elapsed()
            })
            .collect();
        v.sort();
        v
    };
    println!(
        "client SigV4 signing of an Encrypt: p50 {:.1} µs",
        pct(&sign_lat, 50).as_secs_f64() * 1e6
    );
    let (handler, _manager) = XksProxyConfig::from_json(&config)
        .unwrap()
        .build(None)
        .unwrap();
    let now = SystemTime::now();
    let now_secs = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let headers = signed_headers(url, &body, now);
    let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
    let request = WireRequest {
        method: "POST",
        path: "/bench/kms/xks/v1/keys/k1/encrypt",
        headers: &headers,
        body: &body,
        peer: Some(peer.ip()),
        secure: true,
    };
    assert_eq!(handler.handle(&request, now_secs).status, 200);
    let handle_lat = {
        let mut v: Vec<Duration> = (0..n)
            .map(|_| {
                let t = Instant::now();
                black_box(handler.handle(&request, now_secs));
                t.elapsed()
            })
            .collect();
        v.sort();
        v
    };
    println!(
        "our proxy's handler alone (verify SigV4, parse, AES-GCM, answer): p50 {:.1} µs",
        pct(&handle_lat, 50).as_secs_f64() * 1e6
    );

    if let Ok(addr) = std::env::var("XKS_BENCH_SAMPLE_PROXY") {
        let addr: SocketAddr = addr.parse().expect("XKS_BENCH_SAMPLE_PROXY is host:port");
        let client = HttpXksClient::new(
            HttpXksClientConfig::new()
                .connect_to(addr)
                .allow_plain_http()
                .region(REGION),
        );
        let (sample, sample_key) = kms_with_key(
            client,
            SAMPLE_PATH,
            SAMPLE_ACCESS_KEY_ID,
            SAMPLE_SECRET,
            "foo",
        );
        let (lat, rate) = encrypt_loop(&sample, &sample_key, 1, n);
        report(
            "AWS's sample proxy on SoftHSM (plain HTTP), 1 caller",
            &lat,
            rate,
        );
        let (lat, rate) = encrypt_loop(&sample, &sample_key, CALLERS, n / 2);
        report(
            "AWS's sample proxy on SoftHSM (plain HTTP), 8 callers",
            &lat,
            rate,
        );
    }

    let mut g = c.benchmark_group("xks_http");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encrypt_1_caller", |b| b.iter(|| encrypt(&kms, &key)));
    g.throughput(Throughput::Elements(CALLERS as u64));
    g.bench_function("encrypt_8_callers", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for _ in 0..CALLERS {
                    s.spawn(|| encrypt(&kms, &key));
                }
            });
        });
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("sigv4_sign", |b| {
        b.iter(|| black_box(signed_headers(url, &body, SystemTime::now())));
    });
    g.bench_function("proxy_handle", |b| {
        b.iter(|| black_box(handler.handle(&request, now_secs)));
    });
    g.finish();
    drop(proxy);
}

criterion_group!(benches, xks_http);
criterion_main!(benches);
