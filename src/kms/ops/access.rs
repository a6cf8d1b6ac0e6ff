//! Who may use a key, as an API area of its own: the policy simulator
//! ([`Kms::simulate_authorization`]), which answers "would this caller be
//! allowed to do this?" without doing it. The decision itself is the
//! service's (`authorize.rs`).

use crate::error::{Result, kms_err};

use crate::kms::Kms;
use crate::kms::authorize::AuthorizationDecision;
use crate::kms::shapes::access::SimulateAuthorizationRequest;
use crate::kms::support::access::{Action, Facts};

impl Kms {
    /// Would this handle's caller be allowed `req.action` (`kms:Encrypt`,
    /// any case) on `req.key_id` (key id, key ARN, alias name or alias ARN;
    /// `None` for an operation on no key, such as `kms:CreateKey`), with
    /// `req.encryption_context`? Nothing is done; the answer says which
    /// statements (or grant) decided, and gives the `AccessDeniedException`
    /// message a refused request gets. Key ARNs of another account of the
    /// partition are decided there, as the request would be.
    ///
    /// An unknown action is `ValidationException`; a key that does not
    /// exist is `NotFoundException`.
    ///
    /// ```
    /// use kms_keystore::{Kms, KmsConfig, CreateKeyRequest, SimulateAuthorizationRequest};
    /// let kms = Kms::new(KmsConfig::default());
    /// let key = kms.create_key(CreateKeyRequest::default()).unwrap().key_metadata;
    /// let bob = kms.iam().create_user("111122223333", "/", "bob").unwrap();
    /// let decision = kms
    ///     .as_caller(&bob)
    ///     .simulate_authorization(SimulateAuthorizationRequest::new("kms:Encrypt", Some(&key.arn)))
    ///     .unwrap();
    /// assert!(!decision.is_allowed());
    /// assert!(decision.message.unwrap().contains("because no identity-based policy allows the kms:Encrypt action"));
    /// ```
    pub fn simulate_authorization(
        &self,
        req: SimulateAuthorizationRequest,
    ) -> Result<AuthorizationDecision> {
        if let Some(k) = &req.key_id
            && let Some(owner) = self.routed(k)
        {
            return owner.simulate_authorization(req);
        }
        let cx = self.begin();
        let Some(action) = Action::from_name(&req.action) else {
            return Err(kms_err!(
                Validation,
                "'{}' is not a KMS action (such as kms:Encrypt).",
                req.action
            ));
        };
        let key_id = req.key_id.as_deref().unwrap_or_default();
        let facts = Facts::crypto(&req.encryption_context, key_id);
        match &req.key_id {
            None => Ok(self.inner.decide_account(&cx, action, &facts)),
            Some(k) => {
                let entry = self.inner.resolve(&cx, k, true)?;
                Ok(self.inner.decide(&cx, &entry, action, &facts))
            }
        }
    }
}
