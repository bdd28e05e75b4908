//! `#[kernel(parallel)]`: which passes run on rayon's pool, and their calls.
//!
//! A 1-D pass of a `parallel` kernel calls the runtime's parallel driver
//! (`runtime/src/par.rs`) with the same arguments as the serial one, the clone's level token
//! first: `__lf::par::pass(__level, n, sources, reducers, sinks, body)`. The driver runs the
//! serial pass below its size threshold and otherwise splits on power-of-two block
//! boundaries, so the result has the serial bits for every thread count. Stay serial: N-d
//! passes, passes with a scan (`x.cumsum()`: a running value, in order), and the reductions of a `strict` kernel (one accumulator in source order, which
//! no split keeps). Loops kept in order (a running value, `break`, a recurrence) are not
//! passes: they run as written, on the calling thread.
//!
//! The closures of a parallel pass are `move`: each chunk copies them, so the scalars they
//! capture are in registers of the chunk's loop, not behind references to the caller's
//! stack (shared between threads, LLVM would reload them after each output store, and the
//! loop would not vectorize).

use crate::ir::Kernel;
use crate::plan::{Pass, Plan};
use proc_macro2::TokenStream;
use quote::quote;

/// Whether pass `p` runs on rayon's pool.
pub fn runs_parallel(k: &Kernel, p: &Pass, opts: &super::Options) -> bool {
    opts.parallel
        && k.leaves(p.space).is_none()
        && (!opts.strict || p.reductions.is_empty())
        && !super::pass_has_scan(k, p)
}

/// The drivers and first arguments of pass `p`'s call: the serial ones given, or the
/// parallel driver's (`par::pass`, `par::pass_staged`) with the level token before `n`.
pub fn drivers(
    k: &Kernel,
    p: &Pass,
    opts: &super::Options,
    serial: (TokenStream, TokenStream, TokenStream),
) -> (TokenStream, TokenStream, TokenStream) {
    if !runs_parallel(k, p, opts) {
        return serial;
    }
    let (level, n) = (crate::dispatch::level_ident(), serial.2);
    (quote!(par::pass), quote!(par::pass_staged), quote!(#level, #n))
}

/// The fusion plan's note on `parallel` (rustdoc of the kernel): which loops use the pool.
pub fn describe(k: &Kernel, plan: &Plan, opts: &super::Options) -> Vec<String> {
    if !opts.parallel {
        return Vec::new();
    }
    let passes: Vec<&Pass> = plan.passes.iter().filter(|p| !p.fused).collect();
    let parallel: Vec<String> = passes
        .iter()
        .enumerate()
        .filter(|(_, p)| runs_parallel(k, p, opts))
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    let mut line = match parallel.len() {
        0 => "`parallel`: every loop runs on the calling thread (N-d, in order, a scan, or the reductions of `strict`)"
            .to_string(),
        n if n == passes.len() && k.in_order_loops == 0 => "`parallel`: every loop runs".to_string(),
        1 => format!("`parallel`: loop {} runs", parallel[0]),
        _ => format!("`parallel`: loops {} run", parallel.join(", ")),
    };
    if !parallel.is_empty() {
        line.push_str(&format!(
            " on rayon's pool from {} elements on (below, on the calling thread), split on \
             power-of-two block boundaries: the same bits for every thread count",
            THRESHOLD_TEXT
        ));
    }
    let serial = passes.len() - parallel.len();
    if serial > 0 && !parallel.is_empty() {
        line.push_str(&format!("; {serial} on the calling thread (N-d, a scan, or the reductions of `strict`)"));
    }
    if k.in_order_loops > 0 && !parallel.is_empty() {
        line.push_str("; the loops that run in order stay on the calling thread");
    }
    line.push('.');
    vec![String::new(), line]
}

/// The runtime's `par::THRESHOLD`, as the docs say it (checked by `tests/parallel.rs`).
pub const THRESHOLD_TEXT: &str = "131072";

#[cfg(test)]
mod tests {
    fn expand(args: &str, src: &str) -> String {
        let func: syn::ItemFn = syn::parse_str(src).expect("a function");
        crate::expand::expand(args.parse().expect("options"), &func).to_string()
    }

    #[test]
    fn a_parallel_kernel_calls_the_parallel_driver_with_its_level() {
        let out = expand("parallel", "fn f(x: &[f64]) -> Vec<f64> { let e = (x - x.max()).exp(); e / e.sum() }");
        assert!(out.contains("__lf :: par :: pass (__level ,"), "{out}");
        assert!(out.contains("__lf :: par :: pass_staged (__level ,"), "{out}");
        assert!(out.contains("`parallel`: every loop runs on rayon's pool from 131072 elements on"), "{out}");
        let serial = expand("", "fn f(x: &[f64]) -> f64 { x.sum() }");
        assert!(!serial.contains(":: par ::") && !serial.contains("`parallel`"), "{serial}");
    }

    #[test]
    fn strict_reductions_and_in_order_loops_stay_serial() {
        let out = expand("parallel, strict", "fn f(x: &[f64], y: &[f64]) -> Vec<f64> { x * y }");
        assert!(out.contains("__lf :: par :: pass ("), "{out}");
        let out = expand("parallel, strict", "fn f(x: &[f64], y: &[f64]) -> f64 { x.dot(y) }");
        assert!(out.contains("__lf :: pass_strict (") && !out.contains(":: par ::"), "{out}");
        assert!(out.contains("every loop runs on the calling thread"), "{out}");
        let out = expand(
            "parallel",
            "fn f(x: &[f64], c: &mut [f64]) -> f64 { let m = x.sum(); let mut acc = 0.0; for i in 0..x.len() { acc += x[i] - m; c[i] = acc; } acc }",
        );
        assert!(out.contains("the loops that run in order stay on the calling thread"), "{out}");
    }

    #[test]
    fn scans_stay_serial() {
        let out = expand("parallel", "fn f(x: &[f64]) -> (Vec<f64>, f64) { let m = x.sum(); ((x - m).cumsum(), m) }");
        assert!(out.contains("__lf :: par :: pass (__level ,"), "{out}");
        assert!(out.contains("__lf :: pass (__n"), "{out}");
        assert!(out.contains("`parallel`: loop 1 runs"), "{out}");
        assert!(out.contains("1 on the calling thread (N-d, a scan, or the reductions of `strict`)"), "{out}");
    }

    #[test]
    fn the_threshold_text_is_the_runtimes() {
        let runtime = include_str!("../../../runtime/src/par.rs");
        let n: usize = super::THRESHOLD_TEXT.parse().unwrap();
        assert_eq!(n, 1 << 17);
        assert!(runtime.contains("pub const THRESHOLD: usize = 1 << 17;"));
    }
}
