//! Known-answer vectors for the crypto core. The same vectors pass under
//! every AES-GCM backend (`cargo test --test crypto_backends` and
//! `cargo test --features aws-lc --test crypto_backends`), so a blob made
//! by one build opens under the other.

use kms_keystore::KeyId;
use kms_keystore::crypto::aead::{BACKEND, NONCE_LEN, TAG_LEN};
use kms_keystore::crypto::blob::{Blob, BlobKind, Body, HEADER_LEN, Header};
use kms_keystore::crypto::{Cipher, EncryptionContext, KeyMaterial, context};

#[allow(clippy::unwrap_used, reason = "test helper: a bad vector fails loudly")]
fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[allow(clippy::unwrap_used, reason = "test helper: a bad vector fails loudly")]
fn arr<const N: usize>(s: &str) -> [u8; N] {
    unhex(s).try_into().unwrap()
}

/// NIST CAVS `gcmEncryptExtIV256.rsp`: 128-bit plaintext, 128-bit AAD.
#[test]
fn nist_cavs_vector_with_aad_seals_and_opens() {
    let c = Cipher::new(&KeyMaterial::from_bytes(arr(
        "92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b",
    )));
    let nonce = arr("ac93a1a6145299bde902f21a");
    let aad = unhex("1e0889016f67601c8ebea4943bc23ad6");
    let mut buf = unhex("2d71bcfa914e4ac045b2aa60955fad24");
    let tag = c.seal_in_place(&nonce, &aad, &mut buf);
    assert_eq!(hex(&buf), "8995ae2e6df3dbf96fac7b7137bae67f", "{BACKEND}");
    assert_eq!(hex(&tag), "eca5aa77d51d4a0a14d9c51e1da474ab", "{BACKEND}");
    c.open_in_place(&nonce, &aad, &mut buf, &tag).unwrap();
    assert_eq!(hex(&buf), "2d71bcfa914e4ac045b2aa60955fad24");
}

// A version-1 single-layer blob, committed: key material 00..1f, key id
// 1234abcd-12ab-34cd-56ef-1234567890ab, nonce 000102..0b, an encryption
// context of two pairs, and the plaintext below.
const MATERIAL: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
const NONCE: &str = "000102030405060708090a0b";
const PLAINTEXT: &[u8] = b"kms-keystore: the same blob from every backend";
/// Cross-checked with OpenSSL (Python `cryptography`'s AESGCM) when committed.
const BLOB: &str = concat!(
    "0101",                             // version 1, single layer
    "1234abcd12ab34cd56ef1234567890ab", // key id
    "000102030405060708090a0b",         // nonce
    "2c6fa536ae80bb68f92ee5ee8bc90c05e6f6f4559d1e7f1e540887a57b1b6fdf",
    "2175d899ddb832fa15c71488e6e306ed480baa8fb0591b7177192685a848", // ciphertext || tag
);

fn vector_context() -> EncryptionContext {
    [("purpose", "known-answer"), ("tenant", "a")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Builds a blob as the service does: header, nonce, then the plaintext
/// sealed under `header || canonical(context)`, then the tag.
fn seal_blob(cipher: &Cipher, key_id: KeyId, nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
    let header = Header {
        kind: BlobKind::Single,
        key_id,
    }
    .to_bytes();
    let aad = context::aad(&header, &vector_context());
    let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + PLAINTEXT.len() + TAG_LEN);
    out.extend_from_slice(&header);
    out.extend_from_slice(nonce);
    out.extend_from_slice(PLAINTEXT);
    let tag = cipher.seal_in_place(nonce, &aad, &mut out[HEADER_LEN + NONCE_LEN..]);
    out.extend_from_slice(&tag);
    out
}

#[test]
fn sealing_the_vector_gives_the_committed_blob() {
    let cipher = Cipher::new(&KeyMaterial::from_bytes(arr(MATERIAL)));
    let blob = seal_blob(&cipher, KEY_ID.parse().unwrap(), &arr(NONCE));
    assert_eq!(hex(&blob), BLOB, "backend {BACKEND}");
}

#[test]
fn the_committed_blob_opens_to_the_plaintext() {
    let cipher = Cipher::new(&KeyMaterial::from_bytes(arr(MATERIAL)));
    let bytes = unhex(BLOB);
    let blob = Blob::read(&bytes).unwrap();
    assert_eq!(blob.header.key_id, KEY_ID.parse::<KeyId>().unwrap());
    let Body::Single { ciphertext, tag } = blob.body else {
        panic!("single-layer blob expected");
    };
    let aad = context::aad(blob.header_bytes, &vector_context());
    let mut buf = ciphertext.to_vec();
    cipher
        .open_in_place(blob.nonce, &aad, &mut buf, tag)
        .unwrap();
    assert_eq!(buf, PLAINTEXT, "backend {BACKEND}");
}

#[test]
fn the_committed_blob_does_not_open_under_another_context() {
    let cipher = Cipher::new(&KeyMaterial::from_bytes(arr(MATERIAL)));
    let bytes = unhex(BLOB);
    let blob = Blob::read(&bytes).unwrap();
    let Body::Single { ciphertext, tag } = blob.body else {
        panic!("single-layer blob expected");
    };
    let mut ctx = vector_context();
    ctx.insert("tenant".to_owned(), "b".to_owned());
    let aad = context::aad(blob.header_bytes, &ctx);
    let mut buf = ciphertext.to_vec();
    assert!(
        cipher
            .open_in_place(blob.nonce, &aad, &mut buf, tag)
            .is_err()
    );
    assert!(buf.iter().all(|&b| b == 0), "no unauthenticated plaintext");
}
