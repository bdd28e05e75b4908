use loopfuse::kernel;

type Real = f64;

#[kernel(python)]
pub fn total(x: &[Real]) -> f64 {
    x.sum()
}

fn main() {}
