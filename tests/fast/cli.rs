//! The command line as users and CI run it: exit codes, stdout/stderr, drift detection,
//! atomic and deterministic writes.

use crate::common;

use crate::common::{run_baogen, TempDir};

const SHIPPED: [&str; 3] = [
    "profiles/active.toml",
    "profiles/all-node.toml",
    "profiles/demo.toml",
];

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_passes_on_the_committed_golden_output() {
    let out = run_baogen(&["check", SHIPPED[0], SHIPPED[1], SHIPPED[2]]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

/// A copy of a shipped profile and its golden output, for drift experiments.
fn scratch(name: &str) -> (TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = TempDir::new("cli");
    let golden = tmp.path().join("golden");
    common::copy_tree(&common::root().join("golden").join(name), &golden);
    let profile = tmp.path().join(format!("{name}.toml"));
    let source =
        std::fs::read_to_string(common::root().join(format!("profiles/{name}.toml"))).unwrap();
    std::fs::write(
        &profile,
        source.replace(
            &format!("output = \"../golden/{name}\""),
            "output = \"golden\"",
        ),
    )
    .unwrap();
    (tmp, profile, golden)
}

#[test]
fn check_exits_1_with_a_diff_after_a_profile_edit() {
    let (_tmp, profile, _) = scratch("active");
    let edited = std::fs::read_to_string(&profile)
        .unwrap()
        .replace("interval = \"30s\"", "interval = \"15s\"");
    std::fs::write(&profile, edited).unwrap();
    let out = run_baogen(&["check", profile.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let diff = text(&out.stdout);
    assert!(
        diff.contains("-    interval: 30s") && diff.contains("+    interval: 15s"),
        "{diff}"
    );
    assert!(
        diff.contains("a/kubernetes/servicemonitor.yaml (on disk)"),
        "{diff}"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("baogen render {}", profile.display())),
        "{stderr}"
    );

    // `diff` shows the same and exits 0.
    let out = run_baogen(&["diff", profile.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), diff);
}

#[test]
fn check_catches_hand_edits_and_stray_files() {
    let (_tmp, profile, golden) = scratch("all-node");
    std::fs::write(golden.join("kubernetes/notes.yaml"), "hand: written\n").unwrap();
    let np = golden.join("kubernetes/networkpolicy.yaml");
    std::fs::write(
        &np,
        std::fs::read_to_string(&np)
            .unwrap()
            .replace("8202", "9999"),
    )
    .unwrap();
    std::fs::remove_file(golden.join("VERIFY.md")).unwrap();
    let out = run_baogen(&["check", profile.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains("+    - port: 8202") && report.contains("-    - port: 9999"),
        "{report}"
    );
    assert!(
        report.contains("extra (not rendered by the profile):") && report.contains("notes.yaml"),
        "{report}"
    );
    assert!(
        report.contains("missing:") && report.contains("VERIFY.md"),
        "{report}"
    );
}

#[test]
fn render_writes_exactly_the_golden_tree_and_is_repeatable() {
    for name in ["active", "all-node", "demo"] {
        let tmp = TempDir::new("render");
        let out_dir = tmp.path().join("out");
        let profile = format!("profiles/{name}.toml");
        let first = run_baogen(&["render", &profile, "--out", out_dir.to_str().unwrap()]);
        assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
        let tree = common::read_tree(&out_dir);
        assert_eq!(
            tree,
            common::read_tree(&common::root().join("golden").join(name)),
            "{name}: render differs from golden"
        );
        // Rendering again replaces the directory with identical bytes and leaves no temp dirs.
        let second = run_baogen(&["render", &profile, "--out", out_dir.to_str().unwrap()]);
        assert_eq!(second.status.code(), Some(0));
        assert_eq!(common::read_tree(&out_dir), tree);
        let siblings: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(siblings.len(), 1, "{siblings:?}");
    }
}

#[test]
fn render_refuses_to_replace_a_directory_it_did_not_write() {
    let tmp = TempDir::new("foreign");
    let dir = tmp.path().join("home");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("precious.txt"), "keep me").unwrap();
    let out = run_baogen(&["render", SHIPPED[0], "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("was not written by baogen"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("precious.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn render_into_a_read_only_place_is_a_clear_error() {
    // sysfs refuses new directories even to root, so this holds in CI (which runs as root).
    let out = run_baogen(&["render", SHIPPED[0], "--out", "/sys/baogen-test-out/out"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("/sys/baogen-test-out")
            && stderr.contains("cannot create the output's parent directory")
            && stderr.contains("nothing was written"),
        "{stderr}"
    );

    // A directory without write permission, for users other than root.
    let tmp = TempDir::new("ro");
    let parent = tmp.path().join("ro");
    std::fs::create_dir_all(&parent).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = run_baogen(&[
        "render",
        SHIPPED[0],
        "--out",
        parent.join("out").to_str().unwrap(),
    ]);
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o755)).unwrap();
    let is_root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    if !is_root {
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("cannot create a temporary directory next to the output"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn render_into_a_path_under_a_file_is_a_clear_error() {
    let tmp = TempDir::new("file-parent");
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let out = run_baogen(&[
        "render",
        SHIPPED[0],
        "--out",
        file.join("out").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot create the output's parent directory"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn stdout_mode_prints_every_kubernetes_object_as_one_stream() {
    let out = run_baogen(&["render", SHIPPED[0], "--stdout"]);
    assert_eq!(out.status.code(), Some(0));
    let stream = text(&out.stdout);
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&stream).unwrap();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "Service",
            "ServiceMonitor",
            "Role",
            "RoleBinding",
            // baogen's server configuration, for the pods to load.
            "ConfigMap",
            // The dashboard, for the Grafana sidecar.
            "ConfigMap",
            "PrometheusRule"
        ]
    );
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn render_without_out_uses_the_declared_output() {
    let (_tmp, profile, golden) = scratch("demo");
    std::fs::remove_dir_all(&golden).unwrap();
    let out = run_baogen(&["render", profile.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(golden.join("compose/compose.yaml").is_file());
}

#[test]
fn explain_states_what_the_profile_hides_and_why() {
    let out = run_baogen(&["explain", SHIPPED[0]]);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(
        s.contains("Standby and sealed nodes are not visible"),
        "{s}"
    );
    assert!(s.contains("insecureSkipVerify is never emitted"), "{s}");
    let s = text(&run_baogen(&["explain", SHIPPED[1]]).stdout);
    assert!(s.contains("NetworkPolicy lets only pods"), "{s}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run_baogen(&["render"]).status.code(), Some(2));
    assert_eq!(run_baogen(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(run_baogen(&["--help"]).status.code(), Some(0));
}

#[test]
fn several_profiles_render_into_subdirectories() {
    let tmp = TempDir::new("multi");
    let out = run_baogen(&[
        "render",
        SHIPPED[0],
        SHIPPED[2],
        "--out",
        tmp.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(tmp
        .path()
        .join("o/active/kubernetes/service.yaml")
        .is_file());
    assert!(tmp.path().join("o/demo/compose/compose.yaml").is_file());
}

#[test]
fn the_reference_profile_documents_every_key_and_validates() {
    let reference =
        std::fs::read_to_string(common::root().join("profiles/reference.toml")).unwrap();
    let out = run_baogen(&["render", "profiles/reference.toml", "--stdout"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Every property of the schema appears in the reference, so it really shows every option.
    let schema: serde_json::Value =
        serde_json::from_str(&baogen::profile::schema::schema_json()).unwrap();
    let mut missing = Vec::new();
    let mut keys = Vec::new();
    collect_keys(&schema, &schema, &mut keys);
    for k in keys {
        let written = format!("{k} =");
        let table = format!("[{k}]");
        let nested = format!(".{k}]");
        if !reference.contains(&written)
            && !reference.contains(&table)
            && !reference.contains(&nested)
            && !reference.contains(&format!("{k}."))
        {
            missing.push(k);
        }
    }
    assert!(
        missing.is_empty(),
        "profiles/reference.toml does not show: {missing:?}"
    );
}

fn collect_keys(root: &serde_json::Value, node: &serde_json::Value, out: &mut Vec<String>) {
    if let Some(props) = node.get("properties").and_then(|p| p.as_object()) {
        for (k, v) in props {
            if !out.contains(k) {
                out.push(k.clone());
                collect_keys(root, v, out);
            }
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for sub in node
            .get(key)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            collect_keys(root, sub, out);
        }
    }
    if let Some(items) = node.get("items") {
        collect_keys(root, items, out);
    }
    if let Some(r) = node.get("$ref").and_then(|r| r.as_str()) {
        let name = r.trim_start_matches("#/definitions/");
        if let Some(def) = root["definitions"].get(name) {
            collect_keys(root, def, out);
        }
    }
}

#[test]
fn the_readme_first_commands_stay_true() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let block: Vec<&str> = readme
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap()
        .lines()
        .collect();
    let render: Vec<&str> = block[0]
        .split('#')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(&render[..3], ["cargo", "run", "--"], "{}", block[0]);
    // Run what `cargo run --` would run, with the output redirected into a temp dir.
    let args = &render[3..];
    let out_at = args.iter().position(|a| *a == "--out").unwrap();
    let tmp = TempDir::new("readme");
    let mut real: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    real[out_at + 1] = tmp.path().join("out").display().to_string();
    let out = common::baogen()
        .current_dir(common::root())
        .args(&real)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(tmp
        .path()
        .join("out/kubernetes/servicemonitor.yaml")
        .is_file());
    // The test command is the script CI runs.
    assert!(block[1].starts_with("scripts/test"), "{}", block[1]);
    let ci = std::fs::read_to_string(common::root().join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == "scripts/test"),
        ".ci/run must run the README's test command"
    );
}

#[test]
fn rendering_unchanged_output_touches_nothing() {
    let tmp = TempDir::new("unchanged");
    let out_dir = tmp.path().join("out");
    let render = || run_baogen(&["render", SHIPPED[0], "--out", out_dir.to_str().unwrap()]);
    assert!(render().status.success());
    let file = out_dir.join("kubernetes/service.yaml");
    let before = std::fs::metadata(&file).unwrap().modified().unwrap();
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&out_dir).unwrap());
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(render().status.success());
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        before
    );
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&out_dir).unwrap()),
        inode,
        "the directory was swapped"
    );
}

/// The LICENSE file is the license Cargo.toml declares.
#[test]
fn the_license_file_matches_cargo_toml() {
    let manifest = std::fs::read_to_string(common::root().join("Cargo.toml")).unwrap();
    let license = std::fs::read_to_string(common::root().join("LICENSE")).unwrap();
    assert!(manifest.lines().any(|l| l == "license = \"Apache-2.0\""));
    let head: Vec<&str> = license.lines().take(2).map(str::trim).collect();
    assert_eq!(head, ["Apache License", "Version 2.0, January 2004"]);
    assert!(license.contains("END OF TERMS AND CONDITIONS"));
}

/// `--quiet` drops progress lines, never errors; `--color` decides colour in diagnostics
/// (auto: only on a terminal without NO_COLOR; stderr is a pipe here).
#[test]
fn quiet_and_color_flags() {
    let tmp = TempDir::new("flags");
    let out = tmp.path().join("out");
    let out = out.to_str().unwrap();
    let loud = run_baogen(&["render", SHIPPED[0], "--out", out]);
    assert!(
        text(&loud.stderr).contains("rendered"),
        "{}",
        text(&loud.stderr)
    );
    let quiet = run_baogen(&["--quiet", "render", SHIPPED[2], "--out", out]);
    assert!(quiet.status.success());
    assert!(quiet.stderr.is_empty(), "{}", text(&quiet.stderr));
    let quiet = run_baogen(&["check", "-q", SHIPPED[0]]);
    assert!(quiet.status.success() && quiet.stderr.is_empty());

    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "profile = \"active\"\nbogus = 1\n").unwrap();
    let bad = bad.to_str().unwrap();
    let esc = |o: &std::process::Output| o.stderr.contains(&0x1b);
    for (args, colour) in [
        (&["--color", "always", "render", bad][..], true),
        (&["render", bad, "--color", "never"], false),
        (&["render", bad], false),
        (&["--quiet", "--color", "always", "render", bad], true),
    ] {
        let o = run_baogen(args);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            text(&o.stderr).contains("unknown field"),
            "{args:?}: errors print even with --quiet"
        );
        assert_eq!(esc(&o), colour, "{args:?}: {}", text(&o.stderr));
    }
    let o = common::baogen()
        .args(["--color", "auto", "render", bad])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!esc(&o));
}

/// SARIF 2.1.0 as published by OASIS (tests/schemas/README.md says where it comes from).
fn sarif_validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("tests/schemas/sarif-schema-2.1.0.json"))
            .unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid_sarif(validator: &jsonschema::Validator, text: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF: {errors:#?}\n{text}");
    doc
}

const BAD: &[&str] = &[
    "tests/bad/demo-duplicate-node.toml",
    "tests/bad/engine-modes.toml",
    "tests/bad/port-clash-metrics-and-cluster.toml",
    "tests/bad/non-utf8.toml",
    "tests/bad/unreadable-is-a-directory.toml",
];

#[test]
fn problems_as_json_lines_sarif_and_workflow_commands() {
    let render = |format: &str| {
        let mut args = vec![
            "render",
            "--out",
            "/nonexistent-baogen-out",
            "--message-format",
            format,
        ];
        args.extend(BAD);
        let out = run_baogen(&args);
        assert_eq!(out.status.code(), Some(2), "{format}");
        (text(&out.stdout), text(&out.stderr))
    };
    // The human format names the same codes, on stderr.
    let (stdout, human) = render("human");
    assert!(stdout.is_empty());
    let human_codes: Vec<&str> = human
        .split("error[")
        .skip(1)
        .filter_map(|r| r.split_once(']').map(|(c, _)| c))
        .collect();

    let (json, stderr) = render("json");
    assert!(stderr.is_empty(), "{stderr}");
    let objects: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let json_codes: Vec<&str> = objects
        .iter()
        .map(|o| o["code"].as_str().unwrap())
        .collect();
    assert_eq!(json_codes, human_codes);
    for o in &objects {
        for key in ["code", "severity", "file", "message", "help"] {
            assert!(o.get(key).is_some(), "{key} missing in {o}");
        }
    }
    let clash = objects.iter().find(|o| o["code"] == "BG0302").unwrap();
    assert_eq!(
        (clash["line"].as_u64(), clash["column"].as_u64()),
        (Some(13), Some(11))
    );
    assert_eq!(clash["end"]["column"].as_u64(), Some(25));
    assert_eq!(clash["labels"][0]["line"].as_u64(), Some(8), "{clash}");
    let whole_file = objects.iter().find(|o| o["code"] == "BG0101").unwrap();
    assert!(whole_file.get("line").is_none(), "{whole_file}");

    let (sarif, _) = render("sarif");
    let doc = assert_valid_sarif(&sarif_validator(), &sarif);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let sarif_codes: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(sarif_codes, human_codes);
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
    }
    let clash = results.iter().find(|r| r["ruleId"] == "BG0302").unwrap();
    assert_eq!(
        clash["relatedLocations"][0]["physicalLocation"]["region"]["startLine"].as_u64(),
        Some(8)
    );

    let (github, _) = render("github");
    let lines: Vec<&str> = github.lines().collect();
    assert_eq!(lines.len(), human_codes.len(), "{github}");
    assert!(
        lines.contains(&"::error file=tests/bad/port-clash-metrics-and-cluster.toml,line=13,col=11,endLine=13,endColumn=25,title=BG0302::port 8201 of listener.metrics.address clashes with listener.api.cluster_address%0Atests/bad/port-clash-metrics-and-cluster.toml:8:19: listener.api.cluster_address binds port 8201%0Ahelp: give every listener its own port, leaving a gap: a listener without cluster_address also binds its port + 1"),
        "{github}"
    );
}

#[test]
fn drift_in_every_message_format_names_file_hunk_and_profile() {
    let (_tmp, profile, golden) = scratch("active");
    let edited = std::fs::read_to_string(&profile)
        .unwrap()
        .replace("interval = \"30s\"", "interval = \"15s\"");
    std::fs::write(&profile, edited).unwrap();
    std::fs::write(golden.join("stray.txt"), "x\n").unwrap();
    let p = profile.to_str().unwrap();

    let out = run_baogen(&["check", p, "--message-format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let objects: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let changed = objects
        .iter()
        .find(|o| {
            o["code"] == "BG0001" && o["file"].as_str().unwrap().ends_with("servicemonitor.yaml")
        })
        .unwrap_or_else(|| panic!("{objects:?}"));
    assert_eq!(changed["profile"].as_str(), Some(p));
    assert_eq!(changed["severity"], "error");
    assert!(changed["diff"]
        .as_str()
        .unwrap()
        .contains("+    interval: 15s"));
    assert!(changed["line"].as_u64().unwrap() > 1);
    assert!(objects
        .iter()
        .any(|o| o["code"] == "BG0003" && o["file"].as_str().unwrap().ends_with("stray.txt")));

    let out = run_baogen(&["diff", p, "--message-format", "sarif"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = assert_valid_sarif(&sarif_validator(), &text(&out.stdout));
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["level"] == "warning"), "{doc}");
    assert!(results.iter().any(|r| r["ruleId"] == "BG0001"));

    let out = run_baogen(&["check", p, "--message-format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    let github = text(&out.stdout);
    assert!(
        github.lines().any(|l| l.starts_with("::error file=")
            && l.contains("servicemonitor.yaml,line=")
            && l.contains("title=BG0001::")),
        "{github}"
    );
}

#[test]
fn several_profiles_drift_names_each_profile_and_the_fix_writes_where_check_read() {
    let (tmp, profile, golden) = scratch("active");
    let other = tmp.path().join("sub/../other.toml");
    std::fs::create_dir_all(tmp.path().join("sub")).unwrap();
    std::fs::write(
        tmp.path().join("other.toml"),
        std::fs::read_to_string(&profile)
            .unwrap()
            .replace("output = \"golden\"", "output = \"golden-other\""),
    )
    .unwrap();
    common::copy_tree(&golden, &tmp.path().join("golden-other"));
    std::fs::write(golden.join("stray.txt"), "x\n").unwrap();
    std::fs::write(tmp.path().join("golden-other/stray.txt"), "x\n").unwrap();
    let out = run_baogen(&["check", profile.to_str().unwrap(), other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let normal_other = tmp.path().join("other.toml");
    assert!(
        stdout.contains(&format!("# {} -> ", profile.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "# {} -> {}",
            normal_other.display(),
            tmp.path().join("golden-other").display()
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("sub/.."), "{stdout}");

    // With --against the fix renders into the directory that was compared.
    let against = tmp.path().join("sub/../golden");
    let out = run_baogen(&[
        "check",
        profile.to_str().unwrap(),
        "--against",
        against.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "baogen render {} --out {}",
            profile.display(),
            golden.display()
        )),
        "{stderr}"
    );
}

#[test]
fn integrations_report_problems_as_data_on_stderr_and_keep_stdout_empty() {
    let out = common::baogen()
        .current_dir(common::root())
        .args([
            "--message-format",
            "json",
            "helm-post-render",
            "tests/bad/engine-modes.toml",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"---\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let first: serde_json::Value =
        serde_json::from_str(text(&out.stderr).lines().next().unwrap()).unwrap();
    assert_eq!(first["code"], "BG0820");
    assert_eq!(first["line"].as_u64(), Some(21));
}

/// The README's code-scanning command, run as written: a valid SARIF log with no results for
/// the shipped profiles, whose output is committed.
#[test]
fn the_readme_sarif_command_writes_a_valid_log() {
    let command = "baogen check --message-format sarif profiles/active.toml profiles/all-node.toml profiles/demo.toml > baogen.sarif";
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    assert!(readme.contains(&format!("```sh\n{command}\n```")));
    let tmp = TempDir::new("sarif");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_baogen"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(command.replace(
            "> baogen.sarif",
            &format!("> {}/baogen.sarif", tmp.path().display()),
        ))
        .current_dir(common::root())
        .env("PATH", path)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(tmp.path().join("baogen.sarif")).unwrap();
    let doc = assert_valid_sarif(&sarif_validator(), &text);
    assert_eq!(
        doc["runs"][0]["results"].as_array().map(Vec::len),
        Some(0),
        "{text}"
    );
}

fn with_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = common::baogen()
        .current_dir(common::root())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_profile_on_stdin_is_named_stdin_and_renders_like_the_file() {
    let profile = std::fs::read(common::root().join("profiles/all-node.toml")).unwrap();
    let piped = with_stdin(&["render", "-", "--stdout"], &profile);
    assert_eq!(
        piped.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let file = run_baogen(&["render", "profiles/all-node.toml", "--stdout"]);
    // Only the header naming the source differs.
    assert_eq!(
        text(&piped.stdout).replace("<stdin>", "profiles/all-node.toml"),
        text(&file.stdout)
            .replace("all-node.toml", "profiles/all-node.toml")
            .replace("profiles/profiles/", "profiles/")
    );
    let bad = String::from_utf8(profile)
        .unwrap()
        .replace("interval = \"30s\"", "interval = \"0s\"");
    let out = with_stdin(&["check", "-"], bad.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error[BG0502]") && stderr.contains("--> <stdin>:"),
        "{stderr}"
    );
    let out = with_stdin(&["check", "-", "-"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_bash_completion_script_loads_and_completes_a_subcommand() {
    let Some(bash) = common::tool("bash") else {
        return;
    };
    let script = run_baogen(&["completions", "bash"]);
    assert_eq!(script.status.code(), Some(0));
    let tmp = TempDir::new("completion");
    let file = tmp.path().join("baogen.bash");
    std::fs::write(&file, &script.stdout).unwrap();
    // What bash's programmable completion does on `baogen ren<TAB>`.
    let probe = format!(
        "source {}\nCOMP_WORDS=(baogen ren)\nCOMP_CWORD=1\nCOMP_LINE='baogen ren'\nCOMP_POINT=10\n_baogen baogen ren baogen\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = std::process::Command::new(bash)
        .arg("-c")
        .arg(probe)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "render");
    for shell in ["zsh", "fish", "powershell"] {
        let out = run_baogen(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("render"), "{shell}");
    }
}

#[test]
fn the_man_page_names_every_command() {
    let out = run_baogen(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = text(&out.stdout);
    assert!(page.contains(".TH baogen 1"), "{page}");
    for command in [
        "render",
        "check",
        "diff",
        "explain",
        "verify",
        "helm\\-post\\-render",
        "krm",
        "completions",
    ] {
        assert!(
            page.contains(command),
            "{command} missing from the man page"
        );
    }
}

/// `explain` on an engine profile says where each role reaches and lists the RBAC OpenBao
/// receives: every rule of every engine Role and ClusterRole that `render` emits, no other.
#[test]
fn explain_lists_the_engine_roles_and_exactly_the_rbac_openbao_receives() {
    for example in [
        "profiles/examples/engine-reference.toml",
        "profiles/examples/engine-confined.toml",
    ] {
        let explained = text(&run_baogen(&["explain", example]).stdout);
        let stream = text(&run_baogen(&["render", example, "--stdout"]).stdout);
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&stream).unwrap();
        let mut expected = Vec::new();
        for d in &docs {
            let scope = match d["kind"].as_str() {
                Some("ClusterRole")
                    if d["metadata"]["name"] == "openbao-kubernetes-secrets-openbao" =>
                {
                    "cluster-wide (ClusterRole)".to_string()
                }
                Some("Role") if d["metadata"]["name"] == "openbao-kubernetes-secrets-openbao" => {
                    format!(
                        "in namespace {} (Role)",
                        d["metadata"]["namespace"].as_str().unwrap()
                    )
                }
                _ => continue,
            };
            for rule in d["rules"].as_array().unwrap() {
                let list = |key: &str| {
                    rule[key].as_array().map(|a| {
                        a.iter()
                            .map(|v| v.as_str().unwrap())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                };
                let names = list("resourceNames").map_or(String::new(), |n| format!(" named {n}"));
                expected.push(format!(
                    "- {scope}: {} on {}{names}",
                    list("verbs").unwrap(),
                    list("resources").unwrap_or_default()
                ));
            }
        }
        let listed: Vec<&str> = explained
            .lines()
            .skip_while(|l| !l.starts_with("OpenBao's service account"))
            .skip(1)
            .collect();
        assert!(!expected.is_empty(), "{example}: no engine RBAC rendered");
        assert_eq!(listed, expected, "{example}\n{explained}");
    }
    let reference =
        text(&run_baogen(&["explain", "profiles/examples/engine-reference.toml"]).stdout);
    assert!(reference.contains("role sample-1: tokens for the existing service account default; OpenBao creates no Kubernetes objects, in EVERY namespace"), "{reference}");
    assert!(
        reference
            .contains("in every namespace labelled sa-generator=openbao, stage=prod, now or later"),
        "{reference}"
    );
    let confined = text(&run_baogen(&["explain", "profiles/examples/engine-confined.toml"]).stdout);
    assert!(confined.contains("role app-viewer: a new service account bound to the existing ClusterRole view, in namespaces app-a, app-b."), "{confined}");
    assert!(
        confined.contains("bound per namespace (a RoleBinding)"),
        "{confined}"
    );
}

/// `explain` says what self-initialization does, which node does it and what a failure means.
#[test]
fn explain_describes_the_first_boot() {
    let out = run_baogen(&["explain", "profiles/examples/self-init.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    for part in [
        "Only pod openbao-0 runs it",
        "userpass user admin with policy baogen-admin",
        "BAO_INITIAL_ADMIN_PASSWORD",
        "token role openbao-metrics",
        "2 role(s)",
        "refuses to unseal until its storage is wiped",
        "CronJob openbao/openbao-scrape-token-renewal",
        "Auto-unseal with the static seal",
    ] {
        assert!(said.contains(part), "explain must say {part:?}:\n{said}");
    }
    let demo = text(&run_baogen(&["explain", "profiles/demo.toml"]).stdout);
    assert!(demo.contains("Only openbao-node0 runs it"), "{demo}");
    assert!(demo.contains("/openbao/init/admin-password"), "{demo}");
    let active = text(&run_baogen(&["explain", "profiles/active.toml"]).stdout);
    assert!(
        active.contains("Nothing renews the scrape token"),
        "{active}"
    );
    assert!(!active.contains("Self-initialization"), "{active}");
}
