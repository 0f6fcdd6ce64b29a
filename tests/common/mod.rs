//! Shared test helpers: where the real tools are, how to run baogen, temp dirs.
#![allow(dead_code)]

pub(crate) mod roles;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn baogen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_baogen"))
}

pub(crate) fn run_baogen(args: &[&str]) -> Output {
    baogen().args(args).output().expect("baogen runs")
}

/// Locate a real tool the test needs. Under CI=true a missing tool fails the test loudly;
/// elsewhere the test is skipped with a message on stderr (run scripts/install-tools).
pub(crate) fn tool(name: &str) -> Option<PathBuf> {
    let candidates = [
        root().join(".tools/venv/bin").join(name),
        root().join(".tools/bin").join(name),
        root().join(".tools/node/node_modules/.bin").join(name),
    ];
    let found = candidates
        .into_iter()
        .find(|p| p.is_file())
        .or_else(|| which(name));
    if found.is_none() {
        let msg = format!("required tool `{name}` is missing: run scripts/install-tools");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        eprintln!("SKIPPED: {msg}");
    }
    found
}

pub(crate) fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Run a command with `input` on its stdin and collect its output.
pub(crate) fn output_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Copy a directory tree.
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Every file under `dir` as (relative path, bytes), sorted; empty when `dir` is missing.
pub(crate) fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            if e.path().is_dir() {
                walk(base, &e.path(), out);
            } else {
                out.push((
                    e.path().strip_prefix(base).unwrap().display().to_string(),
                    std::fs::read(e.path()).unwrap_or_default(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A temporary directory removed when dropped.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "baogen-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A minimal valid demo profile around engine roles: `config` is added to the engine config
/// table (after `kubernetes_host`), `engine` are extra `[kubernetes_secrets]` keys, `roles` is
/// the TOML of the roles' keys after one `[[kubernetes_secrets.roles]]` header.
pub(crate) fn engine_profile(config: &str, engine: &str, roles: &str) -> String {
    format!(
        r#"profile = "demo"
[listener.api]
address = "0.0.0.0:8200"
tls_disable = true
unauthenticated_metrics = true
[demo]
[[demo.nodes]]
name = "n0"
[kubernetes_secrets]
config = {{ kubernetes_host = "https://k8s.example:6443"{config} }}
{engine}
[[kubernetes_secrets.roles]]
{roles}
"#
    )
}

/// A small deterministic pseudo-random sequence (no extra crate for test corpora): the same
/// seed gives the same corpus on every run, so a failure reproduces.
pub(crate) struct Lcg(pub u64);

impl Lcg {
    /// A number below `bound`.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

/// The alerting rules of a rendered rule file's `groups` (the `openbao-metrics` group).
pub(crate) fn alert_rules(groups: &serde_json::Value) -> Vec<serde_json::Value> {
    groups
        .as_array()
        .and_then(|gs| gs.iter().find(|g| g["name"] == "openbao-metrics"))
        .and_then(|g| g["rules"].as_array())
        .expect("an openbao-metrics rule group")
        .clone()
}
