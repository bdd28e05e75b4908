//! sin/cos/tan slice kernels for levels `v3` and `v4`, without intrinsics for the math: the
//! portable formulas, auto-vectorized, on runs of blocks of 8 lanes. Where every |x| of a
//! block is below `TRIG_FAST_MAX`, the Cody-Waite-only formula (`*_fast_f64`: the full one
//! with its reduction's select resolved, so the same operations on those lanes and the same
//! bits); elsewhere the full formula (Cody-Waite and Payne-Hanek, selected per lane).

use super::f64m::*;
use std::arch::x86_64::*;

/// Whether every lane of `x[i..i + 8]` is in `rem_pio2_fast`'s range: `|x| < TRIG_FAST_MAX`
/// (NaN: no), as `f64m::rem_pio2_sel` decides it.
///
/// # Safety
/// AVX2; `i + 8 <= x.len()`.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn all_fast(x: &[f64], i: usize) -> bool {
    debug_assert!(i + 8 <= x.len());
    // SAFETY: in bounds by the contract; AVX2 by the contract.
    unsafe {
        let p = x.as_ptr().add(i);
        let abs = _mm256_castsi256_pd(_mm256_set1_epi64x(i64::MAX));
        let b = _mm256_set1_pd(TRIG_FAST_MAX);
        let a0 = _mm256_and_pd(_mm256_loadu_pd(p), abs);
        let a1 = _mm256_and_pd(_mm256_loadu_pd(p.add(4)), abs);
        let c = _mm256_and_pd(_mm256_cmp_pd::<_CMP_LT_OQ>(a0, b), _mm256_cmp_pd::<_CMP_LT_OQ>(a1, b));
        _mm256_movemask_pd(c) == 0xf
    }
}

/// From the start of `x`, the run of whole blocks of 8 whose lanes are all (`fast`) or not
/// all (`!fast`) in the fast range: its length, a multiple of 8.
///
/// # Safety
/// AVX2.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn run_len(x: &[f64], fast: bool) -> usize {
    let mut len = 0;
    // SAFETY: len + 8 <= x.len(); the caller has AVX2.
    while len + 8 <= x.len() && unsafe { all_fast(x, len) } == fast {
        len += 8;
    }
    len
}

macro_rules! trig_kernels {
    ($features:literal; $($name:ident => $fast:path, $full:path),* $(,)?) => {$(
        /// `out[i] = f(x[i])`: runs of blocks of 8, fast or not; the tail through a
        /// zero-padded block.
        ///
        /// # Safety
        #[doc = concat!("The CPU must support ", $features, ". `x.len() == out.len()`.")]
        #[target_feature(enable = $features)]
        pub(crate) unsafe fn $name(x: &[f64], out: &mut [f64]) {
            // Each formula in a loop and a function of its own (not inlined), called
            // directly (through a closure LLVM may leave the formula out of line, compiled
            // without these features): inlined side by side into one loop, LLVM merges the
            // fast and the full branch into one computing both reductions.
            #[target_feature(enable = $features)]
            #[inline(never)]
            fn fast(x: &[f64], out: &mut [f64]) {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = $fast(v);
                }
            }
            #[target_feature(enable = $features)]
            #[inline(never)]
            fn full(x: &[f64], out: &mut [f64]) {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = $full(v);
                }
            }
            debug_assert_eq!(x.len(), out.len());
            let n = x.len().min(out.len());
            let mut i = 0;
            // SAFETY (each call): the caller has the features (AVX2 among them).
            while i + 8 <= n {
                let len = unsafe { run_len(&x[i..n], true) };
                fast(&x[i..i + len], &mut out[i..i + len]);
                i += len;
                let len = unsafe { run_len(&x[i..n], false) };
                full(&x[i..i + len], &mut out[i..i + len]);
                i += len;
            }
            if i < n {
                let mut xb = [0.0; 8];
                let mut ob = [0.0; 8];
                xb[..n - i].copy_from_slice(&x[i..n]);
                if unsafe { all_fast(&xb, 0) } {
                    fast(&xb, &mut ob);
                } else {
                    full(&xb, &mut ob);
                }
                out[i..n].copy_from_slice(&ob[..n - i]);
            }
        }
    )*};
}

trig_kernels!("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma";
    sin_v4 => sin_fast_f64, sin_f64,
    cos_v4 => cos_fast_f64, cos_f64,
    tan_v4 => tan_fast_f64, tan_f64,
);

trig_kernels!("avx2,fma";
    sin_v3 => sin_fast_f64, sin_f64,
    cos_v3 => cos_fast_f64, cos_f64,
    tan_v3 => tan_fast_f64, tan_f64,
);
