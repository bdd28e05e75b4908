//! Explicit loops inside `#[kernel]` (SPEC §3 "Explicit loops", issue 4), tested against
//! the same Rust code run as a plain scalar function.
//!
//! Most kernels here are written once, through `twin!`, which defines the `#[kernel]` and a
//! plain `fn` with the same tokens: the plain one is the meaning the kernel must keep (SPEC §1).
//! Every check runs at every supported CPU level, on the lengths in `LENS`, with NaN, ±inf and
//! -0.0 in the data, and checks that the levels agree bit for bit.
//!
//! What "equal" means: bit for bit, except that any NaN equals any NaN (Rust leaves NaN
//! payloads of arithmetic unspecified) and, for results of `f64::max`/`f64::min`, +0.0 equals
//! -0.0 (std leaves the sign of the result of `max(0.0, -0.0)` unspecified). Levels are
//! compared to each other with the same NaN rule but signed zeros exact.
//!
//! Loops whose accumulators are pure reductions are summed in the fixed lane order (SPEC §4),
//! not left to right, so they are compared with the scalar loop on data where every order
//! gives the same bits (integers and halves, powers of two, specials), and with the
//! expression form of the same reduction bit for bit on any data. Loops that run in order
//! (a running value, `break`, `continue`, `while`) and `strict` kernels must equal the scalar
//! loop bit for bit on any data.
#![allow(
    clippy::needless_range_loop,
    clippy::reversed_empty_ranges,
    clippy::explicit_counter_loop,
    clippy::type_complexity,
    clippy::let_and_return
)]

mod common;
use common::*;
use loopfuse::{kernel, KernelError};
use ndarray::{s, Array1, ArrayView1, ArrayViewMut1};
use std::fmt::Debug;

/// The lengths of this suite: around the 32 lanes and the 2048-element blocks.
const LENS: &[usize] = &[0, 1, 2, 15, 16, 17, 31, 32, 33, 1023, 2049, 4097];

// ---- comparison keys --------------------------------------------------------------------

/// A result reduced to integers for comparison: floats by their bits, every NaN as one key.
trait Key: Debug {
    fn key(&self, out: &mut Vec<u64>);
    fn keys(&self) -> Vec<u64> {
        let mut v = Vec::new();
        self.key(&mut v);
        v
    }
}

const NAN_KEY: u64 = u64::MAX - 7;

impl Key for f64 {
    fn key(&self, out: &mut Vec<u64>) {
        out.push(if self.is_nan() { NAN_KEY } else { self.to_bits() });
    }
}
impl Key for f32 {
    fn key(&self, out: &mut Vec<u64>) {
        out.push(if self.is_nan() { NAN_KEY } else { self.to_bits() as u64 });
    }
}
macro_rules! int_key {
    ($($t:ty),*) => {$( impl Key for $t {
        fn key(&self, out: &mut Vec<u64>) { out.push(*self as u64) }
    } )*};
}
int_key!(i32, i64, usize, u32, u64, bool);

impl Key for () {
    fn key(&self, _: &mut Vec<u64>) {}
}

/// A result of `f64::max`/`f64::min`: a zero of either sign is one key.
#[derive(Debug, Clone, Copy)]
struct Z(f64);
impl Key for Z {
    fn key(&self, out: &mut Vec<u64>) {
        (if self.0 == 0.0 { 0.0 } else { self.0 }).key(out)
    }
}
impl<T: Key> Key for Vec<T> {
    fn key(&self, out: &mut Vec<u64>) {
        out.push(self.len() as u64);
        for x in self {
            x.key(out);
        }
    }
}
macro_rules! tuple_key {
    ($(($($n:ident $i:tt),*))*) => {$(
        impl<$($n: Key),*> Key for ($($n,)*) {
            fn key(&self, out: &mut Vec<u64>) { $( self.$i.key(out); )* }
        }
    )*};
}
tuple_key! {
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
}

/// Runs `kernel` at every level: each result must equal `want` once both are passed
/// through `canon` (the identity, or [`Z`] on results of `max`/`min`), and the levels must
/// agree with each other as they are (NaN-any, signed zeros exact).
fn check_at_levels<R: Key, S: Key>(what: &str, want: &R, kernel: impl Fn() -> R, canon: impl Fn(&R) -> S) {
    let got = levels_agree(what, kernel);
    assert_eq!(canon(&got).keys(), canon(want).keys(), "{what}:\n got {got:?}\nwant {want:?}");
}

/// The levels agree with each other (NaN-any, signed zeros exact); returns the first result.
fn levels_agree<R: Key>(what: &str, kernel: impl Fn() -> R) -> R {
    let mut got = at_every_level(|_| kernel());
    for (t, g) in &got[1..] {
        assert_eq!(g.keys(), got[0].1.keys(), "{what}: {t:?} gives {g:?} but {:?} gives {:?}", got[0].0, got[0].1);
    }
    got.swap_remove(0).1
}

// ---- data ---------------------------------------------------------------------------------

/// Halves in -8..=8 with about one in eight a special (NaN, -NaN, ±inf, ±0.0): every sum
/// of up to 2^40 of them is exact, so any summation order gives the same bits.
fn exact_f64(n: usize, seed: u64) -> Vec<f64> {
    let sp = [f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0];
    let mut r = Rng::new(seed);
    (0..n)
        .map(|_| match r.below(48) {
            0..=5 => sp[r.below(sp.len() as u64) as usize],
            _ => (r.below(33) as f64 - 16.0) * 0.5,
        })
        .collect()
}

/// ±0.5, ±1, ±2 with about one in 40 a special (±0, ±inf, NaN): every product is exact.
fn pow2_f64(n: usize, seed: u64) -> Vec<f64> {
    let sp = [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
    let v = [0.5, 1.0, 2.0, -0.5, -1.0, -2.0];
    let mut r = Rng::new(seed);
    (0..n)
        .map(|_| match r.below(40) {
            0 => sp[r.below(sp.len() as u64) as usize],
            _ => v[r.below(v.len() as u64) as usize],
        })
        .collect()
}

/// ±1 with a few 2s: products of up to 4097 of them fit an i64.
fn unit_i64(n: usize, seed: u64) -> Vec<i64> {
    let mut r = Rng::new(seed);
    (0..n)
        .map(|_| match r.below(400) {
            0 => 2,
            k if k % 2 == 0 => 1,
            _ => -1,
        })
        .collect()
}

/// All the float data sets of one length: general (with random bits and huge values),
/// finite, exact-sum and exact-product data, and two hand-made ones.
fn float_sets(n: usize) -> Vec<(&'static str, Vec<f64>)> {
    vec![
        ("gen", gen_f64(n, seed(n, 1))),
        ("finite", gen_finite_f64(n, seed(n, 2))),
        ("exact", exact_f64(n, seed(n, 3))),
        ("pow2", pow2_f64(n, seed(n, 4))),
        ("all NaN", vec![f64::NAN; n]),
        ("zeros", (0..n).map(|i| if i % 3 == 0 { -0.0 } else { 0.0 }).collect()),
    ]
}

/// Whether `f` panics (the message is printed by the default hook).
fn panics(f: impl FnOnce()) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err()
}

// ---- (a) myvar2: the loop form is the expression form ---------------------------------------

#[kernel]
fn myvar2_loop(arr: &[f64]) -> f64 {
    let mean = arr.mean();
    let mut sum = 0.0;
    for item in arr {
        sum += (item - mean).powi(2);
    }
    sum / arr.len() as f64
}

#[kernel]
fn myvar2_expr(arr: &[f64]) -> f64 {
    let mean = arr.mean();
    ((arr - mean).powi(2)).sum() / arr.len() as f64
}

#[kernel]
fn myvar2_loop_f32(arr: &[f32]) -> f32 {
    let mean = arr.mean();
    let mut sum = 0.0;
    for item in arr.iter() {
        sum += (item - mean).powi(2);
    }
    sum / arr.len() as f32
}

#[kernel]
fn myvar2_expr_f32(arr: &[f32]) -> f32 {
    let mean = arr.mean();
    ((arr - mean).powi(2)).sum() / arr.len() as f32
}

#[kernel(strict)]
fn myvar2_strict(arr: &[f64]) -> f64 {
    let mean = arr.mean();
    let mut sum = 0.0;
    for item in arr {
        sum += (item - mean).powi(2);
    }
    sum / arr.len() as f64
}

/// `myvar2` as the naive scalar loops (the mean summed left to right too).
fn myvar2_naive(arr: &[f64]) -> f64 {
    let mut s = 0.0;
    for x in arr {
        s += x;
    }
    let mean = s / arr.len() as f64;
    let mut sum = 0.0;
    for item in arr {
        sum += (item - mean).powi(2);
    }
    sum / arr.len() as f64
}

#[test]
fn myvar2_loop_is_the_expression_form() {
    for &n in LENS {
        for (set, x) in float_sets(n) {
            let what = format!("myvar2 ({set}, n = {n})");
            let want = levels_agree(&what, || myvar2_expr(&x));
            check_at_levels(&what, &want, || myvar2_loop(&x), |v| *v);
            if set == "finite" && n > 0 {
                // Both are the variance, to a few ulp of the naive loops.
                let naive = myvar2_naive(&x);
                assert!((want - naive).abs() <= 1e-13 * naive.abs(), "{what}: {want} vs naive {naive}");
            }
            if n > 1 {
                let what = format!("myvar2 (&x[1..], {set}, n = {n})");
                let want = levels_agree(&what, || myvar2_expr(&x[1..]));
                check_at_levels(&what, &want, || myvar2_loop(&x[1..]), |v| *v);
            }
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let what = format!("myvar2 f32 ({set}, n = {n})");
            let want = levels_agree(&what, || myvar2_expr_f32(&x32));
            check_at_levels(&what, &want, || myvar2_loop_f32(&x32), |v| *v);
        }
    }
}

#[test]
fn myvar2_strict_is_the_naive_loop() {
    for &n in LENS {
        for (set, x) in float_sets(n) {
            let what = format!("strict myvar2 ({set}, n = {n})");
            check_at_levels(&what, &myvar2_naive(&x), || myvar2_strict(&x), |v| *v);
        }
    }
}

#[kernel]
fn myvar2_generic<T: loopfuse::Float>(arr: &[T]) -> T {
    let mean = arr.mean();
    let mut sum = T::from_f64(0.0);
    for item in arr {
        sum += (*item - mean).powi(2);
    }
    sum / T::from_usize(arr.len())
}

#[kernel]
fn myvar2_generic_expr<T: loopfuse::Float>(arr: &[T]) -> T {
    let mean = arr.mean();
    ((arr - mean).powi(2)).sum() / T::from_usize(arr.len())
}

/// A generic (`T: Float`) loop kernel is the generic expression form, for f64 and f32.
#[test]
fn myvar2_generic_is_the_expression_form() {
    for &n in LENS {
        for (set, x) in float_sets(n) {
            let what = format!("generic myvar2 f64 ({set}, n = {n})");
            let want = levels_agree(&what, || myvar2_generic_expr(&x));
            check_at_levels(&what, &want, || myvar2_generic(&x), |v| *v);
            assert_eq!(want.keys(), myvar2_expr(&x).keys(), "{what}: vs the f64 kernel");
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let what = format!("generic myvar2 f32 ({set}, n = {n})");
            let want = levels_agree(&what, || myvar2_generic_expr(&x32));
            check_at_levels(&what, &want, || myvar2_generic(&x32), |v| *v);
        }
    }
}

// ---- (b) dot as an indexed loop ---------------------------------------------------------

#[kernel]
fn dot_loop(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * b[i];
    }
    s
}

#[kernel]
fn dot_expr(a: &[f64], b: &[f64]) -> f64 {
    a.dot(b)
}

#[kernel(strict)]
fn dot_loop_strict(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * b[i];
    }
    s
}

fn dot_naive(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[i] * b[i];
    }
    s
}

/// The dot product to about twice the working precision (Ogita, Rump, Oishi 2005, Dot2):
/// exact products (`mul_add` gives each rounding error) summed with error-free additions.
fn dot_exact(a: &[f64], b: &[f64]) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let p = x * y;
        let e = x.mul_add(y, -p);
        let t = s + p;
        let z = t - s;
        c += (s - (t - z)) + (p - z) + e;
        s = t;
    }
    s + c
}

#[test]
fn dot_loop_is_a_dot() {
    for &n in LENS {
        for (set, a) in float_sets(n) {
            let b = match set {
                "finite" => gen_finite_f64(n, seed(n, 9)),
                "exact" => exact_f64(n, seed(n, 9)),
                _ => gen_f64(n, seed(n, 9)),
            };
            let what = format!("dot ({set}, n = {n})");
            let want = levels_agree(&what, || dot_expr(&a, &b));
            check_at_levels(&what, &want, || dot_loop(&a, &b), |v| *v);
            check_at_levels(&format!("strict {what}"), &dot_naive(&a, &b), || dot_loop_strict(&a, &b), |v| *v);
            if set == "finite" {
                let exact = dot_exact(&a, &b);
                let abs: f64 = a.iter().zip(&b).map(|(x, y)| (x * y).abs()).sum();
                // 64 in order per lane and block, log2(blocks) cascade, 5 levels of lane
                // tree, a tail of at most 31 in order, and the products' own rounding.
                let k = (n as f64).min(64.0 + 31.0 + 2.0 * (n.max(2) as f64).log2() + 8.0);
                let bound = k * f64::EPSILON * abs;
                assert!(
                    (want - exact).abs() <= bound,
                    "{what}: {want} vs exact {exact}, error {} > bound {bound}",
                    (want - exact).abs()
                );
            }
            if n > 1 {
                // Unaligned starts.
                let what = format!("dot (a[1..], b[..n-1], {set}, n = {n})");
                let want = levels_agree(&what, || dot_expr(&a[1..], &b[..n - 1]));
                check_at_levels(&what, &want, || dot_loop(&a[1..], &b[..n - 1]), |v| *v);
            }
        }
    }
}

/// The loop reads `b[i]` for `i < a.len()` only: a longer `b` is fine (as in plain Rust),
/// a shorter one panics before the loop.
#[test]
fn dot_loop_lengths_are_plain_rust() {
    let a = gen_finite_f64(1000, 1);
    let b = gen_finite_f64(1003, 2);
    let want = levels_agree("dot prefix", || dot_expr(&a, &b[..1000]));
    check_at_levels("dot with longer b", &want, || dot_loop(&a, &b), |v| *v);
    for t in loopfuse::supported_targets() {
        let m = loopfuse::with_target(t, || panic_message(|| dot_loop(&a, &b[..999])));
        assert!(
            m.contains("kernel `dot_loop`: index out of bounds")
                && m.contains("`b[i]` for i in 0..1000")
                && m.contains("`b` has 999 elements"),
            "{t:?}: {m}"
        );
    }
}

// ---- (c) a 3-point stencil ----------------------------------------------------------------

twin! {
    #[kernel]
    fn stencil3(a: &[f64], out: &mut [f64]) {
        let n = a.len();
        for i in 1..n - 1 {
            out[i] = (a[i - 1] + a[i] + a[i + 1]) / 3.0;
        }
    }
    #[kernel]
    fn stencil3_f32(a: &[f32], out: &mut [f32]) {
        let n = a.len();
        for i in 1..n - 1 {
            out[i] = (a[i - 1] + a[i] + a[i + 1]) / 3.0;
        }
    }
    #[kernel]
    fn stencil5_update(a: &[f64], out: &mut [f64]) {
        for i in 2..a.len() - 2 {
            out[i] += 0.25 * (a[i + 2] - a[i - 2]) - a[i];
        }
    }
}

/// A sentinel no kernel computes: a NaN with a payload, compared bit for bit.
const UNTOUCHED: u64 = 0x7ff8_dead_beef_0001;

#[test]
fn stencil_is_the_scalar_loop() {
    for &n in LENS {
        for (set, a) in float_sets(n) {
            let what = format!("stencil3 ({set}, n = {n})");
            // One extra element after the end of `out`, which the loop never reaches.
            let init = vec![f64::from_bits(UNTOUCHED); n + 1];
            let mut want = init.clone();
            if panics(|| stencil3::r(&a, &mut want)) {
                // n = 0: `n - 1` overflows in plain Rust (a test build checks overflow).
                assert_eq!(n, 0);
                for t in loopfuse::supported_targets() {
                    let mut out = init.clone();
                    let p = loopfuse::with_target(t, || panics(|| stencil3::k(&a, &mut out)));
                    assert!(p, "{what} at {t:?}: the scalar loop panics, the kernel does not");
                }
                continue;
            }
            let run = || {
                let mut out = init.clone();
                stencil3::k(&a, &mut out);
                out
            };
            check_at_levels(&what, &want, run, |v| v.clone());
            // The ends are untouched, bit for bit (not just "a NaN").
            for t in loopfuse::supported_targets() {
                let out = loopfuse::with_target(t, run);
                for j in [0, n.saturating_sub(1), n] {
                    if n < 3 || j == 0 || j >= n - 1 {
                        assert_eq!(out[j].to_bits(), UNTOUCHED, "{what} at {t:?}: out[{j}]");
                    }
                }
            }

            let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
            let init32 = vec![f32::from_bits(0x7fc0_dead); n + 1];
            let mut want32 = init32.clone();
            stencil3_f32::r(&a32, &mut want32);
            let run32 = || {
                let mut out = init32.clone();
                stencil3_f32::k(&a32, &mut out);
                out
            };
            check_at_levels(&format!("f32 {what}"), &want32, run32, |v| v.clone());

            if n >= 4 {
                let what = format!("stencil5 out[i] += ({set}, n = {n})");
                let init = gen_f64(n, seed(n, 77));
                let mut want = init.clone();
                stencil5_update::r(&a, &mut want);
                let run = || {
                    let mut out = init.clone();
                    stencil5_update::k(&a, &mut out);
                    out
                };
                check_at_levels(&what, &want, run, |v| v.clone());
            }
        }
    }
}

// ---- every loop form vs the plain loop ------------------------------------------------------

twin! {
    #[kernel]
    fn form_in(a: &[f64]) -> [(f64, f64, f64)] {
        let mut s = 0.0;
        let mut m = f64::NEG_INFINITY;
        let mut p = 1.0;
        for x in a {
            s += x * 2.0;
            m = m.max(*x);
            p *= x;
        }
        (s, m, p)
    }
    #[kernel]
    fn form_iter(a: &[f64]) -> [(f64, f64, f64)] {
        let mut s = 0.0;
        let mut m = f64::INFINITY;
        let mut p = 1.0;
        for x in a.iter() {
            s -= x * 0.5;
            m = m.min(*x);
            p *= x;
        }
        (s, m, p)
    }
    #[kernel]
    fn form_ref_pat(a: &[f64]) -> [(f64, f64, f64)] {
        let mut s = 0.0;
        let mut m = f64::NEG_INFINITY;
        let mut p = 1.0;
        for &x in a.iter() {
            s += x.abs() - 1.0;
            m = x.max(m);
            p *= x;
        }
        (s, m, p)
    }
    #[kernel]
    fn form_copied(a: &[f64]) -> [(f64, f64)] {
        let mut s = 0.0;
        let mut m = f64::INFINITY;
        for x in a.iter().copied() {
            s += x;
            m = x.min(m);
        }
        (s, m)
    }
    #[kernel]
    fn form_zip(a: &[f64], b: &[f64]) -> [(f64, usize, f64)] {
        let mut s = 0.0;
        let mut c = 0;
        let mut m = f64::NEG_INFINITY;
        for (x, y) in a.iter().zip(b) {
            s += x - y;
            if x > y {
                c += 1;
            }
            m = m.max(x * y);
        }
        (s, c, m)
    }
    #[kernel]
    fn form_zip3(a: &[f64], b: &[f64], c: &[f64]) -> [f64] {
        let mut s = 0.0;
        for ((x, y), z) in a.iter().zip(b).zip(c) {
            s += x * y - z;
        }
        s
    }
    #[kernel]
    fn form_enumerate(a: &[f64], out: &mut [f64]) -> [f64] {
        let mut s = 0.0;
        for (i, x) in a.iter().enumerate() {
            out[i] = x * 3.0 - i as f64;
            s += x;
        }
        s
    }
    #[kernel]
    fn form_range(a: &[f64], b: &[f64], out: &mut [f64]) -> [(f64, usize)] {
        let n = a.len();
        let mut s = 0.0;
        let mut c = 0;
        for i in 0..n {
            let d = a[i] - b[i];
            out[i] = if d > 0.0 { d } else { -d * 0.5 };
            s += d;
            if d.is_nan() {
                c += 1;
            }
        }
        (s, c)
    }
    #[kernel]
    fn form_sub_range(a: &[f64], out: &mut [f64], lo: usize, hi: usize) -> [f64] {
        let mut s = 0.0;
        for i in lo..hi {
            out[i] = a[i] * 2.0;
            s += a[i];
        }
        s
    }
    #[kernel]
    fn form_while(a: &[f64], out: &mut [f64]) -> [(usize, f64)] {
        let mut i = 0;
        let mut s = 0.0;
        while i < a.len() {
            s += a[i];
            out[i] = s * 0.5;
            i += 2;
        }
        (i, s)
    }
}

/// Every form with general data (exact for elementwise outputs, levels agree on the sums)
/// and with exact-sum data (sums equal the scalar loop).
#[test]
fn loop_forms_are_the_plain_loop() {
    for &n in LENS {
        for (set, a) in float_sets(n) {
            let b = match set {
                "exact" => exact_f64(n, seed(n, 11)),
                "pow2" => pow2_f64(n, seed(n, 11)),
                _ => gen_f64(n, seed(n, 11)),
            };
            let c = exact_f64(n, seed(n, 12));
            // Sums in lane order equal the scalar loop on these sets only.
            let exact_sums = matches!(set, "exact" | "all NaN" | "zeros");
            let exact_prods = matches!(set, "pow2" | "all NaN" | "zeros");
            let what = |f: &str| format!("{f} ({set}, n = {n})");

            let g = levels_agree(&what("for x in a"), || form_in::k(&a));
            let w = form_in::r(&a);
            assert_eq!(Z(g.1).keys(), Z(w.1).keys(), "{}: max", what("for x in a"));
            if exact_sums {
                assert_eq!(g.0.keys(), w.0.keys(), "{}: sum", what("for x in a"));
            }
            if exact_prods {
                assert_eq!(g.2.keys(), w.2.keys(), "{}: product", what("for x in a"));
            }

            let g = levels_agree(&what("a.iter()"), || form_iter::k(&a));
            let w = form_iter::r(&a);
            assert_eq!(Z(g.1).keys(), Z(w.1).keys(), "{}: min", what("a.iter()"));
            if exact_sums {
                assert_eq!(g.0.keys(), w.0.keys(), "{}: -=", what("a.iter()"));
            }
            if exact_prods {
                assert_eq!(g.2.keys(), w.2.keys(), "{}: product", what("a.iter()"));
            }

            let g = levels_agree(&what("&x in a.iter()"), || form_ref_pat::k(&a));
            let w = form_ref_pat::r(&a);
            assert_eq!(Z(g.1).keys(), Z(w.1).keys(), "{}: max", what("&x in a.iter()"));
            if exact_sums {
                assert_eq!(g.0.keys(), w.0.keys(), "{}: sum", what("&x in a.iter()"));
            }
            if exact_prods {
                assert_eq!(g.2.keys(), w.2.keys(), "{}: prod", what("&x in a.iter()"));
            }

            let g = levels_agree(&what("a.iter().copied()"), || form_copied::k(&a));
            let w = form_copied::r(&a);
            assert_eq!(Z(g.1).keys(), Z(w.1).keys(), "{}: min", what("copied"));
            if exact_sums {
                assert_eq!(g.0.keys(), w.0.keys(), "{}: sum", what("copied"));
            }

            let g = levels_agree(&what("zip"), || form_zip::k(&a, &b));
            let w = form_zip::r(&a, &b);
            assert_eq!(g.1, w.1, "{}: count", what("zip"));
            if exact_sums {
                assert_eq!(g.0.keys(), w.0.keys(), "{}: sum", what("zip"));
            }
            if exact_sums || exact_prods || set == "finite" {
                // x * y is exact on these, so the max is too.
                assert_eq!(Z(g.2).keys(), Z(w.2).keys(), "{}: max", what("zip"));
            }

            let g = levels_agree(&what("zip3"), || form_zip3::k(&a, &b, &c));
            if exact_sums {
                assert_eq!(g.keys(), form_zip3::r(&a, &b, &c).keys(), "{}", what("zip3"));
            }

            // Indexed forms: the outputs are elementwise, so exact on any data.
            let init = gen_f64(n + 3, seed(n, 13));
            let mut w_out = init.clone();
            let w = form_enumerate::r(&a, &mut w_out);
            let g = levels_agree(&what("enumerate"), || {
                let mut out = init.clone();
                let s = form_enumerate::k(&a, &mut out);
                (s, out)
            });
            assert_eq!(g.1.keys(), w_out.keys(), "{}: out", what("enumerate"));
            if exact_sums {
                assert_eq!(g.0.keys(), w.keys(), "{}: sum", what("enumerate"));
            }

            let mut w_out = init.clone();
            let w = form_range::r(&a, &b, &mut w_out);
            let g = levels_agree(&what("0..n"), || {
                let mut out = init.clone();
                let s = form_range::k(&a, &b, &mut out);
                (s, out)
            });
            assert_eq!(g.1.keys(), w_out.keys(), "{}: out", what("0..n"));
            assert_eq!(g.0 .1, w.1, "{}: count", what("0..n"));
            if exact_sums {
                assert_eq!(g.0 .0.keys(), w.0.keys(), "{}: sum", what("0..n"));
            }

            for (lo, hi) in [(0, n), (n / 3, n - n / 4), (n / 2, n / 2), (n, n)] {
                let mut w_out = init.clone();
                let w = form_sub_range::r(&a, &mut w_out, lo, hi);
                let g = levels_agree(&what("lo..hi"), || {
                    let mut out = init.clone();
                    let s = form_sub_range::k(&a, &mut out, lo, hi);
                    (s, out)
                });
                assert_eq!(g.1.keys(), w_out.keys(), "{}: {lo}..{hi} out", what("lo..hi"));
                if exact_sums {
                    assert_eq!(g.0.keys(), w.keys(), "{}: {lo}..{hi} sum", what("lo..hi"));
                }
            }

            // `while` runs in order: exact on any data.
            let mut w_out = init.clone();
            let w = form_while::r(&a, &mut w_out);
            let run = || {
                let mut out = init.clone();
                let s = form_while::k(&a, &mut out);
                (s, out)
            };
            check_at_levels(&what("while"), &(w, w_out), run, |v| v.clone());
        }
    }
}

/// Zip of unequal lengths panics with the kernel's mismatch message (a deliberate
/// difference from `Iterator::zip`, which truncates).
#[test]
fn zip_of_unequal_lengths_panics() {
    for t in loopfuse::supported_targets() {
        for (na, nb) in [(10, 9), (9, 10), (0, 1), (4097, 4096)] {
            let (a, b) = (vec![1.0; na], vec![2.0; nb]);
            let m = loopfuse::with_target(t, || panic_message(|| form_zip::k(&a, &b)));
            let want = format!("kernel `k`: `a` has {na} elements but `b` has {nb}");
            assert!(m.contains(&want), "{t:?}: {m:?}, want {want:?}");
        }
        let (a, b, c) = (vec![1.0; 40], vec![2.0; 40], vec![3.0; 39]);
        let m = loopfuse::with_target(t, || panic_message(|| form_zip3::k(&a, &b, &c)));
        assert!(m.contains("kernel `k`:") && m.contains("40 elements") && m.contains("`c` has 39"), "{t:?}: {m:?}");
    }
}

// ---- other parameter kinds: ndarray views (strided, reversed), `&Vec`, `&[T; N]`, `Result`

twin! {
    #[kernel]
    fn view_stencil(a: ArrayView1<f64>, out: &mut [f64]) {
        let n = a.len();
        for i in 1..n - 1 {
            out[i] = a[i - 1] - a[i + 1] * 2.0;
        }
    }
    #[kernel]
    fn view_cumsum(a: ArrayView1<f64>, out: &mut [f64]) -> [f64] {
        let mut acc = 0.0;
        for i in 0..a.len() {
            acc += a[i];
            out[i] = acc;
        }
        acc
    }
    #[kernel]
    fn view_reduce(a: ArrayView1<f64>) -> [(f64, f64)] {
        let mut s = 0.0;
        let mut m = f64::NEG_INFINITY;
        for x in a.iter() {
            s += x;
            m = m.max(*x);
        }
        (s, m)
    }
    #[kernel]
    fn view_out(a: &[f64], mut out: ArrayViewMut1<f64>) {
        for i in 0..a.len() {
            out[i] = a[i] * 3.0;
        }
    }
    #[kernel]
    fn view_out_sequential(a: &[f64], mut out: ArrayViewMut1<f64>) {
        let mut acc = 0.0;
        for i in 0..a.len() {
            acc += a[i];
            out[i] = acc;
        }
    }
    #[kernel]
    fn vec_params(a: &Vec<f64>, out: &mut Vec<f64>) -> [f64] {
        let mut s = 0.0;
        for (i, x) in a.iter().enumerate() {
            out[i] = x + 1.0;
            s += x;
        }
        s
    }
    #[kernel]
    fn array_param(a: &[f64; 8]) -> [f64] {
        let mut s = 0.0;
        for i in 0..8usize {
            s += a[i] * a[7 - i];
        }
        s
    }
}

#[kernel]
fn zip_result(a: &[f64], b: &[f64]) -> Result<f64, KernelError> {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        s += x * y;
    }
    Ok(s)
}

#[test]
fn views_and_other_parameters() {
    for &n in LENS {
        let base = Array1::from(exact_f64(2 * n + 1, seed(n, 61)));
        let views = [
            ("contiguous", base.slice(s![..n])),
            ("reversed", base.slice(s![..n; -1])),
            ("step 2", base.slice(s![1..; 2])),
            ("step -2", base.slice(s![..; -2])),
        ];
        for (name, v) in views {
            let m = v.len();
            let what = |f: &str| format!("{f} ({name} view, n = {m})");
            let init = vec![f64::from_bits(UNTOUCHED); m];
            if m >= 1 {
                let mut w = init.clone();
                view_stencil::r(v, &mut w);
                let run = || {
                    let mut out = init.clone();
                    view_stencil::k(v, &mut out);
                    out
                };
                check_at_levels(&what("stencil"), &w, run, |o| o.clone());
            }
            let mut w = init.clone();
            let r = view_cumsum::r(v, &mut w);
            let run = || {
                let mut out = init.clone();
                let r = view_cumsum::k(v, &mut out);
                (r, out)
            };
            check_at_levels(&what("cumsum"), &(r, w), run, |o| o.clone());
            // Exact data: the sum in lane order is the sum in order.
            check_at_levels(&what("reduce"), &view_reduce::r(v), || view_reduce::k(v), |o| (o.0, Z(o.1)));
        }

        let a = gen_f64(n, seed(n, 62));
        for step in [1isize, 2, -1, -3] {
            let len = n * step.unsigned_abs() + 2;
            let init = Array1::from(gen_f64(len, seed(n, 63)));
            let what = format!("ArrayViewMut1 output, step {step} (n = {n})");
            let sl = if step > 0 { s![..;step] } else { s![1..;step] };
            let mut w = init.clone();
            view_out::r(&a, w.slice_mut(sl));
            let run = || {
                let mut out = init.clone();
                view_out::k(&a, out.slice_mut(sl));
                out.to_vec()
            };
            check_at_levels(&what, &w.to_vec(), run, |o| o.clone());
            let mut w = init.clone();
            view_out_sequential::r(&a, w.slice_mut(sl));
            let run = || {
                let mut out = init.clone();
                view_out_sequential::k(&a, out.slice_mut(sl));
                out.to_vec()
            };
            check_at_levels(&format!("sequential {what}"), &w.to_vec(), run, |o| o.clone());
        }

        let a = exact_f64(n, seed(n, 64));
        let init = gen_f64(n, seed(n, 65));
        let mut w = init.clone();
        let r = vec_params::r(&a, &mut w);
        let run = || {
            let mut out = init.clone();
            let r = vec_params::k(&a, &mut out);
            (r, out)
        };
        check_at_levels(&format!("&Vec (n = {n})"), &(r, w), run, |o| o.clone());
    }
    let x: [f64; 8] = std::array::from_fn(|i| exact_f64(8, 66)[i]);
    check_at_levels("&[f64; 8]", &array_param::r(&x), || array_param::k(&x), |v| *v);
}

/// With a `Result` return type, a zip of unequal lengths is an `Err`, not a panic.
#[test]
fn zip_mismatch_in_a_result_kernel_is_an_error() {
    at_every_level(|t| {
        let (a, b) = (vec![1.0; 10], vec![2.0; 9]);
        match zip_result(&a, &b) {
            Err(e) => {
                let m = e.to_string();
                assert!(m.contains("zip_result") && m.contains("10") && m.contains('9'), "{t:?}: {m}");
            }
            Ok(v) => panic!("{t:?}: Ok({v}) for unequal lengths"),
        }
        assert_eq!(zip_result(&a, &a).unwrap(), 10.0, "{t:?}");
    });
}

// ---- (d) loops that run in order ----------------------------------------------------------

twin! {
    #[kernel]
    fn cumsum(x: &[f64], out: &mut [f64]) -> [f64] {
        let mut acc = 0.0;
        for i in 0..x.len() {
            acc += x[i];
            out[i] = acc;
        }
        acc
    }
    #[kernel]
    fn cumsum_enumerate(x: &[f64], out: &mut [f64]) {
        let mut acc = 1.0;
        for (i, v) in x.iter().enumerate() {
            acc *= v;
            out[i] = acc;
        }
    }
    #[kernel]
    fn running_max(x: &[f64], out: &mut [f64]) -> [f64] {
        let mut m = f64::NEG_INFINITY;
        for i in 0..x.len() {
            m = m.max(x[i]);
            out[i] = m;
        }
        m
    }
    #[kernel]
    fn argmax_loop(x: &[f64]) -> [(usize, f64)] {
        let mut best = f64::NEG_INFINITY;
        let mut idx = 0;
        for (i, v) in x.iter().enumerate() {
            if *v > best {
                best = *v;
                idx = i;
            }
        }
        (idx, best)
    }
    #[kernel]
    fn while_break(x: &[f64]) -> [(usize, f64)] {
        let mut i = 0;
        let mut s = 0.0;
        while i < x.len() {
            if x[i].is_nan() {
                break;
            }
            s += x[i];
            i += 1;
        }
        (i, s)
    }
    #[kernel]
    fn for_break(x: &[f64]) -> [(f64, usize)] {
        let mut s = 0.0;
        let mut c = 0;
        for v in x {
            if v.is_infinite() {
                break;
            }
            s += v;
            c += 1;
        }
        (s, c)
    }
    #[kernel]
    fn with_continue(x: &[f64]) -> [(f64, usize)] {
        let mut s = 0.0;
        let mut c = 0;
        for v in x {
            if v.is_nan() {
                continue;
            }
            s += v;
            c += 1;
        }
        (s, c)
    }
    #[kernel]
    fn if_else_accumulators(x: &[f64]) -> [(f64, f64)] {
        let mut pos = 0.0;
        let mut neg = 0.0;
        for v in x {
            if *v > 0.0 {
                pos += v;
            } else {
                neg += v;
            }
        }
        (pos, neg)
    }
    #[kernel]
    fn nested(x: &[f64]) -> [usize] {
        let mut c = 0;
        for i in 0..x.len() {
            for j in i + 1..x.len() {
                if x[i] > x[j] {
                    c += 1;
                }
            }
        }
        c
    }
    #[kernel]
    fn prefix_i64(x: &[i64], out: &mut [i64]) -> [i64] {
        let mut acc = 0;
        for i in 0..x.len() {
            acc += x[i];
            out[i] = acc;
        }
        acc
    }
}

/// Sequential loops equal the plain loop bit for bit on any data (the sums in order).
#[test]
fn sequential_loops_are_exact() {
    for &n in LENS {
        for (set, x) in float_sets(n) {
            let what = |f: &str| format!("{f} ({set}, n = {n})");
            let init = vec![f64::from_bits(UNTOUCHED); n + 1];
            macro_rules! with_out {
                ($m:ident, $name:expr) => {{
                    let mut w = init.clone();
                    let r = $m::r(&x, &mut w);
                    let run = || {
                        let mut out = init.clone();
                        let r = $m::k(&x, &mut out);
                        (r, out)
                    };
                    check_at_levels(&what($name), &(r, w), run, |v| v.clone());
                }};
            }
            with_out!(cumsum, "cumsum");
            with_out!(cumsum_enumerate, "cumprod enumerate");
            let mut w = init.clone();
            let r = running_max::r(&x, &mut w);
            let run = || {
                let mut out = init.clone();
                let r = running_max::k(&x, &mut out);
                (r, out)
            };
            check_at_levels(&what("running max"), &(r, w), run, |v| {
                (Z(v.0), v.1.iter().map(|&m| Z(m)).collect::<Vec<_>>())
            });
            check_at_levels(&what("argmax"), &argmax_loop::r(&x), || argmax_loop::k(&x), |v| *v);
            check_at_levels(&what("while break"), &while_break::r(&x), || while_break::k(&x), |v| *v);
            check_at_levels(&what("for break"), &for_break::r(&x), || for_break::k(&x), |v| *v);
            check_at_levels(&what("continue"), &with_continue::r(&x), || with_continue::k(&x), |v| *v);
            check_at_levels(
                &what("if/else accumulators"),
                &if_else_accumulators::r(&x),
                || if_else_accumulators::k(&x),
                |v| *v,
            );
            if n <= 1023 {
                check_at_levels(&what("nested"), &nested::r(&x), || nested::k(&x), |v| *v);
            }
        }
        let xi = small_i64(n, seed(n, 5));
        let mut w = vec![7i64; n];
        let r = prefix_i64::r(&xi, &mut w);
        let run = || {
            let mut out = vec![7i64; n];
            let r = prefix_i64::k(&xi, &mut out);
            (r, out)
        };
        check_at_levels(&format!("prefix i64 (n = {n})"), &(r, w), run, |v| v.clone());
    }
}

twin! {
    #[kernel]
    fn early_return(a: &[f64]) -> [usize] {
        for (i, x) in a.iter().enumerate() {
            if x.is_nan() {
                return i;
            }
        }
        a.len()
    }
    #[kernel]
    fn exclusive_scan(a: &[f64], out: &mut [f64]) -> [f64] {
        let mut s = 0.0;
        for i in 0..a.len() {
            out[i] = s;
            s += a[i];
        }
        s
    }
    #[kernel]
    fn not_compound(a: &[f64]) -> [f64] {
        let mut s = 0.0;
        for x in a {
            s = s + x;
        }
        s
    }
    #[kernel]
    fn conditional_assign(a: &[f64]) -> [f64] {
        let mut m = f64::NEG_INFINITY;
        for &x in a {
            if x > m {
                m = x;
            }
        }
        m
    }
    #[kernel]
    fn labeled_break(a: &[f64]) -> [usize] {
        let mut c = 0;
        'outer: for i in 0..a.len().min(200) {
            for j in 0..a.len().min(200) {
                if a[i] + a[j] > 1e3 {
                    break 'outer;
                }
                c += 1;
            }
        }
        c
    }
    #[kernel]
    fn range_from_count(a: &[f64]) -> [(usize, f64)] {
        let mut n = 0;
        for x in a {
            if *x > 0.0 {
                n += 1;
            }
        }
        let mut s = 0.0;
        for i in 0..n {
            s += a[i];
        }
        (n, s)
    }
    #[kernel]
    fn accumulator_feeds_next_loop(a: &[f64]) -> [(f64, f64)] {
        let mut s = 0.0;
        for x in a {
            s += x;
        }
        let mut t = 0.0;
        for x in a {
            t += x * s;
        }
        (s, t)
    }
}

/// More loops that run in order (`return`, a value read before its update, `acc = acc + e`,
/// a conditional assignment, a labeled `break`), exact on any data; and accumulators that
/// feed the next loop (exact on exact-sum data).
#[test]
fn more_sequential_loops() {
    for &n in LENS {
        for (set, x) in float_sets(n) {
            let what = |f: &str| format!("{f} ({set}, n = {n})");
            check_at_levels(&what("return"), &early_return::r(&x), || early_return::k(&x), |v| *v);
            let init = vec![f64::from_bits(UNTOUCHED); n];
            let mut w = init.clone();
            let r = exclusive_scan::r(&x, &mut w);
            let run = || {
                let mut out = init.clone();
                (exclusive_scan::k(&x, &mut out), out)
            };
            check_at_levels(&what("exclusive scan"), &(r, w), run, |v| v.clone());
            check_at_levels(&what("s = s + x"), &not_compound::r(&x), || not_compound::k(&x), |v| *v);
            check_at_levels(
                &what("if x > m { m = x }"),
                &conditional_assign::r(&x),
                || conditional_assign::k(&x),
                |v| *v,
            );
            check_at_levels(&what("labeled break"), &labeled_break::r(&x), || labeled_break::k(&x), |v| *v);
            if matches!(set, "exact" | "all NaN" | "zeros") {
                check_at_levels(
                    &what("range from a count"),
                    &range_from_count::r(&x),
                    || range_from_count::k(&x),
                    |v| *v,
                );
            }
            if matches!(set, "all NaN" | "zeros") || (set == "exact" && !x.iter().any(|v| v.is_infinite())) {
                check_at_levels(
                    &what("accumulator feeds the next loop"),
                    &accumulator_feeds_next_loop::r(&x),
                    || accumulator_feeds_next_loop::k(&x),
                    |v| *v,
                );
            }
        }
    }
}

/// A sequential loop that runs past the end of an output panics (as plain Rust does).
#[test]
fn sequential_loop_out_of_bounds_panics() {
    let x = vec![1.0; 100];
    for t in loopfuse::supported_targets() {
        let mut out = vec![0.0; 99];
        let m = loopfuse::with_target(t, || panic_message(|| cumsum::k(&x, &mut out)));
        assert!(m.contains("index out of bounds"), "{t:?}: {m}");
    }
}

// ---- (e) accumulators ---------------------------------------------------------------------

twin! {
    #[kernel]
    fn accumulators(a: &[f64], b: &[f64]) -> [(f64, f64, f64, f64, f64, usize, f64, f64)] {
        let mut s = 0.0;
        let mut d = 100.0;
        let mut p = 1.0;
        let mut mx = f64::NEG_INFINITY;
        let mut mn = f64::INFINITY;
        let mut cnt = 0;
        let mut fs = 0.0;
        let mut fc = 0.0;
        for (x, y) in a.iter().zip(b) {
            s += x * 2.0;
            d -= x;
            p *= y;
            mx = mx.max(x * y);
            mn = mn.min(*x);
            if x > y {
                cnt += 1;
            }
            if *x < 0.0 {
                fs += x;
            }
            if y.is_nan() {
                fc += 1.0;
            }
        }
        (s, d, p, mx, mn, cnt, fs, fc)
    }
    #[kernel]
    fn accumulators_i64(a: &[i64], b: &[i64]) -> [(i64, i64, i64, i64, i64, usize, i64)] {
        let mut s = 0;
        let mut d = 5;
        let mut p = 1;
        let mut mx = i64::MIN;
        let mut mn = i64::MAX;
        let mut cnt = 0;
        let mut neg = 0;
        for (x, y) in a.iter().zip(b) {
            s += x * 3;
            d -= x;
            p *= y;
            mx = mx.max(*x);
            mn = mn.min(x - 1);
            if x % 2 == 0 {
                cnt += 1;
            }
            if *x < 0 {
                neg += x;
            }
        }
        (s, d, p, mx, mn, cnt, neg)
    }
    #[kernel]
    fn accumulators_i32(a: &[i32]) -> [(i32, u32, i32)] {
        let mut s = 0;
        let mut c = 0;
        let mut m = 0;
        for &x in a.iter() {
            s += x / 4;
            if x > 100 {
                c += 1;
            }
            m = m.min(x);
        }
        (s, c, m)
    }
    #[kernel(strict)]
    fn accumulators_strict(a: &[f64], b: &[f64]) -> [(f64, f64, f64, f64, f64, usize, f64, f64)] {
        let mut s = 0.0;
        let mut d = 100.0;
        let mut p = 1.0;
        let mut mx = f64::NEG_INFINITY;
        let mut mn = f64::INFINITY;
        let mut cnt = 0;
        let mut fs = 0.0;
        let mut fc = 0.0;
        for (x, y) in a.iter().zip(b) {
            s += x * 2.0;
            d -= x;
            p *= y;
            mx = mx.max(x * y);
            mn = mn.min(*x);
            if x > y {
                cnt += 1;
            }
            if *x < 0.0 {
                fs += x;
            }
            if y.is_nan() {
                fc += 1.0;
            }
        }
        (s, d, p, mx, mn, cnt, fs, fc)
    }
}

/// The expression forms of the reductions in `accumulators`.
#[kernel]
fn accumulators_expr(a: &[f64], b: &[f64]) -> (f64, f64, f64, f64, f64) {
    (
        0.0 + (a * 2.0).sum(),
        100.0 - a.sum(),
        1.0 * b.prod(),
        0.0 + (if a < 0.0 { a } else { 0.0 }).sum(),
        0.0 + (if b.is_nan() { 1.0 } else { 0.0 }).sum(),
    )
}

#[test]
fn accumulators_are_reductions() {
    for &n in LENS {
        // a: exact sums; b: exact products.
        for (set, a, b) in [
            ("exact/pow2", exact_f64(n, seed(n, 21)), pow2_f64(n, seed(n, 22))),
            ("all NaN", vec![f64::NAN; n], vec![f64::NAN; n]),
            ("NaN then 1.0", (0..n).map(|i| if i == n / 2 { 1.0 } else { f64::NAN }).collect(), vec![2.0; n]),
            ("zeros", vec![-0.0; n], vec![0.0; n]),
        ] {
            let what = format!("accumulators ({set}, n = {n})");
            check_at_levels(
                &what,
                &accumulators::r(&a, &b),
                || accumulators::k(&a, &b),
                |v| (v.0, v.1, v.2, Z(v.3), Z(v.4), v.5, v.6, v.7),
            );
            let what = format!("strict accumulators ({set}, n = {n})");
            check_at_levels(
                &what,
                &accumulators_strict::r(&a, &b),
                || accumulators_strict::k(&a, &b),
                |v| (v.0, v.1, v.2, Z(v.3), Z(v.4), v.5, v.6, v.7),
            );
        }
        // On any data: the loop's sums are the expression form's, bit for bit; strict is
        // the scalar loop bit for bit.
        let (a, b) = (gen_f64(n, seed(n, 23)), gen_f64(n, seed(n, 24)));
        let what = format!("accumulators (gen, n = {n})");
        let g = levels_agree(&what, || accumulators::k(&a, &b));
        let e = levels_agree(&what, || accumulators_expr(&a, &b));
        assert_eq!((g.0, g.1, g.2, g.6, g.7).keys(), e.keys(), "{what}: vs the expression form");
        let w = accumulators::r(&a, &b);
        assert_eq!((Z(g.3), Z(g.4), g.5).keys(), (Z(w.3), Z(w.4), w.5).keys(), "{what}: max, min, count");
        check_at_levels(
            &format!("strict {what}"),
            &accumulators_strict::r(&a, &b),
            || accumulators_strict::k(&a, &b),
            |v| (v.0, v.1, v.2, Z(v.3), Z(v.4), v.5, v.6, v.7),
        );

        let (ai, bi) = (small_i64(n, seed(n, 25)), unit_i64(n, seed(n, 26)));
        let what = format!("i64 accumulators (n = {n})");
        check_at_levels(&what, &accumulators_i64::r(&ai, &bi), || accumulators_i64::k(&ai, &bi), |v| *v);
        let a32 = small_i32(n, seed(n, 27));
        let what = format!("i32 accumulators (n = {n})");
        check_at_levels(&what, &accumulators_i32::r(&a32), || accumulators_i32::k(&a32), |v| *v);
    }
}

twin! {
    #[kernel]
    fn index_only(n: usize) -> [(f64, usize, u64)] {
        let mut s = 0.0;
        let mut c = 0;
        let mut q = 0u64;
        for i in 0..n {
            s += i as f64;
            if i % 3 == 0 {
                c += 1;
            }
            q += (i * i) as u64;
        }
        (s, c, q)
    }
    #[kernel]
    fn index_to_output(out: &mut [f64], lo: usize) {
        for i in lo..out.len() {
            out[i] = (i * 2) as f64 - 0.5;
        }
    }
    #[kernel]
    fn scalar_condition(a: &[f64], flag: bool) -> [f64] {
        let mut s = 0.0;
        for x in a {
            if flag {
                s += x;
            }
        }
        s
    }
    #[kernel]
    fn accumulators_f32(a: &[f32]) -> [(f32, f32, usize)] {
        let mut s = 0.0f32;
        let mut m = f32::MIN;
        let mut c = 0;
        for &x in a {
            s += x * 0.5;
            m = m.max(x);
            if x.is_nan() {
                c += 1;
            }
        }
        (s, m, c)
    }
    #[kernel]
    fn mixed_types(a: &[f32], b: &[i32]) -> [(f64, i64)] {
        let mut s = 0.0;
        let mut t = 0i64;
        for (x, y) in a.iter().zip(b) {
            s += *x as f64 * *y as f64;
            t += *y as i64;
        }
        (s, t)
    }
}

/// Loops over a range with no array read, a scalar condition, f32 accumulators, and mixed
/// element types (exact data: every order gives the same bits).
#[test]
fn index_only_scalar_conditions_and_types() {
    for &n in LENS {
        let what = |f: &str| format!("{f} (n = {n})");
        check_at_levels(&what("index only"), &index_only::r(n), || index_only::k(n), |v| *v);
        for lo in [0, n / 2, n] {
            let init = vec![f64::from_bits(UNTOUCHED); n];
            let mut w = init.clone();
            index_to_output::r(&mut w, lo);
            let run = || {
                let mut out = init.clone();
                index_to_output::k(&mut out, lo);
                out
            };
            check_at_levels(&what("index to output"), &w, run, |v| v.clone());
        }
        let a = exact_f64(n, seed(n, 81));
        for flag in [true, false] {
            check_at_levels(
                &what("scalar condition"),
                &scalar_condition::r(&a, flag),
                || scalar_condition::k(&a, flag),
                |v| *v,
            );
        }
        let a32: Vec<f32> = a.iter().map(|&x| x as f32).collect();
        check_at_levels(
            &what("f32 accumulators"),
            &accumulators_f32::r(&a32),
            || accumulators_f32::k(&a32),
            |v| (v.0, Z(v.1 as f64), v.2),
        );
        let b: Vec<i32> = small_i32(n, seed(n, 82));
        check_at_levels(&what("f32 x i32"), &mixed_types::r(&a32, &b), || mixed_types::k(&a32, &b), |v| *v);
    }
}

/// `acc = acc.max(e)` is `f64::max`: NaN is ignored, unlike the `max()` reduction.
#[test]
fn loop_max_ignores_nan() {
    let mut x = vec![f64::NAN; 100];
    x[37] = -3.0;
    x[80] = -5.0;
    at_every_level(|t| {
        let (_, m, _) = form_in::k(&x);
        assert_eq!(m, -3.0, "{t:?}");
        let (_, m, _) = form_iter::k(&x);
        assert_eq!(m, -5.0, "{t:?}");
        let (_, m, _) = form_in::k(&[f64::NAN; 50]);
        assert_eq!(m, f64::NEG_INFINITY, "{t:?}");
    });
}

// ---- (f) bounds ---------------------------------------------------------------------------

#[kernel]
fn window(a: &[f64], out: &mut [f64], lo: usize, hi: usize) {
    for i in lo..hi {
        out[i] = a[i - 1] + a[i + 1];
    }
}

#[kernel]
fn window_sum(a: &[f64], lo: usize, hi: usize) -> f64 {
    let mut s = 0.0;
    for i in lo..hi {
        s += a[i + 2] - a[i - 3];
    }
    s
}

#[kernel]
fn empty_literal_range(a: &[f64], out: &mut [f64]) -> f64 {
    let mut s = 0.0;
    // Untyped literals: the index type comes from the indexing, as in plain Rust.
    for i in 5..3 {
        s += a[i + 1];
        out[i] = a[i - 1];
    }
    s
}

fn window_naive(a: &[f64], out: &mut [f64], lo: usize, hi: usize) {
    for i in lo..hi {
        out[i] = a[i - 1] + a[i + 1];
    }
}

#[test]
fn bounds_at_the_edges() {
    for n in [3, 4, 33, 1000, 4097] {
        let a = gen_f64(n, seed(n, 31));
        let init = vec![f64::from_bits(UNTOUCHED); n];
        for t in loopfuse::supported_targets() {
            loopfuse::with_target(t, || {
                // Reaching exactly a[0] and a[n - 1] passes.
                let mut out = init.clone();
                window(&a, &mut out, 1, n - 1);
                let mut want = init.clone();
                window_naive(&a, &mut want, 1, n - 1);
                assert_eq!(out.keys(), want.keys(), "{t:?} n = {n}");

                // One before the first element, and one past the last: a panic before the
                // loop, with the index range and the length; `out` untouched.
                let mut out = init.clone();
                let m = panic_message(|| window(&a, &mut out, 0, n - 1));
                let want = format!(
                    "kernel `window`: index out of bounds: `a[i - 1]` for i in 0..{} accesses -1..={} but `a` has {n} elements",
                    n - 1,
                    n - 3
                );
                assert!(m.contains(&want), "{t:?}: {m:?}\nwant {want:?}");
                assert!(out.iter().all(|v| v.to_bits() == UNTOUCHED), "{t:?}: written before the panic");

                let m = panic_message(|| window(&a, &mut out, 1, n));
                let want = format!(
                    "kernel `window`: index out of bounds: `a[i + 1]` for i in 1..{n} accesses 2..={n} but `a` has {n} elements"
                );
                assert!(m.contains(&want), "{t:?}: {m:?}\nwant {want:?}");
                assert!(out.iter().all(|v| v.to_bits() == UNTOUCHED), "{t:?}: written before the panic");

                // The output is checked too.
                let mut short = vec![0.0; n - 2];
                let m = panic_message(|| window(&a, &mut short, 1, n - 1));
                assert!(
                    m.contains("kernel `window`: index out of bounds: `out[i]`")
                        && m.contains(&format!("`out` has {} elements", n - 2)),
                    "{t:?}: {m:?}"
                );
                assert!(short.iter().all(|&v| v == 0.0), "{t:?}: written before the panic");

                // A reduction with offsets -3 and +2: 3..n-2 reaches both ends exactly.
                if n >= 5 {
                    let s = window_sum(&a, 3, n - 2);
                    let direct = levels_agree("window_sum", || window_sum(&a, 3, n - 2));
                    assert_eq!(s.keys(), direct.keys());
                    let m = panic_message(|| window_sum(&a, 2, n - 2));
                    assert!(m.contains("`a[i - 3]` for i in 2..") && m.contains("accesses -1..="), "{t:?}: {m:?}");
                    let m = panic_message(|| window_sum(&a, 3, n - 1));
                    assert!(
                        m.contains(&format!("`a[i + 2]` for i in 3..{} accesses 5..={n}", n - 1))
                            && m.contains(&format!("`a` has {n} elements")),
                        "{t:?}: {m:?}"
                    );
                }
            });
        }
    }
}

/// An empty range does nothing and never panics, whatever the offsets and lengths.
#[test]
fn empty_ranges_never_panic() {
    at_every_level(|t| {
        let mut none: [f64; 0] = [];
        assert_eq!(empty_literal_range(&[], &mut none).to_bits(), 0, "{t:?}");
        let mut out = [9.0; 2];
        assert_eq!(empty_literal_range(&[1.0, 2.0], &mut out).to_bits(), 0, "{t:?}");
        assert_eq!(out, [9.0; 2]);
        for (lo, hi) in [(5, 3), (0, 0), (7, 7), (usize::MAX, 0), (3, 2)] {
            window(&[], &mut none, lo, hi);
            assert_eq!(window_sum(&[], lo, hi).to_bits(), 0, "{t:?} {lo}..{hi}");
            let mut out = [9.0; 3];
            window(&[1.0], &mut out, lo, hi);
            assert_eq!(out, [9.0; 3], "{t:?} {lo}..{hi}");
        }
    });
}

// ---- (g) loops mixed with array expressions -----------------------------------------------

#[kernel]
fn mixed_loop(x: &[f64], y: &[f64]) -> Vec<f64> {
    let m = x.mean();
    let mut s = 0.0;
    for v in x {
        s += (v - m).abs();
    }
    let r = y * s;
    r
}

#[kernel]
fn mixed_expr(x: &[f64], y: &[f64]) -> Vec<f64> {
    let m = x.mean();
    let s = (x - m).abs().sum();
    y * s
}

#[kernel]
fn mixed_sequential(x: &[f64], out: &mut [f64]) -> (f64, f64) {
    let m = x.mean();
    let mut acc = 0.0;
    for i in 0..x.len() {
        acc += x[i] - m;
        out[i] = acc;
    }
    let t = (x * 2.0).sum();
    (acc, t + acc)
}

#[kernel]
fn mean_of(x: &[f64]) -> f64 {
    x.mean()
}

#[kernel]
fn twice_sum(x: &[f64]) -> f64 {
    (x * 2.0).sum()
}

#[kernel]
fn loops_between_expressions(x: &[f64], y: &[f64], out: &mut [f64]) -> (f64, f64) {
    let lo = x.min();
    let mut s = 0.0;
    for (a, b) in x.iter().zip(y) {
        s += (a - lo) * b;
    }
    let mut c = 0.0;
    for i in 0..y.len() {
        out[i] = y[i] * s;
        c += y[i];
    }
    let z = (x * c).max();
    (s, z)
}

#[kernel]
fn between_expr(x: &[f64], y: &[f64]) -> (f64, f64, f64) {
    let lo = x.min();
    let s = ((x - lo) * y).sum();
    let c = y.sum();
    (s, c, (x * c).max())
}

#[test]
fn loops_mixed_with_expressions() {
    for &n in LENS {
        for (set, x) in float_sets(n) {
            let y = gen_finite_f64(n, seed(n, 41));
            let what = format!("mixed ({set}, n = {n})");
            let want = levels_agree(&what, || mixed_expr(&x, &y));
            check_at_levels(&what, &want, || mixed_loop(&x, &y), |v| v.clone());

            // A loop in order between two expressions: the reference runs the same loop
            // with the mean and the sum from their own kernels.
            let init = vec![f64::from_bits(UNTOUCHED); n];
            let m = levels_agree("mean", || mean_of(&x));
            let t = levels_agree("sum", || twice_sum(&x));
            let mut w = init.clone();
            let mut acc = 0.0;
            for i in 0..n {
                acc += x[i] - m;
                w[i] = acc;
            }
            let run = || {
                let mut out = init.clone();
                let r = mixed_sequential(&x, &mut out);
                (r, out)
            };
            check_at_levels(&format!("sequential {what}"), &((acc, t + acc), w), run, |v| v.clone());

            if n > 0 {
                let e = levels_agree("between expr", || between_expr(&x, &y));
                let mut w = init.clone();
                for i in 0..n {
                    w[i] = y[i] * e.0;
                }
                let run = || {
                    let mut out = init.clone();
                    let r = loops_between_expressions(&x, &y, &mut out);
                    (r, out)
                };
                check_at_levels(&format!("between {what}"), &((e.0, e.2), w), run, |v| v.clone());
            }
        }
    }
}

// ---- bugs found by this suite (fixed in d44bce6 unless marked `ignore`) -----------------

twin! {
    #[kernel]
    fn write_then_update(a: &[f64], out: &mut [f64]) {
        for i in 0..a.len() {
            out[i] = a[i];
            out[i] += 1.0;
        }
    }
    #[kernel]
    fn update_twice(a: &[f64], out: &mut [f64]) {
        for i in 0..a.len() {
            out[i] += a[i];
            out[i] += 1.0;
        }
    }
    #[kernel]
    fn write_then_read(a: &[f64], out: &mut [f64]) -> [f64] {
        let mut s = 0.0;
        for i in 0..a.len() {
            out[i] = a[i] * 2.0;
            s += out[i];
        }
        s
    }
    #[kernel]
    fn write_then_read_other(a: &[f64], o1: &mut [f64], o2: &mut [f64]) {
        for i in 1..a.len() {
            o1[i] = a[i] + 1.0;
            o2[i] = o1[i - 1] + o1[i];
        }
    }
}

/// An output read after it was written in the same iteration (`out[i] = ..; out[i] += ..`,
/// `s += out[i]`, `o2[i] = o1[i - 1] + o1[i]`) is the value just written, as in the plain
/// loop. (Was a bug: the value from before the loop; fixed in d44bce6.)
#[test]
fn output_written_then_read_in_one_iteration() {
    for &n in LENS {
        let a = exact_f64(n, seed(n, 51));
        let init = exact_f64(n, seed(n, 52));
        let what = |f: &str| format!("{f} (n = {n})");
        let mut w = init.clone();
        write_then_update::r(&a, &mut w);
        let run = || {
            let mut out = init.clone();
            write_then_update::k(&a, &mut out);
            out
        };
        check_at_levels(&what("out[i] = ..; out[i] += .."), &w, run, |v| v.clone());

        let mut w = init.clone();
        update_twice::r(&a, &mut w);
        let run = || {
            let mut out = init.clone();
            update_twice::k(&a, &mut out);
            out
        };
        check_at_levels(&what("out[i] += ..; out[i] += .."), &w, run, |v| v.clone());

        let mut w = init.clone();
        let r = write_then_read::r(&a, &mut w);
        let run = || {
            let mut out = init.clone();
            let s = write_then_read::k(&a, &mut out);
            (s, out)
        };
        check_at_levels(&what("out[i] = ..; s += out[i]"), &(r, w), run, |v| v.clone());

        let (mut w1, mut w2) = (init.clone(), init.clone());
        write_then_read_other::r(&a, &mut w1, &mut w2);
        let run = || {
            let (mut o1, mut o2) = (init.clone(), init.clone());
            write_then_read_other::k(&a, &mut o1, &mut o2);
            (o1, o2)
        };
        check_at_levels(&what("o2[i] = o1[i - 1] + o1[i]"), &(w1, w2), run, |v| v.clone());
    }
}

twin! {
    #[kernel]
    fn forward_read(a: &[f64], out: &mut [f64]) {
        for i in 0..a.len() - 1 {
            out[i] = out[i + 1] * 0.5 + a[i];
        }
    }
    #[kernel]
    fn recurrence(a: &[f64], out: &mut [f64]) {
        for i in 2..a.len() {
            out[i] = out[i - 2] * 0.5 + a[i];
        }
    }
}

/// Reading an output the loop writes: `out[i + 1]` is still the old value (as in the plain
/// loop, which has not reached it), `out[i - 2]` is the value written two iterations ago.
#[test]
fn output_read_ahead_and_behind() {
    for &n in LENS {
        let a = gen_f64(n, seed(n, 91));
        let init = gen_f64(n, seed(n, 92));
        if n >= 1 {
            let mut w = init.clone();
            forward_read::r(&a, &mut w);
            let run = || {
                let mut out = init.clone();
                forward_read::k(&a, &mut out);
                out
            };
            check_at_levels(&format!("out[i + 1] (n = {n})"), &w, run, |v| v.clone());
        }
        let mut w = init.clone();
        recurrence::r(&a, &mut w);
        let run = || {
            let mut out = init.clone();
            recurrence::k(&a, &mut out);
            out
        };
        check_at_levels(&format!("out[i - 2] (n = {n})"), &w, run, |v| v.clone());
    }
}

#[kernel]
fn loop_then_sum(a: &[f64], out: &mut [f64]) -> f64 {
    for i in 0..a.len() {
        out[i] = a[i] * 2.0;
    }
    out.sum()
}

#[kernel]
fn loop_then_array(a: &[f64], out: &mut [f64]) -> Vec<f64> {
    for i in 0..a.len() {
        out[i] = a[i] * 2.0;
    }
    out + 1.0
}

#[kernel]
fn loop_then_loop(a: &[f64], out: &mut [f64]) -> f64 {
    for i in 0..a.len() {
        out[i] = a[i] * 2.0;
    }
    let mut s = 0.0;
    for x in out.iter() {
        s += x;
    }
    s
}

/// BUG: after a vectorized loop wrote `out[i]`, a later whole-array read of `out`
/// (`out.sum()`, `out + 1.0`, `for x in out.iter()`) sees the contents from before the
/// loop: silently wrong results. (Reading it back as `out[i]` in a later loop works.)
#[test]
fn output_read_after_a_loop_wrote_it() {
    for &n in LENS {
        let a = exact_f64(n, seed(n, 71));
        let init = vec![0.5; n];
        let doubled: Vec<f64> = a.iter().map(|x| x * 2.0).collect();
        let mut sum = 0.0;
        for x in &doubled {
            sum += x;
        }
        let plus: Vec<f64> = doubled.iter().map(|x| x + 1.0).collect();
        let what = |f: &str| format!("{f} (n = {n})");
        let run = || {
            let mut out = init.clone();
            (loop_then_sum(&a, &mut out), out)
        };
        check_at_levels(&what("out.sum()"), &(sum, doubled.clone()), run, |v| v.clone());
        let run = || {
            let mut out = init.clone();
            (loop_then_array(&a, &mut out), out)
        };
        check_at_levels(&what("out + 1.0"), &(plus, doubled.clone()), run, |v| v.clone());
        let run = || {
            let mut out = init.clone();
            (loop_then_loop(&a, &mut out), out)
        };
        check_at_levels(&what("for x in out.iter()"), &(sum, doubled.clone()), run, |v| v.clone());
    }
}

/// Near `usize::MAX` the check before the loop still reports the real range and panics
/// where the plain loop (with overflow checks) panics. (Was a bug: the check wrapped, and
/// passed or reported "accesses -4..=0" (then worded "reads"); fixed in d44bce6.)
#[test]
fn bounds_check_near_usize_max() {
    let a = vec![1.0; 10];
    at_every_level(|t| {
        let m = panic_message(|| window_sum(&a, 3, usize::MAX));
        assert!(m.contains("kernel `window_sum`: index out of bounds: `a[i + 2]`"), "{t:?}: {m}");
        let m = panic_message(|| window_sum(&a, usize::MAX - 5, usize::MAX));
        assert!(!m.contains("accesses -"), "{t:?}: {m}");
        assert!(panics(|| {
            form_shift2(&a, usize::MAX - 1, usize::MAX);
        }));
    });
}

#[kernel]
fn form_shift2(a: &[f64], lo: usize, hi: usize) -> f64 {
    let mut s = 0.0;
    for i in lo..hi {
        s += a[i + 2];
    }
    s
}

// ---- local outputs: `let mut out = vec![init; n];` written in a loop and returned ----------

#[kernel]
fn local_stencil(a: &[f64]) -> Vec<f64> {
    let mut out = vec![-1.0; a.len()];
    for i in 1..a.len().saturating_sub(1) {
        out[i] = (a[i - 1] + a[i] + a[i + 1]) / 3.0;
    }
    out
}

#[kernel]
fn local_cumsum(x: &[f64]) -> Array1<f64> {
    let mut out: Vec<f64> = vec![0.0; x.len()];
    let mut acc = 0.0;
    for i in 0..x.len() {
        acc += x[i];
        out[i] = acc;
    }
    out
}

#[kernel]
fn local_after_mean(x: &[f64]) -> (Vec<f64>, f64) {
    let m = x.mean();
    let mut out = vec![m; x.len() + 1];
    for (i, v) in x.iter().enumerate() {
        out[i] = v - m;
    }
    (out, m)
}

#[test]
fn local_outputs_equal_the_plain_loops() {
    for &n in LENGTHS {
        let a = gen_f64(n, 91);
        let mut stencil = vec![-1.0; n];
        for i in 1..n.saturating_sub(1) {
            stencil[i] = (a[i - 1] + a[i] + a[i + 1]) / 3.0;
        }
        let mut cumsum = vec![0.0; n];
        let mut acc = 0.0;
        for i in 0..n {
            acc += a[i];
            cumsum[i] = acc;
        }
        at_every_level(|t| {
            let got = local_stencil(&a);
            assert!(
                got.iter().zip(&stencil).all(|(g, w)| g.to_bits() == w.to_bits() || g.is_nan() && w.is_nan()),
                "{t:?} n={n}"
            );
            let got = local_cumsum(&a);
            assert!(
                got.iter().zip(&cumsum).all(|(g, w)| g.to_bits() == w.to_bits() || g.is_nan() && w.is_nan()),
                "{t:?} n={n}"
            );
            let (out, mean) = local_after_mean(&a);
            assert_eq!(out.len(), n + 1);
            // The mean is the kernel's (lane order); the elements follow from it exactly.
            for (i, v) in a.iter().enumerate() {
                let w = v - mean;
                assert!(out[i].to_bits() == w.to_bits() || out[i].is_nan() && w.is_nan(), "{t:?} n={n} i={i}");
            }
            assert!(out[n].to_bits() == mean.to_bits() || mean.is_nan());
        });
    }
}
