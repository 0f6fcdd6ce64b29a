//! The pre-commit hooks with the real `pre-commit` in a throwaway git repository: clean tree
//! passes, a profile edited without re-rendering fails with the diff and the fix, a generated
//! file edited by hand fails too, also a staged policy `.hcl` or role `.json` alone. The README's
//! `repo: local` hook, and the remote form with both hooks: `baogen-check` (language rust:
//! pre-commit runs `cargo install` on a clone of this repository) and `baogen-check-system`.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use crate::workspace::*;

fn git(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert_ok(&out, &format!("git {args:?}"));
    out
}

/// This working tree (tracked and untracked files, not ignored ones) committed into a fresh
/// repository, so the hook under test is the one in the working tree, not the last commit.
fn hook_repo(dir: &Path) -> String {
    copy_checkout(dir);
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "baogen"]);
    String::from_utf8(git(dir, &["rev-parse", "HEAD"]).stdout)
        .unwrap()
        .trim()
        .to_string()
}

/// A user's repository: the shipped active profile and an engine profile (with its CA file),
/// rendered and committed, and `config` as its .pre-commit-config.yaml.
fn user_repo(dir: &Path, config: &str) {
    std::fs::create_dir_all(dir.join("profiles")).unwrap();
    let root = common::root();
    let profile = std::fs::read_to_string(root.join("profiles/active.toml")).unwrap();
    std::fs::write(dir.join("profiles/active.toml"), profile).unwrap();
    let engine = std::fs::read_to_string(root.join("profiles/examples/engine-reference.toml"))
        .unwrap()
        .replace(
            "output = \"../../golden/examples/engine-reference\"",
            "output = \"../golden/engine\"",
        );
    std::fs::write(dir.join("profiles/engine.toml"), engine).unwrap();
    std::fs::copy(
        root.join("profiles/examples/kubernetes-ca.crt"),
        dir.join("profiles/kubernetes-ca.crt"),
    )
    .unwrap();
    // Two environments layered on a shared base, as profiles/environments/ ships them.
    let environments = root.join("profiles/environments");
    let base = std::fs::read_to_string(environments.join("base.toml"))
        .unwrap()
        .replace("../examples/kubernetes-ca.crt", "kubernetes-ca.crt");
    std::fs::write(dir.join("profiles/shared.toml"), base).unwrap();
    let staging = std::fs::read_to_string(environments.join("staging.toml"))
        .unwrap()
        .replace("extends = \"base.toml\"", "extends = \"shared.toml\"")
        .replace("../../golden/environments/staging", "../golden/staging");
    std::fs::write(dir.join("profiles/staging.toml"), staging).unwrap();
    let out = common::baogen()
        .args(["render", "profiles/"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_ok(&out, "baogen render");
    std::fs::write(dir.join(".pre-commit-config.yaml"), config).unwrap();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "rendered"]);
}

/// The README's remote-repository form with its URL and rev pointed at `hook_repo`.
fn remote_config(hook_repo: &Path, rev: &str, hook: &str) -> String {
    snippet("pre-commit-config-remote.yaml")
        .replace(
            "https://github.com/baogen/baogen",
            &hook_repo.display().to_string(),
        )
        .replace("rev: v0.1.0", &format!("rev: {rev}"))
        .replace("id: baogen-check ", &format!("id: {hook} "))
}

fn pre_commit(pre_commit: &Path, dir: &Path, home: &Path, path: &std::ffi::OsStr) -> Output {
    pre_commit_run(pre_commit, dir, home, path, &["--all-files"])
}

fn pre_commit_run(
    pre_commit: &Path,
    dir: &Path,
    home: &Path,
    path: &std::ffi::OsStr,
    extra: &[&str],
) -> Output {
    Command::new(pre_commit)
        .args(["run", "--color", "never"])
        .args(extra)
        .current_dir(dir)
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", home)
        // Offline, the rust language path needs the crates already fetched.
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .expect("pre-commit runs")
}

/// Clean passes; a profile edit and a hand edit of a generated file both fail with the diff
/// and the one command that fixes it.
fn scenario(pc: &Path, repo: &Path, home: &Path, path: &std::ffi::OsStr) {
    let out = pre_commit(pc, repo, home, path);
    assert_ok(&out, "pre-commit on a clean tree");

    let profile = repo.join("profiles/active.toml");
    let original = std::fs::read_to_string(&profile).unwrap();
    std::fs::write(
        &profile,
        original.replace("interval = \"30s\"", "interval = \"20s\""),
    )
    .unwrap();
    let out = pre_commit(pc, repo, home, path);
    assert_failed(&out, "pre-commit after a profile edit");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("-    interval: 30s") && stdout.contains("+    interval: 20s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("baogen render profiles/active.toml"),
        "{stdout}"
    );
    std::fs::write(&profile, &original).unwrap();

    // An edit of the shared base shows as drift of the profile built on it, named.
    let shared = repo.join("profiles/shared.toml");
    let original = std::fs::read_to_string(&shared).unwrap();
    std::fs::write(
        &shared,
        original.replace("scrape_timeout = \"10s\"", "scrape_timeout = \"5s\""),
    )
    .unwrap();
    let out = pre_commit(pc, repo, home, path);
    assert_failed(&out, "pre-commit after an edit of a base");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("# profiles/staging.toml -> golden/staging")
            && stdout.contains("+    scrapeTimeout: 5s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("baogen render profiles/staging.toml")
            && !stdout.contains("render profiles/active.toml"),
        "{stdout}"
    );
    std::fs::write(&shared, &original).unwrap();

    let generated = repo.join("golden/active/kubernetes/service.yaml");
    let text_before = std::fs::read_to_string(&generated).unwrap();
    std::fs::write(&generated, text_before.replace("port: 8202", "port: 9999")).unwrap();
    let out = pre_commit(pc, repo, home, path);
    assert_failed(&out, "pre-commit after a hand edit of a generated file");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("+    port: 8202"), "{stdout}");
    assert!(
        stdout.contains("baogen render profiles/active.toml"),
        "{stdout}"
    );
    std::fs::write(&generated, text_before).unwrap();

    // A hand edit of a generated file that is neither YAML nor HCL, staged alone, as a
    // commit would carry it: the hook runs and fails.
    for (file, edit) in [
        (
            "golden/engine/openbao/policies/kubernetes-creds-sample-1.hcl",
            "path \"*\" { capabilities = [\"sudo\"] }\n",
        ),
        (
            "golden/engine/openbao/kubernetes-secrets/roles/sample-1.json",
            " ",
        ),
    ] {
        let generated = repo.join(file);
        let before = std::fs::read_to_string(&generated).unwrap();
        std::fs::write(&generated, format!("{before}{edit}")).unwrap();
        git(repo, &["add", file]);
        let out = pre_commit_run(pc, repo, home, path, &[]);
        assert_failed(
            &out,
            &format!("pre-commit with a staged hand edit of {file}"),
        );
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains(file.trim_start_matches("golden/engine/")),
            "{stdout}"
        );
        assert!(
            stdout.contains("baogen render profiles/engine.toml"),
            "{stdout}"
        );
        std::fs::write(&generated, before).unwrap();
        git(repo, &["add", file]);
    }
    assert_ok(
        &pre_commit_run(pc, repo, home, path, &[]),
        "pre-commit after restoring",
    );
}

#[test]
fn pre_commit_hooks_catch_drift() {
    let Some(pc) = common::tool("pre-commit") else {
        return;
    };
    let Some(cargo) = common::which("cargo") else {
        panic!("cargo is not on PATH")
    };
    let tmp = common::TempDir::new("pre-commit");
    let (hooks, home) = (tmp.path().join("hooks"), tmp.path().join("home"));
    std::fs::create_dir_all(&hooks).unwrap();
    let rev = hook_repo(&hooks);

    // The README's local hook (before a release), with this build's baogen on PATH.
    let repo = tmp.path().join("local");
    user_repo(&repo, &snippet("pre-commit-config.yaml"));
    scenario(&pc, &repo, &home, &path_with(&[]));

    // The remote form, language: system.
    let repo = tmp.path().join("system");
    user_repo(&repo, &remote_config(&hooks, &rev, "baogen-check-system"));
    scenario(&pc, &repo, &home, &path_with(&[]));

    // language: rust. pre-commit runs `cargo install --bins --root ENV --path .`; a release
    // build of this crate takes about 6 minutes on the 2 shared cores here, so a `cargo` shim
    // adds `--debug` and CARGO_TARGET_DIR reuses the debug build `cargo test` just made:
    // only the crate itself compiles again. Nothing else of pre-commit's path changes.
    let shim = tmp.path().join("shim");
    std::fs::create_dir_all(&shim).unwrap();
    std::fs::write(
        shim.join("cargo"),
        format!(
            "#!/bin/sh\nif [ \"$1\" = install ]; then shift; exec '{}' install --debug \"$@\"; fi\nexec '{}' \"$@\"\n",
            cargo.display(),
            cargo.display()
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(shim.join("cargo")).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(shim.join("cargo"), perms).unwrap();
    let repo = tmp.path().join("rust");
    user_repo(&repo, &remote_config(&hooks, &rev, "baogen-check"));
    // No baogen of ours on PATH: the hook must use the one pre-commit built.
    let path = std::env::join_paths(
        std::iter::once(shim.clone()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .filter(|d| *d != baogen_dir()),
        ),
    )
    .unwrap();
    let target = common::root().join("target");
    let out = Command::new(&pc)
        .args(["install-hooks"])
        .current_dir(&repo)
        .env("PATH", &path)
        .env("PRE_COMMIT_HOME", &home)
        .env("CARGO_NET_OFFLINE", "true")
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert_ok(
        &out,
        "pre-commit install-hooks (cargo install of the hook repository)",
    );
    scenario(&pc, &repo, &home, &path);
}
