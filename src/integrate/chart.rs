//! The official OpenBao chart and baogen: how baogen's server configuration reaches the pods,
//! and what the Helm post-renderer checks in a chart's render before it adds anything.
//!
//! Delivery: the post-renderer adds a ConfigMap holding baogen's `server.hcl` (telemetry,
//! listeners, service registration); values.yaml mounts it into the OpenBao container with
//! `server.volumes`/`server.volumeMounts` and passes it as a second `-config` file with
//! `server.extraArgs`. OpenBao merges every `-config` file, so the chart keeps its own config
//! (storage, seal, ...) and baogen owns exactly the stanzas it compiles; nothing is copied by
//! hand and nothing in the chart's templates is rewritten.
//!
//! Checks: the profile's StatefulSet is there, its pods carry the labels the profile selects,
//! the chart does not scrape OpenBao a second time, the wiring above is in place, the TLS
//! files are mounted, and the chart's own config declares no listener, telemetry or service
//! registration that clashes with baogen's. Each refusal names the key that fixes it.

use serde_json::Value;

use super::{Error, Identity};
use crate::model::Profile;

use crate::emit::kube::{config_map_name, CONFIG_DIR, CONFIG_FILE, SELF_INIT_FILE};

/// `server.extraArgs`: baogen's file for every pod and, with self-initialization, its stanzas
/// for the first pod only (two pods racing self-init on empty storage is a known OpenBao
/// issue). The chart runs the line with `sh`, where `HOSTNAME` is the pod's name, `NAME-0`.
pub(super) fn extra_args(p: &Profile) -> String {
    let mut args = format!("-config={CONFIG_DIR}/{CONFIG_FILE}");
    if p.self_init.is_some() {
        args.push_str(&first_pod_only(CONFIG_DIR));
    }
    args
}

fn first_pod_only(dir: &str) -> String {
    format!(" $([ \"${{HOSTNAME##*-}}\" = 0 ] && echo -config={dir}/{SELF_INIT_FILE})")
}

/// The values.yaml lines that wire baogen's configuration in, for error messages.
fn wiring_values(p: &Profile) -> String {
    format!(
        "server.extraArgs: '{}', server.volumes: [{{name: baogen-config, configMap: {{name: {}}}}}], server.volumeMounts: [{{name: baogen-config, mountPath: {CONFIG_DIR}, readOnly: true}}] (see the README, \"Deploy with the official OpenBao Helm chart\")",
        extra_args(p),
        config_map_name(p)
    )
}

/// Where OpenBao serves metrics: a monitor scraping it is an OpenBao scrape.
const METRICS_PATH: &str = "/v1/sys/metrics";

/// Check the chart's objects against the profile; `sts` is the index of the profile's
/// StatefulSet when it was found.
pub(super) fn check(p: &Profile, objects: &[&Value], sts: Option<usize>) -> Result<(), Error> {
    let Some(at) = sts else {
        let found: Vec<String> = objects
            .iter()
            .map(|v| Identity::of(v))
            .filter(|id| id.kind == "StatefulSet")
            .map(|id| {
                format!(
                    "{}/{}",
                    id.namespace.as_deref().unwrap_or("(no namespace)"),
                    id.name
                )
            })
            .collect();
        let found = if found.is_empty() {
            "none".to_string()
        } else {
            found.join(", ")
        };
        return Err(Error::Input(format!(
            "the chart's render has no StatefulSet {}/{} (StatefulSets found: {found}), so baogen's Service would select no pod. Set openbao.statefulset and openbao.namespace in the profile to the chart's StatefulSet (the official chart names it after the release: `helm template openbao ...` makes `openbao`), or render the release into the profile's namespace with --namespace",
            p.openbao.namespace, p.openbao.statefulset
        )));
    };
    pod_labels(p, objects[at])?;
    second_scrape(objects)?;
    let container = container(p, objects[at])?;
    wiring(p, objects[at], container)?;
    tls_mounted(p, container)?;
    first_boot_inputs(p, container)?;
    audit_mounted(p, container)?;
    chart_config(p, objects, objects[at], container)
}

fn container<'a>(p: &Profile, sts: &'a Value) -> Result<&'a Value, Error> {
    sts.pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c.get("name").and_then(Value::as_str) == Some(&p.openbao.container)))
        .ok_or_else(|| {
            Error::Input(format!(
                "StatefulSet {}/{} has no container named `{}`; set openbao.container in the profile",
                p.openbao.namespace, p.openbao.statefulset, p.openbao.container
            ))
        })
}

/// (volume name, mount path) of every volume mounted into the container.
fn mounts(container: &Value) -> Vec<(&str, &str)> {
    container
        .get("volumeMounts")
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .filter_map(|m| Some((m.get("name")?.as_str()?, m.get("mountPath")?.as_str()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The pod volume `name`, when it is a ConfigMap: the ConfigMap's name.
fn config_map_of<'a>(sts: &'a Value, volume: &str) -> Option<&'a str> {
    sts.pointer("/spec/template/spec/volumes")
        .and_then(Value::as_array)?
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(volume))?
        .pointer("/configMap/name")
        .and_then(Value::as_str)
}

/// The container mounts baogen's ConfigMap and its command passes the file to `bao server`.
fn wiring(p: &Profile, sts: &Value, container: &Value) -> Result<(), Error> {
    let cm = config_map_name(p);
    let Some((_, dir)) = mounts(container)
        .into_iter()
        .find(|(volume, _)| config_map_of(sts, volume) == Some(cm.as_str()))
    else {
        return Err(Error::Input(format!(
            "the OpenBao container does not mount the ConfigMap {cm} that carries baogen's listeners and telemetry, so the pods would run the chart's own config (its default has TLS off and no metrics listener). Set in values.yaml: {}",
            wiring_values(p)
        )));
    };
    let file = format!("{}/{CONFIG_FILE}", dir.trim_end_matches('/'));
    let command: Vec<&str> = ["command", "args"]
        .iter()
        .filter_map(|k| container.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let passed = command.iter().any(|arg| {
        arg.split_whitespace()
            .any(|w| w == format!("-config={file}") || w == format!("--config={file}"))
    });
    if !passed {
        return Err(Error::Input(format!(
            "the OpenBao container mounts {cm} at {dir} but does not pass {file} to `bao server`. Set server.extraArgs: \"-config={file}\" in values.yaml"
        )));
    }
    if p.self_init.is_some() {
        let guard = first_pod_only(dir.trim_end_matches('/'));
        if !command.iter().any(|arg| arg.contains(guard.trim_start())) {
            return Err(Error::Input(format!(
                "the profile self-initialises, but the OpenBao container does not load {dir}/{SELF_INIT_FILE} on its first pod only. Set server.extraArgs: '{}' in values.yaml: every pod loading it would race on empty storage, none would leave the cluster unconfigured",
                extra_args(p)
            )));
        }
    }
    Ok(())
}

/// Whether `file` is under a path mounted into the container (other than `/`).
fn under_a_mount(container: &Value, file: &str) -> bool {
    mounts(container)
        .iter()
        .any(|(_, dir)| std::path::Path::new(file).starts_with(dir) && *dir != "/")
}

/// Every TLS file baogen's listeners name is under a path mounted into the container.
fn tls_mounted(p: &Profile, container: &Value) -> Result<(), Error> {
    let files = [
        p.api_listener.tls.as_ref(),
        p.metrics_listener.as_ref().and_then(|m| m.tls.as_ref()),
    ]
    .into_iter()
    .flatten()
    .flat_map(|t| [t.cert_file.as_str(), t.key_file.as_str()]);
    for f in files {
        if !under_a_mount(container, f) {
            let dir = std::path::Path::new(f)
                .parent()
                .map_or("/openbao/tls".into(), |d| d.display().to_string());
            return Err(Error::Input(format!(
                "the listener's TLS file {f} is not under any path mounted into the OpenBao container, so OpenBao would not start. Mount the Secret holding the serving certificate there: server.volumes: [{{name: openbao-tls, secret: {{secretName: SECRET}}}}] and server.volumeMounts: [{{name: openbao-tls, mountPath: {dir}, readOnly: true}}] in values.yaml"
            )));
        }
    }
    Ok(())
}

/// With self-initialization, what the first boot reads: the seal key under a mounted path, the
/// admin's secret in the container's environment or under a mounted path.
fn first_boot_inputs(p: &Profile, container: &Value) -> Result<(), Error> {
    let mut files = Vec::new();
    if let Some(seal) = &p.seal {
        files.push(("seal.key_file", seal.key_file.as_str()));
    }
    let secret = p.self_init.as_ref().and_then(|si| si.admin.secret());
    match secret {
        Some(crate::model::Source::File(f)) => files.push(("the admin's secret file", f.as_str())),
        Some(crate::model::Source::Env(var)) => {
            let set = container
                .get("env")
                .and_then(Value::as_array)
                .is_some_and(|env| {
                    env.iter()
                        .any(|e| e.get("name").and_then(Value::as_str) == Some(var))
                });
            if !set {
                return Err(Error::Input(format!(
                    "the profile's first boot reads the admin's secret from ${var}, which the OpenBao container does not set, so self-initialization would fail and leave storage that refuses to unseal. Set in values.yaml: server.extraSecretEnvironmentVars: [{{envName: {var}, secretName: SECRET, secretKey: KEY}}]"
                )));
            }
        }
        None => {}
    }
    for (what, f) in files {
        if !under_a_mount(container, f) {
            let dir = std::path::Path::new(f)
                .parent()
                .map_or("/".into(), |d| d.display().to_string());
            return Err(Error::Input(format!(
                "{what} {f} is not under any path mounted into the OpenBao container, so OpenBao could not unseal or initialise. Mount the Secret holding it there: server.volumes: [{{name: NAME, secret: {{secretName: SECRET}}}}] and server.volumeMounts: [{{name: NAME, mountPath: {dir}, readOnly: true}}] in values.yaml"
            )));
        }
    }
    Ok(())
}

/// A declarative audit file lives on a volume: on the container's own filesystem it would be
/// lost with the pod (or unwritable), and OpenBao refuses every request it cannot audit.
fn audit_mounted(p: &Profile, container: &Value) -> Result<(), Error> {
    let Some(audit) = &p.audit else {
        return Ok(());
    };
    if audit.dir().is_none() || under_a_mount(container, &audit.file) {
        return Ok(());
    }
    Err(Error::Input(format!(
        "audit.file {} is not under any path mounted into the OpenBao container: the audit log would be lost with the pod, and OpenBao answers 500 to every request it cannot audit. Enable the chart's audit volume in values.yaml: server.auditStorage: {{enabled: true, mountPath: /openbao/audit}} (and put audit.file under it), or write the device to stdout",
        audit.file
    )))
}

/// The chart's own configuration files (every `.hcl` in a ConfigMap the container mounts,
/// other than baogen's) must not declare what baogen's file declares.
fn chart_config(
    p: &Profile,
    objects: &[&Value],
    sts: &Value,
    container: &Value,
) -> Result<(), Error> {
    let ours = config_map_name(p);
    let ports = baogen_ports(p);
    for (volume, _) in mounts(container) {
        let Some(cm) = config_map_of(sts, volume).filter(|cm| *cm != ours) else {
            continue;
        };
        let Some(data) = objects
            .iter()
            .find(|o| {
                let id = Identity::of(o);
                id.kind == "ConfigMap" && id.name == cm
            })
            .and_then(|o| o.get("data"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (key, text) in data {
            let Some(text) = text.as_str().filter(|_| key.ends_with(".hcl")) else {
                continue;
            };
            let at = format!("the chart's config (ConfigMap {cm}, {key})");
            let body: hcl::Body = hcl::from_str(text)
                .map_err(|e| Error::Input(format!("{at} is not valid HCL: {e}")))?;
            check_chart_body(p, &body, &ports, &at)?;
        }
    }
    Ok(())
}

/// The ports baogen's listeners bind: API, cluster (given, or API + 1), metrics.
fn baogen_ports(p: &Profile) -> Vec<u16> {
    let api = &p.api_listener;
    let cluster = api
        .cluster_address
        .as_ref()
        .map_or(api.address.port.saturating_add(1), |a| a.port);
    let mut ports = vec![api.address.port, cluster];
    ports.extend(p.metrics_listener.as_ref().map(|m| m.address.port));
    ports
}

fn check_chart_body(p: &Profile, body: &hcl::Body, ports: &[u16], at: &str) -> Result<(), Error> {
    let key = "server.ha.raft.config (or server.standalone.config / server.ha.config)";
    for block in body.blocks() {
        match block.identifier() {
            "listener" => {
                let attr = |name: &str| {
                    block
                        .body()
                        .attributes()
                        .find(|a| a.key() == name)
                        .map(|a| a.expr().to_string())
                };
                let address = attr("address").unwrap_or_else(|| "\"127.0.0.1:8200\"".into());
                let port = address
                    .trim_matches('"')
                    .rsplit(':')
                    .next()
                    .and_then(|s| s.parse::<u16>().ok());
                let tls_off = attr("tls_disable")
                    .is_some_and(|v| matches!(v.trim_matches('"'), "1" | "true"));
                if port.is_some_and(|port| ports.contains(&port)) {
                    return Err(Error::Input(format!(
                        "{at} declares a listener on {address}, a port baogen's listeners use; remove the listener from {key} in values.yaml: baogen's file declares the listeners"
                    )));
                }
                if tls_off && p.kind != crate::model::Kind::Demo {
                    return Err(Error::Input(format!(
                        "{at} declares a listener on {address} with tls_disable, which an `{}` profile never allows; remove it from {key} in values.yaml",
                        p.kind.as_str()
                    )));
                }
            }
            "telemetry" => {
                let ours: hcl::Body =
                    hcl::from_str(&crate::emit::hcl::server(p)).expect("baogen's HCL parses");
                let same = ours
                    .blocks()
                    .find(|b| b.identifier() == "telemetry")
                    .is_some_and(|t| t.body() == block.body());
                if !same {
                    return Err(Error::Input(format!(
                        "{at} has its own telemetry stanza, which differs from the profile's; remove it from {key} in values.yaml (baogen's file declares telemetry)"
                    )));
                }
            }
            "service_registration" => {
                return Err(Error::Input(format!(
                    "{at} declares service_registration, which baogen's file declares too; remove it from {key} in values.yaml"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The pod template must carry every label the profile selects OpenBao pods by.
fn pod_labels(p: &Profile, sts: &Value) -> Result<(), Error> {
    let labels = sts.pointer("/spec/template/metadata/labels");
    let missing: Vec<String> = p
        .openbao
        .pod_labels
        .iter()
        .filter(|(k, v)| {
            labels
                .and_then(|l| l.get(k.as_str()))
                .and_then(Value::as_str)
                != Some(v.as_str())
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let have: Vec<String> = labels
        .and_then(Value::as_object)
        .map(|l| {
            l.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?")))
                .collect()
        })
        .unwrap_or_default();
    Err(Error::Input(format!(
        "the pods of StatefulSet {}/{} lack the label{} {} that baogen's Service and monitors select (the pod template has: {}). Set openbao.pod_labels in the profile to labels the chart sets, or add the missing ones with server.extraLabels in values.yaml",
        p.openbao.namespace,
        p.openbao.statefulset,
        if missing.len() == 1 { "" } else { "s" },
        missing.join(", "),
        if have.is_empty() { "none".into() } else { have.join(", ") }
    )))
}

/// The chart's own ServiceMonitor or PodMonitor would scrape OpenBao a second time, outside
/// the profile's authentication and TLS (the official chart's skips TLS verification).
fn second_scrape(objects: &[&Value]) -> Result<(), Error> {
    for v in objects {
        let id = Identity::of(v);
        let endpoints = match id.kind.as_str() {
            "ServiceMonitor" => "/spec/endpoints",
            "PodMonitor" => "/spec/podMetricsEndpoints",
            _ => continue,
        };
        let scrapes_openbao = v
            .pointer(endpoints)
            .and_then(Value::as_array)
            .is_some_and(|eps| {
                eps.iter()
                    .any(|e| e.get("path").and_then(Value::as_str) == Some(METRICS_PATH))
            });
        if scrapes_openbao {
            return Err(Error::Input(format!(
                "the chart renders its own {id}, a second scrape of OpenBao's metrics beside baogen's (with the chart's own TLS and authentication settings). Set serverTelemetry.serviceMonitor.enabled=false in values.yaml"
            )));
        }
    }
    Ok(())
}
