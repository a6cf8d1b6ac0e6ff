//! Criterion benches of durable storage (filled in below).
fn main() {}
