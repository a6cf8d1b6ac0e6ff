//! HMAC keys: [`HmacKey`], the secret of an HMAC KMS key (224, 256, 384 or
//! 512 bits, hashed with the SHA-2 function of the same size), and the MAC
//! it computes and checks (GenerateMac, VerifyMac).
//!
//! The key zeroizes on drop and never prints; a MAC is checked in constant
//! time (`hmac`'s `verify_slice`).

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha224, Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use super::material::REDACTED;
use super::rng::SecureRng;

/// The SHA-2 function of an HMAC key; its size is also the key's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HmacHash {
    /// HMAC_224 / HMAC_SHA_224.
    Sha224,
    /// HMAC_256 / HMAC_SHA_256.
    Sha256,
    /// HMAC_384 / HMAC_SHA_384.
    Sha384,
    /// HMAC_512 / HMAC_SHA_512.
    Sha512,
}

impl HmacHash {
    /// The key's length (and the MAC's), in bytes.
    pub(crate) const fn len(self) -> usize {
        match self {
            HmacHash::Sha224 => 28,
            HmacHash::Sha256 => 32,
            HmacHash::Sha384 => 48,
            HmacHash::Sha512 => 64,
        }
    }
}

/// The secret of an HMAC KMS key. Zeroized on drop, never printed;
/// [`HmacKey::expose_secret`] is the only way to the bytes (for sealing it
/// at rest).
#[derive(Clone)]
pub(crate) struct HmacKey {
    hash: HmacHash,
    key: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacKey")
            .field("hash", &self.hash)
            .field("key", &format_args!("{REDACTED}"))
            .finish()
    }
}

/// HMAC over `message` with `key`, by `hash`.
fn compute(hash: HmacHash, key: &[u8], message: &[u8]) -> Vec<u8> {
    fn run<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
        // HMAC takes a key of any length: `new_from_slice` cannot fail.
        let Ok(mut m) = <M as KeyInit>::new_from_slice(key) else {
            return Vec::new();
        };
        m.update(message);
        m.finalize().into_bytes().to_vec()
    }
    match hash {
        HmacHash::Sha224 => run::<Hmac<Sha224>>(key, message),
        HmacHash::Sha256 => run::<Hmac<Sha256>>(key, message),
        HmacHash::Sha384 => run::<Hmac<Sha384>>(key, message),
        HmacHash::Sha512 => run::<Hmac<Sha512>>(key, message),
    }
}

impl HmacKey {
    /// A fresh key of `hash`'s size from `rng`.
    pub(crate) fn generate(hash: HmacHash, rng: &SecureRng) -> HmacKey {
        let mut key = Zeroizing::new(vec![0u8; hash.len()]);
        rng.fill(&mut key);
        HmacKey { hash, key }
    }

    /// A key read back from storage: `None` unless `bytes` is `hash`'s size.
    pub(crate) fn from_bytes(hash: HmacHash, bytes: Zeroizing<Vec<u8>>) -> Option<HmacKey> {
        (bytes.len() == hash.len()).then_some(HmacKey { hash, key: bytes })
    }

    #[cfg_attr(
        not(any(feature = "asymmetric", feature = "durable")),
        allow(dead_code, reason = "imports need the feature `asymmetric`")
    )]
    /// Imported key material: `bytes` of any length (the caller checks
    /// the lengths its key spec allows; HMAC takes a key of any length).
    pub(crate) fn imported(hash: HmacHash, bytes: Zeroizing<Vec<u8>>) -> HmacKey {
        HmacKey { hash, key: bytes }
    }

    /// The key bytes. Callers must not log or persist them unprotected.
    pub(crate) fn expose_secret(&self) -> &[u8] {
        &self.key
    }

    /// The MAC of `message` (GenerateMac).
    pub(crate) fn mac(&self, message: &[u8]) -> Vec<u8> {
        compute(self.hash, &self.key, message)
    }

    /// Whether `tag` is the MAC of `message` (VerifyMac), compared in
    /// constant time.
    pub(crate) fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        fn run<M: Mac + KeyInit>(key: &[u8], message: &[u8], tag: &[u8]) -> bool {
            let Ok(mut m) = <M as KeyInit>::new_from_slice(key) else {
                return false;
            };
            m.update(message);
            m.verify_slice(tag).is_ok()
        }
        match self.hash {
            HmacHash::Sha224 => run::<Hmac<Sha224>>(&self.key, message, tag),
            HmacHash::Sha256 => run::<Hmac<Sha256>>(&self.key, message, tag),
            HmacHash::Sha384 => run::<Hmac<Sha384>>(&self.key, message, tag),
            HmacHash::Sha512 => run::<Hmac<Sha512>>(&self.key, message, tag),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// RFC 4231, test case 2 (key "Jefe").
    #[test]
    fn macs_match_rfc_4231() {
        let msg = b"what do ya want for nothing?";
        for (hash, want) in [
            (
                HmacHash::Sha224,
                "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
            ),
            (
                HmacHash::Sha256,
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                HmacHash::Sha384,
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
            ),
            (
                HmacHash::Sha512,
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ),
        ] {
            assert_eq!(hex(&compute(hash, b"Jefe", msg)), want, "{hash:?}");
        }
    }

    #[test]
    fn a_key_is_its_hash_size_and_verifies_only_its_own_macs() {
        let rng = SecureRng::new(Some(1));
        for hash in [
            HmacHash::Sha224,
            HmacHash::Sha256,
            HmacHash::Sha384,
            HmacHash::Sha512,
        ] {
            let key = HmacKey::generate(hash, &rng);
            assert_eq!(key.expose_secret().len(), hash.len());
            let tag = key.mac(b"message");
            assert_eq!(tag.len(), hash.len());
            assert!(key.verify(b"message", &tag));
            assert!(!key.verify(b"messagE", &tag));
            let mut bad = tag.clone();
            bad[0] ^= 1;
            assert!(!key.verify(b"message", &bad));
            assert!(!key.verify(b"message", &tag[..tag.len() - 1]));
            let other = HmacKey::generate(hash, &rng);
            assert!(!other.verify(b"message", &tag));
        }
    }

    #[test]
    fn a_stored_key_of_the_wrong_size_is_refused() {
        let bytes = Zeroizing::new(vec![7u8; 32]);
        assert!(HmacKey::from_bytes(HmacHash::Sha256, bytes.clone()).is_some());
        assert!(HmacKey::from_bytes(HmacHash::Sha512, bytes).is_none());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = HmacKey::from_bytes(HmacHash::Sha256, Zeroizing::new(vec![0xAB; 32])).unwrap();
        let s = format!("{key:?}");
        assert!(
            !s.to_lowercase().contains("ab,") && !s.contains("171"),
            "{s}"
        );
        assert!(s.contains(REDACTED));
    }
}
