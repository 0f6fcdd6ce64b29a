//! Injection proof: arbitrary Unicode in any string field of a valid profile is either refused
//! cleanly (exit-2 diagnostics, no panic) or rendered so that every output parses back with
//! the same structure as before and the value intact. No string can change the structure of
//! the HCL, YAML or JSON baogen writes.

use std::collections::BTreeMap;
use std::path::Path;

use baogen::{emit, profile};
use proptest::prelude::*;
use serde_json::Value;

/// Every string field of the shipped profiles, as (profile, TOML path). Arrays use an index.
const FIELDS: &[(&str, &[&str])] = &[
    ("active", &["openbao", "namespace"]),
    ("active", &["openbao", "service_account"]),
    ("active", &["openbao", "statefulset"]),
    ("active", &["openbao", "container"]),
    ("active", &["openbao", "cluster"]),
    ("active", &["openbao", "pod_labels", "component"]),
    ("active", &["telemetry", "prometheus_retention_time"]),
    ("active", &["telemetry", "metrics_prefix"]),
    ("active", &["listener", "api", "address"]),
    ("active", &["listener", "api", "cluster_address"]),
    ("active", &["listener", "api", "tls_cert_file"]),
    ("active", &["listener", "api", "tls_key_file"]),
    ("active", &["listener", "metrics", "address"]),
    ("active", &["listener", "metrics", "tls_cert_file"]),
    ("active", &["scrape", "token_secret", "name"]),
    ("active", &["scrape", "token_secret", "key"]),
    ("active", &["scrape", "ca_config_map", "name"]),
    ("active", &["scrape", "ca_config_map", "key"]),
    ("active", &["scrape", "interval"]),
    ("active", &["scrape", "scrape_timeout"]),
    ("active", &["scrape", "job"]),
    ("active", &["scrape", "service_name"]),
    ("active", &["scrape", "port_name"]),
    ("active", &["scrape", "server_name"]),
    ("active", &["scrape", "policy_name"]),
    ("active", &["prometheus", "namespace"]),
    ("active", &["prometheus", "monitor_labels", "release"]),
    ("active", &["prometheus", "token_file"]),
    ("active", &["prometheus", "ca_file"]),
    ("active", &["prometheus", "alert_for"]),
    (
        "all-node",
        &["prometheus", "pod_labels", "app.kubernetes.io/name"],
    ),
    ("all-node", &["prometheus", "static_targets", "0"]),
    ("demo", &["demo", "openbao_image"]),
    ("demo", &["demo", "prometheus_image"]),
    ("demo", &["demo", "nodes", "0", "name"]),
    ("demo", &["demo", "nodes", "0", "host"]),
    ("demo", &["demo", "nodes", "0", "raft_path"]),
];

fn base(profile: &str) -> toml::Table {
    let text = std::fs::read_to_string(format!("profiles/{profile}.toml")).unwrap();
    let mut t: toml::Table = text.parse().unwrap();
    // A distinct baseline value in every fuzzed field, so a value found in the output can be
    // traced back to exactly one field.
    let set = |t: &mut toml::Table, path: &[&str], v: &str| {
        set_path(t, path, toml::Value::String(v.into()))
    };
    set(&mut t, &["openbao", "namespace"], "obao-ns");
    set(&mut t, &["openbao", "service_account"], "obao-sa");
    set(&mut t, &["openbao", "statefulset"], "obao-sts");
    set(&mut t, &["openbao", "container"], "obao-ctr");
    set(&mut t, &["openbao", "cluster"], "obao-cluster");
    set(&mut t, &["telemetry", "prometheus_retention_time"], "45s");
    set(&mut t, &["telemetry", "metrics_prefix"], "vault");
    if profile != "demo" {
        set(
            &mut t,
            &["listener", "metrics", "tls_cert_file"],
            "/openbao/tls/metrics.crt",
        );
        set(
            &mut t,
            &["listener", "metrics", "tls_key_file"],
            "/openbao/tls/metrics.key",
        );
        set(
            &mut t,
            &["openbao", "pod_labels", "component"],
            "obao-server",
        );
        set(&mut t, &["scrape", "interval"], "30s");
        set(&mut t, &["scrape", "scrape_timeout"], "10s");
        set(&mut t, &["scrape", "job"], "obao-job");
        set(&mut t, &["scrape", "service_name"], "obao-svc");
        set(&mut t, &["scrape", "port_name"], "https-obao");
        set(&mut t, &["scrape", "server_name"], "obao.example.com");
        set(&mut t, &["scrape", "policy_name"], "obao-policy");
        set(&mut t, &["prometheus", "namespace"], "obao-mon");
        set(&mut t, &["prometheus", "token_file"], "/etc/prom/token");
        set(&mut t, &["prometheus", "ca_file"], "/etc/prom/ca.crt");
        set(&mut t, &["prometheus", "alert_for"], "5m");
        set(
            &mut t,
            &["prometheus", "pod_labels", "app.kubernetes.io/name"],
            "obao-prometheus",
        );
    }
    if profile == "active" {
        set(&mut t, &["scrape", "token_secret", "name"], "obao-token");
        set(&mut t, &["scrape", "token_secret", "key"], "obao-token-key");
        set(&mut t, &["scrape", "ca_config_map", "name"], "obao-ca");
        set(&mut t, &["scrape", "ca_config_map", "key"], "obao-ca-key");
        set(
            &mut t,
            &["prometheus", "monitor_labels", "release"],
            "obao-release",
        );
    }
    if profile == "all-node" {
        set_path(
            &mut t,
            &["prometheus", "static_targets"],
            toml::Value::Array(vec![toml::Value::String("openbao-0.example:8202".into())]),
        );
    }
    if profile == "demo" {
        set(&mut t, &["demo", "nodes", "0", "host"], "obao-host0");
        set(
            &mut t,
            &["demo", "nodes", "0", "raft_path"],
            "/openbao/data0",
        );
    }
    t.remove("output");
    t
}

fn set_path(t: &mut toml::Table, path: &[&str], v: toml::Value) {
    let (last, parents) = path.split_last().unwrap();
    let mut cur: &mut toml::Value = t
        .entry(parents[0].to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    for seg in &parents[1..] {
        cur = match cur {
            toml::Value::Table(tt) => tt
                .entry(seg.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new())),
            toml::Value::Array(a) => &mut a[seg.parse::<usize>().unwrap()],
            _ => panic!("bad path {path:?}"),
        };
    }
    match cur {
        toml::Value::Table(tt) => {
            tt.insert(last.to_string(), v);
        }
        toml::Value::Array(a) => a[last.parse::<usize>().unwrap()] = v,
        _ => panic!("bad path {path:?}"),
    }
}

fn get_path<'a>(t: &'a toml::Table, path: &[&str]) -> &'a str {
    let mut cur = t.get(path[0]).unwrap();
    for seg in &path[1..] {
        cur = match cur {
            toml::Value::Table(tt) => tt.get(*seg).unwrap(),
            toml::Value::Array(a) => &a[seg.parse::<usize>().unwrap()],
            _ => panic!(),
        };
    }
    cur.as_str().unwrap()
}

/// Every output file parsed into a JSON value (Markdown is prose and skipped).
fn parsed(files: &BTreeMap<String, String>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (name, content) in files {
        let v = if name.ends_with(".hcl") {
            let h: hcl::Value = hcl::from_str(content)
                .unwrap_or_else(|e| panic!("{name} is not HCL: {e}\n{content}"));
            serde_json::to_value(h).unwrap()
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            serde_saphyr::from_str::<Value>(content)
                .unwrap_or_else(|e| panic!("{name} is not YAML: {e}\n{content}"))
        } else if name.ends_with(".json") {
            serde_json::from_str(content).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
        } else {
            continue;
        };
        out.insert(name.clone(), v);
    }
    out
}

/// Paths of every key and array slot, and the string leaves, of a parsed document.
fn shape(v: &Value, path: String, keys: &mut Vec<String>, leaves: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{path}/{k}");
                keys.push(p.clone());
                shape(x, p, keys, leaves);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{path}[{i}]");
                keys.push(p.clone());
                shape(x, p, keys, leaves);
            }
        }
        Value::String(s) => {
            leaves.insert(path, s.clone());
        }
        _ => {}
    }
}

/// A key path with the segments derived from `value` (a Compose service and its volume)
/// replaced by a placeholder.
fn mask_key(path: &str, value: &str) -> String {
    path.split('/')
        .map(|seg| {
            let (name, index) = seg.find('[').map_or((seg, ""), |i| seg.split_at(i));
            let name = if name == value {
                "\u{0}".to_string()
            } else if name.strip_suffix("-data") == Some(value) {
                "\u{0}-data".to_string()
            } else {
                name.to_string()
            };
            format!("{name}{index}")
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn render(table: &toml::Table) -> Result<BTreeMap<String, String>, ()> {
    let text = toml::to_string(table).unwrap();
    match profile::parse(Path::new("profiles/fuzzed.toml"), text.as_bytes()) {
        Ok(p) => Ok(emit::render(&p).files),
        Err(diags) => {
            assert!(!diags.is_empty());
            for d in &diags {
                // Rendering the diagnostic must not panic either, whatever the input.
                let _ = d.render(Some(&text), false);
            }
            Err(())
        }
    }
}

/// Ok(true) when the value was accepted and its render checked, Ok(false) when refused.
fn check(field: usize, value: &str) -> Result<bool, TestCaseError> {
    let (profile, path) = FIELDS[field];
    let baseline_table = base(profile);
    let baseline_value = get_path(&baseline_table, path).to_string();
    let baseline =
        render(&baseline_table).unwrap_or_else(|()| panic!("baseline {profile} must validate"));
    let mut fuzzed_table = baseline_table.clone();
    set_path(
        &mut fuzzed_table,
        path,
        toml::Value::String(value.to_string()),
    );
    let Ok(fuzzed) = render(&fuzzed_table) else {
        return Ok(false);
    };

    let (before, after) = (parsed(&baseline), parsed(&fuzzed));
    prop_assert_eq!(before.keys().count(), after.keys().count());
    for (name, b) in &before {
        let Some(a) = after.get(name) else {
            // A field that names a file (policy, node) renames it; structure is checked below.
            continue;
        };
        let (mut kb, mut lb, mut ka, mut la) = (vec![], BTreeMap::new(), vec![], BTreeMap::new());
        shape(b, String::new(), &mut kb, &mut lb);
        shape(a, String::new(), &mut ka, &mut la);
        if kb != ka {
            // Keys that are themselves the fuzzed value (a label key, a service name) may differ
            // only by that value.
            let kb2: Vec<String> = kb.iter().map(|k| mask_key(k, &baseline_value)).collect();
            let ka2: Vec<String> = ka.iter().map(|k| mask_key(k, value)).collect();
            prop_assert_eq!(
                kb2,
                ka2,
                "{}: {:?}={:?} changed the structure of {}",
                profile,
                path,
                value,
                name
            );
        }
        for (p, s) in &lb {
            if s == &baseline_value {
                if let Some(now) = la.get(p) {
                    prop_assert_eq!(
                        now,
                        value,
                        "{}: {:?} did not survive in {} at {}",
                        profile,
                        path,
                        name,
                        p
                    );
                }
            }
        }
    }
    Ok(true)
}

fn nasty() -> impl Strategy<Value = String> {
    let special = prop_oneof![
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("\n".to_string()),
        Just("${".to_string()),
        Just("%{".to_string()),
        Just("}".to_string()),
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("#".to_string()),
        Just("'".to_string()),
        Just("*a".to_string()),
        Just("&a".to_string()),
        Just("yes".to_string()),
        Just("on".to_string()),
        Just("~".to_string()),
        Just("0x1".to_string()),
        Just("{{".to_string()),
        Just("---".to_string()),
        Just("openbao".to_string()),
        Just("8202".to_string()),
        Just(".".to_string()),
        Just("/".to_string()),
        Just("30s".to_string()),
        any::<char>().prop_map(|c| c.to_string()),
        "[a-z0-9-]{1,8}",
    ];
    prop::collection::vec(special, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_string_changes_the_structure_of_the_output(field in 0..FIELDS.len(), value in nasty()) {
        check(field, &value)?;
    }
}

#[test]
fn every_field_is_exercised_with_hostile_values() {
    // Deterministic pass over every field with the classic break-out strings.
    let hostile = [
        "x\"\ny = \"z",
        "${HOME}",
        "%{ if 1 }",
        "a\\b",
        "yes",
        "on",
        "~",
        "*anchor",
        "- x",
        "a: b",
        "\u{0}",
        "é",
        "0x1",
        "#c",
    ];
    let mut accepted = 0;
    for field in 0..FIELDS.len() {
        for h in hostile {
            accepted += usize::from(check(field, h).unwrap_or_else(|e| panic!("{e}")));
        }
    }
    // Not vacuous: YAML-significant values such as `yes`, `on` or `~` are legal in many
    // fields and must come through intact.
    assert!(
        accepted >= 30,
        "only {accepted} hostile values were accepted and checked"
    );
}
