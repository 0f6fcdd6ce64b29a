//! The profile exactly as written: serde types that mirror the TOML, with spans on every value
//! that validation may point at. Nothing outside `profile/` sees these; `validate` turns them
//! into `model::Profile`. The JSON Schema in `schemas/profile.schema.json` is derived from here.

use std::collections::BTreeMap;
use std::ops::{Deref, Range};

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

/// A value with the byte range it came from. A thin wrapper over `toml::Spanned` so that the
/// JSON Schema describes the value itself, not the span.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sp<T>(pub toml::Spanned<T>);

impl<T> Sp<T> {
    pub fn span(&self) -> Range<usize> {
        self.0.span()
    }
    pub fn get(&self) -> &T {
        self.0.get_ref()
    }
}

impl<T> Deref for Sp<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.get_ref()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sp<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        toml::Spanned::<T>::deserialize(d).map(Sp)
    }
}

impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

pub type Labels = BTreeMap<Sp<String>, Sp<String>>;

/// One baogen profile: everything needed to scrape OpenBao metrics and drive the
/// Kubernetes secrets engine for one environment.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Which scrape profile to compile: `active` (production default), `all-node` (private
    /// per-pod scrape) or `demo` (local Docker Compose, no auth).
    pub profile: Sp<ProfileKind>,
    /// The OpenBao version the output targets, as MAJOR.MINOR.PATCH (e.g. "2.7.2"); features it
    /// lacks are refused.
    // No schema `pattern` for the format: a regex would be compiled in every run (~0.2 ms, a fifth
    // of a process start); validate.rs checks it as strictly, with the same file:line:column.
    pub openbao_version: Option<Sp<String>>,
    /// Where `render` writes and what `check` compares against, relative to this file.
    pub output: Option<Sp<String>>,
    /// Base files this profile is layered on, relative to this file: a path, or a list applied
    /// in order. Tables merge key by key, other values are replaced, roles and demo nodes merge
    /// by name (`remove = true` deletes an inherited one).
    pub extends: Option<Extends>,
    #[serde(default)]
    pub openbao: OpenBao,
    #[serde(default)]
    pub telemetry: Telemetry,
    pub listener: Listeners,
    /// How Prometheus authenticates and what it scrapes (active and all-node).
    pub scrape: Option<Scrape>,
    #[serde(default)]
    pub prometheus: Prometheus,
    /// The local Docker Compose stack (demo only).
    pub demo: Option<Demo>,
    /// OpenBao's Kubernetes secrets engine: config and roles.
    pub kubernetes_secrets: Option<KubernetesSecrets>,
    /// Auto-unseal: a `seal` stanza in the generated server configuration.
    pub seal: Option<Seal>,
    /// Self-initialization (OpenBao 2.4+): on its first start, on empty storage, the server
    /// creates what this profile declares, from `initialize` stanzas baogen generates. Needs
    /// `[seal]`; revokes the root token, so `[self_init.admin]` names the way in.
    pub self_init: Option<Sp<SelfInit>>,
    /// Runbook links and per-alert overrides of the generated alerts.
    #[serde(default)]
    pub alerts: Alerts,
    /// The Grafana dashboards: where the sidecar finds them.
    #[serde(default)]
    pub grafana: Grafana,
    /// A declarative audit device in the generated server configuration (OpenBao 2.4+; the
    /// API refuses to create audit devices, and self-initialization cannot either).
    pub audit: Option<Sp<Audit>>,
}

/// The generated alerts.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// Where the rendered VERIFY.md is published, e.g.
    /// `https://github.com/acme/infra/blob/main/deploy/prod`: every alert's `runbook_url`
    /// becomes `<this>/VERIFY.md#<alert>` (default: the relative `VERIFY.md#<alert>`).
    pub runbook_base_url: Option<Sp<String>>,
    /// Per alert, by name (e.g. `[alerts.override.OpenBaoSealed]`): severity, `for`, extra
    /// labels, or `enabled = false`.
    #[serde(rename = "override")]
    pub overrides: Option<BTreeMap<Sp<String>, AlertOverride>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertOverride {
    /// `critical`, `warning` or `info`.
    pub severity: Option<Sp<String>>,
    /// How long the condition must hold (default `prometheus.alert_for`).
    #[serde(rename = "for")]
    pub for_: Option<Sp<String>>,
    /// Extra labels for routing (not `cluster`, `severity` or `alertname`).
    pub labels: Option<BTreeMap<Sp<String>, Sp<String>>>,
    /// `false` leaves the alert out of both rule files.
    pub enabled: Option<Sp<bool>>,
}

/// Grafana dashboards, shipped as ConfigMaps for the Grafana sidecar (Kubernetes) or
/// provisioned into the demo's Grafana service.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Grafana {
    /// Emit the dashboards (default true).
    pub dashboards: Option<Sp<bool>>,
    /// Namespace of the dashboard ConfigMaps (default: `prometheus.namespace`).
    pub namespace: Option<Sp<String>>,
    /// Labels the Grafana sidecar selects dashboard ConfigMaps by (default
    /// `grafana_dashboard = "1"`, the Grafana chart's default).
    pub sidecar_labels: Option<Sp<Labels>>,
}

/// A file audit device, declared in the server configuration.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    /// The device's path in OpenBao (default `file`).
    pub path: Option<Sp<String>>,
    /// The file inside the OpenBao container (an absolute path on a mounted volume, e.g. the
    /// chart's `auditStorage` at /openbao/audit), or `stdout`.
    pub file: Sp<String>,
}

/// The `seal` stanza. Only the `static` kind: a 32-byte AES key in a file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    /// `static`: the key is a file of 32 random bytes (`openssl rand -out FILE 32`).
    #[serde(rename = "type")]
    pub kind: Sp<SealKind>,
    /// Absolute path of the key file inside the OpenBao container, e.g. a mounted Secret.
    /// Only the path is written; the key never is.
    pub key_file: Sp<String>,
    /// Permanent identifier of that key (default `baogen-1`): change it with the key.
    pub key_id: Option<Sp<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SealKind {
    Static,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfInit {
    /// The administrative way in that replaces the root token self-initialization revokes.
    pub admin: Option<Admin>,
}

/// How an administrator gets in after self-initialization. Secrets never enter the profile:
/// only the environment variable or the file the server reads on its first start.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// `userpass` (a user whose password the server reads), `token` (a token whose id the
    /// server reads) or `none` (nobody gets in, on purpose).
    pub method: Sp<AdminMethod>,
    /// The userpass user (default `admin`).
    pub username: Option<Sp<String>>,
    /// userpass: the environment variable holding the password.
    pub password_env: Option<Sp<String>>,
    /// userpass: the file (inside the container) holding the password.
    pub password_file: Option<Sp<String>>,
    /// token: the environment variable holding the token id.
    pub token_id_env: Option<Sp<String>>,
    /// token: the file (inside the container) holding the token id.
    pub token_id_file: Option<Sp<String>>,
    /// The policy the administrator gets: every capability on every path (default
    /// `baogen-admin`).
    pub policy: Option<Sp<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AdminMethod {
    Userpass,
    Token,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileKind {
    Active,
    AllNode,
    Demo,
}

/// The OpenBao deployment the output is for.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBao {
    /// Namespace OpenBao runs in (default `openbao`).
    pub namespace: Option<Sp<String>>,
    /// OpenBao's own service account (default `openbao`).
    pub service_account: Option<Sp<String>>,
    /// The OpenBao StatefulSet the Downward API patch targets (default `openbao`).
    pub statefulset: Option<Sp<String>>,
    /// The OpenBao container in that StatefulSet (default `openbao`).
    pub container: Option<Sp<String>>,
    /// Labels that select OpenBao server pods.
    pub pod_labels: Option<Sp<Labels>>,
    /// Value of the `cluster` label added to every scraped series (default `openbao`).
    pub cluster: Option<Sp<String>>,
    /// The Kubernetes cluster this profile deploys to, by any name you use for it (such as
    /// its kubeconfig context). `render` and `check` refuse two profiles that name the same
    /// cluster and would emit the same object.
    pub kubernetes_cluster: Option<Sp<String>>,
}

/// `extends`: one base file or several, applied in order.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Extends {
    One(String),
    Several(Vec<String>),
}

/// The server's top-level `telemetry` stanza.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Telemetry {
    /// How long Prometheus-format metrics are retained (OpenBao default `24h`).
    pub prometheus_retention_time: Option<Sp<String>>,
    /// Drop the hostname prefix from gauge names (OpenBao default `false`).
    pub disable_hostname: Option<Sp<bool>>,
    /// Metric name prefix (OpenBao default `vault`).
    pub metrics_prefix: Option<Sp<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Listeners {
    /// The client API listener.
    pub api: ApiListener,
    /// An optional metrics-only listener (OpenBao 2.5.0 or newer).
    pub metrics: Option<MetricsListener>,
}

/// The client `listener "tcp"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiListener {
    /// `host:port` the listener binds.
    pub address: Sp<String>,
    /// `host:port` for cluster (Raft and forwarding) traffic.
    pub cluster_address: Option<Sp<String>>,
    pub tls_cert_file: Option<Sp<String>>,
    pub tls_key_file: Option<Sp<String>>,
    /// Turn TLS off: allowed only in `demo`.
    pub tls_disable: Option<Sp<bool>>,
    /// Serve metrics without a token on this listener: allowed only in `demo`.
    pub unauthenticated_metrics: Option<Sp<bool>>,
}

/// A `listener "tcp"` with `telemetry { metrics_only = true }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsListener {
    /// `host:port` the listener binds.
    pub address: Sp<String>,
    /// Defaults to the API listener's certificate.
    pub tls_cert_file: Option<Sp<String>>,
    /// Defaults to the API listener's key.
    pub tls_key_file: Option<Sp<String>>,
    /// Serve metrics without a token: only in `demo`, or in `all-node` behind a NetworkPolicy.
    pub unauthenticated_metrics: Option<Sp<bool>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scrape {
    /// The Secret (and key) holding the metrics token Prometheus sends as a Bearer token.
    pub token_secret: Option<KeyRef>,
    /// The ConfigMap (and key) holding the CA that signed OpenBao's serving certificate.
    pub ca_config_map: Option<KeyRef>,
    /// Scrape interval (default `30s`).
    pub interval: Option<Sp<String>>,
    /// Scrape timeout (default `10s`).
    pub scrape_timeout: Option<Sp<String>>,
    /// The `job` label value of every scraped series (default `openbao`).
    pub job: Option<Sp<String>>,
    /// Name of the scrape Service and its monitor (default `openbao-active-metrics` or
    /// `openbao-all-node-metrics`).
    pub service_name: Option<Sp<String>>,
    /// Name of the Service port (default `https-metrics`).
    pub port_name: Option<Sp<String>>,
    /// TLS server name Prometheus verifies (default `<service>.<namespace>.svc`).
    pub server_name: Option<Sp<String>>,
    /// Name of the metrics policy written to OpenBao (default `openbao-metrics`).
    pub policy_name: Option<Sp<String>>,
    /// The token role scrape tokens are minted from (`auth/token/roles/NAME`: orphan,
    /// periodic, the metrics policy only; default: the policy's name).
    pub token_role: Option<Sp<String>>,
    /// The scrape token's period: it lives as long as it is renewed within it (default `24h`).
    pub token_period: Option<Sp<String>>,
    /// CIDRs the scrape token may be used from (the Prometheus pods' network), if limited.
    pub token_bound_cidrs: Option<Vec<Sp<String>>>,
    /// A Kubernetes CronJob that renews the scrape token from the Secret Prometheus reads.
    pub renewal: Option<Sp<Renewal>>,
}

/// The scrape token's renewal CronJob (Kubernetes profiles with a token).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Renewal {
    /// An image with the `bao` CLI (default `quay.io/openbao/openbao:<openbao_version>`).
    pub image: Option<Sp<String>>,
    /// OpenBao's API URL from a pod in OpenBao's namespace (default
    /// `https://<statefulset>-active.<namespace>.svc:<api port>`); the serving certificate
    /// must name its host.
    pub address: Option<Sp<String>>,
}

/// A key inside a named Secret or ConfigMap.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRef {
    pub name: Sp<String>,
    pub key: Sp<String>,
}

/// The Prometheus that scrapes OpenBao.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Prometheus {
    /// Namespace Prometheus runs in (default `monitoring`).
    pub namespace: Option<Sp<String>>,
    /// Labels your Prometheus resource selects monitors and rules by.
    pub monitor_labels: Option<Sp<Labels>>,
    /// Labels of the Prometheus pods, for the NetworkPolicy (default
    /// `app.kubernetes.io/name = "prometheus"`).
    pub pod_labels: Option<Sp<Labels>>,
    /// Emit a NetworkPolicy so only Prometheus reaches the metrics port (required for all-node).
    pub network_policy: Option<Sp<bool>>,
    /// Path of the token file in the plain `prometheus.yml`.
    pub token_file: Option<Sp<String>>,
    /// Path of the CA file in the plain `prometheus.yml`.
    pub ca_file: Option<Sp<String>>,
    /// Static `host:port` targets for the plain `prometheus.yml` instead of Kubernetes discovery.
    pub static_targets: Option<Vec<Sp<String>>>,
    /// How long a condition must hold before an alert fires (default `5m`).
    pub alert_for: Option<Sp<String>>,
    /// `host:port` of the Alertmanagers the plain `prometheus.yml` sends alerts to (Prometheus
    /// Operator users configure Alertmanager on their Prometheus resource instead).
    pub alertmanagers: Option<Vec<Sp<String>>>,
}

/// The Docker Compose demo.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Demo {
    /// OpenBao image (default `quay.io/openbao/openbao:<openbao_version>`).
    pub openbao_image: Option<Sp<String>>,
    /// Prometheus image (default `prom/prometheus:v2.53.2`).
    pub prometheus_image: Option<Sp<String>>,
    /// Host port Prometheus is published on (default 9090).
    pub prometheus_port: Option<Sp<u16>>,
    /// Grafana image (default `grafana/grafana:11.3.0`).
    pub grafana_image: Option<Sp<String>>,
    /// Host port Grafana is published on (default 3000).
    pub grafana_port: Option<Sp<u16>>,
    /// The Raft nodes; each becomes one Compose service.
    pub nodes: Sp<Vec<DemoNode>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DemoNode {
    /// Compose service name and Raft node id.
    pub name: Sp<String>,
    /// In a profile that extends a base: delete the inherited node of this name.
    pub remove: Option<Sp<bool>>,
    /// Host name other nodes and Prometheus use (default: the name).
    pub host: Option<Sp<String>>,
    /// API port (default: the API listener's port).
    pub api_port: Option<Sp<u16>>,
    /// Cluster port (default: the API listener's cluster port).
    pub cluster_port: Option<Sp<u16>>,
    /// Metrics port (default: the metrics listener's port).
    pub metrics_port: Option<Sp<u16>>,
    /// Raft data directory (default `/openbao/data`).
    pub raft_path: Option<Sp<String>>,
}

/// OpenBao's Kubernetes secrets engine.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSecrets {
    /// Mount path of the engine (default `kubernetes`).
    pub mount: Option<Sp<String>>,
    /// Body of `POST <mount>/config`.
    pub config: EngineConfig,
    /// One `POST <mount>/roles/NAME` body each.
    #[serde(default)]
    pub roles: Vec<EngineRole>,
    /// Allow cluster-wide grants: generated ClusterRole rules with `*` verbs, resources,
    /// subresources (`pods/*`) or non-resource URLs, and binding the `cluster-admin` ClusterRole.
    pub allow_wildcard_grants: Option<Sp<bool>>,
    /// The mount's maximum lease TTL (`max_lease_ttl`), as seconds or a duration such as
    /// `2160h`. OpenBao caps every credential at it, silently, so a role TTL above it is
    /// refused; the default is OpenBao's own, 768h. When set, `baogen apply` tunes the mount to it
    /// (the server's `max_lease_ttl` must allow it).
    pub mount_max_lease_ttl: Option<Sp<String>>,
}

/// Body of `POST <mount>/config`. The service account JWT is a credential and never appears
/// here: `baogen apply --jwt-file` reads it from a file at apply time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Kubernetes API URL, e.g. `https://kubernetes.default.svc:443` (default: the pod's
    /// `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT_HTTPS`).
    pub kubernetes_host: Option<Sp<String>>,
    /// A PEM file of the CA certificate(s) that signed the API server's certificate, relative to
    /// the profile; its text becomes `kubernetes_ca_cert`.
    pub kubernetes_ca_cert_file: Option<Sp<String>>,
    /// Do not fall back to the pod's own CA and service account token (default false).
    pub disable_local_ca_jwt: Option<Sp<bool>>,
}

/// One `POST <mount>/roles/NAME` body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngineRole {
    /// Role name: lower-case letters, digits, `-`, `_` and `.`.
    pub name: Sp<String>,
    /// In a profile that extends a base: delete the inherited role of this name.
    pub remove: Option<Sp<bool>>,
    /// Namespaces credentials may be generated in; `["*"]` means all.
    pub allowed_kubernetes_namespaces: Option<Sp<Vec<Sp<String>>>>,
    /// Namespaces selected by their labels (ORed with the list).
    pub allowed_kubernetes_namespace_selector: Option<Sp<LabelSelector>>,
    /// Longest token lifetime, e.g. `24h` or seconds (default: the system's).
    pub token_max_ttl: Option<Sp<String>>,
    /// Default token lifetime, e.g. `1h` or seconds (default: the system's).
    pub token_default_ttl: Option<Sp<String>>,
    /// Default audiences of generated tokens (default: the cluster's).
    pub token_default_audiences: Option<Vec<Sp<String>>>,
    /// Mode 1: generate tokens for this pre-existing service account.
    pub service_account_name: Option<Sp<String>>,
    /// Mode 2: generate a service account bound to this pre-existing Role or ClusterRole.
    pub kubernetes_role_name: Option<Sp<String>>,
    /// `Role` (default) or `ClusterRole`, for modes 2 and 3.
    pub kubernetes_role_type: Option<Sp<String>>,
    /// Mode 3: generate a Role (or ClusterRole) with these rules, a binding and a service account.
    pub generated_role_rules: Option<Sp<Vec<PolicyRule>>>,
    /// Let credential requests ask for `cluster_role_binding = true` (ClusterRole only); gives
    /// OpenBao the right to create ClusterRoleBindings.
    pub cluster_role_binding: Option<Sp<bool>>,
    /// Go template for the names of generated objects (modes 2 and 3).
    pub name_template: Option<Sp<String>>,
    /// Annotations on generated objects (modes 2 and 3).
    pub extra_annotations: Option<Labels>,
    /// Labels on generated objects (modes 2 and 3).
    pub extra_labels: Option<Labels>,
}

/// A Kubernetes `LabelSelector`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelSelector {
    #[serde(rename = "matchLabels")]
    pub match_labels: Option<Labels>,
    #[serde(rename = "matchExpressions")]
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    pub key: Sp<String>,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: Sp<String>,
    pub values: Option<Sp<Vec<Sp<String>>>>,
}

/// A Kubernetes RBAC `PolicyRule`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    #[serde(rename = "apiGroups")]
    pub api_groups: Option<Sp<Vec<Sp<String>>>>,
    pub resources: Option<Sp<Vec<Sp<String>>>>,
    pub verbs: Sp<Vec<Sp<String>>>,
    #[serde(rename = "resourceNames")]
    pub resource_names: Option<Sp<Vec<Sp<String>>>>,
    #[serde(rename = "nonResourceURLs")]
    pub non_resource_urls: Option<Sp<Vec<Sp<String>>>>,
}
