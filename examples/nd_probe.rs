//! Times one N-d kernel in a loop, for `perf record` (`cargo run --release --example
//! nd_probe -- standardize_c`); prints the best time of 20 calls.
#[path = "../tests/common/nd_kernels.rs"]
mod kernels;

use ndarray::{Array2, ShapeBuilder};
use std::time::Instant;

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "standardize_c".into());
    let n = 1000;
    let c = Array2::from_shape_fn((n, n), |(i, j)| ((i * 31 + j * 17) % 101) as f64 * 0.01);
    let f = Array2::from_shape_fn((n, n).f(), |(i, j)| c[[i, j]]);
    let p = Array2::from_shape_fn((1000, 16), |(i, j)| ((i * 7 + j * 3) % 29) as f64 * 0.1);
    let q = Array2::from_shape_fn((1000, 16), |(i, j)| ((i * 5 + j * 11) % 31) as f64 * 0.1);
    let mut best = f64::MAX;
    for _ in 0..200 {
        let t = Instant::now();
        let s = match which.as_str() {
            "standardize_c" => kernels::standardize_cols(c.view())[[0, 0]],
            "standardize_f" => kernels::standardize_cols(f.view())[[0, 0]],
            "normalize" => kernels::normalize_rows(c.view())[[0, 0]],
            "softmax" => kernels::softmax_rows(c.view())[[0, 0]],
            "sums" => kernels::sums(c.view()).0[0],
            "pairwise" => kernels::pairwise_dist(p.view(), q.view())[[0, 0]],
            _ => panic!("unknown workload {which}"),
        };
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(s);
    }
    println!("{which}: {:.3} ms", best * 1e3);
}
