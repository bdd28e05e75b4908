use loopfuse::kernel;

#[kernel]
fn fill(x: &[f64], out: &mut [f64]) {
    out[..] = x * 2.0;
    if x.len() < 2 {
        return;
    }
    out[..] = x * 3.0;
}

fn main() {}
