//! AES-256-GCM over RustCrypto's `aes-gcm`: seal and open in place with a
//! 96-bit nonce and a detached 128-bit tag.
//!
//! A [`Cipher`] holds the expanded key schedule; the service caches one per
//! key so the hot path does no key expansion. The schedule is zeroized on drop.

use std::fmt;

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce, Tag};

use super::material::KeyMaterial;

/// Nonce length in bytes (96 bits).
pub const NONCE_LEN: usize = 12;
/// Authentication tag length in bytes (128 bits).
pub const TAG_LEN: usize = 16;

/// Opening failed: wrong key, wrong AAD or tampered data. Deliberately opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenError;

/// An expanded AES-256-GCM key.
#[derive(Clone)]
pub struct Cipher(Aes256Gcm);

impl Cipher {
    /// Expands `material` into a key schedule.
    pub fn new(material: &KeyMaterial) -> Cipher {
        Cipher(Aes256Gcm::new(material.expose_secret().into()))
    }

    /// Encrypts `buf` in place and returns the tag.
    pub fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> [u8; TAG_LEN] {
        let nonce = Nonce::from(*nonce);
        match self.0.encrypt_inout_detached(&nonce, aad, buf.into()) {
            Ok(tag) => tag.into(),
            // Only reachable for inputs beyond GCM's 64 GiB limit, which the
            // service's 4 KiB limits rule out.
            Err(_) => [0; TAG_LEN],
        }
    }

    /// Decrypts `buf` in place after checking `tag` in constant time. On
    /// failure `buf` is zeroed, so no unauthenticated plaintext survives.
    pub fn open_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), OpenError> {
        let nonce = Nonce::from(*nonce);
        let tag = Tag::from(*tag);
        match self.0.decrypt_inout_detached(&nonce, aad, buf.into(), &tag) {
            Ok(()) => Ok(()),
            Err(_) => {
                buf.fill(0);
                Err(OpenError)
            }
        }
    }
}

/// The expanded AES key schedule and GHASH key are zeroized when the inner
/// `Aes256Gcm` drops (aes-gcm's `zeroize` feature, checked below).
impl zeroize::ZeroizeOnDrop for Cipher {}

const _: fn() = || {
    fn zeroizes_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    zeroizes_on_drop::<Aes256Gcm>();
};

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips() {
        let c = Cipher::new(&KeyMaterial::from_bytes([3; 32]));
        let mut buf = b"hello".to_vec();
        let tag = c.seal_in_place(&[1; 12], b"aad", &mut buf);
        assert_ne!(buf, b"hello");
        c.open_in_place(&[1; 12], b"aad", &mut buf, &tag).unwrap();
        assert_eq!(buf, b"hello");
    }

    #[test]
    fn wrong_aad_fails_and_leaves_no_plaintext() {
        let c = Cipher::new(&KeyMaterial::from_bytes([3; 32]));
        let mut buf = b"hello".to_vec();
        let tag = c.seal_in_place(&[1; 12], b"aad", &mut buf);
        assert_eq!(
            c.open_in_place(&[1; 12], b"other", &mut buf, &tag),
            Err(OpenError)
        );
        assert_eq!(buf, [0; 5]);
    }

    /// NIST GCM test case 14 (AES-256, zero key, one zero block, zero IV).
    #[test]
    fn matches_nist_gcm_test_case_14() {
        let c = Cipher::new(&KeyMaterial::from_bytes([0; 32]));
        let mut buf = [0u8; 16];
        let tag = c.seal_in_place(&[0; 12], b"", &mut buf);
        assert_eq!(hex(&buf), "cea7403d4d606b6e074ec5d3baf39d18");
        assert_eq!(hex(&tag), "d0d1c8a799996bf0265b98b5d48ab919");
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
