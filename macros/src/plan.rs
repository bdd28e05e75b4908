//! Fusion planning: where fusion is decided, i.e. where every reduction, output and scalar
//! is computed.
//!
//! A reduction's value is known only after its loop ends, so anything that uses it is a
//! barrier: it goes in a later pass. So is anything that reads what an explicit loop wrote
//! ([`Dep::Loop`]): it waits for every pass that loop's work landed in. Everything else
//! fuses. Each reduction, output and scalar gets the earliest stage its dependencies allow
//! (`stage = 1 + the latest stage of what it waits for`), which gives the minimum number of
//! passes (the longest dependency chain). Work of one stage over one iteration space shares
//! one loop.

use crate::ir::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The nodes a pass computes or reads (`codegen::pass_nodes`).
type Nodes = std::collections::BTreeSet<NodeId>;

pub struct Pass {
    pub stage: usize,
    pub space: SpaceId,
    /// An axis pass: its reductions all reduce this axis of the space (and it writes no
    /// output); `None` for a pass over every element.
    pub axis: Option<usize>,
    pub reductions: Vec<RedId>,
    /// Indices into `Kernel::sinks`.
    pub sinks: Vec<usize>,
    /// An axis pass: the pass (an index into `Plan::passes`) that only maps its results
    /// elementwise into outputs, done as each result is (see [`epilogues`]).
    pub epilogue: Option<usize>,
    /// This pass is another's epilogue: it runs inside that one.
    pub fused: bool,
    /// When its reductions are needed (see [`needs`]): it runs only then.
    pub need: Need,
}

/// A buffer that keeps a map of its results (see [`buffer_maps`]).
pub struct BufferMap {
    pub red: RedId,
    /// The buffer's one leaf node, and the top of the elementwise chain over it.
    pub leaf: NodeId,
    pub root: NodeId,
    /// The chain's nodes above the leaf, `root` last.
    pub chain: Vec<NodeId>,
}

/// Passes run together by blocks along one axis (see [`chains`]).
pub struct Chain {
    /// The first and last stage of its passes.
    pub stages: (usize, usize),
    pub space: SpaceId,
    /// The axis the blocks cut.
    pub axis: usize,
}

/// The axis of reduction `r`'s buffer that is `axis` of the space it was reduced from.
pub fn buffer_axis(k: &Kernel, r: RedId, axis: usize) -> usize {
    let reduced = k.reductions[r].axis.expect("an axis reduction");
    if axis < reduced {
        axis
    } else {
        axis - 1
    }
}

pub struct Plan {
    pub passes: Vec<Pass>,
    /// Runs of stages whose passes go block by block along axis 0.
    pub chains: Vec<Chain>,
    /// Buffers stored mapped.
    pub maps: Vec<BufferMap>,
    /// Stage of each scalar let: it is computed before the passes of that stage.
    pub let_stage: Vec<usize>,
    /// When each scalar let is computed: the lets a branch made, only when it is taken.
    pub let_need: Vec<Need>,
    pub stages: usize,
}

/// What reads an output: a reduction or another output's write.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    Red(RedId),
    Sink(usize),
}

/// A read of output `param` as it was after `version` (the deps of the `Current`/`Shifted`
/// node: the loops that had written it). `aligned`: element `i` of the pass reads element
/// `i` (not `x[i + k]`), in `space`.
struct Read {
    reader: Reader,
    param: ParamId,
    version: Deps,
    aligned: bool,
    space: SpaceId,
}

/// The stage each reduction, loop and write is complete after.
///
/// Reads and writes of an output are ordered effects: a read waits for the writes before it
/// (its node depends on their [`Dep::Loop`]), and a write waits for the reads of the value it
/// overwrites: it runs in a later pass, or in the same pass when the reader is in the same
/// iteration space and reads the same element (the pass reads element `i` before it writes
/// it).
struct Stages<'k> {
    k: &'k Kernel,
    done: HashMap<Dep, usize>,
    sinks: HashMap<usize, usize>,
    reads: Vec<Read>,
    /// Writes being staged: a write that must come both before and after another.
    visiting: Vec<usize>,
    cycle: bool,
}

/// The reads of outputs in the trees of `roots`.
fn reads_of(k: &Kernel, reader: Reader, roots: &[NodeId], space: SpaceId, into: &mut Vec<Read>) {
    let mut seen = std::collections::BTreeSet::new();
    let mut stack: Vec<NodeId> = roots.to_vec();
    while let Some(n) = stack.pop() {
        if !seen.insert(n) {
            continue;
        }
        let node = &k.nodes[n];
        let (param, aligned) = match node.op {
            Op::Current(p) => (Some(p), true),
            Op::Shifted(p, off) => (Some(p), off == 0),
            _ => (None, false),
        };
        if let Some(param) = param {
            into.push(Read { reader, param, version: node.deps.clone(), aligned, space });
        }
        for o in node.op.operands() {
            if let Operand::Array(m) = o {
                stack.push(*m);
            }
        }
    }
}

impl<'k> Stages<'k> {
    fn new(k: &'k Kernel) -> Self {
        let mut reads = Vec::new();
        for (r, red) in k.reductions.iter() {
            let roots: Vec<NodeId> = [Some(red.arg), red.mask].into_iter().flatten().collect();
            reads_of(k, Reader::Red(r), &roots, k.node_space(red.arg), &mut reads);
        }
        for (s, sink) in k.sinks.iter().enumerate() {
            reads_of(k, Reader::Sink(s), &[sink.node], k.node_space(sink.node), &mut reads);
        }
        Stages { k, done: HashMap::new(), sinks: HashMap::new(), reads, visiting: Vec::new(), cycle: false }
    }

    /// The first stage at which everything in `deps` is known.
    fn after(&mut self, deps: &Deps) -> usize {
        deps.iter().map(|&d| self.of(d) + 1).max().unwrap_or(0)
    }

    /// A loop `for i in lo..hi` runs once `lo` and `hi` are known.
    fn space(&mut self, s: SpaceId) -> usize {
        let k = self.k;
        match k.range(s) {
            Some(r) => self.after(&r.lo.deps).max(self.after(&r.hi.deps)),
            None => 0,
        }
    }

    fn reduction(&mut self, r: RedId) -> usize {
        let red = &self.k.reductions[r];
        let space = self.k.node_space(red.arg);
        self.after(&red.deps).max(self.space(space))
    }

    /// The first stage a write of `param` over `space` may run at, given the reads of the
    /// value it overwrites (`version`); `me` is the write itself.
    fn after_reads(&mut self, param: ParamId, version: &Deps, space: Option<SpaceId>, me: Option<Reader>) -> usize {
        let mut stage = 0;
        let readers: Vec<(Reader, bool)> = self
            .reads
            .iter()
            .filter(|r| r.param == param && &r.version == version && Some(r.reader) != me)
            .map(|r| (r.reader, r.aligned && Some(r.space) == space))
            .collect();
        for (reader, same_element) in readers {
            let s = match reader {
                Reader::Red(r) => self.of(Dep::Red(r)),
                Reader::Sink(s) => self.sink(s),
            };
            stage = stage.max(if same_element { s } else { s + 1 });
        }
        stage
    }

    fn sink(&mut self, s: usize) -> usize {
        if let Some(&st) = self.sinks.get(&s) {
            return st;
        }
        if self.visiting.contains(&s) {
            self.cycle = true;
            return 0;
        }
        self.visiting.push(s);
        let sink = &self.k.sinks[s];
        let space = self.k.node_space(sink.node);
        let deps: Deps = self.k.nodes[sink.node].deps.union(&sink.after).copied().collect();
        let mut st = self.after(&deps).max(self.space(space));
        if let SinkTarget::Param(p) = sink.target {
            st = st.max(self.after_reads(p, &sink.after, Some(space), Some(Reader::Sink(s))));
        }
        self.visiting.pop();
        self.sinks.insert(s, st);
        st
    }

    /// The stage of scalar let `i`; a loop that runs in order also waits for the reads of
    /// the outputs it may write.
    fn let_stage(&mut self, i: usize) -> usize {
        let l = &self.k.lets[i];
        let mut st = self.after(&l.value.deps);
        if let LetKind::InOrder { outputs, .. } = &l.kind {
            for (p, version) in outputs {
                st = st.max(self.after_reads(*p, version, None, None));
            }
        }
        st
    }

    /// The stage whose pass computes `d` (for a loop: the last of its passes).
    fn of(&mut self, d: Dep) -> usize {
        if let Some(&s) = self.done.get(&d) {
            return s;
        }
        // Deps only point to earlier reductions and loops, so this terminates.
        let s = match d {
            Dep::Red(r) => self.reduction(r),
            Dep::Loop(l) => {
                let lp = &self.k.loops[l];
                let reds = lp.reductions.iter().map(|&r| self.reduction(r)).max();
                let sinks = lp.sinks.iter().map(|&s| self.sink(s)).max();
                reds.max(sinks).unwrap_or(0)
            }
            Dep::InOrder(i) => self.let_stage(i),
            // Both branches' values are known once each is.
            Dep::Guard(g) => {
                let g = &self.k.guards[g];
                let deps: Vec<Dep> = g.then.iter().chain(&g.els).copied().collect();
                deps.into_iter().map(|d| self.of(d)).max().unwrap_or(0)
            }
        };
        self.done.insert(d, s);
        s
    }
}

/// The plan, or a message when two writes each must come before the other (only a
/// temporary copy could order them).
///
/// The reductions only a branch needs go in passes of their own, run only when it is
/// taken. Where one of those passes cannot be skipped (it writes too, or is fused with
/// another), every reduction runs, as written.
pub fn plan(k: &Kernel, strict: bool) -> Result<Plan, &'static str> {
    let (red_need, let_need) = needs(k);
    let lazy = plan_with(k, strict, red_need, let_need)?;
    if lazy.passes.iter().all(|p| p.need == always() || skippable(&lazy, p)) {
        return Ok(lazy);
    }
    plan_with(k, strict, vec![always(); k.reductions.count()], vec![always(); k.lets.len()])
}

/// Whether a pass can run only when its reductions are needed: it only reduces, to values
/// (not an axis buffer), on its own.
fn skippable(plan: &Plan, p: &Pass) -> bool {
    let in_chain = plan.chains.iter().any(|c| c.stages.0 <= p.stage && p.stage <= c.stages.1 && c.space == p.space);
    p.sinks.is_empty() && p.axis.is_none() && !p.fused && p.epilogue.is_none() && !in_chain
}

fn plan_with(k: &Kernel, strict: bool, mut red_need: Vec<Need>, let_need: Vec<Need>) -> Result<Plan, &'static str> {
    let mut st = Stages::new(k);
    let let_stage: Vec<usize> = (0..k.lets.len()).map(|i| st.let_stage(i)).collect();
    join_loops_that_run_anyway(k, &mut st, &mut red_need, &let_need);
    let mut passes: Vec<Pass> = Vec::new();
    let slot = |stage: usize, space: SpaceId, axis: Option<usize>, need: &Need, passes: &mut Vec<Pass>| -> usize {
        if let Some(i) =
            passes.iter().position(|p| p.stage == stage && p.space == space && p.axis == axis && &p.need == need)
        {
            return i;
        }
        passes.push(Pass {
            stage,
            space,
            axis,
            reductions: Vec::new(),
            sinks: Vec::new(),
            epilogue: None,
            fused: false,
            need: need.clone(),
        });
        passes.len() - 1
    };
    for (r, red) in k.reductions.iter() {
        let i = slot(st.of(Dep::Red(r)), k.node_space(red.arg), red.axis, &red_need[r.index()], &mut passes);
        passes[i].reductions.push(r);
    }
    for (s, sink) in k.sinks.iter().enumerate() {
        let i = slot(st.sink(s), k.node_space(sink.node), None, &always(), &mut passes);
        passes[i].sinks.push(s);
    }
    passes.sort_by(|p, q| (p.stage, p.space, p.axis, &p.need).cmp(&(q.stage, q.space, q.axis, &q.need)));
    // The nodes of each pass, for the fusions below (they change no pass's reductions or
    // sinks, so these stay the passes' nodes).
    let nodes: Vec<Nodes> = passes.iter().map(|p| crate::codegen::pass_nodes(k, p)).collect();
    if !strict {
        epilogues(k, &mut passes, &nodes);
    }
    let chains = chains(k, &passes, &nodes, &let_stage);
    let maps = if strict { Vec::new() } else { buffer_maps(k, &passes, &nodes) };
    let stages =
        passes.iter().map(|p| p.stage + 1).max().unwrap_or(0).max(let_stage.iter().map(|s| s + 1).max().unwrap_or(0));
    if st.cycle {
        return Err("these outputs each read what the other overwrites (`a[i + 1]` read before `a[i]` is written, and the same for `b`): write one of them in a later loop, or compute into a local output first");
    }
    Ok(Plan { passes, chains, maps, let_stage, let_need, stages })
}

/// A reduction only a branch needs still joins a loop that runs anyway over the same
/// elements at the same stage (`if flag { x.sum() - x.max() } else { 0.0 }` next to
/// `x.max()`): one more accumulator costs less than a second loop. Not when what it computes
/// per element reads a value made only on its branch (a let or a slice of the branch, a
/// reduction that may not run): that value is a default (an empty view) elsewhere, and
/// `x / q` of it may panic.
fn join_loops_that_run_anyway(k: &Kernel, st: &mut Stages, red_need: &mut [Need], let_need: &[Need]) {
    let key = |st: &mut Stages, r: RedId| (st.of(Dep::Red(r)), k.node_space(k.reductions[r].arg), k.reductions[r].axis);
    let mut anyway = BTreeSet::new();
    for (r, _) in k.reductions.iter().filter(|(r, _)| red_need[r.index()] == always()) {
        anyway.insert(key(st, r));
    }
    for (s, sink) in k.sinks.iter().enumerate() {
        anyway.insert((st.sink(s), k.node_space(sink.node), None));
    }
    let mut branch_made: BTreeSet<String> =
        k.lets.iter().zip(let_need).filter(|(_, n)| **n != always()).map(|(l, _)| l.name.to_string()).collect();
    branch_made.extend(
        k.reductions
            .iter()
            .filter(|(r, _)| red_need[r.index()] != always())
            .map(|(r, _)| crate::names::reduction(r).to_string()),
    );
    for (r, red) in k.reductions.iter() {
        if red_need[r.index()] == always() || !anyway.contains(&key(st, r)) {
            continue;
        }
        let mut nodes = BTreeSet::new();
        for n in [Some(red.arg), red.mask].into_iter().flatten() {
            crate::codegen::collect_nodes(k, n, &mut nodes);
        }
        let reads_branch = nodes.iter().any(|&n| {
            let slice = matches!(k.nodes[n].op, Op::Input(q) if branch_made.contains(&k.params[q].ident.to_string()));
            slice
                || k.nodes[n].op.operands().iter().any(|o| match o {
                    Operand::Scalar(s) => idents(&s.tokens).iter().any(|i| branch_made.contains(i)),
                    Operand::Array(_) => false,
                })
        });
        if !reads_branch {
            red_need[r.index()] = always();
        }
    }
}

/// Every identifier in `tokens`.
fn idents(tokens: &proc_macro2::TokenStream) -> Vec<String> {
    tokens
        .clone()
        .into_iter()
        .flat_map(|t| match t {
            proc_macro2::TokenTree::Ident(i) => vec![i.to_string()],
            proc_macro2::TokenTree::Group(g) => idents(&g.stream()),
            _ => Vec::new(),
        })
        .collect()
}

/// One way to reach a branch: each guard (`Kernel::guards`) taken (`true`) or not.
pub type Path = BTreeMap<usize, bool>;

/// When a value is needed: on any of these paths. The empty path is always; no path is
/// never (nothing uses it).
pub type Need = BTreeSet<Path>;

/// Needed on every path.
pub fn always() -> Need {
    [Path::new()].into()
}

/// When each reduction's value is needed, and when each scalar let is computed.
///
/// What the kernel does as written needs its deps always: the result, every write, every
/// check and loop, and a scalar `let` outside a branch (Rust computes it where it stands,
/// panics included). A branch of a guarded `if` needs its deps on its path, a reduction
/// what it reads whenever it is needed, and a let a branch made is computed only on the
/// branch's path (its uses are inside it).
pub fn needs(k: &Kernel) -> (Vec<Need>, Vec<Need>) {
    let mut let_path = vec![Path::new(); k.lets.len()];
    for (g, guard) in k.guards.iter().enumerate() {
        for (lets, taken) in [(&guard.then_lets, true), (&guard.else_lets, false)] {
            for i in lets.clone() {
                let_path[i].insert(g, taken);
            }
        }
    }
    let mut n = Needs { k, red: vec![Need::new(); k.reductions.count()], seen: BTreeSet::new() };
    let root = Path::new();
    n.ret(&k.result);
    for sink in &k.sinks {
        for &d in k.nodes[sink.node].deps.iter().chain(&sink.after) {
            n.mark(d, &root);
        }
    }
    for (i, l) in k.lets.iter().enumerate() {
        let in_branch = !let_path[i].is_empty() && matches!(l.kind, LetKind::Plain);
        if !in_branch {
            let outputs = match &l.kind {
                LetKind::InOrder { outputs, .. } => outputs.iter().flat_map(|(_, v)| v.iter()).copied().collect(),
                _ => Vec::new(),
            };
            for d in l.value.deps.iter().copied().chain(outputs) {
                n.mark(d, &root);
            }
        }
    }
    for &r in &k.unwrapped {
        n.mark(Dep::Red(r), &root);
    }
    for range in k.spaces.ranges() {
        for &d in range.lo.deps.iter().chain(&range.hi.deps) {
            n.mark(d, &root);
        }
    }
    let red = n.red.into_iter().map(simplify).collect();
    (red, let_path.into_iter().map(|p| [p].into()).collect())
}

struct Needs<'k> {
    k: &'k Kernel,
    red: Vec<Need>,
    seen: BTreeSet<(Dep, Path)>,
}

impl Needs<'_> {
    fn ret(&mut self, r: &Ret) {
        match r {
            Ret::Scalar(s) => {
                for &d in &s.deps {
                    self.mark(d, &Path::new());
                }
            }
            Ret::Reduced(r) => self.mark(Dep::Red(*r), &Path::new()),
            Ret::Tuple(parts) => parts.iter().for_each(|p| self.ret(p)),
            Ret::Ok(inner) => self.ret(inner),
            Ret::Fresh(..) | Ret::Local(..) | Ret::Unreachable => {}
        }
    }

    fn mark(&mut self, d: Dep, path: &Path) {
        if !self.seen.insert((d, path.clone())) {
            return;
        }
        let k = self.k;
        match d {
            Dep::Red(r) => {
                self.red[r.index()].insert(path.clone());
                for &d in &k.reductions[r].deps {
                    self.mark(d, path);
                }
            }
            Dep::Guard(g) => {
                let guard = &k.guards[g];
                for (deps, taken) in [(&guard.then, true), (&guard.els, false)] {
                    let mut on = path.clone();
                    on.insert(g, taken);
                    for &d in deps {
                        self.mark(d, &on);
                    }
                }
            }
            Dep::Loop(l) => {
                for &r in &k.loops[l].reductions {
                    self.mark(Dep::Red(r), path);
                }
            }
            Dep::InOrder(i) => {
                for &d in &k.lets[i].value.deps {
                    self.mark(d, path);
                }
            }
        }
    }
}

/// Fewer, shorter paths for the same need: `a ∨ (a ∧ b)` is `a`, `(a ∧ g) ∨ (a ∧ ¬g)` is `a`.
fn simplify(mut need: Need) -> Need {
    loop {
        let paths: Vec<Path> = need.iter().cloned().collect();
        let absorbed =
            paths.iter().find(|p| paths.iter().any(|q| q != *p && q.iter().all(|(g, t)| p.get(g) == Some(t))));
        if let Some(p) = absorbed {
            need.remove(&p.clone());
            continue;
        }
        let merged = paths.iter().find_map(|p| {
            p.iter().find_map(|(&g, &t)| {
                let mut flipped = p.clone();
                flipped.insert(g, !t);
                need.contains(&flipped).then(|| {
                    let mut m = p.clone();
                    m.remove(&g);
                    (p.clone(), flipped, m)
                })
            })
        });
        match merged {
            Some((p, q, m)) => {
                need.remove(&p);
                need.remove(&q);
                need.insert(m);
            }
            None => return need,
        }
    }
}

/// Epilogue fusion: a pass that only maps the buffers of one axis pass elementwise into
/// fresh results (`x.sum_axis(Axis(1)).sqrt()`, the `sqrt` of every sum) runs inside that
/// axis pass, each value written as its reductions finish: no buffer, no second loop over
/// the results. The mapped pass reads nothing else (no input, no other reduction, no math
/// stage), the buffers are read nowhere else, and each is read as it is (no view). Not in
/// `strict` kernels, whose axis driver takes no epilogue.
fn epilogues(k: &Kernel, passes: &mut [Pass], nodes: &[Nodes]) {
    let reads = |n: &NodeId, r: RedId| matches!(&k.nodes[*n].op, Op::Leaf(l) if l.src == LeafSrc::Reduced(r));
    for e in 0..passes.len() {
        let p = &passes[e];
        let Some(leaves) = k.leaves(p.space) else { continue };
        if p.axis.is_some() || !p.reductions.is_empty() || p.sinks.is_empty() {
            continue;
        }
        let fresh = p.sinks.iter().all(|&s| matches!(k.sinks[s].target, SinkTarget::Fresh(_)));
        let own = nodes[e].iter().all(|&n| match &k.nodes[n].op {
            Op::Leaf(l) => l.views.is_empty() && matches!(l.src, LeafSrc::Reduced(_)),
            Op::Input(_) | Op::Current(_) | Op::Shifted(..) | Op::Index => false,
            Op::Method(m, ..) => !crate::codegen::is_staged(m),
            _ => true,
        });
        // The axis pass of the first leaf: every leaf must be one of its buffers.
        let Some(q) = leaves.iter().find_map(|l| match l.src {
            LeafSrc::Reduced(r) => passes.iter().position(|q| q.reductions.contains(&r)),
            LeafSrc::Param(_) => None,
        }) else {
            continue;
        };
        let reds = &passes[q].reductions;
        let only_these = p
            .sinks
            .iter()
            .all(|&s| k.nodes[k.sinks[s].node].deps.iter().all(|d| matches!(d, Dep::Red(r) if reds.contains(r))));
        let nowhere_else = reds.iter().all(|&r| {
            let returned = k.result.buffers().contains(&r);
            !returned && (0..passes.len()).filter(|&o| o != e).all(|o| !nodes[o].iter().any(|n| reads(n, r)))
        });
        if fresh && own && only_these && nowhere_else && passes[q].axis.is_some() && passes[q].epilogue.is_none() {
            passes[q].epilogue = Some(e);
            passes[e].fused = true;
        }
    }
}

/// Buffer maps: when an axis reduction's buffer is read only through a chain of
/// elementwise operations on it alone (`x / s.sqrt().insert_axis(Axis(1))`, `s` the
/// buffer), the axis pass stores the chain's value instead of the result (the `sqrt` of
/// each sum, once per row), and the readers read it as they read the buffer: the chain
/// runs once per result, not once per element it is broadcast to. The chain has no math
/// stage and uses no scalar computed later; not in `strict` kernels (whose axis driver
/// takes no map), nor for a buffer returned or written by an epilogue.
fn buffer_maps(k: &Kernel, passes: &[Pass], nodes: &[Nodes]) -> Vec<BufferMap> {
    // Who uses each node: other nodes, or something else (a reduction or a write).
    // Only the nodes some pass computes (lowering leaves dead ones: a `sqrt` of the buffer
    // rebuilt over its `insert_axis` view).
    let live: Nodes = nodes.iter().flatten().copied().collect();
    let mut users: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    let mut other = Nodes::new();
    for (n, node) in k.nodes.iter().filter(|(n, _)| live.contains(n)) {
        for o in node.op.operands() {
            if let Operand::Array(m) = o {
                users.entry(*m).or_default().push(n);
            }
        }
    }
    for (_, red) in k.reductions.iter() {
        other.extend([Some(red.arg), red.mask].into_iter().flatten());
    }
    other.extend(k.sinks.iter().map(|s| s.node));
    let returned = k.result.buffers();
    let mut out = Vec::new();
    for q in passes.iter().filter(|q| q.axis.is_some() && q.epilogue.is_none()) {
        for &r in &q.reductions {
            let leaves: Vec<NodeId> = k
                .nodes
                .iter()
                .filter(|(n, node)| live.contains(n) && matches!(&node.op, Op::Leaf(l) if l.src == LeafSrc::Reduced(r)))
                .map(|(n, _)| n)
                .collect();
            let [leaf] = leaves[..] else { continue };
            if returned.contains(&r) {
                continue;
            }
            // Up the chain while each node has one user, an elementwise op of it alone.
            let (mut cur, mut chain) = (leaf, Vec::new());
            loop {
                if other.contains(&cur) {
                    break;
                }
                let Some([u]) = users.get(&cur).map(|v| &v[..]) else { break };
                let node = &k.nodes[*u];
                let alone = node.op.operands().iter().all(|o| match o {
                    Operand::Array(m) => *m == cur,
                    Operand::Scalar(s) => s.deps.is_empty(),
                });
                let elementwise = match &node.op {
                    Op::Unary(..) | Op::Cast(..) | Op::Binary(..) => true,
                    Op::Method(m, ..) => !crate::codegen::is_staged(m),
                    _ => false,
                };
                if !(alone && elementwise) {
                    break;
                }
                chain.push(*u);
                cur = *u;
            }
            if let Some(&root) = chain.last() {
                out.push(BufferMap { red: r, leaf, root, chain });
            }
        }
    }
    out
}

/// Blocks (`runtime/src/nd/block.rs`): consecutive stages whose passes all run over one
/// N-d space of static rank ≥ 2, reduce no whole array and leave some axis unreduced (the
/// first such is the block axis), write only fresh results (no epilogue), and read the
/// buffers they make along the space's axes (`m.insert_axis(Axis(k))` of a reduction along
/// `k`, or a reduction along axis 0 as it is). Their passes then go block by block: each
/// block is read from memory once, and again from cache by the later passes (a row's norm,
/// then the row divided by it), with the same bits as pass by pass. The run time keeps one
/// block unless the axis is the outermost in memory. No scalar is computed between them.
fn chains(k: &Kernel, passes: &[Pass], nodes: &[Nodes], let_stage: &[usize]) -> Vec<Chain> {
    let last = passes.iter().map(|p| p.stage).max();
    let mut out = Vec::new();
    let Some(last) = last else { return out };
    // The space of a stage whose every pass could be in a chain.
    let eligible = |stage: usize| -> Option<SpaceId> {
        let ps: Vec<(&Pass, &Nodes)> = passes.iter().zip(nodes).filter(|(p, _)| p.stage == stage).collect();
        let space = ps.first()?.0.space;
        let rank = match k.space_rank(space) {
            Rank::Static(r) if r >= 2 => r,
            _ => return None,
        };
        let ok = ps.iter().all(|(p, nodes)| {
            p.space == space
                && p.epilogue.is_none()
                && !p.fused
                && (p.axis.is_some() || p.reductions.is_empty())
                && p.sinks.iter().all(|&s| matches!(k.sinks[s].target, SinkTarget::Fresh(_)))
                && nodes.iter().all(|&n| match &k.nodes[n].op {
                    Op::Current(_) | Op::Shifted(..) | Op::Index => false,
                    // A buffer read along the space's axes.
                    Op::Leaf(l @ Leaf { src: LeafSrc::Reduced(r), views }) => {
                        let along = k.reductions[*r].axis;
                        match views[..] {
                            [ViewOp::Insert(a)] => Some(a) == along && k.leaf_rank(l) == Rank::Static(rank),
                            [] => along == Some(0) && k.leaf_rank(l) == Rank::Static(rank - 1),
                            _ => false,
                        }
                    }
                    _ => true,
                })
        });
        ok.then_some(space)
    };
    let mut s = 0;
    while s <= last {
        let Some(space) = eligible(s) else {
            s += 1;
            continue;
        };
        let mut t = s;
        while t < last && eligible(t + 1) == Some(space) && !let_stage.contains(&(t + 1)) {
            t += 1;
        }
        let reduced: Vec<usize> =
            passes.iter().filter(|p| s <= p.stage && p.stage <= t).filter_map(|p| p.axis).collect();
        let rank = match k.space_rank(space) {
            Rank::Static(r) => r,
            Rank::Dyn => 0,
        };
        // Every buffer the chain reads is one it makes (block by block).
        let run = || passes.iter().zip(nodes).filter(|(p, _)| s <= p.stage && p.stage <= t);
        let own = run().all(|(_, nodes)| {
            nodes.iter().all(|&n| match &k.nodes[n].op {
                Op::Leaf(Leaf { src: LeafSrc::Reduced(r), .. }) => run().any(|(q, _)| q.reductions.contains(r)),
                _ => true,
            })
        });
        if let (true, true, Some(axis)) = (t > s, own, (0..rank).find(|a| !reduced.contains(a))) {
            out.push(Chain { stages: (s, t), space, axis });
        }
        s = t + 1;
    }
    out
}

/// Whether node `n` is known to hold integers (from the element types of the inputs and the
/// casts it reads): its sums have one value in any order, so the plan says nothing of lanes.
fn is_int(k: &Kernel, n: NodeId) -> bool {
    const INTS: &[&str] = &["i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize"];
    let int_ty = |t: &syn::Type| INTS.contains(&quote::ToTokens::to_token_stream(t).to_string().as_str());
    let array = |o: &Operand| match o {
        Operand::Array(m) => Some(*m),
        Operand::Scalar(_) => None,
    };
    match &k.nodes[n].op {
        Op::Input(p) | Op::Current(p) => match &k.params[*p].kind {
            ParamKind::Input { elem, .. } | ParamKind::Output { elem, .. } => int_ty(elem),
            _ => false,
        },
        Op::Cast(_, t) => int_ty(t),
        Op::Unary(_, a) | Op::Scan(_, a) | Op::Method(_, a, _) => array(a).is_some_and(|m| is_int(k, m)),
        Op::Binary(_, a, b) => [a, b].into_iter().filter_map(array).all(|m| is_int(k, m)),
        Op::Select(_, a, b) => [a, b].into_iter().filter_map(array).any(|m| is_int(k, m)),
        _ => false,
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// When a pass that does not always run runs, for the plan: "only when `flag`", "only when
/// not `x.is_empty()`", or `None` for always.
fn need_text(k: &Kernel, need: &Need) -> Option<String> {
    if *need == always() {
        return None;
    }
    if need.is_empty() {
        return Some("never (its results are not used)".to_string());
    }
    let paths: Vec<String> = need
        .iter()
        .map(|path| {
            let terms: Vec<String> = path
                .iter()
                .map(|(&g, &taken)| format!("{}`{}`", if taken { "" } else { "not " }, k.guards[g].text))
                .collect();
            terms.join(" and ")
        })
        .collect();
    Some(format!("only when {}", paths.join(" or ")))
}

/// The plan as rustdoc lines, appended to the kernel's docs.
pub fn describe(k: &Kernel, plan: &Plan) -> Vec<String> {
    let loops = plan.passes.iter().filter(|p| !p.fused).count() + k.in_order_loops;
    // An axis pass with an epilogue writes its results' values, not its buffers.
    let buffers = k.reductions.iter().filter(|(r, red)| {
        red.axis.is_some() && !plan.passes.iter().any(|p| p.epilogue.is_some() && p.reductions.contains(r))
    });
    let mut lines = vec![
        String::new(),
        "# Fusion plan".to_string(),
        String::new(),
        format!(
            "Generated by `#[kernel]`: {}, {}, no temporaries.",
            plural(loops, "loop"),
            plural(k.fresh.len() + buffers.count(), "array allocation")
        ),
        String::new(),
    ];
    for (i, p) in plan.passes.iter().filter(|p| !p.fused).enumerate() {
        let over = match (k.range(p.space), k.space_param(p.space)) {
            (Some(r), _) => {
                format!("i in {}..{}", crate::lower::tidy(&r.lo.tokens), crate::lower::tidy(&r.hi.tokens))
            }
            (None, Some(q)) => k.param_text(q),
            (None, None) => crate::codegen::space_text(k, p.space),
        };
        let over = match (p.axis, p.epilogue) {
            (Some(a), Some(_)) => format!("over `{over}` along axis {a}"),
            (Some(a), None) => format!("over `{over}` along axis {a}, into a buffer of the other axes"),
            (None, _) => format!("over `{over}`"),
        };
        let over = match need_text(k, &p.need) {
            Some(when) => format!("{when}, {over}"),
            None => over,
        };
        let mut what = Vec::new();
        if !p.reductions.is_empty() {
            let names: Vec<String> = p.reductions.iter().map(|&r| format!("`{}`", k.reductions[r].text)).collect();
            what.push(format!("reduces {}", names.join(", ")));
        }
        for &s in &p.sinks {
            what.push(match k.sinks[s].target {
                SinkTarget::Fresh(_) if k.sinks[s].select.is_some() => {
                    "writes the selected elements, in order, into the returned array (allocated at the length counted before)".to_string()
                }
                SinkTarget::Fresh(_) => "writes the returned array".to_string(),
                SinkTarget::Param(q) => format!("writes `{}`", k.param_text(q)),
            });
        }
        for m in plan.maps.iter().filter(|m| p.reductions.contains(&m.red)) {
            let r = crate::codegen::chain_text(k, &m.chain, "r");
            what.push(format!("stores `{r}` for each result `r`"));
        }
        let scans: BTreeSet<&str> = crate::codegen::pass_nodes(k, p)
            .into_iter()
            .filter_map(|n| match k.nodes[n].op {
                Op::Scan(kind, _) => Some(kind.name()),
                _ => None,
            })
            .collect();
        if !scans.is_empty() {
            let names: Vec<String> = scans.iter().map(|n| format!("`{n}`")).collect();
            what.insert(0, format!("runs in order, on one thread (the running {} of its elements)", names.join(", ")));
        }
        if let Some(e) = p.epilogue {
            let n = plan.passes[e].sinks.len();
            let arrays = if n == 1 { "the returned array".to_string() } else { format!("{n} returned arrays") };
            what.push(format!("writes {arrays} from each result as it is done"));
        }
        lines.push(format!("{}. {over}: {}", i + 1, what.join("; ")));
    }
    for c in &plan.chains {
        let index = |stage: usize, first: bool| {
            let mut it = plan.passes.iter().filter(|p| !p.fused).enumerate().filter(|(_, p)| p.stage == stage);
            let i = if first { it.next() } else { it.last() };
            i.map(|(i, _)| i + 1).unwrap_or(0)
        };
        let (a, b) = (index(c.stages.0, true), index(c.stages.1, false));
        lines.push(format!(
            "Loops {a}-{b} run together by blocks along axis {} (about 256 KiB each, where that axis is the outermost in memory): a block is read from memory once.",
            c.axis
        ));
    }
    if k.in_order_loops > 0 {
        lines.push(format!(
            "{}. {}: run in order, as written (a running value, a `break` or a recurrence).",
            plan.passes.len() + 1,
            plural(k.in_order_loops, "explicit loop")
        ));
        if k.inner_passes > 0 {
            lines.push(format!(
                "   {} accumulating inside: one vectorized pass per run, over windows of the arrays checked once per run.",
                plural(k.inner_passes, "inner loop")
            ));
        }
    }
    if k.reductions.iter().any(|(_, r)| r.kind.reassociates() && !is_int(k, r.arg)) {
        lines.push(String::new());
        lines.push(
            "Sums and products use 32 lane accumulators in a fixed order: the same bits on every CPU level."
                .to_string(),
        );
    }
    lines
}

#[cfg(test)]
mod tests {
    use crate::{ctxt::Ctxt, lower};

    /// The fusion plan of a kernel written as source text.
    fn plan_of(src: &str) -> String {
        let func: syn::ItemFn = syn::parse_str(src).expect("a function");
        let mut ctxt = Ctxt::default();
        let ret = lower::parse_ret(&func.sig.output, &[], &mut ctxt);
        let k = lower::Lower::new(&func, &[], &mut ctxt).lower(&func.block, &ret);
        assert!(ctxt.check().is_ok());
        super::describe(&k, &super::plan(&k, false).expect("a plan")).join("\n")
    }

    #[test]
    fn three_passes_and_the_lane_sentence() {
        let p = plan_of("fn f(x: &[f64]) -> Vec<f64> { (x - x.mean()) / x.std() }");
        assert!(p.contains("3 loops, 1 array allocation"), "{p}");
        assert!(p.contains("2. over `x`: reduces `x.std()`"), "{p}");
        assert!(p.contains("Sums and products use 32 lane accumulators"), "{p}");
    }

    #[test]
    fn no_lane_sentence_without_a_sum() {
        let p = plan_of("fn f(x: &[f64]) -> f64 { x.max() }");
        assert!(p.contains("1 loop, 0 array allocations"), "{p}");
        assert!(!p.contains("lane accumulators"), "{p}");
    }

    #[test]
    fn in_order_loops_are_counted() {
        let p = plan_of(
            "fn cumsum(x: &[f64], out: &mut [f64]) { let mut acc = 0.0; for i in 0..x.len() { acc += x[i]; out[i] = acc; } }",
        );
        assert!(p.contains("1 loop, 0 array allocations"), "{p}");
        assert!(p.contains("1. 1 explicit loop: run in order"), "{p}");
        let p = plan_of(
            "fn pe(x: ArrayView2<f64>) -> f64 { let mut e = 0.0; for i in 0..x.nrows() { for j in (i + 1)..x.nrows() { e += (x[[i, 0]] - x[[j, 0]]).abs(); } } e }",
        );
        assert!(p.contains("1 inner loop accumulating inside: one vectorized pass per run"), "{p}");
    }

    #[test]
    fn a_scan_pass_is_counted_and_runs_in_order() {
        let p = plan_of("fn vwap(p: &[f64], v: &[f64]) -> Vec<f64> { (p * v).cumsum() / v.cumsum() }");
        assert!(p.contains("1 loop, 1 array allocation"), "{p}");
        assert!(p.contains("1. over `p`: runs in order, on one thread (the running `cumsum` of its elements); writes the returned array"), "{p}");
        assert!(!p.contains("lane accumulators"), "{p}");
        let p = plan_of("fn f(x: &[f64]) -> Vec<f64> { (x - x.mean()).cummax() }");
        assert!(p.contains("2 loops") && p.contains("2. over `x`: runs in order"), "{p}");
        assert!(p.contains("lane accumulators"), "{p}");
    }

    #[test]
    fn a_returned_selection_is_counted_first() {
        let p = plan_of("fn f(x: &[f64]) -> Vec<f64> { (x * 2.0)[x > 0.0] }");
        assert!(p.contains("2 loops, 1 array allocation"), "{p}");
        assert!(p.contains("1. over `x`: reduces `(x * 2.0)[x > 0.0] (its length)`"), "{p}");
        assert!(p.contains("2. over `x`: writes the selected elements, in order, into the returned array"), "{p}");
    }

    #[test]
    fn no_lane_sentence_for_integer_sums() {
        let p = plan_of("fn f(x: &[i64]) -> i64 { x.sum() }");
        assert!(!p.contains("lane accumulators"), "{p}");
        let p = plan_of("fn f(x: &[u8]) -> f64 { (x as f64).sum() }");
        assert!(p.contains("lane accumulators"), "{p}");
    }

    #[test]
    fn a_loop_write_is_no_reduction_in_the_plan() {
        let p = plan_of("fn f(x: &[f64], o: &mut [f64]) -> f64 { for i in 0..x.len() { o[i] = x[i] * 2.0; } o.sum() }");
        assert!(p.contains("1. over `i in 0..x.len()`: writes `o`"), "{p}");
        assert!(p.contains("2. over `o`: reduces `o.sum()`"), "{p}");
        assert!(!p.contains("barrier"), "{p}");
    }

    #[test]
    fn nd_axis_reductions_are_barriers_in_buffers() {
        let p = plan_of(
            "fn standardize_cols(x: ArrayView2<f64>) -> Array2<f64> { (x - x.mean_axis(Axis(0))) / x.std_axis(Axis(0), 0.0) }",
        );
        assert!(p.contains("3 loops, 3 array allocations"), "{p}");
        assert!(
            p.contains("1. over `x` along axis 0, into a buffer of the other axes: reduces `x.mean_axis(Axis(0))"),
            "{p}"
        );
        assert!(p.contains("3. over `x`: writes the returned array"), "{p}");
    }

    #[test]
    fn softmax_rows_is_three_passes() {
        let p = plan_of(
            "fn softmax_rows(x: ArrayView2<f64>) -> Array2<f64> { let e = (x - x.max_axis(Axis(1)).insert_axis(Axis(1))).exp(); e / e.sum_axis(Axis(1)).insert_axis(Axis(1)) }",
        );
        assert!(p.contains("3 loops"), "{p}");
        assert!(p.contains("2. over `x` along axis 1"), "{p}");
    }

    #[test]
    fn an_epilogue_needs_the_buffers_alone() {
        // Another input, a view of the buffer, a stage, the buffer returned, or a strict
        // kernel: the map stays a pass of its own.
        for src in [
            "fn f(x: ArrayView2<f64>, w: ArrayView1<f64>) -> Array1<f64> { x.sum_axis(Axis(1)) * w }",
            "fn f(x: ArrayView2<f64>) -> Array2<f64> { x.sum_axis(Axis(1)).insert_axis(Axis(1)) * 2.0 }",
            "fn f(x: ArrayView2<f64>) -> Array1<f64> { x.sum_axis(Axis(1)).exp() }",
            "fn f(x: ArrayView2<f64>) -> (Array1<f64>, Array1<f64>) { let s = x.sum_axis(Axis(1)); (s.sqrt(), s) }",
            "fn f(x: ArrayView2<f64>) -> Array1<f64> { x.sum_axis(Axis(1)) / x.sum() }",
        ] {
            let p = plan_of(src);
            assert!(!p.contains("from each result"), "{src}: {p}");
        }
        let p = plan_of("fn f(x: ArrayView2<f64>, a: f64) -> (Array1<f64>, Array1<f64>) { let m = x.max_axis(Axis(0)); (m * a, m.sqrt()) }");
        assert!(p.contains("1 loop, 2 array allocations"), "{p}");
        assert!(p.contains("writes 2 returned arrays from each result as it is done"), "{p}");
    }

    #[test]
    fn row_chains_and_buffer_maps() {
        let p = plan_of(
            "fn n(x: ArrayView2<f64>) -> Array2<f64> { x / (x * x).sum_axis(Axis(1)).sqrt().insert_axis(Axis(1)) }",
        );
        assert!(p.contains("Loops 1-2 run together by blocks along axis 0"), "{p}");
        assert!(p.contains("stores `r.sqrt()` for each result `r`"), "{p}");
        let p = plan_of(
            "fn softmax_rows(x: ArrayView2<f64>) -> Array2<f64> { let e = (x - x.max_axis(Axis(1)).insert_axis(Axis(1))).exp(); e / e.sum_axis(Axis(1)).insert_axis(Axis(1)) }",
        );
        assert!(p.contains("Loops 1-3 run together by blocks along axis 0"), "{p}");
        let p = plan_of(
            "fn s(x: ArrayView2<f64>) -> Array2<f64> { (x - x.mean_axis(Axis(0))) / x.std_axis(Axis(0), 0.0) }",
        );
        assert!(p.contains("Loops 1-3 run together by blocks along axis 1"), "{p}");
        // Every axis reduced, a whole reduction, or a buffer read across its axes: pass by pass.
        for src in [
            "fn s(x: ArrayView2<f64>) -> Array2<f64> { (x - x.mean_axis(Axis(0))) / x.sum_axis(Axis(1)).insert_axis(Axis(1)) }",
            "fn s(x: ArrayView2<f64>) -> (Array2<f64>, f64) { (x - x.mean_axis(Axis(1)).insert_axis(Axis(1)), x.sum()) }",
            "fn s(x: ArrayView2<f64>) -> Array2<f64> { x - x.mean_axis(Axis(1)).insert_axis(Axis(0)) }",
        ] {
            let p = plan_of(src);
            assert!(!p.contains("run together by blocks"), "{src}: {p}");
        }
    }

    #[test]
    fn pairwise_and_matvec() {
        let p = plan_of(
            "fn pd(x: ArrayView2<f64>, y: ArrayView2<f64>) -> Array2<f64> { (x.insert_axis(Axis(1)) - y.insert_axis(Axis(0))).powi(2).sum_axis(Axis(2)).sqrt() }",
        );
        assert!(p.contains("1 loop, 1 array allocation"), "{p}");
        assert!(
            p.contains("1. over `x.insert_axis(Axis(1)), y.insert_axis(Axis(0))` along axis 2: reduces `(x.insert_axis(Axis(1)) - y.insert_axis(Axis(0))).powi(2).sum_axis(Axis(2))`; writes the returned array from each result as it is done"),
            "{p}"
        );
        let p = plan_of("fn mv(a: ArrayView2<f64>, v: ArrayView1<f64>) -> Array1<f64> { a.dot(&v) }");
        assert!(p.contains("1 loop, 1 array allocation"), "{p}");
        assert!(p.contains("1. over `a, v` along axis 1"), "{p}");
    }

    #[test]
    fn a_branch_runs_its_reductions_only_when_taken() {
        let p = plan_of("fn f(x: &[f64], flag: bool) -> f64 { if flag { x.sum() } else { x.max() } }");
        assert!(p.contains("1. only when not `flag`, over `x`: reduces `x.max()`"), "{p}");
        assert!(p.contains("2. only when `flag`, over `x`: reduces `x.sum()`"), "{p}");
        // Needed on both ways into the outer `if`'s first branch: only the outer condition.
        let p = plan_of("fn f(x: &[f64], a: bool, b: bool) -> f64 { if a { if b { x.sum() + x.max() } else { x.max() } } else { x.min() } }");
        assert!(p.contains("only when `a`, over `x`: reduces `x.max()`"), "{p}");
        assert!(p.contains("only when `b` and `a`, over `x`: reduces `x.sum()`"), "{p}");
        // Both branches need it: always.
        let p = plan_of("fn f(x: &[f64], a: bool) -> f64 { if a { x.sum() } else { x.sum() * 2.0 } }");
        assert!(p.contains("1. over `x`: reduces `x.sum()`"), "{p}");
    }

    #[test]
    fn a_branch_reduction_joins_a_loop_that_runs_anyway_unless_it_reads_the_branch() {
        let p = plan_of(
            "fn f(x: &[f64], flag: bool) -> (f64, f64) { let s = if flag { x.sum() } else { 0.0 }; (s, x.max()) }",
        );
        assert!(p.contains("1 loop") && p.contains("1. over `x`: reduces `x.sum()`, `x.max()`"), "{p}");
        let p = plan_of("fn f(x: &[i64], k: i64) -> (i64, i64) { (if k == 0 { 0 } else { let q = 1000 / k; (x / q).max() }, x.min()) }");
        assert!(p.contains("2. only when not `k == 0`, over `x`: reduces `(x / q).max()`"), "{p}");
    }

    #[test]
    fn a_branch_with_a_loop_runs_as_written() {
        let p = plan_of("fn f(x: &[f64], flag: bool) -> f64 { if flag { let mut m = 0.0; for i in 0..x.len() { m = m + x[i]; } m } else { x.min() } }");
        assert!(!p.contains("only when"), "{p}");
    }
}
