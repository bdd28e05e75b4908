use loopfuse::kernel;

#[kernel]
struct Total {
    value: f64,
}

fn main() {}
