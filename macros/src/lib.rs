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
/// ```ignore
/// // In a `crate-type = ["cdylib"]` crate built by maturin, with
/// // `loopfuse = { version = "0.1", features = ["python"] }`. (`ignore`: an extension
/// // module links against the Python interpreter that loads it, so a doc test cannot run it.)
/// use loopfuse::{kernel, Float};
///
/// #[kernel(python)]
/// pub fn softmax<T: Float>(x: &[T]) -> Vec<T> {
///     let e = (x - x.max()).exp();
///     e / e.sum()
/// }
///
/// loopfuse::python_module!(my_kernels, [softmax]);
/// // Python: `import my_kernels; my_kernels.softmax(np.arange(5.0))` (float32 or float64,
/// // any layout, no copy; the GIL is released while it runs).
/// ```
///
/// `#[kernel(python)]` wraps each kernel: array parameters take NumPy arrays of the kernel's
/// dtype and rank in any layout (a `&[T]` parameter too: the wrapper calls a view variant
/// of the kernel), `&mut` outputs take writable arrays, scalars take Python numbers; results
/// come back as NumPy arrays owning the kernel's buffer, Python numbers and tuples. A wrong
/// dtype or rank is a `TypeError`, a shape mismatch, an empty `max` or a `KernelError` a
/// `ValueError` with the kernel's message. See the README's "From Python".
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
