//! Every alert on its own signal: a healthy two-node cluster fires nothing, and breaking one
//! signal (an election storm, a lagging follower, failed audit writes, slow requests, leases
//! piling up) fires exactly the alerts that watch it, through the recording rules they read.
//! Judged by the real `promtool test rules` on the rendered rules, with the profile's alert
//! overrides proven on the way: severity, `for`, labels and `enabled = false`.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::common::{self, TempDir};

/// (series, values in promtool's expanding notation).
type Series = Vec<(String, String)>;

/// A healthy two-node cluster over an hour.
fn healthy(m: &str) -> Series {
    let n = |i: u8| format!("job=\"openbao\",cluster=\"openbao\",instance=\"openbao-{i}\"");
    let mut s = Vec::new();
    for i in 0..2 {
        s.push((format!("up{{{}}}", n(i)), "1x70".into()));
        s.push((
            format!("{m}_core_active{{{}}}", n(i)),
            format!("{}x70", 1 - i),
        ));
        s.push((format!("{m}_core_unsealed{{{}}}", n(i)), "1x70".into()));
        s.push((
            format!("{m}_audit_log_request_failure{{{}}}", n(i)),
            "0x70".into(),
        ));
        s.push((
            format!("{m}_audit_log_response_failure{{{}}}", n(i)),
            "0x70".into(),
        ));
        s.push((
            format!("{m}_core_handle_request_sum{{{}}}", n(i)),
            "0+100x70".into(),
        ));
        s.push((
            format!("{m}_core_handle_request_count{{{}}}", n(i)),
            "0+10x70".into(),
        ));
    }
    let leader = n(0);
    s.push((
        format!("{m}_raft_storage_stats_term{{{leader}}}"),
        "3x70".into(),
    ));
    s.push((format!("{m}_autopilot_healthy{{{leader}}}"), "1x70".into()));
    s.push((
        format!("{m}_autopilot_failure_tolerance{{{leader}}}"),
        "1x70".into(),
    ));
    s.push((format!("{m}_expire_num_leases{{{leader}}}"), "10x70".into()));
    for peer in ["openbao-0", "openbao-1"] {
        s.push((
            format!("{m}_autopilot_node_healthy{{{leader},node_id=\"{peer}\"}}"),
            "1x70".into(),
        ));
    }
    s.push((
        format!("{m}_raft_storage_follower_last_heartbeat_ms{{{leader},peer_id=\"openbao-1\"}}"),
        "500x70".into(),
    ));
    s.push((
        format!("{m}_raft_storage_follower_applied_index_delta{{{leader},peer_id=\"openbao-1\"}}"),
        "0x70".into(),
    ));
    s
}

/// Replace the healthy values of every series whose text starts with `prefix`.
fn with(mut s: Series, prefix: &str, values: &str) -> Series {
    let mut hit = false;
    for (name, v) in &mut s {
        if name.starts_with(prefix) {
            *v = values.into();
            hit = true;
        }
    }
    assert!(hit, "no series {prefix}");
    s
}

/// What breaks, and the alerts that must then fire (all others stay quiet).
fn scenarios(m: &str) -> Vec<(&'static str, Series, &'static [&'static str])> {
    let p = |s: &str| format!("{m}_{s}");
    let leader = "{job=\"openbao\",cluster=\"openbao\",instance=\"openbao-0\"";
    vec![
        ("healthy", healthy(m), &[]),
        (
            "an election every minute",
            with(healthy(m), &p("raft_storage_stats_term"), "1+1x70"),
            &["OpenBaoLeadershipFlapping"],
        ),
        (
            "autopilot sees a failed peer",
            with(
                with(healthy(m), &p("autopilot_healthy"), "0x70"),
                &format!(
                    "{}{leader},node_id=\"openbao-1\"",
                    p("autopilot_node_healthy")
                ),
                "0x70",
            ),
            &["OpenBaoAutopilotUnhealthy", "OpenBaoRaftNodeUnhealthy"],
        ),
        (
            "no failure tolerance",
            with(healthy(m), &p("autopilot_failure_tolerance"), "0x70"),
            &["OpenBaoRaftNoFailureTolerance"],
        ),
        (
            "a follower out of contact",
            with(
                healthy(m),
                &p("raft_storage_follower_last_heartbeat_ms"),
                "20000x70",
            ),
            &["OpenBaoRaftLeaderContactHigh"],
        ),
        (
            "a follower far behind",
            with(
                healthy(m),
                &p("raft_storage_follower_applied_index_delta"),
                "5000x70",
            ),
            &["OpenBaoRaftFollowerLagging"],
        ),
        (
            "audit requests fail",
            with(
                healthy(m),
                &format!("{}{leader}", p("audit_log_request_failure")),
                "0+1x70",
            ),
            &["OpenBaoAuditRequestFailures"],
        ),
        (
            "audit responses fail",
            with(
                healthy(m),
                &format!("{}{leader}", p("audit_log_response_failure")),
                "0+1x70",
            ),
            &["OpenBaoAuditResponseFailures"],
        ),
        (
            "requests take a second",
            with(healthy(m), &p("core_handle_request_sum"), "0+10000x70"),
            &["OpenBaoRequestLatencyHigh"],
        ),
        (
            "leases pile up",
            with(healthy(m), &p("expire_num_leases"), "1000+100x70"),
            &["OpenBaoLeaseCountGrowing"],
        ),
    ]
}

/// promtool's verdict on which alerts fire at 65 minutes, as `count by (alertname)` of ALERTS.
fn firing_test(name: &str, series: &[(String, String)], firing: &BTreeSet<String>) -> Value {
    json!({
        "name": name,
        "interval": "1m",
        "input_series": series.iter().map(|(s, v)| json!({"series": s, "values": v})).collect::<Vec<_>>(),
        "promql_expr_test": [{
            "expr": "count by (alertname) (ALERTS{alertstate=\"firing\"})",
            "eval_time": "65m",
            "exp_samples": firing.iter().map(|a| json!({"labels": format!("{{alertname=\"{a}\"}}"), "value": 1})).collect::<Vec<_>>(),
        }],
    })
}

fn run(
    promtool: &std::path::Path,
    tmp: &TempDir,
    tag: &str,
    rules: &str,
    tests: Vec<Value>,
) -> (bool, String) {
    let rules_file = tmp.path().join(format!("{tag}-rules.yml"));
    std::fs::write(&rules_file, rules).unwrap();
    let test = tmp.path().join(format!("{tag}-test.yml"));
    let doc = json!({"rule_files": [rules_file], "evaluation_interval": "1m", "tests": tests});
    std::fs::write(&test, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let out = std::process::Command::new(promtool)
        .args(["test", "rules"])
        .arg(&test)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn render(toml_text: &str) -> (baogen::model::Profile, String) {
    let p = baogen::profile::parse(
        &common::root().join("profiles/all-node.toml"),
        toml_text.as_bytes(),
    )
    .unwrap_or_else(|d| panic!("{d:?}"));
    let rules = baogen::emit::render(&p).files["prometheus/rules.yml"].clone();
    (p, rules)
}

#[test]
fn every_alert_fires_on_its_own_signal_and_nowhere_else() {
    let Some(promtool) = common::tool("promtool") else {
        return;
    };
    let tmp = TempDir::new("signals");
    // The shipped profiles, and one with a metric prefix of its own: no rule may assume `vault`.
    for (name, profile, prefix) in [
        ("all-node", "all-node", None),
        ("active", "active", None),
        ("all-node-baox", "all-node", Some("baox")),
    ] {
        let mut text =
            std::fs::read_to_string(common::root().join(format!("profiles/{profile}.toml")))
                .unwrap();
        if let Some(prefix) = prefix {
            let set = format!("[telemetry]\nmetrics_prefix = \"{prefix}\"\n");
            text = text.replacen("[telemetry]\n", &set, 1);
        }
        let (p, rules) = render(&text);
        assert_eq!(p.telemetry.prefix(), prefix.unwrap_or("vault"), "{name}");
        let emitted: Vec<String> = rules
            .lines()
            .filter_map(|l| l.strip_prefix("  - alert: "))
            .map(str::to_string)
            .collect();
        let mut covered = BTreeSet::new();
        let tests: Vec<Value> = scenarios(p.telemetry.prefix())
            .into_iter()
            .map(|(what, series, firing)| {
                let firing: BTreeSet<String> = firing
                    .iter()
                    .filter(|a| emitted.iter().any(|e| e == *a))
                    .map(|a| a.to_string())
                    .collect();
                covered.extend(firing.iter().cloned());
                firing_test(what, &series, &firing)
            })
            .collect();
        let (ok, out) = run(&promtool, &tmp, name, &rules, tests);
        assert!(
            ok,
            "{name}: the alerts did not fire exactly on their signals:\n{out}"
        );
        // Every alert but those the e2e and alerts tests prove on other series is covered here.
        for a in &emitted {
            let elsewhere = [
                "OpenBaoUnreachable",
                "OpenBaoNoActiveNode",
                "OpenBaoMultipleActiveNodes",
                "OpenBaoSealed",
                "OpenBaoScrapeTokenRenewalStale",
            ];
            assert!(
                covered.contains(a) || elsewhere.contains(&a.as_str()),
                "{name}: no scenario fires {a}"
            );
        }
        assert!(
            emitted.len() >= if profile == "active" { 12 } else { 14 },
            "{name}: {emitted:?}"
        );
    }

    // The check can fail: a scenario that expects nothing while the term climbs is refused.
    let text = std::fs::read_to_string(common::root().join("profiles/all-node.toml")).unwrap();
    let (p, rules) = render(&text);
    let storm = with(
        healthy(p.telemetry.prefix()),
        "vault_raft_storage_stats_term",
        "1+1x70",
    );
    let (ok, _) = run(
        &promtool,
        &tmp,
        "control",
        &rules,
        vec![firing_test("control", &storm, &BTreeSet::new())],
    );
    assert!(!ok, "promtool accepted a quiet election storm");
}

#[test]
fn overrides_change_severity_for_and_labels_and_switch_alerts_off() {
    let Some(promtool) = common::tool("promtool") else {
        return;
    };
    let tmp = TempDir::new("overrides");
    let text = std::fs::read_to_string(common::root().join("profiles/all-node.toml")).unwrap();
    let text = format!("{text}\n[alerts]\nrunbook_base_url = \"https://git.example/ops/blob/main/prod/\"\n[alerts.override.OpenBaoRaftLeaderContactHigh]\nseverity = \"critical\"\nfor = \"50m\"\nlabels = {{ team = \"storage\", page = \"yes\" }}\n[alerts.override.OpenBaoLeadershipFlapping]\nenabled = false\n");
    let (p, rules) = render(&text);
    let doc: Value = serde_saphyr::from_str(&rules).unwrap();
    let alerts = doc["groups"][1]["rules"].as_array().unwrap();
    let contact = alerts
        .iter()
        .find(|r| r["alert"] == "OpenBaoRaftLeaderContactHigh")
        .unwrap();
    assert_eq!(contact["for"], "50m");
    assert_eq!(
        contact["labels"],
        json!({"severity": "critical", "team": "storage", "page": "yes"})
    );
    assert_eq!(
        contact["annotations"]["runbook_url"],
        "https://git.example/ops/blob/main/prod/VERIFY.md#openbaoraftleadercontacthigh"
    );
    assert!(
        !alerts
            .iter()
            .any(|r| r["alert"] == "OpenBaoLeadershipFlapping"),
        "switched off"
    );
    let verify = &baogen::emit::render(&p).files["VERIFY.md"];
    assert!(
        verify.contains("### OpenBaoRaftLeaderContactHigh\n\nSeverity `critical`, after `50m`."),
        "{verify}"
    );
    assert!(!verify.contains("### OpenBaoLeadershipFlapping"));

    // `for` is honoured by Prometheus: the follower out of contact since minute 0 has not
    // fired at 40 minutes under a 50m `for`, and the election storm fires nothing at all.
    let m = p.telemetry.prefix();
    let broken = with(
        with(
            healthy(m),
            &format!("{m}_raft_storage_follower_last_heartbeat_ms"),
            "20000x70",
        ),
        &format!("{m}_raft_storage_stats_term"),
        "1+1x70",
    );
    let mut early = firing_test("within for", &broken, &BTreeSet::new());
    early["promql_expr_test"][0]["eval_time"] = json!("40m");
    let late = firing_test(
        "after for",
        &broken,
        &BTreeSet::from(["OpenBaoRaftLeaderContactHigh".to_string()]),
    );
    let (ok, out) = run(&promtool, &tmp, "overrides", &rules, vec![early, late]);
    assert!(ok, "{out}");
}
