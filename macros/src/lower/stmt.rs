//! Statements: `let`, compound assignment, `out[..] = e`, loops.

use super::*;
use syn::spanned::Spanned;

impl Lower<'_> {
    pub(super) fn stmt(&mut self, stmt: &Stmt) {
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

    /// `let name = e;` / `let name: T = e;`.
    pub(super) fn local(&mut self, l: &syn::Local) {
        if let (Pat::Tuple(t), Some(init)) = (&l.pat, &l.init) {
            return self.tuple_let(t, init);
        }
        let Some((ident, ty)) = let_name(&l.pat) else {
            let pat = match &l.pat {
                Pat::Type(pt) => &*pt.pat,
                p => p,
            };
            self.ctxt.error(pat, "only `let name = ...` bindings are supported in a kernel");
            return;
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
        let value = self.expr(&init.expr);
        self.bind_value(&ident, ty, value, &init.expr);
    }

    /// `let (a, b) = (x.min(), x.max());`: each name bound to its part (nested tuples too).
    fn tuple_let(&mut self, t: &syn::PatTuple, init: &syn::LocalInit) {
        if let Some((_, diverge)) = &init.diverge {
            self.ctxt.error(diverge, "`let ... else` is not supported in a kernel");
        }
        let value = self.expr(&init.expr);
        self.bind_tuple(t, value, &init.expr);
    }

    fn bind_tuple(&mut self, t: &syn::PatTuple, value: Value, at: &Expr) {
        let parts = match value {
            Value::Tuple(parts) if parts.len() == t.elems.len() => parts,
            Value::Error => vec![Value::Error; t.elems.len()],
            _ => {
                let msg = format!("a tuple pattern of {} names takes a tuple of {} values written out (`let (a, b) = (x.min(), x.max());`)", t.elems.len(), t.elems.len());
                self.ctxt.error(at, msg);
                vec![Value::Error; t.elems.len()]
            }
        };
        for (pat, v) in t.elems.iter().zip(parts) {
            match pat {
                Pat::Tuple(inner) => self.bind_tuple(inner, v, at),
                Pat::Wild(_) => {}
                p => match let_name(p) {
                    Some((ident, ty)) => self.bind_value(&ident, ty, v, at),
                    None => self.ctxt.error(p, "only names are supported in a tuple `let` (`let (a, b) = ..`)"),
                },
            }
        }
    }

    /// Binds `ident` to a lowered value.
    fn bind_value(&mut self, ident: &syn::Ident, ty: Option<Type>, value: Value, at: &Expr) {
        let name = ident.to_string();
        let binding = match value {
            Value::Array(n) => Binding::Array(n),
            Value::Scalar(s) => Binding::Scalar(self.new_let(ident, ty, s)),
            Value::Error => Binding::Poison,
            // `let b = out;` of a local output: another name for it.
            Value::Local(p) => Binding::Output(p),
            // `let pos = x[x > 0.0];`, reduced later (`pos.mean()`).
            Value::Selection { arr, mask } => Binding::Selection { arr, mask },
            Value::Tuple(_) | Value::Ok(_) => {
                self.ctxt.error(at, "a tuple is bound with a tuple pattern (`let (a, b) = (x.min(), x.max());`); `Ok(..)` is only supported as the kernel's result");
                Binding::Poison
            }
        };
        self.bind(name, binding);
    }

    /// A statement for its effect: compound assignment, assignment, output writes, loops.
    pub(super) fn effect(&mut self, e: &Expr) {
        match e {
            Expr::Binary(b) if compound_base(&b.op).is_some() => self.compound(e, b),
            Expr::Assign(a) => self.assign(a),
            Expr::If(i) if self.early_return(i) => {}
            Expr::If(_) | Expr::Block(_) => {
                self.ctxt.error(
                    e,
                    "an `if` or block used as a statement has no effect in a kernel; bind its value with `let`",
                );
            }
            Expr::Return(r) => self.ctxt.error(r, "`return` is supported as the last statement of a kernel, or under a scalar `if` at its top level (`if x.len() < 2 { return f64::NAN; }`)"),
            Expr::ForLoop(f) => self.for_loop(f),
            Expr::While(_) => self.in_order_loop(e),
            Expr::Loop(l) => self.ctxt.error(l.loop_token, "`loop` is not supported in a kernel; use `for` or `while`"),
            Expr::MethodCall(m) if crate::vocab::SORTS.contains(&m.method.to_string().as_str()) => {
                let msg = format!("`{}` reorders an array in place, which a kernel does not do: sort before calling the kernel (`v.sort_by(f64::total_cmp)`); inside a kernel, `min`, `max`, `argmin` and `argmax` find extremes without sorting", m.method);
                self.ctxt.error(&m.method, msg);
            }
            _ => {
                self.ctxt.error(e, "this statement has no effect in a kernel; bind it with `let`, return it, or write it to an output (`out[..] = ...`)");
            }
        }
    }

    /// `y += e`, `y[..] -= e`, `s *= 2.0` outside loops.
    fn compound(&mut self, e: &Expr, b: &syn::ExprBinary) {
        let op = compound_base(&b.op).expect("checked");
        let Some(name) = target_name(&b.left) else {
            self.ctxt.error(&b.left, "compound assignment needs a local name or an output (`y += x`, `y[..] += x`)");
            return;
        };
        let rhs = self.expr(&b.right);
        let binding = self.lookup(&name);
        let current = match &binding {
            Some(Binding::Array(n)) => Value::Array(*n),
            Some(Binding::Scalar(s)) => Value::Scalar(s.clone()),
            Some(Binding::Output(p)) if self.is_local(*p) => Value::Local(*p),
            Some(Binding::Output(p)) => Value::Array(self.output_value(*p, b.left.span())),
            Some(Binding::Input(_)) => {
                let msg =
                    format!("`{name}` is an input; only `&mut` outputs and local `let mut` bindings can be updated");
                self.ctxt.error(&b.left, msg);
                return;
            }
            Some(Binding::Poison) => return,
            Some(Binding::Selection { .. }) => {
                self.ctxt.error(&b.left, crate::lower::SELECTION_USE);
                return;
            }
            None => {
                self.ctxt.error(&b.left, format!("`{name}` is not a local binding or an output of this kernel"));
                return;
            }
        };
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

    fn assign(&mut self, a: &syn::ExprAssign) {
        match &*a.left {
            Expr::Index(ix) if is_full_range(&ix.index) => self.fill(ix, &a.right),
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

    /// `out[..] = e`: every element of an output.
    fn fill(&mut self, ix: &syn::ExprIndex, rhs: &Expr) {
        let v = self.expr(rhs);
        self.fill_value(ix, v, rhs);
    }

    /// `out[..] = v` for `v` lowered from `rhs`.
    pub(super) fn fill_value(&mut self, ix: &syn::ExprIndex, v: Value, rhs: &Expr) {
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
        let space = self.k().params[p].space.expect("an array parameter");
        let nd_out = self.k().leaves(space).is_some();
        match v {
            Value::Array(n) if nd_out || self.k().leaves(self.k().node_space(n)).is_some() => {
                // N-d: the write runs over the output's shape, which the value must fit
                // (checked before any work): the value's node over a space with the output.
                let mut leaves = match self.nd_leaves(self.k().node_space(n)) {
                    Ok(l) => l,
                    Err(msg) => {
                        self.ctxt.error(rhs, msg);
                        return;
                    }
                };
                match self.nd_leaves(space) {
                    Ok(l) => leaves.extend(l),
                    Err(msg) => {
                        self.ctxt.error(&ix.expr, msg);
                        return;
                    }
                }
                let space = self.nd_space(leaves);
                let node = &self.b.k.nodes[n];
                let (deps, span) = (node.deps.clone(), node.span);
                let op = node.op.map_arrays(&mut |a| a);
                let n = self.b.node(op, space, deps, span);
                self.out_current.insert(p, n);
            }
            Value::Array(n) => {
                let s = self.k().nodes[n].space;
                if !self.b.unify(space, s) {
                    self.not_vectorizable(rhs);
                    return;
                }
                self.out_current.insert(p, n);
            }
            Value::Scalar(s) => {
                let deps = s.deps.clone();
                let s = self.hoist(s);
                let n = self.b.node(Op::Splat(s), space, deps, rhs.span());
                self.out_current.insert(p, n);
            }
            Value::Error => {}
            _ => self.ctxt.error(rhs, "tuples and `Ok(..)` are only supported as the kernel's result"),
        }
    }
}

/// The name and type of `let name` / `let name: T` (not `ref`, not `name @ pat`).
pub(super) fn let_name(pat: &Pat) -> Option<(syn::Ident, Option<Type>)> {
    match pat {
        Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => Some((pi.ident.clone(), None)),
        Pat::Type(pt) => match &*pt.pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                Some((pi.ident.clone(), Some((*pt.ty).clone())))
            }
            _ => None,
        },
        _ => None,
    }
}
