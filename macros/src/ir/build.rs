//! Where the IR is built: interning constructors for nodes and reductions.
//!
//! An elementwise expression written twice is one node (hash-consed by `Hash + Eq` on the
//! [`Op`], its space and its deps), so a reduction of it written twice (`x.sum() + x.sum()`)
//! is one reduction, computed once.

use super::*;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;

pub struct Builder {
    pub k: Kernel,
    /// Nodes by the hash of (op, space, deps); equal candidates are compared in full.
    interned: HashMap<u64, Vec<NodeId>>,
}

fn key(op: &Op, space: SpaceId, deps: &Deps) -> u64 {
    let mut h = DefaultHasher::new();
    (op, space, deps).hash(&mut h);
    h.finish()
}

impl Builder {
    pub fn new(params: Arena<Param>, spaces: shape::Spaces) -> Self {
        let k = Kernel {
            params,
            spaces,
            nodes: Arena::default(),
            reductions: Arena::default(),
            loops: Arena::default(),
            lets: Vec::new(),
            sinks: Vec::new(),
            fresh: Vec::new(),
            checks: Vec::new(),
            unwrapped: Vec::new(),
            axis_uses: Vec::new(),
            in_order_loops: 0,
            inner_passes: 0,
            slices: Vec::new(),
            nest_spaces: Default::default(),
            windowed: Default::default(),
            guards: Vec::new(),
            result: Ret::Unreachable,
        };
        Builder { k, interned: HashMap::new() }
    }

    /// The node computing `op` over `space` after `deps`: an existing one if equal.
    pub fn node(&mut self, op: Op, space: SpaceId, deps: Deps, span: Span) -> NodeId {
        let h = key(&op, space, &deps);
        let nodes = &self.k.nodes;
        let same = |&n: &NodeId| nodes[n].op == op && nodes[n].space == space && nodes[n].deps == deps;
        if let Some(&n) = self.interned.get(&h).and_then(|c| c.iter().find(|n| same(n))) {
            return n;
        }
        let n = self.k.nodes.push(Node { op, space, deps, span });
        self.interned.entry(h).or_default().push(n);
        n
    }

    /// A whole-array reduction, or the same one computed already.
    pub fn reduction(&mut self, r: Reduction) -> RedId {
        let same = |o: &Reduction| {
            o.kind == r.kind
                && o.arg == r.arg
                && o.mask == r.mask
                && o.mean == r.mean
                && o.axis == r.axis
                && o.ddof == r.ddof
        };
        if let Some(i) = self.k.reductions.position(same) {
            return i;
        }
        self.k.reductions.push(r)
    }

    /// A loop's accumulator: always its own reduction (two loops summing the same values
    /// are two accumulators the user wrote; merging them would still be right, but keep the
    /// plan showing what was written).
    pub fn accumulator(&mut self, r: Reduction) -> RedId {
        self.k.reductions.push(r)
    }

    /// Unifies the spaces of two values combined elementwise; `false` if they cannot be one
    /// (a loop range with anything else). Parameter spaces get a length check.
    pub fn unify(&mut self, a: SpaceId, b: SpaceId) -> bool {
        match self.k.spaces.unify(a, b) {
            shape::Unified::Same => true,
            shape::Unified::Params { left, right } => {
                self.k.checks.push(LenCheck { left, right });
                true
            }
            shape::Unified::Refused => false,
        }
    }
}
