//! Layered profiles: `extends = "base.toml"` (or a list, applied in order) merges bases under a
//! profile before anything else sees it.
//!
//! Merge: tables merge key by key; scalars and plain arrays are replaced; the entries of
//! `[[kubernetes_secrets.roles]]` and `[[demo.nodes]]` merge by `name`, and an entry with
//! `remove = true` deletes the inherited entry of that name. Bases may be partial; each is checked
//! on its own against the schema with every key optional, and for secrets.
//!
//! Every file keeps its own place in one offset space: the profile at 0, each base after the
//! previous file's end. Spans in the merged tree are offsets in that space, so every later stage
//! works unchanged on one tree, and `Layers::relocate` turns a diagnostic's offset back into a
//! file and a span in it, with a label at each value the merge replaced.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeArray, DeTable, DeValue};
use toml::Spanned;

use crate::diag::{Code, Diagnostic, Label};
use crate::fsio::ReadError;
use crate::model::Place;

/// How deep bases may nest: a profile, its base, that base's base, and so on.
pub(crate) const MAX_DEPTH: usize = 5;

/// Arrays of tables whose entries merge by `name`: (table, key).
const KEYED: [(&str, &str); 2] = [("kubernetes_secrets", "roles"), ("demo", "nodes")];

struct Layer {
    path: PathBuf,
    /// The directory this file's relative paths resolve against.
    dir: PathBuf,
    start: usize,
    end: usize,
}

/// The files of one profile in one offset space, and what the merge replaced.
pub(crate) struct Layers {
    layers: Vec<Layer>,
    /// (the value that won, the value it replaced), as offsets.
    overrides: Vec<(Range<usize>, Range<usize>)>,
}

impl Layers {
    /// The profile alone: `path` at offset 0, its relative paths against `dir`.
    pub(crate) fn new(path: &Path, dir: &Path, len: usize) -> Layers {
        Layers {
            layers: vec![Layer {
                path: path.to_path_buf(),
                dir: dir.to_path_buf(),
                start: 0,
                end: len,
            }],
            overrides: Vec::new(),
        }
    }

    /// The path of file `i` (0 is the profile).
    pub(crate) fn path_of(&self, i: usize) -> &Path {
        &self.layers[i].path
    }

    /// Whether the profile has bases.
    pub(crate) fn is_layered(&self) -> bool {
        self.layers.len() > 1
    }

    /// The files after the profile itself, in the order they were read.
    pub(crate) fn bases(&self) -> Vec<PathBuf> {
        self.layers[1..].iter().map(|l| l.path.clone()).collect()
    }

    /// Give a base file the next place in the offset space; returns its start.
    fn add(&mut self, path: &Path, len: usize) -> usize {
        let start = self.layers.last().map_or(0, |l| l.end + 1);
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        self.layers.push(Layer {
            path: path.to_path_buf(),
            dir,
            start,
            end: start + len,
        });
        start
    }

    fn layer_of(&self, offset: usize) -> &Layer {
        self.layers
            .iter()
            .rev()
            .find(|l| l.start <= offset)
            .unwrap_or(&self.layers[0])
    }

    /// The directory the file that wrote `span` resolves relative paths against.
    pub(crate) fn dir_of(&self, span: &Range<usize>) -> &Path {
        &self.layer_of(span.start).dir
    }

    /// `span` as a file and a span in it.
    pub(crate) fn place(&self, span: &Range<usize>) -> Place {
        let l = self.layer_of(span.start);
        Place {
            file: l.path.clone(),
            span: span.start - l.start..span.end.saturating_sub(l.start).max(span.start - l.start),
        }
    }

    /// Point `d` (and its labels) at the files that wrote the values, and add a label at each
    /// value the merge replaced with the one `d` is about.
    pub(crate) fn relocate(&self, d: &mut Diagnostic) {
        if !self.is_layered() {
            return;
        }
        let Some(span) = d.span.clone() else { return };
        for (won, replaced) in &self.overrides {
            if won.start <= span.start && span.end <= won.end {
                let at = self.place(replaced);
                d.labels.push(Label {
                    file: at.file,
                    span: at.span,
                    message: "the inherited value it overrides".into(),
                });
            }
        }
        let at = self.place(&span);
        d.file = at.file;
        d.span = Some(at.span);
        for label in &mut d.labels {
            if label.file == self.layers[0].path {
                let at = self.place(&label.span);
                label.file = at.file;
                label.span = at.span;
            }
        }
    }
}

/// One file of a layered profile as read: its text, and the files its `extends` names (as
/// indexes into `Layers`, in order).
pub(crate) struct Read {
    pub(crate) text: String,
    extends: Vec<usize>,
}

impl Read {
    /// The profile's own entry: its text is held by the caller.
    pub(crate) fn empty() -> Read {
        Read {
            text: String::new(),
            extends: Vec::new(),
        }
    }
}

/// Phase 1: read every base `text` (the file at `of`) names, recursively, each once per path
/// on the way (`chain`, each file's canonical path and its name as written, catches cycles
/// and depth). Problems point at the `extends` value.
/// `files[i]` is the file of `layers` index `i` (the profile's own is `files[0]`).
pub(crate) fn read_bases(
    text: &str,
    of: usize,
    layers: &mut Layers,
    files: &mut Vec<Read>,
    chain: &mut Vec<(PathBuf, PathBuf)>,
    diags: &mut Vec<Diagnostic>,
) {
    let from = layers.layers[of].path.clone();
    let offset = layers.layers[of].start;
    let Ok(tree) = DeTable::parse(text) else {
        return; // the syntax error is reported when the file is parsed for good
    };
    let Some(extends) = tree.get_ref().get("extends") else {
        return;
    };
    let mut children = Vec::new();
    for entry in extends_paths(&from, extends, offset, diags) {
        let span = entry.span().start + offset..entry.span().end + offset;
        let at = |code: Code, message: String, help: &str| {
            Diagnostic::new(code, &from, Some(span.clone()), message).help(help)
        };
        if let Err(why) = super::rules::file_path(entry.get_ref()) {
            diags.push(at(
                Code::FilePath,
                format!("extends '{}' {why}", entry.get_ref().escape_debug()),
                "name a base file relative to this profile, e.g. base.toml",
            ));
            continue;
        }
        let path = crate::fsio::normalize(&layers.layers[of].dir.join(entry.get_ref()));
        let identity = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if let Some(first) = chain.iter().position(|(id, _)| *id == identity) {
            // Shown as the files were named on the way, not as canonical absolute paths.
            let way: Vec<String> = chain[first..]
                .iter()
                .map(|(_, shown)| shown.display().to_string())
                .chain([path.display().to_string()])
                .collect();
            diags.push(at(
                Code::ExtendsCycle,
                format!("extends leads back to a file on the way: {}", way.join(" -> ")),
                "remove the extends that closes the circle; a base never extends a profile built on it",
            ));
            continue;
        }
        if chain.len() > MAX_DEPTH {
            diags.push(at(
                Code::ExtendsTooDeep,
                format!("bases nest deeper than {MAX_DEPTH} levels"),
                "flatten the chain: a profile and a few shared bases are easier to review",
            ));
            continue;
        }
        let bytes = match crate::fsio::read_regular(&path, super::MAX_PROFILE_BYTES as u64) {
            Ok(b) => b,
            Err(e) => {
                let help = match e {
                    ReadError::NotFound => {
                        "check the path: extends is relative to the file that says it"
                    }
                    _ => "extends names a regular TOML file of at most 4 MiB",
                };
                diags.push(at(
                    Code::BaseUnreadable,
                    format!("cannot read the base {}: {e}", path.display()),
                    help,
                ));
                continue;
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            diags.push(at(
                Code::BaseUnreadable,
                format!("the base {} is not UTF-8 text", path.display()),
                "save the file as UTF-8",
            ));
            continue;
        };
        layers.add(&path, text.len());
        let index = layers.layers.len() - 1;
        files.push(Read::empty());
        chain.push((identity, path));
        read_bases(&text, index, layers, files, chain, diags);
        chain.pop();
        files[index].text = text;
        children.push(index);
    }
    files[of].extends = children;
}

/// The paths `extends` names, with their spans in its file: a string or an array of strings.
fn extends_paths(
    file: &Path,
    v: &Spanned<DeValue<'_>>,
    offset: usize,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Spanned<String>> {
    let wrong = |span: Range<usize>| {
        Diagnostic::new(
            Code::Schema,
            file,
            Some(span.start + offset..span.end + offset),
            "extends must be a path or a list of paths",
        )
        .help("write extends = \"base.toml\" or extends = [\"base.toml\", \"eu.toml\"], relative to this file")
    };
    match v.get_ref() {
        DeValue::String(s) => vec![Spanned::new(v.span(), s.to_string())],
        DeValue::Array(items) => items
            .iter()
            .filter_map(|i| match i.get_ref() {
                DeValue::String(s) => Some(Spanned::new(i.span(), s.to_string())),
                _ => {
                    diags.push(wrong(i.span()));
                    None
                }
            })
            .collect(),
        _ => {
            diags.push(wrong(v.span()));
            Vec::new()
        }
    }
}

/// Phase 2: the tree of file `of` with its bases merged under it. `trees[i]` is file `i`
/// parsed, its spans already in the offset space; each is taken once.
pub(crate) fn merged<'t>(
    of: usize,
    files: &[Read],
    trees: &mut Vec<Option<DeTable<'t>>>,
    layers: &mut Layers,
    diags: &mut Vec<Diagnostic>,
) -> DeTable<'t> {
    let mut base: Option<DeTable<'t>> = None;
    for &child in &files[of].extends {
        let tree = merged(child, files, trees, layers, diags);
        match &mut base {
            None => base = Some(tree),
            Some(acc) => merge(acc, tree, "", layers, diags),
        }
    }
    let mut own = trees[of].take().unwrap_or_default();
    own.remove("extends");
    let mut base = base.unwrap_or_default();
    merge(&mut base, own, "", layers, diags);
    base
}

/// Parse base `i` of `files` for good: its tree with every span moved to its place.
pub(crate) fn parse_base<'t>(
    i: usize,
    files: &'t [Read],
    layers: &Layers,
) -> Result<DeTable<'t>, Box<Diagnostic>> {
    let layer = &layers.layers[i];
    let by = layer.start;
    let tree = DeTable::parse(&files[i].text).map_err(|e| {
        let local = e.span().unwrap_or(0..0);
        Box::new(
            Diagnostic::new(
                Code::Syntax,
                &layer.path,
                Some(local.start + by..local.end + by),
                format!("TOML syntax error: {}", e.message().trim_end()),
            )
            .help("fix the TOML syntax at this place"),
        )
    })?;
    Ok(shift_table(tree.into_inner(), by))
}

fn shift_table(t: DeTable<'_>, by: usize) -> DeTable<'_> {
    t.into_iter()
        .map(|(k, v)| {
            let ks = k.span();
            (
                Spanned::new(ks.start + by..ks.end + by, k.into_inner()),
                shift_value(v, by),
            )
        })
        .collect()
}

fn shift_value(v: Spanned<DeValue<'_>>, by: usize) -> Spanned<DeValue<'_>> {
    let span = v.span();
    let value = match v.into_inner() {
        DeValue::Table(t) => DeValue::Table(shift_table(t, by)),
        DeValue::Array(a) => {
            let mut out = DeArray::new();
            for item in take_items(a) {
                out.push(shift_value(item, by));
            }
            DeValue::Array(out)
        }
        leaf => leaf,
    };
    Spanned::new(span.start + by..span.end + by, value)
}

/// Merge `over` onto `base`: tables key by key, the keyed arrays by `name`, everything else
/// replaced (where the replaced value was is kept for labels). `at` is the dotted key of `base`.
fn merge<'i>(
    base: &mut DeTable<'i>,
    over: DeTable<'i>,
    at: &str,
    layers: &mut Layers,
    diags: &mut Vec<Diagnostic>,
) {
    for (key, value) in over {
        let name = key.get_ref().to_string();
        let keyed = KEYED.iter().any(|(t, k)| *t == at && *k == name);
        match base.get_mut(name.as_str()) {
            Some(existing) if keyed => {
                let inherited =
                    std::mem::replace(existing, Spanned::new(0..0, DeValue::Boolean(false)));
                *existing = keyed_merge(Some(inherited), value, layers, diags);
            }
            Some(existing)
                if matches!(
                    (existing.get_ref(), value.get_ref()),
                    (DeValue::Table(_), DeValue::Table(_))
                ) =>
            {
                let (DeValue::Table(inherited), DeValue::Table(own)) =
                    (existing.get_mut(), value.into_inner())
                else {
                    unreachable!("both are tables")
                };
                let path = if at.is_empty() {
                    name.clone()
                } else {
                    format!("{at}.{name}")
                };
                merge(inherited, own, &path, layers, diags);
            }
            Some(existing) => {
                layers.overrides.push((value.span(), existing.span()));
                base.remove(name.as_str());
                base.insert(key, value);
            }
            None if keyed => {
                let value = keyed_merge(None, value, layers, diags);
                base.insert(key, value);
            }
            None => {
                base.insert(key, value);
            }
        }
    }
}

/// The items of an array, moved out (a `DeArray` has no owning iterator).
fn take_items(mut a: DeArray<'_>) -> Vec<Spanned<DeValue<'_>>> {
    a.iter_mut()
        .map(|item| std::mem::replace(item, Spanned::new(0..0, DeValue::Boolean(false))))
        .collect()
}

/// The `name` of an entry of a keyed array.
fn entry_name<'a>(v: &'a Spanned<DeValue<'_>>) -> Option<&'a str> {
    match v.get_ref() {
        DeValue::Table(t) => match t.get("name").map(Spanned::get_ref) {
            Some(DeValue::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// Merge the entries of `over` onto those of `base` by `name`: an inherited name merges key by
/// key, a new one is appended, `remove = true` deletes the inherited entry. Entries keep the
/// inherited order. Each inherited entry is matched once, so a name an overlay lists twice stays
/// twice, for the duplicate check to report.
fn keyed_merge<'i>(
    base: Option<Spanned<DeValue<'i>>>,
    over: Spanned<DeValue<'i>>,
    layers: &mut Layers,
    diags: &mut Vec<Diagnostic>,
) -> Spanned<DeValue<'i>> {
    let span = over.span();
    let over_items = match over.into_inner() {
        DeValue::Array(a) => take_items(a),
        // Not an array of tables: the overlay wins, and the merged check reports its type.
        other => return Spanned::new(span, other),
    };
    let mut items: Vec<Option<Spanned<DeValue<'i>>>> = match base.map(Spanned::into_inner) {
        Some(DeValue::Array(a)) => take_items(a).into_iter().map(Some).collect(),
        _ => Vec::new(),
    };
    let mut inherited: std::collections::HashMap<String, usize> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| Some((entry_name(item.as_ref()?)?.to_string(), i)))
        .collect();
    let file = layers.layers[0].path.clone();
    for mut item in over_items {
        let remove = match item.get_mut() {
            DeValue::Table(t) => t.remove("remove"),
            _ => None,
        };
        let name = entry_name(&item).map(str::to_string);
        let found = name.as_deref().and_then(|n| inherited.remove(n));
        let removing = match remove.as_ref().map(Spanned::get_ref) {
            None | Some(DeValue::Boolean(false)) => false,
            Some(DeValue::Boolean(true)) => true,
            Some(_) => {
                diags.push(
                    Diagnostic::new(
                        Code::Schema,
                        &file,
                        remove.as_ref().map(Spanned::span),
                        "remove must be true or false",
                    )
                    .help("write remove = true to delete the inherited entry of this name"),
                );
                continue;
            }
        };
        if removing {
            let at = remove.as_ref().map(Spanned::span);
            let others = matches!(item.get_ref(), DeValue::Table(t) if t.len() > 1);
            match found {
                Some(i) if !others => items[i] = None,
                Some(_) => diags.push(
                    Diagnostic::new(
                        Code::RemoveEntry,
                        &file,
                        at,
                        "an entry with remove = true takes no other key than name",
                    )
                    .help("to change the inherited entry, leave remove out; to delete it, keep only name and remove"),
                ),
                None => {
                    let name = name.unwrap_or_default();
                    let closest = inherited
                        .keys()
                        .map(|k| (strsim::damerau_levenshtein(&name, k), k))
                        .filter(|(d, k)| *d <= 2 && *d < k.len())
                        .min();
                    let help = match closest {
                        Some((_, k)) => format!("did you mean '{}'?", k.escape_debug()),
                        None => "check the name against the bases this file extends, or delete this entry".into(),
                    };
                    diags.push(
                        Diagnostic::new(
                            Code::RemoveEntry,
                            &file,
                            at,
                            format!(
                                "remove = true, but no base has an entry named '{}'",
                                name.escape_debug()
                            ),
                        )
                        .help(help),
                    );
                }
            }
            continue;
        }
        match found.and_then(|i| items[i].as_mut()) {
            Some(slot)
                if matches!(
                    (slot.get_ref(), item.get_ref()),
                    (DeValue::Table(_), DeValue::Table(_))
                ) =>
            {
                let (DeValue::Table(inherited), DeValue::Table(own)) =
                    (slot.get_mut(), item.into_inner())
                else {
                    unreachable!("both are tables")
                };
                merge(inherited, own, "entry", layers, diags);
            }
            Some(slot) => *slot = item,
            None => items.push(Some(item)),
        }
    }
    let mut array = DeArray::new();
    for item in items.into_iter().flatten() {
        array.push(item);
    }
    Spanned::new(span, DeValue::Array(array))
}
