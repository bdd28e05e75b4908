//! Per-row loops (issue 14; `macros/src/lower/rows.rs`): `for (i, row) in x.outer_iter()
//! .enumerate()` with the 1-D language on the row, which is the expression form with axis
//! reductions. Compared bit for bit with that expression form on any data (NaN, ±inf, -0.0),
//! and with the plain ndarray loop (which sums in another order) on small powers of two: bit
//! for bit where the sums are exact in any order (`col_stats`), within 1e-12 where a mean
//! rounds (`row_var`). At every CPU level and on every layout (`tests/common/nd.rs`).

mod common;
#[path = "common/nd.rs"]
mod nd;

use common::*;
use loopfuse::kernel;
use nd::Layouts;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

#[kernel]
fn row_var(x: ArrayView2<f64>) -> Vec<f64> {
    let mut out = vec![0.0; x.nrows()];
    for (i, row) in x.outer_iter().enumerate() {
        out[i] = (row - row.mean()).powi(2).mean();
    }
    out
}

#[kernel]
fn row_var_expr(x: ArrayView2<f64>) -> Array1<f64> {
    (x - x.mean_axis(Axis(1)).insert_axis(Axis(1))).powi(2).mean_axis(Axis(1))
}

/// Columns, a `let` per column, a value per element divided by one per column, `len()`,
/// and an accumulator over the columns.
#[kernel]
fn col_stats(x: ArrayView2<f64>) -> (Vec<f64>, f64) {
    let mut total = 0.0;
    let mut out = vec![0.0; x.ncols()];
    for (j, col) in x.columns().into_iter().enumerate() {
        let m = col.max();
        out[j] = (col / m).sum() + col.len() as f64;
        total += m;
    }
    (out, total)
}

/// A 1-D array in the loop: broadcast along each row, and reduced whole.
#[kernel]
fn weighted(x: ArrayView2<f64>, w: ArrayView1<f64>) -> Vec<f64> {
    let mut out = vec![0.0; x.nrows()];
    for (i, row) in x.rows().into_iter().enumerate() {
        out[i] = (row * w).sum() / w.sum();
    }
    out
}

fn plain_weighted(x: ArrayView2<f64>, w: ArrayView1<f64>) -> Vec<f64> {
    x.rows().into_iter().map(|row| (&row * &w).sum() / w.sum()).collect()
}

fn plain_row_var(x: ArrayView2<f64>) -> Vec<f64> {
    let mut out = vec![0.0; x.nrows()];
    for (i, row) in x.outer_iter().enumerate() {
        let m = row.sum() / row.len() as f64;
        out[i] = row.iter().map(|v| (v - m).powi(2)).sum::<f64>() / row.len() as f64;
    }
    out
}

fn plain_col_stats(x: ArrayView2<f64>) -> (Vec<f64>, f64) {
    let mut total = 0.0;
    let mut out = vec![0.0; x.ncols()];
    for (j, col) in x.columns().into_iter().enumerate() {
        let m = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        out[j] = col.iter().map(|v| v / m).sum::<f64>() + col.len() as f64;
        total += m;
    }
    (out, total)
}

fn data(n: usize, m: usize, seed: u64, ints: bool) -> Array2<f64> {
    let mut g = Rng::new(seed ^ ((n as u64) << 20) ^ m as u64);
    let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 1e300, -1e-300];
    Array2::from_shape_fn((n, m), |_| {
        let r = g.next_u64();
        if ints {
            // Powers of two: sums, means and variances of them are exact in any order.
            [1.0, 2.0, 4.0, 8.0, -2.0, 0.5][(r >> 20) as usize % 6]
        } else if r.is_multiple_of(11) {
            specials[(r >> 8) as usize % specials.len()]
        } else {
            (r >> 11) as f64 / (1u64 << 53) as f64 * 8.0 - 4.0
        }
    })
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn assert_same(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(same(g, w), "{what}: at {i}: want {w:?} got {g:?}");
    }
}

const SHAPES: &[(usize, usize)] = &[(0, 5), (5, 0), (1, 1), (3, 3), (17, 33), (64, 65), (256, 256)];

#[test]
fn row_var_vs_expression_and_plain() {
    for &(n, m) in SHAPES {
        for ints in [false, true] {
            let x = data(n, m, 1, ints);
            for (l, v) in Layouts::new(&x).views() {
                for (t, (got, expr)) in at_every_level(|_| (row_var(v), row_var_expr(v))) {
                    let what = format!("row_var {:?} {l} at {t:?}", (n, m));
                    assert_same(&what, &got, expr.as_slice().unwrap());
                    if ints && m > 0 {
                        for (g, w) in got.iter().zip(plain_row_var(v)) {
                            assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{what}: want {w} got {g}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn columns_vs_plain() {
    for &(n, m) in SHAPES.iter().filter(|s| s.0 > 0) {
        let x = data(n, m, 2, true).mapv(f64::abs);
        let want = plain_col_stats(x.view());
        for (l, v) in Layouts::new(&x).views() {
            for (t, got) in at_every_level(|_| col_stats(v)) {
                let what = format!("col_stats {:?} {l} at {t:?}", (n, m));
                assert_same(&what, &got.0, &want.0);
                assert!(same(got.1, want.1), "{what}: total want {} got {}", want.1, got.1);
            }
        }
    }
}

#[test]
fn empty_columns_have_no_max() {
    let x = Array2::<f64>::zeros((0, 3));
    let msg = panic_message(|| col_stats(x.view()));
    assert!(msg.contains("kernel `col_stats`") && msg.contains("col.max()"), "{msg}");
}

#[test]
fn one_d_array_in_the_loop_vs_plain() {
    for &(n, m) in SHAPES.iter().filter(|s| s.1 > 0) {
        let x = data(n, m, 3, true);
        let w = Array1::from_iter((0..m).map(|j| [1.0, 2.0, 0.5][j % 3]));
        let want = plain_weighted(x.view(), w.view());
        for (l, v) in Layouts::new(&x).views() {
            for (t, got) in at_every_level(|_| weighted(v, w.view())) {
                assert_same(&format!("weighted {:?} {l} at {t:?}", (n, m)), &got, &want);
            }
        }
    }
}
