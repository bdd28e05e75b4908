use loopfuse::kernel;

#[kernel]
fn magnitude(x: &[f64]) -> f64 {
    x.abs()
}

fn main() {}
