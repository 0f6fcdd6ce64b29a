//! The README's coverage table, from the same tables the rules, alerts and dashboard are
//! built from: each signal, its recording rules, alerts and panels, and which profiles see it.

use super::recording::{Row, RECORDINGS};
use crate::catalog::{Alert, Needs};

fn seen_by(needs: Needs) -> &'static str {
    match needs {
        Needs::ActiveNode => "active, all-node, demo",
        Needs::EveryNode => "all-node, demo",
        Needs::Renewal => "with `[scrape.renewal]`",
    }
}

/// Marks an item that fewer profiles see than its signal's row says.
fn only(item: Needs, row: Needs) -> &'static str {
    if item == Needs::EveryNode && row != item {
        " (all-node, demo)"
    } else {
        ""
    }
}

/// Markdown, one row per signal in the order the rules first name them.
pub fn table() -> String {
    let mut signals: Vec<&str> = Vec::new();
    for s in RECORDINGS
        .iter()
        .map(|r| r.signal)
        .chain(Alert::ALL.iter().map(|a| a.signal()))
    {
        if !signals.contains(&s) {
            signals.push(s);
        }
    }
    let code = |items: Vec<String>| {
        if items.is_empty() {
            "—".to_string()
        } else {
            items.join(", ")
        }
    };
    let mut out = String::from(
        "| Signal | Recording rules | Alerts | Dashboard panels | Seen by |\n|---|---|---|---|---|\n",
    );
    for s in signals {
        let rules: Vec<_> = RECORDINGS.iter().filter(|r| r.signal == s).collect();
        let alerts: Vec<_> = Alert::ALL.iter().filter(|a| a.signal() == s).collect();
        let panels = rules
            .iter()
            .map(|r| match r.panel.row {
                Row::Cluster => r.panel.title.to_string(),
                _ => format!("{} (all-node, demo)", r.panel.title),
            })
            .collect();
        // A signal is seen where any of its rules or alerts is.
        let needs = rules
            .iter()
            .map(|r| r.needs)
            .chain(alerts.iter().map(|a| a.needs()))
            .min_by_key(|n| match n {
                Needs::ActiveNode => 0,
                Needs::EveryNode => 1,
                Needs::Renewal => 2,
            })
            .unwrap_or(Needs::ActiveNode);
        out.push_str(&format!(
            "| {s} | {} | {} | {} | {} |\n",
            code(
                rules
                    .iter()
                    .map(|r| format!("`{}`{}", r.record, only(r.needs, needs)))
                    .collect()
            ),
            code(
                alerts
                    .iter()
                    .map(|a| format!("{}{}", a.name(), only(a.needs(), needs)))
                    .collect()
            ),
            code(panels),
            seen_by(needs),
        ));
    }
    out
}
