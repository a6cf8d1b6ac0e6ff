//! A key's grants: [`Grant`] (one grant, as CreateGrant made it) and
//! [`KeyGrants`], the grants of one key in creation order. They live in the
//! key's mutable part (`KeyMutable::grants`), under the key's own lock, so
//! they are committed with the key's state and go when the key goes. Plain
//! data: the service takes the locks.

use std::sync::Arc;

use crate::clock::Timestamp;
use crate::crypto::EncryptionContext;
use crate::iam::Caller;
use crate::kms::shapes::grants::{GrantConstraints, GrantOperation};

/// Grants per KMS key: AWS's default quota (adjustable).
pub(crate) const DEFAULT_GRANTS_PER_KEY: usize = 50_000;

/// One grant on a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Grant {
    /// 64 hexadecimal characters.
    pub(crate) id: String,
    /// The name given to CreateGrant.
    pub(crate) name: Option<String>,
    pub(crate) creation_date: Timestamp,
    /// The grantee principal as given.
    pub(crate) grantee: String,
    /// The grantee's canonical form: the principal's ARN (a service
    /// principal's name), what a caller is matched against.
    pub(crate) grantee_arn: String,
    /// The retiring principal as given.
    pub(crate) retiring: Option<String>,
    /// The retiring principal's canonical form.
    pub(crate) retiring_arn: Option<String>,
    /// The operations, in the order given, without repeats.
    pub(crate) operations: Vec<GrantOperation>,
    /// The constraint, if any (never both members).
    pub(crate) constraints: Option<GrantConstraints>,
}

/// Whether `caller` is the principal whose canonical ARN is `arn`: one of
/// the ARNs a policy matches the caller by (its own, its role's for a
/// session), or, for an AWS service principal, its name.
pub(crate) fn caller_is(caller: &Caller, arn: &str) -> bool {
    caller.match_arns.iter().any(|a| a == arn)
        || (caller.principal.account().is_none() && caller.arn == arn)
}

/// Whether `context` satisfies `constraints`: every pair of the constraint
/// is in the context (keys compared without regard to ASCII case, values
/// exactly, as AWS compares grant constraints), and for
/// `EncryptionContextEquals` the context has no other pair.
pub(crate) fn constraints_allow(
    constraints: &GrantConstraints,
    context: &EncryptionContext,
) -> bool {
    let contains = |pairs: &EncryptionContext| {
        pairs.iter().all(|(k, v)| {
            context
                .iter()
                .any(|(ck, cv)| ck.eq_ignore_ascii_case(k) && cv == v)
        })
    };
    if let Some(equals) = &constraints.encryption_context_equals
        && !(equals.len() == context.len() && contains(equals))
    {
        return false;
    }
    if let Some(subset) = &constraints.encryption_context_subset
        && !contains(subset)
    {
        return false;
    }
    true
}

impl Grant {
    /// Whether the grant gives `caller` the operation `op` for a request
    /// with `context`. The constraint applies only to operations that take
    /// an encryption context other than CreateGrant (whose bound on the
    /// grants it creates is a separate rule).
    pub(crate) fn allows(
        &self,
        caller: &Caller,
        op: GrantOperation,
        context: &EncryptionContext,
    ) -> bool {
        if !self.operations.contains(&op) || !caller_is(caller, &self.grantee_arn) {
            return false;
        }
        match &self.constraints {
            Some(c) if op.takes_encryption_context() && op != GrantOperation::CreateGrant => {
                constraints_allow(c, context)
            }
            _ => true,
        }
    }

    /// Whether `other` has the parameters of this grant (for a CreateGrant
    /// repeated with the same `Name`): grantee, retiring principal, the
    /// same set of operations and the same constraint.
    pub(crate) fn same_parameters(&self, other: &Grant) -> bool {
        let mut a = self.operations.clone();
        let mut b = other.operations.clone();
        a.sort();
        b.sort();
        self.grantee_arn == other.grantee_arn
            && self.retiring_arn == other.retiring_arn
            && a == b
            && self.constraints == other.constraints
    }
}

/// The grants of one key, in creation order. Cheap to clone (copy on
/// write): a durable change to the key clones its mutable part.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyGrants(Arc<Vec<Grant>>);

impl KeyGrants {
    /// The grants, from a list in creation order (a durable service's
    /// records).
    #[cfg_attr(
        not(feature = "durable"),
        allow(dead_code, reason = "used when a durable service opens")
    )]
    pub(crate) fn from_vec(grants: Vec<Grant>) -> KeyGrants {
        KeyGrants(Arc::new(grants))
    }

    /// Every grant, in creation order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Grant> {
        self.0.iter()
    }

    /// How many grants the key has.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The grant with id `id`.
    pub(crate) fn get(&self, id: &str) -> Option<&Grant> {
        self.0.iter().find(|g| g.id == id)
    }

    /// Whether a grant has id `id`.
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// A grant named `name` with the parameters of `like`.
    pub(crate) fn find_repeat(&self, like: &Grant) -> Option<&Grant> {
        let name = like.name.as_deref()?;
        self.0
            .iter()
            .find(|g| g.name.as_deref() == Some(name) && g.same_parameters(like))
    }

    /// Adds `grant` last.
    pub(crate) fn push(&mut self, grant: Grant) {
        Arc::make_mut(&mut self.0).push(grant);
    }

    /// Removes the grant with id `id`, returning it.
    pub(crate) fn remove(&mut self, id: &str) -> Option<Grant> {
        let at = self.0.iter().position(|g| g.id == id)?;
        Some(Arc::make_mut(&mut self.0).remove(at))
    }
}
