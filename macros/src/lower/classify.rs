//! Whether an explicit `for` loop vectorizes, decided before it is lowered (so it is
//! lowered once, either way).
//!
//! A loop vectorizes when its body only computes per-element values, updates accumulators
//! declared before it in reduction form (`acc += e`, `-=`, `*=`, `acc = acc.max(e)`,
//! `acc = acc.min(e)`, `if c { acc += e }`, each once per iteration) and writes `out[i]`.
//! Anything else keeps its exact sequential meaning (`in_order.rs`): a `break`, an
//! accumulator read in the body (a running value), `out[i - 1]` of an output the loop writes
//! (a recurrence), a whole array combined with the index of `for i in lo..hi`, a nested loop.
//!
//! The rules mirror what `vector_loop.rs` can lower; each returns [`Bad`] with the reason
//! the loop runs in order.

use super::*;
use std::collections::BTreeMap;
use syn::visit::Visit;

/// The decision.
pub(super) enum Kind {
    Vector(VectorLoop),
    InOrder,
}

/// What the vectorized lowering needs from the classification.
pub(super) struct VectorLoop {
    /// Scalars declared before the loop that it updates in reduction form.
    pub accumulators: BTreeSet<String>,
    /// Outputs the body writes as `out[i] = ..`.
    pub writes: BTreeSet<String>,
}

/// The loop runs in order (the reason, for reading the code).
pub(super) struct Bad(#[allow(dead_code)] &'static str);

type Check<T> = Result<T, Bad>;

/// What an expression is, inside the loop.
#[derive(Clone, Copy, PartialEq, Eq)]
enum V {
    Scalar,
    /// Varies with the loop: its elements, index, `x[i + k]`, and values computed from them.
    Loop,
    /// A whole array from outside the loop, over this space.
    Outer(SpaceId),
    /// An error the lowering reports (it does not make the loop run in order).
    Other,
}

struct Classifier<'l, 'a> {
    lower: &'l Lower<'a>,
    /// `for i in lo..hi`: a whole array cannot be combined with the index.
    range: bool,
    /// The loop's space, for element loops.
    space: Option<SpaceId>,
    index: Option<String>,
    /// Loop-local names (pattern and `let`s) and what they are.
    locals: HashMap<String, V>,
    /// Names assigned anywhere in the body: reading one from outside makes a running value.
    assigned: BTreeMap<String, syn::Ident>,
    writes: BTreeSet<String>,
    /// Outputs written so far in the iteration (`out[i]` then reads the value written).
    written: BTreeSet<String>,
    /// Outputs read as whole arrays in the body (they cannot be written by index too).
    read_whole: BTreeSet<ParamId>,
    accumulators: BTreeSet<String>,
    /// In a nest (`nest.rs`): its indices, and the one access of each output it uses.
    nest: Option<&'l [String]>,
    out_access: HashMap<String, super::nest::Access>,
}

impl Lower<'_> {
    /// The innermost body of a nest over `vars`, if it vectorizes (`nest.rs`).
    pub(super) fn classify_body(&self, body: &syn::Block, vars: &[String]) -> Option<VectorLoop> {
        let mut c = Classifier {
            lower: self,
            range: true,
            space: None,
            index: None,
            locals: HashMap::new(),
            assigned: assigned_names(body),
            writes: written_outputs(body),
            written: BTreeSet::new(),
            read_whole: BTreeSet::new(),
            accumulators: BTreeSet::new(),
            nest: Some(vars),
            out_access: HashMap::new(),
        };
        for stmt in &body.stmts {
            c.stmt(stmt).ok()?;
        }
        if self.strict && !c.accumulators.is_empty() {
            return None;
        }
        // Every output written has one access, which names every index of the nest.
        let full = |a: &super::nest::Access| {
            (0..vars.len()).all(|k| a.axes.iter().any(|w| matches!(w, super::nest::Axis::Loop(j, _) if *j == k)))
        };
        if c.writes.iter().any(|w| !c.out_access.get(w).is_some_and(full)) {
            return None;
        }
        Some(VectorLoop { accumulators: c.accumulators, writes: c.writes })
    }

    pub(super) fn classify(&self, f: &syn::ExprForLoop) -> Kind {
        let mut c = Classifier {
            nest: None,
            out_access: HashMap::new(),
            lower: self,
            range: false,
            space: None,
            index: None,
            locals: HashMap::new(),
            assigned: assigned_names(&f.body),
            writes: written_outputs(&f.body),
            written: BTreeSet::new(),
            read_whole: BTreeSet::new(),
            accumulators: BTreeSet::new(),
        };
        let ok = (|| {
            if f.label.is_some() {
                return Err(Bad("a labeled loop"));
            }
            c.header(&f.pat, &f.expr)?;
            for stmt in &f.body.stmts {
                c.stmt(stmt)?;
            }
            Ok(())
        })();
        match ok {
            // `strict` promises the naive loop's order: `((acc + x0) + x1) + ..` from the
            // accumulator's initial value, which only the loop itself computes.
            Ok(()) if self.strict && !c.accumulators.is_empty() => Kind::InOrder,
            Ok(()) => Kind::Vector(VectorLoop { accumulators: c.accumulators, writes: c.writes }),
            Err(_) => Kind::InOrder,
        }
    }
}

impl Classifier<'_, '_> {
    fn header(&mut self, pat: &Pat, iter: &Expr) -> Check<()> {
        if let Expr::Range(r) = iter {
            let (Some(lo), Some(hi), syn::RangeLimits::HalfOpen(_)) = (&r.start, &r.end, &r.limits) else {
                return Err(Bad("not a `lo..hi` range"));
            };
            if self.expr(lo)? != V::Scalar || self.expr(hi)? != V::Scalar {
                return Err(Bad("range bounds that are not scalars"));
            }
            let Pat::Ident(i) = pat else { return Err(Bad("a pattern over a range")) };
            self.range = true;
            self.index = Some(i.ident.to_string());
            self.locals.insert(i.ident.to_string(), V::Loop);
            return Ok(());
        }
        let (count, enumerate, space) = self.iter_chain(iter)?;
        self.space = Some(space);
        let elems = match (pat, enumerate) {
            (Pat::Tuple(t), true) if t.elems.len() == 2 => {
                let index = pat_name(&t.elems[0]).ok_or(Bad("an index pattern"))?;
                self.locals.insert(index.clone(), V::Loop);
                self.index = Some(index);
                &t.elems[1]
            }
            (p, false) => p,
            _ => return Err(Bad("`enumerate` without `(i, x)`")),
        };
        for name in element_pats(elems, count).ok_or(Bad("an element pattern"))? {
            self.locals.insert(name, V::Loop);
        }
        Ok(())
    }

    /// The number of zipped arrays, whether the chain ends in `.enumerate()`, and the space.
    fn iter_chain(&mut self, e: &Expr) -> Check<(usize, bool, SpaceId)> {
        match e {
            Expr::Reference(r) => self.iter_chain(&r.expr),
            Expr::Paren(p) => self.iter_chain(&p.expr),
            Expr::MethodCall(m) => match (m.method.to_string().as_str(), m.args.len()) {
                ("iter" | "copied" | "cloned" | "into_iter", 0) => self.iter_chain(&m.receiver),
                ("enumerate", 0) => match self.iter_chain(&m.receiver)? {
                    (n, false, s) => Ok((n, true, s)),
                    _ => Err(Bad("`enumerate` twice")),
                },
                ("zip", 1) => match (self.iter_chain(&m.receiver)?, self.iter_chain(&m.args[0])?) {
                    ((n, false, s), (1, false, _)) => Ok((n + 1, false, s)),
                    _ => Err(Bad("a `zip` of this form")),
                },
                _ => Err(Bad("an iterator method")),
            },
            _ => match self.expr(e)? {
                V::Outer(s) => Ok((1, false, s)),
                _ => Err(Bad("a loop over something that is not an array")),
            },
        }
    }

    fn stmt(&mut self, stmt: &Stmt) -> Check<()> {
        match stmt {
            Stmt::Local(l) => {
                let v = match &l.init {
                    Some(init) => self.expr(&init.expr)?,
                    None => V::Other,
                };
                if let Some((name, _)) = super::stmt::let_name(&l.pat) {
                    self.locals.insert(name.to_string(), v);
                }
                Ok(())
            }
            Stmt::Expr(e, _) => self.effect(e),
            _ => Err(Bad("an item or macro in the body")),
        }
    }

    fn effect(&mut self, e: &Expr) -> Check<()> {
        match e {
            Expr::Binary(b) if compound_base(&b.op).is_some() => {
                if let Some(name) = self.accumulator(&b.left) {
                    if !matches!(b.op, syn::BinOp::AddAssign(_) | syn::BinOp::SubAssign(_) | syn::BinOp::MulAssign(_)) {
                        return Err(Bad("an accumulator updated by another operator"));
                    }
                    let rhs = self.expr(&b.right)?;
                    return self.update(name, &[rhs]);
                }
                self.output_write(&b.left, true, &b.right)
            }
            Expr::Assign(a) => {
                if let Some(name) = self.accumulator(&a.left) {
                    let (_, other) = extremum_update(&a.right, &name).ok_or(Bad("an accumulator assigned"))?;
                    let rhs = self.expr(other)?;
                    return self.update(name, &[rhs]);
                }
                self.output_write(&a.left, false, &a.right)
            }
            Expr::If(i) if i.else_branch.is_none() && i.then_branch.stmts.len() == 1 => {
                let Stmt::Expr(Expr::Binary(b), _) = &i.then_branch.stmts[0] else {
                    return Err(Bad("an `if` statement"));
                };
                let name = match (b.op, self.accumulator(&b.left)) {
                    (syn::BinOp::AddAssign(_), Some(name)) => name,
                    _ => return Err(Bad("an `if` statement")),
                };
                let (mask, rhs) = (self.expr(&i.cond)?, self.expr(&b.right)?);
                self.update(name, &[mask, rhs])
            }
            _ => Err(Bad("a statement of another kind")),
        }
    }

    /// `acc` if `e` names a scalar declared before the loop (not one the loop declares).
    fn accumulator(&self, e: &Expr) -> Option<String> {
        let Expr::Path(p) = e else { return None };
        let name = p.path.get_ident()?.to_string();
        (!self.locals.contains_key(&name) && matches!(self.lower.lookup(&name), Some(Binding::Scalar(_))))
            .then_some(name)
    }

    /// An accumulator's update with these operands (each once per iteration).
    fn update(&mut self, name: String, operands: &[V]) -> Check<()> {
        for &v in operands {
            self.loop_node(v)?;
        }
        if !self.accumulators.insert(name) {
            return Err(Bad("an accumulator updated twice"));
        }
        Ok(())
    }

    /// A value the loop reduces or writes: per element, or a scalar broadcast.
    fn loop_node(&self, v: V) -> Check<()> {
        let spaces = &self.lower.k().spaces;
        match v {
            V::Loop | V::Scalar => Ok(()),
            V::Outer(s) if self.space.is_some_and(|l| spaces.root(l) == spaces.root(s)) => Ok(()),
            _ => Err(Bad("a value that is not per element")),
        }
    }

    /// `out[i] = e` / `out[i] op= e` for the loop index `i` and an output `out`.
    fn output_write(&mut self, target: &Expr, compound: bool, rhs: &Expr) -> Check<()> {
        let Expr::Index(ix) = target else { return Err(Bad("an assignment to a name")) };
        if self.nest.is_some() {
            let name = self.nest_access(ix)?;
            if !matches!(self.lower.lookup(&name), Some(Binding::Output(_))) {
                return Err(Bad("a write to something that is not an output"));
            }
            let v = self.expr(rhs)?;
            let v = if compound { self.combine(&[V::Loop, v])? } else { v };
            if v != V::Other {
                self.loop_node(v)?;
            }
            return Ok(());
        }
        let index = self.index.as_deref().ok_or(Bad("a write in a loop without index"))?;
        if index_offset(&ix.index, index) != Some(0) {
            return Err(Bad("a write at another index than `i`"));
        }
        let name = target_name(&ix.expr).ok_or(Bad("a write to an expression"))?;
        let Some(Binding::Output(p)) = self.lower.lookup(&name).filter(|_| !self.locals.contains_key(&name)) else {
            return Err(Bad("a write to something that is not an output"));
        };
        self.not_nd(p)?;
        if self.lower.written_whole(p) || self.read_whole.contains(&p) {
            return Err(Bad("an output also used as a whole array"));
        }
        let v = self.expr(rhs)?;
        let v = if compound { self.combine(&[V::Loop, v])? } else { v };
        if v != V::Other {
            self.loop_node(v)?;
        }
        self.written.insert(name);
        Ok(())
    }

    fn combine(&self, parts: &[V]) -> Check<V> {
        if parts.contains(&V::Other) {
            return Ok(V::Other);
        }
        let looped = parts.contains(&V::Loop);
        let outer = parts.iter().find_map(|v| if let V::Outer(s) = v { Some(*s) } else { None });
        match (looped, outer) {
            (true, Some(_)) if self.range => Err(Bad("a whole array combined with the loop index")),
            (true, _) => Ok(V::Loop),
            (false, Some(s)) => Ok(V::Outer(s)),
            (false, None) => Ok(V::Scalar),
        }
    }

    fn exprs<'e>(&mut self, es: impl IntoIterator<Item = &'e Expr>) -> Check<Vec<V>> {
        es.into_iter().map(|e| self.expr(e)).collect()
    }

    fn expr(&mut self, e: &Expr) -> Check<V> {
        Ok(match e {
            Expr::Lit(_) => V::Scalar,
            Expr::Path(p) => match (p.path.get_ident(), &p.qself) {
                (Some(ident), None) => self.name(&ident.to_string())?,
                _ => V::Scalar,
            },
            Expr::Paren(p) => self.expr(&p.expr)?,
            Expr::Group(g) => self.expr(&g.expr)?,
            Expr::Reference(r) if r.mutability.is_none() => self.expr(&r.expr)?,
            Expr::Unary(u) => {
                let v = self.expr(&u.expr)?;
                match u.op {
                    syn::UnOp::Deref(_) => v,
                    _ => self.combine(&[v])?,
                }
            }
            Expr::Binary(b) if compound_base(&b.op).is_some() => V::Other,
            Expr::Binary(b) => {
                let parts = self.exprs([&*b.left, &*b.right])?;
                self.combine(&parts)?
            }
            Expr::Cast(c) => {
                let v = self.expr(&c.expr)?;
                self.combine(&[v])?
            }
            Expr::MethodCall(m) => self.method(m)?,
            Expr::Call(c) => match &*c.func {
                Expr::Path(f) if f.path.segments.last().is_some_and(|s| s.ident == "Ok") => V::Other,
                Expr::Path(_) => {
                    let parts = self.exprs(&c.args)?;
                    self.combine(&parts)?
                }
                _ => V::Other,
            },
            Expr::If(i) => {
                let Some((_, else_branch)) = &i.else_branch else { return Ok(V::Other) };
                let parts = vec![self.expr(&i.cond)?, self.block(&i.then_branch)?, self.expr(else_branch)?];
                self.combine(&parts)?
            }
            Expr::Block(b) if b.label.is_none() => self.block(&b.block)?,
            Expr::Field(f) => match self.expr(&f.base)? {
                V::Scalar => V::Scalar,
                _ => V::Other,
            },
            Expr::Index(ix) => self.index(ix)?,
            _ => V::Other,
        })
    }

    fn name(&mut self, name: &str) -> Check<V> {
        if self.nest.is_some_and(|vars| vars.iter().any(|v| v == name)) && !self.locals.contains_key(name) {
            return Err(Bad("a nest index used as a value"));
        }
        if let Some(&v) = self.locals.get(name) {
            return Ok(v);
        }
        let space = |p: ParamId| self.lower.k().params[p].space.expect("an array parameter");
        Ok(match self.lower.lookup(name) {
            Some(Binding::Scalar(_)) if self.assigned.contains_key(name) => {
                return Err(Bad("an accumulator read in the body (a running value)"))
            }
            Some(Binding::Scalar(_)) | None => V::Scalar,
            Some(Binding::Array(n)) => V::Outer(self.lower.k().nodes[n].space),
            Some(Binding::Input(p)) => V::Outer(space(p)),
            Some(Binding::Output(p)) if self.lower.is_local(p) => V::Other,
            Some(Binding::Output(p)) => {
                self.read_whole.insert(p);
                V::Outer(space(p))
            }
            Some(Binding::Poison | Binding::Selection { .. }) => V::Other,
        })
    }

    fn method(&mut self, m: &syn::ExprMethodCall) -> Check<V> {
        // `x.len()` of a parameter: a length, not a use of its elements (`Lower::param_len`).
        if let (true, Expr::Path(p)) = (m.method == crate::vocab::LEN && m.args.is_empty(), &*m.receiver) {
            let name = p.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
            let param = matches!(self.lower.lookup(&name), Some(Binding::Input(_) | Binding::Output(_)));
            if param && !self.locals.contains_key(&name) {
                return Ok(V::Scalar);
            }
        }
        let recv = self.expr(&m.receiver)?;
        let name = m.method.to_string();
        match recv {
            V::Other => Ok(V::Other),
            V::Loop | V::Outer(_) => {
                if m.args.is_empty()
                    && (name == crate::vocab::LEN || crate::vocab::RedKind::from_method(&name).is_some())
                {
                    return Ok(V::Scalar);
                }
                if (name == crate::vocab::DOT && m.args.len() == 1) || crate::vocab::method(&name).is_some() {
                    let mut parts = vec![recv];
                    parts.extend(self.exprs(&m.args)?);
                    let v = self.combine(&parts)?;
                    return Ok(if name == crate::vocab::DOT && v != V::Other { V::Scalar } else { v });
                }
                Ok(V::Other)
            }
            V::Scalar => {
                let mut parts = vec![recv];
                parts.extend(self.exprs(&m.args)?);
                self.combine(&parts)
            }
        }
    }

    /// A block inside the loop: only a value (statements in it could update what the loop
    /// reads, so they make the loop run in order).
    fn block(&mut self, b: &syn::Block) -> Check<V> {
        match b.stmts.as_slice() {
            [Stmt::Expr(e, None)] => self.expr(e),
            _ => Err(Bad("a block with statements")),
        }
    }

    /// `x[[i + a, j + b]]` in a nest: an N-d parameter of that rank, each output accessed one
    /// way only. Returns the array's name.
    fn nest_access(&mut self, ix: &syn::ExprIndex) -> Check<String> {
        let vars = self.nest.expect("in a nest");
        let a = super::nest::access(ix, vars).ok_or(Bad("an index that is not the nest's indices plus constants"))?;
        if self.locals.contains_key(&a.name) {
            return Err(Bad("indexing a loop-local value"));
        }
        let (p, output) = match self.lower.lookup(&a.name) {
            Some(Binding::Input(p)) => (p, false),
            Some(Binding::Output(p)) if !self.lower.is_local(p) => (p, true),
            _ => return Err(Bad("indexing something that is not an N-d parameter")),
        };
        if self.lower.k().params[p].kind.nd_rank() != Some(Rank::Static(a.axes.len())) || vars.len() < 2 {
            return Err(Bad("an index of another rank, or of a 1-D or `IxDyn` array"));
        }
        // A fixed index is a scalar computed before the nest.
        for w in &a.axes {
            if let super::nest::Axis::At(e) = w {
                if self.expr(e)? != V::Scalar
                    || super::nest::mentions(&**e, &self.locals.keys().cloned().collect::<Vec<_>>())
                {
                    return Err(Bad("a fixed index that is not a scalar from before the nest"));
                }
            }
        }
        if output {
            if self.lower.written_whole(p) || !self.writes.contains(&a.name) {
                return Err(Bad("an output read but not written, or also used as a whole array"));
            }
            match self.out_access.get(&a.name) {
                Some(prev) if *prev != a => return Err(Bad("an output accessed at two indices (a recurrence)")),
                _ => {
                    self.out_access.insert(a.name.clone(), a.clone());
                }
            }
        }
        Ok(a.name)
    }

    /// `x[i + k]`.
    fn index(&mut self, ix: &syn::ExprIndex) -> Check<V> {
        if self.nest.is_some() {
            self.nest_access(ix)?;
            return Ok(V::Loop);
        }
        let index = self.index.as_deref().ok_or(Bad("indexing in a loop without index"))?;
        let offset = index_offset(&ix.index, index).ok_or(Bad("an index that is not `i + k`"))?;
        let name = target_name(&ix.expr).ok_or(Bad("indexing an expression"))?;
        if self.locals.contains_key(&name) {
            return Err(Bad("indexing a loop-local value"));
        }
        match self.lower.lookup(&name) {
            Some(Binding::Input(p)) => {
                self.not_nd(p)?;
                Ok(V::Loop)
            }
            Some(Binding::Output(p)) => {
                self.not_nd(p)?;
                if self.lower.written_whole(p) || self.read_whole.contains(&p) {
                    return Err(Bad("an output also used as a whole array"));
                }
                if offset != 0 && self.writes.contains(&name) {
                    return Err(Bad("a recurrence: `out[i - k]` of an output the loop writes"));
                }
                Ok(V::Loop)
            }
            _ => Err(Bad("indexing something that is not a parameter")),
        }
    }
}

impl Classifier<'_, '_> {
    /// An N-d array (parameter or `Array2::zeros(..)` local) indexed in a loop: the loop runs
    /// in order, where `x[[i, j]]` is checked per access (`nd_access.rs`) and an index of
    /// another form is reported. (`x[[i, j]]` is never `i + k` either.)
    fn not_nd(&self, p: ParamId) -> Check<()> {
        match self.lower.k().params[p].kind.index_rank() {
            Some(r) if r != Rank::Static(1) => Err(Bad("an N-d array indexed")),
            _ => Ok(()),
        }
    }
}

/// `acc.max(e)`, `acc.min(e)`, `e.max(acc)`, `e.min(acc)`: an accumulator `acc` updated in
/// reduction form by an extremum -> the reduction (`MaxNum`, `MinNum`) and `e`.
pub(super) fn extremum_update<'e>(rhs: &'e Expr, acc: &str) -> Option<(crate::vocab::RedKind, &'e Expr)> {
    let Expr::MethodCall(m) = rhs else { return None };
    let kind = match (m.method.to_string().as_str(), m.args.len()) {
        ("max", 1) => crate::vocab::RedKind::MaxNum,
        ("min", 1) => crate::vocab::RedKind::MinNum,
        _ => return None,
    };
    if is_name(&m.receiver, acc) {
        Some((kind, &m.args[0]))
    } else if is_name(&m.args[0], acc) {
        Some((kind, &*m.receiver))
    } else {
        None
    }
}

pub(super) fn is_name(e: &Expr, name: &str) -> bool {
    matches!(e, Expr::Path(p) if p.path.is_ident(name))
}

pub(super) fn pat_name(p: &Pat) -> Option<String> {
    match p {
        Pat::Ident(i) if i.subpat.is_none() => Some(i.ident.to_string()),
        Pat::Reference(r) => pat_name(&r.pat),
        Pat::Paren(p) => pat_name(&p.pat),
        _ => None,
    }
}

/// `x` for one element, `(x, y)` / `(x, (y, z))` for zipped ones.
pub(super) fn element_pats(p: &Pat, count: usize) -> Option<Vec<String>> {
    if count == 1 {
        return pat_name(p).map(|n| vec![n]);
    }
    let Pat::Tuple(t) = p else { return None };
    if t.elems.len() != 2 {
        return None;
    }
    let mut names = element_pats(&t.elems[0], count - 1)?;
    names.extend(element_pats(&t.elems[1], 1)?);
    Some(names)
}

/// `i`, `i + 3`, `i - 1` for the loop index `i` -> the offset.
pub(super) fn index_offset(e: &Expr, index: &str) -> Option<isize> {
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
                syn::BinOp::Add(_) => Some(base + k),
                syn::BinOp::Sub(_) => Some(base - k),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Outputs written as `out[..] = ..` or `out[..] op= ..` in a loop body.
pub(super) fn written_outputs(body: &syn::Block) -> BTreeSet<String> {
    struct W(BTreeSet<String>);
    impl<'ast> Visit<'ast> for W {
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
    let mut w = W(BTreeSet::new());
    w.visit_block(body);
    w.0
}

/// Names assigned anywhere in a loop body (`x = ..`, `x += ..`), not counting `out[..]`,
/// each with its ident as written (its span resolves where the user's name does).
pub(super) fn assigned_names(body: &syn::Block) -> BTreeMap<String, syn::Ident> {
    struct A(BTreeMap<String, syn::Ident>);
    impl<'ast> Visit<'ast> for A {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            if let Some(i) = path_ident(&a.left) {
                self.0.insert(i.to_string(), i.clone());
            }
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            if let (Some(_), Some(i)) = (compound_base(&b.op), path_ident(&b.left)) {
                self.0.insert(i.to_string(), i.clone());
            }
            syn::visit::visit_expr_binary(self, b);
        }
    }
    fn path_ident(e: &Expr) -> Option<&syn::Ident> {
        let Expr::Path(p) = e else { return None };
        p.path.get_ident()
    }
    let mut a = A(BTreeMap::new());
    a.visit_block(body);
    a.0
}
