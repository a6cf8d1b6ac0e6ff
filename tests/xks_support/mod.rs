//! A running `kms-keystore-xks-proxy` for the integration tests: started
//! on a free port from a config written to a fresh directory, with its log
//! in a file, killed on drop.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_kms-keystore-xks-proxy");

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A running proxy, killed on drop.
pub(crate) struct Proxy {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) log: PathBuf,
}

impl Proxy {
    /// Starts the binary with `config` (JSON text) and the `extra` flags
    /// (with `--plain-http` unless they hold `--tls-cert`); returns it with
    /// the first line it printed (`listening`, `scheme`, `path`, `keys`).
    pub(crate) fn spawn(config: &str, extra: &[&str]) -> (Proxy, Value) {
        let dir = std::env::temp_dir().join(format!(
            "kms-keystore-xks-proxy-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        std::fs::write(&path, config).unwrap();
        let log = dir.join("stderr.log");
        let mut child = Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--config"])
            .arg(&path)
            .args(extra)
            .args(
                (!extra.contains(&"--tls-cert"))
                    .then_some("--plain-http")
                    .as_slice(),
            )
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let first: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "first line {line:?}: {e}; log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        let addr = first["listening"].as_str().unwrap().parse().unwrap();
        (Proxy { child, addr, log }, first)
    }

    /// Its log so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it now.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.kill();
    }
}
