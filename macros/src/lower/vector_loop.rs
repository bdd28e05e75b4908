//! Explicit loops lowered into the IR (Numba style): `for x in a`,
//! `for (i, x) in a.iter().enumerate()`, `for (x, y) in a.iter().zip(b)`, `for i in lo..hi`.
//!
//! [`classify`](super::classify) decided beforehand that the loop only computes per-element
//! values, updates accumulators in reduction form (`acc += e`, `acc -= e`, `acc *= e`,
//! `acc = acc.max(e)`, `acc = acc.min(e)`, `if c { acc += e }`) and writes `out[i]`. Here the
//! loop variable becomes an array node and each accumulator a reduction: the loop fuses,
//! vectorizes with the lane accumulators, and gives the same bits as the expression form.

use super::classify::{index_offset, Kind};
use super::*;
use quote::quote;
use std::collections::BTreeSet;
use syn::spanned::Spanned;
use syn::BinOp;

/// What the lowering of one vectorized loop knows.
pub(super) struct LoopCtx {
    /// The loop's iteration space.
    pub(super) space: SpaceId,
    /// The name of the loop index, if any (`for i in ..`, `.enumerate()`).
    index: Option<String>,
    /// Accumulators: scalars declared before the loop that it updates.
    accumulators: BTreeSet<String>,
    /// Outputs the body writes (`out[i] = ..`), and the value written so far this iteration.
    writes: BTreeSet<String>,
    pub(super) written: HashMap<ParamId, NodeId>,
    /// The loop's reductions, and its writes (to `Kernel::sinks` at the end).
    reductions: Vec<RedId>,
    /// A nest's windows (`nest.rs`); `None` for a 1-D loop.
    pub(super) nest: Option<super::nest::NestCtx>,
}

impl Lower<'_> {
    /// A `for` loop: vectorized if [`classify`](super::classify) says it can be, else in order.
    pub(super) fn for_loop(&mut self, f: &syn::ExprForLoop) {
        if self.try_rows(f) || self.try_nest(f) {
            return;
        }
        match self.classify(f) {
            Kind::Vector(plan) => self.vector_loop(f, plan),
            Kind::InOrder => self.in_order_loop(&Expr::ForLoop(f.clone())),
        }
    }

    fn vector_loop(&mut self, f: &syn::ExprForLoop, plan: super::classify::VectorLoop) {
        self.scopes.push(HashMap::new());
        let (space, index) = self.loop_header(&f.pat, &f.expr);
        // The header's bindings (the index, the elements) are the body's scope.
        let header = self.scopes.pop().expect("the header's scope");
        self.vector_body(space, index, plan, &f.body.stmts, None, header);
    }

    /// The body of a vectorized loop (or of a nest's innermost loop) over `space`.
    pub(super) fn vector_body(
        &mut self,
        space: SpaceId,
        index: Option<String>,
        plan: super::classify::VectorLoop,
        stmts: &[Stmt],
        nest: Option<super::nest::NestCtx>,
        header: HashMap<String, Binding>,
    ) {
        self.scopes.push(header);
        self.in_loop = Some(LoopCtx {
            space,
            index,
            accumulators: plan.accumulators,
            writes: plan.writes,
            written: HashMap::new(),
            reductions: Vec::new(),
            nest,
        });
        for stmt in stmts {
            match stmt {
                Stmt::Local(l) => self.local(l),
                Stmt::Expr(e, _) => self.loop_effect(e),
                _ => unreachable!("classified"),
            }
        }
        self.scopes.pop();
        let ctx = self.in_loop.take().expect("in the loop");
        // The loop's writes, the last value written to each output in an iteration. A nest
        // writes whole windows, which its pass covers exactly.
        let window = ctx.nest.is_none();
        let mut sinks = Vec::new();
        let mut written: Vec<_> = ctx.written.into_iter().collect();
        written.sort();
        for &(p, node) in &written {
            let after = self.loop_written.get(&p).cloned().unwrap_or_default();
            sinks.push(self.k().sinks.len());
            self.b.k.sinks.push(Sink { target: SinkTarget::Param(p), node, window, after, select: None });
        }
        // Later uses of what this loop wrote wait for all of it.
        let l = self.b.k.loops.push(Loop { reductions: ctx.reductions, sinks });
        for (p, _) in written {
            self.loop_written.insert(p, [Dep::Loop(l)].into_iter().collect());
            // Reads of `p` from here on see what the loop wrote.
            self.out_current.remove(&p);
        }
    }

    /// Binds the loop pattern; returns the loop's space and index name.
    fn loop_header(&mut self, pat: &Pat, iter: &Expr) -> (SpaceId, Option<String>) {
        if let Expr::Range(r) = iter {
            let (Some(lo), Some(hi)) = (&r.start, &r.end) else { unreachable!("classified") };
            let (Value::Scalar(lo), Value::Scalar(hi)) = (self.expr(lo), self.expr(hi)) else {
                unreachable!("classified")
            };
            let Pat::Ident(i) = pat else { unreachable!("classified") };
            let deps: Deps = lo.deps.iter().chain(&hi.deps).copied().collect();
            let space = self.b.k.spaces.add(Space::Range(LoopRange { lo, hi }));
            let node = self.b.node(Op::Index, space, deps, i.span());
            self.bind(i.ident.to_string(), Binding::Array(node));
            return (space, Some(i.ident.to_string()));
        }
        let (elements, enumerate) = self.iter_chain(iter);
        let space = self.k().nodes[elements[0]].space;
        let (index, elems_pat) = match (pat, enumerate) {
            (Pat::Tuple(t), true) => {
                let index = super::classify::pat_name(&t.elems[0]).expect("classified");
                let node = self.b.node(Op::Index, space, Deps::new(), t.elems[0].span());
                self.bind(index.clone(), Binding::Array(node));
                (Some(index), &t.elems[1])
            }
            (p, _) => (None, p),
        };
        let names = super::classify::element_pats(elems_pat, elements.len()).expect("classified");
        for (n, &e) in names.iter().zip(&elements) {
            self.bind(n.clone(), Binding::Array(e));
        }
        (space, index)
    }

    /// `a`, `&a`, `a.iter()`, `.copied()`, `.cloned()`, `.zip(b)`, `.enumerate()` ->
    /// the element nodes (zip order) and whether the chain ends in `.enumerate()`.
    fn iter_chain(&mut self, e: &Expr) -> (Vec<NodeId>, bool) {
        match e {
            Expr::Reference(r) => self.iter_chain(&r.expr),
            Expr::Paren(p) => self.iter_chain(&p.expr),
            Expr::MethodCall(m) => match m.method.to_string().as_str() {
                "enumerate" => (self.iter_chain(&m.receiver).0, true),
                "zip" => {
                    let (mut nodes, _) = self.iter_chain(&m.receiver);
                    let (other, _) = self.iter_chain(&m.args[0]);
                    // Unlike `Iterator::zip`, unequal lengths are an error, never a silent
                    // truncation.
                    let (a, b) = (self.k().nodes[nodes[0]].space, self.k().nodes[other[0]].space);
                    self.b.unify(a, b);
                    nodes.extend(other);
                    (nodes, false)
                }
                _ => self.iter_chain(&m.receiver),
            },
            _ => match self.expr(e) {
                Value::Array(n) => (vec![n], false),
                _ => unreachable!("classified"),
            },
        }
    }

    /// Whether reading `name` reads an accumulator of the loop being lowered (`classify`
    /// keeps such loops in order; a guard, never taken by any test).
    pub(super) fn reads_accumulator(&self, name: &str) -> bool {
        self.in_loop.as_ref().is_some_and(|c| c.accumulators.contains(name))
            && !self.scopes.last().is_some_and(|s| s.contains_key(name))
    }

    pub(super) fn ctx(&self) -> &LoopCtx {
        self.in_loop.as_ref().expect("in a loop")
    }

    /// The statements a vectorizable loop may contain (as classified).
    fn loop_effect(&mut self, e: &Expr) {
        match e {
            // acc += e, acc -= e, acc *= e
            Expr::Binary(b) if self.is_accumulator(&b.left) => {
                let name = target_name(&b.left).expect("a name");
                let kind = match b.op {
                    BinOp::MulAssign(_) => RedKind::Prod,
                    _ => RedKind::Sum,
                };
                let rhs = self.expr(&b.right);
                let op = compound_base(&b.op).expect("compound");
                self.accumulate(&name, kind, None, rhs, e, |init, r| quote!(#init #op #r));
            }
            Expr::Binary(b) => self.output_write(&b.left, Some(b.op), &b.right),
            // acc = acc.max(e) / acc.min(e) / e.max(acc)
            Expr::Assign(a) if self.is_accumulator(&a.left) => {
                let name = target_name(&a.left).expect("a name");
                let (kind, other) = super::classify::extremum_update(&a.right, &name).expect("classified");
                let Expr::MethodCall(m) = &*a.right else { unreachable!("classified") };
                let rhs = self.expr(other);
                let method = m.method.clone();
                self.accumulate(&name, kind, None, rhs, e, |init, r| quote!(#init.#method(#r)));
            }
            Expr::Assign(a) => self.output_write(&a.left, None, &a.right),
            // if c { acc += e; }
            Expr::If(i) => {
                let Stmt::Expr(Expr::Binary(b), _) = &i.then_branch.stmts[0] else { unreachable!("classified") };
                let name = target_name(&b.left).expect("a name");
                let mask = self.expr(&i.cond);
                let rhs = self.expr(&b.right);
                let plus = BinOp::Add(syn::Token![+](b.op.span()));
                self.accumulate(&name, RedKind::SumWhere, Some(mask), rhs, e, |init, r| quote!(#init #plus #r));
            }
            _ => unreachable!("classified"),
        }
    }

    fn is_accumulator(&self, e: &Expr) -> bool {
        target_name(e).is_some_and(|n| matches!(e, Expr::Path(_)) && self.ctx().accumulators.contains(&n))
    }

    /// Records `acc (op)= rhs` as a reduction of the loop and binds `acc` after the loop to
    /// `finish(init, result)`.
    fn accumulate(
        &mut self,
        name: &str,
        kind: RedKind,
        mask: Option<Value>,
        rhs: Value,
        at: &Expr,
        finish: impl FnOnce(&TokenStream, &syn::Ident) -> TokenStream,
    ) {
        let Some(Binding::Scalar(init)) = self.lookup_outer(name) else { unreachable!("classified") };
        let Some(arg) = self.loop_node(rhs, at) else { return };
        let mask = match mask {
            Some(m) => match self.loop_node(m, at) {
                Some(m) => Some(m),
                None => return,
            },
            None => None,
        };
        let mut deps = self.k().nodes[arg].deps.clone();
        if let Some(m) = mask {
            deps.extend(self.k().nodes[m].deps.iter().copied());
        }
        let text = tidy(&at.to_token_stream());
        let r = self.b.accumulator(Reduction {
            kind,
            arg,
            axis: None,
            ddof: None,
            mask,
            mean: None,
            deps: deps.clone(),
            text,
        });
        self.in_loop.as_mut().expect("in a loop").reductions.push(r);
        deps.insert(Dep::Red(r));
        deps.extend(init.deps.iter().copied());
        let tokens = finish(&init.tokens, &names::reduction(r));
        let ident = syn::Ident::new(name, at.span());
        let value = self.new_let(&ident, None, Scalar { tokens, deps });
        // The accumulator's scope is outside the loop: bind the new value there.
        let n = self.scopes.len();
        for s in self.scopes[..n - 1].iter_mut().rev() {
            if let Some(slot) = s.get_mut(name) {
                *slot = Binding::Scalar(value);
                break;
            }
        }
    }

    /// The binding of `name` outside the loop's own scope.
    pub(super) fn lookup_outer(&self, name: &str) -> Option<Binding> {
        let n = self.scopes.len();
        self.scopes[..n - 1].iter().rev().find_map(|s| s.get(name).cloned())
    }

    /// A value inside the loop as a node of the loop's space (a scalar is broadcast).
    fn loop_node(&mut self, v: Value, at: &Expr) -> Option<NodeId> {
        let space = self.ctx().space;
        match v {
            Value::Array(n) if self.k().spaces.root(self.k().nodes[n].space) == self.k().spaces.root(space) => Some(n),
            Value::Scalar(s) => {
                let deps = s.deps.clone();
                let s = self.hoist(s);
                Some(self.b.node(Op::Splat(s), space, deps, at.span()))
            }
            Value::Error => None,
            _ => {
                self.not_vectorizable(at);
                None
            }
        }
    }

    /// `out[i] = e` / `out[i] op= e` for the loop index `i` and an output `out`.
    fn output_write(&mut self, target: &Expr, op: Option<BinOp>, rhs: &Expr) {
        let Expr::Index(ix) = target else { unreachable!("classified") };
        let p = match &self.ctx().nest {
            Some(nest) => nest.windows[&super::nest::access(ix, &nest.vars).expect("classified")],
            None => match target_name(&ix.expr).and_then(|n| self.lookup(&n)) {
                Some(Binding::Output(p)) => p,
                _ => unreachable!("classified"),
            },
        };
        let space = self.ctx().space;
        let mut value = self.expr(rhs);
        let written = self.ctx().written.get(&p).copied();
        if let Some(op) = op {
            let current = match (written, self.ctx().nest.is_some()) {
                (Some(n), _) => n,
                (None, true) => match self.nest_index(ix) {
                    Value::Array(n) => n,
                    _ => unreachable!("a window's element"),
                },
                (None, false) => self.b.node(Op::Shifted(p, 0), space, Deps::new(), target.span()),
            };
            let base = compound_base(&op).expect("compound");
            value = self.binary_values(Value::Array(current), base, value, rhs);
        }
        // Written twice in one iteration: the last write wins.
        if let Some(node) = self.loop_node(value, rhs) {
            self.in_loop.as_mut().expect("in a loop").written.insert(p, node);
        }
    }

    /// `x[i + k]` inside a vectorizable loop over `i`.
    pub(super) fn loop_index(&mut self, ix: &syn::ExprIndex) -> Value {
        if self.ctx().nest.is_some() {
            return self.nest_index(ix);
        }
        let ctx = self.ctx();
        let (space, index) = (ctx.space, ctx.index.clone().expect("classified"));
        let offset = index_offset(&ix.index, &index).expect("classified");
        let name = target_name(&ix.expr).unwrap_or_default();
        let p = match self.lookup(&name) {
            Some(Binding::Input(p)) => p,
            Some(Binding::Output(p)) => {
                if let Some(&n) = self.ctx().written.get(&p).filter(|_| offset == 0) {
                    // `out[i]` after `out[i] = v` in the same iteration reads `v`.
                    return Value::Array(n);
                }
                debug_assert!(offset == 0 || !self.ctx().writes.contains(&name), "classified");
                p
            }
            _ => unreachable!("classified"),
        };
        let after = self.loop_written.get(&p).cloned().unwrap_or_default();
        Value::Array(self.b.node(Op::Shifted(p, offset), space, after, ix.span()))
    }
}
