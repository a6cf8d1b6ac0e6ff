//! Imported key material (Origin EXTERNAL, feature `asymmetric`): CreateKey
//! in PendingImport, GetParametersForImport, ImportKeyMaterial wrapped the
//! way a user wraps it (RustCrypto's `rsa` and `aes-kw` here, and the
//! `openssl` command line as AWS's guide shows), every error path,
//! expiry through the clock, DeleteImportedKeyMaterial, and the key state
//! table around PendingImport.
#![cfg(feature = "asymmetric")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod import_support;

use std::time::Duration;

use common::{code, ctx, decrypt, encrypt, kms};
use import_support::{
    external_key, external_multi_region_key, import, import_new, import_req, materials as listed,
    params, request, rotations, try_params, wrap,
};
use kms_keystore::{
    AlgorithmSpec, CreateKeyRequest, DecryptRequest, DeleteImportedKeyMaterialRequest,
    EnableKeyRotationRequest, ExpirationModelType, GetParametersForImportRequest,
    IMPORT_PARAMETERS_VALIDITY, ImportKeyMaterialRequest, ImportType, KeySpec, KeyState, KeyUsage,
    Kms, ManualClock, OriginType, ScheduleKeyDeletionRequest, Timestamp, WrappingKeySpec,
};
use kms_keystore::{Clock, EncryptRequest};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::traits::PublicKeyParts as _;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

fn state(kms: &Kms, key: &str) -> KeyState {
    kms.describe_key(key).unwrap().key_metadata.key_state
}

fn try_encrypt(kms: &Kms, key: &str) -> kms_keystore::Result<Vec<u8>> {
    kms.encrypt(EncryptRequest {
        key_id: key.into(),
        plaintext: b"hello".to_vec().into(),
        ..Default::default()
    })
    .map(|r| r.ciphertext_blob)
}

fn try_decrypt(kms: &Kms, blob: &[u8]) -> kms_keystore::Result<Vec<u8>> {
    kms.decrypt(DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        ..Default::default()
    })
    .map(|r| r.plaintext.expose_secret().to_vec())
}

#[test]
fn an_external_key_starts_pending_import_without_material() {
    let (kms, _) = kms();
    let md = kms
        .create_key(CreateKeyRequest {
            origin: Some(OriginType::External),
            ..Default::default()
        })
        .unwrap()
        .key_metadata;
    assert_eq!(md.origin, OriginType::External);
    assert_eq!(md.key_state, KeyState::PendingImport);
    assert!(!md.enabled);
    assert_eq!(md.key_spec, KeySpec::SymmetricDefault);
    assert_eq!(md.current_key_material_id, None);
    assert_eq!(md.expiration_model, None);
    assert_eq!(md.valid_to, None);
    let json = serde_json::to_value(&md).unwrap();
    assert_eq!(json["Origin"], "EXTERNAL");
    assert_eq!(json["KeyState"], "PendingImport");
    assert!(json.get("ExpirationModel").is_none());
}

#[test]
fn a_key_pending_import_refuses_use_and_enable_disable_but_may_be_scheduled_for_deletion() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let err = try_encrypt(&kms, &key).unwrap_err();
    assert_eq!(err.code(), "KMSInvalidStateException");
    let arn = kms.describe_key(&key).unwrap().key_metadata.arn;
    assert_eq!(err.message(), format!("{arn} is pending import."));
    assert_eq!(code(kms.enable_key(&key)), "KMSInvalidStateException");
    assert_eq!(code(kms.disable_key(&key)), "KMSInvalidStateException");
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: key.clone(),
        pending_window_in_days: Some(7),
    })
    .unwrap();
    assert_eq!(state(&kms, &key), KeyState::PendingDeletion);
    // Cancelled: back to waiting for its material, not Disabled.
    kms.cancel_key_deletion(&key).unwrap();
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
}

#[test]
fn get_parameters_returns_an_rsa_spki_public_key_a_token_and_24_hours() {
    let (kms, clock) = kms();
    let key = external_key(&kms);
    for (spec, bytes) in [
        (WrappingKeySpec::Rsa2048, 256),
        (WrappingKeySpec::Rsa3072, 384),
    ] {
        let p = kms
            .get_parameters_for_import(GetParametersForImportRequest {
                key_id: key.clone(),
                wrapping_algorithm: Some(AlgorithmSpec::RsaesOaepSha256),
                wrapping_key_spec: Some(spec),
            })
            .unwrap();
        let public = rsa::PublicKey::from_public_key_der(&p.public_key).unwrap();
        assert_eq!(public.size(), bytes, "{spec}");
        assert_eq!(
            p.parameters_valid_to,
            clock.now().saturating_add(IMPORT_PARAMETERS_VALIDITY)
        );
        assert_eq!(IMPORT_PARAMETERS_VALIDITY, DAY);
        assert!(p.key_id.starts_with("arn:aws:kms:"));
        assert!(!p.import_token.is_empty());
    }
}

#[test]
fn every_wrapping_algorithm_imports_material_that_then_encrypts_and_decrypts() {
    for alg in [
        AlgorithmSpec::RsaesOaepSha1,
        AlgorithmSpec::RsaesOaepSha256,
        AlgorithmSpec::RsaAesKeyWrapSha1,
        AlgorithmSpec::RsaAesKeyWrapSha256,
    ] {
        let (kms, _) = kms();
        let key = external_key(&kms);
        let p = params(&kms, &key, alg);
        let r = kms
            .import_key_material(import_req(&key, &p, wrap(&p.public_key, alg, &[0x11; 32])))
            .unwrap();
        assert_eq!(r.key_material_id.len(), 64, "{alg}");
        let md = kms.describe_key(&key).unwrap().key_metadata;
        assert_eq!(md.key_state, KeyState::Enabled, "{alg}");
        assert_eq!(
            md.current_key_material_id.as_deref(),
            Some(&*r.key_material_id)
        );
        assert_eq!(
            md.expiration_model,
            Some(ExpirationModelType::KeyMaterialDoesNotExpire)
        );
        let c = ctx(&[("a", "b")]);
        let blob = encrypt(&kms, &key, b"secret", &c);
        assert_eq!(decrypt(&kms, &blob, &c).unwrap(), b"secret", "{alg}");
    }
}

#[test]
fn the_same_material_imported_into_two_keys_makes_ciphertexts_that_only_its_own_key_opens() {
    // The material is the caller's: two keys with the same material are
    // still two keys (the blob names its key).
    let (kms, _) = kms();
    let a = external_key(&kms);
    let b = external_key(&kms);
    let id_a = import(&kms, &a, &[0x22; 32]).unwrap();
    let id_b = import(&kms, &b, &[0x22; 32]).unwrap();
    assert_ne!(
        id_a, id_b,
        "the id is derived from the key id and the material"
    );
    let blob = try_encrypt(&kms, &a).unwrap();
    assert_eq!(try_decrypt(&kms, &blob).unwrap(), b"hello");
}

#[test]
fn a_token_for_one_key_is_invalid_for_another() {
    let (kms, _) = kms();
    let a = external_key(&kms);
    let b = external_key(&kms);
    let pa = params(&kms, &a, AlgorithmSpec::RsaesOaepSha256);
    let _pb = params(&kms, &b, AlgorithmSpec::RsaesOaepSha256);
    let wrapped = wrap(&pa.public_key, AlgorithmSpec::RsaesOaepSha256, &[1; 32]);
    let err = kms
        .import_key_material(import_req(&b, &pa, wrapped))
        .unwrap_err();
    assert_eq!(err.code(), "InvalidImportTokenException");
    assert_eq!(state(&kms, &b), KeyState::PendingImport, "nothing changed");
}

#[test]
fn a_later_get_parameters_call_makes_the_earlier_token_invalid() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let old = params(&kms, &key, AlgorithmSpec::RsaesOaepSha256);
    let new = params(&kms, &key, AlgorithmSpec::RsaesOaepSha256);
    let wrapped = wrap(&old.public_key, AlgorithmSpec::RsaesOaepSha256, &[1; 32]);
    assert_eq!(
        code(kms.import_key_material(import_req(&key, &old, wrapped))),
        "InvalidImportTokenException"
    );
    let wrapped = wrap(&new.public_key, AlgorithmSpec::RsaesOaepSha256, &[1; 32]);
    kms.import_key_material(import_req(&key, &new, wrapped))
        .unwrap();
}

#[test]
fn a_token_that_is_not_one_is_invalid() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let p = params(&kms, &key, AlgorithmSpec::RsaesOaepSha256);
    let wrapped = wrap(&p.public_key, AlgorithmSpec::RsaesOaepSha256, &[1; 32]);
    let mut req = import_req(&key, &p, wrapped);
    *req.import_token.last_mut().unwrap() ^= 1;
    assert_eq!(
        code(kms.import_key_material(req.clone())),
        "InvalidImportTokenException"
    );
    req.import_token = vec![0; 3];
    assert_eq!(
        code(kms.import_key_material(req)),
        "InvalidImportTokenException"
    );
}

#[test]
fn a_token_is_expired_24_hours_after_it_was_issued() {
    let (kms, clock) = kms();
    let key = external_key(&kms);
    let p = params(&kms, &key, AlgorithmSpec::RsaesOaepSha256);
    let wrapped = wrap(&p.public_key, AlgorithmSpec::RsaesOaepSha256, &[1; 32]);
    clock.advance(DAY);
    let err = kms
        .import_key_material(import_req(&key, &p, wrapped.clone()))
        .unwrap_err();
    assert_eq!(err.code(), "ExpiredImportTokenException");
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    // A moment before, it works.
    let (kms, clock) = kms_keystore_pair();
    let key = external_key(&kms);
    let p = params(&kms, &key, AlgorithmSpec::RsaesOaepSha256);
    clock.advance(DAY - Duration::from_millis(1));
    let wrapped = wrap(&p.public_key, AlgorithmSpec::RsaesOaepSha256, &[1; 32]);
    kms.import_key_material(import_req(&key, &p, wrapped))
        .unwrap();
}

fn kms_keystore_pair() -> (Kms, ManualClock) {
    common::kms_with_seed(77)
}

#[test]
fn material_that_does_not_unwrap_is_an_invalid_ciphertext() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let p = params(&kms, &key, AlgorithmSpec::RsaesOaepSha256);
    // Wrapped with SHA-1 for a SHA-256 token; garbage; truncated.
    let sha1 = wrap(&p.public_key, AlgorithmSpec::RsaesOaepSha1, &[1; 32]);
    for bad in [sha1, vec![7u8; 256], vec![7u8; 10]] {
        let err = kms
            .import_key_material(import_req(&key, &p, bad))
            .unwrap_err();
        assert_eq!(err.code(), "InvalidCiphertextException");
    }
    // RSA_AES_KEY_WRAP with a tampered AES-KW part.
    let p = params(&kms, &key, AlgorithmSpec::RsaAesKeyWrapSha256);
    let mut w = wrap(&p.public_key, AlgorithmSpec::RsaAesKeyWrapSha256, &[1; 32]);
    *w.last_mut().unwrap() ^= 0x80;
    assert_eq!(
        code(kms.import_key_material(import_req(&key, &p, w))),
        "InvalidCiphertextException"
    );
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
}

#[test]
fn material_of_the_wrong_size_is_incorrect_key_material() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    for len in [16, 31, 33, 64] {
        let err = import(&kms, &key, &vec![3u8; len]).unwrap_err();
        assert_eq!(err.code(), "IncorrectKeyMaterialException", "{len}");
    }
}

#[test]
fn re_importing_the_same_material_works_and_different_material_is_refused() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let id = import(&kms, &key, &[5; 32]).unwrap();
    assert_eq!(import(&kms, &key, &[5; 32]).unwrap(), id);
    let err = import(&kms, &key, &[6; 32]).unwrap_err();
    assert_eq!(err.code(), "IncorrectKeyMaterialException");
    assert_eq!(
        kms.describe_key(&key)
            .unwrap()
            .key_metadata
            .current_key_material_id,
        Some(id)
    );
}

#[test]
fn existing_key_material_before_the_first_import_is_incorrect_and_new_material_the_key_has_too() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let mut req = request(&kms, &key, &[5; 32]);
    req.import_type = Some(ImportType::ExistingKeyMaterial);
    assert_eq!(
        code(kms.import_key_material(req.clone())),
        "IncorrectKeyMaterialException"
    );
    req.import_type = None;
    kms.import_key_material(req).unwrap();
    // The key's own material is not new.
    let err = import_new(&kms, &key, &[5; 32]).unwrap_err();
    assert_eq!(err.code(), "IncorrectKeyMaterialException");
    assert!(err.message().contains("already associated"), "{err}");
    assert_eq!(rotations(&kms, &key, true).len(), 1);
}

#[test]
fn a_key_material_id_must_name_the_material_imported() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let id = import(&kms, &key, &[5; 32]).unwrap();
    let mut req = request(&kms, &key, &[5; 32]);
    req.key_material_id = Some("ab".repeat(32));
    assert_eq!(
        code(kms.import_key_material(req.clone())),
        "IncorrectKeyMaterialException"
    );
    req.key_material_id = Some("AB".repeat(32));
    assert_eq!(
        code(kms.import_key_material(req.clone())),
        "ValidationException"
    );
    req.key_material_id = Some(id.clone());
    req.import_type = Some(ImportType::NewKeyMaterial);
    assert_eq!(
        code(kms.import_key_material(req.clone())),
        "ValidationException"
    );
    req.import_type = None;
    assert_eq!(kms.import_key_material(req).unwrap().key_material_id, id);
}

#[test]
fn the_expiration_model_and_valid_to_must_agree_and_valid_to_is_within_365_days() {
    let (kms, clock) = kms();
    let key = external_key(&kms);
    let base = request(&kms, &key, &[5; 32]);
    let now = clock.now();
    let cases: [(Option<ExpirationModelType>, Option<Timestamp>); 5] = [
        // The default model expires: it needs a ValidTo.
        (None, None),
        (Some(ExpirationModelType::KeyMaterialExpires), None),
        (
            Some(ExpirationModelType::KeyMaterialDoesNotExpire),
            Some(now.saturating_add(DAY)),
        ),
        (Some(ExpirationModelType::KeyMaterialExpires), Some(now)),
        (
            Some(ExpirationModelType::KeyMaterialExpires),
            Some(now.saturating_add(366 * DAY)),
        ),
    ];
    for (model, valid_to) in cases {
        let mut req = base.clone();
        req.expiration_model = model;
        req.valid_to = valid_to;
        let err = kms.import_key_material(req).unwrap_err();
        assert_eq!(err.code(), "ValidationException", "{model:?} {valid_to:?}");
    }
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    let mut req = base;
    req.expiration_model = None;
    req.valid_to = Some(now.saturating_add(365 * DAY));
    kms.import_key_material(req).unwrap();
    let md = kms.describe_key(&key).unwrap().key_metadata;
    assert_eq!(
        md.expiration_model,
        Some(ExpirationModelType::KeyMaterialExpires)
    );
    assert_eq!(md.valid_to, Some(now.saturating_add(365 * DAY)));
}

#[test]
fn at_valid_to_the_material_is_deleted_and_the_same_material_brings_old_ciphertexts_back() {
    let (kms, clock) = kms();
    let key = external_key(&kms);
    let mut req = request(&kms, &key, &[8; 32]);
    req.expiration_model = Some(ExpirationModelType::KeyMaterialExpires);
    req.valid_to = Some(clock.now().saturating_add(HOUR));
    let id = kms.import_key_material(req).unwrap().key_material_id;
    let blob = try_encrypt(&kms, &key).unwrap();
    clock.advance(HOUR - Duration::from_millis(1));
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    clock.advance(Duration::from_millis(1));
    // Any call runs the due expiry first.
    let err = try_decrypt(&kms, &blob).unwrap_err();
    assert_eq!(err.code(), "KMSInvalidStateException");
    let md = kms.describe_key(&key).unwrap().key_metadata;
    assert_eq!(md.key_state, KeyState::PendingImport);
    assert_eq!(md.current_key_material_id, None);
    assert_eq!(md.valid_to, None);
    assert_eq!(import(&kms, &key, &[8; 32]).unwrap(), id);
    assert_eq!(try_decrypt(&kms, &blob).unwrap(), b"hello");
}

#[test]
fn a_re_import_moves_the_expiry_and_the_old_deadline_no_longer_deletes() {
    let (kms, clock) = kms();
    let key = external_key(&kms);
    let expires = |at: Timestamp| {
        let p = params(&kms, &key, AlgorithmSpec::RsaesOaepSha256);
        let mut req = import_req(
            &key,
            &p,
            wrap(&p.public_key, AlgorithmSpec::RsaesOaepSha256, &[8; 32]),
        );
        req.expiration_model = Some(ExpirationModelType::KeyMaterialExpires);
        req.valid_to = Some(at);
        kms.import_key_material(req).unwrap();
    };
    let t0 = clock.now();
    expires(t0.saturating_add(HOUR));
    expires(t0.saturating_add(3 * HOUR));
    clock.advance(2 * HOUR);
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    clock.advance(HOUR);
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
}

#[test]
fn delete_imported_key_material_makes_the_key_pending_import_at_once() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    // Nothing to delete yet: no effect.
    let r = kms
        .delete_imported_key_material(DeleteImportedKeyMaterialRequest {
            key_id: key.clone(),
            key_material_id: None,
        })
        .unwrap();
    assert_eq!(r.key_material_id, None);
    let id = import(&kms, &key, &[9; 32]).unwrap();
    let blob = try_encrypt(&kms, &key).unwrap();
    let wrong = DeleteImportedKeyMaterialRequest {
        key_id: key.clone(),
        key_material_id: Some("0".repeat(64)),
    };
    assert_eq!(
        code(kms.delete_imported_key_material(wrong)),
        "NotFoundException"
    );
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    let r = kms
        .delete_imported_key_material(DeleteImportedKeyMaterialRequest {
            key_id: key.clone(),
            key_material_id: Some(id.clone()),
        })
        .unwrap();
    assert_eq!(r.key_material_id.as_deref(), Some(&*id));
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(code(try_decrypt(&kms, &blob)), "KMSInvalidStateException");
    import(&kms, &key, &[9; 32]).unwrap();
    assert_eq!(try_decrypt(&kms, &blob).unwrap(), b"hello");
}

#[test]
fn material_that_expires_while_the_key_is_pending_deletion_leaves_it_pending_import_on_cancel() {
    let (kms, clock) = kms();
    let key = external_key(&kms);
    let mut req = request(&kms, &key, &[8; 32]);
    req.expiration_model = Some(ExpirationModelType::KeyMaterialExpires);
    req.valid_to = Some(clock.now().saturating_add(HOUR));
    kms.import_key_material(req).unwrap();
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: key.clone(),
        pending_window_in_days: Some(7),
    })
    .unwrap();
    clock.advance(2 * HOUR);
    assert_eq!(state(&kms, &key), KeyState::PendingDeletion);
    // GetParametersForImport is refused while pending deletion.
    let err = try_params(&kms, &key).unwrap_err();
    assert_eq!(err.code(), "KMSInvalidStateException");
    kms.cancel_key_deletion(&key).unwrap();
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
}

#[test]
fn keys_of_other_origins_refuse_the_import_operations() {
    let (kms, _) = kms();
    let key = common::new_key(&kms);
    let arn = kms.describe_key(&key).unwrap().key_metadata.arn;
    let err = try_params(&kms, &key).unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
    assert_eq!(
        err.message(),
        format!("{arn} origin is AWS_KMS which is not valid for this operation.")
    );
    let err = kms
        .delete_imported_key_material(DeleteImportedKeyMaterialRequest {
            key_id: key.clone(),
            key_material_id: None,
        })
        .unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
    let err = kms
        .import_key_material(ImportKeyMaterialRequest {
            key_id: key,
            import_token: vec![1],
            encrypted_key_material: vec![1],
            expiration_model: Some(ExpirationModelType::KeyMaterialDoesNotExpire),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
}

#[test]
fn get_parameters_refuses_pkcs1_sm2_and_missing_members() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let req = |alg, spec| GetParametersForImportRequest {
        key_id: key.clone(),
        wrapping_algorithm: alg,
        wrapping_key_spec: spec,
    };
    let rsa = Some(WrappingKeySpec::Rsa2048);
    for (alg, spec) in [
        (Some(AlgorithmSpec::RsaesPkcs1V15), rsa),
        (Some(AlgorithmSpec::Sm2pke), rsa),
        (
            Some(AlgorithmSpec::RsaesOaepSha256),
            Some(WrappingKeySpec::Sm2),
        ),
    ] {
        assert_eq!(
            code(kms.get_parameters_for_import(req(alg, spec))),
            "UnsupportedOperationException"
        );
    }
    assert_eq!(
        code(kms.get_parameters_for_import(req(None, rsa))),
        "ValidationException"
    );
    assert_eq!(
        code(kms.get_parameters_for_import(req(Some(AlgorithmSpec::RsaesOaepSha1), None))),
        "ValidationException"
    );
}

#[test]
fn external_keys_of_asymmetric_specs_or_in_a_store_are_not_supported_yet() {
    let (kms, _) = kms();
    for req in [
        CreateKeyRequest {
            origin: Some(OriginType::External),
            key_spec: Some(KeySpec::MlDsa65),
            key_usage: Some(KeyUsage::SignVerify),
            ..Default::default()
        },
        CreateKeyRequest {
            origin: Some(OriginType::External),
            custom_key_store_id: Some("cks-1234567890abcdef0".into()),
            ..Default::default()
        },
    ] {
        let err = kms.create_key(req).unwrap_err();
        assert_eq!(err.code(), "UnsupportedOperationException");
    }
}

#[test]
fn automatic_rotation_is_refused_for_an_external_key_and_its_status_reads_off() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    import(&kms, &key, &[1; 32]).unwrap();
    let arn = kms.describe_key(&key).unwrap().key_metadata.arn;
    let err = kms
        .enable_key_rotation(EnableKeyRotationRequest {
            key_id: key.clone(),
            rotation_period_in_days: None,
        })
        .unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
    assert_eq!(
        err.message(),
        format!("{arn} origin is EXTERNAL which is not valid for this operation.")
    );
    assert_eq!(
        code(kms.disable_key_rotation(&key)),
        "UnsupportedOperationException"
    );
    assert!(
        !kms.get_key_rotation_status(&key)
            .unwrap()
            .key_rotation_enabled
    );
}

fn current_material(kms: &Kms, key: &str) -> Option<String> {
    kms.describe_key(key)
        .unwrap()
        .key_metadata
        .current_key_material_id
}

fn decrypted_with(kms: &Kms, blob: &[u8]) -> String {
    let r = kms
        .decrypt(DecryptRequest {
            ciphertext_blob: blob.to_vec(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.plaintext.expose_secret(), b"hello");
    r.key_material_id.unwrap()
}

fn delete_material(kms: &Kms, key: &str, id: Option<&str>) -> kms_keystore::Result<Option<String>> {
    kms.delete_imported_key_material(DeleteImportedKeyMaterialRequest {
        key_id: key.into(),
        key_material_id: id.map(str::to_owned),
    })
    .map(|r| r.key_material_id)
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn new_key_material_is_pending_rotation_until_rotate_key_on_demand_makes_it_current() {
    let (kms, clock) = kms();
    let key = external_key(&kms);
    let a = import(&kms, &key, &[1; 32]).unwrap();
    let under_a = try_encrypt(&kms, &key).unwrap();
    let b = import_new(&kms, &key, &[2; 32]).unwrap();
    assert_ne!(a, b);
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    assert_eq!(
        listed(&kms, &key),
        [
            (a.clone(), s("CURRENT"), s("IMPORTED")),
            (b.clone(), s("PENDING_ROTATION"), s("IMPORTED")),
        ]
    );
    let pending = &rotations(&kms, &key, true)[1];
    assert_eq!(
        (pending.rotation_date, pending.rotation_type.as_deref()),
        (None, None)
    );
    assert!(rotations(&kms, &key, false).is_empty(), "no rotation yet");
    // Pending material is not used: the key still encrypts under A.
    assert_eq!(current_material(&kms, &key).as_deref(), Some(a.as_str()));
    let still_a = try_encrypt(&kms, &key).unwrap();
    assert_eq!(decrypted_with(&kms, &still_a), a);

    clock.advance(HOUR);
    let rotated_at = clock.now();
    assert_eq!(kms.rotate_key_on_demand(&key).unwrap().key_id, key);
    assert_eq!(current_material(&kms, &key).as_deref(), Some(b.as_str()));
    assert_eq!(
        listed(&kms, &key),
        [
            (a.clone(), s("NON_CURRENT"), s("IMPORTED")),
            (b.clone(), s("CURRENT"), s("IMPORTED")),
        ]
    );
    let only = rotations(&kms, &key, false);
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].key_material_id, b);
    assert_eq!(only[0].rotation_date, Some(rotated_at));
    assert_eq!(only[0].rotation_type.as_deref(), Some("ON_DEMAND"));
    // Old ciphertexts still decrypt with A; new ones are sealed under B.
    assert_eq!(decrypted_with(&kms, &under_a), a);
    let under_b = try_encrypt(&kms, &key).unwrap();
    assert_eq!(decrypted_with(&kms, &under_b), b);
}

#[test]
fn rotate_on_demand_needs_material_pending_rotation_and_only_one_may_be_pending() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let arn = kms.describe_key(&key).unwrap().key_metadata.arn;
    // Pending import: the key state refuses first.
    assert_eq!(
        code(kms.rotate_key_on_demand(&key)),
        "KMSInvalidStateException"
    );
    import(&kms, &key, &[1; 32]).unwrap();
    let err = kms.rotate_key_on_demand(&key).unwrap_err();
    assert_eq!(err.code(), "KMSInvalidStateException");
    assert_eq!(
        err.message(),
        format!(
            "{arn} has no key material pending rotation. Import new key material (ImportKeyMaterial with ImportType NEW_KEY_MATERIAL) first."
        )
    );
    let b = import_new(&kms, &key, &[2; 32]).unwrap();
    let err = import_new(&kms, &key, &[3; 32]).unwrap_err();
    assert_eq!(err.code(), "KMSInvalidStateException");
    assert!(err.message().contains(&b), "{err}");
    kms.rotate_key_on_demand(&key).unwrap();
    // Rotated: nothing pending again, and another new material may come.
    assert_eq!(
        code(kms.rotate_key_on_demand(&key)),
        "KMSInvalidStateException"
    );
    let c = import_new(&kms, &key, &[3; 32]).unwrap();
    kms.rotate_key_on_demand(&key).unwrap();
    assert_eq!(current_material(&kms, &key), Some(c));
    assert_eq!(rotations(&kms, &key, false).len(), 2);
    // A disabled key refuses the rotation as other keys do.
    import_new(&kms, &key, &[4; 32]).unwrap();
    kms.disable_key(&key).unwrap();
    assert_eq!(code(kms.rotate_key_on_demand(&key)), "DisabledException");
}

#[test]
fn deleting_a_non_current_material_makes_the_key_pending_import_until_it_is_reimported() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let a = import(&kms, &key, &[1; 32]).unwrap();
    let under_a = try_encrypt(&kms, &key).unwrap();
    let b = import_new(&kms, &key, &[2; 32]).unwrap();
    kms.rotate_key_on_demand(&key).unwrap();
    let under_b = try_encrypt(&kms, &key).unwrap();
    assert_eq!(
        delete_material(&kms, &key, Some(&a)).unwrap(),
        Some(a.clone())
    );
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(
        listed(&kms, &key),
        [
            (a.clone(), s("NON_CURRENT"), s("PENDING_IMPORT")),
            (b.clone(), s("CURRENT"), s("IMPORTED")),
        ]
    );
    // Every ciphertext fails while the key is pending import.
    for blob in [&under_a, &under_b] {
        assert_eq!(code(try_decrypt(&kms, blob)), "KMSInvalidStateException");
    }
    assert_eq!(code(try_encrypt(&kms, &key)), "KMSInvalidStateException");
    // Other material is not A.
    let mut req = request(&kms, &key, &[9; 32]);
    req.import_type = Some(ImportType::ExistingKeyMaterial);
    assert_eq!(
        code(kms.import_key_material(req)),
        "IncorrectKeyMaterialException"
    );
    // B's id does not name A's material.
    let mut req = request(&kms, &key, &[1; 32]);
    req.key_material_id = Some(b.clone());
    assert_eq!(
        code(kms.import_key_material(req.clone())),
        "IncorrectKeyMaterialException"
    );
    req.key_material_id = Some(a.clone());
    req.import_type = Some(ImportType::ExistingKeyMaterial);
    assert_eq!(kms.import_key_material(req).unwrap().key_material_id, a);
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    assert_eq!(current_material(&kms, &key), Some(b.clone()));
    assert_eq!(decrypted_with(&kms, &under_a), a);
    assert_eq!(decrypted_with(&kms, &under_b), b);
}

#[test]
fn deleting_without_an_id_deletes_the_current_material_and_an_unknown_id_is_not_found() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let a = import(&kms, &key, &[1; 32]).unwrap();
    let b = import_new(&kms, &key, &[2; 32]).unwrap();
    kms.rotate_key_on_demand(&key).unwrap();
    let err = delete_material(&kms, &key, Some(&"0".repeat(64))).unwrap_err();
    assert_eq!(err.code(), "NotFoundException");
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    assert_eq!(delete_material(&kms, &key, None).unwrap(), Some(b.clone()));
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(
        listed(&kms, &key),
        [
            (a, s("NON_CURRENT"), s("IMPORTED")),
            (b.clone(), s("CURRENT"), s("PENDING_IMPORT")),
        ]
    );
    // DescribeKey names no current material while it is not imported.
    let md = kms.describe_key(&key).unwrap().key_metadata;
    assert_eq!(md.current_key_material_id, None);
    assert_eq!(md.expiration_model, None);
    // Deleting it again changes nothing.
    assert_eq!(delete_material(&kms, &key, Some(&b)).unwrap(), Some(b));
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    import(&kms, &key, &[2; 32]).unwrap();
    assert_eq!(state(&kms, &key), KeyState::Enabled);
}

#[test]
fn deleting_material_pending_rotation_keeps_the_key_state_and_frees_its_place() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let a = import(&kms, &key, &[1; 32]).unwrap();
    kms.disable_key(&key).unwrap();
    let b = import_new(&kms, &key, &[2; 32]).unwrap();
    // A pending import leaves a disabled key disabled.
    assert_eq!(state(&kms, &key), KeyState::Disabled);
    kms.enable_key(&key).unwrap();
    assert_eq!(
        delete_material(&kms, &key, Some(&b)).unwrap(),
        Some(b.clone())
    );
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    assert_eq!(
        listed(&kms, &key),
        [(a.clone(), s("CURRENT"), s("IMPORTED"))]
    );
    // B is no longer associated with the key...
    let mut req = request(&kms, &key, &[2; 32]);
    req.import_type = Some(ImportType::ExistingKeyMaterial);
    assert_eq!(
        code(kms.import_key_material(req)),
        "IncorrectKeyMaterialException"
    );
    // ...and other material may take its place.
    let c = import_new(&kms, &key, &[3; 32]).unwrap();
    let under_a = try_encrypt(&kms, &key).unwrap();
    kms.rotate_key_on_demand(&key).unwrap();
    assert_eq!(current_material(&kms, &key), Some(c.clone()));
    assert_eq!(decrypted_with(&kms, &under_a), a);
    let under_c = try_encrypt(&kms, &key).unwrap();
    assert_eq!(decrypted_with(&kms, &under_c), c);
}

#[test]
fn each_material_expires_at_its_own_valid_to() {
    let (kms, clock) = kms();
    let key = external_key(&kms);
    let a = import(&kms, &key, &[1; 32]).unwrap();
    let expiring = |material: &[u8], hours: u32| {
        let mut req = request(&kms, &key, material);
        req.import_type = Some(ImportType::NewKeyMaterial);
        req.expiration_model = Some(ExpirationModelType::KeyMaterialExpires);
        req.valid_to = Some(clock.now().saturating_add(HOUR * hours));
        kms.import_key_material(req).unwrap().key_material_id
    };
    // Pending material that expires leaves; the key state stays.
    let b = expiring(&[2; 32], 1);
    assert_eq!(
        rotations(&kms, &key, true)[1].valid_to,
        Some(clock.now().saturating_add(HOUR))
    );
    clock.advance(HOUR);
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    assert_eq!(
        listed(&kms, &key),
        [(a.clone(), s("CURRENT"), s("IMPORTED"))]
    );
    // Rotated to, its expiry makes the key pending import; A stays.
    let c = expiring(&[3; 32], 2);
    assert_ne!(b, c);
    kms.rotate_key_on_demand(&key).unwrap();
    clock.advance(HOUR);
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    clock.advance(HOUR);
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(
        listed(&kms, &key),
        [
            (a, s("NON_CURRENT"), s("IMPORTED")),
            (c.clone(), s("CURRENT"), s("PENDING_IMPORT")),
        ]
    );
    assert_eq!(rotations(&kms, &key, true)[1].valid_to, None);
    import(&kms, &key, &[3; 32]).unwrap();
    assert_eq!(state(&kms, &key), KeyState::Enabled);
}

#[test]
fn list_key_rotations_pages_through_imported_materials() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let mut ids = vec![import(&kms, &key, &[1; 32]).unwrap()];
    for m in 2..=3u8 {
        ids.push(import_new(&kms, &key, &[m; 32]).unwrap());
        kms.rotate_key_on_demand(&key).unwrap();
    }
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_key_rotations(kms_keystore::ListKeyRotationsRequest {
                key_id: key.clone(),
                include_key_material: Some(kms_keystore::IncludeKeyMaterial::AllKeyMaterial),
                limit: Some(1),
                marker: marker.take(),
            })
            .unwrap();
        assert!(page.rotations.len() <= 1);
        seen.extend(page.rotations.into_iter().map(|e| e.key_material_id));
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    assert_eq!(rotations(&kms, &key, false).len(), 2);
}

#[test]
fn the_import_request_never_prints_its_token_or_wrapped_material() {
    let req = ImportKeyMaterialRequest {
        key_id: "k".into(),
        import_token: vec![0xAB; 8],
        encrypted_key_material: vec![0xCD; 8],
        ..Default::default()
    };
    let s = format!("{req:?}");
    assert!(!s.contains("171") && !s.contains("205"), "{s}");
}

/// Runs `openssl` with `args`; `None` where it is not installed (then the
/// test is skipped, unless `KMS_KEYSTORE_REQUIRE_OPENSSL` is set, as CI
/// sets it).
fn openssl(args: &[&str]) -> Option<std::process::Output> {
    match std::process::Command::new("openssl").args(args).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(out)
        }
        Err(e) => {
            assert!(
                std::env::var_os("KMS_KEYSTORE_REQUIRE_OPENSSL").is_none(),
                "openssl is required here: {e}"
            );
            eprintln!("openssl not found ({e}): skipped");
            None
        }
    }
}

/// The user's path in AWS's guide: the DER public key to a file, the
/// material wrapped with `openssl pkeyutl` (RSAES_OAEP_SHA_256) or with
/// `openssl enc -id-aes256-wrap-pad` and `pkeyutl`
/// (RSA_AES_KEY_WRAP_SHA_256).
#[test]
fn material_wrapped_with_the_openssl_command_line_imports() {
    let dir = std::env::temp_dir().join(format!("kms-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let material = [0x42u8; 32];
    std::fs::write(path("material.bin"), material).unwrap();
    for alg in [
        AlgorithmSpec::RsaesOaepSha256,
        AlgorithmSpec::RsaAesKeyWrapSha256,
    ] {
        let (kms, _) = kms();
        let key = external_key(&kms);
        let p = params(&kms, &key, alg);
        std::fs::write(path("public.der"), &p.public_key).unwrap();
        let oaep = |input: &str, output: &str| {
            openssl(&[
                "pkeyutl",
                "-encrypt",
                "-pubin",
                "-keyform",
                "DER",
                "-inkey",
                &path("public.der"),
                "-in",
                &path(input),
                "-out",
                &path(output),
                "-pkeyopt",
                "rsa_padding_mode:oaep",
                "-pkeyopt",
                "rsa_oaep_md:sha256",
                "-pkeyopt",
                "rsa_mgf1_md:sha256",
            ])
        };
        let wrapped = if alg == AlgorithmSpec::RsaesOaepSha256 {
            if oaep("material.bin", "wrapped.bin").is_none() {
                return;
            }
            std::fs::read(path("wrapped.bin")).unwrap()
        } else {
            let aes = [0x37u8; 32];
            std::fs::write(path("aes.bin"), aes).unwrap();
            let hex: String = aes.iter().map(|b| format!("{b:02x}")).collect();
            if openssl(&[
                "enc",
                "-id-aes256-wrap-pad",
                "-K",
                &hex,
                "-iv",
                "A65959A6",
                "-in",
                &path("material.bin"),
                "-out",
                &path("kw.bin"),
            ])
            .is_none()
                || oaep("aes.bin", "aes-wrapped.bin").is_none()
            {
                return;
            }
            let mut w = std::fs::read(path("aes-wrapped.bin")).unwrap();
            w.extend(std::fs::read(path("kw.bin")).unwrap());
            w
        };
        kms.import_key_material(import_req(&key, &p, wrapped))
            .unwrap();
        // The same material imported through the pure-Rust path agrees.
        assert_eq!(import(&kms, &key, &material).map(|_| ()), Ok(()), "{alg}");
        assert_eq!(state(&kms, &key), KeyState::Enabled);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// An EXTERNAL key whose policy lets the account root do everything and
/// user `u` what `statements` (JSON statements for `u`, comma-separated)
/// allow; the `Kms` as `u`, the key id and the clock.
fn key_for_user(statements: &str) -> (Kms, String, ManualClock) {
    use kms_keystore::{AwsPartition, KmsConfig, Partition};
    const OWNER: &str = "444455556666";
    let partition = Partition::with_seed(AwsPartition::Aws, 9);
    let clock = ManualClock::default();
    let owner = partition
        .add(
            KmsConfig::new(OWNER, "us-west-2")
                .unwrap()
                .with_clock(clock.clone())
                .with_seed(5),
        )
        .unwrap();
    let u = format!("arn:aws:iam::{OWNER}:user/u");
    let statements = statements.replace("$U", &u);
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Sid":"admin","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OWNER}:root"}},"Action":"kms:*","Resource":"*"}},
        {statements}]}}"#
    );
    let key = owner
        .create_key(CreateKeyRequest {
            origin: Some(OriginType::External),
            policy: Some(policy),
            ..Default::default()
        })
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    let user = partition.iam().create_user(OWNER, "/", "u").unwrap();
    (owner.as_caller(&user), key, clock)
}

/// A statement allowing `u` `action` under `condition`.
fn allow_u(action: &str, condition: &str) -> String {
    format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"$U"}},"Action":"{action}","Resource":"*","Condition":{condition}}}"#
    )
}

/// GetParametersForImport (allowed) then ImportKeyMaterial (expiring in an
/// hour) as `u`, allowed ImportKeyMaterial only under `condition`; the
/// error code, if refused.
fn import_as_user_under(condition: &str) -> Option<&'static str> {
    let statements = format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"$U"}},"Action":"kms:GetParametersForImport","Resource":"*"}},{}"#,
        allow_u("kms:ImportKeyMaterial", condition)
    );
    let (kms, key, clock) = key_for_user(&statements);
    let p = params(&kms, &key, AlgorithmSpec::RsaAesKeyWrapSha256);
    let wrapped = wrap(&p.public_key, AlgorithmSpec::RsaAesKeyWrapSha256, &[4; 32]);
    let mut req = import_req(&key, &p, wrapped);
    req.expiration_model = Some(ExpirationModelType::KeyMaterialExpires);
    req.valid_to = Some(clock.now().saturating_add(HOUR));
    kms.import_key_material(req).err().map(|e| e.code())
}

#[test]
fn the_import_condition_keys_are_set_and_evaluated() {
    let t = ManualClock::default().now().as_millis() / 1000 + 3600;
    let cases = [
        (
            r#"{"StringEquals":{"kms:ExpirationModel":"KEY_MATERIAL_EXPIRES"}}"#.to_owned(),
            r#"{"StringEquals":{"kms:ExpirationModel":"KEY_MATERIAL_DOES_NOT_EXPIRE"}}"#.to_owned(),
        ),
        (
            format!(r#"{{"NumericLessThanEquals":{{"kms:ValidTo":"{t}"}}}}"#),
            format!(r#"{{"NumericLessThan":{{"kms:ValidTo":"{t}"}}}}"#),
        ),
    ];
    for (allows, refuses) in cases {
        assert_eq!(import_as_user_under(&allows), None, "{allows}");
        assert_eq!(
            import_as_user_under(&refuses),
            Some("AccessDeniedException"),
            "{refuses}"
        );
    }
}

#[test]
fn the_wrapping_condition_keys_are_set_and_evaluated() {
    let run = |condition: &str| {
        let (kms, key, _) = key_for_user(&allow_u("kms:GetParametersForImport", condition));
        try_params(&kms, &key).err().map(|e| e.code())
    };
    assert_eq!(
        run(r#"{"StringEquals":{"kms:WrappingAlgorithm":"RSAES_OAEP_SHA_256"}}"#),
        None
    );
    assert_eq!(
        run(r#"{"StringEquals":{"kms:WrappingKeySpec":"RSA_2048"}}"#),
        None
    );
    assert_eq!(
        run(r#"{"StringEquals":{"kms:WrappingAlgorithm":"RSAES_OAEP_SHA_1"}}"#),
        Some("AccessDeniedException")
    );
    assert_eq!(
        run(r#"{"StringEquals":{"kms:WrappingKeySpec":"RSA_4096"}}"#),
        Some("AccessDeniedException")
    );
}

#[test]
fn a_user_without_a_policy_statement_may_not_import_or_delete() {
    let (kms, key, _) = key_for_user(
        r#"{"Effect":"Allow","Principal":{"AWS":"$U"},"Action":"kms:DescribeKey","Resource":"*"}"#,
    );
    let err = try_params(&kms, &key).unwrap_err();
    assert_eq!(err.code(), "AccessDeniedException");
    let err = kms
        .delete_imported_key_material(DeleteImportedKeyMaterialRequest {
            key_id: key,
            key_material_id: None,
        })
        .unwrap_err();
    assert_eq!(err.code(), "AccessDeniedException");
}

#[test]
fn list_key_rotations_shows_the_imported_material_its_state_expiry_and_description() {
    use kms_keystore::{IncludeKeyMaterial, ListKeyRotationsRequest};
    let (kms, clock) = kms();
    let key = external_key(&kms);
    let list = |include| {
        kms.list_key_rotations(ListKeyRotationsRequest {
            key_id: key.clone(),
            include_key_material: include,
            ..Default::default()
        })
        .unwrap()
        .rotations
    };
    assert!(
        list(Some(IncludeKeyMaterial::AllKeyMaterial)).is_empty(),
        "nothing imported yet"
    );
    let mut req = request(&kms, &key, &[2; 32]);
    req.expiration_model = Some(ExpirationModelType::KeyMaterialExpires);
    let valid_to = clock.now().saturating_add(HOUR);
    req.valid_to = Some(valid_to);
    req.key_material_description = Some("first import: hsm-01/batch.7".into());
    let id = kms.import_key_material(req).unwrap().key_material_id;
    // Rotations only (the default): the imported material is no rotation.
    assert!(list(None).is_empty());
    let all = list(Some(IncludeKeyMaterial::AllKeyMaterial));
    assert_eq!(all.len(), 1);
    let e = &all[0];
    assert_eq!(e.key_material_id, id);
    assert_eq!(e.key_material_state, "CURRENT");
    assert_eq!(e.import_state.as_deref(), Some("IMPORTED"));
    assert_eq!(
        e.expiration_model,
        Some(ExpirationModelType::KeyMaterialExpires)
    );
    assert_eq!(e.valid_to, Some(valid_to));
    assert_eq!(
        e.key_material_description.as_deref(),
        Some("first import: hsm-01/batch.7")
    );
    assert_eq!(e.rotation_date, None);
    // Re-imported without a description: it keeps the last one.
    import(&kms, &key, &[2; 32]).unwrap();
    let all = list(Some(IncludeKeyMaterial::AllKeyMaterial));
    assert_eq!(
        all[0].key_material_description.as_deref(),
        Some("first import: hsm-01/batch.7")
    );
    assert_eq!(
        all[0].expiration_model,
        Some(ExpirationModelType::KeyMaterialDoesNotExpire)
    );
    assert_eq!(all[0].valid_to, None);
    kms.delete_imported_key_material(DeleteImportedKeyMaterialRequest {
        key_id: key.clone(),
        key_material_id: None,
    })
    .unwrap();
    let all = list(Some(IncludeKeyMaterial::AllKeyMaterial));
    assert_eq!(all[0].import_state.as_deref(), Some("PENDING_IMPORT"));
    assert_eq!(all[0].expiration_model, None);
}

#[test]
fn a_key_material_description_is_at_most_256_characters_of_the_allowed_set() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let base = request(&kms, &key, &[2; 32]);
    for bad in ["x".repeat(257), "semi;colon".to_owned(), "é".to_owned()] {
        let mut req = base.clone();
        req.key_material_description = Some(bad.clone());
        let err = kms.import_key_material(req).unwrap_err();
        assert_eq!(err.code(), "ValidationException", "{bad}");
        assert!(err.message().contains("keyMaterialDescription"), "{err}");
    }
    let mut req = base;
    req.key_material_description = Some("a".repeat(256));
    kms.import_key_material(req).unwrap();
}

/// `kms` behind the server's dispatcher: an operation and its JSON body
/// in, the status and JSON body out.
fn wire(kms: Kms) -> impl Fn(&str, serde_json::Value) -> (u16, serde_json::Value) {
    let w = kms_keystore::server::Dispatcher::new(kms);
    move |op, body| {
        let r = w.dispatch(&format!("TrentService.{op}"), body.to_string().as_bytes());
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        (r.status, v)
    }
}

/// GetParametersForImport over the wire (`alg`, RSA_2048), and the body of
/// an ImportKeyMaterial of `material` wrapped under its public key.
fn wire_wrapped(
    call: &impl Fn(&str, serde_json::Value) -> (u16, serde_json::Value),
    key: &str,
    alg: AlgorithmSpec,
    material: &[u8],
) -> serde_json::Value {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;
    let (status, p) = call(
        "GetParametersForImport",
        serde_json::json!({"KeyId": key, "WrappingAlgorithm": alg.as_str(), "WrappingKeySpec": "RSA_2048"}),
    );
    assert_eq!(status, 200, "{p}");
    assert!(p["ParametersValidTo"].is_number(), "{p}");
    let public = B64.decode(p["PublicKey"].as_str().unwrap()).unwrap();
    serde_json::json!({
        "KeyId": key,
        "ImportToken": p["ImportToken"],
        "EncryptedKeyMaterial": B64.encode(wrap(&public, alg, material)),
    })
}

#[test]
fn the_wire_serves_the_three_import_operations_with_base64_blobs() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let call = wire(kms);
    let mut body = wire_wrapped(&call, &key, AlgorithmSpec::RsaAesKeyWrapSha1, &[6; 32]);
    body["ExpirationModel"] = "KEY_MATERIAL_DOES_NOT_EXPIRE".into();
    let (status, r) = call("ImportKeyMaterial", body);
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["KeyMaterialId"].as_str().unwrap().len(), 64);
    let (status, d) = call("DescribeKey", serde_json::json!({"KeyId": key}));
    assert_eq!(status, 200);
    assert_eq!(
        d["KeyMetadata"]["ExpirationModel"],
        "KEY_MATERIAL_DOES_NOT_EXPIRE"
    );
    assert_eq!(d["KeyMetadata"]["Origin"], "EXTERNAL");
    let (status, r) = call(
        "DeleteImportedKeyMaterial",
        serde_json::json!({"KeyId": key}),
    );
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["KeyMaterialId"].as_str().unwrap().len(), 64);
    // A missing required member is named, as for every operation.
    let (status, e) = call("ImportKeyMaterial", serde_json::json!({"KeyId": key}));
    assert_eq!(status, 400);
    assert_eq!(e["__type"], "ValidationException", "{e}");
    let (status, e) = call(
        "ImportKeyMaterial",
        serde_json::json!({"KeyId": key, "ImportToken": "AAAA", "EncryptedKeyMaterial": "AAAA", "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}),
    );
    assert_eq!(status, 400);
    assert_eq!(e["__type"], "InvalidImportTokenException", "{e}");
}

#[test]
fn imported_rotations_count_toward_the_on_demand_limit() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    import(&kms, &key, &[0; 32]).unwrap();
    // One set of parameters serves every import (RSA key generation is
    // slow): a token works until replaced or expired.
    let p = params(&kms, &key, AlgorithmSpec::RsaesOaepSha256);
    let new = |n: u8| {
        let mut req = import_req(
            &key,
            &p,
            wrap(&p.public_key, AlgorithmSpec::RsaesOaepSha256, &[n; 32]),
        );
        req.import_type = Some(ImportType::NewKeyMaterial);
        kms.import_key_material(req).unwrap();
    };
    for n in 1..=kms_keystore::MAX_ON_DEMAND_ROTATIONS as u8 {
        new(n);
        kms.rotate_key_on_demand(&key).unwrap();
    }
    new(200);
    let err = kms.rotate_key_on_demand(&key).unwrap_err();
    assert_eq!(err.code(), "LimitExceededException");
    // Nothing changed: the material is still pending rotation.
    let all = rotations(&kms, &key, true);
    assert_eq!(all.last().unwrap().key_material_state, "PENDING_ROTATION");
}

#[test]
fn the_wire_serves_imported_rotation_with_aws_member_names() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    import(&kms, &key, &[1; 32]).unwrap();
    let call = wire(kms);
    let mut body = wire_wrapped(&call, &key, AlgorithmSpec::RsaesOaepSha256, &[2; 32]);
    body["ExpirationModel"] = "KEY_MATERIAL_DOES_NOT_EXPIRE".into();
    body["ImportType"] = "NEW_KEY_MATERIAL".into();
    body["KeyMaterialDescription"] = "second".into();
    let (status, r) = call("ImportKeyMaterial", body);
    assert_eq!(status, 200, "{r}");
    let new_id = r["KeyMaterialId"].clone();
    let (status, l) = call(
        "ListKeyRotations",
        serde_json::json!({"KeyId": key, "IncludeKeyMaterial": "ALL_KEY_MATERIAL"}),
    );
    assert_eq!(status, 200, "{l}");
    let pending = &l["Rotations"][1];
    assert_eq!(pending["KeyMaterialId"], new_id);
    assert_eq!(pending["KeyMaterialState"], "PENDING_ROTATION");
    assert_eq!(pending["ImportState"], "IMPORTED");
    assert_eq!(pending["KeyMaterialDescription"], "second");
    assert_eq!(pending["ExpirationModel"], "KEY_MATERIAL_DOES_NOT_EXPIRE");
    assert!(pending.get("RotationDate").is_none(), "{pending}");
    let (status, r) = call("RotateKeyOnDemand", serde_json::json!({"KeyId": key}));
    assert_eq!(status, 200, "{r}");
    let (_, l) = call("ListKeyRotations", serde_json::json!({"KeyId": key}));
    let rotated = &l["Rotations"][0];
    assert_eq!(rotated["KeyMaterialId"], new_id);
    assert_eq!(rotated["KeyMaterialState"], "CURRENT");
    assert_eq!(rotated["RotationType"], "ON_DEMAND");
    assert!(rotated["RotationDate"].is_number(), "{rotated}");
    let (_, d) = call("DescribeKey", serde_json::json!({"KeyId": key}));
    assert_eq!(d["KeyMetadata"]["CurrentKeyMaterialId"], new_id);
}

#[test]
fn the_key_is_enabled_again_only_once_every_material_it_rotated_through_is_imported() {
    let (kms, _) = kms();
    let key = external_key(&kms);
    let a = import(&kms, &key, &[1; 32]).unwrap();
    let b = import_new(&kms, &key, &[2; 32]).unwrap();
    kms.rotate_key_on_demand(&key).unwrap();
    // A material pending rotation does not count.
    import_new(&kms, &key, &[3; 32]).unwrap();
    delete_material(&kms, &key, Some(&a)).unwrap();
    delete_material(&kms, &key, Some(&b)).unwrap();
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(import(&kms, &key, &[2; 32]).unwrap(), b);
    assert_eq!(
        state(&kms, &key),
        KeyState::PendingImport,
        "A is still missing"
    );
    assert_eq!(code(try_encrypt(&kms, &key)), "KMSInvalidStateException");
    assert_eq!(import(&kms, &key, &[1; 32]).unwrap(), a);
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    assert_eq!(current_material(&kms, &key), Some(b));
}

fn external_hmac_key(kms: &Kms, spec: KeySpec) -> String {
    common::create_key_with_origin(kms, OriginType::External, spec, KeyUsage::GenerateVerifyMac)
        .unwrap()
}

fn try_mac(kms: &Kms, key: &str, message: &[u8]) -> kms_keystore::Result<Vec<u8>> {
    kms.generate_mac(kms_keystore::GenerateMacRequest {
        key_id: key.into(),
        message: message.to_vec().into(),
        mac_algorithm: Some(kms_keystore::MacAlgorithmSpec::HmacSha256),
        ..Default::default()
    })
    .map(|r| r.mac)
}

fn try_verify_mac(kms: &Kms, key: &str, message: &[u8], mac: &[u8]) -> kms_keystore::Result<bool> {
    kms.verify_mac(kms_keystore::VerifyMacRequest {
        key_id: key.into(),
        message: message.to_vec().into(),
        mac_algorithm: Some(kms_keystore::MacAlgorithmSpec::HmacSha256),
        mac: mac.to_vec(),
        ..Default::default()
    })
    .map(|r| r.mac_valid)
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use hmac::{KeyInit as _, Mac as _};
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    m.update(message);
    m.finalize().into_bytes().to_vec()
}

#[test]
fn an_imported_hmac_key_starts_pending_import_then_macs_with_the_imported_secret() {
    let (kms, _) = kms();
    let key = external_hmac_key(&kms, KeySpec::Hmac256);
    let md = kms.describe_key(&key).unwrap().key_metadata;
    assert_eq!(md.key_state, KeyState::PendingImport);
    assert_eq!(md.key_spec, KeySpec::Hmac256);
    assert_eq!(md.origin, OriginType::External);
    assert_eq!(
        md.mac_algorithms,
        [kms_keystore::MacAlgorithmSpec::HmacSha256]
    );
    assert_eq!(code(try_mac(&kms, &key, b"m")), "KMSInvalidStateException");
    // 40 bytes: HMAC_256 takes 32 to 64.
    let secret: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(7)).collect();
    import(&kms, &key, &secret).unwrap();
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    let mac = try_mac(&kms, &key, b"message").unwrap();
    assert_eq!(mac, hmac_sha256(&secret, b"message"));
    assert!(try_verify_mac(&kms, &key, b"message", &mac).unwrap());
    let md = kms.describe_key(&key).unwrap().key_metadata;
    assert_eq!(md.current_key_material_id, None, "symmetric keys only");
    assert_eq!(
        md.expiration_model,
        Some(ExpirationModelType::KeyMaterialDoesNotExpire)
    );
    assert!(rotations(&kms, &key, true).is_empty());
    // HMAC keys do not rotate.
    assert_eq!(
        code(kms.rotate_key_on_demand(&key)),
        "UnsupportedOperationException"
    );
}

#[test]
fn imported_hmac_material_must_be_of_a_length_its_spec_allows() {
    let (kms, _) = kms();
    for (spec, shortest, longest) in [
        (KeySpec::Hmac224, 28, 64),
        (KeySpec::Hmac256, 32, 64),
        (KeySpec::Hmac384, 48, 128),
        (KeySpec::Hmac512, 64, 128),
    ] {
        let key = external_hmac_key(&kms, spec);
        // One set of parameters serves every attempt.
        let p = params(&kms, &key, AlgorithmSpec::RsaAesKeyWrapSha256);
        let attempt = |len: usize| {
            kms.import_key_material(import_req(
                &key,
                &p,
                wrap(
                    &p.public_key,
                    AlgorithmSpec::RsaAesKeyWrapSha256,
                    &vec![9; len],
                ),
            ))
        };
        for len in [shortest - 1, longest + 1] {
            assert_eq!(
                code(attempt(len)),
                "IncorrectKeyMaterialException",
                "{spec} with {len} bytes"
            );
        }
        assert_eq!(state(&kms, &key), KeyState::PendingImport);
        attempt(longest).unwrap();
        assert_eq!(state(&kms, &key), KeyState::Enabled, "{spec}");
        // The shortest is allowed too, but it is other material now.
        assert_eq!(code(attempt(shortest)), "IncorrectKeyMaterialException");
    }
    let key = external_hmac_key(&kms, KeySpec::Hmac224);
    import(&kms, &key, &[1; 28]).unwrap();
}

#[test]
fn an_imported_hmac_key_takes_only_its_own_material_again_and_no_symmetric_only_member() {
    let (kms, _) = kms();
    let key = external_hmac_key(&kms, KeySpec::Hmac256);
    let id = import(&kms, &key, &[3; 32]).unwrap();
    assert_eq!(import(&kms, &key, &[3; 32]).unwrap(), id);
    assert_eq!(
        code(import(&kms, &key, &[4; 32])),
        "IncorrectKeyMaterialException"
    );
    for member in ["ImportType", "KeyMaterialDescription", "KeyMaterialId"] {
        let mut req = request(&kms, &key, &[3; 32]);
        match member {
            "ImportType" => req.import_type = Some(ImportType::ExistingKeyMaterial),
            "KeyMaterialDescription" => req.key_material_description = Some("d".into()),
            _ => req.key_material_id = Some(id.clone()),
        }
        let err = kms.import_key_material(req).unwrap_err();
        assert_eq!(err.code(), "ValidationException", "{member}");
        assert!(err.message().starts_with(member), "{err}");
    }
}

#[test]
fn deleted_or_expired_imported_hmac_material_leaves_the_mac_operations_pending_import() {
    let (kms, clock) = kms();
    let key = external_hmac_key(&kms, KeySpec::Hmac256);
    import(&kms, &key, &[5; 48]).unwrap();
    let mac = try_mac(&kms, &key, b"m").unwrap();
    delete_material(&kms, &key, None).unwrap();
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(code(try_mac(&kms, &key, b"m")), "KMSInvalidStateException");
    assert_eq!(
        code(try_verify_mac(&kms, &key, b"m", &mac)),
        "KMSInvalidStateException"
    );
    // The same material, expiring in an hour: the old MAC verifies again.
    let mut req = request(&kms, &key, &[5; 48]);
    req.expiration_model = Some(ExpirationModelType::KeyMaterialExpires);
    req.valid_to = Some(clock.now().saturating_add(HOUR));
    kms.import_key_material(req).unwrap();
    assert!(try_verify_mac(&kms, &key, b"m", &mac).unwrap());
    clock.advance(HOUR);
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(code(try_mac(&kms, &key, b"m")), "KMSInvalidStateException");
}

#[test]
fn grants_on_an_imported_hmac_key_allow_the_mac_operations_only_while_it_has_material() {
    let (kms, _) = kms();
    let key = external_hmac_key(&kms, KeySpec::Hmac256);
    let bob = "arn:aws:iam::111122223333:user/bob";
    let grant = |ops: &[kms_keystore::GrantOperation]| {
        kms.create_grant(kms_keystore::CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: bob.into(),
            operations: ops.to_vec(),
            ..Default::default()
        })
    };
    // Pending import: CreateGrant is refused, as for every key.
    assert_eq!(
        code(grant(&[kms_keystore::GrantOperation::GenerateMac])),
        "KMSInvalidStateException"
    );
    import(&kms, &key, &[8; 32]).unwrap();
    // An HMAC key's grant operations, not an encryption key's.
    assert_eq!(
        code(grant(&[kms_keystore::GrantOperation::Encrypt])),
        "ValidationException"
    );
    let as_bob = kms.as_caller(&bob.parse::<kms_keystore::Principal>().unwrap());
    assert_eq!(code(try_mac(&as_bob, &key, b"m")), "AccessDeniedException");
    grant(&[kms_keystore::GrantOperation::GenerateMac]).unwrap();
    assert_eq!(
        try_mac(&as_bob, &key, b"m").unwrap(),
        hmac_sha256(&[8; 32], b"m")
    );
    delete_material(&kms, &key, None).unwrap();
    assert_eq!(
        code(try_mac(&as_bob, &key, b"m")),
        "KMSInvalidStateException"
    );
}

/// Two Regions of one account, on one clock.
fn two_regions() -> (kms_keystore::Partition, Kms, Kms, ManualClock) {
    let (partition, [east, west], clock) = import_support::regions(["us-east-1", "eu-west-1"]);
    (partition, east, west, clock)
}

/// A multi-Region primary key with imported material `material` in `kms`;
/// the key id.
fn imported_multi_region_primary(kms: &Kms, material: &[u8]) -> String {
    let key = external_multi_region_key(kms);
    import(kms, &key, material).unwrap();
    key
}

/// A multi-Region primary key with imported material `material` in `kms`,
/// and its replica in eu-west-1 (pending import); the key id.
fn imported_multi_region(kms: &Kms, material: &[u8]) -> String {
    let key = imported_multi_region_primary(kms, material);
    kms.replicate_key(kms_keystore::ReplicateKeyRequest {
        key_id: key.clone(),
        replica_region: "eu-west-1".into(),
        ..Default::default()
    })
    .unwrap();
    key
}

#[test]
fn a_multi_region_external_key_is_created_pending_import_with_an_mrk_id() {
    let (_p, east, _west, _) = two_regions();
    let key = external_multi_region_key(&east);
    let md = east.describe_key(&key).unwrap().key_metadata;
    assert!(md.key_id.to_string().starts_with("mrk-"));
    assert_eq!(md.origin, OriginType::External);
    assert_eq!(md.key_state, KeyState::PendingImport);
    assert!(md.multi_region);
    let c = md.multi_region_configuration.unwrap();
    assert_eq!(
        c.multi_region_key_type,
        kms_keystore::MultiRegionKeyType::Primary
    );
}

#[test]
fn a_primary_pending_import_cannot_be_replicated() {
    let (_p, east, _west, _) = two_regions();
    let key = external_multi_region_key(&east);
    let err = east
        .replicate_key(kms_keystore::ReplicateKeyRequest {
            key_id: key,
            replica_region: "eu-west-1".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "KMSInvalidStateException");
}

#[test]
fn a_replica_of_an_imported_primary_is_external_pending_import_without_material() {
    let (_p, east, west, _) = two_regions();
    let key = imported_multi_region(&east, &[7; 32]);
    let md = west.describe_key(&key).unwrap().key_metadata;
    assert_eq!(md.origin, OriginType::External);
    assert_eq!(md.key_state, KeyState::PendingImport);
    assert_eq!(md.current_key_material_id, None);
    let c = md.multi_region_configuration.unwrap();
    assert_eq!(
        c.multi_region_key_type,
        kms_keystore::MultiRegionKeyType::Replica
    );
    assert_eq!(c.primary_key.region, "us-east-1");
    let primary = east.describe_key(&key).unwrap().key_metadata;
    assert_eq!(primary.origin, OriginType::External);
    assert_eq!(primary.key_state, KeyState::Enabled);
    let replicas = primary.multi_region_configuration.unwrap().replica_keys;
    assert_eq!(replicas.len(), 1);
    assert_eq!(replicas[0].region, "eu-west-1");
    assert_eq!(code(try_encrypt(&west, &key)), "KMSInvalidStateException");
}

#[test]
fn a_replica_takes_only_its_primarys_material() {
    let (_p, east, west, _) = two_regions();
    let key = imported_multi_region(&east, &[7; 32]);
    let err = import(&west, &key, &[8; 32]).unwrap_err();
    assert_eq!(err.code(), "IncorrectKeyMaterialException");
    let err = import_new(&west, &key, &[8; 32]).unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
    assert_eq!(state(&west, &key), KeyState::PendingImport);
    let id = import(&west, &key, &[7; 32]).unwrap();
    assert_eq!(state(&west, &key), KeyState::Enabled);
    assert_eq!(
        Some(id),
        east.describe_key(&key)
            .unwrap()
            .key_metadata
            .current_key_material_id
    );
}

#[test]
fn ciphertexts_of_imported_multi_region_keys_cross_regions_both_ways() {
    let (_p, east, west, _) = two_regions();
    let key = imported_multi_region(&east, &[7; 32]);
    import(&west, &key, &[7; 32]).unwrap();
    let from_east = try_encrypt(&east, &key).unwrap();
    assert_eq!(try_decrypt(&west, &from_east).unwrap(), b"hello");
    let from_west = try_encrypt(&west, &key).unwrap();
    assert_eq!(try_decrypt(&east, &from_west).unwrap(), b"hello");
}

#[test]
fn a_replicas_expiration_is_its_own() {
    let (_p, east, west, clock) = two_regions();
    let key = imported_multi_region(&east, &[7; 32]);
    let p = params(&west, &key, AlgorithmSpec::RsaesOaepSha256);
    let mut req = import_req(
        &key,
        &p,
        wrap(&p.public_key, AlgorithmSpec::RsaesOaepSha256, &[7; 32]),
    );
    let valid_to = clock.now().saturating_add(HOUR);
    req.expiration_model = Some(ExpirationModelType::KeyMaterialExpires);
    req.valid_to = Some(valid_to);
    west.import_key_material(req).unwrap();
    let md = west.describe_key(&key).unwrap().key_metadata;
    assert_eq!(md.valid_to, Some(valid_to));
    assert_eq!(
        east.describe_key(&key).unwrap().key_metadata.valid_to,
        None,
        "the primary's material does not expire"
    );
    clock.advance(2 * HOUR);
    assert_eq!(state(&west, &key), KeyState::PendingImport);
    assert_eq!(state(&east, &key), KeyState::Enabled);
}

#[test]
fn deleting_a_replicas_material_leaves_only_the_replica_pending_import() {
    let (_p, east, west, _) = two_regions();
    let key = imported_multi_region(&east, &[7; 32]);
    import(&west, &key, &[7; 32]).unwrap();
    west.delete_imported_key_material(DeleteImportedKeyMaterialRequest {
        key_id: key.clone(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(state(&west, &key), KeyState::PendingImport);
    assert_eq!(state(&east, &key), KeyState::Enabled);
    let blob = try_encrypt(&east, &key).unwrap();
    assert_eq!(code(try_decrypt(&west, &blob)), "KMSInvalidStateException");
    import(&west, &key, &[7; 32]).unwrap();
    assert_eq!(try_decrypt(&west, &blob).unwrap(), b"hello");
}

#[test]
fn replicating_an_imported_key_checks_create_key_with_key_origin_external() {
    for (origin, allowed) in [("EXTERNAL", true), ("AWS_KMS", false)] {
        let (p, east, _west, _) = two_regions();
        let key = imported_multi_region_primary(&east, &[7; 32]);
        let u = p.iam().create_user("111122223333", "/", "u").unwrap();
        let policy = format!(
            r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"kms:ReplicateKey","Resource":"*"}},
            {{"Effect":"Allow","Action":"kms:CreateKey","Resource":"*",
              "Condition":{{"StringEquals":{{"kms:KeyOrigin":"{origin}"}}}}}}]}}"#
        );
        p.iam().put_identity_policy(&u, "p", &policy).unwrap();
        let got = east
            .as_caller(&u)
            .replicate_key(kms_keystore::ReplicateKeyRequest {
                key_id: key,
                replica_region: "eu-west-1".into(),
                ..Default::default()
            });
        assert_eq!(got.is_ok(), allowed, "{origin}: {got:?}");
    }
}
