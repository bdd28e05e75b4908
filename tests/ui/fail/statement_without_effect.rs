use loopfuse::kernel;

#[kernel]
fn count(x: &[f64]) -> usize {
    x.len();
    x.len()
}

fn main() {}
