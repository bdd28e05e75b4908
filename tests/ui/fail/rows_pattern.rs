use loopfuse::kernel;
use ndarray::ArrayView2;

#[kernel]
fn f(x: ArrayView2<f64>) -> f64 {
    let mut t = 0.0;
    for (a, b) in x.outer_iter() {
        t += a.sum();
    }
    t
}

fn main() {}
