//! `check` and `diff`: drift between what the profiles render and what is committed.

use std::path::{Path, PathBuf};

use super::input::load_all;
use super::{output, print_report, print_stdout, status, Failure, DRIFT, OK};
use crate::diag::report::{self, Format, Report};
use crate::diag::{self, Code};
use crate::{emit, outputs, write};

/// `check` and `diff`: every profile rendered in memory and compared with its committed
/// output (or `--against`); drift is printed as a diff or reported in the machine formats.
pub(super) fn compare(
    paths: &[PathBuf],
    against: Option<&Path>,
    fail_on_drift: bool,
    sources: &mut diag::Sources,
) -> Result<i32, Failure> {
    let loaded = load_all(paths, sources)?;
    let dirs = outputs::dirs(&loaded, against, "--against")?;
    let mut text = String::new();
    let mut report = Report {
        drift_is_error: fail_on_drift,
        ..Report::default()
    };
    let rendered: Vec<_> = loaded.iter().map(emit::render).collect();
    let collisions = outputs::check_collisions(&loaded, &rendered);
    if !collisions.is_empty() {
        return Err(Failure::Invalid(collisions));
    }
    let mut drifted = Vec::new();
    for ((p, dir), art) in loaded.iter().zip(&dirs).zip(&rendered) {
        let drift = write::compare(dir, &art.files);
        if drift.is_empty() {
            continue;
        }
        // Each path is normalised once: `normalize` resolves links on the file system.
        let dir = crate::fsio::normalize(dir);
        let profile = crate::fsio::normalize(&p.path);
        if loaded.len() > 1 {
            text.push_str(&format!("# {} -> {}\n", profile.display(), dir.display()));
        }
        for d in drift {
            let (code, path, message, diff) = match d {
                write::Drift::Changed { path, diff } => {
                    text.push_str(&diff);
                    (
                        Code::DriftChanged,
                        path,
                        "differs from what the profile renders".to_string(),
                        Some(diff),
                    )
                }
                write::Drift::Missing { path } => {
                    text.push_str(&format!("missing: {}\n", dir.join(&path).display()));
                    (
                        Code::DriftMissing,
                        path,
                        "is rendered by the profile but missing".into(),
                        None,
                    )
                }
                write::Drift::Extra { path } => {
                    text.push_str(&format!(
                        "extra (not rendered by the profile): {}\n",
                        dir.join(&path).display()
                    ));
                    (
                        Code::DriftExtra,
                        path,
                        "is not rendered by the profile".into(),
                        None,
                    )
                }
                write::Drift::Unreadable { path, reason } => {
                    text.push_str(&format!(
                        "not a file baogen reads: {} ({reason})\n",
                        dir.join(&path).display()
                    ));
                    (
                        Code::DriftUnreadable,
                        path,
                        format!("is not a file baogen reads ({reason})"),
                        None,
                    )
                }
            };
            let file = dir.join(&path);
            report.drift.push(report::Drift {
                code,
                profile: profile.clone(),
                message: format!("{} {message}", file.display()),
                file,
                diff,
            });
        }
        drifted.push((profile, dir));
    }
    if output().format == Format::Human {
        print_stdout(&text);
    } else {
        print_report(&report, sources);
    }
    if drifted.is_empty() {
        status(format!("up to date: {} profile(s)", loaded.len()));
        return Ok(OK);
    }
    // The fix writes where the comparison read: the profile's own output, or --against.
    let fix: Vec<String> = match against {
        Some(_) => drifted
            .iter()
            .map(|(p, dir)| format!("baogen render {} --out {}", shell_word(p), shell_word(dir)))
            .collect(),
        None => vec![format!(
            "baogen render {}",
            drifted
                .iter()
                .map(|(p, _)| shell_word(p))
                .collect::<Vec<_>>()
                .join(" ")
        )],
    };
    let names: Vec<String> = drifted
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    eprintln!(
        "drift: the committed output differs from what {} renders. Fix it with:\n  {}",
        names.join(", "),
        fix.join("\n  ")
    );
    Ok(if fail_on_drift { DRIFT } else { OK })
}

/// A path as one shell word: plain paths as they are, anything else single-quoted.
fn shell_word(path: &Path) -> String {
    let text = path.display().to_string();
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./+:@%".contains(&b))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
