//! CPU levels: the names the macro accepts are the runtime's, the clones take the level
//! token by type (closures in a pass too, on any thread), and `with_target` picks the clone.

mod common;
use common::*;
use loopfuse::level::{Generic, Level, V3, V4};
use loopfuse::{kernel, math, supported_targets, Target};

/// The macro's `targets(..)` names (`macros/src/options.rs`) are exactly `Target::ALL`'s,
/// in order; `tests/ui/pass/every_target.rs` uses them all.
#[test]
fn macro_level_names_are_the_runtime_targets() {
    let names: [&str; 5] = loopfuse_macros::__level_names!();
    assert_eq!(names.to_vec(), Target::ALL.map(Target::name).to_vec());
    let pass = include_str!("ui/pass/every_target.rs");
    let listed = format!("targets({})", names.join(", "));
    assert!(pass.contains(&listed), "tests/ui/pass/every_target.rs should use `{listed}`");
}

/// Bits, with every NaN the same (NaN payloads are not promised).
fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() }).collect()
}

#[test]
fn tokens_and_slice_helpers_at_a_compile_time_level() {
    let x: Vec<f64> = gen_f64(1000, 7);
    let sin: Vec<f64> = x.iter().map(|&v| math::sin(v)).collect();
    let exp: Vec<f64> = x.iter().map(|&v| math::exp(v)).collect();
    let mut out = vec![0.0; x.len()];
    math::sin_slice_at(Generic::try_new().unwrap(), &x, &mut out);
    assert_eq!(bits(&out), bits(&sin));
    if let Some(v3) = V3::try_new() {
        math::sin_slice_at(v3, &x, &mut out);
        assert_eq!(bits(&out), bits(&sin));
    }
    if let Some(v4) = V4::try_new() {
        math::exp_slice_at(v4, &x, &mut out);
        assert_eq!(bits(&out), bits(&exp));
        math::sin_slice_at(v4, &x, &mut out);
        assert_eq!(bits(&out), bits(&sin));
    }
    assert!(supported_targets().iter().all(|t| t.is_supported()));
    assert_eq!(<V4 as Level>::TARGET, Target::V4);
    assert_eq!(V4::try_new().is_some(), Target::V4.is_supported());
}

#[kernel]
fn staged(x: &[f64]) -> (f64, Vec<f64>) {
    let e = (x * 0.5).exp() + x.sin();
    (e.sum(), e * x.ln())
}

#[kernel(targets(v2, v4))]
fn limited_staged(x: &[f64]) -> Vec<f64> {
    x.cos() * x.log2()
}

/// Every kernel at every level, from several threads at once: the clones are
/// self-contained (their closures compiled with the level's features), the results the
/// same bits everywhere.
#[test]
fn clones_run_at_every_level_on_other_threads() {
    for &n in LENGTHS {
        let x = gen_f64(n, seed(n, 11));
        let want_s: Vec<f64> = x.iter().map(|&v| math::exp(v * 0.5) + math::sin(v)).collect();
        let want_v: Vec<f64> = x.iter().zip(&want_s).map(|(&v, &e)| e * math::ln(v)).collect();
        let want_l: Vec<f64> = x.iter().map(|&v| math::cos(v) * math::log2(v)).collect();
        let runs = std::thread::scope(|s| {
            let hs: Vec<_> = (0..2)
                .map(|_| s.spawn(|| (at_every_level(|_| staged(&x).1), at_every_level(|_| limited_staged(&x)))))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
        });
        for (v, l) in runs {
            check_levels("staged", &want_v, &v, Cmp::NanAny);
            check_levels("limited_staged", &want_l, &l, Cmp::NanAny);
        }
        let sums = at_every_level(|_| staged(&x).0.to_bits());
        assert!(sums.iter().all(|s| s.1 == sums[0].1), "{sums:?}");
    }
}
