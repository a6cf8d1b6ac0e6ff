//! The IAM side of a partition, modelled: users and roles with their
//! identity-based policies and tags, and access keys that map to a
//! principal ([`Directory`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::crypto::SecretString;
use crate::crypto::rng::SecureRng;
use crate::error::{Result, kms_err};
use crate::sync::RwLock;

use super::policy::{Policy, PolicyKind};
use super::{Caller, Principal, PrincipalKind};

/// An access key: the id (`AKIA…`, public) and its secret (zeroized, never
/// shown by `Debug`).
#[derive(Clone, Debug)]
pub struct AccessKey {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: SecretString,
}

/// What an access key id maps to (secrets print redacted).
#[derive(Clone, Debug)]
struct KeyRecord {
    secret: SecretString,
    principal: Principal,
    /// Temporary credentials' session token, which each request must carry
    /// in `X-Amz-Security-Token`.
    session_token: Option<SecretString>,
}

/// An identity-based policy attached to a user or role.
#[derive(Clone, Debug)]
pub(crate) struct NamedPolicy {
    pub(crate) name: String,
    pub(crate) policy: Arc<Policy>,
}

/// A user or role, as IAM keeps it.
#[derive(Clone, Debug)]
pub(crate) struct Identity {
    /// The user or role.
    pub(crate) principal: Principal,
    /// `AIDA…` (users) or `AROA…` (roles).
    pub(crate) unique_id: String,
    /// Inline policies, by name (a put with the same name replaces).
    pub(crate) policies: Vec<NamedPolicy>,
    /// The principal's tags (`aws:PrincipalTag/…`).
    pub(crate) tags: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct Tables {
    /// Users and roles by their ARN (with path).
    identities: BTreeMap<String, Arc<Identity>>,
    /// Roles by (account, name), for sessions, whose ARNs carry no path.
    roles: BTreeMap<(String, String), String>,
    access_keys: BTreeMap<String, KeyRecord>,
}

/// The identities of every account of a partition.
#[derive(Debug)]
pub(crate) struct Directory {
    tables: RwLock<Tables>,
    rng: SecureRng,
}

/// Characters IAM uses in unique ids and access key ids.
const ID_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

impl Directory {
    /// An empty directory; `seed` makes ids and secrets deterministic.
    pub(crate) fn new(seed: Option<u64>) -> Directory {
        Directory {
            tables: RwLock::new(Tables::default()),
            rng: SecureRng::new(seed.map(|s| s ^ 0x1a3d_1d3e)),
        }
    }

    fn id(&self, prefix: &str, n: usize) -> String {
        let mut bytes = vec![0u8; n];
        self.rng.fill(&mut bytes);
        let mut s = prefix.to_owned();
        s.extend(
            bytes
                .iter()
                .map(|b| ID_ALPHABET[usize::from(b & 31)] as char),
        );
        s
    }

    /// Creates the user or role `principal`; an existing one with that ARN
    /// is `AlreadyExistsException`. Other kinds are refused.
    pub(crate) fn create(&self, principal: &Principal) -> Result<()> {
        let (prefix, role_key) = match principal.kind() {
            PrincipalKind::User { .. } => ("AIDA", None),
            PrincipalKind::Role { account, name, .. } => {
                ("AROA", Some((account.to_string(), name.clone())))
            }
            _ => {
                return Err(kms_err!(
                    Validation,
                    "Only IAM users and roles can be created; '{principal}' is neither."
                ));
            }
        };
        let arn = principal.arn();
        let mut t = self.tables.write();
        if t.identities.contains_key(&arn)
            || role_key.as_ref().is_some_and(|k| t.roles.contains_key(k))
        {
            return Err(kms_err!(AlreadyExists, "'{arn}' already exists."));
        }
        let identity = Identity {
            principal: principal.clone(),
            unique_id: self.id(prefix, 17),
            policies: Vec::new(),
            tags: Vec::new(),
        };
        if let Some(k) = role_key {
            t.roles.insert(k, arn.clone());
        }
        t.identities.insert(arn, Arc::new(identity));
        Ok(())
    }

    /// Attaches (or replaces) the inline identity policy `name` of the user
    /// or role `principal`: the document is checked as an identity policy
    /// (`MalformedPolicyDocumentException`).
    pub(crate) fn put_policy(
        &self,
        principal: &Principal,
        name: &str,
        document: &str,
    ) -> Result<()> {
        let policy = Arc::new(Policy::parse(document, PolicyKind::Identity)?);
        self.update(principal, |identity| {
            identity.policies.retain(|p| p.name != name);
            identity.policies.push(NamedPolicy {
                name: name.to_owned(),
                policy,
            });
        })
    }

    /// Removes the inline policy `name`; true if there was one.
    pub(crate) fn delete_policy(&self, principal: &Principal, name: &str) -> Result<bool> {
        let mut found = false;
        self.update(principal, |identity| {
            let before = identity.policies.len();
            identity.policies.retain(|p| p.name != name);
            found = identity.policies.len() != before;
        })?;
        Ok(found)
    }

    /// Sets the tag `key` of the user or role to `value`.
    pub(crate) fn tag(&self, principal: &Principal, key: &str, value: &str) -> Result<()> {
        self.update(principal, |identity| {
            identity.tags.retain(|(k, _)| k != key);
            identity.tags.push((key.to_owned(), value.to_owned()));
        })
    }

    fn update(&self, principal: &Principal, f: impl FnOnce(&mut Identity)) -> Result<()> {
        let arn = principal.arn();
        let mut t = self.tables.write();
        let Some(identity) = t.identities.get_mut(&arn) else {
            return Err(no_such_entity(&arn));
        };
        f(Arc::make_mut(identity));
        Ok(())
    }

    /// A new access key for `principal` (a user, a role session, or an
    /// account root), which [`Directory::access_key`] maps back to it.
    pub(crate) fn create_access_key(&self, principal: &Principal) -> Result<AccessKey> {
        if matches!(principal.kind(), PrincipalKind::Service { .. }) {
            return Err(kms_err!(
                Validation,
                "A service principal has no access keys."
            ));
        }
        let access_key_id = self.id("AKIA", 16);
        let mut secret = [0u8; 30];
        self.rng.fill(&mut secret);
        let secret_access_key = SecretString::from(crate::base64_blob::encode(&secret));
        self.tables.write().access_keys.insert(
            access_key_id.clone(),
            KeyRecord {
                secret: secret_access_key.clone(),
                principal: principal.clone(),
                session_token: None,
            },
        );
        Ok(AccessKey {
            access_key_id,
            secret_access_key,
        })
    }

    /// Registers the access key `access_key_id` with the caller's secret
    /// for `principal` (16–128 of `[A-Z0-9]`; an id already issued is
    /// `AlreadyExistsException`); with `session_token`, temporary
    /// credentials whose requests must carry that token.
    pub(crate) fn register_access_key(
        &self,
        principal: &Principal,
        access_key_id: &str,
        secret_access_key: SecretString,
        session_token: Option<SecretString>,
    ) -> Result<AccessKey> {
        if matches!(principal.kind(), PrincipalKind::Service { .. }) {
            return Err(kms_err!(
                Validation,
                "A service principal has no access keys."
            ));
        }
        if !(16..=128).contains(&access_key_id.len())
            || !access_key_id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(kms_err!(
                Validation,
                "An access key id is 16 to 128 characters of [A-Z0-9]."
            ));
        }
        if secret_access_key.expose_secret().is_empty() {
            return Err(kms_err!(Validation, "A secret access key cannot be empty."));
        }
        if session_token
            .as_ref()
            .is_some_and(|t| t.expose_secret().is_empty())
        {
            return Err(kms_err!(Validation, "A session token cannot be empty."));
        }
        let mut t = self.tables.write();
        if t.access_keys.contains_key(access_key_id) {
            return Err(kms_err!(
                AlreadyExists,
                "The access key id '{access_key_id}' is already issued."
            ));
        }
        t.access_keys.insert(
            access_key_id.to_owned(),
            KeyRecord {
                secret: secret_access_key.clone(),
                principal: principal.clone(),
                session_token,
            },
        );
        Ok(AccessKey {
            access_key_id: access_key_id.to_owned(),
            secret_access_key,
        })
    }

    /// The secret and principal of access key `id`.
    pub(crate) fn access_key(&self, id: &str) -> Option<(SecretString, Principal)> {
        let t = self.tables.read();
        let r = t.access_keys.get(id)?;
        Some((r.secret.clone(), r.principal.clone()))
    }

    /// The session token access key `id`'s requests must carry (`None`
    /// for a long-term key, or an id not issued).
    pub(crate) fn session_token(&self, id: &str) -> Option<SecretString> {
        self.tables
            .read()
            .access_keys
            .get(id)?
            .session_token
            .clone()
    }

    /// The IAM record that applies to `principal`: the user, or the role of
    /// a role or session.
    pub(crate) fn identity(&self, principal: &Principal) -> Option<Arc<Identity>> {
        let t = self.tables.read();
        match principal.kind() {
            PrincipalKind::User { .. } | PrincipalKind::Role { .. } => {
                t.identities.get(&principal.arn()).cloned()
            }
            PrincipalKind::AssumedRole { account, role, .. } => t
                .roles
                .get(&(account.to_string(), role.clone()))
                .and_then(|arn| t.identities.get(arn))
                .cloned(),
            PrincipalKind::Root { .. } | PrincipalKind::Service { .. } => None,
        }
    }

    /// The caller `principal`, known also by its role's ARN with the role's
    /// path where the directory has the role.
    pub(crate) fn caller(&self, principal: &Principal) -> Caller {
        let mut caller = Caller::new(principal.clone());
        if let PrincipalKind::AssumedRole { .. } = principal.kind()
            && let Some(identity) = self.identity(principal)
        {
            let role_arn = identity.principal.arn();
            if !caller.match_arns.contains(&role_arn) {
                caller.match_arns.push(role_arn);
            }
        }
        caller
    }
}

fn no_such_entity(arn: &str) -> crate::error::Error {
    kms_err!(NotFound, "The user or role '{arn}' cannot be found.")
}
