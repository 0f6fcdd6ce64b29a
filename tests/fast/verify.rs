//! `baogen verify` without a deployment: its exit codes.

use crate::common;

/// Fast and tool-free: `verify` refuses incomplete input with exit 2 and reports an unreachable
/// Prometheus as a failed check (exit 1).
#[test]
fn verify_exit_codes_without_a_deployment() {
    let active = common::root().join("profiles/active.toml");
    let active = active.to_str().unwrap();
    let out = common::run_baogen(&[
        "verify",
        active,
        "--prometheus",
        "http://127.0.0.1:1",
        "--openbao",
        "https://127.0.0.1:1",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--token-file"),
        "{out:?}"
    );
    let out = common::run_baogen(&[
        "verify",
        active,
        "--prometheus",
        "http://127.0.0.1:1",
        "--ca",
        "/nonexistent/ca.crt",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = common::run_baogen(&["verify", active, "--prometheus", "http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL") && text.contains("cannot query Prometheus"),
        "{text}"
    );
}
