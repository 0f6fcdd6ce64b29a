//! `[kubernetes_secrets]`: the rules OpenBao's Kubernetes secrets engine applies to a role
//! write (builtin/logical/kubernetes/path_roles.go, `pathRolesWrite`), plus what the engine
//! wrongly accepts but Kubernetes or the creds request would later reject. Every rule points at
//! the offending value; `tests/real/engine_real.rs` shows the verdicts against the real engine.

mod kube_api;
mod role;

use std::collections::BTreeMap;
use std::ops::Range;

use super::ctx::Ctx;
use super::raw::{self, Sp};
use super::rules;
use crate::diag::Code;
use crate::model;

use role::{role, ttl_seconds, TtlLimits, DEFAULT_MAX_LEASE_TTL};

/// Mounts OpenBao reserves for itself.
const RESERVED_MOUNTS: [&str; 4] = ["sys", "auth", "identity", "cubbyhole"];

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
        Some(f) => (
            ca_cert(cx, f),
            Some(cx.layers.dir_of(&f.span()).join(f.get())),
        ),
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
