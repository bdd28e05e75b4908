//! `targets(..)` with every level name the runtime knows (`Target::ALL`, checked against
//! this list by `tests/levels.rs`): the macro accepts each, and the runtime's table of
//! levels has a row for each (an unknown name would not expand).
#![deny(warnings)]

use loopfuse::kernel;

#[kernel(targets(generic, v2, v3, v4, neon))]
fn scaled(x: &[f64]) -> Vec<f64> {
    (x * 2.0).exp()
}

#[kernel(targets(v2))]
fn only_v2(x: &[f64]) -> f64 {
    x.ln().sum()
}

fn main() {
    assert_eq!(scaled(&[0.0]), [1.0]);
    assert_eq!(only_v2(&[1.0]), 0.0);
}
