use loopfuse::kernel;

#[kernel]
fn spread(x: &[f64], d: &[f64]) -> f64 {
    x.var(d)
}

fn main() {}
