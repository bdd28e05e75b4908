use loopfuse::kernel;

#[kernel(strict, strict)]
fn count(x: &[f64]) -> usize {
    x.len()
}

fn main() {}
