//! Key policies as an API area: PutKeyPolicy, GetKeyPolicy,
//! ListKeyPolicies. What a policy document must be, the default key policy
//! and the lockout safety check are in `support/policy.rs`.

use crate::error::{Error, Result, Shown, Violation, kms_err};
use crate::key::state::KeyOperation;

use crate::kms::Kms;
use crate::kms::shapes::manage::{
    GetKeyPolicyRequest, GetKeyPolicyResponse, ListKeyPoliciesRequest, ListKeyPoliciesResponse,
    PutKeyPolicyRequest,
};
use crate::kms::support::access::{Action, Facts};
use crate::kms::support::paging::marker_violations;
use crate::kms::support::policy::{
    DEFAULT_POLICY_NAME, check_policy_shape, default_key_policy, parse_policy,
};

/// Checks a `PolicyName`: 1–128 word characters (`ValidationException`,
/// every broken constraint reported, the value shown).
fn check_policy_name(name: &str) -> Result<()> {
    let shown = || Shown::Value(name.to_owned());
    let ok = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    Error::check_all(
        [
            Violation::pattern("policyName", ok, shown, r"[\w]+"),
            Violation::length("policyName", name, shown, 1, 128),
        ]
        .into_iter()
        .flatten(),
    )
}

impl Kms {
    /// PutKeyPolicy: replaces the `default` key policy of a key (key id or
    /// key ARN). Works in every key state. `PolicyName` must be `default` (or
    /// absent); `AWS_RAM` or any other name is `ValidationException`.
    ///
    /// The policy is checked in this order (CreateKey checks its `Policy` the
    /// same way):
    /// 1. 1–131,072 characters of `[\u0009\u000A\u000D\u0020-\u00FF]`, else
    ///    `ValidationException` (the API model's constraint);
    /// 2. at most 32,768 bytes, else `LimitExceededException` (the key policy
    ///    size quota);
    /// 3. JSON with the policy grammar's structure, else
    ///    `MalformedPolicyDocumentException`: an object with `Statement` (one
    ///    statement or a non-empty list) and optionally `Version`
    ///    (`2012-10-17` or `2008-10-17`) and `Id`; each statement has `Effect`
    ///    (`Allow`/`Deny`), exactly one of `Principal`/`NotPrincipal` (`"*"`
    ///    or an object of `AWS`, `Service`, `Federated`, `CanonicalUser`),
    ///    at most one of `Action`/`NotAction` (`service:Action` patterns) and
    ///    of `Resource`/`NotResource`, and optionally `Sid` and `Condition`.
    ///    A statement without an action or resource element is accepted and
    ///    has no effect, as the API documents;
    /// 4. the **key policy lockout safety check**, unless
    ///    `BypassPolicyLockoutSafetyCheck` is true: the caller must still be
    ///    able to call PutKeyPolicy on the key under the new policy, else
    ///    `MalformedPolicyDocumentException` ("The new key policy will not
    ///    allow you to update the key policy in the future."). The new
    ///    policy is evaluated for the handle's caller (the account root
    ///    unless [`Kms::as_caller`] made it), in this call's context, with
    ///    the caller's identity-based policies where the policy delegates to
    ///    its account.
    ///
    /// The caller itself must be allowed `kms:PutKeyPolicy` by the key's
    /// current policy. From then on the new policy decides every call on
    /// the key; GetKeyPolicy returns it as given.
    ///
    /// ```
    /// use kms_keystore::{Kms, KmsConfig};
    /// use kms_keystore::{CreateKeyRequest, PutKeyPolicyRequest};
    /// let kms = Kms::new(KmsConfig::default());
    /// let key = kms.create_key(CreateKeyRequest::default()).unwrap().key_metadata.key_id.to_string();
    /// let only_alice = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    ///     "Principal": {"AWS": "arn:aws:iam::111122223333:user/Alice"},
    ///     "Action": "kms:*", "Resource": "*"}]}"#;
    /// let err = kms.put_key_policy(PutKeyPolicyRequest::new(&key, only_alice)).unwrap_err();
    /// assert_eq!(err.code(), "MalformedPolicyDocumentException");
    /// kms.put_key_policy(PutKeyPolicyRequest {
    ///     bypass_policy_lockout_safety_check: Some(true),
    ///     ..PutKeyPolicyRequest::new(&key, only_alice)
    /// }).unwrap();
    /// ```
    pub fn put_key_policy(&self, req: PutKeyPolicyRequest) -> Result<()> {
        let cx = self.begin();
        let inner = &*self.inner;
        let name = req.policy_name.as_deref().unwrap_or(DEFAULT_POLICY_NAME);
        check_policy_name(name)?;
        if name == "AWS_RAM" {
            return Err(kms_err!(
                Validation,
                "The AWS_RAM policy can only be managed by the RAM service."
            ));
        }
        if name != DEFAULT_POLICY_NAME {
            return Err(kms_err!(
                Validation,
                "PolicyName '{name}' is not valid for PutKeyPolicy."
            )
            .with_hint("PutKeyPolicy sets only the key policy named 'default'."));
        }
        check_policy_shape(&req.policy)?;
        let entry = inner.resolve(&cx, &req.key_id, false)?;
        let bypass = req.bypass_policy_lockout_safety_check == Some(true);
        inner.authorize(
            &cx,
            &entry,
            Action::PutKeyPolicy,
            &Facts {
                bypass_lockout: Some(bypass),
                ..Facts::default()
            },
        )?;
        let compiled = std::sync::Arc::new(parse_policy(&req.policy)?);
        if !bypass {
            inner.check_lockout(&cx, &compiled, &entry.arn)?;
        }
        inner.with_key_mut(&entry, KeyOperation::PutKeyPolicy, |m| {
            entry.set_policy(m, req.policy, compiled);
            Ok(())
        })
    }

    /// GetKeyPolicy: the key policy of a key (key id or key ARN) — the one
    /// given to CreateKey or PutKeyPolicy, else the
    /// [default key policy](default_key_policy). Works in every key state.
    /// `PolicyName` is `default` (or absent); a key has no other policy here,
    /// so any other name (including `AWS_RAM`) is `NotFoundException`.
    pub fn get_key_policy(&self, req: GetKeyPolicyRequest) -> Result<GetKeyPolicyResponse> {
        let cx = self.begin();
        let inner = &*self.inner;
        let name = req.policy_name.as_deref().unwrap_or(DEFAULT_POLICY_NAME);
        check_policy_name(name)?;
        let entry = inner.resolve(&cx, &req.key_id, false)?;
        inner.authorize(&cx, &entry, Action::GetKeyPolicy, &Facts::default())?;
        inner.check_key(&entry, KeyOperation::GetKeyPolicy)?;
        if name != DEFAULT_POLICY_NAME {
            return Err(kms_err!(
                NotFound,
                "Key {} has no key policy named '{name}'; its only key policy is 'default'.",
                entry.arn
            ));
        }
        let policy = inner
            .read_key(&entry, |m| m.policy.clone())
            .unwrap_or_else(|| default_key_policy(&inner.account_id));
        Ok(GetKeyPolicyResponse {
            policy,
            policy_name: DEFAULT_POLICY_NAME.to_owned(),
        })
    }

    /// ListKeyPolicies: the names of a key's policies (key id or key ARN):
    /// always `["default"]`. `Limit` 1–1000 (default 100); there is never a
    /// next page, so any `Marker` is `InvalidMarkerException`. Works in every
    /// key state.
    pub fn list_key_policies(
        &self,
        req: ListKeyPoliciesRequest,
    ) -> Result<ListKeyPoliciesResponse> {
        let cx = self.begin();
        let inner = &*self.inner;
        let mut violations: Vec<Violation> = req
            .limit
            .and_then(|limit| Violation::range("limit", i64::from(limit), 1, 1000))
            .into_iter()
            .collect();
        if let Some(marker) = &req.marker {
            violations.extend(marker_violations(marker));
        }
        Error::check_all(violations)?;
        if let Some(marker) = &req.marker {
            return Err(kms_err!(
                InvalidMarker,
                "Marker '{marker}' is not one this service returned."
            )
            .with_hint("ListKeyPolicies always returns every policy name in one page."));
        }
        let entry = inner.resolve(&cx, &req.key_id, false)?;
        inner.authorize(&cx, &entry, Action::ListKeyPolicies, &Facts::default())?;
        inner.check_key(&entry, KeyOperation::ListKeyPolicies)?;
        Ok(ListKeyPoliciesResponse {
            policy_names: vec![DEFAULT_POLICY_NAME.to_owned()],
            next_marker: None,
            truncated: false,
        })
    }
}
