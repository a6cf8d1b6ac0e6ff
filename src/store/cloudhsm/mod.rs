//! The modelled AWS CloudHSM service (cloudhsmv2) of one account and Region:
//! clusters, their subnets and security group, HSMs, crypto users and the
//! persistent AES-256 key objects KMS creates in them.
//!
//! What lives here: the [`CloudHsm`] handle, the provisioning calls a test or
//! a service makes (`create_cluster`, `create_hsm`, `initialize_cluster`, …),
//! the fault switches tests use to break a cluster on purpose, the
//! cloudhsmv2 `DescribeClusters` output shape, and the crate-visible
//! operations the KMS layer calls (configuration checks, the connect
//! sequence, key generation and use) in `kms_ops`, with the per-thread cache
//! of checked key objects in `cipher_cache`.
//!
//! What does not: anything about KMS keys, key stores or connection states.
//! This module never sees a `Kms` type; it answers with cloudhsmv2 errors,
//! `ConnectionErrorCode`s and the KMS exceptions the docs attach to a
//! cluster's condition.
//!
//! Rules chosen where the documentation is silent:
//!
//! - Provisioning follows the CloudHSM getting-started order: create the
//!   cluster (UNINITIALIZED), create an HSM, initialize it with the signed
//!   certificate (INITIALIZED; needs an ACTIVE HSM, whose CSR is signed),
//!   activate it with the CLI (ACTIVE; needs INITIALIZED and an ACTIVE HSM),
//!   then create crypto users (needs ACTIVE).
//! - HSMs are ACTIVE as soon as they are created. A new HSM is cloned from the
//!   cluster's latest backup, so it receives a copy of every key object.
//! - A cluster created from a backup shares the source's certificate, trust
//!   anchor and backup lineage, and copies its users and key objects. It is
//!   INITIALIZED (no HSMs) and becomes ACTIVE when its first HSM is created:
//!   it was activated before the backup was taken.
//! - Every modelled subnet is private. HSMs take one address from their
//!   subnet; the connect check needs one free address in every subnet but
//!   does not consume it.

mod cipher_cache;
mod clusters;
mod kms_ops;
mod persist;
#[cfg(test)]
mod tests;

pub(crate) use kms_ops::open_failed;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::clock::{Clock, SystemClock, Timestamp};
use crate::crypto::material::REDACTED;
use crate::crypto::rng::SecureRng;
use crate::crypto::{Cipher, KeyMaterial};
use crate::error::{Result, kms_err};
use crate::ids::{ClusterId, HsmId};
use crate::macros::wire_enum;
use crate::storage::Storage;
use crate::sync::Published;

/// The only HSM type modelled.
pub const HSM_TYPE: &str = "hsm1.medium";
/// The name of the crypto user KMS logs in as.
pub const KMS_USER: &str = "kmsuser";
/// Failed logins after which CloudHSM locks a crypto user out.
pub const MAX_FAILED_LOGINS: u8 = 5;
/// Free IP addresses in a newly created subnet.
pub const DEFAULT_FREE_ADDRESSES: u32 = 250;

wire_enum! {
    /// cloudhsmv2 `ClusterState`.
    pub enum ClusterState ("State") {
        /// Being created.
        CreateInProgress => "CREATE_IN_PROGRESS",
        /// Created; not yet initialized with a signed certificate.
        Uninitialized => "UNINITIALIZED",
        /// Initialization in progress.
        InitializeInProgress => "INITIALIZE_IN_PROGRESS",
        /// Initialized; not yet activated.
        Initialized => "INITIALIZED",
        /// Initialized and activated: usable.
        Active => "ACTIVE",
        /// Being updated.
        UpdateInProgress => "UPDATE_IN_PROGRESS",
        /// Being modified.
        ModifyInProgress => "MODIFY_IN_PROGRESS",
        /// A change is being rolled back.
        RollbackInProgress => "ROLLBACK_IN_PROGRESS",
        /// Being deleted.
        DeleteInProgress => "DELETE_IN_PROGRESS",
        /// Deleted.
        Deleted => "DELETED",
        /// Degraded.
        Degraded => "DEGRADED",
    }
}

wire_enum! {
    /// cloudhsmv2 `HsmState`.
    pub enum HsmState ("State") {
        /// Being created.
        CreateInProgress => "CREATE_IN_PROGRESS",
        /// Usable.
        Active => "ACTIVE",
        /// Degraded: not usable for cryptography.
        Degraded => "DEGRADED",
        /// Being deleted.
        DeleteInProgress => "DELETE_IN_PROGRESS",
        /// Deleted.
        Deleted => "DELETED",
    }
}

/// A crypto user's password: zeroized on drop, redacted in `Debug`, never
/// serialized, compared in constant time.
///
/// ```
/// use kms_keystore::cloudhsm::CuPassword;
/// let p = CuPassword::new("kmsPswd");
/// assert!(!format!("{p:?}").contains("kmsPswd"));
/// ```
#[derive(Clone)]
pub struct CuPassword(Arc<Zeroizing<String>>);

/// The password lives in a `Zeroizing` buffer, shared by the clones:
/// dropping the last clone clears it.
impl zeroize::ZeroizeOnDrop for CuPassword {}

impl CuPassword {
    /// Wraps a password (not validated; see [`CloudHsm::create_user`]).
    pub fn new(password: &str) -> CuPassword {
        CuPassword(Arc::new(Zeroizing::new(password.to_owned())))
    }

    /// The password's buffer, by identity: clones share it. A `Weak`
    /// keeps no password alive, and holds the address against reuse.
    pub(crate) fn session(&self) -> std::sync::Weak<Zeroizing<String>> {
        Arc::downgrade(&self.0)
    }

    /// True if `session` is this password's buffer.
    pub(crate) fn is_session(&self, session: &std::sync::Weak<Zeroizing<String>>) -> bool {
        std::ptr::eq(Arc::as_ptr(&self.0), session.as_ptr())
    }

    /// The password. Callers must not log or persist it unprotected.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// A random 32-character alphanumeric password.
    pub(crate) fn random(rng: &SecureRng) -> CuPassword {
        const ALPHABET: &[u8; 62] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut s = Zeroizing::new(String::with_capacity(32));
        while s.len() < 32 {
            let mut bytes = Zeroizing::new([0u8; 32]);
            rng.fill(bytes.as_mut());
            // Rejection sampling keeps the characters uniform.
            for &b in bytes.iter().filter(|&&b| b < 248) {
                if s.len() < 32 {
                    s.push(char::from(ALPHABET[usize::from(b % 62)]));
                }
            }
        }
        CuPassword(Arc::new(s))
    }

    fn matches(&self, other: &str) -> bool {
        constant_time_eq::constant_time_eq(self.0.as_bytes(), other.as_bytes())
    }
}

impl PartialEq for CuPassword {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        self.matches(other.expose_secret())
    }
}
impl Eq for CuPassword {}

impl fmt::Debug for CuPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CuPassword")
            .field(&format_args!("{REDACTED}"))
            .finish()
    }
}

/// A subnet of a cluster's configuration.
#[derive(Clone, Debug)]
struct Subnet {
    az: String,
    /// The third octet of the subnet's `10.0.x.0/24` range.
    octet: u8,
    free_addresses: u32,
    next_host: u8,
    deleted: bool,
}

/// The cluster's security group, reduced to the rules KMS needs.
#[derive(Clone, Debug)]
struct SecurityGroup {
    id: String,
    /// Inbound TCP 2223-2225 with the group itself as the source.
    inbound_2223_2225: bool,
    /// Outbound TCP 2223-2225 with the group itself as the destination.
    outbound_2223_2225: bool,
}

/// The certificate issued at initialization and the trust anchor
/// (`customerCA.crt`) that signed it.
#[derive(Clone, Debug)]
struct Certificate {
    cluster_certificate: String,
    trust_anchor: String,
}

/// One HSM of a cluster.
#[derive(Clone, Debug)]
struct Hsm {
    id: HsmId,
    az: String,
    subnet_id: String,
    eni_id: String,
    eni_ip: String,
    state: HsmState,
    state_message: String,
}

/// A crypto user (CU).
#[derive(Clone, Debug)]
struct CryptoUser {
    password: CuPassword,
    two_factor: bool,
    failed_logins: u8,
    locked_out: bool,
    /// Logged in by someone other than KMS.
    logged_in_elsewhere: bool,
    /// KMS holds a session as this user.
    kms_session: bool,
}

/// A persistent, non-extractable AES-256 key object: the expanded cipher
/// (zeroized on drop) for use, and the material (zeroized, redacted) only so
/// durable storage can seal it at rest. Neither leaves the cluster otherwise.
///
/// The cipher is also published in a cell of the object's own, which the
/// per-thread cipher caches hold (`cipher_cache.rs`): a copy of the object
/// gets a cell of its own, and dropping the object withdraws its cell, so
/// a cache keeps no cipher alive past the object it came from.
#[derive(Debug)]
struct KeyObject {
    cipher: Arc<Cipher>,
    cell: Arc<Published<Cipher>>,
    material: KeyMaterial,
    /// The HSMs that hold a copy.
    holders: Vec<HsmId>,
}

impl KeyObject {
    /// A key object of `material`, held by `holders`.
    fn new(material: KeyMaterial, holders: Vec<HsmId>) -> KeyObject {
        let cipher = Arc::new(Cipher::new(&material));
        KeyObject {
            cell: Arc::new(Published::new(Arc::clone(&cipher))),
            cipher,
            material,
            holders,
        }
    }
}

impl Clone for KeyObject {
    fn clone(&self) -> KeyObject {
        KeyObject {
            cipher: Arc::clone(&self.cipher),
            cell: Arc::new(Published::new(Arc::clone(&self.cipher))),
            material: self.material.clone(),
            holders: self.holders.clone(),
        }
    }
}

impl Drop for KeyObject {
    fn drop(&mut self) {
        self.cell.withdraw();
    }
}

/// A modelled cloudhsmv2 cluster.
#[derive(Clone, Debug)]
struct Cluster {
    id: ClusterId,
    state: ClusterState,
    vpc_id: String,
    security_group: SecurityGroup,
    subnets: BTreeMap<String, Subnet>,
    create_timestamp: Timestamp,
    certificate: Option<Certificate>,
    /// Shared by clusters restored from one another's backups.
    lineage: [u8; 16],
    /// Created from a backup and not yet given an HSM.
    awaiting_first_hsm: bool,
    hsms: Vec<Hsm>,
    users: BTreeMap<String, CryptoUser>,
    keys: BTreeMap<String, KeyObject>,
    network_reachable: bool,
    internal_error: bool,
}

impl Cluster {
    fn active_hsms(&self) -> impl Iterator<Item = &Hsm> {
        self.hsms.iter().filter(|h| h.state == HsmState::Active)
    }

    fn hsm_mut(&mut self, id: &HsmId) -> Result<&mut Hsm> {
        let cluster = &self.id;
        self.hsms.iter_mut().find(|h| &h.id == id).ok_or_else(|| {
            kms_err!(
                CloudHsmResourceNotFound,
                "HSM {id} does not exist in cluster {cluster}."
            )
        })
    }

    fn user_mut(&mut self, name: &str) -> Result<&mut CryptoUser> {
        let cluster = &self.id;
        self.users.get_mut(name).ok_or_else(|| {
            kms_err!(
                CloudHsmInvalidRequest,
                "Crypto user {name} does not exist in cluster {cluster}."
            )
        })
    }

    fn subnet_mut(&mut self, subnet_id: &str) -> Result<&mut Subnet> {
        let cluster = &self.id;
        self.subnets.get_mut(subnet_id).ok_or_else(|| {
            kms_err!(
                CloudHsmResourceNotFound,
                "Subnet {subnet_id} is not in the configuration of cluster {cluster}."
            )
        })
    }

    fn require_state(&self, want: ClusterState, doing: &str) -> Result<()> {
        if self.state == want {
            Ok(())
        } else {
            Err(kms_err!(
                CloudHsmInvalidRequest,
                "Cannot {doing} cluster {}: it is {}, and must be {want}.",
                self.id,
                self.state
            ))
        }
    }

    fn require_active_hsm(&self, doing: &str) -> Result<()> {
        if self.active_hsms().next().is_some() {
            Ok(())
        } else {
            Err(kms_err!(
                CloudHsmInvalidRequest,
                "Cannot {doing} cluster {}: it has no ACTIVE HSM.",
                self.id
            )
            .with_hint("Create an HSM first (CreateHsm)."))
        }
    }
}

struct Inner {
    rng: Arc<SecureRng>,
    clock: Arc<dyn Clock>,
    clusters: clusters::Clusters,
    /// This model's serial number, for the per-thread cipher cache.
    serial: u64,
    /// Where changes are committed (the owning Kms's storage).
    storage: Arc<Storage>,
}

/// The CloudHSM clusters of one account and Region: a cheap-to-clone handle
/// (clones share the clusters), `Send + Sync`.
///
/// ```
/// use kms_keystore::cloudhsm::CloudHsm;
/// let hsm = CloudHsm::standalone(Some(7));
/// let (cluster, _trust_anchor) = hsm.provision_ready_cluster(&["us-east-1a", "us-east-1b"], "kmsPswd").unwrap();
/// let out = hsm.describe_clusters(Some(&[cluster]));
/// assert_eq!(out.clusters[0].hsms.len(), 2);
/// ```
#[derive(Clone)]
pub struct CloudHsm(Arc<Inner>);

impl fmt::Debug for CloudHsm {
    /// Shows the clusters; passwords print redacted and key objects show
    /// no material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudHsm")
            .field("clusters", &*self.0.clusters.read())
            .finish_non_exhaustive()
    }
}

/// A cloudhsmv2 `DescribeClusters` response.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeClustersOutput {
    /// The clusters.
    pub clusters: Vec<ClusterDescription>,
}

/// A cloudhsmv2 `Cluster`, as `DescribeClusters` shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ClusterDescription {
    /// Always `DEFAULT`.
    pub backup_policy: &'static str,
    /// The cluster's certificates.
    pub certificates: Certificates,
    /// The cluster id.
    pub cluster_id: ClusterId,
    /// When the cluster was created (epoch seconds).
    pub create_timestamp: Timestamp,
    /// The HSMs.
    pub hsms: Vec<HsmDescription>,
    /// Always `hsm1.medium`.
    pub hsm_type: &'static str,
    /// The security group id, `sg-…`.
    pub security_group: String,
    /// The cluster state.
    pub state: ClusterState,
    /// Subnet id → Availability Zone.
    pub subnet_mapping: BTreeMap<String, String>,
    /// The VPC id, `vpc-…`.
    pub vpc_id: String,
}

/// cloudhsmv2 `Certificates`.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Certificates {
    /// The cluster certificate, present once the cluster is initialized.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_certificate: Option<String>,
}

/// A cloudhsmv2 `Hsm`.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct HsmDescription {
    /// The HSM's Availability Zone.
    pub availability_zone: String,
    /// The cluster it belongs to.
    pub cluster_id: ClusterId,
    /// Its network interface.
    pub eni_id: String,
    /// Its network interface's address.
    pub eni_ip: String,
    /// The HSM id.
    pub hsm_id: HsmId,
    /// Its state.
    pub state: HsmState,
    /// A description of the state.
    pub state_message: String,
    /// Its subnet.
    pub subnet_id: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn pem(body: &[u8]) -> String {
    let b64 = crate::base64_blob::encode(body);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn validate_password(password: &str) -> Result<()> {
    if (7..=32).contains(&password.len()) && password.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(kms_err!(
            CloudHsmInvalidRequest,
            "The password must be 7-32 alphanumeric characters (case-sensitive, no special characters)."
        ))
    }
}

impl CloudHsm {
    /// The clusters of one account and Region, drawing ids and key material
    /// from `rng` and timestamps from `clock`, committing changes to
    /// `storage`.
    pub(crate) fn new(
        rng: Arc<SecureRng>,
        clock: Arc<dyn Clock>,
        storage: Arc<Storage>,
    ) -> CloudHsm {
        CloudHsm(Arc::new(Inner {
            rng,
            clock,
            clusters: clusters::Clusters::new(),
            serial: cipher_cache::serial(),
            storage,
        }))
    }

    /// A service of its own, for tests: ids and key material are
    /// deterministic when `seed` is given; time is the system clock.
    pub fn standalone(seed: Option<u64>) -> CloudHsm {
        CloudHsm::new(
            Arc::new(SecureRng::new(seed)),
            Arc::new(SystemClock),
            Arc::new(Storage::memory()),
        )
    }

    fn random_hex<const N: usize>(&self) -> String {
        hex(&self.0.rng.array::<N>())
    }

    // ----- Provisioning -------------------------------------------------

    /// cloudhsmv2 CreateCluster: a cluster with a subnet in each given
    /// Availability Zone, in state UNINITIALIZED, with the default
    /// security-group rules (TCP 2223-2225 in and out, to and from itself)
    /// and no HSMs.
    ///
    /// # Errors
    /// `CloudHsmInvalidRequestException` when `subnets` is empty, names a
    /// subnet twice, or has an empty subnet id or Availability Zone.
    pub fn create_cluster(&self, subnets: &[(&str, &str)]) -> Result<ClusterId> {
        self.create_cluster_as(None, subnets)
    }

    /// [`CloudHsm::create_cluster`] with a chosen cluster id (`None`: a
    /// random one), for fixtures that name their clusters.
    ///
    /// # Errors
    /// As [`CloudHsm::create_cluster`]; `CloudHsmInvalidRequestException`
    /// when a cluster has that id already.
    pub fn create_cluster_as(
        &self,
        id: Option<&ClusterId>,
        subnets: &[(&str, &str)],
    ) -> Result<ClusterId> {
        let cluster = self.new_cluster(id, subnets)?;
        let id = cluster.id.clone();
        self.insert_cluster(cluster)?;
        Ok(id)
    }

    /// A new UNINITIALIZED cluster (not yet added): CreateCluster's checks.
    fn new_cluster(&self, id: Option<&ClusterId>, subnets: &[(&str, &str)]) -> Result<Cluster> {
        let mut map = BTreeMap::new();
        for (i, (subnet_id, az)) in subnets.iter().enumerate() {
            if subnet_id.is_empty() || az.is_empty() {
                return Err(kms_err!(
                    CloudHsmInvalidRequest,
                    "Subnet ids and Availability Zones must not be empty."
                ));
            }
            let subnet = Subnet {
                az: (*az).to_owned(),
                octet: u8::try_from(i).unwrap_or(u8::MAX),
                free_addresses: DEFAULT_FREE_ADDRESSES,
                next_host: 11,
                deleted: false,
            };
            if map.insert((*subnet_id).to_owned(), subnet).is_some() {
                return Err(kms_err!(
                    CloudHsmInvalidRequest,
                    "Subnet {subnet_id} is given more than once."
                ));
            }
        }
        if map.is_empty() {
            return Err(kms_err!(
                CloudHsmInvalidRequest,
                "A cluster needs at least one subnet (SubnetIds)."
            ));
        }
        let id = match id {
            Some(id) => id.clone(),
            None => ClusterId::from_random_bytes(self.0.rng.array()),
        };
        let cluster = Cluster {
            id: id.clone(),
            state: ClusterState::Uninitialized,
            vpc_id: format!("vpc-{}", self.random_hex::<4>()),
            security_group: SecurityGroup {
                id: format!("sg-{}", self.random_hex::<4>()),
                inbound_2223_2225: true,
                outbound_2223_2225: true,
            },
            subnets: map,
            create_timestamp: self.0.clock.now(),
            certificate: None,
            lineage: self.0.rng.array(),
            awaiting_first_hsm: false,
            hsms: Vec::new(),
            users: BTreeMap::new(),
            keys: BTreeMap::new(),
            network_reachable: true,
            internal_error: false,
        };
        Ok(cluster)
    }

    /// cloudhsmv2 InitializeCluster: records `trust_anchor_pem` (the content
    /// of `customerCA.crt`) and issues the cluster certificate it signed.
    /// The cluster moves from UNINITIALIZED to INITIALIZED.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster;
    /// `CloudHsmInvalidRequestException` unless the cluster is UNINITIALIZED
    /// with an ACTIVE HSM (whose certificate signing request is signed), or
    /// when the trust anchor is not a PEM certificate.
    pub fn initialize_cluster(&self, id: &ClusterId, trust_anchor_pem: &str) -> Result<()> {
        let rng = Arc::clone(&self.0.rng);
        self.with_cluster(id, |c| {
            c.require_state(ClusterState::Uninitialized, "initialize")?;
            c.require_active_hsm("initialize")?;
            if !trust_anchor_pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(kms_err!(
                    CloudHsmInvalidRequest,
                    "The trust anchor must be a PEM certificate (the content of customerCA.crt)."
                ));
            }
            let mut body = format!("cluster-certificate {}; issuer ", c.id).into_bytes();
            body.extend_from_slice(&trust_anchor_pem.as_bytes()[..trust_anchor_pem.len().min(48)]);
            body.extend_from_slice(&rng.array::<16>());
            c.certificate = Some(Certificate {
                cluster_certificate: pem(&body),
                trust_anchor: trust_anchor_pem.to_owned(),
            });
            c.state = ClusterState::Initialized;
            Ok(())
        })
    }

    /// Activates the cluster, the CloudHSM CLI's step after initialization:
    /// INITIALIZED → ACTIVE.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster;
    /// `CloudHsmInvalidRequestException` unless it is INITIALIZED with an
    /// ACTIVE HSM (the CLI connects to one).
    pub fn activate_cluster(&self, id: &ClusterId) -> Result<()> {
        self.with_cluster(id, |c| {
            c.require_state(ClusterState::Initialized, "activate")?;
            c.require_active_hsm("activate")?;
            c.state = ClusterState::Active;
            Ok(())
        })
    }

    /// cloudhsmv2 CreateHsm: an HSM in the cluster's subnet in `az`, ACTIVE
    /// at once, holding a copy of every key object (it is cloned from the
    /// cluster's latest backup). Takes one address of the subnet. A cluster
    /// restored from a backup becomes ACTIVE with its first HSM.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster;
    /// `CloudHsmInvalidRequestException` when the cluster has no (undeleted)
    /// subnet in `az`, the subnet has no free address, or the cluster is
    /// being deleted or deleted.
    pub fn create_hsm(&self, id: &ClusterId, az: &str) -> Result<HsmId> {
        let hsm_id = HsmId::from_random_bytes(self.0.rng.array());
        let eni_id = format!("eni-{}", self.random_hex::<4>());
        self.with_cluster(id, |c| {
            if matches!(
                c.state,
                ClusterState::DeleteInProgress | ClusterState::Deleted
            ) {
                return Err(kms_err!(
                    CloudHsmInvalidRequest,
                    "Cluster {} is {}.",
                    c.id,
                    c.state
                ));
            }
            let cluster_id = c.id.clone();
            let (subnet_id, subnet) = c
                .subnets
                .iter_mut()
                .find(|(_, s)| s.az == az && !s.deleted)
                .ok_or_else(|| {
                    kms_err!(
                        CloudHsmInvalidRequest,
                        "Cluster {cluster_id} has no subnet in Availability Zone {az}."
                    )
                    .with_hint("Choose an Availability Zone of the cluster's subnet mapping.")
                })?;
            if subnet.free_addresses == 0 {
                return Err(kms_err!(
                    CloudHsmInvalidRequest,
                    "Subnet {subnet_id} has no free IP address for a new HSM."
                )
                .with_hint("Free an address in the subnet."));
            }
            subnet.free_addresses -= 1;
            let eni_ip = format!("10.0.{}.{}", subnet.octet, subnet.next_host);
            subnet.next_host = subnet.next_host.wrapping_add(1).max(4);
            let hsm = Hsm {
                id: hsm_id.clone(),
                az: az.to_owned(),
                subnet_id: subnet_id.clone(),
                eni_id,
                eni_ip,
                state: HsmState::Active,
                state_message: "HSM created.".to_owned(),
            };
            c.hsms.push(hsm);
            for key in c.keys.values_mut() {
                key.holders.push(hsm_id.clone());
            }
            if c.awaiting_first_hsm {
                c.awaiting_first_hsm = false;
                if c.state == ClusterState::Initialized {
                    c.state = ClusterState::Active;
                }
            }
            Ok(hsm_id.clone())
        })
    }

    /// cloudhsmv2 DeleteHsm: removes the HSM (and its copies of key objects)
    /// and frees its address. This is also the "remove an HSM" fault.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster or HSM.
    pub fn delete_hsm(&self, id: &ClusterId, hsm: &HsmId) -> Result<()> {
        self.with_cluster(id, |c| {
            let subnet_id = c.hsm_mut(hsm)?.subnet_id.clone();
            c.hsms.retain(|h| &h.id != hsm);
            for key in c.keys.values_mut() {
                key.holders.retain(|h| h != hsm);
            }
            if let Some(s) = c.subnets.get_mut(&subnet_id) {
                s.free_addresses = s.free_addresses.saturating_add(1);
            }
            Ok(())
        })
    }

    /// cloudhsmv2 CreateCluster with a `SourceBackupId`: a cluster, with new
    /// subnets, restored from the latest backup of `source`. It shares the
    /// source's cluster certificate, trust anchor and backup lineage, and
    /// copies its crypto users (logged out) and key objects. It is
    /// INITIALIZED with no HSMs and becomes ACTIVE when its first HSM is
    /// created.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown source;
    /// `CloudHsmInvalidRequestException` when the source was never
    /// initialized (it has no backup) or `subnets` is not valid (as for
    /// [`CloudHsm::create_cluster`]).
    pub fn create_cluster_from_backup(
        &self,
        source: &ClusterId,
        subnets: &[(&str, &str)],
    ) -> Result<ClusterId> {
        self.create_cluster_from_backup_as(None, source, subnets)
    }

    /// [`CloudHsm::create_cluster_from_backup`] with a chosen cluster id
    /// (`None`: a random one).
    ///
    /// # Errors
    /// As [`CloudHsm::create_cluster_from_backup`] and
    /// [`CloudHsm::create_cluster_as`].
    pub fn create_cluster_from_backup_as(
        &self,
        id: Option<&ClusterId>,
        source: &ClusterId,
        subnets: &[(&str, &str)],
    ) -> Result<ClusterId> {
        let src = {
            let clusters = self.0.clusters.read();
            let c = clusters.get(source).ok_or_else(|| {
                kms_err!(CloudHsmResourceNotFound, "Cluster {source} does not exist.")
            })?;
            if c.certificate.is_none() {
                return Err(kms_err!(
                    CloudHsmInvalidRequest,
                    "Cluster {source} has no backup: it was never initialized."
                ));
            }
            c.clone()
        };
        let mut c = self.new_cluster(id, subnets)?;
        c.certificate = src.certificate;
        c.lineage = src.lineage;
        c.users = src.users;
        for u in c.users.values_mut() {
            u.kms_session = false;
            u.logged_in_elsewhere = false;
        }
        c.keys = src.keys;
        for k in c.keys.values_mut() {
            k.holders.clear();
        }
        c.state = ClusterState::Initialized;
        c.awaiting_first_hsm = true;
        let id = c.id.clone();
        // One commit: the restored cluster appears whole or not at all.
        self.insert_cluster(c)?;
        Ok(id)
    }

    /// Creates a crypto user (CU), as `createUser CU <name> <password>` does.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster;
    /// `CloudHsmInvalidRequestException` unless the cluster is ACTIVE, when
    /// the user exists, or when the password is not 7-32 alphanumeric
    /// characters.
    pub fn create_user(
        &self,
        id: &ClusterId,
        name: &str,
        password: &str,
        two_factor: bool,
    ) -> Result<()> {
        validate_password(password)?;
        if name.is_empty() || name.len() > 31 {
            return Err(kms_err!(
                CloudHsmInvalidRequest,
                "A user name must be 1-31 characters."
            ));
        }
        self.with_cluster(id, |c| {
            c.require_state(ClusterState::Active, "create a user in")?;
            if c.users.contains_key(name) {
                return Err(kms_err!(
                    CloudHsmInvalidRequest,
                    "User {name} already exists in cluster {}.",
                    c.id
                ));
            }
            c.users.insert(
                name.to_owned(),
                CryptoUser {
                    password: CuPassword::new(password),
                    two_factor,
                    failed_logins: 0,
                    locked_out: false,
                    logged_in_elsewhere: false,
                    kms_session: false,
                },
            );
            Ok(())
        })
    }

    /// Changes a crypto user's password, as the crypto officer's `changePswd`
    /// does: it also clears the failed-login count and the lockout, and ends
    /// KMS's session as the user. Changing `kmsuser`'s password behind KMS's
    /// back is how a test makes KMS's session invalid.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster;
    /// `CloudHsmInvalidRequestException` for an unknown user or a password
    /// that is not 7-32 alphanumeric characters.
    pub fn change_password(&self, id: &ClusterId, name: &str, new_password: &str) -> Result<()> {
        validate_password(new_password)?;
        self.with_cluster(id, |c| {
            let u = c.user_mut(name)?;
            u.password = CuPassword::new(new_password);
            u.failed_logins = 0;
            u.locked_out = false;
            u.kms_session = false;
            Ok(())
        })
    }

    /// Deletes a crypto user.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster;
    /// `CloudHsmInvalidRequestException` for an unknown user.
    pub fn delete_user(&self, id: &ClusterId, name: &str) -> Result<()> {
        self.with_cluster(id, |c| {
            c.user_mut(name)?;
            c.users.remove(name);
            Ok(())
        })
    }

    /// A cluster that meets every KMS requirement: a private subnet in each
    /// Availability Zone of `azs`, one ACTIVE HSM per Availability Zone,
    /// initialized with a fresh trust anchor, activated, and a `kmsuser` CU
    /// with `kmsuser_password`. Returns the cluster id and the trust anchor
    /// (the `customerCA.crt` content to give CreateCustomKeyStore).
    ///
    /// # Errors
    /// As the calls it makes: an empty or repeated `azs`, or a password that
    /// is not 7-32 alphanumeric characters, is `CloudHsmInvalidRequestException`.
    pub fn provision_ready_cluster(
        &self,
        azs: &[&str],
        kmsuser_password: &str,
    ) -> Result<(ClusterId, String)> {
        validate_password(kmsuser_password)?;
        let subnet_ids: Vec<String> = azs
            .iter()
            .map(|_| format!("subnet-{}", self.random_hex::<4>()))
            .collect();
        let subnets: Vec<(&str, &str)> = subnet_ids
            .iter()
            .map(String::as_str)
            .zip(azs.iter().copied())
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        if !azs.iter().all(|az| seen.insert(*az)) {
            return Err(kms_err!(
                CloudHsmInvalidRequest,
                "Each Availability Zone may be given once."
            ));
        }
        let id = self.create_cluster(&subnets)?;
        for az in azs {
            self.create_hsm(&id, az)?;
        }
        let mut ca = b"customerCA ".to_vec();
        ca.extend_from_slice(&self.0.rng.array::<32>());
        let trust_anchor = pem(&ca);
        self.initialize_cluster(&id, &trust_anchor)?;
        self.activate_cluster(&id)?;
        self.create_user(&id, KMS_USER, kmsuser_password, false)?;
        Ok((id, trust_anchor))
    }

    // ----- Fault switches -----------------------------------------------

    /// Fault: deletes a subnet of the cluster's configuration (it stays in
    /// the subnet mapping, as the configuration cannot change). Connect then
    /// fails with `SUBNET_NOT_FOUND`.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster or subnet.
    pub fn delete_subnet(&self, id: &ClusterId, subnet_id: &str) -> Result<()> {
        self.with_cluster(id, |c| {
            c.subnet_mut(subnet_id)?.deleted = true;
            Ok(())
        })
    }

    /// Fault (and its repair): sets how many free addresses a subnet has;
    /// `0` makes connect fail with `INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET`.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster or subnet.
    pub fn set_subnet_free_addresses(
        &self,
        id: &ClusterId,
        subnet_id: &str,
        free: u32,
    ) -> Result<()> {
        self.with_cluster(id, |c| {
            c.subnet_mut(subnet_id)?.free_addresses = free;
            Ok(())
        })
    }

    /// Fault: uses up every free address of a subnet
    /// (`set_subnet_free_addresses(…, 0)`).
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster or subnet.
    pub fn exhaust_subnet(&self, id: &ClusterId, subnet_id: &str) -> Result<()> {
        self.set_subnet_free_addresses(id, subnet_id, 0)
    }

    /// Fault (and its repair): whether the security group has the inbound
    /// and the outbound TCP 2223-2225 rule to and from itself.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster.
    pub fn set_security_group_rules(
        &self,
        id: &ClusterId,
        inbound: bool,
        outbound: bool,
    ) -> Result<()> {
        self.with_cluster(id, |c| {
            c.security_group.inbound_2223_2225 = inbound;
            c.security_group.outbound_2223_2225 = outbound;
            Ok(())
        })
    }

    /// Fault: removes both TCP 2223-2225 rules from the security group.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster.
    pub fn break_security_group(&self, id: &ClusterId) -> Result<()> {
        self.set_security_group_rules(id, false, false)
    }

    /// Fault (and its repair): sets an HSM's state, with a matching state
    /// message. Only ACTIVE HSMs serve KMS.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster or HSM.
    pub fn set_hsm_state(&self, id: &ClusterId, hsm: &HsmId, state: HsmState) -> Result<()> {
        self.with_cluster(id, |c| {
            let h = c.hsm_mut(hsm)?;
            h.state = state;
            h.state_message = match state {
                HsmState::Active => "HSM created.",
                HsmState::Degraded => "HSM is degraded.",
                HsmState::CreateInProgress => "HSM is being created.",
                HsmState::DeleteInProgress => "HSM is being deleted.",
                HsmState::Deleted => "HSM deleted.",
            }
            .to_owned();
            Ok(())
        })
    }

    /// Fault: the HSM becomes DEGRADED.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster or HSM.
    pub fn degrade_hsm(&self, id: &ClusterId, hsm: &HsmId) -> Result<()> {
        self.set_hsm_state(id, hsm, HsmState::Degraded)
    }

    /// Fault: locks a crypto user out, as five failed logins do. A password
    /// change (`change_password`) unlocks it.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster;
    /// `CloudHsmInvalidRequestException` for an unknown user.
    pub fn lock_out_user(&self, id: &ClusterId, name: &str) -> Result<()> {
        self.with_cluster(id, |c| {
            let u = c.user_mut(name)?;
            u.locked_out = true;
            u.failed_logins = u.failed_logins.max(MAX_FAILED_LOGINS);
            u.kms_session = false;
            Ok(())
        })
    }

    /// Fault (and its repair): whether someone other than KMS is logged in as
    /// the user (for example `kmsuser` in `cloudhsm_mgmt_util`). Connect then
    /// fails with `USER_LOGGED_IN`.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster;
    /// `CloudHsmInvalidRequestException` for an unknown user.
    pub fn set_logged_in_elsewhere(
        &self,
        id: &ClusterId,
        name: &str,
        logged_in: bool,
    ) -> Result<()> {
        self.with_cluster(id, |c| {
            c.user_mut(name)?.logged_in_elsewhere = logged_in;
            Ok(())
        })
    }

    /// Fault: deletes the key object labelled `label` from every HSM of the
    /// cluster.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster or label.
    pub fn delete_key_material(&self, id: &ClusterId, label: &str) -> Result<()> {
        self.with_cluster(id, |c| {
            c.keys.remove(label).map(drop).ok_or_else(|| {
                kms_err!(
                    CloudHsmResourceNotFound,
                    "No key labelled {label} in cluster {id}."
                )
            })
        })
    }

    /// Fault: the HSM is restored from a backup that lacks the key object
    /// labelled `label`, so it no longer holds a copy (other HSMs keep
    /// theirs).
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster, HSM or
    /// label.
    pub fn restore_hsm_without_key(&self, id: &ClusterId, hsm: &HsmId, label: &str) -> Result<()> {
        self.with_cluster(id, |c| {
            c.hsm_mut(hsm)?;
            let key = c.keys.get_mut(label).ok_or_else(|| {
                kms_err!(
                    CloudHsmResourceNotFound,
                    "No key labelled {label} in cluster {id}."
                )
            })?;
            key.holders.retain(|h| h != hsm);
            Ok(())
        })
    }

    /// Fault (and its repair): sets the cluster's state, e.g. DEGRADED or
    /// anything but ACTIVE.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster.
    pub fn set_cluster_state(&self, id: &ClusterId, state: ClusterState) -> Result<()> {
        self.with_cluster(id, |c| {
            c.state = state;
            Ok(())
        })
    }

    /// Fault (and its repair): whether KMS can reach the cluster over the
    /// network. Unreachable, connect fails with `NETWORK_ERRORS` and key use
    /// with "KMS cannot communicate with your CloudHSM cluster".
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster.
    pub fn set_network_reachable(&self, id: &ClusterId, reachable: bool) -> Result<()> {
        self.with_cluster(id, |c| {
            c.network_reachable = reachable;
            Ok(())
        })
    }

    /// Fault (and its repair): every call KMS makes to the cluster fails
    /// with an internal error (connect: `INTERNAL_ERROR`; key use:
    /// `KMSInternalException`).
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster.
    pub fn set_internal_error(&self, id: &ClusterId, failing: bool) -> Result<()> {
        self.with_cluster(id, |c| {
            c.internal_error = failing;
            Ok(())
        })
    }

    /// cloudhsmv2 DeleteCluster, and the fault "the cluster is gone": the
    /// cluster disappears (connect: `CLUSTER_NOT_FOUND`).
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster.
    pub fn delete_cluster(&self, id: &ClusterId) -> Result<()> {
        self.remove_cluster(id)
    }

    // ----- Describe -------------------------------------------------------

    /// The labels of the key objects in the cluster, in order, as the
    /// CloudHSM CLI's key listing shows them to a crypto officer. KMS labels
    /// each key it creates with the KMS key ARN. The material never appears.
    ///
    /// # Errors
    /// `CloudHsmResourceNotFoundException` for an unknown cluster.
    pub fn key_labels(&self, id: &ClusterId) -> Result<Vec<String>> {
        let clusters = self.0.clusters.read();
        let c = clusters
            .get(id)
            .ok_or_else(|| kms_err!(CloudHsmResourceNotFound, "Cluster {id} does not exist."))?;
        Ok(c.keys.keys().cloned().collect())
    }

    /// cloudhsmv2 DescribeClusters: every cluster, or those whose ids are in
    /// `filter` (unknown ids are skipped, as a filter does), ordered by id.
    /// Passwords and key material never appear.
    pub fn describe_clusters(&self, filter: Option<&[ClusterId]>) -> DescribeClustersOutput {
        let clusters = self.0.clusters.read();
        let clusters = clusters
            .values()
            .filter(|c| filter.is_none_or(|ids| ids.contains(&c.id)))
            .map(|c| ClusterDescription {
                backup_policy: "DEFAULT",
                certificates: Certificates {
                    cluster_certificate: c
                        .certificate
                        .as_ref()
                        .map(|cert| cert.cluster_certificate.clone()),
                },
                cluster_id: c.id.clone(),
                create_timestamp: c.create_timestamp,
                hsms: c
                    .hsms
                    .iter()
                    .map(|h| HsmDescription {
                        availability_zone: h.az.clone(),
                        cluster_id: c.id.clone(),
                        eni_id: h.eni_id.clone(),
                        eni_ip: h.eni_ip.clone(),
                        hsm_id: h.id.clone(),
                        state: h.state,
                        state_message: h.state_message.clone(),
                        subnet_id: h.subnet_id.clone(),
                    })
                    .collect(),
                hsm_type: HSM_TYPE,
                security_group: c.security_group.id.clone(),
                state: c.state,
                subnet_mapping: c
                    .subnets
                    .iter()
                    .map(|(id, s)| (id.clone(), s.az.clone()))
                    .collect(),
                vpc_id: c.vpc_id.clone(),
            })
            .collect();
        DescribeClustersOutput { clusters }
    }
}
