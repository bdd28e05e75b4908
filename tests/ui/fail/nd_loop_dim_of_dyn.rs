// `dim()` of an `IxDyn` array is an `IxDyn`, which a kernel does not build.
use loopfuse::kernel;
use ndarray::ArrayViewD;

#[kernel]
fn corner(x: ArrayViewD<f64>) -> f64 {
    let (n, m) = x.dim();
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..m {
            s += x[[i, j]];
        }
    }
    s
}

fn main() {}
