//! Axis reductions of an n x n (1000 by default) C-order f64 matrix: the N-d driver against hand loops and
//! ndarray, best of 20 runs each. `cargo run --release -p loopfuse-runtime --example nd_axis`
//!
//! Built for the baseline target (no `-C target-cpu`), as every line here is: the ratios are
//! those of the same instruction set.

use loopfuse_runtime::nd::{axis_pass, pass, prefers_f, NdInput, NdOut};
use loopfuse_runtime::reduce::Sum;
use ndarray::{Array1, Array2, Axis, ShapeBuilder};
use std::hint::black_box;
use std::time::Instant;

fn best(mut f: impl FnMut() -> f64) -> f64 {
    let mut best = f64::INFINITY;
    let mut sink = 0.0;
    for _ in 0..20 {
        let t = Instant::now();
        sink += f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    black_box(sink);
    best * 1e3
}

fn nd_sum_axis(x: &Array2<f64>, axis: usize) -> Array1<f64> {
    let x = NdInput::as_nd(&x);
    let mut out = NdOut::new(x.shape().remove_axis(axis), false);
    axis_pass(x.shape(), axis, (x,), (Sum::new(),), (&mut out,), |(x,)| ((x,), ()));
    out.into_array()
}

fn main() {
    // The side, 1000 unless given: `-- 3000`.
    let n: usize = std::env::args().nth(1).map_or(1000, |a| a.parse().expect("a side length"));
    let x = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 13) % 101) as f64 * 0.01 - 0.5);
    let s = x.as_slice().unwrap();

    let nd0 = best(|| nd_sum_axis(black_box(&x), 0)[7]);
    let hand0 = best(|| {
        // Row by row, the inner loop across the columns: vectorized, in memory order.
        let mut out = vec![0.0; n];
        for row in black_box(s).chunks_exact(n) {
            for (o, v) in out.iter_mut().zip(row) {
                *o += v;
            }
        }
        out[7]
    });
    let ndarray0 = best(|| black_box(&x).sum_axis(Axis(0))[7]);

    let nd1 = best(|| nd_sum_axis(black_box(&x), 1)[7]);
    let hand1 = best(|| {
        // One serial sum per row (what `row.iter().sum()` is).
        let out: Vec<f64> = black_box(s).chunks_exact(n).map(|r| r.iter().sum()).collect();
        out[7]
    });
    let hand1_lanes = best(|| {
        // One sum per row with 8 independent accumulators (what a vectorizing hand loop does).
        let out: Vec<f64> = black_box(s)
            .chunks_exact(n)
            .map(|r| {
                let mut acc = [0.0; 8];
                for c in r.chunks_exact(8) {
                    for k in 0..8 {
                        acc[k] += c[k];
                    }
                }
                acc.iter().sum::<f64>() + r[r.len() / 8 * 8..].iter().sum::<f64>()
            })
            .collect();
        out[7]
    });
    let ndarray1 = best(|| black_box(&x).sum_axis(Axis(1))[7]);

    // The whole sum, for scale: one 1-D pass over the contiguous matrix.
    let whole = best(|| {
        let x = black_box(&x);
        let v = NdInput::as_nd(&x);
        pass(v.shape(), (v,), (Sum::new(),), (), |(x,)| ((x,), ())).0
    });

    // The whole sum of an F matrix: exact C order, so rows of stride 1000 through one
    // continuing lane state; and elementwise F -> F (free order: unit stride).
    let f = {
        let mut f = Array2::zeros((n, n).f());
        f.assign(&x);
        f
    };
    let whole_f = best(|| {
        let f = black_box(&f);
        let v = NdInput::as_nd(&f);
        pass(v.shape(), (v,), (Sum::new(),), (), |(x,)| ((x,), ())).0
    });
    let map_c = best(|| {
        let x = black_box(&x);
        let v = NdInput::as_nd(&x);
        let mut out = NdOut::new(v.shape(), false);
        pass(v.shape(), (v,), (), (&mut out,), |(x,)| ((), (x * 2.0,)));
        out.view().strides()[0] as f64
    });
    let map_f = best(|| {
        let f = black_box(&f);
        let v = NdInput::as_nd(&f);
        let mut out = NdOut::new(v.shape(), prefers_f(&[v.erase()]));
        pass(v.shape(), (v,), (), (&mut out,), |(x,)| ((), (x * 2.0,)));
        out.view().strides()[0] as f64
    });

    // A whole reduction with a broadcast row: rows fed one after another into one lane state.
    let w = Array1::from_shape_fn(n, |j| (j % 7) as f64);
    let y = Array2::from_shape_fn((n, n), |(_, j)| (j % 7) as f64);
    let dot_bcast = best(|| {
        let (x, w) = (black_box(&x), black_box(&w));
        let v = NdInput::as_nd(&x);
        let w = NdInput::as_nd(&w).broadcast_to(v.shape());
        pass(v.shape(), (v, w), (Sum::new(),), (), |(x, w)| ((x * w,), ())).0
    });
    let dot_full = best(|| {
        let (x, y) = (black_box(&x), black_box(&y));
        let (v, y) = (NdInput::as_nd(&x), NdInput::as_nd(&y));
        pass(v.shape(), (v, y), (Sum::new(),), (), |(x, y)| ((x * y,), ())).0
    });

    println!("{n}x{n} f64, C order, best of 20 (ms)");
    println!("sum_axis(Axis(0)): nd {nd0:.3}  hand {hand0:.3}  ndarray {ndarray0:.3}  nd/hand {:.2}", nd0 / hand0);
    println!(
        "sum_axis(Axis(1)): nd {nd1:.3}  hand (serial) {hand1:.3}  hand (8 acc) {hand1_lanes:.3}  ndarray {ndarray1:.3}  nd/hand {:.2}  nd/hand8 {:.2}",
        nd1 / hand1,
        nd1 / hand1_lanes
    );
    println!("sum (whole): nd C {whole:.3}  nd F {whole_f:.3}");
    println!("2 * x into a fresh result: C {map_c:.3}  F {map_f:.3}");
    println!("sum(x * w), w a broadcast row: {dot_bcast:.3}  (w a full C matrix: {dot_full:.3})");
    // Same values up to rounding (the orders differ: pairwise lanes against a serial sum).
    let (a, b) = (nd_sum_axis(&x, 0), x.sum_axis(Axis(0)));
    assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-9));
}
