//! The `#[kernel]` attribute of loopfuse.
//!
//! The entry point only parses the item and hands it to [`expand`], which runs the stages,
//! one file each: [`options`] (attribute arguments) → [`lower`] (syn AST → [`ir`], method
//! names looked up in [`vocab`]) → [`plan`] (fusion: which loops compute what) → [`codegen`]
//! (the loops) → [`dispatch`] (per-CPU-level clones and the call through the runtime's
//! level). Errors are collected in [`ctxt`] and reported all at once.

use proc_macro::TokenStream;
use quote::quote;

mod codegen;
mod ctxt;
mod dispatch;
mod expand;
mod ir;
mod lower;
mod names;
mod options;
mod plan;
mod python;
mod vocab;

/// Compiles a NumPy-style array function into fused loops, cloned per CPU level.
///
/// See the `loopfuse` crate documentation for the kernel language.
#[proc_macro_attribute]
pub fn kernel(args: TokenStream, item: TokenStream) -> TokenStream {
    let item2: proc_macro2::TokenStream = item.clone().into();
    match syn::parse::<syn::ItemFn>(item) {
        Ok(func) => expand::expand(args.into(), &func).into(),
        Err(e) => {
            let err = syn::Error::new(e.span(), "`#[kernel]` goes on a function").to_compile_error();
            quote!(#item2 #err).into()
        }
    }
}

/// Declares a Python module of `#[kernel(python)]` kernels (needs loopfuse's `python`
/// feature): `python_module!(name, [kernel, path::to::kernel, ..]);` defines the
/// `#[pymodule]` `name`, which a maturin build turns into the extension module `name`.
///
/// See the `loopfuse` crate documentation ("From Python").
#[proc_macro]
pub fn python_module(input: TokenStream) -> TokenStream {
    python::module(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// The vocabulary checked against the runtime, for the facade's `tests/vocab.rs`: expands
/// to functions that call every method of [`vocab::METHODS`] on a `loopfuse::Float` or an
/// integer, and every math function with its slice helper, so a missing one fails to
/// compile. Not a public API.
#[doc(hidden)]
#[proc_macro]
pub fn __vocab_check(_: TokenStream) -> TokenStream {
    vocab::check().into()
}

/// The level names `targets(..)` accepts, as an array of string literals: for the test that
/// they are the runtime's `Target::ALL` names (`tests/levels.rs`). Not a public API.
#[doc(hidden)]
#[proc_macro]
pub fn __level_names(_: TokenStream) -> TokenStream {
    let names = options::LEVELS;
    quote!([#(#names),*]).into()
}
