use loopfuse::kernel;

#[kernel(parallel)]
fn count(x: &[f64]) -> usize {
    x.len()
}

fn main() {}
