use loopfuse::kernel;

#[kernel]
async fn count(x: &[f64]) -> usize {
    x.len()
}

fn main() {}
