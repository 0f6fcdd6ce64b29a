//! `plan` and `apply`: the command-line side of `crate::live` (flags, confirmation, printing).

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use super::{print_stdout, Failure, INVALID, OK};
use crate::live::{self as server, plan::Change};
use crate::model::Profile;

/// Exit code of `plan` when applying would change something.
const CHANGES: i32 = 1;

#[derive(clap::Args, Debug, Clone)]
pub(super) struct ConnectionArgs {
    /// OpenBao's address (default: BAO_ADDR, then VAULT_ADDR).
    #[arg(long, value_name = "URL")]
    addr: Option<String>,
    /// A file holding the token (default: BAO_TOKEN, then VAULT_TOKEN).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The CA that signed OpenBao's certificate, PEM (default: BAO_CACERT, then VAULT_CACERT).
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PlanFormat {
    Text,
    Json,
}

fn connect(c: &ConnectionArgs) -> Result<server::client::Client, Failure> {
    server::client::Client::connect(&server::client::Connection {
        addr: c.addr.clone(),
        token_file: c.token_file.clone(),
        ca_cert: c.ca_cert.clone(),
    })
    .map_err(|e| Failure::Message(format!("{e:#}")))
}

fn planned(
    p: &Profile,
    c: &ConnectionArgs,
    prune: bool,
) -> Result<(server::client::Client, Vec<Change>), Failure> {
    let client = connect(c)?;
    let changes =
        server::plan::plan(&client, p, prune).map_err(|e| Failure::Message(format!("{e:#}")))?;
    Ok((client, changes))
}

pub(super) fn plan(
    p: &Profile,
    c: &ConnectionArgs,
    prune: bool,
    format: PlanFormat,
) -> Result<i32, Failure> {
    let (_, changes) = planned(p, c, prune)?;
    match format {
        PlanFormat::Text => print_stdout(&server::plan::render(&changes)),
        PlanFormat::Json => print_stdout(&format!("{}\n", server::plan::to_json(&changes))),
    }
    Ok(if server::plan::has_changes(&changes) {
        CHANGES
    } else {
        OK
    })
}

pub(super) fn apply(
    p: &Profile,
    c: &ConnectionArgs,
    prune: bool,
    yes: bool,
    jwt: Option<&Path>,
) -> Result<i32, Failure> {
    let (client, changes) = planned(p, c, prune)?;
    print_stdout(&server::plan::render(&changes));
    if !server::plan::has_changes(&changes) {
        return Ok(OK);
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::Message(
                "not applied: stdin is not a terminal, so there is no one to confirm; review the plan and run again with --yes".into(),
            ));
        }
        eprint!("Apply these changes to OpenBao? Only 'yes' applies: ");
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if answer.trim() != "yes" {
            eprintln!("not applied");
            return Ok(INVALID);
        }
    }
    let outcome = server::apply::apply(&client, &changes, jwt)
        .map_err(|e| Failure::Message(format!("{e:#}")))?;
    let mut text: String = outcome.applied.iter().map(|l| format!("{l}\n")).collect();
    match outcome.failed {
        None => {
            text.push_str(&format!(
                "Apply complete: {} change(s).\n",
                outcome.applied.len()
            ));
            print_stdout(&text);
            Ok(OK)
        }
        Some((e, left)) => {
            print_stdout(&text);
            let left: Vec<String> = left.iter().map(|l| format!("  not applied: {l}")).collect();
            Err(Failure::Message(format!(
                "{e:#}\n{} change(s) applied, {} not:\n{}\nrun apply again to converge: every change is idempotent",
                outcome.applied.len(),
                left.len(),
                left.join("\n")
            )))
        }
    }
}
