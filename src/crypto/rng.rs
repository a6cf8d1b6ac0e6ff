//! The random source behind key ids, key material and nonces.
//!
//! Unseeded, each thread uses rand's userspace CSPRNG (`rand::rng()`, ChaCha
//! reseeded from the OS), so the crypto path takes no lock. Seeded, one
//! ChaCha20 stream behind a mutex gives the same bytes for the same calls.
//!
//! RustCrypto's key generators (RSA, the elliptic curves) take a
//! `rand_core` 0.10 generator while `rand` 0.9 speaks `rand_core` 0.9:
//! [`SecureRng::for_keygen`] lends them this source through [`KeygenRng`],
//! so a seeded service makes the same key pairs too.

use crate::crypto::aead::NONCE_LEN;
use crate::sync::Mutex;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// A cryptographically secure random source, optionally deterministic.
#[derive(Debug)]
pub(crate) enum SecureRng {
    /// Thread-local CSPRNG seeded from the OS.
    Thread,
    /// One seeded stream (deterministic for the same sequence of calls).
    Seeded(Box<Mutex<ChaCha20Rng>>),
}

impl SecureRng {
    pub(crate) fn new(seed: Option<u64>) -> SecureRng {
        match seed {
            None => SecureRng::Thread,
            Some(s) => SecureRng::Seeded(Box::new(Mutex::new(ChaCha20Rng::seed_from_u64(s)))),
        }
    }

    pub(crate) fn fill(&self, buf: &mut [u8]) {
        match self {
            SecureRng::Thread => rand::rng().fill_bytes(buf),
            SecureRng::Seeded(m) => m.lock().fill_bytes(buf),
        }
    }

    /// A fresh 96-bit AES-GCM nonce: the same bytes as `array::<12>()`
    /// would give (the same three words of the stream, little-endian), drawn
    /// as two integers. Filled byte-wise, the array would then be read back
    /// whole before its stores retire (a failed store forward on every
    /// seal).
    pub(crate) fn nonce(&self) -> [u8; NONCE_LEN] {
        let (low, high) = match self {
            SecureRng::Thread => {
                let mut rng = rand::rng();
                (rng.next_u64(), rng.next_u32())
            }
            SecureRng::Seeded(m) => {
                let mut rng = m.lock();
                (rng.next_u64(), rng.next_u32())
            }
        };
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..8].copy_from_slice(&low.to_le_bytes());
        nonce[8..].copy_from_slice(&high.to_le_bytes());
        nonce
    }

    pub(crate) fn array<const N: usize>(&self) -> [u8; N] {
        let mut a = [0u8; N];
        self.fill(&mut a);
        a
    }

    /// This source as a `rand_core` 0.10 cryptographic generator, for the
    /// key generators of `rsa`, `p256` and their kin.
    #[allow(
        dead_code,
        reason = "the asymmetric keys' generators use it (feature `asymmetric`)"
    )]
    pub(crate) fn for_keygen(&self) -> KeygenRng<'_> {
        KeygenRng(self)
    }

    /// Where a seeded stream is (in 32-bit words); `None` when unseeded.
    /// Durable storage records it so a reopened service continues the
    /// stream instead of repeating it.
    #[cfg_attr(
        not(feature = "durable"),
        allow(dead_code, reason = "used by durable storage")
    )]
    pub(crate) fn word_pos(&self) -> Option<u128> {
        match self {
            SecureRng::Thread => None,
            SecureRng::Seeded(m) => Some(m.lock().get_word_pos()),
        }
    }

    /// Moves a seeded stream to `pos` (see [`SecureRng::word_pos`]); no
    /// effect when unseeded.
    #[cfg_attr(
        not(feature = "durable"),
        allow(dead_code, reason = "used by durable storage")
    )]
    pub(crate) fn set_word_pos(&self, pos: u128) {
        if let SecureRng::Seeded(m) = self {
            m.lock().set_word_pos(pos);
        }
    }
}

/// [`SecureRng`] seen through `rand_core` 0.10's traits (see
/// [`SecureRng::for_keygen`]). Infallible, as `SecureRng` is.
#[derive(Debug)]
pub(crate) struct KeygenRng<'a>(&'a SecureRng);

impl rand_core::TryRng for KeygenRng<'_> {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from_le_bytes(self.0.array()))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from_le_bytes(self.0.array()))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.0.fill(dst);
        Ok(())
    }
}

/// `SecureRng` is a CSPRNG in both modes (ChaCha reseeded from the OS, or
/// seeded ChaCha20).
impl rand_core::TryCryptoRng for KeygenRng<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_the_next_twelve_bytes_of_the_stream() {
        let (a, b) = (SecureRng::new(Some(11)), SecureRng::new(Some(11)));
        // 100 nonces are 300 words: across several 64-word blocks, and at
        // every offset of a 64-bit read within one.
        for i in 0..100 {
            assert_eq!(a.nonce(), b.array::<12>(), "nonce {i}");
            if i % 7 == 0 {
                // Shift the stream by one word.
                assert_eq!(a.array::<4>(), b.array::<4>());
            }
        }
        let t = SecureRng::new(None);
        assert_ne!(t.nonce(), t.nonce());
    }

    #[test]
    fn same_seed_gives_same_bytes() {
        let a = SecureRng::new(Some(42));
        let b = SecureRng::new(Some(42));
        assert_eq!(a.array::<32>(), b.array::<32>());
        assert_ne!(
            SecureRng::new(Some(1)).array::<32>(),
            SecureRng::new(Some(2)).array::<32>()
        );
    }

    #[test]
    fn a_restored_word_position_continues_the_stream() {
        let a = SecureRng::new(Some(9));
        let _ = a.array::<40>();
        let pos = a.word_pos().unwrap();
        let next = a.array::<32>();
        let b = SecureRng::new(Some(9));
        b.set_word_pos(pos);
        assert_eq!(b.array::<32>(), next);
        assert_eq!(SecureRng::new(None).word_pos(), None);
    }

    #[test]
    fn the_keygen_view_draws_from_the_same_stream() {
        use rand_core::Rng as _;
        let a = SecureRng::new(Some(5));
        let b = SecureRng::new(Some(5));
        let mut via_keygen = [0u8; 24];
        let mut k = a.for_keygen();
        k.fill_bytes(&mut via_keygen[..16]);
        via_keygen[16..].copy_from_slice(&k.next_u64().to_le_bytes());
        assert_eq!(via_keygen, b.array::<24>());
        let mut other = [0u8; 24];
        SecureRng::new(Some(6)).for_keygen().fill_bytes(&mut other);
        assert_ne!(via_keygen, other);
    }

    #[cfg(feature = "asymmetric")]
    #[test]
    fn a_seeded_source_makes_the_same_key_pairs() {
        use p256::elliptic_curve::Generate;
        use rsa::traits::PublicKeyParts as _;
        let rsa = |seed| {
            let rng = SecureRng::new(Some(seed));
            rsa::PrivateKey::new(&mut rng.for_keygen(), 2048).unwrap()
        };
        let (a, b, c) = (rsa(3), rsa(3), rsa(4));
        assert_eq!(a.n(), b.n());
        assert_ne!(a.n(), c.n());
        let p256 = |seed| {
            let rng = SecureRng::new(Some(seed));
            <p256::SecretKey as Generate>::generate_from_rng(&mut rng.for_keygen()).public_key()
        };
        assert_eq!(p256(3), p256(3));
        assert_ne!(p256(3), p256(4));
    }

    #[test]
    fn unseeded_bytes_differ() {
        let r = SecureRng::new(None);
        assert_ne!(r.array::<32>(), r.array::<32>());
    }
}
