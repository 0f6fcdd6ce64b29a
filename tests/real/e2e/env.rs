//! One scenario's environment: the loopback variant rendered by baogen, the test PKI, and
//! the helpers every scenario uses to start, query and judge the real servers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{self, TempDir};
use crate::harness::{self, make_pki, run, Bao, Http, Prom};

pub(super) const PROM_WAIT: Duration = Duration::from_secs(45);

pub(super) fn variant_path(name: &str) -> PathBuf {
    common::root().join(format!("tests/e2e/profiles/{name}.toml"))
}

/// One scenario's files: the port-rewritten variant, its render, the test PKI.
pub(super) struct Env {
    pub(super) name: &'static str,
    pub(super) tmp: TempDir,
    pub(super) variant: PathBuf,
    pub(super) render: PathBuf,
    pub(super) ports: BTreeMap<u16, u16>,
    pub(super) tls: PathBuf,
}

impl Env {
    pub(super) fn prepare(name: &'static str) -> Env {
        Env::prepare_text(name, &std::fs::read_to_string(variant_path(name)).unwrap())
    }

    /// `prepare` for a variant given as text (a scenario that builds one).
    pub(super) fn prepare_text(name: &'static str, text: &str) -> Env {
        let tmp = TempDir::new(&format!("e2e-{name}"));
        let (text, ports) = harness::rewrite_ports(text);
        // Same file name as the shipped profile, so even the generated headers match.
        let variant = tmp.path().join(format!("{name}.toml"));
        std::fs::write(&variant, text).unwrap();
        let tls = make_pki(tmp.path());
        let render = tmp.path().join("render");
        let out = common::baogen()
            .args(["render"])
            .arg(&variant)
            .arg("--out")
            .arg(&render)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "baogen render {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Env {
            name,
            tmp,
            variant,
            render,
            ports,
            tls,
        }
    }

    pub(super) fn port(&self, placeholder: u16) -> u16 {
        self.ports[&placeholder]
    }

    pub(super) fn dir(&self) -> &Path {
        self.tmp.path()
    }

    pub(super) fn ca(&self) -> PathBuf {
        self.tls.join("ca.crt")
    }

    pub(super) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.render.join(rel)).unwrap()
    }

    /// The generated server.hcl with only `service_registration "kubernetes" {}` removed
    /// (it is fatal outside a cluster); every other byte is used as generated.
    pub(super) fn server_hcl_without_k8s_registration(&self) -> PathBuf {
        let text = self.read("openbao/server.hcl");
        let stanza = "service_registration \"kubernetes\" {}\n";
        assert_eq!(text.matches(stanza).count(), 1, "{}: {text}", self.name);
        eprintln!(
            "[{}] NOTE: stripped `service_registration \"kubernetes\" {{}}` from the generated server.hcl: it cannot run without a Kubernetes cluster. Nothing else was changed.",
            self.name
        );
        let path = self.dir().join("server.hcl");
        std::fs::write(&path, text.replace(stanza, "")).unwrap();
        path
    }

    /// The test-only storage stanza the generated server.hcl leaves to the deployment.
    pub(super) fn storage_hcl(&self, api: u16, cluster: u16) -> PathBuf {
        std::fs::create_dir_all(self.dir().join("raft")).unwrap();
        let path = self.dir().join("storage.hcl");
        std::fs::write(
            &path,
            format!(
                "# Test only: raft storage (file storage is gone in OpenBao 2.x) and the node's addresses.\nstorage \"raft\" {{\n  path = \"raft\"\n  node_id = \"e2e\"\n  performance_multiplier = 1\n}}\napi_addr = \"https://127.0.0.1:{api}\"\ncluster_addr = \"https://127.0.0.1:{cluster}\"\n"
            ),
        )
        .unwrap();
        path
    }

    /// Put the token and the CA where the generated prometheus.yml reads them, check the
    /// generated files with promtool, and start Prometheus on them.
    pub(super) fn start_prometheus(&self, token: Option<&str>) -> Prom {
        let dir = self.render.join("prometheus");
        if let Some(t) = token {
            std::fs::write(dir.join("metrics.token"), t).unwrap();
        }
        std::fs::copy(self.ca(), dir.join("ca.crt")).unwrap();
        let promtool = common::tool("promtool").expect("promtool");
        run(Command::new(&promtool)
            .args(["check", "config"])
            .arg(dir.join("prometheus.yml")));
        run(Command::new(&promtool)
            .args(["check", "rules"])
            .arg(dir.join("rules.yml")));
        Prom::start(&dir.join("prometheus.yml"), &self.dir().join("prom-data"))
    }

    /// `baogen verify` on this variant: exit code and stdout.
    pub(super) fn verify(&self, prom: &Prom, extra: &[&str]) -> (i32, String) {
        let out = common::baogen()
            .arg("verify")
            .arg(&self.variant)
            .args(["--prometheus", &prom.url])
            .args(extra)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        eprintln!(
            "[{}] baogen verify {extra:?} → {:?}\n{text}{}",
            self.name,
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    /// Run the generated rules with `promtool test rules` on series Prometheus really holds
    /// now, and assert that exactly `firing` fire.
    pub(super) fn assert_alerts(&self, prom: &Prom, http: &Http, firing: &[&str]) {
        let rules_path = self.render.join("prometheus/rules.yml");
        let rules: Value = serde_saphyr::from_str(&self.read("prometheus/rules.yml")).unwrap();
        let mut series = Vec::new();
        for q in [
            "up{job=\"openbao\"}",
            "vault_core_active{job=\"openbao\"}",
            "vault_core_unsealed{job=\"openbao\"}",
        ] {
            series.extend(prom.query(http, q).unwrap_or_default());
        }
        let text = |labels: &BTreeMap<String, String>| {
            let l: Vec<String> = labels
                .iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect();
            format!("{}{{{}}}", labels["__name__"], l.join(","))
        };
        let input: Vec<Value> = series
            .iter()
            .map(|(l, v)| json!({"series": text(l), "values": format!("{v}x20")}))
            .collect();
        let mut tests = Vec::new();
        for rule in &common::alert_rules(&rules["groups"]) {
            let alert = rule["alert"].as_str().unwrap();
            let mut exp = Vec::new();
            if firing.contains(&alert) {
                // Per-series alerts carry the labels of the series that is 0.
                let source = match alert {
                    "OpenBaoUnreachable" => Some("up"),
                    "OpenBaoSealed" => Some("vault_core_unsealed"),
                    _ => None,
                };
                // Group as the rules do (the sealed rule takes the max `without
                // (exported_cluster)`), and expect one alert per group whose value is 0.
                let mut groups: BTreeMap<BTreeMap<String, String>, f64> = BTreeMap::new();
                for (l, v) in series
                    .iter()
                    .filter(|(l, _)| Some(l["__name__"].as_str()) == source)
                {
                    let mut key = l.clone();
                    key.remove("__name__");
                    key.remove("exported_cluster");
                    let max = groups.entry(key).or_insert(f64::MIN);
                    *max = max.max(*v);
                }
                let mut hits: Vec<BTreeMap<String, String>> = match source {
                    Some(_) => groups
                        .into_iter()
                        .filter(|(_, v)| *v == 0.0)
                        .map(|(k, _)| k)
                        .collect(),
                    // Cluster-wide alerts aggregate `by (cluster)`: one per cluster scraped.
                    None => {
                        let clusters: std::collections::BTreeSet<&String> = series
                            .iter()
                            .filter_map(|(l, _)| l.get("cluster"))
                            .collect();
                        clusters
                            .into_iter()
                            .map(|c| BTreeMap::from([("cluster".to_string(), c.clone())]))
                            .collect()
                    }
                };
                for labels in &mut hits {
                    for (k, v) in rule["labels"].as_object().unwrap() {
                        labels.insert(k.clone(), v.as_str().unwrap().into());
                    }
                    let ann: BTreeMap<String, String> = rule["annotations"]
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| {
                            let label = |name: &str| labels.get(name).cloned().unwrap_or_default();
                            (
                                k.clone(),
                                v.as_str()
                                    .unwrap()
                                    .replace("{{ $labels.instance }}", &label("instance"))
                                    .replace("{{ $labels.cluster }}", &label("cluster")),
                            )
                        })
                        .collect();
                    exp.push(json!({"exp_labels": labels, "exp_annotations": ann}));
                }
                assert!(
                    !exp.is_empty(),
                    "{alert} should fire but no series is 0: {series:?}"
                );
            }
            tests.push(json!({"eval_time": "10m", "alertname": alert, "exp_alerts": exp}));
        }
        // JSON is YAML, so promtool reads this file as is.
        let test = json!({
            "rule_files": [rules_path],
            "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": input, "alert_rule_test": tests}],
        });
        let path = self.dir().join("alerts-test.yml");
        std::fs::write(&path, serde_json::to_string_pretty(&test).unwrap()).unwrap();
        let promtool = common::tool("promtool").expect("promtool");
        let out = Command::new(promtool)
            .args(["test", "rules"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "[{}] promtool test rules: expected exactly {firing:?} to fire on {series:?}\n{}{}",
            self.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "[{}] promtool test rules: alerts firing on the observed series: {firing:?}",
            self.name
        );
    }
}

pub(super) fn core_lines(what: &str, body: &str) {
    let l: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("vault_core_active") || l.starts_with("vault_core_unsealed"))
        .collect();
    eprintln!("[{what}] {}", l.join(" | "));
}

pub(super) fn metrics_url(scheme: &str, port: u16) -> String {
    format!("{scheme}://127.0.0.1:{port}/v1/sys/metrics?format=prometheus")
}

pub(super) fn create_token(http: &Http, api: &str, root: &str, policies: &[&str]) -> String {
    let (status, v) = http.api(
        "POST",
        &format!("{api}/v1/auth/token/create"),
        Some(root),
        &json!({"policies": policies, "no_default_policy": true}),
    );
    assert_eq!(status, 200, "token create: {v}");
    v["auth"]["client_token"].as_str().unwrap().to_string()
}

pub(super) fn seal(http: &Http, api: &str, root: &str) {
    let (status, v) = http.api("PUT", &format!("{api}/v1/sys/seal"), Some(root), &json!({}));
    assert_eq!(status, 204, "seal: {v}");
}

pub(super) fn get(http: &Http, url: &str, token: Option<&str>) -> (u16, String) {
    http.get(url, token)
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// Render the loopback variant of `profile` and start one real server from it (ports from
/// `base`: API, +1 cluster, +4 metrics), initialized, unsealed and active.
pub(super) struct Single {
    pub(super) env: Env,
    pub(super) http: Http,
    pub(super) api: String,
    pub(super) api_port: u16,
    pub(super) metrics: u16,
    pub(super) bao: Bao,
    pub(super) root: String,
}

pub(super) fn single_server(profile: &'static str, base: u16) -> Single {
    let env = Env::prepare(profile);
    let (api_port, cluster, metrics) = (env.port(base), env.port(base + 1), env.port(base + 4));
    let server = env.server_hcl_without_k8s_registration();
    let storage = env.storage_hcl(api_port, cluster);
    let http = Http::new(Some(&env.ca()));
    let api = format!("https://127.0.0.1:{api_port}");
    let mut bao = Bao::start(
        &format!("bao-{profile}"),
        env.dir(),
        &[server, storage],
        api.clone(),
    );
    bao.wait_listening(&http);
    let (key, root) = bao.init(&http);
    bao.unseal(&http, &key);
    bao.wait_health(&http, 200);
    Single {
        env,
        http,
        api,
        api_port,
        metrics,
        bao,
        root,
    }
}

/// The admin's token, from the userpass user `admin` that self-init created.
pub(super) fn login(http: &Http, api: &str, password: &str) -> String {
    let (status, v) = http.api(
        "POST",
        &format!("{api}/v1/auth/userpass/login/admin"),
        None,
        &json!({ "password": password }),
    );
    assert_eq!(status, 200, "userpass login: {v}");
    v["auth"]["client_token"].as_str().unwrap().to_string()
}
