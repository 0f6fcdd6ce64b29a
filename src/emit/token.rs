//! The scrape token's life: the token role it is minted from (orphan, periodic, the metrics
//! policy only) and, when the profile asks, the CronJob that renews it from the Secret
//! Prometheus reads, with nothing else: no Kubernetes API access, one Secret key, one CA.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapVolumeSource, Container, EnvVar, KeyToPath, PodSecurityContext, PodSpec,
    PodTemplateSpec, ResourceRequirements, SeccompProfile, SecretVolumeSource, SecurityContext,
    ServiceAccount, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{json, Value};

use super::artifacts::Artifacts;
use super::kube;
use crate::model::{Profile, Renewal, TokenRole};

pub fn role_api_path(r: &TokenRole) -> String {
    format!("auth/token/roles/{}", r.name)
}

pub fn role_file(r: &TokenRole) -> String {
    format!("openbao/auth/token/roles/{}.json", r.name)
}

/// The body of `auth/token/roles/NAME`, every field as OpenBao reads it back (the period in
/// seconds), so a plan after an apply shows nothing.
pub(super) fn role_body(p: &Profile, r: &TokenRole) -> Value {
    json!({
        "allowed_policies": [p.scrape.policy_name],
        "orphan": true,
        "renewable": true,
        "token_period": r.period_secs,
        "token_bound_cidrs": r.bound_cidrs,
    })
}

/// Name of the CronJob and its ServiceAccount: per OpenBao namespace, so two OpenBao
/// environments scraped by one Prometheus never share one.
pub fn renewal_name(p: &Profile) -> String {
    format!("{}-scrape-token-renewal", p.openbao.namespace)
}

/// Where the container finds the token and the CA; fixed, so the script holds no profile value.
const TOKEN_DIR: &str = "/openbao/token";
const CA_DIR: &str = "/openbao/ca";

/// What the container runs: the token from the mounted Secret key, renewed with
/// `auth/token/renew-self`; the response (which holds the token) goes nowhere.
pub const RENEW_SCRIPT: &str =
    "BAO_TOKEN=\"$(cat /openbao/token/token)\"; export BAO_TOKEN; exec bao token renew >/dev/null";

pub(super) fn emit(p: &Profile, r: &TokenRole, out: &mut Artifacts) {
    out.add(role_file(r), super::artifacts::pretty(&role_body(p, r)));
    if let Some(renewal) = &r.renewal {
        let name = renewal_name(p);
        let meta = ObjectMeta {
            name: Some(name.clone()),
            // Beside the token Secret, which the monitor reads from its own (OpenBao's) namespace:
            // a pod can mount only Secrets of its namespace.
            namespace: Some(p.openbao.namespace.clone()),
            labels: Some(kube::common_labels(p)),
            ..Default::default()
        };
        let account = ServiceAccount {
            metadata: meta.clone(),
            automount_service_account_token: Some(false),
            ..Default::default()
        };
        kube::add_object(p, out, "scrape-token-renewal-serviceaccount.yaml", &account);
        kube::add_object(
            p,
            out,
            "scrape-token-renewal-cronjob.yaml",
            &cron_job(p, renewal, meta),
        );
    }
}

fn cron_job(p: &Profile, r: &Renewal, meta: ObjectMeta) -> CronJob {
    let token = p
        .scrape
        .token_secret
        .as_ref()
        .expect("a token role exists only with a token Secret");
    let mut volumes = vec![Volume {
        name: "token".into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(token.name.clone()),
            items: Some(vec![KeyToPath {
                key: token.key.clone(),
                path: "token".into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }];
    let mut mounts = vec![VolumeMount {
        name: "token".into(),
        mount_path: TOKEN_DIR.into(),
        read_only: Some(true),
        ..Default::default()
    }];
    let mut env = vec![EnvVar {
        name: "BAO_ADDR".into(),
        value: Some(r.address.clone()),
        ..Default::default()
    }];
    if let Some(ca) = &p.scrape.ca_config_map {
        volumes.push(Volume {
            name: "ca".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: ca.name.clone(),
                items: Some(vec![KeyToPath {
                    key: ca.key.clone(),
                    path: "ca.crt".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: "ca".into(),
            mount_path: CA_DIR.into(),
            read_only: Some(true),
            ..Default::default()
        });
        env.push(EnvVar {
            name: "BAO_CACERT".into(),
            value: Some(format!("{CA_DIR}/ca.crt")),
            ..Default::default()
        });
    }
    let quantity = |s: &str| Quantity(s.into());
    let container = Container {
        name: "renew".into(),
        image: Some(r.image.clone()),
        command: Some(vec!["/bin/sh".into(), "-ec".into(), RENEW_SCRIPT.into()]),
        env: Some(env),
        volume_mounts: Some(mounts),
        resources: Some(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".into(), quantity("10m")),
                ("memory".into(), quantity("32Mi")),
            ])),
            limits: Some(BTreeMap::from([("memory".into(), quantity("64Mi"))])),
            ..Default::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let pod = PodSpec {
        service_account_name: meta.name.clone(),
        automount_service_account_token: Some(false),
        restart_policy: Some("Never".into()),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            // Numeric, so the kubelet can check it is not root whatever the image declares.
            run_as_user: Some(65534),
            run_as_group: Some(65534),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        containers: vec![container],
        volumes: Some(volumes),
        ..Default::default()
    };
    CronJob {
        metadata: meta,
        spec: Some(CronJobSpec {
            schedule: r.schedule.clone(),
            concurrency_policy: Some("Forbid".into()),
            starting_deadline_seconds: Some(300),
            successful_jobs_history_limit: Some(1),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                spec: Some(JobSpec {
                    backoff_limit: Some(3),
                    active_deadline_seconds: Some(120),
                    template: PodTemplateSpec {
                        metadata: None,
                        spec: Some(pod),
                    },
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}
