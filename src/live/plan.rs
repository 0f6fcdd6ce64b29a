//! `baogen plan`: the profile's OpenBao state (the desired one, taken from the rendered
//! artifacts, so the server gets exactly what is committed) compared with the live one, after
//! OpenBao's own normalisation, as a list of changes in Terraform's shape.
//!
//! Ownership: a profile owns the roles under its engine mount, the metrics policy it names, and
//! the consumer policies `MOUNT-creds-NAME` (the mount's `/` as `-`) whose text is baogen's
//! policy for `MOUNT/creds/NAME` (so another mount's policies are never its own). Only those are ever
//! deleted, and only with `--prune`; the mount itself is never deleted.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::client::Client;
use crate::emit::state::Desired;
use crate::model::Profile;

/// How many requests run at once.
pub(super) const PARALLEL: usize = 8;

/// What one change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Create,
    Update,
    Delete,
    /// Owned by the profile, no longer declared, kept because `--prune` was not given.
    Keep,
}

/// One object and what applying would do to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub action: Action,
    /// `mount`, `policy`, `config`, `role`.
    pub kind: &'static str,
    /// The API path written or deleted.
    pub path: String,
    /// `(field, old, new)` for updates.
    pub fields: Vec<(String, Value, Value)>,
    /// The body written on create or update.
    pub body: Option<Value>,
}

/// Read everything the profile owns and compare. `prune` turns kept leftovers into deletions.
pub fn plan(client: &Client, p: &Profile, prune: bool) -> anyhow::Result<Vec<Change>> {
    let art = crate::emit::render(p);
    let want = Desired::of(p, &art);
    let mut changes = Vec::new();

    // The mount: present, and a Kubernetes engine.
    let mut mount_exists = false;
    if let Some((mount, max_ttl)) = &want.mount {
        // An absent mount answers 400 ("no secret engine mount") on OpenBao 2.x, 404 elsewhere.
        let answer = client.call("GET", &format!("sys/mounts/{mount}"), None)?;
        let live = match answer.status {
            200 => Some(match answer.body.get("data") {
                Some(d) if d.is_object() => d.clone(),
                _ => answer.body,
            }),
            400 | 404 => None,
            _ => {
                return Err(super::client::refusal(
                    "GET",
                    &format!("sys/mounts/{mount}"),
                    "read",
                    &answer,
                ))
            }
        };
        match live {
            None => {
                let mut body = json!({"type": "kubernetes"});
                if let Some(t) = max_ttl {
                    body["config"] = json!({"max_lease_ttl": t});
                }
                changes.push(Change {
                    action: Action::Create,
                    kind: "mount",
                    path: format!("sys/mounts/{mount}"),
                    fields: Vec::new(),
                    body: Some(body),
                });
            }
            Some(m) => {
                let kind = m["type"].as_str().unwrap_or_default();
                if kind != "kubernetes" {
                    anyhow::bail!("{mount}/ is mounted as a `{kind}` engine, not `kubernetes`; baogen never changes or deletes a mount: choose another kubernetes_secrets.mount");
                }
                mount_exists = true;
                if let Some(t) = max_ttl {
                    let live_ttl = m["config"]["max_lease_ttl"].as_u64().unwrap_or(0);
                    if live_ttl != *t {
                        changes.push(Change {
                            action: Action::Update,
                            kind: "mount",
                            path: format!("sys/mounts/{mount}/tune"),
                            fields: vec![("max_lease_ttl".into(), json!(live_ttl), json!(t))],
                            body: Some(json!({"max_lease_ttl": t})),
                        });
                    }
                }
            }
        }
    }

    // Policies: every one the profile declares, and the consumer policies it owns.
    let live_names: BTreeSet<String> = client.list("sys/policies/acl")?.into_iter().collect();
    let mut wanted: Vec<(&String, &String)> = want.policies.iter().collect();
    wanted.sort();
    let read: Vec<Option<String>> = parallel(&wanted, |(name, _)| {
        if !live_names.contains(*name) {
            return Ok(None);
        }
        Ok(client
            .read(&format!("sys/policies/acl/{name}"), "read")?
            .and_then(|d| d["policy"].as_str().map(str::to_string)))
    })?;
    for ((name, text), live) in wanted.iter().zip(read) {
        let path = format!("sys/policies/acl/{name}");
        let live = live.map(|l| json!({ "policy": l }));
        changes.extend(compared("policy", path, &json!({ "policy": text }), live));
    }
    if let Some((mount, _)) = &want.mount {
        let prefix = crate::emit::engine::policy_prefix(mount);
        let leftovers: Vec<&String> = live_names
            .iter()
            .filter(|n| n.starts_with(&prefix) && !want.policies.contains_key(*n))
            .collect();
        let texts = parallel(&leftovers, |name| {
            client
                .read(&format!("sys/policies/acl/{name}"), "read")
                .map(|d| d.and_then(|d| d["policy"].as_str().map(str::to_string)))
        })?;
        for (name, text) in leftovers.into_iter().zip(texts) {
            let role = &name[prefix.len()..];
            if text.is_some_and(|t| is_consumer_policy(&t, mount, role)) {
                changes.push(leftover(
                    prune,
                    "policy",
                    format!("sys/policies/acl/{name}"),
                ));
            }
        }
    }

    // The scrape token role.
    if let Some((path, body)) = &want.token_role {
        let live = client.read(path, "read")?;
        changes.extend(compared("token role", path.clone(), body, live));
    }

    // The engine's config (credentials are never read nor compared) and its roles.
    if let Some((path, body)) = &want.config {
        let live = if mount_exists {
            client.read(path, "read")?
        } else {
            None
        };
        changes.extend(compared("config", path.clone(), body, live));
    }
    if let Some((mount, _)) = &want.mount {
        let live_roles: BTreeSet<String> = if mount_exists {
            client
                .list(&format!("{mount}/roles"))?
                .into_iter()
                .collect()
        } else {
            BTreeSet::new()
        };
        let roles: Vec<(&String, &Value)> = want.roles.iter().collect();
        let read = parallel(&roles, |(name, _)| {
            if live_roles.contains(*name) {
                client.read(&format!("{mount}/roles/{name}"), "read")
            } else {
                Ok(None)
            }
        })?;
        for ((name, body), live) in roles.into_iter().zip(read) {
            let path = format!("{mount}/roles/{name}");
            changes.extend(compared("role", path, body, live));
        }
        for name in live_roles.iter().filter(|n| !want.roles.contains_key(*n)) {
            changes.push(leftover(prune, "role", format!("{mount}/roles/{name}")));
        }
    }
    Ok(changes)
}

/// The change that makes `live` (absent: `None`) into `want`, if any.
fn compared(kind: &'static str, path: String, want: &Value, live: Option<Value>) -> Option<Change> {
    let (action, fields) = match live {
        None => (Action::Create, Vec::new()),
        Some(l) => match differences(want, &l) {
            fields if fields.is_empty() => return None,
            fields => (Action::Update, fields),
        },
    };
    Some(Change {
        action,
        kind,
        path,
        fields,
        body: Some(want.clone()),
    })
}

fn leftover(prune: bool, kind: &'static str, path: String) -> Change {
    Change {
        action: if prune { Action::Delete } else { Action::Keep },
        kind,
        path,
        fields: Vec::new(),
        body: None,
    }
}

/// baogen's consumer policy for `mount/creds/role`: its generated header and that one path.
fn is_consumer_policy(text: &str, mount: &str, role: &str) -> bool {
    text.contains("Generated by baogen") && text.contains(&format!("path \"{mount}/creds/{role}\""))
}

/// Run `f` over `items`, at most `PARALLEL` at once, results in order; the first error wins.
pub(super) fn parallel<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> anyhow::Result<R> + Sync,
) -> anyhow::Result<Vec<R>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let chunk = items.len().div_ceil(PARALLEL);
    let results: Vec<anyhow::Result<Vec<R>>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().map(&f).collect::<anyhow::Result<Vec<R>>>()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a request thread panicked")))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(items.len());
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

/// The fields of `want` whose live value differs after OpenBao's normalisation: durations
/// read back in seconds, JSON strings (rules, selectors) compared parsed, an empty string and a
/// missing value alike, role types without case.
fn differences(want: &Value, live: &Value) -> Vec<(String, Value, Value)> {
    let Some(want) = want.as_object() else {
        return Vec::new();
    };
    want.iter()
        .filter(|(k, w)| !same(k, w, &live[k.as_str()]))
        .map(|(k, w)| (k.clone(), live[k.as_str()].clone(), w.clone()))
        .collect()
}

fn same(key: &str, want: &Value, live: &Value) -> bool {
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    if empty(want) && empty(live) {
        return true;
    }
    match (key, want, live) {
        ("kubernetes_role_type", Value::String(w), Value::String(l)) => w.eq_ignore_ascii_case(l),
        (
            "generated_role_rules" | "allowed_kubernetes_namespace_selector",
            Value::String(w),
            Value::String(l),
        ) => {
            let parse = |s: &str| serde_saphyr::from_str::<Value>(s).ok();
            w == l || (parse(w).is_some() && parse(w) == parse(l))
        }
        (_, Value::Number(w), Value::Number(l)) => w.as_f64() == l.as_f64(),
        ("kubernetes_ca_cert", Value::String(w), Value::String(l)) => w.trim() == l.trim(),
        _ => want == live,
    }
}

/// The plan as Terraform prints one: `+`, `~` with `old -> new` per field, `-`, and a summary.
pub fn render(changes: &[Change]) -> String {
    let mut out = String::new();
    for c in changes {
        let (sign, verb) = match c.action {
            Action::Create => ("+", "create"),
            Action::Update => ("~", "update"),
            Action::Delete => ("-", "delete"),
            Action::Keep => (
                "=",
                "left in place (owned, no longer declared; --prune deletes it)",
            ),
        };
        out.push_str(&format!("  {sign} {} {} ({verb})\n", c.kind, c.path));
        for (field, old, new) in &c.fields {
            out.push_str(&format!(
                "      ~ {field} = {} -> {}\n",
                short(old),
                short(new)
            ));
        }
    }
    let count = |a: Action| changes.iter().filter(|c| c.action == a).count();
    if changes.iter().all(|c| c.action == Action::Keep) {
        out.push_str("No changes. OpenBao matches the profile.");
        if count(Action::Keep) > 0 {
            out.push_str(&format!(
                " {} object(s) left in place.",
                count(Action::Keep)
            ));
        }
        out.push('\n');
    } else {
        out.push_str(&format!(
            "Plan: {} to add, {} to change, {} to destroy.\n",
            count(Action::Create),
            count(Action::Update),
            count(Action::Delete)
        ));
    }
    out
}

/// A value on one line: policies and long strings shortened, never more than one line.
fn short(v: &Value) -> String {
    let text = match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if text.len() > 80 {
        format!(
            "{}…({} chars)",
            &text[..text.char_indices().nth(60).map_or(text.len(), |(i, _)| i)],
            text.len()
        )
    } else {
        text
    }
}

/// The plan as data, for `--format json`.
pub fn to_json(changes: &[Change]) -> Value {
    let action = |a: Action| match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
        Action::Keep => "keep",
    };
    json!({
        "changes": changes.iter().map(|c| json!({
            "action": action(c.action),
            "kind": c.kind,
            "path": c.path,
            "fields": c.fields.iter().map(|(f, o, n)| json!({"field": f, "old": o, "new": n})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "summary": {
            "add": changes.iter().filter(|c| c.action == Action::Create).count(),
            "change": changes.iter().filter(|c| c.action == Action::Update).count(),
            "destroy": changes.iter().filter(|c| c.action == Action::Delete).count(),
            "kept": changes.iter().filter(|c| c.action == Action::Keep).count(),
        }
    })
}

/// Whether applying would change anything.
pub fn has_changes(changes: &[Change]) -> bool {
    changes.iter().any(|c| c.action != Action::Keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_compare_after_openbao_s_normalisation() {
        let want = json!({
            "token_max_ttl": 86400,
            "kubernetes_role_type": "ClusterRole",
            "generated_role_rules": r#"{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get"]}]}"#,
            "allowed_kubernetes_namespace_selector": "",
            "extra_labels": {},
            "name_template": "",
            "kubernetes_ca_cert": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
        });
        // What OpenBao reads back for the same role: YAML-equal rules, another case, numbers as
        // floats, empty values missing or null, the CA without its last newline.
        let live = json!({
            "token_max_ttl": 86400.0,
            "kubernetes_role_type": "clusterrole",
            "generated_role_rules": "rules:\n- apiGroups: ['']\n  resources: [pods]\n  verbs: [get]\n",
            "allowed_kubernetes_namespace_selector": null,
            "name_template": "",
            "kubernetes_ca_cert": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----",
            "service_account_jwt": "never compared: the profile does not say it",
        });
        assert_eq!(differences(&want, &live), Vec::new());
        let changed = json!({
            "token_max_ttl": 3596400,
            "kubernetes_role_type": "Role",
            "generated_role_rules": r#"{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["list"]}]}"#,
            "allowed_kubernetes_namespace_selector": r#"{"matchLabels":{"a":"b"}}"#,
            "extra_labels": {"team": "x"},
            "name_template": "{{ random 8 }}",
            "kubernetes_ca_cert": "other",
        });
        let mut fields: Vec<String> = differences(&want, &changed)
            .into_iter()
            .map(|(f, _, _)| f)
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "allowed_kubernetes_namespace_selector",
                "extra_labels",
                "generated_role_rules",
                "kubernetes_ca_cert",
                "kubernetes_role_type",
                "name_template",
                "token_max_ttl"
            ]
        );
    }

    fn change(action: Action, fields: Vec<(String, Value, Value)>) -> Change {
        Change {
            action,
            kind: "role",
            path: "kubernetes/roles/r".into(),
            fields,
            body: None,
        }
    }

    #[test]
    fn the_plan_reads_like_terraform_s() {
        let plan = [
            change(Action::Create, Vec::new()),
            change(
                Action::Update,
                vec![("token_max_ttl".into(), json!(3596400), json!(28800))],
            ),
            change(Action::Delete, Vec::new()),
            change(Action::Keep, Vec::new()),
        ];
        let text = render(&plan);
        assert!(
            text.contains("  + role kubernetes/roles/r (create)\n"),
            "{text}"
        );
        assert!(
            text.contains("      ~ token_max_ttl = 3596400 -> 28800\n"),
            "{text}"
        );
        assert!(
            text.contains("  - role kubernetes/roles/r (delete)\n"),
            "{text}"
        );
        assert!(
            text.contains("  = role kubernetes/roles/r (left in place"),
            "{text}"
        );
        assert!(
            text.ends_with("Plan: 1 to add, 1 to change, 1 to destroy.\n"),
            "{text}"
        );
        assert!(has_changes(&plan));
        let json = to_json(&plan);
        assert_eq!(
            json["summary"],
            json!({"add": 1, "change": 1, "destroy": 1, "kept": 1})
        );
        assert_eq!(json["changes"][1]["fields"][0]["old"], json!(3596400));

        let kept = [change(Action::Keep, Vec::new())];
        assert!(!has_changes(&kept));
        assert_eq!(
            render(&kept),
            "  = role kubernetes/roles/r (left in place (owned, no longer declared; --prune deletes it))\nNo changes. OpenBao matches the profile. 1 object(s) left in place.\n"
        );
        assert_eq!(render(&[]), "No changes. OpenBao matches the profile.\n");
    }

    #[test]
    fn long_values_are_shortened_on_one_line() {
        let long = "x".repeat(200);
        let s = short(&json!(long));
        assert!(s.len() < 100 && s.ends_with("…(202 chars)"), "{s}");
        assert_eq!(short(&json!("a\nb")), "\"a\\nb\"");
    }

    #[test]
    fn only_baogen_s_policy_for_the_mount_and_role_is_the_profile_s() {
        let ours = "# Generated by baogen from p.toml. Do not edit.\npath \"k8s/dev/creds/ci\" {\n  capabilities = [\"update\"]\n}\n";
        assert!(is_consumer_policy(ours, "k8s/dev", "ci"));
        assert!(!is_consumer_policy(ours, "k8s/prod", "ci"));
        assert!(!is_consumer_policy(ours, "k8s/dev", "c"));
        assert!(!is_consumer_policy(
            "path \"k8s/dev/creds/ci\" {}",
            "k8s/dev",
            "ci"
        ));
    }

    #[test]
    fn parallel_keeps_the_order_and_reports_the_first_error() {
        let items: Vec<u32> = (0..50).collect();
        assert_eq!(
            parallel(&items, |i| Ok(i * 2)).unwrap(),
            (0..50).map(|i| i * 2).collect::<Vec<_>>()
        );
        let err = parallel(&items, |i| {
            if *i == 7 {
                Err(anyhow::anyhow!("seven"))
            } else {
                Ok(*i)
            }
        });
        assert_eq!(err.unwrap_err().to_string(), "seven");
        assert!(parallel(&Vec::<u32>::new(), |i| Ok(*i)).unwrap().is_empty());
    }
}
