//! Alert rules, tied to what each profile can see. One list feeds both the PrometheusRule and
//! the plain `rules.yml`, so they can never disagree.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Kind, Profile};

#[derive(Debug, Clone, Serialize)]
pub(super) struct Rule {
    pub alert: &'static str,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: String,
    pub labels: BTreeMap<&'static str, &'static str>,
    pub annotations: BTreeMap<&'static str, String>,
}

fn rule(
    p: &Profile,
    alert: &'static str,
    expr: String,
    severity: &'static str,
    summary: &str,
    description: String,
) -> Rule {
    Rule {
        alert,
        expr,
        for_: p.prometheus.alert_for.clone(),
        labels: BTreeMap::from([("severity", severity)]),
        annotations: BTreeMap::from([
            ("summary", summary.to_string()),
            ("description", description),
        ]),
    }
}

pub(super) fn rules(p: &Profile) -> Vec<Rule> {
    let job = &p.scrape.job;
    let m = p.telemetry.prefix();
    let sel = format!("{{job=\"{job}\"}}");
    let mut out = vec![rule(
        p,
        "OpenBaoUnreachable",
        format!("(up{sel} == 0) or absent(up{sel})"),
        "critical",
        "Prometheus cannot scrape OpenBao metrics",
        "The scrape target is down or missing: check the token, the CA and serverName, and that the target has endpoints (see VERIFY.md).".into(),
    )];
    out.push(rule(
        p,
        "OpenBaoNoActiveNode",
        format!("sum({m}_core_active{sel}) == 0"),
        "critical",
        "No OpenBao node reports itself active",
        "OpenBao answers but no node is active: the cluster cannot serve requests.".into(),
    ));
    if p.kind != Kind::Active {
        // Only a scrape of every node can see standbys and sealed nodes; the active Service
        // shows one pod, and a sealed active node just drops out (503, up == 0).
        out.push(rule(
            p,
            "OpenBaoMultipleActiveNodes",
            format!("sum({m}_core_active{sel}) > 1"),
            "critical",
            "More than one OpenBao node reports itself active",
            "Several nodes claim to be active: check Raft health and network partitions.".into(),
        ));
        out.push(rule(
            p,
            "OpenBaoSealed",
            // OpenBao keeps the `{m}_core_unsealed 0` it gauged while sealed, before it knew its
            // cluster name, for prometheus_retention_time after unsealing, next to the live
            // series labelled with the name (`exported_cluster` once the scrape sets `cluster`):
            // a plain `== 0` fires on every healthy node after a restart. Measured on 2.7.2.
            format!("max without (exported_cluster) ({m}_core_unsealed{sel}) == 0"),
            "critical",
            "An OpenBao node is sealed",
            format!("{{{{ $labels.instance }}}} reports {m}_core_unsealed 0. Unseal it: a sealed node can still answer unauthenticated metrics, so up alone does not show it."),
        ));
    }
    out
}
