use loopfuse::kernel;

// The `python` option needs loopfuse's `python` feature (these tests build without it).
#[kernel(python)]
pub fn mean(x: &[f64]) -> f64 {
    x.mean()
}

fn main() {}
