//! Cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
//! GenerateDataKeyWithoutPlaintext, GenerateRandom.
//!
//! Each runs its checks in a fixed order — request shape, key existence, key
//! state, store connection and quota — and only then touches key material.

use crate::crypto::Plaintext;
use crate::error::{AwsMessage, Constraint, Error, Result, Shown};
use crate::key::EncryptionAlgorithmSpec;
use crate::key::state::KeyOperation;

use crate::ids::KeyId;
use crate::kms::Kms;
use crate::kms::backend::cipher::KeyAccess;
use crate::kms::service::HeldKey;
use crate::kms::shapes::types::{
    DecryptRequest, DecryptResponse, EncryptRequest, EncryptResponse, GenerateDataKeyRequest,
    GenerateDataKeyResponse, GenerateDataKeyWithoutPlaintextResponse, GenerateRandomRequest,
    GenerateRandomResponse, ReEncryptRequest, ReEncryptResponse,
};
use crate::kms::support::access::{Action, Facts};
use crate::kms::support::seal::{OpenInput, SealInput};

/// Largest Encrypt plaintext.
pub const MAX_PLAINTEXT: usize = 4096;
/// Largest GenerateDataKey / GenerateRandom request.
pub const MAX_RANDOM_BYTES: u32 = 1024;

fn dry_run(flag: Option<bool>) -> Result<()> {
    if flag == Some(true) {
        return Err(Error::from(AwsMessage::DryRun));
    }
    Ok(())
}

/// `NumberOfBytes` outside 1–[`MAX_RANDOM_BYTES`]: AWS names the bound
/// broken and echoes the value.
fn number_of_bytes_out_of_range(n: u32) -> Error {
    Error::invalid(
        "numberOfBytes",
        Shown::Value(n.to_string()),
        if n < 1 {
            Constraint::MinValue(1)
        } else {
            Constraint::MaxValue(i64::from(MAX_RANDOM_BYTES))
        },
    )
}

impl Kms {
    /// Encrypt: up to 4096 bytes under a symmetric key's current material
    /// version, binding the encryption context. The blob carries the key id
    /// and the version, so Decrypt needs no `KeyId`. The plaintext is
    /// sealed in its own buffer, then copied once into the new blob; to
    /// reuse a buffer instead, see [`Kms::encrypt_into`]. Under an RSA or
    /// SM2 `ENCRYPT_DECRYPT` key (feature `asymmetric`): RSAES-OAEP or
    /// SM2PKE (GM/T 0009 DER, C1C3C2, at most 1024 bytes) with the public
    /// key, no encryption context.
    pub fn encrypt(&self, req: EncryptRequest) -> Result<EncryptResponse> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.encrypt(req);
        }
        let cx = self.begin();
        let inner = &*self.inner;
        let (entry, access, encryption_algorithm) = self.encrypt_checks(&cx, &req)?;
        let ciphertext_blob = if entry.kind.is_asymmetric() {
            entry.pair_encrypt(
                encryption_algorithm,
                req.plaintext.expose_secret(),
                &inner.rng,
            )?
        } else {
            inner.seal(
                &cx,
                &entry,
                access,
                SealInput::Owned(req.plaintext),
                &req.encryption_context,
            )?
        };
        Ok(EncryptResponse {
            ciphertext_blob,
            key_id: entry.arn.clone(),
            encryption_algorithm,
        })
    }

    /// Encrypt into a buffer the caller keeps: the same checks, errors and
    /// blob as [`Kms::encrypt`], with the blob written to `ciphertext_blob`
    /// (cleared first; its capacity is reused, so a caller that encrypts in
    /// a loop allocates nothing per call) and the plaintext left with the
    /// caller. Returns the id of the key that encrypted (an alias resolves
    /// to its key); the response's key ARN is that key's ARN. On an error,
    /// `ciphertext_blob` is left empty.
    ///
    /// ```
    /// use kms_keystore::{CreateKeyRequest, EncryptRequest, Kms, KmsConfig, Plaintext};
    /// let kms = Kms::new(KmsConfig::default());
    /// let key = kms.create_key(CreateKeyRequest::default()).unwrap().key_metadata.key_id;
    /// let req = EncryptRequest {
    ///     key_id: key.to_string(),
    ///     plaintext: Plaintext::from(&b"hello"[..]),
    ///     ..Default::default()
    /// };
    /// let mut blob = Vec::with_capacity(4200);
    /// let used = kms.encrypt_into(&req, &mut blob).unwrap();
    /// assert_eq!(used, key);
    /// assert_eq!(blob.len(), kms.encrypt(req).unwrap().ciphertext_blob.len());
    /// ```
    pub fn encrypt_into(
        &self,
        req: &EncryptRequest,
        ciphertext_blob: &mut Vec<u8>,
    ) -> Result<KeyId> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.encrypt_into(req, ciphertext_blob);
        }
        let cx = self.begin();
        let sealed = self
            .encrypt_checks(&cx, req)
            .and_then(|(entry, access, alg)| {
                if entry.kind.is_asymmetric() {
                    *ciphertext_blob =
                        entry.pair_encrypt(alg, req.plaintext.expose_secret(), &self.inner.rng)?;
                    return Ok(entry.id);
                }
                self.inner.seal_into(
                    &cx,
                    &entry,
                    access,
                    SealInput::Borrowed(req.plaintext.expose_secret()),
                    &req.encryption_context,
                    ciphertext_blob,
                )?;
                Ok(entry.id)
            });
        if sealed.is_err() {
            ciphertext_blob.clear();
        }
        sealed
    }

    /// Encrypt's checks, in AWS's order: the plaintext's length, grant
    /// tokens, the key, authorization, key state, usage and store (with
    /// the quota), the algorithm (and context) against the key, then
    /// `DryRun`. Gives the key, its access and the algorithm.
    #[inline(always)]
    fn encrypt_checks(
        &self,
        cx: &crate::kms::Call,
        req: &EncryptRequest,
    ) -> Result<(HeldKey, KeyAccess, EncryptionAlgorithmSpec)> {
        let inner = &*self.inner;
        let n = req.plaintext.len();
        if n == 0 || n > MAX_PLAINTEXT {
            // AWS does not echo a secret: `Value at 'plaintext'`.
            return Err(Error::invalid(
                "plaintext",
                Shown::Hidden,
                if n == 0 {
                    Constraint::MinLength(1)
                } else {
                    Constraint::MaxLength(MAX_PLAINTEXT)
                },
            ));
        }
        inner.check_grant_tokens(&req.grant_tokens)?;
        let entry = inner.resolve_for_use(cx, &req.key_id)?;
        let requested = req
            .encryption_algorithm
            .unwrap_or(EncryptionAlgorithmSpec::SymmetricDefault);
        inner.authorize(
            cx,
            &entry,
            Action::Encrypt,
            &Facts {
                encryption_algorithm: Some(requested.as_str()),
                ..Facts::crypto(&req.encryption_context, &req.key_id)
            },
        )?;
        let access = inner.check_crypto(&entry, KeyOperation::Encrypt, cx.now)?;
        let alg = entry
            .kind
            .encryption_algorithm(req.encryption_algorithm, &req.encryption_context)?;
        dry_run(req.dry_run)?;
        Ok((entry, access, alg))
    }

    /// Decrypt: the blob names its key and material version (a blob written
    /// before rotation existed names the original); a `KeyId`, if given, must be that key
    /// (`IncorrectKeyException`). Any tampering, another key's blob or a
    /// different context is `InvalidCiphertextException` and gives no plaintext.
    pub fn decrypt(&self, req: DecryptRequest) -> Result<DecryptResponse> {
        if let Some(owner) = self.routed_blob(req.key_id.as_deref(), &req.ciphertext_blob) {
            return owner.decrypt(req);
        }
        let cx = self.begin();
        self.inner.check_grant_tokens(&req.grant_tokens)?;
        let opened = self.inner.decrypt_blob(
            &cx,
            OpenInput::new(req.ciphertext_blob),
            req.key_id.as_deref(),
            req.encryption_algorithm,
            &req.encryption_context,
            KeyOperation::Decrypt,
            None,
        )?;
        dry_run(req.dry_run)?;
        // The strings are made one after the other, each well before the
        // response is put together: a string read back right after the
        // call that wrote it waited on that call's stores.
        let key_material_id = opened.material.map(|m| m.hex());
        let key_id = String::from(opened.entry.arn.as_str());
        Ok(DecryptResponse {
            key_id,
            plaintext: opened.plaintext,
            encryption_algorithm: opened.algorithm,
            key_material_id,
        })
    }

    /// Decrypt into a buffer the caller keeps: the same checks, errors and
    /// plaintext as [`Kms::decrypt`], opened from the request's blob
    /// straight into `plaintext`'s buffer, the copy fused with the
    /// decryption (an external key store key's blob, whose proxy layer is
    /// opened first, is copied into the buffer and opened there). Its
    /// capacity is reused, so a caller that decrypts in a loop allocates
    /// nothing per call, and no response strings are built. Returns the id
    /// of the key that decrypted; [`Kms::decrypt`] also gives its ARN and
    /// the key material id. The bytes stay in a [`Plaintext`]: the next
    /// call overwrites them, and what it does not overwrite is wiped when
    /// the buffer drops (a buffer too small for the next blob is dropped,
    /// and wiped, for a new one). On an error, `plaintext` is left empty.
    ///
    /// ```
    /// use kms_keystore::{CreateKeyRequest, DecryptRequest, EncryptRequest, Kms, KmsConfig, Plaintext};
    /// let kms = Kms::new(KmsConfig::default());
    /// let key = kms.create_key(CreateKeyRequest::default()).unwrap().key_metadata.key_id;
    /// let blob = kms
    ///     .encrypt(EncryptRequest {
    ///         key_id: key.to_string(),
    ///         plaintext: Plaintext::from(&b"hello"[..]),
    ///         ..Default::default()
    ///     })
    ///     .unwrap()
    ///     .ciphertext_blob;
    /// let req = DecryptRequest { ciphertext_blob: blob, ..Default::default() };
    /// let mut plaintext = Plaintext::default();
    /// assert_eq!(kms.decrypt_into(&req, &mut plaintext).unwrap(), key);
    /// assert_eq!(plaintext.expose_secret(), b"hello");
    /// ```
    pub fn decrypt_into(&self, req: &DecryptRequest, plaintext: &mut Plaintext) -> Result<KeyId> {
        if let Some(owner) = self.routed_blob(req.key_id.as_deref(), &req.ciphertext_blob) {
            return owner.decrypt_into(req, plaintext);
        }
        let cx = self.begin();
        let input = OpenInput::apart(&req.ciphertext_blob, plaintext);
        // Decrypt's own steps, written out again rather than shared: with
        // a shared helper, LLVM stopped inlining aes-gcm's GHASH padding
        // into the crate's seal (+375 instructions for an `encrypt_into`
        // of 4 KiB, +430 for a Decrypt, cachegrind, aes-gcm backend).
        let opened = self
            .inner
            .check_grant_tokens(&req.grant_tokens)
            .and_then(|()| {
                self.inner.decrypt_blob(
                    &cx,
                    input,
                    req.key_id.as_deref(),
                    req.encryption_algorithm,
                    &req.encryption_context,
                    KeyOperation::Decrypt,
                    None,
                )
            })
            .and_then(|opened| dry_run(req.dry_run).map(|()| opened))?;
        *plaintext = opened.plaintext;
        Ok(opened.entry.id)
    }

    /// ReEncrypt: decrypts under the source key and context (with the
    /// material version the blob names), encrypts under the destination key
    /// and context with its current material — so re-encrypting under the
    /// same key moves a ciphertext to the key's current version; the
    /// plaintext never leaves KMS.
    pub fn re_encrypt(&self, req: ReEncryptRequest) -> Result<ReEncryptResponse> {
        // Each side begins its own call below (`from.begin()`, `to.begin()`).
        self.inner.check_grant_tokens(&req.grant_tokens)?;
        if req.destination_key_id.is_empty() {
            return Err(Error::required("destinationKeyId"));
        }
        // The source and destination keys may each be in another account.
        let from = self
            .routed_blob(req.source_key_id.as_deref(), &req.ciphertext_blob)
            .unwrap_or_else(|| self.clone());
        let to = self
            .routed(&req.destination_key_id)
            .unwrap_or_else(|| self.clone());
        let from_cx = from.begin();
        let to_cx = to.begin();
        let same_key = to
            .inner
            .resolve(&to_cx, &req.destination_key_id, true)
            .ok()
            .map(|e| e.id);
        let source = from.inner.decrypt_blob(
            &from_cx,
            OpenInput::new(req.ciphertext_blob),
            req.source_key_id.as_deref(),
            req.source_encryption_algorithm,
            &req.source_encryption_context,
            KeyOperation::ReEncryptFrom,
            same_key,
        )?;
        let inner = &*to.inner;
        let dest = inner.resolve_for_use(&to_cx, &req.destination_key_id)?;
        let requested = req
            .destination_encryption_algorithm
            .unwrap_or(EncryptionAlgorithmSpec::SymmetricDefault);
        inner.authorize(
            &to_cx,
            &dest,
            Action::ReEncryptTo,
            &Facts {
                re_encrypt_on_same_key: Some(source.entry.id == dest.id),
                encryption_algorithm: Some(requested.as_str()),
                ..Facts::crypto(&req.destination_encryption_context, &req.destination_key_id)
            },
        )?;
        let access = inner.check_crypto(&dest, KeyOperation::ReEncryptTo, to_cx.now)?;
        let dest_alg = dest.kind.encryption_algorithm(
            req.destination_encryption_algorithm,
            &req.destination_encryption_context,
        )?;
        dry_run(req.dry_run)?;
        let (ciphertext_blob, dest_material) = if dest.kind.is_asymmetric() {
            let blob = dest.pair_encrypt(dest_alg, source.plaintext.expose_secret(), &inner.rng)?;
            (blob, None)
        } else {
            inner.seal_reporting(
                &to_cx,
                &dest,
                access,
                SealInput::Owned(source.plaintext),
                &req.destination_encryption_context,
            )?
        };
        Ok(ReEncryptResponse {
            ciphertext_blob,
            source_key_id: source.entry.arn.clone(),
            key_id: dest.arn.clone(),
            source_encryption_algorithm: source.algorithm,
            destination_encryption_algorithm: dest_alg,
            source_key_material_id: source.material.map(|m| m.hex()),
            destination_key_material_id: dest_material.map(|m| m.hex()),
        })
    }

    /// GenerateDataKey: a random data key, returned in plaintext and
    /// encrypted under the KMS key. Exactly one of `KeySpec` and
    /// `NumberOfBytes` (1–1024).
    pub fn generate_data_key(
        &self,
        req: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.generate_data_key(req);
        }
        let cx = self.begin();
        self.data_key(&cx, &req, KeyOperation::GenerateDataKey)
    }

    /// GenerateDataKeyWithoutPlaintext: as GenerateDataKey, without the plaintext.
    pub fn generate_data_key_without_plaintext(
        &self,
        req: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyWithoutPlaintextResponse> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.generate_data_key_without_plaintext(req);
        }
        let cx = self.begin();
        let GenerateDataKeyResponse {
            ciphertext_blob,
            key_id,
            ..
        } = self.data_key(&cx, &req, KeyOperation::GenerateDataKeyWithoutPlaintext)?;
        Ok(GenerateDataKeyWithoutPlaintextResponse {
            ciphertext_blob,
            key_id,
        })
    }

    /// GenerateDataKey into buffers the caller keeps: the data key goes
    /// into `plaintext` and its ciphertext blob into `ciphertext_blob`
    /// (cleared first). Both buffers' capacity is reused, so a caller that
    /// makes data keys in a loop allocates nothing per call; a `plaintext`
    /// too small for the data key is dropped, and wiped, for a new one
    /// (never grown: a grown buffer would free its old allocation
    /// unwiped). Returns the id of the key that encrypted the data key (an
    /// alias resolves to its key); the response's key ARN is that key's
    /// ARN. The same checks, errors and blob as
    /// [`generate_data_key`](Kms::generate_data_key); on an error both
    /// buffers are left empty.
    ///
    /// ```
    /// use kms_keystore::{
    ///     CreateKeyRequest, DataKeySpec, DecryptRequest, GenerateDataKeyRequest, Kms, KmsConfig,
    ///     Plaintext,
    /// };
    /// let kms = Kms::new(KmsConfig::default());
    /// let key = kms.create_key(CreateKeyRequest::default()).unwrap().key_metadata.key_id;
    /// let req = GenerateDataKeyRequest {
    ///     key_id: key.to_string(),
    ///     key_spec: Some(DataKeySpec::Aes256),
    ///     ..Default::default()
    /// };
    /// let (mut data_key, mut blob) = (Plaintext::default(), Vec::with_capacity(256));
    /// assert_eq!(kms.generate_data_key_into(&req, &mut data_key, &mut blob).unwrap(), key);
    /// assert_eq!(data_key.len(), 32);
    /// let opened = kms
    ///     .decrypt(DecryptRequest { ciphertext_blob: blob, ..Default::default() })
    ///     .unwrap();
    /// assert_eq!(opened.plaintext, data_key);
    /// ```
    pub fn generate_data_key_into(
        &self,
        req: &GenerateDataKeyRequest,
        plaintext: &mut Plaintext,
        ciphertext_blob: &mut Vec<u8>,
    ) -> Result<KeyId> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.generate_data_key_into(req, plaintext, ciphertext_blob);
        }
        let cx = self.begin();
        let inner = &*self.inner;
        let sealed = self
            .data_key_checks(&cx, req, KeyOperation::GenerateDataKey)
            .and_then(|(entry, access, len)| {
                let mut data_key = plaintext.reused_for(len);
                inner.rng.fill(data_key.as_mut_slice());
                inner.seal_into(
                    &cx,
                    &entry,
                    access,
                    SealInput::Borrowed(data_key.expose_secret()),
                    &req.encryption_context,
                    ciphertext_blob,
                )?;
                *plaintext = data_key;
                Ok(entry.id)
            });
        if sealed.is_err() {
            // Dropped, and so wiped: a refused call hands back no key.
            *plaintext = Plaintext::default();
            ciphertext_blob.clear();
        }
        sealed
    }

    /// GenerateDataKey's checks, in AWS's order: the key spec or number
    /// of bytes, grant tokens, the key, authorization, key state, usage
    /// and store (with the quota), then `DryRun`. Gives the key, its
    /// access and the data key's length.
    #[inline(always)]
    fn data_key_checks(
        &self,
        cx: &crate::kms::Call,
        req: &GenerateDataKeyRequest,
        op: KeyOperation,
    ) -> Result<(HeldKey, KeyAccess, usize)> {
        let inner = &*self.inner;
        let len = match (req.key_spec, req.number_of_bytes) {
            (Some(spec), None) => spec.len(),
            (None, Some(n)) if (1..=MAX_RANDOM_BYTES).contains(&n) => n as usize,
            (None, Some(n)) => return Err(number_of_bytes_out_of_range(n)),
            (Some(_), Some(_)) | (None, None) => {
                return Err(Error::from(AwsMessage::KeySpecOrNumberOfBytes));
            }
        };
        inner.check_grant_tokens(&req.grant_tokens)?;
        let entry = inner.resolve_for_use(cx, &req.key_id)?;
        let action = match op {
            KeyOperation::GenerateDataKeyWithoutPlaintext => {
                Action::GenerateDataKeyWithoutPlaintext
            }
            _ => Action::GenerateDataKey,
        };
        inner.authorize(
            cx,
            &entry,
            action,
            &Facts::crypto(&req.encryption_context, &req.key_id),
        )?;
        let access = inner.check_crypto(&entry, op, cx.now)?;
        dry_run(req.dry_run)?;
        Ok((entry, access, len))
    }

    /// A data key for GenerateDataKey(WithoutPlaintext), as GenerateDataKey
    /// answers. The response is built here, not handed out as a tuple and
    /// rebuilt: the tuple's fields were copied at once across their own
    /// stores (a failed store forward on every call).
    fn data_key(
        &self,
        cx: &crate::kms::Call,
        req: &GenerateDataKeyRequest,
        op: KeyOperation,
    ) -> Result<GenerateDataKeyResponse> {
        let inner = &*self.inner;
        let (entry, access, len) = self.data_key_checks(cx, req, op)?;
        // Each part is made well before the response is copied out, and
        // the blob is sealed in its place: a part copied right after a
        // call wrote it was read back across that call's narrower stores.
        let key_id = entry.arn.clone();
        let mut plaintext = Plaintext::zeroed(len);
        inner.rng.fill(plaintext.as_mut_slice());
        let mut response = GenerateDataKeyResponse {
            ciphertext_blob: Vec::new(),
            plaintext,
            key_id,
        };
        inner.seal_into(
            cx,
            &entry,
            access,
            SealInput::Borrowed(response.plaintext.expose_secret()),
            &req.encryption_context,
            &mut response.ciphertext_blob,
        )?;
        Ok(response)
    }

    /// GenerateRandom: 1–1024 random bytes (from a CloudHSM key store's
    /// cluster when `CustomKeyStoreId` is given).
    pub fn generate_random(&self, req: GenerateRandomRequest) -> Result<GenerateRandomResponse> {
        let cx = self.begin();
        let n = match req.number_of_bytes {
            Some(n) if (1..=MAX_RANDOM_BYTES).contains(&n) => n as usize,
            Some(n) => return Err(number_of_bytes_out_of_range(n)),
            None => return Err(Error::from(AwsMessage::NumberOfBytesRequired)),
        };
        self.inner
            .authorize_account(&cx, Action::GenerateRandom, &Facts::default())?;
        if let Some(store) = &req.custom_key_store_id {
            let plaintext = self.inner.store_random(store, n, cx.now)?;
            return Ok(GenerateRandomResponse { plaintext });
        }
        let mut plaintext = Plaintext::zeroed(n);
        self.inner.rng.fill(plaintext.as_mut_slice());
        Ok(GenerateRandomResponse { plaintext })
    }
}
