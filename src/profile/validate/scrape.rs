//! How Prometheus reaches OpenBao: the NetworkPolicy, the scrape (token, CA, interval) and
//! the Prometheus side (namespace, labels, static targets).

use super::super::ctx::Ctx;
use super::super::raw::{self, Sp};
use super::super::rules;
use crate::diag::Code;
use crate::model::{self, Kind, MetricsAccess};

pub(super) fn network_policy(
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

pub(super) fn scrape(
    cx: &mut Ctx<'_>,
    raw: &raw::Profile,
    kind: Kind,
    openbao: &model::OpenBao,
    api: &model::ApiListener,
    metrics: Option<&model::MetricsListener>,
    version: model::Version,
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
        token_role: None,
        token_period: None,
        token_bound_cidrs: None,
        renewal: None,
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
    let token_role = super::token::token_role(
        cx,
        s,
        &super::token::Context {
            uses_token: token_secret.is_some(),
            version,
            openbao,
            api,
            policy_name: &policy_name,
        },
    );
    model::Scrape {
        token_role,
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

pub(super) fn prometheus(
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
    let mut alertmanagers = Vec::new();
    for a in raw.alertmanagers.iter().flatten() {
        cx.check(
            Code::Address,
            a,
            "prometheus.alertmanagers entry",
            rules::address,
            "write host:port, e.g. alertmanager:9093",
        );
        alertmanagers.push(a.get().clone());
    }
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
        alertmanagers,
    }
}
