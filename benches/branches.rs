//! Branches: `if flag { x.sum() } else { x.max() }` runs the loop of the branch taken
//! (`plan::needs`), against the kernel of that reduction alone and against the one loop of
//! both reductions (what the kernel computed before branches were lazy), n = 1e5 and 1e6.
//!
//! `cargo bench --bench branches` runs criterion (groups `branch/<n>`);
//! `BRANCHES_TABLE=1 cargo bench --bench branches` prints one interleaved best-of table
//! instead (ns per element and the ratios), the figures the README quotes.

use criterion::{criterion_group, Criterion, Throughput};
use loopfuse::kernel;
use std::hint::black_box;
use std::time::{Duration, Instant};

#[kernel]
pub fn sum_or_max(x: &[f64], flag: bool) -> f64 {
    if flag {
        x.sum()
    } else {
        x.max()
    }
}

#[kernel]
pub fn sum_alone(x: &[f64]) -> f64 {
    x.sum()
}

#[kernel]
pub fn max_alone(x: &[f64]) -> f64 {
    x.max()
}

/// Both reductions in one loop, the branch chosen after it.
#[kernel]
pub fn both(x: &[f64]) -> (f64, f64) {
    (x.sum(), x.max())
}

type Case<'a> = (&'static str, Box<dyn Fn() -> f64 + 'a>);

fn cases(x: &[f64]) -> Vec<Case<'_>> {
    vec![
        ("branch, sum taken", Box::new(move || sum_or_max(black_box(x), black_box(true)))),
        ("sum alone", Box::new(move || sum_alone(black_box(x)))),
        ("branch, max taken", Box::new(move || sum_or_max(black_box(x), black_box(false)))),
        ("max alone", Box::new(move || max_alone(black_box(x)))),
        ("both in one loop", Box::new(move || both(black_box(x)).0)),
    ]
}

fn data(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7919) % 1000) as f64 * 0.001 - 0.5).collect()
}

fn branches(c: &mut Criterion) {
    for n in [100_000, 1_000_000] {
        let x = data(n);
        let mut g = c.benchmark_group(format!("branch/{n}"));
        g.throughput(Throughput::Elements(n as u64));
        g.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
        for (name, f) in cases(&x) {
            g.bench_function(name, |b| b.iter(&f));
        }
        g.finish();
    }
}

/// Best of interleaved rounds per case, ns per element.
fn table() {
    println!("| n | case | ns/elem | vs the reduction alone | vs both in one loop |");
    println!("|--:|---|--:|--:|--:|");
    for n in [100_000, 1_000_000] {
        let x = data(n);
        let all = cases(&x);
        let mut best = vec![f64::INFINITY; all.len()];
        for _ in 0..300 {
            for (i, (_, f)) in all.iter().enumerate() {
                let t = Instant::now();
                black_box(f());
                best[i] = best[i].min(t.elapsed().as_secs_f64() * 1e9 / n as f64);
            }
        }
        for (i, (name, _)) in all.iter().enumerate() {
            let alone = match i {
                0 | 1 => best[1],
                2 | 3 => best[3],
                _ => best[i],
            };
            println!("| {n} | {name} | {:.3} | {:.2}x | {:.2}x |", best[i], best[i] / alone, best[i] / best[4]);
        }
    }
}

criterion_group!(benches, branches);

fn main() {
    if std::env::var("BRANCHES_TABLE").is_ok() {
        table();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
