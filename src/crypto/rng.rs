//! The random source behind key ids, key material and nonces.
//!
//! Unseeded, each thread uses rand's userspace CSPRNG (`rand::rng()`, ChaCha
//! reseeded from the OS), so the crypto path takes no lock. Seeded, one
//! ChaCha20 stream behind a mutex gives the same bytes for the same calls.

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

    pub(crate) fn array<const N: usize>(&self) -> [u8; N] {
        let mut a = [0u8; N];
        self.fill(&mut a);
        a
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn unseeded_bytes_differ() {
        let r = SecureRng::new(None);
        assert_ne!(r.array::<32>(), r.array::<32>());
    }
}
