use loopfuse::{kernel, KernelError};

#[kernel]
fn checked_dot(a: &[f64], b: &[f64]) -> Result<f64, KernelError> {
    a.dot(b)
}

fn main() {}
