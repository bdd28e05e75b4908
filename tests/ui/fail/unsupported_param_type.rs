use loopfuse::kernel;
use std::collections::HashMap;

#[kernel]
fn total(x: &HashMap<u32, f64>) -> f64 {
    x.sum()
}

fn main() {}
