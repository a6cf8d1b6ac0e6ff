//! Key rotation, durable: a reopened store keeps every material version
//! (blobs of each still decrypt) and the automatic rotation schedule, which
//! carries on from the clock.
#![cfg(feature = "durable")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod durable;

use std::time::Duration;

use durable::{decrypt, encrypt, new_key, open, temp_dir};
use kms_keystore::{EnableKeyRotationRequest, ListKeyRotationsRequest, ManualClock};

const DAY: Duration = Duration::from_secs(86_400);

fn rotation_count(kms: &kms_keystore::Kms, key: &str) -> usize {
    kms.list_key_rotations(ListKeyRotationsRequest {
        key_id: key.into(),
        ..Default::default()
    })
    .unwrap()
    .rotations
    .len()
}

#[test]
fn a_reopened_store_keeps_every_version_and_continues_the_schedule() {
    let dir = temp_dir("rotation").join("kms.redb");
    let clock = ManualClock::default();
    let (key, blobs, status, current) = {
        let kms = open(&dir, &clock);
        let key = new_key(&kms);
        let mut blobs = vec![encrypt(&kms, &key, b"v0")];
        kms.rotate_key_on_demand(&key).unwrap();
        blobs.push(encrypt(&kms, &key, b"v1"));
        kms.enable_key_rotation(EnableKeyRotationRequest {
            key_id: key.clone(),
            rotation_period_in_days: Some(90),
        })
        .unwrap();
        clock.advance(DAY * 90);
        blobs.push(encrypt(&kms, &key, b"v2"));
        assert_eq!(rotation_count(&kms, &key), 2);
        let status = kms.get_key_rotation_status(&key).unwrap();
        let current = kms
            .describe_key(&key)
            .unwrap()
            .key_metadata
            .current_key_material_id;
        (key, blobs, status, current)
    };
    let kms = open(&dir, &clock);
    assert_eq!(rotation_count(&kms, &key), 2);
    assert_eq!(kms.get_key_rotation_status(&key).unwrap(), status);
    assert_eq!(
        kms.describe_key(&key)
            .unwrap()
            .key_metadata
            .current_key_material_id,
        current
    );
    for (blob, p) in blobs.iter().zip([b"v0", b"v1", b"v2"]) {
        assert_eq!(decrypt(&kms, blob), p);
    }
    // The schedule carries on after the reopen.
    clock.advance(DAY * 90);
    assert_eq!(rotation_count(&kms, &key), 3);
    drop(kms);
    let kms = open(&dir, &clock);
    assert_eq!(rotation_count(&kms, &key), 3);
    assert_eq!(decrypt(&kms, &blobs[0]), b"v0");
}
