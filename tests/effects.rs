//! Reads and writes of `&mut` outputs are ordered effects (issue "Correctness: reads and
//! writes of `&mut` outputs"): each case a random-kernel run found wrong, against the plain
//! Rust reading of the same code, at every CPU level.
//!
//! Sums are taken over small integers (every order gives the same bits), so a kernel's
//! reductions can be compared bit for bit with the scalar loop; elementwise results use data
//! with NaN, ±inf and -0.0.
#![allow(clippy::needless_range_loop)]

mod common;
use common::*;
use loopfuse::kernel;

/// Lengths around the 32 lanes and the 2048-element blocks.
const LENS: &[usize] = &[0, 1, 2, 31, 32, 33, 2049, 4097];

/// Small integers as f64: any summation order gives the same bits.
fn ints(n: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| r.below(17) as f64 - 8.0).collect()
}

fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

fn same1(a: f64, b: f64) -> bool {
    same(&[a], &[b])
}

/// The sum from `0.0` in order (`Iterator::sum` starts from `-0.0`; a kernel's empty sum is
/// `0.0`, as NumPy's).
fn sum<'a>(x: impl IntoIterator<Item = &'a f64>) -> f64 {
    x.into_iter().fold(0.0, |a, v| a + v)
}

// ---- F1: a write after a read of the old value, across a barrier ---------------------------

#[kernel]
fn war_across_barrier(x: &[f64], o: &mut [f64]) -> Vec<f64> {
    let a = o * x.sum();
    o += x;
    a
}

#[kernel]
fn std_of_doubled(o: &mut [f64]) -> f64 {
    o[..] = o * 2.0;
    o.std()
}

#[kernel]
fn std_of(o: &[f64]) -> f64 {
    o.std()
}

#[test]
fn f1_a_write_waits_for_the_reads_of_the_old_value() {
    for &n in LENS {
        let (x, o0) = (ints(n, 1), gen_f64(n, 2));
        let s = sum(&x);
        let want_a: Vec<f64> = o0.iter().map(|v| v * s).collect();
        let want_o: Vec<f64> = o0.iter().zip(&x).map(|(v, x)| v + x).collect();
        at_every_level(|t| {
            let mut o = o0.clone();
            let a = war_across_barrier(&x, &mut o);
            assert!(same(&a, &want_a), "{t:?} n = {n}: `a` must use the old `o`");
            assert!(same(&o, &want_o), "{t:?} n = {n}");
        });
        let o0 = gen_finite_f64(n, 3);
        let doubled: Vec<f64> = o0.iter().map(|v| v * 2.0).collect();
        at_every_level(|t| {
            let mut o = o0.clone();
            let got = std_of_doubled(&mut o);
            assert!(same1(got, std_of(&doubled)), "{t:?} n = {n}: std of the doubled values");
            assert!(same(&o, &doubled));
        });
    }
}

// ---- F2: an output filled from another output ---------------------------------------------

#[kernel]
fn copy_output(a: &mut [f64], b: &mut [f64]) {
    b[..] = a;
}

#[test]
fn f2_an_output_filled_from_an_output_is_written() {
    for &n in LENS {
        let a0 = gen_f64(n, 4);
        at_every_level(|t| {
            let (mut a, mut b) = (a0.clone(), vec![0.5; n]);
            copy_output(&mut a, &mut b);
            assert!(same(&b, &a0), "{t:?} n = {n}");
            assert!(same(&a, &a0));
        });
    }
}

// ---- F3: reads after a loop's writes -------------------------------------------------------

#[kernel]
fn read_after_loop(x: &[f64], o: &mut [f64]) -> Vec<f64> {
    let m = x.sum();
    for i in 0..x.len() {
        o[i] = x[i] + m;
    }
    o * 2.0
}

#[kernel]
fn loop_reads_loop(p: &mut [f64], x: &[f64], q: &mut [f64]) -> f64 {
    for (i, v) in x.iter().enumerate() {
        p[i] = v * 2.0;
    }
    for (i, v) in x.iter().enumerate() {
        q[i] = p[i] + v;
    }
    q.sum()
}

#[kernel]
fn loop_reads_loop_reordered(q: &mut [f64], x: &[f64], p: &mut [f64]) -> f64 {
    for (i, v) in x.iter().enumerate() {
        p[i] = v * 2.0;
    }
    for (i, v) in x.iter().enumerate() {
        q[i] = p[i] + v;
    }
    q.sum()
}

#[test]
fn f3_reads_come_after_the_loop_that_wrote() {
    for &n in LENS {
        let x = ints(n, 5);
        let m = sum(&x);
        let want: Vec<f64> = x.iter().map(|v| (v + m) * 2.0).collect();
        let want_q: Vec<f64> = x.iter().map(|v| v * 2.0 + v).collect();
        let want_s = sum(&want_q);
        at_every_level(|t| {
            let mut o = vec![7.0; n];
            assert!(same(&read_after_loop(&x, &mut o), &want), "{t:?} n = {n}");
            let (mut p, mut q) = (vec![-1.0; n], vec![-2.0; n]);
            assert!(same1(loop_reads_loop(&mut p, &x, &mut q), want_s), "{t:?} n = {n}");
            assert!(same(&q, &want_q));
            let (mut p, mut q) = (vec![-1.0; n], vec![-2.0; n]);
            assert!(same1(loop_reads_loop_reordered(&mut q, &x, &mut p), want_s), "{t:?} n = {n}");
            assert!(same(&q, &want_q));
        });
    }
}

// ---- F4: an output written by a loop that runs in order, read by a later loop ---------------

#[kernel]
fn in_order_then_loop(x: &[f64], c: &mut [f64]) -> f64 {
    let m = x.sum();
    let mut acc = 0.0;
    for i in 0..x.len() {
        acc += x[i] - m;
        c[i] = acc;
    }
    let mut s = 0.0;
    for i in 0..x.len() {
        s += c[i] * 2.0;
    }
    s
}

#[test]
fn f4_a_loop_reads_what_an_in_order_loop_wrote() {
    for &n in LENS {
        let x = ints(n, 6);
        let m = sum(&x);
        let (mut acc, mut want_c) = (0.0, Vec::new());
        for v in &x {
            acc += v - m;
            want_c.push(acc);
        }
        let want = want_c.iter().fold(0.0, |a, c| a + c * 2.0);
        at_every_level(|t| {
            let mut c = vec![0.0; n];
            assert!(same1(in_order_then_loop(&x, &mut c), want), "{t:?} n = {n}");
            assert!(same(&c, &want_c));
        });
    }
}

// ---- F5: a `let` in a loop body shadows an outer name ---------------------------------------

#[kernel]
fn shadow_in_loop(x: &[f64]) -> (f64, f64) {
    let t = 1.0;
    let mut acc = 0.0;
    for v in x {
        let mut t = *v * 2.0;
        t += 1.0;
        acc += t;
    }
    (t, acc)
}

#[test]
fn f5_a_loop_local_is_not_the_outer_name() {
    for &n in LENS {
        let x = ints(n, 7);
        let want = x.iter().fold(0.0, |a, v| a + (v * 2.0 + 1.0));
        at_every_level(|t| {
            let (got_t, got_acc) = shadow_in_loop(&x);
            assert!(same1(got_t, 1.0) && same1(got_acc, want), "{t:?} n = {n}: {got_t} {got_acc}");
        });
    }
}

// ---- F6: the parts of one loop are bounds-checked together, before any runs ----------------

#[kernel]
fn split_loop(x: &[f64]) -> (f64, f64) {
    let m = x.sum();
    let n = x.len();
    let mut a = 0.0;
    let mut b = 0.0;
    for i in 1..n.wrapping_sub(1) {
        a += 1.0;
        b += x[i + 1] * m;
    }
    (a, b)
}

#[test]
fn f6_an_out_of_bounds_part_stops_the_whole_loop() {
    // `n.wrapping_sub(1)` is `n - 1` of a release build: on an empty input the range is
    // `1..usize::MAX` and plain Rust panics at the first `x[i + 1]`; the kernel must panic
    // too, before the index-free `a += 1.0` loops over 2^64 elements.
    at_every_level(|_| {
        let msg = panic_message(|| split_loop(&[]));
        assert!(msg.contains("index out of bounds") && msg.contains("x[i + 1]"), "{msg}");
    });
    for n in [2usize, 3, 4, 40] {
        let x = ints(n, 8);
        let m = sum(&x);
        let (mut a, mut b) = (0.0, 0.0);
        for i in 1..n - 1 {
            a += 1.0;
            b += x[i + 1] * m;
        }
        at_every_level(|_| assert_eq!(split_loop(&x), (a, b)));
    }
}

// ---- F7: `strict` loops start from the accumulator's value ----------------------------------

#[kernel(strict)]
fn strict_from_one(x: &[f64]) -> f64 {
    let mut acc = 1.0;
    for v in x {
        acc += *v;
    }
    acc
}

#[test]
fn f7_strict_adds_from_the_initial_value_in_order() {
    for &n in LENS {
        let x = gen_finite_f64(n, 9);
        let want = x.iter().fold(1.0, |a, v| a + v);
        at_every_level(|t| assert!(same1(strict_from_one(&x), want), "{t:?} n = {n}"));
    }
}

// ---- kernels the README promised ------------------------------------------------------------

#[kernel]
fn len_then_loop(x: &[f64], out: &mut [f64]) {
    let n = out.len();
    for i in 0..n {
        out[i] = x[i] * 2.0;
    }
}

#[kernel]
fn read_then_overwrite(x: &[f64], out: &mut [f64]) -> f64 {
    let old = out.sum();
    for i in 0..x.len() {
        out[i] = x[i];
    }
    old
}

#[test]
fn len_of_an_output_and_a_read_before_its_loop() {
    for &n in LENS {
        let (x, o0) = (gen_f64(n, 10), ints(n, 11));
        let twice: Vec<f64> = x.iter().map(|v| v * 2.0).collect();
        let old = sum(&o0);
        at_every_level(|t| {
            let mut out = vec![0.0; n];
            len_then_loop(&x, &mut out);
            assert!(same(&out, &twice), "{t:?} n = {n}");
            let mut out = o0.clone();
            assert!(same1(read_then_overwrite(&x, &mut out), old), "{t:?} n = {n}");
            assert!(same(&out, &x));
        });
    }
}

// ---- one meaning for math calls --------------------------------------------------------------

#[kernel]
fn running_exp(x: &[f64]) -> f64 {
    let mut acc = 0.0;
    for i in 0..x.len() {
        acc = acc * 0.5 + x[i].exp();
    }
    acc
}

#[test]
fn math_in_a_loop_that_runs_in_order_is_loopfuse_math() {
    for &n in LENS {
        let x = gen_f64(n, 12);
        let want = x.iter().fold(0.0, |a, v| a * 0.5 + loopfuse::math::exp(*v));
        at_every_level(|t| assert!(same1(running_exp(&x), want), "{t:?} n = {n}"));
    }
}

// ---- a loop that runs in order over a strided view (found by tests/random_kernels.rs) ---------

#[kernel]
fn running_over_view(w: ndarray::ArrayView1<f64>) -> f64 {
    let mut acc = 0.0;
    for v in w.iter() {
        acc = acc * 0.5 + v;
    }
    for (i, v) in w.iter().enumerate() {
        acc += *v * i as f64;
    }
    acc
}

#[test]
fn an_in_order_loop_iterates_a_strided_view() {
    for &n in LENS {
        let base = ndarray::Array1::from(gen_f64(2 * n, 13));
        for w in [base.slice(ndarray::s![..;2]), base.slice(ndarray::s![..;-2])] {
            let mut want = w.iter().fold(0.0, |a, v| a * 0.5 + v);
            for (i, v) in w.iter().enumerate() {
                want += *v * i as f64;
            }
            at_every_level(|t| assert!(same1(running_over_view(w), want), "{t:?} n = {n}"));
        }
    }
}
