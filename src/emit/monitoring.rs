//! Prometheus Operator objects as typed structs: ServiceMonitor (active), PodMonitor
//! (all-node) and PrometheusRule. Field names follow the v0.93 CRDs under `schemas/crds/`;
//! a test validates every emitted object against them with unknown fields rejected.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Kind, Labels, Profile};

const API_VERSION: &str = "monitoring.coreos.com/v1";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Object<S> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub spec: S,
}

#[derive(Serialize)]
pub(super) struct Metadata {
    pub name: String,
    pub namespace: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: Labels,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ServiceMonitorSpec {
    pub job_label: String,
    pub namespace_selector: NamespaceSelector,
    pub selector: Selector,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PodMonitorSpec {
    pub namespace_selector: NamespaceSelector,
    pub selector: Selector,
    pub pod_metrics_endpoints: Vec<Endpoint>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NamespaceSelector {
    pub match_names: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Selector {
    pub match_labels: Labels,
}

/// One scrape endpoint; `port` for a ServiceMonitor, `port_number` for a PodMonitor.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Endpoint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_number: Option<u16>,
    pub scheme: &'static str,
    pub path: &'static str,
    pub params: BTreeMap<&'static str, Vec<&'static str>>,
    pub interval: String,
    pub scrape_timeout: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    pub relabelings: Vec<Relabeling>,
}

#[derive(Serialize)]
pub(super) struct Authorization {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub credentials: KeySelector,
}

#[derive(Serialize)]
pub(super) struct KeySelector {
    pub name: String,
    pub key: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TlsConfig {
    pub ca: ConfigMapSource,
    pub server_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConfigMapSource {
    pub config_map: KeySelector,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Relabeling {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_labels: Vec<&'static str>,
    pub target_label: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    pub action: &'static str,
}

impl Relabeling {
    fn copy(from: &'static str, to: &'static str) -> Self {
        Relabeling {
            source_labels: vec![from],
            target_label: to,
            replacement: None,
            action: "replace",
        }
    }
    fn set(to: &'static str, value: &str) -> Self {
        Relabeling {
            source_labels: vec![],
            target_label: to,
            replacement: Some(value.to_string()),
            action: "replace",
        }
    }
}

/// A PrometheusRule up to its `spec`, which is the text of `rules.yml` nested (the rule groups
/// are serialized once for both).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleHead {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
}

fn metadata(p: &Profile, name: &str) -> Metadata {
    let mut labels = p.prometheus.monitor_labels.clone();
    labels.insert("app.kubernetes.io/name".into(), p.scrape.job.clone());
    labels.insert("baogen.dev/profile".into(), p.kind.as_str().into());
    Metadata {
        name: name.to_string(),
        namespace: p.openbao.namespace.clone(),
        labels,
    }
}

fn endpoint(p: &Profile) -> Endpoint {
    let s = &p.scrape;
    let mut relabelings = vec![
        Relabeling::set("cluster", &p.openbao.cluster),
        Relabeling::copy("__meta_kubernetes_namespace", "kubernetes_namespace"),
        Relabeling::copy("__meta_kubernetes_pod_name", "pod"),
    ];
    if p.kind == Kind::AllNode {
        // The PodMonitor's default job is `<namespace>/<name>`; the how-to queries job="openbao".
        relabelings.push(Relabeling::set("job", &s.job));
        relabelings.push(Relabeling::copy("__meta_kubernetes_pod_name", "node"));
    }
    relabelings.push(Relabeling::set("scrape_profile", p.kind.scrape_label()));
    Endpoint {
        port: None,
        port_number: None,
        scheme: s.scheme(),
        path: "/v1/sys/metrics",
        params: BTreeMap::from([("format", vec!["prometheus"])]),
        interval: s.interval.clone(),
        scrape_timeout: s.scrape_timeout.clone(),
        authorization: s.token_secret.as_ref().map(|t| Authorization {
            type_: "Bearer",
            credentials: KeySelector {
                name: t.name.clone(),
                key: t.key.clone(),
            },
        }),
        tls_config: s.ca_config_map.as_ref().map(|c| TlsConfig {
            ca: ConfigMapSource {
                config_map: KeySelector {
                    name: c.name.clone(),
                    key: c.key.clone(),
                },
            },
            server_name: s.server_name.clone(),
        }),
        relabelings,
    }
}

/// The Service labels the ServiceMonitor selects: `app.kubernetes.io/name` doubles as the job
/// label (`jobLabel`), which is what makes `up{job="openbao"}` match.
pub(super) fn service_labels(p: &Profile) -> Labels {
    Labels::from([
        ("app.kubernetes.io/name".to_string(), p.scrape.job.clone()),
        (
            "baogen.dev/profile".to_string(),
            p.kind.as_str().to_string(),
        ),
    ])
}

pub(super) fn service_monitor(p: &Profile) -> Object<ServiceMonitorSpec> {
    let mut ep = endpoint(p);
    ep.port = Some(p.scrape.port_name.clone());
    Object {
        api_version: API_VERSION,
        kind: "ServiceMonitor",
        metadata: metadata(p, &p.scrape.service_name),
        spec: ServiceMonitorSpec {
            job_label: "app.kubernetes.io/name".into(),
            namespace_selector: NamespaceSelector {
                match_names: vec![p.openbao.namespace.clone()],
            },
            selector: Selector {
                match_labels: service_labels(p),
            },
            endpoints: vec![ep],
        },
    }
}

pub(super) fn pod_monitor(p: &Profile) -> Object<PodMonitorSpec> {
    let mut ep = endpoint(p);
    // By number: the OpenBao chart may already name this container port (`*-rep`).
    ep.port_number = Some(p.scrape.port);
    Object {
        api_version: API_VERSION,
        kind: "PodMonitor",
        metadata: metadata(p, &p.scrape.service_name),
        spec: PodMonitorSpec {
            namespace_selector: NamespaceSelector {
                match_names: vec![p.openbao.namespace.clone()],
            },
            selector: Selector {
                match_labels: p.openbao.pod_labels.clone(),
            },
            pod_metrics_endpoints: vec![ep],
        },
    }
}

/// The PrometheusRule as YAML text; `rule_file` is `rules.yml` without its header comment.
pub(super) fn prometheus_rule(p: &Profile, rule_file: &str) -> String {
    let head = RuleHead {
        api_version: API_VERSION,
        kind: "PrometheusRule",
        metadata: metadata(p, "openbao-metrics-alerts"),
    };
    let mut text = crate::yaml::to_string(&head);
    text.push_str(&crate::yaml::nest("spec", rule_file));
    text
}
