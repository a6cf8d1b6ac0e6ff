//! Criterion benches of the crypto core (filled in by the performance work).
fn main() {}
