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

/// `document` (one top-level block mapping, as [`to_string`] writes it) as the value of `key`
/// in a mapping: every line two spaces deeper, empty lines left empty. Block YAML means the
/// same after a uniform shift, so one serialized text can be both a file and part of an object
/// (a block scalar's indentation indicator counts from its parent, which moves with it).
pub fn nest(key: &str, document: &str) -> String {
    let mut out = String::with_capacity(key.len() + 2 + document.len() + document.len() / 16);
    out.push_str(key);
    out.push_str(":\n");
    indent_lines(&mut out, document, "  ");
    out
}

/// The probe [`text_map`] serializes for a file's header: one line, one final newline, so the
/// serializer picks the header (`|`, no indicator) that a text of the same shape gets.
const PROBE: &str = "x\n";
const PROBE_BODY: &str = "  x\n";

/// `name: {file: text, ...}` as one top-level mapping entry, byte for byte what [`to_string`]
/// writes for it (`name` a plain key, such as a ConfigMap's `data`). A multi-line
/// printable-ASCII text (a dashboard's JSON, a server configuration) gets the serializer's own
/// `file: |` header and its lines written here: the serializer's checks walk every character
/// of such a text several times, which made one dashboard ConfigMap a sixth of a render. Any
/// other file goes through the serializer whole; a property test holds both paths to the same
/// bytes.
pub fn text_map(name: &str, files: &std::collections::BTreeMap<String, String>) -> String {
    if files.is_empty() {
        return to_string(&std::collections::BTreeMap::from([(name, files)]));
    }
    let mut out = String::new();
    out.push_str(name);
    out.push_str(":\n");
    for (key, text) in files {
        let one = |text: &str| to_string(&std::collections::BTreeMap::from([(key, text)]));
        // The serializer's header for this key, from a probe of the same shape.
        let header = plain_literal(text)
            .then(|| one(PROBE))
            .and_then(|probe| probe.strip_suffix(PROBE_BODY).map(str::to_string));
        match header {
            Some(header) => {
                out.push_str("  ");
                out.push_str(&header);
                indent_lines(&mut out, text, "    ");
            }
            None => indent_lines(&mut out, &one(text), "  "),
        }
    }
    out
}

/// `text`'s lines appended to `out`, each but the empty ones after `indent`.
fn indent_lines(out: &mut String, text: &str, indent: &str) {
    let mut rest = text;
    while !rest.is_empty() {
        // A plain byte scan: lines are short, and `split_inclusive`'s searcher costs more
        // per line than the scan does.
        let end = rest
            .bytes()
            .position(|b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let (line, tail) = rest.split_at(end);
        if line != "\n" {
            out.push_str(indent);
        }
        out.push_str(line);
        rest = tail;
    }
}

/// The shape [`text_map`] writes itself: printable ASCII lines, the first starting with neither
/// a space nor a line break (no indentation indicator), exactly one final newline (clip
/// chomping).
fn plain_literal(text: &str) -> bool {
    let b = text.as_bytes();
    b.first().is_some_and(|&c| c != b' ' && c != b'\n')
        && text.ends_with('\n')
        && !text.ends_with("\n\n")
        // In blocks without an early exit, which the compiler vectorizes.
        && b.chunks(64).all(|chunk| {
            chunk
                .iter()
                .fold(true, |ok, &c| ok & ((c == b'\n') | (0x20..=0x7e).contains(&c)))
        })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    /// Strings that stress block scalars: line breaks, blank and space-only lines, edge spaces,
    /// indicators, quotes, non-ASCII.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("\n".to_string()),
                Just("  ".to_string()),
                Just("- ".to_string()),
                Just(": ".to_string()),
                Just("#".to_string()),
                Just("|".to_string()),
                Just("\"'".to_string()),
                "[a-z{}]{1,6}",
                "\\PC{1,3}",
            ],
            0..12,
        )
        .prop_map(|parts| parts.concat())
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            text().prop_map(Value::String),
            any::<bool>().prop_map(Value::Bool)
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// A nested document reads back as the same value under its key.
        #[test]
        fn nested_documents_keep_their_value(
            doc in proptest::collection::btree_map("[a-z]{1,4}", value(), 1..4)
        ) {
            let doc = Value::Object(doc.into_iter().collect());
            let nested = super::nest("spec", &super::to_string(&doc));
            let back: Value = serde_saphyr::from_str(&nested).map_err(|e| TestCaseError::fail(format!("{e}\n{nested}")))?;
            prop_assert_eq!(back, serde_json::json!({ "spec": doc }), "{}", nested);
        }
    }

    /// Keys that need quoting, texts of every shape, and many of the one shape `entry` writes
    /// itself (multi-line printable ASCII with blank, indented and space-only lines).
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z][a-z0-9.-]{0,20}",
            Just("yes".to_string()),
            Just("1".to_string()),
            Just("- a".to_string()),
            Just("a: b".to_string()),
            Just("#x".to_string()),
            "\\PC{1,8}",
        ]
    }

    fn ascii_lines() -> impl Strategy<Value = String> {
        proptest::collection::vec("[ -~]{0,12}|  [ -~]{0,6}| {1,3}", 1..8).prop_map(|lines| {
            let mut t = lines.join("\n");
            t.push('\n');
            t
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn text_maps_are_what_the_serializer_writes(
            files in proptest::collection::btree_map(key(), prop_oneof![
                ascii_lines(),
                text(),
                ascii_lines().prop_map(|t| format!("{t}\n")),
                ascii_lines().prop_map(|t| t.trim_end().to_string()),
            ], 0..4),
        ) {
            let whole = super::to_string(&std::collections::BTreeMap::from([("data", &files)]));
            prop_assert_eq!(super::text_map("data", &files), whole);
        }
    }

    #[test]
    fn dashboard_shaped_texts_take_the_line_path() {
        assert!(super::plain_literal("{\n  \"a\": 1\n\n}\n"));
        for t in ["", " x\n", "\nx\n", "x", "x\n\n", "x\ty\n", "\u{e9}\n"] {
            assert!(!super::plain_literal(t), "{t:?}");
        }
    }

    #[test]
    fn long_single_line_strings_stay_on_one_line() {
        let expr = format!("sum by (cluster) (rate(x[5m])) > {}", "1 + ".repeat(40));
        let doc = super::to_string(&std::collections::BTreeMap::from([("expr", &expr)]));
        assert_eq!(doc.lines().count(), 1, "{doc}");
    }

    #[test]
    fn nest_indents_every_line_but_empty_ones() {
        assert_eq!(
            super::nest("spec", "a: |-\n  x\n\n  y\nb: 1\n"),
            "spec:\n  a: |-\n    x\n\n    y\n  b: 1\n"
        );
    }
}
