//! The data plane of a key: [`KeyCipher`] (`seal`/`open`) and its two
//! implementations, joined in [`KeyAccess`] (static dispatch: an enum, no
//! allocation, no trait object on the cryptographic path).
//!
//! - [`SingleLayer`]: one AES-256-GCM layer, under the key's own material
//!   (`AWS_KMS`) or the cluster's key object (`AWS_CLOUDHSM`). Implemented
//!   here.
//! - [`DoubleLayer`]: the KMS layer under the key's own material, then the
//!   proxy's layer under the external key (`EXTERNAL_KEY_STORE`).
//!   Implemented with the rest of the external key store backend
//!   (`backend/external/`).

use std::sync::Arc;

use crate::crypto::aead::{NONCE_LEN, TAG_LEN};
use crate::crypto::blob::{BlobKind, Body, Header, begin_appending, begin_sized};
use crate::crypto::{Cipher, EncryptionContext, Plaintext, context};
use crate::error::{Error, Result};
use crate::ids::KeyId;

use crate::kms::env::CryptoEnv;
use crate::kms::model::backing::Backing;
use crate::kms::model::store::XksRoute;
use crate::kms::model::versions::MaterialVersion;
use crate::kms::support::errors::invalid_ciphertext;
use crate::kms::support::seal::{OpenInput, SealInput, SealedBody, seal_borrowed};
use crate::sync::PublishedRef;

/// The key a seal or open is for: plain data copied out of its entry.
pub(crate) struct KeyRef<'a> {
    /// The key id, carried in the blob's header: borrowed from the entry,
    /// so that it is read where it was written long ago (a copy of its 17
    /// bytes was read back at once across two stores, a failed store
    /// forward on every seal).
    pub(crate) id: &'a KeyId,
    /// The key ARN.
    pub(crate) arn: &'a str,
    /// Where its material is.
    pub(crate) backing: &'a Backing,
    /// The version of its own (KMS-layer) material this operation uses:
    /// the current one to seal, the one the blob names to open; `None` for
    /// a CloudHSM key.
    pub(crate) own: Option<&'a MaterialVersion>,
}

impl KeyRef<'_> {
    /// The key's own cipher, or `KMSInternalException` if it has none.
    pub(crate) fn own_cipher(&self) -> Result<&Cipher> {
        self.own
            .map(MaterialVersion::cipher)
            .ok_or_else(|| Error::internal("a key without its own KMS material"))
    }
}

/// What each data-plane implementation does.
pub(crate) trait KeyCipher {
    /// Encrypts `plaintext` under `key`, binding `ctx`, and writes the blob
    /// to `out` (cleared first; its capacity is reused).
    fn seal(
        self,
        env: &CryptoEnv<'_>,
        key: &KeyRef<'_>,
        plaintext: SealInput<'_>,
        ctx: &EncryptionContext,
        out: &mut Vec<u8>,
    ) -> Result<()>;

    /// Decrypts a blob made under `key`, in the blob's own buffer or into
    /// the caller's (`OpenInput`).
    fn open(
        self,
        env: &CryptoEnv<'_>,
        key: &KeyRef<'_>,
        blob: OpenInput<'_>,
        ctx: &EncryptionContext,
    ) -> Result<Plaintext>;
}

/// What a cryptographic operation uses of a key's backing, fetched (with
/// the key-state check, the connection and the quota) before the
/// operation touches any material.
pub(crate) enum KeyAccess {
    /// One layer.
    Single(SingleLayer),
    /// The KMS layer, then the proxy's.
    Double(DoubleLayer),
}

impl KeyCipher for KeyAccess {
    fn seal(
        self,
        env: &CryptoEnv<'_>,
        key: &KeyRef<'_>,
        plaintext: SealInput<'_>,
        ctx: &EncryptionContext,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        match self {
            KeyAccess::Single(layer) => layer.seal(env, key, plaintext, ctx, out),
            KeyAccess::Double(layers) => layers.seal(env, key, plaintext, ctx, out),
        }
    }

    #[inline(always)]
    fn open(
        self,
        env: &CryptoEnv<'_>,
        key: &KeyRef<'_>,
        blob: OpenInput<'_>,
        ctx: &EncryptionContext,
    ) -> Result<Plaintext> {
        match self {
            KeyAccess::Single(layer) => layer.open(env, key, blob, ctx),
            KeyAccess::Double(layers) => layers.open(env, key, blob, ctx),
        }
    }
}

/// One AES-256-GCM layer.
pub(crate) struct SingleLayer {
    /// `None`: the key's own material. `Some`: a key object held elsewhere
    /// (a CloudHSM cluster's), or why it cannot be used — kept, not
    /// returned, so that `DryRunOperation` still comes before the
    /// cluster's own errors, as in AWS.
    held: Option<Result<PublishedRef<Cipher>>>,
    /// The error a failed tag check gives.
    failed: fn() -> Error,
}

impl SingleLayer {
    /// The layer under the key's own material (an `AWS_KMS` key): builds
    /// nothing.
    pub(crate) const fn own() -> SingleLayer {
        SingleLayer {
            held: None,
            failed: invalid_ciphertext,
        }
    }

    /// The layer under a key object held outside KMS; a failed tag is
    /// `failed()`.
    pub(crate) fn held(cipher: Result<PublishedRef<Cipher>>, failed: fn() -> Error) -> SingleLayer {
        SingleLayer {
            held: Some(cipher),
            failed,
        }
    }
}

impl KeyCipher for SingleLayer {
    /// Builds a single-layer blob in `out`: header, a fresh nonce, then the
    /// sealed plaintext and its tag. The caller's own plaintext is sealed
    /// in its buffer, then copied once into the blob (a sealed buffer holds
    /// ciphertext only, so nothing is left to wipe); borrowed bytes are
    /// sealed straight into the blob.
    fn seal(
        self,
        env: &CryptoEnv<'_>,
        key: &KeyRef<'_>,
        plaintext: SealInput<'_>,
        ctx: &EncryptionContext,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let held = self.held.transpose()?;
        // Under the key's own material (AWS_KMS), format 2 names the
        // version; a key object held elsewhere never rotates (format 1).
        let (cipher, material) = match &held {
            Some(c) => (&**c, None),
            None => (key.own_cipher()?, key.own.map(|v| v.index)),
        };
        let header = Header {
            kind: BlobKind::Single,
            key_id: *key.id,
            material,
        }
        .to_bytes();
        let nonce: [u8; NONCE_LEN] = env.rng.nonce();
        let aad = context::aad(&header, ctx);
        let total = header.len() + NONCE_LEN + plaintext.len() + TAG_LEN;
        match plaintext {
            SealInput::Owned(plaintext) => {
                begin_appending(out, &header, &nonce, total);
                let (ciphertext, tag) =
                    plaintext.seal_into_ciphertext(|buf| cipher.seal_in_place(&nonce, &aad, buf));
                out.extend_from_slice(&ciphertext);
                out.extend_from_slice(&tag);
            }
            SealInput::Borrowed(bytes) => {
                let body = begin_sized(out, &header, &nonce, total);
                seal_borrowed(cipher, &nonce, &aad, bytes, &mut out[body..])?;
            }
        }
        Ok(())
    }

    /// Opens a single-layer blob (checking the tag, then decrypting) in its
    /// own buffer, or from a borrowed blob into the caller's buffer.
    /// Anything but a single-layer blob is invalid.
    #[inline(always)]
    fn open(
        self,
        _env: &CryptoEnv<'_>,
        key: &KeyRef<'_>,
        input: OpenInput<'_>,
        ctx: &EncryptionContext,
    ) -> Result<Plaintext> {
        let held = self.held.transpose()?;
        let cipher = match &held {
            Some(c) => &**c,
            None => key.own_cipher()?,
        };
        let blob = input.blob()?;
        let Body::Single { ciphertext, tag } = blob.body else {
            return Err(invalid_ciphertext());
        };
        let (nonce, tag) = (*blob.nonce, *tag);
        let header_len = blob.header_bytes.len();
        let start = header_len + NONCE_LEN;
        let body = start..start + ciphertext.len();
        // The header is read where it is, in front of the body, not copied
        // out first: a copy of 18 or 22 bytes, read back at once in other
        // widths, stalled on its own stores.
        input.open_body_at(body, |before, body| {
            let header = before.get(..header_len).ok_or_else(invalid_ciphertext)?;
            let aad = context::aad(header, ctx);
            match body {
                SealedBody::InPlace(buf) => cipher.open_in_place(&nonce, &aad, buf, &tag),
                SealedBody::Apart { sealed, out } => {
                    cipher.open_to(&nonce, &aad, sealed, &tag, out)
                }
            }
            .map_err(|_| (self.failed)())
        })
    }
}

/// Two layers: the KMS layer under the key's own material, then the
/// proxy's under the external key. Sealed and opened by the external key
/// store backend.
pub(crate) struct DoubleLayer {
    /// The store's proxy route.
    pub(crate) route: Arc<XksRoute>,
    /// The API operation the proxy is told it serves (`kmsOperation`).
    pub(crate) operation: &'static str,
}
