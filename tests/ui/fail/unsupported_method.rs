use loopfuse::kernel;

#[kernel]
fn copied(x: &[f64]) -> Vec<f64> {
    x.to_vec()
}

fn main() {}
