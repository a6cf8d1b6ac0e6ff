//! `kms-keystore-xks-proxy`: an XKS proxy (XKS Proxy API v1) over HTTPS
//! (or plain HTTP when asked for), backed by the crate's in-memory external
//! key manager.
//!
//! ```text
//! cargo run --features xks-http --bin kms-keystore-xks-proxy -- \
//!     --listen 127.0.0.1:0 --config xks-proxy.json \
//!     --tls-cert proxy-chain.pem --tls-key proxy-key.pem [--client-ca kms-ca.pem]
//! cargo run --features xks-http --bin kms-keystore-xks-proxy -- \
//!     --listen 127.0.0.1:0 --config xks-proxy.json --plain-http
//! ```
//!
//! TLS is rustls (ring) under tokio, TLS 1.2 and 1.3 only, as the XKS spec
//! requires. `--tls-cert` is the certificate chain (leaf first) and
//! `--tls-key` its private key (PKCS#8, PKCS#1 or SEC1 PEM); the key file's
//! text and DER are zeroized once rustls holds the key, and neither is ever
//! logged. With `--client-ca`, every client must present a certificate
//! issued by one of those CAs (mTLS) or the handshake fails. Without
//! `--tls-cert`, the proxy refuses to start unless `--plain-http` says
//! plain HTTP is wanted (local tests only).
//!
//! A thin HTTP/1.1 shell (hyper on tokio) over
//! [`kms_keystore::xks::proxy::XksProxy::handle`], which routes, verifies
//! SigV4 (service `kms-xks-proxy`) and answers with the spec's JSON. This
//! file owns only the transport: keep-alive, `TCP_NODELAY`, timeouts, size
//! limits, bounded concurrency and shutdown on SIGINT/SIGTERM.
//!
//! Once listening, it prints one JSON line on standard output:
//! `{"listening":"127.0.0.1:41234","scheme":"https","path":"/…/kms/xks/v1","keys":[…]}`.
//! Logs (one line per request: operation, key, status, error, latency; never
//! a secret, a body or a signature) go to standard error.
//!
//! Limits, and what a client gets past them:
//! - request head over 16 KiB or more than 64 headers: `431`, closed (hyper);
//! - no complete request head within `--idle-timeout` of the previous
//!   answer (or of the connection): closed;
//! - no complete TLS handshake within `--idle-timeout`: closed;
//! - body over 64 KiB (the largest valid request is about 17 KiB): `413`
//!   `ValidationException`, closed;
//! - body not complete within `--body-timeout`: `408` `ValidationException`,
//!   closed;
//! - more than `--max-in-flight` requests at once: `429`
//!   `ThrottlingException` (the spec's answer for too many requests);
//! - more than `--max-connections` connections: the rest wait in the
//!   kernel's accept queue.

#[path = "common/mod.rs"]
mod common;

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use common::{LogFormat, SecretBuf, init_logging, parse_duration, wait_for_signal};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use kms_keystore::server::WireRequest;
use kms_keystore::xks::proxy::{XksProxy, XksProxyConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use zeroize::Zeroizing;

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;

/// Largest request head (request line and headers).
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Most headers in a request.
const MAX_HEADERS: usize = 64;

/// An XKS proxy (XKS Proxy API v1, SigV4 service `kms-xks-proxy`) over
/// HTTPS (TLS 1.2+, optionally mTLS) or, when asked for, plain HTTP, backed
/// by an in-memory external key manager.
///
/// Every option can also be set from the environment variable named after
/// it. The SigV4 secret is only ever read from the configuration file, the
/// TLS private key only from its file.
#[derive(Parser, Debug)]
#[command(name = "kms-keystore-xks-proxy", version, about, long_about)]
struct Cli {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "XKS_PROXY_LISTEN", default_value = "127.0.0.1:4600")]
    listen: SocketAddr,

    /// JSON configuration: uri_prefix, credential, keys (see the docs of
    /// `kms_keystore::xks::proxy::XksProxyConfig`).
    #[arg(long, env = "XKS_PROXY_CONFIG", value_name = "FILE")]
    config: PathBuf,

    /// The server's certificate chain (PEM, leaf first): serve HTTPS.
    #[arg(
        long,
        env = "XKS_PROXY_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key",
        conflicts_with = "plain_http"
    )]
    tls_cert: Option<PathBuf>,

    /// The private key of `--tls-cert` (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "XKS_PROXY_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,

    /// CA certificates (PEM) that issue the clients' certificates: every
    /// client must present one (mTLS).
    #[arg(
        long,
        env = "XKS_PROXY_CLIENT_CA",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    client_ca: Option<PathBuf>,

    /// Serve plain HTTP, without TLS (local tests only: the XKS spec
    /// requires TLS).
    #[arg(long, env = "XKS_PROXY_PLAIN_HTTP")]
    plain_http: bool,

    /// The path before `/kms/xks/v1`, overriding the configuration's.
    #[arg(long, env = "XKS_PROXY_URI_PREFIX")]
    uri_prefix: Option<String>,

    /// Most connections open at once; the rest wait to be accepted.
    #[arg(long, env = "XKS_PROXY_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,

    /// Most requests being read or answered at once; the rest get 429
    /// ThrottlingException.
    #[arg(long, env = "XKS_PROXY_MAX_IN_FLIGHT", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_in_flight: u32,

    /// How long a connection may wait for its next request head (e.g. 60s).
    #[arg(long, env = "XKS_PROXY_IDLE_TIMEOUT", default_value = "60s",
          value_parser = parse_duration)]
    idle_timeout: Duration,

    /// Time allowed for a request body, from the end of its head.
    #[arg(long, env = "XKS_PROXY_BODY_TIMEOUT", default_value = "10s",
          value_parser = parse_duration)]
    body_timeout: Duration,

    /// Log lines as text or as JSON objects.
    #[arg(long, env = "XKS_PROXY_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,

    /// Log only warnings and errors (no line per request).
    #[arg(long, env = "XKS_PROXY_QUIET")]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.quiet, cli.log_format);
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            tracing::error!("{msg}");
            eprintln!("kms-keystore-xks-proxy: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    let path = &cli.config;
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read configuration {}: {e}", path.display()))?,
    );
    let config = XksProxyConfig::from_json(&text)
        .map_err(|e| format!("{}: {}", path.display(), e.message()))?;
    drop(text);
    let (proxy, manager) = config
        .build(cli.uri_prefix.as_deref())
        .map_err(|e| format!("{}: {}", path.display(), e.message()))?;
    drop(config);
    let tls = match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => Some(tls_acceptor(cert, key, cli.client_ca.as_deref())?),
        _ if cli.plain_http => None,
        _ => {
            return Err(
                "give --tls-cert and --tls-key to serve HTTPS, or --plain-http for plain HTTP"
                    .to_owned(),
            );
        }
    };
    let keys: Vec<String> = manager.key_ids().iter().map(ToString::to_string).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let served = runtime.block_on(serve(cli, proxy, tls, &keys));
    runtime.shutdown_timeout(Duration::from_secs(1));
    if served.is_ok() {
        tracing::info!("stopped");
    }
    served
}

/// Reads the certificate chain, its private key and the client CAs;
/// TLS 1.2 and 1.3 with ring's cipher suites. Errors name the file, never
/// its content.
fn tls_acceptor(cert: &Path, key: &Path, client_ca: Option<&Path>) -> Result<TlsAcceptor, String> {
    let read = |path: &Path| {
        std::fs::read(path)
            .map(Zeroizing::new)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let chain = CertificateDer::pem_slice_iter(&read(cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: unreadable PEM: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no CERTIFICATE in PEM", cert.display()));
    }
    // The DER is zeroized on drop; the signing key lives inside rustls.
    let der = Zeroizing::new(
        PrivateKeyDer::from_pem_slice(&read(key)?)
            .map_err(|_| format!("{}: no private key in PEM", key.display()))?,
    );
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&der)
        .map_err(|_| format!("{}: unsupported private key", key.display()))?;
    drop(der);
    let certified = CertifiedKey::new(chain, signing_key);
    certified
        .keys_match()
        .map_err(|_| format!("{} is not the key of {}", key.display(), cert.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS configuration: {e}"))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for ca in CertificateDer::pem_slice_iter(&read(path)?) {
                let ca = ca.map_err(|e| format!("{}: unreadable PEM: {e}", path.display()))?;
                roots
                    .add(ca)
                    .map_err(|e| format!("{}: bad CA certificate: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("{}: no CERTIFICATE in PEM", path.display()));
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// What every connection shares.
struct Shared {
    proxy: XksProxy,
    in_flight: Semaphore,
    body_timeout: Duration,
    secure: bool,
}

async fn serve(
    cli: &Cli,
    proxy: XksProxy,
    tls: Option<TlsAcceptor>,
    keys: &[String],
) -> Result<(), String> {
    let listener = TcpListener::bind(cli.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cli.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let line = serde_json::json!({
        "listening": addr.to_string(),
        "scheme": if tls.is_some() { "https" } else { "http" },
        "path": proxy.path(),
        "keys": keys,
    });
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to standard output: {e}"))?;
    }
    tracing::info!(
        %addr,
        tls = tls.is_some(),
        mtls = cli.client_ca.is_some(),
        path = proxy.path(),
        keys = keys.len(),
        "listening"
    );

    let (stop_tx, mut stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = stop_tx.send(true);
    });
    let shared = Arc::new(Shared {
        proxy,
        in_flight: Semaphore::new(cli.max_in_flight as usize),
        body_timeout: cli.body_timeout,
        secure: tls.is_some(),
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.keep_alive(true)
        .max_headers(MAX_HEADERS)
        .max_buf_size(MAX_HEADER_BYTES.max(8192))
        .timer(TokioTimer::new())
        // Runs from the end of one answer to the end of the next head: both
        // the idle wait of a kept-alive connection and a slow head.
        .header_read_timeout(cli.idle_timeout);
    let connections = Arc::new(Semaphore::new(cli.max_connections as usize));
    let mut backoff = Duration::ZERO;
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&connections).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stop_rx.wait_for(|s| *s) => break,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop_rx.wait_for(|s| *s) => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "accept failed");
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        backoff = Duration::ZERO;
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let shared = Arc::clone(&shared);
        let http = http.clone();
        let stop = stop_rx.clone();
        let tls = tls.clone();
        let handshake_timeout = cli.idle_timeout;
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, peer, shared, &http, stop).await,
                Some(acceptor) => {
                    let handshake = acceptor.accept(stream).into_fallible();
                    match tokio::time::timeout(handshake_timeout, handshake).await {
                        Ok(Ok(stream)) => serve_connection(stream, peer, shared, &http, stop).await,
                        Ok(Err((e, stream))) => {
                            // rustls's errors name the failed check (unknown
                            // CA, no client certificate…), never key material.
                            tracing::info!(%peer, error = %e, "TLS handshake failed");
                            linger(stream).await;
                        }
                        Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                    }
                }
            }
            drop(permit);
        });
    }
    tracing::info!("shutting down");
    Ok(())
}

/// After a failed handshake, whose alert rustls has sent: closes our side
/// and reads, for at most a second, what the client sent meanwhile. In TLS
/// 1.3 a client learns that its certificate was refused only after it has
/// sent its first request; closing with that request unread would reset
/// the connection and lose the alert, so the client would see a broken
/// connection instead of the TLS failure.
async fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut buf = [0u8; 4096];
    let drain = async {
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}

/// Serves one connection (plain or TLS) until it ends, or until the stop
/// signal, after answering the request in flight.
async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    shared: Arc<Shared>,
    http: &hyper::server::conn::http1::Builder,
    mut stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let shared = Arc::clone(&shared);
        async move { Ok::<_, Infallible>(answer(&shared, peer, req).await) }
    });
    let conn = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let stopping = tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            false
        }
        r = stop.wait_for(|s| *s) => r.is_ok(),
    };
    if stopping {
        // Answers the request in flight, if any, then closes.
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}

/// The request body into a zeroizing buffer (an Encrypt's carries
/// plaintext), at most [`MAX_BODY`]; `Err(true)` when larger, `Err(false)`
/// when the client broke off.
async fn read_body(mut body: Incoming) -> Result<Zeroizing<Vec<u8>>, bool> {
    let mut out = Zeroizing::new(Vec::new());
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| false)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if out.len() + data.len() > MAX_BODY {
            return Err(true);
        }
        out.extend_from_slice(&data);
    }
    Ok(out)
}

/// A transport-level error answer, in the spec's shape.
fn transport_error(status: u16, name: &str, message: &str) -> (u16, Zeroizing<Vec<u8>>, bool) {
    let body = serde_json::json!({ "errorName": name, "errorMessage": message }).to_string();
    (status, Zeroizing::new(body.into_bytes()), true)
}

/// One request's answer, logged.
async fn answer(
    shared: &Shared,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<SecretBuf>> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let (status, body, close, operation, error) = match shared.in_flight.try_acquire() {
        Err(_) => {
            let (s, b, c) = transport_error(
                429,
                "ThrottlingException",
                "Too many requests are in flight; retry later.",
            );
            (s, b, c, None, Some("ThrottlingException"))
        }
        Ok(_permit) => {
            let read = tokio::time::timeout(shared.body_timeout, read_body(body)).await;
            match read {
                Err(_) => {
                    let (s, b, c) = transport_error(
                        408,
                        "ValidationException",
                        "The request body did not arrive in time.",
                    );
                    (s, b, c, None, Some("ValidationException"))
                }
                Ok(Err(too_large)) => {
                    let (s, b, c) = if too_large {
                        transport_error(
                            413,
                            "ValidationException",
                            "The request body is too large.",
                        )
                    } else {
                        transport_error(400, "ValidationException", "Cannot read the request body.")
                    };
                    (s, b, c, None, Some("ValidationException"))
                }
                Ok(Ok(body)) => {
                    let headers: Vec<(String, String)> = parts
                        .headers
                        .iter()
                        .map(|(name, value)| {
                            (
                                name.as_str().to_owned(),
                                String::from_utf8_lossy(value.as_bytes()).into_owned(),
                            )
                        })
                        .collect();
                    let now_secs = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs());
                    let out = shared.proxy.handle(
                        &WireRequest {
                            method: parts.method.as_str(),
                            path: &target,
                            headers: &headers,
                            body: &body,
                            peer: Some(peer.ip()),
                            secure: shared.secure,
                        },
                        now_secs,
                    );
                    let operation = out.operation.map(|o| o.as_str());
                    let error = out.error.and_then(|e| e.error_name());
                    (out.status, out.body, false, operation, error)
                }
            }
        }
    };
    let latency_us = started.elapsed().as_micros() as u64;
    // The path names the operation and the external key id; neither is secret.
    let path = target.split_once('?').map_or(target.as_str(), |(p, _)| p);
    tracing::info!(
        %peer,
        operation = operation.unwrap_or("-"),
        path = %path.chars().take(256).collect::<String>(),
        status,
        error = error.unwrap_or("-"),
        latency_us,
        "request"
    );
    // The body is written from its zeroizing buffer, not copied.
    let mut response = Response::new(Full::new(SecretBuf::new(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if close {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
