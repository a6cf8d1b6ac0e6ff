//! Imported key material, durable: a reopened store keeps every material
//! (sealed, never in the file in clear), its id, its state (current, not
//! current, pending rotation; imported or not), its expiration and the
//! expiry deadline; a deleted material stays deleted; import tokens do not
//! survive a restart. Multi-Region keys too: a replica's import state,
//! material pending multi-Region import and rotation, the rotation that
//! reached the replica, and imported multi-Region HMAC and ECC replicas.
#![cfg(all(feature = "durable", feature = "asymmetric"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod durable;
mod import_support;

use std::time::Duration;

use durable::{decrypt, encrypt, open, temp_dir};
use import_support::{external_key, external_multi_region_key, import, import_req, params, wrap};
use kms_keystore::{
    AlgorithmSpec, Clock, DeleteImportedKeyMaterialRequest, ExpirationModelType,
    IncludeKeyMaterial, KeyState, Kms, ListKeyRotationsRequest, ManualClock,
};

const HOUR: Duration = Duration::from_secs(3600);

fn state(kms: &Kms, key: &str) -> KeyState {
    kms.describe_key(key).unwrap().key_metadata.key_state
}

/// 32 bytes no file would hold by chance.
fn material() -> [u8; 32] {
    std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11))
}

#[test]
fn a_reopened_store_keeps_the_imported_material_its_expiry_and_the_deadline() {
    let path = temp_dir("imported").join("kms.redb");
    let clock = ManualClock::default();
    let valid_to = clock.now().saturating_add(2 * HOUR);
    let (key, blob, before) = {
        let kms = open(&path, &clock);
        let key = external_key(&kms);
        let p = params(&kms, &key, AlgorithmSpec::RsaesOaepSha256);
        let mut req = import_req(
            &key,
            &p,
            wrap(&p.public_key, AlgorithmSpec::RsaesOaepSha256, &material()),
        );
        req.expiration_model = Some(ExpirationModelType::KeyMaterialExpires);
        req.valid_to = Some(valid_to);
        req.key_material_description = Some("from hsm-01".into());
        kms.import_key_material(req).unwrap();
        let blob = encrypt(&kms, &key, b"imported");
        let before = kms.describe_key(&key).unwrap().key_metadata;
        (key, blob, before)
    };
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        !bytes.windows(32).any(|w| w == material()),
        "the imported material is in the file in clear"
    );
    let kms = open(&path, &clock);
    let after = kms.describe_key(&key).unwrap().key_metadata;
    assert_eq!(after, before);
    assert_eq!(after.valid_to, Some(valid_to));
    assert_eq!(decrypt(&kms, &blob), b"imported");
    let listed = kms
        .list_key_rotations(ListKeyRotationsRequest {
            key_id: key.clone(),
            include_key_material: Some(IncludeKeyMaterial::AllKeyMaterial),
            ..Default::default()
        })
        .unwrap()
        .rotations;
    assert_eq!(
        listed[0].key_material_description.as_deref(),
        Some("from hsm-01")
    );
    assert_eq!(listed[0].valid_to, Some(valid_to));
    // The expiry deadline came back with the key.
    clock.advance(2 * HOUR);
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    drop(kms);
    let kms = open(&path, &clock);
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(
        kms.describe_key(&key)
            .unwrap()
            .key_metadata
            .current_key_material_id,
        None
    );
}

#[test]
fn deleted_material_stays_deleted_and_only_the_same_material_comes_back() {
    let path = temp_dir("imported-delete").join("kms.redb");
    let clock = ManualClock::default();
    let (key, id) = {
        let kms = open(&path, &clock);
        let key = external_key(&kms);
        let id = import(&kms, &key, &material()).unwrap();
        kms.delete_imported_key_material(DeleteImportedKeyMaterialRequest {
            key_id: key.clone(),
            key_material_id: None,
        })
        .unwrap();
        (key, id)
    };
    let kms = open(&path, &clock);
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    let err = import(&kms, &key, &[1; 32]).unwrap_err();
    assert_eq!(err.code(), "IncorrectKeyMaterialException");
    assert_eq!(import(&kms, &key, &material()).unwrap(), id);
    assert_eq!(state(&kms, &key), KeyState::Enabled);
}

#[test]
fn an_import_token_does_not_survive_a_restart() {
    let path = temp_dir("imported-token").join("kms.redb");
    let clock = ManualClock::default();
    let (key, p) = {
        let kms = open(&path, &clock);
        let key = external_key(&kms);
        let p = params(&kms, &key, AlgorithmSpec::RsaesOaepSha1);
        (key, p)
    };
    let kms = open(&path, &clock);
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    let wrapped = wrap(&p.public_key, AlgorithmSpec::RsaesOaepSha1, &material());
    let err = kms
        .import_key_material(import_req(&key, &p, wrapped))
        .unwrap_err();
    assert_eq!(err.code(), "InvalidImportTokenException");
}

fn listed(kms: &Kms, key: &str) -> Vec<kms_keystore::RotationsListEntry> {
    import_support::rotations(kms, key, true)
}

/// 32 other bytes no file would hold by chance.
fn second_material() -> [u8; 32] {
    std::array::from_fn(|i| (i as u8).wrapping_mul(53).wrapping_add(29))
}

#[test]
fn a_reopened_store_keeps_every_imported_material_its_state_and_each_deadline() {
    let path = temp_dir("imported-rotation").join("kms.redb");
    let clock = ManualClock::default();
    let (key, under_a, under_b, a, before) = {
        let kms = open(&path, &clock);
        let key = external_key(&kms);
        let a = import(&kms, &key, &material()).unwrap();
        let under_a = encrypt(&kms, &key, b"first");
        import_support::import_new(&kms, &key, &second_material()).unwrap();
        kms.rotate_key_on_demand(&key).unwrap();
        let under_b = encrypt(&kms, &key, b"second");
        // A third, pending rotation, expiring in an hour.
        let p = params(&kms, &key, AlgorithmSpec::RsaesOaepSha256);
        let mut req = import_req(
            &key,
            &p,
            wrap(&p.public_key, AlgorithmSpec::RsaesOaepSha256, &[7; 32]),
        );
        req.import_type = Some(kms_keystore::ImportType::NewKeyMaterial);
        req.expiration_model = Some(ExpirationModelType::KeyMaterialExpires);
        req.valid_to = Some(clock.now().saturating_add(HOUR));
        kms.import_key_material(req).unwrap();
        // The first material deleted: the key is pending import.
        kms.delete_imported_key_material(DeleteImportedKeyMaterialRequest {
            key_id: key.clone(),
            key_material_id: Some(a.clone()),
        })
        .unwrap();
        assert_eq!(state(&kms, &key), KeyState::PendingImport);
        let before = listed(&kms, &key);
        (key, under_a, under_b, a, before)
    };
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        !bytes.windows(32).any(|w| w == second_material()),
        "a rotated-to imported material is in the file in clear"
    );
    let kms = open(&path, &clock);
    assert_eq!(listed(&kms, &key), before);
    assert_eq!(
        before
            .iter()
            .map(|e| (e.key_material_state.as_str(), e.import_state.as_deref()))
            .collect::<Vec<_>>(),
        [
            ("NON_CURRENT", Some("PENDING_IMPORT")),
            ("CURRENT", Some("IMPORTED")),
            ("PENDING_ROTATION", Some("IMPORTED")),
        ]
    );
    assert!(before[1].rotation_date.is_some());
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(import(&kms, &key, &material()).unwrap(), a);
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    assert_eq!(decrypt(&kms, &under_a), b"first");
    assert_eq!(decrypt(&kms, &under_b), b"second");
    // The pending material's deadline came back with the key.
    clock.advance(HOUR);
    assert_eq!(listed(&kms, &key).len(), 2);
    drop(kms);
    let kms = open(&path, &clock);
    assert_eq!(listed(&kms, &key).len(), 2);
    assert_eq!(state(&kms, &key), KeyState::Enabled);
}

#[test]
fn a_reopened_store_keeps_an_imported_hmac_key_sealed_and_macing() {
    let path = temp_dir("imported-hmac").join("kms.redb");
    let clock = ManualClock::default();
    // 64 bytes no file would hold by chance.
    let secret: Vec<u8> = (0..64u8)
        .map(|i| i.wrapping_mul(91).wrapping_add(3))
        .collect();
    let mac_request = |key: &str| kms_keystore::GenerateMacRequest {
        key_id: key.into(),
        message: b"message".to_vec().into(),
        mac_algorithm: Some(kms_keystore::MacAlgorithmSpec::HmacSha512),
        ..Default::default()
    };
    let (key, mac) = {
        let kms = open(&path, &clock);
        let key = kms
            .create_key(kms_keystore::CreateKeyRequest {
                origin: Some(kms_keystore::OriginType::External),
                key_spec: Some(kms_keystore::KeySpec::Hmac512),
                key_usage: Some(kms_keystore::KeyUsage::GenerateVerifyMac),
                ..Default::default()
            })
            .unwrap()
            .key_metadata
            .key_id
            .to_string();
        import(&kms, &key, &secret).unwrap();
        let mac = kms.generate_mac(mac_request(&key)).unwrap().mac;
        (key, mac)
    };
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        !bytes.windows(64).any(|w| w == secret),
        "the imported HMAC key is in the file in clear"
    );
    let kms = open(&path, &clock);
    assert_eq!(state(&kms, &key), KeyState::Enabled);
    assert_eq!(kms.generate_mac(mac_request(&key)).unwrap().mac, mac);
    // Only the same material comes back after a deletion.
    kms.delete_imported_key_material(DeleteImportedKeyMaterialRequest {
        key_id: key.clone(),
        key_material_id: None,
    })
    .unwrap();
    drop(kms);
    let kms = open(&path, &clock);
    assert_eq!(state(&kms, &key), KeyState::PendingImport);
    assert_eq!(
        import(&kms, &key, &[1; 64]).unwrap_err().code(),
        "IncorrectKeyMaterialException"
    );
    import(&kms, &key, &secret).unwrap();
    assert_eq!(kms.generate_mac(mac_request(&key)).unwrap().mac, mac);
}

/// us-east-1 and eu-west-1 of one account, each durable in `dir`.
fn open_regions(dir: &std::path::Path, clock: &ManualClock) -> (kms_keystore::Partition, Kms, Kms) {
    let partition = kms_keystore::Partition::new(kms_keystore::AwsPartition::Aws);
    let add = |region: &str| {
        partition
            .add(
                kms_keystore::KmsConfig::new(durable::ACCOUNT, region)
                    .unwrap()
                    .with_clock(clock.clone())
                    .with_durable_storage(dir.join(format!("{region}.redb")), durable::root()),
            )
            .unwrap()
    };
    let east = add("us-east-1");
    let west = add("eu-west-1");
    (partition, east, west)
}

/// A multi-Region key with `material()` imported into its primary key in
/// `east`, replicated into eu-west-1 (pending import there); its key id.
fn replicated(east: &Kms) -> String {
    let key = external_multi_region_key(east);
    import(east, &key, &material()).unwrap();
    replicate_west(east, &key);
    key
}

/// ReplicateKey of `key` from `east` into eu-west-1.
fn replicate_west(east: &Kms, key: &str) {
    east.replicate_key(kms_keystore::ReplicateKeyRequest {
        key_id: key.into(),
        replica_region: "eu-west-1".into(),
        ..Default::default()
    })
    .unwrap();
}

#[test]
fn a_reopened_store_keeps_a_replicas_import_state() {
    let dir = temp_dir("imported-multi-region");
    let clock = ManualClock::default();
    let (key, blob) = {
        let (_p, east, _west) = open_regions(&dir, &clock);
        let key = replicated(&east);
        let blob = encrypt(&east, &key, b"crosses");
        (key, blob)
    };
    // Reopened: the replica is still pending import, and still takes only
    // the primary's material.
    {
        let (_p, _east, west) = open_regions(&dir, &clock);
        let md = west.describe_key(&key).unwrap().key_metadata;
        assert_eq!(md.origin, kms_keystore::OriginType::External);
        assert_eq!(md.key_state, KeyState::PendingImport);
        assert_eq!(
            import(&west, &key, &second_material()).unwrap_err().code(),
            "IncorrectKeyMaterialException"
        );
        import(&west, &key, &material()).unwrap();
        assert_eq!(decrypt(&west, &blob), b"crosses");
    }
    // Reopened again: the replica keeps its imported material.
    let (_p, _east, west) = open_regions(&dir, &clock);
    assert_eq!(state(&west, &key), KeyState::Enabled);
    assert_eq!(decrypt(&west, &blob), b"crosses");
}

#[test]
fn a_reopened_store_keeps_multi_region_material_pending_import_and_its_rotation() {
    let dir = temp_dir("imported-multi-region-rotation");
    let clock = ManualClock::default();
    let (key, second, before) = {
        let (_p, east, west) = open_regions(&dir, &clock);
        let key = replicated(&east);
        import(&west, &key, &material()).unwrap();
        let second = import_support::import_new(&east, &key, &second_material()).unwrap();
        let before = (
            import_support::materials(&east, &key),
            import_support::materials(&west, &key),
        );
        assert_eq!(
            before.1[1],
            (
                second.clone(),
                "PENDING_MULTI_REGION_IMPORT_AND_ROTATION".into(),
                "PENDING_IMPORT".into()
            )
        );
        (key, second, before)
    };
    // Reopened: both Regions list the pending material as before; the
    // replica imports it, and the primary key rotates both.
    let blob = {
        let (_p, east, west) = open_regions(&dir, &clock);
        assert_eq!(
            (
                import_support::materials(&east, &key),
                import_support::materials(&west, &key)
            ),
            before
        );
        assert_eq!(
            east.rotate_key_on_demand(&key).unwrap_err().code(),
            "KMSInvalidStateException"
        );
        import(&west, &key, &second_material()).unwrap();
        east.rotate_key_on_demand(&key).unwrap();
        encrypt(&west, &key, b"rotated")
    };
    let bytes = std::fs::read(dir.join("eu-west-1.redb")).unwrap();
    assert!(
        !bytes.windows(32).any(|w| w == second_material()),
        "the replica's imported material is in the file in clear"
    );
    // Reopened again: the rotation reached the replica and stays.
    let (_p, east, west) = open_regions(&dir, &clock);
    for kms in [&east, &west] {
        assert_eq!(
            kms.describe_key(&key)
                .unwrap()
                .key_metadata
                .current_key_material_id,
            Some(second.clone())
        );
        assert_eq!(decrypt(kms, &blob), b"rotated");
    }
    assert_eq!(
        import_support::materials(&west, &key)
            .into_iter()
            .map(|(_, s, _)| s)
            .collect::<Vec<_>>(),
        ["NON_CURRENT", "CURRENT"]
    );
}

#[test]
fn a_reopened_store_keeps_an_imported_multi_region_hmac_replica() {
    let dir = temp_dir("imported-multi-region-hmac");
    let clock = ManualClock::default();
    let secret: Vec<u8> = (0..48u8)
        .map(|i| i.wrapping_mul(67).wrapping_add(13))
        .collect();
    let mac = |kms: &Kms, key: &str| {
        let req = kms_keystore::GenerateMacRequest {
            key_id: key.into(),
            message: b"message".to_vec().into(),
            mac_algorithm: Some(kms_keystore::MacAlgorithmSpec::HmacSha384),
            ..Default::default()
        };
        kms.generate_mac(req).unwrap().mac
    };
    let (key, first_mac) = {
        let (_p, east, west) = open_regions(&dir, &clock);
        let key = import_support::external_hmac_key(&east, kms_keystore::KeySpec::Hmac384, true);
        import(&east, &key, &secret).unwrap();
        replicate_west(&east, &key);
        assert_eq!(state(&west, &key), KeyState::PendingImport);
        let first_mac = mac(&east, &key);
        (key, first_mac)
    };
    {
        let (_p, _east, west) = open_regions(&dir, &clock);
        assert_eq!(state(&west, &key), KeyState::PendingImport);
        assert_eq!(
            import(&west, &key, &[2; 48]).unwrap_err().code(),
            "IncorrectKeyMaterialException"
        );
        import(&west, &key, &secret).unwrap();
    }
    let bytes = std::fs::read(dir.join("eu-west-1.redb")).unwrap();
    assert!(
        !bytes.windows(48).any(|w| w == secret),
        "the replica's imported HMAC key is in the file in clear"
    );
    let (_p, _east, west) = open_regions(&dir, &clock);
    assert_eq!(state(&west, &key), KeyState::Enabled);
    assert_eq!(mac(&west, &key), first_mac);
}

#[test]
fn a_reopened_store_keeps_an_imported_multi_region_ecc_replica_sealed() {
    use p256::elliptic_curve::Generate as _;
    use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};

    let dir = temp_dir("imported-multi-region-ecc");
    let clock = ManualClock::default();
    let outside = p256::SecretKey::generate_from_rng(&mut import_support::TestRng(200));
    let pkcs8 = outside.to_pkcs8_der().unwrap().as_bytes().to_vec();
    let spki = outside.public_key().to_public_key_der().unwrap().to_vec();
    let alg = kms_keystore::SigningAlgorithmSpec::EcdsaSha256;
    let sign = |kms: &Kms, key: &str, message: &[u8]| {
        kms.sign(kms_keystore::SignRequest {
            key_id: key.into(),
            message: message.to_vec().into(),
            message_type: Some(kms_keystore::MessageType::Raw),
            signing_algorithm: Some(alg),
            ..Default::default()
        })
        .map(|r| r.signature)
    };
    let public_key = |kms: &Kms, key: &str| {
        kms.get_public_key(kms_keystore::GetPublicKeyRequest {
            key_id: key.into(),
            ..Default::default()
        })
        .map(|r| r.public_key)
    };
    let key = {
        let (_p, east, west) = open_regions(&dir, &clock);
        let key = east
            .create_key(kms_keystore::CreateKeyRequest {
                origin: Some(kms_keystore::OriginType::External),
                key_spec: Some(kms_keystore::KeySpec::EccNistP256),
                key_usage: Some(kms_keystore::KeyUsage::SignVerify),
                multi_region: Some(true),
                ..Default::default()
            })
            .unwrap()
            .key_metadata
            .key_id
            .to_string();
        import(&east, &key, &pkcs8).unwrap();
        replicate_west(&east, &key);
        assert_eq!(state(&west, &key), KeyState::PendingImport);
        key
    };
    // Reopened: the replica is still pending import, without a public key,
    // and takes only the primary key's private key.
    {
        let (_p, _east, west) = open_regions(&dir, &clock);
        assert_eq!(state(&west, &key), KeyState::PendingImport);
        assert_eq!(
            public_key(&west, &key).unwrap_err().code(),
            "KMSInvalidStateException"
        );
        let other = p256::SecretKey::generate_from_rng(&mut import_support::TestRng(201));
        let other = other.to_pkcs8_der().unwrap().as_bytes().to_vec();
        assert_eq!(
            import(&west, &key, &other).unwrap_err().code(),
            "IncorrectKeyMaterialException"
        );
        import(&west, &key, &pkcs8).unwrap();
    }
    let bytes = std::fs::read(dir.join("eu-west-1.redb")).unwrap();
    let scalar = outside.to_bytes();
    assert!(
        !bytes.windows(scalar.len()).any(|w| w == scalar.as_slice()),
        "the replica's imported private key is in the file in clear"
    );
    // Reopened again: the replica keeps the imported pair.
    let (_p, east, west) = open_regions(&dir, &clock);
    assert_eq!(state(&west, &key), KeyState::Enabled);
    assert_eq!(public_key(&west, &key).unwrap(), spki);
    assert_eq!(public_key(&east, &key).unwrap(), spki);
    let signature = sign(&west, &key, b"after a restart").unwrap();
    let verified = east
        .verify(kms_keystore::VerifyRequest {
            key_id: key.clone(),
            message: b"after a restart".to_vec().into(),
            message_type: Some(kms_keystore::MessageType::Raw),
            signature,
            signing_algorithm: Some(alg),
            ..Default::default()
        })
        .unwrap();
    assert!(verified.signature_valid);
}
