//! Expressions: arrays become nodes, scalars stay tokens. Method names are looked up in
//! [`crate::vocab`].

use super::*;
use crate::vocab::{self, RedKind};
use quote::quote;
use syn::BinOp;

impl Lower<'_> {
    pub(super) fn expr(&mut self, e: &Expr) -> Value {
        match e {
            Expr::Lit(_) => scalar(e.to_token_stream()),
            Expr::Path(p) => self.path(p),
            Expr::Paren(p) => map_scalar(self.expr(&p.expr), |t| quote!((#t))),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Reference(r) if r.mutability.is_none() => map_scalar(self.expr(&r.expr), |t| quote!(&#t)),
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
                let cast = |ops: Vec<Operand>| Op::Cast(ops.into_iter().next().expect("one"), ty);
                if let Some(v) = self.elementwise(vec![v.clone()], e, cast) {
                    return v;
                }
                let ty = &c.ty;
                map_scalar(v, |t| quote!(#t as #ty))
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
                _ => self.unsupported(e, "field access is only supported on scalars"),
            },
            Expr::Closure(_) => self.unsupported(e, "closures are not supported in a kernel; move the body into a scalar `fn` and call it on the array (`f(x)`)"),
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => self.unsupported(e, "a loop is a statement in a kernel: end it with `;` or put it on its own line, and bind its results to `let mut` scalars declared before it"),
            Expr::Index(ix) => match self.shape_index(ix) {
                Some(v) => v,
                None if self.in_loop.is_some() => self.loop_index(ix),
                None => self.element(ix),
            },
            Expr::Macro(_) => self.unsupported(e, "macros are not supported inside a kernel; compute with expressions, and print or assert outside the kernel"),
            Expr::Return(_) => self.unsupported(e, "`return` is supported as the last statement of a kernel, or under a scalar `if` at its top level (`if x.len() < 2 { return f64::NAN; }`)"),
            Expr::Assign(_) => self.unsupported(e, "assignment is a statement; end it with `;`"),
            _ => self.unsupported(e, "unsupported expression in a kernel; supported: arithmetic and comparison operators, `as` casts, method calls, calls of scalar `fn`s, `if`/`else`, blocks"),
        }
    }

    pub(super) fn unsupported(&mut self, at: &dyn ToTokens, msg: &str) -> Value {
        self.ctxt.error(at, msg);
        Value::Error
    }

    fn path(&mut self, p: &syn::ExprPath) -> Value {
        if let (Some(ident), None) = (p.path.get_ident(), &p.qself) {
            if self.reads_accumulator(&ident.to_string()) {
                return self.not_vectorizable(p);
            }
            if self.row_outer_array(&ident.to_string(), p) {
                return Value::Error;
            }
            if self.rows.as_ref().is_some_and(|r| r.index.as_deref() == Some(&ident.to_string())) {
                return self.unsupported(p, "in a per-row loop the row's index only says where its result goes (`out[i] = v`); it is not a value of the loop");
            }
            match self.lookup(&ident.to_string()) {
                Some(Binding::Array(n)) => return Value::Array(n),
                Some(Binding::Scalar(s)) => return Value::Scalar(s),
                Some(Binding::Input(q)) => return Value::Array(self.input_node(q, ident.span())),
                Some(Binding::Output(q)) if self.is_local(q) => return Value::Local(q),
                Some(Binding::Output(q)) => return Value::Array(self.output_value(q, ident.span())),
                Some(Binding::Poison) => return Value::Error,
                Some(Binding::Selection { arr, mask }) => return Value::Selection { arr, mask },
                None => {}
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
                _ => self.unsupported(u, "an array cannot be dereferenced; drop the `*`"),
            };
        }
        let op = u.op;
        if let Some(v) = self.elementwise(vec![v.clone()], u, |ops| Op::Unary(op, ops.into_iter().next().expect("one")))
        {
            return v;
        }
        map_scalar(v, |t| quote!(#op #t))
    }

    pub(super) fn binary_values(&mut self, l: Value, op: BinOp, r: Value, at: &dyn ToTokens) -> Value {
        // On masks, `&&`/`||` evaluate both sides (they are pure), which vectorizes.
        let elem_op = match op {
            BinOp::And(t) => BinOp::BitAnd(syn::Token![&](t.spans[0])),
            BinOp::Or(t) => BinOp::BitOr(syn::Token![|](t.spans[0])),
            other => other,
        };
        if let Some(v) = self.elementwise(vec![l.clone(), r.clone()], at, |ops| {
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
        if let Some(len) = self.param_len(m) {
            return len;
        }
        if let Some(v) = self.slice_method(m) {
            return v;
        }
        let recv = self.expr(&m.receiver);
        let text = tidy(&m.to_token_stream());
        match recv {
            Value::Error => Value::Error,
            Value::Array(node) => self.array_method(m, node, text),
            Value::Selection { arr, mask } => self.selection_method(m, arr, mask),
            Value::Local(p) => self.local_used_whole(p, &m.receiver),
            Value::Scalar(s) => {
                let args: Vec<Value> = m.args.iter().map(|a| self.expr(a)).collect();
                if args.iter().any(|a| matches!(a, Value::Array(_))) {
                    if vocab::method(&name).is_none() {
                        let msg = format!("`{name}` cannot take an array argument; elementwise methods are Rust's float and integer methods");
                        return self.unsupported(&m.method, &msg);
                    }
                    return self.elementwise_method(m, Value::Scalar(s), args);
                }
                if m.args.is_empty() && RedKind::from_method(&name).is_some() {
                    return self
                        .unsupported(&m.receiver, &format!("`{name}()` reduces an array, but this is a scalar"));
                }
                let Some((mut deps, toks)) = self.scalar_args(args, m) else { return Value::Error };
                deps.extend(s.deps);
                let (r, method, turbo) = (s.tokens, &m.method, &m.turbofish);
                Value::Scalar(Scalar { tokens: quote!(#r.#method #turbo(#(#toks),*)), deps })
            }
            _ => self.unsupported(&m.receiver, "tuples and `Ok(..)` are only supported as the kernel's result"),
        }
    }

    /// `x.len()` of an array parameter or local output: its length, not a use of its
    /// elements (so a loop may still write it by index).
    ///
    /// An ndarray array also answers ndarray's shape queries (`Lower::nd_query`): `len()`
    /// (every element), `nrows()`, `ncols()`, `len_of(Axis(k))`, `shape()`, `dim()`.
    fn param_len(&mut self, m: &syn::ExprMethodCall) -> Option<Value> {
        if let Some(v) = self.nd_query(m) {
            return Some(v);
        }
        let Expr::Path(p) = &*m.receiver else { return None };
        let ident = p.path.get_ident()?;
        let (Binding::Input(_) | Binding::Output(_)) = self.lookup(&ident.to_string())? else { return None };
        match (m.method.to_string().as_str(), m.args.len()) {
            (vocab::LEN, 0) => Some(scalar(quote!(#ident.len()))),
            (vocab::IS_EMPTY, 0) => Some(scalar(quote!(#ident.is_empty()))),
            _ => None,
        }
    }

    /// `x.method(..)` on an array: a reduction, `len`, `dot`, an N-d method, or an
    /// elementwise method.
    fn array_method(&mut self, m: &syn::ExprMethodCall, node: NodeId, text: String) -> Value {
        let name = m.method.to_string();
        if let Some(v) = self.nd_method(m, node, &text) {
            return v;
        }
        if m.args.is_empty() {
            if let (vocab::LEN, Some(along)) = (name.as_str(), self.rows.as_ref().map(|r| r.along)) {
                let space = self.k().node_space(node);
                let x = self.k().leaves(space).and_then(|l| {
                    l.iter().find_map(|l| match l.src {
                        LeafSrc::Param(p) => Some(self.param_name(p).clone()),
                        LeafSrc::Reduced(_) => None,
                    })
                });
                if let (Some(x), false) = (x, self.is_per_row(node)) {
                    return scalar(super::rows::row_len(&x, along));
                }
            }
            if name == vocab::LEN {
                let space = self.k().nodes[node].space;
                let Some(p) = self.k().space_param(space) else {
                    let msg =
                        "`len()` of a loop index: the index is one number; use the range's bounds (`hi - lo`) instead";
                    return self.unsupported(&m.method, msg);
                };
                let p = self.param_name(p).clone();
                return scalar(quote!(#p.len()));
            }
            if let Some(kind) = RedKind::from_method(&name) {
                if let Some(v) = self.row_reduction(kind, node, None, text.clone()) {
                    return v;
                }
                let rank = self.k().space_rank(self.k().node_space(node));
                if matches!(kind, RedKind::ArgMin | RedKind::ArgMax) && rank != Rank::Static(1) {
                    let msg = format!("`{name}()` of an N-d array would be a flat index; write `{name}_axis(Axis(k))` for the index along axis `k`");
                    return self.unsupported(&m.method, &msg);
                }
                return self.reduction(kind, node, text);
            }
        }
        if let Some(kind) = vocab::ScanKind::from_method(&name) {
            return self.scan(m, kind, node);
        }
        if name == vocab::DOT && m.args.len() == 1 {
            let other = self.expr(&m.args[0]);
            let Value::Array(o) = other else {
                if matches!(other, Value::Error) {
                    return Value::Error;
                }
                return self
                    .unsupported(&m.args[0], "`dot` takes an array; for a scalar factor multiply instead (`x * s`)");
            };
            let rank = |n: NodeId| self.k().space_rank(self.k().node_space(n));
            let axis = match (rank(node), rank(o)) {
                (Rank::Static(1), Rank::Static(1)) => None,
                (Rank::Static(2), Rank::Static(1)) => Some(1),
                (Rank::Static(2), Rank::Static(2)) => {
                    return self.unsupported(m, "`dot` of two matrices is a matrix product: call ndarray's `a.dot(&b)` outside the kernel (it uses a tuned GEMM); inside a kernel `dot` is a matrix-vector product (2-D by 1-D) or a dot product (1-D by 1-D)");
                }
                _ => {
                    return self.unsupported(m, "`dot` in a kernel takes a 2-D array and a 1-D one (`a.dot(v)`, the product `(a * v).sum_axis(Axis(1))`) or two 1-D arrays");
                }
            };
            let star = BinOp::Mul(syn::Token![*](m.method.span()));
            return match (self.binary_values(Value::Array(node), star, other, m), axis) {
                (Value::Array(p), None) => self.reduction(RedKind::Sum, p, text),
                (Value::Array(p), Some(axis)) => self.axis_reduction_of(RedKind::Sum, p, axis, None, text),
                (other, _) => other,
            };
        }
        if vocab::method(&name).is_some() {
            let args = m.args.iter().map(|a| self.expr(a)).collect();
            return self.elementwise_method(m, Value::Array(node), args);
        }
        if let (Some(kind @ (RedKind::Var | RedKind::Std)), 1) = (RedKind::from_method(&name), m.args.len()) {
            // ndarray's `x.var(ddof)`: `1.0` is the sample variance.
            return match self.expr(&m.args[0]) {
                Value::Scalar(d) if self.rows.is_some() => {
                    self.row_reduction(kind, node, Some(d), text).expect("in a per-row loop")
                }
                Value::Scalar(d) => self.reduction_ddof(kind, node, Some(d), text),
                Value::Error => Value::Error,
                _ => self.unsupported(
                    &m.args[0],
                    "`ddof` is a scalar (`0.0` for the population variance, `1.0` for the sample variance)",
                ),
            };
        }
        if RedKind::from_method(&name).is_some() || name == vocab::LEN {
            let hint = if matches!(name.as_str(), "var" | "std") { " but `ddof` (`x.var(1.0)`)" } else { "" };
            return self.unsupported(&m.method, &format!("the reduction `{name}()` takes no arguments{hint}"));
        }
        if vocab::ITERATOR_METHODS.contains(&name.as_str()) {
            let msg = format!("`{name}` with a closure is not needed in a kernel: move the closure's body into a scalar `fn` and call it on the array (`f(x)` applies it to every element and fuses), or write a loop (`for v in x {{ .. }}`)");
            return self.unsupported(&m.method, &msg);
        }
        let msg = format!(
            "unsupported method `{name}` on an array; elementwise methods are Rust's float and integer methods ({}, ...), reductions are {}, scans are {}",
            vocab::methods_hint(),
            vocab::reductions_hint(),
            vocab::scans_hint()
        );
        self.unsupported(&m.method, &msg)
    }

    /// The N-d methods: axis reductions, views, `unwrap()` of `mean_axis`; `None` for any
    /// other method. NumPy's spelling of an axis reduction (`x.sum(Axis(0))`) gets a hint.
    fn nd_method(&mut self, m: &syn::ExprMethodCall, node: NodeId, text: &str) -> Option<Value> {
        let name = m.method.to_string();
        let nd_name = RedKind::from_axis_method(&name).is_some()
            || name == vocab::INSERT_AXIS
            || vocab::REVERSED.contains(&name.as_str());
        if nd_name && self.rows.is_some() {
            // A row is 1-D: its axis reductions and views would act on the whole matrix here.
            let msg = format!("`{name}` in a per-row loop: a row is a 1-D array, reduced whole (`row.sum()`); write axis reductions and views as whole-array expressions outside the loop");
            return Some(self.unsupported(&m.method, &msg));
        }
        if let Some(kind) = RedKind::from_axis_method(&name) {
            return Some(self.axis_reduction(m, kind, node, text));
        }
        if name == vocab::INSERT_AXIS || vocab::REVERSED.contains(&name.as_str()) || name == vocab::VIEW {
            return Some(self.view_method(m, node));
        }
        if vocab::OTHER_VIEWS.contains(&name.as_str()) {
            let msg = format!("`{name}` is not supported inside a kernel; the views a kernel has are `insert_axis(Axis(k))`, `t()`, `reversed_axes()` and `view()`: apply other views to the arrays before passing them (`f(x.{name}(..))`)");
            return Some(self.unsupported(&m.method, &msg));
        }
        if name == "unwrap" && m.args.is_empty() {
            if let Op::Leaf(Leaf { src: LeafSrc::Reduced(r), views }) = &self.k().nodes[node].op {
                if views.is_empty() && self.k().reductions[*r].kind == RedKind::Mean {
                    // ndarray's `mean_axis` is an `Option`, `None` on an empty axis.
                    let r = *r;
                    self.b.k.unwrapped.push(r);
                    return Some(Value::Array(node));
                }
            }
            return Some(self.unsupported(&m.method, "`unwrap()` applies to `mean_axis(..)` (ndarray's `Option`) only; in a kernel `mean_axis` is the array itself"));
        }
        let axis_call = m.args.len() == 1 && is_axis_call(&m.args[0]);
        if axis_call && (RedKind::from_method(&name).is_some() || name == "mean") {
            let msg = format!("an axis reduction is written `{name}_axis(Axis(k))` in a kernel (ndarray's name)");
            return Some(self.unsupported(&m.method, &msg));
        }
        None
    }

    /// `Axis(k)` with a literal `k`.
    pub(super) fn axis_arg(&mut self, e: &Expr) -> Option<usize> {
        let k = match e {
            Expr::Call(c) if is_axis_call(e) && c.args.len() == 1 => match &c.args[0] {
                Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. }) => n.base10_parse::<usize>().ok(),
                _ => None,
            },
            _ => None,
        };
        match k {
            None => self.ctxt.error(e, "an axis is written `Axis(k)` with a literal `k` (`Axis(0)`, `Axis(1)`, ..)"),
            Some(_) => {
                // One use of each spelling of the path is enough.
                let Expr::Call(c) = e else { unreachable!("an `Axis(k)` call") };
                let path = c.func.to_token_stream();
                if !self.b.k.axis_uses.iter().any(|u| u.to_string().starts_with(&path.to_string())) {
                    self.b.k.axis_uses.push(e.to_token_stream());
                }
            }
        }
        k
    }

    /// Checks `axis < rank` (or `<=` for `insert_axis`) when the rank is static.
    pub(super) fn check_axis(&mut self, at: &dyn ToTokens, axis: usize, rank: Rank, insert: bool) -> bool {
        match rank {
            Rank::Static(r) if axis > r || (!insert && axis == r) => {
                let msg = if insert {
                    format!("axis {axis} is out of bounds: a {r}-D array gets a new axis at 0..={r}")
                } else {
                    format!("axis {axis} is out of bounds for a {r}-D array (its axes are 0..{r})")
                };
                self.ctxt.error(at, msg);
                false
            }
            _ => true,
        }
    }

    /// `x.sum_axis(Axis(k))`, `x.var_axis(Axis(k), ddof)`, ...
    fn axis_reduction(&mut self, m: &syn::ExprMethodCall, kind: RedKind, node: NodeId, text: &str) -> Value {
        let name = m.method.to_string();
        let var = matches!(kind, RedKind::Var | RedKind::Std);
        let want = if var { 2 } else { 1 };
        if m.args.len() != want {
            let msg =
                if var { format!("`{name}` takes `(Axis(k), ddof)`") } else { format!("`{name}` takes `Axis(k)`") };
            return self.unsupported(m, &msg);
        }
        let Some(axis) = self.axis_arg(&m.args[0]) else { return Value::Error };
        let rank = self.k().space_rank(self.k().node_space(node));
        if self.k().leaves(self.k().node_space(node)).is_none() {
            let msg = format!(
                "`{name}` of a 1-D array: write the whole reduction (`x.{}()`)",
                name.trim_end_matches(vocab::AXIS_SUFFIX)
            );
            return self.unsupported(m, &msg);
        }
        if !self.check_axis(&m.args[0], axis, rank, false) {
            return Value::Error;
        }
        let ddof = if var {
            match self.expr(&m.args[1]) {
                Value::Scalar(s) => Some(s),
                Value::Error => return Value::Error,
                _ => {
                    return self.unsupported(
                        &m.args[1],
                        "`ddof` is a scalar (`0.0` for the population variance, `1.0` for the sample variance)",
                    )
                }
            }
        } else {
            None
        };
        self.axis_reduction_of(kind, node, axis, ddof, text.to_string())
    }

    /// The buffer of an axis reduction of `arg`, as an array value.
    pub(super) fn axis_reduction_of(
        &mut self,
        kind: RedKind,
        arg: NodeId,
        axis: usize,
        ddof: Option<Scalar>,
        text: String,
    ) -> Value {
        let mut deps = self.k().nodes[arg].deps.clone();
        if let Some(d) = &ddof {
            deps.extend(d.deps.iter().copied());
        }
        let span = self.k().nodes[arg].span;
        let (mean, mask) = if matches!(kind, RedKind::Var | RedKind::Std) {
            let m = self.mean_for(arg, Some(axis), &deps, &text);
            deps.insert(Dep::Red(m));
            let leaf = Leaf { src: LeafSrc::Reduced(m), views: vec![ViewOp::Insert(axis)] };
            let mut leaves = self.k().leaves(self.k().node_space(arg)).cloned().unwrap_or_default();
            leaves.insert(leaf.clone());
            let space = self.nd_space(leaves);
            (Some(m), Some(self.b.node(Op::Leaf(leaf), space, deps.clone(), span)))
        } else {
            (None, None)
        };
        let r = self.b.reduction(Reduction { kind, arg, axis: Some(axis), ddof, mask, mean, deps: deps.clone(), text });
        deps.insert(Dep::Red(r));
        let leaf = Leaf { src: LeafSrc::Reduced(r), views: Vec::new() };
        let space = self.nd_space([leaf.clone()].into());
        Value::Array(self.b.node(Op::Leaf(leaf), space, deps, span))
    }

    /// `x.insert_axis(Axis(k))`, `x.t()`, `x.reversed_axes()`, `x.view()`: views of a
    /// parameter or of an axis reduction's result.
    fn view_method(&mut self, m: &syn::ExprMethodCall, node: NodeId) -> Value {
        let name = m.method.to_string();
        let insert = name == vocab::INSERT_AXIS;
        if m.args.len() != usize::from(insert) {
            let msg = if insert { "`insert_axis` takes `Axis(k)`" } else { "this view takes no arguments" };
            return self.unsupported(m, msg);
        }
        if name == vocab::VIEW {
            return Value::Array(node);
        }
        let view = if insert {
            let Some(axis) = self.axis_arg(&m.args[0]) else { return Value::Error };
            let rank = self.k().space_rank(self.k().node_space(node));
            if !self.check_axis(&m.args[0], axis, rank, true) {
                return Value::Error;
            }
            ViewOp::Insert(axis)
        } else {
            ViewOp::Reverse
        };
        match self.view_of(node, view) {
            Ok(n) => Value::Array(n),
            Err(msg) => self.unsupported(&m.method, &msg),
        }
    }

    /// `node` seen through `view`: a view of each array it reads, so an elementwise value
    /// stays a loop over views, never a copy (`(x * x).sum_axis(Axis(1)).sqrt().insert_axis(Axis(1))`
    /// reads the reduced buffer through `.insert_axis(Axis(1))`). A leaf of lower rank than
    /// the value is aligned on the trailing axes, as broadcasting does.
    fn view_of(&mut self, node: NodeId, view: ViewOp) -> Result<NodeId, String> {
        let rank = self.k().space_rank(self.k().node_space(node));
        self.view_at(node, view, rank)
    }

    /// [`Self::view_of`] of `node`, an operand of a value of rank `rank`: a leaf of lower
    /// rank aligns with the value's trailing axes (`(x + w).t()` reads `w` as a column:
    /// `w.insert_axis(Axis(0)).t()`), not with those of the operand it is in.
    pub(super) fn view_at(&mut self, node: NodeId, view: ViewOp, rank: Rank) -> Result<NodeId, String> {
        let n = &self.k().nodes[node];
        let (deps, span) = (n.deps.clone(), n.span);
        let leaf = match &n.op {
            Op::Input(p) => match self.k().params[*p].kind {
                ParamKind::Input { nd: Some(_), .. } => Some(Leaf::param(*p)),
                _ => {
                    let name = self.param_name(*p);
                    return Err(format!(
                        "`{name}` is a slice, `Vec` or output: take it as `ArrayView1<T>` to view it as N-d"
                    ));
                }
            },
            Op::Leaf(l) => Some(l.clone()),
            Op::Current(_) | Op::Index | Op::Shifted(..) => {
                return Err("an output or a loop index cannot be viewed as N-d".to_string());
            }
            _ => None,
        };
        if let Some(mut leaf) = leaf {
            let (Rank::Static(r), Rank::Static(lr)) = (rank, self.k().leaf_rank(&leaf)) else {
                leaf.views.push(view);
                let space = self.nd_space([leaf.clone()].into());
                return Ok(self.b.node(Op::Leaf(leaf), space, deps, span));
            };
            match view {
                // An axis the leaf does not have: broadcasting adds it anyway.
                ViewOp::Insert(k) if k < r - lr => {}
                ViewOp::Insert(k) => leaf.views.push(ViewOp::Insert(k - (r - lr))),
                ViewOp::Reverse => {
                    leaf.views.extend((lr..r).map(|_| ViewOp::Insert(0)));
                    leaf.views.push(ViewOp::Reverse);
                }
            }
            let space = self.nd_space([leaf.clone()].into());
            return Ok(self.b.node(Op::Leaf(leaf), space, deps, span));
        }
        // Of unknown rank, the leaves align with the value only when there is one.
        let single = self.nd_leaves(self.k().node_space(node)).is_ok_and(|l| l.len() == 1);
        if rank == Rank::Dyn && !single {
            return Err("a view of a computed N-d value of unknown rank (`ArrayViewD`) reading several arrays: apply it to the arrays the value reads".to_string());
        }
        let op = &self.b.k.nodes[node].op;
        let operands: Vec<NodeId> =
            op.operands().into_iter().filter_map(|o| if let Operand::Array(a) = o { Some(*a) } else { None }).collect();
        let mut mapped = std::collections::HashMap::new();
        for a in operands {
            let v = self.view_at(a, view, rank)?;
            mapped.insert(a, v);
        }
        let op = self.b.k.nodes[node].op.map_arrays(&mut |a| mapped[&a]);
        let mut leaves = std::collections::BTreeSet::new();
        for &v in mapped.values() {
            leaves.extend(self.nd_leaves(self.k().node_space(v))?);
        }
        let space = self.nd_space(leaves);
        Ok(self.b.node(op, space, deps, span))
    }

    /// `x.cumsum()` (any scan of `vocab::SCANS`) of a 1-D array: a node of the same space,
    /// computed in order by the pass that needs it (`codegen`), never a temporary.
    fn scan(&mut self, m: &syn::ExprMethodCall, kind: vocab::ScanKind, node: NodeId) -> Value {
        let name = kind.name();
        if !m.args.is_empty() {
            let msg = format!("`{name}()` takes no arguments: it runs along the whole 1-D array, from its first element (NumPy's `axis` and `dtype` are not taken: cast first, `(x as i64).{name}()`)");
            return self.unsupported(&m.args, &msg);
        }
        if self.in_loop.is_some() {
            let recv = tidy(&m.receiver.to_token_stream());
            let msg = format!("`{name}()` in a loop: there `{recv}` is one element; keep the running value in the loop (`acc += v; out[i] = acc;`), or call `{name}()` on the array outside the loop");
            return self.unsupported(&m.method, &msg);
        }
        if self.k().leaves(self.k().node_space(node)).is_some() {
            let msg = format!("`{name}()` of an N-d array is not supported: scans run along 1-D arrays (`ArrayView1<T>`, `&[T]`); for one row, pass the row (`a.row(i)`) to a 1-D kernel");
            return self.unsupported(&m.method, &msg);
        }
        let v = self.elementwise(vec![Value::Array(node)], m, |ops| {
            Op::Scan(kind, ops.into_iter().next().expect("the scanned array"))
        });
        v.expect("an array operand")
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
        if let Some(v) = self.elementwise(args.clone(), c, |ops| Op::Call(f, ops)) {
            return v;
        }
        let Some((deps, toks)) = self.scalar_args(args, c) else { return Value::Error };
        let f = &c.func;
        Value::Scalar(Scalar { tokens: quote!(#f(#(#toks),*)), deps })
    }

    /// The tokens and deps of a scalar call's arguments; `None` after an error (a tuple
    /// argument is reported here).
    fn scalar_args(&mut self, args: Vec<Value>, at: &dyn ToTokens) -> Option<(Deps, Vec<TokenStream>)> {
        let mut deps = Deps::new();
        let mut toks = Vec::new();
        for a in args {
            match a {
                Value::Scalar(a) => {
                    deps.extend(a.deps);
                    toks.push(a.tokens);
                }
                Value::Error => return None,
                _ => {
                    self.unsupported(at, "tuples are only supported as the kernel's result");
                    return None;
                }
            }
        }
        Some((deps, toks))
    }

    fn if_expr(&mut self, i: &syn::ExprIf) -> Value {
        let Some((_, else_branch)) = &i.else_branch else {
            return self.unsupported(
                i,
                "an `if` in a kernel needs an `else`: it is a value (an elementwise select on a mask)",
            );
        };
        let cond = self.expr(&i.cond);
        // A condition known before any loop is bound first, so that each branch's reductions
        // can run only when it is taken (`guarded`).
        let guard = match &cond {
            Value::Scalar(c) if c.deps.is_empty() && self.in_loop.is_none() && self.rows.is_none() => {
                let name = names::guard(self.hoisted);
                self.hoisted += 1;
                let ty: syn::Type = syn::parse_quote!(bool);
                let value = c.clone();
                self.b.k.lets.push(ScalarLet {
                    name: name.clone(),
                    mutable: false,
                    ty: Some(ty),
                    value,
                    kind: LetKind::Plain,
                });
                Some(name)
            }
            _ => None,
        };
        let cond = match &guard {
            Some(name) => Value::Scalar(Scalar::new(name.to_token_stream())),
            None => cond,
        };
        let before = self.effects();
        let branch = |me: &mut Self, taken: bool, f: &dyn Fn(&mut Self) -> Value| {
            if let Some(g) = &guard {
                me.path.push((g.clone(), taken));
            }
            let v = f(me);
            if guard.is_some() {
                me.path.pop();
            }
            v
        };
        let then_v = branch(self, true, &|me| me.block_value(&i.then_branch));
        let middle = self.effects();
        let else_v = branch(self, false, &|me| me.expr(else_branch));
        let after = self.effects();
        let parts = vec![cond.clone(), then_v.clone(), else_v.clone()];
        if let Some(v) = self.elementwise(parts, i, |ops| {
            let mut it = ops.into_iter();
            Op::Select(it.next().expect("c"), it.next().expect("a"), it.next().expect("b"))
        }) {
            // Both branches are computed for every element.
            self.cut_always(before.lets..after.lets);
            return v;
        }
        match (cond, then_v, else_v) {
            (Value::Scalar(c), Value::Scalar(a), Value::Scalar(b)) => {
                let (tc, ta, tb) = (c.tokens, a.tokens, b.tokens);
                let tokens = quote!((if #tc { #ta } else { #tb }));
                if let Some(name) = guard.filter(|_| self.guarded(&before, &middle, &after, &a.deps, &b.deps)) {
                    let g = self.b.k.guards.len();
                    let text = crate::lower::tidy(&i.cond.to_token_stream());
                    let (then_lets, else_lets) = (before.lets..middle.lets, middle.lets..after.lets);
                    self.b.k.guards.push(Guard { name, then: a.deps, els: b.deps, then_lets, else_lets, text });
                    return Value::Scalar(Scalar { tokens, deps: [Dep::Guard(g)].into() });
                }
                self.cut_always(before.lets..after.lets);
                let mut deps = c.deps;
                deps.extend(a.deps);
                deps.extend(b.deps);
                Value::Scalar(Scalar { tokens, deps })
            }
            _ => {
                self.cut_always(before.lets..after.lets);
                Value::Error
            }
        }
    }

    /// How much of the kernel lowering has made so far, to tell what a branch added.
    fn effects(&self) -> Effects {
        let k = self.k();
        let plain = k.lets.iter().filter(|l| matches!(l.kind, LetKind::Plain)).count();
        let reductions = k.reductions.count();
        Effects { lets: k.lets.len(), plain, sinks: k.sinks.len(), loops: k.loops.count(), reductions }
    }

    /// Whether an `if` with a condition known first decides which reductions run: a branch
    /// needs a reduction, and the branches only computed values (scalar lets, which are then
    /// computed only when their branch is taken; a slice is one, cut only on its branch), no
    /// loops, writes or checks, which run as written, and no axis reduction (its buffer's
    /// pass writes, and may fuse with others: the plan would not skip it).
    fn guarded(&self, before: &Effects, middle: &Effects, after: &Effects, a: &Deps, b: &Deps) -> bool {
        let only_values = |from: &Effects, to: &Effects| {
            let axis = self
                .k()
                .reductions
                .iter()
                .skip(from.reductions)
                .take(to.reductions - from.reductions)
                .any(|(_, r)| r.axis.is_some());
            to.lets - from.lets == to.plain - from.plain && (to.sinks, to.loops) == (from.sinks, from.loops) && !axis
        };
        let reduces = a.iter().chain(b).any(|d| matches!(d, Dep::Red(_) | Dep::Guard(_)));
        reduces && only_values(before, middle) && only_values(middle, after)
    }

    pub(super) fn block_value(&mut self, block: &syn::Block) -> Value {
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
        value.unwrap_or_else(|| self.unsupported(block, "this block must end in a value"))
    }
}

/// Counts of what lowering made (`Lower::effects`).
struct Effects {
    lets: usize,
    plain: usize,
    sinks: usize,
    loops: usize,
    reductions: usize,
}

/// `Axis(..)` or `ndarray::Axis(..)`.
fn is_axis_call(e: &Expr) -> bool {
    matches!(e, Expr::Call(c) if matches!(&*c.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Axis")))
}

/// A scalar's tokens wrapped by `f`; arrays and errors as they are.
fn map_scalar(v: Value, f: impl FnOnce(TokenStream) -> TokenStream) -> Value {
    match v {
        Value::Scalar(s) => Value::Scalar(Scalar { tokens: f(s.tokens), deps: s.deps }),
        other => other,
    }
}
