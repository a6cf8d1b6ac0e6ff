//! Plain data of the service, below every behaviour: where a key's
//! material is ([`backing`]) and what a custom key store is ([`store`]:
//! each kind's settings, the store entry and the store table).
//!
//! Nothing here calls a backend or takes a service lock; the backends
//! (`kms/backend/`) and the operations import it, never the other way.

pub(crate) mod backing;
pub(crate) mod store;
