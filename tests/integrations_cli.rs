//! `render --stdout` and `check` from Makefiles and CI, and the README: every integration
//! snippet the tests run appears in it verbatim.

mod common;
mod integrations_support;

use std::process::Command;

use integrations_support::*;

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
    assert_eq!(objects(&manifests).len(), 5);

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

/// The README shows each snippet the integration tests run, verbatim, in a fenced block.
#[test]
fn readme_shows_the_tested_snippets() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    for (file, lang) in [
        ("pre-commit-config.yaml", "yaml"),
        ("pre-commit-config-remote.yaml", "yaml"),
        ("openbao-values.yaml", "yaml"),
        ("helm3.sh", "sh"),
        ("helm4.sh", "sh"),
        ("kpt/openbao-pkg/Kptfile", "yaml"),
        ("kpt/openbao-pkg/baogen.yaml", "yaml"),
        ("kpt/render.sh", "sh"),
        ("kpt/eval.sh", "sh"),
        ("kustomize/openbao-overlay/kustomization.yaml", "yaml"),
        ("kustomize/openbao-overlay/baogen.yaml", "yaml"),
        ("kustomize/build.sh", "sh"),
        ("Makefile", "make"),
    ] {
        let block = format!("```{lang}\n{}```\n", snippet(file));
        assert!(
            readme.contains(&block),
            "README.md must show integrations/examples/{file} verbatim:\n{block}"
        );
    }
}
