//! Scans: `cumsum` (f64, i64, i32, u8), `cummax` (i64) and VWAP (`(p * v).cumsum() / v.cumsum()`), each as
//! `kernel` (the `#[kernel]` function), `hand` (the plain loop a Rust user writes: one
//! running value per scan, the output collected) and `eager` (ndarray, one temporary per
//! operation: `accumulate_axis_inplace` on a copy, as `np.cumsum` allocates its result).
//!
//! `cargo bench --bench scans` runs criterion (groups `<workload>/1e5`);
//! `SCANS_TABLE=1 cargo bench --bench scans` prints one interleaved best-of table instead
//! (ns per element and the ratios), the figures the README quotes.

use criterion::{criterion_group, Criterion, Throughput};
use loopfuse::kernel;
use ndarray::{Array1, Axis};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[kernel]
pub fn cumsum(x: &[f64]) -> Vec<f64> {
    x.cumsum()
}

#[kernel]
pub fn cumsum_i64(x: &[i64]) -> Vec<i64> {
    x.cumsum()
}

#[kernel]
pub fn cumsum_i32(x: &[i32]) -> Vec<i32> {
    x.cumsum()
}

#[kernel]
pub fn cumsum_u8(x: &[u8]) -> Vec<u8> {
    x.cumsum()
}

#[kernel]
pub fn cummax_i64(x: &[i64]) -> Vec<i64> {
    x.cummax()
}

#[kernel]
pub fn vwap(p: &[f64], v: &[f64]) -> Vec<f64> {
    (p * v).cumsum() / v.cumsum()
}

fn hand_cumsum<T: Copy + std::ops::Add<Output = T>>(x: &[T], zero: T) -> Vec<T> {
    let mut acc = zero;
    x.iter()
        .map(|&v| {
            acc = acc + v;
            acc
        })
        .collect()
}

/// Wrapping, as the kernel's sum is in a release build (a `u8` sum of 1e5 elements overflows).
fn hand_wrapping_cumsum<T: Copy + WrappingAdd>(x: &[T], zero: T) -> Vec<T> {
    let mut acc = zero;
    x.iter()
        .map(|&v| {
            acc = acc.wrapping(v);
            acc
        })
        .collect()
}

trait WrappingAdd {
    fn wrapping(self, x: Self) -> Self;
}
impl WrappingAdd for u8 {
    fn wrapping(self, x: u8) -> u8 {
        self.wrapping_add(x)
    }
}
impl WrappingAdd for i32 {
    fn wrapping(self, x: i32) -> i32 {
        self.wrapping_add(x)
    }
}

fn hand_cummax(x: &[i64]) -> Vec<i64> {
    let mut acc = i64::MIN;
    x.iter()
        .map(|&v| {
            acc = acc.max(v);
            acc
        })
        .collect()
}

fn hand_vwap(p: &[f64], v: &[f64]) -> Vec<f64> {
    let (mut pv, mut vv) = (0.0, 0.0);
    p.iter()
        .zip(v)
        .map(|(&a, &b)| {
            pv += a * b;
            vv += b;
            pv / vv
        })
        .collect()
}

fn eager_cumsum<T: Copy + std::ops::AddAssign>(x: &Array1<T>) -> Array1<T> {
    let mut c = x.to_owned();
    c.accumulate_axis_inplace(Axis(0), |&prev, cur| *cur += prev);
    c
}

fn eager_wrapping_cumsum<T: Copy + WrappingAdd>(x: &Array1<T>) -> Array1<T> {
    let mut c = x.to_owned();
    c.accumulate_axis_inplace(Axis(0), |&prev, cur| *cur = prev.wrapping(*cur));
    c
}

fn eager_cummax(x: &Array1<i64>) -> Array1<i64> {
    let mut c = x.to_owned();
    c.accumulate_axis_inplace(Axis(0), |&prev, cur| *cur = prev.max(*cur));
    c
}

fn eager_vwap(p: &Array1<f64>, v: &Array1<f64>) -> Array1<f64> {
    let pv = p * v;
    eager_cumsum(&pv) / eager_cumsum(v)
}

const N: usize = 100_000;

struct Data {
    p: Vec<f64>,
    v: Vec<f64>,
    q: Vec<i64>,
    w: Vec<i32>,
    b: Vec<u8>,
}

fn data() -> Data {
    let p: Vec<f64> = (0..N).map(|i| 100.0 + (i % 997) as f64 * 0.01).collect();
    let v: Vec<f64> = (0..N).map(|i| 1.0 + (i % 89) as f64).collect();
    let q: Vec<i64> = (0..N).map(|i| (i as i64 * 7919) % 1000 - 500).collect();
    let w: Vec<i32> = q.iter().map(|&v| v as i32).collect();
    let b: Vec<u8> = (0..N).map(|i| (i * 7919 % 251) as u8).collect();
    Data { p, v, q, w, b }
}

/// The same data as ndarray arrays, for the eager forms.
struct Arrays {
    p: Array1<f64>,
    v: Array1<f64>,
    q: Array1<i64>,
    w: Array1<i32>,
    b: Array1<u8>,
}

fn arrays(d: &Data) -> Arrays {
    Arrays {
        p: Array1::from(d.p.clone()),
        v: Array1::from(d.v.clone()),
        q: Array1::from(d.q.clone()),
        w: Array1::from(d.w.clone()),
        b: Array1::from(d.b.clone()),
    }
}

const WORKLOADS: [&str; 6] = ["cumsum f64", "cumsum i64", "cumsum i32", "cumsum u8", "cummax i64", "vwap"];

type Case<'a> = (&'static str, &'static str, Box<dyn Fn() -> usize + 'a>);

fn cases<'a>(d: &'a Data, a: &'a Arrays) -> Vec<Case<'a>> {
    let (p, v, q, w, b) = (&d.p[..], &d.v[..], &d.q[..], &d.w[..], &d.b[..]);
    let (pa, va, qa, wa, ba) = (&a.p, &a.v, &a.q, &a.w, &a.b);
    vec![
        ("cumsum f64", "kernel", Box::new(move || black_box(cumsum(black_box(p))).len())),
        ("cumsum f64", "hand", Box::new(move || black_box(hand_cumsum(black_box(p), 0.0)).len())),
        ("cumsum f64", "eager", Box::new(move || black_box(eager_cumsum(black_box(pa))).len())),
        ("cumsum i64", "kernel", Box::new(move || black_box(cumsum_i64(black_box(q))).len())),
        ("cumsum i64", "hand", Box::new(move || black_box(hand_cumsum(black_box(q), 0)).len())),
        ("cumsum i64", "eager", Box::new(move || black_box(eager_cumsum(black_box(qa))).len())),
        ("cumsum i32", "kernel", Box::new(move || black_box(cumsum_i32(black_box(w))).len())),
        ("cumsum i32", "hand", Box::new(move || black_box(hand_wrapping_cumsum(black_box(w), 0)).len())),
        ("cumsum i32", "eager", Box::new(move || black_box(eager_wrapping_cumsum(black_box(wa))).len())),
        ("cumsum u8", "kernel", Box::new(move || black_box(cumsum_u8(black_box(b))).len())),
        ("cumsum u8", "hand", Box::new(move || black_box(hand_wrapping_cumsum(black_box(b), 0)).len())),
        ("cumsum u8", "eager", Box::new(move || black_box(eager_wrapping_cumsum(black_box(ba))).len())),
        ("cummax i64", "kernel", Box::new(move || black_box(cummax_i64(black_box(q))).len())),
        ("cummax i64", "hand", Box::new(move || black_box(hand_cummax(black_box(q))).len())),
        ("cummax i64", "eager", Box::new(move || black_box(eager_cummax(black_box(qa))).len())),
        ("vwap", "kernel", Box::new(move || black_box(vwap(black_box(p), black_box(v))).len())),
        ("vwap", "hand", Box::new(move || black_box(hand_vwap(black_box(p), black_box(v))).len())),
        ("vwap", "eager", Box::new(move || black_box(eager_vwap(black_box(pa), black_box(va))).len())),
    ]
}

fn scans(c: &mut Criterion) {
    let d = data();
    let a = arrays(&d);
    let all = cases(&d, &a);
    for workload in WORKLOADS {
        let mut g = c.benchmark_group(format!("{}/1e5", workload.replace(' ', "_")));
        g.throughput(Throughput::Elements(N as u64));
        g.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
        for (_, form, f) in all.iter().filter(|c| c.0 == workload) {
            g.bench_function(*form, |b| b.iter(f));
        }
        g.finish();
    }
}

/// Best of many interleaved rounds per case, ns per element.
fn table() {
    let d = data();
    let a = arrays(&d);
    let all = cases(&d, &a);
    let mut best = vec![f64::INFINITY; all.len()];
    // `SCANS_TABLE=<workload form>` times that case alone (for a profiler).
    let only = std::env::var("SCANS_TABLE").unwrap_or_default();
    for _ in 0..200 {
        for (i, (w, form, f)) in all.iter().enumerate() {
            if only.len() > 1 && format!("{w} {form}") != only {
                continue;
            }
            // Two calls first: the allocator then has the result's pages at hand, for every
            // form alike (the first call after another form's paid their page faults).
            black_box(f());
            black_box(f());
            let t = Instant::now();
            black_box(f());
            best[i] = best[i].min(t.elapsed().as_secs_f64() * 1e9 / N as f64);
        }
    }
    println!("| workload (n = 1e5, ns/elem, best of 200 interleaved rounds) | `#[kernel]` | hand loop | eager ndarray | kernel vs hand | speedup vs eager |");
    println!("|---|--:|--:|--:|--:|--:|");
    for w in 0..WORKLOADS.len() {
        let (k, h, e) = (best[3 * w], best[3 * w + 1], best[3 * w + 2]);
        println!("| {} | {k:.3} | {h:.3} | {e:.3} | {:.2}x | {:.1}x |", all[3 * w].0, k / h, e / k);
    }
}

criterion_group!(benches, scans);

fn main() {
    if std::env::var("SCANS_TABLE").is_ok() {
        table();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
