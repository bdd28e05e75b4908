use loopfuse::kernel;

#[kernel]
fn scaled(x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    for i in 0..x.len() {
        out[i] = x[i];
    }
    out * 2.0
}

fn main() {}
