use loopfuse::kernel;

#[kernel]
fn total(x: &[f64]) -> f64 {
    let s = 1.0;
    x.sum() + s.sum()
}

fn main() {}
