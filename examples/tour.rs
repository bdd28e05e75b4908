//! A tour of loopfuse: the kernels of the "When NumPy is too slow" article and a few more,
//! each checked against, and timed against, the same computation written eagerly with
//! ndarray (one temporary array per operation, as a NumPy user would write it).
//!
//! ```text
//! cargo run --release --example tour
//! ```
//!
//! For every kernel it asserts that the result matches the eager one and a hand-written
//! loop (so the tour is also a correctness check), then prints the best-of-N time per
//! element at n = 1e5 and 1e6 of the three (the hand loop is plain safe Rust, with 32 lane
//! accumulators for sums, compiled for the build's target like any user code), the kernel's
//! time against the hand loop and the speedup over eager. The header says which CPU level the kernels run at (`loopfuse::target()`) and
//! which levels this CPU supports; `LOOPFUSE_TARGET=v3` (or `generic`, `v2`) caps the level.
//! Timings on a shared machine are noisy: pin with `taskset -c 1`.

use loopfuse::{kernel, supported_targets, target};
use ndarray::{s, Array1, Array2, ArrayView2, ArrayViewMut2, Axis, Zip};
use std::hint::black_box;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// The article's kernels.

/// `arr + 17`, then `+= 17` eight more times: one loop, one output allocation.
#[kernel]
pub fn add_multiple(arr: &[f64]) -> Vec<f64> {
    let mut result = arr + 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result
}

/// `np.abs(arr).mean()`: one pass, no temporary.
#[kernel]
pub fn mean_distance_from_zero(arr: &[f64]) -> f64 {
    arr.abs().mean()
}

/// Variance, expression form: two passes (the mean is a barrier), no temporary.
#[kernel]
pub fn myvar(arr: &[f64]) -> f64 {
    let mean = arr.mean();
    let diff = arr - mean;
    (diff * diff).sum() / arr.len() as f64
}

/// Variance, Numba style: an explicit loop with a scalar accumulator is a kernel too (the
/// `sum +=` reduction gets the same lane accumulators as `.sum()`).
#[kernel]
pub fn myvar2(arr: &[f64]) -> f64 {
    let mean = arr.mean();
    let mut sum = 0.0;
    for item in arr {
        sum += (item - mean).powi(2);
    }
    sum / arr.len() as f64
}

// ---------------------------------------------------------------------------------------
// A few more.

/// Horner's scheme with scalar coefficients.
#[kernel]
pub fn poly3(x: &[f64], a: f64, b: f64, c: f64, d: f64) -> Vec<f64> {
    ((a * x + b) * x + c) * x + d
}

#[kernel]
pub fn hypot(x: &[f64], y: &[f64]) -> Vec<f64> {
    (x * x + y * y).sqrt()
}

/// `np.where(x > 0, x, 0.01 * x)`: an `if` on an array mask is an elementwise select.
#[kernel]
pub fn leaky_relu(x: &[f64]) -> Vec<f64> {
    if x > 0.0 {
        x
    } else {
        0.01 * x
    }
}

/// Mean, then standard deviation, then the output: three passes, one allocation.
#[kernel]
pub fn standardize(x: &[f64]) -> Vec<f64> {
    (x - x.mean()) / x.std()
}

/// Max, then the sum of exponentials, then the output; `exp` is loopfuse's vectorized one.
#[kernel]
pub fn softmax(x: &[f64]) -> Vec<f64> {
    let e = (x - x.max()).exp();
    e / e.sum()
}

/// The logistic function: one pass, `exp` evaluated by the level's vector kernel.
#[kernel]
pub fn sigmoid(x: &[f64]) -> Vec<f64> {
    1.0 / (1.0 + (-x).exp())
}

#[kernel]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    (a * b).sum()
}

/// `np.cumsum(x)`: a scan, in exact left-to-right order (the naive loop's bits).
#[kernel]
pub fn cumsum(x: &[f64]) -> Vec<f64> {
    x.cumsum()
}

/// Volume-weighted average price: two scans and the work around them in one pass.
#[kernel]
pub fn vwap(p: &[f64], v: &[f64]) -> Vec<f64> {
    (p * v).cumsum() / v.cumsum()
}

// ---------------------------------------------------------------------------------------
// N-d: 2-D arrays, NumPy broadcasting, axis reductions. Any layout (C, F, views).

/// Each column to mean 0 and standard deviation 1: `(n, m)` with `(m,)`, three passes (two
/// axis reductions into rows of `m`, then the result), no `n x m` temporary.
#[kernel]
pub fn standardize_cols(x: ArrayView2<f64>) -> Array2<f64> {
    (x - x.mean_axis(Axis(0))) / x.std_axis(Axis(0), 0.0)
}

/// Softmax over each row.
#[kernel]
pub fn softmax_rows(x: ArrayView2<f64>) -> Array2<f64> {
    let e = (x - x.max_axis(Axis(1)).insert_axis(Axis(1))).exp();
    e / e.sum_axis(Axis(1)).insert_axis(Axis(1))
}

/// All pairwise distances: `(n, 1, d) - (1, m, d)` reduced over `d`; the `n x m x d`
/// difference is never made.
#[kernel]
pub fn pairwise_dist(x: ArrayView2<f64>, y: ArrayView2<f64>) -> Array2<f64> {
    (x.insert_axis(Axis(1)) - y.insert_axis(Axis(0))).powi(2).sum_axis(Axis(2)).sqrt()
}

/// A 5-point Laplacian, written as Numba users write it: nested loops and `u[[i, j]]`. Each
/// access is a shifted view cut once before the loops (bounds checked there, not per
/// element), and the nest is one pass, vectorized along the rows.
#[kernel]
pub fn laplacian(u: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
    for i in 1..u.nrows() - 1 {
        for j in 1..u.ncols() - 1 {
            out[[i, j]] = u[[i - 1, j]] + u[[i + 1, j]] + u[[i, j - 1]] + u[[i, j + 1]] - 4.0 * u[[i, j]];
        }
    }
}

/// The variance of each row, as a per-row loop with the 1-D language on the row: the same
/// passes as `(x - x.mean_axis(Axis(1)).insert_axis(Axis(1))).powi(2).mean_axis(Axis(1))`.
#[kernel]
pub fn row_var(x: ArrayView2<f64>) -> Vec<f64> {
    let mut out = vec![0.0; x.nrows()];
    for (i, row) in x.outer_iter().enumerate() {
        out[i] = (row - row.mean()).powi(2).mean();
    }
    out
}

// ---------------------------------------------------------------------------------------
// The same, eagerly, with ndarray.

mod eager {
    use super::*;

    pub fn standardize_cols(x: ArrayView2<f64>) -> Array2<f64> {
        (&x - &x.mean_axis(Axis(0)).unwrap()) / &x.std_axis(Axis(0), 0.0)
    }

    pub fn softmax_rows(x: ArrayView2<f64>) -> Array2<f64> {
        let m = x.fold_axis(Axis(1), f64::NEG_INFINITY, |a, &b| a.max(b)).insert_axis(Axis(1));
        let e = (&x - &m).exp();
        let s = e.sum_axis(Axis(1)).insert_axis(Axis(1));
        e / &s
    }

    pub fn pairwise_dist(x: ArrayView2<f64>, y: ArrayView2<f64>) -> Array2<f64> {
        let d = &x.insert_axis(Axis(1)) - &y.insert_axis(Axis(0));
        d.powi(2).sum_axis(Axis(2)).sqrt()
    }

    /// One row at a time, a temporary per row.
    pub fn row_var(x: ArrayView2<f64>) -> Vec<f64> {
        x.outer_iter().map(|row| (&row - row.mean().unwrap()).mapv(|v| v * v).mean().unwrap()).collect()
    }

    /// NumPy's slicing form: `out[1:-1, 1:-1] = u[:-2, 1:-1] + u[2:, 1:-1] + ..`.
    // `1..-1` in `s![..]` counts from the end (ndarray), not an empty range.
    #[allow(clippy::reversed_empty_ranges)]
    pub fn laplacian(u: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        let c = u.slice(s![1..-1, 1..-1]);
        let v =
            &u.slice(s![..-2, 1..-1]) + &u.slice(s![2.., 1..-1]) + u.slice(s![1..-1, ..-2]) + u.slice(s![1..-1, 2..])
                - &c * 4.0;
        out.slice_mut(s![1..-1, 1..-1]).assign(&v);
    }

    pub fn add_multiple(a: &Array1<f64>) -> Array1<f64> {
        let mut r = a + 17.0;
        for _ in 0..8 {
            r += 17.0;
        }
        r
    }

    pub fn mean_distance_from_zero(a: &Array1<f64>) -> f64 {
        a.mapv(f64::abs).mean().unwrap()
    }

    pub fn myvar(a: &Array1<f64>) -> f64 {
        let mean = a.mean().unwrap();
        let diff = a - mean;
        (&diff * &diff).sum() / a.len() as f64
    }

    /// The explicit loop's eager counterpart is the same NumPy expression.
    pub fn myvar2(a: &Array1<f64>) -> f64 {
        myvar(a)
    }

    pub fn poly3(x: &Array1<f64>, a: f64, b: f64, c: f64, d: f64) -> Array1<f64> {
        let t = x * a;
        let t = &t + b;
        let t = &t * x;
        let t = &t + c;
        let t = &t * x;
        &t + d
    }

    pub fn hypot(x: &Array1<f64>, y: &Array1<f64>) -> Array1<f64> {
        let xx = x * x;
        let yy = y * y;
        (&xx + &yy).mapv(f64::sqrt)
    }

    pub fn leaky_relu(x: &Array1<f64>) -> Array1<f64> {
        let mask = x.mapv(|v| v > 0.0);
        let scaled = x * 0.01;
        Zip::from(&mask).and(x).and(&scaled).map_collect(|&m, &a, &b| if m { a } else { b })
    }

    /// `x.std()` computed as NumPy does: the mean, then the mean of squared deviations.
    pub fn standardize(x: &Array1<f64>) -> Array1<f64> {
        let m = x.mean().unwrap();
        let d = x - m;
        let std = ((&d * &d).sum() / x.len() as f64).sqrt();
        let d = x - m;
        &d / std
    }

    pub fn softmax(x: &Array1<f64>) -> Array1<f64> {
        let m = x.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let e = (x - m).mapv(f64::exp);
        &e / e.sum()
    }

    pub fn sigmoid(x: &Array1<f64>) -> Array1<f64> {
        x.mapv(|v| 1.0 / (1.0 + (-v).exp()))
    }

    pub fn dot(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
        (a * b).sum()
    }

    /// `np.cumsum`: a new array, scanned in place.
    pub fn cumsum(x: &Array1<f64>) -> Array1<f64> {
        let mut c = x.to_owned();
        c.accumulate_axis_inplace(Axis(0), |&prev, cur| *cur += prev);
        c
    }

    pub fn vwap(p: &Array1<f64>, v: &Array1<f64>) -> Array1<f64> {
        cumsum(&(p * v)) / cumsum(v)
    }
}

/// The same, as loops a Rust user writes by hand: one pass each where the computation
/// allows, 32 lane accumulators for sums (as the kernels use), std's `exp` (a scalar libm
/// call: what such a loop gets without a vectorized math library).
mod hand {
    /// The Laplacian over rows of a C-order `n x m` matrix: rows cut once, no check per
    /// element left.
    pub fn laplacian(u: &[f64], out: &mut [f64], n: usize, m: usize) {
        for i in 1..n - 1 {
            let (up, mid, down) = (&u[(i - 1) * m..i * m], &u[i * m..(i + 1) * m], &u[(i + 1) * m..(i + 2) * m]);
            for (j, o) in out[i * m + 1..(i + 1) * m - 1].iter_mut().enumerate() {
                *o = up[j + 1] + down[j + 1] + mid[j] + mid[j + 2] - 4.0 * mid[j + 1];
            }
        }
    }

    /// `f(i)` summed over `0..n` in 32 lanes, then the lanes and the tail.
    fn sum_lanes(n: usize, f: impl Fn(usize) -> f64) -> f64 {
        let mut lanes = [0.0; 32];
        let body = n - n % 32;
        for i in (0..body).step_by(32) {
            for (j, l) in lanes.iter_mut().enumerate() {
                *l += f(i + j);
            }
        }
        let mut s: f64 = lanes.iter().sum();
        for i in body..n {
            s += f(i);
        }
        s
    }

    pub fn add_multiple(a: &[f64]) -> Vec<f64> {
        a.iter()
            .map(|&v| {
                let mut r = v + 17.0;
                for _ in 0..8 {
                    r += 17.0;
                }
                r
            })
            .collect()
    }

    pub fn mean_distance_from_zero(a: &[f64]) -> f64 {
        sum_lanes(a.len(), |i| a[i].abs()) / a.len() as f64
    }

    pub fn myvar(a: &[f64]) -> f64 {
        let mean = sum_lanes(a.len(), |i| a[i]) / a.len() as f64;
        sum_lanes(a.len(), |i| (a[i] - mean) * (a[i] - mean)) / a.len() as f64
    }

    pub fn myvar2(a: &[f64]) -> f64 {
        myvar(a)
    }

    pub fn poly3(x: &[f64], a: f64, b: f64, c: f64, d: f64) -> Vec<f64> {
        x.iter().map(|&v| ((a * v + b) * v + c) * v + d).collect()
    }

    pub fn hypot(x: &[f64], y: &[f64]) -> Vec<f64> {
        x.iter().zip(y).map(|(a, b)| (a * a + b * b).sqrt()).collect()
    }

    pub fn leaky_relu(x: &[f64]) -> Vec<f64> {
        x.iter().map(|&v| if v > 0.0 { v } else { 0.01 * v }).collect()
    }

    pub fn standardize(x: &[f64]) -> Vec<f64> {
        let n = x.len() as f64;
        let m = sum_lanes(x.len(), |i| x[i]) / n;
        let sd = (sum_lanes(x.len(), |i| (x[i] - m) * (x[i] - m)) / n).sqrt();
        x.iter().map(|v| (v - m) / sd).collect()
    }

    pub fn softmax(x: &[f64]) -> Vec<f64> {
        let m = x.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let e: Vec<f64> = x.iter().map(|&v| (v - m).exp()).collect();
        let s = sum_lanes(e.len(), |i| e[i]);
        e.iter().map(|v| v / s).collect()
    }

    pub fn sigmoid(x: &[f64]) -> Vec<f64> {
        x.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect()
    }

    pub fn dot(a: &[f64], b: &[f64]) -> f64 {
        sum_lanes(a.len(), |i| a[i] * b[i])
    }

    pub fn cumsum(x: &[f64]) -> Vec<f64> {
        let mut acc = 0.0;
        x.iter()
            .map(|&v| {
                acc += v;
                acc
            })
            .collect()
    }

    pub fn vwap(p: &[f64], v: &[f64]) -> Vec<f64> {
        let (mut pv, mut vv) = (0.0, 0.0);
        p.iter()
            .zip(v)
            .map(|(&a, &b)| {
                pv += a * b;
                vv += b;
                pv / vv
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Checking and timing.

/// Deterministic values in [-1, 1).
fn data(n: usize, seed: u64) -> Array1<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Array1::from_iter((0..n).map(|_| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-10 * (1.0 + a.abs().max(b.abs()))
}

fn check_scalar(name: &str, kernel: f64, eager: f64) {
    assert!(close(kernel, eager), "{name}: kernel {kernel} vs eager {eager}");
}

fn check_array(name: &str, kernel: &[f64], eager: &Array1<f64>) {
    assert_eq!(kernel.len(), eager.len(), "{name}: lengths");
    for (i, (&k, &e)) in kernel.iter().zip(eager).enumerate() {
        assert!(close(k, e), "{name}: element {i}: kernel {k} vs eager {e}");
    }
}

/// Best time of repeated calls, in ns per element: at least 5 calls, then until 150 ms or
/// 1000 calls.
fn best<R>(n: usize, mut f: impl FnMut() -> R) -> f64 {
    let start = Instant::now();
    let mut best = Duration::MAX;
    let mut calls = 0;
    while calls < 5 || (start.elapsed() < Duration::from_millis(150) && calls < 1000) {
        let t = Instant::now();
        black_box(f());
        best = best.min(t.elapsed());
        calls += 1;
    }
    best.as_secs_f64() * 1e9 / n as f64
}

/// One line of the table; `hand` is `NaN` where the tour has no hand-written loop.
fn row(name: &str, n: usize, kernel: f64, hand: f64, eager: f64) {
    let vs_hand = if hand.is_nan() { "-".to_string() } else { format!("{:.2}x", kernel / hand) };
    let hand = if hand.is_nan() { "-".to_string() } else { format!("{hand:.3}") };
    println!("{name:<24} {n:>9} {kernel:>10.3} {hand:>10} {eager:>10.3} {vs_hand:>10} {:>9.1}x", eager / kernel);
}

fn check_array2(name: &str, kernel: &Array2<f64>, eager: &Array2<f64>) {
    assert_eq!(kernel.shape(), eager.shape(), "{name}: shapes");
    for (i, (&k, &e)) in kernel.iter().zip(eager).enumerate() {
        assert!(close(k, e), "{name}: element {i}: kernel {k} vs eager {e}");
    }
}

/// The N-d kernels on 1000 x 1000 (C and F order) and 1000 x 16 points.
fn nd_tour() {
    let n = 1000;
    let c = Array2::from_shape_vec((n, n), data(n * n, 3).to_vec()).expect("n * n values");
    let f = c.t().as_standard_layout().into_owned().reversed_axes();
    let p = Array2::from_shape_vec((n, 16), data(n * 16, 4).to_vec()).expect("n * 16 values");
    let q = Array2::from_shape_vec((n, 16), data(n * 16, 5).to_vec()).expect("n * 16 values");
    macro_rules! array2 {
        ($label:expr, $name:ident, $elems:expr, ($($a:expr),*)) => {{
            check_array2($label, &$name($($a.view()),*), &eager::$name($($a.view()),*));
            let k = best($elems, || $name($(black_box($a.view())),*));
            let e = best($elems, || eager::$name($(black_box($a.view())),*));
            row($label, $elems, k, f64::NAN, e);
        }};
    }
    array2!("standardize_cols (C)", standardize_cols, n * n, (c));
    array2!("standardize_cols (F)", standardize_cols, n * n, (f));
    array2!("softmax_rows", softmax_rows, n * n, (c));
    array2!("pairwise_dist (x16)", pairwise_dist, n * n * 16, (p, q));

    // The stencil writes into an existing array; the hand loop runs over row slices.
    let (mut ko, mut eo, mut ho) = (Array2::zeros((n, n)), Array2::zeros((n, n)), Array2::zeros((n, n)));
    laplacian(c.view(), ko.view_mut());
    eager::laplacian(c.view(), eo.view_mut());
    hand::laplacian(c.as_slice().expect("C order"), ho.as_slice_mut().expect("C order"), n, n);
    check_array2("laplacian", &ko, &eo);
    check_array2("laplacian (hand)", &ho, &eo);
    let k = best(n * n, || laplacian(black_box(c.view()), black_box(ko.view_mut())));
    let h =
        best(n * n, || hand::laplacian(black_box(c.as_slice().unwrap()), black_box(ho.as_slice_mut().unwrap()), n, n));
    let e = best(n * n, || eager::laplacian(black_box(c.view()), black_box(eo.view_mut())));
    row("laplacian (loop nest)", n * n, k, h, e);

    let (kv, ev) = (row_var(c.view()), eager::row_var(c.view()));
    for (i, (&a, &b)) in kv.iter().zip(&ev).enumerate() {
        assert!(close(a, b), "row_var: row {i}: kernel {a} vs eager {b}");
    }
    let k = best(n * n, || row_var(black_box(c.view())));
    let e = best(n * n, || eager::row_var(black_box(c.view())));
    row("row_var (per-row loop)", n * n, k, f64::NAN, e);
}

fn main() {
    let levels: Vec<&str> = supported_targets().into_iter().map(|t| t.name()).collect();
    println!("loopfuse::target() = {}   supported_targets() = [{}]", target().name(), levels.join(", "));
    println!("(levels: generic = x86-64 SSE2, v2 = SSE4.2/POPCNT, v3 = AVX2/FMA, v4 = AVX-512, neon = aarch64 NEON)");
    println!(
        "{:<24} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "kernel", "n", "loopfuse", "hand loop", "eager", "vs hand", "vs eager"
    );
    println!("{:<24} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}", "", "", "ns/elem", "ns/elem", "ns/elem", "", "speedup");
    let (pa, pb, pc, pd) = (0.5, -1.25, 2.0, 0.75);
    for n in [100_000, 1_000_000] {
        let xa = data(n, 1);
        let ya = data(n, 2);
        let x = xa.as_slice().unwrap();
        let y = ya.as_slice().unwrap();

        macro_rules! scalar {
            ($name:ident, ($($k:expr),*), ($($e:expr),*)) => {{
                check_scalar(stringify!($name), $name($($k),*), eager::$name($($e),*));
                check_scalar(stringify!($name), hand::$name($($k),*), eager::$name($($e),*));
                let k = best(n, || $name($(black_box($k)),*));
                let h = best(n, || hand::$name($(black_box($k)),*));
                let e = best(n, || eager::$name($(black_box($e)),*));
                row(stringify!($name), n, k, h, e);
            }};
        }
        macro_rules! array {
            ($name:ident, ($($k:expr),*), ($($e:expr),*)) => {{
                check_array(stringify!($name), &$name($($k),*), &eager::$name($($e),*));
                check_array(stringify!($name), &hand::$name($($k),*), &eager::$name($($e),*));
                let k = best(n, || $name($(black_box($k)),*));
                let h = best(n, || hand::$name($(black_box($k)),*));
                let e = best(n, || eager::$name($(black_box($e)),*));
                row(stringify!($name), n, k, h, e);
            }};
        }

        array!(add_multiple, (x), (&xa));
        scalar!(mean_distance_from_zero, (x), (&xa));
        scalar!(myvar, (x), (&xa));
        scalar!(myvar2, (x), (&xa));
        array!(poly3, (x, pa, pb, pc, pd), (&xa, pa, pb, pc, pd));
        array!(hypot, (x, y), (&xa, &ya));
        array!(leaky_relu, (x), (&xa));
        array!(standardize, (x), (&xa));
        array!(softmax, (x), (&xa));
        array!(sigmoid, (x), (&xa));
        scalar!(dot, (x, y), (&xa, &ya));
        array!(cumsum, (x), (&xa));
        let va = ya.mapv(|v| v.abs() + 0.5); // volumes: positive
        let v = va.as_slice().unwrap();
        array!(vwap, (x, v), (&xa, &va));
    }
    nd_tour();
    println!("all kernels matched their eager ndarray results");
}
