//! Asymmetric KMS keys (feature `asymmetric`): CreateKey with the RSA and
//! ECC specs and their usages, DescribeKey and GetPublicKey, Sign and
//! Verify (RAW and DIGEST, every algorithm), RSA Encrypt / Decrypt /
//! ReEncrypt, DeriveSharedSecret, GenerateDataKeyPair(+WithoutPlaintext),
//! key usage and key state, grants, policy condition keys, determinism,
//! the wire, durable storage and secret hygiene.
#![cfg(feature = "asymmetric")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[cfg(feature = "durable")]
mod durable;

use common::{ACCOUNT, REGION, code, ctx, kms, kms_with_seed, new_key, wire};
use kms_keystore::server::Dispatcher;
use kms_keystore::{
    CreateGrantRequest, CreateKeyRequest, DataKeyPairSpec, DecryptRequest,
    DeriveSharedSecretRequest, EncryptRequest, EncryptionAlgorithmSpec, GenerateDataKeyPairRequest,
    GenerateDataKeyRequest, GetPublicKeyRequest, GrantConstraints, GrantOperation,
    KeyAgreementAlgorithmSpec, KeySpec, KeyUsage, Kms, MessageType, OriginType,
    PutKeyPolicyRequest, ReEncryptRequest, SignRequest, SigningAlgorithmSpec, VerifyRequest,
};
use serde_json::{Value, json};
use sha2::Digest as _;

use SigningAlgorithmSpec as S;

fn create(kms: &Kms, spec: KeySpec, usage: KeyUsage) -> String {
    common::create_key_of(kms, spec, usage).unwrap()
}

fn arn(id: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}")
}

fn sign_req(key: &str, alg: SigningAlgorithmSpec, message: &[u8]) -> SignRequest {
    SignRequest {
        key_id: key.into(),
        message: message.into(),
        signing_algorithm: Some(alg),
        ..Default::default()
    }
}

fn sign(kms: &Kms, key: &str, alg: SigningAlgorithmSpec, message: &[u8]) -> Vec<u8> {
    kms.sign(sign_req(key, alg, message)).unwrap().signature
}

fn verify_req(key: &str, alg: SigningAlgorithmSpec, message: &[u8], sig: &[u8]) -> VerifyRequest {
    VerifyRequest {
        key_id: key.into(),
        message: message.into(),
        signature: sig.to_vec(),
        signing_algorithm: Some(alg),
        ..Default::default()
    }
}

fn encrypt_req(
    key: &str,
    alg: Option<EncryptionAlgorithmSpec>,
    plaintext: &[u8],
) -> EncryptRequest {
    EncryptRequest {
        key_id: key.into(),
        plaintext: plaintext.into(),
        encryption_algorithm: alg,
        ..Default::default()
    }
}

fn decrypt_req(
    key: Option<&str>,
    alg: Option<EncryptionAlgorithmSpec>,
    blob: &[u8],
) -> DecryptRequest {
    DecryptRequest {
        key_id: key.map(str::to_owned),
        ciphertext_blob: blob.to_vec(),
        encryption_algorithm: alg,
        ..Default::default()
    }
}

fn digest(alg: SigningAlgorithmSpec, m: &[u8]) -> Vec<u8> {
    match alg {
        S::RsassaPssSha256 | S::RsassaPkcs1V15Sha256 | S::EcdsaSha256 => {
            sha2::Sha256::digest(m).to_vec()
        }
        S::RsassaPssSha384 | S::RsassaPkcs1V15Sha384 | S::EcdsaSha384 => {
            sha2::Sha384::digest(m).to_vec()
        }
        _ => sha2::Sha512::digest(m).to_vec(),
    }
}

const RSA_SIGNING: [SigningAlgorithmSpec; 6] = [
    S::RsassaPssSha256,
    S::RsassaPssSha384,
    S::RsassaPssSha512,
    S::RsassaPkcs1V15Sha256,
    S::RsassaPkcs1V15Sha384,
    S::RsassaPkcs1V15Sha512,
];

/// Every spec with every usage: the ones AWS allows make keys (RSA_3072
/// and RSA_4096 only here: their key generation is slow), the others are
/// `ValidationException`.
#[test]
fn create_key_allows_each_asymmetric_spec_only_its_documented_usages() {
    let (kms, _) = kms();
    let allowed: [(KeySpec, &[KeyUsage]); 7] = [
        (
            KeySpec::Rsa2048,
            &[KeyUsage::EncryptDecrypt, KeyUsage::SignVerify],
        ),
        (KeySpec::Rsa3072, &[KeyUsage::SignVerify]),
        (KeySpec::Rsa4096, &[KeyUsage::EncryptDecrypt]),
        (
            KeySpec::EccNistP256,
            &[KeyUsage::SignVerify, KeyUsage::KeyAgreement],
        ),
        (
            KeySpec::EccNistP384,
            &[KeyUsage::SignVerify, KeyUsage::KeyAgreement],
        ),
        (
            KeySpec::EccNistP521,
            &[KeyUsage::SignVerify, KeyUsage::KeyAgreement],
        ),
        (KeySpec::EccSecgP256k1, &[KeyUsage::SignVerify]),
    ];
    for (spec, usages) in allowed {
        for usage in usages {
            let id = create(&kms, spec, *usage);
            let md = kms.describe_key(&id).unwrap().key_metadata;
            assert_eq!((md.key_spec, md.key_usage), (spec, *usage));
            assert_eq!(md.origin, OriginType::AwsKms);
            assert!(md.current_key_material_id.is_none());
        }
    }
    let refused = [
        (KeySpec::Rsa2048, KeyUsage::KeyAgreement),
        (KeySpec::Rsa2048, KeyUsage::GenerateVerifyMac),
        (KeySpec::EccNistP256, KeyUsage::EncryptDecrypt),
        (KeySpec::EccSecgP256k1, KeyUsage::KeyAgreement),
        (KeySpec::EccSecgP256k1, KeyUsage::EncryptDecrypt),
        (KeySpec::EccNistP384, KeyUsage::GenerateVerifyMac),
    ];
    for (spec, usage) in refused {
        let err = common::create_key_of(&kms, spec, usage).unwrap_err();
        assert_eq!(err.code(), "ValidationException", "{spec} {usage}");
        assert_eq!(
            err.message(),
            format!("KeyUsage {usage} is not compatible with KeySpec {spec}.")
        );
    }
}

#[test]
fn key_usage_is_required_for_asymmetric_specs() {
    let (kms, _) = kms();
    for spec in [KeySpec::Rsa2048, KeySpec::EccNistP256] {
        let err = kms
            .create_key(CreateKeyRequest {
                key_spec: Some(spec),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err.code(), "ValidationException");
        assert_eq!(
            err.message(),
            "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
        );
    }
}

#[test]
fn sm2_and_asymmetric_keys_in_custom_key_stores_are_refused() {
    let (kms, _) = kms();
    let make = |spec, usage, f: fn(&mut CreateKeyRequest)| {
        let mut req = CreateKeyRequest {
            key_spec: Some(spec),
            key_usage: Some(usage),
            ..Default::default()
        };
        f(&mut req);
        kms.create_key(req).unwrap_err()
    };
    let sm2 = make(KeySpec::Sm2, KeyUsage::SignVerify, |_| {});
    assert_eq!(sm2.code(), "UnsupportedOperationException");
    assert!(sm2.message().contains("China Regions"), "{sm2}");
    let store = make(KeySpec::EccNistP256, KeyUsage::SignVerify, |r| {
        r.origin = Some(OriginType::AwsCloudHsm);
        r.custom_key_store_id = Some("cks-1234567890abcdef0".into());
    });
    assert_eq!(store.code(), "UnsupportedOperationException");
    assert!(store.message().contains("custom key stores"), "{store}");
}

#[test]
fn describe_key_and_get_public_key_list_the_algorithms_of_the_usage() {
    let (kms, _) = kms();
    let rsa_sign = create(&kms, KeySpec::Rsa2048, KeyUsage::SignVerify);
    let rsa_enc = create(&kms, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let p521 = create(&kms, KeySpec::EccNistP521, KeyUsage::SignVerify);
    let k256 = create(&kms, KeySpec::EccSecgP256k1, KeyUsage::SignVerify);
    let ecdh = create(&kms, KeySpec::EccNistP384, KeyUsage::KeyAgreement);
    let cases: [(&str, Value); 5] = [
        (
            &rsa_sign,
            json!({"SigningAlgorithms": RSA_SIGNING.map(|a| a.as_str())}),
        ),
        (
            &rsa_enc,
            json!({"EncryptionAlgorithms": ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]}),
        ),
        (&p521, json!({"SigningAlgorithms": ["ECDSA_SHA_512"]})),
        (&k256, json!({"SigningAlgorithms": ["ECDSA_SHA_256"]})),
        (&ecdh, json!({"KeyAgreementAlgorithms": ["ECDH"]})),
    ];
    for (id, want) in cases {
        let md = serde_json::to_value(kms.describe_key(id).unwrap().key_metadata).unwrap();
        let pk = kms
            .get_public_key(GetPublicKeyRequest {
                key_id: id.into(),
                ..Default::default()
            })
            .unwrap();
        let pkv = serde_json::to_value(&pk).unwrap();
        for field in [
            "EncryptionAlgorithms",
            "SigningAlgorithms",
            "KeyAgreementAlgorithms",
        ] {
            assert_eq!(md.get(field), want.get(field), "{field} of {md}");
            assert_eq!(pkv.get(field), want.get(field), "{field} of {pkv}");
        }
        assert!(md.get("MacAlgorithms").is_none());
        assert_eq!(pk.key_id, arn(id));
        assert_eq!(pk.key_spec.as_str(), md["KeySpec"]);
        assert_eq!(pk.customer_master_key_spec.as_str(), md["KeySpec"]);
        assert_eq!(pk.key_usage.as_str(), md["KeyUsage"]);
        // DER SubjectPublicKeyInfo: a SEQUENCE.
        assert_eq!(pk.public_key[0], 0x30);
    }
}

#[test]
fn get_public_key_of_a_symmetric_or_hmac_key_is_unsupported() {
    let (kms, _) = kms();
    let sym = new_key(&kms);
    let err = kms
        .get_public_key(GetPublicKeyRequest {
            key_id: sym.clone(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
    assert_eq!(
        err.message(),
        format!(
            "{} key spec is SYMMETRIC_DEFAULT which is not valid for GetPublicKey.",
            arn(&sym)
        )
    );
}

#[test]
fn sign_and_verify_work_for_every_spec_and_algorithm_raw_and_digest() {
    let (kms, _) = kms();
    let cases: Vec<(KeySpec, Vec<SigningAlgorithmSpec>)> = vec![
        (KeySpec::Rsa2048, RSA_SIGNING.to_vec()),
        (KeySpec::EccNistP256, vec![S::EcdsaSha256]),
        (KeySpec::EccNistP384, vec![S::EcdsaSha384]),
        (KeySpec::EccNistP521, vec![S::EcdsaSha512]),
        (KeySpec::EccSecgP256k1, vec![S::EcdsaSha256]),
    ];
    let message = b"the message to sign";
    for (spec, algs) in cases {
        let id = create(&kms, spec, KeyUsage::SignVerify);
        for alg in algs {
            let raw = kms.sign(sign_req(&id, alg, message)).unwrap();
            assert_eq!(raw.key_id, arn(&id));
            assert_eq!(raw.signing_algorithm, alg);
            if spec == KeySpec::Rsa2048 {
                assert_eq!(raw.signature.len(), 256);
            } else {
                assert_eq!(raw.signature[0], 0x30, "ECDSA signatures are DER");
            }
            let ok = kms
                .verify(verify_req(&id, alg, message, &raw.signature))
                .unwrap();
            assert!(ok.signature_valid);
            assert_eq!(ok.signing_algorithm, alg);
            // A signature over the digest verifies as RAW, and back.
            let d = digest(alg, message);
            let by_digest = kms
                .sign(SignRequest {
                    message_type: Some(MessageType::Digest),
                    ..sign_req(&id, alg, &d)
                })
                .unwrap()
                .signature;
            assert!(
                kms.verify(verify_req(&id, alg, message, &by_digest))
                    .is_ok(),
                "{alg}"
            );
            let req = VerifyRequest {
                message_type: Some(MessageType::Digest),
                ..verify_req(&id, alg, &d, &raw.signature)
            };
            assert!(kms.verify(req).is_ok(), "{alg}");
        }
    }
}

#[test]
fn verify_of_a_wrong_signature_or_message_is_kms_invalid_signature() {
    let (kms, _) = kms();
    for (spec, alg) in [
        (KeySpec::Rsa2048, S::RsassaPssSha256),
        (KeySpec::EccNistP256, S::EcdsaSha256),
    ] {
        let id = create(&kms, spec, KeyUsage::SignVerify);
        let sig = sign(&kms, &id, alg, b"m");
        let mut bad = sig.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        for (m, s) in [
            (&b"m"[..], &bad[..]),
            (b"n", &sig[..]),
            (b"m", &b"junk"[..]),
        ] {
            let err = kms.verify(verify_req(&id, alg, m, s)).unwrap_err();
            assert_eq!(err.code(), "KMSInvalidSignatureException");
            assert_eq!(err.http_status(), 400);
        }
        let other = create(&kms, spec, KeyUsage::SignVerify);
        assert_eq!(
            code(kms.verify(verify_req(&other, alg, b"m", &sig))),
            "KMSInvalidSignatureException"
        );
    }
}

#[test]
fn an_algorithm_of_another_spec_or_usage_is_invalid_key_usage() {
    let (kms, _) = kms();
    let p256 = create(&kms, KeySpec::EccNistP256, KeyUsage::SignVerify);
    for alg in [
        S::EcdsaSha384,
        S::EcdsaSha512,
        S::RsassaPssSha256,
        S::Ed25519Sha512,
    ] {
        let err = kms.sign(sign_req(&p256, alg, b"m")).unwrap_err();
        assert_eq!(err.code(), "InvalidKeyUsageException");
        assert_eq!(
            err.message(),
            format!("Algorithm {alg} is incompatible with key spec ECC_NIST_P256.")
        );
    }
    let rsa = create(&kms, KeySpec::Rsa2048, KeyUsage::SignVerify);
    assert_eq!(
        code(kms.sign(sign_req(&rsa, S::EcdsaSha256, b"m"))),
        "InvalidKeyUsageException"
    );
    // Sign with an encryption key, Encrypt with a signing key.
    let enc = create(&kms, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let err = kms
        .sign(sign_req(&enc, S::RsassaPssSha256, b"m"))
        .unwrap_err();
    assert_eq!(err.code(), "InvalidKeyUsageException");
    assert_eq!(
        err.message(),
        format!(
            "{} key usage is ENCRYPT_DECRYPT which is not valid for Sign.",
            arn(&enc)
        )
    );
    let err = kms
        .encrypt(encrypt_req(
            &rsa,
            Some(EncryptionAlgorithmSpec::RsaesOaepSha256),
            b"m",
        ))
        .unwrap_err();
    assert_eq!(err.code(), "InvalidKeyUsageException");
    let sym = new_key(&kms);
    assert_eq!(
        code(kms.sign(sign_req(&sym, S::RsassaPssSha256, b"m"))),
        "InvalidKeyUsageException"
    );
    let err = kms
        .generate_data_key(GenerateDataKeyRequest {
            key_id: enc.clone(),
            number_of_bytes: Some(32),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "InvalidKeyUsageException");
    assert_eq!(
        err.message(),
        "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048."
    );
}

#[test]
fn sign_checks_the_message_its_length_and_the_digest_length() {
    let (kms, _) = kms();
    let id = create(&kms, KeySpec::EccNistP384, KeyUsage::SignVerify);
    let alg = S::EcdsaSha384;
    assert!(kms.sign(sign_req(&id, alg, &[1; 4096])).is_ok());
    let long = kms.sign(sign_req(&id, alg, &[1; 4097])).unwrap_err();
    assert_eq!(long.code(), "ValidationException");
    assert!(
        long.message().contains("length less than or equal to 4096"),
        "{long}"
    );
    assert_eq!(
        code(kms.sign(sign_req(&id, alg, b""))),
        "ValidationException"
    );
    let missing = kms
        .sign(SignRequest {
            signing_algorithm: None,
            ..sign_req(&id, alg, b"m")
        })
        .unwrap_err();
    assert_eq!(missing.code(), "ValidationException");
    for n in [32, 47, 49, 64] {
        let err = kms
            .sign(SignRequest {
                message_type: Some(MessageType::Digest),
                ..sign_req(&id, alg, &vec![0; n])
            })
            .unwrap_err();
        assert_eq!(err.code(), "ValidationException", "{n}");
        assert_eq!(
            err.message(),
            "Digest is invalid length for algorithm ECDSA_SHA_384."
        );
    }
    let ok = kms.sign(SignRequest {
        message_type: Some(MessageType::Digest),
        ..sign_req(&id, alg, &[0; 48])
    });
    assert!(ok.is_ok());
    // DryRun: everything checked, nothing signed.
    let dry = kms.sign(SignRequest {
        dry_run: Some(true),
        ..sign_req(&id, alg, b"m")
    });
    assert_eq!(code(dry), "DryRunOperationException");
}

#[test]
fn rsa_encrypt_and_decrypt_round_trip_with_both_oaep_algorithms_up_to_the_limit() {
    let (kms, _) = kms();
    let id = create(&kms, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    for (alg, max) in [
        (EncryptionAlgorithmSpec::RsaesOaepSha1, 214),
        (EncryptionAlgorithmSpec::RsaesOaepSha256, 190),
    ] {
        let plaintext = vec![0x5a; max];
        let out = kms
            .encrypt(encrypt_req(&id, Some(alg), &plaintext))
            .unwrap();
        assert_eq!(out.encryption_algorithm, alg);
        assert_eq!(out.key_id, arn(&id));
        // Raw RSA ciphertext: the modulus' size.
        assert_eq!(out.ciphertext_blob.len(), 256);
        let back = kms
            .decrypt(decrypt_req(Some(&id), Some(alg), &out.ciphertext_blob))
            .unwrap();
        assert_eq!(back.plaintext.expose_secret(), &plaintext[..]);
        assert_eq!(back.encryption_algorithm, alg);
        assert_eq!(back.key_id, arn(&id));
        assert!(back.key_material_id.is_none());
        let over = kms
            .encrypt(encrypt_req(&id, Some(alg), &vec![1; max + 1]))
            .unwrap_err();
        assert_eq!(over.code(), "ValidationException", "{alg}");
        // The other OAEP hash does not decrypt it.
        let other = match alg {
            EncryptionAlgorithmSpec::RsaesOaepSha1 => EncryptionAlgorithmSpec::RsaesOaepSha256,
            _ => EncryptionAlgorithmSpec::RsaesOaepSha1,
        };
        assert_eq!(
            code(kms.decrypt(decrypt_req(Some(&id), Some(other), &out.ciphertext_blob))),
            "InvalidCiphertextException"
        );
        // Without KeyId the raw ciphertext names no key.
        assert_eq!(
            code(kms.decrypt(decrypt_req(None, Some(alg), &out.ciphertext_blob))),
            "InvalidCiphertextException"
        );
        // Decrypt into a buffer the caller keeps: the same answers.
        let mut buf = kms_keystore::Plaintext::from(vec![7; 4096]);
        let used = kms
            .decrypt_into(
                &decrypt_req(Some(&id), Some(alg), &out.ciphertext_blob),
                &mut buf,
            )
            .unwrap();
        assert_eq!(
            (used.to_string(), buf.expose_secret()),
            (id.clone(), &plaintext[..])
        );
        for req in [
            decrypt_req(Some(&id), Some(other), &out.ciphertext_blob),
            decrypt_req(None, Some(alg), &out.ciphertext_blob),
        ] {
            assert_eq!(
                code(kms.decrypt_into(&req, &mut buf)),
                "InvalidCiphertextException"
            );
            assert!(buf.is_empty());
        }
    }
}

#[test]
fn rsa_encryption_refuses_the_default_algorithm_and_an_encryption_context() {
    let (kms, _) = kms();
    let id = create(&kms, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    for alg in [None, Some(EncryptionAlgorithmSpec::SymmetricDefault)] {
        let err = kms.encrypt(encrypt_req(&id, alg, b"m")).unwrap_err();
        assert_eq!(err.code(), "InvalidKeyUsageException");
        assert_eq!(
            err.message(),
            "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048."
        );
    }
    let with_ctx = EncryptRequest {
        encryption_context: ctx(&[("a", "b")]),
        ..encrypt_req(&id, Some(EncryptionAlgorithmSpec::RsaesOaepSha256), b"m")
    };
    assert_eq!(code(kms.encrypt(with_ctx)), "ValidationException");
    // A symmetric key still refuses the RSA algorithms.
    let sym = new_key(&kms);
    assert_eq!(
        code(kms.encrypt(encrypt_req(
            &sym,
            Some(EncryptionAlgorithmSpec::RsaesOaepSha1),
            b"m"
        ))),
        "InvalidKeyUsageException"
    );
    // A symmetric blob decrypted with an RSA KeyId is the wrong key's.
    let blob = common::encrypt(&kms, &sym, b"m", &ctx(&[]));
    assert_eq!(
        code(kms.decrypt(decrypt_req(
            Some(&id),
            Some(EncryptionAlgorithmSpec::RsaesOaepSha256),
            &blob
        ))),
        "InvalidCiphertextException"
    );
}

#[test]
fn re_encrypt_moves_data_between_symmetric_and_rsa_keys() {
    let (kms, _) = kms();
    let sym = new_key(&kms);
    let rsa = create(&kms, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let blob = common::encrypt(&kms, &sym, b"payload", &ctx(&[("k", "v")]));
    let to_rsa = kms
        .re_encrypt(ReEncryptRequest {
            ciphertext_blob: blob,
            source_encryption_context: ctx(&[("k", "v")]),
            destination_key_id: rsa.clone(),
            destination_encryption_algorithm: Some(EncryptionAlgorithmSpec::RsaesOaepSha1),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        to_rsa.source_encryption_algorithm,
        EncryptionAlgorithmSpec::SymmetricDefault
    );
    assert_eq!(
        to_rsa.destination_encryption_algorithm,
        EncryptionAlgorithmSpec::RsaesOaepSha1
    );
    assert!(to_rsa.destination_key_material_id.is_none());
    let back = kms
        .re_encrypt(ReEncryptRequest {
            ciphertext_blob: to_rsa.ciphertext_blob,
            source_key_id: Some(rsa.clone()),
            source_encryption_algorithm: Some(EncryptionAlgorithmSpec::RsaesOaepSha1),
            destination_key_id: sym.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        back.source_encryption_algorithm,
        EncryptionAlgorithmSpec::RsaesOaepSha1
    );
    assert_eq!(back.source_key_id, arn(&rsa));
    assert_eq!(
        common::decrypt(&kms, &back.ciphertext_blob, &ctx(&[])).unwrap(),
        b"payload"
    );
}

#[test]
fn derive_shared_secret_agrees_with_the_other_side_and_refuses_another_curve() {
    let (kms, _) = kms();
    for spec in [
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::EccNistP521,
    ] {
        let a = create(&kms, spec, KeyUsage::KeyAgreement);
        let b = create(&kms, spec, KeyUsage::KeyAgreement);
        let public = |id: &str| {
            kms.get_public_key(GetPublicKeyRequest {
                key_id: id.into(),
                ..Default::default()
            })
            .unwrap()
            .public_key
        };
        let derive = |id: &str, peer: Vec<u8>| {
            kms.derive_shared_secret(DeriveSharedSecretRequest {
                key_id: id.into(),
                key_agreement_algorithm: Some(KeyAgreementAlgorithmSpec::Ecdh),
                public_key: peer,
                ..Default::default()
            })
        };
        let ab = derive(&a, public(&b)).unwrap();
        let ba = derive(&b, public(&a)).unwrap();
        assert_eq!(
            ab.shared_secret.expose_secret(),
            ba.shared_secret.expose_secret()
        );
        assert_eq!(ab.key_origin, OriginType::AwsKms);
        assert_eq!(ab.key_agreement_algorithm, KeyAgreementAlgorithmSpec::Ecdh);
        let field = match spec {
            KeySpec::EccNistP256 => 32,
            KeySpec::EccNistP384 => 48,
            _ => 66,
        };
        assert_eq!(ab.shared_secret.len(), field);
        assert_eq!(
            code(derive(&a, b"not a key".to_vec())),
            "ValidationException"
        );
    }
    let p256 = create(&kms, KeySpec::EccNistP256, KeyUsage::KeyAgreement);
    let p384 = create(&kms, KeySpec::EccNistP384, KeyUsage::KeyAgreement);
    let p384_public = kms
        .get_public_key(GetPublicKeyRequest {
            key_id: p384,
            ..Default::default()
        })
        .unwrap()
        .public_key;
    let err = kms
        .derive_shared_secret(DeriveSharedSecretRequest {
            key_id: p256.clone(),
            key_agreement_algorithm: Some(KeyAgreementAlgorithmSpec::Ecdh),
            public_key: p384_public.clone(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert!(err.message().contains("ECC_NIST_P256"), "{err}");
    // A signing key does not agree keys; the algorithm is required.
    let signer = create(&kms, KeySpec::EccNistP256, KeyUsage::SignVerify);
    let err = kms
        .derive_shared_secret(DeriveSharedSecretRequest {
            key_id: signer.clone(),
            key_agreement_algorithm: Some(KeyAgreementAlgorithmSpec::Ecdh),
            public_key: p384_public.clone(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "InvalidKeyUsageException");
    assert_eq!(
        err.message(),
        format!(
            "{} key usage is SIGN_VERIFY which is not valid for DeriveSharedSecret.",
            arn(&signer)
        )
    );
    assert_eq!(
        code(kms.derive_shared_secret(DeriveSharedSecretRequest {
            key_id: p256,
            public_key: p384_public,
            ..Default::default()
        })),
        "ValidationException"
    );
}

#[test]
fn generate_data_key_pair_seals_the_pkcs8_private_key_under_a_symmetric_key() {
    let (kms, _) = kms();
    let sym = new_key(&kms);
    let context = ctx(&[("purpose", "test")]);
    for spec in [
        DataKeyPairSpec::Rsa2048,
        DataKeyPairSpec::EccNistP256,
        DataKeyPairSpec::EccSecgP256k1,
    ] {
        let req = GenerateDataKeyPairRequest {
            key_id: sym.clone(),
            key_pair_spec: Some(spec),
            encryption_context: context.clone(),
            ..Default::default()
        };
        let out = kms.generate_data_key_pair(req.clone()).unwrap();
        assert_eq!(out.key_pair_spec, spec);
        assert_eq!(out.key_id, arn(&sym));
        assert_eq!(out.public_key[0], 0x30);
        // PKCS#8 PrivateKeyInfo: a SEQUENCE, version 0.
        let pk = out.private_key_plaintext.expose_secret();
        assert_eq!(pk[0], 0x30);
        let opened = common::decrypt(&kms, &out.private_key_ciphertext_blob, &context).unwrap();
        assert_eq!(opened, pk);
        assert_eq!(
            code(common::decrypt(
                &kms,
                &out.private_key_ciphertext_blob,
                &ctx(&[])
            )),
            "InvalidCiphertextException"
        );
        let without = kms.generate_data_key_pair_without_plaintext(req).unwrap();
        assert_ne!(without.public_key, out.public_key);
        let opened = common::decrypt(&kms, &without.private_key_ciphertext_blob, &context).unwrap();
        assert_eq!(opened[0], 0x30);
        assert!(!format!("{out:?}").contains(&format!("{:?}", &pk[..16])));
    }
    // The KMS key must be a symmetric encryption key.
    let rsa = create(&kms, KeySpec::Rsa2048, KeyUsage::SignVerify);
    let ec_agree = create(&kms, KeySpec::EccNistP256, KeyUsage::KeyAgreement);
    for key in [rsa, ec_agree] {
        let err = kms
            .generate_data_key_pair(GenerateDataKeyPairRequest {
                key_id: key,
                key_pair_spec: Some(DataKeyPairSpec::EccNistP256),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err.code(), "InvalidKeyUsageException");
    }
    for (spec, want) in [
        (Some(DataKeyPairSpec::Sm2), "UnsupportedOperationException"),
        (
            Some(DataKeyPairSpec::EccNistEdwards25519),
            "UnsupportedOperationException",
        ),
        (None, "ValidationException"),
    ] {
        let r = kms.generate_data_key_pair(GenerateDataKeyPairRequest {
            key_id: sym.clone(),
            key_pair_spec: spec,
            ..Default::default()
        });
        assert_eq!(code(r), want, "{spec:?}");
    }
}

#[test]
fn a_disabled_or_deleted_asymmetric_key_follows_the_key_state_table() {
    let (kms, _) = kms();
    let id = create(&kms, KeySpec::EccNistP256, KeyUsage::SignVerify);
    kms.disable_key(&id).unwrap();
    assert_eq!(
        code(kms.sign(sign_req(&id, S::EcdsaSha256, b"m"))),
        "DisabledException"
    );
    let pk = kms.get_public_key(GetPublicKeyRequest {
        key_id: id.clone(),
        ..Default::default()
    });
    assert_eq!(code(pk), "DisabledException");
    kms.schedule_key_deletion(kms_keystore::ScheduleKeyDeletionRequest {
        key_id: id.clone(),
        pending_window_in_days: Some(7),
    })
    .unwrap();
    assert_eq!(
        code(kms.verify(verify_req(&id, S::EcdsaSha256, b"m", b"sig"))),
        "KMSInvalidStateException"
    );
}

#[test]
fn grants_allow_only_the_operations_of_the_key_usage() {
    let (kms, _) = kms();
    let grantee = format!("arn:aws:iam::{ACCOUNT}:role/app");
    let cases = [
        (
            KeySpec::Rsa2048,
            KeyUsage::SignVerify,
            GrantOperation::Sign,
            GrantOperation::Encrypt,
        ),
        (
            KeySpec::Rsa2048,
            KeyUsage::EncryptDecrypt,
            GrantOperation::Decrypt,
            GrantOperation::GenerateDataKey,
        ),
        (
            KeySpec::EccNistP256,
            KeyUsage::KeyAgreement,
            GrantOperation::DeriveSharedSecret,
            GrantOperation::Sign,
        ),
    ];
    for (spec, usage, ok, refused) in cases {
        let id = create(&kms, spec, usage);
        let grant = |op| {
            kms.create_grant(CreateGrantRequest {
                key_id: id.clone(),
                grantee_principal: grantee.clone(),
                operations: vec![op, GrantOperation::GetPublicKey],
                ..Default::default()
            })
        };
        assert!(grant(ok).is_ok(), "{usage} {ok}");
        assert_eq!(
            code(grant(refused)),
            "ValidationException",
            "{usage} {refused}"
        );
    }
}

#[test]
fn grant_constraints_are_refused_on_asymmetric_keys_even_for_their_encrypt_and_decrypt() {
    let (kms, _) = kms();
    let grantee = format!("arn:aws:iam::{ACCOUNT}:role/app");
    let id = create(&kms, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let grant = |constraints| {
        kms.create_grant(CreateGrantRequest {
            key_id: id.clone(),
            grantee_principal: grantee.clone(),
            operations: vec![GrantOperation::Encrypt, GrantOperation::Decrypt],
            constraints,
            ..Default::default()
        })
    };
    let subset = GrantConstraints {
        encryption_context_subset: Some(ctx(&[("dept", "it")])),
        ..Default::default()
    };
    let err = grant(Some(subset)).unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert!(
        err.to_string()
            .contains("Grant constraints are not supported"),
        "{err}"
    );
    assert!(grant(None).is_ok());
}

#[test]
fn a_policy_can_deny_one_signing_algorithm() {
    let (kms, _) = kms();
    let id = create(&kms, KeySpec::Rsa2048, KeyUsage::SignVerify);
    let root = format!("arn:aws:iam::{ACCOUNT}:root");
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "admin", "Effect": "Allow", "Principal": {"AWS": root},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "nopss", "Effect": "Deny", "Principal": {"AWS": root},
             "Action": ["kms:Sign", "kms:Verify"], "Resource": "*",
             "Condition": {"StringEquals": {"kms:SigningAlgorithm": "RSASSA_PSS_SHA_256"}}},
            {"Sid": "nodigest", "Effect": "Deny", "Principal": {"AWS": root},
             "Action": "kms:Sign", "Resource": "*",
             "Condition": {"StringEquals": {"kms:MessageType": "DIGEST"}}}
        ]
    });
    kms.put_key_policy(PutKeyPolicyRequest::new(&id, policy.to_string()))
        .unwrap();
    assert_eq!(
        code(kms.sign(sign_req(&id, S::RsassaPssSha256, b"m"))),
        "AccessDeniedException"
    );
    assert!(kms.sign(sign_req(&id, S::RsassaPssSha384, b"m")).is_ok());
    let digest_sign = kms.sign(SignRequest {
        message_type: Some(MessageType::Digest),
        ..sign_req(&id, S::RsassaPssSha384, &[0; 48])
    });
    assert_eq!(code(digest_sign), "AccessDeniedException");
}

#[test]
fn a_seeded_kms_makes_the_same_key_pairs_and_deterministic_signatures() {
    let run = |seed| {
        let (kms, _) = kms_with_seed(seed);
        let rsa = create(&kms, KeySpec::Rsa2048, KeyUsage::SignVerify);
        let ec = create(&kms, KeySpec::EccNistP256, KeyUsage::SignVerify);
        let pk = |id: &str| {
            kms.get_public_key(GetPublicKeyRequest {
                key_id: id.into(),
                ..Default::default()
            })
            .unwrap()
            .public_key
        };
        (
            pk(&rsa),
            pk(&ec),
            sign(&kms, &rsa, S::RsassaPkcs1V15Sha256, b"m"),
            sign(&kms, &ec, S::EcdsaSha256, b"m"),
            // The same call twice gives the same PKCS#1 v1.5 and ECDSA
            // (RFC 6979) signature.
            sign(&kms, &rsa, S::RsassaPkcs1V15Sha256, b"m"),
            sign(&kms, &ec, S::EcdsaSha256, b"m"),
        )
    };
    let a = run(11);
    assert_eq!(a, run(11));
    assert_eq!(a.2, a.4);
    assert_eq!(a.3, a.5);
    let b = run(12);
    assert_ne!(a.0, b.0);
    assert_ne!(a.1, b.1);
}

#[test]
fn requests_and_responses_never_print_the_message_or_shared_secret() {
    let (kms, _) = kms();
    let req = sign_req("k", S::EcdsaSha256, b"top-secret-message");
    assert!(!format!("{req:?}").contains("top-secret"));
    let a = create(&kms, KeySpec::EccNistP256, KeyUsage::KeyAgreement);
    let public = kms
        .get_public_key(GetPublicKeyRequest {
            key_id: a.clone(),
            ..Default::default()
        })
        .unwrap()
        .public_key;
    let out = kms
        .derive_shared_secret(DeriveSharedSecretRequest {
            key_id: a,
            key_agreement_algorithm: Some(KeyAgreementAlgorithmSpec::Ecdh),
            public_key: public,
            ..Default::default()
        })
        .unwrap();
    let secret = format!("{:?}", out.shared_secret.expose_secret());
    let shown = format!("{out:?}");
    assert!(!shown.contains(&secret[1..20]), "{shown}");
    assert!(shown.contains("Redacted"), "{shown}");
}

#[test]
fn the_wire_runs_sign_verify_get_public_key_and_derive_shared_secret() {
    let (kms, _) = kms();
    let w = Dispatcher::new(kms);
    let (status, v) = wire(
        &w,
        "CreateKey",
        json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["KeyMetadata"]["SigningAlgorithms"],
        json!(["ECDSA_SHA_256"])
    );
    let key = v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let (status, v) = wire(
        &w,
        "Sign",
        json!({"KeyId": key, "Message": "aGVsbG8=", "SigningAlgorithm": "ECDSA_SHA_256"}),
    );
    assert_eq!(status, 200, "{v}");
    let sig = v["Signature"].as_str().unwrap().to_owned();
    let (status, v) = wire(
        &w,
        "Verify",
        json!({"KeyId": key, "Message": "aGVsbG8=", "SigningAlgorithm": "ECDSA_SHA_256", "Signature": sig}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["SignatureValid"], true);
    let (status, v) = wire(
        &w,
        "Verify",
        json!({"KeyId": key, "Message": "aGVsbG9v", "SigningAlgorithm": "ECDSA_SHA_256", "Signature": sig}),
    );
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "KMSInvalidSignatureException");
    let (status, v) = wire(&w, "GetPublicKey", json!({"KeyId": key}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["KeyUsage"], "SIGN_VERIFY");
    assert!(v["PublicKey"].as_str().unwrap().starts_with("MFkw"), "{v}");
    let (status, v) = wire(
        &w,
        "CreateKey",
        json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"}),
    );
    assert_eq!(status, 200, "{v}");
    let agree = v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let (_, pk) = wire(&w, "GetPublicKey", json!({"KeyId": agree}));
    let (status, v) = wire(
        &w,
        "DeriveSharedSecret",
        json!({"KeyId": agree, "KeyAgreementAlgorithm": "ECDH", "PublicKey": pk["PublicKey"]}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["KeyOrigin"], "AWS_KMS");
    assert_eq!(v["SharedSecret"].as_str().unwrap().len(), 44);
    let (status, v) = wire(&w, "CreateKey", json!({}));
    assert_eq!(status, 200);
    let sym = v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let (status, v) = wire(
        &w,
        "GenerateDataKeyPairWithoutPlaintext",
        json!({"KeyId": sym, "KeyPairSpec": "ECC_NIST_P384"}),
    );
    assert_eq!(status, 200, "{v}");
    assert!(v.get("PrivateKeyPlaintext").is_none());
    let (status, v) = wire(
        &w,
        "GenerateDataKeyPair",
        json!({"KeyId": sym, "KeyPairSpec": "ECC_NIST_P384"}),
    );
    assert_eq!(status, 200, "{v}");
    assert!(v["PrivateKeyPlaintext"].as_str().is_some());
}

#[cfg(feature = "durable")]
#[test]
fn asymmetric_keys_survive_a_restart_with_the_same_key_pairs() {
    use kms_keystore::ManualClock;
    let dir = durable::temp_dir("asymmetric");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (rsa, ec, agree, rsa_public, sig, ct) = {
        let kms = durable::open(&path, &clock);
        let rsa = create(&kms, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
        let ec = create(&kms, KeySpec::EccSecgP256k1, KeyUsage::SignVerify);
        let agree = create(&kms, KeySpec::EccNistP521, KeyUsage::KeyAgreement);
        let rsa_public = kms
            .get_public_key(GetPublicKeyRequest {
                key_id: rsa.clone(),
                ..Default::default()
            })
            .unwrap()
            .public_key;
        let sig = sign(&kms, &ec, S::EcdsaSha256, b"m");
        let ct = kms
            .encrypt(encrypt_req(
                &rsa,
                Some(EncryptionAlgorithmSpec::RsaesOaepSha256),
                b"kept",
            ))
            .unwrap()
            .ciphertext_blob;
        (rsa, ec, agree, rsa_public, sig, ct)
    };
    let kms = durable::open(&path, &clock);
    let public = |id: &str| {
        kms.get_public_key(GetPublicKeyRequest {
            key_id: id.into(),
            ..Default::default()
        })
        .unwrap()
    };
    assert_eq!(public(&rsa).public_key, rsa_public);
    assert!(
        kms.verify(verify_req(&ec, S::EcdsaSha256, b"m", &sig))
            .is_ok()
    );
    assert_eq!(sign(&kms, &ec, S::EcdsaSha256, b"m"), sig);
    let back = kms
        .decrypt(decrypt_req(
            Some(&rsa),
            Some(EncryptionAlgorithmSpec::RsaesOaepSha256),
            &ct,
        ))
        .unwrap();
    assert_eq!(back.plaintext.expose_secret(), b"kept");
    let md = kms.describe_key(&agree).unwrap().key_metadata;
    // The private keys are sealed at rest: the file holds no PKCS#8 in the
    // clear, raw or base64. A PKCS#8 key shows its algorithm's OID, and the
    // base64 of every EC PKCS#8 this crate writes has the OID's characters
    // at the same place (12..24); both needles come from a PKCS#8 this KMS
    // hands out, so the search works.
    let sym = new_key(&kms);
    let probe = kms
        .generate_data_key_pair(GenerateDataKeyPairRequest {
            key_id: sym,
            key_pair_spec: Some(DataKeyPairSpec::EccNistP256),
            ..Default::default()
        })
        .unwrap();
    let probe = probe.private_key_plaintext.expose_secret();
    const EC_OID: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    const RSA_OID: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
    ];
    let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    let b64 = kms_keystore::internal::base64_encode(probe);
    let ec_b64 = &b64.as_bytes()[12..24];
    assert!(has(probe, EC_OID));
    drop(kms);
    let bytes = std::fs::read(&path).unwrap();
    assert!(!has(&bytes, EC_OID), "an EC private key is in the clear");
    assert!(!has(&bytes, RSA_OID), "an RSA private key is in the clear");
    assert!(!has(&bytes, ec_b64), "base64 PKCS#8 is in the file");
    assert_eq!(
        (md.key_spec, md.key_usage),
        (KeySpec::EccNistP521, KeyUsage::KeyAgreement)
    );
}
