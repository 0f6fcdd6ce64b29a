//! Alerts per cluster: one Prometheus watching two OpenBao clusters, one healthy and one not,
//! fires each alert once, for the affected cluster only. Judged by the real `promtool test
//! rules` on the rendered `rules.yml` and on the PrometheusRule's groups alike, for every
//! shipped profile and with either cluster the affected one.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::common::{self, TempDir};

type Labels = BTreeMap<String, String>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// One situation: the series Prometheus holds, and the alerts (name, labels) that must fire.
struct Scenario {
    what: String,
    series: Vec<(String, Labels, f64)>,
    firing: Vec<(&'static str, Labels)>,
}

/// A node of `cluster` as the scrape labels it.
fn node(job: &str, cluster: &str, instance: &str) -> Labels {
    labels(&[("job", job), ("cluster", cluster), ("instance", instance)])
}

/// A healthy two-node cluster: both up and unsealed, the first active.
fn healthy(m: &str, job: &str, cluster: &str) -> Vec<(String, Labels, f64)> {
    let mut s = Vec::new();
    for (i, active) in [(0, 1.0), (1, 0.0)] {
        let n = node(job, cluster, &format!("{cluster}-{i}"));
        s.push(("up".to_string(), n.clone(), 1.0));
        s.push((format!("{m}_core_active"), n.clone(), active));
        s.push((format!("{m}_core_unsealed"), n, 1.0));
    }
    s
}

fn scenarios(m: &str, job: &str, own: &str, other: &str, every_node: bool) -> Vec<Scenario> {
    let mut out = Vec::new();
    for (affected, fine) in [(own, other), (other, own)] {
        let a0 = node(job, affected, &format!("{affected}-0"));
        let a1 = node(job, affected, &format!("{affected}-1"));
        let cluster = labels(&[("cluster", affected)]);

        // One node of the affected cluster cannot be scraped.
        let mut series = healthy(m, job, fine);
        series.push(("up".into(), a0.clone(), 0.0));
        series.push(("up".into(), a1.clone(), 1.0));
        series.push((format!("{m}_core_active"), a1.clone(), 1.0));
        series.push((format!("{m}_core_unsealed"), a1.clone(), 1.0));
        out.push(Scenario {
            what: format!("{affected} unreachable"),
            series,
            firing: vec![("OpenBaoUnreachable", a0.clone())],
        });

        // Every node of the affected cluster answers, none is active.
        let mut series = healthy(m, job, fine);
        for n in [&a0, &a1] {
            series.push(("up".into(), n.clone(), 1.0));
            series.push((format!("{m}_core_active"), n.clone(), 0.0));
            series.push((format!("{m}_core_unsealed"), n.clone(), 1.0));
        }
        out.push(Scenario {
            what: format!("{affected} without an active node"),
            series,
            firing: vec![("OpenBaoNoActiveNode", cluster.clone())],
        });

        if every_node {
            // The standby of the affected cluster is sealed.
            let mut series = healthy(m, job, fine);
            for (n, active, unsealed) in [(&a0, 1.0, 1.0), (&a1, 0.0, 0.0)] {
                series.push(("up".into(), n.clone(), 1.0));
                series.push((format!("{m}_core_active"), n.clone(), active));
                series.push((format!("{m}_core_unsealed"), n.clone(), unsealed));
            }
            out.push(Scenario {
                what: format!("{affected} with a sealed node"),
                series,
                firing: vec![("OpenBaoSealed", a1.clone())],
            });

            // Both nodes of the affected cluster claim to be active.
            let mut series = healthy(m, job, fine);
            for n in [&a0, &a1] {
                series.push(("up".into(), n.clone(), 1.0));
                series.push((format!("{m}_core_active"), n.clone(), 1.0));
                series.push((format!("{m}_core_unsealed"), n.clone(), 1.0));
            }
            out.push(Scenario {
                what: format!("{affected} with two active nodes"),
                series,
                firing: vec![("OpenBaoMultipleActiveNodes", cluster)],
            });
        }
    }
    // The profile's own cluster is not scraped at all: only `absent` can see that.
    out.push(Scenario {
        what: format!("{own} missing"),
        series: healthy(m, job, other),
        firing: vec![(
            "OpenBaoUnreachable",
            labels(&[("job", job), ("cluster", own)]),
        )],
    });
    out
}

fn series_text(name: &str, l: &Labels) -> String {
    let inner: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

/// A promtool unit-test file for `rules_file` (whose rules are `rules`) over `scenarios`.
fn promtool_tests(rules_file: &Path, rules: &[Value], scenarios: &[Scenario]) -> Value {
    let tests: Vec<Value> = scenarios
        .iter()
        .map(|s| {
            let input: Vec<Value> = s
                .series
                .iter()
                .map(|(n, l, v)| json!({"series": series_text(n, l), "values": format!("{v}x20")}))
                .collect();
            let checks: Vec<Value> = rules
                .iter()
                .map(|rule| {
                    let alert = rule["alert"].as_str().unwrap();
                    let exp: Vec<Value> = s
                        .firing
                        .iter()
                        .filter(|(a, _)| *a == alert)
                        .map(|(_, l)| {
                            let mut l = l.clone();
                            let get = |k: &str| l.get(k).cloned().unwrap_or_default();
                            let annotations: BTreeMap<String, String> = rule["annotations"]
                                .as_object()
                                .unwrap()
                                .iter()
                                .map(|(k, v)| {
                                    let text = v
                                        .as_str()
                                        .unwrap()
                                        .replace("{{ $labels.instance }}", &get("instance"))
                                        .replace("{{ $labels.cluster }}", &get("cluster"));
                                    (k.clone(), text)
                                })
                                .collect();
                            // The rule's own labels (severity, a profile's extras) join the series'.
                            for (k, v) in rule["labels"].as_object().unwrap() {
                                l.insert(k.clone(), v.as_str().unwrap().into());
                            }
                            json!({"exp_labels": l, "exp_annotations": annotations})
                        })
                        .collect();
                    json!({"eval_time": "10m", "alertname": alert, "exp_alerts": exp})
                })
                .collect();
            json!({"name": s.what, "interval": "1m", "input_series": input, "alert_rule_test": checks})
        })
        .collect();
    json!({"rule_files": [rules_file], "evaluation_interval": "1m", "tests": tests})
}

/// Write `tests` to `file` and run `promtool test rules` on it; `what` says what a failure means.
fn promtool_test(promtool: &Path, file: &Path, tests: &Value, what: &str) {
    std::fs::write(file, serde_json::to_string_pretty(tests).unwrap()).unwrap();
    let out = std::process::Command::new(promtool)
        .args(["test", "rules"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn each_alert_fires_only_for_the_affected_cluster() {
    let Some(promtool) = common::tool("promtool") else {
        return;
    };
    let tmp = TempDir::new("alerts-two-clusters");
    for name in ["active", "all-node", "demo"] {
        let p = baogen::profile::load(&common::root().join(format!("profiles/{name}.toml")))
            .unwrap_or_else(|d| panic!("{name}: {d:?}"));
        let art = baogen::emit::render(&p);
        let rules_yml: Value = serde_saphyr::from_str(&art.files["prometheus/rules.yml"]).unwrap();
        let mut sources = vec![("rules.yml", rules_yml["groups"].clone())];
        if let Some(rule) = art.files.get("kubernetes/prometheusrule.yaml") {
            let rule: Value = serde_saphyr::from_str(rule).unwrap();
            sources.push(("prometheusrule", rule["spec"]["groups"].clone()));
        }
        let every_node = p.kind != baogen::model::Kind::Active;
        let scenarios = scenarios(
            p.telemetry.prefix(),
            &p.scrape.job,
            &p.openbao.cluster,
            "staging-eu",
            every_node,
        );
        for (what, groups) in sources {
            let rules_file = tmp.path().join(format!("{name}-{what}-rules.yml"));
            std::fs::write(
                &rules_file,
                serde_json::to_string(&json!({ "groups": groups })).unwrap(),
            )
            .unwrap();
            let rules = common::alert_rules(&groups);
            let alerts: Vec<&str> = rules.iter().filter_map(|r| r["alert"].as_str()).collect();
            for s in &scenarios {
                for (a, _) in &s.firing {
                    assert!(alerts.contains(a), "{name}: {what} has no {a}: {alerts:?}");
                }
            }
            promtool_test(
                &promtool,
                &tmp.path().join(format!("{name}-{what}-test.yml")),
                &promtool_tests(&rules_file, &rules, &scenarios),
                &format!("{name} ({what}): an alert fired for the healthy cluster or not for the affected one"),
            );
        }
    }
}

/// The scrape token's renewal alert, on kube-state-metrics' CronJob series: quiet while the
/// CronJob succeeds within half the period, firing when the last success is older, or when it
/// never succeeded since it was created longer ago; another CronJob's series never count.
#[test]
fn the_renewal_alert_fires_when_the_cronjob_stops_succeeding() {
    let Some(promtool) = common::tool("promtool") else {
        return;
    };
    let tmp = TempDir::new("alerts-renewal");
    let p =
        baogen::profile::load(&common::root().join("profiles/examples/self-init.toml")).unwrap();
    let art = baogen::emit::render(&p);
    let rules_file = tmp.path().join("rules.yml");
    std::fs::write(&rules_file, &art.files["prometheus/rules.yml"]).unwrap();
    let rules: Value = serde_saphyr::from_str(&art.files["prometheus/rules.yml"]).unwrap();
    let rule = common::alert_rules(&rules["groups"])
        .into_iter()
        .find(|r| r["alert"] == "OpenBaoScrapeTokenRenewalStale")
        .expect("the renewal alert")
        .clone();
    // 24h period: the alert waits 12h (43,200 s) without a success. Evaluated at t = 24h.
    let ours = r#"{namespace="openbao",cronjob="openbao-scrape-token-renewal"}"#;
    let other = r#"{namespace="openbao",cronjob="something-else"}"#;
    let last = |labels: &str, t: u64| json!({"series": format!("kube_cronjob_status_last_successful_time{labels}"), "values": format!("{t}x1500")});
    let created = |labels: &str, t: u64| json!({"series": format!("kube_cronjob_created{labels}"), "values": format!("{t}x1500")});
    let fired = json!([{
        "exp_labels": {"cluster": "openbao", "severity": "warning"},
        "exp_annotations": rule["annotations"],
    }]);
    let cases = [
        (
            "renewed 6400 s ago",
            vec![created(ours, 0), last(ours, 80_000)],
            json!([]),
        ),
        (
            "renewed 56400 s ago",
            vec![created(ours, 0), last(ours, 30_000)],
            fired.clone(),
        ),
        (
            "never renewed, created a day ago",
            vec![created(ours, 0)],
            fired,
        ),
        (
            "never renewed, created 6400 s ago",
            vec![created(ours, 80_000)],
            json!([]),
        ),
        (
            "another CronJob is stale",
            vec![
                created(ours, 0),
                last(ours, 80_000),
                created(other, 0),
                last(other, 0),
            ],
            json!([]),
        ),
    ];
    let tests: Vec<Value> = cases
        .iter()
        .map(|(what, series, exp)| {
            json!({
                "name": what,
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [{"eval_time": "24h", "alertname": "OpenBaoScrapeTokenRenewalStale", "exp_alerts": exp}],
            })
        })
        .collect();
    let test_file = tmp.path().join("test.yml");
    promtool_test(
        &promtool,
        &test_file,
        &json!({"rule_files": [rules_file], "evaluation_interval": "1m", "tests": tests}),
        "the renewal alert",
    );
    // Without [scrape.renewal] there is no CronJob to watch, so no such alert.
    let active = baogen::profile::load(&common::root().join("profiles/active.toml")).unwrap();
    assert!(!baogen::emit::render(&active).files["prometheus/rules.yml"].contains("RenewalStale"));
}
