//! Edge cases: empty inputs (SPEC §2), mismatched lengths (panic and `Err`, exact
//! messages), a huge-page-sized output, integer panics, and the target API
//! (`with_target` nesting and restoring, `target()`, `supported_targets()`,
//! `LOOPFUSE_TARGET` in a child process).

mod common;
use common::*;
use loopfuse::{kernel, supported_targets, target, with_target, KernelError, Target};
use ndarray::{Array1, ArrayView1};

// ---- empty inputs -----------------------------------------------------------------------------

#[kernel]
fn sums(x: &[f64]) -> (f64, f64, f64, f64, f64, f64) {
    (x.sum(), x.prod(), x.mean(), x.var(), x.std(), x.dot(x))
}

#[kernel]
fn sums32(x: &[f32]) -> (f32, f32, f32) {
    (x.sum(), x.prod(), x.mean())
}

#[kernel]
fn int_sums(x: &[i64]) -> (i64, i64, f64, usize, bool, bool) {
    let m = x > 0;
    (x.sum(), x.prod(), x.mean(), m.count(), m.any(), m.all())
}

#[kernel]
fn elementwise(x: &[f64], y: &[f64]) -> (Vec<f64>, Array1<bool>) {
    (x * y + 1.0, x > y)
}

#[kernel]
fn write_out(x: &[f64], out: &mut [f64]) {
    out[..] = x.sqrt();
}

#[kernel]
fn k_min(x: &[f64]) -> f64 {
    x.min()
}

#[kernel]
fn k_max(x: &[f64]) -> f64 {
    x.max()
}

#[kernel]
fn k_argmin(x: &[f64]) -> usize {
    x.argmin()
}

#[kernel]
fn k_argmax(x: &[i32]) -> usize {
    x.argmax()
}

#[kernel]
fn k_max_of_expr(x: &[f64]) -> f64 {
    (x * 2.0).abs().max()
}

#[kernel]
fn try_min(x: &[f64]) -> Result<f64, KernelError> {
    Ok(x.min())
}

#[kernel]
fn try_stats(x: &[f32]) -> Result<(f32, usize, f32), KernelError> {
    Ok((x.sum(), x.argmax(), x.max()))
}

#[test]
fn empty_reductions_have_numpy_values() {
    let e: &[f64] = &[];
    for (t, r) in at_every_level(|_| sums(e)) {
        assert_eq!(r.0.to_bits(), 0.0f64.to_bits(), "sum of nothing is +0.0 at {t:?}");
        assert_eq!(r.1, 1.0, "prod at {t:?}");
        assert!(r.2.is_nan() && r.3.is_nan() && r.4.is_nan(), "mean/var/std at {t:?}: {r:?}");
        assert_eq!(r.5.to_bits(), 0.0f64.to_bits(), "dot at {t:?}");
    }
    for (t, r) in at_every_level(|_| sums32(&[])) {
        assert_eq!((r.0.to_bits(), r.1, r.2.is_nan()), (0, 1.0, true), "f32 at {t:?}");
    }
    for (t, r) in at_every_level(|_| int_sums(&[])) {
        assert_eq!((r.0, r.1, r.3, r.4, r.5), (0, 1, 0, false, true), "i64 at {t:?}");
        assert!(r.2.is_nan(), "i64 mean at {t:?}");
    }
    // -0.0 + ... : a sum of negative zeros is still +0.0 (identity 0.0 + -0.0 = +0.0), as
    // the naive loop starting from 0.0 gives.
    for (t, r) in at_every_level(|_| sums(&[-0.0; 3])) {
        assert_eq!(r.0.to_bits(), 0.0f64.to_bits(), "sum of -0.0s at {t:?}");
    }
}

#[test]
fn empty_elementwise_results_are_empty() {
    for (t, (v, m)) in at_every_level(|_| elementwise(&[], &[])) {
        assert!(v.is_empty() && m.is_empty(), "at {t:?}");
    }
    for (t, ()) in at_every_level(|_| write_out(&[], &mut [])) {
        let _ = t;
    }
    let mut out: Vec<f64> = Vec::new();
    write_out(&[], &mut out);
    assert!(out.is_empty());
}

#[test]
fn empty_extrema_panic_with_the_reduction_named() {
    let e: &[f64] = &[];
    for t in supported_targets() {
        let msg = panic_message(|| with_target(t, || k_min(e)));
        assert_eq!(msg, "kernel `k_min`: `x.min()` of an empty array has no value");
        let msg = panic_message(|| with_target(t, || k_max(e)));
        assert_eq!(msg, "kernel `k_max`: `x.max()` of an empty array has no value");
        let msg = panic_message(|| with_target(t, || k_argmin(e)));
        assert_eq!(msg, "kernel `k_argmin`: `x.argmin()` of an empty array has no value");
        let msg = panic_message(|| with_target(t, || k_argmax(&[])));
        assert_eq!(msg, "kernel `k_argmax`: `x.argmax()` of an empty array has no value");
        let msg = panic_message(|| with_target(t, || k_max_of_expr(e)));
        assert_eq!(msg, "kernel `k_max_of_expr`: `(x * 2.0).abs().max()` of an empty array has no value");
    }
}

#[test]
#[should_panic(expected = "kernel `k_min`: `x.min()` of an empty array has no value")]
fn empty_min_should_panic() {
    k_min(&[]);
}

#[test]
fn empty_extrema_in_result_kernels_are_err() {
    for (t, r) in at_every_level(|_| try_min(&[])) {
        let err = r.expect_err("min of nothing");
        assert_eq!(err, KernelError::Empty { kernel: "try_min", reduction: "x.min()" }, "at {t:?}");
        assert_eq!(err.to_string(), "kernel `try_min`: `x.min()` of an empty array has no value");
        let _: &dyn std::error::Error = &err;
    }
    for (t, r) in at_every_level(|_| try_stats(&[])) {
        // The first reduction that needs an element is reported.
        assert!(
            matches!(r, Err(KernelError::Empty { kernel: "try_stats", reduction: "x.argmax()" | "x.max()" })),
            "at {t:?}: {r:?}"
        );
    }
    for (t, r) in at_every_level(|_| try_stats(&[1.0, f32::NAN, 3.0])) {
        let (s, a, m) = r.expect("non-empty");
        assert!(s.is_nan() && m.is_nan() && a == 1, "at {t:?}");
    }
    assert_eq!(try_min(&[2.0, -1.0]), Ok(-1.0));
}

#[kernel]
fn guarded_max(x: &[f64]) -> f64 {
    if x.len() > 0 {
        x.max()
    } else {
        0.0
    }
}

#[kernel]
fn try_guarded_max(x: &[f64]) -> Result<f64, KernelError> {
    Ok(if x.len() > 0 { x.max() } else { 0.0 })
}

/// The meaning rule: this is `if x.len() > 0 { max } else { 0.0 }`, so an empty input
/// gives 0.0: emptiness is checked where a `min`/`max`/`argmin`/`argmax` value is used.
#[test]
fn guarded_extremum_of_empty_input() {
    assert_eq!(guarded_max(&[]), 0.0);
    assert_eq!(try_guarded_max(&[]), Ok(0.0));
}

#[test]
fn guarded_extremum_of_nonempty_input() {
    for (t, r) in at_every_level(|_| (guarded_max(&[1.0, 3.0]), try_guarded_max(&[-2.0]))) {
        assert_eq!(r, (3.0, Ok(-2.0)), "at {t:?}");
    }
}

// ---- mismatched lengths ------------------------------------------------------------------------

#[kernel]
fn hypot(x: &[f64], y: &[f64]) -> f64 {
    (x * x + y * y).sqrt().max()
}

#[kernel]
fn try_hypot(x: &[f64], y: &[f64]) -> Result<f64, KernelError> {
    Ok((x * x + y * y).sqrt().max())
}

#[kernel]
fn three(a: &[f64], b: &[f64], c: &[f64]) -> Vec<f64> {
    a * b + c
}

#[kernel]
fn try_write(x: &[f64], out: &mut [f64]) -> Result<(), KernelError> {
    out[..] = x * 2.0;
    Ok(())
}

#[kernel]
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y += a * x;
}

#[kernel]
fn view_and_vec(x: ArrayView1<f64>, y: &Vec<f64>) -> Vec<f64> {
    x - y
}

#[test]
fn length_mismatch_panics_with_operands_named() {
    let x = vec![1.0; 1000];
    let y = vec![1.0; 999];
    for t in supported_targets() {
        let msg = panic_message(|| with_target(t, || hypot(&x, &y)));
        assert_eq!(msg, "kernel `hypot`: `x` has 1000 elements but `y` has 999");
        let msg = panic_message(|| with_target(t, || hypot(&y, &x)));
        assert_eq!(msg, "kernel `hypot`: `x` has 999 elements but `y` has 1000");
        let msg = panic_message(|| with_target(t, || three(&x, &x, &y)));
        assert_eq!(msg, "kernel `three`: `a` has 1000 elements but `c` has 999");
        let msg = panic_message(|| with_target(t, || three(&x, &y, &x)));
        assert_eq!(msg, "kernel `three`: `a` has 1000 elements but `b` has 999");
        // An empty operand against a non-empty one is a mismatch, not an empty result.
        let msg = panic_message(|| with_target(t, || three(&[], &x, &x)));
        assert_eq!(msg, "kernel `three`: `a` has 0 elements but `b` has 1000");
        let a = Array1::from(vec![1.0; 7]);
        let msg = panic_message(|| with_target(t, || view_and_vec(a.view(), &vec![0.0; 8])));
        assert_eq!(msg, "kernel `view_and_vec`: `x` has 7 elements but `y` has 8");
    }
}

#[kernel]
fn zipped(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = 0.0;
    for (a, b) in x.iter().zip(y) {
        acc += a * b;
    }
    acc
}

/// Rust's `zip` would stop at the shorter input; a kernel reports the mismatch instead
/// (SPEC §2: "never a silent truncation").
#[test]
fn zip_of_different_lengths_is_a_mismatch() {
    for t in supported_targets() {
        let msg = panic_message(|| with_target(t, || zipped(&[1.0, 2.0, 3.0], &[1.0, 1.0])));
        assert_eq!(msg, "kernel `zipped`: `x` has 3 elements but `y` has 2");
    }
}

#[test]
fn length_mismatch_of_outputs() {
    let x = vec![4.0; 10];
    for t in supported_targets() {
        // No work is done before the check: the output keeps its values.
        let mut y = vec![1.0; 11];
        let msg = panic_message(|| with_target(t, || axpy(2.0, &x, &mut y)));
        assert_eq!(msg, "kernel `axpy`: `x` has 10 elements but `y` has 11");
        assert!(y.iter().all(|&v| v == 1.0), "axpy wrote before failing at {t:?}");
        let mut out = vec![0.0; 9];
        let msg = panic_message(|| with_target(t, || write_out(&x, &mut out)));
        assert_eq!(msg, "kernel `write_out`: `x` has 10 elements but `out` has 9");
        assert!(out.iter().all(|&v| v == 0.0));
        let r = with_target(t, || try_write(&x, &mut out));
        assert_eq!(
            r,
            Err(KernelError::LengthMismatch {
                kernel: "try_write",
                left: "x",
                left_len: 10,
                right: "out",
                right_len: 9
            })
        );
        assert!(out.iter().all(|&v| v == 0.0));
    }
    let mut out = vec![0.0; 10];
    assert_eq!(try_write(&x, &mut out), Ok(()));
    assert!(out.iter().all(|&v| v == 8.0));
}

#[kernel]
fn into_view(x: &[f64], out: ndarray::ArrayViewMut1<f64>) {
    out[..] = x * 2.0;
}

#[kernel]
fn into_array(x: &[f64], out: &mut Array1<f64>) {
    out += x;
}

#[test]
fn length_mismatch_of_ndarray_outputs() {
    use ndarray::s;
    for t in supported_targets() {
        let mut a = Array1::from_elem(6, -1.0);
        let msg = panic_message(|| with_target(t, || into_view(&[1.0; 4], a.slice_mut(s![..;2]))));
        assert_eq!(msg, "kernel `into_view`: `x` has 4 elements but `out` has 3");
        assert!(a.iter().all(|&v| v == -1.0), "strided output touched at {t:?}");
        with_target(t, || into_view(&[1.0, 2.0, 3.0], a.slice_mut(s![..;-2])));
        assert_eq!(a.to_vec(), [-1.0, 6.0, -1.0, 4.0, -1.0, 2.0], "at {t:?}");
        let mut b = Array1::from_elem(2, 1.0);
        let msg = panic_message(|| with_target(t, || into_array(&[1.0; 3], &mut b)));
        assert_eq!(msg, "kernel `into_array`: `x` has 3 elements but `out` has 2");
        with_target(t, || into_array(&[1.0, 2.0], &mut b));
        assert_eq!(b.to_vec(), [2.0, 3.0]);
    }
}

#[test]
#[should_panic(expected = "kernel `hypot`: `x` has 1000 elements but `y` has 999")]
fn length_mismatch_should_panic() {
    hypot(&[1.0; 1000], &[1.0; 999]);
}

#[test]
fn length_mismatch_in_result_kernels_is_err() {
    for (t, r) in at_every_level(|_| try_hypot(&[1.0; 1000], &[1.0; 999])) {
        let err = r.expect_err("mismatch");
        assert_eq!(
            err,
            KernelError::LengthMismatch { kernel: "try_hypot", left: "x", left_len: 1000, right: "y", right_len: 999 },
            "at {t:?}"
        );
        assert_eq!(err.to_string(), "kernel `try_hypot`: `x` has 1000 elements but `y` has 999");
    }
    // A length mismatch is reported before an empty reduction.
    let r = try_hypot(&[], &[1.0]);
    assert!(matches!(r, Err(KernelError::LengthMismatch { .. })), "{r:?}");
    assert_eq!(
        try_hypot(&[], &[]),
        Err(KernelError::Empty { kernel: "try_hypot", reduction: "(x * x + y * y).sqrt().max()" })
    );
    assert_eq!(try_hypot(&[3.0], &[4.0]), Ok(5.0));
}

// ---- outputs read back -------------------------------------------------------------------------

#[kernel]
fn self_reduction(y: &mut [f64]) {
    y += y.sum();
}

#[kernel]
fn write_then_sum(x: &[f64], out: &mut [f64]) -> f64 {
    out[..] = x * 2.0;
    out.sum()
}

#[kernel]
fn max_minus_self(out: &mut [f64]) {
    out[..] = out.max() - out;
}

#[kernel]
fn update_sum_update(x: &[f64], y: &mut [f64]) -> f64 {
    y += x;
    let s = y.sum();
    y *= s;
    s
}

#[test]
fn outputs_read_in_order() {
    for (t, r) in at_every_level(|_| {
        let mut y = vec![1.0, 2.0, 3.0];
        self_reduction(&mut y);
        let mut o = vec![0.0; 3];
        let s = write_then_sum(&[1.0, 2.0, 3.0], &mut o);
        let mut m = vec![1.0, 5.0, 2.0];
        max_minus_self(&mut m);
        let mut u = vec![1.0, 1.0];
        let s2 = update_sum_update(&[1.0, 2.0], &mut u);
        (y, s, o, m, s2, u)
    }) {
        assert_eq!(r.0, [7.0, 8.0, 9.0], "y += y.sum() at {t:?}");
        assert_eq!((r.1, r.2), (12.0, vec![2.0, 4.0, 6.0]), "out then out.sum() at {t:?}");
        assert_eq!(r.3, [4.0, 0.0, 3.0], "out = out.max() - out at {t:?}");
        assert_eq!((r.4, r.5), (5.0, vec![10.0, 15.0]), "y += x; s = y.sum(); y *= s at {t:?}");
    }
}

// ---- arrays never combined elementwise may differ in length ---------------------------------

#[kernel]
fn independent(x: &[f64], y: &[f64]) -> (f64, f64, Vec<f64>, Vec<f64>) {
    (x.sum(), y.max(), x * y.mean(), y - x.sum())
}

#[test]
fn independent_lengths_are_not_mismatches() {
    for (t, r) in at_every_level(|_| independent(&[1.0, 2.0, 3.0], &[5.0, 7.0])) {
        assert_eq!(r, (6.0, 7.0, vec![6.0, 12.0, 18.0], vec![-1.0, 1.0]), "at {t:?}");
    }
    // ... but an empty one still has no max.
    let msg = panic_message(|| independent(&[1.0], &[]));
    assert_eq!(msg, "kernel `independent`: `y.max()` of an empty array has no value");
}

// ---- large outputs -----------------------------------------------------------------------------

#[kernel]
fn big(x: &[f64]) -> (Vec<f64>, Vec<f32>) {
    (x * 3.0 + 1.0, x as f32)
}

#[test]
fn huge_page_sized_outputs_are_correct() {
    // 1_000_000 f64 = 8 MB, 250_001 f64 just over 2 MiB (the huge-page threshold), and
    // unaligned inputs so the output's interior alignment varies.
    for n in [1_000_000, 262_145, 262_144, 262_143] {
        let x: Vec<f64> = (0..n + 1).map(|i| i as f64 * 0.25 - 1000.0).collect();
        for off in [0, 1] {
            let x = &x[off..off + n];
            for (t, (a, b)) in at_every_level(|_| big(x)) {
                assert_eq!((a.len(), b.len()), (n, n));
                for i in 0..n {
                    assert_eq!(a[i], x[i] * 3.0 + 1.0, "n = {n} i = {i} at {t:?}");
                    assert_eq!(b[i], x[i] as f32, "n = {n} i = {i} at {t:?}");
                }
            }
        }
    }
    let x = vec![2.0; 1_000_000];
    let mut y = vec![1.0; 1_000_000];
    axpy(0.5, &x, &mut y);
    assert!(y.iter().all(|&v| v == 2.0));
}

// ---- integer panics (Rust semantics, debug assertions on in this profile) -------------------------

#[kernel]
fn int_add(x: &[i32], y: &[i32]) -> Vec<i32> {
    x + y
}

#[kernel]
fn int_div(x: &[i64], y: &[i64]) -> Vec<i64> {
    x / y
}

#[test]
fn integer_overflow_and_division_by_zero_panic_as_in_rust() {
    for t in supported_targets() {
        let msg = panic_message(|| with_target(t, || int_div(&[1, 2, 3], &[1, 0, 1])));
        assert_eq!(msg, "attempt to divide by zero");
        if cfg!(debug_assertions) {
            let msg = panic_message(|| with_target(t, || int_add(&[i32::MAX, 1], &[1, 1])));
            assert_eq!(msg, "attempt to add with overflow");
        }
    }
}

// ---- targets -----------------------------------------------------------------------------------

#[test]
fn supported_targets_include_generic_lowest_first() {
    let ts = supported_targets();
    assert_eq!(ts[0], Target::Generic);
    assert!(ts.iter().all(|t| t.is_supported()));
    for w in ts.windows(2) {
        assert!(Target::ALL.iter().position(|t| *t == w[0]) < Target::ALL.iter().position(|t| *t == w[1]));
    }
    // Without an override, kernels run at the best level allowed.
    assert_eq!(target(), *ts.last().unwrap());
    for t in Target::ALL {
        assert_eq!(Target::from_name(t.name()), Some(t));
    }
}

#[test]
fn with_target_nests_and_restores() {
    let ts = supported_targets();
    let best = target();
    let x = [1.0, -2.0, 3.0];
    for &outer in &ts {
        with_target(outer, || {
            assert_eq!(target(), outer);
            for &inner in &ts {
                let r = with_target(inner, || {
                    assert_eq!(target(), inner);
                    hypot(&x, &x)
                });
                assert_eq!(r, 18f64.sqrt());
                assert_eq!(target(), outer, "restored after the inner scope");
            }
            // Restored after a panic inside the scope, too.
            let _ = panic_message(|| with_target(Target::Generic, || k_min(&[])));
            assert_eq!(target(), outer, "restored after a panic");
            // The override is per thread: another thread runs at the process level.
            let other = std::thread::spawn(target).join().unwrap();
            assert_eq!(other, best);
        });
    }
    assert_eq!(target(), best);
}

#[test]
fn threads_at_different_levels_at_once() {
    let x = gen_finite_f64(70_001, 3);
    let want = with_target(Target::Generic, || hypot(&x, &x));
    std::thread::scope(|s| {
        let handles: Vec<_> = supported_targets()
            .into_iter()
            .map(|t| {
                let x = &x;
                s.spawn(move || (0..20).map(|_| with_target(t, || (target(), hypot(x, x)))).collect::<Vec<_>>())
            })
            .collect();
        for (h, t) in handles.into_iter().zip(supported_targets()) {
            for (seen, r) in h.join().unwrap() {
                assert_eq!((seen, r.to_bits()), (t, want.to_bits()));
            }
        }
    });
}

#[test]
fn with_target_rejects_unsupported_levels() {
    for t in Target::ALL {
        if supported_targets().contains(&t) {
            continue;
        }
        let msg = panic_message(|| with_target(t, || ()));
        assert!(
            msg.starts_with(&format!("loopfuse: target `{}` is not supported here (supported: ", t.name())),
            "{msg}"
        );
    }
}

#[kernel(targets(v3, v4))]
fn limited(x: &[f64]) -> Vec<f64> {
    x * 2.0 + 1.0
}

#[test]
fn kernels_with_limited_targets_run_correctly_at_every_level() {
    for &n in LENGTHS {
        let x = gen_f64(n, seed(n, 1));
        let want: Vec<f64> = x.iter().map(|v| v * 2.0 + 1.0).collect();
        check_levels("targets(v3, v4)", &want, &at_every_level(|_| limited(&x)), Cmp::NanAny);
    }
}

/// `LOOPFUSE_TARGET` is read once per process (then cached), so it cannot be changed
/// in-process: this test re-runs this test binary with the variable set and checks the
/// child's view (`env_child`) and its failures.
#[test]
fn loopfuse_target_env_in_a_child_process() {
    let exe = std::env::current_exe().unwrap();
    let run = |value: &str| {
        std::process::Command::new(&exe)
            .args(["env_child", "--exact", "--nocapture", "--test-threads=1"])
            .env("LOOPFUSE_TARGET", value)
            .env("LOOPFUSE_EDGE_CHILD", value)
            .output()
            .unwrap()
    };
    let ts = supported_targets();
    for t in &ts {
        let out = run(t.name());
        assert!(out.status.success(), "LOOPFUSE_TARGET={}: {}", t.name(), String::from_utf8_lossy(&out.stdout));
    }
    let out = run("bogus");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("LOOPFUSE_TARGET=`bogus` is not a loopfuse target; expected one of generic, v2, v3, v4, neon"),
        "{text}"
    );
    if let Some(t) = Target::ALL.into_iter().find(|t| !t.is_supported()) {
        let out = run(t.name());
        assert!(!out.status.success());
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(text.contains(&format!("this CPU does not support `{}`", t.name())), "{text}");
    }
}

/// Run only as the child of `loopfuse_target_env_in_a_child_process`.
#[test]
fn env_child() {
    let Ok(name) = std::env::var("LOOPFUSE_EDGE_CHILD") else {
        return;
    };
    let x = [3.0, 4.0];
    // The first kernel call resolves the level (and panics on a bad value).
    assert_eq!(hypot(&x, &[0.0, 0.0]), 4.0);
    let t = Target::from_name(&name).expect("known level");
    assert_eq!(target(), t);
    assert_eq!(*supported_targets().last().unwrap(), t, "capped at {name}");
}
