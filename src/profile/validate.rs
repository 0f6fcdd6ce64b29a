//! Semantic and security rules: `raw::Profile` → `model::Profile`. Every rule has its own
//! error text and help; all problems are collected in one pass.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use super::raw::{self, Sp};
use super::rules;
use crate::diag::{Code, Diagnostic};
use crate::model::{self, Kind, MetricsAccess, Version};

/// Collects diagnostics while validation walks the profile.
pub(crate) struct Ctx<'a> {
    pub path: &'a Path,
    /// The directory the profile's relative paths resolve against.
    pub base: &'a Path,
    /// The files the profile names, as `load` read them: validation reads nothing itself.
    pub files: &'a super::NamedFiles,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(path: &'a Path, base: &'a Path, files: &'a super::NamedFiles) -> Self {
        Ctx {
            path,
            base,
            files,
            diags: Vec::new(),
        }
    }

    pub(super) fn error(
        &mut self,
        code: Code,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.push(Diagnostic::new(code, self.path, span, message).help(help));
    }

    pub(super) fn push(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// A clash: `message` at `span`, and `first_label` at the `first` place it clashes with.
    pub(super) fn clash(
        &mut self,
        code: Code,
        span: Range<usize>,
        message: impl Into<String>,
        first: Range<usize>,
        first_label: impl Into<String>,
        help: &str,
    ) {
        let d = Diagnostic::new(code, self.path, Some(span), message)
            .label(first, first_label)
            .help(help);
        self.push(d);
    }

    /// Whether a problem with this code was found so far.
    pub(super) fn found(&self, code: Code) -> bool {
        self.diags.iter().any(|d| d.code == code)
    }

    /// Run a string check; on failure report `<what> <reason>` at the value.
    pub(super) fn check<T>(
        &mut self,
        code: Code,
        value: &Sp<String>,
        what: &str,
        check: impl FnOnce(&str) -> Result<T, String>,
        help: &str,
    ) -> Option<T> {
        match check(value.get()) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.error(
                    code,
                    Some(value.span()),
                    format!("{what} '{}' {reason}", value.get().escape_debug()),
                    help,
                );
                None
            }
        }
    }

    fn name(
        &mut self,
        value: &Option<Sp<String>>,
        default: &str,
        what: &str,
        check: fn(&str) -> Result<(), String>,
    ) -> String {
        match value {
            Some(v) => {
                self.check(
                    Code::KubernetesName,
                    v,
                    what,
                    check,
                    "use a valid Kubernetes name, e.g. openbao-metrics",
                );
                v.get().clone()
            }
            None => default.to_string(),
        }
    }

    pub(super) fn labels(&mut self, labels: &raw::Labels, what: &str) -> model::Labels {
        let mut out = BTreeMap::new();
        for (k, v) in labels {
            self.check(
                Code::LabelKey,
                k,
                &format!("{what} key"),
                rules::label_key,
                "label keys look like app.kubernetes.io/name",
            );
            self.check(
                Code::LabelValue,
                v,
                &format!("{what} value for '{}'", k.get()),
                rules::label_value,
                "label values are at most 63 characters of letters, digits, '-', '_' and '.'",
            );
            out.insert(k.get().clone(), v.get().clone());
        }
        out
    }

    fn duration(
        &mut self,
        value: &Option<Sp<String>>,
        default: &str,
        what: &str,
    ) -> (String, u64, Option<Range<usize>>) {
        match value {
            Some(v) => {
                let ms = self
                    .check(
                        Code::Duration,
                        v,
                        what,
                        rules::duration_ms,
                        "write a duration such as 30s, 5m or 1h",
                    )
                    .unwrap_or(0);
                (v.get().clone(), ms, Some(v.span()))
            }
            None => (
                default.to_string(),
                rules::duration_ms(default).unwrap_or(0),
                None,
            ),
        }
    }

    fn address(&mut self, value: &Sp<String>, what: &str) -> Option<model::Address> {
        self.check(
            Code::Address,
            value,
            what,
            rules::address,
            "write host:port, e.g. 0.0.0.0:8200",
        )
        .map(|(host, port)| model::Address { host, port })
    }

    fn path(&mut self, value: &Sp<String>, what: &str) -> String {
        self.check(
            Code::FilePath,
            value,
            what,
            rules::file_path,
            "give the path of the file inside the OpenBao container",
        );
        value.get().clone()
    }

    fn key_ref(&mut self, r: &raw::KeyRef, what: &str) -> model::KeyRef {
        self.check(
            Code::KubernetesName,
            &r.name,
            &format!("{what} name"),
            rules::dns_subdomain,
            "use the Kubernetes object's name, e.g. openbao-metrics-token",
        );
        self.check(
            Code::KubernetesName,
            &r.key,
            &format!("{what} key"),
            rules::config_key,
            "use the key inside the object, e.g. token or ca.crt",
        );
        model::KeyRef {
            name: r.name.get().clone(),
            key: r.key.get().clone(),
        }
    }
}

const SUPPORTED_SINCE: Version = Version(2, 0, 0);

fn parse_version(s: &str) -> Result<Version, String> {
    let parts: Vec<&str> = s.split('.').collect();
    // Digits only: `u32::from_str` would also take "+2".
    let number = |p: &&str| {
        (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let nums: Option<Vec<u32>> = parts.iter().map(number).collect();
    match nums.as_deref() {
        Some([a, b, c]) if parts.len() == 3 => {
            let v = Version(*a, *b, *c);
            if v < SUPPORTED_SINCE {
                Err(format!(
                    "is older than {SUPPORTED_SINCE}, the oldest OpenBao baogen supports"
                ))
            } else {
                Ok(v)
            }
        }
        _ => Err("is not a version like 2.7.2".into()),
    }
}

pub(super) fn validate(
    path: &Path,
    base: &Path,
    files: &super::NamedFiles,
    raw: &raw::Profile,
) -> (Option<model::Profile>, Vec<Diagnostic>) {
    let mut cx = Ctx::new(path, base, files);
    let profile = profile(&mut cx, raw);
    if cx.diags.is_empty() {
        (Some(profile), cx.diags)
    } else {
        (None, cx.diags)
    }
}

fn profile(cx: &mut Ctx<'_>, raw: &raw::Profile) -> model::Profile {
    let kind = match raw.profile.get() {
        raw::ProfileKind::Active => Kind::Active,
        raw::ProfileKind::AllNode => Kind::AllNode,
        raw::ProfileKind::Demo => Kind::Demo,
    };
    let demo = kind == Kind::Demo;

    let openbao_version = match &raw.openbao_version {
        Some(v) => cx
            .check(
                Code::Version,
                v,
                "openbao_version",
                parse_version,
                "name the OpenBao release you run, e.g. \"2.7.2\"",
            )
            .unwrap_or(model::DEFAULT_OPENBAO_VERSION),
        None => model::DEFAULT_OPENBAO_VERSION,
    };

    let output = raw.output.as_ref().map(|o| {
        cx.check(
            Code::FilePath,
            o,
            "output",
            rules::file_path,
            "give a directory relative to the profile",
        );
        cx.base.join(o.get())
    });

    let openbao = openbao(cx, &raw.openbao, kind);
    let telemetry = telemetry(cx, &raw.telemetry);
    let (api_listener, metrics_listener) = listeners(cx, &raw.listener, kind, openbao_version);
    let network_policy = network_policy(cx, raw, kind, metrics_listener.as_ref());
    let scrape = scrape(
        cx,
        raw,
        kind,
        &openbao,
        &api_listener,
        metrics_listener.as_ref(),
    );
    let prometheus = prometheus(cx, &raw.prometheus, kind, &scrape, network_policy);

    // Retention shorter than the scrape interval makes series vanish between scrapes.
    if let Some(v) = &raw.telemetry.prometheus_retention_time {
        if let (Ok(retention), Ok(interval)) = (
            rules::duration_ms(v.get()),
            rules::duration_ms(&scrape.interval),
        ) {
            if retention < interval && retention > 0 {
                cx.error(Code::RetentionBelowInterval,
                    Some(v.span()),
                    format!("telemetry.prometheus_retention_time '{}' is shorter than the scrape interval '{}'", v.get(), scrape.interval),
                    "OpenBao would drop metrics between scrapes: set a retention at least as long as scrape.interval",
                );
            }
        }
    }

    let demo_cfg = match (&raw.demo, demo) {
        (Some(d), true) => Some(demo_section(
            cx,
            d,
            openbao_version,
            &api_listener,
            metrics_listener.as_ref(),
        )),
        (None, true) => {
            cx.error(
                Code::DemoMissing,
                Some(raw.profile.span()),
                "the demo profile needs a [demo] section with its Compose nodes",
                "add [[demo.nodes]] entries, e.g. name = \"openbao-node0\"",
            );
            None
        }
        (Some(_), false) => {
            cx.error(
                Code::DemoOutsideDemo,
                Some(raw.profile.span()),
                format!(
                    "[demo] is only for profile = \"demo\", not \"{}\"",
                    kind.as_str()
                ),
                "remove the [demo] section",
            );
            None
        }
        (None, false) => None,
    };

    let engine = raw
        .kubernetes_secrets
        .as_ref()
        .map(|ks| super::engine::engine(cx, ks));

    let name = cx
        .path
        .file_stem()
        .map_or_else(|| "profile".into(), |s| s.to_string_lossy().into_owned());
    model::Profile {
        path: cx.path.to_path_buf(),
        name,
        kind,
        openbao_version,
        output,
        output_span: raw.output.as_ref().map(|o| o.span()),
        openbao,
        telemetry,
        api_listener,
        metrics_listener,
        scrape,
        prometheus,
        demo: demo_cfg,
        engine,
    }
}

fn openbao(cx: &mut Ctx<'_>, raw: &raw::OpenBao, kind: Kind) -> model::OpenBao {
    let pod_labels = match &raw.pod_labels {
        Some(l) => {
            if l.is_empty() {
                cx.error(Code::EmptyPodSelector, Some(l.span()), "openbao.pod_labels is empty: the scrape would select every pod in the namespace", "list the labels of the OpenBao server pods, e.g. \"app.kubernetes.io/name\" = \"openbao\"");
            }
            for (k, _) in l.get().iter() {
                if k.get().starts_with("openbao-")
                    && matches!(
                        k.get().as_str(),
                        "openbao-active"
                            | "openbao-sealed"
                            | "openbao-initialized"
                            | "openbao-perf-standby"
                    )
                {
                    let why = if kind == Kind::AllNode {
                        "the all-node scrape must reach every pod, active or not"
                    } else {
                        "baogen adds openbao-active itself where the profile needs it"
                    };
                    cx.error(Code::ReservedPodLabel, Some(k.span()), format!("openbao.pod_labels must not contain '{}', a label service registration sets", k.get()), why);
                }
            }
            cx.labels(l.get(), "openbao.pod_labels")
        }
        None => [
            ("app.kubernetes.io/instance", "openbao"),
            ("app.kubernetes.io/name", "openbao"),
            ("component", "server"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    };
    let cluster = match &raw.cluster {
        Some(c) => {
            cx.check(Code::LabelValue, c, "openbao.cluster", rules::label_value, "the cluster label value is at most 63 characters of letters, digits, '-', '_' and '.'");
            c.get().clone()
        }
        None => "openbao".into(),
    };
    model::OpenBao {
        namespace: cx.name(
            &raw.namespace,
            "openbao",
            "openbao.namespace",
            rules::dns_label,
        ),
        service_account: cx.name(
            &raw.service_account,
            "openbao",
            "openbao.service_account",
            rules::dns_subdomain,
        ),
        statefulset: cx.name(
            &raw.statefulset,
            "openbao",
            "openbao.statefulset",
            rules::dns_subdomain,
        ),
        container: cx.name(
            &raw.container,
            "openbao",
            "openbao.container",
            rules::dns_label,
        ),
        pod_labels,
        cluster,
    }
}

fn telemetry(cx: &mut Ctx<'_>, raw: &raw::Telemetry) -> model::Telemetry {
    let (retention, ms, span) = cx.duration(
        &raw.prometheus_retention_time,
        "30s",
        "telemetry.prometheus_retention_time",
    );
    if ms == 0 && span.is_some() && rules::duration_ms(&retention).is_ok() {
        cx.error(
            Code::ZeroDuration,
            span,
            "telemetry.prometheus_retention_time is 0, which turns Prometheus metrics off",
            "set a retention such as 30s",
        );
    }
    let metrics_prefix = raw.metrics_prefix.as_ref().map(|p| {
        cx.check(
            Code::MetricsPrefix,
            p,
            "telemetry.metrics_prefix",
            |s| {
                let ok = !s.is_empty()
                    && s.bytes()
                        .next()
                        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if ok {
                    Ok(())
                } else {
                    Err(
                        "is not a Prometheus metric name prefix ([a-zA-Z_][a-zA-Z0-9_]*)"
                            .to_string(),
                    )
                }
            },
            "use letters, digits and '_', e.g. vault",
        );
        p.get().clone()
    });
    model::Telemetry {
        prometheus_retention_time: retention,
        disable_hostname: raw.disable_hostname.as_ref().is_none_or(|b| *b.get()),
        metrics_prefix,
    }
}

fn listeners(
    cx: &mut Ctx<'_>,
    raw: &raw::Listeners,
    kind: Kind,
    version: Version,
) -> (model::ApiListener, Option<model::MetricsListener>) {
    let demo = kind == Kind::Demo;
    let api = &raw.api;
    let address = cx.address(&api.address, "listener.api.address");
    let cluster_address = api
        .cluster_address
        .as_ref()
        .and_then(|a| cx.address(a, "listener.api.cluster_address"));
    let tls_off = api.tls_disable.as_ref().is_some_and(|b| *b.get());

    if let Some(b) = &api.tls_disable {
        if *b.get() && !demo {
            cx.error(Code::TlsOutsideDemo, Some(b.span()), format!("TLS is required for the {} profile: tls_disable = true is only allowed in demo", kind.as_str()), "remove tls_disable and set tls_cert_file and tls_key_file");
        }
    }
    let tls = if tls_off {
        for f in [&api.tls_cert_file, &api.tls_key_file]
            .into_iter()
            .flatten()
        {
            cx.error(
                Code::TlsConflict,
                Some(f.span()),
                "listener.api sets a TLS file and tls_disable = true",
                "remove either the TLS files or tls_disable",
            );
        }
        None
    } else {
        match (&api.tls_cert_file, &api.tls_key_file) {
            (Some(c), Some(k)) => Some(model::Tls {
                cert_file: cx.path(c, "listener.api.tls_cert_file"),
                key_file: cx.path(k, "listener.api.tls_key_file"),
            }),
            _ => {
                cx.error(Code::TlsWithoutCert,
                    Some(api.address.span()),
                    "listener.api has TLS on but no tls_cert_file and tls_key_file: OpenBao would fall back to ACME and clients would hang",
                    if demo { "set tls_cert_file and tls_key_file, or tls_disable = true for the demo" } else { "set tls_cert_file and tls_key_file" },
                );
                None
            }
        }
    };

    let metrics = raw.metrics.as_ref().map(|m| {
        let address = cx.address(&m.address, "listener.metrics.address");
        if version < model::METRICS_ONLY_SINCE {
            cx.error(Code::MetricsListenerTooOld, Some(m.address.span()), format!("a metrics-only listener needs OpenBao {} or newer; this profile targets {version}", model::METRICS_ONLY_SINCE), "raise openbao_version or remove [listener.metrics] and scrape the API listener");
        }
        let own_tls = match (&m.tls_cert_file, &m.tls_key_file) {
            (Some(c), Some(k)) => Some(model::Tls { cert_file: cx.path(c, "listener.metrics.tls_cert_file"), key_file: cx.path(k, "listener.metrics.tls_key_file") }),
            (None, None) => None,
            (Some(f), None) | (None, Some(f)) => {
                cx.error(Code::TlsConflict, Some(f.span()), "listener.metrics sets only one of tls_cert_file and tls_key_file", "set both, or neither to reuse the API listener's certificate");
                None
            }
        };
        if tls_off && own_tls.is_some() {
            cx.error(Code::TlsConflict, Some(m.address.span()), "listener.metrics has TLS files but listener.api has tls_disable = true", "the demo turns TLS off for both listeners: remove the metrics listener's TLS files");
        }
        let unauth = m.unauthenticated_metrics.as_ref().is_some_and(|b| *b.get());
        model::MetricsListener {
            address: address.unwrap_or(model::Address { host: String::new(), port: 0 }),
            tls: if tls_off { None } else { own_tls.or_else(|| tls.clone()) },
            metrics: if unauth { MetricsAccess::Unauthenticated } else { MetricsAccess::Token },
        }
    });

    let api_metrics = match (&metrics, &api.unauthenticated_metrics) {
        (Some(_), Some(b)) if *b.get() => {
            cx.error(Code::UnauthenticatedApi, Some(b.span()), "listener.api cannot serve unauthenticated metrics when a metrics-only listener exists", "remove unauthenticated_metrics from listener.api: the API listener gets disallow_metrics = true");
            MetricsAccess::Disallowed
        }
        (Some(_), _) => MetricsAccess::Disallowed,
        (None, Some(b)) if *b.get() => {
            if !demo {
                cx.error(Code::UnauthenticatedApi, Some(b.span()), "unauthenticated metrics are only allowed on a metrics-only listener, never on the client API listener", "add [listener.metrics] with unauthenticated_metrics = true behind a NetworkPolicy (all-node), or keep token auth");
            }
            MetricsAccess::Unauthenticated
        }
        (None, _) => MetricsAccess::Token,
    };

    let api = model::ApiListener {
        address: address.unwrap_or(model::Address {
            host: String::new(),
            port: 0,
        }),
        cluster_address,
        tls,
        metrics: api_metrics,
    };
    if !cx.found(Code::Address) {
        ports_distinct(cx, raw, &api, metrics.as_ref());
    }
    (api, metrics)
}

/// Every port OpenBao binds on one host must differ, counting the hidden cluster port a
/// listener without `cluster_address` binds at its own port + 1 after unseal.
fn ports_distinct(
    cx: &mut Ctx<'_>,
    raw: &raw::Listeners,
    api: &model::ApiListener,
    metrics: Option<&model::MetricsListener>,
) {
    let mut used: Vec<(u16, String, Range<usize>)> = Vec::new();
    let mut claim = |cx: &mut Ctx<'_>, port: u16, what: String, span: Range<usize>| {
        if let Some((_, other, first)) = used.iter().find(|(p, _, _)| *p == port) {
            cx.clash(Code::PortClash, span.clone(), format!("port {port} of {what} clashes with {other}"), first.clone(), format!("{other} binds port {port}"), "give every listener its own port, leaving a gap: a listener without cluster_address also binds its port + 1");
        } else {
            used.push((port, what, span));
        }
    };
    claim(
        cx,
        api.address.port,
        "listener.api.address".into(),
        raw.api.address.span(),
    );
    match (&api.cluster_address, &raw.api.cluster_address) {
        (Some(c), Some(r)) => claim(cx, c.port, "listener.api.cluster_address".into(), r.span()),
        _ => claim(
            cx,
            api.address.port.wrapping_add(1),
            "the API listener's implied cluster port".into(),
            raw.api.address.span(),
        ),
    }
    if let (Some(m), Some(r)) = (metrics, &raw.metrics) {
        claim(
            cx,
            m.address.port,
            "listener.metrics.address".into(),
            r.address.span(),
        );
        claim(
            cx,
            m.address.port.wrapping_add(1),
            "the metrics listener's implied cluster port (its port + 1)".into(),
            r.address.span(),
        );
    }
}

fn network_policy(
    cx: &mut Ctx<'_>,
    raw: &raw::Profile,
    kind: Kind,
    metrics: Option<&model::MetricsListener>,
) -> bool {
    let np = raw.prometheus.network_policy.as_ref();
    match kind {
        Kind::Demo => {
            if let Some(b) = np {
                cx.error(Code::NetworkPolicyInDemo, Some(b.span()), "prometheus.network_policy has no meaning in the demo profile, which runs in Docker Compose", "remove it");
            }
            false
        }
        Kind::AllNode => {
            if let Some(b) = np.filter(|b| !*b.get()) {
                cx.error(Code::AllNodeIsolation, Some(b.span()), "the all-node profile requires strict network isolation: prometheus.network_policy cannot be false", "remove network_policy = false; baogen emits a NetworkPolicy that lets only Prometheus reach the metrics port");
            }
            if metrics.is_none() {
                cx.error(Code::AllNodeIsolation, Some(raw.profile.span()), "the all-node profile needs a metrics-only listener ([listener.metrics]) so the NetworkPolicy can isolate scrape traffic from client traffic", "add [listener.metrics] with address = \"0.0.0.0:8202\"");
            }
            true
        }
        Kind::Active => {
            let on = np.is_some_and(|b| *b.get());
            if on && metrics.is_none() {
                cx.error(Code::NetworkPolicyWithoutListener, Some(np.map_or(raw.profile.span(), |b| b.span())), "prometheus.network_policy needs a metrics-only listener: restricting the API port to Prometheus would cut off every client", "add [listener.metrics], or remove network_policy");
            }
            on
        }
    }
}

fn scrape(
    cx: &mut Ctx<'_>,
    raw: &raw::Profile,
    kind: Kind,
    openbao: &model::OpenBao,
    api: &model::ApiListener,
    metrics: Option<&model::MetricsListener>,
) -> model::Scrape {
    let demo = kind == Kind::Demo;
    let (access, tls, port) = match metrics {
        Some(m) => (m.metrics, m.tls.is_some(), m.address.port),
        None => (api.metrics, api.tls.is_some(), api.address.port),
    };
    if access == MetricsAccess::Unauthenticated && kind == Kind::Active {
        let span = raw
            .listener
            .metrics
            .as_ref()
            .and_then(|m| m.unauthenticated_metrics.as_ref())
            .map(|b| b.span());
        cx.error(Code::ActiveNeedsToken, span, "the active profile requires token authentication: unauthenticated metrics are only for all-node (behind a NetworkPolicy) and demo", "remove unauthenticated_metrics, or use profile = \"all-node\"");
    }
    if demo && access != MetricsAccess::Unauthenticated {
        let span = raw
            .listener
            .metrics
            .as_ref()
            .map_or(raw.listener.api.address.span(), |m| m.address.span());
        cx.error(Code::DemoNeedsUnauthenticated, Some(span), "the demo profile scrapes without a token, so the scraped listener must set unauthenticated_metrics = true", "add unauthenticated_metrics = true to the scraped listener");
    }
    let empty = raw::Scrape {
        token_secret: None,
        ca_config_map: None,
        interval: None,
        scrape_timeout: None,
        job: None,
        service_name: None,
        port_name: None,
        server_name: None,
        policy_name: None,
    };
    let s = match &raw.scrape {
        Some(s) => s,
        None => {
            if !demo {
                cx.error(Code::ScrapeMissing, Some(raw.profile.span()), format!("the {} profile needs a [scrape] section naming the token Secret and CA ConfigMap", kind.as_str()), "add [scrape] with token_secret and ca_config_map");
            }
            &empty
        }
    };

    let token_secret = match (&s.token_secret, access == MetricsAccess::Token) {
        (Some(r), true) => Some(cx.key_ref(r, "scrape.token_secret")),
        (None, true) if !demo && raw.scrape.is_some() => {
            cx.error(
                Code::TokenSecretMissing,
                Some(raw.profile.span()),
                "scrape.token_secret is missing: the scraped listener requires a token",
                "add token_secret = { name = \"openbao-metrics-token\", key = \"token\" }",
            );
            None
        }
        (Some(r), false) => {
            cx.error(Code::TokenSecretUnused, Some(r.name.span()), "scrape.token_secret is set but the scraped listener serves metrics without a token", "remove token_secret, or turn unauthenticated_metrics off");
            None
        }
        _ => None,
    };
    let ca_config_map = match (&s.ca_config_map, tls) {
        (Some(r), true) => Some(cx.key_ref(r, "scrape.ca_config_map")),
        (None, true) if !demo && raw.scrape.is_some() => {
            cx.error(Code::CaMissing, Some(raw.profile.span()), "scrape.ca_config_map is missing: Prometheus must verify OpenBao's certificate (baogen never emits insecureSkipVerify)", "add ca_config_map = { name = \"openbao-metrics-ca\", key = \"ca.crt\" }");
            None
        }
        (Some(r), false) => {
            cx.error(
                Code::CaUnused,
                Some(r.name.span()),
                "scrape.ca_config_map is set but the scraped listener has TLS off",
                "remove ca_config_map",
            );
            None
        }
        (None, true) => Some(model::KeyRef {
            name: "openbao-metrics-ca".into(),
            key: "ca.crt".into(),
        }),
        (None, false) => None,
    };

    let (interval, interval_ms, _) = cx.duration(&s.interval, "30s", "scrape.interval");
    let (timeout, timeout_ms, timeout_span) =
        cx.duration(&s.scrape_timeout, "10s", "scrape.scrape_timeout");
    if interval_ms == 0
        && s.interval
            .as_ref()
            .is_some_and(|v| rules::duration_ms(v.get()).is_ok())
    {
        cx.error(
            Code::ZeroDuration,
            s.interval.as_ref().map(|v| v.span()),
            "scrape.interval must be longer than 0",
            "use e.g. 30s",
        );
    }
    if timeout_ms > interval_ms && interval_ms > 0 {
        cx.error(
            Code::TimeoutAboveInterval,
            timeout_span.or_else(|| s.interval.as_ref().map(|v| v.span())),
            format!(
                "scrape.scrape_timeout '{timeout}' is longer than scrape.interval '{interval}'"
            ),
            "Prometheus rejects a timeout longer than the interval: shorten scrape_timeout",
        );
    }
    let job = match &s.job {
        Some(j) => {
            cx.check(
                Code::LabelValue,
                j,
                "scrape.job",
                rules::label_value,
                "the job label value is at most 63 characters of letters, digits, '-', '_' and '.'",
            );
            j.get().clone()
        }
        None => "openbao".into(),
    };
    let default_service = if kind == Kind::AllNode {
        "openbao-all-node-metrics"
    } else {
        "openbao-active-metrics"
    };
    let service_name = cx.name(
        &s.service_name,
        default_service,
        "scrape.service_name",
        rules::dns_label,
    );
    let port_name = cx.name(
        &s.port_name,
        if tls { "https-metrics" } else { "http-metrics" },
        "scrape.port_name",
        rules::port_name,
    );
    let server_name = match &s.server_name {
        Some(n) => {
            cx.check(
                Code::HostName,
                n,
                "scrape.server_name",
                rules::host,
                "the DNS name in OpenBao's serving certificate",
            );
            n.get().clone()
        }
        None => format!("{service_name}.{}.svc", openbao.namespace),
    };
    let policy_name = match &s.policy_name {
        Some(p) => {
            cx.check(
                Code::KubernetesName,
                p,
                "scrape.policy_name",
                rules::dns_label,
                "policy names here are lower-case letters, digits and '-'",
            );
            p.get().clone()
        }
        None => "openbao-metrics".into(),
    };
    model::Scrape {
        token_secret,
        ca_config_map,
        interval,
        scrape_timeout: timeout,
        job,
        service_name,
        port_name,
        server_name,
        policy_name,
        port,
    }
}

fn prometheus(
    cx: &mut Ctx<'_>,
    raw: &raw::Prometheus,
    kind: Kind,
    scrape: &model::Scrape,
    network_policy: bool,
) -> model::Prometheus {
    let pod_labels = match &raw.pod_labels {
        Some(l) => {
            if l.is_empty() {
                cx.error(Code::EmptyPodSelector, Some(l.span()), "prometheus.pod_labels is empty: the NetworkPolicy would let every pod in the Prometheus namespace through", "list the labels of your Prometheus pods, e.g. \"app.kubernetes.io/name\" = \"prometheus\"");
            }
            cx.labels(l.get(), "prometheus.pod_labels")
        }
        None => [(
            "app.kubernetes.io/name".to_string(),
            "prometheus".to_string(),
        )]
        .into(),
    };
    let file = |cx: &mut Ctx<'_>, v: &Option<Sp<String>>, what: &str, default: String| match v {
        Some(p) => cx.path(p, what),
        None => default,
    };
    let token_file = file(
        cx,
        &raw.token_file,
        "prometheus.token_file",
        scrape.token_secret.as_ref().map_or(String::new(), |t| {
            format!("/etc/prometheus/secrets/{}/{}", t.name, t.key)
        }),
    );
    let ca_file = file(
        cx,
        &raw.ca_file,
        "prometheus.ca_file",
        scrape.ca_config_map.as_ref().map_or(String::new(), |c| {
            format!("/etc/prometheus/configmaps/{}/{}", c.name, c.key)
        }),
    );
    let mut static_targets = Vec::new();
    for t in raw.static_targets.iter().flatten() {
        if kind == Kind::Demo {
            cx.error(Code::StaticTargetsInDemo, Some(t.span()), "prometheus.static_targets is not used by the demo profile: its targets are the [[demo.nodes]]", "remove static_targets");
        }
        cx.check(
            Code::Address,
            t,
            "prometheus.static_targets entry",
            rules::address,
            "write host:port",
        );
        static_targets.push(t.get().clone());
    }
    let (alert_for, _, _) = cx.duration(&raw.alert_for, "5m", "prometheus.alert_for");
    model::Prometheus {
        namespace: cx.name(
            &raw.namespace,
            "monitoring",
            "prometheus.namespace",
            rules::dns_label,
        ),
        monitor_labels: raw
            .monitor_labels
            .as_ref()
            .map(|l| cx.labels(l, "prometheus.monitor_labels"))
            .unwrap_or_default(),
        pod_labels,
        network_policy,
        token_file,
        ca_file,
        static_targets,
        alert_for,
    }
}

fn demo_section(
    cx: &mut Ctx<'_>,
    raw: &raw::Demo,
    version: Version,
    api: &model::ApiListener,
    metrics: Option<&model::MetricsListener>,
) -> model::Demo {
    let image = |cx: &mut Ctx<'_>, v: &Option<Sp<String>>, what: &str, default: String| match v {
        Some(i) => {
            cx.check(
                Code::Image,
                i,
                what,
                |s| {
                    if !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                        Ok(())
                    } else {
                        Err("is not an image reference".to_string())
                    }
                },
                "e.g. quay.io/openbao/openbao:2.7.2",
            );
            i.get().clone()
        }
        None => default,
    };
    let openbao_image = image(
        cx,
        &raw.openbao_image,
        "demo.openbao_image",
        format!("quay.io/openbao/openbao:{version}"),
    );
    let prometheus_image = image(
        cx,
        &raw.prometheus_image,
        "demo.prometheus_image",
        "prom/prometheus:v2.53.2".into(),
    );
    if raw.nodes.is_empty() {
        cx.error(
            Code::DemoNoNodes,
            Some(raw.nodes.span()),
            "[demo] lists no nodes",
            "add [[demo.nodes]] entries, e.g. name = \"openbao-node0\"",
        );
    }
    let mut nodes: Vec<model::DemoNode> = Vec::new();
    let mut bound: Vec<(String, u16, String, Range<usize>)> = Vec::new();
    let mut named: BTreeMap<&str, Range<usize>> = BTreeMap::new();
    for n in raw.nodes.get() {
        cx.check(
            Code::KubernetesName,
            &n.name,
            "demo node name",
            rules::dns_label,
            "Compose service names here are lower-case letters, digits and '-'",
        );
        if let Some(first) = named.insert(n.name.get(), n.name.span()) {
            cx.clash(
                Code::DemoDuplicateNode,
                n.name.span(),
                format!("demo node '{}' is listed twice", n.name.get()),
                first,
                "first listed here",
                "give every node its own name",
            );
            continue;
        }
        let host = match &n.host {
            Some(h) => {
                cx.check(
                    Code::HostName,
                    h,
                    "demo node host",
                    rules::host,
                    "a host name or IP address",
                );
                h.get().clone()
            }
            None => n.name.get().clone(),
        };
        let port = |p: &Option<Sp<u16>>, default: u16| p.as_ref().map_or(default, |p| *p.get());
        let api_port = port(&n.api_port, api.address.port);
        let cluster_port = port(
            &n.cluster_port,
            api.cluster_address
                .as_ref()
                .map_or(api.address.port.wrapping_add(1), |c| c.port),
        );
        let metrics_port = match (metrics, &n.metrics_port) {
            (Some(m), p) => Some(port(p, m.address.port)),
            (None, Some(p)) => {
                cx.error(
                    Code::DemoMetricsPortWithoutListener,
                    Some(p.span()),
                    "demo node sets metrics_port but there is no [listener.metrics]",
                    "remove metrics_port",
                );
                None
            }
            (None, None) => None,
        };
        for (p, what) in [
            (Some(api_port), "API"),
            (Some(cluster_port), "cluster"),
            (metrics_port, "metrics"),
            (
                metrics_port.map(|m| m.wrapping_add(1)),
                "metrics listener's implied cluster",
            ),
        ] {
            let Some(p) = p else { continue };
            if p == 0 {
                cx.error(
                    Code::Address,
                    Some(n.name.span()),
                    format!("demo node '{}' has {what} port 0", n.name.get()),
                    "ports are 1-65535",
                );
            } else if let Some((_, _, other, first)) =
                bound.iter().find(|(h, bp, _, _)| *h == host && *bp == p)
            {
                cx.clash(Code::PortClash, n.name.span(), format!("demo node '{}' binds {what} port {p} on host {host}, already used by {other}", n.name.get()), first.clone(), format!("{other} binds port {p}"), "nodes on the same host need their own ports, with a gap after each listener");
            } else {
                bound.push((
                    host.clone(),
                    p,
                    format!("node '{}' ({what})", n.name.get()),
                    n.name.span(),
                ));
            }
        }
        let raft_path = match &n.raft_path {
            Some(p) => cx.path(p, "demo node raft_path"),
            None => "/openbao/data".into(),
        };
        nodes.push(model::DemoNode {
            name: n.name.get().clone(),
            host,
            api_port,
            cluster_port,
            metrics_port,
            raft_path,
        });
    }
    model::Demo {
        openbao_image,
        prometheus_image,
        prometheus_port: raw.prometheus_port.as_ref().map_or(9090, |p| *p.get()),
        nodes,
    }
}
