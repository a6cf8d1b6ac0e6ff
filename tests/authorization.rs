//! Who may use a key: seed 001's cross-account flow as written (account
//! 444455556666 owns a key, its key policy lets account 111122223333 use
//! it, an IAM policy there gives the role `ExampleRole` those actions, and
//! bob works through that role), and the rules around it: delegation to
//! IAM, explicit denies, operations that never cross accounts, partitions,
//! the lockout safety check, the policy simulator and the caller that
//! external key store proxies see.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kms_keystore::{
    AwsPartition, CreateGrantRequest, CreateKeyRequest, DecisionKind, DecryptRequest,
    EncryptRequest, EncryptionContext, ErrorCode, GenerateDataKeyRequest, GrantConstraints,
    GrantOperation, Kms, KmsConfig, ManualClock, Partition, PolicySource, Principal,
    PutKeyPolicyRequest, ReEncryptRequest, SimulateAuthorizationRequest,
};

const OWNER: &str = "444455556666";
const USERS: &str = "111122223333";
const THIRD: &str = "777788889999";
const REGION: &str = "us-west-2";

/// Seed 001's key policy, verbatim.
const SEED_KEY_POLICY: &str = r#"{
      "Id": "key-policy-acct-2",
      "Version": "2012-10-17",
      "Statement": [
          {
              "Sid": "Permission to use IAM policies",
              "Effect": "Allow",
              "Principal": {
                  "AWS": "arn:aws:iam::444455556666:root"
              },
              "Action": "kms:*",
              "Resource": "*"
          },
          {
              "Sid": "Allow account 1 to use this CMK",
              "Effect": "Allow",
              "Principal": {
                  "AWS": "arn:aws:iam::111122223333:root"
              },
              "Action": [
                  "kms:Encrypt",
                  "kms:Decrypt",
                  "kms:ReEncryptFrom",
                  "kms:ReEncryptTo",
                  "kms:GenerateDataKey",
                  "kms:GenerateDataKeyWithoutPlaintext",
                  "kms:DescribeKey"
              ],
              "Resource": "*"
          }
      ]
  }"#;

/// Seed 001's IAM policy for `ExampleRole`, verbatim: as printed it is not
/// JSON (a `Principal` object without a key, a missing comma), and an
/// identity-based policy may not name a principal anyway.
const SEED_IAM_POLICY_AS_PRINTED: &str = r#"{
      "Version": "2012-10-17",
      "Statement": [
          {
              "Principal": { "arn:aws:iam::111122223333:role/ExampleRole" }
              "Effect": "Allow",
              "Action": [
                  "kms:Encrypt",
                  "kms:Decrypt",
                  "kms:ReEncryptFrom",
                  "kms:ReEncryptTo",
                  "kms:GenerateDataKey",
                  "kms:GenerateDataKeyWithoutPlaintext",
                  "kms:DescribeKey"
              ],
              "Resource": [
                  "arn:aws:kms:us-west-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
              ]
          }
      ]
  }"#;

/// The same IAM policy as IAM accepts it: no `Principal` (the policy is
/// attached to the role), the resource being the seed's key ARN, which the
/// test replaces with the key it created.
const SEED_IAM_POLICY: &str = r#"{
      "Version": "2012-10-17",
      "Statement": [
          {
              "Effect": "Allow",
              "Action": [
                  "kms:Encrypt",
                  "kms:Decrypt",
                  "kms:ReEncryptFrom",
                  "kms:ReEncryptTo",
                  "kms:GenerateDataKey",
                  "kms:GenerateDataKeyWithoutPlaintext",
                  "kms:DescribeKey"
              ],
              "Resource": [
                  "arn:aws:kms:us-west-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
              ]
          }
      ]
  }"#;

const SEED_KEY_ARN: &str =
    "arn:aws:kms:us-west-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// The seed's world: both accounts (and a third), the key with the seed's
/// key policy, `ExampleRole` with the seed's IAM policy, bob, and bob's
/// session of the role.
struct World {
    partition: Partition,
    owner: Kms,
    key_arn: String,
    role_session: Principal,
    bob: Principal,
    clock: ManualClock,
}

fn config(account: &str, clock: &ManualClock, seed: u64) -> KmsConfig {
    KmsConfig::new(account, REGION)
        .unwrap()
        .with_clock(clock.clone())
        .with_seed(seed)
}

fn world() -> World {
    let clock = ManualClock::default();
    let partition = Partition::with_seed(AwsPartition::Aws, 1);
    let owner = partition.add(config(OWNER, &clock, 2)).unwrap();
    partition.add(config(USERS, &clock, 3)).unwrap();
    partition.add(config(THIRD, &clock, 4)).unwrap();
    let key_arn = owner
        .create_key(CreateKeyRequest {
            policy: Some(SEED_KEY_POLICY.to_owned()),
            ..CreateKeyRequest::default()
        })
        .unwrap()
        .key_metadata
        .arn;
    let iam = partition.iam();
    let role = iam.create_role(USERS, "/", "ExampleRole").unwrap();
    let err = iam
        .put_identity_policy(&role, "use-cmk", SEED_IAM_POLICY_AS_PRINTED)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::MalformedPolicyDocument);
    iam.put_identity_policy(
        &role,
        "use-cmk",
        &SEED_IAM_POLICY.replace(SEED_KEY_ARN, &key_arn),
    )
    .unwrap();
    let bob = iam.create_user(USERS, "/", "bob").unwrap();
    let role_session = Principal::assumed_role(USERS.parse().unwrap(), "ExampleRole", "bob");
    World {
        partition,
        owner,
        key_arn,
        role_session,
        bob,
        clock,
    }
}

impl World {
    /// The KMS of `account`, called by `who`.
    fn as_(&self, account: &str, who: &Principal) -> Kms {
        self.partition.kms(account, REGION).unwrap().as_caller(who)
    }

    fn encrypt(&self, kms: &Kms, key_id: &str) -> kms_keystore::Result<Vec<u8>> {
        kms.encrypt(EncryptRequest {
            key_id: key_id.to_owned(),
            plaintext: "secret".into(),
            ..EncryptRequest::default()
        })
        .map(|r| r.ciphertext_blob)
    }
}

fn gkp(key_id: &str) -> kms_keystore::GetKeyPolicyRequest {
    kms_keystore::GetKeyPolicyRequest {
        key_id: key_id.to_owned(),
        ..Default::default()
    }
}

fn assert_denied(err: &kms_keystore::Error, who: &str, action: &str, resource: &str, why: &str) {
    assert_eq!(err.kind(), ErrorCode::AccessDenied, "{err}");
    assert_eq!(
        err.message(),
        format!("User: {who} is not authorized to perform: {action} on resource: {resource} {why}"),
    );
}

#[test]
fn the_role_in_the_other_account_encrypts_and_decrypts_with_the_key_arn() {
    let w = world();
    let kms = w.as_(USERS, &w.role_session);
    let blob = w.encrypt(&kms, &w.key_arn).unwrap();
    // Decrypt finds the key from the ciphertext, in the owner's account.
    let out = kms
        .decrypt(DecryptRequest {
            ciphertext_blob: blob.clone(),
            ..DecryptRequest::default()
        })
        .unwrap();
    assert_eq!(out.plaintext.expose_secret(), b"secret");
    assert_eq!(out.key_id, w.key_arn);
    // So does Decrypt into a buffer the caller keeps; a third account's
    // root is refused by the key policy either way, with the same answer.
    let req = DecryptRequest {
        ciphertext_blob: blob.clone(),
        ..DecryptRequest::default()
    };
    let mut buf = kms_keystore::Plaintext::default();
    let used = kms.decrypt_into(&req, &mut buf).unwrap();
    assert!(w.key_arn.ends_with(&format!("key/{used}")), "{used}");
    assert_eq!(buf.expose_secret(), b"secret");
    let third = w.as_(THIRD, &Principal::root(THIRD.parse().unwrap()));
    let refused = third.decrypt_into(&req, &mut buf).unwrap_err();
    assert_eq!(refused.kind(), ErrorCode::AccessDenied, "{refused}");
    assert_eq!(
        refused.message(),
        third.decrypt(req.clone()).unwrap_err().message()
    );
    assert!(buf.is_empty());
    let gdk = GenerateDataKeyRequest {
        key_id: w.key_arn.clone(),
        number_of_bytes: Some(32),
        ..GenerateDataKeyRequest::default()
    };
    kms.generate_data_key(gdk.clone()).unwrap();
    // GenerateDataKey into buffers the caller keeps goes to the owner's
    // account too, and the third account is refused with the same answer.
    let (mut data_key, mut sealed) = (kms_keystore::Plaintext::default(), Vec::new());
    let used = kms
        .generate_data_key_into(&gdk, &mut data_key, &mut sealed)
        .unwrap();
    assert!(w.key_arn.ends_with(&format!("key/{used}")), "{used}");
    let opened = kms
        .decrypt(DecryptRequest {
            ciphertext_blob: sealed.clone(),
            ..DecryptRequest::default()
        })
        .unwrap();
    assert_eq!(opened.plaintext, data_key);
    let refused = third
        .generate_data_key_into(&gdk, &mut data_key, &mut sealed)
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorCode::AccessDenied, "{refused}");
    assert_eq!(
        refused.message(),
        third.generate_data_key(gdk.clone()).unwrap_err().message()
    );
    assert!(data_key.is_empty() && sealed.is_empty());
    let re = kms
        .re_encrypt(ReEncryptRequest {
            ciphertext_blob: blob,
            destination_key_id: w.key_arn.clone(),
            ..ReEncryptRequest::default()
        })
        .unwrap();
    assert_eq!(re.key_id, w.key_arn);
    assert_eq!(
        kms.describe_key(&w.key_arn).unwrap().key_metadata.arn,
        w.key_arn
    );
}

#[test]
fn bob_himself_has_no_iam_policy_for_the_key_and_is_refused() {
    let w = world();
    let err = w.encrypt(&w.as_(USERS, &w.bob), &w.key_arn).unwrap_err();
    assert_denied(
        &err,
        "arn:aws:iam::111122223333:user/bob",
        "kms:Encrypt",
        &w.key_arn,
        "because no identity-based policy allows the kms:Encrypt action",
    );
}

#[test]
fn a_user_named_in_the_key_policy_without_an_iam_policy_is_refused_across_accounts() {
    let w = world();
    let alice = w.partition.iam().create_user(USERS, "/", "alice").unwrap();
    let with_alice = SEED_KEY_POLICY.replace(
        r#""AWS": "arn:aws:iam::111122223333:root""#,
        r#""AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:user/alice"]"#,
    );
    w.owner
        .put_key_policy(PutKeyPolicyRequest::new(&w.key_arn, &with_alice))
        .unwrap();
    let kms = w.as_(USERS, &alice);
    let err = w.encrypt(&kms, &w.key_arn).unwrap_err();
    assert_denied(
        &err,
        "arn:aws:iam::111122223333:user/alice",
        "kms:Encrypt",
        &w.key_arn,
        "because no identity-based policy allows the kms:Encrypt action",
    );
    // With an IAM policy of her own account she may.
    w.partition
        .iam()
        .put_identity_policy(
            &alice,
            "p",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}}"#,
        )
        .unwrap();
    w.encrypt(&kms, &w.key_arn).unwrap();
}

#[test]
fn the_role_may_only_do_what_both_policies_allow() {
    let w = world();
    let kms = w.as_(USERS, &w.role_session);
    // The key policy gives account 1 no kms:GetKeyPolicy (and it is not an
    // operation that crosses accounts); the IAM policy does not either.
    let owner_side = w.owner.as_caller(&w.role_session);
    let err = owner_side.get_key_policy(gkp(&w.key_arn)).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::AccessDenied);
    // Through its own account, an operation that never crosses accounts
    // looks for the key ARN there, where there is no such key.
    let err = kms.disable_key(&w.key_arn).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::NotFound);
}

#[test]
fn the_role_cannot_disable_the_key_even_where_both_policies_would_allow_it() {
    let w = world();
    let all = SEED_KEY_POLICY.replace(
        r#""kms:DescribeKey""#,
        r#""kms:DescribeKey", "kms:DisableKey""#,
    );
    w.owner
        .put_key_policy(PutKeyPolicyRequest::new(&w.key_arn, &all))
        .unwrap();
    let role = kms_keystore::Principal::role(USERS.parse().unwrap(), "ExampleRole");
    w.partition
        .iam()
        .put_identity_policy(
            &role,
            "everything",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
        )
        .unwrap();
    let err = w
        .owner
        .as_caller(&w.role_session)
        .disable_key(&w.key_arn)
        .unwrap_err();
    assert_denied(
        &err,
        "arn:aws:sts::111122223333:assumed-role/ExampleRole/bob",
        "kms:DisableKey",
        &w.key_arn,
        "because no resource-based policy allows the kms:DisableKey action",
    );
    assert_eq!(
        w.owner
            .describe_key(&w.key_arn)
            .unwrap()
            .key_metadata
            .key_state,
        kms_keystore::KeyState::Enabled
    );
}

#[test]
fn a_third_account_is_refused_by_the_key_policy() {
    let w = world();
    let root = Principal::root(THIRD.parse().unwrap());
    let err = w.encrypt(&w.as_(THIRD, &root), &w.key_arn).unwrap_err();
    assert_denied(
        &err,
        "arn:aws:iam::777788889999:root",
        "kms:Encrypt",
        &w.key_arn,
        "because no resource-based policy allows the kms:Encrypt action",
    );
}

#[test]
fn the_other_accounts_root_needs_only_the_key_policy() {
    let w = world();
    let root = Principal::root(USERS.parse().unwrap());
    w.encrypt(&w.as_(USERS, &root), &w.key_arn).unwrap();
}

#[test]
fn an_explicit_deny_added_later_refuses_the_role() {
    let w = world();
    let kms = w.as_(USERS, &w.role_session);
    w.encrypt(&kms, &w.key_arn).unwrap();
    let with_deny = SEED_KEY_POLICY.replace(
        "      ]\n  }",
        r#"  , {
              "Sid": "No more encrypting for ExampleRole",
              "Effect": "Deny",
              "Principal": {"AWS": "arn:aws:iam::111122223333:role/ExampleRole"},
              "Action": "kms:Encrypt",
              "Resource": "*"
          }
      ]
  }"#,
    );
    w.owner
        .put_key_policy(PutKeyPolicyRequest::new(&w.key_arn, &with_deny))
        .unwrap();
    let err = w.encrypt(&kms, &w.key_arn).unwrap_err();
    assert_denied(
        &err,
        "arn:aws:sts::111122223333:assumed-role/ExampleRole/bob",
        "kms:Encrypt",
        &w.key_arn,
        "with an explicit deny in a resource-based policy",
    );
    // Only Encrypt is denied.
    kms.describe_key(&w.key_arn).unwrap();
}

#[test]
fn an_explicit_deny_in_an_identity_policy_wins_over_both_allows() {
    let w = world();
    let role = Principal::role(USERS.parse().unwrap(), "ExampleRole");
    w.partition
        .iam()
        .put_identity_policy(
            &role,
            "deny",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kms:Encrypt","Resource":"*"}}"#,
        )
        .unwrap();
    let err = w
        .encrypt(&w.as_(USERS, &w.role_session), &w.key_arn)
        .unwrap_err();
    assert_denied(
        &err,
        "arn:aws:sts::111122223333:assumed-role/ExampleRole/bob",
        "kms:Encrypt",
        &w.key_arn,
        "with an explicit deny in an identity-based policy",
    );
}

#[test]
fn a_bare_key_id_names_a_key_of_the_callers_own_account() {
    let w = world();
    let kms = w.as_(USERS, &w.role_session);
    let key_id = w.key_arn.rsplit('/').next().unwrap();
    let err = w.encrypt(&kms, key_id).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::NotFound);
}

#[test]
fn the_owner_accounts_users_need_the_owners_iam_policies() {
    let w = world();
    let carol = w.partition.iam().create_user(OWNER, "/", "carol").unwrap();
    let kms = w.owner.as_caller(&carol);
    let err = w.encrypt(&kms, &w.key_arn).unwrap_err();
    assert_denied(
        &err,
        "arn:aws:iam::444455556666:user/carol",
        "kms:Encrypt",
        &w.key_arn,
        "because no identity-based policy allows the kms:Encrypt action",
    );
    w.partition
        .iam()
        .put_identity_policy(
            &carol,
            "p",
            &format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"kms:Encrypt","Resource":"{}"}}}}"#,
                w.key_arn
            ),
        )
        .unwrap();
    w.encrypt(&kms, &w.key_arn).unwrap();
    // A bare key id works in her own account.
    let key_id = w.key_arn.rsplit('/').next().unwrap();
    w.encrypt(&kms, key_id).unwrap();
}

#[test]
fn the_simulator_names_the_deciding_statements_and_changes_nothing() {
    let w = world();
    let kms = w.as_(USERS, &w.role_session);
    let yes = kms
        .simulate_authorization(SimulateAuthorizationRequest::new(
            "kms:Encrypt",
            Some(&w.key_arn),
        ))
        .unwrap();
    assert_eq!(yes.kind, DecisionKind::Allowed);
    assert_eq!(yes.statements.len(), 2);
    assert_eq!(yes.statements[0].source, PolicySource::KeyPolicy);
    assert_eq!(
        yes.statements[0].sid.as_deref(),
        Some("Allow account 1 to use this CMK")
    );
    assert_eq!(yes.statements[0].index, 1);
    assert_eq!(
        yes.statements[1].source,
        PolicySource::IdentityPolicy {
            principal_arn: "arn:aws:iam::111122223333:role/ExampleRole".to_owned(),
            policy_name: "use-cmk".to_owned(),
        }
    );
    let no = kms
        .simulate_authorization(SimulateAuthorizationRequest::new(
            "kms:ScheduleKeyDeletion",
            Some(&w.key_arn),
        ))
        .unwrap();
    assert_eq!(no.kind, DecisionKind::ImplicitDeny);
    assert!(no.message.unwrap().contains("kms:ScheduleKeyDeletion"));
    let err = kms
        .simulate_authorization(SimulateAuthorizationRequest::new(
            "kms:Fly",
            Some(&w.key_arn),
        ))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::Validation);
    assert_eq!(
        w.owner
            .describe_key(&w.key_arn)
            .unwrap()
            .key_metadata
            .key_state,
        kms_keystore::KeyState::Enabled
    );
    let _ = &w.clock;
}

#[test]
fn another_partitions_arn_does_not_name_the_key() {
    let w = world();
    let cn = w.key_arn.replace("arn:aws:", "arn:aws-cn:");
    let err = w.encrypt(&w.owner, &cn).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::NotFound);
    // A partition holds only its own Regions.
    let err = w
        .partition
        .add(KmsConfig::new(OWNER, "cn-north-1").unwrap())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::Validation);
    let cn = Partition::new(AwsPartition::AwsCn)
        .add(KmsConfig::new(OWNER, "cn-north-1").unwrap())
        .unwrap();
    let key = cn
        .create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata;
    assert!(
        key.arn
            .starts_with("arn:aws-cn:kms:cn-north-1:444455556666:key/")
    );
    w.encrypt(&cn, &key.arn).unwrap();
}

#[test]
fn a_denied_request_changes_nothing() {
    let w = world();
    let bob = w.owner.as_caller(&w.bob);
    let before = w.owner.get_key_policy(gkp(&w.key_arn)).unwrap();
    for err in [
        bob.disable_key(&w.key_arn).unwrap_err(),
        bob.schedule_key_deletion(kms_keystore::ScheduleKeyDeletionRequest {
            key_id: w.key_arn.clone(),
            ..Default::default()
        })
        .unwrap_err(),
        bob.put_key_policy(PutKeyPolicyRequest::new(&w.key_arn, SEED_KEY_POLICY))
            .unwrap_err(),
        bob.tag_resource(kms_keystore::TagResourceRequest {
            key_id: w.key_arn.clone(),
            tags: vec![kms_keystore::Tag::new("k", "v")],
        })
        .unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorCode::AccessDenied);
        assert!(!err.message().contains("secret"));
    }
    let meta = w.owner.describe_key(&w.key_arn).unwrap().key_metadata;
    assert_eq!(meta.key_state, kms_keystore::KeyState::Enabled);
    assert_eq!(w.owner.get_key_policy(gkp(&w.key_arn)).unwrap(), before);
    assert!(
        w.owner
            .list_resource_tags(kms_keystore::ListResourceTagsRequest {
                key_id: w.key_arn.clone(),
                ..Default::default()
            })
            .unwrap()
            .tags
            .is_empty()
    );
}

#[test]
fn the_lockout_check_asks_whether_the_caller_keeps_put_key_policy() {
    let w = world();
    // Carol of the owner account may manage the key through IAM.
    let carol = w.partition.iam().create_user(OWNER, "/", "carol").unwrap();
    w.partition
        .iam()
        .put_identity_policy(
            &carol,
            "admin",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
        )
        .unwrap();
    let kms = w.owner.as_caller(&carol);
    // A policy that keeps the delegation to the account keeps her in.
    kms.put_key_policy(PutKeyPolicyRequest::new(&w.key_arn, SEED_KEY_POLICY))
        .unwrap();
    // One that names only account 1 would lock her out.
    let only_account_1 = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow",
        "Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}}"#;
    let err = kms
        .put_key_policy(PutKeyPolicyRequest::new(&w.key_arn, only_account_1))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::MalformedPolicyDocument);
    assert_eq!(
        err.message(),
        "The new key policy will not allow you to update the key policy in the future."
    );
    // Without her IAM policy, even the delegating policy locks her out.
    w.partition
        .iam()
        .delete_identity_policy(&carol, "admin")
        .unwrap();
    w.partition
        .iam()
        .put_identity_policy(
            &carol,
            "only-put",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:PutKeyPolicy","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}"#,
        )
        .unwrap();
    let err = kms
        .put_key_policy(PutKeyPolicyRequest::new(&w.key_arn, SEED_KEY_POLICY))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorCode::AccessDenied);
    kms.with_secure_transport(true)
        .put_key_policy(PutKeyPolicyRequest::new(&w.key_arn, SEED_KEY_POLICY))
        .unwrap();
}

#[test]
fn operations_on_no_key_follow_identity_policies_alone() {
    let w = world();
    let dave = w.partition.iam().create_user(OWNER, "/", "dave").unwrap();
    let kms = w.owner.as_caller(&dave);
    let err = kms.create_key(CreateKeyRequest::default()).unwrap_err();
    assert_denied(
        &err,
        "arn:aws:iam::444455556666:user/dave",
        "kms:CreateKey",
        "*",
        "because no identity-based policy allows the kms:CreateKey action",
    );
    w.partition
        .iam()
        .put_identity_policy(
            &dave,
            "create",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["kms:CreateKey","kms:ListKeys"],"Resource":"*"}}"#,
        )
        .unwrap();
    // The new key's default policy delegates to the account, and dave's
    // IAM policy does not allow Encrypt: he made it but cannot use it.
    let key = kms
        .create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata;
    assert!(kms.list_keys(Default::default()).unwrap().keys.len() >= 2);
    let err = w.encrypt(&kms, &key.arn).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::AccessDenied);
}

fn grant(
    w: &World,
    grantee: &Principal,
    ops: Vec<GrantOperation>,
    subset: Option<&EncryptionContext>,
) -> String {
    w.owner
        .create_grant(CreateGrantRequest {
            key_id: w.key_arn.clone(),
            grantee_principal: grantee.arn(),
            operations: ops,
            constraints: subset.map(|s| GrantConstraints {
                encryption_context_subset: Some(s.clone()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .unwrap()
        .grant_id
}

fn purpose(p: &str) -> EncryptionContext {
    [("purpose".to_owned(), p.to_owned())].into()
}

#[test]
fn a_grant_lets_a_principal_no_policy_mentions_use_the_key() {
    let w = world();
    let grace = w.partition.iam().create_user(THIRD, "/", "grace").unwrap();
    let kms = w.as_(THIRD, &grace);
    let encrypt = |ctx: EncryptionContext| {
        kms.encrypt(EncryptRequest {
            key_id: w.key_arn.clone(),
            plaintext: "secret".into(),
            encryption_context: ctx,
            ..EncryptRequest::default()
        })
    };
    let err = encrypt(purpose("test")).unwrap_err();
    assert_denied(
        &err,
        "arn:aws:iam::777788889999:user/grace",
        "kms:Encrypt",
        &w.key_arn,
        "because no resource-based policy allows the kms:Encrypt action",
    );
    let id = grant(
        &w,
        &grace,
        vec![GrantOperation::Encrypt, GrantOperation::Decrypt],
        Some(&purpose("test")),
    );
    // Allowed by the grant alone — no IAM policy in her account either.
    let blob = encrypt(purpose("test")).unwrap().ciphertext_blob;
    kms.decrypt(DecryptRequest {
        ciphertext_blob: blob,
        encryption_context: purpose("test"),
        ..DecryptRequest::default()
    })
    .unwrap();
    let decision = kms
        .simulate_authorization(SimulateAuthorizationRequest {
            encryption_context: purpose("test"),
            ..SimulateAuthorizationRequest::new("kms:Encrypt", Some(&w.key_arn))
        })
        .unwrap();
    assert_eq!(decision.kind, DecisionKind::AllowedByGrant);
    assert_eq!(decision.grant_id.as_deref(), Some(id.as_str()));
    // Only under its constraint, and only its operations.
    assert_eq!(
        encrypt(purpose("prod")).unwrap_err().kind(),
        ErrorCode::AccessDenied
    );
    assert_eq!(
        kms.describe_key(&w.key_arn).unwrap_err().kind(),
        ErrorCode::AccessDenied
    );
    // Revoked, it allows nothing.
    w.owner
        .revoke_grant(kms_keystore::RevokeGrantRequest {
            key_id: w.key_arn.clone(),
            grant_id: id,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        encrypt(purpose("test")).unwrap_err().kind(),
        ErrorCode::AccessDenied
    );
}

#[test]
fn an_explicit_deny_in_the_key_policy_beats_a_grant() {
    let w = world();
    let grace = w.partition.iam().create_user(THIRD, "/", "grace").unwrap();
    grant(&w, &grace, vec![GrantOperation::Encrypt], None);
    let kms = w.as_(THIRD, &grace);
    w.encrypt(&kms, &w.key_arn).unwrap();
    let with_deny = SEED_KEY_POLICY.replace(
        "      ]\n  }",
        r#"  , {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::777788889999:root"},
              "Action": "kms:*", "Resource": "*"}
      ]
  }"#,
    );
    w.owner
        .put_key_policy(PutKeyPolicyRequest::new(&w.key_arn, &with_deny))
        .unwrap();
    let err = w.encrypt(&kms, &w.key_arn).unwrap_err();
    assert!(
        err.message()
            .ends_with("with an explicit deny in a resource-based policy"),
        "{err}"
    );
}

#[test]
fn a_grantee_allowed_create_grant_may_only_pass_on_less() {
    let w = world();
    let grace = w.partition.iam().create_user(THIRD, "/", "grace").unwrap();
    let heidi = Principal::user(THIRD.parse().unwrap(), "heidi");
    grant(
        &w,
        &grace,
        vec![GrantOperation::Encrypt, GrantOperation::CreateGrant],
        Some(&purpose("test")),
    );
    let kms = w.as_(THIRD, &grace);
    let create = |ops: Vec<GrantOperation>, constraints: Option<GrantConstraints>| {
        kms.create_grant(CreateGrantRequest {
            key_id: w.key_arn.clone(),
            grantee_principal: heidi.arn(),
            operations: ops,
            constraints,
            ..Default::default()
        })
    };
    let subset = |c: EncryptionContext| {
        Some(GrantConstraints {
            encryption_context_subset: Some(c),
            ..Default::default()
        })
    };
    // Fewer operations, the same or a stricter constraint: allowed.
    create(vec![GrantOperation::Encrypt], subset(purpose("test"))).unwrap();
    let mut stricter = purpose("test");
    stricter.insert("team".to_owned(), "blue".to_owned());
    create(vec![GrantOperation::Encrypt], subset(stricter)).unwrap();
    // More operations, a looser or a different constraint: refused.
    for (ops, constraints) in [
        (vec![GrantOperation::Decrypt], subset(purpose("test"))),
        (vec![GrantOperation::Encrypt], None),
        (vec![GrantOperation::Encrypt], subset(purpose("prod"))),
    ] {
        let err = create(ops, constraints).unwrap_err();
        assert_eq!(err.kind(), ErrorCode::AccessDenied, "{err}");
    }
}
