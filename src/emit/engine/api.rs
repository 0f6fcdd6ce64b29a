//! The engine's API bodies: what `<mount>/config` and `<mount>/roles/NAME` are written with.

use serde::Serialize;
use serde_json::{json, Value};

use crate::model::{self, EngineRole, LabelSelector, PolicyRule, RoleMode};

/// Every key is sent, empty when unused: the engine merges a write into the stored config.
pub(super) fn config_body(c: &model::EngineConfig) -> Value {
    json!({
        "kubernetes_host": c.kubernetes_host.clone().unwrap_or_default(),
        "kubernetes_ca_cert": c.kubernetes_ca_cert.clone().unwrap_or_default(),
        "disable_local_ca_jwt": c.disable_local_ca_jwt,
    })
}

/// The string forms the engine parses (as JSON, a subset of the YAML it also accepts).
fn rules_string(rules: &[PolicyRule]) -> String {
    serde_json::to_string(&json!({ "rules": rules })).expect("plain JSON")
}

fn selector_string(s: &LabelSelector) -> String {
    serde_json::to_string(s).expect("plain JSON")
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
