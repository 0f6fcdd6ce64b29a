//! The README's bless command, run as written, in a test binary of its own: it builds a copy
//! of the crate in the shared target directory (reusing the dependencies), which replaces
//! `target/debug/baogen` with an identical build, so no other test may run beside it.

mod common;
mod integrations_support;

use integrations_support::*;

/// The README's bless command, run as written in a fresh copy of the checkout: it rewrites
/// nothing there, so the committed golden files, schema and bad-input errors are exactly what
/// it produces. (A copy, so that running the tests never blesses a working tree.)
#[test]
fn the_readme_bless_command_reproduces_the_committed_golden_files() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("BAOGEN_BLESS=1 cargo test"))
        .expect("the README shows the bless command");
    let command = line.split('#').next().unwrap().trim();
    let clone = fresh_clone("bless");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(clone.path())
            .output()
            .unwrap();
        assert_ok(&out, &format!("git {args:?}"));
        out
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "copy"]);
    let out = std::process::Command::new("sh")
        .args(["-c", command])
        .current_dir(clone.path())
        // Reuse this build's dependencies; only the copy's own crate compiles again.
        .env("CARGO_TARGET_DIR", common::root().join("target"))
        .output()
        .unwrap();
    assert_ok(&out, command);
    let status = git(&["status", "--porcelain"]);
    assert!(
        status.stdout.is_empty(),
        "{command} changed committed files:\n{}",
        text(&status.stdout)
    );
}
