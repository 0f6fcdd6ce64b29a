//! Diagnostics: every problem found in a profile, as data. Validation collects all of them in
//! one run; the CLI prints them once, at the end, in the format asked for (`report`).

mod code;
mod human;
pub mod report;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use code::Code;
pub use human::render_all;

/// The text of every input file, as read once: diagnostics are cut from the bytes that were
/// checked, never from a second read (which could block on a FIFO or see other content).
pub type Sources = std::collections::BTreeMap<PathBuf, String>;

/// One problem, at one place in one input file, with the other places that explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub file: PathBuf,
    /// Byte range in the file, when the problem has a place.
    pub span: Option<Range<usize>>,
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// Secondary places: the other side of a clash, the first of two declarations.
    pub labels: Vec<Label>,
}

/// A secondary place a diagnostic points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub file: PathBuf,
    pub span: Range<usize>,
    pub message: String,
}

impl Diagnostic {
    pub fn new(
        code: Code,
        file: &Path,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            file: file.to_path_buf(),
            span,
            message: message.into(),
            help: None,
            labels: Vec::new(),
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Point also at `span` in the same file, saying `message` there.
    pub fn label(mut self, span: Range<usize>, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            file: self.file.clone(),
            span,
            message: message.into(),
        });
        self
    }

    /// Point also at a place in another file (the other side of a clash across files).
    pub fn label_in(mut self, label: Label) -> Self {
        self.labels.push(label);
        self
    }

    /// 1-based (line, column) of the start and of the end, when the problem has a place.
    pub fn position(&self, source: Option<&str>) -> Option<(Position, Position)> {
        let (src, span) = (source?, self.span.as_ref()?);
        Some((position(src, span.start), position(src, span.end)))
    }

    /// `file:line:column` (1-based, column in characters), or just the file.
    pub fn location(&self, source: &str) -> String {
        match self.position(Some(source)) {
            Some((at, _)) => format!("{}:{}:{}", self.file.display(), at.line, at.column),
            None => self.file.display().to_string(),
        }
    }
}

impl Label {
    /// 1-based (line, column) of the start and of the end, when the file's text is known.
    pub fn position(&self, source: Option<&str>) -> Option<(Position, Position)> {
        let src = source?;
        Some((position(src, self.span.start), position(src, self.span.end)))
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.file.display(),
            self.code,
            self.message
        )
    }
}

/// A 1-based line and character column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

fn position(source: &str, offset: usize) -> Position {
    let (line, column) = line_col(source, offset);
    Position { line, column }
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

/// Keep a span inside the source and on character boundaries.
fn clamp(src: &str, span: Range<usize>) -> Range<usize> {
    let start = floor_char_boundary(src, span.start.min(src.len()));
    let end = floor_char_boundary(src, span.end.min(src.len())).max(start);
    start..end
}
