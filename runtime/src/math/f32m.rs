//! f32 kernels: evaluated in f64 (the f64 kernels, which are accurate to
//! < 1 f64 ULP) and rounded once to f32. Bit-identical on every level.

use super::common::*;
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
    exp2_f32 => f64m::exp2_f64,
    exp_m1_f32 => f64m::exp_m1_f64,
    log2_f32 => f64m::log2_div_f64,
    log10_f32 => f64m::log10_div_f64,
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
    // Widening quiets a signaling NaN, so its libm meaning (NaN even where pow is 1) is
    // decided here, on the f32 bits.
    let snan = |v: f32| v.is_nan() && v.to_bits() & (1 << 22) == 0;
    let r = f64m::powf_f64(x as f64, y as f64) as f32;
    if snan(x) || snan(y) {
        f32::NAN
    } else {
        r
    }
}

/// q(r) ~ (e^r - 1 - r) / r^2 on [-0.3467, 0.3467], relative error of e^r
/// 2^-37.8 (f32 needs 2^-25; the margin keeps results almost always
/// correctly rounded).
const EXP32_Q: [f64; 7] = [
    2.4859620581890567e-05,
    0.00019899316337192174,
    0.001388885399872006,
    0.008333298432837545,
    0.041666666719095496,
    0.16666666719112208,
    0.5,
];

/// e^x for f32, in f64 with a short polynomial and a single scaling (the
/// f32 range keeps 2^k normal in f64).
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    let x = x as f64;
    let xc = sel(x > 100.0, 100.0, x);
    let xc = sel(xc < -110.0, -110.0, xc);
    let t = fma(xc, f64m::LOG2E, SHIFT);
    let kf = t - SHIFT;
    let r = fma(-kf, f64m::LN2, xc);
    let r = fma(-kf, f64m::LN2_LO, r);
    let p = fma(r * r, horner(r, &EXP32_Q), r) + 1.0;
    (p * pow2i(shifted_to_int(t))) as f32
}

/// R(z)/z with ln(1+f) = 2s + s R(z), s = f/(2+f), z = s^2: error 2^-43.
const LOG32_R: [f64; 5] =
    [0.19363884986633198, 0.22191337428065783, 0.28571755535032944, 0.3999999879244169, 0.6666666666737868];

/// ln x for f32, in f64 with a short polynomial (f32 subnormals are normal
/// f64 numbers, so no rescaling).
#[inline(always)]
pub(crate) fn ln_f32(x: f32) -> f32 {
    let xd = x as f64;
    let bits = xd.to_bits();
    let tmp = bits.wrapping_sub(0x3fe6a09e667f3bcd);
    let e = (tmp as i64) >> 52;
    let m = f64::from_bits(bits.wrapping_sub((e as u64).wrapping_shl(52)));
    let ef = f64::from_bits((e.wrapping_add(SHIFT.to_bits() as i64)) as u64) - SHIFT;
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    // ln(1+f) = f - s f + s z R(z)   (2s = f - s f)
    let l = fma(s, fma(z, horner(z, &LOG32_R), -f), f);
    let r = fma(ef, f64m::LN2, l);
    let special = !(xd > 0.0 && xd < f64::INFINITY);
    let sv = sel(xd == 0.0, f64::NEG_INFINITY, sel(xd == f64::INFINITY, xd, f64::NAN));
    sel(special, sv, r) as f32
}
