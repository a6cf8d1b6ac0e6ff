//! Key rotation of AWS_KMS keys: the rotation period's range, the status
//! fields, automatic rotation on the clock, on-demand rotation and its
//! limit, ListKeyRotations' paging, old ciphertexts after rotation,
//! ReEncrypt to the current version, the refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{code, ctx, decrypt, encrypt, kms, new_key};
use kms_keystore::Clock;
use kms_keystore::{
    DecryptRequest, EnableKeyRotationRequest, IncludeKeyMaterial, Kms, ListKeyRotationsRequest,
    MAX_ON_DEMAND_ROTATIONS, ReEncryptRequest, ScheduleKeyDeletionRequest,
};

const DAY: Duration = Duration::from_secs(86_400);

fn enable(kms: &Kms, key: &str, days: Option<u32>) -> kms_keystore::Result<()> {
    kms.enable_key_rotation(EnableKeyRotationRequest {
        key_id: key.into(),
        rotation_period_in_days: days,
    })
}

fn rotations(kms: &Kms, key: &str) -> Vec<(String, String)> {
    kms.list_key_rotations(ListKeyRotationsRequest {
        key_id: key.into(),
        limit: Some(1000),
        ..Default::default()
    })
    .unwrap()
    .rotations
    .into_iter()
    .map(|r| (r.rotation_type.unwrap(), r.key_material_id))
    .collect()
}

fn current_material(kms: &Kms, key: &str) -> String {
    kms.describe_key(key)
        .unwrap()
        .key_metadata
        .current_key_material_id
        .unwrap()
}

#[test]
fn the_rotation_period_must_be_between_90_and_2560_days() {
    let (kms, _) = kms();
    let key = new_key(&kms);
    for bad in [0, 89, 2561] {
        let err = enable(&kms, &key, Some(bad)).unwrap_err();
        assert_eq!(err.code(), "ValidationException", "{bad}");
        assert!(err.message().contains("rotationPeriodInDays"), "{err}");
    }
    let err = enable(&kms, &key, Some(89)).unwrap_err();
    assert!(
        err.message().contains("greater than or equal to 90"),
        "{err}"
    );
    let err = enable(&kms, &key, Some(2561)).unwrap_err();
    assert!(
        err.message().contains("less than or equal to 2560"),
        "{err}"
    );
    for good in [90, 2560] {
        enable(&kms, &key, Some(good)).unwrap();
        let s = kms.get_key_rotation_status(&key).unwrap();
        assert_eq!(s.rotation_period_in_days, Some(good));
    }
}

#[test]
fn status_shows_the_period_and_next_date_only_while_rotation_is_on() {
    let (kms, clock) = kms();
    let key = new_key(&kms);
    let off = kms.get_key_rotation_status(&key).unwrap();
    assert!(!off.key_rotation_enabled);
    assert_eq!(
        (off.rotation_period_in_days, off.next_rotation_date),
        (None, None)
    );
    let now = clock.now();
    enable(&kms, &key, None).unwrap();
    let on = kms.get_key_rotation_status(&key).unwrap();
    assert!(on.key_rotation_enabled);
    assert_eq!(on.rotation_period_in_days, Some(365));
    assert_eq!(on.next_rotation_date, Some(now.saturating_add(DAY * 365)));
    assert_eq!(on.on_demand_rotation_start_date, None);
    assert!(on.key_id.ends_with(&key));
    kms.disable_key_rotation(&key).unwrap();
    let off = kms.get_key_rotation_status(&key).unwrap();
    assert!(!off.key_rotation_enabled);
    assert_eq!(off.next_rotation_date, None);
}

#[test]
fn the_clock_past_the_next_rotation_date_rotates_the_key_and_arms_the_next_period() {
    let (kms, clock) = kms();
    let key = new_key(&kms);
    let c = ctx(&[("a", "b")]);
    let before = encrypt(&kms, &key, b"old", &c);
    let original = current_material(&kms, &key);
    enable(&kms, &key, Some(90)).unwrap();
    let first = kms
        .get_key_rotation_status(&key)
        .unwrap()
        .next_rotation_date
        .unwrap();
    clock.advance(DAY * 89);
    assert!(rotations(&kms, &key).is_empty());
    clock.advance(DAY);
    // Any call after the date runs the rotation.
    let listed = rotations(&kms, &key);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, "AUTOMATIC");
    assert_ne!(listed[0].1, original);
    assert_eq!(current_material(&kms, &key), listed[0].1);
    let s = kms.get_key_rotation_status(&key).unwrap();
    assert_eq!(s.next_rotation_date, Some(first.saturating_add(DAY * 90)));
    let entry = kms
        .list_key_rotations(ListKeyRotationsRequest {
            key_id: key.clone(),
            ..Default::default()
        })
        .unwrap()
        .rotations
        .remove(0);
    assert_eq!(entry.rotation_date, Some(first));
    // Two more periods at once: caught up, one version each.
    clock.advance(DAY * 180);
    assert_eq!(rotations(&kms, &key).len(), 3);
    // Every ciphertext still decrypts, with the version that made it.
    let r = kms
        .decrypt(DecryptRequest {
            ciphertext_blob: before,
            encryption_context: c.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.plaintext.expose_secret(), b"old");
    assert_eq!(r.key_material_id.as_deref(), Some(original.as_str()));
    let after = encrypt(&kms, &key, b"new", &c);
    let r = kms
        .decrypt(DecryptRequest {
            ciphertext_blob: after,
            encryption_context: c,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.key_material_id, Some(current_material(&kms, &key)));
}

#[test]
fn a_disabled_key_does_not_rotate_until_enabled_again() {
    let (kms, clock) = kms();
    let key = new_key(&kms);
    enable(&kms, &key, Some(90)).unwrap();
    kms.disable_key(&key).unwrap();
    clock.advance(DAY * 91);
    assert!(rotations(&kms, &key).is_empty());
    kms.enable_key(&key).unwrap();
    assert_eq!(rotations(&kms, &key).len(), 1);
}

#[test]
fn disabling_rotation_stops_the_schedule() {
    let (kms, clock) = kms();
    let key = new_key(&kms);
    enable(&kms, &key, Some(90)).unwrap();
    kms.disable_key_rotation(&key).unwrap();
    clock.advance(DAY * 400);
    assert!(rotations(&kms, &key).is_empty());
}

#[test]
fn on_demand_rotation_adds_a_current_version_up_to_the_lifetime_limit() {
    let (kms, _) = kms();
    let key = new_key(&kms);
    let c = ctx(&[]);
    let mut blobs = vec![(encrypt(&kms, &key, b"v0", &c), b"v0".to_vec())];
    for i in 1..=MAX_ON_DEMAND_ROTATIONS {
        let r = kms.rotate_key_on_demand(&key).unwrap();
        assert_eq!(r.key_id, key);
        let p = format!("v{i}").into_bytes();
        blobs.push((encrypt(&kms, &key, &p, &c), p));
    }
    assert_eq!(MAX_ON_DEMAND_ROTATIONS, 25);
    let err = kms.rotate_key_on_demand(&key).unwrap_err();
    assert_eq!(err.code(), "LimitExceededException");
    let listed = rotations(&kms, &key);
    assert_eq!(listed.len(), 25);
    assert!(listed.iter().all(|(t, _)| t == "ON_DEMAND"));
    for (blob, p) in blobs {
        assert_eq!(decrypt(&kms, &blob, &c).unwrap(), p);
    }
    // On-demand rotation does not touch the automatic schedule.
    assert!(
        !kms.get_key_rotation_status(&key)
            .unwrap()
            .key_rotation_enabled
    );
}

#[test]
fn list_key_rotations_pages_with_limit_and_marker() {
    let (kms, _) = kms();
    let key = new_key(&kms);
    for _ in 0..5 {
        kms.rotate_key_on_demand(&key).unwrap();
    }
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_key_rotations(ListKeyRotationsRequest {
                key_id: key.clone(),
                limit: Some(2),
                marker: marker.take(),
                ..Default::default()
            })
            .unwrap();
        assert!(page.rotations.len() <= 2);
        seen.extend(page.rotations.iter().map(|r| r.key_material_id.clone()));
        if !page.truncated {
            assert!(page.next_marker.is_none());
            break;
        }
        marker = page.next_marker;
    }
    let all: Vec<String> = rotations(&kms, &key).into_iter().map(|r| r.1).collect();
    assert_eq!(seen, all);
    assert_eq!(all.len(), 5);
    let states: Vec<String> = kms
        .list_key_rotations(ListKeyRotationsRequest {
            key_id: key.clone(),
            include_key_material: Some(IncludeKeyMaterial::AllKeyMaterial),
            ..Default::default()
        })
        .unwrap()
        .rotations
        .into_iter()
        .map(|r| r.key_material_state)
        .collect();
    assert_eq!(states.len(), 6);
    assert_eq!(states.last().unwrap(), "CURRENT");
    assert!(states[..5].iter().all(|s| s == "NON_CURRENT"));
    let err = kms
        .list_key_rotations(ListKeyRotationsRequest {
            key_id: key,
            limit: Some(0),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "ValidationException");
}

#[test]
fn re_encrypt_moves_a_ciphertext_to_the_current_version() {
    let (kms, _) = kms();
    let key = new_key(&kms);
    let c = ctx(&[("k", "v")]);
    let old = encrypt(&kms, &key, b"data", &c);
    let original = current_material(&kms, &key);
    kms.rotate_key_on_demand(&key).unwrap();
    let current = current_material(&kms, &key);
    assert_ne!(original, current);
    let r = kms
        .re_encrypt(ReEncryptRequest {
            ciphertext_blob: old,
            source_encryption_context: c.clone(),
            destination_key_id: key.clone(),
            destination_encryption_context: c.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.source_key_material_id.as_deref(), Some(original.as_str()));
    assert_eq!(
        r.destination_key_material_id.as_deref(),
        Some(current.as_str())
    );
    let d = kms
        .decrypt(DecryptRequest {
            ciphertext_blob: r.ciphertext_blob,
            encryption_context: c,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(d.key_material_id.as_deref(), Some(current.as_str()));
    assert_eq!(d.plaintext.expose_secret(), b"data");
}

#[test]
fn a_blob_naming_a_version_the_key_does_not_have_is_invalid() {
    let (kms, _) = kms();
    let key = new_key(&kms);
    let c = ctx(&[]);
    let mut blob = encrypt(&kms, &key, b"x", &c);
    assert_eq!(blob[0], 2, "AWS_KMS keys write format 2");
    blob[21] = 1; // version 1, which the key does not have
    assert_eq!(code(decrypt(&kms, &blob, &c)), "InvalidCiphertextException");
}

#[test]
fn disabled_and_pending_deletion_keys_are_refused_as_aws_refuses() {
    let (kms, _) = kms();
    let key = new_key(&kms);
    kms.disable_key(&key).unwrap();
    assert_eq!(code(kms.rotate_key_on_demand(&key)), "DisabledException");
    assert_eq!(code(enable(&kms, &key, None)), "DisabledException");
    assert_eq!(code(kms.disable_key_rotation(&key)), "DisabledException");
    // Reading works in any state.
    kms.get_key_rotation_status(&key).unwrap();
    let doomed = new_key(&kms);
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: doomed.clone(),
        pending_window_in_days: Some(7),
    })
    .unwrap();
    assert_eq!(
        code(kms.rotate_key_on_demand(&doomed)),
        "KMSInvalidStateException"
    );
    assert_eq!(
        code(enable(&kms, &doomed, None)),
        "KMSInvalidStateException"
    );
    let unknown = "1234abcd-12ab-34cd-56ef-1234567890ab";
    assert_eq!(code(kms.rotate_key_on_demand(unknown)), "NotFoundException");
    assert_eq!(
        code(kms.list_key_rotations(ListKeyRotationsRequest {
            key_id: unknown.into(),
            ..Default::default()
        })),
        "NotFoundException"
    );
}
