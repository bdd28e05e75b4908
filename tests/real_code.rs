//! What real code needs (issue 13): slices as views, element reads outside loops, early
//! returns, tuple `let`, lazy `min`/`max`, `var(ddof)`; each against its naive scalar
//! reading at every CPU level, with the messages of its errors. The four functions of the
//! issue's port: `diff`, `log_returns`, `ewma` (with `x[0]`), `sma` (with an early return).

mod common;
use common::*;
use loopfuse::{kernel, KernelError};
use ndarray::{s, Array1, ArrayView1};

const NS: &[usize] = &[1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257, 2049, 4100];

// ---- the four functions -------------------------------------------------------------------------

/// `np.diff(x)`.
#[kernel]
fn diff(x: &[f64]) -> Vec<f64> {
    &x[1..] - &x[..x.len() - 1]
}

/// Log returns of prices.
#[kernel]
fn log_returns(p: &[f64]) -> Vec<f64> {
    (&p[1..] / &p[..p.len() - 1]).ln()
}

/// An exponentially weighted moving average, seeded with the first element.
#[kernel]
fn ewma(x: &[f64], alpha: f64) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    let mut s = x[0];
    for i in 0..x.len() {
        s = alpha * x[i] + (1.0 - alpha) * s;
        out[i] = s;
    }
    out
}

/// The mean of the last `w` elements; NaN when there are fewer.
#[kernel]
fn sma(x: &[f64], w: usize) -> f64 {
    if w == 0 || x.len() < w {
        return f64::NAN;
    }
    x[x.len() - w..].mean()
}

fn diff_ref(x: &[f64]) -> Vec<f64> {
    x.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn diff_is_np_diff() {
    for &n in NS {
        let x = gen_f64(n, seed(n, 1));
        check_levels(&format!("diff (n = {n})"), &diff_ref(&x), &at_every_level(|_| diff(&x)), Cmp::NanAny);
    }
}

#[test]
fn log_returns_match_the_scalar_loop() {
    for &n in NS {
        let p: Vec<f64> = gen_finite_f64(n, seed(n, 2)).iter().map(|v| v.abs() + 0.5).collect();
        let want: Vec<f64> = p.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
        check_levels(&format!("log_returns (n = {n})"), &want, &at_every_level(|_| log_returns(&p)), Cmp::Ulp(1));
    }
}

#[test]
fn ewma_matches_the_scalar_loop() {
    for &n in NS {
        let x = gen_finite_f64(n, seed(n, 3));
        let mut s = x[0];
        let want: Vec<f64> = x
            .iter()
            .map(|&v| {
                s = 0.25 * v + (1.0 - 0.25) * s;
                s
            })
            .collect();
        check_levels(&format!("ewma (n = {n})"), &want, &at_every_level(|_| ewma(&x, 0.25)), Cmp::Exact);
    }
    let msg = panic_message(|| ewma(&[], 0.5));
    assert_eq!(msg, "kernel `ewma`: index out of bounds: `x[0]` reads index 0 of an array of 0 elements");
}

#[test]
fn sma_returns_early_and_slices_the_last_window() {
    for &n in NS {
        let x = gen_finite_f64(n, seed(n, 4));
        for w in [0, 1, 3, n, n + 1] {
            let got = at_every_level(|_| sma(&x, w));
            if w == 0 || n < w {
                assert!(got.iter().all(|(_, v)| v.is_nan()), "sma(n = {n}, w = {w})");
                continue;
            }
            // The same bits as the mean of a pre-sliced input.
            let want = mean_of(&x[n - w..]);
            check_scalar(&format!("sma (n = {n}, w = {w})"), want, &got, Cmp::Exact);
        }
    }
    assert!(sma(&[], 3).is_nan());
}

#[kernel]
fn mean_of(x: &[f64]) -> f64 {
    x.mean()
}

// ---- slices ---------------------------------------------------------------------------------------

/// Without `&`, `x.slice(s![..])` of an ndarray input, and a slice combined with another input.
#[kernel]
fn spellings(x: ArrayView1<f64>, y: &[f64]) -> (Array1<f64>, f64, Vec<f64>) {
    let d = x.slice(s![1..]) - x.slice(s![..x.len() - 1]);
    (d, (x[2..] * y[..y.len() - 2]).sum(), x[1..x.len() - 1] * 2.0 + y[1..=y.len() - 2])
}

#[test]
fn slices_any_spelling_any_layout() {
    for &n in NS.iter().filter(|&&n| n >= 3) {
        let base = gen_f64(2 * n, seed(n, 5));
        let y = gen_f64(n, seed(n, 6));
        let strided = ArrayView1::from(&base[..]).slice_move(s![..;2]);
        let contiguous = ArrayView1::from(&base[..n]);
        for x in [strided, contiguous] {
            let xv = x.to_vec();
            let want_d = diff_ref(&xv);
            let want_sum = sum_of(&xv[2..].iter().zip(&y[..n - 2]).map(|(a, b)| a * b).collect::<Vec<_>>());
            let want_v: Vec<f64> = (1..n - 1).map(|i| xv[i] * 2.0 + y[i]).collect();
            let got = at_every_level(|_| spellings(x, &y));
            let what = format!("spellings (n = {n}, stride {})", x.strides()[0]);
            check_levels(&what, &want_d, &got.iter().map(|(t, r)| (*t, r.0.to_vec())).collect::<Vec<_>>(), Cmp::NanAny);
            check_scalar(&what, want_sum, &got.iter().map(|(t, r)| (*t, r.1)).collect::<Vec<_>>(), Cmp::NanAny);
            check_levels(&what, &want_v, &got.iter().map(|(t, r)| (*t, r.2.clone())).collect::<Vec<_>>(), Cmp::NanAny);
        }
    }
}

#[kernel]
fn sum_of(x: &[f64]) -> f64 {
    x.sum()
}

#[kernel]
fn shifted_by(x: &[f64], k: usize) -> Vec<f64> {
    &x[k..] - &x[..x.len() - k]
}

#[kernel]
fn try_shifted_by(x: &[f64], k: usize) -> Result<Vec<f64>, KernelError> {
    Ok(&x[k..] - &x[..x.len() - k])
}

#[kernel]
fn misfit(x: &[f64]) -> Vec<f64> {
    &x[1..] - &x[..x.len() - 2]
}

#[kernel]
fn try_misfit(x: &[f64], y: &[f64]) -> Result<f64, KernelError> {
    Ok((&x[1..] * y).sum())
}

#[test]
fn slice_bounds_are_checked_once_with_the_kernel_and_the_slice() {
    let x = [1.0, 2.0, 4.0];
    assert_eq!(shifted_by(&x, 1), vec![1.0, 2.0]);
    assert_eq!(shifted_by(&x, 3), Vec::<f64>::new());
    assert_eq!(
        panic_message(|| shifted_by(&x, 4)),
        "kernel `shifted_by`: slice `x[k..]` starts at 4, past its end 3 (the array has 3 elements)"
    );
    assert_eq!(
        try_shifted_by(&x, 4),
        Err(KernelError::Slice { kernel: "try_shifted_by", text: "x[k..]", start: 4, end: 3, len: 3 })
    );
}

#[test]
fn a_length_mismatch_names_both_slices() {
    assert_eq!(
        panic_message(|| misfit(&[1.0, 2.0, 3.0])),
        "kernel `misfit`: `x[1..]` has 2 elements but `x[..x.len() - 2]` has 1"
    );
    let e = try_misfit(&[1.0, 2.0, 3.0], &[1.0]).unwrap_err().to_string();
    assert!(e.starts_with("kernel `try_misfit`: ") && e.contains("`x[1..]` has 2") && e.contains("`y` has 1"), "{e}");
}

// ---- element reads, tuple let, lazy extrema, ddof -------------------------------------------------

#[kernel]
fn ends(x: &[f64]) -> (f64, f64) {
    let (first, last) = (x[0], x[x.len() - 1]);
    (first, last)
}

#[kernel]
fn try_first(x: &[i32]) -> Result<i32, KernelError> {
    Ok(x[0] * 2)
}

#[kernel]
fn range_of(x: &[f64]) -> f64 {
    let (lo, hi) = (x.min(), x.max());
    hi - lo
}

#[kernel]
fn max_or_zero(x: &[f64]) -> f64 {
    if x.is_empty() {
        0.0
    } else {
        x.max()
    }
}

#[kernel]
fn scaled_by_first(x: &[f64]) -> Vec<f64> {
    x / x[0]
}

#[test]
fn element_reads_are_checked_scalars() {
    for &n in NS {
        let x = gen_f64(n, seed(n, 7));
        let got = at_every_level(|_| ends(&x));
        for (t, (a, b)) in &got {
            assert!(a.to_bits() == x[0].to_bits() && b.to_bits() == x[n - 1].to_bits(), "ends at {t:?}");
        }
        let want: Vec<f64> = x.iter().map(|v| v / x[0]).collect();
        check_levels(&format!("x / x[0] (n = {n})"), &want, &at_every_level(|_| scaled_by_first(&x)), Cmp::NanAny);
    }
    assert_eq!(try_first(&[21]), Ok(42));
    assert_eq!(try_first(&[]), Err(KernelError::Index { kernel: "try_first", text: "x[0]", index: 0, len: 0 }));
    assert_eq!(
        panic_message(|| ends(&[])),
        "kernel `ends`: index out of bounds: `x[0]` reads index 0 of an array of 0 elements"
    );
}

#[test]
fn tuple_let_and_lazy_extrema() {
    for &n in NS {
        let x = gen_f64(n, seed(n, 8));
        let (lo, hi) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            if l.is_nan() || v.is_nan() {
                (f64::NAN, f64::NAN)
            } else {
                (l.min(v), h.max(v))
            }
        });
        check_scalar(&format!("range_of (n = {n})"), hi - lo, &at_every_level(|_| range_of(&x)), Cmp::NanAny);
        check_scalar(&format!("max_or_zero (n = {n})"), hi, &at_every_level(|_| max_or_zero(&x)), Cmp::NanAny);
    }
    assert_eq!(max_or_zero(&[]), 0.0);
    assert_eq!(panic_message(|| range_of(&[])), "kernel `range_of`: `x.min()` of an empty array has no value");
}

#[kernel]
fn moments(x: &[f64]) -> (f64, f64, f64, f64, f64) {
    (x.var(), x.var(0.0), x.var(1.0), x.std(1.0), x.std(2.5))
}

#[test]
fn var_and_std_take_ddof() {
    for &n in [0, 1, 2].iter().chain(NS) {
        let x = gen_finite_f64(n, seed(n, 9));
        let m = mean_of(&x);
        let ss = sum_of(&x.iter().map(|v| (v - m) * (v - m)).collect::<Vec<_>>());
        let div = |ddof: f64| {
            let d = n as f64 - ddof;
            ss / if d > 0.0 { d } else { 0.0 }
        };
        let got = at_every_level(|_| moments(&x));
        let what = format!("moments (n = {n})");
        check_scalar(&what, div(0.0), &got.iter().map(|(t, r)| (*t, r.0)).collect::<Vec<_>>(), Cmp::NanAny);
        check_scalar(&what, div(0.0), &got.iter().map(|(t, r)| (*t, r.1)).collect::<Vec<_>>(), Cmp::NanAny);
        check_scalar(&what, div(1.0), &got.iter().map(|(t, r)| (*t, r.2)).collect::<Vec<_>>(), Cmp::NanAny);
        check_scalar(&what, div(1.0).sqrt(), &got.iter().map(|(t, r)| (*t, r.3)).collect::<Vec<_>>(), Cmp::NanAny);
        check_scalar(&what, div(2.5).sqrt(), &got.iter().map(|(t, r)| (*t, r.4)).collect::<Vec<_>>(), Cmp::NanAny);
    }
}

// ---- integer promotion, the ndarray re-export ------------------------------------------------------

#[kernel]
fn total_u8(x: &[u8]) -> u64 {
    (x as u64).sum()
}

#[test]
fn a_cast_promotes_a_small_integer_sum() {
    let x = vec![200u8; 1000];
    for (t, s) in at_every_level(|_| total_u8(&x)) {
        assert_eq!(s, 200_000, "at {t:?}");
    }
}

#[kernel]
fn first_diff(x: loopfuse::ndarray::ArrayView1<f64>) -> f64 {
    x[1] - x[0]
}

#[test]
fn kernels_take_the_reexported_ndarray() {
    let v = [1.0, 4.0];
    assert_eq!(first_diff(loopfuse::ndarray::ArrayView1::from(&v[..])), 3.0);
}

// ---- an output's `len()` is not an array use ------------------------------------------------------

#[kernel]
fn histogram(x: &[f64], lo: f64, hi: f64, histogram_out: &mut [f64]) {
    let bins = histogram_out.len();
    let w = (hi - lo) / bins as f64;
    for i in 0..x.len() {
        let b = ((x[i] - lo) / w) as usize;
        if b < bins {
            histogram_out[b] += 1.0;
        }
    }
}

#[test]
fn histogram_reads_its_output_length() {
    let x: Vec<f64> = (0..100).map(|i| i as f64 / 10.0).collect();
    for (t, h) in at_every_level(|_| {
        let mut h = [0.0; 5];
        histogram(&x, 0.0, 10.0, &mut h);
        h
    }) {
        assert_eq!(h, [20.0; 5], "at {t:?}");
    }
}

// ---- boolean-mask selection: a masked reduction in the same pass -----------------------------------

#[kernel]
fn positive_mean(x: &[f64]) -> f64 {
    x[x > 0.0].mean()
}

#[kernel]
fn selected(x: &[i64], y: &[i64]) -> (i64, usize, f64) {
    let big = x[y > 2];
    (big.sum(), big.len(), x[x % 2 == 0].mean())
}

#[kernel]
fn nan_selected(x: &[f64]) -> (f64, usize) {
    (x[x.is_nan()].sum(), x[x.is_nan()].len())
}

#[test]
fn selections_are_masked_reductions() {
    for &n in [0, 1].iter().chain(NS) {
        // Small integers: every order of the sums is exact, so the scalar reading is exact.
        let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 17) as f64 - 8.0).collect();
        let pos: Vec<f64> = x.iter().copied().filter(|&v| v > 0.0).collect();
        let want = pos.iter().sum::<f64>() / pos.len() as f64;
        check_scalar(
            &format!("x[x > 0.0].mean() (n = {n})"),
            want,
            &at_every_level(|_| positive_mean(&x)),
            Cmp::NanAny,
        );
        let xi: Vec<i64> = (0..n as i64).map(|i| (i * 7919) % 101 - 50).collect();
        let yi: Vec<i64> = (0..n as i64).map(|i| i % 5).collect();
        let big: Vec<i64> = xi.iter().zip(&yi).filter(|(_, &y)| y > 2).map(|(&x, _)| x).collect();
        let even: Vec<i64> = xi.iter().copied().filter(|v| v % 2 == 0).collect();
        let even_mean = even.iter().sum::<i64>() as f64 / even.len() as f64;
        for (t, (s, c, m)) in at_every_level(|_| selected(&xi, &yi)) {
            assert_eq!((s, c), (big.iter().sum::<i64>(), big.len()), "selected (n = {n}) at {t:?}");
            assert!(
                m.to_bits() == even_mean.to_bits() || (m.is_nan() && even_mean.is_nan()),
                "mean at {t:?}: {m} vs {even_mean}"
            );
        }
        let xs = gen_f64(n, seed(n, 10));
        let nans = xs.iter().filter(|v| v.is_nan()).count();
        for (t, (s, c)) in at_every_level(|_| nan_selected(&xs)) {
            assert_eq!(c, nans, "at {t:?}");
            assert_eq!(s.is_nan(), nans > 0, "at {t:?}");
        }
    }
    assert!(positive_mean(&[-1.0, 0.0]).is_nan());
}

// ---- generic and strict kernels ------------------------------------------------------------------

#[kernel]
fn diff_t<T: loopfuse::Float>(x: &[T]) -> Vec<T> {
    x[1..] - x[..x.len() - 1]
}

#[kernel(strict)]
fn strict_tail_sum(x: &[f64]) -> (f64, f64) {
    (x[1..].sum(), x[x > 0.0].sum())
}

#[test]
fn generic_and_strict_kernels_slice_and_select() {
    for &n in NS {
        let x = gen_f32(n, seed(n, 11));
        let want: Vec<f32> = x.windows(2).map(|w| w[1] - w[0]).collect();
        check_levels(&format!("diff_t::<f32> (n = {n})"), &want, &at_every_level(|_| diff_t(&x)), Cmp::NanAny);
        let y = gen_finite_f64(n, seed(n, 12));
        // Strict: exact source order, so the sequential sums are the reading.
        let tail: f64 = y[1..].iter().fold(0.0, |a, v| a + v);
        let pos: f64 = y.iter().filter(|&&v| v > 0.0).fold(0.0, |a, v| a + v);
        for (t, (a, b)) in at_every_level(|_| strict_tail_sum(&y)) {
            assert_eq!((a.to_bits(), b.to_bits()), (tail.to_bits(), pos.to_bits()), "strict (n = {n}) at {t:?}");
        }
    }
}

// ---- random windows: three views of two inputs in one pass ---------------------------------------

#[kernel]
fn windows3(x: ArrayView1<f64>, y: &[f64], a: usize, b: usize, c: usize, m: usize) -> (Vec<f64>, f64) {
    let v = &x[a..a + m] * &y[b..b + m] + x.slice(s![c..c + m]);
    (v, (x[a..a + m] - &y[b..b + m]).abs().max())
}

#[test]
fn random_windows_match_the_scalar_reading() {
    let mut rng = Rng::new(13);
    for round in 0..300 {
        let n = 1 + rng.below(300) as usize;
        let base = gen_f64(2 * n, seed(n, round));
        let y = gen_f64(n, seed(n, round + 1000));
        let step = 1 + rng.below(2) as usize;
        let x = ArrayView1::from(&base[..]).slice_move(s![..n * step;step]);
        let m = rng.below(n as u64 + 1) as usize;
        let [a, b, c] = [0; 3].map(|_| rng.below((n - m) as u64 + 1) as usize);
        let want: Vec<f64> = (0..m).map(|i| x[a + i] * y[b + i] + x[c + i]).collect();
        let what = format!("windows3 (round {round}, n = {n}, step {step}, {a} {b} {c} {m})");
        if m == 0 {
            let msg = panic_message(|| windows3(x, &y, a, b, c, m));
            assert!(msg.contains("max()` of an empty array"), "{msg}");
            continue;
        }
        let got = at_every_level(|_| windows3(x, &y, a, b, c, m));
        check_levels(&what, &want, &got.iter().map(|(t, r)| (*t, r.0.clone())).collect::<Vec<_>>(), Cmp::NanAny);
        let d: Vec<f64> = (0..m).map(|i| (x[a + i] - y[b + i]).abs()).collect();
        let want_max =
            if d.iter().any(|v| v.is_nan()) { f64::NAN } else { d.iter().copied().fold(f64::NEG_INFINITY, f64::max) };
        check_scalar(&what, want_max, &got.iter().map(|(t, r)| (*t, r.1)).collect::<Vec<_>>(), Cmp::NanAny);
    }
}

// ---- an index loop past the shorter array ---------------------------------------------------------

#[kernel]
fn running_diff(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = 0.0;
    for i in 0..x.len() {
        acc = acc * 0.5 + (x[i] - y[i]);
    }
    acc
}

#[kernel]
fn pairwise_sum(x: &[f64], y: &[f64], out: &mut [f64]) {
    for i in 0..x.len() {
        out[i] = x[i] + y[i];
    }
}

#[test]
fn an_index_loop_past_the_shorter_array_names_the_kernel() {
    let msg = panic_message(|| pairwise_sum(&[1.0; 5], &[1.0; 3], &mut [0.0; 5]));
    assert!(msg.starts_with("kernel `pairwise_sum`: index out of bounds: `y[i]`"), "{msg}");
    let msg = panic_message(|| running_diff(&[1.0; 5], &[1.0; 3]));
    assert_eq!(msg, "kernel `running_diff`: index out of bounds: `y[i]` reads index 3 of an array of 3 elements");
    let (x, y) = (gen_finite_f64(100, 1), gen_finite_f64(100, 2));
    let want = x.iter().zip(&y).fold(0.0, |acc, (a, b)| acc * 0.5 + (a - b));
    for (t, v) in at_every_level(|_| running_diff(&x, &y)) {
        assert_eq!(v.to_bits(), want.to_bits(), "at {t:?}");
    }
}
