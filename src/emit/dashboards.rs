//! The Grafana dashboard: one panel per recording rule this profile's scrape feeds (Raft and
//! per-node rows only where every node is scraped), each querying the recorded series of the
//! chosen `cluster`. Shipped as a ConfigMap for the Grafana sidecar in Kubernetes, and as a
//! provisioned dashboard with a Grafana service in the demo.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::{json, Value};

use super::recording::{visible, Row};
use crate::model::{Grafana, Profile};

/// The dashboard's Grafana schema version (Grafana 11).
const SCHEMA_VERSION: u32 = 39;
/// The Compose demo's Prometheus data source, provisioned with this uid.
pub(super) const DEMO_DATASOURCE_UID: &str = "prometheus";

pub(crate) fn title(p: &Profile) -> String {
    format!("OpenBao ({} scrape)", p.kind.as_str())
}

/// Unique per OpenBao namespace and profile kind, within Grafana's 40 characters.
fn uid(p: &Profile) -> String {
    let mut uid = format!("baogen-{}-{}", p.kind.as_str(), p.openbao.namespace);
    uid.truncate(40);
    uid
}

pub(crate) fn file_name(p: &Profile) -> String {
    format!("openbao-{}.json", p.kind.as_str())
}

pub(crate) fn config_map_name(p: &Profile) -> String {
    format!("{}-openbao-dashboard", p.openbao.namespace)
}

/// Which labels a panel's lines are told apart by, from the rule's own grouping.
fn legend(expr: &str) -> &'static str {
    if expr.contains("peer_id)") {
        "{{peer_id}}"
    } else if expr.contains("instance)") {
        "{{instance}}"
    } else {
        "{{cluster}}"
    }
}

// The dashboard model's fields as Grafana's schema names them (tests/real/dashboards.rs checks
// the result against `@grafana/schema`). Typed, so one render builds no JSON tree.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dashboard {
    uid: String,
    title: String,
    description: String,
    tags: [&'static str; 2],
    editable: bool,
    schema_version: u32,
    time: TimeRange,
    refresh: &'static str,
    templating: Templating,
    panels: Vec<Panel>,
}

#[derive(Serialize)]
struct TimeRange {
    from: &'static str,
    to: &'static str,
}

#[derive(Serialize)]
struct Templating {
    list: [Variable; 2],
}

#[derive(Serialize)]
struct Variable {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
    label: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    datasource: Option<DataSource>,
    query: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sort: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<Current>,
}

#[derive(Serialize)]
struct Current {
    text: String,
    value: String,
}

#[derive(Serialize, Clone, Copy)]
struct DataSource {
    #[serde(rename = "type")]
    kind: &'static str,
    uid: &'static str,
}

/// The `datasource` variable's value: every panel and query uses it.
const DATASOURCE: DataSource = DataSource {
    kind: "prometheus",
    uid: "${datasource}",
};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GridPos {
    h: usize,
    w: usize,
    x: usize,
    y: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
enum Panel {
    #[serde(rename = "row")]
    Row {
        id: usize,
        title: &'static str,
        collapsed: bool,
        #[serde(rename = "gridPos")]
        grid_pos: GridPos,
        panels: [(); 0],
    },
    #[serde(rename = "timeseries")]
    Timeseries {
        id: usize,
        title: &'static str,
        description: String,
        datasource: DataSource,
        #[serde(rename = "gridPos")]
        grid_pos: GridPos,
        #[serde(rename = "fieldConfig")]
        field_config: FieldConfig,
        targets: [Target; 1],
    },
}

#[derive(Serialize)]
struct FieldConfig {
    defaults: FieldDefaults,
    overrides: [(); 0],
}

#[derive(Serialize)]
struct FieldDefaults {
    unit: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    ref_id: &'static str,
    datasource: DataSource,
    expr: String,
    legend_format: &'static str,
}

fn dashboard(p: &Profile) -> Dashboard {
    let every_node = p.kind.scrapes_every_node();
    let rows: &[(Row, &str)] = &[
        (Row::Cluster, "Cluster"),
        (Row::Raft, "Raft and autopilot"),
        (Row::Nodes, "Nodes"),
    ];
    let mut panels = Vec::new();
    let mut id = 0;
    let mut y = 0;
    for &(row, row_title) in rows {
        if row != Row::Cluster && !every_node {
            continue;
        }
        let rules: Vec<_> = visible(p).filter(|r| r.panel.row == row).collect();
        if rules.is_empty() {
            continue;
        }
        id += 1;
        panels.push(Panel::Row {
            id,
            title: row_title,
            collapsed: false,
            grid_pos: GridPos {
                h: 1,
                w: 24,
                x: 0,
                y,
            },
            panels: [],
        });
        y += 1;
        for (i, r) in rules.iter().enumerate() {
            id += 1;
            panels.push(Panel::Timeseries {
                id,
                title: r.panel.title,
                description: format!("Recording rule {}.", r.record),
                datasource: DATASOURCE,
                grid_pos: GridPos {
                    h: 8,
                    w: 8,
                    x: (i % 3) * 8,
                    y: y + (i / 3) * 8,
                },
                field_config: FieldConfig {
                    defaults: FieldDefaults { unit: r.panel.unit },
                    overrides: [],
                },
                targets: [Target {
                    ref_id: "A",
                    datasource: DATASOURCE,
                    expr: format!("{}{{cluster=\"$cluster\"}}", r.record),
                    legend_format: legend(r.expr),
                }],
            });
        }
        y += rules.len().div_ceil(3) * 8;
    }
    Dashboard {
        uid: uid(p),
        title: title(p),
        description: format!(
            "Generated by baogen: the recording rules of the {} scrape profile, one panel each.",
            p.kind.as_str()
        ),
        tags: ["openbao", "baogen"],
        editable: false,
        schema_version: SCHEMA_VERSION,
        time: TimeRange {
            from: "now-1h",
            to: "now",
        },
        refresh: "30s",
        templating: Templating {
            list: [
                // Which Prometheus the panels query: Grafana's default unless the demo
                // provisioned its own.
                Variable {
                    kind: "datasource",
                    name: "datasource",
                    label: "Data source",
                    datasource: None,
                    query: "prometheus",
                    refresh: None,
                    sort: None,
                    current: p.demo.is_some().then(|| Current {
                        text: "Prometheus".into(),
                        value: DEMO_DATASOURCE_UID.into(),
                    }),
                },
                Variable {
                    kind: "query",
                    name: "cluster",
                    label: "Cluster",
                    datasource: Some(DATASOURCE),
                    query: "label_values(openbao:targets_up:sum, cluster)",
                    refresh: Some(2),
                    sort: Some(1),
                    current: Some(Current {
                        text: p.openbao.cluster.clone(),
                        value: p.openbao.cluster.clone(),
                    }),
                },
            ],
        },
        panels,
    }
}

/// The JSON text both deliveries carry, byte for byte.
pub(crate) fn text(p: &Profile) -> String {
    let mut text = serde_json::to_string_pretty(&dashboard(p)).expect("plain data serializes");
    text.push('\n');
    text
}

/// The ConfigMap the Grafana sidecar loads (its label, Grafana's namespace).
pub(super) fn config_map(p: &Profile, g: &Grafana, text: &str) -> ConfigMap {
    let mut labels = g.sidecar_labels.clone();
    labels.insert("baogen.dev/profile".into(), p.kind.as_str().into());
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(config_map_name(p)),
            namespace: Some(g.namespace.clone()),
            labels: Some(labels),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(file_name(p), text.to_string())])),
        ..Default::default()
    }
}

/// The demo Grafana's provisioning: Prometheus as the data source, the dashboard from a folder.
pub(super) fn demo_provisioning() -> (Value, Value) {
    let datasources = json!({
        "apiVersion": 1,
        "datasources": [{
            "name": "Prometheus", "type": "prometheus", "uid": DEMO_DATASOURCE_UID,
            "access": "proxy", "url": "http://prometheus:9090", "isDefault": true,
        }],
    });
    let dashboards = json!({
        "apiVersion": 1,
        "providers": [{
            "name": "baogen", "type": "file", "disableDeletion": true, "allowUiUpdates": false,
            "options": {"path": "/var/lib/grafana/dashboards"},
        }],
    });
    (datasources, dashboards)
}
