use loopfuse::kernel;

#[kernel]
fn positive(x: &[f64]) -> Vec<f64> {
    let mask = x > 0.0;
    let y = if mask { x };
    y
}

fn main() {}
