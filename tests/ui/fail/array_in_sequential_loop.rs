use loopfuse::kernel;

#[kernel]
fn first_big(x: &[f64]) -> usize {
    let d = x - 1.0;
    let mut i = 0;
    while i < x.len() {
        if d[i] > 0.0 {
            break;
        }
        i += 1;
    }
    i
}

fn main() {}
