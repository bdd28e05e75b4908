use loopfuse::kernel;

#[kernel]
fn cumulative(x: &[f64]) -> Vec<f64> {
    x.cumsum()
}

fn main() {}
