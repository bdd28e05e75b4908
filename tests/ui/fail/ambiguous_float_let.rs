// E0689 from rustc, on the user's own `let` (the macro keeps the user's spans).
use loopfuse::kernel;

#[kernel]
fn scaled(x: &[f64]) -> f64 {
    let s = 2.0;
    x.sum() * s.sqrt()
}

fn main() {}
