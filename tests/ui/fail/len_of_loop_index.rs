use loopfuse::kernel;

#[kernel]
fn f(a: &[f64], out: &mut [f64]) {
    for i in 1..a.len() - 1 {
        let j = i;
        out[i] = j.len() as f64;
    }
}

fn main() {}
