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
    if let Some(r) = &s.token_role {
        d(format!(
            "Scrape tokens are minted from token role {} (bao token create -role={}): orphan, so revoking the operator's token leaves them alive; periodic ({}), so they live as long as they are renewed within it; limited to policy {}{}.",
            r.name,
            r.name,
            r.period,
            s.policy_name,
            if r.bound_cidrs.is_empty() {
                String::new()
            } else {
                format!(" and usable only from {}", r.bound_cidrs.join(", "))
            }
        ));
        match &r.renewal {
            Some(n) => d(format!(
                "CronJob {}/{} renews the token from the Secret Prometheus reads on schedule \"{}\" (at least four times per period) through {}, with no Kubernetes API access; OpenBaoScrapeTokenRenewalStale fires after {}s without a successful run.",
                p.openbao.namespace,
                crate::emit::token::renewal_name(p),
                n.schedule,
                n.address,
                n.alert_after_secs
            )),
            None => d(format!(
                "Nothing renews the scrape token: renew it within {} (bao token renew) or scraping stops with 403 when it expires; [scrape.renewal] emits a CronJob that does.",
                r.period
            )),
        }
    }
    if let Some(seal) = &p.seal {
        d(format!(
            "Auto-unseal with the static seal: every node reads the key from {} (id {}) and unseals itself on start; whoever can read that file can decrypt the storage. The key itself is never in the output.",
            seal.key_file, seal.key_id
        ));
    }
    if let Some(si) = &p.self_init {
        out.push_str(&first_boot(p, si));
    }
    if let Some(e) = &p.engine {
        out.push_str(&engine(p, e));
    }
    out
}

/// Self-initialization: what the first boot does, on which node, and what a failure means.
fn first_boot(p: &Profile, si: &crate::model::SelfInit) -> String {
    use crate::model::{Admin, Source};
    let mut out = String::from("\nSelf-initialization (first start on empty storage only):\n");
    let mut d = |s: String| {
        out.push_str(&format!("- {s}\n"));
    };
    let node = match &p.demo {
        Some(demo) => format!(
            "Only {} runs it; the other nodes join it through retry_join and unseal with the same key (two nodes racing self-init on empty storage is a known OpenBao issue).",
            demo.nodes.first().map_or("the first node", |n| n.name.as_str())
        ),
        None => format!(
            "Only pod {}-0 runs it: the ConfigMap's self-init.hcl is passed with -config on the StatefulSet's first pod alone (server.extraArgs); the others join it (two pods racing self-init on empty storage is a known OpenBao issue).",
            p.openbao.statefulset
        ),
    };
    d(node);
    let source = |s: &Source| match s {
        Source::Env(v) => {
            format!("the environment variable {v}, which must be set on the first start")
        }
        Source::File(f) => format!("the file {f}, which must exist on the first start"),
    };
    match &si.admin {
        Admin::Userpass { username, password, policy } => d(format!(
            "The way in: userpass user {username} with policy {policy} (every capability), its password read from {}. The root token is revoked and no recovery keys exist, so keep that password.",
            source(password)
        )),
        Admin::Token { id, policy } => d(format!(
            "The way in: a token with policy {policy} (every capability, periodic 768h), its id read from {}. The root token is revoked and no recovery keys exist, so keep that id.",
            source(id)
        )),
        Admin::None => d("No way in, on purpose: the root token is revoked, no recovery keys exist and nobody can log in; only storage can be wiped.".into()),
    }
    let mut what = Vec::new();
    if p.scrape.uses_token() {
        what.push(format!("metrics policy {}", p.scrape.policy_name));
    }
    if let Some(r) = &p.scrape.token_role {
        what.push(format!("token role {}", r.name));
    }
    if let Some(e) = &p.engine {
        what.push(format!(
            "the {} engine at {}/, its config, {} role(s) and their consumer policies",
            "Kubernetes secrets",
            e.mount,
            e.roles.len()
        ));
    }
    if !what.is_empty() {
        d(format!(
            "It writes exactly what `baogen apply` writes: {}.",
            what.join(", ")
        ));
    }
    d("If a request fails, the server exits and every later start refuses to unseal until its storage is wiped; baogen has checked every request as it checks `apply`'s, and the tests boot the real server with them.".into());
    d("Later starts skip it; change the configuration afterwards with `baogen plan` and `baogen apply`.".into());
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
