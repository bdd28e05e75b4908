//! `#[kernel(parallel)]` on N-d kernels (issue 12): every N-d kernel family written serial
//! and `parallel` from one body (`twins!`), compared bit for bit (NaN payloads aside) at
//! every supported CPU level, under rayon pools of 1, 2, 3, 4, 7 and 16 threads, on every
//! layout of `tests/common/nd.rs` (C, F, transposed and padded, stepped, reversed,
//! broadcast) and at shapes around the threshold: just below it (serial), at it, above it
//! with odd lengths, with fewer outer rows than threads, and with rows shorter than a lane
//! group (the flat chunks of a whole reduction then start and end inside rows).

#![allow(clippy::type_complexity)]

mod common;
#[path = "common/nd.rs"]
mod nd;
#[path = "common/par.rs"]
#[macro_use]
mod par;

use common::*;
use loopfuse::{kernel, KernelError, Target};
use nd::*;
use ndarray::{s, Array1, Array2, ArrayD, ArrayView1, ArrayView2, ArrayView3, ArrayViewD, ArrayViewMut2, Axis};
use ndarray::{Ix2, Ix3, IxDyn, ShapeBuilder};
use par::*;

const THRESHOLD: usize = 1 << 17;

/// 2-D shapes: below the threshold, at it, above it (odd), 3 rows (fewer than most pools'
/// threads), rows of 3 (shorter than a lane group).
const SHAPES: &[(usize, usize)] = &[(256, 511), (256, 512), (257, 513), (3, 50_003), (50_003, 3)];

#[test]
fn the_shapes_are_around_the_threshold() {
    assert_eq!(THRESHOLD, loopfuse::__private::par::THRESHOLD);
    assert!(SHAPES[0].0 * SHAPES[0].1 < THRESHOLD && SHAPES[1].0 * SHAPES[1].1 == THRESHOLD);
}

/// At every level: `serial()` once, then `parallel()` in every pool, equal bit for bit.
fn check<T: Bits>(what: &str, serial: impl Fn() -> T, parallel: impl Fn() -> T + Sync) {
    at_every_level(|t: Target| {
        let want = bits(&serial());
        for (threads, pool) in pools() {
            let got = pool.install(|| loopfuse::with_target(t, || bits(&parallel())));
            assert!(got == want, "{what}, {threads} threads, level {t:?}: parallel differs from serial");
        }
    });
}

/// Every shape of [`SHAPES`], data set (specials, and equal rows with the broadcast
/// layout; finite on the first two shapes) and layout of `x`.
fn each_2d(seed: u64, mut f: impl FnMut(&str, ArrayView2<f64>)) {
    for (k, &shape) in SHAPES.iter().enumerate() {
        for (data, x) in data2(shape, seed + k as u64) {
            if data == "finite" && k > 1 {
                continue;
            }
            for_each_layout(&x, |layout, v| f(&format!("{shape:?}, {data}, {layout}"), v));
        }
    }
}

/// `f(x, y)` on every layout of `x`, with `y` in the matching layout of another array.
fn each_2d_pair(
    shapes: &[((usize, usize), (usize, usize))],
    seed: u64,
    mut f: impl FnMut(&str, ArrayView2<f64>, ArrayView2<f64>),
) {
    for (k, &(sx, sy)) in shapes.iter().enumerate() {
        let x = gen_nd(Ix2(sx.0, sx.1), seed + k as u64, gen_f64);
        let y = gen_nd(Ix2(sy.0, sy.1), seed + 100 + k as u64, gen_f64);
        let (lx, ly) = (layouts2(&x), layouts2(&y));
        for ((name, x), (_, y)) in lx.views().into_iter().zip(ly.views()) {
            f(&format!("{sx:?} {sy:?}, {name}"), x, y);
        }
    }
}

fn rows(x: ArrayView2<f64>) -> Array1<f64> {
    x.row(0).to_owned()
}

twins! {
    // elementwise, broadcasting, stages
    fn add_bcast(x: ArrayView2<f64>, w: ArrayView1<f64>) -> [Array2<f64>] { x * 2.0 + w }
    fn select2(x: ArrayView2<f64>, y: ArrayView2<f64>) -> [Array2<f64>] {
        if x > y { x - y } else { (x * y).abs().sqrt() }
    }
    fn exp2d(x: ArrayView2<f64>) -> [Array2<f64>] { (x * 0.5).exp() - 1.0 }
    fn dyn_exp(x: ArrayViewD<f32>) -> [ArrayD<f32>] { (x * 0.5).exp() - 1.0 }
    // whole reductions (argmin/argmax: flat indices), with an output in the same pass
    fn stats2(x: ArrayView2<f64>) -> [(f64, f64, f64, f64, f64)] { (x.mean(), x.std(), x.min(), x.max(), x.sum()) }
    fn exp_and_sum(x: ArrayView2<f64>) -> [(Array2<f64>, f64)] {
        let e = (x * 0.25).exp();
        (e * 2.0, e.sum())
    }
    fn count_pos(x: ArrayView3<f64>) -> [(usize, f64)] { ((x > 0.0).count(), x.prod()) }
    // axis reductions, along each axis; epilogues; 3-D
    fn sums(x: ArrayView2<f64>) -> [(Array1<f64>, Array1<f64>)] { (x.sum_axis(Axis(0)), x.sum_axis(Axis(1))) }
    fn var_cols(x: ArrayView2<f64>) -> [Array1<f64>] { x.var_axis(Axis(0), 1.0) }
    fn std_cols_scaled(x: ArrayView2<f64>) -> [Array1<f64>] { x.var_axis(Axis(0), 1.0).sqrt() * 2.0 }
    fn row_norms(x: ArrayView2<f64>) -> [(Array1<f64>, Array1<f64>)] {
        let s = (x * x).sum_axis(Axis(1));
        (s.sqrt(), s * 0.5)
    }
    fn argmax_both(x: ArrayView2<f64>) -> [(Array1<usize>, Array1<usize>)] { (x.argmax_axis(Axis(0)), x.argmax_axis(Axis(1))) }
    fn minmax3(x: ArrayView3<f32>) -> [(Array2<f32>, Array2<f32>, Array2<f32>)] {
        (x.min_axis(Axis(1)), x.max_axis(Axis(2)), x.sum_axis(Axis(0)))
    }
    // chains of passes by blocks, buffers broadcast back
    fn standardize_cols(x: ArrayView2<f64>) -> [Array2<f64>] { (x - x.mean_axis(Axis(0))) / x.std_axis(Axis(0), 0.0) }
    fn softmax_rows(x: ArrayView2<f64>) -> [Array2<f64>] {
        let e = (x - x.max_axis(Axis(1)).insert_axis(Axis(1))).exp();
        e / e.sum_axis(Axis(1)).insert_axis(Axis(1))
    }
    fn normalize_rows(x: ArrayView2<f64>) -> [Array2<f64>] { x / (x * x).sum_axis(Axis(1)).sqrt().insert_axis(Axis(1)) }
    fn centered_norms(x: ArrayView2<f64>, w: ArrayView1<f64>) -> [Array2<f64>] {
        let d = x - w;
        d / (d * d).sum_axis(Axis(1)).sqrt().insert_axis(Axis(1))
    }
    fn pairwise_dist(x: ArrayView2<f64>, y: ArrayView2<f64>) -> [Array2<f64>] {
        (x.insert_axis(Axis(1)) - y.insert_axis(Axis(0))).powi(2).sum_axis(Axis(2)).sqrt()
    }
    fn matvec(a: ArrayView2<f64>, v: ArrayView1<f64>) -> [Array1<f64>] { (a * v).sum_axis(Axis(1)) }
    // in place, and a tuple of an array, a whole reduction and an axis reduction
    fn axpy2(a: f64, x: ArrayView2<f64>, y: ArrayViewMut2<f64>) -> [()] { y += a * x; }
    fn tuple3(x: ArrayView2<f64>) -> [(Array2<f64>, f64, Array1<f64>)] { (x * 3.0, x.max(), x.min_axis(Axis(0))) }
    // `Result`: the same `Err` on a shape mismatch
    fn try_add(x: ArrayView2<f64>, y: ArrayView2<f64>) -> [Result<(Array2<f64>, f64), KernelError>] {
        Ok((x + y, (x * y).sum()))
    }
    // `strict`: elementwise passes parallel, reductions in order on the calling thread
    fn strict_mixed(x: ArrayView2<f64>) -> [(Array2<f64>, f64, Array1<f64>)] { (x * 0.5, x.sum(), x.sum_axis(Axis(1))) } [strict]
}

#[test]
fn elementwise() {
    each_2d(1, |c, x| {
        let w = rows(x);
        check(&format!("add_bcast {c}"), || add_bcast::serial(x, w.view()), || add_bcast::parallel(x, w.view()));
        check(&format!("exp2d {c}"), || exp2d::serial(x), || exp2d::parallel(x));
    });
    each_2d_pair(&[((256, 512), (256, 512)), ((401, 333), (401, 333)), ((3, 50_003), (3, 50_003))], 2, |c, x, y| {
        check(&format!("select2 {c}"), || select2::serial(x, y), || select2::parallel(x, y));
        // Broadcast the other way: `y`'s first row along every row of `x`.
        let y0 = y.slice(s![0..1, ..]);
        check(&format!("select2 bcast {c}"), || select2::serial(x, y0), || select2::parallel(x, y0));
    });
    for dims in [vec![50, 60, 50], vec![3, 7, 6247], vec![131_073]] {
        let x = gen_nd(IxDyn(&dims), 3, gen_f32);
        for_each_layout(&x, |layout, v| {
            check(&format!("dyn_exp {dims:?} {layout}"), || dyn_exp::serial(v.clone()), || dyn_exp::parallel(v.clone()))
        });
    }
}

#[test]
fn whole_reductions() {
    each_2d(4, |c, x| {
        check(&format!("stats2 {c}"), || stats2::serial(x), || stats2::parallel(x));
        check(&format!("exp_and_sum {c}"), || exp_and_sum::serial(x), || exp_and_sum::parallel(x));
        check(&format!("tuple3 {c}"), || tuple3::serial(x), || tuple3::parallel(x));
    });
    for (k, &(a, b, d)) in [(40, 60, 70), (7, 3, 9001), (2, 65_537, 1)].iter().enumerate() {
        let x = gen_nd(Ix3(a, b, d), 5 + k as u64, gen_f64).mapv(|v| if v.is_finite() { 1.0 + v * 1e-6 } else { v });
        for_each_layout(&x, |layout, v| {
            check(&format!("count_pos {:?} {layout}", (a, b, d)), || count_pos::serial(v), || count_pos::parallel(v))
        });
    }
}

/// The extreme many times, and NaNs, along both axes: the first index for every thread
/// count (the serial kernel's); min/max propagate the NaN.
#[test]
fn argmax_first_index_and_nan() {
    let mut x = gen_nd(Ix2(700, 1001), 6, gen_finite_f64);
    for i in (300..700).step_by(37) {
        x[(i, 500)] = 1e300;
        x[(i, 3 + i % 5)] = 1e300;
    }
    x[(650, 9)] = f64::NAN;
    x[(400, 9)] = f64::NAN;
    x[(400, 17)] = f64::NAN;
    let (cols, rows) = argmax_both::serial(x.view());
    assert_eq!((cols[9], rows[400]), (400, 9));
    for_each_layout(&x, |layout, v| {
        check(&format!("stats2 NaN {layout}"), || stats2::serial(v), || stats2::parallel(v));
        check(&format!("argmax_both {layout}"), || argmax_both::serial(v), || argmax_both::parallel(v));
    });
}

#[test]
fn axis_reductions() {
    each_2d(7, |c, x| {
        check(&format!("sums {c}"), || sums::serial(x), || sums::parallel(x));
        check(&format!("var_cols {c}"), || var_cols::serial(x), || var_cols::parallel(x));
        check(&format!("std_cols_scaled {c}"), || std_cols_scaled::serial(x), || std_cols_scaled::parallel(x));
        check(&format!("row_norms {c}"), || row_norms::serial(x), || row_norms::parallel(x));
        check(&format!("argmax_both {c}"), || argmax_both::serial(x), || argmax_both::parallel(x));
        let w = rows(x);
        check(&format!("matvec {c}"), || matvec::serial(x, w.view()), || matvec::parallel(x, w.view()));
    });
    for (k, &(a, b, d)) in [(40, 60, 70), (7, 3, 9001), (9001, 3, 7)].iter().enumerate() {
        let x = gen_nd(Ix3(a, b, d), 8 + k as u64, gen_f32);
        for_each_layout(&x, |layout, v| {
            check(&format!("minmax3 {:?} {layout}", (a, b, d)), || minmax3::serial(v), || minmax3::parallel(v))
        });
    }
}

#[test]
fn chains() {
    each_2d(9, |c, x| {
        check(&format!("standardize_cols {c}"), || standardize_cols::serial(x), || standardize_cols::parallel(x));
        check(&format!("softmax_rows {c}"), || softmax_rows::serial(x), || softmax_rows::parallel(x));
        check(&format!("normalize_rows {c}"), || normalize_rows::serial(x), || normalize_rows::parallel(x));
        let w = rows(x);
        check(
            &format!("centered_norms {c}"),
            || centered_norms::serial(x, w.view()),
            || centered_norms::parallel(x, w.view()),
        );
    });
    // Several blocks to a chunk: 1000 rows of 1000 (blocks of 32 rows), and 1000 columns of
    // an F matrix.
    let x = gen_nd(Ix2(1000, 1000), 10, gen_finite_f64);
    for_each_layout(&x, |layout, v| {
        check(&format!("softmax_rows 1000x1000 {layout}"), || softmax_rows::serial(v), || softmax_rows::parallel(v));
        check(
            &format!("standardize_cols 1000x1000 {layout}"),
            || standardize_cols::serial(v),
            || standardize_cols::parallel(v),
        );
    });
    each_2d_pair(&[((100, 16), (1400, 16)), ((700, 3), (70, 3)), ((3, 1), (65_537, 1))], 11, |c, x, y| {
        check(&format!("pairwise_dist {c}"), || pairwise_dist::serial(x, y), || pairwise_dist::parallel(x, y));
    });
}

/// `f` on `y` as a mutable view of a copy of `a` in each layout; the result and the
/// written `y` in logical order.
fn with_mut_layouts(
    a: &Array2<f64>,
    mut f: impl FnMut(&str, &(dyn Fn(&mut dyn FnMut(ArrayViewMut2<f64>)) -> Array2<f64> + Sync)),
) {
    let (n, m) = a.dim();
    f("C", &|k| {
        let mut o = a.clone();
        k(o.view_mut());
        o
    });
    f("F", &|k| {
        let mut o = Array2::from_shape_vec((n, m).f(), a.t().iter().cloned().collect()).unwrap();
        k(o.view_mut());
        o
    });
    f("T", &|k| {
        let mut o = a.t().to_owned();
        k(o.view_mut().reversed_axes());
        o.reversed_axes()
    });
    f("step2", &|k| {
        let mut big = Array2::from_elem((2 * n + 1, 2 * m + 1), 7.5);
        big.slice_mut(s![1..;2, 1..;2]).assign(a);
        k(big.slice_mut(s![1..;2, 1..;2]));
        big.slice(s![1..;2, 1..;2]).to_owned()
    });
    f("rev0", &|k| {
        let mut o = a.slice(s![..;-1, ..]).to_owned();
        k(o.slice_mut(s![..;-1, ..]));
        o.slice(s![..;-1, ..]).to_owned()
    });
}

#[test]
fn in_place_outputs() {
    for (k, &shape) in SHAPES.iter().enumerate() {
        let y0 = gen_nd(Ix2(shape.0, shape.1), 12 + k as u64, gen_f64);
        let x = gen_nd(Ix2(shape.0, shape.1), 13 + k as u64, gen_f64);
        for_each_layout(&x, |xl, xv| {
            with_mut_layouts(&y0, |yl, run| {
                let c = format!("axpy2 {shape:?} x {xl}, y {yl}");
                check(&c, || run(&mut |y| axpy2::serial(0.5, xv, y)), || run(&mut |y| axpy2::parallel(0.5, xv, y)));
                let c = format!("axpy2 {shape:?} x {xl} broadcast, y {yl}");
                let x0 = xv.slice(s![0..1, ..]);
                check(&c, || run(&mut |y| axpy2::serial(0.5, x0, y)), || run(&mut |y| axpy2::parallel(0.5, x0, y)));
            });
        });
    }
}

#[test]
fn results_and_strict() {
    each_2d_pair(&[((256, 512), (256, 512)), ((257, 513), (257, 513)), ((257, 513), (1, 513))], 14, |c, x, y| {
        check(&format!("try_add {c}"), || try_add::serial(x, y), || try_add::parallel(x, y));
    });
    let (x, y) = (Array2::<f64>::zeros((300, 500)), Array2::<f64>::zeros((300, 499)));
    let (s, p) = (try_add::serial(x.view(), y.view()), try_add::parallel(x.view(), y.view()));
    assert_eq!(s.unwrap_err().to_string().replace("`serial`", "`parallel`"), p.unwrap_err().to_string());
    each_2d(15, |c, x| check(&format!("strict_mixed {c}"), || strict_mixed::serial(x), || strict_mixed::parallel(x)));
}

// ---- panics, levels inside chunks ---------------------------------------------------------------

/// Panics on one element; from a chunk on a worker thread in the parallel kernel.
fn guarded(v: f64) -> f64 {
    assert!(v != 7.25, "guarded: the value 7.25 is not allowed");
    v
}

twins! {
    fn guard_sum(x: ArrayView2<f64>) -> [f64] { guarded(x).sum() }
    fn guard_rows(x: ArrayView2<f64>) -> [Array1<f64>] { guarded(x).sum_axis(Axis(1)) }
    fn guard_map(x: ArrayView2<f64>) -> [Array2<f64>] { guarded(x) * 2.0 }
    fn guard_chain(x: ArrayView2<f64>) -> [Array2<f64>] {
        let g = guarded(x);
        g / g.sum_axis(Axis(1)).insert_axis(Axis(1))
    }
}

fn panic_message(f: impl FnOnce()) -> String {
    let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("a panic");
    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap()
}

#[test]
fn a_panic_in_a_chunk_reaches_the_caller_with_its_message() {
    let mut x = gen_nd(Ix2(1000, 1001), 16, gen_finite_f64);
    x[(765, 432)] = 7.25;
    let want = "guarded: the value 7.25 is not allowed";
    for (layout, v) in [("C", x.view()), ("T", x.t())] {
        let kernels: [(&str, fn(ArrayView2<f64>), fn(ArrayView2<f64>)); 4] = [
            (
                "sum",
                |v| {
                    let _ = guard_sum::serial(v);
                },
                |v| {
                    let _ = guard_sum::parallel(v);
                },
            ),
            (
                "rows",
                |v| {
                    let _ = guard_rows::serial(v);
                },
                |v| {
                    let _ = guard_rows::parallel(v);
                },
            ),
            (
                "map",
                |v| {
                    let _ = guard_map::serial(v);
                },
                |v| {
                    let _ = guard_map::parallel(v);
                },
            ),
            (
                "chain",
                |v| {
                    let _ = guard_chain::serial(v);
                },
                |v| {
                    let _ = guard_chain::parallel(v);
                },
            ),
        ];
        for (name, s, p) in kernels {
            assert_eq!(panic_message(|| s(v)), want, "{name} {layout}");
            for (threads, pool) in pools() {
                assert_eq!(panic_message(|| pool.install(|| p(v))), want, "{name} {layout}, {threads} threads");
            }
        }
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
    fn probe(x: ArrayView2<f64>) -> [(f64, Array1<f64>, Array2<f64>, Array2<f64>)] {
        let s = seen(x);
        let c = seen(x) * 2.0;
        let n = seen(x) / seen(x).sum_axis(Axis(1)).insert_axis(Axis(1));
        (s.sum(), seen(x).max_axis(Axis(0)), c, n)
    }
}

/// Every chunk of every N-d driver (elementwise, whole and axis reductions, chains) runs at
/// the level the call dispatched to, seen by `loopfuse::target()` inside the chunks.
#[test]
fn chunks_run_at_the_dispatched_level() {
    let x = gen_nd(Ix2(1000, 1001), 17, gen_finite_f64);
    at_every_level(|t: Target| {
        for (_, pool) in pools() {
            for v in [x.view(), x.t()] {
                SEEN.store(0, std::sync::atomic::Ordering::Relaxed);
                pool.install(|| loopfuse::with_target(t, || probe::parallel(v)));
                assert_eq!(SEEN.load(std::sync::atomic::Ordering::Relaxed), 1 << (t as u8), "{t:?}");
            }
        }
    });
}

// ---- loop nests (issue 14): a stencil's windows and a nest's accumulator -----------------

twins! {
    fn nest_laplacian(u: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) -> [()] {
        for i in 1..u.nrows() - 1 {
            for j in 1..u.ncols() - 1 {
                out[[i, j]] = u[[i - 1, j]] + u[[i + 1, j]] + u[[i, j - 1]] + u[[i, j + 1]] - 4.0 * u[[i, j]];
            }
        }
    }
    fn nest_sum(u: ArrayView2<f64>) -> [f64] {
        let mut acc = 0.0;
        for i in 0..u.nrows() {
            for j in 1..u.ncols() {
                acc += (u[[i, j]] - u[[i, j - 1]]).abs();
            }
        }
        acc
    }
}

#[test]
fn loop_nests_parallel_vs_serial() {
    each_2d(90, |what, x| {
        let run = |k: fn(ArrayView2<f64>, ArrayViewMut2<f64>)| {
            let mut out = Array2::<f64>::from_elem(x.dim(), 0.5);
            k(x.view(), out.view_mut());
            out
        };
        check(&format!("nest_laplacian {what}"), || run(nest_laplacian::serial), || run(nest_laplacian::parallel));
        check(&format!("nest_sum {what}"), || nest_sum::serial(x.view()), || nest_sum::parallel(x.view()));
    });
}

// ---- loops that run in order, their iterations in parallel (issue 14, Numba's `prange`) --

twins! {
    // Row `i` of a local result and of an `&mut` output, per-iteration running values.
    fn prange_argmax(x: ArrayView2<f64>, mut run: ArrayViewMut2<f64>) -> [Array1<usize>] {
        let mut out = Array1::zeros(x.nrows());
        for i in 0..x.nrows() {
            let mut best = f64::NEG_INFINITY;
            let mut idx = 0;
            for j in 0..x.ncols() {
                if x[[i, j]] > best {
                    best = x[[i, j]];
                    idx = j;
                }
                run[[i, j]] = best;
            }
            out[i] = idx;
        }
        out
    }
    // A local `Array2` written by rows, with an inner run that vectorizes (`inner_pass.rs`)
    // and a `break` of an inner loop.
    fn prange_gram(x: ArrayView2<f64>) -> [Array2<f64>] {
        let mut g = Array2::zeros((x.ncols(), x.ncols()));
        for i in 0..x.ncols() {
            for j in 0..x.ncols() {
                let mut s = 0.0;
                for k in 0..x.nrows() {
                    s += x[[k, i]] * x[[k, j]];
                }
                g[[i, j]] = s;
            }
            let mut k = 0;
            while k < x.nrows() {
                if x[[k, i]] > 0.5 {
                    g[[i, 0]] += 1.0;
                    break;
                }
                k += 1;
            }
        }
        g
    }
    // A value carried across iterations: stays serial (the plan says so).
    fn prange_carried(x: ArrayView2<f64>) -> [f64] {
        let mut e = 0.0;
        for i in 0..x.nrows() {
            for j in i..x.ncols() {
                e += x[[i, j]];
            }
        }
        e
    }
}

#[test]
fn loops_in_order_split_by_rows_with_the_serial_bits() {
    for &shape in &[(0, 3), (1, 1), (3, 50), (64, 33), (257, 19)] {
        for (data, x) in data2(shape, 95) {
            for_each_layout(&x, |layout, v| {
                let what = format!("{shape:?} {data} {layout}");
                let argmax = |k: fn(ArrayView2<f64>, ArrayViewMut2<f64>) -> Array1<usize>| {
                    let mut run = Array2::<f64>::zeros(v.dim());
                    (k(v, run.view_mut()), run)
                };
                check(
                    &format!("prange_argmax {what}"),
                    || argmax(prange_argmax::serial),
                    || argmax(prange_argmax::parallel),
                );
                check(&format!("prange_gram {what}"), || prange_gram::serial(v), || prange_gram::parallel(v));
                check(&format!("prange_carried {what}"), || prange_carried::serial(v), || prange_carried::parallel(v));
            });
        }
    }
}

twins! {
    // `seen` per element of a loop whose iterations run on the pool.
    fn prange_probe(x: ArrayView2<f64>) -> [Array1<f64>] {
        let mut out = Array1::zeros(x.nrows());
        for i in 0..x.nrows() {
            let mut m = 0.0;
            for j in 0..x.ncols() {
                m = m * 0.5 + seen(x[[i, j]]);
            }
            out[i] = m;
        }
        out
    }
}

/// The chunks of a loop in order by rows run at the level the call dispatched to.
#[test]
fn row_chunks_run_at_the_dispatched_level() {
    let x = gen_nd(Ix2(64, 9), 18, gen_finite_f64);
    at_every_level(|t: Target| {
        for (_, pool) in pools() {
            SEEN.store(0, std::sync::atomic::Ordering::Relaxed);
            let got = pool.install(|| loopfuse::with_target(t, || prange_probe::parallel(x.view())));
            assert_eq!(SEEN.load(std::sync::atomic::Ordering::Relaxed), 1 << (t as u8), "{t:?}");
            assert_eq!(bits(&got), bits(&prange_probe::serial(x.view())));
        }
    });
}
