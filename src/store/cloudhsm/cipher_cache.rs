//! The per-thread cache of CloudHSM key objects: how the cryptographic path
//! gets a key object's cipher without taking the cluster table's lock.
//!
//! A read lock writes its lock word, and every CloudHSM key of every
//! cluster shares that one lock, so each call moved its cache line between
//! the cores. Instead each thread remembers, for the key objects it used
//! last, the key object's published cipher (its cell), the session (the
//! key store password's buffer, by identity) it was checked with, and the
//! generation of the cluster table at the check (`clusters.rs`). A hit
//! needs the generation unchanged, the same session and a cipher still
//! published; it loads the cipher through `arc-swap`, which writes only a
//! slot of the reading thread's own (not the cipher's reference count).
//!
//! Why it is exact: every check the locked path makes (the cluster exists
//! and is reachable, the session is valid, an ACTIVE HSM holds the key
//! object) depends only on the cluster table and the session. The table
//! cannot change without the generation changing first, and the session
//! is the same buffer, so a hit gives the answer the locked path would.
//! Only successes are cached. A cell keeps no key material alive: the key
//! object withdraws it when it is dropped.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use crate::sync::{Published, PublishedRef};

use zeroize::Zeroizing;

use super::CuPassword;
use crate::crypto::Cipher;
use crate::ids::ClusterId;

/// Slots per thread (direct-mapped by a hash of the label).
const SLOTS: usize = 32;

struct Slot {
    /// The serial of the `CloudHsm` it came from.
    model: u64,
    generation: u64,
    cluster: ClusterId,
    label: String,
    session: Weak<Zeroizing<String>>,
    cipher: Arc<Published<Cipher>>,
}

crate::sync::thread_local! {
    static CACHE: RefCell<Vec<Option<Slot>>> = const { RefCell::new(Vec::new()) };
}

/// A serial number for a new `CloudHsm`, never reused in the process.
pub(super) fn serial() -> u64 {
    // A plain std atomic: a counter of models, not state the schedule
    // exploration needs to see.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The slot of `label` (a key ARN: its last bytes are the key id's).
fn slot_of(label: &str) -> usize {
    let h = label.bytes().rev().take(8).fold(0usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    h % SLOTS
}

/// Where a lookup is: the model, its table's generation now, the key
/// object and the session.
pub(super) struct Lookup<'a> {
    pub(super) model: u64,
    pub(super) generation: u64,
    pub(super) cluster: &'a ClusterId,
    pub(super) label: &'a str,
    pub(super) session: &'a CuPassword,
}

/// The cipher this thread found for the same lookup at the same
/// generation, if it is still published.
#[inline]
pub(super) fn get(at: &Lookup<'_>) -> Option<PublishedRef<Cipher>> {
    // Loaded into its place from inside the closure (as the key cache
    // does): handed out as an `Option` in a `Result`, it was copied out
    // wider than it was written.
    let mut cipher = None;
    let _ = CACHE.try_with(|c| {
        if let Some(Some(s)) = c.borrow().get(slot_of(at.label))
            && s.model == at.model
            && s.generation == at.generation
            && at.session.is_session(&s.session)
            && crate::ids::same_bytes(s.label.as_bytes(), at.label.as_bytes())
            && s.cluster == *at.cluster
        {
            cipher = s.cipher.load();
        }
    });
    cipher
}

/// Remembers `cipher`, just checked by the locked path at `at.generation`.
pub(super) fn put(at: &Lookup<'_>, cipher: &Arc<Published<Cipher>>) {
    let slot = Slot {
        model: at.model,
        generation: at.generation,
        cluster: at.cluster.clone(),
        label: at.label.to_owned(),
        session: at.session.session(),
        cipher: Arc::clone(cipher),
    };
    // A thread being torn down caches nothing.
    let _ = CACHE.try_with(|c| {
        let mut c = c.borrow_mut();
        if c.is_empty() {
            c.resize_with(SLOTS, || None);
        }
        if let Some(s) = c.get_mut(slot_of(at.label)) {
            *s = Some(slot);
        }
    });
}
