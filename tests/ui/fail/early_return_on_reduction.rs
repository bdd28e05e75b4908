use loopfuse::kernel;

#[kernel]
fn normalized_max(x: &[f64]) -> f64 {
    if x.sum() == 0.0 {
        return 0.0;
    }
    x.max() / x.sum()
}

fn main() {}
