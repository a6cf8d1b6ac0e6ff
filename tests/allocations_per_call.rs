//! What a cryptographic call allocates, per origin: nothing for an Encrypt,
//! a Decrypt or a GenerateDataKey into buffers the caller keeps, only what
//! the response owns for Encrypt and GenerateDataKey, and for Decrypt not
//! even its plaintext, which is opened in the request's own blob. Counted
//! with an instrumented global allocator, so this file holds one test only
//! (parallel tests would be counted too).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

#[path = "../benches/common/mod.rs"]
mod setup;

use kms_keystore::{DataKeySpec, DecryptRequest, GenerateDataKeyRequest, Plaintext};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const CALLS: usize = 500;

#[test]
fn a_call_allocates_only_what_its_response_owns_for_every_origin() {
    let kms = setup::kms();
    let keys = [
        ("AWS_KMS", setup::aws_kms_key(&kms)),
        ("AWS_CLOUDHSM", setup::cloudhsm_key(&kms)),
        ("EXTERNAL_KEY_STORE", setup::external_key(&kms)),
    ];
    for (origin, key) in &keys {
        let req = setup::encrypt_request(key, 4096);
        let mut blob = Vec::with_capacity(4096 + 256);
        // The first calls fill the thread's key and cipher caches and its
        // nonce source; what follows is the steady state.
        for _ in 0..3 {
            kms.encrypt_into(&req, &mut blob).unwrap();
        }

        let region = Region::new(GLOBAL);
        for _ in 0..CALLS {
            kms.encrypt_into(&req, &mut blob).unwrap();
        }
        let change = region.change();
        assert_eq!(
            (change.allocations, change.reallocations),
            (0, 0),
            "{origin}: encrypt_into into a reused buffer: {change:?}"
        );

        // Encrypt: the blob and the key ARN of the response.
        let requests: Vec<_> = (0..CALLS).map(|_| req.clone()).collect();
        let region = Region::new(GLOBAL);
        for r in requests {
            drop(kms.encrypt(r).unwrap());
        }
        let change = region.change();
        assert_eq!(
            (change.allocations, change.reallocations),
            (2 * CALLS, 0),
            "{origin}: Encrypt: {change:?}"
        );

        // Decrypt: the key ARN of the response, and its key material id
        // where the origin has one. The plaintext is the request's blob,
        // opened where it lies: no allocation.
        let requests: Vec<_> = (0..CALLS)
            .map(|_| DecryptRequest {
                ciphertext_blob: blob.clone(),
                ..Default::default()
            })
            .collect();
        let mut owned = 0;
        let region = Region::new(GLOBAL);
        for r in requests {
            let response = kms.decrypt(r).unwrap();
            assert_eq!(response.plaintext.expose_secret(), &[0x5a; 4096][..]);
            owned += 1 + usize::from(response.key_material_id.is_some());
        }
        let change = region.change();
        assert_eq!(
            (change.allocations, change.reallocations),
            (owned, 0),
            "{origin}: Decrypt: {change:?}"
        );

        // decrypt_into a buffer the caller keeps: nothing at all, once the
        // buffer has the blob's size.
        let req = DecryptRequest {
            ciphertext_blob: blob.clone(),
            ..Default::default()
        };
        let mut plaintext = kms_keystore::Plaintext::default();
        kms.decrypt_into(&req, &mut plaintext).unwrap();
        let region = Region::new(GLOBAL);
        for _ in 0..CALLS {
            kms.decrypt_into(&req, &mut plaintext).unwrap();
        }
        let change = region.change();
        assert_eq!(plaintext.expose_secret(), &[0x5a; 4096][..], "{origin}");
        assert_eq!(
            (change.allocations, change.reallocations),
            (0, 0),
            "{origin}: decrypt_into a reused buffer: {change:?}"
        );

        // GenerateDataKey: the blob, the data key and the key ARN.
        let req = GenerateDataKeyRequest {
            key_id: key.clone(),
            key_spec: Some(DataKeySpec::Aes256),
            ..Default::default()
        };
        let requests: Vec<_> = (0..CALLS).map(|_| req.clone()).collect();
        let region = Region::new(GLOBAL);
        for r in requests {
            drop(kms.generate_data_key(r).unwrap());
        }
        let change = region.change();
        assert_eq!(
            (change.allocations, change.reallocations),
            (3 * CALLS, 0),
            "{origin}: GenerateDataKey: {change:?}"
        );

        // generate_data_key_into buffers the caller keeps: nothing at all,
        // once they have the data key's and the blob's sizes.
        let (mut data_key, mut blob) = (Plaintext::default(), Vec::new());
        kms.generate_data_key_into(&req, &mut data_key, &mut blob)
            .unwrap();
        let region = Region::new(GLOBAL);
        for _ in 0..CALLS {
            kms.generate_data_key_into(&req, &mut data_key, &mut blob)
                .unwrap();
        }
        let change = region.change();
        assert_eq!(data_key.len(), 32, "{origin}");
        assert_eq!(
            (change.allocations, change.reallocations),
            (0, 0),
            "{origin}: generate_data_key_into reused buffers: {change:?}"
        );
    }
}
