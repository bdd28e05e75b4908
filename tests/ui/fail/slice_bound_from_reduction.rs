use loopfuse::kernel;

#[kernel]
fn before_peak(x: &[f64]) -> f64 {
    x[..x.argmax()].sum()
}

fn main() {}
