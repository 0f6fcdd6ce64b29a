//! The bad-input corpus: every `*.toml` in tests/bad/ is a profile with one problem, every
//! `*.d` a directory of profiles with one problem between them (the bases they extend sit in
//! tests/bad/bases/). Each must exit 2 with exactly the error in tests/bad/<name>.stderr
//! (pointing at file:line:column), and leave the output directory exactly as it was.
//! `BAOGEN_BLESS=1` rewrites the .stderr files.

use crate::common;

use std::path::{Path, PathBuf};

use baogen::diag::Code;

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(common::root().join("tests/bad"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml" || x == "d"))
        .collect();
    cases.sort();
    cases
}

/// Render `rel` into an output directory that already holds a previous render, and return
/// (exit code, stderr); asserts the previous render is untouched.
fn render_into_existing(rel: &Path) -> (Option<i32>, String) {
    let tmp = common::TempDir::new("bad");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join(baogen::write::MARKER), "previous\n").unwrap();
    std::fs::write(out.join("keep.txt"), "previous render\n").unwrap();
    let mut command = common::baogen();
    command.current_dir(common::root()).arg("render").arg(rel);
    // `output-*` cases are about the output a profile declares (or fails to): no --out.
    let about_output = rel.file_name().is_some_and(|n| {
        n.to_string_lossy().starts_with("output-") && !n.to_string_lossy().contains("foreign")
    });
    if !about_output {
        command.arg("--out").arg(&out);
    }
    let before = listing(&common::root().join("tests/bad"));
    let output = command.output().unwrap();
    assert_eq!(
        listing(&common::root().join("tests/bad")),
        before,
        "{}: changed tests/bad",
        rel.display()
    );
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "previous render\n",
        "{}: output changed",
        rel.display()
    );
    let entries: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        entries.len(),
        1,
        "{}: left files next to the output: {entries:?}",
        rel.display()
    );
    assert!(
        output.stdout.is_empty(),
        "{}: wrote to stdout",
        rel.display()
    );
    // The output directory is a fresh temporary one: name it the same way in every run.
    let stderr = String::from_utf8_lossy(&output.stderr).replace(out.to_str().unwrap(), "<out>");
    (output.status.code(), stderr)
}

fn listing(dir: &Path) -> Vec<std::ffi::OsString> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    names.sort();
    names
}

/// The codes a stderr names, `error[BG0302]` → `BG0302`.
fn codes_in(stderr: &str) -> Vec<String> {
    stderr
        .split("error[")
        .skip(1)
        .filter_map(|rest| rest.split_once(']').map(|(code, _)| code.to_string()))
        .collect()
}

/// Problems about a whole file, which have no line and column to point at.
const WITHOUT_PLACE: &[Code] = &[
    Code::Unreadable,
    Code::NoProfileFound,
    Code::UnsafeFileName,
    Code::NoOutput,
    Code::OutputRefused,
];

#[test]
fn every_bad_profile_is_refused_with_its_exact_error() {
    let bless = std::env::var("BAOGEN_BLESS").is_ok_and(|v| v == "1");
    let cases = cases();
    assert!(
        cases.len() >= 80,
        "the corpus must keep at least 80 cases, has {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let rel = case.strip_prefix(common::root()).unwrap();
        let (code, stderr) = render_into_existing(rel);
        if code != Some(2) {
            failures.push(format!(
                "{}: exit code {code:?}, want 2\n{stderr}",
                rel.display()
            ));
            continue;
        }
        if stderr.contains("panicked") {
            failures.push(format!("{}: panicked\n{stderr}", rel.display()));
        }
        let codes = codes_in(&stderr);
        if codes.is_empty() {
            failures.push(format!(
                "{}: the error names no code\n{stderr}",
                rel.display()
            ));
        }
        // A layered case may point into the base it extends, under tests/bad/ too.
        let location = "tests/bad/".to_string();
        // `tests/bad/NAME:LINE:COLUMN`, NAME possibly holding spaces (a file-name case).
        let has_line_col = stderr.lines().any(|l| {
            l.split(&location).skip(1).any(|rest| {
                let mut parts = rest.trim_end().rsplitn(3, ':');
                let column = parts.next().and_then(|c| c.parse::<u32>().ok());
                let line = parts.next().and_then(|n| n.parse::<u32>().ok());
                column.is_some() && line.is_some() && parts.next().is_some()
            })
        });
        let whole_file = codes
            .iter()
            .all(|c| WITHOUT_PLACE.iter().any(|w| w.id() == c));
        let names_file = whole_file && stderr.contains(&format!("{}", rel.display()));
        if !(has_line_col || names_file) {
            failures.push(format!(
                "{}: the error names no file:line:column\n{stderr}",
                rel.display()
            ));
        }
        let expected_path = case.with_extension("stderr");
        if bless {
            std::fs::write(&expected_path, &stderr).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != stderr {
            let diff = similar::TextDiff::from_lines(&expected, &stderr)
                .unified_diff()
                .header("expected", "actual")
                .to_string();
            failures.push(format!(
                "{}: error text changed (BAOGEN_BLESS=1 to accept):\n{diff}",
                rel.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// Every code that can refuse a profile has a case in tests/bad/ (its .stderr names it) and a
/// row in the README's table of codes, and every row names a real code.
#[test]
fn every_code_has_a_bad_case_and_a_readme_row() {
    let mut covered = std::collections::BTreeSet::new();
    for case in cases() {
        let stderr = std::fs::read_to_string(case.with_extension("stderr")).unwrap_or_default();
        covered.extend(codes_in(&stderr));
    }
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let rows: std::collections::BTreeSet<String> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `BG"))
        .filter_map(|rest| rest.split_once('`').map(|(n, _)| format!("BG{n}")))
        .collect();
    let mut missing = Vec::new();
    for code in Code::ALL {
        if !code.is_drift() && !covered.contains(code.id()) {
            missing.push(format!(
                "{code} ({}) has no case under tests/bad/",
                code.summary()
            ));
        }
        if !rows.contains(code.id()) {
            missing.push(format!("{code} has no row in the README's table of codes"));
        }
    }
    for row in &rows {
        if !Code::ALL.iter().any(|c| c.id() == row) {
            missing.push(format!("the README lists {row}, which is no code"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn oversized_profile_is_refused_before_parsing() {
    let mut text = String::from("profile = \"demo\"\n");
    while text.len() <= baogen::profile::MAX_PROFILE_BYTES {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    let stderr = refused("huge", &text);
    assert!(
        stderr.contains("larger than 4194304 bytes (4 MiB)"),
        "{stderr}"
    );
}

/// Render `text` as a profile file; assert exit 2 and no output directory; return stderr.
fn refused(tag: &str, text: &str) -> String {
    let tmp = common::TempDir::new(tag);
    let path = tmp.path().join(format!("{tag}.toml"));
    std::fs::write(&path, text).unwrap();
    let out = common::run_baogen(&[
        "render",
        path.to_str().unwrap(),
        "--out",
        tmp.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!tmp.path().join("out").exists());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn missing_profile_file_is_a_clear_error() {
    let out = common::run_baogen(&[
        "render",
        "does/not/exist.toml",
        "--out",
        "/nonexistent-baogen-out",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does/not/exist.toml") && stderr.contains("cannot read the profile"),
        "{stderr}"
    );
}

#[test]
fn all_problems_of_a_profile_are_reported_in_one_run() {
    let out = common::run_baogen(&[
        "check",
        "tests/bad/name-namespace-uppercase.toml",
        "tests/bad/label-value-with-space.toml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'OpenBao'") && stderr.contains("'kube prometheus'"),
        "{stderr}"
    );
    assert!(stderr.contains("2 problems found"), "{stderr}");
}

use crate::common::roles;

#[test]
fn more_than_ten_thousand_roles_are_refused() {
    let stderr = refused("many", &roles::profile_with_roles(10_001));
    assert!(
        stderr.contains("declares 10001 engine roles; baogen renders at most 10000"),
        "{stderr}"
    );
    assert!(stderr.contains("many.toml:"), "{stderr}");
}

#[test]
fn ten_thousand_roles_render_within_200_mib() {
    // Peak resident memory of the real binary, read by the parent through getrusage.
    let Some(python) = common::tool("python3") else {
        return;
    };
    let tmp = common::TempDir::new("roles-mem");
    let path = tmp.path().join("many.toml");
    std::fs::write(&path, roles::profile_with_roles(10_000)).unwrap();
    let script = "import resource, subprocess, sys\nr = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\nprint(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let out = std::process::Command::new(python)
        .args([
            "-c",
            script,
            env!("CARGO_BIN_EXE_baogen"),
            "render",
            path.to_str().unwrap(),
            "--out",
        ])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    assert_eq!(parts.next(), Some("0"), "render failed: {text}");
    let kib: u64 = parts.next().unwrap().parse().unwrap();
    eprintln!("peak RSS rendering 10,000 roles: {} MiB", kib / 1024);
    assert!(kib < 200 * 1024, "peak RSS {kib} KiB exceeds 200 MiB");
    assert_eq!(
        std::fs::read_dir(tmp.path().join("out/openbao/kubernetes-secrets/roles"))
            .unwrap()
            .count(),
        10_000
    );
}
