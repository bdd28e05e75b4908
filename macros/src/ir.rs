//! The kernel IR: what the body computes, with every array value in SSA form.
//!
//! Arrays are never materialized: an array value is a [`Node`], an elementwise expression
//! over other nodes, input elements and scalars. Scalars are Rust expressions kept as tokens,
//! with the set of reductions they depend on. Reductions and outputs are what loops compute.

use proc_macro2::TokenStream;
use std::collections::BTreeSet;

pub type NodeId = usize;
pub type RedId = usize;
/// A length class: arrays that must have the same length. Named by a parameter index
/// (the union-find root).
pub type Class = usize;
/// The reductions a value depends on.
pub type Deps = BTreeSet<RedId>;

#[derive(Clone)]
pub struct Scalar {
    pub tokens: TokenStream,
    pub deps: Deps,
}

#[derive(Clone)]
pub enum Operand {
    Array(NodeId),
    Scalar(Scalar),
}

pub enum Op {
    /// Element `i` of an input parameter.
    Input(usize),
    /// The current element `i` of an output parameter (`y += e` reads it).
    Current(usize),
    /// A scalar broadcast to every element (`out[..] = 0.0`).
    Splat(Scalar),
    Unary(syn::UnOp, Operand),
    Binary(syn::BinOp, Operand, Operand),
    Cast(Operand, Box<syn::Type>),
    /// `recv.method(args)` on elements.
    Method(syn::Ident, Operand, Vec<Operand>),
    /// `path(args)`: a user scalar fn applied elementwise.
    Call(Box<syn::Expr>, Vec<Operand>),
    /// `if mask { a } else { b }`.
    Select(Operand, Operand, Operand),
    /// The index of an explicit loop (`for i in lo..hi`, `.enumerate()`).
    Index,
    /// `x[i + k]` in an explicit loop over `i`.
    Shifted(usize, isize),
}

pub struct Node {
    pub op: Op,
    pub class: Class,
    pub deps: Deps,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RedKind {
    Sum,
    Prod,
    Mean,
    Var,
    Std,
    Min,
    Max,
    ArgMin,
    ArgMax,
    Any,
    All,
    Count,
    /// `acc = acc.max(e)` in a loop (Rust's NaN-ignoring `max`).
    MaxNum,
    /// `acc = acc.min(e)` in a loop.
    MinNum,
    /// `if c { acc += e }` in a loop.
    SumWhere,
}

impl RedKind {
    pub fn from_method(name: &str) -> Option<RedKind> {
        Some(match name {
            "sum" => RedKind::Sum,
            "prod" => RedKind::Prod,
            "mean" => RedKind::Mean,
            "var" => RedKind::Var,
            "std" => RedKind::Std,
            "min" => RedKind::Min,
            "max" => RedKind::Max,
            "argmin" => RedKind::ArgMin,
            "argmax" => RedKind::ArgMax,
            "any" => RedKind::Any,
            "all" => RedKind::All,
            "count" => RedKind::Count,
            _ => return None,
        })
    }

    /// Reductions with no value on empty input.
    pub fn needs_nonempty(self) -> bool {
        matches!(self, RedKind::Min | RedKind::Max | RedKind::ArgMin | RedKind::ArgMax)
    }
}

pub struct Reduction {
    pub kind: RedKind,
    pub arg: NodeId,
    /// For `SumWhere`: the mask.
    pub mask: Option<NodeId>,
    /// For `var`/`std`: the reduction computing the mean (an earlier pass).
    pub mean: Option<RedId>,
    pub deps: Deps,
    /// As written, for messages and the plan (`arr.min()`).
    pub text: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SinkTarget {
    /// A fresh output (the `k`-th returned array).
    Fresh(usize),
    /// An `&mut` parameter.
    Param(usize),
}

pub struct Sink {
    pub target: SinkTarget,
    pub node: NodeId,
    /// Written by an explicit loop: only the loop's index range, checked before the loop.
    pub window: bool,
    /// Barriers of earlier loops that wrote the same output: this write comes after them.
    pub after: Deps,
}

/// The index range of an explicit `for i in lo..hi` loop: a length class of its own.
pub struct LoopRange {
    pub lo: Scalar,
    pub hi: Scalar,
}

/// How a fresh output is handed back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FreshKind {
    Vec,
    Array1,
}

pub enum ParamKind {
    Scalar,
    Input {
        elem: syn::Type,
    },
    Output {
        elem: syn::Type,
    },
    /// A local output, `let mut out = vec![init; n];`: created in the body, written by index
    /// in loops, returned by move.
    Local,
}

pub struct Param {
    pub ident: syn::Ident,
    pub kind: ParamKind,
}

/// A scalar `let`, hoisted to the first point where its dependencies are computed.
pub struct ScalarLet {
    pub name: syn::Ident,
    pub mutable: bool,
    pub ty: Option<syn::Type>,
    pub value: Scalar,
}

/// Two parameters whose lengths must agree.
pub struct LenCheck {
    pub left: usize,
    pub right: usize,
}

pub struct Kernel {
    pub params: Vec<Param>,
    pub nodes: Vec<Node>,
    pub reductions: Vec<Reduction>,
    pub lets: Vec<ScalarLet>,
    pub sinks: Vec<Sink>,
    pub fresh: Vec<FreshKind>,
    pub checks: Vec<LenCheck>,
    /// Union-find parent of each length class: parameters first, then loop ranges.
    pub class_parent: Vec<usize>,
    /// Loop ranges; range `r` is class `params.len() + r`.
    pub ranges: Vec<LoopRange>,
    /// The returned value, referring to lets, reductions (`__r{k}`) and outputs (`__o{k}`).
    pub result: Scalar,
}

impl Kernel {
    pub fn class_of(&self, mut c: Class) -> Class {
        while self.class_parent[c] != c {
            c = self.class_parent[c];
        }
        c
    }

    pub fn node_class(&self, n: NodeId) -> Class {
        self.class_of(self.nodes[n].class)
    }

    /// The loop range of a class, if it is one.
    pub fn range(&self, c: Class) -> Option<&LoopRange> {
        c.checked_sub(self.params.len()).map(|r| &self.ranges[r])
    }
}
