//! The e2e scenario for the Compose demo.

use std::path::Path;

use crate::harness::{Bao, Http};

use super::env::*;
use super::observe;

/// The Compose demo without Docker, zero-touch as the stack runs it: the init step's script
/// (from compose.yaml) makes the seal key and the admin's password, every generated node
/// config runs as its own `bao` process with `/openbao/init` pointed at a temporary
/// directory; nobody runs `operator init` or unseals. node0 self-initialises, node1 and node2
/// join and unseal themselves; Prometheus scrapes the three with the generated config.
pub(super) fn scenario_demo() {
    let env = Env::prepare("demo");
    let http = Http::new(None);
    let nodes = [
        ("openbao-node0", 18410, 18414),
        ("openbao-node1", 18420, 18424),
        ("openbao-node2", 18430, 18434),
    ];
    let init = env.dir().join("init");
    run_init_step(&env, &init);
    let key = std::fs::read(init.join("unseal.key")).unwrap();
    let password = std::fs::read_to_string(init.join("admin-password")).unwrap();
    assert_eq!(key.len(), 32, "the static seal takes a 32-byte key");
    assert!(password.len() == 32 && password.bytes().all(|b| b.is_ascii_alphanumeric()));
    // A second start of the stack keeps both files.
    run_init_step(&env, &init);
    assert_eq!(std::fs::read(init.join("unseal.key")).unwrap(), key);

    let booted = std::time::Instant::now();
    let mut baos: Vec<Bao> = nodes
        .iter()
        .map(|(n, a, _)| start_node(&env, &init, n, *a, n))
        .collect();
    baos[0].wait_health(&http, 200);
    for b in &mut baos[1..] {
        b.wait_health(&http, 429);
    }
    eprintln!("[demo] three nodes from empty storage to unsealed and joined, with no init or unseal step: {:?}", booted.elapsed());

    // The way in self-init created, and what it configured, read back: `baogen plan` against
    // node0 with the admin's token finds nothing to change.
    let node0 = format!("http://127.0.0.1:{}", env.port(18410));
    let token = login(&http, &node0, &password);
    let token_file = env.dir().join("admin-token");
    std::fs::write(&token_file, &token).unwrap();
    let out = crate::common::baogen()
        .arg("plan")
        .arg(&env.variant)
        .args(["--addr", &node0, "--token-file"])
        .arg(&token_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "plan after self-init: {out:?}");
    let (status, v) = http
        .get(
            &format!("{node0}/v1/sys/policies/acl/baogen-admin"),
            Some(&token),
        )
        .unwrap();
    assert_eq!(status, 200, "the admin policy: {v}");

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

    // The generated prometheus.yml sends alerts to this Alertmanager (prometheus.alertmanagers).
    let mut am = observe::Alertmanager::start(env.dir(), env.port(18490));
    let mut prom = env.start_prometheus(None);
    prom.wait_value(&http, "count(up{job=\"openbao\"} == 1)", 3.0, PROM_WAIT);
    // Traffic for the rate and latency rules while they are checked (the demo keeps a
    // summary's series for 30 s after its last sample): logins write tokens through Raft, the
    // lookups are ordinary requests.
    let traffic = observe::Traffic::start(&node0, &password);
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
    observe::recording_rules_return_data(&env, &mut prom, &http);
    observe::dashboard_queries_return_data(&env, &mut prom, &http, "openbao");
    drop(traffic);

    // One node stops: its OpenBaoUnreachable (`for` 10s, the demo profile's override) reaches
    // Alertmanager with the rule's labels and runbook; it comes back and the alert resolves.
    let node2 = format!("127.0.0.1:{}", env.port(18434));
    drop(baos.remove(2));
    observe::wait_alert(&mut am, &http, &env, "OpenBaoUnreachable", &node2);
    baos.push(start_node(
        &env,
        &init,
        nodes[2].0,
        nodes[2].1,
        "openbao-node2-back",
    ));
    baos[2].wait_health(&http, 429);
    observe::wait_resolved(&mut am, &http, "OpenBaoUnreachable", &node2);

    // A restart of every node on the same storage skips self-init and unseals by itself.
    for b in &baos {
        b.proc.assert_no_unknown_fields();
    }
    drop(baos);
    let mut baos: Vec<Bao> = nodes
        .iter()
        .map(|(n, a, _)| start_node(&env, &init, n, *a, &format!("{n}-restart")))
        .collect();
    crate::harness::wait_for(
        "one active node after the restart",
        std::time::Duration::from_secs(60),
        || {
            let codes: Vec<u16> = baos
                .iter_mut()
                .map(|b| {
                    b.proc.assert_running();
                    http.get(&format!("{}/v1/sys/health", b.api), None)
                        .map_or(0, |(s, _)| s)
                })
                .collect();
            let mut sorted = codes.clone();
            sorted.sort();
            (sorted == [200, 429, 429]).then_some(())
        },
    );
    assert!(
        !baos[0]
            .proc
            .log_text()
            .contains("security barrier initialized"),
        "node0 initialised again on existing storage"
    );
    login(&http, &node0, &password);
    prom.wait_value(&http, "count(up{job=\"openbao\"} == 1)", 3.0, PROM_WAIT);
    prom.wait_value(
        &http,
        "sum(vault_core_active{job=\"openbao\"})",
        1.0,
        PROM_WAIT,
    );

    // Every node back, unsealed by its seal: nothing fires. (The sealed alert on real
    // series is proven by the all-node scenario.)
    env.assert_alerts(&prom, &http, &[]);
    for b in &baos {
        b.proc.assert_no_unknown_fields();
    }

    // Last, as it breaks the active node: its audit file cannot be written any more.
    let active = harness_active(&http, &baos);
    let (name, _, metrics) = nodes[active];
    let token = login(&http, &baos[active].api, &password);
    observe::audit_failure_fires(
        &env,
        &mut prom,
        &http,
        &env.dir().join(name).join("logs/audit.log"),
        &baos[active],
        &token,
        &format!("127.0.0.1:{}", env.port(metrics)),
    );
}

/// The index of the node that answers health with 200 (active).
fn harness_active(http: &Http, baos: &[Bao]) -> usize {
    baos.iter()
        .position(|b| {
            http.get(&format!("{}/v1/sys/health", b.api), None)
                .is_ok_and(|(s, _)| s == 200)
        })
        .expect("an active node")
}

/// `text` with the demo's container path /openbao/init pointed at `init`.
fn to_tmp(init: &Path, text: &str) -> String {
    text.replace("/openbao/init/", &format!("{}/", init.display()))
}

/// The Compose init step's script (from compose.yaml), run with /openbao/init at `init`: it
/// makes the seal key and the admin's password unless they exist.
pub(super) fn run_init_step(env: &Env, init: &Path) {
    std::fs::create_dir_all(init).unwrap();
    let compose: serde_json::Value =
        serde_saphyr::from_str(&env.read("compose/compose.yaml")).unwrap();
    let script = compose["services"]["openbao-init"]["entrypoint"][2]
        .as_str()
        .expect("the init step's script");
    let out = std::process::Command::new("sh")
        .args(["-ec", &to_tmp(init, script)])
        .output()
        .unwrap();
    assert!(out.status.success(), "init step: {out:?}");
}

/// The generated config of the demo node `name` (API port placeholder `api`) run as its own
/// `bao` process (its log named `log`), with its Raft directory and audit volume under the
/// test's directory.
pub(super) fn start_node(env: &Env, init: &Path, name: &str, api: u16, log: &str) -> Bao {
    std::fs::create_dir_all(env.dir().join(name).join("raft")).unwrap();
    // Each node's audit volume, as Compose gives it one.
    let logs = env.dir().join(name).join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let text = to_tmp(init, &env.read(&format!("compose/{name}.hcl")))
        .replace("/openbao/logs/", &format!("{}/", logs.display()));
    assert_eq!(
        text.contains("initialize \""),
        name == "openbao-node0",
        "{name}: only node0 self-initialises"
    );
    let config = env.dir().join(format!("{name}.hcl"));
    std::fs::write(&config, text).unwrap();
    Bao::start(
        log,
        env.dir(),
        &[config],
        format!("http://127.0.0.1:{}", env.port(api)),
    )
}
