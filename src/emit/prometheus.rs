//! Plain Prometheus configuration: `prometheus.yml` (static targets for the demo and for
//! `static_targets`, Kubernetes discovery otherwise, the equivalent of the monitor objects) and
//! `rules.yml`.

use serde::Serialize;
use serde_json::{json, Value};

use super::alerts::Rule;
use super::recording::Record;
use crate::model::{Kind, Profile};

/// `__meta_kubernetes_pod_label_<name>` as Prometheus sanitizes label names.
fn meta_label(key: &str) -> String {
    let name: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("__meta_kubernetes_pod_label_{name}")
}

fn common_labels(p: &Profile) -> serde_json::Map<String, Value> {
    let mut labels = serde_json::Map::new();
    labels.insert("cluster".into(), json!(p.openbao.cluster));
    labels.insert("scrape_profile".into(), json!(p.kind.scrape_label()));
    labels
}

fn static_configs(p: &Profile) -> Value {
    match &p.demo {
        Some(demo) => Value::Array(
            demo.nodes
                .iter()
                .map(|n| {
                    let mut labels = common_labels(p);
                    labels.insert("node".into(), json!(n.name));
                    json!({"targets": [format!("{}:{}", n.host, n.scrape_port())], "labels": labels})
                })
                .collect(),
        ),
        None => {
            let mut labels = common_labels(p);
            labels.insert("kubernetes_namespace".into(), json!(p.openbao.namespace));
            json!([{"targets": p.prometheus.static_targets, "labels": labels}])
        }
    }
}

fn kubernetes_discovery(p: &Profile, job: &mut serde_json::Map<String, Value>) {
    let ns = &p.openbao.namespace;
    let replace = |source: &str, target: &str| json!({"source_labels": [source], "target_label": target, "action": "replace"});
    let mut relabel = Vec::new();
    let role = if p.kind == Kind::AllNode {
        // Every OpenBao pod, ready or not: sealed and standby nodes are what this profile is for.
        for (k, v) in &p.openbao.pod_labels {
            relabel.push(json!({"source_labels": [meta_label(k)], "regex": regex_escape(v), "action": "keep"}));
        }
        relabel.push(json!({"source_labels": ["__meta_kubernetes_pod_ip"], "regex": "(.+)", "target_label": "__address__", "replacement": format!("$1:{}", p.scrape.port), "action": "replace"}));
        relabel.push(replace("__meta_kubernetes_pod_name", "node"));
        "pod"
    } else {
        relabel.push(json!({
            "source_labels": ["__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"],
            "regex": format!("{};{}", regex_escape(&p.scrape.service_name), regex_escape(&p.scrape.port_name)),
            "action": "keep",
        }));
        "endpoints"
    };
    relabel.push(replace(
        "__meta_kubernetes_namespace",
        "kubernetes_namespace",
    ));
    relabel.push(replace("__meta_kubernetes_pod_name", "pod"));
    relabel.push(
        json!({"target_label": "cluster", "replacement": p.openbao.cluster, "action": "replace"}),
    );
    relabel.push(json!({"target_label": "scrape_profile", "replacement": p.kind.scrape_label(), "action": "replace"}));
    job.insert(
        "kubernetes_sd_configs".into(),
        json!([{"role": role, "namespaces": {"names": [ns]}}]),
    );
    job.insert("relabel_configs".into(), Value::Array(relabel));
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(super) fn config(p: &Profile) -> String {
    let s = &p.scrape;
    let mut job = serde_json::Map::new();
    job.insert("job_name".into(), json!(s.job));
    job.insert("scrape_interval".into(), json!(s.interval));
    job.insert("scrape_timeout".into(), json!(s.scrape_timeout));
    job.insert("metrics_path".into(), json!("/v1/sys/metrics"));
    job.insert("params".into(), json!({"format": ["prometheus"]}));
    job.insert("scheme".into(), json!(s.scheme()));
    if s.uses_token() {
        job.insert(
            "authorization".into(),
            json!({"type": "Bearer", "credentials_file": p.prometheus.token_file}),
        );
    }
    if s.ca_config_map.is_some() {
        job.insert(
            "tls_config".into(),
            json!({"ca_file": p.prometheus.ca_file, "server_name": s.server_name}),
        );
    }
    if p.demo.is_some() || !p.prometheus.static_targets.is_empty() {
        job.insert("static_configs".into(), static_configs(p));
    } else {
        kubernetes_discovery(p, &mut job);
    }
    let mut doc = json!({
        "global": {"scrape_interval": s.interval, "scrape_timeout": s.scrape_timeout, "evaluation_interval": s.interval},
        "rule_files": ["rules.yml"],
        "scrape_configs": [job],
    });
    if !p.prometheus.alertmanagers.is_empty() {
        doc["alerting"] = json!({"alertmanagers": [{"static_configs": [{"targets": p.prometheus.alertmanagers}]}]});
    }
    crate::yaml::to_string(&doc)
}

/// One rule group of both rule outputs.
#[derive(Serialize)]
pub(super) struct Group<'a, T> {
    name: &'static str,
    rules: &'a [T],
}

/// The rule groups both rule outputs carry: the recording rules, then the alerts that read
/// them (a tuple struct serializes as a sequence).
#[derive(Serialize)]
pub(super) struct Groups<'a>(Group<'a, Record>, Group<'a, Rule>);

pub(super) fn rule_groups<'a>(records: &'a [Record], alerts: &'a [Rule]) -> Groups<'a> {
    Groups(
        Group {
            name: "openbao-recording",
            rules: records,
        },
        Group {
            name: "openbao-metrics",
            rules: alerts,
        },
    )
}

/// `rules.yml`.
#[derive(Serialize)]
pub(super) struct RuleFile<'a> {
    pub groups: &'a Groups<'a>,
}
