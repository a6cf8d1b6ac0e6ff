//! The operations the KMS layer calls on a cluster: the configuration checks
//! of CreateCustomKeyStore / UpdateCustomKeyStore / CreateKey, the connect
//! sequence, and key generation and use. Each documents the AWS rule it
//! implements.

use crate::sync::PublishedRef;
use std::collections::BTreeSet;

use super::cipher_cache;
use super::{CloudHsm, Cluster, ClusterState, CuPassword, KMS_USER, KeyObject, MAX_FAILED_LOGINS};
use crate::crypto::Cipher;
#[cfg(test)]
use crate::crypto::aead::{NONCE_LEN, TAG_LEN};
use crate::crypto::{KeyMaterial, Plaintext};
use crate::error::{Error, Result, kms_err};
use crate::ids::ClusterId;
use crate::storage::Batch;
use crate::store::ConnectionErrorCode;

fn not_found(id: &ClusterId) -> Error {
    kms_err!(
        CloudHsmClusterNotFound,
        "No AWS CloudHSM cluster with id {id} exists in this account and Region."
    )
    .with_hint("Check the cluster id (cloudhsmv2 DescribeClusters).")
}

fn cannot_communicate(id: &ClusterId, why: &str) -> Error {
    kms_err!(
        KmsInvalidState,
        "KMS cannot communicate with your CloudHSM cluster {id}: {why}."
    )
    .with_hint("Fix the cluster, then disconnect and reconnect the custom key store.")
}

/// A PEM's lines without surrounding whitespace or blank lines.
fn pem_lines(s: &str) -> impl Iterator<Item = &str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// Whether KMS's session as `kmsuser` is still valid: the user exists, is not
/// locked out, KMS is logged in, and the password is the one KMS set.
fn session_valid(c: &Cluster, session: &CuPassword) -> bool {
    c.users.get(KMS_USER).is_some_and(|u| {
        u.kms_session && !u.locked_out && u.password.matches(session.expose_secret())
    })
}

/// The checks shared by every call KMS makes over its session: the cluster
/// is reachable, not being deleted, without injected internal errors.
fn reachable(c: &Cluster) -> Result<()> {
    if c.internal_error {
        return Err(kms_err!(
            KmsInternal,
            "The CloudHSM cluster {} reported an internal error.",
            c.id
        )
        .with_hint("Retry the request."));
    }
    if !c.network_reachable {
        return Err(cannot_communicate(&c.id, "the network does not reach it"));
    }
    if matches!(
        c.state,
        ClusterState::DeleteInProgress | ClusterState::Deleted
    ) {
        return Err(cannot_communicate(&c.id, "it is being deleted or deleted"));
    }
    Ok(())
}

/// The problems ConnectCustomKeyStore reports at once rather than as a
/// connection error code: a cluster that is not ACTIVE
/// (`CloudHsmClusterNotActiveException`) or whose security group lacks the
/// TCP 2223-2225 rules (`CloudHsmClusterInvalidConfigurationException`).
fn connect_blocker(c: &Cluster) -> Result<()> {
    let id = &c.id;
    if c.state != ClusterState::Active {
        return Err(kms_err!(
            CloudHsmClusterNotActive,
            "The CloudHSM cluster {id} is {}; it must be initialized and ACTIVE to connect.",
            c.state
        )
        .with_hint("Activate the cluster, then connect."));
    }
    if !(c.security_group.inbound_2223_2225 && c.security_group.outbound_2223_2225) {
        return Err(kms_err!(
            CloudHsmClusterInvalidConfiguration,
            "The security group {} of CloudHSM cluster {id} must allow TCP ports 2223-2225 inbound and outbound with itself as source and destination.",
            c.security_group.id
        ).with_hint("Restore the default rules, then connect."));
    }
    Ok(())
}

/// The cluster's session check, for calls KMS makes as `kmsuser`.
fn require_session(c: &Cluster, session: &CuPassword) -> Result<()> {
    if session_valid(c, session) {
        Ok(())
    } else {
        Err(kms_err!(
            KmsInvalidState,
            "KMS is not logged in to your CloudHSM cluster {} as {KMS_USER}: its password was changed, or it was deleted or locked out.",
            c.id
        ).with_hint(format!("Disconnect the custom key store, fix {KMS_USER} (changePswd, then UpdateCustomKeyStore with the KeyStorePassword), and reconnect.")))
    }
}

/// A failed authentication under a key object: `InvalidCiphertextException`
/// with no detail.
pub(crate) fn open_failed() -> crate::error::Error {
    kms_err!(
        InvalidCiphertext,
        "The ciphertext is not valid for this key and context."
    )
}

impl CloudHsm {
    /// The configuration check of CreateCustomKeyStore, UpdateCustomKeyStore
    /// (new cluster id) and CreateKey, in this order:
    ///
    /// 1. the cluster exists, else `CloudHsmClusterNotFoundException`;
    /// 2. it is initialized and ACTIVE, else `CloudHsmClusterNotActiveException`;
    /// 3. its (undeleted) private subnets span ≥2 Availability Zones,
    /// 4. its security group allows TCP 2223-2225 in and out with itself as
    ///    source and destination,
    /// 5. it has ≥2 ACTIVE HSMs in different Availability Zones,
    ///
    /// else `CloudHsmClusterInvalidConfigurationException` naming the
    /// requirement and the fix.
    pub(crate) fn check_configuration(&self, id: &ClusterId) -> Result<()> {
        let clusters = self.0.clusters.read();
        let c = clusters.get(id).ok_or_else(|| not_found(id))?;
        if c.state != ClusterState::Active {
            return Err(kms_err!(
                CloudHsmClusterNotActive,
                "The CloudHSM cluster {id} is {}; it must be initialized and ACTIVE.",
                c.state
            )
            .with_hint("Initialize and activate the cluster, then retry."));
        }
        let subnet_azs: BTreeSet<&str> = c
            .subnets
            .values()
            .filter(|s| !s.deleted)
            .map(|s| s.az.as_str())
            .collect();
        if subnet_azs.len() < 2 {
            return Err(kms_err!(
                CloudHsmClusterInvalidConfiguration,
                "The CloudHSM cluster {id} must have private subnets in at least two Availability Zones; it has them in {}.",
                subnet_azs.len()
            ).with_hint("Create a cluster from a backup with subnets in two or more Availability Zones."));
        }
        let sg = &c.security_group;
        if !(sg.inbound_2223_2225 && sg.outbound_2223_2225) {
            return Err(kms_err!(
                CloudHsmClusterInvalidConfiguration,
                "The security group {} of CloudHSM cluster {id} must have inbound and outbound rules that allow TCP ports 2223-2225 with the security group itself as source and destination.",
                sg.id
            ).with_hint("Restore the default rules."));
        }
        let hsm_azs: BTreeSet<&str> = c.active_hsms().map(|h| h.az.as_str()).collect();
        if hsm_azs.len() < 2 {
            return Err(kms_err!(
                CloudHsmClusterInvalidConfiguration,
                "The CloudHSM cluster {id} must contain at least two ACTIVE HSMs in different Availability Zones; it has {} ACTIVE HSM(s) in {} Availability Zone(s).",
                c.active_hsms().count(),
                hsm_azs.len()
            ).with_hint("Add an HSM (cloudhsmv2 CreateHsm) in another Availability Zone."));
        }
        Ok(())
    }

    /// The trust-anchor rule of CreateCustomKeyStore and UpdateCustomKeyStore:
    /// `trust_anchor_pem` must be the `customerCA.crt` that signed the
    /// cluster's certificate, else `IncorrectTrustAnchorException`.
    /// Compared line by line, ignoring surrounding whitespace and blank lines
    /// (so CRLF and a trailing newline do not matter).
    pub(crate) fn check_trust_anchor(&self, id: &ClusterId, trust_anchor_pem: &str) -> Result<()> {
        let clusters = self.0.clusters.read();
        let c = clusters.get(id).ok_or_else(|| not_found(id))?;
        match &c.certificate {
            Some(cert) if pem_lines(&cert.trust_anchor).eq(pem_lines(trust_anchor_pem)) => Ok(()),
            _ => Err(kms_err!(
                IncorrectTrustAnchor,
                "The trust anchor certificate does not match the one that signed the certificate of CloudHSM cluster {id}."
            ).with_hint("Give the content of the customerCA.crt file created when the cluster was initialized.")),
        }
    }

    /// Whether two clusters share a backup history (one was restored from
    /// the other's backup, or both from a third's): the rule behind
    /// `CloudHsmClusterInUseException` (a related cluster is already used by
    /// a store) and `CloudHsmClusterNotRelatedException` (UpdateCustomKeyStore
    /// to an unrelated cluster). Such clusters have the same certificate.
    /// False when either does not exist or was never initialized.
    ///
    /// (The KMS layer compares the cluster certificate it recorded when the
    /// store was created, which still works once the original cluster is
    /// deleted; this is the model's own statement of the rule.)
    #[cfg_attr(
        not(test),
        allow(
            dead_code,
            reason = "KMS compares recorded cluster certificates; used by the model's tests"
        )
    )]
    pub(crate) fn shares_backup_history(&self, a: &ClusterId, b: &ClusterId) -> bool {
        let clusters = self.0.clusters.read();
        match (clusters.get(a), clusters.get(b)) {
            (Some(x), Some(y)) => {
                x.lineage == y.lineage
                    && matches!((&x.certificate, &y.certificate),
                        (Some(cx), Some(cy)) if cx.cluster_certificate == cy.cluster_certificate)
            }
            _ => false,
        }
    }

    /// The cluster certificate of `id` (the same for clusters that share a
    /// backup history), or `None` when the cluster does not exist or was
    /// never initialized. KMS records it so that a store whose cluster was
    /// deleted can still be moved to a cluster restored from its backup.
    pub(crate) fn cluster_certificate(&self, id: &ClusterId) -> Option<String> {
        let clusters = self.0.clusters.read();
        let cert = clusters.get(id)?.certificate.as_ref()?;
        Some(cert.cluster_certificate.clone())
    }

    /// The checks ConnectCustomKeyStore makes before it changes the store's
    /// state: the errors [`Self::connect`] returns as `Err`, without logging
    /// in. A missing cluster is not an error here (it is `CLUSTER_NOT_FOUND`
    /// once the connection is attempted).
    pub(crate) fn connect_precheck(&self, id: &ClusterId) -> Result<()> {
        match self.0.clusters.read().get(id) {
            Some(c) => connect_blocker(c),
            None => Ok(()),
        }
    }

    /// ConnectCustomKeyStore's work on the cluster. KMS logs in as `kmsuser`
    /// with `password`, rotates the password to a random value only KMS
    /// knows (returned), and stays logged in.
    ///
    /// Failures detected at once are `Err` (the store stays DISCONNECTED):
    /// a cluster that exists but is not ACTIVE (`CloudHsmClusterNotActiveException`)
    /// or lacks the security-group rules (`CloudHsmClusterInvalidConfigurationException`).
    /// The others are `Ok(Err(code))` (the store becomes FAILED), checked in
    /// this order: `CLUSTER_NOT_FOUND`, `INTERNAL_ERROR`, `NETWORK_ERRORS`,
    /// `SUBNET_NOT_FOUND` (a configured subnet was deleted),
    /// `INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET` (a subnet has no free address),
    /// `INSUFFICIENT_CLOUDHSM_HSMS` (no ACTIVE HSM), `USER_NOT_FOUND`,
    /// `USER_LOCKED_OUT`, `USER_LOGGED_IN` (logged in elsewhere), and
    /// `INVALID_CREDENTIALS`: a wrong password, which counts as a failed
    /// login (the fifth locks the user out), or a `kmsuser` with 2FA, which
    /// KMS cannot log in to (not counted: no password was tried).
    /// A successful login clears the failed-login count.
    #[cfg_attr(not(test), allow(dead_code, reason = "KMS calls connect_with"))]
    pub(crate) fn connect(
        &self,
        id: &ClusterId,
        password: &CuPassword,
    ) -> Result<Result<CuPassword, ConnectionErrorCode>> {
        self.connect_with(id, password, |_, _| Ok(()))?
    }

    /// [`CloudHsm::connect`], committing the cluster's change (failed-login
    /// count, lockout, rotated password, session) together with the records
    /// `extra` adds for the outcome — KMS's key store — in one transaction.
    /// The outer `Err` is a failed commit (nothing changed); the inner
    /// result is `connect`'s.
    pub(crate) fn connect_with(
        &self,
        id: &ClusterId,
        password: &CuPassword,
        extra: impl FnOnce(&Result<Result<CuPassword, ConnectionErrorCode>>, &mut Batch) -> Result<()>,
    ) -> Result<Result<Result<CuPassword, ConnectionErrorCode>>> {
        self.mutate(id, |c| Ok(self.connect_in(c, password)), extra)
    }

    fn connect_in(
        &self,
        c: Option<&mut Cluster>,
        password: &CuPassword,
    ) -> Result<Result<CuPassword, ConnectionErrorCode>> {
        use ConnectionErrorCode as E;
        let Some(c) = c else {
            return Ok(Err(E::ClusterNotFound));
        };
        connect_blocker(c)?;
        let code = if c.internal_error {
            Some(E::InternalError)
        } else if !c.network_reachable {
            Some(E::NetworkErrors)
        } else if c.subnets.values().any(|s| s.deleted) {
            Some(E::SubnetNotFound)
        } else if c.subnets.values().any(|s| s.free_addresses == 0) {
            Some(E::InsufficientFreeAddressesInSubnet)
        } else if c.active_hsms().next().is_none() {
            Some(E::InsufficientCloudhsmHsms)
        } else {
            None
        };
        if let Some(code) = code {
            return Ok(Err(code));
        }
        let Some(user) = c.users.get_mut(KMS_USER) else {
            return Ok(Err(E::UserNotFound));
        };
        if user.locked_out {
            return Ok(Err(E::UserLockedOut));
        }
        if user.logged_in_elsewhere {
            return Ok(Err(E::UserLoggedIn));
        }
        if user.two_factor {
            return Ok(Err(E::InvalidCredentials));
        }
        if !user.password.matches(password.expose_secret()) {
            user.failed_logins = user.failed_logins.saturating_add(1);
            if user.failed_logins >= MAX_FAILED_LOGINS {
                user.locked_out = true;
            }
            user.kms_session = false;
            return Ok(Err(E::InvalidCredentials));
        }
        let rotated = CuPassword::random(&self.0.rng);
        user.failed_logins = 0;
        user.password = rotated.clone();
        user.kms_session = true;
        Ok(Ok(rotated))
    }

    /// DisconnectCustomKeyStore's work on the cluster: KMS logs its
    /// `kmsuser` session out. Best effort: nothing happens when the cluster
    /// or the user is gone.
    #[cfg_attr(not(test), allow(dead_code, reason = "KMS calls disconnect_with"))]
    pub(crate) fn disconnect(&self, id: &ClusterId) {
        // In memory this cannot fail; durable, a failed commit changes nothing.
        let _ = self.disconnect_with(id, |_| Ok(()));
    }

    /// [`CloudHsm::disconnect`], committing the cluster's change together
    /// with the records `extra` adds, in one transaction.
    pub(crate) fn disconnect_with(
        &self,
        id: &ClusterId,
        extra: impl FnOnce(&mut Batch) -> Result<()>,
    ) -> Result<()> {
        self.mutate(
            id,
            |c| {
                if let Some(u) = c.and_then(|c| c.users.get_mut(KMS_USER)) {
                    u.kms_session = false;
                }
                Ok(())
            },
            |_, batch| extra(batch),
        )
    }

    /// CreateKey's work on the cluster: KMS, logged in as `kmsuser` with
    /// `session`, generates a persistent, non-extractable AES-256 key
    /// labelled `label` (the KMS key ARN), copied to every ACTIVE HSM.
    ///
    /// Errors, in order: `CloudHsmClusterNotFoundException`; the reachability
    /// errors of key use (`KMSInternalException`, `KMSInvalidStateException`);
    /// `CloudHsmClusterInvalidConfigurationException` without ≥2 ACTIVE HSMs
    /// in different Availability Zones; `KMSInvalidStateException` when KMS's
    /// session is no longer valid. A label already in use is an internal
    /// error (KMS labels keys with unique ARNs).
    pub(crate) fn generate_key(
        &self,
        id: &ClusterId,
        label: &str,
        session: &CuPassword,
    ) -> Result<()> {
        let material = KeyMaterial::from_bytes(self.0.rng.array());
        // Checked under the upgradable lock, so that a durable change to the
        // cluster being committed does not block readers behind this writer.
        let clusters = self.0.clusters.upgradable_read();
        let c = clusters.get(id).ok_or_else(|| not_found(id))?;
        reachable(c)?;
        let azs: BTreeSet<&str> = c.active_hsms().map(|h| h.az.as_str()).collect();
        if azs.len() < 2 {
            return Err(kms_err!(
                CloudHsmClusterInvalidConfiguration,
                "The CloudHSM cluster {id} must contain at least two ACTIVE HSMs in different Availability Zones to create a key; it has them in {} Availability Zone(s).",
                azs.len()
            ).with_hint("Add an HSM (cloudhsmv2 CreateHsm) in another Availability Zone."));
        }
        require_session(c, session)?;
        if c.keys.contains_key(label) {
            return Err(Error::internal("duplicate CloudHSM key label"));
        }
        let holders = c.active_hsms().map(|h| h.id.clone()).collect();
        let mut clusters = clusters.upgrade();
        let c = clusters.get_mut(id).ok_or_else(|| not_found(id))?;
        c.keys
            .insert(label.to_owned(), KeyObject::new(material, holders));
        Ok(())
    }

    /// The rules for using a key in a CloudHSM key store: the cluster is
    /// reachable, KMS's session as `kmsuser` is valid (password unchanged,
    /// user neither deleted nor locked out), and an ACTIVE HSM holds the key
    /// object labelled `label`. Otherwise `KMSInvalidStateException` naming
    /// the cause (`KMSInternalException` for an internal cluster error).
    ///
    /// A thread that found the same key object with the same session since
    /// the cluster table last changed takes it from its own cache
    /// (`cipher_cache.rs`): no lock, no shared write. Otherwise one read
    /// lock, released before any AES work (the cipher is lent from the key
    /// object's published cell).
    pub(crate) fn cipher_for(
        &self,
        id: &ClusterId,
        label: &str,
        session: &CuPassword,
    ) -> Result<PublishedRef<Cipher>> {
        let mut at = cipher_cache::Lookup {
            model: self.0.serial,
            generation: self.0.clusters.generation(),
            cluster: id,
            label,
            session,
        };
        if let Some(cipher) = cipher_cache::get(&at) {
            return Ok(cipher);
        }
        let clusters = self.0.clusters.read();
        // Under the read lock no write is in progress: this is the
        // generation of what the lock shows.
        at.generation = self.0.clusters.generation();
        let c = clusters
            .get(id)
            .ok_or_else(|| cannot_communicate(id, "the cluster was not found"))?;
        reachable(c)?;
        require_session(c, session)?;
        if c.active_hsms().next().is_none() {
            return Err(kms_err!(
                KmsInvalidState,
                "The CloudHSM cluster {id} has no ACTIVE HSM."
            )
            .with_hint("Add an HSM (cloudhsmv2 CreateHsm)."));
        }
        let key = c.keys.get(label).ok_or_else(|| {
            kms_err!(
                KmsInvalidState,
                "The key material for {label} is not in the CloudHSM cluster {id}."
            )
        })?;
        if !c.active_hsms().any(|h| key.holders.contains(&h.id)) {
            return Err(kms_err!(
                KmsInvalidState,
                "The key material for {label} is not in any active HSM of cluster {id}."
            ));
        }
        let cipher = key.cell.load().ok_or_else(|| {
            Error::internal("a key object in the cluster table has no published cipher")
        })?;
        cipher_cache::put(&at, &key.cell);
        Ok(cipher)
    }

    /// Encrypts `buf` in place with the key object labelled `label`
    /// (AES-256-GCM) and returns the tag; the rules of [`Self::cipher_for`].
    // The service takes the cipher with `cipher_for` and seals after
    // releasing its store lock; these two serve the model's own tests.
    #[cfg(test)]
    pub(crate) fn seal_in_place(
        &self,
        id: &ClusterId,
        label: &str,
        session: &CuPassword,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN]> {
        let cipher = self.cipher_for(id, label, session)?;
        Ok(cipher.seal_in_place(nonce, aad, buf))
    }

    /// Decrypts `buf` in place with the key object labelled `label`; the
    /// rules of [`Self::cipher_for`]. A failed authentication is
    /// `InvalidCiphertextException` with no detail (and `buf` is zeroed).
    #[cfg(test)]
    #[allow(
        clippy::too_many_arguments,
        reason = "mirrors Cipher::open_in_place plus the key's address"
    )]
    pub(crate) fn open_in_place(
        &self,
        id: &ClusterId,
        label: &str,
        session: &CuPassword,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<()> {
        let cipher = self.cipher_for(id, label, session)?;
        cipher
            .open_in_place(nonce, aad, buf, tag)
            .map_err(|_| open_failed())
    }

    /// GenerateRandom with a CloudHSM store: `n` random bytes from the
    /// cluster, which must be reachable (as for key use) and have an ACTIVE
    /// HSM, else `KMSInvalidStateException` (`KMSInternalException` for an
    /// internal cluster error).
    pub(crate) fn random_bytes(&self, id: &ClusterId, n: usize) -> Result<Plaintext> {
        {
            let clusters = self.0.clusters.read();
            let c = clusters
                .get(id)
                .ok_or_else(|| cannot_communicate(id, "the cluster was not found"))?;
            reachable(c)?;
            if c.active_hsms().next().is_none() {
                return Err(kms_err!(
                    KmsInvalidState,
                    "The CloudHSM cluster {id} has no ACTIVE HSM."
                )
                .with_hint("Add an HSM (cloudhsmv2 CreateHsm)."));
            }
        }
        let mut out = Plaintext::zeroed(n);
        self.0.rng.fill(out.as_mut_slice());
        Ok(out)
    }

    /// Deletes the key object labelled `label`, as KMS does when a key's
    /// deletion waiting period ends. Best effort: returns whether it was
    /// deleted (false when the cluster is missing or unreachable, KMS's
    /// session is not valid, or there is no such key object; the key
    /// material then stays in the cluster for its owner to delete).
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "KMS deletes through key_deletable")
    )]
    pub(crate) fn delete_key(&self, id: &ClusterId, label: &str, session: &CuPassword) -> bool {
        if !self.key_deletable(id, label, session) {
            return false;
        }
        self.discard_key_object(id, label);
        true
    }

    /// Whether KMS, logged in with `session`, can delete key object `label`
    /// now: the rules of [`CloudHsm::delete_key`], without deleting.
    pub(crate) fn key_deletable(&self, id: &ClusterId, label: &str, session: &CuPassword) -> bool {
        let clusters = self.0.clusters.read();
        clusters.get(id).is_some_and(|c| {
            reachable(c).is_ok() && session_valid(c, session) && c.keys.contains_key(label)
        })
    }
}
