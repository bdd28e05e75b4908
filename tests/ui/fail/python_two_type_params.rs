use loopfuse::{kernel, Float};

#[kernel(python)]
#[allow(unused_variables)]
pub fn mixed<T: Float, U: Float>(x: &[T], y: &[U]) -> T {
    x.sum()
}

fn main() {}
