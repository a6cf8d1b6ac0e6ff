//! Durable storage as an API area: [`Kms::open`], root-key rotation,
//! backups, the storage path and the storage fault switch. The restoring
//! itself (records → model) is the persistence layer's (`persist/`).

use crate::error::Result;
#[cfg(feature = "durable")]
use std::path::Path;

#[cfg(feature = "durable")]
use crate::error::kms_err;
#[cfg(feature = "durable")]
use crate::storage::{Durable, RootKey};

use crate::kms::{Kms, KmsConfig};

impl Kms {
    /// Opens a service on the storage `config` names: a durable one
    /// (cargo feature `durable`) on the file given to
    /// `KmsConfig::with_durable_storage`,
    /// restoring everything it holds, or, without durable storage, a new
    /// service in memory (as [`Kms::new`]).
    ///
    /// Only one `Kms` (in one process) may have a file open at a time; it is
    /// closed when the last clone of the `Kms` (and of its
    /// [`cloudhsm`](Kms::cloudhsm) handle) is dropped.
    ///
    /// # Errors
    /// `IncorrectKeyException` when the root key is not the one the file is
    /// sealed under; `ValidationException` when the file belongs to another
    /// account, Region or seed; `KMSInternalException` when the file cannot
    /// be opened (missing directory, open elsewhere) or read, or is not a
    /// store.
    pub fn open(config: KmsConfig) -> Result<Kms> {
        #[cfg(feature = "durable")]
        {
            crate::kms::persist::durable::open(config)
        }
        #[cfg(not(feature = "durable"))]
        {
            Ok(Kms::new(config))
        }
    }
}

#[cfg(feature = "durable")]
impl Kms {
    /// Re-seals the durable store under `new_root` (with a fresh data key,
    /// so records are re-encrypted too), in one transaction: until it
    /// commits the old root key opens the file, after it only `new_root`
    /// does. Backups taken before still need the old root key.
    ///
    /// # Errors
    /// `UnsupportedOperationException` for a Kms in memory;
    /// `KMSInternalException` if the file could not be written (nothing
    /// changed).
    pub fn rotate_root_key(&self, new_root: RootKey) -> Result<()> {
        match self.inner.storage.backend() {
            Some(db) => db.rotate_root_key(&new_root),
            None => Err(kms_err!(
                UnsupportedOperation,
                "This Kms keeps its state in memory; there is no root key to rotate. Open a durable one (KmsConfig::with_durable_storage, Kms::open)."
            )),
        }
    }

    /// Backs the durable store up to a new file at `dest`: a consistent
    /// copy of everything as of one moment, taken while the service keeps
    /// running (writers are not held up). The copy is sealed under the
    /// current root key; open it like the original (after moving it into
    /// place) with [`Kms::open`].
    ///
    /// # Errors
    /// `UnsupportedOperationException` for a Kms in memory;
    /// `ValidationException` if `dest` exists; `KMSInternalException` if
    /// the copy cannot be written.
    pub fn backup(&self, dest: impl AsRef<Path>) -> Result<()> {
        match self.inner.storage.backend() {
            Some(db) => db.backup(dest.as_ref()),
            None => Err(kms_err!(
                UnsupportedOperation,
                "This Kms keeps its state in memory; there is nothing to back up. Open a durable one (KmsConfig::with_durable_storage, Kms::open)."
            )),
        }
    }

    /// The durable store's file, or `None` for a Kms in memory.
    pub fn storage_path(&self) -> Option<&Path> {
        self.inner.storage.backend().map(Durable::path)
    }

    /// Fault switch for tests: while `failing`, every write to the durable
    /// store fails as a full or broken disk would. Each mutating call then
    /// fails with `KMSInternalException` and changes nothing, in memory or
    /// on disk. The cryptographic operations write nothing of their own, but
    /// due work (a key deletion, the end of a stepped-mode connection
    /// change) that any call runs first stays due while the disk fails, and
    /// the call works on the last committed state: see `kms/timers.rs`. No
    /// effect on a Kms in memory.
    pub fn set_storage_failure(&self, failing: bool) {
        self.inner.storage.set_failing(failing);
    }
}
