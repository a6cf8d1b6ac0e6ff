//! Many accounts and Regions in one partition: [`Partition`] holds a
//! [`Kms`] per account × Region and the partition's IAM identities
//! ([`Iam`]), so that a principal of one account can use a key of another
//! as AWS allows. What every `Kms` of the partition keeps (the partition's
//! name, the identities, a weak registry of its sibling services) is the
//! service layer's `Shared`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{Result, kms_err};
use crate::iam::directory::AccessKey;
use crate::iam::{AwsPartition, Principal};
use crate::ids::{AccountId, Region};
use crate::sync::RwLock;

use super::service::Shared;
use super::{Kms, KmsConfig};

/// One AWS partition (`aws`, `aws-cn` or `aws-us-gov`) with many accounts
/// and Regions: a [`Kms`] per account × Region, and the IAM users, roles,
/// identity policies and access keys of every account ([`Iam`]). Key ARNs
/// and alias ARNs of another account resolve to that account's key, for
/// the operations AWS allows across accounts.
///
/// ```
/// use kms_keystore::{AwsPartition, KmsConfig, Partition, Principal};
/// use kms_keystore::{CreateKeyRequest, EncryptRequest};
///
/// let partition = Partition::new(AwsPartition::Aws);
/// let owner = partition.add(KmsConfig::new("444455556666", "us-west-2").unwrap()).unwrap();
/// let _user_account = partition.add(KmsConfig::new("111122223333", "us-west-2").unwrap()).unwrap();
/// let key = owner.create_key(CreateKeyRequest::default()).unwrap().key_metadata;
///
/// // Without a key policy statement for account 111122223333, its root is refused.
/// let other_root = Principal::root("111122223333".parse().unwrap());
/// let kms = partition.kms("111122223333", "us-west-2").unwrap().as_caller(&other_root);
/// let err = kms
///     .encrypt(EncryptRequest { key_id: key.arn.clone(), plaintext: "hi".into(), ..Default::default() })
///     .unwrap_err();
/// assert_eq!(err.code(), "AccessDeniedException");
/// ```
#[derive(Clone, Debug)]
pub struct Partition {
    shared: Arc<Shared>,
    members: Arc<RwLock<BTreeMap<(AccountId, Region), Kms>>>,
    seed: Option<u64>,
}

impl Partition {
    /// An empty partition with OS-seeded IAM ids and secrets.
    pub fn new(partition: AwsPartition) -> Partition {
        Partition::build(partition, None)
    }

    /// An empty partition whose IAM ids and access keys are deterministic.
    /// Each [`Kms`] keeps its own seed ([`KmsConfig::with_seed`]).
    pub fn with_seed(partition: AwsPartition, seed: u64) -> Partition {
        Partition::build(partition, Some(seed))
    }

    fn build(partition: AwsPartition, seed: Option<u64>) -> Partition {
        Partition {
            shared: Shared::new(partition, seed),
            members: Arc::new(RwLock::new(BTreeMap::new())),
            seed,
        }
    }

    /// Which partition this is.
    pub fn name(&self) -> AwsPartition {
        self.shared.partition
    }

    /// Adds the KMS of `config`'s account and Region, in memory (or durable,
    /// with the `durable` feature and `KmsConfig::with_durable_storage`).
    /// A Region of another partition is `ValidationException`; an account
    /// and Region the partition already has is `AlreadyExistsException`.
    pub fn add(&self, config: KmsConfig) -> Result<Kms> {
        let region_partition = AwsPartition::of_region(config.region());
        if region_partition != self.shared.partition {
            return Err(kms_err!(
                Validation,
                "Region {} is in partition {region_partition}, not {}.",
                config.region(),
                self.shared.partition
            ));
        }
        let key = (config.account_id().clone(), config.region().clone());
        let mut members = self.members.write();
        if members.contains_key(&key) || self.shared.is_live(&key.0, &key.1) {
            return Err(kms_err!(
                AlreadyExists,
                "The partition already has a KMS for account {} in {}.",
                key.0,
                key.1
            ));
        }
        let config = config.in_partition(Arc::clone(&self.shared));
        #[cfg(feature = "durable")]
        let kms = if config.durable_storage_path().is_some() {
            Kms::open(config)?
        } else {
            Kms::new(config)
        };
        #[cfg(not(feature = "durable"))]
        let kms = Kms::new(config);
        members.insert(key, kms.clone());
        Ok(kms)
    }

    /// The KMS of `account` in `region`, calling as that account's root.
    pub fn kms(&self, account: &str, region: &str) -> Option<Kms> {
        self.members
            .read()
            .iter()
            .find(|((a, r), _)| a.as_str() == account && r.as_str() == region)
            .map(|(_, k)| k.clone())
    }

    /// The partition's IAM identities.
    pub fn iam(&self) -> Iam {
        Iam {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The seed the partition was made with.
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }
}

/// The IAM side of a partition, modelled for authorization: create users
/// and roles, attach identity-based policies, tag principals, issue access
/// keys. Reach it with [`Partition::iam`] or [`Kms::iam`].
///
/// ```
/// use kms_keystore::{Kms, KmsConfig};
/// let kms = Kms::new(KmsConfig::default());
/// let bob = kms.iam().create_user("111122223333", "/", "bob").unwrap();
/// assert_eq!(bob.arn(), "arn:aws:iam::111122223333:user/bob");
/// kms.iam()
///     .put_identity_policy(&bob, "use-keys", r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}}"#)
///     .unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Iam {
    shared: Arc<Shared>,
}

impl Iam {
    pub(crate) fn of(shared: Arc<Shared>) -> Iam {
        Iam { shared }
    }

    /// Creates the IAM user `name` at `path` (`/` or `/a/b/`) in `account`.
    pub fn create_user(&self, account: &str, path: &str, name: &str) -> Result<Principal> {
        self.create(Principal::user(account.parse()?, name).with_path(path))
    }

    /// Creates the IAM role `name` at `path` in `account`; its sessions
    /// ([`Principal::assumed_role`]) are evaluated with its policies.
    pub fn create_role(&self, account: &str, path: &str, name: &str) -> Result<Principal> {
        self.create(Principal::role(account.parse()?, name).with_path(path))
    }

    fn create(&self, principal: Principal) -> Result<Principal> {
        let principal = principal.in_partition(self.shared.partition);
        let arn = principal.arn();
        arn.parse::<Principal>()?;
        self.shared.iam.create(&principal)?;
        Ok(principal)
    }

    /// Attaches (or replaces) the inline identity-based policy `name` of a
    /// user or role. The document is checked as an identity policy:
    /// `MalformedPolicyDocumentException` names the problem.
    pub fn put_identity_policy(
        &self,
        principal: &Principal,
        name: &str,
        document: &str,
    ) -> Result<()> {
        self.shared.iam.put_policy(principal, name, document)
    }

    /// Removes the inline policy `name` of a user or role; true if it had one.
    pub fn delete_identity_policy(&self, principal: &Principal, name: &str) -> Result<bool> {
        self.shared.iam.delete_policy(principal, name)
    }

    /// Tags a user or role (`aws:PrincipalTag/<key>` in policies).
    pub fn tag_principal(&self, principal: &Principal, key: &str, value: &str) -> Result<()> {
        self.shared.iam.tag(principal, key, value)
    }

    /// A new access key for `principal` (the server turns a SigV4 signature
    /// made with it into this caller).
    pub fn create_access_key(&self, principal: &Principal) -> Result<AccessKey> {
        self.shared.iam.create_access_key(principal)
    }

    /// Registers an access key whose id and secret the caller chose (the
    /// server's fixture principals), mapping to `principal` as
    /// [`Iam::create_access_key`]'s keys do. The id is 16–128 of
    /// `[A-Z0-9]`; an id already issued is `AlreadyExistsException`.
    pub fn register_access_key(
        &self,
        principal: &Principal,
        access_key_id: &str,
        secret_access_key: crate::crypto::SecretString,
    ) -> Result<AccessKey> {
        self.shared
            .iam
            .register_access_key(principal, access_key_id, secret_access_key, None)
    }

    /// Registers temporary credentials (an `ASIA…` id, its secret and its
    /// session token) for `principal`, as [`Iam::register_access_key`]
    /// does; a request signed with them must carry the token in
    /// `X-Amz-Security-Token`, as AWS requires.
    ///
    /// # Errors
    /// As [`Iam::register_access_key`]; `ValidationException` for an empty
    /// token.
    pub fn register_session_credentials(
        &self,
        principal: &Principal,
        access_key_id: &str,
        secret_access_key: crate::crypto::SecretString,
        session_token: crate::crypto::SecretString,
    ) -> Result<AccessKey> {
        self.shared.iam.register_access_key(
            principal,
            access_key_id,
            secret_access_key,
            Some(session_token),
        )
    }

    /// The session token the requests of access key `access_key_id` must
    /// carry, for temporary credentials (`None` for a long-term key).
    pub fn session_token(&self, access_key_id: &str) -> Option<crate::crypto::SecretString> {
        self.shared.iam.session_token(access_key_id)
    }

    /// The principal and secret of access key `access_key_id`, if issued.
    pub fn access_key(
        &self,
        access_key_id: &str,
    ) -> Option<(Principal, crate::crypto::SecretString)> {
        self.shared
            .iam
            .access_key(access_key_id)
            .map(|(secret, principal)| (principal, secret))
    }
}
