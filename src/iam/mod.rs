//! Who is asking, and what they may do: principals ([`Principal`]), the
//! caller a request is evaluated as ([`Caller`]), and the IAM policy
//! language (`policy/`: parse, check, evaluate).

pub(crate) mod directory;
#[allow(unreachable_pub, reason = "reached through `internal::policy`")]
pub mod policy;
mod principal;

pub use crate::ids::AwsPartition;
pub use directory::AccessKey;
pub use principal::{Principal, PrincipalKind};

/// The caller of a request as policies see it: the principal, and every
/// ARN a `Principal` element may name to mean it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// Who makes the request.
    pub principal: Principal,
    /// `principal`'s ARN (a service principal's name), as errors and
    /// external key store proxies show it.
    pub arn: String,
    /// The ARNs a `Principal` element matches this caller by: its own ARN
    /// and, for an assumed-role session (or a role), its role's ARN with the
    /// role's IAM path. Never empty for an AWS principal.
    pub match_arns: Vec<String>,
    /// `aws:SourceIp`: the address the request came from, if known.
    pub source_ip: Option<std::net::IpAddr>,
    /// `aws:SecureTransport`: whether the request came over TLS, if known.
    pub secure_transport: Option<bool>,
    /// `kms:ViaService`: the AWS service that made the request on the
    /// principal's behalf (`s3.us-west-2.amazonaws.com`).
    pub via_service: Option<String>,
}

impl Caller {
    /// The caller `principal`, known by its own ARN (and, for a session
    /// whose role has path `/`, by the role's ARN).
    pub fn new(principal: Principal) -> Caller {
        let mut match_arns = vec![principal.arn()];
        match principal.kind() {
            PrincipalKind::AssumedRole { account, role, .. } => {
                match_arns.push(format!(
                    "arn:{}:iam::{account}:role/{role}",
                    principal.partition()
                ));
            }
            PrincipalKind::Service { .. } => match_arns.clear(),
            _ => {}
        }
        Caller {
            arn: principal.arn(),
            principal,
            match_arns,
            source_ip: None,
            secure_transport: None,
            via_service: None,
        }
    }
}
