//! N-d elementwise kernels and NumPy broadcasting (`add_bcast`, `select2`, `dyn_exp`,
//! `brighten`): every kernel against its naive scalar reading (`tests/common/nd.rs`), on
//! every layout of the same logical array (C, F, a permuted view of a padded copy, a step-2
//! slice, reversed axes, stride-0 broadcasts) and at every CPU level, bit for bit (any NaN
//! for any NaN where Rust leaves the payload unspecified), and the layouts and levels
//! bit-identical to each other. Broadcast mismatches panic with both shapes. The harness
//! itself is checked too (`layouts_are_the_same_array`).

mod common;
#[path = "common/nd.rs"]
mod nd;

// The kernels under test.
#[path = "common/nd_kernels.rs"]
mod kernels;

use common::*;
use nd::*;
use ndarray::{Array1, Array2, Array3, ArrayD, Axis, IxDyn};

/// Weights for `add_bcast`: the row length, a constant one (so `w` has a stride-0 layout
/// too), length 1, and (when the row has one element) a longer one that stretches `x`.
fn weights(m: usize, s: u64) -> Vec<Array1<f64>> {
    let mut w = vec![Array1::from(gen_f64(m, s)), Array1::from_elem(m, -0.0), Array1::from(vec![-1.5])];
    if m == 1 {
        w.push(Array1::from(gen_f64(7, s ^ 3)));
    }
    w
}

#[test]
fn add_bcast_vs_naive() {
    for &(n, m) in SHAPES2 {
        for (data, x) in data2((n, m), 1) {
            for w in weights(m, seed_nd(&[n, m], 2)) {
                let want = naive_add_bcast(&x, &w).expect("broadcasts");
                let runs = run2(&x, &w, kernels::add_bcast);
                let ctx = format!("{} ({data})", what("add_bcast", &[("x", x.shape()), ("w", w.shape())]));
                check_runs(&ctx, &want, &runs, Cmp::NanAny);
            }
        }
    }
}

#[test]
fn add_bcast_big() {
    let x = gen_nd(ndarray::Ix2(BIG2.0, BIG2.1), 7, gen_f64);
    let w = Array1::from(gen_f64(BIG2.1, 8));
    let want = naive_add_bcast(&x, &w).unwrap();
    let runs = run2(&x, &w, kernels::add_bcast);
    check_runs(&what("add_bcast", &[("x", x.shape()), ("w", w.shape())]), &want, &runs, Cmp::NanAny);
}

#[test]
fn add_bcast_mismatch_panics_with_both_shapes() {
    for ((n, m), k) in [((3, 4), 5), ((3, 4), 0), ((0, 4), 3), ((2, 0), 2)] {
        let x = Array2::from_elem((n, m), 1.0);
        let w = Array1::from_elem(k, 1.0);
        let ctx = what("add_bcast", &[("x", x.shape()), ("w", w.shape())]);
        let (ws, xs) = (format!("{:?}", w.shape()), format!("{:?}", x.shape()));
        assert_panics_with(&ctx, &["add_bcast", "cannot broadcast", &ws, &xs], || {
            kernels::add_bcast(x.view(), w.view())
        });
    }
}

#[test]
fn select2_vs_naive() {
    for &(n, m) in SHAPES2 {
        for (data, x) in data2((n, m), 3) {
            let s = seed_nd(&[n, m], 4);
            // Same shape, a row, a column, one element: NumPy broadcasting both ways.
            let ys = [
                gen_nd(ndarray::Ix2(n, m), s, gen_f64),
                gen_nd(ndarray::Ix2(1, m), s ^ 1, gen_f64),
                gen_nd(ndarray::Ix2(n, 1), s ^ 2, gen_f64),
                gen_nd(ndarray::Ix2(1, 1), s ^ 3, gen_f64),
            ];
            for y in &ys {
                let want = naive_select2(&x, y).expect("broadcasts");
                let ctx = format!("{} ({data})", what("select2", &[("x", x.shape()), ("y", y.shape())]));
                check_runs(&ctx, &want, &run2(&x, y, kernels::select2), Cmp::NanAny);
                // Operands swapped: `x` stretches instead of `y`.
                let want = naive_select2(y, &x).expect("broadcasts");
                let ctx = format!("{ctx}, operands swapped");
                check_runs(&ctx, &want, &run2(y, &x, kernels::select2), Cmp::NanAny);
            }
        }
    }
}

#[test]
fn select2_mismatch_panics_with_both_shapes() {
    for ((n, m), (p, q)) in [((3, 4), (3, 5)), ((3, 4), (2, 4)), ((0, 4), (2, 4)), ((3, 1), (2, 1))] {
        let x = Array2::from_elem((n, m), 1.0);
        let y = Array2::from_elem((p, q), 2.0);
        let ctx = what("select2", &[("x", x.shape()), ("y", y.shape())]);
        let (xs, ys) = (format!("{:?}", x.shape()), format!("{:?}", y.shape()));
        assert_panics_with(&ctx, &["select2", "cannot broadcast", &xs, &ys], || kernels::select2(x.view(), y.view()));
    }
}

#[test]
fn dyn_exp_vs_naive() {
    for shape in shapes_dyn() {
        let x = gen_nd(IxDyn(&shape), seed_nd(&shape, 5), gen_f32);
        for x in [rows_if_any(&x), x.clone()] {
            let want = naive_dyn_exp(&x, &OneD);
            let runs = run1(&x, kernels::dyn_exp);
            check_runs(&what("dyn_exp", &[("x", x.shape())]), &want, &runs, Cmp::NanAny);
        }
    }
}

/// `rows_equal` when there is an axis 0.
fn rows_if_any(x: &ArrayD<f32>) -> ArrayD<f32> {
    if x.ndim() == 0 {
        x.clone()
    } else {
        rows_equal(x)
    }
}

/// Gains and biases: identity, scaling both ways, negative, zero, saturating, and the
/// non-finite ones (`clamp` of NaN is NaN and `NaN as u8` is 0).
const GAIN_BIAS: &[(f32, f32)] = &[
    (1.0, 0.0),
    (1.5, 10.5),
    (0.5, -0.5),
    (-2.0, 300.0),
    (0.0, 127.5),
    (3.0, -300.0),
    (f32::INFINITY, 0.0),
    (f32::NAN, 1.0),
    (1.0, f32::NEG_INFINITY),
    (1e30, -1e30),
];

#[test]
fn brighten_vs_naive() {
    for &(h, w, c) in &[(0, 4, 3), (4, 0, 3), (1, 1, 3), (1, 33, 3), (17, 31, 3), (33, 65, 3), (4, 5, 1), (3, 2, 4)] {
        let img = Array3::from_shape_vec((h, w, c), any_u8(h * w * c, seed_nd(&[h, w, c], 6))).unwrap();
        for img in [img.clone(), rows_equal(&img)] {
            for &(gain, bias) in GAIN_BIAS {
                let want = naive_brighten(&img, gain, bias);
                let runs = run1(&img, |v| kernels::brighten(v, gain, bias));
                let ctx = format!("{} gain {gain} bias {bias}", what("brighten", &[("img", img.shape())]));
                check_runs(&ctx, &want, &runs, Cmp::Exact);
            }
        }
    }
}

#[test]
fn brighten_full_hd() {
    let (h, w, c) = (1080, 1920, 3);
    let img = Array3::from_shape_vec((h, w, c), any_u8(h * w * c, 9)).unwrap();
    let want = naive_brighten(&img, 1.25, -7.5);
    let runs = run1(&img, |v| kernels::brighten(v, 1.25, -7.5));
    check_runs(&what("brighten", &[("img", img.shape())]), &want, &runs, Cmp::Exact);
}

// ---- the harness ------------------------------------------------------------------------------------

/// Every layout is the logical array, element for element, and has the strides its name
/// promises (so the kernels really see F order, padding, steps, negative and zero strides).
#[test]
fn layouts_are_the_same_array() {
    for &(n, m) in SHAPES2 {
        for (_, x) in data2((n, m), 10) {
            let l = layouts2(&x);
            let views = l.views();
            let names: Vec<&str> = views.iter().map(|(name, _)| *name).collect();
            for want in ["C", "F", "T(padded)", "step2", "rev0", "rev_all"] {
                assert!(names.contains(&want), "{n}x{m}: layouts {names:?}");
            }
            for (name, v) in &views {
                assert_eq!(v.shape(), x.shape(), "{name}");
                for (a, b) in v.iter().zip(&x) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{n}x{m} layout {name}");
                }
                let s = v.strides();
                // (ndarray gives an empty array zero strides.)
                match *name {
                    _ if n * m == 0 => {}
                    "C" if n > 1 && m > 1 => assert_eq!(s, [m as isize, 1]),
                    "F" if n > 1 && m > 1 => assert_eq!(s, [1, n as isize]),
                    "T(padded)" if n > 1 && m > 1 => assert_eq!(s, [1, n as isize + 3]),
                    "step2" if n > 1 && m > 1 => assert_eq!(s, [2 * (2 * m as isize + 1), 2]),
                    "rev0" if n > 1 => assert!(s[0] < 0, "{s:?}"),
                    "rev_all" if n > 1 && m > 1 => assert!(s[0] < 0 && s[1] < 0, "{s:?}"),
                    "bcast0" => assert_eq!(s[0], 0),
                    _ => {}
                }
            }
            let rows_eq =
                n > 1 && x.axis_iter(Axis(0)).all(|r| r.iter().zip(x.row(0)).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert_eq!(names.contains(&"bcast0"), rows_eq, "{n}x{m}: {names:?}");
        }
    }
    // 3-D and IxDyn: the same views, every axis.
    for &(a, b, c) in SHAPES3 {
        let x = rows_equal(&gen_nd(ndarray::Ix3(a, b, c), 11, gen_f64));
        for_each_layout(&x, |name, v| {
            assert_eq!(v.shape(), x.shape(), "{name}");
            assert!(v.iter().zip(&x).all(|(p, q)| p.to_bits() == q.to_bits()), "{a}x{b}x{c} layout {name}");
        });
        let l = layouts3(&x);
        // Rows made equal: a stride-0 layout along axis 0 whenever there are several.
        assert_eq!(l.views().iter().any(|(name, _)| *name == "bcast0"), a > 1, "{a}x{b}x{c}");
    }
    for shape in shapes_dyn() {
        let x = gen_nd(IxDyn(&shape), 12, gen_f32);
        let l = layouts_dyn(&x);
        assert!(!l.views().is_empty());
        for (name, v) in l.views() {
            assert!(v.iter().zip(&x).all(|(p, q)| p.to_bits() == q.to_bits()), "{shape:?} layout {name}");
        }
    }
}

/// The readings agree with eager ndarray on the elementwise kernels, bit for bit.
#[test]
fn naive_readings_agree_with_eager_ndarray() {
    for &(n, m) in SHAPES2 {
        for (_, x) in data2((n, m), 13) {
            let w = Array1::from(gen_f64(m, 14));
            let eager = &(&x * 2.0) + &w;
            let got = naive_add_bcast(&x, &w).unwrap();
            assert!(got.diff(&eager, Cmp::NanAny).is_none(), "add_bcast {n}x{m}");
            let y = gen_nd(ndarray::Ix2(n, m), 15, gen_f64);
            let eager =
                ndarray::Zip::from(&x).and(&y).map_collect(|&a, &b| if a > b { a - b } else { (a * b).abs().sqrt() });
            assert!(naive_select2(&x, &y).unwrap().diff(&eager, Cmp::NanAny).is_none(), "select2 {n}x{m}");
        }
    }
    let x: ArrayD<f32> = gen_nd(IxDyn(&[3, 4, 5]), 16, gen_finite_f32);
    // The reading's `exp` is loopfuse's (≤ 1 ULP); std's is within 1 ULP of it too, mostly.
    for &v in &x {
        let (a, b) = (loopfuse::math::exp(v * 0.5), (v * 0.5).exp());
        assert!(a.ulps(b) <= 2, "exp({v:e}): loopfuse {a:e} vs std {b:e}");
    }
    let eager = (&x * 0.5).mapv(loopfuse::math::exp) - 1.0;
    assert!(naive_dyn_exp(&x, &OneD).diff(&eager, Cmp::NanAny).is_none(), "dyn_exp reading");
}

/// `(x + w).t()`: the view reaches `w` as the value's trailing axis, so `w` is a column of
/// the transpose (`w.insert_axis(Axis(0)).t()`), not a row. Found by the random kernels: the
/// view was applied to `w` as a rank-1 array of its own, which gave the transpose of
/// `x.t() + w` on square inputs, silently.
#[loopfuse::kernel]
fn t_of_broadcast(x: ndarray::ArrayView2<f64>, w: ndarray::ArrayView1<f64>) -> Array2<f64> {
    (x + w).t() * 1.0
}

#[test]
fn transpose_of_a_broadcast_value_vs_naive() {
    for &(n, m) in SHAPES2 {
        for (data, x) in data2((n, m), 11) {
            for w in weights(m, seed_nd(&[n, m], 12)) {
                let Ok(sum) = std::panic::catch_unwind(|| &x + &w) else { continue };
                let want = sum.t().mapv(|v| v * 1.0);
                let runs = run2(&x, &w, t_of_broadcast);
                let ctx = format!("{} ({data})", what("t_of_broadcast", &[("x", x.shape()), ("w", w.shape())]));
                check_runs(&ctx, &want, &runs, Cmp::NanAny);
            }
        }
    }
}
