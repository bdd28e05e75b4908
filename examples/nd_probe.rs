//! Times N-d kernels in a loop, for `perf record` or an interleaved comparison
//! (`cargo run --release --example nd_probe -- pairwise pairwise_hand`); prints the best
//! and the median time of `REPS` calls (200) of each.
#[path = "../tests/common/nd_kernels.rs"]
mod kernels;

use ndarray::{Array2, ShapeBuilder};
use std::time::Instant;

fn main() {
    let which: Vec<String> = std::env::args().skip(1).collect();
    let which = if which.is_empty() { vec!["standardize_c".to_string()] } else { which };
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let c = Array2::from_shape_fn((n, n), |(i, j)| ((i * 31 + j * 17) % 101) as f64 * 0.01);
    let f = Array2::from_shape_fn((n, n).f(), |(i, j)| c[[i, j]]);
    let p = Array2::from_shape_fn((1000, 16), |(i, j)| ((i * 7 + j * 3) % 29) as f64 * 0.1);
    let q = Array2::from_shape_fn((1000, 16), |(i, j)| ((i * 5 + j * 11) % 31) as f64 * 0.1);
    // Rows of 3 elements that do not follow each other (a step-2 slice of a (2n, 3) C
    // array): the loop nest's cost per row, where a rank-2 nest specialized at compile time
    // would differ from the odometer.
    let tall = Array2::from_shape_fn((2 * n * n / 3, 3), |(i, j)| (i + j) as f64 * 0.5);
    let stepped = tall.slice(ndarray::s![..;2, ..]);
    // Rows of 100, as `python/bench.py` shapes softmax_rows (n/100 x 100).
    let short = Array2::from_shape_fn((n * n / 100, 100), |(i, j)| ((i * 13 + j * 7) % 97) as f64 * 0.01);
    let reps = std::env::var("REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    // Several workloads are interleaved call by call, so that a noisy neighbour slows
    // them alike and their ratio holds.
    let mut times = vec![Vec::with_capacity(reps); which.len()];
    for _ in 0..reps {
        for (w, t_w) in which.iter().zip(&mut times) {
            let t = Instant::now();
            let s = match w.as_str() {
                "standardize_c" => kernels::standardize_cols(c.view())[[0, 0]],
                "standardize_f" => kernels::standardize_cols(f.view())[[0, 0]],
                "normalize" => kernels::normalize_rows(c.view())[[0, 0]],
                "softmax" => kernels::softmax_rows(c.view())[[0, 0]],
                "softmax_short" => kernels::softmax_rows(short.view())[[0, 0]],
                "exp_short" => exp_all(short.view())[[0, 0]],
                "exp_square" => exp_all(c.view())[[0, 0]],
                "max_short" => max_rows(short.view())[0],
                "max_square" => max_rows(c.view())[0],
                "sum_short" => sum_rows(short.view())[0],
                "sum_square" => sum_rows(c.view())[0],
                "expsum_short" => expsum_rows(short.view())[0],
                "sums" => kernels::sums(c.view()).0[0],
                "pairwise" => kernels::pairwise_dist(p.view(), q.view())[[0, 0]],
                "normalize_nosqrt" => normalize_nosqrt(c.view())[[0, 0]],
                "stepped3" => affine(stepped)[[0, 0]],
                "stepped3_hand" => hand_affine(stepped)[0],
                "stepped3_eager" => stepped.mapv(|v| v * 2.0 + 1.0)[[0, 0]],
                "normalize_hand" => hand_normalize(c.as_slice().unwrap(), n)[0],
                "pairwise_hand" => hand_pairwise(p.as_slice().unwrap(), q.as_slice().unwrap(), 16)[0],
                _ => panic!("unknown workload {w}"),
            };
            t_w.push(t.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(s);
        }
    }
    for (w, t) in which.iter().zip(&mut times) {
        t.sort_by(f64::total_cmp);
        println!("{w}: best {:.3} ms, median {:.3} ms", t[0], t[t.len() / 2]);
    }
}

/// The bench's hand loop (`benches/nd.rs`), to compare in one process.
fn hand_pairwise(x: &[f64], y: &[f64], d: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len() / d * (y.len() / d));
    for xr in x.chunks_exact(d) {
        for yr in y.chunks_exact(d) {
            let mut acc = [0.0f64; 8];
            for (a, b) in xr.chunks_exact(8).zip(yr.chunks_exact(8)) {
                for j in 0..8 {
                    let t = a[j] - b[j];
                    acc[j] += t * t;
                }
            }
            out.push(acc.iter().sum::<f64>().sqrt());
        }
    }
    out
}

/// The bench's hand loop for `normalize_rows` (`benches/nd.rs`).
fn hand_normalize(x: &[f64], m: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    for r in x.chunks_exact(m) {
        let mut acc = [0.0f64; 8];
        let mut it = r.chunks_exact(8);
        for c in &mut it {
            for j in 0..8 {
                acc[j] += c[j] * c[j];
            }
        }
        let s: f64 = acc.iter().sum::<f64>() + it.remainder().iter().map(|v| v * v).sum::<f64>();
        let norm = s.sqrt();
        out.extend(r.iter().map(|&v| v / norm));
    }
    out
}

/// `normalize_rows` without the `sqrt`: what the per-element `sqrt` costs.
#[loopfuse::kernel]
fn normalize_nosqrt(x: ndarray::ArrayView2<f64>) -> Array2<f64> {
    x / (x * x).sum_axis(ndarray::Axis(1)).insert_axis(ndarray::Axis(1))
}

/// An elementwise kernel for the `stepped3` layout.
#[loopfuse::kernel]
fn affine(x: ndarray::ArrayView2<f64>) -> Array2<f64> {
    x * 2.0 + 1.0
}

/// Its hand loop nest: two loops, rank 2 known at compile time.
fn hand_affine(x: ndarray::ArrayView2<f64>) -> Vec<f64> {
    let (n, m) = x.dim();
    let mut out = Vec::with_capacity(n * m);
    for row in x.outer_iter() {
        for j in 0..m {
            out.push(row[j] * 2.0 + 1.0);
        }
    }
    debug_assert_eq!(out.len(), n * m);
    out
}

/// The elementwise part of softmax alone: what the `exp` costs over the same elements.
#[loopfuse::kernel]
fn exp_all(x: ndarray::ArrayView2<f64>) -> Array2<f64> {
    x.exp()
}

/// The first pass of softmax_rows alone.
#[loopfuse::kernel]
fn max_rows(x: ndarray::ArrayView2<f64>) -> ndarray::Array1<f64> {
    x.max_axis(ndarray::Axis(1))
}

/// Its second pass alone (without the max).
#[loopfuse::kernel]
fn expsum_rows(x: ndarray::ArrayView2<f64>) -> ndarray::Array1<f64> {
    x.exp().sum_axis(ndarray::Axis(1))
}

/// A row sum: the lightest axis reduction, for the cost per row of the rows strategy.
#[loopfuse::kernel]
fn sum_rows(x: ndarray::ArrayView2<f64>) -> ndarray::Array1<f64> {
    x.sum_axis(ndarray::Axis(1))
}
