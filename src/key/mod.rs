//! KMS keys: the API enums ([`spec`]), the key-state machine ([`state`]) and
//! the [`KeyMetadata`] shape DescribeKey returns.

pub mod metadata;
pub mod spec;
pub mod state;

pub use metadata::{KeyMetadata, Tag, XksKeyConfiguration};
pub use spec::{
    CustomerMasterKeySpec, DataKeyPairSpec, DataKeySpec, EncryptionAlgorithmSpec, KeyManager,
    KeySpec, KeyState, KeyUsage, OriginType,
};
pub use state::{KeyEvent, KeyLifecycle, KeyOperation};
