//! Quick throughput probe (not a test of correctness): min-of-N ns/element of
//! the AVX-512 slice helpers vs std on 1e5 elements. The minimum filters out
//! interference on a shared machine. Run with
//! `cargo test --release --test math_perf -- --ignored --nocapture`.

use loopfuse_runtime::math::{self, Math};
use std::hint::black_box;
use std::time::Instant;

const N: usize = 100_000;

fn min_ns(mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..200 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_nanos() as f64 / N as f64);
    }
    best
}

macro_rules! probe {
    ($($name:ident / $slice:ident : $lo:expr, $hi:expr);* $(;)?) => {
        #[cfg(target_arch = "x86_64")]
        mod v4 {
            use super::*;
            $(
                #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
                #[inline(never)]
                pub fn $name<T: Math>(x: &[T], o: &mut [T]) {
                    math::$slice(x, o)
                }
            )*
        }

        #[test]
        #[ignore]
        fn probe() {
            #[cfg(target_arch = "x86_64")]
            {
                if !is_x86_feature_detected!("avx512dq") || !is_x86_feature_detected!("avx512vl")
                    || !is_x86_feature_detected!("avx512bw") || !is_x86_feature_detected!("fma") {
                    return;
                }
                println!("{:<8} {:>9} {:>9} {:>6}   {:>9} {:>9} {:>6}", "fn", "lf f64", "std f64", "ratio", "lf f32", "std f32", "ratio");
                $(
                    let x64: Vec<f64> = (0..N).map(|i| $lo + ($hi - $lo) * ((i * 7919) % N) as f64 / N as f64).collect();
                    let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
                    let mut o64 = vec![0.0f64; N];
                    let mut o32 = vec![0.0f32; N];
                    // SAFETY: the features v4 enables were checked above.
                    let a = min_ns(|| unsafe { v4::$name(black_box(&x64), black_box(&mut o64)) });
                    let b = min_ns(|| for (o, v) in o64.iter_mut().zip(black_box(&x64)) { *o = v.$name() });
                    // SAFETY: as above.
                    let c = min_ns(|| unsafe { v4::$name(black_box(&x32), black_box(&mut o32)) });
                    let d = min_ns(|| for (o, v) in o32.iter_mut().zip(black_box(&x32)) { *o = v.$name() });
                    println!("{:<8} {:>9.3} {:>9.3} {:>6.1}   {:>9.3} {:>9.3} {:>6.1}", stringify!($name), a, b, b / a, c, d, d / c);
                )*
            }
        }
    };
}

probe! {
    exp / exp_slice: -20.0, 20.0;
    exp2 / exp2_slice: -20.0, 20.0;
    exp_m1 / exp_m1_slice: -20.0, 20.0;
    ln / ln_slice: 1e-5, 1e5;
    log2 / log2_slice: 1e-5, 1e5;
    log10 / log10_slice: 1e-5, 1e5;
    ln_1p / ln_1p_slice: -0.5, 1e5;
    sin / sin_slice: -10.0, 10.0;
    cos / cos_slice: -10.0, 10.0;
    tan / tan_slice: -10.0, 10.0;
    tanh / tanh_slice: -10.0, 10.0;
    sinh / sinh_slice: -10.0, 10.0;
    cosh / cosh_slice: -10.0, 10.0;
    atan / atan_slice: -10.0, 10.0;
    asin / asin_slice: -1.0, 1.0;
    acos / acos_slice: -1.0, 1.0;
    cbrt / cbrt_slice: -1e5, 1e5;
}

/// The price of the FMA decision in a generic x86-64 build: `mul_add` is a
/// libm call there.
#[test]
#[ignore]
fn probe_generic_level() {
    let x: Vec<f64> = (0..N).map(|i| -20.0 + 40.0 * ((i * 7919) % N) as f64 / N as f64).collect();
    let mut o = vec![0.0f64; N];
    let a = min_ns(|| math::exp_slice(black_box(&x), black_box(&mut o)));
    let b = min_ns(|| math::ln_slice(black_box(&x), black_box(&mut o)));
    println!("generic build: exp {a:.2} ns/elem, ln(|x|) {b:.2} ns/elem (NaN for x<0)");
}
