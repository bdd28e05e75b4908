//! Assembly of a kernel: runs the stages (options → lowering → plan → codegen → dispatch)
//! and puts the user's function back together around the generated loops.

use crate::{codegen, ctxt, dispatch, ir, lower, options, plan};
use quote::quote;

/// The user's function with its signature, attributes and docs, and a body that type-checks
/// whatever the kernel body was: next to the errors it keeps IDEs and callers working,
/// without rustc adding errors about array code that is not plain Rust.
fn fallback(func: &syn::ItemFn, errors: syn::Error) -> proc_macro2::TokenStream {
    let (attrs, vis, sig) = (&func.attrs, &func.vis, &func.sig);
    let err = errors.to_compile_error();
    quote! {
        #(#attrs)*
        #[allow(unused_variables, unreachable_code)]
        #vis #sig {
            ::core::unreachable!("this kernel did not compile")
        }
        #err
    }
}

/// The signature's return type and the body's IR (errors into `ctxt`).
fn lowered(func: &syn::ItemFn, strict: bool, ctxt: &mut ctxt::Ctxt) -> (lower::signature::RetType, ir::Kernel) {
    let generics: Vec<String> = func.sig.generics.type_params().map(|t| t.ident.to_string()).collect();
    let ret = lower::parse_ret(&func.sig.output, &generics, ctxt);
    let mut lower = lower::Lower::new(func, &generics, ctxt);
    lower.strict = strict;
    let kernel = lower.lower(&func.block, &ret);
    (ret, kernel)
}

pub fn expand(args: proc_macro2::TokenStream, func: &syn::ItemFn) -> proc_macro2::TokenStream {
    // Bad options: expand with the defaults and report them (as tokio's macros do).
    let mut option_errors = ctxt::Ctxt::default();
    let opts = options::parse(args, &mut option_errors);
    let option_errors = option_errors.check().err();

    let mut ctxt = ctxt::Ctxt::default();
    if let Some(a) = &func.sig.asyncness {
        ctxt.error(a, "a kernel cannot be `async`: remove `async` (a kernel never awaits)");
    }
    let (ret, kernel) = lowered(func, opts.strict, &mut ctxt);
    if let Err(e) = ctxt.check() {
        let errors = match option_errors {
            Some(mut o) => {
                o.combine(e);
                o
            }
            None => e,
        };
        return fallback(func, errors);
    }
    let option_errors = option_errors.map(|e| e.to_compile_error());

    let plan = match plan::plan(&kernel, opts.strict) {
        Ok(plan) => plan,
        Err(msg) => return fallback(func, syn::Error::new_spanned(&func.sig.ident, msg)),
    };
    let name = func.sig.ident.to_string();
    let cg = codegen::Options {
        name: &name,
        strict: opts.strict,
        parallel: opts.parallel,
        targets: opts.targets.as_deref(),
        result: ret.result,
    };
    let body = codegen::body(&kernel, &plan, &cg);
    let (checks, shapes) = codegen::checks(&kernel, &plan, &name, ret.result);
    let sig = codegen::signature(&kernel, &plan, &shapes, func);
    let clones = |b: &codegen::Body, body: proc_macro2::TokenStream| {
        dispatch::clones_and_call(cg.targets, &func.sig.generics, &b.params, &func.sig.output, body, &b.args)
    };
    let call = match &sig.strided {
        None => clones(&sig.contiguous, body),
        Some((all_contiguous, strided)) => {
            let (c, s) = (clones(&sig.contiguous, body.clone()), clones(strided, body));
            quote!(if #all_contiguous { #c } else { #s })
        }
    };
    let prelude = &sig.prelude;
    let mut doc = plan::describe(&kernel, &plan);
    doc.extend(codegen::parallel::describe(&kernel, &plan, &cg));
    let (attrs, vis) = (&func.attrs, &func.vis);
    // `mut x: ArrayViewMut1<_>` is needed in plain Rust but not here (the array is rebound),
    // so drop the `mut` rather than make the user's crate warn.
    let mut user_sig = func.sig.clone();
    let typed = user_sig.inputs.iter_mut().filter_map(|a| if let syn::FnArg::Typed(pt) = a { Some(pt) } else { None });
    for (pt, (_, p)) in typed.zip(kernel.params.iter()) {
        if let (syn::Pat::Ident(pi), false) = (&mut *pt.pat, matches!(p.kind, ir::ParamKind::Scalar)) {
            pi.mutability = None;
        }
    }
    let track = (!ret.result).then(|| quote!(#[track_caller]));
    let import = crate::names::runtime_import();
    let python = opts.python.map(|span| crate::python::wrapper(func, &kernel, &opts, span, &doc));
    quote! {
        #option_errors
        #(#attrs)*
        #(#[doc = #doc])*
        #track
        #[allow(unsafe_code)]
        #vis #user_sig {
            #import
            #prelude
            #checks
            #call
        }
        #python
    }
}

/// The body of a kernel that is the run of an inner loop (`lower/inner_pass.rs`): 1-D inputs
/// and scalars only, no `Result`, every loop vectorized. Its contiguous clones' body, to
/// inline in each clone of the outer kernel with its parameters bound (an input as a slice);
/// `None` if it does not lower so (the loop stays as it is).
pub fn inner_body(func: &syn::ItemFn) -> Option<proc_macro2::TokenStream> {
    let mut ctxt = ctxt::Ctxt::default();
    let (_, kernel) = lowered(func, false, &mut ctxt);
    if ctxt.check().is_err() || kernel.in_order_loops > 0 || kernel.inner_passes > 0 {
        return None;
    }
    let plan = plan::plan(&kernel, false).ok()?;
    let name = func.sig.ident.to_string();
    let cg = codegen::Options { name: &name, strict: false, parallel: false, targets: None, result: false };
    let body = codegen::body(&kernel, &plan, &cg);
    let (checks, shapes) = codegen::checks(&kernel, &plan, &name, false);
    shapes.is_empty().then(|| quote!({ #checks #body }))
}

#[cfg(test)]
mod tests {
    /// `LOOPFUSE_SHOW=1 cargo test -p loopfuse-macros show_softmax -- --nocapture` prints
    /// the expansion of `softmax_rows` (pipe it through `rustfmt` to read it);
    /// `LOOPFUSE_SHOW_SRC` that of any kernel (`LOOPFUSE_SHOW_ARGS` its options).
    #[test]
    fn show_softmax() {
        let func: syn::ItemFn = syn::parse_str(
            "pub fn softmax_rows(x: ArrayView2<f64>) -> Array2<f64> { let e = (x - x.max_axis(Axis(1)).insert_axis(Axis(1))).exp(); e / e.sum_axis(Axis(1)).insert_axis(Axis(1)) }",
        )
        .expect("a function");
        let out = super::expand(proc_macro2::TokenStream::new(), &func).to_string();
        assert!(out.contains("__lf :: nd :: axis_pass_staged"), "{out}");
        if std::env::var_os("LOOPFUSE_SHOW").is_some() {
            println!("{out}");
        }
        // `LOOPFUSE_SHOW_SRC='pub fn f(..) -> .. { .. }'`: the expansion of that kernel.
        if let Ok(src) = std::env::var("LOOPFUSE_SHOW_SRC") {
            let func: syn::ItemFn = syn::parse_str(&src).expect("a function");
            // `LOOPFUSE_SHOW_ARGS='parallel'`: the attribute's options.
            let args = std::env::var("LOOPFUSE_SHOW_ARGS").unwrap_or_default().parse().expect("options");
            println!("{}", super::expand(args, &func));
        }
    }
}
