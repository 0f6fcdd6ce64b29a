//! A demo profile with N Kubernetes-secrets-engine roles cycling through the three role
//! modes, for the scale benchmark and the limit tests.
#![allow(dead_code)]

pub(crate) fn profile_with_roles(n: usize) -> String {
    let mut s = String::from(
        r#"profile = "demo"

[listener.api]
address = "0.0.0.0:8200"
cluster_address = "0.0.0.0:8201"
tls_disable = true
unauthenticated_metrics = true

[demo]

[[demo.nodes]]
name = "openbao-node0"

[kubernetes_secrets]
mount = "kubernetes"
config = { kubernetes_host = "https://kubernetes.default.svc:443" }
"#,
    );
    for i in 0..n {
        s.push_str(&format!("\n[[kubernetes_secrets.roles]]\nname = \"role-{i}\"\nallowed_kubernetes_namespaces = [\"team-{}\"]\ntoken_default_ttl = \"1h\"\ntoken_max_ttl = \"24h\"\n", i % 50));
        match i % 3 {
            0 => s.push_str(&format!("service_account_name = \"sa-{i}\"\n")),
            1 => s.push_str("kubernetes_role_name = \"edit\"\n"),
            _ => s.push_str("generated_role_rules = [{ apiGroups = [\"\"], resources = [\"pods\"], verbs = [\"get\", \"list\"] }]\n"),
        }
    }
    s
}
