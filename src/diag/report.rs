//! Problems as data, for CI and editors: JSON Lines, SARIF 2.1.0 (what GitHub code scanning
//! uploads) and GitHub workflow commands. One `Report` holds everything a command found: the
//! diagnostics about its inputs, the drift `check` saw, and errors that have no file.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::{Code, Diagnostic, Position, Sources};

/// `--message-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

/// One difference between the committed output and what a profile renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub code: Code,
    /// The profile whose output this is.
    pub profile: PathBuf,
    /// The output file, as the comparison read it.
    pub file: PathBuf,
    pub message: String,
    /// The unified diff, for a changed file.
    pub diff: Option<String>,
}

impl Drift {
    /// The committed file's first changed line, from the diff's first hunk header.
    fn line(&self) -> usize {
        self.diff
            .as_deref()
            .and_then(|d| d.lines().find_map(|l| l.strip_prefix("@@ -")))
            .and_then(|h| h.split([',', ' ']).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(1usize)
            .max(1)
    }
}

/// What one command run found.
#[derive(Debug, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub drift: Vec<Drift>,
    /// Errors about no input file (a failed write, an unreachable server).
    pub errors: Vec<String>,
    /// `check` fails on drift; `diff` only shows it.
    pub drift_is_error: bool,
}

impl Report {
    /// The report in a machine format; `Human` is printed by the CLI itself.
    pub fn render(&self, format: Format, sources: &Sources) -> String {
        match format {
            Format::Human => String::new(),
            Format::Json => self.json_lines(sources),
            Format::Sarif => {
                let mut s = serde_json::to_string_pretty(&self.sarif(sources))
                    .expect("a JSON value serializes");
                s.push('\n');
                s
            }
            Format::Github => self.github(sources),
        }
    }

    fn drift_level(&self) -> &'static str {
        if self.drift_is_error {
            "error"
        } else {
            "warning"
        }
    }

    fn json_lines(&self, sources: &Sources) -> String {
        let mut out = String::new();
        let mut line = |v: Value| {
            out.push_str(&v.to_string());
            out.push('\n');
        };
        for d in &self.diagnostics {
            let src = source(sources, &d.file);
            let mut o = Map::new();
            o.insert("code".into(), json!(d.code.id()));
            o.insert("severity".into(), json!("error"));
            o.insert("file".into(), json!(path_text(&d.file)));
            place(&mut o, d.position(src));
            o.insert("message".into(), json!(d.message));
            o.insert("help".into(), json!(d.help));
            let labels: Vec<Value> = d
                .labels
                .iter()
                .map(|l| {
                    let mut o = Map::new();
                    o.insert("file".into(), json!(path_text(&l.file)));
                    place(&mut o, l.position(source(sources, &l.file)));
                    o.insert("message".into(), json!(l.message));
                    Value::Object(o)
                })
                .collect();
            o.insert("labels".into(), Value::Array(labels));
            line(Value::Object(o));
        }
        for d in &self.drift {
            line(json!({
                "code": d.code.id(),
                "severity": self.drift_level(),
                "file": path_text(&d.file),
                "line": d.line(),
                "profile": path_text(&d.profile),
                "message": d.message,
                "diff": d.diff,
            }));
        }
        for e in &self.errors {
            line(json!({"code": null, "severity": "error", "message": e}));
        }
        out
    }

    fn sarif(&self, sources: &Sources) -> Value {
        let rules: Vec<Value> = Code::ALL
            .iter()
            .map(|c| {
                json!({
                    "id": c.id(),
                    "name": format!("{c:?}"),
                    "shortDescription": {"text": c.summary()},
                })
            })
            .collect();
        let rule_index = |c: Code| Code::ALL.iter().position(|x| *x == c).unwrap_or(0);
        let mut results = Vec::new();
        for d in &self.diagnostics {
            let src = source(sources, &d.file);
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let related: Vec<Value> = d
                .labels
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let region = l.position(source(sources, &l.file));
                    json!({
                        "id": i,
                        "physicalLocation": physical(&l.file, region),
                        "message": {"text": l.message},
                    })
                })
                .collect();
            let mut result = json!({
                "ruleId": d.code.id(),
                "ruleIndex": rule_index(d.code),
                "level": "error",
                "message": {"text": text},
                "locations": [{"physicalLocation": physical(&d.file, d.position(src))}],
            });
            if !related.is_empty() {
                result["relatedLocations"] = Value::Array(related);
            }
            results.push(result);
        }
        for d in &self.drift {
            let at = Position {
                line: d.line(),
                column: 1,
            };
            let mut text = format!("{} (rendered by {})", d.message, d.profile.display());
            if let Some(diff) = &d.diff {
                text.push_str("\n\n");
                text.push_str(diff);
            }
            results.push(json!({
                "ruleId": d.code.id(),
                "ruleIndex": rule_index(d.code),
                "level": self.drift_level(),
                "message": {"text": text},
                "locations": [{"physicalLocation": physical(&d.file, Some((at, at)))}],
            }));
        }
        let notifications: Vec<Value> = self
            .errors
            .iter()
            .map(|e| json!({"level": "error", "message": {"text": e}}))
            .collect();
        json!({
            "version": "2.1.0",
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [{
                "tool": {"driver": {
                    "name": "baogen",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }},
                "columnKind": "unicodeCodePoints",
                "invocations": [{
                    "executionSuccessful": self.errors.is_empty(),
                    "toolExecutionNotifications": notifications,
                }],
                "results": results,
            }],
        })
    }

    fn github(&self, sources: &Sources) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            let mut props = vec![("file", path_text(&d.file))];
            if let Some((s, e)) = d.position(source(sources, &d.file)) {
                props.extend([
                    ("line", s.line.to_string()),
                    ("col", s.column.to_string()),
                    ("endLine", e.line.to_string()),
                    ("endColumn", e.column.to_string()),
                ]);
            }
            props.push(("title", d.code.id().to_string()));
            let mut text = d.message.clone();
            for l in &d.labels {
                let at = l
                    .position(source(sources, &l.file))
                    .map_or(String::new(), |(p, _)| format!(":{}:{}", p.line, p.column));
                text.push_str(&format!("\n{}{at}: {}", path_text(&l.file), l.message));
            }
            if let Some(help) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            out.push_str(&command("error", &props, &text));
        }
        for d in &self.drift {
            let props = [
                ("file", path_text(&d.file)),
                ("line", d.line().to_string()),
                ("title", d.code.id().to_string()),
            ];
            let mut text = format!("{} (rendered by {})", d.message, d.profile.display());
            if let Some(diff) = &d.diff {
                text.push('\n');
                text.push_str(diff);
            }
            out.push_str(&command(self.drift_level(), &props, &text));
        }
        for e in &self.errors {
            out.push_str(&command("error", &[], e));
        }
        out
    }
}

/// `line`, `column` and `end` of a JSON object, when the place is known.
fn place(o: &mut Map<String, Value>, at: Option<(Position, Position)>) {
    if let Some((start, end)) = at {
        o.insert("line".into(), json!(start.line));
        o.insert("column".into(), json!(start.column));
        o.insert(
            "end".into(),
            json!({"line": end.line, "column": end.column}),
        );
    }
}

fn source<'a>(sources: &'a Sources, file: &Path) -> Option<&'a str> {
    sources.get(file).map(String::as_str)
}

fn path_text(p: &Path) -> String {
    p.display().to_string()
}

/// A SARIF physicalLocation: a relative URI reference (what code scanning resolves against
/// the checkout), percent-encoded, and the region when there is one.
fn physical(file: &Path, region: Option<(Position, Position)>) -> Value {
    let mut loc = json!({"artifactLocation": {"uri": uri(file)}});
    if let Some((s, e)) = region {
        loc["region"] = json!({
            "startLine": s.line,
            "startColumn": s.column,
            "endLine": e.line,
            "endColumn": e.column,
        });
    }
    loc
}

/// RFC 3986: unreserved characters and `/` stay, every other byte is percent-encoded; an
/// absolute path becomes a `file://` URI.
fn uri(file: &Path) -> String {
    let text = file.to_string_lossy();
    let mut out = String::new();
    if file.is_absolute() {
        out.push_str("file://");
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `::error file=...,line=...::message`, with GitHub's escaping: `%`, CR and LF everywhere,
/// and `:` and `,` in property values too.
fn command(level: &str, props: &[(&str, String)], message: &str) -> String {
    let esc = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let props: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{k}={}", esc(v).replace(':', "%3A").replace(',', "%2C")))
        .collect();
    let sep = if props.is_empty() { "" } else { " " };
    format!("::{level}{sep}{}::{}\n", props.join(","), esc(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_escape_what_would_end_a_property_or_a_line() {
        let line = command("error", &[("file", "a,b:c%.toml".into())], "one\ntwo\r%");
        assert_eq!(line, "::error file=a%2Cb%3Ac%25.toml::one%0Atwo%0D%25\n");
        assert_eq!(command("warning", &[], "x"), "::warning::x\n");
    }

    #[test]
    fn uris_are_percent_encoded_references() {
        assert_eq!(
            uri(Path::new("profiles/my prod#1.toml")),
            "profiles/my%20prod%231.toml"
        );
        assert_eq!(uri(Path::new("/abs/é.toml")), "file:///abs/%C3%A9.toml");
    }

    #[test]
    fn drift_points_at_the_first_hunk() {
        let d = Drift {
            code: Code::DriftChanged,
            profile: "p.toml".into(),
            file: "out/x.yaml".into(),
            message: "changed".into(),
            diff: Some("--- a\n+++ b\n@@ -7,3 +7,4 @@\n".into()),
        };
        assert_eq!(d.line(), 7);
        let none = Drift { diff: None, ..d };
        assert_eq!(none.line(), 1);
    }
}
