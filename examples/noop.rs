//! The floor for benchmarks: a Rust binary that starts and exits.
fn main() {}
