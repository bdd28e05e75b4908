//! A boolean-mask selection returned as a result (`-> Vec<f64>`: `x[x > 0.0]`, `x[mask]`,
//! `(x * 2.0)[x > 0.0]`), compacted into one allocation of its exact length (a counting pass
//! first): against the scalar reading (`filter`) at every CPU level, NaN, ±inf, -0.0, empty
//! input, lengths around the lane width, views.

mod common;
use common::*;
use loopfuse::kernel;
use ndarray::{s, Array1, ArrayView1};

const NS: &[usize] = &[0, 1, 2, 7, 8, 31, 32, 33, 63, 64, 65, 1000, 2049, 4100];

#[kernel]
fn positives(x: &[f64]) -> Vec<f64> {
    x[x > 0.0]
}

#[kernel]
fn masked(x: &[f64], keep: &[bool]) -> Vec<f64> {
    x[keep]
}

#[kernel]
fn doubled(x: &[f64]) -> Vec<f64> {
    (x * 2.0)[x > 0.0]
}

#[kernel]
fn finite(x: ArrayView1<f64>) -> Array1<f64> {
    x[x.is_finite()]
}

#[kernel]
fn with_sum(x: &[f64]) -> (Vec<f64>, f64, usize) {
    let pos = x[x > 0.0];
    (pos, pos.sum(), pos.len())
}

#[kernel(parallel)]
fn par_selected(x: &[f64]) -> Vec<f64> {
    x[x > 0.5]
}

#[kernel]
fn of_a_scan(x: &[f64]) -> Vec<f64> {
    x.cumsum()[x > 0.0]
}

#[kernel]
fn multiples(x: &[i32]) -> Vec<i32> {
    x[x % 3 == 0]
}

fn filter(x: &[f64], keep: impl Fn(f64) -> bool) -> Vec<f64> {
    x.iter().copied().filter(|&v| keep(v)).collect()
}

#[test]
fn selections_returned_are_the_filtered_elements() {
    for &n in NS {
        let x = gen_f64(n, seed(n, 1));
        check_levels(
            &format!("x[x > 0.0] (n = {n})"),
            &filter(&x, |v| v > 0.0),
            &at_every_level(|_| positives(&x)),
            Cmp::Exact,
        );
        let keep: Vec<bool> = x.iter().map(|v| v.is_nan() || *v < 0.5).collect();
        let want: Vec<f64> = x.iter().zip(&keep).filter(|(_, k)| **k).map(|(v, _)| *v).collect();
        check_levels(&format!("x[keep] (n = {n})"), &want, &at_every_level(|_| masked(&x, &keep)), Cmp::Exact);
        let want: Vec<f64> = x.iter().filter(|v| **v > 0.0).map(|v| v * 2.0).collect();
        check_levels(&format!("(x * 2.0)[x > 0.0] (n = {n})"), &want, &at_every_level(|_| doubled(&x)), Cmp::NanAny);
        let want = filter(&x, |v| v > 0.5);
        check_levels(&format!("parallel (n = {n})"), &want, &at_every_level(|_| par_selected(&x)), Cmp::Exact);
        let c: Vec<f64> = x
            .iter()
            .scan(-0.0, |acc, v| {
                *acc += v;
                Some(*acc)
            })
            .collect();
        let want: Vec<f64> = c.iter().zip(&x).filter(|(_, v)| **v > 0.0).map(|(c, _)| *c).collect();
        check_levels(&format!("x.cumsum()[x > 0.0] (n = {n})"), &want, &at_every_level(|_| of_a_scan(&x)), Cmp::NanAny);
        let i = any_i32(n, seed(n, 2));
        let want: Vec<i32> = i.iter().copied().filter(|v| v % 3 == 0).collect();
        check_levels(&format!("ints (n = {n})"), &want, &at_every_level(|_| multiples(&i)), Cmp::Exact);
    }
}

#[test]
fn a_selection_is_returned_with_its_reductions() {
    for &n in NS {
        let x = gen_finite_f64(n, seed(n, 3));
        let (pos, s, len) = with_sum(&x);
        assert_eq!(pos, filter(&x, |v| v > 0.0));
        assert_eq!(len, pos.len());
        assert!((s - pos.iter().sum::<f64>()).abs() <= 1e-9 * pos.iter().map(|v| v.abs()).sum::<f64>().max(1.0));
        // The allocation is the result's own length, not the input's.
        assert!(pos.capacity() == pos.len(), "capacity {} for {} elements", pos.capacity(), pos.len());
    }
}

#[test]
fn selections_of_views() {
    for &n in NS {
        let a = Array1::from(gen_f64(2 * n + 1, seed(n, 4)));
        for view in [a.slice(s![..;2]), a.slice(s![..;-3]), a.view()] {
            let xs: Vec<f64> = view.iter().copied().collect();
            let got = at_every_level(|_| finite(view).to_vec());
            check_levels(&format!("view (n = {})", xs.len()), &filter(&xs, f64::is_finite), &got, Cmp::Exact);
        }
    }
}
