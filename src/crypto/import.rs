//! Unwrapping imported key material: [`WrappingKey`], the RSA key pair
//! GetParametersForImport makes, and how ImportKeyMaterial's
//! `EncryptedKeyMaterial` is opened under it for each wrapping algorithm —
//! RSAES-OAEP (SHA-1 or SHA-256, MGF1 with the same hash) directly, or, for
//! `RSA_AES_KEY_WRAP_*`, an AES-256 key under RSAES-OAEP followed by the
//! material under that key with AES Key Wrap with Padding (RFC 5649).
//!
//! Every failure is the same opaque [`UnwrapError`]: the caller answers
//! `InvalidCiphertextException` without saying which step failed.

use std::fmt;

use aes_kw::KeyInit as _;
use rsa::pkcs8::EncodePublicKey as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{Oaep, PrivateKey};
use zeroize::Zeroizing;

use crate::crypto::rng::SecureRng;
use crate::key::{AlgorithmSpec, WrappingKeySpec};

/// The length of the ephemeral AES key an `RSA_AES_KEY_WRAP_*` payload
/// starts with (AES-256).
const AES_KEY_LEN: usize = 32;

/// Why wrapped material did not open; deliberately without detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnwrapError;

/// An RSA wrapping key pair and the algorithm its public key is for. The
/// private key zeroizes on drop and is never printed.
pub(crate) struct WrappingKey {
    algorithm: AlgorithmSpec,
    spec: WrappingKeySpec,
    key: PrivateKey,
}

impl fmt::Debug for WrappingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappingKey")
            .field("algorithm", &self.algorithm)
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

/// The modulus size of an RSA wrapping key spec (`None`: not RSA).
pub(crate) fn rsa_bits(spec: WrappingKeySpec) -> Option<usize> {
    match spec {
        WrappingKeySpec::Rsa2048 => Some(2048),
        WrappingKeySpec::Rsa3072 => Some(3072),
        WrappingKeySpec::Rsa4096 => Some(4096),
        WrappingKeySpec::Sm2 => None,
    }
}

impl WrappingKey {
    /// A new key pair of `spec` (an RSA spec) for `algorithm`, drawn from
    /// `rng`. `None` for a spec that is not RSA or a failed generation.
    pub(crate) fn generate(
        algorithm: AlgorithmSpec,
        spec: WrappingKeySpec,
        rng: &SecureRng,
    ) -> Option<WrappingKey> {
        let bits = rsa_bits(spec)?;
        let key = PrivateKey::new(&mut rng.for_keygen(), bits).ok()?;
        Some(WrappingKey {
            algorithm,
            spec,
            key,
        })
    }

    /// The public key, DER-encoded SubjectPublicKeyInfo (what
    /// GetParametersForImport returns as `PublicKey`).
    pub(crate) fn public_key_der(&self) -> Option<Vec<u8>> {
        self.key
            .to_public_key()
            .to_public_key_der()
            .ok()
            .map(|d| d.as_bytes().to_vec())
    }

    /// Opens `wrapped` (ImportKeyMaterial's `EncryptedKeyMaterial`) with
    /// this key's algorithm. `rng` blinds the RSA private operation.
    pub(crate) fn unwrap(
        &self,
        wrapped: &[u8],
        rng: &SecureRng,
    ) -> Result<Zeroizing<Vec<u8>>, UnwrapError> {
        match self.algorithm {
            AlgorithmSpec::RsaesOaepSha1 => self.oaep::<sha1::Sha1>(wrapped, rng),
            AlgorithmSpec::RsaesOaepSha256 => self.oaep::<sha2::Sha256>(wrapped, rng),
            AlgorithmSpec::RsaAesKeyWrapSha1 => self.rsa_aes::<sha1::Sha1>(wrapped, rng),
            AlgorithmSpec::RsaAesKeyWrapSha256 => self.rsa_aes::<sha2::Sha256>(wrapped, rng),
            AlgorithmSpec::RsaesPkcs1V15 | AlgorithmSpec::Sm2pke => Err(UnwrapError),
        }
    }

    fn oaep<D>(&self, wrapped: &[u8], rng: &SecureRng) -> Result<Zeroizing<Vec<u8>>, UnwrapError>
    where
        D: sha2::Digest + sha2::digest::FixedOutputReset,
    {
        if wrapped.len() != self.key.size() {
            return Err(UnwrapError);
        }
        self.key
            .decrypt_blinded(&mut rng.for_keygen(), Oaep::<D>::new(), wrapped)
            .map(Zeroizing::new)
            .map_err(|_| UnwrapError)
    }

    fn rsa_aes<D>(&self, wrapped: &[u8], rng: &SecureRng) -> Result<Zeroizing<Vec<u8>>, UnwrapError>
    where
        D: sha2::Digest + sha2::digest::FixedOutputReset,
    {
        let split = self.key.size();
        if wrapped.len() <= split {
            return Err(UnwrapError);
        }
        let (head, tail) = wrapped.split_at(split);
        let aes_key = self.oaep::<D>(head, rng)?;
        if aes_key.len() != AES_KEY_LEN {
            return Err(UnwrapError);
        }
        let kwp = aes_kw::KwpAes256::new_from_slice(&aes_key).map_err(|_| UnwrapError)?;
        let mut buf = Zeroizing::new(vec![0u8; tail.len()]);
        let n = kwp
            .unwrap_key(tail, &mut buf)
            .map_err(|_| UnwrapError)?
            .len();
        buf.truncate(n);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;
    use rsa::pkcs8::DecodePublicKey as _;

    fn pair(algorithm: AlgorithmSpec) -> (WrappingKey, rsa::PublicKey, SecureRng) {
        let rng = SecureRng::new(Some(20));
        let k = WrappingKey::generate(algorithm, WrappingKeySpec::Rsa2048, &rng).unwrap();
        let public = rsa::PublicKey::from_public_key_der(&k.public_key_der().unwrap()).unwrap();
        (k, public, rng)
    }

    fn kwp_wrap(aes_key: &[u8; 32], material: &[u8]) -> Vec<u8> {
        let kwp = aes_kw::KwpAes256::new_from_slice(aes_key).unwrap();
        let mut out = vec![0u8; material.len() + 16];
        let n = kwp.wrap_key(material, &mut out).unwrap().len();
        out.truncate(n);
        out
    }

    #[test]
    fn oaep_sha256_wrapped_material_unwraps_and_the_public_key_is_spki_der() {
        let (k, public, rng) = pair(AlgorithmSpec::RsaesOaepSha256);
        assert_eq!(public.size(), 256);
        let wrapped = public
            .encrypt(
                &mut rng.for_keygen(),
                Oaep::<sha2::Sha256>::new(),
                &[7u8; 32],
            )
            .unwrap();
        assert_eq!(&k.unwrap(&wrapped, &rng).unwrap()[..], &[7u8; 32]);
        // Wrapped with the other hash: does not open.
        let sha1 = public
            .encrypt(&mut rng.for_keygen(), Oaep::<sha1::Sha1>::new(), &[7u8; 32])
            .unwrap();
        assert_eq!(k.unwrap(&sha1, &rng), Err(UnwrapError));
    }

    #[test]
    fn rsa_aes_key_wrap_unwraps_the_aes_key_then_the_material() {
        let (k, public, rng) = pair(AlgorithmSpec::RsaAesKeyWrapSha1);
        let aes = [3u8; 32];
        let mut wrapped = public
            .encrypt(&mut rng.for_keygen(), Oaep::<sha1::Sha1>::new(), &aes)
            .unwrap();
        wrapped.extend(kwp_wrap(&aes, &[9u8; 32]));
        assert_eq!(&k.unwrap(&wrapped, &rng).unwrap()[..], &[9u8; 32]);
        let mut tampered = wrapped.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(k.unwrap(&tampered, &rng), Err(UnwrapError));
        // The RSA part alone, or nothing after it: does not open.
        assert_eq!(k.unwrap(&wrapped[..256], &rng), Err(UnwrapError));
    }

    #[test]
    fn a_wrapping_key_never_prints_its_private_key() {
        let (k, _, _) = pair(AlgorithmSpec::RsaesOaepSha1);
        let s = format!("{k:?}");
        assert!(s.contains("RsaesOaepSha1") && !s.contains("key:"), "{s}");
    }
}
