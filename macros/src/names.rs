//! Every name the generated code introduces, and the path it reaches the runtime by.
//!
//! Scalar values are kept as Rust tokens through lowering, so a scalar that uses a
//! reduction's result refers to it by name (`__r3`); codegen binds that name. Both sides
//! take the names from here, and nowhere else spells them. All start with `__` so they
//! cannot collide with the user's names (which lowering renames on shadowing, see
//! [`renamed`]).

use crate::ir::{NodeId, RedId, SpaceId};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

/// The one path generated code calls the runtime through: every kernel starts with this
/// `use`, and codegen writes runtime calls as `__lf::name`.
pub fn runtime_import() -> TokenStream {
    quote!(
        use ::loopfuse::__private as __lf;
    )
}

/// The hidden module of a `#[kernel(python)]` kernel's Python wrapper (`crate::python`).
pub fn python_wrapper(kernel: &Ident) -> Ident {
    format_ident!("__lf_py_{}", kernel)
}

/// The result of reduction `r`.
pub fn reduction(r: RedId) -> Ident {
    format_ident!("__r{}", r.index())
}

/// The `k`-th fresh output buffer.
pub fn fresh(k: usize) -> Ident {
    format_ident!("__o{}", k)
}

/// A computed element inside a loop body.
pub fn node(n: NodeId) -> Ident {
    format_ident!("__a{}", n.index())
}

/// The length of an iteration space.
pub fn len(s: SpaceId) -> Ident {
    format_ident!("__n{}", s.index())
}

/// The first index of a loop range.
pub fn lo(s: SpaceId) -> Ident {
    format_ident!("__lo{}", s.index())
}

/// The `k`-th scalar hoisted out of a loop body.
pub fn hoisted(k: usize) -> Ident {
    format_ident!("__c{}", k)
}

/// The results of the `k`-th loop that runs in order.
pub fn in_order(k: usize) -> Ident {
    format_ident!("__seq{}", k)
}

/// The `k`-th slice of an input (`x[1..]`), a view cut in the body.
pub fn slice(k: usize) -> Ident {
    format_ident!("__s{}", k)
}

/// The storage of local output `name` (`let mut name = vec![..]`).
pub fn local_vec(name: &Ident) -> Ident {
    format_ident!("__v_{}", name)
}

/// The `count`-th rebinding of the user's `name` (`x` is rebound by `x += 1.0`).
pub fn renamed(name: &Ident, count: usize) -> Ident {
    format_ident!("__{}_{}", name, count)
}

/// The run-time shape of an N-d space.
pub fn shape(s: SpaceId) -> Ident {
    format_ident!("__sh{}", s.index())
}

/// The buffer an axis reduction writes.
pub fn buffer(r: RedId) -> Ident {
    format_ident!("__b{}", r.index())
}

/// The N-d view of a 1-D ndarray parameter that N-d values also read (`v` in `a * v`); an
/// N-d parameter's view takes the parameter's own name.
pub fn nd_view(name: &Ident) -> Ident {
    format_ident!("__nd_{}", name)
}

/// The running value of scan node `n` (`x.cumsum()`) in the pass computing it.
pub fn carry(n: NodeId) -> Ident {
    format_ident!("__run{}", n.index())
}

/// The condition of the `k`-th scalar `if` that decides which reductions run
/// (`ir::Guard`).
pub fn guard(k: usize) -> Ident {
    format_ident!("__g{}", k)
}
