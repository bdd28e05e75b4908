//! N-d reductions: whole (`sum2`, `stats2`, `count_pos`), along an axis (`sums`, `var_cols`,
//! `argmax_rows`, `minmax3`) and fused into elementwise code (`standardize_cols`,
//! `softmax_rows`, `normalize_rows`, `pairwise_dist`, `matvec`).
//!
//! The contract (see `tests/common/nd.rs`): a whole reduction is the 1-D reduction of the
//! C-order flattening and an axis reduction is the 1-D reduction of each lane, so every result
//! must be BIT-IDENTICAL to the reading with the [`OneD`] order (the existing 1-D kernels
//! over collected lanes), on every layout and at every level; and within the summation
//! bound of `tests/reductions.rs` of the naive sequential reading ([`Seq`]) on finite data.
//! min/max propagate NaN; argmax is the first index of the max, a NaN counting as the max;
//! an empty axis gives NaN for mean/var/std, 0 for sum, and a panic naming the kernel for
//! min/max/argmax (also when there are no lanes: NumPy raises for `zeros((0, 0)).max(axis=1)`).

mod common;
#[path = "common/nd.rs"]
mod nd;

// The kernels under test.
#[path = "common/nd_kernels.rs"]
mod kernels;

use common::*;
use nd::*;
use ndarray::{Array1, Array2, Array3, Axis, Ix1, Ix2, Ix3};

/// Runs `f` for every 2-D shape (and the big one if `big`) and data set.
fn each_2d(operand: u64, big: bool, mut f: impl FnMut(&str, &Array2<f64>)) {
    for &shape in SHAPES2 {
        for (data, x) in data2(shape, operand) {
            f(data, &x);
        }
    }
    if big {
        f("specials", &gen_nd(Ix2(BIG2.0, BIG2.1), operand ^ 99, gen_f64));
        f("finite", &gen_nd(Ix2(BIG2.0, BIG2.1), operand ^ 98, gen_finite_f64));
    }
}

fn ctx(kernel: &str, data: &str, x: &Array2<f64>) -> String {
    format!("{} ({data})", what(kernel, &[("x", x.shape())]))
}

// ---- whole reductions ------------------------------------------------------------------------------

#[test]
fn sum2_is_the_1d_sum_of_the_flattening() {
    each_2d(1, true, |data, x| {
        let c = ctx("sum2", data, x);
        check_runs(&c, &naive_sum2(x, &OneD), &run1(x, kernels::sum2), Cmp::NanAny);
        if data == "finite" {
            assert_sum_within_bound(&c, kernels::sum2(x.view()), &flat(x));
        }
    });
}

#[test]
fn stats2_mean_std_min_max() {
    each_2d(2, false, |data, x| {
        let c = ctx("stats2", data, x);
        if x.is_empty() {
            // mean/std of nothing are NaN but min/max have no value: the tuple panics.
            assert_panics_with(&c, &["`stats2`", "empty"], || kernels::stats2(x.view()));
            return;
        }
        check_runs(&c, &naive_stats2(x, &OneD), &run1(x, kernels::stats2), Cmp::NanAny);
        // The 1-D kernels themselves: the N-d order is theirs.
        let v = flat(x);
        let want = (mean1(&v), std1(&v), min1(&v), max1(&v));
        assert!(kernels::stats2(x.view()).diff(&want, Cmp::NanAny).is_none(), "{c}: vs the 1-D kernels");
    });
}

#[test]
fn count_pos_3d() {
    for &(a, b, c) in SHAPES3 {
        let x = gen_nd(Ix3(a, b, c), seed_nd(&[a, b, c], 3), gen_f64);
        for x in [x.clone(), rows_equal(&x)] {
            let runs = run1(&x, kernels::count_pos);
            check_runs(&what("count_pos", &[("x", x.shape())]), &naive_count_pos(&x), &runs, Cmp::Exact);
        }
    }
}

// ---- axis reductions -------------------------------------------------------------------------------

#[test]
fn sum_axis_is_the_1d_sum_of_each_lane() {
    each_2d(4, true, |data, x| {
        let c = ctx("sums", data, x);
        check_runs(&c, &naive_sums(x, &OneD), &run1(x, kernels::sums), Cmp::NanAny);
        // An empty axis sums to 0 (+0.0).
        let (s0, s1) = kernels::sums(x.view());
        if x.nrows() == 0 {
            assert!(s0.iter().all(|v| v.to_bits() == 0), "{c}: sum over an empty axis 0: {s0}");
        }
        if x.ncols() == 0 {
            assert!(s1.iter().all(|v| v.to_bits() == 0), "{c}: sum over an empty axis 1: {s1}");
        }
        if data == "finite" {
            for (j, lane) in x.columns().into_iter().enumerate() {
                assert_sum_within_bound(&format!("{c}, sum_axis(0)[{j}]"), s0[j], &lane.to_vec());
            }
            for (i, lane) in x.rows().into_iter().enumerate() {
                assert_sum_within_bound(&format!("{c}, sum_axis(1)[{i}]"), s1[i], &lane.to_vec());
            }
        }
    });
}

#[test]
fn var_axis_is_two_pass_with_ddof() {
    each_2d(5, false, |data, x| {
        let c = ctx("var_cols", data, x);
        let want = naive_var_cols(x, &OneD);
        check_runs(&c, &want, &run1(x, kernels::var_cols), Cmp::NanAny);
        // An empty axis, or one element with ddof = 1: NaN.
        if x.nrows() <= 1 {
            assert!(kernels::var_cols(x.view()).iter().all(|v| v.is_nan()), "{c}: want NaN");
        }
        if data == "finite" && x.nrows() > 1 {
            let seq = naive_var_cols(x, &Seq);
            assert_close(&c, &kernels::var_cols(x.view()), &seq, 1e-12);
        }
    });
}

/// An elementwise map of axis results runs inside the axis pass (an epilogue): the same
/// bits as the map of the results, on every strategy (tiles along axis 0 of C, rows and
/// short rows along axis 1, the reverse for F).
#[test]
fn epilogues_map_each_result() {
    each_2d(15, true, |data, x| {
        let c = ctx("std_cols_scaled", data, x);
        let want: Array1<f64> = naive_var_cols(x, &OneD).mapv(|v| v.sqrt() * 2.0);
        check_runs(&c, &want, &run1(x, kernels::std_cols_scaled), Cmp::NanAny);
        let c = ctx("row_norms", data, x);
        let sq = x.mapv(|v| v * v);
        let (_, s2) = naive_sums(&sq, &OneD);
        let want = (s2.mapv(f64::sqrt), s2.mapv(|v| v * 0.5));
        check_runs(&c, &want, &run1(x, kernels::row_norms), Cmp::NanAny);
    });
}

#[test]
fn argmax_axis_first_index_nan_counts_as_max() {
    each_2d(6, false, |data, x| {
        let c = ctx("argmax_rows", data, x);
        if x.ncols() == 0 {
            assert_panics_with(&c, &["`argmax_rows`", "empty"], || kernels::argmax_rows(x.view()));
            return;
        }
        check_runs(&c, &naive_argmax_rows(x), &run1(x, kernels::argmax_rows), Cmp::Exact);
    });
    // Ties, zeros of both signs, several NaNs and infinities: the first wins.
    let x = Array2::from_shape_vec(
        (5, 4),
        vec![
            1.0,
            3.0,
            3.0,
            2.0,
            0.0,
            -0.0,
            0.0,
            -1.0,
            -1.0,
            f64::NAN,
            5.0,
            f64::NAN,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
            2.0,
            f64::INFINITY,
            f64::INFINITY,
            f64::NAN,
        ],
    )
    .unwrap();
    let want = Array1::from(vec![1usize, 0, 1, 0, 3]);
    assert_eq!(naive_argmax_rows(&x), want);
    check_runs("argmax_rows on ties", &want, &run1(&x, kernels::argmax_rows), Cmp::Exact);
}

#[test]
fn min_max_axis_3d_f32() {
    for &(a, b, c) in SHAPES3 {
        let x = gen_nd(Ix3(a, b, c), seed_nd(&[a, b, c], 7), gen_f32);
        for x in [x.clone(), rows_equal(&x)] {
            let w = what("minmax3", &[("x", x.shape())]);
            if b == 0 || c == 0 {
                assert_panics_with(&w, &["`minmax3`", "empty"], || kernels::minmax3(x.view()));
                continue;
            }
            check_runs(&w, &naive_minmax3(&x), &run1(&x, kernels::minmax3), Cmp::NanAny);
        }
    }
    // Zeros of both signs: min prefers -0.0, max +0.0 (NumPy, and the 1-D kernels).
    let x = Array3::from_shape_vec((1, 2, 2), vec![0.0f32, -0.0, -0.0, 0.0]).unwrap();
    let (mn, mx) = kernels::minmax3(x.view());
    assert_eq!(mn.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), [(-0.0f32).to_bits(); 2]);
    assert_eq!(mx.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), [0.0f32.to_bits(); 2]);
}

// ---- reductions fused with elementwise code --------------------------------------------------------

#[test]
fn standardize_cols_vs_naive() {
    each_2d(8, true, |data, x| {
        let c = ctx("standardize_cols", data, x);
        let want = naive_standardize_cols(x, &OneD);
        check_runs(&c, &want, &run1(x, kernels::standardize_cols), Cmp::NanAny);
        if data == "finite" && x.nrows() > 1 {
            assert_close(&c, &want, &naive_standardize_cols(x, &Seq), 1e-9);
        }
    });
}

#[test]
fn softmax_rows_vs_naive() {
    each_2d(9, false, |data, x| {
        let c = ctx("softmax_rows", data, x);
        if x.ncols() == 0 {
            assert_panics_with(&c, &["`softmax_rows`", "empty"], || kernels::softmax_rows(x.view()));
            return;
        }
        let want = naive_softmax_rows(x, &OneD);
        check_runs(&c, &want, &run1(x, kernels::softmax_rows), Cmp::NanAny);
        if data == "finite" {
            assert_close(&c, &want, &naive_softmax_rows(x, &Seq), 1e-12);
        }
    });
    let x = gen_nd(Ix2(BIG2.0, BIG2.1), 91, gen_finite_f64);
    let c = ctx("softmax_rows", "finite", &x);
    check_runs(&c, &naive_softmax_rows(&x, &OneD), &run1(&x, kernels::softmax_rows), Cmp::NanAny);
}

#[test]
fn normalize_rows_vs_naive() {
    each_2d(10, false, |data, x| {
        let c = ctx("normalize_rows", data, x);
        let want = naive_normalize_rows(x, &OneD);
        check_runs(&c, &want, &run1(x, kernels::normalize_rows), Cmp::NanAny);
        if data == "finite" {
            assert_close(&c, &want, &naive_normalize_rows(x, &Seq), 1e-12);
        }
    });
}

/// Chains of passes run by blocks (`runtime/src/nd/block.rs`, about 256 KiB each, along
/// the block axis where it is the outermost in memory): shapes that make several blocks and
/// a short last one, in every layout, give the bits of the naive reading, as the
/// single-block shapes above do.
#[test]
fn row_blocks_equal_whole_passes() {
    // 5 rows of 20000 (one row a block), 70 of 1000 (32 and 6 rows), 9 of 4100 (7 and 2).
    for (k, &(n, m)) in [(5, 20000), (70, 1000), (9, 4100)].iter().enumerate() {
        for (data, x) in data2((n, m), 40 + k as u64) {
            let c = ctx("normalize_rows", data, &x);
            check_runs(&c, &naive_normalize_rows(&x, &OneD), &run1(&x, kernels::normalize_rows), Cmp::NanAny);
            let c = ctx("softmax_rows", data, &x);
            check_runs(&c, &naive_softmax_rows(&x, &OneD), &run1(&x, kernels::softmax_rows), Cmp::NanAny);
            let w = gen_nd(Ix1(m), 7 + k as u64, gen_finite_f64);
            let c = what("centered_norms", &[("x", x.shape()), ("w", w.shape())]);
            let d = Array2::from_shape_fn((n, m), |(i, j)| x[(i, j)] - w[j]);
            let want = naive_normalize_rows(&d, &OneD);
            check_runs(&c, &want, &run2(&x, &w, kernels::centered_norms), Cmp::NanAny);
        }
    }
    // Blocks of columns (in the F layouts, where axis 1 is the outermost in memory).
    for (k, &(n, m)) in [(20000, 5), (1000, 70), (4100, 9)].iter().enumerate() {
        for (data, x) in data2((n, m), 50 + k as u64) {
            let c = ctx("standardize_cols", data, &x);
            let want = naive_standardize_cols(&x, &OneD);
            check_runs(&c, &want, &run1(&x, kernels::standardize_cols), Cmp::NanAny);
        }
    }
}

#[test]
fn pairwise_dist_vs_naive() {
    for (n, m, dx, dy) in [
        (0, 0, 16, 16),
        (0, 3, 16, 16),
        (3, 0, 4, 4),
        (5, 7, 0, 0),
        (1, 1, 1, 1),
        (17, 9, 16, 16),
        (33, 2, 33, 33),
        (4, 6, 1, 16),
        (6, 4, 16, 1),
    ] {
        let s = seed_nd(&[n, m, dx, dy], 11);
        for (data, gen) in [("specials", gen_f64 as Gen<f64>), ("finite", gen_finite_f64)] {
            let x = gen_nd(Ix2(n, dx), s, gen);
            let y = gen_nd(Ix2(m, dy), s ^ 1, gen);
            let c = format!("{} ({data})", what("pairwise_dist", &[("x", x.shape()), ("y", y.shape())]));
            let want = naive_pairwise_dist(&x, &y, &OneD).expect("broadcasts");
            check_runs(&c, &want, &run2(&x, &y, kernels::pairwise_dist), Cmp::NanAny);
            if data == "finite" {
                assert_close(&c, &want, &naive_pairwise_dist(&x, &y, &Seq).unwrap(), 1e-12);
            }
        }
    }
    let x = gen_nd(Ix2(1000, 16), 12, gen_finite_f64);
    let y = gen_nd(Ix2(1000, 16), 13, gen_finite_f64);
    let c = what("pairwise_dist", &[("x", x.shape()), ("y", y.shape())]);
    let runs = run2(&x, &y, kernels::pairwise_dist);
    check_runs(&c, &naive_pairwise_dist(&x, &y, &OneD).unwrap(), &runs, Cmp::NanAny);
}

#[test]
fn pairwise_dist_mismatch_panics() {
    let x = Array2::<f64>::zeros((3, 4));
    let y = Array2::<f64>::zeros((2, 5));
    let c = what("pairwise_dist", &[("x", x.shape()), ("y", y.shape())]);
    // The operands are the inserted-axis views: their shapes are [3, 1, 4] and [1, 2, 5].
    assert_panics_with(&c, &["`pairwise_dist`", "cannot broadcast", "4", "5"], || {
        kernels::pairwise_dist(x.view(), y.view())
    });
}

#[test]
fn matvec_vs_naive() {
    each_2d(14, true, |data, a| {
        let (n, m) = a.dim();
        let s = seed_nd(&[n, m], 15);
        let gen = if data == "finite" { gen_finite_f64 } else { gen_f64 };
        for v in [Array1::from(gen(m, s)), Array1::from(gen(1, s ^ 1))] {
            let c = format!("{} ({data})", what("matvec", &[("a", a.shape()), ("v", v.shape())]));
            let want = naive_matvec(a, &v, &OneD).expect("broadcasts");
            check_runs(&c, &want, &run2(a, &v, kernels::matvec), Cmp::NanAny);
            if data == "finite" {
                let got = kernels::matvec(a.view(), v.view());
                for i in 0..n {
                    let lane: Vec<f64> = (0..m).map(|j| a[(i, j)] * v[if v.len() == 1 { 0 } else { j }]).collect();
                    assert_sum_within_bound(&format!("{c}, row {i}"), got[i], &lane);
                }
            }
        }
    });
}

#[test]
fn matvec_mismatch_panics_with_both_shapes() {
    let a = Array2::<f64>::zeros((3, 4));
    let v = Array1::<f64>::zeros(5);
    let c = what("matvec", &[("a", a.shape()), ("v", v.shape())]);
    assert_panics_with(&c, &["`matvec`", "cannot broadcast", "[5]", "[3, 4]"], || kernels::matvec(a.view(), v.view()));
}

// ---- the harness ------------------------------------------------------------------------------------

/// The [`OneD`] order's two-pass variance is what the 1-D `var`/`std` kernels compute, bit
/// for bit, and the NumPy min/max rules are the 1-D kernels' (so the N-d readings extend the
/// 1-D contract rather than inventing one).
#[test]
fn one_d_order_is_the_1d_kernels() {
    for &n in LENGTHS {
        for x in [gen_f64(n, seed(n, 20)), gen_finite_f64(n, seed(n, 21))] {
            let what = format!("n = {n}");
            check_scalar(&format!("var, {what}"), OneD.var(&x, 0.0), &at_every_level(|_| var1(&x)), Cmp::NanAny);
            check_scalar(&format!("std, {what}"), OneD.var(&x, 0.0).sqrt(), &at_every_level(|_| std1(&x)), Cmp::NanAny);
            if n > 0 {
                check_scalar(&format!("min, {what}"), np_min(&x), &at_every_level(|_| min1(&x)), Cmp::NanAny);
                check_scalar(&format!("max, {what}"), np_max(&x), &at_every_level(|_| max1(&x)), Cmp::NanAny);
            }
        }
    }
}

/// The naive readings agree with the natural eager ndarray code on finite data (within
/// rounding: ndarray sums in its own order), and the two orders with each other.
#[test]
fn naive_readings_agree_with_eager_ndarray() {
    for &(n, m) in SHAPES2.iter().chain(&[(200, 300)]) {
        if n == 0 || m == 0 {
            continue;
        }
        let x = gen_nd(Ix2(n, m), seed_nd(&[n, m], 30), gen_finite_f64);
        let c = |k: &str| format!("{k} {n}x{m}");
        let eager = (&x - &x.mean_axis(Axis(0)).unwrap()) / &x.std_axis(Axis(0), 0.0);
        if n > 1 {
            assert_close(&c("standardize_cols"), &naive_standardize_cols(&x, &Seq), &eager, 1e-9);
            assert_close(&c("standardize_cols 1-D"), &naive_standardize_cols(&x, &OneD), &eager, 1e-9);
        }
        let mx = x.fold_axis(Axis(1), f64::NEG_INFINITY, |a, &b| a.max(b)).insert_axis(Axis(1));
        let e = (&x - &mx).mapv(f64::exp);
        let eager = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
        assert_close(&c("softmax_rows"), &naive_softmax_rows(&x, &Seq), &eager, 1e-12);
        assert_close(&c("softmax_rows 1-D"), &naive_softmax_rows(&x, &OneD), &eager, 1e-12);
        let eager = &x / &(&x * &x).sum_axis(Axis(1)).mapv(f64::sqrt).insert_axis(Axis(1));
        assert_close(&c("normalize_rows"), &naive_normalize_rows(&x, &Seq), &eager, 1e-12);
        let v = Array1::from(gen_finite_f64(m, 31));
        let eager = (&x * &v).sum_axis(Axis(1));
        assert_close(&c("matvec"), &naive_matvec(&x, &v, &Seq).unwrap(), &eager, 1e-9);
        assert_close(&c("matvec dot"), &naive_matvec(&x, &v, &OneD).unwrap(), &x.dot(&v), 1e-9);
        let y = gen_nd(Ix2(7, m), 32, gen_finite_f64);
        let d = &x.view().insert_axis(Axis(1)) - &y.view().insert_axis(Axis(0));
        let eager = d.mapv(|t| t.powi(2)).sum_axis(Axis(2)).mapv(f64::sqrt);
        assert_close(&c("pairwise_dist"), &naive_pairwise_dist(&x, &y, &Seq).unwrap(), &eager, 1e-12);
        let (s0, s1) = naive_sums(&x, &Seq);
        assert_close(&c("sum_axis(0)"), &s0, &x.sum_axis(Axis(0)), 1e-9);
        assert_close(&c("sum_axis(1)"), &s1, &x.sum_axis(Axis(1)), 1e-9);
        if n > 1 {
            assert_close(&c("var_axis"), &naive_var_cols(&x, &Seq), &x.var_axis(Axis(0), 1.0), 1e-9);
        }
        let (mean, std, mn, mxv) = naive_stats2(&x, &Seq);
        assert!((mean - x.mean().unwrap()).abs() <= 1e-9 * (1.0 + mean.abs()), "{}", c("mean"));
        assert!((std - x.std(0.0)).abs() <= 1e-9 * (1.0 + std.abs()), "{}", c("std"));
        assert_eq!(mn, x.fold(f64::INFINITY, |a, &b| a.min(b)), "{}", c("min"));
        assert_eq!(mxv, x.fold(f64::NEG_INFINITY, |a, &b| a.max(b)), "{}", c("max"));
        assert!((naive_sum2(&x, &Seq) - x.sum()).abs() <= 1e-9 * (1.0 + x.sum().abs()), "{}", c("sum"));
    }
}

/// A reduced array read with arrays it was not reduced from broadcasts with them as NumPy
/// does: `w` of length 1 stretches to the column sums, and column sums of length 1 stretch
/// to a longer `w`. Found by the random kernels: the reduced array was taken to fit `w`'s
/// shape, and the call failed with "cannot broadcast".
#[loopfuse::kernel]
fn scaled_col_sums(x: ndarray::ArrayView2<f64>, w: ndarray::ArrayView1<f64>) -> Array1<f64> {
    w * x.t().sum_axis(Axis(1))
}

#[test]
fn reduced_array_broadcasts_with_other_inputs() {
    each_2d(13, false, |data, x| {
        let m = x.ncols();
        let mut ws = vec![Array1::from(gen_f64(m, 14)), Array1::from(vec![-1.5])];
        if m == 1 {
            ws.push(Array1::from(gen_f64(7, 15)));
        }
        let (s0, _) = naive_sums(x, &OneD);
        for w in ws {
            let want = &w * &s0;
            let c = format!("{} with `w` {:?}", ctx("scaled_col_sums", data, x), w.shape());
            check_runs(&c, &want, &run2(x, &w, scaled_col_sums), Cmp::NanAny);
        }
    });
}

/// A chain of axis passes (blocks along axis 0) whose input is read through a view: the
/// block length was computed from the parameter without its view (`x` of shape `[n, m]`
/// broadcast to `[n, 1, m]`), which panicked for every shape. Found by the random N-d
/// kernels (seed 9). `prod_axis` and `sum_axis` of a length-1 axis: the result is `x * x`.
#[loopfuse::kernel]
fn chain_of_viewed_input(x: ndarray::ArrayView2<f64>) -> Array2<f64> {
    (x.insert_axis(Axis(1)).prod_axis(Axis(1)).insert_axis(Axis(1)) * x.insert_axis(Axis(1))).sum_axis(Axis(1))
}

#[test]
fn chain_reads_its_inputs_through_their_views() {
    for &(n, m) in SHAPES2 {
        for (data, x) in data2((n, m), 77) {
            let want = x.mapv(|v| v * v);
            for (l, v) in layouts2(&x).views() {
                for (t, got) in at_every_level(|_| chain_of_viewed_input(v)) {
                    for (g, w) in got.iter().zip(&want) {
                        assert!(
                            g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                            "{n}x{m} {data} {l} at {t:?}: {g} vs {w}"
                        );
                    }
                }
            }
        }
    }
}
