//! Operations whose shapes this KMS accepts but whose function it does not
//! implement: GenerateDataKeyPair.
//!
//! Each checks the request, the key's existence (`NotFoundException`) and,
//! where AWS's key-state table has a row, the key state, and then answers
//! `UnsupportedOperationException`. For keys in custom key stores that is
//! AWS's own answer (data key pairs are not supported there);
//! for AWS_KMS keys it says this KMS does not implement the feature.

use crate::error::{Error, Result, kms_err};
use crate::key::state::KeyOperation;

use crate::kms::Kms;
use crate::kms::model::key::KeyEntry;
use crate::kms::shapes::types::{GenerateDataKeyPairRequest, GenerateDataKeyPairResponse};
use crate::kms::support::access::{Action, Facts};

/// `UnsupportedOperationException` for `operation` on `entry`.
fn unsupported(entry: &KeyEntry, operation: &str, feature: &str) -> Error {
    match entry.backing.store() {
        Some(store) => kms_err!(
            UnsupportedOperation,
            "{operation} is not supported for keys in custom key stores; {} is in custom key store {store}.",
            entry.arn
        ),
        None => kms_err!(
            UnsupportedOperation,
            "{operation} is not supported by this KMS: {feature} are not implemented."
        ),
    }
}

impl Kms {
    /// GenerateDataKeyPair: `KeyPairSpec` is required (`ValidationException`);
    /// then the key must exist and its state allow cryptographic use
    /// (`DisabledException`, `KMSInvalidStateException`); then
    /// `UnsupportedOperationException`: asymmetric data key pairs are not
    /// implemented, and AWS does not allow them for custom key store keys.
    pub fn generate_data_key_pair(
        &self,
        req: GenerateDataKeyPairRequest,
    ) -> Result<GenerateDataKeyPairResponse> {
        let cx = self.begin();
        if req.key_pair_spec.is_none() {
            return Err(Error::required("keyPairSpec"));
        }
        self.inner.check_grant_tokens(&req.grant_tokens)?;
        let entry = self.inner.resolve(&cx, &req.key_id, true)?;
        self.inner.authorize(
            &cx,
            &entry,
            Action::GenerateDataKeyPair,
            &Facts::crypto(&req.encryption_context, &req.key_id),
        )?;
        self.inner
            .check_key(&entry, KeyOperation::GenerateDataKeyPair)?;
        Err(unsupported(
            &entry,
            "GenerateDataKeyPair",
            "asymmetric data key pairs",
        ))
    }
}
