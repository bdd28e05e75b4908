use loopfuse::kernel;

#[kernel]
fn magnitudes(x: &[f64]) -> Vec<f64> {
    x.abs().sum()
}

fn main() {}
