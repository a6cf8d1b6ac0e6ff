//! The accounts × Regions a server's [`Dispatcher`](super::Dispatcher)
//! serves: a [`Partition`] whose members are created on first use from a
//! [`MemberTemplate`] (same clock, a seed derived per account × Region, one
//! durable file each under the data directory).

use std::sync::Arc;

use crate::clock::{Clock, Timestamp};
use crate::error::{Error, Result};
use crate::kms::{Kms, KmsConfig, Partition};

/// How a server makes the KMS of an account × Region it has not served
/// yet ([`Dispatcher::for_partition`](super::Dispatcher::for_partition)).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MemberTemplate {
    clock: Arc<dyn Clock>,
    default_account: String,
    default_region: String,
    seed: Option<u64>,
    #[cfg(feature = "durable")]
    durable: Option<(std::path::PathBuf, crate::storage::RootKey)>,
}

/// A shared clock, as a [`Clock`].
#[derive(Clone, Debug)]
struct SharedClock(Arc<dyn Clock>);

impl Clock for SharedClock {
    fn now(&self) -> Timestamp {
        self.0.now()
    }
}

impl MemberTemplate {
    /// Members in memory on `clock`, OS-seeded; `default_account` in
    /// `default_region` is the server's default (it keeps the seed as
    /// given, where [`MemberTemplate::with_seed`] sets one).
    pub fn new(clock: Arc<dyn Clock>, default_account: &str, default_region: &str) -> Self {
        MemberTemplate {
            clock,
            default_account: default_account.to_owned(),
            default_region: default_region.to_owned(),
            seed: None,
            #[cfg(feature = "durable")]
            durable: None,
        }
    }

    /// Seeded members: the default account × Region gets `seed`, every
    /// other one a seed derived from `seed`, its account and its Region
    /// (so that two Regions do not make the same key ids).
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Durable members: each account × Region in the file
    /// `<dir>/<account>-<region>.redb`, sealed under `root_key`.
    #[cfg(feature = "durable")]
    #[must_use]
    pub fn with_data_dir(
        mut self,
        dir: impl AsRef<std::path::Path>,
        root_key: crate::storage::RootKey,
    ) -> Self {
        self.durable = Some((dir.as_ref().to_owned(), root_key));
        self
    }

    /// The durable file of `account` in `region`, if durable.
    pub fn data_file(&self, account: &str, region: &str) -> Option<std::path::PathBuf> {
        #[cfg(feature = "durable")]
        {
            self.durable
                .as_ref()
                .map(|(dir, _)| dir.join(format!("{account}-{region}.redb")))
        }
        #[cfg(not(feature = "durable"))]
        {
            let _ = (account, region);
            None
        }
    }

    /// The seed of `account` in `region`, if seeded.
    pub fn seed_of(&self, account: &str, region: &str) -> Option<u64> {
        let seed = self.seed?;
        if account == self.default_account && region == self.default_region {
            return Some(seed);
        }
        // FNV-1a over "account/region": stable across builds and versions.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in account.bytes().chain([b'/']).chain(region.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Some(seed ^ h)
    }

    /// The configuration of `account` in `region`.
    ///
    /// # Errors
    /// `ValidationException` for an account or Region that is not valid.
    pub fn config(&self, account: &str, region: &str) -> Result<KmsConfig> {
        let mut config =
            KmsConfig::new(account, region)?.with_clock(SharedClock(Arc::clone(&self.clock)));
        if let Some(seed) = self.seed_of(account, region) {
            config = config.with_seed(seed);
        }
        #[cfg(feature = "durable")]
        if let (Some(path), Some((_, root))) = (self.data_file(account, region), &self.durable) {
            config = config.with_durable_storage(path, root.clone());
        }
        Ok(config)
    }
}

/// A partition and how to add to it.
#[derive(Debug)]
pub(crate) struct Members {
    pub(crate) partition: Partition,
    pub(crate) template: MemberTemplate,
}

impl Members {
    pub(crate) fn new(partition: Partition, template: MemberTemplate) -> Members {
        Members {
            partition,
            template,
        }
    }

    /// The KMS of `account` in `region`, added to the partition if new.
    pub(crate) fn get_or_add(&self, account: &str, region: &str) -> Result<Kms> {
        if let Some(kms) = self.partition.kms(account, region) {
            return Ok(kms);
        }
        match self.partition.add(self.template.config(account, region)?) {
            Ok(kms) => Ok(kms),
            // Another request added it first.
            Err(Error::AlreadyExists { .. }) => self
                .partition
                .kms(account, region)
                .ok_or_else(|| Error::internal("a partition member vanished")),
            Err(e) => Err(e),
        }
    }
}
