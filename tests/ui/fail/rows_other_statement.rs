use loopfuse::kernel;
use ndarray::ArrayView2;

#[kernel]
fn f(x: ArrayView2<f64>, y: &mut [f64]) {
    for row in x.outer_iter() {
        y[0] = row.sum();
    }
}

fn main() {}
