//! `#[kernel(parallel)]`: which passes run on rayon's pool, and their calls.
//!
//! A 1-D pass of a `parallel` kernel calls the runtime's parallel driver
//! (`runtime/src/par.rs`) with the same arguments as the serial one, the clone's level token
//! first: `__lf::par::pass(__level, n, sources, reducers, sinks, body)`. The driver runs the
//! serial pass below its size threshold and otherwise splits on power-of-two block
//! boundaries, so the result has the serial bits for every thread count. An N-d pass calls
//! `__lf::nd::par::{pass, pass_staged, axis_pass_staged, axis_pass_then}` the same way
//! (`runtime/src/nd/par.rs`: split along the outermost axis in memory, a whole reduction on
//! block boundaries of its flat C index, an axis reduction along another axis than the one
//! it reduces), and a chain of passes run by blocks (`plan::chains`) calls
//! `__lf::nd::par::chain` with its block loop, cut into chunks of whole blocks. Stay serial:
//! the reductions of a `strict` kernel (one accumulator in source order, which no split
//! keeps) and chains of a `strict` kernel, an axis reduction of a 1-D array (one result),
//! and passes with a scan (`x.cumsum()`: a running value, in order).
//! Loops kept in order (a running value, `break`, a recurrence) are not passes: they run as
//! written, on the calling thread.
//!
//! The closures of a parallel pass are `move`: each chunk copies them, so the scalars they
//! capture are in registers of the chunk's loop, not behind references to the caller's
//! stack (shared between threads, LLVM would reload them after each output store, and the
//! loop would not vectorize).

use crate::ir::{Kernel, Rank};
use crate::plan::{Pass, Plan};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// Whether pass `p` runs on rayon's pool (by itself, or as part of a chain).
pub fn runs_parallel(k: &Kernel, p: &Pass, opts: &super::Options) -> bool {
    let one_result = p.axis.is_some() && k.space_rank(p.space) == Rank::Static(1);
    opts.parallel && (!opts.strict || p.reductions.is_empty()) && !one_result && !super::pass_has_scan(k, p)
}

/// Whether chain `c`'s block loop runs on rayon's pool (`nd::par::chain`).
pub fn chain_parallel(opts: &super::Options) -> bool {
    opts.parallel && !opts.strict
}

/// The drivers and first arguments of pass `p`'s call: the serial ones given, or the
/// parallel driver's (`par::pass`, `par::pass_staged`, `nd::par::..`) with the level token
/// before `n`. A pass of a chain (`in_chain`) calls the serial drivers: the chain's chunks
/// run on the pool.
pub fn drivers(
    k: &Kernel,
    p: &Pass,
    opts: &super::Options,
    in_chain: bool,
    serial: (TokenStream, TokenStream, TokenStream),
) -> (TokenStream, TokenStream, TokenStream) {
    if in_chain || !runs_parallel(k, p, opts) {
        return serial;
    }
    let (level, n) = (crate::dispatch::level_ident(), serial.2);
    if k.leaves(p.space).is_some() {
        // `nd::pass_strict` (elementwise: the order does not matter) -> `nd::par::pass`.
        let name = |t: &TokenStream| {
            let t = t.to_string();
            let last = t.rsplit("::").next().unwrap_or_default().trim().trim_end_matches("_strict").to_string();
            format_ident!("{}", last)
        };
        let (d, s) = (name(&serial.0), name(&serial.1));
        return (quote!(nd::par::#d), quote!(nd::par::#s), quote!(#level, #n));
    }
    (quote!(par::pass), quote!(par::pass_staged), quote!(#level, #n))
}

/// The fusion plan's note on `parallel` (rustdoc of the kernel): which loops use the pool.
pub fn describe(k: &Kernel, plan: &Plan, opts: &super::Options) -> Vec<String> {
    if !opts.parallel {
        return Vec::new();
    }
    let passes: Vec<&Pass> = plan.passes.iter().filter(|p| !p.fused).collect();
    let in_serial_chain =
        |p: &Pass| !chain_parallel(opts) && plan.chains.iter().any(|c| c.stages.0 <= p.stage && p.stage <= c.stages.1);
    let parallel: Vec<String> = passes
        .iter()
        .enumerate()
        .filter(|(_, p)| runs_parallel(k, p, opts) && !in_serial_chain(p))
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    let mut line = match parallel.len() {
        0 => "`parallel`: every loop runs on the calling thread (in order, a scan, the reductions of `strict`, or an axis reduction of a 1-D array)"
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
    let nd = passes.iter().any(|p| k.leaves(p.space).is_some() && runs_parallel(k, p, opts));
    if nd {
        line.push_str(
            "; an N-d loop splits along its outermost axis in memory (an axis reduction along another axis \
             than the one it reduces, a chain by whole blocks, a whole reduction on block boundaries of its \
             flat index)",
        );
    }
    let serial = passes.len() - parallel.len();
    if serial > 0 && !parallel.is_empty() {
        line.push_str(&format!(
            "; {serial} on the calling thread (a scan, the reductions of `strict`, or an axis reduction of a 1-D array)"
        ));
    }
    let rows = k.lets.iter().filter(|l| matches!(l.kind, crate::ir::LetKind::InOrder { rows: true, .. })).count();
    if k.in_order_loops > rows && !parallel.is_empty() {
        line.push_str("; the loops that run in order stay on the calling thread");
    }
    line.push('.');
    // Only loops in order, some in parallel: the line on passes would say nothing true.
    let mut lines = if passes.is_empty() && rows > 0 { Vec::new() } else { vec![String::new(), line] };
    if rows > 0 {
        let which = match (rows, k.in_order_loops) {
            (1, 1) => "the loop that runs in order spreads its iterations".to_string(),
            (r, n) if r == n => format!("the {n} loops that run in order spread their iterations"),
            (r, n) => format!("{r} of the {n} loops that run in order spread their iterations"),
        };
        let others = if k.in_order_loops > rows {
            "; the others stay on the calling thread (a value carried from one iteration to the next, an output touched outside row `i`, or an early exit)"
        } else {
            ""
        };
        lines.push(String::new());
        lines.push(format!(
            "`parallel`: {which} over rayon's pool: each touches only row `i` of the outputs and keeps its values to itself, so the results are the serial loop's bits{others}."
        ));
    }
    lines
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
    fn loops_in_order_run_by_rows_when_each_iteration_owns_its_row() {
        let argmax = "fn f(x: ArrayView2<f64>) -> Array1<usize> { let mut out = Array1::zeros(x.nrows()); for i in 0..x.nrows() { let mut b = f64::NEG_INFINITY; let mut idx = 0; for j in 0..x.ncols() { if x[[i, j]] > b { b = x[[i, j]]; idx = j; } } out[i] = idx; } out }";
        let out = expand("parallel", argmax);
        assert!(out.contains("__lf :: rows :: for_rows (__level , 0 ,"), "{out}");
        assert!(
            out.contains("`parallel`: the loop that runs in order spreads its iterations over rayon's pool"),
            "{out}"
        );
        assert!(!expand("", argmax).contains("for_rows"));
        // Not its own row, a value carried across iterations, an early exit: serial.
        for body in [
            "for i in 1..x.nrows() { out[i - 1] = x[[i, 0]]; }",
            "let mut s = 0.0; for i in 0..x.nrows() { s += x[[i, 0]]; out[i] = s; }",
            "for i in 0..x.nrows() { if x[[i, 0]] > 0.0 { break; } out[i] = 1.0; }",
            "for i in 0..x.nrows() { for i in 0..1 { out[i] = 1.0; } }",
        ] {
            let src = format!(
                "fn f(x: ArrayView2<f64>) -> Array1<f64> {{ let mut out = Array1::zeros(x.nrows()); {body} out }}"
            );
            let out = expand("parallel", &src);
            assert!(!out.contains("for_rows"), "{body}: {out}");
        }
    }

    #[test]
    fn scans_stay_serial() {
        let out = expand("parallel", "fn f(x: &[f64]) -> (Vec<f64>, f64) { let m = x.sum(); ((x - m).cumsum(), m) }");
        assert!(out.contains("__lf :: par :: pass (__level ,"), "{out}");
        assert!(out.contains("__lf :: pass (__n"), "{out}");
        assert!(out.contains("`parallel`: loop 1 runs"), "{out}");
        assert!(
            out.contains(
                "1 on the calling thread (a scan, the reductions of `strict`, or an axis reduction of a 1-D array)"
            ),
            "{out}"
        );
    }

    #[test]
    fn nd_passes_and_chains_call_the_nd_drivers() {
        let out = expand(
            "parallel",
            "fn f(x: ArrayView2<f64>) -> (Array2<f64>, f64, Array1<f64>) { (x * 2.0, x.sum(), x.max_axis(Axis(0))) }",
        );
        assert!(out.contains("__lf :: nd :: par :: pass_staged (__level ,"), "{out}");
        assert!(out.contains("__lf :: nd :: par :: axis_pass_staged (__level ,"), "{out}");
        assert!(out.contains("splits along its outermost axis in memory"), "{out}");
        let out = expand(
            "parallel",
            "fn f(x: ArrayView2<f64>) -> Array2<f64> { x / (x * x).sum_axis(Axis(1)).sqrt().insert_axis(Axis(1)) }",
        );
        assert!(out.contains("__lf :: nd :: par :: chain (__level ,"), "{out}");
        // The chain's passes call the serial drivers: the chain's chunks run on the pool.
        assert!(!out.contains("par :: axis_pass") && !out.contains("par :: pass_staged"), "{out}");
        let out = expand("parallel, strict", "fn f(x: ArrayView2<f64>) -> Array2<f64> { x * 2.0 }");
        assert!(out.contains("__lf :: nd :: par :: pass (__level ,"), "{out}");
        let out = expand("parallel, strict", "fn f(x: ArrayView2<f64>) -> f64 { x.sum() }");
        assert!(out.contains("__lf :: nd :: pass_strict (") && !out.contains(":: par ::"), "{out}");
    }

    #[test]
    fn the_threshold_text_is_the_runtimes() {
        let runtime = include_str!("../../../runtime/src/par.rs");
        let n: usize = super::THRESHOLD_TEXT.parse().unwrap();
        assert_eq!(n, 1 << 17);
        assert!(runtime.contains("pub const THRESHOLD: usize = 1 << 17;"));
    }
}
