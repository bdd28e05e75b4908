use loopfuse::kernel;
use ndarray::ArrayView2;

#[kernel]
fn f(x: ArrayView2<f64>) -> usize {
    x.argmax()
}

fn main() {}
