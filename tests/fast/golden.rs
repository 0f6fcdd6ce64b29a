//! Golden tests: the committed render of every shipped profile is the contract.
//! `BAOGEN_BLESS=1 cargo test --test fast -- golden::` rewrites golden/ and schemas/ on purpose.

use crate::common;

use std::path::{Path, PathBuf};

use baogen::{emit, profile, write};

fn bless() -> bool {
    std::env::var("BAOGEN_BLESS").is_ok_and(|v| v == "1")
}

/// Every profile with a golden directory: the shipped ones and the examples.
pub(crate) fn shipped_profiles() -> Vec<PathBuf> {
    // The way `baogen check profiles/` finds them: bases (no `profile` key) are not rendered.
    baogen::profile::discover::profiles_under(&common::root().join("profiles"))
        .unwrap_or_else(|d| panic!("{d:?}"))
        .into_iter()
        .map(|(_, loaded)| loaded.unwrap_or_else(|d| panic!("{d:?}")).path)
        .collect()
}

fn check_profile(path: &Path) -> Result<(), String> {
    let p =
        profile::load(path).map_err(|d| format!("{} does not validate: {d:#?}", path.display()))?;
    let dir = p
        .output
        .clone()
        .ok_or_else(|| format!("{} declares no output", path.display()))?;
    let art = emit::render(&p);
    if bless() {
        write::stage(&dir, &art.files, false)
            .and_then(|s| write::commit(vec![s]))
            .map_err(|e| format!("{}: {e:#}", e.path().display()))?;
        return Ok(());
    }
    let drift = write::compare(&dir, &art.files);
    if drift.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "{} no longer renders golden output {}:\n",
        path.display(),
        dir.display()
    );
    for d in drift {
        match d {
            write::Drift::Changed { diff, .. } => msg.push_str(&diff),
            write::Drift::Missing { path } => {
                msg.push_str(&format!("missing from golden: {path}\n"))
            }
            write::Drift::Extra { path } => {
                msg.push_str(&format!("in golden but no longer rendered: {path}\n"))
            }
            write::Drift::Unreadable { path, reason } => msg.push_str(&format!(
                "not a regular file in golden: {path} ({reason})\n"
            )),
        }
    }
    msg.push_str(
        "\nIf the change is intended, review it and run: BAOGEN_BLESS=1 cargo test --test fast -- golden::\n",
    );
    Err(msg)
}

#[test]
fn shipped_profiles_render_their_golden_output() {
    let profiles = shipped_profiles();
    assert!(
        profiles.len() >= 3,
        "expected the three shipped profiles, found {profiles:?}"
    );
    let failures: Vec<String> = profiles
        .iter()
        .filter_map(|p| check_profile(p).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn committed_schemas_match_the_rust_types() {
    let schemas = [
        (
            "schemas/profile.schema.json",
            profile::schema::schema_json(),
        ),
        (
            "schemas/profile-base.schema.json",
            profile::schema::base_schema_json(),
        ),
    ];
    for (file, generated) in schemas {
        let path = common::root().join(file);
        if bless() {
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            let diff = similar::TextDiff::from_lines(&committed, &generated)
                .unified_diff()
                .header("committed", "generated")
                .to_string();
            panic!("{file} is out of date:\n{diff}\nRun: BAOGEN_BLESS=1 cargo test --test fast -- golden::");
        }
    }
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let out = common::run_baogen(&["schema"]);
    assert!(out.status.success());
    let committed =
        std::fs::read_to_string(common::root().join("schemas/profile.schema.json")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
}

#[test]
fn every_shipped_profile_has_every_artifact_of_its_kind() {
    use baogen::model::Kind;
    for path in shipped_profiles()
        .iter()
        .filter(|p| p.parent().unwrap().ends_with("profiles"))
    {
        let p = profile::load(path).unwrap();
        let files = emit::render(&p).files;
        let has = |f: &str| files.contains_key(f);
        let mut want = vec![
            "openbao/server.hcl",
            "prometheus/prometheus.yml",
            "prometheus/rules.yml",
            "VERIFY.md",
        ];
        match p.kind {
            Kind::Active => want.extend([
                "openbao/policies/openbao-metrics.hcl",
                "kubernetes/service.yaml",
                "kubernetes/servicemonitor.yaml",
                "kubernetes/prometheusrule.yaml",
                "kubernetes/role-service-registration.yaml",
                "kubernetes/rolebinding-service-registration.yaml",
                "kubernetes/patches/openbao-statefulset-env.yaml",
                "kubernetes/kustomization.yaml",
            ]),
            Kind::AllNode => want.extend([
                "kubernetes/service.yaml",
                "kubernetes/podmonitor.yaml",
                "kubernetes/prometheusrule.yaml",
                "kubernetes/networkpolicy.yaml",
                "kubernetes/role-service-registration.yaml",
                "kubernetes/rolebinding-service-registration.yaml",
                "kubernetes/patches/openbao-statefulset-env.yaml",
                "kubernetes/kustomization.yaml",
            ]),
            Kind::Demo => want.extend([
                "compose/compose.yaml",
                "compose/openbao-node0.hcl",
                "compose/openbao-node1.hcl",
                "compose/openbao-node2.hcl",
            ]),
        }
        for f in want {
            assert!(
                has(f),
                "{} is missing {f}; it renders {:?}",
                path.display(),
                files.keys().collect::<Vec<_>>()
            );
        }
    }
}

/// The README's coverage table is generated from the tables the rules, alerts and dashboards
/// are built from; blessing rewrites it between its markers.
#[test]
fn readme_coverage_table_is_current() {
    let path = common::root().join("README.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- coverage -->\n", "<!-- /coverage -->");
    let i = text.find(start).expect("README has a coverage marker") + start.len();
    let j = text[i..]
        .find(end)
        .expect("README has a coverage end marker")
        + i;
    let table = baogen::emit::coverage::table();
    if text[i..j] != table {
        if bless() {
            std::fs::write(&path, format!("{}{table}{}", &text[..i], &text[j..])).unwrap();
            return;
        }
        panic!(
            "README.md's coverage table is out of date; expected:\n{table}\nRun: BAOGEN_BLESS=1 cargo test --test fast -- golden::"
        );
    }
}
