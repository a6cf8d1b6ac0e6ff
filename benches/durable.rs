//! The cost of durable storage (feature `durable`): CreateKey and a key
//! state change (DisableKey + EnableKey, two commits) with the durable store
//! next to the same calls in memory, and Encrypt/Decrypt on both, which must
//! not differ: the cryptographic path touches no disk.
//!
//! `cargo bench --features durable --bench durable` (add `-- --quick` for a
//! short run). Each durable commit is one redb write transaction with an
//! fsync, so those numbers are the disk's.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]
#![allow(clippy::expect_used, reason = "a bench fails loudly, like a test")]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kms_keystore::{CreateKeyRequest, DecryptRequest, EncryptRequest, Kms, KmsConfig, RootKey};

fn store_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-durable");
    std::fs::create_dir_all(&dir).expect("bench directory");
    let path = dir.join(format!("{name}-{}.redb", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// The two services compared: in memory, and durable on a fresh file.
fn services(name: &str) -> [(&'static str, Kms, Option<PathBuf>); 2] {
    let path = store_path(name);
    let durable =
        Kms::open(KmsConfig::default().with_durable_storage(&path, RootKey::from_bytes([7; 32])))
            .expect("open the durable store");
    [
        ("memory", Kms::new(KmsConfig::default()), None),
        ("durable", durable, Some(path)),
    ]
}

fn key(kms: &Kms) -> String {
    kms.create_key(CreateKeyRequest::default())
        .expect("create key")
        .key_metadata
        .key_id
        .to_string()
}

fn create_key(c: &mut Criterion) {
    let mut g = c.benchmark_group("durable/create_key");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    for (name, kms, _) in services("create_key") {
        g.bench_function(name, |b| {
            b.iter(|| black_box(kms.create_key(CreateKeyRequest::default()).expect("create")))
        });
    }
    g.finish();
}

fn state_change(c: &mut Criterion) {
    let mut g = c.benchmark_group("durable/disable_then_enable_key");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    for (name, kms, _) in services("state_change") {
        let id = key(&kms);
        g.bench_function(name, |b| {
            b.iter(|| {
                kms.disable_key(black_box(&id)).expect("disable");
                kms.enable_key(black_box(&id)).expect("enable");
            })
        });
    }
    g.finish();
}

fn crypto_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("durable/encrypt_decrypt_64");
    for (name, kms, _) in services("crypto") {
        let id = key(&kms);
        let req = EncryptRequest {
            key_id: id,
            plaintext: vec![0x5a; 64].into(),
            ..Default::default()
        };
        g.bench_function(name, |b| {
            b.iter_batched(
                || req.clone(),
                |req| {
                    let blob = kms.encrypt(req).expect("encrypt").ciphertext_blob;
                    kms.decrypt(DecryptRequest {
                        ciphertext_blob: blob,
                        ..Default::default()
                    })
                    .expect("decrypt")
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, create_key, state_change, crypto_path);
criterion_main!(benches);
