// Loops that run in order over N-d arrays (issue 14) compile warning-free.
#![deny(warnings)]
use loopfuse::{kernel, KernelError};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayView3, ArrayViewD, ArrayViewMut2, Axis};

#[kernel]
pub fn row_argmax(x: ArrayView2<f64>) -> Array1<usize> {
    let mut out = Array1::zeros(x.nrows());
    for i in 0..x.nrows() {
        let mut best = f64::NEG_INFINITY;
        let mut idx = 0;
        for j in 0..x.ncols() {
            if x[[i, j]] > best {
                best = x[[i, j]];
                idx = j;
            }
        }
        out[i] = idx;
    }
    out
}

#[kernel]
pub fn potential_energy(pos: ArrayView2<f64>) -> f64 {
    let mut e = 0.0;
    for i in 0..pos.nrows() {
        for j in (i + 1)..pos.nrows() {
            let dx = pos[[i, 0]] - pos[[j, 0]];
            let dy = pos[[i, 1]] - pos[[j, 1]];
            let dz = pos[[i, 2]] - pos[[j, 2]];
            e += 1.0 / (dx * dx + dy * dy + dz * dz).sqrt();
        }
    }
    e
}

#[kernel]
pub fn outer_add(mut out: ArrayViewMut2<f64>, a: ArrayView1<f64>, b: ArrayView1<f64>) {
    for i in 0..out.nrows() {
        for j in 0..out.ncols() {
            out[[i, j]] += a[i] * b[[j]];
        }
    }
}

#[kernel]
pub fn gram(x: ArrayView2<f64>) -> Result<Array2<f64>, KernelError> {
    let (n, m) = x.dim();
    let mut g = Array2::zeros((m, m));
    for i in 0..m {
        for j in 0..m {
            let mut s = 0.0;
            for k in 0..n {
                s += x[[k, i]] * x[[k, j]];
            }
            g[[i, j]] = s;
        }
    }
    Ok(g)
}

#[kernel]
pub fn volume(x: ArrayView3<f32>, d: ArrayViewD<f32>) -> f32 {
    let mut s = 0.0;
    for i in 0..x.len_of(Axis(0)) {
        for j in 0..x.shape()[1] {
            s += x[[i, j, 0]] * d[[i, j]];
        }
    }
    s + (x.len() + usize::from(d.is_empty())) as f32
}

fn main() {
    let x = ndarray::array![[1.0, 3.0], [4.0, 2.0]];
    assert_eq!(row_argmax(x.view()), ndarray::array![1, 0]);
    let pos = ndarray::array![[0.0, 0.0, 0.0], [0.0, 3.0, 4.0]];
    assert_eq!(potential_energy(pos.view()), 0.2);
    assert_eq!(gram(x.view()).map(|g| g[[0, 1]]), Ok(11.0));
}
