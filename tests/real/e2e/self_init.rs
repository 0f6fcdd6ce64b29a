//! The self-initialising example (profiles/examples/self-init.toml) on the real server: the
//! generated server.hcl (service registration stripped, as for every single-server scenario),
//! the seal key at a temporary path, and the generated self-init.hcl boot from empty storage
//! with no `operator init` and no unseal; the administrator logs in with the password from the
//! environment variable the profile names, and `baogen plan` finds every policy, the token role,
//! the mount, its config and every role as the profile declares them. A restart on the same
//! storage skips self-init and unseals by itself.

use std::time::Instant;

use crate::harness::{Bao, Http};

use super::env::*;

const PASSWORD: &str = "first-boot-password-from-the-environment";

pub(super) fn scenario_self_init() {
    let env = Env::prepare("self-init");
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
    let variable = [("BAO_INITIAL_ADMIN_PASSWORD", PASSWORD)];

    let booted = Instant::now();
    let mut bao = Bao::start_with_env("self-init", env.dir(), &configs, api.clone(), &variable);
    bao.wait_health(&http, 200);
    let configured = booted.elapsed();
    let token = login(&http, &api, PASSWORD);
    eprintln!("[self-init] first start to configured and unsealed: {configured:?}");

    let token_file = env.dir().join("admin-token");
    std::fs::write(&token_file, &token).unwrap();
    let plan = |what: &str| {
        let out = crate::common::baogen()
            .arg("plan")
            .arg(&env.variant)
            .args(["--addr", &api, "--token-file"])
            .arg(&token_file)
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
    };
    plan("after self-init");

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
        &variable,
    );
    bao.wait_health(&http, 200);
    assert!(!bao.proc.log_text().contains("security barrier initialized"));
    let _ = login(&http, &api, PASSWORD);
    plan("after a restart");
    bao.proc.assert_no_unknown_fields();
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
