//! `#[kernel(parallel)]` kernels of every family compile warning-free in a crate that denies
//! warnings and unsafe code, alone and with `strict` and `targets(..)`.
#![deny(unsafe_code)]
#![deny(warnings)]

use loopfuse::{kernel, KernelError};
use ndarray::{ArrayView1, ArrayViewMut1};

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
}
