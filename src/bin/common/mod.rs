//! What both binaries (`kms-keystore-server`, `kms-keystore-xks-proxy`)
//! share: `--log-format` and logging set-up, duration flags, the shutdown
//! signal, and the zeroizing response body. Included by each binary with
//! `#[path = "common/mod.rs"] mod common;` (a directory without `main.rs`
//! is not a binary target of its own).

use std::time::Duration;

use clap::ValueEnum;
use hyper::body::Buf;
use zeroize::Zeroizing;

/// `--log-format`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum LogFormat {
    /// `2025-… INFO request request_id=… status=200 …`
    Text,
    /// One JSON object per line.
    Json,
}

/// Logs to standard error, in `format`; warnings and errors only when
/// `quiet`.
pub(crate) fn init_logging(quiet: bool, format: LogFormat) {
    let level = if quiet {
        tracing::Level::WARN
    } else {
        tracing::Level::INFO
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// `10s`, `500ms`, `2m`, or a number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (digits, scale_ms) = if let Some(d) = text.strip_suffix("ms") {
        (d, 1)
    } else if let Some(d) = text.strip_suffix('s') {
        (d, 1000)
    } else if let Some(d) = text.strip_suffix('m') {
        (d, 60_000)
    } else {
        (text, 1000)
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (e.g. 10s, 500ms, 2m)"))?;
    match n.checked_mul(scale_ms) {
        Some(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(format!("'{text}' must be between 1ms and a few years")),
    }
}

/// Resolves on SIGINT or SIGTERM.
pub(crate) async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGTERM");
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// A response body in a buffer zeroized on drop (Decrypt's plaintext…).
pub(crate) struct SecretBuf {
    data: Zeroizing<Vec<u8>>,
    pos: usize,
}

impl SecretBuf {
    /// `data`, to be sent from its start.
    pub(crate) fn new(data: Zeroizing<Vec<u8>>) -> SecretBuf {
        SecretBuf { data, pos: 0 }
    }
}

impl Buf for SecretBuf {
    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    fn chunk(&self) -> &[u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    fn advance(&mut self, cnt: usize) {
        self.pos = self.pos.saturating_add(cnt).min(self.data.len());
    }
}
