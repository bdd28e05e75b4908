use loopfuse::kernel;

#[kernel]
fn doubled(x: &[f64]) -> Vec<f64> {
    let twice = |v: f64| v * 2.0;
    twice(x)
}

fn main() {}
