//! The service layer: [`Service`], which owns the tables (keys, aliases,
//! custom key stores, timers) and is the only code that takes their locks,
//! and the helpers more than one API area uses — resolving a `KeyId`
//! parameter, the key state and metadata, lifecycle transitions, the checks
//! of the cryptographic path, the custom key store steps around a backend,
//! and the due work of [`Service::advance`].
//!
//! The operations (`ops/`) call down into it; it calls down into the
//! persistence layer ([`Commit`]), the timer table, the backends (through
//! the narrow environments of `env.rs`) and the model.
//!
//! # Lock order
//!
//! Locks are taken in this order and never the other way round, and none is
//! held across an AES operation on user data or an external key manager call:
//! `keys` (the key table) → `aliases` → a key's own `state` → `stores` → a
//! CloudHSM cluster → `timers` (the timer table, `timers.rs`). Key deletion
//! when the window ends ([`Service::advance`]) takes `keys`, `aliases`, then
//! the `state` of each key it deletes (in key id order) and holds them all
//! from the re-check of the deletion date through the commit and the
//! removal, marking each key deleted under its lock: a transition that
//! waited for that lock sees the mark and answers `NotFoundException`.
//! `advance` runs with no lock held, at the start of a call
//! ([`Service::begin`]).
//! Resolving an alias takes the `aliases` read lock only to copy the target
//! key id, and releases it before looking the key up.
//! The hot path finds a key in its thread's key cache (`service/cache.rs`),
//! with no lock, and takes the key table's read lock only on a miss (to
//! clone an `Arc` of the key); it reads the key's state from its atomic
//! word ([`LifecycleWord`](super::model::key::LifecycleWord)), not its lock.
//! CreateKey re-checks, under the key table's upgradable lock and the store
//! table's upgradable lock (`keys` → `stores`), held through its commit and
//! the insert, that its custom key store still exists and is CONNECTED: the
//! check DeleteCustomKeyStore makes under the key table's lock then cannot
//! miss the key, and a disconnect cannot slip between the check and the
//! insert.
//!
//! Writers of the key table, the aliases, a key's state, the stores and the
//! clusters take the *upgradable* read lock, check, commit to durable
//! storage (see `persist/`), and only then upgrade to apply: no write lock
//! (and no plain read lock) is held across a disk commit, so the hot path
//! never waits for a commit it did not start. Due work (a key deletion, the
//! end of a stepped-mode connection change) is the exception: any call may
//! run and commit it first — the rule is written once, in `timers.rs`.

mod cache;
pub(crate) use cache::HeldKey;
pub(crate) mod grants;
pub(crate) mod import;
pub(crate) mod managed;
pub(crate) mod multi_region;
pub(crate) mod rotation;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::sync::{AtomicUsize, Ordering, RwLock, RwLockUpgradableReadGuard, Snapshot};

use crate::clock::{Clock, Timestamp};
use crate::crypto::blob::{Blob, Header};
use crate::crypto::rng::SecureRng;
use crate::crypto::{EncryptionContext, KeyMaterial, Plaintext};
use crate::error::{AwsMessage, Constraint, Error, Result, Shown, kms_err};
use crate::iam::directory::Directory;
use crate::iam::{AwsPartition, Caller, Principal};
use crate::ids::{
    AccountId, AliasName, ClusterId, CustomKeyStoreId, KeyId, KeyIdentifier, Region, XksKeyId,
};
use crate::key::state::{self, KeyOperation};
use crate::key::{
    CustomerMasterKeySpec, EncryptionAlgorithmSpec, KeyEvent, KeyLifecycle, KeyMetadata, KeySpec,
    KeyState, OriginType,
};
use crate::storage::{Batch, Storage, Table};
use crate::store::cloudhsm::CloudHsm;
use crate::store::external::XksNetwork;
use crate::store::{
    self, ConnectionErrorCode, ConnectionEvent, ConnectionState, CustomKeyStoreType,
    StoreOperation, Transition,
};

use super::backend::Finished;
use super::backend::cipher::{KeyAccess, KeyCipher, KeyRef, SingleLayer};
use super::backend::kinds;
use super::call::Call;
use super::env::{BackendEnv, CryptoEnv};
use super::model::aliases::{AliasEntry, AliasTable};
use super::model::backing::Backing;
use super::model::import::{Expiration, ImportedSet};
use super::model::key::{KeyEntry, KeyMutable};
use super::model::store::{ConnectOutcome, StoreBackend, StoreEntry, StoreTable, XksRoute};
use super::model::table::KeyTable;
use super::model::versions::{MaterialId, MaterialVersion};
use super::persist::Commit;
use super::shapes::types::{CustomKeyStoresListEntry, UpdateCustomKeyStoreRequest};
use super::support::access::{Action, Facts};
use super::support::errors::{
    invalid_ciphertext, store_not_found as not_found, xks_key_already_in_use,
};
use super::support::seal::{OpenInput, SealInput};
use super::support::validate::MAX_CIPHERTEXT_BLOB;
use super::timers::{Timer, Timers};
use super::{ConnectionMode, KmsConfig, Quotas};

/// The shared state behind a [`Kms`](super::Kms): the tables and what the
/// operations need to run.
#[derive(Debug)]
pub(crate) struct Service {
    pub(crate) account_id: AccountId,
    pub(crate) region: Region,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Arc<SecureRng>,
    pub(crate) quotas: Quotas,
    #[allow(dead_code, reason = "read by the custom key store operations")]
    pub(crate) connection_mode: ConnectionMode,
    pub(crate) keys: RwLock<KeyTable>,
    pub(crate) aliases: RwLock<AliasTable>,
    pub(crate) stores: RwLock<StoreTable>,
    /// `stores` as last changed, for the cryptographic path: a copy
    /// published (under the write lock) by every change of `stores`
    /// ([`Service::publish_stores`]), read with no lock.
    pub(crate) store_view: Snapshot<StoreTable>,
    /// Every deadline: key deletion dates, stepped-mode connection changes.
    pub(crate) timers: Timers,
    /// The CloudHSM clusters of this account and Region (same rng and clock).
    pub(crate) cloudhsm: CloudHsm,
    /// Where the state is kept: in memory, or durable (shared with `cloudhsm`).
    pub(crate) storage: Arc<Storage>,
    /// The network external key store proxies are reached through.
    pub(crate) xks_network: XksNetwork,
    /// How long KMS waits for a proxy answer.
    pub(crate) xks_timeout: Duration,
    /// The account root: the caller of a [`Kms`](super::Kms) handle not
    /// made with `as_caller`.
    pub(crate) root: Caller,
    /// The partition: its IAM identities and the other accounts' services.
    pub(crate) shared: Arc<Shared>,
    /// The default key policy, compiled on first use (`authorize.rs`).
    pub(crate) default_policy: std::sync::OnceLock<Option<Arc<crate::iam::policy::Policy>>>,
    /// This service's serial number, which tags its keys in the per-thread
    /// key cache (`service/cache.rs`).
    serial: u64,
}

/// What the services of one partition share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub(crate) partition: AwsPartition,
    /// The users, roles, identity policies and access keys of every account.
    pub(crate) iam: Directory,
    /// The services of the partition, by account and Region.
    services: RwLock<BTreeMap<(AccountId, Region), Weak<Service>>>,
    /// How many services were ever registered: while it is 1, nothing can
    /// be routed elsewhere, and the hot path skips the lookups.
    registered: AtomicUsize,
}

impl Shared {
    /// A partition with no services; `seed` makes IAM ids deterministic.
    pub(crate) fn new(partition: AwsPartition, seed: Option<u64>) -> Arc<Shared> {
        Arc::new(Shared {
            partition,
            iam: Directory::new(seed),
            services: RwLock::new(BTreeMap::new()),
            registered: AtomicUsize::new(0),
        })
    }

    /// Records `service` as the KMS of its account and Region.
    pub(crate) fn register(&self, service: &Arc<Service>) {
        self.registered.fetch_add(1, Ordering::Relaxed);
        self.services.write().insert(
            (service.account_id.clone(), service.region.clone()),
            Arc::downgrade(service),
        );
    }

    /// True if the partition has (or had) more than one service.
    #[inline]
    pub(crate) fn has_siblings(&self) -> bool {
        self.registered.load(Ordering::Relaxed) > 1
    }

    /// The live service of `account` in `region`.
    pub(crate) fn service(&self, account: &str, region: &str) -> Option<Arc<Service>> {
        let services = self.services.read();
        services
            .iter()
            .find(|((a, r), _)| a.as_str() == account && r.as_str() == region)
            .and_then(|(_, s)| s.upgrade())
    }

    /// The live services of `region`, other than `except`.
    pub(crate) fn services_in(&self, region: &Region, except: &AccountId) -> Vec<Arc<Service>> {
        let services = self.services.read();
        services
            .iter()
            .filter(|((a, r), _)| r == region && a != except)
            .filter_map(|(_, s)| s.upgrade())
            .collect()
    }

    pub(crate) fn is_live(&self, account: &AccountId, region: &Region) -> bool {
        self.services
            .read()
            .get(&(account.clone(), region.clone()))
            .is_some_and(|s| s.strong_count() > 0)
    }
}

impl Service {
    /// A service on `storage`, with empty tables.
    pub(crate) fn new(config: KmsConfig, rng: Arc<SecureRng>, storage: Arc<Storage>) -> Service {
        let shared = config
            .partition
            .clone()
            .unwrap_or_else(|| Shared::new(AwsPartition::of_region(&config.region), config.seed));
        let cloudhsm = CloudHsm::new(
            Arc::clone(&rng),
            Arc::clone(&config.clock),
            Arc::clone(&storage),
        );
        Service {
            root: Caller::new(
                Principal::root(config.account_id.clone()).in_partition(shared.partition),
            ),
            shared,
            default_policy: std::sync::OnceLock::new(),
            serial: cache::serial(),
            account_id: config.account_id,
            region: config.region,
            clock: config.clock,
            rng,
            quotas: config.quotas,
            connection_mode: config.connection_mode,
            keys: RwLock::new(KeyTable::default()),
            aliases: RwLock::new(AliasTable::default()),
            stores: RwLock::new(StoreTable::default()),
            store_view: Snapshot::new(StoreTable::default()),
            timers: Timers::default(),
            cloudhsm,
            storage,
            xks_network: XksNetwork::new(),
            xks_timeout: config.xks_proxy_timeout,
        }
    }

    /// Installs the tables a durable service restored from its file
    /// (`persist/durable.rs`), before the service is shared.
    #[cfg(feature = "durable")]
    pub(crate) fn restore(&self, keys: KeyTable, aliases: AliasTable, stores: StoreTable) {
        // Lock order: keys → aliases → stores.
        let mut table = self.keys.write();
        table.retire_all();
        *table = keys;
        drop(table);
        *self.aliases.write() = aliases;
        let mut table = self.stores.write();
        *table = stores;
        self.publish_stores(&table);
    }

    /// The persistence layer, for a commit made with the locks held.
    pub(crate) fn commit(&self) -> Commit<'_> {
        Commit {
            storage: &self.storage,
            cloudhsm: &self.cloudhsm,
        }
    }
}

impl Service {
    /// Begins a call: one clock read, then — only if a deadline has passed,
    /// which costs one atomic load to find out — the due work (see
    /// `timers.rs` for what that means for the disk).
    #[inline]
    pub(crate) fn begin<'a>(&self, caller: &'a Caller) -> Call<'a> {
        let now = self.clock.now();
        if self.timers.is_due(now) {
            self.advance(now);
        }
        Call { now, caller }
    }
}

/// Whether `entry`'s deletion date has passed by `now` (see
/// [`Service::unless_due`]).
#[inline(always)]
fn is_due(entry: &KeyEntry, now: Timestamp) -> bool {
    entry.lifecycle().deletion_date().is_some_and(|d| now >= d)
}

/// NotFoundException for a key whose deletion date has passed; takes the
/// entry (held or borrowed) so that the caller's copy ends here.
#[cold]
#[inline(never)]
fn key_gone(entry: impl std::ops::Deref<Target = KeyEntry>) -> Error {
    Error::from(AwsMessage::KeyNotFound {
        arn: entry.arn.clone(),
    })
}

impl Service {
    pub(crate) fn key_arn(&self, id: &KeyId) -> String {
        id.arn(&self.region, &self.account_id)
    }

    /// True in the China Regions (partition `aws-cn`), where AWS makes SM2
    /// keys and data key pairs.
    pub(crate) fn in_china_regions(&self) -> bool {
        self.shared.partition == AwsPartition::AwsCn
    }

    /// True if an ARN of `partition`, `region` and `account` names this
    /// service's account and Region.
    fn is_home(&self, partition: AwsPartition, region: &str, account: &str) -> bool {
        partition == self.shared.partition
            && region == self.region.as_str()
            && account == self.account_id.as_str()
    }

    /// True if the ARN `arn` plainly names this account and Region
    /// (`arn:<partition>:kms:<region>:<account>:`): the hot path's check,
    /// which parses nothing.
    #[inline]
    fn names_home(&self, arn: &str) -> bool {
        let Some(rest) = arn
            .strip_prefix("arn:")
            .and_then(|r| r.strip_prefix(self.shared.partition.as_str()))
            .and_then(|r| r.strip_prefix(":kms:"))
            .and_then(|r| r.strip_prefix(self.region.as_str()))
            .and_then(|r| r.strip_prefix(':'))
            .and_then(|r| r.strip_prefix(self.account_id.as_str()))
        else {
            return false;
        };
        rest.starts_with(':')
    }

    /// The service of another account (or Region) of the partition that a
    /// key ARN or alias ARN `key_id` names, for the operations AWS allows
    /// across accounts; `None` for anything that resolves here (or nowhere).
    pub(crate) fn route(&self, key_id: &str) -> Option<Arc<Service>> {
        if !key_id.starts_with("arn:") || !self.shared.has_siblings() || self.names_home(key_id) {
            return None;
        }
        let (partition, region, account) = match key_id.parse::<KeyIdentifier>().ok()? {
            KeyIdentifier::KeyArn {
                partition,
                region,
                account,
                ..
            }
            | KeyIdentifier::AliasArn {
                partition,
                region,
                account,
                ..
            } => (partition, region, account),
            _ => return None,
        };
        if partition != self.shared.partition || self.is_home(partition, &region, &account) {
            return None;
        }
        self.shared.service(&account, &region)
    }

    /// Resolves a `KeyId` parameter to a key. `allow_alias` is false for the
    /// operations that take only a key id or key ARN.
    pub(crate) fn resolve(&self, cx: &Call, key_id: &str, allow_alias: bool) -> Result<HeldKey> {
        // A bare key id of the caller's own account, the common case, is
        // read without building a `KeyIdentifier`; anything else, and a
        // bare id from another account, is answered by the full reading.
        let id = match KeyId::parse_hyphenated(key_id) {
            Some(id) if !self.is_foreign(cx) => id,
            _ => self.key_id_named(cx, key_id, allow_alias)?,
        };
        self.key_by_id(cx, &id)
    }

    /// Whether the caller is of another account than this KMS's.
    fn is_foreign(&self, cx: &Call) -> bool {
        cx.caller
            .principal
            .account()
            .is_some_and(|a| *a != self.account_id)
    }

    /// The key id `key_id` names, read as [`KeyIdentifier`] (see
    /// [`Service::resolve`]).
    fn key_id_named(&self, cx: &Call, key_id: &str, allow_alias: bool) -> Result<KeyId> {
        let ident: KeyIdentifier = key_id.parse()?;
        // A bare key id or alias name names a key of the caller's own
        // account: for a caller of another account, not one of these.
        let foreign = self.is_foreign(cx);
        Ok(match ident {
            KeyIdentifier::KeyId(id) if foreign => {
                return Err(Error::from(AwsMessage::KeyNotFound {
                    arn: id.arn(
                        &self.region,
                        cx.caller.principal.account().unwrap_or(&self.account_id),
                    ),
                }));
            }
            KeyIdentifier::AliasName(name) if foreign && allow_alias => {
                return Err(Error::from(AwsMessage::AliasNotFound {
                    arn: name.arn(
                        &self.region,
                        cx.caller.principal.account().unwrap_or(&self.account_id),
                    ),
                }));
            }
            KeyIdentifier::KeyId(id) => id,
            KeyIdentifier::KeyArn {
                partition,
                region,
                account,
                key_id,
            } => {
                if !self.is_home(partition, &region, &account) {
                    return Err(Error::from(AwsMessage::KeyNotFound {
                        arn: format!("arn:{partition}:kms:{region}:{account}:key/{key_id}"),
                    })
                    .with_hint(format!(
                        "This KMS serves account {} in Region {}.",
                        self.account_id, self.region
                    )));
                }
                key_id
            }
            KeyIdentifier::AliasName(_) | KeyIdentifier::AliasArn { .. } if !allow_alias => {
                return Err(kms_err!(
                    NotFound,
                    "This operation does not accept an alias ('{key_id}')."
                )
                .with_hint("Use the key id or key ARN."));
            }
            KeyIdentifier::AliasName(alias) => self.alias_target(&alias)?,
            KeyIdentifier::AliasArn {
                partition,
                region,
                account,
                alias,
            } => {
                if !self.is_home(partition, &region, &account) {
                    return Err(Error::from(AwsMessage::AliasNotFound {
                        arn: key_id.to_owned(),
                    })
                    .with_hint(format!(
                        "This KMS serves account {} in Region {}.",
                        self.account_id, self.region
                    )));
                }
                self.alias_target(&alias)?
            }
        })
    }

    /// The key with `id`, or NotFoundException — also for a key whose
    /// deletion date has passed by the call's time, deleted yet or not.
    ///
    /// A hit of the thread's cache is checked and returned where it was
    /// found; a miss goes to [`Service::key_by_id_in_table`]. Joined into
    /// one local first, the held key was copied by a 16-byte load right
    /// after its 8-byte stores: a failed store forward on every call.
    #[inline(always)]
    pub(crate) fn key_by_id(&self, cx: &Call, id: &KeyId) -> Result<HeldKey> {
        match cache::get(self.serial, id) {
            // Checked without `?`: an error path that drops the held key
            // in place kept it in memory, and the `Ok` copied it out with
            // a 16-byte load right after its 8-byte stores (a failed store
            // forward on every call). Moved into the cold path, it stays
            // in registers.
            Some(entry) if is_due(&entry, cx.now) => Err(key_gone(entry)),
            Some(entry) => Ok(entry),
            None => self.key_by_id_in_table(cx, *id),
        }
    }

    /// [`Service::key_by_id`] on a miss of the thread's cache. The id is
    /// taken by value, so that the caller's id, never lent out, stays in
    /// registers for the cache's comparison.
    #[inline(never)]
    fn key_by_id_in_table(&self, cx: &Call, id: KeyId) -> Result<HeldKey> {
        let Some(entry) = self.lookup_key_in_table(&id) else {
            return Err(self.key_not_found(&id));
        };
        self.unless_due(&entry, cx.now)?;
        Ok(entry)
    }

    /// NotFoundException for key `id` (off the hot path).
    #[cold]
    fn key_not_found(&self, id: &KeyId) -> Error {
        Error::from(AwsMessage::KeyNotFound {
            arn: self.key_arn(id),
        })
    }

    /// The entry of key `id` if it is in the key table: from this thread's
    /// key cache, with no lock, when the thread has used the key lately;
    /// else from the table under its read lock (then cached). The calls
    /// use [`Service::key_by_id`], which also checks the deletion date;
    /// the cache's tests watch this.
    #[cfg(test)]
    pub(crate) fn lookup_key(&self, id: &KeyId) -> Option<HeldKey> {
        match cache::get(self.serial, id) {
            Some(entry) => Some(entry),
            None => self.lookup_key_in_table(id),
        }
    }

    /// The entry of key `id` from the table, under its read lock, on a
    /// miss of the thread's cache (then cached).
    #[inline(never)]
    fn lookup_key_in_table(&self, id: &KeyId) -> Option<HeldKey> {
        let cell = self.keys.read().cell(id)?;
        // Loaded after the lock: a removal in between withdrew the cell,
        // and the key is then not found, as under the lock a moment later.
        let entry = cell.load()?;
        cache::put(self.serial, *id, cell);
        Some(HeldKey::loaned(entry))
    }

    /// NotFoundException if `entry`'s deletion date has passed by `now`.
    /// The deletion itself is [`Service::advance`]'s (`timers.rs`): if it
    /// could not be committed yet the key is gone all the same.
    ///
    /// The entry is borrowed, not moved through: a held key moved into a
    /// call and back out is copied by a 16-byte load right after its
    /// 8-byte stores, a failed store forward on every lookup.
    #[inline]
    pub(crate) fn unless_due(&self, entry: &KeyEntry, now: Timestamp) -> Result<()> {
        if is_due(entry, now) {
            return Err(key_gone(entry));
        }
        Ok(())
    }

    /// The key state DescribeKey shows, and a check of `op` against it.
    pub(crate) fn key_state(&self, entry: &KeyEntry, lifecycle: KeyLifecycle) -> KeyState {
        let connected = match entry.backing.store() {
            None => true,
            Some(store) => self.store_connected(store),
        };
        lifecycle.key_state(connected)
    }

    /// Checks `op` against the key-state table for `entry`.
    pub(crate) fn check_key(&self, entry: &KeyEntry, op: KeyOperation) -> Result<KeyLifecycle> {
        let lifecycle = entry.state.read().lifecycle;
        state::check(op, self.key_state(entry, lifecycle), &entry.arn)?;
        Ok(lifecycle)
    }
}

impl Service {
    /// A fresh key id that is not in use.
    pub(crate) fn new_key_id(&self) -> KeyId {
        loop {
            let id = KeyId::from_random_bytes(self.rng.array());
            if !self.keys.read().contains(&id) {
                return id;
            }
        }
    }

    /// A fresh multi-Region key id (`mrk-…`) that is not in use here.
    pub(crate) fn new_multi_region_key_id(&self) -> KeyId {
        loop {
            let id = KeyId::multi_region_from_bytes(self.rng.array());
            if !self.keys.read().contains(&id) {
                return id;
            }
        }
    }

    /// Builds the KeyMetadata of `entry`.
    pub(crate) fn metadata(&self, entry: &KeyEntry) -> KeyMetadata {
        let m = entry.state.read();
        let key_state = self.key_state(entry, m.lifecycle);
        let (deletion_date, pending_deletion_window_in_days) =
            (m.lifecycle.deletion_date(), m.lifecycle.window_days());
        // The current material's: what DescribeKey reports of an import.
        let expiration = m
            .import
            .as_ref()
            .and_then(|i| i.current_slot())
            .and_then(|s| s.expiration);
        KeyMetadata {
            aws_account_id: self.account_id.to_string(),
            key_id: entry.id,
            arn: entry.arn.clone(),
            creation_date: entry.creation_date,
            enabled: key_state == crate::key::KeyState::Enabled,
            description: m.description.clone(),
            key_usage: entry.kind.usage(),
            key_state,
            deletion_date,
            origin: entry.backing.origin(),
            custom_key_store_id: entry.backing.store().cloned(),
            cloud_hsm_cluster_id: entry
                .backing
                .store()
                .and_then(|store| self.store_cluster_id(store)),
            key_manager: entry.manager,
            customer_master_key_spec: entry
                .kind
                .spec()
                .customer_master_key_spec()
                .unwrap_or(CustomerMasterKeySpec::SymmetricDefault),
            key_spec: entry.kind.spec(),
            encryption_algorithms: entry.kind.encryption_algorithms(),
            mac_algorithms: entry.kind.mac_algorithms(),
            signing_algorithms: entry.kind.signing_algorithms(),
            key_agreement_algorithms: entry.kind.key_agreement_algorithms(),
            multi_region: m.multi_region.is_some(),
            multi_region_configuration: m
                .multi_region
                .as_ref()
                .map(|mr| mr.configuration(&entry.id, &self.account_id, &self.region)),
            pending_deletion_window_in_days,
            xks_key_configuration: entry.backing.external_key().map(|(_, xks_key_id)| {
                crate::key::XksKeyConfiguration {
                    id: xks_key_id.clone(),
                }
            }),
            current_key_material_id: match &m.import {
                // A symmetric key's, while its current material is
                // imported (AWS reports none for HMAC keys).
                Some(import) => import
                    .current_slot()
                    .filter(|s| s.secret.is_some())
                    .filter(|_| entry.kind.spec() == KeySpec::SymmetricDefault)
                    .map(|s| s.id.to_string()),
                None => reported_material(entry, entry.current_material()).map(|m| m.to_string()),
            },
            expiration_model: expiration.map(Expiration::model),
            valid_to: expiration.and_then(Expiration::valid_to),
        }
    }

    /// Applies a lifecycle event to a key at the call's time `now`, keeping
    /// its deletion timer in step.
    pub(crate) fn transition(
        &self,
        entry: &KeyEntry,
        op: KeyOperation,
        event: KeyEvent,
        now: Timestamp,
    ) -> Result<KeyLifecycle> {
        // Upgradable: the cryptographic path keeps reading the key while the
        // change is committed (durable storage); applied only after.
        let m = entry.state.upgradable_read();
        // Re-checked under the key's lock: a key the deletion at the end of
        // its window removed while this call waited for the lock is marked
        // deleted; one whose date has passed by this call's time is gone
        // even if that deletion could not be committed yet. Either way a
        // CancelKeyDeletion must not report success.
        if m.deleted || m.lifecycle.deletion_date().is_some_and(|d| now >= d) {
            return Err(Error::from(AwsMessage::KeyNotFound {
                arn: entry.arn.clone(),
            }));
        }
        let state = self.key_state(entry, m.lifecycle);
        crate::key::state::check(op, state, &entry.arn)?;
        let before = m.lifecycle;
        let mut after = before.apply(event, &entry.arn)?;
        // A key with imported material that lacks some (deleted or
        // expired while pending deletion) comes back pending import, not
        // disabled.
        if event == KeyEvent::CancelDeletion && m.import.as_ref().is_some_and(|i| !i.complete()) {
            after = KeyLifecycle::PendingImport;
        }
        self.commit().persist_key_state(entry, &m, after)?;
        let mut m = RwLockUpgradableReadGuard::upgrade(m);
        self.timers.replace(
            before.deletion_date(),
            after.deletion_date(),
            Timer::KeyDeletion(entry.id),
        );
        // A rotation that fell due while the key could not rotate (its
        // timer was dropped then) runs once the key is enabled again.
        if after == KeyLifecycle::Enabled
            && let Some(next) = rotation::armed(&m)
        {
            self.timers.set(next, Timer::KeyRotation(entry.id));
        }
        m.lifecycle = after;
        entry.lifecycle.store(after);
        Ok(after)
    }
}

impl Service {
    /// How many keys the key table holds.
    pub(crate) fn key_count(&self) -> usize {
        self.keys.read().len()
    }

    /// Up to `limit` keys in creation order from sequence `from`, and the
    /// sequence to continue from (see [`KeyTable::page`]).
    pub(crate) fn key_page(&self, from: u64, limit: usize) -> (Vec<Arc<KeyEntry>>, Option<u64>) {
        self.keys.read().page(from, limit)
    }

    /// CreateKey's last step: re-checks, under the key table's lock and the
    /// store table's (keys, then stores), both held until the key is in the
    /// table, that the key's custom key store still exists and is CONNECTED
    /// (DeleteCustomKeyStore checks that a store is empty under the key
    /// table's lock, so a store deleted while this key was being made must
    /// not get it, and a store disconnected meanwhile must not either: a
    /// disconnect waits for the store table's lock) and that no other key
    /// took its external key; then commits and inserts the key.
    pub(crate) fn insert_new_key(&self, entry: Arc<KeyEntry>) -> Result<()> {
        // Upgradable: one writer at a time, readers carry on while the
        // key is committed (durable storage); inserted only after.
        let keys = self.keys.upgradable_read();
        // A replica's id is its primary's: re-checked under the lock, so
        // two ReplicateKey calls cannot both make one in this Region.
        if keys.contains(&entry.id) {
            return Err(multi_region::already_replicated(&entry.arn));
        }
        let stores = match entry.backing.store() {
            Some(store) => Some(self.recheck_store_for_new_key(&entry, store)?),
            None => None,
        };
        if let Some((store, xks_key_id)) = entry.backing.external_key() {
            // Re-checked under the lock: two concurrent creates
            // cannot both take the same external key.
            if self.xks_key_in_use(&keys, store, xks_key_id) {
                return Err(xks_key_already_in_use(xks_key_id));
            }
        }
        // The cluster whose key object is committed with a CloudHSM key.
        let cluster = match (&stores, entry.backing.store()) {
            (Some(table), Some(store)) => table
                .get(store.as_str())
                .and_then(|s| s.backend.contract().cluster_id().cloned()),
            _ => None,
        };
        self.commit().persist_new_key(&entry, cluster)?;
        RwLockUpgradableReadGuard::upgrade(keys).insert(entry);
        drop(stores);
        Ok(())
    }
}

impl Service {
    /// CreateKey's last check, with the key table's lock held: the store
    /// the new key was made in still exists (`CustomKeyStoreNotFoundException`)
    /// and is CONNECTED (`CustomKeyStoreInvalidStateException`). Returns the
    /// store table's upgradable lock, to be held until the key is inserted.
    /// On failure a CloudHSM key object made for the key is discarded.
    pub(crate) fn recheck_store_for_new_key(
        &self,
        entry: &KeyEntry,
        store_id: &crate::ids::CustomKeyStoreId,
    ) -> Result<RwLockUpgradableReadGuard<'_, StoreTable>> {
        let stores = self.stores.upgradable_read();
        let Some(store) = stores.get(store_id.as_str()) else {
            return Err(kms_err!(
                CustomKeyStoreNotFound,
                "Custom key store {store_id} was deleted while the key was being created in it."
            ));
        };
        if let Err(e) = crate::store::check(
            crate::store::StoreOperation::CreateKey,
            store.state,
            store_id.as_str(),
        ) {
            store
                .backend
                .contract()
                .abandon_key(&self.crypto_env(), &entry.arn);
            return Err(e);
        }
        Ok(stores)
    }
}

impl Service {
    /// The key an alias points to; AWS's NotFound names the alias ARN.
    pub(crate) fn alias_target(&self, alias: &AliasName) -> Result<KeyId> {
        self.aliases.read().target(alias).ok_or_else(|| {
            Error::from(AwsMessage::AliasNotFound {
                arn: alias.arn(&self.region, &self.account_id),
            })
        })
    }

    /// Whether `entry`'s key store (if any) is connected, read before the
    /// alias locks are taken.
    pub(crate) fn connected(&self, entry: &KeyEntry) -> bool {
        match entry.backing.store() {
            None => true,
            Some(store) => self.store_connected(store),
        }
    }

    /// Checks `op` against the key-state table, given the store connection
    /// state read earlier. Takes the key's state read lock.
    pub(crate) fn check_with(
        &self,
        entry: &KeyEntry,
        connected: bool,
        op: KeyOperation,
    ) -> Result<()> {
        let lifecycle = entry.state.read().lifecycle;
        state::check(op, lifecycle.key_state(connected), &entry.arn)
    }
}

impl Service {
    /// An alias change: under the key table's and the alias table's
    /// upgradable locks (keys → aliases), `plan` checks the request and
    /// names the alias with its new value (`None`: deleted); the change is
    /// committed, then applied. `plan` may check keys' states (a key's
    /// `state` lock comes after `aliases`).
    pub(crate) fn change_alias(
        &self,
        plan: impl FnOnce(&KeyTable, &AliasTable) -> Result<(AliasName, Option<AliasEntry>)>,
    ) -> Result<()> {
        // Upgradable locks: writers wait, readers (alias resolution on the
        // cryptographic path) carry on while the alias is committed.
        let keys = self.keys.upgradable_read();
        let aliases = self.aliases.upgradable_read();
        let (name, alias) = plan(&keys, &aliases)?;
        self.commit().persist_alias(&name, alias.as_ref())?;
        let mut aliases = RwLockUpgradableReadGuard::upgrade(aliases);
        match alias {
            Some(alias) => aliases.insert(name, alias),
            None => aliases.remove(&name),
        }
        drop(aliases);
        drop(keys);
        Ok(())
    }

    /// Runs `f` on the alias table under its read lock.
    pub(crate) fn read_aliases<T>(&self, f: impl FnOnce(&AliasTable) -> T) -> T {
        f(&self.aliases.read())
    }
}

impl Service {
    /// Runs `f` on the key's mutable part after checking `op` against the
    /// key-state table, both under the key's lock. `f` must check
    /// everything before it changes anything. Durable, `f` runs on a copy
    /// that replaces the key's part once committed; the lock is upgradable
    /// until then, so the cryptographic path is not held up.
    pub(crate) fn with_key_mut<T>(
        &self,
        entry: &KeyEntry,
        op: KeyOperation,
        f: impl FnOnce(&mut KeyMutable) -> Result<T>,
    ) -> Result<T> {
        let m = entry.state.upgradable_read();
        // Deleted at the end of its window while this call waited.
        if m.deleted {
            return Err(Error::from(AwsMessage::KeyNotFound {
                arn: entry.arn.clone(),
            }));
        }
        let key_state = self.key_state(entry, m.lifecycle);
        state::check(op, key_state, &entry.arn)?;
        if !self.storage.is_durable() {
            return f(&mut RwLockUpgradableReadGuard::upgrade(m));
        }
        let mut next = m.clone();
        let out = f(&mut next)?;
        self.commit()
            .persist_key_state(entry, &next, next.lifecycle)?;
        *RwLockUpgradableReadGuard::upgrade(m) = next;
        Ok(out)
    }
}

/// What the data plane needs of `entry`, with `own` the version of its
/// material to use: plain data, borrowed.
fn key_ref<'a>(entry: &'a KeyEntry, own: Option<&'a MaterialVersion>) -> KeyRef<'a> {
    KeyRef {
        id: &entry.id,
        arn: &entry.arn,
        backing: &entry.backing,
        own,
    }
}

/// The version a seal uses: the key's current version, or, for a key with
/// imported material, that material (`imported`, loaded by the caller). A
/// key whose imported material was deleted after its state was checked is
/// pending import.
fn current_own<'a>(
    entry: &'a KeyEntry,
    imported: Option<&'a ImportedSet>,
) -> Result<Option<&'a MaterialVersion>> {
    match imported {
        None => Ok(entry.current_material()),
        Some(set) => set.current().map(Some).ok_or_else(|| {
            Error::from(AwsMessage::PendingImport {
                arn: entry.arn.clone(),
            })
        }),
    }
}

/// The `KeyMaterialId` a response reports for `version` of `entry`'s
/// material: AWS reports it for keys whose material KMS holds and rotates
/// (`AWS_KMS`), not for keys in custom key stores. Inlined: returned from
/// a call, the id was read back wider than it had been written.
#[inline(always)]
pub(crate) fn reported_material(
    entry: &KeyEntry,
    version: Option<&MaterialVersion>,
) -> Option<MaterialId> {
    match entry.backing {
        Backing::Kms | Backing::Imported => version.map(|v| v.id(&entry.id)),
        _ => None,
    }
}

impl Service {
    /// Checks that `entry` may run the cryptographic `op` now — key state
    /// (with its store's connection), then the store's request quota — and
    /// returns what the operation needs of the key's backing. One read of
    /// the key's state and, for a custom key store key, one of the store
    /// table. `now` is the call's time (the quota's).
    #[inline(always)]
    pub(crate) fn check_crypto(
        &self,
        entry: &KeyEntry,
        op: KeyOperation,
        now: Timestamp,
    ) -> Result<KeyAccess> {
        let lifecycle = entry.lifecycle();
        let Some(store_id) = entry.backing.store() else {
            state::check(op, lifecycle.key_state(true), &entry.arn)?;
            entry.kind.check_usage(op, &entry.arn)?;
            return Ok(KeyAccess::Single(SingleLayer::own()));
        };
        // The published view: no lock, nothing written (see `store_view`).
        let stores = self.store_view.load();
        let store = stores.get(store_id.as_str());
        let connected = store.is_some_and(|s| s.state.is_connected());
        state::check(op, lifecycle.key_state(connected), &entry.arn)?;
        let store = store.ok_or_else(|| Error::internal("a key without its custom key store"))?;
        self.take_store_quota(store, now)?;
        // The cluster's lock is the only one taken.
        store
            .backend
            .contract()
            .key_access(&self.crypto_env(), store, &entry.arn, op)
    }

    /// Encrypts `plaintext` under the current version of `entry`'s
    /// material, binding `ctx`.
    pub(crate) fn seal(
        &self,
        cx: &Call<'_>,
        entry: &KeyEntry,
        access: KeyAccess,
        plaintext: SealInput<'_>,
        ctx: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.seal_into(cx, entry, access, plaintext, ctx, &mut out)?;
        Ok(out)
    }

    /// [`Service::seal`], writing the blob to `out` (cleared first, its
    /// capacity reused).
    pub(crate) fn seal_into(
        &self,
        cx: &Call<'_>,
        entry: &KeyEntry,
        access: KeyAccess,
        plaintext: SealInput<'_>,
        ctx: &EncryptionContext,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        // Encrypt and GenerateDataKey report no material id.
        let imported = entry.imported.as_ref().map(|i| i.load());
        access.seal(
            &self.crypto_env_for(cx),
            &key_ref(entry, current_own(entry, imported.as_deref())?),
            plaintext,
            ctx,
            out,
        )
    }

    /// [`Service::seal`], also giving the `KeyMaterialId` a response
    /// reports for the version that sealed it (ReEncrypt's destination).
    pub(crate) fn seal_reporting(
        &self,
        cx: &Call<'_>,
        entry: &KeyEntry,
        access: KeyAccess,
        plaintext: SealInput<'_>,
        ctx: &EncryptionContext,
    ) -> Result<(Vec<u8>, Option<MaterialId>)> {
        let imported = entry.imported.as_ref().map(|i| i.load());
        let version = current_own(entry, imported.as_deref())?;
        let mut blob = Vec::new();
        access.seal(
            &self.crypto_env_for(cx),
            &key_ref(entry, version),
            plaintext,
            ctx,
            &mut blob,
        )?;
        Ok((blob, reported_material(entry, version)))
    }

    /// Decrypts a blob made under `entry`, in its own buffer, with the
    /// version of its material its `header` (as already read) names (a
    /// version the key does not have is an invalid ciphertext).
    #[inline(always)]
    pub(crate) fn open(
        &self,
        cx: &Call<'_>,
        entry: &KeyEntry,
        access: KeyAccess,
        header: Header,
        blob: OpenInput<'_>,
        ctx: &EncryptionContext,
    ) -> Result<(Plaintext, Option<MaterialId>)> {
        let named = header.material_version();
        let imported = entry.imported.as_ref().map(|i| i.load());
        let version = match (&entry.versions, imported.as_deref()) {
            (Some(_), _) => Some(
                entry
                    .material_version(named)
                    .ok_or_else(invalid_ciphertext)?,
            ),
            // Imported material: the version the blob names, if it is
            // imported now (one deleted since the key's state was checked
            // is missing: the key is pending import then).
            (None, Some(set)) => Some(set.get(named).ok_or_else(invalid_ciphertext)?),
            (None, None) => None,
        };
        let plaintext = access.open(
            &self.crypto_env_for(cx),
            &key_ref(entry, version),
            blob,
            ctx,
        )?;
        Ok((plaintext, reported_material(entry, version)))
    }

    /// Decodes `bytes`, finds its key, checks an optional expected key, the
    /// key state for `op`, the algorithm `alg` against the key, and
    /// decrypts. An RSA key's ciphertext is raw RSAES-OAEP output that
    /// names no key: it decrypts only with `expected_key` naming the key
    /// (without one it is a blob this KMS cannot read:
    /// `InvalidCiphertextException`).
    #[allow(
        clippy::too_many_arguments,
        reason = "Decrypt's and ReEncrypt's inputs, one each"
    )]
    #[inline(always)]
    pub(crate) fn decrypt_blob(
        &self,
        cx: &Call,
        input: OpenInput<'_>,
        expected_key: Option<&str>,
        alg: Option<EncryptionAlgorithmSpec>,
        ctx: &EncryptionContext,
        op: KeyOperation,
        re_encrypt_to: Option<KeyId>,
    ) -> Result<Opened> {
        let bytes = input.bytes();
        if bytes.is_empty() || bytes.len() > MAX_CIPHERTEXT_BLOB {
            // Binary: the value is not shown.
            return Err(Error::invalid(
                "ciphertextBlob",
                Shown::Hidden,
                if bytes.is_empty() {
                    Constraint::MinLength(1)
                } else {
                    Constraint::MaxLength(MAX_CIPHERTEXT_BLOB)
                },
            ));
        }
        let given = match expected_key {
            Some(k) => {
                let given = self.resolve(cx, k, true)?;
                // A key that cannot decrypt is named as such, before the
                // blob's key is compared with it.
                given.kind.check_usage(op, &given.arn)?;
                Some(given)
            }
            None => None,
        };
        let action = match op {
            KeyOperation::ReEncryptFrom => Action::ReEncryptFrom,
            _ => Action::Decrypt,
        };
        let requested = alg.unwrap_or(EncryptionAlgorithmSpec::SymmetricDefault);
        let facts = |entry: &KeyEntry| Facts {
            re_encrypt_on_same_key: re_encrypt_to.map(|to| to == entry.id),
            encryption_algorithm: Some(requested.as_str()),
            ..Facts::crypto(ctx, expected_key.unwrap_or_default())
        };
        // Taken out only for an asymmetric key: a symmetric one stays where
        // it is (moved, it was read back wider than it was written).
        let mut given = given;
        if let Some(entry) = given.take_if(|e| e.kind.is_asymmetric()) {
            self.authorize(cx, &entry, action, &facts(&entry))?;
            self.check_crypto(&entry, op, cx.now)?;
            let algorithm = entry.kind.encryption_algorithm(alg, ctx)?;
            let plaintext = entry.pair_decrypt(algorithm, bytes, &self.rng)?;
            return Ok(Opened {
                entry,
                plaintext,
                material: None,
                algorithm,
            });
        }
        let header = input.blob()?.header;
        let entry = match given {
            Some(given) => {
                if given.id != header.key_id {
                    return Err(Error::from(AwsMessage::IncorrectKey).with_hint(format!(
                        "The key {} is not the key that encrypted this ciphertext.",
                        given.arn
                    )));
                }
                given
            }
            None => {
                // A blob naming a key this KMS does not have was not made
                // here (or was tampered with): that is an invalid
                // ciphertext, not a missing key. A key whose deletion date
                // has passed is gone too, whether or not it has been purged
                // from the table yet: the same answer either way.
                self.key_by_id(cx, &header.key_id)
                    .map_err(|_| invalid_ciphertext())?
            }
        };
        self.authorize(cx, &entry, action, &facts(&entry))?;
        let access = self.check_crypto(&entry, op, cx.now)?;
        let algorithm = entry.kind.encryption_algorithm(alg, ctx)?;
        let (plaintext, material) = self.open(cx, &entry, access, header, input, ctx)?;
        Ok(Opened {
            entry,
            plaintext,
            material,
            algorithm,
        })
    }

    /// The service of another account of this Region that issued a grant
    /// `token` this one did not (RetireGrant by token across accounts).
    pub(crate) fn token_owner(&self, token: &str) -> Option<Arc<Service>> {
        if !self.shared.has_siblings() || self.read_grant_token(token).is_some() {
            return None;
        }
        self.shared
            .services_in(&self.region, &self.account_id)
            .into_iter()
            .find(|s| s.read_grant_token(token).is_some())
    }

    /// The service of another account of this Region that holds the key a
    /// ciphertext names, when this one does not (Decrypt and ReEncrypt
    /// without a `KeyId` across accounts).
    pub(crate) fn blob_owner(&self, bytes: &[u8]) -> Option<Arc<Service>> {
        if !self.shared.has_siblings() {
            return None;
        }
        let blob = Blob::read(bytes).ok()?;
        let id = blob.header.key_id;
        if self.keys.read().contains(&id) {
            return None;
        }
        self.shared
            .services_in(&self.region, &self.account_id)
            .into_iter()
            .find(|s| s.keys.read().contains(&id))
    }
}

impl StoreEntry {
    /// The proxy route of `backend`: for an external key store, the
    /// validated call envelope its cryptographic calls use.
    pub(crate) fn route_of(backend: &StoreBackend, deadline: Duration) -> Option<Arc<XksRoute>> {
        backend.contract().route(deadline)
    }

    /// Replaces the backend settings and the route derived from them.
    pub(crate) fn set_backend(&mut self, backend: StoreBackend, deadline: Duration) {
        self.route = StoreEntry::route_of(&backend, deadline);
        self.backend = backend;
    }
}

/// The state DISCONNECTING ends in, by the connection-state table
/// (`Closed`): DISCONNECTED.
pub(crate) fn disconnect_closed(store_id: &str) -> Result<ConnectionState> {
    match ConnectionState::Disconnecting.apply(ConnectionEvent::Closed, store_id)? {
        Transition::To(next) => Ok(next),
        Transition::NoOp => Ok(ConnectionState::Disconnecting),
    }
}

impl Service {
    /// Runs `f` on `entry`'s mutable part under the key's read lock.
    pub(crate) fn read_key<T>(&self, entry: &KeyEntry, f: impl FnOnce(&KeyMutable) -> T) -> T {
        f(&entry.state.read())
    }

    /// Runs `f` on the store table under its read lock.
    pub(crate) fn read_stores<T>(&self, f: impl FnOnce(&StoreTable) -> T) -> T {
        f(&self.stores.read())
    }

    /// CreateCustomKeyStore's check-then-insert: `make` checks the request
    /// against the table and makes the entry under the store table's
    /// upgradable lock, held through the commit and the insert, so two
    /// concurrent creates cannot both take the last slot or the same name
    /// (readers carry on while the store is committed). Returns its id.
    pub(crate) fn insert_store(
        &self,
        make: impl FnOnce(&StoreTable) -> Result<StoreEntry>,
    ) -> Result<CustomKeyStoreId> {
        let table = self.stores.upgradable_read();
        let entry = make(&table)?;
        let id = entry.id.clone();
        self.commit().persist_new_store(&entry)?;
        let mut table = RwLockUpgradableReadGuard::upgrade(table);
        table.stores.push(entry);
        self.publish_stores(&table);
        Ok(id)
    }

    /// ConnectCustomKeyStore's state change, from the probe (external key
    /// stores, with no lock held) through the commit.
    pub(crate) fn connect_store(&self, custom_key_store_id: &str, now: Timestamp) -> Result<()> {
        let inner = self;
        // External key stores: KMS's test request to the proxy is made before
        // the lock is taken, and used only if the store's settings are still
        // the ones probed (otherwise probe again).
        // (Upgradable: readers carry on while the change is committed.)
        let env = inner.backend_env(now);
        let (table, xks_outcome) = loop {
            let probe = inner.connect_probe(&env, custom_key_store_id);
            let table = inner.stores.upgradable_read();
            let store = table
                .get(custom_key_store_id)
                .ok_or_else(|| not_found(custom_key_store_id))?;
            let mut xks_outcome = None;
            if store.backend.contract().probes() && store.state == ConnectionState::Disconnected {
                match probe {
                    Some((probed, outcome)) if probed == store.backend => xks_outcome = outcome,
                    _ => continue,
                }
            }
            break (table, xks_outcome);
        };
        let store = table
            .get(custom_key_store_id)
            .ok_or_else(|| not_found(custom_key_store_id))?;
        let next = match store
            .state
            .apply(ConnectionEvent::Connect, store.id.as_str())?
        {
            Transition::NoOp => return Ok(()),
            Transition::To(next) => next,
        };
        store.backend.contract().connect_precheck(&env)?;
        inner.finish_or_schedule(table, custom_key_store_id, next, xks_outcome, now)
    }

    /// DisconnectCustomKeyStore's state change, under the store table's lock.
    pub(crate) fn disconnect_store(&self, custom_key_store_id: &str, now: Timestamp) -> Result<()> {
        let inner = self;
        let table = inner.stores.upgradable_read();
        let store = table
            .get(custom_key_store_id)
            .ok_or_else(|| not_found(custom_key_store_id))?;
        let Transition::To(next) = store
            .state
            .apply(ConnectionEvent::Disconnect, store.id.as_str())?
        else {
            return Ok(());
        };
        inner.finish_or_schedule(table, custom_key_store_id, next, None, now)
    }

    /// UpdateCustomKeyStore after its syntax check: the plan on a snapshot
    /// and the probe with no lock held (external key stores), then the
    /// checks again under the store table's lock, the commit and the change.
    pub(crate) fn update_store(
        &self,
        req: &UpdateCustomKeyStoreRequest,
        now: Timestamp,
    ) -> Result<()> {
        let inner = self;
        loop {
            // A backend that is contacted with no lock held plans the
            // update on a snapshot first, and probes the new settings.
            let snapshot = {
                let table = inner.stores.read();
                let store = table
                    .get(&req.custom_key_store_id)
                    .ok_or_else(|| not_found(&req.custom_key_store_id))?;
                if store.backend.contract().probes() {
                    let new = inner.plan_update(&table, req, now)?;
                    Some((store.backend.clone(), store.state, new))
                } else {
                    None
                }
            };
            if let Some((old, state, new)) = &snapshot {
                old.contract().probe_update(
                    &inner.backend_env(now),
                    &req.custom_key_store_id,
                    *state,
                    new,
                )?;
            }
            // Upgradable: readers carry on while the change is committed.
            let table = inner.stores.upgradable_read();
            let backend = inner.plan_update(&table, req, now)?;
            let store = table
                .get(&req.custom_key_store_id)
                .ok_or_else(|| Error::internal("store vanished under the lock"))?;
            if let Some((old, state, _)) = &snapshot
                && (store.backend != *old || store.state != *state)
            {
                continue;
            }
            inner.commit().persist_store(
                store,
                store.state,
                store.transition_due,
                &backend,
                req.new_custom_key_store_name.as_deref(),
            )?;
            let mut table = RwLockUpgradableReadGuard::upgrade(table);
            let store = table
                .get_mut(&req.custom_key_store_id)
                .ok_or_else(|| Error::internal("store vanished under the lock"))?;
            if let Some(name) = &req.new_custom_key_store_name {
                store.name.clone_from(name);
            }
            store.set_backend(backend, inner.xks_timeout);
            inner.publish_stores(&table);
            return Ok(());
        }
    }

    /// DeleteCustomKeyStore's check (DISCONNECTED, no keys) and removal,
    /// under the key table's and the store table's locks.
    pub(crate) fn delete_store(&self, custom_key_store_id: &str) -> Result<()> {
        let inner = self;
        // Lock order: keys, then stores. Holding the key table keeps a key
        // from being created in the store between the check and the removal.
        // (Upgradable locks: readers carry on while the deletion is committed.)
        let keys = inner.keys.upgradable_read();
        let table = inner.stores.upgradable_read();
        let store = table
            .get(custom_key_store_id)
            .ok_or_else(|| not_found(custom_key_store_id))?;
        store::check(StoreOperation::Delete, store.state, store.id.as_str())?;
        if keys.iter().any(|k| k.backing.store() == Some(&store.id)) {
            return Err(kms_err!(
                CustomKeyStoreHasCmks,
                "Custom key store {custom_key_store_id} still holds KMS keys. Schedule their deletion and wait for the waiting period to end."
            ));
        }
        inner.commit().persist_store_deleted(store)?;
        let mut table = RwLockUpgradableReadGuard::upgrade(table);
        table
            .stores
            .retain(|s| s.id.as_str() != custom_key_store_id);
        self.publish_stores(&table);
        drop(table);
        drop(keys);
        Ok(())
    }
}

impl Service {
    /// Finishes store `id`'s stepped-mode transition due at `at` (a timer
    /// [`Service::advance`] found due by `now`): runs the backend's part,
    /// commits, applies, and removes the timer — all under the store
    /// table's lock, so Connect, Disconnect, Update and Delete of the store
    /// come wholly before or after. A timer that no longer matches the
    /// store (deleted, or its transition moved) is dropped. One whose
    /// change cannot be committed (durable storage) stays due.
    pub(crate) fn finish_due_transition(
        &self,
        id: &CustomKeyStoreId,
        at: Timestamp,
        now: Timestamp,
    ) {
        let timer = Timer::StoreTransition(id.clone());
        let table = self.stores.upgradable_read();
        let Some(store) = table.get(id.as_str()) else {
            self.timers.cancel(at, timer);
            return;
        };
        if store.transition_due != Some(at) || at > now {
            // Stale (or, never, early): only a stale timer is dropped.
            if store.transition_due != Some(at) {
                self.timers.cancel(at, timer);
            }
            return;
        }
        let Ok(finished) = self.finish_transition(store, store.state, store.connect_outcome, now)
        else {
            return;
        };
        let mut table = RwLockUpgradableReadGuard::upgrade(table);
        if let Some(store) = table.get_mut(id.as_str()) {
            store.transition_due = None;
            store.connect_outcome = None;
            store.state = finished.state;
            store.set_backend(finished.backend, self.xks_timeout);
        }
        self.publish_stores(&table);
        self.timers.cancel(at, timer);
    }

    /// Completes `from` — CONNECTING (running the backend's connect
    /// sequence) or DISCONNECTING — for `store`, and commits the outcome;
    /// the caller applies it. `xks_outcome` is an external key store's
    /// connect outcome, probed with no lock held.
    pub(crate) fn finish_transition(
        &self,
        store: &StoreEntry,
        from: ConnectionState,
        xks_outcome: Option<std::result::Result<(), ConnectionErrorCode>>,
        now: Timestamp,
    ) -> Result<Finished> {
        match from {
            ConnectionState::Connecting => self.backend_connect(store, xks_outcome, now),
            ConnectionState::Disconnecting => self.backend_disconnect(store, now),
            state => Ok(Finished {
                state,
                backend: store.backend.clone(),
            }),
        }
    }

    /// After `store` moved to `next` (CONNECTING or DISCONNECTING): finishes
    /// it now ([`ConnectionMode::Immediate`]) or when the clock has moved on
    /// ([`ConnectionMode::Stepped`]). Commits, then applies.
    pub(crate) fn finish_or_schedule(
        &self,
        table: RwLockUpgradableReadGuard<'_, StoreTable>,
        id: &str,
        next: ConnectionState,
        xks_outcome: Option<std::result::Result<(), ConnectionErrorCode>>,
        now: Timestamp,
    ) -> Result<()> {
        let store = table.get(id).ok_or_else(|| not_found(id))?;
        let (finished, due) = match self.connection_mode {
            ConnectionMode::Immediate => {
                (self.finish_transition(store, next, xks_outcome, now)?, None)
            }
            ConnectionMode::Stepped { duration_millis } => {
                let due = now.saturating_add(Duration::from_millis(duration_millis));
                self.commit()
                    .persist_store(store, next, Some(due), &store.backend, None)?;
                let backend = store.backend.clone();
                (
                    Finished {
                        state: next,
                        backend,
                    },
                    Some(due),
                )
            }
        };
        let mut table = RwLockUpgradableReadGuard::upgrade(table);
        let store = table
            .get_mut(id)
            .ok_or_else(|| Error::internal("store vanished under its lock"))?;
        store.state = finished.state;
        store.set_backend(finished.backend, self.xks_timeout);
        self.timers.replace(
            store.transition_due,
            due,
            Timer::StoreTransition(store.id.clone()),
        );
        store.transition_due = due;
        // Kept for the end of a stepped CONNECTING.
        store.connect_outcome = if due.is_some() { xks_outcome } else { None };
        self.publish_stores(&table);
        Ok(())
    }

    /// The narrow environment a backend's control-plane call receives, at
    /// the call's `now`.
    pub(crate) fn backend_env(&self, now: Timestamp) -> BackendEnv<'_> {
        BackendEnv {
            now,
            storage: &self.storage,
            account_id: &self.account_id,
            xks_timeout: self.xks_timeout,
            crypto: self.crypto_env(),
        }
    }

    /// The narrow environment a backend's data-plane call receives (built
    /// from references only: nothing is read or allocated).
    pub(crate) fn crypto_env(&self) -> CryptoEnv<'_> {
        CryptoEnv {
            rng: &self.rng,
            cloudhsm: &self.cloudhsm,
            xks: &self.xks_network,
            // Control-plane calls are made on KMS's own behalf: the root.
            principal_arn: &self.root.arn,
            via_service: None,
        }
    }

    /// The data-plane environment of a call: as [`Service::crypto_env`],
    /// on behalf of the call's caller.
    pub(crate) fn crypto_env_for<'a>(&'a self, cx: &Call<'a>) -> CryptoEnv<'a> {
        CryptoEnv {
            principal_arn: &cx.caller.arn,
            via_service: cx.caller.via_service.as_deref(),
            ..self.crypto_env()
        }
    }

    /// ConnectCustomKeyStore's probe, with no lock held: for store `id`,
    /// DISCONNECTED and of a kind that probes, the settings probed and the
    /// outcome (the store's lock is held only to copy the settings).
    pub(crate) fn connect_probe(
        &self,
        env: &BackendEnv<'_>,
        id: &str,
    ) -> Option<(StoreBackend, Option<ConnectOutcome>)> {
        let backend = {
            let table = self.stores.read();
            let store = table.get(id)?;
            if !(store.backend.contract().probes() && store.state == ConnectionState::Disconnected)
            {
                return None;
            }
            store.backend.clone()
        };
        let outcome = backend.contract().probe_connect(env);
        Some((backend, outcome))
    }

    /// Runs the backend's connect sequence and commits the store's outcome.
    pub(crate) fn backend_connect(
        &self,
        store: &StoreEntry,
        xks_outcome: Option<ConnectOutcome>,
        now: Timestamp,
    ) -> Result<Finished> {
        let mut put = |batch: &mut Batch, state: ConnectionState, backend: &StoreBackend| {
            self.commit()
                .put_store_state(batch, store, state, None, backend, None)
        };
        store
            .backend
            .contract()
            .connect(&self.backend_env(now), &store.id, xks_outcome, &mut put)
    }

    /// Runs the backend's disconnect and commits the store DISCONNECTED.
    pub(crate) fn backend_disconnect(
        &self,
        store: &StoreEntry,
        now: Timestamp,
    ) -> Result<Finished> {
        let state = disconnect_closed(store.id.as_str())?;
        let mut put = |batch: &mut Batch, backend: &StoreBackend| {
            self.commit()
                .put_store_state(batch, store, state, None, backend, None)
        };
        store
            .backend
            .contract()
            .disconnect(&self.backend_env(now), &mut put)?;
        Ok(Finished {
            state,
            backend: store.backend.clone(),
        })
    }

    /// Whether the store `id` is CONNECTED (false if it does not exist).
    pub(crate) fn store_connected(&self, id: &CustomKeyStoreId) -> bool {
        self.stores
            .read()
            .get(id.as_str())
            .is_some_and(|s| s.state.is_connected())
    }

    /// Publishes `table` — the store table, changed, its write lock still
    /// held — for the cryptographic path (`store_view`). Every change of
    /// the store table ends with this call, before the lock is released:
    /// a reader of the view never sees a state older than one a reader of
    /// the table has already seen.
    pub(crate) fn publish_stores(&self, table: &StoreTable) {
        self.store_view.store(table.clone());
    }

    /// Takes one request from `store`'s quota, or `ThrottlingException`.
    pub(crate) fn take_store_quota(&self, store: &StoreEntry, now: Timestamp) -> Result<()> {
        let id = &store.id;
        let Some(bucket) = &store.bucket else {
            return Ok(());
        };
        if bucket.try_take(now) {
            Ok(())
        } else {
            Err(kms_err!(
                Throttling,
                "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls. (Custom key store {id} request quota.)"
            ))
        }
    }

    /// The cluster of CloudHSM store `id`, if it exists.
    pub(crate) fn store_cluster_id(&self, id: &CustomKeyStoreId) -> Option<ClusterId> {
        self.stores
            .read()
            .get(id.as_str())?
            .backend
            .contract()
            .cluster_id()
            .cloned()
    }

    /// CreateKey in a custom key store: the store exists
    /// (`CustomKeyStoreNotFoundException`), is of the origin's type
    /// (`UnsupportedOperationException`) and CONNECTED
    /// (`CustomKeyStoreInvalidStateException`); a key that claims an
    /// external key needs one no other key of the store uses
    /// (`XksKeyAlreadyInUseException`); then the backend makes the key's
    /// material, with no lock held. Returns where the material is.
    pub(crate) fn create_key_in_store(
        &self,
        origin: OriginType,
        store_id: &str,
        arn: &str,
        xks_key_id: Option<&str>,
        now: Timestamp,
    ) -> Result<(Backing, Option<KeyMaterial>)> {
        let (backing, backend) = {
            let table = self.stores.read();
            let store = table.get(store_id).ok_or_else(|| not_found(store_id))?;
            let contract = store.backend.contract();
            if contract.key_origin() != origin {
                let wanted = kinds::of_origin(origin)
                    .map_or(CustomKeyStoreType::ExternalKeyStore, |k| k.store_type());
                return Err(kms_err!(
                    UnsupportedOperation,
                    "Custom key store {store_id} is of type {}; keys with Origin {origin} need a store of type {wanted}.",
                    store.backend.store_type()
                ));
            }
            store::check(StoreOperation::CreateKey, store.state, store.id.as_str())?;
            (
                contract.new_key(&store.id, xks_key_id)?,
                store.backend.clone(),
            )
        };
        if let Some((store, xks_key_id)) = backing.external_key()
            && self.xks_key_in_use(&self.keys.read(), store, xks_key_id)
        {
            return Err(xks_key_already_in_use(xks_key_id));
        }
        let material = match backend
            .contract()
            .create_key(&self.backend_env(now), arn, &backing)
        {
            Ok(material) => material,
            Err(e) => {
                // The store was disconnected or deleted while the backend
                // worked (a disconnect logs KMS out of the cluster): the
                // call then comes after that change, and answers as it
                // would have, in order. Upgradable: a change that is
                // committed but not yet applied finishes first.
                let table = self.stores.upgradable_read();
                let store = table.get(store_id).ok_or_else(|| not_found(store_id))?;
                store::check(StoreOperation::CreateKey, store.state, store.id.as_str())?;
                return Err(e);
            }
        };
        Ok((backing, material))
    }

    /// Whether another key in `store` already uses `xks_key_id`.
    pub(crate) fn xks_key_in_use(
        &self,
        keys: &KeyTable,
        store: &CustomKeyStoreId,
        xks_key_id: &XksKeyId,
    ) -> bool {
        keys.iter()
            .any(|k| k.backing.external_key() == Some((store, xks_key_id)))
    }

    /// GenerateRandom with a `CustomKeyStoreId`: bytes from a CONNECTED
    /// CloudHSM store's cluster. An external key store is
    /// `UnsupportedOperationException`.
    pub(crate) fn store_random(
        &self,
        store_id: &str,
        n: usize,
        now: Timestamp,
    ) -> Result<Plaintext> {
        // Copied out, so that no store lock is held during the cluster's work.
        let (backend, id, state) = {
            let table = self.stores.read();
            let store = table.get(store_id).ok_or_else(|| not_found(store_id))?;
            (store.backend.clone(), store.id.clone(), store.state)
        };
        backend
            .contract()
            .random(&self.backend_env(now), &id, state, n)
    }

    /// When key `arn` in `store` is deleted: the cluster whose key object
    /// KMS removes with it, if any (see `KeyStoreBackend::release_key`).
    pub(crate) fn release_key_material(
        &self,
        store: &CustomKeyStoreId,
        arn: &str,
    ) -> Option<ClusterId> {
        // Copied out: no store lock is held during the cluster's check.
        let backend = self.stores.read().get(store.as_str())?.backend.clone();
        backend.contract().release_key(&self.crypto_env(), arn)
    }

    /// UpdateCustomKeyStore's checks after the request's syntax
    /// ([`check_update_syntax`]), in order: the store exists, no member of
    /// the other store type is given (`ValidationException`), its connection
    /// state allows the fields given, the new name is free, then the
    /// backend's rules (those that depend on the store's settings, such as
    /// a change of connectivity, and those that need other state). Returns
    /// the new backend settings; changes nothing.
    pub(crate) fn plan_update(
        &self,
        table: &StoreTable,
        req: &UpdateCustomKeyStoreRequest,
        now: Timestamp,
    ) -> Result<StoreBackend> {
        let store = table
            .get(&req.custom_key_store_id)
            .ok_or_else(|| not_found(&req.custom_key_store_id))?;
        let contract = store.backend.contract();
        contract.update_shape(req)?;
        let op = if contract.update_while_connected(req) {
            StoreOperation::UpdateWhileConnectedAllowed
        } else {
            StoreOperation::UpdateDisconnectedOnly
        };
        store::check(op, store.state, store.id.as_str())?;
        if let Some(name) = &req.new_custom_key_store_name
            && table
                .by_name(name)
                .is_some_and(|other| other.id != store.id)
        {
            return Err(kms_err!(
                CustomKeyStoreNameInUse,
                "A custom key store named '{name}' already exists. Choose another name."
            ));
        }
        contract.plan_update(&self.backend_env(now), &store.id, req, table)
    }

    pub(crate) fn new_store_id(&self, table: &StoreTable) -> CustomKeyStoreId {
        loop {
            let id = CustomKeyStoreId::from_random_bytes(self.rng.array());
            if table.get(id.as_str()).is_none() {
                return id;
            }
        }
    }

    pub(crate) fn list_entry(&self, s: &StoreEntry) -> CustomKeyStoresListEntry {
        let described = s.backend.contract().describe();
        CustomKeyStoresListEntry {
            custom_key_store_id: s.id.clone(),
            custom_key_store_name: s.name.clone(),
            cloud_hsm_cluster_id: described.cloud_hsm_cluster_id,
            trust_anchor_certificate: described.trust_anchor_certificate,
            connection_state: s.state.state_type(),
            connection_error_code: s.state.error_code(),
            creation_date: s.creation_date,
            custom_key_store_type: s.backend.store_type(),
            xks_proxy_configuration: described.xks_proxy_configuration,
        }
    }
}

impl Service {
    /// Runs the work due by `now`: finishes stepped-mode store transitions
    /// and deletes keys whose window has ended, in deadline order. The only
    /// place due work runs; see the module documentation for the rules.
    #[cold]
    pub(crate) fn advance(&self, now: Timestamp) {
        let _running = self.timers.running();
        let mut keys: Vec<(Timestamp, KeyId)> = Vec::new();
        for (at, timer) in self.timers.due(now) {
            match timer {
                Timer::KeyDeletion(id) => keys.push((at, id)),
                Timer::KeyRotation(id) => {
                    // Deletions due earlier go first: a deleted key does not rotate.
                    if !keys.is_empty() {
                        self.delete_due_keys(&std::mem::take(&mut keys), now);
                    }
                    self.rotate_due(id, at, now);
                }
                Timer::StoreTransition(store) => {
                    // Deletions due earlier go first (one commit for a run).
                    if !keys.is_empty() {
                        self.delete_due_keys(&std::mem::take(&mut keys), now);
                    }
                    self.finish_due_transition(&store, at, now);
                }
                Timer::ImportedMaterialExpiry(id) => {
                    // Deletions due earlier go first.
                    if !keys.is_empty() {
                        self.delete_due_keys(&std::mem::take(&mut keys), now);
                    }
                    self.expire_imported_due(id, at);
                }
            }
        }
        if !keys.is_empty() {
            self.delete_due_keys(&keys, now);
        }
    }

    /// Fills the timer table from the key and store tables (a durable
    /// service on open).
    #[cfg_attr(
        not(feature = "durable"),
        allow(dead_code, reason = "used when a durable service opens")
    )]
    pub(crate) fn refill_timers(&self) {
        for entry in self.keys.read().iter() {
            let m = entry.state.read();
            if let Some(date) = m.lifecycle.deletion_date() {
                self.timers.set(date, Timer::KeyDeletion(entry.id));
            }
            if let Some(next) = rotation::armed(&m) {
                self.timers.set(next, Timer::KeyRotation(entry.id));
            }
            self.refill_import_timers(entry, &m);
        }
        for store in &self.stores.read().stores {
            if let Some(due) = store.transition_due {
                self.timers
                    .set(due, Timer::StoreTransition(store.id.clone()));
            }
        }
    }
}

impl Service {
    /// Deletes the keys in `due` (deletion timers, see `timers.rs`) whose
    /// deletion date has passed by `now`, with their aliases and (best
    /// effort, as AWS) their CloudHSM key material.
    ///
    /// Linearizable against every change to those keys: the key table, the
    /// alias table and each key's own state lock are held from the re-check
    /// of the deletion date through the commit and the removal, and each
    /// deleted key is marked `deleted` under its lock, so a transition
    /// (CancelKeyDeletion) either comes first and keeps the key, or comes
    /// after and finds it gone. Durable, the deletion is committed first;
    /// if the commit fails nothing changes and the timers stay due.
    pub(crate) fn delete_due_keys(&self, due: &[(Timestamp, KeyId)], now: Timestamp) {
        // Lock order: keys → aliases → each key's state (in key id order).
        let keys = self.keys.upgradable_read();
        let aliases = self.aliases.upgradable_read();
        let mut candidates: Vec<(Timestamp, Arc<KeyEntry>)> = Vec::new();
        for (at, id) in due {
            match keys.get(id) {
                Some(entry) => candidates.push((*at, entry)),
                // Already gone: the timer is stale.
                None => self.timers.cancel(*at, Timer::KeyDeletion(*id)),
            }
        }
        candidates.sort_by_key(|(_, e)| e.id);
        let mut gone = Vec::new();
        for (at, entry) in &candidates {
            let m = entry.state.upgradable_read();
            match m.lifecycle.deletion_date() {
                Some(d) if d <= now => gone.push((entry, m)),
                // Cancelled or rescheduled: that change moved its timer,
                // but a timer left at `at` is stale either way.
                date => {
                    if date != Some(*at) {
                        self.timers.cancel(*at, Timer::KeyDeletion(entry.id));
                    }
                }
            }
        }
        if gone.is_empty() {
            return;
        }
        let ids: BTreeSet<KeyId> = gone.iter().map(|(e, _)| e.id).collect();
        // CloudHSM material KMS can delete now (the store is connected and
        // the cluster reachable); the rest stays behind, as in AWS.
        let material: Vec<(crate::ids::ClusterId, &str)> = gone
            .iter()
            .filter_map(|(e, _)| {
                let store = e.backing.store()?;
                self.release_key_material(store, &e.arn)
                    .map(|cluster| (cluster, e.arn.as_str()))
            })
            .collect();
        if self.storage.is_durable() {
            let mut batch = Batch::new();
            for (e, _) in &gone {
                batch.delete(Table::Keys, e.id.to_string());
                batch.delete(Table::KeyStates, e.id.to_string());
            }
            for name in aliases.names_targeting(&ids) {
                batch.delete(Table::Aliases, name.to_string());
            }
            for (cluster, label) in &material {
                CloudHsm::delete_key_object(cluster, label, &mut batch);
            }
            if self.storage.commit(batch).is_err() {
                // Still due: the next call retries.
                return;
            }
        }
        let mut keys = RwLockUpgradableReadGuard::upgrade(keys);
        for id in &ids {
            keys.remove(id);
        }
        drop(keys);
        // A deleted key's aliases go with it.
        RwLockUpgradableReadGuard::upgrade(aliases).remove_targets(&ids);
        for (cluster, label) in &material {
            self.cloudhsm.discard_key_object(cluster, label);
        }
        let mut related = Vec::new();
        for (entry, m) in gone {
            if let Some(d) = m.lifecycle.deletion_date() {
                self.timers.cancel(d, Timer::KeyDeletion(entry.id));
                if let Some(mr) = &m.multi_region {
                    related.push((entry.id, (**mr).clone(), d));
                }
            }
            RwLockUpgradableReadGuard::upgrade(m).deleted = true;
        }
        // With every lock of this Region released: the other Regions'
        // related keys forget the deleted ones.
        drop(candidates);
        self.forget_deleted(&related);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::kms::{CreateKeyRequest, Kms, KmsConfig, ScheduleKeyDeletionRequest};

    /// A key this thread has cached, removed from the table while a call
    /// still holds its entry, is not found again: its cell was withdrawn
    /// (and its `removed` flag set), so the lookup goes to the table.
    #[test]
    fn a_cached_key_that_left_the_table_is_not_found() {
        // Same seed: the same key ids in both services.
        let kms = Kms::new(KmsConfig::default().with_seed(5));
        let other = Kms::new(KmsConfig::default().with_seed(5));
        let create = |k: &Kms| {
            k.create_key(CreateKeyRequest::default())
                .unwrap()
                .key_metadata
                .key_id
        };
        let id = create(&kms);
        assert_eq!(create(&other), id);
        let held = kms.inner.lookup_key(&id).unwrap();
        assert!(
            std::ptr::eq(&*held, &*kms.inner.lookup_key(&id).unwrap()),
            "the second lookup is the cached entry"
        );
        assert!(
            !std::ptr::eq(&*held, &*other.inner.lookup_key(&id).unwrap()),
            "another service's key of the same id is its own"
        );
        kms.inner.keys.write().remove(&id);
        assert!(held.is_removed());
        assert!(kms.inner.lookup_key(&id).is_none());
    }

    /// A hit of the thread's key cache lends the entry without writing its
    /// reference count (the line every thread using a shared key would
    /// write), and the cache keeps nothing alive once the key leaves the
    /// table: the entry (and its material) goes when the last call in
    /// flight lets go. (Not under shuttle, whose loads count.)
    #[cfg(not(feature = "shuttle"))]
    #[test]
    fn a_cached_lookup_lends_the_entry_without_counting_it_or_keeping_it() {
        let kms = Kms::new(KmsConfig::default());
        let id = kms
            .create_key(CreateKeyRequest::default())
            .unwrap()
            .key_metadata
            .key_id;
        let first = kms.inner.lookup_key(&id).unwrap();
        let weak = Arc::downgrade(&first.to_arc());
        drop(first);
        let counted = weak.strong_count();
        let held: Vec<HeldKey> = (0..4).map(|_| kms.inner.lookup_key(&id).unwrap()).collect();
        assert_eq!(weak.strong_count(), counted, "a cached hit writes no count");
        kms.inner.keys.write().remove(&id);
        assert!(weak.upgrade().is_some(), "the calls in flight keep it");
        drop(held);
        assert!(
            weak.upgrade().is_none(),
            "the thread's cache slot keeps no entry alive after its removal"
        );
    }

    /// The race the stress test exercises, made deterministic: a
    /// CancelKeyDeletion that looked the key up (and read the clock) before
    /// the deletion date, but takes the key's lock only after the deletion
    /// at the end of the window removed it, fails instead of "succeeding"
    /// on a deleted key.
    #[test]
    fn a_cancel_that_found_the_key_before_its_deletion_fails_after_it() {
        let clock = ManualClock::default();
        let kms = Kms::new(KmsConfig::default().with_clock(clock.clone()));
        let key = kms.create_key(CreateKeyRequest::default()).unwrap();
        let id = key.key_metadata.key_id;
        let date = kms
            .schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: id.to_string(),
                pending_window_in_days: Some(7),
            })
            .unwrap()
            .deletion_date
            .unwrap();
        // The cancel begins just before the date and finds the key...
        let cx = kms.begin();
        let entry = kms.inner.resolve(&cx, &id.to_string(), false).unwrap();
        // ...then another call at the date deletes it...
        clock.set(date);
        kms.begin();
        assert!(!kms.inner.keys.read().contains(&id));
        // ...and the cancel, applied now, must not succeed.
        let err = kms
            .inner
            .transition(
                &entry,
                KeyOperation::CancelKeyDeletion,
                KeyEvent::CancelDeletion,
                cx.now,
            )
            .unwrap_err();
        assert_eq!(err.code(), "NotFoundException");
        assert!(!kms.inner.timers.is_due(date));
    }

    #[test]
    fn a_key_past_its_date_is_not_found_by_a_call_at_that_time_even_before_its_deletion() {
        let clock = ManualClock::default();
        let kms = Kms::new(KmsConfig::default().with_clock(clock.clone()));
        let key = kms.create_key(CreateKeyRequest::default()).unwrap();
        let id = key.key_metadata.key_id.to_string();
        let date = kms
            .schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: id.clone(),
                pending_window_in_days: Some(7),
            })
            .unwrap()
            .deletion_date
            .unwrap();
        // A call whose time is the date, judged before any deletion ran.
        let cx = crate::kms::Call {
            now: date,
            caller: &kms.inner.root,
        };
        let err = kms.inner.resolve(&cx, &id, false).unwrap_err();
        assert_eq!(err.code(), "NotFoundException");
        assert!(
            kms.inner
                .keys
                .read()
                .get(&key.key_metadata.key_id)
                .is_some()
        );
    }
}

#[cfg(test)]
mod timer_tests {
    use std::time::Duration;

    use crate::clock::ManualClock;
    use crate::crypto::SecretString;
    use crate::key::OriginType;
    use crate::kms::{
        ConnectionMode, CreateCustomKeyStoreRequest, CreateKeyRequest,
        DescribeCustomKeyStoresRequest, ListKeysRequest, ScheduleKeyDeletionRequest,
    };
    use crate::store::ConnectionStateType;
    use crate::{Kms, KmsConfig};

    fn kms(clock: &ManualClock, mode: ConnectionMode) -> Kms {
        Kms::new(
            KmsConfig::default()
                .with_clock(clock.clone())
                .with_seed(3)
                .with_connection_mode(mode),
        )
    }

    fn schedule(kms: &Kms, key: &str) -> crate::clock::Timestamp {
        kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key.into(),
            pending_window_in_days: Some(7),
        })
        .unwrap()
        .deletion_date
        .unwrap()
    }

    #[test]
    fn scheduling_and_cancelling_a_deletion_sets_and_clears_its_timer() {
        let clock = ManualClock::default();
        let kms = kms(&clock, ConnectionMode::Immediate);
        let key = kms.create_key(CreateKeyRequest::default()).unwrap();
        let key = key.key_metadata.key_id.to_string();
        assert_eq!(kms.inner.timers.earliest(), None);
        let date = schedule(&kms, &key);
        assert_eq!(kms.inner.timers.earliest(), Some(date));
        kms.cancel_key_deletion(&key).unwrap();
        assert_eq!(kms.inner.timers.earliest(), None);
    }

    #[test]
    fn a_deletion_runs_from_the_first_call_after_its_date_whatever_the_call() {
        let clock = ManualClock::default();
        let kms = kms(&clock, ConnectionMode::Immediate);
        let doomed = kms.create_key(CreateKeyRequest::default()).unwrap();
        let doomed = doomed.key_metadata.key_id.to_string();
        let other = kms.create_key(CreateKeyRequest::default()).unwrap();
        let other = other.key_metadata.key_id.to_string();
        let date = schedule(&kms, &doomed);
        clock.set(date);
        // A cryptographic call under another key does the deletion.
        kms.encrypt(crate::kms::EncryptRequest {
            key_id: other.clone(),
            plaintext: "x".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(kms.inner.keys.read().len(), 1);
        assert_eq!(kms.inner.timers.earliest(), None);
    }

    /// What the cryptographic path reads of each store (id, name,
    /// state, settings), from the published view and from the table.
    fn store_views(kms: &Kms) -> (Vec<String>, Vec<String>) {
        let show = |t: &super::StoreTable| {
            t.stores
                .iter()
                .map(|s| format!("{} {} {:?} {:?}", s.id, s.name, s.state, s.backend))
                .collect()
        };
        (
            show(&kms.inner.store_view.load()),
            show(&kms.inner.stores.read()),
        )
    }

    /// A service whose stores connect in 1 s steps, and one CloudHSM key
    /// store "S" on a ready cluster (its id returned too), not yet connected.
    fn stepped_with_store(clock: &ManualClock) -> (Kms, crate::ids::ClusterId, String) {
        let kms = kms(
            clock,
            ConnectionMode::Stepped {
                duration_millis: 1_000,
            },
        );
        let (cluster, anchor) = kms
            .cloudhsm()
            .provision_ready_cluster(&["us-west-2a", "us-west-2b"], "kmsPswd")
            .unwrap();
        let store = kms
            .create_custom_key_store(CreateCustomKeyStoreRequest {
                custom_key_store_name: "S".into(),
                cloud_hsm_cluster_id: Some(cluster.to_string()),
                trust_anchor_certificate: Some(anchor),
                key_store_password: Some(SecretString::from("kmsPswd")),
                ..Default::default()
            })
            .unwrap()
            .custom_key_store_id
            .to_string();
        (kms, cluster, store)
    }

    /// Every change of the store table — create, a stepped connect and its
    /// end at the due time (a timer), a rename, disconnect, delete — is
    /// published to the view the
    /// cryptographic path reads without a lock.
    #[test]
    fn the_store_view_follows_every_change_of_the_store_table() {
        let clock = ManualClock::default();
        let (kms, _, store) = stepped_with_store(&clock);
        let same = |step: &str| {
            let (view, table) = store_views(&kms);
            assert_eq!(view, table, "after {step}");
        };
        same("create");
        kms.connect_custom_key_store(&store).unwrap();
        same("connect (CONNECTING)");
        clock.advance(Duration::from_millis(1_000));
        kms.list_keys(ListKeysRequest::default()).unwrap();
        same("the end of CONNECTING");
        assert!(store_views(&kms).0[0].contains("Connected"));
        kms.update_custom_key_store(crate::kms::UpdateCustomKeyStoreRequest {
            custom_key_store_id: store.clone(),
            new_custom_key_store_name: Some("T".into()),
            ..Default::default()
        })
        .unwrap();
        same("rename");
        kms.disconnect_custom_key_store(&store).unwrap();
        clock.advance(Duration::from_millis(1_000));
        kms.list_keys(ListKeysRequest::default()).unwrap();
        same("disconnect");
        kms.delete_custom_key_store(&store).unwrap();
        same("delete");
        assert!(store_views(&kms).0.is_empty());
    }

    #[test]
    fn a_store_connect_due_with_a_key_deletion_runs_first_so_the_material_goes_too() {
        let clock = ManualClock::default();
        let (kms, cluster, store) = stepped_with_store(&clock);
        let state = |kms: &Kms| {
            kms.describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
                .unwrap()
                .custom_key_stores[0]
                .connection_state
        };
        kms.connect_custom_key_store(&store).unwrap();
        clock.advance(Duration::from_millis(1_000));
        assert_eq!(state(&kms), ConnectionStateType::Connected);
        let key = kms
            .create_key(CreateKeyRequest {
                origin: Some(OriginType::AwsCloudHsm),
                custom_key_store_id: Some(store.clone()),
                ..Default::default()
            })
            .unwrap()
            .key_metadata
            .key_id
            .to_string();
        assert_eq!(kms.cloudhsm().key_labels(&cluster).unwrap().len(), 1);
        let date = schedule(&kms, &key);
        kms.disconnect_custom_key_store(&store).unwrap();
        clock.advance(Duration::from_millis(1_000));
        assert_eq!(state(&kms), ConnectionStateType::Disconnected);
        // Reconnect so that CONNECTING ends at the deletion date.
        clock.set(crate::clock::Timestamp::from_millis(
            date.as_millis() - 1_000,
        ));
        kms.connect_custom_key_store(&store).unwrap();
        assert_eq!(kms.inner.timers.due(date).len(), 2);
        clock.set(date);
        kms.list_keys(ListKeysRequest::default()).unwrap();
        assert_eq!(state(&kms), ConnectionStateType::Connected);
        assert_eq!(kms.inner.keys.read().len(), 0);
        // Deleted while its store was connected: the material went too.
        assert!(kms.cloudhsm().key_labels(&cluster).unwrap().is_empty());
        assert_eq!(kms.inner.timers.earliest(), None);
    }

    #[cfg(feature = "durable")]
    #[test]
    fn reopening_a_durable_service_refills_the_timer_table() {
        let dir = std::env::temp_dir().join(format!(
            "kms-timers-refill-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let clock = ManualClock::default();
        let config = KmsConfig::default()
            .with_clock(clock.clone())
            .with_durable_storage(
                dir.join("kms.redb"),
                crate::storage::RootKey::from_bytes([7; 32]),
            );
        let date = {
            let kms = Kms::open(config.clone()).unwrap();
            let key = kms.create_key(CreateKeyRequest::default()).unwrap();
            schedule(&kms, &key.key_metadata.key_id.to_string())
        };
        let kms = Kms::open(config).unwrap();
        assert_eq!(kms.inner.timers.earliest(), Some(date));
        clock.set(date);
        kms.list_keys(ListKeysRequest::default()).unwrap();
        assert_eq!(kms.inner.keys.read().len(), 0);
        assert_eq!(kms.inner.timers.earliest(), None);
        drop(kms);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// What [`Service::decrypt_blob`] opened: the key, the plaintext, the
/// material version that sealed it (symmetric keys whose material KMS
/// holds) and the encryption algorithm.
pub(crate) struct Opened {
    /// The key that decrypted.
    pub(crate) entry: HeldKey,
    /// The plaintext.
    pub(crate) plaintext: Plaintext,
    /// The material version's id, for a response's `KeyMaterialId`.
    pub(crate) material: Option<MaterialId>,
    /// `SYMMETRIC_DEFAULT`, or the RSAES-OAEP algorithm.
    pub(crate) algorithm: EncryptionAlgorithmSpec,
}
