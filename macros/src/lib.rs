//! The `#[kernel]` attribute of loopfuse.
//!
//! Pipeline, one file per stage: [`options`] (attribute arguments) → [`parse`] (syn AST →
//! [`ir`]) → [`plan`] (fusion: which loops compute what) → [`codegen`] (the loops) →
//! [`dispatch`] (per-CPU-level clones and the call through the runtime's level).
//! Errors are collected in [`ctxt`] and reported all at once, next to the user's function
//! emitted unchanged so IDEs keep working.

use proc_macro::TokenStream;
use quote::quote;

mod codegen;
mod ctxt;
mod dispatch;
mod ir;
mod options;
mod parse;
mod plan;

/// Compiles a NumPy-style array function into fused loops, cloned per CPU level.
///
/// See the `loopfuse` crate documentation for the kernel language.
#[proc_macro_attribute]
pub fn kernel(args: TokenStream, item: TokenStream) -> TokenStream {
    let item2: proc_macro2::TokenStream = item.clone().into();
    let func = match syn::parse::<syn::ItemFn>(item) {
        Ok(f) => f,
        Err(e) => {
            let e = syn::Error::new(e.span(), "`#[kernel]` goes on a function");
            let err = e.to_compile_error();
            return quote!(#item2 #err).into();
        }
    };
    match expand(args.into(), &func) {
        Ok(ts) => ts.into(),
        Err(e) => {
            let err = e.to_compile_error();
            quote!(#func #err).into()
        }
    }
}

fn expand(
    args: proc_macro2::TokenStream,
    func: &syn::ItemFn,
) -> syn::Result<proc_macro2::TokenStream> {
    let mut ctxt = ctxt::Ctxt::default();
    let opts = options::parse(args, &mut ctxt);
    if let Some(a) = &func.sig.asyncness {
        ctxt.error(a, "a kernel cannot be `async`");
    }
    let generics: Vec<String> = func
        .sig
        .generics
        .type_params()
        .map(|t| t.ident.to_string())
        .collect();
    let ret = parse::parse_ret(&func.sig.output, &generics, &mut ctxt);
    let kernel = parse::Lower::new(func, &generics, &mut ctxt).lower(&func.block, &ret);
    ctxt.check()?;

    let plan = plan::plan(&kernel);
    let name = func.sig.ident.to_string();
    let cg = codegen::Options {
        name: &name,
        strict: opts.strict,
        targets: opts.targets.as_deref(),
    };
    let body = codegen::body(&kernel, &plan, &cg);
    let sig = codegen::signature(&kernel, func);
    let checks = codegen::checks(&kernel, &name, ret.result);
    let (impl_g, _, where_c) = func.sig.generics.split_for_impl();
    let output = &func.sig.output;
    let params = &sig.params;
    let clones = dispatch::clones(
        cg.targets,
        &func.sig.generics,
        params,
        &sig.args_in_body,
        output,
    );
    let call = dispatch::call(cg.targets, &sig.args);
    let (prelude, finish) = (&sig.prelude, &sig.finish);
    let doc = plan::describe(&kernel, &plan);
    let (attrs, vis, user_sig) = (&func.attrs, &func.vis, &func.sig);
    let track = (!ret.result).then(|| quote!(#[track_caller]));
    Ok(quote! {
        #(#attrs)*
        #(#[doc = #doc])*
        #track
        #[allow(unsafe_code)]
        #vis #user_sig {
            use ::loopfuse::__private as __lf;
            #prelude
            #checks
            #[inline(always)]
            #[allow(unused_parens, clippy::all)]
            fn __body #impl_g (#(#params),*) #output #where_c {
                #body
            }
            #clones
            let __ret = #call;
            #finish
            __ret
        }
    })
}
