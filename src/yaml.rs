//! YAML output. serde-saphyr quotes every string a YAML 1.1 reader (the Go YAML behind
//! `kubectl apply`) would misread as a boolean, number or date, such as `on`, `yes` or `0x1`.

use serde::Serialize;

fn options() -> serde_saphyr::SerializerOptions {
    let mut o = serde_saphyr::SerializerOptions::default();
    // Block scalars only for strings with newlines; long single-line strings stay on one line
    // so PromQL and paths read the same as in docs.
    o.folded_wrap_chars = usize::MAX;
    o
}

/// One YAML document, no leading `---`, ending in a newline.
pub fn to_string<T: Serialize>(value: &T) -> String {
    let mut s = serde_saphyr::to_string_with_options(value, options())
        .expect("emitted documents are plain data and always serialize");
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
