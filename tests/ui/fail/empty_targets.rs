use loopfuse::kernel;

#[kernel(targets())]
fn total(x: &[f64]) -> f64 {
    x.sum()
}

fn main() {}
