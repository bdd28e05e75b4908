use loopfuse::kernel;
use ndarray::ArrayView2;

#[kernel]
fn f(x: ArrayView2<f64>) -> f64 {
    let mut t = 0.0;
    for row in x.outer_iter() {
        for col in x.columns() {
            t += col.sum();
        }
        t += row.sum();
    }
    t
}

fn main() {}
