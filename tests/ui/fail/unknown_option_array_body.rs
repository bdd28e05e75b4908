// Options with an error should still expand with the defaults (tokio-style), so the body
// below is compiled as a kernel and the only error is the one on `fast`.
use loopfuse::kernel;

#[kernel(fast)]
fn total(x: &[f64]) -> f64 {
    x.sum()
}

fn main() {}
