//! A multi-Region key's relations: [`MultiRegion`], the Region of its
//! primary key and the Regions of its replicas. Every related key keeps a
//! copy in its own Region's Kms (and durable file); ReplicateKey,
//! UpdatePrimaryRegion and the deletion of a replica update them all
//! (`service/multi_region.rs`).

use crate::ids::{AccountId, KeyId, Region};
use crate::key::{MultiRegionConfiguration, MultiRegionKey, MultiRegionKeyType};

/// Where the keys of one multi-Region key are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MultiRegion {
    /// The primary key's Region.
    pub(crate) primary: Region,
    /// The replicas' Regions, in the order they were made.
    pub(crate) replicas: Vec<Region>,
}

impl MultiRegion {
    /// A new primary key in `region`, with no replicas.
    pub(crate) fn primary_in(region: &Region) -> MultiRegion {
        MultiRegion {
            primary: region.clone(),
            replicas: Vec::new(),
        }
    }

    /// The role of the key in `region`.
    pub(crate) fn key_type(&self, region: &Region) -> MultiRegionKeyType {
        if self.primary == *region {
            MultiRegionKeyType::Primary
        } else {
            MultiRegionKeyType::Replica
        }
    }

    /// Every Region holding one of the keys, the primary first.
    pub(crate) fn regions(&self) -> impl Iterator<Item = &Region> {
        std::iter::once(&self.primary).chain(&self.replicas)
    }

    /// True if `region` holds one of the keys.
    pub(crate) fn has_region(&self, region: &Region) -> bool {
        self.regions().any(|r| r == region)
    }

    /// The same keys with a replica added in `region`.
    pub(crate) fn with_replica(&self, region: &Region) -> MultiRegion {
        let mut next = self.clone();
        next.replicas.push(region.clone());
        next
    }

    /// The same keys without the one in `region` (a deleted replica).
    pub(crate) fn without(&self, region: &Region) -> MultiRegion {
        let mut next = self.clone();
        next.replicas.retain(|r| r != region);
        next
    }

    /// The same keys with the replica in `region` made primary and the old
    /// primary a replica in its place.
    pub(crate) fn with_primary(&self, region: &Region) -> MultiRegion {
        let mut next = self.clone();
        for r in &mut next.replicas {
            if r == region {
                *r = self.primary.clone();
            }
        }
        next.primary = region.clone();
        next
    }

    /// DescribeKey's `MultiRegionConfiguration` for the key `id` of
    /// `account` in `region`.
    pub(crate) fn configuration(
        &self,
        id: &KeyId,
        account: &AccountId,
        region: &Region,
    ) -> MultiRegionConfiguration {
        let key = |r: &Region| MultiRegionKey {
            arn: id.arn(r, account),
            region: r.to_string(),
        };
        MultiRegionConfiguration {
            multi_region_key_type: self.key_type(region),
            primary_key: key(&self.primary),
            replica_keys: self.replicas.iter().map(key).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(s: &str) -> Region {
        s.parse().unwrap()
    }

    #[test]
    fn a_primary_region_change_swaps_the_roles_and_keeps_the_other_replicas() {
        let m = MultiRegion::primary_in(&region("us-east-1"))
            .with_replica(&region("eu-west-1"))
            .with_replica(&region("ap-south-1"));
        let moved = m.with_primary(&region("eu-west-1"));
        assert_eq!(moved.primary, region("eu-west-1"));
        assert_eq!(
            moved.replicas,
            vec![region("us-east-1"), region("ap-south-1")]
        );
        assert_eq!(
            moved.key_type(&region("us-east-1")),
            MultiRegionKeyType::Replica
        );
        let gone = moved.without(&region("ap-south-1"));
        assert_eq!(gone.replicas, vec![region("us-east-1")]);
        assert!(!gone.has_region(&region("ap-south-1")));
    }

    #[test]
    fn the_configuration_lists_every_key_by_arn_and_region() {
        let id = KeyId::multi_region_from_bytes([0xab; 16]);
        let account: AccountId = "111122223333".parse().unwrap();
        let m = MultiRegion::primary_in(&region("us-east-1")).with_replica(&region("eu-west-1"));
        let c = m.configuration(&id, &account, &region("eu-west-1"));
        assert_eq!(c.multi_region_key_type, MultiRegionKeyType::Replica);
        assert_eq!(
            c.primary_key.arn,
            format!("arn:aws:kms:us-east-1:111122223333:key/{id}")
        );
        assert_eq!(c.replica_keys.len(), 1);
        assert_eq!(c.replica_keys[0].region, "eu-west-1");
    }
}
