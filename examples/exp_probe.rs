//! Probe for the alignment of the stage buffers: times `x.exp()` over 1e5 elements and
//! prints ns per element, best of N.
//!
//! ```text
//! cargo build --release --example exp_probe
//! for n in 0 8 16 24 32 40 48 56; do
//!   env PAD=$(printf '%*s' $n '') taskset -c 1 target/release/examples/exp_probe
//! done
//! ```
//!
//! `PAD` only moves the initial stack (the environment strings sit above it; run under
//! `setarch -R` so that ASLR does not move it too). The machine is shared and its speed
//! drifts by 30 % over seconds, more than the effect looked for, so the probe also moves
//! its own stack: it calls the kernel below frames of 0, 16, 32 and 48 extra bytes,
//! alternating between them round by round, and prints the best time of each offset and
//! the ratio of the worst to the best. Before the stage buffers were 64-byte aligned, the
//! time depended on the stack's position modulo 64.

use loopfuse::kernel;
use std::hint::black_box;
use std::time::Instant;

#[kernel]
fn exp_all(x: &[f64]) -> Vec<f64> {
    x.exp()
}

#[kernel]
fn exp_into(x: &[f64], out: &mut [f64]) {
    out[..] = x.exp();
}

/// `exp_probe N heap`: the same kernel writing in place, its input and output starting
/// 0, 16, 32 or 48 bytes past a cache line (malloc gives 16-byte alignment): does the
/// alignment of heap arrays matter too?
fn heap(rounds: usize, n: usize) {
    let base: Vec<f64> = (0..n + 16).map(|i| (i as f64 / n as f64) * 20.0 - 10.0).collect();
    let mut out_base = vec![0.0f64; n + 16];
    let skip = |p: *const f64| (8 - (p as usize % 64) / 8) % 8;
    let (xs, os) = (skip(base.as_ptr()), skip(out_base.as_ptr()));
    let mut best = [[f64::INFINITY; 4]; 4];
    for _ in 0..rounds {
        for (a, row) in best.iter_mut().enumerate() {
            for (b, cell) in row.iter_mut().enumerate() {
                let x = &base[xs + 2 * a..][..n];
                let out = &mut out_base[os + 2 * b..][..n];
                let t = Instant::now();
                exp_into(black_box(x), black_box(out));
                *cell = cell.min(t.elapsed().as_secs_f64());
            }
        }
    }
    for (a, row) in best.iter().enumerate() {
        let ns = row.map(|b| b * 1e9 / n as f64);
        println!(
            "input +{:2} B: {:.3} {:.3} {:.3} {:.3} ns/elem with output +0/16/32/48 B",
            16 * a,
            ns[0],
            ns[1],
            ns[2],
            ns[3]
        );
    }
}

/// One timed call, `K` bytes of stack below the caller's frame.
#[inline(never)]
fn timed<const K: usize>(x: &[f64]) -> f64 {
    let pad = [0u8; K];
    black_box(&pad);
    let t = Instant::now();
    let y = exp_all(black_box(x));
    let dt = t.elapsed().as_secs_f64();
    black_box(&y);
    dt
}

fn main() {
    let n = 100_000;
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    if std::env::args().nth(2).as_deref() == Some("heap") {
        return heap(rounds, n);
    }
    let x: Vec<f64> = (0..n).map(|i| (i as f64 / n as f64) * 20.0 - 10.0).collect();
    let calls: [fn(&[f64]) -> f64; 4] = [timed::<0>, timed::<16>, timed::<32>, timed::<48>];
    let mut best = [f64::INFINITY; 4];
    for _ in 0..rounds {
        for (b, call) in best.iter_mut().zip(calls) {
            *b = b.min(call(&x));
        }
    }
    let ns = best.map(|b| b * 1e9 / n as f64);
    let lo = ns.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ns.iter().copied().fold(0.0, f64::max);
    let pad = std::env::var("PAD").map(|p| p.len()).unwrap_or(0);
    // Where main's frame sits modulo a cache line: what `PAD` moves.
    let local = 0u8;
    let stack = black_box(&local) as *const u8 as usize % 64;
    println!(
        "pad {pad:2} (main's frame % 64 = {stack:2}): {:.3} {:.3} {:.3} {:.3} ns/elem at +0/16/32/48 bytes, worst/best {:.3} (best of {rounds}, {:?})",
        ns[0],
        ns[1],
        ns[2],
        ns[3],
        hi / lo,
        loopfuse::target()
    );
}
