//! A key's material versions: [`MaterialVersion`] (one generation of key
//! material, its [`MaterialId`] and how it came to be), [`Versions`] (every
//! version of a key, append-only) and [`RotationSchedule`] (automatic
//! rotation, kept in the key's mutable part).
//!
//! # Why append-only
//!
//! Encrypt reads the current version and Decrypt the version its blob names
//! on every call, from every thread; a rotation appends a version a few
//! times a year. [`Versions`] therefore never moves or replaces a published
//! version: the first one lives inline, later ones in segments that double
//! in size (8, 16, 32, …), each slot a `OnceLock`, and the count of
//! published versions is one atomic word. A read is two or three atomic
//! loads, takes no lock and writes no shared memory; there is nothing to
//! reclaim, so no epoch or hazard scheme (arc-swap's debt slots, say) is
//! needed either. The only writer is a rotation, which holds the key's
//! `state` lock (the service's rule), fills the next slot and then publishes
//! the count with `Release`. A key that never rotates pays one pointer and
//! one word for the ability to. A version's [`MaterialId`] is derived when
//! a response needs it (one SHA-256 block), not stored.

use std::fmt;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::crypto::{Cipher, KeyMaterial};
use crate::ids::KeyId;
use crate::sync::{AtomicU32, Ordering};

/// The id of one version of a key's material: 32 bytes, shown (as AWS
/// shows `KeyMaterialId`) as 64 lowercase hex digits.
///
/// Derived, not drawn: SHA-256 of a domain label, the key id and the
/// version's index. It names the material without saying anything about
/// it, is the same after a durable reopen without being stored, and draws
/// nothing from the service's random stream.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct MaterialId([u8; 32]);

impl MaterialId {
    /// The id of version `index` of key `key`.
    pub(crate) fn derive(key: &KeyId, index: u32) -> MaterialId {
        let mut h = Sha256::new();
        h.update(b"kms-keystore key material id v1\0");
        h.update(key.as_bytes());
        h.update(index.to_be_bytes());
        MaterialId(h.finalize().into())
    }
}

impl MaterialId {
    #[cfg_attr(
        not(feature = "asymmetric"),
        allow(dead_code, reason = "imports need the feature `asymmetric`")
    )]
    /// The id of material imported into key `key`: as AWS does, derived
    /// from the key id and the material itself, so that a re-import of the
    /// same material finds the same id (and other material another).
    pub(crate) fn derive_imported(key: &KeyId, material: &[u8]) -> MaterialId {
        let mut h = Sha256::new();
        h.update(b"kms-keystore imported key material id v1\0");
        h.update(key.as_bytes());
        h.update(material);
        MaterialId(h.finalize().into())
    }

    /// From its 64 lowercase hex digits (a durable record).
    #[cfg_attr(not(feature = "durable"), allow(dead_code))]
    pub(crate) fn from_hex(s: &str) -> Option<MaterialId> {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let s = s.as_bytes();
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = (digit(s[2 * i])? << 4) | digit(s[2 * i + 1])?;
        }
        Some(MaterialId(out))
    }

    /// The 64 lowercase hex digits (a response reports them on every
    /// Decrypt and ReEncrypt). Eight digits at a time are put together in
    /// a word from a table of the 256 digit pairs and stored whole into
    /// the string's own buffer, where the UTF-8 check reads them back word
    /// by word: digits written two at a time into a stack array, then
    /// checked and copied with wider loads, waited on their stores (failed
    /// store forwards, some 3 % of a Decrypt of 4 KiB).
    pub(crate) fn hex(&self) -> String {
        let mut digits = Vec::with_capacity(64);
        for four in self.0.chunks_exact(4) {
            let word = four.iter().rev().fold(0u64, |w, &b| {
                (w << 16) | u64::from(HEX_PAIRS[usize::from(b)])
            });
            digits.extend_from_slice(&word.to_le_bytes());
        }
        // Every byte is an ASCII digit, so this never falls back.
        String::from_utf8(digits).unwrap_or_default()
    }
}

/// The two lowercase hex digits of every byte value, as a little-endian
/// pair (the first digit in the low byte).
static HEX_PAIRS: [u16; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [0u16; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = u16::from_le_bytes([DIGITS[b >> 4], DIGITS[b & 0xf]]);
        b += 1;
    }
    table
};

impl fmt::Display for MaterialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for MaterialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// How a version after the first came to be (ListKeyRotations'
/// `RotationType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RotationKind {
    /// On the key's automatic rotation schedule.
    Automatic,
    /// By RotateKeyOnDemand.
    OnDemand,
}

impl RotationKind {
    /// The API name.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            RotationKind::Automatic => "AUTOMATIC",
            RotationKind::OnDemand => "ON_DEMAND",
        }
    }

    /// From the API name.
    #[cfg_attr(not(feature = "durable"), allow(dead_code))]
    pub(crate) fn parse(s: &str) -> Option<RotationKind> {
        match s {
            "AUTOMATIC" => Some(RotationKind::Automatic),
            "ON_DEMAND" => Some(RotationKind::OnDemand),
            _ => None,
        }
    }
}

/// One version of a key's material.
#[derive(Debug)]
pub(crate) struct MaterialVersion {
    /// Its place: 0 is the material the key was created with. Its id is
    /// derived from this and the key id ([`MaterialVersion::id`]), not
    /// stored: 32 bytes less per key.
    pub(crate) index: u32,
    /// The material.
    pub(crate) material: KeyMaterial,
    /// When it was made (the key's creation date for version 0).
    pub(crate) date: Timestamp,
    /// How it was made; `None` for version 0.
    pub(crate) rotation: Option<RotationKind>,
    /// The expanded cipher, built on first use, then cached (a version
    /// never used holds no key schedule, and only a pointer's room for
    /// one).
    cipher: OnceLock<Box<Cipher>>,
    /// Its id, derived on first report, then cached.
    id: OnceLock<MaterialId>,
}

impl MaterialVersion {
    /// Version `index` of a key's material.
    pub(crate) fn new(
        index: u32,
        material: KeyMaterial,
        date: Timestamp,
        rotation: Option<RotationKind>,
    ) -> MaterialVersion {
        MaterialVersion {
            index,
            material,
            date,
            rotation,
            cipher: OnceLock::new(),
            id: OnceLock::new(),
        }
    }

    #[cfg_attr(
        not(feature = "asymmetric"),
        allow(dead_code, reason = "imports need the feature `asymmetric`")
    )]
    /// Imported material, version `index` of its key's, whose id
    /// (`MaterialId::derive_imported`) is known from the start.
    pub(crate) fn imported(
        index: u32,
        material: KeyMaterial,
        date: Timestamp,
        id: MaterialId,
    ) -> MaterialVersion {
        MaterialVersion {
            index,
            material,
            date,
            rotation: None,
            cipher: OnceLock::new(),
            id: OnceLock::from(id),
        }
    }

    /// Its id, as version of key `key`'s material (derived once; `key` is
    /// always the key that holds this version).
    pub(crate) fn id(&self, key: &KeyId) -> MaterialId {
        *self.id.get_or_init(|| MaterialId::derive(key, self.index))
    }

    /// The expanded cipher.
    pub(crate) fn cipher(&self) -> &Cipher {
        self.cipher
            .get_or_init(|| Box::new(Cipher::new(&self.material)))
    }
}

/// Slots in the first segment after the inline version; each later segment
/// doubles.
const FIRST_SEGMENT: usize = 8;
/// Segments: room for 8 × (2^26 − 1) rotations.
const SEGMENTS: usize = 26;

type Segment = Box<[OnceLock<MaterialVersion>]>;

/// Every version of a key's material, append-only (see the module doc).
#[derive(Debug)]
pub(crate) struct Versions {
    first: MaterialVersion,
    later: OnceLock<Box<[OnceLock<Segment>; SEGMENTS]>>,
    /// Published versions (at least 1).
    len: AtomicU32,
}

/// Segment and slot of later version `r` (0-based after the first).
fn place(r: usize) -> (usize, usize) {
    let seg = (r / FIRST_SEGMENT + 1).ilog2() as usize;
    (seg, r - FIRST_SEGMENT * ((1 << seg) - 1))
}

impl Versions {
    /// A key's versions, starting with `first` (index 0).
    pub(crate) fn new(first: MaterialVersion) -> Versions {
        Versions {
            first,
            later: OnceLock::new(),
            len: AtomicU32::new(1),
        }
    }

    /// How many versions there are.
    pub(crate) fn len(&self) -> u32 {
        self.len.load(Ordering::Acquire)
    }

    /// The current version: the one Encrypt uses.
    #[inline]
    pub(crate) fn current(&self) -> &MaterialVersion {
        let n = self.len();
        self.get(n - 1).unwrap_or(&self.first)
    }

    /// Version `index`, if it has been published.
    #[inline]
    pub(crate) fn get(&self, index: u32) -> Option<&MaterialVersion> {
        if index == 0 {
            return Some(&self.first);
        }
        if index >= self.len() {
            return None;
        }
        let (seg, slot) = place(index as usize - 1);
        self.later.get()?.get(seg)?.get()?.get(slot)?.get()
    }

    /// Every published version, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &MaterialVersion> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Appends `v`, whose index must be [`Versions::len`], and publishes
    /// it. Call only with the key's `state` write lock held: there is one
    /// writer at a time. `false` (nothing changed) if the index is wrong or
    /// there is no room.
    pub(crate) fn push(&self, v: MaterialVersion) -> bool {
        let n = self.len();
        if v.index != n || n == 0 {
            return false;
        }
        let (seg, slot) = place(n as usize - 1);
        if seg >= SEGMENTS {
            return false;
        }
        let later = self
            .later
            .get_or_init(|| Box::new(std::array::from_fn(|_| OnceLock::new())));
        let segment =
            later[seg].get_or_init(|| (0..FIRST_SEGMENT << seg).map(|_| OnceLock::new()).collect());
        if segment[slot].set(v).is_err() {
            return false;
        }
        self.len.store(n + 1, Ordering::Release);
        true
    }
}

/// A key's automatic rotation, in its mutable part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RotationSchedule {
    /// Whether automatic rotation is on.
    pub(crate) enabled: bool,
    /// The period, while on.
    pub(crate) period_days: u32,
    /// The next automatic rotation, while on (its timer is armed then).
    pub(crate) next: Option<Timestamp>,
    /// RotateKeyOnDemand calls made on the key (AWS limits them).
    pub(crate) on_demand_count: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(index: u32) -> MaterialVersion {
        MaterialVersion::new(
            index,
            KeyMaterial::from_bytes([index as u8; 32]),
            Timestamp::from_millis(u64::from(index)),
            (index > 0).then_some(RotationKind::OnDemand),
        )
    }

    #[test]
    fn segments_tile_the_later_versions_without_gaps() {
        let mut expected = (0, 0);
        for r in 0..10_000 {
            assert_eq!(place(r), expected, "later version {r}");
            expected.1 += 1;
            if expected.1 == FIRST_SEGMENT << expected.0 {
                expected = (expected.0 + 1, 0);
            }
        }
    }

    #[test]
    fn pushed_versions_are_found_by_index_and_the_last_is_current() {
        let v = Versions::new(version(0));
        assert_eq!(v.current().index, 0);
        for i in 1..100 {
            assert!(v.push(version(i)));
            assert_eq!(v.current().index, i);
        }
        for i in 0..100 {
            let got = v.get(i).unwrap();
            assert_eq!(got.material.expose_secret()[0], i as u8);
            assert_eq!(
                got.id(&KeyId::from_random_bytes([1; 16])),
                MaterialId::derive(&KeyId::from_random_bytes([1; 16]), i)
            );
        }
        assert!(v.get(100).is_none());
        assert_eq!(v.iter().count(), 100);
        // Out of order: refused, nothing changes.
        assert!(!v.push(version(7)));
        assert_eq!(v.len(), 100);
    }

    #[test]
    fn material_ids_are_64_lowercase_hex_digits_and_differ_by_version_and_key() {
        let a = KeyId::from_random_bytes([1; 16]);
        let b = KeyId::from_random_bytes([2; 16]);
        let s = MaterialId::derive(&a, 0).to_string();
        assert_eq!(s, MaterialId::derive(&a, 0).hex());
        assert_eq!(MaterialId([0xa5; 32]).hex(), "a5".repeat(32));
        // Every byte value, in eight ids of 32 bytes.
        for first in (0..256).step_by(32) {
            let counting = MaterialId(std::array::from_fn(|i| (first + i) as u8));
            let expected: String = (0..32)
                .map(|i| format!("{:02x}", (first + i) as u8))
                .collect();
            assert_eq!(counting.hex(), expected);
        }
        assert_eq!(s.len(), 64);
        assert!(
            s.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert_ne!(MaterialId::derive(&a, 0), MaterialId::derive(&a, 1));
        let id = MaterialId::derive(&a, 3);
        assert_eq!(MaterialId::from_hex(&id.hex()), Some(id));
        assert_eq!(MaterialId::from_hex(&id.hex().to_uppercase()), None);
        assert_eq!(MaterialId::from_hex(&id.hex()[..62]), None);
        assert_ne!(MaterialId::derive(&a, 0), MaterialId::derive(&b, 0));
    }
}
