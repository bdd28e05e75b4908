//! Iteration spaces and where shapes are unified.
//!
//! Every array value runs over one space:
//! - the elements of a 1-D array parameter, or the index range of an explicit
//!   `for i in lo..hi` loop. Combining two 1-D arrays elementwise unifies their spaces
//!   (union-find): their lengths must then agree, which becomes a check before the kernel
//!   runs. A loop range never unifies with an array's space (inside `for i in lo..hi`,
//!   arrays are read by index), so that case is refused and the loop runs in order.
//! - an N-d shape ([`Space::Nd`]): the NumPy broadcast of its [`Leaf`]s, the arrays the
//!   value reads (a parameter or an axis reduction's result, through views such as
//!   `.insert_axis(Axis(1))`). Its shape is computed at run time, before any work, and a
//!   mismatch is an error naming two leaves. A space is the set of leaves, so two values
//!   share a loop only when they read the same arrays: `x.sum()` and `(x + w).sum()` are
//!   two loops, since `w` may stretch `x`.
//!
//! The result of an axis reduction of a space, read back in it (`x - x.mean_axis(Axis(0))`),
//! is a *derived* leaf: it must fit the space without growing it (checked at run time), and
//! is left out of the key, so `x - m` runs over the space of `x` and fuses with other work
//! over `x`.

use super::{Arena, ParamId, RedId, Scalar, SpaceId};
use std::collections::BTreeSet;

/// The index range of an explicit `for i in lo..hi` loop.
pub struct LoopRange {
    pub lo: Scalar,
    pub hi: Scalar,
}

pub enum Space {
    /// The elements of a 1-D array parameter.
    Param(ParamId),
    /// An explicit loop's index range.
    Range(LoopRange),
    /// The broadcast shape of these leaves (never empty).
    Nd(BTreeSet<Leaf>),
}

/// How many axes an array has, as its type says (`ArrayView2` 2, `ArrayViewD` unknown).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Rank {
    Static(usize),
    Dyn,
}

impl Rank {
    /// The rank of a broadcast of `self` and `o`.
    pub fn max(self, o: Rank) -> Rank {
        match (self, o) {
            (Rank::Static(a), Rank::Static(b)) => Rank::Static(a.max(b)),
            _ => Rank::Dyn,
        }
    }
}

/// A view of an array, applied in order (`x.insert_axis(Axis(1))`, `x.t()`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum ViewOp {
    Insert(usize),
    Reverse,
}

/// What a leaf reads.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum LeafSrc {
    Param(ParamId),
    /// The buffer an axis reduction wrote.
    Reduced(RedId),
}

/// An array an N-d value reads, through views.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Leaf {
    pub src: LeafSrc,
    pub views: Vec<ViewOp>,
}

impl Leaf {
    pub fn param(p: ParamId) -> Leaf {
        Leaf { src: LeafSrc::Param(p), views: Vec::new() }
    }

    /// The rank after the views, given the source's.
    pub fn rank(&self, base: Rank) -> Rank {
        match base {
            Rank::Static(r) => Rank::Static(r + self.views.iter().filter(|v| matches!(v, ViewOp::Insert(_))).count()),
            Rank::Dyn => Rank::Dyn,
        }
    }
}

#[derive(Default)]
pub struct Spaces {
    spaces: Arena<Space>,
    /// Union-find parent of each space.
    parent: Vec<SpaceId>,
}

/// What [`Spaces::unify`] found.
pub enum Unified {
    /// Already one space.
    Same,
    /// Two parameters' spaces became one: their lengths must agree.
    Params { left: ParamId, right: ParamId },
    /// A loop range and another space: they cannot be one.
    Refused,
}

impl Spaces {
    pub fn add(&mut self, s: Space) -> SpaceId {
        let id = self.spaces.push(s);
        self.parent.push(id);
        id
    }

    pub fn root(&self, mut s: SpaceId) -> SpaceId {
        while self.parent[s.index()] != s {
            s = self.parent[s.index()];
        }
        s
    }

    /// Every explicit loop's range.
    pub fn ranges(&self) -> impl Iterator<Item = &LoopRange> {
        self.spaces.iter().filter_map(|(_, s)| match s {
            Space::Range(r) => Some(r),
            _ => None,
        })
    }

    pub fn range(&self, s: SpaceId) -> Option<&LoopRange> {
        match &self.spaces[self.root(s)] {
            Space::Range(r) => Some(r),
            _ => None,
        }
    }

    pub fn param(&self, s: SpaceId) -> Option<ParamId> {
        match self.spaces[self.root(s)] {
            Space::Param(p) => Some(p),
            _ => None,
        }
    }

    /// The leaves of an N-d space.
    pub fn leaves(&self, s: SpaceId) -> Option<&BTreeSet<Leaf>> {
        match &self.spaces[self.root(s)] {
            Space::Nd(l) => Some(l),
            _ => None,
        }
    }

    /// The N-d space of these leaves: the same id for the same set.
    pub fn nd(&mut self, leaves: BTreeSet<Leaf>) -> SpaceId {
        let found = self.spaces.position(|s| matches!(s, Space::Nd(l) if *l == leaves));
        found.unwrap_or_else(|| self.add(Space::Nd(leaves)))
    }

    /// The parameters whose 1-D space is `s` (after unification), in signature order.
    pub fn members(&self, s: SpaceId) -> Vec<ParamId> {
        let root = self.root(s);
        let params = self.spaces.iter().filter_map(|(id, sp)| match sp {
            Space::Param(p) if self.root(id) == root => Some(*p),
            _ => None,
        });
        params.collect()
    }

    /// Makes `a` and `b` one space. The earlier space stays the root, so a length check names
    /// the parameters in signature order.
    pub fn unify(&mut self, a: SpaceId, b: SpaceId) -> Unified {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra == rb {
            return Unified::Same;
        }
        match (&self.spaces[ra], &self.spaces[rb]) {
            (&Space::Param(pa), &Space::Param(pb)) => {
                let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
                self.parent[child.index()] = root;
                let (left, right) = if ra < rb { (pa, pb) } else { (pb, pa) };
                Unified::Params { left, right }
            }
            _ => Unified::Refused,
        }
    }
}
