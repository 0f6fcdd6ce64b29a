//! `baogen render DIR`, `baogen check DIR`: the profiles under a directory, so one command (one
//! pre-commit hook) covers a whole repository. A profile is a `.toml` file with its own
//! `profile` key; files without one are bases and are skipped. The walk reads only regular
//! files, bounded, follows no symbolic link, and skips hidden directories and baogen's own
//! outputs (a directory holding a `.baogen` marker).

use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic, Sources};
use crate::model::Profile;

/// How deep the walk descends below the directory given.
const MAX_DEPTH: usize = 16;
/// How many `.toml` files it reads at most.
const MAX_FILES: usize = 10_000;

/// One profile loaded, as `super::load_with_sources` returns it.
pub type Loaded = (Sources, Result<Profile, Vec<Diagnostic>>);

/// Every profile under `dir`, loaded, in path order. Each `.toml` file is parsed once: one whose
/// only problem is that it has no `profile` key is a base and is left out; any other problem
/// (not TOML, not readable) is reported, since it may be a broken profile. An empty result is an
/// error naming the directory.
pub fn profiles_under(dir: &Path) -> Result<Vec<Loaded>, Vec<Diagnostic>> {
    let mut candidates = Vec::new();
    let mut diags = Vec::new();
    let mut seen = 0;
    walk(dir, 0, &mut seen, &mut candidates, &mut diags);
    let found: Vec<Loaded> = candidates
        .into_iter()
        .map(|(path, bytes)| {
            let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
            super::parse_with_sources(&path, &base, &bytes)
        })
        .filter(|(_, result)| {
            !matches!(result, Err(d) if d.iter().all(|d| d.code == Code::NotAProfile))
        })
        .collect();
    if seen > MAX_FILES {
        diags.push(
            Diagnostic::new(
                Code::NoProfileFound,
                dir,
                None,
                format!("{} holds more than {MAX_FILES} .toml files; baogen reads at most that many in one walk", dir.display()),
            )
            .help("name a narrower directory, such as the one holding your profiles"),
        );
    }
    if diags.is_empty() && found.is_empty() {
        diags.push(
            Diagnostic::new(
                Code::NoProfileFound,
                dir,
                None,
                format!(
                    "no profile under {}: no .toml file there has a `profile` key",
                    dir.display()
                ),
            )
            .help("name a profile file, or a directory holding profiles such as profiles/"),
        );
    }
    if diags.is_empty() {
        Ok(found)
    } else {
        Err(diags)
    }
}

fn walk(
    dir: &Path,
    depth: usize,
    seen: &mut usize,
    found: &mut Vec<(PathBuf, Vec<u8>)>,
    diags: &mut Vec<Diagnostic>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        diags.push(
            Diagnostic::new(
                Code::Unreadable,
                dir,
                None,
                format!("cannot list the directory {}", dir.display()),
            )
            .help("check the path and its permissions"),
        );
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        // `file_type` does not follow links: a linked file or directory is never entered.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            let output = path.join(crate::fsio::OUTPUT_MARKER).is_file();
            if !name.starts_with('.') && !output && depth < MAX_DEPTH {
                walk(&path, depth + 1, seen, found, diags);
            }
        } else if kind.is_file() && name.ends_with(".toml") {
            *seen += 1;
            if *seen > MAX_FILES {
                return;
            }
            match crate::fsio::read_regular(&path, super::MAX_PROFILE_BYTES as u64) {
                Ok(bytes) => found.push((crate::fsio::normalize(&path), bytes)),
                Err(e) => diags.push(
                    Diagnostic::new(
                        Code::Unreadable,
                        &path,
                        None,
                        format!("cannot read {}: {e}", path.display()),
                    )
                    .help("a .toml file under a profiles directory must be a readable profile or base"),
                ),
            }
        }
    }
}
