//! `as` casts to small integers that vectorize.
//!
//! Rust's `f as u8` saturates (NaN to 0, out-of-range values to the nearest bound). LLVM
//! lowers that saturating conversion to one scalar `cvttss2si` per element even inside an
//! AVX-512 loop, which made `(x as f32 * gain + bias).clamp(0.0, 255.0) as u8` several times
//! slower than the rest of the loop. [`ToInt::to_int`] computes the same value by clamping
//! first (NaN to 0 by a select), then converting a value known to be in range with
//! `to_int_unchecked`, which vectorizes (`vcvttps2dq`, then a narrowing move). Integer and
//! `bool` sources are plain `as`. The generated code writes `e as u8` in an elementwise
//! expression as `__lf::ToInt::<u8>::to_int(e)`; the result is `e as u8` bit for bit
//! (tested below for every special value).

/// `self as T` for a small integer `T` (`i8 u8 i16 u16`), vectorizable (module docs).
///
/// ```
/// use loopfuse_runtime::cast::ToInt;
/// assert_eq!(ToInt::<u8>::to_int(300.7f32), 255);
/// assert_eq!(ToInt::<u8>::to_int(f32::NAN), 0);
/// assert_eq!(ToInt::<i8>::to_int(-3.9f64), -3);
/// ```
pub trait ToInt<T> {
    /// `self as T`.
    fn to_int(self) -> T;
}

macro_rules! from_float {
    ($f:ty => $($t:ty),*) => {$(
        impl ToInt<$t> for $f {
            #[inline(always)]
            fn to_int(self) -> $t {
                // A select, not a branch: NaN is 0 (`max` alone would give `MIN`).
                let c = if self.is_nan() { 0.0 } else { self.max(<$t>::MIN as $f).min(<$t>::MAX as $f) };
                // SAFETY: `c` is not NaN, and lies in [MIN, MAX] of `$t`, all exactly
                // representable in `$f` and within i32, so truncating it to i32 is defined.
                (unsafe { c.to_int_unchecked::<i32>() }) as $t
            }
        }
    )*};
}
from_float!(f32 => i8, u8, i16, u16);
from_float!(f64 => i8, u8, i16, u16);

macro_rules! plain {
    ($($s:ty),* => $t:ty) => {$(
        impl ToInt<$t> for $s {
            #[inline(always)]
            fn to_int(self) -> $t {
                self as $t
            }
        }
    )*};
}
macro_rules! plain_all {
    ($($t:ty),*) => {$(
        plain!(i8, u8, i16, u16, i32, u32, i64, u64, i128, u128, isize, usize, bool => $t);
    )*};
}
plain_all!(i8, u8, i16, u16);

#[cfg(test)]
mod tests {
    use super::ToInt;

    fn specials_f32() -> Vec<f32> {
        let mut v = vec![
            f32::NAN,
            -f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            -0.0,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            f32::MAX,
            f32::MIN,
            1e-45,
        ];
        for i in -70_000..70_000 {
            v.push(i as f32 * 0.5);
            v.push(i as f32 + 0.999);
        }
        v
    }

    #[test]
    fn equals_as_for_every_special_value() {
        for x in specials_f32() {
            assert_eq!(ToInt::<u8>::to_int(x), x as u8, "{x}");
            assert_eq!(ToInt::<i8>::to_int(x), x as i8, "{x}");
            assert_eq!(ToInt::<u16>::to_int(x), x as u16, "{x}");
            assert_eq!(ToInt::<i16>::to_int(x), x as i16, "{x}");
            let d = x as f64;
            assert_eq!(ToInt::<u8>::to_int(d), d as u8, "{d}");
            assert_eq!(ToInt::<i8>::to_int(d), d as i8, "{d}");
            assert_eq!(ToInt::<u16>::to_int(d), d as u16, "{d}");
            assert_eq!(ToInt::<i16>::to_int(d), d as i16, "{d}");
        }
        for d in [f64::MAX, f64::MIN, 1e300, -1e300, 5e-324, 65535.99, -32768.5, -32769.0] {
            assert_eq!(ToInt::<u16>::to_int(d), d as u16, "{d}");
            assert_eq!(ToInt::<i16>::to_int(d), d as i16, "{d}");
        }
    }

    #[test]
    fn integers_wrap_as_as_does() {
        assert_eq!(ToInt::<u8>::to_int(300i32), 300i32 as u8);
        assert_eq!(ToInt::<i8>::to_int(200u8), 200u8 as i8);
        assert_eq!(ToInt::<u16>::to_int(true), 1);
    }
}
