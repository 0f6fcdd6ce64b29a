//! Every `tests/bad/engine-*.toml` is refused: exit code 2, exactly the committed stderr
//! (`tests/bad/<name>.stderr`, re-blessed with BAOGEN_BLESS=1), and nothing written.

mod common;

use std::path::PathBuf;

fn cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(common::root().join("tests/bad"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "toml")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("engine-"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn bad_engine_profiles_are_refused_with_their_exact_errors() {
    let cases = cases();
    assert!(
        cases.len() >= 5,
        "expected tests/bad/engine-*.toml, found {cases:?}"
    );
    let bless = std::env::var("BAOGEN_BLESS").is_ok_and(|v| v == "1");
    let tmp = common::TempDir::new("engine-bad");
    let mut failures = Vec::new();
    for case in cases {
        let rel = case.strip_prefix(common::root()).unwrap();
        let out_dir = tmp.path().join(case.file_stem().unwrap());
        let res = common::baogen()
            .current_dir(common::root())
            .env("NO_COLOR", "1")
            .args([
                "render",
                rel.to_str().unwrap(),
                "--out",
                out_dir.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8(res.stderr).unwrap();
        let expected_path = case.with_extension("stderr");
        if bless {
            std::fs::write(&expected_path, &stderr).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if res.status.code() != Some(2) {
            failures.push(format!(
                "{}: exit {:?}, expected 2",
                rel.display(),
                res.status.code()
            ));
        }
        if stderr != expected {
            let diff = similar::TextDiff::from_lines(&expected, &stderr)
                .unified_diff()
                .header("expected", "actual")
                .to_string();
            failures.push(format!("{}: stderr differs:\n{diff}", rel.display()));
        }
        if out_dir.exists() {
            failures.push(format!("{}: wrote {}", rel.display(), out_dir.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nIf intended, run: BAOGEN_BLESS=1 cargo test --test engine_bad",
        failures.join("\n")
    );
}
