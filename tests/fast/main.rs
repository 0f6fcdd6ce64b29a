//! The fast tier: every test that needs no server and no package manager's tool beyond small
//! command-line checkers (taplo, kubernetes-validate, strace, bash). One binary, so the crate is
//! linked once. `cargo test --test fast`; the real-tools tier is `cargo test --test real`.

#[path = "../common/mod.rs"]
mod common;

mod alerts;
mod atomic;
mod bad_inputs;
mod cli;
mod editor;
mod environments;
mod fuzz_replay;
mod golden;
mod hostile;
mod injection;
mod objects;
mod refusals;
mod signals;
mod startup;
mod variants;
mod verify;
