//! f32 kernels: evaluated in f64 (the f64 kernels, which are accurate to
//! < 1 f64 ULP) and rounded once to f32. Bit-identical on every level.

use super::f64m;

macro_rules! via_f64 {
    ($($name:ident => $f:path),* $(,)?) => {$(
        #[inline(always)]
        pub(crate) fn $name(x: f32) -> f32 {
            $f(x as f64) as f32
        }
    )*};
}

via_f64!(
    exp_f32 => f64m::exp_f64,
    exp2_f32 => f64m::exp2_f64,
    exp_m1_f32 => f64m::exp_m1_f64,
    ln_f32 => f64m::ln_f64,
    log2_f32 => f64m::log2_f64,
    log10_f32 => f64m::log10_f64,
    ln_1p_f32 => f64m::ln_1p_f64,
    tanh_f32 => f64m::tanh_f64,
    sinh_f32 => f64m::sinh_f64,
    cosh_f32 => f64m::cosh_f64,
    atan_f32 => f64m::atan_f64,
    asin_f32 => f64m::asin_f64,
    acos_f32 => f64m::acos_f64,
    cbrt_f32 => f64m::cbrt_f64,
);

pub(crate) use f64m::{cos_of_f32 as cos_f32, sin_of_f32 as sin_f32, tan_of_f32 as tan_f32};

#[inline(always)]
pub(crate) fn atan2_f32(y: f32, x: f32) -> f32 {
    f64m::atan2_f64(y as f64, x as f64) as f32
}

#[inline(always)]
pub(crate) fn powf_f32(x: f32, y: f32) -> f32 {
    f64m::powf_f64(x as f64, y as f64) as f32
}
