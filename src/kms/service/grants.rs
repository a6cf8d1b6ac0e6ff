//! The service side of grants: grant ids and grant tokens, the check of a
//! request's `GrantTokens`, who may retire a grant, the grants of the whole
//! account by retiring principal, and [`Service::grant_allowing`], the
//! question authorization asks ("does a grant give this caller this
//! operation on this key, for this encryption context?").
//!
//! A key's grants are in its mutable part, under the key's own lock; this
//! file takes the key table's read lock and keys' read locks only.
//!
//! # Grant tokens
//!
//! A token is opaque to callers: base64 of a version byte, the key id, the
//! grant id, a fresh 12-byte nonce (so every CreateGrant call gets its own
//! token) and an AES-GCM tag binding them to this account and Region. A
//! token this service did not make (or one altered) fails the tag check:
//! `InvalidGrantTokenException`. Grant tokens are not secrets (AWS says so
//! too): the tag proves where a token came from, not who holds it, and a
//! token whose grant was retired stays well-formed but allows nothing.

use crate::crypto::aead::{Cipher, NONCE_LEN, TAG_LEN};
use crate::crypto::{EncryptionContext, KeyMaterial};
use crate::error::{Error, Result, kms_err};
use crate::iam::Caller;
use crate::ids::KeyId;
use crate::kms::Call;
use crate::kms::model::grants::{Grant, caller_is};
use crate::kms::model::key::KeyEntry;
use crate::kms::shapes::grants::{GrantConstraints, GrantListEntry, GrantOperation};
use crate::kms::support::validate::check_grant_tokens;

use super::Service;

/// The token format's version byte.
const TOKEN_VERSION: u8 = 1;
/// The version byte of a token for a multi-Region key (its id is an
/// `mrk-` id's 16 bytes).
const TOKEN_VERSION_MRK: u8 = 2;
/// Version, key id, grant id, nonce.
const TOKEN_PAYLOAD: usize = 1 + 16 + 32 + NONCE_LEN;

/// The fixed key of the token tag. Not a secret: the tag binds a token to
/// this format, account and Region (its AAD), it does not authenticate.
const TOKEN_KEY: [u8; 32] = *b"kms-keystore grant token key v1.";

/// A grant id: 32 bytes as 64 lowercase hexadecimal characters.
fn grant_id_hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The 32 bytes of a grant id, if it is 64 hexadecimal characters.
pub(crate) fn grant_id_bytes(id: &str) -> Option<[u8; 32]> {
    if id.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in id.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

impl Service {
    /// A fresh grant id from the service's random stream (deterministic
    /// under a seed).
    pub(crate) fn new_grant_id(&self) -> String {
        grant_id_hex(&self.rng.array())
    }

    /// The tag's additional data: account, Region and the payload.
    fn token_aad(&self, payload: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(64 + payload.len());
        aad.extend_from_slice(self.account_id.as_str().as_bytes());
        aad.push(b'/');
        aad.extend_from_slice(self.region.as_str().as_bytes());
        aad.push(b'/');
        aad.extend_from_slice(payload);
        aad
    }

    /// A new token for grant `grant_id` (64 hex characters) of key `key`.
    pub(crate) fn grant_token(&self, key: &KeyId, grant_id: &str) -> Result<String> {
        let id = grant_id_bytes(grant_id).ok_or_else(|| Error::internal("a malformed grant id"))?;
        let nonce: [u8; NONCE_LEN] = self.rng.nonce();
        let mut bytes = Vec::with_capacity(TOKEN_PAYLOAD + TAG_LEN);
        bytes.push(if key.is_multi_region() {
            TOKEN_VERSION_MRK
        } else {
            TOKEN_VERSION
        });
        bytes.extend_from_slice(key.as_bytes());
        bytes.extend_from_slice(&id);
        bytes.extend_from_slice(&nonce);
        let cipher = Cipher::new(&KeyMaterial::from_bytes(TOKEN_KEY));
        let tag = cipher.seal_in_place(&nonce, &self.token_aad(&bytes), &mut []);
        bytes.extend_from_slice(&tag);
        Ok(crate::base64_blob::encode(&bytes))
    }

    /// The key id and grant id a token names, or `None` if this service
    /// did not make it.
    pub(crate) fn read_grant_token(&self, token: &str) -> Option<(KeyId, String)> {
        let bytes = crate::base64_blob::decode(token).ok()?;
        if bytes.len() != TOKEN_PAYLOAD + TAG_LEN
            || !matches!(bytes[0], TOKEN_VERSION | TOKEN_VERSION_MRK)
        {
            return None;
        }
        let (payload, tag) = bytes.split_at(TOKEN_PAYLOAD);
        let key: [u8; 16] = payload[1..17].try_into().ok()?;
        let id: [u8; 32] = payload[17..49].try_into().ok()?;
        let nonce: [u8; NONCE_LEN] = payload[49..].try_into().ok()?;
        let tag: [u8; TAG_LEN] = tag.try_into().ok()?;
        let cipher = Cipher::new(&KeyMaterial::from_bytes(TOKEN_KEY));
        cipher
            .open_in_place(&nonce, &self.token_aad(payload), &mut [], &tag)
            .ok()?;
        let key = match bytes[0] {
            TOKEN_VERSION_MRK => KeyId::multi_region_from_bytes(key),
            _ => KeyId::from_bytes(key),
        };
        Some((key, grant_id_hex(&id)))
    }

    /// Checks a request's `GrantTokens`: at most 10, each 1–8192
    /// characters (`ValidationException`), and each one a token this
    /// service issued (`InvalidGrantTokenException`). No tokens costs
    /// nothing.
    #[inline]
    pub(crate) fn check_grant_tokens(&self, tokens: &[String]) -> Result<()> {
        // Most calls name no token: answered where it is asked.
        if tokens.is_empty() {
            return Ok(());
        }
        check_grant_tokens(tokens)?;
        for token in tokens {
            if self.read_grant_token(token).is_none() {
                return Err(invalid_grant_token());
            }
        }
        Ok(())
    }

    /// The id of the first grant of `entry` (in creation order) that gives
    /// `caller` the operation `op` for a request with encryption context
    /// `context`: its grantee is the caller (one of `caller.match_arns`, or
    /// the service principal by name), its operations include `op`, and —
    /// for an operation that takes an encryption context — the context
    /// satisfies its constraint (`EncryptionContextEquals`: the same pairs;
    /// `EncryptionContextSubset`: the grant's pairs are all in the
    /// context; keys compared without regard to case, values exactly).
    /// `None` if no grant does.
    ///
    /// The constraint does not apply to DescribeKey and RetireGrant, nor
    /// here to CreateGrant (whose rule — the new grant's constraint must be
    /// at least as strict — is the caller's to check).
    pub(crate) fn grant_allowing(
        &self,
        entry: &KeyEntry,
        caller: &Caller,
        op: GrantOperation,
        context: &EncryptionContext,
    ) -> Option<String> {
        let m = entry.state.read();
        m.grants
            .iter()
            .find(|g| g.allows(caller, op, context))
            .map(|g| g.id.clone())
    }

    /// The first grant of `entry` that lets `caller` create a grant of
    /// `operations` under `constraints`: it allows CreateGrant, holds every
    /// one of `operations`, and its own constraint is no stricter than the
    /// new one (an `EncryptionContextEquals` parent allows only the same
    /// `Equals`; an `EncryptionContextSubset` parent allows a `Subset` or an
    /// `Equals` that contains its pairs).
    pub(crate) fn grant_covering(
        &self,
        entry: &KeyEntry,
        caller: &Caller,
        operations: &[GrantOperation],
        constraints: Option<&GrantConstraints>,
    ) -> Option<String> {
        let m = entry.state.read();
        m.grants
            .iter()
            .find(|g| {
                caller_is(caller, &g.grantee_arn)
                    && g.operations.contains(&GrantOperation::CreateGrant)
                    && operations.iter().all(|o| g.operations.contains(o))
                    && no_stricter(g.constraints.as_ref(), constraints)
            })
            .map(|g| g.id.clone())
    }

    /// Whether `caller` may retire `grant` by the grant alone: its retiring
    /// principal, its grantee if the grant allows RetireGrant, or the root
    /// of the account that issued it (this service's account, the key's).
    pub(crate) fn may_retire(&self, grant: &Grant, caller: &Caller) -> bool {
        grant
            .retiring_arn
            .as_deref()
            .is_some_and(|arn| caller_is(caller, arn))
            || (grant.operations.contains(&GrantOperation::RetireGrant)
                && caller_is(caller, &grant.grantee_arn))
            || (caller.principal.is_root() && caller.principal.account() == Some(&self.account_id))
    }

    /// The root ARN of the account that issues this service's grants.
    pub(crate) fn issuing_account(&self) -> String {
        format!("arn:aws:iam::{}:root", self.account_id)
    }

    /// `grant` of `entry` as ListGrants shows it.
    pub(crate) fn grant_entry(&self, entry: &KeyEntry, grant: &Grant) -> GrantListEntry {
        GrantListEntry {
            key_id: entry.arn.clone(),
            grant_id: grant.id.clone(),
            name: grant.name.clone(),
            creation_date: grant.creation_date,
            grantee_principal: grant.grantee.clone(),
            retiring_principal: grant.retiring.clone(),
            issuing_account: self.issuing_account(),
            operations: grant.operations.clone(),
            constraints: grant.constraints.clone(),
        }
    }

    /// Every grant of the account's keys whose retiring principal is
    /// `retiring_arn` (canonical form), by key creation order then grant
    /// creation order; keys past their deletion date are gone.
    pub(crate) fn retirable_grants(&self, cx: &Call, retiring_arn: &str) -> Vec<GrantListEntry> {
        let keys: Vec<_> = self.keys.read().iter().cloned().collect();
        let mut out = Vec::new();
        for entry in keys {
            if self.unless_due(&entry, cx.now).is_err() {
                continue;
            }
            let m = entry.state.read();
            if m.deleted {
                continue;
            }
            out.extend(
                m.grants
                    .iter()
                    .filter(|g| g.retiring_arn.as_deref() == Some(retiring_arn))
                    .map(|g| self.grant_entry(&entry, g)),
            );
        }
        out
    }
}

/// `InvalidGrantTokenException`.
pub(crate) fn invalid_grant_token() -> Error {
    kms_err!(
        InvalidGrantToken,
        "The grant token is not valid: pass a GrantToken that CreateGrant returned in this account and Region."
    )
}

/// Whether a parent grant's `parent` constraint is no stricter than a new
/// grant's `child` constraint: every request the child allows, the parent
/// allows too.
fn no_stricter(parent: Option<&GrantConstraints>, child: Option<&GrantConstraints>) -> bool {
    let Some(parent) = parent else {
        return true;
    };
    let Some(child) = child else {
        return false;
    };
    let includes = |outer: &EncryptionContext, inner: &EncryptionContext| {
        inner.iter().all(|(k, v)| outer.get(k) == Some(v))
    };
    match (
        &parent.encryption_context_equals,
        &parent.encryption_context_subset,
    ) {
        (Some(equals), _) => child.encryption_context_equals.as_ref() == Some(equals),
        (None, Some(subset)) => match (
            &child.encryption_context_equals,
            &child.encryption_context_subset,
        ) {
            (Some(equals), _) => includes(equals, subset),
            (None, Some(child_subset)) => includes(child_subset, subset),
            (None, None) => false,
        },
        (None, None) => true,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::no_stricter;
    use crate::crypto::EncryptionContext;

    use crate::iam::{Caller, Principal};
    use crate::kms::shapes::grants::{CreateGrantRequest, GrantConstraints, GrantOperation};
    use crate::kms::{CreateKeyRequest, Kms, KmsConfig};

    const BOB: &str = "arn:aws:iam::111122223333:user/bob";

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn caller(arn: &str) -> Caller {
        Caller::new(arn.parse::<Principal>().unwrap())
    }

    /// A Kms with one key; returns the key id.
    fn setup() -> (Kms, String) {
        let kms = Kms::new(KmsConfig::default().with_seed(9));
        let key = kms.create_key(CreateKeyRequest::default()).unwrap();
        (kms, key.key_metadata.key_id.to_string())
    }

    fn grant(
        kms: &Kms,
        key: &str,
        grantee: &str,
        ops: &[GrantOperation],
        constraints: Option<GrantConstraints>,
    ) -> String {
        kms.create_grant(CreateGrantRequest {
            key_id: key.into(),
            grantee_principal: grantee.into(),
            operations: ops.to_vec(),
            constraints,
            ..Default::default()
        })
        .unwrap()
        .grant_id
    }

    fn allowing(
        kms: &Kms,
        key: &str,
        who: &Caller,
        op: GrantOperation,
        context: &BTreeMap<String, String>,
    ) -> Option<String> {
        let cx = kms.begin();
        let entry = kms.inner.resolve(&cx, key, false).unwrap();
        kms.inner.grant_allowing(&entry, who, op, context)
    }

    #[test]
    fn a_grant_allows_its_grantee_its_operations_only() {
        let (kms, key) = setup();
        let empty = ctx(&[]);
        assert_eq!(
            allowing(&kms, &key, &caller(BOB), GrantOperation::Encrypt, &empty),
            None
        );
        let id = grant(&kms, &key, BOB, &[GrantOperation::Encrypt], None);
        assert_eq!(
            allowing(&kms, &key, &caller(BOB), GrantOperation::Encrypt, &empty),
            Some(id.clone())
        );
        assert_eq!(
            allowing(&kms, &key, &caller(BOB), GrantOperation::Decrypt, &empty),
            None
        );
        let alice = caller("arn:aws:iam::111122223333:user/alice");
        assert_eq!(
            allowing(&kms, &key, &alice, GrantOperation::Encrypt, &empty),
            None
        );
        // The account root is not the grantee bob.
        assert_eq!(
            allowing(&kms, &key, &kms.inner.root, GrantOperation::Encrypt, &empty),
            None
        );
        // Another key's grants do not count.
        let other = kms.create_key(CreateKeyRequest::default()).unwrap();
        let other = other.key_metadata.key_id.to_string();
        assert_eq!(
            allowing(&kms, &other, &caller(BOB), GrantOperation::Encrypt, &empty),
            None
        );
        // The first grant that allows it, in creation order.
        grant(&kms, &key, BOB, &[GrantOperation::Encrypt], None);
        assert_eq!(
            allowing(&kms, &key, &caller(BOB), GrantOperation::Encrypt, &empty),
            Some(id)
        );
    }

    #[test]
    fn a_role_grant_allows_its_sessions_and_a_service_grant_its_service() {
        let (kms, key) = setup();
        let empty = ctx(&[]);
        let id = grant(
            &kms,
            &key,
            "arn:aws:iam::111122223333:role/ExampleRole",
            &[GrantOperation::Decrypt],
            None,
        );
        let session = Caller::new(Principal::assumed_role(
            "111122223333".parse().unwrap(),
            "ExampleRole",
            "s1",
        ));
        assert_eq!(
            allowing(&kms, &key, &session, GrantOperation::Decrypt, &empty),
            Some(id)
        );
        let other_role = Caller::new(Principal::assumed_role(
            "111122223333".parse().unwrap(),
            "OtherRole",
            "s1",
        ));
        assert_eq!(
            allowing(&kms, &key, &other_role, GrantOperation::Decrypt, &empty),
            None
        );
        let svc = grant(
            &kms,
            &key,
            "dynamodb.amazonaws.com",
            &[GrantOperation::Decrypt],
            None,
        );
        let dynamo = Caller::new(Principal::service("dynamodb.amazonaws.com"));
        assert_eq!(
            allowing(&kms, &key, &dynamo, GrantOperation::Decrypt, &empty),
            Some(svc)
        );
        let s3 = Caller::new(Principal::service("s3.amazonaws.com"));
        assert_eq!(
            allowing(&kms, &key, &s3, GrantOperation::Decrypt, &empty),
            None
        );
    }

    #[test]
    fn constraints_bind_the_encryption_context() {
        let (kms, key) = setup();
        let bob = caller(BOB);
        let equals = grant(
            &kms,
            &key,
            BOB,
            &[GrantOperation::Encrypt, GrantOperation::DescribeKey],
            Some(GrantConstraints {
                encryption_context_equals: Some(ctx(&[("Dept", "IT"), ("App", "x")])),
                ..Default::default()
            }),
        );
        let enc = |c: &[(&str, &str)]| allowing(&kms, &key, &bob, GrantOperation::Encrypt, &ctx(c));
        assert_eq!(enc(&[("Dept", "IT"), ("App", "x")]), Some(equals.clone()));
        // Keys compare without regard to case, values exactly.
        assert_eq!(enc(&[("dept", "IT"), ("APP", "x")]), Some(equals.clone()));
        assert_eq!(enc(&[("Dept", "it"), ("App", "x")]), None);
        // Equals: no pair more, none less.
        assert_eq!(enc(&[("Dept", "IT")]), None);
        assert_eq!(enc(&[("Dept", "IT"), ("App", "x"), ("More", "1")]), None);
        assert_eq!(enc(&[]), None);
        // The constraint does not apply to DescribeKey.
        assert_eq!(
            allowing(&kms, &key, &bob, GrantOperation::DescribeKey, &ctx(&[])),
            Some(equals)
        );
        let subset = grant(
            &kms,
            &key,
            BOB,
            &[GrantOperation::Decrypt],
            Some(GrantConstraints {
                encryption_context_subset: Some(ctx(&[("Dept", "IT")])),
                ..Default::default()
            }),
        );
        let dec = |c: &[(&str, &str)]| allowing(&kms, &key, &bob, GrantOperation::Decrypt, &ctx(c));
        assert_eq!(dec(&[("Dept", "IT")]), Some(subset.clone()));
        assert_eq!(dec(&[("Dept", "IT"), ("More", "1")]), Some(subset));
        assert_eq!(dec(&[("Dept", "HR"), ("More", "1")]), None);
        assert_eq!(dec(&[]), None);
    }

    #[test]
    fn tokens_name_their_grant_and_reject_alterations() {
        let (kms, key) = setup();
        let id = grant(&kms, &key, BOB, &[GrantOperation::Encrypt], None);
        let key_id: crate::ids::KeyId = key.parse().unwrap();
        let a = kms.inner.grant_token(&key_id, &id).unwrap();
        let b = kms.inner.grant_token(&key_id, &id).unwrap();
        assert_ne!(a, b);
        assert_eq!(kms.inner.read_grant_token(&a), Some((key_id, id.clone())));
        assert_eq!(kms.inner.read_grant_token(&b), Some((key_id, id)));
        let mut raw = crate::base64_blob::decode(&a).unwrap();
        for i in [0, 5, 30, 60, 70] {
            raw[i] ^= 1;
            assert_eq!(
                kms.inner
                    .read_grant_token(&crate::base64_blob::encode(&raw)),
                None,
                "byte {i}"
            );
            raw[i] ^= 1;
        }
        assert_eq!(kms.inner.read_grant_token("AAAA"), None);
    }

    #[test]
    fn a_parent_constraint_covers_only_children_at_least_as_strict() {
        let ctx = |pairs: &[(&str, &str)]| -> EncryptionContext {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let subset = |c| GrantConstraints {
            encryption_context_subset: Some(c),
            encryption_context_equals: None,
        };
        let equals = |c| GrantConstraints {
            encryption_context_subset: None,
            encryption_context_equals: Some(c),
        };
        let a = ctx(&[("a", "1")]);
        let ab = ctx(&[("a", "1"), ("b", "2")]);
        // No parent constraint covers everything.
        assert!(no_stricter(None, None));
        assert!(no_stricter(None, Some(&subset(a.clone()))));
        // A constrained parent never covers an unconstrained child.
        assert!(!no_stricter(Some(&subset(a.clone())), None));
        // Subset parents cover supersets, as subsets or equals.
        assert!(no_stricter(
            Some(&subset(a.clone())),
            Some(&subset(ab.clone()))
        ));
        assert!(no_stricter(
            Some(&subset(a.clone())),
            Some(&equals(ab.clone()))
        ));
        assert!(!no_stricter(
            Some(&subset(ab.clone())),
            Some(&subset(a.clone()))
        ));
        // Equals parents cover only the same Equals.
        assert!(no_stricter(
            Some(&equals(a.clone())),
            Some(&equals(a.clone()))
        ));
        assert!(!no_stricter(Some(&equals(a.clone())), Some(&equals(ab))));
        assert!(!no_stricter(Some(&equals(a.clone())), Some(&subset(a))));
    }
}
