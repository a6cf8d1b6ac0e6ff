//! What makes a durable file trustworthy beyond each record's own seal: the
//! **manifest** (a commit counter and a digest of every record, sealed in
//! `meta/manifest` and rewritten in the same transaction as every commit),
//! the **commit-counter file** beside the store (`<file>.commit`), and the
//! checks made on a file before redb is allowed to read it.
//!
//! The digest is incremental, so a commit costs a few AES block operations
//! per written record, never a pass over the file: it is the XOR, over every
//! record, of `AES-256(mac key, last 16 bytes of the stored value)`. A
//! sealed value ends in its AES-GCM tag, which authenticates its nonce,
//! ciphertext, table and record key under the data key; two values differ
//! in their tags except with negligible probability. The mac key is derived
//! from the data key (itself sealed under the root key) and never stored,
//! so without the root key nobody can compute an element: writing an older
//! value back, deleting a record or adding one changes the digest in a way
//! that cannot be compensated. A commit XORs out the element of the value it
//! replaces (redb hands the old value back on insert and remove) and XORs
//! in the new one.
//!
//! The counter catches what a consistent digest cannot: the *whole* state
//! going back to an earlier commit (redb falling back to its previous
//! commit slot when the newest one is damaged, or the file replaced by an
//! older copy). After each commit the counter is written, MACed, to the
//! commit-counter file; on open the store's counter must not be below it.
//! That file is written without its own fsync (it is a single 32-byte
//! write after the store's fsynced commit): a process crash keeps it, a
//! power loss may leave it behind the store, never ahead, so it never
//! refuses a good store. Replacing both files by older copies together is
//! indistinguishable from restoring a backup and is not detected; nor is a
//! deleted counter file (it is then written afresh).

use std::io::Write;
use std::path::{Path, PathBuf};

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use zeroize::Zeroizing;

/// The digest's and the counter MAC's keyed permutation.
pub(crate) struct Mac(aes::Aes256Enc);

impl Mac {
    /// The mac key of a data key: two AES blocks of the data key over fixed
    /// labels.
    pub(crate) fn derive(dek: &[u8; 32]) -> Mac {
        let kdf = aes::Aes256Enc::new(dek.into());
        let mut key = Zeroizing::new([0u8; 32]);
        for (i, half) in key.chunks_exact_mut(16).enumerate() {
            let mut block = aes::Block::from(*b"kmsks-mac-key-0\0");
            block[15] = u8::try_from(i).unwrap_or(0) + 1;
            kdf.encrypt_block(&mut block);
            half.copy_from_slice(&block);
        }
        Mac(aes::Aes256Enc::new((&*key).into()))
    }

    /// One record's element of the digest.
    pub(crate) fn element(&self, stored: &[u8]) -> [u8; 16] {
        let mut block = [0u8; 16];
        let tail = &stored[stored.len().saturating_sub(16)..];
        block[..tail.len()].copy_from_slice(tail);
        if tail.len() < 16 {
            // A short (unsealed) value: its length is part of the input.
            block[15] ^= 0x80 | u8::try_from(tail.len()).unwrap_or(0);
        }
        let mut block = aes::Block::from(block);
        self.0.encrypt_block(&mut block);
        block.into()
    }

    /// The MAC of a commit counter (for the counter file).
    fn counter_tag(&self, counter: u64) -> [u8; 16] {
        let mut block = [0u8; 16];
        block[..8].copy_from_slice(b"kmsksctr");
        block[8..].copy_from_slice(&counter.to_le_bytes());
        // Twice: an element is one encryption, so a counter tag is never
        // also the element of some stored value.
        let mut block = aes::Block::from(block);
        self.0.encrypt_block(&mut block);
        self.0.encrypt_block(&mut block);
        block.into()
    }
}

/// XORs `element` into `digest`.
pub(crate) fn mix(digest: &mut [u8; 16], element: [u8; 16]) {
    for (d, e) in digest.iter_mut().zip(element) {
        *d ^= e;
    }
}

/// `meta/manifest`, before sealing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Manifest {
    /// Commits so far (the store's creation is 0).
    pub(crate) counter: u64,
    /// XOR of every record's element, except `meta/format` and the manifest.
    pub(crate) digest: [u8; 16],
}

impl Manifest {
    /// The 24 bytes that are sealed.
    pub(crate) fn to_bytes(self) -> [u8; 24] {
        let mut out = [0u8; 24];
        out[..8].copy_from_slice(&self.counter.to_le_bytes());
        out[8..].copy_from_slice(&self.digest);
        out
    }

    /// The manifest from its unsealed bytes.
    pub(crate) fn from_bytes(b: &[u8]) -> Option<Manifest> {
        let b: &[u8; 24] = b.try_into().ok()?;
        let (c, d) = b.split_at(8);
        Some(Manifest {
            counter: u64::from_le_bytes(c.try_into().ok()?),
            digest: d.try_into().ok()?,
        })
    }
}

const COUNTER_MAGIC: &[u8; 8] = b"KMSKSCT1";

/// The commit-counter file beside the store at `store`.
pub(crate) fn counter_path(store: &Path) -> PathBuf {
    let mut s = store.as_os_str().to_owned();
    s.push(".commit");
    PathBuf::from(s)
}

/// What the counter file says.
pub(crate) enum CounterFile {
    /// No file.
    Missing,
    /// A counter that authenticates.
    Counter(u64),
    /// A file that is not a counter under this mac key.
    Damaged,
}

/// Reads the counter file of the store at `store`.
pub(crate) fn read_counter(store: &Path, mac: &Mac) -> CounterFile {
    let Ok(bytes) = std::fs::read(counter_path(store)) else {
        return CounterFile::Missing;
    };
    if bytes.len() < 32 {
        // What a crash while it was first written leaves: no counter.
        return CounterFile::Missing;
    }
    if bytes.len() != 32 || &bytes[..8] != COUNTER_MAGIC {
        return CounterFile::Damaged;
    }
    let mut c = [0u8; 8];
    c.copy_from_slice(&bytes[8..16]);
    let counter = u64::from_le_bytes(c);
    if constant_time_eq::constant_time_eq(&bytes[16..], &mac.counter_tag(counter)) {
        CounterFile::Counter(counter)
    } else {
        CounterFile::Damaged
    }
}

/// Writes `counter` to the counter file of the store at `store` (one
/// write, no fsync: see the module doc).
pub(crate) fn write_counter(store: &Path, mac: &Mac, counter: u64) -> std::io::Result<()> {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(COUNTER_MAGIC);
    bytes[8..16].copy_from_slice(&counter.to_le_bytes());
    bytes[16..].copy_from_slice(&mac.counter_tag(counter));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(counter_path(store))?;
    f.write_all(&bytes)
}

/// redb's magic number, at the start of every redb file.
const REDB_MAGIC: &[u8; 9] = b"redb\x1A\x0A\xA9\x0D\x0A";

/// Why a file that exists is not handed to redb, if it is not.
pub(crate) fn precheck(path: &Path) -> Option<&'static str> {
    let Ok(meta) = std::fs::metadata(path) else {
        return None; // redb reports what is wrong with opening it
    };
    if meta.len() == 0 {
        return Some("the file is empty");
    }
    let Ok(mut f) = std::fs::File::open(path) else {
        return None;
    };
    let mut head = [0u8; 9];
    if std::io::Read::read_exact(&mut f, &mut head).is_err() || &head != REDB_MAGIC {
        return Some("the file is not a redb database");
    }
    if meta.len() < 4096 {
        return Some("the file is shorter than one page: truncated");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_depend_on_the_key_and_the_whole_tag() {
        let a = Mac::derive(&[1; 32]);
        let b = Mac::derive(&[2; 32]);
        let v = [7u8; 40];
        assert_ne!(a.element(&v), b.element(&v));
        let mut w = v;
        w[39] ^= 1;
        assert_ne!(a.element(&v), a.element(&w));
        assert_ne!(a.element(b"ab"), a.element(b"ab\0"));
        assert_ne!(a.counter_tag(1), a.counter_tag(2));
    }

    #[test]
    fn manifests_round_trip() {
        let m = Manifest {
            counter: 9,
            digest: [3; 16],
        };
        assert!(Manifest::from_bytes(&m.to_bytes()) == Some(m));
        assert!(Manifest::from_bytes(&[0; 23]).is_none());
    }
}
