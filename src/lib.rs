#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod base64_blob;
pub mod clock;
pub mod crypto;
pub mod error;
pub mod ids;
pub mod key;
pub mod kms;
mod macros;
pub mod storage;
pub mod store;
mod sync;
pub mod wire;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use crypto::{EncryptionContext, KeyMaterial, Plaintext};
pub use error::{Error, ErrorCode, Result};
pub use ids::{
    AccountId, AliasName, ClusterId, CustomKeyStoreId, HsmId, KeyId, KeyIdentifier, Region,
    XksKeyId,
};
pub use key::{KeyMetadata, KeyState, OriginType, Tag};
pub use kms::{ConnectionMode, Kms, KmsConfig, Quotas};
