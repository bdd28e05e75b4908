// This case intentionally breaks the one-error-per-file rule: it checks that three
// different unsupported expressions in one kernel are all reported by one compile,
// each on its own tokens.
use loopfuse::kernel;

#[kernel]
fn three_mistakes(x: &[f64]) -> f64 {
    let a = x.windows(2);
    let b = x.to_vec();
    let c = |v: f64| v + 1.0;
    x.sum()
}

fn main() {}
