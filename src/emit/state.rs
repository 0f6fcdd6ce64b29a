//! The OpenBao state a profile declares, by API path: what `baogen apply` writes to a live
//! server and what self-initialization writes on a first boot. It is read back from the
//! rendered artifacts, so both write exactly what is committed.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Artifacts;
use crate::model::Profile;

pub struct Desired {
    /// The engine's mount and its `max_lease_ttl`, when set.
    pub mount: Option<(String, Option<u64>)>,
    /// Policy name → text: the metrics policy and every consumer policy.
    pub policies: BTreeMap<String, String>,
    /// `auth/token/roles/NAME` and its body: the role scrape tokens are minted from.
    pub token_role: Option<(String, Value)>,
    /// `MOUNT/config` and its body (no credentials).
    pub config: Option<(String, Value)>,
    /// Role name → body of `MOUNT/roles/NAME`.
    pub roles: BTreeMap<String, Value>,
}

impl Desired {
    pub fn of(p: &Profile, art: &Artifacts) -> Desired {
        let json = |file: &str| -> Value {
            serde_json::from_str(&art.files[file]).expect("baogen's own JSON")
        };
        let mut policies = BTreeMap::new();
        let metrics = format!("openbao/policies/{}.hcl", p.scrape.policy_name);
        if let Some(text) = art.files.get(&metrics) {
            policies.insert(p.scrape.policy_name.clone(), text.clone());
        }
        let token_role = p.scrape.token_role.as_ref().map(|r| {
            let path = super::token::role_api_path(r);
            (path, json(&super::token::role_file(r)))
        });
        let (mut mount, mut config, mut roles) = (None, None, BTreeMap::new());
        if let Some(e) = &p.engine {
            mount = Some((e.mount.clone(), e.mount_max_lease_ttl));
            config = Some((
                format!("{}/config", e.mount),
                json(super::engine::config_path()),
            ));
            for r in &e.roles {
                let policy = super::engine::policy_name(&e.mount, &r.name);
                let file = format!("openbao/policies/{policy}.hcl");
                policies.insert(policy, art.files[&file].clone());
                roles.insert(r.name.clone(), json(&super::engine::role_path(&r.name)));
            }
        }
        Desired {
            mount,
            policies,
            token_role,
            config,
            roles,
        }
    }
}
