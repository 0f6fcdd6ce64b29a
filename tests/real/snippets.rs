//! `render --stdout` and `check` from Makefiles and CI, and the README: every integration
//! snippet the tests run appears in it verbatim.

use crate::common;

use std::process::Command;

use crate::workspace::*;

#[test]
fn makefile_snippet_renders_and_checks() {
    let Some(make) = common::tool("make") else {
        return;
    };
    let ws = workspace("make");
    std::fs::copy(
        common::root().join("integrations/examples/Makefile"),
        ws.path().join("Makefile"),
    )
    .unwrap();
    let run = |target: &str| {
        Command::new(&make)
            .args(["-s", target])
            .current_dir(ws.path())
            .env("PATH", path_with(&[]))
            .output()
            .unwrap()
    };
    let out = run("manifests.yaml");
    assert_ok(&out, "make manifests.yaml");
    let manifests = std::fs::read_to_string(ws.path().join("manifests.yaml")).unwrap();
    // Service, ServiceMonitor, the registration Role and RoleBinding, the server config's
    // ConfigMap, the dashboard's ConfigMap, the PrometheusRule.
    assert_eq!(objects(&manifests).len(), 7);

    // check: exit 1 on drift (nothing rendered yet), 0 once rendered.
    let out = run("check");
    assert_failed(&out, "make check before render");
    assert!(text(&out.stderr).contains("baogen render profiles/active.toml"));
    let out = common::baogen()
        .args(["render", "profiles/active.toml"])
        .current_dir(ws.path())
        .output()
        .unwrap();
    assert_ok(&out, "baogen render");
    assert_ok(&run("check"), "make check after render");

    // A broken profile: make fails and leaves no half-written manifests.yaml behind.
    std::fs::remove_file(ws.path().join("manifests.yaml")).unwrap();
    std::fs::write(
        ws.path().join("profiles/active.toml"),
        "profile = \"active\"\nbogus = 1\n",
    )
    .unwrap();
    let out = run("manifests.yaml");
    assert_failed(&out, "make with a broken profile");
    assert!(!ws.path().join("manifests.yaml").exists());
}

#[test]
fn exit_codes_data_on_stdout_diagnostics_on_stderr() {
    let ws = workspace("exit-codes");
    let code = |args: &[&str]| {
        let out = common::baogen()
            .args(args)
            .current_dir(ws.path())
            .output()
            .unwrap();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let (c, stdout, _) = code(&["render", "--stdout", "profiles/active.toml"]);
    assert_eq!(c, Some(0));
    assert!(stdout.starts_with("---\n"));
    let (c, stdout, stderr) = code(&["check", "profiles/active.toml"]);
    assert_eq!(c, Some(1), "{stderr}");
    assert!(stdout.contains("missing:") && stderr.contains("drift"));
    let (c, stdout, stderr) = code(&["render", "--stdout", "profiles/missing.toml"]);
    assert_eq!(c, Some(2));
    assert!(stdout.is_empty() && stderr.contains("cannot read the profile"));
    let (c, _, _) = code(&["no-such-command"]);
    assert_eq!(c, Some(2));
}

/// The README snippets the tests run, as (file under integrations/examples, fence language).
const SNIPPETS: [(&str, &str); 15] = [
    ("pre-commit-config.yaml", "yaml"),
    ("pre-commit-config-remote.yaml", "yaml"),
    ("openbao-values.yaml", "yaml"),
    ("helm3.sh", "sh"),
    ("helm4.sh", "sh"),
    ("openbao-values-self-init.yaml", "yaml"),
    ("helm3-self-init.sh", "sh"),
    ("kpt/openbao-pkg/Kptfile", "yaml"),
    ("kpt/openbao-pkg/baogen.yaml", "yaml"),
    ("kpt/render.sh", "sh"),
    ("kpt/eval.sh", "sh"),
    ("kustomize/openbao-overlay/kustomization.yaml", "yaml"),
    ("kustomize/openbao-overlay/baogen.yaml", "yaml"),
    ("kustomize/build.sh", "sh"),
    ("Makefile", "make"),
];

/// The README shows each snippet the integration tests run, verbatim, in a fenced block.
#[test]
fn readme_shows_the_tested_snippets() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    for (file, lang) in SNIPPETS {
        let block = format!("```{lang}\n{}```\n", snippet(file));
        assert!(
            readme.contains(&block),
            "README.md must show integrations/examples/{file} verbatim:\n{block}"
        );
    }
}

/// Every shell block in the README is run by a test or says why not: the first block (the
/// README's own commands, tests/fast/cli.rs), a snippet file the integration tests run, or a block
/// marked `<!-- run by FILE -->` (FILE exists and runs it) or `<!-- needs a live ... -->`.
#[test]
fn every_readme_shell_block_is_run_by_a_test_or_marked() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let snippets: Vec<String> = SNIPPETS
        .iter()
        .filter(|(_, lang)| *lang == "sh")
        .map(|(f, _)| snippet(f))
        .collect();
    let lines: Vec<&str> = readme.lines().collect();
    let mut blocks = 0;
    let mut i = 0;
    while i < lines.len() {
        if lines[i] != "```sh" {
            i += 1;
            continue;
        }
        let end = i + 1 + lines[i + 1..].iter().position(|l| *l == "```").unwrap();
        let body: String = lines[i + 1..end].iter().map(|l| format!("{l}\n")).collect();
        let marker = if i > 0 { lines[i - 1] } else { "" };
        // The first block is the_readme_first_commands_stay_true's; snippets run as files.
        let ok = if blocks == 0 || snippets.contains(&body) {
            true
        } else if let Some(file) = marker
            .strip_prefix("<!-- run by ")
            .and_then(|m| m.strip_suffix(" -->"))
        {
            let runner = std::fs::read_to_string(common::root().join(file))
                .unwrap_or_else(|e| panic!("README line {}: {file}: {e}", i));
            // The runner names what it runs: every command word of the block.
            body.lines().all(|l| {
                let cmd = l.split('#').next().unwrap().trim();
                let first = cmd
                    .split_whitespace()
                    .find(|w| !w.contains('='))
                    .unwrap_or("");
                runner.contains(first) || runner.contains("README")
            })
        } else {
            marker.starts_with("<!-- needs a live ")
        };
        assert!(
            ok,
            "README line {}: a shell block no test runs and no marker explains:\n{body}",
            i + 1
        );
        blocks += 1;
        i = end + 1;
    }
    assert!(blocks >= 8, "found only {blocks} shell blocks");
}
