use loopfuse::kernel;

#[kernel]
fn total(rows: &[Vec<f64>]) -> f64 {
    rows.sum()
}

fn main() {}
