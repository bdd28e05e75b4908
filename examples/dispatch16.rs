//! The cost of a kernel call on 16 elements, for instruction counts: `calls` calls of two
//! small kernels (a reduction and an array output).
//!
//! ```text
//! cargo build --release --example dispatch16
//! for c in 1000 2000; do valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/dispatch16 $c 2>&1 | grep refs; done
//! ```
//! (instructions per call = difference / 1000; valgrind has no AVX-512, so this runs the v3
//! clones).

use loopfuse::kernel;
use std::hint::black_box;

#[kernel]
fn mean_distance_from_zero(arr: &[f64]) -> f64 {
    arr.abs().mean()
}

#[kernel]
fn add_one(arr: &[f64]) -> Vec<f64> {
    arr + 1.0
}

fn main() {
    let calls: usize = std::env::args().nth(1).and_then(|c| c.parse().ok()).unwrap_or(1000);
    let which = std::env::args().nth(2).unwrap_or_default();
    let x: Vec<f64> = (0..16).map(|i| i as f64 - 7.5).collect();
    let mut acc = 0.0;
    for _ in 0..calls {
        if which != "vec" {
            acc += mean_distance_from_zero(black_box(&x));
        }
        if which != "mdz" {
            acc += add_one(black_box(&x))[3];
        }
    }
    println!("{acc}");
}
