//! Asymmetric key pairs: [`KeyPair`], one enum over RSA, the four
//! elliptic curves, SM2 and ML-DSA, dispatching in one place (`pair.rs`; without the
//! feature `asymmetric`, an enum with no variants, `absent.rs`, so the
//! service compiles the same and can make no pair). Generation
//! from the crate's random source, PKCS#8 (private) and SubjectPublicKeyInfo
//! (public) DER, RSASSA-PSS / RSASSA-PKCS1-v1_5 / ECDSA (DER signatures,
//! RFC 6979 nonces) over a digest, ML-DSA (FIPS 204, hedged, over the
//! message representative μ; `ml_dsa.rs`), SM2DSA over e = SM3(Z ‖ M) and
//! SM2PKE (GM/T 0009 DER, C1C3C2), RSAES-OAEP and ECDH.
//!
//! This module knows nothing of key specs or KMS errors: the service maps
//! its answers (`None`, `false`) to AWS's exceptions.

/// The kind of key pair: RSA of a modulus size, an elliptic curve, or an
/// ML-DSA parameter set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PairSpec {
    /// RSA, 2048-bit modulus.
    Rsa2048,
    /// RSA, 3072-bit modulus.
    Rsa3072,
    /// RSA, 4096-bit modulus.
    Rsa4096,
    /// NIST P-256.
    P256,
    /// NIST P-384.
    P384,
    /// NIST P-521.
    P521,
    /// secp256k1.
    Secp256k1,
    /// SM2 (GB/T 32918), the curve of the China Regions' SM2 keys.
    Sm2,
    /// ML-DSA-44 (FIPS 204).
    MlDsa44,
    /// ML-DSA-65 (FIPS 204).
    MlDsa65,
    /// ML-DSA-87 (FIPS 204).
    MlDsa87,
}

impl PairSpec {
    /// The RSA modulus size in bits (`None` for a curve).
    #[cfg_attr(
        not(feature = "asymmetric"),
        allow(dead_code, reason = "key pairs are made with the feature `asymmetric`")
    )]
    pub(crate) const fn rsa_bits(self) -> Option<usize> {
        match self {
            PairSpec::Rsa2048 => Some(2048),
            PairSpec::Rsa3072 => Some(3072),
            PairSpec::Rsa4096 => Some(4096),
            _ => None,
        }
    }
}

/// The SHA-2 function a signing or OAEP algorithm hashes with (SHA-1 only
/// for RSAES_OAEP_SHA_1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hash {
    /// SHA-1 (OAEP only).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Hash {
    /// The digest's length in bytes.
    pub(crate) const fn len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    /// The digest of `message`; `None` for SHA-1, which hashes no message
    /// here (RSAES_OAEP_SHA_1 hashes inside `rsa`).
    pub(crate) fn digest(self, message: &[u8]) -> Option<Vec<u8>> {
        use sha2::Digest as _;
        Some(match self {
            Hash::Sha1 => return None,
            Hash::Sha256 => sha2::Sha256::digest(message).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(message).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(message).to_vec(),
        })
    }
}

/// A signature scheme over a digest (for ML-DSA, over the message
/// representative μ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// RSASSA-PSS, salt as long as the digest, MGF1 with the same hash.
    Pss(Hash),
    /// RSASSA-PKCS1-v1_5 (deterministic).
    Pkcs1v15(Hash),
    /// ECDSA with an RFC 6979 nonce, DER-encoded (deterministic).
    Ecdsa(Hash),
    /// Pure ML-DSA with an empty context (FIPS 204 Algorithms 2 and 3),
    /// hedged, over the 64-byte μ.
    MlDsa,
    /// SM2DSA (GB/T 32918.2) with the distinguishing ID [`SM2_DIST_ID`],
    /// randomized, DER-encoded (r, s): over the message itself (`raw`;
    /// `sm2` computes e = SM3(Z ‖ M)) or over the 32-byte e.
    Sm2Dsa {
        /// The input is the message, not e.
        raw: bool,
    },
}

impl Scheme {
    /// The SHA-2 hash the scheme signs a digest of (`None` for ML-DSA,
    /// which signs μ).
    pub(crate) const fn hash(self) -> Option<Hash> {
        match self {
            Scheme::Pss(h) | Scheme::Pkcs1v15(h) | Scheme::Ecdsa(h) => Some(h),
            Scheme::MlDsa | Scheme::Sm2Dsa { .. } => None,
        }
    }

    /// The length of what the scheme signs: the digest, μ (ML-DSA) or
    /// e (SM2DSA); `None` for a raw SM2DSA message (any length).
    #[cfg_attr(
        not(feature = "asymmetric"),
        allow(dead_code, reason = "key pairs are made with the feature `asymmetric`")
    )]
    pub(crate) const fn digest_len(self) -> Option<usize> {
        match self {
            Scheme::Pss(h) | Scheme::Pkcs1v15(h) | Scheme::Ecdsa(h) => Some(h.len()),
            Scheme::MlDsa => Some(MU_LEN),
            Scheme::Sm2Dsa { raw: false } => Some(SM2_DIGEST_LEN),
            Scheme::Sm2Dsa { raw: true } => None,
        }
    }
}

/// An asymmetric encryption scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cipher {
    /// RSAES-OAEP with the hash (for OAEP and MGF1), empty label.
    Oaep(Hash),
    /// SM2 public key encryption (GB/T 32918.4), GM/T 0009 ASN.1 DER
    /// (x, y, C3, C2), SM3.
    Sm2Pke,
}

/// The length of μ, the message representative ML-DSA signs (and of an
/// `EXTERNAL_MU` message).
pub(crate) const MU_LEN: usize = 64;

/// The length of SM2DSA's e = SM3(Z ‖ M) (and of a `DIGEST` message).
pub(crate) const SM2_DIGEST_LEN: usize = 32;

/// The longest plaintext SM2PKE takes here (AWS's limit).
#[cfg_attr(
    not(feature = "asymmetric"),
    allow(dead_code, reason = "key pairs are made with the feature `asymmetric`")
)]
pub(crate) const SM2PKE_MAX_PLAINTEXT: usize = 1024;

/// The distinguishing ID SM2DSA hashes into Z (AWS KMS's default, and
/// GB/T 35276's).
#[cfg_attr(
    not(feature = "asymmetric"),
    allow(dead_code, reason = "key pairs are made with the feature `asymmetric`")
)]
pub(crate) const SM2_DIST_ID: &str = "1234567812345678";

/// Why DeriveSharedSecret's peer key was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    not(feature = "asymmetric"),
    allow(dead_code, reason = "key pairs are made with the feature `asymmetric`")
)]
pub(crate) enum PeerKeyError {
    /// Not a SubjectPublicKeyInfo of this key's curve (or not a point on it).
    Invalid,
    /// This key does not agree keys (RSA).
    NotAgreement,
}

#[cfg(not(feature = "asymmetric"))]
mod absent;
#[cfg(feature = "asymmetric")]
mod ml_dsa;
#[cfg(feature = "asymmetric")]
mod pair;
#[cfg(feature = "asymmetric")]
#[cfg(test)]
mod tests;

#[cfg(not(feature = "asymmetric"))]
pub(crate) use absent::KeyPair;
#[cfg(feature = "asymmetric")]
pub(crate) use pair::KeyPair;
