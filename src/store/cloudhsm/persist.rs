//! Durable state of the modelled clusters: how a change to a cluster is
//! committed, and the conversions between clusters and their records.
//!
//! Every change goes through [`CloudHsm::mutate`]. In memory it runs in place
//! under the clusters' write lock, as before. Durable, it takes the
//! clusters' *upgradable* read lock (one writer at a time; readers, such as
//! Encrypt with a cluster key, carry on), runs the change on a copy of the
//! cluster, commits the cluster's changed records — plus any records the
//! caller adds, such as the KMS key store whose `kmsuser` password a connect
//! rotated — and only then swaps the copy in. A failed commit leaves the
//! cluster as it was.
//!
//! Records: `clusters/<id>` holds everything but the key objects;
//! `cluster_keys/<id>/<label>` holds each key object's material and holders,
//! written only when it is created, its holders change, or it is deleted.
#![cfg_attr(
    not(feature = "durable"),
    allow(dead_code, reason = "restoring clusters needs the durable backend")
)]

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use super::{
    Certificate, CloudHsm, Cluster, ClusterState, CryptoUser, CuPassword, Hsm, HsmState, KeyObject,
    SecurityGroup, Subnet,
};
use crate::clock::Timestamp;
use crate::crypto::KeyMaterial;
use crate::error::{Error, Result, kms_err};
use crate::ids::{ClusterId, HsmId};
use crate::storage::records::{
    CertificateRecord, ClusterKeyRecord, ClusterRecord, HsmRecord, SecretBytes, SecretText,
    SecurityGroupRecord, SubnetRecord, UserRecord,
};
use crate::storage::{Batch, Table};

/// The record key of a key object.
fn key_object_key(id: &ClusterId, label: &str) -> String {
    format!("{id}/{label}")
}

fn cluster_not_found(id: &ClusterId) -> Error {
    kms_err!(CloudHsmResourceNotFound, "Cluster {id} does not exist.")
}

impl KeyObject {
    fn to_record(&self) -> ClusterKeyRecord {
        ClusterKeyRecord {
            material: SecretBytes(Zeroizing::new(*self.material.expose_secret())),
            holders: self.holders.iter().map(ToString::to_string).collect(),
        }
    }

    fn from_record(rec: ClusterKeyRecord) -> Result<KeyObject> {
        let material = KeyMaterial::from_bytes(*rec.material.0);
        let holders = rec
            .holders
            .iter()
            .map(|h| h.parse())
            .collect::<Result<Vec<HsmId>>>()?;
        Ok(KeyObject::new(material, holders))
    }
}

impl Cluster {
    fn to_record(&self) -> ClusterRecord {
        ClusterRecord {
            state: self.state.as_str().to_owned(),
            vpc_id: self.vpc_id.clone(),
            security_group: SecurityGroupRecord {
                id: self.security_group.id.clone(),
                inbound_2223_2225: self.security_group.inbound_2223_2225,
                outbound_2223_2225: self.security_group.outbound_2223_2225,
            },
            subnets: self
                .subnets
                .iter()
                .map(|(id, s)| {
                    (
                        id.clone(),
                        SubnetRecord {
                            az: s.az.clone(),
                            octet: s.octet,
                            free_addresses: s.free_addresses,
                            next_host: s.next_host,
                            deleted: s.deleted,
                        },
                    )
                })
                .collect(),
            create_timestamp: self.create_timestamp.as_millis(),
            certificate: self.certificate.as_ref().map(|c| CertificateRecord {
                cluster_certificate: c.cluster_certificate.clone(),
                trust_anchor: c.trust_anchor.clone(),
            }),
            lineage: super::hex(&self.lineage),
            awaiting_first_hsm: self.awaiting_first_hsm,
            hsms: self
                .hsms
                .iter()
                .map(|h| HsmRecord {
                    id: h.id.to_string(),
                    az: h.az.clone(),
                    subnet_id: h.subnet_id.clone(),
                    eni_id: h.eni_id.clone(),
                    eni_ip: h.eni_ip.clone(),
                    state: h.state.as_str().to_owned(),
                    state_message: h.state_message.clone(),
                })
                .collect(),
            users: self
                .users
                .iter()
                .map(|(name, u)| {
                    (
                        name.clone(),
                        UserRecord {
                            password: SecretText::new(u.password.expose_secret()),
                            two_factor: u.two_factor,
                            failed_logins: u.failed_logins,
                            locked_out: u.locked_out,
                            logged_in_elsewhere: u.logged_in_elsewhere,
                            kms_session: u.kms_session,
                        },
                    )
                })
                .collect(),
            network_reachable: self.network_reachable,
            internal_error: self.internal_error,
        }
    }

    fn from_record(
        id: ClusterId,
        rec: ClusterRecord,
        keys: BTreeMap<String, KeyObject>,
    ) -> Result<Cluster> {
        let lineage_bytes = unhex(&rec.lineage)
            .ok_or_else(|| Error::internal("a cluster record with a bad lineage"))?;
        let lineage: [u8; 16] = lineage_bytes
            .try_into()
            .map_err(|_| Error::internal("a cluster record with a bad lineage"))?;
        Ok(Cluster {
            id,
            state: rec.state.parse::<ClusterState>()?,
            vpc_id: rec.vpc_id,
            security_group: SecurityGroup {
                id: rec.security_group.id,
                inbound_2223_2225: rec.security_group.inbound_2223_2225,
                outbound_2223_2225: rec.security_group.outbound_2223_2225,
            },
            subnets: rec
                .subnets
                .into_iter()
                .map(|(id, s)| {
                    (
                        id,
                        Subnet {
                            az: s.az,
                            octet: s.octet,
                            free_addresses: s.free_addresses,
                            next_host: s.next_host,
                            deleted: s.deleted,
                        },
                    )
                })
                .collect(),
            create_timestamp: Timestamp::from_millis(rec.create_timestamp),
            certificate: rec.certificate.map(|c| Certificate {
                cluster_certificate: c.cluster_certificate,
                trust_anchor: c.trust_anchor,
            }),
            lineage,
            awaiting_first_hsm: rec.awaiting_first_hsm,
            hsms: rec
                .hsms
                .into_iter()
                .map(|h| {
                    Ok(Hsm {
                        id: h.id.parse()?,
                        az: h.az,
                        subnet_id: h.subnet_id,
                        eni_id: h.eni_id,
                        eni_ip: h.eni_ip,
                        state: h.state.parse::<HsmState>()?,
                        state_message: h.state_message,
                    })
                })
                .collect::<Result<Vec<Hsm>>>()?,
            users: rec
                .users
                .into_iter()
                .map(|(name, u)| {
                    (
                        name,
                        CryptoUser {
                            password: CuPassword::new(&u.password.0),
                            two_factor: u.two_factor,
                            failed_logins: u.failed_logins,
                            locked_out: u.locked_out,
                            logged_in_elsewhere: u.logged_in_elsewhere,
                            kms_session: u.kms_session,
                        },
                    )
                })
                .collect(),
            keys,
            network_reachable: rec.network_reachable,
            internal_error: rec.internal_error,
        })
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| {
            let d = |c: u8| char::from(c).to_digit(16);
            u8::try_from(d(p[0])? * 16 + d(p[1])?).ok()
        })
        .collect()
}

/// Adds to `batch` the writes that turn `old` into `new` (either may be
/// absent: a created or a deleted cluster). Key objects are written only
/// when new, changed (their holders), or gone.
fn cluster_writes(
    id: &ClusterId,
    old: Option<&Cluster>,
    new: Option<&Cluster>,
    batch: &mut Batch,
) -> Result<()> {
    match new {
        Some(c) => batch.put(Table::Clusters, id.to_string(), &c.to_record())?,
        None => batch.delete(Table::Clusters, id.to_string()),
    }
    let empty = BTreeMap::new();
    let old_keys = old.map_or(&empty, |c| &c.keys);
    let new_keys = new.map_or(&empty, |c| &c.keys);
    for (label, obj) in new_keys {
        let changed = old_keys
            .get(label)
            .is_none_or(|o| o.holders != obj.holders || o.material != obj.material);
        if changed {
            batch.put(
                Table::ClusterKeys,
                key_object_key(id, label),
                &obj.to_record(),
            )?;
        }
    }
    for label in old_keys.keys() {
        if !new_keys.contains_key(label) {
            batch.delete(Table::ClusterKeys, key_object_key(id, label));
        }
    }
    Ok(())
}

impl CloudHsm {
    /// Runs `f` on cluster `id` (or on `None` if there is no such cluster),
    /// then lets `extra` add the caller's own records, and makes the change
    /// durable before it is visible (see the module documentation). `extra`
    /// runs in memory too, where its batch is discarded.
    ///
    /// Nothing changes if `f`, `extra` or the commit fails.
    pub(super) fn mutate<T>(
        &self,
        id: &ClusterId,
        f: impl FnOnce(Option<&mut Cluster>) -> Result<T>,
        extra: impl FnOnce(&T, &mut Batch) -> Result<()>,
    ) -> Result<T> {
        let storage = &self.0.storage;
        if !storage.is_durable() {
            let mut clusters = self.0.clusters.write();
            let out = f(clusters.get_mut(id))?;
            drop(clusters);
            extra(&out, &mut Batch::new())?;
            return Ok(out);
        }
        let clusters = self.0.clusters.upgradable_read();
        let old = clusters.get(id);
        let mut next = old.cloned();
        let out = f(next.as_mut())?;
        let mut batch = Batch::new();
        if let Some(new) = &next {
            cluster_writes(id, old, Some(new), &mut batch)?;
        }
        extra(&out, &mut batch)?;
        storage.commit(batch)?;
        if let Some(new) = next {
            let mut clusters = clusters.upgrade();
            clusters.insert(id.clone(), new);
        }
        Ok(out)
    }

    /// [`CloudHsm::mutate`] for a cluster that must exist
    /// (`CloudHsmResourceNotFoundException` otherwise).
    pub(super) fn with_cluster<T>(
        &self,
        id: &ClusterId,
        f: impl FnOnce(&mut Cluster) -> Result<T>,
    ) -> Result<T> {
        self.mutate(
            id,
            |c| f(c.ok_or_else(|| cluster_not_found(id))?),
            |_, _| Ok(()),
        )
    }

    /// Adds a new cluster, durably. A cluster with its id already there is
    /// `CloudHsmInvalidRequestException`.
    pub(super) fn insert_cluster(&self, cluster: Cluster) -> Result<()> {
        let exists = |id: &ClusterId| {
            kms_err!(CloudHsmInvalidRequest, "Cluster {id} already exists.")
                .with_hint("Choose another cluster id.")
        };
        let storage = &self.0.storage;
        if !storage.is_durable() {
            let mut clusters = self.0.clusters.write();
            if clusters.contains_key(&cluster.id) {
                return Err(exists(&cluster.id));
            }
            clusters.insert(cluster.id.clone(), cluster);
            return Ok(());
        }
        let clusters = self.0.clusters.upgradable_read();
        if clusters.contains_key(&cluster.id) {
            return Err(exists(&cluster.id));
        }
        let mut batch = Batch::new();
        cluster_writes(&cluster.id, None, Some(&cluster), &mut batch)?;
        storage.commit(batch)?;
        clusters.upgrade().insert(cluster.id.clone(), cluster);
        Ok(())
    }

    /// Deletes a cluster and its key objects, durably.
    pub(super) fn remove_cluster(&self, id: &ClusterId) -> Result<()> {
        let storage = &self.0.storage;
        if !storage.is_durable() {
            return self
                .0
                .clusters
                .write()
                .remove(id)
                .map(drop)
                .ok_or_else(|| cluster_not_found(id));
        }
        let clusters = self.0.clusters.upgradable_read();
        let old = clusters.get(id).ok_or_else(|| cluster_not_found(id))?;
        let mut batch = Batch::new();
        cluster_writes(id, Some(old), None, &mut batch)?;
        storage.commit(batch)?;
        clusters.upgrade().remove(id);
        Ok(())
    }

    /// Adds the record of key object `label` of cluster `id` to `batch`
    /// (nothing if there is none): KMS commits a new CloudHSM key's object
    /// together with the KMS key.
    pub(crate) fn put_key_object(
        &self,
        id: &ClusterId,
        label: &str,
        batch: &mut Batch,
    ) -> Result<()> {
        let clusters = self.0.clusters.read();
        if let Some(obj) = clusters.get(id).and_then(|c| c.keys.get(label)) {
            batch.put(
                Table::ClusterKeys,
                key_object_key(id, label),
                &obj.to_record(),
            )?;
        }
        Ok(())
    }

    /// Adds the deletion of key object `label` of cluster `id` to `batch`.
    pub(crate) fn delete_key_object(id: &ClusterId, label: &str, batch: &mut Batch) {
        batch.delete(Table::ClusterKeys, key_object_key(id, label));
    }

    /// Removes key object `label` from memory only: after its deletion was
    /// committed, or to undo a key generation whose commit failed.
    pub(crate) fn discard_key_object(&self, id: &ClusterId, label: &str) {
        if let Some(c) = self.0.clusters.write().get_mut(id) {
            c.keys.remove(label);
        }
    }

    /// Restores the clusters from their records (`clusters` and
    /// `cluster_keys` scans), replacing whatever is in memory.
    pub(crate) fn restore(
        &self,
        clusters: Vec<(String, ClusterRecord)>,
        key_objects: Vec<(String, ClusterKeyRecord)>,
    ) -> Result<()> {
        let mut keys: BTreeMap<String, BTreeMap<String, KeyObject>> = BTreeMap::new();
        for (key, rec) in key_objects {
            let (cluster, label) = key
                .split_once('/')
                .ok_or_else(|| Error::internal("a key object record without a cluster"))?;
            keys.entry(cluster.to_owned())
                .or_default()
                .insert(label.to_owned(), KeyObject::from_record(rec)?);
        }
        let mut out = BTreeMap::new();
        for (id, rec) in clusters {
            let objects = keys.remove(&id).unwrap_or_default();
            let id: ClusterId = id.parse()?;
            out.insert(id.clone(), Cluster::from_record(id, rec, objects)?);
        }
        *self.0.clusters.write() = out;
        Ok(())
    }
}
