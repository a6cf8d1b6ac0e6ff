//! [`RootKey`]: the caller's 256-bit key that seals a durable store.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::material::REDACTED;
use crate::crypto::{Cipher, KeyMaterial};
use crate::error::{ErrorCode, Result};

/// The 256-bit key a durable store is sealed under. Supply it from a secret
/// manager, an HSM, or a file only the service can read; the store's file
/// alone reveals nothing without it. Zeroized on drop; `Debug` is redacted.
///
/// ```
/// use kms_keystore::RootKey;
/// let root = RootKey::from_bytes([7; 32]);
/// assert!(!format!("{root:?}").contains('7'));
/// let from_hex = RootKey::from_hex(&"07".repeat(32)).unwrap();
/// assert_eq!(from_hex, root);
/// ```
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct RootKey(KeyMaterial);

impl RootKey {
    /// A root key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> RootKey {
        RootKey(KeyMaterial::from_bytes(bytes))
    }

    /// A root key from 64 hexadecimal digits (surrounding whitespace is
    /// ignored, e.g. a trailing newline in a secret file).
    ///
    /// # Errors
    /// `ValidationException` unless it is exactly 64 hex digits.
    pub fn from_hex(hex: &str) -> Result<RootKey> {
        let hex = hex.trim().as_bytes();
        // A secret: the message never shows it.
        let bad = || {
            ErrorCode::Validation
                .with_message("The root key is not 64 hexadecimal digits (32 bytes).")
        };
        if hex.len() != 64 {
            return Err(bad());
        }
        let mut out = zeroize::Zeroizing::new([0u8; 32]);
        for (i, pair) in hex.chunks_exact(2).enumerate() {
            let digit = |c: u8| char::from(c).to_digit(16).ok_or_else(bad);
            let byte = digit(pair[0])? * 16 + digit(pair[1])?;
            out[i] = u8::try_from(byte).map_err(|_| bad())?;
        }
        Ok(RootKey::from_bytes(*out))
    }

    /// A fresh random root key from the operating system's CSPRNG. Keep it:
    /// without it the store cannot be opened.
    pub fn generate() -> RootKey {
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rng(), bytes.as_mut());
        RootKey::from_bytes(*bytes)
    }

    /// The key bytes. Callers must not log or persist them unprotected.
    pub fn expose_secret(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    pub(crate) fn cipher(&self) -> Cipher {
        Cipher::new(&self.0)
    }
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RootKey")
            .field(&format_args!("{REDACTED}"))
            .finish()
    }
}
