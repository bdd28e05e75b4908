//! Loop kernels that once failed to compile warning-free (regression cases).
#![deny(warnings)]
use loopfuse::kernel;
use ndarray::ArrayViewMut1;

/// `mut out: ArrayViewMut1<_>` is needed by the same loop in plain Rust.
/// Now: "variable does not need to be mutable" (`unused_mut`).
#[kernel]
pub fn view_output(a: &[f64], mut out: ArrayViewMut1<f64>) {
    for i in 0..a.len() {
        out[i] = a[i] * 3.0;
    }
}

/// A tuple result type passed through a `$r:ty` fragment (an invisible group).
/// Now: "unsupported return type".
macro_rules! tuple_result {
    ($r:ty) => {
        #[kernel]
        pub fn via_ty(x: &[f64]) -> $r {
            let mut s = 0.0;
            for v in x {
                s += v;
            }
            (s, x.max())
        }
    };
}
tuple_result!((f64, f64));

/// A generic loop that runs in order and updates with `+=`: `loopfuse::Float` has no
/// `AddAssign` bound. Now: "binary assignment operation `+=` cannot be applied to type `T`".
#[kernel]
pub fn generic_cumsum<T: loopfuse::Float>(a: &[T], out: &mut [T]) -> T {
    let mut acc = T::from_f64(0.0);
    for i in 0..a.len() {
        acc += a[i];
        out[i] = acc;
    }
    acc
}

fn main() {}
