//! The narrow environment a key-store backend receives: the time, the
//! random source, storage, the modelled cluster service, the XKS network
//! and timeouts, and on whose behalf it acts — never the service itself,
//! so a backend cannot call back up into it.
//!
//! The per-call context (`now` read once per operation, and the caller)
//! is where these are built: the data plane's [`CryptoEnv`] carries the
//! caller's ARN and `kms:ViaService` to external key store proxies
//! (`requestMetadata`); control-plane calls act as the account root.

use std::time::Duration;

use crate::clock::Timestamp;
use crate::crypto::rng::SecureRng;
use crate::ids::AccountId;
use crate::storage::Storage;
use crate::store::cloudhsm::CloudHsm;
use crate::store::external::XksNetwork;

/// What a backend's control-plane calls (create, update, connect,
/// disconnect, keys, random) may use.
#[derive(Clone, Copy)]
pub(crate) struct BackendEnv<'a> {
    /// The time of the call.
    #[allow(
        dead_code,
        reason = "part of the contract; no backend rule reads the time yet"
    )]
    pub(crate) now: Timestamp,
    /// Where durable changes are committed.
    pub(crate) storage: &'a Storage,
    /// The account, the default owner of a VPC endpoint service.
    pub(crate) account_id: &'a AccountId,
    /// How long KMS waits for a proxy answer.
    pub(crate) xks_timeout: Duration,
    /// What the data plane uses too.
    pub(crate) crypto: CryptoEnv<'a>,
}

/// What a backend's data-plane calls (key access, seal, open) may use: no
/// clock reading and nothing to build per call, so the cryptographic path
/// pays nothing for it.
#[derive(Clone, Copy)]
pub(crate) struct CryptoEnv<'a> {
    /// Nonces, key material and proxy request ids.
    pub(crate) rng: &'a SecureRng,
    /// The modelled cloudhsmv2 service.
    pub(crate) cloudhsm: &'a CloudHsm,
    /// The network external key store proxies are reached through.
    pub(crate) xks: &'a XksNetwork,
    /// The caller the request is made on behalf of, as proxies see it
    /// (`awsPrincipalArn`).
    pub(crate) principal_arn: &'a str,
    /// The AWS service that made the request for the caller
    /// (`kmsViaService`), if any.
    pub(crate) via_service: Option<&'a str>,
}
