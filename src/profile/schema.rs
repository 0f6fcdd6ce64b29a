//! The profile's JSON Schema: generated from `raw::Profile`, committed as
//! `schemas/profile.schema.json` (draft-07, which taplo and Even Better TOML understand), and
//! checked against every profile with the errors mapped back to TOML spans.

use std::path::Path;

use schemars::generate::SchemaSettings;
use toml::de::{DeTable, DeValue};

use super::raw;
use crate::diag::{Code, Diagnostic};

/// The schema as pretty JSON with a trailing newline, exactly as committed under `schemas/`.
pub fn schema_json() -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<raw::Profile>();
    schema.insert(
        "$id".into(),
        "https://baogen.dev/schemas/profile.schema.json".into(),
    );
    schema.insert("title".into(), "baogen profile".into());
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serializes");
    text.push('\n');
    text
}

/// The schema of a base file (one a profile `extends`): the profile's, with every key
/// optional, so a partial file is checked, and completed in editors, like a profile.
pub fn base_schema_json() -> String {
    fn optional(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                o.remove("required");
                o.values_mut().for_each(optional);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(optional),
            _ => {}
        }
    }
    let mut schema: serde_json::Value =
        serde_json::from_str(&schema_json()).expect("the schema is JSON");
    optional(&mut schema);
    schema["$id"] = "https://baogen.dev/schemas/profile-base.schema.json".into();
    schema["title"] = "baogen profile base (every key optional)".into();
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serializes");
    text.push('\n');
    text
}

/// The committed schema, compiled into the binary: generating it at run time would cost every
/// render a schemars pass. `tests/fast/golden.rs` fails when it drifts from the Rust types.
const COMMITTED: &str = include_str!("../../schemas/profile.schema.json");

/// The schema `baogen schema` prints: the committed file, byte for byte.
pub fn committed() -> &'static str {
    COMMITTED
}

/// The committed schema compiled by the jsonschema crate at build time (its `validator` macro):
/// a run pays neither for parsing the schema nor for compiling it with the draft-07 meta-schema,
/// which cost about 2 ms per process (BENCHMARKS.md). Editing the schema file recompiles this.
#[jsonschema::validator(path = "schemas/profile.schema.json", draft = Draft7)]
struct ProfileSchema;

/// The base schema, compiled the same way.
#[jsonschema::validator(path = "schemas/profile-base.schema.json", draft = Draft7)]
struct BaseSchema;

/// Whether a value passes the build-time validator; tests compare it with the jsonschema
/// crate's run-time validator on the same file.
pub fn is_valid(value: &serde_json::Value) -> bool {
    ProfileSchema::is_valid(value)
}

/// Check the document against the schema; each violation points at the offending value.
pub fn check(path: &Path, doc: &DeTable<'_>, value: &serde_json::Value) -> Vec<Diagnostic> {
    report(path, doc, ProfileSchema::iter_errors(value))
}

/// Check a base file against the base schema (every key optional).
pub fn check_base(path: &Path, doc: &DeTable<'_>, value: &serde_json::Value) -> Vec<Diagnostic> {
    report(path, doc, BaseSchema::iter_errors(value))
}

fn report<'a>(
    path: &Path,
    doc: &DeTable<'_>,
    errors: impl Iterator<Item = jsonschema::ValidationError<'a>>,
) -> Vec<Diagnostic> {
    errors
        .map(|err| {
            let pointer = err.instance_path().as_str().to_string();
            let span = span_at(doc, &pointer);
            let at = if pointer.is_empty() {
                "the profile".to_string()
            } else {
                dotted(&pointer)
            };
            Diagnostic::new(Code::Schema, path, span, format!("{at}: {}", err.masked()))
                .help("see schemas/profile.schema.json or the README's profile reference")
        })
        .collect()
}

/// `/listener/api/address` → `listener.api.address`, `/roles/0/name` → `roles[0].name`.
fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.parse::<usize>().is_ok() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

/// Walk the span-carrying TOML document along a JSON pointer.
pub fn span_at(doc: &DeTable<'_>, pointer: &str) -> Option<std::ops::Range<usize>> {
    let mut table = doc;
    let mut current: Option<&toml::Spanned<DeValue<'_>>> = None;
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        let next = match current.map(|v| v.get_ref()) {
            None => table
                .iter()
                .find(|(k, _)| k.get_ref() == &seg)
                .map(|(_, v)| v),
            Some(DeValue::Table(t)) => t.iter().find(|(k, _)| k.get_ref() == &seg).map(|(_, v)| v),
            Some(DeValue::Array(a)) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
            Some(_) => None,
        };
        let next = next?;
        if let DeValue::Table(t) = next.get_ref() {
            table = t;
        }
        current = Some(next);
    }
    current.map(|v| v.span())
}
