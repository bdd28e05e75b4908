use loopfuse::kernel;

#[kernel(parallel(4))]
fn total(x: &[f64]) -> f64 {
    x.sum()
}

fn main() {}
