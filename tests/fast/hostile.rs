//! What careless users and attackers bring, generated in many instances per class: special
//! files where a profile, a CA file or a committed output file should be; symbolic links in a
//! compared or replaced tree; outputs that overlap an input or each other; files in an output
//! that baogen did not write; TOML nested past the parser's limit. Each must end in a clear
//! exit code within seconds, with nothing written and nothing read from outside the tree.

use crate::common;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::TempDir;

/// Run baogen in `cwd`, killing it (and failing) if it has not finished in 20 seconds: a
/// blocked read on a FIFO shows up as a test failure, not a hung suite.
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    let mut child = common::baogen()
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "baogen {args:?} hung (killed after 20 s); stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Every entry below `dir` as (path, kind, content of regular files); links are not followed.
fn snapshot(dir: &Path) -> Vec<(String, String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let rel = e.path().strip_prefix(base).unwrap().display().to_string();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                out.push((rel, "dir".into(), vec![]));
                walk(base, &e.path(), out);
            } else if t.is_symlink() {
                let target = std::fs::read_link(e.path()).unwrap();
                out.push((
                    rel,
                    "link".into(),
                    target.display().to_string().into_bytes(),
                ));
            } else if t.is_file() {
                out.push((rel, "file".into(), std::fs::read(e.path()).unwrap()));
            } else {
                out.push((rel, "special".into(), vec![]));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Makes one kind of special file at a path.
type MakeSpecial = dyn Fn(&Path);

/// Special files of every kind at `path`, one after the other: each call of `each` sees one.
fn with_special_files(path: &Path, mut each: impl FnMut(&str)) {
    let kinds: [(&str, &MakeSpecial); 6] = [
        ("fifo", &|p| {
            let ok = Command::new("mkfifo").arg(p).status().unwrap().success();
            assert!(ok, "mkfifo");
        }),
        ("socket", &|p| {
            // The listener is dropped at once; the socket file stays.
            let _ = std::os::unix::net::UnixListener::bind(p).unwrap();
        }),
        ("directory", &|p| std::fs::create_dir(p).unwrap()),
        ("link to /dev/zero", &|p| symlink("/dev/zero", p).unwrap()),
        ("link to a FIFO", &|p| {
            let fifo = p.with_extension("target-fifo");
            assert!(Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success());
            symlink(&fifo, p).unwrap();
        }),
        ("link to /dev/urandom", &|p| {
            symlink("/dev/urandom", p).unwrap()
        }),
    ];
    for (name, make) in kinds {
        let _ = std::fs::remove_dir_all(path);
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_file(path.with_extension("target-fifo"));
        make(path);
        each(name);
    }
    let _ = std::fs::remove_dir_all(path);
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(path.with_extension("target-fifo"));
}

/// A copy of a shipped profile (and the CA file the engine examples read) in `dir`, with its
/// `output` pointing at `output`.
fn profile_copy(dir: &Path, shipped: &str, name: &str, output: &str) -> PathBuf {
    let source = std::fs::read_to_string(common::root().join(shipped)).unwrap();
    let mut text = String::new();
    for line in source.lines() {
        if line.starts_with("output = ") {
            text.push_str(&format!("output = {output:?}\n"));
        } else if !line.starts_with("#:schema") {
            text.push_str(line);
            text.push('\n');
        }
    }
    let ca = common::root().join("profiles/examples/kubernetes-ca.crt");
    std::fs::copy(ca, dir.join("kubernetes-ca.crt")).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const SHIPPED: [&str; 4] = [
    "profiles/active.toml",
    "profiles/all-node.toml",
    "profiles/demo.toml",
    "profiles/examples/engine-confined.toml",
];

#[test]
fn special_files_as_the_profile_or_its_ca_file_are_refused_without_blocking() {
    let tmp = TempDir::new("special-in");
    let dir = tmp.path();
    let mut cases = 0;
    for cmd in [
        &["render", "p.toml", "--out", "out"][..],
        &["check", "p.toml", "--against", "out"],
        &["diff", "p.toml", "--against", "out"],
        &["explain", "p.toml"],
    ] {
        with_special_files(&dir.join("p.toml"), |kind| {
            let out = run_in(dir, cmd);
            assert_eq!(out.status.code(), Some(2), "{kind} as the profile, {cmd:?}");
            let stderr = text(&out.stderr);
            // Every command takes a directory of profiles; this one holds none.
            let why = if kind == "directory" {
                "no profile under p.toml"
            } else {
                "not a regular file"
            };
            assert!(
                stderr.contains("p.toml") && stderr.contains(why),
                "{kind}: {stderr}"
            );
            assert!(out.stdout.is_empty() && !dir.join("out").exists());
            cases += 1;
        });
    }
    // The CA file an engine profile names.
    let profile = profile_copy(dir, SHIPPED[3], "engine.toml", "out");
    for cmd in [
        &["render", "engine.toml"][..],
        &["check", "engine.toml"],
        &["explain", "engine.toml"],
    ] {
        with_special_files(&dir.join("kubernetes-ca.crt"), |kind| {
            let out = run_in(dir, cmd);
            assert_eq!(out.status.code(), Some(2), "{kind} as the CA file, {cmd:?}");
            let stderr = text(&out.stderr);
            assert!(
                stderr.contains("engine.toml:") && stderr.contains("not a regular file"),
                "{kind}: {stderr}"
            );
            assert!(!dir.join("out").exists());
            cases += 1;
        });
    }
    assert!(profile.exists());
    assert_eq!(cases, 4 * 6 + 3 * 6);
}

#[test]
fn the_size_bound_holds_while_reading_and_before() {
    let tmp = TempDir::new("huge");
    let dir = tmp.path();
    // A sparse 64 GiB file: refused from its size, without reading or allocating.
    let f = std::fs::File::create(dir.join("sparse.toml")).unwrap();
    f.set_len(64 << 30).unwrap();
    let profile = profile_copy(dir, SHIPPED[3], "engine.toml", "out");
    for (args, what) in [
        (&["render", "sparse.toml", "--out", "o"][..], "sparse.toml"),
        (&["render", "engine.toml"], "engine.toml"),
    ] {
        if what == "engine.toml" {
            let f = std::fs::File::create(dir.join("kubernetes-ca.crt")).unwrap();
            f.set_len(64 << 30).unwrap();
        }
        let start = Instant::now();
        let out = run_in(dir, args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("larger than"),
            "{}",
            text(&out.stderr)
        );
        assert!(start.elapsed() < Duration::from_secs(5));
    }
    assert!(profile.exists());
}

/// A tree of a render next to a secret it must never reveal: `check` and `diff` over a tree
/// where any one file or directory was replaced by a link to the secret (or to a directory
/// holding it) report drift by name and print nothing of it; `render` refuses the tree (the
/// link is not baogen's file) and `render --force` replaces it without touching the secret.
#[test]
fn links_in_a_compared_or_replaced_tree_are_reported_by_name_and_never_followed() {
    let tmp = TempDir::new("links");
    let dir = tmp.path();
    let secret = dir.join("secret.txt");
    let secret_text = "SECRET-ENVIRONMENT-a1b2c3";
    std::fs::write(&secret, secret_text).unwrap();
    let secret_dir = dir.join("secret-dir");
    let mut cases = 0;
    for shipped in SHIPPED {
        let name = Path::new(shipped).file_name().unwrap().to_str().unwrap();
        profile_copy(dir, shipped, name, "out");
        let fresh = run_in(dir, &["render", name]);
        assert!(fresh.status.success(), "{}", text(&fresh.stderr));
        let entries = snapshot(&dir.join("out"));
        // A secret directory shaped like the render, so a followed link would find files.
        let _ = std::fs::remove_dir_all(&secret_dir);
        for (rel, kind, _) in &entries {
            let p = secret_dir.join(rel);
            if kind == "dir" {
                std::fs::create_dir_all(&p).unwrap();
            } else {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, secret_text).unwrap();
            }
        }
        for (rel, kind, _) in &entries {
            let target = dir.join("out").join(rel);
            let saved = dir.join("saved");
            std::fs::rename(&target, &saved).unwrap();
            let link_to = if kind == "dir" {
                secret_dir.join(rel)
            } else {
                secret.clone()
            };
            symlink(&link_to, &target).unwrap();

            for cmd in ["check", "diff"] {
                let out = run_in(dir, &[cmd, name]);
                let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
                assert_eq!(
                    out.status.code(),
                    Some(if cmd == "check" { 1 } else { 0 }),
                    "{rel}: {all}"
                );
                assert!(
                    !all.contains(secret_text),
                    "{cmd} printed the secret through {rel}:\n{all}"
                );
                assert!(
                    all.contains(rel.as_str()),
                    "{cmd} did not name {rel}:\n{all}"
                );
            }
            let before = snapshot(dir);
            let out = run_in(dir, &["render", name]);
            assert_eq!(
                out.status.code(),
                Some(2),
                "render over a link at {rel}: {}",
                text(&out.stderr)
            );
            let why = text(&out.stderr);
            assert!(
                why.contains("did not write") || why.contains("not written by baogen"),
                "{why}"
            );
            assert_eq!(
                before,
                snapshot(dir),
                "render changed something after refusing"
            );

            std::fs::remove_file(&target).unwrap();
            std::fs::rename(&saved, &target).unwrap();
            cases += 1;
        }
        // --force replaces a link instead of writing through it.
        let victim = dir.join("out/VERIFY.md");
        std::fs::remove_file(&victim).unwrap();
        symlink(&secret, &victim).unwrap();
        let out = run_in(dir, &["render", name, "--force"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), secret_text);
        assert!(!std::fs::symlink_metadata(&victim)
            .unwrap()
            .file_type()
            .is_symlink());
        // The output directory itself as a link: compared as drift, never replaced.
        std::fs::rename(dir.join("out"), dir.join("real-out")).unwrap();
        symlink(&secret_dir, dir.join("out")).unwrap();
        let out = run_in(dir, &["check", name]);
        assert_eq!(out.status.code(), Some(1));
        assert!(!text(&out.stdout).contains(secret_text));
        let out = run_in(dir, &["render", name]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(secret_dir.join("VERIFY.md").exists());
        std::fs::remove_file(dir.join("out")).unwrap();
        std::fs::remove_dir_all(dir.join("real-out")).unwrap();
    }
    assert!(cases > 40, "only {cases} link positions were tried");
}

#[test]
fn special_files_in_a_committed_output_are_drift_and_never_block() {
    let tmp = TempDir::new("special-out");
    let dir = tmp.path();
    profile_copy(dir, SHIPPED[3], "engine.toml", "out");
    assert!(run_in(dir, &["render", "engine.toml"]).status.success());
    let files: Vec<String> = snapshot(&dir.join("out"))
        .into_iter()
        .filter(|(_, k, _)| k == "file")
        .map(|(p, _, _)| p)
        .collect();
    let mut cases = 0;
    for rel in files.iter().step_by(3) {
        let path = dir.join("out").join(rel);
        let saved = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        with_special_files(&path, |kind| {
            let out = run_in(dir, &["check", "engine.toml"]);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{kind} at {rel}: {}",
                text(&out.stderr)
            );
            assert!(
                text(&out.stdout).contains(rel.as_str()),
                "{kind} at {rel} not named"
            );
            let out = run_in(dir, &["render", "engine.toml"]);
            // An empty directory holds no file of the user's (unless it stands for the marker);
            // anything else is refused.
            assert_eq!(
                out.status.code(),
                Some(if kind == "directory" && rel != ".baogen" {
                    0
                } else {
                    2
                }),
                "{kind} at {rel}: {}",
                text(&out.stderr)
            );
            cases += 1;
        });
        std::fs::write(&path, saved).unwrap();
    }
    assert!(cases >= 24, "{cases}");
}

/// Layouts where an output is, or contains, the directory of a file the render reads, spelt
/// in every way a user might: each is refused with exit 2 before anything changes.
#[test]
fn outputs_that_hold_an_input_are_refused_before_anything_is_written() {
    let tmp = TempDir::new("overlap");
    let root = tmp.path();
    std::fs::create_dir_all(root.join("repo/envs/prod")).unwrap();
    symlink(root.join("repo/envs"), root.join("repo/envs-link")).unwrap();
    let profile_dir = root.join("repo/envs/prod");
    let declared = [
        ".",
        "./",
        "sub/..",
        "../prod",
        "..",
        "../..",
        "../../envs-link/prod",
        "../../envs-link",
        "./././.",
    ];
    let mut cases = 0;
    for shipped in SHIPPED {
        for out in declared {
            profile_copy(&profile_dir, shipped, "p.toml", out);
            let before = snapshot(root);
            let r = run_in(&profile_dir, &["render", "p.toml"]);
            assert_eq!(
                r.status.code(),
                Some(2),
                "{shipped} output={out:?}: {}",
                text(&r.stderr)
            );
            let stderr = text(&r.stderr);
            assert!(
                stderr.contains("p.toml:") && stderr.contains("which this command reads"),
                "output={out:?}: {stderr}"
            );
            assert_eq!(before, snapshot(root), "output={out:?} changed files");
            cases += 1;
        }
        // The same through --out, spelt from elsewhere.
        for out in [
            ".",
            "envs/prod",
            "envs-link/prod",
            "envs",
            "envs/prod/../prod",
        ] {
            let before = snapshot(root);
            let r = run_in(
                &root.join("repo"),
                &["render", "envs/prod/p.toml", "--out", out],
            );
            assert_eq!(r.status.code(), Some(2), "--out {out}: {}", text(&r.stderr));
            assert_eq!(before, snapshot(root));
            cases += 1;
        }
    }
    // An output that holds the CA file but not the profile.
    std::fs::create_dir_all(root.join("repo/certs")).unwrap();
    let p = profile_copy(&profile_dir, SHIPPED[3], "ca.toml", "../../certs");
    let text_ = std::fs::read_to_string(&p).unwrap().replace(
        "kubernetes_ca_cert_file = \"kubernetes-ca.crt\"",
        "kubernetes_ca_cert_file = \"../../certs/ca.crt\"",
    );
    std::fs::write(&p, text_).unwrap();
    std::fs::copy(
        profile_dir.join("kubernetes-ca.crt"),
        root.join("repo/certs/ca.crt"),
    )
    .unwrap();
    let r = run_in(&profile_dir, &["render", "ca.toml"]);
    assert_eq!(r.status.code(), Some(2), "{}", text(&r.stderr));
    assert!(text(&r.stderr).contains("ca.crt"), "{}", text(&r.stderr));
    assert!(root.join("repo/certs/ca.crt").exists());
    assert_eq!(cases, SHIPPED.len() * (declared.len() + 5));
}

/// Several profiles that resolve to one output directory, or to one inside another.
#[test]
fn profiles_that_share_an_output_are_refused_naming_both() {
    let tmp = TempDir::new("shared-out");
    let root = tmp.path();
    for d in ["a", "b", "c/d"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    // The same file stem under --out.
    for (x, y) in [("a", "b"), ("a", "c/d"), ("b", "c/d")] {
        for shipped in SHIPPED {
            profile_copy(&root.join(x), shipped, "prod.toml", "../o1");
            profile_copy(&root.join(y), shipped, "prod.toml", "../o2");
            let (px, py) = (format!("{x}/prod.toml"), format!("{y}/prod.toml"));
            let r = run_in(root, &["render", &px, &py, "--out", "out"]);
            assert_eq!(r.status.code(), Some(2), "{}", text(&r.stderr));
            let stderr = text(&r.stderr);
            assert!(stderr.contains(&px) && stderr.contains(&py), "{stderr}");
            assert!(!root.join("out").exists());
        }
    }
    // Declared outputs: equal in other spellings, or nested.
    let pairs = [
        ("../shared", "../shared"),
        ("../shared", "../a/../shared"),
        ("../shared", "../shared/inner"),
        ("../shared/inner", "../shared"),
        ("../shared", "./../shared/."),
    ];
    for (o1, o2) in pairs {
        profile_copy(&root.join("a"), SHIPPED[0], "one.toml", o1);
        profile_copy(&root.join("b"), SHIPPED[2], "two.toml", o2);
        let before = snapshot(root);
        let r = run_in(root, &["render", "a/one.toml", "b/two.toml"]);
        assert_eq!(r.status.code(), Some(2), "{o1} {o2}: {}", text(&r.stderr));
        let stderr = text(&r.stderr);
        assert!(
            stderr.contains("b/two.toml:") && stderr.contains("a/one.toml"),
            "{stderr}"
        );
        assert_eq!(before, snapshot(root));
    }
}

/// With several profiles, one refused output leaves every other output as it was.
#[test]
fn several_profiles_are_written_all_or_nothing() {
    let tmp = TempDir::new("all-or-nothing");
    let root = tmp.path();
    for refused in 0..SHIPPED.len() {
        let _ = std::fs::remove_dir_all(root.join("out"));
        let mut names = Vec::new();
        for (i, shipped) in SHIPPED.iter().enumerate() {
            let name = format!("p{i}.toml");
            profile_copy(root, shipped, &name, "unused");
            names.push(name);
        }
        let args: Vec<&str> = ["render"]
            .into_iter()
            .chain(names.iter().map(String::as_str))
            .chain(["--out", "out"])
            .collect();
        assert!(run_in(root, &args).status.success());
        // Something else in the first render's place: profile 0 now renders demo.
        profile_copy(root, SHIPPED[2], "p0.toml", "unused");
        let foreign = root.join(format!("out/p{refused}/notes.txt"));
        std::fs::write(&foreign, "mine").unwrap();
        let before = snapshot(&root.join("out"));
        let r = run_in(root, &args);
        assert_eq!(r.status.code(), Some(2), "{}", text(&r.stderr));
        assert!(text(&r.stderr).contains("notes.txt"));
        assert_eq!(
            before,
            snapshot(&root.join("out")),
            "refusing p{refused} changed another output"
        );
    }
}

/// Generated foreign files (names, depths, kinds) in an output: `render` refuses and lists
/// each, `check` reports each as extra, `render --force` replaces the directory.
#[test]
fn render_never_deletes_a_file_it_did_not_write() {
    let tmp = TempDir::new("foreign");
    let root = tmp.path();
    profile_copy(root, SHIPPED[0], "p.toml", "out");
    let names = [
        "notes.txt",
        ".hidden",
        "openbao/extra.hcl",
        "kubernetes/patches/mine.yaml",
        "deep/a/b/c/d.txt",
        "with space.md",
        "ünïcode.yaml",
        "prometheus/rules.yml.orig",
        "VERIFY.md~",
        ".baogen.bak",
    ];
    let mut rng = common::Lcg(0x9e3779b97f4a7c15);
    for round in 0..12 {
        assert!(run_in(root, &["render", "p.toml", "--force"])
            .status
            .success());
        let mut chosen = Vec::new();
        for n in names {
            if rng.below(3) == 0 || chosen.is_empty() && n == names[round % names.len()] {
                chosen.push(n);
            }
        }
        for n in &chosen {
            let p = root.join("out").join(n);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            if n.ends_with(".md") {
                symlink("/etc/hostname", &p).unwrap();
            } else {
                std::fs::write(&p, format!("user file {n}")).unwrap();
            }
        }
        let before = snapshot(root);
        let r = run_in(root, &["render", "p.toml"]);
        assert_eq!(r.status.code(), Some(2), "{chosen:?}: {}", text(&r.stderr));
        let stderr = text(&r.stderr);
        for n in &chosen {
            assert!(stderr.contains(n), "{n} not listed: {stderr}");
        }
        // At the profile's `output` key, where the directory came from.
        assert!(stderr.contains("p.toml:5:10"), "{stderr}");
        assert_eq!(before, snapshot(root), "a refused render changed something");
        let c = run_in(root, &["check", "p.toml"]);
        assert_eq!(c.status.code(), Some(1));
        for n in &chosen {
            assert!(text(&c.stdout).contains(n), "check did not report {n}");
        }
        let f = run_in(root, &["render", "p.toml", "--force"]);
        assert!(f.status.success(), "{}", text(&f.stderr));
        assert!(run_in(root, &["check", "p.toml"]).status.success());
    }
    // A file baogen wrote and no longer renders is baogen's to remove: no --force needed.
    let engine = profile_copy(root, SHIPPED[3], "p.toml", "out");
    // Switching the profile kind: the files of the last render are listed in the marker.
    let r = run_in(root, &["render", "p.toml"]);
    assert!(r.status.success(), "{}", text(&r.stderr));
    let text_ = std::fs::read_to_string(&engine).unwrap();
    let cut = text_.rfind("[[kubernetes_secrets.roles]]").unwrap();
    std::fs::write(&engine, &text_[..cut]).unwrap();
    let r = run_in(root, &["render", "p.toml"]);
    assert!(r.status.success(), "{}", text(&r.stderr));
}

/// TOML nested past the parser's limit, in every construct: the error has file:line:column.
#[test]
fn nesting_past_the_parser_limit_is_refused_with_a_place() {
    let tmp = TempDir::new("nesting");
    let root = tmp.path();
    let mut cases = 0;
    for depth in [130, 257, 1000, 5000] {
        let key = vec!["a"; depth].join(".");
        let forms = [
            format!("{key} = 1\n"),
            format!("[{key}]\n"),
            format!("[[{key}]]\n"),
            format!("x = {}{}\n", "[".repeat(depth), "]".repeat(depth)),
            format!("x = {}1{}\n", "{a=".repeat(depth), "}".repeat(depth)),
            format!("[t]\n{key} = 1\n"),
        ];
        for (i, form) in forms.iter().enumerate() {
            let body = format!("profile = \"demo\"\n# filler\n{form}");
            std::fs::write(root.join("deep.toml"), &body).unwrap();
            let r = run_in(root, &["render", "deep.toml", "--out", "o"]);
            let stderr = text(&r.stderr);
            if r.status.code() == Some(2) && stderr.contains("TOML syntax error") {
                let line = body.lines().count();
                assert!(
                    stderr.contains(&format!("deep.toml:{line}:")),
                    "depth {depth} form {i}: no place in {stderr}"
                );
                cases += 1;
            } else {
                // Within the parser's limit: refused for the unknown key, with a place.
                assert_eq!(r.status.code(), Some(2), "{stderr}");
                assert!(stderr.contains("deep.toml:"), "{stderr}");
            }
        }
    }
    assert!(cases >= 12, "only {cases} inputs reached the nesting limit");
}

/// `--out out` names a directory in the working directory (its parent is ""): what a killed
/// render left next to it is cleaned up, and a render leaves nothing else there.
#[test]
fn a_relative_output_is_rendered_and_cleaned_up_in_the_working_directory() {
    let tmp = TempDir::new("relative-out");
    let dir = tmp.path();
    profile_copy(dir, SHIPPED[0], "p.toml", "unused");
    let stale = dir.join(".out.baogen-tmp-4000001");
    std::fs::create_dir_all(&stale).unwrap();
    for _ in 0..2 {
        let r = run_in(dir, &["render", "p.toml", "--out", "out"]);
        assert!(r.status.success(), "{}", text(&r.stderr));
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["kubernetes-ca.crt", "out", "p.toml"]);
    }
}
