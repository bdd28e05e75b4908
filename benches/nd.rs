//! N-d workloads (matrices and an image), each in three forms, as `benches/workloads.rs`:
//!
//! - `kernel`: the `#[kernel]` function (`tests/common/nd_kernels.rs`);
//! - `eager`: the natural ndarray code, one temporary per operation, as a NumPy user writes it;
//! - `hand`: a straightforward loop nest over the raw data (slices, `chunks_exact`, lane
//!   accumulators for the row reductions, no `unsafe`), with the same arithmetic, compiled
//!   for the build's baseline (no `#[target_feature]`, unlike `workloads.rs`' `hand`).
//!
//! Groups are `<workload>/<shape>`, functions `kernel`, `eager`, `hand` (and `dot` for
//! `matvec`): `cargo bench --bench nd -- softmax` or `-- /hand`. Every form is checked
//! against `eager` before it is timed. Sample counts are small (10 samples, 1 s) so the
//! whole bench runs in about a minute and a half.
//!
//! `ND_INTERLEAVED=<rounds> cargo bench --bench nd` prints an interleaved table instead:
//! each round calls `kernel`, `hand` (and `dot`) once each, `eager` every fourth round, and
//! the table has each form's best and median call; on a shared machine a noisy neighbour then
//! slows every form alike, and the ratios hold where criterion's means, taken minutes
//! apart, do not.

use criterion::{criterion_group, BenchmarkGroup, Criterion, Throughput};
use ndarray::{Array, Array1, Array2, Array3, ArrayView2, Axis, Dimension, ShapeBuilder};
use std::hint::black_box;
use std::time::Duration;

#[path = "../tests/common/nd_kernels.rs"]
mod kernels;

// ---------------------------------------------------------------------------------------
// Eager ndarray: one temporary per operation.

mod eager {
    use super::*;

    pub fn standardize_cols(x: &Array2<f64>) -> Array2<f64> {
        (x - &x.mean_axis(Axis(0)).unwrap()) / &x.std_axis(Axis(0), 0.0)
    }

    pub fn softmax_rows(x: &Array2<f64>) -> Array2<f64> {
        let mx = x.fold_axis(Axis(1), f64::NEG_INFINITY, |a, &b| a.max(b)).insert_axis(Axis(1));
        let e = (x - &mx).mapv(f64::exp);
        &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1))
    }

    pub fn normalize_rows(x: &Array2<f64>) -> Array2<f64> {
        let sq = x * x;
        x / &sq.sum_axis(Axis(1)).mapv(f64::sqrt).insert_axis(Axis(1))
    }

    pub fn pairwise_dist(x: &Array2<f64>, y: &Array2<f64>) -> Array2<f64> {
        let d = &x.view().insert_axis(Axis(1)) - &y.view().insert_axis(Axis(0));
        d.mapv(|t| t.powi(2)).sum_axis(Axis(2)).mapv(f64::sqrt)
    }

    pub fn matvec(a: &Array2<f64>, v: &Array1<f64>) -> Array1<f64> {
        (a * v).sum_axis(Axis(1))
    }

    /// `(img.astype(f32) * gain + bias).clip(0, 255).astype(u8)`.
    pub fn brighten(img: &Array3<u8>, gain: f32, bias: f32) -> Array3<u8> {
        let f = img.mapv(|v| v as f32);
        let t = &f * gain;
        let t = &t + bias;
        let t = t.mapv(|v| v.clamp(0.0, 255.0));
        t.mapv(|v| v as u8)
    }
}

// ---------------------------------------------------------------------------------------
// Hand-written loop nests over the raw data.

mod hand {
    use super::*;

    const LANES: usize = 8;

    /// Sum of `f(a[i])` with 8 lane accumulators, combined pairwise, the tail last.
    #[inline(always)]
    fn lanes_sum(a: &[f64], f: impl Fn(f64) -> f64) -> f64 {
        let mut acc = [0.0f64; LANES];
        let chunks = a.chunks_exact(LANES);
        let tail = chunks.remainder();
        for c in chunks {
            for j in 0..LANES {
                acc[j] += f(c[j]);
            }
        }
        let mut s = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
        for &x in tail {
            s += f(x);
        }
        s
    }

    /// C-order data: column statistics accumulated row by row (vectorizes across columns),
    /// then one pass writing the output.
    pub fn standardize_cols_c(x: &[f64], n: usize, m: usize) -> Array2<f64> {
        let mut mean = vec![0.0; m];
        for r in x.chunks_exact(m) {
            for (s, &v) in mean.iter_mut().zip(r) {
                *s += v;
            }
        }
        mean.iter_mut().for_each(|s| *s /= n as f64);
        let mut var = vec![0.0; m];
        for r in x.chunks_exact(m) {
            for ((s, &v), &mu) in var.iter_mut().zip(r).zip(&mean) {
                let d = v - mu;
                *s += d * d;
            }
        }
        let std: Vec<f64> = var.iter().map(|s| (s / n as f64).sqrt()).collect();
        let mut out = Vec::with_capacity(n * m);
        for r in x.chunks_exact(m) {
            out.extend(r.iter().zip(&mean).zip(&std).map(|((&v, &mu), &sd)| (v - mu) / sd));
        }
        Array2::from_shape_vec((n, m), out).unwrap()
    }

    /// F-order data: each column is contiguous; the output is F-order too.
    pub fn standardize_cols_f(x: &[f64], n: usize, m: usize) -> Array2<f64> {
        let mut out = Vec::with_capacity(n * m);
        for c in x.chunks_exact(n) {
            let mean = lanes_sum(c, |v| v) / n as f64;
            let std = (lanes_sum(c, |v| (v - mean) * (v - mean)) / n as f64).sqrt();
            out.extend(c.iter().map(|&v| (v - mean) / std));
        }
        Array2::from_shape_vec((n, m).f(), out).unwrap()
    }

    // `exp` is std's (libm), as in `eager`. loopfuse's scalar-written `math::exp` (which
    // `workloads.rs` inlines into an AVX-512 function) is 3x slower here: in a baseline
    // x86-64 function its `mul_add`s are calls to the software `fma`.
    pub fn softmax_rows(x: &[f64], n: usize, m: usize) -> Array2<f64> {
        let mut out = Vec::with_capacity(n * m);
        for r in x.chunks_exact(m) {
            let mx = r.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            let start = out.len();
            out.extend(r.iter().map(|&v| (v - mx).exp()));
            let e = &mut out[start..];
            let s = lanes_sum(e, |v| v);
            e.iter_mut().for_each(|v| *v /= s);
        }
        Array2::from_shape_vec((n, m), out).unwrap()
    }

    pub fn normalize_rows(x: &[f64], n: usize, m: usize) -> Array2<f64> {
        let mut out = Vec::with_capacity(n * m);
        for r in x.chunks_exact(m) {
            let norm = lanes_sum(r, |v| v * v).sqrt();
            out.extend(r.iter().map(|&v| v / norm));
        }
        Array2::from_shape_vec((n, m), out).unwrap()
    }

    /// `d` a multiple of 16 or not: the inner dot is over two short contiguous rows; `d`
    /// arrives at run time (`black_box`), as the kernel gets it from the shape.
    pub fn pairwise_dist(x: &[f64], y: &[f64], d: usize) -> Array2<f64> {
        let (n, m) = (x.len() / d, y.len() / d);
        let mut out = Vec::with_capacity(n * m);
        for xr in x.chunks_exact(d) {
            for yr in y.chunks_exact(d) {
                let mut acc = [0.0f64; LANES];
                let (xc, yc) = (xr.chunks_exact(LANES), yr.chunks_exact(LANES));
                let (xt, yt) = (xc.remainder(), yc.remainder());
                for (a, b) in xc.zip(yc) {
                    for j in 0..LANES {
                        let t = a[j] - b[j];
                        acc[j] += t * t;
                    }
                }
                let mut s = acc.iter().sum::<f64>();
                for (a, b) in xt.iter().zip(yt) {
                    s += (a - b) * (a - b);
                }
                out.push(s.sqrt());
            }
        }
        Array2::from_shape_vec((n, m), out).unwrap()
    }

    /// The same with each sum in order, as the kernel's reduction contract adds a row shorter
    /// than one lane group (32): the loop nest with the kernel's bits.
    pub fn pairwise_dist_in_order(x: &[f64], y: &[f64], d: usize) -> Array2<f64> {
        let (n, m) = (x.len() / d, y.len() / d);
        let mut out = Vec::with_capacity(n * m);
        for xr in x.chunks_exact(d) {
            for yr in y.chunks_exact(d) {
                let s = xr.iter().zip(yr).fold(0.0, |s, (a, b)| s + (a - b) * (a - b));
                out.push(s.sqrt());
            }
        }
        Array2::from_shape_vec((n, m), out).unwrap()
    }

    pub fn matvec(a: &[f64], v: &[f64]) -> Array1<f64> {
        let m = v.len();
        a.chunks_exact(m)
            .map(|r| {
                let mut acc = [0.0f64; LANES];
                let (rc, vc) = (r.chunks_exact(LANES), v.chunks_exact(LANES));
                let (rt, vt) = (rc.remainder(), vc.remainder());
                for (p, q) in rc.zip(vc) {
                    for j in 0..LANES {
                        acc[j] += p[j] * q[j];
                    }
                }
                let mut s = acc.iter().sum::<f64>();
                for (p, q) in rt.iter().zip(vt) {
                    s += p * q;
                }
                s
            })
            .collect()
    }

    pub fn brighten(img: &[u8], dim: (usize, usize, usize), gain: f32, bias: f32) -> Array3<u8> {
        let out: Vec<u8> = img.iter().map(|&v| (v as f32 * gain + bias).clamp(0.0, 255.0) as u8).collect();
        Array3::from_shape_vec(dim, out).unwrap()
    }
}

// ---------------------------------------------------------------------------------------
// Data and groups.

/// Deterministic values in [-1, 1) (xorshift, as `workloads.rs`).
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

fn group<'c>(c: &'c mut Criterion, name: &str, elems: usize) -> BenchmarkGroup<'c, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(elems as u64))
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(10);
    g
}

fn assert_close<A: Into<f64> + Copy, D: Dimension>(what: &str, got: &Array<A, D>, want: &Array<A, D>) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for ((i, &w), &g) in want.indexed_iter().zip(got.iter()) {
        let (w, g) = (w.into(), g.into());
        assert!((g - w).abs() <= 1e-9 * (1.0 + w.abs()), "{what}: element {i:?}: {g} vs {w}");
    }
}

fn nd(c: &mut Criterion) {
    let kernel = "kernel";
    eprintln!("benches/nd.rs: `{kernel}` forms");

    let (n, m) = (1000, 1000);
    let xc = Array2::from_shape_vec((n, m), data(n * m, 1)).unwrap();
    let xf = Array2::from_shape_vec((n, m).f(), xc.t().iter().copied().collect()).unwrap();
    assert_eq!(xc, xf);
    let raw_c = xc.as_slice().unwrap();
    let raw_f = xf.as_slice_memory_order().unwrap();

    fn view(a: &Array2<f64>) -> ArrayView2<'_, f64> {
        black_box(a.view())
    }

    let rounds: Option<usize> =
        std::env::var("ND_INTERLEAVED").ok().map(|r| r.parse().expect("ND_INTERLEAVED=<rounds>"));
    if rounds.is_some() {
        println!(
            "{:<32} {:>13} {:>13} {:>13} {:>13} {:>12} {:>13}",
            "workload", "kernel best", "kernel median", "hand best", "hand median", "eager best", "kernel/hand"
        );
    }
    macro_rules! bench {
        ($name:expr, $elems:expr, kernel: $k:expr, eager: $e:expr, hand: $h:expr $(, $extra:literal: $x:expr)?) => {{
            let want = $e;
            assert_close(concat!($name, " kernel"), &$k, &want);
            assert_close(concat!($name, " hand"), &$h, &want);
            $( assert_close(concat!($name, " ", $extra), &$x, &want); )?
            if let Some(rounds) = rounds {
                let mut t = Interleaved::default();
                for r in 0..rounds {
                    t.time(0, || $k);
                    t.time(1, || $h);
                    $( t.time(3, || $x); )?
                    if r % 4 == 0 {
                        t.time(2, || $e);
                    }
                }
                t.print($name, [$( $extra )?].first().copied());
            } else {
                let mut g = group(c, $name, $elems);
                g.bench_function("kernel", |b| b.iter(|| $k));
                g.bench_function("eager", |b| b.iter(|| $e));
                g.bench_function("hand", |b| b.iter(|| $h));
                $( g.bench_function($extra, |b| b.iter(|| $x)); )?
                g.finish();
            }
        }};
    }

    bench!("standardize_cols/1000x1000_C", n * m,
        kernel: kernels::standardize_cols(view(&xc)),
        eager: eager::standardize_cols(black_box(&xc)),
        hand: hand::standardize_cols_c(black_box(raw_c), n, m));
    bench!("standardize_cols/1000x1000_F", n * m,
        kernel: kernels::standardize_cols(view(&xf)),
        eager: eager::standardize_cols(black_box(&xf)),
        hand: hand::standardize_cols_f(black_box(raw_f), n, m));
    bench!("softmax_rows/1000x1000", n * m,
        kernel: kernels::softmax_rows(view(&xc)),
        eager: eager::softmax_rows(black_box(&xc)),
        hand: hand::softmax_rows(black_box(raw_c), n, m));
    bench!("normalize_rows/1000x1000", n * m,
        kernel: kernels::normalize_rows(view(&xc)),
        eager: eager::normalize_rows(black_box(&xc)),
        hand: hand::normalize_rows(black_box(raw_c), n, m));

    // In place, into an existing matrix: `y += a * x` (ndarray's own `scaled_add` as eager).
    // (Criterion only: the interleaved table compares fresh results.)
    if rounds.is_none() {
        let mut y = xc.clone();
        let mut g = group(c, "axpy_inplace/1000x1000", n * m);
        g.bench_function("kernel", |b| b.iter(|| kernels::axpy2(0.5, view(&xc), black_box(y.view_mut()))));
        g.bench_function("eager", |b| b.iter(|| black_box(&mut y).scaled_add(0.5, black_box(&xc))));
        g.bench_function("hand", |b| {
            b.iter(|| {
                for (o, &x) in black_box(&mut y).as_slice_mut().unwrap().iter_mut().zip(raw_c) {
                    *o += 0.5 * x;
                }
            })
        });
        g.finish();
    }

    let (p, q) = (2000, 2000);
    let a = Array2::from_shape_vec((p, q), data(p * q, 2)).unwrap();
    let v = Array1::from(data(q, 3));
    bench!("matvec/2000x2000", p * q,
        kernel: kernels::matvec(black_box(a.view()), black_box(v.view())),
        eager: eager::matvec(black_box(&a), black_box(&v)),
        hand: hand::matvec(black_box(a.as_slice().unwrap()), black_box(v.as_slice().unwrap())),
        "dot": black_box(&a).dot(black_box(&v)));

    let d = 16;
    let x = Array2::from_shape_vec((1000, d), data(1000 * d, 4)).unwrap();
    let y = Array2::from_shape_vec((1000, d), data(1000 * d, 5)).unwrap();
    bench!("pairwise_dist/1000x16_1000x16", 1000 * 1000 * d,
        kernel: kernels::pairwise_dist(black_box(x.view()), black_box(y.view())),
        eager: eager::pairwise_dist(black_box(&x), black_box(&y)),
        hand: hand::pairwise_dist(black_box(x.as_slice().unwrap()), black_box(y.as_slice().unwrap()), black_box(d)),
        "in_order": hand::pairwise_dist_in_order(black_box(x.as_slice().unwrap()), black_box(y.as_slice().unwrap()), black_box(d)));

    let dim = (1080, 1920, 3);
    let img =
        Array3::from_shape_vec(dim, data(dim.0 * dim.1 * dim.2, 6).iter().map(|v| ((v + 1.0) * 128.0) as u8).collect())
            .unwrap();
    let (gain, bias) = (1.25f32, -7.5f32);
    bench!("brighten/1080x1920x3_u8", dim.0 * dim.1 * dim.2,
        kernel: kernels::brighten(black_box(img.view()), gain, bias),
        eager: eager::brighten(black_box(&img), gain, bias),
        hand: hand::brighten(black_box(img.as_slice().unwrap()), dim, gain, bias));
}

/// Call times of up to four forms (kernel, hand, eager, extra), ms.
#[derive(Default)]
struct Interleaved([Vec<f64>; 4]);

impl Interleaved {
    fn time<R>(&mut self, form: usize, f: impl FnOnce() -> R) {
        let t = std::time::Instant::now();
        black_box(f());
        self.0[form].push(t.elapsed().as_secs_f64() * 1e3);
    }

    fn print(&mut self, name: &str, extra: Option<&str>) {
        for t in &mut self.0 {
            t.sort_by(f64::total_cmp);
        }
        let [k, h, e, x] = &self.0;
        let mut line = format!(
            "{name:<32} {:>13.3} {:>13.3} {:>13.3} {:>13.3} {:>12.3} {:>13.2}",
            k[0],
            k[k.len() / 2],
            h[0],
            h[h.len() / 2],
            e[0],
            k[0] / h[0]
        );
        if let Some(extra) = extra {
            line += &format!("   {extra} best {:.3} median {:.3}", x[0], x[x.len() / 2]);
        }
        println!("{line}");
    }
}

criterion_group!(benches, nd);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
