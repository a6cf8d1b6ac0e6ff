//! The one entry point of every public operation: [`Inner::begin`] reads
//! the clock once, runs the work that has come due ([`Inner::advance`]),
//! and returns the per-call context [`Call`] the operation passes down.

use crate::clock::Timestamp;

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
