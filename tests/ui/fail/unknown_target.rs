use loopfuse::kernel;

#[kernel(targets(v3, v9))]
fn count(x: &[f64]) -> usize {
    x.len()
}

fn main() {}
