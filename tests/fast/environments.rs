//! Many environments from one repository: profiles for one Kubernetes cluster never emit the
//! same object, and `render`/`check` refuse the ones that would.

use std::path::{Path, PathBuf};

use crate::common::{self, run_baogen, TempDir};

/// The shipped engine example (a ClusterRole and its binding) as an environment: its own
/// OpenBao namespace and, when given, the Kubernetes cluster it targets.
fn environment(dir: &Path, name: &str, namespace: &str, cluster: Option<&str>) -> PathBuf {
    let examples = common::root().join("profiles/examples");
    let text = std::fs::read_to_string(examples.join("engine-reference.toml")).unwrap();
    let mut text = text
        .replace(
            "output = \"../../golden/examples/engine-reference\"",
            &format!("output = \"out/{name}\""),
        )
        .replace(
            "[openbao]\nnamespace = \"openbao\"",
            &format!("[openbao]\nnamespace = \"{namespace}\""),
        );
    assert!(text.contains(&format!("namespace = \"{namespace}\"")));
    if let Some(c) = cluster {
        text = text.replace(
            "[openbao]\n",
            &format!("[openbao]\nkubernetes_cluster = \"{c}\"\n"),
        );
    }
    std::fs::copy(
        examples.join("kubernetes-ca.crt"),
        dir.join("kubernetes-ca.crt"),
    )
    .unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn two_environments_in_one_cluster_emit_no_common_object() {
    let tmp = TempDir::new("env-apart");
    let staging = environment(tmp.path(), "staging", "openbao-staging", Some("eu-1"));
    let prod = environment(tmp.path(), "prod", "openbao-prod", Some("eu-1"));
    let out = run_baogen(&[
        "render",
        staging.to_str().unwrap(),
        prod.to_str().unwrap(),
        "--stdout",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let docs: Vec<serde_json::Value> = text(&out.stdout)
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_saphyr::from_str(d).unwrap())
        .collect();
    let ids: Vec<baogen::identity::Identity> =
        docs.iter().map(baogen::identity::Identity::of).collect();
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[..i] {
            assert!(!a.same(b), "both environments emit {a}");
        }
    }
    // The cluster-scoped objects carry the OpenBao namespace in their names.
    let cluster_roles: Vec<String> = ids
        .iter()
        .filter(|id| id.kind == "ClusterRole")
        .map(|id| id.name.clone())
        .collect();
    assert_eq!(
        cluster_roles,
        [
            "openbao-kubernetes-secrets-openbao-staging",
            "openbao-kubernetes-secrets-openbao-prod"
        ]
    );
}

#[test]
fn two_profiles_that_would_emit_one_object_in_one_cluster_are_refused() {
    let tmp = TempDir::new("env-collide");
    let a = environment(tmp.path(), "a", "openbao", Some("eu-1"));
    let b = environment(tmp.path(), "b", "openbao", Some("eu-1"));
    for command in ["render", "check"] {
        let out = run_baogen(&[command, a.to_str().unwrap(), b.to_str().unwrap()]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(err.contains("error[BG0704]"), "{command}: {err}");
        assert!(
            err.contains("ClusterRole openbao-kubernetes-secrets-openbao"),
            "{err}"
        );
        // Both files, each at its kubernetes_cluster line.
        assert!(err.contains(&format!("{}:10:", b.display())), "{err}");
        assert!(err.contains(&format!("{}:10:", a.display())), "{err}");
    }
    assert!(
        !tmp.path().join("out").exists(),
        "nothing is written when profiles collide"
    );
    // JSON names both places.
    let out = run_baogen(&[
        "--message-format",
        "json",
        "render",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    let line: serde_json::Value = serde_json::from_str(text(&out.stdout).lines().next().unwrap())
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    assert_eq!(line["code"], "BG0704");
    assert_eq!(line["file"], b.display().to_string());
    assert_eq!(line["labels"][0]["file"], a.display().to_string());
}

#[test]
fn profiles_for_other_clusters_or_no_cluster_may_share_names() {
    let tmp = TempDir::new("env-other-clusters");
    let pairs = [
        (Some("eu-1"), Some("us-1")),
        (None, Some("eu-1")),
        (None, None),
    ];
    for (i, (first, second)) in pairs.into_iter().enumerate() {
        let a = environment(tmp.path(), &format!("a{i}"), "openbao", first);
        let b = environment(tmp.path(), &format!("b{i}"), "openbao", second);
        let out = run_baogen(&["render", a.to_str().unwrap(), b.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{first:?} and {second:?}: {}",
            text(&out.stderr)
        );
    }
}
