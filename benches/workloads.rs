//! The workloads of `/work/shared/BENCHMARKS.md`, each in three forms:
//!
//! - `kernel`: the `#[kernel]` function (default build: the runtime picks the clone);
//! - `eager`: the same computation written eagerly with ndarray, one temporary per operation,
//!   as a NumPy user would write it (in-place `+=` stays in place, as in NumPy);
//! - `hand`: a hand-written loop compiled for this CPU: a `#[target_feature]` function
//!   (AVX-512 level) called after an `is_x86_feature_detected!` check, with 32 lane
//!   accumulators for reductions (the runtime's lane count, `runtime/src/pass.rs`) and plain
//!   indexed loops for array outputs.
//!
//! Groups are named `<workload>/<size>` (sizes `1e3`, `1e5`, `1e7`), functions `kernel`,
//! `eager`, `hand`, so a filter picks a size or a form:
//! `taskset -c 1 cargo bench --bench workloads -- /1e5/` or `-- kernel`.
//! The `dispatch` group compares a 16-element kernel call with the same loop inlined.
//! `WORKLOADS_INTERLEAVED=1e5 cargo bench --bench workloads` prints an interleaved best-of
//! table instead (see `interleaved`).

use criterion::{criterion_group, BenchmarkGroup, Criterion, Throughput};
use loopfuse::kernel;
use ndarray::{Array1, Zip};
use std::hint::black_box;
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// The kernels.

#[kernel]
pub fn add_multiple(arr: &[f64]) -> Vec<f64> {
    let mut result = arr + 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result
}

#[kernel]
pub fn mean_distance_from_zero(arr: &[f64]) -> f64 {
    arr.abs().mean()
}

#[kernel]
pub fn variance(arr: &[f64]) -> f64 {
    let mean = arr.mean();
    let diff = arr - mean;
    (diff * diff).sum() / arr.len() as f64
}

#[kernel]
pub fn poly3(x: &[f64], a: f64, b: f64, c: f64, d: f64) -> Vec<f64> {
    ((a * x + b) * x + c) * x + d
}

#[kernel]
pub fn hypot(x: &[f64], y: &[f64]) -> Vec<f64> {
    (x * x + y * y).sqrt()
}

#[kernel]
pub fn leaky_relu(x: &[f64]) -> Vec<f64> {
    if x > 0.0 {
        x
    } else {
        0.01 * x
    }
}

#[kernel]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    (a * b).sum()
}

#[kernel]
pub fn standardize(x: &[f64]) -> Vec<f64> {
    (x - x.mean()) / x.std()
}

#[kernel]
pub fn softmax(x: &[f64]) -> Vec<f64> {
    let e = (x - x.max()).exp();
    e / e.sum()
}

#[kernel]
pub fn sigmoid(x: &[f64]) -> Vec<f64> {
    1.0 / (1.0 + (-x).exp())
}

// ---------------------------------------------------------------------------------------
// Eager ndarray: one temporary per operation.

mod eager {
    use super::*;

    pub fn add_multiple(a: &Array1<f64>) -> Array1<f64> {
        let mut r = a + 17.0;
        for _ in 0..8 {
            r += 17.0;
        }
        r
    }

    pub fn mean_distance_from_zero(a: &Array1<f64>) -> f64 {
        a.mapv(f64::abs).mean().unwrap()
    }

    pub fn variance(a: &Array1<f64>) -> f64 {
        let mean = a.mean().unwrap();
        let diff = a - mean;
        (&diff * &diff).sum() / a.len() as f64
    }

    pub fn poly3(x: &Array1<f64>, a: f64, b: f64, c: f64, d: f64) -> Array1<f64> {
        let t = x * a;
        let t = &t + b;
        let t = &t * x;
        let t = &t + c;
        let t = &t * x;
        &t + d
    }

    pub fn hypot(x: &Array1<f64>, y: &Array1<f64>) -> Array1<f64> {
        let xx = x * x;
        let yy = y * y;
        let s = &xx + &yy;
        s.mapv(f64::sqrt)
    }

    /// `np.where(x > 0, x, 0.01 * x)`: a mask, a scaled copy, the select.
    pub fn leaky_relu(x: &Array1<f64>) -> Array1<f64> {
        let mask = x.mapv(|v| v > 0.0);
        let scaled = x * 0.01;
        Zip::from(&mask).and(x).and(&scaled).map_collect(|&m, &a, &b| if m { a } else { b })
    }

    pub fn dot(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
        (a * b).sum()
    }

    /// `(x - x.mean()) / x.std()` with `std` computed as NumPy does (two passes: the mean,
    /// then the mean of squared deviations through a temporary).
    pub fn standardize(x: &Array1<f64>) -> Array1<f64> {
        let m = x.mean().unwrap();
        let std = {
            let m2 = x.mean().unwrap();
            let d = x - m2;
            let sq = &d * &d;
            (sq.sum() / x.len() as f64).sqrt()
        };
        let d = x - m;
        &d / std
    }

    pub fn softmax(x: &Array1<f64>) -> Array1<f64> {
        let m = x.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let e = (x - m).mapv(f64::exp);
        &e / e.sum()
    }

    pub fn sigmoid(x: &Array1<f64>) -> Array1<f64> {
        x.mapv(|v| 1.0 / (1.0 + (-v).exp()))
    }
}

// ---------------------------------------------------------------------------------------
// Hand-written loops, compiled for this CPU.

mod hand {
    const LANES: usize = 32;

    /// Writes `f(i)` for every `i` in `0..n` into a fresh vector (no zero-fill).
    #[inline(always)]
    fn fill(n: usize, mut f: impl FnMut(usize) -> f64) -> Vec<f64> {
        let mut out = Vec::with_capacity(n);
        let dst = &mut out.spare_capacity_mut()[..n];
        for (i, d) in dst.iter_mut().enumerate() {
            d.write(f(i));
        }
        // SAFETY: the loop above wrote every element of 0..n.
        unsafe { out.set_len(n) };
        out
    }

    /// Combines 32 lanes by a pairwise tree (lane `j` with `j + 16`, then `+8`, ...).
    ///
    /// Out of line, as in the runtime (`pass::combine_lanes`): inlined, LLVM's SLP
    /// vectorizer packs the 32 accumulators into xmm pairs even in the AVX-512 function.
    #[inline(never)]
    fn combine(acc: &[f64; LANES]) -> f64 {
        let mut acc = *acc;
        let mut w = LANES / 2;
        while w > 0 {
            for j in 0..w {
                acc[j] += acc[j + w];
            }
            w /= 2;
        }
        acc[0]
    }

    /// Sum of `f(x)` over `a` with 32 lane accumulators, lanes combined pairwise, tail last.
    #[inline(always)]
    fn lanes_sum(a: &[f64], f: impl Fn(f64) -> f64) -> f64 {
        let mut acc = [0.0f64; LANES];
        let chunks = a.chunks_exact(LANES);
        let tail = chunks.remainder();
        for c in chunks {
            let c: &[f64; LANES] = c.try_into().unwrap();
            for j in 0..LANES {
                acc[j] += f(c[j]);
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
        let n = a.len();
        let end = n - n % LANES;
        let mut acc = [0.0f64; LANES];
        let mut i = 0;
        while i < end {
            for (j, lane) in acc.iter_mut().enumerate() {
                // SAFETY: i + j < end <= n = a.len() = b.len().
                let (x, y) = unsafe { (*a.get_unchecked(i + j), *b.get_unchecked(i + j)) };
                *lane += f(x, y);
            }
            i += LANES;
        }
        let mut s = combine(&acc);
        for k in end..n {
            s += f(a[k], b[k]);
        }
        s
    }

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
        fn add_multiple(a: &[f64]) -> Vec<f64> {
            fill(a.len(), |i| {
                a[i] + 17.0 + 17.0 + 17.0 + 17.0 + 17.0 + 17.0 + 17.0 + 17.0 + 17.0
            })
        }

        fn mean_distance_from_zero(a: &[f64]) -> f64 {
            lanes_sum(a, f64::abs) / a.len() as f64
        }

        fn variance(a: &[f64]) -> f64 {
            let n = a.len() as f64;
            let mean = lanes_sum(a, |x| x) / n;
            lanes_sum(a, |x| {
                let d = x - mean;
                d * d
            }) / n
        }

        fn poly3(x: &[f64], a: f64, b: f64, c: f64, d: f64) -> Vec<f64> {
            fill(x.len(), |i| ((a * x[i] + b) * x[i] + c) * x[i] + d)
        }

        fn hypot(x: &[f64], y: &[f64]) -> Vec<f64> {
            let n = x.len();
            let y = &y[..n];
            fill(n, |i| (x[i] * x[i] + y[i] * y[i]).sqrt())
        }

        fn leaky_relu(x: &[f64]) -> Vec<f64> {
            fill(x.len(), |i| if x[i] > 0.0 { x[i] } else { 0.01 * x[i] })
        }

        fn dot(a: &[f64], b: &[f64]) -> f64 {
            lanes_sum2(a, b, |x, y| x * y)
        }

        fn standardize(x: &[f64]) -> Vec<f64> {
            let n = x.len();
            let mean = lanes_sum(x, |v| v) / n as f64;
            let var = lanes_sum(x, |v| {
                let d = v - mean;
                d * d
            }) / n as f64;
            let std = var.sqrt();
            fill(n, |i| (x[i] - mean) / std)
        }

        // `exp` is loopfuse's scalar-written one, inlined and auto-vectorized here.
        fn softmax(x: &[f64]) -> Vec<f64> {
            let mut lanes = [f64::NEG_INFINITY; LANES];
            for c in x.chunks(LANES) {
                for (l, &v) in lanes.iter_mut().zip(c) {
                    *l = l.max(v);
                }
            }
            let m = lanes.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            let mut e = fill(x.len(), |i| loopfuse::math::exp(x[i] - m));
            let s = lanes_sum(&e, |v| v);
            for v in &mut e {
                *v /= s;
            }
            e
        }

        fn sigmoid(x: &[f64]) -> Vec<f64> {
            fill(x.len(), |i| 1.0 / (1.0 + loopfuse::math::exp(-x[i])))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Data and groups.

/// Deterministic values in [-1, 1), half of them negative.
fn data(n: usize, seed: u64) -> Array1<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Array1::from_iter((0..n).map(|_| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }))
}

const SIZES: [(usize, &str); 3] = [(1_000, "1e3"), (100_000, "1e5"), (10_000_000, "1e7")];

fn group<'c>(
    c: &'c mut Criterion,
    workload: &str,
    n: usize,
    size: &str,
) -> BenchmarkGroup<'c, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(format!("{workload}/{size}"));
    g.throughput(Throughput::Elements(n as u64))
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_millis(2500))
        .sample_size(if n >= 10_000_000 { 10 } else { 20 });
    g
}

fn assert_close(what: &str, a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs())), "{what}: element {i}: {x} vs {y}");
    }
}

fn workloads(c: &mut Criterion) {
    for (n, size) in SIZES {
        let xa = data(n, 1);
        let ya = data(n, 2);
        let x = xa.as_slice().unwrap();
        let y = ya.as_slice().unwrap();
        let (pa, pb, pc, pd) = (0.5, -1.25, 2.0, 0.75);

        // Every form is checked against the eager one before it is timed.
        macro_rules! scalar_workload {
            ($name:ident, ($($k:expr),*), ($($e:expr),*)) => {{
                let (k, e, h) = ($name($($k),*), eager::$name($($e),*), hand::$name($($k),*));
                assert!((k - e).abs() <= 1e-9 * (1.0 + e.abs()), "{}: {k} vs {e}", stringify!($name));
                assert!((h - e).abs() <= 1e-9 * (1.0 + e.abs()), "{}: {h} vs {e}", stringify!($name));
                let mut g = group(c, stringify!($name), n, size);
                g.bench_function("kernel", |b| b.iter(|| $name($(black_box($k)),*)));
                g.bench_function("eager", |b| b.iter(|| eager::$name($(black_box($e)),*)));
                g.bench_function("hand", |b| b.iter(|| hand::$name($(black_box($k)),*)));
                g.finish();
            }};
        }
        macro_rules! array_workload {
            ($name:ident, ($($k:expr),*), ($($e:expr),*)) => {{
                let e = eager::$name($($e),*);
                let e = e.as_slice().unwrap();
                assert_close(stringify!($name), &$name($($k),*), e);
                assert_close(stringify!($name), &hand::$name($($k),*), e);
                let mut g = group(c, stringify!($name), n, size);
                g.bench_function("kernel", |b| b.iter(|| $name($(black_box($k)),*)));
                g.bench_function("eager", |b| b.iter(|| eager::$name($(black_box($e)),*)));
                g.bench_function("hand", |b| b.iter(|| hand::$name($(black_box($k)),*)));
                g.finish();
            }};
        }

        array_workload!(add_multiple, (x), (&xa));
        scalar_workload!(mean_distance_from_zero, (x), (&xa));
        scalar_workload!(variance, (x), (&xa));
        array_workload!(poly3, (x, pa, pb, pc, pd), (&xa, pa, pb, pc, pd));
        array_workload!(hypot, (x, y), (&xa, &ya));
        array_workload!(leaky_relu, (x), (&xa));
        scalar_workload!(dot, (x, y), (&xa, &ya));
        array_workload!(standardize, (x), (&xa));
        array_workload!(softmax, (x), (&xa));
        array_workload!(sigmoid, (x), (&xa));
    }
}

/// A 16-element call: the kernel (dispatch + pass driver) against the same loop inlined.
fn dispatch(c: &mut Criterion) {
    let xa = data(16, 3);
    let x = xa.as_slice().unwrap();
    let mut g = group(c, "dispatch", 16, "16");
    g.bench_function("mdz_kernel", |b| b.iter(|| mean_distance_from_zero(black_box(x))));
    g.bench_function("mdz_inline", |b| {
        b.iter(|| {
            let x = black_box(x);
            let mut s = 0.0;
            for v in x {
                s += v.abs();
            }
            s / x.len() as f64
        })
    });
    g.bench_function("add_multiple_kernel", |b| b.iter(|| add_multiple(black_box(x))));
    g.bench_function("add_multiple_inline", |b| {
        b.iter(|| {
            let x = black_box(x);
            let mut out = Vec::with_capacity(x.len());
            for v in x {
                out.push(v + 17.0 + 17.0 + 17.0 + 17.0 + 17.0 + 17.0 + 17.0 + 17.0 + 17.0);
            }
            out
        })
    });
    g.finish();
}

/// Cross-check for a noisy machine: kernel and hand called alternately (eager every 4th
/// round), best batch time per form. Contention only ever adds time, so the minimum over
/// many interleaved rounds is a steadier ratio than two medians taken seconds apart.
/// `WORKLOADS_INTERLEAVED=<n>[,<rounds>] cargo bench --bench workloads`.
fn interleaved(spec: &str) {
    use std::time::Instant;
    let mut parts = spec.split(',');
    let n = parts
        .next()
        .and_then(|n| n.parse::<f64>().ok())
        .expect("WORKLOADS_INTERLEAVED=<n>[,<rounds>], e.g. 1e5 or 1e5,200") as usize;
    let rounds: usize = parts.next().map_or(200, |r| r.parse().unwrap());
    fn per_call<R>(f: &mut impl FnMut() -> R, batch: usize) -> f64 {
        let s = Instant::now();
        for _ in 0..batch {
            black_box(f());
        }
        s.elapsed().as_secs_f64() / batch as f64
    }
    let xa = data(n, 1);
    let ya = data(n, 2);
    let x = xa.as_slice().unwrap();
    let y = ya.as_slice().unwrap();
    let (pa, pb, pc, pd) = (0.5, -1.25, 2.0, 0.75);
    let batch = (20_000 / n).max(1);
    println!("interleaved best-of, n = {n}, {rounds} rounds, ns/elem");
    macro_rules! ab {
        ($name:ident, ($($k:expr),*), ($($e:expr),*)) => {{
            let mut fk = || $name($(black_box($k)),*);
            let mut fh = || hand::$name($(black_box($k)),*);
            let mut fe = || eager::$name($(black_box($e)),*);
            let (mut bk, mut bh, mut be) = (f64::MAX, f64::MAX, f64::MAX);
            for r in 0..rounds {
                bk = bk.min(per_call(&mut fk, batch));
                bh = bh.min(per_call(&mut fh, batch));
                if r % 4 == 0 {
                    be = be.min(per_call(&mut fe, batch));
                }
            }
            let ns = 1e9 / n as f64;
            println!(
                "{:<24} kernel {:.4} hand {:.4} eager {:.4}",
                stringify!($name),
                bk * ns,
                bh * ns,
                be * ns
            );
        }};
    }
    ab!(add_multiple, (x), (&xa));
    ab!(mean_distance_from_zero, (x), (&xa));
    ab!(variance, (x), (&xa));
    ab!(poly3, (x, pa, pb, pc, pd), (&xa, pa, pb, pc, pd));
    ab!(hypot, (x, y), (&xa, &ya));
    ab!(leaky_relu, (x), (&xa));
    ab!(dot, (x, y), (&xa, &ya));
    ab!(standardize, (x), (&xa));
    ab!(softmax, (x), (&xa));
    ab!(sigmoid, (x), (&xa));
}

criterion_group!(benches, workloads, dispatch);

fn main() {
    if let Ok(spec) = std::env::var("WORKLOADS_INTERLEAVED") {
        interleaved(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
