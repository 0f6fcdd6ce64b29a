//! End to end: every shipped profile, as a loopback variant (tests/e2e/profiles/), rendered by
//! baogen and run as is on a real OpenBao and a real Prometheus on 127.0.0.1. This automates the
//! how-to's "Verify the result" and "Troubleshooting" sections, and `baogen verify` against them.
//! Run alone with `cargo test --test e2e`.

mod common;
#[path = "e2e/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use common::TempDir;
use harness::{make_pki, run, Bao, Http, Prom};

const SHIPPED: [&str; 3] = ["active", "all-node", "demo"];
const PROM_WAIT: Duration = Duration::from_secs(45);

fn variant_path(name: &str) -> PathBuf {
    common::root().join(format!("tests/e2e/profiles/{name}.toml"))
}

/// One scenario's files: the port-rewritten variant, its render, the test PKI.
struct Env {
    name: &'static str,
    tmp: TempDir,
    variant: PathBuf,
    render: PathBuf,
    ports: BTreeMap<u16, u16>,
    tls: PathBuf,
}

impl Env {
    fn prepare(name: &'static str) -> Env {
        let tmp = TempDir::new(&format!("e2e-{name}"));
        let text = std::fs::read_to_string(variant_path(name)).unwrap();
        let (text, ports) = harness::rewrite_ports(&text);
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

    fn port(&self, placeholder: u16) -> u16 {
        self.ports[&placeholder]
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn ca(&self) -> PathBuf {
        self.tls.join("ca.crt")
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.render.join(rel)).unwrap()
    }

    /// The generated server.hcl with only `service_registration "kubernetes" {}` removed
    /// (it is fatal outside a cluster); every other byte is used as generated.
    fn server_hcl_without_k8s_registration(&self) -> PathBuf {
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
    fn storage_hcl(&self, api: u16, cluster: u16) -> PathBuf {
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
    fn start_prometheus(&self, token: Option<&str>) -> Prom {
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
    fn verify(&self, prom: &Prom, extra: &[&str]) -> (i32, String) {
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
    fn assert_alerts(&self, prom: &Prom, http: &Http, firing: &[&str]) {
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
        for rule in rules["groups"][0]["rules"].as_array().unwrap() {
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
                    None => vec![BTreeMap::new()],
                };
                for labels in &mut hits {
                    labels.insert(
                        "severity".into(),
                        rule["labels"]["severity"].as_str().unwrap().into(),
                    );
                    let ann: BTreeMap<String, String> = rule["annotations"]
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| {
                            let inst = labels.get("instance").cloned().unwrap_or_default();
                            (
                                k.clone(),
                                v.as_str().unwrap().replace("{{ $labels.instance }}", &inst),
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

fn core_lines(what: &str, body: &str) {
    let l: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("vault_core_active") || l.starts_with("vault_core_unsealed"))
        .collect();
    eprintln!("[{what}] {}", l.join(" | "));
}

fn metrics_url(scheme: &str, port: u16) -> String {
    format!("{scheme}://127.0.0.1:{port}/v1/sys/metrics?format=prometheus")
}

fn create_token(http: &Http, api: &str, root: &str, policies: &[&str]) -> String {
    let (status, v) = http.api(
        "POST",
        &format!("{api}/v1/auth/token/create"),
        Some(root),
        &json!({"policies": policies, "no_default_policy": true}),
    );
    assert_eq!(status, 200, "token create: {v}");
    v["auth"]["client_token"].as_str().unwrap().to_string()
}

fn seal(http: &Http, api: &str, root: &str) {
    let (status, v) = http.api("PUT", &format!("{api}/v1/sys/seal"), Some(root), &json!({}));
    assert_eq!(status, 204, "seal: {v}");
}

fn get(http: &Http, url: &str, token: Option<&str>) -> (u16, String) {
    http.get(url, token)
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// Render the loopback variant of `profile` and start one real server from it (ports from
/// `base`: API, +1 cluster, +4 metrics), initialized, unsealed and active.
struct Single {
    env: Env,
    http: Http,
    api: String,
    api_port: u16,
    metrics: u16,
    bao: Bao,
    root: String,
}

fn single_server(profile: &'static str, base: u16) -> Single {
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

/// The authenticated active scrape, plus every `baogen verify` failure we can cause locally.
fn scenario_active() {
    let Single {
        env,
        http,
        api,
        api_port,
        metrics,
        bao,
        root,
    } = single_server("active", 18200);

    // The generated policy, and a token with only that policy.
    let policy = env.read("openbao/policies/openbao-metrics.hcl");
    let (status, v) = http.api(
        "PUT",
        &format!("{api}/v1/sys/policies/acl/openbao-metrics"),
        Some(&root),
        &json!({ "policy": policy }),
    );
    assert_eq!(status, 204, "policy write: {v}");
    let token = create_token(&http, &api, &root, &["openbao-metrics"]);
    let other = create_token(&http, &api, &root, &["default"]);

    let m = metrics_url("https", metrics);
    let (status, body) = get(&http, &m, Some(&token));
    assert_eq!(status, 200, "metrics with the metrics token: {body}");
    assert!(body.contains("vault_core_active"), "{body}");
    assert_eq!(get(&http, &m, None).0, 403, "metrics without a token");
    assert_eq!(
        get(&http, &m, Some(&other)).0,
        403,
        "token without the policy"
    );
    let (status, body) = get(&http, &metrics_url("https", api_port), Some(&root));
    assert_eq!(status, 403, "client listener must refuse metrics: {body}");
    assert!(
        body.contains("metrics endpoint is disabled for this listener"),
        "{body}"
    );
    let (status, body) = get(
        &http,
        &format!("https://127.0.0.1:{metrics}/v1/sys/health"),
        None,
    );
    assert_eq!(
        status, 404,
        "metrics-only listener must refuse other paths: {body}"
    );
    assert!(
        body.contains("this listener only serves the metrics endpoint"),
        "{body}"
    );

    let mut prom = env.start_prometheus(Some(&token));
    let plain = Http::new(None);
    prom.wait_value(&plain, "up{job=\"openbao\"}", 1.0, PROM_WAIT);
    prom.wait_value(&plain, "vault_core_active", 1.0, PROM_WAIT);

    // baogen verify: all good, then each troubleshooting case we can reproduce here.
    let openbao = format!("https://127.0.0.1:{metrics}");
    let ca = env.ca().display().to_string();
    let token_file = env
        .render
        .join("prometheus/metrics.token")
        .display()
        .to_string();
    let direct = |ca: &str, token_file: &str| {
        vec![
            "--openbao".to_string(),
            openbao.clone(),
            "--ca".into(),
            ca.into(),
            "--token-file".into(),
            token_file.into(),
        ]
    };
    let call = |prom: &Prom, v: Vec<String>| {
        let list: Vec<&str> = v.iter().map(String::as_str).collect();
        env.verify(prom, &list)
    };
    let (code, out) = call(&prom, direct(&ca, &token_file));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("PASS").count(), 3, "{out}");

    let wrong_token = env.dir().join("wrong.token");
    std::fs::write(&wrong_token, &other).unwrap();
    let (code, out) = call(&prom, direct(&ca, &wrong_token.display().to_string()));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("HTTP 403")
            && out.contains("hint: The target returns 403: check the OpenBao token policy"),
        "{out}"
    );

    let wrong_ca = env.tls.join("wrong-ca.crt").display().to_string();
    let (code, out) = call(&prom, direct(&wrong_ca, &token_file));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("hint: The target has a TLS error: check the CA certificate"),
        "{out}"
    );

    // The same two failures as Prometheus sees them (its lastError picks the hint).
    let prom_dir = env.render.join("prometheus");
    std::fs::write(prom_dir.join("metrics.token"), &other).unwrap();
    prom.wait_value(&plain, "up{job=\"openbao\"}", 0.0, PROM_WAIT);
    let (code, out) = call(&prom, vec![]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("403") && out.contains("hint: The target returns 403"),
        "{out}"
    );
    std::fs::write(prom_dir.join("metrics.token"), &token).unwrap();
    prom.wait_value(&plain, "up{job=\"openbao\"}", 1.0, PROM_WAIT);
    std::fs::copy(env.tls.join("wrong-ca.crt"), prom_dir.join("ca.crt")).unwrap();
    prom.wait_value(&plain, "up{job=\"openbao\"}", 0.0, PROM_WAIT);
    let (code, out) = call(&prom, vec![]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("hint: The target has a TLS error"), "{out}");
    std::fs::copy(env.ca(), prom_dir.join("ca.crt")).unwrap();
    prom.wait_value(&plain, "up{job=\"openbao\"}", 1.0, PROM_WAIT);
    env.assert_alerts(&prom, &plain, &[]);

    // Sealed: authenticated metrics answer 503, so up drops and only OpenBaoUnreachable can fire.
    seal(&http, &api, &root);
    let (status, body) = get(&http, &m, Some(&token));
    assert_eq!(status, 503, "sealed server, authenticated metrics: {body}");
    prom.wait_value(&plain, "up{job=\"openbao\"}", 0.0, PROM_WAIT);
    let (code, out) = call(&prom, vec![]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("hint: OpenBao answers 503"), "{out}");
    env.assert_alerts(&prom, &plain, &["OpenBaoUnreachable"]);
    bao.proc.assert_no_unknown_fields();
}

/// The private all-node scrape: unauthenticated metrics-only listener over verified TLS.
fn scenario_all_node() {
    let Single {
        env,
        http,
        api,
        api_port,
        metrics,
        bao,
        root,
    } = single_server("all-node", 18300);
    assert!(
        !env.render.join("openbao/policies").exists(),
        "an unauthenticated scrape needs no metrics policy"
    );

    let m = metrics_url("https", metrics);
    let (status, body) = get(&http, &m, None);
    core_lines("all-node unsealed", &body);
    assert_eq!(status, 200, "unauthenticated metrics: {body}");
    assert!(body.contains("vault_core_active"), "{body}");
    let (status, body) = get(&http, &metrics_url("https", api_port), Some(&root));
    assert_eq!(status, 403, "client listener must refuse metrics: {body}");
    let (status, body) = get(
        &http,
        &format!("https://127.0.0.1:{metrics}/v1/sys/health"),
        None,
    );
    assert_eq!(
        status, 404,
        "metrics-only listener must refuse other paths: {body}"
    );

    let mut prom = env.start_prometheus(None);
    let plain = Http::new(None);
    prom.wait_value(&plain, "up{job=\"openbao\"}", 1.0, PROM_WAIT);
    prom.wait_value(&plain, "vault_core_active", 1.0, PROM_WAIT);
    let openbao = format!("https://127.0.0.1:{metrics}");
    let ca = env.ca().display().to_string();
    let (code, out) = env.verify(&prom, &["--openbao", &openbao, "--ca", &ca]);
    assert_eq!(code, 0, "{out}");
    let wrong = env.tls.join("wrong-ca.crt").display().to_string();
    let (code, out) = env.verify(&prom, &["--openbao", &openbao, "--ca", &wrong]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("hint: The target has a TLS error"), "{out}");
    // A job Prometheus has no target for: the "no endpoints" troubleshooting hint.
    let elsewhere = env.dir().join("all-node-other-job.toml");
    let text = std::fs::read_to_string(&env.variant).unwrap();
    std::fs::write(
        &elsewhere,
        text.replace("[scrape]\n", "[scrape]\njob = \"openbao-elsewhere\"\n"),
    )
    .unwrap();
    let out = common::baogen()
        .arg("verify")
        .arg(&elsewhere)
        .args(["--prometheus", &prom.url])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("hint: No target for job `openbao-elsewhere`")
            && text.contains("needs get, update and patch on pods"),
        "{text}"
    );
    env.assert_alerts(&prom, &plain, &[]);

    // Sealed: unauthenticated metrics still answer 200, so up stays 1 and OpenBaoSealed fires
    // (where the active profile can only see OpenBaoUnreachable).
    seal(&http, &api, &root);
    let (status, body) = get(&http, &m, None);
    core_lines("all-node sealed", &body);
    assert_eq!(
        status, 200,
        "sealed server, unauthenticated metrics: {body}"
    );
    let unsealed: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("vault_core_unsealed"))
        .collect();
    assert!(
        !unsealed.is_empty() && unsealed.iter().all(|l| l.ends_with(" 0")),
        "{body}"
    );
    prom.wait_value(
        &plain,
        "max without (exported_cluster) (vault_core_unsealed{job=\"openbao\"})",
        0.0,
        PROM_WAIT,
    );
    prom.wait_value(&plain, "up{job=\"openbao\"}", 1.0, PROM_WAIT);
    // The only node is sealed, so there is no active node either; all-node sees both.
    prom.wait_value(
        &plain,
        "sum(vault_core_active{job=\"openbao\"})",
        0.0,
        PROM_WAIT,
    );
    env.assert_alerts(&prom, &plain, &["OpenBaoSealed", "OpenBaoNoActiveNode"]);
    bao.proc.assert_no_unknown_fields();
}

/// The Compose demo without Docker: every generated node config as its own `bao` process,
/// forming the real Raft cluster, scraped by Prometheus with the generated config.
fn scenario_demo() {
    let env = Env::prepare("demo");
    let http = Http::new(None);
    let nodes = [
        ("openbao-node0", 18410, 18414),
        ("openbao-node1", 18420, 18424),
        ("openbao-node2", 18430, 18434),
    ];
    let start = |name: &str, api: u16| {
        std::fs::create_dir_all(env.dir().join(name).join("raft")).unwrap();
        let config = env.render.join(format!("compose/{name}.hcl"));
        Bao::start(
            name,
            env.dir(),
            &[config],
            format!("http://127.0.0.1:{}", env.port(api)),
        )
    };
    let mut baos: Vec<Bao> = nodes.iter().map(|(n, a, _)| start(n, *a)).collect();
    baos[0].wait_listening(&http);
    let (key, _root) = baos[0].init(&http);
    baos[0].unseal(&http, &key);
    baos[0].wait_health(&http, 200);
    for b in &mut baos[1..] {
        b.wait_listening(&http);
        b.unseal(&http, &key);
    }
    for b in &mut baos[1..] {
        b.wait_health(&http, 429);
    }

    for (name, api, metrics) in nodes {
        let (status, body) = get(&http, &metrics_url("http", env.port(metrics)), None);
        assert_eq!(status, 200, "{name}: unauthenticated metrics: {body}");
        core_lines(name, &body);
        assert!(body.contains("vault_core_unsealed"), "{name}: {body}");
        let (status, _) = get(&http, &metrics_url("http", env.port(api)), None);
        assert_eq!(status, 403, "{name}: client listener must refuse metrics");
        let (status, _) = get(
            &http,
            &format!("http://127.0.0.1:{}/v1/sys/health", env.port(metrics)),
            None,
        );
        assert_eq!(
            status, 404,
            "{name}: metrics-only listener must refuse other paths"
        );
    }
    // What a 3-node Raft cluster exposes about its peers, for alert authors.
    let (_, body) = get(&http, &metrics_url("http", env.port(18414)), None);
    let raft: Vec<&str> = body
        .lines()
        .filter(|l| {
            !l.starts_with('#')
                && (l.contains("autopilot")
                    || l.contains("raft_peers")
                    || l.contains("raft_storage"))
        })
        .collect();
    eprintln!(
        "[demo] Raft and autopilot series on the active node:\n{}",
        raft.join("\n")
    );

    let mut prom = env.start_prometheus(None);
    prom.wait_value(&http, "count(up{job=\"openbao\"} == 1)", 3.0, PROM_WAIT);
    prom.wait_value(
        &http,
        "count(vault_core_active{job=\"openbao\"} == 1)",
        1.0,
        PROM_WAIT,
    );
    prom.wait_value(
        &http,
        "sum(vault_core_active{job=\"openbao\"})",
        1.0,
        PROM_WAIT,
    );
    // The active node counts the Raft peers: the series a peer-count alert can use.
    prom.wait_value(
        &http,
        "max(vault_raft_peers{job=\"openbao\"})",
        3.0,
        PROM_WAIT,
    );
    let (code, out) = env.verify(
        &prom,
        &[
            "--openbao",
            &format!("http://127.0.0.1:{}", env.port(18414)),
        ],
    );
    assert_eq!(code, 0, "{out}");
    env.assert_alerts(&prom, &http, &[]);

    // A restarted standby comes back sealed; its unauthenticated metrics still answer.
    let restarted = baos.pop().unwrap();
    drop(restarted);
    let mut node2 = start("openbao-node2", 18430);
    node2.wait_listening(&http);
    prom.wait_value(
        &http,
        "max without (exported_cluster) (vault_core_unsealed{node=\"openbao-node2\"})",
        0.0,
        PROM_WAIT,
    );
    prom.wait_value(&http, "count(up{job=\"openbao\"} == 1)", 3.0, PROM_WAIT);
    env.assert_alerts(&prom, &http, &["OpenBaoSealed"]);
    for b in baos.iter().chain([&node2]) {
        b.proc.assert_no_unknown_fields();
    }
}

/// All three scenarios at once: they mostly wait on servers, so threads save wall time.
#[test]
fn every_shipped_profile_end_to_end() {
    for t in ["bao", "prometheus", "promtool", "openssl"] {
        if common::tool(t).is_none() {
            return;
        }
    }
    let start = Instant::now();
    let scenarios: [(&str, fn()); 3] = [
        ("active", scenario_active),
        ("all-node", scenario_all_node),
        ("demo", scenario_demo),
    ];
    // E2E_ONLY=demo runs one scenario while working on it.
    let only = std::env::var("E2E_ONLY").ok();
    let handles: Vec<_> = scenarios
        .into_iter()
        .filter(|(name, _)| only.as_deref().is_none_or(|o| o == *name))
        .map(|(name, f)| {
            (
                name,
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn(f)
                    .unwrap(),
            )
        })
        .collect();
    let failed: Vec<&str> = handles
        .into_iter()
        .filter_map(|(name, h)| h.join().is_err().then_some(name))
        .collect();
    eprintln!("e2e scenarios finished in {:?}", start.elapsed());
    assert!(
        failed.is_empty(),
        "end-to-end scenarios failed: {failed:?} (see the panics above)"
    );
}

/// Remove the keys a loopback variant may change; what is left must equal the shipped profile.
fn strip_loopback_keys(mut t: toml::Table) -> toml::Table {
    fn drop_keys(t: &mut toml::Table, table: &str, keys: &[&str]) {
        if let Some(toml::Value::Table(sub)) = t.get_mut(table) {
            for k in keys {
                sub.remove(*k);
            }
            if sub.is_empty() {
                t.remove(table);
            }
        }
    }
    t.remove("output");
    if let Some(toml::Value::Table(l)) = t.get_mut("listener") {
        drop_keys(
            l,
            "api",
            &[
                "address",
                "cluster_address",
                "tls_cert_file",
                "tls_key_file",
            ],
        );
        drop_keys(l, "metrics", &["address", "tls_cert_file", "tls_key_file"]);
    }
    drop_keys(
        &mut t,
        "scrape",
        &["interval", "scrape_timeout", "server_name"],
    );
    drop_keys(
        &mut t,
        "prometheus",
        &["static_targets", "token_file", "ca_file"],
    );
    if let Some(toml::Value::Table(d)) = t.get_mut("demo") {
        for n in d
            .get_mut("nodes")
            .and_then(|n| n.as_array_mut())
            .into_iter()
            .flatten()
        {
            if let Some(n) = n.as_table_mut() {
                for k in [
                    "host",
                    "api_port",
                    "cluster_port",
                    "metrics_port",
                    "raft_path",
                ] {
                    n.remove(k);
                }
            }
        }
    }
    t
}

/// Fast and tool-free: the variants are valid profiles and differ from the shipped ones only
/// in addresses, file paths, node hosts/ports and scrape timing.
#[test]
fn loopback_variants_are_the_shipped_profiles_pointed_at_loopback() {
    for name in SHIPPED {
        let variant = variant_path(name);
        baogen::profile::load(&variant)
            .unwrap_or_else(|d| panic!("{} does not validate: {d:#?}", variant.display()));
        let shipped = common::root().join(format!("profiles/{name}.toml"));
        let parse = |p: &Path| -> toml::Table {
            toml::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        };
        assert_eq!(
            strip_loopback_keys(parse(&variant)),
            strip_loopback_keys(parse(&shipped)),
            "{} differs from {} in more than loopback addresses, paths and timing",
            variant.display(),
            shipped.display()
        );
    }
}

#[test]
fn port_rewrite_keeps_spacing_and_touches_only_placeholders() {
    let (text, map) =
        harness::rewrite_ports("a = \"127.0.0.1:18200\"\nb = 18204\nc = 8200\nd = 118200\n");
    let base = map[&18200];
    assert_eq!(map[&18204], base + 4);
    assert_eq!(
        text,
        format!(
            "a = \"127.0.0.1:{base}\"\nb = {}\nc = 8200\nd = 118200\n",
            base + 4
        )
    );
}

/// Fast and tool-free: `verify` refuses incomplete input with exit 2 and reports an unreachable
/// Prometheus as a failed check (exit 1).
#[test]
fn verify_exit_codes_without_a_deployment() {
    let active = common::root().join("profiles/active.toml");
    let active = active.to_str().unwrap();
    let out = common::run_baogen(&[
        "verify",
        active,
        "--prometheus",
        "http://127.0.0.1:1",
        "--openbao",
        "https://127.0.0.1:1",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--token-file"),
        "{out:?}"
    );
    let out = common::run_baogen(&[
        "verify",
        active,
        "--prometheus",
        "http://127.0.0.1:1",
        "--ca",
        "/nonexistent/ca.crt",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = common::run_baogen(&["verify", active, "--prometheus", "http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL") && text.contains("cannot query Prometheus"),
        "{text}"
    );
}
