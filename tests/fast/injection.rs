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
    ("active", &["output"]),
    ("engine", &["kubernetes_secrets", "mount"]),
    (
        "engine",
        &["kubernetes_secrets", "config", "kubernetes_host"],
    ),
    (
        "engine",
        &["kubernetes_secrets", "config", "kubernetes_ca_cert_file"],
    ),
    ("engine", &["kubernetes_secrets", "roles", "0", "name"]),
    (
        "engine",
        &["kubernetes_secrets", "roles", "0", "service_account_name"],
    ),
    (
        "engine",
        &["kubernetes_secrets", "roles", "1", "kubernetes_role_name"],
    ),
    (
        "engine",
        &[
            "kubernetes_secrets",
            "roles",
            "3",
            "allowed_kubernetes_namespace_selector",
            "matchLabels",
            "stage",
        ],
    ),
    ("selfinit", &["seal", "key_file"]),
    ("selfinit", &["seal", "key_id"]),
    ("selfinit", &["self_init", "admin", "username"]),
    ("selfinit", &["self_init", "admin", "password_env"]),
    ("selfinit", &["self_init", "admin", "policy"]),
    ("selfinit", &["scrape", "token_role"]),
    ("selfinit", &["scrape", "token_period"]),
    ("selfinit", &["scrape", "token_bound_cidrs", "0"]),
    ("selfinit", &["scrape", "renewal", "image"]),
    ("selfinit", &["scrape", "renewal", "address"]),
    (
        "selfinit",
        &["kubernetes_secrets", "roles", "1", "extra_labels", "team"],
    ),
];

/// Where a fuzzed profile of this kind lives (the engine example reads its CA file next to it).
fn profile_dir(profile: &str) -> &'static str {
    if profile == "engine" || profile == "selfinit" {
        "profiles/examples"
    } else {
        "profiles"
    }
}

fn base(profile: &str) -> toml::Table {
    let file = match profile {
        "engine" => "profiles/examples/engine-reference.toml".to_string(),
        "selfinit" => "profiles/examples/self-init.toml".to_string(),
        p => format!("profiles/{p}.toml"),
    };
    let text = std::fs::read_to_string(file).unwrap();
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
    if profile == "engine" {
        set(&mut t, &["kubernetes_secrets", "mount"], "obao-mount");
        set(
            &mut t,
            &["kubernetes_secrets", "config", "kubernetes_host"],
            "https://obao-k8s.example:6443",
        );
        set(
            &mut t,
            &["kubernetes_secrets", "roles", "0", "name"],
            "obao-role",
        );
        set(
            &mut t,
            &["kubernetes_secrets", "roles", "0", "service_account_name"],
            "obao-role-sa",
        );
        set(
            &mut t,
            &["kubernetes_secrets", "roles", "1", "kubernetes_role_name"],
            "obao-k8s-role",
        );
    }
    if profile == "selfinit" {
        set(&mut t, &["seal", "key_file"], "/openbao/seal/obao.key");
        set(&mut t, &["seal", "key_id"], "obao-key-id");
        set(&mut t, &["self_init", "admin", "username"], "obao-admin");
        set(
            &mut t,
            &["self_init", "admin", "password_env"],
            "OBAO_PASSWORD",
        );
        set(
            &mut t,
            &["self_init", "admin", "policy"],
            "obao-admin-policy",
        );
        set(&mut t, &["scrape", "token_role"], "obao-token-role");
        set(&mut t, &["scrape", "renewal", "image"], "obao/bao:1");
        set(
            &mut t,
            &["scrape", "renewal", "address"],
            "https://obao-api.example:8200",
        );
        set(
            &mut t,
            &["kubernetes_secrets", "roles", "1", "extra_labels", "team"],
            "obao-team",
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
    t.insert(
        "output".into(),
        toml::Value::String("../out/obao-fuzzed".into()),
    );
    t
}

fn set_path(t: &mut toml::Table, path: &[&str], v: toml::Value) {
    let (last, parents) = path.split_last().unwrap();
    if parents.is_empty() {
        t.insert(last.to_string(), v);
        return;
    }
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
    // A value with '/' (a mount path) spans several segments: mask it whole first.
    let masked;
    let path = if value.contains('/') && !value.is_empty() {
        masked = path.replace(value, "\u{0}");
        masked.as_str()
    } else {
        path
    };
    path.split('/')
        .map(|seg| {
            let (name, index) = seg.find('[').map_or((seg, ""), |i| seg.split_at(i));
            let name = if name == value {
                "\u{0}".to_string()
            } else if let Some(suffix) = ["-data", "-audit"]
                .into_iter()
                .find(|s| name.strip_suffix(s) == Some(value))
            {
                format!("\u{0}{suffix}")
            } else {
                name.to_string()
            };
            format!("{name}{index}")
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn render(table: &toml::Table, path: &Path) -> Result<BTreeMap<String, String>, ()> {
    let text = toml::to_string(table).unwrap();
    match profile::parse(path, text.as_bytes()) {
        Ok(p) => Ok(emit::render(&p).files),
        Err(diags) => {
            assert!(!diags.is_empty());
            for d in &diags {
                // Rendering the diagnostic must not panic either, whatever the input.
                let _ = d.render(&|_| Some(text.clone()), false);
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
    let file = Path::new(profile_dir(profile)).join("fuzzed.toml");
    let baseline = render(&baseline_table, &file)
        .unwrap_or_else(|()| panic!("baseline {profile} must validate"));
    let mut fuzzed_table = baseline_table.clone();
    set_path(
        &mut fuzzed_table,
        path,
        toml::Value::String(value.to_string()),
    );
    let Ok(fuzzed) = render(&fuzzed_table, &file) else {
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

const KINDS: [&str; 4] = ["active", "all-node", "demo", "engine"];

/// Render the baseline of `profile` under the file name `name`; `None` when refused, which
/// must then be for the name alone.
fn render_named(profile: &str, name: &str) -> Option<BTreeMap<String, String>> {
    let table = base(profile);
    let text = toml::to_string(&table).unwrap();
    let path = Path::new(profile_dir(profile)).join(name);
    match profile::parse(&path, text.as_bytes()) {
        Ok(p) => Some(emit::render(&p).files),
        Err(diags) => {
            assert!(
                diags.len() == 1 && diags[0].code == baogen::diag::Code::UnsafeFileName,
                "{name:?} was refused for something other than its name: {diags:?}"
            );
            None
        }
    }
}

/// A file name changes nothing but the header comments and VERIFY.md's header line: every
/// document parses to the same value, every file keeps its line count.
fn same_structure(
    name: &str,
    base: &BTreeMap<String, String>,
    now: &BTreeMap<String, String>,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        base.keys().collect::<Vec<_>>(),
        now.keys().collect::<Vec<_>>()
    );
    prop_assert_eq!(
        parsed(base),
        parsed(now),
        "the name {:?} changed a document",
        name
    );
    for (file, b) in base {
        let a = &now[file];
        prop_assert_eq!(
            b.lines().count(),
            a.lines().count(),
            "the name {:?} changed the lines of {}",
            name,
            file
        );
        let differing = b.lines().zip(a.lines()).filter(|(x, y)| x != y).count();
        prop_assert!(
            differing <= 1,
            "{}: more than the header changed for {:?}",
            file,
            name
        );
    }
    let verify = &now["VERIFY.md"];
    let header = verify
        .lines()
        .find(|l| l.starts_with("Generated by baogen from "))
        .unwrap();
    // The name sits in one code span that no backtick in it can close early.
    let span = header
        .strip_prefix("Generated by baogen from ")
        .and_then(|s| s.strip_suffix(". These are the verification and troubleshooting"))
        .unwrap_or_else(|| panic!("header line changed: {header:?}"));
    let ticks = span.len() - span.trim_start_matches('`').len();
    prop_assert!(ticks > 0 && span.ends_with(&"`".repeat(ticks)));
    let inner = &span[ticks..span.len() - ticks];
    prop_assert!(!inner.contains(&"`".repeat(ticks)));
    // CommonMark strips one space from each end when both ends have one.
    let inner = if inner.len() >= 2 && inner.starts_with(' ') && inner.ends_with(' ') {
        &inner[1..inner.len() - 1]
    } else {
        inner
    };
    prop_assert_eq!(inner, name);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_file_name_changes_the_structure_of_the_output(kind in 0..KINDS.len(), stem in nasty()) {
        let profile = KINDS[kind];
        let stem: String = stem.chars().filter(|&c| c != '/' && c != '\0').collect();
        let name = format!("{stem}.toml");
        let base = render_named(profile, "fuzzed.toml").unwrap();
        if let Some(now) = render_named(profile, &name) {
            same_structure(&name, &base, &now)?;
        }
    }
}

#[test]
fn file_names_that_break_lines_or_reorder_text_are_refused_others_come_through() {
    for bad in [
        "a\nb",
        "a\rb",
        "a\u{85}b",
        "a\u{2028}b",
        "a\u{2029}b",
        "a\u{202e}b",
        "a\u{2066}b",
        "\u{7f}",
        "a\tb",
    ] {
        for profile in KINDS {
            assert!(
                render_named(profile, &format!("{bad}.toml")).is_none(),
                "{bad:?} was accepted"
            );
        }
    }
    let base = render_named("engine", "fuzzed.toml").unwrap();
    for good in [
        "prod env", "é", "`tick`", "``", "$(id)", "'q'", "\"d\"", "-- x", "#c", "*", "a b\\c",
        "{{x}}", "<b>",
    ] {
        let name = format!("{good}.toml");
        let now = render_named("engine", &name).unwrap_or_else(|| panic!("{good:?} was refused"));
        same_structure(&name, &base, &now).unwrap_or_else(|e| panic!("{e}"));
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
