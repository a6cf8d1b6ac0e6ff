//! The per-call context [`Call`]: what `Service::begin` (`service.rs`), the
//! one entry point of every public operation, hands the operation after
//! reading the clock once and running the work that has come due.

use crate::clock::Timestamp;
use crate::iam::Caller;

/// What one call knows about itself, fixed when it begins. Every public
/// [`Kms`](super::Kms) operation makes one with `Kms::begin` and judges
/// time (deletion windows, creation and update dates, stepped-mode due
/// times, request quotas) by it alone, and who is asking by `caller`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call<'a> {
    /// The clock, read once when the call began.
    pub(crate) now: Timestamp,
    /// Who makes the request: the account root unless the [`Kms`](super::Kms)
    /// handle was made with `as_caller`.
    #[allow(dead_code, reason = "read by authorization")]
    pub(crate) caller: &'a Caller,
}
