//! `kms-keystore-server`: AWS KMS and AWS CloudHSM v2 over HTTP, on one
//! port, for the aws CLI, boto3 and the AWS SDKs.
//!
//! ```text
//! cargo run --features server --bin kms-keystore-server -- \
//!     --listen 127.0.0.1:4599 --fixture examples/server-fixture.json
//! aws --endpoint-url http://127.0.0.1:4599 kms list-keys
//! ```
//!
//! A thin HTTP/1.1 shell (hyper on tokio) over
//! [`kms_keystore::server::Dispatcher::handle`]: every request's method,
//! path, headers, body and peer address go to the dispatcher, which decides
//! who is asking and answers with a status and a JSON body. This file owns
//! only the transport: keep-alive, `TCP_NODELAY`, timeouts, size limits,
//! bounded concurrency, accept back-off and graceful shutdown.
//!
//! Once listening, the server prints one JSON line on standard output:
//! `{"listening":"127.0.0.1:4599","provisioned":{…}}` — the address (useful
//! with `--listen 127.0.0.1:0`, which picks a free port) and the ids of what
//! the fixture provisioned. Logs (one line per request) go to standard error.
//!
//! Limits, and what a client gets past them:
//! - request head over `--max-header-bytes` or with more than
//!   `--max-headers` headers: `431` and the connection is closed (hyper);
//! - URL over 8 KiB: `414` with a `ValidationException` body;
//! - body over 1 MiB: `413` with a `SerializationException` body (the body
//!   is read and discarded up to 16 MiB first, so that the client sees the
//!   answer rather than a reset), then the connection is closed;
//! - body not complete within `--body-timeout`: `408`
//!   `RequestTimeoutException`, connection closed;
//! - head not complete within `--header-timeout` of its first byte, or no
//!   request within `--idle-timeout` on a kept-alive connection: closed;
//! - more than `--max-in-flight` requests at once: `503`
//!   `ThrottlingException` (refused, not queued; the SDKs retry it);
//! - more than `--max-connections` connections: the rest wait in the
//!   kernel's accept queue until one closes.

#[path = "common/mod.rs"]
mod common;

use std::convert::Infallible;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use common::{LogFormat, SecretBuf, init_logging, parse_duration, wait_for_signal};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use kms_keystore::RootKey;
use kms_keystore::server::{
    AuthMode, Dispatcher, Fixture, Provisioned, ServerOptions, WireRequest,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use zeroize::Zeroizing;

/// Largest request body accepted (AWS's largest KMS request is far smaller).
const MAX_BODY: usize = 1024 * 1024;

/// How much of an oversized body is read and discarded before answering
/// 413, so that the client reads the answer instead of a connection reset.
const MAX_DRAIN: usize = 16 * 1024 * 1024;

/// Longest request target (path and query) accepted.
const MAX_URL: usize = 8 * 1024;

/// Longest pause between two tries of a failing `accept` (EMFILE, ENFILE,
/// ENOBUFS…); the first pause is 5 ms, doubled each time.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// The answer to `GET /` (a health check).
const SERVICE_DOCUMENT: &[u8] =
    br#"{"service":"kms-keystore","targets":["TrentService","BaldrApiService"]}"#;

/// AWS KMS (TrentService) and CloudHSM v2 (BaldrApiService) over the AWS JSON
/// 1.1 protocol, in process.
///
/// Every option can also be set from the environment variable named after
/// it. The durable store's root key is never a command-line value: it comes
/// from `--root-key-file` or from KMS_KEYSTORE_ROOT_KEY (64 hex digits).
#[derive(Parser, Debug)]
#[command(name = "kms-keystore-server", version, about, long_about)]
struct Cli {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "KMS_KEYSTORE_LISTEN", default_value = "127.0.0.1:4599")]
    listen: SocketAddr,

    /// JSON fixture provisioning CloudHSM clusters, external key managers
    /// and principals.
    #[arg(long, env = "KMS_KEYSTORE_FIXTURE", value_name = "FILE")]
    fixture: Option<PathBuf>,

    /// Who may call: `strict` verifies SigV4 against the fixture's
    /// principals, `permissive` takes any well-formed credential as the
    /// default account's root. Absent: strict when the fixture declares
    /// principals.
    #[arg(long, env = "KMS_KEYSTORE_AUTH", value_enum)]
    auth: Option<Auth>,

    /// Keep the whole state under this directory (durable mode; needs a
    /// root key).
    #[arg(long, env = "KMS_KEYSTORE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// File holding the durable store's root key, 64 hex digits.
    #[arg(long, env = "KMS_KEYSTORE_ROOT_KEY_FILE", value_name = "FILE")]
    root_key_file: Option<PathBuf>,

    /// Most connections open at once; the rest wait to be accepted.
    #[arg(long, env = "KMS_KEYSTORE_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,

    /// Most requests being read or answered at once; the rest get 503
    /// ThrottlingException.
    #[arg(long, env = "KMS_KEYSTORE_MAX_IN_FLIGHT", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_in_flight: u32,

    /// Largest request head (request line and headers), in bytes; larger
    /// gets 431.
    #[arg(long, env = "KMS_KEYSTORE_MAX_HEADER_BYTES", default_value_t = 32 * 1024,
          value_parser = clap::value_parser!(u32).range(1024..=1024 * 1024))]
    max_header_bytes: u32,

    /// Most headers in a request; more gets 431.
    #[arg(long, env = "KMS_KEYSTORE_MAX_HEADERS", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(8..=1024))]
    max_headers: u32,

    /// Time allowed for a request head, from its first byte (e.g. 10s, 500ms).
    #[arg(long, env = "KMS_KEYSTORE_HEADER_TIMEOUT", default_value = "10s",
          value_parser = parse_duration)]
    header_timeout: Duration,

    /// Time allowed for a request body, from the end of its head.
    #[arg(long, env = "KMS_KEYSTORE_BODY_TIMEOUT", default_value = "30s",
          value_parser = parse_duration)]
    body_timeout: Duration,

    /// How long a kept-alive connection may wait for its next request.
    #[arg(long, env = "KMS_KEYSTORE_IDLE_TIMEOUT", default_value = "60s",
          value_parser = parse_duration)]
    idle_timeout: Duration,

    /// On SIGINT/SIGTERM, how long in-flight requests may take to finish.
    #[arg(long, env = "KMS_KEYSTORE_SHUTDOWN_TIMEOUT", default_value = "10s",
          value_parser = parse_duration)]
    shutdown_timeout: Duration,

    /// Log lines as text or as JSON objects.
    #[arg(
        long,
        env = "KMS_KEYSTORE_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,

    /// Log only warnings and errors (no line per request).
    #[arg(long, env = "KMS_KEYSTORE_QUIET")]
    quiet: bool,
}

/// `--auth`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Auth {
    /// Verify SigV4 against the fixture's principals.
    Strict,
    /// Any well-formed credential acts as the default account's root.
    Permissive,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.quiet, cli.log_format);
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            tracing::error!("{msg}");
            eprintln!("kms-keystore-server: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// The durable store's root key: `--root-key-file`, else
/// `KMS_KEYSTORE_ROOT_KEY`.
fn root_key(cli: &Cli) -> Result<Option<RootKey>, String> {
    if let Some(path) = &cli.root_key_file {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read root key file {}: {e}", path.display()))?,
        );
        return RootKey::from_hex(&text)
            .map(Some)
            .map_err(|e| format!("{}: {}", path.display(), e.message()));
    }
    match std::env::var("KMS_KEYSTORE_ROOT_KEY") {
        Ok(hex) => {
            let hex = Zeroizing::new(hex);
            RootKey::from_hex(&hex)
                .map(Some)
                .map_err(|e| format!("KMS_KEYSTORE_ROOT_KEY: {}", e.message()))
        }
        Err(_) => Ok(None),
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    let fixture = match &cli.fixture {
        None => Fixture::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read fixture {}: {e}", path.display()))?;
            Fixture::from_json(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?
        }
    };
    let root_key = root_key(cli)?;
    if cli.data_dir.is_some() && root_key.is_none() {
        return Err(
            "--data-dir needs a root key: --root-key-file FILE or KMS_KEYSTORE_ROOT_KEY".into(),
        );
    }
    if cli.data_dir.is_none() && root_key.is_some() {
        tracing::warn!("a root key was given without --data-dir: it is not used");
    }
    let mut options = ServerOptions::default();
    options.auth = cli.auth.map(|a| match a {
        Auth::Strict => AuthMode::Strict,
        Auth::Permissive => AuthMode::Permissive,
    });
    options.data_dir = cli.data_dir.clone();
    options.root_key = root_key;
    let (dispatcher, provisioned) = fixture
        .build_server(&options)
        .map_err(|e| e.message().to_owned())?;
    drop(options);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let served = runtime.block_on(serve(cli, dispatcher.clone(), &provisioned));
    // Tasks still running past the shutdown timeout are dropped here, and
    // with them their handles on the dispatcher…
    runtime.shutdown_timeout(Duration::from_secs(1));
    // …so that this is the last one: durable state is closed now.
    drop(dispatcher);
    if served.is_ok() {
        tracing::info!("stopped");
    }
    served
}

/// What every connection shares.
struct Shared {
    dispatcher: Dispatcher,
    in_flight: Semaphore,
    requests: AtomicU64,
    body_timeout: Duration,
}

async fn serve(cli: &Cli, dispatcher: Dispatcher, provisioned: &Provisioned) -> Result<(), String> {
    let listener = TcpListener::bind(cli.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cli.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    announce(addr, provisioned)?;
    tracing::info!(%addr, "listening");

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = stop_tx.send(true);
    });

    let shared = Arc::new(Shared {
        dispatcher,
        in_flight: Semaphore::new(cli.max_in_flight as usize),
        requests: AtomicU64::new(0),
        body_timeout: cli.body_timeout,
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.keep_alive(true)
        .max_headers(cli.max_headers as usize)
        .max_header_size(cli.max_header_bytes as usize)
        // Timeouts are this file's (see `Watched`): hyper's own header
        // timeout also runs while a kept-alive connection is idle.
        .header_read_timeout(None);
    let limits = ConnLimits {
        header: cli.header_timeout,
        idle: cli.idle_timeout,
    };
    let connections = Arc::new(Semaphore::new(cli.max_connections as usize));

    accept_loop(
        &listener,
        &connections,
        &shared,
        &http,
        limits,
        stop_rx.clone(),
    )
    .await;
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    let all = cli.max_connections;
    match tokio::time::timeout(cli.shutdown_timeout, connections.acquire_many(all)).await {
        Ok(_) => {}
        Err(_) => tracing::warn!(
            timeout_ms = cli.shutdown_timeout.as_millis() as u64,
            "connections still open after the shutdown timeout are dropped"
        ),
    }
    Ok(())
}

/// Accepts until the stop signal, with back-off on accept errors.
async fn accept_loop(
    listener: &TcpListener,
    connections: &Arc<Semaphore>,
    shared: &Arc<Shared>,
    http: &hyper::server::conn::http1::Builder,
    limits: ConnLimits,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::ZERO;
    loop {
        let permit = tokio::select! {
            p = Arc::clone(connections).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = stop.wait_for(|s| *s) => return,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|s| *s) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff = Duration::ZERO;
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(error = %e, "cannot set TCP_NODELAY");
                }
                let conn = serve_connection(
                    stream,
                    peer,
                    Arc::clone(shared),
                    http.clone(),
                    limits,
                    stop.clone(),
                );
                tokio::spawn(async move {
                    conn.await;
                    drop(permit);
                });
            }
            Err(e) if is_per_connection(&e) => {
                tracing::debug!(error = %e, "accept: connection lost before it was accepted");
            }
            Err(e) => {
                backoff = (backoff * 2).clamp(Duration::from_millis(5), MAX_ACCEPT_BACKOFF);
                tracing::warn!(
                    error = %e,
                    retry_in_ms = backoff.as_millis() as u64,
                    "accept failed; retrying"
                );
                drop(permit);
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        }
    }
}

/// Accept errors that concern one connection, not the listener.
fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted};
    matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted)
}

/// Prints the startup line on standard output.
fn announce(addr: SocketAddr, provisioned: &Provisioned) -> Result<(), String> {
    let line = serde_json::json!({
        "listening": addr.to_string(),
        "provisioned": provisioned,
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to standard output: {e}"))
}

/// A connection's timeouts between requests.
#[derive(Clone, Copy, Debug)]
struct ConnLimits {
    header: Duration,
    idle: Duration,
}

/// Where a connection stands between requests, for its timeouts.
#[derive(Debug)]
struct ConnState {
    /// A request is being read or answered (its body timeout applies).
    in_request: bool,
    /// When the current request head's first byte arrived.
    head_started: Option<Instant>,
    /// When the connection last became idle (accepted, or a response made).
    idle_since: Instant,
}

/// What the watchdog must do now.
enum Due {
    /// Nothing until then.
    At(Instant),
    /// Idle too long: close it if it is still idle.
    Idle,
    /// A request head too slow: drop the connection.
    Head,
}

impl ConnState {
    fn due(&self, limits: ConnLimits, now: Instant) -> Due {
        if self.in_request {
            return Due::At(now + limits.header.min(limits.idle));
        }
        match self.head_started {
            Some(t) if now >= t + limits.header => Due::Head,
            Some(t) => Due::At(t + limits.header),
            None if now >= self.idle_since + limits.idle => Due::Idle,
            None => Due::At(self.idle_since + limits.idle),
        }
    }
}

/// A connection's [`ConnState`], and a wake-up for its watchdog when the
/// state changes (a head starts, a request ends).
struct Watch {
    state: Mutex<ConnState>,
    changed: tokio::sync::Notify,
}

type SharedState = Arc<Watch>;

fn lock(state: &SharedState) -> std::sync::MutexGuard<'_, ConnState> {
    state.state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The socket, noting when a request head starts arriving.
struct Watched {
    inner: TcpStream,
    state: SharedState,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let mut s = lock(&this.state);
            if !s.in_request && s.head_started.is_none() {
                s.head_started = Some(Instant::now());
                this.state.changed.notify_one();
            }
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Serves one connection until the client closes it, a timeout closes it,
/// or shutdown (after its in-flight request).
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    http: hyper::server::conn::http1::Builder,
    limits: ConnLimits,
    mut stop: watch::Receiver<bool>,
) {
    let state: SharedState = Arc::new(Watch {
        state: Mutex::new(ConnState {
            in_request: false,
            head_started: None,
            idle_since: Instant::now(),
        }),
        changed: tokio::sync::Notify::new(),
    });
    let io = TokioIo::new(Watched {
        inner: stream,
        state: Arc::clone(&state),
    });
    let svc_state = Arc::clone(&state);
    let service = hyper::service::service_fn(move |req| {
        let shared = Arc::clone(&shared);
        let state = Arc::clone(&svc_state);
        async move {
            {
                let mut s = lock(&state);
                s.in_request = true;
                s.head_started = None;
            }
            let response = answer(&shared, peer.ip(), req).await;
            {
                let mut s = lock(&state);
                s.in_request = false;
                s.idle_since = Instant::now();
            }
            state.changed.notify_one();
            Ok::<_, Infallible>(response)
        }
    });
    let conn = http.serve_connection(io, service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        let due = lock(&state).due(limits, Instant::now());
        let deadline = match due {
            Due::At(t) => t,
            Due::Idle => {
                conn.as_mut().graceful_shutdown();
                // Closes at once when idle; if a request just started, it
                // is answered first.
                Instant::now() + limits.header
            }
            Due::Head => {
                tracing::debug!(%peer, "request head timed out; closing");
                return;
            }
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = tokio::time::sleep_until(deadline.into()) => {}
            () = state.changed.notified() => {}
            _ = stop.wait_for(|s| *s), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// One request's answer, logged.
async fn answer(
    shared: &Shared,
    peer: IpAddr,
    req: Request<Incoming>,
) -> Response<Full<SecretBuf>> {
    let started = Instant::now();
    let n = shared.requests.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("00000000-0000-4000-8000-{n:012x}");
    let (parts, body) = req.into_parts();
    let operation = header_str(&parts.headers, "x-amz-target")
        .unwrap_or("")
        .to_owned();
    let caller = header_str(&parts.headers, "authorization")
        .and_then(access_key_id)
        .unwrap_or("-")
        .to_owned();

    let (status, body, close, hint) = respond(shared, peer, parts, body).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        request_id = %request_id,
        operation = %operation,
        caller = %caller,
        status,
        bytes = body.len(),
        latency_ms = format_args!("{latency_ms:.3}"),
        "request"
    );
    // The body is written from its zeroizing buffer, not copied.
    let mut response = Response::new(Full::new(SecretBuf::new(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(kms_keystore::server::CONTENT_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    if close {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    // The crate's guidance travels apart from AWS's message.
    if let Some(v) = hint.and_then(|h| HeaderValue::from_str(&h).ok()) {
        headers.insert(kms_keystore::server::HINT_HEADER, v);
    }
    response
}

/// Status, body, and whether to close the connection after it.
async fn respond(
    shared: &Shared,
    peer: IpAddr,
    parts: hyper::http::request::Parts,
    body: Incoming,
) -> Answer {
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    if path.len() > MAX_URL {
        return error(
            414,
            "ValidationException",
            "The request URL is longer than 8 KiB.",
            true,
        );
    }
    match parts.method {
        Method::POST => {}
        Method::GET | Method::HEAD => {
            return (200, Zeroizing::new(SERVICE_DOCUMENT.to_vec()), false, None);
        }
        _ => {
            return error(
                405,
                "MethodNotAllowedException",
                "Use POST with an X-Amz-Target header.",
                true,
            );
        }
    }
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let Ok(_permit) = shared.in_flight.try_acquire() else {
        // Drain a small body so the connection stays usable; close otherwise.
        let drained = match declared {
            Some(n) if n <= MAX_BODY as u64 => {
                matches!(
                    read_body(body, shared.body_timeout).await,
                    ReadBody::Complete(_)
                )
            }
            _ => false,
        };
        return error(
            503,
            "ThrottlingException",
            "Too many requests are in flight; retry later.",
            !drained,
        );
    };
    if declared.is_some_and(|n| n > MAX_DRAIN as u64) {
        return too_large();
    }
    let body = match read_body(body, shared.body_timeout).await {
        ReadBody::Complete(b) => b,
        ReadBody::TooLarge => return too_large(),
        ReadBody::TimedOut => {
            return error(
                408,
                "RequestTimeoutException",
                "The request body did not arrive in time.",
                true,
            );
        }
        ReadBody::Failed(e) => {
            return error(
                400,
                "SerializationException",
                &format!("Cannot read the request body: {e}"),
                true,
            );
        }
    };
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
    let answer = shared.dispatcher.handle(&WireRequest {
        method: parts.method.as_str(),
        path: &path,
        headers: &headers,
        body: &body,
        peer: Some(peer),
        secure: false,
    });
    (answer.status, answer.body, false, answer.hint)
}

/// Status, body, whether to close the connection after it, and the hint.
type Answer = (u16, Zeroizing<Vec<u8>>, bool, Option<String>);

fn too_large() -> Answer {
    error(
        413,
        "SerializationException",
        "The request body is larger than 1 MiB.",
        true,
    )
}

fn error(status: u16, kind: &str, message: &str, close: bool) -> Answer {
    let body = serde_json::json!({ "__type": kind, "message": message }).to_string();
    (status, Zeroizing::new(body.into_bytes()), close, None)
}

/// A request body, read within limits.
enum ReadBody {
    /// All of it, at most [`MAX_BODY`].
    Complete(Zeroizing<Vec<u8>>),
    /// Over [`MAX_BODY`] (read and discarded up to [`MAX_DRAIN`]).
    TooLarge,
    /// Not all there within the body timeout.
    TimedOut,
    /// The client broke off or sent a malformed chunk.
    Failed(String),
}

async fn read_body(mut body: Incoming, timeout: Duration) -> ReadBody {
    let read = async {
        let mut out = Zeroizing::new(Vec::new());
        let mut total = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(f) => f,
                Err(e) => return ReadBody::Failed(e.to_string()),
            };
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            total = total.saturating_add(data.len());
            if total <= MAX_BODY {
                out.extend_from_slice(&data);
            } else {
                out.clear();
                if total > MAX_DRAIN {
                    return ReadBody::TooLarge;
                }
            }
        }
        if total > MAX_BODY {
            ReadBody::TooLarge
        } else {
            ReadBody::Complete(out)
        }
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or(ReadBody::TimedOut)
}

fn header_str<'h>(headers: &'h hyper::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The access key id of a SigV4 `Authorization` header (for the log line):
/// `AWS4-HMAC-SHA256 Credential=AKIA…/20250101/us-west-2/kms/aws4_request, …`.
fn access_key_id(authorization: &str) -> Option<&str> {
    let credential = authorization.split("Credential=").nth(1)?;
    let id = credential.split('/').next()?;
    let ok = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then_some(id)
}
