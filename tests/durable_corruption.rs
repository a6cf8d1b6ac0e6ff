//! Damaged, truncated, foreign and rolled-back durable files: opening one
//! gives a clear error (or, for damage that touches nothing the store uses,
//! the whole acknowledged state), never a panic, an abort, an empty store or
//! a silently older state.
//!
//! Opening damaged files could abort the process (an allocation of
//! terabytes is not a panic), so every case runs in a child process: this
//! test binary, run with `KMS_CORRUPTION_CASE` set and filtered to
//! [`corruption_child`]. The child prints `TRY <variant>` before each open
//! and a `RESULT <variant> <outcome>` line after; the parent checks that
//! the child exited normally and that every variant has an allowed outcome.
#![cfg(feature = "durable")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod durable;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use durable::{ACCOUNT, REGION, decrypt, encrypt, new_key, root, temp_dir};
use kms_keystore::{Kms, KmsConfig, ListKeysRequest, ManualClock, TagResourceRequest};

const CASE_ENV: &str = "KMS_CORRUPTION_CASE";
const DIR_ENV: &str = "KMS_CORRUPTION_DIR";

type Def = redb::TableDefinition<'static, &'static str, &'static [u8]>;

fn config(path: &Path) -> KmsConfig {
    KmsConfig::new(ACCOUNT, REGION)
        .unwrap()
        .with_clock(ManualClock::default())
        .with_durable_storage(path, root())
}

/// A closed store with three keys (the last one's state changed by a
/// second commit): its path, key ids and a ciphertext per key.
struct Fixture {
    path: PathBuf,
    keys: Vec<(String, Vec<u8>)>,
}

fn fixture(dir: &Path) -> Fixture {
    let path = dir.join("kms.redb");
    let kms = Kms::open(config(&path)).unwrap();
    let mut keys = Vec::new();
    for i in 0..3 {
        let id = new_key(&kms);
        let blob = encrypt(&kms, &id, format!("secret {i}").as_bytes());
        keys.push((id, blob));
    }
    drop(kms);
    Fixture { path, keys }
}

/// Whether `kms` holds exactly the fixture's keys, each decrypting its blob.
fn intact(kms: &Kms, fx: &Fixture) -> bool {
    let Ok(listed) = kms.list_keys(ListKeysRequest::default()) else {
        return false;
    };
    let listed: BTreeSet<String> = listed.keys.iter().map(|k| k.key_id.to_string()).collect();
    let want: BTreeSet<String> = fx.keys.iter().map(|(k, _)| k.clone()).collect();
    listed == want
        && fx.keys.iter().enumerate().all(|(i, (_, blob))| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decrypt(kms, blob)))
                .is_ok_and(|p| p == format!("secret {i}").as_bytes())
        })
}

/// Opens `path` and reports the outcome as one word: `ERR:<code>`,
/// `INTACT` (opened with the whole acknowledged state) or `WRONG`.
fn try_open(variant: &str, path: &Path, fx: &Fixture) -> String {
    println!("TRY {variant}");
    let outcome = match Kms::open(config(path)) {
        Err(e) => {
            assert!(!e.message().is_empty());
            format!("ERR:{:?}", e.kind())
        }
        Ok(kms) if intact(&kms, fx) => "INTACT".to_owned(),
        Ok(_) => "WRONG".to_owned(),
    };
    println!("RESULT {variant} {outcome}");
    outcome
}

/// The error opening `path` gives (panics if it opens).
fn refused(path: &Path) -> kms_keystore::Error {
    match Kms::open(config(path)) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e,
    }
}

fn write_variant(dir: &Path, name: &str, bytes: &[u8], sidecars_from: &Path) -> PathBuf {
    let path = dir.join(format!("{name}.redb"));
    std::fs::write(&path, bytes).unwrap();
    copy_sidecar(sidecars_from, &path);
    path
}

/// Copies the store's commit-counter file (if the store keeps one) along.
fn copy_sidecar(from: &Path, to: &Path) {
    let side = |p: &Path| {
        let mut s = p.as_os_str().to_owned();
        s.push(".commit");
        PathBuf::from(s)
    };
    if side(from).exists() {
        std::fs::copy(side(from), side(to)).unwrap();
    }
}

/// The child's work: one case, many variants.
#[test]
fn corruption_child() {
    let Ok(case) = std::env::var(CASE_ENV) else {
        return; // Only runs as a child of the tests below.
    };
    let dir = PathBuf::from(std::env::var(DIR_ENV).unwrap());
    let fx = fixture(&dir);
    let good = std::fs::read(&fx.path).unwrap();
    match case.as_str() {
        "truncate" => {
            let len = good.len();
            let mut lengths: Vec<usize> = vec![1, 8, 511, 512, 4095, 4096, 8192, len - 1];
            for k in 1..=8 {
                lengths.push(4096 + (len - 4096) * k / 9);
            }
            for n in lengths {
                let p = write_variant(&dir, &format!("trunc{n}"), &good[..n], &fx.path);
                try_open(&format!("truncate-to-{n}"), &p, &fx);
            }
        }
        "flip" => {
            // Every byte of the first 4 KiB (the header), then every
            // 7th byte that is not zero (the pages in use).
            let mut offsets: Vec<usize> = (0..4096.min(good.len())).collect();
            offsets.extend((4096..good.len()).filter(|&i| good[i] != 0).step_by(7));
            // About 240 of them by default, spread over all; every one
            // with KMS_CORRUPTION_FLIPS=all (slow: minutes).
            let stride = if std::env::var("KMS_CORRUPTION_FLIPS").as_deref() == Ok("all") {
                1
            } else {
                offsets.len().div_ceil(240)
            };
            for (n, &i) in offsets.iter().enumerate().filter(|(n, _)| n % stride == 0) {
                let mut bad = good.clone();
                bad[i] ^= 1 << (n % 8);
                let p = write_variant(&dir, "flip", &bad, &fx.path);
                try_open(&format!("flip-{i}-bit{}", n % 8), &p, &fx);
            }
        }
        "empty" => {
            let p = write_variant(&dir, "empty", &[], &fx.path);
            try_open("empty", &p, &fx);
        }
        "random" => {
            let mut bytes = vec![0u8; 64 * 1024];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
            let p = write_variant(&dir, "random", &bytes, &fx.path);
            try_open("random", &p, &fx);
            // Random bytes behind redb's magic number.
            bytes[..9].copy_from_slice(&good[..9]);
            let p = write_variant(&dir, "random-magic", &bytes, &fx.path);
            try_open("random-behind-magic", &p, &fx);
        }
        other => panic!("unknown case {other}"),
    }
}

/// Runs `case` in a child; every `(variant, outcome)` it reported.
fn run_child(case: &str) -> Vec<(String, String)> {
    let dir = temp_dir(case);
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "corruption_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CASE_ENV, case)
        .env(DIR_ENV, &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut tried = Vec::new();
    let mut results = Vec::new();
    for line in stdout.lines() {
        // The first line follows libtest's "test corruption_child ... ".
        if let Some(at) = line.find("TRY ") {
            tried.push(line[at + 4..].to_owned());
        } else if let Some(r) = line.strip_prefix("RESULT ") {
            let (v, o) = r.split_once(' ').unwrap();
            results.push((v.to_owned(), o.to_owned()));
        }
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && tried.len() == results.len(),
        "case {case}: the child died ({:?}) opening {:?}\n{}",
        out.status,
        tried.last(),
        &stderr[stderr.len().saturating_sub(3000)..]
    );
    assert!(!results.is_empty(), "case {case}: nothing was tried");
    let _ = std::fs::remove_dir_all(&dir);
    results
}

fn assert_refused(results: &[(String, String)]) {
    let bad: Vec<_> = results
        .iter()
        .filter(|(_, o)| o != "ERR:KmsInternal")
        .collect();
    assert!(bad.is_empty(), "opened instead of refused: {bad:?}");
}

#[test]
fn a_truncated_file_is_refused() {
    assert_refused(&run_child("truncate"));
}

#[test]
fn an_empty_file_is_refused_not_opened_as_an_empty_store() {
    assert_refused(&run_child("empty"));
}

#[test]
fn random_bytes_are_refused() {
    assert_refused(&run_child("random"));
}

/// A flipped bit is refused, or it touched nothing the store uses and the
/// whole acknowledged state opens: never a panic, an abort, or less state.
#[test]
fn a_flipped_bit_is_refused_or_harmless() {
    let results = run_child("flip");
    let bad: Vec<_> = results
        .iter()
        .filter(|(_, o)| o != "ERR:KmsInternal" && o != "INTACT")
        .collect();
    let refused = results.iter().filter(|(_, o)| o.starts_with("ERR")).count();
    eprintln!(
        "{} flips: {refused} refused, {} harmless",
        results.len(),
        results.len() - refused
    );
    assert!(
        bad.is_empty(),
        "{} of {}: {bad:?}",
        bad.len(),
        results.len()
    );
}

/// Another program's redb database is not taken over.
#[test]
fn a_foreign_redb_file_is_refused() {
    let dir = temp_dir("foreign");
    for (name, tables) in [("theirs", vec!["theirs"]), ("no-tables", vec![])] {
        let path = dir.join(format!("{name}.redb"));
        {
            let db = redb::Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            for t in tables {
                let def: Def = redb::TableDefinition::new(t);
                txn.open_table(def).unwrap().insert("k", &b"v"[..]).unwrap();
            }
            txn.commit().unwrap();
        }
        let err = refused(&path);
        assert_eq!(err.kind(), kms_keystore::ErrorCode::KmsInternal, "{err}");
        assert!(
            err.message().contains("not a kms-keystore"),
            "{name}: {err}"
        );
    }
}

/// A path that does not exist yet is a new, empty store.
#[test]
fn a_new_path_creates_a_store() {
    let dir = temp_dir("new");
    let path = dir.join("kms.redb");
    let kms = Kms::open(config(&path)).unwrap();
    let id = new_key(&kms);
    drop(kms);
    let kms = Kms::open(config(&path)).unwrap();
    assert_eq!(
        kms.list_keys(ListKeysRequest::default())
            .unwrap()
            .keys
            .len(),
        1
    );
    kms.describe_key(&id).unwrap();
}

fn raw_get(path: &Path, table: &'static str, key: &str) -> Option<Vec<u8>> {
    let db = redb::Database::create(path).unwrap();
    let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
    let t = txn.open_table(Def::new(table)).unwrap();
    redb::ReadableTable::get(&t, key)
        .unwrap()
        .map(|v| v.value().to_vec())
}

fn raw_edit(path: &Path, edit: impl FnOnce(&redb::WriteTransaction)) {
    let db = redb::Database::create(path).unwrap();
    let txn = db.begin_write().unwrap();
    edit(&txn);
    txn.commit().unwrap();
}

/// An older sealed record written back over a newer one (by someone
/// without the root key: the value is copied, not forged) is detected.
#[test]
fn an_older_record_written_back_is_detected() {
    let dir = temp_dir("older-record");
    let fx = fixture(&dir);
    let id = fx.keys[0].0.clone();
    let old = raw_get(&fx.path, "key_states", &id).unwrap();
    {
        let kms = Kms::open(config(&fx.path)).unwrap();
        kms.disable_key(&id).unwrap();
    }
    assert_ne!(raw_get(&fx.path, "key_states", &id).unwrap(), old);
    raw_edit(&fx.path, |txn| {
        txn.open_table(Def::new("key_states"))
            .unwrap()
            .insert(id.as_str(), old.as_slice())
            .unwrap();
    });
    let err = refused(&fx.path);
    assert_eq!(err.kind(), kms_keystore::ErrorCode::KmsInternal, "{err}");
    assert!(err.message().contains("changed outside"), "{err}");
}

/// Deleting a key's records (both, so the rest is consistent) is detected.
#[test]
fn a_deleted_key_is_detected() {
    let dir = temp_dir("deleted-key");
    let fx = fixture(&dir);
    let id = fx.keys[1].0.clone();
    raw_edit(&fx.path, |txn| {
        for t in ["keys", "key_states"] {
            txn.open_table(Def::new(t))
                .unwrap()
                .remove(id.as_str())
                .unwrap();
        }
    });
    let err = refused(&fx.path);
    assert_eq!(err.kind(), kms_keystore::ErrorCode::KmsInternal, "{err}");
    assert!(err.message().contains("changed outside"), "{err}");
}

/// The whole file replaced by an older copy of itself, while its
/// commit-counter file stays: refused, since acknowledged commits would be
/// lost. Both replaced together cannot be told from a restored backup
/// (documented): that opens, with the older state.
#[test]
fn a_whole_file_rolled_back_is_detected_while_the_counter_file_stays() {
    let dir = temp_dir("rolled-back");
    let fx = fixture(&dir);
    let snapshot = dir.join("older.redb");
    std::fs::copy(&fx.path, &snapshot).unwrap();
    copy_sidecar(&fx.path, &snapshot);
    {
        let kms = Kms::open(config(&fx.path)).unwrap();
        kms.tag_resource(TagResourceRequest {
            key_id: fx.keys[0].0.clone(),
            tags: vec![kms_keystore::Tag::new("k", "v")],
        })
        .unwrap();
    }
    let newer = std::fs::read(&fx.path).unwrap();
    std::fs::copy(&snapshot, &fx.path).unwrap();
    let err = refused(&fx.path);
    assert_eq!(err.kind(), kms_keystore::ErrorCode::KmsInternal, "{err}");
    assert!(err.message().contains("older"), "{err}");
    // Both files from the same moment: the older state opens.
    copy_sidecar(&snapshot, &fx.path);
    let kms = Kms::open(config(&fx.path)).unwrap();
    assert!(intact(&kms, &fx));
    drop(kms);
    // And the newer file opens again with its own counter.
    std::fs::write(&fx.path, newer).unwrap();
    Kms::open(config(&fx.path)).unwrap();
}
