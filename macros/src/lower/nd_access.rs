//! ndarray arrays (N-d parameters, `Array2::zeros(..)` local outputs) in a kernel, as ndarray
//! code uses them: shape queries (`x.nrows()`, `x.ncols()`, `x.shape()[k]`, `x.dim()`,
//! `x.len_of(Axis(k))`, `x.len()`, `x.is_empty()`) anywhere, and elements by index in loops
//! that run in order (`x[[i, j]]`, `out[[i, j]] = v`, `out[[i, j]] += v`), checked per
//! access by the runtime (`runtime/src/nd/index.rs`). Where the type fixes the rank, a
//! query or an index that does not fit it is a compile error here, as it is for ndarray.

use super::*;
use crate::vocab;
use quote::quote;
use syn::visit_mut::VisitMut;

/// `x[[i, j]]` for `n` axes, for messages.
fn index_hint(x: &syn::Ident, n: usize) -> String {
    let names = ["i", "j", "k", "l", "m", "n"];
    let idx: Vec<String> = (0..n).map(|a| names.get(a).map_or(format!("i{a}"), |s| s.to_string())).collect();
    format!("{x}[[{}]]", idx.join(", "))
}

/// `x[i]` of an N-d array: what an element is.
fn not_an_element(x: &syn::Ident, rank: Rank) -> String {
    let n = match rank {
        Rank::Static(r) => r,
        Rank::Dyn => 2,
    };
    format!("`{x}` {}: an element is `{}`, one index per axis in `[..]`", rank_text(rank), index_hint(x, n))
}

/// `x[[i, j, k]]` of a 2-D array.
fn index_count(at: &TokenStream, given: usize, x: &syn::Ident, r: usize) -> String {
    let want = if r == 1 { format!("{x}[i]") } else { index_hint(x, r) };
    format!("`{}` gives {given} indices, but `{x}` is {r}-D: write one index per axis (`{want}`)", tidy(at))
}

fn rank_text(rank: Rank) -> String {
    match rank {
        Rank::Static(r) => format!("is {r}-D"),
        Rank::Dyn => "has a dynamic rank (`IxDyn`)".into(),
    }
}

impl Lower<'_> {
    /// The parameter or local output `e` names, with its rank, if loops index it as ndarray
    /// does (see `ParamKind::index_rank`).
    fn indexed_array(&self, e: &Expr) -> Option<(syn::Ident, ParamId, Rank)> {
        let Expr::Path(p) = e else { return None };
        let x = p.path.get_ident()?;
        let (Binding::Input(q) | Binding::Output(q)) = self.lookup(&x.to_string())? else { return None };
        let rank = self.k().params[q].kind.index_rank()?;
        Some((x.clone(), q, rank))
    }

    /// A shape query of an ndarray array (module docs), as a scalar (a tuple for `dim()`);
    /// `None` if `m` is not one. 1-D arrays answer the queries `len()` does not.
    pub(super) fn nd_query(&mut self, m: &syn::ExprMethodCall) -> Option<Value> {
        let (x, _, rank) = self.indexed_array(&m.receiver)?;
        let method = m.method.to_string();
        let text = tidy(&m.to_token_stream());
        let one = rank == Rank::Static(1);
        let dim = |k: usize| if one { scalar(quote!(#x.len())) } else { scalar(quote!(#x.dims()[#k])) };
        Some(match (method.as_str(), m.args.len()) {
            (vocab::LEN, 0) if !one => scalar(quote!(#x.shape().len())),
            (vocab::IS_EMPTY, 0) if !one => scalar(quote!(#x.shape().is_empty())),
            ("nrows" | "ncols", 0) => {
                let axis = usize::from(method == "ncols");
                if rank != Rank::Static(2) {
                    let hint = match rank {
                        Rank::Static(r) if r <= axis => format!("its length is `{x}.len()`"),
                        _ => format!("write `{x}.len_of(Axis({axis}))` or `{x}.shape()[{axis}]`"),
                    };
                    let msg = format!(
                        "`{text}`: ndarray has `{method}()` for 2-D arrays only, and `{x}` {}; {hint}",
                        rank_text(rank)
                    );
                    return Some(self.unsupported(m, &msg));
                }
                dim(axis)
            }
            ("len_of", 1) => {
                let Some(axis) = self.axis_arg(&m.args[0]) else { return Some(Value::Error) };
                if !self.check_axis(m, axis, rank, false) {
                    return Some(Value::Error);
                }
                if rank == Rank::Dyn {
                    // Checked at run time, naming the kernel (ndarray would panic too).
                    let kernel = &self.kernel_name;
                    let check = self.checked(quote!(__lf::nd::check_axis(#kernel, #text, #axis, #x.dims().len())));
                    return Some(scalar(quote!({ #check; #x.dims()[#axis] })));
                }
                dim(axis)
            }
            ("shape", 0) if !one => scalar(quote!(#x.dims())),
            ("dim", 0) => match rank {
                Rank::Static(1) => dim(0),
                Rank::Static(r) => Value::Tuple((0..r).map(dim).collect()),
                Rank::Dyn => {
                    let msg = format!("`{text}` of an `IxDyn` array is an `IxDyn`, which a kernel does not build: write `{x}.shape()` (a `&[usize]`) or `{x}.len_of(Axis(k))`");
                    return Some(self.unsupported(m, &msg));
                }
            },
            _ => return None,
        })
    }

    /// `x.shape()[k]` of an ndarray array: the length of axis `k`, checked against a rank
    /// the type fixes when `k` is a literal.
    pub(super) fn shape_index(&mut self, ix: &syn::ExprIndex) -> Option<Value> {
        let Expr::MethodCall(m) = &*ix.expr else { return None };
        if m.method != "shape" || !m.args.is_empty() {
            return None;
        }
        let (_, _, rank) = self.indexed_array(&m.receiver)?;
        if !self.check_shape_index(ix, rank) {
            return Some(Value::Error);
        }
        let Value::Scalar(dims) = self.nd_query(m)? else { return Some(Value::Error) };
        match self.expr(&ix.index) {
            Value::Scalar(i) => {
                let (d, i_t) = (dims.tokens, i.tokens);
                Some(Value::Scalar(Scalar { tokens: quote!((#d[#i_t])), deps: i.deps }))
            }
            Value::Error => Some(Value::Error),
            _ => Some(self.unsupported(&ix.index, "`x.shape()[k]` takes a scalar `k`")),
        }
    }

    /// A literal `k` of `x.shape()[k]` below a static rank.
    fn check_shape_index(&mut self, ix: &syn::ExprIndex, rank: Rank) -> bool {
        match &*ix.index {
            Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(k), .. }) => match k.base10_parse::<usize>() {
                Ok(k) => self.check_axis(ix, k, rank, false),
                Err(_) => true,
            },
            _ => true,
        }
    }

    /// `x[[i, j]]` of an N-d input outside loops: the element, checked where it is read
    /// (`None` for other indexing, which `Lower::element` handles).
    pub(super) fn nd_element(&mut self, ix: &syn::ExprIndex) -> Option<Value> {
        let (x, q, rank) = self.indexed_array(&ix.expr)?;
        if rank == Rank::Static(1) || !matches!(self.k().params[q].kind, ParamKind::Input { .. }) {
            return None;
        }
        let at = ix.to_token_stream();
        let elems: Vec<&Expr> = match &*ix.index {
            Expr::Array(a) => a.elems.iter().collect(),
            Expr::Tuple(t) if t.elems.len() > 1 => t.elems.iter().collect(),
            Expr::Range(_) => return None,
            _ => return Some(self.unsupported(&at, &not_an_element(&x, rank))),
        };
        if let Rank::Static(r) = rank {
            if r != elems.len() {
                return Some(self.unsupported(&at, &index_count(&at, elems.len(), &x, r)));
            }
        }
        let mut idx = Vec::new();
        for e in elems {
            idx.push(self.bound(e)?);
        }
        let (kernel, text) = (&self.kernel_name, tidy(&at));
        let call = self.checked(quote!(__lf::nd::index::at(#kernel, #text, &#x, [#(#idx),*])));
        Some(Value::Scalar(Scalar::new(quote!((#call)))))
    }

    /// Rewrites the ndarray arrays' queries and accesses of a loop that runs in order.
    pub(super) fn nd_accesses(&mut self, body: &mut Expr) {
        NdAccess { lower: self, scopes: Vec::new() }.visit_expr_mut(body);
    }
}

struct NdAccess<'l, 'a> {
    lower: &'l mut Lower<'a>,
    /// The names the loop's own bindings (`let`, patterns, closure parameters) shadow.
    scopes: Vec<BTreeSet<String>>,
}

/// What an index of an ndarray array becomes.
enum Access {
    /// `x[[i]]` of a 1-D array: `x[i]`, for the 1-D rewrites (`InputReads`, codegen's
    /// `OutputAccess`).
    OneD(Expr),
    /// The indices of an N-d access, as the `[usize; N]` the runtime takes.
    Nd(TokenStream),
    /// Left as it is: `x[i]` of a 1-D array.
    Keep,
    /// Reported.
    Error,
}

impl NdAccess<'_, '_> {
    /// The ndarray array `e` names, unless a binding of the loop shadows it.
    fn array(&self, e: &Expr) -> Option<(syn::Ident, ParamId, Rank)> {
        let (x, q, rank) = self.lower.indexed_array(e)?;
        let name = x.to_string();
        (!self.scopes.iter().any(|s| s.contains(&name))).then_some((x, q, rank))
    }

    /// Runs `f` in a new scope binding the names of `pats`.
    fn scoped<'p>(&mut self, pats: impl IntoIterator<Item = &'p Pat>, f: impl FnOnce(&mut Self)) {
        let mut names = BTreeSet::new();
        for p in pats {
            super::in_order::pat_names(p, &mut names);
        }
        self.scopes.push(names);
        f(self);
        self.scopes.pop();
    }

    /// The indices of `x[index]` for an array of rank `rank`, their own accesses rewritten.
    fn access(&mut self, x: &syn::Ident, rank: Rank, ix: &mut syn::ExprIndex) -> Access {
        let at = ix.to_token_stream();
        let elems: Option<Vec<&mut Expr>> = match &mut *ix.index {
            Expr::Array(a) => Some(a.elems.iter_mut().collect()),
            Expr::Tuple(t) if t.elems.len() > 1 => Some(t.elems.iter_mut().collect()),
            _ => None,
        };
        let Some(mut elems) = elems else {
            if rank == Rank::Static(1) {
                return Access::Keep;
            }
            self.lower.ctxt.error(&at, not_an_element(x, rank));
            return Access::Error;
        };
        for e in elems.iter_mut() {
            self.visit_expr_mut(e);
        }
        match rank {
            Rank::Static(r) if r != elems.len() => {
                self.lower.ctxt.error(&at, index_count(&at, elems.len(), x, r));
                Access::Error
            }
            Rank::Static(1) => Access::OneD((*elems[0]).clone()),
            _ => {
                let elems = elems.iter().map(|e| &**e);
                Access::Nd(quote!([#(#elems),*]))
            }
        }
    }

    /// `(__lf::nd::index::f(kernel, text, x, ..))`, checked (`?` in a `Result` kernel).
    fn call(&self, f: &str, text: &str, x: &TokenStream, args: TokenStream) -> TokenStream {
        let (f, kernel) = (syn::Ident::new(f, proc_macro2::Span::call_site()), &self.lower.kernel_name);
        self.lower.checked(quote!(__lf::nd::index::#f(#kernel, #text, #x, #args)))
    }

    /// `out[[i, j]] = v` (`op: None`) or `out[[i, j]] op= v`: the value first, then the
    /// index, as Rust evaluates them.
    fn write(&mut self, e: &mut Expr) {
        let (left, right, op) = match e {
            Expr::Assign(a) => (&mut *a.left, &mut *a.right, None),
            Expr::Binary(b) => (&mut *b.left, &mut *b.right, compound_base(&b.op)),
            _ => unreachable!("a write"),
        };
        let Expr::Index(ix) = left else { unreachable!("an indexed target") };
        let (x, q, rank) = self.array(&ix.expr).expect("an ndarray target");
        self.visit_expr_mut(right);
        let text = tidy(&ix.to_token_stream());
        if matches!(self.lower.k().params[q].kind, ParamKind::Input { .. }) {
            let msg =
                format!("`{x}` is an input; only `&mut` outputs and local outputs can be written (`out[[i, j]] = v`)");
            self.lower.ctxt.error(&*ix, msg);
            return;
        }
        let value = right.clone();
        match self.access(&x, rank, ix) {
            Access::OneD(i) => *ix.index = i,
            Access::Nd(idx) => {
                let call = match op {
                    None => self.call("set", &text, &x.to_token_stream(), quote!(#idx, __v)),
                    Some(op) => self.call("update", &text, &x.to_token_stream(), quote!(#idx, |__o| __o #op __v)),
                };
                *e = syn::parse_quote!({ let __v = #value; #call; });
            }
            Access::Keep | Access::Error => {}
        }
    }

    fn is_write(&self, e: &Expr) -> bool {
        let left = match e {
            Expr::Assign(a) => &*a.left,
            Expr::Binary(b) if compound_base(&b.op).is_some() => &*b.left,
            _ => return false,
        };
        matches!(left, Expr::Index(ix) if self.array(&ix.expr).is_some())
    }
}

impl VisitMut for NdAccess<'_, '_> {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        self.scoped([], |s| {
            for stmt in &mut b.stmts {
                match stmt {
                    // A `let` binds after its value.
                    Stmt::Local(l) => {
                        if let Some(init) = &mut l.init {
                            s.visit_expr_mut(&mut init.expr);
                            if let Some((_, d)) = &mut init.diverge {
                                s.visit_expr_mut(d);
                            }
                        }
                        super::in_order::pat_names(&l.pat, s.scopes.last_mut().expect("a scope"));
                    }
                    other => s.visit_stmt_mut(other),
                }
            }
        });
    }

    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        self.visit_expr_mut(&mut f.expr);
        let pat = (*f.pat).clone();
        self.scoped([&pat], |s| s.visit_block_mut(&mut f.body));
    }

    fn visit_expr_closure_mut(&mut self, c: &mut syn::ExprClosure) {
        let pats = c.inputs.clone();
        self.scoped(&pats, |s| s.visit_expr_mut(&mut c.body));
    }

    fn visit_arm_mut(&mut self, a: &mut syn::Arm) {
        let pat = a.pat.clone();
        self.scoped([&pat], |s| {
            if let Some((_, g)) = &mut a.guard {
                s.visit_expr_mut(g);
            }
            s.visit_expr_mut(&mut a.body);
        });
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if self.is_write(e) {
            return self.write(e);
        }
        match e {
            Expr::MethodCall(m) if self.array(&m.receiver).is_some() => match self.lower.nd_query(m) {
                Some(Value::Scalar(s)) => {
                    let t = s.tokens;
                    *e = syn::parse_quote!((#t));
                }
                Some(Value::Tuple(parts)) => {
                    let parts = parts.into_iter().map(|p| match p {
                        Value::Scalar(s) => s.tokens,
                        _ => unreachable!("a tuple of lengths"),
                    });
                    *e = syn::parse_quote!((#(#parts,)*));
                }
                Some(_) => {}
                None => {
                    let (x, _, rank) = self.array(&m.receiver).expect("matched");
                    if rank == Rank::Static(1) {
                        // `x.len()`, `x.is_empty()`: the 1-D view's own.
                        return syn::visit_mut::visit_expr_method_call_mut(self, m);
                    }
                    let (text, elem) = (tidy(&m.to_token_stream()), index_hint(&x, 2));
                    let msg = format!("in a loop that runs in order, an N-d array is read by element (`{elem}`) and by shape (`{x}.shape()[k]`, `{x}.len_of(Axis(k))`, `{x}.len()`, ..): compute `{text}` before the loop, or element by element");
                    self.lower.ctxt.error(&*m, msg);
                }
            },
            Expr::Index(ix) if self.array(&ix.expr).is_some() => {
                let (x, q, rank) = self.array(&ix.expr).expect("matched");
                let text = tidy(&ix.to_token_stream());
                let f = if matches!(self.lower.k().params[q].kind, ParamKind::Input { .. }) { "at" } else { "get" };
                match self.access(&x, rank, ix) {
                    Access::OneD(i) => *ix.index = i,
                    Access::Nd(idx) => {
                        // An input's view by reference: a copy per access was not always
                        // optimized away (in the closure of a parallel loop it was not).
                        let arg = if f == "at" { quote!(&#x) } else { x.to_token_stream() };
                        let call = self.call(f, &text, &arg, idx);
                        *e = syn::parse_quote!((#call));
                    }
                    Access::Keep => syn::visit_mut::visit_expr_index_mut(self, ix),
                    Access::Error => {}
                }
            }
            Expr::Index(ix) => {
                if let Expr::MethodCall(m) = &*ix.expr {
                    if m.method == "shape" {
                        if let Some((_, _, rank)) = self.array(&m.receiver) {
                            if !self.lower.check_shape_index(ix, rank) {
                                return;
                            }
                        }
                    }
                }
                syn::visit_mut::visit_expr_index_mut(self, ix);
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
}
