//! Helpers every layer may use: error builders shared by the operations
//! and the backends ([`errors`]) and the input of a seal ([`seal`]).

pub(crate) mod errors;
pub(crate) mod seal;
