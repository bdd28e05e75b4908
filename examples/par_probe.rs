//! Serial vs `parallel` kernels interleaved call by call (a burst of load on a shared
//! machine hits both alike), for `perf record` or a quick ratio: prints the best and the
//! median of `REPS` calls of each, their ratio, and the bandwidth the parallel call reaches.
//!
//! `N=10000000 cargo run --release --example par_probe -- hypot exp softmax dot variance`
//! (`hypot_into` writes a reused output: the same work without the page faults of a fresh
//! one; `softmax_rows`, `standardize_c`, `standardize_f` are the N-d chains, `N` their
//! element count).
use loopfuse::kernel;
use ndarray::{Array2, ArrayView2, Axis, ShapeBuilder};
use std::hint::black_box;
use std::time::Instant;

macro_rules! twins {
    ($( fn $name:ident ($($p:tt)*) -> [$($r:tt)*] { $($body:tt)* } )*) => {$(
        mod $name {
            use super::*;
            #[kernel]
            pub fn serial($($p)*) -> $($r)* { $($body)* }
            #[kernel(parallel)]
            pub fn parallel($($p)*) -> $($r)* { $($body)* }
        }
    )*};
}

twins! {
    fn hypot(x: &[f64], y: &[f64]) -> [Vec<f64>] { (x * x + y * y).sqrt() }
    fn hypot_into(x: &[f64], y: &[f64], o: &mut [f64]) -> [()] { o[..] = (x * x + y * y).sqrt(); }
    fn exp(x: &[f64]) -> [Vec<f64>] { x.exp() }
    fn softmax(x: &[f64]) -> [Vec<f64>] {
        let e = (x - x.max()).exp();
        e / e.sum()
    }
    fn variance(x: &[f64]) -> [f64] { x.var() }
    fn dot(x: &[f64], y: &[f64]) -> [f64] { x.dot(y) }
    fn softmax_rows(x: ArrayView2<f64>) -> [Array2<f64>] {
        let e = (x - x.max_axis(Axis(1)).insert_axis(Axis(1))).exp();
        e / e.sum_axis(Axis(1)).insert_axis(Axis(1))
    }
    fn standardize_cols(x: ArrayView2<f64>) -> [Array2<f64>] { (x - x.mean_axis(Axis(0))) / x.std_axis(Axis(0), 0.0) }
}

fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
        })
        .collect()
}

fn main() {
    let which: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000);
    let reps: usize = std::env::var("REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    let (x, y) = (data(n, 1), data(n, 2));
    let side = (n as f64).sqrt() as usize;
    let c = Array2::from_shape_vec((side, side), x[..side * side].to_vec()).unwrap();
    let f = Array2::from_shape_vec((side, side).f(), c.t().iter().copied().collect()).unwrap();
    let mut o = vec![0.0; n];
    println!("n = {n}, {} threads, {reps} calls each", rayon::current_num_threads());
    // (serial ms, parallel ms) per call, per workload; bytes moved per element.
    for w in &which {
        let bytes = match w.as_str() {
            "hypot" | "hypot_into" => 24,
            "softmax" => 32,
            "exp" | "variance" | "dot" | "softmax_rows" | "standardize_c" | "standardize_f" => 16,
            _ => panic!("unknown workload {w}"),
        };
        let mut run = |par: bool| {
            let t = Instant::now();
            match (w.as_str(), par) {
                ("hypot", false) => drop(black_box(hypot::serial(&x, &y))),
                ("hypot", true) => drop(black_box(hypot::parallel(&x, &y))),
                ("hypot_into", false) => hypot_into::serial(&x, &y, &mut o),
                ("hypot_into", true) => hypot_into::parallel(&x, &y, &mut o),
                ("exp", false) => drop(black_box(exp::serial(&x))),
                ("exp", true) => drop(black_box(exp::parallel(&x))),
                ("softmax", false) => drop(black_box(softmax::serial(&x))),
                ("softmax", true) => drop(black_box(softmax::parallel(&x))),
                ("variance", false) => drop(black_box(variance::serial(&x))),
                ("variance", true) => drop(black_box(variance::parallel(&x))),
                ("dot", false) => drop(black_box(dot::serial(&x, &y))),
                ("dot", true) => drop(black_box(dot::parallel(&x, &y))),
                ("softmax_rows", false) => drop(black_box(softmax_rows::serial(c.view()))),
                ("softmax_rows", true) => drop(black_box(softmax_rows::parallel(c.view()))),
                ("standardize_c", false) => drop(black_box(standardize_cols::serial(c.view()))),
                ("standardize_c", true) => drop(black_box(standardize_cols::parallel(c.view()))),
                ("standardize_f", false) => drop(black_box(standardize_cols::serial(f.view()))),
                ("standardize_f", true) => drop(black_box(standardize_cols::parallel(f.view()))),
                _ => unreachable!(),
            }
            t.elapsed().as_secs_f64() * 1e3
        };
        let (mut s, mut p) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            s.push(run(false));
            p.push(run(true));
        }
        s.sort_by(f64::total_cmp);
        p.sort_by(f64::total_cmp);
        let (sm, pm) = (s[s.len() / 2], p[p.len() / 2]);
        println!(
            "{w:<14} serial best {:8.3} ms median {sm:8.3} | parallel best {:8.3} ms median {pm:8.3} | best {:.2}x median {:.2}x | parallel {:.1} GB/s",
            s[0],
            p[0],
            s[0] / p[0],
            sm / pm,
            (bytes * n) as f64 / (p[0] * 1e-3) / 1e9
        );
    }
}
