//! Emitters: `model::Profile` → files. Each submodule owns one artifact family; none of them
//! does I/O or can fail, because the model they read is already valid.

mod alerts;
mod artifacts;
mod compose;
pub mod coverage;
mod dashboards;
pub mod engine;
pub mod hcl;
pub mod kube;
mod monitoring;
mod prometheus;
pub mod recording;
mod selfinit;
pub mod state;
pub mod token;
mod verify;

pub use verify::caveat;

use crate::model::{Kind, Profile};

pub use artifacts::{header, Artifacts};

/// Render every artifact of the profile.
pub fn render(p: &Profile) -> Artifacts {
    let mut out = Artifacts::default();
    let hash = header(p, "#");

    // One text for the file and the ConfigMap the pods load.
    let server = hcl::server(p);
    out.add("openbao/server.hcl", format!("{hash}{server}"));
    if p.scrape.uses_token() {
        out.add(
            format!("openbao/policies/{}.hcl", p.scrape.policy_name),
            format!("{hash}{}", hcl::metrics_policy()),
        );
    }

    if p.kind != Kind::Demo {
        kube::emit(p, &mut out);
    }
    if let Some(role) = &p.scrape.token_role {
        token::emit(p, role, &mut out);
    }
    if let Some(engine) = &p.engine {
        engine::emit(p, engine, &mut out);
    }
    // After every API body exists: self-init writes what `apply` would.
    let self_init = p
        .self_init
        .as_ref()
        .map(|si| selfinit::stanzas(p, si, &state::Desired::of(p, &out)));
    if let Some(text) = &self_init {
        if let Some(name) = p.self_init.as_ref().and_then(|si| si.admin.policy()) {
            out.add(
                format!("openbao/policies/{name}.hcl"),
                format!("{hash}{}", selfinit::admin_policy()),
            );
        }
        if p.kind != Kind::Demo {
            out.add("openbao/self-init.hcl", format!("{hash}{text}"));
        }
    }
    if p.kind != Kind::Demo {
        let config = kube::server_config_map(p, &server, self_init.as_deref());
        kube::add_text(
            p,
            &mut out,
            "server-config.yaml",
            kube::config_map_text(&config),
        );
    }

    let rules = alerts::rules(p);
    let records = recording::rules(p);
    let groups = prometheus::rule_groups(&records, &rules);
    out.add(
        "prometheus/prometheus.yml",
        format!("{hash}{}", prometheus::config(p)),
    );
    let rule_file = crate::yaml::to_string(&prometheus::RuleFile { groups: &groups });
    out.add("prometheus/rules.yml", format!("{hash}{rule_file}"));
    if let Some(g) = &p.grafana {
        let text = dashboards::text(p);
        if p.kind != Kind::Demo {
            let map = dashboards::config_map(p, g, &text);
            kube::add_text(
                p,
                &mut out,
                "grafana-dashboard.yaml",
                kube::config_map_text(&map),
            );
        }
        out.add(
            format!("grafana/dashboards/{}", dashboards::file_name(p)),
            text,
        );
    }
    if p.kind != Kind::Demo {
        out.add_object(
            "kubernetes/prometheusrule.yaml".into(),
            &hash,
            monitoring::prometheus_rule(p, &rule_file),
        );
        kube::finish(p, &mut out);
    } else if p.engine.is_some() {
        kube::finish(p, &mut out);
    }

    if let Some(demo) = &p.demo {
        compose::emit(p, demo, self_init.as_deref(), &mut out);
    }

    out.add("VERIFY.md", verify::render(p, &rules));
    out
}
