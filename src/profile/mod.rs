//! Reading a profile: bytes → TOML (syntax, secrets) → raw types (types, unknown keys) →
//! JSON Schema → semantic rules → `model::Profile`. Each stage reports every problem it finds
//! with a span; a later stage runs only when the earlier ones passed.

mod ctx;
pub mod discover;
mod engine;
mod gotemplate;
mod layers;
pub mod raw;
pub(crate) mod rules;
pub mod schema;
mod validate;

use std::path::Path;

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

use crate::diag::{Code, Diagnostic, Sources};
use crate::fsio::ReadError;
use crate::model::Profile;

/// Profiles larger than this are refused before parsing. Large enough for the 10,000-role
/// maximum (`engine::MAX_ROLES`) written one key per line (about 2 MB), small enough that
/// parsing never needs unbounded memory.
pub const MAX_PROFILE_BYTES: usize = 4 * 1024 * 1024;

/// Read and validate a profile file.
pub fn load(path: &Path) -> Result<Profile, Vec<Diagnostic>> {
    load_with_sources(path).1
}

/// Read and validate a profile file; also the text of every file that was read (the profile
/// and its bases), so that diagnostics, also later ones about its outputs, are cut from the
/// bytes that were checked and no file is read twice.
pub fn load_with_sources(path: &Path) -> (Sources, Result<Profile, Vec<Diagnostic>>) {
    let limit = MAX_PROFILE_BYTES as u64;
    let bytes = match crate::fsio::read_regular(path, limit) {
        Ok(b) => b,
        Err(ReadError::TooLarge(_)) => return (Sources::new(), Err(vec![too_large(path)])),
        Err(e) => {
            let help = match e {
                ReadError::NotRegular(_) => "name a regular TOML file; baogen never reads FIFOs, devices or directories as profiles",
                _ => "check the path; profiles are TOML files such as profiles/active.toml",
            };
            return (
                Sources::new(),
                Err(vec![Diagnostic::new(
                    Code::Unreadable,
                    path,
                    None,
                    format!("cannot read the profile: {e}"),
                )
                .help(help)]),
            );
        }
    };
    parse_with_sources(path, path.parent().unwrap_or(Path::new("")), &bytes)
}

fn too_large(path: &Path) -> Diagnostic {
    Diagnostic::new(
        Code::Unreadable,
        path,
        None,
        format!(
            "the profile is larger than {MAX_PROFILE_BYTES} bytes (4 MiB), the most baogen reads"
        ),
    )
    .help("split the environment into several profiles")
}

/// The files a profile names (today the engine's CA file), keyed by the path as the profile
/// writes it: read once, here, so validation and emission touch no file system.
pub(crate) type NamedFiles = std::collections::BTreeMap<String, Result<Vec<u8>, String>>;

/// Read every file `raw` names, relative to the file that names it, bounded like every input.
fn read_named(raw: &raw::Profile, layers: &layers::Layers) -> NamedFiles {
    let mut files = NamedFiles::new();
    let ca = raw
        .kubernetes_secrets
        .as_ref()
        .and_then(|ks| ks.config.kubernetes_ca_cert_file.as_ref());
    if let Some(name) = ca {
        // A name validation refuses (control characters, templates) is never opened.
        if rules::file_path(name.get()).is_ok() {
            let path = layers.dir_of(&name.span()).join(name.get());
            let read =
                crate::fsio::read_regular(&path, engine::MAX_CA_BYTES).map_err(|e| e.to_string());
            files.insert(name.get().clone(), read);
        }
    }
    files
}

/// Validate a profile held in memory; `path` names it in errors, and relative paths resolve
/// against its directory.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Profile, Vec<Diagnostic>> {
    parse_in(path, path.parent().unwrap_or(Path::new("")), bytes)
}

/// Validate a profile held in memory whose relative paths (`output`, the CA file, `extends`)
/// resolve against `base`: a KRM `spec.inline` profile resolves them like a `spec.profile`
/// file in the package directory.
pub fn parse_in(path: &Path, base: &Path, bytes: &[u8]) -> Result<Profile, Vec<Diagnostic>> {
    parse_with_sources(path, base, bytes).1
}

/// `parse_in`, also returning the text of every file read (the profile, its bases).
pub fn parse_with_sources(
    path: &Path,
    base: &Path,
    bytes: &[u8],
) -> (Sources, Result<Profile, Vec<Diagnostic>>) {
    let mut sources = Sources::new();
    sources.insert(
        path.to_path_buf(),
        String::from_utf8_lossy(bytes).into_owned(),
    );
    let mut layers = layers::Layers::new(path, base, bytes.len());
    let mut result = parse_layers(path, bytes, &mut layers, &mut sources);
    if let Err(diags) = &mut result {
        diags.iter_mut().for_each(|d| layers.relocate(d));
    }
    (sources, result)
}

fn parse_layers(
    path: &Path,
    bytes: &[u8],
    layers: &mut layers::Layers,
    sources: &mut Sources,
) -> Result<Profile, Vec<Diagnostic>> {
    if bytes.len() > MAX_PROFILE_BYTES {
        return Err(vec![too_large(path)]);
    }
    if let Some(problem) = rules::unsafe_file_name(path) {
        return Err(vec![Diagnostic::new(
            Code::UnsafeFileName,
            path,
            None,
            format!("the profile's file name {problem}; baogen writes the name into the header of every artifact"),
        )
        .help("rename the file to plain printable characters, e.g. prod.toml")]);
    }
    let source = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        vec![Diagnostic::new(
            Code::NotUtf8,
            path,
            Some(at..at),
            format!("the profile is not UTF-8 text (invalid byte at offset {at})"),
        )
        .help("save the file as UTF-8")]
    })?;
    let doc = DeTable::parse(source).map_err(|e| vec![syntax_error(path, source, &e)])?;
    if !doc.get_ref().contains_key("profile") {
        return Err(vec![not_a_profile(path, doc.get_ref())]);
    }
    if doc.get_ref().contains_key("extends") {
        // Every base is read first, so the merged tree can borrow from all of their texts.
        let mut diags = Vec::new();
        let mut files = vec![layers::Read::empty()];
        let identity = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        layers::read_bases(
            source,
            0,
            layers,
            &mut files,
            &mut vec![(identity, path.to_path_buf())],
            &mut diags,
        );
        for (i, file) in files.iter().enumerate().skip(1) {
            sources.insert(layers.path_of(i).to_path_buf(), file.text.clone());
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        let span = doc.span();
        let merged = merge_bases(&files, doc.into_inner(), layers)?;
        return check_and_validate(path, toml::Spanned::new(span, merged), layers);
    }
    check_and_validate(path, doc, layers)
}

/// Read the bases the profile extends, check each on its own (secrets, the base schema), and
/// merge the profile on top of them.
fn merge_bases<'t>(
    files: &'t [layers::Read],
    doc: DeTable<'t>,
    layers: &mut layers::Layers,
) -> Result<DeTable<'t>, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut trees: Vec<Option<DeTable<'t>>> = vec![Some(doc)];
    for i in 1..files.len() {
        let base_path = layers.path_of(i).to_path_buf();
        match layers::parse_base(i, files, layers) {
            Ok(tree) => {
                let mut secrets = Vec::new();
                let json = json_view(&base_path, &tree, &mut secrets);
                diags.append(&mut secrets);
                diags.extend(schema::check_base(&base_path, &tree, &json));
                trees.push(Some(tree));
            }
            Err(d) => {
                diags.push(*d);
                trees.push(None);
            }
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let merged = layers::merged(0, files, &mut trees, layers, &mut diags);
    if diags.is_empty() {
        Ok(merged)
    } else {
        Err(diags)
    }
}

/// The stages after the tree is complete: secrets, schema, types, rules.
fn check_and_validate(
    path: &Path,
    doc: toml::Spanned<DeTable<'_>>,
    layers: &layers::Layers,
) -> Result<Profile, Vec<Diagnostic>> {
    // One parse serves every stage, and one walk over the tree both finds secrets and builds the
    // JSON view the schema sees (at 10,000 roles every walk over the tree misses the CPU cache on
    // each node, so there is one, not two); serde consumes the tree itself. When the schema
    // objects, serde runs first so that type errors and unknown keys are reported in its words
    // (with "did you mean"), as stage 1 of the design.
    let mut secrets = Vec::new();
    let json = json_view(path, doc.get_ref(), &mut secrets);
    if !secrets.is_empty() {
        return Err(secrets);
    }
    let schema_errors = schema::check(path, doc.get_ref(), &json);
    drop(json);
    if !schema_errors.is_empty() {
        if let Err(e) = raw::Profile::deserialize(toml::de::Deserializer::from(doc.clone())) {
            return Err(vec![type_error(path, &e)]);
        }
        return Err(schema_errors);
    }
    let raw = raw::Profile::deserialize(toml::de::Deserializer::from(doc))
        .map_err(|e| vec![type_error(path, &e)])?;

    let files = read_named(&raw, layers);
    match validate::validate(path, layers, &files, &raw) {
        (Some(profile), diags) if diags.is_empty() => Ok(profile),
        (_, diags) => Err(diags),
    }
}

fn syntax_error(path: &Path, source: &str, e: &toml::de::Error) -> Diagnostic {
    Diagnostic::new(
        Code::Syntax,
        path,
        // The parser's nesting limit on dotted keys and table headers comes without a place.
        e.span().or_else(|| deepest_key(source)),
        format!("TOML syntax error: {}", e.message().trim_end()),
    )
    .help("fix the TOML syntax at this place")
}

/// A file without its own `profile` key: a base, or a profile that forgot to say its kind.
fn not_a_profile(path: &Path, doc: &DeTable<'_>) -> Diagnostic {
    let base = doc.is_empty() || !doc.contains_key("listener");
    Diagnostic::new(
        Code::NotAProfile,
        path,
        Some(0..0),
        "this file has no `profile` key, so it is not a profile baogen renders",
    )
    .help(if base {
        "a base (a file other profiles extend) is never rendered on its own: render a profile that extends it; to make this a profile, add profile = \"active\", \"all-node\" or \"demo\""
    } else {
        "add profile = \"active\", \"all-node\" or \"demo\" at the top; a profile that extends a base still says its own kind"
    })
}

/// The key (of a table header or a key/value line) with the most dotted segments: where a
/// "recursion limit" error the parser reports without a place comes from.
fn deepest_key(source: &str) -> Option<std::ops::Range<usize>> {
    let mut best: Option<(usize, std::ops::Range<usize>)> = None;
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let start = offset + (line.len() - line.trim_start().len());
        offset += line.len();
        let t = line.trim_start();
        let key = if t.starts_with('[') {
            t.split(']').next().unwrap_or(t)
        } else {
            t.split('=').next().unwrap_or(t)
        };
        let dots = key.matches('.').count();
        if dots > 0 && best.as_ref().is_none_or(|(d, _)| dots > *d) {
            best = Some((dots, start..start + key.trim_end().len()));
        }
    }
    best.map(|(_, span)| span)
}

/// The TOML tree as JSON, for the schema check (TOML datetimes become strings; profiles have
/// none), and a diagnostic in `secrets` for every string that looks like a credential: profiles
/// name the Secret that holds a token, never the token itself.
fn json_view(path: &Path, table: &DeTable<'_>, secrets: &mut Vec<Diagnostic>) -> serde_json::Value {
    serde_json::Value::Object(
        table
            .iter()
            .map(|(k, v)| {
                if let Some(what) = rules::looks_like_secret(k.get_ref()) {
                    secrets.push(secret_diagnostic(path, k.span(), "key", what));
                }
                (k.get_ref().to_string(), json_value(path, v, secrets))
            })
            .collect(),
    )
}

/// One value of the tree as JSON, its strings checked for secrets (see `json_view`).
fn json_value(
    path: &Path,
    v: &toml::Spanned<DeValue<'_>>,
    secrets: &mut Vec<Diagnostic>,
) -> serde_json::Value {
    use serde_json::Value;
    match v.get_ref() {
        DeValue::String(s) => {
            if let Some(what) = rules::looks_like_secret(s) {
                secrets.push(secret_diagnostic(path, v.span(), "value", what));
            }
            Value::String(s.to_string())
        }
        DeValue::Integer(i) => {
            i64::from_str_radix(i.as_str(), i.radix()).map_or(Value::Null, Value::from)
        }
        DeValue::Float(f) => f
            .as_str()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::String(d.to_string()),
        DeValue::Array(a) => Value::Array(a.iter().map(|x| json_value(path, x, secrets)).collect()),
        DeValue::Table(t) => json_view(path, t, secrets),
    }
}

fn secret_diagnostic(
    path: &Path,
    span: std::ops::Range<usize>,
    which: &str,
    what: &str,
) -> Diagnostic {
    Diagnostic::new(Code::SecretInProfile, path, Some(span), format!("this {which} contains {what}; secrets never belong in a profile"))
        .help("store it in a Kubernetes Secret and reference the Secret by name and key (e.g. scrape.token_secret); then rotate it, since it was written to a file")
}

/// A serde error from the TOML deserializer, with a suggestion for misspelt keys.
fn type_error(path: &Path, e: &toml::de::Error) -> Diagnostic {
    let message = e.message().trim_end().to_string();
    let mut help = "check the README's profile reference for this key's type".to_string();
    if let Some((unknown, expected)) = parse_unknown_field(&message) {
        help = match closest(&unknown, &expected) {
            Some(best) => format!("did you mean `{best}`?"),
            None if unknown.contains("insecure") || unknown.contains("skip_verify") => {
                "baogen never disables TLS verification; set scrape.ca_config_map to the CA that signed OpenBao's certificate".into()
            }
            None => format!("valid keys here: {}", expected.join(", ")),
        };
    } else if message.contains("unknown variant") {
        help = "use one of the listed values".into();
    }
    Diagnostic::new(Code::Schema, path, e.span(), message).help(help)
}

/// `unknown field `adress`, expected one of `address`, `x`` → ("adress", ["address", "x"]).
fn parse_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((unknown.to_string(), expected))
}

pub(crate) fn closest(word: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 4) && *d < c.len())
        .min()
        .map(|(_, c)| c.clone())
}
