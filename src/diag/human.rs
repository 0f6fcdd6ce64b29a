//! Diagnostics for people: cargo-style snippets with the code in the title
//! (`error[BG0302]: ...`), the primary place underlined and secondary places labelled.

use std::path::Path;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{clamp, Diagnostic};

impl Diagnostic {
    /// Render with a snippet of the offending line; `source_of` gives a file's text as read.
    pub fn render(&self, source_of: &dyn Fn(&Path) -> Option<String>, color: bool) -> String {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let path = self.file.display().to_string();
        let source = source_of(&self.file);
        // Secondary places, grouped by file: one snippet per file, in order of first mention.
        let mut others: Vec<FileLabels<'_>> = Vec::new();
        for l in &self.labels {
            let Some(text) = source_of(&l.file) else {
                continue;
            };
            let name = l.file.display().to_string();
            let span = clamp(&text, l.span.clone());
            match others.iter_mut().find(|(n, _, _)| *n == name) {
                Some((_, _, spans)) => spans.push((span, &l.message)),
                None => others.push((name, text, vec![(span, &l.message)])),
            }
        }
        let title = Level::ERROR.primary_title(&self.message).id(self.code.id());
        let mut group = match (&source, &self.span) {
            (Some(src), Some(span)) => {
                let mut snippet = Snippet::source(src.as_str())
                    .path(&path)
                    .fold(true)
                    .annotation(AnnotationKind::Primary.span(clamp(src, span.clone())));
                // Labels in the primary file share its snippet.
                if let Some(i) = others.iter().position(|(n, _, _)| *n == path) {
                    let (_, _, spans) = &others[i];
                    for (span, message) in spans {
                        snippet = snippet
                            .annotation(AnnotationKind::Context.span(span.clone()).label(*message));
                    }
                }
                title.element(snippet)
            }
            _ => Group::with_title(title).element(annotate_snippets::Origin::path(&path)),
        };
        for (name, text, spans) in &others {
            if *name == path && source.is_some() && self.span.is_some() {
                continue;
            }
            let mut snippet = Snippet::source(text.as_str()).path(name).fold(true);
            for (span, message) in spans {
                snippet =
                    snippet.annotation(AnnotationKind::Context.span(span.clone()).label(*message));
            }
            group = group.element(snippet);
        }
        let mut groups = vec![group];
        if let Some(help) = &self.help {
            groups.push(Group::with_title(Level::HELP.secondary_title(help)));
        }
        renderer.render(&groups).to_string()
    }
}

/// The secondary labels in one file: its name, its text, and (span, message) pairs.
type FileLabels<'a> = (String, String, Vec<(std::ops::Range<usize>, &'a str)>);

/// Render a batch of diagnostics for humans, with the closing count.
pub fn render_all(
    diags: &[Diagnostic],
    source_of: impl Fn(&Path) -> Option<String>,
    color: bool,
) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&d.render(&source_of, color));
        out.push_str("\n\n");
    }
    let n = diags.len();
    out.push_str(&format!(
        "error: {n} problem{} found; nothing was written\n",
        if n == 1 { "" } else { "s" }
    ));
    out
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::diag::{Code, Diagnostic, Label};

    fn label(file: &str, span: std::ops::Range<usize>, message: &str) -> Label {
        Label {
            file: PathBuf::from(file),
            span,
            message: message.into(),
        }
    }

    fn sources(path: &Path) -> Option<String> {
        match path.to_str() {
            Some("prod.toml") => Some("a = 1\nb = 2\n".into()),
            Some("base.toml") => Some("x = 1\ny = 2\nz = 3\n".into()),
            _ => None,
        }
    }

    #[test]
    fn labels_in_another_file_share_one_snippet_of_it() {
        let d = Diagnostic::new(Code::Schema, Path::new("prod.toml"), Some(0..1), "primary")
            .label_in(label("base.toml", 0..1, "first"))
            .label_in(label("base.toml", 12..13, "second"));
        let text = d.render(&sources, false);
        assert_eq!(text.matches("base.toml").count(), 1, "{text}");
        assert!(text.contains("first") && text.contains("second"), "{text}");
        assert!(text.contains("prod.toml:1:1"), "{text}");
    }

    #[test]
    fn labels_in_the_primary_file_join_its_snippet_and_others_keep_theirs() {
        let d = Diagnostic::new(Code::Schema, Path::new("prod.toml"), Some(6..7), "primary")
            .label(0..1, "same file")
            .label_in(label("base.toml", 6..7, "other file"));
        let text = d.render(&sources, false);
        assert_eq!(text.matches("prod.toml").count(), 1, "{text}");
        assert!(
            text.contains("same file") && text.contains("base.toml:2:1"),
            "{text}"
        );
        assert!(text.contains("other file"), "{text}");
        // Without a place for the primary, the file's labels still show.
        let d = Diagnostic::new(Code::Schema, Path::new("prod.toml"), None, "primary")
            .label_in(label("prod.toml", 0..1, "here"));
        assert!(d.render(&sources, false).contains("here"));
    }
}
