use loopfuse::kernel;

#[kernel]
fn positives(x: &[f64]) -> Vec<f64> {
    x[x > 0.0] * 2.0
}

fn main() {}
