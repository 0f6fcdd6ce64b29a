//! `baogen krm`: a KRM exec function (kpt `fn eval --exec` / `fn render --allow-exec`,
//! standalone kustomize). Reads a `config.kubernetes.io/v1` ResourceList, upserts baogen's
//! objects into its items and patches the OpenBao StatefulSet when it is among them.
//!
//! `baogen kustomize-plugin CONFIG`: the legacy exec-plugin protocol `kubectl kustomize
//! --enable-alpha-plugins` still runs (it cannot run KRM exec functions): the config file's
//! path is the first argument, and the generated objects go to stdout as a YAML stream.
//!
//! The function config, in both modes:
//! ```yaml
//! apiVersion: baogen.dev/v1alpha1
//! kind: BaogenProfile
//! metadata: {name: openbao-metrics}
//! spec:
//!   profile: profiles/active.toml   # or `inline:` with the profile itself as a map
//! ```

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::{Error, Identity, StatefulSetPatch};
use crate::model::Profile;

pub const API_VERSION: &str = "baogen.dev/v1alpha1";
pub const KIND: &str = "BaogenProfile";

const PATH: &str = "config.kubernetes.io/path";
const INDEX: &str = "config.kubernetes.io/index";
const INTERNAL_PATH: &str = "internal.config.kubernetes.io/path";
const INTERNAL_INDEX: &str = "internal.config.kubernetes.io/index";
/// kpt marks every item and the function config with the package's directory.
const PACKAGE_PATH: &str = "internal.config.kubernetes.io/package-path";
/// Where new objects go in a kpt package, one file per object.
const OUTPUT_DIR: &str = "baogen";

/// A function run: the ResourceList to print, what to say on stderr, and whether it failed.
pub struct Output {
    pub resource_list: String,
    pub stderr: String,
    pub ok: bool,
    /// Why it failed, as data, for `--message-format`.
    pub error: Option<Error>,
}

fn annotation<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// Load the profile a BaogenProfile names. Relative `spec.profile` paths resolve against
/// `base` (the kpt package or kustomization directory).
pub fn load_config(config: &Value, base: &Path, label: &str) -> Result<Profile, Error> {
    let what = |m: String| Error::Input(format!("{label}: {m}"));
    let (api, kind) = (
        config
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or(""),
        config.get("kind").and_then(Value::as_str).unwrap_or(""),
    );
    if api != API_VERSION || kind != KIND {
        return Err(what(format!(
            "unknown function config `{}`/`{}`; baogen expects apiVersion: {API_VERSION}, kind: {KIND}, with spec.profile (a path) or spec.inline (the profile as a map)",
            if api.is_empty() { "<no apiVersion>" } else { api },
            if kind.is_empty() { "<no kind>" } else { kind },
        )));
    }
    let spec = config
        .get("spec")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            what(format!(
                "{KIND} has no `spec` mapping; set spec.profile or spec.inline"
            ))
        })?;
    if let Some(unknown) = spec.keys().find(|k| *k != "profile" && *k != "inline") {
        return Err(what(format!(
            "unknown key spec.{unknown}; {KIND} takes spec.profile or spec.inline"
        )));
    }
    match (spec.get("profile"), spec.get("inline")) {
        (Some(Value::String(path)), None) => super::load_profile(&super::resolve(base, path)),
        (None, Some(inline @ Value::Object(_))) => {
            let text = toml::to_string(inline)
                .map_err(|e| what(format!("spec.inline cannot be written as TOML: {e}")))?;
            super::parse_profile(
                &PathBuf::from(format!("{label} (spec.inline)")),
                base,
                &text,
            )
        }
        (Some(_), Some(_)) => Err(what("set spec.profile or spec.inline, not both".into())),
        (Some(_), None) => Err(what("spec.profile must be a path (a string)".into())),
        (None, Some(_)) => Err(what(
            "spec.inline must be the profile as a map, the same keys as the TOML file".into(),
        )),
        (None, None) => Err(what(
            "set spec.profile (a path) or spec.inline (a map)".into(),
        )),
    }
}

/// Run the KRM function on a ResourceList. `cwd` anchors relative profile paths when kpt does
/// not say where the package is.
pub fn run(input: &str, cwd: &Path) -> Output {
    let mut list = match serde_saphyr::from_str::<Option<Value>>(input) {
        Ok(Some(v @ Value::Object(_))) => v,
        Ok(_) => return failed(None, Error::Input("no ResourceList on stdin: a KRM function reads `apiVersion: config.kubernetes.io/v1`, `kind: ResourceList` (run it through kpt or kustomize)".into())),
        Err(e) => {
            let msg = e.to_string();
            return failed(
                None,
                Error::Input(format!(
                    "stdin is not valid YAML: {}",
                    msg.lines().next().unwrap_or(&msg)
                )),
            );
        }
    };
    let kind = list.get("kind").and_then(Value::as_str);
    let api = list.get("apiVersion").and_then(Value::as_str);
    if kind != Some("ResourceList")
        || !matches!(
            api,
            Some("config.kubernetes.io/v1" | "config.kubernetes.io/v1alpha1")
        )
    {
        return failed(
            None,
            Error::Input(format!(
                "stdin is `{}`/`{}`, not a config.kubernetes.io/v1 ResourceList",
                api.unwrap_or("<no apiVersion>"),
                kind.unwrap_or("<no kind>")
            )),
        );
    }
    match upsert(&mut list, cwd) {
        Ok(notes) => {
            let results = notes
                .iter()
                .map(|(severity, m)| json!({"message": m, "severity": severity}))
                .collect();
            list.as_object_mut()
                .expect("checked above")
                .insert("results".into(), Value::Array(results));
            let stderr = notes
                .iter()
                .filter(|(s, _)| *s != "info")
                .map(|(s, m)| format!("{s}: {m}\n"))
                .collect();
            Output {
                resource_list: crate::yaml::to_string(&list),
                stderr,
                ok: true,
                error: None,
            }
        }
        Err(e) => failed(Some(list), e),
    }
}

fn upsert(list: &mut Value, cwd: &Path) -> Result<Vec<(&'static str, String)>, Error> {
    let config = list.get("functionConfig").filter(|v| !v.is_null()).ok_or_else(|| {
        Error::Input(format!(
            "the ResourceList has no functionConfig; give baogen a {API_VERSION} {KIND} (kpt: --fn-config FILE or configPath in the Kptfile)"
        ))
    })?;
    let base = annotation(config, PACKAGE_PATH).map_or_else(|| cwd.to_path_buf(), |p| cwd.join(p));
    let label = annotation(config, PATH)
        .unwrap_or("functionConfig")
        .to_string();
    let p = load_config(config, &base, &label)?;
    // Which profile wrote an object: the path the function config names, as written (stable
    // across machines), or the config itself for an inline profile.
    let source = config
        .pointer("/spec/profile")
        .and_then(Value::as_str)
        .map_or_else(|| format!("{label} (spec.inline)"), str::to_string);

    let obj = list.as_object_mut().expect("checked by the caller");
    let items = obj
        .entry("items")
        .or_insert_with(|| Value::Array(Vec::new()));
    if items.is_null() {
        *items = Value::Array(Vec::new());
    }
    let items = items
        .as_array_mut()
        .ok_or_else(|| Error::Input("the ResourceList's `items` is not a list".into()))?;
    for (i, item) in items.iter().enumerate() {
        super::stream::check_object(item)
            .map_err(|why| Error::Input(format!("item {i} of the ResourceList {why}")))?;
    }

    let mut notes = Vec::new();
    let at = super::find_statefulset(&p, items.iter());
    match super::patch_statefulset(&p, at.map(|i| &mut items[i]))? {
        StatefulSetPatch::Patched { note, .. } => notes.push(("info", note)),
        StatefulSetPatch::NotFound(n) => notes.push(("warning", n)),
    }

    let objects = crate::emit::render(&p).object_values();
    let ids: Vec<Identity> = objects.iter().map(Identity::of).collect();
    let taken: Vec<String> = ids
        .iter()
        .filter_map(|id| {
            let i = items.iter().position(|it| Identity::of(it).same(id))?;
            owner_clash(&items[i], &source).map(|owner| format!("{id} ({owner})"))
        })
        .collect();
    if !taken.is_empty() {
        return Err(Error::Input(format!(
            "the package already holds {}, which {source} would emit too; two profiles in one package must not emit the same object: give each environment its own openbao.namespace (baogen names its objects after it)",
            taken.join(", ")
        )));
    }
    let (mut added, mut replaced) = (0, 0);
    for (mut new, id) in objects.into_iter().zip(ids) {
        super::helm::annotate(&mut new, SOURCE, &source);
        match items.iter().position(|it| Identity::of(it).same(&id)) {
            Some(i) => {
                // Keep where the package stores it, so kpt rewrites the same file.
                for key in [PATH, INDEX, INTERNAL_PATH, INTERNAL_INDEX] {
                    if let Some(v) = annotation(&items[i], key) {
                        let v = v.to_string();
                        super::helm::annotate(&mut new, key, &v);
                    }
                }
                items[i] = new;
                replaced += 1;
            }
            None => {
                let file = format!("{OUTPUT_DIR}/{}", id.file_name());
                for (key, value) in [
                    (PATH, file.as_str()),
                    (INDEX, "0"),
                    (INTERNAL_PATH, file.as_str()),
                    (INTERNAL_INDEX, "0"),
                ] {
                    super::helm::annotate(&mut new, key, value);
                }
                items.push(new);
                added += 1;
            }
        }
    }
    notes.push((
        "info",
        format!(
            "{added} objects added and {replaced} replaced from {}",
            p.path.display()
        ),
    ));
    Ok(notes)
}

/// Marks the objects the function wrote with the profile that wrote them, so a re-run of the
/// same step replaces its own objects (functions are idempotent) and another step's are never
/// taken over.
const SOURCE: &str = "baogen.dev/source";

/// Why an object already in the package may not be replaced by `source`'s: written by another
/// profile, or not by baogen at all. Objects of a baogen from before `SOURCE` (its label, no
/// annotation) are its own.
fn owner_clash(item: &Value, source: &str) -> Option<String> {
    match annotation(item, SOURCE) {
        Some(owner) if owner == source => None,
        Some(owner) => Some(format!("from {owner}")),
        None if item
            .pointer("/metadata/labels/baogen.dev~1profile")
            .is_some() =>
        {
            None
        }
        None => Some("not written by baogen".into()),
    }
}

/// A failed run still prints a ResourceList, so kpt can show its results; the items are the
/// input's, untouched, and the non-zero exit makes the orchestrator discard them.
fn failed(list: Option<Value>, e: Error) -> Output {
    let text = e.render();
    let mut list = list.unwrap_or_else(
        || json!({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": []}),
    );
    // One result per problem: the KRM spec's `file` and `tags` carry where and which code.
    let results = match &e {
        Error::Profile { diags, sources } => diags
            .iter()
            .map(|d| {
                let at = sources
                    .get(&d.file)
                    .map_or_else(|| d.file.display().to_string(), |s| d.location(s));
                json!({
                    "message": format!("{at}: {}", d.message),
                    "severity": "error",
                    "file": {"path": d.file.display().to_string()},
                    "tags": {"code": d.code.id()},
                })
            })
            .collect(),
        Error::Input(_) | Error::Read { .. } => {
            vec![json!({"message": text.trim_end(), "severity": "error"})]
        }
    };
    if let Some(obj) = list.as_object_mut() {
        obj.insert("results".into(), Value::Array(results));
    }
    Output {
        resource_list: crate::yaml::to_string(&list),
        stderr: text,
        ok: false,
        error: Some(e),
    }
}

/// The legacy kustomize exec plugin: read the config file, print the generated objects.
/// `base` is the kustomization directory (`KUSTOMIZE_PLUGIN_CONFIG_ROOT`, also the cwd).
pub fn kustomize_plugin(config_path: &Path, base: &Path) -> Result<String, Error> {
    let label = config_path.display().to_string();
    let bytes = crate::fsio::read_regular(config_path, crate::profile::MAX_PROFILE_BYTES as u64)
        .map_err(|source| Error::Read {
            what: format!("{label}: cannot read the plugin config"),
            source,
        })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Input(format!("{label}: the plugin config is not UTF-8 text")))?;
    let config: Value = match serde_saphyr::from_str::<Option<Value>>(&text) {
        Ok(Some(v)) => v,
        Ok(None) => return Err(Error::Input(format!("{label}: the plugin config is empty"))),
        Err(e) => {
            let msg = e.to_string();
            return Err(Error::Input(format!(
                "{label}: not valid YAML: {}",
                msg.lines().next().unwrap_or(&msg)
            )));
        }
    };
    let name = config
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let p = load_config(&config, base, &format!("{KIND} {name}"))?;
    Ok(crate::emit::render(&p).kube_stream())
}
