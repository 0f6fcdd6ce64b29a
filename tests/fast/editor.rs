//! Editors check profiles through the `#:schema` line with taplo (Even Better TOML uses the
//! same engine). The real taplo must accept every shipped profile and flag a misspelt key.

use crate::common;

#[test]
fn taplo_validates_profiles_against_the_committed_schema() {
    let Some(taplo) = common::tool("taplo") else {
        return;
    };
    let profiles = [
        "profiles/active.toml",
        "profiles/all-node.toml",
        "profiles/demo.toml",
        "profiles/reference.toml",
    ];
    for p in profiles {
        let text = std::fs::read_to_string(common::root().join(p)).unwrap();
        assert!(
            text.starts_with("#:schema ../schemas/profile.schema.json\n"),
            "{p} lacks the #:schema line"
        );
    }
    let out = std::process::Command::new(&taplo)
        .arg("check")
        .args(profiles)
        .current_dir(common::root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let tmp = common::TempDir::new("taplo");
    let bad = tmp.path().join("bad.toml");
    let schema = common::root().join("schemas/profile.schema.json");
    let body =
        std::fs::read_to_string(common::root().join("tests/bad/unknown-key-misspelt-address.toml"))
            .unwrap();
    std::fs::write(&bad, format!("#:schema {}\n{body}", schema.display())).unwrap();
    let out = std::process::Command::new(&taplo)
        .arg("check")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("adress"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
