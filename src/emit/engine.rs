//! The Kubernetes secrets engine: API bodies for `<mount>/config` and `<mount>/roles/NAME`, a
//! consumer policy per role, the RBAC OpenBao's own service account needs, and `apply.sh`.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
use serde::Serialize;
use serde_json::{json, Value};

use super::{hcl, header, kube, Artifacts};
use crate::model::{self, Engine, EngineRole, Profile, RoleMode};

/// Name of the Role/ClusterRole (and bindings) granting OpenBao what the engine needs.
pub const RBAC_NAME: &str = "openbao-kubernetes-secrets";
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

pub fn config_path() -> &'static str {
    "openbao/kubernetes-secrets/config.json"
}

pub fn role_path(role: &str) -> String {
    format!("openbao/kubernetes-secrets/roles/{role}.json")
}

pub fn policy_name(role: &str) -> String {
    format!("kubernetes-creds-{role}")
}

fn pretty<T: Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("plain JSON");
    s.push('\n');
    s
}

/// Every key is sent, empty when unused: the engine merges a write into the stored config.
pub fn config_body(c: &model::EngineConfig) -> Value {
    json!({
        "kubernetes_host": c.kubernetes_host.clone().unwrap_or_default(),
        "kubernetes_ca_cert": c.kubernetes_ca_cert.clone().unwrap_or_default(),
        "disable_local_ca_jwt": c.disable_local_ca_jwt,
    })
}

fn k8s_rule(r: &model::PolicyRule) -> PolicyRule {
    let opt = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    PolicyRule {
        api_groups: opt(&r.api_groups),
        resources: opt(&r.resources),
        verbs: r.verbs.clone(),
        resource_names: opt(&r.resource_names),
        non_resource_urls: opt(&r.non_resource_urls),
    }
}

/// The string forms the engine parses (as JSON, a subset of the YAML it also accepts).
pub fn rules_string(rules: &[model::PolicyRule]) -> String {
    let rules: Vec<PolicyRule> = rules.iter().map(k8s_rule).collect();
    serde_json::to_string(&json!({ "rules": rules })).expect("plain JSON")
}

pub fn selector_string(s: &model::LabelSelector) -> String {
    let sel = LabelSelector {
        match_labels: (!s.match_labels.is_empty()).then(|| s.match_labels.clone()),
        match_expressions: (!s.match_expressions.is_empty()).then(|| {
            s.match_expressions
                .iter()
                .map(|e| LabelSelectorRequirement {
                    key: e.key.clone(),
                    operator: e.operator.clone(),
                    values: (!e.values.is_empty()).then(|| e.values.clone()),
                })
                .collect()
        }),
    };
    serde_json::to_string(&sel).expect("plain JSON")
}

/// Every parameter is sent. The engine merges a write into the stored role, so the two unused
/// mode fields are sent as "" (else a role switching modes is rejected), and every other unset
/// value is sent empty so that removing it from the profile removes it from OpenBao.
pub fn role_body(r: &EngineRole) -> RoleBody<'_> {
    let (sa, role_name, rules, cluster) = match &r.mode {
        RoleMode::ServiceAccount(sa) => (sa.as_str(), "", String::new(), false),
        RoleMode::BindRole { name, cluster_role } => {
            ("", name.as_str(), String::new(), *cluster_role)
        }
        RoleMode::GenerateRules {
            rules,
            cluster_role,
        } => ("", "", rules_string(rules), *cluster_role),
    };
    RoleBody {
        allowed_kubernetes_namespaces: &r.allowed_namespaces,
        allowed_kubernetes_namespace_selector: r
            .namespace_selector
            .as_ref()
            .map(selector_string)
            .unwrap_or_default(),
        token_max_ttl: r.token_max_ttl,
        token_default_ttl: r.token_default_ttl,
        token_default_audiences: &r.token_default_audiences,
        service_account_name: sa,
        kubernetes_role_name: role_name,
        kubernetes_role_type: if cluster { "ClusterRole" } else { "Role" },
        generated_role_rules: rules,
        name_template: r.name_template.as_deref().unwrap_or_default(),
        extra_annotations: &r.extra_annotations,
        extra_labels: &r.extra_labels,
    }
}

/// The body of `kubernetes/roles/:name`, a typed struct rather than a `json!` value: a render
/// writes one per role, and 10,000 roles must cost ten times 1,000 (issue 7).
#[derive(Serialize)]
pub struct RoleBody<'a> {
    allowed_kubernetes_namespaces: &'a [String],
    allowed_kubernetes_namespace_selector: String,
    token_max_ttl: u64,
    token_default_ttl: u64,
    token_default_audiences: &'a [String],
    service_account_name: &'a str,
    kubernetes_role_name: &'a str,
    kubernetes_role_type: &'static str,
    generated_role_rules: String,
    name_template: &'a str,
    extra_annotations: &'a model::Labels,
    extra_labels: &'a model::Labels,
}

/// Verbs in the order Kubernetes documentation lists them.
const VERB_ORDER: [&str; 9] = [
    "get", "list", "watch", "create", "update", "patch", "delete", "bind", "escalate",
];

/// Grants keyed by (API group, resource, resourceNames), merged across roles.
#[derive(Default)]
struct Grants(BTreeMap<(String, String, Vec<String>), BTreeSet<usize>>);

impl Grants {
    fn add(&mut self, group: &str, resource: &str, names: &[&str], verbs: &[&str]) {
        let set = self
            .0
            .entry((
                group.to_string(),
                resource.to_string(),
                names.iter().map(|s| s.to_string()).collect(),
            ))
            .or_default();
        for v in verbs {
            set.insert(
                VERB_ORDER
                    .iter()
                    .position(|x| x == v)
                    .expect("a verb of VERB_ORDER"),
            );
        }
    }

    /// One rule per (group, resourceNames, verbs), resources merged.
    fn rules(&self) -> Vec<PolicyRule> {
        let mut merged: BTreeMap<(String, Vec<String>, Vec<usize>), Vec<String>> = BTreeMap::new();
        for ((group, resource, names), verbs) in &self.0 {
            // A grant limited to names adds nothing when the same verbs are granted for all.
            let unlimited = self.0.get(&(group.clone(), resource.clone(), Vec::new()));
            if !names.is_empty() && unlimited.is_some_and(|all| all.is_superset(verbs)) {
                continue;
            }
            merged
                .entry((
                    group.clone(),
                    names.clone(),
                    verbs.iter().copied().collect(),
                ))
                .or_default()
                .push(resource.clone());
        }
        merged
            .into_iter()
            .map(|((group, names, verbs), resources)| PolicyRule {
                api_groups: Some(vec![group]),
                resources: Some(resources),
                verbs: verbs.iter().map(|&i| VERB_ORDER[i].to_string()).collect(),
                resource_names: (!names.is_empty()).then_some(names),
                non_resource_urls: None,
            })
            .collect()
    }
}

/// What OpenBao's service account needs, per role mode. The Kubernetes calls are those of
/// OpenBao's builtin/logical/kubernetes: client.go (`createToken` → serviceaccounts/token;
/// `createServiceAccount`/`deleteServiceAccount`; `createRole`/`deleteRole` on roles or
/// clusterroles; `createRoleBinding`/`deleteRoleBinding` on rolebindings, or
/// clusterrolebindings when a creds request sets cluster_role_binding; `getNamespaceLabelSet`
/// → get namespaces), called from path_creds.go (`createCreds`) and undone by wal.go and the
/// lease revocation. Kubernetes' RBAC escalation checks add `bind` on the role a binding refers
/// to and `escalate` to create a role with permissions OpenBao does not hold itself
/// (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping).
fn role_grants(r: &EngineRole, namespaced: &mut Grants, cluster: &mut Grants) {
    let token = |g: &mut Grants, names: &[&str]| {
        g.add("", "serviceaccounts/token", names, &["create"]);
    };
    let generated_objects = |g: &mut Grants| {
        g.add("", "serviceaccounts", &[], &["create", "delete"]);
        g.add("", "serviceaccounts/token", &[], &["create"]);
        g.add(RBAC_GROUP, "rolebindings", &[], &["create", "delete"]);
    };
    match &r.mode {
        RoleMode::ServiceAccount(sa) => token(namespaced, &[sa.as_str()]),
        RoleMode::BindRole { name, cluster_role } => {
            generated_objects(namespaced);
            let kind = if *cluster_role {
                "clusterroles"
            } else {
                "roles"
            };
            namespaced.add(RBAC_GROUP, kind, &[name.as_str()], &["bind"]);
            if r.cluster_role_binding {
                cluster.add(
                    RBAC_GROUP,
                    "clusterrolebindings",
                    &[],
                    &["create", "delete"],
                );
                cluster.add(RBAC_GROUP, "clusterroles", &[name.as_str()], &["bind"]);
            }
        }
        RoleMode::GenerateRules { cluster_role, .. } => {
            generated_objects(namespaced);
            let verbs = ["create", "delete", "bind", "escalate"];
            if *cluster_role {
                cluster.add(RBAC_GROUP, "clusterroles", &[], &verbs);
            } else {
                namespaced.add(RBAC_GROUP, "roles", &[], &verbs);
            }
            if r.cluster_role_binding {
                cluster.add(
                    RBAC_GROUP,
                    "clusterrolebindings",
                    &[],
                    &["create", "delete"],
                );
            }
        }
    }
    if r.namespace_selector.is_some() {
        cluster.add("", "namespaces", &[], &["get"]);
    }
}

/// A role is confined when it lists named namespaces only; anything else (`*`, a selector)
/// needs its namespaced grants cluster-wide.
fn confined(r: &EngineRole) -> bool {
    r.namespace_selector.is_none() && !r.allowed_namespaces.iter().any(|n| n == "*")
}

/// Cluster-wide grants, and namespaced grants per namespace.
fn rbac(e: &Engine) -> (Vec<PolicyRule>, BTreeMap<String, Vec<PolicyRule>>) {
    let mut cluster = Grants::default();
    let mut per_ns: BTreeMap<String, Grants> = BTreeMap::new();
    for r in &e.roles {
        if confined(r) {
            for ns in &r.allowed_namespaces {
                role_grants(r, per_ns.entry(ns.clone()).or_default(), &mut cluster);
            }
        } else {
            let mut wide = Grants::default();
            role_grants(r, &mut wide, &mut cluster);
            for (k, v) in wide.0 {
                cluster.0.entry(k).or_default().extend(v);
            }
        }
    }
    let per_ns = per_ns.into_iter().map(|(ns, g)| (ns, g.rules())).collect();
    (cluster.rules(), per_ns)
}

fn meta(p: &Profile, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(RBAC_NAME.into()),
        namespace: namespace.map(str::to_string),
        labels: Some(kube::common_labels(p)),
        ..Default::default()
    }
}

fn subject(p: &Profile) -> Vec<Subject> {
    vec![Subject {
        kind: "ServiceAccount".into(),
        name: p.openbao.service_account.clone(),
        namespace: Some(p.openbao.namespace.clone()),
        ..Default::default()
    }]
}

fn role_ref(kind: &str) -> RoleRef {
    RoleRef {
        api_group: RBAC_GROUP.into(),
        kind: kind.into(),
        name: RBAC_NAME.into(),
    }
}

/// Quote a shell word: bare when it is plainly safe, else single-quoted.
pub fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=@:,+".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn apply_script(p: &Profile, e: &Engine) -> String {
    let mut s = String::from("#!/bin/sh\n");
    s.push_str(&header(p, "#"));
    s.push_str(&format!(
        r#"# Writes the Kubernetes secrets engine at {mount}/ with the `bao` CLI: enables it if needed, then
# the consumer policies, the config and the roles, in that order. Run it with BAO_ADDR and
# BAO_TOKEN set (a token allowed to manage sys/mounts, sys/policies/acl and {mount}/):
#   sh apply.sh
# The engine's service account JWT is a credential and never part of a profile or this output.
# When OpenBao runs outside the cluster (or disable_local_ca_jwt = true), put it in a file and
# set BAOGEN_K8S_JWT_FILE to that file's path.
# Roles removed from the profile are not deleted: run `bao delete {mount}/roles/NAME`.
set -eu
cd "$(dirname "$0")"

"#,
        mount = e.mount
    ));
    let m = &e.mount;
    s.push_str(&format!(
        "if ! bao read {} >/dev/null 2>&1; then\n  bao secrets enable -path={} kubernetes\nfi\n\n",
        sh(&format!("sys/mounts/{m}")),
        sh(m)
    ));
    for r in &e.roles {
        let name = policy_name(&r.name);
        s.push_str(&format!(
            "bao policy write {} {}\n",
            sh(&name),
            sh(&format!("openbao/policies/{name}.hcl"))
        ));
    }
    let config = format!("{} @{}", sh(&format!("{m}/config")), sh(config_path()));
    if e.config.disable_local_ca_jwt {
        s.push_str(
            "\n: \"${BAOGEN_K8S_JWT_FILE:?disable_local_ca_jwt is true: set BAOGEN_K8S_JWT_FILE to a file holding the service account JWT}\"\n",
        );
    } else {
        s.push('\n');
    }
    s.push_str(&format!(
        "if [ -n \"${{BAOGEN_K8S_JWT_FILE:-}}\" ]; then\n  bao write {config} service_account_jwt=@\"$BAOGEN_K8S_JWT_FILE\"\nelse\n  bao write {config}\nfi\n\n"
    ));
    for r in &e.roles {
        s.push_str(&format!(
            "bao write {} @{}\n",
            sh(&format!("{m}/roles/{}", r.name)),
            sh(&role_path(&r.name))
        ));
    }
    s
}

/// Render every engine artifact.
pub fn emit(p: &Profile, e: &Engine, out: &mut Artifacts) {
    out.add(config_path(), pretty(&config_body(&e.config)));
    let hash = header(p, "#");
    for r in &e.roles {
        out.add(role_path(&r.name), pretty(&role_body(r)));
        let creds = format!("{}/creds/{}", e.mount, r.name);
        out.add(
            format!("openbao/policies/{}.hcl", policy_name(&r.name)),
            format!("{hash}{}", hcl::policy(&[(creds.as_str(), &["update"])])),
        );
    }

    let (cluster, per_ns) = rbac(e);
    if !cluster.is_empty() {
        let role = ClusterRole {
            metadata: meta(p, None),
            rules: Some(cluster),
            ..Default::default()
        };
        kube::add_object(p, out, "engine-clusterrole.yaml", &role);
        let binding = ClusterRoleBinding {
            metadata: meta(p, None),
            role_ref: role_ref("ClusterRole"),
            subjects: Some(subject(p)),
        };
        kube::add_object(p, out, "engine-clusterrolebinding.yaml", &binding);
    }
    for (ns, rules) in per_ns {
        let role = Role {
            metadata: meta(p, Some(&ns)),
            rules: Some(rules),
        };
        kube::add_object(p, out, &format!("engine-role-{ns}.yaml"), &role);
        let binding = RoleBinding {
            metadata: meta(p, Some(&ns)),
            role_ref: role_ref("Role"),
            subjects: Some(subject(p)),
        };
        kube::add_object(p, out, &format!("engine-rolebinding-{ns}.yaml"), &binding);
    }

    out.add("apply.sh", apply_script(p, e));
}

#[cfg(test)]
mod tests {
    use super::sh;

    #[test]
    fn shell_words_are_quoted() {
        assert_eq!(
            sh("kubernetes/roles/ci-deployer"),
            "kubernetes/roles/ci-deployer"
        );
        assert_eq!(sh("a b'c"), r"'a b'\''c'");
        assert_eq!(sh("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(sh(""), "''");
    }
}
