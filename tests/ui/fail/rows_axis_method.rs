use loopfuse::kernel;
use ndarray::{ArrayView2, Axis};

#[kernel]
fn f(x: ArrayView2<f64>) -> f64 {
    let mut t = 0.0;
    for row in x.outer_iter() {
        t += row.sum_axis(Axis(0)).sum();
    }
    t
}

fn main() {}
