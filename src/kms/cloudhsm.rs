//! The CloudHSM side of custom key stores: what CreateCustomKeyStore,
//! UpdateCustomKeyStore and ConnectCustomKeyStore check for an
//! `AWS_CLOUDHSM` store, and keys whose material lives in the cluster.
//!
//! The cluster itself is the modelled cloudhsmv2 service
//! ([`CloudHsm`](crate::store::cloudhsm::CloudHsm)) that [`Kms::cloudhsm`]
//! returns; this module turns its answers into the KMS behaviour. The
//! connection state machine, the connection-state table and the key-state
//! table are generic (`kms/stores.rs`, `store/mod.rs`, `key/state.rs`).
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

use crate::crypto::Plaintext;
use crate::error::{Error, ErrorCode, Result, kms_err};
use crate::ids::{ClusterId, CustomKeyStoreId};
use crate::store::ConnectionErrorCode;
use crate::store::cloudhsm::{CloudHsm, CuPassword};

use super::stores::{
    CloudHsmStore, Finished, StoreBackend, StoreEntry, StoreTable, connect_outcome,
};
use super::{CreateCustomKeyStoreRequest, Inner, Kms, UpdateCustomKeyStoreRequest};
use crate::store::ConnectionState;

/// `KeyStorePassword` length, in characters.
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 7..=32;
/// `TrustAnchorCertificate` length, in characters.
const TRUST_ANCHOR_CHARS: std::ops::RangeInclusive<usize> = 1..=5000;

impl Kms {
    /// The CloudHSM clusters of this account and Region: provision clusters
    /// for CloudHSM key stores here, inspect them (`describe_clusters`,
    /// `key_labels`) and break them on purpose with the fault switches.
    /// The handle shares the Kms's clock and randomness, so seeded runs are
    /// deterministic.
    ///
    /// ```
    /// use kms_keystore::{Kms, KmsConfig};
    /// let kms = Kms::new(KmsConfig::default().with_seed(1));
    /// let (cluster, _trust_anchor) = kms
    ///     .cloudhsm()
    ///     .provision_ready_cluster(&["us-west-2a", "us-west-2b"], "kmsPswd")
    ///     .unwrap();
    /// assert_eq!(kms.cloudhsm().describe_clusters(Some(&[cluster])).clusters.len(), 1);
    /// ```
    pub fn cloudhsm(&self) -> &CloudHsm {
        &self.inner.cloudhsm
    }
}

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
        Some((field, _)) => Err(Error::validation(
            field,
            "Member must be null for a custom key store of type AWS_CLOUDHSM",
        )),
        None => Ok(()),
    }
}

fn required<'a, T>(field: &str, value: &'a Option<T>) -> Result<&'a T> {
    value.as_ref().ok_or_else(|| {
        Error::validation(
            field,
            "Member must not be null for a custom key store of type AWS_CLOUDHSM",
        )
    })
}

fn check_password(password: &crate::crypto::SecretString) -> Result<CuPassword> {
    let secret = password.expose_secret();
    if !PASSWORD_CHARS.contains(&secret.chars().count()) {
        return Err(Error::validation(
            "keyStorePassword",
            "Member must have length between 7 and 32",
        ));
    }
    Ok(CuPassword::new(secret))
}

/// The members of a CloudHSM CreateCustomKeyStore request, validated.
#[derive(Debug)]
pub(crate) struct CloudHsmShape {
    cluster_id: ClusterId,
    trust_anchor_certificate: String,
    key_store_password: CuPassword,
}

/// The shape of a new CloudHSM key store (`ValidationException`): no XKS
/// member, then `CloudHsmClusterId`, `TrustAnchorCertificate` and
/// `KeyStorePassword` present and well formed. Needs no state.
pub(crate) fn cloudhsm_shape(req: &CreateCustomKeyStoreRequest) -> Result<CloudHsmShape> {
    reject_xks_fields(xks_fields!(req))?;
    let cluster_id: ClusterId =
        required("cloudHsmClusterId", &req.cloud_hsm_cluster_id)?.parse()?;
    let trust_anchor = required("trustAnchorCertificate", &req.trust_anchor_certificate)?;
    if !TRUST_ANCHOR_CHARS.contains(&trust_anchor.chars().count()) {
        return Err(Error::validation(
            "trustAnchorCertificate",
            "Member must have length between 1 and 5000",
        ));
    }
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
pub(crate) fn cloudhsm_update_syntax(req: &UpdateCustomKeyStoreRequest) -> Result<()> {
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
pub(crate) fn cloudhsm_update_shape(req: &UpdateCustomKeyStoreRequest) -> Result<()> {
    reject_xks_fields(xks_fields!(req))
}

impl Inner {
    /// The checks of a new CloudHSM key store that need state, on a request
    /// whose shape [`cloudhsm_shape`] validated: the rules in the module
    /// documentation, in that order.
    pub(crate) fn cloudhsm_new_store(
        &self,
        shape: CloudHsmShape,
        table: &StoreTable,
    ) -> Result<CloudHsmStore> {
        let CloudHsmShape {
            cluster_id,
            trust_anchor_certificate,
            key_store_password,
        } = shape;
        self.cloudhsm.check_configuration(&cluster_id)?;
        let cluster_certificate = self
            .cloudhsm
            .cluster_certificate(&cluster_id)
            .ok_or_else(|| Error::internal("an ACTIVE cluster without a certificate"))?;
        let in_use = table.stores.iter().find(|s| match &s.backend {
            StoreBackend::CloudHsm(c) => {
                c.cluster_id == cluster_id || c.cluster_certificate == cluster_certificate
            }
            StoreBackend::External(_) => false,
        });
        if let Some(other) = in_use {
            return Err(kms_err!(
                CloudHsmClusterInUse,
                "The CloudHSM cluster {cluster_id} is already associated with custom key store {}, or shares a backup history with its cluster. Each CloudHSM key store needs an unrelated cluster.",
                other.id
            ));
        }
        self.cloudhsm
            .check_trust_anchor(&cluster_id, &trust_anchor_certificate)?;
        Ok(CloudHsmStore {
            cluster_id,
            trust_anchor_certificate,
            cluster_certificate,
            key_store_password,
        })
    }

    /// The checks of an update of a CloudHSM key store that need state,
    /// after [`cloudhsm_update_shape`]: a new `kmsuser` password (taken as
    /// given, not checked against the cluster) and a new cluster, which must
    /// meet the configuration requirements and share the backup history of
    /// the store's cluster (`CloudHsmClusterNotRelatedException`). The
    /// connection state was checked by the caller.
    pub(crate) fn cloudhsm_update(
        &self,
        cfg: &CloudHsmStore,
        req: &UpdateCustomKeyStoreRequest,
    ) -> Result<CloudHsmStore> {
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
            self.cloudhsm.check_configuration(&id)?;
            let related = id == cfg.cluster_id
                || self
                    .cloudhsm
                    .cluster_certificate(&id)
                    .is_some_and(|c| c == cfg.cluster_certificate);
            if !related {
                return Err(kms_err!(
                    CloudHsmClusterNotRelated,
                    "The CloudHSM cluster {id} does not share a backup history with cluster {} of this key store (its cluster certificate differs). Give a cluster created from a backup of the original cluster.",
                    cfg.cluster_id
                ));
            }
            next.cluster_id = id;
        }
        if let Some(password) = password {
            next.key_store_password = password;
        }
        Ok(next)
    }

    /// Problems ConnectCustomKeyStore reports at once (the store stays
    /// DISCONNECTED): the cluster is not ACTIVE
    /// (`CloudHsmClusterNotActiveException`) or its security group lacks the
    /// TCP 2223-2225 rules (`CloudHsmClusterInvalidConfigurationException`).
    pub(crate) fn cloudhsm_connect_precheck(&self, cfg: &CloudHsmStore) -> Result<()> {
        self.cloudhsm.connect_precheck(&cfg.cluster_id)
    }

    /// The connect sequence: KMS logs in as `kmsuser` and rotates its
    /// password, keeping the new one; a failure ends FAILED with its code.
    /// The cluster's change and `store`'s outcome are committed together
    /// (durable storage); the caller applies the returned outcome.
    pub(crate) fn cloudhsm_connect(
        &self,
        store: &StoreEntry,
        cfg: &CloudHsmStore,
    ) -> Result<Finished> {
        let mut finished = None;
        // The outcome is read in the closure, into `finished`.
        let _outcome = self.cloudhsm.connect_with(
            &cfg.cluster_id,
            &cfg.key_store_password,
            |res, batch| {
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
                let state = connect_outcome(store.id.as_str(), outcome);
                let backend = StoreBackend::CloudHsm(next);
                self.put_store_state(batch, store, state, None, &backend, None)?;
                finished = Some(Finished { state, backend });
                Ok(())
            },
        )?;
        finished.ok_or_else(|| Error::internal("a connect without an outcome"))
    }

    /// Logs KMS out of the cluster, committing `store` DISCONNECTED with it.
    pub(crate) fn cloudhsm_disconnect(
        &self,
        store: &StoreEntry,
        cfg: &CloudHsmStore,
    ) -> Result<()> {
        self.cloudhsm.disconnect_with(&cfg.cluster_id, |batch| {
            self.put_store_state(
                batch,
                store,
                ConnectionState::Disconnected,
                None,
                &store.backend,
                None,
            )
        })
    }

    /// The cluster and KMS's `kmsuser` session of CloudHSM store `store`.
    /// Copied out so that no store lock is held during the cluster's AES work.
    fn cloudhsm_session(&self, store: &CustomKeyStoreId) -> Result<(ClusterId, CuPassword)> {
        match self.stores.read().get(store.as_str()).map(|s| &s.backend) {
            Some(StoreBackend::CloudHsm(c)) => {
                Ok((c.cluster_id.clone(), c.key_store_password.clone()))
            }
            _ => Err(Error::internal(
                "a CloudHSM key without its CloudHSM key store",
            )),
        }
    }
}

impl Inner {
    /// CreateKey in a CloudHSM key store: a persistent, non-extractable
    /// AES-256 key in the cluster, labelled with the key ARN. The cluster
    /// needs two ACTIVE HSMs in different Availability Zones
    /// (`CloudHsmClusterInvalidConfigurationException`).
    pub(crate) fn cloudhsm_create_key(&self, cfg: &CloudHsmStore, arn: &str) -> Result<()> {
        self.cloudhsm
            .generate_key(&cfg.cluster_id, arn, &cfg.key_store_password)
    }

    /// Random bytes from the store's cluster.
    pub(crate) fn cloudhsm_random(&self, cfg: &CloudHsmStore, n: usize) -> Result<Plaintext> {
        self.cloudhsm.random_bytes(&cfg.cluster_id, n)
    }

    /// Whether a deleted key's material can be removed from the cluster now
    /// (then the cluster it is in): not when the store is not connected or
    /// the cluster cannot be reached — it stays behind, as in AWS.
    pub(crate) fn cloudhsm_deletable(
        &self,
        store: &CustomKeyStoreId,
        arn: &str,
    ) -> Option<ClusterId> {
        let (cluster, session) = self.cloudhsm_session(store).ok()?;
        self.cloudhsm
            .key_deletable(&cluster, arn, &session)
            .then_some(cluster)
    }
}
