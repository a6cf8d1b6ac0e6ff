//! AWS managed keys, in the service layer: a predefined alias
//! (`alias/aws/<service>`, the table in `support/managed.rs`) used as a
//! `KeyId` by an operation that uses a key (Encrypt, GenerateDataKey*,
//! ReEncrypt's destination, DescribeKey) creates the service's AWS managed
//! key on first use, and points the alias at it.
//!
//! Creation is idempotent under concurrency: the key and the alias are put
//! in under the key table's and the alias table's upgradable locks (keys →
//! aliases), after a re-check that the alias still has no key; two first
//! uses create one key, and the second gets the first's. Durable, the key
//! and its alias are committed in one transaction before either is applied.

use std::sync::Arc;

use crate::crypto::KeyMaterial;
use crate::error::Result;
use crate::ids::{AliasName, KeyIdentifier};
use crate::key::KeyManager;
use crate::kms::Call;
use crate::kms::model::aliases::AliasEntry;
use crate::kms::model::backing::Backing;
use crate::kms::model::key::{KeyEntry, KeyIdentity, KeyMutable};
use crate::kms::model::kind::KeyKind;
use crate::kms::model::versions::{MaterialVersion, Versions};
use crate::kms::support::managed::{self, ManagedService};
use crate::sync::RwLockUpgradableReadGuard;

use super::{HeldKey, Service};

impl Service {
    /// Resolves a `KeyId` parameter (any form) of an operation that uses the
    /// key: as [`Service::resolve`], except that a predefined alias of this
    /// account and Region (by name or alias ARN) that has no key yet gets
    /// its AWS managed key now. Any other `alias/aws/…` name stays
    /// `NotFoundException`.
    #[inline(always)]
    pub(crate) fn resolve_for_use(&self, cx: &Call, key_id: &str) -> Result<HeldKey> {
        match self.resolve(cx, key_id, true) {
            Err(e) if e.code() == "NotFoundException" => match self.predefined_alias(cx, key_id) {
                Some((name, service)) => self.managed_key(cx, name, service).map(HeldKey::from),
                None => Err(e),
            },
            found => found,
        }
    }

    /// The predefined alias `key_id` names in this account and Region, for
    /// a caller of this account.
    fn predefined_alias(
        &self,
        cx: &Call,
        key_id: &str,
    ) -> Option<(AliasName, &'static ManagedService)> {
        let name = match key_id.parse::<KeyIdentifier>().ok()? {
            KeyIdentifier::AliasName(name) => {
                // A bare alias name names the caller's own account's alias.
                (!self.is_foreign(cx)).then_some(name)?
            }
            KeyIdentifier::AliasArn {
                partition,
                region,
                account,
                alias,
            } => (partition == self.shared.partition
                && region == self.region.as_str()
                && account == self.account_id.as_str())
            .then_some(alias)?,
            _ => return None,
        };
        let service = managed::predefined(&name)?;
        Some((name, service))
    }

    /// The AWS managed key behind the predefined alias `name`: the one it
    /// points to, or a new one (KeyManager `AWS`, AWS's description and key
    /// policy for `service`), put in with the alias.
    fn managed_key(
        &self,
        cx: &Call,
        name: AliasName,
        service: &ManagedService,
    ) -> Result<Arc<KeyEntry>> {
        let policy = service.key_policy(
            self.shared.partition.as_str(),
            &self.account_id,
            &self.region,
        );
        let compiled = Arc::new(crate::kms::support::policy::parse_policy(&policy)?);
        let id = self.new_key_id();
        let identity = KeyIdentity {
            id,
            arn: self.key_arn(&id),
            creation_date: cx.now,
            manager: KeyManager::Aws,
            backing: Backing::Kms,
            kind: KeyKind::Symmetric,
            versions: Some(Versions::new(MaterialVersion::new(
                0,
                KeyMaterial::from_bytes(self.rng.array()),
                cx.now,
                None,
            ))),
            imported: None,
        };
        let state = KeyMutable::new(
            service.description(),
            Vec::new(),
            Some(policy),
            Some(compiled),
        );
        let entry = Arc::new(KeyEntry::new(identity, state));
        // AWS rotates its managed keys every year. Armed before the key is
        // visible (a timer whose key never appears, after a lost race or a
        // failed commit, is dropped when it fires).
        self.arm_yearly_rotation(&entry, cx.now);
        let alias = AliasEntry {
            target: id,
            creation_date: cx.now,
            last_updated_date: cx.now,
        };
        // Lock order: keys → aliases. Upgradable: the cryptographic path
        // keeps reading while the key and alias are committed.
        let keys = self.keys.upgradable_read();
        let aliases = self.aliases.upgradable_read();
        if let Some(existing) = aliases.target(&name).and_then(|k| keys.get(&k)) {
            // Another first use won the race: its key is the key.
            return Ok(existing);
        }
        self.commit()
            .persist_new_managed_key(&entry, &name, &alias)?;
        let mut keys = RwLockUpgradableReadGuard::upgrade(keys);
        keys.insert(Arc::clone(&entry));
        let mut aliases = RwLockUpgradableReadGuard::upgrade(aliases);
        aliases.insert(name, alias);
        drop(aliases);
        drop(keys);
        Ok(entry)
    }
}
