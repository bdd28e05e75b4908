//! Reductions: what each reduction accumulates and how two partial results combine.
//!
//! The pass driver ([`crate::pass`]) decides the order; a [`Reducer`] only says how to
//! update and merge. `update` is called with the element index so `argmin`/`argmax` can
//! keep the first position of the extreme.

use crate::elem::{AsFloat, Element, Extremum, Float};
use std::marker::PhantomData;

/// One reduction of a pass.
pub trait Reducer {
    /// What the loop body yields per element.
    type Item;
    /// A partial result.
    type Acc: Copy;
    /// The final value.
    type Output;
    /// The partial result of no elements.
    fn identity(&self) -> Self::Acc;
    /// Adds element `index` (`item`) to a partial result.
    fn update(&self, acc: Self::Acc, item: Self::Item, index: usize) -> Self::Acc;
    /// Combines two partial results; `left` covers earlier elements than `right`.
    fn merge(&self, left: Self::Acc, right: Self::Acc) -> Self::Acc;
    /// The value of a reduction over `n` elements.
    fn finish(&self, acc: Self::Acc, n: usize) -> Self::Output;
}

macro_rules! unit_reducer {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name<T>(PhantomData<T>);
        impl<T> $name<T> {
            /// A new reduction.
            #[allow(clippy::new_without_default)]
            #[inline(always)]
            pub fn new() -> Self {
                $name(PhantomData)
            }
        }
    };
}

unit_reducer!(/// `sum()` (and `dot`); `0` for no elements.
    Sum);
unit_reducer!(/// `prod()`; `1` for no elements.
    Prod);
unit_reducer!(/// `mean()` in the element's float type; NaN for no elements.
    Mean);
unit_reducer!(/// `min()`: NaN-propagating; the caller rejects empty input.
    Min);
unit_reducer!(/// `max()`: NaN-propagating; the caller rejects empty input.
    Max);
unit_reducer!(/// `argmin()`: first index of the minimum, a NaN counts as the minimum.
    ArgMin);
unit_reducer!(/// `argmax()`: first index of the maximum, a NaN counts as the maximum.
    ArgMax);

/// `Sum` and `Prod`: one accumulator of the element type, folded with `$op`.
macro_rules! fold {
    ($name:ident, $identity:ident, $op:tt) => {
        impl<T: Element> Reducer for $name<T> {
            type Item = T;
            type Acc = T;
            type Output = T;
            #[inline(always)]
            fn identity(&self) -> T {
                T::$identity
            }
            #[inline(always)]
            fn update(&self, acc: T, item: T, _: usize) -> T {
                acc $op item
            }
            #[inline(always)]
            fn merge(&self, l: T, r: T) -> T {
                l $op r
            }
            #[inline(always)]
            fn finish(&self, acc: T, _: usize) -> T {
                acc
            }
        }
    };
}
fold!(Sum, ZERO, +);
fold!(Prod, ONE, *);

impl<T: AsFloat> Reducer for Mean<T> {
    type Item = T;
    type Acc = T::Float;
    type Output = T::Float;
    #[inline(always)]
    fn identity(&self) -> T::Float {
        <T::Float as Element>::ZERO
    }
    #[inline(always)]
    fn update(&self, acc: T::Float, item: T, _: usize) -> T::Float {
        acc + item.as_float()
    }
    #[inline(always)]
    fn merge(&self, l: T::Float, r: T::Float) -> T::Float {
        l + r
    }
    #[inline(always)]
    fn finish(&self, acc: T::Float, n: usize) -> T::Float {
        acc / T::Float::from_usize(n)
    }
}

/// `var()` (population variance, NumPy's `ddof = 0`), second pass after the mean.
/// `std()` is `Var::std`. NaN for no elements.
pub struct Var<T: AsFloat> {
    mean: T::Float,
    ddof: T::Float,
    sqrt: bool,
}

impl<T: AsFloat> Var<T> {
    /// The variance around `mean`.
    #[inline(always)]
    pub fn new(mean: T::Float) -> Self {
        Var { mean, ddof: <T::Float as Element>::ZERO, sqrt: false }
    }
    /// The standard deviation around `mean`.
    #[inline(always)]
    pub fn std(mean: T::Float) -> Self {
        Var { mean, ddof: <T::Float as Element>::ZERO, sqrt: true }
    }
    /// `x.var(ddof)` / `x.std(ddof)` (ndarray's spelling; `1.0` is the sample variance):
    /// divided by `max(n - ddof, 0)`, as NumPy does (NaN or `inf` when `n <= ddof`).
    ///
    /// ```
    /// use loopfuse_runtime::pass::pass;
    /// use loopfuse_runtime::reduce::Var;
    /// let x: &[f64] = &[1.0, 2.0, 3.0, 4.0];
    /// let (v,) = pass(4, (x,), (Var::with_ddof(2.5, 1.0, false),), (), |(x,)| ((x,), ()));
    /// assert_eq!(v, 5.0 / 3.0);
    /// ```
    #[inline(always)]
    pub fn with_ddof(mean: T::Float, ddof: T::Float, sqrt: bool) -> Self {
        Var { mean, ddof, sqrt }
    }
}

impl<T: AsFloat> Reducer for Var<T> {
    type Item = T;
    type Acc = T::Float;
    type Output = T::Float;
    #[inline(always)]
    fn identity(&self) -> T::Float {
        <T::Float as Element>::ZERO
    }
    #[inline(always)]
    fn update(&self, acc: T::Float, item: T, _: usize) -> T::Float {
        let d = item.as_float() - self.mean;
        acc + d * d
    }
    #[inline(always)]
    fn merge(&self, l: T::Float, r: T::Float) -> T::Float {
        l + r
    }
    #[inline(always)]
    fn finish(&self, acc: T::Float, n: usize) -> T::Float {
        // NumPy's divisor, `max(n - ddof, 0)` (`n` itself for `ddof = 0`).
        let d = T::Float::from_usize(n) - self.ddof;
        let zero = <T::Float as Element>::ZERO;
        let v = acc / if d > zero { d } else { zero };
        if self.sqrt {
            v.sqrt()
        } else {
            v
        }
    }
}

/// `var_axis(Axis(k), ddof)` and `std_axis`: the variance of each lane along the axis,
/// around that lane's own mean. The item is `(x, mean)`: the element and the mean of the
/// output element it belongs to, which the body reads from the mean pass's buffer. Same
/// arithmetic as [`Var`] (`d = x - mean`, `acc + d * d`); the result is
/// `acc / max(n - ddof, 0)` as NumPy computes it: no panic, `inf` or NaN when `n <= ddof`.
///
/// ```
/// use loopfuse_runtime::pass::pass;
/// use loopfuse_runtime::reduce::VarAxis;
/// let x: &[f64] = &[1.0, 2.0, 3.0, 4.0];
/// let m: &[f64] = &[2.5; 4];
/// let (v, s) = pass(4, (x, m), (VarAxis::new(1.0), VarAxis::std(1.0)), (), |(x, m)| (((x, m), (x, m)), ()));
/// assert_eq!(v, 5.0 / 3.0);
/// assert_eq!(s, (5.0f64 / 3.0).sqrt());
/// ```
pub struct VarAxis<T: AsFloat> {
    ddof: T::Float,
    sqrt: bool,
}

impl<T: AsFloat> VarAxis<T> {
    /// The variance with `ddof` delta degrees of freedom.
    #[inline(always)]
    pub fn new(ddof: T::Float) -> Self {
        VarAxis { ddof, sqrt: false }
    }
    /// The standard deviation with `ddof` delta degrees of freedom.
    #[inline(always)]
    pub fn std(ddof: T::Float) -> Self {
        VarAxis { ddof, sqrt: true }
    }
}

impl<T: AsFloat> Reducer for VarAxis<T> {
    type Item = (T, T::Float);
    type Acc = T::Float;
    type Output = T::Float;
    #[inline(always)]
    fn identity(&self) -> T::Float {
        <T::Float as Element>::ZERO
    }
    #[inline(always)]
    fn update(&self, acc: T::Float, (item, mean): (T, T::Float), _: usize) -> T::Float {
        let d = item.as_float() - mean;
        acc + d * d
    }
    #[inline(always)]
    fn merge(&self, l: T::Float, r: T::Float) -> T::Float {
        l + r
    }
    #[inline(always)]
    fn finish(&self, acc: T::Float, n: usize) -> T::Float {
        // NumPy's divisor, `max(n - ddof, 0)`: no element past `ddof` gives 0 / 0 = NaN.
        let d = T::Float::from_usize(n) - self.ddof;
        let zero = <T::Float as Element>::ZERO;
        let v = acc / if d > zero { d } else { zero };
        if self.sqrt {
            v.sqrt()
        } else {
            v
        }
    }
}

/// `Min`, `Max` (NaN-propagating) and `MinNum`, `MaxNum` (NaN-ignoring): one accumulator
/// of the element type; `merge(l, r)` says how two partial results combine.
macro_rules! extremum {
    ($name:ident, $identity:ident, |$l:ident, $r:ident| $merge:expr) => {
        impl<T: Extremum> Reducer for $name<T> {
            type Item = T;
            type Acc = T;
            type Output = T;
            #[inline(always)]
            fn identity(&self) -> T {
                T::$identity
            }
            #[inline(always)]
            fn update(&self, acc: T, item: T, _: usize) -> T {
                self.merge(acc, item)
            }
            #[inline(always)]
            fn merge(&self, $l: T, $r: T) -> T {
                $merge
            }
            #[inline(always)]
            fn finish(&self, acc: T, _: usize) -> T {
                acc
            }
        }
    };
}
extremum!(Min, MIN_ID, |l, r| l.reduce_min(r));
extremum!(Max, MAX_ID, |l, r| l.reduce_max(r));
extremum!(MinNum, MIN_ID, |l, r| if r.nan() {
    l
} else if l.nan() {
    r
} else {
    l.reduce_min(r)
});
extremum!(MaxNum, MAX_ID, |l, r| if r.nan() {
    l
} else if l.nan() {
    r
} else {
    l.reduce_max(r)
});

/// Picks the better of two (value, index) candidates: a NaN first, then the one `better`
/// prefers, then the lower index. `usize::MAX` marks "no candidate yet".
#[inline(always)]
fn pick<T: Extremum>(l: (T, usize), r: (T, usize), better: impl Fn(T, T) -> bool) -> (T, usize) {
    let take_r = if l.1 == usize::MAX {
        true
    } else if r.1 == usize::MAX {
        false
    } else if l.0.nan() || r.0.nan() {
        r.0.nan() && (!l.0.nan() || r.1 < l.1)
    } else if better(r.0, l.0) {
        true
    } else if better(l.0, r.0) {
        false
    } else {
        r.1 < l.1
    };
    if take_r {
        r
    } else {
        l
    }
}

/// `ArgMin` and `ArgMax`: the first position of the extreme that `$better` prefers.
macro_rules! arg_extremum {
    ($name:ident, $identity:ident, $better:expr) => {
        impl<T: Extremum> Reducer for $name<T> {
            type Item = T;
            type Acc = (T, usize);
            type Output = usize;
            #[inline(always)]
            fn identity(&self) -> (T, usize) {
                (T::$identity, usize::MAX)
            }
            #[inline(always)]
            fn update(&self, acc: (T, usize), item: T, index: usize) -> (T, usize) {
                pick(acc, (item, index), $better)
            }
            #[inline(always)]
            fn merge(&self, l: (T, usize), r: (T, usize)) -> (T, usize) {
                pick(l, r, $better)
            }
            #[inline(always)]
            fn finish(&self, acc: (T, usize), _: usize) -> usize {
                acc.1
            }
        }
    };
}
arg_extremum!(ArgMin, MIN_ID, |a: T, b: T| a < b);
arg_extremum!(ArgMax, MAX_ID, |a: T, b: T| a > b);

/// `any()` of a mask; `false` for no elements.
pub struct Any;
/// `all()` of a mask; `true` for no elements.
pub struct All;
/// `count()`: the number of `true` in a mask.
pub struct Count;

/// `Any` and `All`: a mask folded with `$op` from `$identity`.
macro_rules! mask_fold {
    ($name:ident, $identity:expr, $op:tt) => {
        impl Reducer for $name {
            type Item = bool;
            type Acc = bool;
            type Output = bool;
            #[inline(always)]
            fn identity(&self) -> bool {
                $identity
            }
            #[inline(always)]
            fn update(&self, acc: bool, item: bool, _: usize) -> bool {
                acc $op item
            }
            #[inline(always)]
            fn merge(&self, l: bool, r: bool) -> bool {
                l $op r
            }
            #[inline(always)]
            fn finish(&self, acc: bool, _: usize) -> bool {
                acc
            }
        }
    };
}
mask_fold!(Any, false, |);
mask_fold!(All, true, &);

impl Reducer for Count {
    type Item = bool;
    type Acc = usize;
    type Output = usize;
    #[inline(always)]
    fn identity(&self) -> usize {
        0
    }
    #[inline(always)]
    fn update(&self, acc: usize, item: bool, _: usize) -> usize {
        acc + item as usize
    }
    #[inline(always)]
    fn merge(&self, l: usize, r: usize) -> usize {
        l + r
    }
    #[inline(always)]
    fn finish(&self, acc: usize, _: usize) -> usize {
        acc
    }
}

unit_reducer!(/// `acc = acc.max(x)` in an explicit loop: Rust's `f64::max` (a NaN element is ignored),
    /// with `+0.0` preferred over `-0.0` so the lane order cannot change the result.
    MaxNum);
unit_reducer!(/// `acc = acc.min(x)` in an explicit loop: Rust's `f64::min` (a NaN element is ignored),
    /// with `-0.0` preferred over `+0.0`.
    MinNum);

unit_reducer!(/// `if cond { acc += x }` in an explicit loop: the sum of the elements whose mask is true.
    SumWhere);
unit_reducer!(/// `x[mask].mean()`: the mean of the elements whose mask is true, NaN if none is
    /// (NumPy's mean of an empty selection); the sum in the lane order of [`SumWhere`].
    MeanWhere);

impl<T: AsFloat> Reducer for MeanWhere<T> {
    type Item = (bool, T);
    type Acc = (T::Float, usize);
    type Output = T::Float;
    #[inline(always)]
    fn identity(&self) -> (T::Float, usize) {
        (<T::Float as Element>::ZERO, 0)
    }
    #[inline(always)]
    fn update(&self, acc: (T::Float, usize), (take, x): (bool, T), _: usize) -> (T::Float, usize) {
        if take {
            (acc.0 + x.as_float(), acc.1 + 1)
        } else {
            acc
        }
    }
    #[inline(always)]
    fn merge(&self, l: (T::Float, usize), r: (T::Float, usize)) -> (T::Float, usize) {
        (l.0 + r.0, l.1 + r.1)
    }
    #[inline(always)]
    fn finish(&self, acc: (T::Float, usize), _: usize) -> T::Float {
        acc.0 / T::Float::from_usize(acc.1)
    }
}

impl<T: Element> Reducer for SumWhere<T> {
    type Item = (bool, T);
    type Acc = T;
    type Output = T;
    #[inline(always)]
    fn identity(&self) -> T {
        T::ZERO
    }
    #[inline(always)]
    fn update(&self, acc: T, (take, x): (bool, T), _: usize) -> T {
        if take {
            acc + x
        } else {
            acc
        }
    }
    #[inline(always)]
    fn merge(&self, l: T, r: T) -> T {
        l + r
    }
    #[inline(always)]
    fn finish(&self, acc: T, _: usize) -> T {
        acc
    }
}
