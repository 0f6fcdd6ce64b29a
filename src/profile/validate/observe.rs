//! What the observability outputs may be told: alert overrides and runbook links, the
//! dashboards' ConfigMaps, and the declarative audit device. Alert names come from the one
//! catalogue the emitters build from, so an override can only touch an alert this profile
//! really emits.

use std::collections::BTreeMap;

use super::super::ctx::Ctx;
use super::super::raw::{self, Sp};
use super::super::rules;
use super::selfinit::{container_path, openbao_name};
use crate::catalog::{Alert, RESERVED_LABELS, SEVERITIES};
use crate::diag::Code;
use crate::model::{self, Version};

/// First release that creates audit devices from the configuration file.
const DECLARATIVE_AUDIT_SINCE: Version = Version(2, 4, 0);

/// `every_node` and `renewal` say which alerts this profile emits.
pub(super) fn alerting(
    cx: &mut Ctx<'_>,
    raw: &raw::Alerts,
    every_node: bool,
    renewal: bool,
) -> model::Alerting {
    let runbook_base = raw.runbook_base_url.as_ref().map(|u| {
        cx.check(
            Code::RunbookUrl,
            u,
            "alerts.runbook_base_url",
            rules::url_base,
            "give the https URL of the rendered output directory, e.g. https://github.com/acme/infra/blob/main/deploy/prod",
        );
        u.get().trim_end_matches('/').to_string()
    });
    let mut overrides = BTreeMap::new();
    for (name, o) in raw.overrides.iter().flatten() {
        let Some(alert) = known_alert(cx, name, every_node, renewal) else {
            continue;
        };
        let severity = o.severity.as_ref().map(|s| {
            cx.check(
                Code::Severity,
                s,
                &format!("the severity of {}", alert.name()),
                |v| {
                    SEVERITIES
                        .contains(&v)
                        .then_some(())
                        .ok_or_else(|| format!("is not one of {}", SEVERITIES.join(", ")))
                },
                "use critical, warning or info",
            );
            s.get().clone()
        });
        let for_ = o.for_.as_ref().map(|f| {
            cx.check(
                Code::Duration,
                f,
                &format!("the `for` of {}", alert.name()),
                rules::duration_ms,
                "write a duration such as 30s, 5m or 1h",
            );
            f.get().clone()
        });
        let mut labels = BTreeMap::new();
        for (k, v) in o.labels.iter().flatten() {
            cx.check(
                Code::AlertLabel,
                k,
                &format!("a label of {}", alert.name()),
                rules::prometheus_label_name,
                "use a Prometheus label name such as team or page",
            );
            if RESERVED_LABELS.contains(&k.get().as_str()) {
                cx.error(
                    Code::AlertLabel,
                    Some(k.span()),
                    format!("the label '{}' is set by baogen on every alert", k.get()),
                    "set the severity with `severity = ...`; cluster comes from openbao.cluster",
                );
            }
            cx.check(
                Code::AlertLabel,
                v,
                &format!("the value of label '{}'", k.get().escape_debug()),
                rules::prometheus_label_value,
                "use plain text without template braces",
            );
            labels.insert(k.get().clone(), v.get().clone());
        }
        let enabled = o.enabled.as_ref().is_none_or(|e| *e.get());
        overrides.insert(
            alert,
            model::AlertOverride {
                severity,
                for_,
                labels,
                enabled,
            },
        );
    }
    model::Alerting {
        runbook_base,
        overrides,
    }
}

fn known_alert(
    cx: &mut Ctx<'_>,
    name: &Sp<String>,
    every_node: bool,
    renewal: bool,
) -> Option<Alert> {
    match Alert::by_name(name.get()) {
        Some(a) if a.needs().met(every_node, renewal) => Some(a),
        Some(a) => {
            cx.error(
                Code::UnknownAlert,
                Some(name.span()),
                format!(
                    "this profile does not emit {}: {}",
                    a.name(),
                    match a.needs() {
                        crate::catalog::Needs::Renewal =>
                            "it watches scrape.renewal's CronJob, which this profile does not have",
                        _ => "only a scrape of every node (all-node, demo) sees its series",
                    }
                ),
                "remove the override, or move it to a profile that emits the alert",
            );
            None
        }
        None => {
            let names: Vec<String> = Alert::ALL.iter().map(|a| a.name().to_string()).collect();
            let help = match super::super::closest(name.get(), &names) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("baogen's alerts: {}", names.join(", ")),
            };
            cx.error(
                Code::UnknownAlert,
                Some(name.span()),
                format!(
                    "baogen emits no alert named '{}'",
                    name.get().escape_debug()
                ),
                help,
            );
            None
        }
    }
}

pub(super) fn grafana(
    cx: &mut Ctx<'_>,
    raw: &raw::Grafana,
    prometheus_namespace: &str,
) -> Option<model::Grafana> {
    let namespace = cx.name(
        &raw.namespace,
        prometheus_namespace,
        "grafana.namespace",
        rules::dns_label,
    );
    let sidecar_labels = match &raw.sidecar_labels {
        Some(l) => {
            if l.is_empty() {
                cx.error(
                    Code::EmptyPodSelector,
                    Some(l.span()),
                    "grafana.sidecar_labels is empty: the sidecar would not find the dashboards",
                    "give the label your Grafana sidecar watches, e.g. grafana_dashboard = \"1\"",
                );
            }
            cx.labels(l, "grafana.sidecar_labels")
        }
        None => BTreeMap::from([("grafana_dashboard".into(), "1".into())]),
    };
    raw.dashboards
        .as_ref()
        .is_none_or(|d| *d.get())
        .then_some(model::Grafana {
            namespace,
            sidecar_labels,
        })
}

pub(super) fn audit(cx: &mut Ctx<'_>, raw: &Sp<raw::Audit>, version: Version) -> model::Audit {
    if version < DECLARATIVE_AUDIT_SINCE {
        cx.error(
            Code::AuditTooOld,
            Some(raw.span()),
            format!("audit devices in the configuration file need OpenBao {DECLARATIVE_AUDIT_SINCE} or newer; openbao_version is {version}"),
            "raise openbao_version, or enable the device through the API on that release",
        );
    }
    let path = match &raw.path {
        Some(p) => {
            openbao_name(cx, p, "audit.path");
            p.get().clone()
        }
        None => "file".into(),
    };
    let file = if raw.file.get() == "stdout" {
        "stdout".into()
    } else {
        container_path(cx, &raw.file, "audit.file")
    };
    model::Audit { path, file }
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;

    use super::super::selfinit::tests::BASE;

    /// `top` goes before the first table, `extra` after the base's.
    fn load(top: &str, extra: &str) -> Result<crate::model::Profile, Vec<Code>> {
        let text = format!("{top}{BASE}{extra}");
        crate::profile::parse(std::path::Path::new("p.toml"), text.as_bytes())
            .map_err(|d| d.iter().map(|d| d.code).collect())
    }

    #[test]
    fn declarative_audit_starts_at_2_4_0() {
        let audit = "[audit]\nfile = \"/openbao/audit/audit.log\"\n";
        assert!(load("openbao_version = \"2.4.0\"\n", audit).is_ok());
        assert_eq!(
            load("openbao_version = \"2.3.9\"\n", audit).unwrap_err(),
            [Code::AuditTooOld]
        );
    }

    #[test]
    fn audit_to_stdout_needs_no_path_and_no_volume() {
        let p = load("", "[audit]\nfile = \"stdout\"\npath = \"console\"\n").unwrap();
        let a = p.audit.unwrap();
        assert_eq!(
            (a.path.as_str(), a.file.as_str(), a.dir()),
            ("console", "stdout", None)
        );
        let p = load("", "[audit]\nfile = \"/var/log/openbao/audit.log\"\n").unwrap();
        let a = p.audit.unwrap();
        assert_eq!(
            (a.path.as_str(), a.dir()),
            ("file", Some("/var/log/openbao"))
        );
    }

    #[test]
    fn overrides_reach_the_model_and_only_for_emitted_alerts() {
        let p = load(
            "",
            "[alerts]\nrunbook_base_url = \"https://x.example/ops/\"\n[alerts.override.OpenBaoRequestLatencyHigh]\nseverity = \"info\"\nfor = \"1m\"\nlabels = { team = \"a\" }\nenabled = false\n",
        )
        .unwrap();
        assert_eq!(
            p.alerting.runbook_base.as_deref(),
            Some("https://x.example/ops")
        );
        let o = &p.alerting.overrides[&crate::catalog::Alert::RequestLatencyHigh];
        assert_eq!(
            (
                o.severity.as_deref(),
                o.for_.as_deref(),
                o.labels["team"].as_str(),
                o.enabled
            ),
            (Some("info"), Some("1m"), "a", false)
        );
        // Sealed is every-node only; the active profile does not emit it.
        assert_eq!(
            load("", "[alerts.override.OpenBaoSealed]\nenabled = false\n").unwrap_err(),
            [Code::UnknownAlert]
        );
        let all_node = "[alerts.override.OpenBaoSealed]\nenabled = false\n";
        let text = format!("{}{all_node}", BASE.replace("\"active\"", "\"all-node\""));
        let p = crate::profile::parse(std::path::Path::new("p.toml"), text.as_bytes());
        assert!(
            p.as_ref().map_or_else(
                |d| !d.iter().any(|d| d.code == Code::UnknownAlert),
                |p| !p.alerting.overrides[&crate::catalog::Alert::Sealed].enabled
            ),
            "all-node emits OpenBaoSealed: its override is accepted"
        );
    }

    #[test]
    fn dashboards_default_on_with_the_charts_sidecar_label() {
        let p = load("", "").unwrap();
        let g = p.grafana.unwrap();
        assert_eq!(g.namespace, "monitoring");
        assert_eq!(g.sidecar_labels["grafana_dashboard"], "1");
        let p = load("", "[grafana]\ndashboards = false\n").unwrap();
        assert!(p.grafana.is_none());
        let p = load(
            "",
            "[grafana]\nnamespace = \"grafana\"\nsidecar_labels = { dash = \"yes\" }\n",
        )
        .unwrap();
        let g = p.grafana.unwrap();
        assert_eq!(
            (g.namespace.as_str(), g.sidecar_labels.len()),
            ("grafana", 1)
        );
    }
}
