use loopfuse::kernel;

#[kernel]
fn scaled(a: f64) -> f64 {
    let twice = |v: f64| v * 2.0;
    twice(a)
}

fn main() {}
