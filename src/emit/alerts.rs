//! Alert rules, one per catalogue entry this profile's scrape can see, with the profile's
//! overrides applied. One list feeds the PrometheusRule, the plain `rules.yml` and VERIFY.md's
//! runbook sections, so they can never disagree.

use std::collections::BTreeMap;

use serde::Serialize;

use super::recording::series;
use crate::catalog::Alert;
use crate::model::Profile;

#[derive(Debug, Clone, Serialize)]
pub(super) struct Rule {
    pub alert: &'static str,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<&'static str, String>,
    /// VERIFY.md's section: what it means, what to check.
    #[serde(skip)]
    pub runbook: Runbook,
}

#[derive(Debug, Clone)]
pub(super) struct Runbook {
    pub means: &'static str,
    pub check: String,
}

/// What one alert says: its expression and its words. `{{ $labels.x }}` is Prometheus'
/// template for the firing series' labels.
struct Text {
    expr: String,
    summary: &'static str,
    description: String,
    means: &'static str,
    check: String,
}

/// Every expression keeps the `cluster` label (the scrape sets it to `openbao.cluster`), so one
/// Prometheus watching several OpenBao clusters fires once per affected cluster: aggregations
/// are `by (cluster)`, per-node alerts keep every label but OpenBao's own stale one.
pub(super) fn rules(p: &Profile) -> Vec<Rule> {
    let every_node = p.kind.scrapes_every_node();
    let renewal = p
        .scrape
        .token_role
        .as_ref()
        .is_some_and(|r| r.renewal.is_some());
    Alert::ALL
        .iter()
        .copied()
        .filter(|a| a.needs().met(every_node, renewal))
        .filter(|a| p.alerting.overrides.get(a).is_none_or(|o| o.enabled))
        .map(|a| rule(p, a, text(p, a)))
        .collect()
}

fn rule(p: &Profile, alert: Alert, t: Text) -> Rule {
    let o = p.alerting.overrides.get(&alert);
    let mut labels = BTreeMap::from([(
        "severity".to_string(),
        o.and_then(|o| o.severity.clone())
            .unwrap_or_else(|| alert.severity().to_string()),
    )]);
    if alert == Alert::ScrapeTokenRenewalStale {
        // kube-state-metrics' series carry no OpenBao cluster label: the rule gives it one.
        labels.insert("cluster".into(), p.openbao.cluster.clone());
    }
    if let Some(o) = o {
        labels.extend(o.labels.clone());
    }
    let base = p.alerting.runbook_base.as_deref();
    let runbook_url = match base {
        Some(b) => format!("{b}/VERIFY.md#{}", alert.anchor()),
        None => format!("VERIFY.md#{}", alert.anchor()),
    };
    Rule {
        alert: alert.name(),
        expr: t.expr,
        for_: o
            .and_then(|o| o.for_.clone())
            .unwrap_or_else(|| p.prometheus.alert_for.clone()),
        labels,
        annotations: BTreeMap::from([
            ("summary", t.summary.to_string()),
            ("description", t.description),
            ("runbook_url", runbook_url),
        ]),
        runbook: Runbook {
            means: t.means,
            check: t.check,
        },
    }
}

fn text(p: &Profile, alert: Alert) -> Text {
    let job = &p.scrape.job;
    let m = p.telemetry.prefix();
    let sel = format!("{{job=\"{job}\"}}");
    let node = "{{ $labels.instance }} in cluster {{ $labels.cluster }}";
    let cluster = "Cluster {{ $labels.cluster }}";
    let rec = |r: &str| series(r, p);
    match alert {
        Alert::Unreachable => {
            // `absent` cannot group: it names this profile's own cluster, whose labels it then
            // carries (both are validated label values, so neither needs quoting).
            let own = format!("{{job=\"{job}\",cluster=\"{}\"}}", p.openbao.cluster);
            Text {
                expr: format!("(up{sel} == 0) or absent(up{own})"),
                summary: "Prometheus cannot scrape OpenBao metrics",
                description: format!("{node}: the scrape target is down or missing. Check the token, the CA and serverName, and that the target has endpoints (see VERIFY.md)."),
                means: "Prometheus got no metrics from a target, or has no target at all: every other alert is blind for that node.",
                check: unreachable_check(p),
            }
        }
        Alert::NoActiveNode => Text {
            expr: format!("sum by (cluster) ({m}_core_active{sel}) == 0"),
            summary: "No OpenBao node reports itself active",
            description: format!("{cluster}: OpenBao answers but no node is active, so the cluster cannot serve requests."),
            means: "Every scraped node is a standby or sealed: clients get errors until a leader is elected and unsealed.",
            check: "`bao status` on each pod: are they sealed? `bao operator raft list-peers`: is there a leader, is quorum lost? Check the pods' logs for election or unseal errors.".into(),
        },
        Alert::MultipleActiveNodes => Text {
            expr: format!("sum by (cluster) ({m}_core_active{sel}) > 1"),
            summary: "More than one OpenBao node reports itself active",
            description: format!("{cluster}: several nodes claim to be active. Check Raft health and network partitions."),
            means: "Two nodes believe they lead: a network partition or a stale leader that has not stepped down yet.",
            check: "`bao operator raft list-peers` from each node; the nodes' logs around the time it started; network policies between the pods on the cluster port (8201).".into(),
        },
        Alert::Sealed => Text {
            // OpenBao keeps the `{m}_core_unsealed 0` it gauged while sealed, before it knew its
            // cluster name, for prometheus_retention_time after unsealing, next to the live
            // series labelled with the name (`exported_cluster` once the scrape sets `cluster`):
            // a plain `== 0` fires on every healthy node after a restart. Measured on 2.7.2.
            expr: format!("max without (exported_cluster) ({m}_core_unsealed{sel}) == 0"),
            summary: "An OpenBao node is sealed",
            description: format!("{node} reports {m}_core_unsealed 0. Unseal it: a sealed node can still answer unauthenticated metrics, so up alone does not show it."),
            means: "The node runs but cannot decrypt its storage: it serves no requests and does not count towards quorum.",
            check: "`bao status` on the pod. With auto-unseal, check the seal's key file or KMS in the pod's logs; otherwise unseal it with the key holders.".into(),
        },
        Alert::LeadershipFlapping => Text {
            expr: format!("max_over_time({r}[1h]) - min_over_time({r}[1h]) > 3", r = rec("openbao:raft_term:max")),
            summary: "OpenBao's Raft leadership keeps changing",
            description: format!("{cluster}: more than three Raft elections in the last hour."),
            means: "Leaders keep losing their followers: each election pauses writes, and clients see errors while it lasts.",
            check: "The nodes' logs for heartbeat timeouts; CPU throttling or memory pressure on the pods (`kubectl top pods`); network latency between nodes; storage latency on the Raft volumes.".into(),
        },
        Alert::AutopilotUnhealthy => Text {
            expr: format!("{} == 0", rec("openbao:autopilot_healthy:min")),
            summary: "Raft autopilot reports the cluster unhealthy",
            description: format!("{cluster}: autopilot on the leader considers the cluster unhealthy."),
            means: "At least one voter is not healthy in autopilot's view (stale, lagging or unreachable): the cluster is closer to losing quorum.",
            check: "`bao operator raft autopilot state` shows which server is unhealthy and why; see OpenBaoRaftNodeUnhealthy for that node.".into(),
        },
        Alert::RaftNodeUnhealthy => Text {
            expr: format!("{m}_autopilot_node_healthy{sel} == 0"),
            summary: "A Raft peer is unhealthy",
            description: "Peer {{ $labels.node_id }} in cluster {{ $labels.cluster }} is unhealthy in autopilot's view (reported by the leader {{ $labels.instance }}).".into(),
            means: "The leader sees one peer as failed or lagging; if it is a voter the cluster tolerates one failure less.",
            check: "`bao operator raft autopilot state`: the node's last contact, last index and status. Is its pod running, unsealed, and reachable on the cluster port?".into(),
        },
        Alert::NoFailureTolerance => Text {
            expr: format!("{} < 1", rec("openbao:autopilot_failure_tolerance:min")),
            summary: "OpenBao's Raft cluster cannot lose another node",
            description: format!("{cluster}: autopilot's failure tolerance is 0: one more lost voter stops the cluster."),
            means: "The cluster runs with the minimum quorum (or has a single node): any further failure makes it unavailable.",
            check: "`bao operator raft list-peers`: how many voters are there, and are all healthy? Bring failed nodes back, or run at least three voters. A single-node cluster fires this by design: switch it off with `[alerts.override.OpenBaoRaftNoFailureTolerance] enabled = false`.".into(),
        },
        // Healthy followers read up to ~4.2 s on 2.7.2 (the leader refreshes the value
        // periodically); 10 s is autopilot's own default last-contact threshold.
        Alert::LeaderContactHigh => Text {
            expr: format!("{} > 10000", rec("openbao:raft_leader_last_contact_ms:max")),
            summary: "The Raft leader has not heard from a follower",
            description: format!("{cluster}: the leader last heard from follower {{{{ $labels.peer_id }}}} {{{{ $value | humanize }}}} ms ago."),
            means: "A follower does not answer the leader's heartbeats: it is down, partitioned or overloaded, and may soon count as failed.",
            check: "The follower's pod status and logs; the network between the pods on the cluster port; the follower's CPU and disk.".into(),
        },
        Alert::FollowerLagging => Text {
            expr: format!("{} > 1000", rec("openbao:raft_follower_applied_index_delta:max")),
            summary: "A Raft follower is far behind the leader",
            description: format!("{cluster}: follower {{{{ $labels.peer_id }}}} is {{{{ $value }}}} log entries behind the leader."),
            means: "The follower applies the log more slowly than the leader writes it: reads it serves are stale, and it cannot take over quickly.",
            check: "Disk latency on the follower's Raft volume; its CPU; whether it is restoring a snapshot (its logs).".into(),
        },
        Alert::AuditRequestFailures | Alert::AuditResponseFailures => {
            let (what, metric) = if alert == Alert::AuditRequestFailures {
                ("requests", "audit_log_request_failure")
            } else {
                ("responses", "audit_log_response_failure")
            };
            Text {
                expr: format!("increase({m}_{metric}{sel}[5m]) > 0"),
                summary: if alert == Alert::AuditRequestFailures {
                    "OpenBao cannot write audit records of requests"
                } else {
                    "OpenBao cannot write audit records of responses"
                },
                description: format!("{node}: {{{{ $value | humanize }}}} audit writes of {what} failed in 5 minutes. OpenBao refuses requests it cannot audit."),
                means: "No audit device accepted a record: OpenBao answers those requests with 500, so clients fail until a device works again.",
                check: audit_check(p),
            }
        }
        Alert::RequestLatencyHigh => Text {
            expr: format!("{} > 500", rec("openbao:request_latency_ms:mean5m")),
            summary: "OpenBao requests are slow",
            description: format!("{cluster}: requests took {{{{ $value | humanize }}}} ms on average over 5 minutes."),
            means: "Clients wait more than half a second per request on average: storage, audit devices or an overloaded node are slowing every request.",
            check: "The dashboard's storage and barrier latency panels (slow disks show there first); audit device latency; the pods' CPU throttling.".into(),
        },
        Alert::LeaseCountGrowing => Text {
            expr: format!("{l} > 1000 and predict_linear({l}[6h], 86400) > 2 * {l}", l = rec("openbao:leases:max")),
            summary: "OpenBao's lease count keeps growing",
            description: format!("{cluster}: {{{{ $value }}}} leases, on course to double within a day."),
            means: "Something creates leases (tokens, dynamic credentials) faster than they expire: memory and storage grow until the cluster slows down.",
            check: "`bao list sys/leases/lookup/` by mount to find the prefix that grows; clients that log in on every request instead of reusing a token; TTLs that are too long.".into(),
        },
        Alert::ScrapeTokenRenewalStale => renewal_stale(p),
    }
}

fn unreachable_check(p: &Profile) -> String {
    if p.demo.is_some() {
        return "Is the node's container running (`docker compose ps`, `docker compose logs NODE`)? Does the direct `wget` check above answer from inside it?".into();
    }
    let mut check = "Is the pod running and ready? Does the Service have endpoints (the EndpointSlice check above)? Does the direct `curl` check above pass?".to_string();
    if p.scrape.uses_token() {
        check.push_str(" A 403 means the token expired or lost its policy.");
    }
    if p.scrape.ca_config_map.is_some() {
        check.push_str(
            " A TLS error means the CA or the serverName does not match the serving certificate.",
        );
    }
    check
}

fn audit_check(p: &Profile) -> String {
    let device = match &p.audit {
        Some(a) if a.file == "stdout" => format!("This profile's device `{}` writes to the container's stdout.", a.path),
        Some(a) => format!(
            "This profile's device `{}` writes to `{}`: is its volume mounted, writable and not full (`df` in the pod)?",
            a.path, a.file
        ),
        None => "`bao audit list` shows the devices.".into(),
    };
    format!("{device} The server's log names the device that failed. After fixing the file, `kill -HUP` the server (or restart the pod) to reopen it.")
}

/// The renewal CronJob has not succeeded for half the token's period (kube-state-metrics'
/// series): two more runs could still save the token, none means scraping stops with 403.
fn renewal_stale(p: &Profile) -> Text {
    let after = p
        .scrape
        .token_role
        .as_ref()
        .and_then(|r| r.renewal.as_ref())
        .map_or(0, |r| r.alert_after_secs);
    let name = super::token::renewal_name(p);
    let job = format!(
        "{{namespace=\"{}\",cronjob=\"{name}\"}}",
        p.openbao.namespace
    );
    Text {
        // One series either way (`absent` would carry the matchers' labels): the description names the CronJob.
        expr: format!("max((time() - max(kube_cronjob_status_last_successful_time{job}) > {after}) or (absent(kube_cronjob_status_last_successful_time{job}) and on() (time() - max(kube_cronjob_created{job}) > {after})))"),
        summary: "The scrape token has not been renewed",
        description: format!("Cluster {}: the CronJob {}/{name} has not renewed the scrape token for {after}s, half its period; when the period runs out the token expires and every scrape gets 403. Check the Job's logs (see VERIFY.md).", p.openbao.cluster, p.openbao.namespace),
        means: "The CronJob that keeps the scrape token alive has not succeeded for half the token's period; when the period ends, scraping stops with 403.",
        check: format!("`kubectl -n {} get jobs` and the last Job's logs: a 403 means the token already expired (mint a new one and update the Secret), a connection error means the renewal address or CA is wrong.", p.openbao.namespace),
    }
}

#[cfg(test)]
mod tests {
    /// The audit alerts' check for the shipped all-node profile with `audit` appended.
    fn audit_check(audit: &str) -> String {
        let path = std::path::Path::new("profiles/all-node.toml");
        let text = std::fs::read_to_string(path).unwrap() + audit;
        let p = crate::profile::parse(path, text.as_bytes()).unwrap();
        super::audit_check(&p)
    }

    #[test]
    fn the_audit_check_names_where_the_device_writes() {
        let stdout = audit_check("[audit]\nfile = \"stdout\"\npath = \"console\"\n");
        assert!(
            stdout.starts_with("This profile's device `console` writes to the container's stdout."),
            "{stdout}"
        );
        let file = audit_check("[audit]\nfile = \"/openbao/audit/audit.log\"\n");
        assert!(file.starts_with("This profile's device `file` writes to `/openbao/audit/audit.log`: is its volume mounted"), "{file}");
    }
}
