//! The storage seam behind the [`Kms`](crate::Kms): where its state lives.
//!
//! - **In memory** (the default, [`Kms::new`](crate::Kms::new)): nothing is
//!   written anywhere; every hook below is a no-op and costs one branch.
//! - **Durable** (cargo feature `durable`, [`Kms::open`](crate::Kms::open)
//!   with `KmsConfig::with_durable_storage`):
//!   an embedded [redb](https://docs.rs/redb) database file. Every
//!   successful mutating call commits one ACID write transaction before it
//!   returns; a crash leaves the state before or after the call, never a mix.
//!
//! What lives here: the batch of record writes an operation commits, the
//! tables, the records (plain serde data), and the durable backend with its
//! sealing: every record value is encrypted with AES-256-GCM under a data
//! key, which is itself sealed under the caller's `RootKey`. The
//! service layer decides *what* to write and *when*; this module only *how*.
//!
//! The service applies a change in memory only after its batch committed
//! (compute the new records, commit, then apply), so a failed write fails the
//! call with `KMSInternalException` and changes nothing. The cryptographic
//! operations (Encrypt, Decrypt, ReEncrypt, GenerateDataKey*,
//! GenerateRandom) commit nothing of their own; like every call, they first
//! run the work that has come due (a key deletion, the end of a stepped-mode
//! connection change), which commits. When that happens and what a failed
//! commit does is written once, in `src/kms/timers.rs`.

pub(crate) mod records;

#[cfg(feature = "durable")]
mod durable;
#[cfg(feature = "durable")]
mod integrity;
#[cfg(feature = "durable")]
mod root_key;
#[cfg(feature = "durable")]
pub(crate) mod secret_file;

#[cfg(feature = "durable")]
pub use root_key::RootKey;

use crate::sync::{AtomicBool, AtomicU64, Ordering};
use std::fmt;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::error::{Error, Result, kms_err};

#[cfg(feature = "durable")]
pub(crate) use durable::{Durable, Identity};

/// The tables of a durable store. Record keys are ids (key ids, alias
/// names, custom key store ids, cluster ids, key labels) and are stored in
/// the clear; record values are sealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Table {
    /// Format, service identity, the sealed data key, the RNG position.
    Meta,
    /// KMS keys by key id: what never changes (material, origin, order).
    Keys,
    /// KMS keys by key id: state, description, tags, policy.
    KeyStates,
    /// Aliases by name.
    Aliases,
    /// Custom key stores by id: creation order and date.
    Stores,
    /// Custom key stores by id: name, connection state, settings.
    StoreStates,
    /// Modelled CloudHSM clusters by id.
    Clusters,
    /// Key objects in clusters, by `<cluster id>/<label>`.
    ClusterKeys,
}

impl Table {
    /// Every table holding sealed records.
    #[cfg_attr(
        not(feature = "durable"),
        allow(dead_code, reason = "used by the durable backend")
    )]
    pub(crate) const ALL: [Table; 8] = [
        Table::Meta,
        Table::Keys,
        Table::KeyStates,
        Table::Aliases,
        Table::Stores,
        Table::StoreStates,
        Table::Clusters,
        Table::ClusterKeys,
    ];

    /// The table's name in the file (also bound into each record's AAD).
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Keys => "keys",
            Table::KeyStates => "key_states",
            Table::Aliases => "aliases",
            Table::Stores => "stores",
            Table::StoreStates => "store_states",
            Table::Clusters => "clusters",
            Table::ClusterKeys => "cluster_keys",
        }
    }
}

/// One record write: a serialized record, or a deletion.
#[cfg_attr(
    not(feature = "durable"),
    allow(dead_code, reason = "read by the durable backend")
)]
pub(crate) struct Write {
    pub(crate) table: Table,
    pub(crate) key: String,
    /// `None` deletes the record.
    pub(crate) value: Option<Zeroizing<Vec<u8>>>,
}

/// The record writes of one operation, committed together or not at all.
/// Later writes to the same record win.
#[derive(Default)]
pub(crate) struct Batch {
    pub(crate) writes: Vec<Write>,
}

impl Batch {
    /// An empty batch.
    pub(crate) fn new() -> Batch {
        Batch::default()
    }

    /// Writes `record` at `key` in `table`.
    pub(crate) fn put(
        &mut self,
        table: Table,
        key: impl Into<String>,
        record: &impl Serialize,
    ) -> Result<()> {
        let mut bytes = Zeroizing::new(Vec::with_capacity(256));
        serde_json::to_writer(&mut *bytes, record).map_err(|e| {
            Error::internal(&format!("a {} record did not serialize: {e}", table.name()))
        })?;
        self.writes.push(Write {
            table,
            key: key.into(),
            value: Some(bytes),
        });
        Ok(())
    }

    /// Deletes the record at `key` in `table` (nothing if there is none).
    pub(crate) fn delete(&mut self, table: Table, key: impl Into<String>) {
        self.writes.push(Write {
            table,
            key: key.into(),
            value: None,
        });
    }

    /// Whether there is nothing to write.
    #[cfg_attr(
        not(feature = "durable"),
        allow(dead_code, reason = "used by the durable backend")
    )]
    pub(crate) fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// Where the state lives.
enum Backend {
    Memory,
    #[cfg(feature = "durable")]
    Durable(Box<Durable>),
}

/// The storage of one [`Kms`](crate::Kms) (shared with its CloudHSM service).
pub(crate) struct Storage {
    backend: Backend,
    /// Fault switch: every commit fails while set.
    #[cfg_attr(
        not(feature = "durable"),
        allow(dead_code, reason = "read by the durable backend")
    )]
    failing: AtomicBool,
    /// The next creation-order number for keys and stores.
    order: AtomicU64,
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.backend {
            Backend::Memory => f.write_str("Storage::Memory"),
            #[cfg(feature = "durable")]
            Backend::Durable(d) => f.debug_tuple("Storage::Durable").field(&d.path()).finish(),
        }
    }
}

impl Storage {
    /// In memory: nothing is written.
    pub(crate) fn memory() -> Storage {
        Storage {
            backend: Backend::Memory,
            failing: AtomicBool::new(false),
            order: AtomicU64::new(0),
        }
    }

    /// An opened durable store; creation-order numbers continue after
    /// `next_order`.
    #[cfg(feature = "durable")]
    pub(crate) fn durable(store: Durable, next_order: u64) -> Storage {
        Storage {
            backend: Backend::Durable(Box::new(store)),
            failing: AtomicBool::new(false),
            order: AtomicU64::new(next_order),
        }
    }

    /// Whether writes go anywhere. Hooks return at once when not.
    #[inline]
    pub(crate) fn is_durable(&self) -> bool {
        !matches!(self.backend, Backend::Memory)
    }

    /// The durable backend, if any.
    #[cfg(feature = "durable")]
    pub(crate) fn backend(&self) -> Option<&Durable> {
        match &self.backend {
            Backend::Memory => None,
            Backend::Durable(d) => Some(d),
        }
    }

    /// A fresh creation-order number.
    pub(crate) fn next_order(&self) -> u64 {
        self.order.fetch_add(1, Ordering::Relaxed)
    }

    /// Fault switch: while `on`, every commit fails as a full or broken disk
    /// would.
    #[cfg_attr(
        not(feature = "durable"),
        allow(dead_code, reason = "a switch of durable Kms instances")
    )]
    pub(crate) fn set_failing(&self, on: bool) {
        self.failing.store(on, Ordering::Relaxed);
    }

    /// Commits `batch` in one transaction: durable when this returns `Ok`.
    /// In memory, nothing happens.
    ///
    /// # Errors
    /// `KMSInternalException` if the write failed; nothing was written.
    pub(crate) fn commit(&self, batch: Batch) -> Result<()> {
        match &self.backend {
            Backend::Memory => {
                drop(batch);
                Ok(())
            }
            #[cfg(feature = "durable")]
            Backend::Durable(d) => {
                if self.failing.load(Ordering::Relaxed) {
                    return Err(write_failed(d.path(), "injected storage failure"));
                }
                if batch.is_empty() {
                    return Ok(());
                }
                d.commit(batch)
            }
        }
    }
}

/// `KMSInternalException` for a write that did not happen.
#[cfg_attr(
    not(feature = "durable"),
    allow(dead_code, reason = "used by the durable backend")
)]
pub(crate) fn write_failed(path: &std::path::Path, why: &str) -> Error {
    kms_err!(
        KmsInternal,
        "The durable store {} could not be written ({why}); the request changed nothing. Retry it; if it keeps failing, check the disk.",
        path.display()
    )
}
