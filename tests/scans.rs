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
