//! [`KeyPair`] without the feature `asymmetric`: no variants, so no pair
//! exists; generation and parsing answer `None`.

use zeroize::Zeroizing;

use super::{Cipher, PairSpec, PeerKeyError, Scheme};
use crate::crypto::rng::SecureRng;

/// No key pair: this build lacks the feature `asymmetric`.
#[derive(Debug)]
pub(crate) enum KeyPair {}

impl KeyPair {
    /// Always `None`.
    pub(crate) fn generate(_spec: PairSpec, _rng: &SecureRng) -> Option<KeyPair> {
        None
    }

    /// Always `None`.
    pub(crate) fn from_pkcs8(_spec: PairSpec, _der: &[u8]) -> Option<KeyPair> {
        None
    }

    /// Unreachable: no pair exists.
    pub(crate) fn to_pkcs8(&self) -> Option<Zeroizing<Vec<u8>>> {
        match *self {}
    }

    /// Unreachable: no pair exists.
    pub(crate) fn public_key_der(&self) -> Option<Vec<u8>> {
        match *self {}
    }

    /// Unreachable: no pair exists.
    pub(crate) fn sign(&self, _: Scheme, _: &[u8], _: &SecureRng) -> Option<Vec<u8>> {
        match *self {}
    }

    /// Unreachable: no pair exists.
    pub(crate) fn verify(&self, _: Scheme, _: &[u8], _: &[u8]) -> bool {
        match *self {}
    }

    /// Unreachable: no pair exists.
    pub(crate) fn ml_dsa_mu(&self, _: &[u8]) -> Option<[u8; super::MU_LEN]> {
        match *self {}
    }

    /// Unreachable: no pair exists.
    pub(crate) fn encrypt(&self, _: Cipher, _: &[u8], _: &SecureRng) -> Option<Vec<u8>> {
        match *self {}
    }

    /// Unreachable: no pair exists.
    pub(crate) fn decrypt(&self, _: Cipher, _: &[u8], _: &SecureRng) -> Option<Zeroizing<Vec<u8>>> {
        match *self {}
    }

    /// Unreachable: no pair exists.
    pub(crate) fn max_plaintext(&self, _: Cipher) -> usize {
        match *self {}
    }

    /// Unreachable: no pair exists.
    pub(crate) fn ecdh(&self, _: &[u8]) -> Result<Zeroizing<Vec<u8>>, PeerKeyError> {
        match *self {}
    }
}
