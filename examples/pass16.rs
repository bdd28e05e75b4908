//! The cost of a tiny pass, for callgrind: a sum and an output over 16 elements, through
//! slices (the API the code generator uses today) or through views.
//!
//! ```text
//! cargo build --release --example pass16
//! valgrind --tool=callgrind --toggle-collect='pass16::run*' target/release/examples/pass16 slice 1000
//! valgrind --tool=callgrind --toggle-collect='pass16::run*' target/release/examples/pass16 view 1000
//! ```
//!
//! Instructions per call = total / 1000. `strided` runs the views' strided loop.

use loopfuse_runtime::pass::pass;
use loopfuse_runtime::reduce::Sum;
use loopfuse_runtime::view::{View, ViewMut};
use std::cell::Cell;
use std::hint::black_box;

#[inline(never)]
fn run_slice(x: &[f64], out: &mut [f64]) -> f64 {
    let cells = Cell::from_mut(out).as_slice_of_cells();
    pass(x.len(), (x,), (Sum::new(),), (cells,), |(x,)| ((x,), (x * 2.0,))).0
}

#[inline(never)]
fn run_view(x: View<f64>, out: ViewMut<f64>) -> f64 {
    pass(x.len(), (x,), (Sum::new(),), (&out,), |(x,)| ((x,), (x * 2.0,))).0
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "slice".into());
    let calls: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let x: Vec<f64> = (0..32).map(|i| i as f64 * 0.5).collect();
    let mut out = vec![0.0; 32];
    let mut total = 0.0;
    for _ in 0..calls {
        total += match mode.as_str() {
            "slice" => run_slice(black_box(&x[..16]), black_box(&mut out[..16])),
            "view" => run_view(black_box(View::from(&x[..16])), black_box(ViewMut::from(&mut out[..16]))),
            _ => {
                let x = ndarray::ArrayView1::from(&x[..]);
                let out = ndarray::ArrayViewMut1::from(&mut out[..]);
                let (xs, os) = (x.slice_move(ndarray::s![..;2]), out.slice_move(ndarray::s![..;2]));
                run_view(black_box(View::from(xs)), black_box(ViewMut::from(os)))
            }
        };
    }
    println!("{mode}: {total}");
}
