use loopfuse::{kernel, Float};

#[kernel(python)]
#[allow(unused_variables)]
pub fn scale<T: Float>(a: T, x: &[f64]) -> f64 {
    x.sum()
}

fn main() {}
