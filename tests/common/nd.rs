//! Shared helpers of the N-d differential tests (`tests/nd_*.rs`): the same logical array in
//! every layout, N-d data with special values, the naive scalar reading of every N-d kernel,
//! and a driver that runs a kernel at every layout × CPU level and says where it differs.
//!
//! Declared by each N-d test as `#[path = "common/nd.rs"] mod nd;` next to `mod common;`.
//!
//! **Readings.** Every `naive_*` function is a nested loop over the broadcast shape in
//! logical C order, with the reductions it contains delegated to an [`Order`]:
//! - [`Seq`]: the plain sequential loop and Rust std math (`f64::exp`): the naive scalar
//!   reading of SPEC §1, which a kernel must match within the summation bound;
//! - [`OneD`]: each reduction is the existing 1-D `#[kernel]` over the lane (or over the
//!   C-order flattening for a whole reduction) and math is `loopfuse::math`, which is the
//!   N-d contract: a kernel must match this reading bit for bit.
#![allow(dead_code)]

use crate::common::*;
use loopfuse::{kernel, Target};
use ndarray::{Array, Array1, Array2, Array3, ArrayD, ArrayView, Axis, Dimension, IxDyn, ShapeBuilder, Slice};
use std::fmt::Debug;

// ---- the 1-D kernels the N-d order is defined by --------------------------------------------------

#[kernel]
pub fn sum1(x: &[f64]) -> f64 {
    x.sum()
}

#[kernel]
pub fn mean1(x: &[f64]) -> f64 {
    x.mean()
}

#[kernel]
pub fn var1(x: &[f64]) -> f64 {
    x.var()
}

#[kernel]
pub fn std1(x: &[f64]) -> f64 {
    x.std()
}

#[kernel]
pub fn min1(x: &[f64]) -> f64 {
    x.min()
}

#[kernel]
pub fn max1(x: &[f64]) -> f64 {
    x.max()
}

// ---- layouts --------------------------------------------------------------------------------------

/// The value written around the elements of a strided layout: if a kernel reads it, the
/// result shows it (a huge value, not a NaN, so it does not hide among the test's NaNs).
pub trait Garbage: Clone + Debug {
    const GARBAGE: Self;
    /// The bits, to find axes along which an array is constant.
    fn key(&self) -> u64;
}
impl Garbage for f64 {
    const GARBAGE: f64 = -7.777e77;
    fn key(&self) -> u64 {
        self.to_bits()
    }
}
impl Garbage for f32 {
    const GARBAGE: f32 = -7.777e27;
    fn key(&self) -> u64 {
        self.to_bits() as u64
    }
}
impl Garbage for u8 {
    const GARBAGE: u8 = 0xa5;
    fn key(&self) -> u64 {
        *self as u64
    }
}

#[derive(Clone, Debug)]
enum Kind<D> {
    /// The owner itself (C or F order).
    Plain,
    /// `owner[.., 0..len]` (the last axis padded by 3), then `permuted_axes(inverse)`.
    PermutedPadded(D),
    /// `owner[1..;2, 1..;2, ..]` on every axis.
    Step2,
    /// The owner with these axes inverted (the owner holds them flipped).
    Reversed(Vec<usize>),
    /// `owner.broadcast(shape)`: the owner has length 1 on one axis.
    Broadcast,
}

/// The same logical array stored in every layout the kernels must accept. The owners live
/// here; [`Layouts::views`] gives the views, each named.
pub struct Layouts<A, D: Dimension> {
    dim: D,
    items: Vec<(String, Array<A, D>, Kind<D>)>,
}

/// `a` copied into a fresh C-order array.
pub fn c_copy<A: Clone, D: Dimension>(a: &ArrayView<A, D>) -> Array<A, D> {
    Array::from_shape_vec(a.raw_dim(), a.iter().cloned().collect()).expect("C copy")
}

impl<A: Garbage, D: Dimension> Layouts<A, D> {
    /// Every layout of `a`: `C`, `F`, `T(padded)` (a permuted view of a C array of the
    /// axes rotated, its last axis padded: a transpose for 2-D), `step2` (every axis
    /// `1..;2` of a larger array), `rev0` (axis 0 reversed), `rev_all` (every axis
    /// reversed), and `bcast{k}` (stride 0 along axis `k`) for every axis `k` of length > 1
    /// along which `a` is constant, bit for bit.
    pub fn new(a: &Array<A, D>) -> Self {
        let dim = a.raw_dim();
        let nd = dim.ndim();
        let mut items = vec![("C".to_string(), c_copy(&a.view()), Kind::Plain)];
        if nd >= 2 {
            let f = Array::from_shape_vec(dim.clone().f(), a.t().iter().cloned().collect()).expect("F copy");
            items.push(("F".to_string(), f, Kind::Plain));
            let mut perm = D::zeros(nd);
            let mut inv = D::zeros(nd);
            for i in 0..nd {
                perm[i] = (i + 1) % nd;
                inv[(i + 1) % nd] = i;
            }
            let rotated = a.view().permuted_axes(perm);
            let mut big_dim = rotated.raw_dim();
            big_dim[nd - 1] += 3;
            let mut big = Array::from_elem(big_dim, A::GARBAGE);
            big.slice_each_axis_mut(|ax| {
                if ax.axis.index() == nd - 1 {
                    Slice::from(0..ax.len - 3)
                } else {
                    Slice::from(..)
                }
            })
            .assign(&rotated);
            items.push(("T(padded)".to_string(), big, Kind::PermutedPadded(inv)));
        }
        if nd >= 1 {
            let mut big_dim = dim.clone();
            for i in 0..nd {
                big_dim[i] = 2 * dim[i] + 1;
            }
            let mut big = Array::from_elem(big_dim, A::GARBAGE);
            big.slice_each_axis_mut(|_| Slice::new(1, None, 2)).assign(a);
            items.push(("step2".to_string(), big, Kind::Step2));
            for (name, axes) in [("rev0", vec![0]), ("rev_all", (0..nd).collect::<Vec<_>>())] {
                if name == "rev_all" && nd == 1 {
                    continue;
                }
                let mut v = a.view();
                for &k in &axes {
                    v.invert_axis(Axis(k));
                }
                items.push((name.to_string(), c_copy(&v), Kind::Reversed(axes)));
            }
        }
        for k in 0..nd {
            if dim[k] > 1 {
                let first = a.slice_axis(Axis(k), Slice::from(0..1));
                let stretched = first.broadcast(dim.clone()).expect("length 1");
                if stretched.iter().zip(a.iter()).all(|(x, y)| x.key() == y.key()) {
                    let owner = c_copy(&first);
                    items.push((format!("bcast{k}"), owner, Kind::Broadcast));
                }
            }
        }
        Layouts { dim, items }
    }

    /// The views, each equal to the logical array (checked).
    pub fn views(&self) -> Vec<(&str, ArrayView<'_, A, D>)> {
        self.items
            .iter()
            .map(|(name, owner, kind)| {
                let v = match kind {
                    Kind::Plain => owner.view(),
                    Kind::PermutedPadded(inv) => {
                        let nd = self.dim.ndim();
                        owner
                            .slice_each_axis(|ax| {
                                if ax.axis.index() == nd - 1 {
                                    Slice::from(0..ax.len - 3)
                                } else {
                                    Slice::from(..)
                                }
                            })
                            .permuted_axes(inv.clone())
                    }
                    Kind::Step2 => owner.slice_each_axis(|_| Slice::new(1, None, 2)),
                    Kind::Reversed(axes) => {
                        let mut v = owner.view();
                        for &k in axes {
                            v.invert_axis(Axis(k));
                        }
                        v
                    }
                    Kind::Broadcast => owner.broadcast(self.dim.clone()).expect("broadcast layout"),
                };
                assert_eq!(v.raw_dim(), self.dim, "layout {name}");
                (name.as_str(), v)
            })
            .collect()
    }
}

/// Runs `f` on every layout of `a` (the closure form of [`Layouts`]).
pub fn for_each_layout<A: Garbage, D: Dimension>(a: &Array<A, D>, mut f: impl FnMut(&str, ArrayView<'_, A, D>)) {
    let l = Layouts::new(a);
    for (name, v) in l.views() {
        f(name, v)
    }
}

/// The layouts of a 2-D array (`Layouts::new` for `Ix2`).
pub fn layouts2<A: Garbage>(a: &Array2<A>) -> Layouts<A, ndarray::Ix2> {
    Layouts::new(a)
}

/// The layouts of a 3-D array.
pub fn layouts3<A: Garbage>(a: &Array3<A>) -> Layouts<A, ndarray::Ix3> {
    Layouts::new(a)
}

/// The layouts of an `IxDyn` array.
pub fn layouts_dyn<A: Garbage>(a: &ArrayD<A>) -> Layouts<A, IxDyn> {
    Layouts::new(a)
}

// ---- data -----------------------------------------------------------------------------------------

/// The 2-D shapes of every test: empty both ways, a single element, one row longer than the
/// 32 lanes, odd sizes both ways around, and just over a 64-element boundary.
pub const SHAPES2: &[(usize, usize)] = &[(0, 0), (0, 5), (5, 0), (1, 1), (1, 33), (17, 31), (33, 17), (64, 65)];

/// The big shape, used by a few tests only.
pub const BIG2: (usize, usize) = (1000, 1000);

/// 3-D shapes (with empty axes in every position).
pub const SHAPES3: &[(usize, usize, usize)] =
    &[(0, 3, 4), (3, 0, 4), (3, 4, 0), (1, 1, 1), (2, 3, 33), (5, 17, 3), (4, 33, 9), (2, 64, 65)];

/// `IxDyn` shapes, 0-d to 6-d.
pub fn shapes_dyn() -> Vec<Vec<usize>> {
    vec![
        vec![],
        vec![0],
        vec![1],
        vec![33],
        vec![3, 0, 2],
        vec![17, 31],
        vec![2, 3, 33],
        vec![2, 3, 4, 5],
        vec![3, 1, 4, 2, 5],
        vec![2, 1, 3, 2, 2, 9],
    ]
}

/// A seed from a shape and an operand number.
pub fn seed_nd(shape: &[usize], operand: u64) -> u64 {
    shape.iter().fold(operand.wrapping_mul(0x2545_f491_4f6c_dd1d), |s, &n| s.rotate_left(17) ^ seed(n, operand))
}

/// An array of `dim` filled in C order from `gen(len, seed)` (`gen_f64`: specials included).
pub fn gen_nd<T, D: Dimension>(dim: D, seed: u64, gen: Gen<T>) -> Array<T, D> {
    let n = dim.size();
    Array::from_shape_vec(dim, gen(n, seed)).expect("shape")
}

/// `a` with every slice along axis 0 replaced by the first one (so the `bcast0` layout
/// exists); unchanged when axis 0 is empty.
pub fn rows_equal<T: Clone, D: Dimension>(a: &Array<T, D>) -> Array<T, D> {
    if a.len_of(Axis(0)) == 0 {
        return a.clone();
    }
    let first = a.slice_axis(Axis(0), Slice::from(0..1));
    c_copy(&first.broadcast(a.raw_dim()).expect("length 1"))
}

/// A 2-D data set for one shape: `("specials", gen_f64)`, `("finite", gen_finite_f64)` and
/// `("equal rows", ..)` (with the stride-0 layout).
pub fn data2(shape: (usize, usize), operand: u64) -> Vec<(&'static str, Array2<f64>)> {
    let s = seed_nd(&[shape.0, shape.1], operand);
    let specials = gen_nd(ndarray::Ix2(shape.0, shape.1), s, gen_f64);
    let eq = rows_equal(&specials);
    vec![
        ("specials", specials),
        ("finite", gen_nd(ndarray::Ix2(shape.0, shape.1), s ^ 1, gen_finite_f64)),
        ("equal rows", eq),
    ]
}

// ---- the readings ---------------------------------------------------------------------------------

/// How the reductions inside a reading are computed (see the module doc).
pub trait Order {
    fn sum(&self, lane: &[f64]) -> f64;
    fn mean(&self, lane: &[f64]) -> f64;
    fn exp(&self, x: f64) -> f64;
    fn exp32(&self, x: f32) -> f32;
    /// Two-pass, as `np.var`: `Σ (x - mean)² / (n - ddof)` with the mean of [`Order::mean`];
    /// NaN on an empty lane.
    fn var(&self, lane: &[f64], ddof: f64) -> f64 {
        if lane.is_empty() {
            return f64::NAN;
        }
        let m = self.mean(lane);
        let d: Vec<f64> = lane.iter().map(|&v| (v - m) * (v - m)).collect();
        self.sum(&d) / (lane.len() as f64 - ddof)
    }
}

/// The naive scalar reading: sequential sums, Rust std math.
pub struct Seq;
impl Order for Seq {
    fn sum(&self, lane: &[f64]) -> f64 {
        let mut s = 0.0;
        for &v in lane {
            s += v;
        }
        s
    }
    fn mean(&self, lane: &[f64]) -> f64 {
        self.sum(lane) / lane.len() as f64
    }
    fn exp(&self, x: f64) -> f64 {
        x.exp()
    }
    fn exp32(&self, x: f32) -> f32 {
        x.exp()
    }
}

/// The N-d contract: the 1-D kernels over each lane, loopfuse's math.
pub struct OneD;
impl Order for OneD {
    fn sum(&self, lane: &[f64]) -> f64 {
        sum1(lane)
    }
    fn mean(&self, lane: &[f64]) -> f64 {
        mean1(lane)
    }
    fn exp(&self, x: f64) -> f64 {
        loopfuse::math::exp(x)
    }
    fn exp32(&self, x: f32) -> f32 {
        loopfuse::math::exp(x)
    }
}

/// NumPy `max`: NaN if any element is NaN, else the greatest, `+0.0` preferred between zeros.
pub fn np_max(lane: &[f64]) -> f64 {
    assert!(!lane.is_empty());
    let mut m = lane[0];
    for &v in lane {
        if v.is_nan() {
            return f64::NAN;
        }
        if v > m || (v == m && !v.is_sign_negative()) {
            m = v;
        }
    }
    m
}

/// NumPy `min`: NaN if any element is NaN, else the least, `-0.0` preferred between zeros.
pub fn np_min(lane: &[f64]) -> f64 {
    assert!(!lane.is_empty());
    let mut m = lane[0];
    for &v in lane {
        if v.is_nan() {
            return f64::NAN;
        }
        if v < m || (v == m && v.is_sign_negative()) {
            m = v;
        }
    }
    m
}

/// First index of the greatest element; the first NaN if there is one.
pub fn np_argmax(lane: &[f64]) -> usize {
    if let Some(i) = lane.iter().position(|v| v.is_nan()) {
        return i;
    }
    let mut k = 0;
    for (i, &v) in lane.iter().enumerate() {
        if v > lane[k] {
            k = i;
        }
    }
    k
}

fn col(x: &Array2<f64>, j: usize) -> Vec<f64> {
    (0..x.nrows()).map(|i| x[(i, j)]).collect()
}

fn row(x: &Array2<f64>, i: usize) -> Vec<f64> {
    (0..x.ncols()).map(|j| x[(i, j)]).collect()
}

/// NumPy broadcasting of two shapes; `None` on a mismatch.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let get = |s: &[usize], i: usize| if i + s.len() >= n { s[i + s.len() - n] } else { 1 };
    (0..n)
        .map(|i| match (get(a, i), get(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// Index `idx` of the broadcast shape `out` read from an array of shape `shape` (leading
/// axes missing, length-1 axes stretched).
pub fn bcast_index(idx: &[usize], shape: &[usize]) -> Vec<usize> {
    let off = idx.len() - shape.len();
    shape.iter().enumerate().map(|(k, &n)| if n == 1 { 0 } else { idx[off + k] }).collect()
}

/// `(x - mean_axis(0)) / std_axis(0, 0.0)`.
pub fn naive_standardize_cols(x: &Array2<f64>, o: &impl Order) -> Array2<f64> {
    let (n, m) = x.dim();
    let mean: Vec<f64> = (0..m).map(|j| o.mean(&col(x, j))).collect();
    let std: Vec<f64> = (0..m).map(|j| o.var(&col(x, j), 0.0).sqrt()).collect();
    Array2::from_shape_fn((n, m), |(i, j)| (x[(i, j)] - mean[j]) / std[j])
}

/// `e = exp(x - max_axis(1)[:, None]); e / sum_axis(1)[:, None]`. Panics on an empty row.
pub fn naive_softmax_rows(x: &Array2<f64>, o: &impl Order) -> Array2<f64> {
    let (n, m) = x.dim();
    assert!(m > 0, "empty axis");
    let mut e = Array2::zeros((n, m));
    for i in 0..n {
        let mx = np_max(&row(x, i));
        for j in 0..m {
            e[(i, j)] = o.exp(x[(i, j)] - mx);
        }
    }
    let s: Vec<f64> = (0..n).map(|i| o.sum(&row(&e, i))).collect();
    Array2::from_shape_fn((n, m), |(i, j)| e[(i, j)] / s[i])
}

/// `x / sqrt(sum_axis(x * x, 1))[:, None]`.
pub fn naive_normalize_rows(x: &Array2<f64>, o: &impl Order) -> Array2<f64> {
    let (n, m) = x.dim();
    let norm: Vec<f64> = (0..n).map(|i| o.sum(&row(x, i).iter().map(|v| v * v).collect::<Vec<_>>()).sqrt()).collect();
    Array2::from_shape_fn((n, m), |(i, j)| x[(i, j)] / norm[i])
}

/// `sqrt(sum_axis((x[:, None, :] - y[None, :, :])^2, 2))`; `None` if the last axes do not
/// broadcast.
pub fn naive_pairwise_dist(x: &Array2<f64>, y: &Array2<f64>, o: &impl Order) -> Option<Array2<f64>> {
    let (n, dx) = x.dim();
    let (m, dy) = y.dim();
    let d = broadcast_shape(&[dx], &[dy])?[0];
    Some(Array2::from_shape_fn((n, m), |(i, j)| {
        let lane: Vec<f64> = (0..d)
            .map(|k| (x[(i, if dx == 1 { 0 } else { k })] - y[(j, if dy == 1 { 0 } else { k })]).powi(2))
            .collect();
        o.sum(&lane).sqrt()
    }))
}

/// `sum_axis(a * v, 1)`; `None` if `v` does not broadcast against the rows.
pub fn naive_matvec(a: &Array2<f64>, v: &Array1<f64>, o: &impl Order) -> Option<Array1<f64>> {
    let s = broadcast_shape(a.shape(), v.shape())?;
    let (n, m) = (s[0], s[1]);
    Some(Array1::from_shape_fn(n, |i| {
        let lane: Vec<f64> = (0..m)
            .map(|j| {
                a[(if a.nrows() == 1 { 0 } else { i }, if a.ncols() == 1 { 0 } else { j })]
                    * v[if v.len() == 1 { 0 } else { j }]
            })
            .collect();
        o.sum(&lane)
    }))
}

/// `clamp(img as f32 * gain + bias, 0, 255) as u8`.
pub fn naive_brighten(img: &Array3<u8>, gain: f32, bias: f32) -> Array3<u8> {
    img.mapv(|v| (v as f32 * gain + bias).clamp(0.0, 255.0) as u8)
}

/// `x * 2.0 + w`, broadcast; `None` on a mismatch.
pub fn naive_add_bcast(x: &Array2<f64>, w: &Array1<f64>) -> Option<Array2<f64>> {
    let s = broadcast_shape(x.shape(), w.shape())?;
    let mut out = Array2::zeros((s[0], s[1]));
    for ((i, j), o) in out.indexed_iter_mut() {
        let xi = bcast_index(&[i, j], x.shape());
        let wi = bcast_index(&[i, j], w.shape());
        *o = x[(xi[0], xi[1])] * 2.0 + w[wi[0]];
    }
    Some(out)
}

/// `if x > y { x - y } else { sqrt(abs(x * y)) }`, broadcast; `None` on a mismatch.
pub fn naive_select2(x: &Array2<f64>, y: &Array2<f64>) -> Option<Array2<f64>> {
    let s = broadcast_shape(x.shape(), y.shape())?;
    let mut out = Array2::zeros((s[0], s[1]));
    for ((i, j), o) in out.indexed_iter_mut() {
        let xi = bcast_index(&[i, j], x.shape());
        let yi = bcast_index(&[i, j], y.shape());
        let (a, b) = (x[(xi[0], xi[1])], y[(yi[0], yi[1])]);
        *o = if a > b { a - b } else { (a * b).abs().sqrt() };
    }
    Some(out)
}

/// `exp(x * 0.5) - 1.0`.
pub fn naive_dyn_exp(x: &ArrayD<f32>, o: &impl Order) -> ArrayD<f32> {
    x.mapv(|v| o.exp32(v * 0.5) - 1.0)
}

/// The C-order flattening.
pub fn flat(x: &Array2<f64>) -> Vec<f64> {
    x.iter().copied().collect()
}

/// `x.sum()`.
pub fn naive_sum2(x: &Array2<f64>, o: &impl Order) -> f64 {
    o.sum(&flat(x))
}

/// `(mean, std, min, max)`; panics on an empty array (min/max).
pub fn naive_stats2(x: &Array2<f64>, o: &impl Order) -> (f64, f64, f64, f64) {
    let v = flat(x);
    (o.mean(&v), o.var(&v, 0.0).sqrt(), np_min(&v), np_max(&v))
}

/// `(x > 0.0).count()`.
pub fn naive_count_pos(x: &Array3<f64>) -> usize {
    let mut c = 0;
    for &v in x {
        if v > 0.0 {
            c += 1;
        }
    }
    c
}

/// `(sum_axis(0), sum_axis(1))`.
pub fn naive_sums(x: &Array2<f64>, o: &impl Order) -> (Array1<f64>, Array1<f64>) {
    let (n, m) = x.dim();
    ((0..m).map(|j| o.sum(&col(x, j))).collect(), (0..n).map(|i| o.sum(&row(x, i))).collect())
}

/// `var_axis(0, 1.0)`.
pub fn naive_var_cols(x: &Array2<f64>, o: &impl Order) -> Array1<f64> {
    (0..x.ncols()).map(|j| o.var(&col(x, j), 1.0)).collect()
}

/// `argmax_axis(1)`; panics on an empty row.
pub fn naive_argmax_rows(x: &Array2<f64>) -> Array1<usize> {
    assert!(x.ncols() > 0, "empty axis");
    (0..x.nrows()).map(|i| np_argmax(&row(x, i))).collect()
}

/// `(min_axis(1), max_axis(2))` of an f32 array (NumPy rules, computed in f64: exact).
pub fn naive_minmax3(x: &Array3<f32>) -> (Array2<f32>, Array2<f32>) {
    let (a, b, c) = x.dim();
    assert!(b > 0 && c > 0, "empty axis");
    let mn =
        Array2::from_shape_fn((a, c), |(i, k)| np_min(&(0..b).map(|j| x[(i, j, k)] as f64).collect::<Vec<_>>()) as f32);
    let mx =
        Array2::from_shape_fn((a, b), |(i, j)| np_max(&(0..c).map(|k| x[(i, j, k)] as f64).collect::<Vec<_>>()) as f32);
    (mn, mx)
}

// ---- comparing outcomes ---------------------------------------------------------------------------

/// A kernel result that can be compared with the one wanted; `diff` describes the first
/// difference (shape, output number, index), or `None`.
pub trait Outcome: Debug {
    fn diff(&self, want: &Self, cmp: Cmp) -> Option<String>;
}

macro_rules! scalar_outcome {
    ($($t:ty),*) => {$(
        impl Outcome for $t {
            fn diff(&self, want: &Self, cmp: Cmp) -> Option<String> {
                mismatch(*want, *self, cmp)
            }
        }
    )*};
}
scalar_outcome!(f64, f32, usize, u8);

impl<U: Elem, D: Dimension> Outcome for Array<U, D> {
    fn diff(&self, want: &Self, cmp: Cmp) -> Option<String> {
        if self.shape() != want.shape() {
            return Some(format!("shape {:?}, want {:?}", self.shape(), want.shape()));
        }
        for ((idx, &w), &g) in want.indexed_iter().zip(self.iter()) {
            if let Some(m) = mismatch(w, g, cmp) {
                return Some(format!("first difference at index {idx:?} of shape {:?}: {m}", want.shape()));
            }
        }
        None
    }
}

macro_rules! tuple_outcome {
    ($(($($t:ident $i:tt),*))*) => {$(
        impl<$($t: Outcome),*> Outcome for ($($t,)*) {
            fn diff(&self, want: &Self, cmp: Cmp) -> Option<String> {
                $(
                    if let Some(d) = self.$i.diff(&want.$i, cmp) {
                        return Some(format!("output {}: {d}", $i));
                    }
                )*
                None
            }
        }
    )*};
}
tuple_outcome! {
    (A 0, B 1)
    (A 0, B 1, C 2, E 3)
}

/// The comparison between levels and layouts: any NaN for any NaN unless `Exact`.
fn identity(cmp: Cmp) -> Cmp {
    if cmp == Cmp::Exact {
        Cmp::Exact
    } else {
        Cmp::NanAny
    }
}

/// One run: its layout(s), its level, its result.
pub type Run<R> = (String, Target, R);

/// Checks `runs` against `want` with `cmp`, and against each other bit for bit (any NaN
/// for any NaN unless `Exact`). `what` names the kernel and the input shapes.
pub fn check_runs<R: Outcome>(what: &str, want: &R, runs: &[Run<R>], cmp: Cmp) {
    for (layout, t, got) in runs {
        if let Some(d) = got.diff(want, cmp) {
            panic!("{what}, layout {layout}, level {t:?}: {d}");
        }
    }
    let (l0, t0, first) = &runs[0];
    for (layout, t, got) in &runs[1..] {
        if let Some(d) = got.diff(first, identity(cmp)) {
            panic!("{what}: layout {layout} at level {t:?} differs from layout {l0} at level {t0:?}: {d}");
        }
    }
}

/// Runs `kernel` on every layout of `a` at every level.
pub fn run1<A: Garbage, D: Dimension, R>(a: &Array<A, D>, kernel: impl Fn(ArrayView<'_, A, D>) -> R) -> Vec<Run<R>> {
    let l = Layouts::new(a);
    let mut runs = vec![];
    for (name, v) in l.views() {
        for (t, r) in at_every_level(|_| kernel(v.clone())) {
            runs.push((name.to_string(), t, r));
        }
    }
    runs
}

/// Runs `kernel` on pairs of layouts of `a` and `b` at every level: every pair when both
/// are small, else every layout of each against the C layout of the other.
pub fn run2<A: Garbage, B: Garbage, D: Dimension, E: Dimension, R>(
    a: &Array<A, D>,
    b: &Array<B, E>,
    kernel: impl Fn(ArrayView<'_, A, D>, ArrayView<'_, B, E>) -> R,
) -> Vec<Run<R>> {
    let (la, lb) = (Layouts::new(a), Layouts::new(b));
    let (va, vb) = (la.views(), lb.views());
    let all = a.len() + b.len() <= 4096;
    let mut runs = vec![];
    for (i, (na, x)) in va.iter().enumerate() {
        for (j, (nb, y)) in vb.iter().enumerate() {
            if all || i == 0 || j == 0 {
                for (t, r) in at_every_level(|_| kernel(x.clone(), y.clone())) {
                    runs.push((format!("{na} × {nb}"), t, r));
                }
            }
        }
    }
    runs
}

/// `kernel `name`, x: [..]` for messages.
pub fn what(kernel: &str, inputs: &[(&str, &[usize])]) -> String {
    let ins: Vec<String> = inputs.iter().map(|(n, s)| format!("`{n}` {s:?}")).collect();
    format!("kernel `{kernel}` on {}", ins.join(", "))
}

/// Asserts that `f` panics with a message containing every one of `parts`.
pub fn assert_panics_with<R>(what: &str, parts: &[&str], f: impl FnOnce() -> R) {
    let msg = panic_message(f);
    for p in parts {
        assert!(msg.contains(p), "{what}: the panic message {msg:?} does not contain {p:?}");
    }
}

// ---- accuracy against the naive reading ------------------------------------------------------------

/// Neumaier's compensated sum, as an unevaluated pair `(s, c)`.
pub fn neumaier(x: &[f64]) -> (f64, f64) {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for &v in x {
        let t = s + v;
        if s.abs() >= v.abs() {
            c += (s - t) + v;
        } else {
            c += (v - t) + s;
        }
        s = t;
    }
    (s, c)
}

/// `|got - (s + c)|` without losing the small error.
pub fn error_vs(got: f64, (s, c): (f64, f64)) -> f64 {
    ((got - s) - c).abs()
}

/// The bound of `tests/reductions.rs`: `5·log2(n)·eps·Σ|x|` (derived there).
pub fn sum_bound(n: usize, abs_sum: f64) -> f64 {
    5.0 * (n.max(2) as f64).log2() * f64::EPSILON * abs_sum
}

/// Asserts that `got` is the sum of `lane` within [`sum_bound`] (finite data).
pub fn assert_sum_within_bound(what: &str, got: f64, lane: &[f64]) {
    let abs: f64 = lane.iter().map(|v| v.abs()).sum();
    let err = error_vs(got, neumaier(lane));
    let bound = sum_bound(lane.len(), abs);
    assert!(err <= bound, "{what}: sum of {} elements is off by {err:e} > bound {bound:e}", lane.len());
}

/// Elements within `rel` of each other relative to `scale` (finite, well-conditioned data).
pub fn assert_close<D: Dimension>(what: &str, got: &Array<f64, D>, want: &Array<f64, D>, rel: f64) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for ((idx, &w), &g) in want.indexed_iter().zip(got.iter()) {
        let ok = (w.is_nan() && g.is_nan()) || w == g || (g - w).abs() <= rel * (1.0 + w.abs());
        assert!(ok, "{what}: index {idx:?}: got {g:e}, want {w:e}");
    }
}
