//! Grants are durable: they survive a restart with everything ListGrants
//! shows, their tokens stay valid, and a grant change whose write fails
//! changes nothing, in memory or on disk.
#![cfg(feature = "durable")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod durable;

use std::collections::BTreeMap;

use durable::{new_key, open, temp_dir};
use kms_keystore::{
    CreateGrantRequest, ErrorCode, GrantConstraints, GrantOperation, Kms, ListGrantsRequest,
    ListGrantsResponse, ManualClock, RetireGrantRequest, RevokeGrantRequest,
    ScheduleKeyDeletionRequest,
};

fn list(kms: &Kms, key: &str) -> ListGrantsResponse {
    kms.list_grants(ListGrantsRequest {
        key_id: key.into(),
        ..Default::default()
    })
    .unwrap()
}

fn request(key: &str) -> CreateGrantRequest {
    CreateGrantRequest {
        key_id: key.into(),
        grantee_principal: "arn:aws:iam::111122223333:role/ExampleRole".into(),
        retiring_principal: Some("arn:aws:iam::111122223333:user/alice".into()),
        operations: vec![GrantOperation::Decrypt, GrantOperation::RetireGrant],
        constraints: Some(GrantConstraints {
            encryption_context_subset: Some(BTreeMap::from([("Dept".into(), "IT".into())])),
            ..Default::default()
        }),
        name: Some("restart".into()),
        ..Default::default()
    }
}

#[test]
fn grants_survive_a_restart() {
    let dir = temp_dir("grants");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (key, created, before) = {
        let kms = open(&path, &clock);
        let key = new_key(&kms);
        let created = kms.create_grant(request(&key)).unwrap();
        kms.create_grant(CreateGrantRequest {
            name: None,
            constraints: None,
            retiring_principal: None,
            ..request(&key)
        })
        .unwrap();
        (key.clone(), created, list(&kms, &key))
    };
    assert_eq!(before.grants.len(), 2);
    let kms = open(&path, &clock);
    assert_eq!(list(&kms, &key), before);
    // The name still makes a repeat the same grant.
    assert_eq!(
        kms.create_grant(request(&key)).unwrap().grant_id,
        created.grant_id
    );
    // The token from before the restart names the grant.
    kms.as_caller(&"arn:aws:iam::111122223333:user/alice".parse().unwrap())
        .retire_grant(RetireGrantRequest {
            grant_token: Some(created.grant_token),
            ..Default::default()
        })
        .unwrap();
    drop(kms);
    let kms = open(&path, &clock);
    assert_eq!(list(&kms, &key).grants.len(), 1);
}

#[test]
fn a_grant_change_whose_write_fails_changes_nothing() {
    let dir = temp_dir("grants-failure");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let kms = open(&path, &clock);
    let key = new_key(&kms);
    let created = kms.create_grant(request(&key)).unwrap();
    let before = list(&kms, &key);
    kms.set_storage_failure(true);
    let internal = |r: kms_keystore::Result<()>| {
        assert_eq!(r.unwrap_err().kind(), ErrorCode::KmsInternal);
    };
    internal(
        kms.create_grant(CreateGrantRequest {
            name: None,
            ..request(&key)
        })
        .map(drop),
    );
    internal(kms.revoke_grant(RevokeGrantRequest {
        key_id: key.clone(),
        grant_id: created.grant_id.clone(),
        dry_run: None,
    }));
    internal(kms.retire_grant(RetireGrantRequest {
        grant_token: Some(created.grant_token.clone()),
        ..Default::default()
    }));
    assert_eq!(list(&kms, &key), before);
    kms.set_storage_failure(false);
    drop(kms);
    let kms = open(&path, &clock);
    assert_eq!(list(&kms, &key), before);
}

#[test]
fn grants_go_with_their_key_across_a_restart() {
    let dir = temp_dir("grants-deleted");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (key, date) = {
        let kms = open(&path, &clock);
        let key = new_key(&kms);
        kms.create_grant(request(&key)).unwrap();
        let date = kms
            .schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: key.clone(),
                pending_window_in_days: Some(7),
            })
            .unwrap()
            .deletion_date
            .unwrap();
        assert_eq!(list(&kms, &key).grants.len(), 1);
        (key, date)
    };
    clock.set(date);
    let kms = open(&path, &clock);
    let retirable = kms
        .list_retirable_grants(kms_keystore::ListRetirableGrantsRequest {
            retiring_principal: "arn:aws:iam::111122223333:user/alice".into(),
            ..Default::default()
        })
        .unwrap();
    assert!(retirable.grants.is_empty());
    assert_eq!(
        kms.list_grants(ListGrantsRequest {
            key_id: key,
            ..Default::default()
        })
        .unwrap_err()
        .kind(),
        ErrorCode::NotFound
    );
}
