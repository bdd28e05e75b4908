//! A strided input (every 2nd element of 2e5, and reversed): the pass over the view's
//! strided loop vs the old path (gather the whole input into a `Vec`, then the slice loop).
//! Best of N, ns per element; pin with `taskset -c 1`.
//!
//! ```text
//! cargo run --release --example strided_probe
//! ```

use loopfuse_runtime::pass::pass;
use loopfuse_runtime::reduce::Sum;
use loopfuse_runtime::view::{View, ViewMut};
use loopfuse_runtime::KernelInput;
use ndarray::{s, Array1, ArrayView1};
use std::cell::Cell;
use std::hint::black_box;
use std::time::Instant;

#[inline(never)]
fn old(x: ArrayView1<f64>, out: &mut [f64]) -> f64 {
    // What `KernelInput::contiguous` did before views: gather a strided input whole.
    let x: Vec<f64> = match x.as_slice() {
        Some(s) => s.to_vec(),
        None => x.iter().copied().collect(),
    };
    let cells = Cell::from_mut(out).as_slice_of_cells();
    pass(x.len(), (&x[..],), (Sum::new(),), (cells,), |(x,)| ((x,), (x * 1.5,))).0
}

#[inline(never)]
fn new(x: View<f64>, out: ViewMut<f64>) -> f64 {
    pass(x.len(), (x,), (Sum::new(),), (&out,), |(x,)| ((x,), (x * 1.5,))).0
}

#[inline(never)]
fn new_noalias(x: View<f64>, out: &mut [f64]) -> f64 {
    let out = ViewMut::from(out);
    pass(x.len(), (x,), (Sum::new(),), (&out,), |(x,)| ((x,), (x * 1.5,))).0
}

fn best(rounds: usize, n: usize, mut f: impl FnMut()) -> f64 {
    let mut b = f64::INFINITY;
    for _ in 0..rounds {
        let t = Instant::now();
        f();
        b = b.min(t.elapsed().as_secs_f64());
    }
    b * 1e9 / n as f64
}

fn main() {
    let n = 100_000;
    let base = Array1::from((0..2 * n).map(|i| i as f64 * 1e-3).collect::<Vec<_>>());
    let mut out = vec![0.0; n];
    for (name, x) in
        [("stride 2", base.slice(s![..;2])), ("stride -2", base.slice(s![..;-2])), ("contiguous", base.slice(s![..n]))]
    {
        let (mut a, mut b) = (0.0, 0.0);
        let mut t_old = f64::INFINITY;
        let mut t_new = f64::INFINITY;
        for _ in 0..5 {
            t_old = t_old.min(best(100, n, || a = old(black_box(x.view()), black_box(&mut out))));
            t_new = t_new.min(best(100, n, || b = new(black_box(x.as_view()), black_box(ViewMut::from(&mut out[..])))));
        }
        let mut t_na = f64::INFINITY;
        for _ in 0..5 {
            t_na = t_na.min(best(100, n, || b = new_noalias(black_box(x.as_view()), black_box(&mut out))));
        }
        assert_eq!(a, b);
        println!("{name:10}: gather + slice loop {t_old:.3} ns/elem, view {t_new:.3} ns/elem, view from a &mut param {t_na:.3}");
    }
}
