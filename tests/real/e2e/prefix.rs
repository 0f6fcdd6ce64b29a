//! The e2e scenario for a metric prefix of the profile's own (`[telemetry] metrics_prefix`):
//! the demo variant rendered with another prefix than OpenBao's default `vault`. Its rules and
//! dashboard name only that prefix, and its first node, run as generated, emits under it every
//! series they read, and nothing under the default.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::harness::Http;

use super::env::*;
use super::{demo, observe};

const PREFIX: &str = "baox";

pub(super) fn scenario_prefix() {
    let shipped = std::fs::read_to_string(variant_path("demo")).unwrap();
    let text = shipped.replacen(
        "[telemetry]\n",
        &format!("[telemetry]\nmetrics_prefix = \"{PREFIX}\"\n"),
        1,
    );
    assert_ne!(text, shipped, "the demo variant has a [telemetry] table");
    let env = Env::prepare_text("demo", &text);
    assert!(env
        .read("compose/openbao-node0.hcl")
        .contains(&format!("metrics_prefix = \"{PREFIX}\"")));
    // The dashboard reads the recording rules; rules.yml alone names raw series.
    let rules = env.read("prometheus/rules.yml");
    assert!(rules.contains(&format!("{PREFIX}_core_active")), "{rules}");
    for (file, text) in [
        ("rules.yml", rules),
        ("the dashboard", observe::dashboard_text(&env)),
    ] {
        assert!(!text.contains("vault_"), "{file} names the default prefix");
    }

    let init = env.dir().join("init");
    demo::run_init_step(&env, &init);
    let mut node0 = demo::start_node(&env, &init, "openbao-node0", 18410, "openbao-node0");
    let http = Http::new(None);
    node0.wait_health(&http, 200);
    let password = std::fs::read_to_string(init.join("admin-password")).unwrap();
    // Logins create tokens and make requests: the token and request series.
    let _traffic = observe::Traffic::start(&node0.api, &password);

    // A single node has no follower: the leader's per-follower series are the demo scenario's,
    // whose three nodes show every input under the default prefix.
    let wanted: BTreeSet<String> = baogen::emit::recording::RECORDINGS
        .iter()
        .flat_map(|r| r.inputs)
        .filter(|i| i.starts_with("{m}_") && !i.contains("_follower_"))
        .map(|i| i.replace("{m}", PREFIX))
        .collect();
    assert!(wanted.len() >= 20, "{wanted:?}");
    let url = metrics_url("http", env.port(18414));
    let start = Instant::now();
    loop {
        node0.proc.assert_running();
        let (status, body) = get(&http, &url, None);
        assert_eq!(status, 200, "unauthenticated metrics: {body}");
        let names: BTreeSet<&str> = body
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split(['{', ' ']).next())
            .collect();
        let default: Vec<&&str> = names.iter().filter(|n| n.starts_with("vault_")).collect();
        assert!(
            default.is_empty(),
            "series under the default prefix: {default:?}"
        );
        let missing: Vec<&String> = wanted
            .iter()
            .filter(|w| !names.contains(w.as_str()))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < PROM_WAIT,
            "after {PROM_WAIT:?} the real scrape still lacks {missing:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!(
        "[prefix] all {} single-node inputs of the recording rules are emitted under {PREFIX}_, none under vault_",
        wanted.len()
    );
}
