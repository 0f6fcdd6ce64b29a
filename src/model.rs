//! The validated profile. Every value here has passed the syntax, schema and semantic checks,
//! so emitters can trust it and never fail. Defaults are already filled in.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

pub type Labels = BTreeMap<String, String>;

/// Where a value was written: a file (the profile or one of its bases) and a span in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    pub span: std::ops::Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Active,
    AllNode,
    Demo,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Active => "active",
            Kind::AllNode => "all-node",
            Kind::Demo => "demo",
        }
    }

    /// Whether Prometheus scrapes standbys and sealed nodes too (all-node, demo), not only the
    /// active node.
    pub fn scrapes_every_node(self) -> bool {
        self != Kind::Active
    }

    /// The `scrape_profile` label value, as the how-to's example repository writes it.
    pub fn scrape_label(self) -> &'static str {
        match self {
            Kind::Active => "active",
            Kind::AllNode => "all_nodes",
            Kind::Demo => "demo",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// The OpenBao version the tests run; the default target.
pub const DEFAULT_OPENBAO_VERSION: Version = Version(2, 7, 2);
/// First version with `telemetry { metrics_only = true }` on a listener.
pub const METRICS_ONLY_SINCE: Version = Version(2, 5, 0);

#[derive(Debug, Clone)]
pub struct Profile {
    /// The profile file, as given on the command line.
    pub path: PathBuf,
    /// The profile's file stem, used in names of generated files.
    pub name: String,
    pub kind: Kind,
    pub openbao_version: Version,
    /// Declared output directory, resolved against the profile's directory.
    pub output: Option<PathBuf>,
    /// Where `output` is declared (in the profile or a base), for errors about that directory.
    pub output_place: Option<Place>,
    /// The files the profile extends, directly or through other bases, in the order read.
    pub bases: Vec<PathBuf>,
    pub openbao: OpenBao,
    pub telemetry: Telemetry,
    pub api_listener: ApiListener,
    pub metrics_listener: Option<MetricsListener>,
    pub scrape: Scrape,
    pub prometheus: Prometheus,
    /// `Some` exactly for the demo kind (validation refuses `[demo]` anywhere else).
    pub demo: Option<Demo>,
    pub engine: Option<crate::model::Engine>,
    pub seal: Option<Seal>,
    pub self_init: Option<SelfInit>,
    pub alerting: Alerting,
    /// `None` when the profile turns the dashboards off.
    pub grafana: Option<Grafana>,
    pub audit: Option<Audit>,
}

impl Profile {
    /// Every file this profile was read from: no output may contain one.
    pub fn inputs(&self) -> Vec<&std::path::Path> {
        let mut files = vec![self.path.as_path()];
        files.extend(self.bases.iter().map(PathBuf::as_path));
        if let Some(ca) = self
            .engine
            .as_ref()
            .and_then(|e| e.config.kubernetes_ca_cert_file.as_ref())
        {
            files.push(ca);
        }
        files
    }
}

#[derive(Debug, Clone)]
pub struct OpenBao {
    pub namespace: String,
    pub service_account: String,
    pub statefulset: String,
    pub container: String,
    pub pod_labels: Labels,
    pub cluster: String,
    /// The Kubernetes cluster the profile targets, when it says, and where it says so.
    pub kubernetes_cluster: Option<(String, Place)>,
}

#[derive(Debug, Clone)]
pub struct Telemetry {
    pub prometheus_retention_time: String,
    pub disable_hostname: bool,
    /// Emitted only when the profile sets it.
    pub metrics_prefix: Option<String>,
}

impl Telemetry {
    /// The prefix metric names carry (`vault` unless the profile changes it).
    pub fn prefix(&self) -> &str {
        self.metrics_prefix.as_deref().unwrap_or("vault")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub cert_file: String,
    pub key_file: String,
}

/// How a listener treats `/v1/sys/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsAccess {
    /// `disallow_metrics = true`: the metrics listener serves them instead.
    Disallowed,
    /// A token with the metrics policy is required.
    Token,
    /// Anyone who can reach the port may read metrics.
    Unauthenticated,
}

#[derive(Debug, Clone)]
pub struct ApiListener {
    pub address: Address,
    pub cluster_address: Option<Address>,
    /// `None` means `tls_disable = true` (demo only).
    pub tls: Option<Tls>,
    pub metrics: MetricsAccess,
}

#[derive(Debug, Clone)]
pub struct MetricsListener {
    pub address: Address,
    pub tls: Option<Tls>,
    /// `Token` or `Unauthenticated`, never `Disallowed`.
    pub metrics: MetricsAccess,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone)]
pub struct Scrape {
    /// The Secret holding the metrics token; `None` when the scraped listener is unauthenticated.
    pub token_secret: Option<KeyRef>,
    /// The ConfigMap holding the serving CA; `None` when the scraped listener has no TLS.
    pub ca_config_map: Option<KeyRef>,
    pub interval: String,
    pub scrape_timeout: String,
    pub job: String,
    pub service_name: String,
    pub port_name: String,
    pub server_name: String,
    pub policy_name: String,
    /// The container port Prometheus scrapes (metrics listener if any, else API listener).
    pub port: u16,
    /// The token role scrape tokens are minted from; `Some` exactly when a token is used.
    pub token_role: Option<TokenRole>,
}

/// `auth/token/roles/NAME` for scrape tokens: orphan (so revoking the operator's token does
/// not revoke it), periodic (it lives as long as it is renewed), the metrics policy only.
#[derive(Debug, Clone)]
pub struct TokenRole {
    pub name: String,
    /// As written (`24h`), and in seconds.
    pub period: String,
    pub period_secs: u64,
    pub bound_cidrs: Vec<String>,
    pub renewal: Option<Renewal>,
}

/// The CronJob renewing the scrape token well inside its period.
#[derive(Debug, Clone)]
pub struct Renewal {
    pub image: String,
    /// OpenBao's API URL as a pod in OpenBao's namespace reaches it.
    pub address: String,
    /// A cron schedule at least four times per period.
    pub schedule: String,
    /// How long without a successful renewal before the alert fires, in seconds (half the
    /// period: two more renewals could still save the token).
    pub alert_after_secs: u64,
}

/// `seal "static"`: auto-unseal from a key file inside the container.
#[derive(Debug, Clone)]
pub struct Seal {
    pub key_id: String,
    pub key_file: String,
}

/// Where the server reads a value on its first start (self-init's `env` and `file` sources).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Env(String),
    File(String),
}

/// The way in after self-initialization revoked the root token.
#[derive(Debug, Clone)]
pub enum Admin {
    Userpass {
        username: String,
        password: Source,
        policy: String,
    },
    Token {
        id: Source,
        policy: String,
    },
    /// Nobody gets in, on purpose.
    None,
}

impl Admin {
    /// The admin policy's name, when there is an admin.
    pub fn policy(&self) -> Option<&str> {
        match self {
            Admin::Userpass { policy, .. } | Admin::Token { policy, .. } => Some(policy),
            Admin::None => None,
        }
    }

    /// Where the first boot reads the admin's password or token id.
    pub fn secret(&self) -> Option<&Source> {
        match self {
            Admin::Userpass { password, .. } => Some(password),
            Admin::Token { id, .. } => Some(id),
            Admin::None => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SelfInit {
    pub admin: Admin,
}

impl Scrape {
    pub fn uses_token(&self) -> bool {
        self.token_secret.is_some()
    }
    pub fn scheme(&self) -> &'static str {
        if self.ca_config_map.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

#[derive(Debug, Clone)]
pub struct Prometheus {
    pub namespace: String,
    pub monitor_labels: Labels,
    pub pod_labels: Labels,
    pub network_policy: bool,
    pub token_file: String,
    pub ca_file: String,
    pub static_targets: Vec<String>,
    pub alert_for: String,
    pub alertmanagers: Vec<String>,
}

/// How the generated alerts differ from the catalogue's defaults.
#[derive(Debug, Clone, Default)]
pub struct Alerting {
    /// Published location of the output directory, without a trailing `/`.
    pub runbook_base: Option<String>,
    pub overrides: BTreeMap<crate::catalog::Alert, AlertOverride>,
}

#[derive(Debug, Clone)]
pub struct AlertOverride {
    pub severity: Option<String>,
    pub for_: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub struct Grafana {
    pub namespace: String,
    pub sidecar_labels: Labels,
}

/// A declarative file audit device.
#[derive(Debug, Clone)]
pub struct Audit {
    pub path: String,
    /// An absolute path in the container, or `stdout`.
    pub file: String,
}

impl Audit {
    /// The directory a volume must hold, unless the device writes to stdout.
    pub fn dir(&self) -> Option<&str> {
        (self.file != "stdout").then(|| match self.file.rfind('/') {
            Some(0) | None => "/",
            Some(i) => &self.file[..i],
        })
    }
}

#[derive(Debug, Clone)]
pub struct Demo {
    pub openbao_image: String,
    pub prometheus_image: String,
    pub prometheus_port: u16,
    pub grafana_image: String,
    pub grafana_port: u16,
    pub nodes: Vec<DemoNode>,
}

#[derive(Debug, Clone)]
pub struct DemoNode {
    pub name: String,
    pub host: String,
    pub api_port: u16,
    pub cluster_port: u16,
    pub metrics_port: Option<u16>,
    pub raft_path: String,
}

impl DemoNode {
    pub fn scheme(&self, tls: bool) -> &'static str {
        if tls {
            "https"
        } else {
            "http"
        }
    }
    /// The port Prometheus scrapes on this node.
    pub fn scrape_port(&self) -> u16 {
        self.metrics_port.unwrap_or(self.api_port)
    }
}

/// OpenBao's Kubernetes secrets engine, validated.
#[derive(Debug, Clone)]
pub struct Engine {
    pub mount: String,
    /// Declared `max_lease_ttl` of the mount in seconds, when the profile tunes it.
    pub mount_max_lease_ttl: Option<u64>,
    pub config: EngineConfig,
    pub roles: Vec<EngineRole>,
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub kubernetes_host: Option<String>,
    /// The PEM text of the CA certificate, read from the file the profile names.
    pub kubernetes_ca_cert: Option<String>,
    /// That file, resolved against the profile's directory: an input an output must not hold.
    pub kubernetes_ca_cert_file: Option<PathBuf>,
    pub disable_local_ca_jwt: bool,
}

impl RoleMode {
    pub fn cluster_role(&self) -> bool {
        match self {
            RoleMode::ServiceAccount(_) => false,
            RoleMode::BindRole { cluster_role, .. }
            | RoleMode::GenerateRules { cluster_role, .. } => *cluster_role,
        }
    }
}

/// Which of the engine's three modes a role uses.
#[derive(Debug, Clone, PartialEq)]
pub enum RoleMode {
    ServiceAccount(String),
    BindRole {
        name: String,
        cluster_role: bool,
    },
    GenerateRules {
        rules: Vec<PolicyRule>,
        cluster_role: bool,
    },
}

/// RBAC rules and label selectors are Kubernetes' own types (one definition, serialised by
/// k8s-openapi exactly as the API server and the engine read them); validation builds them with
/// every empty list as `None`, so none is ever sent as `[]`.
pub use k8s_openapi::api::rbac::v1::PolicyRule;
pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

#[derive(Debug, Clone)]
pub struct EngineRole {
    /// Lower-case, safe as a file name and a URL path segment.
    pub name: String,
    pub allowed_namespaces: Vec<String>,
    pub namespace_selector: Option<LabelSelector>,
    /// Seconds; 0 means the system default.
    pub token_max_ttl: u64,
    pub token_default_ttl: u64,
    pub token_default_audiences: Vec<String>,
    pub mode: RoleMode,
    /// Consumers may request `cluster_role_binding = true` (ClusterRole modes only).
    pub cluster_role_binding: bool,
    pub name_template: Option<String>,
    pub extra_annotations: Labels,
    pub extra_labels: Labels,
}
