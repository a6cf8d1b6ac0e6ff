//! AWS managed keys: the predefined aliases `alias/aws/<service>` (one
//! table, [`PREDEFINED`]), the description AWS gives the key it creates
//! behind one, and AWS's key policy for it. Plain data; the service creates
//! the key on first use (`service/managed.rs`).

use crate::ids::{AccountId, AliasName, Region};

/// One predefined alias: the service whose AWS managed key it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ManagedService {
    /// The alias name after `alias/aws/` (`s3` for `alias/aws/s3`).
    pub(crate) alias: &'static str,
    /// The service's endpoint prefix, as `kms:ViaService` names it
    /// (`<prefix>.<region>.amazonaws.com`): EBS volumes are EC2's.
    pub(crate) via_service: &'static str,
    /// What the key protects, in the key's description.
    pub(crate) protects: &'static str,
}

/// The predefined aliases, in name order: the `alias/aws/…` aliases a new
/// account's ListAliases shows without a `TargetKeyId` (AWS KMS API
/// Reference, ListAliases: "predefined aliases that AWS has created but has
/// not yet associated with a KMS key"). The names are those ListAliases
/// answers in an account no service has used yet, as recorded against AWS
/// in moto's KMS test suite (`RESERVED_ALIASES`). The descriptions are the
/// ones AWS gives each key (`Default key that protects my … when no other
/// key is defined`), as DescribeKey answers recorded in public material show
/// them; for `kinesisvideo`, `redshift` and `xray` no recording was found
/// and the service's name stands in.
pub(crate) const PREDEFINED: &[ManagedService] = &[
    svc("acm", "acm", "ACM private keys"),
    svc("dynamodb", "dynamodb", "DynamoDB data"),
    svc("ebs", "ec2", "EBS volumes"),
    svc("elasticfilesystem", "elasticfilesystem", "EFS filesystems"),
    svc("es", "es", "OpenSearch data"),
    svc("glue", "glue", "Glue data"),
    svc("kinesisvideo", "kinesisvideo", "Kinesis Video Streams data"),
    svc("lambda", "lambda", "Lambda functions"),
    svc("rds", "rds", "RDS database volumes"),
    svc("redshift", "redshift", "Redshift data"),
    svc("s3", "s3", "S3 objects"),
    svc("secretsmanager", "secretsmanager", "Secrets Manager data"),
    svc("ssm", "ssm", "SSM parameters"),
    svc("xray", "xray", "X-Ray data"),
];

const fn svc(
    alias: &'static str,
    via_service: &'static str,
    protects: &'static str,
) -> ManagedService {
    ManagedService {
        alias,
        via_service,
        protects,
    }
}

/// The predefined alias `name` names, if any (`alias/aws/<service>` with a
/// service in [`PREDEFINED`]; any other `alias/aws/…` name is an alias like
/// another, which does not exist).
pub(crate) fn predefined(name: &AliasName) -> Option<&'static ManagedService> {
    let service = name.as_str().strip_prefix("alias/aws/")?;
    PREDEFINED.iter().find(|s| s.alias == service)
}

impl ManagedService {
    /// `alias/aws/<service>`.
    pub(crate) fn alias_name(&self) -> String {
        format!("alias/aws/{}", self.alias)
    }

    /// The description AWS gives the key.
    pub(crate) fn description(&self) -> String {
        format!(
            "Default key that protects my {} when no other key is defined",
            self.protects
        )
    }

    /// `<prefix>.<region>.amazonaws.com`: the `kms:ViaService` value of
    /// requests the service makes on a caller's behalf in `region`.
    pub(crate) fn via_service_in(&self, region: &Region) -> String {
        format!("{}.{region}.amazonaws.com", self.via_service)
    }

    /// AWS's key policy for the service's AWS managed key in `account` and
    /// `region`: every principal of the account may use the key through the
    /// service (`kms:ViaService` and `kms:CallerAccount`); the account may
    /// read its metadata directly. Nothing else — managing the key (its
    /// description, policy, tags, state, deletion, aliases) is allowed to
    /// no one, so those calls are `AccessDeniedException`.
    pub(crate) fn key_policy(
        &self,
        partition: &str,
        account: &AccountId,
        region: &Region,
    ) -> String {
        let via = self.via_service_in(region);
        let service = self.alias;
        format!(
            r#"{{
  "Version" : "2012-10-17",
  "Id" : "auto-{service}-2",
  "Statement" : [ {{
    "Sid" : "Allow access through {service} for all principals in the account that are authorized to use {service}",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "*"
    }},
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {{
      "StringEquals" : {{
        "kms:CallerAccount" : "{account}",
        "kms:ViaService" : "{via}"
      }}
    }}
  }}, {{
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:{partition}:iam::{account}:root"
    }},
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant" ],
    "Resource" : "*"
  }} ]
}}"#
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kms::support::policy::{check_policy_shape, parse_policy};

    #[test]
    fn the_table_is_in_name_order_without_duplicates() {
        let names: Vec<String> = PREDEFINED.iter().map(ManagedService::alias_name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
        assert_eq!(names.len(), 14);
        for name in &names {
            let parsed: AliasName = name.parse().unwrap();
            assert_eq!(
                predefined(&parsed).map(ManagedService::alias_name),
                Some(name.clone())
            );
        }
    }

    #[test]
    fn only_the_listed_services_are_predefined() {
        for name in [
            "alias/aws/nope",
            "alias/aws/s3x",
            "alias/s3",
            "alias/aws/S3",
        ] {
            assert!(predefined(&name.parse().unwrap()).is_none(), "{name}");
        }
    }

    #[test]
    fn every_managed_policy_passes_the_policy_checks() {
        let account: AccountId = "111122223333".parse().unwrap();
        let region: Region = "eu-west-1".parse().unwrap();
        for s in PREDEFINED {
            let text = s.key_policy("aws", &account, &region);
            check_policy_shape(&text).unwrap();
            parse_policy(&text).unwrap();
            assert!(text.contains(&format!("{}.eu-west-1.amazonaws.com", s.via_service)));
        }
        assert_eq!(
            PREDEFINED[2].description(),
            "Default key that protects my EBS volumes when no other key is defined"
        );
    }
}
