//! Self-initialization: `initialize` stanzas that make a first boot create what the profile
//! declares, the same state `baogen apply` writes (both read it from `state::Desired`), plus
//! the administrative way in. HCL, not JSON: 2.7.2 logs false "unknown field" warnings for
//! the block names of JSON self-init.
//!
//! Order matters, because a rejected request makes the server exit half configured: the way
//! in first (so a later failure can still be inspected), then the scrape token's policy and
//! role, then the engine.

use std::collections::BTreeSet;

use hcl::{Block, Body, Expression, Object, ObjectKey};
use serde_json::Value;

use super::state::Desired;
use crate::model::{Admin, Profile, SelfInit, Source};

/// A request name OpenBao accepts (`^[A-Za-z_][A-Za-z0-9_-]*$`), unique in its block.
fn request_name(taken: &mut BTreeSet<String>, base: &str) -> String {
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = if clean.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        clean
    } else {
        format!("_{clean}")
    };
    let mut name = clean.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{clean}-{n}");
        n += 1;
    }
    name
}

struct Stanza {
    name: &'static str,
    requests: Vec<Block>,
    taken: BTreeSet<String>,
}

impl Stanza {
    fn new(name: &'static str) -> Stanza {
        Stanza {
            name,
            requests: Vec::new(),
            taken: BTreeSet::new(),
        }
    }

    fn update(&mut self, name: &str, path: &str, data: Expression) {
        let name = request_name(&mut self.taken, name);
        self.requests.push(
            Block::builder("request")
                .add_label(name)
                .add_attribute(("operation", "update"))
                .add_attribute(("path", path.to_string()))
                .add_attribute(("data", data))
                .build(),
        );
    }

    fn block(self) -> Option<Block> {
        (!self.requests.is_empty()).then(|| {
            Block::builder("initialize")
                .add_label(self.name)
                .add_blocks(self.requests)
                .build()
        })
    }
}

/// A JSON body as an HCL expression: objects with quoted keys where a key is no identifier.
fn expr(v: &Value) -> Expression {
    match v {
        Value::Null => Expression::Null,
        Value::Bool(b) => Expression::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Expression::from(i),
            None => Expression::from(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Expression::String(s.clone()),
        Value::Array(a) => Expression::Array(a.iter().map(expr).collect()),
        Value::Object(o) => Expression::Object(
            o.iter()
                .map(|(k, v)| (ObjectKey::from(Expression::String(k.clone())), expr(v)))
                .collect::<Object<_, _>>(),
        ),
    }
}

fn object<const N: usize>(entries: [(&str, Expression); N]) -> Expression {
    Expression::Object(
        entries
            .into_iter()
            .map(|(k, v)| (ObjectKey::from(Expression::String(k.into())), v))
            .collect(),
    )
}

/// A value the server reads on its first start (`eval_source`), never the secret itself.
fn source(s: &Source) -> Expression {
    match s {
        Source::Env(var) => object([
            ("eval_type", "string".into()),
            ("eval_source", "env".into()),
            ("env_var", var.clone().into()),
            ("require_present", true.into()),
        ]),
        Source::File(path) => object([
            ("eval_type", "string".into()),
            ("eval_source", "file".into()),
            ("path", path.clone().into()),
        ]),
    }
}

fn policy(text: &str) -> Expression {
    object([("policy", text.to_string().into())])
}

/// The admin policy: every capability everywhere, as the root token had.
pub(super) fn admin_policy() -> String {
    super::hcl::policy(&[(
        "*",
        &[
            "create", "read", "update", "patch", "delete", "list", "sudo",
        ],
    )])
}

fn admin(si: &SelfInit) -> Option<Block> {
    let mut s = Stanza::new("admin");
    let with_policy = |s: &mut Stanza, name: &str| {
        s.update(
            "policy",
            &format!("sys/policies/acl/{name}"),
            policy(&admin_policy()),
        );
    };
    match &si.admin {
        Admin::Userpass {
            username,
            password,
            policy: name,
        } => {
            with_policy(&mut s, name);
            s.update(
                "enable-userpass",
                "sys/auth/userpass",
                object([("type", "userpass".into())]),
            );
            s.update(
                "user",
                &format!("auth/userpass/users/{username}"),
                object([
                    ("password", source(password)),
                    (
                        "token_policies",
                        Expression::Array(vec![name.clone().into()]),
                    ),
                ]),
            );
        }
        Admin::Token { id, policy: name } => {
            with_policy(&mut s, name);
            s.update(
                "token",
                "auth/token/create",
                object([
                    ("id", source(id)),
                    ("policies", Expression::Array(vec![name.clone().into()])),
                    ("no_parent", true.into()),
                    ("display_name", "baogen-admin".into()),
                    // Periodic: it lives as long as it is renewed within 32 days.
                    ("period", "768h".into()),
                ]),
            );
        }
        Admin::None => {}
    }
    s.block()
}

/// The `initialize` stanzas of a profile with `[self_init]`.
pub(super) fn stanzas(p: &Profile, si: &SelfInit, want: &Desired) -> String {
    let mut blocks: Vec<Block> = admin(si).into_iter().collect();

    let mut metrics = Stanza::new("scrape-token");
    if let Some(text) = want.policies.get(&p.scrape.policy_name) {
        metrics.update(
            "policy",
            &format!("sys/policies/acl/{}", p.scrape.policy_name),
            policy(text),
        );
    }
    if let Some((path, body)) = &want.token_role {
        metrics.update("role", path, expr(body));
    }
    blocks.extend(metrics.block());

    let mut engine = Stanza::new("kubernetes-secrets");
    if let (Some((mount, max_ttl)), Some(e)) = (&want.mount, &p.engine) {
        let mut body = serde_json::json!({"type": "kubernetes"});
        if let Some(t) = max_ttl {
            body["config"] = serde_json::json!({"max_lease_ttl": t});
        }
        engine.update("mount", &format!("sys/mounts/{mount}"), expr(&body));
        if let Some((path, body)) = &want.config {
            engine.update("config", path, expr(body));
        }
        for r in &e.roles {
            let name = super::engine::policy_name(&e.mount, &r.name);
            engine.update(
                &format!("policy-{}", r.name),
                &format!("sys/policies/acl/{name}"),
                policy(&want.policies[&name]),
            );
            engine.update(
                &format!("role-{}", r.name),
                &format!("{mount}/roles/{}", r.name),
                expr(&want.roles[&r.name]),
            );
        }
    }
    blocks.extend(engine.block());
    super::hcl::format(&Body::from(blocks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_names_are_what_openbao_accepts_and_unique() {
        let mut taken = BTreeSet::new();
        assert_eq!(request_name(&mut taken, "role-a.b"), "role-a_b");
        assert_eq!(request_name(&mut taken, "role-a_b"), "role-a_b-2");
        assert_eq!(request_name(&mut taken, "role-a_b"), "role-a_b-3");
        assert_eq!(request_name(&mut taken, "0x"), "_0x");
        for n in &taken {
            let mut chars = n.chars();
            assert!(chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_'));
            assert!(chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        }
    }
}
