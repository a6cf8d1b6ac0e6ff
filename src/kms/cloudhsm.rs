//! The CloudHSM side of custom key stores: what CreateCustomKeyStore,
//! UpdateCustomKeyStore and ConnectCustomKeyStore check for an
//! `AWS_CLOUDHSM` store, and keys whose material lives in the cluster.

use crate::crypto::blob::Blob;
use crate::crypto::{EncryptionContext, Plaintext};
use crate::error::{Result, kms_err};
use crate::ids::CustomKeyStoreId;
use crate::store::ConnectionErrorCode;

use super::stores::{CloudHsmStore, StoreEntry, StoreTable};
use super::{CreateCustomKeyStoreRequest, Inner, KeyEntry, UpdateCustomKeyStoreRequest};

impl Inner {
    /// Validates a new CloudHSM key store's settings.
    pub(crate) fn cloudhsm_new_store(
        &self,
        _req: &CreateCustomKeyStoreRequest,
        _table: &StoreTable,
    ) -> Result<CloudHsmStore> {
        Err(kms_err!(
            UnsupportedOperation,
            "CloudHSM key stores are not available in this build."
        ))
    }

    /// Validates an update of a CloudHSM key store.
    pub(crate) fn cloudhsm_update(
        &self,
        _store: &StoreEntry,
        cfg: &CloudHsmStore,
        _req: &UpdateCustomKeyStoreRequest,
        _table: &StoreTable,
    ) -> Result<CloudHsmStore> {
        Ok(cfg.clone())
    }

    /// Problems ConnectCustomKeyStore reports at once (the store stays DISCONNECTED).
    pub(crate) fn cloudhsm_connect_precheck(&self, _cfg: &CloudHsmStore) -> Result<()> {
        Ok(())
    }

    /// The connect sequence; `Err` is the FAILED code.
    pub(crate) fn cloudhsm_connect(
        &self,
        _cfg: &mut CloudHsmStore,
    ) -> std::result::Result<(), ConnectionErrorCode> {
        Err(ConnectionErrorCode::InternalError)
    }

    /// Logs KMS out of the cluster.
    pub(crate) fn cloudhsm_disconnect(&self, _cfg: &mut CloudHsmStore) {}
}

impl Inner {
    /// CreateKey in a CloudHSM key store: a persistent, non-extractable
    /// AES-256 key in the cluster, labelled with the key ARN.
    pub(crate) fn cloudhsm_create_key(&self, _cfg: &CloudHsmStore, _arn: &str) -> Result<()> {
        Err(kms_err!(
            UnsupportedOperation,
            "CloudHSM key stores are not available in this build."
        ))
    }

    /// Encrypts under the cluster's key labelled with the key ARN.
    pub(crate) fn cloudhsm_seal(
        &self,
        _entry: &KeyEntry,
        _store: &CustomKeyStoreId,
        _plaintext: &[u8],
        _ctx: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        Err(kms_err!(
            UnsupportedOperation,
            "CloudHSM key stores are not available in this build."
        ))
    }

    /// Decrypts with the cluster's key labelled with the key ARN.
    pub(crate) fn cloudhsm_open(
        &self,
        _entry: &KeyEntry,
        _store: &CustomKeyStoreId,
        _blob: &Blob<'_>,
        _ctx: &EncryptionContext,
    ) -> Result<Plaintext> {
        Err(kms_err!(
            UnsupportedOperation,
            "CloudHSM key stores are not available in this build."
        ))
    }

    /// Random bytes from the store's cluster.
    pub(crate) fn cloudhsm_random(&self, _cfg: &CloudHsmStore, _n: usize) -> Result<Plaintext> {
        Err(kms_err!(
            UnsupportedOperation,
            "CloudHSM key stores are not available in this build."
        ))
    }

    /// Best-effort removal of a deleted key's material from the cluster.
    pub(crate) fn cloudhsm_delete_key(&self, _store: &CustomKeyStoreId, _arn: &str) {}
}
