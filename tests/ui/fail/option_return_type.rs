use loopfuse::kernel;

#[kernel]
fn largest(x: &[f64]) -> Option<f64> {
    x.max()
}

fn main() {}
