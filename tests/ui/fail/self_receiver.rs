use loopfuse::kernel;

struct Counter;

impl Counter {
    #[kernel]
    fn count(&self, x: &[f64]) -> usize {
        x.len()
    }
}

fn main() {}
