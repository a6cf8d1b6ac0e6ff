use super::*;
use crate::error::ErrorCode;

const ARN: &str = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// The expected outcome for each (operation, state), written out row by row
/// from the AWS key-state table rather than derived from `check`.
fn expected(op: KeyOperation, state: KeyState) -> Option<ErrorCode> {
    use ErrorCode as C;
    use KeyOperation as O;
    use KeyState as S;
    let crypto = [
        O::Encrypt,
        O::Decrypt,
        O::ReEncryptFrom,
        O::ReEncryptTo,
        O::GenerateDataKey,
        O::GenerateDataKeyWithoutPlaintext,
        O::GenerateDataKeyPair,
        O::GenerateMac,
        O::VerifyMac,
        O::Sign,
        O::Verify,
        O::GetPublicKey,
        O::DeriveSharedSecret,
    ];
    let always = [
        O::DescribeKey,
        O::DeleteAlias,
        O::UpdateAliasFrom,
        O::ListAliases,
        O::ListResourceTags,
        O::GetKeyPolicy,
        O::PutKeyPolicy,
        O::ListKeyPolicies,
        O::ListGrants,
        O::RetireGrant,
        O::RevokeGrant,
        O::DeleteImportedKeyMaterial,
    ];
    if always.contains(&op) {
        return None;
    }
    if op == O::CancelKeyDeletion {
        return if matches!(state, S::PendingDeletion | S::PendingReplicaDeletion) {
            None
        } else {
            Some(C::KmsInvalidState)
        };
    }
    match state {
        S::Enabled => None,
        S::Disabled
            if crypto.contains(&op)
                || [
                    O::KeyRotation,
                    O::CreateGrant,
                    O::ReplicateKey,
                    O::UpdatePrimaryRegion,
                ]
                .contains(&op) =>
        {
            Some(C::Disabled)
        }
        S::Disabled => None,
        S::PendingDeletion => Some(C::KmsInvalidState),
        S::Unavailable
            if crypto.contains(&op) || [O::ReplicateKey, O::UpdatePrimaryRegion].contains(&op) =>
        {
            Some(C::KmsInvalidState)
        }
        S::Unavailable => None,
        S::PendingImport
            if crypto.contains(&op)
                || [
                    O::EnableKey,
                    O::DisableKey,
                    O::CreateGrant,
                    O::KeyRotation,
                    O::ReplicateKey,
                    O::UpdatePrimaryRegion,
                ]
                .contains(&op) =>
        {
            Some(C::KmsInvalidState)
        }
        S::PendingImport => None,
        _ => Some(C::KmsInvalidState),
    }
}

#[test]
fn every_operation_and_state_pair_follows_the_table() {
    for op in KeyOperation::ALL {
        for state in KeyState::values() {
            let got = check(*op, *state, ARN).err().map(|e| e.kind());
            assert_eq!(got, expected(*op, *state), "{op:?} in {state}");
        }
    }
}

#[test]
fn errors_name_the_key_arn() {
    let err = check(KeyOperation::Encrypt, KeyState::Disabled, ARN).unwrap_err();
    assert!(err.message().contains(ARN));
    assert_eq!(err.code(), "DisabledException");
}

#[test]
fn lifecycle_transitions_follow_the_table() {
    let sched = KeyEvent::ScheduleDeletion {
        deletion_date: Timestamp::from_millis(5),
        window_days: 7,
    };
    let pending = KeyLifecycle::PendingDeletion {
        deletion_date: Timestamp::from_millis(5),
        window_days: 7,
    };
    use KeyEvent as E;
    use KeyLifecycle as L;
    let rows: &[(L, E, Result<L, ErrorCode>)] = &[
        (L::Enabled, E::Enable, Ok(L::Enabled)),
        (L::Enabled, E::Disable, Ok(L::Disabled)),
        (L::Disabled, E::Enable, Ok(L::Enabled)),
        (L::Disabled, E::Disable, Ok(L::Disabled)),
        (L::Enabled, sched, Ok(pending)),
        (L::Disabled, sched, Ok(pending)),
        (pending, E::CancelDeletion, Ok(L::Disabled)),
        (pending, E::Enable, Err(ErrorCode::KmsInvalidState)),
        (pending, E::Disable, Err(ErrorCode::KmsInvalidState)),
        (pending, sched, Err(ErrorCode::KmsInvalidState)),
        (
            L::Enabled,
            E::CancelDeletion,
            Err(ErrorCode::KmsInvalidState),
        ),
        (
            L::Disabled,
            E::CancelDeletion,
            Err(ErrorCode::KmsInvalidState),
        ),
    ];
    for (from, ev, want) in rows {
        let got = from.apply(*ev, ARN).map_err(|e| e.kind());
        assert_eq!(&got, want, "{from:?} + {ev:?}");
    }
}

#[test]
fn a_primary_with_replicas_waits_for_them_then_starts_its_window() {
    use KeyEvent as E;
    use KeyLifecycle as L;
    let after = E::ScheduleDeletionAfterReplicas { window_days: 9 };
    let waiting = L::PendingReplicaDeletion { window_days: 9 };
    let gone = E::ReplicasDeleted {
        deletion_date: Timestamp::from_millis(77),
    };
    let pending = L::PendingDeletion {
        deletion_date: Timestamp::from_millis(77),
        window_days: 9,
    };
    let rows: &[(L, E, Result<L, ErrorCode>)] = &[
        (L::Enabled, after, Ok(waiting)),
        (L::Disabled, after, Ok(waiting)),
        (waiting, gone, Ok(pending)),
        (waiting, E::CancelDeletion, Ok(L::Disabled)),
        (waiting, E::Enable, Err(ErrorCode::KmsInvalidState)),
        (waiting, E::Disable, Err(ErrorCode::KmsInvalidState)),
        (waiting, after, Err(ErrorCode::KmsInvalidState)),
        (pending, after, Err(ErrorCode::KmsInvalidState)),
        (L::Enabled, gone, Err(ErrorCode::KmsInvalidState)),
        (pending, gone, Err(ErrorCode::KmsInvalidState)),
    ];
    for (from, ev, want) in rows {
        let got = from.apply(*ev, ARN).map_err(|e| e.kind());
        assert_eq!(&got, want, "{from:?} + {ev:?}");
    }
    assert_eq!(waiting.key_state(true), KeyState::PendingReplicaDeletion);
    assert_eq!(waiting.deletion_date(), None);
    assert_eq!(waiting.window_days(), Some(9));
}

#[test]
fn disconnected_store_makes_keys_unavailable_except_pending_deletion() {
    assert_eq!(
        KeyLifecycle::Enabled.key_state(false),
        KeyState::Unavailable
    );
    assert_eq!(
        KeyLifecycle::Disabled.key_state(false),
        KeyState::Unavailable
    );
    let pending = KeyLifecycle::PendingDeletion {
        deletion_date: Timestamp::from_millis(5),
        window_days: 7,
    };
    assert_eq!(pending.key_state(false), KeyState::PendingDeletion);
    assert_eq!(KeyLifecycle::Enabled.key_state(true), KeyState::Enabled);
    assert_eq!(KeyLifecycle::Disabled.key_state(true), KeyState::Disabled);
}

#[test]
fn api_names_are_aws_operation_names() {
    // Both ReEncrypt rows are the one ReEncrypt call, as a proxy sees it.
    assert_eq!(KeyOperation::ReEncryptTo.api_name(), "ReEncrypt");
    assert_eq!(KeyOperation::ReEncryptFrom.api_name(), "ReEncrypt");
    assert_eq!(KeyOperation::GenerateDataKey.api_name(), "GenerateDataKey");
    assert_eq!(KeyOperation::KeyRotation.api_name(), "EnableKeyRotation");
}

#[test]
fn a_key_pending_import_is_refused_with_awss_pending_import_message() {
    let err = check(KeyOperation::Encrypt, KeyState::PendingImport, ARN).unwrap_err();
    assert_eq!(err.code(), "KMSInvalidStateException");
    assert_eq!(err.message(), format!("{ARN} is pending import."));
    let err = check(KeyOperation::EnableKey, KeyState::PendingImport, ARN).unwrap_err();
    assert_eq!(err.message(), format!("{ARN} is pending import."));
    assert!(
        check(
            KeyOperation::ScheduleKeyDeletion,
            KeyState::PendingImport,
            ARN
        )
        .is_ok()
    );
    assert!(
        check(
            KeyOperation::ImportKeyMaterial,
            KeyState::PendingImport,
            ARN
        )
        .is_ok()
    );
}

#[test]
fn imported_material_moves_the_lifecycle_between_pending_import_and_enabled() {
    use KeyEvent as E;
    use KeyLifecycle as L;
    let pending = L::PendingDeletion {
        deletion_date: Timestamp::from_millis(5),
        window_days: 7,
    };
    let sched = E::ScheduleDeletion {
        deletion_date: Timestamp::from_millis(5),
        window_days: 7,
    };
    let rows: &[(L, E, Result<L, ErrorCode>)] = &[
        (L::PendingImport, E::Imported, Ok(L::Enabled)),
        (L::Disabled, E::Imported, Ok(L::Enabled)),
        (L::Enabled, E::Imported, Ok(L::Enabled)),
        (L::Enabled, E::MaterialDeleted, Ok(L::PendingImport)),
        (L::Disabled, E::MaterialDeleted, Ok(L::PendingImport)),
        (L::PendingImport, E::MaterialDeleted, Ok(L::PendingImport)),
        (pending, E::MaterialDeleted, Ok(pending)),
        (pending, E::Imported, Err(ErrorCode::KmsInvalidState)),
        (L::PendingImport, sched, Ok(pending)),
        (L::PendingImport, E::Enable, Err(ErrorCode::KmsInvalidState)),
        (
            L::PendingImport,
            E::Disable,
            Err(ErrorCode::KmsInvalidState),
        ),
        (
            L::PendingImport,
            E::CancelDeletion,
            Err(ErrorCode::KmsInvalidState),
        ),
    ];
    for (from, ev, want) in rows {
        let got = from.apply(*ev, ARN).map_err(|e| e.kind());
        assert_eq!(&got, want, "{from:?} + {ev:?}");
    }
    assert_eq!(L::PendingImport.key_state(true), KeyState::PendingImport);
}
