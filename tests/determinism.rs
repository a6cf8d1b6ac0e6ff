//! Seeded KMS instances: same seed and same calls give the same results.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ctx, decrypt, kms_with_seed};
use kms_keystore::{
    CreateKeyRequest, DataKeySpec, EncryptRequest, GenerateDataKeyRequest, GenerateRandomRequest,
    Kms, ListKeysRequest, ReEncryptRequest,
};

/// A fixed script of calls; everything observable it produced.
fn script(kms: &Kms) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let a = kms
        .create_key(CreateKeyRequest::with_description("a"))
        .unwrap()
        .key_metadata;
    let b = kms
        .create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata;
    out.push(a.key_id.to_string().into_bytes());
    out.push(b.key_id.to_string().into_bytes());
    out.push(serde_json::to_vec(&a).unwrap());
    let c = ctx(&[("k", "v")]);
    let enc = kms
        .encrypt(EncryptRequest {
            key_id: a.key_id.to_string(),
            plaintext: "determinism".into(),
            encryption_context: c.clone(),
            ..Default::default()
        })
        .unwrap();
    out.push(enc.ciphertext_blob.clone());
    let dk = kms
        .generate_data_key(GenerateDataKeyRequest {
            key_id: b.key_id.to_string(),
            key_spec: Some(DataKeySpec::Aes256),
            ..Default::default()
        })
        .unwrap();
    out.push(dk.plaintext.expose_secret().to_vec());
    out.push(dk.ciphertext_blob);
    let dk2 = kms
        .generate_data_key_without_plaintext(GenerateDataKeyRequest {
            key_id: b.key_id.to_string(),
            number_of_bytes: Some(64),
            ..Default::default()
        })
        .unwrap();
    out.push(dk2.ciphertext_blob);
    let re = kms
        .re_encrypt(ReEncryptRequest {
            ciphertext_blob: enc.ciphertext_blob,
            source_encryption_context: c,
            destination_key_id: b.key_id.to_string(),
            ..Default::default()
        })
        .unwrap();
    out.push(re.ciphertext_blob);
    let rnd = kms
        .generate_random(GenerateRandomRequest {
            number_of_bytes: Some(32),
            custom_key_store_id: None,
        })
        .unwrap();
    out.push(rnd.plaintext.expose_secret().to_vec());
    let list = kms.list_keys(ListKeysRequest::default()).unwrap();
    out.push(serde_json::to_vec(&list).unwrap());
    out
}

#[test]
fn same_seed_and_same_calls_give_identical_results() {
    let (a, _) = kms_with_seed(7);
    let (b, _) = kms_with_seed(7);
    let ra = script(&a);
    let rb = script(&b);
    assert_eq!(ra.len(), 10);
    assert_eq!(ra, rb);
}

#[test]
fn different_seeds_give_different_key_ids_data_keys_and_ciphertexts() {
    let (a, _) = kms_with_seed(7);
    let (b, _) = kms_with_seed(8);
    let ra = script(&a);
    let rb = script(&b);
    // key ids, ciphertext, data key, data key blob, blobs, random bytes.
    for i in [0, 1, 3, 4, 5, 6, 7, 8] {
        assert_ne!(ra[i], rb[i], "output {i}");
    }
}

#[test]
fn a_blob_from_one_instance_decrypts_in_another_with_the_same_seed() {
    let (a, _) = kms_with_seed(11);
    let (b, _) = kms_with_seed(11);
    let ka = common::new_key(&a);
    let kb = common::new_key(&b);
    assert_eq!(ka, kb);
    let c = ctx(&[("x", "y")]);
    let blob = common::encrypt(&a, &ka, b"portable", &c);
    assert_eq!(decrypt(&b, &blob, &c).unwrap(), b"portable");
}

#[test]
fn the_same_seed_with_different_calls_diverges() {
    let (a, _) = kms_with_seed(5);
    let (b, _) = kms_with_seed(5);
    let _ = a
        .generate_random(GenerateRandomRequest {
            number_of_bytes: Some(1),
            custom_key_store_id: None,
        })
        .unwrap();
    assert_ne!(common::new_key(&a), common::new_key(&b));
}

#[test]
fn clones_share_one_random_stream() {
    let (a, _) = kms_with_seed(3);
    let (b, _) = kms_with_seed(3);
    let a2 = a.clone();
    let first = common::new_key(&a);
    let second = common::new_key(&a2);
    assert_ne!(first, second);
    assert_eq!(common::new_key(&b), first);
    assert_eq!(common::new_key(&b), second);
}
