//! Helpers every layer may use: what authorization reads from a request
//! ([`access`]: the actions and the request's facts), error builders shared by the operations
//! and the backends ([`errors`]), the input of a seal ([`seal`]), paging
//! ([`paging`]), the custom key store request quota's token bucket
//! ([`quota`]), the request checks several API areas make ([`validate`]),
//! key policy documents ([`policy`]) and AWS managed keys ([`managed`]).

pub(crate) mod access;
pub(crate) mod errors;
pub(crate) mod managed;
pub(crate) mod paging;
pub(crate) mod policy;
pub(crate) mod quota;
pub(crate) mod seal;
pub(crate) mod validate;
