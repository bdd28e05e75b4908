//! The kernel's signature: which parameters are scalars, inputs and outputs, and what the
//! return type asks for. Decided from the types as written (a proc macro sees no types).

use crate::ctxt::Ctxt;
use crate::ir::{FreshKind, ParamKind};
use quote::ToTokens;
use syn::{ReturnType, Type};

const PRIMITIVES: &[&str] =
    &["f32", "f64", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "bool"];

const ACCEPTED: &str = "a kernel parameter is a scalar (`f32`, `f64`, `i8`..`i64`, `u8`..`u64`, `isize`, `usize`, `bool`) or an array (`&[T]`, `&Vec<T>`, `&[T; N]`, `ArrayView1<T>`, `&Array1<T>`; outputs `&mut [T]`, `&mut Vec<T>`, `ArrayViewMut1<T>`, `&mut Array1<T>`)";

/// What the signature says the kernel returns.
pub enum Shape {
    /// An unsupported return type, already reported: accepts anything silently.
    Poison,
    Unit,
    Scalar,
    Array(FreshKind),
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
    let kind = match reference {
        Some(true) => elem_of(inner, &["Vec", "Array1"]).map(|elem| ParamKind::Output { elem }),
        Some(false) => elem_of(inner, &["Vec", "Array1", "ArrayView1"]).map(|elem| ParamKind::Input { elem }),
        None => elem_of(inner, &["ArrayViewMut1"])
            .map(|elem| ParamKind::Output { elem })
            .or_else(|| elem_of(inner, &["ArrayView1"]).map(|elem| ParamKind::Input { elem })),
    };
    if kind.is_none() {
        let shown = ty
            .to_token_stream()
            .to_string()
            .replace(" < ", "<")
            .replace(" <", "<")
            .replace("< ", "<")
            .replace(" >", ">")
            .replace("& ", "&");
        ctxt.error(ty, format!("parameter `{name}`: `{shown}` is not a loopfuse scalar or array; {ACCEPTED}"));
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
                "Vec" => Shape::Array(FreshKind::Vec),
                "Array1" => Shape::Array(FreshKind::Array1),
                // A type alias of a scalar (`type Real = f64`).
                _ if p.path.segments.len() == 1 && last.arguments.is_empty() => Shape::Scalar,
                _ => unsupported_return(ty, ctxt),
            }
        }
        _ => unsupported_return(ty, ctxt),
    }
}

fn unsupported_return(ty: &Type, ctxt: &mut Ctxt) -> Shape {
    ctxt.error(ty, "unsupported return type; a kernel returns a scalar, `Vec<T>`, `Array1<T>`, a tuple of these, `()`, or `Result<_, KernelError>` of these");
    Shape::Poison
}
