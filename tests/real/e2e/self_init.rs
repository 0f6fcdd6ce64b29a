//! The self-initialising example (profiles/examples/self-init.toml) on the real server: the
//! generated server.hcl (service registration stripped, as for every single-server scenario),
//! the seal key at a temporary path, and the generated self-init.hcl boot from empty storage
//! with no `operator init` and no unseal; the administrator logs in with the password from the
//! environment variable the profile names, and `baogen plan` finds every policy, the token role,
//! the mount, its config and every role as the profile declares them. A restart on the same
//! storage skips self-init and unseals by itself. Then every engine example's roles, in place of
//! the example's own, self-initialise a fresh server and `plan` finds them as declared.

use std::time::Instant;

use crate::harness::{Bao, Http};

use super::env::*;

const PASSWORD: &str = "first-boot-password-from-the-environment";

/// A server started from empty storage with the variant's generated files, configured by
/// self-init, and the admin's token.
struct FirstBoot {
    bao: Bao,
    http: Http,
    api: String,
    metrics: u16,
    token_file: std::path::PathBuf,
    configs: [std::path::PathBuf; 3],
}

const VARIABLE: [(&str, &str); 1] = [("BAO_INITIAL_ADMIN_PASSWORD", PASSWORD)];

fn first_boot(env: &Env, name: &str) -> FirstBoot {
    let http = Http::new(Some(&env.ca()));
    let (api_port, cluster, metrics) = (env.port(18600), env.port(18601), env.port(18604));
    let api = format!("https://127.0.0.1:{api_port}");
    let seal_dir = env.dir().join("seal");
    std::fs::create_dir_all(&seal_dir).unwrap();
    std::fs::write(seal_dir.join("unseal.key"), rand_key()).unwrap();
    let to_tmp = |text: String| text.replace("/openbao/seal/", &format!("{}/", seal_dir.display()));
    let server = env.server_hcl_without_k8s_registration();
    std::fs::write(&server, to_tmp(std::fs::read_to_string(&server).unwrap())).unwrap();
    let storage = env.storage_hcl(api_port, cluster);
    let self_init = env.render.join("openbao/self-init.hcl");
    let configs = [server, storage, self_init];

    let booted = Instant::now();
    let mut bao = Bao::start_with_env(name, env.dir(), &configs, api.clone(), &VARIABLE);
    bao.wait_health(&http, 200);
    eprintln!(
        "[{name}] first start to configured and unsealed: {:?}",
        booted.elapsed()
    );
    let token_file = env.dir().join("admin-token");
    std::fs::write(&token_file, login(&http, &api, PASSWORD)).unwrap();
    FirstBoot {
        bao,
        http,
        api,
        metrics,
        token_file,
        configs,
    }
}

/// `baogen plan` against the server finds nothing to change.
fn plan_is_empty(env: &Env, run: &FirstBoot, what: &str) {
    let out = crate::common::baogen()
        .arg("plan")
        .arg(&env.variant)
        .args(["--addr", &run.api, "--token-file"])
        .arg(&run.token_file)
        .arg("--ca-cert")
        .arg(env.ca())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "plan {what}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("No changes."), "{text}");
}

pub(super) fn scenario_self_init() {
    let env = Env::prepare("self-init");
    let run = first_boot(&env, "self-init");
    plan_is_empty(&env, &run, "after self-init");
    let FirstBoot {
        bao,
        http,
        api,
        metrics,
        configs,
        ..
    } = run;
    let token = std::fs::read_to_string(env.dir().join("admin-token")).unwrap();

    // The scrape token comes from the token role: orphan, periodic, the metrics policy only,
    // bound to the pod network, so it is refused from loopback.
    let (status, v) = http.api(
        "POST",
        &format!("{api}/v1/auth/token/create/openbao-metrics"),
        Some(&token),
        &serde_json::json!({}),
    );
    assert_eq!(status, 200, "{v}");
    let auth = &v["auth"];
    assert_eq!(auth["orphan"], true, "{v}");
    assert_eq!(auth["lease_duration"], 86_400, "{v}");
    let mut policies: Vec<&str> = auth["token_policies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    policies.sort();
    assert_eq!(policies, ["default", "openbao-metrics"], "{v}");
    let scrape_token = auth["client_token"].as_str().unwrap();
    let (status, _) = get(&http, &metrics_url("https", metrics), Some(scrape_token));
    assert_eq!(
        status, 403,
        "a token bound to 10.42.0.0/16 must not work from 127.0.0.1"
    );

    // A restart on the same storage: no second initialisation, unsealed by the static seal.
    bao.proc.assert_no_unknown_fields();
    let first_log = bao.proc.log_text();
    assert!(
        first_log.contains("security barrier initialized"),
        "{first_log}"
    );
    drop(bao);
    let mut bao = Bao::start_with_env(
        "self-init-restart",
        env.dir(),
        &configs,
        api.clone(),
        &VARIABLE,
    );
    bao.wait_health(&http, 200);
    assert!(!bao.proc.log_text().contains("security barrier initialized"));
    let _ = login(&http, &api, PASSWORD);
    let restarted = FirstBoot {
        bao,
        http,
        api,
        metrics,
        token_file: env.dir().join("admin-token"),
        configs,
    };
    plan_is_empty(&env, &restarted, "after a restart");
    restarted.bao.proc.assert_no_unknown_fields();
    drop(restarted);

    // Every engine example's roles through self-init: rules, selectors, templates, labels and
    // annotations as HCL reach the real engine as `apply` would write them.
    let variant: toml::Table = std::fs::read_to_string(variant_path("self-init"))
        .unwrap()
        .parse()
        .unwrap();
    for (name, example) in [
        ("engine-confined", "engine-confined"),
        ("engine-reference", "engine-reference"),
    ] {
        let path = crate::common::root().join(format!("profiles/examples/{example}.toml"));
        let mut engine: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        let mut section = engine
            .remove("kubernetes_secrets")
            .expect("an engine example");
        if let Some(ca) = section
            .get_mut("config")
            .and_then(|c| c.get_mut("kubernetes_ca_cert_file"))
        {
            let file = crate::common::root()
                .join("profiles/examples")
                .join(ca.as_str().unwrap());
            *ca = toml::Value::String(file.display().to_string());
        }
        let mut merged = variant.clone();
        merged.insert("kubernetes_secrets".into(), section);
        let env = Env::prepare_text(
            if name == "engine-confined" {
                "self-init-engine-confined"
            } else {
                "self-init-engine-reference"
            },
            &toml::to_string(&merged).unwrap(),
        );
        let run = first_boot(&env, name);
        plan_is_empty(
            &env,
            &run,
            &format!("after self-init with {example}'s roles"),
        );
        run.bao.proc.assert_no_unknown_fields();
    }
}

/// 32 bytes for the static seal, as `openssl rand 32` makes them.
fn rand_key() -> Vec<u8> {
    let out = std::process::Command::new("openssl")
        .args(["rand", "32"])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}
