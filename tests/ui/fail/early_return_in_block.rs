use loopfuse::kernel;

#[kernel]
fn half(x: &[f64]) -> f64 {
    let s = {
        if x.is_empty() {
            return 0.0;
        }
        x.sum()
    };
    s / 2.0
}

fn main() {}
