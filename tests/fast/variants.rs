//! The loopback variants the e2e scenarios run (tests/e2e/profiles/) are the shipped profiles
//! pointed at loopback, and nothing more.

use std::path::{Path, PathBuf};

use crate::common;

/// (variant, shipped profile under profiles/).
const SHIPPED: [(&str, &str); 4] = [
    ("active", "active"),
    ("all-node", "all-node"),
    ("demo", "demo"),
    ("self-init", "examples/self-init"),
];

fn variant_path(name: &str) -> PathBuf {
    common::root().join(format!("tests/e2e/profiles/{name}.toml"))
}

/// Remove the keys a loopback variant may change; what is left must equal the shipped profile.
fn strip_loopback_keys(mut t: toml::Table) -> toml::Table {
    fn drop_keys(t: &mut toml::Table, table: &str, keys: &[&str]) {
        if let Some(toml::Value::Table(sub)) = t.get_mut(table) {
            for k in keys {
                sub.remove(*k);
            }
            if sub.is_empty() {
                t.remove(table);
            }
        }
    }
    t.remove("output");
    if let Some(toml::Value::Table(l)) = t.get_mut("listener") {
        drop_keys(
            l,
            "api",
            &[
                "address",
                "cluster_address",
                "tls_cert_file",
                "tls_key_file",
            ],
        );
        drop_keys(l, "metrics", &["address", "tls_cert_file", "tls_key_file"]);
    }
    drop_keys(
        &mut t,
        "scrape",
        &["interval", "scrape_timeout", "server_name"],
    );
    drop_keys(
        &mut t,
        "prometheus",
        &["static_targets", "token_file", "ca_file", "alertmanagers"],
    );
    if let Some(toml::Value::Table(d)) = t.get_mut("demo") {
        for n in d
            .get_mut("nodes")
            .and_then(|n| n.as_array_mut())
            .into_iter()
            .flatten()
        {
            if let Some(n) = n.as_table_mut() {
                for k in [
                    "host",
                    "api_port",
                    "cluster_port",
                    "metrics_port",
                    "raft_path",
                ] {
                    n.remove(k);
                }
            }
        }
    }
    t
}

/// Fast and tool-free: the variants are valid profiles and differ from the shipped ones only
/// in addresses, file paths, node hosts/ports and scrape timing.
#[test]
fn loopback_variants_are_the_shipped_profiles_pointed_at_loopback() {
    for (name, shipped) in SHIPPED {
        let variant = variant_path(name);
        baogen::profile::load(&variant)
            .unwrap_or_else(|d| panic!("{} does not validate: {d:#?}", variant.display()));
        let shipped = common::root().join(format!("profiles/{shipped}.toml"));
        let parse = |p: &Path| -> toml::Table {
            toml::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        };
        assert_eq!(
            strip_loopback_keys(parse(&variant)),
            strip_loopback_keys(parse(&shipped)),
            "{} differs from {} in more than loopback addresses, paths and timing",
            variant.display(),
            shipped.display()
        );
    }
}
