//! The policy simulator's request shape (not an AWS API operation: the
//! library's own, named in the API's style).

use crate::crypto::EncryptionContext;

/// A question for [`Kms::simulate_authorization`](crate::Kms::simulate_authorization).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimulateAuthorizationRequest {
    /// The action, as IAM names it: `kms:Encrypt`, `kms:PutKeyPolicy`, …
    pub action: String,
    /// The key (key id, key ARN, alias name or alias ARN); `None` for an
    /// operation on no key (`kms:CreateKey`, `kms:ListKeys`, …).
    pub key_id: Option<String>,
    /// The request's encryption context, for `kms:EncryptionContext:…`
    /// conditions and grant constraints.
    pub encryption_context: EncryptionContext,
}

impl SimulateAuthorizationRequest {
    /// A question about `action` on `key_id`, with no encryption context.
    pub fn new(action: &str, key_id: Option<&str>) -> SimulateAuthorizationRequest {
        SimulateAuthorizationRequest {
            action: action.to_owned(),
            key_id: key_id.map(str::to_owned),
            encryption_context: EncryptionContext::new(),
        }
    }
}
