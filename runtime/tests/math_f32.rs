//! f32 accuracy, special values and cross-level bit identity of
//! `loopfuse_runtime::math`.
//!
//! Reference: the std `f64` function rounded to `f32`. CI checks one input per
//! 256 consecutive bit patterns (2^24 inputs, all exponents and signs, the low
//! byte varied); the `#[ignore]`d `*_exhaustive` tests check all 2^32 inputs.
//! Bound: ≤ 1 ULP. Run with `--nocapture` to see the measured maxima.

mod math_util;

use loopfuse_runtime::math;
use math_util::*;

level_wrappers!(
    exp_slice,
    exp2_slice,
    exp_m1_slice,
    ln_slice,
    log2_slice,
    log10_slice,
    ln_1p_slice,
    tanh_slice,
    sinh_slice,
    cosh_slice,
    sin_slice,
    cos_slice,
    tan_slice,
    atan_slice,
    asin_slice,
    acos_slice,
    cbrt_slice,
);

type Levels = fn() -> Vec<(&'static str, fn(&[f32], &mut [f32]))>;

struct Case {
    name: &'static str,
    levels: Levels,
    scalar: fn(f32) -> f32,
    std: fn(f64) -> f64,
}

macro_rules! case {
    ($name:ident, $w:ident, $std:expr) => {
        Case { name: stringify!($name), levels: $w::levels::<f32>, scalar: math::$name::<f32>, std: $std }
    };
}

fn cases() -> Vec<Case> {
    vec![
        case!(exp, exp_slice, f64::exp),
        case!(exp2, exp2_slice, f64::exp2),
        case!(exp_m1, exp_m1_slice, f64::exp_m1),
        case!(ln, ln_slice, f64::ln),
        case!(log2, log2_slice, f64::log2),
        case!(log10, log10_slice, f64::log10),
        case!(ln_1p, ln_1p_slice, f64::ln_1p),
        case!(tanh, tanh_slice, f64::tanh),
        case!(sinh, sinh_slice, f64::sinh),
        case!(cosh, cosh_slice, f64::cosh),
        case!(sin, sin_slice, f64::sin),
        case!(cos, cos_slice, f64::cos),
        case!(tan, tan_slice, f64::tan),
        case!(atan, atan_slice, f64::atan),
        case!(asin, asin_slice, f64::asin),
        case!(acos, acos_slice, f64::acos),
        case!(cbrt, cbrt_slice, f64::cbrt),
    ]
}

fn case(name: &str) -> Case {
    cases().into_iter().find(|c| c.name == name).unwrap()
}

/// Input number `i` of a sweep with the given stride over the 2^32 patterns.
fn input(i: u64, stride: u64) -> f32 {
    let low = if stride > 1 { (i.wrapping_mul(167) % stride) as u32 } else { 0 };
    f32::from_bits((i * stride) as u32 | low)
}

/// Max ULP distance to the reference over `2^32 / stride` inputs.
fn sweep(c: &Case, stride: u64) -> (u64, f32) {
    let f = (c.levels)().last().unwrap().1;
    let n = (1u64 << 32) / stride;
    let res = par2(n, |range| {
        let mut worst = (0u64, 0.0f32);
        let mut x = vec![0.0f32; 4096];
        let mut y = vec![0.0f32; 4096];
        let mut i = range.start;
        while i < range.end {
            let m = ((range.end - i) as usize).min(x.len());
            for (j, v) in x[..m].iter_mut().enumerate() {
                *v = input(i + j as u64, stride);
            }
            f(&x[..m], &mut y[..m]);
            for j in 0..m {
                let want = (c.std)(x[j] as f64) as f32;
                let d = ulp_dist32(y[j], want);
                if d > worst.0 {
                    worst = (d, x[j]);
                }
            }
            i += m as u64;
        }
        worst
    });
    res.into_iter().max_by_key(|w| w.0).unwrap()
}

fn accuracy(name: &str, stride: u64) {
    let c = case(name);
    let (d, x) = sweep(&c, stride);
    println!(
        "{name} f32: max {d} ULP over {} inputs (at x = {x:e} = {:#010x}: ours {:e}, ref {:e})",
        (1u64 << 32) / stride,
        x.to_bits(),
        (c.scalar)(x),
        (c.std)(x as f64) as f32
    );
    assert!(d <= 1, "{name}: {d} ULP at x = {x:e}");
}

macro_rules! accuracy_tests {
    ($($name:ident / $long:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            accuracy(stringify!($name), 256);
        }
        #[test]
        #[ignore]
        fn $long() {
            accuracy(stringify!($name), 1);
        }
    )*};
}

accuracy_tests!(
    exp / exp_exhaustive,
    exp2 / exp2_exhaustive,
    exp_m1 / exp_m1_exhaustive,
    ln / ln_exhaustive,
    log2 / log2_exhaustive,
    log10 / log10_exhaustive,
    ln_1p / ln_1p_exhaustive,
    tanh / tanh_exhaustive,
    sinh / sinh_exhaustive,
    cosh / cosh_exhaustive,
    sin / sin_exhaustive,
    cos / cos_exhaustive,
    tan / tan_exhaustive,
    atan / atan_exhaustive,
    asin / asin_exhaustive,
    acos / acos_exhaustive,
    cbrt / cbrt_exhaustive,
);

fn specials32() -> Vec<f32> {
    let mut v = vec![
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        -f32::from_bits(1),
        f32::MAX,
        -f32::MAX,
        1.0,
        -1.0,
        88.72283,
        88.72284,
        -103.97208,
        -103.97209,
        -87.33655,
        128.0,
        -149.0,
        -150.0,
        -151.0,
    ];
    let n = v.len();
    for i in 0..n {
        if v[i].is_finite() {
            v.push(v[i].next_up());
            v.push(v[i].next_down());
        }
    }
    v
}

/// Special inputs (±0, ±inf, NaN) and every listed input whose reference is
/// ±0, ±inf or NaN must give exactly the reference bits (NaN: any NaN).
#[test]
fn special_values() {
    let mut failures = Vec::new();
    for c in cases() {
        for x in specials32() {
            let want = (c.std)(x as f64) as f32;
            let special_in = x == 0.0 || x.is_infinite() || x.is_nan();
            let special_out = want == 0.0 || want.is_infinite() || want.is_nan();
            let got = (c.scalar)(x);
            if special_in || special_out {
                if !same32(got, want) {
                    failures.push(format!("{}({x:e}) = {got:e}, want {want:e}", c.name));
                }
            } else if ulp_dist32(got, want) > 1 {
                failures.push(format!("{}({x:e}) = {got:e}, want {want:e} (>1 ULP)", c.name));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Every level gives the same bits, on a strided sweep plus the specials.
#[test]
fn cross_level_bit_identity() {
    for c in cases() {
        let levels = (c.levels)();
        let mut x = specials32();
        x.extend((0..(1u64 << 17)).map(|i| input(i, 1 << 15)));
        x.extend((0..100_003).map(|i| input(i, 42_949)));
        let mut reference = vec![0.0; x.len()];
        (levels[0].1)(&x, &mut reference);
        for &(lvl, f) in &levels[1..] {
            for len in [x.len(), 1, 15, 17] {
                let mut out = vec![0.0; len];
                f(&x[..len], &mut out);
                for i in 0..len {
                    assert!(
                        same32(out[i], reference[i]),
                        "{}: level {lvl} differs from plain at x = {:e}: {:e} vs {:e}",
                        c.name,
                        x[i],
                        out[i],
                        reference[i]
                    );
                }
            }
        }
        for i in (0..x.len()).step_by(101) {
            assert!(same32((c.scalar)(x[i]), reference[i]), "{} scalar", c.name);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn atan2_v3(y: &[f32], x: &[f32], out: &mut [f32]) {
    math::atan2_slice(y, x, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
fn atan2_v4(y: &[f32], x: &[f32], out: &mut [f32]) {
    math::atan2_slice(y, x, out)
}

/// atan2 on 2^22 pairs of random bit patterns and 2^22 pairs of moderate
/// values, against std f64 atan2 rounded to f32; specials bit-exact; levels
/// bit-identical.
#[test]
fn atan2() {
    let n = 1usize << 22;
    let mut rng = Rng(99);
    let mut y: Vec<f32> = Vec::with_capacity(2 * n);
    let mut x: Vec<f32> = Vec::with_capacity(2 * n);
    for i in 0..2 * n {
        if i < n {
            y.push(f32::from_bits(rng.next_u64() as u32));
            x.push(f32::from_bits(rng.next_u64() as u32));
        } else {
            y.push(rng.uniform(-10.0, 10.0) as f32);
            x.push(rng.uniform(-10.0, 10.0) as f32);
        }
    }
    let specials = [0.0f32, -0.0, 1.0, -1.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, f32::from_bits(1), f32::MAX];
    for &a in &specials {
        for &b in &specials {
            y.push(a);
            x.push(b);
        }
    }
    let mut plain = vec![0.0f32; y.len()];
    math::atan2_slice(&y, &x, &mut plain);
    let mut worst = 0;
    for i in 0..y.len() {
        let want = (y[i] as f64).atan2(x[i] as f64) as f32;
        let special = [y[i], x[i], want].iter().any(|v| *v == 0.0 || v.is_infinite() || v.is_nan());
        if special {
            assert!(same32(plain[i], want), "atan2({:e}, {:e}) = {:e}, want {want:e}", y[i], x[i], plain[i]);
        } else {
            let d = ulp_dist32(plain[i], want);
            worst = worst.max(d);
            assert!(d <= 1, "atan2({:e}, {:e}) = {:e}, want {want:e}", y[i], x[i], plain[i]);
        }
    }
    println!("atan2 f32: max {worst} ULP over {} pairs", y.len());
    #[cfg(target_arch = "x86_64")]
    {
        let mut out = vec![0.0f32; y.len()];
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA are available.
            unsafe { atan2_v3(&y, &x, &mut out) };
            assert!(out.iter().zip(&plain).all(|(a, b)| same32(*a, *b)), "atan2 v3 differs");
        }
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
        {
            // SAFETY: every feature atan2_v4 enables is available.
            unsafe { atan2_v4(&y, &x, &mut out) };
            assert!(out.iter().zip(&plain).all(|(a, b)| same32(*a, *b)), "atan2 v4 differs");
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn powf_v3(x: &[f32], y: &[f32], out: &mut [f32]) {
    math::powf_slice(x, y, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
fn powf_v4(x: &[f32], y: &[f32], out: &mut [f32]) {
    math::powf_slice(x, y, out)
}

/// powf on 2^22 pairs of random bit patterns and 2^22 moderate pairs, against
/// std f64 powf rounded to f32; specials bit-exact; levels bit-identical.
#[test]
fn powf() {
    let n = 1usize << 22;
    let mut rng = Rng(123);
    let mut x: Vec<f32> = Vec::with_capacity(2 * n);
    let mut y: Vec<f32> = Vec::with_capacity(2 * n);
    for i in 0..2 * n {
        if i < n {
            x.push(f32::from_bits(rng.next_u64() as u32));
            y.push(f32::from_bits(rng.next_u64() as u32));
        } else if i % 2 == 0 {
            x.push(rng.uniform(0.0, 10.0) as f32);
            y.push(rng.uniform(-40.0, 40.0) as f32);
        } else {
            x.push(rng.uniform(-10.0, 10.0) as f32);
            y.push(rng.uniform(-40.0, 40.0).round() as f32);
        }
    }
    let specials = [
        0.0f32,
        -0.0,
        1.0,
        -1.0,
        2.0,
        -2.0,
        0.5,
        3.0,
        -3.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::from_bits(1),
        f32::MAX,
    ];
    for &a in &specials {
        for &b in &specials {
            x.push(a);
            y.push(b);
        }
    }
    let mut plain = vec![0.0f32; x.len()];
    math::powf_slice(&x, &y, &mut plain);
    let mut worst = 0;
    for i in 0..x.len() {
        let want = (x[i] as f64).powf(y[i] as f64) as f32;
        let special = [x[i], y[i], want].iter().any(|v| *v == 0.0 || v.is_infinite() || v.is_nan());
        if special {
            assert!(same32(plain[i], want), "powf({:e}, {:e}) = {:e}, want {want:e}", x[i], y[i], plain[i]);
        } else {
            let d = ulp_dist32(plain[i], want);
            worst = worst.max(d);
            assert!(d <= 1, "powf({:e}, {:e}) = {:e}, want {want:e}", x[i], y[i], plain[i]);
        }
    }
    println!("powf f32: max {worst} ULP over {} pairs", x.len());
    #[cfg(target_arch = "x86_64")]
    {
        let mut out = vec![0.0f32; x.len()];
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA are available.
            unsafe { powf_v3(&x, &y, &mut out) };
            assert!(out.iter().zip(&plain).all(|(a, b)| same32(*a, *b)), "powf v3 differs");
        }
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
        {
            // SAFETY: every feature powf_v4 enables is available.
            unsafe { powf_v4(&x, &y, &mut out) };
            assert!(out.iter().zip(&plain).all(|(a, b)| same32(*a, *b)), "powf v4 differs");
        }
    }
}
