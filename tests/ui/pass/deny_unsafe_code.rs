//! A crate that denies `unsafe_code` can still define kernels: the generated dispatch calls
//! its `#[target_feature]` clones in `unsafe` blocks under a local `#[allow(unsafe_code)]`.
//! (`forbid` cannot be overridden by `allow`; see the README in this folder.)
#![deny(unsafe_code)]
#![deny(warnings)]

use loopfuse::kernel;

#[kernel]
fn total(x: &[f64]) -> f64 {
    x.sum()
}

fn main() {
    assert_eq!(total(&[1.0, 2.0]), 3.0);
}
