//! Every parameter kind, every result kind and every option compile warning-free, and the
//! user's doc comments, attributes and visibility are kept.
#![deny(warnings)]

use loopfuse::{kernel, Float, KernelError};
use ndarray::{array, Array1, ArrayView1, ArrayViewMut1};

// ---- parameters ----------------------------------------------------------------------

#[kernel]
fn from_slice(x: &[f64]) -> f64 {
    x.sum()
}

#[kernel]
fn from_vec(x: &Vec<f32>) -> f32 {
    x.max()
}

#[kernel]
fn from_array(x: &[i32; 4]) -> i32 {
    x.sum()
}

#[kernel]
fn from_view(x: ArrayView1<f64>) -> f64 {
    x.mean()
}

#[kernel]
fn from_owned(x: &Array1<f64>) -> f64 {
    x.dot(x)
}

#[kernel]
fn into_slice(out: &mut [f64], x: &[f64]) {
    out[..] = x * 2.0;
}

#[kernel]
fn into_vec(y: &mut Vec<f64>, a: f64, x: &[f64]) {
    y += a * x;
}

#[kernel]
fn into_view(out: ArrayViewMut1<f64>, v: f64) {
    out[..] = v;
}

// ---- results -------------------------------------------------------------------------

#[kernel]
fn to_vec(x: &[f64]) -> Vec<f64> {
    (x - x.mean()).abs()
}

#[kernel]
fn to_array1(x: &[f64]) -> Array1<f64> {
    if x > 0.0 { x } else { 0.0 }
}

#[kernel]
fn to_tuple(x: &[f64]) -> (f64, usize, Vec<f64>) {
    (x.min(), x.argmax(), x * x)
}

#[kernel]
fn to_result(a: &[f64], b: &[f64]) -> Result<f64, KernelError> {
    Ok(a.dot(b))
}

// ---- options -------------------------------------------------------------------------

#[kernel(strict)]
fn strict_sum(x: &[f64]) -> f64 {
    x.sum()
}

#[kernel(targets(v3, v4))]
fn limited(x: &[f64]) -> Vec<f64> {
    x.sqrt()
}

#[kernel(strict, targets(generic, v2))]
fn both_options(x: &[f32]) -> f32 {
    x.prod()
}

#[kernel]
fn generic_mean<T: Float>(x: &[T]) -> T {
    x.mean()
}

// ---- attributes, docs, visibility, modules --------------------------------------------

/// Root mean square of `x`.
///
/// The doc comment stays on the function; the fusion plan is appended below it.
#[kernel]
#[inline]
#[must_use]
pub(crate) fn rms(x: &[f64]) -> f64 {
    (x * x).mean().sqrt()
}

mod stats {
    use loopfuse::kernel;

    /// Population variance, two passes.
    #[kernel]
    pub fn variance(x: &[f64]) -> f64 {
        let m = x.mean();
        let d = x - m;
        (d * d).mean()
    }
}

fn main() {
    let v = vec![1.0, -2.0, 3.0, -4.0];
    assert_eq!(from_slice(&v), -2.0);
    assert_eq!(from_vec(&vec![1.0f32, 5.0, 2.0]), 5.0);
    assert_eq!(from_array(&[1, 2, 3, 4]), 10);
    let a = Array1::from(v.clone());
    assert_eq!(from_view(a.view()), -0.5);
    assert_eq!(from_owned(&a), 30.0);

    let mut out = [0.0; 4];
    into_slice(&mut out, &v);
    assert_eq!(out, [2.0, -4.0, 6.0, -8.0]);
    let mut y = vec![1.0; 4];
    into_vec(&mut y, 2.0, &v);
    assert_eq!(y, [3.0, -3.0, 7.0, -7.0]);
    let mut z = array![0.0, 0.0, 0.0];
    into_view(z.view_mut(), 1.5);
    assert_eq!(z, array![1.5, 1.5, 1.5]);

    assert_eq!(to_vec(&v), [1.5, 1.5, 3.5, 3.5]);
    assert_eq!(to_array1(&v), array![1.0, 0.0, 3.0, 0.0]);
    assert_eq!(to_tuple(&v), (-4.0, 2, vec![1.0, 4.0, 9.0, 16.0]));
    assert_eq!(to_result(&v, &v), Ok(30.0));
    assert!(to_result(&v, &v[1..]).is_err());

    assert_eq!(strict_sum(&v), -2.0);
    assert_eq!(limited(&[4.0, 9.0]), [2.0, 3.0]);
    assert_eq!(both_options(&[2.0, 3.0]), 6.0);
    assert_eq!(generic_mean(&v), -0.5);
    assert_eq!(generic_mean(&[1.0f32, 2.0]), 1.5);

    assert_eq!(rms(&[3.0, 3.0]), 3.0);
    assert_eq!(stats::variance(&[1.0, 3.0]), 1.0);
}
