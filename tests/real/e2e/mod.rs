//! End to end: every shipped profile, as a loopback variant (tests/e2e/profiles/), rendered by
//! baogen and run as is on a real OpenBao and a real Prometheus on 127.0.0.1. This automates the
//! how-to's "Verify the result" and "Troubleshooting" sections, and `baogen verify` against them.
//! One module per scenario; run alone with `cargo test --test real e2e::` (E2E_ONLY=demo runs
//! one scenario).

mod active;
mod all_node;
mod demo;
mod env;
mod observe;
mod prefix;
mod scrape_token;
mod self_init;

use std::time::Instant;

use crate::common;
use crate::harness;

/// Every scenario at once: they mostly wait on servers, so threads save wall time.
#[test]
fn every_shipped_profile_end_to_end() {
    for t in [
        "bao",
        "prometheus",
        "promtool",
        "openssl",
        "prometheus-alertmanager",
    ] {
        if common::tool(t).is_none() {
            return;
        }
    }
    let start = Instant::now();
    let scenarios: [(&str, fn()); 6] = [
        ("active", active::scenario_active),
        ("all-node", all_node::scenario_all_node),
        ("demo", demo::scenario_demo),
        ("prefix", prefix::scenario_prefix),
        ("self-init", self_init::scenario_self_init),
        ("scrape-token", scrape_token::scenario_scrape_token),
    ];
    // E2E_ONLY=demo runs one scenario while working on it.
    let only = std::env::var("E2E_ONLY").ok();
    let handles: Vec<_> = scenarios
        .into_iter()
        .filter(|(name, _)| only.as_deref().is_none_or(|o| o == *name))
        .map(|(name, f)| {
            (
                name,
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn(f)
                    .unwrap(),
            )
        })
        .collect();
    let failed: Vec<&str> = handles
        .into_iter()
        .filter_map(|(name, h)| h.join().is_err().then_some(name))
        .collect();
    eprintln!("e2e scenarios finished in {:?}", start.elapsed());
    assert!(
        failed.is_empty(),
        "end-to-end scenarios failed: {failed:?} (see the panics above)"
    );
}

#[test]
fn port_rewrite_keeps_spacing_and_touches_only_placeholders() {
    let (text, map) =
        harness::rewrite_ports("a = \"127.0.0.1:18200\"\nb = 18204\nc = 8200\nd = 118200\n");
    let base = map[&18200];
    assert_eq!(map[&18204], base + 4);
    assert_eq!(
        text,
        format!(
            "a = \"127.0.0.1:{base}\"\nb = {}\nc = 8200\nd = 118200\n",
            base + 4
        )
    );
}
