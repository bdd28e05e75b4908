//! Strict axis reductions of long contiguous rows (`sum_axis(Axis(1))` of a C matrix in a
//! `strict` kernel): best and median of `REPS` calls, ms. Compares builds (the packed short
//! rows of `nd/pack.rs` also take strict rows of any length).
use std::time::Instant;

#[loopfuse::kernel(strict)]
fn sum_rows_strict(x: ndarray::ArrayView2<f64>) -> ndarray::Array1<f64> {
    x.sum_axis(ndarray::Axis(1))
}

fn main() {
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let reps: usize = std::env::var("REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    for m in [40, 300, 1000, 4000] {
        let rows = n * 1000 / m;
        let x = ndarray::Array2::from_shape_fn((rows, m), |(i, j)| ((i * 31 + j * 17) % 101) as f64 * 0.01);
        let mut t: Vec<f64> = (0..reps)
            .map(|_| {
                let s = Instant::now();
                std::hint::black_box(sum_rows_strict(std::hint::black_box(x.view())));
                s.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        t.sort_by(f64::total_cmp);
        println!("strict sum_axis(1) {rows}x{m}: best {:.3} ms, median {:.3} ms", t[0], t[reps / 2]);
    }
}
