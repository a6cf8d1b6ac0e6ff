//! KMS keys: the API enums ([`spec`]), the key-state machine ([`state`]) and
//! the [`KeyMetadata`] shape DescribeKey returns.

pub(crate) mod metadata;
pub(crate) mod spec;
pub(crate) mod state;

pub use metadata::{
    KeyMetadata, MultiRegionConfiguration, MultiRegionKey, Tag, XksKeyConfiguration,
};
pub use spec::{
    AlgorithmSpec, CustomerMasterKeySpec, DataKeyPairSpec, DataKeySpec, EncryptionAlgorithmSpec,
    ExpirationModelType, ImportType, KeyAgreementAlgorithmSpec, KeyManager, KeySpec, KeyState,
    KeyUsage, MacAlgorithmSpec, MessageType, MultiRegionKeyType, OriginType, SigningAlgorithmSpec,
    WrappingKeySpec,
};
pub(crate) use state::{KeyEvent, KeyLifecycle};
