//! Where each profile renders, and the rules that keep outputs apart from the files a render
//! reads and from each other: an output that holds its own profile would delete it, and two
//! profiles writing one directory would silently keep only the last.

use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic, Label};
use crate::emit::Artifacts;
use crate::fsio::resolve;
use crate::identity::Identity;
use crate::model::Profile;

/// The output directory of each profile: `explicit` (`--out`/`--against`) for one profile,
/// `explicit/<file stem>` for several, else the profile's own `output`.
pub fn dirs(
    profiles: &[Profile],
    explicit: Option<&Path>,
    flag: &str,
) -> Result<Vec<PathBuf>, Vec<Diagnostic>> {
    let mut dirs = Vec::new();
    let mut diags = Vec::new();
    for p in profiles {
        match (explicit, &p.output) {
            (Some(dir), _) if profiles.len() == 1 => dirs.push(dir.to_path_buf()),
            (Some(dir), _) => dirs.push(dir.join(&p.name)),
            (None, Some(declared)) => dirs.push(declared.clone()),
            (None, None) => diags.push(
                Diagnostic::new(
                    Code::NoOutput,
                    &p.path,
                    None,
                    "the profile declares no output directory",
                )
                .help(format!(
                    "add output = \"DIR\" to the profile, or pass {flag} DIR"
                )),
            ),
        }
    }
    if diags.is_empty() {
        Ok(dirs)
    } else {
        Err(diags)
    }
}

/// A diagnostic about the output of `p`: at its `output` key when that is where the
/// directory came from.
pub fn at_output(
    code: Code,
    p: &Profile,
    explicit: bool,
    message: String,
    help: &str,
) -> Diagnostic {
    match (explicit, &p.output_place) {
        (false, Some(at)) => Diagnostic::new(code, &at.file, Some(at.span.clone()), message),
        _ => Diagnostic::new(code, &p.path, None, message),
    }
    .help(help)
}

/// Refuse outputs that contain a file some profile on the command line reads, and outputs
/// that are the same directory or one inside another.
pub fn check_apart(profiles: &[Profile], dirs: &[PathBuf], explicit: bool) -> Vec<Diagnostic> {
    let resolved: Vec<PathBuf> = dirs.iter().map(|d| resolve(d)).collect();
    let mut diags = Vec::new();
    let help = if explicit {
        "choose an output directory that holds no input, e.g. --out out/NAME"
    } else {
        "point output at a directory that holds no input, e.g. output = \"../out/NAME\""
    };
    for (i, (p, out)) in profiles.iter().zip(&resolved).enumerate() {
        for input in profiles.iter().flat_map(Profile::inputs) {
            if resolve(input).starts_with(out) {
                diags.push(at_output(
                    Code::OutputOverlap,
                    p,
                    explicit,
                    format!(
                        "the output directory {} contains {}, which this command reads; rendering would replace it",
                        dirs[i].display(),
                        input.display()
                    ),
                    help,
                ));
            }
        }
        for (j, other) in resolved.iter().enumerate().take(i) {
            let clash = if out == other {
                "is also the output of"
            } else if out.starts_with(other) {
                "is inside the output of"
            } else if other.starts_with(out) {
                "contains the output of"
            } else {
                continue;
            };
            let mut d = at_output(
                Code::OutputOverlap,
                p,
                explicit,
                format!(
                    "the output directory {} {clash} {}; one render would replace the other",
                    dirs[i].display(),
                    profiles[j].path.display()
                ),
                if explicit {
                    "with --out, several profiles render into DIR/<file stem>: give the profiles different file names"
                } else {
                    "give each profile its own output directory"
                },
            );
            if let (false, Some(at)) = (explicit, &profiles[j].output_place) {
                d.labels.push(crate::diag::Label {
                    file: at.file.clone(),
                    span: at.span.clone(),
                    message: format!("the output of {}", profiles[j].path.display()),
                });
            }
            diags.push(d);
        }
    }
    diags
}

/// Refuse two profiles that name the same Kubernetes cluster (`openbao.kubernetes_cluster`)
/// and would emit the same object (API group, kind, namespace, name): applying the second
/// would silently take the first's object over. Profiles that name no cluster are not
/// compared: baogen cannot know where they go.
pub fn check_collisions(profiles: &[Profile], rendered: &[Artifacts]) -> Vec<Diagnostic> {
    // Only profiles that name a cluster are compared, so only theirs are read back.
    let ids: Vec<Vec<Identity>> = profiles
        .iter()
        .zip(rendered)
        .map(|(p, a)| match p.openbao.kubernetes_cluster {
            Some(_) => a.object_values().iter().map(Identity::of).collect(),
            None => Vec::new(),
        })
        .collect();
    let mut diags = Vec::new();
    for (j, later) in profiles.iter().enumerate() {
        let Some((cluster, at)) = &later.openbao.kubernetes_cluster else {
            continue;
        };
        for (i, earlier) in profiles.iter().enumerate().take(j) {
            let Some((first_cluster, first)) = &earlier.openbao.kubernetes_cluster else {
                continue;
            };
            if first_cluster != cluster {
                continue;
            }
            let shared: Vec<String> = ids[j]
                .iter()
                .filter(|id| ids[i].iter().any(|other| other.same(id)))
                .map(Identity::to_string)
                .collect();
            if shared.is_empty() {
                continue;
            }
            let shown = shared
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = match shared.len().saturating_sub(5) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            diags.push(
                Diagnostic::new(
                    Code::ObjectCollision,
                    &at.file,
                    Some(at.span.clone()),
                    format!(
                        "this profile and {} both target Kubernetes cluster '{cluster}' and both emit {shown}{more}; deploying the second would take over the first's objects",
                        earlier.path.display()
                    ),
                )
                .help("give each environment its own openbao.namespace (baogen names its objects after it); if the profiles target different clusters, say so in openbao.kubernetes_cluster")
                .label_in(Label {
                    file: first.file.clone(),
                    span: first.span.clone(),
                    message: format!("{} targets the same cluster here", earlier.path.display()),
                }),
            );
        }
    }
    diags
}
