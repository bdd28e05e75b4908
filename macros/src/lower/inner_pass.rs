//! Inner loops of a loop that runs in order, vectorized:
//!
//! ```text
//! for i in 0..pos.nrows() {
//!     for j in (i + 1)..pos.nrows() {
//!         let dx = pos[[i, 0]] - pos[[j, 0]];
//!         e += 1.0 / (dx * dx).sqrt();
//!     }
//! }
//! ```
//! The outer loop keeps its order (the inner range moves with `i`: not a rectangular nest,
//! `nest.rs`), but each run of the inner loop is a 1-D loop like any other:
//! - an access that moves with `j` (`pos[[j, 0]]`: the index `j` plus a constant on one axis,
//!   the other axes fixed for the run; `x[j + 1]` of a 1-D input) is a *window*, a 1-D view
//!   cut once per run by `NdView::window1` (`__lf::window` for a 1-D input), with the checked
//!   loop's panic condition (`runtime/src/nd/window.rs`),
//!   and read as a slice (`runtime/src/packing.rs`: a strided one is copied, once for all the
//!   runs that read the same line, so every run takes the vectorized contiguous body);
//! - what does not move with `j` (`pos[[i, 0]]`, `xi`, `n as f64`) is computed once before
//!   the run, checked as the loop's other accesses are;
//! - the accumulators are reductions in the fixed lane order (SPEC §4): after a run, `e` is
//!   `e + (the run's sum)`, as after any vectorized 1-D loop.
//!
//! The run is lowered as a kernel of its own, a 1-D loop over the windows (`crate::expand::
//! inner_body`), whose body is inlined where the loop was: in every clone of the outer
//! kernel, so at every level with the same bits. An empty range runs nothing and evaluates
//! nothing, as the plain loop. Every access of the body counts, as in a nest: one under an
//! `if` is checked (or computed) even where the condition is false.
//!
//! Anything else stays as written: a loop whose body writes arrays, reads an accumulator,
//! breaks, nests another loop, or that the 1-D lowering would run in order.

use super::*;
use quote::{format_ident, quote};
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

impl Lower<'_> {
    /// Rewrites the inner loops of the in-order loop `e` that vectorize (module docs).
    pub(super) fn inner_passes(&mut self, e: &mut Expr) {
        if self.strict {
            return;
        }
        let mut w = Inner { lower: self, found: 0, packs: Vec::new() };
        // The children only: `e` itself was classified to run in order.
        syn::visit_mut::visit_expr_mut(&mut w, e);
        let (found, packs) = (w.found, w.packs);
        self.b.k.inner_passes += found;
        // The packs of strided windows, made once for the whole loop.
        if !packs.is_empty() {
            *e = syn::parse_quote!({ #(let mut #packs = __lf::Pack::default();)* #e });
        }
    }

    /// The replacement of `f`, if it is an inner loop that vectorizes.
    fn inner_pass(&self, f: &syn::ExprForLoop, packs: &mut Vec<syn::Ident>) -> Option<Expr> {
        let (j, lo, hi) = super::nest::range_loop(f)?;
        if !plain_body(&f.body) {
            return None;
        }
        let mut locals = BTreeSet::new();
        let mut lets = Lets(&mut locals);
        lets.visit_block(&f.body);
        // Writes stay in order.
        if !super::classify::written_outputs(&f.body).is_empty() {
            return None;
        }
        let assigned = super::classify::assigned_names(&f.body);
        let mut moving: Vec<String> = vec![j.clone()];
        moving.extend(locals.iter().cloned());
        moving.extend(assigned.keys().cloned());
        let mut run = Run { lower: self, j: &j, moving: &moving, windows: Vec::new(), captures: Vec::new() };
        let mut body = f.body.clone();
        run.visit_block_mut(&mut body);
        let Run { windows, captures, .. } = run;
        // Idents as written: their spans resolve where the user's names do (`macro_rules!`).
        let accumulators: Vec<syn::Ident> =
            assigned.into_iter().filter(|(a, _)| !locals.contains(a)).map(|(_, i)| i).collect();
        if windows.is_empty() || accumulators.is_empty() {
            return None;
        }
        // The run as a kernel: windows, then values computed once, accumulators, the length.
        let kernel = format_ident!("{}", self.kernel_name);
        let w: Vec<syn::Ident> = (0..windows.len()).map(|k| format_ident!("__w{k}")).collect();
        let elems = windows.iter().map(|(_, _, elem, _)| elem);
        let c: Vec<syn::Ident> = (0..captures.len()).map(|k| format_ident!("__c{k}")).collect();
        let ct: Vec<syn::Ident> = (0..captures.len()).map(|k| format_ident!("__C{k}")).collect();
        let a = &accumulators;
        let at: Vec<syn::Ident> = (0..a.len()).map(|k| format_ident!("__A{k}")).collect();
        let Pat::Ident(j_ident) = &*f.pat else { unreachable!("a range loop") };
        let j_ident = &j_ident.ident;
        let uses_j = super::nest::mentions(&body, std::slice::from_ref(&j));
        let (lo_param, index) =
            if uses_j { (Some(quote!(, __lo: usize)), Some(quote!(let #j_ident = __lo + __t;))) } else { (None, None) };
        let stmts = &body.stmts;
        // The kernel's own type parameters too (`ArrayView1<T>` windows of a generic kernel).
        let outer: Vec<syn::Ident> = self.generics.iter().map(|g| format_ident!("{g}")).collect();
        let func: syn::ItemFn = syn::parse_quote! {
            fn #kernel<#(#outer,)* #(#ct,)* #(#at),*>(
                #(#w: ArrayView1<#elems>,)* #(#c: #ct,)* #(#a: #at,)* __n: usize #lo_param
            ) -> (#(#at,)*) {
                #(let mut #a = #a;)*
                for __t in 0..__n {
                    #index
                    #(#stmts)*
                }
                (#(#a,)*)
            }
        };
        let run_body = crate::expand::inner_body(&func)?;
        // The run, where the loop was (module docs).
        let name = &self.kernel_name;
        let cuts = windows.iter().zip(&w).map(|((x, cut, _, text), w)| match cut {
            Cut::Nd(axes) => {
                let call = quote!(__lf::nd::NdView::window1(#x, #name, #text, &[#(#axes),*], (__lo, __hi)));
                let cut = self.checked(call);
                quote!(let #w = #cut;)
            }
            // As a 1-D loop's window (it panics, in a `Result` kernel too, as theirs do).
            Cut::OneD(off) => quote!(let #w = __lf::View::from(__lf::window(#name, #text, #x, __lo, __hi, #off));),
        });
        let caps = captures.iter().zip(&c).map(|(e, c)| quote!(let #c = #e;));
        let b: Vec<syn::Ident> = (0..w.len()).map(|k| format_ident!("__p{}", packs.len() + k)).collect();
        packs.extend(b.iter().cloned());
        let idx = (0..a.len()).map(syn::Index::from);
        let mut block: Expr = syn::parse_quote! {{
            let __lo: usize = #lo;
            let __hi: usize = #hi;
            if __lo < __hi {
                let __n = __hi - __lo;
                #(#cuts)*
                #(#caps)*
                #(let #w = #b.slice(#w);)*
                let __run = __lf_run!();
                #(#a = __run.#idx;)*
            }
        }};
        Placeholder(run_body).visit_expr_mut(&mut block);
        Some(block)
    }
}

struct Inner<'l, 'a> {
    lower: &'l Lower<'a>,
    found: usize,
    /// One pack per window of every run (`runtime/src/packing.rs`).
    packs: Vec<syn::Ident>,
}

impl VisitMut for Inner<'_, '_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        if let Expr::ForLoop(f) = e {
            if let Some(run) = self.lower.inner_pass(f, &mut self.packs) {
                *e = run;
                self.found += 1;
            }
        }
    }
}

/// Whether a loop body only computes and assigns: no other loop, no jump out of it, no
/// macro or item whose effects a run could reorder.
fn plain_body(b: &syn::Block) -> bool {
    struct P(bool);
    impl<'ast> Visit<'ast> for P {
        fn visit_expr(&mut self, e: &'ast Expr) {
            match e {
                Expr::ForLoop(_)
                | Expr::While(_)
                | Expr::Loop(_)
                | Expr::Break(_)
                | Expr::Continue(_)
                | Expr::Return(_)
                | Expr::Try(_)
                | Expr::Macro(_)
                | Expr::Closure(_)
                | Expr::Async(_)
                | Expr::Await(_)
                | Expr::Yield(_)
                | Expr::Verbatim(_) => self.0 = false,
                _ => syn::visit::visit_expr(self, e),
            }
        }
        fn visit_stmt(&mut self, s: &'ast Stmt) {
            match s {
                Stmt::Item(_) | Stmt::Macro(_) => self.0 = false,
                _ => syn::visit::visit_stmt(self, s),
            }
        }
    }
    let mut p = P(true);
    p.visit_block(b);
    p.0
}

/// The names `let`s of a body bind.
struct Lets<'s>(&'s mut BTreeSet<String>);
impl<'ast> Visit<'ast> for Lets<'_> {
    fn visit_local(&mut self, l: &'ast syn::Local) {
        super::in_order::pat_names(&l.pat, self.0);
        syn::visit::visit_local(self, l);
    }
}

/// The rewrite of a run's body: windows for the accesses that move with `j`, captures for
/// the largest values that do not move.
struct Run<'l, 'a, 'j> {
    lower: &'l Lower<'a>,
    j: &'j str,
    /// Names whose value changes in the run: `j`, the body's `let`s, what it assigns.
    moving: &'j [String],
    /// Each distinct window: the input, how it is cut, its element type, the access as written.
    windows: Vec<(syn::Ident, Cut, Type, String)>,
    captures: Vec<Expr>,
}

impl Run<'_, '_, '_> {
    /// Whether `e` is the same for the whole run and safe to compute once before it.
    fn fixed(&self, e: &Expr) -> bool {
        !super::nest::mentions(e, self.moving) && pure(e)
    }

    /// `x[[.., j + c, ..]]` of an N-d input, with the other axes fixed, or `x[j + c]` of a
    /// 1-D one: its window.
    fn window(&mut self, ix: &syn::ExprIndex) -> Option<usize> {
        let Expr::Path(p) = &*ix.expr else { return None };
        let x = p.path.get_ident()?;
        let Some(Binding::Input(q)) = self.lower.lookup(&x.to_string()) else { return None };
        let ParamKind::Input { elem, .. } = &self.lower.k().params[q].kind else { return None };
        let text = tidy(&ix.to_token_stream());
        if !self.lower.k().params[q].kind.is_nd() {
            let off = super::classify::index_offset(&ix.index, self.j)?;
            return Some(self.add(x, Cut::OneD(off), elem, text));
        }
        let Expr::Array(a) = &*ix.index else { return None };
        let j = [self.j.to_string()];
        let mut axes = Vec::new();
        let mut moves = 0;
        for e in &a.elems {
            if super::nest::mentions(e, &j) {
                let off = super::classify::index_offset(e, self.j)?;
                moves += 1;
                axes.push(quote!(__lf::nd::Win::Loop(0, #off)));
            } else if self.fixed(e) {
                axes.push(quote!(__lf::nd::Win::At(#e)));
            } else {
                return None;
            }
        }
        if moves != 1 {
            return None;
        }
        Some(self.add(x, Cut::Nd(axes), elem, text))
    }

    /// The index of window `cut` of `x`, a new one unless the run has it already.
    fn add(&mut self, x: &syn::Ident, cut: Cut, elem: &Type, text: String) -> usize {
        match self.windows.iter().position(|(y, c, _, _)| y == x && *c == cut) {
            Some(k) => k,
            None => {
                self.windows.push((x.clone(), cut, elem.clone(), text));
                self.windows.len() - 1
            }
        }
    }
}

/// How a window is cut: the `Win`s of an N-d input's axes, or a 1-D input's offset.
enum Cut {
    Nd(Vec<TokenStream>),
    OneD(isize),
}

impl PartialEq for Cut {
    fn eq(&self, o: &Self) -> bool {
        match (self, o) {
            (Cut::Nd(a), Cut::Nd(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_string() == y.to_string())
            }
            (Cut::OneD(a), Cut::OneD(b)) => a == b,
            _ => false,
        }
    }
}

/// Whether `e` is built of values, arithmetic, indexing and pure methods only.
fn pure(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) | Expr::Path(_) => true,
        Expr::Paren(p) => pure(&p.expr),
        Expr::Group(g) => pure(&g.expr),
        Expr::Unary(u) => pure(&u.expr),
        Expr::Binary(b) => compound_base(&b.op).is_none() && pure(&b.left) && pure(&b.right),
        Expr::Cast(c) => pure(&c.expr),
        Expr::Field(f) => pure(&f.base),
        Expr::Index(ix) => pure(&ix.expr) && pure(&ix.index),
        Expr::Array(a) => a.elems.iter().all(pure),
        Expr::Tuple(t) => t.elems.iter().all(pure),
        Expr::MethodCall(m) => {
            let name = m.method.to_string();
            // Pure ones only: elementwise math, shape queries.
            (crate::vocab::method(&name).is_some() || crate::vocab::SHAPE_QUERIES.contains(&name.as_str()))
                && pure(&m.receiver)
                && m.args.iter().all(pure)
        }
        _ => false,
    }
}

impl VisitMut for Run<'_, '_, '_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Index(ix) = e {
            if super::nest::mentions(&*ix, &[self.j.to_string()]) {
                if let Some(k) = self.window(ix) {
                    let w = format_ident!("__w{k}");
                    *e = syn::parse_quote!(#w[__t]);
                    return;
                }
            }
        }
        if !matches!(e, Expr::Lit(_)) && self.fixed(e) {
            let c = format_ident!("__c{}", self.captures.len());
            self.captures.push(std::mem::replace(e, syn::parse_quote!(#c)));
            return;
        }
        match e {
            // A call's function is a name, not a value.
            Expr::Call(c) => c.args.iter_mut().for_each(|a| self.visit_expr_mut(a)),
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
}

/// Puts the run's body in place of `__lf_run!()`, as tokens the later rewrites of the
/// outer loop do not enter.
struct Placeholder(TokenStream);
impl VisitMut for Placeholder {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if matches!(e, Expr::Macro(m) if m.mac.path.is_ident("__lf_run")) {
            *e = Expr::Verbatim(self.0.clone());
            return;
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}
