//! The seal and self-initialization: a first start that configures the server, which must
//! never leave it broken or locked. OpenBao exits without an auto-unseal seal, and a
//! self-initialization without a way in revokes the root token and creates no recovery
//! keys, so both are refused here rather than discovered on a first boot.

use super::super::ctx::Ctx;
use super::super::raw::{self, Sp};
use super::super::rules;
use crate::diag::Code;
use crate::model::{self, Version};

/// First release with `initialize` stanzas.
const SELF_INIT_SINCE: Version = Version(2, 4, 0);

pub(super) fn seal(cx: &mut Ctx<'_>, raw: &raw::Seal) -> model::Seal {
    let key_id = match &raw.key_id {
        Some(id) => {
            openbao_name(cx, id, "seal.key_id");
            id.get().clone()
        }
        None => "baogen-1".into(),
    };
    model::Seal {
        key_id,
        key_file: container_path(cx, &raw.key_file, "seal.key_file"),
    }
}

pub(super) fn self_init(
    cx: &mut Ctx<'_>,
    raw: &raw::Profile,
    si: &Sp<raw::SelfInit>,
    version: Version,
    seal: Option<&model::Seal>,
) -> model::SelfInit {
    let at = Some(si.span());
    if version < SELF_INIT_SINCE {
        cx.error(
            Code::SelfInitTooOld,
            at.clone(),
            format!("self-initialization needs OpenBao {SELF_INIT_SINCE} or newer; openbao_version is {version}"),
            "raise openbao_version, or remove [self_init] and run `bao operator init` once",
        );
    }
    if seal.is_none() {
        cx.error(
            Code::SelfInitWithoutSeal,
            at.clone(),
            "[self_init] needs an auto-unseal seal: without one OpenBao exits with \"self-initialization requires auto-unseal\"",
            "add [seal] with type = \"static\" and key_file = \"/openbao/seal/unseal.key\" (a file of 32 random bytes the container mounts)",
        );
    }
    let admin = match &si.admin {
        Some(a) => admin(cx, a),
        None => {
            cx.error(
                Code::NoWayIn,
                at,
                "[self_init] has no [self_init.admin]: self-initialization revokes the root token and creates no recovery keys, so nobody could log in",
                "add [self_init.admin] with method = \"userpass\" and password_file (or password_env); write method = \"none\" only if nobody is meant to get in",
            );
            model::Admin::None
        }
    };
    // OpenBao reads self-init from HCL 1, which has no `$${` escape: a value holding a template
    // sequence would reach the server changed (or not parse), so it cannot be sent this way.
    let annotations = raw
        .kubernetes_secrets
        .iter()
        .flat_map(|k| &k.roles)
        .flat_map(|r| r.extra_annotations.iter().flatten())
        .map(|(_, v)| v);
    for v in annotations {
        if v.get().contains("${") || v.get().contains("%{") {
            cx.error(
                Code::SelfInitTemplate,
                Some(v.span()),
                "this value holds '${' or '%{', which the server's HCL would not carry through self-initialization unchanged",
                "drop the sequence from the value, or write the role with `baogen apply` instead of [self_init]",
            );
        }
    }
    if let (Some(demo), Some(seal)) = (&raw.demo, seal) {
        demo_files(cx, demo, si.get(), seal);
    }
    model::SelfInit { admin }
}

/// An optional key of `[self_init.admin]` and its name.
type Keyed<'a> = (&'a Option<Sp<String>>, &'static str);

fn admin(cx: &mut Ctx<'_>, a: &raw::Admin) -> model::Admin {
    let method = *a.method.get();
    let policy = match &a.policy {
        Some(p) => {
            openbao_name(cx, p, "self_init.admin.policy");
            p.get().clone()
        }
        None => "baogen-admin".into(),
    };
    // The keys that give this method its secret, and the keys of the other methods.
    let pw: [Keyed<'_>; 2] = [
        (&a.password_env, "password_env"),
        (&a.password_file, "password_file"),
    ];
    let tok: [Keyed<'_>; 2] = [
        (&a.token_id_env, "token_id_env"),
        (&a.token_id_file, "token_id_file"),
    ];
    let user: [Keyed<'_>; 1] = [(&a.username, "username")];
    let (own, other): (Vec<Keyed<'_>>, Vec<Keyed<'_>>) = match method {
        raw::AdminMethod::Userpass => (pw.to_vec(), tok.to_vec()),
        raw::AdminMethod::Token => (tok.to_vec(), [&pw[..], &user].concat()),
        raw::AdminMethod::None => (Vec::new(), [&pw[..], &tok, &user].concat()),
    };
    let name = match method {
        raw::AdminMethod::Userpass => "userpass",
        raw::AdminMethod::Token => "token",
        raw::AdminMethod::None => "none",
    };
    for (value, key) in &other {
        if let Some(v) = value {
            cx.error(
                Code::AdminSource,
                Some(v.span()),
                format!("self_init.admin.{key} has no effect with method = \"{name}\""),
                "remove it, or change method",
            );
        }
    }
    let given: Vec<_> = own.iter().filter(|(v, _)| v.is_some()).collect();
    let source = match given.as_slice() {
        [(Some(v), key)] => Some(if key.ends_with("_env") {
            cx.check(
                Code::EnvName,
                v,
                &format!("self_init.admin.{key}"),
                env_name,
                "name the variable the server's environment holds, e.g. BAO_ADMIN_PASSWORD",
            );
            model::Source::Env(v.get().clone())
        } else {
            model::Source::File(container_path(cx, v, &format!("self_init.admin.{key}")))
        }),
        [] if method != raw::AdminMethod::None => {
            let keys: Vec<&str> = own.iter().map(|(_, k)| *k).collect();
            cx.error(
                Code::AdminSource,
                Some(a.method.span()),
                format!("self_init.admin with method = \"{name}\" needs {} or {}: where the server reads the secret on its first start", keys[0], keys[1]),
                "name an environment variable or a file; the secret itself never goes into the profile",
            );
            None
        }
        [_, (Some(second), key), ..] => {
            cx.error(
                Code::AdminSource,
                Some(second.span()),
                format!("self_init.admin.{key} is a second source for the same secret"),
                "keep one: the environment variable or the file",
            );
            None
        }
        _ => None,
    };
    let placeholder = || model::Source::Env(String::new());
    match method {
        raw::AdminMethod::Userpass => {
            let username = match &a.username {
                Some(u) => {
                    openbao_name(cx, u, "self_init.admin.username");
                    u.get().clone()
                }
                None => "admin".into(),
            };
            model::Admin::Userpass {
                username,
                password: source.unwrap_or_else(placeholder),
                policy,
            }
        }
        raw::AdminMethod::Token => model::Admin::Token {
            id: source.unwrap_or_else(placeholder),
            policy,
        },
        raw::AdminMethod::None => model::Admin::None,
    }
}

/// The demo stack generates the seal key and the admin's password file in one volume mounted
/// at the key's directory, so both must live there.
fn demo_files(cx: &mut Ctx<'_>, _demo: &raw::Demo, si: &raw::SelfInit, seal: &model::Seal) {
    let dir = std::path::Path::new(&seal.key_file).parent();
    let files = si
        .admin
        .iter()
        .flat_map(|a| [&a.password_file, &a.token_id_file])
        .flatten();
    for f in files {
        let path = std::path::Path::new(f.get());
        if path.parent() != dir
            || path.file_name() == std::path::Path::new(&seal.key_file).file_name()
        {
            cx.error(
                Code::DemoInitFile,
                Some(f.span()),
                format!(
                    "the demo stack generates '{}' in the volume it mounts at the seal key's directory {}, so the file must be there, under another name",
                    f.get(),
                    dir.map_or("/".into(), |d| d.display().to_string())
                ),
                "put the file next to seal.key_file, e.g. /openbao/init/admin-password",
            );
        }
    }
}

/// A path the server reads inside its container: absolute, and safe in HCL.
pub(super) fn container_path(cx: &mut Ctx<'_>, v: &Sp<String>, what: &str) -> String {
    if cx
        .check(
            Code::FilePath,
            v,
            what,
            rules::file_path,
            "give the path of the file inside the OpenBao container",
        )
        .is_some()
        && !v.get().starts_with('/')
    {
        cx.error(
            Code::ContainerPath,
            Some(v.span()),
            format!("{what} '{}' is not an absolute path: the server reads it inside its container, where nothing is relative to the profile", v.get().escape_debug()),
            "write the absolute path the container mounts it at, e.g. /openbao/seal/unseal.key",
        );
    }
    v.get().clone()
}

/// Policy, token role and user names, and key ids: what OpenBao takes as one path segment.
pub(super) fn openbao_name(cx: &mut Ctx<'_>, v: &Sp<String>, what: &str) {
    cx.check(
        Code::OpenBaoName,
        v,
        what,
        |s| {
            let ok = !s.is_empty()
                && s.len() <= 128
                && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if ok {
                Ok(())
            } else {
                Err(
                    "is not 1-128 letters, digits, '-', '_' or '.' starting with a letter or digit"
                        .into(),
                )
            }
        },
        "e.g. baogen-admin",
    );
}

fn env_name(s: &str) -> Result<(), String> {
    if rules::identifier(s) {
        Ok(())
    } else {
        Err("is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)".into())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use crate::diag::Code;

    /// A valid active profile with a seal: the unit tests of validation add to it.
    pub(in crate::profile::validate) const BASE: &str = r#"
profile = "active"
[listener.api]
address = "0.0.0.0:8200"
tls_cert_file = "/openbao/tls/tls.crt"
tls_key_file = "/openbao/tls/tls.key"
[scrape]
token_secret = { name = "t", key = "token" }
ca_config_map = { name = "c", key = "ca.crt" }
[seal]
type = "static"
key_file = "/openbao/seal/unseal.key"
"#;

    fn codes(extra: &str) -> Vec<Code> {
        codes_at("", extra)
    }

    /// `top` goes before the first table, `extra` after the base's.
    fn codes_at(top: &str, extra: &str) -> Vec<Code> {
        let text = format!("{top}{BASE}{extra}");
        match crate::profile::parse(std::path::Path::new("p.toml"), text.as_bytes()) {
            Ok(_) => Vec::new(),
            Err(d) => d.iter().map(|d| d.code).collect(),
        }
    }

    #[test]
    fn self_init_starts_at_2_4_0() {
        let admin = "[self_init.admin]\nmethod = \"none\"\n";
        assert_eq!(codes_at("openbao_version = \"2.4.0\"\n", admin), []);
        assert_eq!(
            codes_at("openbao_version = \"2.3.9\"\n", admin),
            [Code::SelfInitTooOld]
        );
    }

    #[test]
    fn the_admin_sources() {
        let admin = |keys: &str| codes(&format!("[self_init.admin]\n{keys}\n"));
        assert_eq!(admin("method = \"none\""), []);
        assert_eq!(admin("method = \"userpass\"\npassword_env = \"PW\""), []);
        assert_eq!(admin("method = \"token\"\ntoken_id_file = \"/run/id\""), []);
        assert_eq!(admin("method = \"userpass\""), [Code::AdminSource]);
        assert_eq!(
            admin("method = \"userpass\"\npassword_env = \"PW\"\npassword_file = \"/run/pw\""),
            [Code::AdminSource]
        );
        assert_eq!(
            admin("method = \"userpass\"\npassword_env = \"PW\"\ntoken_id_env = \"ID\""),
            [Code::AdminSource]
        );
        assert_eq!(
            admin("method = \"token\"\ntoken_id_env = \"ID\"\nusername = \"a\""),
            [Code::AdminSource]
        );
        assert_eq!(
            admin("method = \"token\"\ntoken_id_file = \"run/id\""),
            [Code::ContainerPath]
        );
        assert_eq!(
            admin("method = \"token\"\ntoken_id_env = \"1D\""),
            [Code::EnvName]
        );
    }

    #[test]
    fn env_names() {
        assert!(super::env_name("BAO_ADMIN_PASSWORD").is_ok());
        assert!(super::env_name("_x1").is_ok());
        for bad in ["", "1A", "A-B", "A B", "A$B"] {
            assert!(super::env_name(bad).is_err(), "{bad}");
        }
    }
}
