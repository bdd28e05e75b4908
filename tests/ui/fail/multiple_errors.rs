// This case intentionally breaks the one-error-per-file rule: three different unsupported
// expressions in one kernel must all be reported by one compile, each on its own tokens.
use loopfuse::kernel;

#[kernel]
fn three_mistakes(x: &[f64]) -> f64 {
    let first = x.to_vec();
    let twice = |v: f64| v * 2.0;
    println!("{first:?}");
    twice(first)
}

fn main() {}
