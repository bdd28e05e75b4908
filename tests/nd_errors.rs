//! N-d shape errors: each mismatch asserted by its message; a `Result` kernel returns `Err`
//! before any work.

use loopfuse::{kernel, KernelError};
use ndarray::{array, Array1, Array2, ArrayD, ArrayView1, ArrayView2, ArrayViewD, Axis, IxDyn};

#[kernel]
fn add(x: ArrayView2<f64>, w: ArrayView1<f64>) -> Result<Array2<f64>, KernelError> {
    Ok(x + w)
}

#[kernel]
fn argmax_rows(x: ArrayView2<f64>) -> Result<Array1<usize>, KernelError> {
    Ok(x.argmax_axis(Axis(1)))
}

#[kernel]
fn dyn_sums(x: ArrayViewD<f64>) -> Result<ArrayD<f64>, KernelError> {
    Ok(x.sum_axis(Axis(2)))
}

#[kernel]
fn dyn_insert(x: ArrayViewD<f64>) -> Result<ArrayD<f64>, KernelError> {
    Ok(x.insert_axis(Axis(2)) * 2.0)
}

#[kernel]
fn centered_rows(x: ArrayView2<f64>) -> Array2<f64> {
    x - x.sum_axis(Axis(1))
}

#[kernel]
fn panicking_add(x: ArrayView2<f64>, w: ArrayView1<f64>) -> Array2<f64> {
    x + w
}

#[test]
fn broadcast_mismatch_is_err_naming_both_operands_and_shapes() {
    let x = Array2::<f64>::zeros((3, 4));
    let w = Array1::<f64>::zeros(5);
    let e = add(x.view(), w.view()).unwrap_err();
    assert_eq!(e.to_string(), "kernel `add`: cannot broadcast `w` with shape [5] against `x` with shape [3, 4]");
    // Length 1 stretches, as in NumPy.
    let one = array![10.0];
    assert_eq!(add(x.view(), one.view()).unwrap(), Array2::from_elem((3, 4), 10.0));
}

#[test]
fn empty_axis_is_err() {
    let x = Array2::<f64>::zeros((2, 0));
    let e = argmax_rows(x.view()).unwrap_err();
    assert!(matches!(e, KernelError::Empty { kernel: "argmax_rows", .. }), "{e}");
    assert_eq!(argmax_rows(array![[1.0, 3.0, 2.0]].view()).unwrap(), array![1]);
}

#[test]
fn dyn_axis_out_of_bounds_is_err() {
    let x = ArrayD::<f64>::zeros(IxDyn(&[2, 3]));
    let e = dyn_sums(x.view()).unwrap_err();
    assert!(matches!(e, KernelError::Axis { kernel: "dyn_sums", axis: 2, rank: 2, .. }), "{e}");
    let y = ArrayD::<f64>::ones(IxDyn(&[2, 3, 4]));
    assert_eq!(dyn_sums(y.view()).unwrap(), ArrayD::from_elem(IxDyn(&[2, 3]), 4.0));
}

#[test]
fn dyn_insert_axis_past_the_rank_is_err() {
    let x = ArrayD::<f64>::ones(IxDyn(&[3]));
    let e = dyn_insert(x.view()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "kernel `dyn_insert`: `x.insert_axis(Axis(2))`: axis 2 is out of bounds for an array of rank 1"
    );
    let y = ArrayD::<f64>::ones(IxDyn(&[2, 3]));
    assert_eq!(dyn_insert(y.view()).unwrap(), ArrayD::from_elem(IxDyn(&[2, 3, 1]), 2.0));
}

#[test]
#[should_panic(expected = "kernel `panicking_add`: cannot broadcast `w` with shape [2] against `x` with shape [3, 4]")]
fn broadcast_mismatch_panics_at_the_caller() {
    panicking_add(Array2::zeros((3, 4)).view(), Array1::zeros(2).view());
}

#[test]
fn a_reduced_array_that_would_grow_the_shape_is_an_error() {
    // (3, 3) - (3,) aligns the sums with the columns: fine for a square array.
    let x = Array2::from_shape_fn((3, 3), |(i, j)| (i * 3 + j) as f64);
    let want = &x - &x.sum_axis(Axis(1));
    assert_eq!(centered_rows(x.view()), want);
    // (2, 3) - (2,): NumPy refuses it too.
    let r = std::panic::catch_unwind(|| centered_rows(Array2::zeros((2, 3)).view()));
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("cannot broadcast") && msg.contains("[2]") && msg.contains("[2, 3]"), "{msg}");
}
