//! The kernel IR: what the body computes, with every array value in SSA form.
//!
//! Arrays are never materialized: an array value is a [`Node`], an elementwise expression
//! over other nodes, input elements and scalars, over one iteration [`Space`]. Scalars are
//! Rust expressions kept as tokens, with the set of [`Dep`]s (reductions, loops) they must
//! wait for. Reductions and outputs ([`Sink`]s) are what loops compute.
//!
//! Built by `lower` through the interning [`build`] methods; read by `plan` and `codegen`.
//! Generated names that scalar tokens refer to (`__r3` for reduction 3) come from
//! `crate::names`, the one place both sides take them from.

pub mod build;
pub mod id;
pub mod shape;

pub use crate::vocab::{RedKind, ScanKind};
pub use id::{Arena, Id};
pub use shape::{Leaf, LeafSrc, LoopRange, Rank, Space, ViewOp};

use proc_macro2::{Span, TokenStream};
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

pub type NodeId = Id<Node>;
pub type RedId = Id<Reduction>;
pub type ParamId = Id<Param>;
pub type SpaceId = Id<Space>;
pub type LoopId = Id<Loop>;

/// What a value must wait for: a reduction's result, every write of a loop, a loop that
/// runs in order (the index of its `let` in `Kernel::lets`), or a scalar `if` whose branches
/// wait for theirs (the index of its [`Guard`] in `Kernel::guards`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Dep {
    Red(RedId),
    Loop(LoopId),
    InOrder(usize),
    Guard(usize),
}

/// The reductions and loops a value depends on.
pub type Deps = BTreeSet<Dep>;

/// A scalar: Rust tokens and what they wait for.
///
/// Two scalars are equal when their tokens are: names in a kernel are unique (shadowing
/// renames, `crate::names::renamed`), so equal text means the same value.
#[derive(Clone)]
pub struct Scalar {
    pub tokens: TokenStream,
    pub deps: Deps,
}

impl Scalar {
    pub fn new(tokens: TokenStream) -> Self {
        Scalar { tokens, deps: Deps::new() }
    }
}

impl PartialEq for Scalar {
    fn eq(&self, o: &Self) -> bool {
        self.deps == o.deps && self.tokens.to_string() == o.tokens.to_string()
    }
}
impl Eq for Scalar {}
impl Hash for Scalar {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.tokens.to_string().hash(h);
        self.deps.hash(h);
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Operand {
    Array(NodeId),
    Scalar(Scalar),
}

/// One elementwise operation. `Hash + Eq` ignore spans (syn's `extra-traits`): the builder
/// interns equal ops over the same space into one node.
#[derive(PartialEq, Eq, Hash)]
pub enum Op {
    /// Element `i` of an input parameter.
    Input(ParamId),
    /// The current element `i` of an output parameter (`y += e` reads it).
    Current(ParamId),
    /// A scalar broadcast to every element (`out[..] = 0.0`).
    Splat(Scalar),
    Unary(syn::UnOp, Operand),
    Binary(syn::BinOp, Operand, Operand),
    Cast(Operand, Box<syn::Type>),
    /// `recv.method(args)` on elements; the method is in `crate::vocab::METHODS`.
    Method(syn::Ident, Operand, Vec<Operand>),
    /// `path(args)`: a user scalar fn applied elementwise.
    Call(Box<syn::Expr>, Vec<Operand>),
    /// `if mask { a } else { b }`.
    Select(Operand, Operand, Operand),
    /// The index of an explicit loop (`for i in lo..hi`, `.enumerate()`).
    Index,
    /// `x[i + k]` in an explicit loop over `i`.
    Shifted(ParamId, isize),
    /// `x.cumsum()` (`crate::vocab::SCANS`): element `i` is the running value of the
    /// operand's elements `0..=i`, so a pass computing it runs in order, on one thread.
    Scan(ScanKind, Operand),
    /// An N-d array read through views (`x.insert_axis(Axis(1))`, an axis reduction's
    /// result); a parameter read as it is is `Input`.
    Leaf(Leaf),
}

impl Op {
    pub fn operands(&self) -> Vec<&Operand> {
        match self {
            Op::Input(_) | Op::Current(_) | Op::Splat(_) | Op::Index | Op::Shifted(..) | Op::Leaf(_) => Vec::new(),
            Op::Unary(_, a) | Op::Cast(a, _) | Op::Scan(_, a) => vec![a],
            Op::Binary(_, a, b) => vec![a, b],
            Op::Method(_, r, args) => std::iter::once(r).chain(args).collect(),
            Op::Call(_, args) => args.iter().collect(),
            Op::Select(c, a, b) => vec![c, a, b],
        }
    }

    /// The same operation over other array operands (`f` maps each array operand).
    pub fn map_arrays(&self, f: &mut impl FnMut(NodeId) -> NodeId) -> Op {
        let mut o = |x: &Operand| match x {
            Operand::Array(n) => Operand::Array(f(*n)),
            s => s.clone(),
        };
        match self {
            Op::Input(p) => Op::Input(*p),
            Op::Current(p) => Op::Current(*p),
            Op::Splat(s) => Op::Splat(s.clone()),
            Op::Unary(u, a) => Op::Unary(*u, o(a)),
            Op::Binary(b, l, r) => {
                let l = o(l);
                Op::Binary(*b, l, o(r))
            }
            Op::Cast(a, t) => Op::Cast(o(a), t.clone()),
            Op::Scan(kind, a) => Op::Scan(*kind, o(a)),
            Op::Method(m, r, args) => {
                let r = o(r);
                Op::Method(m.clone(), r, args.iter().map(o).collect())
            }
            Op::Call(c, args) => Op::Call(c.clone(), args.iter().map(o).collect()),
            Op::Select(c, a, b) => {
                let (c, a) = (o(c), o(a));
                Op::Select(c, a, o(b))
            }
            Op::Index => Op::Index,
            Op::Shifted(p, k) => Op::Shifted(*p, *k),
            Op::Leaf(l) => Op::Leaf(l.clone()),
        }
    }

    /// Read by the pass driver from a source (the loop body receives the element).
    pub fn is_source(&self) -> bool {
        matches!(self, Op::Input(_) | Op::Current(_) | Op::Index | Op::Shifted(..) | Op::Leaf(_))
    }
}

pub struct Node {
    pub op: Op,
    pub space: SpaceId,
    pub deps: Deps,
    /// The user's tokens that made this node: for messages about it (shape errors of the
    /// N-d checks will point here).
    #[allow(dead_code)]
    pub span: Span,
}

pub struct Reduction {
    pub kind: RedKind,
    pub arg: NodeId,
    /// `x.sum_axis(Axis(k))`: reduces axis `k` of the arg's N-d space into a buffer of the
    /// other axes; `None` for a whole reduction (a scalar).
    pub axis: Option<usize>,
    /// `var_axis(Axis(k), ddof)`: the `ddof`.
    pub ddof: Option<Scalar>,
    /// The second item: the mask of `SumWhere`; for `var_axis`/`std_axis`, the mean read
    /// back along the axis.
    pub mask: Option<NodeId>,
    /// For `var`/`std`: the reduction computing the mean (an earlier pass).
    pub mean: Option<RedId>,
    pub deps: Deps,
    /// As written, for messages and the plan (`arr.min()`).
    pub text: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SinkTarget {
    /// A fresh output (the `k`-th returned array).
    Fresh(usize),
    /// An `&mut` parameter or a local output.
    Param(ParamId),
}

pub struct Sink {
    pub target: SinkTarget,
    pub node: NodeId,
    /// Written by an explicit loop: only the loop's index range, checked before the loop.
    pub window: bool,
    /// What this write must come after (earlier loops writing the same output).
    pub after: Deps,
    /// A selection returned as an array (`x[x > 0.0]`): its mask, and the reduction counting
    /// it, which sizes the output (an earlier pass, in `after`). Only the elements the mask
    /// keeps are written, one after the other.
    pub select: Option<(NodeId, RedId)>,
}

/// An explicit loop lowered into the IR: its reductions and writes, which may land in
/// several passes. Code that reads what the loop wrote depends on [`Dep::Loop`], and so
/// runs after every one of them.
pub struct Loop {
    pub reductions: Vec<RedId>,
    pub sinks: Vec<usize>,
}

/// How a fresh output is handed back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FreshKind {
    Vec,
    Array1,
    /// `Array<T, D>` of any rank (`Array2<T>`, `ArrayD<T>`).
    Nd,
}

pub enum ParamKind {
    Scalar,
    Input {
        elem: syn::Type,
        /// An ndarray array or view (it may take part in N-d values), with its rank; `None`
        /// for slices and `Vec`s.
        nd: Option<Rank>,
    },
    Output {
        elem: syn::Type,
        /// An N-d ndarray output (`ArrayViewMut2<T>`, `&mut ArrayD<T>`), with its rank;
        /// `None` for 1-D outputs.
        nd: Option<Rank>,
    },
    /// A local output, `let mut out = vec![init; n];` or `Array2::zeros((n, m))`: created in
    /// the body, written by index in loops, returned by move.
    Local(Storage),
}

/// What holds a local output's elements.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Storage {
    /// `vec![init; n]`.
    Vec,
    /// `Array1::zeros(n)`, `Array1::from_elem(n, v)`: 1-D, written as cells as a `Vec` is.
    Array1,
    /// `Array2::zeros((n, m))`, ..: written by `out[[i, j]]` in loops that run in order,
    /// through an `NdViewMut`.
    Nd(Rank),
}

impl ParamKind {
    /// The rank of an ndarray input or output; `None` for scalars, slices, `Vec`s and
    /// local outputs.
    pub fn nd_rank(&self) -> Option<Rank> {
        match self {
            ParamKind::Input { nd, .. } | ParamKind::Output { nd, .. } => *nd,
            _ => None,
        }
    }

    /// An N-d array by its type (rank 2 or more, or `IxDyn`): its own space is N-d.
    pub fn is_nd(&self) -> bool {
        self.nd_rank().is_some_and(|r| r != Rank::Static(1))
    }

    /// The rank of an array that loops index as ndarray does (`x[[i, j]]`, `x.shape()`):
    /// an ndarray parameter, an `Array1`/`Array2`.. local output; `None` for scalars,
    /// slices, `Vec`s and `vec![..]` locals.
    pub fn index_rank(&self) -> Option<Rank> {
        match self {
            ParamKind::Local(Storage::Array1) => Some(Rank::Static(1)),
            ParamKind::Local(Storage::Nd(r)) => Some(*r),
            _ => self.nd_rank(),
        }
    }
}

pub struct Param {
    pub ident: syn::Ident,
    pub kind: ParamKind,
    /// The iteration space of an array parameter's elements.
    pub space: Option<SpaceId>,
}

/// What a `let` of the generated body binds.
pub enum LetKind {
    /// `let name = value;`
    Plain,
    /// The storage of a local output: `let mut name = vec![init; len];`.
    LocalVec { init: TokenStream, len: TokenStream },
    /// The storage of a local ndarray output, its constructor as written with its scalars
    /// lowered: `let mut name = Array2::zeros((n, m));`.
    /// `len`: an `Array1`'s length (a per-row loop checks it, `lower/rows.rs`).
    LocalArray { ctor: TokenStream, len: Option<TokenStream> },
    /// The view of a local output that passes and loops write (of the storage `vec`).
    LocalView { vec: syn::Ident, storage: Storage },
    /// A loop that runs in order: `let name = { copies; loop; (results,) };`, with the
    /// outputs it reads or writes by index (their accesses are rewritten for the runtime),
    /// each with the version it finds (the deps of the writes before it).
    /// `rows`: its iterations may run in parallel (`lower/prange.rs`).
    InOrder { body: Box<syn::Expr>, copies: Vec<(syn::Ident, TokenStream)>, outputs: Vec<(ParamId, Deps)>, rows: bool },
    /// A statement, the value's tokens as they are: an early return
    /// (`if x.len() < 2 { return f64::NAN; }`), the length check of a slice.
    Statement,
}

/// A scalar `let`, hoisted to the first point where its dependencies are computed.
pub struct ScalarLet {
    pub name: syn::Ident,
    pub mutable: bool,
    pub ty: Option<syn::Type>,
    pub value: Scalar,
    pub kind: LetKind,
}

/// A scalar `if c { a } else { b }` whose condition is known before any loop (it uses
/// parameters, lengths and constants): `let name: bool = c;` is computed first, and the
/// reductions only a branch needs run only when it is taken (`plan::needs`). A value that
/// uses the `if` depends on [`Dep::Guard`], which stands for both branches' deps.
pub struct Guard {
    pub name: syn::Ident,
    /// The deps of each branch's value.
    pub then: Deps,
    pub els: Deps,
    /// The scalar lets each branch made (indices into `Kernel::lets`): computed only when
    /// it is taken.
    pub then_lets: std::ops::Range<usize>,
    pub else_lets: std::ops::Range<usize>,
    /// The condition as written, for the fusion plan.
    pub text: String,
}

/// Two parameters whose lengths must agree.
pub struct LenCheck {
    pub left: ParamId,
    pub right: ParamId,
}

/// The kernel's result, built by codegen from these parts.
pub enum Ret {
    Scalar(Scalar),
    /// The `k`-th fresh output.
    Fresh(usize, FreshKind),
    /// The buffer of an axis reduction, returned as it is.
    Reduced(RedId),
    /// A local output, returned by move.
    Local(ParamId, FreshKind),
    Tuple(Vec<Ret>),
    Ok(Box<Ret>),
    /// The body did not lower (errors were reported).
    Unreachable,
}

impl Ret {
    /// The axis reductions whose buffers are returned as they are.
    pub fn buffers(&self) -> Vec<RedId> {
        match self {
            Ret::Reduced(r) => vec![*r],
            Ret::Tuple(v) => v.iter().flat_map(Ret::buffers).collect(),
            Ret::Ok(r) => r.buffers(),
            _ => Vec::new(),
        }
    }
}

pub struct Kernel {
    pub params: Arena<Param>,
    pub spaces: shape::Spaces,
    pub nodes: Arena<Node>,
    pub reductions: Arena<Reduction>,
    pub loops: Arena<Loop>,
    pub lets: Vec<ScalarLet>,
    pub sinks: Vec<Sink>,
    pub fresh: Vec<FreshKind>,
    pub checks: Vec<LenCheck>,
    /// `mean_axis(..).unwrap()`: panics on an empty axis, as ndarray's `None` would.
    pub unwrapped: Vec<RedId>,
    /// The `Axis(k)` expressions as written (see `codegen::checks`).
    pub axis_uses: Vec<TokenStream>,
    /// Loops that run in order (emitted as plain Rust), for the plan.
    pub in_order_loops: usize,
    /// Inner loops of those that run as vectorized 1-D passes (`lower/inner_pass.rs`).
    pub inner_passes: usize,
    /// Inputs that are slices of other inputs (`x[1..]`), with the slice as written: each
    /// is a view cut in the body (a checked `let`), so its length checks run there too.
    pub slices: Vec<(ParamId, String)>,
    /// The N-d spaces of loop nests (`lower/nest.rs`): their leaves are windows cut in the
    /// body, so their shapes are computed there, not in the prelude.
    pub nest_spaces: BTreeSet<SpaceId>,
    /// Outputs a nest writes through a window (it borrows them uniquely).
    pub windowed: BTreeSet<ParamId>,
    /// Scalar `if`s that decide which reductions run.
    pub guards: Vec<Guard>,
    pub result: Ret,
}

impl Kernel {
    /// The space of a node, after unification.
    pub fn node_space(&self, n: NodeId) -> SpaceId {
        self.spaces.root(self.nodes[n].space)
    }

    /// The loop range of a space, if it is one.
    pub fn range(&self, s: SpaceId) -> Option<&LoopRange> {
        self.spaces.range(s)
    }

    /// The parameter whose length is the length of space `s`, if it is an array's.
    pub fn space_param(&self, s: SpaceId) -> Option<ParamId> {
        self.spaces.param(s)
    }

    /// The leaves of an N-d space; `None` for 1-D spaces.
    pub fn leaves(&self, s: SpaceId) -> Option<&std::collections::BTreeSet<Leaf>> {
        self.spaces.leaves(s)
    }

    /// The rank of what a leaf reads, before its views.
    pub fn src_rank(&self, src: LeafSrc) -> Rank {
        match src {
            LeafSrc::Param(p) => self.params[p].kind.nd_rank().unwrap_or(Rank::Static(1)),
            LeafSrc::Reduced(r) => match self.space_rank(self.node_space(self.reductions[r].arg)) {
                Rank::Static(n) => Rank::Static(n - 1),
                Rank::Dyn => Rank::Dyn,
            },
        }
    }

    /// A parameter as messages name it: its name, or a slice as written (`x[1..]`).
    pub fn param_text(&self, p: ParamId) -> String {
        match self.slices.iter().find(|(q, _)| *q == p) {
            Some((_, text)) => text.clone(),
            None => self.params[p].ident.to_string(),
        }
    }

    /// Whether `p` is a slice of another input, cut in the body.
    pub fn is_slice(&self, p: ParamId) -> bool {
        self.slices.iter().any(|(q, _)| *q == p)
    }

    /// Whether node `n` is or reads a scan (`x.cumsum()`): a pass computing it runs in order.
    pub fn has_scan(&self, n: NodeId) -> bool {
        let (mut todo, mut seen) = (vec![n], BTreeSet::new());
        while let Some(n) = todo.pop() {
            if !seen.insert(n) {
                continue;
            }
            if matches!(self.nodes[n].op, Op::Scan(..)) {
                return true;
            }
            todo.extend(self.nodes[n].op.operands().into_iter().filter_map(|o| match o {
                Operand::Array(m) => Some(*m),
                Operand::Scalar(_) => None,
            }));
        }
        false
    }

    pub fn leaf_rank(&self, l: &Leaf) -> Rank {
        l.rank(self.src_rank(l.src))
    }

    /// The rank of the values of a space.
    pub fn space_rank(&self, s: SpaceId) -> Rank {
        match self.leaves(s) {
            Some(leaves) => leaves.iter().map(|l| self.leaf_rank(l)).fold(Rank::Static(0), Rank::max),
            None => Rank::Static(1),
        }
    }
}
