//! Loop nests over N-d arrays (issue 14), each in three forms:
//!
//! - `kernel`: the `#[kernel]` nest, as a Numba user writes it (`x[[i, j]]` in nested loops);
//! - `hand`: the same loop over raw row slices (no per-element bounds check left: rows are
//!   cut once and zipped), compiled for the build's baseline;
//! - `checked`: the same nest in plain Rust on ndarray, with its checked `x[[i, j]]`.
//!
//! `row_var` (a per-row loop) is timed against its expression form and the plain ndarray loop.
//! `row_argmax` also as a `parallel` kernel (its iterations by rows on the pool).
//! `potential_energy` also on an F-order array (`kernel F`), against the hand loop compiled
//! for AVX-512 (`hand avx512`, where the CPU has it) and its inner runs called as a 1-D
//! kernel (`1-D runs`).
//!
//! Every form is checked against `checked` before it is timed. `cargo bench --bench nests`
//! runs criterion (10 samples); `NESTS_INTERLEAVED=<rounds> cargo bench --bench nests`
//! calls the forms in turn and prints each one's best and median call (ms), the ratios from
//! one run on a noisy machine.

use criterion::{criterion_group, BenchmarkGroup, Criterion, Throughput};
use loopfuse::kernel;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[kernel]
fn laplacian(u: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
    for i in 1..u.nrows() - 1 {
        for j in 1..u.ncols() - 1 {
            out[[i, j]] = u[[i - 1, j]] + u[[i + 1, j]] + u[[i, j - 1]] + u[[i, j + 1]] - 4.0 * u[[i, j]];
        }
    }
}

#[kernel]
fn blur3(u: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
    for i in 1..u.nrows() - 1 {
        for j in 1..u.ncols() - 1 {
            let s = u[[i - 1, j - 1]]
                + u[[i - 1, j]]
                + u[[i - 1, j + 1]]
                + u[[i, j - 1]]
                + u[[i, j]]
                + u[[i, j + 1]]
                + u[[i + 1, j - 1]]
                + u[[i + 1, j]]
                + u[[i + 1, j + 1]];
            out[[i, j]] = s / 9.0;
        }
    }
}

/// The 1-D language on each row, in a loop (`lower/rows.rs`).
#[kernel]
fn row_var(x: ArrayView2<f64>) -> Vec<f64> {
    let mut out = vec![0.0; x.nrows()];
    for (i, row) in x.outer_iter().enumerate() {
        out[i] = (row - row.mean()).powi(2).mean();
    }
    out
}

/// The same as one expression with axis reductions.
#[kernel]
fn row_var_expr(x: ArrayView2<f64>) -> Array1<f64> {
    (x - x.mean_axis(Axis(1)).insert_axis(Axis(1))).powi(2).mean_axis(Axis(1))
}

/// The per-row argmax: nested loops with a running maximum (runs in order; with
/// `parallel`, by rows on the pool), written once for both.
macro_rules! row_argmax {
    ($name:ident, $($opts:tt)*) => {
        #[kernel($($opts)*)]
        fn $name(x: ArrayView2<f64>) -> Array1<usize> {
            let mut out = Array1::zeros(x.nrows());
            for i in 0..x.nrows() {
                let mut best = f64::NEG_INFINITY;
                let mut idx = 0;
                for j in 0..x.ncols() {
                    if x[[i, j]] > best {
                        best = x[[i, j]];
                        idx = j;
                    }
                }
                out[i] = idx;
            }
            out
        }
    };
}
row_argmax!(row_argmax,);
row_argmax!(row_argmax_parallel, parallel);

/// Pairwise interactions over a triangle `j > i` (runs in order).
#[kernel]
fn potential_energy(pos: ArrayView2<f64>) -> f64 {
    let mut e = 0.0;
    for i in 0..pos.nrows() {
        for j in (i + 1)..pos.nrows() {
            let dx = pos[[i, 0]] - pos[[j, 0]];
            let dy = pos[[i, 1]] - pos[[j, 1]];
            let dz = pos[[i, 2]] - pos[[j, 2]];
            e += 1.0 / (dx * dx + dy * dy + dz * dz).sqrt();
        }
    }
    e
}

/// One run of `potential_energy`'s inner loop, as a 1-D kernel of its own.
#[kernel]
fn pe_run(x: &[f64], y: &[f64], z: &[f64], xi: f64, yi: f64, zi: f64) -> f64 {
    let dx = xi - x;
    let dy = yi - y;
    let dz = zi - z;
    (1.0 / (dx * dx + dy * dy + dz * dz).sqrt()).sum()
}

/// The same runs as calls of a 1-D kernel: the per-run cost without the nest around it.
fn pe_runs(x: &[f64], y: &[f64], z: &[f64]) -> f64 {
    let mut e = 0.0;
    for i in 0..x.len() {
        e += pe_run(&x[i + 1..], &y[i + 1..], &z[i + 1..], x[i], y[i], z[i]);
    }
    e
}

mod checked {
    use super::*;

    pub fn laplacian(u: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        for i in 1..u.nrows() - 1 {
            for j in 1..u.ncols() - 1 {
                out[[i, j]] = u[[i - 1, j]] + u[[i + 1, j]] + u[[i, j - 1]] + u[[i, j + 1]] - 4.0 * u[[i, j]];
            }
        }
    }

    pub fn blur3(u: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        for i in 1..u.nrows() - 1 {
            for j in 1..u.ncols() - 1 {
                let s = u[[i - 1, j - 1]]
                    + u[[i - 1, j]]
                    + u[[i - 1, j + 1]]
                    + u[[i, j - 1]]
                    + u[[i, j]]
                    + u[[i, j + 1]]
                    + u[[i + 1, j - 1]]
                    + u[[i + 1, j]]
                    + u[[i + 1, j + 1]];
                out[[i, j]] = s / 9.0;
            }
        }
    }
}

mod hand {
    /// The first maximum of each row of a C-order `n x m` matrix (`>`: NaN never wins).
    pub fn row_argmax(x: &[f64], m: usize) -> Vec<usize> {
        x.chunks_exact(m.max(1))
            .map(|row| {
                let (mut best, mut idx) = (f64::NEG_INFINITY, 0);
                for (j, &v) in row.iter().enumerate() {
                    if v > best {
                        best = v;
                        idx = j;
                    }
                }
                idx
            })
            .collect()
    }

    /// Structure of arrays and 8 lane accumulators per row `i` (added lane by lane, then the
    /// lanes): what a hand-vectorized loop does.
    #[inline(always)]
    pub fn potential_energy(xs: &[f64], ys: &[f64], zs: &[f64]) -> f64 {
        let n = xs.len();
        let mut e = 0.0;
        for i in 0..n {
            let (xi, yi, zi) = (xs[i], ys[i], zs[i]);
            let (x, y, z) = (&xs[i + 1..], &ys[i + 1..], &zs[i + 1..]);
            let term = |x: f64, y: f64, z: f64| {
                let (dx, dy, dz) = (xi - x, yi - y, zi - z);
                1.0 / (dx * dx + dy * dy + dz * dz).sqrt()
            };
            // Whole chunks of 8: no index left to check, so the 8 lanes are one vector.
            let mut lanes = [0.0; 8];
            let (cx, cy, cz) = (x.chunks_exact(8), y.chunks_exact(8), z.chunks_exact(8));
            let rest = cx.remainder().len();
            for ((a, b), c) in cx.zip(cy).zip(cz) {
                for l in 0..8 {
                    lanes[l] += term(a[l], b[l], c[l]);
                }
            }
            let mut s: f64 = lanes.iter().sum();
            for k in x.len() - rest..x.len() {
                s += term(x[k], y[k], z[k]);
            }
            e += s;
        }
        e
    }

    /// The same loop compiled for AVX-512 (the kernel's best clone on these machines): the
    /// hand loop at its best, its 8 lanes one vector.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    pub fn potential_energy_avx512(xs: &[f64], ys: &[f64], zs: &[f64]) -> f64 {
        potential_energy(xs, ys, zs)
    }

    /// Row `i` of a C-order `n x m` matrix.
    fn row(a: &[f64], m: usize, i: usize) -> &[f64] {
        &a[i * m..(i + 1) * m]
    }

    pub fn laplacian(u: &[f64], out: &mut [f64], n: usize, m: usize) {
        for i in 1..n - 1 {
            let (up, mid, down) = (row(u, m, i - 1), row(u, m, i), row(u, m, i + 1));
            let o = &mut out[i * m + 1..(i + 1) * m - 1];
            for (j, o) in o.iter_mut().enumerate() {
                *o = up[j + 1] + down[j + 1] + mid[j] + mid[j + 2] - 4.0 * mid[j + 1];
            }
        }
    }

    pub fn blur3(u: &[f64], out: &mut [f64], n: usize, m: usize) {
        for i in 1..n - 1 {
            let (a, b, c) = (row(u, m, i - 1), row(u, m, i), row(u, m, i + 1));
            let o = &mut out[i * m + 1..(i + 1) * m - 1];
            let w = a.windows(3).zip(b.windows(3)).zip(c.windows(3));
            for (o, ((a, b), c)) in o.iter_mut().zip(w) {
                *o = (a[0] + a[1] + a[2] + b[0] + b[1] + b[2] + c[0] + c[1] + c[2]) / 9.0;
            }
        }
    }
}

fn data(n: usize, m: usize) -> Array2<f64> {
    let mut s = 0x9e3779b97f4a7c15u64;
    Array2::from_shape_fn((n, m), |_| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    })
}

fn group<'c>(c: &'c mut Criterion, name: &str, elems: usize) -> BenchmarkGroup<'c, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10).measurement_time(Duration::from_secs(1)).warm_up_time(Duration::from_millis(300));
    g.throughput(Throughput::Elements(elems as u64));
    g
}

/// Times `forms` in turn, `rounds` times, and prints each one's best and median (ms).
fn interleaved(name: &str, rounds: usize, forms: &mut [(&str, &mut dyn FnMut())]) {
    let mut times = vec![Vec::new(); forms.len()];
    for _ in 0..rounds {
        for (t, (_, f)) in times.iter_mut().zip(forms.iter_mut()) {
            let start = Instant::now();
            f();
            t.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    let mut line = format!("{name:<24}");
    for (t, (form, _)) in times.iter_mut().zip(forms.iter()) {
        t.sort_by(f64::total_cmp);
        line += &format!(" {form} {:.3} (median {:.3})", t[0], t[t.len() / 2]);
    }
    let ratio = |k: usize| times[0][0] / times[k][0];
    let ratios: Vec<String> = (1..forms.len()).map(|k| format!("kernel/{} {:.2}", forms[k].0, ratio(k))).collect();
    line += &format!("   {}", ratios.join(", "));
    println!("{line}");
}

type Stencil = fn(ArrayView2<f64>, ArrayViewMut2<f64>);

fn nests(c: &mut Criterion) {
    let (n, m) = (2048, 2048);
    let u = data(n, m);
    let raw = u.as_slice().expect("C order");
    let rounds: Option<usize> =
        std::env::var("NESTS_INTERLEAVED").ok().map(|r| r.parse().expect("NESTS_INTERLEAVED=<rounds>"));
    #[allow(clippy::type_complexity)]
    let cases: [(&str, Stencil, Stencil, fn(&[f64], &mut [f64], usize, usize)); 2] = [
        ("laplacian/2048x2048", laplacian, checked::laplacian, hand::laplacian),
        ("blur3/2048x2048", blur3, checked::blur3, hand::blur3),
    ];
    for (name, k, chk, h) in cases {
        let (mut ko, mut ho, mut co) = (Array2::zeros((n, m)), Array2::zeros((n, m)), Array2::zeros((n, m)));
        k(u.view(), ko.view_mut());
        h(raw, ho.as_slice_mut().unwrap(), n, m);
        chk(u.view(), co.view_mut());
        assert_eq!(ko, co, "{name}: kernel");
        assert_eq!(ho, co, "{name}: hand");
        let mut kernel = || k(black_box(u.view()), black_box(ko.view_mut()));
        let mut hand = || h(black_box(raw), black_box(ho.as_slice_mut().unwrap()), n, m);
        let mut checked = || chk(black_box(u.view()), black_box(co.view_mut()));
        run(c, name, n * m, rounds, &mut [("kernel", &mut kernel), ("hand", &mut hand), ("checked", &mut checked)]);
    }

    // row_var at 1000 x 1000: the loop form against the expression form (the same passes)
    // and the plain ndarray loop (one `mean` and one `mapv` temporary per row).
    let x = data(1000, 1000);
    let plain = |x: ArrayView2<f64>| -> Vec<f64> {
        x.outer_iter().map(|row| (&row - row.mean().unwrap()).mapv(|v| v * v).mean().unwrap()).collect()
    };
    assert_eq!(row_var(x.view()), row_var_expr(x.view()).to_vec(), "row_var: loop vs expression");
    let mut kernel = || drop(black_box(row_var(black_box(x.view()))));
    let mut expr = || drop(black_box(row_var_expr(black_box(x.view()))));
    let mut eager = || drop(black_box(plain(black_box(x.view()))));
    let forms: &mut [(&str, &mut dyn FnMut())] =
        &mut [("kernel", &mut kernel), ("expression", &mut expr), ("ndarray", &mut eager)];
    run(c, "row_var/1000x1000", 1000 * 1000, rounds, forms);

    // row_argmax at 1000 x 1000 and potential_energy at n = 2000: nests that run in order
    // (a running value; a triangle), each access checked where it happens.
    let plain_argmax = |x: ArrayView2<f64>| -> Array1<usize> {
        let mut out = Array1::zeros(x.nrows());
        for i in 0..x.nrows() {
            let (mut best, mut idx) = (f64::NEG_INFINITY, 0);
            for j in 0..x.ncols() {
                if x[[i, j]] > best {
                    best = x[[i, j]];
                    idx = j;
                }
            }
            out[i] = idx;
        }
        out
    };
    assert_eq!(row_argmax(x.view()), plain_argmax(x.view()));
    assert_eq!(row_argmax(x.view()).to_vec(), hand::row_argmax(x.as_slice().unwrap(), 1000));
    let mut kernel = || drop(black_box(row_argmax(black_box(x.view()))));
    let mut hand = || drop(black_box(hand::row_argmax(black_box(x.as_slice().unwrap()), 1000)));
    let mut checked = || drop(black_box(plain_argmax(black_box(x.view()))));
    assert_eq!(row_argmax_parallel(x.view()), row_argmax(x.view()));
    let mut parallel = || drop(black_box(row_argmax_parallel(black_box(x.view()))));
    let forms: &mut [(&str, &mut dyn FnMut())] =
        &mut [("kernel", &mut kernel), ("hand", &mut hand), ("checked", &mut checked), ("parallel", &mut parallel)];
    run(c, "row_argmax/1000x1000", 1000 * 1000, rounds, forms);

    let pos = data(2000, 3);
    let cols: Vec<Vec<f64>> = (0..3).map(|k| pos.column(k).to_vec()).collect();
    let plain_energy = |pos: ArrayView2<f64>| -> f64 {
        let mut e = 0.0;
        for i in 0..pos.nrows() {
            for j in (i + 1)..pos.nrows() {
                let (dx, dy, dz) = (pos[[i, 0]] - pos[[j, 0]], pos[[i, 1]] - pos[[j, 1]], pos[[i, 2]] - pos[[j, 2]]);
                e += 1.0 / (dx * dx + dy * dy + dz * dz).sqrt();
            }
        }
        e
    };
    let (k, h) = (potential_energy(pos.view()), hand::potential_energy(&cols[0], &cols[1], &cols[2]));
    assert!((k - h).abs() <= 1e-9 * h.abs(), "potential_energy: {k} vs {h}");
    let mut kernel = || {
        black_box(potential_energy(black_box(pos.view())));
    };
    let mut hand = || {
        black_box(hand::potential_energy(black_box(&cols[0]), &cols[1], &cols[2]));
    };
    let mut checked = || {
        black_box(plain_energy(black_box(pos.view())));
    };
    // The same positions in F order: each coordinate a contiguous column, as the hand loop's.
    let pos_f = pos.t().as_standard_layout().into_owned().reversed_axes();
    assert_eq!(potential_energy(pos_f.view()), k);
    let mut kernel_f = || {
        black_box(potential_energy(black_box(pos_f.view())));
    };
    let mut forms: Vec<(&str, &mut dyn FnMut())> =
        vec![("kernel", &mut kernel), ("hand", &mut hand), ("checked", &mut checked), ("kernel F", &mut kernel_f)];
    #[cfg(target_arch = "x86_64")]
    let mut hand_avx512 = || {
        // SAFETY: called only where the CPU has AVX-512F (checked just below).
        black_box(unsafe { hand::potential_energy_avx512(black_box(&cols[0]), &cols[1], &cols[2]) });
    };
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        forms.push(("hand avx512", &mut hand_avx512));
    }
    let mut runs = || {
        black_box(pe_runs(black_box(&cols[0]), &cols[1], &cols[2]));
    };
    forms.push(("1-D runs", &mut runs));
    run(c, "potential_energy/2000", 2000 * 1999 / 2, rounds, &mut forms);
}

/// Criterion, or the interleaved table (`rounds`), of `forms`; the first is the kernel.
fn run(c: &mut Criterion, name: &str, elems: usize, rounds: Option<usize>, forms: &mut [(&str, &mut dyn FnMut())]) {
    match rounds {
        Some(r) => interleaved(name, r, forms),
        None => {
            let mut g = group(c, name, elems);
            for (form, f) in forms.iter_mut() {
                g.bench_function(*form, |b| b.iter(&mut *f));
            }
            g.finish();
        }
    }
}

criterion_group!(benches, nests);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
