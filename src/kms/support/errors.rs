//! Error builders shared by the operations and the backends.

use crate::error::{AwsMessage, Error, kms_err};
use crate::ids::XksKeyId;

/// `InvalidCiphertextException`, the one answer to every decrypt failure.
pub(crate) fn invalid_ciphertext() -> Error {
    Error::from(AwsMessage::InvalidCiphertext).with_hint(
        "The ciphertext is invalid, was not made by this KMS, or the encryption context does not match.",
    )
}

/// `CustomKeyStoreNotFoundException` for store `id`.
pub(crate) fn store_not_found(id: &str) -> Error {
    kms_err!(
        CustomKeyStoreNotFound,
        "Custom key store '{id}' does not exist in this account and Region."
    )
}

/// `XksKeyAlreadyInUseException` for `xks_key_id`.
pub(crate) fn xks_key_already_in_use(xks_key_id: &XksKeyId) -> Error {
    kms_err!(
        XksKeyAlreadyInUse,
        "External key {xks_key_id} is already associated with a KMS key in this external key store. Each KMS key needs a different external key."
    )
}
