//! Math stages (`runtime/src/stage.rs`): calls with a hand-vectorized kernel are evaluated a
//! chunk at a time through the slice helpers. Each kernel here is compared bit for bit with
//! the naive scalar reading (SPEC §1) using `loopfuse::math`'s scalar functions, at every
//! level, on data with NaN, ±inf, -0.0 and subnormals, at lengths around the lane width (and
//! stage chunk, 32) and the block size (2048), on contiguous and strided inputs.

mod common;
use common::*;
use loopfuse::{kernel, math};
use ndarray::{Array1, ArrayView1};

/// Lengths around the lane width (= the stage chunk) and the block.
const STAGE_LENGTHS: &[usize] = &[0, 1, 15, 16, 17, 31, 32, 33, 255, 256, 257, 1023, 2047, 2048, 2049, 4097];

#[kernel]
fn two_stages(x: &[f64], y: &[f64]) -> Vec<f64> {
    (x * 0.5).exp() + y.exp() * x
}

#[kernel]
fn nested(x: ArrayView1<f64>) -> Array1<f64> {
    // the inner call is staged, the outer one computed inline
    x.exp().exp() - x
}

#[kernel]
fn staged_reduction(x: &[f64], y: &[f64]) -> (f64, Vec<f64>) {
    let e = (x - 1.0).exp();
    ((e * y).max(), e + 1.0)
}

#[kernel]
fn after_reduction(x: &[f64]) -> Vec<f64> {
    (x - x.max()).exp()
}

#[kernel]
fn in_loop(x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    for i in 1..x.len() {
        out[i] = (x[i] - x[i - 1]).exp();
    }
    out
}

#[kernel]
fn staged_f32(x: &[f32]) -> Vec<f32> {
    x.exp() * 2.0
}

fn assert_same<T: Elem>(what: &str, n: usize, got: &[(loopfuse::Target, Vec<T>)], want: &[T]) {
    for (t, g) in got {
        assert_eq!(g.len(), want.len(), "{what} at {t:?}, n = {n}");
        for (i, (&a, &b)) in g.iter().zip(want).enumerate() {
            assert!(a.same(b, true), "{what} at {t:?}, n = {n}, element {i}: got {a:?}, want {b:?}");
        }
    }
}

#[test]
fn two_stages_match_the_scalar_reading() {
    for &n in STAGE_LENGTHS {
        let (x, y) = (gen_f64(n, seed(n, 1)), gen_f64(n, seed(n, 2)));
        let want: Vec<f64> = (0..n).map(|i| math::exp(x[i] * 0.5) + math::exp(y[i]) * x[i]).collect();
        assert_same("two_stages", n, &at_every_level(|_| two_stages(&x, &y)), &want);
    }
}

#[test]
fn nested_calls_on_strided_views() {
    for &n in STAGE_LENGTHS {
        let x = Array1::from(gen_f64(2 * n, seed(n, 3)));
        let v = x.slice(ndarray::s![..;2]);
        let want: Vec<f64> = v.iter().map(|&x| math::exp(math::exp(x)) - x).collect();
        assert_same("nested", n, &at_every_level(|_| nested(v).to_vec()), &want);
        let r = x.slice(ndarray::s![..n;-1]);
        let want: Vec<f64> = r.iter().map(|&x| math::exp(math::exp(x)) - x).collect();
        assert_same("nested reversed", n, &at_every_level(|_| nested(r).to_vec()), &want);
    }
}

#[test]
fn staged_values_feed_reductions_and_outputs() {
    for &n in STAGE_LENGTHS {
        // finite data: max is then independent of the order
        let (x, y) = (gen_finite_f64(n, seed(n, 4)), gen_finite_f64(n, seed(n, 5)));
        let e: Vec<f64> = x.iter().map(|&x| math::exp(x - 1.0)).collect();
        let max = (0..n).map(|i| e[i] * y[i]).fold(f64::NEG_INFINITY, f64::max);
        let plus: Vec<f64> = e.iter().map(|&e| e + 1.0).collect();
        if n == 0 {
            continue; // max of nothing panics (tests/edge.rs)
        }
        for (t, (m, v)) in at_every_level(|_| staged_reduction(&x, &y)) {
            assert_eq!(m.to_bits(), max.to_bits(), "staged_reduction max at {t:?}, n = {n}");
            assert_same("staged_reduction output", n, &[(t, v)], &plus);
        }
    }
}

#[test]
fn staged_argument_uses_a_reduction_result() {
    for &n in STAGE_LENGTHS.iter().filter(|&&n| n > 0) {
        let x = gen_finite_f64(n, seed(n, 6));
        let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let want: Vec<f64> = x.iter().map(|&x| math::exp(x - m)).collect();
        assert_same("after_reduction", n, &at_every_level(|_| after_reduction(&x)), &want);
    }
}

#[test]
fn staged_call_in_an_explicit_loop() {
    for &n in STAGE_LENGTHS {
        let x = gen_f64(n, seed(n, 7));
        let mut want = vec![0.0; n];
        for i in 1..n {
            want[i] = math::exp(x[i] - x[i - 1]);
        }
        assert_same("in_loop", n, &at_every_level(|_| in_loop(&x)), &want);
    }
}

#[test]
fn f32_calls_stage_too() {
    for &n in STAGE_LENGTHS {
        let x = gen_f32(n, seed(n, 8));
        let want: Vec<f32> = x.iter().map(|&x| math::exp(x) * 2.0).collect();
        assert_same("staged_f32", n, &at_every_level(|_| staged_f32(&x)), &want);
    }
}

#[kernel]
fn every_staged_function(x: &[f64]) -> Vec<f64> {
    let a = x.abs();
    x.sin() + x.cos() * x.tan() - a.ln() + a.log2() * a.log10() + x.exp()
}

#[test]
fn every_staged_function_matches_the_scalar_reading() {
    for &n in STAGE_LENGTHS {
        // random bits among the data: |x| far above the trig fast-reduction bound too
        let x = gen_f64(n, seed(n, 9));
        let want: Vec<f64> = x
            .iter()
            .map(|&x| {
                let a = x.abs();
                math::sin(x) + math::cos(x) * math::tan(x) - math::ln(a) + math::log2(a) * math::log10(a) + math::exp(x)
            })
            .collect();
        assert_same("every_staged_function", n, &at_every_level(|_| every_staged_function(&x)), &want);
    }
}

#[kernel]
fn more_calls_than_stages(x: &[f64]) -> Vec<f64> {
    // ten calls: eight are staged, the rest computed inline, same bits
    x.exp()
        + (x * 2.0).exp()
        + (x * 3.0).exp()
        + (x * 4.0).exp()
        + (x * 5.0).exp()
        + (x * 6.0).exp()
        + (x * 7.0).exp()
        + (x * 8.0).exp()
        + (x * 9.0).exp()
        + (x * 10.0).exp()
}

#[test]
fn calls_beyond_the_stage_limit_are_inlined() {
    for &n in STAGE_LENGTHS {
        let x = gen_f64(n, seed(n, 10));
        let want: Vec<f64> = x
            .iter()
            .map(|&x| (1..=10).fold(0.0, |acc, k| if k == 1 { math::exp(x) } else { acc + math::exp(x * k as f64) }))
            .collect();
        assert_same("more_calls_than_stages", n, &at_every_level(|_| more_calls_than_stages(&x)), &want);
    }
}
