//! The alerts baogen knows, and what a profile's scrape must see for each. Validation reads it
//! (an override must name an alert this profile emits), emission builds one rule per entry;
//! nothing here knows a stage above the model.

/// What a profile's scrape must reach for a signal to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// The active node is enough: it answers for the cluster, and as Raft leader it reports
    /// autopilot's view of every peer.
    ActiveNode,
    /// Standbys and sealed nodes report it about themselves: all-node and demo only.
    EveryNode,
    /// The scrape token's renewal CronJob (kube-state-metrics' series).
    Renewal,
}

impl Needs {
    /// `every_node`: the profile scrapes every node (all-node, demo).
    pub fn met(self, every_node: bool, renewal: bool) -> bool {
        match self {
            Needs::ActiveNode => true,
            Needs::EveryNode => every_node,
            Needs::Renewal => renewal,
        }
    }
}

macro_rules! alerts {
    ($($id:ident = $name:literal, $severity:literal, $needs:ident, $signal:literal;)*) => {
        /// Every alert baogen can emit, in the order the rule files list them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Alert { $($id),* }

        impl Alert {
            pub const ALL: &'static [Alert] = &[$(Alert::$id),*];
            pub fn name(self) -> &'static str {
                match self { $(Alert::$id => $name),* }
            }
            /// The severity label unless the profile overrides it.
            pub fn severity(self) -> &'static str {
                match self { $(Alert::$id => $severity),* }
            }
            pub fn needs(self) -> Needs {
                match self { $(Alert::$id => Needs::$needs),* }
            }
            /// The signal it watches, as the README's coverage table names it.
            pub fn signal(self) -> &'static str {
                match self { $(Alert::$id => $signal),* }
            }
        }
    };
}

alerts! {
    Unreachable = "OpenBaoUnreachable", "critical", ActiveNode, "Scrape health";
    NoActiveNode = "OpenBaoNoActiveNode", "critical", ActiveNode, "Active nodes";
    MultipleActiveNodes = "OpenBaoMultipleActiveNodes", "critical", EveryNode, "Active nodes";
    Sealed = "OpenBaoSealed", "critical", EveryNode, "Seal state";
    LeadershipFlapping = "OpenBaoLeadershipFlapping", "warning", ActiveNode, "Leadership changes";
    AutopilotUnhealthy = "OpenBaoAutopilotUnhealthy", "critical", ActiveNode, "Autopilot health";
    RaftNodeUnhealthy = "OpenBaoRaftNodeUnhealthy", "warning", ActiveNode, "Unhealthy Raft peers";
    NoFailureTolerance = "OpenBaoRaftNoFailureTolerance", "warning", ActiveNode, "Failure tolerance";
    LeaderContactHigh = "OpenBaoRaftLeaderContactHigh", "warning", ActiveNode, "Leader last contact";
    FollowerLagging = "OpenBaoRaftFollowerLagging", "warning", ActiveNode, "Follower lag";
    AuditRequestFailures = "OpenBaoAuditRequestFailures", "critical", ActiveNode, "Audit request failures";
    AuditResponseFailures = "OpenBaoAuditResponseFailures", "critical", ActiveNode, "Audit response failures";
    RequestLatencyHigh = "OpenBaoRequestLatencyHigh", "warning", ActiveNode, "Request latency";
    LeaseCountGrowing = "OpenBaoLeaseCountGrowing", "warning", ActiveNode, "Leases";
    ScrapeTokenRenewalStale = "OpenBaoScrapeTokenRenewalStale", "warning", Renewal, "Scrape token renewal";
}

impl Alert {
    pub fn by_name(name: &str) -> Option<Alert> {
        Alert::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The heading of its runbook section in VERIFY.md is the name, so the anchor is the name
    /// as GitHub and most Markdown renderers slug it.
    pub fn anchor(self) -> String {
        self.name().to_ascii_lowercase()
    }
}

/// The severities an override may set: what Alertmanager routes on by convention.
pub const SEVERITIES: &[&str] = &["critical", "warning", "info"];

/// Labels every rule sets itself: an override may not replace them.
pub const RESERVED_LABELS: &[&str] = &["alertname", "cluster", "severity"];
