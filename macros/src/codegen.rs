//! Code generation: kernel IR + plan -> the user's function with fused loops inside.
//!
//! Shape of the output (see `cargo expand`):
//! ```text
//! fn kernel(x: &[f64], ..) -> R {
//!     use ::loopfuse::__private as __lf;
//!     let x = __lf::KernelInput::contiguous(&x);      // inputs as slices
//!     __lf::expect(__lf::check_len(..));              // shapes, before any work
//!     __lf::clones! {                                 // runtime/src/level.rs:
//!         __level; [v4 v3 v2 neon];                   // a #[target_feature] fn per level
//!         fn [(x: &[f64], ..) -> R] { .. }            // with the fused loops in each,
//!         (&x, ..)                                    // and the call of the best one
//!     }
//! }
//! ```

use crate::ir::*;
use crate::plan::Plan;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use std::collections::BTreeSet;
use syn::spanned::Spanned;

/// Elementwise methods computed by loopfuse's vectorizable math (`runtime/src/math`), not
/// std's scalar libm calls, which would block vectorization of the whole loop.
const MATH: &[&str] = &[
    "exp", "exp2", "exp_m1", "ln", "log2", "log10", "ln_1p", "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin",
    "acos", "atan", "atan2", "cbrt", "powf",
];

/// Math methods with hand-vectorized slice kernels in the runtime: a pass evaluates them a
/// chunk at a time through the slice helper (`runtime/src/stage.rs`) instead of inlining the
/// scalar formula. Same bits either way.
const STAGED: &[&str] = &["exp", "ln", "log2", "log10", "sin", "cos", "tan"];

pub struct Options<'a> {
    /// The kernel's name, for messages.
    pub name: &'a str,
    pub strict: bool,
    pub targets: Option<&'a [String]>,
}

fn node_ident(n: NodeId) -> syn::Ident {
    format_ident!("__a{}", n)
}

fn n_ident(class: Class) -> syn::Ident {
    format_ident!("__n{}", class)
}

/// The name of a node's element inside the loop body: a parameter's own name for its
/// elements (the closure binds it), `__a{n}` for computed values.
fn elem(k: &Kernel, n: NodeId) -> TokenStream {
    match k.nodes[n].op {
        Op::Input(p) | Op::Current(p) => k.params[p].ident.to_token_stream(),
        _ => node_ident(n).into_token_stream(),
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
            quote!(#a as #ty)
        }
        Op::Method(m, recv, args) => {
            let recv = operand(k, recv);
            let args = args.iter().map(|o| operand(k, o));
            if MATH.contains(&m.to_string().as_str()) {
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
        // Loaded by the pass driver: the closure binds `__a{n}` itself.
        Op::Index | Op::Shifted(..) => unreachable!("sources are bound by the closure"),
    }
}

fn operands(op: &Op) -> Vec<&Operand> {
    match op {
        Op::Input(_) | Op::Current(_) | Op::Splat(_) | Op::Index | Op::Shifted(..) => Vec::new(),
        Op::Unary(_, a) | Op::Cast(a, _) => vec![a],
        Op::Binary(_, a, b) => vec![a, b],
        Op::Method(_, r, args) => std::iter::once(r).chain(args).collect(),
        Op::Call(_, args) => args.iter().collect(),
        Op::Select(c, a, b) => vec![c, a, b],
    }
}

fn collect_nodes(k: &Kernel, n: NodeId, into: &mut BTreeSet<NodeId>) {
    collect_nodes_until(k, n, &BTreeSet::new(), into);
}

/// `n` and the nodes it depends on, not looking behind the nodes in `stop`.
fn collect_nodes_until(k: &Kernel, n: NodeId, stop: &BTreeSet<NodeId>, into: &mut BTreeSet<NodeId>) {
    if into.insert(n) && !stop.contains(&n) {
        for o in operands(&k.nodes[n].op) {
            if let Operand::Array(m) = o {
                collect_nodes_until(k, *m, stop, into);
            }
        }
    }
}

/// The method and argument of a call to a staged math method.
fn staged_call(k: &Kernel, n: NodeId) -> Option<(&syn::Ident, NodeId)> {
    match &k.nodes[n].op {
        Op::Method(m, Operand::Array(a), args) if args.is_empty() && STAGED.contains(&m.to_string().as_str()) => {
            Some((m, *a))
        }
        _ => None,
    }
}

/// Stages per pass at most (the runtime's `Stages` tuples); further calls are inlined.
const MAX_STAGES: usize = 8;

/// The pass's staged calls (node, method, argument): those whose argument needs no other
/// staged call (a call nested in another is computed inline), at most `MAX_STAGES`.
fn staged_calls<'k>(k: &'k Kernel, needed: &BTreeSet<NodeId>) -> Vec<(NodeId, &'k syn::Ident, NodeId)> {
    let calls: BTreeSet<NodeId> = needed.iter().copied().filter(|&n| staged_call(k, n).is_some()).collect();
    calls
        .iter()
        .filter_map(|&n| {
            let (m, arg) = staged_call(k, n)?;
            let mut deps = BTreeSet::new();
            collect_nodes(k, arg, &mut deps);
            deps.is_disjoint(&calls).then_some((n, m, arg))
        })
        .take(MAX_STAGES)
        .collect()
}

fn reducer(k: &Kernel, r: RedId) -> TokenStream {
    let red = &k.reductions[r];
    let mean = red.mean.map(|m| format_ident!("__r{}", m));
    match red.kind {
        RedKind::Sum => quote!(__lf::Sum::new()),
        RedKind::Prod => quote!(__lf::Prod::new()),
        RedKind::Mean => quote!(__lf::Mean::new()),
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
    }
}

/// One fused loop.
fn pass(k: &Kernel, p: &crate::plan::Pass, opts: &Options) -> TokenStream {
    let mut roots: Vec<NodeId> =
        p.reductions.iter().flat_map(|&r| [Some(k.reductions[r].arg), k.reductions[r].mask]).flatten().collect();
    roots.extend(p.sinks.iter().map(|&s| k.sinks[s].node));
    let mut needed = BTreeSet::new();
    for &r in &roots {
        collect_nodes(k, r, &mut needed);
    }
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
    let lets = |nodes: &BTreeSet<NodeId>| -> Vec<TokenStream> {
        nodes
            .iter()
            .filter(|&&n| {
                !staged.contains(&n)
                    && !matches!(k.nodes[n].op, Op::Index | Op::Shifted(..) | Op::Input(_) | Op::Current(_))
            })
            .map(|&n| {
                let (id, e) = (node_ident(n), node_expr(k, n));
                quote!(let #id = #e;)
            })
            .collect()
    };
    let items = p.reductions.iter().map(|&r| {
        let arg = elem(k, k.reductions[r].arg);
        match k.reductions[r].mask {
            Some(m) => {
                let m = elem(k, m);
                quote!((#m, #arg))
            }
            None => arg,
        }
    });
    let name = opts.name;
    // The loop's first index and length: 0..len for arrays, lo..hi for `for i in lo..hi`.
    let (mut prelude, lo) = match k.range(p.class) {
        Some(range) => {
            let (lo, hi) = (&range.lo.tokens, &range.hi.tokens);
            let lo_id = format_ident!("__lo{}", p.class);
            let n = n_ident(p.class);
            (
                quote!(let #lo_id: usize = #lo; let #n = { let __hi: usize = #hi; __hi.saturating_sub(#lo_id) };),
                lo_id.into_token_stream(),
            )
        }
        None => (TokenStream::new(), quote!(0)),
    };
    let n = n_ident(p.class);
    let values = p.sinks.iter().map(|&s| elem(k, k.sinks[s].node));
    let reducers = p.reductions.iter().map(|&r| reducer(k, r));
    let window = |q: usize, offset: isize| {
        let x = &k.params[q].ident;
        let xs = x.to_string();
        quote!(__lf::window(#name, #xs, #x, #lo, #lo + #n, #offset))
    };
    let sinks = p.sinks.iter().map(|&s| match k.sinks[s].target {
        SinkTarget::Fresh(o) => {
            let o = format_ident!("__o{}", o);
            prelude.extend(quote!(let mut #o = __lf::OutBuf::new(#n);));
            quote!(&mut #o)
        }
        SinkTarget::Param(q) if k.sinks[s].window => window(q, 0),
        SinkTarget::Param(q) => k.params[q].ident.to_token_stream(),
    });
    let sinks: Vec<_> = sinks.collect();
    let results = p.reductions.iter().map(|&r| format_ident!("__r{}", r));
    let driver = if opts.strict { quote!(pass_strict) } else { quote!(pass) };
    let (mut names, mut sources) = (Vec::new(), Vec::new());
    for &node in &needed {
        match k.nodes[node].op {
            Op::Input(q) => {
                let x = &k.params[q].ident;
                names.push((node, x.clone()));
                sources.push(quote!(#x));
            }
            Op::Current(q) => {
                let y = &k.params[q].ident;
                names.push((node, y.clone()));
                sources.push(quote!(__lf::Current(#y)));
            }
            Op::Index => {
                names.push((node, node_ident(node)));
                sources.push(quote!(__lf::Indices(#lo)));
            }
            Op::Shifted(q, offset) => {
                names.push((node, node_ident(node)));
                let w = window(q, offset);
                sources.push(match k.params[q].kind {
                    ParamKind::Output { .. } | ParamKind::Local => quote!(__lf::Current(#w)),
                    _ => w,
                });
            }
            _ => {}
        }
    }
    // The closures' pattern over the sources: `_` for those a closure does not read.
    let pattern = |nodes: &BTreeSet<NodeId>| {
        let names = names.iter().map(|(node, name)| if nodes.contains(node) { quote!(#name) } else { quote!(_) });
        quote!((#(#names,)*))
    };
    let (body_pattern, body_lets) = (pattern(&in_body), lets(&in_body));
    let call = if staged.is_empty() {
        quote! {
            __lf::#driver(#n, (#(#sources,)*), (#(#reducers,)*), (#(#sinks,)*), |#body_pattern| {
                #(#body_lets)*
                ((#(#items,)*), (#(#values,)*))
            })
        }
    } else {
        let level = crate::dispatch::level_ident();
        let stages = calls.iter().map(|&(_, m, _)| {
            let f = format_ident!("{}_slice_at", m);
            quote!(__lf::stage(|__x, __o| __lf::math::#f(#level, __x, __o)))
        });
        let args = calls.iter().map(|&(_, _, arg)| elem(k, arg));
        let results = calls.iter().map(|&(s, _, _)| node_ident(s));
        let (args_pattern, args_lets) = (pattern(&in_args), lets(&in_args));
        quote! {
            __lf::pass_staged(#n, (#(#sources,)*), (#(#stages,)*), (#(#reducers,)*), (#(#sinks,)*),
                |#args_pattern| {
                    #(#args_lets)*
                    (#(#args,)*)
                },
                |#body_pattern, (#(#results,)*)| {
                    #(#body_lets)*
                    ((#(#items,)*), (#(#values,)*))
                })
        }
    };
    if p.reductions.is_empty() {
        quote!(#prelude #call;)
    } else {
        quote!(#prelude let (#(#results,)*) = #call;)
    }
}

/// The statements of `__body`: lengths, then stage by stage scalar lets and loops, then the result.
pub fn body(k: &Kernel, plan: &Plan, opts: &Options) -> TokenStream {
    let mut out = TokenStream::new();
    let used: BTreeSet<Class> = plan.passes.iter().map(|p| p.class).collect();
    for (i, p) in k.params.iter().enumerate() {
        if matches!(p.kind, ParamKind::Scalar) {
            continue;
        }
        let root = k.class_of(i);
        let (x, n) = (&p.ident, n_ident(root));
        if root == i && used.contains(&root) {
            out.extend(quote!(let #n = #x.len();));
        }
    }
    for stage in 0..=plan.stages {
        for (l, s) in k.lets.iter().zip(&plan.let_stage) {
            if *s == stage {
                let (name, value) = (&l.name, &l.value.tokens);
                let mutable = l.mutable.then(|| quote!(mut));
                out.extend(match &l.ty {
                    Some(ty) => quote!(let #mutable #name: #ty = #value;),
                    None => quote!(let #mutable #name = #value;),
                });
            }
        }
        for p in plan.passes.iter().filter(|p| p.stage == stage) {
            out.extend(pass(k, p, opts));
        }
    }
    out.extend(k.result.tokens.clone());
    out
}

/// The body's parameters, the arguments the dispatcher passes, and the conversions before it.
pub struct Signature {
    pub params: Vec<TokenStream>,
    pub args: Vec<TokenStream>,
    pub args_in_body: Vec<TokenStream>,
    pub prelude: TokenStream,
    pub finish: TokenStream,
}

pub fn signature(k: &Kernel, func: &syn::ItemFn) -> Signature {
    let mut s = Signature {
        params: Vec::new(),
        args: Vec::new(),
        args_in_body: Vec::new(),
        prelude: TokenStream::new(),
        finish: TokenStream::new(),
    };
    let tys = func.sig.inputs.iter().filter_map(|a| match a {
        syn::FnArg::Typed(pt) => Some(&pt.ty),
        syn::FnArg::Receiver(_) => None,
    });
    for (p, ty) in k.params.iter().zip(tys) {
        let x = &p.ident;
        match &p.kind {
            ParamKind::Scalar => {
                s.params.push(quote!(#x: #ty));
                s.args.push(quote!(#x));
            }
            ParamKind::Input { elem } => {
                s.prelude.extend(quote_spanned!(ty.span()=> let #x = __lf::KernelInput::contiguous(&#x);));
                s.params.push(quote!(#x: &[#elem]));
                s.args.push(quote!(&#x));
            }
            ParamKind::Output { elem } => {
                s.prelude.extend(quote_spanned!(ty.span()=> let mut #x = __lf::KernelOutput::out_view(#x);));
                s.params.push(quote!(#x: &[__lf::Cell<#elem>]));
                s.args.push(quote!(#x.cells()));
                s.finish.extend(quote!(#x.finish();));
            }
            ParamKind::Local => continue,
        }
        s.args_in_body.push(x.to_token_stream());
    }
    s
}

/// Length and emptiness checks, run before dispatch so a bad call does no work.
pub fn checks(k: &Kernel, name: &str, result: bool) -> TokenStream {
    let wrap = |call: TokenStream| {
        if result {
            quote!(#call?;)
        } else {
            quote!(__lf::expect(#call);)
        }
    };
    let mut out = TokenStream::new();
    for c in &k.checks {
        let (l, r) = (&k.params[c.left].ident, &k.params[c.right].ident);
        let (ls, rs) = (l.to_string(), r.to_string());
        out.extend(wrap(quote!(__lf::check_len(#name, #ls, #l.len(), #rs, #r.len()))));
    }
    for red in k.reductions.iter().filter(|r| r.kind.needs_nonempty() && k.range(k.node_class(r.arg)).is_none()) {
        let x = &k.params[k.node_class(red.arg)].ident;
        let text = &red.text;
        out.extend(wrap(quote!(__lf::check_nonempty(#name, #text, #x.len()))));
    }
    out
}
