use loopfuse::kernel;

#[kernel(python)]
pub fn total(x: &[f64; 4]) -> f64 {
    x.sum()
}

fn main() {}
