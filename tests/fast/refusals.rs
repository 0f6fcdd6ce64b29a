//! Generated instances of what baogen refuses because the engine or Kubernetes would silently
//! change it at credential time (TTLs outside what Kubernetes issues or the mount allows, glob
//! characters in resourceNames, subresource wildcards, oversized metadata, a Kubernetes URL
//! without a usable host and port), and of credentials hidden anywhere in a profile, keys
//! included. Each property states the rule and checks baogen's verdict against it.

use crate::common;

use std::path::Path;

use baogen::diag::Code;
use baogen::profile;
use proptest::prelude::*;

fn profile_text(engine: &str, role: &str) -> String {
    let role = format!("name = \"case\"\nallowed_kubernetes_namespaces = [\"ci\"]\n{role}");
    common::engine_profile("", engine, &role)
}

/// `Ok` when baogen accepts, else every code with its message.
fn verdict(text: &str) -> Result<(), Vec<(Code, String)>> {
    profile::parse(Path::new("case.toml"), text.as_bytes())
        .map(|_| ())
        .map_err(|d| d.into_iter().map(|d| (d.code, d.message)).collect())
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML key: a basic string (JSON's escapes are TOML's).
fn key(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Seconds as the duration a user might write: "90061s", "25h1m1s" or plain "90061".
fn spell(seconds: u64, style: u8) -> String {
    match style % 3 {
        0 => format!("{seconds}s"),
        1 => seconds.to_string(),
        _ => {
            let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
            let mut out = String::new();
            if h > 0 {
                out.push_str(&format!("{h}h"));
            }
            if m > 0 {
                out.push_str(&format!("{m}m"));
            }
            if s > 0 || out.is_empty() {
                out.push_str(&format!("{s}s"));
            }
            out
        }
    }
}

const DEFAULT_MAX: u64 = 768 * 3600;

fn ttl_seconds() -> impl Strategy<Value = u64> {
    prop_oneof![
        1u64..700,
        590u64..610,
        DEFAULT_MAX - 5..DEFAULT_MAX + 5,
        600u64..20_000_000,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// A role TTL is accepted exactly when it is at least Kubernetes' 10-minute minimum and at
    /// most the mount's maximum (768h, or the declared `mount_max_lease_ttl`).
    #[test]
    fn ttls_between_the_token_minimum_and_the_mount_maximum(
        seconds in ttl_seconds(),
        style in 0u8..3,
        key in prop_oneof![Just("token_max_ttl"), Just("token_default_ttl")],
        declared in prop_oneof![Just(None), (600u64..30_000_000).prop_map(Some)],
    ) {
        let engine = declared.map_or(String::new(), |m| format!("mount_max_lease_ttl = \"{m}s\""));
        let role = format!("service_account_name = \"sa\"\n{key} = {}", toml_string(&spell(seconds, style)));
        let max = declared.unwrap_or(DEFAULT_MAX);
        let expected = (600..=max).contains(&seconds);
        let got = verdict(&profile_text(&engine, &role));
        prop_assert_eq!(got.is_ok(), expected, "{} = {}s (max {}): {:?}", key, seconds, max, got);
        if let Err(m) = got {
            let why = if seconds < 600 { Code::TtlBelowMinimum } else { Code::TtlAboveLimit };
            prop_assert!(m.iter().any(|(c, _)| *c == why), "{:?}", m);
        }
    }

    /// RBAC compares resource names literally: a name with a glob character matches nothing.
    #[test]
    fn resource_names_with_glob_characters_are_refused(
        name in "[a-z][a-z0-9-]{0,20}",
        glob in prop_oneof![Just('*'), Just('?'), Just('['), Just(']')],
        at in 0usize..22,
        with_glob in any::<bool>(),
    ) {
        let mut n = name.clone();
        if with_glob {
            n.insert(at.min(n.len()), glob);
        }
        let role = format!("generated_role_rules = [{{ apiGroups = [\"\"], resources = [\"pods\"], verbs = [\"get\"], resourceNames = [{}] }}]", toml_string(&n));
        let got = verdict(&profile_text("", &role));
        prop_assert_eq!(got.is_ok(), !with_glob, "{}: {:?}", n, got);
    }

    /// A subresource wildcard is a wildcard grant: refused in a ClusterRole unless opted in.
    #[test]
    fn subresource_wildcards_need_the_opt_in_in_a_cluster_role(
        resource in "[a-z]{1,12}",
        sub in prop_oneof![Just("*".to_string()), "[a-z]{1,8}"],
        cluster in any::<bool>(),
        opt_in in any::<bool>(),
    ) {
        let engine = if opt_in { "allow_wildcard_grants = true" } else { "" };
        let kind = if cluster { "kubernetes_role_type = \"ClusterRole\"\n" } else { "" };
        let role = format!("{kind}generated_role_rules = [{{ apiGroups = [\"\"], resources = [\"{resource}/{sub}\"], verbs = [\"get\"] }}]");
        let got = verdict(&profile_text(engine, &role));
        let refused = sub == "*" && cluster && !opt_in;
        prop_assert_eq!(got.is_err(), refused, "{}/{} cluster={} opt_in={}: {:?}", resource, sub, cluster, opt_in, got);
    }

    /// Labels and annotations together stay within Kubernetes' 256 KiB.
    #[test]
    fn metadata_within_kubernetes_limit(a in 0usize..200_000, b in 0usize..140_000) {
        let role = format!(
            "kubernetes_role_name = \"edit\"\nextra_annotations = {{ \"example.com/a\" = \"{}\", \"example.com/b\" = \"{}\" }}\nextra_labels = {{ team = \"ci\" }}",
            "x".repeat(a),
            "y".repeat(b)
        );
        let total = a + b + "example.com/a".len() + "example.com/b".len() + "team".len() + "ci".len();
        let got = verdict(&profile_text("", &role));
        prop_assert_eq!(got.is_ok(), total <= 256 * 1024, "total {}: {:?}", total, got.err().map(|m| m[0].clone()));
    }

    /// The Kubernetes API URL needs a host and, when it names a port, one from 1 to 65535.
    #[test]
    fn kubernetes_host_needs_a_host_and_a_real_port(
        host in prop_oneof![Just(""), Just("k8s.example"), Just("10.0.0.1"), Just("[fd00::1]"), Just("kubernetes.default.svc")],
        port in prop_oneof![Just(None), (0u32..70_000).prop_map(Some), Just(Some(u32::MAX))],
        path in prop_oneof![Just(""), Just("/"), Just("/api")],
    ) {
        let url = match port {
            Some(p) => format!("https://{host}:{p}{path}"),
            None => format!("https://{host}{path}"),
        };
        let text = profile_text("", "service_account_name = \"sa\"")
            .replace("https://k8s.example:6443", &url);
        let ok = !host.is_empty() && port.is_none_or(|p| (1..=65535).contains(&p));
        let got = verdict(&text);
        prop_assert_eq!(got.is_ok(), ok, "{}: {:?}", url, got);
    }

    /// A credential anywhere in any string, or in a key, is refused as a secret.
    #[test]
    fn credentials_hidden_anywhere_are_found(
        before in "[ -~]{0,12}",
        after in "[ -~]{0,12}",
        body in "[A-Za-z0-9_-]{24,40}",
        kind in 0usize..4,
        place in 0usize..4,
    ) {
        let secret = match kind {
            0 => format!("hvs.{body}"),
            1 => format!("Bearer hvb.{body}"),
            2 => format!("eyJhbGciOiJSUzI1NiJ9.eyJ{body}.c2ln{body}"),
            _ => format!("-----BEGIN PRIVATE KEY-----{body}"),
        };
        // A boundary before the credential, as in "Bearer hvs..." or "token=hvs...".
        let value = format!("{before} {secret} {after}");
        let role = match place {
            0 => format!("kubernetes_role_name = \"edit\"\nextra_annotations = {{ \"example.com/note\" = {} }}", toml_string(&value)),
            1 => format!("kubernetes_role_name = \"edit\"\nextra_annotations = {{ {} = \"v\" }}", key(&value)),
            2 => format!("service_account_name = \"sa\"\ntoken_default_audiences = [{}]", toml_string(&value)),
            _ => format!("service_account_name = \"sa\"\n{} = 1", key(&value)),
        };
        let got = verdict(&profile_text("", &role));
        let messages = got.expect_err("a credential was accepted");
        prop_assert!(messages.iter().any(|(c, _)| *c == Code::SecretInProfile), "{:?}", messages);
    }
}
