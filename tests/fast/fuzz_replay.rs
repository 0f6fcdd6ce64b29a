//! Replays every input the fuzzer kept (fuzz/corpus/profile) through the whole pipeline, so a
//! crash the fuzzer once found stays fixed. The 10-minute fuzz run itself is `scripts/fuzz`.

use crate::common;

#[test]
fn every_fuzz_corpus_input_runs_without_panicking() {
    let dir = common::root().join("fuzz/corpus/profile");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let bytes = std::fs::read(e.path()).unwrap();
        let result = std::panic::catch_unwind(|| baogen::fuzz::exercise(&bytes));
        assert!(result.is_ok(), "{} panics baogen", e.path().display());
        n += 1;
    }
    assert!(n >= 50, "the corpus has only {n} inputs");
}

/// The validator the jsonschema macro generates at build time agrees with the crate's run-time
/// validator on the same schema file, for every profile, bad profile and corpus input that is
/// TOML: the macro changes when the schema is compiled, not what it accepts.
#[test]
fn build_time_schema_validator_agrees_with_the_run_time_one() {
    let root = common::root();
    let schema: serde_json::Value =
        serde_json::from_str(baogen::profile::schema::committed()).unwrap();
    let runtime = jsonschema::draft7::new(&schema).unwrap();
    let mut inputs = Vec::new();
    for dir in [
        "fuzz/corpus/profile",
        "tests/bad",
        "profiles",
        "profiles/examples",
    ] {
        for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            if e.path().is_file() {
                inputs.push(std::fs::read(e.path()).unwrap());
            }
        }
    }
    let (mut valid, mut invalid) = (0, 0);
    for bytes in &inputs {
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        let Ok(table) = toml::from_str::<toml::Table>(text) else {
            continue;
        };
        let value = serde_json::to_value(table).unwrap();
        let expected = runtime.is_valid(&value);
        assert_eq!(
            baogen::profile::schema::is_valid(&value),
            expected,
            "the validators disagree on {value}"
        );
        if expected {
            valid += 1
        } else {
            invalid += 1
        }
    }
    assert!(
        valid >= 10 && invalid >= 50,
        "too few cases: {valid} valid, {invalid} invalid"
    );
}
