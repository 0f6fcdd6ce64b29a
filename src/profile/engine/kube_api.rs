//! Checks of the generic Kubernetes API types a role carries (RBAC policy rules, label
//! selectors), as the API server validates them, plus the wildcard opt-in.

use super::super::ctx::Ctx;
use super::super::raw::{self, Sp};
use super::super::rules;
use crate::diag::Code;
use crate::model;

/// Verbs the Kubernetes API server and its authorizers know.
const VERBS: [&str; 16] = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "use",
    "bind",
    "escalate",
    "impersonate",
    "approve",
    "sign",
    "attest",
    "*",
];

/// The checks of the API server's `ValidatePolicyRule`, plus known verbs and the wildcard
/// opt-in for cluster-wide roles.
pub(super) fn policy_rule(
    cx: &mut Ctx<'_>,
    r: &raw::PolicyRule,
    who: &str,
    cluster_role: bool,
    allow_wild: bool,
) -> model::PolicyRule {
    let what = format!("{who}: rule");
    if r.verbs.get().is_empty() {
        cx.error(
            Code::IncompleteRule,
            Some(r.verbs.span()),
            format!("{what} has no verbs"),
            "list verbs such as [\"get\", \"list\"]",
        );
    }
    for v in r.verbs.get() {
        cx.check(Code::RuleEntry,
            v,
            &format!("{what} verb"),
            |s| {
                if VERBS.contains(&s) {
                    Ok(())
                } else {
                    Err("is not a Kubernetes verb".to_string())
                }
            },
            "verbs are get, list, watch, create, update, patch, delete, deletecollection, use, bind, escalate, impersonate, approve, sign, attest or *",
        );
    }
    let non_resource = r.non_resource_urls.as_ref().filter(|l| !l.get().is_empty());
    if let Some(urls) = non_resource {
        if !cluster_role {
            cx.error(
                Code::NonResourceUrls,
                Some(urls.span()),
                format!("{what} has nonResourceURLs, which only a ClusterRole can grant"),
                "set kubernetes_role_type = \"ClusterRole\", or remove nonResourceURLs",
            );
        }
        for (key, list) in [
            ("apiGroups", &r.api_groups),
            ("resources", &r.resources),
            ("resourceNames", &r.resource_names),
        ] {
            if let Some(l) = list.as_ref().filter(|l| !l.get().is_empty()) {
                cx.error(Code::NonResourceUrls,
                    Some(l.span()),
                    format!("{what} mixes nonResourceURLs with {key}"),
                    "Kubernetes rejects this: put resource and non-resource grants in separate rules",
                );
            }
        }
        for u in urls.get() {
            cx.check(
                Code::RuleEntry,
                u,
                &format!("{what} nonResourceURL"),
                |s| {
                    let star = s.find('*');
                    if !(s.starts_with('/') || s == "*") {
                        Err("must start with '/'".to_string())
                    } else if star.is_some_and(|i| i != s.len() - 1) {
                        Err("may use '*' only at the end".to_string())
                    } else {
                        Ok(())
                    }
                },
                "e.g. /healthz or /metrics",
            );
        }
    } else {
        let span = r.verbs.span();
        match &r.api_groups {
            Some(l) if !l.get().is_empty() => {
                for g in l.get() {
                    if !g.get().is_empty() && g.get() != "*" {
                        cx.check(Code::RuleEntry, g, &format!("{what} apiGroup"), rules::dns_subdomain, "\"\" for the core group, or e.g. apps, batch, rbac.authorization.k8s.io");
                    }
                }
            }
            other => cx.error(Code::IncompleteRule,
                Some(other.as_ref().map_or(span.clone(), |l| l.span())),
                format!("{what} has no apiGroups"),
                "Kubernetes rejects resource rules without apiGroups: use [\"\"] for the core group",
            ),
        }
        match &r.resources {
            Some(l) if !l.get().is_empty() => {
                for res in l.get() {
                    cx.check(Code::RuleEntry,
                        res,
                        &format!("{what} resource"),
                        |s| {
                            let ok = !s.is_empty()
                                && s.split('/').count() <= 2
                                && s.split('/').all(|p| {
                                    p == "*"
                                        || (!p.is_empty()
                                            && p.bytes().all(|b| {
                                                b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                                            }))
                                });
                            if ok {
                                Ok(())
                            } else {
                                Err("is not a resource such as pods, pods/log or *".to_string())
                            }
                        },
                        "resources are lower-case plural names, optionally with a subresource: pods, pods/log, deployments/scale",
                    );
                }
            }
            other => cx.error(
                Code::IncompleteRule,
                Some(other.as_ref().map_or(span, |l| l.span())),
                format!("{what} has neither resources nor nonResourceURLs"),
                "add resources = [\"pods\"] (or nonResourceURLs in a ClusterRole)",
            ),
        }
        for n in r.resource_names.iter().flat_map(|l| l.get()) {
            cx.check(Code::RuleEntry,
                n,
                &format!("{what} resourceName"),
                |s| {
                    path_segment_name(s)?;
                    match s.chars().find(|c| matches!(c, '*' | '?' | '[' | ']')) {
                        Some(c) => Err(format!("contains '{c}', but RBAC compares resource names literally, so the grant would match nothing")),
                        None => Ok(()),
                    }
                },
                "the exact name of one object; to allow every name, leave resourceNames out",
            );
        }
    }

    let rule = model::PolicyRule {
        api_groups: non_empty(strings(&r.api_groups)),
        resources: non_empty(strings(&r.resources)),
        verbs: r.verbs.get().iter().map(|s| s.get().clone()).collect(),
        resource_names: non_empty(strings(&r.resource_names)),
        non_resource_urls: non_empty(strings(&r.non_resource_urls)),
    };
    let wild = rule.verbs.iter().any(|v| v == "*")
        || rule
            .resources
            .iter()
            .flatten()
            .any(|v| v == "*" || v.starts_with("*/") || v.ends_with("/*"))
        || rule
            .non_resource_urls
            .iter()
            .flatten()
            .any(|v| v == "*" || v == "/*");
    if wild && cluster_role && !allow_wild {
        cx.error(Code::WildcardGrant,
            Some(r.verbs.span()),
            format!("{what} grants a wildcard ('*' or a subresource '*') in a ClusterRole, which can reach every namespace"),
            "list the verbs and resources the credentials need; if the wide grant is intended, set kubernetes_secrets.allow_wildcard_grants = true",
        );
    }
    rule
}

const OPERATORS: [&str; 4] = ["In", "NotIn", "Exists", "DoesNotExist"];

pub(super) fn selector(
    cx: &mut Ctx<'_>,
    s: &Sp<raw::LabelSelector>,
    who: &str,
) -> model::LabelSelector {
    let what = format!("{who}: allowed_kubernetes_namespace_selector");
    let match_labels = s
        .match_labels
        .as_ref()
        .map(|l| cx.labels(l, &format!("{what} matchLabels")))
        .unwrap_or_default();
    let mut match_expressions = Vec::new();
    for e in s.match_expressions.iter().flatten() {
        cx.check(
            Code::LabelKey,
            &e.key,
            &format!("{what} key"),
            rules::label_key,
            "a label key such as kubernetes.io/metadata.name",
        );
        let op = e.operator.get().as_str();
        let values: Vec<String> = strings(&e.values);
        if !OPERATORS.contains(&op) {
            cx.error(Code::SelectorExpression,
                Some(e.operator.span()),
                format!("{what} operator '{op}' is not In, NotIn, Exists or DoesNotExist"),
                "the engine stores any operator, but Kubernetes label selectors only know these four",
            );
        } else if matches!(op, "In" | "NotIn") && values.is_empty() {
            cx.error(
                Code::SelectorExpression,
                Some(e.values.as_ref().map_or(e.operator.span(), |v| v.span())),
                format!("{what} operator {op} needs at least one value"),
                "add values = [\"...\"]",
            );
        } else if matches!(op, "Exists" | "DoesNotExist") && !values.is_empty() {
            cx.error(
                Code::SelectorExpression,
                e.values.as_ref().map(|v| v.span()),
                format!("{what} operator {op} takes no values"),
                "remove values",
            );
        }
        for v in e.values.iter().flat_map(|l| l.get()) {
            cx.check(
                Code::LabelValue,
                v,
                &format!("{what} value"),
                rules::label_value,
                "label values are at most 63 characters of letters, digits, '-', '_' and '.'",
            );
        }
        match_expressions.push(model::LabelSelectorRequirement {
            key: e.key.get().clone(),
            operator: op.to_string(),
            values: non_empty(values),
        });
    }
    if match_labels.is_empty() && match_expressions.is_empty() {
        cx.error(Code::EmptySelector,
            Some(s.span()),
            format!("{what} is empty, and an empty selector matches every namespace"),
            "add matchLabels or matchExpressions; to allow every namespace on purpose, write allowed_kubernetes_namespaces = [\"*\"]",
        );
    }
    model::LabelSelector {
        match_labels: (!match_labels.is_empty()).then_some(match_labels),
        match_expressions: non_empty(match_expressions),
    }
}

/// Names Kubernetes accepts for objects without DNS rules (Roles, ClusterRoles).
pub(super) fn path_segment_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err("must be 1-253 characters".into());
    }
    if s == "." || s == ".." {
        return Err("must not be '.' or '..'".into());
    }
    if s.chars()
        .any(|c| c == '/' || c == '%' || c.is_whitespace() || c.is_control())
    {
        return Err("must not contain '/', '%', spaces or control characters".into());
    }
    Ok(())
}

/// Kubernetes' optional lists: an empty one is left out, as the API server writes it.
fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

pub(super) fn strings(v: &Option<Sp<Vec<Sp<String>>>>) -> Vec<String> {
    v.as_ref()
        .map(|l| l.get().iter().map(|s| s.get().clone()).collect())
        .unwrap_or_default()
}
