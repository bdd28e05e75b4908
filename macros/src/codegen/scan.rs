//! Which scans a pass computes through a stage: integer scans whose lanes pay for the stage.
//!
//! A stage costs a copy of its argument into a buffer and of its results out of one, per
//! chunk of `CHUNK` (32) elements. The runtime's log-step prefix in vector registers
//! (`runtime/src/scan/x86.rs`) beats the in-order loop body for 8-, 16- and 32-bit integers;
//! for 64-bit ones the copies (256 bytes a chunk, calls of `memcpy`) cost more than the
//! prefix saves (measured in `benches/scans.rs`: i64 cumsum 0.39 vs 0.30 ns/elem, cummax
//! 0.38 vs 0.27), so those, floats, and scans of types the macro cannot tell, are stepped
//! in the body (`node_expr`).

use crate::ir::*;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// The integer types whose scans are staged: 8-, 16- and 32-bit.
const STAGED: &[&str] = &["i8", "u8", "i16", "u16", "i32", "u32"];

/// `__lf::scan_stage(level, op)` and the scan's argument, if node `n` is a scan of a type
/// in [`STAGED`].
pub(super) fn stage(k: &Kernel, n: NodeId) -> Option<(TokenStream, NodeId)> {
    let Op::Scan(kind, Operand::Array(a)) = &k.nodes[n].op else { return None };
    let ty = elem_type(k, *a)?;
    if !STAGED.contains(&ty.as_str()) {
        return None;
    }
    let (level, op) = (crate::dispatch::level_ident(), super::scan_op(*kind));
    Some((quote!(__lf::scan_stage(#level, #op)), *a))
}

/// The element type of node `n` as written, where the macro can tell it: from the element
/// types of the parameters and the casts it reads, through arithmetic that keeps the type.
/// `None` when unsure (a method or a user fn may change it, a comparison gives `bool`).
fn elem_type(k: &Kernel, n: NodeId) -> Option<String> {
    let array = |o: &Operand| match o {
        Operand::Array(m) => elem_type(k, *m),
        Operand::Scalar(_) => None,
    };
    match &k.nodes[n].op {
        Op::Input(p) | Op::Current(p) => match &k.params[*p].kind {
            ParamKind::Input { elem, .. } | ParamKind::Output { elem, .. } => Some(elem.to_token_stream().to_string()),
            _ => None,
        },
        Op::Cast(_, t) => Some(t.to_token_stream().to_string()),
        Op::Unary(syn::UnOp::Neg(_), a) | Op::Scan(_, a) => array(a),
        Op::Binary(op, a, b) if keeps_type(op) => {
            // The left operand's type (a shift's right operand may differ); a scalar on the
            // left takes the array's.
            array(a).or_else(|| matches!(a, Operand::Scalar(_)).then(|| array(b)).flatten())
        }
        Op::Select(_, a, b) => array(a).or_else(|| array(b)),
        _ => None,
    }
}

/// Whether `a op b` has the type of `a`: arithmetic, bit operations and shifts.
fn keeps_type(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(op, Add(_) | Sub(_) | Mul(_) | Div(_) | Rem(_) | BitAnd(_) | BitOr(_) | BitXor(_) | Shl(_) | Shr(_))
}
