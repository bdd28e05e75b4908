//! AVX-512 versions of the hottest kernels (exp, ln, log2, log10), used by the slice helpers
//! (and so by the math stages of `#[kernel]` loops) when the running level is `v4`.
//!
//! Each one performs the operations of its portable formula in `f64m.rs`, one for one and
//! in the same order, so it returns the same bits (the cross-level tests check it). What it
//! adds is what LLVM cannot derive from scalar code: small tables held in registers and
//! looked up with `vpermi2pd` (the portable code's table load vectorizes to a gather, several
//! times slower), `vscalefpd` for exp's final `* 2^k` (the portable `scale2` is two
//! multiplications by powers of two built with integer arithmetic: same single rounding),
//! `vcvtqq2pd` for the logarithms' exponent (exact, as the portable SHIFT trick) and one
//! `vfixupimmpd` for their special values (the portable `log_special`'s selects).
//!
//! sin/cos/tan need no intrinsics for their math: see `trig_runs.rs`.

use super::common::SHIFT;
use super::f64m::*;
use std::arch::x86_64::*;

#[inline(always)]
fn splat(v: f64) -> __m512d {
    // SAFETY: no memory access; only called from functions with AVX-512F enabled.
    unsafe { _mm512_set1_pd(v) }
}

/// Horner's rule with `vfmadd`, as `common::horner`.
#[inline(always)]
unsafe fn horner8<const N: usize>(x: __m512d, c: &[f64; N]) -> __m512d {
    let mut acc = splat(c[0]);
    let mut i = 1;
    while i < N {
        // SAFETY: caller has AVX-512F.
        acc = unsafe { _mm512_fmadd_pd(acc, x, splat(c[i])) };
        i += 1;
    }
    acc
}

/// Looks up 16-entry tables in registers: lane l gets `t[idx[l] & 15]`.
#[inline(always)]
unsafe fn lookup16(t: &[f64; 16], idx: __m512i) -> __m512d {
    // SAFETY: two 8-lane loads from a 16-entry array; the caller has AVX-512F.
    unsafe {
        let t0 = _mm512_loadu_pd(t.as_ptr());
        let t1 = _mm512_loadu_pd(t.as_ptr().add(8));
        _mm512_permutex2var_pd(t0, idx, t1)
    }
}

/// Eight lanes of `f64m::exp_f64`.
#[target_feature(enable = "avx512f")]
#[inline]
fn exp8(x: __m512d) -> __m512d {
    // min/max(c, v) return v when v is NaN: the portable `sel(v > c, c, v)`.
    let xc = _mm512_min_pd(splat(EXP_MAX), x);
    let xc = _mm512_max_pd(splat(EXP_MIN), xc);
    let t = _mm512_fmadd_pd(xc, splat(EXP_16_LOG2E), splat(SHIFT));
    let kf = _mm512_sub_pd(t, splat(SHIFT));
    let r = _mm512_fnmadd_pd(kf, splat(EXP_LN2_16_HI), xc);
    let r = _mm512_fnmadd_pd(kf, splat(EXP_LN2_16_LO), r);
    // The permutes read the low 4 bits of each index lane: j = bits(t) & 15.
    let j = _mm512_castpd_si512(t);
    // SAFETY: AVX-512F is enabled here.
    let (hi, lo) = unsafe { (lookup16(&EXP_T_HI, j), lookup16(&EXP_T_LO, j)) };
    // SAFETY: AVX-512F is enabled here.
    let q = unsafe { horner8(r, &EXP_Q16) };
    let p = _mm512_fmadd_pd(_mm512_mul_pd(r, r), q, r);
    let s = _mm512_add_pd(hi, _mm512_fmadd_pd(hi, p, lo));
    // kf / 16 = k + j/16: vscalefpd uses its floor, k.
    _mm512_scalef_pd(s, _mm512_mul_pd(kf, splat(0.0625)))
}

#[inline(always)]
fn splat_i(v: u64) -> __m512i {
    // SAFETY: no memory access; only called from functions with AVX-512F enabled.
    unsafe { _mm512_set1_epi64(v as i64) }
}

/// Eight lanes of `f64m::ln_parts`.
#[target_feature(enable = "avx512f,avx512dq")]
#[inline]
fn ln_parts8(x: __m512d) -> (__m512d, __m512d) {
    let sub = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(x, splat(f64::MIN_POSITIVE));
    let xs = _mm512_mask_mul_pd(x, sub, x, splat(18014398509481984.0));
    let bits = _mm512_castpd_si512(xs);
    let tmp = _mm512_sub_epi64(bits, splat_i(LN_OFF));
    // the permutes read the low 4 bits of each index lane: (tmp >> 48) & 15
    let idx = _mm512_srli_epi64::<48>(tmp);
    let e = _mm512_srai_epi64::<52>(tmp);
    let e = _mm512_mask_sub_epi64(e, sub, e, splat_i(54));
    // exact, as the portable SHIFT trick
    let ef = _mm512_cvtepi64_pd(e);
    let z = _mm512_sub_epi64(bits, _mm512_and_si512(tmp, splat_i(0xfff << 52)));
    let z = _mm512_castsi512_pd(z);
    // SAFETY: AVX-512F is enabled here.
    let (invc, lch, lcl) = unsafe { (lookup16(&LN_INVC, idx), lookup16(&LN_LOGC_HI, idx), lookup16(&LN_LOGC_LO, idx)) };
    let ph = _mm512_mul_pd(z, invc);
    let pl = _mm512_fmsub_pd(z, invc, ph);
    let r = _mm512_sub_pd(ph, splat(1.0));
    // SAFETY: AVX-512F is enabled here.
    let q = unsafe { horner8(r, &LN_P) };
    let tail = _mm512_mul_pd(_mm512_mul_pd(r, r), _mm512_fmadd_pd(r, q, splat(-0.5)));
    let w = _mm512_fmadd_pd(ef, splat(LN2_HI42), lch);
    let hi = _mm512_add_pd(w, r);
    let he = _mm512_sub_pd(r, _mm512_sub_pd(hi, w));
    let l1 = _mm512_add_pd(he, _mm512_fnmadd_pd(r, pl, pl));
    let l2 = _mm512_add_pd(_mm512_fmadd_pd(ef, splat(LN2_LO42), lcl), tail);
    (hi, _mm512_add_pd(l1, l2))
}

/// `f64m::log_special(x, y)`.
#[target_feature(enable = "avx512f")]
#[inline]
fn log_special8(x: __m512d, y: __m512d) -> __m512d {
    // `log_special` by the class of x: +0/-0 -> -inf, +inf -> +inf, NaN, -inf and
    // negative -> NaN, positive (normal, subnormal, 1) -> y. One nibble per class, from
    // QNaN (low) to positive: 3 = QNaN, 4 = -inf, 5 = +inf, 0 = keep y.
    let table = splat_i(0x0353_0433);
    _mm512_fixupimm_pd::<0>(y, x, table)
}

/// Eight lanes of `f64m::ln_f64`.
#[target_feature(enable = "avx512f,avx512dq")]
#[inline]
fn ln8(x: __m512d) -> __m512d {
    let (hi, lo) = ln_parts8(x);
    log_special8(x, _mm512_add_pd(hi, lo))
}

/// `f64m::ln_scaled`.
#[target_feature(enable = "avx512f")]
#[inline]
fn ln_scaled8(hi: __m512d, lo: __m512d, c: f64, c_lo: f64) -> __m512d {
    let p = _mm512_mul_pd(hi, splat(c));
    let pe = _mm512_fmsub_pd(hi, splat(c), p);
    _mm512_add_pd(p, _mm512_fmadd_pd(lo, splat(c), _mm512_fmadd_pd(hi, splat(c_lo), pe)))
}

/// Eight lanes of `f64m::log2_f64`.
#[target_feature(enable = "avx512f,avx512dq")]
#[inline]
fn log2_8(x: __m512d) -> __m512d {
    let (hi, lo) = ln_parts8(x);
    log_special8(x, ln_scaled8(hi, lo, LOG2E, LOG2E_LO))
}

/// Eight lanes of `f64m::log10_f64`.
#[target_feature(enable = "avx512f,avx512dq")]
#[inline]
fn log10_8(x: __m512d) -> __m512d {
    let (hi, lo) = ln_parts8(x);
    log_special8(x, ln_scaled8(hi, lo, INV_LN10, INV_LN10_LO))
}

macro_rules! slice_fns {
    ($($name:ident => $f:ident),* $(,)?) => {$(
        /// `out[i] = f(x[i])` eight lanes at a time; the tail with masked loads and stores.
        ///
        /// # Safety
        /// The CPU must support AVX-512F and DQ. `x.len() == out.len()`.
        #[target_feature(enable = "avx512f,avx512dq")]
        #[inline]
        pub(crate) unsafe fn $name(x: &[f64], out: &mut [f64]) {
            debug_assert_eq!(x.len(), out.len());
            let n = x.len().min(out.len());
            let mut i = 0;
            while i + 8 <= n {
                // SAFETY: i + 8 <= n <= both lengths.
                unsafe { _mm512_storeu_pd(out.as_mut_ptr().add(i), $f(_mm512_loadu_pd(x.as_ptr().add(i)))) };
                i += 8;
            }
            if i < n {
                let m: __mmask8 = (1u8 << (n - i)) - 1;
                // SAFETY: masked-off lanes are neither read nor written (no fault either);
                // the first n - i lanes are in bounds.
                unsafe {
                    let v = _mm512_maskz_loadu_pd(m, x.as_ptr().add(i));
                    _mm512_mask_storeu_pd(out.as_mut_ptr().add(i), m, $f(v));
                }
            }
        }
    )*};
}

slice_fns!(exp_slice => exp8, ln_slice => ln8, log2_slice => log2_8, log10_slice => log10_8);
