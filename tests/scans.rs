//! Scans (`cumsum`, `cumprod`, `cummax`, `cummin`): each kernel against its naive scalar
//! reading (NumPy's definition, `out[0] = x[0]`, `out[i] = out[i - 1] op x[i]`) at every CPU
//! level, bit for bit, with NaN, ±inf, -0.0, empty input, lengths around the lane width and
//! the stage chunk, non-contiguous views, fused with the work before and after them.

mod common;
use common::*;
use loopfuse::{kernel, Float};
use ndarray::{s, Array1, ArrayView1};

const NS: &[usize] = &[0, 1, 2, 7, 8, 31, 32, 33, 63, 64, 65, 100, 1000, 2049, 4100];

// ---- the scalar readings ------------------------------------------------------------------------

fn running<T: Copy>(x: &[T], op: impl Fn(T, T) -> T) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(x.len());
    for &v in x {
        let next = match out.last() {
            Some(&acc) => op(acc, v),
            None => v,
        };
        out.push(next);
    }
    out
}

/// `np.maximum`: the earlier value unless the later is greater, NaN propagating.
fn np_max(a: f64, b: f64) -> f64 {
    if a >= b || a.is_nan() {
        a
    } else {
        b
    }
}

fn np_min(a: f64, b: f64) -> f64 {
    if a <= b || a.is_nan() {
        a
    } else {
        b
    }
}

fn cumsum_ref(x: &[f64]) -> Vec<f64> {
    running(x, |a, b| a + b)
}

// ---- kernels ------------------------------------------------------------------------------------

#[kernel]
fn cumsum(x: &[f64]) -> Vec<f64> {
    x.cumsum()
}

#[kernel]
fn cumprod(x: &[f64]) -> Vec<f64> {
    x.cumprod()
}

#[kernel]
fn cummax(x: &[f64]) -> Vec<f64> {
    x.cummax()
}

#[kernel]
fn cummin(x: &[f64]) -> Vec<f64> {
    x.cummin()
}

/// Volume-weighted average price: two scans and the elementwise work around them, one pass.
#[kernel]
fn vwap(p: &[f64], v: &[f64]) -> Vec<f64> {
    (p * v).cumsum() / v.cumsum()
}

/// A scan after a reduction: a second pass.
#[kernel]
fn centered_cumsum(x: &[f64]) -> Vec<f64> {
    (x - x.mean()).cumsum()
}

/// A scan of a scan, stepped in the loop body.
#[kernel]
fn cumsum_twice(x: &[f64]) -> Vec<f64> {
    x.cumsum().cumsum()
}

/// Drawdown and its worst value: a reduction of a scan, in the same pass.
#[kernel]
fn drawdown(x: &[f64]) -> (Vec<f64>, f64) {
    let dd = x.cummax() - x;
    (dd, dd.sum())
}

/// Staged math before a scan, and math of a scan (computed in the body).
#[kernel]
fn exp_scans(x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    (x.exp().cumsum(), (x * 1e-3).cumsum().exp())
}

#[kernel]
fn into_out(x: &[f64], out: &mut [f64]) {
    out[..] = x.cumsum() * 2.0;
}

#[kernel]
fn add_into(x: &[f64], y: &mut [f64]) {
    y += x.cummin();
}

#[kernel]
fn view_cumsum(x: ArrayView1<f64>) -> Array1<f64> {
    x.cumsum() - x
}

#[kernel]
fn slice_cumsum(x: &[f64]) -> Vec<f64> {
    x[1..].cumsum()
}

#[kernel(parallel)]
fn par_scans(x: &[f64]) -> (Vec<f64>, f64) {
    ((x * 2.0).cumsum(), x.sum())
}

#[kernel(strict)]
fn strict_scans(x: &[f64]) -> (Vec<f64>, f64) {
    (x.cumsum(), x.cumprod().sum())
}

#[kernel]
fn f32_cumsum(x: &[f32]) -> Vec<f32> {
    x.cumsum()
}

#[kernel]
fn generic_cumsum<T: Float>(x: &[T]) -> Vec<T> {
    x.cumsum() * x
}

type Three = (Vec<i64>, Vec<i64>, Vec<i64>);

#[kernel]
fn int_scans(x: &[i64]) -> (Vec<i64>, Vec<i64>, Vec<i64>) {
    (x.cumsum(), x.cummax(), x.cummin())
}

#[kernel]
fn int_cumprod(x: &[i32]) -> Vec<i32> {
    x.cumprod()
}

#[kernel]
fn u8_cummax(x: &[u8]) -> Vec<u8> {
    x.cummax()
}

/// A scan of a cast: the promotion NumPy would do.
#[kernel]
fn promoted(x: &[u8]) -> Vec<u64> {
    (x as u64).cumsum()
}

// ---- tests --------------------------------------------------------------------------------------

#[test]
fn cumsum_is_the_left_to_right_sum() {
    for &n in NS {
        let x = gen_f64(n, seed(n, 1));
        check_levels(&format!("cumsum (n = {n})"), &cumsum_ref(&x), &at_every_level(|_| cumsum(&x)), Cmp::NanAny);
        let f = gen_finite_f64(n, seed(n, 2));
        check_levels(&format!("cumsum finite (n = {n})"), &cumsum_ref(&f), &at_every_level(|_| cumsum(&f)), Cmp::Exact);
    }
}

#[test]
fn the_first_element_is_kept_bit_for_bit() {
    let got = cumsum(&[-0.0, 0.0, -0.0]);
    assert!(got[0].is_sign_negative() && got[1].is_sign_positive() && got[2].is_sign_positive());
    assert_eq!(cumprod(&[-0.0])[0].to_bits(), (-0.0f64).to_bits());
    assert!(cumsum(&[]).is_empty() && cummax(&[]).is_empty());
}

#[test]
fn cumprod_cummax_cummin() {
    for &n in NS {
        let x = gen_f64(n, seed(n, 3));
        let small: Vec<f64> = gen_finite_f64(n, seed(n, 4)).iter().map(|v| 1.0 + v * 1e-4).collect();
        check_levels(
            &format!("cumprod (n = {n})"),
            &running(&x, |a, b| a * b),
            &at_every_level(|_| cumprod(&x)),
            Cmp::NanAny,
        );
        check_levels(
            &format!("cumprod small (n = {n})"),
            &running(&small, |a, b| a * b),
            &at_every_level(|_| cumprod(&small)),
            Cmp::Exact,
        );
        check_levels(&format!("cummax (n = {n})"), &running(&x, np_max), &at_every_level(|_| cummax(&x)), Cmp::Exact);
        check_levels(&format!("cummin (n = {n})"), &running(&x, np_min), &at_every_level(|_| cummin(&x)), Cmp::Exact);
    }
}

#[test]
fn extrema_propagate_nan_and_keep_the_earlier_zero() {
    let x = [1.0, -0.0, f64::NEG_INFINITY, f64::NAN, 7.0, f64::INFINITY];
    let m = cummin(&x);
    assert_eq!(&m[..3], &[1.0, -0.0, f64::NEG_INFINITY]);
    assert!(m[3..].iter().all(|v| v.is_nan()));
    let z = cummax(&[-0.0, 0.0]);
    assert!(z[1].is_sign_negative(), "{z:?}");
    let z = cummin(&[0.0, -0.0]);
    assert!(z[1].is_sign_positive(), "{z:?}");
}

#[test]
fn vwap_fuses_two_scans() {
    for &n in NS {
        let (p, v) =
            (gen_finite_f64(n, seed(n, 5)), gen_finite_f64(n, seed(n, 6)).iter().map(|v| v.abs()).collect::<Vec<_>>());
        let pv: Vec<f64> = p.iter().zip(&v).map(|(a, b)| a * b).collect();
        let want: Vec<f64> = cumsum_ref(&pv).iter().zip(cumsum_ref(&v)).map(|(a, b)| a / b).collect();
        check_levels(&format!("vwap (n = {n})"), &want, &at_every_level(|_| vwap(&p, &v)), Cmp::NanAny);
    }
}

#[test]
fn scans_after_reductions_of_scans_and_scans_of_scans() {
    for &n in NS {
        let x = gen_finite_f64(n, seed(n, 7));
        let mean = centered_mean(&x);
        let c: Vec<f64> = x.iter().map(|v| v - mean).collect();
        check_levels(
            &format!("centered (n = {n})"),
            &cumsum_ref(&c),
            &at_every_level(|_| centered_cumsum(&x)),
            Cmp::Exact,
        );
        let twice = cumsum_ref(&cumsum_ref(&x));
        check_levels(&format!("twice (n = {n})"), &twice, &at_every_level(|_| cumsum_twice(&x)), Cmp::Exact);
        let dd: Vec<f64> = running(&x, np_max).iter().zip(&x).map(|(m, v)| m - v).collect();
        let got = at_every_level(|_| drawdown(&x));
        let vecs: Vec<_> = got.iter().map(|(t, (v, _))| (*t, v.clone())).collect();
        check_levels(&format!("drawdown (n = {n})"), &dd, &vecs, Cmp::Exact);
        let sums: Vec<_> = got.iter().map(|(t, (_, s))| (*t, *s)).collect();
        check_scalar(&format!("drawdown sum (n = {n})"), loopfuse_sum(&dd), &sums, Cmp::Exact);
    }
}

/// `x.mean()` as the kernel computes it (lane order): the kernel's own.
fn centered_mean(x: &[f64]) -> f64 {
    #[kernel]
    fn mean(x: &[f64]) -> f64 {
        x.mean()
    }
    mean(x)
}

fn loopfuse_sum(x: &[f64]) -> f64 {
    #[kernel]
    fn sum(x: &[f64]) -> f64 {
        x.sum()
    }
    sum(x)
}

#[test]
fn math_before_and_after_a_scan() {
    for &n in NS {
        let x = gen_finite_f64(n, seed(n, 8));
        let e: Vec<f64> = x.iter().map(|&v| loopfuse::math::exp(v)).collect();
        let s: Vec<f64> = cumsum_ref(&x.iter().map(|v| v * 1e-3).collect::<Vec<_>>())
            .iter()
            .map(|&v| loopfuse::math::exp(v))
            .collect();
        let got = at_every_level(|_| exp_scans(&x));
        check_levels(
            &format!("exp().cumsum() (n = {n})"),
            &cumsum_ref(&e),
            &got.iter().map(|(t, r)| (*t, r.0.clone())).collect::<Vec<_>>(),
            Cmp::Exact,
        );
        check_levels(
            &format!("cumsum().exp() (n = {n})"),
            &s,
            &got.iter().map(|(t, r)| (*t, r.1.clone())).collect::<Vec<_>>(),
            Cmp::Exact,
        );
    }
}

#[test]
fn scans_into_outputs() {
    for &n in NS {
        let x = gen_f64(n, seed(n, 9));
        let want: Vec<f64> = cumsum_ref(&x).iter().map(|v| v * 2.0).collect();
        let got = at_every_level(|_| {
            let mut out = vec![0.0; n];
            into_out(&x, &mut out);
            out
        });
        check_levels(&format!("out[..] = (n = {n})"), &want, &got, Cmp::NanAny);
        let y0 = gen_f64(n, seed(n, 10));
        let want: Vec<f64> = y0.iter().zip(running(&x, np_min)).map(|(a, b)| a + b).collect();
        let got = at_every_level(|_| {
            let mut y = y0.clone();
            add_into(&x, &mut y);
            y
        });
        check_levels(&format!("y += (n = {n})"), &want, &got, Cmp::NanAny);
    }
}

#[test]
fn scans_of_views_and_slices() {
    for &n in NS {
        let x = gen_f64(2 * n + 1, seed(n, 11));
        let a = Array1::from(x.clone());
        for view in [a.slice(s![..;2]), a.slice(s![..;-2]), a.slice(s![1..])] {
            let xs: Vec<f64> = view.iter().copied().collect();
            let want: Vec<f64> = cumsum_ref(&xs).iter().zip(&xs).map(|(c, v)| c - v).collect();
            let got = at_every_level(|_| view_cumsum(view).to_vec());
            check_levels(&format!("view (n = {})", xs.len()), &want, &got, Cmp::NanAny);
        }
        let got = at_every_level(|_| slice_cumsum(&x));
        check_levels(&format!("x[1..] (n = {n})"), &cumsum_ref(&x[1..]), &got, Cmp::NanAny);
    }
}

#[test]
fn parallel_and_strict_scans() {
    for &n in &[0, 33, 1000, 300_001] {
        let x = gen_finite_f64(n, seed(n, 12));
        let want = cumsum_ref(&x.iter().map(|v| v * 2.0).collect::<Vec<_>>());
        let got = at_every_level(|_| par_scans(&x));
        let vecs: Vec<_> = got.iter().map(|(t, r)| (*t, r.0.clone())).collect();
        check_levels(&format!("parallel (n = {n})"), &want, &vecs, Cmp::Exact);
        assert_eq!(got[0].1 .1.to_bits(), loopfuse_sum(&x).to_bits());
        let (c, p) = strict_scans(&x);
        assert_eq!(c, cumsum_ref(&x));
        assert_eq!(p.to_bits(), running(&x, |a, b| a * b).iter().fold(0.0, |a, b| a + b).to_bits());
    }
}

#[test]
fn f32_and_generic() {
    for &n in NS {
        let x = gen_f32(n, seed(n, 13));
        let want = running(&x, |a, b| a + b);
        check_levels(&format!("f32 (n = {n})"), &want, &at_every_level(|_| f32_cumsum(&x)), Cmp::NanAny);
        let want: Vec<f32> = want.iter().zip(&x).map(|(c, v)| c * v).collect();
        check_levels(&format!("generic f32 (n = {n})"), &want, &at_every_level(|_| generic_cumsum(&x)), Cmp::NanAny);
    }
}

#[test]
fn integer_scans() {
    for &n in NS {
        let x = small_i64(n, seed(n, 14));
        let got = at_every_level(|_| int_scans(&x));
        let pick = |f: fn(&Three) -> &Vec<i64>| got.iter().map(|(t, r)| (*t, f(r).clone())).collect::<Vec<_>>();
        check_levels(&format!("i64 cumsum (n = {n})"), &running(&x, |a, b| a + b), &pick(|r| &r.0), Cmp::Exact);
        check_levels(&format!("i64 cummax (n = {n})"), &running(&x, i64::max), &pick(|r| &r.1), Cmp::Exact);
        check_levels(&format!("i64 cummin (n = {n})"), &running(&x, i64::min), &pick(|r| &r.2), Cmp::Exact);
        let any = any_i64(n, seed(n, 15));
        let got = at_every_level(|_| int_scans(&any[..n.min(1)]));
        assert!(got.iter().all(|(_, r)| r.1 == any[..n.min(1)]));
        let signs: Vec<i32> = small_i32(n, seed(n, 16)).iter().map(|v| v.signum()).collect();
        check_levels(
            &format!("i32 cumprod (n = {n})"),
            &running(&signs, |a, b| a * b),
            &at_every_level(|_| int_cumprod(&signs)),
            Cmp::Exact,
        );
        let b = any_u8(n, seed(n, 17));
        check_levels(
            &format!("u8 cummax (n = {n})"),
            &running(&b, u8::max),
            &at_every_level(|_| u8_cummax(&b)),
            Cmp::Exact,
        );
        let wide: Vec<u64> = b.iter().map(|&v| v as u64).collect();
        check_levels(
            &format!("(x as u64).cumsum() (n = {n})"),
            &running(&wide, |a, b| a + b),
            &at_every_level(|_| promoted(&b)),
            Cmp::Exact,
        );
    }
}

#[test]
fn integer_extrema_of_any_values() {
    for &n in NS {
        let x = any_i64(n, seed(n, 18));
        let got = at_every_level(|_| {
            #[kernel]
            fn ext(x: &[i64]) -> (Vec<i64>, Vec<i64>) {
                (x.cummax(), x.cummin())
            }
            ext(&x)
        });
        for (t, (mx, mn)) in &got {
            assert_eq!(mx, &running(&x, i64::max), "{t:?} n = {n}");
            assert_eq!(mn, &running(&x, i64::min), "{t:?} n = {n}");
        }
    }
}

#[test]
fn the_plan_says_the_pass_runs_in_order() {
    // The fusion plan is in the kernel's rustdoc; the macro's unit tests check its text.
    // Here: a scan pass in a `parallel` kernel gives the serial result on a pool of threads.
    let x = gen_finite_f64(400_000, 19);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    assert_eq!(pool.install(|| par_scans(&x)).0, par_scans(&x).0);
}

// ---- integer scans of every width, in vector registers (8-, 16-, 32-bit) or stepped ---------

/// Lengths around the lane counts (16 to 64 lanes) and the stage chunk (32).
const INT_NS: &[usize] = &[0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1007];

/// Values whose running sums and products stay in range, as a debug build needs (its `+`
/// and `*` panic on overflow): a walk that turns back before a bound, factors of ±1 with
/// a 2 or a 0 now and then, and for the extrema any value with the type's `MIN` and `MAX`.
fn bounded_walk(n: usize, seed: u64, min: i128, max: i128, step: i128) -> (Vec<i128>, Vec<i128>, Vec<i128>) {
    let mut r = Rng::new(seed);
    let (mut sum, mut prod) = (0i128, 1i128);
    let (mut adds, mut muls, mut any) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        // Unsigned: a climb that stops at the bound.
        let mut v =
            if min == 0 { r.below(step as u64 + 1) as i128 } else { r.below(2 * step as u64 + 1) as i128 - step };
        if sum + v > max || sum + v < min {
            v = if min == 0 { 0 } else { -v };
        }
        sum += v;
        adds.push(v);
        let mut f = [1, -1, 1, 2, 1, -1, 0, 1][r.below(8) as usize];
        if prod * f > max || prod * f < min || (min == 0 && f < 0) {
            f = 1;
        }
        prod *= f;
        muls.push(f);
        any.push(match r.below(8) {
            0 => min,
            1 => max,
            _ => min + (r.next_u64() as i128).rem_euclid(max - min + 1),
        });
    }
    (adds, muls, any)
}

macro_rules! int_widths {
    ($($m:ident: $t:ty;)*) => {$(
        mod $m {
            use super::*;

            // One kernel per operation: a debug build's sum or product of values that only
            // the other operations may take would panic.
            #[kernel]
            pub fn sum(x: &[$t]) -> Vec<$t> {
                x.cumsum()
            }

            #[kernel]
            pub fn prod(x: &[$t]) -> Vec<$t> {
                x.cumprod()
            }

            #[kernel]
            pub fn extrema(x: &[$t]) -> (Vec<$t>, Vec<$t>) {
                (x.cummax(), x.cummin())
            }

            /// Of a view (any stride), fused with the work around it.
            #[kernel]
            pub fn view_scans(x: ArrayView1<$t>) -> (Array1<$t>, Array1<$t>) {
                (x.cummax(), (x & 1).cumsum())
            }

            /// Into an `&mut` output.
            #[kernel]
            pub fn into(x: &[$t], out: &mut [$t]) {
                out[..] = x.cummin();
            }

            fn name(what: &str, n: usize) -> String {
                format!("{} {what} (n = {n})", stringify!($t))
            }

            #[test]
            fn every_scan_at_every_level() {
                let (min, max) = (<$t>::MIN as i128, <$t>::MAX as i128);
                let cast = |v: &[i128]| v.iter().map(|&v| v as $t).collect::<Vec<$t>>();
                for &n in INT_NS {
                    let (adds, muls, any) = bounded_walk(n, seed(n, 30), min, max, max.min(100));
                    let (adds, muls, any) = (cast(&adds), cast(&muls), cast(&any));
                    let got = at_every_level(|_| sum(&adds));
                    check_levels(&name("cumsum", n), &running(&adds, <$t>::wrapping_add), &got, Cmp::Exact);
                    let got = at_every_level(|_| prod(&muls));
                    check_levels(&name("cumprod", n), &running(&muls, <$t>::wrapping_mul), &got, Cmp::Exact);
                    let got = at_every_level(|_| extrema(&any));
                    let maxes: Vec<_> = got.iter().map(|(t, r)| (*t, r.0.clone())).collect();
                    check_levels(&name("cummax", n), &running(&any, <$t>::max), &maxes, Cmp::Exact);
                    let mins: Vec<_> = got.iter().map(|(t, r)| (*t, r.1.clone())).collect();
                    check_levels(&name("cummin", n), &running(&any, <$t>::min), &mins, Cmp::Exact);
                    // Full-range sums and products wrap, in a release build.
                    #[cfg(not(debug_assertions))]
                    {
                        let got = at_every_level(|_| sum(&any));
                        check_levels(&name("wrapping cumsum", n), &running(&any, <$t>::wrapping_add), &got, Cmp::Exact);
                        let got = at_every_level(|_| prod(&any));
                        check_levels(&name("wrapping cumprod", n), &running(&any, <$t>::wrapping_mul), &got, Cmp::Exact);
                    }
                    let got = at_every_level(|_| {
                        let mut out = vec![0 as $t; n];
                        into(&any, &mut out);
                        out
                    });
                    check_levels(&name("out[..] = cummin", n), &running(&any, <$t>::min), &got, Cmp::Exact);
                }
            }

            #[test]
            fn strided_and_reversed_views() {
                for &n in INT_NS {
                    let (_, _, any) = bounded_walk(2 * n + 1, seed(n, 31), <$t>::MIN as i128, <$t>::MAX as i128, 1);
                    let a = Array1::from(any.iter().map(|&v| v as $t).collect::<Vec<$t>>());
                    for view in [a.slice(s![..;2]), a.slice(s![..;-1]), a.slice(s![1..])] {
                        let xs: Vec<$t> = view.iter().copied().collect();
                        // A sum of ones past the type's `MAX` would panic in a debug build.
                        if cfg!(debug_assertions) && xs.len() as i128 > <$t>::MAX as i128 {
                            continue;
                        }
                        let ones: Vec<$t> = xs.iter().map(|v| v & 1).collect();
                        let got = at_every_level(|_| view_scans(view));
                        let maxes: Vec<_> = got.iter().map(|(t, r)| (*t, r.0.to_vec())).collect();
                        check_levels(&name("view cummax", xs.len()), &running(&xs, <$t>::max), &maxes, Cmp::Exact);
                        let sums: Vec<_> = got.iter().map(|(t, r)| (*t, r.1.to_vec())).collect();
                        check_levels(&name("view (x & 1).cumsum()", xs.len()), &running(&ones, <$t>::wrapping_add), &sums, Cmp::Exact);
                    }
                }
            }
        }
    )*};
}

int_widths! {
    i8s: i8;
    i16s: i16;
    i32s: i32;
    i64s: i64;
    u8s: u8;
    u32s: u32;
    u64s: u64;
}

/// A debug build's sums and products are checked as `+` and `*` are, at every level (the
/// staged scans of 8-, 16- and 32-bit types run the checked loop there).
#[cfg(debug_assertions)]
#[test]
fn an_overflow_still_panics_in_debug_builds() {
    let x = vec![100u8; 40];
    let prod = vec![3i32; 40];
    for t in loopfuse::supported_targets() {
        let sum = std::panic::catch_unwind(|| loopfuse::with_target(t, || u8s::sum(&x)));
        assert!(sum.is_err(), "u8 cumsum overflow at {t:?}");
        let p = std::panic::catch_unwind(|| loopfuse::with_target(t, || i32s::prod(&prod)));
        assert!(p.is_err(), "i32 cumprod overflow at {t:?}");
    }
}
