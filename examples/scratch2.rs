use loopfuse::{kernel, Float, KernelError};
use ndarray::{s, Array1, ArrayView1};

fn leaky(x: f64) -> f64 {
    if x > 0.0 { x } else { 0.01 * x }
}

#[kernel]
pub fn generic_mean<T: Float>(x: &[T]) -> T {
    x.mean()
}

#[kernel]
pub fn checked_dot(a: &[f64], b: &[f64]) -> Result<f64, KernelError> {
    Ok(a.dot(b))
}

#[kernel]
pub fn stats(x: &[f64]) -> (f64, f64, usize, usize) {
    (x.min(), x.max(), x.argmin(), x.argmax())
}

#[kernel]
pub fn relu_both(x: ArrayView1<f64>) -> (Vec<f64>, Array1<f64>) {
    let a = if x > 0.0 { x } else { 0.01 * x };
    let b = leaky(x);
    (a, b)
}

#[kernel]
pub fn count_pos(x: &Vec<f32>) -> (usize, bool, bool) {
    let m = x > 0.0;
    (m.count(), m.any(), (x.is_nan()).all())
}

#[kernel]
pub fn casts(x: &[i32]) -> (Vec<f64>, i32, f64) {
    ((x as f64) * 0.5, x.sum(), x.mean())
}

#[kernel(strict)]
pub fn strict_sum(x: &[f64]) -> f64 {
    x.sum()
}

#[kernel(targets(v3, v4))]
pub fn fill(out: &mut [f64], v: f64) {
    out[..] = v;
}

#[kernel]
pub fn poly3(x: &[f64], a: f64, b: f64, c: f64, d: f64) -> Vec<f64> {
    ((a * x + b) * x + c) * x + d
}

#[kernel]
pub fn softmax(x: &[f64]) -> Vec<f64> {
    let e = (x - x.max()).exp();
    e / e.sum()
}

fn main() {
    let v: Vec<f64> = (0..40).map(|i| (i as f64 - 20.0) * 0.5).collect();
    println!("{}", generic_mean(&v));
    println!("{}", generic_mean(&[1.0f32, 2.0]));
    println!("{:?}", checked_dot(&v, &v));
    println!("{:?}", checked_dot(&v, &v[1..]));
    println!("{:?}", stats(&v));
    let a = Array1::from(v.clone());
    let (r1, r2) = relu_both(a.slice(s![..;-2]));
    println!("{:?} {:?}", &r1[..3], r2.slice(s![..3]));
    println!("{:?}", count_pos(&vec![1.0f32, -1.0, 2.0]));
    println!("{:?}", casts(&[1, 2, 3]));
    println!("{}", strict_sum(&v));
    let mut o = vec![0.0; 5];
    fill(&mut o, 2.5);
    println!("{o:?}");
    println!("{:?}", &poly3(&v, 1.0, 2.0, 3.0, 4.0)[..2]);
    println!("{:?}", softmax(&[1.0, 2.0, 3.0]));
}
