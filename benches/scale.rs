//! In-process scale benchmark: parse, validate and render a profile with 10, 100, 1,000 and
//! 10,000 engine roles (no disk writes). Prints one `scale roles=N median_ms=X` line per size,
//! which `scripts/bench` turns into its table. A plain harness (std::time, medians after a
//! warm-up) keeps the build small; run it with `cargo bench --bench scale`.

use std::path::Path;
use std::time::{Duration, Instant};

#[path = "../tests/common/roles.rs"]
mod roles;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Where a single render's time goes, first use in a fresh process: the fixed costs that
/// whole-process timings cannot avoid. Printed as `phase NAME ms=X`.
fn phases() {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    let path = Path::new("profiles/active.toml");
    let text = std::fs::read(path).unwrap();
    let t = Instant::now();
    let p = baogen::profile::parse(path, &text).unwrap();
    println!("phase parse-and-validate-first ms={:.3}", ms(t));
    let t = Instant::now();
    let p2 = baogen::profile::parse(path, &text).unwrap();
    println!("phase parse-and-validate-again ms={:.3}", ms(t));
    let t = Instant::now();
    let first = baogen::emit::render(&p);
    println!("phase render-first ms={:.3}", ms(t));
    let t = Instant::now();
    let again = baogen::emit::render(&p2);
    println!("phase render-again ms={:.3}", ms(t));
    assert_eq!(first.files, again.files);
}

fn main() {
    phases();
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run one quick round.
    let quick = !std::env::args().any(|a| a == "--bench");
    for n in [10usize, 100, 1_000, 10_000] {
        let text = roles::profile_with_roles(n);
        let path = Path::new("bench.toml");
        let run = || {
            let p = baogen::profile::parse(path, text.as_bytes())
                .expect("the generated profile is valid");
            let art = baogen::emit::render(&p);
            assert_eq!(
                art.files
                    .keys()
                    .filter(|k| k.starts_with("openbao/kubernetes-secrets/roles/"))
                    .count(),
                n
            );
        };
        let rounds = if quick { 1 } else { (20_000 / n).clamp(5, 50) };
        run(); // warm-up: one-time initialization (schema compilation, template parsing)
        let samples: Vec<Duration> = (0..rounds)
            .map(|_| {
                let t = Instant::now();
                run();
                t.elapsed()
            })
            .collect();
        println!(
            "scale roles={n} median_ms={:.3} rounds={rounds}",
            median(samples).as_secs_f64() * 1e3
        );
    }
}
