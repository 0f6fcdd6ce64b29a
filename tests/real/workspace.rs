//! Helpers for the integration tests: a throwaway workspace laid out like a user's repository,
//! a PATH where `baogen` is this build, and the README snippets the tests run.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{self, TempDir};

/// A temp dir with `profiles/active.toml`, `integrations/` (the shipped plugin dirs), the
/// README's `openbao-values.yaml` and the official OpenBao chart, unpacked, at
/// `openbao-chart/`: the paths the README snippets use.
/// Without the chart (outside CI) the directory is simply absent.
pub(crate) fn workspace(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    let root = common::root();
    std::fs::create_dir_all(dir.path().join("profiles")).unwrap();
    std::fs::copy(
        root.join("profiles/active.toml"),
        dir.path().join("profiles/active.toml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(root.join("integrations"), dir.path().join("integrations")).unwrap();
    for values in ["openbao-values.yaml", "openbao-values-self-init.yaml"] {
        std::fs::copy(
            root.join("integrations/examples").join(values),
            dir.path().join(values),
        )
        .unwrap();
    }
    std::fs::create_dir_all(dir.path().join("profiles/examples")).unwrap();
    std::fs::copy(
        root.join("profiles/examples/self-init.toml"),
        dir.path().join("profiles/examples/self-init.toml"),
    )
    .unwrap();
    if let Some(chart) = official_chart() {
        let out = Command::new("tar")
            .arg("-xzf")
            .arg(&chart)
            .arg("-C")
            .arg(dir.path())
            .output()
            .unwrap();
        assert_ok(&out, "tar -xzf the official chart");
        std::fs::rename(dir.path().join("openbao"), dir.path().join("openbao-chart")).unwrap();
    }
    dir
}

/// Copy this working tree's files (tracked and untracked, not ignored: what a fresh clone of
/// the commit being made holds) into `dir`.
pub(crate) fn copy_checkout(dir: &Path) {
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
        // A committed link is recreated as the same link, as a clone checks it out.
        if from.is_symlink() {
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(std::fs::read_link(&from).unwrap(), &to).unwrap();
            continue;
        }
        if !from.is_file() {
            continue;
        }
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
}

/// A fresh copy of the repository, as a new user clones it.
pub(crate) fn fresh_clone(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    copy_checkout(dir.path());
    dir
}

/// Run a README snippet of the copy `clone` (integrations/examples/REL) from `cwd`.
pub(crate) fn run_clone_snippet(
    clone: &Path,
    cwd: &Path,
    rel: &str,
    path: &std::ffi::OsStr,
) -> Output {
    Command::new("sh")
        .arg("-eu")
        .arg(clone.join("integrations/examples").join(rel))
        .current_dir(cwd)
        .env("PATH", path)
        .output()
        .expect("sh runs")
}

/// The official OpenBao Helm chart, unchanged, from `../shared/charts/` beside the checkout.
/// Missing: the test fails under CI=true and is skipped (with a message) elsewhere.
pub(crate) fn official_chart() -> Option<PathBuf> {
    let chart = common::root().join("../shared/charts/openbao-0.29.2.tgz");
    if chart.is_file() {
        return Some(chart);
    }
    let msg = format!("the official chart is missing at {}", chart.display());
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// The directory holding this build's `baogen`.
pub(crate) fn baogen_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_baogen"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// PATH with `extra` dirs first, then this build's baogen, then the inherited PATH.
pub(crate) fn path_with(extra: &[&Path]) -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> = extra.iter().map(|p| p.to_path_buf()).collect();
    dirs.push(baogen_dir());
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs).unwrap()
}

/// A dir with `name` linked to `target`, to put a tool on PATH under the README's name.
pub(crate) fn bin_dir_with(parent: &Path, name: &str, target: &Path) -> PathBuf {
    let bin = parent.join(format!(".bin-{name}"));
    std::fs::create_dir_all(&bin).unwrap();
    let _ = std::fs::remove_file(bin.join(name));
    std::os::unix::fs::symlink(target, bin.join(name)).unwrap();
    bin
}

/// The text of a README snippet file under integrations/examples/.
pub(crate) fn snippet(rel: &str) -> String {
    std::fs::read_to_string(common::root().join("integrations/examples").join(rel))
        .unwrap_or_else(|e| panic!("integrations/examples/{rel}: {e}"))
}

/// Run a shell snippet exactly as the README shows it, in `cwd`.
pub(crate) fn run_snippet(
    cwd: &Path,
    rel: &str,
    path: &std::ffi::OsStr,
    envs: &[(&str, &Path)],
) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-eu")
        .arg(common::root().join("integrations/examples").join(rel))
        .current_dir(cwd)
        .env("PATH", path);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("sh runs")
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Fail with both streams when a command did not succeed.
pub(crate) fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

pub(crate) fn assert_failed(out: &Output, what: &str) {
    assert!(
        !out.status.success(),
        "{what} should have failed:\n--- stdout\n{}\n--- stderr\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Parse a YAML stream into objects (empty documents dropped).
pub(crate) fn objects(stream: &str) -> Vec<serde_json::Value> {
    serde_saphyr::from_str_multiple::<serde_json::Value, Vec<_>>(stream)
        .unwrap_or_else(|e| panic!("not a YAML stream: {e}\n{stream}"))
}

pub(crate) fn kinds(objs: &[serde_json::Value]) -> Vec<String> {
    objs.iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or("?"),
                o["metadata"]["name"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// The rendered StatefulSet's OpenBao container.
pub(crate) fn openbao_container(objs: &[serde_json::Value]) -> serde_json::Value {
    let sts = objs
        .iter()
        .find(|o| o["kind"] == "StatefulSet")
        .expect("a StatefulSet in the output");
    sts["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "openbao")
        .cloned()
        .unwrap()
}

pub(crate) fn assert_patched(objs: &[serde_json::Value]) {
    let c = openbao_container(objs);
    let env: Vec<&str> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(
        env.contains(&"BAO_K8S_NAMESPACE") && env.contains(&"BAO_K8S_POD_NAME"),
        "{c}"
    );
    // Under any name: the official chart declares 8202 as its replication port already.
    assert!(
        c["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["containerPort"] == 8202),
        "{c}"
    );
}
