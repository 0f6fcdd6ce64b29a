//! The scrape token's life on the real server, with a 15-second period: `baogen apply` writes
//! the metrics policy and the token role; a token minted from the role (as VERIFY.md does) is
//! renewed with exactly the script the generated CronJob runs, and Prometheus keeps scraping
//! past the period; left alone, the token expires, the scrape gets 403, `up` drops to 0, and
//! the generated OpenBaoUnreachable alert fires on the recorded series.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common;

use super::env::*;

pub(super) fn scenario_scrape_token() {
    let Single {
        env,
        http,
        api,
        metrics,
        bao,
        root,
        ..
    } = single_server("token-expiry", 18200);
    let root_file = env.dir().join("root-token");
    std::fs::write(&root_file, &root).unwrap();
    let out = common::baogen()
        .arg("apply")
        .arg(&env.variant)
        .args(["--yes", "--addr", &api, "--token-file"])
        .arg(&root_file)
        .arg("--ca-cert")
        .arg(env.ca())
        .output()
        .unwrap();
    assert!(out.status.success(), "apply: {out:?}");

    // VERIFY.md's recipe: a token from the role, not a child of the operator's token.
    let (status, v) = http.api(
        "POST",
        &format!("{api}/v1/auth/token/create/openbao-metrics"),
        Some(&root),
        &serde_json::json!({}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["auth"]["orphan"], true, "{v}");
    assert_eq!(v["auth"]["lease_duration"], 15, "{v}");
    let token = v["auth"]["client_token"].as_str().unwrap().to_string();
    let mut prom = env.start_prometheus(Some(&token));
    prom.wait_value(&http, "up{job=\"openbao\"}", 1.0, PROM_WAIT);

    // The generated CronJob's own command, its mounts pointed at temporary files.
    let cron: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(
            common::root()
                .join("golden/examples/self-init/kubernetes/scrape-token-renewal-cronjob.yaml"),
        )
        .unwrap(),
    )
    .unwrap();
    let container = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    let command: Vec<String> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let mounted = env.dir().join("cronjob");
    std::fs::create_dir_all(mounted.join("token")).unwrap();
    std::fs::write(mounted.join("token/token"), &token).unwrap();
    let script = command[2].replace("/openbao/token/", &format!("{}/token/", mounted.display()));
    assert_ne!(script, command[2], "the script reads the mounted token");
    let bao_bin = common::tool("bao").expect("bao");
    let path = format!(
        "{}:{}",
        bao_bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let renew = || {
        let out = std::process::Command::new(&command[0])
            .args([&command[1], &script])
            .env_clear()
            .env("PATH", &path)
            .env("BAO_ADDR", &api)
            .env("BAO_CACERT", env.ca())
            .output()
            .unwrap();
        assert!(out.status.success(), "the CronJob's renewal: {out:?}");
        assert!(
            out.stdout.is_empty(),
            "the renewal prints nothing (its response holds the token)"
        );
        assert!(!String::from_utf8_lossy(&out.stderr).contains(&token));
    };

    // Renewed every 4 s, a quarter of the period as the CronJob's schedule is: still scraped
    // well past 15 s.
    let renewing = Instant::now();
    while renewing.elapsed() < Duration::from_secs(25) {
        renew();
        std::thread::sleep(Duration::from_secs(4));
    }
    assert_eq!(
        get(&http, &metrics_url("https", metrics), Some(&token)).0,
        200
    );
    prom.wait_value(&http, "up{job=\"openbao\"}", 1.0, PROM_WAIT);

    // Not renewed: it expires within the period, and the scrape fails with 403.
    crate::harness::wait_for(
        "the unrenewed token to expire",
        Duration::from_secs(30),
        || (get(&http, &metrics_url("https", metrics), Some(&token)).0 == 403).then_some(()),
    );
    prom.wait_value(&http, "up{job=\"openbao\"}", 0.0, PROM_WAIT);
    env.assert_alerts(&prom, &http, &["OpenBaoUnreachable"]);
    drop(bao);
}
