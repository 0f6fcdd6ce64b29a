//! The e2e scenario for the authenticated active scrape.

use serde_json::json;

use crate::harness::{Http, Prom};

use super::env::*;

/// The authenticated active scrape, plus every `baogen verify` failure we can cause locally.
pub(super) fn scenario_active() {
    let Single {
        env,
        http,
        api,
        api_port,
        metrics,
        bao,
        root,
    } = single_server("active", 18200);

    // The generated policy, and a token with only that policy.
    let policy = env.read("openbao/policies/openbao-metrics.hcl");
    let (status, v) = http.api(
        "PUT",
        &format!("{api}/v1/sys/policies/acl/openbao-metrics"),
        Some(&root),
        &json!({ "policy": policy }),
    );
    assert_eq!(status, 204, "policy write: {v}");
    let token = create_token(&http, &api, &root, &["openbao-metrics"]);
    let other = create_token(&http, &api, &root, &["default"]);

    let m = metrics_url("https", metrics);
    let (status, body) = get(&http, &m, Some(&token));
    assert_eq!(status, 200, "metrics with the metrics token: {body}");
    assert!(body.contains("vault_core_active"), "{body}");
    assert_eq!(get(&http, &m, None).0, 403, "metrics without a token");
    assert_eq!(
        get(&http, &m, Some(&other)).0,
        403,
        "token without the policy"
    );
    let (status, body) = get(&http, &metrics_url("https", api_port), Some(&root));
    assert_eq!(status, 403, "client listener must refuse metrics: {body}");
    assert!(
        body.contains("metrics endpoint is disabled for this listener"),
        "{body}"
    );
    let (status, body) = get(
        &http,
        &format!("https://127.0.0.1:{metrics}/v1/sys/health"),
        None,
    );
    assert_eq!(
        status, 404,
        "metrics-only listener must refuse other paths: {body}"
    );
    assert!(
        body.contains("this listener only serves the metrics endpoint"),
        "{body}"
    );

    let mut prom = env.start_prometheus(Some(&token));
    let plain = Http::new(None);
    prom.wait_value(&plain, "up{job=\"openbao\"}", 1.0, PROM_WAIT);
    prom.wait_value(&plain, "vault_core_active", 1.0, PROM_WAIT);

    // baogen verify: all good, then each troubleshooting case we can reproduce here.
    let openbao = format!("https://127.0.0.1:{metrics}");
    let ca = env.ca().display().to_string();
    let token_file = env
        .render
        .join("prometheus/metrics.token")
        .display()
        .to_string();
    let direct = |ca: &str, token_file: &str| {
        vec![
            "--openbao".to_string(),
            openbao.clone(),
            "--ca".into(),
            ca.into(),
            "--token-file".into(),
            token_file.into(),
        ]
    };
    let call = |prom: &Prom, v: Vec<String>| {
        let list: Vec<&str> = v.iter().map(String::as_str).collect();
        env.verify(prom, &list)
    };
    let (code, out) = call(&prom, direct(&ca, &token_file));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("PASS").count(), 3, "{out}");

    let wrong_token = env.dir().join("wrong.token");
    std::fs::write(&wrong_token, &other).unwrap();
    let (code, out) = call(&prom, direct(&ca, &wrong_token.display().to_string()));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("HTTP 403")
            && out.contains("hint: The target returns 403: check the OpenBao token policy"),
        "{out}"
    );

    let wrong_ca = env.tls.join("wrong-ca.crt").display().to_string();
    let (code, out) = call(&prom, direct(&wrong_ca, &token_file));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("hint: The target has a TLS error: check the CA certificate"),
        "{out}"
    );

    // The same two failures as Prometheus sees them (its lastError picks the hint).
    let prom_dir = env.render.join("prometheus");
    std::fs::write(prom_dir.join("metrics.token"), &other).unwrap();
    prom.wait_value(&plain, "up{job=\"openbao\"}", 0.0, PROM_WAIT);
    let (code, out) = call(&prom, vec![]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("403") && out.contains("hint: The target returns 403"),
        "{out}"
    );
    std::fs::write(prom_dir.join("metrics.token"), &token).unwrap();
    prom.wait_value(&plain, "up{job=\"openbao\"}", 1.0, PROM_WAIT);
    std::fs::copy(env.tls.join("wrong-ca.crt"), prom_dir.join("ca.crt")).unwrap();
    prom.wait_value(&plain, "up{job=\"openbao\"}", 0.0, PROM_WAIT);
    let (code, out) = call(&prom, vec![]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("hint: The target has a TLS error"), "{out}");
    std::fs::copy(env.ca(), prom_dir.join("ca.crt")).unwrap();
    prom.wait_value(&plain, "up{job=\"openbao\"}", 1.0, PROM_WAIT);
    env.assert_alerts(&prom, &plain, &[]);

    // Sealed: authenticated metrics answer 503, so up drops and only OpenBaoUnreachable can fire.
    seal(&http, &api, &root);
    let (status, body) = get(&http, &m, Some(&token));
    assert_eq!(status, 503, "sealed server, authenticated metrics: {body}");
    prom.wait_value(&plain, "up{job=\"openbao\"}", 0.0, PROM_WAIT);
    let (code, out) = call(&prom, vec![]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("hint: OpenBao answers 503"), "{out}");
    env.assert_alerts(&prom, &plain, &["OpenBaoUnreachable"]);
    bao.proc.assert_no_unknown_fields();
}
