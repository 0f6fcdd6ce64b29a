//! `baogen apply`: the plan, applied in order (mount, policies, config, roles, deletions last).
//! Each change is one idempotent request, so after a failure a re-run plans only what is left
//! and converges; the report says what was applied and what was not.

use std::path::Path;

use anyhow::Context;
use serde_json::Value;

use super::client::Client;
use super::plan::{parallel, Action, Change};

/// What an apply did: the changes applied, and the first failure with what it left undone.
pub struct Outcome {
    pub applied: Vec<String>,
    pub failed: Option<(anyhow::Error, Vec<String>)>,
}

fn order(c: &Change) -> (u8, &str) {
    let stage = match (c.action, c.kind) {
        (Action::Delete, _) => 5,
        (_, "mount") => 0,
        (_, "policy") => 1,
        (_, "config") => 2,
        _ => 3,
    };
    (stage, c.path.as_str())
}

/// Apply `changes`; `jwt` is the engine's service account JWT file, read only when the
/// config is written.
pub fn apply(client: &Client, changes: &[Change], jwt: Option<&Path>) -> anyhow::Result<Outcome> {
    let mut todo: Vec<&Change> = changes
        .iter()
        .filter(|c| c.action != Action::Keep)
        .collect();
    todo.sort_by(|a, b| order(a).cmp(&order(b)));
    let jwt = match jwt {
        Some(path) if todo.iter().any(|c| c.kind == "config") => Some(
            std::str::from_utf8(
                &crate::fsio::read_regular(path, 64 * 1024)
                    .map_err(|e| anyhow::anyhow!("{e}"))
                    .with_context(|| format!("--jwt-file {}", path.display()))?,
            )
            .context("the JWT file is not text")?
            .trim()
            .to_string(),
        ),
        _ => None,
    };
    let mut applied = Vec::new();
    // Stages run one after another; the requests of one stage run in parallel.
    let mut stages: Vec<Vec<&Change>> = Vec::new();
    for c in todo {
        match stages.last_mut() {
            Some(s) if order(s[0]).0 == order(c).0 => s.push(c),
            _ => stages.push(vec![c]),
        }
    }
    for (i, stage) in stages.iter().enumerate() {
        let results = parallel(stage, |c| Ok(one(client, c, jwt.as_deref())))?;
        let mut failure = None;
        for (c, r) in stage.iter().zip(results) {
            match r {
                Ok(()) => applied.push(describe(c)),
                Err(e) if failure.is_none() => failure = Some(e),
                Err(_) => {}
            }
        }
        if let Some(e) = failure {
            let done: std::collections::BTreeSet<&String> = applied.iter().collect();
            let left: Vec<String> = stages[i..]
                .iter()
                .flatten()
                .map(|c| describe(c))
                .filter(|d| !done.contains(d))
                .collect();
            return Ok(Outcome {
                applied,
                failed: Some((e, left)),
            });
        }
    }
    Ok(Outcome {
        applied,
        failed: None,
    })
}

fn describe(c: &Change) -> String {
    let verb = match c.action {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Delete => "deleted",
        Action::Keep => "kept",
    };
    format!("{verb} {} {}", c.kind, c.path)
}

fn one(client: &Client, c: &Change, jwt: Option<&str>) -> anyhow::Result<()> {
    match (c.action, c.kind) {
        (Action::Delete, _) => client.change("DELETE", &c.path, None, "delete"),
        (_, "mount") if c.path.ends_with("/tune") => {
            client.change("POST", &c.path, c.body.as_ref(), "update")
        }
        (_, "mount") => client.change("POST", &c.path, c.body.as_ref(), "create"),
        (_, "config") => {
            let mut body = c.body.clone().unwrap_or(Value::Null);
            if let Some(jwt) = jwt {
                body["service_account_jwt"] = Value::String(jwt.to_string());
            }
            client.change("POST", &c.path, Some(&body), "update")
        }
        (action, _) => client.change(
            "POST",
            &c.path,
            c.body.as_ref(),
            if action == Action::Create {
                "create"
            } else {
                "update"
            },
        ),
    }
}
