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

/// Parse, validate and render a profile with `n` engine roles; the time it took.
fn render_once(text: &str, n: usize) -> Duration {
    let t = Instant::now();
    let p = baogen::profile::parse(Path::new("bench.toml"), text.as_bytes())
        .expect("the generated profile is valid");
    let art = baogen::emit::render(&p);
    let took = t.elapsed();
    let roles = art
        .files
        .keys()
        .filter(|k| k.starts_with("openbao/kubernetes-secrets/roles/"))
        .count();
    assert_eq!(roles, n);
    took
}

fn main() {
    phases();
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run one quick round.
    let quick = !std::env::args().any(|a| a == "--bench");
    let sizes = [10usize, 100, 1_000, 10_000];
    let texts: Vec<String> = sizes
        .iter()
        .map(|&n| roles::profile_with_roles(n))
        .collect();
    for (text, &n) in texts.iter().zip(&sizes) {
        render_once(text, n); // warm-up: one-time initialization (template parsing)
    }
    // Rounds visit every size in turn, so a slow spell of this VM lands on all sizes alike
    // instead of skewing the 10,000/1,000 ratio; small sizes run several times per round.
    let rounds = if quick { 1 } else { 15 };
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); sizes.len()];
    for _ in 0..rounds {
        for (i, (text, &n)) in texts.iter().zip(&sizes).enumerate() {
            for _ in 0..(1_000 / n).max(1) {
                samples[i].push(render_once(text, n));
            }
        }
    }
    // The growth figure pairs each round's 10,000-role run with the same round's 1,000-role run.
    let mut ratios: Vec<f64> = samples[3]
        .iter()
        .zip(&samples[2])
        .map(|(big, small)| big.as_secs_f64() / small.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    println!("scale growth_10000_1000={:.2}", ratios[ratios.len() / 2]);
    for (s, n) in samples.into_iter().zip(sizes) {
        let runs = s.len();
        println!(
            "scale roles={n} median_ms={:.3} runs={runs}",
            median(s).as_secs_f64() * 1e3
        );
    }
}
