//! Crash safety: a child process writes keys, ciphertexts, aliases and tags
//! in a loop through a durable Kms, printing an acknowledgement line after
//! each call returns; the parent kills it (SIGKILL) at a random moment,
//! reopens the file, and checks that everything acknowledged is there and
//! decrypts, and that nothing half-written is (every key in the file works).
//! Several rounds on the same file.
//!
//! The child is this test binary, run with `KMS_DURABLE_CRASH_FILE` set and
//! filtered to [`crash_child_writer`].
#![cfg(feature = "durable")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod durable;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use durable::{ACCOUNT, REGION, root, temp_dir};
use kms_keystore::{
    ConnectionStateType, CreateAliasRequest, CreateCustomKeyStoreRequest, CreateKeyRequest,
    DecryptRequest, DescribeCustomKeyStoresRequest, EncryptRequest, Kms, KmsConfig,
    ListKeysRequest, ListResourceTagsRequest, OriginType, SecretString, Tag, TagResourceRequest,
};
use rand::Rng;

const CHILD_ENV: &str = "KMS_DURABLE_CRASH_FILE";
const ROUNDS: usize = 6;

fn open(path: &Path) -> Kms {
    Kms::open(
        KmsConfig::new(ACCOUNT, REGION)
            .unwrap()
            .with_durable_storage(path, root()),
    )
    .unwrap()
}

/// A CONNECTED CloudHSM key store: the one from an earlier run, or a new one.
fn connected_store(kms: &Kms) -> String {
    let existing = kms
        .describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
        .unwrap()
        .custom_key_stores;
    let store = match existing.first() {
        Some(s) => s.clone(),
        None => {
            let (cluster, anchor) = kms
                .cloudhsm()
                .provision_ready_cluster(&["us-west-2a", "us-west-2b"], "kmsPswd")
                .unwrap();
            let id = kms
                .create_custom_key_store(CreateCustomKeyStoreRequest {
                    custom_key_store_name: "crash".into(),
                    cloud_hsm_cluster_id: Some(cluster.to_string()),
                    trust_anchor_certificate: Some(anchor),
                    key_store_password: Some(SecretString::from("kmsPswd")),
                    ..Default::default()
                })
                .unwrap()
                .custom_key_store_id;
            return connect(kms, id.as_str());
        }
    };
    match store.connection_state {
        ConnectionStateType::Connected => store.custom_key_store_id.to_string(),
        _ => connect(kms, store.custom_key_store_id.as_str()),
    }
}

fn connect(kms: &Kms, id: &str) -> String {
    kms.connect_custom_key_store(id).unwrap();
    id.to_owned()
}

/// The child's work: until killed, create a key (alternately in KMS and in
/// the CloudHSM store), encrypt under it, give it an alias and a tag, and
/// acknowledge each step once its call has returned.
#[test]
fn crash_child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return; // Only runs as the crash test's child.
    };
    let kms = open(Path::new(&path));
    let store = connected_store(&kms);
    let out = std::io::stdout();
    let ack = |line: String| {
        let mut out = out.lock();
        writeln!(out, "{line}").unwrap();
        out.flush().unwrap();
    };
    ack("READY".into());
    let run: u32 = rand::rng().random();
    for i in 0u64.. {
        let mut req = CreateKeyRequest::default();
        if i % 2 == 1 {
            req.origin = Some(OriginType::AwsCloudHsm);
            req.custom_key_store_id = Some(store.clone());
        }
        let key = kms.create_key(req).unwrap().key_metadata.key_id.to_string();
        let plaintext = format!("run {run:08x} item {i}");
        let blob = kms
            .encrypt(EncryptRequest {
                key_id: key.clone(),
                plaintext: plaintext.as_str().into(),
                ..Default::default()
            })
            .unwrap()
            .ciphertext_blob;
        ack(format!(
            "KEY {key} {} {plaintext}",
            kms_keystore::internal::base64_encode(&blob)
        ));
        let alias = format!("alias/crash-{run:08x}-{i}");
        kms.create_alias(CreateAliasRequest::new(&alias, &key))
            .unwrap();
        ack(format!("ALIAS {alias} {key}"));
        kms.tag_resource(TagResourceRequest {
            key_id: key.clone(),
            tags: vec![Tag::new("item", i.to_string())],
        })
        .unwrap();
        ack(format!("TAG {key} {i}"));
    }
}

/// What the children acknowledged, over all rounds.
#[derive(Default)]
struct Acked {
    /// key id → (ciphertext, plaintext)
    keys: BTreeMap<String, (Vec<u8>, String)>,
    aliases: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
}

impl Acked {
    fn record(&mut self, line: &str) {
        let mut f = line.splitn(4, ' ');
        match (f.next(), f.next(), f.next(), f.next()) {
            (Some("KEY"), Some(key), Some(blob), Some(plaintext)) => {
                let blob = kms_keystore::internal::base64_decode(blob).unwrap();
                self.keys
                    .insert(key.to_owned(), (blob, plaintext.to_owned()));
            }
            (Some("ALIAS"), Some(alias), Some(key), None) => {
                self.aliases.insert(alias.to_owned(), key.to_owned());
            }
            (Some("TAG"), Some(key), Some(value), None) => {
                self.tags.insert(key.to_owned(), value.to_owned());
            }
            _ => {}
        }
    }
}

/// Runs one child for a random while, kills it, and adds the lines it
/// acknowledged (complete lines only) to `acked`. Returns how many.
fn run_and_kill(path: &Path, acked: &mut Acked) -> usize {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "crash_child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        loop {
            line.clear();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                // A line without its newline was cut by the kill: not acknowledged.
                Ok(_) if line.ends_with('\n') => {
                    if tx.send(line.trim_end().to_owned()).is_err() {
                        break;
                    }
                }
                Ok(_) => break,
            }
        }
    });
    // Wait until the child is writing, then let it run a random while.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lines = Vec::new();
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the child did not start");
        // (libtest's "test crash_child_writer ... " precedes it on the line.)
        if line.ends_with("READY") {
            break;
        }
    }
    let delay = Duration::from_millis(rand::rng().random_range(30..250));
    std::thread::sleep(delay);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reader.join().unwrap();
    lines.extend(rx.try_iter());
    for line in &lines {
        acked.record(line);
    }
    lines.len()
}

/// Every acknowledged key, alias and tag is there and every ciphertext
/// decrypts; every key in the file (acknowledged or not) is whole.
fn check(path: &Path, acked: &Acked) {
    let kms = open(path);
    for (key, (blob, plaintext)) in &acked.keys {
        let out = kms
            .decrypt(DecryptRequest {
                ciphertext_blob: blob.clone(),
                ..Default::default()
            })
            .unwrap_or_else(|e| panic!("acknowledged key {key}: {e}"));
        assert!(out.key_id.ends_with(key.as_str()), "{key}");
        assert_eq!(out.plaintext.expose_secret(), plaintext.as_bytes());
    }
    for (alias, key) in &acked.aliases {
        let got = kms.describe_key(alias).unwrap().key_metadata.key_id;
        assert_eq!(got.to_string(), *key, "{alias}");
    }
    for (key, value) in &acked.tags {
        let tags = kms
            .list_resource_tags(ListResourceTagsRequest {
                key_id: key.clone(),
                ..Default::default()
            })
            .unwrap()
            .tags;
        assert_eq!(tags, vec![Tag::new("item", value.clone())], "{key}");
    }
    let mut marker = None;
    loop {
        let page = kms
            .list_keys(ListKeysRequest {
                limit: Some(1000),
                marker: marker.take(),
            })
            .unwrap();
        for k in &page.keys {
            let id = k.key_id.to_string();
            let blob = kms
                .encrypt(EncryptRequest {
                    key_id: id.clone(),
                    plaintext: "whole?".into(),
                    ..Default::default()
                })
                .unwrap_or_else(|e| panic!("key {id} in the file is not whole: {e}"))
                .ciphertext_blob;
            let back = kms
                .decrypt(DecryptRequest {
                    ciphertext_blob: blob,
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(back.plaintext.expose_secret(), b"whole?");
        }
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
}

#[test]
fn everything_acknowledged_before_a_kill_survives_it() {
    let dir = temp_dir("crash");
    let path = dir.join("kms.redb");
    let mut acked = Acked::default();
    let mut total = 0;
    for _ in 0..ROUNDS {
        total += run_and_kill(&path, &mut acked);
        check(&path, &acked);
    }
    eprintln!(
        "{ROUNDS} kills; acknowledged: {total} lines, {} keys, {} aliases, {} tags",
        acked.keys.len(),
        acked.aliases.len(),
        acked.tags.len()
    );
    assert!(
        !acked.keys.is_empty() && total > ROUNDS,
        "the children acknowledged too little to prove anything ({total} lines)"
    );
}
