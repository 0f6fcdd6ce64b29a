//! The e2e scenario for the private all-node scrape.

use crate::common::{self};
use crate::harness::Http;

use super::env::*;

/// The private all-node scrape: unauthenticated metrics-only listener over verified TLS.
pub(super) fn scenario_all_node() {
    let Single {
        env,
        http,
        api,
        api_port,
        metrics,
        bao,
        root,
    } = single_server("all-node", 18300);
    assert!(
        !env.render.join("openbao/policies").exists(),
        "an unauthenticated scrape needs no metrics policy"
    );

    let m = metrics_url("https", metrics);
    let (status, body) = get(&http, &m, None);
    core_lines("all-node unsealed", &body);
    assert_eq!(status, 200, "unauthenticated metrics: {body}");
    assert!(body.contains("vault_core_active"), "{body}");
    let (status, body) = get(&http, &metrics_url("https", api_port), Some(&root));
    assert_eq!(status, 403, "client listener must refuse metrics: {body}");
    let (status, body) = get(
        &http,
        &format!("https://127.0.0.1:{metrics}/v1/sys/health"),
        None,
    );
    assert_eq!(
        status, 404,
        "metrics-only listener must refuse other paths: {body}"
    );

    let mut prom = env.start_prometheus(None);
    let plain = Http::new(None);
    prom.wait_value(&plain, "up{job=\"openbao\"}", 1.0, PROM_WAIT);
    prom.wait_value(&plain, "vault_core_active", 1.0, PROM_WAIT);
    let openbao = format!("https://127.0.0.1:{metrics}");
    let ca = env.ca().display().to_string();
    let (code, out) = env.verify(&prom, &["--openbao", &openbao, "--ca", &ca]);
    assert_eq!(code, 0, "{out}");
    let wrong = env.tls.join("wrong-ca.crt").display().to_string();
    let (code, out) = env.verify(&prom, &["--openbao", &openbao, "--ca", &wrong]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("hint: The target has a TLS error"), "{out}");
    // A job Prometheus has no target for: the "no endpoints" troubleshooting hint.
    let elsewhere = env.dir().join("all-node-other-job.toml");
    let text = std::fs::read_to_string(&env.variant).unwrap();
    std::fs::write(
        &elsewhere,
        text.replace("[scrape]\n", "[scrape]\njob = \"openbao-elsewhere\"\n"),
    )
    .unwrap();
    let out = common::baogen()
        .arg("verify")
        .arg(&elsewhere)
        .args(["--prometheus", &prom.url])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("hint: No target for job `openbao-elsewhere`")
            && text.contains("needs get, update and patch on pods"),
        "{text}"
    );
    env.assert_alerts(&prom, &plain, &[]);

    // Sealed: unauthenticated metrics still answer 200, so up stays 1 and OpenBaoSealed fires
    // (where the active profile can only see OpenBaoUnreachable).
    seal(&http, &api, &root);
    let (status, body) = get(&http, &m, None);
    core_lines("all-node sealed", &body);
    assert_eq!(
        status, 200,
        "sealed server, unauthenticated metrics: {body}"
    );
    let unsealed: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("vault_core_unsealed"))
        .collect();
    assert!(
        !unsealed.is_empty() && unsealed.iter().all(|l| l.ends_with(" 0")),
        "{body}"
    );
    prom.wait_value(
        &plain,
        "max without (exported_cluster) (vault_core_unsealed{job=\"openbao\"})",
        0.0,
        PROM_WAIT,
    );
    prom.wait_value(&plain, "up{job=\"openbao\"}", 1.0, PROM_WAIT);
    // The only node is sealed, so there is no active node either; all-node sees both.
    prom.wait_value(
        &plain,
        "sum(vault_core_active{job=\"openbao\"})",
        0.0,
        PROM_WAIT,
    );
    env.assert_alerts(&prom, &plain, &["OpenBaoSealed", "OpenBaoNoActiveNode"]);
    bao.proc.assert_no_unknown_fields();
}
