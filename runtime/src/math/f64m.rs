//! f64 kernels. Scalar-written, branch-free (selects only), `mul_add` for every
//! fused operation. Polynomial coefficients were fitted with mpmath `chebyfit`
//! (near-minimax) and checked for the error bounds stated in `mod.rs`.

use super::common::*;

pub(crate) const LN2: f64 = std::f64::consts::LN_2;
pub(crate) const LN2_LO: f64 = 2.3190468138462996e-17;
/// ln 2 with 42 significant bits: `e * LN2_HI42` is exact for |e| < 2^11.
pub(crate) const LN2_HI42: f64 = 0.6931471805598903;
pub(crate) const LN2_LO42: f64 = 5.497923018708371e-14;
pub(crate) const LOG2E: f64 = std::f64::consts::LOG2_E;
pub(crate) const LOG2E_LO: f64 = 2.0355273740931033e-17;
pub(crate) const INV_LN10: f64 = std::f64::consts::LOG10_E;
pub(crate) const INV_LN10_LO: f64 = 1.098319650216765e-17;
const LOG10_2_HI42: f64 = 0.30102999566395283;
const LOG10_2_LO42: f64 = 2.8363394551044964e-14;

/// q(r) ~ (e^r - 1 - r) / r^2 on [-0.3466, 0.3466]; |r^2 (q - q*)| < 2^-61.
const EXP_Q: [f64; 11] = [
    2.0914707069612355e-09,
    2.510524515390137e-08,
    2.7557273594799413e-07,
    2.755725533255441e-06,
    2.480158732558584e-05,
    0.00019841269874873975,
    0.0013888888888883737,
    0.00833333333332612,
    0.04166666666666667,
    0.1666666666666667,
    0.5,
];

/// EXP_Q without its constant term: q = 0.5 + r q3.
const EXP_Q3: [f64; 10] = {
    let mut a = [0.0; 10];
    let mut i = 0;
    while i < 10 {
        a[i] = EXP_Q[i];
        i += 1;
    }
    a
};

/// R(z)/z with ln(1+f) = 2s + s R(z), s = f/(2+f), z = s^2 in [0, 0.0295].
const LOG_R: [f64; 8] = [
    0.13088034850927555,
    0.13268638369266825,
    0.15386244737621665,
    0.18181795547521137,
    0.22222222392581045,
    0.28571428570799784,
    0.40000000000000885,
    0.6666666666666666,
];

// ---------------------------------------------------------------- exp family

/// Splits `x = k ln2 + r + rlo`, |r| <= ~0.347. Returns (k, r, rlo).
#[inline(always)]
fn exp_reduce(x: f64) -> (i64, f64, f64) {
    let t = fma(x, LOG2E, SHIFT);
    let kf = t - SHIFT;
    // exact: for k != 0 both x and k LN2 are multiples of 2^-54 and |r1| < 0.5
    let r1 = fma(-kf, LN2, x);
    let c = -kf * LN2_LO;
    // (if |r1| < |c| this loses bits below 2^-98 only: harmless)
    let (r, rlo) = fast_two_sum(r1, c);
    (shifted_to_int(t), r, rlo)
}

/// e^(r + rlo) - 1 - r, |r| <= ~0.347 (so e^(r+rlo) = 1 + r + result).
#[inline(always)]
fn expm1_tail(r: f64, rlo: f64) -> f64 {
    let q = horner(r, &EXP_Q);
    fma(r * r, q, rlo + r * rlo)
}

/// 2^(j/16) = EXP_T_HI[j] + EXP_T_LO[j], j = 0..16.
pub(crate) const EXP_T_HI: [f64; 16] = [
    1.0,
    1.0442737824274138,
    1.0905077326652577,
    1.1387886347566916,
    1.189207115002721,
    1.241857812073484,
    1.2968395546510096,
    1.3542555469368927,
    std::f64::consts::SQRT_2,
    1.4768261459394993,
    1.5422108254079407,
    1.6104903319492543,
    1.681792830507429,
    1.7562521603732995,
    1.8340080864093424,
    1.9152065613971474,
];
pub(crate) const EXP_T_LO: [f64; 16] = [
    0.0,
    8.551889705537965e-17,
    -3.046782079812471e-17,
    8.912812676025408e-17,
    3.982015231465646e-17,
    4.658027591836937e-17,
    2.5382502794888315e-17,
    7.70094837980299e-17,
    -9.667293313452913e-17,
    -3.483994556892796e-17,
    7.949834809697621e-17,
    2.4707192569797888e-17,
    8.199010020581497e-17,
    2.960140695448873e-17,
    3.283107224245627e-17,
    -1.0619946056195963e-16,
];
/// 16 / ln 2, and ln 2 / 16 in two parts.
pub(crate) const EXP_16_LOG2E: f64 = 23.083120654223414;
pub(crate) const EXP_LN2_16_HI: f64 = 0.04332169878499658;
pub(crate) const EXP_LN2_16_LO: f64 = 1.4494042586539372e-18;
/// q(r) ~ (e^r - 1 - r) / r^2 on [-ln2/32, ln2/32]; |r^2 (q - q*)| < 2^-64.
pub(crate) const EXP_Q16: [f64; 6] = [
    0.00019841463826261545,
    0.001388906347556763,
    0.008333333332991954,
    0.04166666666359425,
    0.16666666666666669,
    0.5000000000000001,
];
/// Clamps for exp's argument: beyond them the result is inf / 0 anyway, and the clamped
/// value keeps the reduction's integer in range.
pub(crate) const EXP_MAX: f64 = 710.0;
pub(crate) const EXP_MIN: f64 = -750.0;

/// e^x = 2^k 2^(j/16) e^r. The AVX-512 version (`avx512::exp8`) performs exactly these
/// operations (so gives the same bits): the table lookup is a register permute there and
/// `scale2` one `vscalefpd`. Max error measured 0.51 ULP (normal results).
#[inline(always)]
pub(crate) fn exp_f64(x: f64) -> f64 {
    let xc = sel(x > EXP_MAX, EXP_MAX, x);
    let xc = sel(xc < EXP_MIN, EXP_MIN, xc);
    let t = fma(xc, EXP_16_LOG2E, SHIFT);
    let kf = t - SHIFT; // 16 k + j
    let r = fma(-kf, EXP_LN2_16_HI, xc); // exact
    let r = fma(-kf, EXP_LN2_16_LO, r);
    let j = (t.to_bits() & 15) as usize;
    let q = horner(r, &EXP_Q16);
    let p = fma(r * r, q, r); // e^r - 1
    let s = EXP_T_HI[j] + fma(EXP_T_HI[j], p, EXP_T_LO[j]);
    scale2(s, shifted_to_int(t) >> 4)
}

#[inline(always)]
pub(crate) fn exp2_f64(x: f64) -> f64 {
    let xc = sel(x > 1025.0, 1025.0, x);
    let xc = sel(xc < -1080.0, -1080.0, xc);
    let t = xc + SHIFT;
    let kf = t - SHIFT;
    let r0 = xc - kf; // exact, |r0| <= 0.5
    let (r, rl) = two_prod(r0, LN2);
    let rlo = fma(r0, LN2_LO, rl);
    let c = expm1_tail(r, rlo);
    let (s, se) = fast_two_sum(1.0, r);
    let p = s + (se + c);
    scale2(p, shifted_to_int(t))
}

/// e^x = 2^k (1 + r + ch + cl): `r` (|r| <= 0.347) and `ch = r^2/2` exact,
/// `cl` small (|cl| < 0.02); `x` must already be clamped to [-746, 711].
#[inline(always)]
fn exp_parts(x: f64) -> (i64, f64, f64, f64) {
    let (k, r, rlo) = exp_reduce(x);
    // q = 0.5 + r q3
    let q3 = horner(r, &EXP_Q3);
    let (r2, r2e) = two_prod(r, r);
    let cl = fma(r2, r * q3, fma(0.5, r2e, fma(r, rlo, rlo)));
    (k, r, 0.5 * r2, cl)
}

/// e^x - 1 = hi + lo (normalized: hi = fl(hi + lo)) from `exp_parts`;
/// needs k <= 1024.
#[inline(always)]
fn expm1_dd(k: i64, r: f64, ch: f64, cl: f64) -> (f64, f64) {
    // e^x - 1 = 2 (h + h r + h ch + h cl - 1/2), h = 2^(k-1): all terms exact
    // but h cl, summed with error-free transformations.
    let h = pow2i(k.wrapping_sub(1));
    let (s1, e1) = two_sum(h, -0.5);
    let (s2, e2) = two_sum(s1, h * r);
    let (s3, e3) = two_sum(s2, h * ch);
    fast_two_sum(2.0 * s3, 2.0 * (e1 + e2 + e3 + h * cl))
}

/// e^x / 2 from `exp_parts`, for 2 <= k <= 1025 (overflows correctly).
#[inline(always)]
fn exp_half(k: i64, r: f64, ch: f64, cl: f64) -> f64 {
    let h = pow2i(k.wrapping_sub(2));
    let (s1, e1) = two_sum(h, h * r);
    let (s2, e2) = two_sum(s1, h * ch);
    2.0 * (s2 + (e1 + e2 + h * cl))
}

/// |x| below which e^x - 1, sinh and tanh round to x.
const TINY: f64 = 5.551115123125783e-17; // 2^-54

#[inline(always)]
pub(crate) fn exp_m1_f64(x: f64) -> f64 {
    let xc = sel(x > 709.9, 709.9, x);
    let xc = sel(xc < -40.0, -40.0, xc);
    let (k, r, ch, cl) = exp_parts(xc);
    let (hi, _) = expm1_dd(k, r, ch, cl);
    // tiny |x|: keeps -0 and avoids the subnormal rounding of h * r
    sel(x.abs() < TINY, x, hi)
}

/// (hi, lo) of n / d for d = dh + dl, n = nh + nl (one division: a
/// division-free reciprocal was tried and measured slower, since one vdivpd
/// per loop iteration overlaps with the FMA work).
#[inline(always)]
fn div_dd(nh: f64, nl: f64, dh: f64, dl: f64) -> (f64, f64) {
    let inv = 1.0 / dh;
    let q0 = nh * inv;
    let rem = fma(-q0, dh, nh) + fma(-q0, dl, nl);
    (q0, rem * inv)
}

#[inline(always)]
pub(crate) fn sinh_f64(x: f64) -> f64 {
    let a = x.abs();
    let ac = sel(a > 710.6, 710.6, a);
    let (k, r, ch, cl) = exp_parts(ac);
    // a <= 40: sinh = (em + em / (1 + em)) / 2, em = e^a - 1
    let (mh, ml) = expm1_dd(k, r, ch, cl);
    let (dh, dl) = two_sum(1.0, mh);
    let (qh, ql) = div_dd(mh, ml, dh, dl + ml);
    let (s, se) = two_sum(mh, qh);
    let small = 0.5 * (s + (se + (ml + ql)));
    // a > 40: sinh = e^a / 2 (e^-a is below half an ulp)
    let big = exp_half(k, r, ch, cl);
    let res = sel(a > 40.0, big, small);
    let res = sel(a < TINY, a, res);
    f64::copysign(res, x)
}

#[inline(always)]
pub(crate) fn cosh_f64(x: f64) -> f64 {
    let a = x.abs();
    let ac = sel(a > 710.6, 710.6, a);
    let (k, r, ch, cl) = exp_parts(ac);
    // a <= 40: cosh = (E + 1/E) / 2, E = e^a = 1 + em
    let (mh, ml) = expm1_dd(k, r, ch, cl);
    let (eh, el) = two_sum(1.0, mh);
    let el = el + ml;
    let (ih, il) = div_dd(1.0, 0.0, eh, el);
    let (s, se) = two_sum(eh, ih);
    let small = 0.5 * (s + (se + (el + il)));
    let big = exp_half(k, r, ch, cl);
    sel(a > 40.0, big, small)
}

#[inline(always)]
pub(crate) fn tanh_f64(x: f64) -> f64 {
    let a = x.abs();
    // tanh(a) = em / (em + 2), em = e^(2a) - 1; tanh rounds to 1 above 19.1
    let a2 = sel(a > 22.0, 44.0, a + a);
    let (k, r, ch, cl) = exp_parts(a2);
    let (mh, ml) = expm1_dd(k, r, ch, cl);
    let (dh, dl) = two_sum(2.0, mh);
    let (qh, ql) = div_dd(mh, ml, dh, dl + ml);
    let res = qh + ql;
    // |x| < 2^-27: tanh(x) = x - x^3/3 rounds to x
    let res = sel(a < 7.450580596923828e-9, a, res);
    f64::copysign(res, x)
}

// ---------------------------------------------------------------- log family

/// Decomposes a positive finite normal `x` as `2^e * (1 + f)` with `1 + f`
/// in [sqrt(1/2), sqrt(2)); `f` is exact. Returns (e, f).
#[inline(always)]
fn log_reduce_normal(x: f64) -> (f64, f64) {
    let bits = x.to_bits();
    let tmp = bits.wrapping_sub(0x3fe6a09e667f3bcd);
    let e = (tmp as i64) >> 52;
    let m = f64::from_bits(bits.wrapping_sub((e as u64).wrapping_shl(52)));
    // i64 -> f64 by the SHIFT trick (no vcvtqq2pd on AVX2), |e| < 2^11
    let ef = f64::from_bits((e.wrapping_add(SHIFT.to_bits() as i64)) as u64) - SHIFT;
    (ef, m - 1.0)
}

/// As `log_reduce_normal`, subnormals allowed.
#[inline(always)]
fn log_reduce(x: f64) -> (f64, f64) {
    let sub = x < f64::MIN_POSITIVE;
    let xs = sel(sub, x * 18014398509481984.0, x); // 2^54
    let (e, f) = log_reduce_normal(xs);
    (e - sel(sub, 54.0, 0.0), f)
}

/// ln(1 + f) = v + lo for f in [sqrt(1/2) - 1, sqrt(2) - 1] (f exact):
/// `v = fl(f - f^2/2)` carries the leading bits, `lo` the small rest.
#[inline(always)]
fn log1p_core(f: f64) -> (f64, f64) {
    let s = f / (2.0 + f);
    let z = s * s;
    let rr = z * horner(z, &LOG_R);
    let (ff, ffe) = two_prod(f, f);
    let hfsq = 0.5 * ff;
    // ln(1+f) = f - hfsq + s (hfsq + R); |hfsq| < |f|
    let (v, ve) = fast_two_sum(f, -hfsq);
    let lo = fma(s, hfsq + rr, fma(-0.5, ffe, ve));
    (v, lo)
}

/// Special values shared by ln / log2 / log10: one test on the common path.
#[inline(always)]
fn log_special(x: f64, r: f64) -> f64 {
    let special = !(x > 0.0 && x < f64::INFINITY);
    let sv = sel(x == 0.0, f64::NEG_INFINITY, sel(x == f64::INFINITY, x, f64::NAN));
    sel(special, sv, r)
}

/// Bits of 0.703125: `ln_f64` splits x = 2^e z with z in [0.703125, 1.40625), the 16
/// subintervals being the 16 values of the top 4 mantissa bits of `bits(x) - LN_OFF`.
pub(crate) const LN_OFF: u64 = 0x3fe6_8000_0000_0000;
/// 1/c for each subinterval's centre c (rounded; c = 1 exactly for the one holding 1).
pub(crate) const LN_INVC: [f64; 16] = [
    1.3913043478260871,
    1.3333333333333335,
    1.28,
    1.2307692307692308,
    1.1851851851851853,
    1.142857142857143,
    1.103448275862069,
    1.0666666666666667,
    1.032258064516129,
    1.0,
    0.9411764705882354,
    0.888888888888889,
    0.8421052631578948,
    0.8,
    0.761904761904762,
    0.7272727272727273,
];
/// -ln(LN_INVC[i]) = LN_LOGC_HI[i] + LN_LOGC_LO[i] (to ~2^-96), the high part a multiple
/// of 2^-42 so that `e * LN2_HI42 + LN_LOGC_HI[i]` is exact.
pub(crate) const LN_LOGC_HI: [f64; 16] = [
    -0.33024168687052224,
    -0.28768207245184385,
    -0.2468600779316148,
    -0.20763936477828793,
    -0.16989903679541385,
    -0.13353139262449076,
    -0.09844007281321865,
    -0.0645385211375924,
    -0.03174869831468641,
    0.0,
    0.06062462181648698,
    0.11778303565643,
    0.17185025692674571,
    0.22314355131425145,
    0.2719337154835557,
    0.31845373111855224,
];
pub(crate) const LN_LOGC_LO: [f64; 16] = [
    -5.474398347409445e-14,
    6.281255158761943e-14,
    8.897769688389272e-14,
    4.3369911444011306e-14,
    1.6244437429923266e-14,
    -3.199851422715648e-14,
    -3.38573632414336e-14,
    2.1239485832617812e-14,
    1.061342829278565e-13,
    0.0,
    -5.224028979992365e-14,
    -4.661668641502352e-14,
    -8.656872390506369e-14,
    -4.175347699650321e-14,
    8.595286210733653e-14,
    -1.765318688778829e-14,
];
/// ln(1 + r) = r - r^2/2 + r^3 P(r) for r in [-0.0295, 0.03125]; |r^3 (P - P*)| < 2^-65.
pub(crate) const LN_P: [f64; 8] = [
    -0.09948623899053899,
    0.11127616428184195,
    -0.12500082790632888,
    0.1428570489412796,
    -0.16666666633304955,
    0.2000000000171599,
    -0.25000000000003164,
    0.3333333333333328,
];

/// ln x = e ln2 + ln c + ln(1 + r), x = 2^e z, r = z/c - 1 with |r| <= 2^-5: a table of
/// 16 (1/c, ln c), no division. `z/c = z * (1/c) = ph + pl` is error-free and `ph - 1`
/// exact (Sterbenz); `pl` (< 2^-53) enters as `pl / (1 + r)`. `e ln2 + ln c` is exact in
/// its high part and `+ r` is error-free, so the error is the final rounding plus ~0.03
/// ULP. The AVX-512 version (`avx512::ln8`) performs exactly these operations (table
/// lookups as register permutes, the special values as one `vfixupimmpd`), so it gives
/// the same bits. `ln_parts` returns the two parts before that rounding (for positive
/// finite x; garbage otherwise), which log2 and log10 scale in double-double.
#[inline(always)]
pub(crate) fn ln_parts(x: f64) -> (f64, f64) {
    let sub = x < f64::MIN_POSITIVE;
    let xs = sel(sub, x * 18014398509481984.0, x); // 2^54
    let bits = xs.to_bits();
    let tmp = bits.wrapping_sub(LN_OFF);
    let i = ((tmp >> 48) & 15) as usize;
    let e = ((tmp as i64) >> 52).wrapping_sub(if sub { 54 } else { 0 });
    // i64 -> f64 by the SHIFT trick (no vcvtqq2pd on AVX2), |e| < 2^11
    let ef = f64::from_bits((e.wrapping_add(SHIFT.to_bits() as i64)) as u64) - SHIFT;
    let z = f64::from_bits(bits.wrapping_sub(tmp & (0xfff << 52)));
    let (ph, pl) = two_prod(z, LN_INVC[i]); // ph in [0.97, 1.04]
    let r = ph - 1.0; // exact
    let tail = (r * r) * fma(r, horner(r, &LN_P), -0.5); // ln(1 + r) - r
    let w = fma(ef, LN2_HI42, LN_LOGC_HI[i]); // exact: multiples of 2^-42 below 2^10
    let (hi, he) = fast_two_sum(w, r); // |w| > |r| or w = 0
    let lo = (he + fma(-r, pl, pl)) + (fma(ef, LN2_LO42, LN_LOGC_LO[i]) + tail);
    (hi, lo)
}

#[inline(always)]
pub(crate) fn ln_f64(x: f64) -> f64 {
    let (hi, lo) = ln_parts(x);
    log_special(x, hi + lo)
}

/// ln x * (c + c_lo) with one final rounding (`(hi + lo) (c + c_lo)` as a double-double
/// product): log2 and log10 from `ln_parts`. Adds under 0.03 ULP to the final rounding;
/// exact for log2 of powers of two (the error of e ln2 log2(e) is far below half an ulp of
/// the integer e).
#[inline(always)]
pub(crate) fn ln_scaled(hi: f64, lo: f64, c: f64, c_lo: f64) -> f64 {
    let (p, pe) = two_prod(hi, c);
    p + fma(lo, c, fma(hi, c_lo, pe))
}

#[inline(always)]
pub(crate) fn log2_f64(x: f64) -> f64 {
    let (hi, lo) = ln_parts(x);
    log_special(x, ln_scaled(hi, lo, LOG2E, LOG2E_LO))
}

#[inline(always)]
pub(crate) fn log10_f64(x: f64) -> f64 {
    let (hi, lo) = ln_parts(x);
    log_special(x, ln_scaled(hi, lo, INV_LN10, INV_LN10_LO))
}

/// log2 by `log1p_core` (one division, no table): for f32, whose slices have no
/// in-register table kernel (the table loads of `log2_f64` vectorize to gathers, slower
/// than the division there). Max 0.72 ULP in f64.
#[inline(always)]
pub(crate) fn log2_div_f64(x: f64) -> f64 {
    let (e, f) = log_reduce(x);
    let (v, lo) = log1p_core(f);
    let (p, pe) = two_prod(v, LOG2E);
    let rest = fma(lo, LOG2E, fma(v, LOG2E_LO, pe));
    let (a, ae) = fast_two_sum(e, p); // |e| >= 1 > |p| or e = 0
    let r = a + (ae + rest);
    log_special(x, r)
}

/// log10 by `log1p_core`, for f32 (see `log2_div_f64`). Max 0.66 ULP in f64.
#[inline(always)]
pub(crate) fn log10_div_f64(x: f64) -> f64 {
    let (e, f) = log_reduce(x);
    let (v, lo) = log1p_core(f);
    let (p, pe) = two_prod(v, INV_LN10);
    let rest = fma(lo, INV_LN10, fma(v, INV_LN10_LO, pe));
    let (a, ae) = fast_two_sum(e * LOG10_2_HI42, p); // |e log10(2)| > |p| or e = 0
    let r = a + (ae + fma(e, LOG10_2_LO42, rest));
    log_special(x, r)
}

#[inline(always)]
pub(crate) fn ln_1p_f64(x: f64) -> f64 {
    // 1 + x = u + c exactly; u = 2^e (1 + f)
    let (u, c) = two_sum(1.0, x);
    let (e, f) = log_reduce_normal(u); // u >= 2^-53 (or special)
    let (v, lo) = log1p_core(f);
    // ln(1+x) = e ln2 + ln(1+f) + ln(1 + c2/(1+f)), c2 = c 2^-e, |c2| <= 2^-53:
    // the last term is c2 - c2 f + ... (second order in c2 is negligible).
    let ei = shifted_to_int(e + SHIFT); // exact, no saturating conversion
    let c2 = sel(e < 1000.0, c * pow2i(ei.wrapping_neg()), 0.0);
    let g = f * fma(f, fma(f, f - 1.0, 1.0), -1.0); // 1/(1+f) - 1 (to f^5)
    let (a, ae) = two_sum(e * LN2_HI42, v);
    let (b, be) = two_sum(a, c2);
    let small = fma(c2, g, fma(e, LN2_LO42, lo));
    let r = b + (ae + be + small);
    let r = sel(x == f64::INFINITY, f64::INFINITY, r);
    let r = sel(x == -1.0, f64::NEG_INFINITY, r);
    let r = sel(x < -1.0 || x.is_nan(), f64::NAN, r);
    sel(x == 0.0, x, r)
}

// ---------------------------------------------------------------- trigonometry

/// 2/pi in 53-bit chunks: chunk j is `TWO_OVER_PI_53[j] * 2^(-53 j)`, each
/// entry an exact 53-bit fraction in [0, 1).
const TWO_OVER_PI_53: [f64; 24] = [
    0.6366197723675813,
    0.6455004762340146,
    0.8260347502167291,
    0.6177029686506639,
    0.22946046207480975,
    0.28461387860774945,
    0.006138546976630632,
    0.5660391411155584,
    0.16270821739654884,
    0.6478181222020806,
    0.752362340216695,
    0.7848375294503177,
    0.2882121784458589,
    0.3143043483578357,
    0.505462883924126,
    0.35474129975356194,
    0.495348441190541,
    0.9093006150323975,
    0.7102755855591438,
    0.9716433593102769,
    0.645159640989469,
    0.38377539675336436,
    0.7971457910852385,
    0.5253582608053253,
];
const PIO2_HI: f64 = std::f64::consts::FRAC_PI_2;
const PIO2_LO: f64 = 6.123233995736766e-17;

/// sin r = r + r^3 S(r^2), |r| <= pi/4.
const SIN_S: [f64; 7] = [
    -7.586691094197958e-13,
    1.6058531516797758e-10,
    -2.5052106231802837e-08,
    2.7557319219337312e-06,
    -0.00019841269841265063,
    0.008333333333333331,
    -0.16666666666666666,
];
/// cos r = 1 - r^2/2 + r^4 C(r^2), |r| <= pi/4.
const COS_C: [f64; 6] = [
    -1.1382623647474604e-11,
    2.087614614655861e-09,
    -2.7557317271145144e-07,
    2.480158729876456e-05,
    -0.0013888888888887398,
    0.041666666666666664,
];

/// `v mod 4` in [-2, 2], exact.
#[inline(always)]
fn mod4(v: f64) -> f64 {
    v - 4.0 * (v * 0.25).round_ties_even()
}

/// Payne-Hanek reduction of a = |x| (any finite a; inf/NaN give NaN):
/// a = (n + f) pi/2 with f in [-1/2, 1/2]; returns (n mod 4, rh, rl) with
/// rh + rl = f pi/2 to ~2^-100 relative (except in the rare cases where |f|
/// is below ~2^-50, where the absolute error is ~2^-104).
#[inline(always)]
fn rem_pio2(a: f64) -> (u64, f64, f64) {
    // a = m 2^e2, m < 2^53 integer; skip the chunks of 2/pi whose products
    // with a are multiples of 4.
    let ex = ((a.to_bits() >> 52) as i64).wrapping_sub(1075);
    let j0 = ((ex - 2).max(0) / 53).min(18) as usize;
    let y = a * pow2i(-53 * j0 as i64); // exact
    let (p0, q0) = two_prod(y, TWO_OVER_PI_53[j0]);
    let (p1, q1) = two_prod(y, TWO_OVER_PI_53[j0 + 1]);
    let (p2, q2) = two_prod(y, TWO_OVER_PI_53[j0 + 2]);
    let (p3, q3) = two_prod(y, TWO_OVER_PI_53[j0 + 3]);
    let (p4, q4) = two_prod(y, TWO_OVER_PI_53[j0 + 4]);
    const S1: f64 = 1.0 / 9007199254740992.0; // 2^-53
    const S2: f64 = S1 * S1;
    const S3: f64 = S2 * S1;
    const S4: f64 = S2 * S2;
    // a 2/pi mod 4 = p0 + q0 + (p1 + q1) S1 + (p2 + q2) S2 + ...
    // Error-free cascades throughout: when the fraction is tiny (x close to a
    // multiple of pi/2) it still comes out with ~2^-100 relative accuracy.
    let (s, e1) = two_sum(mod4(p0), mod4(q0));
    let (s, e2) = two_sum(s, mod4(p1 * S1));
    let (s, e3) = two_sum(s, q1 * S1);
    let (s, e4) = two_sum(s, p2 * S2);
    let n = s.round_ties_even();
    let (s, g1) = two_sum(s - n, e1);
    let (s, g2) = two_sum(s, e2);
    let (s, g3) = two_sum(s, e3);
    let (s, g4) = two_sum(s, e4);
    let (s, g5) = two_sum(s, q2 * S2);
    let (s, g6) = two_sum(s, p3 * S3);
    let small = (q4 * S4 + p4 * S4) + q3 * S3;
    let lo = ((g1 + g2) + (g3 + g4)) + ((g5 + g6) + small);
    let (fh, fl) = fast_two_sum(s, lo);
    let n2 = fh.round_ties_even();
    let fh = fh - n2;
    let n = n + n2;
    let (rh, re) = two_prod(fh, PIO2_HI);
    let rl = re + fma(fh, PIO2_LO, fl * PIO2_HI);
    let (rh, rl) = fast_two_sum(rh, rl);
    ((n + SHIFT).to_bits() & 3, rh, rl)
}

/// Third part of pi/2: PIO2_HI + PIO2_LO + PIO2_LO2 is pi/2 to 2^-163.
const PIO2_LO2: f64 = -1.4973849048591698e-33;
/// |x| below which `rem_pio2_sel` uses `rem_pio2_fast`.
pub(crate) const TRIG_FAST_MAX: f64 = 1048576.0; // 2^20

/// Cody-Waite reduction of a = |x| < 2^20, with pi/2 in three parts: returns
/// (n mod 4, rh, rl) with a = n pi/2 + rh + rl, |rh| <= pi/4 + 2^-32.
///
/// `n` is the integer nearest a 2/pi (or, within 2^-33 of a half-integer, its
/// neighbour), n < 2^20. `a - n PIO2_HI` is exact: both are multiples of 2^-53
/// (a < 1, n <= 1) or of 2^-52, and the difference is below 1. `n PIO2_LO` is
/// split exactly and subtracted error-free, so the only errors are the roundings
/// in `tail` (< 2^-106 |s| + 2^-140) and the truncation of pi/2 (n 2^-163). The
/// double nearest a multiple of pi/2 below 2^20 is 45.553093477052 (29 pi/2), at
/// 2^-60.49 from it (found by enumerating every n), so the relative error of
/// rh + rl is below 2^-77 and |s| > |tail| for the final fast two-sum.
#[inline(always)]
fn rem_pio2_fast(a: f64) -> (u64, f64, f64) {
    let t = fma(a, std::f64::consts::FRAC_2_PI, SHIFT);
    let n = t - SHIFT;
    let r1 = fma(-n, PIO2_HI, a); // exact
    let (p, pe) = two_prod(n, PIO2_LO);
    let (s, se) = two_sum(r1, -p);
    let tail = fma(-n, PIO2_LO2, se - pe);
    let (rh, rl) = fast_two_sum(s, tail);
    (t.to_bits() & 3, rh, rl)
}

/// The reduction used by sin/cos/tan: `rem_pio2_fast` below 2^20, Payne-Hanek above
/// (and for inf/NaN). Branch-free: both are computed and selected. The AVX-512 slice
/// kernels skip the Payne-Hanek part for blocks where every lane is below 2^20 (same
/// bits: what they compute there is the selected value).
#[inline(always)]
fn rem_pio2_sel(a: f64) -> (u64, f64, f64) {
    let (nf, hf, lf) = rem_pio2_fast(a);
    let (ns, hs, ls) = rem_pio2(a);
    let fast = a < TRIG_FAST_MAX;
    (if fast { nf } else { ns }, sel(fast, hf, hs), sel(fast, lf, ls))
}

/// `rem_pio2` for a = |x| of an f32 x (24-bit significand, |x| < 2^128):
/// only 3 chunks of 2/pi, picked by a select (no gather), and a shorter sum:
/// absolute error ~2^-80 on the fraction, ample for an f32 result (the
/// closest f32 to a multiple of pi/2 leaves a fraction above 2^-35).
#[inline(always)]
fn rem_pio2_f32(a: f64) -> (u64, f64, f64) {
    // a is a multiple of 2^(ex + 29): skip the chunks whose products are
    // multiples of 4 (j0 in {0, 1} for |x| < 2^128)
    let ex = ((a.to_bits() >> 52) as i64).wrapping_sub(1075);
    let hi = ex + 27 >= 53;
    let y = a * sel(hi, 1.1102230246251565e-16, 1.0); // 2^-53
    let (p0, q0) = two_prod(y, sel(hi, TWO_OVER_PI_53[1], TWO_OVER_PI_53[0]));
    let (p1, q1) = two_prod(y, sel(hi, TWO_OVER_PI_53[2], TWO_OVER_PI_53[1]));
    let (p2, q2) = two_prod(y, sel(hi, TWO_OVER_PI_53[3], TWO_OVER_PI_53[2]));
    const S1: f64 = 1.0 / 9007199254740992.0; // 2^-53
    const S2: f64 = S1 * S1;
    let (s, e1) = two_sum(mod4(p0), mod4(q0));
    let (s, e2) = two_sum(s, mod4(p1 * S1));
    let n = s.round_ties_even();
    let lo = (e1 + e2) + (q1 * S1 + (p2 * S2 + q2 * S2));
    let (fh, fl) = fast_two_sum(s - n, lo);
    let n2 = fh.round_ties_even();
    let fh = fh - n2;
    let n = n + n2;
    let (rh, re) = two_prod(fh, PIO2_HI);
    let rl = re + fma(fh, PIO2_LO, fl * PIO2_HI);
    let (rh, rl) = fast_two_sum(rh, rl);
    ((n + SHIFT).to_bits() & 3, rh, rl)
}

/// sin(rh + rl) as (hi, lo), |rh| <= pi/4 + tiny.
#[inline(always)]
fn sin_dd(rh: f64, rl: f64, z: f64) -> (f64, f64) {
    let tail = fma(rh * z, horner(z, &SIN_S), rl * fma(-0.5, z, 1.0));
    fast_two_sum(rh, tail)
}

/// cos(rh + rl) as (hi, lo).
#[inline(always)]
fn cos_dd(rh: f64, rl: f64, z: f64) -> (f64, f64) {
    let (hz, hze) = two_prod(rh, 0.5 * rh);
    let (w, we) = fast_two_sum(1.0, -hz);
    let tail = fma(z * z, horner(z, &COS_C), fma(-rh, rl, we - hze));
    fast_two_sum(w, tail)
}

/// |x| below which sin x and tan x round to x.
const TRIG_TINY: f64 = 1.4901161193847656e-8; // 2^-26

#[inline(always)]
fn flip_sign(v: f64, neg: bool) -> f64 {
    f64::from_bits(v.to_bits() ^ ((neg as u64) << 63))
}

/// sin x from the reduction of |x|. No tiny-|x| case: below 2^-26 `rem_pio2_fast` returns
/// (0, |x|, 0) and `sin_dd` then |x| (the r^3 term is below half an ulp); `rem_pio2_f32`
/// does not, so `sin_of_f32` selects x there itself.
#[inline(always)]
fn sin_core(x: f64, (n, rh, rl): (u64, f64, f64)) -> f64 {
    let z = rh * rh;
    let (s, _) = sin_dd(rh, rl, z);
    let (c, _) = cos_dd(rh, rl, z);
    let v = sel(n & 1 == 1, c, s);
    let v = flip_sign(v, n & 2 == 2);
    flip_sign(v, x.is_sign_negative())
}

#[inline(always)]
fn cos_core((n, rh, rl): (u64, f64, f64)) -> f64 {
    let z = rh * rh;
    let (s, _) = sin_dd(rh, rl, z);
    let (c, _) = cos_dd(rh, rl, z);
    let v = sel(n & 1 == 1, s, c);
    flip_sign(v, (n + 1) & 2 == 2)
}

#[inline(always)]
fn tan_core(x: f64, (n, rh, rl): (u64, f64, f64)) -> f64 {
    let a = x.abs();
    let z = rh * rh;
    let (sh, sl) = sin_dd(rh, rl, z);
    let (ch, cl) = cos_dd(rh, rl, z);
    // even quadrant: sin/cos; odd: -cos/sin
    let odd = n & 1 == 1;
    let (nh, nl) = (sel(odd, ch, sh), sel(odd, cl, sl));
    let (dh, dl) = (sel(odd, sh, ch), sel(odd, sl, cl));
    let (qh, ql) = div_dd(nh, nl, dh, dl);
    let v = flip_sign(qh + ql, odd);
    let v = sel(a < TRIG_TINY, a, v);
    flip_sign(v, x.is_sign_negative())
}

#[inline(always)]
pub(crate) fn sin_f64(x: f64) -> f64 {
    sin_core(x, rem_pio2_sel(x.abs()))
}

#[inline(always)]
pub(crate) fn cos_f64(x: f64) -> f64 {
    cos_core(rem_pio2_sel(x.abs()))
}

#[inline(always)]
pub(crate) fn tan_f64(x: f64) -> f64 {
    tan_core(x, rem_pio2_sel(x.abs()))
}

/// `sin_f64` for |x| < TRIG_FAST_MAX only: the same operations with the reduction's
/// select resolved (the AVX-512 slice kernels use it on blocks where it applies).
#[inline(always)]
pub(crate) fn sin_fast_f64(x: f64) -> f64 {
    sin_core(x, rem_pio2_fast(x.abs()))
}

/// `cos_f64` for |x| < TRIG_FAST_MAX only (see `sin_fast_f64`).
#[inline(always)]
pub(crate) fn cos_fast_f64(x: f64) -> f64 {
    cos_core(rem_pio2_fast(x.abs()))
}

/// `tan_f64` for |x| < TRIG_FAST_MAX only (see `sin_fast_f64`).
#[inline(always)]
pub(crate) fn tan_fast_f64(x: f64) -> f64 {
    tan_core(x, rem_pio2_fast(x.abs()))
}

/// sin of an f32 (evaluated in f64 with the cheaper f32 reduction).
#[inline(always)]
pub(crate) fn sin_of_f32(x: f32) -> f32 {
    let x = x as f64;
    let v = sin_core(x, rem_pio2_f32(x.abs()));
    sel(x.abs() < TRIG_TINY, x, v) as f32
}

#[inline(always)]
pub(crate) fn cos_of_f32(x: f32) -> f32 {
    let x = x as f64;
    cos_core(rem_pio2_f32(x.abs())) as f32
}

#[inline(always)]
pub(crate) fn tan_of_f32(x: f32) -> f32 {
    let x = x as f64;
    tan_core(x, rem_pio2_f32(x.abs())) as f32
}

// ---------------------------------------------------------------- inverse trig

/// atan t = t + t^3 P(t^2), |t| <= 7/16.
const ATAN_P: [f64; 12] = [
    0.014771803541259421,
    -0.03312674367384146,
    0.044921989571273566,
    -0.052166649790788854,
    0.05876944220330461,
    -0.06666241706297325,
    0.07692285541401948,
    -0.09090908355081977,
    0.1111111109663336,
    -0.14285714285566672,
    0.1999999999999941,
    -0.3333333333333333,
];
const ATAN_HALF_HI: f64 = 0.4636476090008061;
const ATAN_HALF_LO: f64 = 2.2698777452961687e-17;
const PIO4_HI: f64 = std::f64::consts::FRAC_PI_4;
const PIO4_LO: f64 = 3.061616997868383e-17;
const PI_HI: f64 = std::f64::consts::PI;
const PI_LO: f64 = 1.2246467991473532e-16;

/// atan2(y, x) with y = yh + yl, x = xh + xl (the low parts let asin/acos pass
/// an exact-ish sqrt(1 - x^2)). Full std special-value semantics on yh, xh.
#[inline(always)]
fn atan2_dd(yh: f64, yl: f64, xh: f64, xl: f64) -> f64 {
    let ay = yh.abs();
    let ayl = flip_sign(yl, yh.is_sign_negative());
    let ax = xh.abs();
    let axl = flip_sign(xl, xh.is_sign_negative());
    let swap = ay > ax;
    let (n, nl) = (sel(swap, ax, ay), sel(swap, axl, ayl));
    let (d, dl) = (sel(swap, ay, ax), sel(swap, ayl, axl));
    // scale (exactly) so that 1/d and the remainder below neither overflow
    // nor go subnormal
    let sc = sel(
        n < 1.1830521861667747e-271 && d < 8.452712498170644e270, // 2^-900, 2^900
        1.2676506002282294e30,                                    // 2^100
        1.0,
    );
    let sc = sel(d > 1.0715086071862673e301, 7.888609052210118e-31, sc); // 2^1000, 2^-100
    let (n, nl, d, dl) = (n * sc, nl * sc, d * sc, dl * sc);
    // q = n / d in [0, 1]
    let (qh, ql) = div_dd(n, nl, d, dl);
    let special = d == f64::INFINITY || d == 0.0;
    let qh = sel(special, sel(n == f64::INFINITY, 1.0, 0.0), qh);
    let ql = sel(special, 0.0, ql);
    // atan q = atan c + atan t, t = (q - c) / (1 + c q), c in {0, 1/2, 1}
    let c = sel(qh < 0.4375, 0.0, sel(qh < 0.6875, 0.5, 1.0));
    let ah = sel(qh < 0.4375, 0.0, sel(qh < 0.6875, ATAN_HALF_HI, PIO4_HI));
    let al = sel(qh < 0.4375, 0.0, sel(qh < 0.6875, ATAN_HALF_LO, PIO4_LO));
    let num = qh - c; // exact (Sterbenz)
    let (den, dene) = two_sum(1.0, c * qh);
    let (th, tl) = div_dd(num, ql, den, fma(c, ql, dene));
    let z = th * th;
    let tail = fma(th * z, horner(z, &ATAN_P), fma(-tl, z, tl));
    // result = K + s (ah + th + al + tail)
    let xneg = xh.is_sign_negative();
    let kh = sel(swap, std::f64::consts::FRAC_PI_2, sel(xneg, PI_HI, 0.0));
    let kl = sel(swap, PIO2_LO, sel(xneg, PI_LO, 0.0));
    let neg = swap != xneg;
    let (u, ue) = two_sum(kh, flip_sign(ah, neg));
    let (v, ve) = two_sum(u, flip_sign(th, neg));
    let r = v + ((ue + ve) + (kl + flip_sign(al + tail, neg)));
    let r = f64::copysign(r, yh);
    sel(yh.is_nan() || xh.is_nan(), f64::NAN, r)
}

#[inline(always)]
pub(crate) fn atan2_f64(y: f64, x: f64) -> f64 {
    atan2_dd(y, 0.0, x, 0.0)
}

#[inline(always)]
pub(crate) fn atan_f64(x: f64) -> f64 {
    atan2_dd(x, 0.0, 1.0, 0.0)
}

/// sqrt(1 - x^2) as (hi, lo) for |x| <= 1 (NaN beyond).
#[inline(always)]
fn sqrt_1mx2(x: f64) -> (f64, f64) {
    let (p, pe) = two_prod(x, x);
    let (w, we) = fast_two_sum(1.0, -p);
    let wl = we - pe;
    let sh = w.sqrt();
    let sl = (fma(-sh, sh, w) + wl) * (0.5 / sh);
    (sh, sel(sh == 0.0, 0.0, sl))
}

#[inline(always)]
pub(crate) fn asin_f64(x: f64) -> f64 {
    let (sh, sl) = sqrt_1mx2(x);
    let r = atan2_dd(x, 0.0, sh, sl);
    sel(x.abs() > 1.0, f64::NAN, r)
}

#[inline(always)]
pub(crate) fn acos_f64(x: f64) -> f64 {
    let (sh, sl) = sqrt_1mx2(x);
    let r = atan2_dd(sh, sl, x, 0.0);
    sel(x.abs() > 1.0, f64::NAN, r)
}

// ---------------------------------------------------------------- cbrt

/// ~m^(-1/3) on [1, 8), relative error < 0.0048 (Newton refines it).
const CBRT_Z: [f64; 6] = [
    -0.00010790352720438857,
    0.002967073319555683,
    -0.03233586898392608,
    0.1792104144854146,
    -0.5538784978606232,
    1.3994427296412673,
];

#[inline(always)]
pub(crate) fn cbrt_f64(x: f64) -> f64 {
    let a = x.abs();
    let sub = a < f64::MIN_POSITIVE;
    let a2 = sel(sub, a * 18014398509481984.0, a); // 2^54
    let bits = a2.to_bits();
    // a2 = 2^e m, m in [1, 2); e = 3 q + rem
    let e = ((bits >> 52) as i64).wrapping_sub(1023);
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let ef = f64::from_bits((e.wrapping_add(SHIFT.to_bits() as i64)) as u64) - SHIFT;
    let q = ((ef + 0.5) * (1.0 / 3.0)).floor();
    let rem = ef - 3.0 * q;
    let mm = m * sel(rem == 1.0, 2.0, sel(rem == 2.0, 4.0, 1.0)); // [1, 8)
                                                                  // z -> mm^(-1/3): Newton z += z (1 - mm z^3) / 3, error 0.0048 -> 4e-5 -> 4e-9 -> 3e-17
    let mut z = horner(mm, &CBRT_Z);
    for _ in 0..3 {
        z = fma(z * (1.0 / 3.0), fma(-mm, z * z * z, 1.0), z);
    }
    // y = mm^(1/3) within a few ulps; one last Newton step with y^3 exact
    let y = mm * z * z;
    let (y2, y2e) = two_prod(y, y);
    let (y3, y3e) = two_prod(y2, y);
    let r = (y3 - mm) + fma(y2e, y, y3e);
    let y = fma(-r, z * z * (1.0 / 3.0), y);
    let qi = shifted_to_int(q + SHIFT).wrapping_sub(sel(sub, 18.0, 0.0) as i64);
    let res = f64::copysign(y * pow2i(qi), x);
    sel(a == 0.0 || a == f64::INFINITY || x.is_nan(), x, res)
}

// ---------------------------------------------------------------- powf

/// 2 atanh(s) = 2s + 2/3 s^3 + 2/5 s^5 + s^7 P(s^2), s^2 <= 0.0295 (rel. 2^-72).
const POW_LOG_P: [f64; 8] = [
    0.10618193945898602,
    0.1047279499544745,
    0.11766054036589604,
    0.13333314603562116,
    0.15384615525594558,
    0.18181818181297815,
    0.22222222222222954,
    0.2857142857142857,
];
const TWO_THIRDS_LO: f64 = 3.700743415417188e-17;
const TWO_FIFTHS_LO: f64 = -2.2204460492503132e-17;
const LN2_LO42_LO: f64 = 1.9470450923864617e-31;

/// (a + al) * (b + bl) as a double-double (low order terms dropped).
#[inline(always)]
fn mul_dd(a: f64, al: f64, b: f64, bl: f64) -> (f64, f64) {
    let (p, pe) = two_prod(a, b);
    fast_two_sum(p, pe + fma(a, bl, al * b))
}

/// ln|x| as a double-double with relative error ~2^-70 (positive finite x).
#[inline(always)]
fn ln_dd(x: f64) -> (f64, f64) {
    let (e, f) = log_reduce(x);
    // s = f / (2 + f) in double-double
    let (dh, dl) = two_sum(2.0, f);
    let (sh, sl) = div_dd(f, 0.0, dh, dl);
    let (sh, sl) = fast_two_sum(sh, sl);
    let (zh, zl) = mul_dd(sh, sl, sh, sl);
    let (s3h, s3l) = mul_dd(sh, sl, zh, zl);
    let (s5h, s5l) = mul_dd(s3h, s3l, zh, zl);
    let (t3h, t3l) = mul_dd(s3h, s3l, 2.0 / 3.0, TWO_THIRDS_LO);
    let (t5h, t5l) = mul_dd(s5h, s5l, 0.4, TWO_FIFTHS_LO);
    let rest = s5h * zh * horner(zh, &POW_LOG_P);
    // 2s + t3 + t5 + rest; 2s dominates (|t3| <= 0.0034 |2s|)
    let (a, ae) = fast_two_sum(2.0 * sh, t3h);
    let lo = 2.0 * sl + t3l + (t5h + (t5l + rest)) + ae;
    // + e ln2 (3 parts; e * LN2_HI42 exact)
    let (b, be) = two_sum(e * LN2_HI42, a);
    let lo = lo + be + fma(e, LN2_LO42, e * LN2_LO42_LO);
    fast_two_sum(b, lo)
}

/// Whether `y` is an integer, and an odd one (y finite).
#[inline(always)]
fn int_kind(y: f64) -> (bool, bool) {
    let is_int = y.trunc() == y;
    // odd: y/2 is not an integer (|y| < 2^53 for an odd integer)
    let half = y * 0.5;
    let odd = is_int && half.trunc() != half;
    (is_int, odd)
}

#[inline(always)]
pub(crate) fn powf_f64(x: f64, y: f64) -> f64 {
    let ax = x.abs();
    let (lh, ll) = ln_dd(ax);
    // t = y ln|x| in double-double, clamped to the range where exp is finite
    let (th, tl) = two_prod(y, lh);
    let tl = fma(y, ll, tl);
    let big = th > 710.0;
    let small = th < -746.0;
    let th = sel(big, 710.0, sel(small, -746.0, th));
    let tl = sel(big || small, 0.0, tl);
    // exp(th + tl) (as exp_f64, with the low part folded into the reduction)
    let t = fma(th, LOG2E, SHIFT);
    let kf = t - SHIFT;
    let r1 = fma(-kf, LN2, th); // exact
    let (r, rlo) = fast_two_sum(r1, fma(-kf, LN2_LO, tl));
    let c = expm1_tail(r, rlo);
    let (s, se) = fast_two_sum(1.0, r);
    let p = s + (se + c);
    let mag = scale2(p, shifted_to_int(t));
    // sign and special cases (IEEE 754 / C99 pow, as Rust's powf)
    let (is_int, odd) = int_kind(y);
    let xneg = x.is_sign_negative();
    let neg_res = xneg && odd;
    let r = flip_sign(mag, neg_res);
    let r = sel(xneg && !is_int && x != 0.0, f64::NAN, r); // x < 0, y not an integer
                                                           // x = ±0 or ±inf: 0^y, inf^y
    let zero_or_inf = ax == 0.0 || ax == f64::INFINITY;
    let pos_pow = (ax == 0.0) == (y < 0.0); // result magnitude inf?
    let zi = flip_sign(sel(pos_pow, f64::INFINITY, 0.0), neg_res);
    let r = sel(zero_or_inf, zi, r);
    // y = ±inf
    let yinf = y.abs() == f64::INFINITY;
    let yi = sel((ax > 1.0) == (y > 0.0), f64::INFINITY, 0.0);
    let yi = sel(ax == 1.0, 1.0, yi);
    let r = sel(yinf, yi, r);
    let r = sel(x.is_nan() || y.is_nan(), f64::NAN, r);
    // pow(x, ±0) = pow(1, y) = 1 even for a quiet NaN, but not for a signaling one (as libm).
    let snan = |v: f64| v.is_nan() && v.to_bits() & (1 << 51) == 0;
    sel((y == 0.0 && !snan(x)) || (x == 1.0 && !snan(y)), 1.0, r)
}
