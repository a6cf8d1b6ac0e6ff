//! The request and response shapes of the operations, as the AWS API names
//! them (serde, AWS field names): keys, cryptography and custom key stores
//! ([`types`]); aliases, tags, key policies and descriptions ([`manage`]);
//! grants ([`grants`]); HMAC ([`mac`]); asymmetric keys ([`asymmetric`]).
//! Plain data; the facade re-exports every one by name.

pub(crate) mod access;
pub(crate) mod asymmetric;
pub(crate) mod grants;
pub(crate) mod import;
pub(crate) mod mac;
pub(crate) mod manage;
pub(crate) mod types;
