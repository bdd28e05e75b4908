//! Scans and returned selections compile warning-free in every result form: `Vec`,
//! `Array1`, `&mut` outputs, tuples, generic, `parallel`, `strict`, integer elements.
#![deny(warnings)]

use loopfuse::{kernel, Float};
use ndarray::{Array1, ArrayView1};

#[kernel]
fn cumulative(x: &[f64]) -> Vec<f64> {
    x.cumsum()
}

#[kernel]
fn vwap(p: ArrayView1<f64>, v: ArrayView1<f64>) -> Array1<f64> {
    (p * v).cumsum() / v.cumsum()
}

#[kernel]
fn into(x: &[f32], out: &mut [f32]) {
    out[..] = x.cummax() - x.cummin();
}

#[kernel(parallel)]
fn par(x: &[f64]) -> (Vec<f64>, Vec<f64>, f64) {
    (x.cumprod(), x[x > 0.0], x.sum())
}

#[kernel(strict)]
fn strict<T: Float>(x: &[T]) -> Vec<T> {
    x.cumsum().cumsum()
}

#[kernel]
fn ints(x: &[u32]) -> (Vec<u64>, Vec<u32>) {
    ((x as u64).cumsum(), x[x > 3])
}

fn main() {
    assert_eq!(cumulative(&[1.0, 2.0]), [1.0, 3.0]);
    let p = Array1::from(vec![1.0, 3.0]);
    assert_eq!(vwap(p.view(), p.view()).to_vec(), [1.0, 2.5]);
    let mut out = [0.0f32; 2];
    into(&[1.0, 2.0], &mut out);
    assert_eq!(out, [0.0, 1.0]);
    assert_eq!(par(&[2.0, -1.0]).1, [2.0]);
    assert_eq!(strict(&[1.0f64, 1.0]), [1.0, 3.0]);
    assert_eq!(ints(&[4, 1]), (vec![4, 5], vec![4]));
}
