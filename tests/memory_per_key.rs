//! What one KMS key costs in memory: at most 1 KiB, everything included
//! (the key entry with its cached cipher, its ARN, the key table's slots).
//! Counted with an instrumented global allocator, so this file holds one
//! test only (parallel tests would be counted too).

use kms_keystore::{CreateKeyRequest, Kms, KmsConfig, Quotas};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const KEYS: usize = 50_000;

#[test]
#[cfg_attr(
    feature = "aws-lc",
    ignore = "AWS-LC allocates its key context on the C heap, which this allocator does not see (benches/scale.rs reports resident memory)"
)]
#[cfg_attr(
    all(feature = "shuttle", not(feature = "aws-lc")),
    ignore = "the test-only shuttle feature pairs every lock and atomic with shuttle's, which a real build does not carry"
)]
fn a_key_costs_at_most_one_kib() {
    let mut quotas = Quotas::default();
    quotas.max_keys = 2 * KEYS;
    let kms = Kms::new(KmsConfig::default().with_quotas(quotas));
    kms.create_key(CreateKeyRequest::default()).unwrap();

    let region = Region::new(GLOBAL);
    for _ in 0..KEYS {
        // The response is dropped at once: only what the service keeps counts.
        kms.create_key(CreateKeyRequest::default()).unwrap();
    }
    let change = region.change();
    let held = change.bytes_allocated as i64 - change.bytes_deallocated as i64;
    let per_key = held / KEYS as i64;
    println!("memory per key: {per_key} bytes (allocator-counted, {KEYS} keys)");
    assert!(per_key <= 1024, "{per_key} bytes per key");
}
