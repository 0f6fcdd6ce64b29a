//! The demo's Docker Compose stack: one service per Raft node, each with its own complete
//! config, and a Prometheus service reading the generated `prometheus/` folder. With
//! `[self_init]` the stack boots itself: a first step generates the seal key (and the admin's
//! password file) into a volume, never into the output; node0 self-initialises, the others
//! join and unseal with the same key.

use serde_json::{json, Value};

use super::artifacts::{header, Artifacts};
use super::hcl;
use crate::model::{Demo, Profile, Source};

/// The Compose service that generates the first boot's files.
pub(super) const INIT_SERVICE: &str = "openbao-init";

/// A word for `sh`, whatever the path holds.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// What the init step runs: each file is made once (kept on every later start), readable by
/// its owner only; the key is 32 random bytes, the password 32 letters and digits.
pub(super) fn init_script(p: &Profile) -> Option<String> {
    let seal = p.seal.as_ref()?;
    p.self_init.as_ref()?;
    let mut script = format!(
        "umask 077; [ -s {k} ] || head -c 32 /dev/urandom > {k}",
        k = sh_quote(&seal.key_file)
    );
    let secret = p.self_init.as_ref().and_then(|si| si.admin.secret());
    if let Some(Source::File(f)) = secret {
        script.push_str(&format!(
            "; [ -s {f} ] || tr -dc A-Za-z0-9 < /dev/urandom | head -c 32 > {f}",
            f = sh_quote(f)
        ));
    }
    Some(script)
}

pub(super) fn emit(p: &Profile, demo: &Demo, self_init: Option<&str>, out: &mut Artifacts) {
    let hash = header(p, "#");
    let mut services = serde_json::Map::new();
    let mut volumes = serde_json::Map::new();
    let init = init_script(p);
    let init_dir = p.seal.as_ref().map(|s| {
        std::path::Path::new(&s.key_file)
            .parent()
            .map_or("/".into(), |d| d.display().to_string())
    });
    if let (Some(script), Some(dir)) = (&init, &init_dir) {
        services.insert(
            INIT_SERVICE.into(),
            json!({
                "image": demo.openbao_image,
                "entrypoint": ["/bin/sh", "-ec", script],
                "volumes": [format!("{INIT_SERVICE}:{dir}")],
            }),
        );
        volumes.insert(INIT_SERVICE.into(), json!({}));
    }
    for (i, node) in demo.nodes.iter().enumerate() {
        let peers: Vec<_> = demo.nodes.iter().filter(|n| n.name != node.name).collect();
        let mut config = format!("{hash}{}", hcl::demo_node(p, node, &peers));
        // Only the first node self-initialises: two racing on empty storage is a known
        // OpenBao issue; the others join it.
        if let (0, Some(text)) = (i, self_init) {
            config.push('\n');
            config.push_str(text);
        }
        out.add(format!("compose/{}.hcl", node.name), config);
        let volume = format!("{}-data", node.name);
        let mut mounts = vec![
            json!(format!("./{}.hcl:/openbao/baogen/server.hcl:ro", node.name)),
            json!(format!("{volume}:{}", node.raft_path)),
        ];
        let mut service = json!({
            "image": demo.openbao_image,
            // Bypass the image entrypoint: it would add /openbao/config a second time.
            "entrypoint": ["bao", "server", "-config=/openbao/baogen/server.hcl"],
            "environment": {"BAO_ADDR": format!("http://127.0.0.1:{}", node.api_port)},
        });
        if let (Some(_), Some(dir)) = (&init, &init_dir) {
            mounts.push(json!(format!("{INIT_SERVICE}:{dir}:ro")));
            service["depends_on"] =
                json!({INIT_SERVICE: {"condition": "service_completed_successfully"}});
        }
        if let Some(dir) = p.audit.as_ref().and_then(|a| a.dir()) {
            let audit = format!("{}-audit", node.name);
            mounts.push(json!(format!("{audit}:{dir}")));
            volumes.insert(audit, json!({}));
        }
        service["volumes"] = Value::Array(mounts);
        services.insert(node.name.clone(), service);
        volumes.insert(volume, json!({}));
    }
    let nodes: Vec<&str> = demo.nodes.iter().map(|n| n.name.as_str()).collect();
    services.insert(
        "prometheus".into(),
        json!({
            "image": demo.prometheus_image,
            "command": ["--config.file=/etc/prometheus/prometheus.yml"],
            "volumes": ["../prometheus:/etc/prometheus:ro"],
            "ports": [format!("127.0.0.1:{0}:9090", demo.prometheus_port)],
            "depends_on": nodes,
        }),
    );
    if p.grafana.is_some() {
        let (datasources, dashboards) = super::dashboards::demo_provisioning();
        out.add(
            "grafana/provisioning/datasources/prometheus.yaml",
            format!("{hash}{}", crate::yaml::to_string(&datasources)),
        );
        out.add(
            "grafana/provisioning/dashboards/baogen.yaml",
            format!("{hash}{}", crate::yaml::to_string(&dashboards)),
        );
        services.insert(
            "grafana".into(),
            json!({
                "image": demo.grafana_image,
                // Read-only for anyone who reaches 127.0.0.1: this is the local demo.
                "environment": {
                    "GF_AUTH_ANONYMOUS_ENABLED": "true",
                    "GF_AUTH_ANONYMOUS_ORG_ROLE": "Viewer",
                },
                "volumes": [
                    "../grafana/provisioning:/etc/grafana/provisioning:ro",
                    "../grafana/dashboards:/var/lib/grafana/dashboards:ro",
                ],
                "ports": [format!("127.0.0.1:{0}:3000", demo.grafana_port)],
                "depends_on": ["prometheus"],
            }),
        );
    }
    let doc: Value = json!({"name": "openbao-demo", "services": services, "volumes": volumes});
    out.add(
        "compose/compose.yaml",
        format!("{hash}{}", crate::yaml::to_string(&doc)),
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn sh_quote_keeps_every_byte_one_word() {
        for s in ["/a b", "/a'b", "/$(x)", "/`x`;y", "/a\\b"] {
            let out = std::process::Command::new("sh")
                .args(["-c", &format!("printf %s {}", super::sh_quote(s))])
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), s);
        }
    }
}
