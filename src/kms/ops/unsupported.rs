//! Operations whose shapes this KMS accepts but whose function it does not
//! implement: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus
//! and GenerateDataKeyPair.
//!
//! Each checks the request, the key's existence (`NotFoundException`) and,
//! where AWS's key-state table has a row, the key state, and then answers
//! `UnsupportedOperationException`. For keys in custom key stores that is
//! AWS's own answer (rotation and data key pairs are not supported there);
//! for AWS_KMS keys it says this KMS does not implement the feature.

use crate::error::{Error, Result, kms_err};
use crate::key::state::KeyOperation;

use crate::kms::Kms;
use crate::kms::model::key::KeyEntry;
use crate::kms::shapes::types::{
    EnableKeyRotationRequest, GenerateDataKeyPairRequest, GenerateDataKeyPairResponse,
    GetKeyRotationStatusResponse,
};
use crate::kms::support::access::{Action, Facts};

/// EnableKeyRotation's `RotationPeriodInDays` range.
pub const ROTATION_PERIOD_DAYS: std::ops::RangeInclusive<u32> = 90..=2560;

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
    /// EnableKeyRotation (key id or key ARN; `RotationPeriodInDays` 90–2560).
    /// Automatic rotation is not implemented: after the NotFound and key-state
    /// checks (Disabled: `DisabledException`; PendingDeletion:
    /// `KMSInvalidStateException`) it is `UnsupportedOperationException`, as
    /// AWS answers for keys in custom key stores.
    pub fn enable_key_rotation(&self, req: EnableKeyRotationRequest) -> Result<()> {
        let cx = self.begin();
        if let Some(days) = req.rotation_period_in_days
            && !ROTATION_PERIOD_DAYS.contains(&days)
        {
            return Err(Error::out_of_range(
                "rotationPeriodInDays",
                i64::from(days),
                90,
                2560,
            ));
        }
        let entry = self.inner.resolve(&cx, &req.key_id, false)?;
        self.inner.authorize(
            &cx,
            &entry,
            Action::EnableKeyRotation,
            &Facts {
                rotation_period_days: req.rotation_period_in_days,
                ..Facts::default()
            },
        )?;
        self.inner.check_key(&entry, KeyOperation::KeyRotation)?;
        Err(unsupported(
            &entry,
            "EnableKeyRotation",
            "automatic key rotations",
        ))
    }

    /// DisableKeyRotation: the checks of [`Kms::enable_key_rotation`], then
    /// `UnsupportedOperationException`.
    pub fn disable_key_rotation(&self, key_id: &str) -> Result<()> {
        let cx = self.begin();
        let entry = self.inner.resolve(&cx, key_id, false)?;
        self.inner
            .authorize(&cx, &entry, Action::DisableKeyRotation, &Facts::default())?;
        self.inner.check_key(&entry, KeyOperation::KeyRotation)?;
        Err(unsupported(
            &entry,
            "DisableKeyRotation",
            "automatic key rotations",
        ))
    }

    /// GetKeyRotationStatus (key id or key ARN): `NotFoundException` for an
    /// unknown key, else `UnsupportedOperationException` in every key state.
    pub fn get_key_rotation_status(&self, key_id: &str) -> Result<GetKeyRotationStatusResponse> {
        if let Some(owner) = self.routed(key_id) {
            return owner.get_key_rotation_status(key_id);
        }
        let cx = self.begin();
        let entry = self.inner.resolve(&cx, key_id, false)?;
        self.inner
            .authorize(&cx, &entry, Action::GetKeyRotationStatus, &Facts::default())?;
        Err(unsupported(
            &entry,
            "GetKeyRotationStatus",
            "automatic key rotations",
        ))
    }

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
