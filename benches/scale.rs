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
//!   inside the loop (a 4 KiB copy, the same in every entry);
//! - `threads`: throughput from 1 thread to `available_parallelism()`
//!   (1, 2, 4, …, and the core count), each point a fixed time (1 s, or
//!   0.2 s with `--quick`) of Encrypt on every thread, counting the calls:
//!   raw AES-256-GCM (each thread its own buffer), then Encrypt for each
//!   origin on distinct keys (one per thread, all in one store for the
//!   custom key stores) and on one shared key, and Decrypt on one shared
//!   key. It prints ops/s and the speedup over one thread; a value that
//!   drops as threads are added is a shared cache line written per call.
//!
//! `cargo bench --bench scale` (add `-- --quick` for a short run, a filter
//! such as `threads` for one group; `--features aws-lc` for the aws-lc-rs
//! backend).

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
use kms_keystore::{DecryptRequest, EncryptRequest, Kms};

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
    // A million keys take a while to make: not for another group's run.
    if !selected("scale") {
        return;
    }
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

/// The thread counts of the `threads` group: powers of two up to the core
/// count, and the core count.
fn thread_counts() -> Vec<usize> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut counts: Vec<usize> = std::iter::successors(Some(1), |t| Some(t * 2))
        .take_while(|t| *t <= cores)
        .collect();
    if counts.last() != Some(&cores) {
        counts.push(cores);
    }
    counts
}

/// Runs `op(thread index)` on `threads` threads for `period` and returns
/// the calls completed per second (all threads together). Each thread
/// watches its own deadline (a clock read every 16 calls), so nothing
/// needs the main thread to run meanwhile — under `chrt -f` the workers
/// are never preempted by it.
fn ops_per_second(threads: usize, period: Duration, op: &(dyn Fn(usize) + Sync)) -> f64 {
    let barrier = std::sync::Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    let mut n = 0u64;
                    loop {
                        for _ in 0..16 {
                            op(i);
                        }
                        n += 16;
                        let elapsed = start.elapsed();
                        if elapsed >= period {
                            return n as f64 / elapsed.as_secs_f64();
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .sum()
    })
}

/// One row of the `threads` group: the rate at each thread count, printed
/// with the speedup over one thread.
fn scaling_row(name: &str, period: Duration, op: &(dyn Fn(usize) + Sync)) {
    let mut line = format!("threads/{name:<28}");
    let mut one = None;
    for t in thread_counts() {
        let rate = ops_per_second(t, period, op);
        let base = *one.get_or_insert(rate);
        line.push_str(&format!(
            "  T={t}: {:>7.0}k/s {:.2}x",
            rate / 1000.0,
            rate / base
        ));
    }
    eprintln!("{line}");
}

/// True if the command line's filter (if any) may select benches of
/// `group` (a filter that names the group, or one of its benches).
fn selected(group: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    filters.is_empty()
        || filters
            .iter()
            .any(|f| group.contains(f.as_str()) || f.starts_with(group))
}

fn threads(_: &mut Criterion) {
    if !selected("threads") {
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let period = Duration::from_millis(if quick { 200 } else { 1000 });
    let cores = thread_counts().last().copied().unwrap_or(1);
    eprintln!(
        "threads: Encrypt/Decrypt of {N} bytes, {:?} per point, {cores} cores ({})",
        period,
        common::BACKEND
    );
    let raw = common::RawSeal::new();
    scaling_row("raw_aes_gcm", period, &|_| {
        let mut buf = [0x5a; N];
        black_box(raw.seal(black_box([9; 12]), black_box(&mut buf)));
    });
    type MakeKeys = fn(&Kms, usize) -> Vec<String>;
    let origins: [(&str, MakeKeys); 3] = [
        ("aws_kms", |kms, n| {
            (0..n).map(|_| common::aws_kms_key(kms)).collect()
        }),
        ("cloudhsm", common::cloudhsm_keys),
        ("external", common::external_keys),
    ];
    for (origin, make) in origins {
        let kms = common::kms();
        let reqs: Vec<EncryptRequest> = make(&kms, cores)
            .iter()
            .map(|key| common::encrypt_request(key, N))
            .collect();
        let encrypt = |req: &EncryptRequest| {
            black_box(kms.encrypt(req.clone()).expect("encrypt"));
        };
        scaling_row(&format!("encrypt_{origin}_distinct"), period, &|i| {
            encrypt(&reqs[i % reqs.len()])
        });
        scaling_row(&format!("encrypt_{origin}_shared"), period, &|_| {
            encrypt(&reqs[0])
        });
        if origin == "aws_kms" {
            let req = DecryptRequest {
                ciphertext_blob: kms
                    .encrypt(reqs[0].clone())
                    .expect("encrypt")
                    .ciphertext_blob,
                ..Default::default()
            };
            scaling_row("decrypt_aws_kms_shared", period, &|_| {
                black_box(kms.decrypt(req.clone()).expect("decrypt"));
            });
        }
    }
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = scale, concurrency, threads
}
criterion_main!(benches);
