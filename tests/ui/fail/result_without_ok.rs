use loopfuse::{kernel, KernelError};

fn non_empty(n: usize) -> Result<usize, KernelError> {
    Ok(n)
}

#[kernel]
fn count(x: &[f64]) -> Result<usize, KernelError> {
    non_empty(x.len())
}

fn main() {}
