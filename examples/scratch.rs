use loopfuse::kernel;

#[kernel]
pub fn add_multiple(arr: &[f64]) -> Vec<f64> {
    let mut result = arr + 17.0;
    result += 17.0;
    result += 17.0;
    result
}

#[kernel]
pub fn mean_distance_from_zero(arr: &[f64]) -> f64 {
    arr.abs().mean()
}

#[kernel]
pub fn myvar(arr: &[f64]) -> f64 {
    let mean = arr.mean();
    let diff = arr - mean;
    (diff * diff).sum() / arr.len() as f64
}

#[kernel]
pub fn standardize(x: &[f64]) -> Vec<f64> {
    (x - x.mean()) / x.std()
}

#[kernel]
pub fn hypot(x: &[f64], y: &[f64]) -> f64 {
    (x * x + y * y).sqrt().max()
}

#[kernel]
pub fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y += a * x;
}

fn main() {
    timing2();
    let v: Vec<f64> = (0..100).map(|i| i as f64).collect();
    println!("{:?}", &add_multiple(&v)[..3]);
    println!("{}", mean_distance_from_zero(&v));
    println!("{}", myvar(&v));
    println!("{:?}", &standardize(&v)[..3]);
    println!("{}", hypot(&v, &v));
    let mut y = vec![1.0; 100];
    axpy(2.0, &v, &mut y);
    println!("{:?}", &y[..3]);
}

#[allow(dead_code)]
fn timing() {
    use std::time::Instant;
    let n = 100_000;
    let v: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
    for (name, f) in [("mdz", mean_distance_from_zero as fn(&[f64]) -> f64), ("myvar", myvar)] {
        for t in loopfuse::supported_targets() {
            let mut best = f64::MAX;
            let mut r = 0.0;
            for _ in 0..200 {
                let s = Instant::now();
                r = loopfuse::with_target(t, || f(&v));
                best = best.min(s.elapsed().as_secs_f64());
            }
            println!("{name} {:?}: {:.3} ns/elem  ({r:e})", t, best * 1e9 / n as f64);
        }
    }
    for t in loopfuse::supported_targets() {
        let mut best = f64::MAX;
        for _ in 0..200 {
            let s = Instant::now();
            let r = loopfuse::with_target(t, || add_multiple(&v));
            std::hint::black_box(r);
            best = best.min(s.elapsed().as_secs_f64());
        }
        println!("add_multiple {:?}: {:.3} ns/elem", t, best * 1e9 / n as f64);
    }
}

#[allow(dead_code)]
fn timing2() {
    use std::time::Instant;
    let n: usize = std::env::args().nth(1).map(|a| a.parse().unwrap()).unwrap_or(100_000);
    let v: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
    for _ in 0..3 {
        let s = Instant::now();
        let mut acc = 0.0;
        for _ in 0..200_000_000 / n {
            acc += mean_distance_from_zero(std::hint::black_box(&v));
        }
        let dt = s.elapsed().as_secs_f64() / (200_000_000 / n) as f64;
        let s2 = Instant::now();
        let mut acc2 = 0.0;
        for _ in 0..200_000_000 / n {
            let x = std::hint::black_box(&v);
            let mut l = [0.0f64; 16];
            for c in x.chunks_exact(16) {
                for j in 0..16 {
                    l[j] += c[j].abs();
                }
            }
            acc2 += l.iter().sum::<f64>() / n as f64;
        }
        let dt2 = s2.elapsed().as_secs_f64() / (200_000_000 / n) as f64;
        println!("mdz kernel {:.4} ns/elem, hand (generic build) {:.4} ns/elem {acc} {acc2}", dt * 1e9 / n as f64, dt2 * 1e9 / n as f64);
    }
}
