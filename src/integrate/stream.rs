//! YAML streams of Kubernetes objects, as Helm pipes them to a post-renderer.
//!
//! Documents are split on their `---` lines and each keeps its original text, so objects
//! baogen passes through leave byte for byte as they came (comments such as Helm's
//! `# Source:` included). Only a document baogen changes is serialized again.

use serde_json::Value;

/// One document of a stream: its original text and its parsed value.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The document as it appeared, without its `---` line, ending in a newline.
    pub text: String,
    /// 1-based line of the document's first line in the input, for errors.
    pub line: usize,
    pub value: Value,
    /// Set when baogen changed `value`: the document is serialized again on output.
    pub changed: bool,
}

/// `---` at column 0, alone or followed by a space or a comment, starts a document. YAML
/// forbids this line inside any scalar, so splitting on it is exact.
fn is_marker(line: &str) -> bool {
    let line = line.trim_end_matches(['\r', '\n']);
    line == "---" || line.starts_with("--- ") || line.starts_with("---\t")
}

fn is_end(line: &str) -> bool {
    let line = line.trim_end_matches(['\r', '\n']);
    line == "..." || line.starts_with("... ")
}

/// Parse a stream. Empty documents (only comments or blank lines) are dropped; every other
/// document must be a Kubernetes object.
pub fn read(input: &str, source: &str) -> Result<Vec<Doc>, String> {
    let mut chunks: Vec<(usize, String)> = vec![(1, String::new())];
    for (i, line) in input.split_inclusive('\n').enumerate() {
        if is_marker(line) {
            // Content after the marker (`--- {a: 1}`) belongs to the new document.
            let rest = line.trim_end_matches(['\r', '\n'])[3..].trim_start();
            let mut text = String::new();
            if !rest.is_empty() && !rest.starts_with('#') {
                text.push_str(rest);
                text.push('\n');
            }
            chunks.push((i + 1, text));
        } else if is_end(line) {
            chunks.push((i + 2, String::new()));
        } else {
            chunks.last_mut().expect("never empty").1.push_str(line);
        }
    }
    let mut docs = Vec::new();
    for (line, mut text) in chunks {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let value: Option<Value> = serde_saphyr::from_str(&text).map_err(|e| {
            format!(
                "{source}: the YAML document starting at line {line} does not parse: {}",
                first_line(&e.to_string())
            )
        })?;
        let Some(value) = value else { continue };
        check_object(&value)
            .map_err(|why| format!("{source}: the YAML document starting at line {line} {why}"))?;
        docs.push(Doc {
            text,
            line,
            value,
            changed: false,
        });
    }
    Ok(docs)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// A Kubernetes object: a mapping with string `apiVersion` and `kind` and a named `metadata`.
pub fn check_object(v: &Value) -> Result<(), String> {
    let Some(map) = v.as_object() else {
        return Err("is not a Kubernetes object (expected a mapping)".into());
    };
    for key in ["apiVersion", "kind"] {
        if !map.get(key).is_some_and(Value::is_string) {
            return Err(format!("is not a Kubernetes object: it has no `{key}`"));
        }
    }
    let meta = map.get("metadata");
    let named = ["name", "generateName"]
        .iter()
        .any(|k| meta.and_then(|m| m.get(k)).is_some_and(Value::is_string));
    if !named {
        return Err("is not a Kubernetes object: it has no `metadata.name`".into());
    }
    Ok(())
}

/// The stream again: unchanged documents as they came, changed and added ones serialized.
pub fn write(docs: &[Doc], added: &[Value]) -> String {
    let mut out = String::new();
    for d in docs {
        out.push_str("---\n");
        if d.changed {
            // Keep the leading comments (Helm's `# Source:`) of a document we re-serialize.
            for line in d.text.lines() {
                if line.starts_with('#') || line.trim().is_empty() {
                    out.push_str(line);
                    out.push('\n');
                } else {
                    break;
                }
            }
            out.push_str(&crate::yaml::to_string(&d.value));
        } else {
            out.push_str(&d.text);
        }
    }
    for v in added {
        out.push_str("---\n");
        out.push_str(&crate::yaml::to_string(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_markers_and_keeps_text() {
        let input = "---\n# Source: a.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n  x: |\n    --- not a marker\n";
        let docs = read(input, "stdin").unwrap();
        assert_eq!(docs.len(), 2);
        assert!(docs[0].text.starts_with("# Source: a.yaml\n"));
        assert_eq!(docs[1].value["data"]["x"], "--- not a marker\n");
        assert_eq!(
            write(&docs, &[]),
            input.replace("---\n# only a comment\n", "")
        );
    }

    #[test]
    fn rejects_non_objects_and_bad_yaml() {
        assert!(read("- a\n- b\n", "stdin")
            .unwrap_err()
            .contains("not a Kubernetes object"));
        assert!(read("apiVersion: v1\nkind: [\n", "stdin")
            .unwrap_err()
            .contains("line 1 does not parse"));
        assert!(read("---\napiVersion: v1\nkind: Pod\n", "stdin")
            .unwrap_err()
            .contains("metadata.name"));
    }
}
