//! N-d kernels of every kind compile warning-free in a `#![deny(warnings)]` crate, with
//! `Axis` imported, and with ndarray paths written in full.
#![deny(warnings)]

use loopfuse::{kernel, KernelError};
use ndarray::{array, Array1, Array2, ArrayD, ArrayView1, ArrayView2, ArrayView3, ArrayViewD, ArrayViewMut2, Axis};

#[kernel]
pub fn standardize_cols(x: ArrayView2<f64>) -> Array2<f64> {
    (x - x.mean_axis(Axis(0))) / x.std_axis(Axis(0), 0.0)
}

#[kernel]
pub fn matvec(a: ArrayView2<f64>, v: ArrayView1<f64>) -> Array1<f64> {
    a.dot(&v)
}

#[kernel]
pub fn both(x: &ndarray::Array2<f32>) -> (Array1<f32>, f32) {
    (x.max_axis(ndarray::Axis(1)), x.sum())
}

#[kernel]
pub fn means(x: ArrayView3<f64>) -> ndarray::Array2<f64> {
    x.mean_axis(Axis(2)).unwrap()
}

#[kernel]
pub fn dynamic(x: ArrayViewD<f64>) -> Result<ArrayD<f64>, KernelError> {
    Ok((x * 2.0).t().exp())
}

#[kernel]
pub fn into(x: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
    out[..] = x.t() + 1.0;
}

/// ndarray's spellings: references, `view()`, shape queries.
#[kernel]
pub fn ndarray_style(x: ArrayView2<f64>) -> (Array2<f64>, f64) {
    let m = x.view().mean_axis(Axis(0));
    (&x - &m, x.sum() / x.len() as f64 + (x.nrows() * 10 + x.ncols() + x.len_of(Axis(1))) as f64)
}

#[kernel(strict)]
pub fn strict_sums(x: ArrayView2<f64>) -> (Array1<f64>, f64) {
    (x.sum_axis(Axis(1)), x.sum())
}

fn main() {
    let (c, s) = ndarray_style(array![[1.0, 2.0], [3.0, 6.0]].view());
    assert_eq!((c, s), (array![[-1.0, -2.0], [1.0, 2.0]], 3.0 + 24.0));
    assert_eq!(strict_sums(array![[1.0, 2.0], [3.0, 6.0]].view()), (array![3.0, 9.0], 12.0));
    let x = array![[1.0, 2.0], [3.0, 5.0]];
    assert_eq!(matvec(x.view(), array![1.0, 1.0].view()), array![3.0, 8.0]);
    assert_eq!(standardize_cols(x.view())[[0, 0]], -1.0);
    assert_eq!(both(&x.mapv(|v| v as f32)), (array![2.0, 5.0], 11.0));
    assert_eq!(means(x.view().insert_axis(Axis(0))), array![[1.5, 4.0]]);
    assert_eq!(dynamic(x.view().into_dyn()).unwrap().shape(), &[2, 2]);
    let mut o = Array2::zeros((2, 2));
    into(x.view(), o.view_mut());
    assert_eq!(o, array![[2.0, 4.0], [3.0, 6.0]]);
}
