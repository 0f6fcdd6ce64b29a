//! Reading inputs without trusting them: only regular files, never more than a bound (checked
//! while reading, so `/dev/zero` costs nothing), never blocking (a FIFO is opened non-blocking
//! and refused), and inside a tree never through a symbolic link, so a committed link to
//! `/proc/self/environ` cannot make `check` print the CI job's environment.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{fstat, openat, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;

/// The file that marks a directory as a baogen output (`write` owns its content); walks over
/// inputs skip such directories.
pub const OUTPUT_MARKER: &str = ".baogen";

/// Why a file was not read; callers match on the kind (a profile too large, not regular).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("no such file")]
    NotFound,
    /// A symbolic link where a tree may hold only files and directories.
    #[error("it is a symbolic link, which baogen does not follow here")]
    Symlink,
    /// Not a regular file: "a FIFO", "a directory", ...
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    /// Larger than the bound; nothing past it was read.
    #[error("it is larger than {0} bytes")]
    TooLarge(u64),
    #[error(transparent)]
    Io(io::Error),
}

impl From<Errno> for ReadError {
    fn from(e: Errno) -> Self {
        match e {
            Errno::NOENT => ReadError::NotFound,
            Errno::LOOP => ReadError::Symlink,
            // What open(2) says for a socket.
            Errno::NXIO => ReadError::NotRegular("a socket"),
            e => ReadError::Io(e.into()),
        }
    }
}

/// Flags for opening a file to read: non-blocking so that opening a FIFO returns at once (it
/// is refused after `fstat`), and never a controlling terminal.
fn read_flags() -> OFlags {
    OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC
}

/// Read a file the user named (the path itself may be a link, as a profile in a repository
/// may be): a regular file of at most `limit` bytes.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let fd = openat(CWD, path, read_flags(), Mode::empty())?;
    read_fd(fd, limit)
}

/// Reads files below one directory without following a symbolic link in any component of
/// their path (a link is `ReadError::Symlink`, reported by its name), opening each directory
/// once: `check` reads every file of every profile.
pub struct Tree {
    root: PathBuf,
    dirs: HashMap<String, Result<OwnedFd, Errno>>,
}

impl Tree {
    pub fn new(root: &Path) -> Self {
        Tree {
            root: root.to_path_buf(),
            dirs: HashMap::new(),
        }
    }

    /// Read `rel` (a `/`-separated path below the root), at most `limit` bytes.
    pub fn read(&mut self, rel: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        if rel
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(ReadError::NotRegular(
                "a path that is not plainly inside the tree",
            ));
        }
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        let dir = self.dir(parent).as_ref().map_err(|e| match *e {
            Errno::NOTDIR => {
                ReadError::NotRegular("under a path component that is not a directory")
            }
            e => ReadError::from(e),
        })?;
        let fd = openat(dir, name, read_flags() | OFlags::NOFOLLOW, Mode::empty())?;
        read_fd(fd, limit)
    }

    /// The directory `rel` below the root, opened once; a link or a file in its path is
    /// `NOTDIR`.
    fn dir(&mut self, rel: &str) -> &Result<OwnedFd, Errno> {
        if !self.dirs.contains_key(rel) {
            let fd = if rel.is_empty() {
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
                openat(CWD, &self.root, flags, Mode::empty())
            } else {
                let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                match self.dir(parent) {
                    Ok(parent) => openat(parent, name, flags, Mode::empty()).map_err(|e| {
                        if e == Errno::LOOP {
                            Errno::NOTDIR
                        } else {
                            e
                        }
                    }),
                    Err(e) => Err(*e),
                }
            };
            self.dirs.insert(rel.to_string(), fd);
        }
        &self.dirs[rel]
    }
}

fn read_fd(fd: OwnedFd, limit: u64) -> Result<Vec<u8>, ReadError> {
    let st = fstat(&fd)?;
    match FileType::from_raw_mode(st.st_mode) {
        FileType::RegularFile => {}
        other => return Err(ReadError::NotRegular(describe(other))),
    }
    let size = u64::try_from(st.st_size).unwrap_or(0);
    if size > limit {
        return Err(ReadError::TooLarge(limit));
    }
    // The size is a hint, not a bound: a file can grow while it is read (or lie, in /proc).
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0) + 1);
    File::from(fd)
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(ReadError::Io)?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(buf)
}

/// "a FIFO", for messages.
fn describe(t: FileType) -> &'static str {
    match t {
        FileType::Directory => "a directory",
        FileType::Fifo => "a FIFO (named pipe)",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Symlink => "a symbolic link",
        _ => "a special file",
    }
}

/// What kind of entry `metadata` (from `symlink_metadata`) describes, for messages.
pub fn kind(metadata: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::MetadataExt;
    match FileType::from_raw_mode(metadata.mode()) {
        FileType::RegularFile => "a regular file",
        other => describe(other),
    }
}

/// `path` as a person would write it: `profiles/../deploy/prod` → `deploy/prod`, `./x` → `x`.
/// Lexical, so it is used only when it names the same place as `path` (a link on the way
/// can make `a/..` differ from `.`); otherwise `path` stays as given.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    if out != path && resolve(&out) != resolve(path) {
        return path.to_path_buf();
    }
    out
}

/// An absolute form of `path` with every link in its existing part resolved and `.`/`..`
/// removed, so two spellings of one directory compare equal.
pub fn resolve(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    // The longest existing ancestor, canonical, then the rest as written.
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            let mut out = canonical;
            for c in rest.iter().rev() {
                match c {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::Normal(n) => out.push(n),
                    _ => {}
                }
            }
            return out;
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last);
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_files_are_refused_without_blocking_or_reading() {
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), 1024),
            Err(ReadError::NotRegular("a character device"))
        ));
        assert!(matches!(
            read_regular(Path::new("/"), 1024),
            Err(ReadError::NotRegular("a directory"))
        ));
        assert!(matches!(
            read_regular(Path::new("/nonexistent/x"), 1024),
            Err(ReadError::NotFound)
        ));
    }

    #[test]
    fn the_bound_holds_while_reading() {
        // /proc files report size 0 and may be longer: the bound is enforced on the bytes.
        assert!(matches!(
            read_regular(Path::new("/proc/self/maps"), 4),
            Err(ReadError::TooLarge(4))
        ));
        assert!(read_regular(Path::new("/proc/self/maps"), 1 << 24).is_ok());
    }

    #[test]
    fn normalize_drops_dots_and_parent_steps_that_name_the_same_place() {
        assert_eq!(
            normalize(Path::new("profiles/../deploy/prod")),
            Path::new("deploy/prod")
        );
        assert_eq!(normalize(Path::new("./x/./y")), Path::new("x/y"));
        assert_eq!(normalize(Path::new("../up")), Path::new("../up"));
        assert_eq!(normalize(Path::new("a/..")), Path::new("."));
    }

    #[test]
    fn spellings_of_one_directory_resolve_alike() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            resolve(Path::new("src")),
            cwd.join("src").canonicalize().unwrap()
        );
        assert_eq!(
            resolve(Path::new("src/../src/./x/y/..")),
            resolve(Path::new("src/x"))
        );
        assert_eq!(
            resolve(Path::new("no/such/../dir")),
            resolve(Path::new("no/dir"))
        );
    }
}
