//! Clones and dispatch: where the per-CPU-level copies of a kernel are made.
//!
//! The proc macro only names the levels; the runtime's `clones!` macro (`runtime/src/level.rs`,
//! the one table of levels and their target features) writes the body once per level into a
//! `#[target_feature]` function, binds the level token in each (so every closure of the body
//! is compiled with the level's features and receives the level by type), and calls the best
//! clone: directly when the build's target features cover it, else by the runtime's level.

use crate::options::LEVELS;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// The name the body uses for the clone's level token (`math::exp_slice_at(__level, ..)`).
pub const LEVEL: &str = "__level";

/// The level token's identifier.
pub fn level_ident() -> syn::Ident {
    format_ident!("{}", LEVEL)
}

fn selected(targets: Option<&[String]>, name: &str) -> bool {
    targets.is_none_or(|t| t.iter().any(|n| n == name))
}

/// `__lf::clones! { .. }`: the clones of `body` and the call of the best one, an expression.
///
/// `generics`/`params`/`output` are the clones' signature pieces; `args` the call's arguments.
pub fn clones_and_call(
    targets: Option<&[String]>,
    generics: &syn::Generics,
    params: &[TokenStream],
    output: &syn::ReturnType,
    body: TokenStream,
    args: &[TokenStream],
) -> TokenStream {
    let (impl_g, _, where_c) = generics.split_for_impl();
    // Best first: `LEVELS` is lowest first within each architecture; `generic` is always cloned.
    let levels = LEVELS.iter().rev().filter(|&&l| l != "generic" && selected(targets, l)).map(|l| format_ident!("{l}"));
    let level = level_ident();
    quote! {
        __lf::clones! {
            #level; [#(#levels)*];
            [#[allow(unused_parens, clippy::all)]]
            fn [#impl_g (#(#params),*) #output #where_c] { #body }
            (#(#args),*)
        }
    }
}
