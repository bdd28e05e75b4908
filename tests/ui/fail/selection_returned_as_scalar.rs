use loopfuse::kernel;

#[kernel]
fn f(x: &[f64]) -> f64 {
    x[x > 0.0]
}

fn main() {}
