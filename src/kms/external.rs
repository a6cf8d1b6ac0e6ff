//! The external key store side: what CreateCustomKeyStore,
//! UpdateCustomKeyStore and ConnectCustomKeyStore check for an
//! `EXTERNAL_KEY_STORE` store, and double encryption through the proxy.

use crate::crypto::blob::Blob;
use crate::crypto::{EncryptionContext, Plaintext};
use crate::error::{Error, Result, kms_err};
use crate::ids::{CustomKeyStoreId, XksKeyId};
use crate::store::ConnectionErrorCode;

use super::stores::{StoreEntry, StoreTable, XksStore};
use super::{CreateCustomKeyStoreRequest, Inner, KeyEntry, UpdateCustomKeyStoreRequest};

impl Inner {
    /// Validates a new external key store's settings.
    pub(crate) fn xks_new_store(
        &self,
        _req: &CreateCustomKeyStoreRequest,
        _table: &StoreTable,
    ) -> Result<XksStore> {
        Err(kms_err!(
            UnsupportedOperation,
            "External key stores are not available in this build."
        ))
    }

    /// Validates an update of an external key store.
    pub(crate) fn xks_update(
        &self,
        _store: &StoreEntry,
        cfg: &XksStore,
        _req: &UpdateCustomKeyStoreRequest,
        _table: &StoreTable,
    ) -> Result<XksStore> {
        Ok(cfg.clone())
    }

    /// Problems ConnectCustomKeyStore reports at once (the store stays DISCONNECTED).
    pub(crate) fn xks_connect_precheck(&self, _cfg: &XksStore) -> Result<()> {
        Ok(())
    }

    /// The connect sequence; `Err` is the FAILED code.
    pub(crate) fn xks_connect(
        &self,
        _cfg: &mut XksStore,
    ) -> std::result::Result<(), ConnectionErrorCode> {
        Err(ConnectionErrorCode::InternalError)
    }
}

/// `XksKeyAlreadyInUseException` for `xks_key_id`.
pub(crate) fn already_in_use(xks_key_id: &XksKeyId) -> Error {
    kms_err!(
        XksKeyAlreadyInUse,
        "External key {xks_key_id} is already associated with a KMS key in this external key store. Each KMS key needs a different external key."
    )
}

impl Inner {
    /// CreateKey in an external key store: the proxy must find the external
    /// key, and it must be AES_256, ENABLED, with ENCRYPT and DECRYPT.
    pub(crate) fn xks_create_key(
        &self,
        _cfg: &XksStore,
        _xks_key_id: &XksKeyId,
        _arn: &str,
    ) -> Result<()> {
        Err(kms_err!(
            UnsupportedOperation,
            "External key stores are not available in this build."
        ))
    }

    /// Double encryption: the KMS layer, then the external key.
    pub(crate) fn xks_seal(
        &self,
        _entry: &KeyEntry,
        _store: &CustomKeyStoreId,
        _xks_key_id: &XksKeyId,
        _plaintext: &[u8],
        _ctx: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        Err(kms_err!(
            UnsupportedOperation,
            "External key stores are not available in this build."
        ))
    }

    /// Reverses [`Inner::xks_seal`].
    pub(crate) fn xks_open(
        &self,
        _entry: &KeyEntry,
        _store: &CustomKeyStoreId,
        _xks_key_id: &XksKeyId,
        _blob: &Blob<'_>,
        _ctx: &EncryptionContext,
    ) -> Result<Plaintext> {
        Err(kms_err!(
            UnsupportedOperation,
            "External key stores are not available in this build."
        ))
    }
}
