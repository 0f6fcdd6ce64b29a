//! `baogen helm-post-render PROFILE`: Helm's post-renderer protocol. Helm pipes the rendered
//! manifests to stdin and takes stdout in their place; an empty stdout would silently delete
//! every manifest, so any problem is an error and nothing reaches stdout.
//!
//! Helm 3 runs the command given to `--post-renderer`; Helm 4 runs the `postrenderer/v1`
//! plugin in `integrations/helm-plugin`, passes hooks too, and marks every document with
//! `postrenderer.helm.sh/postrender-filename`, which pass-through documents keep verbatim.

use std::path::Path;

use serde_json::Value;

use super::{stream, Error, StatefulSetPatch};

/// Helm 4's annotation naming the template file a document came from.
pub const FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

/// The post-rendered stream and the notes for stderr.
pub struct Output {
    pub stream: String,
    pub notes: Vec<String>,
}

pub fn post_render(profile: &Path, input: &str) -> Result<Output, Error> {
    let p = super::load_profile(profile)?;
    let mut docs = stream::read(input, "the manifests on stdin")?;
    if docs.is_empty() {
        return Err(Error::Input(
            "no manifests on stdin: `baogen helm-post-render` reads the manifests Helm pipes to a post-renderer (helm template|install --post-renderer ...)".into(),
        ));
    }
    // baogen's objects, its server configuration's ConfigMap among them (see `chart`).
    let mut added = crate::emit::render(&p).object_values();
    super::refuse_duplicates(
        docs.iter().map(|d| &d.value),
        &added,
        "remove it from the chart (or disable it in the chart's values), or let baogen own it and drop it from the chart",
    )?;

    let mut notes = Vec::new();
    let at = super::find_statefulset(&p, docs.iter().map(|d| &d.value));
    let values: Vec<&Value> = docs.iter().map(|d| &d.value).collect();
    super::chart::check(&p, &values, at)?;
    match super::patch_statefulset(&p, at.map(|i| &mut docs[i].value))? {
        StatefulSetPatch::Patched { note, changed } => {
            docs[at.expect("patched a found object")].changed = changed;
            notes.push(note);
        }
        // The StatefulSet is there (checked above) but not its container.
        StatefulSetPatch::NotFound(note) => return Err(Error::Input(note)),
    }

    // Helm 4 names a document's `# Source:` after this annotation; without it baogen's
    // objects would show up as generated-by-postrender-N.yaml.
    let helm4 = docs.iter().any(|d| {
        d.value
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(FILENAME_ANNOTATION))
            .is_some()
    });
    if helm4 {
        for obj in &mut added {
            let file = format!("baogen/{}", super::Identity::of(obj).file_name());
            annotate(obj, FILENAME_ANNOTATION, &file);
        }
    }
    notes.push(format!(
        "added {} objects from {}",
        added.len(),
        p.path.display()
    ));
    Ok(Output {
        stream: stream::write(&docs, &added),
        notes,
    })
}

pub(crate) fn annotate(obj: &mut Value, key: &str, value: &str) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    if let Some(a) = annotations.as_object_mut() {
        a.insert(key.to_string(), Value::String(value.to_string()));
    }
}
