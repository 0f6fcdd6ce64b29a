//! baogen against the real engine over generated corpora: name templates (grammar-built and
//! mutated), TTL strings, and rule and selector shapes. Every case is judged by both; the test
//! fails on every case where OpenBao answers 400 and baogen accepted it (for the user's own
//! value and for the payload baogen would send). Cases baogen refuses and the engine takes are
//! counted: baogen is stricter on purpose (see README, "Kubernetes secrets engine").

use crate::common;

use std::path::Path;

use crate::engine_server::Bao;
use baogen::profile;
use serde_json::{json, Value};

/// The corpus generator (deterministic, see `common::Lcg`).
struct Gen(common::Lcg);
impl Gen {
    fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }
    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// A minimal valid profile around one engine role given as TOML keys.
fn profile_text(role: &str) -> String {
    common::engine_profile("", "", &format!("name = \"case\"\n{role}"))
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// baogen's verdict on one role; when it accepts, the role payload it would send.
fn baogen_payload(role: &str) -> Option<String> {
    let text = profile_text(role);
    let p = profile::parse(Path::new("case.toml"), text.as_bytes()).ok()?;
    let r = &p.engine.as_ref()?.roles[0];
    Some(serde_json::to_string(&baogen::emit::engine::role_body(r)).unwrap())
}

struct Tally {
    cases: usize,
    both_accept: usize,
    both_refuse: usize,
    only_baogen_refuses: usize,
    failures: Vec<String>,
}

impl Tally {
    fn new() -> Self {
        Tally {
            cases: 0,
            both_accept: 0,
            both_refuse: 0,
            only_baogen_refuses: 0,
            failures: Vec::new(),
        }
    }

    /// Judge one case: the engine's answer to the user's own value (`raw`) and, when baogen
    /// accepts, to baogen's payload.
    fn judge(&mut self, bao: &Bao, what: &str, role_toml: &str, raw: &Value) {
        self.cases += 1;
        let path = format!("/v1/kubernetes/roles/d{}", self.cases);
        let engine_raw = bao.call("POST", &path, Some(&raw.to_string()));
        let engine_ok = engine_raw.status < 300;
        match baogen_payload(role_toml) {
            Some(payload) => {
                if !engine_ok {
                    self.failures.push(format!(
                        "{what}: baogen accepts, the engine answers {}: {}",
                        engine_raw.status,
                        engine_raw.text.trim()
                    ));
                }
                let sent = bao.call("POST", &path, Some(&payload));
                if sent.status >= 300 {
                    self.failures.push(format!(
                        "{what}: the engine answers {} to baogen's payload {payload}: {}",
                        sent.status,
                        sent.text.trim()
                    ));
                } else if engine_ok {
                    self.both_accept += 1;
                }
            }
            None if engine_ok => self.only_baogen_refuses += 1,
            None => self.both_refuse += 1,
        }
    }

    fn finish(self, what: &str, min_accept: usize, min_refuse: usize) {
        eprintln!(
            "{what}: {} cases: both accept {}, both refuse {}, only baogen refuses {}",
            self.cases, self.both_accept, self.both_refuse, self.only_baogen_refuses
        );
        assert!(
            self.failures.is_empty(),
            "{} of {} {what} cases accepted by baogen and refused by the engine:\n{}",
            self.failures.len(),
            self.cases,
            self.failures.join("\n")
        );
        // Not vacuous: the corpus reaches both verdicts of both judges.
        assert!(
            self.both_accept >= min_accept,
            "{what}: only {} accepted by both",
            self.both_accept
        );
        assert!(
            self.both_refuse >= min_refuse,
            "{what}: only {} refused by both",
            self.both_refuse
        );
    }
}

fn start() -> Option<Bao> {
    let bin = common::tool("bao")?;
    let bao = Bao::start(&bin);
    bao.enable_kubernetes();
    Some(bao)
}

/// A template from the subset's grammar: literal text and actions with pipelines.
fn template(g: &mut Gen) -> String {
    fn operand(g: &mut Gen, depth: usize) -> String {
        match g.below(if depth > 2 { 4 } else { 6 }) {
            0 => g.pick(&[".RoleName", ".DisplayName"]).to_string(),
            1 => format!("{}", 1 + g.below(40)),
            2 => g.pick(&["\"v\"", "`x`", "\"-\"", "\"%s-%s\""]).to_string(),
            3 => g
                .pick(&["uuid", "unix_time", "unix_time_millis"])
                .to_string(),
            _ => format!("({})", pipeline(g, depth + 1)),
        }
    }
    fn command(g: &mut Gen, depth: usize, piped: bool) -> String {
        let f = g.pick(&[
            "random",
            "truncate",
            "truncate_sha256",
            "lowercase",
            "uppercase",
            "replace",
            "sha256",
            "hex",
            "base64",
            "printf",
            "uuid",
            "unix_time",
            "timestamp",
        ]);
        let arity = match f {
            "truncate" | "truncate_sha256" => 2,
            "replace" => 3,
            "uuid" | "unix_time" => 0,
            "printf" => 1 + g.below(3),
            _ => 1,
        };
        let mut words = vec![f.to_string()];
        let given = if piped && arity > 0 { arity - 1 } else { arity };
        for i in 0..given {
            let w = if (f == "random" || f.starts_with("truncate")) && i == 0 {
                format!("{}", 1 + g.below(30))
            } else if f == "printf" && i == 0 {
                "\"%s\"".to_string()
            } else {
                operand(g, depth)
            };
            words.push(w);
        }
        words.join(" ")
    }
    fn pipeline(g: &mut Gen, depth: usize) -> String {
        let mut stages = vec![if g.chance(30) {
            operand(g, depth)
        } else {
            command(g, depth, false)
        }];
        for _ in 0..g.below(3) {
            stages.push(command(g, depth, true));
        }
        stages.join(" | ")
    }
    let mut out = String::new();
    for _ in 0..1 + g.below(3) {
        if g.chance(50) {
            out.push_str(g.pick(&["v-", "x", "a.b-", "ci-", ""]));
        }
        let (open, close) = match g.below(4) {
            0 => ("{{- ", " -}}"),
            1 => ("{{", "}}"),
            _ => ("{{ ", " }}"),
        };
        if g.chance(10) {
            out.push_str("{{/* note */}}");
        }
        out.push_str(open);
        out.push_str(&pipeline(g, 0));
        out.push_str(close);
    }
    if g.chance(60) {
        out.push_str("-{{ random 8 }}");
    }
    out
}

/// Break a template the ways people and fuzzers do.
fn mutate(g: &mut Gen, t: &str) -> String {
    const PIECES: [&str; 52] = [
        "{{",
        "}}",
        "{{-",
        "-}}",
        "{{- ",
        " -}}",
        " end ",
        "{{ end }}",
        " if ",
        "{{ if .RoleName }}",
        " else ",
        "{{ else }}",
        " range ",
        "{{ range .RoleName }}",
        " break ",
        "{{ break }}",
        "{{ continue }}",
        "$x",
        "$",
        ":=",
        "{{ $x := 1 }}",
        "(",
        ")",
        "|",
        "\"",
        "`",
        "'a'",
        ".",
        ".Foo",
        "nil",
        "true",
        "01",
        "0x1f",
        "1e3",
        "-1",
        "+1",
        "/*",
        "*/",
        "\n",
        "\t",
        "{{/* c */}}",
        "{{define \"x\"}}",
        "{{template \"x\"}}",
        "{{ with .RoleName }}",
        "print",
        "len",
        "index",
        "glob",
        "\\",
        "é",
        ",",
        "=",
    ];
    let mut s: Vec<char> = t.chars().collect();
    for _ in 0..1 + g.below(3) {
        let at = g.below(s.len() + 1);
        match g.below(3) {
            0 => {
                let piece: Vec<char> = g.pick(&PIECES).chars().collect();
                s.splice(at..at, piece);
            }
            1 if !s.is_empty() => {
                s.remove(at.min(s.len() - 1));
            }
            _ => {
                let end = (at + 1 + g.below(6)).min(s.len());
                let copy: Vec<char> = s[at.min(end)..end].to_vec();
                s.splice(at..at, copy);
            }
        }
    }
    s.into_iter().collect()
}

#[test]
fn name_templates_baogen_accepts_the_engine_accepts() {
    let Some(bao) = start() else { return };
    let mut g = Gen(common::Lcg(0x7e1a_7e00));
    let mut tally = Tally::new();
    for i in 0..2400 {
        let t = template(&mut g);
        let t = if i % 2 == 0 { t } else { mutate(&mut g, &t) };
        let role = format!(
            "allowed_kubernetes_namespaces = [\"ci\"]\nkubernetes_role_name = \"edit\"\nname_template = {}",
            toml_string(&t)
        );
        let raw = json!({"allowed_kubernetes_namespaces": ["ci"], "kubernetes_role_name": "edit", "name_template": t});
        tally.judge(&bao, &format!("name_template {t:?}"), &role, &raw);
    }
    tally.finish("name_template", 300, 300);
}

fn ttl_string(g: &mut Gen) -> String {
    match g.below(4) {
        0 => {
            // Whole seconds, some past Go's duration range.
            let digits = 1 + g.below(22);
            let mut s = String::from(g.pick(&["1", "2", "5", "9"]));
            for _ in 1..digits {
                s.push(char::from(b'0' + g.below(10) as u8));
            }
            s
        }
        1 => g
            .pick(&[
                "0",
                "",
                "600",
                "599",
                "9223372036",
                "9223372037",
                "2562047h47m16s",
                "2562047h47m17s",
                "2562048h",
                "768h",
                "769h",
                "2764800",
                "2764801",
                "1d",
                "-1h",
                "+1h",
                "1h-1m",
                ".5h",
                "1.5h",
                "1e3s",
                " 1h",
                "1H",
                "10µs",
                "1h ",
                "1h1h",
                "0h",
                "00",
                "0x10",
                "1_000",
                "+600",
                "h",
                "1",
                "10m",
                "10m0s",
                "9m60s",
            ])
            .to_string(),
        _ => {
            let mut s = String::new();
            if g.chance(5) {
                s.push(*g.pick(&[&'-', &'+']));
            }
            for _ in 0..1 + g.below(3) {
                let bound = if g.chance(20) { 100_000_000 } else { 900 };
                s.push_str(&format!("{}", g.below(bound)));
                if g.chance(15) {
                    s.push_str(&format!(".{}", g.below(100)));
                }
                s.push_str(g.pick(&["h", "m", "s", "ms", "us", "µs", "ns", "d", "", "H"]));
            }
            s
        }
    }
}

#[test]
fn ttls_baogen_accepts_the_engine_accepts_as_written_and_as_sent() {
    let Some(bao) = start() else { return };
    let mut g = Gen(common::Lcg(0x0071_1000));
    let mut tally = Tally::new();
    for _ in 0..1500 {
        let (max, default) = (ttl_string(&mut g), ttl_string(&mut g));
        let mut role = String::from(
            "allowed_kubernetes_namespaces = [\"ci\"]\nservice_account_name = \"sa\"\n",
        );
        let mut raw =
            json!({"allowed_kubernetes_namespaces": ["ci"], "service_account_name": "sa"});
        if g.chance(80) {
            role.push_str(&format!("token_max_ttl = {}\n", toml_string(&max)));
            raw["token_max_ttl"] = json!(max);
        }
        if g.chance(50) {
            role.push_str(&format!("token_default_ttl = {}\n", toml_string(&default)));
            raw["token_default_ttl"] = json!(default);
        }
        tally.judge(&bao, &format!("TTLs {raw}"), &role, &raw);
    }
    tally.finish("TTL", 150, 150);
}

#[test]
fn rules_and_selectors_baogen_accepts_the_engine_accepts() {
    let Some(bao) = start() else { return };
    let mut g = Gen(common::Lcg(0x5e1e_c700));
    let mut tally = Tally::new();
    let list = |g: &mut Gen, items: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for _ in 0..1 + g.below(2) {
            let item = g.pick(items).to_string();
            if !v.contains(&item) {
                v.push(item);
            }
        }
        v
    };
    for i in 0..1200 {
        let mut role = String::from("allowed_kubernetes_namespaces = [\"ci\"]\n");
        let mut raw = json!({"allowed_kubernetes_namespaces": ["ci"]});
        if i % 2 == 0 {
            let cluster = g.chance(40);
            let mut rules = Vec::new();
            for _ in 0..1 + g.below(3) {
                let mut r = serde_json::Map::new();
                let keys: [(&str, &[&str]); 5] = [
                    (
                        "apiGroups",
                        &["", "", "", "apps", "apps", "batch", "*", "Apps", "a..b"],
                    ),
                    (
                        "resources",
                        &[
                            "pods", "pods", "pods/log", "secrets", "jobs", "*", "pods/*",
                            "*/scale", "Pods", "a b",
                        ],
                    ),
                    (
                        "verbs",
                        &[
                            "get", "get", "list", "list", "watch", "watch", "*", "read", "GET",
                        ],
                    ),
                    ("resourceNames", &["web", "web", "db", "a/b", "web-*"]),
                    (
                        "nonResourceURLs",
                        &["/healthz", "*", "/x/*", "healthz", "/a*b"],
                    ),
                ];
                for (k, items) in keys {
                    let percent = match k {
                        "nonResourceURLs" => 10,
                        "resourceNames" => 30,
                        _ => 95,
                    };
                    if g.chance(percent) {
                        r.insert(k.into(), json!(list(&mut g, items)));
                    }
                }
                rules.push(Value::Object(r));
            }
            let toml_rules: Vec<String> = rules
                .iter()
                .map(|r| {
                    let fields: Vec<String> = r
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| format!("{k} = {v}"))
                        .collect();
                    format!("{{ {} }}", fields.join(", "))
                })
                .collect();
            role.push_str(&format!(
                "generated_role_rules = [{}]\n",
                toml_rules.join(", ")
            ));
            raw["generated_role_rules"] = json!(json!({"rules": rules}).to_string());
            if cluster {
                role.push_str("kubernetes_role_type = \"ClusterRole\"\n");
                raw["kubernetes_role_type"] = json!("ClusterRole");
            }
        } else {
            let mut sel = serde_json::Map::new();
            if g.chance(70) {
                let mut labels = serde_json::Map::new();
                for _ in 0..1 + g.below(2) {
                    labels.insert(
                        g.pick(&[
                            "stage",
                            "team",
                            "stage",
                            "team",
                            "example.com/x",
                            "-bad",
                            "UP",
                        ])
                        .into(),
                        json!(g.pick(&["prod", "x", "v1.2", "prod", "", "a b", "-x"])),
                    );
                }
                sel.insert("matchLabels".into(), Value::Object(labels));
            }
            if g.chance(60) {
                let mut exprs = Vec::new();
                for _ in 0..1 + g.below(2) {
                    let mut e = serde_json::Map::new();
                    e.insert(
                        "key".into(),
                        json!(g.pick(&["team", "stage", "example.com/tier", "-bad"])),
                    );
                    e.insert(
                        "operator".into(),
                        json!(g.pick(&[
                            "In",
                            "NotIn",
                            "In",
                            "Exists",
                            "DoesNotExist",
                            "in",
                            "Bogus"
                        ])),
                    );
                    let op = e["operator"].as_str().unwrap_or_default();
                    if g.chance(if matches!(op, "In" | "NotIn") { 90 } else { 15 }) {
                        e.insert(
                            "values".into(),
                            json!(list(&mut g, &["a", "b", "a", "", "x y"])),
                        );
                    }
                    exprs.push(Value::Object(e));
                }
                sel.insert("matchExpressions".into(), json!(exprs));
            }
            let toml_sel = toml::Value::try_from(&sel).unwrap();
            role.push_str(&format!(
                "allowed_kubernetes_namespace_selector = {}\n",
                inline_table(&toml_sel)
            ));
            role.push_str("service_account_name = \"sa\"\n");
            raw["allowed_kubernetes_namespace_selector"] = json!(Value::Object(sel).to_string());
            raw["service_account_name"] = json!("sa");
        }
        tally.judge(&bao, &format!("role {raw}"), &role, &raw);
    }
    tally.finish("rules and selectors", 100, 0);
}

/// A TOML value as an inline table (toml's `to_string` of a table writes a document).
fn inline_table(v: &toml::Value) -> String {
    match v {
        toml::Value::Table(t) => {
            let fields: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{} = {}", toml_string(k), inline_table(v)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        toml::Value::Array(a) => {
            let items: Vec<String> = a.iter().map(inline_table).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}
