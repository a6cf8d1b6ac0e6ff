//! The durable backend: a redb database file with sealed records.
//!
//! Layout: one redb table per [`Table`], `&str` record key → `&[u8]` value.
//! Every value except `meta/format` and `meta/dek` is
//! `0x01 ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16)` under the data
//! key (DEK), with AAD `kms-keystore/v1 ‖ 0 ‖ table ‖ 0 ‖ record key`, so a
//! value moved to another record does not open. `meta/dek` is the DEK sealed
//! the same way under the caller's root key; opening it is how a wrong root
//! key is detected. Nonces come from the operating system's CSPRNG, never
//! from a seeded stream, so sealing does not disturb determinism.
//!
//! Commits: one redb write transaction per [`Batch`], with
//! `Durability::Immediate` (fsync before `commit` returns). The seeded RNG's
//! position is read inside the transaction, so the stored position is never
//! behind randomness a committed change used.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::sync::{Mutex, RwLock};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, TableError};
use zeroize::Zeroizing;

use super::integrity::{self, CounterFile, Mac, Manifest, mix};
use super::records::{FORMAT_VERSION, FormatRecord, RngRecord, ServiceRecord};
use super::{Batch, RootKey, Table, write_failed};
use crate::crypto::aead::{NONCE_LEN, TAG_LEN};
use crate::crypto::rng::SecureRng;
use crate::crypto::{Cipher, KeyMaterial};
use crate::error::{Error, Result, kms_err};

const SEALED_V1: u8 = 1;
const AAD_PREFIX: &[u8] = b"kms-keystore/v1";
const APPLICATION: &str = "kms-keystore";

const FORMAT_KEY: &str = "format";
const DEK_KEY: &str = "dek";
const SERVICE_KEY: &str = "service";
const RNG_KEY: &str = "rng";
const MANIFEST_KEY: &str = "manifest";

/// Meta records outside the sealed-under-the-data-key set: the plain format
/// record, the data key (sealed under the root key) and the manifest.
fn unsealed_meta(table: Table, key: &str) -> bool {
    table == Table::Meta && matches!(key, FORMAT_KEY | DEK_KEY | MANIFEST_KEY)
}

/// Whether a record is outside the digest: the format record (checked by
/// content) and the manifest itself.
fn undigested(table: Table, key: &str) -> bool {
    table == Table::Meta && matches!(key, FORMAT_KEY | MANIFEST_KEY)
}

/// The digest of every record of every table in `txn`'s view.
fn full_digest<T, F>(open_table: F, mac: &Mac) -> std::result::Result<[u8; 16], String>
where
    T: ReadableTable<&'static str, &'static [u8]>,
    F: Fn(Table) -> std::result::Result<Option<T>, String>,
{
    let mut digest = [0u8; 16];
    for table in Table::ALL {
        let Some(t) = open_table(table)? else {
            continue;
        };
        for item in t.iter().map_err(|e| e.to_string())? {
            let (k, v) = item.map_err(|e| e.to_string())?;
            if !undigested(table, k.value()) {
                mix(&mut digest, mac.element(v.value()));
            }
        }
    }
    Ok(digest)
}

fn definition(table: Table) -> TableDefinition<'static, &'static str, &'static [u8]> {
    TableDefinition::new(table.name())
}

fn aad(table: Table, key: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_PREFIX.len() + table.name().len() + key.len() + 2);
    aad.extend_from_slice(AAD_PREFIX);
    aad.push(0);
    aad.extend_from_slice(table.name().as_bytes());
    aad.push(0);
    aad.extend_from_slice(key.as_bytes());
    aad
}

fn seal(cipher: &Cipher, table: Table, key: &str, plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
    let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
    out.push(SEALED_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = cipher.seal_in_place(&nonce, &aad(table, key), &mut out[1 + NONCE_LEN..]);
    out.extend_from_slice(&tag);
    out
}

/// Opens a sealed value; `None` if it does not authenticate.
fn open(cipher: &Cipher, table: Table, key: &str, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != SEALED_V1 {
        return None;
    }
    let nonce: [u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN].try_into().ok()?;
    let body = &sealed[1 + NONCE_LEN..];
    let (ct, tag) = body.split_at(body.len() - TAG_LEN);
    let tag: [u8; TAG_LEN] = tag.try_into().ok()?;
    let mut buf = Zeroizing::new(ct.to_vec());
    cipher
        .open_in_place(&nonce, &aad(table, key), &mut buf, &tag)
        .ok()?;
    Some(buf)
}

/// Who the state belongs to; checked on open.
pub(crate) struct Identity {
    pub(crate) account_id: String,
    pub(crate) region: String,
    pub(crate) seed: Option<u64>,
}

/// The data key's cipher and the mac key derived from it.
struct Keys {
    cipher: Cipher,
    mac: Mac,
}

impl Keys {
    fn new(dek: &KeyMaterial) -> Keys {
        Keys {
            cipher: Cipher::new(dek),
            mac: Mac::derive(dek.expose_secret()),
        }
    }
}

/// The redb database, dropped with any panic caught: redb's drop commits,
/// and on a damaged file that can panic. Dropped while the thread is
/// already panicking, it is leaked instead (a second panic would abort).
struct Db(Option<Database>);

impl std::ops::Deref for Db {
    type Target = Database;
    fn deref(&self) -> &Database {
        match &self.0 {
            Some(db) => db,
            None => unreachable!("the database is only taken by drop"),
        }
    }
}

impl std::ops::DerefMut for Db {
    fn deref_mut(&mut self) -> &mut Database {
        match &mut self.0 {
            Some(db) => db,
            None => unreachable!("the database is only taken by drop"),
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            if std::thread::panicking() {
                std::mem::forget(db);
            } else {
                let _ = catch_unwind(AssertUnwindSafe(move || drop(db)));
            }
        }
    }
}

/// An open durable store.
pub(crate) struct Durable {
    db: Db,
    path: PathBuf,
    /// The data key's cipher and mac key. Commits hold it shared and the
    /// root-key rotation exclusively, always before the manifest and the
    /// write transaction.
    dek: RwLock<Keys>,
    /// The manifest as last committed. Held across each commit.
    manifest: Mutex<Manifest>,
    rng: Arc<SecureRng>,
}

fn db_error(path: &Path, e: impl std::fmt::Display) -> Error {
    write_failed(path, &e.to_string())
}

fn read_error(path: &Path, e: impl std::fmt::Display) -> Error {
    kms_err!(
        KmsInternal,
        "The durable store {} could not be read: {e}. Check the file, or restore it from a backup.",
        path.display()
    )
}

/// The file was changed by something other than this crate.
fn tampered(path: &Path, what: &str) -> Error {
    kms_err!(
        KmsInternal,
        "The durable store {} was changed outside kms-keystore ({what}). It is not opened: restore it from a backup.",
        path.display()
    )
}

fn corrupt(path: &Path, what: &str) -> Error {
    kms_err!(
        KmsInternal,
        "The durable store {} is damaged ({what}). Restore it from a backup.",
        path.display()
    )
}

impl Durable {
    /// Opens the store at `path`, creating it if the file does not exist.
    ///
    /// Before redb reads an existing file it is checked (not empty, redb's
    /// magic number, at least a page), and redb's own open and page-checksum
    /// pass run with any panic caught; then the manifest's digest is checked
    /// against every record and its counter against the counter file.
    ///
    /// # Errors
    /// `IncorrectKeyException` when `root` is not the key the store is sealed
    /// under; `ValidationException` when the store belongs to another account,
    /// Region or seed; `KMSInternalException` when the file cannot be opened
    /// (for example another process has it open), is not a store, is damaged,
    /// was changed outside this crate, or is older than its last commit.
    pub(crate) fn open(
        path: &Path,
        root: &RootKey,
        identity: &Identity,
        rng: Arc<SecureRng>,
    ) -> Result<Durable> {
        let root_cipher = root.cipher();
        if path.exists() {
            if let Some(why) = integrity::precheck(path) {
                return Err(damaged(path, why));
            }
        } else {
            Self::create_new(path, &root_cipher, identity, &rng)?;
        }
        let opened = catch_unwind(AssertUnwindSafe(|| {
            let mut db = Db(Some(Database::create(path)?));
            // Every page against its checksum before anything is parsed.
            let clean = db.check_integrity()?;
            Ok::<_, redb::DatabaseError>((db, clean))
        }));
        let db = match opened {
            // `false`: redb found pages failing their checksums and went
            // back to its previous commit. After a crash during a commit
            // that is right (that commit was never acknowledged); if an
            // acknowledged commit was lost, the counter check refuses it.
            Ok(Ok((db, _clean))) => db,
            Ok(Err(e @ redb::DatabaseError::DatabaseAlreadyOpen)) => {
                return Err(kms_err!(
                    KmsInternal,
                    "The durable store {} could not be opened: {e}. Check that no other process has it open.",
                    path.display()
                ));
            }
            Ok(Err(redb::DatabaseError::Storage(redb::StorageError::Io(e)))) => {
                return Err(kms_err!(
                    KmsInternal,
                    "The durable store {} could not be opened: {e}. Check the path and its permissions.",
                    path.display()
                ));
            }
            Ok(Err(e)) => return Err(damaged(path, &e.to_string())),
            Err(_) => return Err(damaged(path, "redb could not read its structure")),
        };
        let format = Self::read_raw(&db, path, Table::Meta, FORMAT_KEY)?;
        let Some(format) = format else {
            // A new store is created whole under its name, so a database
            // without the format record is someone else's.
            return Err(not_a_store(path));
        };
        let format: FormatRecord =
            serde_json::from_slice(&format).map_err(|_| not_a_store(path))?;
        if format.application != APPLICATION {
            return Err(not_a_store(path));
        }
        if format.version > FORMAT_VERSION {
            return Err(kms_err!(
                KmsInternal,
                "The durable store {} was written by a newer version of kms-keystore (format {}, this build reads {FORMAT_VERSION}). Upgrade.",
                path.display(),
                format.version
            ));
        }
        let wrapped = Self::read_raw(&db, path, Table::Meta, DEK_KEY)?
            .ok_or_else(|| corrupt(path, "no data key"))?;
        let dek = open(&root_cipher, Table::Meta, DEK_KEY, &wrapped)
            .ok_or_else(|| wrong_root_key(path))?;
        let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(
            dek.as_slice()
                .try_into()
                .map_err(|_| corrupt(path, "the data key has the wrong length"))?,
        );
        let keys = Keys::new(&KeyMaterial::from_bytes(*bytes));
        let manifest = Self::check_manifest(&db, path, &keys)?;
        let store = Durable {
            db,
            path: path.to_owned(),
            dek: RwLock::new(keys),
            manifest: Mutex::new(manifest),
            rng,
        };
        store.check_identity(identity)?;
        if let Some(bytes) = store.get(Table::Meta, RNG_KEY)? {
            let rec: RngRecord =
                serde_json::from_slice(&bytes).map_err(|_| corrupt(path, "meta/rng"))?;
            let pos: u128 = rec
                .word_pos
                .parse()
                .map_err(|_| corrupt(path, "meta/rng"))?;
            store.rng.set_word_pos(pos);
        }
        Ok(store)
    }

    /// Checks the manifest against every record and the counter file, and
    /// brings the counter file up to date. A store written before manifests
    /// existed (and so without a counter file) gets one now.
    fn check_manifest(db: &Database, path: &Path, keys: &Keys) -> Result<Manifest> {
        let digest = catch_unwind(AssertUnwindSafe(|| {
            let txn = db.begin_read().map_err(|e| e.to_string())?;
            full_digest(
                |table| match txn.open_table(definition(table)) {
                    Ok(t) => Ok(Some(t)),
                    Err(TableError::TableDoesNotExist(_)) => Ok(None),
                    Err(e) => Err(e.to_string()),
                },
                &keys.mac,
            )
        }))
        .map_err(|_| damaged(path, "redb could not read its records"))?
        .map_err(|e| read_error(path, e))?;
        let counter_file = integrity::read_counter(path, &keys.mac);
        let manifest = match Self::read_raw(db, path, Table::Meta, MANIFEST_KEY)? {
            Some(sealed) => {
                let m = open(&keys.cipher, Table::Meta, MANIFEST_KEY, &sealed)
                    .and_then(|b| Manifest::from_bytes(&b))
                    .ok_or_else(|| tampered(path, "meta/manifest does not authenticate"))?;
                if !constant_time_eq::constant_time_eq(&m.digest, &digest) {
                    return Err(tampered(
                        path,
                        "its records do not match its manifest: a record was deleted, added, or replaced by an older copy",
                    ));
                }
                m
            }
            None if matches!(counter_file, CounterFile::Missing) => {
                // Written before manifests: add one.
                let m = Manifest { counter: 0, digest };
                let txn = db.begin_write().map_err(|e| db_error(path, e))?;
                txn.open_table(definition(Table::Meta))
                    .map_err(|e| db_error(path, e))?
                    .insert(
                        MANIFEST_KEY,
                        seal(&keys.cipher, Table::Meta, MANIFEST_KEY, &m.to_bytes()).as_slice(),
                    )
                    .map_err(|e| db_error(path, e))?;
                txn.commit().map_err(|e| db_error(path, e))?;
                m
            }
            None => return Err(tampered(path, "its manifest record is missing")),
        };
        match counter_file {
            CounterFile::Counter(c) if c > manifest.counter => {
                return Err(kms_err!(
                    KmsInternal,
                    "The durable store {} is older than its last acknowledged commit (it holds commit {}, its counter file {} says {c}): it was rolled back or damaged, and acknowledged changes are missing. It is not opened: restore it from a backup (with the backup's .commit file, or none).",
                    path.display(),
                    manifest.counter,
                    integrity::counter_path(path).display()
                ));
            }
            CounterFile::Damaged => {
                return Err(kms_err!(
                    KmsInternal,
                    "The commit counter file {} of the durable store is damaged or belongs to another store. Restore it with the store, or delete it to accept the store as it is.",
                    integrity::counter_path(path).display()
                ));
            }
            _ => {}
        }
        integrity::write_counter(path, &keys.mac, manifest.counter)
            .map_err(|e| db_error(&integrity::counter_path(path), e))?;
        Ok(manifest)
    }

    /// A new store at `path`, built under a temporary name and renamed into
    /// place, so that a file at `path` is always a whole store.
    fn create_new(path: &Path, root: &Cipher, identity: &Identity, rng: &SecureRng) -> Result<()> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".creating");
        let tmp = PathBuf::from(tmp);
        let _ = std::fs::remove_file(&tmp);
        let result = (|| {
            let db = Database::create(&tmp).map_err(|e| {
                kms_err!(
                    KmsInternal,
                    "The durable store {} could not be created: {e}. Check the path.",
                    path.display()
                )
            })?;
            Self::initialize(&db, &tmp, root, identity, rng)?;
            drop(db);
            std::fs::rename(&tmp, path).map_err(|e| db_error(path, e))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// A new store: the format record, a fresh data key sealed under the root
    /// key, the identity, the RNG position and the manifest, in one
    /// transaction.
    fn initialize(
        db: &Database,
        path: &Path,
        root: &Cipher,
        identity: &Identity,
        rng: &SecureRng,
    ) -> Result<()> {
        let dek = fresh_dek();
        let keys = Keys::new(&dek);
        let cipher = &keys.cipher;
        let mut digest = [0u8; 16];
        let txn = db.begin_write().map_err(|e| db_error(path, e))?;
        {
            let mut meta = txn
                .open_table(definition(Table::Meta))
                .map_err(|e| db_error(path, e))?;
            let format = serde_json::to_vec(&FormatRecord {
                application: APPLICATION.to_owned(),
                version: FORMAT_VERSION,
            })
            .map_err(|e| db_error(path, e))?;
            meta.insert(FORMAT_KEY, format.as_slice())
                .map_err(|e| db_error(path, e))?;
            let wrapped = seal(root, Table::Meta, DEK_KEY, dek.expose_secret());
            mix(&mut digest, keys.mac.element(&wrapped));
            meta.insert(DEK_KEY, wrapped.as_slice())
                .map_err(|e| db_error(path, e))?;
            let service = serde_json::to_vec(&ServiceRecord {
                account_id: identity.account_id.clone(),
                region: identity.region.clone(),
                seed: identity.seed,
            })
            .map_err(|e| db_error(path, e))?;
            let sealed = seal(cipher, Table::Meta, SERVICE_KEY, &service);
            mix(&mut digest, keys.mac.element(&sealed));
            meta.insert(SERVICE_KEY, sealed.as_slice())
                .map_err(|e| db_error(path, e))?;
            if let Some(pos) = rng.word_pos() {
                let rec = serde_json::to_vec(&RngRecord {
                    word_pos: pos.to_string(),
                })
                .map_err(|e| db_error(path, e))?;
                let sealed = seal(cipher, Table::Meta, RNG_KEY, &rec);
                mix(&mut digest, keys.mac.element(&sealed));
                meta.insert(RNG_KEY, sealed.as_slice())
                    .map_err(|e| db_error(path, e))?;
            }
            let manifest = Manifest { counter: 0, digest };
            let sealed = seal(cipher, Table::Meta, MANIFEST_KEY, &manifest.to_bytes());
            meta.insert(MANIFEST_KEY, sealed.as_slice())
                .map_err(|e| db_error(path, e))?;
        }
        for table in Table::ALL {
            txn.open_table(definition(table))
                .map_err(|e| db_error(path, e))?;
        }
        txn.commit().map_err(|e| db_error(path, e))
    }

    fn check_identity(&self, want: &Identity) -> Result<()> {
        let bytes = self
            .get(Table::Meta, SERVICE_KEY)?
            .ok_or_else(|| corrupt(&self.path, "no service record"))?;
        let have: ServiceRecord =
            serde_json::from_slice(&bytes).map_err(|_| corrupt(&self.path, "meta/service"))?;
        if have.account_id != want.account_id || have.region != want.region {
            return Err(kms_err!(
                Validation,
                "The durable store {} holds the state of account {} in Region {}, not account {} in Region {}. Open it with the account and Region it was created for.",
                self.path.display(),
                have.account_id,
                have.region,
                want.account_id,
                want.region
            ));
        }
        if have.seed != want.seed {
            let how = |s: Option<u64>| {
                if s.is_some() {
                    "with a seed"
                } else {
                    "without a seed"
                }
            };
            let opened = match (have.seed, want.seed) {
                (Some(_), Some(_)) => "with a different seed",
                (_, other) => how(other),
            };
            return Err(kms_err!(
                Validation,
                "The durable store {} was created {} and is being opened {opened}. Open it with the seed it was created with (KmsConfig::with_seed), or without one if it had none.",
                self.path.display(),
                how(have.seed)
            ));
        }
        Ok(())
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A record's raw (unsealed) bytes, as stored.
    fn read_raw(db: &Database, path: &Path, table: Table, key: &str) -> Result<Option<Vec<u8>>> {
        let txn = db.begin_read().map_err(|e| read_error(path, e))?;
        let t = match txn.open_table(definition(table)) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(read_error(path, e)),
        };
        let v = t.get(key).map_err(|e| read_error(path, e))?;
        Ok(v.map(|v| v.value().to_vec()))
    }

    /// One record, unsealed.
    fn get(&self, table: Table, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let Some(sealed) = Self::read_raw(&self.db, &self.path, table, key)? else {
            return Ok(None);
        };
        let keys = self.dek.read();
        open(&keys.cipher, table, key, &sealed)
            .map(Some)
            .ok_or_else(|| {
                corrupt(
                    &self.path,
                    &format!("{}/{key} does not authenticate", table.name()),
                )
            })
    }

    /// Every record of `table`, unsealed, in key order.
    ///
    /// # Errors
    /// `KMSInternalException` if the file cannot be read or a record does not
    /// authenticate (it was changed outside this crate).
    pub(crate) fn scan(&self, table: Table) -> Result<Vec<(String, Zeroizing<Vec<u8>>)>> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| read_error(&self.path, e))?;
        let t = match txn.open_table(definition(table)) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(read_error(&self.path, e)),
        };
        let keys = self.dek.read();
        let dek = &keys.cipher;
        let mut out = Vec::new();
        for item in t.iter().map_err(|e| read_error(&self.path, e))? {
            let (k, v) = item.map_err(|e| read_error(&self.path, e))?;
            let key = k.value();
            if unsealed_meta(table, key) {
                continue;
            }
            let plain = open(dek, table, key, v.value()).ok_or_else(|| {
                corrupt(
                    &self.path,
                    &format!("{}/{key} does not authenticate", table.name()),
                )
            })?;
            out.push((key.to_owned(), plain));
        }
        Ok(out)
    }

    /// Commits `batch` (plus the seeded RNG's position and the next
    /// manifest) in one transaction, then writes the counter file.
    pub(crate) fn commit(&self, batch: Batch) -> Result<()> {
        let keys = self.dek.read();
        let dek = &keys.cipher;
        let mac = &keys.mac;
        let mut manifest = self.manifest.lock();
        let mut next = Manifest {
            counter: manifest.counter.wrapping_add(1),
            digest: manifest.digest,
        };
        let path = &self.path;
        let txn = self.db.begin_write().map_err(|e| db_error(path, e))?;
        for w in &batch.writes {
            let mut t = txn
                .open_table(definition(w.table))
                .map_err(|e| db_error(path, e))?;
            let old = match &w.value {
                Some(plain) => {
                    let sealed = seal(dek, w.table, &w.key, plain);
                    mix(&mut next.digest, mac.element(&sealed));
                    t.insert(w.key.as_str(), sealed.as_slice())
                        .map_err(|e| db_error(path, e))?
                }
                None => t.remove(w.key.as_str()).map_err(|e| db_error(path, e))?,
            };
            if let Some(old) = old {
                mix(&mut next.digest, mac.element(old.value()));
            }
        }
        let mut meta = txn
            .open_table(definition(Table::Meta))
            .map_err(|e| db_error(path, e))?;
        if let Some(pos) = self.rng.word_pos() {
            let rec = serde_json::to_vec(&RngRecord {
                word_pos: pos.to_string(),
            })
            .map_err(|e| db_error(path, e))?;
            let sealed = seal(dek, Table::Meta, RNG_KEY, &rec);
            mix(&mut next.digest, mac.element(&sealed));
            let old = meta
                .insert(RNG_KEY, sealed.as_slice())
                .map_err(|e| db_error(path, e))?;
            if let Some(old) = old {
                mix(&mut next.digest, mac.element(old.value()));
            }
        }
        let sealed = seal(dek, Table::Meta, MANIFEST_KEY, &next.to_bytes());
        meta.insert(MANIFEST_KEY, sealed.as_slice())
            .map_err(|e| db_error(path, e))?;
        drop(meta);
        txn.commit().map_err(|e| db_error(path, e))?;
        *manifest = next;
        // Best effort: the commit is durable already, and a counter file
        // behind the store never refuses it.
        let _ = integrity::write_counter(path, mac, next.counter);
        Ok(())
    }

    /// Writes a consistent copy of the store — every record as of one
    /// moment, still sealed under the same root key — to a new file at
    /// `dest`. Runs on a read snapshot: writers are not held up.
    ///
    /// # Errors
    /// `ValidationException` if `dest` exists; `KMSInternalException` if
    /// it cannot be written (a partial file is removed).
    pub(crate) fn backup(&self, dest: &Path) -> Result<()> {
        if dest.exists() {
            return Err(kms_err!(Validation, "{} already exists.", dest.display())
                .with_hint("Give a backup a new file."));
        }
        let result = (|| {
            let snapshot = self
                .db
                .begin_read()
                .map_err(|e| read_error(&self.path, e))?;
            let copy = Database::create(dest).map_err(|e| db_error(dest, e))?;
            let txn = copy.begin_write().map_err(|e| db_error(dest, e))?;
            for table in Table::ALL {
                let from = match snapshot.open_table(definition(table)) {
                    Ok(t) => t,
                    Err(TableError::TableDoesNotExist(_)) => continue,
                    Err(e) => return Err(read_error(&self.path, e)),
                };
                let mut to = txn
                    .open_table(definition(table))
                    .map_err(|e| db_error(dest, e))?;
                for item in from.iter().map_err(|e| read_error(&self.path, e))? {
                    let (k, v) = item.map_err(|e| read_error(&self.path, e))?;
                    to.insert(k.value(), v.value())
                        .map_err(|e| db_error(dest, e))?;
                }
            }
            txn.commit().map_err(|e| db_error(dest, e))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(dest);
        }
        result
    }

    /// Re-seals every record under a fresh data key sealed under `new_root`,
    /// in one transaction. Until it commits, the old root key still opens
    /// the store; after, only `new_root` does.
    pub(crate) fn rotate_root_key(&self, new_root: &RootKey) -> Result<()> {
        let mut keys = self.dek.write();
        let mut manifest = self.manifest.lock();
        let path = &self.path;
        let new_material = fresh_dek();
        let new_keys = Keys::new(&new_material);
        let mut next = Manifest {
            counter: manifest.counter.wrapping_add(1),
            digest: [0u8; 16],
        };
        let txn = self.db.begin_write().map_err(|e| db_error(path, e))?;
        for table in Table::ALL {
            let mut t = txn
                .open_table(definition(table))
                .map_err(|e| db_error(path, e))?;
            let mut resealed = Vec::new();
            for item in t.iter().map_err(|e| db_error(path, e))? {
                let (k, v) = item.map_err(|e| db_error(path, e))?;
                let key = k.value().to_owned();
                if unsealed_meta(table, &key) {
                    continue;
                }
                let plain = open(&keys.cipher, table, &key, v.value()).ok_or_else(|| {
                    corrupt(
                        path,
                        &format!("{}/{key} does not authenticate", table.name()),
                    )
                })?;
                let sealed = seal(&new_keys.cipher, table, &key, &plain);
                resealed.push((key, sealed));
            }
            for (key, sealed) in resealed {
                mix(&mut next.digest, new_keys.mac.element(&sealed));
                t.insert(key.as_str(), sealed.as_slice())
                    .map_err(|e| db_error(path, e))?;
            }
            if table == Table::Meta {
                let wrapped = seal(
                    &new_root.cipher(),
                    Table::Meta,
                    DEK_KEY,
                    new_material.expose_secret(),
                );
                mix(&mut next.digest, new_keys.mac.element(&wrapped));
                t.insert(DEK_KEY, wrapped.as_slice())
                    .map_err(|e| db_error(path, e))?;
            }
        }
        txn.open_table(definition(Table::Meta))
            .map_err(|e| db_error(path, e))?
            .insert(
                MANIFEST_KEY,
                seal(
                    &new_keys.cipher,
                    Table::Meta,
                    MANIFEST_KEY,
                    &next.to_bytes(),
                )
                .as_slice(),
            )
            .map_err(|e| db_error(path, e))?;
        txn.commit().map_err(|e| db_error(path, e))?;
        let _ = integrity::write_counter(path, &new_keys.mac, next.counter);
        *keys = new_keys;
        *manifest = next;
        Ok(())
    }
}

fn fresh_dek() -> KeyMaterial {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::RngCore::fill_bytes(&mut rand::rng(), bytes.as_mut());
    KeyMaterial::from_bytes(*bytes)
}

fn damaged(path: &Path, why: &str) -> Error {
    kms_err!(
        KmsInternal,
        "The durable store {} is damaged or not a kms-keystore durable store ({why}). It is not opened: restore it from a backup, or give the path of a new file.",
        path.display()
    )
}

fn not_a_store(path: &Path) -> Error {
    kms_err!(
        KmsInternal,
        "The file {} is a database but not a kms-keystore durable store. Give the path of a store, or a new file.",
        path.display()
    )
}

fn wrong_root_key(path: &Path) -> Error {
    kms_err!(
        IncorrectKey,
        "The root key does not open the durable store {}: it is sealed under another root key. Open it with the root key it was created with, or last rotated to (Kms::rotate_root_key).",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(b: u8) -> Cipher {
        Cipher::new(&KeyMaterial::from_bytes([b; 32]))
    }

    #[test]
    fn a_sealed_record_opens_only_as_itself() {
        let c = cipher(1);
        let sealed = seal(&c, Table::Keys, "k1", b"record");
        assert_eq!(
            open(&c, Table::Keys, "k1", &sealed).unwrap().as_slice(),
            b"record"
        );
        assert!(!sealed.windows(6).any(|w| w == b"record"));
        // Another record key, another table, another data key: no.
        assert!(open(&c, Table::Keys, "k2", &sealed).is_none());
        assert!(open(&c, Table::KeyStates, "k1", &sealed).is_none());
        assert!(open(&cipher(2), Table::Keys, "k1", &sealed).is_none());
    }

    #[test]
    fn tampered_truncated_or_unversioned_values_do_not_open() {
        let c = cipher(1);
        let sealed = seal(&c, Table::Aliases, "alias/a", b"{}");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(
                open(&c, Table::Aliases, "alias/a", &bad).is_none(),
                "byte {i}"
            );
        }
        for n in 0..sealed.len() {
            assert!(open(&c, Table::Aliases, "alias/a", &sealed[..n]).is_none());
        }
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let c = cipher(1);
        assert_ne!(
            seal(&c, Table::Meta, "rng", b"same"),
            seal(&c, Table::Meta, "rng", b"same")
        );
    }
}
