//! baogen: compile one TOML profile into OpenBao metrics-scrape and Kubernetes configuration.
//!
//! The pipeline reads top to bottom: `profile` (parse, schema, validate) → `model` →
//! `emit` (pure, per artifact family) → `write` (the only code that touches the output tree).

pub mod catalog;
pub mod cli;
pub mod diag;
pub mod emit;
pub mod explain;
pub mod fsio;
pub mod fuzz;
pub mod https;
pub mod identity;
pub mod integrate;
pub mod live;
pub mod model;
pub mod outputs;
pub mod profile;
pub mod verify;
pub mod write;
pub mod yaml;
