//! The observability outputs against real OpenBao, Prometheus and Alertmanager: every input
//! series of every recording rule exists in the scrape, every recording rule and every
//! dashboard panel query returns data, and alerts reach a real Alertmanager with their labels
//! and runbook link.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common;
use crate::harness::{self, Bao, Http, Proc, Prom};

use super::env::Env;

const DATA_WAIT: Duration = Duration::from_secs(60);

/// Debian's Alertmanager on 127.0.0.1 (no cluster gossip listener), routing everything to a
/// receiver that sends nothing: the test reads what arrived through its API.
pub(super) struct Alertmanager {
    pub proc: Proc,
    pub url: String,
}

impl Alertmanager {
    pub(super) fn start(dir: &Path, port: u16) -> Alertmanager {
        let bin = common::tool("prometheus-alertmanager").expect("prometheus-alertmanager");
        let config = dir.join("alertmanager.yml");
        std::fs::write(
            &config,
            "route:\n  receiver: none\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n- name: none\n",
        )
        .unwrap();
        let data = dir.join("alertmanager-data");
        std::fs::create_dir_all(&data).unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=");
        let proc = Proc::spawn("alertmanager", cmd, dir.join("alertmanager.log"));
        Alertmanager {
            proc,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The active alerts named `name`, as Alertmanager's API v2 lists them.
    pub(super) fn alerts(&mut self, http: &Http, name: &str) -> Vec<Value> {
        self.proc.assert_running();
        let Ok((200, body)) = http.get(&format!("{}/api/v2/alerts", self.url), None) else {
            return Vec::new();
        };
        let all: Vec<Value> = serde_json::from_str(&body).unwrap_or_default();
        all.into_iter()
            .filter(|a| a["labels"]["alertname"] == name && a["status"]["state"] == "active")
            .collect()
    }
}

/// Logins and token lookups against one node, every 300 ms, until dropped.
pub(super) struct Traffic {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Traffic {
    pub(super) fn start(api: &str, password: &str) -> Traffic {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (api, password, flag) = (api.to_string(), password.to_string(), stop.clone());
        let thread = std::thread::spawn(move || {
            let http = Http::new(None);
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let token = super::env::login(&http, &api, &password);
                let _ = http.get(&format!("{api}/v1/auth/token/lookup-self"), Some(&token));
                std::thread::sleep(Duration::from_millis(300));
            }
        });
        Traffic {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The rule groups of the generated rules.yml, by name.
fn group(env: &Env, name: &str) -> Vec<Value> {
    let rules: Value = serde_saphyr::from_str(&env.read("prometheus/rules.yml")).unwrap();
    rules["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("rules.yml has no group {name}"))["rules"]
        .as_array()
        .unwrap()
        .clone()
}

/// Wait until `q` returns at least one series with a finite value.
fn wait_data(prom: &mut Prom, http: &Http, q: &str) -> Vec<f64> {
    let mut last = None;
    harness::wait_for(&format!("`{q}` to return data"), DATA_WAIT, || {
        prom.proc.assert_running();
        let got = prom.query(http, q);
        let values: Vec<f64> = got
            .iter()
            .flatten()
            .map(|(_, v)| *v)
            .filter(|v| v.is_finite())
            .collect();
        last = got;
        (!values.is_empty()).then_some(values)
    })
}

/// Every input series of every recording rule exists in the real scrape (the catalogue lists
/// them), and every rule rules.yml records returns a finite value.
pub(super) fn recording_rules_return_data(env: &Env, prom: &mut Prom, http: &Http) {
    let recorded: Vec<String> = group(env, "openbao-recording")
        .iter()
        .map(|r| r["record"].as_str().unwrap().to_string())
        .collect();
    // The demo scrapes every node: it emits every rule the catalogue has.
    let catalogue: Vec<&str> = baogen::emit::recording::RECORDINGS
        .iter()
        .map(|r| r.record)
        .collect();
    assert_eq!(recorded, catalogue, "the demo records every rule");
    for r in baogen::emit::recording::RECORDINGS {
        for input in r.inputs {
            let name = input.replace("{m}", "vault");
            wait_data(
                prom,
                http,
                &format!("count({{__name__=\"{name}\",job=\"openbao\"}})"),
            );
        }
    }
    for record in &recorded {
        let values = wait_data(prom, http, record);
        eprintln!("[demo] {record} = {values:?}");
    }
    eprintln!(
        "[demo] all {} recording rules return data, every input series exists",
        recorded.len()
    );
}

/// The text of the profile's generated dashboard (one per profile).
pub(super) fn dashboard_text(env: &Env) -> String {
    let file = std::fs::read_dir(env.render.join("grafana/dashboards"))
        .unwrap()
        .next()
        .expect("a dashboard")
        .unwrap()
        .path();
    std::fs::read_to_string(file).unwrap()
}

/// Every panel of the generated dashboard, with its `cluster` variable set, returns data; so
/// does the variable's own query.
pub(super) fn dashboard_queries_return_data(
    env: &Env,
    prom: &mut Prom,
    http: &Http,
    cluster: &str,
) {
    let dashboard: Value = serde_json::from_str(&dashboard_text(env)).unwrap();
    let mut queries = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let q = target["expr"]
                .as_str()
                .unwrap()
                .replace("$cluster", cluster);
            wait_data(prom, http, &q);
            queries += 1;
        }
    }
    let variable = dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "cluster")
        .unwrap()["query"]
        .as_str()
        .unwrap()
        .to_string();
    let metric = variable
        .strip_prefix("label_values(")
        .and_then(|s| s.split_once(','))
        .unwrap()
        .0;
    let series = prom.query(http, metric).unwrap_or_default();
    assert!(
        series
            .iter()
            .any(|(l, _)| l.get("cluster").map(String::as_str) == Some(cluster)),
        "the cluster variable's query {variable} offers no {cluster}: {series:?}"
    );
    assert!(queries >= 20, "only {queries} panel queries");
    eprintln!("[demo] all {queries} dashboard panel queries return data");
}

/// The alert `name` as rules.yml declares it: its labels and annotations.
pub(super) fn declared(env: &Env, name: &str) -> Value {
    group(env, "openbao-metrics")
        .into_iter()
        .find(|r| r["alert"] == name)
        .unwrap_or_else(|| panic!("rules.yml has no alert {name}"))
}

/// Wait until Alertmanager lists `name` for `instance`, with the rule's labels and runbook.
pub(super) fn wait_alert(
    am: &mut Alertmanager,
    http: &Http,
    env: &Env,
    name: &str,
    instance: &str,
) {
    let rule = declared(env, name);
    let alert = harness::wait_for(
        &format!("{name} for {instance} to reach Alertmanager"),
        DATA_WAIT,
        || {
            am.alerts(http, name)
                .into_iter()
                .find(|a| a["labels"]["instance"] == instance)
        },
    );
    for (k, v) in rule["labels"].as_object().unwrap() {
        assert_eq!(&alert["labels"][k], v, "label {k} of {alert}");
    }
    assert_eq!(alert["labels"]["cluster"], "openbao", "{alert}");
    assert_eq!(
        alert["annotations"]["runbook_url"], rule["annotations"]["runbook_url"],
        "{alert}"
    );
    assert!(
        alert["annotations"]["description"]
            .as_str()
            .unwrap()
            .contains(instance),
        "the description names the node: {alert}"
    );
    eprintln!("[demo] Alertmanager lists {name}: {}", alert["labels"]);
}

/// Wait until Alertmanager no longer lists `name` as active for `instance`.
pub(super) fn wait_resolved(am: &mut Alertmanager, http: &Http, name: &str, instance: &str) {
    harness::wait_for(
        &format!("{name} for {instance} to resolve in Alertmanager"),
        DATA_WAIT,
        || {
            (!am.alerts(http, name)
                .iter()
                .any(|a| a["labels"]["instance"] == instance))
            .then_some(())
        },
    );
    eprintln!("[demo] {name} for {instance} resolved in Alertmanager");
}

/// The audit file of the active node becomes unwritable (a directory now stands at its path,
/// which fails for root too) and the server reopens it on SIGHUP, as log rotation does: the
/// next requests cannot be audited, the failure counter rises, and the audit alerts'
/// expressions turn true on the real scrape.
pub(super) fn audit_failure_fires(
    env: &Env,
    prom: &mut Prom,
    http: &Http,
    audit_file: &Path,
    node: &Bao,
    token: &str,
    instance: &str,
) {
    assert!(
        std::fs::metadata(audit_file).is_ok_and(|m| m.len() > 0),
        "the declarative audit device writes {}",
        audit_file.display()
    );
    std::fs::remove_file(audit_file).unwrap();
    std::fs::create_dir(audit_file).unwrap();
    harness::run(Command::new("kill").args(["-HUP", &node.proc.pid().to_string()]));
    let lookup = format!("{}/v1/auth/token/lookup-self", node.api);
    harness::wait_for("a request OpenBao cannot audit", DATA_WAIT, || {
        std::thread::sleep(Duration::from_millis(200));
        matches!(http.get(&lookup, Some(token)), Ok((500, _))).then_some(())
    });
    for name in [
        "OpenBaoAuditRequestFailures",
        "OpenBaoAuditResponseFailures",
    ] {
        let expr = declared(env, name)["expr"].as_str().unwrap().to_string();
        let hits = harness::wait_for(&format!("{name}'s expression"), DATA_WAIT, || {
            let got = prom.query(http, &expr).unwrap_or_default();
            (!got.is_empty()).then_some(got)
        });
        assert!(
            hits.iter().any(|(l, _)| l["instance"] == instance),
            "{name} is true for the node whose audit file broke: {hits:?}"
        );
        eprintln!("[demo] {name}: `{expr}` is true: {hits:?}");
    }
    let failed = wait_data(
        prom,
        http,
        "openbao:audit_request_failures:increase5m{cluster=\"openbao\"} > 0",
    );
    eprintln!("[demo] openbao:audit_request_failures:increase5m = {failed:?}");
}
