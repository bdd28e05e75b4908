use loopfuse::kernel;

#[kernel]
fn total(x: Vec<f64>) -> f64 {
    x.sum()
}

fn main() {}
