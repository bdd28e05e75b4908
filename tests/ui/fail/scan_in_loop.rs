use loopfuse::kernel;

#[kernel]
fn f(x: &[f64], out: &mut [f64]) {
    for i in 0..x.len() {
        out[i] = x[i].cumsum();
    }
}

fn main() {}
