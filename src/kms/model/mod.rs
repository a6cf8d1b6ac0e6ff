//! Plain data of the service, below every behaviour: the key entry
//! ([`key`]), the key table ([`table`]), the alias table ([`aliases`]),
//! a key's grants ([`grants`]), a key's material versions ([`versions`]), a multi-Region key's
//! relations ([`multi_region`]), where a key's material is ([`backing`]), what kind of key it is
//! ([`kind`]) and what a custom key store is
//! ([`store`]: each kind's settings, the store entry and the store table).
//!
//! Each type has its own small methods and nothing more. Nothing here calls
//! a backend or takes a lock of the service (`service.rs` does); the
//! layers above import it, never the other way.

pub(crate) mod aliases;
pub(crate) mod backing;
pub(crate) mod grants;
pub(crate) mod import;
pub(crate) mod key;
pub(crate) mod kind;
pub(crate) mod multi_region;
pub(crate) mod store;
pub(crate) mod table;
pub(crate) mod versions;
