//! The real-tools tier: tests that start real OpenBao, Prometheus, Helm, kpt, pre-commit or a
//! second cargo build. Under `CI=true` a missing tool fails the test; elsewhere it is skipped
//! with a message. `cargo test --test real`; the fast tier is `cargo test --test fast`.

#[path = "../common/mod.rs"]
mod common;
mod engine_server;
mod harness;
mod workspace;

mod bless_command;
mod chart_boot;
mod dashboards;
mod e2e;
mod engine_differential;
mod engine_real;
mod helm;
mod krm;
mod live;
mod precommit;
mod snippets;
