//! Diagnostics: every problem found in a profile, pointing into the file like cargo does.
//! Validation collects all of them in one run; the CLI renders them once, at the end.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// The text of every input file, as read once: diagnostics are cut from the bytes that were
/// checked, never from a second read (which could block on a FIFO or see other content).
pub type Sources = std::collections::BTreeMap<PathBuf, String>;

/// One problem in one input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// Byte range in the file, when the problem has a place.
    pub span: Option<Range<usize>>,
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &Path, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            span,
            message: message.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:column` (1-based, column in characters), or just the file.
    pub fn location(&self, source: &str) -> String {
        match &self.span {
            Some(span) => {
                let (line, col) = line_col(source, span.start);
                format!("{}:{line}:{col}", self.file.display())
            }
            None => self.file.display().to_string(),
        }
    }

    /// Render with a snippet of the offending line. `color` only on a terminal.
    pub fn render(&self, source: Option<&str>, color: bool) -> String {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let path = self.file.display().to_string();
        let title = Level::ERROR.primary_title(&self.message);
        let mut groups = Vec::new();
        match (source, &self.span) {
            (Some(src), Some(span)) => {
                let span = clamp(src, span.clone());
                groups.push(
                    title.element(
                        Snippet::source(src)
                            .path(&path)
                            .fold(true)
                            .annotation(AnnotationKind::Primary.span(span)),
                    ),
                );
            }
            _ => groups
                .push(Group::with_title(title).element(annotate_snippets::Origin::path(&path))),
        }
        if let Some(help) = &self.help {
            groups.push(Group::with_title(Level::HELP.secondary_title(help)));
        }
        renderer.render(&groups).to_string()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.message)
    }
}

/// 1-based line and character column of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = source[line_start..offset].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Keep a span inside the source and on character boundaries; an empty span at the very end
/// still points at the last character so the snippet shows something.
fn clamp(src: &str, span: Range<usize>) -> Range<usize> {
    let start = floor_char_boundary(src, span.start.min(src.len()));
    let end = floor_char_boundary(src, span.end.min(src.len())).max(start);
    start..end
}

/// Render a batch of diagnostics for humans.
pub fn render_all(
    diags: &[Diagnostic],
    source_of: impl Fn(&Path) -> Option<String>,
    color: bool,
) -> String {
    let mut out = String::new();
    for d in diags {
        let src = source_of(&d.file);
        out.push_str(&d.render(src.as_deref(), color));
        out.push_str("\n\n");
    }
    let n = diags.len();
    out.push_str(&format!(
        "error: {n} problem{} found; nothing was written\n",
        if n == 1 { "" } else { "s" }
    ));
    out
}
