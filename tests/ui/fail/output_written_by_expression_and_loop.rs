use loopfuse::kernel;

#[kernel]
fn fill(x: &[f64], out: &mut [f64]) {
    out[..] = x * 2.0;
    let mut acc = 0.0;
    for i in 0..x.len() {
        acc += x[i];
        out[i] = acc;
    }
}

fn main() {}
