//! The per-call context [`Call`]: what `Service::begin` (`service.rs`), the
//! one entry point of every public operation, hands the operation after
//! reading the clock once and running the work that has come due.

use crate::clock::Timestamp;

/// What one call knows about itself, fixed when it begins. Every public
/// [`Kms`](super::Kms) operation makes one with `Service::begin` and judges
/// time (deletion windows, creation and update dates, stepped-mode due
/// times, request quotas) by it alone. The authorization work will add the
/// caller here.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call {
    /// The clock, read once when the call began.
    pub(crate) now: Timestamp,
}
