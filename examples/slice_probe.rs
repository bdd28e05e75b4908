//! Fused slices vs the same kernel over pre-sliced inputs (issue 13):
//! `&x[1..] - &x[..n - 1]` cut inside the kernel, against `a - b` called with
//! `(&x[1..], &x[..n - 1])`, and a hand-written loop. Best of 200 calls, ns per element.
//!
//! `cargo run --release --example slice_probe`

use loopfuse::kernel;
use std::hint::black_box;
use std::time::Instant;

#[kernel]
fn diff(x: &[f64]) -> Vec<f64> {
    &x[1..] - &x[..x.len() - 1]
}

#[kernel]
fn sub(a: &[f64], b: &[f64]) -> Vec<f64> {
    a - b
}

#[kernel]
fn diff_sum(x: &[f64]) -> f64 {
    (&x[1..] - &x[..x.len() - 1]).abs().sum()
}

#[kernel]
fn sub_sum(a: &[f64], b: &[f64]) -> f64 {
    (a - b).abs().sum()
}

fn best<R>(n: usize, mut f: impl FnMut() -> R) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..200 {
        let t = Instant::now();
        black_box(f());
        best = best.min(t.elapsed().as_secs_f64());
    }
    best * 1e9 / n as f64
}

fn main() {
    for n in [1_000usize, 100_000, 1_000_000] {
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 * 0.001).collect();
        let x = black_box(x);
        let fused = best(n, || diff(&x));
        let pre = best(n, || sub(&x[1..], &x[..n - 1]));
        let hand = best(n, || x.windows(2).map(|w| w[1] - w[0]).collect::<Vec<f64>>());
        let fused_r = best(n, || diff_sum(&x));
        let pre_r = best(n, || sub_sum(&x[1..], &x[..n - 1]));
        println!(
            "n = {n:>8}: diff  fused {fused:.3}  pre-sliced {pre:.3}  hand {hand:.3} ns/elem | |diff|.sum()  fused {fused_r:.3}  pre-sliced {pre_r:.3}"
        );
    }
}
