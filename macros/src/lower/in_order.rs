//! Loops kept in source order: emitted as the plain Rust loop they are, over the parameters
//! (inputs and outputs indexed as `x[i]`, `out[i] = v`), with the scalars they assign copied
//! in before and out after. Codegen rewrites the output accesses for the runtime's views.

use super::*;
use quote::quote;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

impl Lower<'_> {
    pub(super) fn in_order_loop(&mut self, e: &Expr) {
        // The outer names the loop uses and assigns, where no binding of the loop shadows them.
        let mut free = Free::default();
        free.visit_expr_mut(&mut e.clone());
        let mut subst: HashMap<String, TokenStream> = HashMap::new();
        let mut deps = Deps::new();
        let mut mutated: Vec<(String, syn::Ident)> = Vec::new();
        let mut outputs = Vec::new();
        for name in &free.used {
            match self.lookup(name) {
                Some(Binding::Scalar(s)) => {
                    deps.extend(s.deps.iter().copied());
                    if free.assigned.contains(name) {
                        let count = self.name_counts.entry(name.clone()).or_insert(0);
                        let ident = names::renamed(&syn::Ident::new(name, proc_macro2::Span::call_site()), *count);
                        *count += 1;
                        mutated.push((name.clone(), ident.clone()));
                        subst.insert(name.clone(), ident.into_token_stream());
                    } else {
                        subst.insert(name.clone(), s.tokens.clone());
                    }
                }
                Some(Binding::Array(_)) => {
                    self.ctxt.error(e, format!("`{name}` is an array expression; a loop that runs in order can only index parameters (`x[i]`) and use scalars: compute `{name}` per element inside the loop"));
                    return;
                }
                Some(Binding::Output(p)) => outputs.push(p),
                Some(Binding::Poison) => return,
                _ => {}
            }
        }
        self.seq_outputs.extend(outputs.iter().copied());
        // After the outputs' creation (local outputs) and the loops that wrote them before;
        // later uses of them wait for this loop.
        let outputs: Vec<(ParamId, Deps)> =
            outputs.into_iter().map(|p| (p, self.loop_written.get(&p).cloned().unwrap_or_default())).collect();
        for (_, version) in &outputs {
            deps.extend(version.iter().copied());
        }
        let me = Dep::InOrder(self.k().lets.len());
        for (p, _) in &outputs {
            self.loop_written.insert(*p, [me].into_iter().collect());
        }
        let mut body_expr = e.clone();
        Free { subst: Some(&subst), ..Free::default() }.visit_expr_mut(&mut body_expr);
        let output_ids: Vec<ParamId> = outputs.iter().map(|(p, _)| *p).collect();
        let rows = mutated.is_empty() && self.parallel_rows(&body_expr, &output_ids);
        // Reads of inputs (`y[i]`) are checked with the kernel's name, as the fused form's.
        let inputs: BTreeSet<String> =
            free.used.iter().filter(|n| matches!(self.lookup(n), Some(Binding::Input(_)))).cloned().collect();
        // Inner loops that vectorize, before the accesses are rewritten for the runtime (what
        // a run computes once is checked as the loop's other accesses are).
        self.inner_passes(&mut body_expr);
        // N-d ones (`x[[i, j]]`) and shape queries first: `x[[i]]` of a 1-D array becomes `x[i]`.
        self.nd_accesses(&mut body_expr);
        InputReads { inputs: &inputs, kernel: &self.kernel_name, result: self.result_kernel }
            .visit_expr_mut(&mut body_expr);
        let copies = mutated
            .iter()
            .map(|(name, ident)| {
                let init = match self.lookup(name) {
                    Some(Binding::Scalar(s)) => s.tokens,
                    _ => quote!(()),
                };
                (ident.clone(), init)
            })
            .collect();
        let k = self.b.k.in_order_loops;
        self.b.k.in_order_loops += 1;
        let seq = names::in_order(k);
        let kind = LetKind::InOrder { body: Box::new(body_expr), copies, outputs, rows };
        let value = Scalar { tokens: TokenStream::new(), deps: deps.clone() };
        self.b.k.lets.push(ScalarLet { name: seq.clone(), mutable: false, ty: None, value, kind });
        for (j, (name, _)) in mutated.iter().enumerate() {
            let j = syn::Index::from(j);
            let value = Scalar { tokens: quote!(#seq.#j), deps: deps.clone() };
            let ident = syn::Ident::new(name, syn::spanned::Spanned::span(e));
            let s = self.new_let(&ident, None, value);
            self.rebind(name, Binding::Scalar(s));
        }
    }
}

/// The names a pattern binds, into `into`.
pub(super) fn pat_names(p: &Pat, into: &mut BTreeSet<String>) {
    struct B<'s>(&'s mut BTreeSet<String>);
    impl<'ast> Visit<'ast> for B<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.insert(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }
    }
    B(into).visit_pat(p);
}

/// A walk of the loop that knows which names the loop's own bindings (`let`, patterns,
/// closure parameters) shadow at each point: it records the free names used and assigned,
/// and with `subst` replaces free uses of outer scalars by their current names.
#[derive(Default)]
struct Free<'b> {
    scopes: Vec<BTreeSet<String>>,
    used: BTreeSet<String>,
    assigned: BTreeSet<String>,
    subst: Option<&'b HashMap<String, TokenStream>>,
}

impl Free<'_> {
    fn bind_pat(&mut self, p: &Pat) {
        if self.scopes.is_empty() {
            self.scopes.push(BTreeSet::new());
        }
        pat_names(p, self.scopes.last_mut().expect("a scope"));
    }

    fn shadowed(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.contains(name))
    }

    /// Runs `f` in a new scope.
    fn scoped(&mut self, f: impl FnOnce(&mut Self)) {
        self.scopes.push(BTreeSet::new());
        f(self);
        self.scopes.pop();
    }
}

impl VisitMut for Free<'_> {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        self.scoped(|s| {
            for stmt in &mut b.stmts {
                match stmt {
                    Stmt::Local(l) => {
                        if let Some(init) = &mut l.init {
                            s.visit_expr_mut(&mut init.expr);
                            if let Some((_, d)) = &mut init.diverge {
                                s.visit_expr_mut(d);
                            }
                        }
                        s.bind_pat(&l.pat);
                    }
                    other => s.visit_stmt_mut(other),
                }
            }
        });
    }

    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        self.visit_expr_mut(&mut f.expr);
        self.scoped(|s| {
            s.bind_pat(&f.pat);
            s.visit_block_mut(&mut f.body);
        });
    }

    fn visit_expr_closure_mut(&mut self, c: &mut syn::ExprClosure) {
        self.scoped(|s| {
            for p in &c.inputs {
                s.bind_pat(p);
            }
            s.visit_expr_mut(&mut c.body);
        });
    }

    fn visit_arm_mut(&mut self, a: &mut syn::Arm) {
        self.scoped(|s| {
            s.bind_pat(&a.pat);
            if let Some((_, g)) = &mut a.guard {
                s.visit_expr_mut(g);
            }
            s.visit_expr_mut(&mut a.body);
        });
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        let target = match e {
            Expr::Assign(a) => Some(&*a.left),
            Expr::Binary(b) if compound_base(&b.op).is_some() => Some(&*b.left),
            _ => None,
        };
        if let Some(Expr::Path(p)) = target {
            if let Some(i) = p.path.get_ident().map(|i| i.to_string()).filter(|i| !self.shadowed(i)) {
                self.assigned.insert(i);
            }
        }
        if let Expr::Path(p) = e {
            if let Some(name) = p.path.get_ident().map(|i| i.to_string()).filter(|i| !self.shadowed(i)) {
                match self.subst.and_then(|m| m.get(&name)) {
                    Some(t) => *e = syn::parse_quote!(#t),
                    None => {
                        self.used.insert(name);
                    }
                }
                return;
            }
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}

/// `y[i]` of an input in a loop that runs in order -> `__lf::expect(__lf::at("k", "y[i]", y, i))`:
/// an out-of-range read panics naming the kernel, the read, the index and the length (in a
/// `Result` kernel, `__lf::at(..)?` returns the error, as N-d reads do).
struct InputReads<'a> {
    inputs: &'a BTreeSet<String>,
    kernel: &'a str,
    result: bool,
}

impl VisitMut for InputReads<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        let Expr::Index(ix) = e else { return };
        let Expr::Path(p) = &*ix.expr else { return };
        let Some(name) = p.path.get_ident() else { return };
        if !self.inputs.contains(&name.to_string()) || matches!(&*ix.index, Expr::Range(_)) {
            return;
        }
        let (text, kernel, index) = (tidy(&ix.to_token_stream()), self.kernel, &ix.index);
        *e = if self.result {
            syn::parse_quote!((__lf::at(#kernel, #text, #name, #index)?))
        } else {
            syn::parse_quote!(__lf::expect(__lf::at(#kernel, #text, #name, #index)))
        };
    }
}
