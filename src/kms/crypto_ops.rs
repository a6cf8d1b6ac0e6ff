//! Cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
//! GenerateDataKeyWithoutPlaintext, GenerateRandom.
//!
//! Each runs its checks in a fixed order — request shape, key existence, key
//! state, store connection and quota — and only then touches key material.

use crate::clock::Timestamp;
use crate::crypto::blob::Blob;
use crate::crypto::{EncryptionContext, Plaintext};
use crate::error::{Error, Result, kms_err};
use crate::key::EncryptionAlgorithmSpec;
use crate::key::state;
use crate::key::state::KeyOperation;

use super::backend::cipher::{KeyAccess, KeyCipher, KeyRef, SingleLayer};
use super::support::errors::invalid_ciphertext;
use super::support::seal::SealInput;
use super::{
    Call, DecryptRequest, DecryptResponse, EncryptRequest, EncryptResponse, GenerateDataKeyRequest,
    GenerateDataKeyResponse, GenerateDataKeyWithoutPlaintextResponse, GenerateRandomRequest,
    GenerateRandomResponse, Inner, KeyEntry, Kms, ReEncryptRequest, ReEncryptResponse,
};

/// Largest Encrypt plaintext.
pub const MAX_PLAINTEXT: usize = 4096;
/// Largest ciphertext blob Decrypt accepts.
pub const MAX_CIPHERTEXT_BLOB: usize = 6144;
/// Largest GenerateDataKey / GenerateRandom request.
pub const MAX_RANDOM_BYTES: u32 = 1024;

pub(crate) fn check_grant_tokens(tokens: &[String]) -> Result<()> {
    if tokens.len() > 10 {
        return Err(Error::validation(
            "grantTokens",
            "Member must have length less than or equal to 10",
        ));
    }
    if tokens.iter().any(|t| t.is_empty() || t.len() > 8192) {
        return Err(Error::validation(
            "grantTokens",
            "Member must have length between 1 and 8192",
        ));
    }
    Ok(())
}

fn check_algorithm(alg: Option<EncryptionAlgorithmSpec>) -> Result<()> {
    match alg {
        None | Some(EncryptionAlgorithmSpec::SymmetricDefault) => Ok(()),
        Some(other) => Err(kms_err!(
            InvalidKeyUsage,
            "Encryption algorithm {other} is not valid for a symmetric encryption key; use SYMMETRIC_DEFAULT."
        )),
    }
}

fn dry_run(flag: Option<bool>) -> Result<()> {
    if flag == Some(true) {
        return Err(kms_err!(
            DryRunOperation,
            "The request would have succeeded, but the DryRun flag is set."
        ));
    }
    Ok(())
}

/// What the data plane needs of `entry`: plain data, borrowed.
fn key_ref(entry: &KeyEntry) -> KeyRef<'_> {
    KeyRef {
        id: entry.id,
        arn: &entry.arn,
        backing: &entry.backing,
        own: entry.cipher(),
    }
}

impl Inner {
    /// Checks that `entry` may run the cryptographic `op` now — key state
    /// (with its store's connection), then the store's request quota — and
    /// returns what the operation needs of the key's backing. One read of
    /// the key's state and, for a custom key store key, one of the store
    /// table. `now` is the call's time (the quota's).
    pub(crate) fn check_crypto(
        &self,
        entry: &KeyEntry,
        op: KeyOperation,
        now: Timestamp,
    ) -> Result<KeyAccess> {
        let lifecycle = entry.lifecycle();
        let Some(store_id) = entry.backing.store() else {
            state::check(op, lifecycle.key_state(true), &entry.arn)?;
            return Ok(KeyAccess::Single(SingleLayer::own()));
        };
        let stores = self.stores.read();
        let store = stores.get(store_id.as_str());
        let connected = store.is_some_and(|s| s.state.is_connected());
        state::check(op, lifecycle.key_state(connected), &entry.arn)?;
        let store = store.ok_or_else(|| Error::internal("a key without its custom key store"))?;
        self.take_store_quota(store, now)?;
        // Lock order: stores, then the cluster.
        store
            .backend
            .contract()
            .key_access(&self.crypto_env(), store, &entry.arn, op)
    }

    /// Encrypts `plaintext` under `entry`, binding `ctx`.
    pub(crate) fn seal(
        &self,
        entry: &KeyEntry,
        access: KeyAccess,
        plaintext: SealInput<'_>,
        ctx: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        access.seal(&self.crypto_env(), &key_ref(entry), plaintext, ctx)
    }

    /// Decrypts a decoded blob made under `entry`.
    pub(crate) fn open(
        &self,
        entry: &KeyEntry,
        access: KeyAccess,
        blob: &Blob<'_>,
        ctx: &EncryptionContext,
    ) -> Result<Plaintext> {
        access.open(&self.crypto_env(), &key_ref(entry), blob, ctx)
    }

    /// Decodes `bytes`, finds its key, checks an optional expected key, the
    /// key state for `op`, and decrypts.
    fn decrypt_blob(
        &self,
        cx: &Call,
        bytes: &[u8],
        expected_key: Option<&str>,
        ctx: &EncryptionContext,
        op: KeyOperation,
    ) -> Result<(std::sync::Arc<KeyEntry>, Plaintext)> {
        if bytes.is_empty() || bytes.len() > MAX_CIPHERTEXT_BLOB {
            return Err(Error::validation(
                "ciphertextBlob",
                format_args!("Member must have length between 1 and {MAX_CIPHERTEXT_BLOB}"),
            ));
        }
        let blob = Blob::read(bytes).map_err(|_| invalid_ciphertext())?;
        let entry = match expected_key {
            Some(k) => {
                let given = self.resolve(cx, k, true)?;
                if given.id != blob.header.key_id {
                    return Err(kms_err!(
                        IncorrectKey,
                        "The key {} is not the key that encrypted this ciphertext.",
                        given.arn
                    ));
                }
                given
            }
            None => {
                // A blob naming a key this KMS does not have was not made
                // here (or was tampered with): that is an invalid
                // ciphertext, not a missing key. A key whose deletion date
                // has passed is gone too, whether or not it has been purged
                // from the table yet: the same answer either way.
                let found = self.keys.read().get(&blob.header.key_id);
                self.unless_due(found.ok_or_else(invalid_ciphertext)?, cx.now)
                    .map_err(|_| invalid_ciphertext())?
            }
        };
        let access = self.check_crypto(&entry, op, cx.now)?;
        let plaintext = self.open(&entry, access, &blob, ctx)?;
        Ok((entry, plaintext))
    }
}

impl Kms {
    /// Encrypt: up to 4096 bytes under a symmetric key, binding the
    /// encryption context. The blob carries the key id, so Decrypt needs no
    /// `KeyId`.
    pub fn encrypt(&self, req: EncryptRequest) -> Result<EncryptResponse> {
        let cx = self.inner.begin();
        let inner = &*self.inner;
        let n = req.plaintext.len();
        if n == 0 || n > MAX_PLAINTEXT {
            return Err(Error::validation(
                "plaintext",
                format_args!("Member must have length between 1 and {MAX_PLAINTEXT}"),
            ));
        }
        check_grant_tokens(&req.grant_tokens)?;
        check_algorithm(req.encryption_algorithm)?;
        let entry = inner.resolve(&cx, &req.key_id, true)?;
        let access = inner.check_crypto(&entry, KeyOperation::Encrypt, cx.now)?;
        dry_run(req.dry_run)?;
        let ciphertext_blob = inner.seal(
            &entry,
            access,
            SealInput::Owned(req.plaintext),
            &req.encryption_context,
        )?;
        Ok(EncryptResponse {
            ciphertext_blob,
            key_id: entry.arn.clone(),
            encryption_algorithm: EncryptionAlgorithmSpec::SymmetricDefault,
        })
    }

    /// Decrypt: the blob names its key; a `KeyId`, if given, must be that key
    /// (`IncorrectKeyException`). Any tampering, another key's blob or a
    /// different context is `InvalidCiphertextException` and gives no plaintext.
    pub fn decrypt(&self, req: DecryptRequest) -> Result<DecryptResponse> {
        let cx = self.inner.begin();
        check_grant_tokens(&req.grant_tokens)?;
        check_algorithm(req.encryption_algorithm)?;
        let (entry, plaintext) = self.inner.decrypt_blob(
            &cx,
            &req.ciphertext_blob,
            req.key_id.as_deref(),
            &req.encryption_context,
            KeyOperation::Decrypt,
        )?;
        dry_run(req.dry_run)?;
        Ok(DecryptResponse {
            key_id: entry.arn.clone(),
            plaintext,
            encryption_algorithm: EncryptionAlgorithmSpec::SymmetricDefault,
        })
    }

    /// ReEncrypt: decrypts under the source key and context, encrypts under
    /// the destination key and context; the plaintext never leaves KMS.
    pub fn re_encrypt(&self, req: ReEncryptRequest) -> Result<ReEncryptResponse> {
        let cx = self.inner.begin();
        let inner = &*self.inner;
        check_grant_tokens(&req.grant_tokens)?;
        check_algorithm(req.source_encryption_algorithm)?;
        check_algorithm(req.destination_encryption_algorithm)?;
        if req.destination_key_id.is_empty() {
            return Err(Error::validation(
                "destinationKeyId",
                "Member must not be null",
            ));
        }
        let (source, plaintext) = inner.decrypt_blob(
            &cx,
            &req.ciphertext_blob,
            req.source_key_id.as_deref(),
            &req.source_encryption_context,
            KeyOperation::ReEncryptFrom,
        )?;
        let dest = inner.resolve(&cx, &req.destination_key_id, true)?;
        let access = inner.check_crypto(&dest, KeyOperation::ReEncryptTo, cx.now)?;
        dry_run(req.dry_run)?;
        let ciphertext_blob = inner.seal(
            &dest,
            access,
            SealInput::Owned(plaintext),
            &req.destination_encryption_context,
        )?;
        Ok(ReEncryptResponse {
            ciphertext_blob,
            source_key_id: source.arn.clone(),
            key_id: dest.arn.clone(),
            source_encryption_algorithm: EncryptionAlgorithmSpec::SymmetricDefault,
            destination_encryption_algorithm: EncryptionAlgorithmSpec::SymmetricDefault,
        })
    }

    /// GenerateDataKey: a random data key, returned in plaintext and
    /// encrypted under the KMS key. Exactly one of `KeySpec` and
    /// `NumberOfBytes` (1–1024).
    pub fn generate_data_key(
        &self,
        req: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse> {
        let cx = self.inner.begin();
        let (key_id, ciphertext_blob, plaintext) =
            self.data_key(&cx, &req, KeyOperation::GenerateDataKey)?;
        Ok(GenerateDataKeyResponse {
            ciphertext_blob,
            plaintext,
            key_id,
        })
    }

    /// GenerateDataKeyWithoutPlaintext: as GenerateDataKey, without the plaintext.
    pub fn generate_data_key_without_plaintext(
        &self,
        req: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyWithoutPlaintextResponse> {
        let cx = self.inner.begin();
        let (key_id, ciphertext_blob, _plaintext) =
            self.data_key(&cx, &req, KeyOperation::GenerateDataKeyWithoutPlaintext)?;
        Ok(GenerateDataKeyWithoutPlaintextResponse {
            ciphertext_blob,
            key_id,
        })
    }

    fn data_key(
        &self,
        cx: &Call,
        req: &GenerateDataKeyRequest,
        op: KeyOperation,
    ) -> Result<(String, Vec<u8>, Plaintext)> {
        let inner = &*self.inner;
        let len = match (req.key_spec, req.number_of_bytes) {
            (Some(spec), None) => spec.len(),
            (None, Some(n)) if (1..=MAX_RANDOM_BYTES).contains(&n) => n as usize,
            (None, Some(_)) => {
                return Err(Error::validation(
                    "numberOfBytes",
                    "Member must have value between 1 and 1024",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Error::validation(
                    "keySpec",
                    "Specify either KeySpec or NumberOfBytes, not both",
                ));
            }
            (None, None) => {
                return Err(Error::validation(
                    "keySpec",
                    "Specify either KeySpec or NumberOfBytes",
                ));
            }
        };
        check_grant_tokens(&req.grant_tokens)?;
        let entry = inner.resolve(cx, &req.key_id, true)?;
        let access = inner.check_crypto(&entry, op, cx.now)?;
        dry_run(req.dry_run)?;
        let mut plaintext = Plaintext::from(vec![0u8; len]);
        inner.rng.fill(plaintext.as_mut_vec());
        let blob = inner.seal(
            &entry,
            access,
            SealInput::Borrowed(plaintext.expose_secret()),
            &req.encryption_context,
        )?;
        Ok((entry.arn.clone(), blob, plaintext))
    }

    /// GenerateRandom: 1–1024 random bytes (from a CloudHSM key store's
    /// cluster when `CustomKeyStoreId` is given).
    pub fn generate_random(&self, req: GenerateRandomRequest) -> Result<GenerateRandomResponse> {
        let cx = self.inner.begin();
        let n = match req.number_of_bytes {
            Some(n) if (1..=MAX_RANDOM_BYTES).contains(&n) => n as usize,
            Some(_) => {
                return Err(Error::validation(
                    "numberOfBytes",
                    "Member must have value between 1 and 1024",
                ));
            }
            None => {
                return Err(Error::validation(
                    "numberOfBytes",
                    "Member must not be null",
                ));
            }
        };
        if let Some(store) = &req.custom_key_store_id {
            let plaintext = self.inner.store_random(store, n, cx.now)?;
            return Ok(GenerateRandomResponse { plaintext });
        }
        let mut plaintext = Plaintext::from(vec![0u8; n]);
        self.inner.rng.fill(plaintext.as_mut_vec());
        Ok(GenerateRandomResponse { plaintext })
    }
}
