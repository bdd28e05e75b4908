//! The kernel's signature: which parameters are scalars, inputs and outputs, and what the
//! return type asks for. Decided from the types as written (a proc macro sees no types).

use crate::ctxt::Ctxt;
use crate::ir::{FreshKind, ParamKind, Rank};
use quote::ToTokens;
use syn::{ReturnType, Type};

const PRIMITIVES: &[&str] =
    &["f32", "f64", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "bool"];

const ACCEPTED: &str = "a kernel parameter is a scalar (`f32`, `f64`, `i8`..`i64`, `u8`..`u64`, `isize`, `usize`, `bool`) or an array (`&[T]`, `&Vec<T>`, `&[T; N]`, `ArrayView1<T>`..`ArrayView6<T>`, `ArrayViewD<T>`, `ArrayView<T, D>`, `&Array1<T>`..`&Array6<T>`, `&ArrayD<T>`, `&Array<T, D>`; outputs `&mut [T]`, `&mut Vec<T>`, `ArrayViewMut1<T>`..`ArrayViewMut6<T>`, `ArrayViewMutD<T>`, `&mut Array1<T>`..`&mut ArrayD<T>`)";

/// What the signature says the kernel returns.
pub enum Shape {
    /// An unsupported return type, already reported: accepts anything silently.
    Poison,
    Unit,
    Scalar,
    /// An array of this kind and rank.
    Array(FreshKind, Rank),
    Tuple(Vec<Shape>),
}

pub struct RetType {
    pub shape: Shape,
    /// `Result<_, KernelError>`: the body ends in `Ok(..)`.
    pub result: bool,
}

/// A `&`/`&mut` type's referent, or the type itself.
fn strip_ref(ty: &Type) -> (&Type, Option<bool>) {
    match ty {
        Type::Reference(r) => (&r.elem, Some(r.mutability.is_some())),
        Type::Paren(p) => strip_ref(&p.elem),
        Type::Group(g) => strip_ref(&g.elem),
        _ => (ty, None),
    }
}

/// The element type of `[T]`, `[T; N]`, `Vec<T>`, `Array1<T>`, `ArrayView1<T>`, `ArrayViewMut1<T>`.
fn elem_of(ty: &Type, wrappers: &[&str]) -> Option<Type> {
    match ty {
        Type::Slice(s) => Some((*s.elem).clone()),
        Type::Array(a) => Some((*a.elem).clone()),
        Type::Path(p) if p.qself.is_none() => {
            let seg = p.path.segments.last()?;
            if !wrappers.contains(&seg.ident.to_string().as_str()) {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
                return None;
            };
            let mut types = args.args.iter().filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            });
            let t = types.next()?;
            types.next().is_none().then_some(t)
        }
        _ => None,
    }
}

/// The rank a dimension type names: `Ix2`, `IxDyn`, `Dim<[usize; 2]>`.
fn rank_of_dim(ty: &Type) -> Option<Rank> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    let name = seg.ident.to_string();
    match name.as_str() {
        "IxDyn" => Some(Rank::Dyn),
        "Dim" => {
            let syn::PathArguments::AngleBracketed(a) = &seg.arguments else { return None };
            match a.args.first()? {
                syn::GenericArgument::Type(Type::Array(arr)) => match &arr.len {
                    syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. }) => {
                        n.base10_parse().ok().map(Rank::Static)
                    }
                    _ => None,
                },
                _ => None,
            }
        }
        _ => name.strip_prefix("Ix").and_then(|n| n.parse().ok()).filter(|n| (0..=6).contains(n)).map(Rank::Static),
    }
}

/// `ArrayN<T>`/`ArrayD<T>`/`Array<T, D>` (with `prefix` "Array") or the same with
/// "ArrayView": the element type and rank.
pub fn nd_of(ty: &Type, prefix: &str) -> Option<(Type, Rank)> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let seg = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else { return None };
    let types: Vec<&Type> = args
        .args
        .iter()
        .filter_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect();
    let name = seg.ident.to_string();
    let rest = name.strip_prefix(prefix)?;
    let rank = match (rest, types.len()) {
        ("", 2) => rank_of_dim(types[1])?,
        ("D", 1) => Rank::Dyn,
        (n, 1) => Rank::Static(n.parse().ok().filter(|n| (1..=6).contains(n))?),
        _ => return None,
    };
    Some((types[0].clone(), rank))
}

pub fn is_scalar_type(ty: &Type, generics: &[String]) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            let seg = &p.path.segments[0];
            let name = seg.ident.to_string();
            seg.arguments.is_empty() && (PRIMITIVES.contains(&name.as_str()) || generics.contains(&name))
        }
        Type::Paren(p) => is_scalar_type(&p.elem, generics),
        Type::Group(g) => is_scalar_type(&g.elem, generics),
        _ => false,
    }
}

/// The kind of a parameter, from its type as written; `None` after reporting an error.
pub fn param_kind(name: &syn::Ident, ty: &Type, generics: &[String], ctxt: &mut Ctxt) -> Option<ParamKind> {
    if is_scalar_type(ty, generics) {
        return Some(ParamKind::Scalar);
    }
    let (inner, reference) = strip_ref(ty);
    let nd = |(elem, rank): (Type, Rank)| ParamKind::Input { elem, nd: Some(rank) };
    let kind = match reference {
        Some(true) => elem_of(inner, &["Vec", "Array1"])
            .map(|elem| ParamKind::Output { elem, nd: None })
            .or_else(|| nd_of(inner, "Array").map(|(elem, r)| ParamKind::Output { elem, nd: Some(r) })),
        Some(false) => elem_of(inner, &["Vec"])
            .map(|elem| ParamKind::Input { elem, nd: None })
            .or_else(|| nd_of(inner, "Array").map(nd))
            .or_else(|| nd_of(inner, "ArrayView").map(nd)),
        None => elem_of(inner, &["ArrayViewMut1"])
            .map(|elem| ParamKind::Output { elem, nd: None })
            .or_else(|| nd_of(inner, "ArrayViewMut").map(|(elem, r)| ParamKind::Output { elem, nd: Some(r) }))
            .or_else(|| nd_of(inner, "ArrayView").map(nd)),
    };
    // `&[Vec<f64>]`: an array of arrays is not an element type.
    let nested = |elem: &Type| {
        let e = elem.to_token_stream().to_string();
        e.starts_with("Vec") || e.starts_with('[') || e.starts_with('&')
    };
    let kind =
        kind.filter(|k| !matches!(k, ParamKind::Input { elem, .. } | ParamKind::Output { elem, .. } if nested(elem)));
    if kind.is_none() {
        let shown = ty
            .to_token_stream()
            .to_string()
            .replace(" < ", "<")
            .replace(" <", "<")
            .replace("< ", "<")
            .replace(" >", ">")
            .replace("& ", "&");
        // The two near misses real code writes: an owned `Vec`, a slice of rows.
        let hint = if shown.starts_with("Vec<") || shown.starts_with("Array") {
            format!(" (a kernel borrows its arrays: take `&{shown}`, or `&[T]`)")
        } else if shown.starts_with("&[Vec<") || shown.starts_with("&Vec<Vec<") {
            " (rows of rows are not an array a kernel loops over: pass an `ArrayView2<T>`, e.g. `Array2::from_shape_vec((rows, cols), flat)`, or call the kernel once per row)".to_string()
        } else {
            String::new()
        };
        ctxt.error(ty, format!("parameter `{name}`: `{shown}` is not a loopfuse scalar or array{hint}; {ACCEPTED}"));
    }
    kind
}

pub fn parse_ret(ret: &ReturnType, generics: &[String], ctxt: &mut Ctxt) -> RetType {
    let ty = match ret {
        ReturnType::Default => return RetType { shape: Shape::Unit, result: false },
        ReturnType::Type(_, ty) => ty,
    };
    if let Type::Path(p) = &**ty {
        if let Some(seg) = p.path.segments.last() {
            if seg.ident == "Result" {
                if let syn::PathArguments::AngleBracketed(a) = &seg.arguments {
                    if let Some(syn::GenericArgument::Type(t)) = a.args.first() {
                        return RetType { shape: shape_of(t, generics, ctxt), result: true };
                    }
                }
            }
        }
    }
    RetType { shape: shape_of(ty, generics, ctxt), result: false }
}

fn shape_of(ty: &Type, generics: &[String], ctxt: &mut Ctxt) -> Shape {
    match ty {
        Type::Tuple(t) if t.elems.is_empty() => Shape::Unit,
        Type::Tuple(t) => Shape::Tuple(t.elems.iter().map(|e| shape_of(e, generics, ctxt)).collect()),
        Type::Paren(p) => shape_of(&p.elem, generics, ctxt),
        Type::Group(g) => shape_of(&g.elem, generics, ctxt),
        _ if is_scalar_type(ty, generics) => Shape::Scalar,
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last().expect("a path has a segment");
            match last.ident.to_string().as_str() {
                "Vec" => Shape::Array(FreshKind::Vec, Rank::Static(1)),
                "Array1" => Shape::Array(FreshKind::Array1, Rank::Static(1)),
                _ if nd_of(ty, "Array").is_some() => {
                    Shape::Array(FreshKind::Nd, nd_of(ty, "Array").expect("checked").1)
                }
                // A type alias of a scalar (`type Real = f64`).
                _ if p.path.segments.len() == 1 && last.arguments.is_empty() => Shape::Scalar,
                _ => unsupported_return(ty, ctxt),
            }
        }
        _ => unsupported_return(ty, ctxt),
    }
}

fn unsupported_return(ty: &Type, ctxt: &mut Ctxt) -> Shape {
    ctxt.error(ty, "unsupported return type; a kernel returns a scalar, `Vec<T>`, `Array1<T>`..`Array6<T>`, `ArrayD<T>`, `Array<T, D>`, a tuple of these, `()`, or `Result<_, KernelError>` of these");
    Shape::Poison
}
