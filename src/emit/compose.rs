//! The demo's Docker Compose stack: one service per Raft node, each with its own complete
//! config, and a Prometheus service reading the generated `prometheus/` folder.

use serde_json::{json, Value};

use super::artifacts::{header, Artifacts};
use super::hcl;
use crate::model::{Demo, Profile};

pub(super) fn emit(p: &Profile, demo: &Demo, out: &mut Artifacts) {
    let hash = header(p, "#");
    let mut services = serde_json::Map::new();
    let mut volumes = serde_json::Map::new();
    for node in &demo.nodes {
        let peers: Vec<_> = demo.nodes.iter().filter(|n| n.name != node.name).collect();
        out.add(
            format!("compose/{}.hcl", node.name),
            format!("{hash}{}", hcl::demo_node(p, node, &peers)),
        );
        let volume = format!("{}-data", node.name);
        services.insert(
            node.name.clone(),
            json!({
                "image": demo.openbao_image,
                // Bypass the image entrypoint: it would add /openbao/config a second time.
                "entrypoint": ["bao", "server", "-config=/openbao/baogen/server.hcl"],
                "environment": {"BAO_ADDR": format!("http://127.0.0.1:{}", node.api_port)},
                "volumes": [
                    format!("./{}.hcl:/openbao/baogen/server.hcl:ro", node.name),
                    format!("{volume}:{}", node.raft_path),
                ],
            }),
        );
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
    let doc: Value = json!({"name": "openbao-demo", "services": services, "volumes": volumes});
    out.add(
        "compose/compose.yaml",
        format!("{hash}{}", crate::yaml::to_string(&doc)),
    );
}
