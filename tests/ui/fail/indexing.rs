// Element reads outside loops are of inputs; an output is written by index in a loop.
use loopfuse::kernel;

#[kernel]
fn first(x: &[f64], out: &mut [f64]) -> f64 {
    out[..] = x * 2.0;
    out[0]
}

fn main() {}
