//! Axis reductions (`x.sum_axis(Axis(k))`, `mean_axis`, `var_axis`, `argmax` along an axis):
//! for every index of the shape without `axis`, the reducers over the elements along `axis`.
//!
//! # The contract
//! - **Bits.** Each result is bit-identical to [`crate::pass::pass`] over that 1-D sequence
//!   (the elements along `axis`, in order): element `e` of the sequence goes to lane `e % 32`
//!   of block `e / 2048`, the blocks combine through the binary-counter cascade, the lanes
//!   through the fixed tree (`j` with `j + 16`, then `+8` .. `+1`), and the last `len % 32`
//!   elements are added in order. `update` gets `e`, the position along the axis. The
//!   strict variants keep one accumulator per result, updated in order along the axis.
//! - **Two strategies, chosen at run time from the sources' strides, same bits:**
//!   1. *rows*: the reduced axis has the smallest stride (e.g. `sum_axis(Axis(1))` of a C
//!      matrix). For each result, one call of the 1-D driver over the row along `axis` (a
//!      unit-stride row takes its slice loop).
//!   2. *tiles*: the reduced axis is an outer one (`sum_axis(Axis(0))` of a C matrix), and
//!      axis `j` has the smallest stride. The results are computed [`tile`] at a time along
//!      `j`: 32 lane accumulators per result of the tile, and for each step `e` along the
//!      axis one pass over the tile's contiguous row segment (it vectorizes across `j` and
//!      reads memory in order). Blocks of 2048 steps push into a cascade per tile, then the
//!      lane tree and the tail, exactly as above, column by column. Without stages, the
//!      steps `e, e + 32, e + 64, e + 96` (consecutive elements of one lane) are fed in one
//!      loop over the tile, in that order for each accumulator: the same additions, a
//!      quarter of the accumulator loads and stores.
//!   3. *short rows*: the reduced axis has the smallest stride but is shorter than one lane
//!      group (`len < 32`: a 1-D pass adds every element in order onto the identity, a
//!      chain of dependent additions), as in pairwise distances over 16 features. The
//!      results are taken [`GROUP`] at a time along the last result axis, and step `e`
//!      updates the group's accumulators together: independent chains, each the same
//!      additions in the same order. Each group's rows are packed transposed
//!      ([`crate::nd::pack`]: step `e` of the 8 rows is one vector load), and a pack is
//!      reused for every index of the other result axes it does not move along. (The
//!      strict variant, in order at any length, uses this strategy whenever the reduced
//!      axis has the smallest stride; rows of 32 or more are then read where they lie,
//!      not packed.)
//! - The results are written into `outs` (`&mut NdOut` of shape `shape.remove_axis(axis)`,
//!   one per reducer, nested like the reducers), once each. The only allocations are the
//!   tile's accumulators (`32 * tile` for the lanes and as many per cascade level, one level
//!   per bit of `blocks - 1`: none for an axis shorter than 2080 elements) and strategy 3's
//!   packs (per source [`crate::nd::pack::PACK_ELEMS`] elements, or one group of 8 rows when
//!   longer).

use super::operand::{NdSinks, NdSources};
use super::order::for_each_index;
use super::pack::groups_per_block;
use super::pass::fill;
use super::shape::{Shape, MAX_RANK};
use super::view::Along;
use crate::pass::{Reducers, Sinks, Sources, BLOCK, LANES};
use crate::stage::{Stages, CHUNK};

/// The axes other than `axis`, in order (the results' axes), their lengths, and how many.
#[inline(always)]
fn other_axes(shape: Shape, axis: usize) -> ([usize; MAX_RANK], [usize; MAX_RANK], usize) {
    let dims = shape.dims();
    let (mut others, mut lens, mut r) = ([0usize; MAX_RANK], [0usize; MAX_RANK], 0);
    for a in (0..shape.rank()).filter(|&a| a != axis) {
        others[r] = a;
        lens[r] = dims[a];
        r += 1;
    }
    (others, lens, r)
}

/// Strategy 1: evaluates `$reduce` with `$row` bound to the row along `axis` of every
/// result, and writes its value. The results are visited in C order of the reduced shape.
/// (A macro, not a function taking a closure: see `for_each_index!`.)
macro_rules! rows {
    ($shape:expr, $axis:expr, $sources:expr, $outs:expr, |$row:ident| $reduce:expr) => {{
        let (shape, axis, sources, outs): (Shape, usize, _, _) = ($shape, $axis, $sources, $outs);
        let len = shape.dims()[axis];
        let (others, lens, r) = other_axes(shape, axis);
        if r == 0 {
            // A rank-1 shape: one result.
            // SAFETY: the row along the only axis covers it; the result is the one element.
            let ($row, mut out) =
                unsafe { (sources.row(&[], &[], Along::Axis(axis), len), outs.row(&[], &[], Along::Flat, 1)) };
            let v = $reduce;
            // SAFETY: 0 < 1, the out row's length.
            unsafe { out.put(0, v) };
        } else {
            let out_axes: [usize; MAX_RANK] = std::array::from_fn(|k| k);
            let last = lens[r - 1];
            let mut bufs = Default::default();
            for_each_index!(&lens[..r - 1], |idx| {
                // SAFETY: idx < lens (the odometer): a row of `last` results along the last
                // result axis.
                let mut out = unsafe { outs.row(&out_axes[..r - 1], idx, Along::Axis(r - 1), last) };
                let mut full = [0usize; MAX_RANK];
                full[..r - 1].copy_from_slice(idx);
                for k in 0..last {
                    full[r - 1] = k;
                    // SAFETY: every index in bounds; the row runs over the whole reduced axis,
                    // and is used in this iteration only.
                    let $row =
                        unsafe { sources.unit_rows(&others[..r], &full[..r], Along::Axis(axis), len, &mut bufs) };
                    let v = $reduce;
                    // SAFETY: k < last, the out row's length.
                    unsafe { out.put(k, v) };
                }
            });
        }
    }};
}

/// Strategy 2's loops over the results: for every tile of up to `tile` results along `j`
/// (the other axes in C order), `$run` computes them and writes them into `$out` (the
/// tile's `$tw` results), given `$at`: the axes and indices of the tile's row segment (the
/// step along `axis` left for `$run` to set). (A macro: see `for_each_index!`.)
macro_rules! tiles {
    ($shape:expr, $axis:expr, $j:expr, $tile:expr, $outs:expr, |$at:ident, $tw:ident, $out:ident| $run:block) => {{
        let (shape, axis, j, tile, outs): (Shape, usize, usize, usize, _) = ($shape, $axis, $j, $tile, $outs);
        let dims = shape.dims();
        let width = dims[j];
        // The source axes of a segment: the others, then `axis` (index e), then `j` (index j0).
        let mut src_axes = [0usize; MAX_RANK];
        let mut out_axes = [0usize; MAX_RANK];
        let mut lens = [0usize; MAX_RANK];
        let mut r = 0;
        for a in (0..shape.rank()).filter(|&a| a != axis && a != j) {
            src_axes[r] = a;
            out_axes[r] = out_axis(a, axis);
            lens[r] = dims[a];
            r += 1;
        }
        src_axes[r] = axis;
        src_axes[r + 1] = j;
        out_axes[r] = out_axis(j, axis);
        for_each_index!(&lens[..r], |idx| {
            let mut at = RowsAt { axes: src_axes, idx: [0; MAX_RANK], rank: r + 2, j };
            at.idx[..r].copy_from_slice(idx);
            let mut out_idx = [0usize; MAX_RANK];
            out_idx[..r].copy_from_slice(idx);
            let mut j0 = 0;
            while j0 < width {
                let tw = tile.min(width - j0);
                at.idx[r + 1] = j0;
                out_idx[r] = j0;
                // SAFETY: indices in bounds; tw results from j0 along the results' axis j.
                let mut out = unsafe { outs.row(&out_axes[..r + 1], &out_idx[..r + 1], Along::Axis(out_axes[r]), tw) };
                {
                    let ($at, $tw, $out) = (&at, tw, &mut out);
                    $run
                }
                j0 += tw;
            }
        });
    }};
}

/// Bytes of lane accumulators per tile: `32 * tile * size_of::<Accs>()`, L2-sized.
/// Measured on `sum_axis(Axis(0))` of a 1000x1000 f64 C matrix (`examples/nd_axis.rs`,
/// baseline x86-64, time nd / hand loop, best of 20, noisy shared machine): 16 KiB 1.3-2.0,
/// 64 KiB 1.3, 128 KiB 1.3, 256 KiB 0.94-1.04 (the tile then covers the 1000 columns). Small
/// tiles lose because each step reads only `tile` elements of a row: a strip of short
/// segments a page or more apart, which the prefetchers do not follow; a whole row per step
/// reads memory in order. With [`STEPS`] = 8 instead of 4: the same.
const TILE_BYTES: usize = 256 << 10;

/// The number of results computed together by strategy 2, for accumulators of `acc_size`
/// bytes: 1024 for an f64 sum (capped by the length of the tiled axis when used).
///
/// ```
/// use loopfuse_runtime::nd::axis::tile;
/// assert_eq!((tile(4), tile(8), tile(16)), (1024, 1024, 512));
/// ```
#[inline]
pub fn tile(acc_size: usize) -> usize {
    (TILE_BYTES / (LANES * acc_size.max(1))).clamp(8, 1024)
}

/// How an axis reduction runs (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// One 1-D pass per result, along the axis.
    Rows,
    /// Tiles of results along axis `j`, this many at a time.
    Tiles { j: usize, tile: usize },
    /// [`GROUP`] results at a time along the last result axis; [`Strategy::Rows`] where the
    /// order is not the in-order chain (a non-strict pass with `len >= 32`, or stages).
    Short,
}

/// Results whose chains strategy 3 interleaves: 8 dependent additions in flight hide the
/// add latency (4 cycles) at two per cycle.
pub const GROUP: usize = 8;

/// Strategy 2 when some other axis has a smaller stride than the reduced one, in the sources.
pub(crate) fn choose<Src: NdSources>(shape: Shape, axis: usize, sources: &Src, tile: usize) -> Strategy {
    let dims = shape.dims();
    if dims[axis] <= 1 {
        return Strategy::Rows;
    }
    // Per axis, the smallest non-zero |stride| over the sources (broadcast axes say nothing
    // about where memory runs).
    let mut key = [usize::MAX; MAX_RANK];
    sources.visit(&mut |s| {
        for (k, &v) in key.iter_mut().zip(s) {
            if v != 0 {
                *k = (*k).min(v.unsigned_abs());
            }
        }
    });
    let j = (0..shape.rank()).filter(|&a| a != axis && dims[a] > 1).min_by_key(|&a| key[a]);
    match j {
        Some(j) if key[j] < key[axis] => Strategy::Tiles { j, tile },
        // Another axis to group the results along.
        Some(_) => Strategy::Short,
        None => Strategy::Rows,
    }
}

/// For every index of `shape` without `axis` (module docs), the reducers over the elements
/// along `axis`, written into `outs`.
///
/// ```
/// use loopfuse_runtime::nd::{axis_pass, NdInput, NdOut};
/// use loopfuse_runtime::reduce::{ArgMax, Sum};
/// let a = ndarray::array![[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]];
/// let a = &a;
/// let x = NdInput::as_nd(&a);
/// let out_shape = x.shape().remove_axis(0);
/// let (mut s, mut m) = (NdOut::new(out_shape, false), NdOut::new(out_shape, false));
/// axis_pass(x.shape(), 0, (x,), (Sum::new(), ArgMax::new()), (&mut s, &mut m), |(x,)| ((x, x), ()));
/// let (s, m): (ndarray::Array1<f64>, ndarray::Array1<usize>) = (s.into_array(), m.into_array());
/// assert_eq!((s, m), (ndarray::array![5.0, 7.0, 9.0], ndarray::array![1, 0, 1]));
/// ```
///
/// # Panics
/// If `axis` is not below the rank or an operand's shape is wrong (bugs in the generated
/// code: it checked the axis with [`crate::nd::check_axis`]).
#[inline(always)]
pub fn axis_pass<Src: NdSources, R: Reducers, O: NdSinks<Items = R::Outputs>>(
    shape: Shape,
    axis: usize,
    sources: Src,
    reducers: R,
    outs: O,
    mut body: impl FnMut(Src::Items) -> (R::Items, ()) + Copy,
) {
    axis_pass_staged(shape, axis, sources, (), reducers, outs, |_| (), move |items, ()| body(items))
}

/// [`axis_pass`] with math stages ([`crate::stage`]).
///
/// ```
/// use loopfuse_runtime::nd::{axis_pass_staged, NdOut, NdView, Shape};
/// use loopfuse_runtime::{math, reduce::Sum, stage::stage};
/// let x = [0.0, 1.0, 2.0, 3.0];
/// let v = NdView::from_slice(&x, Shape::new(&[2, 2]));
/// let mut s = NdOut::new(Shape::new(&[2]), false);
/// axis_pass_staged(v.shape(), 1, (v,), stage(math::exp_slice), (Sum::new(),), (&mut s,), |(x,)| x, |_, e| ((e,), ()));
/// let s: ndarray::Array1<f64> = s.into_array();
/// assert_eq!(s, ndarray::array![math::exp(0.0) + math::exp(1.0), math::exp(2.0) + math::exp(3.0)]);
/// ```
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn axis_pass_staged<Src: NdSources, M: Stages, R: Reducers, O: NdSinks<Items = R::Outputs>>(
    shape: Shape,
    axis: usize,
    sources: Src,
    stages: M,
    reducers: R,
    outs: O,
    args: impl FnMut(Src::Items) -> M::Args + Copy,
    body: impl FnMut(Src::Items, M::Values) -> (R::Items, ()) + Copy,
) {
    check(shape, axis, &sources, &outs);
    let strategy = choose(shape, axis, &sources, tile(std::mem::size_of::<R::Accs>()));
    drive(shape, axis, strategy, sources, stages, reducers, outs, args, body)
}

/// [`axis_pass_staged`] writing `then(results)` into `outs` instead of the results: an
/// elementwise epilogue, done as each result is (no buffer of the results, no second loop).
///
/// ```
/// use loopfuse_runtime::nd::{axis_pass_then, NdOut, NdView, Shape};
/// use loopfuse_runtime::reduce::Sum;
/// let x = [3.0, 4.0, 6.0, 8.0];
/// let v = NdView::from_slice(&x, Shape::new(&[2, 2]));
/// let mut n = NdOut::new(Shape::new(&[2]), false);
/// axis_pass_then(v.shape(), 1, (v,), (), (Sum::new(),), (&mut n,), |_| (), |(x,), ()| ((x * x,), ()), |(s,): (f64,)| (s.sqrt(),));
/// let n: ndarray::Array1<f64> = n.into_array();
/// assert_eq!(n, ndarray::array![5.0, 10.0]);
/// ```
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn axis_pass_then<Src: NdSources, M: Stages, R: Reducers, O: NdSinks>(
    shape: Shape,
    axis: usize,
    sources: Src,
    stages: M,
    reducers: R,
    outs: O,
    args: impl FnMut(Src::Items) -> M::Args + Copy,
    body: impl FnMut(Src::Items, M::Values) -> (R::Items, ()) + Copy,
    then: impl FnMut(R::Outputs) -> O::Items + Copy,
) {
    axis_pass_staged(shape, axis, sources, stages, reducers, super::operand::Mapped::new(outs, then), args, body)
}

#[inline(always)]
pub(crate) fn check<Src: NdSources, O: NdSinks>(shape: Shape, axis: usize, sources: &Src, outs: &O) {
    assert!(axis < shape.rank(), "loopfuse: axis {axis} of an array of rank {}", shape.rank());
    sources.check(shape);
    outs.check(shape.remove_axis(axis));
}

/// Axis `a` of the shape as an axis of the reduced shape.
#[inline(always)]
pub(crate) fn out_axis(a: usize, axis: usize) -> usize {
    if a < axis {
        a
    } else {
        a - 1
    }
}

/// Both strategies; shapes checked.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn drive<Src: NdSources, M: Stages, R: Reducers, O: NdSinks<Items = R::Outputs>>(
    shape: Shape,
    axis: usize,
    strategy: Strategy,
    sources: Src,
    mut stages: M,
    reducers: R,
    mut outs: O,
    mut args: impl FnMut(Src::Items) -> M::Args + Copy,
    mut body: impl FnMut(Src::Items, M::Values) -> (R::Items, ()) + Copy,
) {
    let dims = shape.dims();
    let len = dims[axis];
    if shape.remove_axis(axis).is_empty() {
        outs.done();
        return;
    }
    match strategy {
        Strategy::Short if M::NONE && (2..LANES).contains(&len) && shape.rank() > 1 => {
            short_rows(shape, axis, &sources, &reducers, &mut outs, |items| {
                // SAFETY: M::NONE: every stage is `()` (or a group of them), whose `load`
                // reads nothing.
                body(items, unsafe { stages.load(0) })
            })
        }
        Strategy::Rows | Strategy::Short => rows!(shape, axis, &sources, &mut outs, |row| {
            crate::pass::pass_staged(len, row, &mut stages, &reducers, (), args, body)
        }),
        Strategy::Tiles { j, tile } => {
            // No more accumulators than results along j.
            let tile = tile.min(dims[j]).max(1);
            let mut t = Tiles::new(&reducers, len, tile);
            tiles!(shape, axis, j, tile, &mut outs, |at, tw, out| {
                t.run(&reducers, len, tw, at, &sources, &mut stages, &mut args, &mut body, out)
            })
        }
    }
    outs.done();
}

/// Strategy 3: every result is `finish` of the identity updated in order along `axis`
/// (`rank > 1`), [`GROUP`] results at a time along the last result axis, each group's rows
/// packed ([`crate::nd::pack`]). The groups are taken a block at a time
/// ([`groups_per_block`]), and within a block every index of the other result axes: a
/// source that does not move along those axes (`y` in pairwise distances) is packed once
/// per block and read for all of them.
#[inline(always)]
fn short_rows<Src: NdSources, R: Reducers, O: NdSinks<Items = R::Outputs>>(
    shape: Shape,
    axis: usize,
    sources: &Src,
    reducers: &R,
    outs: &mut O,
    mut body: impl FnMut(Src::Items) -> (R::Items, ()),
) {
    let len = shape.dims()[axis];
    debug_assert!(len > 1, "the drivers take the short rows only for an axis longer than 1");
    let (others, lens, r) = other_axes(shape, axis);
    let out_axes: [usize; MAX_RANK] = std::array::from_fn(|k| k);
    let last = lens[r - 1];
    let per_block = groups_per_block(len) * GROUP;
    let mut packs = Src::Packs::default();
    let mut b0 = 0;
    while b0 < last {
        let bw = per_block.min(last - b0);
        for_each_index!(&lens[..r - 1], |idx| {
            let mut full = [0usize; MAX_RANK];
            full[..r - 1].copy_from_slice(idx);
            full[r - 1] = b0;
            // SAFETY: idx < lens (the odometer), b0 + bw <= last: the block's results along
            // the last result axis, a row no other block or index writes.
            let out = unsafe { outs.row(&out_axes[..r], &full[..r], Along::Axis(r - 1), bw) };
            // The groups of the block, written through `$out`. (A macro: expanded for a
            // unit-stride row, whose full groups are stored as one vector, and for any row.)
            macro_rules! groups {
                ($out:expr) => {{
                    let mut out = $out;
                    let mut k = 0;
                    while k < bw {
                        let g = GROUP.min(bw - k);
                        full[r - 1] = b0 + k;
                        // SAFETY: every index in bounds (b0 + k < last); the row runs over the
                        // whole reduced axis (len > 1: `drive`), and moved g - 1 steps it is
                        // result b0 + k + g - 1 < last.
                        let rows = unsafe {
                            let first = sources.row(&others[..r], &full[..r], Along::Axis(axis), len);
                            sources.group_rows(&first, others[r - 1], g, k / GROUP, &mut packs)
                        };
                        let accs = chains(reducers, len, &rows, &mut body);
                        // A full group in a loop of constant length: its finishing (a root, a
                        // division) and its stores vectorize.
                        if g == GROUP {
                            for (u, &acc) in accs.iter().enumerate() {
                                // SAFETY: k + u < k + g <= bw, the out row's length.
                                unsafe { out.put(k + u, reducers.finish(acc, len)) };
                            }
                        } else {
                            for (u, &acc) in accs[..g].iter().enumerate() {
                                // SAFETY: as above.
                                unsafe { out.put(k + u, reducers.finish(acc, len)) };
                            }
                        }
                        k += g;
                    }
                }};
            }
            if out.is_unit_stride() {
                // SAFETY: just checked.
                groups!(unsafe { out.into_flat() })
            } else {
                groups!(out)
            }
        });
        b0 += bw;
    }
}

/// Strategy 3 for rows of 32 or more (`strict` only): as [`short_rows`], with each group's
/// rows read where they lie (shifted along the last result axis) instead of packed. Packing
/// a long row costs more than its 8 streams cost to read (2.5-3.8x slower sums of rows of
/// 40 to 4000, `examples/strict_probe.rs`).
#[inline(always)]
fn shifted_rows<Src: NdSources, R: Reducers, O: NdSinks<Items = R::Outputs>>(
    shape: Shape,
    axis: usize,
    sources: &Src,
    reducers: &R,
    outs: &mut O,
    mut body: impl FnMut(Src::Items) -> (R::Items, ()),
) {
    let len = shape.dims()[axis];
    let (others, lens, r) = other_axes(shape, axis);
    let out_axes: [usize; MAX_RANK] = std::array::from_fn(|k| k);
    let last = lens[r - 1];
    for_each_index!(&lens[..r - 1], |idx| {
        // SAFETY: idx < lens (the odometer): a row of `last` results along the last result axis.
        let mut out = unsafe { outs.row(&out_axes[..r - 1], idx, Along::Axis(r - 1), last) };
        let mut full = [0usize; MAX_RANK];
        full[..r - 1].copy_from_slice(idx);
        let mut k0 = 0;
        while k0 < last {
            let g = GROUP.min(last - k0);
            full[r - 1] = k0;
            // SAFETY: every index in bounds (k0 < last); the row runs over the whole reduced axis.
            let first = unsafe { sources.row(&others[..r], &full[..r], Along::Axis(axis), len) };
            // A short group repeats its last row: the same loop, the extra results unused.
            // Written out: a closure (`array::from_fn`'s or a local one) was left out of line.
            macro_rules! at {
                ($u:expr) => {
                    // SAFETY: k0 + u.min(g - 1) < last.
                    unsafe { sources.shift(&first, others[r - 1], ($u as usize).min(g - 1)) }
                };
            }
            let rows: [Src::Rows; GROUP] = [at!(0), at!(1), at!(2), at!(3), at!(4), at!(5), at!(6), at!(7)];
            let accs = if rows[0].is_unit_stride() {
                // SAFETY: the rows of one operand along one axis have the same stride, so all
                // are unit-stride (just checked).
                chains(reducers, len, &rows.map(|row| unsafe { row.into_flat() }), &mut body)
            } else {
                chains(reducers, len, &rows, &mut body)
            };
            for (u, &acc) in accs[..g].iter().enumerate() {
                // SAFETY: k0 + u < last, the out row's length.
                unsafe { out.put(k0 + u, reducers.finish(acc, len)) };
            }
            k0 += g;
        }
    });
}

/// The loop of [`short_rows`]: step `e` of every row, then step `e + 1`.
#[inline(always)]
fn chains<Src: Sources, R: Reducers>(
    reducers: &R,
    len: usize,
    rows: &[Src; GROUP],
    body: &mut impl FnMut(Src::Items) -> (R::Items, ()),
) -> [R::Accs; GROUP] {
    let mut accs = [reducers.identity(); GROUP];
    for e in 0..len {
        for (acc, row) in accs.iter_mut().zip(rows) {
            // SAFETY: e < len, every row's length.
            let (items, ()) = body(unsafe { row.get(e) });
            reducers.update(acc, items, e);
        }
    }
    accs
}

/// Where strategy 2 cuts a tile's row segment: `idx[rank - 2]` is the step along the axis,
/// `idx[rank - 1]` the tile's first index along `j`.
struct RowsAt {
    axes: [usize; MAX_RANK],
    idx: [usize; MAX_RANK],
    rank: usize,
    j: usize,
}

/// Strategy 2's accumulators: 32 lanes per result of the tile, `lanes[lane * tile + t]`, and
/// the cascade's levels, each a copy of the lanes.
struct Tiles<A> {
    lanes: Vec<A>,
    levels: Vec<A>,
    tile: usize,
}

impl<A: Copy> Tiles<A> {
    fn new<R: Reducers<Accs = A>>(reducers: &R, len: usize, tile: usize) -> Self {
        // Every block but the last is pushed: the levels of a binary counter up to blocks - 1.
        let pushed = (len - len % LANES).div_ceil(BLOCK).saturating_sub(1);
        let levels = (usize::BITS - pushed.leading_zeros()) as usize;
        Tiles {
            lanes: vec![reducers.identity(); LANES * tile],
            levels: vec![reducers.identity(); levels * LANES * tile],
            tile,
        }
    }

    /// The `tw` results of one tile (module docs), written into `out`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn run<Src: NdSources, M: Stages, R: Reducers<Accs = A>, S: Sinks<Items = R::Outputs>>(
        &mut self,
        reducers: &R,
        len: usize,
        tw: usize,
        at: &RowsAt,
        sources: &Src,
        stages: &mut M,
        args: &mut impl FnMut(Src::Items) -> M::Args,
        body: &mut impl FnMut(Src::Items, M::Values) -> (R::Items, ()),
        out: &mut S,
    ) {
        let tile = self.tile;
        let groups_end = len - len % LANES;
        let merge_tile = |l: &[A], r: &mut [A]| {
            for (r, &l) in r.iter_mut().zip(l) {
                *r = reducers.merge(l, *r);
            }
        };
        let mut blocks = 0usize;
        let mut start = 0;
        while start < groups_end {
            let end = (start + BLOCK).min(groups_end);
            for lane in 0..LANES {
                self.lanes[lane * tile..lane * tile + tw].fill(reducers.identity());
            }
            // Lane l of the block takes steps start + l, start + l + 32, ..: without stages,
            // STEPS of them at a time (one load and store of the accumulators for STEPS rows,
            // the same additions in the same order); then one at a time.
            let groups = (end - start) / LANES;
            let mut q = 0;
            if M::NONE {
                while q + STEPS <= groups {
                    for lane in 0..LANES {
                        let e = start + q * LANES + lane;
                        let accs = &mut self.lanes[lane * tile..lane * tile + tw];
                        steps(reducers, accs, at, e, sources, stages, body);
                    }
                    q += STEPS;
                }
            }
            while q < groups {
                for lane in 0..LANES {
                    let e = start + q * LANES + lane;
                    step(reducers, &mut self.lanes[lane * tile..lane * tile + tw], at, e, sources, stages, args, body);
                }
                q += 1;
            }
            if end == groups_end {
                // The last block: Cascade::push then Cascade::finish, without storing it.
                // Both merge every occupied level, lowest (latest blocks) first, in front of
                // the total of the later blocks: the carry of the push does it for the low
                // run of set bits, the finish for the others. So the block is the total so
                // far and each occupied level is merged in front of it, in that order.
                let mut bits = blocks;
                while bits != 0 {
                    let k = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let level = &self.levels[k * LANES * tile..(k + 1) * LANES * tile];
                    for lane in 0..LANES {
                        merge_tile(
                            &level[lane * tile..lane * tile + tw],
                            &mut self.lanes[lane * tile..lane * tile + tw],
                        );
                    }
                }
                break;
            }
            // Cascade::push, lane by lane and column by column: level k holds 2^k blocks.
            let mut k = 0;
            while blocks & (1 << k) != 0 {
                let level = &self.levels[k * LANES * tile..(k + 1) * LANES * tile];
                for lane in 0..LANES {
                    merge_tile(&level[lane * tile..lane * tile + tw], &mut self.lanes[lane * tile..lane * tile + tw]);
                }
                k += 1;
            }
            let level = &mut self.levels[k * LANES * tile..(k + 1) * LANES * tile];
            for lane in 0..LANES {
                level[lane * tile..lane * tile + tw].copy_from_slice(&self.lanes[lane * tile..lane * tile + tw]);
            }
            blocks += 1;
            start = end;
        }
        // The column totals, in lane 0 of `lanes`.
        if groups_end == 0 {
            self.lanes[..tw].fill(reducers.identity());
        } else {
            // combine_lanes: lane j with j + 16, then + 8, .. + 1.
            let mut width = LANES / 2;
            while width > 0 {
                for lane in 0..width {
                    let (lo, hi) = self.lanes.split_at_mut((lane + width) * tile);
                    let left = &mut lo[lane * tile..lane * tile + tw];
                    for (l, &r) in left.iter_mut().zip(&hi[..tw]) {
                        *l = reducers.merge(*l, r);
                    }
                }
                width /= 2;
            }
        }
        // The tail, in order, onto the totals.
        for e in groups_end..len {
            step(reducers, &mut self.lanes[..tw], at, e, sources, stages, args, body);
        }
        for (t, &acc) in self.lanes[..tw].iter().enumerate() {
            // SAFETY: t < tw, the out row's length.
            unsafe { out.put(t, reducers.finish(acc, len)) };
        }
    }
}

/// Steps along the axis fed together by [`steps`].
const STEPS: usize = 4;

/// The tile's row segment at step `e` (`e < len`, the callers).
#[inline(always)]
fn segment_row<Src: NdSources>(sources: &Src, at: &RowsAt, e: usize, tw: usize) -> Src::Rows {
    let mut idx = at.idx;
    idx[at.rank - 2] = e;
    // SAFETY: e < len (callers), and the tile's tw indices from j0 along j are in bounds
    // (`tiles`).
    unsafe { sources.row(&at.axes[..at.rank], &idx[..at.rank], Along::Axis(at.j), tw) }
}

/// Step `e` into `accs` (the tile's `tw` accumulators of lane `e % 32`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn step<Src: NdSources, M: Stages, R: Reducers>(
    reducers: &R,
    accs: &mut [R::Accs],
    at: &RowsAt,
    e: usize,
    sources: &Src,
    stages: &mut M,
    args: &mut impl FnMut(Src::Items) -> M::Args,
    body: &mut impl FnMut(Src::Items, M::Values) -> (R::Items, ()),
) {
    let row = segment_row(sources, at, e, accs.len());
    if row.is_unit_stride() {
        // SAFETY: unit stride, just checked.
        segment(reducers, accs, unsafe { row.into_flat() }, e, stages, args, body);
    } else {
        segment(reducers, accs, row, e, stages, args, body);
    }
}

/// Steps `e`, `e + 32`, .. (`STEPS` of them, one lane's consecutive elements) into `accs`,
/// in that order for each accumulator. No stages (`M::NONE`).
#[inline(always)]
fn steps<Src: NdSources, M: Stages, R: Reducers>(
    reducers: &R,
    accs: &mut [R::Accs],
    at: &RowsAt,
    e: usize,
    sources: &Src,
    stages: &M,
    body: &mut impl FnMut(Src::Items, M::Values) -> (R::Items, ()),
) {
    let tw = accs.len();
    let rows: [Src::Rows; STEPS] = std::array::from_fn(|u| segment_row(sources, at, e + u * LANES, tw));
    if rows[0].is_unit_stride() {
        // SAFETY: the rows have the same strides, so all are unit-stride (just checked).
        let rows = rows.map(|r| unsafe { r.into_flat() });
        segments(reducers, accs, &rows, e, stages, body);
    } else {
        segments(reducers, accs, &rows, e, stages, body);
    }
}

/// The loop of [`steps`].
#[inline(always)]
fn segments<Src: Sources, M: Stages, R: Reducers>(
    reducers: &R,
    accs: &mut [R::Accs],
    rows: &[Src; STEPS],
    e: usize,
    stages: &M,
    body: &mut impl FnMut(Src::Items, M::Values) -> (R::Items, ()),
) {
    debug_assert!(M::NONE, "steps are fed together only without stages");
    for (t, acc) in accs.iter_mut().enumerate() {
        let mut a = *acc;
        for (u, row) in rows.iter().enumerate() {
            // SAFETY: t < tw, every row's length. M::NONE: every stage is `()` (or a group of
            // them), whose `load` reads nothing.
            let (items, ()) = (*body)(unsafe { row.get(t) }, unsafe { stages.load(0) });
            reducers.update(&mut a, items, e + u * LANES);
        }
        *acc = a;
    }
}

/// One step along the axis: element `t` of the segment into `accs[t]`, index `e`.
#[inline(always)]
fn segment<Src: Sources, M: Stages, R: Reducers>(
    reducers: &R,
    accs: &mut [R::Accs],
    row: Src,
    e: usize,
    stages: &mut M,
    args: &mut impl FnMut(Src::Items) -> M::Args,
    body: &mut impl FnMut(Src::Items, M::Values) -> (R::Items, ()),
) {
    let tw = accs.len();
    let chunk = if M::NONE { tw } else { CHUNK };
    let mut lo = 0;
    while lo < tw {
        let hi = lo + (tw - lo).min(chunk);
        fill(stages, &row, args, lo, hi);
        for (off, acc) in accs[lo..hi].iter_mut().enumerate() {
            let t = lo + off;
            // SAFETY: t < tw, the row's length; t - lo is below the chunk's length.
            let (items, ()) = (*body)(unsafe { row.get(t) }, unsafe { stages.load(t - lo) });
            reducers.update(acc, items, e);
        }
        lo = hi;
    }
}

/// [`axis_pass`] in exact order (`#[kernel(strict)]`): one accumulator per result, updated
/// in order along the axis, as [`crate::pass::pass_strict`] over each sequence.
///
/// ```
/// use loopfuse_runtime::nd::{axis_pass_strict, NdOut, NdView, Shape};
/// use loopfuse_runtime::reduce::Sum;
/// let x = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
/// let v = NdView::from_slice(&x, Shape::new(&[3, 2]));
/// let mut s = NdOut::new(Shape::new(&[2]), false);
/// axis_pass_strict(v.shape(), 0, (v,), (Sum::new(),), (&mut s,), |(x,)| ((x,), ()));
/// let s: ndarray::Array1<f64> = s.into_array();
/// assert_eq!(s, ndarray::array![0.0 + 0.1 + 0.3 + 0.5, 0.0 + 0.2 + 0.4 + 0.6]);
/// ```
#[inline(always)]
pub fn axis_pass_strict<Src: NdSources, R: Reducers, O: NdSinks<Items = R::Outputs>>(
    shape: Shape,
    axis: usize,
    sources: Src,
    reducers: R,
    outs: O,
    body: impl FnMut(Src::Items) -> (R::Items, ()) + Copy,
) {
    check(shape, axis, &sources, &outs);
    let strategy = choose(shape, axis, &sources, tile(std::mem::size_of::<R::Accs>()));
    drive_strict(shape, axis, strategy, sources, reducers, outs, body)
}

/// Both strategies of [`axis_pass_strict`]; shapes checked.
#[inline(always)]
pub(crate) fn drive_strict<Src: NdSources, R: Reducers, O: NdSinks<Items = R::Outputs>>(
    shape: Shape,
    axis: usize,
    strategy: Strategy,
    sources: Src,
    reducers: R,
    mut outs: O,
    mut body: impl FnMut(Src::Items) -> (R::Items, ()) + Copy,
) {
    let len = shape.dims()[axis];
    if shape.remove_axis(axis).is_empty() {
        outs.done();
        return;
    }
    match strategy {
        // Packing pays for short rows only: a long row's 8 streams prefetch on their own.
        Strategy::Short if shape.rank() > 1 && (2..LANES).contains(&len) => {
            short_rows(shape, axis, &sources, &reducers, &mut outs, body)
        }
        Strategy::Short if shape.rank() > 1 && len > 1 => {
            shifted_rows(shape, axis, &sources, &reducers, &mut outs, body)
        }
        Strategy::Rows | Strategy::Short => {
            rows!(shape, axis, &sources, &mut outs, |row| crate::pass::pass_strict(len, row, &reducers, (), body))
        }
        Strategy::Tiles { j, tile } => {
            let tile = tile.min(shape.dims()[j]).max(1);
            let mut accs = vec![reducers.identity(); tile];
            tiles!(shape, axis, j, tile, &mut outs, |at, tw, out| {
                accs[..tw].fill(reducers.identity());
                let mut at_e = at.idx;
                for e in 0..len {
                    at_e[at.rank - 2] = e;
                    // SAFETY: e < len and the tile's indices are in bounds.
                    let row = unsafe { sources.row(&at.axes[..at.rank], &at_e[..at.rank], Along::Axis(at.j), tw) };
                    for (t, acc) in accs[..tw].iter_mut().enumerate() {
                        // SAFETY: t < tw, the row's length.
                        let (items, ()) = body(unsafe { row.get(t) });
                        reducers.update(acc, items, e);
                    }
                }
                for (t, &acc) in accs[..tw].iter().enumerate() {
                    // SAFETY: t < tw, the out row's length.
                    unsafe { out.put(t, reducers.finish(acc, len)) };
                }
            })
        }
    }
    outs.done();
}
