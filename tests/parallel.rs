//! `#[kernel(parallel)]` (issue 12): every kernel family written twice, serial and
//! `parallel`, from one body (`twins!`), and compared bit for bit (NaN payloads aside, as
//! everywhere: `runtime/src/pass.rs`) at every supported CPU level, under rayon pools of 1,
//! 2, 3, 4, 7 and 16 threads, at lengths around the threshold and the block boundaries.
//! A soak test has 8 user threads call `parallel` kernels at once on the shared global pool.

#![allow(clippy::type_complexity)]

mod common;
#[path = "common/par.rs"]
#[macro_use]
mod par;
use common::*;
use loopfuse::{kernel, KernelError, Target};
use ndarray::{s, Array1, ArrayView1, ArrayViewMut1};
use par::*;

/// The runtime's threshold (`loopfuse_runtime::par::THRESHOLD`), restated: the lengths below
/// are chosen around it.
const THRESHOLD: usize = 1 << 17;
const BLOCK: usize = 2048;

#[test]
fn the_threshold_is_the_runtimes() {
    assert_eq!(THRESHOLD, loopfuse::__private::par::THRESHOLD);
}

/// Lengths: tiny ones, the threshold (`2^6` blocks) and around it, `2^k` blocks ± 1 (the
/// chunk boundaries of every chunk size), and 10^6 + 7 (a last partial block and a tail).
fn lengths() -> Vec<usize> {
    let mut v = vec![0, 1, 33, 4097, THRESHOLD - 1, THRESHOLD, THRESHOLD + 1];
    for k in [5, 7, 9] {
        v.extend([(BLOCK << k) - 1, (BLOCK << k) + 1]);
    }
    v.push(1_000_007);
    v
}

/// At every level and length: `serial(n)` once, then `parallel(n)` in every pool, equal bit
/// for bit. `serial`/`parallel` build their own inputs from `n` (deterministically) and
/// return what the kernel returned plus the outputs it wrote.
fn check<T: Bits>(
    what: &str,
    lens: &[usize],
    serial: impl Fn(usize) -> T + Sync,
    parallel: impl Fn(usize) -> T + Sync,
) {
    at_every_level(|t| {
        for &n in lens {
            let want = bits(&serial(n));
            for (threads, pool) in pools() {
                let got = pool.install(|| loopfuse::with_target(t, || bits(&parallel(n))));
                assert!(got == want, "{what}: n = {n}, {threads} threads, level {t:?}: parallel differs from serial");
            }
        }
    });
}

/// `x` of `n` elements from `seed`, with special values (NaN, ±inf, ±0, subnormals)
/// sprinkled in when `specials`.
fn data(n: usize, seed: u64, specials: bool) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let sp = specials_f64();
    (0..n)
        .map(|_| {
            if specials && rng.below(997) == 0 {
                sp[rng.below(sp.len() as u64) as usize]
            } else {
                rng.range(-4.0, 4.0)
            }
        })
        .collect()
}

twins! {
    // elementwise
    fn hypot(x: &[f64], y: &[f64]) -> [Vec<f64>] { (x * x + y * y).sqrt() }
    fn poly3(x: &[f64], a: f64, b: f64, c: f64, d: f64) -> [Vec<f64>] { ((a * x + b) * x + c) * x + d }
    fn select_f32(x: &[f32]) -> [Vec<f32>] { if x > 0.0 { x } else { 0.01 * x } }
    // stages
    fn exp(x: &[f64]) -> [Vec<f64>] { x.exp() }
    fn softmax(x: &[f64]) -> [Vec<f64>] {
        let e = (x - x.max()).exp();
        e / e.sum()
    }
    fn staged_reduction(x: &[f64], y: &[f64]) -> [(f64, Vec<f64>)] {
        let e = (x - 1.0).exp();
        ((e * y).max(), e + 1.0)
    }
    // reductions
    fn dot(x: &[f64], y: &[f64]) -> [f64] { x.dot(y) }
    fn variance(x: &[f64]) -> [f64] { x.var() }
    fn stats(x: &[f64]) -> [(f64, f64, usize, usize, f64, f64)] {
        (x.min(), x.max(), x.argmin(), x.argmax(), x.sum(), x.mean())
    }
    fn stats_f32(x: &[f32]) -> [(f32, usize, usize, f32, f32)] { (x.max(), x.argmin(), x.argmax(), x.prod(), x.std()) }
    fn masks(x: &[f64], y: &[f64]) -> [(usize, bool, bool, usize)] {
        let m = x > y;
        (m.count(), m.any(), m.all(), x.is_nan().count())
    }
    fn standardize(x: &[f64]) -> [Vec<f64>] { (x - x.mean()) / x.std() }
    // `&mut` outputs, in place and read back
    fn axpy(a: f64, x: &[f64], y: &mut [f64]) -> [f64] {
        y += a * x;
        y.sum()
    }
    // explicit loops: vectorized (windows, reductions), and one that runs in order
    fn loop_var(arr: &[f64]) -> [f64] {
        let mean = arr.mean();
        let mut sum = 0.0;
        for item in arr {
            sum += (item - mean).powi(2);
        }
        sum / arr.len() as f64
    }
    fn diff_exp(x: &[f64]) -> [Vec<f64>] {
        let mut out = vec![0.0; x.len()];
        for i in 1..x.len() {
            out[i] = (x[i] - x[i - 1]).exp();
        }
        out
    }
    fn running(x: &[f64], c: &mut [f64]) -> [f64] {
        let m = x.sum();
        let mut acc = 0.0;
        for i in 0..x.len() {
            acc += x[i] - m;
            c[i] = acc;
        }
        acc
    }
    // `Result` kernels
    fn try_hypot_sum(x: &[f64], y: &[f64]) -> [Result<f64, KernelError>] { Ok((x * x + y * y).sqrt().sum()) }
    // ndarray views, strided
    fn strided(x: ArrayView1<f64>, y: ArrayViewMut1<f64>) -> [(f64, Array1<f64>)] {
        y[..] = x * 2.0 + y;
        (x.sum(), x.exp())
    }
    // `strict`: elementwise passes stay parallel, its reductions run in order
    fn strict_dot(x: &[f64], y: &[f64]) -> [(f64, Vec<f64>)] { (x.dot(y), x * y) } [strict]
}

#[test]
fn elementwise() {
    let l = lengths();
    check(
        "hypot",
        &l,
        |n| hypot::serial(&data(n, 1, true), &data(n, 2, true)),
        |n| hypot::parallel(&data(n, 1, true), &data(n, 2, true)),
    );
    let p = |f: fn(&[f64], f64, f64, f64, f64) -> Vec<f64>| move |n| f(&data(n, 3, true), 0.5, -1.0, 2.0, 0.25);
    check("poly3", &l, p(poly3::serial), p(poly3::parallel));
    let f = |n| data(n, 4, true).iter().map(|&x| x as f32).collect::<Vec<f32>>();
    check("select_f32", &l, |n| select_f32::serial(&f(n)), |n| select_f32::parallel(&f(n)));
}

#[test]
fn stages() {
    let l = lengths();
    let nonempty: Vec<usize> = l.iter().copied().filter(|&n| n > 0).collect();
    check("exp", &l, |n| exp::serial(&data(n, 5, true)), |n| exp::parallel(&data(n, 5, true)));
    check("softmax", &nonempty, |n| softmax::serial(&data(n, 6, false)), |n| softmax::parallel(&data(n, 6, false)));
    let two = |f: fn(&[f64], &[f64]) -> (f64, Vec<f64>)| move |n| f(&data(n, 7, true), &data(n, 8, true));
    check("staged_reduction", &nonempty, two(staged_reduction::serial), two(staged_reduction::parallel));
}

#[test]
fn reductions() {
    let l = lengths();
    let two = |f: fn(&[f64], &[f64]) -> f64| move |n| f(&data(n, 9, true), &data(n, 10, true));
    check("dot", &l, two(dot::serial), two(dot::parallel));
    // Without specials: a NaN would make every variance NaN.
    check("variance", &l, |n| variance::serial(&data(n, 11, false)), |n| variance::parallel(&data(n, 11, false)));
    let nonempty: Vec<usize> = l.iter().copied().filter(|&n| n > 0).collect();
    // With NaNs (the first NaN is the extreme of argmin/argmax) and without.
    for specials in [true, false] {
        check(
            "stats",
            &nonempty,
            |n| stats::serial(&data(n, 12, specials)),
            |n| stats::parallel(&data(n, 12, specials)),
        );
        let f = |n| data(n, 13, specials).iter().map(|&x| 1.0 + x as f32 * 1e-7).collect::<Vec<f32>>();
        check("stats_f32", &nonempty, |n| stats_f32::serial(&f(n)), |n| stats_f32::parallel(&f(n)));
    }
    let m = |f: fn(&[f64], &[f64]) -> (usize, bool, bool, usize)| move |n| f(&data(n, 14, true), &data(n, 15, true));
    check("masks", &l, m(masks::serial), m(masks::parallel));
    check(
        "standardize",
        &nonempty,
        |n| standardize::serial(&data(n, 16, false)),
        |n| standardize::parallel(&data(n, 16, false)),
    );
}

/// The same extreme many times, at the first index inside a late chunk: argmax is its
/// first index for every thread count.
#[test]
fn argmax_ties_and_first_nan() {
    for n in [THRESHOLD, 1_000_007] {
        let mut x = data(n, 17, false);
        for i in (n / 3..n).step_by(BLOCK + 5) {
            x[i] = 9.0;
        }
        let first = (n / 3..n).step_by(BLOCK + 5).next().unwrap();
        for (_, pool) in pools() {
            assert_eq!(pool.install(|| stats::parallel(&x)).3, first);
        }
        x[n - 40] = f64::NAN;
        x[n - 3] = f64::NAN;
        for (_, pool) in pools() {
            let s = pool.install(|| stats::parallel(&x));
            assert_eq!((s.2, s.3), (n - 40, n - 40));
        }
    }
}

#[test]
fn outputs_in_place() {
    let l = lengths();
    let axpy = |f: fn(f64, &[f64], &mut [f64]) -> f64| {
        move |n| {
            let mut y = data(n, 19, true);
            let s = f(0.75, &data(n, 18, true), &mut y);
            (s, y)
        }
    };
    check("axpy", &l, axpy(axpy::serial), axpy(axpy::parallel));
    let strided = |f: fn(ArrayView1<f64>, ArrayViewMut1<f64>) -> (f64, Array1<f64>)| {
        move |n| {
            let x = Array1::from(data(2 * n, 20, true));
            let mut y = Array1::from(data(3 * n, 21, true));
            let r = f(x.slice(s![..;2]), y.slice_mut(s![..;3]));
            (r, y)
        }
    };
    check("strided", &l, strided(strided::serial), strided(strided::parallel));
}

#[test]
fn explicit_loops() {
    let l = lengths();
    let nonempty: Vec<usize> = l.iter().copied().filter(|&n| n > 0).collect();
    check(
        "loop_var",
        &nonempty,
        |n| loop_var::serial(&data(n, 22, false)),
        |n| loop_var::parallel(&data(n, 22, false)),
    );
    check("diff_exp", &l, |n| diff_exp::serial(&data(n, 23, true)), |n| diff_exp::parallel(&data(n, 23, true)));
    let run = |f: fn(&[f64], &mut [f64]) -> f64| {
        move |n| {
            let mut c = vec![0.0; n];
            let m = f(&data(n, 24, false), &mut c);
            (m, c)
        }
    };
    check("running", &nonempty, run(running::serial), run(running::parallel));
}

#[test]
fn results_and_strict() {
    let l = lengths();
    let ok = |f: fn(&[f64], &[f64]) -> Result<f64, KernelError>| move |n| f(&data(n, 25, true), &data(n, 26, true));
    check("try_hypot_sum", &l, ok(try_hypot_sum::serial), ok(try_hypot_sum::parallel));
    // The same `Err` for operands of different lengths.
    let err =
        |f: fn(&[f64], &[f64]) -> Result<f64, KernelError>| move |n| f(&data(n, 25, true), &data(n + 1, 26, true));
    check("try_hypot_sum (mismatch)", &l, err(try_hypot_sum::serial), err(try_hypot_sum::parallel));
    assert!(try_hypot_sum::parallel(&[1.0; 5], &[1.0; 6]).is_err());
    let two = |f: fn(&[f64], &[f64]) -> (f64, Vec<f64>)| move |n| f(&data(n, 27, true), &data(n, 28, true));
    check("strict_dot", &l, two(strict_dot::serial), two(strict_dot::parallel));
}

// ---- panics, levels inside chunks, the plan ----------------------------------------------

/// Panics on one element; from a chunk on a worker thread in the parallel kernel.
fn guarded(v: f64) -> f64 {
    assert!(v != 7.25, "guarded: the value 7.25 is not allowed");
    v
}

twins! {
    fn with_guard(x: &[f64]) -> [f64] { guarded(x).sum() }
}

fn panic_message(f: impl FnOnce()) -> String {
    let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("a panic");
    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap()
}

#[test]
fn a_panic_in_a_chunk_reaches_the_caller_with_its_message() {
    let mut x = data(1_000_007, 29, false);
    x[765_432] = 7.25;
    let want = panic_message(|| {
        with_guard::serial(&x);
    });
    assert_eq!(want, "guarded: the value 7.25 is not allowed");
    for (threads, pool) in pools() {
        let got = panic_message(|| {
            pool.install(|| with_guard::parallel(&x));
        });
        assert_eq!(got, want, "{threads} threads");
    }
}

/// Records the level `loopfuse::target()` reports where the element is computed.
fn seen(v: f64) -> f64 {
    let t = loopfuse::target() as u8 as u64;
    SEEN.fetch_or(1 << t, std::sync::atomic::Ordering::Relaxed);
    v
}
static SEEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

twins! {
    fn probe(x: &[f64]) -> [f64] { seen(x).sum() }
}

/// Every chunk (on any worker thread) runs at the level the call dispatched to: forced with
/// `with_target` on the calling thread, seen by `loopfuse::target()` inside the chunks.
#[test]
fn chunks_run_at_the_dispatched_level() {
    let x = data(1_000_007, 30, false);
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = LOCK.lock().unwrap();
    at_every_level(|t: Target| {
        for (_, pool) in pools() {
            SEEN.store(0, std::sync::atomic::Ordering::Relaxed);
            pool.install(|| loopfuse::with_target(t, || probe::parallel(&x)));
            assert_eq!(SEEN.load(std::sync::atomic::Ordering::Relaxed), 1 << (t as u8), "{t:?}");
        }
    });
}

#[test]
fn the_fusion_plan_says_what_runs_in_parallel() {
    // The plan is the kernel's rustdoc; the macro's unit tests check its text. Here: a
    // kernel with an in-order loop still gives the serial bits (above), and the threshold
    // text the docs print is the runtime's.
    assert_eq!(THRESHOLD.to_string(), "131072");
}

// ---- soak --------------------------------------------------------------------------------

/// 8 user threads call `parallel` kernels on different data at once, on the shared global
/// pool, 10 times each: every result is the serial one (about 4 s here).
#[test]
fn soak_eight_user_threads_share_the_pool() {
    let inputs: Vec<Vec<f64>> = (0..8).map(|k| data(1_000_007 + 4099 * k, 40 + k as u64, false)).collect();
    let want: Vec<(Vec<u64>, Vec<u64>)> =
        inputs.iter().map(|x| (bits(&softmax::serial(x)), bits(&stats::serial(x)))).collect();
    std::thread::scope(|s| {
        for (x, want) in inputs.iter().zip(&want) {
            s.spawn(move || {
                for _ in 0..10 {
                    assert!(bits(&softmax::parallel(x)) == want.0);
                    assert!(bits(&stats::parallel(x)) == want.1);
                }
            });
        }
    });
}
