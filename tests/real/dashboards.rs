//! Every generated Grafana dashboard against Grafana's own published dashboard types
//! (`@grafana/schema` from npm, the `Dashboard` interface Grafana's frontend is typed with),
//! checked by the TypeScript compiler: a missing required field, a wrong type or a key the
//! schema does not know fails. The dashboards are the golden ones, which the golden test ties
//! to what every shipped profile renders.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{self, TempDir};

fn dashboards(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            dashboards(&path, out);
        } else if path.extension().is_some_and(|e| e == "json")
            && path
                .parent()
                .is_some_and(|p| p.ends_with("grafana/dashboards"))
        {
            out.push(path);
        }
    }
}

/// `tsc` over one module assigning each JSON text to a `Dashboard`: its diagnostics.
fn typecheck(tsc: &Path, texts: &[(String, String)]) -> (bool, String) {
    let tmp = TempDir::new("dashboards");
    let mut ts = String::from("import type { Dashboard } from \"@grafana/schema\";\n");
    for (i, (name, text)) in texts.iter().enumerate() {
        ts.push_str(&format!(
            "// {name}\nexport const d{i}: Dashboard = {text};\n"
        ));
    }
    std::fs::write(tmp.path().join("check.ts"), ts).unwrap();
    std::os::unix::fs::symlink(
        common::root().join(".tools/node/node_modules"),
        tmp.path().join("node_modules"),
    )
    .unwrap();
    let out = Command::new(tsc)
        .current_dir(tmp.path())
        .args([
            "--noEmit",
            "--strict",
            "--skipLibCheck",
            "--moduleResolution",
            "bundler",
            "--module",
            "esnext",
            "--target",
            "es2020",
            "check.ts",
        ])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn every_dashboard_matches_grafanas_published_dashboard_type() {
    let Some(tsc) = common::tool("tsc") else {
        return;
    };
    let mut files = Vec::new();
    dashboards(&common::root().join("golden"), &mut files);
    files.sort();
    assert!(
        files.len() >= 9,
        "only {} dashboards: {files:?}",
        files.len()
    );
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            (
                f.strip_prefix(common::root())
                    .unwrap()
                    .display()
                    .to_string(),
                std::fs::read_to_string(f).unwrap(),
            )
        })
        .collect();
    let (ok, out) = typecheck(&tsc, &texts);
    assert!(ok, "tsc refuses a generated dashboard:\n{out}");
    eprintln!(
        "{} dashboards match @grafana/schema's Dashboard",
        texts.len()
    );

    // The check can fail: each dashboard with a key Grafana does not know, and with a field
    // of the wrong type, is refused.
    for (needle, broken) in [
        (
            "\"schemaVersion\": 39",
            "\"schemaVersion\": 39, \"panelz\": []",
        ),
        ("\"schemaVersion\": 39", "\"schemaVersion\": \"39\""),
        ("\"h\": 8,", "\"h\": \"8\","),
    ] {
        let bad: Vec<(String, String)> = texts
            .iter()
            .map(|(n, t)| {
                assert!(t.contains(needle), "{n} has no {needle}");
                (n.clone(), t.replacen(needle, broken, 1))
            })
            .collect();
        let (ok, out) = typecheck(&tsc, &bad);
        assert!(!ok, "tsc accepted dashboards with {broken}");
        assert!(
            out.lines().filter(|l| l.contains("error TS")).count() >= bad.len(),
            "not every broken dashboard was refused ({broken}):\n{out}"
        );
    }
}
