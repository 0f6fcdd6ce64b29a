//! Replays every input the fuzzer kept (fuzz/corpus/profile) through the whole pipeline, so a
//! crash the fuzzer once found stays fixed. The 10-minute fuzz run itself is `scripts/fuzz`.

mod common;

#[test]
fn every_fuzz_corpus_input_runs_without_panicking() {
    let dir = common::root().join("fuzz/corpus/profile");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let bytes = std::fs::read(e.path()).unwrap();
        let result = std::panic::catch_unwind(|| baogen::profile::exercise(&bytes));
        assert!(result.is_ok(), "{} panics baogen", e.path().display());
        n += 1;
    }
    assert!(n >= 50, "the corpus has only {n} inputs");
}
