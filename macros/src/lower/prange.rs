//! Which loops that run in order may spread their iterations over threads in a `parallel`
//! kernel: Numba's `prange`, inferred (`runtime/src/rows.rs` runs them).
//!
//! ```text
//! for i in 0..x.nrows() {
//!     let mut best = f64::NEG_INFINITY;
//!     let mut idx = 0;
//!     for j in 0..x.ncols() { if x[[i, j]] > best { best = x[[i, j]]; idx = j; } }
//!     out[i] = idx;
//! }
//! ```
//! An outermost `for i in lo..hi` qualifies when its iterations are independent:
//! - every use of an output in it is an element of row `i`: `out[[i, ..]]` or `out[i]`,
//!   with the loop's own `i` (so each iteration touches only its row, which the runtime
//!   also checks);
//! - it assigns no value from outside the loop (a sum over iterations stays serial: its
//!   order is the serial loop's);
//! - nothing leaves the iteration early: no `break` or `continue` of the outer loop, no
//!   `return` or `?`, no labels, closures or macros.
//!
//! Each iteration then computes exactly what it computes serially, so the results are the
//! serial loop's bits for every thread count.

use super::*;
use syn::visit::Visit;

impl Lower<'_> {
    /// Whether the in-order loop `e`, with `outputs` and assigning no outer value, may run
    /// its iterations in parallel (module docs).
    pub(super) fn parallel_rows(&self, e: &Expr, outputs: &[ParamId]) -> bool {
        let Expr::ForLoop(f) = e else { return false };
        let Some((i, _, _)) = super::nest::range_loop(f) else { return false };
        if matches!(&*f.pat, Pat::Ident(p) if p.mutability.is_some()) || outputs.is_empty() || self.result_kernel {
            return false;
        }
        let names: BTreeSet<String> = outputs.iter().map(|&p| self.param_name(p).to_string()).collect();
        let mut c = Check { i: &i, outputs: &names, depth: 0, ok: true, bound: BTreeSet::new() };
        c.visit_block(&f.body);
        c.ok && !c.bound.contains(&i)
    }
}

struct Check<'c> {
    i: &'c str,
    outputs: &'c BTreeSet<String>,
    /// Loops entered inside the outer one (a `break` there is the inner loop's).
    depth: usize,
    ok: bool,
    /// Names the body binds (one that shadows `i` would make `out[i]` another row).
    bound: BTreeSet<String>,
}

impl Check<'_> {
    /// `out[i]` or `out[[i, ..]]` of an output.
    fn own_row(&self, ix: &syn::ExprIndex) -> bool {
        let first = match &*ix.index {
            Expr::Array(a) => a.elems.first(),
            e => Some(e),
        };
        matches!(first, Some(Expr::Path(p)) if p.path.is_ident(self.i))
    }

    fn output(&self, e: &Expr) -> bool {
        matches!(e, Expr::Path(p) if p.path.get_ident().is_some_and(|x| self.outputs.contains(&x.to_string())))
    }
}

impl<'ast> Visit<'ast> for Check<'_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        match e {
            Expr::Index(ix) if self.output(&ix.expr) => {
                self.ok &= self.own_row(ix);
                // The indices, not the output's name again.
                self.visit_expr(&ix.index);
            }
            e if self.output(e) => self.ok = false,
            Expr::ForLoop(f) => {
                self.ok &= f.label.is_none();
                self.visit_expr(&f.expr);
                in_order::pat_names(&f.pat, &mut self.bound);
                self.depth += 1;
                self.visit_block(&f.body);
                self.depth -= 1;
            }
            Expr::While(w) => {
                self.ok &= w.label.is_none();
                self.visit_expr(&w.cond);
                self.depth += 1;
                self.visit_block(&w.body);
                self.depth -= 1;
            }
            Expr::Loop(l) => {
                self.ok &= l.label.is_none();
                self.depth += 1;
                self.visit_block(&l.body);
                self.depth -= 1;
            }
            Expr::Break(b) => {
                self.ok &= self.depth > 0 && b.label.is_none();
                syn::visit::visit_expr(self, e);
            }
            Expr::Continue(c) => self.ok &= self.depth > 0 && c.label.is_none(),
            Expr::Block(b) if b.label.is_some() => self.ok = false,
            Expr::Return(_) | Expr::Try(_) | Expr::Closure(_) | Expr::Macro(_) | Expr::Async(_) => self.ok = false,
            _ => syn::visit::visit_expr(self, e),
        }
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        in_order::pat_names(&l.pat, &mut self.bound);
        syn::visit::visit_local(self, l);
    }

    fn visit_stmt(&mut self, s: &'ast Stmt) {
        match s {
            Stmt::Item(_) | Stmt::Macro(_) => self.ok = false,
            _ => syn::visit::visit_stmt(self, s),
        }
    }
}
