//! The official chart's pods, booted for real: `helm template` of the official OpenBao chart
//! with the README's values.yaml and baogen as post-renderer; the configuration files a pod
//! would load are extracted from that stream exactly as the chart's container command builds
//! them (its `cp` and `sed` lines, its mounted ConfigMaps, the `-config` files of its
//! `bao server` line); the real `bao` starts with exactly those files, pointed at loopback and a
//! temporary directory as tests/e2e does, and the profile's own Prometheus configuration
//! scrapes it: `up == 1` and `vault_core_active == 1`. No Kubernetes API server runs here, so
//! what only a cluster does (service registration, the pod's DNS for retry_join) is left out
//! and said so.

use crate::common;
use crate::harness;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::harness::{make_pki, Bao, Http, Prom};
use crate::workspace::*;
use serde_json::{json, Value};

/// The post-rendered stream of the README's Helm snippet (`helm3.sh` or `helm4.sh`).
fn rendered(helm: &Path, ws: &Path, snippet: &str) -> Vec<Value> {
    let bin = bin_dir_with(ws, "helm", helm);
    let mut cmd = Command::new("sh");
    cmd.arg("-eu")
        .arg(common::root().join("integrations/examples").join(snippet))
        .current_dir(ws)
        .env("PATH", path_with(&[&bin]))
        .env("BAOGEN_HELM_LOG_DIR", ws.join("helm-log"));
    for (k, d) in [
        ("HELM_DATA_HOME", "helm/data"),
        ("HELM_CONFIG_HOME", "helm/config"),
        ("HELM_CACHE_HOME", "helm/cache"),
    ] {
        cmd.env(k, ws.join(d));
    }
    let out = cmd.env_remove("HELM_PLUGINS").output().unwrap();
    assert_ok(&out, snippet);
    let stdout = text(&out.stdout);
    let stream = &stdout[stdout.find("---").expect("a YAML stream")..];
    objects(stream)
}

/// The configuration files the OpenBao container of the StatefulSet loads, in `-config` order,
/// as its command builds them: ConfigMap files at their mount paths, copies made with `cp`,
/// and the chart's `sed` substitutions of the pod's addresses.
fn pod_configs(objs: &[Value], env: &BTreeMap<&str, &str>) -> Vec<(String, String)> {
    let sts = objs
        .iter()
        .find(|o| o["kind"] == "StatefulSet" && o["metadata"]["name"] == "openbao")
        .expect("the chart's StatefulSet");
    let spec = &sts["spec"]["template"]["spec"];
    let container = spec["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "openbao")
        .unwrap();
    // Files at their mounted paths.
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for m in container["volumeMounts"].as_array().unwrap() {
        // Volume claim templates (the raft data) are not pod volumes.
        let volume = spec["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == m["name"]);
        let Some(cm) = volume.and_then(|v| v["configMap"]["name"].as_str()) else {
            continue;
        };
        let data = objs
            .iter()
            .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == cm)
            .unwrap_or_else(|| panic!("ConfigMap {cm} is not in the stream"))["data"]
            .as_object()
            .unwrap();
        for (key, text) in data {
            let path = format!("{}/{key}", m["mountPath"].as_str().unwrap());
            files.insert(path, text.as_str().unwrap().to_string());
        }
    }
    // The container's script, line by line.
    let script: String = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join("\n");
    let mut configs = Vec::new();
    for line in script.lines().map(str::trim) {
        let words: Vec<&str> = line.trim_end_matches(';').split_whitespace().collect();
        if let ["cp", from, to] = words[..] {
            let text = files[from].clone();
            files.insert(to.to_string(), text);
        } else if line.contains("sed -Ei") {
            // [ -n "${X}" ] && sed -Ei "s|X|${X?}|g" FILE: only for a variable the pod has.
            let var = line
                .split("s|")
                .nth(1)
                .and_then(|r| r.split('|').next())
                .unwrap();
            let file = words.last().unwrap().trim_end_matches(';');
            if let Some(value) = env.get(var) {
                let text = files[file].replace(var, value);
                files.insert(file.to_string(), text);
            }
        } else if line.contains("bao server") {
            // The chart runs this line with `sh`: let a real shell expand it (extraArgs may
            // hold `$(...)`), with the pod's environment, and print the arguments it passes.
            let entry = "/usr/local/bin/docker-entrypoint.sh bao server";
            assert!(line.contains(entry), "{line}");
            let out = Command::new("sh")
                .arg("-ec")
                .arg(line.replace(entry, "printf '%s\\n'"))
                .env_clear()
                .envs(env.iter().map(|(k, v)| (*k, *v)))
                .output()
                .unwrap();
            assert!(out.status.success(), "{line}: {out:?}");
            for arg in String::from_utf8(out.stdout).unwrap().lines() {
                if let Some(path) = arg.strip_prefix("-config=") {
                    let text = files.get(path).unwrap_or_else(|| {
                        panic!("{path} is neither mounted nor copied: {script}")
                    });
                    configs.push((path.to_string(), text.clone()));
                }
            }
        }
    }
    assert!(!configs.is_empty(), "no `bao server -config=` in {script}");
    configs
}

/// A pod's config files, pointed at this machine (`to_loopback`, then `rewrite`) and written to
/// `dir` in load order, plus the addresses the chart passes as BAO_API_ADDR and
/// BAO_CLUSTER_ADDR; returns them with the API and metrics ports.
fn pod_files(
    dir: &Path,
    configs: &[(String, String)],
    tls: &Path,
    rewrite: impl Fn(String) -> String,
) -> (Vec<std::path::PathBuf>, u16, u16) {
    let base = harness::free_block(3);
    let (api, cluster, metrics) = (base, base + 1, base + 2);
    let ports = BTreeMap::from([(8200, api), (8201, cluster), (8202, metrics)]);
    let data = dir.join("raft");
    std::fs::create_dir_all(&data).unwrap();
    let mut files = Vec::new();
    for (i, (path, text)) in configs.iter().enumerate() {
        let f = dir.join(format!(
            "{i}-{}",
            Path::new(path).file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&f, rewrite(to_loopback(text, &ports, tls, &data))).unwrap();
        files.push(f);
    }
    // Test only: the addresses the chart passes as BAO_API_ADDR and BAO_CLUSTER_ADDR.
    let addrs = dir.join("addresses.hcl");
    std::fs::write(&addrs, format!("api_addr = \"https://127.0.0.1:{api}\"\ncluster_addr = \"https://127.0.0.1:{cluster}\"\n")).unwrap();
    files.push(addrs);
    (files, api, metrics)
}

/// A loaded config file pointed at this machine, each change named: the listeners on loopback
/// ports, the TLS files at the test CA's, storage in a temporary directory with quick
/// elections; without `service_registration "kubernetes"` and raft `retry_join` (both need the
/// cluster).
fn to_loopback(text: &str, ports: &BTreeMap<u16, u16>, tls: &Path, data: &Path) -> String {
    let mut body: hcl::Body = hcl::from_str(text).unwrap();
    body = body
        .into_iter()
        .filter(|s| !matches!(s, hcl::Structure::Block(b) if b.identifier() == "service_registration"))
        .map(|s| match s {
            hcl::Structure::Block(b) if b.identifier() == "storage" => {
                let inner: hcl::Body = b
                    .body
                    .clone()
                    .into_iter()
                    .filter(|s| !matches!(s, hcl::Structure::Block(r) if r.identifier() == "retry_join"))
                    // Test only: elections in about 2 s instead of 10.
                    .chain([hcl::Structure::Attribute(hcl::Attribute::new("performance_multiplier", 1))])
                    .collect();
                hcl::Structure::Block(hcl::Block { body: inner, ..b })
            }
            other => other,
        })
        .collect();
    let mut out = hcl::to_string(&body).unwrap();
    for (from, to) in ports {
        out = out.replace(&format!("0.0.0.0:{from}"), &format!("127.0.0.1:{to}"));
    }
    out.replace(
        "/openbao/tls/tls.crt",
        &tls.join("server.crt").display().to_string(),
    )
    .replace(
        "/openbao/tls/tls.key",
        &tls.join("server.key").display().to_string(),
    )
    .replace("/openbao/data", &data.display().to_string())
}

#[test]
fn the_official_charts_pod_config_boots_real_openbao_and_the_profile_scrapes_it() {
    let (Some(helm3), Some(helm4), Some(_)) = (
        common::tool("helm3"),
        common::tool("helm4"),
        official_chart(),
    ) else {
        return;
    };
    let ws = workspace("chart-boot");
    // What the chart's pods get: HOSTNAME is the pod name, the IPs are the pod's.
    let env = BTreeMap::from([
        ("HOSTNAME", "openbao-0"),
        ("POD_IP", "127.0.0.1"),
        ("HOST_IP", "127.0.0.1"),
    ]);
    let configs = pod_configs(&rendered(&helm3, ws.path(), "helm3.sh"), &env);
    // Helm 4 through the plugin delivers the same files.
    assert_eq!(
        configs,
        pod_configs(&rendered(&helm4, ws.path(), "helm4.sh"), &env)
    );
    let paths: Vec<&str> = configs.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["/tmp/storageconfig.hcl", "/openbao/baogen/baogen.hcl"]
    );
    let ours = &configs[1].1;
    assert!(
        ours.contains("metrics_only = true") && ours.contains("disallow_metrics = true"),
        "{ours}"
    );

    let tmp = common::TempDir::new("chart-boot-run");
    let tls = make_pki(tmp.path());
    let (files, api, metrics) = pod_files(tmp.path(), &configs, &tls, |text| text);
    eprintln!("NOTE: service_registration \"kubernetes\" and raft retry_join were left out: they need a Kubernetes cluster");

    let http = Http::new(Some(&tls.join("ca.crt")));
    let api_url = format!("https://127.0.0.1:{api}");
    let mut bao = Bao::start("bao-chart", tmp.path(), &files, api_url.clone());
    bao.wait_listening(&http);
    let (key, root) = bao.init(&http);
    bao.unseal(&http, &key);
    bao.wait_health(&http, 200);
    bao.proc.assert_no_unknown_fields();

    // The profile's metrics policy and a token with only it, as VERIFY.md says.
    let render = tmp.path().join("render");
    let out = common::baogen()
        .arg("render")
        .arg(ws.path().join("profiles/active.toml"))
        .arg("--out")
        .arg(&render)
        .output()
        .unwrap();
    assert_ok(&out, "baogen render");
    let policy =
        std::fs::read_to_string(render.join("openbao/policies/openbao-metrics.hcl")).unwrap();
    let (status, v) = http.api(
        "PUT",
        &format!("{api_url}/v1/sys/policies/acl/openbao-metrics"),
        Some(&root),
        &json!({"policy": policy}),
    );
    assert_eq!(status, 204, "{v}");
    let (status, v) = http.api(
        "POST",
        &format!("{api_url}/v1/auth/token/create"),
        Some(&root),
        &json!({"policies": ["openbao-metrics"], "no_parent": true}),
    );
    assert_eq!(status, 200, "{v}");
    let token = v["auth"]["client_token"].as_str().unwrap().to_string();

    // The profile's prometheus.yml, its Kubernetes discovery replaced by the loopback target
    // and its mounted token and CA by the test's (test only; everything else as generated).
    let prom_dir = tmp.path().join("prometheus");
    std::fs::create_dir_all(&prom_dir).unwrap();
    std::fs::write(prom_dir.join("token"), &token).unwrap();
    let generated = std::fs::read_to_string(render.join("prometheus/prometheus.yml")).unwrap();
    let mut config: Value = serde_saphyr::from_str(&generated).unwrap();
    config.as_object_mut().unwrap().remove("rule_files");
    let job = &mut config["scrape_configs"][0];
    let job = job.as_object_mut().unwrap();
    job.remove("kubernetes_sd_configs");
    job.insert(
        "static_configs".into(),
        json!([{"targets": [format!("127.0.0.1:{metrics}")]}]),
    );
    let relabel: Vec<Value> = job["relabel_configs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] != "keep")
        .cloned()
        .collect();
    job.insert("relabel_configs".into(), json!(relabel));
    job.insert("scrape_interval".into(), json!("1s"));
    job.insert("scrape_timeout".into(), json!("1s"));
    job["authorization"]["credentials_file"] = json!(prom_dir.join("token").display().to_string());
    job["tls_config"]["ca_file"] = json!(tls.join("ca.crt").display().to_string());
    // The test certificate is for localhost; in the cluster it is the Service's DNS name.
    job["tls_config"]["server_name"] = json!("localhost");
    let prom_config = prom_dir.join("prometheus.yml");
    std::fs::write(&prom_config, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    let mut prom = Prom::start(&prom_config, &prom_dir.join("data"));
    let plain = Http::new(None);
    let wait = Duration::from_secs(45);
    prom.wait_value(&plain, "up{job=\"openbao\"}", 1.0, wait);
    prom.wait_value(&plain, "vault_core_active", 1.0, wait);
}

/// The self-initialising example through the official chart, with the README's values: only
/// the StatefulSet's first pod loads `self-init.hcl`; every pod gets the seal; the files the
/// first pod loads boot real OpenBao from empty storage into a configured, unsealed server
/// (the admin's password from the variable the chart sets from its Secret), with no init and
/// no unseal; `baogen plan` then finds nothing to change.
#[test]
fn the_official_charts_first_pod_alone_self_initialises() {
    let (Some(helm3), Some(_)) = (common::tool("helm3"), official_chart()) else {
        return;
    };
    let ws = workspace("chart-self-init");
    let objs = rendered(&helm3, ws.path(), "helm3-self-init.sh");
    let pod = |name: &'static str| {
        let env = BTreeMap::from([
            ("HOSTNAME", name),
            ("POD_IP", "127.0.0.1"),
            ("HOST_IP", "127.0.0.1"),
        ]);
        pod_configs(&objs, &env)
    };
    let first = pod("openbao-0");
    let paths: Vec<&str> = first.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/tmp/storageconfig.hcl",
            "/openbao/baogen/baogen.hcl",
            "/openbao/baogen/self-init.hcl"
        ]
    );
    for other in ["openbao-1", "openbao-2", "openbao-10"] {
        let paths: Vec<String> = pod(other).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            ["/tmp/storageconfig.hcl", "/openbao/baogen/baogen.hcl"],
            "{other} must not self-initialise"
        );
    }
    assert!(first[1].1.contains("seal \"static\""), "{}", first[1].1);

    let tmp = common::TempDir::new("chart-self-init-run");
    let tls = make_pki(tmp.path());
    let seal_dir = tmp.path().join("seal");
    std::fs::create_dir_all(&seal_dir).unwrap();
    let key = Command::new("openssl")
        .args(["rand", "32"])
        .output()
        .unwrap();
    std::fs::write(seal_dir.join("unseal.key"), key.stdout).unwrap();
    let seal = format!("{}/", seal_dir.display());
    let (files, api, _) = pod_files(tmp.path(), &first, &tls, |text| {
        text.replace("/openbao/seal/", &seal)
    });
    let password = "from-the-chart-secret";
    let http = Http::new(Some(&tls.join("ca.crt")));
    let api_url = format!("https://127.0.0.1:{api}");
    let mut bao = Bao::start_with_env(
        "bao-chart-self-init",
        tmp.path(),
        &files,
        api_url.clone(),
        &[("BAO_INITIAL_ADMIN_PASSWORD", password)],
    );
    bao.wait_health(&http, 200);
    bao.proc.assert_no_unknown_fields();
    let (status, v) = http.api(
        "POST",
        &format!("{api_url}/v1/auth/userpass/login/admin"),
        None,
        &json!({ "password": password }),
    );
    assert_eq!(status, 200, "{v}");
    let token_file = tmp.path().join("token");
    std::fs::write(&token_file, v["auth"]["client_token"].as_str().unwrap()).unwrap();
    let out = common::baogen()
        .arg("plan")
        .arg(ws.path().join("profiles/examples/self-init.toml"))
        .args(["--addr", &api_url, "--token-file"])
        .arg(&token_file)
        .arg("--ca-cert")
        .arg(tls.join("ca.crt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}
