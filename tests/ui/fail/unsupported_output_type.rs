use loopfuse::kernel;
use std::collections::HashMap;

#[kernel]
fn fill(out: &mut HashMap<u32, f64>, v: f64) {
    out[..] = v;
}

fn main() {}
