//! Helm post-renderer with the real Helm 3 (`--post-renderer PATH`) and Helm 4 (the
//! `postrenderer/v1` plugin in integrations/helm-plugin), against the official OpenBao chart
//! (../shared/charts/openbao-0.29.2.tgz, unchanged).

use crate::common;

use std::path::Path;
use std::process::Command;

use crate::workspace::*;

/// Helm's own state in the workspace, never the user's home.
fn helm_env(cmd: &mut Command, ws: &Path) {
    for (k, d) in [
        ("HELM_DATA_HOME", "helm/data"),
        ("HELM_CONFIG_HOME", "helm/config"),
        ("HELM_CACHE_HOME", "helm/cache"),
    ] {
        cmd.env(k, ws.join(d));
    }
    cmd.env_remove("HELM_PLUGINS");
}

fn helm_snippet(helm: &Path, ws: &Path, snippet: &str, set: &[&str]) -> std::process::Output {
    // The README's snippet, with `--set` appended to the `helm template` line when asked.
    let mut text = crate::workspace::snippet(snippet);
    for s in set {
        text = text.replacen(
            "--namespace openbao",
            &format!("--namespace openbao --set {s}"),
            1,
        );
    }
    let file = ws.join(format!("{snippet}.run"));
    std::fs::write(&file, text).unwrap();
    let bin = bin_dir_with(ws, "helm", helm);
    let mut cmd = Command::new("sh");
    cmd.arg("-eu")
        .arg(&file)
        .current_dir(ws)
        .env("PATH", path_with(&[&bin]));
    cmd.env("BAOGEN_HELM_LOG_DIR", ws.join("helm-log"));
    helm_env(&mut cmd, ws);
    cmd.output().unwrap()
}

#[test]
fn helm3_post_renderer_adds_objects_and_patches_the_statefulset() {
    let Some(helm) = common::tool("helm3") else {
        return;
    };
    let ws = workspace("helm3");
    let out = helm_snippet(&helm, ws.path(), "helm3.sh", &[]);
    assert_ok(&out, "the README's Helm 3 snippet");
    let objs = objects(&text(&out.stdout));
    let kinds = kinds(&objs);
    for want in [
        "Service/openbao",
        "StatefulSet/openbao",
        "Service/openbao-active-metrics",
        "ServiceMonitor/openbao-active-metrics",
        "PrometheusRule/openbao-metrics-alerts",
        "Role/openbao-service-registration",
        "RoleBinding/openbao-service-registration",
    ] {
        assert!(
            kinds.contains(&want.to_string()),
            "{want} missing: {kinds:?}"
        );
    }
    assert_patched(&objs);
}

/// `helm template` of the official chart with baogen as Helm 3's post-renderer.
fn official(
    helm: &Path,
    ws: &Path,
    release: &str,
    profile: &str,
    set: &[&str],
) -> std::process::Output {
    let chart = official_chart().expect("checked by the caller");
    let mut cmd = Command::new(helm);
    cmd.args(["template", release]).arg(&chart).args([
        "--namespace",
        "openbao",
        "--values",
        "openbao-values.yaml",
    ]);
    // `--set-string KEY=VALUE` when a value starts with "string:", else `--set`.
    for s in set {
        match s.strip_prefix("string:") {
            Some(v) => cmd.args(["--set-string", v]),
            None => cmd.args(["--set", s]),
        };
    }
    cmd.args(["--post-renderer", env!("CARGO_BIN_EXE_baogen")])
        .args([
            "--post-renderer-args",
            "helm-post-render",
            "--post-renderer-args",
            profile,
        ])
        .current_dir(ws);
    helm_env(&mut cmd, ws);
    cmd.output().unwrap()
}

/// The shipped profiles work with the official chart as they are: the chart declares 8202 as
/// its replication port `https-rep`, and baogen scrapes it by number.
#[test]
fn the_shipped_profiles_work_with_the_official_chart() {
    let (Some(helm), Some(_)) = (common::tool("helm3"), official_chart()) else {
        return;
    };
    let ws = workspace("helm-official");
    std::fs::write(
        ws.path().join("profiles/all-node.toml"),
        std::fs::read_to_string(common::root().join("profiles/all-node.toml")).unwrap(),
    )
    .unwrap();
    for (profile, set) in [
        ("profiles/active.toml", &[][..]),
        (
            "profiles/all-node.toml",
            &["server.ha.enabled=true", "server.ha.raft.enabled=true"][..],
        ),
    ] {
        let out = official(&helm, ws.path(), "openbao", profile, set);
        assert_ok(&out, &format!("the official chart with {profile}"));
        let objs = objects(&text(&out.stdout));
        let c = openbao_container(&objs);
        let ports: Vec<(u64, &str)> = c["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["containerPort"].as_u64().unwrap(),
                    p["name"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert!(
            ports.contains(&(8202, "http-rep")) || ports.contains(&(8202, "https-rep")),
            "{ports:?}"
        );
        assert_eq!(
            ports.iter().filter(|(n, _)| *n == 8202).count(),
            1,
            "{ports:?}"
        );
        // (Helm 3 shows no post-renderer stderr on success; the note is checked below.)
        if profile.contains("all-node") {
            let pm = objs.iter().find(|o| o["kind"] == "PodMonitor").unwrap();
            assert_eq!(pm["spec"]["podMetricsEndpoints"][0]["portNumber"], 8202);
        } else {
            let svc = objs
                .iter()
                .find(|o| {
                    o["metadata"]["name"] == "openbao-active-metrics" && o["kind"] == "Service"
                })
                .unwrap();
            assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8202);
        }
    }
}

/// The patch note on the official chart's render (Helm 3 hides it on success): the chart sets
/// the Downward API env itself and declares 8202 as its replication port.
#[test]
fn the_patch_note_on_the_official_chart_says_what_was_already_there() {
    let (Some(helm), Some(chart)) = (common::tool("helm3"), official_chart()) else {
        return;
    };
    let ws = workspace("helm-official-note");
    let mut cmd = Command::new(&helm);
    cmd.current_dir(ws.path());
    cmd.args(["template", "openbao"]).arg(&chart).args([
        "--namespace",
        "openbao",
        "--values",
        "openbao-values.yaml",
    ]);
    helm_env(&mut cmd, ws.path());
    let rendered = cmd.output().unwrap();
    assert_ok(&rendered, "helm template");
    let out = post_render(ws.path(), "profiles/active.toml", &text(&rendered.stdout));
    assert_ok(&out, "helm-post-render");
    let note = text(&out.stderr);
    assert!(
        note.contains("StatefulSet openbao/openbao already has container port 8202 (as `https-rep`, scraped by number), env BAO_K8S_NAMESPACE, env BAO_K8S_POD_NAME; left unchanged"),
        "{note}"
    );
}

/// What the official chart can get wrong against a profile: each is exit 2, nothing on
/// stdout, and an error naming the values.yaml or profile key that fixes it.
#[test]
fn the_official_charts_mistakes_are_refused_with_the_key_to_change() {
    let (Some(helm), Some(_)) = (common::tool("helm3"), official_chart()) else {
        return;
    };
    let ws = workspace("helm-official-bad");
    std::fs::write(
        ws.path().join("profiles/labels.toml"),
        std::fs::read_to_string(common::root().join("profiles/active.toml"))
            .unwrap()
            .replace(
                "\"app.kubernetes.io/instance\" = \"openbao\"",
                "\"app.kubernetes.io/instance\" = \"bao\"",
            ),
    )
    .unwrap();
    std::fs::write(
        ws.path().join("profiles/tls-elsewhere.toml"),
        std::fs::read_to_string(common::root().join("profiles/active.toml"))
            .unwrap()
            .replace("/openbao/tls/", "/etc/openbao-tls/"),
    )
    .unwrap();
    let config = "string:server.ha.raft.config=storage \"raft\" {\n  path = \"/openbao/data\"\n}\n";
    let with = |stanza: &str| format!("{config}{stanza}\n");
    let listener_clash =
        with("listener \"tcp\" {\n  address = \"[::]:8200\"\n  tls_disable = 1\n}");
    let listener_plain =
        with("listener \"tcp\" {\n  address = \"[::]:9999\"\n  tls_disable = 1\n}");
    let telemetry = with("telemetry {\n  disable_hostname = false\n}");
    let registration = with("service_registration \"kubernetes\" {}");
    let key = "server.ha.raft.config";
    let broken = "string:server.ha.raft.config=storage \"raft\" {\n  path = \"/openbao/data\"\n";
    let cases: [(&str, &str, &[&str], &[&str]); 11] = [
        ("openbao", "profiles/active.toml", &[broken], &["the chart's config (ConfigMap openbao-config, extraconfig-from-values.hcl) is not valid HCL"]),
        (
            "openbao",
            "profiles/active.toml",
            &["server.volumeMounts=null"],
            &[
                "does not mount the ConfigMap openbao-baogen-config",
                "server.volumeMounts",
                "server.extraArgs",
            ],
        ),
        (
            "openbao",
            "profiles/active.toml",
            &["server.extraArgs="],
            &[
                "does not pass /openbao/baogen/baogen.hcl",
                "server.extraArgs: \"-config=/openbao/baogen/baogen.hcl\"",
            ],
        ),
        (
            "openbao",
            "profiles/tls-elsewhere.toml",
            &[],
            &[
                "/etc/openbao-tls/tls.crt is not under any path mounted",
                "mountPath: /etc/openbao-tls",
            ],
        ),
        (
            "openbao",
            "profiles/active.toml",
            &[&listener_clash],
            &["declares a listener on \"[::]:8200\"", key],
        ),
        (
            "openbao",
            "profiles/active.toml",
            &[&listener_plain],
            &["\"[::]:9999\" with tls_disable", key],
        ),
        (
            "openbao",
            "profiles/active.toml",
            &[&telemetry],
            &["own telemetry stanza", key],
        ),
        (
            "openbao",
            "profiles/active.toml",
            &[&registration],
            &["declares service_registration", key],
        ),
        (
            "openbao",
            "profiles/active.toml",
            &["serverTelemetry.serviceMonitor.enabled=true"],
            &[
                "ServiceMonitor openbao/openbao",
                "serverTelemetry.serviceMonitor.enabled=false",
            ],
        ),
        (
            "vault",
            "profiles/active.toml",
            &[],
            &[
                "no StatefulSet openbao/openbao",
                "found: openbao/vault",
                "openbao.statefulset",
            ],
        ),
        (
            "openbao",
            "profiles/labels.toml",
            &[],
            &[
                "app.kubernetes.io/instance=bao",
                "openbao.pod_labels",
                "server.extraLabels",
            ],
        ),
    ];
    for (release, profile, set, want) in cases {
        let out = official(&helm, ws.path(), release, profile, set);
        assert_failed(&out, &format!("{release} {profile} {set:?}"));
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
        let err = text(&out.stderr);
        for w in want {
            assert!(err.contains(w), "{w:?} not in:\n{err}");
        }
    }
}

#[test]
fn helm4_plugin_keeps_helm_annotations_and_points_to_the_log_on_failure() {
    let Some(helm) = common::tool("helm4") else {
        return;
    };
    let ws = workspace("helm4");
    let out = helm_snippet(&helm, ws.path(), "helm4.sh", &[]);
    assert_ok(&out, "the README's Helm 4 snippet");
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("Installing plugin"), "{stdout}");
    // What `helm plugin install` says comes first, then the manifests.
    let stdout = stdout[stdout.find("---\n").expect("a stream")..].to_string();
    let objs = objects(&stdout);
    assert_patched(&objs);
    // Helm 4 turns the annotation back into `# Source:`; the hook (passed through) and the
    // chart's files keep theirs, baogen's objects get their own names.
    for source in [
        "# Source: openbao/templates/server-statefulset.yaml",
        "# Source: openbao/templates/tests/server-test.yaml",
        "# Source: baogen/openbao/servicemonitor-openbao-active-metrics.yaml",
    ] {
        assert!(stdout.contains(source), "{source} missing:\n{stdout}");
    }
    assert!(!stdout.contains("generated-by-postrender"), "{stdout}");

    // Helm 4 discards the plugin's stderr: the log holds the error and a re-run command.
    let ws = workspace("helm4-port");
    let out = helm_snippet(
        &helm,
        ws.path(),
        "helm4.sh",
        &["serverTelemetry.serviceMonitor.enabled=true"],
    );
    assert_failed(&out, "helm4 with the chart's own ServiceMonitor");
    assert!(
        text(&out.stderr).contains("baogen"),
        "{}",
        text(&out.stderr)
    );
    let log = std::fs::read_to_string(ws.path().join("helm-log/error.log")).unwrap();
    assert!(
        log.contains("serverTelemetry.serviceMonitor.enabled=false"),
        "{log}"
    );
    assert!(
        log.contains("baogen helm-post-render profiles/active.toml failed (exit 2)"),
        "{log}"
    );
}

/// Helm 4 renders a chart with a Secret through the plugin: whether baogen succeeds or fails,
/// no file anywhere the plugin may write holds the Secret's value, and nothing it left is
/// readable by other users.
#[test]
fn helm4_plugin_keeps_no_rendered_input_on_disk() {
    let Some(helm) = common::tool("helm4") else {
        return;
    };
    let secret = "c2VjcmV0LXZhbHVlLW5ldmVyLW9uLWRpc2s";
    // The chart's own extraObjects value renders the Secret.
    let extra = format!("'extraObjects=[{{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{{\"name\":\"unseal\",\"namespace\":\"openbao\"}},\"data\":{{\"key\":\"{secret}\"}}}}]'");
    for (case, set) in [
        ("ok", &[][..]),
        (
            "fails",
            &["serverTelemetry.serviceMonitor.enabled=true"][..],
        ),
    ] {
        let ws = workspace(&format!("helm4-secret-{case}"));
        let tmp = ws.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let mut script = crate::workspace::snippet("helm4.sh");
        script = script.replacen(
            "--namespace openbao",
            &format!("--namespace openbao --set-json {extra}"),
            1,
        );
        for s in set {
            script = script.replacen(
                "--namespace openbao",
                &format!("--namespace openbao --set {s}"),
                1,
            );
        }
        let file = ws.path().join("helm4.run");
        std::fs::write(&file, script).unwrap();
        let bin = bin_dir_with(ws.path(), "helm", &helm);
        let mut cmd = Command::new("sh");
        cmd.arg("-eu")
            .arg(&file)
            .current_dir(ws.path())
            .env("PATH", path_with(&[&bin]))
            .env("TMPDIR", &tmp)
            .env_remove("BAOGEN_HELM_LOG_DIR");
        helm_env(&mut cmd, ws.path());
        let out = cmd.output().unwrap();
        assert_eq!(out.status.success(), case == "ok", "{}", text(&out.stderr));
        if case == "ok" {
            assert!(
                text(&out.stdout).contains(secret),
                "the Secret passes through"
            );
        }
        let mut left = Vec::new();
        walk_files(&tmp, &mut left);
        for f in &left {
            let content = std::fs::read(f).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&content).contains(secret),
                "{} holds the chart's Secret",
                f.display()
            );
            let mode = std::os::unix::fs::PermissionsExt::mode(
                &std::fs::metadata(f).unwrap().permissions(),
            );
            assert_eq!(
                mode & 0o077,
                0,
                "{} is readable by others ({mode:o})",
                f.display()
            );
        }
        if case == "fails" {
            let log = left
                .iter()
                .find(|f| f.ends_with("error.log"))
                .expect("the error log");
            assert!(std::fs::read_to_string(log)
                .unwrap()
                .contains("ServiceMonitor"));
        } else {
            assert!(left.is_empty(), "left behind after success: {left:?}");
        }
    }
}

/// Every file and directory below `dir`.
fn walk_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk_files(&p, out);
        }
        out.push(p);
    }
}

#[test]
fn helm4_plugin_passes_hooks_through_with_their_annotation() {
    // What Helm 4 pipes to the plugin, byte for byte, survives except the patched StatefulSet.
    let hook = "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  namespace: openbao\n  annotations:\n    \"helm.sh/hook\": test\n    postrenderer.helm.sh/postrender-filename: 'openbao/templates/server-test.yaml'\nspec: {}\n";
    let input = format!("{hook}---\n{STS}");
    let input = input.as_str();
    let ws = workspace("helm4-hook");
    let out = post_render(ws.path(), "profiles/active.toml", input);
    assert_ok(&out, "helm-post-render");
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with(hook), "{stdout}");
    for o in objects(&stdout)
        .iter()
        .filter(|o| o["kind"] != "StatefulSet")
    {
        assert!(
            o["metadata"]["annotations"]["postrenderer.helm.sh/postrender-filename"].is_string(),
            "{o}"
        );
    }
    assert!(text(&out.stderr).contains("patched StatefulSet openbao/openbao"));
}

fn post_render(cwd: &Path, profile: &str, input: &str) -> std::process::Output {
    common::output_with_stdin(
        common::baogen()
            .args(["helm-post-render", profile])
            .current_dir(cwd),
        input.as_bytes(),
    )
}

/// A StatefulSet as the official chart renders it with the README's values: labels, baogen's
/// ConfigMap and the TLS Secret mounted, the extra `-config` passed.
const STS: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: openbao\n  namespace: openbao\nspec:\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: openbao\n        app.kubernetes.io/instance: openbao\n        component: server\n    spec:\n      volumes:\n        - name: baogen-config\n          configMap:\n            name: openbao-baogen-config\n        - name: openbao-tls\n          secret:\n            secretName: openbao-tls\n      containers:\n        - name: openbao\n          args: [\"bao server -config=/openbao/baogen/baogen.hcl\"]\n          volumeMounts:\n            - name: baogen-config\n              mountPath: /openbao/baogen\n            - name: openbao-tls\n              mountPath: /openbao/tls\n          image: x\n";

/// The patch note says what was added and what was already there; a StatefulSet that already
/// has everything passes through byte for byte.
#[test]
fn the_patch_note_tells_what_was_added_and_what_was_there() {
    let ws = workspace("helm-notes");
    let env = |name: &str, field: &str| {
        format!("            - name: {name}\n              valueFrom:\n                fieldRef:\n                  fieldPath: {field}\n")
    };
    let ns = env("BAO_K8S_NAMESPACE", "metadata.namespace");
    let pod = env("BAO_K8S_POD_NAME", "metadata.name");
    let port = "          ports:\n            - containerPort: 8202\n              name: https-metrics\n              protocol: TCP\n";
    let sts = |env: &str, ports: &str| {
        let env = if env.is_empty() {
            String::new()
        } else {
            format!("          env:\n{env}")
        };
        format!("{STS}{ports}{env}")
    };
    let cases = [
        (sts("", ""), "added container port 8202 (https-metrics), env BAO_K8S_NAMESPACE, env BAO_K8S_POD_NAME", true),
        (sts(&ns, ""), "added container port 8202 (https-metrics), env BAO_K8S_POD_NAME; already there: env BAO_K8S_NAMESPACE", true),
        (sts(&format!("{ns}{pod}"), port), "already has container port 8202 (https-metrics), env BAO_K8S_NAMESPACE, env BAO_K8S_POD_NAME; left unchanged", false),
    ];
    for (input, note, changed) in cases {
        let out = post_render(ws.path(), "profiles/active.toml", &input);
        assert_ok(&out, "helm-post-render");
        let err = text(&out.stderr);
        assert!(err.contains(note), "{note:?} not in:\n{err}");
        let stdout = text(&out.stdout);
        assert_eq!(
            stdout.starts_with(&format!("---\n{input}")),
            !changed,
            "{stdout}"
        );
    }
}

#[test]
fn bad_input_is_an_error_with_nothing_on_stdout() {
    let ws = workspace("helm-bad");
    std::fs::write(
        ws.path().join("profiles/broken.toml"),
        "profile = \"active\"\n[openbao]\nnamespace = \"Bad_NS\"\n",
    )
    .unwrap();
    std::fs::write(
        ws.path().join("profiles/demo.toml"),
        std::fs::read_to_string(common::root().join("profiles/demo.toml")).unwrap(),
    )
    .unwrap();
    let dup = format!("{STS}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: openbao-active-metrics\n  namespace: openbao\n");
    let cases: &[(&str, &str, &str)] = &[
        (
            "profiles/active.toml",
            "apiVersion: v1\nkind: [\n",
            "does not parse",
        ),
        (
            "profiles/active.toml",
            "- just\n- a list\n",
            "not a Kubernetes object",
        ),
        ("profiles/active.toml", "", "no manifests on stdin"),
        ("profiles/missing.toml", STS, "cannot read the profile"),
        ("profiles/broken.toml", STS, "nothing was written"),
        ("profiles/demo.toml", STS, "has no Kubernetes objects"),
        (
            "profiles/active.toml",
            &dup,
            "already contains Service openbao/openbao-active-metrics",
        ),
    ];
    for (profile, input, want) in cases {
        let out = post_render(ws.path(), profile, input);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{profile} {input:?}: {}",
            text(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "stdout must stay empty: {}",
            text(&out.stdout)
        );
        let err = text(&out.stderr);
        assert!(err.contains(want), "{want:?} not in:\n{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A self-initialising profile refuses the chart's render until values.yaml gives the first
/// pod alone the stanzas and every pod what the first boot reads; each refusal names the key.
#[test]
fn a_self_initialising_profile_needs_the_first_pod_wiring_the_seal_and_the_admin_secret() {
    let (Some(helm), Some(chart)) = (common::tool("helm3"), official_chart()) else {
        return;
    };
    let ws = workspace("helm-self-init");
    let good = std::fs::read_to_string(ws.path().join("openbao-values-self-init.yaml")).unwrap();
    let render = |overlay: &str| {
        std::fs::write(ws.path().join("overlay.yaml"), overlay).unwrap();
        helm_template(
            &helm,
            &chart,
            ws.path(),
            &["openbao-values.yaml", "overlay.yaml"],
            "profiles/examples/self-init.toml",
        )
    };
    assert_ok(&render(&good), "the README's self-init values");
    let every_pod = good.replace(
        r#"$([ "${HOSTNAME##*-}" = 0 ] && echo -config=/openbao/baogen/self-init.hcl)"#,
        "-config=/openbao/baogen/self-init.hcl",
    );
    let no_secret = good.replace(
        "envName: BAO_INITIAL_ADMIN_PASSWORD",
        "envName: SOMETHING_ELSE",
    );
    let no_seal = good.replace("mountPath: /openbao/seal", "mountPath: /openbao/elsewhere");
    for (overlay, says) in [
        ("server: {}\n", "on its first pod only"),
        (every_pod.as_str(), "on its first pod only"),
        (no_secret.as_str(), "$BAO_INITIAL_ADMIN_PASSWORD"),
        (no_seal.as_str(), "seal.key_file /openbao/seal/unseal.key"),
    ] {
        let out = render(overlay);
        assert_failed(&out, "a self-init wiring mistake");
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
    }
}

#[test]
fn an_audit_file_must_be_on_the_charts_audit_volume() {
    let (Some(helm), Some(chart)) = (common::tool("helm3"), official_chart()) else {
        return;
    };
    let ws = workspace("helm-audit");
    let profile =
        std::fs::read_to_string(ws.path().join("profiles/examples/self-init.toml")).unwrap();
    std::fs::write(
        ws.path().join("profiles/examples/audited.toml"),
        format!("{profile}\n[audit]\nfile = \"/openbao/audit/audit.log\"\n"),
    )
    .unwrap();
    let render = |audit_storage: &str| {
        std::fs::write(ws.path().join("audit.yaml"), audit_storage).unwrap();
        helm_template(
            &helm,
            &chart,
            ws.path(),
            &[
                "openbao-values.yaml",
                "openbao-values-self-init.yaml",
                "audit.yaml",
            ],
            "profiles/examples/audited.toml",
        )
    };
    let out = render("server:\n  auditStorage:\n    enabled: true\n");
    assert_ok(&out, "the chart's audit volume at /openbao/audit");
    let stream = text(&out.stdout);
    assert!(
        stream.contains("audit \\\"file\\\" \\\"file\\\"")
            || stream.contains("audit \"file\" \"file\""),
        "the server configuration carries the audit device"
    );
    assert!(
        stream.contains("name: openbao-openbao-dashboard"),
        "the post-renderer adds the dashboard ConfigMap"
    );
    let out = render("server:\n  auditStorage:\n    enabled: false\n");
    assert_failed(&out, "an audit file on no volume");
    assert!(
        text(&out.stderr).contains("audit.file /openbao/audit/audit.log"),
        "{}",
        text(&out.stderr)
    );
}

/// `helm template` of the official chart with these values files, through baogen's
/// post-renderer for `profile`, in the workspace `dir`.
fn helm_template(
    helm: &Path,
    chart: &Path,
    dir: &Path,
    values: &[&str],
    profile: &str,
) -> std::process::Output {
    let mut cmd = Command::new(helm);
    cmd.args(["template", "openbao"])
        .arg(chart)
        .args(["--namespace", "openbao"]);
    for v in values {
        cmd.args(["--values", v]);
    }
    cmd.args([
        "--post-renderer",
        env!("CARGO_BIN_EXE_baogen"),
        "--post-renderer-args",
        "helm-post-render",
        "--post-renderer-args",
        profile,
    ]);
    cmd.current_dir(dir);
    helm_env(&mut cmd, dir);
    cmd.output().unwrap()
}
