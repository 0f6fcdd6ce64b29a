//! What the commands read: profiles from files or stdin (all of them validated before any
//! problem is reported), and the YAML stream the integrations are piped.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::Failure;
use crate::diag;
use crate::model::Profile;
use crate::profile;

/// How diagnostics name a profile read from stdin.
const STDIN_LABEL: &str = "<stdin>";

/// The most read from stdin: far above any chart's render, far below the machine's memory.
const MAX_STDIN: u64 = 256 * 1024 * 1024;

/// At most `limit + 1` bytes of stdin (one more than allowed, so the caller sees an overrun);
/// a terminal is refused rather than waited on, and `terminal` says what to pipe instead.
fn read_stdin_bytes(limit: u64, terminal: &str) -> Result<Vec<u8>, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(Failure::Message(format!("stdin is a terminal; {terminal}")));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(stdin.lock(), limit + 1),
        &mut bytes,
    )
    .map_err(|e| Failure::Message(format!("cannot read stdin: {e}")))?;
    Ok(bytes)
}

/// A profile piped to stdin (`-`), bounded like a profile file. Over the limit, or not UTF-8,
/// parse refuses it with the profile's own diagnostics.
fn read_stdin_profile() -> Result<Vec<u8>, Failure> {
    read_stdin_bytes(
        profile::MAX_PROFILE_BYTES as u64,
        "`-` reads a profile piped to baogen, e.g. `baogen render - --out DIR < prod.toml`",
    )
}

/// The whole of stdin, a YAML stream.
pub(super) fn read_stdin() -> Result<String, Failure> {
    let bytes = read_stdin_bytes(
        MAX_STDIN,
        "this command reads a YAML stream piped to it by Helm, kpt or kustomize",
    )?;
    if bytes.len() as u64 > MAX_STDIN {
        return Err(Failure::Message(format!(
            "stdin holds more than {MAX_STDIN} bytes (256 MiB), the most baogen reads as one stream"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        Failure::Message(format!(
            "stdin is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Load and validate every profile, reporting the problems of all of them together; the text
/// of each file read goes to `sources`, which the diagnostics are printed from.
pub(super) fn load_all(
    paths: &[PathBuf],
    sources: &mut diag::Sources,
) -> Result<Vec<Profile>, Failure> {
    let mut profiles = Vec::new();
    // Each profile's resolved path, once: a profile named twice (itself and through its
    // directory) is loaded once.
    let mut seen = std::collections::HashSet::new();
    let mut diags = Vec::new();
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(Failure::Message(
            "`-` (the profile on stdin) can be given once".into(),
        ));
    }
    for path in paths {
        let mut loaded = Vec::new();
        if path.as_os_str() == "-" {
            // A profile on stdin is named <stdin> and resolves relative paths against the
            // working directory, like a profile file in it.
            let bytes = read_stdin_profile()?;
            loaded.push(profile::parse_with_sources(
                Path::new(STDIN_LABEL),
                Path::new(""),
                &bytes,
            ));
        } else if path.is_dir() {
            match profile::discover::profiles_under(path) {
                Ok(found) => loaded.extend(found),
                Err(d) => diags.extend(d),
            }
        } else {
            loaded.push(profile::load_with_sources(path));
        }
        for (read, result) in loaded {
            sources.extend(read);
            match result {
                Ok(p) if !seen.insert(crate::fsio::resolve(&p.path)) => {}
                Ok(p) => profiles.push(p),
                Err(d) => diags.extend(d),
            }
        }
    }
    if diags.is_empty() {
        Ok(profiles)
    } else {
        Err(Failure::Invalid(diags))
    }
}

/// The one profile a single-profile command (explain, verify, plan, apply) works on: a file,
/// `-`, or a directory holding exactly one profile.
pub(super) fn load_one(path: PathBuf, sources: &mut diag::Sources) -> Result<Profile, Failure> {
    let mut loaded = load_all(std::slice::from_ref(&path), sources)?;
    if loaded.len() != 1 {
        let names: Vec<String> = loaded
            .iter()
            .map(|p| p.path.display().to_string())
            .collect();
        return Err(Failure::Message(format!(
            "this command works on one profile, and {} holds {}: {}; name one of them",
            path.display(),
            loaded.len(),
            names.join(", ")
        )));
    }
    Ok(loaded.remove(0))
}
