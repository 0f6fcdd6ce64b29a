//! Core Kubernetes objects from k8s-openapi types: the scrape Service, the service
//! registration RBAC, the NetworkPolicy, the StatefulSet patch and the kustomization that
//! ties them together (a kustomize Component, so an overlay can patch its own StatefulSet).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Service, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::artifacts::{header, Artifacts};
use super::monitoring;
use crate::model::{Kind, Profile};

fn meta(p: &Profile, name: &str, labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(p.openbao.namespace.clone()),
        labels: if labels.is_empty() {
            None
        } else {
            Some(labels)
        },
        ..Default::default()
    }
}

pub(super) fn common_labels(p: &Profile) -> BTreeMap<String, String> {
    BTreeMap::from([(
        "baogen.dev/profile".to_string(),
        p.kind.as_str().to_string(),
    )])
}

/// active: selects only the pod service registration labels `openbao-active: "true"`.
/// all-node: headless and publishing not-ready addresses, so sealed pods stay resolvable.
pub fn scrape_service(p: &Profile) -> Service {
    let mut selector = p.openbao.pod_labels.clone();
    let all_node = p.kind == Kind::AllNode;
    if !all_node {
        selector.insert("openbao-active".into(), "true".into());
    }
    Service {
        metadata: meta(p, &p.scrape.service_name, monitoring::service_labels(p)),
        spec: Some(ServiceSpec {
            cluster_ip: all_node.then(|| "None".to_string()),
            publish_not_ready_addresses: all_node.then_some(true),
            selector: Some(selector),
            ports: Some(vec![ServicePort {
                name: Some(p.scrape.port_name.clone()),
                port: p.scrape.port.into(),
                target_port: Some(IntOrString::Int(p.scrape.port.into())),
                protocol: Some("TCP".into()),
                app_protocol: Some(p.scrape.scheme().into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

const REGISTRATION_ROLE: &str = "openbao-service-registration";

/// Service registration labels OpenBao's own pod: it needs get, update and patch on pods.
pub fn registration_role(p: &Profile) -> Role {
    Role {
        metadata: meta(p, REGISTRATION_ROLE, common_labels(p)),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["pods".into()]),
            verbs: vec!["get".into(), "update".into(), "patch".into()],
            ..Default::default()
        }]),
    }
}

pub fn registration_binding(p: &Profile) -> RoleBinding {
    RoleBinding {
        metadata: meta(p, REGISTRATION_ROLE, common_labels(p)),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: REGISTRATION_ROLE.into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: p.openbao.service_account.clone(),
            namespace: Some(p.openbao.namespace.clone()),
            ..Default::default()
        }]),
    }
}

/// Only Prometheus pods may reach the metrics port; the API and cluster ports stay open to
/// every source, because selecting the pods isolates all their ports.
pub fn network_policy(p: &Profile) -> NetworkPolicy {
    let port = |n: u16| NetworkPolicyPort {
        port: Some(IntOrString::Int(n.into())),
        protocol: Some("TCP".into()),
        ..Default::default()
    };
    let api = &p.api_listener;
    let cluster_port = api
        .cluster_address
        .as_ref()
        .map_or(api.address.port.wrapping_add(1), |c| c.port);
    NetworkPolicy {
        metadata: meta(
            p,
            &format!("{}-ingress", p.scrape.service_name),
            common_labels(p),
        ),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(p.openbao.pod_labels.clone()),
                ..Default::default()
            }),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(vec![
                NetworkPolicyIngressRule {
                    from: Some(vec![NetworkPolicyPeer {
                        namespace_selector: Some(LabelSelector {
                            match_labels: Some(BTreeMap::from([(
                                "kubernetes.io/metadata.name".to_string(),
                                p.prometheus.namespace.clone(),
                            )])),
                            ..Default::default()
                        }),
                        pod_selector: Some(LabelSelector {
                            match_labels: Some(p.prometheus.pod_labels.clone()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }]),
                    ports: Some(vec![port(p.scrape.port)]),
                },
                NetworkPolicyIngressRule {
                    from: None,
                    ports: Some(vec![port(api.address.port), port(cluster_port)]),
                },
            ]),
            ..Default::default()
        }),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    patches: Vec<Patch>,
}

#[derive(Serialize)]
struct Patch {
    path: String,
    target: PatchTarget,
}

#[derive(Serialize)]
struct PatchTarget {
    group: &'static str,
    kind: &'static str,
    name: String,
}

/// The key of baogen's server configuration in its ConfigMap.
pub const CONFIG_FILE: &str = "baogen.hcl";
/// The key of the self-initialization stanzas, for the StatefulSet's first pod only.
pub const SELF_INIT_FILE: &str = "self-init.hcl";
/// Where the OpenBao container mounts that ConfigMap.
pub const CONFIG_DIR: &str = "/openbao/baogen";
const CONFIG_VOLUME: &str = "baogen-config";

/// The ConfigMap that carries baogen's server configuration into the OpenBao pods.
pub fn config_map_name(p: &Profile) -> String {
    format!("{}-baogen-config", p.openbao.statefulset)
}

/// baogen's server configuration (and self-init stanzas) as the pods load it: the same object
/// for the Helm post-renderer, the kustomize Component and the KRM function.
pub fn server_config_map(p: &Profile, server: &str, self_init: Option<&str>) -> ConfigMap {
    let mut data = BTreeMap::from([(CONFIG_FILE.to_string(), server.to_string())]);
    if let Some(text) = self_init {
        data.insert(SELF_INIT_FILE.to_string(), text.to_string());
    }
    ConfigMap {
        metadata: meta(p, &config_map_name(p), common_labels(p)),
        data: Some(data),
        ..Default::default()
    }
}

/// Strategic-merge patch giving the OpenBao container the Downward API env that service
/// registration reads instead of `namespace`/`pod_name` in the stanza, and baogen's
/// ConfigMap at `CONFIG_DIR` (the container's command passes its files with `-config`).
pub fn statefulset_patch(p: &Profile) -> serde_json::Value {
    let env = |name: &str, field: &str| serde_json::json!({"name": name, "valueFrom": {"fieldRef": {"fieldPath": field}}});
    serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": p.openbao.statefulset, "namespace": p.openbao.namespace},
        "spec": {"template": {"spec": {
            "containers": [{
                "name": p.openbao.container,
                "env": [env("BAO_K8S_NAMESPACE", "metadata.namespace"), env("BAO_K8S_POD_NAME", "metadata.name")],
                "volumeMounts": [{"name": CONFIG_VOLUME, "mountPath": CONFIG_DIR, "readOnly": true}],
            }],
            "volumes": [{"name": CONFIG_VOLUME, "configMap": {"name": config_map_name(p)}}],
        }}},
    })
}

const PATCH_FILE: &str = "patches/openbao-statefulset-env.yaml";

/// A ConfigMap of text files as YAML: the same bytes as serializing the `ConfigMap`, with its
/// files written by `yaml::text_map` (a ConfigMap's files are whole documents, walked character
/// by character several times by the serializer otherwise).
pub(super) fn config_map_text(map: &ConfigMap) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Head {
        api_version: &'static str,
        kind: &'static str,
    }
    #[derive(Serialize)]
    struct Metadata<'a> {
        metadata: &'a ObjectMeta,
    }
    // The fields between `kind` and `metadata`, in the order k8s-openapi writes them.
    let (Some(files), None, None) = (&map.data, &map.binary_data, map.immutable) else {
        return crate::yaml::to_string(map);
    };
    let mut text = crate::yaml::to_string(&Head {
        api_version: "v1",
        kind: "ConfigMap",
    });
    text.push_str(&crate::yaml::text_map("data", files));
    text.push_str(&crate::yaml::to_string(&Metadata {
        metadata: &map.metadata,
    }));
    text
}

pub(super) fn add_object<T: Serialize>(p: &Profile, out: &mut Artifacts, file: &str, object: &T) {
    add_text(p, out, file, crate::yaml::to_string(object));
}

/// An object already written as YAML text, as `kubernetes/FILE` and part of the stream.
pub(super) fn add_text(p: &Profile, out: &mut Artifacts, file: &str, yaml: String) {
    out.add_object(format!("kubernetes/{file}"), &header(p, "#"), yaml);
}

/// Everything under `kubernetes/` except the PrometheusRule (added by the caller) and the
/// kustomization (added by `finish`, once every object exists).
pub fn emit(p: &Profile, out: &mut Artifacts) {
    add_object(p, out, "service.yaml", &scrape_service(p));
    match p.kind {
        Kind::AllNode => add_object(p, out, "podmonitor.yaml", &monitoring::pod_monitor(p)),
        _ => add_object(
            p,
            out,
            "servicemonitor.yaml",
            &monitoring::service_monitor(p),
        ),
    }
    add_object(
        p,
        out,
        "role-service-registration.yaml",
        &registration_role(p),
    );
    add_object(
        p,
        out,
        "rolebinding-service-registration.yaml",
        &registration_binding(p),
    );
    if p.prometheus.network_policy {
        add_object(p, out, "networkpolicy.yaml", &network_policy(p));
    }
    out.add(
        format!("kubernetes/{PATCH_FILE}"),
        format!(
            "{}{}",
            header(p, "#"),
            crate::yaml::to_string(&statefulset_patch(p))
        ),
    );
}

/// The kustomization listing every object file.
pub fn finish(p: &Profile, out: &mut Artifacts) {
    let resources = out
        .files
        .keys()
        .filter_map(|k| k.strip_prefix("kubernetes/"))
        .filter(|k| !k.contains('/') && *k != "kustomization.yaml")
        .map(str::to_string)
        .collect();
    let k = Kustomization {
        api_version: "kustomize.config.k8s.io/v1alpha1",
        kind: "Component",
        resources,
        // The demo runs OpenBao in Compose: only the engine's RBAC is for a cluster.
        patches: if p.kind == Kind::Demo {
            Vec::new()
        } else {
            vec![Patch {
                path: PATCH_FILE.into(),
                target: PatchTarget {
                    group: "apps",
                    kind: "StatefulSet",
                    name: p.openbao.statefulset.clone(),
                },
            }]
        },
    };
    out.add(
        "kubernetes/kustomization.yaml",
        format!("{}{}", header(p, "#"), crate::yaml::to_string(&k)),
    );
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::api::core::v1::ConfigMap;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use proptest::prelude::*;

    fn file() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ -~]{0,10}",
            proptest::collection::vec("[ -~]{0,10}", 1..6).prop_map(|l| l.join("\n") + "\n"),
            "\\PC{0,6}(\n\\PC{0,6}){0,3}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// The ConfigMap text is the serializer's, whatever its files hold.
        #[test]
        fn config_maps_are_what_the_serializer_writes(
            data in proptest::collection::btree_map("[a-z][a-z.-]{0,8}|\\PC{1,4}", file(), 0..4),
            labels in proptest::option::of(proptest::collection::btree_map("[a-z/.]{1,8}", "[ -~]{0,6}", 1..3)),
            immutable in proptest::option::of(any::<bool>()),
        ) {
            let map = ConfigMap {
                metadata: ObjectMeta {
                    name: Some("n".into()),
                    namespace: Some("ns".into()),
                    labels,
                    ..Default::default()
                },
                data: Some(data),
                immutable,
                ..Default::default()
            };
            prop_assert_eq!(super::config_map_text(&map), crate::yaml::to_string(&map));
        }
    }

    #[test]
    fn a_config_map_without_files_is_serialized_whole() {
        let map = ConfigMap {
            data: Some(BTreeMap::new()),
            ..Default::default()
        };
        assert_eq!(
            super::config_map_text(&map),
            "apiVersion: v1\nkind: ConfigMap\ndata: {}\nmetadata: {}\n"
        );
    }
}
