//! The only place that touches the output tree. A render is written into a temporary sibling
//! directory and swapped in with one atomic `renameat2(RENAME_EXCHANGE)`, so the output is
//! always either the previous complete render or the new one, even if baogen is killed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Marks a directory as baogen's, so baogen never replaces a directory it did not write.
pub const MARKER: &str = ".baogen";
const MARKER_TEXT: &str =
    "Written by baogen. This directory is replaced as a whole on every render.\n";
const TMP_TAG: &str = ".baogen-tmp-";

#[derive(Debug)]
pub struct WriteError {
    pub path: PathBuf,
    pub message: String,
}

impl WriteError {
    fn io(path: &Path, what: &str, e: io::Error) -> Self {
        WriteError {
            path: path.to_path_buf(),
            message: format!("{what}: {e}"),
        }
    }
}

/// Replace `dir` with exactly `files` (relative `/`-separated paths), atomically.
pub fn replace_dir(dir: &Path, files: &BTreeMap<String, String>) -> Result<(), WriteError> {
    let name = dir
        .file_name()
        .ok_or_else(|| WriteError {
            path: dir.to_path_buf(),
            message: "the output must be a directory name, not '/' or '..'".into(),
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        fs::create_dir_all(&parent).map_err(|e| {
            WriteError::io(&parent, "cannot create the output's parent directory", e)
        })?;
    }
    let exists = check_replaceable(dir)?;
    // Also removes a directory left under this process id by an earlier, killed process.
    clean_stale(&parent, &name);
    // Already up to date: leave the tree (and its mtimes, which make and editors watch) alone.
    // (An existing directory is empty or baogen's, check_replaceable made sure.)
    if exists && compare(dir, files).is_empty() {
        return Ok(());
    }

    let tmp = parent.join(format!(".{name}{TMP_TAG}{}", std::process::id()));
    let result = fill(&tmp, files).and_then(|()| swap_in(&tmp, dir, exists));
    // After an exchange `tmp` holds the previous render; after a failure, a partial one.
    if exists || result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// Whether `dir` exists; an error when it is something baogen must not replace.
fn check_replaceable(dir: &Path) -> Result<bool, WriteError> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(WriteError::io(
            dir,
            "cannot inspect the output directory",
            e,
        )),
        Ok(m) if !m.is_dir() => Err(WriteError {
            path: dir.to_path_buf(),
            message: "the output path exists and is not a directory".into(),
        }),
        Ok(_) => {
            let mut entries = fs::read_dir(dir)
                .map_err(|e| WriteError::io(dir, "cannot read the output directory", e))?;
            if entries.next().is_none() || dir.join(MARKER).is_file() {
                Ok(true)
            } else {
                Err(WriteError {
                    path: dir.to_path_buf(),
                    message: format!("the directory exists and was not written by baogen (no {MARKER} file); refusing to replace it. Choose an empty or new directory"),
                })
            }
        }
    }
}

/// Remove temporary directories left by a render that was killed. Only those whose process is
/// gone: a concurrent render's directory is left alone.
fn clean_stale(parent: &Path, name: &str) {
    let prefix = format!(".{name}{TMP_TAG}");
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let fname = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = fname.strip_prefix(&prefix) {
            let alive = pid.parse::<u32>().is_ok_and(|pid| {
                pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists()
            });
            if !alive {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

fn fill(tmp: &Path, files: &BTreeMap<String, String>) -> Result<(), WriteError> {
    fs::create_dir(tmp).map_err(|e| {
        WriteError::io(
            tmp,
            "cannot create a temporary directory next to the output",
            e,
        )
    })?;
    fs::write(tmp.join(MARKER), MARKER_TEXT).map_err(|e| WriteError::io(tmp, "cannot write", e))?;
    // Each directory is created once (`create_dir_all` per file would cost two more system
    // calls per file, a measurable part of a render).
    let mut made = BTreeSet::new();
    for (rel, content) in files {
        let dirs: Vec<&Path> = Path::new(rel)
            .ancestors()
            .skip(1)
            .take_while(|d| !d.as_os_str().is_empty())
            .collect();
        for d in dirs.into_iter().rev() {
            if made.insert(d) {
                let p = tmp.join(d);
                fs::create_dir(&p).map_err(|e| WriteError::io(&p, "cannot create directory", e))?;
            }
        }
        let path = tmp.join(rel);
        fs::write(&path, content).map_err(|e| WriteError::io(&path, "cannot write", e))?;
    }
    Ok(())
}

fn swap_in(tmp: &Path, dir: &Path, exists: bool) -> Result<(), WriteError> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    if exists {
        renameat_with(CWD, tmp, CWD, dir, RenameFlags::EXCHANGE)
            .map_err(|e| WriteError::io(dir, "cannot swap in the new output", e.into()))
    } else {
        renameat_with(CWD, tmp, CWD, dir, RenameFlags::NOREPLACE)
            .map_err(|e| WriteError::io(dir, "cannot move the new output into place", e.into()))
    }
}

/// One difference between a render and what is on disk.
#[derive(Debug, PartialEq)]
pub enum Drift {
    Changed { path: String, diff: String },
    Missing { path: String },
    Extra { path: String },
}

/// Compare a render with a directory; empty when they are equal.
pub fn compare(dir: &Path, files: &BTreeMap<String, String>) -> Vec<Drift> {
    let mut drift = Vec::new();
    for (rel, want) in files {
        match read_expecting(&dir.join(rel), want.len()) {
            Ok(have) if have == want.as_bytes() => {}
            Ok(have) => {
                let have = String::from_utf8_lossy(&have);
                let diff = similar::TextDiff::from_lines(have.as_ref(), want.as_str())
                    .unified_diff()
                    .context_radius(3)
                    .header(
                        &format!("a/{rel} (on disk)"),
                        &format!("b/{rel} (rendered)"),
                    )
                    .to_string();
                drift.push(Drift::Changed {
                    path: rel.clone(),
                    diff,
                });
            }
            Err(_) => drift.push(Drift::Missing { path: rel.clone() }),
        }
    }
    for rel in list_files(dir) {
        if rel != MARKER && !files.contains_key(&rel) {
            drift.push(Drift::Extra { path: rel });
        }
    }
    drift
}

/// `fs::read` sized by the expected length instead of a `stat` and a `seek` (`check` reads every
/// file of every profile): open, read, read to see the end, close.
fn read_expecting(path: &Path, len: usize) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(len + 1);
    // Through `Take`, `read_to_end` asks the file for no size hint.
    fs::File::open(path)?.take(u64::MAX).read_to_end(&mut buf)?;
    Ok(buf)
}

fn list_files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            // The entry's own type (from the directory listing, no `stat`); a symlink to a
            // directory counts as a file, which is what a baogen tree never contains.
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(base, &path, out);
            } else if let Ok(rel) = path.strip_prefix(base) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
