//! `kms-keystore-server`: AWS KMS and AWS CloudHSM v2 over HTTP, on one
//! port, for the aws CLI, boto3 and the AWS SDKs.
//!
//! ```text
//! cargo run --features server --bin kms-keystore-server -- \
//!     --listen 127.0.0.1:4599 --fixture examples/server-fixture.json
//! aws --endpoint-url http://127.0.0.1:4599 kms list-keys
//! ```
//!
//! A thin shell over [`kms_keystore::server::Dispatcher`]: it reads the
//! `X-Amz-Target` header and the body of each `POST`, and writes the status
//! and JSON body the dispatcher returns. Requests are SigV4-signed by the
//! SDKs; signatures are accepted without being verified (any credential
//! works). The fixture file (see `kms_keystore::server::Fixture`) provisions
//! the CloudHSM clusters and external key managers KMS sees.
//!
//! Once listening, the server prints one JSON line on standard output:
//! `{"listening":"127.0.0.1:4599","provisioned":{…}}` — the address (useful
//! with `--listen 127.0.0.1:0`, which picks a free port) and the ids of what
//! the fixture provisioned. Each request is logged on standard error.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use kms_keystore::server::{self, Dispatcher, Fixture};
use tiny_http::{Header, Method, Request, Response, Server};

/// Largest request body accepted (AWS KMS requests are far smaller).
const MAX_BODY: u64 = 1024 * 1024;

const USAGE: &str = "\
kms-keystore-server: AWS KMS (TrentService) and CloudHSM v2 (BaldrApiService)
over the AWS JSON 1.1 protocol, in process.

USAGE:
    kms-keystore-server [--listen ADDR] [--fixture FILE] [--threads N] [--quiet]

OPTIONS:
    --listen ADDR    address to listen on (default 127.0.0.1:4599; port 0 picks a free one)
    --fixture FILE   JSON fixture provisioning CloudHSM clusters and external key managers
    --threads N      request worker threads (default 4)
    --quiet          do not log requests on standard error
    -h, --help       this text
";

struct Options {
    listen: String,
    fixture: Option<String>,
    threads: usize,
    quiet: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        listen: "127.0.0.1:4599".to_owned(),
        fixture: None,
        threads: 4,
        quiet: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--listen" => opts.listen = value("--listen")?,
            "--fixture" => opts.fixture = Some(value("--fixture")?),
            "--threads" => {
                opts.threads = value("--threads")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .ok_or("--threads must be 1-256")?;
            }
            "--quiet" => opts.quiet = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument '{other}'\n\n{USAGE}")),
        }
    }
    Ok(opts)
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(msg) if msg == USAGE => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("kms-keystore-server: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(opts: &Options) -> Result<(), String> {
    let fixture = match &opts.fixture {
        None => Fixture::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read fixture {path}: {e}"))?;
            Fixture::from_json(&text).map_err(|e| format!("{path}: {}", e.message()))?
        }
    };
    let (kms, provisioned) = fixture.build().map_err(|e| e.message().to_owned())?;
    let dispatcher = Dispatcher::new(kms);

    let server =
        Server::http(&opts.listen).map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or("the listening address is not an IP address")?;
    announce(addr, &provisioned)?;

    let server = Arc::new(server);
    let counter = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..opts.threads)
        .map(|_| {
            let server = Arc::clone(&server);
            let dispatcher = dispatcher.clone();
            let counter = Arc::clone(&counter);
            let quiet = opts.quiet;
            std::thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    serve(&dispatcher, request, &counter, quiet);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    Ok(())
}

/// Prints the startup line on standard output.
fn announce(addr: SocketAddr, provisioned: &server::Provisioned) -> Result<(), String> {
    let line = serde_json::json!({
        "listening": addr.to_string(),
        "provisioned": provisioned,
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to standard output: {e}"))
}

fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

fn serve(dispatcher: &Dispatcher, mut request: Request, counter: &AtomicU64, quiet: bool) {
    let started = Instant::now();
    let n = counter.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("00000000-0000-4000-8000-{n:012x}");
    let target = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("X-Amz-Target"))
        .map(|h| h.value.as_str().to_owned())
        .unwrap_or_default();
    let (status, body) = match request.method() {
        Method::Post => {
            let mut body = zeroize::Zeroizing::new(Vec::new());
            let read = request
                .as_reader()
                .take(MAX_BODY + 1)
                .read_to_end(&mut body);
            match read {
                Err(e) => error_body(
                    400,
                    "SerializationException",
                    &format!("Cannot read the request body: {e}"),
                ),
                Ok(_) if body.len() as u64 > MAX_BODY => error_body(
                    413,
                    "SerializationException",
                    "The request body is larger than 1 MiB.",
                ),
                Ok(_) => {
                    let r = dispatcher.dispatch(&target, &body);
                    (r.status, r.body)
                }
            }
        }
        Method::Get | Method::Head => (
            200,
            zeroize::Zeroizing::new(
                br#"{"service":"kms-keystore","targets":["TrentService","BaldrApiService"]}"#
                    .to_vec(),
            ),
        ),
        _ => error_body(
            405,
            "MethodNotAllowedException",
            "Use POST with an X-Amz-Target header.",
        ),
    };
    let method = request.method().to_string();
    let len = body.len();
    let headers = [
        header("Content-Type", server::CONTENT_TYPE),
        header("x-amzn-RequestId", &request_id),
    ]
    .into_iter()
    .flatten()
    .collect();
    // The body is read from its zeroizing buffer, not copied.
    let response = Response::new(
        tiny_http::StatusCode(status),
        headers,
        std::io::Cursor::new(body),
        Some(len),
        None,
    );
    let result = request.respond(response);
    if !quiet {
        let outcome = match result {
            Ok(()) => String::new(),
            Err(e) => format!(" (write failed: {e})"),
        };
        eprintln!(
            "{method} {target} -> {status} {len}B {:.1}ms{outcome}",
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
}

fn error_body(status: u16, kind: &str, message: &str) -> (u16, zeroize::Zeroizing<Vec<u8>>) {
    let body = serde_json::json!({ "__type": kind, "message": message }).to_string();
    (status, zeroize::Zeroizing::new(body.into_bytes()))
}
