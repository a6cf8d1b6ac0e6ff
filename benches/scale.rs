//! Scale and concurrency of Encrypt (4096 bytes, empty context, AWS_KMS
//! keys):
//!
//! - `scale`: one key among 1,000,000 against one key among 1, and the
//!   memory each key costs (resident set growth over the million keys,
//!   before and after each has been used once — its cipher is expanded on
//!   first use — printed before the group runs);
//! - `concurrency`: throughput of 1 thread, 2 threads on distinct keys and
//!   2 threads on the same key. Each iteration is one Encrypt per thread, so
//!   the reported throughput is the total; each thread clones its request
//!   inside the loop (a 4 KiB copy, the same in every entry).
//!
//! `cargo bench --bench scale` (add `-- --quick` for a short run;
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
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kms_keystore::EncryptRequest;

const N: usize = 4096;
const MANY: usize = 1_000_000;

/// Resident set size of this process, in bytes (Linux; 0 elsewhere).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn scale(c: &mut Criterion) {
    let one = common::kms();
    let one_key = common::aws_kms_key(&one);

    let many = common::kms();
    // The ids, in memory made resident before the first reading, so that
    // keeping them does not count as the keys' cost.
    let mut ids = vec![[1u8; 36]; MANY];
    let before = rss_bytes();
    let started = Instant::now();
    for slot in &mut ids {
        slot.copy_from_slice(common::aws_kms_key(&many).as_bytes());
    }
    let created = started.elapsed();
    let idle = rss_bytes();
    // Each key's cipher is expanded on its first use: one Encrypt per key
    // shows what a key costs once it has been used.
    for id in &ids {
        let key_id = std::str::from_utf8(id).expect("ascii id");
        many.encrypt(common::encrypt_request(key_id, 1))
            .expect("encrypt");
    }
    let used = rss_bytes();
    let per_key = |after: u64| after.saturating_sub(before) / MANY as u64;
    eprintln!(
        "scale: created {MANY} keys in {created:.1?} ({:.2?} each); resident memory per key {} bytes unused, {} bytes after one Encrypt each ({})",
        created / MANY as u32,
        per_key(idle),
        per_key(used),
        common::BACKEND,
    );
    let target = std::str::from_utf8(&ids[MANY / 2])
        .expect("ascii id")
        .to_owned();

    let mut g = c.benchmark_group("scale");
    g.throughput(Throughput::Bytes(N as u64));
    for (name, kms, key) in [
        ("encrypt_one_of_1", &one, &one_key),
        ("encrypt_one_of_1000000", &many, &target),
    ] {
        let req = common::encrypt_request(key, N);
        g.bench_function(name, |b| {
            b.iter_batched(
                || req.clone(),
                |req| kms.encrypt(req).expect("encrypt"),
                common::BATCH,
            )
        });
    }
    g.finish();
}

/// Runs `iters` Encrypts on each of `reqs.len()` threads at once and
/// returns the wall time.
fn run_threads(kms: &kms_keystore::Kms, reqs: &[EncryptRequest], iters: u64) -> Duration {
    let barrier = std::sync::Barrier::new(reqs.len() + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = reqs
            .iter()
            .map(|req| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    for _ in 0..iters {
                        black_box(kms.encrypt(req.clone()).expect("encrypt"));
                    }
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for h in handles {
            h.join().expect("bench thread");
        }
        start.elapsed()
    })
}

fn concurrency(c: &mut Criterion) {
    let kms = common::kms();
    let a = common::aws_kms_key(&kms);
    let b = common::aws_kms_key(&kms);
    let req_a = common::encrypt_request(&a, N);
    let req_b = common::encrypt_request(&b, N);
    let mut g = c.benchmark_group("concurrency");
    for (name, reqs) in [
        ("encrypt_1_thread", vec![req_a.clone()]),
        (
            "encrypt_2_threads_distinct_keys",
            vec![req_a.clone(), req_b],
        ),
        (
            "encrypt_2_threads_same_key",
            vec![req_a.clone(), req_a.clone()],
        ),
    ] {
        g.throughput(Throughput::Bytes((N * reqs.len()) as u64));
        g.bench_function(name, |bench| {
            bench.iter_custom(|iters| run_threads(&kms, &reqs, iters))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = scale, concurrency
}
criterion_main!(benches);
