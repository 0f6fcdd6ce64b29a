//! Semantic and security rules: `raw::Profile` → `model::Profile`. Every rule has its own
//! error text and help; all problems are collected in one pass.

use std::path::Path;

mod demo;
mod listeners;
mod observe;
mod scrape;
mod selfinit;
mod token;

use super::ctx::Ctx;
use super::raw;
use super::rules;
use crate::diag::{Code, Diagnostic};
use crate::model::{self, Kind, Version};
use demo::demo_section;
use listeners::listeners;
use scrape::{network_policy, prometheus, scrape};

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
    layers: &super::layers::Layers,
    files: &super::NamedFiles,
    raw: &raw::Profile,
) -> (Option<model::Profile>, Vec<Diagnostic>) {
    let mut cx = Ctx::new(path, layers, files);
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
        cx.layers.dir_of(&o.span()).join(o.get())
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
        openbao_version,
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

    let seal = raw.seal.as_ref().map(|s| selfinit::seal(cx, s));
    let self_init = raw
        .self_init
        .as_ref()
        .map(|si| selfinit::self_init(cx, raw, si, openbao_version, seal.as_ref()));

    let every_node = kind.scrapes_every_node();
    let renewal = scrape
        .token_role
        .as_ref()
        .is_some_and(|r| r.renewal.is_some());
    let alerting = observe::alerting(cx, &raw.alerts, every_node, renewal);
    let grafana = observe::grafana(cx, &raw.grafana, &prometheus.namespace);
    let audit = raw
        .audit
        .as_ref()
        .map(|a| observe::audit(cx, a, openbao_version));

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
        output_place: raw.output.as_ref().map(|o| cx.layers.place(&o.span())),
        bases: cx.layers.bases(),
        openbao,
        telemetry,
        api_listener,
        metrics_listener,
        scrape,
        prometheus,
        demo: demo_cfg,
        engine,
        seal,
        self_init,
        alerting,
        grafana,
        audit,
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
    let kubernetes_cluster = raw.kubernetes_cluster.as_ref().and_then(|c| {
        cx.check(
            Code::ClusterName,
            c,
            "openbao.kubernetes_cluster",
            rules::cluster_name,
            "name the cluster as your kubeconfig does, e.g. prod-eu-1",
        )
        .map(|()| (c.get().clone(), cx.layers.place(&c.span())))
    });
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
        kubernetes_cluster,
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
                if rules::identifier(s) {
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
