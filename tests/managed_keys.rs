//! AWS managed keys: the predefined `alias/aws/<service>` aliases are listed
//! without a key; using one creates the service's AWS managed key (once,
//! whatever the concurrency, and durably), whose key policy allows use only
//! through the service and refuses every management call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "durable/mod.rs"]
#[cfg(feature = "durable")]
mod durable;

use std::sync::Arc;

use kms_keystore::{
    AwsPartition, CreateAliasRequest, DecryptRequest, EncryptRequest, GenerateDataKeyRequest,
    GetKeyPolicyRequest, Kms, KmsConfig, ListAliasesRequest, ListKeysRequest, ManualClock,
    Partition, PutKeyPolicyRequest, ReEncryptRequest, ScheduleKeyDeletionRequest, Tag,
    TagResourceRequest, UntagResourceRequest, UpdateAliasRequest, UpdateKeyDescriptionRequest,
    default_key_policy,
};

const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-west-2";

/// The predefined aliases a new account lists.
const PREDEFINED: [&str; 14] = [
    "alias/aws/acm",
    "alias/aws/dynamodb",
    "alias/aws/ebs",
    "alias/aws/elasticfilesystem",
    "alias/aws/es",
    "alias/aws/glue",
    "alias/aws/kinesisvideo",
    "alias/aws/lambda",
    "alias/aws/rds",
    "alias/aws/redshift",
    "alias/aws/s3",
    "alias/aws/secretsmanager",
    "alias/aws/ssm",
    "alias/aws/xray",
];

fn kms() -> Kms {
    Kms::new(
        KmsConfig::new(ACCOUNT, REGION)
            .unwrap()
            .with_clock(ManualClock::default())
            .with_seed(17),
    )
}

fn s3(kms: &Kms) -> Kms {
    kms.via_service(&format!("s3.{REGION}.amazonaws.com"))
}

fn encrypt(kms: &Kms, key_id: &str) -> kms_keystore::Result<Vec<u8>> {
    kms.encrypt(EncryptRequest {
        key_id: key_id.to_owned(),
        plaintext: "secret".into(),
        ..EncryptRequest::default()
    })
    .map(|r| r.ciphertext_blob.to_vec())
}

fn code<T>(r: kms_keystore::Result<T>) -> String {
    match r {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.code().to_owned(),
    }
}

fn key_count(kms: &Kms) -> usize {
    kms.list_keys(ListKeysRequest::default())
        .unwrap()
        .keys
        .len()
}

fn listed(kms: &Kms) -> Vec<(String, Option<String>)> {
    let page = kms
        .list_aliases(ListAliasesRequest {
            limit: Some(100),
            ..Default::default()
        })
        .unwrap();
    assert!(!page.truncated);
    page.aliases
        .into_iter()
        .map(|a| {
            (
                a.alias_name.to_string(),
                a.target_key_id.map(|k| k.to_string()),
            )
        })
        .collect()
}

#[test]
fn a_new_account_lists_the_predefined_aliases_without_a_key() {
    let kms = kms();
    let aliases = listed(&kms);
    let names: Vec<&str> = aliases.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, PREDEFINED);
    assert!(aliases.iter().all(|(_, k)| k.is_none()));
    // As AWS writes them: name and ARN only.
    let json = serde_json::to_value(
        kms.list_aliases(ListAliasesRequest {
            limit: Some(1),
            ..Default::default()
        })
        .unwrap(),
    )
    .unwrap();
    let entry = json["Aliases"][0].as_object().unwrap();
    let mut fields: Vec<&str> = entry.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["AliasArn", "AliasName"]);
    assert_eq!(
        entry["AliasArn"],
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/acm")
    );
    assert_eq!(key_count(&kms), 0, "listing creates nothing");
}

#[test]
fn predefined_aliases_page_with_the_others_in_name_order() {
    let kms = kms();
    let key = kms
        .create_key(Default::default())
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    for name in ["alias/a", "alias/aws", "alias/awz", "alias/z"] {
        kms.create_alias(CreateAliasRequest::new(name, key.clone()))
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_aliases(ListAliasesRequest {
                limit: Some(4),
                marker: marker.take(),
                ..Default::default()
            })
            .unwrap();
        assert!(page.aliases.len() <= 4);
        seen.extend(page.aliases.into_iter().map(|a| a.alias_name.to_string()));
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    let mut expected: Vec<String> = PREDEFINED.iter().map(|s| (*s).to_owned()).collect();
    expected.extend(["alias/a", "alias/aws", "alias/awz", "alias/z"].map(String::from));
    expected.sort();
    assert_eq!(seen, expected);
    // Filtered by key: only that key's aliases, never the predefined ones.
    let mine = kms
        .list_aliases(ListAliasesRequest {
            key_id: Some(key),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(mine.aliases.len(), 4);
}

#[test]
fn first_use_creates_the_aws_managed_key_and_points_the_alias_at_it() {
    let kms = kms();
    let blob = encrypt(&s3(&kms), "alias/aws/s3").unwrap();
    let meta = kms.describe_key("alias/aws/s3").unwrap().key_metadata;
    assert_eq!(meta.key_manager.as_str(), "AWS");
    assert_eq!(
        meta.description,
        "Default key that protects my S3 objects when no other key is defined"
    );
    assert!(meta.enabled);
    assert_eq!(meta.origin.as_str(), "AWS_KMS");
    let id = meta.key_id.to_string();
    // The alias now has the key, with dates; ListKeys shows the key.
    let aliases = listed(&kms);
    assert!(aliases.contains(&("alias/aws/s3".to_owned(), Some(id.clone()))));
    assert_eq!(
        aliases.iter().filter(|(_, k)| k.is_none()).count(),
        13,
        "{aliases:?}"
    );
    let keys = kms.list_keys(ListKeysRequest::default()).unwrap().keys;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].key_id.to_string(), id);
    // The ciphertext is the key's; it decrypts through the service.
    let plain = s3(&kms)
        .decrypt(DecryptRequest {
            ciphertext_blob: blob.clone(),
            ..DecryptRequest::default()
        })
        .unwrap();
    assert_eq!(plain.key_id, meta.arn);
    // Later uses find the same key.
    encrypt(&s3(&kms), "alias/aws/s3").unwrap();
    assert_eq!(key_count(&kms), 1);
}

#[test]
fn every_use_of_a_key_creates_it_by_name_or_alias_arn() {
    let kms = kms();
    let ebs = kms.via_service(&format!("ec2.{REGION}.amazonaws.com"));
    ebs.generate_data_key(GenerateDataKeyRequest {
        key_id: "alias/aws/ebs".into(),
        number_of_bytes: Some(32),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        kms.describe_key("alias/aws/ebs")
            .unwrap()
            .key_metadata
            .description,
        "Default key that protects my EBS volumes when no other key is defined"
    );
    let rds = kms.via_service(&format!("rds.{REGION}.amazonaws.com"));
    rds.generate_data_key_without_plaintext(GenerateDataKeyRequest {
        key_id: format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/rds"),
        number_of_bytes: Some(32),
        ..Default::default()
    })
    .unwrap();
    // ReEncrypt's destination.
    let own = kms.create_key(Default::default()).unwrap().key_metadata;
    let blob = encrypt(&kms, &own.key_id.to_string()).unwrap();
    let lambda = kms.via_service(&format!("lambda.{REGION}.amazonaws.com"));
    // The source key (default policy) allows the root directly, the
    // destination through Lambda.
    let out = lambda
        .re_encrypt(ReEncryptRequest {
            ciphertext_blob: blob.clone(),
            destination_key_id: "alias/aws/lambda".into(),
            ..ReEncryptRequest::default()
        })
        .unwrap();
    // DescribeKey, directly: AWS documents that it creates the key too.
    let ssm = kms.describe_key("alias/aws/ssm").unwrap().key_metadata;
    assert_eq!(ssm.key_manager.as_str(), "AWS");
    let with_key: Vec<String> = listed(&kms)
        .into_iter()
        .filter(|(_, k)| k.is_some())
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        with_key,
        [
            "alias/aws/ebs",
            "alias/aws/lambda",
            "alias/aws/rds",
            "alias/aws/ssm"
        ]
    );
    assert_eq!(
        out.key_id,
        kms.describe_key("alias/aws/lambda")
            .unwrap()
            .key_metadata
            .arn
    );
    assert_eq!(key_count(&kms), 5);
}

#[test]
fn a_name_outside_the_predefined_list_is_not_found_and_creates_nothing() {
    let kms = kms();
    for name in ["alias/aws/nope", "alias/aws/S3", "alias/aws/s3/x"] {
        assert_eq!(
            code(encrypt(&s3(&kms), name)),
            "NotFoundException",
            "{name}"
        );
        assert_eq!(code(kms.describe_key(name)), "NotFoundException", "{name}");
    }
    // An alias ARN of another Region names that Region's alias.
    assert_eq!(
        code(kms.describe_key(&format!("arn:aws:kms:eu-west-1:{ACCOUNT}:alias/aws/s3"))),
        "NotFoundException"
    );
    // Operations that only read a key do not create one.
    assert_eq!(
        code(s3(&kms).decrypt(DecryptRequest {
            ciphertext_blob: vec![1; 64],
            key_id: Some("alias/aws/s3".into()),
            ..DecryptRequest::default()
        })),
        "NotFoundException"
    );
    assert_eq!(key_count(&kms), 0);
    assert!(listed(&kms).iter().all(|(_, k)| k.is_none()));
}

#[test]
fn concurrent_first_uses_create_one_key() {
    let kms = Arc::new(kms());
    let ids: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let kms = Arc::clone(&kms);
                s.spawn(move || {
                    if i % 2 == 0 {
                        kms.describe_key("alias/aws/dynamodb")
                            .unwrap()
                            .key_metadata
                            .key_id
                            .to_string()
                    } else {
                        let via = kms.via_service(&format!("dynamodb.{REGION}.amazonaws.com"));
                        encrypt(&via, "alias/aws/dynamodb").unwrap();
                        kms.describe_key("alias/aws/dynamodb")
                            .unwrap()
                            .key_metadata
                            .key_id
                            .to_string()
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    assert_eq!(key_count(&kms), 1);
}

#[test]
fn the_managed_key_policy_allows_use_only_through_the_service_of_the_account() {
    let partition = Partition::with_seed(AwsPartition::Aws, 9);
    let kms = partition
        .add(
            KmsConfig::new(ACCOUNT, REGION)
                .unwrap()
                .with_clock(ManualClock::default())
                .with_seed(5),
        )
        .unwrap();
    // Created by DescribeKey, which the account may call directly.
    let key = kms.describe_key("alias/aws/s3").unwrap().key_metadata;
    let policy = kms
        .get_key_policy(GetKeyPolicyRequest {
            key_id: key.key_id.to_string(),
            ..Default::default()
        })
        .unwrap()
        .policy;
    assert!(policy.contains("\"kms:ViaService\" : \"s3.us-west-2.amazonaws.com\""));
    assert!(policy.contains(&format!("\"kms:CallerAccount\" : \"{ACCOUNT}\"")));
    assert_ne!(policy, default_key_policy(&ACCOUNT.parse().unwrap()));
    // Directly, even the account root may not use it.
    let direct = kms.encrypt(EncryptRequest {
        key_id: "alias/aws/s3".into(),
        plaintext: "x".into(),
        ..EncryptRequest::default()
    });
    let err = direct.unwrap_err();
    assert_eq!(err.code(), "AccessDeniedException");
    assert!(err.message().contains("kms:Encrypt"), "{}", err.message());
    // Through S3 it may, and so may any principal of the account, with no
    // IAM permission for KMS.
    encrypt(&s3(&kms), "alias/aws/s3").unwrap();
    let user = partition.iam().create_user(ACCOUNT, "/", "u").unwrap();
    encrypt(&s3(&kms.as_caller(&user)), "alias/aws/s3").unwrap();
    // Through another service it may not.
    let ec2 = kms.via_service(&format!("ec2.{REGION}.amazonaws.com"));
    assert_eq!(code(encrypt(&ec2, "alias/aws/s3")), "AccessDeniedException");
    // Nor may a principal of another account, through S3 or not.
    let other = partition
        .iam()
        .create_user("444455556666", "/", "x")
        .unwrap();
    let arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/s3");
    assert_eq!(
        code(encrypt(&s3(&kms.as_caller(&other)), &arn)),
        "AccessDeniedException"
    );
}

#[test]
fn management_calls_on_an_aws_managed_key_are_refused() {
    let kms = kms();
    let meta = kms
        .describe_key("alias/aws/secretsmanager")
        .unwrap()
        .key_metadata;
    let id = meta.key_id.to_string();
    let own = kms
        .create_key(Default::default())
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    kms.create_alias(CreateAliasRequest::new("alias/mine", own))
        .unwrap();
    let tag = Tag::new("k", "v");
    let refusals = [
        (
            "UpdateKeyDescription",
            code(kms.update_key_description(UpdateKeyDescriptionRequest::new(&id, "mine"))),
        ),
        (
            "ScheduleKeyDeletion",
            code(kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: id.clone(),
                ..Default::default()
            })),
        ),
        (
            "PutKeyPolicy",
            code(kms.put_key_policy(PutKeyPolicyRequest::new(
                &id,
                default_key_policy(&ACCOUNT.parse().unwrap()),
            ))),
        ),
        ("DisableKey", code(kms.disable_key(&id))),
        ("EnableKey", code(kms.enable_key(&id))),
        (
            "TagResource",
            code(kms.tag_resource(TagResourceRequest {
                key_id: id.clone(),
                tags: vec![tag],
            })),
        ),
        (
            "UntagResource",
            code(kms.untag_resource(UntagResourceRequest {
                key_id: id.clone(),
                tag_keys: vec!["k".into()],
            })),
        ),
        (
            "CreateAlias",
            code(kms.create_alias(CreateAliasRequest::new("alias/to-managed", &id))),
        ),
        (
            "UpdateAlias",
            code(kms.update_alias(UpdateAliasRequest::new("alias/mine", &id))),
        ),
    ];
    for (op, got) in refusals {
        assert_eq!(got, "AccessDeniedException", "{op}");
    }
    // Nothing changed.
    let after = kms.describe_key(&id).unwrap().key_metadata;
    assert_eq!(after, meta);
    let pointing: Vec<String> = listed(&kms)
        .into_iter()
        .filter(|(_, k)| k.as_deref() == Some(id.as_str()))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(pointing, ["alias/aws/secretsmanager"]);
    // Its predefined alias is AWS's.
    assert_eq!(
        code(kms.delete_alias("alias/aws/secretsmanager")),
        "NotAuthorizedException"
    );
}

#[cfg(feature = "durable")]
#[test]
fn a_managed_key_and_its_alias_survive_a_restart() {
    let clock = ManualClock::default();
    let path = durable::temp_dir("managed-keys").join("kms.redb");
    let (id, blob) = {
        let kms = durable::open(&path, &clock);
        let blob = encrypt(&s3(&kms), "alias/aws/s3").unwrap();
        let id = kms.describe_key("alias/aws/s3").unwrap().key_metadata;
        (id, blob)
    };
    let kms = durable::open(&path, &clock);
    let again = kms.describe_key("alias/aws/s3").unwrap().key_metadata;
    assert_eq!(again, id);
    assert_eq!(again.key_manager.as_str(), "AWS");
    assert_eq!(key_count(&kms), 1);
    let plain = s3(&kms)
        .decrypt(DecryptRequest {
            ciphertext_blob: blob.clone(),
            ..DecryptRequest::default()
        })
        .unwrap();
    assert_eq!(plain.key_id, id.arn);
    // Still managed: still refused.
    assert_eq!(code(encrypt(&kms, "alias/aws/s3")), "AccessDeniedException");
}

#[test]
fn an_aws_managed_key_rotates_every_year_and_its_rotation_cannot_be_changed() {
    let clock = ManualClock::default();
    let kms = Kms::new(
        KmsConfig::new(ACCOUNT, REGION)
            .unwrap()
            .with_clock(clock.clone())
            .with_seed(17),
    );
    let key = kms
        .describe_key("alias/aws/s3")
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    let status = kms.get_key_rotation_status(&key).unwrap();
    assert!(status.key_rotation_enabled);
    assert_eq!(status.rotation_period_in_days, Some(365));
    let rotations = |kms: &Kms| {
        kms.list_key_rotations(kms_keystore::ListKeyRotationsRequest {
            key_id: key.clone(),
            ..Default::default()
        })
        .unwrap()
        .rotations
    };
    assert!(rotations(&kms).is_empty());
    clock.advance(std::time::Duration::from_secs(86_400 * 365));
    let after = rotations(&kms);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].rotation_type.as_deref(), Some("AUTOMATIC"));
    // The account may not change it: the managed key policy refuses.
    let e = kms.disable_key_rotation(&key).unwrap_err();
    assert_eq!(e.code(), "AccessDeniedException");
}
