use loopfuse::kernel;

#[kernel]
fn spin(x: &[f64]) -> f64 {
    let mut s = 0.0;
    loop {
        s += 1.0;
        if s > 10.0 {
            break;
        }
    }
    s + x.len() as f64
}

fn main() {}
