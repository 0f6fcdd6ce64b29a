//! The Kubernetes secrets engine: API bodies for `<mount>/config` and `<mount>/roles/NAME`, a
//! consumer policy per role, the RBAC OpenBao's own service account needs, and `apply.sh`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
use serde::Serialize;
use serde_json::{json, Value};

use super::artifacts::{header, Artifacts};
use super::{hcl, kube};
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

/// Verbs in the order Kubernetes documentation lists them; a set of verbs is a `u16` whose bit
/// `i` stands for `VERB_ORDER[i]`.
const VERB_ORDER: [&str; 9] = [
    "get", "list", "watch", "create", "update", "patch", "delete", "bind", "escalate",
];
const GET: u16 = 1 << 0;
const CREATE: u16 = 1 << 3;
const DELETE: u16 = 1 << 6;
const BIND: u16 = 1 << 7;
const ESCALATE: u16 = 1 << 8;

/// The resources the engine's calls touch. Declared in (API group, resource) order, which
/// is the order `Grants::rules` emits them in.
#[derive(Clone, Copy)]
enum Resource {
    Namespaces,
    ServiceAccounts,
    ServiceAccountTokens,
    ClusterRoleBindings,
    ClusterRoles,
    RoleBindings,
    Roles,
}

impl Resource {
    const ALL: [Resource; 7] = [
        Resource::Namespaces,
        Resource::ServiceAccounts,
        Resource::ServiceAccountTokens,
        Resource::ClusterRoleBindings,
        Resource::ClusterRoles,
        Resource::RoleBindings,
        Resource::Roles,
    ];

    /// (API group, resource) as RBAC names it.
    fn name(self) -> (&'static str, &'static str) {
        match self {
            Resource::Namespaces => ("", "namespaces"),
            Resource::ServiceAccounts => ("", "serviceaccounts"),
            Resource::ServiceAccountTokens => ("", "serviceaccounts/token"),
            Resource::ClusterRoleBindings => (RBAC_GROUP, "clusterrolebindings"),
            Resource::ClusterRoles => (RBAC_GROUP, "clusterroles"),
            Resource::RoleBindings => (RBAC_GROUP, "rolebindings"),
            Resource::Roles => (RBAC_GROUP, "roles"),
        }
    }
}

/// What one resource is granted: verbs on all objects, and verbs on named objects (collected
/// as added, sorted and merged once in `rules`).
#[derive(Default)]
struct Grant<'a> {
    all: u16,
    named: Vec<(&'a str, u16)>,
}

/// What makes one rule: API group, resource name (none for all) and verb positions; the
/// resources that share a key are listed in one rule.
type RuleKey<'a> = (&'a str, Option<&'a str>, Vec<usize>);

/// Grants per resource, merged across roles. Names borrow from the model and verbs are bits,
/// so adding a grant is an array index and at most a push: a render adds several per role,
/// and 10,000 roles must cost ten times 1,000 (issue 7).
#[derive(Default)]
struct Grants<'a>([Grant<'a>; Resource::ALL.len()]);

impl<'a> Grants<'a> {
    fn add(&mut self, resource: Resource, name: Option<&'a str>, verbs: u16) {
        let grant = &mut self.0[resource as usize];
        match name {
            None => grant.all |= verbs,
            Some(name) => grant.named.push((name, verbs)),
        }
    }

    fn merge(&mut self, other: Grants<'a>) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            mine.all |= theirs.all;
            mine.named.extend(theirs.named);
        }
    }

    /// One rule per (group, resourceNames, verbs), resources merged.
    fn rules(mut self) -> Vec<PolicyRule> {
        // Verbs as their VERB_ORDER positions, so rules sort by them as lists.
        let positions = |bits: u16| -> Vec<usize> {
            (0..VERB_ORDER.len())
                .filter(|i| bits & (1 << i) != 0)
                .collect()
        };
        let mut merged: BTreeMap<RuleKey, Vec<String>> = BTreeMap::new();
        for (grant, resource) in self.0.iter_mut().zip(Resource::ALL) {
            let (group, resource) = resource.name();
            let mut add = |name: Option<&'a str>, bits: u16| {
                merged
                    .entry((group, name, positions(bits)))
                    .or_default()
                    .push(resource.to_string());
            };
            if grant.all != 0 {
                add(None, grant.all);
            }
            grant.named.sort_by_key(|&(name, _)| name);
            for same in grant.named.chunk_by(|a, b| a.0 == b.0) {
                let bits = same.iter().fold(0, |acc, &(_, b)| acc | b);
                // A grant limited to a name adds nothing when the same verbs are granted for all.
                if grant.all & bits != bits {
                    add(Some(same[0].0), bits);
                }
            }
        }
        merged
            .into_iter()
            .map(|((group, name, verbs), resources)| PolicyRule {
                api_groups: Some(vec![group.to_string()]),
                resources: Some(resources),
                verbs: verbs.iter().map(|&i| VERB_ORDER[i].to_string()).collect(),
                resource_names: name.map(|n| vec![n.to_string()]),
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
fn role_grants<'a>(r: &'a EngineRole, namespaced: &mut Grants<'a>, cluster: &mut Grants<'a>) {
    use Resource::*;
    let generated_objects = |g: &mut Grants| {
        g.add(ServiceAccounts, None, CREATE | DELETE);
        g.add(ServiceAccountTokens, None, CREATE);
        g.add(RoleBindings, None, CREATE | DELETE);
    };
    match &r.mode {
        RoleMode::ServiceAccount(sa) => namespaced.add(ServiceAccountTokens, Some(sa), CREATE),
        RoleMode::BindRole { name, cluster_role } => {
            generated_objects(namespaced);
            let kind = if *cluster_role { ClusterRoles } else { Roles };
            namespaced.add(kind, Some(name), BIND);
            if r.cluster_role_binding {
                cluster.add(ClusterRoleBindings, None, CREATE | DELETE);
                cluster.add(ClusterRoles, Some(name), BIND);
            }
        }
        RoleMode::GenerateRules { cluster_role, .. } => {
            generated_objects(namespaced);
            let verbs = CREATE | DELETE | BIND | ESCALATE;
            if *cluster_role {
                cluster.add(ClusterRoles, None, verbs);
            } else {
                namespaced.add(Roles, None, verbs);
            }
            if r.cluster_role_binding {
                cluster.add(ClusterRoleBindings, None, CREATE | DELETE);
            }
        }
    }
    if r.namespace_selector.is_some() {
        cluster.add(Namespaces, None, GET);
    }
}

/// A role is confined when it lists named namespaces only; anything else (`*`, a selector)
/// needs its namespaced grants cluster-wide.
fn confined(r: &EngineRole) -> bool {
    r.namespace_selector.is_none() && !r.allowed_namespaces.iter().any(|n| n == "*")
}

/// Cluster-wide grants, and namespaced grants per namespace, gathered role by role.
#[derive(Default)]
struct Rbac<'a> {
    cluster: Grants<'a>,
    per_ns: BTreeMap<&'a str, Grants<'a>>,
}

impl<'a> Rbac<'a> {
    fn add(&mut self, r: &'a EngineRole) {
        if confined(r) {
            for ns in &r.allowed_namespaces {
                role_grants(r, self.per_ns.entry(ns).or_default(), &mut self.cluster);
            }
        } else {
            let mut wide = Grants::default();
            role_grants(r, &mut wide, &mut self.cluster);
            self.cluster.merge(wide);
        }
    }

    /// The ClusterRole's rules, and each namespace's Role rules.
    fn rules(self) -> (Vec<PolicyRule>, Vec<(&'a str, Vec<PolicyRule>)>) {
        let per_ns = self
            .per_ns
            .into_iter()
            .map(|(ns, g)| (ns, g.rules()))
            .collect();
        (self.cluster.rules(), per_ns)
    }
}

/// The RBAC OpenBao's service account receives for the engine, exactly as emitted: the
/// ClusterRole's rules, and each namespace's Role rules (`explain` prints it).
pub fn openbao_rbac(e: &Engine) -> (Vec<PolicyRule>, Vec<(&str, Vec<PolicyRule>)>) {
    let mut rbac = Rbac::default();
    for r in &e.roles {
        rbac.add(r);
    }
    rbac.rules()
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
pub fn sh(s: &str) -> Cow<'_, str> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=@:,+".contains(&b))
    {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(format!("'{}'", s.replace('\'', r"'\''")))
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
        "if ! bao read {} >/dev/null 2>&1; then\n  bao secrets enable -path={} kubernetes\nfi\n",
        sh(&format!("sys/mounts/{m}")),
        sh(m)
    ));
    // The profile's TTL checks assume this maximum; apply.sh makes it true.
    if let Some(max) = e.mount_max_lease_ttl {
        s.push_str(&format!(
            "bao secrets tune -max-lease-ttl={max}s {}\n",
            sh(m)
        ));
    }
    s.push('\n');
    // One pass over the roles writes both of their sections.
    let (mut policies, mut roles) = (String::new(), String::new());
    for r in &e.roles {
        let name = policy_name(&r.name);
        let file = format!("openbao/policies/{name}.hcl");
        let _ = writeln!(policies, "bao policy write {} {}", sh(&name), sh(&file));
        let path = format!("{m}/roles/{}", r.name);
        let _ = writeln!(
            roles,
            "bao write {} @{}",
            sh(&path),
            sh(&role_path(&r.name))
        );
    }
    s.push_str(&policies);
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
    s.push_str(&roles);
    s
}

/// Render every engine artifact.
pub fn emit(p: &Profile, e: &Engine, out: &mut Artifacts) {
    out.add(config_path(), pretty(&config_body(&e.config)));
    let hash = header(p, "#");
    // One pass over the roles: at 10,000 roles each further pass costs cache misses (issue 7).
    let mut rbac = Rbac::default();
    for r in &e.roles {
        out.add(role_path(&r.name), pretty(&role_body(r)));
        let creds = format!("{}/creds/{}", e.mount, r.name);
        out.add(
            format!("openbao/policies/{}.hcl", policy_name(&r.name)),
            format!("{hash}{}", hcl::policy(&[(creds.as_str(), &["update"])])),
        );
        rbac.add(r);
    }

    let (cluster, per_ns) = rbac.rules();
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
            metadata: meta(p, Some(ns)),
            rules: Some(rules),
        };
        kube::add_object(p, out, &format!("engine-role-{ns}.yaml"), &role);
        let binding = RoleBinding {
            metadata: meta(p, Some(ns)),
            role_ref: role_ref("Role"),
            subjects: Some(subject(p)),
        };
        kube::add_object(p, out, &format!("engine-rolebinding-{ns}.yaml"), &binding);
    }

    out.add("apply.sh", apply_script(p, e));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (apiGroups, resources, verbs, resourceNames) of each rule, in order.
    fn summary(rules: Vec<PolicyRule>) -> Vec<(String, String, String, String)> {
        rules
            .into_iter()
            .map(|r| {
                let join = |v: Option<Vec<String>>| v.unwrap_or_default().join(",");
                (
                    join(r.api_groups),
                    join(r.resources),
                    r.verbs.join(","),
                    join(r.resource_names),
                )
            })
            .collect()
    }

    #[test]
    fn grants_merge_per_name_and_group_resources_that_share_verbs() {
        use Resource::*;
        let mut g = Grants::default();
        g.add(ServiceAccountTokens, Some("b"), CREATE);
        g.add(Roles, Some("edit"), BIND);
        g.add(ServiceAccountTokens, Some("a"), CREATE);
        g.add(ServiceAccounts, None, CREATE | DELETE);
        g.add(Roles, Some("edit"), ESCALATE);
        g.add(RoleBindings, None, DELETE | CREATE);
        g.add(Roles, None, BIND);
        g.add(Namespaces, None, CREATE);
        g.add(Namespaces, None, DELETE);
        let rbac = RBAC_GROUP.to_string();
        let row = |g: &str, r: &str, v: &str, n: &str| (g.into(), r.into(), v.into(), n.into());
        assert_eq!(
            summary(g.rules()),
            vec![
                row("", "namespaces,serviceaccounts", "create,delete", ""),
                row("", "serviceaccounts/token", "create", "a"),
                row("", "serviceaccounts/token", "create", "b"),
                row(&rbac, "rolebindings", "create,delete", ""),
                row(&rbac, "roles", "bind", ""),
                // Not covered by the unlimited grant: it lacks `escalate`.
                row(&rbac, "roles", "bind,escalate", "edit"),
            ]
        );
    }

    #[test]
    fn a_named_grant_covered_by_the_same_verbs_on_all_objects_is_left_out() {
        use Resource::*;
        let mut g = Grants::default();
        g.add(ServiceAccountTokens, Some("deployer"), CREATE);
        g.add(ServiceAccountTokens, None, CREATE);
        let mut wide = Grants::default();
        wide.add(ClusterRoles, Some("view"), BIND);
        g.merge(wide);
        assert_eq!(
            summary(g.rules()),
            vec![
                (
                    "".into(),
                    "serviceaccounts/token".into(),
                    "create".into(),
                    "".into()
                ),
                (
                    RBAC_GROUP.into(),
                    "clusterroles".into(),
                    "bind".into(),
                    "view".into()
                ),
            ]
        );
    }

    #[test]
    fn resources_are_declared_in_sorted_order_each_at_its_index() {
        // `Grants::rules` emits resources in declaration order, which must be the sorted one.
        let names = Resource::ALL.map(Resource::name);
        assert!(names.is_sorted(), "{names:?}");
        assert!(Resource::ALL
            .iter()
            .enumerate()
            .all(|(i, &r)| r as usize == i));
    }

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
