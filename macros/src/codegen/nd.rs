//! N-d code: the shapes computed before any work, and the views an N-d pass reads.
//!
//! Every shape derives from the inputs' shapes, so all are computed, broadcast and checked
//! in the kernel's prelude, before dispatch: a bad call does no work. The bodies get them
//! as `__sh{space}: Shape` parameters.
//! ```text
//! let __sh0 = __lf::expect(__lf::nd::broadcast("f", &[("x", x.shape())]));
//! __lf::expect(__lf::nd::check_fits("f", "x.mean_axis(Axis(0))", __sh0.remove_axis(0), "x", __sh0));
//! ```

use crate::ir::*;
use crate::names;
use crate::plan::Plan;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use std::collections::BTreeSet;

fn view_text(v: &ViewOp) -> String {
    match v {
        ViewOp::Insert(k) => format!(".insert_axis(Axis({k}))"),
        ViewOp::Reverse => ".t()".to_string(),
    }
}

/// A leaf as the user wrote it, for messages: `x.insert_axis(Axis(1))`.
pub fn leaf_text(k: &Kernel, l: &Leaf) -> String {
    let base = match l.src {
        LeafSrc::Param(p) => k.param_text(p),
        LeafSrc::Reduced(r) => k.reductions[r].text.clone(),
    };
    l.views.iter().fold(base, |s, v| s + &view_text(v))
}

/// The leaves of a space, for messages: `x`, `x, w`.
pub fn space_text(k: &Kernel, s: SpaceId) -> String {
    let leaves = k.leaves(s).expect("an N-d space");
    leaves.iter().map(|l| leaf_text(k, l)).collect::<Vec<_>>().join(", ")
}

/// Whether parameter `p` is N-d by its type (its view takes its name).
pub fn is_nd_param(k: &Kernel, p: ParamId) -> bool {
    k.params[p].kind.is_nd()
}

/// The parameters N-d passes read: N-d ones, and 1-D ndarray ones broadcast with them.
pub fn nd_params(k: &Kernel, plan: &Plan) -> BTreeSet<ParamId> {
    let mut out: BTreeSet<ParamId> = k.params.iter().map(|(p, _)| p).filter(|&p| is_nd_param(k, p)).collect();
    for p in plan.passes.iter().filter(|p| k.leaves(p.space).is_some()) {
        for n in super::pass_nodes(k, p) {
            if let Op::Input(q) | Op::Leaf(Leaf { src: LeafSrc::Param(q), .. }) = k.nodes[n].op {
                out.insert(q);
            }
        }
    }
    out
}

/// The name of parameter `p`'s N-d view.
pub fn view_name(k: &Kernel, p: ParamId) -> syn::Ident {
    let x = &k.params[p].ident;
    if is_nd_param(k, p) {
        x.clone()
    } else {
        names::nd_view(x)
    }
}

fn apply_views(mut t: TokenStream, l: &Leaf, shape: bool) -> TokenStream {
    for v in &l.views {
        t = match (v, shape) {
            (ViewOp::Insert(a), _) => quote!(#t.insert_axis(#a)),
            (ViewOp::Reverse, true) => quote!(#t.reversed()),
            (ViewOp::Reverse, false) => quote!(#t.reversed_axes()),
        };
    }
    t
}

/// The space of the pass that computes reduction `r`'s buffer, and the axis it reduces.
fn reduced_from(k: &Kernel, r: RedId) -> (SpaceId, usize) {
    let red = &k.reductions[r];
    (k.node_space(red.arg), red.axis.expect("an axis reduction"))
}

/// A leaf's shape (in the prelude).
fn leaf_shape(k: &Kernel, l: &Leaf) -> TokenStream {
    let base = match l.src {
        LeafSrc::Param(p) => {
            let v = view_name(k, p);
            quote!(#v.shape())
        }
        LeafSrc::Reduced(r) => {
            let (s, axis) = reduced_from(k, r);
            let sh = names::shape(s);
            quote!(#sh.remove_axis(#axis))
        }
    };
    apply_views(base, l, true)
}

/// A leaf's view broadcast to the pass's shape (in the body). In a chain (`block`: its
/// axis), indices `__i0..__i1` of that axis: an input broadcast to the whole shape, then
/// cut; a buffer's block written so far, then broadcast to the block (its axes are the
/// space's, `plan::chains`).
pub fn leaf_source(k: &Kernel, l: &Leaf, space: SpaceId, block: Option<usize>) -> TokenStream {
    let sh = names::shape(space);
    match (l.src, block) {
        (LeafSrc::Param(p), _) => {
            let v = apply_views(view_name(k, p).into_token_stream(), l, false);
            match block {
                Some(b) => quote!(#v.broadcast_to(#sh).cut(#b, __i0, __i1)),
                None => quote!(#v.broadcast_to(#sh)),
            }
        }
        (LeafSrc::Reduced(r), None) => {
            let b = names::buffer(r);
            let v = apply_views(quote!(#b.view()), l, false);
            quote!(#v.broadcast_to(#sh))
        }
        (LeafSrc::Reduced(r), Some(axis)) => {
            let (b, a) = (names::buffer(r), crate::plan::buffer_axis(k, r, axis));
            let v = apply_views(quote!(#b.written(#a, __i0, __i1)), l, false);
            quote!(#v.broadcast_to(#sh.block(#axis, __i0, __i1)))
        }
    }
}

/// The prelude's shape statements, and the spaces whose shapes the bodies take.
pub struct Shapes {
    pub stmts: TokenStream,
    pub spaces: Vec<SpaceId>,
}

struct Emit<'k> {
    k: &'k Kernel,
    name: &'k str,
    wrap: &'k dyn Fn(TokenStream) -> TokenStream,
    done: BTreeSet<SpaceId>,
    out: Shapes,
}

impl Emit<'_> {
    fn space(&mut self, s: SpaceId) {
        if !self.done.insert(s) {
            return;
        }
        let k = self.k;
        let leaves = k.leaves(s).expect("an N-d space").clone();
        for l in &leaves {
            if let LeafSrc::Reduced(r) = l.src {
                self.space(reduced_from(k, r).0);
            }
        }
        // `insert_axis(Axis(j))` of an array whose rank is known only at run time: `j` at most
        // the rank, checked before the shape is built.
        for l in leaves.iter().filter(|l| k.src_rank(l.src) == Rank::Dyn) {
            let (name, text) = (self.name, leaf_text(k, l));
            let base = leaf_shape(k, &Leaf { src: l.src, views: Vec::new() });
            let mut inserted = 0usize;
            for v in &l.views {
                if let ViewOp::Insert(j) = v {
                    let check = (self.wrap)(quote!(__lf::nd::check_insert(#name, #text, #j, #base.rank() + #inserted)));
                    self.out.stmts.extend(quote!(#check;));
                    inserted += 1;
                }
            }
        }
        let operands = leaves.iter().map(|l| {
            let (text, shape) = (leaf_text(k, l), leaf_shape(k, l));
            quote!((#text, #shape))
        });
        let (name, sh) = (self.name, names::shape(s));
        let value = (self.wrap)(quote!(__lf::nd::broadcast(#name, &[#(#operands),*])));
        self.out.stmts.extend(quote!(let #sh = #value;));
        self.out.spaces.push(s);
        // An axis of an array whose rank is known only at run time.
        if k.space_rank(s) == Rank::Dyn {
            for (_, red) in k.reductions.iter().filter(|(_, r)| r.axis.is_some() && k.node_space(r.arg) == s) {
                let (text, axis) = (&red.text, red.axis.expect("filtered"));
                let check = (self.wrap)(quote!(__lf::nd::check_axis(#name, #text, #axis, #sh.rank())));
                self.out.stmts.extend(quote!(#check;));
            }
        }
    }
}

/// The shapes of every N-d pass, each broadcast from its leaves; derived leaves checked to
/// fit; empty axes and arrays checked for the reductions that have no value on them.
pub fn shapes(k: &Kernel, plan: &Plan, name: &str, wrap: &dyn Fn(TokenStream) -> TokenStream) -> Shapes {
    let mut e =
        Emit { k, name, wrap, done: BTreeSet::new(), out: Shapes { stmts: TokenStream::new(), spaces: Vec::new() } };
    // A nest's windows are cut in the body, and fit its shape by construction (`lower/nest.rs`).
    let nd_passes: Vec<_> =
        plan.passes.iter().filter(|p| k.leaves(p.space).is_some() && !k.nest_spaces.contains(&p.space)).collect();
    for p in &nd_passes {
        e.space(p.space);
    }
    let mut fits = TokenStream::new();
    let mut checked = BTreeSet::new();
    for p in &nd_passes {
        let key = k.leaves(p.space).expect("N-d");
        for n in super::pass_nodes(k, p) {
            let Op::Leaf(l) = &k.nodes[n].op else { continue };
            if key.contains(l) || !checked.insert((l.clone(), p.space)) {
                continue;
            }
            if let LeafSrc::Reduced(r) = l.src {
                e.space(reduced_from(k, r).0);
            }
            let (text, shape) = (leaf_text(k, l), leaf_shape(k, l));
            let (target, sh) = (space_text(k, p.space), names::shape(p.space));
            let check = wrap(quote!(__lf::nd::check_fits(#name, #text, #shape, #target, #sh)));
            fits.extend(quote!(#check;));
        }
    }
    // An in-place output is written over the pass's shape: the value must fit it.
    for p in &nd_passes {
        for &s in &p.sinks {
            if let SinkTarget::Param(q) = k.sinks[s].target {
                let (y, ys) = (view_name(k, q), k.params[q].ident.to_string());
                let (text, sh) = (space_text(k, p.space), names::shape(p.space));
                let check = wrap(quote!(__lf::nd::check_fits(#name, #text, #sh, #ys, #y.shape())));
                fits.extend(quote!(#check;));
            }
        }
    }
    let mut out = e.out;
    out.stmts.extend(fits);
    for (r, red) in k.reductions.iter() {
        let s = k.node_space(red.arg);
        if k.leaves(s).is_none() || k.nest_spaces.contains(&s) {
            continue;
        }
        let sh = names::shape(s);
        let text = &red.text;
        // One that runs only on some branch is checked there (`codegen::pass_parts`).
        let always = plan.passes.iter().any(|p| p.reductions.contains(&r) && p.need == crate::plan::always());
        let n = match red.axis {
            Some(a) if red.kind.needs_nonempty() || k.unwrapped.contains(&r) => quote!(#sh.dims()[#a]),
            None if red.kind.needs_nonempty() && always => quote!(#sh.len()),
            _ => continue,
        };
        let check = wrap(quote!(__lf::check_nonempty(#name, #text, #n)));
        out.stmts.extend(quote!(#check;));
    }
    out
}
