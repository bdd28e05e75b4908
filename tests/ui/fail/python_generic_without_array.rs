use loopfuse::{kernel, Float};

#[kernel(python)]
pub fn scale<T: Float>(a: T, x: &[f64]) -> f64 {
    x.sum()
}

fn main() {}
