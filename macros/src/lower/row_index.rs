//! Per-row loops that loop over the row's elements, as index loops:
//!
//! ```text
//! for (i, row) in x.outer_iter().enumerate() {        for i in 0..x.nrows() {
//!     let mut s = 0.0;                                    let mut s = 0.0;
//!     for v in row.iter() { s += v * v; }      ==>        for __j in 0..x.ncols() { let v = x[[i, __j]]; s += v * v; }
//!     out[i] = s.sqrt();                                  out[i] = s.sqrt();
//! }                                                   }
//! ```
//! When every use of `row` is an element (`row[j]`), its length (`row.len()`) or a loop over
//! its elements (`for v in row`, `row.iter()`, `for (j, &v) in row.iter().enumerate()`), the
//! loop is the same loop written by index, and is lowered as one: a nest, or a loop in order
//! whose inner loops may vectorize (`inner_pass.rs`) and whose iterations may run in parallel
//! (`prange.rs`). A row used as an array (`row.sum()`, `row - row.mean()`) is a per-row loop
//! of array work instead (`rows.rs`).

use super::*;
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;

impl Lower<'_> {
    /// `f` written by index, if it is a per-row loop of a 2-D input parameter `x` (stepping
    /// along `axis`) that uses its row only by element (module docs).
    pub(super) fn row_index_loop(
        &self,
        f: &syn::ExprForLoop,
        x: &Expr,
        axis: usize,
        index: Option<&Pat>,
        row: &str,
    ) -> Option<Expr> {
        let Expr::Path(p) = x else { return None };
        let xi = p.path.get_ident()?;
        let Some(Binding::Input(q)) = self.lookup(&xi.to_string()) else { return None };
        if self.k().params[q].kind.nd_rank() != Some(Rank::Static(2)) || axis > 1 {
            return None;
        }
        let i: Expr = match index {
            Some(Pat::Ident(pi)) if pi.subpat.is_none() && pi.by_ref.is_none() => {
                let id = &pi.ident;
                syn::parse_quote!(#id)
            }
            Some(_) => return None,
            None => syn::parse_quote!(__row),
        };
        let (count, len) = if axis == 0 {
            (quote!(#xi.nrows()), quote!(#xi.ncols()))
        } else {
            (quote!(#xi.ncols()), quote!(#xi.nrows()))
        };
        let mut r = Rewrite { x: xi, row, i: &i, axis, len: &len, loops: 0, ok: true };
        let mut body = f.body.clone();
        r.visit_block_mut(&mut body);
        if !r.ok || r.loops == 0 || super::nest::mentions(&body, &[row.to_string()]) {
            return None;
        }
        Some(syn::parse_quote!(for #i in 0..#count #body))
    }
}

struct Rewrite<'r> {
    x: &'r syn::Ident,
    row: &'r str,
    i: &'r Expr,
    axis: usize,
    len: &'r TokenStream,
    /// Loops over the row's elements rewritten.
    loops: usize,
    ok: bool,
}

impl Rewrite<'_> {
    fn is_row(&self, e: &Expr) -> bool {
        matches!(e, Expr::Path(p) if p.path.is_ident(self.row))
    }

    /// `x[[i, j]]` (rows) or `x[[j, i]]` (columns) for the row's element `j`.
    fn element(&self, j: &Expr) -> Expr {
        let (x, i) = (self.x, self.i);
        if self.axis == 0 {
            syn::parse_quote!(#x[[#i, #j]])
        } else {
            syn::parse_quote!(#x[[#j, #i]])
        }
    }

    /// `row`, `row.iter()`, `row.into_iter()`, and whether `.enumerate()` follows.
    fn row_iter(&self, e: &Expr) -> Option<bool> {
        match e {
            Expr::MethodCall(m) if m.method == "enumerate" && m.args.is_empty() => {
                self.row_iter(&m.receiver).filter(|&en| !en).map(|_| true)
            }
            Expr::MethodCall(m) if (m.method == "iter" || m.method == "into_iter") && m.args.is_empty() => {
                self.is_row(&m.receiver).then_some(false)
            }
            Expr::Reference(r) => self.row_iter(&r.expr),
            e => self.is_row(e).then_some(false),
        }
    }
}

/// `*v` -> `v` for the name `v` (a row's element is a value here, a reference in plain Rust).
struct Deref<'n>(&'n syn::Ident);
impl VisitMut for Deref<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Unary(u) = e {
            if matches!(u.op, syn::UnOp::Deref(_)) && matches!(&*u.expr, Expr::Path(p) if p.path.is_ident(self.0)) {
                *e = (*u.expr).clone();
                return;
            }
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}

impl VisitMut for Rewrite<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::ForLoop(f) if self.row_iter(&f.expr).is_some() => {
                let enumerate = self.row_iter(&f.expr) == Some(true);
                let (j, v) = match (&*f.pat, enumerate) {
                    (Pat::Tuple(t), true) if t.elems.len() == 2 => (Some(t.elems[0].clone()), t.elems[1].clone()),
                    (p, false) => (None, p.clone()),
                    _ => {
                        self.ok = false;
                        return;
                    }
                };
                let j: Pat = j.unwrap_or_else(|| {
                    let id = format_ident!("__j{}", self.loops);
                    syn::parse_quote!(#id)
                });
                let Pat::Ident(jn) = &j else {
                    self.ok = false;
                    return;
                };
                let (jn, len) = (&jn.ident, self.len);
                let elem = self.element(&syn::parse_quote!(#jn));
                // `&v` and `v` both bind the value: `*v` in the body reads it.
                let v = match v {
                    Pat::Reference(r) => (*r.pat).clone(),
                    p => p,
                };
                let mut body = f.body.clone();
                if let Pat::Ident(vi) = &v {
                    Deref(&vi.ident).visit_block_mut(&mut body);
                }
                self.loops += 1;
                self.visit_block_mut(&mut body);
                let stmts = &body.stmts;
                *e = syn::parse_quote!(for #j in 0..#len { let #v = #elem; #(#stmts)* });
            }
            Expr::Index(ix) if self.is_row(&ix.expr) => {
                let mut j = (*ix.index).clone();
                self.visit_expr_mut(&mut j);
                *e = self.element(&j);
            }
            Expr::MethodCall(m) if self.is_row(&m.receiver) && m.method == "len" && m.args.is_empty() => {
                let len = self.len;
                *e = syn::parse_quote!(#len);
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
}
