//! Lowering: the user's function (syn AST) -> kernel IR ([`crate::ir`]).
//!
//! Array values become SSA nodes (never materialized), scalars stay Rust tokens. Every
//! unsupported construct is reported on its own tokens and lowering goes on, so one compile
//! shows every error of the kernel. By topic:
//! - [`signature`]: parameter and return types;
//! - this file: the lowering state, scopes, and the IR-building helpers;
//! - `stmt.rs` / `expr.rs`: statements and expressions;
//! - `classify.rs`: whether an explicit loop vectorizes (decided before it is lowered);
//! - `vector_loop.rs`: loops lowered into the IR; `in_order.rs`: loops kept as plain Rust;
//! - `nest.rs`: rectangular loop nests over N-d arrays, lowered into one N-d pass over windows;
//! - `rows.rs`: per-row loops (`for row in x.outer_iter()`), lowered as axis reductions;
//! - `nd_access.rs`: ndarray's shape queries and `x[[i, j]]` accesses (loops that run in order).

use crate::ctxt::Ctxt;
use crate::ir::build::Builder;
use crate::ir::*;
use crate::names;
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use std::collections::{BTreeSet, HashMap};
use syn::{Expr, Pat, Stmt, Type};

mod classify;
mod expr;
mod in_order;
mod inner_pass;
mod nd_access;
mod nest;
pub(crate) use nest::mentions;
mod prange;
mod row_index;
mod rows;
pub mod signature;
mod slice;
mod stmt;
mod vector_loop;

pub use signature::{parse_ret, RetType, Shape};

#[derive(Clone)]
pub(crate) enum Binding {
    Array(NodeId),
    Scalar(Scalar),
    /// An array input parameter.
    Input(ParamId),
    /// A `&mut` output parameter or a local output.
    Output(ParamId),
    /// `let pos = x[x > 0.0];`: a selection, reduced later.
    Selection {
        arr: NodeId,
        mask: NodeId,
    },
    /// A binding whose value had an error: uses of it report nothing more.
    Poison,
}

#[derive(Clone)]
pub(crate) enum Value {
    Array(NodeId),
    /// A local output (`let mut out = vec![init; n];`): indexed in loops or returned.
    Local(ParamId),
    Scalar(Scalar),
    Tuple(Vec<Value>),
    Ok(Box<Value>),
    /// `x[mask]`: the elements of `x` where `mask` is true, reduced right away
    /// (`x[x > 0.0].mean()`: a masked reduction in the same pass, no temporary).
    Selection {
        arr: NodeId,
        mask: NodeId,
    },
    Error,
}

fn scalar(tokens: TokenStream) -> Value {
    Value::Scalar(Scalar::new(tokens))
}

/// `vec![init; n]` -> `(init, n)`.
fn vec_repeat(e: &Expr) -> Option<(Expr, Expr)> {
    let Expr::Macro(m) = e else { return None };
    if !m.mac.path.is_ident("vec") {
        return None;
    }
    let parse = |input: syn::parse::ParseStream| -> syn::Result<(Expr, Expr)> {
        let init: Expr = input.parse()?;
        input.parse::<syn::Token![;]>()?;
        let n: Expr = input.parse()?;
        Ok((init, n))
    };
    m.mac.parse_body_with(parse).ok()
}

/// `Array1::zeros(n)`, `Array2::from_elem((n, m), v)`, `Array::ones((n, m))`: the call and
/// its rank (from the type's name; for `Array`, from the shape written as a tuple).
fn array_ctor(e: &Expr) -> Option<(&syn::ExprCall, Rank)> {
    let Expr::Call(c) = e else { return None };
    let Expr::Path(p) = &*c.func else { return None };
    let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
    let [.., ty, f] = segs.as_slice() else { return None };
    let args = match f.ident.to_string().as_str() {
        "zeros" | "ones" => 1,
        "from_elem" => 2,
        _ => return None,
    };
    if c.args.len() != args {
        return None;
    }
    let rank = match ty.ident.to_string().as_str() {
        "Array" => match &c.args[0] {
            Expr::Tuple(t) => t.elems.len(),
            _ => 1,
        },
        name => name.strip_prefix("Array")?.parse().ok().filter(|r| (1..=6).contains(r))?,
    };
    Some((c, Rank::Static(rank)))
}

/// `let mut name = vec![init; n];` or an ndarray constructor ([`array_ctor`]), optionally
/// typed, at the top level of a kernel body: a local output and what holds it.
fn local_output(stmt: &Stmt) -> Option<(&syn::Local, syn::Ident, Storage)> {
    let Stmt::Local(l) = stmt else { return None };
    let pat = match &l.pat {
        Pat::Type(pt) => &*pt.pat,
        p => p,
    };
    let Pat::Ident(pi) = pat else { return None };
    pi.mutability?;
    let init = &l.init.as_ref()?.expr;
    let storage = match (vec_repeat(init), array_ctor(init)) {
        (Some(_), _) => Storage::Vec,
        (_, Some((_, Rank::Static(1)))) => Storage::Array1,
        (_, Some((_, r))) => Storage::Nd(r),
        _ => return None,
    };
    Some((l, pi.ident.clone(), storage))
}

/// Compact display of tokens: `(diff * diff).sum()` rather than `(diff * diff) . sum ()`.
pub fn tidy(tokens: &TokenStream) -> String {
    let s = tokens.to_string();
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = if i > 0 { chars[i - 1] } else { ' ' };
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            if matches!(next, '.' | '(' | ')' | ',' | '[' | ']' | ';')
                || matches!(prev, '.' | '(' | '[' | '&' | '!')
                || (prev == '-' && i >= 2 && unary_minus(&chars[..i - 1]))
            {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Whether the `-` ending `before` is unary: it follows `(`, `,` or an operator (the
/// tokens' text puts a space between them), not an operand (`x.len() - 1`).
fn unary_minus(before: &[char]) -> bool {
    let mut it = before.iter().rev().skip(1).skip_while(|c| **c == ' ');
    it.next().is_none_or(|c| "(,=+-*/%<>&|^![".contains(*c))
}

pub struct Lower<'a> {
    ctxt: &'a mut Ctxt,
    b: Builder,
    scopes: Vec<HashMap<String, Binding>>,
    /// The current value of each output written or read by array expressions.
    out_current: HashMap<ParamId, NodeId>,
    /// `let mut out = vec![..]` statements (by address) -> their parameter.
    local_outputs: HashMap<usize, ParamId>,
    /// What a later use of an output waits for: its creation (local outputs) and the loops
    /// that wrote it.
    loop_written: HashMap<ParamId, Deps>,
    name_counts: HashMap<String, usize>,
    hoisted: usize,
    /// The vectorizable loop being lowered, if any.
    in_loop: Option<vector_loop::LoopCtx>,
    /// Outputs written by loops that run in order.
    seq_outputs: BTreeSet<ParamId>,
    /// `#[kernel(strict)]`: loops with accumulators run in order.
    pub strict: bool,
    /// Axis reductions whose buffer is returned as it is.
    returned: BTreeSet<RedId>,
    /// The kernel's name, for the messages of checks in the body.
    kernel_name: String,
    /// A `Result` kernel: checks in the body return `Err` (`?`).
    result_kernel: bool,
    /// Slices of inputs by parameter and bounds (`x[1..]` twice is one view).
    slice_params: HashMap<String, ParamId>,
    /// The branches being lowered: each guard's `let` name (`ir::Guard`) and which branch.
    path: Vec<(syn::Ident, bool)>,
    /// Slices cut on a branch, with the condition of that branch: their checks run there too.
    /// (Its condition, and the cut itself.)
    slice_conds: HashMap<ParamId, (TokenStream, TokenStream)>,
    /// How often each name occurs in the body (an output a nest writes is used only there).
    name_uses: HashMap<String, usize>,
    /// The kernel's type parameters (`T` of `fn f<T: Float>`), by name.
    generics: Vec<String>,
    /// The per-row loop being lowered, if any (`rows.rs`).
    rows: Option<rows::RowCtx>,
    /// Local outputs a per-row loop writes whole (`out[i] = v`), and the values per row.
    row_results: HashMap<ParamId, NodeId>,
}

impl<'a> Lower<'a> {
    pub fn new(func: &syn::ItemFn, generics: &[String], ctxt: &'a mut Ctxt) -> Self {
        let mut params = Arena::default();
        let mut spaces = shape::Spaces::default();
        let mut scope = HashMap::new();
        let mut add = |params: &mut Arena<Param>, ident: syn::Ident, kind: ParamKind| {
            let array = !matches!(kind, ParamKind::Scalar);
            let nd = kind.is_nd();
            let p = params.push(Param { ident, kind, space: None });
            if nd {
                params[p].space = Some(spaces.nd([Leaf::param(p)].into()));
            } else if array {
                params[p].space = Some(spaces.add(Space::Param(p)));
            }
            p
        };
        for input in &func.sig.inputs {
            match input {
                syn::FnArg::Receiver(r) => ctxt.error(r, "a kernel cannot take `self`; write a free function"),
                syn::FnArg::Typed(pt) => {
                    let Pat::Ident(pi) = &*pt.pat else {
                        ctxt.error(&pt.pat, "kernel parameters must be plain names (`x: &[f64]`)");
                        continue;
                    };
                    let Some(kind) = signature::param_kind(&pi.ident, &pt.ty, generics, ctxt) else {
                        // Reported; later uses of the name report nothing more.
                        scope.insert(pi.ident.to_string(), Binding::Poison);
                        add(&mut params, pi.ident.clone(), ParamKind::Scalar);
                        continue;
                    };
                    let is = (matches!(kind, ParamKind::Scalar), matches!(kind, ParamKind::Input { .. }));
                    let p = add(&mut params, pi.ident.clone(), kind);
                    let binding = match is {
                        (true, _) => Binding::Scalar(Scalar::new(pi.ident.to_token_stream())),
                        (_, true) => Binding::Input(p),
                        _ => Binding::Output(p),
                    };
                    scope.insert(pi.ident.to_string(), binding);
                }
            }
        }
        // Local outputs are parameters the body creates, after the real ones.
        let mut local_outputs = HashMap::new();
        for stmt in &func.block.stmts {
            if let Some((l, name, storage)) = local_output(stmt) {
                let p = add(&mut params, name, ParamKind::Local(storage));
                local_outputs.insert(l as *const syn::Local as usize, p);
            }
        }
        // A `let` that shadows a parameter gets a new name: lets are hoisted, and the
        // parameter's earlier uses must keep meaning the parameter.
        let name_counts = params.iter().map(|(_, p)| (p.ident.to_string(), 1)).collect();
        Lower {
            ctxt,
            b: Builder::new(params, spaces),
            scopes: vec![scope],
            out_current: HashMap::new(),
            local_outputs,
            loop_written: HashMap::new(),
            name_counts,
            hoisted: 0,
            in_loop: None,
            seq_outputs: BTreeSet::new(),
            strict: false,
            returned: BTreeSet::new(),
            kernel_name: func.sig.ident.to_string(),
            result_kernel: false,
            slice_params: HashMap::new(),
            path: Vec::new(),
            slice_conds: HashMap::new(),
            name_uses: nest::name_uses(&func.block),
            generics: generics.to_vec(),
            rows: None,
            row_results: HashMap::new(),
        }
    }

    fn k(&self) -> &Kernel {
        &self.b.k
    }

    fn param_name(&self, p: ParamId) -> &syn::Ident {
        &self.b.k.params[p].ident
    }

    /// Lowers the body and the result; returns the kernel IR.
    pub fn lower(mut self, block: &syn::Block, ret: &RetType) -> Kernel {
        self.result_kernel = ret.result;
        let mut tail = None;
        let n = block.stmts.len();
        for (i, stmt) in block.stmts.iter().enumerate() {
            let last = i + 1 == n;
            match stmt {
                Stmt::Expr(e @ (Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_)), None) => self.effect(e),
                Stmt::Expr(e, None) if last => tail = Some((self.expr(e), e.to_token_stream())),
                Stmt::Expr(Expr::Return(r), _) if last => match &r.expr {
                    Some(e) => tail = Some((self.expr(e), e.to_token_stream())),
                    None => tail = Some((Value::Tuple(Vec::new()), r.to_token_stream())),
                },
                _ => self.stmt(stmt),
            }
        }
        let (value, tokens) = tail.unwrap_or_else(|| (Value::Tuple(Vec::new()), block.to_token_stream()));
        self.b.k.result = self.result(value, ret, &tokens).unwrap_or(Ret::Unreachable);
        self.slice_checks();
        for &p in &self.seq_outputs {
            if self.out_current.contains_key(&p) {
                let name = self.param_name(p).clone();
                self.ctxt.error(&name, format!("`{name}` is written by a loop that runs in order and also used by array expressions; use it in one way (the order between the two is not defined)"));
            }
        }
        let mut outs: Vec<_> = self.out_current.iter().map(|(&p, &n)| (p, n)).collect();
        outs.sort();
        for (p, node) in outs {
            if self.k().nodes[node].op == Op::Current(p) {
                continue; // its own value: nothing to write
            }
            let after = self.loop_written.get(&p).cloned().unwrap_or_default();
            self.b.k.sinks.push(Sink { target: SinkTarget::Param(p), node, window: false, after, select: None });
        }
        self.b.k
    }

    fn result(&mut self, value: Value, ret: &RetType, tokens: &TokenStream) -> Option<Ret> {
        if ret.result {
            return match value {
                Value::Ok(inner) => Some(Ret::Ok(Box::new(self.shaped(*inner, &ret.shape, tokens)?))),
                Value::Error => None,
                _ => {
                    self.ctxt.error(tokens, "a kernel returning `Result` must end in `Ok(..)`");
                    None
                }
            };
        }
        self.shaped(value, &ret.shape, tokens)
    }

    fn shaped(&mut self, value: Value, shape: &Shape, tokens: &TokenStream) -> Option<Ret> {
        match (value, shape) {
            (Value::Error, _) | (_, Shape::Poison) => None,
            // Written whole by a per-row loop (`rows.rs`): the values per row are the result.
            (Value::Local(p), shape @ Shape::Array(..)) if self.row_results.contains_key(&p) => {
                let n = self.row_results[&p];
                self.shaped(Value::Array(n), shape, tokens)
            }
            (Value::Local(p), Shape::Array(kind, _)) => Some(Ret::Local(p, *kind)),
            (Value::Tuple(v), Shape::Unit) if v.is_empty() => Some(Ret::Tuple(Vec::new())),
            (Value::Scalar(s), Shape::Scalar) => Some(Ret::Scalar(s)),
            (Value::Array(n), Shape::Array(kind, rank)) => {
                let space = self.k().node_space(n);
                let have = self.k().space_rank(space);
                if let (Rank::Static(have), Rank::Static(want)) = (have, *rank) {
                    if have != want {
                        let msg = format!("this is a {have}-D array, but the signature returns a {want}-D one");
                        self.ctxt.error(tokens, msg);
                        return None;
                    }
                }
                let nd = self.k().leaves(space).is_some();
                if nd && *kind == FreshKind::Vec && have != Rank::Static(1) {
                    self.ctxt.error(tokens, "an N-d value is returned as an ndarray array: write `Array1<T>`, `Array2<T>`, .. or `ArrayD<T>` instead of `Vec<T>`");
                    return None;
                }
                // An axis reduction's buffer is the result itself, when returned once.
                if let Op::Leaf(Leaf { src: LeafSrc::Reduced(r), views }) = &self.k().nodes[n].op {
                    let r = *r;
                    if views.is_empty() && !self.returned.contains(&r) && *kind != FreshKind::Vec {
                        self.returned.insert(r);
                        return Some(Ret::Reduced(r));
                    }
                }
                let k = self.k().fresh.len();
                self.b.k.fresh.push(*kind);
                self.b.k.sinks.push(Sink {
                    target: SinkTarget::Fresh(k),
                    node: n,
                    window: false,
                    after: Deps::new(),
                    select: None,
                });
                Some(Ret::Fresh(k, *kind))
            }
            (Value::Selection { arr, mask }, Shape::Array(kind, Rank::Static(1))) => {
                // Compacted into one allocation of the exact length: a first pass counts the
                // mask (a reduction, vectorized), the writing pass keeps the selected elements
                // in order. No temporary, and no allocation of the input's length.
                let deps: Deps = self.k().nodes[arr].deps.union(&self.k().nodes[mask].deps).copied().collect();
                let text = format!("{} (its length)", tidy(tokens));
                let count = self.b.reduction(Reduction {
                    kind: RedKind::Count,
                    arg: mask,
                    axis: None,
                    ddof: None,
                    mask: None,
                    mean: None,
                    deps,
                    text,
                });
                let k = self.k().fresh.len();
                self.b.k.fresh.push(*kind);
                let after = [Dep::Red(count)].into();
                self.b.k.sinks.push(Sink {
                    target: SinkTarget::Fresh(k),
                    node: arr,
                    window: false,
                    after,
                    select: Some((mask, count)),
                });
                Some(Ret::Fresh(k, *kind))
            }
            (Value::Selection { .. }, _) => {
                self.ctxt.error(tokens, "a selection `x[mask]` is a 1-D array: return it as `Vec<T>` or `Array1<T>`, or reduce it (`x[mask].sum()`)");
                None
            }
            (Value::Tuple(vs), Shape::Tuple(shapes)) if vs.len() == shapes.len() => {
                let parts = vs.into_iter().zip(shapes).map(|(v, s)| self.shaped(v, s, tokens));
                Some(Ret::Tuple(parts.collect::<Option<Vec<_>>>()?))
            }
            (Value::Array(_), Shape::Scalar) => {
                self.ctxt.error(tokens, "this is an array, but the signature returns a scalar: reduce it (`.sum()`, `.mean()`, `.max()`, ...) or return `Vec<_>`");
                None
            }
            (Value::Scalar(_), Shape::Array(..)) => {
                self.ctxt.error(tokens, "this is a scalar, but the signature returns an array (`Vec<_>`/`Array1<_>`)");
                None
            }
            (_, Shape::Unit) => {
                self.ctxt.error(tokens, "the kernel returns `()`, but this is a value; write results to a `&mut` output or add a return type");
                None
            }
            (_, _) => {
                self.ctxt.error(tokens, "this value does not match the kernel's return type");
                None
            }
        }
    }

    // ---- scopes -------------------------------------------------------------------------

    fn lookup(&self, name: &str) -> Option<Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name).cloned())
    }

    fn bind(&mut self, name: String, b: Binding) {
        self.scopes.last_mut().expect("scope").insert(name, b);
    }

    /// Rebinds an existing name in the scope that defines it (`x += 1.0` inside a block
    /// updates the outer `x`).
    fn rebind(&mut self, name: &str, b: Binding) {
        for s in self.scopes.iter_mut().rev() {
            if let Some(slot) = s.get_mut(name) {
                *slot = b;
                return;
            }
        }
    }

    // ---- IR building --------------------------------------------------------------------

    fn input_node(&mut self, p: ParamId, span: Span) -> NodeId {
        let space = self.k().params[p].space.expect("an array parameter");
        self.b.node(Op::Input(p), space, Deps::new(), span)
    }

    fn output_value(&mut self, p: ParamId, span: Span) -> NodeId {
        if let Some(&n) = self.out_current.get(&p) {
            return n;
        }
        // After a loop wrote `p`, its current value is known only once that loop has run.
        let after = self.loop_written.get(&p).cloned().unwrap_or_default();
        let space = self.k().params[p].space.expect("an array parameter");
        let n = self.b.node(Op::Current(p), space, after, span);
        self.out_current.insert(p, n);
        n
    }

    /// Whether array expressions assigned output `p` a new value (`p[..] = e`, `p += e`):
    /// a loop cannot also write it by index. Only reading its elements (`p.sum()`) is fine:
    /// the loop's writes come after those reads.
    fn written_whole(&self, p: ParamId) -> bool {
        self.out_current.get(&p).is_some_and(|&n| self.k().nodes[n].op != Op::Current(p))
    }

    fn is_local(&self, p: ParamId) -> bool {
        matches!(self.k().params[p].kind, ParamKind::Local(_))
    }

    /// `let mut out = vec![init; n];`: the Vec, then the view the passes write. Later uses
    /// of `out` wait for both (they may depend on reductions).
    fn create_local(&mut self, p: ParamId, ident: &syn::Ident, ty: Option<Type>, l: &syn::Local) {
        let ParamKind::Local(storage) = self.k().params[p].kind else { unreachable!("a local output") };
        let init = l.init.as_ref().map(|i| &*i.expr).expect("pre-scanned with a value");
        let made = match storage {
            Storage::Vec => self.local_vec(init),
            _ => self.local_array(init),
        };
        let Some((kind, deps)) = made else {
            self.bind(ident.to_string(), Binding::Poison);
            return;
        };
        let vec = names::local_vec(ident);
        let at = Scalar { tokens: TokenStream::new(), deps: deps.clone() };
        self.b.k.lets.push(ScalarLet { name: vec.clone(), mutable: true, ty, value: at.clone(), kind });
        let view = LetKind::LocalView { vec, storage };
        self.b.k.lets.push(ScalarLet { name: ident.clone(), mutable: false, ty: None, value: at, kind: view });
        self.loop_written.insert(p, deps);
        self.bind(ident.to_string(), Binding::Output(p));
    }

    /// `vec![init; n]`: its storage and what it waits for.
    fn local_vec(&mut self, init: &Expr) -> Option<(LetKind, Deps)> {
        let (value, n) = vec_repeat(init).expect("pre-scanned as vec![init; n]");
        let (Value::Scalar(value), Value::Scalar(n)) = (self.expr(&value), self.expr(&n)) else {
            self.ctxt.error(init, "`vec![init; n]` takes a scalar `init` and length `n`");
            return None;
        };
        let deps: Deps = value.deps.union(&n.deps).copied().collect();
        Some((LetKind::LocalVec { init: value.tokens, len: n.tokens }, deps))
    }

    /// `Array2::zeros((n, m))`, `Array1::from_elem(n, v)`, ..: the constructor as written,
    /// its shape and value lowered as scalars (the element type is ndarray's to infer).
    fn local_array(&mut self, init: &Expr) -> Option<(LetKind, Deps)> {
        let (c, rank) = array_ctor(init).expect("pre-scanned as an ndarray constructor");
        let mut deps = Deps::new();
        let mut args = Vec::new();
        for a in &c.args {
            let parts: Vec<&Expr> = match a {
                Expr::Tuple(t) => t.elems.iter().collect(),
                e => vec![e],
            };
            let mut toks = Vec::new();
            for part in parts {
                match self.expr(part) {
                    Value::Scalar(s) => {
                        deps.extend(s.deps.iter().copied());
                        toks.push(s.tokens);
                    }
                    Value::Error => return None,
                    _ => {
                        self.ctxt.error(part, "a local output's shape and value are scalars (`Array2::zeros((x.nrows(), x.ncols()))`, `Array1::from_elem(n, 0.0)`)");
                        return None;
                    }
                }
            }
            args.push(match a {
                Expr::Tuple(_) => quote::quote!((#(#toks,)*)),
                _ => quote::quote!(#(#toks)*),
            });
        }
        let (f, len) = (&c.func, (rank == Rank::Static(1)).then(|| args[0].clone()));
        Some((LetKind::LocalArray { ctor: quote::quote!(#f(#(#args),*)), len }, deps))
    }

    /// A scalar let with a fresh name based on the user's (`mean`, then `__mean_1`, ...).
    fn new_let(&mut self, name: &syn::Ident, ty: Option<Type>, value: Scalar) -> Scalar {
        let ident = self.fresh_name(name);
        let deps = value.deps.clone();
        self.b.k.lets.push(ScalarLet { name: ident.clone(), mutable: false, ty, value, kind: LetKind::Plain });
        Scalar { tokens: ident.into_token_stream(), deps }
    }

    /// The user's name the first time, then `__name_1`, `__name_2`, ...
    fn fresh_name(&mut self, name: &syn::Ident) -> syn::Ident {
        let count = self.name_counts.entry(name.to_string()).or_insert(0);
        let ident = if *count == 0 { name.clone() } else { names::renamed(name, *count) };
        *count += 1;
        ident
    }

    /// Keeps a literal or a name as it is; binds anything else to a `let` computed once
    /// before the loop.
    fn hoist(&mut self, s: Scalar) -> Scalar {
        let mut it = s.tokens.clone().into_iter();
        let simple = matches!((it.next(), it.next()), (Some(TokenTree::Ident(_) | TokenTree::Literal(_)), None));
        if simple {
            return s;
        }
        let ident = names::hoisted(self.hoisted);
        self.hoisted += 1;
        let deps = s.deps.clone();
        self.b.k.lets.push(ScalarLet { name: ident.clone(), mutable: false, ty: None, value: s, kind: LetKind::Plain });
        Scalar { tokens: ident.into_token_stream(), deps }
    }

    /// Builds an elementwise node if any part is an array; `None` if all are scalars.
    fn elementwise(
        &mut self,
        parts: Vec<Value>,
        at: &dyn ToTokens,
        build: impl FnOnce(Vec<Operand>) -> Op,
    ) -> Option<Value> {
        if parts.iter().any(|p| matches!(p, Value::Error)) {
            return Some(Value::Error);
        }
        if let Some(Value::Local(p)) = parts.iter().find(|p| matches!(p, Value::Local(_))) {
            return Some(self.local_used_whole(*p, at));
        }
        if parts.iter().any(|p| matches!(p, Value::Selection { .. })) {
            self.ctxt.error(at, SELECTION_USE);
            return Some(Value::Error);
        }
        if parts.iter().any(|p| matches!(p, Value::Tuple(_) | Value::Ok(_))) {
            self.ctxt.error(at, "tuples and `Ok(..)` are only supported as the kernel's result");
            return Some(Value::Error);
        }
        let mut parts = parts;
        let per_row = match self.row_operands(&mut parts) {
            Ok(r) => r,
            Err(msg) => {
                self.ctxt.error(at, msg);
                return Some(Value::Error);
            }
        };
        let v = self.elementwise_parts(parts, at, build);
        if let (true, Some(Value::Array(n))) = (per_row, &v) {
            self.rows.as_mut().expect("in a per-row loop").per_row.insert(*n);
        }
        v
    }

    fn elementwise_parts(
        &mut self,
        parts: Vec<Value>,
        at: &dyn ToTokens,
        build: impl FnOnce(Vec<Operand>) -> Op,
    ) -> Option<Value> {
        let arrays: Vec<NodeId> =
            parts.iter().filter_map(|p| if let Value::Array(n) = p { Some(*n) } else { None }).collect();
        let first = *arrays.first()?;
        let mut space = self.k().nodes[first].space;
        let mut deps = Deps::new();
        let nd = arrays.iter().any(|&a| self.k().leaves(self.k().node_space(a)).is_some());
        if nd && arrays.iter().any(|&a| self.k().has_scan(a)) {
            let msg = format!(
                "a scan ({}) is a 1-D array in order: it cannot be broadcast with N-d arrays",
                crate::vocab::scans_hint()
            );
            self.ctxt.error(at, msg);
            return Some(Value::Error);
        }
        if nd {
            let mut leaves = BTreeSet::new();
            for &a in &arrays {
                match self.nd_leaves(self.k().node_space(a)) {
                    Ok(l) => leaves.extend(l),
                    Err(msg) => {
                        self.ctxt.error(at, msg);
                        return Some(Value::Error);
                    }
                }
            }
            space = self.nd_space(leaves);
        }
        for &a in &arrays {
            let s = self.k().nodes[a].space;
            if !nd && !self.b.unify(space, s) {
                // Only inside a loop over an index range, which `classify` keeps in order.
                return Some(self.not_vectorizable(at));
            }
            deps.extend(self.k().nodes[a].deps.iter().copied());
        }
        let mut ops = Vec::new();
        for p in parts {
            ops.push(match p {
                Value::Array(n) => Operand::Array(n),
                Value::Scalar(s) => {
                    deps.extend(s.deps.iter().copied());
                    Operand::Scalar(self.hoist(s))
                }
                _ => unreachable!("filtered above"),
            });
        }
        let span = syn::spanned::Spanned::span(&at.to_token_stream());
        Some(Value::Array(self.b.node(build(ops), space, deps, span)))
    }

    /// A local output used as a whole array: reported.
    fn local_used_whole(&mut self, p: ParamId, at: &dyn ToTokens) -> Value {
        let name = self.param_name(p);
        let (made, elem) = match self.k().params[p].kind {
            ParamKind::Local(Storage::Nd(_)) => ("an ndarray constructor", format!("{name}[[i, j]]")),
            ParamKind::Local(Storage::Array1) => ("an ndarray constructor", format!("{name}[i]")),
            _ => ("`vec![..]`", format!("{name}[i]")),
        };
        let msg = format!("`{name}` is a local output ({made}): write and read it by index in loops (`{elem}`) and return it; for a whole-array value use `let`");
        self.ctxt.error(at, msg);
        Value::Error
    }

    /// The leaves of a value over `s` as an N-d value: an N-d space's own, or the ndarray
    /// parameters of a 1-D one.
    fn nd_leaves(&self, s: SpaceId) -> Result<BTreeSet<Leaf>, String> {
        if let Some(l) = self.k().leaves(s) {
            return Ok(l.clone());
        }
        if self.k().range(s).is_some() {
            return Err("N-d arrays cannot be used in an explicit loop over an index yet; write the loop's work as array expressions".into());
        }
        let mut leaves = BTreeSet::new();
        for p in self.k().spaces.members(s) {
            match self.k().params[p].kind {
                ParamKind::Input { nd: Some(_), .. } => leaves.insert(Leaf::param(p)),
                ParamKind::Output { .. } | ParamKind::Local(_) => {
                    let name = self.k().param_text(p);
                    return Err(format!("`{name}` is a 1-D output, which N-d work (axis reductions, per-row loops) cannot write yet: return the values instead (`-> Array1<T>`)"));
                }
                _ => {
                    let name = self.k().param_text(p);
                    return Err(format!("`{name}` is a slice or `Vec` and cannot be broadcast with N-d arrays: take it as `ArrayView1<T>` (`ndarray::ArrayView1::from(&v[..])` at the call)"));
                }
            };
        }
        Ok(leaves)
    }

    /// The N-d space of a value reading `leaves`. A reduced array read back over arrays it
    /// cannot outrank, reduced from those arrays alone, is derived (`ir::shape`): it fits
    /// their space, checked at run time, and stays out of the key. One reduced from other
    /// arrays is in the key: `w` of shape `[1]` stretches to `x.t().min_axis(Axis(1))` as
    /// NumPy does, where a fit check would refuse it.
    fn nd_space(&mut self, leaves: BTreeSet<Leaf>) -> SpaceId {
        let k = self.k();
        let base: BTreeSet<Leaf> = leaves.iter().filter(|l| matches!(l.src, LeafSrc::Param(_))).cloned().collect();
        let base_params: BTreeSet<ParamId> = base.iter().flat_map(|l| self.source_params(l)).collect();
        let base_rank = base.iter().map(|l| k.leaf_rank(l)).fold(Rank::Static(0), Rank::max);
        let derived = |l: &Leaf| {
            let ranks = match (k.leaf_rank(l), base_rank) {
                (Rank::Static(a), Rank::Static(b)) => a <= b,
                (Rank::Dyn, Rank::Dyn) => true,
                _ => false,
            };
            ranks && self.source_params(l).is_subset(&base_params)
        };
        let key: BTreeSet<Leaf> = if base.is_empty() {
            leaves
        } else {
            leaves.into_iter().filter(|l| matches!(l.src, LeafSrc::Param(_)) || !derived(l)).collect()
        };
        self.b.k.spaces.nd(key)
    }

    /// The parameters a leaf's values come from: itself, or those its reduction read.
    fn source_params(&self, l: &Leaf) -> BTreeSet<ParamId> {
        match l.src {
            LeafSrc::Param(p) => [p].into(),
            LeafSrc::Reduced(r) => {
                let arg = self.k().node_space(self.k().reductions[r].arg);
                self.k().leaves(arg).into_iter().flatten().flat_map(|l| self.source_params(l)).collect()
            }
        }
    }

    /// The mean `var`/`std` (whole, or along `axis`) is computed around: an earlier pass.
    fn mean_for(&mut self, arg: NodeId, axis: Option<usize>, deps: &Deps, text: &str) -> RedId {
        self.b.reduction(Reduction {
            kind: RedKind::Mean,
            arg,
            axis,
            ddof: None,
            mask: None,
            mean: None,
            deps: deps.clone(),
            text: format!("{text} (its mean)"),
        })
    }

    fn reduction(&mut self, kind: RedKind, arg: NodeId, text: String) -> Value {
        self.reduction_ddof(kind, arg, None, text)
    }

    /// A whole reduction; `ddof` of `x.var(ddof)` / `x.std(ddof)`.
    fn reduction_ddof(&mut self, kind: RedKind, arg: NodeId, ddof: Option<Scalar>, text: String) -> Value {
        let mut deps = self.k().nodes[arg].deps.clone();
        if let Some(d) = &ddof {
            deps.extend(d.deps.iter().copied());
        }
        let mean = if matches!(kind, RedKind::Var | RedKind::Std) {
            let m = self.mean_for(arg, None, &deps, &text);
            deps.insert(Dep::Red(m));
            Some(m)
        } else {
            None
        };
        let r = self.b.reduction(Reduction {
            kind,
            arg,
            axis: None,
            ddof,
            mask: None,
            mean,
            deps: deps.clone(),
            text: text.clone(),
        });
        deps.insert(Dep::Red(r));
        let value = names::reduction(r).into_token_stream();
        // `min`/`max`/`argmin`/`argmax` have no value on empty input: checked where the value
        // is used, so one in a branch that is not taken does not fail (N-d: `codegen::nd`).
        let space = self.k().node_space(arg);
        if let (true, Some(p), None) = (kind.needs_nonempty(), self.k().space_param(space), self.k().range(space)) {
            let (x, name) = (self.param_name(p).clone(), &self.kernel_name);
            let call = self.checked(quote::quote!(__lf::nonempty(#name, #text, #x.len(), #value)));
            return Value::Scalar(Scalar { tokens: quote::quote!((#call)), deps });
        }
        Value::Scalar(Scalar { tokens: value, deps })
    }

    /// A construct `classify` should have kept out of a vectorized loop. Never reached by
    /// any test; reported rather than a panic of the macro.
    fn not_vectorizable(&mut self, at: &dyn ToTokens) -> Value {
        self.ctxt.error(
            at,
            "loopfuse internal error: this loop was judged vectorizable but cannot be lowered; please report it (a workaround: compute this value before the loop)",
        );
        Value::Error
    }
}

/// What a boolean selection can be followed by.
pub(crate) const SELECTION_USE: &str = "a selection `x[mask]` is reduced right away in a kernel (`x[mask].sum()`, `x[mask].mean()` or `x[mask].len()`: a masked reduction in the same pass) or returned as it is (`-> Vec<T>`); for an elementwise choice write `if mask { x } else { y }`";

/// `x`, `x[..]` or `*x` as an assignment target -> `x`.
fn target_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        Expr::Index(ix) if is_full_range(&ix.index) => target_name(&ix.expr),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => target_name(&u.expr),
        Expr::Paren(p) => target_name(&p.expr),
        _ => None,
    }
}

fn is_full_range(e: &Expr) -> bool {
    matches!(e, Expr::Range(r) if r.start.is_none() && r.end.is_none())
}

pub(crate) fn compound_base(op: &syn::BinOp) -> Option<syn::BinOp> {
    use syn::BinOp;
    Some(match op {
        BinOp::AddAssign(t) => BinOp::Add(syn::Token![+](t.spans[0])),
        BinOp::SubAssign(t) => BinOp::Sub(syn::Token![-](t.spans[0])),
        BinOp::MulAssign(t) => BinOp::Mul(syn::Token![*](t.spans[0])),
        BinOp::DivAssign(t) => BinOp::Div(syn::Token![/](t.spans[0])),
        BinOp::RemAssign(t) => BinOp::Rem(syn::Token![%](t.spans[0])),
        BinOp::BitAndAssign(t) => BinOp::BitAnd(syn::Token![&](t.spans[0])),
        BinOp::BitOrAssign(t) => BinOp::BitOr(syn::Token![|](t.spans[0])),
        BinOp::BitXorAssign(t) => BinOp::BitXor(syn::Token![^](t.spans[0])),
        _ => return None,
    })
}
