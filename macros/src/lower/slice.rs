//! Slices as views (`&x[1..] - &x[..x.len() - 1]`, `x.slice(s![1..])`), element reads
//! outside loops (`x[0]`), early returns (`if x.len() < 2 { return f64::NAN; }`), and the
//! emptiness check of a `min`/`max` where its value is used.
//!
//! A slice of an input is a new input of the kernel: a view of the same memory, cut once in
//! the body by a checked `let` (`let __s0 = __lf::sub("diff", "x[1..]", x, 1, x.len())?;`),
//! read by the passes like any input, so `&x[1..] - &x[..n - 1]` is one pass over two views
//! of `x`. Its length check with the values it is combined with runs right after it.

use super::*;
use crate::vocab::{self, RedKind};
use quote::quote;

impl Lower<'_> {
    /// `call?` in a `Result` kernel, `__lf::expect(call)` (a panic at the caller) otherwise.
    pub(super) fn checked(&self, call: TokenStream) -> TokenStream {
        if self.result_kernel {
            quote!(#call?)
        } else {
            quote!(__lf::expect(#call))
        }
    }

    /// The 1-D input parameter `e` names, or the error to report (`what`: "sliced", "indexed").
    fn sliceable(&mut self, e: &Expr, what: &str) -> Result<ParamId, Value> {
        let binding = match e {
            Expr::Path(p) => p.path.get_ident().and_then(|i| self.lookup(&i.to_string())),
            Expr::Reference(r) => return self.sliceable(&r.expr, what),
            _ => None,
        };
        match binding {
            Some(Binding::Input(p)) if !self.k().params[p].kind.is_nd() => Ok(p),
            Some(Binding::Input(_)) => Err(self.unsupported(e, &format!("an N-d array cannot be {what} inside a kernel yet; slice it at the call (`f(x.slice(s![.., 1..]))`) or use whole-array expressions"))),
            Some(Binding::Output(_)) => Err(self.unsupported(e, &format!("an output cannot be {what} outside a loop; write it by index in a loop (`for i in lo..hi {{ out[i] = .. }}`) or fill it whole (`out[..] = ..`)"))),
            Some(Binding::Poison) => Err(Value::Error),
            _ => Err(self.unsupported(e, &format!("only an array parameter can be {what} in a kernel; for a computed value, slice the parameters it reads (`&x[1..] * 2.0`, not `(x * 2.0)[1..]`)"))),
        }
    }

    /// A bound or an index: a scalar computed before the kernel's loops.
    pub(super) fn bound(&mut self, e: &Expr) -> Option<TokenStream> {
        let v = self.expr(e);
        self.bound_value(v, e)
    }

    fn bound_value(&mut self, v: Value, e: &Expr) -> Option<TokenStream> {
        match v {
            Value::Scalar(s) if s.deps.is_empty() => Some(s.tokens),
            Value::Error => None,
            Value::Scalar(_) => {
                self.unsupported(e, "a slice bound or an index outside loops is computed before the kernel's loops: use parameters, lengths and constants (`x[1..]`, `x[x.len() - 1]`), not a reduction");
                None
            }
            _ => {
                self.unsupported(e, "a slice bound or an index is a scalar (`usize`)");
                None
            }
        }
    }

    /// `x[a..b]` (`base[range]`; `text` as written): a view of input `x`.
    pub(super) fn slice(&mut self, base: &Expr, range: &syn::ExprRange, text: String) -> Value {
        let p = match self.sliceable(base, "sliced") {
            Ok(p) => p,
            Err(v) => return v,
        };
        let x = self.param_name(p).clone();
        let lo = match &range.start {
            Some(e) => self.bound(e),
            None => Some(quote!(0)),
        };
        let hi = match (&range.end, &range.limits) {
            (Some(e), syn::RangeLimits::Closed(_)) => self.bound(e).map(|t| quote!((#t) + 1)),
            (Some(e), syn::RangeLimits::HalfOpen(_)) => self.bound(e),
            (None, _) => Some(quote!(#x.len())),
        };
        let (Some(lo), Some(hi)) = (lo, hi) else { return Value::Error };
        if lo.to_string() == "0" && hi.to_string() == quote!(#x.len()).to_string() {
            return Value::Array(self.input_node(p, x.span()));
        }
        // A slice on a branch is cut only when it is taken (an empty view otherwise, read by
        // nothing): the same slice elsewhere is another view.
        let cond = self.path_condition();
        let key = format!("{}{}[{lo}..{hi}]", cond.as_ref().map(|c| c.to_string()).unwrap_or_default(), x);
        let q = match self.slice_params.get(&key) {
            Some(&q) => q,
            None => {
                let ParamKind::Input { elem, .. } = &self.k().params[p].kind else { unreachable!("an input") };
                let kind = ParamKind::Input { elem: elem.clone(), nd: None };
                let ident = names::slice(self.k().slices.len());
                let q = self.b.k.params.push(Param { ident: ident.clone(), kind, space: None });
                self.b.k.params[q].space = Some(self.b.k.spaces.add(Space::Param(q)));
                self.b.k.slices.push((q, text.clone()));
                let name = &self.kernel_name;
                let cut = self.checked(quote!(__lf::sub(#name, #text, #x, #lo, #hi)));
                let value = match cond {
                    Some(c) => {
                        self.slice_conds.insert(q, (c.clone(), cut.clone()));
                        Scalar::new(quote!(if #c { #cut } else { __lf::Elems::range(#x, 0, 0) }))
                    }
                    None => Scalar::new(cut),
                };
                self.b.k.lets.push(ScalarLet { name: ident, mutable: false, ty: None, value, kind: LetKind::Plain });
                self.slice_params.insert(key, q);
                q
            }
        };
        Value::Array(self.input_node(q, x.span()))
    }

    /// `x.slice(s![a..b])` of a 1-D input, as `x[a..b]`.
    pub(super) fn slice_method(&mut self, m: &syn::ExprMethodCall) -> Option<Value> {
        if m.method != vocab::SLICE {
            return None;
        }
        // Only a 1-D input: an N-d one gets the views hint (`vocab::OTHER_VIEWS`).
        let Expr::Path(path) = &*m.receiver else { return None };
        let ident = path.path.get_ident()?;
        let Some(Binding::Input(p)) = self.lookup(&ident.to_string()) else { return None };
        if self.k().params[p].kind.is_nd() {
            return None;
        }
        let text = tidy(&m.to_token_stream());
        let arg = match (m.args.len(), m.args.first()) {
            (1, Some(Expr::Macro(mac))) if mac.mac.path.segments.last().is_some_and(|s| s.ident == "s") => {
                // The kernel reads the `s![..]` tokens itself: one use keeps an `use ndarray::s` used.
                let path = &mac.mac.path;
                if !self.b.k.axis_uses.iter().any(|u| u.to_string() == quote!(#path![..]).to_string()) {
                    self.b.k.axis_uses.push(quote!(#path![..]));
                }
                mac.mac.parse_body::<Expr>().ok()
            }
            _ => None,
        };
        match arg {
            Some(Expr::Range(r)) => Some(self.slice(&m.receiver, &r, text)),
            _ => Some(self.unsupported(
                m,
                "a 1-D slice in a kernel is `x.slice(s![a..b])` with one range (no step), or `x[a..b]`",
            )),
        }
    }

    /// `x[i]` outside loops: the element, checked (`__lf::at`; N-d: `Lower::nd_element`).
    pub(super) fn element(&mut self, ix: &syn::ExprIndex) -> Value {
        if let Some(v) = self.nd_element(ix) {
            return v;
        }
        if let Expr::Range(r) = &*ix.index {
            return self.slice(&ix.expr, r, tidy(&ix.to_token_stream()));
        }
        let index = self.expr(&ix.index);
        if let Value::Array(mask) = index {
            return self.selection(ix, mask);
        }
        let p = match self.sliceable(&ix.expr, "indexed") {
            Ok(p) => p,
            Err(v) => return v,
        };
        let Some(i) = self.bound_value(index, &ix.index) else { return Value::Error };
        let (x, text, name) = (self.param_name(p).clone(), tidy(&ix.to_token_stream()), &self.kernel_name);
        let value = self.checked(quote!(__lf::at(#name, #text, #x, #i)));
        Value::Scalar(Scalar::new(quote!((#value))))
    }

    /// `x[mask]` (a 1-D array value and a mask of its length), to be reduced.
    fn selection(&mut self, ix: &syn::ExprIndex, mask: NodeId) -> Value {
        let arr = match self.expr(&ix.expr) {
            Value::Array(a) => a,
            Value::Error => return Value::Error,
            _ => return self.unsupported(&ix.expr, "a boolean selection `x[mask]` selects from an array"),
        };
        let (sa, sm) = (self.k().nodes[arr].space, self.k().nodes[mask].space);
        let nd = |s| self.k().leaves(self.k().spaces.root(s)).is_some();
        if nd(sa) || nd(sm) {
            return self.unsupported(ix, "a boolean selection of an N-d array is not supported yet; reduce with a select instead (`(if mask { x } else { 0.0 }).sum()`)");
        }
        if !self.b.unify(sa, sm) {
            return self.not_vectorizable(ix);
        }
        Value::Selection { arr, mask }
    }

    /// `x[mask].sum()`, `.mean()`, `.len()`: masked reductions.
    pub(super) fn selection_method(&mut self, m: &syn::ExprMethodCall, arr: NodeId, mask: NodeId) -> Value {
        let text = tidy(&m.to_token_stream());
        let kind = match (m.method.to_string().as_str(), m.args.len()) {
            ("sum", 0) => RedKind::SumWhere,
            ("mean", 0) => RedKind::MeanWhere,
            ("len" | "count", 0) => RedKind::Count,
            _ => return self.unsupported(&m.method, SELECTION_USE),
        };
        let (arg, mask) = if kind == RedKind::Count { (mask, None) } else { (arr, Some(mask)) };
        let mut deps = self.k().nodes[arg].deps.clone();
        if let Some(mk) = mask {
            deps.extend(self.k().nodes[mk].deps.iter().copied());
        }
        let r = self.b.reduction(Reduction {
            kind,
            arg,
            axis: None,
            ddof: None,
            mask,
            mean: None,
            deps: deps.clone(),
            text,
        });
        deps.insert(Dep::Red(r));
        Value::Scalar(Scalar { tokens: names::reduction(r).into_token_stream(), deps })
    }

    /// The condition of the branch being lowered (`__g0 && !__g1`), `None` outside branches.
    pub(super) fn path_condition(&self) -> Option<TokenStream> {
        let terms = self.path.iter().map(|(g, taken)| if *taken { quote!(#g) } else { quote!(!#g) });
        (!self.path.is_empty()).then(|| quote!(#(#terms)&&*))
    }

    /// The slices a branch cut, `lets` the lets it made, cut unconditionally after all: its
    /// `if` runs every reduction as written (`Lower::guarded`), so every pass reads them.
    pub(super) fn cut_always(&mut self, lets: std::ops::Range<usize>) {
        let names: Vec<syn::Ident> = self.k().lets[lets.clone()].iter().map(|l| l.name.clone()).collect();
        for (i, name) in lets.zip(names) {
            let slice = self.k().slices.iter().map(|(q, _)| *q).find(|&q| self.k().params[q].ident == name);
            if let Some((_, cut)) = slice.and_then(|q| self.slice_conds.remove(&q)) {
                self.b.k.lets[i].value = Scalar::new(cut);
            }
        }
    }

    /// The length checks of slices, in the body after the slices are cut.
    pub(super) fn slice_checks(&mut self) {
        let checks: Vec<(ParamId, ParamId)> = self
            .k()
            .checks
            .iter()
            .filter(|c| self.k().is_slice(c.left) || self.k().is_slice(c.right))
            .map(|c| (c.left, c.right))
            .collect();
        for (l, r) in checks {
            let (ls, rs) = (self.k().param_text(l), self.k().param_text(r));
            let (li, ri, name) = (self.param_name(l).clone(), self.param_name(r).clone(), &self.kernel_name);
            let call = self.checked(quote!(__lf::check_len(#name, #ls, #li.len(), #rs, #ri.len())));
            let mut conds: Vec<&TokenStream> =
                [l, r].iter().filter_map(|q| self.slice_conds.get(q).map(|c| &c.0)).collect();
            conds.dedup_by_key(|c| c.to_string());
            let value = match conds[..] {
                [] => Scalar::new(quote!(#call;)),
                _ => Scalar::new(quote!(if #(#conds)&&* { #call; })),
            };
            let name = names::slice(0);
            self.b.k.lets.push(ScalarLet { name, mutable: false, ty: None, value, kind: LetKind::Statement });
        }
    }

    /// `if c { return v; }` at the top level of the body: returns before any of the work
    /// after it. `c` and `v` are scalars computed before the kernel's loops, and no output was
    /// written before it (the writes would come after it in the plan).
    pub(super) fn early_return(&mut self, i: &syn::ExprIf) -> bool {
        let [Stmt::Expr(Expr::Return(r), _)] = i.then_branch.stmts.as_slice() else { return false };
        if i.else_branch.is_some() {
            return false;
        }
        if self.scopes.len() > 1 || self.in_loop.is_some() {
            self.ctxt.error(r, "an early `return` is supported at the top level of a kernel (`if x.len() < 2 { return f64::NAN; }`), not in a block or loop");
            return true;
        }
        let wrote = !self.b.k.sinks.is_empty()
            || !self.seq_outputs.is_empty()
            || self.out_current.iter().any(|(&p, &n)| self.k().nodes[n].op != Op::Current(p));
        if wrote {
            self.ctxt.error(r, "an early `return` after a write to an output is not supported: put the `if .. { return ..; }` before the writes");
            return true;
        }
        let cond = self.expr(&i.cond);
        let value = match &r.expr {
            Some(e) => self.expr(e),
            None => Value::Tuple(Vec::new()),
        };
        let value = match value {
            Value::Scalar(s) => Some(s),
            Value::Tuple(v) if v.is_empty() => Some(Scalar::new(quote!(()))),
            Value::Ok(inner) => match *inner {
                Value::Scalar(s) => {
                    let t = s.tokens;
                    Some(Scalar { tokens: quote!(::core::result::Result::Ok(#t)), deps: s.deps })
                }
                _ => None,
            },
            _ => None,
        };
        match (cond, value) {
            (Value::Error, _) => {}
            (Value::Scalar(c), Some(v)) if c.deps.is_empty() && v.deps.is_empty() => {
                let (c, v) = (c.tokens, v.tokens);
                let value = Scalar::new(quote!(if #c { return #v; }));
                let name = names::slice(0);
                self.b.k.lets.push(ScalarLet { name, mutable: false, ty: None, value, kind: LetKind::Statement });
            }
            (Value::Scalar(c), Some(v)) if !c.deps.is_empty() || !v.deps.is_empty() => {
                self.ctxt.error(&i.cond, "an early `return` is taken before the kernel's loops, so its condition and value use parameters, lengths and constants, not a reduction; write the rest as the value of `if c { v } else { .. }`");
            }
            (Value::Scalar(_), _) => {
                self.ctxt.error(r, "an early `return` returns a scalar (`return f64::NAN;`) or `()`; an array result is the kernel's last expression");
            }
            _ => {
                self.ctxt.error(&i.cond, "an early `return` needs a scalar condition (`if x.len() < 2`); an array mask selects elementwise with `if mask { a } else { b }`");
            }
        }
        true
    }
}
