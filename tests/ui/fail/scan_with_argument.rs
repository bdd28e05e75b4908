use loopfuse::kernel;

#[kernel]
fn f(x: &[f64]) -> Vec<f64> {
    x.cumsum(0)
}

fn main() {}
