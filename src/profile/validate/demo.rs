//! The Compose demo's nodes: names, hosts, ports and storage.

use std::collections::BTreeMap;
use std::ops::Range;

use super::super::ctx::Ctx;
use super::super::raw::{self, Sp};
use super::super::rules;
use crate::diag::Code;
use crate::model::{self, Version};

pub(super) fn demo_section(
    cx: &mut Ctx<'_>,
    raw: &raw::Demo,
    version: Version,
    api: &model::ApiListener,
    metrics: Option<&model::MetricsListener>,
) -> model::Demo {
    let openbao_image = cx.image(
        &raw.openbao_image,
        "demo.openbao_image",
        format!("quay.io/openbao/openbao:{version}"),
    );
    let prometheus_image = cx.image(
        &raw.prometheus_image,
        "demo.prometheus_image",
        "prom/prometheus:v2.53.2".into(),
    );
    let grafana_image = cx.image(
        &raw.grafana_image,
        "demo.grafana_image",
        "grafana/grafana:11.3.0".into(),
    );
    if raw.nodes.is_empty() {
        cx.error(
            Code::DemoNoNodes,
            Some(raw.nodes.span()),
            "[demo] lists no nodes",
            "add [[demo.nodes]] entries, e.g. name = \"openbao-node0\"",
        );
    }
    let mut nodes: Vec<model::DemoNode> = Vec::new();
    let mut bound: Vec<(String, u16, String, Range<usize>)> = Vec::new();
    let mut named: BTreeMap<&str, Range<usize>> = BTreeMap::new();
    for n in raw.nodes.get() {
        cx.no_removal(&n.remove, "node");
        cx.check(
            Code::KubernetesName,
            &n.name,
            "demo node name",
            rules::dns_label,
            "Compose service names here are lower-case letters, digits and '-'",
        );
        if let Some(first) = named.insert(n.name.get(), n.name.span()) {
            cx.clash(
                Code::DemoDuplicateNode,
                n.name.span(),
                format!("demo node '{}' is listed twice", n.name.get()),
                first,
                "first listed here",
                "give every node its own name",
            );
            continue;
        }
        let host = match &n.host {
            Some(h) => {
                cx.check(
                    Code::HostName,
                    h,
                    "demo node host",
                    rules::host,
                    "a host name or IP address",
                );
                h.get().clone()
            }
            None => n.name.get().clone(),
        };
        let port = |p: &Option<Sp<u16>>, default: u16| p.as_ref().map_or(default, |p| *p.get());
        let api_port = port(&n.api_port, api.address.port);
        let cluster_port = port(
            &n.cluster_port,
            api.cluster_address
                .as_ref()
                .map_or(api.address.port.wrapping_add(1), |c| c.port),
        );
        let metrics_port = match (metrics, &n.metrics_port) {
            (Some(m), p) => Some(port(p, m.address.port)),
            (None, Some(p)) => {
                cx.error(
                    Code::DemoMetricsPortWithoutListener,
                    Some(p.span()),
                    "demo node sets metrics_port but there is no [listener.metrics]",
                    "remove metrics_port",
                );
                None
            }
            (None, None) => None,
        };
        for (p, what) in [
            (Some(api_port), "API"),
            (Some(cluster_port), "cluster"),
            (metrics_port, "metrics"),
            (
                metrics_port.map(|m| m.wrapping_add(1)),
                "metrics listener's implied cluster",
            ),
        ] {
            let Some(p) = p else { continue };
            if p == 0 {
                cx.error(
                    Code::Address,
                    Some(n.name.span()),
                    format!("demo node '{}' has {what} port 0", n.name.get()),
                    "ports are 1-65535",
                );
            } else if let Some((_, _, other, first)) =
                bound.iter().find(|(h, bp, _, _)| *h == host && *bp == p)
            {
                cx.clash(Code::PortClash, n.name.span(), format!("demo node '{}' binds {what} port {p} on host {host}, already used by {other}", n.name.get()), first.clone(), format!("{other} binds port {p}"), "nodes on the same host need their own ports, with a gap after each listener");
            } else {
                bound.push((
                    host.clone(),
                    p,
                    format!("node '{}' ({what})", n.name.get()),
                    n.name.span(),
                ));
            }
        }
        let raft_path = match &n.raft_path {
            Some(p) => cx.path(p, "demo node raft_path"),
            None => "/openbao/data".into(),
        };
        nodes.push(model::DemoNode {
            name: n.name.get().clone(),
            host,
            api_port,
            cluster_port,
            metrics_port,
            raft_path,
        });
    }
    model::Demo {
        openbao_image,
        prometheus_image,
        prometheus_port: raw.prometheus_port.as_ref().map_or(9090, |p| *p.get()),
        grafana_image,
        grafana_port: raw.grafana_port.as_ref().map_or(3000, |p| *p.get()),
        nodes,
    }
}
