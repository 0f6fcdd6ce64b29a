//! `baogen explain`: what a profile shows and hides, and why each security choice was made.

use crate::model::{Engine, Kind, LabelSelector, MetricsAccess, PolicyRule, Profile, RoleMode};

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
    if let Some(e) = &p.engine {
        out.push_str(&engine(p, e));
    }
    out
}

/// The Kubernetes secrets engine: what each role hands out, where, and the RBAC OpenBao's
/// own service account needs for it.
fn engine(p: &Profile, e: &Engine) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(String::new());
    line(format!(
        "Kubernetes secrets engine at {}/ ({} role{}):",
        e.mount,
        e.roles.len(),
        if e.roles.len() == 1 { "" } else { "s" }
    ));
    for r in &e.roles {
        let (what, kind) = match &r.mode {
            RoleMode::ServiceAccount(sa) => (
                format!("tokens for the existing service account {sa}; OpenBao creates no Kubernetes objects"),
                None,
            ),
            RoleMode::BindRole { name, cluster_role } => {
                let kind = if *cluster_role { "ClusterRole" } else { "Role" };
                (
                    format!("a new service account bound to the existing {kind} {name}"),
                    Some(*cluster_role),
                )
            }
            RoleMode::GenerateRules { rules, cluster_role } => {
                let kind = if *cluster_role { "ClusterRole" } else { "Role" };
                (
                    format!(
                        "a new service account with a generated {kind} of {} rule{}",
                        rules.len(),
                        if rules.len() == 1 { "" } else { "s" }
                    ),
                    Some(*cluster_role),
                )
            }
        };
        let scope = if r.allowed_namespaces.iter().any(|n| n == "*") {
            "in EVERY namespace (allowed_kubernetes_namespaces = [\"*\"])".to_string()
        } else if let Some(sel) = &r.namespace_selector {
            format!(
                "in every namespace labelled {}, now or later",
                selector(sel)
            )
        } else {
            format!(
                "in namespace{} {}",
                if r.allowed_namespaces.len() == 1 {
                    ""
                } else {
                    "s"
                },
                r.allowed_namespaces.join(", ")
            )
        };
        line(format!("- role {}: {what}, {scope}.", r.name));
        if r.cluster_role_binding {
            line("  Consumers may ask for a ClusterRoleBinding: the credentials then act in every namespace, not only the one requested.".into());
        } else if kind == Some(true) {
            line("  The ClusterRole is bound per namespace (a RoleBinding), so it grants only inside the requested namespace.".into());
        }
        if let RoleMode::GenerateRules { rules, .. } = &r.mode {
            for rule in rules {
                line(format!("  {}", rule_text(rule)));
            }
        }
    }
    let (cluster, per_ns) = crate::emit::engine::openbao_rbac(e);
    line(format!(
        "OpenBao's service account {}/{} receives (the engine's RBAC objects):",
        p.openbao.namespace, p.openbao.service_account
    ));
    let mut grant = |scope: &str, rules: &[PolicyRule]| {
        for r in rules {
            line(format!("- {scope}: {}", rule_text(r)));
        }
    };
    if cluster.is_empty() && per_ns.is_empty() {
        grant("nothing", &[]);
    }
    grant("cluster-wide (ClusterRole)", &cluster);
    for (ns, rules) in &per_ns {
        grant(&format!("in namespace {ns} (Role)"), rules);
    }
    out
}

/// `WILDCARD: get, list on pods named a, b`: one RBAC rule, wildcards called out.
fn rule_text(rule: &PolicyRule) -> String {
    let list = |v: &Option<Vec<String>>| v.as_deref().unwrap_or_default().join(", ");
    let wide = rule
        .verbs
        .iter()
        .chain(rule.resources.iter().flatten())
        .any(|v| v == "*" || v.ends_with("/*"));
    format!(
        "{}{} on {}{}",
        if wide { "WILDCARD: " } else { "" },
        rule.verbs.join(", "),
        match &rule.non_resource_urls {
            Some(urls) => urls.join(", "),
            None => list(&rule.resources),
        },
        match &rule.resource_names {
            Some(names) => format!(" named {}", names.join(", ")),
            None => String::new(),
        },
    )
}

/// `stage=prod, team In (a, b)`: a selector as `kubectl get -l` writes it.
fn selector(s: &LabelSelector) -> String {
    let labels = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"));
    let expressions = s
        .match_expressions
        .iter()
        .flatten()
        .map(|e| match &e.values {
            Some(values) => format!("{} {} ({})", e.key, e.operator, values.join(", ")),
            None => format!("{} {}", e.key, e.operator),
        });
    labels.chain(expressions).collect::<Vec<_>>().join(", ")
}
