// Issue 13's constructs compile warning-free: slices as views, element reads, early
// returns, tuple `let`, lazy extrema, `var(ddof)`.
#![deny(warnings)]

use loopfuse::{kernel, KernelError};
use ndarray::{s, Array1, ArrayView1};

#[kernel]
fn diff(x: &[f64]) -> Vec<f64> {
    &x[1..] - &x[..x.len() - 1]
}

#[kernel]
fn try_diff(x: ArrayView1<f64>) -> Result<Array1<f64>, KernelError> {
    Ok(x.slice(s![1..]) - x.slice(s![..x.len() - 1]))
}

#[kernel]
fn sma(x: &[f64], w: usize) -> f64 {
    let n = x.len();
    if w == 0 || n < w {
        return f64::NAN;
    }
    x[n - w..].mean()
}

#[kernel]
fn try_first_gap(x: &[f64]) -> Result<f64, KernelError> {
    if x.len() < 2 {
        return Ok(0.0);
    }
    Ok(x[1] - x[0])
}

#[kernel]
fn summary(x: &[f32]) -> (f32, f32, f32) {
    let (v, s) = (x.var(1.0), x.std(1.0));
    let spread = if x.is_empty() { 0.0 } else { x.max() - x.min() };
    (spread, v, s)
}

#[kernel]
fn unit_out(x: &[f64], out: &mut [f64]) {
    if x.is_empty() {
        return;
    }
    out[..] = &x[..] / x[0];
}

fn main() {
    assert_eq!(diff(&[1.0, 4.0]), vec![3.0]);
    assert_eq!(try_diff(ArrayView1::from(&[1.0, 4.0][..])).unwrap().to_vec(), vec![3.0]);
    assert!(sma(&[1.0], 2).is_nan());
    assert_eq!(try_first_gap(&[1.0, 4.0]), Ok(3.0));
    assert_eq!(summary(&[]).0, 0.0);
    let mut out = [0.0; 2];
    unit_out(&[2.0, 4.0], &mut out);
    assert_eq!(out, [1.0, 2.0]);
}
