//! Recording rules: the signals an on-call engineer reads, computed once per evaluation from
//! the series real OpenBao 2.7.2 emits (each rule lists them, and the e2e suite checks every
//! one exists in a real scrape). Alerts and dashboard panels read these, not raw series.
//!
//! OpenBao's latencies are go-metrics summaries in milliseconds whose quantiles go NaN
//! between samples, so latency is `rate(_sum) / rate(_count)`: the mean over five minutes.

use serde::Serialize;

use crate::catalog::Needs;
use crate::model::Profile;

/// Where a rule's panel sits on the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Cluster,
    /// Raft and autopilot: only on a dashboard whose profile scrapes every node.
    Raft,
    /// One line per node: only where every node is scraped.
    Nodes,
}

pub struct Panel {
    pub title: &'static str,
    /// A Grafana unit id.
    pub unit: &'static str,
    pub row: Row,
}

pub struct Recording {
    pub record: &'static str,
    /// The signal, as the README's coverage table names it.
    pub signal: &'static str,
    pub needs: Needs,
    /// `{m}` is the metric prefix, `{sel}` this profile's job and cluster.
    pub expr: &'static str,
    /// The series the expression reads (`{m}` as above).
    pub inputs: &'static [&'static str],
    pub panel: Panel,
}

macro_rules! recordings {
    ($($record:literal, $signal:literal, $needs:ident, $row:ident, $title:literal, $unit:literal,
       [$($input:literal),*], $expr:literal;)*) => {
        pub const RECORDINGS: &[Recording] = &[$(Recording {
            record: $record,
            signal: $signal,
            needs: Needs::$needs,
            expr: $expr,
            inputs: &[$($input),*],
            panel: Panel { title: $title, unit: $unit, row: Row::$row },
        }),*];
    };
}

recordings! {
    "openbao:targets_up:sum", "Scrape health", ActiveNode, Cluster, "Scrape targets up", "short",
        ["up"], "sum by (cluster) (up{sel})";
    "openbao:active_nodes:sum", "Active nodes", ActiveNode, Cluster, "Active nodes", "short",
        ["{m}_core_active"], "sum by (cluster) ({m}_core_active{sel})";
    "openbao:standby_nodes:sum", "Active nodes", EveryNode, Cluster, "Standby nodes", "short",
        ["{m}_core_active"], "sum by (cluster) (1 - {m}_core_active{sel})";
    // Sealed nodes keep a stale `unsealed 0` from before they knew their cluster name
    // (`exported_cluster`): the max over both is the live state. Measured on 2.7.2.
    "openbao:sealed_nodes:sum", "Seal state", EveryNode, Cluster, "Sealed nodes", "short",
        ["{m}_core_unsealed"], "sum by (cluster) (1 - max without (exported_cluster) ({m}_core_unsealed{sel}))";
    "openbao:requests:rate5m", "Request rate", ActiveNode, Cluster, "Requests", "reqps",
        ["{m}_core_handle_request_count"], "sum by (cluster) (rate({m}_core_handle_request_count{sel}[5m]))";
    "openbao:request_latency_ms:mean5m", "Request latency", ActiveNode, Cluster, "Request latency (mean)", "ms",
        ["{m}_core_handle_request_sum", "{m}_core_handle_request_count"],
        "sum by (cluster) (rate({m}_core_handle_request_sum{sel}[5m])) / sum by (cluster) (rate({m}_core_handle_request_count{sel}[5m]))";
    "openbao:tokens_created:rate5m", "Tokens", ActiveNode, Cluster, "Tokens created", "ops",
        ["{m}_token_creation"], "sum by (cluster) (rate({m}_token_creation{sel}[5m]))";
    "openbao:leases:max", "Leases", ActiveNode, Cluster, "Leases", "short",
        ["{m}_expire_num_leases"], "max by (cluster) ({m}_expire_num_leases{sel})";
    "openbao:irrevocable_leases:max", "Leases", ActiveNode, Cluster, "Irrevocable leases", "short",
        ["{m}_expire_num_irrevocable_leases"], "max by (cluster) ({m}_expire_num_irrevocable_leases{sel})";
    "openbao:barrier_latency_ms:mean5m", "Barrier latency", ActiveNode, Cluster, "Barrier get/put latency (mean)", "ms",
        ["{m}_barrier_get_sum", "{m}_barrier_get_count", "{m}_barrier_put_sum", "{m}_barrier_put_count"],
        "(sum by (cluster) (rate({m}_barrier_get_sum{sel}[5m])) + sum by (cluster) (rate({m}_barrier_put_sum{sel}[5m]))) / (sum by (cluster) (rate({m}_barrier_get_count{sel}[5m])) + sum by (cluster) (rate({m}_barrier_put_count{sel}[5m])))";
    "openbao:storage_latency_ms:mean5m", "Storage latency", ActiveNode, Cluster, "Raft storage get/put latency (mean)", "ms",
        ["{m}_raft_storage_get_sum", "{m}_raft_storage_get_count", "{m}_raft_storage_put_sum", "{m}_raft_storage_put_count"],
        "(sum by (cluster) (rate({m}_raft_storage_get_sum{sel}[5m])) + sum by (cluster) (rate({m}_raft_storage_put_sum{sel}[5m]))) / (sum by (cluster) (rate({m}_raft_storage_get_count{sel}[5m])) + sum by (cluster) (rate({m}_raft_storage_put_count{sel}[5m])))";
    "openbao:audit_request_failures:increase5m", "Audit request failures", ActiveNode, Cluster, "Audit request failures (5m)", "short",
        ["{m}_audit_log_request_failure"], "sum by (cluster) (increase({m}_audit_log_request_failure{sel}[5m]))";
    "openbao:audit_response_failures:increase5m", "Audit response failures", ActiveNode, Cluster, "Audit response failures (5m)", "short",
        ["{m}_audit_log_response_failure"], "sum by (cluster) (increase({m}_audit_log_response_failure{sel}[5m]))";
    "openbao:raft_commit_ms:mean5m", "Raft commit latency", ActiveNode, Raft, "Raft commit time (mean)", "ms",
        ["{m}_raft_commitTime_sum", "{m}_raft_commitTime_count"],
        "sum by (cluster) (rate({m}_raft_commitTime_sum{sel}[5m])) / sum by (cluster) (rate({m}_raft_commitTime_count{sel}[5m]))";
    "openbao:raft_apply:rate5m", "Raft apply rate", ActiveNode, Raft, "Raft log applies", "ops",
        ["{m}_raft_apply"], "sum by (cluster) (rate({m}_raft_apply{sel}[5m]))";
    "openbao:raft_fsm_apply_ms:mean5m", "Raft apply latency", ActiveNode, Raft, "Raft FSM apply time per batch (mean)", "ms",
        ["{m}_raft_fsm_applyBatch_sum", "{m}_raft_fsm_applyBatch_count"],
        "sum by (cluster) (rate({m}_raft_fsm_applyBatch_sum{sel}[5m])) / sum by (cluster) (rate({m}_raft_fsm_applyBatch_count{sel}[5m]))";
    // The leader's view of each follower (2.7.2 emits no raft_leader_lastContact).
    "openbao:raft_leader_last_contact_ms:max", "Leader last contact", ActiveNode, Raft, "Time since each follower's last contact", "ms",
        ["{m}_raft_storage_follower_last_heartbeat_ms"], "max by (cluster, peer_id) ({m}_raft_storage_follower_last_heartbeat_ms{sel})";
    "openbao:raft_follower_applied_index_delta:max", "Follower lag", ActiveNode, Raft, "Follower applied-index lag", "short",
        ["{m}_raft_storage_follower_applied_index_delta"], "max by (cluster, peer_id) ({m}_raft_storage_follower_applied_index_delta{sel})";
    // Every election raises the term: its rise over an hour counts leadership changes.
    "openbao:raft_term:max", "Leadership changes", ActiveNode, Raft, "Raft term", "short",
        ["{m}_raft_storage_stats_term"], "max by (cluster) ({m}_raft_storage_stats_term{sel})";
    "openbao:raft_peers:max", "Raft peers", ActiveNode, Raft, "Raft peers", "short",
        ["{m}_raft_peers"], "max by (cluster) ({m}_raft_peers{sel})";
    "openbao:autopilot_healthy:min", "Autopilot health", ActiveNode, Raft, "Autopilot healthy", "bool",
        ["{m}_autopilot_healthy"], "min by (cluster) ({m}_autopilot_healthy{sel})";
    "openbao:autopilot_unhealthy_nodes:sum", "Unhealthy Raft peers", ActiveNode, Raft, "Unhealthy Raft peers", "short",
        ["{m}_autopilot_node_healthy"], "sum by (cluster) (1 - {m}_autopilot_node_healthy{sel})";
    "openbao:autopilot_failure_tolerance:min", "Failure tolerance", ActiveNode, Raft, "Failure tolerance (nodes)", "short",
        ["{m}_autopilot_failure_tolerance"], "min by (cluster) ({m}_autopilot_failure_tolerance{sel})";
    "openbao_instance:request_latency_ms:mean5m", "Request latency", EveryNode, Nodes, "Request latency per node (mean)", "ms",
        ["{m}_core_handle_request_sum", "{m}_core_handle_request_count"],
        "sum by (cluster, instance) (rate({m}_core_handle_request_sum{sel}[5m])) / sum by (cluster, instance) (rate({m}_core_handle_request_count{sel}[5m]))";
    "openbao_instance:goroutines", "Node resources", EveryNode, Nodes, "Goroutines per node", "short",
        ["{m}_runtime_num_goroutines"], "max by (cluster, instance) ({m}_runtime_num_goroutines{sel})";
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct Record {
    pub record: &'static str,
    pub expr: String,
}

/// `{job="..",cluster=".."}`: recording rules read only this profile's own cluster, so two
/// profiles whose rules share one Prometheus never record the same series twice.
pub(super) fn own_selector(p: &Profile) -> String {
    format!(
        "{{job=\"{}\",cluster=\"{}\"}}",
        p.scrape.job, p.openbao.cluster
    )
}

/// Fill a template's placeholders with this profile's prefix and selector.
pub(crate) fn fill(template: &str, p: &Profile) -> String {
    template
        .replace("{m}", p.telemetry.prefix())
        .replace("{sel}", &own_selector(p))
}

/// The rules this profile's scrape can feed.
pub(crate) fn visible(p: &Profile) -> impl Iterator<Item = &'static Recording> + '_ {
    let every_node = p.kind.scrapes_every_node();
    RECORDINGS
        .iter()
        .filter(move |r| r.needs.met(every_node, false))
}

pub(super) fn rules(p: &Profile) -> Vec<Record> {
    visible(p)
        .map(|r| Record {
            record: r.record,
            expr: fill(r.expr, p),
        })
        .collect()
}

/// A recorded series of this profile's cluster, for alerts and panels.
pub(super) fn series(record: &str, p: &Profile) -> String {
    format!("{record}{{cluster=\"{}\"}}", p.openbao.cluster)
}
