//! `#[kernel(parallel)]` against the same kernel serial (issue 12).
//!
//! - Groups `<workload>/<size>` (hypot, poly3, exp, softmax, variance, dot at `1e3`, `1e5`,
//!   `1e6`, `1e7`), functions `serial` and `parallel`, on rayon's global pool (every core).
//! - Groups `nd/<workload>/<rows>x<cols>` (softmax_rows, normalize_rows, standardize_cols
//!   of a C and of an F matrix, a whole sum of a transposed matrix at `1000x1000` and
//!   `3163x3163` (1e7 elements), functions `serial` and `parallel`.
//! - Group `sweep/<size>`: where a split starts to pay, the runtime's parallel driver forced
//!   below its threshold (`par::pass_staged_from(0, ..)`) vs the serial driver, for an
//!   elementwise pass (hypot) and a reduction (a sum of squares), 4 Ki to 512 Ki elements.
//!   The crossover sets `par::THRESHOLD`.
//!
//! `cargo bench --bench parallel -- /1e7/` picks a size. On a shared, noisy machine
//! `PARALLEL_INTERLEAVED=1 cargo bench --bench parallel` prints an interleaved best-of table
//! instead: serial and parallel alternate call by call, so a burst of load hits both.

use criterion::{criterion_group, Criterion, Throughput};
use loopfuse::__private as lf;
use loopfuse::kernel;
use ndarray::{Array2, ArrayView2, Axis, ShapeBuilder};
use std::hint::black_box;
use std::time::{Duration, Instant};

macro_rules! twins {
    ($( fn $name:ident ($($p:tt)*) -> [$($r:tt)*] { $($body:tt)* } )*) => {$(
        mod $name {
            use super::*;
            #[kernel]
            pub fn serial($($p)*) -> $($r)* { $($body)* }
            #[kernel(parallel)]
            pub fn parallel($($p)*) -> $($r)* { $($body)* }
        }
    )*};
}

twins! {
    fn hypot(x: &[f64], y: &[f64]) -> [Vec<f64>] { (x * x + y * y).sqrt() }
    fn poly3(x: &[f64], a: f64, b: f64, c: f64, d: f64) -> [Vec<f64>] { ((a * x + b) * x + c) * x + d }
    fn exp(x: &[f64]) -> [Vec<f64>] { x.exp() }
    fn softmax(x: &[f64]) -> [Vec<f64>] {
        let e = (x - x.max()).exp();
        e / e.sum()
    }
    fn variance(x: &[f64]) -> [f64] { x.var() }
    fn dot(x: &[f64], y: &[f64]) -> [f64] { x.dot(y) }
    fn softmax_rows(x: ArrayView2<f64>) -> [Array2<f64>] {
        let e = (x - x.max_axis(Axis(1)).insert_axis(Axis(1))).exp();
        e / e.sum_axis(Axis(1)).insert_axis(Axis(1))
    }
    fn normalize_rows(x: ArrayView2<f64>) -> [Array2<f64>] { x / (x * x).sum_axis(Axis(1)).sqrt().insert_axis(Axis(1)) }
    fn standardize_cols(x: ArrayView2<f64>) -> [Array2<f64>] { (x - x.mean_axis(Axis(0))) / x.std_axis(Axis(0), 0.0) }
    fn sum2(x: ArrayView2<f64>) -> [f64] { x.sum() }
}

const ND_SIZES: [(&str, usize); 2] = [("1000x1000", 1000), ("3163x3163", 3163)];

/// The N-d workloads at `n x n` (`x` a C matrix, `f` the same values in F order).
fn nd_workloads<'a>(x: &'a Array2<f64>, f: &'a Array2<f64>) -> Vec<Workload<'a>> {
    macro_rules! w {
        ($name:literal, $bytes:expr, $k:ident, $v:expr) => {
            (
                $name,
                $bytes,
                Box::new(move || {
                    black_box($k::serial($v));
                }) as Box<dyn Fn()>,
                Box::new(move || {
                    black_box($k::parallel($v));
                }) as Box<dyn Fn()>,
            )
        };
    }
    vec![
        w!("softmax_rows", 16, softmax_rows, x.view()),
        w!("normalize_rows", 16, normalize_rows, x.view()),
        w!("standardize_c", 16, standardize_cols, x.view()),
        w!("standardize_f", 16, standardize_cols, f.view()),
        w!("sum_t", 8, sum2, x.t()),
    ]
}

fn nd_data(n: usize) -> (Array2<f64>, Array2<f64>) {
    let x = Array2::from_shape_vec((n, n), data(n * n, 3)).unwrap();
    let f = Array2::from_shape_vec((n, n).f(), x.t().iter().copied().collect()).unwrap();
    (x, f)
}

fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
        })
        .collect()
}

const SIZES: [(&str, usize); 4] = [("1e3", 1_000), ("1e5", 100_000), ("1e6", 1_000_000), ("1e7", 10_000_000)];
const SWEEP: [usize; 8] = [4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10, 512 << 10];

/// One workload as `(name, bytes read and written per element, serial, parallel)`, each a
/// call on inputs of the size given when the closures were made.
type Workload<'a> = (&'static str, usize, Box<dyn Fn() + 'a>, Box<dyn Fn() + 'a>);

fn workloads<'a>(x: &'a [f64], y: &'a [f64]) -> Vec<Workload<'a>> {
    let (a, b, c, d) = (0.5, -1.0, 2.0, 0.25);
    macro_rules! w {
        ($name:literal, $bytes:expr, $serial:expr, $parallel:expr) => {
            (
                $name,
                $bytes,
                Box::new(move || {
                    black_box($serial);
                }) as Box<dyn Fn()>,
                Box::new(move || {
                    black_box($parallel);
                }) as Box<dyn Fn()>,
            )
        };
    }
    vec![
        w!("hypot", 24, hypot::serial(x, y), hypot::parallel(x, y)),
        w!("poly3", 16, poly3::serial(x, a, b, c, d), poly3::parallel(x, a, b, c, d)),
        w!("exp", 16, exp::serial(x), exp::parallel(x)),
        // x read by the max pass and by the sum pass, written by the last one (which reads x again).
        w!("softmax", 32, softmax::serial(x), softmax::parallel(x)),
        w!("variance", 16, variance::serial(x), variance::parallel(x)),
        w!("dot", 16, dot::serial(x, y), dot::parallel(x, y)),
    ]
}

/// The sweep's pair at `n`: (serial driver, parallel driver forced at any size), for an
/// elementwise pass and a reduction, at the generic level in both (a fair pair outside a
/// kernel's clone).
fn sweep_pair(n: usize, x: &[f64], y: &[f64], reduce: bool) -> (f64, f64) {
    let g = <loopfuse::level::Generic as loopfuse::Level>::try_new().unwrap();
    let (x, y) = (&x[..n], &y[..n]);
    if reduce {
        let s = lf::pass(n, (x,), (lf::Sum::new(),), (), |(x,)| ((x * x,), ())).0;
        let p =
            lf::par::pass_staged_from(0, g, n, (x,), (), (lf::Sum::new(),), (), |_| (), |(x,), ()| ((x * x,), ())).0;
        (s, p)
    } else {
        let mut o = lf::OutBuf::new(n);
        lf::pass(n, (x, y), (), (&mut o,), |(x, y)| ((), ((x * x + y * y).sqrt(),)));
        let mut q = lf::OutBuf::new(n);
        lf::par::pass_staged_from(
            0,
            g,
            n,
            (x, y),
            (),
            (),
            (&mut q,),
            |_| (),
            |(x, y), ()| ((), ((x * x + y * y).sqrt(),)),
        );
        (o.into_vec()[n - 1], q.into_vec()[n - 1])
    }
}

fn sweep_serial(n: usize, x: &[f64], y: &[f64], reduce: bool) {
    let (x, y) = (&x[..n], &y[..n]);
    if reduce {
        black_box(lf::pass(n, (x,), (lf::Sum::new(),), (), |(x,)| ((x * x,), ())));
    } else {
        let mut o = lf::OutBuf::new(n);
        lf::pass(n, (x, y), (), (&mut o,), |(x, y)| ((), ((x * x + y * y).sqrt(),)));
        black_box(o.into_vec());
    }
}

fn sweep_parallel(n: usize, x: &[f64], y: &[f64], reduce: bool) {
    let g = <loopfuse::level::Generic as loopfuse::Level>::try_new().unwrap();
    let (x, y) = (&x[..n], &y[..n]);
    if reduce {
        black_box(lf::par::pass_staged_from(
            0,
            g,
            n,
            (x,),
            (),
            (lf::Sum::new(),),
            (),
            |_| (),
            |(x,), ()| ((x * x,), ()),
        ));
    } else {
        let mut o = lf::OutBuf::new(n);
        lf::par::pass_staged_from(
            0,
            g,
            n,
            (x, y),
            (),
            (),
            (&mut o,),
            |_| (),
            |(x, y), ()| ((), ((x * x + y * y).sqrt(),)),
        );
        black_box(o.into_vec());
    }
}

fn parallel(c: &mut Criterion) {
    let (x, y) = (data(10_000_000, 1), data(10_000_000, 2));
    for (label, n) in SIZES {
        for (name, bytes, serial, par) in workloads(&x[..n], &y[..n]) {
            let mut g = c.benchmark_group(format!("{name}/{label}"));
            g.throughput(Throughput::Bytes((bytes * n) as u64));
            g.warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2)).sample_size(20);
            g.bench_function("serial", |b| b.iter(&serial));
            g.bench_function("parallel", |b| b.iter(&par));
            g.finish();
        }
    }
    for (label, n) in ND_SIZES {
        let (x, f) = nd_data(n);
        for (name, bytes, serial, par) in nd_workloads(&x, &f) {
            let mut g = c.benchmark_group(format!("nd/{name}/{label}"));
            g.throughput(Throughput::Bytes((bytes * n * n) as u64));
            g.warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2)).sample_size(20);
            g.bench_function("serial", |b| b.iter(&serial));
            g.bench_function("parallel", |b| b.iter(&par));
            g.finish();
        }
    }
    for n in SWEEP {
        for (what, reduce) in [("hypot", false), ("sumsq", true)] {
            assert_eq!(sweep_pair(n, &x, &y, reduce).0.to_bits(), sweep_pair(n, &x, &y, reduce).1.to_bits());
            let mut g = c.benchmark_group(format!("sweep/{what}/{n}"));
            g.warm_up_time(Duration::from_millis(200)).measurement_time(Duration::from_secs(1)).sample_size(20);
            g.bench_function("serial", |b| b.iter(|| sweep_serial(n, &x, &y, reduce)));
            g.bench_function("parallel", |b| b.iter(|| sweep_parallel(n, &x, &y, reduce)));
            g.finish();
        }
    }
}

/// Best of `reps` alternating calls of `a` and `b`, in seconds.
fn best_of(reps: usize, a: &dyn Fn(), b: &dyn Fn()) -> (f64, f64) {
    let (mut ta, mut tb) = (f64::MAX, f64::MAX);
    for _ in 0..reps {
        let t = Instant::now();
        a();
        ta = ta.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        b();
        tb = tb.min(t.elapsed().as_secs_f64());
    }
    (ta, tb)
}

fn interleaved() {
    let (x, y) = (data(10_000_000, 1), data(10_000_000, 2));
    println!("threads: {}", rayon::current_num_threads());
    println!(
        "{:<10} {:>6} {:>12} {:>12} {:>8} {:>10}",
        "workload", "size", "serial", "parallel", "speedup", "par GB/s"
    );
    for (label, n) in SIZES {
        let reps = (2e8 / n as f64).clamp(15.0, 2000.0) as usize;
        for (name, bytes, serial, par) in workloads(&x[..n], &y[..n]) {
            let (s, p) = best_of(reps, &serial, &par);
            let gbs = (bytes * n) as f64 / p / 1e9;
            println!("{name:<10} {label:>6} {:>10.1}us {:>10.1}us {:>7.2}x {gbs:>10.1}", s * 1e6, p * 1e6, s / p);
        }
    }
    for (label, n) in ND_SIZES {
        let (x, f) = nd_data(n);
        let reps = (2e8 / (n * n) as f64).clamp(15.0, 2000.0) as usize;
        for (name, bytes, serial, par) in nd_workloads(&x, &f) {
            let (s, p) = best_of(reps, &serial, &par);
            let gbs = (bytes * n * n) as f64 / p / 1e9;
            println!("{name:<10} {label:>6} {:>10.1}us {:>10.1}us {:>7.2}x {gbs:>10.1}", s * 1e6, p * 1e6, s / p);
        }
    }
    println!("\nsweep (driver forced parallel at every size, generic level):");
    for n in SWEEP {
        for (what, reduce) in [("hypot", false), ("sumsq", true)] {
            let reps = (1e8 / n as f64).clamp(50.0, 5000.0) as usize;
            let (s, p) = best_of(reps, &|| sweep_serial(n, &x, &y, reduce), &|| sweep_parallel(n, &x, &y, reduce));
            println!("{what:<10} {n:>7} {:>10.1}us {:>10.1}us {:>7.2}x", s * 1e6, p * 1e6, s / p);
        }
    }
}

criterion_group!(benches, parallel);

fn main() {
    if std::env::var_os("PARALLEL_INTERLEAVED").is_some() {
        interleaved();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
