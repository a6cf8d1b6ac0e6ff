//! Every condition key the service sets, each evaluated for real: for each
//! key, the same request is made under a key policy whose condition on that
//! key matches the request (allowed) and under one whose condition does not
//! (refused). A key the service failed to set, or set wrongly, fails the
//! first; a condition ignored fails the second.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr};

use kms_keystore::{
    AwsPartition, CreateAliasRequest, CreateGrantRequest, CreateKeyRequest,
    EnableKeyRotationRequest, EncryptRequest, EncryptionContext, ErrorCode, GrantConstraints,
    GrantOperation, Kms, KmsConfig, ManualClock, Partition, Principal, PutKeyPolicyRequest,
    ReEncryptRequest, ScheduleKeyDeletionRequest, Tag, TagResourceRequest, UntagResourceRequest,
};

const OWNER: &str = "444455556666";
const REGION: &str = "us-west-2";

/// What a case does, as user `u` of the key's account.
#[derive(Clone, Copy)]
enum Call {
    /// Encrypt by key id with context `{Dept: Eng}`.
    Encrypt,
    /// Encrypt through the alias `alias/app`.
    EncryptByAlias,
    /// Encrypt from 10.1.2.3 over TLS, through S3.
    EncryptFromNetwork,
    /// ReEncrypt a ciphertext of the key to the same key.
    ReEncryptSameKey,
    /// ScheduleKeyDeletion with a 7-day window.
    ScheduleDeletion,
    /// PutKeyPolicy with BypassPolicyLockoutSafetyCheck.
    PutPolicyBypassing,
    /// TagResource `env=prod`.
    Tag,
    /// UntagResource `env`.
    Untag,
    /// CreateGrant to user `g` (Encrypt, Decrypt), retiring principal user
    /// `r`, constraint `EncryptionContextSubset {Dept: Eng}`.
    CreateGrant,
    /// EnableKeyRotation with a 180-day period (refused afterwards as
    /// unsupported: only the authorization is under test).
    EnableRotation,
}

impl Call {
    fn action(self) -> &'static str {
        match self {
            Call::Encrypt | Call::EncryptByAlias | Call::EncryptFromNetwork => "kms:Encrypt",
            Call::ReEncryptSameKey => "kms:ReEncrypt*",
            Call::ScheduleDeletion => "kms:ScheduleKeyDeletion",
            Call::PutPolicyBypassing => "kms:PutKeyPolicy",
            Call::Tag => "kms:TagResource",
            Call::Untag => "kms:UntagResource",
            Call::EnableRotation => "kms:EnableKeyRotation",
            Call::CreateGrant => "kms:CreateGrant",
        }
    }
}

/// The key policy: the account root administers the key; user `u` may do
/// the case's action under `condition`.
fn policy(action: &str, condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Sid":"admin","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OWNER}:root"}},"Action":"kms:*","Resource":"*"}},
        {{"Sid":"u","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OWNER}:user/u"}},"Action":"{action}","Resource":"*",
          "Condition":{condition}}}]}}"#
    )
}

/// Runs `call` as `u` against a key whose policy has `condition`; the
/// outcome is Ok unless the call was refused (`AccessDeniedException`).
fn run(call: Call, condition: &str) -> Result<(), kms_keystore::Error> {
    let clock = ManualClock::default();
    let partition = Partition::with_seed(AwsPartition::Aws, 9);
    let owner: Kms = partition
        .add(
            KmsConfig::new(OWNER, REGION)
                .unwrap()
                .with_clock(clock)
                .with_seed(5),
        )
        .unwrap();
    let key = owner
        .create_key(CreateKeyRequest {
            policy: Some(policy(call.action(), condition)),
            tags: vec![Tag::new("env", "prod")],
            ..CreateKeyRequest::default()
        })
        .unwrap()
        .key_metadata;
    let key_id = key.key_id.to_string();
    owner
        .create_alias(CreateAliasRequest::new("alias/app", key_id.clone()))
        .unwrap();
    let u = partition.iam().create_user(OWNER, "/", "u").unwrap();
    partition.iam().tag_principal(&u, "team", "blue").unwrap();
    let kms = owner.as_caller(&u);
    let context: EncryptionContext = [("Dept".to_owned(), "Eng".to_owned())].into();
    let encrypt = |kms: &Kms, key_id: &str| {
        kms.encrypt(EncryptRequest {
            key_id: key_id.to_owned(),
            plaintext: "x".into(),
            encryption_context: context.clone(),
            ..EncryptRequest::default()
        })
        .map(drop)
    };
    let outcome = match call {
        Call::Encrypt => encrypt(&kms, &key_id),
        Call::EncryptByAlias => encrypt(&kms, "alias/app"),
        Call::EncryptFromNetwork => encrypt(
            &kms.with_source_ip(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)))
                .with_secure_transport(true)
                .via_service("s3.us-west-2.amazonaws.com"),
            &key_id,
        ),
        Call::ReEncryptSameKey => {
            let blob = owner
                .encrypt(EncryptRequest {
                    key_id: key_id.clone(),
                    plaintext: "x".into(),
                    ..EncryptRequest::default()
                })
                .unwrap()
                .ciphertext_blob;
            kms.re_encrypt(ReEncryptRequest {
                ciphertext_blob: blob,
                destination_key_id: key_id.clone(),
                ..ReEncryptRequest::default()
            })
            .map(drop)
        }
        Call::ScheduleDeletion => kms
            .schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: key_id.clone(),
                pending_window_in_days: Some(7),
            })
            .map(drop),
        Call::PutPolicyBypassing => kms.put_key_policy(PutKeyPolicyRequest {
            bypass_policy_lockout_safety_check: Some(true),
            ..PutKeyPolicyRequest::new(&key_id, policy(call.action(), condition))
        }),
        Call::Tag => kms.tag_resource(TagResourceRequest {
            key_id: key_id.clone(),
            tags: vec![Tag::new("env", "prod")],
        }),
        Call::Untag => kms.untag_resource(UntagResourceRequest {
            key_id: key_id.clone(),
            tag_keys: vec!["env".to_owned()],
        }),
        Call::CreateGrant => kms
            .create_grant(CreateGrantRequest {
                key_id: key_id.clone(),
                grantee_principal: format!("arn:aws:iam::{OWNER}:user/g"),
                retiring_principal: Some(format!("arn:aws:iam::{OWNER}:user/r")),
                operations: vec![GrantOperation::Encrypt, GrantOperation::Decrypt],
                constraints: Some(GrantConstraints {
                    encryption_context_subset: Some(context.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .map(drop),
        Call::EnableRotation => kms
            .enable_key_rotation(EnableKeyRotationRequest {
                key_id: key_id.clone(),
                rotation_period_in_days: Some(180),
            })
            .or_else(|e| match e.kind() {
                ErrorCode::UnsupportedOperation => Ok(()),
                _ => Err(e),
            }),
    };
    let _ = Principal::root(OWNER.parse().unwrap());
    outcome
}

/// One test per condition key: `$matching` is a condition the call meets,
/// `$failing` one it does not.
macro_rules! condition_key_tests {
    ($( $name:ident: $call:expr, $matching:expr, $failing:expr; )*) => {
        $(
            #[test]
            fn $name() {
                if let Err(e) = run($call, $matching) {
                    panic!("the matching condition {} refused the call: {e}", $matching);
                }
                let err = run($call, $failing).expect_err("the failing condition allowed the call");
                assert_eq!(err.kind(), ErrorCode::AccessDenied, "{err}");
            }
        )*
    };
}

condition_key_tests! {
    encryption_context_pair:
        Call::Encrypt,
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":"Eng"}}"#,
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":"Ops"}}"#;
    encryption_context_keys:
        Call::Encrypt,
        r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Dept","Team"]}}"#,
        r#"{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":"Team"}}"#;
    encryption_algorithm:
        Call::Encrypt,
        r#"{"StringEquals":{"kms:EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}}"#,
        r#"{"StringEquals":{"kms:EncryptionAlgorithm":"RSAES_OAEP_SHA_256"}}"#;
    caller_account:
        Call::Encrypt,
        r#"{"StringEquals":{"kms:CallerAccount":"444455556666"}}"#,
        r#"{"StringEquals":{"kms:CallerAccount":"111122223333"}}"#;
    via_service:
        Call::EncryptFromNetwork,
        r#"{"StringEquals":{"kms:ViaService":"s3.us-west-2.amazonaws.com"}}"#,
        r#"{"StringEquals":{"kms:ViaService":"ec2.us-west-2.amazonaws.com"}}"#;
    via_service_absent_without_a_service:
        Call::Encrypt,
        r#"{"Null":{"kms:ViaService":"true"}}"#,
        r#"{"Null":{"kms:ViaService":"false"}}"#;
    key_origin:
        Call::Encrypt,
        r#"{"StringEquals":{"kms:KeyOrigin":"AWS_KMS"}}"#,
        r#"{"StringEquals":{"kms:KeyOrigin":"AWS_CLOUDHSM"}}"#;
    key_spec:
        Call::Encrypt,
        r#"{"StringEquals":{"kms:KeySpec":"SYMMETRIC_DEFAULT"}}"#,
        r#"{"StringEquals":{"kms:KeySpec":"RSA_2048"}}"#;
    key_usage:
        Call::Encrypt,
        r#"{"StringEquals":{"kms:KeyUsage":"ENCRYPT_DECRYPT"}}"#,
        r#"{"StringEquals":{"kms:KeyUsage":"SIGN_VERIFY"}}"#;
    customer_master_key_spec:
        Call::Encrypt,
        r#"{"StringEquals":{"kms:CustomerMasterKeySpec":"SYMMETRIC_DEFAULT"}}"#,
        r#"{"StringLike":{"kms:CustomerMasterKeySpec":"RSA_*"}}"#;
    multi_region:
        Call::Encrypt,
        r#"{"Bool":{"kms:MultiRegion":"false"}}"#,
        r#"{"Bool":{"kms:MultiRegion":"true"}}"#;
    request_alias:
        Call::EncryptByAlias,
        r#"{"StringEquals":{"kms:RequestAlias":"alias/app"}}"#,
        r#"{"StringEquals":{"kms:RequestAlias":"alias/other"}}"#;
    request_alias_absent_by_key_id:
        Call::Encrypt,
        r#"{"Null":{"kms:RequestAlias":"true"}}"#,
        r#"{"StringEquals":{"kms:RequestAlias":"alias/app"}}"#;
    resource_aliases:
        Call::Encrypt,
        r#"{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/app"}}"#,
        r#"{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/other"}}"#;
    re_encrypt_on_same_key:
        Call::ReEncryptSameKey,
        r#"{"Bool":{"kms:ReEncryptOnSameKey":"true"}}"#,
        r#"{"Bool":{"kms:ReEncryptOnSameKey":"false"}}"#;
    pending_window_in_days:
        Call::ScheduleDeletion,
        r#"{"NumericLessThanEquals":{"kms:ScheduleKeyDeletionPendingWindowInDays":"7"}}"#,
        r#"{"NumericGreaterThan":{"kms:ScheduleKeyDeletionPendingWindowInDays":"7"}}"#;
    bypass_policy_lockout_safety_check:
        Call::PutPolicyBypassing,
        r#"{"Bool":{"kms:BypassPolicyLockoutSafetyCheck":"true"}}"#,
        r#"{"Bool":{"kms:BypassPolicyLockoutSafetyCheck":"false"}}"#;
    rotation_period_in_days:
        Call::EnableRotation,
        r#"{"NumericEquals":{"kms:RotationPeriodInDays":"180"}}"#,
        r#"{"NumericLessThan":{"kms:RotationPeriodInDays":"100"}}"#;
    principal_arn:
        Call::Encrypt,
        r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::444455556666:user/u"}}"#,
        r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}"#;
    principal_account:
        Call::Encrypt,
        r#"{"StringEquals":{"aws:PrincipalAccount":"444455556666"}}"#,
        r#"{"StringNotEquals":{"aws:PrincipalAccount":"444455556666"}}"#;
    principal_type:
        Call::Encrypt,
        r#"{"StringEquals":{"aws:PrincipalType":"User"}}"#,
        r#"{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}"#;
    userid:
        Call::Encrypt,
        r#"{"StringLike":{"aws:userid":"AIDA*"}}"#,
        r#"{"StringLike":{"aws:userid":"AROA*"}}"#;
    username:
        Call::Encrypt,
        r#"{"StringEquals":{"aws:username":"u"}}"#,
        r#"{"StringEquals":{"aws:username":"bob"}}"#;
    username_as_a_variable:
        Call::Encrypt,
        r#"{"StringLike":{"aws:PrincipalArn":"*:user/${aws:username}"}}"#,
        r#"{"StringLike":{"aws:PrincipalArn":"*:user/${aws:username}x"}}"#;
    variable_default_value:
        Call::Encrypt,
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":"${aws:nothing, 'Eng'}"}}"#,
        r#"{"StringEquals":{"kms:EncryptionContext:Dept":"${aws:nothing, 'Ops'}"}}"#;
    source_ip:
        Call::EncryptFromNetwork,
        r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#;
    secure_transport:
        Call::EncryptFromNetwork,
        r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
        r#"{"Bool":{"aws:SecureTransport":"false"}}"#;
    current_time_from_the_clock:
        Call::Encrypt,
        r#"{"DateLessThan":{"aws:CurrentTime":"2023-01-01T00:00:01Z"}}"#,
        r#"{"DateGreaterThan":{"aws:CurrentTime":"2023-01-01T00:00:01Z"}}"#;
    principal_tag:
        Call::Encrypt,
        r#"{"StringEquals":{"aws:PrincipalTag/team":"blue"}}"#,
        r#"{"StringEquals":{"aws:PrincipalTag/team":"red"}}"#;
    resource_tag:
        Call::Encrypt,
        r#"{"StringEquals":{"aws:ResourceTag/env":"prod"}}"#,
        r#"{"StringEquals":{"aws:ResourceTag/env":"dev"}}"#;
    request_tag:
        Call::Tag,
        r#"{"StringEquals":{"aws:RequestTag/env":"prod"}}"#,
        r#"{"StringEquals":{"aws:RequestTag/env":"dev"}}"#;
    tag_keys_of_tag_resource:
        Call::Tag,
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["env","owner"]}}"#,
        r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"owner"}}"#;
    grant_operations:
        Call::CreateGrant,
        r#"{"ForAllValues:StringEquals":{"kms:GrantOperations":["Encrypt","Decrypt","DescribeKey"]}}"#,
        r#"{"ForAllValues:StringEquals":{"kms:GrantOperations":["Encrypt"]}}"#;
    grantee_principal:
        Call::CreateGrant,
        r#"{"StringEquals":{"kms:GranteePrincipal":"arn:aws:iam::444455556666:user/g"}}"#,
        r#"{"StringEquals":{"kms:GranteePrincipal":"arn:aws:iam::444455556666:user/r"}}"#;
    retiring_principal:
        Call::CreateGrant,
        r#"{"StringEquals":{"kms:RetiringPrincipal":"arn:aws:iam::444455556666:user/r"}}"#,
        r#"{"StringEquals":{"kms:RetiringPrincipal":"arn:aws:iam::444455556666:user/g"}}"#;
    grant_constraint_type:
        Call::CreateGrant,
        r#"{"StringEquals":{"kms:GrantConstraintType":"EncryptionContextSubset"}}"#,
        r#"{"StringEquals":{"kms:GrantConstraintType":"EncryptionContextEquals"}}"#;
    grant_is_for_aws_resource:
        Call::CreateGrant,
        r#"{"Bool":{"kms:GrantIsForAWSResource":"false"}}"#,
        r#"{"Bool":{"kms:GrantIsForAWSResource":"true"}}"#;
    tag_keys_of_untag_resource:
        Call::Untag,
        r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"env"}}"#,
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":"owner"}}"#;
}
