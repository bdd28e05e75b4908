// Kernels that once were wrongly rejected: `Result::Ok(..)` and `.len()` of a constant.
#![deny(warnings)]

use loopfuse::{kernel, KernelError};

// `Result::Ok(..)` is `Ok(..)`; today: "a kernel returning `Result` must end in `Ok(..)`".
#[kernel]
fn checked_dot(a: &[f64], b: &[f64]) -> Result<f64, KernelError> {
    Result::Ok(a.dot(b))
}

const WEIGHTS: [f64; 3] = [1.0, 2.0, 3.0];

// A constant from outside the kernel is a scalar value; `WEIGHTS.len()` is plain Rust.
// Today: "`len()` reduces an array, but this is a scalar".
#[kernel]
fn per_weight(x: &[f64]) -> f64 {
    x.sum() / WEIGHTS.len() as f64
}

fn main() {
    assert_eq!(checked_dot(&[1.0, 2.0], &[3.0, 4.0]), Ok(11.0));
    assert_eq!(per_weight(&[3.0, 3.0]), 2.0);
}
