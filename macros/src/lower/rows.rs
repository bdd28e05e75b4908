//! Per-row loops: the 1-D language on each row of a matrix, as one N-d computation.
//!
//! ```text
//! for (i, row) in x.outer_iter().enumerate() {
//!     out[i] = (row - row.mean()).powi(2).mean();
//! }
//! ```
//! is `out[..] = (x - x.mean_axis(Axis(1)).insert_axis(Axis(1))).powi(2).mean_axis(Axis(1))`:
//! inside the loop `row` is the matrix itself (a value per element), a reduction of a row is
//! an axis reduction along the row (a value per row), and a value per row meets values per
//! element through `insert_axis`. So the row's work fuses into the passes the expression form
//! has, with its bits, and no row is ever a temporary.
//!
//! The loop is `for row in x.outer_iter()`, `x.rows()`, `x.columns()`, `x.axis_iter(Axis(k))`,
//! optionally `.enumerate()`, over a 2-D input. Its body holds `let`s, writes `out[i] = v` of
//! a value per row into an output of the rows' count (checked before any work, as
//! `out[..] = ..`), and accumulators over the rows (`acc += v`, `-=`, `*=`,
//! `acc = acc.max(v)`, `acc.min(v)`: whole reductions of the values per row).

use super::*;
use quote::quote;
use syn::spanned::Spanned;

/// What the lowering of a per-row loop knows.
pub(super) struct RowCtx {
    /// The axis a row runs along (1 for `outer_iter` of a matrix, 0 for `columns`).
    pub along: usize,
    /// The name of the row's index (`.enumerate()`).
    pub index: Option<String>,
    /// The values per row (axis reductions of rows and what is computed from them alone).
    pub per_row: BTreeSet<NodeId>,
    /// The number of rows, as tokens (`x.shape().dims()[0]`).
    pub count: TokenStream,
    /// How often each name occurs in the loop.
    pub uses: HashMap<String, usize>,
    /// The number of scopes outside the loop: a binding found there is from outside.
    pub outer_scopes: usize,
}

/// `x.outer_iter()`, `x.rows()`, `x.columns()`, `x.axis_iter(Axis(k))` -> (`x`, the axis the
/// loop steps along); `None` for other iterators.
fn row_iter(e: &Expr) -> Option<(&Expr, Result<usize, &Expr>)> {
    let Expr::MethodCall(m) = e else { return None };
    if (m.method == "into_iter" || m.method == "iter") && m.args.is_empty() {
        return row_iter(&m.receiver);
    }
    let axis = match (m.method.to_string().as_str(), m.args.len()) {
        ("outer_iter" | "rows", 0) => Ok(0),
        ("columns", 0) => Ok(1),
        ("axis_iter", 1) => Err(&m.args[0]),
        _ => return None,
    };
    Some((&m.receiver, axis))
}

impl Lower<'_> {
    /// Lowers `f` if it is a per-row loop; `false` leaves it to the caller.
    pub(super) fn try_rows(&mut self, f: &syn::ExprForLoop) -> bool {
        let (iter, enumerate) = match &*f.expr {
            Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty() => (&*m.receiver, true),
            e => (e, false),
        };
        let Some((x, axis)) = row_iter(iter) else { return false };
        let (index, row) = match (&*f.pat, enumerate) {
            (Pat::Tuple(t), true) if t.elems.len() == 2 => {
                (super::classify::pat_name(&t.elems[0]), super::classify::pat_name(&t.elems[1]))
            }
            (p, false) => (None, super::classify::pat_name(p)),
            _ => (None, None),
        };
        let Some(row) = row else {
            self.ctxt.error(&f.pat, "a per-row loop binds the row to a name (`for row in x.outer_iter()`, `for (i, row) in x.outer_iter().enumerate()`)");
            return true;
        };
        let step = match axis {
            Ok(a) => a,
            Err(e) => match self.axis_arg(e) {
                Some(a) => a,
                None => return true,
            },
        };
        // A row used only by element: the same loop written by index (`row_index.rs`).
        let index_pat = match (&*f.pat, enumerate) {
            (Pat::Tuple(t), true) => t.elems.first(),
            _ => None,
        };
        if let Some(Expr::ForLoop(by_index)) = self.row_index_loop(f, x, step, index_pat, &row) {
            self.for_loop(&by_index);
            return true;
        }
        let node = match self.expr(x) {
            Value::Array(n) => n,
            Value::Error => return true,
            _ => {
                self.ctxt.error(
                    x,
                    "a per-row loop runs over the rows of an N-d input (`x.outer_iter()` of an `ArrayView2<T>`)",
                );
                return true;
            }
        };
        let space = self.k().node_space(node);
        if self.k().leaves(space).is_none() || self.k().space_rank(space) != Rank::Static(2) || step > 1 {
            self.ctxt.error(x, "per-row loops run over the rows or columns of a 2-D input (`ArrayView2<T>`, `&Array2<T>`); for a 1-D array loop over its elements (`for v in x`)");
            return true;
        }
        if self.rows.is_some() || self.in_loop.is_some() {
            self.ctxt.error(
                f.for_token,
                "a per-row loop cannot be nested in another loop; write the inner work with the row's array methods",
            );
            return true;
        }
        let count = match self.k().leaves(space).and_then(|l| l.iter().next()).map(|l| l.src) {
            Some(LeafSrc::Param(p)) => {
                let x = self.param_name(p).clone();
                quote!(#x.shape().dims()[#step])
            }
            _ => quote!(0usize),
        };
        let uses = super::nest::name_uses(&f.body);
        let outer_scopes = self.scopes.len();
        self.rows =
            Some(RowCtx { along: 1 - step, index: index.clone(), per_row: BTreeSet::new(), count, uses, outer_scopes });
        self.scopes.push(HashMap::new());
        self.bind(row, Binding::Array(node));
        for stmt in &f.body.stmts {
            match stmt {
                Stmt::Local(l) => self.local(l),
                Stmt::Expr(e, _) => self.row_effect(e),
                other => {
                    self.ctxt
                        .error(other, "a per-row loop holds `let`s, writes `out[i] = v` and accumulators (`acc += v`)");
                }
            }
        }
        self.scopes.pop();
        self.rows = None;
        true
    }

    /// A statement of a per-row loop.
    fn row_effect(&mut self, e: &Expr) {
        let index = self.rows.as_ref().and_then(|r| r.index.clone());
        match e {
            Expr::Assign(a) => {
                match &*a.left {
                    Expr::Index(ix) if index.as_deref().is_some_and(|i| super::classify::is_name(&ix.index, i)) => {
                        let v = self.expr(&a.right);
                        if let Value::Array(n) = v {
                            if !self.is_per_row(n) {
                                self.ctxt.error(&a.right, "`out[i]` is one element per row: reduce the row (`row.sum()`, `(row * w).max()`, ..)");
                                return;
                            }
                        }
                        self.row_write(ix, v, &a.right);
                    }
                    Expr::Path(_) => self.row_accumulate(&a.left, None, &a.right, e),
                    _ => self.row_statement_error(e),
                }
            }
            Expr::Binary(b) if compound_base(&b.op).is_some() => self.row_accumulate(&b.left, Some(b.op), &b.right, e),
            _ => self.row_statement_error(e),
        }
    }

    /// `out[i] = v`: into an output parameter, as `out[..] = v`; into a local output
    /// (`let mut out = vec![0.0; n];`) used only here and as the kernel's result, which
    /// then is the values per row themselves (no buffer, no zeroing), checked to have one
    /// element per row.
    fn row_write(&mut self, ix: &syn::ExprIndex, v: Value, rhs: &Expr) {
        let name = target_name(&ix.expr).unwrap_or_default();
        let (Some(Binding::Output(p)), Value::Array(n)) = (self.lookup(&name), &v) else {
            return self.fill_value(ix, v, rhs);
        };
        if !self.is_local(p) {
            return self.fill_value(ix, v, rhs);
        }
        if matches!(self.k().params[p].kind, ParamKind::Local(Storage::Nd(_))) {
            let msg = format!("a per-row loop writes one value per row into a 1-D local output (`vec![..]`, `Array1::zeros(n)`); `{name}` is N-d");
            self.ctxt.error(&ix.expr, msg);
            return;
        }
        let here = self.rows.as_ref().and_then(|r| r.uses.get(&name)).copied();
        if self.name_uses.get(&name) != Some(&3) || here != Some(1) || self.row_results.contains_key(&p) {
            let msg = format!("a local output written by a per-row loop is created, written once in the loop (`{name}[i] = v`) and returned as it is (it is then the values per row themselves, with no buffer): put the further work into the value written (`{name}[i] = row.sum() + 1.0`)");
            self.ctxt.error(&ix.expr, msg);
            return;
        }
        // The local's buffer is not needed: its creation becomes the length check.
        let ident = self.param_name(p).clone();
        let vec = names::local_vec(&ident);
        let mut len = None;
        for l in &mut self.b.k.lets {
            if l.name == vec || l.name == ident {
                if let LetKind::LocalVec { len: n, .. } | LetKind::LocalArray { len: Some(n), .. } = &l.kind {
                    len = Some(n.clone());
                }
                l.kind = LetKind::Statement;
                l.value.tokens = TokenStream::new();
            }
        }
        let (len, count) =
            (len.expect("a local's length"), self.rows.as_ref().expect("in a per-row loop").count.clone());
        let (kernel, text) = (&self.kernel_name, ident.to_string());
        let check = self.checked(quote!(__lf::check_len(#kernel, #text, #len, "the rows", #count)));
        let value = Scalar::new(quote!(#check;));
        self.b.k.lets.push(ScalarLet {
            name: names::slice(0),
            mutable: false,
            ty: None,
            value,
            kind: LetKind::Statement,
        });
        self.row_results.insert(p, *n);
    }

    fn row_statement_error(&mut self, e: &Expr) {
        let i = self.rows.as_ref().and_then(|r| r.index.clone()).unwrap_or_else(|| "i".into());
        let msg = format!("a per-row loop writes one element per row (`out[{i}] = v`, with `.enumerate()`) or updates an accumulator over the rows (`acc += v`, `acc = acc.max(v)`); other statements are not supported in it");
        self.ctxt.error(e, msg);
    }

    /// `acc += v` (`-=`, `*=`), `acc = acc.max(v)` / `acc.min(v)` over the rows: `acc`
    /// combined once with the whole reduction of the values per row.
    fn row_accumulate(&mut self, target: &Expr, op: Option<syn::BinOp>, rhs: &Expr, at: &Expr) {
        let Some(name) = target_name(target) else { return self.row_statement_error(at) };
        let Some(Binding::Scalar(init)) = self.lookup(&name) else { return self.row_statement_error(at) };
        let (kind, value) = match op {
            Some(syn::BinOp::AddAssign(_) | syn::BinOp::SubAssign(_)) => (RedKind::Sum, self.expr(rhs)),
            Some(syn::BinOp::MulAssign(_)) => (RedKind::Prod, self.expr(rhs)),
            Some(_) => return self.row_statement_error(at),
            None => match super::classify::extremum_update(rhs, &name) {
                Some((kind, other)) => (kind, self.expr(other)),
                None => return self.row_statement_error(at),
            },
        };
        let n = match value {
            Value::Array(n) if self.is_per_row(n) => n,
            Value::Error => return,
            _ => {
                self.ctxt.error(rhs, "an accumulator of a per-row loop takes one value per row (`acc += row.sum()`)");
                return;
            }
        };
        let text = tidy(&at.to_token_stream());
        let mut deps = self.k().nodes[n].deps.clone();
        let r = self.b.accumulator(Reduction {
            kind,
            arg: n,
            axis: None,
            ddof: None,
            mask: None,
            mean: None,
            deps: deps.clone(),
            text,
        });
        deps.insert(Dep::Red(r));
        deps.extend(init.deps.iter().copied());
        let (acc, red) = (&init.tokens, names::reduction(r));
        let tokens = match (op, kind) {
            (Some(o), _) => {
                let o = compound_base(&o).expect("compound");
                quote!(#acc #o #red)
            }
            (None, RedKind::MaxNum) => quote!(#acc.max(#red)),
            (None, _) => quote!(#acc.min(#red)),
        };
        let ident = syn::Ident::new(&name, target.span());
        let s = self.new_let(&ident, None, Scalar { tokens, deps });
        self.rebind(&name, Binding::Scalar(s));
    }

    /// In a per-row loop, a use of `name` bound outside it: an N-d array there is the whole
    /// array, which plain Rust would broadcast against the row (`row - y` is every row of
    /// `y` minus the row), not row by row. Refused rather than given another meaning.
    pub(super) fn row_outer_array(&mut self, name: &str, at: &dyn ToTokens) -> bool {
        let Some(outer) = self.rows.as_ref().map(|r| r.outer_scopes) else { return false };
        if self.scopes[outer..].iter().any(|s| s.contains_key(name)) {
            return false;
        }
        let rank = match self.lookup(name) {
            Some(Binding::Input(p)) => self.k().params[p].kind.is_nd().then_some(()),
            Some(Binding::Array(n)) => (self.k().space_rank(self.k().node_space(n)) != Rank::Static(1)).then_some(()),
            _ => None,
        };
        if rank.is_none() {
            return false;
        }
        let msg = format!("`{name}` is a whole N-d array here, not one row of it: in a per-row loop use the row (`row`) and 1-D arrays, or write the work as whole-array expressions outside the loop");
        self.ctxt.error(at, msg);
        true
    }

    /// Whether `n` is a value per row of the per-row loop being lowered.
    pub(super) fn is_per_row(&self, n: NodeId) -> bool {
        self.rows.as_ref().is_some_and(|r| r.per_row.contains(&n))
    }

    /// In a per-row loop, a reduction of a row: the axis reduction along the row, a value
    /// per row. `None` outside per-row loops.
    pub(super) fn row_reduction(
        &mut self,
        kind: RedKind,
        node: NodeId,
        ddof: Option<Scalar>,
        text: String,
    ) -> Option<Value> {
        let along = self.rows.as_ref()?.along;
        // A 1-D array from outside (`w.sum()`) is the same in every row: a whole reduction.
        if !self.is_per_row(node) && self.k().space_rank(self.k().node_space(node)) != Rank::Static(2) {
            return None;
        }
        if self.is_per_row(node) {
            return Some(self.unsupported(
                &text,
                "this is one value per row already: a reduction takes the row's elements (`row.sum()`)",
            ));
        }
        let v = self.axis_reduction_of(kind, node, along, ddof, text);
        if let Value::Array(n) = v {
            self.rows.as_mut().expect("in a per-row loop").per_row.insert(n);
        }
        Some(v)
    }

    /// In a per-row loop, the operands of an elementwise operation: values per row meet
    /// values per element through `insert_axis` along the row. Returns whether the result
    /// is a value per row.
    pub(super) fn row_operands(&mut self, parts: &mut [Value]) -> Result<bool, String> {
        let Some(along) = self.rows.as_ref().map(|r| r.along) else { return Ok(false) };
        let arrays: Vec<NodeId> =
            parts.iter().filter_map(|p| if let Value::Array(n) = p { Some(*n) } else { None }).collect();
        let rows = arrays.iter().filter(|&&n| self.is_per_row(n)).count();
        if rows == 0 || rows == arrays.len() {
            return Ok(rows > 0);
        }
        for p in parts.iter_mut() {
            if let Value::Array(n) = p {
                if self.is_per_row(*n) {
                    *n = self.view_at(*n, ViewOp::Insert(along), Rank::Static(1))?;
                }
            }
        }
        Ok(false)
    }
}

/// `row.len()` in a per-row loop: the row's length.
pub(super) fn row_len(x: &syn::Ident, along: usize) -> TokenStream {
    quote!(#x.shape().dims()[#along])
}
