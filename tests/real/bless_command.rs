//! The README's bless command, run as written in a fresh copy of the checkout (built in a
//! target directory of its own, `target/bless-copy`, kept between runs so that it compiles
//! incrementally).

use crate::common;

use crate::workspace::*;

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
        // A target directory of its own: cargo names a path crate's artifacts by its place in
        // the workspace, not its absolute path, so building the copy into this build's target
        // directory would replace this build's test binaries with the copy's.
        .env("CARGO_TARGET_DIR", common::root().join("target/bless-copy"))
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
