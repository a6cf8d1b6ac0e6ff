//! A durable Kms restarts with everything it had: keys and what they can
//! decrypt, key states and deletion schedules, descriptions, tags,
//! policies, aliases, creation order, the seeded id sequence. A write that
//! fails changes nothing.
#![cfg(feature = "durable")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod durable;

use std::time::Duration;

use durable::{config, decrypt, encrypt, new_key, open, temp_dir};
use kms_keystore::{
    CreateAliasRequest, CreateKeyRequest, ErrorCode, GetKeyPolicyRequest, KeyState, Kms,
    ListAliasesRequest, ListKeysRequest, ListResourceTagsRequest, ManualClock, PutKeyPolicyRequest,
    ScheduleKeyDeletionRequest, Tag, TagResourceRequest, UntagResourceRequest, UpdateAliasRequest,
    UpdateKeyDescriptionRequest,
};

fn state(kms: &Kms, id: &str) -> KeyState {
    kms.describe_key(id).unwrap().key_metadata.key_state
}

#[test]
fn keys_survive_a_restart_and_decrypt_what_they_encrypted() {
    let dir = temp_dir("keys");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (ids, blobs): (Vec<String>, Vec<Vec<u8>>) = {
        let kms = open(&path, &clock);
        (0..5)
            .map(|i| {
                let id = new_key(&kms);
                let blob = encrypt(&kms, &id, format!("secret {i}").as_bytes());
                (id, blob)
            })
            .unzip()
    };
    let kms = open(&path, &clock);
    for (i, (id, blob)) in ids.iter().zip(&blobs).enumerate() {
        assert_eq!(
            kms.describe_key(id)
                .unwrap()
                .key_metadata
                .key_id
                .to_string(),
            *id
        );
        assert_eq!(decrypt(&kms, blob), format!("secret {i}").as_bytes());
    }
    // And it can still encrypt under them.
    let blob = encrypt(&kms, &ids[0], b"after");
    assert_eq!(decrypt(&kms, &blob), b"after");
}

#[test]
fn metadata_survives_a_restart_exactly() {
    let dir = temp_dir("metadata");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let policy = kms_keystore::default_key_policy(&"111122223333".parse().unwrap())
        .replace("Enable IAM User Permissions", "Restored policy");
    let (id, before) = {
        let kms = open(&path, &clock);
        let id = kms
            .create_key(CreateKeyRequest {
                description: Some("first".into()),
                tags: vec![Tag::new("team", "payments"), Tag::new("env", "prod")],
                ..Default::default()
            })
            .unwrap()
            .key_metadata
            .key_id
            .to_string();
        clock.advance(Duration::from_secs(5));
        kms.update_key_description(UpdateKeyDescriptionRequest::new(&id, "second"))
            .unwrap();
        kms.tag_resource(TagResourceRequest {
            key_id: id.clone(),
            tags: vec![Tag::new("env", "staging"), Tag::new("owner", "ana")],
        })
        .unwrap();
        kms.untag_resource(UntagResourceRequest {
            key_id: id.clone(),
            tag_keys: vec!["team".into()],
        })
        .unwrap();
        kms.put_key_policy(PutKeyPolicyRequest::new(&id, &policy))
            .unwrap();
        kms.disable_key(&id).unwrap();
        let before = kms.describe_key(&id).unwrap().key_metadata;
        (id, before)
    };
    let kms = open(&path, &clock);
    assert_eq!(kms.describe_key(&id).unwrap().key_metadata, before);
    assert_eq!(before.description, "second");
    assert_eq!(before.key_state, KeyState::Disabled);
    let tags = kms
        .list_resource_tags(ListResourceTagsRequest {
            key_id: id.clone(),
            ..Default::default()
        })
        .unwrap()
        .tags;
    assert_eq!(
        tags,
        vec![Tag::new("env", "staging"), Tag::new("owner", "ana")]
    );
    let got = kms
        .get_key_policy(GetKeyPolicyRequest {
            key_id: id.clone(),
            ..Default::default()
        })
        .unwrap()
        .policy;
    assert_eq!(got, policy);
}

#[test]
fn aliases_survive_a_restart_with_their_dates() {
    let dir = temp_dir("aliases");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (a, b, before) = {
        let kms = open(&path, &clock);
        let a = new_key(&kms);
        let b = new_key(&kms);
        kms.create_alias(CreateAliasRequest::new("alias/app", &a))
            .unwrap();
        kms.create_alias(CreateAliasRequest::new("alias/gone", &a))
            .unwrap();
        kms.create_alias(CreateAliasRequest::new("alias/other", &b))
            .unwrap();
        clock.advance(Duration::from_secs(60));
        kms.update_alias(UpdateAliasRequest::new("alias/app", &b))
            .unwrap();
        kms.delete_alias("alias/gone").unwrap();
        let before = kms.list_aliases(ListAliasesRequest::default()).unwrap();
        (a, b, before)
    };
    let kms = open(&path, &clock);
    assert_eq!(
        kms.list_aliases(ListAliasesRequest::default()).unwrap(),
        before
    );
    // The two aliases made, and the 14 predefined ones (no key yet).
    assert_eq!(before.aliases.len(), 16);
    assert_eq!(
        before
            .aliases
            .iter()
            .filter(|a| a.target_key_id.is_some())
            .count(),
        2
    );
    assert_eq!(
        kms.describe_key("alias/app")
            .unwrap()
            .key_metadata
            .key_id
            .to_string(),
        b
    );
    let blob = encrypt(&kms, "alias/app", b"via alias");
    assert_eq!(decrypt(&kms, &blob), b"via alias");
    assert!(kms.describe_key("alias/gone").is_err());
    let _ = a;
}

#[test]
fn deletion_schedules_run_on_the_clock_across_a_restart() {
    let dir = temp_dir("schedule");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (doomed, cancelled, kept) = {
        let kms = open(&path, &clock);
        let doomed = new_key(&kms);
        let cancelled = new_key(&kms);
        let kept = new_key(&kms);
        kms.create_alias(CreateAliasRequest::new("alias/doomed", &doomed))
            .unwrap();
        for id in [&doomed, &cancelled] {
            kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: id.clone(),
                pending_window_in_days: Some(7),
            })
            .unwrap();
        }
        kms.cancel_key_deletion(&cancelled).unwrap();
        (doomed, cancelled, kept)
    };
    // Down for a day: the key is still pending deletion.
    clock.advance(Duration::from_secs(86_400));
    {
        let kms = open(&path, &clock);
        assert_eq!(state(&kms, &doomed), KeyState::PendingDeletion);
        assert_eq!(state(&kms, &cancelled), KeyState::Disabled);
    }
    // Down past the deletion date: gone, with its alias, and for good.
    clock.advance(Duration::from_secs(7 * 86_400));
    {
        let kms = open(&path, &clock);
        assert_eq!(
            kms.describe_key(&doomed).unwrap_err().kind(),
            ErrorCode::NotFound
        );
        let listed = kms.list_keys(ListKeysRequest::default()).unwrap().keys;
        assert_eq!(listed.len(), 2);
        assert!(
            kms.list_aliases(ListAliasesRequest::default())
                .unwrap()
                .aliases
                .iter()
                .all(|a| a.target_key_id.is_none())
        );
    }
    let kms = open(&path, &clock);
    let listed: Vec<String> = kms
        .list_keys(ListKeysRequest::default())
        .unwrap()
        .keys
        .iter()
        .map(|k| k.key_id.to_string())
        .collect();
    assert_eq!(listed, vec![cancelled, kept]);
}

#[test]
fn list_keys_keeps_creation_order_across_restarts() {
    let dir = temp_dir("order");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let kms = open(&path, &clock);
        ids.push(new_key(&kms));
        ids.push(new_key(&kms));
    }
    let kms = open(&path, &clock);
    let listed: Vec<String> = kms
        .list_keys(ListKeysRequest::default())
        .unwrap()
        .keys
        .iter()
        .map(|k| k.key_id.to_string())
        .collect();
    assert_eq!(listed, ids);
}

#[test]
fn a_seeded_kms_continues_its_sequence_after_a_restart() {
    let clock = ManualClock::default();
    // Reference: five keys in one run.
    let reference: Vec<String> = {
        let dir = temp_dir("seed-ref");
        let kms = Kms::open(config(&dir.join("kms.redb"), &clock).with_seed(77)).unwrap();
        (0..5).map(|_| new_key(&kms)).collect()
    };
    // Same seed, restarted after two keys.
    let dir = temp_dir("seed");
    let path = dir.join("kms.redb");
    let mut ids: Vec<String> = {
        let kms = Kms::open(config(&path, &clock).with_seed(77)).unwrap();
        (0..2).map(|_| new_key(&kms)).collect()
    };
    let kms = Kms::open(config(&path, &clock).with_seed(77)).unwrap();
    ids.extend((0..3).map(|_| new_key(&kms)));
    assert_eq!(ids, reference);
}

#[test]
fn opening_with_another_seed_setting_is_refused() {
    let clock = ManualClock::default();
    let dir = temp_dir("seed-mismatch");
    let path = dir.join("kms.redb");
    drop(Kms::open(config(&path, &clock).with_seed(1)).unwrap());
    for cfg in [config(&path, &clock).with_seed(2), config(&path, &clock)] {
        let err = Kms::open(cfg).unwrap_err();
        assert_eq!(err.kind(), ErrorCode::Validation, "{err}");
        assert!(err.message().contains("seed"), "{err}");
    }
}

#[test]
fn opening_with_another_account_or_region_is_refused() {
    let clock = ManualClock::default();
    let dir = temp_dir("identity");
    let path = dir.join("kms.redb");
    drop(open(&path, &clock));
    let other = kms_keystore::KmsConfig::new("444455556666", "us-west-2")
        .unwrap()
        .with_clock(clock.clone())
        .with_durable_storage(&path, durable::root());
    let err = Kms::open(other).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::Validation);
    assert!(err.message().contains("111122223333"), "{err}");
}

#[test]
fn a_file_open_in_one_kms_cannot_be_opened_by_another() {
    let clock = ManualClock::default();
    let dir = temp_dir("locked");
    let path = dir.join("kms.redb");
    let first = open(&path, &clock);
    let err = Kms::open(config(&path, &clock)).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::KmsInternal);
    drop(first);
    assert!(Kms::open(config(&path, &clock)).is_ok());
}

#[test]
fn a_failed_write_fails_the_call_and_changes_nothing() {
    let dir = temp_dir("failure");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let kms = open(&path, &clock);
    let id = new_key(&kms);
    kms.create_alias(CreateAliasRequest::new("alias/a", &id))
        .unwrap();
    let blob = encrypt(&kms, &id, b"before");
    let before = kms.describe_key(&id).unwrap().key_metadata;
    let keys_before = kms.list_keys(ListKeysRequest::default()).unwrap();

    kms.set_storage_failure(true);
    let internal = |r: kms_keystore::Result<()>| {
        assert_eq!(r.unwrap_err().kind(), ErrorCode::KmsInternal);
    };
    assert_eq!(
        kms.create_key(CreateKeyRequest::default())
            .unwrap_err()
            .kind(),
        ErrorCode::KmsInternal
    );
    internal(kms.disable_key(&id));
    internal(
        kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: id.clone(),
            pending_window_in_days: None,
        })
        .map(drop),
    );
    internal(kms.update_key_description(UpdateKeyDescriptionRequest::new(&id, "changed")));
    internal(kms.tag_resource(TagResourceRequest {
        key_id: id.clone(),
        tags: vec![Tag::new("k", "v")],
    }));
    internal(kms.create_alias(CreateAliasRequest::new("alias/b", &id)));
    internal(kms.delete_alias("alias/a"));
    // The cryptographic path does not write: it works on.
    assert_eq!(decrypt(&kms, &blob), b"before");
    let _ = encrypt(&kms, &id, b"during");

    // Nothing changed, in memory...
    assert_eq!(kms.describe_key(&id).unwrap().key_metadata, before);
    assert_eq!(
        kms.list_keys(ListKeysRequest::default()).unwrap(),
        keys_before
    );
    let aliases = kms.list_aliases(ListAliasesRequest::default()).unwrap();
    let with_key = aliases
        .aliases
        .iter()
        .filter(|a| a.target_key_id.is_some())
        .count();
    assert_eq!(with_key, 1);
    kms.set_storage_failure(false);
    drop(kms);
    // ...or on disk.
    let kms = open(&path, &clock);
    assert_eq!(kms.describe_key(&id).unwrap().key_metadata, before);
    assert_eq!(
        kms.list_keys(ListKeysRequest::default()).unwrap(),
        keys_before
    );
}

#[test]
fn a_deletion_that_fails_to_commit_happens_on_a_later_call() {
    let dir = temp_dir("deferred-delete");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let kms = open(&path, &clock);
    let id = new_key(&kms);
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: id.clone(),
        pending_window_in_days: Some(7),
    })
    .unwrap();
    clock.advance(Duration::from_secs(8 * 86_400));
    kms.set_storage_failure(true);
    assert_eq!(
        kms.list_keys(ListKeysRequest::default())
            .unwrap()
            .keys
            .len(),
        1
    );
    kms.set_storage_failure(false);
    assert!(
        kms.list_keys(ListKeysRequest::default())
            .unwrap()
            .keys
            .is_empty()
    );
    drop(kms);
    let kms = open(&path, &clock);
    assert!(
        kms.list_keys(ListKeysRequest::default())
            .unwrap()
            .keys
            .is_empty()
    );
}

#[test]
fn kms_new_stays_in_memory() {
    let dir = temp_dir("new");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let kms = Kms::new(config(&path, &clock));
    new_key(&kms);
    assert!(kms.storage_path().is_none());
    assert!(!path.exists());
    assert_eq!(
        kms.rotate_root_key(durable::root()).unwrap_err().kind(),
        ErrorCode::UnsupportedOperation
    );
    assert_eq!(
        kms.backup(dir.join("copy.redb")).unwrap_err().kind(),
        ErrorCode::UnsupportedOperation
    );
}

#[test]
fn a_backup_taken_while_running_opens_with_the_state_of_its_moment() {
    let dir = temp_dir("backup");
    let path = dir.join("kms.redb");
    let copy = dir.join("backup.redb");
    let clock = ManualClock::default();
    let kms = open(&path, &clock);
    let before = new_key(&kms);
    let blob = encrypt(&kms, &before, b"backed up");
    kms.backup(&copy).unwrap();
    let after = new_key(&kms);
    assert_eq!(
        kms.backup(&copy).unwrap_err().kind(),
        ErrorCode::Validation,
        "an existing file is not overwritten"
    );
    drop(kms);
    let restored = open(&copy, &clock);
    assert_eq!(decrypt(&restored, &blob), b"backed up");
    assert_eq!(
        restored.describe_key(&after).unwrap_err().kind(),
        ErrorCode::NotFound
    );
    assert_eq!(restored.storage_path(), Some(copy.as_path()));
    let _ = config;
}
