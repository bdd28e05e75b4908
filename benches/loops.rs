//! Explicit loops inside `#[kernel]` (issue 4) against the expression form and against
//! hand-written loops compiled for this CPU.
//!
//! - `myvar2`: the loop form (`for item in arr { sum += (item - mean).powi(2) }`), the
//!   expression form (`((arr - mean).powi(2)).sum()`), and a hand-written two-pass loop with
//!   32 lane accumulators (the runtime's lane count) in a `#[target_feature]` function at the
//!   AVX-512 level, called after an `is_x86_feature_detected!` check;
//! - `dot`: the indexed loop `for i in 0..a.len() { s += a[i] * b[i] }`, `a.dot(b)`, and
//!   the hand-written 32-accumulator loop;
//! - `stencil3`: `out[i] = (a[i - 1] + a[i] + a[i + 1]) / 3.0` over `1..n - 1` vs a
//!   hand-written loop with `get_unchecked` in the same `#[target_feature]` wrapper;
//! - `cumsum`: a loop with a true sequential dependence, kept in order, vs the plain loop.
//!
//! Groups are `<workload>/<size>` (`1e3`, `1e5`); run one with
//! `taskset -c 1 cargo bench --bench loops -- /1e5/`.

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use loopfuse::kernel;
use std::hint::black_box;
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// The kernels.

#[kernel]
pub fn myvar2_loop(arr: &[f64]) -> f64 {
    let mean = arr.mean();
    let mut sum = 0.0;
    for item in arr {
        sum += (item - mean).powi(2);
    }
    sum / arr.len() as f64
}

#[kernel]
pub fn myvar2_expr(arr: &[f64]) -> f64 {
    let mean = arr.mean();
    ((arr - mean).powi(2)).sum() / arr.len() as f64
}

#[kernel]
pub fn dot_loop(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * b[i];
    }
    s
}

#[kernel]
pub fn dot_expr(a: &[f64], b: &[f64]) -> f64 {
    a.dot(b)
}

#[kernel]
pub fn stencil3(a: &[f64], out: &mut [f64]) {
    let n = a.len();
    for i in 1..n - 1 {
        out[i] = (a[i - 1] + a[i] + a[i + 1]) / 3.0;
    }
}

#[kernel]
pub fn cumsum(x: &[f64], out: &mut [f64]) {
    let mut acc = 0.0;
    for i in 0..x.len() {
        acc += x[i];
        out[i] = acc;
    }
}

// ---------------------------------------------------------------------------------------
// Hand-written loops.

mod hand {
    const LANES: usize = 32;

    /// The lanes added pairwise (a fixed tree).
    #[inline(always)]
    fn combine(acc: &[f64; LANES]) -> f64 {
        let mut v = *acc;
        let mut w = LANES;
        while w > 1 {
            w /= 2;
            for j in 0..w {
                v[j] += v[j + w];
            }
        }
        v[0]
    }

    /// Sum of `f(x)` with 32 lane accumulators, then the tail in order.
    #[inline(always)]
    fn lanes_sum(a: &[f64], f: impl Fn(f64) -> f64) -> f64 {
        let mut acc = [0.0f64; LANES];
        let chunks = a.chunks_exact(LANES);
        let tail = chunks.remainder();
        for c in chunks {
            for (l, &x) in acc.iter_mut().zip(c) {
                *l += f(x);
            }
        }
        let mut s = combine(&acc);
        for &x in tail {
            s += f(x);
        }
        s
    }

    /// Sum of `f(x, y)` over `a` and `b` (same length) with 32 lane accumulators.
    #[inline(always)]
    fn lanes_sum2(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> f64 {
        assert_eq!(a.len(), b.len());
        let mut acc = [0.0f64; LANES];
        let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
        let (ta, tb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            for ((l, &x), &y) in acc.iter_mut().zip(x).zip(y) {
                *l += f(x, y);
            }
        }
        let mut s = combine(&acc);
        for (&x, &y) in ta.iter().zip(tb) {
            s += f(x, y);
        }
        s
    }

    /// The 32-lane reductions written with AVX-512 intrinsics: four `__m512d` accumulators
    /// (LLVM's SLP vectorizer makes the portable 32-lane loops above out of 128-bit vectors,
    /// which would make a weak baseline).
    #[cfg(target_arch = "x86_64")]
    #[allow(clippy::incompatible_msrv)]
    mod zmm {
        use std::arch::x86_64::*;

        /// Adds the four accumulators pairwise and then the 8 lanes.
        #[target_feature(enable = "avx2,fma,avx512f,avx512bw,avx512cd,avx512dq,avx512vl")]
        fn finish(acc: [__m512d; 4]) -> f64 {
            let v = _mm512_add_pd(_mm512_add_pd(acc[0], acc[2]), _mm512_add_pd(acc[1], acc[3]));
            _mm512_reduce_add_pd(v)
        }

        /// Sum of `a`.
        #[target_feature(enable = "avx2,fma,avx512f,avx512bw,avx512cd,avx512dq,avx512vl")]
        pub fn sum(a: &[f64]) -> f64 {
            let mut acc = [_mm512_setzero_pd(); 4];
            let chunks = a.chunks_exact(32);
            let tail = chunks.remainder();
            for c in chunks {
                for (k, l) in acc.iter_mut().enumerate() {
                    // SAFETY: `c` has 32 elements, so `c[8k..8k + 8]` is in bounds.
                    let x = unsafe { _mm512_loadu_pd(c.as_ptr().add(8 * k)) };
                    *l = _mm512_add_pd(*l, x);
                }
            }
            tail.iter().fold(finish(acc), |s, &x| s + x)
        }

        /// Sum of `(a[i] - mean)^2`.
        #[target_feature(enable = "avx2,fma,avx512f,avx512bw,avx512cd,avx512dq,avx512vl")]
        pub fn sum_sq_dev(a: &[f64], mean: f64) -> f64 {
            let m = _mm512_set1_pd(mean);
            let mut acc = [_mm512_setzero_pd(); 4];
            let chunks = a.chunks_exact(32);
            let tail = chunks.remainder();
            for c in chunks {
                for (k, l) in acc.iter_mut().enumerate() {
                    // SAFETY: `c` has 32 elements, so `c[8k..8k + 8]` is in bounds.
                    let d = _mm512_sub_pd(unsafe { _mm512_loadu_pd(c.as_ptr().add(8 * k)) }, m);
                    *l = _mm512_add_pd(*l, _mm512_mul_pd(d, d));
                }
            }
            tail.iter().fold(finish(acc), |s, &x| s + (x - mean) * (x - mean))
        }

        /// Sum of `a[i] * b[i]` (same length).
        #[target_feature(enable = "avx2,fma,avx512f,avx512bw,avx512cd,avx512dq,avx512vl")]
        pub fn dot(a: &[f64], b: &[f64]) -> f64 {
            assert_eq!(a.len(), b.len());
            let mut acc = [_mm512_setzero_pd(); 4];
            let (ca, cb) = (a.chunks_exact(32), b.chunks_exact(32));
            let (ta, tb) = (ca.remainder(), cb.remainder());
            for (x, y) in ca.zip(cb) {
                for (k, l) in acc.iter_mut().enumerate() {
                    // SAFETY: `x` and `y` have 32 elements each.
                    let (x, y) =
                        unsafe { (_mm512_loadu_pd(x.as_ptr().add(8 * k)), _mm512_loadu_pd(y.as_ptr().add(8 * k))) };
                    *l = _mm512_add_pd(*l, _mm512_mul_pd(x, y));
                }
            }
            ta.iter().zip(tb).fold(finish(acc), |s, (&x, &y)| s + x * y)
        }
    }

    /// `fn name(..) -> R { body }`: `body` compiled in a `#[target_feature]` function at
    /// the AVX-512 level, called when this CPU has those features, else compiled generically.
    macro_rules! compiled_for_cpu {
        ($( fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty $body:block )*) => {$(
            pub fn $name($($arg: $ty),*) -> $ret {
                #[inline(always)]
                fn imp($($arg: $ty),*) -> $ret $body

                #[cfg(target_arch = "x86_64")]
                #[target_feature(enable = "avx2,fma,avx512f,avx512bw,avx512cd,avx512dq,avx512vl")]
                fn v4($($arg: $ty),*) -> $ret {
                    imp($($arg),*)
                }

                #[cfg(target_arch = "x86_64")]
                if is_x86_feature_detected!("avx2")
                    && is_x86_feature_detected!("fma")
                    && is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512cd")
                    && is_x86_feature_detected!("avx512dq")
                    && is_x86_feature_detected!("avx512vl")
                {
                    // SAFETY: every feature `v4` enables was detected just above.
                    return unsafe { v4($($arg),*) };
                }
                imp($($arg),*)
            }
        )*};
    }

    compiled_for_cpu! {
        fn stencil3(a: &[f64], out: &mut [f64]) -> () {
            let n = a.len();
            assert!(n >= 2 && out.len() >= n);
            for i in 1..n - 1 {
                // SAFETY: 1 <= i < n - 1, so i - 1, i, i + 1 < n <= out.len().
                unsafe {
                    *out.get_unchecked_mut(i) =
                        (a.get_unchecked(i - 1) + a.get_unchecked(i) + a.get_unchecked(i + 1))
                            / 3.0;
                }
            }
        }
    }

    /// Whether this CPU has every feature of the AVX-512 level.
    fn has_v4() -> bool {
        #[cfg(target_arch = "x86_64")]
        return is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512cd")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl");
        #[allow(unreachable_code)]
        false
    }

    /// `myvar2` as two hand-written 32-lane passes (mean, then squared deviations).
    pub fn myvar2(a: &[f64]) -> f64 {
        let n = a.len() as f64;
        #[cfg(target_arch = "x86_64")]
        if has_v4() {
            // SAFETY: every feature the `zmm` functions enable was detected just above.
            return unsafe {
                let mean = zmm::sum(a) / n;
                zmm::sum_sq_dev(a, mean) / n
            };
        }
        let mean = lanes_sum(a, |x| x) / n;
        lanes_sum(a, |x| {
            let d = x - mean;
            d * d
        }) / n
    }

    /// The dot product as a hand-written 32-lane loop.
    pub fn dot(a: &[f64], b: &[f64]) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if has_v4() {
            // SAFETY: every feature `zmm::dot` enables was detected just above.
            return unsafe { zmm::dot(a, b) };
        }
        lanes_sum2(a, b, |x, y| x * y)
    }

    /// The cumulative sum as the plain loop (a true dependence: nothing to vectorize).
    pub fn cumsum(x: &[f64], out: &mut [f64]) {
        let mut acc = 0.0;
        for (o, &v) in out[..x.len()].iter_mut().zip(x) {
            acc += v;
            *o = acc;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Data and groups.

/// Deterministic values in [-1, 1).
fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

const SIZES: [(usize, &str); 2] = [(1_000, "1e3"), (100_000, "1e5")];

fn group<'c>(
    c: &'c mut Criterion,
    workload: &str,
    n: usize,
    size: &str,
) -> BenchmarkGroup<'c, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(format!("{workload}/{size}"));
    g.throughput(Throughput::Elements(n as u64))
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    g
}

fn loops(c: &mut Criterion) {
    for (n, size) in SIZES {
        let a = data(n, 1);
        let b = data(n, 2);

        // The forms compute the same thing: check once before timing.
        assert_eq!(myvar2_loop(&a).to_bits(), myvar2_expr(&a).to_bits());
        assert!((myvar2_loop(&a) - hand::myvar2(&a)).abs() <= 1e-12);
        assert_eq!(dot_loop(&a, &b).to_bits(), dot_expr(&a, &b).to_bits());
        assert!((dot_loop(&a, &b) - hand::dot(&a, &b)).abs() <= 1e-9);

        let mut g = group(c, "myvar2", n, size);
        g.bench_function("loop", |z| z.iter(|| myvar2_loop(black_box(&a))));
        g.bench_function("expr", |z| z.iter(|| myvar2_expr(black_box(&a))));
        g.bench_function("hand", |z| z.iter(|| hand::myvar2(black_box(&a))));
        g.finish();

        let mut g = group(c, "dot", n, size);
        g.bench_function("loop", |z| z.iter(|| dot_loop(black_box(&a), black_box(&b))));
        g.bench_function("expr", |z| z.iter(|| dot_expr(black_box(&a), black_box(&b))));
        g.bench_function("hand", |z| z.iter(|| hand::dot(black_box(&a), black_box(&b))));
        g.finish();

        let (mut o1, mut o2) = (vec![0.0; n], vec![0.0; n]);
        stencil3(&a, &mut o1);
        hand::stencil3(&a, &mut o2);
        assert_eq!(o1, o2);
        let mut g = group(c, "stencil3", n, size);
        g.bench_function("loop", |z| z.iter(|| stencil3(black_box(&a), black_box(&mut o1))));
        g.bench_function("hand", |z| z.iter(|| hand::stencil3(black_box(&a), black_box(&mut o2))));
        g.finish();

        cumsum(&a, &mut o1);
        hand::cumsum(&a, &mut o2);
        assert_eq!(o1, o2);
        let mut g = group(c, "cumsum", n, size);
        g.bench_function("loop", |z| z.iter(|| cumsum(black_box(&a), black_box(&mut o1))));
        g.bench_function("plain", |z| z.iter(|| hand::cumsum(black_box(&a), black_box(&mut o2))));
        g.finish();
    }
}

criterion_group!(benches, loops);
criterion_main!(benches);
