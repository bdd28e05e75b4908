// The fixed part of a generated crate (tests/random_kernels/gen.rs appends the kernels).
// Random programs leave bindings unused or `mut` by design, and the readings are plain loops
// written the way the kernels are: the allowed lints are exactly those.
#![allow(unused_variables, unused_mut, unused_assignments, unused_parens, unused_imports, dead_code)]
#![allow(clippy::all)]

use loopfuse::{kernel, Target};
use ndarray::{s, Array, Array1, Array2, Array3, ArrayD, ArrayView1, ArrayView2, ArrayView3, ArrayViewD, ArrayViewMut2};
use ndarray::{Axis, Dimension, Ix2, IxDyn};
use ndarray::{ShapeBuilder, Zip};
use std::panic::{catch_unwind, AssertUnwindSafe};

// ---- readings of the reductions (README "Semantics"; sums left to right from 0.0) ----------

fn rd_sum(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |a, b| a + b)
}
fn rd_prod(v: &[f64]) -> f64 {
    v.iter().fold(1.0, |a, b| a * b)
}
fn rd_mean(v: &[f64]) -> f64 {
    rd_sum(v) / v.len() as f64
}
fn rd_var(v: &[f64]) -> f64 {
    let m = rd_mean(v);
    v.iter().fold(0.0, |a, x| {
        let d = x - m;
        a + d * d
    }) / v.len() as f64
}
fn rd_std(v: &[f64]) -> f64 {
    rd_var(v).sqrt()
}
/// `x.var(1.0)`: divided by `max(n - 1, 0)`, as NumPy's `ddof = 1`.
fn rd_var1(v: &[f64]) -> f64 {
    let m = rd_mean(v);
    let d = v.len() as f64 - 1.0;
    v.iter().fold(0.0, |a, x| {
        let d = x - m;
        a + d * d
    }) / if d > 0.0 { d } else { 0.0 }
}
fn rd_std1(v: &[f64]) -> f64 {
    rd_var1(v).sqrt()
}
/// NaN if any element is NaN, else the largest, `+0.0` preferred over `-0.0`.
fn rd_max(v: &[f64]) -> f64 {
    assert!(!v.is_empty(), "max of an empty array");
    if v.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    v.iter().fold(f64::NEG_INFINITY, |a, &b| if b > a || (b == a && b.is_sign_positive()) { b } else { a })
}
/// NaN if any element is NaN, else the smallest, `-0.0` preferred over `+0.0`.
fn rd_min(v: &[f64]) -> f64 {
    assert!(!v.is_empty(), "min of an empty array");
    if v.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    v.iter().fold(f64::INFINITY, |a, &b| if b < a || (b == a && b.is_sign_negative()) { b } else { a })
}
/// The first NaN, else the first largest.
/// NumPy's running values: `out[0] = v[0]`, `out[i] = op(out[i - 1], v[i])`.
fn rd_running(v: &[f64], op: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::with_capacity(v.len());
    for &x in v {
        let next = match out.last() {
            Some(&acc) => op(acc, x),
            None => x,
        };
        out.push(next);
    }
    out
}
fn rd_cumsum(v: &[f64]) -> Vec<f64> {
    rd_running(v, |a, b| a + b)
}
fn rd_cumprod(v: &[f64]) -> Vec<f64> {
    rd_running(v, |a, b| a * b)
}
/// `np.maximum.accumulate`: NaN propagates, the earlier of equal values is kept.
fn rd_cummax(v: &[f64]) -> Vec<f64> {
    rd_running(v, |a, b| if a >= b || a.is_nan() { a } else { b })
}
fn rd_cummin(v: &[f64]) -> Vec<f64> {
    rd_running(v, |a, b| if a <= b || a.is_nan() { a } else { b })
}
fn rd_argmax(v: &[f64]) -> usize {
    assert!(!v.is_empty(), "argmax of an empty array");
    if let Some(i) = v.iter().position(|x| x.is_nan()) {
        return i;
    }
    let mut best = 0;
    for i in 1..v.len() {
        if v[i] > v[best] {
            best = i;
        }
    }
    best
}
fn rd_argmin(v: &[f64]) -> usize {
    assert!(!v.is_empty(), "argmin of an empty array");
    if let Some(i) = v.iter().position(|x| x.is_nan()) {
        return i;
    }
    let mut best = 0;
    for i in 1..v.len() {
        if v[i] < v[best] {
            best = i;
        }
    }
    best
}
fn rd_any(v: &[bool]) -> bool {
    v.iter().any(|&b| b)
}
fn rd_all(v: &[bool]) -> bool {
    v.iter().all(|&b| b)
}
fn rd_count(v: &[bool]) -> usize {
    v.iter().filter(|&&b| b).count()
}
fn rd_dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y)
}

// ---- results as values -----------------------------------------------------------------------

#[derive(Clone, Debug)]
enum V {
    F(f64),
    U(usize),
    B(bool),
    A(Vec<f64>),
    /// An N-d result: its shape and its elements in logical C order.
    N(Vec<usize>, Vec<f64>),
    NU(Vec<usize>, Vec<usize>),
    NB(Vec<usize>, Vec<bool>),
}

trait Vals {
    fn vals(self, out: &mut Vec<V>);
}
impl Vals for f64 {
    fn vals(self, out: &mut Vec<V>) {
        out.push(V::F(self))
    }
}
impl Vals for usize {
    fn vals(self, out: &mut Vec<V>) {
        out.push(V::U(self))
    }
}
impl Vals for bool {
    fn vals(self, out: &mut Vec<V>) {
        out.push(V::B(self))
    }
}
impl Vals for Vec<f64> {
    fn vals(self, out: &mut Vec<V>) {
        out.push(V::A(self))
    }
}
impl<D: Dimension> Vals for Array<f64, D> {
    fn vals(self, out: &mut Vec<V>) {
        out.push(V::N(self.shape().to_vec(), self.iter().copied().collect()))
    }
}
impl<D: Dimension> Vals for Array<usize, D> {
    fn vals(self, out: &mut Vec<V>) {
        out.push(V::NU(self.shape().to_vec(), self.iter().copied().collect()))
    }
}
impl<D: Dimension> Vals for Array<bool, D> {
    fn vals(self, out: &mut Vec<V>) {
        out.push(V::NB(self.shape().to_vec(), self.iter().copied().collect()))
    }
}
impl Vals for () {
    fn vals(self, _: &mut Vec<V>) {}
}
impl<A: Vals, B: Vals> Vals for (A, B) {
    fn vals(self, out: &mut Vec<V>) {
        self.0.vals(out);
        self.1.vals(out);
    }
}
impl<A: Vals, B: Vals, C: Vals> Vals for (A, B, C) {
    fn vals(self, out: &mut Vec<V>) {
        self.0.vals(out);
        self.1.vals(out);
        self.2.vals(out);
    }
}

/// How a result must match the reading.
#[derive(Clone, Copy, Debug, PartialEq)]
enum M {
    /// Bit for bit, any NaN equals any NaN.
    Exact,
    /// As `Exact`, and `+0.0` equals `-0.0` (a `f64::max`/`min` of zeros in lane order).
    Zero,
    /// Within this absolute distance (a variance of bounded terms in lane order).
    Approx(f64),
    /// Depends on a reduction in lane order over inexact terms: levels must agree only.
    Levels,
}

fn same_f(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn matches_f(want: f64, got: f64, m: M) -> bool {
    match m {
        M::Exact => same_f(want, got),
        M::Zero => same_f(want, got) || (want == 0.0 && got == 0.0),
        M::Approx(tol) => same_f(want, got) || (want - got).abs() <= tol,
        M::Levels => true,
    }
}

/// `None` if `got` matches `want` under `m`, else what differs.
fn diff(want: &V, got: &V, m: M) -> Option<String> {
    match (want, got) {
        (V::F(w), V::F(g)) => (!matches_f(*w, *g, m)).then(|| format!("want {w:?}, got {g:?}")),
        (V::U(w), V::U(g)) => (m != M::Levels && w != g).then(|| format!("want {w}, got {g}")),
        (V::B(w), V::B(g)) => (m != M::Levels && w != g).then(|| format!("want {w}, got {g}")),
        (V::A(w), V::A(g)) => {
            if w.len() != g.len() {
                return Some(format!("want {} elements, got {}", w.len(), g.len()));
            }
            w.iter()
                .zip(g)
                .position(|(a, b)| !matches_f(*a, *b, m))
                .map(|i| format!("element {i}: want {:?}, got {:?}", w[i], g[i]))
        }
        (V::N(sw, w), V::N(sg, g)) => {
            if sw != sg {
                return Some(format!("want shape {sw:?}, got {sg:?}"));
            }
            w.iter()
                .zip(g)
                .position(|(a, b)| !matches_f(*a, *b, m))
                .map(|i| format!("element {} (C order) of shape {sw:?}: want {:?}, got {:?}", i, w[i], g[i]))
        }
        (V::NU(sw, w), V::NU(sg, g)) => (sw != sg || w != g).then(|| format!("want {sw:?} {w:?}, got {sg:?} {g:?}")),
        (V::NB(sw, w), V::NB(sg, g)) => (sw != sg || w != g).then(|| format!("want {sw:?} {w:?}, got {sg:?} {g:?}")),
        _ => Some(format!("want {want:?}, got {got:?}")),
    }
}

/// Levels agree bit for bit (any NaN equals any NaN).
fn same_v(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::F(x), V::F(y)) => same_f(*x, *y),
        (V::U(x), V::U(y)) => x == y,
        (V::B(x), V::B(y)) => x == y,
        (V::A(x), V::A(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_f(*a, *b)),
        (V::N(sx, x), V::N(sy, y)) => sx == sy && x.iter().zip(y).all(|(a, b)| same_f(*a, *b)),
        (V::NU(sx, x), V::NU(sy, y)) => sx == sy && x == y,
        (V::NB(sx, x), V::NB(sy, y)) => sx == sy && x == y,
        _ => false,
    }
}

fn run<R>(f: impl FnOnce() -> R) -> Option<R> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

fn levels<R>(mut f: impl FnMut() -> R) -> Vec<(Target, R)> {
    loopfuse::supported_targets().into_iter().map(|t| (t, loopfuse::with_target(t, &mut f))).collect()
}

// ---- data ------------------------------------------------------------------------------------

struct Rng(u64);
impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5851_f42d_4c95_7f2d)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
}

const LENS: &[usize] = &[0, 1, 2, 31, 32, 33, 2047, 2049, 4097];

/// Data sets: 0 and 1 "exact" (halves in -8..=8, one in eight a NaN, ±inf or ±0: every
/// sum of bounded terms is exact in any order), 2 general (random magnitudes 2^-20..2^20,
/// NaN, ±inf, -0.0, subnormals, extremes, random bits).
const SETS: usize = 3;

fn is_exact(set: usize) -> bool {
    set < 2
}

fn data(set: usize, n: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng::new(seed.wrapping_mul(0x9e37_79b9) ^ ((n as u64) << 20) ^ ((set as u64) << 50));
    let sp = [f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0];
    let gsp = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        -f64::from_bits(0x000f_ffff_ffff_ffff),
        f64::MAX,
        f64::MIN,
        1e300,
        -1e-300,
        0.5,
        -2.5,
        4_503_599_627_370_497.0,
    ];
    (0..n)
        .map(|_| {
            if is_exact(set) {
                match r.below(8) {
                    0 => sp[r.below(sp.len() as u64) as usize],
                    _ => (r.below(33) as f64 - 16.0) * 0.5,
                }
            } else {
                match r.below(64) {
                    0 => f64::from_bits(r.next_u64()),
                    1..=8 => gsp[r.below(gsp.len() as u64) as usize],
                    _ => {
                        let m = 1.0 + (r.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
                        let e = r.below(41) as i32 - 20;
                        let s = if r.below(2) == 0 { 1.0 } else { -1.0 };
                        s * m * 2f64.powi(e)
                    }
                }
            }
        })
        .collect()
}

fn scalar(set: usize, seed: u64) -> f64 {
    let mut r = Rng::new(seed ^ ((set as u64) << 40));
    if is_exact(set) {
        (r.below(9) as f64 - 4.0) * 0.5
    } else {
        data(set, 1, seed)[0]
    }
}

/// A strided (`s![..;2]`) or reversed (`s![..;-1]`) view of `n` elements of `back`
/// (`2 * n` elements).
fn view(back: &[f64], n: usize, set: usize) -> ArrayView1<'_, f64> {
    let v = ArrayView1::from(back);
    if set % 2 == 0 {
        v.slice_move(s![..;2])
    } else {
        v.slice_move(s![..n;-1])
    }
}

// ---- checking --------------------------------------------------------------------------------

struct Ctx {
    cases: usize,
    /// Cases where the reading panics (the kernel must too).
    panicking: usize,
    failures: Vec<String>,
}

impl Ctx {
    /// Compares one case: panics where the reading panics, results by `modes`, levels with
    /// each other bit for bit. Returns false on the first mismatch.
    fn check(
        &mut self,
        k: usize,
        src: &str,
        n: usize,
        set: usize,
        want: &Option<Vec<V>>,
        got: &[(Target, Option<Vec<V>>)],
        modes: &[M],
    ) -> bool {
        self.check_at(k, src, &format!("n = {n}"), set, want, got, modes)
    }

    /// [`Ctx::check`] with the case described by `case` (N-d: shapes and layouts).
    fn check_at(
        &mut self,
        k: usize,
        src: &str,
        case: &str,
        set: usize,
        want: &Option<Vec<V>>,
        got: &[(Target, Option<Vec<V>>)],
        modes: &[M],
    ) -> bool {
        self.cases += 1;
        self.panicking += want.is_none() as usize;
        let mut fail = |what: String| {
            self.failures.push(format!("kernel k{k} ({case}, data set {set}): {what}\n{src}"));
            false
        };
        for (t, g) in got {
            match (want, g) {
                (None, None) => {}
                (None, Some(_)) => return fail(format!("at {t:?}: the reading panics, the kernel does not")),
                (Some(_), None) => return fail(format!("at {t:?}: the kernel panics, the reading does not")),
                (Some(w), Some(g)) => {
                    assert_eq!(w.len(), modes.len());
                    for (j, ((w, g), m)) in w.iter().zip(g).zip(modes).enumerate() {
                        if let Some(d) = diff(w, g, *m) {
                            return fail(format!("at {t:?}, result {j} ({m:?}): {d}"));
                        }
                    }
                }
            }
        }
        let (t0, g0) = &got[0];
        for (t, g) in &got[1..] {
            if let (Some(a), Some(b)) = (g0, g) {
                for (j, (x, y)) in a.iter().zip(b).enumerate() {
                    if !same_v(x, y) {
                        return fail(format!("result {j}: {t0:?} gives {x:?} but {t:?} gives {y:?}"));
                    }
                }
            }
        }
        true
    }
}

// ---- N-d (tests/random_kernels/nd.rs) ------------------------------------------------------------
//
// An N-d reading computes every value eagerly as a logical `ArrayD` (scalars as 0-d arrays),
// elementwise by plain Rust on each element under NumPy broadcasting; each reduction is the
// 1-D `#[kernel]` reduction below over the lane (axis reductions) or over the logical C-order
// sequence (whole reductions): the N-d order contract (README "The kernel language"), so a
// kernel must equal its reading bit for bit on any data.

#[kernel]
fn k1_sum(x: &[f64]) -> f64 {
    x.sum()
}
#[kernel]
fn k1_prod(x: &[f64]) -> f64 {
    x.prod()
}
#[kernel]
fn k1_mean(x: &[f64]) -> f64 {
    x.mean()
}
#[kernel]
fn k1_var(x: &[f64]) -> f64 {
    x.var()
}
#[kernel]
fn k1_std(x: &[f64]) -> f64 {
    x.std()
}
#[kernel]
fn k1_min(x: &[f64]) -> f64 {
    x.min()
}
#[kernel]
fn k1_max(x: &[f64]) -> f64 {
    x.max()
}
#[kernel]
fn k1_argmin(x: &[f64]) -> usize {
    x.argmin()
}
#[kernel]
fn k1_argmax(x: &[f64]) -> usize {
    x.argmax()
}

/// `var_axis(.., ddof)`: two passes, `Σ (x - mean)² / (n - ddof)` with the 1-D mean and sum;
/// NaN on an empty lane.
fn k1_var_dd(x: &[f64], ddof: f64) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let m = k1_mean(x);
    let d: Vec<f64> = x.iter().map(|&v| (v - m) * (v - m)).collect();
    k1_sum(&d) / (x.len() as f64 - ddof)
}
fn k1_std_dd(x: &[f64], ddof: f64) -> f64 {
    k1_var_dd(x, ddof).sqrt()
}

// The same in order, for `#[kernel(strict)]` kernels (`k1s_*`).
#[kernel(strict)]
fn k1s_sum(x: &[f64]) -> f64 {
    x.sum()
}
#[kernel(strict)]
fn k1s_prod(x: &[f64]) -> f64 {
    x.prod()
}
#[kernel(strict)]
fn k1s_mean(x: &[f64]) -> f64 {
    x.mean()
}
#[kernel(strict)]
fn k1s_var(x: &[f64]) -> f64 {
    x.var()
}
#[kernel(strict)]
fn k1s_std(x: &[f64]) -> f64 {
    x.std()
}
#[kernel(strict)]
fn k1s_min(x: &[f64]) -> f64 {
    x.min()
}
#[kernel(strict)]
fn k1s_max(x: &[f64]) -> f64 {
    x.max()
}
#[kernel(strict)]
fn k1s_argmin(x: &[f64]) -> usize {
    x.argmin()
}
#[kernel(strict)]
fn k1s_argmax(x: &[f64]) -> usize {
    x.argmax()
}
fn k1s_var_dd(x: &[f64], ddof: f64) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let m = k1s_mean(x);
    let d: Vec<f64> = x.iter().map(|&v| (v - m) * (v - m)).collect();
    k1s_sum(&d) / (x.len() as f64 - ddof)
}
fn k1s_std_dd(x: &[f64], ddof: f64) -> f64 {
    k1s_var_dd(x, ddof).sqrt()
}
use crate::{k1_all as k1s_all, k1_any as k1s_any, k1_count as k1s_count};
fn k1_count(x: &[bool]) -> usize {
    x.iter().filter(|&&b| b).count()
}
fn k1_any(x: &[bool]) -> bool {
    x.iter().any(|&b| b)
}
fn k1_all(x: &[bool]) -> bool {
    x.iter().all(|&b| b)
}

/// A scalar as a 0-d array.
fn sc<T: Clone>(v: T) -> ArrayD<T> {
    ArrayD::from_elem(IxDyn(&[]), v)
}
/// The value of a 0-d array.
fn s0<T: Copy>(a: &ArrayD<T>) -> T {
    assert_eq!(a.ndim(), 0, "a scalar");
    a[IxDyn(&[])]
}
/// NumPy broadcasting; panics on a mismatch.
fn bshape(a: &[usize], b: &[usize]) -> Vec<usize> {
    let n = a.len().max(b.len());
    let get = |s: &[usize], i: usize| if i + s.len() >= n { s[i + s.len() - n] } else { 1 };
    (0..n)
        .map(|i| match (get(a, i), get(b, i)) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            (x, y) => panic!("cannot broadcast {x} and {y}"),
        })
        .collect()
}
fn ew1<T: Copy, R>(a: &ArrayD<T>, f: &dyn Fn(T) -> R) -> ArrayD<R> {
    a.map(|&v| f(v))
}
fn ew2<T: Copy, U: Copy, R>(a: &ArrayD<T>, b: &ArrayD<U>, f: &dyn Fn(T, U) -> R) -> ArrayD<R> {
    let s = IxDyn(&bshape(a.shape(), b.shape()));
    Zip::from(&a.broadcast(s.clone()).unwrap()).and(&b.broadcast(s).unwrap()).map_collect(|&x, &y| f(x, y))
}
fn ew3<T: Copy, U: Copy, W: Copy, R>(
    a: &ArrayD<T>,
    b: &ArrayD<U>,
    c: &ArrayD<W>,
    f: &dyn Fn(T, U, W) -> R,
) -> ArrayD<R> {
    let s = IxDyn(&bshape(&bshape(a.shape(), b.shape()), c.shape()));
    Zip::from(&a.broadcast(s.clone()).unwrap())
        .and(&b.broadcast(s.clone()).unwrap())
        .and(&c.broadcast(s).unwrap())
        .map_collect(|&x, &y, &z| f(x, y, z))
}
/// `t op= e`: `e` broadcasts to `t`'s shape (it may not grow it).
fn comp(t: &ArrayD<f64>, e: &ArrayD<f64>, f: &dyn Fn(f64, f64) -> f64) -> ArrayD<f64> {
    let r = ew2(t, e, f);
    assert_eq!(r.shape(), t.shape(), "a compound assignment would grow the shape");
    r
}
/// A whole reduction: the 1-D reduction of the logical C-order sequence.
fn whole<T: Copy, R: Clone>(a: &ArrayD<T>, f: &dyn Fn(&[T]) -> R) -> ArrayD<R> {
    sc(f(&a.iter().copied().collect::<Vec<T>>()))
}
/// An axis reduction: the 1-D reduction of each lane along axis `k`; `empty_panics`: min,
/// max, argmin, argmax panic on an empty axis (even with no lanes).
fn along<T: Copy, R>(a: &ArrayD<T>, k: usize, empty_panics: bool, f: &dyn Fn(&[T]) -> R) -> ArrayD<R> {
    assert!(!(empty_panics && a.shape()[k] == 0), "an empty axis");
    a.map_axis(Axis(k), |lane| f(&lane.iter().copied().collect::<Vec<T>>()))
}
fn ins<T: Clone>(a: &ArrayD<T>, k: usize) -> ArrayD<T> {
    a.clone().insert_axis(Axis(k))
}
fn tr<T: Clone>(a: &ArrayD<T>) -> ArrayD<T> {
    a.t().to_owned()
}

/// The N-d shapes `(n, m)` of `x` and `y`, `w` has `m` elements (or 1): empty either way,
/// single rows and columns, odd sizes both ways around, one 64-element side.
/// (3, 20000) and (20000, 3) make several blocks of a chain (256 KiB each: one row, one column).
const SHAPES_ND: &[(usize, usize)] = &[
    (0, 0),
    (0, 3),
    (3, 0),
    (1, 1),
    (1, 17),
    (17, 1),
    (2, 3),
    (3, 2),
    (17, 31),
    (33, 17),
    (31, 64),
    (64, 33),
    (3, 20000),
    (20000, 3),
];
/// The shapes of kernels that combine `x` with `x.t()` (n == m); (200, 200) makes two blocks.
const SHAPES_SQ: &[(usize, usize)] = &[(0, 0), (1, 1), (2, 2), (3, 3), (17, 17), (33, 33), (64, 64), (200, 200)];
/// The shapes of `parallel` kernels: also one past the threshold (2^17 elements), where the
/// passes run on the pool; odd lengths, so whole reductions split inside rows.
const SHAPES_ND_PAR: &[(usize, usize)] = &[(0, 0), (1, 17), (17, 31), (64, 33), (3, 20000), (401, 331)];
const SHAPES_SQ_PAR: &[(usize, usize)] = &[(0, 0), (3, 3), (33, 33), (200, 200), (363, 363)];

/// An `(n, m)` matrix of data set `set`, filled in C order.
fn mat(set: usize, n: usize, m: usize, seed: u64) -> Array2<f64> {
    Array2::from_shape_vec((n, m), data(set, n * m, seed ^ ((m as u64) << 32))).unwrap()
}

/// A `(k, n, m)` array of data set `set`, filled in C order.
fn cube(set: usize, k: usize, n: usize, m: usize, seed: u64) -> Array3<f64> {
    Array3::from_shape_vec((k, n, m), data(set, k * n * m, seed ^ ((m as u64) << 32) ^ ((n as u64) << 16))).unwrap()
}

/// What surrounds the elements of a strided layout: a kernel that reads it shows it.
const GARBAGE: f64 = -7.777e77;

/// The same logical matrix in the layouts a kernel must accept: C, F, `T(padded)` (the
/// transpose of a C array with a padded last axis, transposed back), `step2`
/// (`[1..;2, 1..;2]` of a larger array), `rev0` (axis 0 reversed), `rev_all` (both).
struct L2 {
    n: usize,
    m: usize,
    owners: Vec<Array2<f64>>,
}
const L2_NAMES: &[&str] = &["C", "F", "T(padded)", "step2", "rev0", "rev_all"];

impl L2 {
    fn new(x: &Array2<f64>) -> L2 {
        let (n, m) = x.dim();
        let c = x.clone();
        let f = Array2::from_shape_vec((n, m).f(), x.t().iter().copied().collect()).unwrap();
        let mut t = Array2::from_elem((m, n + 3), GARBAGE);
        t.slice_mut(s![.., ..n]).assign(&x.t());
        let mut st = Array2::from_elem((2 * n + 1, 2 * m + 1), GARBAGE);
        st.slice_mut(s![1..;2, 1..;2]).assign(x);
        let r0 = x.slice(s![..;-1, ..]).to_owned();
        let ra = x.slice(s![..;-1, ..;-1]).to_owned();
        L2 { n, m, owners: vec![c, f, t, st, r0, ra] }
    }
    fn views(&self) -> Vec<(&'static str, ArrayView2<'_, f64>)> {
        let o = &self.owners;
        let mut r0 = o[4].view();
        r0.invert_axis(Axis(0));
        let mut ra = o[5].view();
        ra.invert_axis(Axis(0));
        ra.invert_axis(Axis(1));
        let v = vec![
            o[0].view(),
            o[1].view(),
            o[2].slice(s![.., ..self.n]).reversed_axes(),
            o[3].slice(s![1..;2, 1..;2]),
            r0,
            ra,
        ];
        for x in &v {
            assert_eq!(x.dim(), (self.n, self.m));
        }
        L2_NAMES.iter().copied().zip(v).collect()
    }
    /// Layout `i` of [`L2::views`], writable (an output parameter).
    fn view_mut(&mut self, i: usize) -> ArrayViewMut2<'_, f64> {
        let n = self.n;
        let o = &mut self.owners[i];
        match i {
            2 => o.slice_mut(s![.., ..n]).reversed_axes(),
            3 => o.slice_mut(s![1..;2, 1..;2]),
            4 => {
                let mut v = o.view_mut();
                v.invert_axis(Axis(0));
                v
            }
            5 => {
                let mut v = o.view_mut();
                v.invert_axis(Axis(0));
                v.invert_axis(Axis(1));
                v
            }
            _ => o.view_mut(),
        }
    }
}

/// The same logical 3-D array in C, F, `perm` (a C array of axes `(m, k, n)` with its axes
/// permuted back), `step2` (every axis stepped) and `rev1` (axis 1 reversed) layouts.
struct L3 {
    dim: (usize, usize, usize),
    owners: Vec<Array3<f64>>,
}
impl L3 {
    fn new(z: &Array3<f64>) -> L3 {
        let (k, n, m) = z.dim();
        let f = Array3::from_shape_vec((k, n, m).f(), z.t().iter().copied().collect()).unwrap();
        let p = z.view().permuted_axes([2, 0, 1]).as_standard_layout().into_owned();
        let mut st = Array3::from_elem((2 * k + 1, 2 * n + 1, 2 * m + 1), GARBAGE);
        st.slice_mut(s![1..;2, 1..;2, 1..;2]).assign(z);
        let r1 = z.slice(s![.., ..;-1, ..]).to_owned();
        L3 { dim: (k, n, m), owners: vec![z.clone(), f, p, st, r1] }
    }
    fn views(&self) -> Vec<(&'static str, ArrayView3<'_, f64>)> {
        let o = &self.owners;
        let mut r1 = o[4].view();
        r1.invert_axis(Axis(1));
        let v = vec![o[0].view(), o[1].view(), o[2].view().permuted_axes([1, 2, 0]), o[3].slice(s![1..;2, 1..;2, 1..;2]), r1];
        for z in &v {
            assert_eq!(z.dim(), self.dim);
        }
        ["C", "F", "perm", "step2", "rev1"].into_iter().zip(v).collect()
    }
}

/// A vector as C, `step2` and reversed views.
struct L1 {
    owners: Vec<Array1<f64>>,
}
impl L1 {
    fn new(w: &Array1<f64>) -> L1 {
        let mut st = Array1::from_elem(2 * w.len() + 1, GARBAGE);
        st.slice_mut(s![1..;2]).assign(w);
        L1 { owners: vec![w.clone(), st, w.slice(s![..;-1]).to_owned()] }
    }
    fn views(&self) -> Vec<(&'static str, ArrayView1<'_, f64>)> {
        let mut r = self.owners[2].view();
        r.invert_axis(Axis(0));
        vec![("C", self.owners[0].view()), ("step2", self.owners[1].slice(s![1..;2])), ("rev", r)]
    }
}
