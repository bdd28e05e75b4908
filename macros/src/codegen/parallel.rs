//! `#[kernel(parallel)]`: which passes run on rayon's pool, and their calls.
//!
//! A 1-D pass of a `parallel` kernel calls the runtime's parallel driver
//! (`runtime/src/par.rs`) with the same arguments as the serial one, the clone's level token
//! first: `__lf::par::pass(__level, n, sources, reducers, sinks, body)`. The driver runs the
//! serial pass below its size threshold and otherwise splits on power-of-two block
//! boundaries, so the result has the serial bits for every thread count. Stay serial: N-d
//! passes, and the reductions of a `strict` kernel (one accumulator in source order, which
//! no split keeps). Loops kept in order (a running value, `break`, a recurrence) are not
//! passes: they run as written, on the calling thread.

use crate::ir::Kernel;
use crate::plan::{Pass, Plan};
use proc_macro2::TokenStream;
use quote::quote;

/// Whether pass `p` runs on rayon's pool.
pub fn runs_parallel(k: &Kernel, p: &Pass, opts: &super::Options) -> bool {
    opts.parallel && k.leaves(p.space).is_none() && !(opts.strict && !p.reductions.is_empty())
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
    let parallel: Vec<String> =
        passes.iter().enumerate().filter(|(_, p)| runs_parallel(k, p, opts)).map(|(i, _)| (i + 1).to_string()).collect();
    let mut line = match parallel.len() {
        0 => "`parallel`: every loop runs on the calling thread".to_string(),
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
        line.push_str(&format!("; {serial} on the calling thread (N-d, or the reductions of `strict`)"));
    }
    if k.in_order_loops > 0 && !parallel.is_empty() {
        line.push_str("; the loops that run in order stay on the calling thread");
    }
    line.push('.');
    vec![String::new(), line]
}

/// The runtime's `par::THRESHOLD`, as the docs say it (checked by `tests/parallel.rs`).
pub const THRESHOLD_TEXT: &str = "65536";
