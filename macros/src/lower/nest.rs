//! Rectangular loop nests over N-d arrays (Numba style), lowered into one N-d pass:
//!
//! ```text
//! for i in 1..u.nrows() - 1 {
//!     for j in 1..u.ncols() - 1 {
//!         out[[i, j]] = u[[i - 1, j]] + u[[i + 1, j]] + .. - 4.0 * u[[i, j]];
//!     }
//! }
//! ```
//! Each access `x[[i + a, j + b]]` (loop indices plus constants, or fixed indices such as
//! `pos[[i, 0]]`) is a *window* of `x`: the view over the nest's index space whose element
//! `[i', j']` is `x[[lo_i + i' + a, lo_j + j' + b]]` (`runtime/src/nd/window.rs`). A window is
//! cut once, before the nest runs, with the checked loop's panic condition; the body then
//! becomes elementwise work over windows of one shape: an N-d pass, vectorized along the
//! contiguous axis, in any layout, with no check per element.
//!
//! A nest takes this form when it is perfect (each outer body is the next loop), its bounds
//! do not use its indices (rectangular), its innermost body is what a vectorized loop may
//! hold (`classify`), every write names all the nest's indices once, and each output it
//! writes is used nowhere else in the kernel (the window borrows it). Anything else runs in
//! order (`in_order.rs`), as plain Rust with every access checked.
//!
//! Every access of the body counts, as if it ran: a read under an `if` whose condition is
//! never true at the edge is still checked (the vectorized body computes both branches).

use super::*;
use quote::quote;

/// A perfect rectangular nest, as found in the source.
pub(super) struct Nest<'f> {
    /// The loop indices, outermost first, with their bounds.
    pub loops: Vec<(String, &'f Expr, &'f Expr)>,
    pub body: &'f syn::Block,
}

/// How one axis of an access is indexed (`runtime::nd::Win`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(super) enum Axis {
    /// Loop `k` of the nest plus a constant.
    Loop(usize, isize),
    /// A fixed index: a scalar expression that does not use the nest's indices (equal
    /// accesses are equal expressions, spans aside: syn's `extra-traits`).
    At(Box<Expr>),
}

/// An access `x[[..]]` of the nest: the array and how each of its axes is indexed.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(super) struct Access {
    pub name: String,
    pub axes: Vec<Axis>,
}

/// The windows of the nest being lowered.
pub(super) struct NestCtx {
    pub vars: Vec<String>,
    /// Each distinct access -> its window parameter.
    pub windows: HashMap<Access, ParamId>,
}

/// `for i in lo..hi` -> `(i, lo, hi)`.
pub(super) fn range_loop(f: &syn::ExprForLoop) -> Option<(String, &Expr, &Expr)> {
    let (Pat::Ident(i), Expr::Range(r)) = (&*f.pat, &*f.expr) else { return None };
    let (Some(lo), Some(hi), syn::RangeLimits::HalfOpen(_)) = (&r.start, &r.end, &r.limits) else { return None };
    (f.label.is_none() && i.by_ref.is_none() && i.subpat.is_none()).then(|| (i.ident.to_string(), &**lo, &**hi))
}

/// Whether the tokens of `t` name any of `vars`.
pub(crate) fn mentions(t: &dyn ToTokens, vars: &[String]) -> bool {
    fn walk(ts: TokenStream, vars: &[String]) -> bool {
        ts.into_iter().any(|t| match t {
            TokenTree::Ident(i) => vars.iter().any(|v| i == v),
            TokenTree::Group(g) => walk(g.stream(), vars),
            _ => false,
        })
    }
    walk(t.to_token_stream(), vars)
}

/// The perfect nest of depth 2 or more that `f` starts, if it is one.
pub(super) fn nest_of(f: &syn::ExprForLoop) -> Option<Nest<'_>> {
    let mut loops = vec![range_loop(f)?];
    let mut body = &f.body;
    while let [Stmt::Expr(Expr::ForLoop(inner), _)] = body.stmts.as_slice() {
        loops.push(range_loop(inner)?);
        body = &inner.body;
    }
    let vars: Vec<String> = loops.iter().map(|l| l.0.clone()).collect();
    let distinct = vars.iter().collect::<BTreeSet<_>>().len() == vars.len();
    let rectangular = loops.iter().all(|(_, lo, hi)| !mentions(lo, &vars) && !mentions(hi, &vars));
    (loops.len() >= 2 && distinct && rectangular).then_some(Nest { loops, body })
}

/// `x[[e0, e1, ..]]` with each `e` a nest index plus a constant, or an expression without
/// the nest's indices; each index at most once. `None` for any other index.
pub(super) fn access(ix: &syn::ExprIndex, vars: &[String]) -> Option<Access> {
    let Expr::Path(p) = &*ix.expr else { return None };
    let name = p.path.get_ident()?.to_string();
    let Expr::Array(a) = &*ix.index else { return None };
    let mut axes = Vec::new();
    for e in &a.elems {
        let named: Vec<usize> = (0..vars.len()).filter(|&k| mentions(e, &vars[k..=k])).collect();
        axes.push(match named.as_slice() {
            [] => Axis::At(Box::new(e.clone())),
            &[k] => Axis::Loop(k, super::classify::index_offset(e, &vars[k])?),
            _ => return None,
        });
    }
    let mut used: Vec<usize> =
        axes.iter().filter_map(|w| if let Axis::Loop(k, _) = w { Some(*k) } else { None }).collect();
    let n = used.len();
    used.dedup();
    (used.len() == n).then_some(Access { name, axes })
}

/// Counts the uses of every name in `block` (by token).
pub(super) fn name_uses(block: &syn::Block) -> HashMap<String, usize> {
    fn walk(ts: TokenStream, out: &mut HashMap<String, usize>) {
        for t in ts {
            match t {
                TokenTree::Ident(i) => *out.entry(i.to_string()).or_insert(0) += 1,
                TokenTree::Group(g) => walk(g.stream(), out),
                _ => {}
            }
        }
    }
    let mut out = HashMap::new();
    walk(block.to_token_stream(), &mut out);
    out
}

impl Lower<'_> {
    /// Lowers `f` as a nest if it is one that vectorizes; `false` leaves it to the caller.
    pub(super) fn try_nest(&mut self, f: &syn::ExprForLoop) -> bool {
        let Some(nest) = nest_of(f) else { return false };
        let Some(plan) = self.classify_nest(&nest) else { return false };
        let vars: Vec<String> = nest.loops.iter().map(|l| l.0.clone()).collect();
        // The accesses, in source order: one window each. A nest that reads nothing runs in order.
        let mut accesses = Vec::new();
        collect_accesses(nest.body, &vars, &mut accesses);
        if accesses.is_empty() {
            return false;
        }
        // Bounds are computed before any loop: parameters, lengths, constants.
        let mut ranges = Vec::new();
        for (_, lo, hi) in &nest.loops {
            let (Value::Scalar(lo), Value::Scalar(hi)) = (self.expr(lo), self.expr(hi)) else { return false };
            if !lo.deps.is_empty() || !hi.deps.is_empty() {
                return false;
            }
            // Named once: every window of the nest takes them.
            let (lo, hi) = (self.hoist(lo), self.hoist(hi));
            ranges.push((lo.tokens, hi.tokens));
        }
        let mut windows = HashMap::new();
        let mut leaves = BTreeSet::new();
        for (a, text) in accesses {
            if windows.contains_key(&a) {
                continue;
            }
            let w = self.window(&a, text, &ranges);
            leaves.insert(Leaf::param(w));
            windows.insert(a, w);
        }
        let space = self.b.k.spaces.nd(leaves);
        // The nest's shape is its windows' shape, known in the body once they are cut.
        let first = windows.values().min().copied().expect("a nest reads or writes something");
        let w = self.param_name(first).clone();
        let value = Scalar::new(quote!(#w.shape()));
        let kind = LetKind::Plain;
        self.b.k.lets.push(ScalarLet { name: names::shape(space), mutable: false, ty: None, value, kind });
        self.b.k.nest_spaces.insert(space);
        let ctx = NestCtx { vars, windows };
        self.vector_body(space, None, plan, &nest.body.stmts, Some(ctx), HashMap::new());
        true
    }

    /// The vectorized-loop classification of a nest's innermost body, with the checks that
    /// only nests need (module docs).
    fn classify_nest(&self, nest: &Nest) -> Option<super::classify::VectorLoop> {
        let vars: Vec<String> = nest.loops.iter().map(|l| l.0.clone()).collect();
        let plan = self.classify_body(nest.body, &vars)?;
        // Each output written is used only in this nest.
        let inside = name_uses(nest.body);
        for name in &plan.writes {
            if self.name_uses.get(name) != inside.get(name) {
                return None;
            }
        }
        Some(plan)
    }

    /// The window parameter of access `a` (a new input, or a view of an output), cut in the
    /// body by a checked `let`.
    fn window(&mut self, a: &Access, text: String, ranges: &[(TokenStream, TokenStream)]) -> ParamId {
        let Some(Binding::Input(p) | Binding::Output(p)) = self.lookup(&a.name) else { unreachable!("classified") };
        let (elem, output) = match &self.k().params[p].kind {
            ParamKind::Input { elem, .. } => (elem.clone(), false),
            ParamKind::Output { elem, .. } => (elem.clone(), true),
            _ => unreachable!("classified"),
        };
        let nd = Some(Rank::Static(ranges.len()));
        let kind = if output { ParamKind::Output { elem, nd } } else { ParamKind::Input { elem, nd } };
        let ident = names::slice(self.k().slices.len());
        let q = self.b.k.params.push(Param { ident: ident.clone(), kind, space: None });
        self.b.k.params[q].space = Some(self.b.k.spaces.nd([Leaf::param(q)].into()));
        self.b.k.slices.push((q, text.clone()));
        let mut wins = Vec::new();
        for w in &a.axes {
            wins.push(match w {
                Axis::Loop(k, off) => quote!(__lf::nd::Win::Loop(#k, #off)),
                Axis::At(e) => {
                    // A scalar from before the nest (classified), lowered as any other.
                    let i = match self.expr(e) {
                        Value::Scalar(s) => s.tokens,
                        _ => unreachable!("classified"),
                    };
                    quote!(__lf::nd::Win::At(#i))
                }
            });
        }
        let ranges = ranges.iter().map(|(lo, hi)| quote!((#lo, #hi)));
        let (x, name) = (self.param_name(p).clone(), &self.kernel_name);
        let cut = if output { quote!(window_mut) } else { quote!(window) };
        let value = self.checked(quote!(#x.#cut(#name, #text, &[#(#wins),*], &[#(#ranges),*])));
        self.b.k.lets.push(ScalarLet {
            name: ident,
            mutable: false,
            ty: None,
            value: Scalar::new(value),
            kind: LetKind::Plain,
        });
        if output {
            self.b.k.windowed.insert(p);
        }
        q
    }

    /// `x[[..]]` inside the nest being lowered: its window's element (an output's: the value
    /// written so far in this iteration, or its current one).
    pub(super) fn nest_index(&mut self, ix: &syn::ExprIndex) -> Value {
        let nest = self.in_loop.as_ref().and_then(|c| c.nest.as_ref()).expect("in a nest");
        let a = access(ix, &nest.vars).expect("classified");
        let w = nest.windows[&a];
        if let Some(&n) = self.ctx().written.get(&w) {
            return Value::Array(n);
        }
        // Over the nest's space, as every value of its body: all windows have its shape.
        let space = self.ctx().space;
        let op =
            if matches!(self.k().params[w].kind, ParamKind::Output { .. }) { Op::Current(w) } else { Op::Input(w) };
        Value::Array(self.b.node(op, space, Deps::new(), syn::spanned::Spanned::span(ix)))
    }
}

/// The accesses `x[[..]]` of a nest body, in source order, each with its text.
fn collect_accesses(body: &syn::Block, vars: &[String], out: &mut Vec<(Access, String)>) {
    struct A<'v> {
        vars: &'v [String],
        out: &'v mut Vec<(Access, String)>,
    }
    impl<'ast> syn::visit::Visit<'ast> for A<'_> {
        fn visit_expr_index(&mut self, ix: &'ast syn::ExprIndex) {
            if let Some(a) = access(ix, self.vars) {
                self.out.push((a, tidy(&ix.to_token_stream())));
            }
            syn::visit::visit_expr_index(self, ix);
        }
    }
    syn::visit::Visit::visit_block(&mut A { vars, out }, body);
}
