//! The API and metrics listeners: addresses, TLS, who may read metrics, and ports that
//! never clash.

use std::ops::Range;

use super::super::ctx::Ctx;
use super::super::raw;
use crate::diag::Code;
use crate::model::{self, Kind, MetricsAccess, Version};

pub(super) fn listeners(
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
