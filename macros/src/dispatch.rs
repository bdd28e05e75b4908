//! Clones and dispatch: where the per-CPU-level copies of a kernel are made.
//!
//! Each clone is a `#[target_feature]` function that calls the one `#[inline(always)]`
//! body, so LLVM compiles the fused loops once per level with that level's vector width.
//! The call site matches on the runtime's cached level.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

struct Level {
    name: &'static str,
    arch: &'static str,
    /// The runtime's `Target` variant.
    variant: &'static str,
    /// Must match the detection in `runtime/src/target.rs`.
    features: &'static str,
    rank: u8,
}

const V2: &str = "sse3,ssse3,sse4.1,sse4.2,popcnt";
const V3: &str = "sse3,ssse3,sse4.1,sse4.2,popcnt,avx,avx2,bmi1,bmi2,fma,lzcnt,movbe,f16c";
const V4: &str = "sse3,ssse3,sse4.1,sse4.2,popcnt,avx,avx2,bmi1,bmi2,fma,lzcnt,movbe,f16c,avx512f,avx512bw,avx512cd,avx512dq,avx512vl";

const LEVELS: [Level; 4] = [
    Level { name: "v4", arch: "x86_64", variant: "V4", features: V4, rank: 3 },
    Level { name: "v3", arch: "x86_64", variant: "V3", features: V3, rank: 2 },
    Level { name: "v2", arch: "x86_64", variant: "V2", features: V2, rank: 1 },
    Level { name: "neon", arch: "aarch64", variant: "Neon", features: "neon", rank: 1 },
];

fn selected(targets: Option<&[String]>, name: &str) -> bool {
    targets.is_none_or(|t| t.iter().any(|n| n == name))
}

/// The `#[target_feature]` clones of `__body`.
///
/// `generics`/`params`/`args`/`output` are the body's signature pieces.
pub fn clones(
    targets: Option<&[String]>,
    generics: &syn::Generics,
    params: &[TokenStream],
    args: &[TokenStream],
    output: &syn::ReturnType,
) -> TokenStream {
    let (impl_g, _, where_c) = generics.split_for_impl();
    let mut out = TokenStream::new();
    for l in LEVELS.iter().filter(|l| selected(targets, l.name)) {
        let (ident, arch, features) = (format_ident!("__{}", l.name), l.arch, l.features);
        out.extend(quote! {
            #[cfg(target_arch = #arch)]
            #[target_feature(enable = #features)]
            fn #ident #impl_g (#(#params),*) #output #where_c {
                __body(#(#args),*)
            }
        });
    }
    out
}

/// `match level() { ... }` calling the best clone at or below the running level.
pub fn call(targets: Option<&[String]>, args: &[TokenStream]) -> TokenStream {
    let mut arms = TokenStream::new();
    for running in &LEVELS {
        let best = LEVELS
            .iter()
            .filter(|l| l.arch == running.arch && l.rank <= running.rank && selected(targets, l.name))
            .max_by_key(|l| l.rank);
        if let Some(best) = best {
            let (arch, variant, ident) =
                (running.arch, format_ident!("{}", running.variant), format_ident!("__{}", best.name));
            arms.extend(quote! {
                #[cfg(target_arch = #arch)]
                // SAFETY: `level()` only reports levels this CPU supports, and the clone
                // needs no feature beyond that level.
                __lf::Target::#variant => unsafe { #ident(#(#args),*) },
            });
        }
    }
    quote! {
        match __lf::level() {
            #arms
            _ => __body(#(#args),*),
        }
    }
}
