//! Element traits: what reductions need of an element type, and [`Float`] for generic kernels.

use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign};

/// A number that can be summed and multiplied (`sum`, `prod`, `dot`).
pub trait Element: Copy + Default + Add<Output = Self> + Mul<Output = Self> {
    /// The identity of `+`: `0`.
    const ZERO: Self;
    /// The identity of `*`: `1`.
    const ONE: Self;
}

/// Ordering for `min`/`max`/`argmin`/`argmax` reductions, with NumPy's NaN rule.
///
/// Float `min`/`max` propagate NaN (the result is the canonical `NAN`) and prefer `-0.0`
/// (min) or `+0.0` (max) between equal zeros, so the result does not depend on the order in
/// which lanes are combined.
pub trait Extremum: Copy + PartialOrd {
    /// Identity of `min` (largest value).
    const MIN_ID: Self;
    /// Identity of `max` (smallest value).
    const MAX_ID: Self;
    /// `true` for a NaN.
    fn nan(self) -> bool;
    /// NaN-propagating, order-independent minimum.
    fn reduce_min(self, other: Self) -> Self;
    /// NaN-propagating, order-independent maximum.
    fn reduce_max(self, other: Self) -> Self;
}

/// Conversion to the float type `mean`/`var`/`std` compute in (f32 stays f32, others f64).
pub trait AsFloat: Copy {
    /// The float type.
    type Float: Float;
    /// `self as Float`.
    fn as_float(self) -> Self::Float;
}

macro_rules! int_elements {
    ($($t:ty),*) => {$(
        impl Element for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
        }
        impl Extremum for $t {
            const MIN_ID: Self = <$t>::MAX;
            const MAX_ID: Self = <$t>::MIN;
            #[inline(always)]
            fn nan(self) -> bool { false }
            #[inline(always)]
            fn reduce_min(self, other: Self) -> Self { if other < self { other } else { self } }
            #[inline(always)]
            fn reduce_max(self, other: Self) -> Self { if other > self { other } else { self } }
        }
        impl AsFloat for $t {
            type Float = f64;
            #[inline(always)]
            fn as_float(self) -> f64 { self as f64 }
        }
    )*};
}
int_elements!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

macro_rules! float_elements {
    ($($t:ty),*) => {$(
        impl Element for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
        }
        impl Extremum for $t {
            const MIN_ID: Self = <$t>::INFINITY;
            const MAX_ID: Self = <$t>::NEG_INFINITY;
            #[inline(always)]
            fn nan(self) -> bool { self.is_nan() }
            #[inline(always)]
            fn reduce_min(self, other: Self) -> Self {
                let take = other < self || other.is_nan() || (other == self && other.is_sign_negative());
                let r = if self.is_nan() { self } else if take { other } else { self };
                if r.is_nan() { <$t>::NAN } else { r }
            }
            #[inline(always)]
            fn reduce_max(self, other: Self) -> Self {
                let take = other > self || other.is_nan() || (other == self && other.is_sign_positive());
                let r = if self.is_nan() { self } else if take { other } else { self };
                if r.is_nan() { <$t>::NAN } else { r }
            }
        }
        impl AsFloat for $t {
            type Float = $t;
            #[inline(always)]
            fn as_float(self) -> $t { self }
        }
    )*};
}
float_elements!(f32, f64);

/// The element type of a generic kernel: `fn f<T: loopfuse::Float>(x: &[T]) -> T` works for
/// `f32` and `f64`. It has the operators and the std methods a kernel body may call; the
/// transcendental functions come from its supertrait [`Math`](crate::math::Math).
///
/// ```
/// use loopfuse_runtime::Float;
/// fn half<T: Float>(x: T) -> T { x * T::from_f64(0.5) }
/// assert_eq!(half(3.0f32), 1.5);
/// assert_eq!(half(3.0f64).sqrt(), 1.5f64.sqrt());
/// ```
pub trait Float:
    crate::math::Math
    + crate::scan::Scan
    + Element
    + Extremum
    + AsFloat<Float = Self>
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Rem<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + RemAssign
    + std::fmt::Debug
    + Default
    + Send
    + Sync
    + 'static
{
    /// `x as Self`.
    fn from_f64(x: f64) -> Self;
    /// `self as f64`.
    fn to_f64(self) -> f64;
    /// `self as Self` from a length.
    fn from_usize(n: usize) -> Self;
    /// std `abs`.
    fn abs(self) -> Self;
    /// std `sqrt`.
    fn sqrt(self) -> Self;
    /// std `powi`.
    fn powi(self, n: i32) -> Self;
    /// std `floor`.
    fn floor(self) -> Self;
    /// std `ceil`.
    fn ceil(self) -> Self;
    /// std `round`.
    fn round(self) -> Self;
    /// std `trunc`.
    fn trunc(self) -> Self;
    /// std `min` (NaN-ignoring).
    fn min(self, other: Self) -> Self;
    /// std `max` (NaN-ignoring).
    fn max(self, other: Self) -> Self;
    /// std `clamp`.
    fn clamp(self, lo: Self, hi: Self) -> Self;
    /// std `mul_add` (one rounding).
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// std `hypot`.
    fn hypot(self, other: Self) -> Self;
    /// std `recip`.
    fn recip(self) -> Self;
    /// std `signum`.
    fn signum(self) -> Self;
    /// std `is_nan`.
    fn is_nan(self) -> bool;
    /// std `is_finite`.
    fn is_finite(self) -> bool;
    /// std `is_infinite`.
    fn is_infinite(self) -> bool;
    /// std `is_sign_negative`.
    fn is_sign_negative(self) -> bool;
    /// std `is_sign_positive`.
    fn is_sign_positive(self) -> bool;
    /// std `fract`.
    fn fract(self) -> Self;
    /// std `copysign`.
    fn copysign(self, sign: Self) -> Self;
    /// std `to_degrees`.
    fn to_degrees(self) -> Self;
    /// std `to_radians`.
    fn to_radians(self) -> Self;
    /// std `rem_euclid`.
    fn rem_euclid(self, rhs: Self) -> Self;
    /// std `div_euclid`.
    fn div_euclid(self, rhs: Self) -> Self;
}

macro_rules! float_impl {
    ($t:ty) => {
        impl Float for $t {
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_usize(n: usize) -> Self {
                n as $t
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn powi(self, n: i32) -> Self {
                <$t>::powi(self, n)
            }
            #[inline(always)]
            fn floor(self) -> Self {
                <$t>::floor(self)
            }
            #[inline(always)]
            fn ceil(self) -> Self {
                <$t>::ceil(self)
            }
            #[inline(always)]
            fn round(self) -> Self {
                <$t>::round(self)
            }
            #[inline(always)]
            fn trunc(self) -> Self {
                <$t>::trunc(self)
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                <$t>::min(self, other)
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline(always)]
            fn clamp(self, lo: Self, hi: Self) -> Self {
                <$t>::clamp(self, lo, hi)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }
            #[inline(always)]
            fn hypot(self, other: Self) -> Self {
                <$t>::hypot(self, other)
            }
            #[inline(always)]
            fn recip(self) -> Self {
                <$t>::recip(self)
            }
            #[inline(always)]
            fn signum(self) -> Self {
                <$t>::signum(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn is_infinite(self) -> bool {
                <$t>::is_infinite(self)
            }
            #[inline(always)]
            fn is_sign_negative(self) -> bool {
                <$t>::is_sign_negative(self)
            }
            #[inline(always)]
            fn is_sign_positive(self) -> bool {
                <$t>::is_sign_positive(self)
            }
            #[inline(always)]
            fn fract(self) -> Self {
                <$t>::fract(self)
            }
            #[inline(always)]
            fn copysign(self, sign: Self) -> Self {
                <$t>::copysign(self, sign)
            }
            #[inline(always)]
            fn to_degrees(self) -> Self {
                <$t>::to_degrees(self)
            }
            #[inline(always)]
            fn to_radians(self) -> Self {
                <$t>::to_radians(self)
            }
            #[inline(always)]
            fn rem_euclid(self, rhs: Self) -> Self {
                <$t>::rem_euclid(self, rhs)
            }
            #[inline(always)]
            fn div_euclid(self, rhs: Self) -> Self {
                <$t>::div_euclid(self, rhs)
            }
        }
    };
}
float_impl!(f32);
float_impl!(f64);

/// The argument of a math function called in a loop that runs in order: `v.exp()` there is
/// `loopfuse::math::exp(v.math_arg())` (one meaning for every call in a kernel); as a method,
/// `math_arg` auto-dereferences `v` (`for v in x` gives `&f64`) as `v.exp()` would.
///
/// ```
/// use loopfuse_runtime::elem::MathArg;
/// let v = 2.0f64;
/// let r = &&v;
/// assert_eq!(r.math_arg(), 2.0);
/// ```
pub trait MathArg: crate::math::Math {
    /// The value.
    fn math_arg(&self) -> Self;
}

impl<T: crate::math::Math> MathArg for T {
    #[inline(always)]
    fn math_arg(&self) -> T {
        *self
    }
}
