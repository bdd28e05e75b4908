//! Differential tests of elementwise kernels: every kernel vs its naive scalar reading (the
//! same body applied to one element, SPEC §1), at every supported CPU level, for every
//! length in `LENGTHS`, with special values injected, and on unaligned sub-slices.
//!
//! Comparison: bit for bit, except that any NaN equals any NaN where Rust leaves the NaN
//! payload unspecified (arithmetic); sign/bit operations (`-x`, `abs`, `copysign`, select)
//! must keep NaN payloads too. Transcendental methods are compared to std within
//! a reference within the bounds explained at `math!` (loopfuse's own vectorized math, SPEC §5), and bit for bit across levels.

// Kernel bodies here are written the way users write them (`!(x > 0.0)` on masks, a block
// that returns its `let`), and test tables pair many generators: not style to lint.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::let_and_return, clippy::type_complexity)]

mod common;
use common::*;
use loopfuse::kernel;
use ndarray::{s, Array1, ArrayView1, ArrayViewMut1};

const EXACT: Cmp = Cmp::Exact;
const NAN_ANY: Cmp = Cmp::NanAny;

/// `name(x: T [gen], ...) -> R { body } cmp;` defines `mod name` with the kernel
/// `fn k(x: &[T], ...) -> Vec<R> { body }` and a test comparing it with the closure
/// `|x: T, ...| -> R { body }`: the same tokens read as scalar code.
macro_rules! ew {
    ($( $name:ident ( $($x:ident : $t:ty [$g:ident]),+ ) -> $r:ty { $($body:tt)* } $cmp:expr; )*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[kernel]
            fn k($($x: &[$t]),+) -> Vec<$r> { $($body)* }
            #[test]
            fn vs_scalar() {
                ew!(@check $name ($($x : $t [$g]),+) -> $r { $($body)* } $cmp);
            }
        }
    )*};
    (@check $name:ident ($x:ident : $t:ty [$g:ident]) -> $r:ty { $($body:tt)* } $cmp:expr) => {
        check1(module_path!(), $g, |a| k(a), |$x: $t| -> $r { $($body)* }, $cmp)
    };
    (@check $name:ident ($x:ident : $t:ty [$g:ident], $y:ident : $u:ty [$h:ident]) -> $r:ty { $($body:tt)* } $cmp:expr) => {
        check2(module_path!(), $g, $h, |a, b| k(a, b), |$x: $t, $y: $u| -> $r { $($body)* }, $cmp)
    };
    (@check $name:ident ($x:ident : $t:ty [$g:ident], $y:ident : $u:ty [$h:ident], $z:ident : $v:ty [$i:ident]) -> $r:ty { $($body:tt)* } $cmp:expr) => {
        check3(module_path!(), ($g, $h, $i), |a, b, c| k(a, b, c), |$x: $t, $y: $u, $z: $v| -> $r { $($body)* }, $cmp)
    };
}

/// `name(x, y) { body } cmp;` (or `-> bool`): `ew!` for f64 (`name::x64`) and f32 (`name::x32`).
macro_rules! floats {
    () => {};
    ($name:ident ( $($x:ident),+ ) -> bool { $($body:tt)* } $cmp:expr; $($rest:tt)*) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            ew! {
                x64 ($($x: f64 [gen_f64]),+) -> bool { $($body)* } $cmp;
                x32 ($($x: f32 [gen_f32]),+) -> bool { $($body)* } $cmp;
            }
        }
        floats!($($rest)*);
    };
    ($name:ident ( $($x:ident),+ ) { $($body:tt)* } $cmp:expr; $($rest:tt)*) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            ew! {
                x64 ($($x: f64 [gen_f64]),+) -> f64 { $($body)* } $cmp;
                x32 ($($x: f32 [gen_f32]),+) -> f32 { $($body)* } $cmp;
            }
        }
        floats!($($rest)*);
    };
}

// ---- operators ------------------------------------------------------------------------------

floats! {
    add(x, y) { x + y } NAN_ANY;
    sub(x, y) { x - y } NAN_ANY;
    mul(x, y) { x * y } NAN_ANY;
    div(x, y) { x / y } NAN_ANY;
    rem(x, y) { x % y } NAN_ANY;
    neg(x) { -x } EXACT;
    lt(x, y) -> bool { x < y } EXACT;
    le(x, y) -> bool { x <= y } EXACT;
    gt(x, y) -> bool { x > y } EXACT;
    ge(x, y) -> bool { x >= y } EXACT;
    eq(x, y) -> bool { x == y } EXACT;
    ne(x, y) -> bool { x != y } EXACT;
    mask_and(x, y) -> bool { (x > 0.0) & (y < 1.0) } EXACT;
    mask_or(x, y) -> bool { (x > 0.0) | y.is_nan() } EXACT;
    mask_xor(x, y) -> bool { (x > y) ^ (y >= 0.5) } EXACT;
    mask_not(x) -> bool { !(x > 0.0) } EXACT;
    mask_andand(x, y) -> bool { x > 0.0 && y > 0.0 } EXACT;
    mask_oror(x, y) -> bool { x.is_nan() || y <= -1.0 } EXACT;
    select(x, y) { if x > y { x } else { y * 2.0 } } NAN_ANY;
    select_keeps_bits(x, y) { if x.is_nan() { y } else { x } } EXACT;
    select_nested(x, y) { if x < 0.0 { -x } else if y.is_nan() { x } else { x - y } } NAN_ANY;
    // No FMA contraction of `a * b + c` in any clone (SPEC §4).
    horner(x) { ((1.5 * x + 2.0) * x - 3.0) * x + 0.25 } NAN_ANY;
    mul_then_add(x, y, z) { x * y + z } NAN_ANY;
}

ew! {
    add_i32(x: i32 [small_i32], y: i32 [small_i32]) -> i32 { x + y } EXACT;
    sub_i32(x: i32 [small_i32], y: i32 [small_i32]) -> i32 { x - y } EXACT;
    mul_i32(x: i32 [small_i32], y: i32 [small_i32]) -> i32 { x * y } EXACT;
    div_i32(x: i32 [any_i32], y: i32 [nonzero_i32]) -> i32 { x / y } EXACT;
    rem_i32(x: i32 [any_i32], y: i32 [nonzero_i32]) -> i32 { x % y } EXACT;
    neg_i32(x: i32 [small_i32]) -> i32 { -x } EXACT;
    add_i64(x: i64 [small_i64], y: i64 [small_i64]) -> i64 { x + y * 3 } EXACT;
    div_i64(x: i64 [any_i64], y: i64 [nonzero_i64]) -> i64 { x / y } EXACT;
    rem_i64(x: i64 [any_i64], y: i64 [nonzero_i64]) -> i64 { x % y } EXACT;
    wrapping_u8(x: u8 [any_u8], y: u8 [any_u8]) -> u8 { x.wrapping_add(y).wrapping_mul(3) } EXACT;
    wrapping_i32(x: i32 [any_i32], y: i32 [any_i32]) -> i32 { x.wrapping_mul(y).wrapping_sub(x) } EXACT;
    lt_i32(x: i32 [any_i32], y: i32 [any_i32]) -> bool { x < y } EXACT;
    eq_i64(x: i64 [small_i64], y: i64 [small_i64]) -> bool { x % 3 == y % 3 } EXACT;
    select_i32(x: i32 [any_i32], y: i32 [any_i32]) -> i32 { if x > y { x } else { y } } EXACT;
    mixed_mask(x: f64 [gen_f64], y: i32 [any_i32]) -> bool { (x > 0.0) ^ (y < 0) } EXACT;
}

// ---- casts ------------------------------------------------------------------------------------

ew! {
    f64_as_f32(x: f64 [gen_f64]) -> f32 { x as f32 } NAN_ANY;
    f32_as_f64(x: f32 [gen_f32]) -> f64 { x as f64 } NAN_ANY;
    f64_as_i32(x: f64 [gen_f64]) -> i32 { x as i32 } EXACT;
    f64_as_i64(x: f64 [gen_f64]) -> i64 { x as i64 } EXACT;
    f64_as_u8(x: f64 [gen_f64]) -> u8 { x as u8 } EXACT;
    f64_as_usize(x: f64 [gen_f64]) -> usize { x as usize } EXACT;
    f32_as_i32(x: f32 [gen_f32]) -> i32 { x as i32 } EXACT;
    f32_as_u8(x: f32 [gen_f32]) -> u8 { x as u8 } EXACT;
    i32_as_f64(x: i32 [any_i32]) -> f64 { x as f64 } EXACT;
    i32_as_f32(x: i32 [any_i32]) -> f32 { x as f32 } EXACT;
    i32_as_i64(x: i32 [any_i32]) -> i64 { x as i64 } EXACT;
    i32_as_u8(x: i32 [any_i32]) -> u8 { x as u8 } EXACT;
    i32_as_usize(x: i32 [any_i32]) -> usize { x as usize } EXACT;
    i64_as_f64(x: i64 [any_i64]) -> f64 { x as f64 } EXACT;
    i64_as_i32(x: i64 [any_i64]) -> i32 { x as i32 } EXACT;
    i64_as_f32(x: i64 [any_i64]) -> f32 { x as f32 } EXACT;
    u8_as_f64(x: u8 [any_u8]) -> f64 { x as f64 } EXACT;
    u8_as_i32(x: u8 [any_u8]) -> i32 { x as i32 } EXACT;
    usize_as_f64(x: usize [small_usize]) -> f64 { x as f64 * 0.5 } EXACT;
    cast_chain(x: f64 [gen_f64]) -> f64 { ((x * 100.0) as i64) as f64 / 100.0 } EXACT;
}

// The other primitive element types of SPEC §2.
fn any_i8(n: usize, seed: u64) -> Vec<i8> {
    any_i32(n, seed).into_iter().map(|v| v as i8).collect()
}
fn any_i16(n: usize, seed: u64) -> Vec<i16> {
    any_i32(n, seed).into_iter().map(|v| v as i16).collect()
}
fn any_u16(n: usize, seed: u64) -> Vec<u16> {
    any_i32(n, seed).into_iter().map(|v| v as u16).collect()
}
fn any_u32(n: usize, seed: u64) -> Vec<u32> {
    any_i32(n, seed).into_iter().map(|v| v as u32).collect()
}
fn any_u64(n: usize, seed: u64) -> Vec<u64> {
    any_i64(n, seed).into_iter().map(|v| v as u64).collect()
}
fn any_isize(n: usize, seed: u64) -> Vec<isize> {
    any_i64(n, seed).into_iter().map(|v| v as isize).collect()
}

ew! {
    i8_ops(x: i8 [any_i8], y: i8 [any_i8]) -> i8 { x.wrapping_add(y) ^ (x >> 1) } EXACT;
    i16_abs(x: i16 [any_i16]) -> i16 { (x / 2).abs() } EXACT;
    u16_as_f32(x: u16 [any_u16]) -> f32 { x as f32 * 0.5 } EXACT;
    u32_max(x: u32 [any_u32], y: u32 [any_u32]) -> u32 { x.max(y) / 3 } EXACT;
    u64_as_f64(x: u64 [any_u64]) -> f64 { x as f64 } EXACT;
    f64_as_u64(x: f64 [gen_f64]) -> u64 { x as u64 } EXACT;
    isize_as_f64(x: isize [any_isize]) -> f64 { x as f64 } EXACT;
    i64_bits(x: i64 [any_i64], y: i64 [any_i64]) -> i64 { (x & y) | (x ^ !y) } EXACT;
    u8_shift(x: u8 [any_u8]) -> u8 { (x << 2) | (x >> 5) } EXACT;
}

fn any_bool(n: usize, seed: u64) -> Vec<bool> {
    any_u8(n, seed).into_iter().map(|v| v % 3 == 0).collect()
}

// Boolean arrays as inputs (masks) and outputs.
ew! {
    bool_select(m: bool [any_bool], x: f64 [gen_f64]) -> f64 { if m { x } else { -x } } EXACT;
    bool_ops(m: bool [any_bool], k: bool [any_bool]) -> bool { (m & !k) | (m ^ k) || !m } EXACT;
    bool_and_cmp(m: bool [any_bool], x: f64 [gen_f64]) -> bool { m ^ (x > 0.0) } EXACT;
    bool_as_u8(m: bool [any_bool]) -> u8 { m as u8 * 3 } EXACT;
}

// ---- methods (SPEC §3) ---------------------------------------------------------------------

floats! {
    abs(x) { x.abs() } EXACT;
    sqrt(x) { x.sqrt() } NAN_ANY;
    floor(x) { x.floor() } NAN_ANY;
    ceil(x) { x.ceil() } NAN_ANY;
    round(x) { x.round() } NAN_ANY;
    trunc(x) { x.trunc() } NAN_ANY;
    fract(x) { x.fract() } NAN_ANY;
    signum(x) { x.signum() } NAN_ANY;
    recip(x) { x.recip() } NAN_ANY;
    powi3(x) { x.powi(3) } NAN_ANY;
    powi_neg2(x) { x.powi(-2) } NAN_ANY;
    hypot(x, y) { x.hypot(y) } NAN_ANY;
    min(x, y) { x.min(y) } NAN_ANY;
    max(x, y) { x.max(y) } NAN_ANY;
    clamp(x) { x.clamp(-1.0, 1.5) } NAN_ANY;
    mul_add(x, y, z) { x.mul_add(y, z) } NAN_ANY;
    copysign(x, y) { x.copysign(y) } EXACT;
    is_nan(x) -> bool { x.is_nan() } EXACT;
    is_finite(x) -> bool { x.is_finite() } EXACT;
    to_degrees(x) { x.to_degrees() } NAN_ANY;
    to_radians(x) { x.to_radians() } NAN_ANY;
}

/// `name(x, y) { body }`: a transcendental method (loopfuse's own math, SPEC §5) for f64 and f32.
///
/// An element passes if it equals Rust std's (the meaning rule, SPEC §1) or is within a
/// bound of a reference (SPEC §5, loopfuse's own math):
/// - f32: within 1 ULP of the same body evaluated in f64 and rounded to f32 (the correctly
///   rounded value except in rare double-rounding ties): SPEC §5's "≤ 1 ULP" itself. std's
///   f32 functions are not that accurate (glibc `log10f`, `tanhf`, `sinhf`, `coshf` seen
///   2 ULP off), so std is not the reference.
/// - f64: within 2 ULP of std, the only reference at hand: a result within 1 ULP of the
///   true value and a std (libm) result within 1 ULP of it are at most 2 ULP apart. The
///   runtime's own tests check f64 against a double-double reference.
///
/// Levels must agree bit for bit (any NaN for a NaN).
macro_rules! math {
    ($( $name:ident ( $($x:ident),+ ) { $($body:tt)* } )*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[kernel]
            pub(crate) fn k64($($x: &[f64]),+) -> Vec<f64> { $($body)* }
            #[kernel]
            pub(crate) fn k32($($x: &[f32]),+) -> Vec<f32> { $($body)* }
            #[test]
            fn x64() {
                math!(@check k64 gen_f64 ($($x),+) |$($x: f64),+| -> (f64, f64) {
                    let s: f64 = { $($body)* };
                    (s, s)
                }, 2);
            }
            #[test]
            fn x32() {
                math!(@check k32 gen_f32 ($($x),+) |$($x: f32),+| -> (f32, f32) {
                    let s: f32 = { $($body)* };
                    $( let $x = $x as f64; )+
                    let r: f64 = { $($body)* };
                    (s, r as f32)
                }, 1);
            }
        }
    )*};
    (@check $k:ident $g:ident ($x:ident) $f:expr, $ulps:expr) => {
        check_math(module_path!(), |n| $g(n, seed(n, 1)), |x, o| $k(&x[o..]), |x, i| $f(x[i]), $ulps)
    };
    (@check $k:ident $g:ident ($x:ident, $y:ident) $f:expr, $ulps:expr) => {
        check_math(
            module_path!(),
            |n| ($g(n, seed(n, 1)), $g(n, seed(n, 2))),
            |x, o| $k(&x.0[o..], &x.1[o..]),
            |x, i| $f(x.0[i], x.1[i]),
            $ulps,
        )
    };
}

math! {
    cbrt(x) { x.cbrt() }
    exp(x) { x.exp() }
    exp2(x) { x.exp2() }
    exp_m1(x) { x.exp_m1() }
    ln(x) { x.ln() }
    log2(x) { x.log2() }
    log10(x) { x.log10() }
    ln_1p(x) { x.ln_1p() }
    powf(x, y) { x.powf(y) }
    sin(x) { x.sin() }
    cos(x) { x.cos() }
    tan(x) { x.tan() }
    tanh(x) { x.tanh() }
    sinh(x) { x.sinh() }
    cosh(x) { x.cosh() }
    asin(x) { x.asin() }
    acos(x) { x.acos() }
    atan(x) { x.atan() }
    atan2(x, y) { x.atan2(y) }
}

ew! {
    abs_i32(x: i32 [small_i32]) -> i32 { x.abs() } EXACT;
    min_i64(x: i64 [any_i64], y: i64 [any_i64]) -> i64 { x.min(y) } EXACT;
    max_u8(x: u8 [any_u8], y: u8 [any_u8]) -> u8 { x.max(y) } EXACT;
    clamp_i32(x: i32 [any_i32]) -> i32 { x.clamp(-5, 1000) } EXACT;
}

/// SPEC §5: "correct special values (NaN, ±inf, ±0, subnormals, overflow/underflow) as Rust
/// std". For a special input (NaN, ±inf, ±0) or a special result (NaN, ±inf, ±0), the
/// kernel must give std's value exactly (any NaN for a NaN), at every level.
#[test]
fn math_special_values_are_std() {
    macro_rules! both {
        ($($f:ident),*) => {
            (
                vec![$((stringify!($f), $f::k64 as fn(&[f64]) -> Vec<f64>, f64::$f as fn(f64) -> f64)),*],
                vec![$((stringify!($f), $f::k32 as fn(&[f32]) -> Vec<f32>, f32::$f as fn(f32) -> f32)),*],
            )
        };
    }
    let (u64s, u32s) =
        both!(cbrt, exp, exp2, exp_m1, ln, log2, log10, ln_1p, sin, cos, tan, tanh, sinh, cosh, asin, acos, atan);
    let special64 = |v: f64| v.is_nan() || v.is_infinite() || v == 0.0;
    let special32 = |v: f32| v.is_nan() || v.is_infinite() || v == 0.0;
    let x64: Vec<f64> = vec![
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.0,
        -2.0,
        0.5,
        1000.0,
        -1000.0,
        1e300,
        -1e300,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        1e-310,
        800.0,
        -800.0,
        1100.0,
        -1100.0,
    ];
    let x32: Vec<f32> = x64.iter().map(|&v| v as f32).chain([100.0, -100.0, 200.0, -200.0, 1e-45, -1e-45]).collect();
    for (name, k, f) in u64s {
        for (t, got) in at_every_level(|_| k(&x64)) {
            for (i, &x) in x64.iter().enumerate() {
                let want = f(x);
                if special64(x) || special64(want) {
                    assert!(got[i].same(want, true), "{name}({x:e}) at {t:?}: got {:e}, std {want:e}", got[i]);
                }
            }
        }
    }
    for (name, k, f) in u32s {
        for (t, got) in at_every_level(|_| k(&x32)) {
            for (i, &x) in x32.iter().enumerate() {
                let want = f(x);
                if special32(x) || special32(want) {
                    assert!(got[i].same(want, true), "{name}({x:e}) f32 at {t:?}: got {:e}, std {want:e}", got[i]);
                }
            }
        }
    }
    // Binary: every pair.
    let ys: Vec<f64> = x64.iter().copied().chain([3.0, -3.0, 0.25, 1.0 / 3.0, 1024.0, -1075.0]).collect();
    let (xs2, ys2): (Vec<f64>, Vec<f64>) = ys.iter().flat_map(|&a| ys.iter().map(move |&b| (a, b))).unzip();
    let pairs: [(&str, fn(&[f64], &[f64]) -> Vec<f64>, fn(f64, f64) -> f64); 2] =
        [("powf", powf::k64, f64::powf), ("atan2", atan2::k64, f64::atan2)];
    for (name, k, f) in pairs {
        for (t, got) in at_every_level(|_| k(&xs2, &ys2)) {
            for i in 0..xs2.len() {
                let (a, b) = (xs2[i], ys2[i]);
                let want = f(a, b);
                if special64(a) || special64(b) || special64(want) {
                    assert!(got[i].same(want, true), "{name}({a:e}, {b:e}) at {t:?}: got {:e}, std {want:e}", got[i]);
                }
            }
        }
    }
    let xs3: Vec<f32> = xs2.iter().map(|&v| v as f32).collect();
    let ys3: Vec<f32> = ys2.iter().map(|&v| v as f32).collect();
    let pairs: [(&str, fn(&[f32], &[f32]) -> Vec<f32>, fn(f32, f32) -> f32); 2] =
        [("powf", powf::k32, f32::powf), ("atan2", atan2::k32, f32::atan2)];
    for (name, k, f) in pairs {
        for (t, got) in at_every_level(|_| k(&xs3, &ys3)) {
            for i in 0..xs3.len() {
                let (a, b) = (xs3[i], ys3[i]);
                let want = f(a, b);
                if special32(a) || special32(b) || special32(want) {
                    assert!(
                        got[i].same(want, true),
                        "{name}({a:e}, {b:e}) f32 at {t:?}: got {:e}, std {want:e}",
                        got[i]
                    );
                }
            }
        }
    }
}

// Methods beyond SPEC §3's list that the macro also accepts (std names and meaning).
floats! {
    is_infinite(x) -> bool { x.is_infinite() } EXACT;
    is_sign_negative(x) -> bool { x.is_sign_negative() } EXACT;
    is_sign_positive(x) -> bool { x.is_sign_positive() } EXACT;
    rem_euclid(x, y) { x.rem_euclid(y) } NAN_ANY;
    div_euclid(x, y) { x.div_euclid(y) } NAN_ANY;
}

ew! {
    abs_diff_i32(x: i32 [any_i32], y: i32 [any_i32]) -> u32 { x.abs_diff(y) } EXACT;
    saturating_i32(x: i32 [any_i32], y: i32 [any_i32]) -> i32 { x.saturating_add(y).saturating_sub(y / 2) } EXACT;
    saturating_mul_u8(x: u8 [any_u8], y: u8 [any_u8]) -> u8 { x.saturating_mul(y) } EXACT;
    wrapping_neg_i64(x: i64 [any_i64]) -> i64 { x.wrapping_neg() } EXACT;
    rem_euclid_i32(x: i32 [any_i32], y: i32 [nonzero_i32]) -> i32 { x.rem_euclid(y) } EXACT;
    div_euclid_i64(x: i64 [any_i64], y: i64 [nonzero_i64]) -> i64 { x.div_euclid(y) } EXACT;
    pow_i64(x: i64 [small_i64]) -> i64 { (x % 1000).pow(3) } EXACT;
}

#[kernel]
fn powi_runtime(x: &[f64], k: i32) -> Vec<f64> {
    x.powi(k)
}

#[kernel]
fn powi_runtime32(x: &[f32], k: i32) -> Vec<f32> {
    x.powi(k)
}

#[kernel]
fn mul_add_scalars(x: &[f64], a: f64, b: f64) -> Vec<f64> {
    x.mul_add(a, b) + a.mul_add(x, x)
}

#[kernel]
fn casts_scalar(x: &[f64], k: usize, j: i32) -> Vec<f64> {
    x * (k as f64) + j as f64
}

#[test]
fn scalar_parameters_in_methods() {
    for k in [-3, -1, 0, 1, 2, 5, 17] {
        check1("powi(k)", gen_f64, |x| powi_runtime(x, k), |x| x.powi(k), NAN_ANY);
        check1("powi(k) f32", gen_f32, |x| powi_runtime32(x, k), |x| x.powi(k), NAN_ANY);
    }
    for (a, b) in [(1.5, -2.0), (f64::MAX, f64::MAX), (f64::NAN, 0.0), (-0.0, -0.0)] {
        check1("mul_add", gen_f64, |x| mul_add_scalars(x, a, b), |x| x.mul_add(a, b) + a.mul_add(x, x), NAN_ANY);
    }
    check1("casts", gen_f64, |x| casts_scalar(x, 3, -7), |x| x * 3.0 + -7.0, NAN_ANY);
}

#[kernel]
fn fill(out: &mut [f64], v: f64) {
    out[..] = v;
}

#[kernel]
fn write_then_update(x: &[f64], out: &mut [f64]) {
    out[..] = x * 2.0;
    out += 1.0;
    out *= out;
}

#[test]
fn outputs_without_inputs_and_rewritten_outputs() {
    for &n in LENGTHS {
        for v in [2.5, -0.0, f64::NAN] {
            let got = at_every_level(|_| {
                let mut o = vec![1.0; n];
                fill(&mut o, v);
                o
            });
            check_levels("fill", &vec![v; n], &got, EXACT);
        }
        let x = gen_f64(n, seed(n, 1));
        let want: Vec<f64> = x.iter().map(|v| (v * 2.0 + 1.0) * (v * 2.0 + 1.0)).collect();
        let got = at_every_level(|_| {
            let mut o = vec![9.0; n];
            write_then_update(&x, &mut o);
            o
        });
        check_levels("out = ; out += ; out *= out", &want, &got, NAN_ANY);
    }
}

#[kernel]
fn clamp_bounds(x: &[f64], lo: f64, hi: f64) -> Vec<f64> {
    x.clamp(lo, hi)
}

#[test]
fn clamp_with_bad_bounds_panics_as_std() {
    for t in loopfuse::supported_targets() {
        let msg = panic_message(|| loopfuse::with_target(t, || clamp_bounds(&[1.0; 40], 2.0, 1.0)));
        let std_msg = panic_message(|| 1.0f64.clamp(2.0, 1.0));
        assert_eq!(msg, std_msg, "at {t:?}");
        // No element, no call, no panic (as the scalar loop).
        assert!(loopfuse::with_target(t, || clamp_bounds(&[], 2.0, 1.0)).is_empty());
    }
}

// ---- scalars, user functions, statements ----------------------------------------------------

#[kernel]
fn scalar_right(x: &[f64], a: f64) -> Vec<f64> {
    x * a - 1.5
}

#[kernel]
fn scalar_left(a: f64, x: &[f64]) -> Vec<f64> {
    a / x + (2.0 - x)
}

#[kernel]
fn scalar_int(x: &[i32], a: i32) -> Vec<i32> {
    a - x * 2
}

#[test]
fn scalar_broadcast_either_side() {
    for a in [2.5, -0.0, f64::NAN, f64::INFINITY] {
        check1("x * a - 1.5", gen_f64, |x| scalar_right(x, a), |x| x * a - 1.5, NAN_ANY);
        check1("a / x + (2 - x)", gen_f64, |x| scalar_left(a, x), |x| a / x + (2.0 - x), NAN_ANY);
    }
    check1("a - x * 2", small_i32, |x| scalar_int(x, 7), |x| 7 - x * 2, EXACT);
}

fn leaky(x: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        0.01 * x
    }
}

#[inline]
fn smoothstep(x: f32, lo: f32) -> f32 {
    let t = ((x - lo) * 0.5).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[kernel]
fn user_fn(x: &[f64], y: &[f64]) -> Vec<f64> {
    leaky(x) + leaky(y * 2.0)
}

#[kernel]
fn user_fn_scalar_arg(x: &[f32], lo: f32) -> Vec<f32> {
    smoothstep(x, lo)
}

#[test]
fn user_scalar_fn_on_arrays() {
    check2("leaky", gen_f64, gen_f64, user_fn, |x, y| leaky(x) + leaky(y * 2.0), NAN_ANY);
    check1("smoothstep", gen_f32, |x| user_fn_scalar_arg(x, -1.0), |x| smoothstep(x, -1.0), NAN_ANY);
}

#[kernel]
fn add_multiple(arr: &[f64]) -> Vec<f64> {
    let mut result = arr + 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result += 17.0;
    result
}

#[test]
fn fused_add_multiple() {
    check1(
        "add_multiple",
        gen_f64,
        add_multiple,
        |a| {
            let mut r = a + 17.0;
            for _ in 0..9 {
                r += 17.0;
            }
            r
        },
        NAN_ANY,
    );
}

#[kernel]
fn statements(x: &[f64], y: &[f64], c: f64) -> Vec<f64> {
    let t = x * c;
    let t = t - y; // shadowing
    let mut u = t.abs();
    u *= 2.0;
    u -= y;
    u /= 3.0;
    u %= 7.0;
    let k = c * c + 1.0; // a scalar let
    let u = {
        let inner = u + k;
        inner * x
    };
    u
}

#[test]
fn shadowing_let_mut_compound() {
    let c = 1.25;
    check2(
        "statements",
        gen_f64,
        gen_f64,
        |x, y| statements(x, y, c),
        |x, y| {
            let t = x * c;
            let t = t - y;
            let mut u = t.abs();
            u *= 2.0;
            u -= y;
            u /= 3.0;
            u %= 7.0;
            let k = c * c + 1.0;
            let u = {
                let inner = u + k;
                inner * x
            };
            u
        },
        NAN_ANY,
    );
}

#[kernel]
fn shadowed_scalar(x: &[f64], a: f64) -> Vec<f64> {
    let a = a * 2.0;
    let a = a + 1.0;
    let y = x + 100.0;
    y * a
}

/// Regression (fixed in d44bce6): a scalar shadowed twice was renamed `__a1`, the name of a
/// loop-body node, and `y * a` read `y * y`.
#[test]
fn shadowed_scalar_named_a() {
    check1("shadowed a", gen_f64, |x| shadowed_scalar(x, 1.0), |x| (x + 100.0) * 3.0, NAN_ANY);
}

#[kernel]
fn shadow_param_after_use(x: &[f64], a: f64) -> Vec<f64> {
    let y = x * a;
    let a = 5.0;
    y + a
}

#[kernel]
fn shadow_param_after_reduction(x: &[f64], a: f64) -> (f64, Vec<f64>) {
    let s = (x * a).sum();
    let a = 5.0;
    (s, x * a)
}

/// Regression (fixed in d44bce6): `let a = 5.0` shadowing the parameter `a` kept the name
/// `a` and was computed before the fused loop, so the earlier `x * a` read 5.0 too.
#[test]
fn shadowing_a_scalar_parameter_after_use() {
    check1("y = x * a; let a = 5; y + a", gen_f64, |x| shadow_param_after_use(x, 1.5), |x| x * 1.5 + 5.0, NAN_ANY);
    assert_eq!(shadow_param_after_reduction(&[1.0, 2.0], 1.5), (4.5, vec![5.0, 10.0]));
}

#[kernel]
fn block_scoped_scalar(x: &[f64], a: f64) -> Vec<f64> {
    let b = {
        let a = 10.0;
        a * 2.0
    };
    x * a + b
}

/// Regression (fixed in d44bce6): a `let` inside a block was flattened into the kernel
/// without renaming and shadowed the parameter `a` after the block too.
#[test]
fn block_scoped_scalar_let() {
    check1("{ let a = 10 } x * a", gen_f64, |x| block_scoped_scalar(x, 1.5), |x| x * 1.5 + 20.0, NAN_ANY);
}

#[kernel]
fn shadowed_scalar_b(x: &[f64], b: f64) -> Vec<f64> {
    let b = b * 2.0;
    let b = b + 1.0;
    let y = x + 100.0;
    y * b
}

#[test]
fn shadowed_scalar_other_name() {
    check1("shadowed b", gen_f64, |x| shadowed_scalar_b(x, 1.0), |x| (x + 100.0) * 3.0, NAN_ANY);
}

#[kernel]
fn mut_scalar(x: &[f64], a: f64) -> Vec<f64> {
    let mut k = a;
    let y = x * k;
    k += 1.0;
    y + k
}
#[kernel]
fn mut_scalar2(x: &[f64], a: f64) -> Vec<f64> {
    let mut k = a;
    let y = x * k;
    k = k * 10.0;
    y + k
}
#[kernel]
fn mut_scalar_red(x: &[f64]) -> (f64, f64) {
    let mut s = x.sum();
    let before = s;
    s *= 2.0;
    (before, s + x.max())
}
#[kernel]
fn mut_array(x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut y = x * 2.0;
    let z = y + 1.0;
    y += 100.0;
    (y, z)
}
/// Mutating a scalar or an array after a use: the use keeps the earlier value, as in Rust.
#[test]
fn mutation_after_use_keeps_order() {
    check1("k += 1 after y = x * k", gen_f64, |x| mut_scalar(x, 1.5), |x| x * 1.5 + 2.5, NAN_ANY);
    check1("k = k * 10 after use", gen_f64, |x| mut_scalar2(x, 1.5), |x| x * 1.5 + 15.0, NAN_ANY);
    for (t, r) in at_every_level(|_| (mut_scalar_red(&[1.0, 2.0]), mut_array(&[1.0, -2.0]))) {
        assert_eq!(r.0, (3.0, 8.0), "at {t:?}");
        assert_eq!(r.1, (vec![102.0, 96.0], vec![3.0, -3.0]), "at {t:?}");
    }
}

#[kernel]
fn fill_out(x: &[f64], out: &mut [f64]) {
    out[..] = x.sqrt() * 2.0;
}

#[kernel]
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y += a * x;
}

#[kernel]
fn update_vec(x: &[f32], y: &mut Vec<f32>) {
    y *= x;
    y -= 1.0;
}

#[kernel]
fn two_outputs(x: &[f64], lo: &mut [f64], hi: &mut [f64]) {
    lo[..] = x.min(0.0);
    hi[..] = x.max(0.0);
}

#[test]
fn mut_outputs() {
    for &n in LENGTHS {
        let x = gen_f64(n, seed(n, 1));
        let y0 = gen_f64(n, seed(n, 2));
        let want: Vec<f64> = x.iter().map(|v| v.sqrt() * 2.0).collect();
        let got = at_every_level(|_| {
            let mut out = vec![7.0; n];
            fill_out(&x, &mut out);
            out
        });
        check_levels(&format!("out[..] = (n = {n})"), &want, &got, NAN_ANY);

        let want: Vec<f64> = x.iter().zip(&y0).map(|(x, y)| y + 0.75 * x).collect();
        let got = at_every_level(|_| {
            let mut y = y0.clone();
            axpy(0.75, &x, &mut y);
            y
        });
        check_levels(&format!("y += a * x (n = {n})"), &want, &got, NAN_ANY);

        let (xf, yf) = (gen_f32(n, seed(n, 3)), gen_f32(n, seed(n, 4)));
        let want: Vec<f32> = xf.iter().zip(&yf).map(|(x, y)| y * x - 1.0).collect();
        let got = at_every_level(|_| {
            let mut y = yf.clone();
            update_vec(&xf, &mut y);
            y
        });
        check_levels(&format!("&mut Vec (n = {n})"), &want, &got, NAN_ANY);

        let want: Vec<(f64, f64)> = x.iter().map(|v| (v.min(0.0), v.max(0.0))).collect();
        let got = at_every_level(|_| {
            let (mut lo, mut hi) = (vec![0.0; n], vec![0.0; n]);
            two_outputs(&x, &mut lo, &mut hi);
            (lo, hi)
        });
        for (t, (lo, hi)) in got {
            for i in 0..n {
                assert!(lo[i].same(want[i].0, true), "lo {t:?} n={n} i={i}");
                assert!(hi[i].same(want[i].1, true), "hi {t:?} n={n} i={i}");
            }
        }
    }
}

#[kernel]
fn tuple_results(x: &[f64], y: &[f64]) -> (Vec<f64>, Array1<f64>, Vec<bool>, f64) {
    let d = x - y;
    (d * d, d.abs(), d > 0.0, d.abs().max())
}

#[test]
fn tuple_results_from_one_pass() {
    for &n in &LENGTHS[1..] {
        let (x, y) = (gen_f64(n, seed(n, 1)), gen_f64(n, seed(n, 2)));
        let d: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a - b).collect();
        let sq: Vec<f64> = d.iter().map(|d| d * d).collect();
        let ab: Vec<f64> = d.iter().map(|d| d.abs()).collect();
        let gt: Vec<bool> = d.iter().map(|&d| d > 0.0).collect();
        let mx = ab.iter().fold(f64::NEG_INFINITY, |m, &v| if m.is_nan() || v.is_nan() { f64::NAN } else { m.max(v) });
        let got = at_every_level(|_| tuple_results(&x, &y));
        let what = format!("tuple (n = {n})");
        let lv = |f: &dyn Fn(&(Vec<f64>, Array1<f64>, Vec<bool>, f64)) -> Vec<f64>| {
            got.iter().map(|(t, r)| (*t, f(r))).collect::<Vec<_>>()
        };
        check_levels(&what, &sq, &lv(&|r| r.0.clone()), NAN_ANY);
        check_levels(&what, &ab, &lv(&|r| r.1.to_vec()), NAN_ANY);
        let masks: Vec<_> = got.iter().map(|(t, r)| (*t, r.2.clone())).collect();
        check_levels(&what, &gt, &masks, EXACT);
        let maxes: Vec<_> = got.iter().map(|(t, r)| (*t, r.3)).collect();
        check_scalar(&what, mx, &maxes, NAN_ANY);
    }
}

// ---- ndarray views: strided, reversed, strided output -----------------------------------------

#[kernel]
fn view_kernel(x: ArrayView1<f64>, y: &Array1<f64>) -> Vec<f64> {
    x * 2.0 - y.abs()
}

#[kernel]
fn view_sum(x: ArrayView1<f64>) -> f64 {
    x.sum()
}

#[kernel]
fn into_strided(x: ArrayView1<f64>, out: ArrayViewMut1<f64>) {
    out[..] = x + 1.0;
}

#[kernel]
fn update_strided(x: &[f64], out: ArrayViewMut1<f64>) {
    out += x * 3.0;
}

#[test]
fn strided_and_reversed_views() {
    for &n in LENGTHS {
        let base = Array1::from(gen_f64(2 * n + 1, seed(n, 1)));
        let mut other = Array1::from(gen_f64(n, seed(n, 2)));
        other.invert_axis(ndarray::Axis(0)); // an owned array with a negative stride
        let bcast = Array1::from(vec![-3.5]);
        let views = [
            ("..2n;2", base.slice(s![..2 * n;2])),
            ("..2n;-2", base.slice(s![..2 * n;-2])),
            ("n..2n;-1", base.slice(s![n..2 * n;-1])),
            ("..n", base.slice(s![..n])),
            ("1..;2", base.slice(s![1..;2])),
            ("broadcast", bcast.broadcast(n).unwrap()),
        ];
        for (name, v) in views {
            assert_eq!(v.len(), n, "{name}");
            let want: Vec<f64> = v.iter().zip(&other).map(|(a, b)| a * 2.0 - b.abs()).collect();
            let got = at_every_level(|_| view_kernel(v.view(), &other));
            check_levels(&format!("view {name} (n = {n})"), &want, &got, NAN_ANY);

            // Sum of a view equals the sum of the same elements as a contiguous slice.
            let contiguous: Vec<f64> = v.iter().copied().collect();
            let want = with_level_sum(&contiguous);
            let got = at_every_level(|_| view_sum(v.view()));
            check_scalar(&format!("view sum {name} (n = {n})"), want, &got, NAN_ANY);

            // A strided (every other element) output; the untouched elements keep their value.
            let want: Vec<f64> = v.iter().map(|a| a + 1.0).collect();
            let got = at_every_level(|_| {
                let mut o = Array1::from_elem(2 * n + 1, -9.0);
                into_strided(v.view(), o.slice_mut(s![1..;2]));
                assert!(o.iter().step_by(2).all(|&e| e == -9.0), "strided output wrote outside");
                o.slice(s![1..;2]).to_vec()
            });
            check_levels(&format!("strided out {name} (n = {n})"), &want, &got, NAN_ANY);
        }
        let x = gen_f64(n, seed(n, 3));
        let o0 = Array1::from(gen_f64(n, seed(n, 4)));
        let want: Vec<f64> = o0.iter().rev().zip(&x).map(|(o, x)| o + x * 3.0).collect();
        let got = at_every_level(|_| {
            let mut o = o0.clone();
            update_strided(&x, o.slice_mut(s![..;-1]));
            o.iter().rev().copied().collect::<Vec<_>>()
        });
        check_levels(&format!("reversed out += (n = {n})"), &want, &got, NAN_ANY);
    }
}

#[kernel]
fn plain_sum(x: &[f64]) -> f64 {
    x.sum()
}

/// The sum at the lowest level this build can run (`generic`, unless built with
/// `-C target-cpu=..`); every level gives the same bits.
fn with_level_sum(x: &[f64]) -> f64 {
    loopfuse::with_target(loopfuse::static_baseline(), || plain_sum(x))
}

#[test]
fn array_and_vec_inputs() {
    #[kernel]
    fn arr_in(x: &[f64; 5], y: &Vec<f64>) -> Vec<f64> {
        x * y
    }
    let x = [1.0, -2.0, f64::NAN, 0.5, -0.0];
    let y = vec![3.0, 4.0, 5.0, f64::INFINITY, 2.0];
    let want: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a * b).collect();
    check_levels("&[f64; 5] * &Vec", &want, &at_every_level(|_| arr_in(&x, &y)), NAN_ANY);
}

// ---- proptest: a fused kernel on random lengths and values -----------------------------------

#[kernel]
fn fused(x: &[f64], y: &[f64], a: f64) -> (Vec<f64>, Vec<bool>) {
    let t = (x * a + y).abs();
    let u = if t > 1.0 { t.sqrt() } else { t * t - y };
    (u.max(x) * 0.5, u.is_finite())
}

fn fused_scalar(x: f64, y: f64, a: f64) -> (f64, bool) {
    let t = (x * a + y).abs();
    let u = if t > 1.0 { t.sqrt() } else { t * t - y };
    (u.max(x) * 0.5, u.is_finite())
}

fn any_f64() -> impl proptest::strategy::Strategy<Value = f64> {
    use proptest::prelude::*;
    prop_oneof![
        4 => -1e6f64..1e6,
        1 => proptest::num::f64::ANY,
        1 => proptest::sample::select(specials_f64()),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 64, ..Default::default() })]
    #[test]
    fn proptest_fused_vs_scalar(
        xy in proptest::collection::vec((any_f64(), any_f64()), 0..5000),
        a in any_f64(),
        offset in 0usize..3,
    ) {
        let off = offset.min(xy.len());
        let x: Vec<f64> = xy[off..].iter().map(|p| p.0).collect();
        let y: Vec<f64> = xy[off..].iter().map(|p| p.1).collect();
        let want: Vec<(f64, bool)> = x.iter().zip(&y).map(|(&x, &y)| fused_scalar(x, y, a)).collect();
        for (t, (v, m)) in at_every_level(|_| fused(&x, &y, a)) {
            proptest::prop_assert_eq!(v.len(), want.len());
            for i in 0..want.len() {
                proptest::prop_assert!(v[i].same(want[i].0, true), "{:?} i={} want {} got {}", t, i, want[i].0, v[i]);
                proptest::prop_assert_eq!(m[i], want[i].1);
            }
        }
    }
}
