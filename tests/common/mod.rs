//! Shared helpers of the differential tests: every supported CPU level, deterministic data
//! with special values, the lengths that hit every lane/block boundary, and comparisons
//! (bit for bit, NaN-tolerant, ULP distance).
#![allow(dead_code)]

use loopfuse::{supported_targets, target, with_target, Target};
use std::fmt::Debug;

/// `twin! { #[kernel..] fn name(params) -> [R] { body } }` defines `mod name` with the
/// kernel `k` and the plain function `r`, both with exactly the given parameters, result `R`
/// and body: the plain one is the meaning the kernel must keep (SPEC §1). (The result is
/// passed as tokens, not as a `$r:ty` fragment: `#[kernel]` does not accept a tuple return
/// type wrapped in the invisible group a `ty` fragment makes.) `k` allows `unused_mut`: a
/// `mut out: ArrayViewMut1<T>` parameter, which the plain loop needs, warns in the kernel.
#[allow(unused_macros)]
macro_rules! twin {
    ($( #[$attr:meta] fn $name:ident ( $($params:tt)* ) $(-> [$($r:tt)*])? $body:block )*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[$attr]
            #[allow(unused_mut)]
            pub fn k($($params)*) $(-> $($r)*)? $body
            #[allow(unused_mut, unused_assignments, clippy::all)]
            pub fn r($($params)*) $(-> $($r)*)? $body
        }
    )*};
}
#[allow(unused_imports)]
pub(crate) use twin;

/// Lengths around every boundary of the pass driver (32 lanes, 2048-element blocks), plus
/// one longer than two blocks that leaves a tail (`70_001 % 32 == 17`).
pub const LENGTHS: &[usize] = &[0, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1023, 2048, 2049, 4097, 70_001];

/// Runs `f` once per supported level, under `with_target`, and returns each result with
/// its level. Checks that `target()` reports the level inside the scope.
pub fn at_every_level<R>(mut f: impl FnMut(Target) -> R) -> Vec<(Target, R)> {
    let ts = supported_targets();
    // `generic` in a default build; the build's own level with `-C target-cpu=..`.
    assert_eq!(ts[0], loopfuse::static_baseline(), "{ts:?}");
    ts.into_iter()
        .map(|t| {
            let r = with_target(t, || {
                assert_eq!(target(), t);
                f(t)
            });
            (t, r)
        })
        .collect()
}

// ---- deterministic data -----------------------------------------------------------------

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, good enough for test data.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5851_f42d_4c95_7f2d)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

/// Special f64 values: NaNs (quiet, negative, with payload, signaling), ±inf, ±0,
/// subnormals, extremes, rounding ties, overflow thresholds of exp.
pub fn specials_f64() -> Vec<f64> {
    vec![
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff8_0000_0000_1234),
        f64::from_bits(0x7ff0_0000_0000_0001), // signaling
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        f64::from_bits(1), // smallest subnormal
        -f64::from_bits(1),
        f64::from_bits(0x000f_ffff_ffff_ffff), // largest subnormal
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        1e300,
        -1e300,
        1e-300,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.5,
        -2.5,
        0.499_999_999_999_999_94,
        4_503_599_627_370_497.0,
        2_147_483_648.0,
        -2_147_483_649.0,
        255.5,
        256.0,
        709.78,
        710.0,
        -745.2,
        std::f64::consts::PI,
        1e16,
    ]
}

/// Special f32 values, as [`specials_f64`].
pub fn specials_f32() -> Vec<f32> {
    vec![
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7fc0_1234),
        f32::from_bits(0x7f80_0001), // signaling
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.0,
        -0.0,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        f32::from_bits(1),
        -f32::from_bits(1),
        f32::from_bits(0x007f_ffff),
        f32::MAX,
        f32::MIN,
        f32::EPSILON,
        1e30,
        -1e30,
        1e-30,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.5,
        -2.5,
        0.499_999_97,
        8_388_609.0,
        2_147_483_648.0,
        255.5,
        256.0,
        88.72,
        89.0,
        -103.9,
        std::f32::consts::PI,
    ]
}

/// `n` f64 values for seed `seed`: mostly moderate random values of both signs over a
/// range of magnitudes, about one in eight a special value, one in 64 random bits.
pub fn gen_f64(n: usize, seed: u64) -> Vec<f64> {
    let sp = specials_f64();
    let mut r = Rng::new(seed);
    (0..n)
        .map(|_| match r.below(64) {
            0 => f64::from_bits(r.next_u64()),
            1..=8 => sp[r.below(sp.len() as u64) as usize],
            _ => {
                let m = r.range(1.0, 2.0);
                let e = r.below(41) as i32 - 20;
                let s = if r.below(2) == 0 { 1.0 } else { -1.0 };
                s * m * 2f64.powi(e)
            }
        })
        .collect()
}

/// `n` f32 values, as [`gen_f64`].
pub fn gen_f32(n: usize, seed: u64) -> Vec<f32> {
    let sp = specials_f32();
    let mut r = Rng::new(seed);
    (0..n)
        .map(|_| match r.below(64) {
            0 => f32::from_bits(r.next_u64() as u32),
            1..=8 => sp[r.below(sp.len() as u64) as usize],
            _ => {
                let m = r.range(1.0, 2.0) as f32;
                let e = r.below(41) as i32 - 20;
                let s = if r.below(2) == 0 { 1.0 } else { -1.0 };
                s * m * 2f32.powi(e)
            }
        })
        .collect()
}

/// Finite f64 values only (no NaN/inf), mixed magnitudes, for sums.
pub fn gen_finite_f64(n: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng::new(seed);
    (0..n)
        .map(|_| {
            let m = r.range(1.0, 2.0);
            let e = r.below(21) as i32 - 10;
            let s = if r.below(2) == 0 { 1.0 } else { -1.0 };
            s * m * 2f64.powi(e)
        })
        .collect()
}

/// Finite f32 values only.
pub fn gen_finite_f32(n: usize, seed: u64) -> Vec<f32> {
    gen_finite_f64(n, seed).into_iter().map(|x| x as f32).collect()
}

/// Any i32, extremes frequent.
pub fn any_i32(n: usize, seed: u64) -> Vec<i32> {
    let mut r = Rng::new(seed);
    let sp = [0, 1, -1, i32::MIN, i32::MAX, 255, 256, -256];
    (0..n)
        .map(|_| match r.below(8) {
            0 => sp[r.below(sp.len() as u64) as usize],
            1..=3 => r.below(2001) as i32 - 1000,
            _ => r.next_u64() as i32,
        })
        .collect()
}

/// i32 in `-1000..=1000`: no overflow in `+ - *`.
pub fn small_i32(n: usize, seed: u64) -> Vec<i32> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| r.below(2001) as i32 - 1000).collect()
}

/// Small i32 divisors: no 0, no -1 (`i32::MIN / -1` overflows).
pub fn nonzero_i32(n: usize, seed: u64) -> Vec<i32> {
    small_i32(n, seed).into_iter().map(|x| if x == 0 || x == -1 { 7 } else { x }).collect()
}

/// Any i64, extremes frequent.
pub fn any_i64(n: usize, seed: u64) -> Vec<i64> {
    let mut r = Rng::new(seed);
    let sp = [0, 1, -1, i64::MIN, i64::MAX, 1 << 53, (1 << 53) + 1];
    (0..n)
        .map(|_| match r.below(8) {
            0 => sp[r.below(sp.len() as u64) as usize],
            1..=3 => r.below(2_000_001) as i64 - 1_000_000,
            _ => r.next_u64() as i64,
        })
        .collect()
}

/// i64 in `-10^6..=10^6`.
pub fn small_i64(n: usize, seed: u64) -> Vec<i64> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| r.below(2_000_001) as i64 - 1_000_000).collect()
}

/// Small i64 divisors: no 0, no -1.
pub fn nonzero_i64(n: usize, seed: u64) -> Vec<i64> {
    small_i64(n, seed).into_iter().map(|x| if x == 0 || x == -1 { 3 } else { x }).collect()
}

/// Any u8.
pub fn any_u8(n: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| r.next_u64() as u8).collect()
}

/// usize below 10^6.
pub fn small_usize(n: usize, seed: u64) -> Vec<usize> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| r.below(1_000_000) as usize).collect()
}

/// A seed from a length and an operand number, so every case has its own data.
pub fn seed(n: usize, operand: u64) -> u64 {
    (n as u64).wrapping_mul(0x9e37_79b9) ^ (operand << 40)
}

// ---- comparisons --------------------------------------------------------------------------

/// An element the tests compare.
pub trait Elem: Copy + Debug + PartialEq {
    /// Same bits; with `nan_any`, any NaN equals any NaN.
    fn same(self, other: Self, nan_any: bool) -> bool {
        let _ = nan_any;
        self == other
    }
    /// Distance in units in the last place (floats); 0 or `u64::MAX` for the others.
    fn ulps(self, other: Self) -> u64 {
        if self == other {
            0
        } else {
            u64::MAX
        }
    }
    /// Bits, for messages.
    fn bits(self) -> u64 {
        0
    }
}

macro_rules! plain_elem {
    ($($t:ty),*) => {$( impl Elem for $t {} )*};
}
plain_elem!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, bool);

macro_rules! float_elem {
    ($t:ty, $i:ty, $u:ty) => {
        impl Elem for $t {
            fn same(self, other: Self, nan_any: bool) -> bool {
                (nan_any && self.is_nan() && other.is_nan()) || self.to_bits() == other.to_bits()
            }
            fn ulps(self, other: Self) -> u64 {
                if self.is_nan() || other.is_nan() {
                    return if self.is_nan() && other.is_nan() { 0 } else { u64::MAX };
                }
                if self == 0.0 && other == 0.0 {
                    // A zero of the wrong sign is a wrong special value, not a rounding.
                    return if self.to_bits() == other.to_bits() { 0 } else { u64::MAX };
                }
                // Map to a monotonic integer line: -0.0 and +0.0 both at 0.
                let key = |x: $t| -> i128 {
                    let b = x.to_bits();
                    let mag = (b & !(1 << (<$u>::BITS - 1))) as i128;
                    if b >> (<$u>::BITS - 1) == 1 {
                        -mag
                    } else {
                        mag
                    }
                };
                (key(self) - key(other)).unsigned_abs() as u64
            }
            fn bits(self) -> u64 {
                self.to_bits() as u64
            }
        }
    };
}
float_elem!(f64, i64, u64);
float_elem!(f32, i32, u32);

/// How a kernel's elements must match its naive scalar reading.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Cmp {
    /// Bit for bit, NaN payloads included (sign/bit operations: `-`, `abs`, `copysign`, select).
    Exact,
    /// Bit for bit, but any NaN equals any NaN (Rust leaves arithmetic NaN payloads unspecified).
    NanAny,
    /// Within this many ULP of std (loopfuse's own math); NaN where std gives NaN, zeros of
    /// the right sign. Levels must still agree bit for bit with each other.
    Ulp(u64),
}

/// Compares one element; `None` if it matches.
pub fn mismatch<U: Elem>(want: U, got: U, cmp: Cmp) -> Option<String> {
    let ok = match cmp {
        Cmp::Exact => want.same(got, false),
        Cmp::NanAny => want.same(got, true),
        Cmp::Ulp(k) => want.ulps(got) <= k,
    };
    (!ok).then(|| format!("want {want:?} ({:#x}), got {got:?} ({:#x})", want.bits(), got.bits()))
}

/// Checks the results of one kernel at every level against `want`, and the levels against
/// each other bit for bit (SPEC §4 determinism). Except with `Cmp::Exact`, NaN payloads may
/// differ between levels too: Rust leaves them unspecified, and LLVM does swap the operands
/// of a commutative `+` between clones (seen: NaN + NaN gives the payload of either).
pub fn check_levels<U: Elem>(what: &str, want: &[U], got: &[(Target, Vec<U>)], cmp: Cmp) {
    for (t, g) in got {
        assert_eq!(g.len(), want.len(), "{what} at {t:?}: {} elements, want {}", g.len(), want.len());
        for (i, (&w, &v)) in want.iter().zip(g).enumerate() {
            if let Some(m) = mismatch(w, v, cmp) {
                panic!("{what} at {t:?}, element {i} of {}: {m}", want.len());
            }
        }
    }
    let (t0, first) = &got[0];
    for (t, g) in &got[1..] {
        for (i, (&a, &b)) in first.iter().zip(g).enumerate() {
            if !a.same(b, cmp != Cmp::Exact) {
                panic!(
                    "{what}, element {i} of {}: {t0:?} gives {a:?} ({:#x}) but {t:?} gives {b:?} ({:#x})",
                    want.len(),
                    a.bits(),
                    b.bits()
                );
            }
        }
    }
}

/// Checks a scalar result at every level against `want`, and the levels bit for bit.
pub fn check_scalar<U: Elem>(what: &str, want: U, got: &[(Target, U)], cmp: Cmp) {
    for (t, g) in got {
        if let Some(m) = mismatch(want, *g, cmp) {
            panic!("{what} at {t:?}: {m}");
        }
    }
    for (t, g) in &got[1..] {
        assert!(
            got[0].1.same(*g, cmp != Cmp::Exact),
            "{what}: {:?} gives {:?} but {t:?} gives {g:?}",
            got[0].0,
            got[0].1
        );
    }
}

/// A kernel of one array vs its scalar reading, every length, every level, plus the
/// unaligned sub-slice `&x[1..]`.
pub fn check1<A: Copy, U: Elem>(
    what: &str,
    gen: fn(usize, u64) -> Vec<A>,
    kernel: impl Fn(&[A]) -> Vec<U>,
    scalar: impl Fn(A) -> U,
    cmp: Cmp,
) {
    for &n in LENGTHS {
        let x = gen(n, seed(n, 1));
        let want: Vec<U> = x.iter().map(|&a| scalar(a)).collect();
        check_levels(&format!("{what} (n = {n})"), &want, &at_every_level(|_| kernel(&x)), cmp);
        if n > 1 {
            let got = at_every_level(|_| kernel(&x[1..]));
            check_levels(&format!("{what} (&x[1..], n = {n})"), &want[1..], &got, cmp);
        }
    }
}

/// A kernel of two arrays vs its scalar reading (as [`check1`]).
pub fn check2<A: Copy, B: Copy, U: Elem>(
    what: &str,
    gen_a: fn(usize, u64) -> Vec<A>,
    gen_b: fn(usize, u64) -> Vec<B>,
    kernel: impl Fn(&[A], &[B]) -> Vec<U>,
    scalar: impl Fn(A, B) -> U,
    cmp: Cmp,
) {
    for &n in LENGTHS {
        let (x, y) = (gen_a(n, seed(n, 1)), gen_b(n, seed(n, 2)));
        let want: Vec<U> = x.iter().zip(&y).map(|(&a, &b)| scalar(a, b)).collect();
        check_levels(&format!("{what} (n = {n})"), &want, &at_every_level(|_| kernel(&x, &y)), cmp);
        if n > 1 {
            let got = at_every_level(|_| kernel(&x[1..], &y[1..]));
            check_levels(&format!("{what} (x[1..], n = {n})"), &want[1..], &got, cmp);
        }
    }
}

/// A data generator: `gen(len, seed)`.
pub type Gen<T> = fn(usize, u64) -> Vec<T>;

/// A kernel of three arrays vs its scalar reading (as [`check1`]).
pub fn check3<A: Copy, B: Copy, C: Copy, U: Elem>(
    what: &str,
    gens: (Gen<A>, Gen<B>, Gen<C>),
    kernel: impl Fn(&[A], &[B], &[C]) -> Vec<U>,
    scalar: impl Fn(A, B, C) -> U,
    cmp: Cmp,
) {
    for &n in LENGTHS {
        let (x, y, z) = (gens.0(n, seed(n, 1)), gens.1(n, seed(n, 2)), gens.2(n, seed(n, 3)));
        let want: Vec<U> = (0..n).map(|i| scalar(x[i], y[i], z[i])).collect();
        let got = at_every_level(|_| kernel(&x, &y, &z));
        check_levels(&format!("{what} (n = {n})"), &want, &got, cmp);
        if n > 1 {
            let got = at_every_level(|_| kernel(&x[1..], &y[1..], &z[1..]));
            check_levels(&format!("{what} (x[1..], n = {n})"), &want[1..], &got, cmp);
        }
    }
}

/// Runs `f` and returns its panic message (panics if `f` does not panic).
pub fn panic_message<R>(f: impl FnOnce() -> R) -> String {
    // The default hook prints the message too; swapping the hook would race other tests.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    match r {
        Ok(_) => panic!("expected a panic"),
        Err(e) => {
            if let Some(s) = e.downcast_ref::<String>() {
                s.clone()
            } else if let Some(s) = e.downcast_ref::<&str>() {
                s.to_string()
            } else {
                "<non-string panic>".to_string()
            }
        }
    }
}

/// Transcendental kernels: at every level, each element must be bit-identical to Rust std
/// (any NaN for a NaN) or within `ulps` of `reference`; and the levels bit-identical to
/// each other. `args` builds the operands of length `n`; `kernel` runs on sub-slices
/// starting at `off`.
pub fn check_math<U: Elem, X>(
    what: &str,
    args: impl Fn(usize) -> X,
    kernel: impl Fn(&X, usize) -> Vec<U>,
    std_and_ref: impl Fn(&X, usize) -> (U, U),
    ulps: u64,
) {
    for &n in LENGTHS {
        let x = args(n);
        for off in [0, 1] {
            if off > n || (off == 1 && n < 2) {
                continue;
            }
            let got = at_every_level(|_| kernel(&x, off));
            for (t, g) in &got {
                assert_eq!(g.len(), n - off, "{what} at {t:?}, n = {n}");
                for (j, &v) in g.iter().enumerate() {
                    let (s, r) = std_and_ref(&x, off + j);
                    if !(v.same(s, true) || r.ulps(v) <= ulps) {
                        panic!(
                            "{what} at {t:?}, n = {n}, offset {off}, element {j}: got {v:?} ({:#x}), std {s:?} ({:#x}), reference {r:?} ({:#x})",
                            v.bits(), s.bits(), r.bits()
                        );
                    }
                }
            }
            for (t, g) in &got[1..] {
                for (j, (&a, &b)) in got[0].1.iter().zip(g).enumerate() {
                    assert!(
                        a.same(b, true),
                        "{what}, n = {n}, element {j}: {:?} gives {a:?} but {t:?} gives {b:?}",
                        got[0].0
                    );
                }
            }
        }
    }
}
