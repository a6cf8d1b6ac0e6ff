//! [`KeyPair`] over RustCrypto's `rsa`, `p256`, `p384`, `p521`, `k256`,
//! `sm2` and `ml-dsa` (through [`MlDsaKey`]).

use std::fmt;

use ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::traits::PublicKeyParts as _;
use rsa::{Oaep, Pkcs1v15Sign};
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use super::ml_dsa::MlDsaKey;
use super::{Cipher, Hash, PairSpec, PeerKeyError, SM2_DIST_ID, SM2PKE_MAX_PLAINTEXT, Scheme};
use crate::crypto::material::REDACTED;
use crate::crypto::rng::SecureRng;

/// A private key (and so its public key). Zeroized on drop by the
/// underlying crates; never printed.
pub(crate) enum KeyPair {
    /// RSA.
    Rsa(Box<rsa::PrivateKey>),
    /// NIST P-256.
    P256(p256::SecretKey),
    /// NIST P-384.
    P384(p384::SecretKey),
    /// NIST P-521.
    P521(p521::SecretKey),
    /// secp256k1.
    Secp256k1(k256::SecretKey),
    /// SM2 (China Regions).
    Sm2(sm2::SecretKey),
    /// ML-DSA-44/65/87.
    MlDsa(MlDsaKey),
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("spec", &self.spec())
            .field("private_key", &format_args!("{REDACTED}"))
            .finish()
    }
}

/// Runs `$body` with `$k` bound to the curve's secret key and `$c` to the
/// curve's crate, for each ECDSA curve's variant; `$rsa` for RSA, `$ml`
/// for ML-DSA, `$sm2` for SM2.
macro_rules! per_key {
    ($self:expr, $k:ident, $c:ident => $body:expr, rsa $r:ident => $rsa:expr, ml $m:ident => $ml:expr, sm2 $s:ident => $sm2:expr) => {
        match $self {
            KeyPair::Rsa($r) => $rsa,
            KeyPair::MlDsa($m) => $ml,
            KeyPair::Sm2($s) => $sm2,
            KeyPair::P256($k) => {
                #[allow(unused_imports, reason = "not every arm names the curve's crate")]
                use p256 as $c;
                $body
            }
            KeyPair::P384($k) => {
                #[allow(unused_imports, reason = "not every arm names the curve's crate")]
                use p384 as $c;
                $body
            }
            KeyPair::P521($k) => {
                #[allow(unused_imports, reason = "not every arm names the curve's crate")]
                use p521 as $c;
                $body
            }
            KeyPair::Secp256k1($k) => {
                #[allow(unused_imports, reason = "not every arm names the curve's crate")]
                use k256 as $c;
                $body
            }
        }
    };
}

impl KeyPair {
    /// A new key pair of `spec` from `rng` (the same pair for the same
    /// seeded stream). `None` only if RSA generation fails.
    pub(crate) fn generate(spec: PairSpec, rng: &SecureRng) -> Option<KeyPair> {
        use p256::elliptic_curve::Generate as _;
        let mut r = rng.for_keygen();
        Some(match spec {
            PairSpec::Rsa2048 | PairSpec::Rsa3072 | PairSpec::Rsa4096 => {
                let bits = spec.rsa_bits()?;
                KeyPair::Rsa(Box::new(rsa::PrivateKey::new(&mut r, bits).ok()?))
            }
            PairSpec::P256 => KeyPair::P256(p256::SecretKey::generate_from_rng(&mut r)),
            PairSpec::P384 => KeyPair::P384(p384::SecretKey::generate_from_rng(&mut r)),
            PairSpec::P521 => KeyPair::P521(p521::SecretKey::generate_from_rng(&mut r)),
            PairSpec::Secp256k1 => KeyPair::Secp256k1(k256::SecretKey::generate_from_rng(&mut r)),
            PairSpec::Sm2 => KeyPair::Sm2(sm2::SecretKey::generate_from_rng(&mut r)),
            PairSpec::MlDsa44 | PairSpec::MlDsa65 | PairSpec::MlDsa87 => {
                KeyPair::MlDsa(MlDsaKey::generate(spec, rng)?)
            }
        })
    }

    /// Reads a PKCS#8 DER private key that must be of `spec` (an RSA key
    /// of exactly that modulus size, a key on that curve, or an ML-DSA
    /// seed of that parameter set). `None` for
    /// anything else. For stored keys and imported key material.
    pub(crate) fn from_pkcs8(spec: PairSpec, der: &[u8]) -> Option<KeyPair> {
        Some(match spec {
            PairSpec::Rsa2048 | PairSpec::Rsa3072 | PairSpec::Rsa4096 => {
                let key = rsa::PrivateKey::from_pkcs8_der(der).ok()?;
                if key.n().bit_width() as usize != spec.rsa_bits()? {
                    return None;
                }
                KeyPair::Rsa(Box::new(key))
            }
            PairSpec::P256 => KeyPair::P256(p256::SecretKey::from_pkcs8_der(der).ok()?),
            PairSpec::P384 => KeyPair::P384(p384::SecretKey::from_pkcs8_der(der).ok()?),
            PairSpec::P521 => KeyPair::P521(p521::SecretKey::from_pkcs8_der(der).ok()?),
            PairSpec::Secp256k1 => KeyPair::Secp256k1(k256::SecretKey::from_pkcs8_der(der).ok()?),
            PairSpec::Sm2 => KeyPair::Sm2(sm2::SecretKey::from_pkcs8_der(der).ok()?),
            PairSpec::MlDsa44 | PairSpec::MlDsa65 | PairSpec::MlDsa87 => {
                KeyPair::MlDsa(MlDsaKey::from_pkcs8(spec, der)?)
            }
        })
    }

    /// The kind of pair.
    pub(crate) fn spec(&self) -> PairSpec {
        match self {
            KeyPair::Rsa(k) => match k.n().bit_width() {
                0..=2048 => PairSpec::Rsa2048,
                2049..=3072 => PairSpec::Rsa3072,
                _ => PairSpec::Rsa4096,
            },
            KeyPair::P256(_) => PairSpec::P256,
            KeyPair::P384(_) => PairSpec::P384,
            KeyPair::P521(_) => PairSpec::P521,
            KeyPair::Secp256k1(_) => PairSpec::Secp256k1,
            KeyPair::Sm2(_) => PairSpec::Sm2,
            KeyPair::MlDsa(m) => m.spec(),
        }
    }

    /// The private key as PKCS#8 DER (`PrivateKeyInfo`), zeroized on drop.
    /// `None` only if encoding fails.
    pub(crate) fn to_pkcs8(&self) -> Option<Zeroizing<Vec<u8>>> {
        let doc = per_key!(
            self,
            k,
            _c => k.to_pkcs8_der(),
            rsa r => r.to_pkcs8_der(),
            ml m => return m.to_pkcs8(),
            sm2 s => s.to_pkcs8_der()
        )
        .ok()?;
        Some(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// The public key as DER SubjectPublicKeyInfo. `None` only if encoding
    /// fails.
    pub(crate) fn public_key_der(&self) -> Option<Vec<u8>> {
        let doc = per_key!(
            self,
            k,
            _c => k.public_key().to_public_key_der(),
            rsa r => r.to_public_key().to_public_key_der(),
            ml m => return m.public_key_der(),
            sm2 s => s.public_key().to_public_key_der()
        )
        .ok()?;
        Some(doc.as_bytes().to_vec())
    }

    /// The signature of `digest` (already `scheme`'s hash of the message;
    /// for ML-DSA, μ; for SM2DSA, e or the raw message) by `scheme`. `None`
    /// if the scheme does not suit the key or the digest is not the hash's
    /// (μ's, e's) length.
    pub(crate) fn sign(&self, scheme: Scheme, digest: &[u8], rng: &SecureRng) -> Option<Vec<u8>> {
        if scheme.digest_len().is_some_and(|len| len != digest.len()) {
            return None;
        }
        match (self, scheme) {
            (KeyPair::MlDsa(m), Scheme::MlDsa) => m.sign_mu(digest, rng),
            (KeyPair::MlDsa(_), _) | (_, Scheme::MlDsa) => None,
            (KeyPair::Sm2(k), Scheme::Sm2Dsa { raw }) => {
                use sm2::dsa::signature::RandomizedSigner as _;
                use sm2::dsa::signature::hazmat::RandomizedPrehashSigner as _;
                let signer = sm2::dsa::SigningKey::new(SM2_DIST_ID, k).ok()?;
                let mut r = rng.for_keygen();
                let sig: sm2::dsa::Signature = if raw {
                    signer.try_sign_with_rng(&mut r, digest).ok()?
                } else {
                    signer.sign_prehash_with_rng(&mut r, digest).ok()?
                };
                Some(sig.to_der().as_bytes().to_vec())
            }
            (KeyPair::Sm2(_), _) | (_, Scheme::Sm2Dsa { .. }) => None,
            (KeyPair::Rsa(k), Scheme::Pss(h)) => {
                let mut r = rng.for_keygen();
                match h {
                    Hash::Sha256 => k.pss_sign_prehash_with_rng::<Sha256, _>(&mut r, digest),
                    Hash::Sha384 => k.pss_sign_prehash_with_rng::<Sha384, _>(&mut r, digest),
                    Hash::Sha512 => k.pss_sign_prehash_with_rng::<Sha512, _>(&mut r, digest),
                    Hash::Sha1 => return None,
                }
                .ok()
            }
            (KeyPair::Rsa(k), Scheme::Pkcs1v15(h)) => {
                // Blinding draws from the source; the signature does not
                // depend on it (PKCS#1 v1.5 is deterministic).
                k.sign_with_rng(&mut rng.for_keygen(), pkcs1v15(h)?, digest)
                    .ok()
            }
            (KeyPair::Rsa(_), Scheme::Ecdsa(_)) => None,
            (ec, Scheme::Ecdsa(_)) => per_key!(ec, k, c => {
                let signer = c::ecdsa::SigningKey::from(k);
                let sig: c::ecdsa::DerSignature = signer.sign_prehash(digest).ok()?;
                Some(sig.as_bytes().to_vec())
            }, rsa _r => None, ml _m => None, sm2 _s => None),
            _ => None,
        }
    }

    /// Whether `signature` is `scheme`'s signature of `digest` under this
    /// key's public key. Any malformed input is simply `false`.
    pub(crate) fn verify(&self, scheme: Scheme, digest: &[u8], signature: &[u8]) -> bool {
        if scheme.digest_len().is_some_and(|len| len != digest.len()) {
            return false;
        }
        match (self, scheme) {
            (KeyPair::MlDsa(m), Scheme::MlDsa) => m.verify_mu(digest, signature),
            (KeyPair::MlDsa(_), _) | (_, Scheme::MlDsa) => false,
            (KeyPair::Sm2(k), Scheme::Sm2Dsa { raw }) => {
                use sm2::dsa::signature::Verifier as _;
                use sm2::dsa::signature::hazmat::PrehashVerifier as _;
                let (Ok(sig), Ok(verifier)) = (
                    sm2::dsa::Signature::from_der(signature),
                    sm2::dsa::VerifyingKey::new(SM2_DIST_ID, k.public_key()),
                ) else {
                    return false;
                };
                if raw {
                    verifier.verify(digest, &sig).is_ok()
                } else {
                    verifier.verify_prehash(digest, &sig).is_ok()
                }
            }
            (KeyPair::Sm2(_), _) | (_, Scheme::Sm2Dsa { .. }) => false,
            (KeyPair::Rsa(k), Scheme::Pss(h)) => {
                let public = k.as_public_key();
                match h {
                    Hash::Sha256 => public.pss_verify_prehash::<Sha256>(digest, signature),
                    Hash::Sha384 => public.pss_verify_prehash::<Sha384>(digest, signature),
                    Hash::Sha512 => public.pss_verify_prehash::<Sha512>(digest, signature),
                    Hash::Sha1 => return false,
                }
                .is_ok()
            }
            (KeyPair::Rsa(k), Scheme::Pkcs1v15(h)) => pkcs1v15(h).is_some_and(|p| {
                digest.len() == h.len() && k.as_public_key().verify(p, digest, signature).is_ok()
            }),
            (KeyPair::Rsa(_), Scheme::Ecdsa(_)) => false,
            (ec, Scheme::Ecdsa(h)) => {
                digest.len() == h.len()
                    && per_key!(ec, k, c => {
                        let Ok(sig) = c::ecdsa::DerSignature::from_bytes(signature) else {
                            return false;
                        };
                        let Ok(sig) = c::ecdsa::Signature::try_from(sig) else {
                            return false;
                        };
                        // A high-S signature is as valid as its low-S twin
                        // (secp256k1's verifier takes low S only).
                        let sig = sig.normalize_s();
                        let verifier = c::ecdsa::VerifyingKey::from(k.public_key());
                        verifier.verify_prehash(digest, &sig).is_ok()
                    }, rsa _r => false, ml _m => false, sm2 _s => false)
            }
            _ => false,
        }
    }

    /// ML-DSA's μ of `message` under this key (what Sign with `RAW` signs);
    /// `None` for a key that is not ML-DSA.
    pub(crate) fn ml_dsa_mu(&self, message: &[u8]) -> Option<[u8; super::MU_LEN]> {
        match self {
            KeyPair::MlDsa(m) => m.mu(message),
            _ => None,
        }
    }

    /// Encryption under the public key with `cipher`: RSAES-OAEP (an RSA
    /// key) or SM2PKE (an SM2 key; GM/T 0009 DER, C1C3C2). `None` for a key
    /// the cipher does not suit, or a plaintext longer than it allows
    /// ([`KeyPair::max_plaintext`]).
    pub(crate) fn encrypt(
        &self,
        cipher: Cipher,
        plaintext: &[u8],
        rng: &SecureRng,
    ) -> Option<Vec<u8>> {
        let mut r = rng.for_keygen();
        match (self, cipher) {
            (KeyPair::Rsa(k), Cipher::Oaep(hash)) => {
                let public = k.as_public_key();
                match hash {
                    Hash::Sha1 => public.encrypt(&mut r, Oaep::<sha1::Sha1>::new(), plaintext),
                    Hash::Sha256 => public.encrypt(&mut r, Oaep::<Sha256>::new(), plaintext),
                    Hash::Sha384 => public.encrypt(&mut r, Oaep::<Sha384>::new(), plaintext),
                    Hash::Sha512 => public.encrypt(&mut r, Oaep::<Sha512>::new(), plaintext),
                }
                .ok()
            }
            (KeyPair::Sm2(k), Cipher::Sm2Pke) if plaintext.len() <= SM2PKE_MAX_PLAINTEXT => {
                let key =
                    sm2::pke::EncryptingKey::new_with_mode(k.public_key(), sm2::pke::Mode::C1C3C2);
                key.encrypt_der(&mut r, plaintext).ok()
            }
            _ => None,
        }
    }

    /// Decryption with `cipher` under the private key; `None` for anything
    /// that does not decrypt.
    pub(crate) fn decrypt(
        &self,
        cipher: Cipher,
        ciphertext: &[u8],
        rng: &SecureRng,
    ) -> Option<Zeroizing<Vec<u8>>> {
        match (self, cipher) {
            (KeyPair::Rsa(k), Cipher::Oaep(hash)) => {
                let mut r = rng.for_keygen();
                match hash {
                    Hash::Sha1 => k.decrypt_blinded(&mut r, Oaep::<sha1::Sha1>::new(), ciphertext),
                    Hash::Sha256 => k.decrypt_blinded(&mut r, Oaep::<Sha256>::new(), ciphertext),
                    Hash::Sha384 => k.decrypt_blinded(&mut r, Oaep::<Sha384>::new(), ciphertext),
                    Hash::Sha512 => k.decrypt_blinded(&mut r, Oaep::<Sha512>::new(), ciphertext),
                }
                .ok()
            }
            (KeyPair::Sm2(k), Cipher::Sm2Pke) => {
                let key = sm2::pke::DecryptingKey::new_with_mode(
                    k.to_nonzero_scalar(),
                    sm2::pke::Mode::C1C3C2,
                );
                key.decrypt_der(ciphertext).ok()
            }
            _ => None,
        }
        .map(Zeroizing::new)
    }

    /// The longest plaintext `cipher` takes under this key: RSAES-OAEP's
    /// `k - 2·hLen - 2`, SM2PKE's 1024 bytes (AWS's limit); 0 for a key the
    /// cipher does not suit.
    pub(crate) fn max_plaintext(&self, cipher: Cipher) -> usize {
        match (self, cipher) {
            (KeyPair::Rsa(k), Cipher::Oaep(hash)) => k.size().saturating_sub(2 * hash.len() + 2),
            (KeyPair::Sm2(_), Cipher::Sm2Pke) => SM2PKE_MAX_PLAINTEXT,
            _ => 0,
        }
    }

    /// ECDH with the peer's public key (DER SubjectPublicKeyInfo on this
    /// key's curve): the shared secret, the x coordinate of the shared
    /// point, zeroized on drop.
    pub(crate) fn ecdh(&self, peer_spki: &[u8]) -> Result<Zeroizing<Vec<u8>>, PeerKeyError> {
        per_key!(self, k, c => {
            let peer = c::PublicKey::from_public_key_der(peer_spki)
                .map_err(|_| PeerKeyError::Invalid)?;
            let shared = p256::elliptic_curve::ecdh::diffie_hellman(k.to_nonzero_scalar(), peer.as_affine());
            Ok(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
        },
        rsa _r => Err(PeerKeyError::NotAgreement),
        ml _m => Err(PeerKeyError::NotAgreement),
        // SM2 key agreement is not implemented (CreateKey refuses it).
        sm2 _s => Err(PeerKeyError::NotAgreement))
    }
}

/// PKCS#1 v1.5 signature padding for `hash` (not SHA-1).
fn pkcs1v15(hash: Hash) -> Option<Pkcs1v15Sign> {
    Some(match hash {
        Hash::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
        Hash::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
        Hash::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
        Hash::Sha1 => return None,
    })
}
