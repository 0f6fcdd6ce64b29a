//! The only place that touches the output tree. A render is written into a temporary sibling
//! directory and swapped in with one atomic `renameat2(RENAME_EXCHANGE)`, so the output is
//! always either the previous complete render or the new one, even if baogen is killed.
//!
//! Writing is two steps so that several profiles are all or nothing together: `stage` checks an
//! output and fills its temporary directory, `commit` swaps every staged output in (and swaps
//! back the ones already done if a later swap fails). baogen replaces only what it wrote: the
//! `.baogen` marker lists the files of the last render, and a directory that holds anything
//! else is refused (unless forced) instead of having that file deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::CWD;

use crate::fsio::{self, ReadError};

/// Marks a directory as baogen's and lists the files baogen wrote there.
pub const MARKER: &str = crate::fsio::OUTPUT_MARKER;
const MARKER_HEAD: &str = "# Written by baogen: the files of the last render, one per line. baogen replaces this\n# directory as a whole and refuses to while it holds any file not listed here.\n";
const TMP_TAG: &str = ".baogen-tmp-";
/// Committed files larger than this are not read for a diff (baogen writes none this large).
pub const MAX_COMPARED_BYTES: u64 = 16 * 1024 * 1024;

/// Why an output cannot be written. Every kind names the path it is about; the refusals say
/// what to do, and an I/O failure keeps the operating system's error as its source.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{what}")]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("the output must be a directory name, not '/' or '..'")]
    NoName { path: PathBuf },
    #[error("the output path exists and is {kind}, not a directory")]
    NotADirectory { path: PathBuf, kind: &'static str },
    #[error("the directory exists and was not written by baogen (its {MARKER} file cannot be used: {reason}); refusing to replace it. Choose an empty or new directory")]
    NotBaogens { path: PathBuf, reason: ReadError },
    #[error("{}", foreign_files(.files))]
    ForeignFiles { path: PathBuf, files: Vec<String> },
}

impl WriteError {
    fn io(path: &Path, what: &'static str, source: io::Error) -> Self {
        WriteError::Io {
            path: path.to_path_buf(),
            what,
            source,
        }
    }

    /// The file or directory the error is about.
    pub fn path(&self) -> &Path {
        match self {
            WriteError::Io { path, .. }
            | WriteError::NoName { path }
            | WriteError::NotADirectory { path, .. }
            | WriteError::NotBaogens { path, .. }
            | WriteError::ForeignFiles { path, .. } => path,
        }
    }
}

fn foreign_files(files: &[String]) -> String {
    let shown: Vec<&str> = files.iter().take(20).map(String::as_str).collect();
    let more = files.len().saturating_sub(shown.len());
    let (s, it) = if files.len() == 1 {
        ("", "it")
    } else {
        ("s", "them")
    };
    format!(
        "the output directory holds {} file{s} that baogen did not write: {}{}. baogen replaces the directory as a whole and never deletes a file it did not write: move {it} elsewhere, or pass --force to delete {it}",
        files.len(),
        shown.join(", "),
        if more > 0 { format!(" and {more} more") } else { String::new() },
    )
}

/// The marker's text for a render of `files`.
fn marker_text(files: &BTreeMap<String, String>) -> String {
    let mut s = String::from(MARKER_HEAD);
    for rel in files.keys() {
        s.push_str(rel);
        s.push('\n');
    }
    s
}

/// An output checked and filled, not yet swapped in. Dropping it removes its temporary tree.
pub struct Staged {
    dir: PathBuf,
    /// `None` when the output is already up to date.
    tmp: Option<PathBuf>,
    exists: bool,
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(tmp) = &self.tmp {
            let _ = fs::remove_dir_all(tmp);
        }
    }
}

/// Check that `dir` may be replaced with exactly `files` (relative `/`-separated paths) and
/// write the new tree next to it. `force` allows removing files in `dir` that baogen did not
/// write.
pub fn stage(
    dir: &Path,
    files: &BTreeMap<String, String>,
    force: bool,
) -> Result<Staged, WriteError> {
    let name = dir
        .file_name()
        .ok_or_else(|| WriteError::NoName {
            path: dir.to_path_buf(),
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
    let marker = marker_text(files);
    let existing = check_replaceable(dir, files, force)?;
    let exists = existing.is_some();
    // Also removes a directory left under this process id by an earlier, killed process.
    clean_stale(&parent, &name);
    // Already up to date: leave the tree (and its mtimes, which make and editors watch) alone.
    if existing.is_some_and(|entries| compare_listed(dir, files, entries).is_empty()) {
        return Ok(Staged {
            dir: dir.to_path_buf(),
            tmp: None,
            exists,
        });
    }
    let tmp = parent.join(format!(".{name}{TMP_TAG}{}", std::process::id()));
    let staged = Staged {
        dir: dir.to_path_buf(),
        tmp: Some(tmp.clone()),
        exists,
    };
    fill(&tmp, files, &marker)?;
    Ok(staged)
}

/// Swap every staged output in; when one swap fails, the ones before it are swapped back, so
/// the outputs are all new or all as they were.
pub fn commit(staged: Vec<Staged>) -> Result<(), WriteError> {
    for (i, s) in staged.iter().enumerate() {
        let Some(tmp) = &s.tmp else { continue };
        if let Err(e) = swap_in(tmp, &s.dir, s.exists) {
            for done in staged[..i].iter().rev() {
                if let Some(tmp) = &done.tmp {
                    let _ = swap_back(tmp, &done.dir, done.exists);
                }
            }
            return Err(e);
        }
    }
    // After an exchange each `tmp` holds the previous render, removed on drop; a new output
    // has no `tmp` left.
    for mut s in staged {
        if !s.exists {
            s.tmp = None;
        }
    }
    Ok(())
}

/// The entries of `dir` when it exists (`None` when it does not); an error when it is
/// something baogen must not replace.
fn check_replaceable(
    dir: &Path,
    files: &BTreeMap<String, String>,
    force: bool,
) -> Result<Option<Vec<Entry>>, WriteError> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(WriteError::io(
                dir,
                "cannot inspect the output directory",
                e,
            ))
        }
        Ok(m) if !m.is_dir() => {
            return Err(WriteError::NotADirectory {
                path: dir.to_path_buf(),
                kind: fsio::kind(&m),
            })
        }
        Ok(_) => {}
    }
    let entries = list_entries(dir);
    let marker = match fsio::Tree::new(dir).read(MARKER, MAX_COMPARED_BYTES) {
        Ok(m) => m,
        Err(ReadError::NotFound) if entries.is_empty() => return Ok(Some(entries)),
        Err(e) => {
            return Err(WriteError::NotBaogens {
                path: dir.to_path_buf(),
                reason: e,
            })
        }
    };
    let listed: BTreeSet<&str> = match std::str::from_utf8(&marker) {
        Ok(text) if text.starts_with("# ") => text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect(),
        // A marker from before baogen listed its files: only what this render writes is known
        // to be baogen's.
        _ => files.keys().map(String::as_str).collect(),
    };
    let foreign: Vec<String> = entries
        .iter()
        .filter(|e| e.path != MARKER && !(e.regular && listed.contains(e.path.as_str())))
        .map(|e| e.path.clone())
        .collect();
    if !foreign.is_empty() && !force {
        return Err(WriteError::ForeignFiles {
            path: dir.to_path_buf(),
            files: foreign,
        });
    }
    Ok(Some(entries))
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

fn fill(tmp: &Path, files: &BTreeMap<String, String>, marker: &str) -> Result<(), WriteError> {
    fs::create_dir(tmp).map_err(|e| {
        WriteError::io(
            tmp,
            "cannot create a temporary directory next to the output",
            e,
        )
    })?;
    fs::write(tmp.join(MARKER), marker).map_err(|e| WriteError::io(tmp, "cannot write", e))?;
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
    use rustix::fs::{renameat_with, RenameFlags};
    if exists {
        renameat_with(CWD, tmp, CWD, dir, RenameFlags::EXCHANGE)
            .map_err(|e| WriteError::io(dir, "cannot swap in the new output", e.into()))
    } else {
        renameat_with(CWD, tmp, CWD, dir, RenameFlags::NOREPLACE)
            .map_err(|e| WriteError::io(dir, "cannot move the new output into place", e.into()))
    }
}

/// Undo `swap_in`: the previous render back at `dir`, the new one at `tmp` (removed on drop).
fn swap_back(tmp: &Path, dir: &Path, exists: bool) -> rustix::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags};
    let flags = if exists {
        RenameFlags::EXCHANGE
    } else {
        RenameFlags::NOREPLACE
    };
    renameat_with(CWD, dir, CWD, tmp, flags)
}

/// One difference between a render and what is on disk.
#[derive(Debug, PartialEq)]
pub enum Drift {
    Changed {
        path: String,
        diff: String,
    },
    Missing {
        path: String,
    },
    Extra {
        path: String,
    },
    /// Something other than a readable regular file where a file should be (a symbolic link, a
    /// FIFO, ...): reported by its name, never read through.
    Unreadable {
        path: String,
        reason: String,
    },
}

/// Compare a render with a directory; empty when they are equal. Nothing is read through a
/// symbolic link, and nothing but the rendered paths is read at all.
pub fn compare(dir: &Path, files: &BTreeMap<String, String>) -> Vec<Drift> {
    compare_listed(dir, files, list_entries(dir))
}

/// `compare` with the directory's entries already listed.
fn compare_listed(dir: &Path, files: &BTreeMap<String, String>, entries: Vec<Entry>) -> Vec<Drift> {
    let mut drift = Vec::new();
    if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        drift.push(Drift::Unreadable {
            path: String::new(),
            reason: "the output directory is a symbolic link, which baogen does not follow".into(),
        });
        return drift;
    }
    let mut tree = fsio::Tree::new(dir);
    // The marker is part of the output: it says which files the next render may replace.
    let marker = marker_text(files);
    let expected =
        std::iter::once((MARKER, &marker)).chain(files.iter().map(|(k, v)| (k.as_str(), v)));
    for (rel, want) in expected {
        let rel = &rel.to_string();
        match tree.read(rel, MAX_COMPARED_BYTES) {
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
            Err(ReadError::NotFound) => drift.push(Drift::Missing { path: rel.clone() }),
            Err(e) => drift.push(Drift::Unreadable {
                path: rel.clone(),
                reason: e.to_string(),
            }),
        }
    }
    for e in entries {
        if e.path != MARKER && !files.contains_key(&e.path) {
            drift.push(Drift::Extra { path: e.path });
        }
    }
    drift
}

/// One entry of a tree other than a directory.
struct Entry {
    path: String,
    regular: bool,
}

/// Every non-directory entry below `dir`, sorted, found without following a link.
fn list_entries(dir: &Path) -> Vec<Entry> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<Entry>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            // The entry's own type (from the directory listing, or lstat): a link is an entry
            // of its own, never followed.
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                walk(base, &path, out);
            } else if let Ok(rel) = path.strip_prefix(base) {
                out.push(Entry {
                    path: rel.to_string_lossy().replace('\\', "/"),
                    regular: t.is_file(),
                });
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("baogen-write-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn large_committed_files_are_diffed_up_to_the_bound_and_named_beyond_it() {
        let dir = scratch("large");
        let files = BTreeMap::from([("a.txt".to_string(), "small\n".to_string())]);
        // 2 MiB: still read and diffed.
        fs::write(dir.join("a.txt"), "x\n".repeat(1 << 20)).unwrap();
        assert!(matches!(
            &compare(&dir, &files)[..],
            [Drift::Missing { .. }, Drift::Changed { .. }]
        ));
        // Past the bound (sparse, so it costs no disk): named, never read.
        let f = fs::File::create(dir.join("a.txt")).unwrap();
        f.set_len(MAX_COMPARED_BYTES + 1).unwrap();
        let drift = compare(&dir, &files);
        assert!(
            matches!(&drift[1], Drift::Unreadable { path, reason } if path == "a.txt" && reason.contains("larger than")),
            "{drift:?}"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_live_process_s_temporary_directory_is_left_alone() {
        let dir = scratch("concurrent");
        let out = dir.join("out");
        // PID 1 is always alive: a render running there keeps its directory.
        let running = dir.join(".out.baogen-tmp-1");
        fs::create_dir_all(&running).unwrap();
        let files = BTreeMap::from([("a.txt".to_string(), "x\n".to_string())]);
        commit(vec![stage(&out, &files, false).unwrap()]).unwrap();
        assert!(running.is_dir(), "a live render's directory was removed");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_named_like_the_marker_s_comment_is_still_foreign() {
        let dir = scratch("comment-name");
        let out = dir.join("out");
        let files = BTreeMap::from([("a.txt".to_string(), "x\n".to_string())]);
        commit(vec![stage(&out, &files, false).unwrap()]).unwrap();
        let comment = MARKER_HEAD.lines().next().unwrap();
        fs::write(out.join(comment), "not baogen's\n").unwrap();
        let err = stage(&out, &files, false).err().expect("refused");
        assert!(matches!(err, WriteError::ForeignFiles { .. }), "{err}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_output_path_that_cannot_be_inspected_is_an_error_not_a_new_directory() {
        let dir = scratch("inspect");
        // Too long a name: lstat fails with ENAMETOOLONG, which is not "does not exist".
        let out = dir.join("o".repeat(300));
        let files = BTreeMap::from([("a.txt".to_string(), "x\n".to_string())]);
        let err = stage(&out, &files, false).err().expect("refused");
        assert!(
            matches!(&err, WriteError::Io { what, .. } if *what == "cannot inspect the output directory"),
            "{err:?}"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_render_leaves_nothing_next_to_the_output() {
        let dir = scratch("siblings");
        let out = dir.join("out");
        // What a killed render left behind: cleaned up by the next one.
        let stale = dir.join(".out.baogen-tmp-4000000");
        fs::create_dir_all(&stale).unwrap();
        for round in 0..3 {
            let files = BTreeMap::from([("a.txt".to_string(), format!("render {round}\n"))]);
            commit(vec![stage(&out, &files, false).unwrap()]).unwrap();
            assert_eq!(
                fs::read_to_string(out.join("a.txt")).unwrap(),
                format!("render {round}\n")
            );
            let siblings: Vec<_> = fs::read_dir(&dir)
                .unwrap()
                .flatten()
                .map(|e| e.file_name())
                .collect();
            assert_eq!(
                siblings,
                vec![std::ffi::OsString::from("out")],
                "round {round}"
            );
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_empty_directory_is_taken_and_a_marker_from_before_listing_is_honoured() {
        let dir = scratch("takeover");
        let out = dir.join("out");
        let files = BTreeMap::from([("a.txt".to_string(), "new\n".to_string())]);
        // An existing empty directory: taken as it is.
        fs::create_dir_all(&out).unwrap();
        commit(vec![stage(&out, &files, false).unwrap()]).unwrap();
        assert_eq!(fs::read_to_string(out.join("a.txt")).unwrap(), "new\n");
        // A marker of an older baogen (one line, no list): what this render writes is baogen's,
        // anything else is not.
        let legacy = || {
            let text =
                "Written by baogen. This directory is replaced as a whole on every render.\n";
            fs::write(out.join(MARKER), text).unwrap();
        };
        legacy();
        fs::write(out.join("a.txt"), "old\n").unwrap();
        commit(vec![stage(&out, &files, false).unwrap()]).unwrap();
        assert_eq!(fs::read_to_string(out.join("a.txt")).unwrap(), "new\n");
        legacy();
        fs::write(out.join("mine.txt"), "user\n").unwrap();
        let err = stage(&out, &files, false)
            .err()
            .expect("a foreign file is refused");
        assert!(
            matches!(&err, WriteError::ForeignFiles { files, .. } if files == &["mine.txt"]),
            "{err}"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failed_swap_puts_back_every_output_already_swapped() {
        let dir = scratch("rollback");
        let (a, b) = (dir.join("a"), dir.join("b"));
        let old = BTreeMap::from([("f.txt".to_string(), "old\n".to_string())]);
        let new = BTreeMap::from([("f.txt".to_string(), "new\n".to_string())]);
        commit(vec![stage(&a, &old, false).unwrap()]).unwrap();
        let staged = vec![
            stage(&a, &new, false).unwrap(),
            stage(&b, &new, false).unwrap(),
        ];
        // The second swap fails: its new tree is gone from under it.
        fs::remove_dir_all(staged[1].tmp.as_ref().unwrap()).unwrap();
        assert!(commit(staged).is_err());
        assert_eq!(
            fs::read_to_string(a.join("f.txt")).unwrap(),
            "old\n",
            "a was not put back"
        );
        assert!(!b.exists());
        let siblings: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(siblings, vec![std::ffi::OsString::from("a")]);
        let _ = fs::remove_dir_all(&dir);
    }
}
