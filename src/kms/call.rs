//! The one entry point of every public operation: [`Inner::begin`] reads
//! the clock once, runs the work that has come due ([`Inner::advance`]),
//! and returns the per-call context [`Call`] the operation passes down.

use crate::clock::Timestamp;

use super::Inner;

/// What one call knows about itself, fixed when it begins. Every public
/// [`Kms`](super::Kms) operation makes one with [`Inner::begin`] and judges
/// time (deletion windows, creation and update dates, stepped-mode due
/// times, request quotas) by it alone. The authorization work will add the
/// caller here.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call {
    /// The clock, read once when the call began.
    pub(crate) now: Timestamp,
}

impl Inner {
    /// Begins a call: one clock read, then — only if a deadline has passed,
    /// which costs one atomic load to find out — the due work (see
    /// `timers.rs` for what that means for the disk).
    #[inline]
    pub(crate) fn begin(&self) -> Call {
        let now = self.clock.now();
        if self.timers.is_due(now) {
            self.advance(now);
        }
        Call { now }
    }
}
