//! The Kubernetes secrets engine: API bodies for `<mount>/config` and `<mount>/roles/NAME`, a
//! consumer policy per role, and the RBAC OpenBao's own service account needs. `baogen apply`
//! writes the bodies and policies to a live server.

mod api;
mod rbac;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::artifacts::{header, Artifacts};
use super::{hcl, kube};
use crate::model::{Engine, Profile};

use super::artifacts::pretty;
use api::config_body;
use rbac::{Rbac, RBAC_GROUP};

/// What the tests and `explain` read: a role's API body and OpenBao's own RBAC.
pub use api::{role_body, RoleBody};
pub use rbac::openbao_rbac;

/// Name of the Role/ClusterRole (and bindings) granting OpenBao what the engine needs: one
/// per OpenBao namespace, so two OpenBao environments in one Kubernetes cluster never write the
/// same ClusterRole, ClusterRoleBinding or per-namespace Role (the second would take over the
/// first's binding). A namespace is at most 63 characters, so the name stays under 253.
pub fn rbac_name(p: &Profile) -> String {
    format!("openbao-kubernetes-secrets-{}", p.openbao.namespace)
}

pub fn config_path() -> &'static str {
    "openbao/kubernetes-secrets/config.json"
}

pub fn role_path(role: &str) -> String {
    format!("openbao/kubernetes-secrets/roles/{role}.json")
}

/// The consumer policy of a role: `MOUNT-creds-ROLE`, the mount's `/` written as `-`, so
/// profiles with different mounts on one server never write each other's policies (the
/// default mount gives `kubernetes-creds-ROLE`).
pub fn policy_name(mount: &str, role: &str) -> String {
    format!("{}{role}", policy_prefix(mount))
}

/// The part of every consumer policy name of `mount` before the role.
pub fn policy_prefix(mount: &str) -> String {
    format!("{}-creds-", mount.replace('/', "-"))
}

fn meta(p: &Profile, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(rbac_name(p)),
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

fn role_ref(p: &Profile, kind: &str) -> RoleRef {
    RoleRef {
        api_group: RBAC_GROUP.into(),
        kind: kind.into(),
        name: rbac_name(p),
    }
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
            format!("openbao/policies/{}.hcl", policy_name(&e.mount, &r.name)),
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
            role_ref: role_ref(p, "ClusterRole"),
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
            role_ref: role_ref(p, "Role"),
            subjects: Some(subject(p)),
        };
        kube::add_object(p, out, &format!("engine-rolebinding-{ns}.yaml"), &binding);
    }
}
