//! The records durable storage keeps: plain data with serde, one type per
//! table, independent of the API's JSON shapes (so the wire format can
//! change without touching files on disk).
//!
//! Records hold secrets in the clear (key material, the `kmsuser` password,
//! the XKS secret access key): they exist only between the service's state
//! and the sealing step, are zeroized on drop, and have no `Debug`.
//! Timestamps are milliseconds since the epoch; enums with an AWS name are
//! stored as that name.
#![cfg_attr(
    not(feature = "durable"),
    allow(dead_code, reason = "read back only by the durable backend")
)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::key::Tag;

/// The version of the record layout; a file with a newer one is refused.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// `meta/format`: what the file is (stored unsealed, so a wrong root key and
/// a foreign file are told apart).
#[derive(Serialize, Deserialize)]
pub(crate) struct FormatRecord {
    /// Always `kms-keystore`.
    pub(crate) application: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub(crate) version: u32,
}

/// `meta/service`: whose state this is.
#[derive(Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ServiceRecord {
    pub(crate) account_id: String,
    pub(crate) region: String,
    /// The RNG seed of a deterministic service.
    pub(crate) seed: Option<u64>,
}

/// `meta/rng`: where the seeded random stream is, in 32-bit words (decimal).
#[derive(Serialize, Deserialize)]
pub(crate) struct RngRecord {
    pub(crate) word_pos: String,
}

/// 32 secret bytes, as base64 in the record.
#[derive(Clone)]
pub(crate) struct SecretBytes(pub(crate) Zeroizing<[u8; 32]>);

impl Serialize for SecretBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b64 = Zeroizing::new(crate::base64_blob::encode(self.0.as_ref()));
        s.serialize_str(&b64)
    }
}

impl<'de> Deserialize<'de> for SecretBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Zeroizing::new(String::deserialize(d)?);
        let v = Zeroizing::new(crate::base64_blob::decode(&s).map_err(serde::de::Error::custom)?);
        let mut out = Zeroizing::new([0u8; 32]);
        if v.len() != out.len() {
            return Err(serde::de::Error::custom("secret bytes must be 32 bytes"));
        }
        out.copy_from_slice(&v);
        Ok(SecretBytes(out))
    }
}

/// Secret bytes of any length (an HMAC key), as base64 in the record.
pub(crate) struct SecretVec(pub(crate) Zeroizing<Vec<u8>>);

impl SecretVec {
    pub(crate) fn new(bytes: &[u8]) -> SecretVec {
        SecretVec(Zeroizing::new(bytes.to_vec()))
    }
}

impl Serialize for SecretVec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b64 = Zeroizing::new(crate::base64_blob::encode(&self.0));
        s.serialize_str(&b64)
    }
}

impl<'de> Deserialize<'de> for SecretVec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Zeroizing::new(String::deserialize(d)?);
        let v = crate::base64_blob::decode(&s).map_err(serde::de::Error::custom)?;
        Ok(SecretVec(Zeroizing::new(v)))
    }
}

/// The secret of a key that is not a symmetric encryption key, inside its
/// key record (sealed with the rest of the record).
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind")]
pub(crate) enum KeySecretRecord {
    /// An HMAC key: its `KeySpec` and its bytes.
    Hmac { spec: String, key: SecretVec },
    /// An HMAC key with imported material: its `KeySpec` (its bytes are in
    /// its state record's import, while imported).
    ImportedHmac { spec: String },
    /// An asymmetric key: its `KeySpec`, its `KeyUsage` and its private
    /// key as PKCS#8 DER.
    Asymmetric {
        spec: String,
        usage: String,
        private_key: SecretVec,
    },
    /// An asymmetric key with imported material: its `KeySpec` and
    /// `KeyUsage` (its private key, PKCS#8 DER, is in its state record's
    /// import, while imported).
    ImportedAsymmetric { spec: String, usage: String },
}

/// A secret string (password, secret access key) in the clear, zeroized.
pub(crate) struct SecretText(pub(crate) Zeroizing<String>);

impl SecretText {
    pub(crate) fn new(s: &str) -> SecretText {
        SecretText(Zeroizing::new(s.to_owned()))
    }
}

impl Serialize for SecretText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(SecretText(Zeroizing::new(String::deserialize(d)?)))
    }
}

/// `keys/<key id>`: what never changes about a KMS key (written once, by
/// CreateKey).
#[derive(Serialize, Deserialize)]
pub(crate) struct KeyRecord {
    /// Creation order, for ListKeys.
    pub(crate) order: u64,
    pub(crate) creation_date: u64,
    pub(crate) backing: BackingRecord,
    /// KMS-held material (AWS_KMS and EXTERNAL_KEY_STORE keys).
    pub(crate) material: Option<SecretBytes>,
    /// The secret of an HMAC key (absent for symmetric encryption keys, and
    /// in files written before HMAC keys existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) secret: Option<KeySecretRecord>,
    /// True for an AWS managed key (absent, false, in files written before
    /// AWS managed keys existed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) aws_managed: bool,
}

/// `key_states/<key id>`: what the key operations change.
#[derive(Serialize, Deserialize)]
pub(crate) struct KeyStateRecord {
    pub(crate) lifecycle: LifecycleRecord,
    pub(crate) description: String,
    pub(crate) tags: Vec<Tag>,
    /// `None`: the default key policy.
    pub(crate) policy: Option<String>,
    /// The key's grants, in creation order (absent in files written before
    /// grants existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) grants: Vec<GrantRecord>,
    /// The versions of the key's material after the first (which is in the
    /// key record), oldest first (absent in files written before key
    /// rotation existed: no rotations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) rotations: Vec<RotationRecord>,
    /// Automatic rotation and the on-demand count (absent: never enabled,
    /// no on-demand rotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rotation: Option<RotationScheduleRecord>,
    /// A multi-Region key's primary and replica Regions (absent for a
    /// single-Region key, and in files written before multi-Region keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) multi_region: Option<MultiRegionRecord>,
    /// A key with imported material: its imports (absent for other keys,
    /// and in files written before imported material existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) import: Option<ImportRecord>,
}

/// A key's imported materials, inside its key state record. The import
/// parameters (wrapping key pairs, tokens) are not recorded: a token does
/// not survive a restart.
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct ImportRecord {
    /// Every material associated with the key, by version index (absent
    /// in files written before imported materials rotated: those have the
    /// one material in the fields below).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) materials: Vec<ImportedMaterialRecord>,
    /// The current material's index.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) current: u32,
    /// Files before rotation: the material, while the key had it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) material: Option<SecretBytes>,
    /// Files before rotation: when it was imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) date: Option<u64>,
    /// Files before rotation: its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) material_id: Option<String>,
    /// Files before rotation: its expiration while imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expiration: Option<ExpirationRecord>,
    /// Files before rotation: its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One material of a key with imported material.
#[derive(Serialize, Deserialize)]
pub(crate) struct ImportedMaterialRecord {
    /// Its id (64 hex digits).
    pub(crate) material_id: String,
    /// A symmetric key's material, while imported (sealed with the
    /// record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) material: Option<SecretBytes>,
    /// When it was imported (with `material`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) date: Option<u64>,
    /// An HMAC key's material, while imported (sealed with the record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) secret: Option<SecretVec>,
    /// While imported: `Never`, or when it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expiration: Option<ExpirationRecord>,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    /// When RotateKeyOnDemand made it current (milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rotation_date: Option<u64>,
}

/// When imported material expires.
#[derive(Serialize, Deserialize)]
#[serde(tag = "model")]
pub(crate) enum ExpirationRecord {
    /// `KEY_MATERIAL_DOES_NOT_EXPIRE`.
    Never,
    /// `KEY_MATERIAL_EXPIRES`.
    At { valid_to: u64 },
}

/// A multi-Region key's relations, inside its key state record.
#[derive(Serialize, Deserialize)]
pub(crate) struct MultiRegionRecord {
    pub(crate) primary: String,
    pub(crate) replicas: Vec<String>,
}

/// One rotation of a key's material, inside its key state record.
#[derive(Serialize, Deserialize)]
pub(crate) struct RotationRecord {
    pub(crate) material: SecretBytes,
    pub(crate) date: u64,
    /// `AUTOMATIC` or `ON_DEMAND`.
    pub(crate) kind: String,
}

/// A key's automatic rotation schedule, inside its key state record.
#[derive(Serialize, Deserialize)]
pub(crate) struct RotationScheduleRecord {
    pub(crate) enabled: bool,
    pub(crate) period_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) next: Option<u64>,
    #[serde(default)]
    pub(crate) on_demand_count: u32,
}

/// One grant of a key, inside its key state record.
#[derive(Serialize, Deserialize)]
pub(crate) struct GrantRecord {
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    pub(crate) creation_date: u64,
    pub(crate) grantee: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) retiring: Option<String>,
    /// The operations, by their API names.
    pub(crate) operations: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) context_equals: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) context_subset: Option<BTreeMap<String, String>>,
}

/// Where a key's material is.
#[derive(Serialize, Deserialize)]
#[serde(tag = "origin")]
pub(crate) enum BackingRecord {
    /// `AWS_KMS`.
    Kms,
    /// `AWS_CLOUDHSM`: in the store's cluster, labelled with the key ARN.
    CloudHsm { store: String },
    /// `EXTERNAL_KEY_STORE`: KMS material plus an external key.
    External { store: String, xks_key_id: String },
    /// `EXTERNAL`: imported key material.
    Imported,
}

/// A key's own state.
#[derive(Serialize, Deserialize)]
#[serde(tag = "state")]
pub(crate) enum LifecycleRecord {
    Enabled,
    Disabled,
    PendingDeletion {
        deletion_date: u64,
        window_days: u32,
    },
    PendingReplicaDeletion {
        window_days: u32,
    },
    PendingImport,
}

/// `aliases/<alias name>`.
#[derive(Serialize, Deserialize)]
pub(crate) struct AliasRecord {
    pub(crate) target: String,
    pub(crate) creation_date: u64,
    pub(crate) last_updated_date: u64,
}

/// `stores/<custom key store id>`: what never changes about a custom key
/// store.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoreRecord {
    /// Creation order, for DescribeCustomKeyStores.
    pub(crate) order: u64,
    pub(crate) creation_date: u64,
}

/// `store_states/<custom key store id>`: a custom key store's name,
/// connection state and settings. Its request quota is not stored (it
/// starts full on open).
#[derive(Serialize, Deserialize)]
pub(crate) struct StoreStateRecord {
    pub(crate) name: String,
    pub(crate) state: ConnectionRecord,
    /// Stepped mode: when the pending CONNECTING/DISCONNECTING was due.
    pub(crate) transition_due: Option<u64>,
    pub(crate) backend: StoreBackendRecord,
}

/// A store's connection state.
#[derive(Serialize, Deserialize)]
#[serde(tag = "state")]
pub(crate) enum ConnectionRecord {
    Disconnected,
    Connecting,
    Connected,
    /// The `ConnectionErrorCode`, by its API name.
    Failed {
        code: String,
    },
    Disconnecting,
}

/// A store's backend settings.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type")]
pub(crate) enum StoreBackendRecord {
    CloudHsm {
        cluster_id: String,
        trust_anchor_certificate: String,
        cluster_certificate: String,
        key_store_password: SecretText,
    },
    External {
        uri_endpoint: String,
        uri_path: String,
        /// `XksProxyConnectivityType`, by its API name.
        connectivity: String,
        vpc_endpoint_service_name: Option<String>,
        vpc_endpoint_service_owner: Option<String>,
        access_key_id: String,
        secret_access_key: SecretText,
    },
}

/// `clusters/<cluster id>`: a modelled CloudHSM cluster, without its key
/// objects (those are in `cluster_keys`).
#[derive(Serialize, Deserialize)]
pub(crate) struct ClusterRecord {
    /// `ClusterState`, by its API name.
    pub(crate) state: String,
    pub(crate) vpc_id: String,
    pub(crate) security_group: SecurityGroupRecord,
    pub(crate) subnets: BTreeMap<String, SubnetRecord>,
    pub(crate) create_timestamp: u64,
    pub(crate) certificate: Option<CertificateRecord>,
    /// 16 bytes, hex.
    pub(crate) lineage: String,
    pub(crate) awaiting_first_hsm: bool,
    pub(crate) hsms: Vec<HsmRecord>,
    pub(crate) users: BTreeMap<String, UserRecord>,
    pub(crate) network_reachable: bool,
    pub(crate) internal_error: bool,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct SecurityGroupRecord {
    pub(crate) id: String,
    pub(crate) inbound_2223_2225: bool,
    pub(crate) outbound_2223_2225: bool,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct SubnetRecord {
    pub(crate) az: String,
    pub(crate) octet: u8,
    pub(crate) free_addresses: u32,
    pub(crate) next_host: u8,
    pub(crate) deleted: bool,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct CertificateRecord {
    pub(crate) cluster_certificate: String,
    pub(crate) trust_anchor: String,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct HsmRecord {
    pub(crate) id: String,
    pub(crate) az: String,
    pub(crate) subnet_id: String,
    pub(crate) eni_id: String,
    pub(crate) eni_ip: String,
    /// `HsmState`, by its API name.
    pub(crate) state: String,
    pub(crate) state_message: String,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct UserRecord {
    pub(crate) password: SecretText,
    pub(crate) two_factor: bool,
    pub(crate) failed_logins: u8,
    pub(crate) locked_out: bool,
    pub(crate) logged_in_elsewhere: bool,
    pub(crate) kms_session: bool,
}

/// `cluster_keys/<cluster id>/<label>`: a key object in a cluster.
#[derive(Serialize, Deserialize)]
pub(crate) struct ClusterKeyRecord {
    pub(crate) material: SecretBytes,
    /// The HSMs holding a copy.
    pub(crate) holders: Vec<String>,
}

#[cfg(test)]
mod rotation_record_tests {
    use super::*;

    #[test]
    fn a_key_state_record_written_before_rotation_existed_loads_with_no_rotations() {
        let old = br#"{"lifecycle":{"state":"Enabled"},"description":"d","tags":[],"policy":null}"#;
        let rec: KeyStateRecord = serde_json::from_slice(old).unwrap();
        assert!(rec.rotations.is_empty());
        assert!(rec.rotation.is_none());
    }
}
