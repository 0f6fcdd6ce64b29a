//! `baogen explain`: what a profile shows and hides, and why each security choice was made.

use crate::model::{Kind, MetricsAccess, Profile};

pub fn explain(p: &Profile) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    let s = &p.scrape;
    line(format!("profile {} ({})", p.name, p.kind.as_str()));
    line(format!("targets OpenBao {}", p.openbao_version));
    line(String::new());
    line(format!("Shows and hides: {}", crate::emit::caveat(p.kind)));
    line(String::new());
    line("Security decisions:".into());
    let mut d = |s: String| line(format!("- {s}"));
    match &p.api_listener.tls {
        Some(_) => d(
            "TLS on every listener: tokens and metrics never cross the network in clear text."
                .into(),
        ),
        None => d("TLS is off (demo only): every node is on the local Compose network.".into()),
    }
    match (&p.metrics_listener, p.api_listener.metrics) {
        (Some(m), _) => {
            d(format!("Metrics are served by a metrics-only listener on port {}, which answers nothing else (404 for other paths).", m.address.port));
            d("The client listener sets disallow_metrics = true, so scrape traffic and client traffic never share a port.".into());
        }
        (None, MetricsAccess::Token) => d(format!("Metrics are read from the client listener on port {}, with unauthenticated_metrics_access = false.", p.api_listener.address.port)),
        (None, _) => d("Metrics are read from the client listener without a token (demo only).".into()),
    }
    match &s.token_secret {
        Some(t) => d(format!(
            "Prometheus sends a Bearer token from Secret {}/{} (key {}); the token carries only policy {} (read and list on sys/metrics). baogen never sees the token.",
            p.openbao.namespace, t.name, t.key, s.policy_name
        )),
        None => d("Metrics need no token: anyone who can reach the port can read them.".into()),
    }
    if let Some(ca) = &s.ca_config_map {
        d(format!("Prometheus verifies OpenBao's certificate against ConfigMap {} (key {}) and server name {}; insecureSkipVerify is never emitted.", ca.name, ca.key, s.server_name));
    }
    if p.prometheus.network_policy {
        d(format!(
            "A NetworkPolicy lets only pods labelled {:?} in namespace {} reach port {}; the API and cluster ports stay open.",
            p.prometheus.pod_labels, p.prometheus.namespace, s.port
        ));
    }
    match p.kind {
        Kind::Active => d("The Service selects only the pod labelled openbao-active=\"true\" by Kubernetes service registration, whose RBAC (get, update, patch pods) is emitted.".into()),
        Kind::AllNode => d("The headless Service publishes not-ready addresses and the PodMonitor scrapes every pod, so sealed and standby nodes are visible.".into()),
        Kind::Demo => d("Not for production or shared environments: no authentication, no TLS verification by a cluster CA.".into()),
    }
    out
}
