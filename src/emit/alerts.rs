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
    pub labels: BTreeMap<&'static str, String>,
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
        labels: BTreeMap::from([("severity", severity.to_string())]),
        annotations: BTreeMap::from([
            ("summary", summary.to_string()),
            ("description", description),
        ]),
    }
}

/// Every expression keeps the `cluster` label (the scrape sets it to `openbao.cluster`), so one
/// Prometheus watching several OpenBao clusters fires once per affected cluster: aggregations
/// are `by (cluster)`, per-node alerts keep every label but OpenBao's own stale one.
pub(super) fn rules(p: &Profile) -> Vec<Rule> {
    let job = &p.scrape.job;
    let m = p.telemetry.prefix();
    let sel = format!("{{job=\"{job}\"}}");
    // `absent` cannot group: it names this profile's own cluster, whose labels it then carries
    // (both are validated label values, so neither needs quoting).
    let own = format!("{{job=\"{job}\",cluster=\"{}\"}}", p.openbao.cluster);
    let mut out = vec![rule(
        p,
        "OpenBaoUnreachable",
        format!("(up{sel} == 0) or absent(up{own})"),
        "critical",
        "Prometheus cannot scrape OpenBao metrics",
        "{{ $labels.instance }} in cluster {{ $labels.cluster }}: the scrape target is down or missing. Check the token, the CA and serverName, and that the target has endpoints (see VERIFY.md).".into(),
    )];
    out.push(rule(
        p,
        "OpenBaoNoActiveNode",
        format!("sum by (cluster) ({m}_core_active{sel}) == 0"),
        "critical",
        "No OpenBao node reports itself active",
        "Cluster {{ $labels.cluster }}: OpenBao answers but no node is active, so the cluster cannot serve requests.".into(),
    ));
    if p.kind != Kind::Active {
        // Only a scrape of every node can see standbys and sealed nodes; the active Service
        // shows one pod, and a sealed active node just drops out (503, up == 0).
        out.push(rule(
            p,
            "OpenBaoMultipleActiveNodes",
            format!("sum by (cluster) ({m}_core_active{sel}) > 1"),
            "critical",
            "More than one OpenBao node reports itself active",
            "Cluster {{ $labels.cluster }}: several nodes claim to be active. Check Raft health and network partitions.".into(),
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
            format!("{{{{ $labels.instance }}}} in cluster {{{{ $labels.cluster }}}} reports {m}_core_unsealed 0. Unseal it: a sealed node can still answer unauthenticated metrics, so up alone does not show it."),
        ));
    }
    if let Some(renewal) = p
        .scrape
        .token_role
        .as_ref()
        .and_then(|r| r.renewal.as_ref())
    {
        out.push(renewal_stale(p, renewal));
    }
    out
}

/// The renewal CronJob has not succeeded for half the token's period (kube-state-metrics'
/// series): two more runs could still save the token, none means scraping stops with 403.
fn renewal_stale(p: &Profile, r: &crate::model::Renewal) -> Rule {
    let job = format!(
        "{{namespace=\"{}\",cronjob=\"{}\"}}",
        p.openbao.namespace,
        super::token::renewal_name(p)
    );
    let after = r.alert_after_secs;
    let mut rule = rule(
        p,
        "OpenBaoScrapeTokenRenewalStale",
        // One series either way (`absent` would carry the matchers' labels): the description names the CronJob.
        format!("max((time() - max(kube_cronjob_status_last_successful_time{job}) > {after}) or (absent(kube_cronjob_status_last_successful_time{job}) and on() (time() - max(kube_cronjob_created{job}) > {after})))"),
        "warning",
        "The scrape token has not been renewed",
        format!("Cluster {}: the CronJob {}/{} has not renewed the scrape token for {after}s, half its period; when the period runs out the token expires and every scrape gets 403. Check the Job's logs (see VERIFY.md).", p.openbao.cluster, p.openbao.namespace, super::token::renewal_name(p)),
    );
    // kube-state-metrics' series carry no OpenBao cluster label: the rule gives it one.
    rule.labels.insert("cluster", p.openbao.cluster.clone());
    rule
}
