//! Criterion benches of the crypto core: each `Kms` operation next to the raw
//! AES-256-GCM seal of the compiled backend, in the same run, so the ratio
//! is the overhead of being KMS (key lookup, state checks, nonce, blob,
//! context, quota). `encrypt_4096/<origin>` is `Kms::encrypt` (a new blob
//! per call, the request cloned just before); `<origin>_into` is
//! `Kms::encrypt_into`, into a buffer reused from call to call.
//! `decrypt_4096/<origin>` opens a cloned request's blob in place;
//! `<origin>_into` is `Kms::decrypt_into`, which opens the blob straight
//! into a plaintext buffer reused from call to call. Its raw entry copies
//! the ciphertext back and opens it in place; `raw_aes_gcm_open_to` opens
//! it into another buffer, the copy fused, as `decrypt_into` does.
//! `generate_data_key/aes_256` is `Kms::generate_data_key` (a new response
//! per call); `aes_256_into` is `Kms::generate_data_key_into`, into a data
//! key and a blob buffer reused from call to call.
//!
//! `cargo bench --bench crypto` (add `-- --quick` for a short run;
//! `--features aws-lc` for the aws-lc-rs backend).

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]
#![allow(
    clippy::expect_used,
    reason = "a bench whose setup fails must stop loudly, as a test does"
)]

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kms_keystore::{
    DataKeySpec, DecryptRequest, EncryptionContext, GenerateDataKeyRequest, Kms, Plaintext,
};

use common::RawSeal;

const N: usize = 4096;

/// The keys the benches use, one of each origin, in one `Kms`.
struct Keys {
    kms: Kms,
    by_origin: Vec<(&'static str, String)>,
}

fn keys() -> Keys {
    let kms = common::kms();
    let aws = common::aws_kms_key(&kms);
    let cloudhsm = common::cloudhsm_key(&kms);
    let external = common::external_key(&kms);
    Keys {
        by_origin: vec![
            ("aws_kms", aws),
            ("cloudhsm", cloudhsm),
            ("external", external),
        ],
        kms,
    }
}

fn encrypt_4096(c: &mut Criterion) {
    let k = keys();
    let raw = RawSeal::new();
    let mut g = c.benchmark_group("encrypt_4096");
    g.throughput(Throughput::Bytes(N as u64));
    let mut buf = vec![0x5a; N];
    g.bench_function("raw_aes_gcm", |b| {
        b.iter(|| black_box(raw.seal(black_box([9; 12]), black_box(&mut buf))))
    });
    // The floor of any API that returns its output in a new buffer: the
    // raw seal, in the caller's buffer, plus one allocation, one copy into
    // it and the free of the input. Not a target, a reference point.
    let plaintext = vec![0x5a; N];
    g.bench_function("raw_aes_gcm_into_new_buffer", |b| {
        b.iter_batched(
            || plaintext.clone(),
            |mut input| {
                let tag = raw.seal([9; 12], &mut input);
                let mut out = Vec::with_capacity(30 + N + 16);
                out.extend_from_slice(&[1; 30]);
                out.extend_from_slice(&input);
                out.extend_from_slice(&tag);
                out
            },
            common::BATCH,
        )
    });
    for (name, key) in &k.by_origin {
        let req = common::encrypt_request(key, N);
        g.bench_function(*name, |b| {
            b.iter_batched(
                || req.clone(),
                |req| k.kms.encrypt(req).expect("encrypt"),
                common::BATCH,
            )
        });
        // The same, into a buffer the caller reuses (`Kms::encrypt_into`):
        // no request to clone, no allocation per call.
        let mut out = Vec::with_capacity(N + 128);
        g.bench_function(format!("{name}_into"), |b| {
            b.iter(|| {
                k.kms
                    .encrypt_into(black_box(&req), &mut out)
                    .expect("encrypt_into");
                black_box(out.len())
            })
        });
    }
    g.finish();
}

fn decrypt_4096(c: &mut Criterion) {
    let k = keys();
    let raw = RawSeal::new();
    let mut g = c.benchmark_group("decrypt_4096");
    g.throughput(Throughput::Bytes(N as u64));
    let mut buf = vec![0x5a; N];
    let tag = raw.seal([9; 12], &mut buf);
    let sealed = buf.clone();
    g.bench_function("raw_aes_gcm", |b| {
        b.iter(|| {
            // Re-open the same ciphertext each time: copy it back first (a
            // 4 KiB memcpy, which the Kms path also does into its output).
            buf.copy_from_slice(&sealed);
            raw.open(black_box([9; 12]), black_box(&mut buf), &tag)
        })
    });
    // The same open from the sealed bytes straight into the buffer, the
    // copy fused with the decryption, as `decrypt_into` opens: the floor
    // of any open that leaves the ciphertext as it was.
    g.bench_function("raw_aes_gcm_open_to", |b| {
        b.iter(|| raw.open_to(black_box([9; 12]), black_box(&sealed), &tag, &mut buf))
    });
    for (name, key) in &k.by_origin {
        let blob = k
            .kms
            .encrypt(common::encrypt_request(key, N))
            .expect("encrypt")
            .ciphertext_blob;
        let req = DecryptRequest {
            ciphertext_blob: blob,
            ..Default::default()
        };
        g.bench_function(*name, |b| {
            b.iter_batched(
                || req.clone(),
                |req| k.kms.decrypt(req).expect("decrypt"),
                common::BATCH,
            )
        });
        // Into a plaintext buffer the caller keeps: opened from the blob
        // straight into it (an external key's blob is copied in, then
        // opened there).
        let mut plaintext = Plaintext::default();
        g.bench_function(format!("{name}_into"), |b| {
            b.iter(|| {
                k.kms
                    .decrypt_into(black_box(&req), &mut plaintext)
                    .expect("decrypt_into")
            })
        });
    }
    g.finish();
}

fn generate_data_key(c: &mut Criterion) {
    let k = keys();
    let raw = RawSeal::new();
    let mut g = c.benchmark_group("generate_data_key");
    g.throughput(Throughput::Bytes(32));
    let mut buf = [0x5a; 32];
    g.bench_function("raw_aes_gcm_32", |b| {
        b.iter(|| black_box(raw.seal(black_box([9; 12]), black_box(&mut buf))))
    });
    let req = GenerateDataKeyRequest {
        key_id: k.by_origin[0].1.clone(),
        key_spec: Some(DataKeySpec::Aes256),
        ..Default::default()
    };
    g.bench_function("aes_256", |b| {
        b.iter_batched(
            || req.clone(),
            |req| k.kms.generate_data_key(req).expect("generate_data_key"),
            common::BATCH,
        )
    });
    let (mut data_key, mut blob) = (Plaintext::default(), Vec::new());
    g.bench_function("aes_256_into", |b| {
        b.iter(|| {
            k.kms
                .generate_data_key_into(black_box(&req), &mut data_key, &mut blob)
                .expect("generate_data_key_into")
        })
    });
    g.finish();
}

fn encrypt_context(c: &mut Criterion) {
    let k = keys();
    let mut g = c.benchmark_group("encrypt_context");
    g.throughput(Throughput::Bytes(N as u64));
    let mut req = common::encrypt_request(&k.by_origin[0].1, N);
    req.encryption_context = (0..8)
        .map(|i| (format!("context-key-{i}"), format!("context-value-{i}")))
        .collect::<EncryptionContext>();
    g.bench_function("aws_kms_8_pairs", |b| {
        b.iter_batched(
            || req.clone(),
            |req| k.kms.encrypt(req).expect("encrypt"),
            common::BATCH,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = encrypt_4096, decrypt_4096, generate_data_key, encrypt_context
}
criterion_main!(benches);
