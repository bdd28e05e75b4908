//! Eager stand-ins for the N-d kernels of `tests/nd_kernels.rs.pending`: the same names and
//! signatures, written with ndarray (one temporary per operation) and the existing 1-D
//! `#[kernel]`s for every reduction over a lane, so that they already keep the N-d contract
//! the tests check (a reduction over an axis or over the whole array is the 1-D reduction of
//! the lane / of the C-order flattening; elementwise math is loopfuse's `math::exp`; the
//! panics name the kernel). They exist so that the harness can be run before the macro
//! supports N-d; see `tests/nd_kernels.rs.pending` for the one-line switch.
#![allow(dead_code)]

use loopfuse::kernel;
use ndarray::{Array1, Array2, Array3, ArrayD, ArrayView1, ArrayView2, ArrayView3, ArrayViewD, Axis, Zip};

/// `false` here, `true` in the real kernels.
pub const REAL: bool = false;

#[kernel]
fn sum1(x: &[f64]) -> f64 {
    x.sum()
}

#[kernel]
fn mean1(x: &[f64]) -> f64 {
    x.mean()
}

/// The lane `x[.., j]` (axis 0) or `x[i, ..]` (axis 1) as a contiguous vector.
fn lanes(x: &ArrayView2<f64>, axis: usize) -> Vec<Vec<f64>> {
    x.lanes(Axis(axis)).into_iter().map(|l| l.to_vec()).collect()
}

fn sum_axis(x: &ArrayView2<f64>, axis: usize) -> Array1<f64> {
    lanes(x, axis).iter().map(|l| sum1(l)).collect()
}

fn mean_axis(x: &ArrayView2<f64>, axis: usize) -> Array1<f64> {
    lanes(x, axis).iter().map(|l| mean1(l)).collect()
}

/// Two-pass, as `np.var`: the 1-D mean, then the 1-D sum of squared deviations.
fn var_axis(x: &ArrayView2<f64>, axis: usize, ddof: f64) -> Array1<f64> {
    lanes(x, axis)
        .iter()
        .map(|l| {
            if l.is_empty() {
                return f64::NAN;
            }
            let m = mean1(l);
            let d: Vec<f64> = l.iter().map(|&v| (v - m) * (v - m)).collect();
            sum1(&d) / (l.len() as f64 - ddof)
        })
        .collect()
}

fn empty_axis(kernel: &str, reduction: &str, axis: usize, shape: &[usize]) -> ! {
    panic!("kernel `{kernel}`: `{reduction}` over axis {axis} of shape {shape:?}: an empty axis has no value")
}

/// The broadcast shape of NumPy's rules, or the panic the kernels give.
fn broadcast(kernel: &str, (an, a): (&str, &[usize]), (bn, b): (&str, &[usize])) -> Vec<usize> {
    let n = a.len().max(b.len());
    let get = |s: &[usize], i: usize| if i + s.len() >= n { s[i + s.len() - n] } else { 1 };
    (0..n)
        .map(|i| match (get(a, i), get(b, i)) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => panic!("kernel `{kernel}`: cannot broadcast `{bn}` with shape {b:?} against `{an}` with shape {a:?}"),
        })
        .collect()
}

/// NumPy `max` of a lane: NaN if any element is NaN, `+0.0` preferred between zeros.
fn np_max<T: num_like::F>(l: impl Iterator<Item = T>) -> T {
    let mut m: Option<T> = None;
    for v in l {
        if v.nan() {
            return T::NAN;
        }
        m = Some(match m {
            Some(c) if !(v > c || (v == c && !v.neg())) => c,
            _ => v,
        });
    }
    m.expect("non-empty lane")
}

/// NumPy `min` of a lane: NaN if any element is NaN, `-0.0` preferred between zeros.
fn np_min<T: num_like::F>(l: impl Iterator<Item = T>) -> T {
    let mut m: Option<T> = None;
    for v in l {
        if v.nan() {
            return T::NAN;
        }
        m = Some(match m {
            Some(c) if !(v < c || (v == c && v.neg())) => c,
            _ => v,
        });
    }
    m.expect("non-empty lane")
}

mod num_like {
    pub trait F: Copy + PartialOrd {
        const NAN: Self;
        fn nan(self) -> bool;
        fn neg(self) -> bool;
    }
    impl F for f64 {
        const NAN: f64 = f64::NAN;
        fn nan(self) -> bool {
            self.is_nan()
        }
        fn neg(self) -> bool {
            self.is_sign_negative()
        }
    }
    impl F for f32 {
        const NAN: f32 = f32::NAN;
        fn nan(self) -> bool {
            self.is_nan()
        }
        fn neg(self) -> bool {
            self.is_sign_negative()
        }
    }
}

pub fn standardize_cols(x: ArrayView2<f64>) -> Array2<f64> {
    let m = mean_axis(&x, 0);
    let s = var_axis(&x, 0, 0.0).mapv(f64::sqrt);
    (&x - &m) / &s
}

pub fn softmax_rows(x: ArrayView2<f64>) -> Array2<f64> {
    if x.ncols() == 0 {
        empty_axis("softmax_rows", "max_axis", 1, x.shape());
    }
    let mx: Array1<f64> = x.rows().into_iter().map(|r| np_max(r.iter().copied())).collect();
    let e = (&x - &mx.insert_axis(Axis(1))).mapv(loopfuse::math::exp);
    let s = sum_axis(&e.view(), 1);
    &e / &s.insert_axis(Axis(1))
}

pub fn normalize_rows(x: ArrayView2<f64>) -> Array2<f64> {
    let sq = &x * &x;
    let n = sum_axis(&sq.view(), 1).mapv(f64::sqrt);
    &x / &n.insert_axis(Axis(1))
}

pub fn pairwise_dist(x: ArrayView2<f64>, y: ArrayView2<f64>) -> Array2<f64> {
    let x3 = x.insert_axis(Axis(1));
    let y3 = y.insert_axis(Axis(0));
    let shape = broadcast("pairwise_dist", ("x", x3.shape()), ("y", y3.shape()));
    let (xb, yb) = (x3.broadcast(shape.clone()).unwrap(), y3.broadcast(shape.clone()).unwrap());
    let d = Zip::from(&xb).and(&yb).map_collect(|&a, &b| (a - b).powi(2));
    let d = d.into_dimensionality::<ndarray::Ix3>().unwrap();
    Array2::from_shape_fn((shape[0], shape[1]), |(i, j)| sum1(&d.slice(ndarray::s![i, j, ..]).to_vec()).sqrt())
}

pub fn matvec(a: ArrayView2<f64>, v: ArrayView1<f64>) -> Array1<f64> {
    let shape = broadcast("matvec", ("a", a.shape()), ("v", v.shape()));
    let p = Zip::from(&a.broadcast((shape[0], shape[1])).unwrap())
        .and(&v.broadcast((shape[0], shape[1])).unwrap())
        .map_collect(|&x, &y| x * y);
    sum_axis(&p.view(), 1)
}

pub fn brighten(img: ArrayView3<u8>, gain: f32, bias: f32) -> Array3<u8> {
    img.mapv(|v| (v as f32 * gain + bias).clamp(0.0, 255.0) as u8)
}

pub fn add_bcast(x: ArrayView2<f64>, w: ArrayView1<f64>) -> Array2<f64> {
    broadcast("add_bcast", ("x", x.shape()), ("w", w.shape()));
    &(&x * 2.0) + &w
}

pub fn select2(x: ArrayView2<f64>, y: ArrayView2<f64>) -> Array2<f64> {
    let s = broadcast("select2", ("x", x.shape()), ("y", y.shape()));
    let (xb, yb) = (x.broadcast((s[0], s[1])).unwrap(), y.broadcast((s[0], s[1])).unwrap());
    let mask = Zip::from(&xb).and(&yb).map_collect(|&a, &b| a > b);
    let diff = &xb - &yb;
    let other = (&xb * &yb).mapv(f64::abs).mapv(f64::sqrt);
    Zip::from(&mask).and(&diff).and(&other).map_collect(|&m, &a, &b| if m { a } else { b })
}

pub fn dyn_exp(x: ArrayViewD<f32>) -> ArrayD<f32> {
    (&x * 0.5).mapv(loopfuse::math::exp) - 1.0
}

fn flat(x: &ArrayView2<f64>) -> Vec<f64> {
    x.iter().copied().collect()
}

pub fn sum2(x: ArrayView2<f64>) -> f64 {
    sum1(&flat(&x))
}

pub fn stats2(x: ArrayView2<f64>) -> (f64, f64, f64, f64) {
    let v = flat(&x);
    if v.is_empty() {
        panic!("kernel `stats2`: `min` of an empty array has no value");
    }
    let m = mean1(&v);
    let d: Vec<f64> = v.iter().map(|&a| (a - m) * (a - m)).collect();
    let std = (sum1(&d) / v.len() as f64).sqrt();
    (m, std, np_min(v.iter().copied()), np_max(v.iter().copied()))
}

pub fn count_pos(x: ArrayView3<f64>) -> usize {
    x.iter().filter(|&&v| v > 0.0).count()
}

pub fn sums(x: ArrayView2<f64>) -> (Array1<f64>, Array1<f64>) {
    (sum_axis(&x, 0), sum_axis(&x, 1))
}

pub fn var_cols(x: ArrayView2<f64>) -> Array1<f64> {
    var_axis(&x, 0, 1.0)
}

pub fn argmax_rows(x: ArrayView2<f64>) -> Array1<usize> {
    if x.ncols() == 0 {
        empty_axis("argmax_rows", "argmax_axis", 1, x.shape());
    }
    x.rows()
        .into_iter()
        .map(|r| {
            if let Some(i) = r.iter().position(|v| v.is_nan()) {
                return i;
            }
            let mut k = 0;
            for (i, &v) in r.iter().enumerate() {
                if v > r[k] {
                    k = i;
                }
            }
            k
        })
        .collect()
}

pub fn minmax3(x: ArrayView3<f32>) -> (Array2<f32>, Array2<f32>) {
    let (a, b, c) = x.dim();
    if b == 0 {
        empty_axis("minmax3", "min_axis", 1, x.shape());
    }
    if c == 0 {
        empty_axis("minmax3", "max_axis", 2, x.shape());
    }
    let mn = Array2::from_shape_fn((a, c), |(i, k)| np_min((0..b).map(|j| x[(i, j, k)])));
    let mx = Array2::from_shape_fn((a, b), |(i, j)| np_max((0..c).map(|k| x[(i, j, k)])));
    (mn, mx)
}
