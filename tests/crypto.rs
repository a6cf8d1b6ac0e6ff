//! Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext),
//! GenerateRandom: limits, DryRun and the key-state table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{ACCOUNT, REGION, code, ctx, decrypt, encrypt, kms, new_key};
use kms_keystore::{
    DataKeySpec, DecryptRequest, EncryptRequest, EncryptionAlgorithmSpec, EncryptionContext,
    GenerateDataKeyRequest, GenerateRandomRequest, Kms, ListKeysRequest, MAX_CIPHERTEXT_BLOB,
    MAX_PLAINTEXT, MAX_RANDOM_BYTES, ReEncryptRequest, ScheduleKeyDeletionRequest,
};

const DAY: Duration = Duration::from_secs(86_400);

fn arn(id: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}")
}

fn enc_req(key_id: &str, plaintext: &[u8]) -> EncryptRequest {
    EncryptRequest {
        key_id: key_id.to_string(),
        plaintext: plaintext.into(),
        ..Default::default()
    }
}

fn dec_req(blob: &[u8]) -> DecryptRequest {
    DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        ..Default::default()
    }
}

fn re_req(blob: &[u8], dest: &str) -> ReEncryptRequest {
    ReEncryptRequest {
        ciphertext_blob: blob.to_vec(),
        destination_key_id: dest.to_string(),
        ..Default::default()
    }
}

fn gdk_bytes(key_id: &str, n: u32) -> GenerateDataKeyRequest {
    GenerateDataKeyRequest {
        key_id: key_id.to_string(),
        number_of_bytes: Some(n),
        ..Default::default()
    }
}

fn gdk_spec(key_id: &str, spec: DataKeySpec) -> GenerateDataKeyRequest {
    GenerateDataKeyRequest {
        key_id: key_id.to_string(),
        key_spec: Some(spec),
        ..Default::default()
    }
}

fn random(n: Option<u32>) -> GenerateRandomRequest {
    GenerateRandomRequest {
        number_of_bytes: n,
        custom_key_store_id: None,
    }
}

fn schedule(kms: &Kms, id: &str) {
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: id.to_string(),
        pending_window_in_days: Some(7),
    })
    .unwrap();
}

/// Every cryptographic operation on `key_id` (as the key used), with a blob
/// made earlier under it; the error codes, by operation name.
fn crypto_outcomes(
    kms: &Kms,
    key_id: &str,
    blob: &[u8],
    other: &str,
) -> Vec<(&'static str, String)> {
    let c = |r: kms_keystore::Result<()>| match r {
        Ok(()) => "ok".to_string(),
        Err(e) => e.code().to_string(),
    };
    vec![
        ("Encrypt", c(kms.encrypt(enc_req(key_id, b"x")).map(drop))),
        ("Decrypt", c(kms.decrypt(dec_req(blob)).map(drop))),
        (
            "ReEncrypt(source)",
            c(kms.re_encrypt(re_req(blob, other)).map(drop)),
        ),
        (
            "ReEncrypt(destination)",
            c({
                let other_blob = encrypt(kms, other, b"y", &EncryptionContext::new());
                kms.re_encrypt(re_req(&other_blob, key_id)).map(drop)
            }),
        ),
        (
            "GenerateDataKey",
            c(kms
                .generate_data_key(gdk_spec(key_id, DataKeySpec::Aes256))
                .map(drop)),
        ),
        (
            "GenerateDataKeyWithoutPlaintext",
            c(kms
                .generate_data_key_without_plaintext(gdk_spec(key_id, DataKeySpec::Aes256))
                .map(drop)),
        ),
    ]
}

// ------------------------------------------------------------------ Encrypt

#[test]
fn encrypt_then_decrypt_without_key_id_round_trips() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let resp = kms.encrypt(enc_req(&id, b"hello world")).unwrap();
    assert_eq!(resp.key_id, arn(&id));
    assert_eq!(
        resp.encryption_algorithm,
        EncryptionAlgorithmSpec::SymmetricDefault
    );
    assert_ne!(resp.ciphertext_blob, b"hello world");
    let out = kms.decrypt(dec_req(&resp.ciphertext_blob)).unwrap();
    assert_eq!(out.plaintext.expose_secret(), b"hello world");
    assert_eq!(out.key_id, arn(&id));
    assert_eq!(
        out.encryption_algorithm,
        EncryptionAlgorithmSpec::SymmetricDefault
    );
}

#[test]
fn encrypt_accepts_the_key_arn() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let resp = kms.encrypt(enc_req(&arn(&id), b"x")).unwrap();
    assert_eq!(resp.key_id, arn(&id));
}

#[test]
fn encrypt_accepts_plaintext_of_1_byte() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let blob = encrypt(&kms, &id, b"a", &EncryptionContext::new());
    assert_eq!(
        decrypt(&kms, &blob, &EncryptionContext::new()).unwrap(),
        b"a"
    );
}

#[test]
fn encrypt_accepts_plaintext_of_4096_bytes() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    assert_eq!(MAX_PLAINTEXT, 4096);
    let pt = vec![0x5a; 4096];
    let blob = encrypt(&kms, &id, &pt, &EncryptionContext::new());
    assert!(blob.len() <= MAX_CIPHERTEXT_BLOB, "{}", blob.len());
    assert_eq!(decrypt(&kms, &blob, &EncryptionContext::new()).unwrap(), pt);
}

#[test]
fn encrypt_rejects_plaintext_over_4096_bytes() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let r = kms.encrypt(enc_req(&id, &[0u8; 4097]));
    assert_eq!(code(r), "ValidationException");
}

#[test]
fn encrypt_rejects_empty_plaintext() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    assert_eq!(code(kms.encrypt(enc_req(&id, b""))), "ValidationException");
}

#[test]
fn encrypt_twice_gives_different_blobs_that_both_decrypt() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let none = EncryptionContext::new();
    let a = encrypt(&kms, &id, b"same", &none);
    let b = encrypt(&kms, &id, b"same", &none);
    assert_ne!(a, b);
    assert_eq!(decrypt(&kms, &a, &none).unwrap(), b"same");
    assert_eq!(decrypt(&kms, &b, &none).unwrap(), b"same");
}

#[test]
fn encrypt_with_unknown_key_is_not_found() {
    let (kms, _) = kms();
    let r = kms.encrypt(enc_req("1234abcd-12ab-34cd-56ef-1234567890ab", b"x"));
    assert_eq!(code(r), "NotFoundException");
}

#[test]
fn encrypt_with_key_arn_of_another_account_or_region_is_not_found() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    for a in [
        format!("arn:aws:kms:{REGION}:444455556666:key/{id}"),
        format!("arn:aws:kms:eu-central-1:{ACCOUNT}:key/{id}"),
    ] {
        assert_eq!(
            code(kms.encrypt(enc_req(&a, b"x"))),
            "NotFoundException",
            "{a}"
        );
    }
}

#[test]
fn encrypt_with_malformed_arn_is_invalid_arn() {
    let (kms, _) = kms();
    let r = kms.encrypt(enc_req("arn:aws:kms:us-west-2:abc:key/x", b"x"));
    assert_eq!(code(r), "InvalidArnException");
}

#[test]
fn encrypt_with_unknown_alias_is_not_found() {
    let (kms, _) = kms();
    new_key(&kms);
    assert_eq!(
        code(kms.encrypt(enc_req("alias/nothing", b"x"))),
        "NotFoundException"
    );
}

#[test]
fn encrypt_rejects_an_asymmetric_encryption_algorithm() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let r = kms.encrypt(EncryptRequest {
        encryption_algorithm: Some(EncryptionAlgorithmSpec::RsaesOaepSha256),
        ..enc_req(&id, b"x")
    });
    assert_eq!(code(r), "InvalidKeyUsageException");
    let ok = kms.encrypt(EncryptRequest {
        encryption_algorithm: Some(EncryptionAlgorithmSpec::SymmetricDefault),
        ..enc_req(&id, b"x")
    });
    assert!(ok.is_ok(), "{ok:?}");
}

/// A grant token for `key`, as CreateGrant returns it.
fn grant_token(kms: &Kms, key: &str) -> String {
    kms.create_grant(kms_keystore::CreateGrantRequest {
        key_id: key.into(),
        grantee_principal: "arn:aws:iam::111122223333:user/bob".into(),
        operations: vec![kms_keystore::GrantOperation::Encrypt],
        ..Default::default()
    })
    .unwrap()
    .grant_token
}

#[test]
fn encrypt_accepts_10_grant_tokens_and_rejects_11() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let token = grant_token(&kms, &id);
    let ok = kms.encrypt(EncryptRequest {
        grant_tokens: vec![token.clone(); 10],
        ..enc_req(&id, b"x")
    });
    assert!(ok.is_ok(), "{ok:?}");
    let r = kms.encrypt(EncryptRequest {
        grant_tokens: vec![token; 11],
        ..enc_req(&id, b"x")
    });
    assert_eq!(code(r), "ValidationException");
}

#[test]
fn encrypt_checks_grant_token_length_then_that_it_was_issued() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let with = |t: String| {
        kms.encrypt(EncryptRequest {
            grant_tokens: vec![t],
            ..enc_req(&id, b"x")
        })
    };
    // 8192 characters pass the length check; only a token CreateGrant
    // returned is accepted.
    assert_eq!(code(with("t".repeat(8192))), "InvalidGrantTokenException");
    assert!(with(grant_token(&kms, &id)).is_ok());
    assert_eq!(code(with("t".repeat(8193))), "ValidationException");
    assert_eq!(code(with(String::new())), "ValidationException");
}

// ------------------------------------------------------------------ Decrypt

#[test]
fn decrypt_accepts_the_right_key_id_as_id_or_arn() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let blob = encrypt(&kms, &id, b"pt", &EncryptionContext::new());
    for k in [id.clone(), arn(&id)] {
        let out = kms
            .decrypt(DecryptRequest {
                key_id: Some(k),
                ..dec_req(&blob)
            })
            .unwrap();
        assert_eq!(out.plaintext.expose_secret(), b"pt");
    }
}

#[test]
fn decrypt_with_a_key_id_that_is_not_the_blobs_key_is_incorrect_key() {
    let (kms, _) = kms();
    let a = new_key(&kms);
    let b = new_key(&kms);
    let blob = encrypt(&kms, &a, b"pt", &EncryptionContext::new());
    let r = kms.decrypt(DecryptRequest {
        key_id: Some(b.clone()),
        ..dec_req(&blob)
    });
    assert_eq!(code(r), "IncorrectKeyException");
    let r = kms.decrypt(DecryptRequest {
        key_id: Some(arn(&b)),
        ..dec_req(&blob)
    });
    assert_eq!(code(r), "IncorrectKeyException");
}

#[test]
fn decrypt_with_an_unknown_key_id_is_not_found() {
    let (kms, _) = kms();
    let a = new_key(&kms);
    let blob = encrypt(&kms, &a, b"pt", &EncryptionContext::new());
    let r = kms.decrypt(DecryptRequest {
        key_id: Some("1234abcd-12ab-34cd-56ef-1234567890ab".into()),
        ..dec_req(&blob)
    });
    assert_eq!(code(r), "NotFoundException");
}

#[test]
fn decrypt_needs_the_same_encryption_context() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let c = ctx(&[("purpose", "test"), ("tenant", "a")]);
    let blob = encrypt(&kms, &id, b"pt", &c);
    assert_eq!(decrypt(&kms, &blob, &c).unwrap(), b"pt");
    assert_eq!(
        code(decrypt(&kms, &blob, &EncryptionContext::new())),
        "InvalidCiphertextException"
    );
    assert_eq!(
        code(decrypt(
            &kms,
            &blob,
            &ctx(&[("purpose", "test"), ("tenant", "A")])
        )),
        "InvalidCiphertextException"
    );
}

#[test]
fn decrypt_rejects_an_empty_blob() {
    let (kms, _) = kms();
    new_key(&kms);
    assert_eq!(code(kms.decrypt(dec_req(b""))), "ValidationException");
}

#[test]
fn decrypt_rejects_a_blob_over_6144_bytes() {
    let (kms, _) = kms();
    new_key(&kms);
    assert_eq!(MAX_CIPHERTEXT_BLOB, 6144);
    let r = kms.decrypt(dec_req(&vec![1u8; 6145]));
    assert_eq!(code(r), "ValidationException");
}

#[test]
fn decrypt_of_6144_garbage_bytes_is_invalid_ciphertext() {
    let (kms, _) = kms();
    new_key(&kms);
    let r = kms.decrypt(dec_req(&vec![1u8; 6144]));
    assert_eq!(code(r), "InvalidCiphertextException");
}

#[test]
fn decrypt_rejects_an_asymmetric_encryption_algorithm() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let blob = encrypt(&kms, &id, b"pt", &EncryptionContext::new());
    let r = kms.decrypt(DecryptRequest {
        encryption_algorithm: Some(EncryptionAlgorithmSpec::RsaesOaepSha1),
        ..dec_req(&blob)
    });
    assert_eq!(code(r), "InvalidKeyUsageException");
}

#[test]
fn decrypt_of_a_blob_from_another_kms_is_invalid_ciphertext() {
    let (a, _) = kms();
    let (b, _) = common::kms_with_seed(99);
    let id = new_key(&a);
    new_key(&b);
    let blob = encrypt(&a, &id, b"pt", &EncryptionContext::new());
    assert_eq!(
        code(decrypt(&b, &blob, &EncryptionContext::new())),
        "InvalidCiphertextException"
    );
}

#[test]
fn decrypt_after_the_key_is_deleted_fails_the_same_whether_or_not_it_was_purged() {
    // One KMS looks at the key list (which purges due keys) before decrypting,
    // the other does not: the answer must not depend on that.
    let mut codes = Vec::new();
    for list_first in [false, true] {
        let (kms, clock) = kms();
        let id = new_key(&kms);
        let blob = encrypt(&kms, &id, b"pt", &EncryptionContext::new());
        schedule(&kms, &id);
        clock.advance(DAY * 7);
        if list_first {
            assert!(
                kms.list_keys(ListKeysRequest::default())
                    .unwrap()
                    .keys
                    .is_empty()
            );
        }
        codes.push(code(decrypt(&kms, &blob, &EncryptionContext::new())));
    }
    assert_eq!(codes[0], codes[1]);
    assert_eq!(codes[0], "InvalidCiphertextException");
}

// ---------------------------------------------------------------- ReEncrypt

#[test]
fn re_encrypt_moves_a_blob_to_another_key_and_context() {
    let (kms, _) = kms();
    let a = new_key(&kms);
    let b = new_key(&kms);
    let src_ctx = ctx(&[("stage", "one")]);
    let dst_ctx = ctx(&[("stage", "two")]);
    let blob = encrypt(&kms, &a, b"moving", &src_ctx);
    let resp = kms
        .re_encrypt(ReEncryptRequest {
            source_encryption_context: src_ctx.clone(),
            destination_encryption_context: dst_ctx.clone(),
            ..re_req(&blob, &b)
        })
        .unwrap();
    assert_eq!(resp.source_key_id, arn(&a));
    assert_eq!(resp.key_id, arn(&b));
    assert_eq!(
        resp.source_encryption_algorithm,
        EncryptionAlgorithmSpec::SymmetricDefault
    );
    assert_eq!(
        resp.destination_encryption_algorithm,
        EncryptionAlgorithmSpec::SymmetricDefault
    );
    assert_eq!(
        decrypt(&kms, &resp.ciphertext_blob, &dst_ctx).unwrap(),
        b"moving"
    );
    assert_eq!(
        code(decrypt(&kms, &resp.ciphertext_blob, &src_ctx)),
        "InvalidCiphertextException"
    );
    let out = kms.decrypt(dec_req(&resp.ciphertext_blob));
    assert_eq!(code(out), "InvalidCiphertextException");
    let out = kms
        .decrypt(DecryptRequest {
            encryption_context: dst_ctx,
            key_id: Some(b.clone()),
            ..dec_req(&resp.ciphertext_blob)
        })
        .unwrap();
    assert_eq!(out.key_id, arn(&b));
}

#[test]
fn re_encrypt_to_the_same_key_gives_a_new_blob() {
    let (kms, _) = kms();
    let a = new_key(&kms);
    let none = EncryptionContext::new();
    let blob = encrypt(&kms, &a, b"same", &none);
    let resp = kms.re_encrypt(re_req(&blob, &a)).unwrap();
    assert_ne!(resp.ciphertext_blob, blob);
    assert_eq!(
        decrypt(&kms, &resp.ciphertext_blob, &none).unwrap(),
        b"same"
    );
}

#[test]
fn re_encrypt_with_the_wrong_source_context_is_invalid_ciphertext() {
    let (kms, _) = kms();
    let a = new_key(&kms);
    let blob = encrypt(&kms, &a, b"pt", &ctx(&[("k", "v")]));
    let r = kms.re_encrypt(ReEncryptRequest {
        source_encryption_context: ctx(&[("k", "w")]),
        ..re_req(&blob, &a)
    });
    assert_eq!(code(r), "InvalidCiphertextException");
}

#[test]
fn re_encrypt_with_a_source_key_id_that_is_not_the_blobs_key_is_incorrect_key() {
    let (kms, _) = kms();
    let a = new_key(&kms);
    let b = new_key(&kms);
    let blob = encrypt(&kms, &a, b"pt", &EncryptionContext::new());
    let r = kms.re_encrypt(ReEncryptRequest {
        source_key_id: Some(b.clone()),
        ..re_req(&blob, &b)
    });
    assert_eq!(code(r), "IncorrectKeyException");
    let ok = kms.re_encrypt(ReEncryptRequest {
        source_key_id: Some(arn(&a)),
        ..re_req(&blob, &b)
    });
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn re_encrypt_needs_a_destination_key() {
    let (kms, _) = kms();
    let a = new_key(&kms);
    let blob = encrypt(&kms, &a, b"pt", &EncryptionContext::new());
    assert_eq!(
        code(kms.re_encrypt(re_req(&blob, ""))),
        "ValidationException"
    );
    assert_eq!(
        code(kms.re_encrypt(re_req(&blob, "1234abcd-12ab-34cd-56ef-1234567890ab"))),
        "NotFoundException"
    );
}

#[test]
fn re_encrypt_rejects_asymmetric_algorithms() {
    let (kms, _) = kms();
    let a = new_key(&kms);
    let blob = encrypt(&kms, &a, b"pt", &EncryptionContext::new());
    let r = kms.re_encrypt(ReEncryptRequest {
        source_encryption_algorithm: Some(EncryptionAlgorithmSpec::RsaesOaepSha256),
        ..re_req(&blob, &a)
    });
    assert_eq!(code(r), "InvalidKeyUsageException");
    let r = kms.re_encrypt(ReEncryptRequest {
        destination_encryption_algorithm: Some(EncryptionAlgorithmSpec::Sm2Pke),
        ..re_req(&blob, &a)
    });
    assert_eq!(code(r), "InvalidKeyUsageException");
}

// ---------------------------------------------------------- GenerateDataKey

#[test]
fn generate_data_key_aes_256_gives_32_bytes_that_its_blob_decrypts_to() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let c = ctx(&[("file", "a.txt")]);
    let resp = kms
        .generate_data_key(GenerateDataKeyRequest {
            encryption_context: c.clone(),
            ..gdk_spec(&id, DataKeySpec::Aes256)
        })
        .unwrap();
    assert_eq!(resp.plaintext.len(), 32);
    assert_eq!(resp.key_id, arn(&id));
    assert_eq!(
        decrypt(&kms, &resp.ciphertext_blob, &c).unwrap(),
        resp.plaintext.expose_secret()
    );
    assert_eq!(
        code(decrypt(
            &kms,
            &resp.ciphertext_blob,
            &EncryptionContext::new()
        )),
        "InvalidCiphertextException"
    );
}

#[test]
fn generate_data_key_aes_128_gives_16_bytes() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let resp = kms
        .generate_data_key(gdk_spec(&id, DataKeySpec::Aes128))
        .unwrap();
    assert_eq!(resp.plaintext.len(), 16);
    assert_eq!(
        decrypt(&kms, &resp.ciphertext_blob, &EncryptionContext::new()).unwrap(),
        resp.plaintext.expose_secret()
    );
}

#[test]
fn generate_data_key_accepts_1_and_1024_bytes() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    assert_eq!(MAX_RANDOM_BYTES, 1024);
    for n in [1u32, 1024] {
        let resp = kms.generate_data_key(gdk_bytes(&id, n)).unwrap();
        assert_eq!(resp.plaintext.len(), n as usize);
        assert_eq!(
            decrypt(&kms, &resp.ciphertext_blob, &EncryptionContext::new()).unwrap(),
            resp.plaintext.expose_secret()
        );
    }
}

#[test]
fn generate_data_key_rejects_0_and_1025_bytes() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    for n in [0u32, 1025] {
        assert_eq!(
            code(kms.generate_data_key(gdk_bytes(&id, n))),
            "ValidationException",
            "{n}"
        );
    }
}

#[test]
fn generate_data_key_needs_exactly_one_of_key_spec_and_number_of_bytes() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let both = GenerateDataKeyRequest {
        number_of_bytes: Some(32),
        ..gdk_spec(&id, DataKeySpec::Aes256)
    };
    assert_eq!(code(kms.generate_data_key(both)), "ValidationException");
    let neither = GenerateDataKeyRequest {
        key_id: id,
        ..Default::default()
    };
    assert_eq!(code(kms.generate_data_key(neither)), "ValidationException");
}

#[test]
fn generate_data_key_gives_a_fresh_key_each_time() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let a = kms
        .generate_data_key(gdk_spec(&id, DataKeySpec::Aes256))
        .unwrap();
    let b = kms
        .generate_data_key(gdk_spec(&id, DataKeySpec::Aes256))
        .unwrap();
    assert_ne!(a.plaintext.expose_secret(), b.plaintext.expose_secret());
    assert_ne!(a.ciphertext_blob, b.ciphertext_blob);
}

#[test]
fn generate_data_key_with_unknown_key_is_not_found() {
    let (kms, _) = kms();
    let r = kms.generate_data_key(gdk_spec(
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        DataKeySpec::Aes256,
    ));
    assert_eq!(code(r), "NotFoundException");
}

#[test]
fn generate_data_key_without_plaintext_gives_a_blob_of_the_requested_size() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let c = ctx(&[("a", "b")]);
    for (req, len) in [
        (gdk_spec(&id, DataKeySpec::Aes256), 32),
        (gdk_spec(&id, DataKeySpec::Aes128), 16),
        (gdk_bytes(&id, 1), 1),
        (gdk_bytes(&id, 1024), 1024),
    ] {
        let resp = kms
            .generate_data_key_without_plaintext(GenerateDataKeyRequest {
                encryption_context: c.clone(),
                ..req
            })
            .unwrap();
        assert_eq!(resp.key_id, arn(&id));
        assert_eq!(decrypt(&kms, &resp.ciphertext_blob, &c).unwrap().len(), len);
    }
}

#[test]
fn generate_data_key_without_plaintext_has_the_same_limits() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    for req in [
        gdk_bytes(&id, 0),
        gdk_bytes(&id, 1025),
        GenerateDataKeyRequest {
            number_of_bytes: Some(16),
            ..gdk_spec(&id, DataKeySpec::Aes128)
        },
        GenerateDataKeyRequest {
            key_id: id.clone(),
            ..Default::default()
        },
    ] {
        assert_eq!(
            code(kms.generate_data_key_without_plaintext(req)),
            "ValidationException"
        );
    }
}

// ----------------------------------------------------------- GenerateRandom

#[test]
fn generate_random_accepts_1_and_1024_bytes() {
    let (kms, _) = kms();
    for n in [1u32, 1024] {
        let resp = kms.generate_random(random(Some(n))).unwrap();
        assert_eq!(resp.plaintext.len(), n as usize);
    }
}

#[test]
fn generate_random_rejects_0_and_1025_bytes() {
    let (kms, _) = kms();
    for n in [0u32, 1025] {
        assert_eq!(
            code(kms.generate_random(random(Some(n)))),
            "ValidationException",
            "{n}"
        );
    }
}

#[test]
fn generate_random_requires_number_of_bytes() {
    let (kms, _) = kms();
    assert_eq!(
        code(kms.generate_random(random(None))),
        "ValidationException"
    );
}

#[test]
fn generate_random_gives_different_bytes_each_call() {
    let (kms, _) = kms();
    let a = kms.generate_random(random(Some(32))).unwrap();
    let b = kms.generate_random(random(Some(32))).unwrap();
    assert_ne!(a.plaintext.expose_secret(), b.plaintext.expose_secret());
    assert_ne!(a.plaintext.expose_secret(), &[0u8; 32]);
}

#[test]
fn generate_random_with_unknown_custom_key_store_is_not_found() {
    let (kms, _) = kms();
    let r = kms.generate_random(GenerateRandomRequest {
        number_of_bytes: Some(16),
        custom_key_store_id: Some("cks-1234567890abcdef0".into()),
    });
    assert_eq!(code(r), "CustomKeyStoreNotFoundException");
}

// ------------------------------------------------------------------- DryRun

#[test]
fn dry_run_of_every_crypto_operation_is_dry_run_operation() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let blob = encrypt(&kms, &id, b"pt", &EncryptionContext::new());
    let dry = Some(true);
    assert_eq!(
        code(kms.encrypt(EncryptRequest {
            dry_run: dry,
            ..enc_req(&id, b"x")
        })),
        "DryRunOperationException"
    );
    assert_eq!(
        code(kms.decrypt(DecryptRequest {
            dry_run: dry,
            ..dec_req(&blob)
        })),
        "DryRunOperationException"
    );
    assert_eq!(
        code(kms.re_encrypt(ReEncryptRequest {
            dry_run: dry,
            ..re_req(&blob, &id)
        })),
        "DryRunOperationException"
    );
    assert_eq!(
        code(kms.generate_data_key(GenerateDataKeyRequest {
            dry_run: dry,
            ..gdk_spec(&id, DataKeySpec::Aes256)
        })),
        "DryRunOperationException"
    );
    assert_eq!(
        code(
            kms.generate_data_key_without_plaintext(GenerateDataKeyRequest {
                dry_run: dry,
                ..gdk_spec(&id, DataKeySpec::Aes256)
            })
        ),
        "DryRunOperationException"
    );
}

#[test]
fn dry_run_false_runs_the_operation() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let resp = kms
        .encrypt(EncryptRequest {
            dry_run: Some(false),
            ..enc_req(&id, b"x")
        })
        .unwrap();
    assert_eq!(
        decrypt(&kms, &resp.ciphertext_blob, &EncryptionContext::new()).unwrap(),
        b"x"
    );
}

#[test]
fn dry_run_reports_the_error_the_real_call_would_give() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let blob = encrypt(&kms, &id, b"pt", &ctx(&[("a", "b")]));
    // A bad request is reported as itself, not as DryRunOperation.
    let r = kms.encrypt(EncryptRequest {
        dry_run: Some(true),
        ..enc_req(&id, &[0u8; 4097])
    });
    assert_eq!(code(r), "ValidationException");
    let r = kms.decrypt(DecryptRequest {
        dry_run: Some(true),
        ..dec_req(&blob)
    });
    assert_eq!(code(r), "InvalidCiphertextException");
    kms.disable_key(&id).unwrap();
    let r = kms.encrypt(EncryptRequest {
        dry_run: Some(true),
        ..enc_req(&id, b"x")
    });
    assert_eq!(code(r), "DisabledException");
}

// --------------------------------------------------------------- key states

#[test]
fn every_crypto_operation_works_on_an_enabled_key() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let other = new_key(&kms);
    let blob = encrypt(&kms, &id, b"pt", &EncryptionContext::new());
    for (op, outcome) in crypto_outcomes(&kms, &id, &blob, &other) {
        assert_eq!(outcome, "ok", "{op}");
    }
}

#[test]
fn every_crypto_operation_on_a_disabled_key_is_disabled_exception() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let other = new_key(&kms);
    let blob = encrypt(&kms, &id, b"pt", &EncryptionContext::new());
    kms.disable_key(&id).unwrap();
    let outcomes = crypto_outcomes(&kms, &id, &blob, &other);
    assert_eq!(outcomes.len(), 6);
    for (op, outcome) in outcomes {
        assert_eq!(outcome, "DisabledException", "{op}");
    }
}

#[test]
fn every_crypto_operation_on_a_key_pending_deletion_is_invalid_state() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let other = new_key(&kms);
    let blob = encrypt(&kms, &id, b"pt", &EncryptionContext::new());
    schedule(&kms, &id);
    let outcomes = crypto_outcomes(&kms, &id, &blob, &other);
    assert_eq!(outcomes.len(), 6);
    for (op, outcome) in outcomes {
        assert_eq!(outcome, "KMSInvalidStateException", "{op}");
    }
}

#[test]
fn crypto_works_again_after_cancel_and_enable() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    let blob = encrypt(&kms, &id, b"pt", &EncryptionContext::new());
    schedule(&kms, &id);
    kms.cancel_key_deletion(&id).unwrap();
    assert_eq!(
        code(decrypt(&kms, &blob, &EncryptionContext::new())),
        "DisabledException"
    );
    kms.enable_key(&id).unwrap();
    assert_eq!(
        decrypt(&kms, &blob, &EncryptionContext::new()).unwrap(),
        b"pt"
    );
}

#[test]
fn encrypt_with_a_deleted_key_is_not_found() {
    let (kms, clock) = kms();
    let id = new_key(&kms);
    schedule(&kms, &id);
    clock.advance(DAY * 7);
    assert_eq!(code(kms.encrypt(enc_req(&id, b"x"))), "NotFoundException");
    assert_eq!(
        code(kms.generate_data_key(gdk_spec(&id, DataKeySpec::Aes256))),
        "NotFoundException"
    );
}

#[test]
fn generate_random_needs_no_key() {
    let (kms, _) = kms();
    let id = new_key(&kms);
    kms.disable_key(&id).unwrap();
    assert!(kms.generate_random(random(Some(8))).is_ok());
}
