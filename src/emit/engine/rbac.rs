//! The RBAC OpenBao's own service account needs for the engine's calls: the least set of
//! rules, gathered in one pass over the roles, grouped cluster-wide and per namespace.

use std::collections::BTreeMap;

use crate::model::{Engine, EngineRole, PolicyRule, RoleMode};

pub(super) const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

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
pub(super) struct Rbac<'a> {
    cluster: Grants<'a>,
    per_ns: BTreeMap<&'a str, Grants<'a>>,
}

impl<'a> Rbac<'a> {
    pub(super) fn add(&mut self, r: &'a EngineRole) {
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
    pub(super) fn rules(self) -> (Vec<PolicyRule>, Vec<(&'a str, Vec<PolicyRule>)>) {
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
}
