//! The e2e scenario for the Compose demo.

use crate::harness::{Bao, Http};

use super::env::*;

/// The Compose demo without Docker: every generated node config as its own `bao` process,
/// forming the real Raft cluster, scraped by Prometheus with the generated config.
pub(super) fn scenario_demo() {
    let env = Env::prepare("demo");
    let http = Http::new(None);
    let nodes = [
        ("openbao-node0", 18410, 18414),
        ("openbao-node1", 18420, 18424),
        ("openbao-node2", 18430, 18434),
    ];
    let start = |name: &str, api: u16| {
        std::fs::create_dir_all(env.dir().join(name).join("raft")).unwrap();
        let config = env.render.join(format!("compose/{name}.hcl"));
        Bao::start(
            name,
            env.dir(),
            &[config],
            format!("http://127.0.0.1:{}", env.port(api)),
        )
    };
    let mut baos: Vec<Bao> = nodes.iter().map(|(n, a, _)| start(n, *a)).collect();
    baos[0].wait_listening(&http);
    let (key, _root) = baos[0].init(&http);
    baos[0].unseal(&http, &key);
    baos[0].wait_health(&http, 200);
    for b in &mut baos[1..] {
        b.wait_listening(&http);
        b.unseal(&http, &key);
    }
    for b in &mut baos[1..] {
        b.wait_health(&http, 429);
    }

    for (name, api, metrics) in nodes {
        let (status, body) = get(&http, &metrics_url("http", env.port(metrics)), None);
        assert_eq!(status, 200, "{name}: unauthenticated metrics: {body}");
        core_lines(name, &body);
        assert!(body.contains("vault_core_unsealed"), "{name}: {body}");
        let (status, _) = get(&http, &metrics_url("http", env.port(api)), None);
        assert_eq!(status, 403, "{name}: client listener must refuse metrics");
        let (status, _) = get(
            &http,
            &format!("http://127.0.0.1:{}/v1/sys/health", env.port(metrics)),
            None,
        );
        assert_eq!(
            status, 404,
            "{name}: metrics-only listener must refuse other paths"
        );
    }
    // What a 3-node Raft cluster exposes about its peers, for alert authors.
    let (_, body) = get(&http, &metrics_url("http", env.port(18414)), None);
    let raft: Vec<&str> = body
        .lines()
        .filter(|l| {
            !l.starts_with('#')
                && (l.contains("autopilot")
                    || l.contains("raft_peers")
                    || l.contains("raft_storage"))
        })
        .collect();
    eprintln!(
        "[demo] Raft and autopilot series on the active node:\n{}",
        raft.join("\n")
    );

    let mut prom = env.start_prometheus(None);
    prom.wait_value(&http, "count(up{job=\"openbao\"} == 1)", 3.0, PROM_WAIT);
    prom.wait_value(
        &http,
        "count(vault_core_active{job=\"openbao\"} == 1)",
        1.0,
        PROM_WAIT,
    );
    prom.wait_value(
        &http,
        "sum(vault_core_active{job=\"openbao\"})",
        1.0,
        PROM_WAIT,
    );
    // The active node counts the Raft peers: the series a peer-count alert can use.
    prom.wait_value(
        &http,
        "max(vault_raft_peers{job=\"openbao\"})",
        3.0,
        PROM_WAIT,
    );
    let (code, out) = env.verify(
        &prom,
        &[
            "--openbao",
            &format!("http://127.0.0.1:{}", env.port(18414)),
        ],
    );
    assert_eq!(code, 0, "{out}");
    env.assert_alerts(&prom, &http, &[]);

    // A restarted standby comes back sealed; its unauthenticated metrics still answer.
    let restarted = baos.pop().unwrap();
    drop(restarted);
    let mut node2 = start("openbao-node2", 18430);
    node2.wait_listening(&http);
    prom.wait_value(
        &http,
        "max without (exported_cluster) (vault_core_unsealed{node=\"openbao-node2\"})",
        0.0,
        PROM_WAIT,
    );
    prom.wait_value(&http, "count(up{job=\"openbao\"} == 1)", 3.0, PROM_WAIT);
    env.assert_alerts(&prom, &http, &["OpenBaoSealed"]);
    for b in baos.iter().chain([&node2]) {
        b.proc.assert_no_unknown_fields();
    }
}
