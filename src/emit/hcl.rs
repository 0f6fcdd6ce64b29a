//! OpenBao server configuration and policies, built as typed HCL bodies (never string
//! templates), so any value is escaped and the output always parses back.

use hcl::{Block, Body, Expression};

use crate::model::{
    ApiListener, Audit, DemoNode, MetricsAccess, MetricsListener, Profile, Seal, Tls,
};

fn telemetry(p: &Profile) -> Block {
    let mut b = Block::builder("telemetry")
        .add_attribute((
            "prometheus_retention_time",
            p.telemetry.prometheus_retention_time.clone(),
        ))
        .add_attribute(("disable_hostname", p.telemetry.disable_hostname));
    if let Some(prefix) = &p.telemetry.metrics_prefix {
        b = b.add_attribute(("metrics_prefix", prefix.clone()));
    }
    b.build()
}

fn tls_attrs(b: hcl::BlockBuilder, tls: Option<&Tls>) -> hcl::BlockBuilder {
    match tls {
        Some(t) => b
            .add_attribute(("tls_cert_file", t.cert_file.clone()))
            .add_attribute(("tls_key_file", t.key_file.clone())),
        None => b.add_attribute(("tls_disable", true)),
    }
}

/// The client listener. `address`/`cluster_address` are passed in so demo nodes can bind
/// their own ports.
fn api_listener(l: &ApiListener, address: String, cluster_address: Option<String>) -> Block {
    let mut b = Block::builder("listener")
        .add_label("tcp")
        .add_attribute(("address", address));
    if let Some(c) = cluster_address {
        b = b.add_attribute(("cluster_address", c));
    }
    b = tls_attrs(b, l.tls.as_ref());
    let telemetry = match l.metrics {
        MetricsAccess::Disallowed => Block::builder("telemetry")
            .add_attribute(("disallow_metrics", true))
            .build(),
        MetricsAccess::Token => Block::builder("telemetry")
            .add_attribute(("unauthenticated_metrics_access", false))
            .build(),
        MetricsAccess::Unauthenticated => Block::builder("telemetry")
            .add_attribute(("unauthenticated_metrics_access", true))
            .build(),
    };
    b.add_block(telemetry).build()
}

fn metrics_listener(m: &MetricsListener, address: String) -> Block {
    let b = Block::builder("listener")
        .add_label("tcp")
        .add_attribute(("address", address));
    tls_attrs(b, m.tls.as_ref())
        .add_block(
            Block::builder("telemetry")
                .add_attribute(("metrics_only", true))
                .add_attribute((
                    "unauthenticated_metrics_access",
                    m.metrics == MetricsAccess::Unauthenticated,
                ))
                .build(),
        )
        .build()
}

fn listeners(p: &Profile) -> Vec<Block> {
    let api = &p.api_listener;
    let mut out = vec![api_listener(
        api,
        api.address.to_string(),
        api.cluster_address.as_ref().map(ToString::to_string),
    )];
    if let Some(m) = &p.metrics_listener {
        out.push(metrics_listener(m, m.address.to_string()));
    }
    out
}

/// HCL as OpenBao's docs write it: blank lines between blocks, `["read", "list"]` on one line.
pub(super) fn format(body: &Body) -> String {
    use hcl::format::{Format, Formatter};
    let mut buf = Vec::new();
    let mut f = Formatter::builder().compact_arrays(true).build(&mut buf);
    body.format(&mut f)
        .expect("a typed HCL body always formats");
    String::from_utf8(buf).expect("HCL output is UTF-8")
}

/// `seal "static"`: the key's path and id, never the key.
fn seal(s: &Seal) -> Block {
    Block::builder("seal")
        .add_label("static")
        .add_attribute(("current_key_id", s.key_id.clone()))
        .add_attribute(("current_key", format!("file://{}", s.key_file)))
        .build()
}

/// `audit "file" "PATH"`: created by the active node when it unseals (and on SIGHUP), the
/// only way current OpenBao creates an audit device.
fn audit(a: &Audit) -> Block {
    Block::builder("audit")
        .add_label("file")
        .add_label(a.path.clone())
        .add_block(
            Block::builder("options")
                .add_attribute(("file_path", a.file.clone()))
                .build(),
        )
        .build()
}

/// The `telemetry`, `listener`, `seal`, `audit` and `service_registration` stanzas for the
/// server config.
pub fn server(p: &Profile) -> String {
    let mut body = Body::builder()
        .add_block(telemetry(p))
        .add_blocks(listeners(p))
        .add_blocks(p.seal.as_ref().map(seal))
        .add_blocks(p.audit.as_ref().map(audit));
    if p.kind != crate::model::Kind::Demo {
        // Namespace and pod name come from BAO_K8S_NAMESPACE / BAO_K8S_POD_NAME (Downward API).
        body = body.add_block(
            Block::builder("service_registration")
                .add_label("kubernetes")
                .build(),
        );
    }
    format(&body.build())
}

/// One demo node's complete config: raft storage joined to the other nodes, listeners on the
/// node's own ports, and telemetry.
pub fn demo_node(p: &Profile, node: &DemoNode, peers: &[&DemoNode]) -> String {
    let tls = p.api_listener.tls.is_some();
    let mut raft = Block::builder("storage")
        .add_label("raft")
        .add_attribute(("path", node.raft_path.clone()))
        .add_attribute(("node_id", node.name.clone()))
        // Elections in about 2 s instead of 10: the demo is for quick feedback.
        .add_attribute(("performance_multiplier", 1));
    for peer in peers {
        raft = raft.add_block(
            Block::builder("retry_join")
                .add_attribute((
                    "leader_api_addr",
                    format!("{}://{}:{}", peer.scheme(tls), peer.host, peer.api_port),
                ))
                .build(),
        );
    }
    let bind = |port: u16| format!("{}:{port}", p.api_listener.address.host);
    let api = api_listener(
        &p.api_listener,
        bind(node.api_port),
        Some(bind(node.cluster_port)),
    );
    let mut body = Body::builder()
        .add_attribute((
            "api_addr",
            format!("{}://{}:{}", node.scheme(tls), node.host, node.api_port),
        ))
        .add_attribute((
            "cluster_addr",
            format!("https://{}:{}", node.host, node.cluster_port),
        ))
        .add_block(raft.build())
        .add_block(telemetry(p))
        .add_block(api);
    if let (Some(m), Some(port)) = (&p.metrics_listener, node.metrics_port) {
        body = body.add_block(metrics_listener(m, format!("{}:{port}", m.address.host)));
    }
    body = body
        .add_blocks(p.seal.as_ref().map(seal))
        .add_blocks(p.audit.as_ref().map(audit));
    format(&body.build())
}

/// The metrics policy: read and list on `sys/metrics`, nothing else.
pub fn metrics_policy() -> String {
    policy(&[("sys/metrics", &["read", "list"])])
}

/// A policy with one `path` block per entry.
pub fn policy(paths: &[(&str, &[&str])]) -> String {
    let body = Body::builder()
        .add_blocks(paths.iter().map(|(path, caps)| {
            Block::builder("path")
                .add_label(*path)
                .add_attribute((
                    "capabilities",
                    Expression::Array(caps.iter().map(|c| Expression::from(*c)).collect()),
                ))
                .build()
        }))
        .build();
    format(&body)
}
