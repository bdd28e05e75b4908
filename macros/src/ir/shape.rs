//! Iteration spaces and where shapes are unified.
//!
//! Every array value runs over one space: the elements of an array parameter, or the index
//! range of an explicit `for i in lo..hi` loop. Combining two arrays elementwise unifies their
//! spaces (union-find): their lengths must then agree, which becomes a check before the
//! kernel runs. A loop range never unifies with an array's space (inside `for i in lo..hi`,
//! arrays are read by index), so that case is refused and the loop runs in order.

use super::{Arena, ParamId, Scalar, SpaceId};

/// The index range of an explicit `for i in lo..hi` loop.
pub struct LoopRange {
    pub lo: Scalar,
    pub hi: Scalar,
}

pub enum Space {
    /// The elements of an array parameter.
    Param(ParamId),
    /// An explicit loop's index range.
    Range(LoopRange),
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

    pub fn range(&self, s: SpaceId) -> Option<&LoopRange> {
        match &self.spaces[self.root(s)] {
            Space::Range(r) => Some(r),
            Space::Param(_) => None,
        }
    }

    pub fn param(&self, s: SpaceId) -> Option<ParamId> {
        match self.spaces[self.root(s)] {
            Space::Param(p) => Some(p),
            Space::Range(_) => None,
        }
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
