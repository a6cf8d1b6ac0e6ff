//! Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant and
//! RevokeGrant, with AWS's codes, and grant tokens on the operations that
//! take them.
//!
//! The scenarios that involve a key run once per origin (AWS_KMS,
//! AWS_CLOUDHSM, EXTERNAL_KEY_STORE) through the shared harness: modules
//! `aws_kms`, `cloudhsm` and `external_key_store`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod harness;

use std::collections::BTreeMap;
use std::time::Duration;

use kms_keystore::server::Dispatcher;
use kms_keystore::{
    CreateGrantRequest, CreateGrantResponse, EncryptRequest, GrantConstraints, GrantOperation, Kms,
    ListGrantsRequest, ListGrantsResponse, ListRetirableGrantsRequest, Principal, Quotas, Result,
    RetireGrantRequest, RevokeGrantRequest, ScheduleKeyDeletionRequest,
};

use harness::{ACCOUNT, Harness, MISSING_KEY, SEED, code};

const BOB: &str = "arn:aws:iam::111122223333:user/bob";
const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const ROLE: &str = "arn:aws:iam::111122223333:role/ExampleRole";
const OTHER_ROOT: &str = "arn:aws:iam::444455556666:root";

fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn request(key: &str, grantee: &str, ops: &[GrantOperation]) -> CreateGrantRequest {
    CreateGrantRequest {
        key_id: key.into(),
        grantee_principal: grantee.into(),
        operations: ops.to_vec(),
        ..Default::default()
    }
}

fn grant(kms: &Kms, key: &str, grantee: &str, ops: &[GrantOperation]) -> CreateGrantResponse {
    kms.create_grant(request(key, grantee, ops)).unwrap()
}

fn list(kms: &Kms, key: &str) -> ListGrantsResponse {
    kms.list_grants(ListGrantsRequest {
        key_id: key.into(),
        ..Default::default()
    })
    .unwrap()
}

fn as_principal(kms: &Kms, arn: &str) -> Kms {
    kms.as_caller(&arn.parse::<Principal>().unwrap())
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

// ---- CreateGrant and ListGrants ----

fn a_grant_is_listed_as_created(h: &Harness) {
    let key = h.key();
    h.clock.advance(Duration::from_secs(3));
    let created = h
        .kms
        .create_grant(CreateGrantRequest {
            retiring_principal: Some(ALICE.into()),
            name: Some("app-grant".into()),
            constraints: Some(GrantConstraints {
                encryption_context_subset: Some(ctx(&[("Department", "IT")])),
                ..Default::default()
            }),
            ..request(
                &key,
                ROLE,
                &[GrantOperation::Decrypt, GrantOperation::Encrypt],
            )
        })
        .unwrap();
    assert!(is_hex64(&created.grant_id), "{}", created.grant_id);
    assert!(!created.grant_token.is_empty());
    let listed = list(&h.kms, &key);
    assert!(!listed.truncated);
    assert_eq!(listed.next_marker, None);
    assert_eq!(listed.grants.len(), 1);
    let g = &listed.grants[0];
    assert_eq!(g.key_id, h.arn(&key));
    assert_eq!(g.grant_id, created.grant_id);
    assert_eq!(g.name.as_deref(), Some("app-grant"));
    assert_eq!(g.creation_date, h.kms.now());
    assert_eq!(g.grantee_principal, ROLE);
    assert_eq!(g.retiring_principal.as_deref(), Some(ALICE));
    assert_eq!(g.issuing_account, format!("arn:aws:iam::{ACCOUNT}:root"));
    assert_eq!(
        g.operations,
        vec![GrantOperation::Decrypt, GrantOperation::Encrypt]
    );
    assert_eq!(
        g.constraints.as_ref().unwrap().encryption_context_subset,
        Some(ctx(&[("Department", "IT")]))
    );
}

fn a_name_repeated_with_the_same_parameters_returns_the_same_grant(h: &Harness) {
    let key = h.key();
    let named = |grantee: &str, ops: &[GrantOperation]| {
        h.kms
            .create_grant(CreateGrantRequest {
                name: Some("retry-safe".into()),
                ..request(&key, grantee, ops)
            })
            .unwrap()
    };
    let first = named(BOB, &[GrantOperation::Encrypt, GrantOperation::Decrypt]);
    // Same parameters (operations in another order): the same grant, a new token.
    let again = named(BOB, &[GrantOperation::Decrypt, GrantOperation::Encrypt]);
    assert_eq!(again.grant_id, first.grant_id);
    assert_ne!(again.grant_token, first.grant_token);
    assert_eq!(list(&h.kms, &key).grants.len(), 1);
    // Other parameters under the same name: a new grant.
    let other = named(ALICE, &[GrantOperation::Encrypt, GrantOperation::Decrypt]);
    assert_ne!(other.grant_id, first.grant_id);
    // Without a name every call is a new grant.
    let a = grant(&h.kms, &key, BOB, &[GrantOperation::Encrypt]);
    let b = grant(&h.kms, &key, BOB, &[GrantOperation::Encrypt]);
    assert_ne!(a.grant_id, b.grant_id);
    assert_eq!(list(&h.kms, &key).grants.len(), 4);
}

fn create_grant_checks_its_parameters_with_aws_codes(h: &Harness) {
    let key = h.key();
    let kms = &h.kms;
    let with = |f: &dyn Fn(&mut CreateGrantRequest)| {
        let mut r = request(&key, BOB, &[GrantOperation::Encrypt]);
        f(&mut r);
        kms.create_grant(r)
    };
    assert_eq!(code(with(&|r| r.operations.clear())), "ValidationException");
    let sign = with(&|r| r.operations = vec![GrantOperation::Encrypt, GrantOperation::Sign]);
    let err = sign.unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert!(err.message().contains("Sign"), "{}", err.message());
    for op in [
        GrantOperation::Verify,
        GrantOperation::GetPublicKey,
        GrantOperation::GenerateMac,
        GrantOperation::VerifyMac,
        GrantOperation::DeriveSharedSecret,
    ] {
        assert_eq!(
            code(with(&|r| r.operations = vec![op])),
            "ValidationException"
        );
    }
    for op in GrantOperation::SYMMETRIC_ENCRYPTION {
        with(&|r| r.operations = vec![*op]).unwrap();
    }
    assert_eq!(
        code(with(&|r| r.grantee_principal = "bob".into())),
        "InvalidArnException"
    );
    assert_eq!(
        code(with(
            &|r| r.grantee_principal = "arn:aws:iam::111122223333:group/admins".into()
        )),
        "InvalidArnException"
    );
    assert_eq!(
        code(with(&|r| r.grantee_principal = "bob smith".into())),
        "ValidationException"
    );
    assert_eq!(
        code(with(&|r| r.grantee_principal = String::new())),
        "ValidationException"
    );
    assert_eq!(
        code(with(&|r| r.retiring_principal = Some("nobody".into()))),
        "InvalidArnException"
    );
    assert_eq!(
        code(with(&|r| r.name = Some("bad name".into()))),
        "ValidationException"
    );
    assert_eq!(
        code(with(&|r| r.name = Some("n".repeat(257)))),
        "ValidationException"
    );
    // Constraints: one of the two, at most 8 pairs, values up to 384
    // characters, and only with an operation that takes a context.
    assert_eq!(
        code(with(&|r| r.constraints = Some(GrantConstraints {
            encryption_context_equals: Some(ctx(&[("a", "1")])),
            encryption_context_subset: Some(ctx(&[("a", "1")])),
        }))),
        "ValidationException"
    );
    let nine: BTreeMap<String, String> = (0..9).map(|i| (format!("k{i}"), "v".into())).collect();
    assert_eq!(
        code(with(&|r| r.constraints = Some(GrantConstraints {
            encryption_context_subset: Some(nine.clone()),
            ..Default::default()
        }))),
        "ValidationException"
    );
    let eight: BTreeMap<String, String> = (0..8).map(|i| (format!("k{i}"), "v".into())).collect();
    with(&|r| {
        r.constraints = Some(GrantConstraints {
            encryption_context_subset: Some(eight.clone()),
            ..Default::default()
        });
    })
    .unwrap();
    assert_eq!(
        code(with(&|r| r.constraints = Some(GrantConstraints {
            encryption_context_equals: Some(ctx(&[("a", &"x".repeat(385))])),
            ..Default::default()
        }))),
        "ValidationException"
    );
    assert_eq!(
        code(with(&|r| {
            r.operations = vec![GrantOperation::DescribeKey, GrantOperation::RetireGrant];
            r.constraints = Some(GrantConstraints {
                encryption_context_equals: Some(ctx(&[("a", "1")])),
                ..Default::default()
            });
        })),
        "ValidationException"
    );
    // A constraint may come with DescribeKey and RetireGrant beside a
    // cryptographic operation.
    with(&|r| {
        r.operations = vec![
            GrantOperation::Decrypt,
            GrantOperation::DescribeKey,
            GrantOperation::RetireGrant,
        ];
        r.constraints = Some(GrantConstraints {
            encryption_context_equals: Some(ctx(&[("a", "1")])),
            ..Default::default()
        });
    })
    .unwrap();
    // The key: by id or ARN, never by alias.
    with(&|r| r.key_id = h.arn(&key)).unwrap();
    h.kms
        .create_alias(kms_keystore::CreateAliasRequest::new("alias/granted", &key))
        .unwrap();
    assert_eq!(
        code(with(&|r| r.key_id = "alias/granted".into())),
        "NotFoundException"
    );
    assert_eq!(
        code(with(&|r| r.key_id = MISSING_KEY.into())),
        "NotFoundException"
    );
    // Grant tokens: shape, then issued by this service.
    assert_eq!(
        code(with(&|r| r.grant_tokens = vec![String::new()])),
        "ValidationException"
    );
    assert_eq!(
        code(with(&|r| r.grant_tokens = vec!["x".repeat(104)])),
        "InvalidGrantTokenException"
    );
    let token = grant(kms, &key, BOB, &[GrantOperation::CreateGrant]).grant_token;
    with(&|r| r.grant_tokens = vec![token.clone()]).unwrap();
    // Only the 16 calls above that succeeded added a grant (11 operations,
    // 8 pairs, the constraint beside DescribeKey, by ARN, the token's own
    // grant and the call with the token): every failure added nothing.
    assert_eq!(list(kms, &key).grants.len(), 16);
}

fn create_grant_follows_the_key_state_table(h: &Harness) {
    let key = h.key();
    h.kms.disable_key(&key).unwrap();
    assert_eq!(
        code(
            h.kms
                .create_grant(request(&key, BOB, &[GrantOperation::Encrypt]))
        ),
        "DisabledException"
    );
    h.kms.enable_key(&key).unwrap();
    let g = grant(&h.kms, &key, BOB, &[GrantOperation::Encrypt]);
    h.kms
        .schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key.clone(),
            pending_window_in_days: Some(7),
        })
        .unwrap();
    assert_eq!(
        code(
            h.kms
                .create_grant(request(&key, BOB, &[GrantOperation::Encrypt]))
        ),
        "KMSInvalidStateException"
    );
    // Listing, retiring and revoking work in every state.
    assert_eq!(list(&h.kms, &key).grants.len(), 1);
    h.kms
        .revoke_grant(RevokeGrantRequest {
            key_id: key.clone(),
            grant_id: g.grant_id,
            dry_run: None,
        })
        .unwrap();
    assert!(list(&h.kms, &key).grants.is_empty());
}

fn the_grant_quota_is_per_key(h: &Harness) {
    let h2 = Harness::with_config(h.origin, |c| {
        let mut q = Quotas::default();
        q.grants_per_key = 3;
        c.with_quotas(q)
    });
    let key = h2.key();
    let other = h2.key();
    let named = CreateGrantRequest {
        name: Some("n".into()),
        ..request(&key, BOB, &[GrantOperation::Encrypt])
    };
    let first = h2.kms.create_grant(named.clone()).unwrap();
    grant(&h2.kms, &key, BOB, &[GrantOperation::Encrypt]);
    grant(&h2.kms, &key, BOB, &[GrantOperation::Encrypt]);
    let err = h2
        .kms
        .create_grant(request(&key, BOB, &[GrantOperation::Encrypt]))
        .unwrap_err();
    assert_eq!(err.code(), "LimitExceededException");
    assert!(err.message().contains('3'), "{}", err.message());
    // A repeat of a named grant is no new grant.
    assert_eq!(h2.kms.create_grant(named).unwrap().grant_id, first.grant_id);
    // Another key has its own quota.
    grant(&h2.kms, &other, BOB, &[GrantOperation::Encrypt]);
    assert_eq!(Quotas::default().grants_per_key, 50_000);
}

fn dry_run_checks_everything_and_changes_nothing(h: &Harness) {
    let key = h.key();
    let dry = h.kms.create_grant(CreateGrantRequest {
        dry_run: Some(true),
        ..request(&key, BOB, &[GrantOperation::Encrypt])
    });
    assert_eq!(code(dry), "DryRunOperationException");
    // A failing check wins over DryRun.
    let bad = h.kms.create_grant(CreateGrantRequest {
        dry_run: Some(true),
        ..request(&key, BOB, &[GrantOperation::Sign])
    });
    assert_eq!(code(bad), "ValidationException");
    assert!(list(&h.kms, &key).grants.is_empty());
    let g = grant(
        &h.kms,
        &key,
        BOB,
        &[GrantOperation::Encrypt, GrantOperation::RetireGrant],
    );
    assert_eq!(
        code(h.kms.revoke_grant(RevokeGrantRequest {
            key_id: key.clone(),
            grant_id: g.grant_id.clone(),
            dry_run: Some(true),
        })),
        "DryRunOperationException"
    );
    assert_eq!(
        code(as_principal(&h.kms, BOB).retire_grant(RetireGrantRequest {
            grant_token: Some(g.grant_token.clone()),
            dry_run: Some(true),
            ..Default::default()
        })),
        "DryRunOperationException"
    );
    assert_eq!(list(&h.kms, &key).grants.len(), 1);
}

fn list_grants_pages_and_filters(h: &Harness) {
    let key = h.key();
    let mut ids = Vec::new();
    for i in 0..7 {
        let grantee = if i % 2 == 0 { BOB } else { ALICE };
        ids.push(grant(&h.kms, &key, grantee, &[GrantOperation::Decrypt]).grant_id);
    }
    let mut seen = Vec::new();
    let mut marker = None;
    let mut pages = 0;
    loop {
        let page = h
            .kms
            .list_grants(ListGrantsRequest {
                key_id: key.clone(),
                limit: Some(3),
                marker: marker.take(),
                ..Default::default()
            })
            .unwrap();
        pages += 1;
        assert!(page.grants.len() <= 3);
        seen.extend(page.grants.iter().map(|g| g.grant_id.clone()));
        assert_eq!(page.truncated, page.next_marker.is_some());
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids, "every grant once, in creation order");
    let by_id = h
        .kms
        .list_grants(ListGrantsRequest {
            key_id: key.clone(),
            grant_id: Some(ids[3].clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_id.grants.len(), 1);
    assert_eq!(by_id.grants[0].grant_id, ids[3]);
    let unknown = h
        .kms
        .list_grants(ListGrantsRequest {
            key_id: key.clone(),
            grant_id: Some("0".repeat(64)),
            ..Default::default()
        })
        .unwrap();
    assert!(unknown.grants.is_empty());
    let bobs = h
        .kms
        .list_grants(ListGrantsRequest {
            key_id: key.clone(),
            grantee_principal: Some(BOB.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(bobs.grants.len(), 4);
    assert!(bobs.grants.iter().all(|g| g.grantee_principal == BOB));
    let with = |f: &dyn Fn(&mut ListGrantsRequest)| {
        let mut r = ListGrantsRequest {
            key_id: key.clone(),
            ..Default::default()
        };
        f(&mut r);
        h.kms.list_grants(r)
    };
    assert_eq!(code(with(&|r| r.limit = Some(0))), "ValidationException");
    assert_eq!(code(with(&|r| r.limit = Some(101))), "ValidationException");
    with(&|r| r.limit = Some(100)).unwrap();
    assert_eq!(
        code(with(&|r| r.marker = Some("not a marker".into()))),
        "InvalidMarkerException"
    );
    assert_eq!(
        code(with(&|r| r.grant_id = Some("xyz".into()))),
        "InvalidGrantIdException"
    );
    assert_eq!(
        code(with(&|r| r.key_id = MISSING_KEY.into())),
        "NotFoundException"
    );
    // Default page: 50.
    for _ in 0..50 {
        grant(&h.kms, &key, BOB, &[GrantOperation::Decrypt]);
    }
    let first = list(&h.kms, &key);
    assert_eq!(first.grants.len(), 50);
    assert!(first.truncated);
}

fn list_retirable_grants_spans_the_accounts_keys(h: &Harness) {
    let a = h.key();
    let b = h.key();
    let retiring = |key: &str, who: &str| {
        h.kms
            .create_grant(CreateGrantRequest {
                retiring_principal: Some(who.into()),
                ..request(key, BOB, &[GrantOperation::Decrypt])
            })
            .unwrap()
            .grant_id
    };
    let g1 = retiring(&a, ROLE);
    retiring(&a, ALICE);
    let g3 = retiring(&b, ROLE);
    grant(&h.kms, &b, ROLE, &[GrantOperation::Decrypt]);
    let listed = h
        .kms
        .list_retirable_grants(ListRetirableGrantsRequest {
            retiring_principal: ROLE.into(),
            ..Default::default()
        })
        .unwrap();
    let ids: Vec<_> = listed.grants.iter().map(|g| g.grant_id.clone()).collect();
    assert_eq!(ids, vec![g1, g3]);
    assert_eq!(listed.grants[0].key_id, h.arn(&a));
    assert_eq!(listed.grants[1].key_id, h.arn(&b));
    let paged = h
        .kms
        .list_retirable_grants(ListRetirableGrantsRequest {
            retiring_principal: ROLE.into(),
            limit: Some(1),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(paged.grants.len(), 1);
    assert!(paged.truncated);
    assert_eq!(
        code(h.kms.list_retirable_grants(ListRetirableGrantsRequest {
            retiring_principal: "nobody".into(),
            ..Default::default()
        })),
        "InvalidArnException"
    );
}

// ---- RetireGrant and RevokeGrant ----

fn retire_grant_is_allowed_to_those_the_grant_names(h: &Harness) {
    let key = h.key();
    let create = |ops: &[GrantOperation]| {
        h.kms
            .create_grant(CreateGrantRequest {
                retiring_principal: Some(ALICE.into()),
                ..request(&key, BOB, ops)
            })
            .unwrap()
    };
    let retire_by_token = |kms: &Kms, token: &str| -> Result<()> {
        kms.retire_grant(RetireGrantRequest {
            grant_token: Some(token.into()),
            ..Default::default()
        })
    };
    let retire_by_id = |kms: &Kms, id: &str| -> Result<()> {
        kms.retire_grant(RetireGrantRequest {
            key_id: Some(key.clone()),
            grant_id: Some(id.into()),
            ..Default::default()
        })
    };
    // The retiring principal, by token.
    let g = create(&[GrantOperation::Decrypt]);
    retire_by_token(&as_principal(&h.kms, ALICE), &g.grant_token).unwrap();
    assert!(list(&h.kms, &key).grants.is_empty());
    assert_eq!(code(retire_by_id(&h.kms, &g.grant_id)), "NotFoundException");
    // The grantee, only if the grant allows RetireGrant.
    let g = create(&[GrantOperation::Decrypt]);
    let bob = as_principal(&h.kms, BOB);
    let err = retire_by_id(&bob, &g.grant_id).unwrap_err();
    assert_eq!(err.code(), "AccessDeniedException");
    assert!(
        err.message().starts_with(&format!(
            "User: {BOB} is not authorized to perform: kms:RetireGrant on resource: {}",
            h.arn(&key)
        )),
        "{}",
        err.message()
    );
    let g2 = create(&[GrantOperation::Decrypt, GrantOperation::RetireGrant]);
    retire_by_id(&bob, &g2.grant_id).unwrap();
    // Anyone else is refused; the account root may.
    let stranger = as_principal(&h.kms, "arn:aws:iam::111122223333:user/mallory");
    assert_eq!(
        code(retire_by_token(&stranger, &g.grant_token)),
        "AccessDeniedException"
    );
    assert_eq!(
        code(retire_by_token(
            &as_principal(&h.kms, OTHER_ROOT),
            &g.grant_token
        )),
        "AccessDeniedException"
    );
    assert_eq!(list(&h.kms, &key).grants.len(), 1);
    retire_by_token(&h.kms, &g.grant_token).unwrap();
    assert!(list(&h.kms, &key).grants.is_empty());
    // A role grantee: a session of the role is the grantee.
    let g = h
        .kms
        .create_grant(request(&key, ROLE, &[GrantOperation::RetireGrant]))
        .unwrap();
    let session = h.kms.as_caller(&Principal::assumed_role(
        ACCOUNT.parse().unwrap(),
        "ExampleRole",
        "s1",
    ));
    retire_by_token(&session, &g.grant_token).unwrap();
    // Bad requests.
    assert_eq!(
        code(retire_by_token(&h.kms, &"A".repeat(104))),
        "InvalidGrantTokenException"
    );
    assert_eq!(
        code(h.kms.retire_grant(RetireGrantRequest {
            key_id: Some(key.clone()),
            ..Default::default()
        })),
        "ValidationException"
    );
    assert_eq!(
        code(retire_by_id(&h.kms, "nothex")),
        "InvalidGrantIdException"
    );
}

fn revoke_grant_deletes_by_key_and_id(h: &Harness) {
    let key = h.key();
    let other = h.key();
    let g = grant(&h.kms, &key, BOB, &[GrantOperation::Decrypt]);
    let revoke = |key: &str, id: &str| {
        h.kms.revoke_grant(RevokeGrantRequest {
            key_id: key.into(),
            grant_id: id.into(),
            dry_run: None,
        })
    };
    assert_eq!(code(revoke(&other, &g.grant_id)), "NotFoundException");
    assert_eq!(code(revoke(&key, "0123")), "InvalidGrantIdException");
    assert_eq!(code(revoke(&key, "")), "ValidationException");
    assert_eq!(code(revoke(MISSING_KEY, &g.grant_id)), "NotFoundException");
    revoke(&h.arn(&key), &g.grant_id).unwrap();
    assert!(list(&h.kms, &key).grants.is_empty());
    assert_eq!(code(revoke(&key, &g.grant_id)), "NotFoundException");
}

fn grants_vanish_with_their_key(h: &Harness) {
    let key = h.key();
    let keep = h.key();
    h.kms
        .create_grant(CreateGrantRequest {
            retiring_principal: Some(ALICE.into()),
            ..request(&key, BOB, &[GrantOperation::Decrypt])
        })
        .unwrap();
    h.kms
        .create_grant(CreateGrantRequest {
            retiring_principal: Some(ALICE.into()),
            ..request(&keep, BOB, &[GrantOperation::Decrypt])
        })
        .unwrap();
    let date = h
        .kms
        .schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key.clone(),
            pending_window_in_days: Some(7),
        })
        .unwrap()
        .deletion_date
        .unwrap();
    let retirable = || {
        h.kms
            .list_retirable_grants(ListRetirableGrantsRequest {
                retiring_principal: ALICE.into(),
                ..Default::default()
            })
            .unwrap()
            .grants
            .len()
    };
    assert_eq!(retirable(), 2);
    h.clock.set(date);
    assert_eq!(retirable(), 1);
    assert_eq!(
        code(h.kms.list_grants(ListGrantsRequest {
            key_id: key,
            ..Default::default()
        })),
        "NotFoundException"
    );
    assert_eq!(list(&h.kms, &keep).grants.len(), 1);
}

fn grant_tokens_must_be_ones_this_service_issued(h: &Harness) {
    let key = h.key();
    let g = grant(&h.kms, &key, BOB, &[GrantOperation::Encrypt]);
    let encrypt = |tokens: Vec<String>| {
        h.kms.encrypt(EncryptRequest {
            key_id: key.clone(),
            plaintext: "x".into(),
            grant_tokens: tokens,
            ..Default::default()
        })
    };
    encrypt(vec![g.grant_token.clone()]).unwrap();
    // Altered by one character: not issued here.
    let mut altered = g.grant_token.clone().into_bytes();
    altered[10] = if altered[10] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    assert_eq!(code(encrypt(vec![altered])), "InvalidGrantTokenException");
    assert_eq!(
        code(encrypt(vec!["opaque-token".into()])),
        "InvalidGrantTokenException"
    );
    // A token of another account's service is not this one's.
    let other = Kms::new(
        kms_keystore::KmsConfig::new("444455556666", "us-west-2")
            .unwrap()
            .with_seed(SEED),
    );
    let foreign_key = other
        .create_key(kms_keystore::CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    let foreign = grant(&other, &foreign_key, BOB, &[GrantOperation::Encrypt]);
    assert_eq!(
        code(encrypt(vec![foreign.grant_token])),
        "InvalidGrantTokenException"
    );
    // Shape checks come first.
    assert_eq!(code(encrypt(vec![String::new()])), "ValidationException");
    assert_eq!(
        code(encrypt(vec![g.grant_token.clone(); 11])),
        "ValidationException"
    );
}

harness::management_tests!(
    a_grant_is_listed_as_created,
    a_name_repeated_with_the_same_parameters_returns_the_same_grant,
    create_grant_checks_its_parameters_with_aws_codes,
    create_grant_follows_the_key_state_table,
    the_grant_quota_is_per_key,
    dry_run_checks_everything_and_changes_nothing,
    list_grants_pages_and_filters,
    list_retirable_grants_spans_the_accounts_keys,
    retire_grant_is_allowed_to_those_the_grant_names,
    revoke_grant_deletes_by_key_and_id,
    grants_vanish_with_their_key,
    grant_tokens_must_be_ones_this_service_issued,
);

// ---- custom key stores only ----

fn a_key_in_a_disconnected_store_can_get_and_lose_grants(h: &Harness) {
    let key = h.key();
    h.disconnect();
    assert_eq!(h.key_state(&key), kms_keystore::KeyState::Unavailable);
    let g = grant(&h.kms, &key, BOB, &[GrantOperation::Decrypt]);
    assert_eq!(list(&h.kms, &key).grants.len(), 1);
    h.kms
        .revoke_grant(RevokeGrantRequest {
            key_id: key.clone(),
            grant_id: g.grant_id,
            dry_run: None,
        })
        .unwrap();
    assert!(list(&h.kms, &key).grants.is_empty());
}

mod disconnected {
    use super::*;
    harness::custom_key_store_tests!(a_key_in_a_disconnected_store_can_get_and_lose_grants);
}

// ---- determinism and the wire ----

#[test]
fn grant_ids_and_tokens_are_deterministic_under_a_seed() {
    let run = || {
        let h = Harness::new(kms_keystore::OriginType::AwsKms);
        let key = h.key();
        (0..3)
            .map(|_| grant(&h.kms, &key, BOB, &[GrantOperation::Decrypt]))
            .map(|g| (g.grant_id, g.grant_token))
            .collect::<Vec<_>>()
    };
    let a = run();
    assert_eq!(a, run());
    let ids: std::collections::BTreeSet<_> = a.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), 3);
}

#[test]
fn the_grant_operations_answer_on_the_wire() {
    let h = Harness::new(kms_keystore::OriginType::AwsKms);
    let key = h.key();
    let wire = Dispatcher::new(h.kms.clone());
    let created = wire.dispatch(
        "TrentService.CreateGrant",
        format!(
            r#"{{"KeyId":"{key}","GranteePrincipal":"{BOB}","Operations":["Encrypt","Decrypt"],"Constraints":{{"EncryptionContextEquals":{{"a":"1"}}}},"Name":"w"}}"#
        )
        .as_bytes(),
    );
    assert_eq!(created.status, 200, "{created:?}");
    let body = created.json().unwrap();
    let id = body["GrantId"].as_str().unwrap().to_owned();
    let token = body["GrantToken"].as_str().unwrap().to_owned();
    let listed = wire.dispatch(
        "TrentService.ListGrants",
        format!(r#"{{"KeyId":"{key}"}}"#).as_bytes(),
    );
    assert_eq!(listed.status, 200);
    let listed = listed.json().unwrap();
    let g = &listed["Grants"][0];
    assert_eq!(g["GrantId"], id.as_str());
    assert_eq!(g["Operations"][1], "Decrypt");
    assert_eq!(g["Constraints"]["EncryptionContextEquals"]["a"], "1");
    assert_eq!(g["IssuingAccount"], format!("arn:aws:iam::{ACCOUNT}:root"));
    assert_eq!(listed["Truncated"], false);
    let bad_op = wire.dispatch(
        "TrentService.CreateGrant",
        format!(r#"{{"KeyId":"{key}","GranteePrincipal":"{BOB}","Operations":["Fly"]}}"#)
            .as_bytes(),
    );
    assert_eq!(bad_op.error_type().as_deref(), Some("ValidationException"));
    let missing = wire.dispatch(
        "TrentService.CreateGrant",
        format!(r#"{{"KeyId":"{key}"}}"#).as_bytes(),
    );
    assert_eq!(missing.error_type().as_deref(), Some("ValidationException"));
    let retirable = wire.dispatch(
        "TrentService.ListRetirableGrants",
        format!(r#"{{"RetiringPrincipal":"{ALICE}"}}"#).as_bytes(),
    );
    assert_eq!(retirable.status, 200);
    let retired = wire.dispatch(
        "TrentService.RetireGrant",
        format!(r#"{{"GrantToken":"{token}"}}"#).as_bytes(),
    );
    assert_eq!(retired.status, 200, "{retired:?}");
    let revoked = wire.dispatch(
        "TrentService.RevokeGrant",
        format!(r#"{{"KeyId":"{key}","GrantId":"{id}"}}"#).as_bytes(),
    );
    assert_eq!(revoked.error_type().as_deref(), Some("NotFoundException"));
}
