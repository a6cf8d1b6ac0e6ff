//! The operations, one file per API area, each an `impl Kms` whose public
//! methods begin with `let cx = self.begin();`. These files never
//! import each other: what two areas share lives below, in the service
//! (`service.rs`), `support/` or `model/`.

pub(crate) mod access;
pub(crate) mod aliases;
pub(crate) mod asymmetric;
pub(crate) mod crypto;
pub(crate) mod grants;
pub(crate) mod import;
pub(crate) mod keys;
pub(crate) mod mac;
pub(crate) mod multi_region;
pub(crate) mod policy;
pub(crate) mod rotation;
pub(crate) mod storage;
pub(crate) mod stores;
pub(crate) mod tags;
