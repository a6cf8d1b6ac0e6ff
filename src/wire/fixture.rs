//! The server fixture ([`Fixture`]): a JSON file that provisions CloudHSM
//! clusters and external key managers for the server binary. The format is
//! documented on [`Fixture`], published as `kms_keystore::server::Fixture`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{ClusterId, HsmId, XksKeyId};
use crate::kms::{Kms, KmsConfig};
use crate::store::cloudhsm::{CloudHsm, ClusterState, HsmState};
use crate::store::external::{
    EkmHealthStatus, InMemoryExternalKeyManager, Latency, VpcEndpointService, XksCredential,
    XksKeySpec, XksKeyStatus, XksKeyUsage, XksNetwork, XksProxyUri,
};
use crate::wire::members::MemberTemplate;

/// A parsed fixture file: the JSON that provisions what lives outside KMS —
/// CloudHSM clusters (subnets, HSMs, crypto users, faults) and external key
/// managers behind XKS proxies (URI, credential, external keys, faults) —
/// so that an SDK can then drive KMS against them.
///
/// Every member is optional except where noted; unknown members are an
/// error (a typo should not silently provision something else).
///
/// ```json
/// {
///   "account_id": "111122223333",
///   "region": "us-west-2",
///   "principals": [
///     { "arn": "arn:aws:iam::111122223333:role/ExampleRole",
///       "access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "…",
///       "policies": [{ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*" }] }],
///       "tags": { "team": "blue" } },
///     { "arn": "arn:aws:iam::444455556666:root",
///       "access_key_id": "AKIAI44QH8DHBEXAMPLE", "secret_access_key": "…" }
///   ],
///   "cloudhsm_clusters": [
///     {
///       "name": "primary",
///       "id": "cluster-jw7qqa4ryqv",
///       "subnets": { "subnet-a6b10bd1": "us-west-2a", "subnet-b6b10bd2": "us-west-2b" },
///       "hsms": ["us-west-2a", { "availability_zone": "us-west-2b", "state": "ACTIVE" }],
///       "state": "ACTIVE",
///       "trust_anchor": "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n",
///       "users": [{ "name": "kmsuser", "password": "kmsPswd1", "two_factor": false }],
///       "faults": { "network_reachable": true }
///     },
///     { "name": "restored", "from_backup_of": "primary",
///       "subnets": { "subnet-c1": "us-west-2a", "subnet-c2": "us-west-2b" },
///       "hsms": ["us-west-2a", "us-west-2b"] }
///   ],
///   "external_key_managers": [
///     {
///       "uri_endpoint": "https://xks.example.com",
///       "uri_path": "/kms/xks/v1",
///       "credential": { "access_key_id": "ABCDEFGHIJKLMNOPQRST", "secret_access_key": "…43 to 64 characters…" },
///       "keys": [{ "id": "bb8562717f809024" }, { "id": "rsa-key", "spec": "RSA_2048", "usages": ["SIGN", "VERIFY"] }],
///       "faults": { "unreachable": false }
///     },
///     {
///       "kind": "http",
///       "uri_endpoint": "https://xks.internal.example",
///       "uri_path": "/example/uri/path/prefix/kms/xks/v1",
///       "credential": { "access_key_id": "…", "secret_access_key": "…" },
///       "proxy_url": "https://127.0.0.1:4600",
///       "root_certificates": "/etc/xks/ca.pem",
///       "client_certificate": "/etc/xks/kms-client.pem",
///       "client_key": "/etc/xks/kms-client.key.pem"
///     }
///   ]
/// }
/// ```
///
/// # Account, Region, seed
///
/// - `account_id` (default `111122223333`) and `region` (default
///   `us-west-2`): the default account and Region. A server serves every
///   account and Region of the Region's partition; requests without a
///   signature (permissive mode) run in the default ones.
/// - `seed`: makes ids, key material and ciphertexts deterministic (the
///   default account × Region keeps it; every other one derives its own).
///   For tests: a server restarted with a seed and no data directory
///   repeats its key ids, key material and nonces.
///
/// # Principals (`principals`)
///
/// The identities requests are signed as (the server's strict mode, the
/// default when this list is not empty). This shape is stable.
///
/// - `arn` (required): `arn:aws:iam::ACCOUNT:root` (the account root),
///   `arn:aws:iam::ACCOUNT:user/PATH/NAME` or
///   `arn:aws:iam::ACCOUNT:role/PATH/NAME`. The account comes from the ARN;
///   users and roles are created in the partition's IAM.
/// - `access_key_id` (required, 16–128 of `[A-Z0-9]`) and
///   `secret_access_key` (required): the key that signs as it. A role's key
///   signs as a session of the role named after the access key id
///   (`arn:aws:sts::ACCOUNT:assumed-role/NAME/ACCESS_KEY_ID`), evaluated
///   with the role's policies.
/// - `session_token`: makes the key temporary credentials (as STS issues,
///   usually `ASIA…`): every request signed with it must carry this token
///   in `X-Amz-Security-Token`, else `UnrecognizedClientException`.
/// - `policies`: identity-based policy documents (users and roles), as
///   JSON objects; attached as `fixture-policy-0`, `fixture-policy-1`, ….
/// - `tags`: principal tags (users and roles), `aws:PrincipalTag/<key>`.
///
/// The same user or role may be listed twice, with two access keys.
///
/// # CloudHSM clusters (`cloudhsm_clusters`, provisioned in order)
///
/// - `account_id` and `region`: where the cluster is (default the
///   fixture's); cloudhsmv2 requests see the clusters of the caller's
///   account in the signature's Region, and `from_backup_of` names an
///   earlier cluster of the same account and Region.
/// - `name`: a handle for `from_backup_of` (default: the id).
/// - `id`: the cluster id, `cluster-` + 11–16 of `[2-7a-zA-Z]` (default:
///   random, deterministic with `seed`).
/// - `subnets` (required): subnet id → Availability Zone.
/// - `from_backup_of`: the `name` or `id` of an earlier cluster. The cluster
///   is restored from its backup: same cluster certificate and trust anchor
///   (so KMS sees shared backup history), a copy of its crypto users.
/// - `hsms`: one entry per HSM, an Availability Zone (`"us-west-2a"`) or
///   `{"availability_zone", "state"}` with an HsmState (default ACTIVE). Two
///   entries in one zone give HSMs all in one Availability Zone.
/// - `state`: the cluster state at the end (default ACTIVE). `UNINITIALIZED`
///   skips initialization (no users allowed then); `INITIALIZED` is an
///   initialized cluster that is not active; any other ClusterState is set
///   as it is after provisioning.
/// - `trust_anchor`: the content of `customerCA.crt` (default: a generated
///   PEM, reported in [`Provisioned`]). Not allowed with `from_backup_of`.
/// - `users`: crypto users `{name, password, two_factor, locked_out,
///   logged_in_elsewhere}`. Leave out `kmsuser` to model a missing kmsuser;
///   `two_factor: true` models kmsuser with 2FA. In a restored cluster an
///   inherited user's entry changes its password (and sets the switches).
/// - `faults`: `deleted_subnets` [subnet ids], `subnet_free_addresses`
///   {subnet id → count}, `security_group` {`inbound`, `outbound`},
///   `network_reachable` (default true), `internal_error` (default false).
///
/// # External key managers (`external_key_managers`)
///
/// - `kind`: `"memory"` (default), the crate's in-memory manager holding
///   `keys`, with `faults`; or `"http"`, a real XKS proxy (any vendor's, or
///   `kms-keystore-xks-proxy`) that KMS calls over HTTPS with
///   `kms_keystore::xks::http::HttpXksClient` (needs the crate's `xks-http`
///   feature). An `http` proxy holds its own keys: `keys` and `faults` are
///   refused there, and the `http` members below are refused for `memory`.
/// - `account_id` and `region`: whose external key stores reach it
///   (default the fixture's); an `http` proxy's requests are signed for
///   this Region.
/// - `uri_endpoint` (required) and `uri_path` (default `/kms/xks/v1`): where
///   the proxy listens; CreateCustomKeyStore names the same two.
/// - `credential` (required): `access_key_id` (20–30 of `[A-Z2-7]`) and
///   `secret_access_key` (43–64 of `[a-zA-Z0-9/+=]`), the credential the
///   proxy accepts. For an `http` proxy it is only checked for form: KMS
///   signs with the credential each key store was created with.
/// - `proxy_url` (`http` only): where the proxy listens,
///   `https://host:port` (default: the `uri_endpoint`, port 443). The TLS
///   server name and the signed `Host` stay the `uri_endpoint`'s, as when
///   a DNS name points at the proxy. `http://host:port` speaks plain HTTP
///   (local tests only: the XKS spec requires TLS).
/// - `root_certificates` (`http` only): a PEM file of the CA certificates
///   the proxy's certificate must chain to (default: Mozilla's roots).
/// - `client_certificate` and `client_key` (`http` only, both or neither):
///   PEM files of the certificate chain and private key KMS presents
///   (mTLS). The key file is read into zeroizing memory and never shown.
/// - `keys`: `{id, spec, usages, status}`; spec an XKS key spec (default
///   `AES_256`), usages (default `["ENCRYPT", "DECRYPT"]`), status
///   `ENABLED` (default) or `DISABLED`.
/// - `vpc_endpoint_service`: `{name, not_found, invalid_configuration}`, a
///   VPC endpoint service in front of this proxy.
/// - `faults`: `unreachable`, `invalid_tls`, `malformed_response`,
///   `throttling`, `access_denied`, `internal_error` (booleans),
///   `ekm_health` (`ACTIVE`, `DEGRADED` or `UNAVAILABLE`), `latency_ms`
///   (simulated round trip; above 250 the proxy times out).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Fixture {
    /// The account (12 digits); default `111122223333`.
    pub account_id: Option<String>,
    /// The Region; default `us-west-2`.
    pub region: Option<String>,
    /// Makes ids, key material and ciphertexts deterministic.
    pub seed: Option<u64>,
    /// CloudHSM clusters, provisioned in order.
    #[serde(default)]
    pub cloudhsm_clusters: Vec<ClusterFixture>,
    /// External key managers, each behind its XKS proxy.
    #[serde(default)]
    pub external_key_managers: Vec<ExternalKeyManagerFixture>,
    /// The IAM identities callers sign as (the server's strict mode).
    #[serde(default)]
    pub principals: Vec<PrincipalFixture>,
}

/// One identity of the fixture: an account root, IAM user or IAM role,
/// with the access key that signs as it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PrincipalFixture {
    /// `arn:aws:iam::ACCOUNT:root`, `arn:aws:iam::ACCOUNT:user/PATH/NAME`
    /// or `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    pub arn: String,
    /// The access key id requests are signed with (16–128 of `[A-Z0-9]`).
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: crate::crypto::SecretString,
    /// The session token of temporary credentials, which each request
    /// must carry in `X-Amz-Security-Token`.
    #[serde(default)]
    pub session_token: Option<crate::crypto::SecretString>,
    /// Identity-based policies (users and roles), each a policy document.
    #[serde(default)]
    pub policies: Vec<serde_json::Value>,
    /// Principal tags (users and roles): `aws:PrincipalTag/<key>`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// How the server runs a fixture ([`Fixture::build_server`]).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Who may call: strict SigV4 verification or permissive; `None`
    /// decides by the fixture (strict when it declares principals).
    pub auth: Option<crate::wire::AuthMode>,
    /// Keep the whole state under this directory (durable mode): one
    /// file per account × Region, `<account>-<region>.redb`.
    pub data_dir: Option<std::path::PathBuf>,
    /// The clock every account × Region runs on (SigV4 dates are checked
    /// against it); default the system clock.
    pub clock: Option<Arc<dyn crate::Clock>>,
    /// The root key sealing the durable state (required with `data_dir`;
    /// feature `durable`).
    #[cfg(feature = "durable")]
    pub root_key: Option<crate::storage::RootKey>,
}

/// One CloudHSM cluster.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClusterFixture {
    /// The account it belongs to (default the fixture's `account_id`).
    pub account_id: Option<String>,
    /// The Region it is in (default the fixture's `region`).
    pub region: Option<String>,
    /// A handle for `from_backup_of`.
    pub name: Option<String>,
    /// A fixed cluster id.
    pub id: Option<String>,
    /// Subnet id → Availability Zone.
    pub subnets: BTreeMap<String, String>,
    /// Restored from this earlier cluster's backup (its `name` or `id`).
    pub from_backup_of: Option<String>,
    /// The HSMs.
    #[serde(default)]
    pub hsms: Vec<HsmFixture>,
    /// The state at the end (default ACTIVE).
    pub state: Option<ClusterState>,
    /// The content of `customerCA.crt`.
    pub trust_anchor: Option<String>,
    /// Crypto users.
    #[serde(default)]
    pub users: Vec<UserFixture>,
    /// Faults to switch on.
    #[serde(default)]
    pub faults: ClusterFaults,
}

/// One HSM: an Availability Zone, or a zone and a state.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum HsmFixture {
    /// An ACTIVE HSM in this Availability Zone.
    Zone(String),
    /// An HSM in a zone, in a state.
    Detailed {
        /// Its Availability Zone.
        availability_zone: String,
        /// Its state (default ACTIVE).
        #[serde(default)]
        state: Option<HsmState>,
    },
}

impl HsmFixture {
    fn zone(&self) -> &str {
        match self {
            HsmFixture::Zone(az)
            | HsmFixture::Detailed {
                availability_zone: az,
                ..
            } => az,
        }
    }

    fn state(&self) -> HsmState {
        match self {
            HsmFixture::Zone(_) => HsmState::Active,
            HsmFixture::Detailed { state, .. } => state.unwrap_or(HsmState::Active),
        }
    }
}

/// One crypto user.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct UserFixture {
    /// The user name (`kmsuser` for KMS).
    pub name: String,
    /// 7–32 alphanumeric characters. Optional only for an inherited user
    /// whose password stays.
    pub password: Option<crate::crypto::SecretString>,
    /// Two-factor authentication (KMS cannot log in as such a kmsuser).
    #[serde(default)]
    pub two_factor: bool,
    /// Locked out after too many failed logins.
    #[serde(default)]
    pub locked_out: bool,
    /// Logged in somewhere other than KMS.
    #[serde(default)]
    pub logged_in_elsewhere: bool,
}

impl std::fmt::Debug for UserFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserFixture")
            .field("name", &self.name)
            .field("password", &self.password)
            .field("two_factor", &self.two_factor)
            .field("locked_out", &self.locked_out)
            .field("logged_in_elsewhere", &self.logged_in_elsewhere)
            .finish()
    }
}

/// Faults of a cluster.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClusterFaults {
    /// Subnets deleted from the VPC (connect: SUBNET_NOT_FOUND).
    #[serde(default)]
    pub deleted_subnets: Vec<String>,
    /// Free addresses per subnet (0: INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET).
    #[serde(default)]
    pub subnet_free_addresses: BTreeMap<String, u32>,
    /// The security group's TCP 2223-2225 rules.
    pub security_group: Option<SecurityGroupFixture>,
    /// Whether KMS can reach the cluster (default true).
    pub network_reachable: Option<bool>,
    /// Whether every call to the cluster fails inside it (default false).
    #[serde(default)]
    pub internal_error: bool,
}

/// The security group's rules.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SecurityGroupFixture {
    /// The inbound TCP 2223-2225 rule from the group itself.
    pub inbound: bool,
    /// The outbound TCP 2223-2225 rule to the group itself.
    pub outbound: bool,
}

/// One external key manager behind its XKS proxy.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExternalKeyManagerFixture {
    /// What the manager is (default [`ExternalKeyManagerKind::Memory`]).
    #[serde(default)]
    pub kind: ExternalKeyManagerKind,
    /// The account whose external key stores reach it (default the
    /// fixture's `account_id`).
    pub account_id: Option<String>,
    /// Its Region (default the fixture's `region`).
    pub region: Option<String>,
    /// `https://host` (no port, no path).
    pub uri_endpoint: String,
    /// Default `/kms/xks/v1`.
    pub uri_path: Option<String>,
    /// The credential the proxy accepts.
    pub credential: CredentialFixture,
    /// External keys.
    #[serde(default)]
    pub keys: Vec<ExternalKeyFixture>,
    /// A VPC endpoint service in front of the proxy.
    pub vpc_endpoint_service: Option<VpcEndpointServiceFixture>,
    /// Faults to switch on.
    #[serde(default)]
    pub faults: ProxyFaults,
    /// `http`: where the proxy listens (`https://host:port`, or
    /// `http://host:port` for plain HTTP); default the `uri_endpoint`.
    pub proxy_url: Option<String>,
    /// `http`: PEM file of the CAs the proxy's certificate chains to.
    pub root_certificates: Option<std::path::PathBuf>,
    /// `http`: PEM file of the client certificate chain (mTLS).
    pub client_certificate: Option<std::path::PathBuf>,
    /// `http`: PEM file of the client certificate's private key (mTLS).
    pub client_key: Option<std::path::PathBuf>,
}

/// What an external key manager of a fixture is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ExternalKeyManagerKind {
    /// The crate's in-memory manager, with the fixture's keys and faults.
    #[default]
    Memory,
    /// A real XKS proxy, called over HTTP(S) (feature `xks-http`).
    Http,
}

/// The proxy's SigV4 credential.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CredentialFixture {
    /// 20–30 characters of `[A-Z2-7]`.
    pub access_key_id: String,
    /// 43–64 characters of `[a-zA-Z0-9/+=]`.
    pub secret_access_key: crate::crypto::SecretString,
}

/// One external key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExternalKeyFixture {
    /// The external key id.
    pub id: String,
    /// Default `AES_256`.
    pub spec: Option<XksKeySpec>,
    /// Default `["ENCRYPT", "DECRYPT"]`.
    pub usages: Option<Vec<XksKeyUsage>>,
    /// Default `ENABLED`.
    pub status: Option<XksKeyStatus>,
}

/// A VPC endpoint service.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct VpcEndpointServiceFixture {
    /// The service name, `com.amazonaws.vpce.<region>.vpce-svc-…`.
    pub name: String,
    /// The service is missing (or KMS lacks permission).
    #[serde(default)]
    pub not_found: bool,
    /// The service breaks a requirement.
    #[serde(default)]
    pub invalid_configuration: bool,
}

/// Faults of a proxy.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ProxyFaults {
    /// Nothing listens.
    #[serde(default)]
    pub unreachable: bool,
    /// The TLS handshake fails.
    #[serde(default)]
    pub invalid_tls: bool,
    /// Every answer is malformed.
    #[serde(default)]
    pub malformed_response: bool,
    /// Every call is throttled.
    #[serde(default)]
    pub throttling: bool,
    /// The proxy denies every call.
    #[serde(default)]
    pub access_denied: bool,
    /// Every call fails inside the proxy.
    #[serde(default)]
    pub internal_error: bool,
    /// The health of every external key manager of the fleet.
    pub ekm_health: Option<EkmHealthStatus>,
    /// Simulated round trip in milliseconds (KMS gives up after 250).
    pub latency_ms: Option<u64>,
}

/// What a fixture provisioned: ids chosen at random and generated trust
/// anchors, for the caller to report.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Provisioned {
    /// The clusters, in fixture order.
    pub cloudhsm_clusters: Vec<ProvisionedCluster>,
    /// The external key managers, in fixture order.
    pub external_key_managers: Vec<ProvisionedProxy>,
}

/// A provisioned cluster.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProvisionedCluster {
    /// Its fixture name (or id).
    pub name: String,
    /// Its id.
    pub cluster_id: ClusterId,
    /// Its HSMs, in fixture order.
    pub hsm_ids: Vec<HsmId>,
    /// The trust anchor (`customerCA.crt`), if it was initialized.
    pub trust_anchor: Option<String>,
}

/// A provisioned proxy.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProvisionedProxy {
    /// Its endpoint.
    pub uri_endpoint: String,
    /// Its path.
    pub uri_path: String,
    /// Its external keys.
    pub keys: Vec<XksKeyId>,
}

/// A fixture error: `ValidationException` naming where in the file.
fn at(path: &str, err: Error) -> Error {
    Error::Validation {
        message: format!("fixture {path}: {}: {}", err.code(), err.message()).into(),
    }
}

fn invalid(path: &str, message: &str) -> Error {
    Error::Validation {
        message: format!("fixture {path}: {message}").into(),
    }
}

/// A PEM certificate standing for a generated `customerCA.crt`.
fn generated_trust_anchor(label: &str) -> String {
    let body =
        crate::base64_blob::encode(format!("kms-keystore customerCA for {label}").as_bytes());
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

impl Fixture {
    /// Parses a fixture file's content.
    ///
    /// # Errors
    /// `SerializationException` for text that is not a fixture (bad JSON,
    /// an unknown member, a wrong type or enum value), with the position.
    pub fn from_json(text: &str) -> Result<Fixture> {
        serde_json::from_str(text).map_err(|e| Error::Serialization {
            message: format!("fixture: {e}").into(),
        })
    }

    /// The KMS configuration the fixture asks for: account, Region, seed.
    ///
    /// # Errors
    /// `ValidationException` for a bad account id or Region.
    pub fn kms_config(&self) -> Result<KmsConfig> {
        let config = KmsConfig::new(
            self.account_id.as_deref().unwrap_or(DEFAULT_ACCOUNT),
            self.region.as_deref().unwrap_or(DEFAULT_REGION),
        )
        .map_err(|e| at("account_id/region", e))?;
        Ok(match self.seed {
            Some(seed) => config.with_seed(seed),
            None => config,
        })
    }

    /// A [`Kms`] as [`Fixture::kms_config`] says, with the fixture's
    /// clusters in its CloudHSM service ([`Kms::cloudhsm`]) and its external
    /// key managers on its XKS network ([`Kms::xks_network`]).
    ///
    /// # Errors
    /// As [`Fixture::kms_config`] and [`Fixture::provision`].
    pub fn build(&self) -> Result<(Kms, Provisioned)> {
        let kms = Kms::new(self.kms_config()?);
        let provisioned = self.provision(kms.cloudhsm(), kms.xks_network())?;
        Ok((kms, provisioned))
    }

    /// The server's dispatcher for this fixture, with `options`: the
    /// authentication mode and, for a durable server, where its state is
    /// kept and the root key sealing it.
    ///
    /// - Every account × Region is a [`Kms`] of one [`Partition`](crate::Partition),
    ///   created on first use on the same clock; with `seed`, the default
    ///   account × Region keeps the seed and every other one derives its
    ///   own.
    /// - Each cluster and external key manager is provisioned in its
    ///   `account_id` and `region` (default the fixture's).
    /// - The `principals` are created in the partition's IAM, with their
    ///   access keys ([`PrincipalFixture`]).
    /// - The mode is `options.auth`, else strict when the fixture declares
    ///   principals and permissive when it does not.
    /// - Durable (`options.data_dir`, feature `durable`): each account ×
    ///   Region in `<data_dir>/<account>-<region>.redb` under
    ///   `options.root_key`. An account × Region whose file already exists
    ///   is reopened as it was: its clusters are not provisioned again
    ///   (they are in the file, with their HSMs, users and faults) and are
    ///   not listed in [`Provisioned`], except a cluster with a fixed `id`
    ///   the file lacks (added to the fixture since; a `from_backup_of`
    ///   then names only clusters provisioned in the same start). Its
    ///   external key managers are attached again (they live outside KMS,
    ///   like a real XKS proxy) with their keys' material read back from
    ///   `<data_dir>/<account>-<region>.xks-<endpoint>.keys`, sealed under
    ///   the root key; keys new to the fixture get fresh material, sealed
    ///   there before first use. A durable proxy ignores `seed`: a
    ///   repeated random stream would repeat its IVs after a restart.
    ///
    /// # Errors
    /// As [`Fixture::build`]; `ValidationException` for a principal that
    /// is not valid, or a data directory without a root key.
    pub fn build_server(
        &self,
        options: &ServerOptions,
    ) -> Result<(crate::wire::Dispatcher, Provisioned)> {
        let account = self.account_id.as_deref().unwrap_or(DEFAULT_ACCOUNT);
        let region = self.region.as_deref().unwrap_or(DEFAULT_REGION);
        let base = KmsConfig::new(account, region).map_err(|e| at("account_id/region", e))?;
        let clock = options
            .clock
            .clone()
            .unwrap_or_else(|| Arc::new(crate::clock::SystemClock));
        let mut template = MemberTemplate::new(clock, account, region);
        if let Some(seed) = self.seed {
            template = template.with_seed(seed);
        }
        #[cfg(feature = "durable")]
        if let Some(dir) = &options.data_dir {
            let root = options
                .root_key
                .clone()
                .ok_or_else(|| invalid("data_dir", "a durable server needs a root key"))?;
            std::fs::create_dir_all(dir).map_err(|e| {
                invalid("data_dir", &format!("cannot create {}: {e}", dir.display()))
            })?;
            template = template.with_data_dir(dir, root);
        }
        #[cfg(not(feature = "durable"))]
        if options.data_dir.is_some() {
            return Err(invalid(
                "data_dir",
                "durable mode needs the crate's `durable` feature",
            ));
        }
        let name = crate::AwsPartition::of_region(base.region());
        let partition = match self.seed {
            Some(seed) => crate::Partition::with_seed(name, seed),
            None => crate::Partition::new(name),
        };
        // Which account × Regions start from nothing (no durable file yet).
        let mut fresh: BTreeMap<(String, String), bool> = BTreeMap::new();
        let mut is_fresh = |a: &str, r: &str, t: &MemberTemplate| -> bool {
            *fresh
                .entry((a.to_owned(), r.to_owned()))
                .or_insert_with(|| t.data_file(a, r).is_none_or(|p| !p.exists()))
        };
        is_fresh(account, region, &template);
        let default = partition.add(template.config(account, region)?)?;
        let mode = options.auth.unwrap_or(if self.principals.is_empty() {
            crate::wire::AuthMode::Permissive
        } else {
            crate::wire::AuthMode::Strict
        });
        let dispatcher =
            crate::wire::Dispatcher::for_partition(partition.clone(), default, template.clone())
                .with_auth(mode);
        for (i, p) in self.principals.iter().enumerate() {
            register_principal(&partition.iam(), p, &format!("principals[{i}]"))?;
        }
        let mut out = Provisioned::default();
        let mut known: BTreeMap<(String, String), BTreeMap<String, Known>> = BTreeMap::new();
        for (i, c) in self.cloudhsm_clusters.iter().enumerate() {
            let path = format!("cloudhsm_clusters[{i}]");
            let a = c.account_id.as_deref().unwrap_or(account);
            let r = c.region.as_deref().unwrap_or(region);
            let new = is_fresh(a, r, &template);
            let kms = dispatcher.kms_in(a, r).map_err(|e| at(&path, e))?;
            if !new && !missing_from(kms.cloudhsm(), c) {
                continue;
            }
            let known = known.entry((a.to_owned(), r.to_owned())).or_default();
            let (cluster, users) = provision_cluster(kms.cloudhsm(), c, known, &path)?;
            let entry = Known {
                id: cluster.cluster_id.clone(),
                users,
                trust_anchor: cluster.trust_anchor.clone(),
            };
            known.insert(cluster.cluster_id.to_string(), entry.clone());
            known.insert(cluster.name.clone(), entry);
            out.cloudhsm_clusters.push(cluster);
        }
        for (i, m) in self.external_key_managers.iter().enumerate() {
            let path = format!("external_key_managers[{i}]");
            let a = m.account_id.as_deref().unwrap_or(account);
            let r = m.region.as_deref().unwrap_or(region);
            let kms = dispatcher.kms_in(a, r).map_err(|e| at(&path, e))?;
            let vault = KeyVault::for_proxy(options, a, r, m);
            // A durable proxy draws from the OS: a seeded stream would
            // repeat its IVs (and new keys' material) after a restart.
            let seed = match vault {
                Some(_) => None,
                None => self.seed.map(|s| s.wrapping_add(1 + i as u64)),
            };
            out.external_key_managers.push(provision_proxy(
                kms.xks_network(),
                m,
                r,
                seed,
                vault.as_ref(),
                &path,
            )?);
        }
        Ok((dispatcher, out))
    }

    /// Provisions the clusters in `cloudhsm` and attaches the external key
    /// managers to `network`.
    ///
    /// # Errors
    /// `ValidationException` naming the fixture entry whose provisioning
    /// failed, and why. What was provisioned before it stays.
    pub fn provision(&self, cloudhsm: &CloudHsm, network: &XksNetwork) -> Result<Provisioned> {
        let mut out = Provisioned::default();
        // By name and by id.
        let mut known: BTreeMap<String, Known> = BTreeMap::new();
        for (i, c) in self.cloudhsm_clusters.iter().enumerate() {
            let path = format!("cloudhsm_clusters[{i}]");
            let (cluster, users) = provision_cluster(cloudhsm, c, &known, &path)?;
            let entry = Known {
                id: cluster.cluster_id.clone(),
                users,
                trust_anchor: cluster.trust_anchor.clone(),
            };
            known.insert(cluster.cluster_id.to_string(), entry.clone());
            known.insert(cluster.name.clone(), entry);
            out.cloudhsm_clusters.push(cluster);
        }
        for (i, m) in self.external_key_managers.iter().enumerate() {
            let path = format!("external_key_managers[{i}]");
            let seed = self.seed.map(|s| s.wrapping_add(1 + i as u64));
            let region = (m.region.as_deref())
                .or(self.region.as_deref())
                .unwrap_or(DEFAULT_REGION);
            out.external_key_managers
                .push(provision_proxy(network, m, region, seed, None, &path)?);
        }
        Ok(out)
    }
}

/// The fixture's default account.
const DEFAULT_ACCOUNT: &str = "111122223333";
/// The fixture's default Region.
const DEFAULT_REGION: &str = "us-west-2";

/// Creates a fixture principal in `iam` and registers its access key.
fn register_principal(iam: &crate::Iam, p: &PrincipalFixture, path: &str) -> Result<()> {
    use crate::iam::PrincipalKind;
    let principal: crate::Principal = p.arn.parse().map_err(|e| at(&format!("{path}.arn"), e))?;
    let identity = match principal.kind() {
        PrincipalKind::Root { .. } => None,
        PrincipalKind::User {
            account,
            path: iam_path,
            name,
        } => Some(iam.create_user(account.as_str(), iam_path, name)),
        PrincipalKind::Role {
            account,
            path: iam_path,
            name,
        } => Some(iam.create_role(account.as_str(), iam_path, name)),
        _ => {
            return Err(invalid(
                &format!("{path}.arn"),
                "a principal is an account root, an IAM user or an IAM role",
            ));
        }
    };
    let identity = match identity {
        None => None,
        Some(Ok(p)) => Some(p),
        // The same user or role listed again, with another access key.
        Some(Err(Error::AlreadyExists { .. })) => Some(principal.clone()),
        Some(Err(e)) => return Err(at(&format!("{path}.arn"), e)),
    };
    match &identity {
        None if !p.policies.is_empty() || !p.tags.is_empty() => {
            return Err(invalid(
                path,
                "an account root has no identity policies or tags",
            ));
        }
        None => {}
        Some(identity) => {
            for (j, doc) in p.policies.iter().enumerate() {
                iam.put_identity_policy(identity, &format!("fixture-policy-{j}"), &doc.to_string())
                    .map_err(|e| at(&format!("{path}.policies[{j}]"), e))?;
            }
            for (k, v) in &p.tags {
                iam.tag_principal(identity, k, v)
                    .map_err(|e| at(&format!("{path}.tags"), e))?;
            }
        }
    }
    // A role signs as a session of itself named after the access key.
    let caller = match principal.kind() {
        PrincipalKind::Role { account, name, .. } => {
            crate::Principal::assumed_role(account.clone(), name, &p.access_key_id)
                .in_partition(principal.partition())
        }
        _ => principal.clone(),
    };
    match &p.session_token {
        None => iam.register_access_key(&caller, &p.access_key_id, p.secret_access_key.clone()),
        Some(token) => iam.register_session_credentials(
            &caller,
            &p.access_key_id,
            p.secret_access_key.clone(),
            token.clone(),
        ),
    }
    .map_err(|e| at(&format!("{path}.access_key_id"), e))?;
    Ok(())
}

/// Whether a reopened account × Region lacks fixture cluster `c`: only a
/// cluster with a fixed `id` can be told apart (a random id is new each
/// start), so only such a cluster, added to the fixture after the data
/// file was made, is provisioned into it.
fn missing_from(cloudhsm: &CloudHsm, c: &ClusterFixture) -> bool {
    let Some(id) = c.id.as_deref().and_then(|id| id.parse::<ClusterId>().ok()) else {
        return false;
    };
    cloudhsm
        .describe_clusters(Some(std::slice::from_ref(&id)))
        .clusters
        .is_empty()
}

/// A cluster provisioned earlier in the file.
#[derive(Clone)]
struct Known {
    id: ClusterId,
    users: BTreeSet<String>,
    trust_anchor: Option<String>,
}

fn provision_cluster(
    hsm: &CloudHsm,
    c: &ClusterFixture,
    known: &BTreeMap<String, Known>,
    path: &str,
) -> Result<(ProvisionedCluster, BTreeSet<String>)> {
    let target = c.state.unwrap_or(ClusterState::Active);
    let fixed_id: Option<ClusterId> =
        c.id.as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| at(&format!("{path}.id"), e))?;
    let subnets: Vec<(&str, &str)> = c
        .subnets
        .iter()
        .map(|(s, az)| (s.as_str(), az.as_str()))
        .collect();
    let source = match &c.from_backup_of {
        None => None,
        Some(name) => Some(known.get(name).ok_or_else(|| {
            invalid(
                &format!("{path}.from_backup_of"),
                &format!("no earlier cluster is named '{name}'"),
            )
        })?),
    };
    if source.is_some() && c.trust_anchor.is_some() {
        return Err(invalid(
            &format!("{path}.trust_anchor"),
            "a restored cluster keeps its source's trust anchor; leave it out",
        ));
    }
    if target == ClusterState::Uninitialized && (source.is_some() || !c.users.is_empty()) {
        return Err(invalid(
            &format!("{path}.state"),
            "an UNINITIALIZED cluster has no backup history and no users",
        ));
    }
    let id = match source {
        Some(src) => hsm.create_cluster_from_backup_as(fixed_id.as_ref(), &src.id, &subnets),
        None => hsm.create_cluster_as(fixed_id.as_ref(), &subnets),
    }
    .map_err(|e| at(path, e))?;
    let mut hsm_ids = Vec::with_capacity(c.hsms.len());
    for (j, h) in c.hsms.iter().enumerate() {
        let hsm_id = hsm
            .create_hsm(&id, h.zone())
            .map_err(|e| at(&format!("{path}.hsms[{j}]"), e))?;
        hsm_ids.push(hsm_id);
    }
    let mut users: BTreeSet<String> = source.map(|s| s.users.clone()).unwrap_or_default();
    let mut trust_anchor = source.and_then(|s| s.trust_anchor.clone());
    if target != ClusterState::Uninitialized {
        // Initializing (and creating users) needs an ACTIVE HSM: borrow one
        // when the fixture has none, and delete it afterwards.
        let temporary = match hsm_ids.first() {
            Some(_) => None,
            None => {
                let az = c.subnets.values().next().ok_or_else(|| {
                    invalid(&format!("{path}.subnets"), "a cluster needs a subnet")
                })?;
                Some(hsm.create_hsm(&id, az).map_err(|e| at(path, e))?)
            }
        };
        if source.is_none() {
            let anchor = c
                .trust_anchor
                .clone()
                .unwrap_or_else(|| generated_trust_anchor(id.as_str()));
            hsm.initialize_cluster(&id, &anchor)
                .map_err(|e| at(&format!("{path}.trust_anchor"), e))?;
            hsm.activate_cluster(&id).map_err(|e| at(path, e))?;
            trust_anchor = Some(anchor);
        }
        for (j, u) in c.users.iter().enumerate() {
            provision_user(hsm, &id, u, &mut users, &format!("{path}.users[{j}]"))?;
        }
        if let Some(t) = temporary {
            hsm.delete_hsm(&id, &t).map_err(|e| at(path, e))?;
        }
        if target != ClusterState::Active {
            hsm.set_cluster_state(&id, target)
                .map_err(|e| at(&format!("{path}.state"), e))?;
        }
    }
    for (j, (h, hsm_id)) in c.hsms.iter().zip(&hsm_ids).enumerate() {
        if h.state() != HsmState::Active {
            hsm.set_hsm_state(&id, hsm_id, h.state())
                .map_err(|e| at(&format!("{path}.hsms[{j}].state"), e))?;
        }
    }
    apply_cluster_faults(hsm, &id, &c.faults, &format!("{path}.faults"))?;
    let name = c.name.clone().unwrap_or_else(|| id.to_string());
    Ok((
        ProvisionedCluster {
            name,
            cluster_id: id,
            hsm_ids,
            trust_anchor,
        },
        users,
    ))
}

fn provision_user(
    hsm: &CloudHsm,
    id: &ClusterId,
    u: &UserFixture,
    users: &mut BTreeSet<String>,
    path: &str,
) -> Result<()> {
    if users.contains(&u.name) {
        if u.two_factor {
            return Err(invalid(
                path,
                "two-factor authentication cannot be added to an inherited user",
            ));
        }
        if let Some(p) = &u.password {
            hsm.change_password(id, &u.name, p.expose_secret())
                .map_err(|e| at(path, e))?;
        }
    } else {
        let password = u
            .password
            .as_ref()
            .ok_or_else(|| invalid(path, "a new user needs a password"))?;
        hsm.create_user(id, &u.name, password.expose_secret(), u.two_factor)
            .map_err(|e| at(path, e))?;
        users.insert(u.name.clone());
    }
    if u.locked_out {
        hsm.lock_out_user(id, &u.name).map_err(|e| at(path, e))?;
    }
    if u.logged_in_elsewhere {
        hsm.set_logged_in_elsewhere(id, &u.name, true)
            .map_err(|e| at(path, e))?;
    }
    Ok(())
}

fn apply_cluster_faults(
    hsm: &CloudHsm,
    id: &ClusterId,
    f: &ClusterFaults,
    path: &str,
) -> Result<()> {
    for s in &f.deleted_subnets {
        hsm.delete_subnet(id, s)
            .map_err(|e| at(&format!("{path}.deleted_subnets"), e))?;
    }
    for (s, n) in &f.subnet_free_addresses {
        hsm.set_subnet_free_addresses(id, s, *n)
            .map_err(|e| at(&format!("{path}.subnet_free_addresses"), e))?;
    }
    if let Some(sg) = f.security_group {
        hsm.set_security_group_rules(id, sg.inbound, sg.outbound)
            .map_err(|e| at(&format!("{path}.security_group"), e))?;
    }
    if let Some(reachable) = f.network_reachable {
        hsm.set_network_reachable(id, reachable)
            .map_err(|e| at(&format!("{path}.network_reachable"), e))?;
    }
    if f.internal_error {
        hsm.set_internal_error(id, true)
            .map_err(|e| at(&format!("{path}.internal_error"), e))?;
    }
    Ok(())
}

/// Where a durable server keeps one external key manager's key material:
/// `<data_dir>/<account>-<region>.xks-<endpoint>.keys`, sealed under the
/// root key (the proxy lives outside KMS, so outside the account's store).
struct KeyVault {
    #[cfg(feature = "durable")]
    path: std::path::PathBuf,
    #[cfg(feature = "durable")]
    root: crate::storage::RootKey,
    #[cfg(feature = "durable")]
    label: String,
}

impl KeyVault {
    /// The vault of proxy `m` of `account` × `region`, for a durable server.
    #[cfg(feature = "durable")]
    fn for_proxy(
        options: &ServerOptions,
        account: &str,
        region: &str,
        m: &ExternalKeyManagerFixture,
    ) -> Option<KeyVault> {
        let dir = options.data_dir.as_ref()?;
        let root = options.root_key.clone()?;
        let endpoint: String = m
            .uri_endpoint
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Some(KeyVault {
            path: dir.join(format!("{account}-{region}.xks-{endpoint}.keys")),
            root,
            label: format!("{account}/{region}/{}", m.uri_endpoint),
        })
    }

    /// Without the `durable` feature there is no durable server.
    #[cfg(not(feature = "durable"))]
    fn for_proxy(
        _: &ServerOptions,
        _: &str,
        _: &str,
        _: &ExternalKeyManagerFixture,
    ) -> Option<KeyVault> {
        None
    }

    /// Adds the fixture's keys to `manager` with their kept material; keys
    /// new to the vault get fresh material, which is sealed before any is
    /// used.
    #[cfg(feature = "durable")]
    fn add_keys(
        &self,
        manager: &InMemoryExternalKeyManager,
        keys: &[(XksKeyId, XksKeySpec, Vec<XksKeyUsage>, XksKeyStatus)],
        path: &str,
    ) -> Result<()> {
        use crate::storage::secret_file;
        let mut kept =
            secret_file::load(&self.path, &self.root, &self.label).map_err(|e| at(path, e))?;
        let mut added = false;
        for (id, spec, _, _) in keys {
            if *spec == XksKeySpec::Aes256 && !kept.contains_key(id.as_str()) {
                let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
                rand::RngCore::fill_bytes(&mut rand::rng(), bytes.as_mut());
                kept.insert(id.to_string(), crate::KeyMaterial::from_bytes(*bytes));
                added = true;
            }
        }
        if added {
            secret_file::save(&self.path, &self.root, &self.label, &kept)
                .map_err(|e| at(path, e))?;
        }
        for (j, (id, spec, usages, status)) in keys.iter().enumerate() {
            manager
                .insert_key(id.clone(), *spec, usages, *status, kept.get(id.as_str()))
                .map_err(|e| at(&format!("{path}.keys[{j}]"), e))?;
        }
        Ok(())
    }

    #[cfg(not(feature = "durable"))]
    fn add_keys(
        &self,
        _: &InMemoryExternalKeyManager,
        _: &[(XksKeyId, XksKeySpec, Vec<XksKeyUsage>, XksKeyStatus)],
        _: &str,
    ) -> Result<()> {
        Ok(())
    }
}

/// Attaches the manager of entry `m` (of `region`) to `network`, the kind
/// deciding which: the in-memory one or a real proxy's HTTP client.
fn provision_proxy(
    network: &XksNetwork,
    m: &ExternalKeyManagerFixture,
    region: &str,
    seed: Option<u64>,
    vault: Option<&KeyVault>,
    path: &str,
) -> Result<ProvisionedProxy> {
    let uri = XksProxyUri::new(
        &m.uri_endpoint,
        m.uri_path.as_deref().unwrap_or("/kms/xks/v1"),
    )
    .map_err(|e| at(path, e))?;
    let credential = XksCredential::new(
        &m.credential.access_key_id,
        m.credential.secret_access_key.expose_secret(),
    )
    .map_err(|e| at(&format!("{path}.credential"), e))?;
    let http_members = [
        ("proxy_url", m.proxy_url.is_some()),
        ("root_certificates", m.root_certificates.is_some()),
        ("client_certificate", m.client_certificate.is_some()),
        ("client_key", m.client_key.is_some()),
    ];
    match m.kind {
        ExternalKeyManagerKind::Memory => {
            if let Some((name, _)) = http_members.iter().find(|(_, set)| *set) {
                return Err(invalid(
                    &format!("{path}.{name}"),
                    "only for an external key manager of kind \"http\"",
                ));
            }
            provision_memory(network, m, uri, credential, seed, vault, path)
        }
        ExternalKeyManagerKind::Http => {
            if !m.keys.is_empty() {
                return Err(invalid(
                    &format!("{path}.keys"),
                    "an external key manager of kind \"http\" holds its own keys",
                ));
            }
            if m.faults != ProxyFaults::default() {
                return Err(invalid(
                    &format!("{path}.faults"),
                    "faults are only for an external key manager of kind \"memory\"",
                ));
            }
            register_vpc_endpoint_service(network, m);
            network.attach(uri.endpoint(), http_client(m, region, path)?);
            Ok(ProvisionedProxy {
                uri_endpoint: uri.endpoint().to_owned(),
                uri_path: uri.path().to_owned(),
                keys: Vec::new(),
            })
        }
    }
}

/// The HTTP XKS client for entry `m`, signing for `region`.
#[cfg(feature = "xks-http")]
fn http_client(
    m: &ExternalKeyManagerFixture,
    region: &str,
    path: &str,
) -> Result<Arc<dyn crate::store::external::ExternalKeyManager>> {
    use crate::wire::xks_client::{HttpXksClient, HttpXksClientConfig};
    use std::net::ToSocketAddrs;
    let read = |name: &str, file: &std::path::Path| {
        std::fs::read(file)
            .map(zeroize::Zeroizing::new)
            .map_err(|e| {
                invalid(
                    &format!("{path}.{name}"),
                    &format!("cannot read {}: {e}", file.display()),
                )
            })
    };
    let mut config = HttpXksClientConfig::new().region(region);
    if let Some(url) = &m.proxy_url {
        let member = format!("{path}.proxy_url");
        let (authority, port) = if let Some(rest) = url.strip_prefix("https://") {
            (rest, 443)
        } else if let Some(rest) = url.strip_prefix("http://") {
            config = config.allow_plain_http();
            (rest, 80)
        } else {
            return Err(invalid(&member, "must start with https:// or http://"));
        };
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        if authority.is_empty() || authority.contains('/') {
            return Err(invalid(
                &member,
                "must be scheme://host[:port], without a path",
            ));
        }
        let has_port = authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            && !authority.ends_with(']');
        let target = if has_port {
            authority.to_owned()
        } else {
            format!("{authority}:{port}")
        };
        let addr = target
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| invalid(&member, &format!("cannot resolve {target}")))?;
        config = config.connect_to(addr);
    }
    if let Some(file) = &m.root_certificates {
        config = config
            .root_certificates_pem(&read("root_certificates", file)?)
            .map_err(|e| at(&format!("{path}.root_certificates"), e))?;
    }
    match (&m.client_certificate, &m.client_key) {
        (Some(chain), Some(key)) => {
            config = config
                .client_certificate_pem(
                    &read("client_certificate", chain)?,
                    &read("client_key", key)?,
                )
                .map_err(|e| at(&format!("{path}.client_certificate"), e))?;
        }
        (None, None) => {}
        _ => {
            return Err(invalid(
                path,
                "client_certificate and client_key go together",
            ));
        }
    }
    Ok(Arc::new(HttpXksClient::new(config)))
}

/// Without the `xks-http` feature there is no HTTP client.
#[cfg(not(feature = "xks-http"))]
fn http_client(
    _: &ExternalKeyManagerFixture,
    _: &str,
    path: &str,
) -> Result<Arc<dyn crate::store::external::ExternalKeyManager>> {
    Err(invalid(
        &format!("{path}.kind"),
        "\"http\" needs the crate's `xks-http` feature",
    ))
}

/// A VPC endpoint service in front of entry `m`'s proxy, if it names one.
fn register_vpc_endpoint_service(network: &XksNetwork, m: &ExternalKeyManagerFixture) {
    if let Some(v) = &m.vpc_endpoint_service {
        network.register_vpc_endpoint_service(
            &v.name,
            VpcEndpointService {
                endpoint: m.uri_endpoint.clone(),
                not_found: v.not_found,
                invalid_configuration: v.invalid_configuration,
            },
        );
    }
}

/// The in-memory manager of entry `m`, with its keys and faults.
fn provision_memory(
    network: &XksNetwork,
    m: &ExternalKeyManagerFixture,
    uri: XksProxyUri,
    credential: XksCredential,
    seed: Option<u64>,
    vault: Option<&KeyVault>,
    path: &str,
) -> Result<ProvisionedProxy> {
    let manager = InMemoryExternalKeyManager::new(uri.clone(), credential, seed);
    let mut wanted = Vec::with_capacity(m.keys.len());
    for (j, k) in m.keys.iter().enumerate() {
        let id: XksKeyId =
            k.id.parse()
                .map_err(|e| at(&format!("{path}.keys[{j}]"), e))?;
        let usages = k
            .usages
            .clone()
            .unwrap_or_else(|| vec![XksKeyUsage::Encrypt, XksKeyUsage::Decrypt]);
        let spec = k.spec.unwrap_or(XksKeySpec::Aes256);
        wanted.push((id, spec, usages, k.status.unwrap_or(XksKeyStatus::Enabled)));
    }
    match vault {
        Some(vault) => vault.add_keys(&manager, &wanted, path)?,
        None => {
            for (j, (id, spec, usages, status)) in wanted.iter().enumerate() {
                manager
                    .add_key(id.as_str(), *spec, usages, *status)
                    .map_err(|e| at(&format!("{path}.keys[{j}]"), e))?;
            }
        }
    }
    let keys: Vec<XksKeyId> = wanted.into_iter().map(|(id, ..)| id).collect();
    let f = &m.faults;
    manager.set_unreachable(f.unreachable);
    manager.set_invalid_tls(f.invalid_tls);
    manager.set_malformed_response(f.malformed_response);
    manager.set_throttling(f.throttling);
    manager.set_access_denied(f.access_denied);
    manager.set_internal_error(f.internal_error);
    if let Some(health) = f.ekm_health {
        manager.set_ekm_health(health);
    }
    if let Some(ms) = f.latency_ms {
        manager.set_latency(Latency::simulated(Duration::from_millis(ms)));
    }
    register_vpc_endpoint_service(network, m);
    network.attach(uri.endpoint(), Arc::new(manager));
    Ok(ProvisionedProxy {
        uri_endpoint: uri.endpoint().to_owned(),
        uri_path: uri.path().to_owned(),
        keys,
    })
}
