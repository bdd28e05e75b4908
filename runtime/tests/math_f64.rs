//! f64 accuracy, special values and cross-level bit identity of
//! `loopfuse_runtime::math`.
//!
//! Accuracy: ≥ 10^6 random inputs per function (10^7 in the `#[ignore]`d
//! `*_long` tests) plus edge lists, compared with std (glibc), and where a
//! double-double reference exists (see `dd` below) with that reference; both
//! must be ≤ 1 ULP. Run with `--nocapture` to see the measured maxima.

mod math_util;

use loopfuse_runtime::math;
use math_util::dd::{self, d, DD};
use math_util::Dist::{Any, L, U};
use math_util::*;
use std::f64::consts::FRAC_PI_2;

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

type RefFn = fn(f64) -> Option<(DD, i32)>;
type Levels = fn() -> Vec<(&'static str, fn(&[f64], &mut [f64]))>;

struct Case {
    name: &'static str,
    levels: Levels,
    scalar: fn(f64) -> f64,
    std: fn(f64) -> f64,
    dists: &'static [Dist],
    edges: &'static [f64],
    /// Double-double reference (value, k) = value * 2^k, or None outside the
    /// domain it covers (specials: checked against std instead).
    reference: Option<RefFn>,
}

macro_rules! case {
    ($name:ident, $w:ident, $std:expr, $dists:expr, $edges:expr) => {
        case!($name, $w, $std, $dists, $edges, None)
    };
    ($name:ident, $w:ident, $std:expr, $dists:expr, $edges:expr, $r:expr) => {
        Case {
            name: stringify!($name),
            levels: $w::levels::<f64>,
            scalar: math::$name::<f64>,
            std: $std,
            dists: $dists,
            edges: $edges,
            reference: $r,
        }
    };
}

const LOG_DISTS: &[Dist] = &[L(-1074.0, 1024.0, false), U(0.5, 2.0), U(0.0, 10.0), L(-40.0, 40.0, false), Any];

const TRIG_DISTS: &[Dist] =
    &[U(-10.0, 10.0), U(-1e5, 1e5), U(-1.0, 1.0), L(-60.0, 20.0, true), L(-1074.0, 1024.0, true), Any];

const TRIG_EDGES: &[f64] = &[
    std::f64::consts::FRAC_PI_2,
    std::f64::consts::PI,
    std::f64::consts::FRAC_PI_4,
    1.4901161193847656e-8,
    1048576.0,
    // the largest double below the fast reduction's bound, the double nearest a multiple
    // of pi/2 below it (2^-60.5 away), and one near an odd multiple of pi/4 close to it
    1048575.9999999999,
    45.553093477052,
    667544.5 * std::f64::consts::FRAC_PI_2,
    1.5707963267948966e10,
    355.0,
    103993.0,
    1.2246467991473532e-16,
    8.988465674311579e307,
];

/// Hard cases for the argument reduction (x close to a multiple of pi/2,
/// huge x), with correctly rounded sin, cos, tan computed with mpmath at 450
/// digits. 6381956970095103 * 2^797 = 5.319e255 is the double closest to a
/// multiple of pi/2 (Muller's worst case; glibc's cos is 8 ULP off there).
#[allow(clippy::excessive_precision, clippy::approx_constant)]
const TRIG_HARD: &[(f64, f64, f64, f64)] = &[
    (1.5707963267948966, 1.0, 6.123233995736766e-17, 1.633123935319537e+16),
    (3.141592653589793, 1.2246467991473532e-16, -1.0, -1.2246467991473532e-16),
    (4.71238898038469, -1.0, -1.8369701987210297e-16, 5443746451065123.0),
    (15.707963267948966, 6.123233995736766e-16, -1.0, -6.123233995736766e-16),
    (1570.7963267948967, 6.666535247945037e-14, 1.0, 6.666535247945037e-14),
    (1570796.3267948965, -1.1159560906804355e-10, 1.0, -1.1159560906804355e-10),
    (1570796326.7948966, -1.660070645726475e-08, 0.9999999999999999, -1.6600706457264754e-08),
    (1570796326794.8967, 0.00010928430309082877, 0.9999999940284705, 0.00010928430374342321),
    (1570796326794896.5, -0.11894902153438383, 0.9929003627132044, -0.11979955492144566),
    (1.8110048645192806e+18, -0.9959748854655721, 0.08963273688692398, -11.111731272046756),
    (1.5707963267948967e+20, 0.2011466911576539, -0.9795611306275517, -0.20534368388912094),
    (1e+22, -0.8522008497671888, 0.523214785395139, -1.6287782256068988),
    (1.5707963267948966e+100, -0.9974471599292345, 0.07140842491684053, -13.968199986077588),
    (5.319372648326541e+255, 1.0, -4.687165924254628e-19, -2.133485385753704e+18),
    (1e+300, -0.8178819121159085, -0.5753861119575491, 1.4214488238747245),
    (8.98846567431158e+307, 0.563127779850884, -0.826369834614148, -0.6814476476066215),
    (1.7976931348623157e+308, 0.004961954789184062, -0.9999876894265599, -0.004962015874444895),
];

#[test]
fn trig_hard_cases() {
    let mut worst = 0;
    for &(x, s, c, t) in TRIG_HARD {
        for (sign, x) in [(1.0, x), (-1.0, -x)] {
            let got = [math::sin(x), math::cos(x), math::tan(x)];
            let want = [sign * s, c, sign * t];
            for i in 0..3 {
                let d = ulp_dist64(got[i], want[i]);
                worst = worst.max(d);
                assert!(d <= 1, "{} of {x:e}: {:e} vs {:e}", ["sin", "cos", "tan"][i], got[i], want[i]);
            }
        }
    }
    println!("trig hard cases: max {worst} ULP vs correctly rounded");
}

fn cases() -> Vec<Case> {
    vec![
        case!(
            exp,
            exp_slice,
            f64::exp,
            &[U(-750.0, 712.0), U(-1.0, 1.0), L(-60.0, 10.0, true), U(-10.0, 10.0), Any],
            &[
                709.782712893384,
                709.7827128933841,
                -745.1332191019411,
                -745.1332191019412,
                -708.3964185322641,
                -708.3964185322642,
                0.34657359027997264,
                -0.34657359027997264
            ],
            Some(|x| (x > -746.0 && x < 710.0).then(|| dd::exp_dd(d(x))))
        ),
        case!(
            exp2,
            exp2_slice,
            f64::exp2,
            &[U(-1080.0, 1030.0), U(-1.0, 1.0), L(-60.0, 10.0, true), U(-10.0, 10.0), Any],
            &[1024.0, 1023.0, -1022.0, -1074.0, -1075.0, -1076.0, 0.5, -0.5, 1023.5],
            Some(|x| (x > -1080.0 && x < 1025.0).then(|| dd::exp_dd(d(x).mul(dd::LN2))))
        ),
        case!(
            exp_m1,
            exp_m1_slice,
            f64::exp_m1,
            &[U(-40.0, 712.0), U(-1.0, 1.0), L(-60.0, 10.0, true), U(-3.0, 3.0), Any],
            &[709.782712893384, 709.7827128933841, -37.0, -38.0, -40.0, 1e-10, -1e-10],
            Some(|x| (x > -1e300 && x < 710.0).then(|| dd::expm1_dd(x)))
        ),
        case!(
            ln,
            ln_slice,
            f64::ln,
            LOG_DISTS,
            &[std::f64::consts::FRAC_1_SQRT_2, std::f64::consts::SQRT_2],
            Some(|x| (x > 0.0 && x < f64::INFINITY).then(|| (dd::ln_dd(d(x)), 0)))
        ),
        case!(
            log2,
            log2_slice,
            f64::log2,
            LOG_DISTS,
            &[std::f64::consts::FRAC_1_SQRT_2, std::f64::consts::SQRT_2],
            Some(|x| (x > 0.0 && x < f64::INFINITY).then(|| (dd::ln_dd(d(x)).mul(dd::INV_LN2), 0)))
        ),
        case!(
            log10,
            log10_slice,
            f64::log10,
            LOG_DISTS,
            &[10.0, 100.0, 1000.0, 1e22, 1e-5],
            Some(|x| (x > 0.0 && x < f64::INFINITY).then(|| (dd::ln_dd(d(x)).mul(dd::INV_LN10), 0)))
        ),
        case!(
            ln_1p,
            ln_1p_slice,
            f64::ln_1p,
            &[U(-1.0, 1.0), L(-60.0, 0.0, true), L(-1074.0, 1024.0, false), U(-1.0, 10.0), Any],
            &[-0.29289321881345254, 0.41421356237309515, 9007199254740992.0, 1e-17],
            Some(|x| (x > -1.0 && x < f64::INFINITY).then(|| (dd::ln1p_dd(x), 0)))
        ),
        case!(
            tanh,
            tanh_slice,
            f64::tanh,
            &[U(-20.0, 20.0), U(-1.0, 1.0), L(-60.0, 5.0, true), Any],
            &[19.06, 19.07, 22.0, 7.450580596923828e-9, 0.55],
            Some(|x| x.is_finite().then(|| (dd::tanh_dd(x), 0)))
        ),
        case!(
            sinh,
            sinh_slice,
            f64::sinh,
            &[U(-712.0, 712.0), U(-1.0, 1.0), L(-60.0, 6.0, true), U(-45.0, 45.0), Any],
            &[710.4758600739439, 710.475860073944, 40.0, 1.0, 0.01],
            Some(|x| (x.abs() < 711.0).then(|| dd::sinh_dd(x)))
        ),
        case!(
            cosh,
            cosh_slice,
            f64::cosh,
            &[U(-712.0, 712.0), U(-1.0, 1.0), L(-60.0, 6.0, true), U(-45.0, 45.0), Any],
            &[710.4758600739439, 710.475860073944, 40.0, 1.0, 0.01],
            Some(|x| (x.abs() < 711.0).then(|| dd::cosh_dd(x)))
        ),
        case!(
            sin,
            sin_slice,
            f64::sin,
            TRIG_DISTS,
            TRIG_EDGES,
            Some(|x| (x.abs() < 1048576.0).then(|| (dd::trig_dd(x).0, 0)))
        ),
        case!(
            cos,
            cos_slice,
            f64::cos,
            TRIG_DISTS,
            TRIG_EDGES,
            Some(|x| (x.abs() < 1048576.0).then(|| (dd::trig_dd(x).1, 0)))
        ),
        case!(
            tan,
            tan_slice,
            f64::tan,
            TRIG_DISTS,
            TRIG_EDGES,
            Some(|x| (x.abs() < 1048576.0).then(|| (dd::trig_dd(x).2, 0)))
        ),
        case!(
            atan,
            atan_slice,
            f64::atan,
            &[U(-2.0, 2.0), U(-1.0, 1.0), L(-60.0, 60.0, true), L(-1074.0, 1024.0, true), Any],
            &[0.4375, 0.6875, 1.0, 1e16, 1e-300],
            Some(|x| x.is_finite().then(|| (dd::atan_dd(d(x)), 0)))
        ),
        case!(
            asin,
            asin_slice,
            f64::asin,
            &[U(-1.0, 1.0), U(0.9, 1.0), U(-1.0, -0.9), L(-60.0, 0.0, true), Any],
            &[0.5, 0.9999999999999999, 1e-300, 0.7071067811865475],
            Some(|x| (x.abs() <= 1.0).then(|| (dd::atan2_dd(d(x), dd::sqrt_1mx2_dd(x)), 0)))
        ),
        case!(
            acos,
            acos_slice,
            f64::acos,
            &[U(-1.0, 1.0), U(0.9, 1.0), U(-1.0, -0.9), L(-60.0, 0.0, true), Any],
            &[0.5, 0.9999999999999999, 1e-300, 0.7071067811865475],
            Some(|x| (x.abs() <= 1.0).then(|| (dd::atan2_dd(dd::sqrt_1mx2_dd(x), d(x)), 0)))
        ),
        case!(
            cbrt,
            cbrt_slice,
            f64::cbrt,
            &[U(-10.0, 10.0), L(-1074.0, 1024.0, true), L(-30.0, 30.0, true), Any],
            &[27.0, 8.0, 1e-300, 1e300, 3.0, 6.0],
            Some(|x| (x.is_finite() && x != 0.0).then(|| {
                let (v, k) = dd::cbrt_dd(x.abs());
                (if x < 0.0 { v.neg() } else { v }, k)
            }))
        ),
    ]
}

fn case(name: &str) -> Case {
    cases().into_iter().find(|c| c.name == name).unwrap()
}

#[derive(Clone, Copy, Default)]
struct Worst {
    /// max integer ULP distance to std, and where
    std: (u64, f64),
    /// max error in ULPs against the double-double reference, and where
    dd: (f64, f64),
}

impl Worst {
    fn merge(mut self, o: Worst) -> Worst {
        if o.std.0 > self.std.0 {
            self.std = o.std;
        }
        if o.dd.0 > self.dd.0 {
            self.dd = o.dd;
        }
        self
    }
    fn check(&mut self, c: &Case, x: f64, y: f64) {
        let ds = ulp_dist64(y, (c.std)(x));
        if ds > self.std.0 {
            self.std = (ds, x);
        }
        if let Some(Some((v, k))) = c.reference.map(|r| r(x)) {
            let e = dd::ulp_err(y, v, k);
            if e.is_nan() || e > self.dd.0 {
                self.dd = (e, x);
            }
        }
    }
}

/// Max errors over `n` random inputs plus the edge list.
fn measure(c: &Case, n: u64, seed: u64) -> Worst {
    let f = (c.levels)().last().unwrap().1;
    let res = par2(n, |range| {
        let mut rng = Rng(seed ^ range.start.wrapping_mul(0x9E37_79B9));
        let mut worst = Worst::default();
        let mut x = vec![0.0; 4096];
        let mut y = vec![0.0; 4096];
        let mut i = range.start;
        while i < range.end {
            let m = ((range.end - i) as usize).min(x.len());
            for v in &mut x[..m] {
                *v = rng.draw(c.dists);
            }
            f(&x[..m], &mut y[..m]);
            for j in 0..m {
                worst.check(c, x[j], y[j]);
            }
            i += m as u64;
        }
        worst
    });
    let mut worst = res.into_iter().fold(Worst::default(), Worst::merge);
    let e = edges64(c.edges);
    let mut y = vec![0.0; e.len()];
    f(&e, &mut y);
    for (&x, &y) in e.iter().zip(&y) {
        worst.check(c, x, y);
    }
    worst
}

fn accuracy(name: &str, n: u64) {
    let c = case(name);
    let w = measure(&c, n, 0x5EED_0000 ^ n);
    let (ds, xs) = w.std;
    println!(
        "{name}: max {ds} ULP vs std over {n} random + edges (at x = {xs:e}: ours {:e}, std {:e})",
        (c.scalar)(xs),
        (c.std)(xs)
    );
    if c.reference.is_some() {
        let (e, x) = w.dd;
        println!("{name}: max {e:.3} ULP vs double-double reference (at x = {x:e})");
        assert!(e <= 1.0, "{name}: {e} ULP vs reference at x = {x:e}");
        // std itself is not always within 0.5 ULP (glibc log10: ~1.4), so only
        // a sanity bound against it.
        assert!(ds <= 2, "{name}: {ds} ULP vs std at x = {xs:e}");
    } else {
        assert!(ds <= 1, "{name}: {ds} ULP vs std at x = {xs:e}");
    }
}

macro_rules! accuracy_tests {
    ($($name:ident / $long:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            accuracy(stringify!($name), 1_000_000);
        }
        #[test]
        #[ignore]
        fn $long() {
            accuracy(stringify!($name), 10_000_000);
        }
    )*};
}

accuracy_tests!(
    exp / exp_long,
    exp2 / exp2_long,
    exp_m1 / exp_m1_long,
    ln / ln_long,
    log2 / log2_long,
    log10 / log10_long,
    ln_1p / ln_1p_long,
    tanh / tanh_long,
    sinh / sinh_long,
    cosh / cosh_long,
    sin / sin_long,
    cos / cos_long,
    tan / tan_long,
    atan / atan_long,
    asin / asin_long,
    acos / acos_long,
    cbrt / cbrt_long,
);

/// atan2: random pairs against the double-double reference and std, special
/// pairs bit-exact against std, and cross-level bit identity.
fn atan2_check(n: u64) {
    let dists: &[Dist] = &[U(-10.0, 10.0), L(-60.0, 60.0, true), L(-1074.0, 1024.0, true), Any];
    let res = par2(n, |range| {
        let mut rng = Rng(0xA7A2 ^ range.start);
        let mut worst = (0.0f64, 0.0, 0.0, 0u64);
        let m = (range.end - range.start) as usize;
        let y: Vec<f64> = (0..m).map(|_| rng.draw(dists)).collect();
        let x: Vec<f64> = (0..m).map(|_| rng.draw(dists)).collect();
        let mut out = vec![0.0; m];
        atan2_best(&y, &x, &mut out);
        for i in 0..m {
            let ds = ulp_dist64(out[i], y[i].atan2(x[i]));
            worst.3 = worst.3.max(ds);
            if y[i].is_finite() && x[i].is_finite() && (y[i] != 0.0 || x[i] != 0.0) {
                let (v, k) = if (y[i] / x[i]).abs() < 1e-100 && x[i] > 0.0 {
                    // tiny ratio: atan2 = y/x to far below an ulp; scale y to ~1
                    // so that the dd division keeps full precision
                    let a = -(y[i].abs().log2().floor() as i32);
                    let b = -(x[i].abs().log2().floor() as i32);
                    (d(y[i]).mul_pow2(a).div(d(x[i]).mul_pow2(b)), b - a)
                } else {
                    (dd::atan2_dd(d(y[i]), d(x[i])), 0)
                };
                let e = dd::ulp_err(out[i], v, k);
                if e > worst.0 {
                    worst = (e, y[i], x[i], worst.3);
                }
            }
        }
        worst
    });
    let e = res.iter().map(|w| w.0).fold(0.0, f64::max);
    let ds = res.iter().map(|w| w.3).max().unwrap();
    let w = res.iter().find(|w| w.0 == e).unwrap();
    println!("atan2: max {e:.3} ULP vs double-double reference over {n} random pairs (at y = {:e}, x = {:e}); max {ds} ULP vs std", w.1, w.2);
    assert!(e <= 1.0);
    assert!(ds <= 2);
}

fn atan2_best(y: &[f64], x: &[f64], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: AVX2 and FMA are available (checked just above).
        unsafe { atan2_v3(y, x, out) };
        return;
    }
    math::atan2_slice(y, x, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn atan2_v3(y: &[f64], x: &[f64], out: &mut [f64]) {
    math::atan2_slice(y, x, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
fn atan2_v4(y: &[f64], x: &[f64], out: &mut [f64]) {
    math::atan2_slice(y, x, out)
}

#[test]
fn atan2() {
    atan2_check(1_000_000);
}

#[test]
#[ignore]
fn atan2_long() {
    atan2_check(10_000_000);
}

#[test]
fn atan2_special_and_levels() {
    let vals = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::from_bits(1),
        -f64::MAX,
        f64::MAX,
        1e-300,
    ];
    let mut y = Vec::new();
    let mut x = Vec::new();
    for &a in &vals {
        for &b in &vals {
            y.push(a);
            x.push(b);
        }
    }
    let mut rng = Rng(7);
    for _ in 0..100_000 {
        y.push(rng.draw(&[U(-10.0, 10.0), Any]));
        x.push(rng.draw(&[U(-10.0, 10.0), Any]));
    }
    let mut plain = vec![0.0; y.len()];
    math::atan2_slice(&y, &x, &mut plain);
    for i in 0..vals.len() * vals.len() {
        let want = y[i].atan2(x[i]);
        let special = [y[i], x[i], want].iter().any(|v| *v == 0.0 || v.is_infinite() || v.is_nan());
        if special {
            assert!(same64(plain[i], want), "atan2({:e}, {:e}) = {:e}, std {:e}", y[i], x[i], plain[i], want);
        } else {
            assert!(ulp_dist64(plain[i], want) <= 1);
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        let mut out = vec![0.0; y.len()];
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA are available.
            unsafe { atan2_v3(&y, &x, &mut out) };
            assert!(out.iter().zip(&plain).all(|(a, b)| same64(*a, *b)), "atan2 v3 differs");
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
            assert!(out.iter().zip(&plain).all(|(a, b)| same64(*a, *b)), "atan2 v4 differs");
        }
    }
}

/// Special inputs must give exactly std's bits (NaN: any NaN); so must every
/// edge input whose std result is ±0, ±inf or NaN.
#[test]
fn special_values() {
    let mut failures = Vec::new();
    for c in cases() {
        let mut inputs = specials64();
        inputs.extend(edges64(c.edges));
        for &x in &inputs {
            let want = (c.std)(x);
            let special_in = x == 0.0 || x.is_infinite() || x.is_nan();
            let special_out = want == 0.0 || want.is_infinite() || want.is_nan();
            if !(special_in || special_out) {
                continue;
            }
            let got_scalar = (c.scalar)(x);
            let mut got_slice = [0.0];
            ((c.levels)().last().unwrap().1)(&[x], &mut got_slice);
            for got in [got_scalar, got_slice[0]] {
                if !same64(got, want) {
                    failures.push(format!("{}({x:e}) = {got:e}, std {want:e}", c.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Every level (plain, AVX2+FMA, AVX-512) gives the same bits, on random and
/// edge data, with lengths that exercise the vector tails.
#[test]
fn cross_level_bit_identity() {
    for c in cases() {
        let levels = (c.levels)();
        let mut rng = Rng(42);
        let mut x = edges64(c.edges);
        x.extend((0..100_003).map(|_| rng.draw(c.dists)));
        let mut reference = vec![0.0; x.len()];
        (levels[0].1)(&x, &mut reference);
        for &(lvl, f) in &levels[1..] {
            for len in [x.len(), 0, 1, 7, 8, 9, 15, 16, 17, 33] {
                let mut out = vec![0.0; len];
                f(&x[..len], &mut out);
                for i in 0..len {
                    assert!(
                        same64(out[i], reference[i]),
                        "{}: level {lvl} differs from plain at x = {:e}: {:e} vs {:e}",
                        c.name,
                        x[i],
                        out[i],
                        reference[i]
                    );
                }
            }
        }
        // the scalar free function agrees too
        for i in (0..x.len()).step_by(97) {
            assert!(same64((c.scalar)(x[i]), reference[i]), "{} scalar", c.name);
        }
        println!("{}: levels {:?} bit-identical", c.name, levels.iter().map(|l| l.0).collect::<Vec<_>>());
    }
}

/// sin/cos/tan at level v4 take the fast (Cody-Waite) or the full (Payne-Hanek) formula per
/// block of 8 lanes: blocks mixing small and large |x| (including the bound 2^20, inf and
/// NaN), every tail length and misaligned starts give the same bits at every level and as
/// the scalar function.
#[test]
fn trig_mixed_blocks() {
    let small = [0.5, -3.0, 1048575.9999999999, -45.553093477052, 0.0, -0.0, 1e-300, 667544.5 * FRAC_PI_2];
    let large = [1048576.0, -1e22, 1e300, f64::INFINITY, f64::NAN, -2e6, 8.98846567431158e307, f64::NEG_INFINITY];
    let mut rng = Rng(7);
    let mut x = Vec::new();
    // runs of small-only and large-only blocks, alternating lanes, then random mixes
    x.extend((0..24).map(|i| small[i % 8] * (1.0 + i as f64)));
    x.extend((0..16).map(|i| large[i % 8]));
    x.extend((0..16).map(|i| if i % 2 == 0 { small[i % 8] } else { large[i % 8] }));
    for _ in 0..4000 {
        let r = rng.next_u64();
        let v = if r & 7 == 0 { large[(r >> 8) as usize % 8] } else { small[(r >> 8) as usize % 8] };
        x.push(v * (1.0 + rng.unit()));
    }
    for name in ["sin", "cos", "tan"] {
        let c = case(name);
        let levels = (c.levels)();
        for off in [0, 3] {
            for len in [0, 1, 7, 8, 9, 15, 16, 17, 64, x.len() - off] {
                let xs = &x[off..off + len];
                for &(lvl, f) in &levels {
                    let mut out = vec![0.0; len];
                    f(xs, &mut out);
                    for i in 0..len {
                        let want = (c.scalar)(xs[i]);
                        assert!(
                            same64(out[i], want),
                            "{name} level {lvl}, len {len}, offset {off}: x = {:e}: {:e} vs scalar {:e}",
                            xs[i],
                            out[i],
                            want
                        );
                    }
                }
            }
        }
    }
}

#[test]
#[should_panic(expected = "input and output lengths differ")]
fn slice_length_mismatch_panics() {
    math::exp_slice(&[1.0f64, 2.0], &mut [0.0; 3]);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn powf_v3(x: &[f64], y: &[f64], out: &mut [f64]) {
    math::powf_slice(x, y, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
fn powf_v4(x: &[f64], y: &[f64], out: &mut [f64]) {
    math::powf_slice(x, y, out)
}

fn powf_best(x: &[f64], y: &[f64], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: AVX2 and FMA are available (checked just above).
        unsafe { powf_v3(x, y, out) };
        return;
    }
    math::powf_slice(x, y, out)
}

/// powf: random pairs against the double-double reference (exp_dd(y ln_dd x))
/// and std.
fn powf_check(n: u64) {
    let res = par2(n, |range| {
        let mut rng = Rng(0x90F ^ range.start);
        let m = (range.end - range.start) as usize;
        let mut x = Vec::with_capacity(m);
        let mut y = Vec::with_capacity(m);
        for _ in 0..m {
            let (a, b) = match rng.next_u64() % 6 {
                0 => (rng.uniform(0.0, 10.0), rng.uniform(-10.0, 10.0)),
                1 => (rng.log_uniform(-1074.0, 1024.0, false), rng.uniform(-1.0, 1.0)),
                2 => (rng.uniform(0.9, 1.1), rng.log_uniform(-10.0, 40.0, true)),
                3 => (-rng.uniform(0.0, 10.0), (rng.uniform(-40.0, 40.0)).round()),
                4 => (rng.log_uniform(-30.0, 30.0, false), rng.uniform(-30.0, 30.0)),
                _ => (rng.any_f64(), rng.any_f64()),
            };
            x.push(a);
            y.push(b);
        }
        let mut out = vec![0.0; m];
        powf_best(&x, &y, &mut out);
        let mut worst = (0.0f64, 0.0, 0.0, 0u64);
        for i in 0..m {
            worst.3 = worst.3.max(ulp_dist64(out[i], x[i].powf(y[i])));
            let ax = x[i].abs();
            if ax > 0.0 && ax.is_finite() && y[i].is_finite() && (x[i] > 0.0 || y[i].trunc() == y[i]) {
                let t = d(y[i]).mul(dd::ln_dd(d(ax)));
                if t.hi.abs() < 700.0 {
                    let (v, k) = dd::exp_dd(t);
                    let odd = x[i] < 0.0 && (y[i] * 0.5).trunc() != y[i] * 0.5;
                    let v = if odd { v.neg() } else { v };
                    let e = dd::ulp_err(out[i], v, k);
                    if e > worst.0 {
                        worst = (e, x[i], y[i], worst.3);
                    }
                }
            }
        }
        worst
    });
    let e = res.iter().map(|w| w.0).fold(0.0, f64::max);
    let ds = res.iter().map(|w| w.3).max().unwrap();
    let w = res.iter().find(|w| w.0 == e).unwrap();
    println!(
        "powf: max {e:.3} ULP vs double-double reference over {n} random pairs (at x = {:e}, y = {:e}); max {ds} ULP vs std",
        w.1, w.2
    );
    assert!(e <= 1.0);
    assert!(ds <= 2);
}

#[test]
fn powf() {
    powf_check(1_000_000);
}

#[test]
#[ignore]
fn powf_long() {
    powf_check(10_000_000);
}

#[test]
fn powf_special_and_levels() {
    let vals = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.0,
        -2.0,
        0.5,
        -0.5,
        3.0,
        -3.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::from_bits(1),
        f64::MAX,
        -f64::MAX,
        1e300,
        9007199254740993.0,
        1025.0,
        -1075.0,
    ];
    let mut x = Vec::new();
    let mut y = Vec::new();
    for &a in &vals {
        for &b in &vals {
            x.push(a);
            y.push(b);
        }
    }
    let mut rng = Rng(11);
    for _ in 0..100_000 {
        x.push(rng.draw(&[U(-10.0, 10.0), Any]));
        y.push(rng.draw(&[U(-10.0, 10.0), Any]));
    }
    let mut plain = vec![0.0; x.len()];
    math::powf_slice(&x, &y, &mut plain);
    for i in 0..vals.len() * vals.len() {
        let want = x[i].powf(y[i]);
        let special = [x[i], y[i], want].iter().any(|v| *v == 0.0 || v.is_infinite() || v.is_nan());
        if special {
            assert!(same64(plain[i], want), "powf({:e}, {:e}) = {:e}, std {:e}", x[i], y[i], plain[i], want);
        } else {
            assert!(ulp_dist64(plain[i], want) <= 1, "powf({:e}, {:e}) = {:e}, std {:e}", x[i], y[i], plain[i], want);
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        let mut out = vec![0.0; x.len()];
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA are available.
            unsafe { powf_v3(&x, &y, &mut out) };
            assert!(out.iter().zip(&plain).all(|(a, b)| same64(*a, *b)), "powf v3 differs");
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
            assert!(out.iter().zip(&plain).all(|(a, b)| same64(*a, *b)), "powf v4 differs");
        }
    }
}
