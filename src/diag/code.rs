//! Every rule that can refuse a profile, and every kind of drift `check` reports, has a
//! stable code. Code and tests branch on these, never on message text; the README's table
//! of codes and the tests/bad corpus are checked against this list.
//!
//! The hundreds digit is the stage or feature: 01 reading, 02 names and values, 03
//! listeners, 04 scrape and Prometheus, 05 durations, 06 demo, 07 outputs, 08 the
//! Kubernetes secrets engine, 09 layered profiles (`extends`), 10 seal, self-initialization and
//! scrape tokens, 00 drift. A code, once published, keeps its number and meaning.

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $id:literal, $summary:literal;)*) => {
        /// A diagnostic's identity.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($(#[$doc])* $name,)*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];

            /// `BG0302`.
            pub fn id(self) -> &'static str {
                match self {
                    $(Code::$name => $id,)*
                }
            }

            /// One line saying what the rule is.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$name => $summary,)*
                }
            }
        }
    };
}

codes! {
    /// A committed file differs from what the profile renders.
    DriftChanged = "BG0001", "a committed output file differs from what the profile renders";
    DriftMissing = "BG0002", "an output file the profile renders is not committed";
    DriftExtra = "BG0003", "the output directory holds a file the profile does not render";
    DriftUnreadable = "BG0004", "an output entry is not a regular file baogen reads (a link, a FIFO, a directory)";

    Unreadable = "BG0101", "the profile cannot be read: missing, not a regular file, or larger than 4 MiB";
    NotUtf8 = "BG0102", "the profile is not UTF-8 text";
    Syntax = "BG0103", "TOML syntax error";
    Schema = "BG0104", "a key, type or value the profile schema does not allow";
    SecretInProfile = "BG0105", "a token, JWT or private key written into the profile";
    UnsafeFileName = "BG0106", "the profile's file name holds control, separator or bidi characters";
    NoProfileFound = "BG0107", "a directory given as input holds no profile (or too many files to walk)";

    KubernetesName = "BG0201", "not a valid Kubernetes object name or key";
    LabelKey = "BG0202", "not a valid Kubernetes label or annotation key";
    LabelValue = "BG0203", "not a valid Kubernetes label value";
    EmptyPodSelector = "BG0204", "an empty pod label set, which would select every pod";
    ReservedPodLabel = "BG0205", "openbao.pod_labels names a label OpenBao's service registration sets";
    Version = "BG0206", "openbao_version is not a supported version like 2.7.2";
    MetricsPrefix = "BG0207", "telemetry.metrics_prefix is not a Prometheus metric name prefix";
    FilePath = "BG0208", "a path that cannot be written safely into HCL, YAML or shell";
    HostName = "BG0209", "not a valid DNS host name";
    Image = "BG0210", "not a container image reference";
    ClusterName = "BG0211", "openbao.kubernetes_cluster is not a cluster name";

    Address = "BG0301", "not host:port with a port 1-65535";
    PortClash = "BG0302", "two listeners or demo nodes bind the same port";
    TlsOutsideDemo = "BG0303", "tls_disable outside the demo profile";
    TlsConflict = "BG0304", "TLS files that contradict each other or tls_disable";
    TlsWithoutCert = "BG0305", "TLS on without certificate files (OpenBao would fall back to ACME)";
    MetricsListenerTooOld = "BG0306", "a metrics-only listener on an OpenBao older than 2.5.0";
    UnauthenticatedApi = "BG0307", "unauthenticated metrics on the client API listener";
    ActiveNeedsToken = "BG0308", "unauthenticated metrics in the active profile";
    DemoNeedsUnauthenticated = "BG0309", "the demo profile's scraped listener requires a token";

    ScrapeMissing = "BG0401", "no [scrape] section where the profile needs one";
    TokenSecretMissing = "BG0402", "scrape.token_secret missing while the listener requires a token";
    TokenSecretUnused = "BG0403", "scrape.token_secret set while the listener serves metrics without a token";
    CaMissing = "BG0404", "scrape.ca_config_map missing: Prometheus could not verify OpenBao";
    CaUnused = "BG0405", "scrape.ca_config_map set while TLS is off";
    NetworkPolicyInDemo = "BG0406", "prometheus.network_policy in the Compose demo";
    AllNodeIsolation = "BG0407", "an all-node profile without a NetworkPolicy-isolated metrics listener";
    NetworkPolicyWithoutListener = "BG0408", "a NetworkPolicy without a metrics-only listener would cut off clients";
    StaticTargetsInDemo = "BG0409", "prometheus.static_targets in the demo profile";

    Duration = "BG0501", "not a duration such as 30s, 5m or 1h, or out of range";
    ZeroDuration = "BG0502", "a zero scrape interval or metrics retention";
    TimeoutAboveInterval = "BG0503", "scrape.scrape_timeout longer than scrape.interval";
    RetentionBelowInterval = "BG0504", "telemetry.prometheus_retention_time shorter than the scrape interval";

    DemoMissing = "BG0601", "the demo profile without a [demo] section";
    DemoOutsideDemo = "BG0602", "a [demo] section in a Kubernetes profile";
    DemoNoNodes = "BG0603", "[demo] lists no nodes";
    DemoDuplicateNode = "BG0604", "a demo node name listed twice";
    DemoMetricsPortWithoutListener = "BG0605", "a demo node metrics_port without [listener.metrics]";

    NoOutput = "BG0701", "no output directory declared or given";
    OutputOverlap = "BG0702", "an output that holds an input, or two outputs that overlap";
    OutputRefused = "BG0703", "an output directory baogen will not replace (foreign files, links)";
    ObjectCollision = "BG0704", "two profiles for one Kubernetes cluster emit the same object";

    TooManyRoles = "BG0801", "more engine roles than baogen renders";
    MountPath = "BG0802", "kubernetes_secrets.mount is not a mount path";
    Duplicate = "BG0803", "an engine role, namespace or audience listed twice";
    HttpsUrl = "BG0804", "kubernetes_host is not an https URL with a host";
    CaFileUnreadable = "BG0805", "kubernetes_ca_cert_file cannot be read";
    CaFileNotCertificate = "BG0806", "kubernetes_ca_cert_file holds no X.509 certificate";
    Ttl = "BG0807", "not a TTL the engine accepts";
    TtlBelowMinimum = "BG0808", "a token TTL below Kubernetes' 10-minute minimum";
    TtlAboveLimit = "BG0809", "a TTL above the mount's maximum, or a default above the role's maximum";
    RoleName = "BG0810", "not a valid engine role name";
    WildcardWithNamespaces = "BG0811", "\"*\" listed with other namespaces";
    NamespaceScope = "BG0812", "a role that allows no namespace, or a selector \"*\" makes moot";
    Audience = "BG0813", "not a valid token audience";
    BindingNeedsClusterRole = "BG0814", "cluster_role_binding without a ClusterRole";
    NoEffect = "BG0815", "an option that has no effect with service_account_name";
    NameTemplate = "BG0816", "name_template outside the Go template subset baogen checks, or invalid";
    ReservedLabel = "BG0817", "an extra label the engine sets itself";
    MetadataTooLarge = "BG0818", "extra labels and annotations above Kubernetes' 256 KiB";
    RoleModeNone = "BG0819", "a role that sets none of service_account_name, kubernetes_role_name and generated_role_rules";
    RoleModeSeveral = "BG0820", "a role that sets more than one of those";
    RoleType = "BG0821", "kubernetes_role_type is neither Role nor ClusterRole";
    ClusterAdmin = "BG0822", "a role that binds cluster-admin without allow_wildcard_grants";
    EmptyRules = "BG0823", "generated_role_rules is empty";
    IncompleteRule = "BG0824", "a policy rule without verbs, apiGroups or resources";
    RuleEntry = "BG0825", "an invalid verb, apiGroup, resource, resourceName or nonResourceURL";
    NonResourceUrls = "BG0826", "nonResourceURLs in a Role, or mixed with resources";
    WildcardGrant = "BG0827", "a wildcard grant in a ClusterRole without allow_wildcard_grants";
    SelectorExpression = "BG0828", "a label selector expression Kubernetes rejects";
    EmptySelector = "BG0829", "an empty namespace selector, which matches every namespace";

    BaseUnreadable = "BG0901", "a base named by extends cannot be read";
    ExtendsCycle = "BG0902", "extends leads back to a file already on the way";
    ExtendsTooDeep = "BG0903", "bases nested deeper than 5 levels";
    RemoveEntry = "BG0904", "remove = true that removes no inherited entry";
    NotAProfile = "BG0905", "a file without a profile key given as a profile (a base is not rendered on its own)";

    SelfInitWithoutSeal = "BG1001", "self_init without an auto-unseal [seal] (OpenBao would exit)";
    NoWayIn = "BG1002", "self_init without [self_init.admin]: the root token is revoked and nobody could log in";
    SelfInitTooOld = "BG1003", "self-initialization on an OpenBao older than 2.4.0";
    AdminSource = "BG1004", "an admin method without exactly one source for its secret, or with another method's keys";
    EnvName = "BG1005", "not an environment variable name";
    ContainerPath = "BG1006", "not an absolute path inside the OpenBao container";
    TokenPeriod = "BG1007", "scrape.token_period out of range, or too short for the renewal CronJob";
    Cidr = "BG1008", "not a CIDR block such as 10.42.0.0/16";
    TokenOptionsUnused = "BG1009", "token role options or renewal where Prometheus scrapes without a token";
    OpenBaoName = "BG1010", "not a valid OpenBao policy, role, user or key id";
    DemoInitFile = "BG1011", "a demo file the stack generates outside the seal key's directory";
    RenewalAddress = "BG1012", "scrape.renewal.address is not an https URL";
    SelfInitTemplate = "BG1013", "a value self-initialization cannot carry: '${' or '%{' in the server's HCL";

    UnknownAlert = "BG1101", "an alert override for an alert this profile does not emit";
    Severity = "BG1102", "an alert severity other than critical, warning or info";
    AlertLabel = "BG1103", "an alert label that is no Prometheus label name, one baogen sets, or a value with template braces";
    RunbookUrl = "BG1104", "alerts.runbook_base_url is not an http(s) URL without query or fragment";
    AuditTooOld = "BG1105", "a declarative audit device on an OpenBao older than 2.4.0";
}

impl Code {
    /// Drift is what `check` reports about committed output, not a refusal of a profile.
    pub fn is_drift(self) -> bool {
        self.id().starts_with("BG00")
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            let id = c.id();
            assert!(
                id.len() == 6
                    && id.starts_with("BG")
                    && id[2..].bytes().all(|b| b.is_ascii_digit()),
                "{id}"
            );
            assert!(seen.insert(id), "{id} twice");
            assert!(!c.summary().is_empty());
        }
    }
}
