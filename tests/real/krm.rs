//! `baogen krm` with the real `kpt fn render --allow-exec` and `kpt fn eval --exec`, and the
//! legacy exec plugin with the real `kubectl kustomize --enable-alpha-plugins`.

use crate::common;

use std::path::Path;
use std::process::Output;

use crate::workspace::*;

const STS: &str = "# the chart's StatefulSet, kept with its comments\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: openbao\n  namespace: openbao\nspec:\n  template:\n    spec:\n      containers:\n        - name: openbao # the server\n          image: quay.io/openbao/openbao:2.7.2\n";

/// A fresh clone with the chart's StatefulSet added to the README's kpt package, as a user's
/// package holds it; the package directory.
fn kpt_clone(tag: &str) -> (common::TempDir, std::path::PathBuf) {
    let clone = fresh_clone(tag);
    let pkg = clone.path().join("integrations/examples/kpt/openbao-pkg");
    std::fs::write(pkg.join("statefulset.yaml"), STS).unwrap();
    (clone, pkg)
}

/// Every file below the package's `baogen/` directory, relative to it.
fn package_files(pkg: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                walk(base, &e.path(), out);
            } else {
                out.push(e.path().strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut files = Vec::new();
    walk(&pkg.join("baogen"), &pkg.join("baogen"), &mut files);
    files.sort();
    files
}

/// The package's profile has engine roles in two namespaces: each object has its own file,
/// namespace included, so kpt never sees two resources at one path.
fn check_package(pkg: &Path) {
    assert_eq!(
        package_files(pkg),
        [
            "ci/role-openbao-kubernetes-secrets-openbao.yaml",
            "ci/rolebinding-openbao-kubernetes-secrets-openbao.yaml",
            // The dashboard, in Grafana's (Prometheus') namespace for its sidecar.
            "monitoring/configmap-openbao-openbao-dashboard.yaml",
            // baogen's server configuration, for the pods to load.
            "openbao/configmap-openbao-baogen-config.yaml",
            "openbao/prometheusrule-openbao-metrics-alerts.yaml",
            "openbao/role-openbao-service-registration.yaml",
            "openbao/rolebinding-openbao-service-registration.yaml",
            "openbao/service-openbao-active-metrics.yaml",
            "openbao/servicemonitor-openbao-active-metrics.yaml",
            "web/role-openbao-kubernetes-secrets-openbao.yaml",
            "web/rolebinding-openbao-kubernetes-secrets-openbao.yaml",
        ]
    );
    let sts = std::fs::read_to_string(pkg.join("statefulset.yaml")).unwrap();
    assert!(sts.contains("# the chart's StatefulSet"), "{sts}");
    assert_patched(&objects(&sts));
}

#[test]
fn kpt_fn_render_upserts_into_stable_files() {
    let Some(kpt) = common::tool("kpt") else {
        return;
    };
    let (clone, pkg) = kpt_clone("kpt-render");
    let path = path_with(&[kpt.parent().unwrap()]);
    let cwd = pkg.parent().unwrap();
    let out = run_clone_snippet(clone.path(), cwd, "kpt/render.sh", &path);
    assert_ok(&out, "the README's kpt fn render snippet");
    check_package(&pkg);
    let service = pkg.join("baogen/openbao/service-openbao-active-metrics.yaml");
    let first = std::fs::read_to_string(&service).unwrap();
    // A second run replaces, never duplicates.
    let out = run_clone_snippet(clone.path(), cwd, "kpt/render.sh", &path);
    assert_ok(&out, "the second kpt fn render");
    check_package(&pkg);
    assert_eq!(first, std::fs::read_to_string(&service).unwrap());
    let sts = std::fs::read_to_string(pkg.join("statefulset.yaml")).unwrap();
    assert_eq!(sts.matches("BAO_K8S_POD_NAME").count(), 1, "{sts}");
}

#[test]
fn kpt_fn_eval_exec() {
    let Some(kpt) = common::tool("kpt") else {
        return;
    };
    let (clone, pkg) = kpt_clone("kpt-eval");
    let path = path_with(&[kpt.parent().unwrap()]);
    let out = run_clone_snippet(clone.path(), pkg.parent().unwrap(), "kpt/eval.sh", &path);
    assert_ok(&out, "the README's kpt fn eval snippet");
    check_package(&pkg);
}

#[test]
fn kpt_shows_the_error_and_fails_on_a_bad_profile() {
    let Some(kpt) = common::tool("kpt") else {
        return;
    };
    let (clone, pkg) = kpt_clone("kpt-bad");
    std::fs::write(
        pkg.join("profiles/openbao.toml"),
        "profile = \"active\"\nbogus = 1\n",
    )
    .unwrap();
    let path = path_with(&[kpt.parent().unwrap()]);
    let out = run_clone_snippet(clone.path(), pkg.parent().unwrap(), "kpt/render.sh", &path);
    assert_failed(&out, "kpt fn render with a broken profile");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("unknown field `bogus`"), "{all}");
    assert!(package_files(&pkg).is_empty(), "nothing written on failure");
}

/// The README's kustomize snippet, from a fresh clone, run from the repository root and from
/// its own directory alike.
#[test]
fn kubectl_kustomize_runs_the_legacy_plugin_as_a_generator() {
    let Some(kubectl) = common::tool("kubectl") else {
        return;
    };
    let clone = fresh_clone("kustomize");
    let path = path_with(&[kubectl.parent().unwrap()]);
    let own_dir = clone.path().join("integrations/examples/kustomize");
    for cwd in [clone.path(), own_dir.as_path()] {
        let out = run_clone_snippet(clone.path(), cwd, "kustomize/build.sh", &path);
        assert_ok(
            &out,
            &format!(
                "the README's kubectl kustomize snippet from {}",
                cwd.display()
            ),
        );
        let objs = objects(&text(&out.stdout));
        let mut kinds = kinds(&objs);
        kinds.sort();
        assert_eq!(
            kinds,
            [
                "ConfigMap/openbao-baogen-config",
                "ConfigMap/openbao-openbao-dashboard",
                "PrometheusRule/openbao-metrics-alerts",
                "Role/openbao-service-registration",
                "RoleBinding/openbao-service-registration",
                "Service/openbao-active-metrics",
                "ServiceMonitor/openbao-active-metrics",
            ]
        );
    }

    // A missing profile: kustomize fails and shows baogen's error.
    std::fs::remove_file(clone.path().join("profiles/active.toml")).unwrap();
    let out = run_clone_snippet(clone.path(), clone.path(), "kustomize/build.sh", &path);
    assert_failed(&out, "kubectl kustomize with a missing profile");
    let err = text(&out.stderr);
    assert!(err.contains("cannot read the profile"), "{err}");
    assert!(out.stdout.is_empty());
}

fn krm(cwd: &Path, input: &str) -> Output {
    common::output_with_stdin(
        common::baogen().arg("krm").current_dir(cwd),
        input.as_bytes(),
    )
}

fn resource_list(function_config: &str) -> String {
    format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n{function_config}")
}

#[test]
fn krm_inline_profile() {
    let ws = workspace("krm-inline");
    let inline = r#"  apiVersion: baogen.dev/v1alpha1
  kind: BaogenProfile
  metadata: {name: inline}
  spec:
    inline:
      profile: active
      openbao: {namespace: openbao, service_account: openbao, pod_labels: {app.kubernetes.io/name: openbao}}
      listener:
        api: {address: "0.0.0.0:8200", tls_cert_file: /t/tls.crt, tls_key_file: /t/tls.key}
      scrape:
        token_secret: {name: tok, key: token}
        ca_config_map: {name: ca, key: ca.crt}
      prometheus: {namespace: monitoring}
"#;
    let out = krm(ws.path(), &resource_list(inline));
    assert_ok(&out, "baogen krm with spec.inline");
    let list: serde_json::Value = serde_saphyr::from_str(&text(&out.stdout)).unwrap();
    let items = list["items"].as_array().unwrap();
    assert!(
        items.iter().any(|i| i["kind"] == "ServiceMonitor"),
        "{list}"
    );
    for i in items {
        assert!(i["metadata"]["annotations"]["config.kubernetes.io/path"]
            .as_str()
            .unwrap()
            .starts_with("baogen/"));
    }
}

#[test]
fn krm_bad_input_fails_with_results_and_stderr() {
    let ws = workspace("krm-bad");
    std::fs::write(
        ws.path().join("profiles/broken.toml"),
        "profile = \"active\"\nbogus = 1\n",
    )
    .unwrap();
    let config = |spec: &str| {
        resource_list(&format!("  apiVersion: baogen.dev/v1alpha1\n  kind: BaogenProfile\n  metadata: {{name: x}}\n  spec: {spec}\n"))
    };
    let cases = [
        ("apiVersion: [\n".to_string(), "not valid YAML"),
        ("- a\n".to_string(), "no ResourceList on stdin"),
        ("apiVersion: v1\nkind: List\n".to_string(), "not a config.kubernetes.io/v1 ResourceList"),
        ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n".to_string(), "no functionConfig"),
        (resource_list("  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: function-input}\n  data: {a: b}\n"), "unknown function config `v1`/`ConfigMap`"),
        (config("{profile: profiles/missing.toml}"), "cannot read the profile"),
        (config("{profile: profiles/broken.toml}"), "unknown field `bogus`"),
        (config("{}"), "set spec.profile"),
        (config("{profile: a, inline: {}}"), "not both"),
        (config("{profile: profiles/active.toml, extra: 1}"), "unknown key spec.extra"),
        (config("{inline: {profile: active, bogus: 1}}"), "unknown field `bogus`"),
    ];
    for (input, want) in cases {
        let out = krm(ws.path(), &input);
        assert_eq!(out.status.code(), Some(2), "{input}");
        let err = text(&out.stderr);
        assert!(err.contains(want), "{want:?} not on stderr:\n{err}");
        assert!(!err.contains("panicked"), "{err}");
        let list: serde_json::Value = serde_saphyr::from_str(&text(&out.stdout)).unwrap();
        let result = &list["results"][0];
        assert_eq!(result["severity"], "error");
        assert!(result["message"].as_str().unwrap().contains(want), "{list}");
        if want.starts_with("unknown field") {
            assert_eq!(result["tags"]["code"], "BG0104", "{list}");
            assert!(result["file"]["path"].is_string(), "{list}");
        }
    }
    // Problems as data on stderr; the ResourceList stays on stdout.
    let out = common::baogen()
        .current_dir(ws.path())
        .args(["--message-format", "json", "krm"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(config("{profile: profiles/broken.toml}").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let first: serde_json::Value =
        serde_json::from_str(text(&out.stderr).lines().next().unwrap()).unwrap();
    assert_eq!(
        (first["code"].as_str(), first["line"].as_u64()),
        (Some("BG0104"), Some(2)),
        "{first}"
    );
    let list: serde_json::Value = serde_saphyr::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(list["kind"], "ResourceList");
}

/// A `spec.inline` profile and a `spec.profile` file resolve the CA file the same way:
/// against the package directory, whatever the working directory is (no tool needed).
#[test]
fn inline_and_file_profiles_resolve_the_ca_file_against_the_package() {
    let tmp = common::TempDir::new("krm-inline-ca");
    let pkg = tmp.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let examples = common::root().join("profiles/examples");
    let text = std::fs::read_to_string(examples.join("engine-reference.toml")).unwrap();
    std::fs::write(pkg.join("engine.toml"), &text).unwrap();
    std::fs::copy(
        examples.join("kubernetes-ca.crt"),
        pkg.join("kubernetes-ca.crt"),
    )
    .unwrap();
    let map: serde_json::Value = toml::from_str(&text).unwrap();
    let config = |spec: serde_json::Value| serde_json::json!({"apiVersion": "baogen.dev/v1alpha1", "kind": "BaogenProfile", "metadata": {"name": "p"}, "spec": spec});
    let from_file = baogen::integrate::krm::load_config(
        &config(serde_json::json!({"profile": "engine.toml"})),
        &pkg,
        "fn-config",
    )
    .unwrap();
    let inline = baogen::integrate::krm::load_config(
        &config(serde_json::json!({"inline": map})),
        &pkg,
        "fn-config",
    )
    .unwrap();
    let ca =
        |p: &baogen::model::Profile| p.engine.as_ref().unwrap().config.kubernetes_ca_cert.clone();
    assert!(ca(&from_file).is_some());
    assert_eq!(ca(&inline), ca(&from_file));
    assert_eq!(
        inline.engine.unwrap().config.kubernetes_ca_cert_file,
        Some(pkg.join("kubernetes-ca.crt"))
    );
}
