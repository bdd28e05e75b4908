//! The N-d pass driver: one pass over every element of a shape, feeding whole reductions
//! and writing elementwise results, built on the 1-D driver ([`crate::pass`]).
//!
//! # The contract
//! - **Bits.** Reductions are bit-identical to [`crate::pass::pass`] over the logical C-order
//!   (row-major) flattening of the shape, i.e. the 1-D kernel over `x.iter()`, whatever the
//!   operands' memory layout: the element of flat index `g` goes to lane `g % 32` of block
//!   `g / 2048`, the blocks combine through the same [`Cascade`], the lanes through the same
//!   tree, and the last `n % 32` flat elements are added in order after it. `update` gets the
//!   flat index (`argmax` is a flat index, as NumPy's). [`pass_strict`]: one accumulator, in
//!   logical C order.
//! - **Fast path.** When every operand is C-contiguous (no broadcast), the pass IS one call of
//!   the 1-D driver over unit-stride rows of `n` elements, which take its slice loop.
//! - **Without reductions** the order is free (`Order::free`): smallest strides innermost,
//!   contiguous axes collapsed, each inner row one call of the 1-D driver (a unit-stride row
//!   takes its slice loop).
//! - **With reductions** and a layout that is not one run in C order (`Order::logical`
//!   after collapsing has more than one loop), the rows along the last loop are fed one after
//!   another into ONE continuing lane/block/cascade state (`Flow`), so the bits equal the
//!   flat 1-D order; each row is split where the flat index crosses a lane group, a block
//!   or the start of the tail.
//! - Stages are evaluated a chunk of at most [`CHUNK`] elements at a time, chunks never
//!   crossing a row (stage results do not depend on the chunking). No allocation.

use super::operand::{NdSinks, NdSources};
use super::order::{for_each_index, Order};
use super::shape::Shape;
use super::view::{is_c_contiguous, Along};
use crate::align::Aligned;
use crate::pass::{combine_lanes, Cascade, Reducers, Sinks, Sources, BLOCK, LANES};
use crate::stage::{Stages, CHUNK};

// Chunks with stages are whole lane groups when aligned on them (see `Flow::feed`).
const _: () = assert!(CHUNK == LANES);

/// Rows shorter than this run the element loop alone ([`pass_staged`]).
const SHORT_ROW: usize = 8;

/// One pass over every element of `shape` (module docs): `sources` are [`crate::nd::NdView`]s
/// already broadcast to `shape` (a tuple, nested past 12 as in [`crate::pass`]), `sinks` a
/// tuple of `&mut NdOut<T>` of that shape, `reducers` as in [`crate::pass::pass`]. Returns the
/// reducers' results.
///
/// ```
/// use loopfuse_runtime::nd::{pass, NdInput, NdOut, Shape};
/// use loopfuse_runtime::reduce::Sum;
/// let a = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
/// let b = ndarray::array![10.0, 20.0];
/// let shape = Shape::new(&[2, 2]);
/// let (a, b) = (&a, &b); // as a kernel's `&Array2<f64>`, `&Array1<f64>` parameters
/// let (x, y) = (NdInput::as_nd(&a), NdInput::as_nd(&b).broadcast_to(shape));
/// let mut out = NdOut::new(shape, false);
/// let (s,) = pass(shape, (x.reversed_axes(), y), (Sum::new(),), (&mut out,), |(x, y)| ((x,), (x + y,)));
/// assert_eq!(s, 10.0);
/// let out: ndarray::Array2<f64> = out.into_array();
/// assert_eq!(out, ndarray::array![[11.0, 23.0], [12.0, 24.0]]);
/// ```
///
/// # Panics
/// If an operand's shape is not `shape` (a bug in the generated code).
#[inline(always)]
pub fn pass<Src: NdSources, R: Reducers, S: NdSinks>(
    shape: Shape,
    sources: Src,
    reducers: R,
    sinks: S,
    mut body: impl FnMut(Src::Items) -> (R::Items, S::Items) + Copy,
) -> R::Outputs {
    pass_staged(shape, sources, (), reducers, sinks, |_| (), move |items, ()| body(items))
}

/// [`pass`] with math stages ([`crate::stage`]), as [`crate::pass::pass_staged`].
///
/// ```
/// use loopfuse_runtime::nd::{pass_staged, NdView, Shape};
/// use loopfuse_runtime::{math, reduce::Sum, stage::stage};
/// let x = [0.0, 1.0, 2.0, 3.0];
/// let v = NdView::from_slice(&x, Shape::new(&[2, 2])).reversed_axes();
/// let (s,) = pass_staged(v.shape(), (v,), stage(math::exp_slice), (Sum::new(),), (), |(x,)| x, |_, e| ((e,), ()));
/// // Flat C order of the transpose: 0, 2, 1, 3 (fewer than 32 elements: added in order).
/// assert_eq!(s, math::exp(0.0) + math::exp(2.0) + math::exp(1.0) + math::exp(3.0));
/// ```
#[inline(always)]
pub fn pass_staged<Src: NdSources, M: Stages, R: Reducers, S: NdSinks>(
    shape: Shape,
    sources: Src,
    mut stages: M,
    reducers: R,
    mut sinks: S,
    mut args: impl FnMut(Src::Items) -> M::Args + Copy,
    mut body: impl FnMut(Src::Items, M::Values) -> (R::Items, S::Items) + Copy,
) -> R::Outputs {
    sources.check(shape);
    sinks.check(shape);
    let n = shape.len();
    if n == 0 {
        sinks.done();
        return reducers.finish(reducers.identity(), 0);
    }
    if all_c(shape, &sources, &sinks) {
        // SAFETY: every operand is C-contiguous with n elements: one unit-stride run each.
        let (rows, sink_rows) = unsafe { (sources.row(&[], &[], Along::Flat, n), sinks.row(&[], &[], Along::Flat, n)) };
        let out = crate::pass::pass_staged(n, rows, stages, reducers, sink_rows, args, body);
        sinks.done();
        return out;
    }
    let order = if R::NONE { Order::free(shape, &sources, &sinks) } else { Order::logical(shape, &sources, &sinks) };
    if order.rank <= 1 {
        // One loop: one call of the 1-D driver along it (in logical order when it reduces).
        let (along, len) = if order.rank == 0 { (Along::Flat, 1) } else { (Along::Axis(order.axes[0]), order.lens[0]) };
        // SAFETY: the row from index 0 of every axis along the one loop covers every element
        // (collapsing: contiguous across the group), or the one element of rank 0.
        let (rows, sink_rows) = unsafe { (sources.row(&[], &[], along, len), sinks.row(&[], &[], along, len)) };
        let out = crate::pass::pass_staged(len, rows, stages, reducers, sink_rows, args, body);
        sinks.done();
        return out;
    }
    let (outer_axes, outer_lens) = order.outer();
    let (inner, len) = (Along::Axis(order.axes[order.rank - 1]), order.lens[order.rank - 1]);
    let mut bufs = Src::Bufs::default();
    let out = if R::NONE && M::NONE && len < SHORT_ROW {
        // Rows of a few elements (a step-2 slice of an (n, 3) array): the element loop
        // alone per row, strided, without the 1-D driver's checks and its two loops (a
        // third of the time at 3 elements).
        for_each_index!(outer_lens, |idx| {
            // SAFETY: as below; the rows are not copied (no `unit_rows`: the strided loop
            // reads a broadcast row where it is).
            let (rows, mut sink_rows) =
                unsafe { (sources.row(outer_axes, idx, inner, len), sinks.row(outer_axes, idx, inner, len)) };
            crate::pass::elements(0, len, &rows, &mut stages, &mut sink_rows, &mut args, &mut body);
            sink_rows.done();
        });
        reducers.finish(reducers.identity(), n)
    } else if R::NONE {
        for_each_index!(outer_lens, |idx| {
            // SAFETY: idx < outer_lens (the odometer), the row runs over the whole inner loop;
            // the rows are used in this iteration only.
            let (rows, sink_rows) = unsafe {
                (sources.unit_rows(outer_axes, idx, inner, len, &mut bufs), sinks.row(outer_axes, idx, inner, len))
            };
            crate::pass::pass_staged(len, rows, &mut stages, &reducers, sink_rows, args, body);
        });
        reducers.finish(reducers.identity(), n)
    } else {
        let mut flow = Flow::new(&reducers, n);
        for_each_index!(outer_lens, |idx| {
            // SAFETY: as above.
            let (rows, sink_rows) = unsafe {
                (sources.unit_rows(outer_axes, idx, inner, len, &mut bufs), sinks.row(outer_axes, idx, inner, len))
            };
            if rows.is_unit_stride() && sink_rows.is_unit_stride() {
                // SAFETY: both are unit-stride, just checked.
                let (rows, sink_rows) = unsafe { (rows.into_flat(), sink_rows.into_flat()) };
                flow.feed(&reducers, len, rows, &mut stages, sink_rows, &mut args, &mut body);
            } else {
                flow.feed(&reducers, len, rows, &mut stages, sink_rows, &mut args, &mut body);
            }
        });
        flow.finish(&reducers, n)
    };
    sinks.done();
    out
}

/// Every operand C-contiguous: the fast path.
#[inline(always)]
pub(crate) fn all_c<Src: NdSources, S: NdSinks>(shape: Shape, sources: &Src, sinks: &S) -> bool {
    let mut c = true;
    sources.visit(&mut |s| c &= is_c_contiguous(shape, s));
    sinks.visit(&mut |s| c &= is_c_contiguous(shape, s));
    c
}

/// The state of the 1-D driver's reduction, continued across rows: the element of flat index
/// `g` goes to lane `g % 32` of its block, as in [`crate::pass`].
pub(crate) struct Flow<R: Reducers> {
    /// The current block's lanes.
    lanes: Aligned<[R::Accs; LANES]>,
    cascade: Cascade<[R::Accs; LANES]>,
    /// The cascade's total once the lane groups are done (for the parallel driver, which
    /// merges the chunks' totals: `nd::par`).
    pub(crate) top: [R::Accs; LANES],
    /// The lanes' total once the lane groups are done, then the tail added to it.
    acc: R::Accs,
    /// The flat index of the next element.
    g: usize,
    /// `n - n % LANES`: where the tail begins.
    groups_end: usize,
}

impl<R: Reducers> Flow<R> {
    /// No element yet, of `n`.
    #[inline(always)]
    pub(crate) fn new(reducers: &R, n: usize) -> Self {
        Self::at(reducers, 0, n - n % LANES, reducers.identity())
    }

    /// The next element has flat index `g` (a multiple of [`BLOCK`], or `groups_end`),
    /// the lane groups end at `groups_end`, and `acc` is the lanes' total if `g` is past
    /// them: a chunk of a parallel pass (`g..groups_end` its lane groups, `top` its value),
    /// or the tail of one, fed onto the chunks' total.
    #[inline(always)]
    pub(crate) fn at(reducers: &R, g: usize, groups_end: usize, acc: R::Accs) -> Self {
        debug_assert!(g.is_multiple_of(BLOCK) || g == groups_end);
        Flow {
            lanes: Aligned([reducers.identity(); LANES]),
            cascade: Cascade::new(),
            top: [reducers.identity(); LANES],
            acc,
            g,
            groups_end,
        }
    }

    /// Feeds the next `len` elements (in flat order) of the pass: `sources` and `sinks` are
    /// one row of them.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(crate) fn feed<Src: Sources, M: Stages, S: Sinks>(
        &mut self,
        reducers: &R,
        len: usize,
        sources: Src,
        stages: &mut M,
        mut sinks: S,
        args: &mut impl FnMut(Src::Items) -> M::Args,
        body: &mut impl FnMut(Src::Items, M::Values) -> (R::Items, S::Items),
    ) {
        assert!(sources.min_len() >= len && sinks.min_len() >= len, "loopfuse: a row shorter than its loop");
        // Row element k has flat index base + k.
        let base = self.g;
        let chunk = if M::NONE { usize::MAX } else { CHUNK };
        // Element k of the row: body, reduce into `$acc`, write; `$lo` is the chunk's start.
        macro_rules! one {
            ($k:expr, $lo:expr, $acc:expr) => {{
                let k = $k;
                // SAFETY: k < len <= min_len of the rows (asserted above); k - lo is below the
                // length of the chunk's run (the chunk holds k).
                let (items, values) = (*body)(unsafe { sources.get(k) }, unsafe { stages.load(k - $lo) });
                reducers.update($acc, items, base + k);
                // SAFETY: as above.
                unsafe { sinks.put(k, values) };
            }};
        }
        let mut i = 0;
        while i < len {
            let g = base + i;
            if g >= self.groups_end {
                // The tail: in order, onto the lanes' total.
                let mut lo = i;
                while lo < len {
                    let hi = lo + (len - lo).min(chunk);
                    fill(stages, &sources, args, lo, hi);
                    for k in lo..hi {
                        one!(k, lo, &mut self.acc);
                    }
                    lo = hi;
                }
                break;
            }
            // The run of this row inside one block and before the tail.
            let block_end = ((g / BLOCK + 1) * BLOCK).min(self.groups_end);
            let end = i + (block_end - g).min(len - i);
            // A local copy: LLVM keeps it in registers across the loop.
            let mut lanes = self.lanes;
            let mut lo = i;
            while lo < end {
                // With stages, a chunk ends at the next lane group: aligned chunks are whole groups.
                let hi = if M::NONE { end } else { lo + (end - lo).min(CHUNK - (base + lo) % LANES) };
                fill(stages, &sources, args, lo, hi);
                let mut k = lo;
                while k < hi && !(base + k).is_multiple_of(LANES) {
                    one!(k, lo, &mut lanes[(base + k) % LANES]);
                    k += 1;
                }
                while k + LANES <= hi {
                    for (j, lane) in lanes.iter_mut().enumerate() {
                        one!(k + j, lo, lane);
                    }
                    k += LANES;
                }
                while k < hi {
                    one!(k, lo, &mut lanes[(base + k) % LANES]);
                    k += 1;
                }
                lo = hi;
            }
            i = end;
            if base + i == block_end {
                let merge_lanes = |l: [R::Accs; LANES], r: [R::Accs; LANES]| {
                    let mut out = l;
                    for j in 0..LANES {
                        out[j] = reducers.merge(l[j], r[j]);
                    }
                    out
                };
                self.cascade.push(lanes.0, merge_lanes);
                lanes = Aligned([reducers.identity(); LANES]);
                if block_end == self.groups_end {
                    self.top = self.cascade.finish([reducers.identity(); LANES], merge_lanes);
                    self.acc = combine_lanes(reducers, &self.top);
                }
            }
            self.lanes = lanes;
        }
        self.g = base + len;
    }

    /// The results over all `n` elements fed.
    #[inline(always)]
    pub(crate) fn finish(self, reducers: &R, n: usize) -> R::Outputs {
        debug_assert_eq!(self.g, n);
        reducers.finish(self.acc, n)
    }
}

/// Evaluates the stages of row elements `lo..hi`, `hi - lo <= CHUNK` (or no stages).
#[inline(always)]
pub(crate) fn fill<Src: Sources, M: Stages>(
    stages: &mut M,
    sources: &Src,
    args: &mut impl FnMut(Src::Items) -> M::Args,
    lo: usize,
    hi: usize,
) {
    if !M::NONE && lo < hi {
        for i in lo..hi {
            // SAFETY: i < hi <= the row's length <= sources.min_len() (the callers); i - lo < CHUNK.
            unsafe { stages.store(i - lo, (*args)(sources.get(i))) };
        }
        // SAFETY: hi - lo <= CHUNK, and 0..hi - lo were just stored.
        unsafe { stages.run(hi - lo) };
    }
}

/// [`pass`] in exact logical C order (`#[kernel(strict)]`): one accumulator per reduction,
/// updated element by element, as [`crate::pass::pass_strict`] over the flattening.
///
/// ```
/// use loopfuse_runtime::nd::{pass_strict, NdView, Shape};
/// use loopfuse_runtime::reduce::Sum;
/// let x = [0.1, 0.2, 0.3, 0.4];
/// let v = NdView::from_slice(&x, Shape::new(&[2, 2])).reversed_axes();
/// let (s,) = pass_strict(v.shape(), (v,), (Sum::new(),), (), |(x,)| ((x,), ()));
/// assert_eq!(s, 0.0 + 0.1 + 0.3 + 0.2 + 0.4);
/// ```
#[inline(always)]
pub fn pass_strict<Src: NdSources, R: Reducers, S: NdSinks>(
    shape: Shape,
    sources: Src,
    reducers: R,
    mut sinks: S,
    mut body: impl FnMut(Src::Items) -> (R::Items, S::Items) + Copy,
) -> R::Outputs {
    sources.check(shape);
    sinks.check(shape);
    let n = shape.len();
    if n == 0 {
        sinks.done();
        return reducers.finish(reducers.identity(), 0);
    }
    if all_c(shape, &sources, &sinks) {
        // SAFETY: every operand is C-contiguous with n elements: one unit-stride run each.
        let (rows, sink_rows) = unsafe { (sources.row(&[], &[], Along::Flat, n), sinks.row(&[], &[], Along::Flat, n)) };
        let out = crate::pass::pass_strict(n, rows, reducers, sink_rows, body);
        sinks.done();
        return out;
    }
    let order = Order::logical(shape, &sources, &sinks);
    let (along, len, outer_axes, outer_lens) = if order.rank == 0 {
        (Along::Flat, 1, &[][..], &[][..])
    } else {
        let (a, l) = order.outer();
        (Along::Axis(order.axes[order.rank - 1]), order.lens[order.rank - 1], a, l)
    };
    let mut acc = reducers.identity();
    let mut g = 0;
    for_each_index!(outer_lens, |idx| {
        // SAFETY: idx < outer_lens; the row covers the inner loop (or everything, C-contiguous).
        let (rows, mut sink_rows) =
            unsafe { (sources.row(outer_axes, idx, along, len), sinks.row(outer_axes, idx, along, len)) };
        for k in 0..len {
            // SAFETY: k < len, the rows' length.
            let (items, values) = body(unsafe { rows.get(k) });
            reducers.update(&mut acc, items, g + k);
            // SAFETY: as above.
            unsafe { sink_rows.put(k, values) };
        }
        g += len;
    });
    sinks.done();
    reducers.finish(acc, n)
}
