//! Tampered, truncated, foreign and context-mismatched blobs never decrypt.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{code, ctx, decrypt, encrypt, kms, new_key};
use kms_keystore::{
    DataKeySpec, DecryptRequest, EncryptionContext, GenerateDataKeyRequest, Kms, ReEncryptRequest,
};

/// Header: version (1) + kind (1) + key id (16).
const HEADER_LEN: usize = 18;

fn setup() -> (Kms, String, EncryptionContext, Vec<u8>) {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let c = ctx(&[("app", "billing"), ("tenant", "42")]);
    let blob = encrypt(&kms, &id, b"sixteen byte msg", &c);
    assert_eq!(decrypt(&kms, &blob, &c).unwrap(), b"sixteen byte msg");
    (kms, id, c, blob)
}

#[test]
fn every_single_bit_flip_of_a_blob_is_invalid_ciphertext() {
    let (kms, _, c, blob) = setup();
    let mut checked = 0;
    for i in 0..blob.len() {
        for bit in 0..8 {
            let mut t = blob.clone();
            t[i] ^= 1 << bit;
            let r = decrypt(&kms, &t, &c);
            assert_eq!(
                r.as_ref().map_err(|e| e.code()),
                Err("InvalidCiphertextException"),
                "byte {i} bit {bit}: {r:?}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, blob.len() * 8);
}

#[test]
fn every_single_bit_flip_fails_re_encrypt_too() {
    let (kms, id, c, blob) = setup();
    for i in 0..blob.len() {
        let mut t = blob.clone();
        t[i] ^= 0x80;
        let r = kms.re_encrypt(ReEncryptRequest {
            ciphertext_blob: t,
            source_encryption_context: c.clone(),
            destination_key_id: id.clone(),
            ..Default::default()
        });
        assert_eq!(code(r), "InvalidCiphertextException", "byte {i}");
    }
}

#[test]
fn every_single_bit_flip_with_the_key_id_given_is_invalid_ciphertext_or_incorrect_key() {
    // With KeyId given, a flip inside the header's key id names another key:
    // that is IncorrectKeyException; so does the flip of the format byte
    // from 2 to 3, which reads the same id bytes as a multi-Region (mrk-)
    // key's. Any other flip is InvalidCiphertext.
    let (kms, id, c, blob) = setup();
    for i in 0..blob.len() {
        let mut t = blob.clone();
        t[i] ^= 0x01;
        let r = kms.decrypt(DecryptRequest {
            ciphertext_blob: t,
            encryption_context: c.clone(),
            key_id: Some(id.clone()),
            ..Default::default()
        });
        let expected = if (2..HEADER_LEN).contains(&i) || (i == 0 && blob[0] == 2) {
            "IncorrectKeyException"
        } else {
            "InvalidCiphertextException"
        };
        assert_eq!(code(r), expected, "byte {i}");
    }
}

#[test]
fn every_truncation_of_a_blob_is_invalid_ciphertext() {
    let (kms, _, c, blob) = setup();
    for len in 1..blob.len() {
        let r = decrypt(&kms, &blob[..len], &c);
        assert_eq!(code(r), "InvalidCiphertextException", "length {len}");
    }
}

#[test]
fn every_truncation_from_the_front_is_invalid_ciphertext() {
    let (kms, _, c, blob) = setup();
    for start in 1..blob.len() {
        let r = decrypt(&kms, &blob[start..], &c);
        assert_eq!(code(r), "InvalidCiphertextException", "start {start}");
    }
}

#[test]
fn truncation_to_nothing_is_a_validation_error() {
    let (kms, _, c, _) = setup();
    assert_eq!(code(decrypt(&kms, &[], &c)), "ValidationException");
}

#[test]
fn extra_trailing_bytes_are_invalid_ciphertext() {
    let (kms, _, c, blob) = setup();
    for extra in [&[0u8][..], &[0xff; 16][..]] {
        let mut t = blob.clone();
        t.extend_from_slice(extra);
        assert_eq!(code(decrypt(&kms, &t, &c)), "InvalidCiphertextException");
    }
}

#[test]
fn a_blob_relabelled_with_another_keys_id_is_invalid_ciphertext() {
    let (kms, _, c, blob) = setup();
    let other = new_key(&kms);
    let other_blob = encrypt(&kms, &other, b"x", &c);
    let mut t = blob.clone();
    t[..HEADER_LEN].copy_from_slice(&other_blob[..HEADER_LEN]);
    assert_eq!(code(decrypt(&kms, &t, &c)), "InvalidCiphertextException");
}

#[test]
fn another_keys_blob_with_this_key_id_is_incorrect_key() {
    let (kms, id, c, _) = setup();
    let other = new_key(&kms);
    let other_blob = encrypt(&kms, &other, b"x", &c);
    let r = kms.decrypt(DecryptRequest {
        ciphertext_blob: other_blob,
        encryption_context: c,
        key_id: Some(id),
        ..Default::default()
    });
    assert_eq!(code(r), "IncorrectKeyException");
}

#[test]
fn swapping_nonces_between_two_blobs_is_invalid_ciphertext() {
    let (kms, id, c, blob) = setup();
    let second = encrypt(&kms, &id, b"sixteen byte msg", &c);
    let mut t = blob.clone();
    t[HEADER_LEN..HEADER_LEN + 12].copy_from_slice(&second[HEADER_LEN..HEADER_LEN + 12]);
    assert_ne!(t, blob);
    assert_eq!(code(decrypt(&kms, &t, &c)), "InvalidCiphertextException");
}

#[test]
fn a_changed_context_value_is_invalid_ciphertext() {
    let (kms, _, _, blob) = setup();
    let c = ctx(&[("app", "billing"), ("tenant", "43")]);
    assert_eq!(code(decrypt(&kms, &blob, &c)), "InvalidCiphertextException");
}

#[test]
fn a_changed_context_key_is_invalid_ciphertext() {
    let (kms, _, _, blob) = setup();
    let c = ctx(&[("app", "billing"), ("Tenant", "42")]);
    assert_eq!(code(decrypt(&kms, &blob, &c)), "InvalidCiphertextException");
}

#[test]
fn a_missing_context_pair_is_invalid_ciphertext() {
    let (kms, _, _, blob) = setup();
    let c = ctx(&[("app", "billing")]);
    assert_eq!(code(decrypt(&kms, &blob, &c)), "InvalidCiphertextException");
    assert_eq!(
        code(decrypt(&kms, &blob, &EncryptionContext::new())),
        "InvalidCiphertextException"
    );
}

#[test]
fn an_extra_context_pair_is_invalid_ciphertext() {
    let (kms, _, _, blob) = setup();
    let c = ctx(&[("app", "billing"), ("tenant", "42"), ("x", "")]);
    assert_eq!(code(decrypt(&kms, &blob, &c)), "InvalidCiphertextException");
}

#[test]
fn a_context_on_a_blob_made_without_one_is_invalid_ciphertext() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let blob = encrypt(&kms, &id, b"pt", &EncryptionContext::new());
    let r = decrypt(&kms, &blob, &ctx(&[("", "")]));
    assert_eq!(code(r), "InvalidCiphertextException");
}

#[test]
fn pairs_that_concatenate_the_same_are_not_confused() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let blob = encrypt(&kms, &id, b"pt", &ctx(&[("ab", "c")]));
    assert_eq!(
        code(decrypt(&kms, &blob, &ctx(&[("a", "bc")]))),
        "InvalidCiphertextException"
    );
}

#[test]
fn the_same_context_in_another_order_decrypts() {
    let (kms, _, _, blob) = setup();
    let mut reversed = EncryptionContext::new();
    reversed.insert("tenant".into(), "42".into());
    reversed.insert("app".into(), "billing".into());
    assert_eq!(
        decrypt(&kms, &blob, &reversed).unwrap(),
        b"sixteen byte msg"
    );
    // And as the wire would give it, in another JSON order.
    let from_json: EncryptionContext =
        serde_json::from_str(r#"{"tenant":"42","app":"billing"}"#).unwrap();
    assert_eq!(
        decrypt(&kms, &blob, &from_json).unwrap(),
        b"sixteen byte msg"
    );
}

#[test]
fn a_tampered_data_key_blob_is_invalid_ciphertext() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let resp = kms
        .generate_data_key(GenerateDataKeyRequest {
            key_id: id,
            key_spec: Some(DataKeySpec::Aes256),
            ..Default::default()
        })
        .unwrap();
    let none = EncryptionContext::new();
    for i in 0..resp.ciphertext_blob.len() {
        let mut t = resp.ciphertext_blob.clone();
        t[i] ^= 0x10;
        assert_eq!(
            code(decrypt(&kms, &t, &none)),
            "InvalidCiphertextException",
            "byte {i}"
        );
    }
}
