//! A keep-alive load client for `kms-keystore-server` (or any AWS KMS
//! endpoint that does not check signatures, such as moto_server): N
//! connections, each sending M Encrypt requests of a 4 KiB plaintext over
//! raw HTTP/1.1, one at a time. Prints requests per second, p50 and p99.
//! A connection the server closes (`Connection: close`) is reopened, and
//! the reconnection counts in that request's latency.
//!
//! ```text
//! cargo build --release --features server --bin kms-keystore-server --example load
//! target/release/kms-keystore-server --quiet &
//! target/release/examples/load --endpoint 127.0.0.1:4599 --connections 8 --requests 2000
//! ```
//!
//! The Authorization header is a fixed, well-formed but unsigned SigV4
//! header: the server's permissive mode accepts it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

struct Args {
    endpoint: String,
    connections: usize,
    requests: usize,
    plaintext: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        endpoint: "127.0.0.1:4599".into(),
        connections: 8,
        requests: 1000,
        plaintext: 4096,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--endpoint" => args.endpoint = value.trim_start_matches("http://").into(),
            "--connections" => args.connections = number()?.max(1),
            "--requests" => args.requests = number()?.max(1),
            "--plaintext" => args.plaintext = number()?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(args)
}

fn request(host: &str, target: &str, body: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: {target}\r\nX-Amz-Date: 20250101T000000Z\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/kms/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one Content-Length-framed response; returns its status, its body
/// and whether the server closes the connection after it.
fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(u16, Vec<u8>, bool), String> {
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or("no content-length")?;
    while buf.len() < head_end + len {
        let n = s.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed in the body".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let close = head.contains("\r\nconnection: close");
    Ok((status, buf[head_end..head_end + len].to_vec(), close))
}

fn call(s: &mut TcpStream, host: &str, target: &str, body: &str) -> Result<Vec<u8>, String> {
    s.write_all(&request(host, target, body))
        .map_err(|e| e.to_string())?;
    let (status, body, _) = read_response(s, &mut Vec::new())?;
    if status != 200 {
        return Err(format!(
            "{target}: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(body)
}

fn main() -> Result<(), String> {
    let args = parse_args()?;
    let host = args.endpoint.clone();
    let mut setup = TcpStream::connect(&host).map_err(|e| format!("{host}: {e}"))?;
    let created = call(&mut setup, &host, "TrentService.CreateKey", "{}")?;
    let created: serde_json::Value = serde_json::from_slice(&created).map_err(|e| e.to_string())?;
    let key_id = created["KeyMetadata"]["KeyId"]
        .as_str()
        .ok_or("CreateKey returned no KeyId")?
        .to_owned();
    let plaintext = kms_keystore::internal::base64_encode(&vec![0x5a; args.plaintext]);
    let body = format!(r#"{{"KeyId":"{key_id}","Plaintext":"{plaintext}"}}"#);
    let req = request(&host, "TrentService.Encrypt", &body);

    let barrier = std::sync::Arc::new(std::sync::Barrier::new(args.connections + 1));
    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            let (host, req, barrier) = (host.clone(), req.clone(), barrier.clone());
            let n = args.requests;
            std::thread::spawn(move || -> Result<Vec<Duration>, String> {
                let connect = || TcpStream::connect(&host).map_err(|e| e.to_string());
                let mut s = connect()?;
                let mut buf = Vec::new();
                // One warm-up request, outside the measurement.
                s.write_all(&req).map_err(|e| e.to_string())?;
                if read_response(&mut s, &mut buf)?.2 {
                    s = connect()?;
                }
                barrier.wait();
                let mut times = Vec::with_capacity(n);
                for _ in 0..n {
                    let t = Instant::now();
                    s.write_all(&req).map_err(|e| e.to_string())?;
                    let (status, _, close) = read_response(&mut s, &mut buf)?;
                    if status != 200 {
                        return Err(format!("HTTP {status}"));
                    }
                    // A server without keep-alive (moto_server) closes each
                    // connection: reconnecting is part of its latency.
                    if close {
                        s = connect()?;
                    }
                    times.push(t.elapsed());
                }
                Ok(times)
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let mut times = Vec::new();
    for w in workers {
        times.extend(w.join().map_err(|_| "a worker panicked")??);
    }
    let elapsed = started.elapsed();
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "Encrypt {} B x {} requests on {} keep-alive connections: {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms",
        args.plaintext,
        times.len(),
        args.connections,
        times.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
    Ok(())
}
