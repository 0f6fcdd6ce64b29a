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

/// A small demo profile body (no `profile` key): the part every generated base shares.
const DEMO_BASE: &str = r#"
[listener.api]
address = "0.0.0.0:8200"
tls_disable = true
unauthenticated_metrics = true

[demo]
[[demo.nodes]]
name = "n0"

[kubernetes_secrets]
config = { kubernetes_host = "https://k8s.example:6443" }
"#;

/// What an overlay does to one role name.
#[derive(Debug, Clone)]
enum Op {
    Keep,
    /// Set token_max_ttl to this many minutes.
    Ttl(u64),
    Remove,
}

fn role_toml(name: &str, ttl_minutes: u64) -> String {
    format!(
        "[[kubernetes_secrets.roles]]\nname = \"{name}\"\nallowed_kubernetes_namespaces = [\"ci\"]\nservice_account_name = \"sa\"\ntoken_max_ttl = \"{ttl_minutes}m\"\n"
    )
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Generated bases and overlays: the merged roles are exactly the base's, in its order,
    /// changed, removed and added as the overlay says; two bases apply in order.
    #[test]
    fn roles_merge_by_name_as_documented(
        base in proptest::collection::btree_map("[a-f]", 10u64..600, 1..6),
        ops in proptest::collection::vec(
            prop_oneof![Just(Op::Keep), (10u64..600).prop_map(Op::Ttl), Just(Op::Remove)],
            6,
        ),
        added in proptest::collection::btree_map("[m-p]", 10u64..600, 0..3),
        second_interval in prop::bool::ANY,
    ) {
        let tmp = TempDir::new("env-merge");
        let dir = tmp.path();
        let mut base_text = String::from("[scrape]\ninterval = \"30s\"\n");
        base_text.push_str(DEMO_BASE);
        for (name, ttl) in &base {
            base_text.push_str(&role_toml(name, *ttl));
        }
        std::fs::write(dir.join("base.toml"), &base_text).unwrap();
        // A second base that only changes a scalar: the later one wins.
        std::fs::write(dir.join("timing.toml"), "[scrape]\ninterval = \"20s\"\nscrape_timeout = \"5s\"\n").unwrap();
        let extends = if second_interval {
            "[\"base.toml\", \"timing.toml\"]"
        } else {
            "\"base.toml\""
        };
        let mut overlay = format!("profile = \"demo\"\nextends = {extends}\n");
        let mut expected: Vec<(String, u64)> = Vec::new();
        for ((name, ttl), op) in base.iter().zip(ops.iter().cycle()) {
            match op {
                Op::Keep => expected.push((name.clone(), *ttl)),
                Op::Ttl(t) => {
                    overlay.push_str(&format!("[[kubernetes_secrets.roles]]\nname = \"{name}\"\ntoken_max_ttl = \"{t}m\"\n"));
                    expected.push((name.clone(), *t));
                }
                Op::Remove => overlay.push_str(&format!("[[kubernetes_secrets.roles]]\nname = \"{name}\"\nremove = true\n")),
            }
        }
        for (name, ttl) in &added {
            overlay.push_str(&role_toml(name, *ttl));
            expected.push((name.clone(), *ttl));
        }
        let path = dir.join("overlay.toml");
        std::fs::write(&path, &overlay).unwrap();
        let p = baogen::profile::load(&path).unwrap_or_else(|d| panic!("{overlay}\n{d:#?}"));
        let got: Vec<(String, u64)> = p
            .engine
            .as_ref()
            .unwrap()
            .roles
            .iter()
            .map(|r| (r.name.clone(), r.token_max_ttl / 60))
            .collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(p.scrape.interval.as_str(), if second_interval { "20s" } else { "30s" });
        prop_assert_eq!(p.bases.len(), if second_interval { 2 } else { 1 });
    }
}

#[test]
fn a_layered_profile_renders_like_the_same_profile_written_out() {
    let tmp = TempDir::new("env-flat");
    let layered = tmp.path().join("layered");
    let flat = tmp.path().join("flat");
    std::fs::create_dir_all(layered.join("envs")).unwrap();
    std::fs::create_dir_all(&flat).unwrap();
    let environments = common::root().join("profiles/environments");
    let ca = common::root().join("profiles/examples/kubernetes-ca.crt");
    // The shipped base, one directory up from the profile: its CA path resolves against it.
    let base = std::fs::read_to_string(environments.join("base.toml"))
        .unwrap()
        .replace("../examples/kubernetes-ca.crt", "ca/kubernetes-ca.crt");
    std::fs::create_dir_all(layered.join("ca")).unwrap();
    std::fs::copy(&ca, layered.join("ca/kubernetes-ca.crt")).unwrap();
    std::fs::write(layered.join("base.toml"), &base).unwrap();
    let prod = std::fs::read_to_string(environments.join("prod.toml"))
        .unwrap()
        .replace("extends = \"base.toml\"", "extends = \"../base.toml\"")
        .replace("../../golden/environments/prod", "out");
    std::fs::write(layered.join("envs/prod.toml"), prod).unwrap();
    // The same profile by hand: the base with prod's changes applied.
    let written = base
        .replace("#:schema ../../schemas/profile-base.schema.json\n", "")
        .replace(
            "openbao_version = \"2.7.2\"",
            "profile = \"active\"\noutput = \"out\"\nopenbao_version = \"2.7.2\"",
        )
        .replace(
            "[openbao]\n",
            "[openbao]\nnamespace = \"openbao-prod\"\ncluster = \"prod\"\n",
        )
        .replace("ca/kubernetes-ca.crt", "kubernetes-ca.crt")
        .replace("token_max_ttl = \"24h\"", "token_max_ttl = \"8h\"");
    let viewer = written
        .find("[[kubernetes_secrets.roles]]\nname = \"cluster-viewer\"")
        .unwrap();
    let written = written[..viewer].to_string();
    std::fs::write(flat.join("prod.toml"), written).unwrap();
    std::fs::copy(&ca, flat.join("kubernetes-ca.crt")).unwrap();
    for profile in [layered.join("envs/prod.toml"), flat.join("prod.toml")] {
        let out = run_baogen(&["render", profile.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let layered_out = common::read_tree(&layered.join("envs/out"));
    assert!(layered_out.len() > 10, "{layered_out:?}");
    assert_eq!(layered_out, common::read_tree(&flat.join("out")));
}

/// A repository laid out as a user would: bases, profiles in subdirectories, a hidden
/// directory, a rendered output and a link, under one directory.
fn repository(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let profiles = dir.join("profiles");
    std::fs::create_dir_all(profiles.join("eu")).unwrap();
    std::fs::create_dir_all(profiles.join(".drafts")).unwrap();
    let mut base = String::from("[scrape]\ninterval = \"30s\"\n");
    base.push_str(DEMO_BASE);
    base.push_str(&role_toml("ci", 60));
    std::fs::write(profiles.join("base.toml"), base).unwrap();
    for (file, extends, out) in [
        ("staging.toml", "base.toml", "../out/staging"),
        ("eu/prod.toml", "../base.toml", "../../out/prod"),
    ] {
        std::fs::write(
            profiles.join(file),
            format!("profile = \"demo\"\nextends = \"{extends}\"\noutput = \"{out}\"\n"),
        )
        .unwrap();
    }
    // Never rendered: a hidden directory's profile, and a link to a profile elsewhere.
    std::fs::write(
        profiles.join(".drafts/draft.toml"),
        "profile = \"demo\"\nextends = \"../base.toml\"\noutput = \"../../out/draft\"\n",
    )
    .unwrap();
    let elsewhere = dir.parent().unwrap().join("elsewhere.toml");
    std::fs::write(
        &elsewhere,
        "profile = \"demo\"\nextends = \"repo/profiles/base.toml\"\noutput = \"repo/out/linked\"\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&elsewhere, profiles.join("linked.toml")).unwrap();
}

#[test]
fn render_and_check_a_directory_take_every_profile_and_skip_bases() {
    let tmp = TempDir::new("env-dir");
    let dir = &tmp.path().join("repo");
    repository(dir);
    let run = |args: &[&str]| {
        common::baogen()
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
    };
    let out = run(&["render", "profiles"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut rendered: Vec<String> = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    rendered.sort();
    assert_eq!(
        rendered,
        ["prod", "staging"],
        "bases, hidden directories and links are skipped"
    );
    // An output baogen wrote is skipped by the walk even when it is inside the directory.
    let out = run(&["check", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("up to date: 2 profile(s)"),
        "{}",
        text(&out.stderr)
    );

    // A change to the shared base is drift in both profiles, each hunk under its profile.
    let base = dir.join("profiles/base.toml");
    let before = std::fs::read_to_string(&base).unwrap();
    std::fs::write(
        &base,
        before.replace("interval = \"30s\"", "interval = \"15s\""),
    )
    .unwrap();
    let out = run(&["check", "profiles"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let diff = text(&out.stdout);
    assert!(
        diff.contains("# profiles/eu/prod.toml -> out/prod"),
        "{diff}"
    );
    assert!(
        diff.contains("# profiles/staging.toml -> out/staging"),
        "{diff}"
    );
    assert!(
        text(&out.stderr).contains("baogen render profiles/eu/prod.toml profiles/staging.toml"),
        "{}",
        text(&out.stderr)
    );

    // Named twice, once as a file and once through its directory: loaded once.
    let out = run(&["check", "profiles", "profiles/staging.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).matches("# profiles/staging.toml").count(),
        1
    );

    // A single-profile command given a directory of several names them and refuses.
    let out = run(&["explain", "profiles"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("holds 2: profiles/eu/prod.toml, profiles/staging.toml"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["explain", "profiles/eu"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // A base named as a profile is refused: it is never rendered on its own.
    let out = run(&["render", "profiles/base.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("error[BG0905]"),
        "{}",
        text(&out.stderr)
    );
}

/// The KRM function run once per environment over one package, as a kpt pipeline with two
/// baogen steps runs it: the second environment adds its objects beside the first's, a re-run
/// of a step replaces only its own objects (functions are idempotent), and a step for another
/// profile that would emit an object already there is refused, as is one over an object baogen
/// did not write.
#[test]
fn krm_steps_for_two_environments_share_no_object_and_never_take_one_over() {
    let tmp = TempDir::new("env-krm");
    let pkg = tmp.path();
    let environments = common::root().join("profiles/environments");
    std::fs::create_dir_all(pkg.join("profiles/environments")).unwrap();
    std::fs::create_dir_all(pkg.join("profiles/examples")).unwrap();
    for f in ["base.toml", "staging.toml", "prod.toml"] {
        std::fs::copy(
            environments.join(f),
            pkg.join("profiles/environments").join(f),
        )
        .unwrap();
    }
    // A second profile for prod's namespace: every object it emits is prod's too.
    std::fs::copy(
        environments.join("prod.toml"),
        pkg.join("profiles/environments/prod-again.toml"),
    )
    .unwrap();
    std::fs::copy(
        common::root().join("profiles/examples/kubernetes-ca.crt"),
        pkg.join("profiles/examples/kubernetes-ca.crt"),
    )
    .unwrap();
    let step = |input: &str, profile: &str| {
        let config = format!(
            "apiVersion: baogen.dev/v1alpha1\nkind: BaogenProfile\nmetadata: {{name: env}}\nspec:\n  profile: profiles/environments/{profile}.toml\n"
        );
        let mut list: serde_json::Value = serde_saphyr::from_str(input).unwrap();
        list["functionConfig"] = serde_saphyr::from_str(&config).unwrap();
        common::output_with_stdin(
            common::baogen().arg("krm").current_dir(pkg),
            serde_json::to_string(&list).unwrap().as_bytes(),
        )
    };
    let empty = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n";
    let staging = step(empty, "staging");
    assert_eq!(staging.status.code(), Some(0), "{}", text(&staging.stderr));
    let both = step(&text(&staging.stdout), "prod");
    assert_eq!(both.status.code(), Some(0), "{}", text(&both.stderr));
    let items = |out: &std::process::Output| -> Vec<serde_json::Value> {
        let list: serde_json::Value = serde_saphyr::from_str(&text(&out.stdout)).unwrap();
        list["items"].as_array().unwrap().clone()
    };
    let ids: Vec<baogen::identity::Identity> = items(&both)
        .iter()
        .map(baogen::identity::Identity::of)
        .collect();
    assert!(ids
        .iter()
        .any(|i| i.namespace.as_deref() == Some("openbao-staging")));
    assert!(ids
        .iter()
        .any(|i| i.namespace.as_deref() == Some("openbao-prod")));
    for (i, a) in ids.iter().enumerate() {
        assert!(!ids[..i].iter().any(|b| b.same(a)), "{a} twice");
    }
    // The same step again: the same package.
    let again = step(&text(&both.stdout), "prod");
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(items(&again), items(&both));
    // Another profile emitting prod's objects: refused, the package untouched.
    let other = step(&text(&both.stdout), "prod-again");
    assert_ne!(other.status.code(), Some(0));
    let err = text(&other.stderr);
    assert!(
        err.contains("already holds") && err.contains("from profiles/environments/prod.toml"),
        "{err}"
    );
    // An object of the same identity that baogen did not write is not taken over either.
    let mut list: serde_json::Value = serde_saphyr::from_str(empty).unwrap();
    list["items"] = serde_json::json!([{
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "openbao-active-metrics", "namespace": "openbao-prod"},
        "spec": {"ports": [{"port": 1}]},
    }]);
    let mine = step(&serde_json::to_string(&list).unwrap(), "prod");
    assert_ne!(mine.status.code(), Some(0));
    assert!(
        text(&mine.stderr).contains("not written by baogen"),
        "{}",
        text(&mine.stderr)
    );
}
