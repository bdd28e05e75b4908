//! Reductions only a branch needs (issue 13): in `if c { a } else { b }` with a condition
//! known before any loop (parameters, lengths, constants), the reductions and scalar lets
//! that only one branch uses run only when that branch is taken (`plan::needs`), as plain
//! Rust evaluates them. Each kernel is checked against its branches computed alone (the
//! single-reduction kernels, themselves tested against the naive reading elsewhere) at
//! every CPU level, on data with NaN, ±inf and -0.0, at lengths around the lanes and
//! blocks, on strided and reversed views; and with evidence that the untaken branch did not
//! run: a division by zero it would panic on, a call it would count, an empty `max`.
#![allow(clippy::type_complexity)]

mod common;
#[path = "common/nd.rs"]
mod nd;
#[path = "common/par.rs"]
#[macro_use]
mod par;
use common::*;
use loopfuse::{kernel, KernelError};
use ndarray::{s, Array2, ArrayView1, ArrayView2};
use std::cell::Cell;

#[kernel]
fn sum_of(x: ArrayView1<f64>) -> f64 {
    x.sum()
}

#[kernel]
fn max_of(x: ArrayView1<f64>) -> f64 {
    x.max()
}

#[kernel]
fn min_of(x: ArrayView1<f64>) -> f64 {
    x.min()
}

#[kernel]
fn sum_or_max(x: ArrayView1<f64>, flag: bool) -> f64 {
    if flag {
        x.sum()
    } else {
        x.max()
    }
}

/// Three ways in: `x.max()` is needed on two of them, so it runs unless `!a`.
#[kernel]
fn nested(x: ArrayView1<f64>, a: bool, b: bool) -> f64 {
    if a {
        if b {
            x.sum() + x.max()
        } else {
            x.max()
        }
    } else {
        x.min()
    }
}

/// The sample variance, NaN under two elements: the branch's lets run only when it is taken.
#[kernel]
fn sample_var(x: ArrayView1<f64>) -> f64 {
    if x.len() < 2 {
        f64::NAN
    } else {
        let m = x.mean();
        let d = x - m;
        (d * d).sum() / (x.len() - 1) as f64
    }
}

#[kernel]
fn sample_var_plain(x: ArrayView1<f64>) -> f64 {
    let m = x.mean();
    let d = x - m;
    (d * d).sum() / (x.len() - 1) as f64
}

/// Integer division by zero panics: only a branch that runs may divide.
#[kernel]
fn scaled_sum(x: &[i64], k: i64) -> i64 {
    if k == 0 {
        0
    } else {
        (x / k).sum()
    }
}

/// The same through a `let` in the branch.
#[kernel]
fn per_unit(x: &[i64], k: i64) -> i64 {
    if k == 0 {
        -1
    } else {
        let q = 1000 / k;
        (x * q).max()
    }
}

/// A value under a condition next to one needed always: `x.max()` runs once, for both.
#[kernel]
fn mixed(x: &[f64], flag: bool) -> (f64, f64) {
    let s = if flag { x.sum() - x.max() } else { 0.0 };
    (s, x.max())
}

/// A branch with a loop runs as written (every reduction runs): still the right value.
#[kernel]
fn with_loop(x: &[f64], flag: bool) -> f64 {
    if flag {
        let mut m = f64::NEG_INFINITY;
        for i in 0..x.len() {
            m = m.max(x[i]);
        }
        m
    } else {
        x.min()
    }
}

#[kernel]
fn try_ratio(x: &[f64], y: &[f64], flag: bool) -> Result<f64, KernelError> {
    Ok(if flag { (x * y).sum() } else { x.max() / y.max() })
}

thread_local! {
    static CALLS: Cell<usize> = const { Cell::new(0) };
}

fn counted(v: f64) -> f64 {
    CALLS.with(|c| c.set(c.get() + 1));
    v * 2.0
}

#[kernel]
fn counted_or_min(x: &[f64], flag: bool) -> f64 {
    if flag {
        counted(x).sum()
    } else {
        x.min()
    }
}

#[kernel]
fn nd_sum_or_max(a: ArrayView2<f64>, flag: bool) -> f64 {
    if flag {
        a.sum()
    } else {
        a.max()
    }
}

#[kernel]
fn nd_sum(a: ArrayView2<f64>) -> f64 {
    a.sum()
}

#[kernel]
fn nd_max(a: ArrayView2<f64>) -> f64 {
    a.max()
}

twins! {
    fn sum_or_max_par(x: &[f64], flag: bool) -> [f64] {
        if flag {
            x.sum()
        } else {
            x.max()
        }
    }
}

/// The views a 1-D test runs on: contiguous, stepped and reversed, all of `n` elements.
fn views(base: &[f64], n: usize) -> Vec<(&'static str, ArrayView1<'_, f64>)> {
    let all = ArrayView1::from(base);
    vec![
        ("contiguous", all.slice_move(s![..n])),
        ("step 2", all.slice_move(s![..2 * n;2])),
        ("reversed", all.slice_move(s![..n;-1])),
    ]
}

fn per_level<R>(f: impl FnMut(loopfuse::Target) -> R) -> Vec<(loopfuse::Target, R)> {
    at_every_level(f)
}

#[test]
fn each_branch_is_its_reduction_alone() {
    for &n in LENGTHS {
        let base = gen_f64(2 * n + 1, seed(n, 1));
        for (layout, x) in views(&base, n) {
            let what = format!("n = {n}, {layout}");
            let sum = per_level(|_| sum_of(x));
            check_scalar(&what, sum[0].1, &per_level(|_| sum_or_max(x, true)), Cmp::NanAny);
            if n == 0 {
                let msg = panic_message(|| sum_or_max(x, false));
                assert_eq!(msg, "kernel `sum_or_max`: `x.max()` of an empty array has no value");
                assert!(panic_message(|| nested(x, false, false)).contains("`x.min()` of an empty array"));
                assert!(panic_message(|| nested(x, true, true)).contains("`x.max()` of an empty array"));
                continue;
            }
            let (max, min) = (max_of(x), min_of(x));
            check_scalar(&what, max, &per_level(|_| sum_or_max(x, false)), Cmp::NanAny);
            check_scalar(&what, sum[0].1 + max, &per_level(|_| nested(x, true, true)), Cmp::NanAny);
            check_scalar(&what, max, &per_level(|_| nested(x, true, false)), Cmp::NanAny);
            check_scalar(&what, min, &per_level(|_| nested(x, false, true)), Cmp::NanAny);
            check_scalar(&what, min, &per_level(|_| nested(x, false, false)), Cmp::NanAny);
            let want = if n < 2 { f64::NAN } else { sample_var_plain(x) };
            check_scalar(&what, want, &per_level(|_| sample_var(x)), Cmp::NanAny);
        }
    }
}

#[test]
fn an_untaken_branch_does_not_run() {
    // (Empty input, where the other branch's `max` would panic: `tests/real_code.rs`.)
    // A division by zero, directly and through the branch's `let`.
    let x: Vec<i64> = (0..1000).map(|i| i * 7 - 3000).collect();
    for (t, r) in per_level(|_| (scaled_sum(&x, 0), per_unit(&x, 0))) {
        assert_eq!(r, (0, -1), "at {t:?}");
    }
    for k in [1, -3, 7] {
        let sum: i64 = x.iter().map(|v| v / k).sum();
        let max = x.iter().map(|v| v * (1000 / k)).max().unwrap();
        for (t, r) in per_level(|_| (scaled_sum(&x, k), per_unit(&x, k))) {
            assert_eq!(r, (sum, max), "k = {k} at {t:?}");
        }
    }
    // A call the branch would make once per element.
    let x = gen_finite_f64(100, 3);
    for (t, _) in per_level(|_| {
        CALLS.with(|c| c.set(0));
        let min = counted_or_min(&x, false);
        assert_eq!(CALLS.with(|c| c.get()), 0);
        let twice = counted_or_min(&x, true);
        assert_eq!(CALLS.with(|c| c.get()), 100);
        (min, twice)
    }) {
        let _ = t;
    }
}

#[test]
fn values_needed_always_and_under_a_condition() {
    for &n in LENGTHS.iter().filter(|&&n| n > 0) {
        let x = gen_f64(n, seed(n, 2));
        let v = ArrayView1::from(&x[..]);
        let (sum, max) = (sum_of(v), max_of(v));
        for (t, (s, m)) in per_level(|_| mixed(&x, true)) {
            assert!(Elem::same(s, sum - max, true) && Elem::same(m, max, true), "n = {n} at {t:?}");
        }
        for (t, (s, m)) in per_level(|_| mixed(&x, false)) {
            assert!(s == 0.0 && Elem::same(m, max, true), "n = {n} at {t:?}");
        }
        let naive = x.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        check_scalar(&format!("with_loop n = {n}"), naive, &per_level(|_| with_loop(&x, true)), Cmp::NanAny);
        check_scalar(&format!("with_loop n = {n}"), min_of(v), &per_level(|_| with_loop(&x, false)), Cmp::NanAny);
    }
}

#[test]
fn a_result_kernel_checks_every_length_first() {
    let (x, y) = (vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]);
    assert_eq!(try_ratio(&x, &y, true), Ok(32.0));
    assert_eq!(try_ratio(&x, &y, false), Ok(0.5));
    // The lengths of `x * y` are checked before anything runs, as for every kernel.
    assert!(try_ratio(&x, &y[..2], false).is_err());
}

#[test]
fn n_d_branches() {
    for shape in [(0, 3), (1, 1), (3, 5), (17, 33)] {
        for (data, a) in nd::data2(shape, 4) {
            nd::for_each_layout(&a, |layout, v| {
                let what = format!("{shape:?} {data} {layout}");
                check_scalar(&what, nd_sum(v), &per_level(|_| nd_sum_or_max(v, true)), Cmp::NanAny);
                if shape.0 > 0 {
                    check_scalar(&what, nd_max(v), &per_level(|_| nd_sum_or_max(v, false)), Cmp::NanAny);
                }
            });
        }
    }
    let empty = Array2::<f64>::zeros((0, 4));
    assert!(panic_message(|| nd_sum_or_max(empty.view(), false)).contains("has no value"));
}

#[test]
fn parallel_branches_keep_the_serial_bits() {
    for n in [1000, (1 << 17) + 1, 1_000_007] {
        let x = gen_f64(n, seed(n, 5));
        for flag in [true, false] {
            let want = sum_or_max_par::serial(&x, flag);
            for (threads, pool) in par::pools() {
                let got = pool.install(|| per_level(|_| sum_or_max_par::parallel(&x, flag)));
                check_scalar(&format!("n = {n}, flag {flag}, {threads} threads"), want, &got, Cmp::NanAny);
            }
        }
    }
}

/// `np.diff(x).sum()`, 0 under two elements: the slices are cut only when the branch runs.
#[kernel]
fn diff_sum(x: &[f64]) -> f64 {
    if x.len() < 2 {
        0.0
    } else {
        (&x[1..] - &x[..x.len() - 1]).sum()
    }
}

#[kernel]
fn diff_sum_plain(x: &[f64]) -> f64 {
    (&x[1..] - &x[..x.len() - 1]).sum()
}

/// A slice against a whole array on a branch: their lengths are checked only there.
#[kernel]
fn lagged_dot(x: &[f64], z: &[f64]) -> f64 {
    if z.is_empty() {
        -1.0
    } else {
        (&x[1..] * z).sum()
    }
}

/// Arrays in both branches are an elementwise select: every slice is cut.
#[kernel]
fn shifted_or_not(x: &[f64], flag: bool) -> Vec<f64> {
    if flag {
        &x[1..] * 2.0
    } else {
        &x[..x.len() - 1] * 1.0
    }
}

/// A branch with a loop runs as written, its slice too.
#[kernel]
fn loop_and_slice(x: &[f64], flag: bool) -> f64 {
    if flag {
        let mut s = 0.0;
        for i in 0..x.len() {
            s += x[i];
        }
        s + x[1..].max()
    } else {
        0.0
    }
}

#[test]
fn slices_on_a_branch_are_cut_only_there() {
    assert_eq!(diff_sum(&[]), 0.0);
    assert_eq!(diff_sum(&[5.0]), 0.0);
    assert_eq!(lagged_dot(&[1.0, 2.0, 3.0], &[]), -1.0);
    assert!(panic_message(|| lagged_dot(&[1.0, 2.0, 3.0], &[1.0])).contains("`x[1..]` has 2"));
    for &n in LENGTHS.iter().filter(|&&n| n >= 2) {
        let x = gen_f64(n, seed(n, 6));
        check_scalar(&format!("diff_sum n = {n}"), diff_sum_plain(&x), &per_level(|_| diff_sum(&x)), Cmp::NanAny);
        let z = gen_f64(n - 1, seed(n, 7));
        let want: f64 = sum_of(ArrayView1::from(&x[1..].iter().zip(&z).map(|(a, b)| a * b).collect::<Vec<_>>()[..]));
        check_scalar(&format!("lagged_dot n = {n}"), want, &per_level(|_| lagged_dot(&x, &z)), Cmp::NanAny);
        let up: Vec<f64> = x[1..].iter().map(|v| v * 2.0).collect();
        let down: Vec<f64> = x[..n - 1].to_vec();
        check_levels(&format!("shifted n = {n}"), &up, &per_level(|_| shifted_or_not(&x, true)), Cmp::NanAny);
        check_levels(&format!("shifted n = {n}"), &down, &per_level(|_| shifted_or_not(&x, false)), Cmp::NanAny);
        let mut s = 0.0;
        for v in &x {
            s += v;
        }
        let want = s + max_of(ArrayView1::from(&x[1..]));
        check_scalar(&format!("loop_and_slice n = {n}"), want, &per_level(|_| loop_and_slice(&x, true)), Cmp::NanAny);
        assert_eq!(loop_and_slice(&x, false), 0.0);
    }
}
