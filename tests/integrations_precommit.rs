//! The pre-commit hooks with the real `pre-commit` in a throwaway git repository: clean tree
//! passes, a profile edited without re-rendering fails with the diff and the fix, a generated
//! file edited by hand fails too. Both hooks: `baogen-check` (language rust: pre-commit runs
//! `cargo install` on a clone of this repository) and `baogen-check-system`.

mod common;
mod integrations_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use integrations_support::*;

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
    let root = common::root();
    let files = Command::new("git")
        .args(["ls-files", "-co", "--exclude-standard", "-z"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert_ok(&files, "git ls-files");
    for f in files.stdout.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let rel = PathBuf::from(String::from_utf8_lossy(f).into_owned());
        let (from, to) = (root.join(&rel), dir.join(&rel));
        if from.is_symlink() || !from.is_file() {
            continue;
        }
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "baogen"]);
    String::from_utf8(git(dir, &["rev-parse", "HEAD"]).stdout)
        .unwrap()
        .trim()
        .to_string()
}

/// A user's repository: the shipped active profile, rendered and committed, and the README's
/// .pre-commit-config.yaml with its repo/rev pointed at `hook_repo` and the hook id chosen.
fn user_repo(dir: &Path, hook_repo: &Path, rev: &str, hook: &str) {
    std::fs::create_dir_all(dir.join("profiles")).unwrap();
    let profile = std::fs::read_to_string(common::root().join("profiles/active.toml")).unwrap();
    std::fs::write(dir.join("profiles/active.toml"), profile).unwrap();
    let out = common::baogen()
        .args(["render", "profiles/active.toml"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_ok(&out, "baogen render");
    let config = snippet("pre-commit-config.yaml")
        .replace(
            "https://github.com/baogen/baogen",
            &hook_repo.display().to_string(),
        )
        .replace("rev: v0.1.0", &format!("rev: {rev}"))
        .replace("id: baogen-check ", &format!("id: {hook} "));
    std::fs::write(dir.join(".pre-commit-config.yaml"), config).unwrap();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "rendered"]);
}

fn pre_commit(pre_commit: &Path, dir: &Path, home: &Path, path: &std::ffi::OsStr) -> Output {
    Command::new(pre_commit)
        .args(["run", "--all-files", "--color", "never"])
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

    // language: system, with this build's baogen on PATH.
    let repo = tmp.path().join("system");
    user_repo(&repo, &hooks, &rev, "baogen-check-system");
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
    user_repo(&repo, &hooks, &rev, "baogen-check");
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
