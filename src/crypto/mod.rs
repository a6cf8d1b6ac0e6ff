//! The crypto core: key material, AES-256-GCM, the encryption-context AAD,
//! the ciphertext blob codec and the random source.
//!
//! This module knows nothing of key stores, key states or policies; the
//! service layer decides *whether* to encrypt, this module only *how*.

pub mod aead;
pub mod blob;
pub mod context;
pub mod material;
pub(crate) mod rng;

pub use aead::Cipher;
pub use blob::{Blob, BlobError, BlobKind, Header};
pub use context::EncryptionContext;
pub use material::{KeyMaterial, Plaintext, SecretString};
