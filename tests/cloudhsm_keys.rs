//! KMS keys in CloudHSM key stores through `Kms`: CreateKey, the
//! cryptographic operations against the cluster's material, key states
//! while the store is disconnected, GenerateRandom from the cluster, the
//! operations custom key store keys do not support, deletion of the
//! material, the custom key store request quota, and determinism.

mod cloudhsm_support;

use std::time::Duration;

use cloudhsm_support::{AZS, Env, KMSUSER, PASSWORD, assert_err, env, env_with};
use kms_keystore::cloudhsm::HsmState;
use kms_keystore::{
    CreateKeyRequest, DataKeyPairSpec, DataKeySpec, DecryptRequest, EnableKeyRotationRequest,
    EncryptRequest, EncryptionContext, ErrorCode, GenerateDataKeyPairRequest,
    GenerateDataKeyRequest, GenerateRandomRequest, KeySpec, KeyState, KeyUsage, Kms, KmsConfig,
    OriginType, Quotas, ReEncryptRequest,
};

// ----- CreateKey --------------------------------------------------------------

#[test]
fn create_key_in_a_cloudhsm_store_has_origin_store_and_cluster_ids() {
    let env = env();
    let store = env.connected_store();
    let meta = env.create_key(&store).unwrap();
    assert_eq!(meta.origin, OriginType::AwsCloudHsm);
    assert_eq!(meta.custom_key_store_id.as_ref().unwrap().as_str(), store);
    assert_eq!(meta.cloud_hsm_cluster_id.as_ref(), Some(&env.cluster));
    assert_eq!(meta.key_state, KeyState::Enabled);
    assert!(meta.enabled);
    assert_eq!(meta.key_spec, KeySpec::SymmetricDefault);
    assert!(!meta.multi_region);
    assert!(meta.xks_key_configuration.is_none());
    // The aws CLI's fields (seed 000), and nothing AWS omits for these keys.
    let json = serde_json::to_value(&meta).unwrap();
    for field in [
        "AWSAccountId",
        "Arn",
        "CreationDate",
        "Description",
        "Enabled",
        "MultiRegion",
        "KeyId",
        "KeyManager",
        "KeyState",
        "KeyUsage",
        "Origin",
        "CloudHsmClusterId",
        "CustomKeyStoreId",
        "KeySpec",
        "CustomerMasterKeySpec",
        "EncryptionAlgorithms",
    ] {
        assert!(json.get(field).is_some(), "{field} missing: {json}");
    }
    assert_eq!(json["Origin"], "AWS_CLOUDHSM");
    assert!(json.get("DeletionDate").is_none());
    assert!(json.get("XksKeyConfiguration").is_none());
}

#[test]
fn create_key_makes_a_cluster_key_labelled_with_the_key_arn() {
    let env = env();
    let store = env.connected_store();
    assert!(env.labels(&env.cluster).is_empty());
    let a = env.create_key(&store).unwrap();
    let b = env.create_key(&store).unwrap();
    let mut want = vec![a.arn, b.arn];
    want.sort();
    assert_eq!(env.labels(&env.cluster), want);
}

#[test]
fn create_key_fails_when_the_store_is_not_connected() {
    let env = env();
    let store = env.create_store();
    assert_err(
        env.create_key(&store),
        ErrorCode::CustomKeyStoreInvalidState,
    );
    env.kms
        .cloudhsm()
        .delete_user(&env.cluster, KMSUSER)
        .unwrap();
    env.assert_connect_fails_with(&store, kms_keystore::ConnectionErrorCode::UserNotFound);
    assert_err(
        env.create_key(&store),
        ErrorCode::CustomKeyStoreInvalidState,
    );
    assert_eq!(env.key_count(), 0);
    assert!(env.labels(&env.cluster).is_empty());
}

#[test]
fn create_key_fails_for_an_unknown_store() {
    let env = env();
    assert_err(
        env.create_key("cks-1234567890abcdef0"),
        ErrorCode::CustomKeyStoreNotFound,
    );
}

#[test]
fn create_key_fails_when_the_cluster_has_hsms_in_one_az() {
    let env = env();
    let store = env.connected_store();
    let hsm = env.kms.cloudhsm();
    let hsms = env.hsms(&env.cluster);
    hsm.create_hsm(&env.cluster, AZS[0]).unwrap();
    hsm.delete_hsm(&env.cluster, &hsms[1]).unwrap();
    let err = env.create_key(&store).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::CloudHsmClusterInvalidConfiguration);
    assert_eq!(env.key_count(), 0, "a failed CreateKey makes no key");
    assert!(env.labels(&env.cluster).is_empty());
}

#[test]
fn create_key_fails_when_the_cluster_has_one_active_hsm() {
    let env = env();
    let store = env.connected_store();
    let hsms = env.hsms(&env.cluster);
    env.kms
        .cloudhsm()
        .degrade_hsm(&env.cluster, &hsms[1])
        .unwrap();
    assert_err(
        env.create_key(&store),
        ErrorCode::CloudHsmClusterInvalidConfiguration,
    );
    // The store is still connected, and one HSM still serves existing keys.
    env.kms
        .cloudhsm()
        .set_hsm_state(&env.cluster, &hsms[1], HsmState::Active)
        .unwrap();
    env.create_key(&store).unwrap();
}

#[test]
fn create_key_with_origin_aws_cloudhsm_needs_a_custom_key_store_id() {
    let env = env();
    assert_err(
        env.kms.create_key(CreateKeyRequest {
            origin: Some(OriginType::AwsCloudHsm),
            ..Default::default()
        }),
        ErrorCode::Validation,
    );
}

#[test]
fn create_key_in_a_cloudhsm_store_is_symmetric_and_single_region_only() {
    let env = env();
    let store = env.connected_store();
    let base = CreateKeyRequest {
        origin: Some(OriginType::AwsCloudHsm),
        custom_key_store_id: Some(store),
        ..Default::default()
    };
    assert_err(
        env.kms.create_key(CreateKeyRequest {
            key_spec: Some(KeySpec::Rsa2048),
            key_usage: Some(KeyUsage::SignVerify),
            ..base.clone()
        }),
        ErrorCode::UnsupportedOperation,
    );
    assert_err(
        env.kms.create_key(CreateKeyRequest {
            key_spec: Some(KeySpec::Hmac256),
            key_usage: Some(KeyUsage::GenerateVerifyMac),
            ..base.clone()
        }),
        ErrorCode::UnsupportedOperation,
    );
    assert_err(
        env.kms.create_key(CreateKeyRequest {
            multi_region: Some(true),
            ..base.clone()
        }),
        ErrorCode::UnsupportedOperation,
    );
    assert_eq!(env.key_count(), 0);
    assert!(env.labels(&env.cluster).is_empty());
}

// ----- Cryptographic operations -------------------------------------------------

#[test]
fn encrypt_decrypt_and_data_keys_run_against_the_cluster_key() {
    let env = env();
    let (_, key) = env.store_and_key();
    let ctx: EncryptionContext = [("app".to_string(), "billing".to_string())].into();
    let enc = env
        .kms
        .encrypt(EncryptRequest {
            key_id: key.clone(),
            plaintext: "Hello, CloudHSM!".into(),
            encryption_context: ctx.clone(),
            ..Default::default()
        })
        .unwrap();
    let arn = env.kms.describe_key(&key).unwrap().key_metadata.arn;
    assert_eq!(enc.key_id, arn);
    let dec = env
        .kms
        .decrypt(DecryptRequest {
            ciphertext_blob: enc.ciphertext_blob.clone(),
            encryption_context: ctx.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(dec.plaintext.expose_secret(), b"Hello, CloudHSM!");
    assert_eq!(dec.key_id, arn);
    // Another context is an invalid ciphertext.
    assert_err(
        env.kms.decrypt(DecryptRequest {
            ciphertext_blob: enc.ciphertext_blob.clone(),
            ..Default::default()
        }),
        ErrorCode::InvalidCiphertext,
    );

    let dk = env
        .kms
        .generate_data_key(GenerateDataKeyRequest {
            key_id: key.clone(),
            key_spec: Some(DataKeySpec::Aes256),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(dk.plaintext.len(), 32);
    assert_eq!(
        env.decrypt(&dk.ciphertext_blob).unwrap().expose_secret(),
        dk.plaintext.expose_secret()
    );
    let dk = env
        .kms
        .generate_data_key_without_plaintext(GenerateDataKeyRequest {
            key_id: key.clone(),
            number_of_bytes: Some(64),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(env.decrypt(&dk.ciphertext_blob).unwrap().len(), 64);
}

#[test]
fn re_encrypt_moves_ciphertext_between_cloudhsm_and_aws_kms_keys() {
    let env = env();
    let (_, key) = env.store_and_key();
    let kms_key = env.create_kms_key();
    let blob = env.encrypt(&key).unwrap();
    let moved = env
        .kms
        .re_encrypt(ReEncryptRequest {
            ciphertext_blob: blob,
            destination_key_id: kms_key.clone(),
            ..Default::default()
        })
        .unwrap();
    let back = env
        .kms
        .re_encrypt(ReEncryptRequest {
            ciphertext_blob: moved.ciphertext_blob,
            destination_key_id: key.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        env.decrypt(&back.ciphertext_blob).unwrap().expose_secret(),
        b"secret data"
    );
}

#[test]
fn a_ciphertext_cannot_be_decrypted_once_the_cluster_lost_the_key_material() {
    let env = env();
    let (_, key) = env.store_and_key();
    let blob = env.encrypt(&key).unwrap();
    let arn = env.kms.describe_key(&key).unwrap().key_metadata.arn;
    env.kms
        .cloudhsm()
        .delete_key_material(&env.cluster, &arn)
        .unwrap();
    assert_err(env.decrypt(&blob), ErrorCode::KmsInvalidState);
    assert_err(env.encrypt(&key), ErrorCode::KmsInvalidState);
    // The key state does not change.
    assert_eq!(env.key_state(&key), KeyState::Enabled);
}

#[test]
fn crypto_fails_when_no_active_hsm_holds_the_key_material() {
    let env = env();
    let (_, key) = env.store_and_key();
    let arn = env.kms.describe_key(&key).unwrap().key_metadata.arn;
    let hsms = env.hsms(&env.cluster);
    let hsm = env.kms.cloudhsm();
    hsm.restore_hsm_without_key(&env.cluster, &hsms[0], &arn)
        .unwrap();
    env.encrypt(&key).unwrap(); // the other HSM still has it
    hsm.degrade_hsm(&env.cluster, &hsms[1]).unwrap();
    assert_err(env.encrypt(&key), ErrorCode::KmsInvalidState);
}

#[test]
fn crypto_fails_without_an_active_hsm() {
    let env = env();
    let (_, key) = env.store_and_key();
    let blob = env.encrypt(&key).unwrap();
    let hsms = env.hsms(&env.cluster);
    for h in &hsms {
        env.kms.cloudhsm().degrade_hsm(&env.cluster, h).unwrap();
    }
    assert_err(env.encrypt(&key), ErrorCode::KmsInvalidState);
    assert_err(env.decrypt(&blob), ErrorCode::KmsInvalidState);
    env.kms
        .cloudhsm()
        .set_hsm_state(&env.cluster, &hsms[0], HsmState::Active)
        .unwrap();
    env.decrypt(&blob).unwrap();
}

#[test]
fn crypto_fails_when_the_cluster_is_unreachable_or_failing() {
    let env = env();
    let (_, key) = env.store_and_key();
    env.kms
        .cloudhsm()
        .set_network_reachable(&env.cluster, false)
        .unwrap();
    let err = env.encrypt(&key).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::KmsInvalidState);
    assert!(err.message().contains("cannot communicate"), "{err}");
    env.kms
        .cloudhsm()
        .set_network_reachable(&env.cluster, true)
        .unwrap();
    env.kms
        .cloudhsm()
        .set_internal_error(&env.cluster, true)
        .unwrap();
    assert_err(env.encrypt(&key), ErrorCode::KmsInternal);
}

#[test]
fn crypto_fails_when_kmsuser_password_changes_behind_kms() {
    let env = env();
    let (store, key) = env.store_and_key();
    env.kms
        .cloudhsm()
        .change_password(&env.cluster, KMSUSER, "changedPswd")
        .unwrap();
    assert_err(env.encrypt(&key), ErrorCode::KmsInvalidState);
    // The documented fix: disconnect, tell KMS the password, reconnect.
    env.kms.disconnect_custom_key_store(&store).unwrap();
    env.update_password(&store, "changedPswd").unwrap();
    env.kms.connect_custom_key_store(&store).unwrap();
    env.encrypt(&key).unwrap();
}

#[test]
fn crypto_on_a_disabled_cloudhsm_key_is_disabled_exception() {
    let env = env();
    let (_, key) = env.store_and_key();
    env.kms.disable_key(&key).unwrap();
    assert_err(env.encrypt(&key), ErrorCode::Disabled);
}

#[test]
fn a_ciphertext_names_its_cloudhsm_key() {
    let env = env();
    let (store, a) = env.store_and_key();
    let b = env.create_key(&store).unwrap().key_id.to_string();
    let blob = env.encrypt(&a).unwrap();
    assert_err(
        env.kms.decrypt(DecryptRequest {
            ciphertext_blob: blob,
            key_id: Some(b),
            ..Default::default()
        }),
        ErrorCode::IncorrectKey,
    );
}

// ----- Key states while the store is disconnected -------------------------------

#[test]
fn keys_of_a_disconnected_store_read_unavailable_and_come_back_on_reconnect() {
    let env = env();
    let (store, key) = env.store_and_key();
    let blob = env.encrypt(&key).unwrap();
    env.kms.disconnect_custom_key_store(&store).unwrap();
    let meta = env.kms.describe_key(&key).unwrap().key_metadata;
    assert_eq!(meta.key_state, KeyState::Unavailable);
    assert!(!meta.enabled);
    assert_err(env.encrypt(&key), ErrorCode::KmsInvalidState);
    assert_err(env.decrypt(&blob), ErrorCode::KmsInvalidState);
    env.kms.connect_custom_key_store(&store).unwrap();
    assert_eq!(env.key_state(&key), KeyState::Enabled);
    env.decrypt(&blob).unwrap();
}

#[test]
fn disable_while_unavailable_takes_effect_on_reconnect() {
    let env = env();
    let (store, key) = env.store_and_key();
    env.kms.disconnect_custom_key_store(&store).unwrap();
    env.kms.disable_key(&key).unwrap();
    assert_eq!(env.key_state(&key), KeyState::Unavailable);
    env.kms.connect_custom_key_store(&store).unwrap();
    assert_eq!(env.key_state(&key), KeyState::Disabled);
}

#[test]
fn enable_while_unavailable_takes_effect_on_reconnect() {
    let env = env();
    let (store, key) = env.store_and_key();
    env.kms.disable_key(&key).unwrap();
    env.kms.disconnect_custom_key_store(&store).unwrap();
    assert_eq!(env.key_state(&key), KeyState::Unavailable);
    env.kms.enable_key(&key).unwrap();
    assert_eq!(env.key_state(&key), KeyState::Unavailable);
    env.kms.connect_custom_key_store(&store).unwrap();
    assert_eq!(env.key_state(&key), KeyState::Enabled);
}

#[test]
fn pending_deletion_stays_pending_deletion_while_disconnected() {
    let env = env();
    let (store, key) = env.store_and_key();
    env.schedule(&key, 7);
    env.kms.disconnect_custom_key_store(&store).unwrap();
    let meta = env.kms.describe_key(&key).unwrap().key_metadata;
    assert_eq!(meta.key_state, KeyState::PendingDeletion);
    assert!(meta.deletion_date.is_some());
    // Deletion can be cancelled at any time; the key is then Disabled,
    // read as Unavailable until the store reconnects.
    env.kms.cancel_key_deletion(&key).unwrap();
    assert_eq!(env.key_state(&key), KeyState::Unavailable);
    env.kms.connect_custom_key_store(&store).unwrap();
    assert_eq!(env.key_state(&key), KeyState::Disabled);
}

#[test]
fn schedule_key_deletion_works_on_an_unavailable_key() {
    let env = env();
    let (store, key) = env.store_and_key();
    env.kms.disconnect_custom_key_store(&store).unwrap();
    env.schedule(&key, 7);
    assert_eq!(env.key_state(&key), KeyState::PendingDeletion);
}

// ----- GenerateRandom -----------------------------------------------------------

#[test]
fn generate_random_with_a_cloudhsm_store_id_draws_from_the_cluster() {
    let env = env();
    let store = env.connected_store();
    let req = GenerateRandomRequest {
        number_of_bytes: Some(48),
        custom_key_store_id: Some(store.clone()),
    };
    let out = env.kms.generate_random(req.clone()).unwrap();
    assert_eq!(out.plaintext.len(), 48);
    // The bytes come from the cluster: an unreachable cluster gives none.
    env.kms
        .cloudhsm()
        .set_network_reachable(&env.cluster, false)
        .unwrap();
    assert_err(
        env.kms.generate_random(req.clone()),
        ErrorCode::KmsInvalidState,
    );
    // Without the store id the bytes come from KMS itself.
    env.kms
        .generate_random(GenerateRandomRequest {
            number_of_bytes: Some(48),
            custom_key_store_id: None,
        })
        .unwrap();
}

#[test]
fn generate_random_fails_for_a_disconnected_or_unknown_store() {
    let env = env();
    let store = env.create_store();
    assert_err(
        env.kms.generate_random(GenerateRandomRequest {
            number_of_bytes: Some(16),
            custom_key_store_id: Some(store),
        }),
        ErrorCode::CustomKeyStoreInvalidState,
    );
    assert_err(
        env.kms.generate_random(GenerateRandomRequest {
            number_of_bytes: Some(16),
            custom_key_store_id: Some("cks-1234567890abcdef0".into()),
        }),
        ErrorCode::CustomKeyStoreNotFound,
    );
}

// ----- Operations custom key store keys do not support --------------------------

#[test]
fn key_rotation_is_unsupported_for_cloudhsm_keys() {
    let env = env();
    let (_, key) = env.store_and_key();
    for err in [
        env.kms
            .enable_key_rotation(EnableKeyRotationRequest {
                key_id: key.clone(),
                rotation_period_in_days: None,
            })
            .unwrap_err(),
        env.kms.disable_key_rotation(&key).unwrap_err(),
        env.kms.get_key_rotation_status(&key).unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorCode::UnsupportedOperation);
        assert!(
            err.message()
                .contains("not supported for keys in custom key stores"),
            "{err}"
        );
    }
}

#[test]
fn key_rotation_works_for_aws_kms_keys_beside_cloudhsm_keys() {
    let env = env();
    let key = env.create_kms_key();
    env.kms
        .enable_key_rotation(EnableKeyRotationRequest {
            key_id: key.clone(),
            rotation_period_in_days: Some(365),
        })
        .unwrap();
    let status = env.kms.get_key_rotation_status(&key).unwrap();
    assert!(status.key_rotation_enabled);
    assert_eq!(status.rotation_period_in_days, Some(365));
    env.kms.disable_key_rotation(&key).unwrap();
    assert!(
        !env.kms
            .get_key_rotation_status(&key)
            .unwrap()
            .key_rotation_enabled
    );
}

#[test]
fn key_rotation_checks_the_request_the_key_and_its_state_first() {
    let env = env();
    let (store, key) = env.store_and_key();
    assert_err(
        env.kms.enable_key_rotation(EnableKeyRotationRequest {
            key_id: key.clone(),
            rotation_period_in_days: Some(89),
        }),
        ErrorCode::Validation,
    );
    let unknown = "1234abcd-12ab-34cd-56ef-1234567890ab";
    assert_err(env.kms.disable_key_rotation(unknown), ErrorCode::NotFound);
    assert_err(
        env.kms.get_key_rotation_status(unknown),
        ErrorCode::NotFound,
    );
    env.kms.disable_key(&key).unwrap();
    assert_err(env.kms.disable_key_rotation(&key), ErrorCode::Disabled);
    let other = env.create_key(&store).unwrap().key_id.to_string();
    env.schedule(&other, 7);
    assert_err(
        env.kms.enable_key_rotation(EnableKeyRotationRequest {
            key_id: other,
            rotation_period_in_days: None,
        }),
        ErrorCode::KmsInvalidState,
    );
}

#[test]
fn generate_data_key_pair_is_unsupported_for_cloudhsm_keys_and_needs_the_feature_for_aws_kms_keys()
{
    let env = env();
    let (store, key) = env.store_and_key();
    let req = |key_id: &str| GenerateDataKeyPairRequest {
        key_id: key_id.to_owned(),
        key_pair_spec: Some(DataKeyPairSpec::EccNistP256),
        ..Default::default()
    };
    let err = env.kms.generate_data_key_pair(req(&key)).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::UnsupportedOperation);
    assert!(err.message().contains("custom key stores"), "{err}");
    // An AWS_KMS key makes data key pairs with the feature `asymmetric`.
    let kms_key = env.create_kms_key();
    let made = env.kms.generate_data_key_pair(req(&kms_key));
    if cfg!(feature = "asymmetric") {
        assert!(made.is_ok(), "{made:?}");
    } else {
        let err = made.unwrap_err();
        assert_eq!(err.kind(), ErrorCode::UnsupportedOperation);
        assert!(err.message().contains("feature `asymmetric`"), "{err}");
    }
    // The usual checks come first.
    assert_err(
        env.kms.generate_data_key_pair(GenerateDataKeyPairRequest {
            key_pair_spec: None,
            ..req(&key)
        }),
        ErrorCode::Validation,
    );
    assert_err(
        env.kms
            .generate_data_key_pair(req("1234abcd-12ab-34cd-56ef-1234567890ab")),
        ErrorCode::NotFound,
    );
    env.kms.disconnect_custom_key_store(&store).unwrap();
    assert_err(
        env.kms.generate_data_key_pair(req(&key)),
        ErrorCode::KmsInvalidState,
    );
}

// ----- Deletion of the material ---------------------------------------------------

#[test]
fn the_material_leaves_the_cluster_when_the_deletion_window_ends() {
    let env = env();
    let (store, key) = env.store_and_key();
    let keep = env.create_key(&store).unwrap();
    let arn = env.kms.describe_key(&key).unwrap().key_metadata.arn;
    env.schedule(&key, 7);
    assert_err(env.encrypt(&key), ErrorCode::KmsInvalidState);
    env.advance(Duration::from_secs(7 * 86_400 - 1));
    assert_eq!(env.key_state(&key), KeyState::PendingDeletion);
    assert!(env.labels(&env.cluster).contains(&arn));
    env.advance(Duration::from_secs(1));
    assert_err(env.kms.describe_key(&key), ErrorCode::NotFound);
    assert_eq!(env.labels(&env.cluster), vec![keep.arn]);
}

#[test]
fn the_material_stays_in_the_cluster_when_the_store_is_disconnected_at_deletion() {
    let env = env();
    let (store, key) = env.store_and_key();
    let arn = env.kms.describe_key(&key).unwrap().key_metadata.arn;
    env.schedule(&key, 7);
    env.kms.disconnect_custom_key_store(&store).unwrap();
    env.advance(Duration::from_secs(7 * 86_400));
    assert_err(env.kms.describe_key(&key), ErrorCode::NotFound);
    // Best effort: KMS could not log in, so the key object remains for the
    // cluster's owner to delete.
    assert_eq!(env.labels(&env.cluster), vec![arn]);
}

// ----- The custom key store request quota -----------------------------------------

fn with_quota(rate: u32) -> Env {
    env_with(|c| {
        let mut q = Quotas::default();
        q.custom_key_store_requests_per_second = Some(rate);
        c.with_quotas(q)
    })
}

#[test]
fn keys_of_one_store_share_the_request_quota() {
    let env = with_quota(4);
    let (store, a) = env.store_and_key();
    let b = env.create_key(&store).unwrap().key_id.to_string();
    let blob = env.encrypt(&a).unwrap();
    env.encrypt(&b).unwrap();
    env.decrypt(&blob).unwrap();
    env.encrypt(&b).unwrap();
    let err = env.encrypt(&a).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::Throttling);
    assert!(err.message().contains("Reduce the frequency"), "{err}");
    assert_err(env.decrypt(&blob), ErrorCode::Throttling);
    // Management calls are not counted.
    env.kms.describe_key(&a).unwrap();
    env.create_key(&store).unwrap();
}

#[test]
fn the_store_quota_refills_as_the_clock_advances() {
    let env = with_quota(4);
    let (_, key) = env.store_and_key();
    for _ in 0..4 {
        env.encrypt(&key).unwrap();
    }
    assert_err(env.encrypt(&key), ErrorCode::Throttling);
    env.advance(Duration::from_millis(249));
    assert_err(env.encrypt(&key), ErrorCode::Throttling);
    env.advance(Duration::from_millis(1));
    env.encrypt(&key).unwrap(); // 250 ms = one request at 4/s
    assert_err(env.encrypt(&key), ErrorCode::Throttling);
    env.advance(Duration::from_secs(10));
    for _ in 0..4 {
        env.encrypt(&key).unwrap(); // never more than one second's burst
    }
    assert_err(env.encrypt(&key), ErrorCode::Throttling);
}

#[test]
fn other_stores_and_aws_kms_keys_are_not_limited_by_a_stores_quota() {
    let env = with_quota(2);
    let (_, key) = env.store_and_key();
    let (cluster2, ta2) = env.other_cluster();
    let store2 = env
        .kms
        .create_custom_key_store(cloudhsm_support::request_for(
            "Second", &cluster2, &ta2, PASSWORD,
        ))
        .unwrap()
        .custom_key_store_id
        .to_string();
    env.kms.connect_custom_key_store(&store2).unwrap();
    let key2 = env.create_key(&store2).unwrap().key_id.to_string();
    let kms_key = env.create_kms_key();
    env.encrypt(&key).unwrap();
    env.encrypt(&key).unwrap();
    assert_err(env.encrypt(&key), ErrorCode::Throttling);
    env.encrypt(&key2).unwrap();
    env.encrypt(&key2).unwrap();
    for _ in 0..10 {
        env.encrypt(&kms_key).unwrap();
    }
}

// ----- Determinism ----------------------------------------------------------------

#[test]
fn seeded_runs_give_the_same_clusters_keys_and_ciphertexts() {
    let run = || {
        let clock = kms_keystore::ManualClock::default();
        let kms = Kms::new(KmsConfig::default().with_clock(clock).with_seed(9));
        let (cluster, ta) = kms
            .cloudhsm()
            .provision_ready_cluster(&AZS, PASSWORD)
            .unwrap();
        let store = kms
            .create_custom_key_store(cloudhsm_support::request_for("S", &cluster, &ta, PASSWORD))
            .unwrap()
            .custom_key_store_id;
        kms.connect_custom_key_store(store.as_str()).unwrap();
        let key = kms
            .create_key(CreateKeyRequest {
                origin: Some(OriginType::AwsCloudHsm),
                custom_key_store_id: Some(store.to_string()),
                ..Default::default()
            })
            .unwrap()
            .key_metadata;
        let blob = kms
            .encrypt(EncryptRequest {
                key_id: key.key_id.to_string(),
                plaintext: "x".into(),
                ..Default::default()
            })
            .unwrap()
            .ciphertext_blob;
        (
            serde_json::to_string(&kms.cloudhsm().describe_clusters(None)).unwrap(),
            store,
            key.key_id,
            blob,
        )
    };
    assert_eq!(run(), run());
}
