use loopfuse::kernel;

#[kernel]
fn shifted(x: &[f64]) -> Vec<f64> {
    x += 1.0;
    x
}

fn main() {}
