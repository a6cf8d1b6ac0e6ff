//! The crypto core: key material, AES-256-GCM, the encryption-context AAD,
//! the ciphertext blob codec, HMAC keys and the random source.
//!
//! This module knows nothing of key stores, key states or policies; the
//! service layer decides *whether* to encrypt, this module only *how*.

pub(crate) mod aead;
pub(crate) mod asymmetric;
pub(crate) mod blob;
pub(crate) mod context;
#[cfg(feature = "asymmetric")]
pub(crate) mod import;
pub(crate) mod mac;
pub(crate) mod material;
pub(crate) mod rng;

pub(crate) use aead::Cipher;
pub use context::EncryptionContext;
pub use material::{KeyMaterial, Plaintext, SecretString};
