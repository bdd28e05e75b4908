//! Lowering: the user's function (syn AST) -> kernel IR ([`crate::ir`]).
//!
//! Array values become SSA nodes (never materialized), scalars stay Rust tokens. Every
//! unsupported construct is reported on its own tokens and lowering goes on, so one compile
//! shows every error of the kernel.

use crate::ctxt::Ctxt;
use crate::ir::*;
use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};
use std::collections::HashMap;
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Pat, ReturnType, Stmt, Type};

mod loops;

/// Elementwise methods: Rust std names and meaning, applied to each element.
pub const ELEMENTWISE: &[&str] = &[
    "abs",
    "sqrt",
    "cbrt",
    "exp",
    "exp2",
    "exp_m1",
    "ln",
    "log2",
    "log10",
    "ln_1p",
    "powi",
    "powf",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sinh",
    "cosh",
    "asin",
    "acos",
    "atan",
    "atan2",
    "hypot",
    "floor",
    "ceil",
    "round",
    "trunc",
    "fract",
    "signum",
    "recip",
    "min",
    "max",
    "clamp",
    "mul_add",
    "copysign",
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_sign_negative",
    "is_sign_positive",
    "to_degrees",
    "to_radians",
    "pow",
    "rem_euclid",
    "div_euclid",
    "abs_diff",
    "wrapping_add",
    "wrapping_sub",
    "wrapping_mul",
    "wrapping_neg",
    "saturating_add",
    "saturating_sub",
    "saturating_mul",
];

const REDUCTIONS: &str =
    "`sum`, `prod`, `mean`, `var`, `std`, `min`, `max`, `argmin`, `argmax`, `any`, `all`, `count`, `dot`, `len`";

const PRIMITIVES: &[&str] =
    &["f32", "f64", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "bool"];

const ACCEPTED: &str = "a kernel parameter is a scalar (`f32`, `f64`, `i8`..`i64`, `u8`..`u64`, `isize`, `usize`, `bool`) or an array (`&[T]`, `&Vec<T>`, `&[T; N]`, `ArrayView1<T>`, `&Array1<T>`; outputs `&mut [T]`, `&mut Vec<T>`, `ArrayViewMut1<T>`, `&mut Array1<T>`)";

/// What the signature says the kernel returns.
pub enum Shape {
    /// An unsupported return type, already reported: accepts anything silently.
    Poison,
    Unit,
    Scalar,
    Array(FreshKind),
    Tuple(Vec<Shape>),
}

pub struct Ret {
    pub shape: Shape,
    /// `Result<_, KernelError>`: the body ends in `Ok(..)`.
    pub result: bool,
}

#[derive(Clone)]
pub(crate) enum Binding {
    Array(NodeId),
    Scalar(Scalar),
    /// An array input parameter.
    Input(usize),
    /// A `&mut` output parameter.
    Output(usize),
    /// A binding whose value had an error: uses of it report nothing more.
    Poison,
}

pub(crate) enum Value {
    Array(NodeId),
    /// A local output (`let mut out = vec![init; n];`): indexed in loops or returned.
    Local(usize),
    Scalar(Scalar),
    Tuple(Vec<Value>),
    Ok(Box<Value>),
    Error,
}

fn scalar(tokens: TokenStream) -> Value {
    Value::Scalar(Scalar { tokens, deps: Deps::new() })
}

/// A `&`/`&mut` type's referent, or the type itself.
fn strip_ref(ty: &Type) -> (&Type, Option<bool>) {
    match ty {
        Type::Reference(r) => (&r.elem, Some(r.mutability.is_some())),
        Type::Paren(p) => strip_ref(&p.elem),
        Type::Group(g) => strip_ref(&g.elem),
        _ => (ty, None),
    }
}

/// The element type of `[T]`, `[T; N]`, `Vec<T>`, `Array1<T>`, `ArrayView1<T>`, `ArrayViewMut1<T>`.
fn elem_of(ty: &Type, wrappers: &[&str]) -> Option<Type> {
    match ty {
        Type::Slice(s) => Some((*s.elem).clone()),
        Type::Array(a) => Some((*a.elem).clone()),
        Type::Path(p) if p.qself.is_none() => {
            let seg = p.path.segments.last()?;
            if !wrappers.contains(&seg.ident.to_string().as_str()) {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
                return None;
            };
            let mut types = args.args.iter().filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            });
            let t = types.next()?;
            types.next().is_none().then_some(t)
        }
        _ => None,
    }
}

fn is_scalar_type(ty: &Type, generics: &[String]) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            let seg = &p.path.segments[0];
            let name = seg.ident.to_string();
            seg.arguments.is_empty() && (PRIMITIVES.contains(&name.as_str()) || generics.contains(&name))
        }
        Type::Paren(p) => is_scalar_type(&p.elem, generics),
        Type::Group(g) => is_scalar_type(&g.elem, generics),
        _ => false,
    }
}

/// The kind of a parameter, from its type as written; `None` after reporting an error.
fn param_kind(name: &syn::Ident, ty: &Type, generics: &[String], ctxt: &mut Ctxt) -> Option<ParamKind> {
    if is_scalar_type(ty, generics) {
        return Some(ParamKind::Scalar);
    }
    let (inner, reference) = strip_ref(ty);
    let kind = match reference {
        Some(true) => elem_of(inner, &["Vec", "Array1"]).map(|elem| ParamKind::Output { elem }),
        Some(false) => elem_of(inner, &["Vec", "Array1", "ArrayView1"]).map(|elem| ParamKind::Input { elem }),
        None => elem_of(inner, &["ArrayViewMut1"])
            .map(|elem| ParamKind::Output { elem })
            .or_else(|| elem_of(inner, &["ArrayView1"]).map(|elem| ParamKind::Input { elem })),
    };
    if kind.is_none() {
        let shown = ty
            .to_token_stream()
            .to_string()
            .replace(" < ", "<")
            .replace(" <", "<")
            .replace("< ", "<")
            .replace(" >", ">")
            .replace("& ", "&");
        ctxt.error(ty, format!("parameter `{name}`: `{shown}` is not a loopfuse scalar or array; {ACCEPTED}"));
    }
    kind
}

pub fn parse_ret(ret: &ReturnType, generics: &[String], ctxt: &mut Ctxt) -> Ret {
    let ty = match ret {
        ReturnType::Default => return Ret { shape: Shape::Unit, result: false },
        ReturnType::Type(_, ty) => ty,
    };
    if let Type::Path(p) = &**ty {
        if let Some(seg) = p.path.segments.last() {
            if seg.ident == "Result" {
                if let syn::PathArguments::AngleBracketed(a) = &seg.arguments {
                    if let Some(syn::GenericArgument::Type(t)) = a.args.first() {
                        return Ret { shape: shape_of(t, generics, ctxt), result: true };
                    }
                }
            }
        }
    }
    Ret { shape: shape_of(ty, generics, ctxt), result: false }
}

fn shape_of(ty: &Type, generics: &[String], ctxt: &mut Ctxt) -> Shape {
    match ty {
        Type::Tuple(t) if t.elems.is_empty() => Shape::Unit,
        Type::Tuple(t) => Shape::Tuple(t.elems.iter().map(|e| shape_of(e, generics, ctxt)).collect()),
        Type::Paren(p) => shape_of(&p.elem, generics, ctxt),
        Type::Group(g) => shape_of(&g.elem, generics, ctxt),
        _ if is_scalar_type(ty, generics) => Shape::Scalar,
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last().expect("a path has a segment");
            match last.ident.to_string().as_str() {
                "Vec" => Shape::Array(FreshKind::Vec),
                "Array1" => Shape::Array(FreshKind::Array1),
                // A type alias of a scalar (`type Real = f64`).
                _ if p.path.segments.len() == 1 && last.arguments.is_empty() => Shape::Scalar,
                _ => unsupported_return(ty, ctxt),
            }
        }
        _ => unsupported_return(ty, ctxt),
    }
}

fn unsupported_return(ty: &Type, ctxt: &mut Ctxt) -> Shape {
    ctxt.error(ty, "unsupported return type; a kernel returns a scalar, `Vec<T>`, `Array1<T>`, a tuple of these, `()`, or `Result<_, KernelError>` of these");
    Shape::Poison
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

/// `let mut name = vec![init; n];` (optionally typed) at the top level of a kernel body.
fn local_output(stmt: &Stmt) -> Option<(&syn::Local, syn::Ident)> {
    let Stmt::Local(l) = stmt else { return None };
    let pat = match &l.pat {
        Pat::Type(pt) => &*pt.pat,
        p => p,
    };
    let Pat::Ident(pi) = pat else { return None };
    pi.mutability?;
    vec_repeat(&l.init.as_ref()?.expr)?;
    Some((l, pi.ident.clone()))
}

/// A node's structure as text, operands by id: equal keys compute equal values.
fn op_key(op: &Op) -> String {
    let o = |x: &Operand| match x {
        Operand::Array(n) => format!("#{n}"),
        Operand::Scalar(s) => s.tokens.to_string(),
    };
    let list = |xs: &[Operand]| xs.iter().map(o).collect::<Vec<_>>().join(",");
    match op {
        Op::Input(p) => format!("in {p}"),
        Op::Current(p) => format!("cur {p}"),
        Op::Splat(s) => format!("splat {}", s.tokens),
        Op::Unary(u, a) => format!("un {} {}", u.to_token_stream(), o(a)),
        Op::Binary(b, x, y) => format!("bin {} {} {}", b.to_token_stream(), o(x), o(y)),
        Op::Cast(a, t) => format!("cast {} {}", o(a), t.to_token_stream()),
        Op::Method(m, r, args) => format!("call {m} {} ({})", o(r), list(args)),
        Op::Call(f, args) => format!("fn {} ({})", f.to_token_stream(), list(args)),
        Op::Select(c, a, b) => format!("sel {} {} {}", o(c), o(a), o(b)),
        Op::Index => "index".to_string(),
        Op::Shifted(p, k) => format!("shift {p} {k}"),
    }
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
                || (prev == '-' && i >= 2 && matches!(chars[i - 2], '(' | ' ' | ','))
            {
                continue;
            }
        }
        out.push(c);
    }
    out
}

pub struct Lower<'a> {
    ctxt: &'a mut Ctxt,
    k: Kernel,
    scopes: Vec<HashMap<String, Binding>>,
    out_current: HashMap<usize, NodeId>,
    /// Nodes by structure: the same elementwise expression written twice is one node, so a
    /// reduction written twice (`x.sum() + x.sum()`) is computed once.
    node_keys: HashMap<String, NodeId>,
    /// `let mut out = vec![..]` statements (by address) -> their parameter.
    local_outputs: HashMap<usize, usize>,
    /// Outputs written by vectorized loops, with the barrier each later use waits for.
    loop_written: HashMap<usize, Deps>,
    name_counts: HashMap<String, usize>,
    hoisted: usize,
    /// The vectorizable loop being lowered, if any.
    in_loop: Option<loops::LoopCtx>,
    in_loop_depth: usize,
    /// Set when a construct makes the current loop sequential.
    bail: bool,
    /// Outputs written by loops that run in order.
    seq_outputs: std::collections::BTreeSet<usize>,
}

impl<'a> Lower<'a> {
    pub fn new(func: &syn::ItemFn, generics: &[String], ctxt: &'a mut Ctxt) -> Self {
        let mut params = Vec::new();
        let mut scope = HashMap::new();
        for input in &func.sig.inputs {
            match input {
                syn::FnArg::Receiver(r) => ctxt.error(r, "a kernel cannot take `self`; write a free function"),
                syn::FnArg::Typed(pt) => {
                    let Pat::Ident(pi) = &*pt.pat else {
                        ctxt.error(&pt.pat, "kernel parameters must be plain names (`x: &[f64]`)");
                        continue;
                    };
                    let index = params.len();
                    let Some(kind) = param_kind(&pi.ident, &pt.ty, generics, ctxt) else {
                        // Reported; later uses of the name report nothing more.
                        scope.insert(pi.ident.to_string(), Binding::Poison);
                        params.push(Param { ident: pi.ident.clone(), kind: ParamKind::Scalar });
                        continue;
                    };
                    let binding = match kind {
                        ParamKind::Scalar => {
                            Binding::Scalar(Scalar { tokens: pi.ident.to_token_stream(), deps: Deps::new() })
                        }
                        ParamKind::Input { .. } => Binding::Input(index),
                        ParamKind::Output { .. } => Binding::Output(index),
                        ParamKind::Local => Binding::Poison,
                    };
                    scope.insert(pi.ident.to_string(), binding);
                    params.push(Param { ident: pi.ident.clone(), kind });
                }
            }
        }
        // Local outputs are parameters the body creates: declared here, after the real ones,
        // so that a parameter's index is its length class.
        let mut local_outputs = HashMap::new();
        for stmt in &func.block.stmts {
            if let Some((l, name)) = local_output(stmt) {
                local_outputs.insert(l as *const syn::Local as usize, params.len());
                params.push(Param { ident: name, kind: ParamKind::Local });
            }
        }
        let params_names: Vec<String> = params.iter().map(|p: &Param| p.ident.to_string()).collect();
        let n = params.len();
        Lower {
            ctxt,
            k: Kernel {
                params,
                nodes: Vec::new(),
                reductions: Vec::new(),
                lets: Vec::new(),
                sinks: Vec::new(),
                fresh: Vec::new(),
                checks: Vec::new(),
                class_parent: (0..n).collect(),
                ranges: Vec::new(),
                result: Scalar { tokens: quote!(()), deps: Deps::new() },
            },

            scopes: vec![scope],
            out_current: HashMap::new(),
            node_keys: HashMap::new(),
            local_outputs,
            loop_written: HashMap::new(),
            // A `let` that shadows a parameter gets a new name: lets are hoisted, and the
            // parameter's earlier uses must keep meaning the parameter.
            name_counts: params_names.into_iter().map(|n| (n, 1)).collect(),
            hoisted: 0,
            in_loop: None,
            in_loop_depth: 0,
            bail: false,
            seq_outputs: Default::default(),
        }
    }

    /// Lowers the body and the result; returns the kernel IR.
    pub fn lower(mut self, block: &syn::Block, ret: &Ret) -> Kernel {
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
        let result = self.result(value, ret, &tokens);
        self.k.result = result.unwrap_or(Scalar { tokens: quote!(::core::unreachable!()), deps: Deps::new() });
        for &p in &self.seq_outputs {
            if self.out_current.contains_key(&p) {
                let name = &self.k.params[p].ident;
                self.ctxt.error(name, format!("`{name}` is written by a loop that runs in order and also used by array expressions; use it in one way (the order between the two is not defined)"));
            }
        }
        let mut outs: Vec<_> = self.out_current.iter().map(|(&p, &n)| (p, n)).collect();
        outs.sort();
        for (p, node) in outs {
            if matches!(self.k.nodes[node].op, Op::Current(_)) {
                continue; // read, never written: nothing to write back
            }
            let after = self.loop_written.get(&p).cloned().unwrap_or_default();
            self.k.sinks.push(Sink { target: SinkTarget::Param(p), node, window: false, after });
        }
        self.k
    }

    fn result(&mut self, value: Value, ret: &Ret, tokens: &TokenStream) -> Option<Scalar> {
        if ret.result {
            return match value {
                Value::Ok(inner) => {
                    let s = self.shaped(*inner, &ret.shape, tokens)?;
                    let t = s.tokens;
                    Some(Scalar { tokens: quote!(::core::result::Result::Ok(#t)), deps: s.deps })
                }
                Value::Error => None,
                _ => {
                    self.ctxt.error(tokens, "a kernel returning `Result` must end in `Ok(..)`");
                    None
                }
            };
        }
        self.shaped(value, &ret.shape, tokens)
    }

    fn shaped(&mut self, value: Value, shape: &Shape, tokens: &TokenStream) -> Option<Scalar> {
        match (value, shape) {
            (Value::Error, _) | (_, Shape::Poison) => None,
            (Value::Local(p), Shape::Array(kind)) => {
                let v = format_ident!("__v_{}", self.k.params[p].ident);
                let tokens = match kind {
                    FreshKind::Vec => quote!(#v),
                    FreshKind::Array1 => quote!(__lf::array1(#v)),
                };
                let deps = self.loop_written.get(&p).cloned().unwrap_or_default();
                Some(Scalar { tokens, deps })
            }
            (Value::Tuple(v), Shape::Unit) if v.is_empty() => Some(Scalar { tokens: quote!(()), deps: Deps::new() }),
            (Value::Scalar(s), Shape::Scalar) => Some(s),
            (Value::Array(n), Shape::Array(kind)) => {
                let k = self.k.fresh.len();
                self.k.fresh.push(*kind);
                self.k.sinks.push(Sink { target: SinkTarget::Fresh(k), node: n, window: false, after: Deps::new() });
                let o = format_ident!("__o{}", k);
                let tokens = match kind {
                    FreshKind::Vec => quote!(#o.into_vec()),
                    FreshKind::Array1 => quote!(#o.into_array1()),
                };
                Some(Scalar { tokens, deps: self.k.nodes[n].deps.clone() })
            }
            (Value::Tuple(vs), Shape::Tuple(shapes)) if vs.len() == shapes.len() => {
                let mut parts = Vec::new();
                let mut deps = Deps::new();
                for (v, s) in vs.into_iter().zip(shapes) {
                    let p = self.shaped(v, s, tokens)?;
                    deps.extend(p.deps);
                    parts.push(p.tokens);
                }
                Some(Scalar { tokens: quote!((#(#parts,)*)), deps })
            }
            (Value::Array(_), Shape::Scalar) => {
                self.ctxt.error(tokens, "this is an array, but the signature returns a scalar: reduce it (`.sum()`, `.mean()`, `.max()`, ...) or return `Vec<_>`");
                None
            }
            (Value::Scalar(_), Shape::Array(_)) => {
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

    fn find(&self, c: Class) -> Class {
        self.k.class_of(c)
    }

    fn unify(&mut self, a: Class, b: Class) {
        let (ra, rb) = (self.find(a), self.find(b));
        let params = self.k.params.len();
        if ra != rb && (ra >= params || rb >= params) {
            // A loop index range never unifies with an array length: inside `for i in lo..hi`,
            // arrays are read by index (`x[i]`); such a loop runs in order instead.
            self.bail = true;
            return;
        }
        if ra != rb {
            let (root, child) = (ra.min(rb), ra.max(rb));
            self.k.class_parent[child] = root;
            self.k.checks.push(LenCheck { left: root, right: child });
        }
    }

    fn add_node(&mut self, op: Op, class: Class, deps: Deps) -> NodeId {
        let key = format!("{class} {deps:?} {}", op_key(&op));
        if let Some(&n) = self.node_keys.get(&key) {
            return n;
        }
        self.k.nodes.push(Node { op, class, deps });
        let n = self.k.nodes.len() - 1;
        self.node_keys.insert(key, n);
        n
    }

    /// A reduction, or the same one computed already.
    fn add_reduction(&mut self, r: Reduction) -> RedId {
        let same = |o: &Reduction| o.kind == r.kind && o.arg == r.arg && o.mask == r.mask && o.mean == r.mean;
        if let Some(i) = self.k.reductions.iter().position(same) {
            return i;
        }
        self.k.reductions.push(r);
        self.k.reductions.len() - 1
    }

    fn input_node(&mut self, p: usize) -> NodeId {
        // One node per input: `add_node` hash-conses it.
        self.add_node(Op::Input(p), p, Deps::new())
    }

    fn output_value(&mut self, p: usize) -> NodeId {
        if let Some(&n) = self.out_current.get(&p) {
            return n;
        }
        // After a loop wrote `p`, its current value is known only once that loop has run.
        let after = self.loop_written.get(&p).cloned().unwrap_or_default();
        let n = self.add_node(Op::Current(p), p, after);
        self.out_current.insert(p, n);
        n
    }

    fn is_local(&self, p: usize) -> bool {
        matches!(self.k.params[p].kind, ParamKind::Local)
    }

    /// `let mut out = vec![init; n];`: the Vec, then its cells for the passes. Later uses of
    /// `out` wait for both (they may depend on reductions).
    fn create_local(&mut self, p: usize, ident: &syn::Ident, ty: Option<Type>, l: &syn::Local) {
        let init = l.init.as_ref().map(|i| &*i.expr);
        let (value, n) = init.and_then(vec_repeat).expect("pre-scanned as vec![init; n]");
        let (Value::Scalar(value), Value::Scalar(n)) = (self.expr(&value), self.expr(&n)) else {
            self.ctxt.error(l, "`vec![init; n]` takes a scalar `init` and length `n`");
            self.bind(ident.to_string(), Binding::Poison);
            return;
        };
        let deps: Deps = value.deps.union(&n.deps).copied().collect();
        let v = format_ident!("__v_{}", ident);
        let (tv, tn) = (value.tokens, n.tokens);
        let vec = Scalar { tokens: quote!(::std::vec![#tv; #tn]), deps: deps.clone() };
        self.k.lets.push(ScalarLet { name: v.clone(), mutable: true, ty, value: vec });
        let cells = Scalar { tokens: quote!(__lf::cells(&mut #v)), deps: deps.clone() };
        self.k.lets.push(ScalarLet { name: ident.clone(), mutable: false, ty: None, value: cells });
        self.loop_written.insert(p, deps);
        self.bind(ident.to_string(), Binding::Output(p));
    }

    /// A scalar let with a fresh name based on the user's (`mean`, then `__mean1`, ...).
    fn new_let(&mut self, name: &syn::Ident, ty: Option<Type>, value: Scalar) -> Scalar {
        let count = self.name_counts.entry(name.to_string()).or_insert(0);
        let ident = if *count == 0 { name.clone() } else { format_ident!("__{}_{}", name, *count) };
        *count += 1;
        let deps = value.deps.clone();
        self.k.lets.push(ScalarLet { name: ident.clone(), mutable: false, ty, value });
        Scalar { tokens: ident.into_token_stream(), deps }
    }

    /// Keeps a literal or a name as it is; binds anything else to a `let` computed once
    /// before the loop.
    fn hoist(&mut self, s: Scalar) -> Scalar {
        let mut it = s.tokens.clone().into_iter();
        let simple = matches!((it.next(), it.next()), (Some(TokenTree::Ident(_) | TokenTree::Literal(_)), None));
        if simple {
            return s;
        }
        let ident = format_ident!("__c{}", self.hoisted);
        self.hoisted += 1;
        let deps = s.deps.clone();
        self.k.lets.push(ScalarLet { name: ident.clone(), mutable: false, ty: None, value: s });
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
            let name = &self.k.params[*p].ident;
            self.ctxt.error(at, format!("`{name}` is a local output (`vec![..]`): write and read it by index in loops (`{name}[i]`) and return it; for a whole-array value use `let`"));
            return Some(Value::Error);
        }
        if parts.iter().any(|p| matches!(p, Value::Tuple(_) | Value::Ok(_))) {
            self.ctxt.error(at, "tuples and `Ok(..)` are only supported as the kernel's result");
            return Some(Value::Error);
        }
        let arrays: Vec<NodeId> =
            parts.iter().filter_map(|p| if let Value::Array(n) = p { Some(*n) } else { None }).collect();
        let first = *arrays.first()?;
        let class = self.k.nodes[first].class;
        let mut deps = Deps::new();
        for &a in &arrays {
            let c = self.k.nodes[a].class;
            self.unify(class, c);
            deps.extend(self.k.nodes[a].deps.iter().copied());
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
        Some(Value::Array(self.add_node(build(ops), class, deps)))
    }

    fn reduction(&mut self, kind: RedKind, arg: NodeId, text: String) -> Value {
        let mut deps = self.k.nodes[arg].deps.clone();
        let mean = if matches!(kind, RedKind::Var | RedKind::Std) {
            let m = self.add_reduction(Reduction {
                kind: RedKind::Mean,
                arg,
                mask: None,
                mean: None,
                deps: deps.clone(),
                text: format!("{text} (its mean)"),
            });
            deps.insert(m);
            Some(m)
        } else {
            None
        };
        let r = self.add_reduction(Reduction { kind, arg, mask: None, mean, deps: deps.clone(), text });
        deps.insert(r);
        let ident = format_ident!("__r{}", r);
        Value::Scalar(Scalar { tokens: ident.into_token_stream(), deps })
    }

    // ---- statements ---------------------------------------------------------------------

    fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Local(l) => self.local(l),
            Stmt::Expr(e, Some(_)) => self.effect(e),
            Stmt::Expr(e, None) => {
                if !matches!(e, Expr::If(_) | Expr::Block(_) | Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_)) {
                    self.ctxt.error(e, "only the last expression of the kernel can be its result");
                } else {
                    self.effect(e);
                }
            }
            Stmt::Item(i) => {
                self.ctxt.error(i, "items inside a kernel are not supported; define them next to the kernel")
            }
            Stmt::Macro(m) => self.ctxt.error(m, "macros are not supported inside a kernel; compute with expressions, and print or assert outside the kernel"),
        }
    }

    fn local(&mut self, l: &syn::Local) {
        let (ident, ty) = match &l.pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => (pi.ident.clone(), None),
            Pat::Type(pt) => match &*pt.pat {
                Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                    (pi.ident.clone(), Some((*pt.ty).clone()))
                }
                other => {
                    self.ctxt.error(other, "only `let name = ...` bindings are supported in a kernel");
                    return;
                }
            },
            other => {
                self.ctxt.error(other, "only `let name = ...` bindings are supported in a kernel");
                return;
            }
        };
        let name = ident.to_string();
        if let Some(&p) = self.local_outputs.get(&(l as *const syn::Local as usize)) {
            self.create_local(p, &ident, ty, l);
            return;
        }
        let Some(init) = &l.init else {
            self.ctxt.error(l, "a `let` without a value is not supported in a kernel");
            self.bind(name, Binding::Poison);
            return;
        };
        if let Some((_, diverge)) = &init.diverge {
            self.ctxt.error(diverge, "`let ... else` is not supported in a kernel");
        }
        let binding = match self.expr(&init.expr) {
            Value::Array(n) => Binding::Array(n),
            Value::Scalar(s) => Binding::Scalar(self.new_let(&ident, ty, s)),
            Value::Error => Binding::Poison,
            // `let b = out;` of a local output: another name for it.
            Value::Local(p) => Binding::Output(p),
            Value::Tuple(_) | Value::Ok(_) => {
                self.ctxt.error(&init.expr, "tuples and `Ok(..)` are only supported as the kernel's result");
                Binding::Poison
            }
        };
        self.bind(name, binding);
    }

    /// A statement for its effect: compound assignment, assignment, output writes.
    fn effect(&mut self, e: &Expr) {
        match e {
            Expr::Binary(b) if compound_base(&b.op).is_some() => {
                let op = compound_base(&b.op).expect("checked");
                let Some(name) = target_name(&b.left) else {
                    self.ctxt
                        .error(&b.left, "compound assignment needs a local name or an output (`y += x`, `y[..] += x`)");
                    return;
                };
                let rhs = self.expr(&b.right);
                let current = match self.lookup(&name) {
                    Some(Binding::Array(n)) => Value::Array(n),
                    Some(Binding::Scalar(s)) => Value::Scalar(s),
                    Some(Binding::Output(p)) if self.is_local(p) => Value::Local(p),
                    Some(Binding::Output(p)) => Value::Array(self.output_value(p)),
                    Some(Binding::Input(_)) => {
                        self.ctxt.error(
                            &b.left,
                            format!(
                                "`{name}` is an input; only `&mut` outputs and local `let mut` bindings can be updated"
                            ),
                        );
                        return;
                    }
                    Some(Binding::Poison) => return,
                    None => {
                        self.ctxt
                            .error(&b.left, format!("`{name}` is not a local binding or an output of this kernel"));
                        return;
                    }
                };
                let binding = self.lookup(&name);
                let value = self.binary_values(current, op, rhs, e);
                match (binding, value) {
                    (Some(Binding::Output(p)), Value::Array(n)) => {
                        self.out_current.insert(p, n);
                    }
                    (_, Value::Array(n)) => self.rebind(&name, Binding::Array(n)),
                    (_, Value::Scalar(s)) => {
                        let ident = syn::Ident::new(&name, b.left.span());
                        let s = self.new_let(&ident, None, s);
                        self.rebind(&name, Binding::Scalar(s));
                    }
                    _ => self.rebind(&name, Binding::Poison),
                }
            }
            Expr::Assign(a) => self.assign(a),
            Expr::If(_) | Expr::Block(_) => {
                self.ctxt.error(
                    e,
                    "an `if` or block used as a statement has no effect in a kernel; bind its value with `let`",
                );
            }
            Expr::Return(r) => self.ctxt.error(r, "`return` is only supported as the last statement of a kernel"),
            Expr::ForLoop(f) if self.in_loop.is_none() => self.for_loop(f),
            Expr::While(w) if self.in_loop.is_none() => self.sequential_loop(e, None, &w.body),
            Expr::ForLoop(_) | Expr::While(_) if self.in_loop.is_some() => {
                self.sequential();
            }
            Expr::Loop(l) => self.ctxt.error(l.loop_token, "`loop` is not supported in a kernel; use `for` or `while`"),
            _ => {
                self.ctxt.error(e, "this statement has no effect in a kernel; bind it with `let`, return it, or write it to an output (`out[..] = ...`)");
            }
        }
    }

    fn assign(&mut self, a: &syn::ExprAssign) {
        match &*a.left {
            Expr::Index(ix) if is_full_range(&ix.index) => {
                let name = target_name(&ix.expr);
                let binding = name.as_deref().and_then(|n| self.lookup(n));
                if let Some(Binding::Poison) = binding {
                    return;
                }
                let Some(Binding::Output(p)) = binding else {
                    let name = name.unwrap_or_default();
                    self.ctxt.error(
                        &ix.expr,
                        format!("`{name}[..] = ...` fills a `&mut` output parameter, and `{name}` is not one"),
                    );
                    return;
                };
                match self.expr(&a.right) {
                    Value::Array(n) => {
                        let c = self.k.nodes[n].class;
                        self.unify(p, c);
                        self.out_current.insert(p, n);
                    }
                    Value::Scalar(s) => {
                        let deps = s.deps.clone();
                        let s = self.hoist(s);
                        let n = self.add_node(Op::Splat(s), p, deps);
                        self.out_current.insert(p, n);
                    }
                    Value::Error => {}
                    _ => self.ctxt.error(&a.right, "tuples and `Ok(..)` are only supported as the kernel's result"),
                }
            }
            Expr::Path(_) => {
                let name = target_name(&a.left).unwrap_or_default();
                let value = self.expr(&a.right);
                match (self.lookup(&name), value) {
                    (_, Value::Error) => {}
                    (Some(Binding::Output(_)), _) => {
                        self.ctxt.error(&a.left, format!("write `{name}[..] = ...` to fill an output"))
                    }
                    (Some(Binding::Input(_)), _) => self.ctxt.error(
                        &a.left,
                        format!("`{name}` is an input; only `&mut` outputs and local bindings can be assigned"),
                    ),
                    (Some(Binding::Array(_) | Binding::Scalar(_) | Binding::Poison), Value::Array(n)) => {
                        self.rebind(&name, Binding::Array(n))
                    }
                    (Some(Binding::Array(_) | Binding::Scalar(_) | Binding::Poison), Value::Scalar(s)) => {
                        let ident = syn::Ident::new(&name, a.left.span());
                        let s = self.new_let(&ident, None, s);
                        self.rebind(&name, Binding::Scalar(s));
                    }
                    (None, _) => self.ctxt.error(&a.left, format!("`{name}` is not a local binding of this kernel")),
                    (_, _) => {
                        self.ctxt.error(&a.right, "tuples and `Ok(..)` are only supported as the kernel's result")
                    }
                }
            }
            other => self
                .ctxt
                .error(other, "unsupported assignment target; assign a local name or a whole output (`out[..] = ...`)"),
        }
    }

    // ---- expressions --------------------------------------------------------------------

    fn expr(&mut self, e: &Expr) -> Value {
        match e {
            Expr::Lit(_) => scalar(e.to_token_stream()),
            Expr::Path(p) => self.path(p),
            Expr::Paren(p) => match self.expr(&p.expr) {
                Value::Scalar(s) => {
                    let t = s.tokens;
                    Value::Scalar(Scalar { tokens: quote!((#t)), deps: s.deps })
                }
                v => v,
            },
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Reference(r) if r.mutability.is_none() => match self.expr(&r.expr) {
                Value::Scalar(s) => {
                    let t = s.tokens;
                    Value::Scalar(Scalar { tokens: quote!(&#t), deps: s.deps })
                }
                v => v,
            },
            Expr::Unary(u) => self.unary(u),
            Expr::Binary(b) => {
                if compound_base(&b.op).is_some() {
                    self.ctxt.error(e, "compound assignment is a statement; end it with `;`");
                    return Value::Error;
                }
                let l = self.expr(&b.left);
                let r = self.expr(&b.right);
                self.binary_values(l, b.op, r, e)
            }
            Expr::Cast(c) => {
                let v = self.expr(&c.expr);
                let ty = c.ty.clone();
                if let Some(v) = self.elementwise(vec![self_clone(&v)], e, |ops| Op::Cast(ops.into_iter().next().expect("one"), ty.clone())) {
                    return v;
                }
                match v {
                    Value::Scalar(s) => {
                        let t = s.tokens;
                        Value::Scalar(Scalar { tokens: quote!(#t as #ty), deps: s.deps })
                    }
                    other => other,
                }
            }
            Expr::MethodCall(m) => self.method(m),
            Expr::Call(c) => self.call(c),
            Expr::If(i) => self.if_expr(i),
            Expr::Block(b) if b.label.is_none() => self.block_value(&b.block),
            Expr::Tuple(t) => Value::Tuple(t.elems.iter().map(|e| self.expr(e)).collect()),
            Expr::Field(f) => match self.expr(&f.base) {
                Value::Scalar(s) => {
                    let (t, m) = (s.tokens, &f.member);
                    Value::Scalar(Scalar { tokens: quote!(#t.#m), deps: s.deps })
                }
                Value::Error => Value::Error,
                _ => {
                    self.ctxt.error(e, "field access is only supported on scalars");
                    Value::Error
                }
            },
            Expr::Closure(_) => self.unsupported(e, "closures are not supported in a kernel; move the body into a scalar `fn` and call it on the array (`f(x)`)"),
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => self.unsupported(e, "a loop is a statement in a kernel: end it with `;` or put it on its own line, and bind its results to `let mut` scalars declared before it"),
            Expr::Index(ix) if self.in_loop.is_some() => self.loop_index(ix),
            Expr::Index(_) => self.unsupported(e, "indexing is only supported inside a `for` loop over an index (`for i in 0..n { x[i] }`); outside loops use whole-array expressions, or `out[..] = expr` to fill an output"),
            Expr::Macro(_) => self.unsupported(e, "macros are not supported inside a kernel; compute with expressions, and print or assert outside the kernel"),
            Expr::Return(_) => self.unsupported(e, "`return` is only supported as the last statement of a kernel"),
            Expr::Assign(_) => self.unsupported(e, "assignment is a statement; end it with `;`"),
            _ => self.unsupported(e, "unsupported expression in a kernel; supported: arithmetic and comparison operators, `as` casts, method calls, calls of scalar `fn`s, `if`/`else`, blocks"),
        }
    }

    fn unsupported(&mut self, e: &Expr, msg: &str) -> Value {
        self.ctxt.error(e, msg);
        Value::Error
    }

    fn path(&mut self, p: &syn::ExprPath) -> Value {
        if let Some(ident) = p.path.get_ident() {
            if p.qself.is_none() {
                if self.reads_accumulator(&ident.to_string()) {
                    return self.sequential();
                }
                match self.lookup(&ident.to_string()) {
                    Some(Binding::Array(n)) => return Value::Array(n),
                    Some(Binding::Scalar(s)) => return Value::Scalar(s),
                    Some(Binding::Input(p)) => return Value::Array(self.input_node(p)),
                    Some(Binding::Output(p)) if self.is_local(p) => return Value::Local(p),
                    Some(Binding::Output(p)) => return Value::Array(self.output_value(p)),
                    Some(Binding::Poison) => return Value::Error,
                    None => {}
                }
            }
        }
        // Constants and other names from outside the kernel are scalars.
        scalar(p.to_token_stream())
    }

    fn unary(&mut self, u: &syn::ExprUnary) -> Value {
        let v = self.expr(&u.expr);
        if let syn::UnOp::Deref(_) = u.op {
            return match v {
                Value::Scalar(s) => {
                    let t = s.tokens;
                    Value::Scalar(Scalar { tokens: quote!(*#t), deps: s.deps })
                }
                Value::Error => Value::Error,
                // `*x` on the element of a loop over `a.iter()`.
                v if self.in_loop.is_some() => v,
                _ => self.unsupported(&Expr::Unary(u.clone()), "an array cannot be dereferenced; drop the `*`"),
            };
        }
        let op = u.op;
        if let Some(v) =
            self.elementwise(vec![self_clone(&v)], u, |ops| Op::Unary(op, ops.into_iter().next().expect("one")))
        {
            return v;
        }
        match v {
            Value::Scalar(s) => {
                let t = s.tokens;
                Value::Scalar(Scalar { tokens: quote!(#op #t), deps: s.deps })
            }
            other => other,
        }
    }

    fn binary_values(&mut self, l: Value, op: BinOp, r: Value, at: &dyn ToTokens) -> Value {
        // On masks, `&&`/`||` evaluate both sides (they are pure), which vectorizes.
        let elem_op = match op {
            BinOp::And(t) => BinOp::BitAnd(syn::Token![&](t.spans[0])),
            BinOp::Or(t) => BinOp::BitOr(syn::Token![|](t.spans[0])),
            other => other,
        };
        if let Some(v) = self.elementwise(vec![self_clone(&l), self_clone(&r)], at, |ops| {
            let mut it = ops.into_iter();
            Op::Binary(elem_op, it.next().expect("two"), it.next().expect("two"))
        }) {
            return v;
        }
        match (l, r) {
            (Value::Scalar(a), Value::Scalar(b)) => {
                let (ta, tb) = (a.tokens, b.tokens);
                let mut deps = a.deps;
                deps.extend(b.deps);
                Value::Scalar(Scalar { tokens: quote!(#ta #op #tb), deps })
            }
            _ => Value::Error,
        }
    }

    fn method(&mut self, m: &syn::ExprMethodCall) -> Value {
        let name = m.method.to_string();
        let recv = self.expr(&m.receiver);
        let text = tidy(&m.to_token_stream());
        match recv {
            Value::Error => Value::Error,
            Value::Array(node) => {
                if m.args.is_empty() {
                    if name == "len" {
                        let class = self.k.nodes[node].class;
                        let p = &self.k.params[class].ident;
                        return scalar(quote!(#p.len()));
                    }
                    if let Some(kind) = RedKind::from_method(&name) {
                        return self.reduction(kind, node, text);
                    }
                }
                if name == "dot" && m.args.len() == 1 {
                    let other = self.expr(&m.args[0]);
                    if !matches!(other, Value::Array(_) | Value::Error) {
                        return self.unsupported(
                            &m.args[0],
                            "`dot` takes an array; for a scalar factor multiply instead (`x * s`)",
                        );
                    }
                    let star = BinOp::Mul(syn::Token![*](m.method.span()));
                    return match self.binary_values(Value::Array(node), star, other, m) {
                        Value::Array(p) => self.reduction(RedKind::Sum, p, text),
                        other => other,
                    };
                }
                if ELEMENTWISE.contains(&name.as_str()) {
                    let args = m.args.iter().map(|a| self.expr(a)).collect();
                    return self.elementwise_method(m, Value::Array(node), args);
                }
                if RedKind::from_method(&name).is_some() || name == "len" {
                    self.ctxt.error(&m.method, format!("the reduction `{name}()` takes no arguments"));
                } else {
                    self.ctxt.error(
                        &m.method,
                        format!("unsupported method `{name}` on an array; elementwise methods are Rust's float and integer methods ({}, ...), reductions are {REDUCTIONS}", ELEMENTWISE[..12].iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")),
                    );
                }
                Value::Error
            }
            Value::Scalar(s) => {
                let args: Vec<Value> = m.args.iter().map(|a| self.expr(a)).collect();
                if args.iter().any(|a| matches!(a, Value::Array(_))) {
                    if !ELEMENTWISE.contains(&name.as_str()) {
                        self.ctxt.error(&m.method, format!("`{name}` cannot take an array argument; elementwise methods are Rust's float and integer methods"));
                        return Value::Error;
                    }
                    return self.elementwise_method(m, Value::Scalar(s), args);
                }
                if m.args.is_empty() && RedKind::from_method(&name).is_some() {
                    self.ctxt.error(&m.receiver, format!("`{name}()` reduces an array, but this is a scalar"));
                    return Value::Error;
                }
                let mut deps = s.deps;
                let mut toks = Vec::new();
                for a in args {
                    match a {
                        Value::Scalar(a) => {
                            deps.extend(a.deps);
                            toks.push(a.tokens);
                        }
                        Value::Error => return Value::Error,
                        _ => {
                            return self.unsupported(
                                &Expr::MethodCall(m.clone()),
                                "tuples are only supported as the kernel's result",
                            )
                        }
                    }
                }
                let (r, method, turbo) = (s.tokens, &m.method, &m.turbofish);
                Value::Scalar(Scalar { tokens: quote!(#r.#method #turbo(#(#toks),*)), deps })
            }
            _ => self.unsupported(&m.receiver, "tuples and `Ok(..)` are only supported as the kernel's result"),
        }
    }

    /// `recv.method(args)` applied to elements; the receiver or an argument is an array.
    fn elementwise_method(&mut self, m: &syn::ExprMethodCall, recv: Value, args: Vec<Value>) -> Value {
        let mut parts = vec![recv];
        parts.extend(args);
        let method = m.method.clone();
        self.elementwise(parts, m, |ops| {
            let mut it = ops.into_iter();
            let recv = it.next().expect("receiver");
            Op::Method(method, recv, it.collect())
        })
        .expect("an operand is an array")
    }

    fn call(&mut self, c: &syn::ExprCall) -> Value {
        let Expr::Path(callee) = &*c.func else {
            return self.unsupported(&c.func, "only calls of named functions are supported in a kernel");
        };
        if callee.path.segments.last().is_some_and(|s| s.ident == "Ok") && c.args.len() == 1 {
            return Value::Ok(Box::new(self.expr(&c.args[0])));
        }
        let args: Vec<Value> = c.args.iter().map(|a| self.expr(a)).collect();
        let f = c.func.clone();
        if let Some(v) = self.elementwise(args.iter().map(self_clone).collect(), c, |ops| Op::Call(f, ops)) {
            return v;
        }
        let mut deps = Deps::new();
        let mut toks = Vec::new();
        for a in args {
            match a {
                Value::Scalar(a) => {
                    deps.extend(a.deps);
                    toks.push(a.tokens);
                }
                _ => return Value::Error,
            }
        }
        let f = &c.func;
        Value::Scalar(Scalar { tokens: quote!(#f(#(#toks),*)), deps })
    }

    fn if_expr(&mut self, i: &syn::ExprIf) -> Value {
        let Some((_, else_branch)) = &i.else_branch else {
            return self.unsupported(
                &Expr::If(i.clone()),
                "an `if` in a kernel needs an `else`: it is a value (an elementwise select on a mask)",
            );
        };
        let cond = self.expr(&i.cond);
        let then_v = self.block_value(&i.then_branch);
        let else_v = self.expr(else_branch);
        let parts = vec![self_clone(&cond), self_clone(&then_v), self_clone(&else_v)];
        if let Some(v) = self.elementwise(parts, i, |ops| {
            let mut it = ops.into_iter();
            Op::Select(it.next().expect("c"), it.next().expect("a"), it.next().expect("b"))
        }) {
            return v;
        }
        match (cond, then_v, else_v) {
            (Value::Scalar(c), Value::Scalar(a), Value::Scalar(b)) => {
                let (tc, ta, tb) = (c.tokens, a.tokens, b.tokens);
                let mut deps = c.deps;
                deps.extend(a.deps);
                deps.extend(b.deps);
                Value::Scalar(Scalar { tokens: quote!((if #tc { #ta } else { #tb })), deps })
            }
            _ => Value::Error,
        }
    }

    fn block_value(&mut self, block: &syn::Block) -> Value {
        self.scopes.push(HashMap::new());
        let n = block.stmts.len();
        let mut value = None;
        for (i, stmt) in block.stmts.iter().enumerate() {
            match stmt {
                Stmt::Expr(e, None) if i + 1 == n => value = Some(self.expr(e)),
                _ => self.stmt(stmt),
            }
        }
        self.scopes.pop();
        value.unwrap_or_else(|| {
            self.ctxt.error(block, "this block must end in a value");
            Value::Error
        })
    }
}

/// Values are cheap handles; this copies one for building a node.
fn self_clone(v: &Value) -> Value {
    match v {
        Value::Array(n) => Value::Array(*n),
        Value::Scalar(s) => Value::Scalar(s.clone()),
        Value::Tuple(t) => Value::Tuple(t.iter().map(self_clone).collect()),
        Value::Ok(b) => Value::Ok(Box::new(self_clone(b))),
        Value::Local(p) => Value::Local(*p),
        Value::Error => Value::Error,
    }
}

fn compound_base(op: &BinOp) -> Option<BinOp> {
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
