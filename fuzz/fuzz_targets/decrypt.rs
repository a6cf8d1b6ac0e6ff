//! Decrypt and ReEncrypt on arbitrary bytes and contexts: never a panic, and
//! never a plaintext unless the bytes are a blob this KMS made with that
//! context.
#![no_main]
use std::sync::OnceLock;

use kms_keystore::kms::{CreateKeyRequest, DecryptRequest, EncryptRequest, ReEncryptRequest};
use kms_keystore::{EncryptionContext, Kms, KmsConfig};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    kms: Kms,
    key: String,
    blob: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let kms = Kms::new(KmsConfig::default().with_seed(1));
        let key = kms.create_key(CreateKeyRequest::default()).unwrap().key_metadata.arn;
        let blob = kms
            .encrypt(EncryptRequest { key_id: key.clone(), plaintext: "fuzz".into(), ..Default::default() })
            .unwrap()
            .ciphertext_blob;
        Fixture { kms, key, blob }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    // First byte picks a context; the rest is the blob. Half the time, splice
    // the input into the real blob so the fuzzer explores near-valid blobs.
    let (sel, rest) = data.split_first().unwrap_or((&0, &[]));
    let mut ctx = EncryptionContext::new();
    if sel & 1 == 1 {
        ctx.insert("k".into(), String::from_utf8_lossy(rest).into_owned());
    }
    let bytes = if sel & 2 == 2 {
        let mut b = f.blob.clone();
        for (i, x) in rest.iter().enumerate() {
            let n = b.len();
            b[(i * 7) % n] ^= x;
        }
        b
    } else {
        rest.to_vec()
    };
    let valid = bytes == f.blob && ctx.is_empty();
    let r = f.kms.decrypt(DecryptRequest {
        ciphertext_blob: bytes.clone(),
        encryption_context: ctx.clone(),
        ..Default::default()
    });
    match r {
        Ok(out) => {
            assert!(valid, "a plaintext from bytes this KMS did not make");
            assert_eq!(out.plaintext.expose_secret(), b"fuzz");
        }
        Err(e) => assert!(!valid, "the real blob failed: {e}"),
    }
    let r = f.kms.re_encrypt(ReEncryptRequest {
        ciphertext_blob: bytes,
        source_encryption_context: ctx,
        destination_key_id: f.key.clone(),
        ..Default::default()
    });
    assert_eq!(r.is_ok(), valid);
});
