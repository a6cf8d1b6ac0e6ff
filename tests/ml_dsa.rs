//! ML-DSA KMS keys (FIPS 204; feature `asymmetric`): CreateKey with
//! ML_DSA_44/65/87 and their one usage, DescribeKey and GetPublicKey (the
//! SubjectPublicKeyInfo with the ML-DSA OIDs), Sign and Verify with
//! ML_DSA_SHAKE_256 over RAW messages and EXTERNAL_MU (μ computed here from
//! FIPS 204's definition), AWS's refusals (DIGEST, EXTERNAL_MU elsewhere,
//! lengths, other algorithms), hedged signatures and the seeded mode, no
//! ML-DSA data key pairs, the key-state table, grants, policy condition
//! keys, the wire, and durable storage with the seed sealed at rest.
#![cfg(feature = "asymmetric")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[cfg(feature = "durable")]
mod durable;

use common::{ACCOUNT, code, kms, kms_with_seed, new_key, wire};
use kms_keystore::server::Dispatcher;
use kms_keystore::{
    CreateGrantRequest, CreateKeyRequest, CustomerMasterKeySpec, EncryptRequest,
    GetPublicKeyRequest, GrantOperation, KeySpec, KeyUsage, Kms, MessageType, OriginType,
    PutKeyPolicyRequest, ScheduleKeyDeletionRequest, SignRequest, SigningAlgorithmSpec,
    VerifyRequest,
};
use serde_json::json;
use shake::{ExtendableOutput, Update};

const ML_DSA: SigningAlgorithmSpec = SigningAlgorithmSpec::MlDsaShake256;

/// Each ML-DSA spec with its raw public key and signature lengths (FIPS
/// 204 Table 2) and the last arc of its OID (2.16.840.1.101.3.4.3.17/18/19).
const SPECS: [(KeySpec, usize, usize, u8); 3] = [
    (KeySpec::MlDsa44, 1312, 2420, 17),
    (KeySpec::MlDsa65, 1952, 3309, 18),
    (KeySpec::MlDsa87, 2592, 4627, 19),
];

fn create(kms: &Kms, spec: KeySpec) -> String {
    common::create_key_of(kms, spec, KeyUsage::SignVerify).unwrap()
}

fn sign_req(key: &str, message_type: MessageType, message: &[u8]) -> SignRequest {
    SignRequest {
        key_id: key.into(),
        message: message.into(),
        message_type: Some(message_type),
        signing_algorithm: Some(ML_DSA),
        ..Default::default()
    }
}

fn sign(kms: &Kms, key: &str, message_type: MessageType, message: &[u8]) -> Vec<u8> {
    kms.sign(sign_req(key, message_type, message))
        .unwrap()
        .signature
}

fn verify_req(key: &str, message_type: MessageType, message: &[u8], sig: &[u8]) -> VerifyRequest {
    VerifyRequest {
        key_id: key.into(),
        message: message.into(),
        message_type: Some(message_type),
        signature: sig.to_vec(),
        signing_algorithm: Some(ML_DSA),
        ..Default::default()
    }
}

fn public_key(kms: &Kms, key: &str) -> Vec<u8> {
    kms.get_public_key(GetPublicKeyRequest {
        key_id: key.into(),
        ..Default::default()
    })
    .unwrap()
    .public_key
}

fn shake256_64(parts: &[&[u8]]) -> [u8; 64] {
    let mut h = shake::Shake256::default();
    for p in parts {
        h.update(p);
    }
    let mut out = [0; 64];
    h.finalize_xof_into(&mut out);
    out
}

/// μ of `message` for the public key in `spki` (FIPS 204 Algorithm 2 with
/// an empty context, Algorithm 7 line 6): tr = SHAKE256(pk, 64), then
/// SHAKE256(tr ‖ 0x00 ‖ 0x00 ‖ message, 64). The raw key is the SPKI's
/// last `pk_len` bytes.
fn mu(spki: &[u8], pk_len: usize, message: &[u8]) -> [u8; 64] {
    let tr = shake256_64(&[&spki[spki.len() - pk_len..]]);
    shake256_64(&[&tr, &[0, 0], message])
}

#[test]
fn create_key_makes_ml_dsa_keys_for_sign_verify_only() {
    let (kms, _) = kms();
    for (spec, ..) in SPECS {
        let id = create(&kms, spec);
        let md = kms.describe_key(&id).unwrap().key_metadata;
        assert_eq!((md.key_spec, md.key_usage), (spec, KeyUsage::SignVerify));
        assert_eq!(md.signing_algorithms, [ML_DSA]);
        assert!(md.encryption_algorithms.is_empty());
        assert!(md.key_agreement_algorithms.is_empty());
        // AWS shows the deprecated twin with the ML-DSA value.
        assert_eq!(md.customer_master_key_spec.as_str(), spec.as_str());
        for usage in [
            KeyUsage::EncryptDecrypt,
            KeyUsage::KeyAgreement,
            KeyUsage::GenerateVerifyMac,
        ] {
            let err = common::create_key_of(&kms, spec, usage).unwrap_err();
            assert_eq!(err.code(), "ValidationException", "{spec} {usage}");
            assert_eq!(
                err.message(),
                format!("KeyUsage {usage} is not compatible with KeySpec {spec}.")
            );
        }
        let no_usage = kms.create_key(CreateKeyRequest {
            key_spec: Some(spec),
            ..Default::default()
        });
        assert_eq!(code(no_usage), "ValidationException");
        let in_store = kms.create_key(CreateKeyRequest {
            key_spec: Some(spec),
            key_usage: Some(KeyUsage::SignVerify),
            origin: Some(OriginType::AwsCloudHsm),
            custom_key_store_id: Some("cks-1234567890abcdef0".into()),
            ..Default::default()
        });
        assert_eq!(code(in_store), "UnsupportedOperationException");
    }
    // The deprecated request member's enum has no ML-DSA values.
    let err = kms
        .create_key(CreateKeyRequest {
            customer_master_key_spec: Some(CustomerMasterKeySpec::MlDsa44),
            key_usage: Some(KeyUsage::SignVerify),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert!(err.message().contains("'ML_DSA_44'"), "{err}");
    assert!(err.message().contains("customerMasterKeySpec"), "{err}");
    assert!(!err.message().contains("ML_DSA_65"), "{err}");
}

#[test]
fn get_public_key_is_the_spki_with_the_ml_dsa_oid() {
    let (kms, _) = kms();
    for (spec, pk_len, _, oid_last) in SPECS {
        let id = create(&kms, spec);
        let r = kms
            .get_public_key(GetPublicKeyRequest {
                key_id: id.clone(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!((r.key_spec, r.key_usage), (spec, KeyUsage::SignVerify));
        assert_eq!(r.customer_master_key_spec.as_str(), spec.as_str());
        assert_eq!(r.signing_algorithms, [ML_DSA]);
        assert!(r.encryption_algorithms.is_empty());
        // SEQUENCE { SEQUENCE { OID id-ml-dsa-* } BIT STRING { 0 unused, pk } },
        // no algorithm parameters (RFC 9881).
        let spki = r.public_key;
        assert_eq!(spki.len(), pk_len + 22, "{spec}");
        let len_of = |n: usize| [0x82, (n >> 8) as u8, n as u8];
        let mut head = vec![0x30];
        head.extend(len_of(pk_len + 18));
        head.extend([
            0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03,
        ]);
        head.push(oid_last);
        head.push(0x03);
        head.extend(len_of(pk_len + 1));
        head.push(0x00);
        assert_eq!(spki[..head.len()], head[..], "{spec}");
    }
}

#[test]
fn sign_and_verify_raw_messages_of_up_to_4096_bytes() {
    let (kms, _) = kms();
    for (spec, pk_len, sig_len, _) in SPECS {
        let id = create(&kms, spec);
        let spki = public_key(&kms, &id);
        for message in [&b"m"[..], &[7; 4096][..]] {
            let r = kms.sign(sign_req(&id, MessageType::Raw, message)).unwrap();
            assert_eq!(r.signing_algorithm, ML_DSA);
            assert!(r.key_id.ends_with(&id));
            assert_eq!(r.signature.len(), sig_len, "{spec}");
            let ok = kms
                .verify(verify_req(&id, MessageType::Raw, message, &r.signature))
                .unwrap();
            assert!(ok.signature_valid);
            assert_eq!(ok.signing_algorithm, ML_DSA);
            // The message type need not be the one signed with.
            let m = mu(&spki, pk_len, message);
            assert!(
                kms.verify(verify_req(&id, MessageType::ExternalMu, &m, &r.signature))
                    .is_ok()
            );
            let mut bad = r.signature.clone();
            bad[100] ^= 1;
            assert_eq!(
                code(kms.verify(verify_req(&id, MessageType::Raw, message, &bad))),
                "KMSInvalidSignatureException"
            );
            assert_eq!(
                code(kms.verify(verify_req(&id, MessageType::Raw, b"other", &r.signature))),
                "KMSInvalidSignatureException"
            );
        }
        // Omitting MessageType is RAW.
        let sig = kms
            .sign(SignRequest {
                message_type: None,
                ..sign_req(&id, MessageType::Raw, b"m")
            })
            .unwrap()
            .signature;
        assert!(
            kms.verify(verify_req(&id, MessageType::Raw, b"m", &sig))
                .is_ok()
        );
        assert_eq!(
            code(kms.sign(sign_req(&id, MessageType::Raw, &[7; 4097]))),
            "ValidationException"
        );
    }
}

#[test]
fn external_mu_signs_the_fips_204_mu_and_matches_raw_signatures() {
    let message = b"a message longer ones would hash outside KMS";
    for (spec, pk_len, sig_len, _) in SPECS {
        // Two Kms with one seed make the same key and draw the same
        // randomness: RAW and EXTERNAL_MU of one message sign one μ.
        let (a, _) = kms_with_seed(31);
        let (b, _) = kms_with_seed(31);
        let (ida, idb) = (create(&a, spec), create(&b, spec));
        let spki = public_key(&a, &ida);
        assert_eq!(spki, public_key(&b, &idb));
        let m = mu(&spki, pk_len, message);
        let raw = sign(&a, &ida, MessageType::Raw, message);
        let ext = sign(&b, &idb, MessageType::ExternalMu, &m);
        assert_eq!(ext.len(), sig_len);
        assert_eq!(raw, ext, "{spec}: RAW signs the μ this test computes");
        assert!(
            a.verify(verify_req(&ida, MessageType::Raw, message, &ext))
                .is_ok()
        );
        let other = mu(&spki, pk_len, b"another message");
        assert_eq!(
            code(a.verify(verify_req(&ida, MessageType::ExternalMu, &other, &ext))),
            "KMSInvalidSignatureException"
        );
    }
}

#[test]
fn ml_dsa_refuses_digest_and_external_mu_is_64_bytes_for_ml_dsa_only() {
    let (kms, _) = kms();
    let ml = create(&kms, KeySpec::MlDsa65);
    let sig = sign(&kms, &ml, MessageType::Raw, b"m");
    let refusals: [(kms_keystore::Result<()>, &str, &str); 5] = [
        (
            kms.sign(sign_req(&ml, MessageType::Digest, &[0; 64]))
                .map(|_| ()),
            "ValidationException",
            "Message type DIGEST is incompatible with key spec ML_DSA_65.",
        ),
        (
            kms.verify(verify_req(&ml, MessageType::Digest, &[0; 32], &sig))
                .map(|_| ()),
            "ValidationException",
            "Message type DIGEST is incompatible with key spec ML_DSA_65.",
        ),
        (
            kms.sign(sign_req(&ml, MessageType::ExternalMu, &[0; 63]))
                .map(|_| ()),
            "ValidationException",
            "Digest is invalid length for algorithm ML_DSA_SHAKE_256.",
        ),
        (
            kms.verify(verify_req(&ml, MessageType::ExternalMu, &[0; 65], &sig))
                .map(|_| ()),
            "ValidationException",
            "Digest is invalid length for algorithm ML_DSA_SHAKE_256.",
        ),
        (
            kms.sign(SignRequest {
                signing_algorithm: Some(SigningAlgorithmSpec::EcdsaSha256),
                ..sign_req(&ml, MessageType::Raw, b"m")
            })
            .map(|_| ()),
            "InvalidKeyUsageException",
            "Algorithm ECDSA_SHA_256 is incompatible with key spec ML_DSA_65.",
        ),
    ];
    for (r, want_code, want_message) in refusals {
        let err = r.unwrap_err();
        assert_eq!((err.code(), err.message()), (want_code, want_message));
    }
    let ec = common::create_key_of(&kms, KeySpec::EccNistP256, KeyUsage::SignVerify).unwrap();
    let err = kms
        .sign(SignRequest {
            signing_algorithm: Some(SigningAlgorithmSpec::EcdsaSha256),
            ..sign_req(&ec, MessageType::ExternalMu, &[0; 64])
        })
        .unwrap_err();
    assert_eq!(
        (err.code(), err.message()),
        (
            "ValidationException",
            "Message type EXTERNAL_MU is incompatible with key spec ECC_NIST_P256."
        )
    );
    let err = kms.sign(sign_req(&ec, MessageType::Raw, b"m")).unwrap_err();
    assert_eq!(
        (err.code(), err.message()),
        (
            "InvalidKeyUsageException",
            "Algorithm ML_DSA_SHAKE_256 is incompatible with key spec ECC_NIST_P256."
        )
    );
}

#[test]
fn signatures_are_hedged_and_a_seeded_kms_repeats_them() {
    let run = |seed| {
        let (kms, _) = kms_with_seed(seed);
        let id = create(&kms, KeySpec::MlDsa44);
        let first = sign(&kms, &id, MessageType::Raw, b"m");
        let second = sign(&kms, &id, MessageType::Raw, b"m");
        (public_key(&kms, &id), first, second)
    };
    let a = run(41);
    assert_ne!(a.1, a.2, "each Sign draws fresh randomness (hedged)");
    assert_eq!(a, run(41), "a seeded Kms repeats its keys and signatures");
    assert_ne!(a.0, run(42).0);
}

#[test]
fn generate_data_key_pair_has_no_ml_dsa_key_pair_spec() {
    let (kms, _) = kms();
    let sym = new_key(&kms);
    let w = Dispatcher::new(kms);
    for op in ["GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"] {
        let (status, v) = wire(&w, op, json!({"KeyId": sym, "KeyPairSpec": "ML_DSA_65"}));
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["__type"], "ValidationException", "{v}");
        assert!(
            v["message"].as_str().unwrap().contains("keyPairSpec"),
            "{v}"
        );
    }
}

#[test]
fn key_state_grants_and_policy_conditions_cover_ml_dsa_keys() {
    let (kms, _) = kms();
    let id = create(&kms, KeySpec::MlDsa87);
    let sig = sign(&kms, &id, MessageType::Raw, b"m");
    let encrypt = kms.encrypt(EncryptRequest {
        key_id: id.clone(),
        plaintext: b"p".into(),
        ..Default::default()
    });
    assert_eq!(code(encrypt), "InvalidKeyUsageException");
    let grantee = format!("arn:aws:iam::{ACCOUNT}:role/app");
    let grant = |ops: Vec<GrantOperation>| {
        kms.create_grant(CreateGrantRequest {
            key_id: id.clone(),
            grantee_principal: grantee.clone(),
            operations: ops,
            ..Default::default()
        })
    };
    assert!(
        grant(vec![
            GrantOperation::Sign,
            GrantOperation::Verify,
            GrantOperation::GetPublicKey
        ])
        .is_ok()
    );
    assert_eq!(
        code(grant(vec![GrantOperation::Encrypt])),
        "ValidationException"
    );
    let root = format!("arn:aws:iam::{ACCOUNT}:root");
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "admin", "Effect": "Allow", "Principal": {"AWS": root},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "nomu", "Effect": "Deny", "Principal": {"AWS": root},
             "Action": "kms:Sign", "Resource": "*",
             "Condition": {"StringEquals": {"kms:MessageType": "EXTERNAL_MU"}}},
            {"Sid": "noverify", "Effect": "Deny", "Principal": {"AWS": root},
             "Action": "kms:Verify", "Resource": "*",
             "Condition": {"StringEquals": {"kms:SigningAlgorithm": "ML_DSA_SHAKE_256"}}}
        ]
    });
    kms.put_key_policy(PutKeyPolicyRequest::new(&id, policy.to_string()))
        .unwrap();
    assert!(kms.sign(sign_req(&id, MessageType::Raw, b"m")).is_ok());
    assert_eq!(
        code(kms.sign(sign_req(&id, MessageType::ExternalMu, &[0; 64]))),
        "AccessDeniedException"
    );
    assert_eq!(
        code(kms.verify(verify_req(&id, MessageType::Raw, b"m", &sig))),
        "AccessDeniedException"
    );
    kms.put_key_policy(PutKeyPolicyRequest::new(
        &id,
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "admin", "Effect": "Allow", "Principal": {"AWS": root},
             "Action": "kms:*", "Resource": "*"}]})
        .to_string(),
    ))
    .unwrap();
    kms.disable_key(&id).unwrap();
    assert_eq!(
        code(kms.sign(sign_req(&id, MessageType::Raw, b"m"))),
        "DisabledException"
    );
    assert_eq!(
        code(kms.get_public_key(GetPublicKeyRequest {
            key_id: id.clone(),
            ..Default::default()
        })),
        "DisabledException"
    );
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: id.clone(),
        pending_window_in_days: Some(7),
    })
    .unwrap();
    assert_eq!(
        code(kms.verify(verify_req(&id, MessageType::Raw, b"m", &sig))),
        "KMSInvalidStateException"
    );
}

#[test]
fn the_wire_runs_ml_dsa_create_key_sign_verify_and_get_public_key() {
    let (kms, _) = kms();
    let w = Dispatcher::new(kms);
    let (status, v) = wire(
        &w,
        "CreateKey",
        json!({"KeySpec": "ML_DSA_44", "KeyUsage": "SIGN_VERIFY"}),
    );
    assert_eq!(status, 200, "{v}");
    let md = &v["KeyMetadata"];
    assert_eq!(md["SigningAlgorithms"], json!(["ML_DSA_SHAKE_256"]));
    assert_eq!(md["KeySpec"], "ML_DSA_44");
    assert_eq!(md["CustomerMasterKeySpec"], "ML_DSA_44");
    assert!(md.get("EncryptionAlgorithms").is_none(), "{v}");
    let key = md["KeyId"].as_str().unwrap().to_owned();
    let (status, pk) = wire(&w, "GetPublicKey", json!({"KeyId": key}));
    assert_eq!(status, 200, "{pk}");
    assert_eq!(pk["KeySpec"], "ML_DSA_44");
    assert_eq!(pk["SigningAlgorithms"], json!(["ML_DSA_SHAKE_256"]));
    let spki = kms_keystore::internal::base64_decode(pk["PublicKey"].as_str().unwrap()).unwrap();
    let m = kms_keystore::internal::base64_encode(&mu(&spki, 1312, b"hello"));
    let (status, v) = wire(
        &w,
        "Sign",
        json!({"KeyId": key, "Message": m, "MessageType": "EXTERNAL_MU",
               "SigningAlgorithm": "ML_DSA_SHAKE_256"}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["SigningAlgorithm"], "ML_DSA_SHAKE_256");
    let sig = v["Signature"].as_str().unwrap().to_owned();
    let (status, v) = wire(
        &w,
        "Verify",
        json!({"KeyId": key, "Message": "aGVsbG8=", "SigningAlgorithm": "ML_DSA_SHAKE_256",
               "Signature": sig}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["SignatureValid"], true);
    let (status, v) = wire(
        &w,
        "Sign",
        json!({"KeyId": key, "Message": "aGVsbG8=", "MessageType": "DIGEST",
               "SigningAlgorithm": "ML_DSA_SHAKE_256"}),
    );
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "ValidationException");
    assert_eq!(
        v["message"],
        "Message type DIGEST is incompatible with key spec ML_DSA_44."
    );
    let (status, v) = wire(
        &w,
        "CreateKey",
        json!({"CustomerMasterKeySpec": "ML_DSA_87", "KeyUsage": "SIGN_VERIFY"}),
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["__type"], "ValidationException");
}

#[cfg(feature = "durable")]
#[test]
fn ml_dsa_keys_survive_a_restart_with_their_seed_sealed_at_rest() {
    use kms_keystore::ManualClock;
    use ml_dsa::pkcs8::EncodePrivateKey as _;
    let dir = durable::temp_dir("ml-dsa");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (ids, publics) = {
        let kms = durable::open(&path, &clock);
        let ids: Vec<String> = SPECS.iter().map(|s| create(&kms, s.0)).collect();
        let publics: Vec<Vec<u8>> = ids.iter().map(|id| public_key(&kms, id)).collect();
        (ids, publics)
    };
    let kms = durable::open(&path, &clock);
    for ((id, spki), (spec, pk_len, ..)) in ids.iter().zip(&publics).zip(SPECS) {
        assert_eq!(&public_key(&kms, id), spki, "{spec}");
        let m = mu(spki, pk_len, b"after");
        let sig = sign(&kms, id, MessageType::Raw, b"after");
        assert!(
            kms.verify(verify_req(id, MessageType::ExternalMu, &m, &sig))
                .is_ok()
        );
    }
    drop(kms);
    // A stored ML-DSA private key is a PKCS#8 of the seed form: its
    // algorithm identifier followed by OCTET STRING { [0] 32 bytes }. That
    // run of bytes (the SPKI has the OID but not the rest) must not be in
    // the file; the needle is checked against a PKCS#8 `ml-dsa` writes.
    let needle = |last: u8| {
        [
            0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, last, 0x04, 0x22, 0x80,
            0x20,
        ]
    };
    let has = |hay: &[u8], n: &[u8]| hay.windows(n.len()).any(|w| w == n);
    let probe = ml_dsa::SigningKey::<ml_dsa::MlDsa65>::from_seed(&[9; 32].into())
        .to_pkcs8_der()
        .unwrap();
    assert!(has(probe.as_bytes(), &needle(18)));
    let bytes = std::fs::read(&path).unwrap();
    for (spec, _, _, last) in SPECS {
        assert!(
            !has(&bytes, &needle(last)),
            "an {spec} seed is in the clear"
        );
    }
}
