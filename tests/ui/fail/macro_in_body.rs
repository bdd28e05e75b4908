use loopfuse::kernel;

#[kernel]
fn count(x: &[f64]) -> usize {
    println!("counting");
    x.len()
}

fn main() {}
