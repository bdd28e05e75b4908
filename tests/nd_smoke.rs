use loopfuse::kernel;
use ndarray::{array, Array1, Array2, ArrayView1, ArrayView2, Axis};

#[kernel]
pub fn standardize_cols(x: ArrayView2<f64>) -> Array2<f64> {
    (x - x.mean_axis(Axis(0))) / x.std_axis(Axis(0), 0.0)
}

#[kernel]
pub fn softmax_rows(x: ArrayView2<f64>) -> Array2<f64> {
    let e = (x - x.max_axis(Axis(1)).insert_axis(Axis(1))).exp();
    e / e.sum_axis(Axis(1)).insert_axis(Axis(1))
}

#[kernel]
pub fn matvec(a: ArrayView2<f64>, v: ArrayView1<f64>) -> Array1<f64> {
    (a * v).sum_axis(Axis(1))
}

#[kernel]
pub fn sum2(x: ArrayView2<f64>) -> f64 {
    x.sum()
}

#[test]
fn smoke() {
    let x = array![[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]];
    let s = standardize_cols(x.view());
    assert_eq!(s[[0, 0]], -1.0);
    let p = softmax_rows(x.view());
    assert!((p.row(0).sum() - 1.0).abs() < 1e-12);
    let v = array![1.0, 0.5, 2.0];
    assert_eq!(matvec(x.view(), v.view()), array![8.0, 23.0]);
    assert_eq!(sum2(x.view()), 24.0);
    assert_eq!(sum2(x.t()), 24.0);
}
