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
    for line in document.split_inclusive('\n') {
        if line != "\n" {
            out.push_str("  ");
        }
        out.push_str(line);
    }
    out
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

    #[test]
    fn nest_indents_every_line_but_empty_ones() {
        assert_eq!(
            super::nest("spec", "a: |-\n  x\n\n  y\nb: 1\n"),
            "spec:\n  a: |-\n    x\n\n    y\n  b: 1\n"
        );
    }
}
