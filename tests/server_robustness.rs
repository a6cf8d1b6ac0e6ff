//! The server binary under hostile and ordinary-but-demanding clients
//! (issue 16): stalled uploads, half-sent requests, oversized heads, many
//! connections, keep-alive bursts, fd exhaustion, the Nagle stall, bodies
//! over 1 MiB, too many requests in flight, and SIGTERM.
//!
//! Each test starts its own `kms-keystore-server` on a free loopback port
//! and speaks raw HTTP/1.1 over `std::net::TcpStream`. While the abuse is
//! going on, a DescribeKey on a fresh connection must be answered within
//! [`PROBE_BOUND`], and afterwards the server must still serve. The bound is
//! 2 s, not the issue's 100 ms: the tests run on a 2-core machine shared
//! with compilers and the other tests, where 100 ms would make them flaky;
//! the failures they guard against were hangs of 5 s to 180 s.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How fast a probe DescribeKey must be answered during the abuse.
const PROBE_BOUND: Duration = Duration::from_secs(2);

/// How long any single read may block before the test calls it a hang.
const HANG: Duration = Duration::from_secs(15);

const BIN: &str = env!("CARGO_BIN_EXE_kms-keystore-server");

/// A running server, killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        Server::start_with(None, args)
    }

    /// Starts the binary, under `ulimit -n FDS` if given.
    fn start_with(fd_limit: Option<u32>, args: &[&str]) -> Server {
        Server::start_env(fd_limit, args, &[])
    }

    /// Starts the binary with `envs` added to its environment.
    fn start_env(fd_limit: Option<u32>, args: &[&str], envs: &[(&str, &str)]) -> Server {
        let log = std::env::temp_dir().join(format!(
            "kms-keystore-robustness-{}-{}.log",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let stderr = std::fs::File::create(&log).unwrap();
        let mut cmd = match fd_limit {
            None => Command::new(BIN),
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(BIN);
                c
            }
        };
        let mut child = cmd
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let startup: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("startup line {line:?}: {e}"));
        assert!(startup["provisioned"].is_object(), "{startup}");
        let addr = startup["listening"].as_str().unwrap().parse().unwrap();
        Server { child, addr, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Creates a key and returns its id.
    fn create_key(&self) -> String {
        let mut s = connect(self.addr);
        let r = call(&mut s, "TrentService.CreateKey", b"{}");
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["KeyMetadata"]["KeyId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A DescribeKey on a fresh connection, answered 200 within the bound.
    fn probe(&self, key_id: &str) {
        let started = Instant::now();
        let mut s = connect(self.addr);
        let body = format!(r#"{{"KeyId":"{key_id}"}}"#);
        let r = call(&mut s, "TrentService.DescribeKey", body.as_bytes());
        let took = started.elapsed();
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(
            took < PROBE_BOUND,
            "DescribeKey took {took:?}; server log:\n{}",
            self.log()
        );
    }
}

static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, HANG).unwrap();
    s.set_read_timeout(Some(HANG)).unwrap();
    s.set_write_timeout(Some(HANG)).unwrap();
    s
}

/// A parsed response.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{}: {e}", self.text()))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn request(target: &str, body: &[u8]) -> Vec<u8> {
    // Permissive mode still checks the scope's service.
    let service = if target.starts_with("BaldrApiService.") {
        "cloudhsm"
    } else {
        "kms"
    };
    let mut out = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: {target}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-west-2/{service}/aws4_request, SignedHeaders=host, Signature=00\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Sends one request on a kept-alive connection and reads its response.
fn call(s: &mut TcpStream, target: &str, body: &[u8]) -> Reply {
    s.write_all(&request(target, body)).unwrap();
    read_reply(s).unwrap_or_else(|e| panic!("{target}: {e}"))
}

/// Reads one response (Content-Length framed).
fn read_reply(s: &mut TcpStream) -> std::io::Result<Reply> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("closed after {} bytes of head", head.len()),
            ));
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    s.read_exact(&mut body)?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// Whether the server ended the connection (EOF or reset) within [`HANG`]
/// after sending at most a response.
fn closed_or_answered(s: &mut TcpStream) -> Option<u16> {
    match read_reply(s) {
        Ok(r) => Some(r.status),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
            panic!("the server neither answered nor closed: {e}")
        }
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            panic!("the server neither answered nor closed: {e}")
        }
        Err(_) => None,
    }
}

#[test]
fn stalled_uploads_do_not_block_others_and_time_out() {
    let server = Server::start(&["--body-timeout", "2s"]);
    let key = server.create_key();
    let mut stalled: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut s = connect(server.addr);
            let mut req = request("TrentService.Encrypt", &[b' '; 4096]);
            req.truncate(req.len() - 3000); // headers and part of the body
            s.write_all(&req).unwrap();
            s
        })
        .collect();
    for _ in 0..3 {
        server.probe(&key);
    }
    // Each stalled upload is answered 408 (JSON) once its body timeout passes.
    for s in &mut stalled {
        let r = read_reply(s).unwrap();
        assert_eq!(r.status, 408, "{}", r.text());
        assert_eq!(r.json()["__type"], "RequestTimeoutException");
        assert_eq!(r.header("connection"), Some("close"));
    }
    server.probe(&key);
}

#[test]
fn two_hundred_half_sent_requests() {
    let server = Server::start(&["--header-timeout", "2s"]);
    let key = server.create_key();
    let mut half: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut s = connect(server.addr);
            s.write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Tar")
                .unwrap();
            s
        })
        .collect();
    server.probe(&key);
    server.probe(&key);
    // The header timeout closes each of them (no answer is owed).
    let started = Instant::now();
    for s in &mut half {
        assert_eq!(closed_or_answered(s), None);
    }
    assert!(started.elapsed() < HANG);
    server.probe(&key);
}

/// Writes `bytes`; a failure means the server already closed, which is fine.
fn write_lenient(s: &mut TcpStream, bytes: &[u8]) {
    let _ = s.write_all(bytes);
}

#[test]
fn oversized_header_gets_431_or_a_close() {
    let server = Server::start(&[]);
    let key = server.create_key();
    let mut s = connect(server.addr);
    let big = "a".repeat(8 * 1024 * 1024);
    let head = format!("POST / HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\n\r\n");
    let writer = {
        let mut w = s.try_clone().unwrap();
        std::thread::spawn(move || write_lenient(&mut w, head.as_bytes()))
    };
    server.probe(&key);
    let answer = closed_or_answered(&mut s);
    assert!(matches!(answer, None | Some(431)), "{answer:?}");
    let _ = writer.join();
    server.probe(&key);
}

#[test]
fn too_many_headers_gets_431_or_a_close() {
    let server = Server::start(&[]);
    let key = server.create_key();
    let mut s = connect(server.addr);
    let mut head = String::from("POST / HTTP/1.1\r\nHost: localhost\r\n");
    for i in 0..10_000 {
        head.push_str(&format!("X-H{i}: v\r\n"));
    }
    head.push_str("\r\n");
    write_lenient(&mut s, head.as_bytes());
    let answer = closed_or_answered(&mut s);
    assert!(matches!(answer, None | Some(431)), "{answer:?}");
    server.probe(&key);
}

#[test]
fn a_url_over_8_kib_gets_414_json() {
    let server = Server::start(&[]);
    let key = server.create_key();
    let mut s = connect(server.addr);
    let path = format!("/{}", "p".repeat(9000));
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: TrentService.ListKeys\r\nContent-Length: 2\r\n\r\n{{}}"
    );
    s.write_all(req.as_bytes()).unwrap();
    let r = read_reply(&mut s).unwrap();
    assert_eq!(r.status, 414);
    assert_eq!(r.json()["__type"], "ValidationException");
    server.probe(&key);
}

#[test]
fn five_hundred_concurrent_connections() {
    let server = Server::start(&["--max-in-flight", "1024"]);
    let key = server.create_key();
    let body = format!(r#"{{"KeyId":"{key}"}}"#);
    let req = request("TrentService.DescribeKey", body.as_bytes());
    let mut conns: Vec<TcpStream> = (0..500).map(|_| connect(server.addr)).collect();
    for s in &mut conns {
        s.write_all(&req).unwrap();
    }
    server.probe(&key);
    for s in &mut conns {
        let r = read_reply(s).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // All 500 still open and kept alive: a second round on each.
    for s in &mut conns {
        s.write_all(&req).unwrap();
    }
    for s in &mut conns {
        assert_eq!(read_reply(s).unwrap().status, 200);
    }
    server.probe(&key);
}

#[test]
fn eight_keep_alive_connections_opened_at_once() {
    let server = Server::start(&[]);
    let key = server.create_key();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
    let addr = server.addr;
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let barrier = barrier.clone();
            let body = format!(r#"{{"KeyId":"{key}","Plaintext":"aGVsbG8="}}"#);
            std::thread::spawn(move || {
                barrier.wait();
                let mut s = connect(addr);
                let mut slowest = Duration::ZERO;
                for _ in 0..25 {
                    let t = Instant::now();
                    let r = call(&mut s, "TrentService.Encrypt", body.as_bytes());
                    assert_eq!(r.status, 200, "{}", r.text());
                    slowest = slowest.max(t.elapsed());
                }
                slowest
            })
        })
        .collect();
    for w in workers {
        let slowest = w.join().unwrap();
        assert!(slowest < PROBE_BOUND, "a request took {slowest:?}");
    }
    server.probe(&key);
}

#[test]
fn fd_exhaustion_is_survived() {
    let server = Server::start_with(Some(64), &[]);
    let key = server.create_key();
    // More connections than the server has descriptors.
    let conns: Vec<TcpStream> = (0..120).map(|_| connect(server.addr)).collect();
    let deadline = Instant::now() + HANG;
    while !server.log().contains("accept failed") {
        assert!(Instant::now() < deadline, "no EMFILE: {}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(conns);
    // The listener survived: once the clients leave, it serves again (its
    // accept back-off is at most 1 s, so allow a few probes).
    let deadline = Instant::now() + HANG;
    loop {
        let mut s = connect(server.addr);
        let body = format!(r#"{{"KeyId":"{key}"}}"#);
        s.write_all(&request("TrentService.DescribeKey", body.as_bytes()))
            .unwrap();
        s.set_read_timeout(Some(PROBE_BOUND)).unwrap();
        match read_reply(&mut s) {
            Ok(r) => {
                assert_eq!(r.status, 200, "{}", r.text());
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "still refused: {e}"),
        }
    }
    server.probe(&key);
}

#[test]
fn large_responses_on_a_kept_alive_connection_are_not_delayed() {
    let server = Server::start(&[]);
    let key = server.create_key();
    let plaintext = kms_keystore::internal::base64_encode(&[7u8; 4096]);
    let body = format!(r#"{{"KeyId":"{key}","Plaintext":"{plaintext}"}}"#);
    let mut s = connect(server.addr);
    let _ = call(&mut s, "TrentService.Encrypt", body.as_bytes()); // warm
    let mut times: Vec<Duration> = (0..20)
        .map(|_| {
            let t = Instant::now();
            let r = call(&mut s, "TrentService.Encrypt", body.as_bytes());
            assert_eq!(r.status, 200);
            assert!(r.body.len() > 830, "{} bytes", r.body.len());
            t.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    // The Nagle + delayed-ACK stall was 40–44 ms per request.
    assert!(median < Duration::from_millis(20), "median {median:?}");
}

#[test]
fn a_body_over_1_mib_gets_413_json() {
    let server = Server::start(&[]);
    let key = server.create_key();
    let mut s = connect(server.addr);
    let body = vec![b' '; 1024 * 1024 + 1];
    s.write_all(&request("TrentService.Encrypt", &body))
        .unwrap();
    let r = read_reply(&mut s).unwrap();
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["__type"], "SerializationException");
    // Exactly 1 MiB is read and dispatched: blank reads as `{}`, which
    // lacks Encrypt's required members.
    let mut s = connect(server.addr);
    let r = call(&mut s, "TrentService.Encrypt", &vec![b' '; 1024 * 1024]);
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["__type"], "ValidationException");
    server.probe(&key);
}

#[test]
fn too_many_requests_in_flight_get_503_throttling() {
    let server = Server::start(&["--max-in-flight", "2", "--body-timeout", "3s"]);
    let key = server.create_key();
    // Two uploads that stall hold both slots.
    let stalled: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = connect(server.addr);
            let mut req = request("TrentService.ListKeys", &[b' '; 100]);
            req.truncate(req.len() - 50);
            s.write_all(&req).unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut s = connect(server.addr);
    let r = call(&mut s, "TrentService.ListKeys", b"{}");
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json()["__type"], "ThrottlingException");
    drop(stalled);
    // The slots come back (the uploads' connections closed).
    let deadline = Instant::now() + HANG;
    loop {
        let r = call(&mut connect(server.addr), "TrentService.ListKeys", b"{}");
        if r.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "{}", r.text());
        std::thread::sleep(Duration::from_millis(100));
    }
    server.probe(&key);
}

#[test]
fn sigterm_finishes_the_in_flight_request_then_exits_0() {
    let mut server = Server::start(&[]);
    let key = server.create_key();
    let mut s = connect(server.addr);
    let body = format!(r#"{{"KeyId":"{key}"}}"#);
    let req = request("TrentService.DescribeKey", body.as_bytes());
    let split = req.len() - 5;
    s.write_all(&req[..split]).unwrap();
    std::thread::sleep(Duration::from_millis(300)); // the request is in flight
    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(300));
    s.write_all(&req[split..]).unwrap();
    let r = read_reply(&mut s).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let deadline = Instant::now() + HANG;
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "log:\n{}", server.log());
    assert!(server.log().contains("stopped"), "{}", server.log());
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let server = Server::start(&["--idle-timeout", "1s", "--header-timeout", "5s"]);
    let key = server.create_key();
    let mut s = connect(server.addr);
    assert_eq!(call(&mut s, "TrentService.ListKeys", b"{}").status, 200);
    let started = Instant::now();
    assert_eq!(closed_or_answered(&mut s), None);
    let waited = started.elapsed();
    // Closed by the idle timeout (1 s), not the header timeout (5 s).
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert!(waited < Duration::from_millis(4500), "{waited:?}");
    server.probe(&key);
}

/// The root key of the durable tests (64 hex digits).
const ROOT_KEY: &str = "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a";

fn durable_server(dir: &std::path::Path) -> Server {
    Server::start_env(
        None,
        &["--data-dir", dir.to_str().unwrap()],
        &[("KMS_KEYSTORE_ROOT_KEY", ROOT_KEY)],
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kms-keystore-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_durable_server_keeps_keys_aliases_and_grants_across_a_restart() {
    let dir = temp_dir("restart");
    let key = {
        let server = durable_server(&dir);
        let key = server.create_key();
        let mut s = connect(server.addr);
        let alias = format!(r#"{{"AliasName":"alias/kept","TargetKeyId":"{key}"}}"#);
        assert_eq!(
            call(&mut s, "TrentService.CreateAlias", alias.as_bytes()).status,
            200
        );
        let grant = format!(
            r#"{{"KeyId":"{key}","GranteePrincipal":"arn:aws:iam::111122223333:user/bob","Operations":["Encrypt"]}}"#
        );
        let r = call(&mut s, "TrentService.CreateGrant", grant.as_bytes());
        assert_eq!(r.status, 200, "{}", r.text());
        key
    }; // killed
    let server = durable_server(&dir);
    server.probe(&key);
    let mut s = connect(server.addr);
    let r = call(
        &mut s,
        "TrentService.DescribeKey",
        br#"{"KeyId":"alias/kept"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["KeyMetadata"]["KeyId"], key.as_str());
    let r = call(
        &mut s,
        "TrentService.ListGrants",
        format!(r#"{{"KeyId":"{key}"}}"#).as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["Grants"].as_array().unwrap().len(), 1);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigkill_during_a_load_loses_no_acknowledged_write() {
    let dir = temp_dir("sigkill");
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    {
        let mut server = durable_server(&dir);
        let addr = server.addr;
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let acked = std::sync::Arc::clone(&acked);
                std::thread::spawn(move || {
                    let Ok(mut s) = TcpStream::connect(addr) else {
                        return;
                    };
                    let _ = s.set_read_timeout(Some(HANG));
                    loop {
                        if s.write_all(&request("TrentService.CreateKey", b"{}"))
                            .is_err()
                        {
                            return;
                        }
                        // Only a whole 200 answer counts as acknowledged.
                        match read_reply(&mut s) {
                            Ok(r) if r.status == 200 => {
                                let id = r.json()["KeyMetadata"]["KeyId"]
                                    .as_str()
                                    .unwrap()
                                    .to_owned();
                                acked.lock().unwrap().push(id);
                            }
                            _ => return,
                        }
                    }
                })
            })
            .collect();
        let started = Instant::now();
        while acked.lock().unwrap().len() < 40 && started.elapsed() < HANG {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.child.kill().unwrap(); // SIGKILL, mid-load
        let _ = server.child.wait();
        for w in workers {
            w.join().unwrap();
        }
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 40,
        "only {} keys were acknowledged",
        acked.len()
    );
    let server = durable_server(&dir);
    let mut s = connect(server.addr);
    for id in &acked {
        let r = call(
            &mut s,
            "TrentService.DescribeKey",
            format!(r#"{{"KeyId":"{id}"}}"#).as_bytes(),
        );
        assert_eq!(r.status, 200, "acknowledged key {id} is gone: {}", r.text());
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Polls DescribeCustomKeyStores until the store is CONNECTED.
fn wait_connected(s: &mut TcpStream, store: &str) {
    let body = format!(r#"{{"CustomKeyStoreId":"{store}"}}"#);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = call(s, "TrentService.DescribeCustomKeyStores", body.as_bytes());
        assert_eq!(r.status, 200, "{}", r.text());
        let state = r.json()["CustomKeyStores"][0]["ConnectionState"].clone();
        if state == "CONNECTED" {
            return;
        }
        assert!(Instant::now() < deadline, "store stuck in {state}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_durable_server_keeps_the_external_key_managers_keys_across_a_restart() {
    let dir = temp_dir("xks-restart");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/server-fixture.json");
    let start = || {
        Server::start_env(
            None,
            &["--data-dir", dir.to_str().unwrap(), "--fixture", fixture],
            &[("KMS_KEYSTORE_ROOT_KEY", ROOT_KEY)],
        )
    };
    let (key, blob) = {
        let server = start();
        let mut s = connect(server.addr);
        let r = call(
            &mut s,
            "TrentService.CreateCustomKeyStore",
            br#"{"CustomKeyStoreName":"kept-xks","CustomKeyStoreType":"EXTERNAL_KEY_STORE",
                "XksProxyConnectivity":"PUBLIC_ENDPOINT","XksProxyUriEndpoint":"https://xks2.example.com",
                "XksProxyUriPath":"/kms/xks/v1","XksProxyAuthenticationCredential":
                {"AccessKeyId":"QRSTUVWXYZABCDEFGHIJKL","RawSecretAccessKey":"KL0p9xj2Hc3a6YHUx3GK2m2wcVzUQn1sXo5aTdvo4Mw="}}"#,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let store = r.json()["CustomKeyStoreId"].as_str().unwrap().to_owned();
        let body = format!(r#"{{"CustomKeyStoreId":"{store}"}}"#);
        let r = call(
            &mut s,
            "TrentService.ConnectCustomKeyStore",
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        wait_connected(&mut s, &store);
        let body = format!(
            r#"{{"Origin":"EXTERNAL_KEY_STORE","CustomKeyStoreId":"{store}","XksKeyId":"bb8562717f809024"}}"#
        );
        let r = call(&mut s, "TrentService.CreateKey", body.as_bytes());
        assert_eq!(r.status, 200, "{}", r.text());
        let key = r.json()["KeyMetadata"]["KeyId"]
            .as_str()
            .unwrap()
            .to_owned();
        // "kept by the proxy", base64.
        let body = format!(r#"{{"KeyId":"{key}","Plaintext":"a2VwdCBieSB0aGUgcHJveHk="}}"#);
        let r = call(&mut s, "TrentService.Encrypt", body.as_bytes());
        assert_eq!(r.status, 200, "{}", r.text());
        let blob = r.json()["CiphertextBlob"].as_str().unwrap().to_owned();
        (key, blob)
    }; // killed
    let key_file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.to_string_lossy()
                .contains(".xks-https___xks2.example.com.keys")
        })
        .expect("the proxy's sealed key file");
    let server = start();
    server.probe(&key);
    let mut s = connect(server.addr);
    let body = format!(r#"{{"CiphertextBlob":"{blob}"}}"#);
    let r = call(&mut s, "TrentService.Decrypt", body.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["Plaintext"], "a2VwdCBieSB0aGUgcHJveHk=");
    drop(server);
    // Without its key file the proxy's keys are new ones: the old
    // ciphertext no longer opens (the file, not a seed, kept them).
    std::fs::remove_file(&key_file).unwrap();
    let server = start();
    let mut s = connect(server.addr);
    let r = call(&mut s, "TrentService.Decrypt", body.as_bytes());
    assert_eq!(r.status, 400, "{}", r.text());
    drop(server);
    // A damaged key file stops the server with a clear error, never a panic.
    let sealed = std::fs::read(&key_file).unwrap();
    let mut bad = sealed.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    std::fs::write(&key_file, &bad).unwrap();
    let out = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.to_str().unwrap(),
            "--fixture",
            fixture,
        ])
        .env("KMS_KEYSTORE_ROOT_KEY", ROOT_KEY)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("sealed key file"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cluster_added_to_the_fixture_later_joins_a_durable_server() {
    let dir = temp_dir("cluster-later");
    let cluster = |id: &str, subnets: &str| {
        format!(
            r#"{{"id":"{id}","subnets":{subnets},"hsms":["us-west-2a","us-west-2b"],
                "users":[{{"name":"kmsuser","password":"kmsPswd"}}]}}"#
        )
    };
    let first = cluster(
        "cluster-firstclusterx",
        r#"{"subnet-a1":"us-west-2a","subnet-b1":"us-west-2b"}"#,
    );
    let second = cluster(
        "cluster-secondclustery",
        r#"{"subnet-a2":"us-west-2a","subnet-b2":"us-west-2b"}"#,
    );
    let start = |clusters: &[&str]| {
        let path = dir.join("fixture.json");
        std::fs::write(
            &path,
            format!(r#"{{"cloudhsm_clusters":[{}]}}"#, clusters.join(",")),
        )
        .unwrap();
        Server::start_env(
            None,
            &[
                "--data-dir",
                dir.to_str().unwrap(),
                "--fixture",
                path.to_str().unwrap(),
            ],
            &[("KMS_KEYSTORE_ROOT_KEY", ROOT_KEY)],
        )
    };
    let ids = |server: &Server| {
        let mut s = connect(server.addr);
        let r = call(&mut s, "BaldrApiService.DescribeClusters", b"{}");
        assert_eq!(r.status, 200, "{}", r.text());
        let mut ids: Vec<String> = r.json()["Clusters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["ClusterId"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&start(&[&first])), ["cluster-firstclusterx"]);
    let both = start(&[&first, &second]);
    assert_eq!(
        ids(&both),
        ["cluster-firstclusterx", "cluster-secondclustery"]
    );
    drop(both);
    // Both are in the file now: a third start provisions nothing again.
    assert_eq!(
        ids(&start(&[&first, &second])),
        ["cluster-firstclusterx", "cluster-secondclustery"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
