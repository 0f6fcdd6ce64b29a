//! Integration modes: baogen inside other tools' pipelines (Helm post-renderer, KRM function
//! for kpt and kustomize, legacy kustomize exec plugin). Each mode reads its whole input,
//! computes its whole output in memory and returns it; the CLI writes it only on success, so
//! a failure never leaves a half-written or empty stream behind.

mod chart;
pub mod helm;
pub mod krm;
pub mod stream;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::diag::{self, Diagnostic};
pub use crate::identity::Identity;
use crate::model::{Kind, Profile};

/// Why an integration refused its input. Rendered the same way by every mode.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Problems in a profile; `sources` holds the text of the profile and its bases as read.
    #[error("the profile has {} problem(s)", diags.len())]
    Profile {
        diags: Vec<Diagnostic>,
        sources: diag::Sources,
    },
    /// The stream, the chart's objects or the plugin config cannot be used as they are; the
    /// text names the object and what to change.
    #[error("{0}")]
    Input(String),
    /// A file the integration reads (the plugin config) cannot be read.
    #[error("{what}")]
    Read {
        what: String,
        #[source]
        source: crate::fsio::ReadError,
    },
}

impl From<String> for Error {
    fn from(m: String) -> Self {
        Error::Input(m)
    }
}

impl Error {
    /// Plain text (no colour): the same words on stderr and in KRM results.
    pub fn render(&self) -> String {
        match self {
            Error::Profile { diags, sources } => {
                diag::render_all(diags, |path| sources.get(path).cloned(), false)
            }
            other => format!("error: {}\n", other.chain()),
        }
    }

    /// This error and its causes, `outer: inner`.
    pub fn chain(&self) -> String {
        let causes: Vec<String> = anyhow::Chain::new(self).map(|c| c.to_string()).collect();
        causes.join(": ")
    }
}

/// Load a profile file for an integration; Kubernetes integrations need Kubernetes objects.
pub fn load_profile(path: &Path) -> Result<Profile, Error> {
    let (sources, loaded) = crate::profile::load_with_sources(path);
    let p = loaded.map_err(|diags| Error::Profile { diags, sources })?;
    require_kubernetes(p)
}

/// Validate a profile given as text (a KRM `spec.inline`); `label` names it in errors and its
/// relative paths resolve against `base`, as a profile file's do against its directory.
pub fn parse_profile(label: &Path, base: &Path, text: &str) -> Result<Profile, Error> {
    let (sources, loaded) = crate::profile::parse_with_sources(label, base, text.as_bytes());
    let p = loaded.map_err(|diags| Error::Profile { diags, sources })?;
    require_kubernetes(p)
}

fn require_kubernetes(p: Profile) -> Result<Profile, Error> {
    if p.kind == Kind::Demo {
        return Err(Error::Input(format!(
            "{}: the `demo` profile is for Docker Compose and has no Kubernetes objects; use an `active` or `all-node` profile here",
            p.path.display()
        )));
    }
    Ok(p)
}

/// What happened to the OpenBao StatefulSet of the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum StatefulSetPatch {
    /// What was added and what was already there; `changed` is false when the StatefulSet
    /// already had everything (it then passes through untouched).
    Patched {
        note: String,
        changed: bool,
    },
    NotFound(String),
}

/// Where the profile's OpenBao StatefulSet is among `objects`.
pub fn find_statefulset<'a>(
    p: &Profile,
    objects: impl IntoIterator<Item = &'a Value>,
) -> Option<usize> {
    objects
        .into_iter()
        .position(|v| is_openbao_statefulset(p, v))
}

fn is_openbao_statefulset(p: &Profile, v: &Value) -> bool {
    let id = Identity::of(v);
    id.kind == "StatefulSet"
        && v.get("apiVersion").and_then(Value::as_str) == Some("apps/v1")
        && id.same(&Identity {
            group: "apps".into(),
            kind: "StatefulSet".into(),
            namespace: Some(p.openbao.namespace.clone()),
            name: p.openbao.statefulset.clone(),
        })
}

/// Give the OpenBao container of the stream's StatefulSet the Downward API env service
/// registration reads and, with a metrics-only listener, the metrics container port (unless
/// the container declares that port number already, under any name). Refuses when the port
/// name baogen's monitors use belongs to another port.
pub fn patch_statefulset(p: &Profile, sts: Option<&mut Value>) -> Result<StatefulSetPatch, Error> {
    let where_ = format!(
        "StatefulSet {}/{}",
        p.openbao.namespace, p.openbao.statefulset
    );
    let Some(sts) = sts else {
        return Ok(StatefulSetPatch::NotFound(format!(
            "no {where_} in the input, so the OpenBao pods get neither the Downward API env (BAO_K8S_NAMESPACE, BAO_K8S_POD_NAME) nor the metrics port; add them yourself (see kubernetes/patches/openbao-statefulset-env.yaml from `baogen render`) or set openbao.statefulset and openbao.namespace in the profile"
        )));
    };
    let container_name = &p.openbao.container;
    let Some(container) = sts
        .pointer_mut("/spec/template/spec/containers")
        .and_then(Value::as_array_mut)
        .and_then(|cs| {
            cs.iter_mut()
                .find(|c| c.get("name").and_then(Value::as_str) == Some(container_name))
        })
    else {
        return Ok(StatefulSetPatch::NotFound(format!(
            "{where_} has no container named `{container_name}`, so it was not patched; set openbao.container in the profile"
        )));
    };
    let (mut added, mut kept) = (Vec::new(), Vec::new());
    if let Some(m) = &p.metrics_listener {
        let (port, port_name) = (m.address.port, p.scrape.port_name.as_str());
        let ports = ensure_array(container, "ports", &where_)?;
        let mut present = None;
        for existing in ports.iter() {
            let num = existing.get("containerPort").and_then(Value::as_u64);
            let name = existing.get("name").and_then(Value::as_str).unwrap_or("");
            if num == Some(port.into()) {
                present = Some(name.to_string());
            }
            if name == port_name && num != Some(port.into()) {
                return Err(Error::Input(format!(
                    "{where_}, container `{container_name}`, already uses the port name `{port_name}` for port {}; baogen needs it for metrics port {port}. Rename that port or set scrape.port_name in the profile",
                    num.map_or("?".into(), |n| n.to_string())
                )));
            }
        }
        // The OpenBao chart declares 8202 as its (unused) replication port `https-rep`: the
        // Service targets the port by number and the PodMonitor by `portNumber`, so whatever
        // name the chart gave it, the port is scraped as declared.
        if let Some(name) = present {
            kept.push(if name == port_name || name.is_empty() {
                format!("container port {port} ({port_name})")
            } else {
                format!("container port {port} (as `{name}`, scraped by number)")
            });
        } else {
            let what = format!("container port {port} ({port_name})");
            ports.push(json!({"containerPort": port, "name": port_name, "protocol": "TCP"}));
            added.push(what);
        }
    }
    let env = ensure_array(container, "env", &where_)?;
    for (name, field) in [
        ("BAO_K8S_NAMESPACE", "metadata.namespace"),
        ("BAO_K8S_POD_NAME", "metadata.name"),
    ] {
        let want = json!({"name": name, "valueFrom": {"fieldRef": {"fieldPath": field}}});
        let what = format!("env {name}");
        match env
            .iter_mut()
            .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
        {
            Some(e) if *e == want => kept.push(what),
            Some(e) => {
                *e = want;
                added.push(format!("{what} (replacing the chart's value)"));
            }
            None => {
                env.push(want);
                added.push(what);
            }
        }
    }
    let note = match (added.is_empty(), kept.is_empty()) {
        (true, _) => format!("{where_} already has {}; left unchanged", kept.join(", ")),
        (false, true) => format!("patched {where_}: added {}", added.join(", ")),
        (false, false) => format!(
            "patched {where_}: added {}; already there: {}",
            added.join(", "),
            kept.join(", ")
        ),
    };
    Ok(StatefulSetPatch::Patched {
        note,
        changed: !added.is_empty(),
    })
}

fn ensure_array<'a>(
    container: &'a mut Value,
    key: &str,
    where_: &str,
) -> Result<&'a mut Vec<Value>, Error> {
    let map = container
        .as_object_mut()
        .ok_or_else(|| Error::Input(format!("{where_}: a container is not a mapping")))?;
    let slot = map.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    if slot.is_null() {
        *slot = Value::Array(Vec::new());
    }
    slot.as_array_mut()
        .ok_or_else(|| Error::Input(format!("{where_}: the container's `{key}` is not a list")))
}

/// Refuse objects baogen would add that the input already has.
pub fn refuse_duplicates<'a>(
    existing: impl IntoIterator<Item = &'a Value>,
    added: &[Value],
    remedy: &str,
) -> Result<(), Error> {
    let existing: Vec<Identity> = existing.into_iter().map(Identity::of).collect();
    let clashes: Vec<String> = added
        .iter()
        .map(Identity::of)
        .filter(|a| existing.iter().any(|e| e.same(a)))
        .map(|a| a.to_string())
        .collect();
    if clashes.is_empty() {
        return Ok(());
    }
    Err(Error::Input(format!(
        "the input already contains {}, which baogen would add; {remedy}",
        clashes.join(", ")
    )))
}

/// Resolve a profile path from a config file: absolute as given, relative against `base`.
pub fn resolve(base: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}
