//! `apply.sh`: the engine's artifacts written with the `bao` CLI, every word shell-quoted.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::{config_path, policy_name, role_path};
use crate::emit::artifacts::header;
use crate::model::{Engine, Profile};

/// Quote a shell word: bare when it is plainly safe, else single-quoted.
fn sh(s: &str) -> Cow<'_, str> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=@:,+".contains(&b))
    {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(format!("'{}'", s.replace('\'', r"'\''")))
    }
}

pub(super) fn apply_script(p: &Profile, e: &Engine) -> String {
    let mut s = String::from("#!/bin/sh\n");
    s.push_str(&header(p, "#"));
    s.push_str(&format!(
        r#"# Writes the Kubernetes secrets engine at {mount}/ with the `bao` CLI: enables it if needed, then
# the consumer policies, the config and the roles, in that order. Run it with BAO_ADDR and
# BAO_TOKEN set (a token allowed to manage sys/mounts, sys/policies/acl and {mount}/):
#   sh apply.sh
# The engine's service account JWT is a credential and never part of a profile or this output.
# When OpenBao runs outside the cluster (or disable_local_ca_jwt = true), put it in a file and
# set BAOGEN_K8S_JWT_FILE to that file's path.
# Roles removed from the profile are not deleted: run `bao delete {mount}/roles/NAME`.
set -eu
cd "$(dirname "$0")"

"#,
        mount = e.mount
    ));
    let m = &e.mount;
    s.push_str(&format!(
        "if ! bao read {} >/dev/null 2>&1; then\n  bao secrets enable -path={} kubernetes\nfi\n",
        sh(&format!("sys/mounts/{m}")),
        sh(m)
    ));
    // The profile's TTL checks assume this maximum; apply.sh makes it true.
    if let Some(max) = e.mount_max_lease_ttl {
        s.push_str(&format!(
            "bao secrets tune -max-lease-ttl={max}s {}\n",
            sh(m)
        ));
    }
    s.push('\n');
    // One pass over the roles writes both of their sections.
    let (mut policies, mut roles) = (String::new(), String::new());
    for r in &e.roles {
        let name = policy_name(m, &r.name);
        let file = format!("openbao/policies/{name}.hcl");
        let _ = writeln!(policies, "bao policy write {} {}", sh(&name), sh(&file));
        let path = format!("{m}/roles/{}", r.name);
        let _ = writeln!(
            roles,
            "bao write {} @{}",
            sh(&path),
            sh(&role_path(&r.name))
        );
    }
    s.push_str(&policies);
    let config = format!("{} @{}", sh(&format!("{m}/config")), sh(config_path()));
    if e.config.disable_local_ca_jwt {
        s.push_str(
            "\n: \"${BAOGEN_K8S_JWT_FILE:?disable_local_ca_jwt is true: set BAOGEN_K8S_JWT_FILE to a file holding the service account JWT}\"\n",
        );
    } else {
        s.push('\n');
    }
    s.push_str(&format!(
        "if [ -n \"${{BAOGEN_K8S_JWT_FILE:-}}\" ]; then\n  bao write {config} service_account_jwt=@\"$BAOGEN_K8S_JWT_FILE\"\nelse\n  bao write {config}\nfi\n\n"
    ));
    s.push_str(&roles);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted() {
        assert_eq!(
            sh("kubernetes/roles/ci-deployer"),
            "kubernetes/roles/ci-deployer"
        );
        assert_eq!(sh("a b'c"), r"'a b'\''c'");
        assert_eq!(sh("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(sh(""), "''");
    }
}
