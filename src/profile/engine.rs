//! `[kubernetes_secrets]`: the rules OpenBao's Kubernetes secrets engine applies to a role
//! write (builtin/logical/kubernetes/path_roles.go, `pathRolesWrite`), plus what the engine
//! wrongly accepts but Kubernetes or the creds request would later reject. Every rule points at
//! the offending value; `tests/engine_real.rs` shows the verdicts against the real engine.

use std::collections::BTreeMap;
use std::ops::Range;

use super::raw::{self, Sp};
use super::rules;
use super::validate::Ctx;
use crate::diag::Code;
use crate::model;

/// Mounts OpenBao reserves for itself.
const RESERVED_MOUNTS: [&str; 4] = ["sys", "auth", "identity", "cubbyhole"];

/// Labels the engine sets on every object it creates, overriding `extra_labels`
/// (client.go, `standardLabels`).
const STANDARD_LABELS: [&str; 2] = [
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/created-by",
];

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

/// Kubernetes' limit on the total size of an object's annotations (and so of what baogen
/// puts into labels and annotations together).
const MAX_METADATA_BYTES: usize = 256 * 1024;

/// More roles than this are refused: each role is a file and an API write, and the limit
/// keeps memory and render time bounded whatever a profile says.
pub(super) const MAX_ROLES: usize = 10_000;

pub(super) fn engine(cx: &mut Ctx<'_>, ks: &raw::KubernetesSecrets) -> model::Engine {
    if let Some(first_extra) = ks.roles.get(MAX_ROLES) {
        cx.error(
            Code::TooManyRoles,
            Some(first_extra.name.span()),
            format!(
                "the profile declares {} engine roles; baogen renders at most {MAX_ROLES}",
                ks.roles.len()
            ),
            "split the roles across several profiles (one per mount or team)",
        );
        return model::Engine {
            mount: String::new(),
            mount_max_lease_ttl: None,
            config: config(cx, &ks.config),
            roles: Vec::new(),
        };
    }
    let mount = match &ks.mount {
        Some(m) => {
            cx.check(
                Code::MountPath,
                m,
                "kubernetes_secrets.mount",
                mount_path,
                "a mount path such as kubernetes or k8s/prod",
            );
            m.get().clone()
        }
        None => "kubernetes".into(),
    };
    let config = config(cx, &ks.config);
    let allow_wild = ks.allow_wildcard_grants.as_ref().is_some_and(|b| *b.get());
    let mount_max_lease_ttl = ks.mount_max_lease_ttl.as_ref().and_then(|v| {
        cx.check(
            Code::Ttl,
            v,
            "kubernetes_secrets.mount_max_lease_ttl",
            |s| match ttl_seconds(s)? {
                0 => Err("is 0; leave it out to keep OpenBao's default of 768h".to_string()),
                n => Ok(n),
            },
            "a duration such as 2160h, as tuned on the mount",
        )
    });
    let limits = TtlLimits {
        max: mount_max_lease_ttl.unwrap_or(DEFAULT_MAX_LEASE_TTL),
        declared: mount_max_lease_ttl.is_some(),
    };
    let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
    let mut roles = Vec::new();
    for r in &ks.roles {
        if let Some(first) = seen.insert(r.name.get().clone(), r.name.span()) {
            cx.clash(
                Code::Duplicate,
                r.name.span(),
                format!("engine role '{}' is declared twice", r.name.get()),
                first,
                "first declared here",
                "give every role its own name; a second write would merge into the first",
            );
        }
        roles.push(role(cx, r, allow_wild, limits));
    }
    model::Engine {
        mount,
        mount_max_lease_ttl,
        config,
        roles,
    }
}

fn mount_path(s: &str) -> Result<(), String> {
    if s.is_empty() || s.starts_with('/') || s.ends_with('/') {
        return Err("must be a path without leading or trailing '/'".into());
    }
    for seg in s.split('/') {
        if seg.is_empty()
            || seg == "."
            || seg == ".."
            || !seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(format!(
                "has a segment '{seg}'; segments are letters, digits, '-', '_' and '.'"
            ));
        }
    }
    let first = s.split('/').next().unwrap_or_default();
    if RESERVED_MOUNTS.contains(&first) {
        return Err(format!("starts with '{first}', which OpenBao reserves"));
    }
    Ok(())
}

fn config(cx: &mut Ctx<'_>, c: &raw::EngineConfig) -> model::EngineConfig {
    let kubernetes_host = c.kubernetes_host.as_ref().map(|h| {
        cx.check(
            Code::HttpsUrl,
            h,
            "kubernetes_secrets.config.kubernetes_host",
            https_url,
            "the Kubernetes API URL, e.g. https://kubernetes.default.svc:443",
        );
        h.get().clone()
    });
    let (kubernetes_ca_cert, kubernetes_ca_cert_file) = match &c.kubernetes_ca_cert_file {
        Some(f) => (ca_cert(cx, f), Some(cx.base.join(f.get()))),
        None => (None, None),
    };
    model::EngineConfig {
        kubernetes_host,
        kubernetes_ca_cert,
        kubernetes_ca_cert_file,
        disable_local_ca_jwt: c.disable_local_ca_jwt.as_ref().is_some_and(|b| *b.get()),
    }
}

fn https_url(s: &str) -> Result<(), String> {
    let rest = s
        .strip_prefix("https://")
        .ok_or("must start with https:// (the Kubernetes API only speaks TLS)")?;
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("must not carry credentials".into());
    }
    // host, host:port, [v6], [v6]:port
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or("has an unclosed '[' in its host")?;
        match after {
            "" => (addr, None),
            p => (
                addr,
                Some(
                    p.strip_prefix(':')
                        .ok_or("has text after its IPv6 address")?,
                ),
            ),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    if host.contains([':', '[', ']']) && !authority.starts_with('[') {
        return Err("has an IPv6 address without brackets; write https://[ADDRESS]:PORT".into());
    }
    if let Some(p) = port {
        match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => {}
            _ => {
                return Err(format!(
                    "has the port '{p}'; a port is a number from 1 to 65535"
                ))
            }
        }
    }
    Ok(())
}

/// A CA bundle is a few certificates; the engine stores it in every role's config read.
pub(super) const MAX_CA_BYTES: u64 = 1024 * 1024;

/// Check that the CA file (read by `load`) holds only X.509 certificates: the engine stores
/// any string and fails only when a credential is requested.
fn ca_cert(cx: &mut Ctx<'_>, file: &Sp<String>) -> Option<String> {
    let what = "kubernetes_secrets.config.kubernetes_ca_cert_file";
    cx.check(
        Code::FilePath,
        file,
        what,
        rules::file_path,
        "a PEM file relative to the profile",
    )?;
    let help = "name a PEM file of the cluster's CA certificate, e.g. the ca.crt of a service account token Secret";
    let bytes = match cx.files.get(file.get()) {
        Some(Ok(b)) => b,
        None => return None,
        Some(Err(e)) => {
            let e = e.clone();
            cx.error(
                Code::CaFileUnreadable,
                Some(file.span()),
                format!("{what} '{}' cannot be read: {e}", file.get()),
                help,
            );
            return None;
        }
    };
    match pem_certificates(bytes) {
        Ok(text) => Some(text),
        Err(reason) => {
            cx.error(
                Code::CaFileNotCertificate,
                Some(file.span()),
                format!("{what} '{}' {reason}", file.get()),
                help,
            );
            None
        }
    }
}

/// The PEM text, normalised to end in one newline, if every block is a parsable certificate.
fn pem_certificates(bytes: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "is not a text (PEM) file".to_string())?;
    if let Some(what) = rules::looks_like_secret(text) {
        return Err(format!(
            "contains {what}; only certificates belong there, and the key must be rotated"
        ));
    }
    let mut count = 0;
    for (i, pem) in x509_parser::pem::Pem::iter_from_buffer(bytes).enumerate() {
        let pem = pem.map_err(|e| format!("has a malformed PEM block #{}: {e}", i + 1))?;
        if pem.label != "CERTIFICATE" {
            return Err(format!(
                "has a PEM block #{} labelled '{}'; only CERTIFICATE blocks are allowed",
                i + 1,
                pem.label
            ));
        }
        pem.parse_x509().map_err(|e| {
            format!(
                "has PEM block #{} that is not an X.509 certificate: {e}",
                i + 1
            )
        })?;
        count += 1;
    }
    if count == 0 {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(format!("{}\n", text.trim()))
}

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

/// Names Kubernetes accepts for objects without DNS rules (Roles, ClusterRoles).
fn path_segment_name(s: &str) -> Result<(), String> {
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

/// OpenBao's default `max_lease_ttl` (32 days), which caps every credential of a mount not
/// tuned otherwise.
const DEFAULT_MAX_LEASE_TTL: u64 = 768 * 3600;
/// The shortest token Kubernetes issues (TokenRequest `expirationSeconds` minimum).
const MIN_TOKEN_TTL: u64 = 600;
/// Go's `time.Duration` holds at most 2^63-1 nanoseconds: longer TTLs overflow in the engine.
const MAX_GO_DURATION_SECONDS: u64 = (i64::MAX / 1_000_000_000) as u64;

/// The range a role TTL must fall in.
#[derive(Clone, Copy)]
struct TtlLimits {
    /// The mount's maximum lease TTL in seconds.
    max: u64,
    /// Whether the profile declared it.
    declared: bool,
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

fn role(
    cx: &mut Ctx<'_>,
    r: &raw::EngineRole,
    allow_wild: bool,
    limits: TtlLimits,
) -> model::EngineRole {
    let name = r.name.get().clone();
    cx.check(
        Code::RoleName,
        &r.name,
        "engine role name",
        role_name,
        "e.g. ci-deployer; it names roles/NAME, creds/NAME and the policy kubernetes-creds-NAME",
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
            super::gotemplate::name_template,
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

fn strings(v: &Option<Sp<Vec<Sp<String>>>>) -> Vec<String> {
    v.as_ref()
        .map(|l| l.get().iter().map(|s| s.get().clone()).collect())
        .unwrap_or_default()
}

/// The checks of the API server's `ValidatePolicyRule`, plus known verbs and the wildcard
/// opt-in for cluster-wide roles.
fn policy_rule(
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
        api_groups: strings(&r.api_groups),
        resources: strings(&r.resources),
        verbs: r.verbs.get().iter().map(|s| s.get().clone()).collect(),
        resource_names: strings(&r.resource_names),
        non_resource_urls: strings(&r.non_resource_urls),
    };
    let wild = rule.verbs.iter().any(|v| v == "*")
        || rule
            .resources
            .iter()
            .any(|v| v == "*" || v.starts_with("*/") || v.ends_with("/*"))
        || rule.non_resource_urls.iter().any(|v| v == "*" || v == "/*");
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

fn selector(cx: &mut Ctx<'_>, s: &Sp<raw::LabelSelector>, who: &str) -> model::LabelSelector {
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
        match_expressions.push(model::SelectorRequirement {
            key: e.key.get().clone(),
            operator: op.to_string(),
            values,
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
        match_labels,
        match_expressions,
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
