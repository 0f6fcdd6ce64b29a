//! Plain Prometheus configuration: `prometheus.yml` (static targets for the demo and for
//! `static_targets`, Kubernetes discovery otherwise, the equivalent of the monitor objects) and
//! `rules.yml`.

use serde::Serialize;

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

/// `prometheus.yml`, field for field in the order Prometheus' documentation lists them.
#[derive(Serialize)]
struct Config<'a> {
    global: Global<'a>,
    rule_files: [&'static str; 1],
    scrape_configs: [Job<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    alerting: Option<Alerting<'a>>,
}

#[derive(Serialize)]
struct Global<'a> {
    scrape_interval: &'a str,
    scrape_timeout: &'a str,
    evaluation_interval: &'a str,
}

#[derive(Serialize)]
struct Alerting<'a> {
    alertmanagers: [StaticTargets<'a>; 1],
}

#[derive(Serialize)]
struct StaticTargets<'a> {
    static_configs: [Targets<'a>; 1],
}

#[derive(Serialize)]
struct Targets<'a> {
    targets: &'a [String],
}

#[derive(Serialize)]
struct Job<'a> {
    job_name: &'a str,
    scrape_interval: &'a str,
    scrape_timeout: &'a str,
    metrics_path: &'static str,
    params: Params,
    scheme: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorization: Option<Authorization<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_config: Option<TlsConfig<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    static_configs: Vec<StaticConfig<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kubernetes_sd_configs: Option<[Discovery<'a>; 1]>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    relabel_configs: Vec<Relabel>,
}

#[derive(Serialize)]
struct Params {
    format: [&'static str; 1],
}

#[derive(Serialize)]
struct Authorization<'a> {
    #[serde(rename = "type")]
    type_: &'static str,
    credentials_file: &'a str,
}

#[derive(Serialize)]
struct TlsConfig<'a> {
    ca_file: &'a str,
    server_name: &'a str,
}

#[derive(Serialize)]
struct StaticConfig<'a> {
    targets: Vec<String>,
    labels: TargetLabels<'a>,
}

/// The labels every static target carries, then the node's or the namespace's.
#[derive(Serialize)]
struct TargetLabels<'a> {
    cluster: &'a str,
    scrape_profile: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kubernetes_namespace: Option<&'a str>,
}

#[derive(Serialize)]
struct Discovery<'a> {
    role: &'static str,
    namespaces: Namespaces<'a>,
}

#[derive(Serialize)]
struct Namespaces<'a> {
    names: [&'a str; 1],
}

#[derive(Serialize)]
struct Relabel {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    source_labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_label: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replacement: Option<String>,
    action: &'static str,
}

impl Relabel {
    fn keep(sources: Vec<String>, regex: String) -> Self {
        Relabel {
            source_labels: sources,
            regex: Some(regex),
            target_label: None,
            replacement: None,
            action: "keep",
        }
    }
    fn copy(source: &str, target: &'static str) -> Self {
        Relabel {
            source_labels: vec![source.to_string()],
            regex: None,
            target_label: Some(target),
            replacement: None,
            action: "replace",
        }
    }
    fn set(target: &'static str, value: &str) -> Self {
        Relabel {
            source_labels: vec![],
            regex: None,
            target_label: Some(target),
            replacement: Some(value.to_string()),
            action: "replace",
        }
    }
}

fn static_configs(p: &Profile) -> Vec<StaticConfig<'_>> {
    let labels = |node, kubernetes_namespace| TargetLabels {
        cluster: &p.openbao.cluster,
        scrape_profile: p.kind.scrape_label(),
        node,
        kubernetes_namespace,
    };
    match &p.demo {
        Some(demo) => demo
            .nodes
            .iter()
            .map(|n| StaticConfig {
                targets: vec![format!("{}:{}", n.host, n.scrape_port())],
                labels: labels(Some(&n.name), None),
            })
            .collect(),
        None => vec![StaticConfig {
            targets: p.prometheus.static_targets.clone(),
            labels: labels(None, Some(&p.openbao.namespace)),
        }],
    }
}

/// The discovery and relabelling equivalent to the monitor objects.
fn kubernetes_discovery<'a>(p: &'a Profile, job: &mut Job<'a>) {
    let mut relabel = Vec::new();
    let role = if p.kind == Kind::AllNode {
        // Every OpenBao pod, ready or not: sealed and standby nodes are what this profile is for.
        for (k, v) in &p.openbao.pod_labels {
            relabel.push(Relabel::keep(vec![meta_label(k)], regex_escape(v)));
        }
        relabel.push(Relabel {
            source_labels: vec!["__meta_kubernetes_pod_ip".into()],
            regex: Some("(.+)".into()),
            target_label: Some("__address__"),
            replacement: Some(format!("$1:{}", p.scrape.port)),
            action: "replace",
        });
        relabel.push(Relabel::copy("__meta_kubernetes_pod_name", "node"));
        "pod"
    } else {
        relabel.push(Relabel::keep(
            vec![
                "__meta_kubernetes_service_name".into(),
                "__meta_kubernetes_endpoint_port_name".into(),
            ],
            format!(
                "{};{}",
                regex_escape(&p.scrape.service_name),
                regex_escape(&p.scrape.port_name)
            ),
        ));
        "endpoints"
    };
    relabel.push(Relabel::copy(
        "__meta_kubernetes_namespace",
        "kubernetes_namespace",
    ));
    relabel.push(Relabel::copy("__meta_kubernetes_pod_name", "pod"));
    relabel.push(Relabel::set("cluster", &p.openbao.cluster));
    relabel.push(Relabel::set("scrape_profile", p.kind.scrape_label()));
    job.kubernetes_sd_configs = Some([Discovery {
        role,
        namespaces: Namespaces {
            names: [&p.openbao.namespace],
        },
    }]);
    job.relabel_configs = relabel;
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
    let mut job = Job {
        job_name: &s.job,
        scrape_interval: &s.interval,
        scrape_timeout: &s.scrape_timeout,
        metrics_path: "/v1/sys/metrics",
        params: Params {
            format: ["prometheus"],
        },
        scheme: s.scheme(),
        authorization: s.uses_token().then(|| Authorization {
            type_: "Bearer",
            credentials_file: &p.prometheus.token_file,
        }),
        tls_config: s.ca_config_map.as_ref().map(|_| TlsConfig {
            ca_file: &p.prometheus.ca_file,
            server_name: &s.server_name,
        }),
        static_configs: vec![],
        kubernetes_sd_configs: None,
        relabel_configs: vec![],
    };
    if p.demo.is_some() || !p.prometheus.static_targets.is_empty() {
        job.static_configs = static_configs(p);
    } else {
        kubernetes_discovery(p, &mut job);
    }
    let doc = Config {
        global: Global {
            scrape_interval: &s.interval,
            scrape_timeout: &s.scrape_timeout,
            evaluation_interval: &s.interval,
        },
        rule_files: ["rules.yml"],
        scrape_configs: [job],
        alerting: (!p.prometheus.alertmanagers.is_empty()).then(|| Alerting {
            alertmanagers: [StaticTargets {
                static_configs: [Targets {
                    targets: &p.prometheus.alertmanagers,
                }],
            }],
        }),
    };
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
