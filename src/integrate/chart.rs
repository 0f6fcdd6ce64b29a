//! What the Helm post-renderer checks in a chart's render before it adds anything: that the
//! profile's StatefulSet is there, that its pods carry the labels the profile's Service and
//! PodMonitor select, and that the chart does not scrape OpenBao a second time. Each refusal
//! names the values.yaml key or profile key that fixes it.

use serde_json::Value;

use super::{Error, Identity};
use crate::model::Profile;

/// Where OpenBao serves metrics: a monitor scraping it is an OpenBao scrape.
const METRICS_PATH: &str = "/v1/sys/metrics";

/// Check the chart's objects against the profile; `sts` is the index of the profile's
/// StatefulSet when it was found.
pub fn check(p: &Profile, objects: &[&Value], sts: Option<usize>) -> Result<(), Error> {
    let Some(at) = sts else {
        let found: Vec<String> = objects
            .iter()
            .map(|v| Identity::of(v))
            .filter(|id| id.kind == "StatefulSet")
            .map(|id| {
                format!(
                    "{}/{}",
                    id.namespace.as_deref().unwrap_or("(no namespace)"),
                    id.name
                )
            })
            .collect();
        let found = if found.is_empty() {
            "none".to_string()
        } else {
            found.join(", ")
        };
        return Err(Error::Message(format!(
            "the chart's render has no StatefulSet {}/{} (StatefulSets found: {found}), so baogen's Service would select no pod. Set openbao.statefulset and openbao.namespace in the profile to the chart's StatefulSet (the official chart names it after the release: `helm template openbao ...` makes `openbao`), or render the release into the profile's namespace with --namespace",
            p.openbao.namespace, p.openbao.statefulset
        )));
    };
    pod_labels(p, objects[at])?;
    second_scrape(objects)
}

/// The pod template must carry every label the profile selects OpenBao pods by.
fn pod_labels(p: &Profile, sts: &Value) -> Result<(), Error> {
    let labels = sts.pointer("/spec/template/metadata/labels");
    let missing: Vec<String> = p
        .openbao
        .pod_labels
        .iter()
        .filter(|(k, v)| {
            labels
                .and_then(|l| l.get(k.as_str()))
                .and_then(Value::as_str)
                != Some(v.as_str())
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let have: Vec<String> = labels
        .and_then(Value::as_object)
        .map(|l| {
            l.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?")))
                .collect()
        })
        .unwrap_or_default();
    Err(Error::Message(format!(
        "the pods of StatefulSet {}/{} lack the label{} {} that baogen's Service and monitors select (the pod template has: {}). Set openbao.pod_labels in the profile to labels the chart sets, or add the missing ones with server.extraLabels in values.yaml",
        p.openbao.namespace,
        p.openbao.statefulset,
        if missing.len() == 1 { "" } else { "s" },
        missing.join(", "),
        if have.is_empty() { "none".into() } else { have.join(", ") }
    )))
}

/// The chart's own ServiceMonitor or PodMonitor would scrape OpenBao a second time, outside
/// the profile's authentication and TLS (the official chart's skips TLS verification).
fn second_scrape(objects: &[&Value]) -> Result<(), Error> {
    for v in objects {
        let id = Identity::of(v);
        let endpoints = match id.kind.as_str() {
            "ServiceMonitor" => "/spec/endpoints",
            "PodMonitor" => "/spec/podMetricsEndpoints",
            _ => continue,
        };
        let scrapes_openbao = v
            .pointer(endpoints)
            .and_then(Value::as_array)
            .is_some_and(|eps| {
                eps.iter()
                    .any(|e| e.get("path").and_then(Value::as_str) == Some(METRICS_PATH))
            });
        if scrapes_openbao {
            return Err(Error::Message(format!(
                "the chart renders its own {id}, a second scrape of OpenBao's metrics beside baogen's (with the chart's own TLS and authentication settings). Set serverTelemetry.serviceMonitor.enabled=false in values.yaml"
            )));
        }
    }
    Ok(())
}
