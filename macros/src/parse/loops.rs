//! Explicit loops (Numba style): `for x in a`, `for (i, x) in a.iter().enumerate()`,
//! `for (x, y) in a.iter().zip(b)`, `for i in lo..hi`, `while`.
//!
//! A loop whose body only computes per-element values, updates accumulators in reduction
//! form (`acc += e`, `acc -= e`, `acc *= e`, `acc = acc.max(e)`, `acc = acc.min(e)`,
//! `if c { acc += e }`) and writes `out[i]`, is lowered into the same IR as array
//! expressions: the loop variable is an array node, each accumulator a reduction. It fuses,
//! vectorizes with the lane accumulators, and gives the same bits as the expression form.
//!
//! Anything else (a `break`, an accumulator read inside the loop, a running value written
//! to `out[i]`, `while`) keeps its exact sequential meaning: the loop is emitted as the
//! plain Rust loop it is, over the parameters as slices.

use super::*;
use std::collections::BTreeSet;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

/// Why a loop cannot be vectorized: it is emitted sequentially instead.
pub(super) struct Sequential;

type Try<T> = Result<T, Sequential>;

/// What the vectorizing lowering of one loop knows.
pub(super) struct LoopCtx {
    /// The loop's length class.
    class: Class,
    /// The name of the loop index, if any (`for i in ..`, `.enumerate()`).
    index: Option<String>,
    /// Scalars assigned in the body: reading one makes the loop sequential.
    mutated: BTreeSet<String>,
    /// Accumulators updated so far.
    updated: BTreeSet<String>,
    /// Outputs the body writes (`out[i] = ..`), and the value written so far this iteration.
    writes: BTreeSet<String>,
    written: HashMap<usize, NodeId>,
}

/// Outputs written as `out[..] = ..` or `out[..] op= ..` in a loop body.
fn written_outputs(body: &syn::Block) -> BTreeSet<String> {
    struct V(BTreeSet<String>);
    impl<'ast> Visit<'ast> for V {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            if let Expr::Index(ix) = &*a.left {
                self.0.extend(target_name(&ix.expr));
            }
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            if let (Some(_), Expr::Index(ix)) = (compound_base(&b.op), &*b.left) {
                self.0.extend(target_name(&ix.expr));
            }
            syn::visit::visit_expr_binary(self, b);
        }
    }
    let mut v = V(BTreeSet::new());
    v.visit_block(body);
    v.0
}

struct Snapshot {
    nodes: usize,
    reductions: usize,
    lets: usize,
    sinks: usize,
    checks: usize,
    ranges: usize,
    class_parent: Vec<usize>,
    scopes: Vec<HashMap<String, Binding>>,
    out_current: HashMap<usize, NodeId>,
    node_keys: HashMap<String, NodeId>,
    loop_written: HashMap<usize, Deps>,
    name_counts: HashMap<String, usize>,
    errors: usize,
}

/// Names assigned anywhere in a loop body (`x = ..`, `x += ..`), not counting `out[..]`.
fn assigned_names(body: &syn::Block) -> BTreeSet<String> {
    struct V(BTreeSet<String>);
    impl<'ast> Visit<'ast> for V {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            if let Expr::Path(p) = &*a.left {
                if let Some(i) = p.path.get_ident() {
                    self.0.insert(i.to_string());
                }
            }
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            if compound_base(&b.op).is_some() {
                if let Expr::Path(p) = &*b.left {
                    if let Some(i) = p.path.get_ident() {
                        self.0.insert(i.to_string());
                    }
                }
            }
            syn::visit::visit_expr_binary(self, b);
        }
    }
    let mut v = V(BTreeSet::new());
    v.visit_block(body);
    v.0
}

/// Names bound anywhere inside a loop (its pattern and its `let`s).
fn bound_names(pat: Option<&Pat>, body: &syn::Block) -> BTreeSet<String> {
    struct V(BTreeSet<String>);
    impl<'ast> Visit<'ast> for V {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.insert(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }
    }
    let mut v = V(BTreeSet::new());
    if let Some(p) = pat {
        v.visit_pat(p);
    }
    v.visit_block(body);
    v.0
}

/// `i`, `i + 3`, `i - 1` for the loop index `i` -> the offset.
fn index_offset(e: &Expr, index: &str) -> Option<isize> {
    match e {
        Expr::Path(p) if p.path.is_ident(index) => Some(0),
        Expr::Paren(p) => index_offset(&p.expr, index),
        Expr::Binary(b) => {
            let k = match &*b.right {
                Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(k), .. }) => k.base10_parse::<isize>().ok()?,
                _ => return None,
            };
            let base = index_offset(&b.left, index)?;
            match b.op {
                BinOp::Add(_) => Some(base + k),
                BinOp::Sub(_) => Some(base - k),
                _ => None,
            }
        }
        _ => None,
    }
}

impl Lower<'_> {
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            nodes: self.k.nodes.len(),
            reductions: self.k.reductions.len(),
            lets: self.k.lets.len(),
            sinks: self.k.sinks.len(),
            checks: self.k.checks.len(),
            ranges: self.k.ranges.len(),
            class_parent: self.k.class_parent.clone(),
            scopes: self.scopes.clone(),
            out_current: self.out_current.clone(),
            node_keys: self.node_keys.clone(),
            loop_written: self.loop_written.clone(),
            name_counts: self.name_counts.clone(),
            errors: self.ctxt.len(),
        }
    }

    fn restore(&mut self, s: Snapshot) {
        self.k.nodes.truncate(s.nodes);
        self.k.reductions.truncate(s.reductions);
        self.k.lets.truncate(s.lets);
        self.k.sinks.truncate(s.sinks);
        self.k.checks.truncate(s.checks);
        self.k.ranges.truncate(s.ranges);
        self.k.class_parent = s.class_parent;
        self.scopes = s.scopes;
        self.out_current = s.out_current;
        self.node_keys = s.node_keys;
        self.loop_written = s.loop_written;
        self.name_counts = s.name_counts;
        self.ctxt.truncate(s.errors);
    }

    /// A `for` loop: vectorized if it can be, else sequential.
    pub(super) fn for_loop(&mut self, f: &syn::ExprForLoop) {
        let snapshot = self.snapshot();
        let (outer, depth) = (self.in_loop.take(), self.in_loop_depth);
        let result = self.vector_loop(f);
        (self.in_loop, self.in_loop_depth) = (outer, depth);
        if result.is_err() || self.bail {
            self.bail = false;
            self.restore(snapshot);
            self.sequential_loop(&Expr::ForLoop(f.clone()), Some(&f.pat), &f.body);
        }
    }

    /// Called where a construct makes the current loop sequential: records it and yields an
    /// error value (the loop is lowered again sequentially, so no error is reported).
    pub(super) fn sequential(&mut self) -> Value {
        self.bail = true;
        Value::Error
    }

    fn vector_loop(&mut self, f: &syn::ExprForLoop) -> Try<()> {
        if f.label.is_some() || self.in_loop_depth > 0 {
            return Err(Sequential);
        }
        self.scopes.push(HashMap::new());
        let (class, index) = self.loop_header(&f.pat, &f.expr)?;
        let mutated = assigned_names(&f.body);
        let writes = written_outputs(&f.body);
        self.in_loop =
            Some(LoopCtx { class, index, mutated, updated: BTreeSet::new(), writes, written: HashMap::new() });
        self.in_loop_depth += 1;
        for stmt in &f.body.stmts {
            self.loop_stmt(stmt)?;
            if self.bail {
                return Err(Sequential);
            }
        }
        self.in_loop_depth -= 1;
        self.scopes.pop();
        // Each output this loop wrote gets a barrier: a constant reduction in the loop's own
        // pass. Later uses of the output depend on it, so they run after this loop.
        let ctx = self.in_loop.as_ref().ok_or(Sequential)?;
        let (class, written): (Class, Vec<usize>) = (ctx.class, ctx.written.keys().copied().collect());
        for p in written {
            let never =
                self.add_node(Op::Splat(Scalar { tokens: quote!(false), deps: Deps::new() }), class, Deps::new());
            let text = format!("(barrier: `{}` written by a loop)", self.k.params[p].ident);
            let r = self.add_reduction(Reduction {
                kind: RedKind::Any,
                arg: never,
                mask: None,
                mean: None,
                deps: Deps::new(),
                text,
            });
            self.loop_written.insert(p, [r].into_iter().collect());
        }
        Ok(())
    }

    /// Binds the loop pattern; returns the loop's class and index name.
    fn loop_header(&mut self, pat: &Pat, iter: &Expr) -> Try<(Class, Option<String>)> {
        if let Expr::Range(r) = iter {
            let (Some(lo), Some(hi), syn::RangeLimits::HalfOpen(_)) = (&r.start, &r.end, &r.limits) else {
                return Err(Sequential);
            };
            let (Value::Scalar(lo), Value::Scalar(hi)) = (self.expr(lo), self.expr(hi)) else {
                return Err(Sequential);
            };
            let Pat::Ident(i) = pat else {
                return Err(Sequential);
            };
            let class = self.k.class_parent.len();
            self.k.class_parent.push(class);
            let deps: Deps = lo.deps.iter().chain(&hi.deps).copied().collect();
            self.k.ranges.push(LoopRange { lo, hi });
            let node = self.add_node(Op::Index, class, deps);
            self.bind(i.ident.to_string(), Binding::Array(node));
            return Ok((class, Some(i.ident.to_string())));
        }
        let (elements, enumerate) = self.iter_chain(iter)?;
        let class = self.k.nodes[elements[0]].class;
        let pats: Vec<&Pat> = match (pat, enumerate) {
            (Pat::Tuple(t), true) if t.elems.len() == 2 => {
                let index = Self::pat_name(&t.elems[0]).ok_or(Sequential)?;
                let node = self.add_node(Op::Index, class, Deps::new());
                self.bind(index.clone(), Binding::Array(node));
                let rest = &t.elems[1];
                let names = self.element_pats(rest, elements.len())?;
                self.bind_elements(&names, &elements);
                return Ok((class, Some(index)));
            }
            (p, false) => vec![p],
            _ => return Err(Sequential),
        };
        let names = self.element_pats(pats[0], elements.len())?;
        self.bind_elements(&names, &elements);
        Ok((class, None))
    }

    fn bind_elements(&mut self, names: &[String], elements: &[NodeId]) {
        for (n, &e) in names.iter().zip(elements) {
            self.bind(n.clone(), Binding::Array(e));
        }
    }

    fn pat_name(p: &Pat) -> Option<String> {
        match p {
            Pat::Ident(i) if i.subpat.is_none() => Some(i.ident.to_string()),
            Pat::Reference(r) => Self::pat_name(&r.pat),
            Pat::Paren(p) => Self::pat_name(&p.pat),
            _ => None,
        }
    }

    /// `x` for one element, `(x, y)` / `(x, (y, z))` for zipped ones.
    fn element_pats(&self, p: &Pat, count: usize) -> Try<Vec<String>> {
        if count == 1 {
            return Self::pat_name(p).map(|n| vec![n]).ok_or(Sequential);
        }
        let Pat::Tuple(t) = p else {
            return Err(Sequential);
        };
        if t.elems.len() != 2 {
            return Err(Sequential);
        }
        let mut names = self.element_pats(&t.elems[0], count - 1)?;
        names.extend(self.element_pats(&t.elems[1], 1)?);
        Ok(names)
    }

    /// `a`, `&a`, `a.iter()`, `.copied()`, `.cloned()`, `.zip(b)`, `.enumerate()` ->
    /// the element nodes (zip order) and whether the chain ends in `.enumerate()`.
    fn iter_chain(&mut self, e: &Expr) -> Try<(Vec<NodeId>, bool)> {
        match e {
            Expr::Reference(r) => self.iter_chain(&r.expr),
            Expr::Paren(p) => self.iter_chain(&p.expr),
            Expr::MethodCall(m) => {
                let name = m.method.to_string();
                match (name.as_str(), m.args.len()) {
                    ("iter" | "copied" | "cloned" | "into_iter", 0) => self.iter_chain(&m.receiver),
                    ("enumerate", 0) => {
                        let (nodes, en) = self.iter_chain(&m.receiver)?;
                        if en {
                            return Err(Sequential);
                        }
                        Ok((nodes, true))
                    }
                    ("zip", 1) => {
                        let (mut nodes, en) = self.iter_chain(&m.receiver)?;
                        let (other, en2) = self.iter_chain(&m.args[0])?;
                        if en || en2 || other.len() != 1 {
                            return Err(Sequential);
                        }
                        // Unlike `Iterator::zip`, unequal lengths are an error, never a
                        // silent truncation.
                        let (a, b) = (self.k.nodes[nodes[0]].class, self.k.nodes[other[0]].class);
                        self.unify(a, b);
                        nodes.extend(other);
                        Ok((nodes, false))
                    }
                    _ => Err(Sequential),
                }
            }
            _ => match self.expr(e) {
                Value::Array(n) => Ok((vec![n], false)),
                _ => Err(Sequential),
            },
        }
    }

    fn loop_stmt(&mut self, stmt: &Stmt) -> Try<()> {
        match stmt {
            Stmt::Local(l) => {
                self.local(l);
                Ok(())
            }
            Stmt::Expr(e, _) => self.loop_effect(e),
            _ => Err(Sequential),
        }
    }

    /// The statements a vectorizable loop may contain.
    fn loop_effect(&mut self, e: &Expr) -> Try<()> {
        match e {
            // acc += e, acc -= e, acc *= e
            Expr::Binary(b) if compound_base(&b.op).is_some() => {
                if let Some(name) = self.accumulator(&b.left) {
                    let kind = match b.op {
                        BinOp::AddAssign(_) | BinOp::SubAssign(_) => RedKind::Sum,
                        BinOp::MulAssign(_) => RedKind::Prod,
                        _ => return Err(Sequential),
                    };
                    let rhs = self.expr(&b.right);
                    let init = self.take_accumulator(&name)?;
                    let op = compound_base(&b.op).expect("compound");
                    return self.accumulate(&name, init, kind, None, rhs, e, |init, r| quote!(#init #op #r));
                }
                self.output_write(&b.left, Some(b.op), &b.right)
            }
            Expr::Assign(a) => {
                if let Some(name) = self.accumulator(&a.left) {
                    // acc = acc.max(e) / acc.min(e) / e.max(acc)
                    let Expr::MethodCall(m) = &*a.right else {
                        return Err(Sequential);
                    };
                    let kind = match m.method.to_string().as_str() {
                        "max" => RedKind::MaxNum,
                        "min" => RedKind::MinNum,
                        _ => return Err(Sequential),
                    };
                    if m.args.len() != 1 {
                        return Err(Sequential);
                    }
                    let other = if Self::is_name(&m.receiver, &name) {
                        &m.args[0]
                    } else if Self::is_name(&m.args[0], &name) {
                        &*m.receiver
                    } else {
                        return Err(Sequential);
                    };
                    let rhs = self.expr(other);
                    let init = self.take_accumulator(&name)?;
                    let method = m.method.clone();
                    return self.accumulate(&name, init, kind, None, rhs, e, |init, r| quote!(#init.#method(#r)));
                }
                self.output_write(&a.left, None, &a.right)
            }
            // if c { acc += e; }
            Expr::If(i) if i.else_branch.is_none() && i.then_branch.stmts.len() == 1 => {
                let (Stmt::Expr(Expr::Binary(b), _),) = (&i.then_branch.stmts[0],) else {
                    return Err(Sequential);
                };
                if !matches!(b.op, BinOp::AddAssign(_)) {
                    return Err(Sequential);
                }
                let name = self.accumulator(&b.left).ok_or(Sequential)?;
                let mask = self.expr(&i.cond);
                let rhs = self.expr(&b.right);
                let init = self.take_accumulator(&name)?;
                let plus = BinOp::Add(syn::Token![+](b.op.span()));
                self.accumulate(&name, init, RedKind::SumWhere, Some(mask), rhs, e, |init, r| quote!(#init #plus #r))
            }
            _ => Err(Sequential),
        }
    }

    fn is_name(e: &Expr, name: &str) -> bool {
        matches!(e, Expr::Path(p) if p.path.is_ident(name))
    }

    /// `acc` if `e` names a scalar declared before the loop.
    fn accumulator(&self, e: &Expr) -> Option<String> {
        let Expr::Path(p) = e else { return None };
        let name = p.path.get_ident()?.to_string();
        matches!(self.lookup_outer(&name), Some(Binding::Scalar(_))).then_some(name)
    }

    /// The binding of `name` outside the loop's own scope.
    fn lookup_outer(&self, name: &str) -> Option<Binding> {
        let n = self.scopes.len();
        self.scopes[..n - 1].iter().rev().find_map(|s| s.get(name).cloned())
    }

    /// The accumulator's value before the loop; each may be updated once per iteration.
    fn take_accumulator(&mut self, name: &str) -> Try<Scalar> {
        let ctx = self.in_loop.as_mut().ok_or(Sequential)?;
        if !ctx.updated.insert(name.to_string()) {
            return Err(Sequential);
        }
        match self.lookup_outer(name) {
            Some(Binding::Scalar(s)) => Ok(s),
            _ => Err(Sequential),
        }
    }

    /// Records `acc (op)= rhs` as a reduction of the loop and binds `acc` after the loop to
    /// `finish(init, result)`.
    #[allow(clippy::too_many_arguments)]
    fn accumulate(
        &mut self,
        name: &str,
        init: Scalar,
        kind: RedKind,
        mask: Option<Value>,
        rhs: Value,
        at: &Expr,
        finish: impl FnOnce(&TokenStream, &syn::Ident) -> TokenStream,
    ) -> Try<()> {
        let class = self.in_loop.as_ref().ok_or(Sequential)?.class;
        let arg = self.loop_node(rhs, class)?;
        let mask = match mask {
            Some(m) => Some(self.loop_node(m, class)?),
            None => None,
        };
        let mut deps = self.k.nodes[arg].deps.clone();
        if let Some(m) = mask {
            deps.extend(self.k.nodes[m].deps.iter().copied());
        }
        let r = self.k.reductions.len();
        self.k.reductions.push(Reduction {
            kind,
            arg,
            mask,
            mean: None,
            deps: deps.clone(),
            text: tidy(&at.to_token_stream()),
        });
        deps.insert(r);
        deps.extend(init.deps.iter().copied());
        let result = format_ident!("__r{}", r);
        let tokens = finish(&init.tokens, &result);
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
        Ok(())
    }

    /// A value inside the loop as a node of the loop's class (a scalar is broadcast).
    fn loop_node(&mut self, v: Value, class: Class) -> Try<NodeId> {
        match v {
            Value::Array(n) if self.k.class_of(self.k.nodes[n].class) == self.k.class_of(class) => Ok(n),
            Value::Scalar(s) => {
                let deps = s.deps.clone();
                let s = self.hoist(s);
                Ok(self.add_node(Op::Splat(s), class, deps))
            }
            _ => Err(Sequential),
        }
    }

    /// `out[i] = e` / `out[i] op= e` for the loop index `i` and an output `out`.
    fn output_write(&mut self, target: &Expr, op: Option<BinOp>, rhs: &Expr) -> Try<()> {
        let Expr::Index(ix) = target else {
            return Err(Sequential);
        };
        let ctx = self.in_loop.as_ref().ok_or(Sequential)?;
        let (class, index) = (ctx.class, ctx.index.clone().ok_or(Sequential)?);
        if index_offset(&ix.index, &index) != Some(0) {
            return Err(Sequential);
        }
        let Some(Binding::Output(p)) = target_name(&ix.expr).and_then(|n| self.lookup(&n)) else {
            return Err(Sequential);
        };
        if self.out_current.contains_key(&p) {
            return Err(Sequential);
        }
        let mut value = self.expr(rhs);
        let written = self.in_loop.as_ref().and_then(|c| c.written.get(&p).copied());
        if let Some(op) = op {
            let current = match written {
                Some(n) => n,
                None => self.add_node(Op::Shifted(p, 0), class, Deps::new()),
            };
            let base = compound_base(&op).ok_or(Sequential)?;
            value = self.binary_values(Value::Array(current), base, value, rhs);
        }
        let node = self.loop_node(value, class)?;
        if written.is_some() {
            // Written twice in one iteration: the last write wins.
            self.k
                .sinks
                .retain(|s| !(s.window && s.target == SinkTarget::Param(p) && s.node == written.unwrap_or(usize::MAX)));
        }
        self.in_loop.as_mut().ok_or(Sequential)?.written.insert(p, node);
        let after = self.loop_written.get(&p).cloned().unwrap_or_default();
        self.k.sinks.push(Sink { target: SinkTarget::Param(p), node, window: true, after });
        Ok(())
    }

    /// `x[i + k]` inside a vectorizable loop over `i`.
    pub(super) fn loop_index(&mut self, ix: &syn::ExprIndex) -> Value {
        let Some(ctx) = self.in_loop.as_ref() else {
            return self.sequential();
        };
        let (class, index) = (ctx.class, ctx.index.clone());
        let Some(offset) = index.and_then(|i| index_offset(&ix.index, &i)) else {
            return self.sequential();
        };
        let name = target_name(&ix.expr).unwrap_or_default();
        let p = match self.lookup(&name) {
            Some(Binding::Input(p)) => p,
            Some(Binding::Output(p)) if !self.out_current.contains_key(&p) => {
                let ctx = self.in_loop.as_ref().expect("in a loop");
                if let Some(&n) = ctx.written.get(&p).filter(|_| offset == 0) {
                    // `out[i]` after `out[i] = v` in the same iteration reads `v`.
                    return Value::Array(n);
                }
                if offset != 0 && ctx.writes.contains(&name) {
                    // `out[i - 1]` written by an earlier iteration: a recurrence, in order.
                    return self.sequential();
                }
                p
            }
            _ => return self.sequential(),
        };
        let after = self.loop_written.get(&p).cloned().unwrap_or_default();
        Value::Array(self.add_node(Op::Shifted(p, offset), class, after))
    }

    /// Whether reading `name` inside the current loop makes it sequential.
    pub(super) fn reads_accumulator(&self, name: &str) -> bool {
        self.in_loop.as_ref().is_some_and(|c| c.mutated.contains(name))
            && matches!(self.lookup_outer(name), Some(Binding::Scalar(_)))
    }

    /// A loop kept in source order: emitted as plain Rust over the parameters (inputs as
    /// slices, outputs as cells), with the scalars it assigns copied in and out.
    pub(super) fn sequential_loop(&mut self, e: &Expr, pat: Option<&Pat>, body: &syn::Block) {
        let local = bound_names(pat, body);
        let assigned = assigned_names(body);
        let mut subst: HashMap<String, TokenStream> = HashMap::new();
        let mut deps = Deps::new();
        let mut mutated: Vec<(String, syn::Ident)> = Vec::new();
        let mut outputs = Vec::new();
        let mut used = BTreeSet::new();
        struct Names<'b>(&'b mut BTreeSet<String>);
        impl<'ast> Visit<'ast> for Names<'_> {
            fn visit_path(&mut self, p: &'ast syn::Path) {
                if let Some(i) = p.get_ident() {
                    self.0.insert(i.to_string());
                }
                syn::visit::visit_path(self, p);
            }
        }
        Names(&mut used).visit_expr(e);
        for name in &used {
            if local.contains(name) && !assigned.contains(name) {
                continue;
            }
            match self.lookup(name) {
                Some(Binding::Scalar(s)) => {
                    deps.extend(s.deps.iter().copied());
                    if assigned.contains(name) && !local.contains(name) {
                        let count = self.name_counts.entry(name.clone()).or_insert(0);
                        let ident = format_ident!("__{}_{}", name, *count);
                        *count += 1;
                        mutated.push((name.clone(), ident.clone()));
                        subst.insert(name.clone(), ident.into_token_stream());
                    } else {
                        subst.insert(name.clone(), s.tokens.clone());
                    }
                }
                Some(Binding::Array(_)) if !local.contains(name) => {
                    self.ctxt.error(e, format!("`{name}` is an array expression; a loop that runs in order can only index parameters (`x[i]`) and use scalars: compute `{name}` per element inside the loop"));
                    return;
                }
                Some(Binding::Output(p)) => outputs.push(p),
                Some(Binding::Poison) => return,
                _ => {}
            }
        }
        self.seq_outputs.extend(outputs.iter().copied());
        // After the outputs' creation (local outputs) and the loops that wrote them before.
        for p in &outputs {
            deps.extend(self.loop_written.get(p).into_iter().flatten().copied());
        }
        let out_names: BTreeSet<String> = outputs.iter().map(|&p| self.k.params[p].ident.to_string()).collect();
        let mut body_expr = e.clone();
        Rewrite { subst: &subst, outputs: &out_names }.visit_expr_mut(&mut body_expr);
        let copies = mutated.iter().map(|(name, ident)| {
            let init = match self.lookup(name) {
                Some(Binding::Scalar(s)) => s.tokens,
                _ => quote!(()),
            };
            quote!(let mut #ident = #init;)
        });
        let results: Vec<&syn::Ident> = mutated.iter().map(|(_, i)| i).collect();
        let tokens = quote!({ #(#copies)* #body_expr; (#(#results,)*) });
        let k = self.hoisted;
        self.hoisted += 1;
        let seq = format_ident!("__seq{}", k);
        self.k.lets.push(ScalarLet {
            name: seq.clone(),
            mutable: false,
            ty: None,
            value: Scalar { tokens, deps: deps.clone() },
        });
        for (j, (name, _)) in mutated.iter().enumerate() {
            let j = syn::Index::from(j);
            let value = Scalar { tokens: quote!(#seq.#j), deps: deps.clone() };
            let ident = syn::Ident::new(name, e.span());
            let s = self.new_let(&ident, None, value);
            self.rebind(name, Binding::Scalar(s));
        }
    }
}

/// Rewrites a sequential loop: outer scalars to their current names, output writes
/// `out[i] = v` to `out[i].set(v)` and reads to `out[i].get()`.
struct Rewrite<'b> {
    subst: &'b HashMap<String, TokenStream>,
    outputs: &'b BTreeSet<String>,
}

impl Rewrite<'_> {
    fn output_index(&self, e: &Expr) -> bool {
        matches!(e, Expr::Index(ix) if matches!(&*ix.expr, Expr::Path(p) if p.path.get_ident().is_some_and(|i| self.outputs.contains(&i.to_string()))))
    }
}

impl VisitMut for Rewrite<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Assign(a) if self.output_index(&a.left) => {
                self.visit_expr_mut(&mut a.right);
                if let Expr::Index(ix) = &mut *a.left {
                    self.visit_expr_mut(&mut ix.index);
                }
                let (target, value) = (&a.left, &a.right);
                *e = syn::parse_quote!(#target.set(#value));
            }
            Expr::Binary(b) if compound_base(&b.op).is_some() && self.output_index(&b.left) => {
                self.visit_expr_mut(&mut b.right);
                if let Expr::Index(ix) = &mut *b.left {
                    self.visit_expr_mut(&mut ix.index);
                }
                let (target, value) = (&b.left, &b.right);
                let op = compound_base(&b.op).expect("compound");
                *e = syn::parse_quote!({ let __cell = &#target; __cell.set(__cell.get() #op #value) });
            }
            Expr::Index(_) if self.output_index(e) => {
                if let Expr::Index(ix) = e {
                    self.visit_expr_mut(&mut ix.index);
                }
                *e = syn::parse_quote!(#e.get());
            }
            Expr::Path(p) => {
                if let Some(t) = p.path.get_ident().and_then(|i| self.subst.get(&i.to_string())) {
                    *e = syn::parse_quote!(#t);
                }
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
}
