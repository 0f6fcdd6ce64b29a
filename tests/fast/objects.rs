//! Generated Kubernetes objects are valid for the API server: Prometheus Operator kinds
//! against the strict CRD schemas in schemas/crds/, core kinds with the real
//! `kubernetes-validate --strict` for the oldest and newest Kubernetes baogen supports.

use crate::common;

use std::path::Path;

use baogen::{emit, profile};
use serde_json::Value;

/// The Kubernetes versions baogen's output supports (k8s-openapi feature v1_33 .. newest
/// schema kubernetes-validate ships).
const KUBERNETES_VERSIONS: [&str; 2] = ["1.33.0", "1.37.0"];

fn all_objects() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for dir in ["profiles", "profiles/examples"] {
        let Ok(entries) = std::fs::read_dir(common::root().join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            let p = profile::load(&path).unwrap_or_else(|d| panic!("{}: {d:#?}", path.display()));
            for o in emit::render(&p).object_values() {
                out.push((path.display().to_string(), o));
            }
        }
    }
    assert!(!out.is_empty());
    out
}

fn crd_validator(kind: &str) -> Option<jsonschema::Validator> {
    let path = common::root().join(format!("schemas/crds/{}.schema.json", kind.to_lowercase()));
    let text = std::fs::read_to_string(path).ok()?;
    let schema: Value = serde_json::from_str(&text).unwrap();
    Some(jsonschema::validator_for(&schema).expect("CRD schema compiles"))
}

fn crd_errors(object: &Value) -> Option<Vec<String>> {
    let kind = object["kind"].as_str()?;
    let v = crd_validator(kind)?;
    Some(
        v.iter_errors(object)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect(),
    )
}

#[test]
fn operator_objects_validate_against_strict_crd_schemas() {
    let mut checked = 0;
    for (profile, object) in all_objects() {
        if let Some(errors) = crd_errors(&object) {
            assert!(
                errors.is_empty(),
                "{profile}: {} {} is invalid:\n{}",
                object["kind"],
                object["metadata"]["name"],
                errors.join("\n")
            );
            checked += 1;
        }
    }
    // Every non-demo profile emits a monitor and a PrometheusRule.
    assert!(checked >= 4, "only {checked} operator objects were checked");
}

#[test]
fn strict_crd_schemas_reject_a_misspelt_field() {
    let (_, mut monitor) = all_objects()
        .into_iter()
        .find(|(_, o)| o["kind"] == "ServiceMonitor")
        .unwrap();
    let tls = monitor["spec"]["endpoints"][0]["tlsConfig"]
        .as_object_mut()
        .unwrap();
    let server_name = tls.remove("serverName").unwrap();
    tls.insert("serverNmae".into(), server_name);
    let errors = crd_errors(&monitor).unwrap();
    assert!(
        errors.iter().any(|e| e.contains("serverNmae")),
        "{errors:?}"
    );
}

#[test]
fn core_objects_pass_kubernetes_validate_strict() {
    let Some(kv) = common::tool("kubernetes-validate") else {
        return;
    };
    let dir = common::TempDir::new("kv");
    let mut files = Vec::new();
    for (i, (_, object)) in all_objects().into_iter().enumerate() {
        if object["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("monitoring.coreos.com"))
        {
            continue;
        }
        let file = dir.path().join(format!(
            "{i}-{}.yaml",
            object["kind"].as_str().unwrap().to_lowercase()
        ));
        std::fs::write(&file, baogen::yaml::to_string(&object)).unwrap();
        files.push(file);
    }
    assert!(
        files.len() >= 6,
        "expected Services, RBAC and a NetworkPolicy, got {}",
        files.len()
    );
    for version in KUBERNETES_VERSIONS {
        let out = std::process::Command::new(&kv)
            .args(["--strict", "--quiet", "-k", version])
            .args(&files)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubernetes-validate {version} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn kubernetes_validate_catches_a_broken_object() {
    // Guards the test above: the tool really rejects unknown fields in strict mode.
    let Some(kv) = common::tool("kubernetes-validate") else {
        return;
    };
    let dir = common::TempDir::new("kv-bad");
    let file = dir.path().join("svc.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  portz: []\n",
    )
    .unwrap();
    let out = std::process::Command::new(&kv)
        .args(["--strict", "--quiet", "-k", KUBERNETES_VERSIONS[0]])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn yaml_survives_a_yaml_1_1_reader() {
    // The Go YAML behind `kubectl apply` reads unquoted on/yes/no as booleans; PyYAML reads
    // YAML 1.1 the same way. A label value "on" must come back as the string "on".
    let Some(python) = common::tool("python3") else {
        return;
    };
    let labels = serde_json::json!({"metadata": {"labels": {"a": "on", "b": "yes", "c": "NO", "d": "0x1", "e": "2024-01-01", "f": "~", "g": "1e3", "h": "null"}}});
    let text = baogen::yaml::to_string(&labels);
    let script = "import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin.read())))";
    let venv_python = common::root().join(".tools/venv/bin/python");
    let py = if venv_python.is_file() {
        venv_python
    } else {
        python
    };
    let out = common::output_with_stdin(
        std::process::Command::new(py).args(["-c", script]),
        text.as_bytes(),
    );
    assert!(out.status.success(), "PyYAML failed on:\n{text}");
    let back: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        back, labels,
        "YAML 1.1 reading changed values; emitted:\n{text}"
    );
}

#[test]
fn every_emitted_document_parses_back() {
    for path in [
        "profiles/active.toml",
        "profiles/all-node.toml",
        "profiles/demo.toml",
    ] {
        let p = profile::load(Path::new(path)).unwrap();
        let art = emit::render(&p);
        for (name, content) in &art.files {
            if name.ends_with(".hcl") {
                let body: hcl::Body = hcl::from_str(content)
                    .unwrap_or_else(|e| panic!("{path}: {name} is not HCL: {e}"));
                // Re-serializing the parsed body gives the same structure back.
                let again: hcl::Body = hcl::from_str(&hcl::to_string(&body).unwrap()).unwrap();
                assert_eq!(body, again, "{name}");
            } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                let _: Value = serde_saphyr::from_str(content)
                    .unwrap_or_else(|e| panic!("{path}: {name} is not YAML: {e}"));
            } else if name.ends_with(".json") {
                let _: Value = serde_json::from_str(content)
                    .unwrap_or_else(|e| panic!("{path}: {name} is not JSON: {e}"));
            }
        }
        // Each Kubernetes object reads back from its file and writes out to the same text: no
        // value changes type or spelling on the way through a YAML reader.
        for object in art.object_values() {
            let kind = object["kind"].as_str().unwrap();
            let again = baogen::yaml::to_string(&object);
            let found = art
                .files
                .iter()
                .filter(|(n, _)| n.starts_with("kubernetes/"))
                .any(|(_, c)| {
                    c.split_once('\n')
                        .is_some_and(|(_header, body)| body == again)
                });
            assert!(
                found,
                "{path}: {kind} does not round-trip to its kubernetes/ file"
            );
        }
    }
}
