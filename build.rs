//! Link the `baogen` binary as a non-PIE executable on Linux: a position-independent
//! executable makes the dynamic loader apply ~14,000 relocations and copy the pages they touch
//! at every start, which is most of the start-up cost of a compiler that runs in commit hooks.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
