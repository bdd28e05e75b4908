//! `#[kernel(parallel)]` kernels of every family compile warning-free in a crate that denies
//! warnings and unsafe code, alone and with `strict` and `targets(..)`.
#![deny(unsafe_code)]
#![deny(warnings)]

use loopfuse::{kernel, KernelError};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

#[kernel(parallel)]
fn softmax(x: &[f64]) -> Vec<f64> {
    let e = (x - x.max()).exp();
    e / e.sum()
}

#[kernel(parallel)]
fn stats(x: &[f32]) -> (f32, usize, bool) {
    (x.var(), x.argmax(), (x > 0.0).any())
}

#[kernel(parallel)]
fn axpy(a: f64, x: ArrayView1<f64>, y: ArrayViewMut1<f64>) {
    y += a * x;
}

#[kernel(parallel)]
fn try_dot(x: &[f64], y: &[f64]) -> Result<f64, KernelError> {
    Ok(x.dot(y))
}

#[kernel(parallel, strict, targets(v3))]
fn loops(x: &[f64], c: &mut [f64]) -> f64 {
    let mut s = 0.0;
    for v in x {
        s += v * 2.0;
    }
    let mut acc = 0.0;
    for i in 0..x.len() {
        acc += x[i] - s;
        c[i] = acc;
    }
    acc
}

// Loops in order by rows (their iterations on the pool), with an inner run that vectorizes
// over strided windows, a per-row loop over the row's elements, and a sum carried across
// iterations (serial).
#[kernel(parallel)]
fn gram_rows(x: ArrayView2<f64>, mut run: ArrayViewMut2<f64>) -> (Array2<f64>, Array1<f64>, f64) {
    let mut g = Array2::zeros((x.ncols(), x.ncols()));
    for i in 0..x.ncols() {
        for j in 0..x.ncols() {
            let mut s = 0.0;
            for k in 0..x.nrows() {
                s += x[[k, i]] * x[[k, j]];
            }
            g[[i, j]] = s;
        }
    }
    let mut norms = Array1::zeros(x.nrows());
    for (i, row) in x.outer_iter().enumerate() {
        let mut s = 0.0;
        for v in row.iter() {
            s += v * v;
        }
        norms[i] = s;
    }
    for i in 0..x.nrows() {
        let mut m = 0.0;
        for j in 0..x.ncols() {
            m = m * 0.5 + x[[i, j]];
            run[[i, j]] = m;
        }
    }
    let mut e = 0.0;
    for i in 0..x.nrows() {
        for j in (i + 1)..x.nrows() {
            e += (x[[i, 0]] - x[[j, 0]]).abs();
        }
    }
    (g, norms, e)
}

fn main() {
    let x = vec![0.5; 300_000];
    let mut c = vec![0.0; 300_000];
    assert_eq!(softmax(&x)[0], 1.0 / 300_000.0);
    let xf = vec![1.0f32; 3];
    assert_eq!(stats(&xf), (0.0, 0, true));
    let mut y = ndarray::Array1::zeros(300_000);
    axpy(2.0, ndarray::Array1::from(x.clone()).view(), y.view_mut());
    assert_eq!(y[7], 1.0);
    assert_eq!(try_dot(&x, &x).unwrap(), 75_000.0);
    loops(&x, &mut c);
    let m = Array2::from_shape_fn((5, 3), |(i, j)| (i + j) as f64);
    let mut run = Array2::zeros((5, 3));
    let (g, norms, e) = gram_rows(m.view(), run.view_mut());
    assert_eq!((g[[0, 0]], norms[1], e, run[[4, 0]]), (30.0, 14.0, 20.0, 4.0));
}
