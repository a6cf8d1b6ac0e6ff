//! Principals: who makes a request ([`Principal`]), parsed from and shown as
//! the ARNs AWS uses.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result, kms_err};
use crate::ids::{AccountId, AwsPartition};

/// Who makes a request: an account root, an IAM user or role, an
/// assumed-role session, or an AWS service.
///
/// ```
/// use kms_keystore::Principal;
/// let bob: Principal = "arn:aws:iam::111122223333:user/bob".parse().unwrap();
/// assert_eq!(bob.account().unwrap().as_str(), "111122223333");
/// let s = Principal::assumed_role("111122223333".parse().unwrap(), "ExampleRole", "bob-session");
/// assert_eq!(s.arn(), "arn:aws:sts::111122223333:assumed-role/ExampleRole/bob-session");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Principal {
    partition: AwsPartition,
    kind: PrincipalKind,
}

/// What kind of principal, with its names. The `Path`s are IAM paths
/// (`/` or `/division/team/`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PrincipalKind {
    /// The account root, `arn:aws:iam::ACCOUNT:root`.
    Root {
        /// The account.
        account: AccountId,
    },
    /// An IAM user, `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    User {
        /// The account.
        account: AccountId,
        /// The IAM path, `/` by default.
        path: String,
        /// The user name.
        name: String,
    },
    /// An IAM role, `arn:aws:iam::ACCOUNT:role/PATH/NAME`: a caller that
    /// is a role acts as a session of it.
    Role {
        /// The account.
        account: AccountId,
        /// The IAM path, `/` by default.
        path: String,
        /// The role name.
        name: String,
    },
    /// A session of an assumed role,
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`: evaluated as the
    /// role, shown as the session.
    AssumedRole {
        /// The account.
        account: AccountId,
        /// The role name.
        role: String,
        /// The session name.
        session: String,
    },
    /// An AWS service principal such as `dynamodb.amazonaws.com`.
    Service {
        /// The service principal name.
        name: String,
    },
}

impl Principal {
    /// The root of `account` (partition `aws`).
    pub fn root(account: AccountId) -> Principal {
        Principal::new(PrincipalKind::Root { account })
    }

    /// The IAM user `name` at path `/` of `account`.
    pub fn user(account: AccountId, name: &str) -> Principal {
        Principal::new(PrincipalKind::User {
            account,
            path: "/".to_owned(),
            name: name.to_owned(),
        })
    }

    /// The IAM role `name` at path `/` of `account`.
    pub fn role(account: AccountId, name: &str) -> Principal {
        Principal::new(PrincipalKind::Role {
            account,
            path: "/".to_owned(),
            name: name.to_owned(),
        })
    }

    /// A session `session` of the role `role` of `account`.
    pub fn assumed_role(account: AccountId, role: &str, session: &str) -> Principal {
        Principal::new(PrincipalKind::AssumedRole {
            account,
            role: role.to_owned(),
            session: session.to_owned(),
        })
    }

    /// The AWS service principal `name` (such as `dynamodb.amazonaws.com`).
    pub fn service(name: &str) -> Principal {
        Principal::new(PrincipalKind::Service {
            name: name.to_owned(),
        })
    }

    /// A principal of `kind` in the `aws` partition.
    pub fn new(kind: PrincipalKind) -> Principal {
        Principal {
            partition: AwsPartition::Aws,
            kind,
        }
    }

    /// The same principal in `partition`.
    pub fn in_partition(mut self, partition: AwsPartition) -> Principal {
        self.partition = partition;
        self
    }

    /// The same user or role at IAM path `path` (`/a/b/`); other kinds are
    /// unchanged.
    pub fn with_path(mut self, new_path: &str) -> Principal {
        if let PrincipalKind::User { path, .. } | PrincipalKind::Role { path, .. } = &mut self.kind
        {
            new_path.clone_into(path);
        }
        self
    }

    /// What kind of principal this is.
    pub fn kind(&self) -> &PrincipalKind {
        &self.kind
    }

    /// The partition.
    pub fn partition(&self) -> AwsPartition {
        self.partition
    }

    /// The account, `None` for a service principal.
    pub fn account(&self) -> Option<&AccountId> {
        match &self.kind {
            PrincipalKind::Root { account }
            | PrincipalKind::User { account, .. }
            | PrincipalKind::Role { account, .. }
            | PrincipalKind::AssumedRole { account, .. } => Some(account),
            PrincipalKind::Service { .. } => None,
        }
    }

    /// True for an account root.
    pub fn is_root(&self) -> bool {
        matches!(self.kind, PrincipalKind::Root { .. })
    }

    /// The principal's ARN, as AWS shows it in errors and `aws:PrincipalArn`
    /// (a service principal shows its name).
    pub fn arn(&self) -> String {
        let p = self.partition;
        match &self.kind {
            PrincipalKind::Root { account } => format!("arn:{p}:iam::{account}:root"),
            PrincipalKind::User {
                account,
                path,
                name,
            } => format!("arn:{p}:iam::{account}:user{path}{name}"),
            PrincipalKind::Role {
                account,
                path,
                name,
            } => format!("arn:{p}:iam::{account}:role{path}{name}"),
            PrincipalKind::AssumedRole {
                account,
                role,
                session,
            } => format!("arn:{p}:sts::{account}:assumed-role/{role}/{session}"),
            PrincipalKind::Service { name } => name.clone(),
        }
    }

    /// The `aws:PrincipalType` value: `Account`, `User`, `AssumedRole`
    /// (a role caller acts as a session), or `Service`.
    pub fn principal_type(&self) -> &'static str {
        match self.kind {
            PrincipalKind::Root { .. } => "Account",
            PrincipalKind::User { .. } => "User",
            PrincipalKind::Role { .. } | PrincipalKind::AssumedRole { .. } => "AssumedRole",
            PrincipalKind::Service { .. } => "Service",
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn())
    }
}

/// Checks an IAM path: `/`, or `/` + segments each followed by `/`.
fn check_path(path: &str, arn: &str) -> Result<()> {
    if path.starts_with('/') && path.ends_with('/') && !path.contains("//") || path == "/" {
        Ok(())
    } else {
        Err(bad_principal(arn))
    }
}

fn bad_principal(s: &str) -> Error {
    kms_err!(InvalidArn, "'{s}' is not a valid principal ARN")
}

/// Splits `path/name` (the resource after `user` or `role`) into the path
/// (`/…/`) and the name.
fn split_path<'a>(rest: &'a str, arn: &str) -> Result<(String, &'a str)> {
    let (path, name) = match rest.rfind('/') {
        Some(i) => (&rest[..=i], &rest[i + 1..]),
        None => return Err(bad_principal(arn)),
    };
    if name.is_empty() {
        return Err(bad_principal(arn));
    }
    check_path(path, arn)?;
    Ok((path.to_owned(), name))
}

impl FromStr for Principal {
    type Err = Error;
    /// Parses a principal ARN (`arn:aws:iam::111122223333:root`,
    /// `…:user/path/name`, `…:role/name`,
    /// `arn:aws:sts::111122223333:assumed-role/role/session`), a bare
    /// account id (its root), or a service principal
    /// (`name.amazonaws.com`). Anything else is `InvalidArnException`.
    fn from_str(s: &str) -> Result<Self> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Principal::root(s.parse()?));
        }
        let Some(rest) = s.strip_prefix("arn:") else {
            let is_service = s.ends_with(".amazonaws.com")
                && s.len() > ".amazonaws.com".len()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            return if is_service {
                Ok(Principal::service(s))
            } else {
                Err(bad_principal(s))
            };
        };
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, region, account, resource] = parts[..] else {
            return Err(bad_principal(s));
        };
        let partition: AwsPartition = partition.parse().map_err(|_| bad_principal(s))?;
        let account: AccountId = account.parse().map_err(|_| bad_principal(s))?;
        if !region.is_empty() {
            return Err(bad_principal(s));
        }
        let kind = match (service, resource) {
            ("iam", "root") => PrincipalKind::Root { account },
            ("iam", r) if r.starts_with("user/") => {
                let (path, name) = split_path(&r[4..], s)?;
                PrincipalKind::User {
                    account,
                    path,
                    name: name.to_owned(),
                }
            }
            ("iam", r) if r.starts_with("role/") => {
                let (path, name) = split_path(&r[4..], s)?;
                PrincipalKind::Role {
                    account,
                    path,
                    name: name.to_owned(),
                }
            }
            ("sts", r) if r.starts_with("assumed-role/") => {
                let mut it = r["assumed-role/".len()..].splitn(2, '/');
                let (Some(role), Some(session)) = (it.next(), it.next()) else {
                    return Err(bad_principal(s));
                };
                if role.is_empty() || session.is_empty() || session.contains('/') {
                    return Err(bad_principal(s));
                }
                PrincipalKind::AssumedRole {
                    account,
                    role: role.to_owned(),
                    session: session.to_owned(),
                }
            }
            _ => return Err(bad_principal(s)),
        };
        Ok(Principal { partition, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_arns_round_trip() {
        for arn in [
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:user/bob",
            "arn:aws:iam::111122223333:user/division/team/bob",
            "arn:aws:iam::111122223333:role/ExampleRole",
            "arn:aws-cn:iam::111122223333:role/a/b/R",
            "arn:aws:sts::111122223333:assumed-role/ExampleRole/s1",
        ] {
            let p: Principal = arn.parse().unwrap();
            assert_eq!(p.arn(), arn);
        }
        let svc: Principal = "dynamodb.amazonaws.com".parse().unwrap();
        assert_eq!(svc.arn(), "dynamodb.amazonaws.com");
        assert_eq!(svc.account(), None);
        let root: Principal = "444455556666".parse().unwrap();
        assert_eq!(root.arn(), "arn:aws:iam::444455556666:root");
    }

    #[test]
    fn malformed_principals_are_invalid_arn() {
        for bad in [
            "arn:aws:iam::1111:root",
            "arn:aws:iam:us-west-2:111122223333:root",
            "arn:aws:iam::111122223333:user/",
            "arn:aws:iam::111122223333:group/g",
            "arn:aws:sts::111122223333:assumed-role/R",
            "arn:aws-xx:iam::111122223333:root",
            "bob",
            "",
        ] {
            let err = bad.parse::<Principal>().unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorCode::InvalidArn, "{bad}");
        }
    }

    #[test]
    fn principal_types_follow_aws_principal_type() {
        let a: AccountId = "111122223333".parse().unwrap();
        assert_eq!(Principal::root(a.clone()).principal_type(), "Account");
        assert_eq!(Principal::user(a.clone(), "bob").principal_type(), "User");
        assert_eq!(
            Principal::assumed_role(a, "R", "s").principal_type(),
            "AssumedRole"
        );
    }
}
