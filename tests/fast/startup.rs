//! What a run touches, traced with the real strace: no network, and no file beyond the profile,
//! the certificate files it references, the output it writes (render) or compares (check), and
//! what the dynamic loader and Rust's runtime open for every program.

use crate::common;

use std::path::Path;

/// Every path the traced run opened, and whether it created a socket.
fn trace(args: &[&str]) -> (Vec<String>, bool) {
    let Some(strace) = common::tool("strace") else {
        return (Vec::new(), false);
    };
    let dir = common::TempDir::new("strace");
    let log = dir.path().join("trace.log");
    let out = std::process::Command::new(strace)
        .args([
            "-f",
            "-qq",
            // Decode descriptors: an `openat` below a directory descriptor shows that
            // directory's path, so files opened relative to one are attributed to it.
            "-y",
            "-e",
            "trace=open,openat,creat,socket,connect",
            "-o",
        ])
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_baogen"))
        .args(args)
        .current_dir(common::root())
        // As a user runs it: cargo's library path would make the loader probe target/.
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let network = text.contains("socket(") || text.contains("connect(");
    let opened = text.lines().filter_map(opened_path).collect();
    (opened, network)
}

/// The path a traced `open`/`openat` line opened: `openat(AT_FDCWD</cwd>, "p", ...)` is `p`,
/// `openat(3</dir>, "p", ...)` is `/dir/p`.
fn opened_path(line: &str) -> Option<String> {
    let (before, rest) = line.split_once('"')?;
    let (path, _) = rest.split_once('"')?;
    let dir = before
        .rsplit_once("openat(")
        .filter(|(_, fd)| !fd.starts_with("AT_FDCWD"))
        .and_then(|(_, fd)| fd.split_once('<'))
        .and_then(|(_, d)| d.split_once('>'))
        .map(|(d, _)| d);
    Some(match dir {
        Some(d) if !path.starts_with('/') => format!("{d}/{path}"),
        _ => path.to_string(),
    })
}

/// Opened by every dynamically linked Rust program before `main`: the loader's cache and the
/// shared libraries, and `/proc/self/maps` for the main thread's stack guard.
fn runtime(path: &str) -> bool {
    path == "/etc/ld.so.cache"
        || path == "/etc/ld.so.preload"
        || path == "/proc/self/maps"
        || path.starts_with("/lib")
        || path.starts_with("/usr/lib")
}

fn unexpected(opened: &[String], allowed: &[&str]) -> Vec<String> {
    opened
        .iter()
        .filter(|p| !runtime(p) && !allowed.iter().any(|a| p.starts_with(a)))
        .cloned()
        .collect()
}

#[test]
fn render_opens_only_the_profile_and_its_output() {
    let out = common::TempDir::new("startup-render");
    let dir = out.path().join("out");
    let dir = dir.to_str().unwrap();
    let (opened, network) = trace(&["render", "profiles/active.toml", "--out", dir]);
    if opened.is_empty() {
        return; // strace is missing outside CI (common::tool said so)
    }
    assert!(!network, "render created a socket");
    assert!(
        opened.iter().any(|p| p == "profiles/active.toml"),
        "{opened:?}"
    );
    let parent = out.path().to_str().unwrap();
    assert_eq!(
        unexpected(&opened, &["profiles/active.toml", parent]),
        Vec::<String>::new()
    );
}

#[test]
fn an_engine_profile_also_opens_its_ca_file_and_nothing_else() {
    let out = common::TempDir::new("startup-engine");
    let dir = out.path().join("out");
    let profile = "profiles/examples/engine-reference.toml";
    let (opened, network) = trace(&["render", profile, "--out", dir.to_str().unwrap()]);
    if opened.is_empty() {
        return;
    }
    assert!(!network, "render created a socket");
    let ca = "profiles/examples/kubernetes-ca.crt";
    assert!(
        opened
            .iter()
            .any(|p| Path::new(p).ends_with("kubernetes-ca.crt")),
        "{opened:?}"
    );
    assert_eq!(
        unexpected(&opened, &[profile, ca, out.path().to_str().unwrap()]),
        Vec::<String>::new()
    );
}

#[test]
fn check_opens_the_profiles_and_their_committed_output_only() {
    let profiles = [
        "profiles/active.toml",
        "profiles/all-node.toml",
        "profiles/demo.toml",
    ];
    let mut args = vec!["check"];
    args.extend(profiles);
    let (opened, network) = trace(&args);
    if opened.is_empty() {
        return;
    }
    assert!(!network, "check created a socket");
    let golden = common::root().join("golden").canonicalize().unwrap();
    let golden = format!("{}/", golden.display());
    let mut allowed: Vec<&str> = profiles.to_vec();
    allowed.push("profiles/../golden");
    allowed.push(&golden);
    assert_eq!(unexpected(&opened, &allowed), Vec::<String>::new());
}
