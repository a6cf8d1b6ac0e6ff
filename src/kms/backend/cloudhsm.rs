//! The CloudHSM side of custom key stores: what CreateCustomKeyStore,
//! UpdateCustomKeyStore and ConnectCustomKeyStore check for an
//! `AWS_CLOUDHSM` store, and keys whose material lives in the cluster.
//!
//! The cluster itself is the modelled cloudhsmv2 service
//! ([`CloudHsm`](crate::store::cloudhsm::CloudHsm)) that `Kms::cloudhsm`
//! returns, reached through the backend's environment; this module turns
//! its answers into the KMS behaviour ([`KeyStoreBackend`] on
//! [`CloudHsmStore`]). The
//! connection state machine, the connection-state table and the key-state
//! table are generic (`kms/service.rs`, `store/mod.rs`, `key/state.rs`).
//! This module imports no other backend and nothing of the service.
//!
//! Rules chosen where the documentation is silent:
//!
//! - CreateCustomKeyStore checks, in order: the request's shape
//!   (`ValidationException`: its CloudHSM fields with the generic ones,
//!   before any check that needs state), the limit and the name (generic),
//!   then the cluster's existence, state and configuration
//!   (`CloudHsmClusterNotFoundException`,
//!   `CloudHsmClusterNotActiveException`,
//!   `CloudHsmClusterInvalidConfigurationException`), its use by another
//!   store (`CloudHsmClusterInUseException`), then the trust anchor
//!   (`IncorrectTrustAnchorException`). The password is not checked.
//! - UpdateCustomKeyStore checks the syntax of every member first (even
//!   before the store is looked up), then that no XKS member is given, then
//!   the connection state and the name (generic), then a new cluster.
//! - Sharing a backup history means having the cluster certificate the store
//!   recorded at creation. So a store whose cluster was deleted can still be
//!   moved to a cluster restored from that cluster's backup, and such a
//!   cluster is in use by that store.
//! - In stepped mode the cluster can change between ConnectCustomKeyStore
//!   and the end of CONNECTING. What the call would have thrown then ends
//!   FAILED: `NETWORK_ERRORS` for missing security-group rules (they carry
//!   KMS's traffic), `INTERNAL_ERROR` for anything else.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use crate::crypto::{KeyMaterial, Plaintext};
use crate::error::{Error, ErrorCode, Result, Shown, Violation, kms_err};
use crate::ids::{ClusterId, CustomKeyStoreId};
use crate::key::OriginType;
use crate::key::state::KeyOperation;
use crate::storage::Batch;
use crate::storage::records::{SecretText, StoreBackendRecord};
use crate::store::cloudhsm::{CuPassword, open_failed};
use crate::store::{
    self, ConnectionErrorCode, ConnectionState, CustomKeyStoreType, StoreOperation,
};

use super::cipher::{KeyAccess, SingleLayer};
use super::{
    Described, Finished, KeyStoreBackend, NewStore, PutClosed, PutState, StoreKind, connect_outcome,
};
use crate::kms::env::{BackendEnv, CryptoEnv};
use crate::kms::model::backing::Backing;
use crate::kms::model::store::{
    CloudHsmStore, ConnectOutcome, StoreBackend, StoreEntry, StoreTable, XksRoute,
};
use crate::kms::shapes::types::{CreateCustomKeyStoreRequest, UpdateCustomKeyStoreRequest};

/// `KeyStorePassword` length, in characters.
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 7..=32;
/// `TrustAnchorCertificate` length, in characters.
const TRUST_ANCHOR_CHARS: std::ops::RangeInclusive<usize> = 1..=5000;

/// The XKS parameters of a Create- or UpdateCustomKeyStore request (the two
/// share the field names): each API name and whether it is given.
macro_rules! xks_fields {
    ($req:expr) => {
        [
            ("xksProxyUriEndpoint", $req.xks_proxy_uri_endpoint.is_some()),
            ("xksProxyUriPath", $req.xks_proxy_uri_path.is_some()),
            (
                "xksProxyVpcEndpointServiceName",
                $req.xks_proxy_vpc_endpoint_service_name.is_some(),
            ),
            (
                "xksProxyVpcEndpointServiceOwner",
                $req.xks_proxy_vpc_endpoint_service_owner.is_some(),
            ),
            (
                "xksProxyAuthenticationCredential",
                $req.xks_proxy_authentication_credential.is_some(),
            ),
            (
                "xksProxyConnectivity",
                $req.xks_proxy_connectivity.is_some(),
            ),
        ]
    };
}

/// `ValidationException` for the first XKS field given to a CloudHSM store.
fn reject_xks_fields(fields: [(&str, bool); 6]) -> Result<()> {
    match fields.iter().find(|(_, given)| *given) {
        Some((field, _)) => Err(kms_err!(
            Validation,
            "'{field}' must be null for a custom key store of type AWS_CLOUDHSM."
        )),
        None => Ok(()),
    }
}

fn required<'a, T>(field: &str, value: &'a Option<T>) -> Result<&'a T> {
    value.as_ref().ok_or_else(|| {
        Error::required(field)
            .with_hint("A custom key store of type AWS_CLOUDHSM needs this member.")
    })
}

fn check_password(password: &crate::crypto::SecretString) -> Result<CuPassword> {
    let secret = password.expose_secret();
    // A password is a secret: never shown.
    Error::check_all(Violation::length(
        "keyStorePassword",
        secret,
        || Shown::Hidden,
        *PASSWORD_CHARS.start(),
        *PASSWORD_CHARS.end(),
    ))?;
    Ok(CuPassword::new(secret))
}

/// The members of a CloudHSM CreateCustomKeyStore request, validated.
#[derive(Debug)]
struct CloudHsmShape {
    cluster_id: ClusterId,
    trust_anchor_certificate: String,
    key_store_password: CuPassword,
}

/// The shape of a new CloudHSM key store (`ValidationException`): no XKS
/// member, then `CloudHsmClusterId`, `TrustAnchorCertificate` and
/// `KeyStorePassword` present and well formed. Needs no state.
fn cloudhsm_shape(req: &CreateCustomKeyStoreRequest) -> Result<CloudHsmShape> {
    reject_xks_fields(xks_fields!(req))?;
    let cluster_id: ClusterId =
        required("cloudHsmClusterId", &req.cloud_hsm_cluster_id)?.parse()?;
    let trust_anchor = required("trustAnchorCertificate", &req.trust_anchor_certificate)?;
    Error::check_all(Violation::length(
        "trustAnchorCertificate",
        trust_anchor,
        || Shown::Value(trust_anchor.clone()),
        *TRUST_ANCHOR_CHARS.start(),
        *TRUST_ANCHOR_CHARS.end(),
    ))?;
    let password = check_password(required("keyStorePassword", &req.key_store_password)?)?;
    Ok(CloudHsmShape {
        cluster_id,
        trust_anchor_certificate: trust_anchor.clone(),
        key_store_password: password,
    })
}

/// The syntax of the CloudHSM members of an UpdateCustomKeyStore request,
/// whatever the store's type: `KeyStorePassword` 7–32 characters,
/// `CloudHsmClusterId` `cluster-[2-7a-zA-Z]{11,16}`. Needs no state.
fn cloudhsm_update_syntax(req: &UpdateCustomKeyStoreRequest) -> Result<()> {
    if let Some(password) = &req.key_store_password {
        check_password(password)?;
    }
    if let Some(id) = &req.cloud_hsm_cluster_id {
        id.parse::<ClusterId>()?;
    }
    Ok(())
}

/// The shape of an update of a CloudHSM key store (`ValidationException`):
/// no XKS member. Needs no state.
fn cloudhsm_update_shape(req: &UpdateCustomKeyStoreRequest) -> Result<()> {
    reject_xks_fields(xks_fields!(req))
}

/// The `AWS_CLOUDHSM` kind, as requests and records name it.
pub(crate) struct CloudHsmKind;

impl StoreKind for CloudHsmKind {
    fn store_type(&self) -> CustomKeyStoreType {
        CustomKeyStoreType::AwsCloudhsm
    }

    fn key_origin(&self) -> OriginType {
        OriginType::AwsCloudHsm
    }

    fn update_syntax(&self, req: &UpdateCustomKeyStoreRequest) -> Result<()> {
        cloudhsm_update_syntax(req)
    }

    fn shape(
        &self,
        _env: &BackendEnv<'_>,
        req: &CreateCustomKeyStoreRequest,
    ) -> Result<Box<dyn NewStore>> {
        Ok(Box::new(cloudhsm_shape(req)?))
    }

    fn read_record(&self, rec: &StoreBackendRecord) -> Option<Result<StoreBackend>> {
        let StoreBackendRecord::CloudHsm {
            cluster_id,
            trust_anchor_certificate,
            cluster_certificate,
            key_store_password,
        } = rec
        else {
            return None;
        };
        Some(cluster_id.parse::<ClusterId>().map(|cluster_id| {
            StoreBackend::CloudHsm(CloudHsmStore {
                cluster_id,
                trust_anchor_certificate: trust_anchor_certificate.clone(),
                cluster_certificate: cluster_certificate.clone(),
                key_store_password: CuPassword::new(&key_store_password.0),
            })
        }))
    }
}

impl NewStore for CloudHsmShape {
    fn probes(&self) -> bool {
        false
    }

    fn precheck(&self, _env: &BackendEnv<'_>, _table: &StoreTable) -> Result<()> {
        Ok(())
    }

    fn probe(&self, _env: &BackendEnv<'_>, _name: &str) -> Result<()> {
        Ok(())
    }

    /// The checks of a new CloudHSM key store that need state, on a
    /// request whose shape [`cloudhsm_shape`] validated: the rules in the
    /// module documentation, in that order.
    fn into_backend(
        self: Box<Self>,
        env: &BackendEnv<'_>,
        table: &StoreTable,
    ) -> Result<StoreBackend> {
        let CloudHsmShape {
            cluster_id,
            trust_anchor_certificate,
            key_store_password,
        } = *self;
        let cloudhsm = env.crypto.cloudhsm;
        cloudhsm.check_configuration(&cluster_id)?;
        let cluster_certificate = cloudhsm
            .cluster_certificate(&cluster_id)
            .ok_or_else(|| Error::internal("an ACTIVE cluster without a certificate"))?;
        let in_use = table.stores.iter().find(|s| {
            s.backend.settings::<CloudHsmStore>().is_some_and(|c| {
                c.cluster_id == cluster_id || c.cluster_certificate == cluster_certificate
            })
        });
        if let Some(other) = in_use {
            return Err(kms_err!(
                CloudHsmClusterInUse,
                "The CloudHSM cluster {cluster_id} is already associated with custom key store {}, or shares a backup history with its cluster.",
                other.id
            ).with_hint("Each CloudHSM key store needs an unrelated cluster."));
        }
        cloudhsm.check_trust_anchor(&cluster_id, &trust_anchor_certificate)?;
        Ok(StoreBackend::CloudHsm(CloudHsmStore {
            cluster_id,
            trust_anchor_certificate,
            cluster_certificate,
            key_store_password,
        }))
    }
}

impl KeyStoreBackend for CloudHsmStore {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn store_type(&self) -> CustomKeyStoreType {
        CloudHsmKind.store_type()
    }

    fn update_shape(&self, req: &UpdateCustomKeyStoreRequest) -> Result<()> {
        cloudhsm_update_shape(req)
    }

    fn update_while_connected(&self, req: &UpdateCustomKeyStoreRequest) -> bool {
        req.key_store_password.is_none() && req.cloud_hsm_cluster_id.is_none()
    }

    /// The checks of an update of a CloudHSM key store that need state,
    /// after [`cloudhsm_update_shape`]: a new `kmsuser` password (taken as
    /// given, not checked against the cluster) and a new cluster, which must
    /// meet the configuration requirements and share the backup history of
    /// the store's cluster (`CloudHsmClusterNotRelatedException`). The
    /// connection state was checked by the caller.
    fn plan_update(
        &self,
        env: &BackendEnv<'_>,
        _id: &CustomKeyStoreId,
        req: &UpdateCustomKeyStoreRequest,
        _table: &StoreTable,
    ) -> Result<StoreBackend> {
        let cfg = self;
        let cloudhsm = env.crypto.cloudhsm;
        let password = req
            .key_store_password
            .as_ref()
            .map(check_password)
            .transpose()?;
        let cluster_id = req
            .cloud_hsm_cluster_id
            .as_deref()
            .map(str::parse::<ClusterId>)
            .transpose()?;
        let mut next = cfg.clone();
        if let Some(id) = cluster_id {
            cloudhsm.check_configuration(&id)?;
            let related = id == cfg.cluster_id
                || cloudhsm
                    .cluster_certificate(&id)
                    .is_some_and(|c| c == cfg.cluster_certificate);
            if !related {
                return Err(kms_err!(
                    CloudHsmClusterNotRelated,
                    "The CloudHSM cluster {id} does not share a backup history with cluster {} of this key store (its cluster certificate differs).",
                    cfg.cluster_id
                ).with_hint("Give a cluster created from a backup of the original cluster."));
            }
            next.cluster_id = id;
        }
        if let Some(password) = password {
            next.key_store_password = password;
        }
        Ok(StoreBackend::CloudHsm(next))
    }

    /// KMS logs in to the cluster under the store table's lock; nothing is
    /// probed before.
    fn probes(&self) -> bool {
        false
    }

    fn probe_update(
        &self,
        _env: &BackendEnv<'_>,
        _store: &str,
        _state: ConnectionState,
        _new: &StoreBackend,
    ) -> Result<()> {
        Ok(())
    }

    fn probe_connect(&self, _env: &BackendEnv<'_>) -> Option<ConnectOutcome> {
        None
    }

    /// Problems ConnectCustomKeyStore reports at once (the store stays
    /// DISCONNECTED): the cluster is not ACTIVE
    /// (`CloudHsmClusterNotActiveException`) or its security group lacks the
    /// TCP 2223-2225 rules (`CloudHsmClusterInvalidConfigurationException`).
    fn connect_precheck(&self, env: &BackendEnv<'_>) -> Result<()> {
        env.crypto.cloudhsm.connect_precheck(&self.cluster_id)
    }

    /// The connect sequence: KMS logs in as `kmsuser` and rotates its
    /// password, keeping the new one; a failure ends FAILED with its code.
    /// The cluster's change and the store's outcome are committed together
    /// (durable storage); the caller applies the returned outcome.
    fn connect(
        &self,
        env: &BackendEnv<'_>,
        id: &CustomKeyStoreId,
        _probed: Option<ConnectOutcome>,
        put: PutState<'_>,
    ) -> Result<Finished> {
        let cfg = self;
        let mut finished = None;
        // The outcome is read in the closure, into `finished`.
        let _outcome = env.crypto.cloudhsm.connect_with(
            &cfg.cluster_id,
            &cfg.key_store_password,
            |res, batch: &mut Batch| {
                let mut next = cfg.clone();
                let outcome = match res {
                    Ok(Ok(rotated)) => {
                        next.key_store_password = rotated.clone();
                        Ok(())
                    }
                    Ok(Err(code)) => Err(*code),
                    Err(e) if e.kind() == ErrorCode::CloudHsmClusterInvalidConfiguration => {
                        Err(ConnectionErrorCode::NetworkErrors)
                    }
                    Err(_) => Err(ConnectionErrorCode::InternalError),
                };
                let state = connect_outcome(id.as_str(), outcome);
                let backend = StoreBackend::CloudHsm(next);
                put(batch, state, &backend)?;
                finished = Some(Finished { state, backend });
                Ok(())
            },
        )?;
        finished.ok_or_else(|| Error::internal("a connect without an outcome"))
    }

    /// Logs KMS out of the cluster, committing the store DISCONNECTED with it.
    fn disconnect(&self, env: &BackendEnv<'_>, put: PutClosed<'_>) -> Result<()> {
        let backend = StoreBackend::CloudHsm(self.clone());
        env.crypto
            .cloudhsm
            .disconnect_with(&self.cluster_id, |batch: &mut Batch| put(batch, &backend))
    }

    fn key_origin(&self) -> OriginType {
        CloudHsmKind.key_origin()
    }

    fn new_key(&self, store: &CustomKeyStoreId, _xks_key_id: Option<&str>) -> Result<Backing> {
        Ok(Backing::CloudHsm {
            store: store.clone(),
        })
    }

    /// CreateKey in a CloudHSM key store: a persistent, non-extractable
    /// AES-256 key in the cluster, labelled with the key ARN. The cluster
    /// needs two ACTIVE HSMs in different Availability Zones
    /// (`CloudHsmClusterInvalidConfigurationException`). The key has no
    /// KMS material.
    fn create_key(
        &self,
        env: &BackendEnv<'_>,
        arn: &str,
        _backing: &Backing,
    ) -> Result<Option<KeyMaterial>> {
        env.crypto
            .cloudhsm
            .generate_key(&self.cluster_id, arn, &self.key_store_password)?;
        Ok(None)
    }

    /// Removes the key object made for `arn` from the cluster.
    fn abandon_key(&self, env: &CryptoEnv<'_>, arn: &str) {
        env.cloudhsm.discard_key_object(&self.cluster_id, arn);
    }

    /// The cluster's key object, or why the cluster cannot use it (kept for
    /// after `DryRunOperation`). Lock order: stores, then the cluster.
    fn key_access(
        &self,
        env: &CryptoEnv<'_>,
        _store: &StoreEntry,
        arn: &str,
        _op: KeyOperation,
    ) -> Result<KeyAccess> {
        Ok(KeyAccess::Single(SingleLayer::held(
            env.cloudhsm
                .cipher_for(&self.cluster_id, arn, &self.key_store_password),
            open_failed,
        )))
    }

    /// Random bytes from the cluster of a CONNECTED store.
    fn random(
        &self,
        env: &BackendEnv<'_>,
        id: &CustomKeyStoreId,
        state: ConnectionState,
        n: usize,
    ) -> Result<Plaintext> {
        store::check(StoreOperation::GenerateRandom, state, id.as_str())?;
        env.crypto.cloudhsm.random_bytes(&self.cluster_id, n)
    }

    /// Whether a deleted key's material can be removed from the cluster now
    /// (then the cluster it is in): not when the store is not connected or
    /// the cluster cannot be reached — it stays behind, as in AWS.
    fn release_key(&self, env: &CryptoEnv<'_>, arn: &str) -> Option<ClusterId> {
        env.cloudhsm
            .key_deletable(&self.cluster_id, arn, &self.key_store_password)
            .then(|| self.cluster_id.clone())
    }

    fn cluster_id(&self) -> Option<&ClusterId> {
        Some(&self.cluster_id)
    }

    fn describe(&self) -> Described {
        Described {
            cloud_hsm_cluster_id: Some(self.cluster_id.clone()),
            trust_anchor_certificate: Some(self.trust_anchor_certificate.clone()),
            xks_proxy_configuration: None,
        }
    }

    fn route(&self, _deadline: Duration) -> Option<Arc<XksRoute>> {
        None
    }

    fn to_record(&self) -> StoreBackendRecord {
        StoreBackendRecord::CloudHsm {
            cluster_id: self.cluster_id.to_string(),
            trust_anchor_certificate: self.trust_anchor_certificate.clone(),
            cluster_certificate: self.cluster_certificate.clone(),
            key_store_password: SecretText::new(self.key_store_password.expose_secret()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn the_settings_round_trip_through_their_record() {
        let cfg = CloudHsmStore {
            cluster_id: "cluster-234abcdefgh".parse().unwrap(),
            trust_anchor_certificate: "anchor".into(),
            cluster_certificate: "certificate".into(),
            key_store_password: CuPassword::new("kmsPswd"),
        };
        let rec = cfg.to_record();
        let back = CloudHsmKind.read_record(&rec).unwrap().unwrap();
        assert_eq!(back, StoreBackend::CloudHsm(cfg.clone()));
        assert_eq!(back.store_type(), CustomKeyStoreType::AwsCloudhsm);
        assert_eq!(back.settings::<CloudHsmStore>(), Some(&cfg));
        let described = back.contract().describe();
        assert_eq!(described.cloud_hsm_cluster_id, Some(cfg.cluster_id.clone()));
        assert!(described.xks_proxy_configuration.is_none());
        // A record of this kind is not another kind's.
        let other = StoreBackendRecord::External {
            uri_endpoint: "https://xks.example.com".into(),
            uri_path: "/kms/xks/v1".into(),
            connectivity: "PUBLIC_ENDPOINT".into(),
            vpc_endpoint_service_name: None,
            vpc_endpoint_service_owner: None,
            access_key_id: "ABCDEFGHIJKLMNOPQRST".into(),
            secret_access_key: SecretText::new("secret"),
        };
        assert!(CloudHsmKind.read_record(&other).is_none());
    }
}
