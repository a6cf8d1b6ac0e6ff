//! The key-state machine and the key-state table.
//!
//! A key owns a [`KeyLifecycle`] (Enabled, Disabled, or PendingDeletion with
//! its date). What DescribeKey shows, the [`KeyState`], is derived from it
//! and from the key's custom key store: a key whose store is not connected
//! reads `Unavailable` unless it is pending deletion, and returns to its own
//! state when the store reconnects — nothing has to be restored.
//!
//! Two tables live here, and no other code assigns a lifecycle:
//! - [`KeyLifecycle::apply`]: `(lifecycle, event) -> lifecycle | error`;
//! - [`check`]: `(operation, key state) -> ok | error`, the AWS key-state table.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{AwsMessage, Error, Result, kms_err};

use super::spec::KeyState;

/// The state a key owns. `Unavailable` is not here: it is derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub(crate) enum KeyLifecycle {
    /// Usable for cryptographic operations.
    Enabled,
    /// Not usable until enabled.
    Disabled,
    /// Scheduled for deletion; gone at `deletion_date`.
    PendingDeletion {
        /// When the key and its material are deleted.
        deletion_date: Timestamp,
        /// The waiting period the caller chose (7–30 days).
        window_days: u32,
    },
    /// A multi-Region primary key scheduled for deletion while it still has
    /// replicas: its waiting period starts when the last replica is deleted.
    PendingReplicaDeletion {
        /// The waiting period the caller chose (7–30 days).
        window_days: u32,
    },
    /// A key with imported key material (origin `EXTERNAL`) that has none
    /// now: never imported, deleted (DeleteImportedKeyMaterial) or expired.
    PendingImport,
}

/// What can happen to a key's lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum KeyEvent {
    /// EnableKey.
    Enable,
    /// DisableKey.
    Disable,
    /// ScheduleKeyDeletion.
    ScheduleDeletion {
        /// The deletion date.
        deletion_date: Timestamp,
        /// The window in days.
        window_days: u32,
    },
    /// ScheduleKeyDeletion of a multi-Region primary key that still has
    /// replicas.
    ScheduleDeletionAfterReplicas {
        /// The window in days, to start when the last replica is deleted.
        window_days: u32,
    },
    /// The last replica of a primary key in PendingReplicaDeletion was
    /// deleted: its waiting period starts.
    ReplicasDeleted {
        /// Now, plus the waiting period.
        deletion_date: Timestamp,
    },
    /// CancelKeyDeletion (the key comes back Disabled).
    CancelDeletion,
    /// ImportKeyMaterial: the key has its material (again) and is Enabled.
    #[cfg_attr(
        not(any(feature = "asymmetric", test)),
        allow(dead_code, reason = "imports need the feature `asymmetric`")
    )]
    Imported,
    /// DeleteImportedKeyMaterial, or the imported material's `ValidTo`:
    /// the key waits for its material (a key pending deletion stays so).
    MaterialDeleted,
}

impl KeyLifecycle {
    /// The one transition function. `arn` names the key in error messages.
    pub(crate) fn apply(self, event: KeyEvent, arn: &str) -> Result<KeyLifecycle> {
        use KeyEvent as E;
        use KeyLifecycle as L;
        match (self, event) {
            (L::Enabled | L::Disabled, E::Enable) => Ok(L::Enabled),
            (L::Enabled | L::Disabled, E::Disable) => Ok(L::Disabled),
            (
                L::Enabled | L::Disabled | L::PendingImport,
                E::ScheduleDeletion {
                    deletion_date,
                    window_days,
                },
            ) => Ok(L::PendingDeletion {
                deletion_date,
                window_days,
            }),
            (
                L::Enabled | L::Disabled | L::PendingImport,
                E::ScheduleDeletionAfterReplicas { window_days },
            ) => Ok(L::PendingReplicaDeletion { window_days }),
            (L::PendingReplicaDeletion { window_days }, E::ReplicasDeleted { deletion_date }) => {
                Ok(L::PendingDeletion {
                    deletion_date,
                    window_days,
                })
            }
            (L::PendingDeletion { .. } | L::PendingReplicaDeletion { .. }, E::CancelDeletion) => {
                Ok(L::Disabled)
            }
            (
                L::PendingDeletion { .. } | L::PendingReplicaDeletion { .. },
                E::Enable
                | E::Disable
                | E::ScheduleDeletion { .. }
                | E::ScheduleDeletionAfterReplicas { .. },
            ) => Err(pending_deletion(arn)),
            (L::Enabled | L::Disabled | L::PendingDeletion { .. }, E::ReplicasDeleted { .. }) => {
                Err(kms_err!(
                    KmsInvalidState,
                    "{arn} is not waiting for its replica keys to be deleted."
                ))
            }
            (L::Enabled | L::Disabled | L::PendingImport, E::Imported) => Ok(L::Enabled),
            (L::Enabled | L::Disabled | L::PendingImport, E::MaterialDeleted) => {
                Ok(L::PendingImport)
            }
            (L::PendingDeletion { .. } | L::PendingReplicaDeletion { .. }, E::MaterialDeleted) => {
                Ok(self)
            }
            (L::PendingDeletion { .. } | L::PendingReplicaDeletion { .. }, E::Imported) => {
                Err(pending_deletion(arn))
            }
            (L::PendingImport, E::Enable | E::Disable) => Err(pending_import(arn)),
            (L::PendingImport, E::ReplicasDeleted { .. }) => Err(kms_err!(
                KmsInvalidState,
                "{arn} is not waiting for its replica keys to be deleted."
            )),
            (L::Enabled | L::Disabled | L::PendingImport, E::CancelDeletion) => {
                Err(Error::from(AwsMessage::NotPendingDeletion {
                    arn: arn.to_owned(),
                })
                .with_hint("Only a key in PendingDeletion can have its deletion cancelled."))
            }
        }
    }

    /// The state DescribeKey shows, given whether the key's store (if any) is
    /// connected. Keys without a custom key store pass `true`.
    pub(crate) fn key_state(self, store_connected: bool) -> KeyState {
        match self {
            KeyLifecycle::PendingDeletion { .. } => KeyState::PendingDeletion,
            KeyLifecycle::PendingReplicaDeletion { .. } => KeyState::PendingReplicaDeletion,
            KeyLifecycle::PendingImport => KeyState::PendingImport,
            _ if !store_connected => KeyState::Unavailable,
            KeyLifecycle::Enabled => KeyState::Enabled,
            KeyLifecycle::Disabled => KeyState::Disabled,
        }
    }

    /// The deletion date, when pending deletion.
    pub(crate) fn deletion_date(self) -> Option<Timestamp> {
        match self {
            KeyLifecycle::PendingDeletion { deletion_date, .. } => Some(deletion_date),
            _ => None,
        }
    }

    /// The waiting period chosen in ScheduleKeyDeletion, while the key is
    /// scheduled for deletion (in either state).
    pub(crate) fn window_days(self) -> Option<u32> {
        match self {
            KeyLifecycle::PendingDeletion { window_days, .. }
            | KeyLifecycle::PendingReplicaDeletion { window_days } => Some(window_days),
            _ => None,
        }
    }
}

/// The operations the key-state table has a row for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub(crate) enum KeyOperation {
    /// Encrypt.
    Encrypt,
    /// Decrypt.
    Decrypt,
    /// ReEncrypt, on the source key.
    ReEncryptFrom,
    /// ReEncrypt, on the destination key.
    ReEncryptTo,
    /// GenerateDataKey.
    GenerateDataKey,
    /// GenerateDataKeyWithoutPlaintext.
    GenerateDataKeyWithoutPlaintext,
    /// GenerateDataKeyPair (and WithoutPlaintext).
    GenerateDataKeyPair,
    /// GenerateMac.
    GenerateMac,
    /// VerifyMac.
    VerifyMac,
    /// Sign.
    Sign,
    /// Verify.
    Verify,
    /// GetPublicKey.
    GetPublicKey,
    /// DeriveSharedSecret.
    DeriveSharedSecret,
    /// DescribeKey.
    #[allow(
        dead_code,
        reason = "the table's DescribeKey row: allowed in every state, so no call checks it"
    )]
    DescribeKey,
    /// EnableKey.
    EnableKey,
    /// DisableKey.
    DisableKey,
    /// ScheduleKeyDeletion.
    ScheduleKeyDeletion,
    /// CancelKeyDeletion.
    CancelKeyDeletion,
    /// CreateAlias (on the target key).
    CreateAlias,
    /// UpdateAlias, on the key the alias points to now.
    UpdateAliasFrom,
    /// UpdateAlias, on the new target key.
    UpdateAliasTo,
    /// DeleteAlias.
    DeleteAlias,
    /// ListAliases for one key.
    ListAliases,
    /// TagResource.
    TagResource,
    /// UntagResource.
    UntagResource,
    /// ListResourceTags.
    ListResourceTags,
    /// UpdateKeyDescription.
    UpdateKeyDescription,
    /// GetKeyPolicy.
    GetKeyPolicy,
    /// PutKeyPolicy.
    PutKeyPolicy,
    /// ListKeyPolicies.
    ListKeyPolicies,
    /// EnableKeyRotation / DisableKeyRotation.
    KeyRotation,
    /// CreateGrant.
    CreateGrant,
    /// ListGrants.
    ListGrants,
    /// RetireGrant.
    RetireGrant,
    /// RevokeGrant.
    RevokeGrant,
    /// ReplicateKey, on the primary key.
    ReplicateKey,
    /// UpdatePrimaryRegion, on the primary key and on the replica that
    /// becomes primary.
    UpdatePrimaryRegion,
    /// GetParametersForImport.
    GetParametersForImport,
    /// ImportKeyMaterial.
    ImportKeyMaterial,
    /// DeleteImportedKeyMaterial.
    DeleteImportedKeyMaterial,
}

impl KeyOperation {
    /// Every operation, for tests that walk the table.
    #[cfg(test)]
    pub(crate) const ALL: &'static [KeyOperation] = &[
        KeyOperation::Encrypt,
        KeyOperation::Decrypt,
        KeyOperation::ReEncryptFrom,
        KeyOperation::ReEncryptTo,
        KeyOperation::GenerateDataKey,
        KeyOperation::GenerateDataKeyWithoutPlaintext,
        KeyOperation::GenerateDataKeyPair,
        KeyOperation::GenerateMac,
        KeyOperation::VerifyMac,
        KeyOperation::Sign,
        KeyOperation::Verify,
        KeyOperation::GetPublicKey,
        KeyOperation::DeriveSharedSecret,
        KeyOperation::DescribeKey,
        KeyOperation::EnableKey,
        KeyOperation::DisableKey,
        KeyOperation::ScheduleKeyDeletion,
        KeyOperation::CancelKeyDeletion,
        KeyOperation::CreateAlias,
        KeyOperation::UpdateAliasFrom,
        KeyOperation::UpdateAliasTo,
        KeyOperation::DeleteAlias,
        KeyOperation::ListAliases,
        KeyOperation::TagResource,
        KeyOperation::UntagResource,
        KeyOperation::ListResourceTags,
        KeyOperation::UpdateKeyDescription,
        KeyOperation::GetKeyPolicy,
        KeyOperation::PutKeyPolicy,
        KeyOperation::ListKeyPolicies,
        KeyOperation::KeyRotation,
        KeyOperation::CreateGrant,
        KeyOperation::ListGrants,
        KeyOperation::RetireGrant,
        KeyOperation::RevokeGrant,
        KeyOperation::ReplicateKey,
        KeyOperation::UpdatePrimaryRegion,
        KeyOperation::GetParametersForImport,
        KeyOperation::ImportKeyMaterial,
        KeyOperation::DeleteImportedKeyMaterial,
    ];

    /// The KMS API operation this row is for, as AWS names it (an external
    /// key store proxy sees it as `requestMetadata.kmsOperation`).
    pub(crate) const fn api_name(self) -> &'static str {
        match self {
            KeyOperation::Encrypt => "Encrypt",
            KeyOperation::Decrypt => "Decrypt",
            KeyOperation::ReEncryptFrom | KeyOperation::ReEncryptTo => "ReEncrypt",
            KeyOperation::GenerateDataKey => "GenerateDataKey",
            KeyOperation::GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
            KeyOperation::GenerateDataKeyPair => "GenerateDataKeyPair",
            KeyOperation::GenerateMac => "GenerateMac",
            KeyOperation::VerifyMac => "VerifyMac",
            KeyOperation::Sign => "Sign",
            KeyOperation::Verify => "Verify",
            KeyOperation::GetPublicKey => "GetPublicKey",
            KeyOperation::DeriveSharedSecret => "DeriveSharedSecret",
            KeyOperation::DescribeKey => "DescribeKey",
            KeyOperation::EnableKey => "EnableKey",
            KeyOperation::DisableKey => "DisableKey",
            KeyOperation::ScheduleKeyDeletion => "ScheduleKeyDeletion",
            KeyOperation::CancelKeyDeletion => "CancelKeyDeletion",
            KeyOperation::CreateAlias => "CreateAlias",
            KeyOperation::UpdateAliasFrom | KeyOperation::UpdateAliasTo => "UpdateAlias",
            KeyOperation::DeleteAlias => "DeleteAlias",
            KeyOperation::ListAliases => "ListAliases",
            KeyOperation::TagResource => "TagResource",
            KeyOperation::UntagResource => "UntagResource",
            KeyOperation::ListResourceTags => "ListResourceTags",
            KeyOperation::UpdateKeyDescription => "UpdateKeyDescription",
            KeyOperation::GetKeyPolicy => "GetKeyPolicy",
            KeyOperation::PutKeyPolicy => "PutKeyPolicy",
            KeyOperation::ListKeyPolicies => "ListKeyPolicies",
            KeyOperation::KeyRotation => "EnableKeyRotation",
            KeyOperation::CreateGrant => "CreateGrant",
            KeyOperation::ListGrants => "ListGrants",
            KeyOperation::RetireGrant => "RetireGrant",
            KeyOperation::RevokeGrant => "RevokeGrant",
            KeyOperation::ReplicateKey => "ReplicateKey",
            KeyOperation::UpdatePrimaryRegion => "UpdatePrimaryRegion",
            KeyOperation::GetParametersForImport => "GetParametersForImport",
            KeyOperation::ImportKeyMaterial => "ImportKeyMaterial",
            KeyOperation::DeleteImportedKeyMaterial => "DeleteImportedKeyMaterial",
        }
    }

    /// Whether this is a cryptographic operation (counted against the custom
    /// key store request quota, and needing the backing key).
    pub(crate) const fn is_cryptographic(self) -> bool {
        matches!(
            self,
            KeyOperation::Encrypt
                | KeyOperation::Decrypt
                | KeyOperation::ReEncryptFrom
                | KeyOperation::ReEncryptTo
                | KeyOperation::GenerateDataKey
                | KeyOperation::GenerateDataKeyWithoutPlaintext
                | KeyOperation::GenerateDataKeyPair
                | KeyOperation::GenerateMac
                | KeyOperation::VerifyMac
                | KeyOperation::Sign
                | KeyOperation::Verify
                | KeyOperation::GetPublicKey
                | KeyOperation::DeriveSharedSecret
        )
    }
}

fn pending_deletion(arn: &str) -> Error {
    Error::from(AwsMessage::PendingDeletion {
        arn: arn.to_owned(),
    })
    .with_hint("Cancel the deletion (CancelKeyDeletion) to use or change the key.")
}

fn pending_import(arn: &str) -> Error {
    Error::from(AwsMessage::PendingImport {
        arn: arn.to_owned(),
    })
    .with_hint("Import its key material (GetParametersForImport, ImportKeyMaterial) first.")
}

/// The AWS key-state table: may `op` run on a key in `state`? `arn` names
/// the key in the error message.
///
/// | operation | Enabled | Disabled | PendingDeletion | Unavailable |
/// |---|---|---|---|---|
/// | cryptographic | ok | DisabledException | KMSInvalidStateException | KMSInvalidStateException |
/// | CreateAlias, UpdateAlias (new target) | ok | ok | KMSInvalidStateException | ok |
/// | Enable/DisableKey, ScheduleKeyDeletion | ok | ok | KMSInvalidStateException | ok (takes effect on reconnect) |
/// | CancelKeyDeletion | KMSInvalidStateException | KMSInvalidStateException | ok | KMSInvalidStateException |
/// | ReplicateKey, UpdatePrimaryRegion | ok | DisabledException | KMSInvalidStateException | KMSInvalidStateException |
/// | Tag/UntagResource, UpdateKeyDescription | ok | ok | KMSInvalidStateException | ok |
/// | Enable/DisableKeyRotation, CreateGrant | ok | DisabledException | KMSInvalidStateException | ok |
/// | GetParametersForImport, ImportKeyMaterial | ok | ok | KMSInvalidStateException | ok |
/// | DeleteImportedKeyMaterial | ok | ok | ok | ok |
/// | DescribeKey, DeleteAlias, UpdateAlias (old target), List*, Get/PutKeyPolicy, Retire/RevokeGrant | ok | ok | ok | ok |
///
/// PendingReplicaDeletion (a multi-Region primary key scheduled for
/// deletion that still has replicas) has PendingDeletion's column.
/// PendingImport (a key with imported material that has none now) refuses
/// the cryptographic operations, Enable/DisableKey, CreateGrant, the
/// rotation and multi-Region changes with `KMSInvalidStateException`
/// (`<arn> is pending import.`) and allows the rest.
pub(crate) fn check(op: KeyOperation, state: KeyState, arn: &str) -> Result<()> {
    use KeyOperation as O;
    use KeyState as S;
    match (op, state) {
        (_, S::Enabled) if op != O::CancelKeyDeletion => Ok(()),
        (
            O::DescribeKey
            | O::DeleteAlias
            | O::UpdateAliasFrom
            | O::ListAliases
            | O::ListResourceTags
            | O::GetKeyPolicy
            | O::PutKeyPolicy
            | O::ListKeyPolicies
            | O::ListGrants
            | O::RetireGrant
            | O::RevokeGrant
            | O::DeleteImportedKeyMaterial,
            _,
        ) => Ok(()),
        (O::CancelKeyDeletion, S::PendingDeletion | S::PendingReplicaDeletion) => Ok(()),
        (O::CancelKeyDeletion, _) => Err(Error::from(AwsMessage::NotPendingDeletion {
            arn: arn.to_owned(),
        })
        .with_hint("Only a key in PendingDeletion can have its deletion cancelled.")),
        (_, S::PendingDeletion | S::PendingReplicaDeletion) => Err(pending_deletion(arn)),
        (_, S::PendingImport)
            if op.is_cryptographic()
                || matches!(
                    op,
                    O::EnableKey
                        | O::DisableKey
                        | O::CreateGrant
                        | O::KeyRotation
                        | O::ReplicateKey
                        | O::UpdatePrimaryRegion
                ) =>
        {
            Err(pending_import(arn))
        }
        (_, S::PendingImport) => Ok(()),
        (_, S::Disabled)
            if op.is_cryptographic()
                || matches!(
                    op,
                    O::KeyRotation | O::CreateGrant | O::ReplicateKey | O::UpdatePrimaryRegion
                ) =>
        {
            Err(Error::from(AwsMessage::Disabled {
                arn: arn.to_owned(),
            })
            .with_hint("Enable the key (EnableKey) to use it."))
        }
        (_, S::Disabled) => Ok(()),
        (_, S::Unavailable)
            if op.is_cryptographic() || matches!(op, O::ReplicateKey | O::UpdatePrimaryRegion) =>
        {
            Err(kms_err!(
                KmsInvalidState,
                "{arn} is unavailable because its custom key store is not connected."
            )
            .with_hint("Connect the key store (ConnectCustomKeyStore) to use the key."))
        }
        (_, S::Unavailable) => Ok(()),
        (_, other) => Err(kms_err!(
            KmsInvalidState,
            "{arn} is in state {other}, which does not allow this operation."
        )),
    }
}

#[cfg(test)]
mod tests;
