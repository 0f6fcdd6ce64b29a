//! `baogen render DIR`, `baogen check DIR`: the profiles under a directory, so one command (one
//! pre-commit hook) covers a whole repository. A profile is a `.toml` file with its own
//! `profile` key; files without one are bases and are skipped. The walk reads only regular
//! files, bounded, follows no symbolic link, and skips hidden directories and baogen's own
//! outputs (a directory holding a `.baogen` marker).

use std::path::{Path, PathBuf};

use toml::de::DeTable;

use crate::diag::{Code, Diagnostic};

/// How deep the walk descends below the directory given.
const MAX_DEPTH: usize = 16;
/// How many `.toml` files it reads at most.
const MAX_FILES: usize = 10_000;

/// A profile found under a directory: its path and the bytes read (parsed once more, for good).
pub struct Found {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// Every profile under `dir`, in path order. A `.toml` file that cannot be read or is not TOML
/// is reported (it may be a broken profile); an empty result is an error naming the directory.
pub fn profiles_under(dir: &Path) -> Result<Vec<Found>, Vec<Diagnostic>> {
    let mut found = Vec::new();
    let mut diags = Vec::new();
    let mut seen = 0;
    walk(dir, 0, &mut seen, &mut found, &mut diags);
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
    found: &mut Vec<Found>,
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
                Ok(bytes) => {
                    // Not TOML or not UTF-8 (`None`): loading it reports exactly where.
                    if is_profile(&bytes) != Some(false) {
                        let path = crate::fsio::normalize(&path);
                        found.push(Found { path, bytes });
                    }
                }
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

/// Whether the bytes are a TOML document with its own `profile` key; `None` when they are not
/// TOML at all.
fn is_profile(bytes: &[u8]) -> Option<bool> {
    let text = std::str::from_utf8(bytes).ok()?;
    let doc = DeTable::parse(text).ok()?;
    Some(doc.get_ref().contains_key("profile"))
}
