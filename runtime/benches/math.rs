//! loopfuse math vs std, 1e5 elements, f64 and f32.
//!
//! "loopfuse_v4": the slice helper inlined into an AVX-512 `#[target_feature]`
//! wrapper at level v4 (what a v4 clone of a `#[kernel]` does: exp, ln, log2, log10,
//! sin, cos and tan then run their AVX-512 slice kernels); "loopfuse_v3": the same in
//! an AVX2+FMA wrapper at level v3 (the portable formulas, auto-vectorized); "std":
//! `x.iter().map(|v| v.exp())` in a plain build.
//! Run: `taskset -c 1 cargo bench -p loopfuse-runtime --bench math`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use loopfuse_runtime::math::{self, Math};
#[cfg(target_arch = "x86_64")]
use loopfuse_runtime::{with_target, Target};
use std::time::Duration;

const N: usize = 100_000;

macro_rules! wrappers {
    ($($name:ident),*) => {$(
        #[allow(non_snake_case)]
        mod $name {
            use super::*;
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
            #[inline(never)]
            /// # Safety
            /// The CPU must support AVX-512F/BW/DQ/VL, AVX2 and FMA.
            pub unsafe fn v4<T: Math>(x: &[T], out: &mut [T]) {
                with_target(Target::V4, || math::$name(x, out))
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            #[inline(never)]
            /// # Safety
            /// The CPU must support AVX2 and FMA.
            pub unsafe fn v3<T: Math>(x: &[T], out: &mut [T]) {
                with_target(Target::V3, || math::$name(x, out))
            }
        }
    )*};
}

wrappers!(
    sin_slice,
    cos_slice,
    tan_slice,
    tanh_slice,
    sinh_slice,
    cosh_slice,
    atan_slice,
    asin_slice,
    acos_slice,
    cbrt_slice,
    exp_slice,
    exp2_slice,
    exp_m1_slice,
    ln_slice,
    log2_slice,
    log10_slice,
    ln_1p_slice
);

fn has_v4() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

fn has_v3() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Inputs in the function's natural domain.
fn inputs(name: &str) -> Vec<f64> {
    let mut s = 0x1234_5678_9abc_def0u64;
    let mut unit = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..N)
        .map(|_| {
            let u = unit();
            match name {
                "exp" | "exp_m1" | "exp2" => u * 40.0 - 20.0,
                "ln" | "log2" | "log10" => (u * 80.0 - 40.0).exp(),
                "ln_1p" => (u * 40.0 - 20.0).exp() - 0.5,
                "asin" | "acos" => u * 2.0 - 1.0,
                "sinh" | "cosh" => u * 20.0 - 10.0,
                _ => u * 20.0 - 10.0,
            }
        })
        .collect()
}

macro_rules! bench_fn {
    ($c:expr, $name:ident, $slice:ident) => {{
        let name = stringify!($name);
        let x64 = inputs(name);
        let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
        let mut g = $c.benchmark_group(format!("math/{name}"));
        g.throughput(Throughput::Elements(N as u64))
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_secs(1))
            .sample_size(20);
        let mut o64 = vec![0.0f64; N];
        let mut o32 = vec![0.0f32; N];
        if has_v4() {
            g.bench_function(BenchmarkId::new("loopfuse_v4", "f64"), |b| {
                // SAFETY: has_v4() checked every feature v4 enables.
                b.iter(|| unsafe { $slice::v4(black_box(&x64), black_box(&mut o64)) })
            });
        }
        if has_v3() {
            g.bench_function(BenchmarkId::new("loopfuse_v3", "f64"), |b| {
                // SAFETY: has_v3() checked AVX2 and FMA.
                b.iter(|| unsafe { $slice::v3(black_box(&x64), black_box(&mut o64)) })
            });
        }
        g.bench_function(BenchmarkId::new("std", "f64"), |b| {
            b.iter(|| {
                for (o, v) in o64.iter_mut().zip(black_box(&x64)) {
                    *o = v.$name();
                }
            })
        });
        if has_v4() {
            g.bench_function(BenchmarkId::new("loopfuse_v4", "f32"), |b| {
                // SAFETY: has_v4() checked every feature v4 enables.
                b.iter(|| unsafe { $slice::v4(black_box(&x32), black_box(&mut o32)) })
            });
        }
        g.bench_function(BenchmarkId::new("std", "f32"), |b| {
            b.iter(|| {
                for (o, v) in o32.iter_mut().zip(black_box(&x32)) {
                    *o = v.$name();
                }
            })
        });
        g.finish();
    }};
}

fn benches(c: &mut Criterion) {
    bench_fn!(c, exp, exp_slice);
    bench_fn!(c, ln, ln_slice);
    bench_fn!(c, sin, sin_slice);
    bench_fn!(c, tanh, tanh_slice);
    bench_fn!(c, exp2, exp2_slice);
    bench_fn!(c, log2, log2_slice);
    bench_fn!(c, log10, log10_slice);
    bench_fn!(c, exp_m1, exp_m1_slice);
    bench_fn!(c, ln_1p, ln_1p_slice);
    bench_fn!(c, cos, cos_slice);
    bench_fn!(c, tan, tan_slice);
    bench_fn!(c, sinh, sinh_slice);
    bench_fn!(c, cosh, cosh_slice);
    bench_fn!(c, atan, atan_slice);
    bench_fn!(c, asin, asin_slice);
    bench_fn!(c, acos, acos_slice);
    bench_fn!(c, cbrt, cbrt_slice);
}

criterion_group!(math_benches, benches);
criterion_main!(math_benches);
