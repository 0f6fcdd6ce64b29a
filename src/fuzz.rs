//! The fuzz entry point: any bytes through the whole pipeline (load, validate, emit), as
//! `render` would run it. It sits above every stage, so no stage imports a later one.

use std::path::Path;

/// Run any bytes through the whole pipeline as a profile, as `render` would, discarding the
/// result: the fuzz target and its corpus replay test call this, and it must never panic.
pub fn exercise(bytes: &[u8]) {
    let path = Path::new("fuzz.toml");
    match crate::profile::parse(path, bytes) {
        Ok(profile) => {
            let art = crate::emit::render(&profile);
            let _ = art.kube_stream();
        }
        Err(diags) => {
            let source = String::from_utf8_lossy(bytes);
            let _ = crate::diag::render_all(&diags, |_| Some(source.to_string()), false);
        }
    }
}
