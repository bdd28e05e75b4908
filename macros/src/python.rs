//! `#[kernel(python)]` and `python_module!`: a kernel as a NumPy function (PyO3 + rust-numpy).
//!
//! Next to the kernel `f`, the option emits a hidden module `__lf_py_f` holding
//!
//! - a *view variant* of the kernel, the same body expanded again by [`crate::expand`] with
//!   every array parameter taken as an ndarray view (`&[T]` → `ArrayView1<T>`, `&mut [T]` →
//!   `ArrayViewMut1<T>`, `&Array2<T>` → `ArrayView2<T>`), so that NumPy arrays of any layout
//!   (sliced, reversed, F order) are read in place, never copied;
//! - `wrapper`, the `#[pyfunction]`: each argument converted by the runtime's `python`
//!   module (a wrong dtype or rank is a `TypeError` naming the kernel and the parameter),
//!   the view variant called with the GIL released, the result handed over without a copy.
//!   A generic `T: Float` kernel dispatches on the dtype of its first array argument.
//!
//! Everything goes through `::loopfuse::__private::python! { .. }`, which is the items with
//! loopfuse's `python` feature and a compile error naming the feature without it.
//! `python_module!(name, [f, g])` declares the `#[pymodule]` that adds the wrappers.

use crate::ctxt::Ctxt;
use crate::ir::{Kernel, ParamKind, Rank};
use crate::options::Options;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::{Ident, Type};

/// Element types NumPy has a dtype for, with the dtype's name.
const DTYPES: &[(&str, &str)] = &[
    ("f64", "float64"),
    ("f32", "float32"),
    ("i8", "int8"),
    ("i16", "int16"),
    ("i32", "int32"),
    ("i64", "int64"),
    ("isize", "intp"),
    ("u8", "uint8"),
    ("u16", "uint16"),
    ("u32", "uint32"),
    ("u64", "uint64"),
    ("usize", "uintp"),
    ("bool", "bool"),
];

const GENERIC_DTYPE: &str = "float32 or float64";

/// How one parameter comes from Python.
enum Arg {
    Scalar { ty: Type },
    Array { elem: Type, rank: Rank, output: bool },
}

struct Param {
    ident: Ident,
    arg: Arg,
}

fn type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 && p.path.segments[0].arguments.is_empty() => {
            Some(p.path.segments[0].ident.to_string())
        }
        Type::Paren(p) => type_name(&p.elem),
        Type::Group(g) => type_name(&g.elem),
        _ => None,
    }
}

/// The NumPy dtype of an element type, as named in messages; `generic` is the float type
/// of a generic kernel.
fn dtype_name(ty: &Type, generic: Option<&(Ident, &str)>) -> Option<String> {
    let name = type_name(ty)?;
    if let Some((t, dtype)) = generic {
        if *t == name {
            return Some(dtype.to_string());
        }
    }
    DTYPES.iter().find(|(rust, _)| *rust == name).map(|(_, np)| np.to_string())
}

/// What an array parameter accepts, for the `TypeError`: `a writable 2-d float64 array`.
fn array_accepts(dtype: &str, rank: Rank, output: bool) -> String {
    let writable = if output { "writable " } else { "" };
    match rank {
        Rank::Static(r) => format!("a {writable}{r}-d {dtype} array"),
        Rank::Dyn => format!("a {writable}{dtype} array of any rank"),
    }
}

fn scalar_accepts(ty: &Type, generic: Option<&Ident>) -> &'static str {
    match type_name(ty).as_deref() {
        Some("f32" | "f64") => "a float",
        Some("bool") => "a bool",
        Some(name) if generic.is_some_and(|t| t == name) => "a float",
        _ => "an int",
    }
}

fn dim(rank: Rank) -> TokenStream {
    match rank {
        Rank::Static(r) => {
            let ix = format_ident!("Ix{r}");
            quote!(__py::ndarray::#ix)
        }
        Rank::Dyn => quote!(__py::ndarray::IxDyn),
    }
}

/// The parameters as Python takes them; errors for those it cannot take.
fn params(func: &syn::ItemFn, kernel: &Kernel, generic: Option<&Ident>, ctxt: &mut Ctxt) -> Vec<Param> {
    let typed = func.sig.inputs.iter().filter_map(|a| if let syn::FnArg::Typed(pt) = a { Some(pt) } else { None });
    let mut out = Vec::new();
    for (pt, (_, p)) in typed.zip(kernel.params.iter()) {
        let (ident, ty) = (p.ident.clone(), &*pt.ty);
        let arg = match &p.kind {
            ParamKind::Scalar => Arg::Scalar { ty: ty.clone() },
            ParamKind::Input { elem, nd } | ParamKind::Output { elem, nd } => {
                let output = matches!(p.kind, ParamKind::Output { .. });
                if let Type::Reference(syn::TypeReference { elem: inner, .. }) = ty {
                    if let Type::Array(_) = &**inner {
                        ctxt.error(ty, format!("`python`: parameter `{ident}`: a fixed-size array cannot come from Python; take a slice `&[T]`"));
                        continue;
                    }
                }
                let elem_ok = type_name(elem)
                    .is_some_and(|n| generic.is_some_and(|t| *t == n) || DTYPES.iter().any(|(rust, _)| *rust == n));
                if !elem_ok {
                    let names: Vec<String> = DTYPES.iter().map(|(r, _)| format!("`{r}`")).collect();
                    let shown = quote!(#elem).to_string();
                    ctxt.error(elem, format!("`python`: parameter `{ident}`: no NumPy dtype for the element type `{shown}` (the macro reads types as written, not through aliases); a kernel exposed to Python takes arrays of {}, or of the kernel's `T: Float`", names.join(", ")));
                    continue;
                }
                Arg::Array { elem: elem.clone(), rank: nd.unwrap_or(Rank::Static(1)), output }
            }
            ParamKind::Local(_) => continue,
        };
        out.push(Param { ident, arg });
    }
    out
}

/// The kernel with its array parameters as ndarray views: `&[T]` → `ArrayView1<'_, T>`.
fn view_variant(func: &syn::ItemFn, params: &[Param]) -> syn::ItemFn {
    let mut view = func.clone();
    view.vis = syn::Visibility::Inherited;
    view.attrs.retain(|a| !a.path().is_ident("doc"));
    let typed = view.sig.inputs.iter_mut().filter_map(|a| if let syn::FnArg::Typed(pt) = a { Some(pt) } else { None });
    for (pt, p) in typed.zip(params) {
        if let Arg::Array { elem, rank, output } = &p.arg {
            let ty = match (rank, output) {
                (Rank::Static(1), false) => quote!(__py::ndarray::ArrayView1<'_, #elem>),
                (Rank::Static(1), true) => quote!(__py::ndarray::ArrayViewMut1<'_, #elem>),
                (_, false) => {
                    let d = dim(*rank);
                    quote!(__py::ndarray::ArrayView<'_, #elem, #d>)
                }
                (_, true) => {
                    let d = dim(*rank);
                    quote!(__py::ndarray::ArrayViewMut<'_, #elem, #d>)
                }
            };
            *pt.ty = syn::parse2(ty).expect("a view type");
        }
    }
    view
}

/// The wrapper's body at one element type (`generic` = the type parameter and the float
/// type it stands for in this branch): convert each argument, run, convert the result.
fn call(name: &Ident, params: &[Param], generic: Option<(&Ident, Type)>) -> TokenStream {
    let kernel = name.to_string();
    let subst = |ty: &Type| -> Type {
        match &generic {
            Some((t, concrete)) if type_name(ty).is_some_and(|n| **t == n) => concrete.clone(),
            _ => ty.clone(),
        }
    };
    let generic_dtype = generic
        .as_ref()
        .map(|(t, c)| ((*t).clone(), if type_name(c).as_deref() == Some("f32") { "float32" } else { "float64" }));
    let mut convert = TokenStream::new();
    let mut args = Vec::new();
    for p in params {
        let (x, param) = (&p.ident, p.ident.to_string());
        match &p.arg {
            Arg::Scalar { ty } => {
                let accepts = scalar_accepts(ty, generic.as_ref().map(|(t, _)| *t));
                let ty = subst(ty);
                convert.extend(quote!(let #x: #ty = __py::scalar(#x, #kernel, #param, #accepts)?;));
            }
            Arg::Array { elem, rank, output } => {
                let dtype = dtype_name(elem, generic_dtype.as_ref()).expect("checked in `params`");
                let accepts = array_accepts(&dtype, *rank, *output);
                let (elem, d) = (subst(elem), dim(*rank));
                convert.extend(if *output {
                    quote!(let mut #x = __py::array_mut::<#elem, #d>(#x, #kernel, #param, #accepts)?; let #x = #x.as_array_mut();)
                } else {
                    quote!(let #x = __py::array::<#elem, #d>(#x, #kernel, #param, #accepts)?; let #x = #x.as_array();)
                });
            }
        }
        args.push(x);
    }
    let turbofish = generic.as_ref().map(|(_, c)| quote!(::<#c>));
    quote! {{
        #convert
        let __lf_r = __py::run(__lf_gil, #kernel, move || self::#name #turbofish(#(#args),*))?;
        __py::IntoPython::into_python(__lf_r, __lf_gil)
    }}
}

/// The hidden module of a `#[kernel(python)]` kernel (see the module docs), or the errors
/// for parameters Python cannot pass.
pub fn wrapper(func: &syn::ItemFn, kernel: &Kernel, opts: &Options, span: Span, doc: &[String]) -> TokenStream {
    let mut ctxt = Ctxt::default();
    let mut types = func.sig.generics.type_params();
    let generic = types.next().map(|t| t.ident.clone());
    if let Some(extra) = types.next() {
        let msg = "`python`: a kernel exposed to Python has at most one type parameter (`T: Float`, run at float32 or float64)";
        return syn::Error::new_spanned(extra, msg).to_compile_error();
    }
    let params = params(func, kernel, generic.as_ref(), &mut ctxt);
    if let Err(e) = ctxt.check() {
        return e.to_compile_error();
    }
    let name = &func.sig.ident;
    let kernel_name = name.to_string();
    let body = match &generic {
        None => call(name, &params, None),
        Some(t) => {
            let Some(first) = params
                .iter()
                .find(|p| matches!(&p.arg, Arg::Array { elem, .. } if type_name(elem).is_some_and(|n| *t == n)))
            else {
                return syn::Error::new_spanned(t, "`python`: a generic kernel exposed to Python needs an array parameter of element type `T`: its dtype (float32 or float64) picks the type").to_compile_error();
            };
            let Arg::Array { rank, output, .. } = &first.arg else { unreachable!("found as an array") };
            let (x, param) = (&first.ident, first.ident.to_string());
            let accepts = array_accepts(GENERIC_DTYPE, *rank, *output);
            let f64_call = call(name, &params, Some((t, syn::parse_quote!(f64))));
            let f32_call = call(name, &params, Some((t, syn::parse_quote!(f32))));
            quote! {
                match __py::float_of(#x, #kernel_name, #param, #accepts)? {
                    __py::FloatKind::F64 => #f64_call,
                    __py::FloatKind::F32 => #f32_call,
                }
            }
        }
    };
    let strict = opts.strict.then(|| quote!(strict,));
    let targets = opts.targets.as_ref().map(|t| {
        let t = t.iter().map(|s| format_ident!("{s}"));
        quote!(targets(#(#t),*))
    });
    let view = crate::expand::expand(quote!(#strict #targets), &view_variant(func, &params));
    let module = crate::names::python_wrapper(name);
    let vis = &func.vis;
    let idents = params.iter().map(|p| &p.ident);
    let idents2 = params.iter().map(|p| &p.ident);
    let user_doc = func.attrs.iter().filter(|a| a.path().is_ident("doc"));
    let python = quote_spanned!(span=> ::loopfuse::__private::python!);
    quote! {
        #python {
            #[doc(hidden)]
            #vis mod #module {
                use super::*;
                use ::loopfuse::__private::py as __py;

                #view

                #(#user_doc)*
                #(#[doc = #doc])*
                #[__py::pyo3::pyfunction]
                #[pyo3(crate = "::loopfuse::__private::py::pyo3", name = #kernel_name, signature = (#(#idents),*))]
                pub fn wrapper<'py>(
                    __lf_gil: __py::pyo3::Python<'py>,
                    #(#idents2: &__py::pyo3::Bound<'py, __py::pyo3::PyAny>),*
                ) -> __py::pyo3::PyResult<__py::pyo3::Bound<'py, __py::pyo3::PyAny>> {
                    #body
                }
            }
        }
    }
}

/// `python_module!(name, [kernel, path::to::kernel, ..])`: the `#[pymodule]` `name` with the
/// wrappers of those `#[kernel(python)]` kernels.
pub fn module(input: TokenStream) -> syn::Result<TokenStream> {
    let parser = |input: syn::parse::ParseStream| {
        let name: Ident = input.parse()?;
        input.parse::<syn::Token![,]>()?;
        let content;
        syn::bracketed!(content in input);
        let kernels = Punctuated::<syn::Path, syn::Token![,]>::parse_terminated(&content)?;
        let _ = input.parse::<Option<syn::Token![,]>>()?;
        Ok((name, kernels))
    };
    let (name, kernels) = syn::parse::Parser::parse2(parser, input)?;
    let wrappers = kernels.iter().map(|k| {
        let mut path = k.clone();
        let last = path.segments.last_mut().expect("a path has a segment");
        last.ident = crate::names::python_wrapper(&last.ident);
        quote!(__m.add_function(::loopfuse::__private::py::pyo3::wrap_pyfunction!(#path::wrapper, __m)?)?;)
    });
    let doc = format!("The Python module `{name}`: loopfuse kernels as NumPy functions.");
    Ok(quote! {
        ::loopfuse::__private::python! {
            #[doc = #doc]
            #[::loopfuse::__private::py::pyo3::pymodule]
            #[pyo3(crate = "::loopfuse::__private::py::pyo3")]
            fn #name(
                __m: &::loopfuse::__private::py::pyo3::Bound<'_, ::loopfuse::__private::py::pyo3::types::PyModule>,
            ) -> ::loopfuse::__private::py::pyo3::PyResult<()> {
                use ::loopfuse::__private::py::pyo3::types::PyModuleMethods as _;
                #(#wrappers)*
                Ok(())
            }
        }
    })
}
