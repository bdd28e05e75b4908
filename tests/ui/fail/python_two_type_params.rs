use loopfuse::{kernel, Float};

#[kernel(python)]
pub fn mixed<T: Float, U: Float>(x: &[T], y: &[U]) -> T {
    x.sum()
}

fn main() {}
