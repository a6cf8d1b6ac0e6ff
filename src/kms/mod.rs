//! The service facade: [`Kms`], one AWS account in one Region, with a method
//! per KMS operation.
//!
//! The operations are split by area: [`keys`](self) (CreateKey, DescribeKey,
//! ListKeys, the key lifecycle), cryptographic operations (Encrypt, Decrypt,
//! ReEncrypt, GenerateDataKey*, GenerateRandom), key management (aliases,
//! tags, key policies, descriptions), and the request/response shapes in
//! [`types`] and [`manage_types`].
//!
//! # Lock order
//!
//! Locks are taken in this order and never the other way round, and none is
//! held across an AES operation on user data or an external key manager call:
//! `keys` (the key table) → `aliases` → a key's own `state` → `stores` → a
//! CloudHSM cluster → `timers` (the timer table, `timers.rs`). Key deletion
//! when the window ends (`Inner::advance`) takes `keys`, `aliases`, then
//! the `state` of each key it deletes (in key id order) and holds them all
//! from the re-check of the deletion date through the commit and the
//! removal, marking each key deleted under its lock: a transition that
//! waited for that lock sees the mark and answers `NotFoundException`.
//! `advance` runs with no lock held, at the start of a call (`call.rs`).
//! Resolving an alias takes the `aliases` read lock only to copy the target
//! key id, and releases it before looking the key up.
//! The hot path takes the key table's read lock only to clone an `Arc` of the
//! key, then the key's read lock to check its state.
//! CreateKey re-checks, under the key table's upgradable lock and the store
//! table's upgradable lock (`keys` → `stores`), held through its commit and
//! the insert, that its custom key store still exists and is CONNECTED: the
//! check DeleteCustomKeyStore makes under the key table's lock then cannot
//! miss the key, and a disconnect cannot slip between the check and the
//! insert.
//!
//! Writers of the key table, the aliases, a key's state, the stores and the
//! clusters take the *upgradable* read lock, check, commit to durable
//! storage (see `persist.rs`), and only then upgrade to apply: no write lock
//! (and no plain read lock) is held across a disk commit, so the hot path
//! never waits for a commit it did not start. Due work (a key deletion, the
//! end of a stepped-mode connection change) is the exception: any call may
//! run and commit it first — the rule is written once, in `timers.rs`.

mod aliases;
mod backend;
mod call;
mod crypto_ops;
#[cfg(feature = "durable")]
mod durable;
mod env;
mod keys;
pub(crate) mod manage_types;
mod model;
mod persist;
mod policy;
pub(crate) mod quota;
mod stores;
mod support;
mod table;
mod tags;
mod timers;
pub(crate) mod types;
mod unsupported;

use std::sync::Arc;
use std::time::Duration;

use crate::sync::RwLock;

use crate::clock::{Clock, SystemClock, Timestamp};
use crate::crypto::rng::SecureRng;
use crate::crypto::{Cipher, KeyMaterial};
use crate::error::{Result, kms_err};
use crate::ids::{AccountId, KeyId, KeyIdentifier, Region};
use crate::key::state::{self, KeyOperation};
use crate::key::{KeyLifecycle, KeyState, Tag};
use crate::storage::Storage;
use crate::store::cloudhsm::CloudHsm;
use crate::store::external::XksNetwork;
use crate::store::external::api::DEFAULT_DEADLINE;

pub use crypto_ops::{MAX_CIPHERTEXT_BLOB, MAX_PLAINTEXT, MAX_RANDOM_BYTES};
pub use keys::{DEFAULT_PENDING_WINDOW_DAYS, MAX_DESCRIPTION_CHARS, MAX_TAGS, PENDING_WINDOW_DAYS};
pub use manage_types::*;
pub use policy::{DEFAULT_POLICY_NAME, MAX_KEY_POLICY_BYTES, default_key_policy};
pub use stores::MAX_CUSTOM_KEY_STORES;
pub use types::*;
pub use unsupported::ROTATION_PERIOD_DAYS;

pub(crate) use call::Call;
pub(crate) use model::backing::Backing;
pub(crate) use table::KeyTable;
pub(crate) use timers::{Timer, Timers};

/// Limits the service enforces. The defaults are AWS's.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quotas {
    /// KMS keys per account and Region (AWS: 100,000, adjustable).
    pub max_keys: usize,
    /// Cryptographic requests per second per custom key store (AWS: 1,800);
    /// `None` turns the quota off.
    pub custom_key_store_requests_per_second: Option<u32>,
    /// Aliases per KMS key (AWS: 50, adjustable).
    pub aliases_per_key: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            max_keys: 100_000,
            custom_key_store_requests_per_second: Some(1_800),
            aliases_per_key: 50,
        }
    }
}

/// How connection-state changes of custom key stores complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConnectionMode {
    /// Connect and disconnect finish before the call returns (the default):
    /// DescribeCustomKeyStores shows CONNECTED/FAILED or DISCONNECTED at once.
    #[default]
    Immediate,
    /// Connect leaves the store CONNECTING and disconnect DISCONNECTING until
    /// the [`Clock`] has moved on by this many milliseconds; the transient
    /// states are observable.
    Stepped {
        /// How long a connection change takes, on the clock.
        duration_millis: u64,
    },
}

/// Configuration of a [`Kms`].
///
/// ```
/// use kms_keystore::{KmsConfig, ManualClock};
/// let config = KmsConfig::new("111122223333", "us-west-2")
///     .unwrap()
///     .with_clock(ManualClock::default())
///     .with_seed(7);
/// assert_eq!(config.region().as_str(), "us-west-2");
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct KmsConfig {
    account_id: AccountId,
    region: Region,
    clock: Arc<dyn Clock>,
    seed: Option<u64>,
    /// Service limits.
    pub quotas: Quotas,
    /// How connection changes complete.
    pub connection_mode: ConnectionMode,
    /// Where a durable Kms keeps its state (see [`Kms::open`]).
    #[cfg(feature = "durable")]
    durable: Option<durable::DurableSettings>,
    /// How long KMS waits for an external key store proxy to answer
    /// (the XKS specification's 250 ms by default).
    pub xks_proxy_timeout: Duration,
}

impl KmsConfig {
    /// A configuration for `account_id` (12 digits) in `region`, with the
    /// system clock, OS-seeded randomness and AWS's quotas.
    pub fn new(account_id: &str, region: &str) -> Result<KmsConfig> {
        Ok(KmsConfig {
            account_id: account_id.parse()?,
            region: region.parse()?,
            clock: Arc::new(SystemClock),
            seed: None,
            quotas: Quotas::default(),
            connection_mode: ConnectionMode::default(),
            #[cfg(feature = "durable")]
            durable: None,
            xks_proxy_timeout: DEFAULT_DEADLINE,
        })
    }

    /// Uses `clock` for every timestamp, deletion window and quota.
    pub fn with_clock(mut self, clock: impl Clock) -> KmsConfig {
        self.clock = Arc::new(clock);
        self
    }

    /// Makes key ids, key material, nonces and ciphertexts deterministic: the
    /// same seed and the same calls give the same results.
    pub fn with_seed(mut self, seed: u64) -> KmsConfig {
        self.seed = Some(seed);
        self
    }

    /// Replaces the quotas.
    pub fn with_quotas(mut self, quotas: Quotas) -> KmsConfig {
        self.quotas = quotas;
        self
    }

    /// Sets how connection changes complete.
    pub fn with_connection_mode(mut self, mode: ConnectionMode) -> KmsConfig {
        self.connection_mode = mode;
        self
    }

    /// Sets how long KMS waits for an external key store proxy to answer
    /// each call (default 250 ms, as the XKS specification says). A proxy
    /// slower than this fails the call as timed out.
    pub fn with_xks_proxy_timeout(mut self, timeout: Duration) -> KmsConfig {
        self.xks_proxy_timeout = timeout;
        self
    }

    /// The account.
    pub fn account_id(&self) -> &AccountId {
        &self.account_id
    }

    /// The Region.
    pub fn region(&self) -> &Region {
        &self.region
    }
}

impl Default for KmsConfig {
    /// Account `111122223333` in `us-west-2`, as in the AWS documentation.
    fn default() -> Self {
        KmsConfig {
            account_id: AccountId::new_unchecked("111122223333"),
            region: Region::new_unchecked("us-west-2"),
            clock: Arc::new(SystemClock),
            seed: None,
            quotas: Quotas::default(),
            connection_mode: ConnectionMode::default(),
            #[cfg(feature = "durable")]
            durable: None,
            xks_proxy_timeout: DEFAULT_DEADLINE,
        }
    }
}

/// AWS KMS for one account in one Region, in process.
///
/// Cheap to clone (an `Arc` inside); `Send + Sync`.
///
/// ```
/// use kms_keystore::{Kms, KmsConfig};
/// use kms_keystore::{CreateKeyRequest, EncryptRequest, DecryptRequest};
///
/// let kms = Kms::new(KmsConfig::default());
/// let key = kms.create_key(CreateKeyRequest::default()).unwrap().key_metadata;
/// let ct = kms
///     .encrypt(EncryptRequest { key_id: key.key_id.to_string(), plaintext: "hello".into(), ..Default::default() })
///     .unwrap();
/// let pt = kms
///     .decrypt(DecryptRequest { ciphertext_blob: ct.ciphertext_blob, ..Default::default() })
///     .unwrap();
/// assert_eq!(pt.plaintext.expose_secret(), b"hello");
/// ```
#[derive(Clone, Debug)]
pub struct Kms {
    pub(crate) inner: Arc<Inner>,
}

/// The shared state behind a [`Kms`].
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) account_id: AccountId,
    pub(crate) region: Region,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Arc<SecureRng>,
    pub(crate) quotas: Quotas,
    #[allow(dead_code, reason = "read by the custom key store operations")]
    pub(crate) connection_mode: ConnectionMode,
    pub(crate) keys: RwLock<KeyTable>,
    pub(crate) aliases: RwLock<aliases::AliasTable>,
    pub(crate) stores: RwLock<model::store::StoreTable>,
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
    /// The caller every request is made on behalf of (the account root),
    /// as external key store proxies see it.
    pub(crate) principal_arn: String,
}

/// The mutable part of a key.
#[derive(Clone, Debug)]
pub(crate) struct KeyMutable {
    pub(crate) lifecycle: KeyLifecycle,
    pub(crate) description: String,
    pub(crate) tags: Vec<Tag>,
    /// `None` means the default key policy.
    pub(crate) policy: Option<String>,
    /// Set, under the key's lock, by the deletion at the end of the window
    /// once it has committed and removed the key from the tables. A change
    /// that took the lock after that finds the key gone.
    pub(crate) deleted: bool,
}

/// A KMS key: immutable identity and material, mutable state behind a lock.
#[derive(Debug)]
pub(crate) struct KeyEntry {
    pub(crate) id: KeyId,
    pub(crate) arn: String,
    pub(crate) creation_date: Timestamp,
    pub(crate) backing: Backing,
    /// KMS material (AWS_KMS and EXTERNAL_KEY_STORE keys); `None` for CloudHSM keys.
    pub(crate) material: Option<KeyMaterial>,
    /// The expanded KMS-layer cipher: built from `material` on the key's
    /// first cryptographic use, then cached. A key never used holds no key
    /// schedule — with aws-lc, whose schedule is a C-heap context, that is
    /// most of what an idle key would cost.
    pub(crate) cipher: std::sync::OnceLock<Cipher>,
    pub(crate) state: RwLock<KeyMutable>,
    /// `state.lifecycle`, mirrored for the cryptographic path.
    pub(crate) lifecycle: LifecycleWord,
}

impl KeyEntry {
    /// The KMS-layer cipher (`None` for a CloudHSM key, whose material is
    /// in its cluster), expanded on first use.
    pub(crate) fn cipher(&self) -> Option<&Cipher> {
        let material = self.material.as_ref()?;
        Some(self.cipher.get_or_init(|| Cipher::new(material)))
    }

    /// The key's lifecycle, read without taking its lock.
    pub(crate) fn lifecycle(&self) -> KeyLifecycle {
        self.lifecycle
            .load()
            .unwrap_or_else(|| self.state.read().lifecycle)
    }
}

/// A key's lifecycle in one atomic word, so that the cryptographic path —
/// which reads it on every call, from every thread — loads a shared cache
/// line instead of writing one (a read lock is a write to the lock word).
/// Written only under the key's `state` write lock, right after
/// `KeyMutable::lifecycle`, which stays the record.
///
/// Layout: bits 0–1 the variant (0 Enabled, 1 Disabled, 2 PendingDeletion,
/// 3 "read the lock"), bits 2–9 the deletion window in days, bits 10–63 the
/// deletion date in milliseconds (good for 570,000 years).
#[derive(Debug)]
pub(crate) struct LifecycleWord(crate::sync::AtomicU64);

impl LifecycleWord {
    const UNENCODABLE: u64 = 3;

    pub(crate) fn new(lifecycle: KeyLifecycle) -> LifecycleWord {
        LifecycleWord(crate::sync::AtomicU64::new(Self::encode(lifecycle)))
    }

    /// Records `lifecycle`; call with the key's state write lock held.
    pub(crate) fn store(&self, lifecycle: KeyLifecycle) {
        self.0
            .store(Self::encode(lifecycle), crate::sync::Ordering::Release);
    }

    /// The lifecycle, or `None` if it does not fit the word (then the lock
    /// has it).
    fn load(&self) -> Option<KeyLifecycle> {
        let w = self.0.load(crate::sync::Ordering::Acquire);
        match w & 3 {
            0 => Some(KeyLifecycle::Enabled),
            1 => Some(KeyLifecycle::Disabled),
            2 => Some(KeyLifecycle::PendingDeletion {
                deletion_date: Timestamp::from_millis(w >> 10),
                window_days: ((w >> 2) & 0xff) as u32,
            }),
            _ => None,
        }
    }

    fn encode(lifecycle: KeyLifecycle) -> u64 {
        match lifecycle {
            KeyLifecycle::Enabled => 0,
            KeyLifecycle::Disabled => 1,
            KeyLifecycle::PendingDeletion {
                deletion_date,
                window_days,
            } if window_days <= 0xff && deletion_date.as_millis() < 1 << 54 => {
                (deletion_date.as_millis() << 10) | (u64::from(window_days) << 2) | 2
            }
            KeyLifecycle::PendingDeletion { .. } => Self::UNENCODABLE,
        }
    }
}

impl Kms {
    /// A service with no keys and no key stores, in memory: its state goes
    /// with the process. [`Kms::open`] opens a durable one.
    pub fn new(config: KmsConfig) -> Kms {
        let rng = Arc::new(SecureRng::new(config.seed));
        Kms::build(config, rng, Arc::new(Storage::memory()))
    }

    /// A service on `storage`, empty in memory (a durable one is filled by
    /// the caller).
    pub(crate) fn build(config: KmsConfig, rng: Arc<SecureRng>, storage: Arc<Storage>) -> Kms {
        let cloudhsm = CloudHsm::new(
            Arc::clone(&rng),
            Arc::clone(&config.clock),
            Arc::clone(&storage),
        );
        Kms {
            inner: Arc::new(Inner {
                principal_arn: format!("arn:aws:iam::{}:root", config.account_id),
                account_id: config.account_id,
                region: config.region,
                clock: config.clock,
                rng,
                quotas: config.quotas,
                connection_mode: config.connection_mode,
                keys: RwLock::new(KeyTable::default()),
                aliases: RwLock::new(aliases::AliasTable::default()),
                stores: RwLock::new(model::store::StoreTable::default()),
                timers: Timers::default(),
                cloudhsm,
                storage,
                xks_network: XksNetwork::new(),
                xks_timeout: config.xks_proxy_timeout,
            }),
        }
    }

    /// The account id.
    pub fn account_id(&self) -> &AccountId {
        &self.inner.account_id
    }

    /// The Region.
    pub fn region(&self) -> &Region {
        &self.inner.region
    }

    /// The clock's current time.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The network through which this KMS reaches external key store
    /// proxies: attach an external key manager (for example an
    /// [`InMemoryExternalKeyManager`](crate::store::external::InMemoryExternalKeyManager))
    /// at its endpoint, and register VPC endpoint services, before creating
    /// external key stores that use them. The handle is shared: changes
    /// made through a clone are seen by this KMS.
    pub fn xks_network(&self) -> &XksNetwork {
        &self.inner.xks_network
    }
}

impl Inner {
    pub(crate) fn key_arn(&self, id: &KeyId) -> String {
        id.arn(&self.region, &self.account_id)
    }

    /// Resolves a `KeyId` parameter to a key. `allow_alias` is false for the
    /// operations that take only a key id or key ARN.
    pub(crate) fn resolve(
        &self,
        cx: &Call,
        key_id: &str,
        allow_alias: bool,
    ) -> Result<Arc<KeyEntry>> {
        let ident: KeyIdentifier = key_id.parse()?;
        let id = match ident {
            KeyIdentifier::KeyId(id) => id,
            KeyIdentifier::KeyArn {
                region,
                account,
                key_id,
            } => {
                if region != self.region.as_str() || account != self.account_id.as_str() {
                    return Err(kms_err!(
                        NotFound,
                        "Key '{key_id}' does not exist in account {} and Region {}.",
                        self.account_id,
                        self.region
                    ));
                }
                key_id
            }
            KeyIdentifier::AliasName(_) | KeyIdentifier::AliasArn { .. } if !allow_alias => {
                return Err(kms_err!(
                    NotFound,
                    "This operation does not accept an alias ('{key_id}'). Use the key id or key ARN."
                ));
            }
            KeyIdentifier::AliasName(alias) => self.alias_target(&alias, key_id)?,
            KeyIdentifier::AliasArn {
                region,
                account,
                alias,
            } => {
                if region != self.region.as_str() || account != self.account_id.as_str() {
                    return Err(kms_err!(
                        NotFound,
                        "Alias '{key_id}' does not exist in account {} and Region {}.",
                        self.account_id,
                        self.region
                    ));
                }
                self.alias_target(&alias, key_id)?
            }
        };
        self.key_by_id(cx, &id)
    }

    /// The key with `id`, or NotFoundException — also for a key whose
    /// deletion date has passed by the call's time, deleted yet or not.
    pub(crate) fn key_by_id(&self, cx: &Call, id: &KeyId) -> Result<Arc<KeyEntry>> {
        let entry = self.keys.read().get(id);
        let Some(entry) = entry else {
            return Err(kms_err!(
                NotFound,
                "Key '{}' does not exist.",
                self.key_arn(id)
            ));
        };
        self.unless_due(entry, cx.now)
    }

    /// `entry`, or NotFoundException if its deletion date has passed by
    /// `now`. The deletion itself is [`Inner::advance`]'s (`timers.rs`): if
    /// it could not be committed yet the key is gone all the same.
    pub(crate) fn unless_due(&self, entry: Arc<KeyEntry>, now: Timestamp) -> Result<Arc<KeyEntry>> {
        if entry.lifecycle().deletion_date().is_some_and(|d| now >= d) {
            return Err(kms_err!(NotFound, "Key '{}' does not exist.", entry.arn));
        }
        Ok(entry)
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

#[cfg(test)]
mod lifecycle_word_tests {
    use super::*;

    #[test]
    fn every_lifecycle_round_trips_through_the_word() {
        for lifecycle in [
            KeyLifecycle::Enabled,
            KeyLifecycle::Disabled,
            KeyLifecycle::PendingDeletion {
                deletion_date: Timestamp::from_millis(0),
                window_days: 7,
            },
            KeyLifecycle::PendingDeletion {
                deletion_date: Timestamp::from_millis(1_767_225_600_123),
                window_days: 30,
            },
        ] {
            let word = LifecycleWord::new(KeyLifecycle::Enabled);
            word.store(lifecycle);
            assert_eq!(word.load(), Some(lifecycle));
        }
    }

    #[test]
    fn a_lifecycle_too_large_for_the_word_defers_to_the_lock() {
        let far = KeyLifecycle::PendingDeletion {
            deletion_date: Timestamp::from_millis(u64::MAX),
            window_days: 7,
        };
        assert_eq!(LifecycleWord::new(far).load(), None);
        let wide = KeyLifecycle::PendingDeletion {
            deletion_date: Timestamp::from_millis(5),
            window_days: 300,
        };
        assert_eq!(LifecycleWord::new(wide).load(), None);
    }
}
