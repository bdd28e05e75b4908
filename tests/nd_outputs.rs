//! `&mut` N-d outputs written in place (`out[..] = e`, `y += e`): every layout of the output
//! (C, F, transposed, step-2 slice, reversed), every CPU level, bit-identical to the naive
//! reading; a value that does not fit the output is an error naming both shapes.

mod common;

use common::*;
use loopfuse::{kernel, KernelError};
use ndarray::{s, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, ShapeBuilder};

#[kernel]
fn fill_scaled(x: ArrayView2<f64>, w: ArrayView1<f64>, out: ArrayViewMut2<f64>) {
    out[..] = (x * w).sqrt() - 1.0;
}

#[kernel]
fn axpy2(a: f64, x: ArrayView2<f64>, y: &mut Array2<f64>) {
    y += a * x;
}

#[kernel]
fn center_into(x: ArrayView2<f64>, out: ArrayViewMut2<f64>) -> Result<f64, KernelError> {
    out[..] = x - x.mean_axis(Axis(0));
    Ok(x.sum())
}

#[kernel]
fn fill_const(out: ArrayViewMut2<f32>) {
    out[..] = 2.5;
}

fn data(n: usize, m: usize, seed: u64) -> Array2<f64> {
    let mut g = Rng::new(seed);
    let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 1e300, -1e-300];
    Array2::from_shape_fn((n, m), |_| {
        let r = g.next_u64();
        if r.is_multiple_of(11) {
            specials[(r >> 8) as usize % specials.len()]
        } else {
            (r >> 11) as f64 / (1u64 << 53) as f64 * 8.0 - 4.0
        }
    })
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn assert_same(what: &str, got: &Array2<f64>, want: &Array2<f64>) {
    assert_eq!(got.shape(), want.shape(), "{what}");
    for ((i, &g), &w) in got.indexed_iter().zip(want.iter()) {
        assert!(same(g, w), "{what}: at {i:?}: want {w:?} got {g:?}");
    }
}

/// Calls `write` on every layout of an output of shape (n, m), and returns what each left.
fn each_output_layout(
    n: usize,
    m: usize,
    mut write: impl FnMut(ArrayViewMut2<f64>),
) -> Vec<(&'static str, Array2<f64>)> {
    let mut out = Vec::new();
    let mut c = Array2::<f64>::from_elem((n, m), 7.0);
    write(c.view_mut());
    out.push(("C", c));
    let mut f = Array2::<f64>::from_elem((n, m).f(), 7.0);
    write(f.view_mut());
    out.push(("F", f.as_standard_layout().into_owned()));
    let mut t = Array2::<f64>::from_elem((m, n), 7.0);
    write(t.view_mut().reversed_axes());
    out.push(("transposed", t.t().to_owned()));
    let mut big = Array2::<f64>::from_elem((2 * n + 1, 2 * m + 1), 7.0);
    write(big.slice_mut(s![1..;2, 1..;2]));
    out.push(("step2", big.slice(s![1..;2, 1..;2]).to_owned()));
    let mut r = Array2::<f64>::from_elem((n, m), 7.0);
    write(r.slice_mut(s![..;-1, ..]));
    out.push(("reversed", r.slice(s![..;-1, ..]).to_owned()));
    out
}

const SHAPES: &[(usize, usize)] = &[(0, 3), (3, 0), (1, 1), (1, 33), (17, 31), (33, 17), (64, 65)];

#[test]
fn fill_scaled_every_layout_and_level() {
    for &(n, m) in SHAPES {
        let x = data(n, m, 1);
        let w = data(1, m, 2).row(0).to_owned();
        let want = Array2::from_shape_fn((n, m), |(i, j)| (x[[i, j]] * w[j]).sqrt() - 1.0);
        at_every_level(|t| {
            for (layout, got) in each_output_layout(n, m, |o| fill_scaled(x.view(), w.view(), o)) {
                assert_same(&format!("fill_scaled {n}x{m} {layout} {t:?}"), &got, &want);
            }
        });
    }
}

#[test]
fn axpy_reads_and_writes_in_place() {
    for &(n, m) in SHAPES {
        let x = data(n, m, 3);
        let y0 = data(n, m, 4);
        let want = Array2::from_shape_fn((n, m), |(i, j)| y0[[i, j]] + 0.75 * x[[i, j]]);
        at_every_level(|t| {
            let mut y = y0.clone();
            axpy2(0.75, x.view(), &mut y);
            assert_same(&format!("axpy2 {n}x{m} {t:?}"), &y, &want);
            let mut yf = Array2::from_shape_fn((n, m).f(), |(i, j)| y0[[i, j]]);
            axpy2(0.75, x.t().t(), &mut yf);
            assert_same(&format!("axpy2 F {n}x{m} {t:?}"), &yf, &want);
        });
    }
}

#[test]
fn center_into_and_errors() {
    let x = data(17, 31, 5);
    let mean = x.mean_axis(Axis(0)).unwrap();
    for (layout, got) in each_output_layout(17, 31, |o| {
        center_into(x.view(), o).unwrap();
    }) {
        // The mean is loopfuse's (1-D order along the axis): compare within rounding.
        for ((i, j), &g) in got.indexed_iter() {
            let w = x[[i, j]] - mean[j];
            assert!(same(g, w) || (g - w).abs() <= 1e-12 * (1.0 + w.abs()), "{layout} {i} {j}: {g} {w}");
        }
    }
    let mut small = Array2::<f64>::zeros((17, 30));
    let e = center_into(x.view(), small.view_mut()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("[17, 31]") && msg.contains("[17, 30]") && msg.contains("`out`"), "{msg}");
    assert!(small.iter().all(|&v| v == 0.0), "an Err kernel writes nothing");
}

#[test]
fn scalar_fill() {
    let mut o = Array2::<f32>::zeros((3, 5).f());
    fill_const(o.view_mut());
    assert!(o.iter().all(|&v| v == 2.5));
}

// A 1-D value returned as `ArrayD` (random kernels, seed 12: it did not compile).
#[kernel]
fn one_d_as_dyn(w: ArrayView1<f64>, x: ndarray::ArrayViewD<f64>) -> (ndarray::ArrayD<f64>, ndarray::ArrayD<f64>) {
    (w, w * 2.0 + x.sum())
}

#[test]
fn a_1d_value_returned_as_arrayd_keeps_its_shape() {
    let w = ndarray::array![1.0, -0.0, f64::NAN];
    let x = ndarray::ArrayD::from_elem(ndarray::IxDyn(&[2, 2]), 0.25);
    at_every_level(|_| {
        let (a, b) = one_d_as_dyn(w.view(), x.view());
        assert_eq!(a.shape(), &[3]);
        assert_eq!(
            a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            w.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(b.shape(), &[3]);
        assert_eq!((b[0], b[1]), (3.0, 1.0));
        assert!(b[2].is_nan());
    });
}
