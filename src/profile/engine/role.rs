//! One engine role: its name, TTLs, namespaces, audiences, metadata and mode (which of the
//! engine's three ways to hand out credentials it uses).

use std::collections::BTreeMap;
use std::ops::Range;

use super::super::ctx::Ctx;
use super::super::raw::{self, Sp};
use super::super::rules;
use crate::diag::Code;
use crate::model;

use super::kube_api::{path_segment_name, policy_rule, selector};

/// Labels the engine sets on every object it creates, overriding `extra_labels`
/// (client.go, `standardLabels`).
const STANDARD_LABELS: [&str; 2] = [
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/created-by",
];

/// Kubernetes' limit on the total size of an object's annotations (and so of what baogen
/// puts into labels and annotations together).
const MAX_METADATA_BYTES: usize = 256 * 1024;

/// Role names: what the engine's URL pattern accepts (`\w([\w-.]*\w)?`), lower-case because
/// the engine lower-cases the name it stores, so file names and stored roles never differ.
pub(super) fn role_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > 128 {
        return Err(format!(
            "is {} characters long; at most 128 are allowed",
            s.len()
        ));
    }
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "has upper-case letters; OpenBao stores role names lower-cased, so write '{}'",
            s.to_ascii_lowercase()
        ));
    }
    let ok_char = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
    let b = s.as_bytes();
    if !b.iter().all(|&c| ok_char(c) || matches!(c, b'-' | b'.')) {
        return Err(
            "may contain only lower-case letters, digits, '-', '_' and '.' (it is a file name and a URL path segment)"
                .into(),
        );
    }
    if !ok_char(b[0]) || !ok_char(b[b.len() - 1]) {
        return Err("must start and end with a letter, digit or '_'".into());
    }
    Ok(())
}

/// OpenBao's default `max_lease_ttl` (32 days), which caps every credential of a mount not
/// tuned otherwise.
pub(super) const DEFAULT_MAX_LEASE_TTL: u64 = 768 * 3600;
/// The shortest token Kubernetes issues (TokenRequest `expirationSeconds` minimum).
const MIN_TOKEN_TTL: u64 = 600;
/// Go's `time.Duration` holds at most 2^63-1 nanoseconds: longer TTLs overflow in the engine.
const MAX_GO_DURATION_SECONDS: u64 = (i64::MAX / 1_000_000_000) as u64;

/// The range a role TTL must fall in.
#[derive(Clone, Copy)]
pub(super) struct TtlLimits {
    /// The mount's maximum lease TTL in seconds.
    pub(super) max: u64,
    /// Whether the profile declared it.
    pub(super) declared: bool,
}

/// TTLs: whole seconds, as a number of seconds or a duration such as `1h30m`; the engine
/// truncates sub-second parts, so they are refused rather than silently dropped.
pub(super) fn ttl_seconds(s: &str) -> Result<u64, String> {
    let seconds = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().map_err(|_| "is too large".to_string())?
    } else {
        let ms = rules::duration_ms(s).map_err(|e| format!("is invalid: {e}"))?;
        if ms % 1000 != 0 {
            return Err("is not a whole number of seconds".into());
        }
        ms / 1000
    };
    if seconds > MAX_GO_DURATION_SECONDS {
        return Err(format!(
            "is beyond the engine's duration range (at most {MAX_GO_DURATION_SECONDS} seconds, about 292 years)"
        ));
    }
    Ok(seconds)
}

/// A role TTL in seconds (0 when unset: the engine's default), within what Kubernetes issues
/// and what the mount allows, because both would otherwise change it silently.
fn ttl(cx: &mut Ctx<'_>, v: &Option<Sp<String>>, what: &str, limits: TtlLimits) -> u64 {
    let Some(v) = v else { return 0 };
    let Some(seconds) = cx.check(
        Code::Ttl,
        v,
        what,
        ttl_seconds,
        "write seconds or a duration such as 30m, 1h or 24h",
    ) else {
        return 0;
    };
    if seconds > 0 && seconds < MIN_TOKEN_TTL {
        cx.error(
            Code::TtlBelowMinimum,
            Some(v.span()),
            format!("{what} is {seconds}s; Kubernetes issues no token shorter than 10 minutes"),
            "use at least 10m (600 seconds), or leave it out for the engine's default",
        );
    } else if seconds > limits.max {
        let help = if limits.declared {
            "shorten the TTL, or raise kubernetes_secrets.mount_max_lease_ttl (the server's max_lease_ttl must allow it)".to_string()
        } else {
            "OpenBao caps credentials at the mount's max_lease_ttl (768h unless tuned): shorten the TTL, or declare the tuned maximum with kubernetes_secrets.mount_max_lease_ttl".to_string()
        };
        cx.error(Code::TtlAboveLimit,
            Some(v.span()),
            format!(
                "{what} is {seconds}s, longer than the mount's maximum lease TTL ({}s); OpenBao would silently shorten it",
                limits.max
            ),
            help,
        );
    }
    seconds
}

pub(super) fn role(
    cx: &mut Ctx<'_>,
    r: &raw::EngineRole,
    allow_wild: bool,
    limits: TtlLimits,
) -> model::EngineRole {
    let name = r.name.get().clone();
    cx.no_removal(&r.remove, "role");
    cx.check(
        Code::RoleName,
        &r.name,
        "engine role name",
        role_name,
        "e.g. ci-deployer; it names roles/NAME, creds/NAME and the policy MOUNT-creds-NAME",
    );
    let who = format!("engine role '{name}'");

    // Namespaces: valid, distinct, and '*' alone.
    let mut namespaces = Vec::new();
    if let Some(list) = &r.allowed_kubernetes_namespaces {
        for ns in list.get() {
            if ns.get() != "*" {
                cx.check(
                    Code::KubernetesName,
                    ns,
                    &format!("{who}: namespace"),
                    rules::dns_label,
                    "a Kubernetes namespace name, or \"*\" for all namespaces",
                );
            }
            if let Some(first) = list.get().iter().find(|o| o.get() == ns.get()) {
                if first.span() != ns.span() {
                    cx.clash(
                        Code::Duplicate,
                        ns.span(),
                        format!("{who} lists namespace '{}' twice", ns.get()),
                        first.span(),
                        "first listed here",
                        "list each namespace once",
                    );
                }
            }
            namespaces.push(ns.get().clone());
        }
        if namespaces.iter().any(|n| n == "*") && namespaces.len() > 1 {
            cx.error(Code::WildcardWithNamespaces,
                Some(list.span()),
                format!("{who} lists \"*\" together with other namespaces"),
                "\"*\" already allows every namespace: list it alone, or list only named namespaces",
            );
        }
    }
    let selector = r
        .allowed_kubernetes_namespace_selector
        .as_ref()
        .map(|s| selector(cx, s, &who));
    if namespaces.is_empty() && selector.is_none() {
        cx.error(Code::NamespaceScope,
            Some(
                r.allowed_kubernetes_namespaces
                    .as_ref()
                    .map_or(r.name.span(), |l| l.span()),
            ),
            format!("{who} allows no namespace: set allowed_kubernetes_namespaces or allowed_kubernetes_namespace_selector"),
            "e.g. allowed_kubernetes_namespaces = [\"ci\"]; OpenBao rejects a role without either",
        );
    }
    if selector.is_some() && namespaces.iter().any(|n| n == "*") {
        cx.error(
            Code::NamespaceScope,
            r.allowed_kubernetes_namespace_selector
                .as_ref()
                .map(|s| s.span()),
            format!("{who} has a namespace selector and allows \"*\": the selector has no effect"),
            "remove the selector, or list named namespaces instead of \"*\"",
        );
    }
    namespaces.sort();

    let token_max_ttl = ttl(
        cx,
        &r.token_max_ttl,
        &format!("{who}: token_max_ttl"),
        limits,
    );
    let token_default_ttl = ttl(
        cx,
        &r.token_default_ttl,
        &format!("{who}: token_default_ttl"),
        limits,
    );
    if token_max_ttl > 0 && token_default_ttl > token_max_ttl {
        cx.error(Code::TtlAboveLimit,
            r.token_default_ttl.as_ref().map(|v| v.span()),
            format!(
                "{who}: token_default_ttl ({token_default_ttl}s) is longer than token_max_ttl ({token_max_ttl}s)"
            ),
            "OpenBao rejects this role: shorten token_default_ttl or raise token_max_ttl",
        );
    }

    let mut audiences = Vec::new();
    for a in r.token_default_audiences.iter().flatten() {
        cx.check(
            Code::Audience,
            a,
            &format!("{who}: audience"),
            |s| {
                if s.is_empty()
                    || s.chars()
                        .any(|c| c == ',' || c.is_whitespace() || c.is_control())
                {
                    Err(
                        "must be non-empty without ',' or spaces (the engine splits on commas)"
                            .to_string(),
                    )
                } else {
                    Ok(())
                }
            },
            "e.g. https://kubernetes.default.svc",
        );
        if let Some(first) = r
            .token_default_audiences
            .iter()
            .flatten()
            .find(|o| o.get() == a.get())
        {
            if first.span() != a.span() {
                cx.clash(
                    Code::Duplicate,
                    a.span(),
                    format!("{who} lists audience '{}' twice", a.get()),
                    first.span(),
                    "first listed here",
                    "list each audience once",
                );
            }
        }
        audiences.push(a.get().clone());
    }
    audiences.sort();

    let mode = mode(cx, r, &who, allow_wild);
    let sa_mode = matches!(mode, model::RoleMode::ServiceAccount(_));

    let cluster_role_binding = match &r.cluster_role_binding {
        Some(b) if *b.get() => {
            if !mode.cluster_role() {
                cx.error(Code::BindingNeedsClusterRole,
                    Some(b.span()),
                    format!("{who}: cluster_role_binding needs kubernetes_role_type = \"ClusterRole\" with kubernetes_role_name or generated_role_rules"),
                    "OpenBao refuses a ClusterRoleBinding to a Role; remove cluster_role_binding",
                );
            }
            true
        }
        _ => false,
    };

    // What only affects generated objects has no effect for a pre-existing service account.
    let unused = |cx: &mut Ctx<'_>, span: Option<Range<usize>>, key: &str| {
        if sa_mode {
            cx.error(Code::NoEffect,
                span,
                format!("{who}: {key} has no effect with service_account_name, which creates no Kubernetes objects"),
                format!("remove {key}"),
            );
        }
    };
    let name_template = r.name_template.as_ref().map(|t| {
        unused(cx, Some(t.span()), "name_template");
        cx.check(Code::NameTemplate,
            t,
            &format!("{who}: name_template"),
            super::super::gotemplate::name_template,
            "a Go template such as {{ printf \"v-%s-%s\" (.RoleName | truncate 20) (random 20) | lowercase }}; fields: .DisplayName, .RoleName",
        );
        t.get().clone()
    });
    let extra_labels = match &r.extra_labels {
        Some(l) => {
            unused(cx, l.keys().next().map(|k| k.span()), "extra_labels");
            for k in l.keys() {
                if STANDARD_LABELS.contains(&k.get().as_str()) {
                    cx.error(Code::ReservedLabel,
                        Some(k.span()),
                        format!("{who}: extra_labels key '{}' is set by the engine itself and would be overridden", k.get()),
                        "remove this label",
                    );
                }
            }
            cx.labels(l, &format!("{who}: extra_labels"))
        }
        None => BTreeMap::new(),
    };
    let extra_annotations = match &r.extra_annotations {
        Some(l) => {
            unused(cx, l.keys().next().map(|k| k.span()), "extra_annotations");
            let mut out = BTreeMap::new();
            for (k, v) in l {
                cx.check(
                    Code::LabelKey,
                    k,
                    &format!("{who}: extra_annotations key"),
                    rules::label_key,
                    "annotation keys look like example.com/owner",
                );
                out.insert(k.get().clone(), v.get().clone());
            }
            out
        }
        None => BTreeMap::new(),
    };

    let metadata_bytes: usize = extra_labels
        .iter()
        .chain(extra_annotations.iter())
        .map(|(k, v)| k.len() + v.len())
        .sum();
    if metadata_bytes > MAX_METADATA_BYTES {
        let span = r
            .extra_annotations
            .as_ref()
            .and_then(|a| a.keys().next().map(|k| k.span()))
            .unwrap_or(r.name.span());
        cx.error(Code::MetadataTooLarge,
            Some(span),
            format!("{who}: extra_labels and extra_annotations come to {metadata_bytes} bytes; Kubernetes refuses objects whose metadata exceeds {MAX_METADATA_BYTES} bytes (256 KiB)"),
            "keep large data out of labels and annotations",
        );
    }

    model::EngineRole {
        name,
        allowed_namespaces: namespaces,
        namespace_selector: selector,
        token_max_ttl,
        token_default_ttl,
        token_default_audiences: audiences,
        mode,
        cluster_role_binding,
        name_template,
        extra_annotations,
        extra_labels,
    }
}

fn mode(cx: &mut Ctx<'_>, r: &raw::EngineRole, who: &str, allow_wild: bool) -> model::RoleMode {
    let set: Vec<(&str, Range<usize>)> = [
        r.service_account_name
            .as_ref()
            .map(|v| ("service_account_name", v.span())),
        r.kubernetes_role_name
            .as_ref()
            .map(|v| ("kubernetes_role_name", v.span())),
        r.generated_role_rules
            .as_ref()
            .map(|v| ("generated_role_rules", v.span())),
    ]
    .into_iter()
    .flatten()
    .collect();
    match set.as_slice() {
        [] => cx.error(Code::RoleModeNone,
            Some(r.name.span()),
            format!("{who} sets none of service_account_name, kubernetes_role_name and generated_role_rules"),
            "set exactly one: a pre-existing service account, a pre-existing role to bind, or rules to generate",
        ),
        [_] => {}
        [(first, first_span), rest @ ..] => {
            for (key, span) in rest {
                cx.clash(
                    Code::RoleModeSeveral,
                    span.clone(),
                    format!("{who} sets both {first} and {key}"),
                    first_span.clone(),
                    format!("{first} is set here"),
                    "OpenBao accepts exactly one of service_account_name, kubernetes_role_name and generated_role_rules",
                );
            }
        }
    }

    let cluster_role = match &r.kubernetes_role_type {
        Some(t) => {
            if r.service_account_name.is_some() {
                cx.error(
                    Code::NoEffect,
                    Some(t.span()),
                    format!("{who}: kubernetes_role_type has no effect with service_account_name"),
                    "remove kubernetes_role_type",
                );
            }
            match t.get().as_str() {
                "Role" => false,
                "ClusterRole" => true,
                other => {
                    let help = match other.to_ascii_lowercase().as_str() {
                        "role" => "write it exactly as Kubernetes does: \"Role\"",
                        "clusterrole" => "write it exactly as Kubernetes does: \"ClusterRole\"",
                        _ => "use \"Role\" or \"ClusterRole\"",
                    };
                    cx.error(
                        Code::RoleType,
                        Some(t.span()),
                        format!(
                            "{who}: kubernetes_role_type '{other}' is neither Role nor ClusterRole"
                        ),
                        help,
                    );
                    false
                }
            }
        }
        None => false,
    };

    if let Some(sa) = &r.service_account_name {
        cx.check(
            Code::KubernetesName,
            sa,
            &format!("{who}: service_account_name"),
            rules::dns_subdomain,
            "the name of an existing ServiceAccount in each allowed namespace",
        );
        return model::RoleMode::ServiceAccount(sa.get().clone());
    }
    if let Some(role) = &r.kubernetes_role_name {
        cx.check(
            Code::KubernetesName,
            role,
            &format!("{who}: kubernetes_role_name"),
            path_segment_name,
            "the name of an existing Role or ClusterRole",
        );
        if cluster_role && role.get() == "cluster-admin" && !allow_wild {
            cx.error(Code::ClusterAdmin,
                Some(role.span()),
                format!("{who} binds the cluster-admin ClusterRole"),
                "this hands out full control of the namespace (or cluster); if that is intended, set kubernetes_secrets.allow_wildcard_grants = true",
            );
        }
        return model::RoleMode::BindRole {
            name: role.get().clone(),
            cluster_role,
        };
    }
    let rules = r
        .generated_role_rules
        .as_ref()
        .map(|list| {
            if list.get().is_empty() {
                cx.error(
                    Code::EmptyRules,
                    Some(list.span()),
                    format!("{who}: generated_role_rules is empty"),
                    "add at least one rule; OpenBao treats an empty list as unset",
                );
            }
            list.get()
                .iter()
                .map(|rule| policy_rule(cx, rule, who, cluster_role, allow_wild))
                .collect()
        })
        .unwrap_or_default();
    model::RoleMode::GenerateRules {
        rules,
        cluster_role,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names() {
        assert!(role_name("ci-deployer").is_ok());
        assert!(role_name("a.b_c").is_ok());
        assert!(role_name("CI").is_err());
        assert!(role_name("-x").is_err());
        assert!(role_name("a/b").is_err());
        assert!(role_name("a b").is_err());
        assert!(role_name("a:b").is_err());
        assert!(role_name("a@b").is_err());
    }

    #[test]
    fn ttls() {
        assert_eq!(ttl_seconds("24h"), Ok(86400));
        assert_eq!(ttl_seconds("90"), Ok(90));
        assert!(ttl_seconds("1500ms").is_err());
        assert!(ttl_seconds("1d").is_err());
        assert!(ttl_seconds("").is_err());
    }
}
