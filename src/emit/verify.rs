//! VERIFY.md: the how-to's verification and troubleshooting steps with this profile's names.

use std::sync::OnceLock;

use minijinja::{context, Environment};

use super::alerts::Rule;
use crate::model::{Kind, Profile};

const TEMPLATE: &str = include_str!("../../templates/VERIFY.md.j2");

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_template("VERIFY.md", TEMPLATE)
            .expect("the VERIFY.md template parses");
        env
    })
}

/// What the profile can and cannot see: the caveat column of the how-to.
pub fn caveat(kind: Kind) -> &'static str {
    match kind {
        Kind::Active => "the active node only, over TLS with a scoped token. Standby and sealed nodes are not visible: a sealed or missing active node shows up as `up == 0` (OpenBaoUnreachable).",
        Kind::AllNode => "every OpenBao pod, standby, sealed and not-ready ones included. It requires strict network isolation: the NetworkPolicy lets only Prometheus reach the metrics port.",
        Kind::Demo => "every Compose node, without authentication. Not for production or shared environments.",
    }
}

/// `text` as a Markdown code span that nothing in it can close early: fenced by one backtick
/// more than its longest run, padded with spaces where CommonMark would otherwise eat or join
/// an edge.
fn code_span(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with(['`', ' ']) || text.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A Secret or ConfigMap key as a kubectl JSONPath member (`ca.crt` → `ca\.crt`).
fn jsonpath_key(key: &str) -> String {
    key.replace('.', "\\.")
}

pub(super) fn render(p: &Profile, rules: &[Rule]) -> String {
    let s = &p.scrape;
    let first = p.demo.as_ref().and_then(|d| d.nodes.first());
    let key = |r: &crate::model::KeyRef| context! { name => &r.name, key => &r.key };
    let monitor_labels = p
        .prometheus
        .monitor_labels
        .iter()
        .map(|(k, v)| format!("`{k}: {v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let ctx = context! {
        kind => p.kind.as_str(),
        profile_file => code_span(&p.path.file_name().map_or_else(|| "profile".into(), |f| f.to_string_lossy())),
        caveat => caveat(p.kind),
        namespace => &p.openbao.namespace,
        service_account => &p.openbao.service_account,
        service => &s.service_name,
        job => &s.job,
        prefix => p.telemetry.prefix(),
        policy_name => &s.policy_name,
        self_init => p.self_init.is_some(),
        admin_user => p.self_init.as_ref().and_then(|si| match &si.admin {
            crate::model::Admin::Userpass { username, .. } => Some(username.clone()),
            _ => None,
        }),
        admin_file => p.self_init.as_ref().and_then(|si| match &si.admin {
            crate::model::Admin::Userpass { password: crate::model::Source::File(f), .. } => Some(f.clone()),
            _ => None,
        }),
        token_role => s.token_role.as_ref().map(|r| r.name.clone()),
        token_period => s.token_role.as_ref().map(|r| r.period.clone()),
        renewal => s.token_role.as_ref().and_then(|r| r.renewal.as_ref()).map(|_| format!("{}/{}", p.openbao.namespace, crate::emit::token::renewal_name(p))),
        renewal_schedule => s.token_role.as_ref().and_then(|r| r.renewal.as_ref()).map(|n| format!("on schedule `{}`", n.schedule)),
        token => s.token_secret.as_ref().map(key),
        ca => s.ca_config_map.as_ref().map(key),
        scheme => s.scheme(),
        server_name => &s.server_name,
        port => s.port,
        monitor_kind => if p.kind == Kind::AllNode { "PodMonitor" } else { "ServiceMonitor" },
        monitor_labels => if monitor_labels.is_empty() { "none set".to_string() } else { monitor_labels },
        nodes => p.demo.as_ref().map(|d| d.nodes.iter().map(|n| context! { name => &n.name }).collect::<Vec<_>>()),
        first_node => first.map(|n| n.name.clone()),
        first_port => first.map(|n| n.scrape_port()),
        prometheus_port => p.demo.as_ref().map(|d| d.prometheus_port),
        prometheus_namespace => &p.prometheus.namespace,
        // The active Service's one pod; for all-node, the first pod (any pod answers for itself).
        forward_target => if p.kind == Kind::Active { format!("svc/{}", s.service_name) } else { format!("pod/{}-0", p.openbao.statefulset) },
        token_path => s.token_secret.as_ref().map(|t| jsonpath_key(&t.key)),
        ca_path => s.ca_config_map.as_ref().map(|c| jsonpath_key(&c.key)),
        cluster => &p.openbao.cluster,
        grafana => p.grafana.as_ref().map(|g| context! {
            namespace => &g.namespace,
            labels => g.sidecar_labels.iter().map(|(k, v)| format!("`{k}: {v}`")).collect::<Vec<_>>().join(", "),
        }),
        grafana_port => p.demo.as_ref().map(|d| d.grafana_port),
        dashboard_title => super::dashboards::title(p),
        dashboard_config_map => super::dashboards::config_map_name(p),
        alerts => rules.iter().map(|r| context! {
            name => r.alert,
            severity => &r.labels["severity"],
            for => &r.for_,
            summary => &r.annotations["summary"],
            means => r.runbook.means,
            check => &r.runbook.check,
        }).collect::<Vec<_>>(),
    };
    let mut text = environment()
        .get_template("VERIFY.md")
        .and_then(|t| t.render(ctx))
        .expect("the VERIFY.md template renders with every profile");
    // minijinja drops the template's final newline.
    text.push('\n');
    text
}
