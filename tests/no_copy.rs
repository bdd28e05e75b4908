//! Strided and reversed ndarray inputs and outputs are read and written where they lie: a
//! kernel call allocates nothing but its fresh results (issue: a strided input was copied
//! whole, a strided output staged and copied back).
#![allow(unsafe_code)]

use loopfuse::kernel;
use ndarray::{s, Array1, ArrayView1, ArrayViewMut1};

#[path = "../runtime/tests/counting_alloc/mod.rs"]
mod counting_alloc;
use counting_alloc::allocations;

#[kernel]
fn centered_sum(x: ArrayView1<f64>, y: ArrayView1<f64>) -> f64 {
    ((x - y.mean()) * y).sum()
}

#[kernel]
fn axpy(a: f64, x: ArrayView1<f64>, y: ArrayViewMut1<f64>) {
    y += a * x;
}

#[test]
fn strided_kernels_allocate_nothing() {
    let x = Array1::from_iter((0..30_000).map(|i| (i % 97) as f64 - 48.0));
    let (strided, reversed) = (x.slice(s![..;3]), x.slice(s![..;-3]));
    let mut got = 0.0;
    assert_eq!(allocations(|| got = centered_sum(strided, reversed)), 0);
    let (sv, rv) = (strided.to_vec(), reversed.to_vec());
    let m = rv.iter().sum::<f64>() / rv.len() as f64;
    let want: f64 = sv.iter().zip(&rv).map(|(a, b)| (a - m) * b).sum();
    assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "{got} {want}");

    let mut y = Array1::from_iter((0..20_000).map(|i| i as f64));
    let before: Vec<f64> = y.iter().step_by(2).copied().collect();
    assert_eq!(allocations(|| axpy(2.0, strided.slice(s![..10_000]), y.slice_mut(s![..;2]))), 0);
    for (k, (b, x)) in before.iter().zip(strided.iter()).enumerate() {
        assert_eq!(y[2 * k], b + 2.0 * x);
        assert_eq!(y[2 * k + 1], (2 * k + 1) as f64, "odd elements untouched");
    }
}
