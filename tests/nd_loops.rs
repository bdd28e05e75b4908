//! Explicit loops that run in order over N-d arrays (issue 14): ndarray's shape queries and
//! `x[[i, j]]` reads and writes of N-d inputs, outputs and local `Array2::zeros(..)` results,
//! against the same code run as plain Rust on ndarray (its checked indexing is the meaning).
//!
//! Each kernel is written once, through `twin!` (as in `tests/loops.rs`): the `#[kernel]`
//! `k` and the plain `fn` `r` share their tokens. Every check runs every layout of the input
//! (`Layouts`: C, F, transposed, stepped, reversed, broadcast) at every supported CPU level
//! and compares bit for bit (any NaN equals any NaN): a loop that runs in order computes
//! exactly what the plain loop does. Its inner loops that only accumulate vectorize
//! (`potential_energy`, `upper_sum`, `gram`): each run is a 1-D loop, compared bit for bit
//! with the runs' sums in the fixed order of a 1-D reduction, and with the plain loop to
//! rounding.
#![allow(clippy::needless_range_loop, clippy::let_and_return, clippy::type_complexity)]

mod common;
#[path = "common/nd.rs"]
mod nd;
use common::*;
use loopfuse::{kernel, KernelError};
use nd::*;
use ndarray::{array, Array, Array1, Array2, Array3, ArrayD, ArrayView1, ArrayView2, ArrayView3, ArrayViewD};
use ndarray::{ArrayViewMut2, Axis, Dimension, Ix2, Ix3, IxDyn};

/// A value reduced to integers: floats by their bits, every NaN as one key.
trait Key {
    fn key(&self) -> Vec<u64>;
}
impl Key for f64 {
    fn key(&self) -> Vec<u64> {
        vec![if self.is_nan() { u64::MAX } else { self.to_bits() }]
    }
}
impl Key for f32 {
    fn key(&self) -> Vec<u64> {
        vec![if self.is_nan() { u64::MAX } else { self.to_bits() as u64 }]
    }
}
impl Key for i64 {
    fn key(&self) -> Vec<u64> {
        vec![*self as u64]
    }
}
impl Key for usize {
    fn key(&self) -> Vec<u64> {
        vec![*self as u64]
    }
}
impl<T: Key, D: Dimension> Key for Array<T, D> {
    fn key(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.shape().iter().map(|&n| n as u64).collect();
        v.extend(self.iter().flat_map(Key::key));
        v
    }
}
impl<A: Key, B: Key> Key for (A, B) {
    fn key(&self) -> Vec<u64> {
        let mut v = self.0.key();
        v.extend(self.1.key());
        v
    }
}

/// `got` at every level equals `want`, bit for bit.
fn same<R: Key + std::fmt::Debug>(what: &str, want: &R, got: Vec<(loopfuse::Target, R)>) {
    for (t, g) in got {
        assert_eq!(g.key(), want.key(), "{what} at {t:?}: got {g:?}, want {want:?}");
    }
}

/// The 2-D shapes: empty both ways, one element, square, odd sizes.
const SHAPES: &[(usize, usize)] = &[(0, 4), (4, 0), (1, 1), (3, 3), (17, 33), (33, 17)];

/// Every data set (specials: NaN, ±inf, -0.0, ..) of every shape in every layout.
fn each2(operand: u64, mut f: impl FnMut(&str, ArrayView2<f64>)) {
    for &shape in SHAPES {
        for (data, a) in data2(shape, operand) {
            for (layout, v) in layouts2(&a).views() {
                f(&format!("{data} {shape:?} {layout}"), v);
            }
        }
    }
}

twin! {
    #[kernel]
    fn row_argmax(x: ArrayView2<f64>) -> [Array1<usize>] {
        let mut out = Array1::zeros(x.nrows());
        for i in 0..x.nrows() {
            let mut best = f64::NEG_INFINITY;
            let mut idx = 0;
            for j in 0..x.ncols() {
                if x[[i, j]] > best {
                    best = x[[i, j]];
                    idx = j;
                }
            }
            out[i] = idx;
        }
        out
    }

    #[kernel]
    fn potential_energy(pos: ArrayView2<f64>) -> [f64] {
        let mut e = 0.0;
        for i in 0..pos.nrows() {
            for j in (i + 1)..pos.nrows() {
                let dx = pos[[i, 0]] - pos[[j, 0]];
                let dy = pos[[i, 1]] - pos[[j, 1]];
                let dz = pos[[i, 2]] - pos[[j, 2]];
                e += 1.0 / (dx * dx + dy * dy + dz * dz).sqrt();
            }
        }
        e
    }

    // The upper triangle, with the shape read as ndarray's `dim()` and `shape()[k]`.
    #[kernel]
    fn upper_sum(x: ArrayView2<f64>) -> [f64] {
        let (n, m) = x.dim();
        let mut s = 0.0;
        for i in 0..n {
            for j in (i + 1)..m {
                s += x[[i, j]] * (j - i) as f64;
            }
        }
        s + x.shape()[1] as f64
    }

    // A running value per row that stops at the first element past `t` (`break`), and a
    // running maximum with `if`.
    #[kernel]
    fn first_past(x: ArrayView2<f64>, t: f64) -> [(Array1<usize>, Array1<f64>)] {
        let mut at = Array1::from_elem(x.nrows(), usize::MAX);
        let mut best = Array1::from_elem(x.nrows(), f64::NAN);
        for i in 0..x.nrows() {
            let mut run = 0.0;
            let mut hi = f64::NEG_INFINITY;
            let mut j = 0;
            while j < x.ncols() {
                run += x[[i, j]];
                if x[[i, j]] > hi {
                    hi = x[[i, j]];
                }
                if run > t {
                    at[i] = j;
                    break;
                }
                j += 1;
            }
            best[i] = hi;
        }
        (at, best)
    }

    // Every compound assignment on an N-d output, read back in the same loop.
    #[kernel]
    fn outer_update(mut out: ArrayViewMut2<f64>, a: ArrayView1<f64>, b: ArrayView1<f64>) {
        for i in 0..out.nrows() {
            for j in 0..out.ncols() {
                out[[i, j]] += a[i] * b[j];
                out[[i, j]] *= 0.5;
                out[[i, j]] -= b[j];
                if out[[i, j]] > 1.0 {
                    out[[i, j]] /= 3.0;
                }
                out[[i, j]] = out[[i, j]] + a[[i]];
            }
        }
    }

    // A local `Array2::zeros((n, m))` result, written by index.
    #[kernel]
    fn gram(x: ArrayView2<f64>) -> [Array2<f64>] {
        let mut g = Array2::zeros((x.ncols(), x.ncols()));
        for i in 0..x.ncols() {
            for j in 0..x.ncols() {
                let mut s = 0.0;
                for k in 0..x.nrows() {
                    s += x[[k, i]] * x[[k, j]];
                }
                g[[i, j]] = s;
            }
        }
        g
    }

    // `Array2::from_elem` with its element type from the signature, `len()`/`is_empty()`.
    #[kernel]
    fn shifted(x: ArrayView2<f64>) -> [Array2<f64>] {
        let mut out = Array2::from_elem((x.nrows(), x.ncols() + 1), -0.0);
        for i in 0..x.nrows() {
            if x.is_empty() {
                break;
            }
            for j in 0..x.ncols() {
                out[[i, j + 1]] = x[[i, j]] + x.len() as f64;
            }
        }
        out
    }

    // A 3-D input: `dim()` as a triple, `len_of(Axis(k))`, `shape()[k]`.
    #[kernel]
    fn weighted3(x: ArrayView3<f64>) -> [f64] {
        let (a, b, c) = x.dim();
        let mut s = 0.0;
        for i in 0..a {
            for j in 0..x.len_of(Axis(1)) {
                for k in 0..x.shape()[2] {
                    s += x[[i, j, k]] * ((i * b + j) * c + k) as f64;
                }
            }
        }
        s
    }

    // A local `Array1` written by a loop that vectorizes (not in order): the same cells as
    // a `vec![..]` local.
    #[kernel]
    fn doubled(x: ArrayView1<f64>) -> [Array1<f64>] {
        let mut out = Array1::zeros(x.len());
        for i in 0..x.len() {
            out[i] = x[i] * 2.0 - 1.0;
        }
        out
    }

    // `IxDyn`: indices checked against the rank at run time, `len_of` of a run-time axis.
    #[kernel]
    fn dyn_corner(x: ArrayViewD<f64>) -> [f64] {
        let mut s = 0.0;
        for i in 0..x.len_of(Axis(0)) {
            for j in 0..x.shape()[1] {
                s += x[[i, j]] * (i + 1) as f64;
            }
        }
        s
    }

    // `parallel` and `strict` kernels run such loops the same way, on one thread.
    #[kernel(parallel)]
    fn row_argmax_par(x: ArrayView2<f64>) -> [Array1<usize>] {
        let mut out = Array1::zeros(x.nrows());
        for i in 0..x.nrows() {
            let mut best = f64::NEG_INFINITY;
            let mut idx = 0;
            for j in 0..x.ncols() {
                if x[[i, j]] > best {
                    best = x[[i, j]];
                    idx = j;
                }
            }
            out[i] = idx;
        }
        out
    }

    #[kernel(strict)]
    fn col_sums_f32(x: ArrayView2<f32>) -> [Array1<f32>] {
        let mut out = Array1::from_elem(x.ncols(), 0.0);
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                out[j] += x[[i, j]];
            }
        }
        out
    }

    // A typed local built with `Array::zeros`, updated with `+=` (a histogram by sign and
    // magnitude), and a turbofish one.
    #[kernel]
    fn sign_hist(x: ArrayView2<f64>) -> [(Array2<f64>, Array1<i64>)] {
        let mut h: Array2<f64> = Array::zeros((3, 2));
        let mut rows = Array1::<i64>::from_elem(x.nrows(), 0);
        for i in 0..x.nrows() {
            for j in 0..x.ncols() {
                let v = x[[i, j]];
                let a = if v > 0.0 { 0 } else if v < 0.0 { 1 } else { 2 };
                let b = usize::from(v.abs() > 1.0);
                h[[a, b]] += 1.0;
                h[(a, 1 - b)] -= 0.25;
                rows[i] += a as i64;
            }
        }
        (h, rows)
    }

    // A binding of the loop named as a parameter shadows it, as in Rust.
    #[kernel]
    fn shadowing(x: ArrayView2<f64>) -> [f64] {
        let mut s = 0.0;
        for i in 0..x.nrows().min(x.ncols()) {
            let y = x[[i, i]];
            let x = y * 2.0;
            s += x.abs();
        }
        s
    }

    // Indices that are not the loop's (read through another array), as a tuple.
    #[kernel]
    fn gather(x: ArrayView2<f64>, rows: &[usize]) -> [f64] {
        let mut s = 0.0;
        for k in 0..rows.len() {
            for j in 0..x.ncols() {
                s += x[(rows[k], j)];
            }
        }
        s
    }
}

twin! {
    // Per-row loops that loop over the row's elements (`row_index.rs`): an accumulator (its
    // inner loop vectorizes) and a running maximum with its index (in order), over rows and
    // over columns.
    #[kernel]
    fn row_norms(x: ArrayView2<f64>) -> [Array1<f64>] {
        let mut out = Array1::zeros(x.nrows());
        for (i, row) in x.outer_iter().enumerate() {
            let mut s = 0.0;
            for v in row.iter() {
                s += *v * v;
            }
            out[i] = s.sqrt();
        }
        out
    }

    #[kernel]
    fn col_argmax(x: ArrayView2<f64>) -> [Array1<usize>] {
        let mut out = Array1::zeros(x.ncols());
        for (c, col) in x.columns().into_iter().enumerate() {
            let mut best = f64::NEG_INFINITY;
            for (j, &v) in col.iter().enumerate() {
                if v > best || (j > 0 && v == col[j - 1] && col.len() > 100) {
                    best = v;
                    out[c] = j;
                }
            }
        }
        out
    }
}

#[test]
fn per_row_loops_over_elements_match_plain_loops() {
    each2(21, |what, x| {
        let (n, m) = x.dim();
        let want = Array1::from_shape_fn(n, |i| runs(0.0, [(0..m).map(|j| x[[i, j]] * x[[i, j]]).collect()]).0.sqrt());
        same(what, &want, at_every_level(|_| row_norms::k(x)));
        let plain = row_norms::r(x);
        for i in 0..n {
            let run = runs(0.0, [(0..m).map(|j| x[[i, j]] * x[[i, j]]).collect()]);
            near_plain(what, plain[i] * plain[i], run);
        }
        same(what, &col_argmax::r(x), at_every_level(|_| col_argmax::k(x)));
    });
}

#[test]
fn row_argmax_matches_plain_loop() {
    each2(1, |what, x| same(what, &row_argmax::r(x), at_every_level(|_| row_argmax::k(x))));
}

/// `acc + Σ terms` for each non-empty run of an inner loop that vectorizes (its sum in the
/// fixed order of a 1-D reduction, `sum1`; `lower/inner_pass.rs`), from `init`; and the sum of
/// the terms' magnitudes, the scale of the plain loop's rounding error.
fn runs(init: f64, runs: impl IntoIterator<Item = Vec<f64>>) -> (f64, f64) {
    let (mut acc, mut scale) = (init, 0.0);
    for terms in runs {
        if !terms.is_empty() {
            acc += sum1(&terms);
            scale += terms.iter().map(|t| t.abs()).sum::<f64>();
        }
    }
    (acc, scale)
}

/// On finite data, the plain loop's sum in order is the runs' sum to rounding.
fn near_plain(what: &str, plain: f64, (got, scale): (f64, f64)) {
    if got.is_finite() && scale.is_finite() {
        assert!((got - plain).abs() <= 1e-13 * scale, "{what}: {got} vs the plain loop's {plain} (scale {scale})");
    }
}

#[test]
fn potential_energy_matches_its_runs() {
    for n in [0, 1, 2, 3, 17, 40, 100] {
        for (data, a) in data2((n, 3), 2) {
            for (layout, v) in layouts2(&a).views() {
                let what = format!("{data} n={n} {layout}");
                let want = runs(
                    0.0,
                    (0..n).map(|i| {
                        let term = |j: usize| {
                            let (dx, dy, dz) = (v[[i, 0]] - v[[j, 0]], v[[i, 1]] - v[[j, 1]], v[[i, 2]] - v[[j, 2]]);
                            1.0 / (dx * dx + dy * dy + dz * dz).sqrt()
                        };
                        (i + 1..n).map(term).collect()
                    }),
                );
                same(&what, &want.0, at_every_level(|_| potential_energy::k(v)));
                near_plain(&what, potential_energy::r(v), want);
            }
        }
    }
}

#[test]
fn triangular_loop_matches_its_runs() {
    each2(3, |what, x| {
        let (n, m) = x.dim();
        let (s, scale) = runs(0.0, (0..n).map(|i| (i + 1..m).map(|j| x[[i, j]] * (j - i) as f64).collect()));
        let want = (s + m as f64, scale);
        same(what, &want.0, at_every_level(|_| upper_sum::k(x)));
        near_plain(what, upper_sum::r(x), want);
    });
}

#[test]
fn break_and_running_max_match_plain_loop() {
    for t in [0.0, 1.5, f64::INFINITY] {
        each2(4, |what, x| {
            let want = first_past::r(x, t);
            same(&format!("{what} t={t}"), &want, at_every_level(|_| first_past::k(x, t)));
        });
    }
}

#[test]
fn compound_writes_match_plain_loop() {
    for &(n, m) in SHAPES {
        let a = gen_nd(ndarray::Ix1(n), 5, gen_f64);
        let b = gen_nd(ndarray::Ix1(m), 6, gen_f64);
        for (data, init) in data2((n, m), 7) {
            let mut want = init.clone();
            outer_update::r(want.view_mut(), a.view(), b.view());
            for t in loopfuse::supported_targets() {
                // A transposed output too: the writes go where ndarray's would.
                for transposed in [false, true] {
                    let mut got = init.clone();
                    if transposed {
                        // The same logical array, F-ordered: `[m, n]` in C order, reversed.
                        let mut f = Array2::zeros((m, n));
                        f.assign(&init.t());
                        got = f.reversed_axes();
                    }
                    loopfuse::with_target(t, || outer_update::k(got.view_mut(), a.view(), b.view()));
                    assert_eq!(got.key(), want.key(), "{data} {n}x{m} transposed={transposed} at {t:?}");
                }
            }
        }
    }
}

#[test]
fn local_array2_results_match_plain_loop() {
    each2(8, |what, x| {
        let (n, m) = x.dim();
        let want =
            Array2::from_shape_fn((m, m), |(i, j)| runs(0.0, [(0..n).map(|k| x[[k, i]] * x[[k, j]]).collect()]).0);
        same(what, &want, at_every_level(|_| gram::k(x)));
        let plain = gram::r(x);
        for ((i, j), &p) in plain.indexed_iter() {
            near_plain(what, p, runs(0.0, [(0..n).map(|k| x[[k, i]] * x[[k, j]]).collect()]));
        }
        same(what, &shifted::r(x), at_every_level(|_| shifted::k(x)));
    });
}

#[test]
fn three_d_input_matches_plain_loop() {
    for shape in [(0, 2, 3), (1, 1, 1), (3, 3, 3), (2, 17, 5)] {
        let a: Array3<f64> = gen_nd(Ix3(shape.0, shape.1, shape.2), 9, gen_f64);
        for (layout, v) in layouts3(&a).views() {
            same(&format!("{shape:?} {layout}"), &weighted3::r(v), at_every_level(|_| weighted3::k(v)));
        }
    }
}

#[test]
fn typed_local_updated_with_compound_ops() {
    each2(15, |what, x| same(what, &sign_hist::r(x), at_every_level(|_| sign_hist::k(x))));
}

#[test]
fn loop_bindings_shadow_parameters() {
    each2(14, |what, x| same(what, &shadowing::r(x), at_every_level(|_| shadowing::k(x))));
}

#[test]
fn gathered_rows_match_plain_loop() {
    let x: Array2<f64> = gen_nd(Ix2(5, 7), 10, gen_f64);
    let rows = [4, 0, 0, 2];
    for (layout, v) in layouts2(&x).views() {
        same(layout, &gather::r(v, &rows), at_every_level(|_| gather::k(v, &rows)));
    }
}

// ---- out of range ---------------------------------------------------------------------------------

#[kernel]
fn read_at(x: ArrayView2<f64>, i: usize, j: usize) -> f64 {
    let mut s = 0.0;
    for _k in 0..1 {
        s += x[[i, j]];
    }
    s
}

#[kernel]
fn write_at(mut out: ArrayViewMut2<f64>, i: usize, j: usize) {
    for _k in 0..1 {
        out[[i, j]] = 1.0;
    }
}

#[kernel]
fn add_at(mut out: ArrayViewMut2<f64>, i: usize, j: usize) {
    for _k in 0..1 {
        out[[i, j]] += 1.0;
    }
}

#[kernel]
fn try_read(x: ArrayView2<f64>, i: usize, j: usize) -> Result<f64, KernelError> {
    let mut s = 0.0;
    for _k in 0..1 {
        s += x[[i, j]];
    }
    Ok(s)
}

#[kernel]
fn dyn_read(x: ArrayViewD<f64>, i: usize, j: usize) -> Result<f64, KernelError> {
    let mut s = 0.0;
    for _k in 0..1 {
        s += x[[i, j]];
    }
    Ok(s)
}

#[test]
fn out_of_range_reads_and_writes_panic_with_the_access() {
    let x: Array2<f64> = Array2::zeros((3, 4));
    assert_eq!(read_at(x.view(), 2, 3), 0.0);
    assert_eq!(
        panic_message(|| read_at(x.view(), 3, 0)),
        "kernel `read_at`: index out of bounds: `x[[i, j]]` reads index [3, 0] of an array of shape [3, 4] (axis 0)"
    );
    assert_eq!(
        panic_message(|| read_at(x.t(), 0, 3)),
        "kernel `read_at`: index out of bounds: `x[[i, j]]` reads index [0, 3] of an array of shape [4, 3] (axis 1)"
    );
    let mut out: Array2<f64> = Array2::zeros((3, 4));
    assert_eq!(
        panic_message(|| write_at(out.view_mut(), 0, 4)),
        "kernel `write_at`: index out of bounds: `out[[i, j]]` writes index [0, 4] of an array of shape [3, 4] (axis 1)"
    );
    assert_eq!(
        panic_message(|| add_at(out.view_mut(), 3, 4)),
        "kernel `add_at`: index out of bounds: `out[[i, j]]` writes index [3, 4] of an array of shape [3, 4] (axis 0)"
    );
    assert_eq!(out, Array2::<f64>::zeros((3, 4)), "nothing written");
    // ndarray panics at the same accesses.
    assert!(std::panic::catch_unwind(|| x[[3, 0]]).is_err());
}

// An inner loop (of a loop that runs in order: not a perfect nest) over `lo..hi` of rows
// `r + 1` and `r`, columns `j - 1` and `j + 1`: its windows reach rows and columns the caller
// picks, at the edges and one past.
#[kernel]
fn band_sum(x: ArrayView2<f64>, rows: usize, lo: usize, hi: usize) -> f64 {
    let mut s = 0.0;
    for r in 0..rows {
        let w = (r + 1) as f64;
        for j in lo..hi {
            s += w * x[[r + 1, j - 1]] * x[[r, j + 1]];
        }
    }
    s
}

#[kernel]
fn try_band_sum(x: ArrayView2<f64>, rows: usize, hi: usize) -> Result<f64, KernelError> {
    let mut s = 0.0;
    for r in 0..rows {
        let w = r as f64;
        for j in 0..hi {
            s += x[[r, j]] - w;
        }
    }
    Ok(s)
}

#[test]
fn inner_runs_check_their_windows_at_the_edges() {
    let x = Array2::from_shape_fn((4, 5), |(i, j)| (i * 5 + j) as f64);
    let plain = |rows: usize, lo: usize, hi: usize| {
        let mut s = 0.0;
        for r in 0..rows {
            for j in lo..hi {
                s += (r + 1) as f64 * x[[r + 1, j - 1]] * x[[r, j + 1]];
            }
        }
        s
    };
    // The last row and the last column, exactly (small integers: every order is exact).
    assert_eq!(band_sum(x.view(), 3, 1, 4), plain(3, 1, 4));
    assert_eq!(
        panic_message(|| band_sum(x.view(), 4, 1, 4)),
        "kernel `band_sum`: index out of bounds: `x[[r + 1, j - 1]]` accesses index 4 of axis 0, of an array of shape [4, 5]"
    );
    assert_eq!(
        panic_message(|| band_sum(x.view(), 3, 1, 5)),
        "kernel `band_sum`: index out of bounds: `x[[r, j + 1]]` accesses indices 2..=5 of axis 1, of an array of shape [4, 5]"
    );
    assert_eq!(
        panic_message(|| band_sum(x.view(), 3, 0, 4)),
        "kernel `band_sum`: index out of bounds: `x[[r + 1, j - 1]]` accesses indices -1..=2 of axis 1, of an array of shape [4, 5]"
    );
    // An empty run reads nothing, however far past the array its row is (as the plain loop).
    assert_eq!(band_sum(x.view(), 100, 3, 3), 0.0);
    assert_eq!(band_sum(x.t(), 4, 1, 3), {
        let t = x.t();
        let mut s = 0.0;
        for r in 0..4 {
            for j in 1..3 {
                s += (r + 1) as f64 * t[[r + 1, j - 1]] * t[[r, j + 1]];
            }
        }
        s
    });
    // A `Result` kernel returns the error.
    assert_eq!(try_band_sum(x.view(), 4, 5), Ok(190.0 - 30.0));
    assert_eq!(
        try_band_sum(x.view(), 4, 6).unwrap_err().to_string(),
        "kernel `try_band_sum`: index out of bounds: `x[[r, j]]` accesses indices 0..=5 of axis 1, of an array of shape [4, 5]"
    );
}

#[kernel]
fn try_scale_rows(x: ArrayView2<f64>, w: ArrayView1<f64>) -> Result<f64, KernelError> {
    let mut s = 0.0;
    for i in 0..x.nrows() {
        s += x[[i, 0]] * w[i];
    }
    Ok(s)
}

#[test]
fn out_of_range_read_in_a_result_kernel_is_err() {
    // A 1-D read in the same loop returns its error too.
    let w = array![1.0];
    assert_eq!(
        try_scale_rows(array![[2.0], [3.0]].view(), w.view()),
        Err(KernelError::Index { kernel: "try_scale_rows", text: "w[i]", index: 1, len: 1 })
    );
    assert_eq!(try_scale_rows(array![[2.0]].view(), w.view()), Ok(2.0));
    let x = array![[1.0, 2.0], [3.0, 4.0]];
    assert_eq!(try_read(x.view(), 1, 1), Ok(4.0));
    let e = try_read(x.view(), 2, 1).unwrap_err();
    assert_eq!(
        e,
        KernelError::NdIndex {
            kernel: "try_read",
            text: "x[[i, j]]",
            write: false,
            index: vec![2, 1],
            shape: "[2, 2]".into(),
            axis: 0
        }
    );
    let d: ArrayD<f64> = ArrayD::zeros(IxDyn(&[2, 3, 4]));
    assert_eq!(
        dyn_read(d.view(), 0, 0).unwrap_err().to_string(),
        "kernel `dyn_read`: `x[[i, j]]` gives 2 indices for an array of shape [2, 3, 4] (rank 3)"
    );
    let d2: ArrayD<f64> = ArrayD::from_elem(IxDyn(&[2, 3]), 1.5);
    assert_eq!(dyn_read(d2.view(), 1, 2), Ok(1.5));
}

#[test]
fn local_array1_written_by_a_vectorized_loop() {
    for n in [0, 1, 17, 33, 2049] {
        let x: Array1<f64> = gen_nd(ndarray::Ix1(n), 11, gen_f64);
        for (layout, v) in nd::Layouts::new(&x).views() {
            same(&format!("n={n} {layout}"), &doubled::r(v), at_every_level(|_| doubled::k(v)));
        }
    }
}

#[test]
fn dyn_input_matches_plain_loop() {
    for shape in [vec![0, 3], vec![1, 1], vec![3, 3], vec![17, 33]] {
        let a: ArrayD<f64> = gen_nd(IxDyn(&shape), 12, gen_f64);
        for (layout, v) in layouts_dyn(&a).views() {
            same(&format!("{shape:?} {layout}"), &dyn_corner::r(v.view()), at_every_level(|_| dyn_corner::k(v.view())));
        }
    }
    // A 0-D array has no axis 0 (ndarray panics too).
    let d: ArrayD<f64> = ArrayD::zeros(IxDyn(&[]));
    assert!(std::panic::catch_unwind(|| dyn_corner::r(d.view())).is_err());
    assert_eq!(
        panic_message(|| dyn_corner::k(d.view())),
        "kernel `k`: `x.len_of(Axis(0))`: axis 0 is out of bounds for an array of rank 0"
    );
}

/// A generic kernel (`T: Float`) indexes N-d arrays the same way.
#[kernel]
fn max_diag<T: loopfuse::Float>(x: ArrayView2<T>) -> T {
    let mut m = x[[0, 0]];
    for i in 1..x.nrows().min(x.ncols()) {
        if x[[i, i]] > m {
            m = x[[i, i]];
        }
    }
    m
}

// The same triangle over a 1-D input (`x[j]`, `x[j + 1]`: 1-D windows), any stride.
#[kernel]
fn pair_gaps(x: ArrayView1<f64>) -> f64 {
    let mut e = 0.0;
    for i in 0..x.len() {
        for j in (i + 1)..x.len() - 1 {
            e += (x[i] - x[j]).abs() * x[j + 1];
        }
    }
    e
}

#[test]
fn one_d_inner_runs_match_their_runs() {
    for n in [1, 2, 3, 17, 70] {
        let a = gen_nd(ndarray::Ix1(2 * n), 31, gen_f64);
        for (layout, v) in [
            ("contiguous", a.slice(ndarray::s![..n])),
            ("stepped", a.slice(ndarray::s![..;2])),
            ("reversed", a.slice(ndarray::s![..n;-1])),
        ] {
            let want = runs(0.0, (0..n).map(|i| (i + 1..n - 1).map(|j| (v[i] - v[j]).abs() * v[j + 1]).collect())).0;
            same(&format!("n={n} {layout}"), &want, at_every_level(|_| pair_gaps(v)));
        }
    }
}

/// A generic kernel's inner loop vectorizes as a run too, at `f32` and `f64`.
#[kernel]
fn energy<T: loopfuse::Float>(pos: ArrayView2<T>) -> T {
    let mut e = T::ZERO;
    for i in 0..pos.nrows() {
        for j in (i + 1)..pos.nrows() {
            let d = pos[[i, 0]] - pos[[j, 0]];
            e += d * d;
        }
    }
    e
}

#[test]
fn generic_inner_runs_at_f32_and_f64() {
    // Small integers: every order gives the same sum.
    let pos = Array2::from_shape_fn((40, 2), |(i, k)| ((i * 7 + k) % 11) as f64);
    let plain = |p: ArrayView2<f64>| {
        let mut e = 0.0;
        for i in 0..p.nrows() {
            for j in (i + 1)..p.nrows() {
                e += (p[[i, 0]] - p[[j, 0]]) * (p[[i, 0]] - p[[j, 0]]);
            }
        }
        e
    };
    let want = plain(pos.view());
    same("f64", &want, at_every_level(|_| energy(pos.view())));
    same("f32", &(want as f32), at_every_level(|_| energy(pos.mapv(|v| v as f32).view())));
}

#[test]
fn parallel_strict_f32_and_generic_kernels() {
    each2(13, |what, x| {
        same(what, &row_argmax_par::r(x), at_every_level(|_| row_argmax_par::k(x)));
        let x32 = x.mapv(|v| v as f32);
        same(what, &col_sums_f32::r(x32.view()), at_every_level(|_| col_sums_f32::k(x32.view())));
    });
    let x = array![[1.0, 9.0], [3.0, 4.0]];
    assert_eq!(max_diag(x.view()), 4.0);
    assert_eq!(max_diag(x.mapv(|v| v as f32).view()), 4.0f32);
    // `x[[0, 0]]` outside the loop is checked too.
    let e: Array2<f64> = Array2::zeros((0, 3));
    assert_eq!(
        panic_message(|| max_diag(e.view())),
        "kernel `max_diag`: index out of bounds: `x[[0, 0]]` reads index [0, 0] of an array of shape [0, 3] (axis 0)"
    );
}

/// A local `Array1` written by a per-row loop (`lower/rows.rs`): the values per row.
#[kernel]
fn row_sums(x: ArrayView2<f64>) -> Array1<f64> {
    let mut out = Array1::zeros(x.nrows());
    for (i, row) in x.outer_iter().enumerate() {
        out[i] = row.sum();
    }
    out
}

#[test]
fn local_array1_written_by_a_per_row_loop() {
    // Small integers: every order of the sum gives the same bits.
    for &(n, m) in SHAPES {
        let x = Array2::from_shape_fn((n, m), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
        let want: Array1<f64> = x.rows().into_iter().map(|r| r.fold(0.0, |a, b| a + b)).collect();
        for (layout, v) in layouts2(&x).views() {
            same(&format!("{n}x{m} {layout}"), &want, at_every_level(|_| row_sums(v)));
        }
    }
}
