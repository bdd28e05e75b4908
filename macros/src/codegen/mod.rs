//! Code generation: kernel IR + plan -> the user's function with fused loops inside.
//!
//! Shape of the output (see `cargo expand`):
//! ```text
//! fn kernel(x: &[f64], ..) -> R {
//!     use ::loopfuse::__private as __lf;
//!     let x = __lf::KernelInput::as_view(&x);         // views: no copy, any stride
//!     __lf::expect(__lf::check_len(..));              // shapes, before any work
//!     __lf::clones! {                                 // runtime/src/level.rs:
//!         __level; [v4 v3 v2 neon];                   // a #[target_feature] fn per level
//!         fn [(x: &[f64], ..) -> R] { .. }            // with the fused loops in each,
//!         (__lf::slice(x), ..)                        // and the call of the best one
//!     }
//! }
//! ```
//! With ndarray parameters: `if x.is_contiguous() && .. { clones!{ slices } } else {
//! clones!{ views } }` (see [`Signature`]).

mod nd;
pub mod parallel;
mod scan;

pub use nd::space_text;

use crate::ir::*;
use crate::names;
use crate::plan::Plan;
use crate::vocab;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use std::collections::BTreeSet;
use syn::spanned::Spanned;

/// Whether `m` is computed by loopfuse's math (see `vocab::Method::math`).
fn is_math(m: &syn::Ident) -> bool {
    vocab::method(&m.to_string()).is_some_and(|m| m.math)
}

/// Whether `m` has a slice kernel a pass runs through a stage (see `vocab::Method::staged`).
pub fn is_staged(m: &syn::Ident) -> bool {
    vocab::method(&m.to_string()).is_some_and(|m| m.staged)
}

pub struct Options<'a> {
    /// The kernel's name, for messages.
    pub name: &'a str,
    pub strict: bool,
    pub parallel: bool,
    pub targets: Option<&'a [String]>,
    /// A `Result` kernel: checks in the body return `Err` (`?`).
    pub result: bool,
}

/// The name of a node's element inside the loop body: a parameter's own name for its
/// elements (the closure binds it), `__a{n}` for computed values.
fn elem(k: &Kernel, n: NodeId) -> TokenStream {
    match k.nodes[n].op {
        Op::Input(p) | Op::Current(p) => k.params[p].ident.to_token_stream(),
        _ => names::node(n).into_token_stream(),
    }
}

fn operand(k: &Kernel, o: &Operand) -> TokenStream {
    match o {
        Operand::Array(n) => elem(k, *n),
        Operand::Scalar(s) => s.tokens.clone(),
    }
}

/// One element of a node, as a Rust expression over element variables.
fn node_expr(k: &Kernel, n: NodeId) -> TokenStream {
    match &k.nodes[n].op {
        // Inside the loop body a parameter's name is its current element.
        Op::Input(p) | Op::Current(p) => k.params[*p].ident.to_token_stream(),
        Op::Splat(s) => s.tokens.clone(),
        Op::Unary(op, a) => {
            let a = operand(k, a);
            quote!(#op #a)
        }
        Op::Binary(op, a, b) => {
            let (a, b) = (operand(k, a), operand(k, b));
            quote!(#a #op #b)
        }
        Op::Cast(a, ty) => {
            let a = operand(k, a);
            // A saturating float-to-small-integer `as` stays scalar in LLVM; the runtime's
            // `ToInt` computes the same value and vectorizes.
            let small = ["i8", "u8", "i16", "u16"];
            if small.iter().any(|t| ty.to_token_stream().to_string() == *t) {
                quote!(__lf::ToInt::<#ty>::to_int(#a))
            } else {
                quote!(#a as #ty)
            }
        }
        Op::Method(m, recv, args) => {
            let recv = operand(k, recv);
            let args = args.iter().map(|o| operand(k, o));
            if is_math(m) {
                quote!(__lf::math::#m(#recv #(, #args)*))
            } else {
                quote!(#recv.#m(#(#args),*))
            }
        }
        Op::Call(f, args) => {
            let args = args.iter().map(|o| operand(k, o));
            quote!(#f(#(#args),*))
        }
        Op::Select(c, a, b) => {
            let (c, a, b) = (operand(k, c), operand(k, a), operand(k, b));
            quote!(if #c { #a } else { #b })
        }
        // A float scan (or one whose type the macro cannot tell) is stepped in the body, in
        // order: the driver calls it element by element, and the running value is captured
        // by the body (see `pass_parts`). Staging it (the argument a chunk at a time into a
        // buffer, scanned there) measured slower (f64 cumsum 1.45 vs 0.87 ns/elem). An
        // integer scan is a stage instead (`stage_of`): the runtime scans each chunk with a
        // log-step prefix in the level's vector registers (`runtime/src/scan/x86.rs`), the
        // same bits as this loop since integer `+`, `*`, `max`, `min` are associative. A
        // portable prefix measured 10x slower than this loop (4.96 vs 0.47 ns/elem); the
        // intrinsics are what make it pay (see README, Scans).
        Op::Scan(kind, a) => {
            let (a, c, op) = (operand(k, a), names::carry(n), scan_op(*kind));
            quote!({ #c = __lf::ScanOp::step(#op, #c, #a); #c })
        }
        // Loaded by the pass driver: the closure binds `__a{n}` itself.
        Op::Index | Op::Shifted(..) | Op::Leaf(_) => unreachable!("sources are bound by the closure"),
    }
}

/// The runtime's operation of a scan (`__lf::CumSum`).
fn scan_op(kind: ScanKind) -> TokenStream {
    let op = format_ident!("{}", kind.runtime());
    quote!(__lf::#op)
}

/// Whether a pass computes a scan, or writes a returned selection: it runs in order, on one
/// thread.
pub fn pass_has_scan(k: &Kernel, p: &crate::plan::Pass) -> bool {
    pass_nodes(k, p).iter().any(|&n| matches!(k.nodes[n].op, Op::Scan(..)))
        || p.sinks.iter().any(|&s| k.sinks[s].select.is_some())
}

/// A buffer map's chain as text over `r`, the result (`r.sqrt()`), for the fusion plan.
pub fn chain_text(k: &Kernel, chain: &[NodeId], r: &str) -> String {
    let text = |o: &Operand, e: &str| match o {
        Operand::Array(_) => e.to_string(),
        Operand::Scalar(s) => crate::lower::tidy(&s.tokens),
    };
    chain.iter().fold(r.to_string(), |e, &n| match &k.nodes[n].op {
        Op::Method(m, recv, args) => {
            let args: Vec<String> = args.iter().map(|a| text(a, &e)).collect();
            format!("{}.{m}({})", text(recv, &e), args.join(", "))
        }
        Op::Unary(u, _) => format!("{}{e}", u.to_token_stream()),
        Op::Binary(b, l, r) => format!("({} {} {})", text(l, &e), b.to_token_stream(), text(r, &e)),
        Op::Cast(_, t) => format!("{e} as {}", t.to_token_stream()),
        _ => e,
    })
}

pub(crate) fn collect_nodes(k: &Kernel, n: NodeId, into: &mut BTreeSet<NodeId>) {
    collect_nodes_until(k, n, &BTreeSet::new(), into);
}

/// `n` and the nodes it depends on, not looking behind the nodes in `stop`.
fn collect_nodes_until(k: &Kernel, n: NodeId, stop: &BTreeSet<NodeId>, into: &mut BTreeSet<NodeId>) {
    if into.insert(n) && !stop.contains(&n) {
        for o in k.nodes[n].op.operands() {
            if let Operand::Array(m) = o {
                collect_nodes_until(k, *m, stop, into);
            }
        }
    }
}

/// The method and argument of a call to a staged math method.
fn staged_call(k: &Kernel, n: NodeId) -> Option<(&syn::Ident, NodeId)> {
    match &k.nodes[n].op {
        Op::Method(m, Operand::Array(a), args) if args.is_empty() && is_staged(m) => Some((m, *a)),
        _ => None,
    }
}

/// A node a pass can compute through a stage, as the stage and its argument: a staged math
/// call (its slice helper), or an integer scan (`scan.rs`).
fn stage_of(k: &Kernel, n: NodeId) -> Option<(TokenStream, NodeId)> {
    if let Some((m, arg)) = staged_call(k, n) {
        let (level, f) = (crate::dispatch::level_ident(), format_ident!("{}_slice_at", m));
        return Some((quote!(__lf::stage(|__x, __o| __lf::math::#f(#level, __x, __o))), arg));
    }
    scan::stage(k, n)
}

/// Stages per pass at most (the runtime's `Stages` tuples); further calls are inlined.
const MAX_STAGES: usize = 8;

/// The pass's staged nodes (node, stage, argument): those whose argument needs no other
/// staged node (a call nested in another is computed inline), at most `MAX_STAGES`.
fn staged_calls(k: &Kernel, needed: &BTreeSet<NodeId>) -> Vec<(NodeId, TokenStream, NodeId)> {
    let calls: BTreeSet<NodeId> = needed.iter().copied().filter(|&n| stage_of(k, n).is_some()).collect();
    calls
        .iter()
        .filter_map(|&n| {
            let (stage, arg) = stage_of(k, n)?;
            let mut deps = BTreeSet::new();
            collect_nodes(k, arg, &mut deps);
            // A stage's argument is computed in its own closure: a scan there would be
            // stepped twice, so a call on a scan, or a scan of a scan, is computed in the
            // body (and so is a staged scan of a staged call: stages do not chain).
            (deps.is_disjoint(&calls) && !k.has_scan(arg)).then_some((n, stage, arg))
        })
        .take(MAX_STAGES)
        .collect()
}

fn reducer(k: &Kernel, r: RedId) -> TokenStream {
    let red = &k.reductions[r];
    let mean = red.mean.map(names::reduction);
    if let (Some(_), RedKind::Var | RedKind::Std) = (red.axis, red.kind) {
        // The mean is read back per element (`Reduction::mask`).
        let ddof = red.ddof.as_ref().map(|d| d.tokens.clone());
        let f = if red.kind == RedKind::Std { quote!(std) } else { quote!(new) };
        return quote!(__lf::VarAxis::#f(#ddof));
    }
    match red.kind {
        RedKind::Sum => quote!(__lf::Sum::new()),
        RedKind::Prod => quote!(__lf::Prod::new()),
        RedKind::Mean => quote!(__lf::Mean::new()),
        RedKind::Var | RedKind::Std if red.ddof.is_some() => {
            let (ddof, sqrt) = (red.ddof.as_ref().map(|d| &d.tokens), red.kind == RedKind::Std);
            quote!(__lf::Var::with_ddof(#mean, #ddof, #sqrt))
        }
        RedKind::Var => quote!(__lf::Var::new(#mean)),
        RedKind::Std => quote!(__lf::Var::std(#mean)),
        RedKind::Min => quote!(__lf::Min::new()),
        RedKind::Max => quote!(__lf::Max::new()),
        RedKind::ArgMin => quote!(__lf::ArgMin::new()),
        RedKind::ArgMax => quote!(__lf::ArgMax::new()),
        RedKind::Any => quote!(__lf::Any),
        RedKind::All => quote!(__lf::All),
        RedKind::Count => quote!(__lf::Count),
        RedKind::MaxNum => quote!(__lf::MaxNum::new()),
        RedKind::MinNum => quote!(__lf::MinNum::new()),
        RedKind::SumWhere => quote!(__lf::SumWhere::new()),
        RedKind::MeanWhere => quote!(__lf::MeanWhere::new()),
    }
}

/// `x[i + offset]` for `i` over space `s` as a slice, checked (`__lf::window`).
fn window(k: &Kernel, opts: &Options, s: SpaceId, q: ParamId, offset: isize) -> TokenStream {
    let (name, x) = (opts.name, &k.params[q].ident);
    let xs = x.to_string();
    let lo = match k.range(s) {
        Some(_) => names::lo(s).into_token_stream(),
        None => quote!(0),
    };
    let n = names::len(s);
    quote!(__lf::window(#name, #xs, #x, #lo, #lo + #n, #offset))
}

/// The bounds of an explicit loop `for i in lo..hi` and the check of every index it reads or
/// writes (`x[i + k]`), before the first of its passes: the parts of one loop may land in
/// several passes, and none may run if an access is out of bounds (a plain loop would panic
/// at it), nor loop over a range that panics.
fn range_checks(k: &Kernel, opts: &Options, s: SpaceId) -> TokenStream {
    let Some(range) = k.range(s) else { return TokenStream::new() };
    let (lo, hi) = (&range.lo.tokens, &range.hi.tokens);
    let (lo_id, n) = (names::lo(s), names::len(s));
    // In source order (the order the plain loop would panic in): reads as lowered, then the
    // writes (an assignment evaluates its value first).
    let mut windows: Vec<(ParamId, isize)> = Vec::new();
    let reads = k.nodes.iter().filter_map(|(id, node)| match node.op {
        Op::Shifted(q, offset) if k.node_space(id) == s => Some((q, offset)),
        _ => None,
    });
    let writes = k.sinks.iter().filter_map(|sink| match sink.target {
        SinkTarget::Param(q) if sink.window && k.node_space(sink.node) == s => Some((q, 0)),
        _ => None,
    });
    for w in reads.chain(writes) {
        if !windows.contains(&w) {
            windows.push(w);
        }
    }
    let checks = windows.into_iter().map(|(q, offset)| {
        let w = window(k, opts, s, q, offset);
        quote!(#w;)
    });
    quote! {
        let #lo_id: usize = #lo;
        let #n = { let __hi: usize = #hi; __hi.saturating_sub(#lo_id) };
        #(#checks)*
    }
}

/// The runtime's tuples (of sources, reducers, sinks, and their items) hold at most this
/// many elements; longer lists nest (`runtime/src/pass.rs`, "nest them").
const TUPLE: usize = 12;

/// `(a, b, c,)`, or past [`TUPLE`] elements groups of them: `((a, .., l), (m, n))`. Used the
/// same way for a pass's sources, reducers, sinks, their items and the patterns over them.
fn tuple(parts: impl IntoIterator<Item = TokenStream>) -> TokenStream {
    let mut parts: Vec<TokenStream> = parts.into_iter().collect();
    while parts.len() > TUPLE {
        parts = parts.chunks(TUPLE).map(|g| quote!((#(#g,)*))).collect();
    }
    quote!((#(#parts,)*))
}

/// The values a pass reduces and writes.
fn pass_roots(k: &Kernel, p: &crate::plan::Pass) -> Vec<NodeId> {
    let mut roots: Vec<NodeId> =
        p.reductions.iter().flat_map(|&r| [Some(k.reductions[r].arg), k.reductions[r].mask]).flatten().collect();
    roots.extend(p.sinks.iter().map(|&s| k.sinks[s].node));
    roots.extend(p.sinks.iter().filter_map(|&s| k.sinks[s].select.map(|(mask, _)| mask)));
    roots
}

/// Every node a pass computes or reads.
pub fn pass_nodes(k: &Kernel, p: &crate::plan::Pass) -> BTreeSet<NodeId> {
    let mut needed = BTreeSet::new();
    for r in pass_roots(k, p) {
        collect_nodes(k, r, &mut needed);
    }
    needed
}

/// An axis pass's epilogue (`Pass::epilogue`): its fresh outputs, and the closure that maps
/// the pass's results (nested as its reducers) to their values.
fn epilogue(
    k: &Kernel,
    p: &crate::plan::Pass,
    e: &crate::plan::Pass,
    prelude: &mut TokenStream,
) -> (Vec<TokenStream>, TokenStream) {
    let sh = names::shape(e.space);
    let sinks = e.sinks.iter().map(|&s| {
        let SinkTarget::Fresh(o) = k.sinks[s].target else { unreachable!("plan: an epilogue writes fresh results") };
        let o = names::fresh(o);
        prelude.extend(quote!(let mut #o = __lf::nd::NdOut::new(#sh, false);));
        quote!(&mut #o)
    });
    let sinks = sinks.collect();
    let results = tuple(p.reductions.iter().map(|&r| names::reduction(r).into_token_stream()));
    let lets = pass_nodes(k, e).into_iter().filter_map(|n| {
        let id = names::node(n);
        match &k.nodes[n].op {
            Op::Leaf(Leaf { src: LeafSrc::Reduced(r), .. }) => {
                let r = names::reduction(*r);
                Some(quote!(let #id = #r;))
            }
            op if op.is_source() => None,
            _ => {
                let e = node_expr(k, n);
                Some(quote!(let #id = #e;))
            }
        }
    });
    let values = tuple(e.sinks.iter().map(|&s| elem(k, k.sinks[s].node)));
    (sinks, quote!(|#results| { #(#lets)* #values }))
}

/// An axis pass's map of its results into its buffers (`Plan::maps`): each mapped
/// buffer gets the top of its chain, the others the result.
fn buffer_map(k: &Kernel, p: &crate::plan::Pass, maps: &[&crate::plan::BufferMap]) -> TokenStream {
    let results = tuple(p.reductions.iter().map(|&r| names::reduction(r).into_token_stream()));
    let mut lets = Vec::new();
    let values = p.reductions.iter().map(|&r| match maps.iter().find(|m| m.red == r) {
        Some(m) => {
            let (leaf, r) = (names::node(m.leaf), names::reduction(r));
            lets.push(quote!(let #leaf = #r;));
            for &n in &m.chain {
                let (id, e) = (names::node(n), node_expr(k, n));
                lets.push(quote!(let #id = #e;));
            }
            names::node(m.root).into_token_stream()
        }
        None => names::reduction(r).into_token_stream(),
    });
    let values = tuple(values.collect::<Vec<_>>());
    quote!(, |#results| { #(#lets)* #values })
}

/// One fused loop.
fn pass(k: &Kernel, plan: &Plan, p: &crate::plan::Pass, opts: &Options) -> TokenStream {
    let (prelude, call) = pass_parts(k, plan, p, opts, None);
    quote!(#prelude #call)
}

/// A chain's passes block by block (`Plan::chains`): the buffers and results made first,
/// then each block through every pass, then the outputs marked written.
fn chain(k: &Kernel, plan: &Plan, c: &crate::plan::Chain, opts: &Options) -> TokenStream {
    let (sh, b) = (names::shape(c.space), c.axis);
    let in_chain = |p: &&crate::plan::Pass| c.stages.0 <= p.stage && p.stage <= c.stages.1 && !p.fused;
    let (mut preludes, mut calls, mut finish, mut inputs) = (Vec::new(), Vec::new(), Vec::new(), BTreeSet::new());
    // The outputs the chain writes block by block.
    let mut outs = Vec::new();
    for p in plan.passes.iter().filter(in_chain) {
        let (prelude, call) = pass_parts(k, plan, p, opts, Some(b));
        preludes.push(prelude);
        calls.push(call);
        for &s in &p.sinks {
            if let SinkTarget::Fresh(o) = k.sinks[s].target {
                let o = names::fresh(o);
                finish.push(quote!(#o.finish_blocks(#b);));
                outs.push(o);
            }
        }
        if p.axis.is_some() {
            for &r in &p.reductions {
                let (buf, a) = (names::buffer(r), crate::plan::buffer_axis(k, r, b));
                finish.push(quote!(#buf.finish_blocks(#a);));
                outs.push(buf);
            }
        }
        // The inputs as the passes read them, views included (`x.insert_axis(Axis(1))`: the
        // parameter itself may not fit the chain's shape).
        for n in pass_nodes(k, p) {
            match &k.nodes[n].op {
                Op::Input(q) => {
                    inputs.insert(Leaf::param(*q));
                }
                Op::Leaf(l @ Leaf { src: LeafSrc::Param(_), .. }) => {
                    inputs.insert(l.clone());
                }
                _ => {}
            }
        }
    }
    let like = inputs.iter().map(|l| nd::leaf_source(k, l, c.space, None));
    let len = quote!(let __len = __lf::nd::block_len(#sh, #b, &[#(#like.erase()),*], 8););
    if !parallel::chain_parallel(opts) {
        return quote! {
            #(#preludes)*
            #len
            let mut __i0 = 0;
            while __i0 < #sh.dims()[#b] {
                let __i1 = __i0 + (#sh.dims()[#b] - __i0).min(__len);
                #(#calls)*
                __i0 = __i1;
            }
            #(#finish)*
        };
    }
    // On the pool: chunks of whole blocks, each running the block loop over its range and
    // writing its part of every output, named as the outputs so that the calls are the same.
    let level = crate::dispatch::level_ident();
    let parts = tuple(outs.iter().map(|o| quote!(#o)));
    let outs = tuple(outs.iter().map(|o| quote!(&mut #o)));
    quote! {
        #(#preludes)*
        #len
        __lf::nd::par::chain(#level, #sh, #b, __len, #outs, |__c0, __c1, #parts| {
            let mut __i0 = __c0;
            while __i0 < __c1 {
                let __i1 = __i0 + (__c1 - __i0).min(__len);
                #(#calls)*
                __i0 = __i1;
            }
        });
        #(#finish)*
    }
}

/// A pass's allocations and its driver call; in a chain (`block`: its axis), the call runs
/// over indices `__i0..__i1` of that axis.
fn pass_parts(
    k: &Kernel,
    plan: &Plan,
    p: &crate::plan::Pass,
    opts: &Options,
    block: Option<usize>,
) -> (TokenStream, TokenStream) {
    let roots = pass_roots(k, p);
    let needed = pass_nodes(k, p);
    // An N-d pass runs over a shape (`__lf::nd`), an axis pass reduces one of its axes.
    let nd = k.leaves(p.space).is_some();
    let calls = if opts.strict { Vec::new() } else { staged_calls(k, &needed) };
    let staged: BTreeSet<NodeId> = calls.iter().map(|c| c.0).collect();
    // The body reads staged calls' results; their arguments are computed by the stage closure.
    let mut in_body = BTreeSet::new();
    for &r in &roots {
        collect_nodes_until(k, r, &staged, &mut in_body);
    }
    let mut in_args = BTreeSet::new();
    for &(_, _, arg) in &calls {
        collect_nodes(k, arg, &mut in_args);
    }
    // The chains of mapped buffers were computed by the axis pass.
    let mapped: BTreeSet<NodeId> = plan.maps.iter().flat_map(|m| m.chain.iter().copied()).collect();
    let lets = |nodes: &BTreeSet<NodeId>| -> Vec<TokenStream> {
        nodes
            .iter()
            .filter(|&&n| !staged.contains(&n) && !k.nodes[n].op.is_source() && !mapped.contains(&n))
            .map(|&n| {
                let (id, e) = (names::node(n), node_expr(k, n));
                quote!(let #id = #e;)
            })
            .collect()
    };
    let items = p.reductions.iter().map(|&r| {
        let red = &k.reductions[r];
        let arg = elem(k, red.arg);
        match red.mask {
            // `var_axis`: the element and its mean.
            Some(m) if red.axis.is_some() => {
                let m = elem(k, m);
                quote!((#arg, #m))
            }
            Some(m) => {
                let m = elem(k, m);
                quote!((#m, #arg))
            }
            None => arg,
        }
    });
    // The loop's first index: 0 for arrays, `lo` of `for i in lo..hi` (bound by `range_checks`).
    let mut prelude = TokenStream::new();
    // Each stepped scan's running value, captured by the body (the pass runs in order, even
    // `parallel`); a staged scan's is the stage's.
    for &n in needed.difference(&staged) {
        if let Op::Scan(kind, _) = k.nodes[n].op {
            let (c, op) = (names::carry(n), scan_op(kind));
            prelude.extend(quote!(let mut #c = __lf::ScanOp::start(#op);));
        }
    }
    let lo = match k.range(p.space) {
        Some(_) => names::lo(p.space).into_token_stream(),
        None => quote!(0),
    };
    let sh = names::shape(p.space);
    // The driver's first arguments: a length, a shape, or a shape and the axis it reduces.
    let shape = match block {
        Some(b) => quote!(#sh.block(#b, __i0, __i1)),
        None => sh.to_token_stream(),
    };
    let n = if !nd {
        names::len(p.space).into_token_stream()
    } else if let Some(axis) = p.axis {
        quote!(#shape, #axis)
    } else {
        shape
    };
    let written = |o: &syn::Ident, axis: Option<usize>| match axis {
        Some(a) => quote!(&mut #o.block(#a, __i0, __i1)),
        None => quote!(&mut #o),
    };
    // A returned selection's sink takes the mask with the element (`__lf::Compact`).
    let values = p.sinks.iter().map(|&s| match k.sinks[s].select {
        Some((mask, _)) => {
            let (m, v) = (elem(k, mask), elem(k, k.sinks[s].node));
            quote!((#m, #v))
        }
        None => elem(k, k.sinks[s].node),
    });
    let reducers = p.reductions.iter().map(|&r| reducer(k, r));
    let window = |q: ParamId, offset: isize| window(k, opts, p.space, q, offset);
    let sinks = p.sinks.iter().map(|&s| match k.sinks[s].target {
        SinkTarget::Fresh(o) if nd => {
            let o = names::fresh(o);
            let like = needed.iter().filter_map(|&n| match &k.nodes[n].op {
                Op::Input(q) => Some(nd::leaf_source(k, &Leaf::param(*q), p.space, None)),
                _ => None,
            });
            prelude.extend(quote!(let mut #o = __lf::nd::NdOut::new(#sh, __lf::nd::prefers_f(&[#(#like.erase()),*]));));
            written(&o, block)
        }
        SinkTarget::Fresh(o) => {
            let o = names::fresh(o);
            match k.sinks[s].select {
                Some((_, count)) => {
                    let c = names::reduction(count);
                    prelude.extend(quote!(let mut #o = __lf::Compact::new(#c, #n);));
                }
                None => prelude.extend(quote!(let mut #o = __lf::OutBuf::new(#n);)),
            }
            quote!(&mut #o)
        }
        SinkTarget::Param(q) if k.sinks[s].window => window(q, 0),
        SinkTarget::Param(q) => out_ref(k, q),
    });
    let mut sinks: Vec<_> = sinks.collect();
    let mut then = TokenStream::new();
    let maps: Vec<&crate::plan::BufferMap> = plan.maps.iter().filter(|m| p.reductions.contains(&m.red)).collect();
    if let Some(e) = p.epilogue {
        let (outs, map) = epilogue(k, p, &plan.passes[e], &mut prelude);
        sinks = outs;
        then = quote!(, #map);
    } else if !maps.is_empty() {
        then = buffer_map(k, p, &maps);
    }
    // An axis pass writes each reduction's buffer, of the shape without the axis (an
    // epilogue writes the results instead).
    if let (Some(axis), None) = (p.axis, p.epilogue) {
        for &r in &p.reductions {
            let b = names::buffer(r);
            prelude.extend(quote!(let mut #b = __lf::nd::NdOut::new(#sh.remove_axis(#axis), false);));
            sinks.push(written(&b, block.map(|a| crate::plan::buffer_axis(k, r, a))));
        }
    }
    let results = p.reductions.iter().map(|&r| names::reduction(r));
    // `pass`, `nd::pass`, `nd::axis_pass`, with `_strict` or `_staged`.
    let driver = |suffix: &str| {
        let f = format_ident!("{}pass{}", if p.axis.is_some() { "axis_" } else { "" }, suffix);
        if nd {
            quote!(nd::#f)
        } else {
            quote!(#f)
        }
    };
    let (staged_driver, driver) = (driver("_staged"), driver(if opts.strict { "_strict" } else { "" }));
    let staged_driver = if then.is_empty() { staged_driver } else { quote!(nd::axis_pass_then) };
    let (driver, staged_driver, n) = parallel::drivers(k, p, opts, block.is_some(), (driver, staged_driver, n));
    let mv = parallel::runs_parallel(k, p, opts).then(|| quote!(move));
    let (mut names, mut sources) = (Vec::new(), Vec::new());
    for &node in &needed {
        match &k.nodes[node].op {
            Op::Input(q) if nd => {
                let x = &k.params[*q].ident;
                names.push((node, x.clone()));
                sources.push(nd::leaf_source(k, &Leaf::param(*q), p.space, block));
            }
            Op::Leaf(l) => {
                // A mapped buffer is read as the top of its chain.
                let read = plan.maps.iter().find(|m| m.leaf == node).map_or(node, |m| m.root);
                names.push((read, names::node(read)));
                sources.push(nd::leaf_source(k, l, p.space, block));
            }
            &Op::Input(q) => {
                let x = &k.params[q].ident;
                names.push((node, x.clone()));
                sources.push(quote!(#x));
            }
            &Op::Current(q) if nd => {
                // An in-place N-d output is the pass's shape: no broadcast.
                names.push((node, k.params[q].ident.clone()));
                let y = out_ref(k, q);
                sources.push(quote!(__lf::Current(#y)));
            }
            &Op::Current(q) => {
                let y = &k.params[q].ident;
                names.push((node, y.clone()));
                sources.push(quote!(__lf::Current(#y)));
            }
            Op::Index => {
                names.push((node, names::node(node)));
                sources.push(quote!(__lf::Indices(#lo)));
            }
            &Op::Shifted(q, offset) => {
                names.push((node, names::node(node)));
                let w = window(q, offset);
                sources.push(match k.params[q].kind {
                    ParamKind::Output { .. } | ParamKind::Local(_) => quote!(__lf::Current(#w)),
                    _ => w,
                });
            }
            _ => {}
        }
    }
    // The closures' pattern over the sources: `_` for those a closure does not read.
    let pattern = |nodes: &BTreeSet<NodeId>| {
        let names = names.iter().map(|(node, name)| if nodes.contains(node) { quote!(#name) } else { quote!(_) });
        tuple(names)
    };
    let (body_pattern, body_lets) = (pattern(&in_body), lets(&in_body));
    let (sources, reducers, sinks) = (tuple(sources), tuple(reducers), tuple(sinks));
    // Reductions only an untaken branch needs are the driver's results of no elements
    // (`plan::needs`), of the same reducers: their types come from the pass.
    let guarded = block.is_none() && !p.reductions.is_empty() && p.axis.is_none() && p.need != crate::plan::always();
    let (reducers, reducers_value) = if guarded { (quote!(__rs), reducers) } else { (reducers.clone(), reducers) };
    let (items, values) = (tuple(items), tuple(values));
    let call = if staged.is_empty() && nd && !opts.strict {
        // The staged driver with no stage: a runtime wrapper closure around the body would be
        // compiled without the clone's features, and LLVM may leave it out of line.
        quote! {
            __lf::#staged_driver(#n, #sources, (), #reducers, #sinks, #mv |_| (), #mv |#body_pattern, ()| {
                #(#body_lets)*
                (#items, #values)
            } #then)
        }
    } else if staged.is_empty() {
        quote! {
            __lf::#driver(#n, #sources, #reducers, #sinks, #mv |#body_pattern| {
                #(#body_lets)*
                (#items, #values)
            })
        }
    } else {
        let stages = calls.iter().map(|(_, stage, _)| stage);
        let args = calls.iter().map(|&(_, _, arg)| elem(k, arg));
        let results = calls.iter().map(|&(s, _, _)| names::node(s));
        let (args_pattern, args_lets) = (pattern(&in_args), lets(&in_args));
        quote! {
            __lf::#staged_driver(#n, #sources, (#(#stages,)*), #reducers, #sinks,
                #mv |#args_pattern| {
                    #(#args_lets)*
                    (#(#args,)*)
                },
                #mv |#body_pattern, (#(#results,)*)| {
                    #(#body_lets)*
                    (#items, #values)
                } #then)
        }
    };
    if p.reductions.is_empty() || p.axis.is_some() {
        (prelude, quote!(#call;))
    } else {
        let results = tuple(results.map(|r| r.into_token_stream()));
        let call = if guarded {
            let when = condition(k, &p.need);
            // An N-d `min`/`max` is checked to have elements where it runs (1-D: where its
            // value is used, `lower`; always-needed N-d ones: before dispatch, `nd::shapes`).
            let empty = p.reductions.iter().filter(|&&r| nd && k.reductions[r].kind.needs_nonempty()).map(|&r| {
                let (name, text) = (opts.name, &k.reductions[r].text);
                let c = quote!(__lf::check_nonempty(#name, #text, #sh.len()));
                if opts.result {
                    quote!(#c?;)
                } else {
                    quote!(__lf::expect(#c);)
                }
            });
            quote!({ let __rs = #reducers_value; if #when { #(#empty)* #call } else { __lf::untaken(__rs) } })
        } else {
            call
        };
        (prelude, quote!(let #results = #call;))
    }
}

/// A need as a condition over the guards: `__g0 && !__g1 || ..`.
fn condition(k: &Kernel, need: &crate::plan::Need) -> TokenStream {
    if need.is_empty() {
        return quote!(false);
    }
    let paths = need.iter().map(|path| {
        let terms = path.iter().map(|(&g, &taken)| {
            let g = &k.guards[g].name;
            if taken {
                quote!(#g)
            } else {
                quote!(!#g)
            }
        });
        quote!(#(#terms)&&*)
    });
    quote!(#(#paths)||*)
}

/// An N-d output as a pass writes it: `&NdViewMut`, a parameter of the body, or the window
/// of one that a nest cut in the body (`lower/nest.rs`).
fn out_ref(k: &Kernel, q: ParamId) -> TokenStream {
    let y = &k.params[q].ident;
    if k.is_slice(q) {
        quote!(&#y)
    } else {
        quote!(#y)
    }
}

/// The statements of `__body`: lengths, then stage by stage scalar lets and loops, then the result.
pub fn body(k: &Kernel, plan: &Plan, opts: &Options) -> TokenStream {
    let mut out = TokenStream::new();
    let used: BTreeSet<SpaceId> = plan.passes.iter().map(|p| p.space).collect();
    for stage in 0..=plan.stages {
        for ((l, s), need) in k.lets.iter().zip(&plan.let_stage).zip(&plan.let_need) {
            if *s == stage {
                out.extend(scalar_let(k, l, need, opts.parallel));
            }
        }
        // The lengths after the first lets: a slice (`x[1..]`) is one of them.
        for &s in used.iter().filter(|_| stage == 0) {
            if let (None, Some(p)) = (k.range(s), k.space_param(s)) {
                let (x, n) = (&k.params[p].ident, names::len(s));
                out.extend(quote!(let #n = #x.len();));
            }
        }
        for p in plan.passes.iter().filter(|p| p.stage == stage) {
            if plan.passes.iter().find(|q| q.space == p.space).is_some_and(|first| std::ptr::eq(first, p)) {
                out.extend(range_checks(k, opts, p.space));
            }
        }
        // A chain's passes go together, at its first stage.
        if let Some(c) = plan.chains.iter().find(|c| c.stages.0 == stage) {
            out.extend(chain(k, plan, c, opts));
            continue;
        }
        if plan.chains.iter().any(|c| c.stages.0 < stage && stage <= c.stages.1) {
            continue;
        }
        for p in plan.passes.iter().filter(|p| p.stage == stage && !p.fused) {
            out.extend(pass(k, plan, p, opts));
        }
    }
    out.extend(result(k, &k.result));
    out
}

fn scalar_let(k: &Kernel, l: &ScalarLet, need: &crate::plan::Need, parallel: bool) -> TokenStream {
    let name = &l.name;
    let mutable = l.mutable.then(|| quote!(mut));
    let ty = l.ty.as_ref().map(|t| quote!(: #t));
    let value = match &l.kind {
        LetKind::Statement => return l.value.tokens.clone(),
        // A let a branch made, computed only when the branch is taken (`plan::needs`); its
        // uses are all inside the branch, so the default is never read.
        // (A slice on a branch is cut only there already, `lower::slice`.)
        LetKind::Plain
            if *need != crate::plan::always() && !k.slices.iter().any(|(q, _)| k.params[*q].ident == *name) =>
        {
            let (v, when) = (&l.value.tokens, condition(k, need));
            quote!(if #when { #v } else { ::core::default::Default::default() })
        }
        LetKind::Plain => l.value.tokens.clone(),
        LetKind::LocalVec { init, len } => quote!(::std::vec![#init; #len]),
        LetKind::LocalArray { ctor, .. } => ctor.clone(),
        LetKind::LocalView { vec, storage: Storage::Vec } => quote!(__lf::cells(&mut #vec)),
        LetKind::LocalView { vec, storage: Storage::Array1 } => quote!(__lf::array_cells(&mut #vec)),
        // A reference to the temporary view, which lives as long as the binding.
        LetKind::LocalView { vec, storage: Storage::Nd(_) } => quote!(&__lf::nd::NdOutput::into_nd_mut(&mut #vec)),
        LetKind::InOrder { body, copies, outputs, rows } => {
            let names: BTreeSet<String> = outputs.iter().map(|(p, _)| k.params[*p].ident.to_string()).collect();
            let mut body = (**body).clone();
            syn::visit_mut::VisitMut::visit_expr_mut(&mut OutputAccess { outputs: &names }, &mut body);
            let inputs =
                k.params.iter().filter(|(_, p)| matches!(p.kind, ParamKind::Input { .. })).map(|(_, p)| &p.ident);
            let outs = outputs.iter().map(|(p, _)| &k.params[*p].ident);
            if let (true, Some(par)) = (parallel && *rows, parallel_rows(&body, outs, inputs)) {
                return quote!(let #name = { use __lf::MathArg as _; #par; () };);
            }
            let results = copies.iter().map(|(ident, _)| ident);
            let copies = copies.iter().map(|(ident, init)| quote!(let mut #ident = #init;));
            quote!({ use __lf::MathArg as _; #(#copies)* #body; (#(#results,)*) })
        }
    };
    quote!(let #mutable #name #ty = #value;)
}

/// A loop whose iterations each own row `i` of the outputs (`lower/prange.rs`), as
/// `__lf::rows::for_rows`: each chunk of iterations gets its rows of the outputs under their
/// own names, makes the packs of its inner runs (`lower/inner_pass.rs`) itself, and runs
/// its iterations in order, as the serial loop does.
fn parallel_rows<'a>(
    body: &syn::Expr,
    outputs: impl Iterator<Item = &'a syn::Ident>,
    inputs: impl Iterator<Item = &'a syn::Ident>,
) -> Option<TokenStream> {
    let (packs, f) = match body {
        syn::Expr::ForLoop(f) => (&[][..], f),
        syn::Expr::Block(b) => match b.block.stmts.split_last()? {
            (syn::Stmt::Expr(syn::Expr::ForLoop(f), _), packs) => (packs, f),
            _ => return None,
        },
        _ => return None,
    };
    let syn::Expr::Range(r) = &*f.expr else { return None };
    let (lo, hi, i, inner) = (r.start.as_ref()?, r.end.as_ref()?, &f.pat, &f.body);
    let outs: Vec<&syn::Ident> = outputs.collect();
    // The inputs the iteration reads, copied out of the closure's captures (views are
    // `Copy`): read through the capture, each access copied the whole view again.
    let ins = inputs.filter(|x| crate::lower::mentions(inner, &[x.to_string()]));
    Some(quote! {
        __lf::rows::for_rows(__level, #lo, #hi, (#(#outs,)*), |__rows, (#(#outs,)*)| {
            #(let #ins = #ins;)*
            #(let #outs = &#outs;)*
            #(#packs)*
            for #i in __rows #inner
        })
    })
}

/// The kernel's result expression.
fn result(k: &Kernel, r: &Ret) -> TokenStream {
    match r {
        Ret::Scalar(s) => s.tokens.clone(),
        Ret::Fresh(o, kind) => {
            let nd =
                k.sinks.iter().any(|s| s.target == SinkTarget::Fresh(*o) && k.leaves(k.node_space(s.node)).is_some());
            let o = names::fresh(*o);
            match kind {
                FreshKind::Vec if nd => quote!(#o.into_vec()),
                _ if nd => quote!(#o.into_array()),
                FreshKind::Vec => quote!(#o.into_vec()),
                FreshKind::Array1 => quote!(#o.into_array1()),
                // A 1-D value returned as `ArrayD<T>` (or `Array<T, Ix1>`).
                FreshKind::Nd => quote!(#o.into_array_nd()),
            }
        }
        Ret::Reduced(r) => {
            let b = names::buffer(*r);
            quote!(#b.into_array())
        }
        Ret::Local(p, kind) => {
            let v = names::local_vec(&k.params[*p].ident);
            match kind {
                // An ndarray local is the array the signature returns (or rustc says why not).
                _ if !matches!(k.params[*p].kind, ParamKind::Local(Storage::Vec)) => quote!(#v),
                FreshKind::Vec => quote!(#v),
                FreshKind::Array1 | FreshKind::Nd => quote!(__lf::array1(#v)),
            }
        }
        Ret::Tuple(parts) if parts.is_empty() => quote!(()),
        Ret::Tuple(parts) => {
            let parts = parts.iter().map(|p| result(k, p));
            quote!((#(#parts,)*))
        }
        Ret::Ok(inner) => {
            let inner = result(k, inner);
            quote!(::core::result::Result::Ok(#inner))
        }
        Ret::Unreachable => quote!(::core::unreachable!()),
    }
}

/// Rewrites an in-order loop for the runtime: output accesses (`out[i] = v` to
/// `__lf::Elements::set(out, i, v)`, reads to `__lf::Elements::get(out, i)`: cells or a
/// view), and math methods to loopfuse's math
/// (`v.exp()` to `__lf::math::exp(v.math_arg())`), as everywhere else in a kernel.
struct OutputAccess<'b> {
    outputs: &'b BTreeSet<String>,
}

impl OutputAccess<'_> {
    fn output_index(&self, e: &syn::Expr) -> bool {
        matches!(e, syn::Expr::Index(ix) if matches!(&*ix.expr, syn::Expr::Path(p) if p.path.get_ident().is_some_and(|i| self.outputs.contains(&i.to_string()))))
    }
}

impl syn::visit_mut::VisitMut for OutputAccess<'_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        use syn::Expr;
        match e {
            Expr::Assign(a) if self.output_index(&a.left) => {
                self.visit_expr_mut(&mut a.right);
                if let Expr::Index(ix) = &mut *a.left {
                    self.visit_expr_mut(&mut ix.index);
                }
                let Expr::Index(ix) = &*a.left else { unreachable!("an output index") };
                let (out, index, value) = (&ix.expr, &ix.index, &a.right);
                *e = syn::parse_quote!(__lf::Elements::set(#out, #index, #value));
            }
            Expr::Binary(b) if crate::lower::compound_base(&b.op).is_some() && self.output_index(&b.left) => {
                self.visit_expr_mut(&mut b.right);
                if let Expr::Index(ix) = &mut *b.left {
                    self.visit_expr_mut(&mut ix.index);
                }
                let Expr::Index(ix) = &*b.left else { unreachable!("an output index") };
                let (out, index, value) = (&ix.expr, &ix.index, &b.right);
                let op = crate::lower::compound_base(&b.op).expect("compound");
                *e = syn::parse_quote!({
                    let __i = #index;
                    __lf::Elements::set(#out, __i, __lf::Elements::get(#out, __i) #op #value)
                });
            }
            Expr::MethodCall(m) if is_math(&m.method) => {
                syn::visit_mut::visit_expr_method_call_mut(self, m);
                let (f, recv, args) = (&m.method, &m.receiver, &m.args);
                let args = args.iter();
                *e = syn::parse_quote!(__lf::math::#f((#recv).math_arg() #(, #args)*));
            }
            Expr::Index(_) if self.output_index(e) => {
                let Expr::Index(ix) = e else { unreachable!("matched") };
                self.visit_expr_mut(&mut ix.index);
                let (out, index) = (&ix.expr, &ix.index);
                *e = syn::parse_quote!(__lf::Elements::get(#out, #index));
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
}

/// How the body is called: the conversions before it, and one or two bodies.
///
/// Every array parameter becomes a view (`__lf::View`, `__lf::ViewMut`: no copy, any
/// stride). When all are contiguous (always, for slices and `Vec`s) the body takes slices and
/// cells, which tell LLVM that outputs cannot alias inputs: today's fastest loop. Kernels
/// with ndarray parameters get a second, strided body taking the views themselves, called
/// when some view is not contiguous (ndarray's Zip does the same). The body's tokens are the
/// same for both: the runtime helpers they call (`window`, `Elements`, the pass's sources
/// and sinks) take either form.
pub struct Signature {
    pub prelude: TokenStream,
    pub contiguous: Body,
    /// The strided body and the condition for the contiguous one.
    pub strided: Option<(TokenStream, Body)>,
}

/// One body's parameters and the arguments it is called with.
#[derive(Default)]
pub struct Body {
    pub params: Vec<TokenStream>,
    pub args: Vec<TokenStream>,
}

/// Whether an array parameter type is an ndarray view or array (it may be strided).
fn may_be_strided(ty: &syn::Type) -> bool {
    ty.to_token_stream().to_string().contains("Array")
}

pub fn signature(k: &Kernel, plan: &Plan, shapes: &[SpaceId], func: &syn::ItemFn) -> Signature {
    let (mut prelude, mut contiguous, mut strided) = (TokenStream::new(), Body::default(), Body::default());
    let nd_params = nd::nd_params(k, plan);
    let mut layout = Vec::new();
    let tys = func.sig.inputs.iter().filter_map(|a| match a {
        syn::FnArg::Typed(pt) => Some(&pt.ty),
        syn::FnArg::Receiver(_) => None,
    });
    for ((p, param), ty) in k.params.iter().zip(tys) {
        let x = &param.ident;
        match &param.kind {
            ParamKind::Scalar => {
                for b in [&mut contiguous, &mut strided] {
                    b.params.push(quote!(#x: #ty));
                    b.args.push(quote!(#x));
                }
                continue;
            }
            ParamKind::Input { elem, .. } if nd::is_nd_param(k, p) => {
                // N-d: one view for both bodies; the N-d passes pick loops by layout.
                prelude.extend(quote_spanned!(ty.span()=> let #x = __lf::nd::NdInput::as_nd(&#x);));
                for b in [&mut contiguous, &mut strided] {
                    b.params.push(quote!(#x: __lf::nd::NdView<'_, #elem>));
                    b.args.push(quote!(#x));
                }
                continue;
            }
            ParamKind::Input { elem, .. } => {
                if nd_params.contains(&p) {
                    // Also read by N-d passes (`v` in `a * v`).
                    let v = nd::view_name(k, p);
                    prelude.extend(quote_spanned!(ty.span()=> let #v = __lf::nd::NdInput::as_nd(&#x);));
                    for b in [&mut contiguous, &mut strided] {
                        b.params.push(quote!(#v: __lf::nd::NdView<'_, #elem>));
                        b.args.push(quote!(#v));
                    }
                }
                prelude.extend(quote_spanned!(ty.span()=> let #x = __lf::KernelInput::as_view(&#x);));
                // Read by N-d passes only, its 1-D view may go unused.
                let allow = nd_params.contains(&p).then(|| quote!(#[allow(unused_variables)]));
                contiguous.params.push(quote!(#allow #x: &[#elem]));
                contiguous.args.push(quote!(__lf::slice(#x)));
                strided.params.push(quote!(#allow #x: __lf::View<'_, #elem>));
                strided.args.push(quote!(#x));
            }
            // A nest writes it through a window, which borrows it uniquely (`lower/nest.rs`).
            ParamKind::Output { elem, .. } if k.windowed.contains(&p) => {
                prelude.extend(quote_spanned!(ty.span()=> let mut #x = __lf::nd::NdOutput::into_nd_mut(#x);));
                for b in [&mut contiguous, &mut strided] {
                    b.params.push(quote!(#x: &mut __lf::nd::NdViewMut<'_, #elem>));
                    b.args.push(quote!(&mut #x));
                }
                continue;
            }
            ParamKind::Output { elem, .. } if nd::is_nd_param(k, p) => {
                prelude.extend(quote_spanned!(ty.span()=> let #x = __lf::nd::NdOutput::into_nd_mut(#x);));
                for b in [&mut contiguous, &mut strided] {
                    b.params.push(quote!(#x: &__lf::nd::NdViewMut<'_, #elem>));
                    b.args.push(quote!(&#x));
                }
                continue;
            }
            ParamKind::Output { elem, .. } => {
                prelude.extend(quote_spanned!(ty.span()=> let #x = __lf::KernelOutput::into_view_mut(#x);));
                contiguous.params.push(quote!(#x: &[__lf::Cell<#elem>]));
                contiguous.args.push(quote!(__lf::out_cells(&#x)));
                strided.params.push(quote!(#x: &__lf::ViewMut<'_, #elem>));
                strided.args.push(quote!(&#x));
            }
            ParamKind::Local(_) => continue,
        }
        if may_be_strided(ty) {
            layout.push(quote!(#x.is_contiguous()));
        }
    }
    for &s in shapes {
        let sh = names::shape(s);
        for b in [&mut contiguous, &mut strided] {
            b.params.push(quote!(#sh: __lf::nd::Shape));
            b.args.push(quote!(#sh));
        }
    }
    let strided = (!layout.is_empty()).then(|| (quote!(#(#layout)&&*), strided));
    Signature { prelude, contiguous, strided }
}

/// Length, shape and emptiness checks, run before dispatch so a bad call does no work; and
/// the N-d shapes the bodies take.
pub fn checks(k: &Kernel, plan: &Plan, name: &str, result: bool) -> (TokenStream, Vec<SpaceId>) {
    let value = |call: TokenStream| {
        if result {
            quote!(#call?)
        } else {
            quote!(__lf::expect(#call))
        }
    };
    let wrap = |call: TokenStream| {
        let v = value(call);
        quote!(#v;)
    };
    let mut out = TokenStream::new();
    // The user's `Axis(k)` tokens, which the kernel reads at compile time: evaluated once
    // here, so a `use ndarray::Axis` stays used.
    for a in &k.axis_uses {
        out.extend(quote!(let _ = #a;));
    }
    // A slice's checks run in the body, where it is cut (`lower`); emptiness is checked
    // where a 1-D `min`/`max`/.. is used (`__lf::nonempty`), so an untaken branch does not fail.
    for c in k.checks.iter().filter(|c| !k.is_slice(c.left) && !k.is_slice(c.right)) {
        let (l, r) = (&k.params[c.left].ident, &k.params[c.right].ident);
        let (ls, rs) = (l.to_string(), r.to_string());
        out.extend(wrap(quote!(__lf::check_len(#name, #ls, #l.len(), #rs, #r.len()))));
    }
    let shapes = nd::shapes(k, plan, name, &value);
    out.extend(shapes.stmts);
    (out, shapes.spaces)
}
