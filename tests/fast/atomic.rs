//! Atomicity and determinism of `baogen render`, measured on the real binary.

use crate::common;

use std::process::Command;
use std::time::Duration;

use crate::common::TempDir;

#[test]
fn sigkill_at_random_points_leaves_the_old_or_the_new_render() {
    let tmp = TempDir::new("kill");
    let out = tmp.path().join("out");
    let golden = |name: &str| common::read_tree(&common::root().join("golden").join(name));
    let (active, demo) = (golden("active"), golden("demo"));
    let render = |profile: &str| {
        common::baogen()
            .current_dir(common::root())
            .args(["render", profile, "--out"])
            .arg(&out)
            .output()
            .unwrap()
    };
    assert!(render("profiles/active.toml").status.success());

    let mut rng = common::Lcg(0x5eed);
    let (mut killed_mid_run, runs) = (0, 150);
    for i in 0..runs {
        let profile = if i % 2 == 0 {
            "profiles/demo.toml"
        } else {
            "profiles/active.toml"
        };
        let mut child = common::baogen()
            .current_dir(common::root())
            .args(["render", profile, "--out"])
            .arg(&out)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rng.below(3000)));
        // SIGKILL from a second process, as an OOM killer or CI timeout would.
        let _ = Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status();
        let status = child.wait().unwrap();
        if status.code().is_none() {
            killed_mid_run += 1;
        }
        let tree = common::read_tree(&out);
        assert!(
            tree == active || tree == demo,
            "run {i}: the output is neither complete render: {:?}",
            tree.iter().map(|(p, _)| p).collect::<Vec<_>>()
        );
    }
    assert!(killed_mid_run > 10, "only {killed_mid_run} of {runs} renders were killed before they finished; the test proves nothing");

    // The next run cleans up whatever the killed ones left next to the output.
    assert!(render("profiles/demo.toml").status.success());
    assert_eq!(common::read_tree(&out), demo);
    let siblings: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(siblings, vec![std::ffi::OsString::from("out")]);
}

#[test]
fn one_hundred_renders_under_different_environments_are_byte_identical() {
    let tmp = TempDir::new("determinism");
    let locales = ["C", "C.UTF-8", "de_DE.UTF-8", "tr_TR.UTF-8", "ja_JP.eucJP"];
    let zones = [
        "UTC",
        "Asia/Kathmandu",
        "America/St_Johns",
        "Pacific/Chatham",
    ];
    let root = common::root();
    for name in ["active", "all-node", "demo"] {
        let profile = root.join(format!("profiles/{name}.toml"));
        let mut first = None;
        for i in 0..100 {
            let out = tmp.path().join(format!("{name}-{i}"));
            // Alternate the working directory and how the profile path is spelt.
            let (cwd, arg) = if i % 2 == 0 {
                (root.clone(), format!("profiles/{name}.toml"))
            } else {
                (tmp.path().to_path_buf(), profile.display().to_string())
            };
            let status = common::baogen()
                .current_dir(cwd)
                .env("LC_ALL", locales[i % locales.len()])
                .env("LANG", locales[(i + 1) % locales.len()])
                .env("TZ", zones[i % zones.len()])
                .args(["render", &arg, "--out"])
                .arg(&out)
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
            let tree = common::read_tree(&out);
            std::fs::remove_dir_all(&out).unwrap();
            match &first {
                None => first = Some(tree),
                Some(f) => assert!(f == &tree, "{name}: render {i} differs from the first"),
            }
        }
    }
}
