//! The N-d drivers of `#[kernel(parallel)]`: an N-d pass, an axis reduction or a chain of
//! passes split into chunks along one axis and run on rayon's pool, with the same bits as
//! the serial drivers ([`super::pass`], [`super::axis`], [`super::block`]) for every thread
//! count.
//!
//! # The split (the determinism contract, continued)
//! - Below [`THRESHOLD`] elements (the pass's whole shape), or on a pool of one thread,
//!   each driver is the serial one: no pool is touched.
//! - **Elementwise passes** (no reduction): every element is independent, so the shape is
//!   cut along its outermost axis in memory (the first loop of the free order, before
//!   collapsing: each chunk is a run of whole outer rows) into chunks of whole indices,
//!   each run by the serial driver over its block of the shape ([`NdView::cut`],
//!   [`Shape::block`]). Any cut gives the same elements.
//! - **Axis reductions**: each result depends only on the elements along the reduced axis,
//!   so the shape is cut along another axis (the outermost in memory of the others) and
//!   each chunk runs the serial axis driver over its block, writing its block of results.
//!   Every strategy of the serial driver gives the bits of the 1-D pass over each sequence
//!   (`super::axis`), so the chunk's choice does not matter. An axis reduction of a 1-D
//!   array (one result) runs serially.
//! - **Whole reductions** follow the flat C order of the shape (`super::pass`): the lane
//!   groups `0..n - n % 32` are cut, as in the 1-D driver ([`crate::par`]), into chunks of
//!   `2^k` whole blocks of the flat index, whatever rows they start or end in; each chunk
//!   feeds its rows (the first and last maybe partial) into its own lane/block/cascade
//!   state, the chunks' cascade values are merged in chunk order onto one cascade, and the
//!   lane tree and the tail (the last `n % 32` flat elements, in order) run on the calling
//!   thread: the serial tree.
//! - **Chains** ([`chain`]): the block axis is cut into chunks of whole blocks, and each
//!   chunk runs the chain's block loop over its range into its own
//!   [`NdOutPart`] of each output. Blocks compute the same bits as the whole shape
//!   (`super::block`), so any cut does. Where the axis is not the outermost in memory the
//!   serial chain is one block, and so is the parallel one: on the calling thread (strips of
//!   short row segments measured 3.5x slower than serial).
//! - Outputs: chunks write disjoint blocks of each output (their own indices of the split
//!   axis), no lock, no atomic on data; an in-place output is read by a chunk only at the
//!   elements it writes. A fresh output is allocated untouched, so its pages are first
//!   touched by the thread that writes them.
//! - Each chunk runs inside the kernel's level ([`Enter`]), a panic in a chunk reaches the
//!   caller with its own payload (rayon resumes it).

use super::axis::{check, out_axis, GROUP};
use super::block::{cut_offset, NdOutPart};
use super::operand::{sealed::Sealed, Mapped, NdSink, NdSinks, NdSource, NdSources};
use super::order::Order;
use super::out::{NdOut, RowMut};
use super::pass::{all_c, Flow};
use super::shape::{Shape, MAX_RANK};
use super::view::{offset, Along, NdView};
use super::NdViewMut;
use crate::par::{chunk_blocks, Enter, Work, CHUNKS_PER_THREAD, MIN_CHUNK_BLOCKS, THRESHOLD};
use crate::pass::{combine_lanes, merge_lanes, Cascade, Current, Reducers, Sinks, Sources, BLOCK, LANES};
use crate::stage::Stages;
use rayon::prelude::*;

/// Fewest elements per chunk (as the 1-D driver's smallest chunk: 16 Ki).
const MIN_CHUNK: usize = MIN_CHUNK_BLOCKS * BLOCK;

/// Indices per chunk of an axis of `len` indices, `per` elements each, on `threads`.
fn chunk_len(len: usize, per: usize, threads: usize) -> usize {
    let by_count = len.div_ceil(CHUNKS_PER_THREAD * threads);
    let by_size = MIN_CHUNK.div_ceil(per.max(1));
    by_count.max(by_size).clamp(1, len.max(1))
}

/// Whether a pass over `n` elements runs serially: below the threshold, or one thread.
fn serial(n: usize) -> bool {
    n < THRESHOLD || rayon::current_num_threads() == 1
}

// ---- operands shared by the chunks --------------------------------------------------------

/// An operand part that can be cut to indices `i0..i1` of an axis.
pub trait Cut: Sized {
    /// Indices `i0..i1` of `axis` (`i0 <= i1 <= ` the axis's length).
    fn cut(self, axis: usize, i0: usize, i1: usize) -> Self;
}

/// The sources of an N-d pass as every chunk reads them: `Copy`, shared between threads,
/// cut to each chunk's block.
pub trait ParNdSources: NdSources {
    /// The shared form.
    type Part: NdSources<Items = Self::Items> + Cut + Copy + Send + Sync;
    /// The shared form, valid while `self` is.
    fn part(self) -> Self::Part;
}

/// The outputs of an N-d pass as every chunk writes them (each its own block); `done` is
/// still called on the outputs themselves, once, after every chunk.
pub trait ParNdSinks: NdSinks {
    /// The shared form.
    type Part: NdSinks<Items = Self::Items> + Cut + Copy + Send + Sync;
    /// The shared form, valid while `self` is.
    fn part(&mut self) -> Self::Part;
}

/// An N-d output (fresh, or written in place) as raw parts: a pointer, a shape and
/// strides, written (and, as [`CurrentPart`], read) by the chunks of one pass, each at its
/// own elements.
pub struct RawNd<T> {
    ptr: *mut T,
    shape: Shape,
    strides: [isize; MAX_RANK],
}

/// The current elements of an in-place output ([`Current`]) as every chunk reads them,
/// each the elements it writes.
pub struct CurrentPart<T>(RawNd<T>);

impl<T> Clone for RawNd<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for RawNd<T> {}
impl<T> Clone for CurrentPart<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for CurrentPart<T> {}

// SAFETY: made only by `ParNdSinks::part`/`ParNdSources::part` from an output the pass
// borrows uniquely for its whole run, and used only by that pass's chunks, which write
// disjoint blocks and read an in-place output only at the elements they write: no element
// is accessed from two threads. Values of `T` move between threads, hence `T: Send`.
unsafe impl<T: Send> Send for RawNd<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for RawNd<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for CurrentPart<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for CurrentPart<T> {}

impl<T> RawNd<T> {
    #[inline(always)]
    fn new(ptr: *mut T, shape: Shape, strides: &[isize]) -> Self {
        let mut s = [0; MAX_RANK];
        s[..strides.len()].copy_from_slice(strides);
        RawNd { ptr, shape, strides: s }
    }

    /// As `NdViewMut::row`.
    ///
    /// # Safety
    /// As `NdView::row`, for the raw parts' shape.
    #[inline(always)]
    unsafe fn row(&self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> RowMut<T> {
        let stride = match along {
            Along::Flat => 1,
            Along::Axis(a) => self.strides[a],
        };
        if len == 0 {
            return RowMut::new(self.ptr, 0, stride);
        }
        // SAFETY: len > 0 and the indices are in bounds (caller): the offset of an element
        // of the output.
        RowMut::new(unsafe { self.ptr.offset(offset(&self.strides, axes, idx)) }, len, stride)
    }
}

impl<T> Cut for RawNd<T> {
    #[inline(always)]
    fn cut(self, axis: usize, i0: usize, i1: usize) -> Self {
        let shape = self.shape.block(axis, i0, i1);
        let off = cut_offset(self.shape, &self.strides, axis, i0, i1);
        // SAFETY: `off` is the offset of an element of the output when non-zero
        // (`cut_offset`), and the block's elements are elements of the output.
        RawNd { ptr: unsafe { self.ptr.offset(off) }, shape, ..self }
    }
}

impl<T> Cut for CurrentPart<T> {
    #[inline(always)]
    fn cut(self, axis: usize, i0: usize, i1: usize) -> Self {
        CurrentPart(self.0.cut(axis, i0, i1))
    }
}

impl<T: Copy> Cut for NdView<'_, T> {
    #[inline(always)]
    fn cut(self, axis: usize, i0: usize, i1: usize) -> Self {
        NdView::cut(self, axis, i0, i1)
    }
}

impl Cut for () {
    #[inline(always)]
    fn cut(self, _: usize, _: usize, _: usize) {}
}

impl<O: Cut, F, I> Cut for Mapped<O, F, I> {
    #[inline(always)]
    fn cut(self, axis: usize, i0: usize, i1: usize) -> Self {
        Mapped { outs: self.outs.cut(axis, i0, i1), ..self }
    }
}

impl<O: Copy, F: Copy, I> Clone for Mapped<O, F, I> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<O: Copy, F: Copy, I> Copy for Mapped<O, F, I> {}

#[cold]
#[inline(never)]
#[track_caller]
fn shape_fail(got: Shape, want: Shape) -> ! {
    panic!("loopfuse: an output of shape {got} in a pass over shape {want}")
}

impl<T> Sealed for RawNd<T> {}

impl<T: Copy> NdSink for RawNd<T> {
    type Item = T;
    type Row = RowMut<T>;
    #[inline]
    fn check(&self, shape: Shape) {
        if self.shape != shape {
            shape_fail(self.shape, shape)
        }
    }
    #[inline(always)]
    fn visit(&self, f: &mut impl FnMut(&[isize])) {
        f(&self.strides[..self.shape.rank()])
    }
    #[inline(always)]
    unsafe fn row(&mut self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> RowMut<T> {
        // SAFETY: forwarded contract.
        unsafe { RawNd::row(self, axes, idx, along, len) }
    }
    /// The outputs themselves are marked written, once, after every chunk.
    #[inline]
    fn done(&mut self) {}
}

impl<T> Sealed for CurrentPart<T> {}

impl<T: Copy> NdSource for CurrentPart<T> {
    type Item = T;
    type Row = RowMut<T>;
    #[inline]
    fn check(&self, shape: Shape) {
        if self.0.shape != shape {
            shape_fail(self.0.shape, shape)
        }
    }
    #[inline(always)]
    fn visit(&self, f: &mut impl FnMut(&[isize])) {
        f(&self.0.strides[..self.0.shape.rank()])
    }
    #[inline(always)]
    unsafe fn row(&self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> RowMut<T> {
        // SAFETY: forwarded contract.
        unsafe { self.0.row(axes, idx, along, len) }
    }
    #[inline(always)]
    unsafe fn shift(&self, row: &RowMut<T>, axis: usize, by: usize) -> RowMut<T> {
        // SAFETY: forwarded contract: the moved row is in the output (read only: a source).
        unsafe { row.moved(by as isize * self.0.strides[axis]) }
    }
    type Buf = ();
    #[inline(always)]
    unsafe fn unit_row(&self, axes: &[usize], idx: &[usize], along: Along, len: usize, _: &mut ()) -> RowMut<T> {
        // SAFETY: forwarded contract (an output never has stride 0 on a longer axis).
        unsafe { self.0.row(axes, idx, along, len) }
    }
    type Pack = ();
    #[inline(always)]
    unsafe fn group_rows(&self, row: &RowMut<T>, axis: usize, g: usize, _: usize, _: &mut ()) -> [RowMut<T>; GROUP] {
        // Not packed: the pass writes this output, so no pack of it may be reused.
        super::operand::shifted_group!(self, row, axis, g)
    }
}

impl<I, O: ParNdSinks, F: FnMut(I) -> O::Items + Copy + Send + Sync> ParNdSinks for Mapped<O, F, I> {
    type Part = Mapped<O::Part, F, I>;
    #[inline(always)]
    fn part(&mut self) -> Self::Part {
        Mapped { outs: self.outs.part(), f: self.f, item: std::marker::PhantomData }
    }
}

impl ParNdSources for () {
    type Part = ();
    #[inline(always)]
    fn part(self) {}
}

impl ParNdSinks for () {
    type Part = ();
    #[inline(always)]
    fn part(&mut self) {}
}

/// One source of a pass (or a group of them, nesting past 12 as in [`crate::pass`]) as
/// every chunk reads it.
pub trait ParNdSource: NdSource {
    /// The shared form.
    type Part: NdSource<Item = Self::Item> + Cut + Copy + Send + Sync;
    /// See [`ParNdSources::part`].
    fn part(self) -> Self::Part;
}

/// One output of a pass (or a group of them) as every chunk writes it.
pub trait ParNdSink: NdSink {
    /// The shared form.
    type Part: NdSink<Item = Self::Item> + Cut + Copy + Send + Sync;
    /// See [`ParNdSinks::part`].
    fn part(&mut self) -> Self::Part;
}

impl<T: Copy + Sync> ParNdSource for NdView<'_, T> {
    type Part = Self;
    #[inline(always)]
    fn part(self) -> Self {
        self
    }
}

impl<T: Copy + Send> ParNdSource for Current<&NdViewMut<'_, T>> {
    type Part = CurrentPart<T>;
    #[inline(always)]
    fn part(self) -> CurrentPart<T> {
        CurrentPart(RawNd::new(self.0.ptr(), self.0.shape(), self.0.strides()))
    }
}

impl<T: Copy + Send> ParNdSink for &mut NdOut<T> {
    type Part = RawNd<T>;
    #[inline(always)]
    fn part(&mut self) -> RawNd<T> {
        let (shape, strides) = (self.shape(), *self.strides_array());
        RawNd { ptr: self.base_mut(), shape, strides }
    }
}

impl<T: Copy + Send> ParNdSink for &NdViewMut<'_, T> {
    type Part = RawNd<T>;
    #[inline(always)]
    fn part(&mut self) -> RawNd<T> {
        RawNd::new(self.ptr(), self.shape(), self.strides())
    }
}

macro_rules! tuples {
    ($( ($($T:ident $i:tt),*) )*) => {$(
        impl<$($T: Cut),*> Cut for ($($T,)*) {
            #[inline(always)]
            fn cut(self, axis: usize, i0: usize, i1: usize) -> Self { ($(self.$i.cut(axis, i0, i1),)*) }
        }
        impl<$($T: ParNdSource),*> ParNdSource for ($($T,)*) {
            type Part = ($($T::Part,)*);
            #[inline(always)]
            fn part(self) -> Self::Part { ($(self.$i.part(),)*) }
        }
        impl<$($T: ParNdSource),*> ParNdSources for ($($T,)*) {
            type Part = ($($T::Part,)*);
            #[inline(always)]
            fn part(self) -> Self::Part { ($(self.$i.part(),)*) }
        }
        impl<$($T: ParNdSink),*> ParNdSink for ($($T,)*) {
            type Part = ($($T::Part,)*);
            #[inline(always)]
            fn part(&mut self) -> Self::Part { ($(self.$i.part(),)*) }
        }
        impl<$($T: ParNdSink),*> ParNdSinks for ($($T,)*) {
            type Part = ($($T::Part,)*);
            #[inline(always)]
            fn part(&mut self) -> Self::Part { ($(self.$i.part(),)*) }
        }
        impl<$($T: ChainOut),*> ChainOut for ($($T,)*) {
            type Part = ($($T::Part,)*);
            #[inline(always)]
            unsafe fn part(&mut self, start: usize, end: usize) -> Self::Part {
                // SAFETY: forwarded contract, for every output.
                ($(unsafe { self.$i.part(start, end) },)*)
            }
            #[inline(always)]
            fn is_complete(part: &Self::Part) -> bool { true $(&& $T::is_complete(&part.$i))* }
            #[inline(always)]
            fn finish(&mut self, n: usize) { $(self.$i.finish(n);)* }
        }
    )*};
}

tuples! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11)
}

// ---- chains ---------------------------------------------------------------------------------

/// The outputs of a chain ([`chain`]): `&mut NdOut`s (fresh results and reduction buffers)
/// or tuples of them, each cut into one [`NdOutPart`] per chunk.
pub trait ChainOut {
    /// One chunk's parts of the outputs.
    type Part: Send;
    /// Indices `start..end` of the chain's axis of every output.
    ///
    /// # Safety
    /// The ranges of the parts made from one output are disjoint, and the parts are dropped
    /// before the outputs are used again.
    unsafe fn part(&mut self, start: usize, end: usize) -> Self::Part;
    /// Whether the chunk's blocks covered its range, in every output.
    fn is_complete(part: &Self::Part) -> bool;
    /// After every chunk: the blocks written cover `0..n` of every output's axis.
    fn finish(&mut self, n: usize);
}

impl<'o, T: Copy + Send> ChainOut for &'o mut NdOut<T> {
    type Part = NdOutPart<'o, T>;
    #[inline(always)]
    unsafe fn part(&mut self, start: usize, end: usize) -> NdOutPart<'o, T> {
        // SAFETY: forwarded contract; `self` borrows the output for 'o.
        unsafe { NdOut::part(self, start, end) }
    }
    #[inline(always)]
    fn is_complete(part: &NdOutPart<'o, T>) -> bool {
        part.is_complete()
    }
    #[inline(always)]
    fn finish(&mut self, n: usize) {
        self.set_rows_done(n);
    }
}

/// A chain of passes (`super::block`) on rayon's pool: `f(c0, c1, parts)` runs the chain's
/// block loop over indices `c0..c1` of `axis` (blocks of `block` indices, the last maybe
/// shorter), writing and reading its outputs through `parts`, that range of each. Chunks
/// are whole blocks; where `block` is the whole axis, or below the threshold, one call over
/// the whole axis on the calling thread.
///
/// ```
/// use loopfuse_runtime::level::{Generic, Level};
/// use loopfuse_runtime::nd::{self, NdOut, NdView, Shape};
/// use loopfuse_runtime::reduce::Sum;
/// let x: Vec<f64> = (0..400_000).map(|i| (i % 13) as f64).collect();
/// let shape = Shape::new(&[400, 1000]);
/// let v = NdView::from_slice(&x, shape);
/// let mut sums = NdOut::<f64>::new(Shape::new(&[400]), false);
/// let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
/// pool.install(|| {
///     nd::par::chain(Generic::try_new().unwrap(), shape, 0, 32, (&mut sums,), |c0, c1, (s,)| {
///         let mut i0 = c0;
///         while i0 < c1 {
///             let i1 = (i0 + 32).min(c1);
///             let b = shape.block(0, i0, i1);
///             nd::axis_pass(b, 1, (v.cut(0, i0, i1),), (Sum::new(),), (&mut s.block(0, i0, i1),), |(x,)| ((x,), ()));
///             i0 = i1;
///         }
///     })
/// });
/// sums.finish_blocks(0);
/// let sums: ndarray::Array1<f64> = sums.into_array();
/// assert_eq!(sums[7], x[7000..8000].iter().sum::<f64>());
/// ```
#[inline(always)]
pub fn chain<L, O, F>(level: L, shape: Shape, axis: usize, block: usize, mut outs: O, f: F)
where
    L: Enter + Sync,
    O: ChainOut,
    F: Fn(usize, usize, &mut O::Part) + Sync,
{
    let (n, len) = (shape.len(), shape.dims()[axis]);
    // One block is what the serial chain keeps where `axis` is not the outermost in memory
    // (`nd::block_len`): cutting it there makes strips of short row segments, which measured
    // 3.5x slower than the serial chain (standardize_cols of a C matrix), so it stays whole.
    let rows = if serial(n) || block >= len {
        len
    } else {
        // Whole blocks: the serial chain's blocks, several to a chunk.
        chunk_len(len, n / len.max(1), rayon::current_num_threads()).div_ceil(block) * block
    };
    if rows >= len {
        // SAFETY: one part, of the whole axis, dropped before `outs` is used again.
        let mut part = unsafe { outs.part(0, len) };
        f(0, len, &mut part);
        assert!(O::is_complete(&part), "loopfuse: a chain's blocks do not cover its axis");
    } else {
        let bounds = (0..len.div_ceil(rows)).map(|c| (c * rows, (c * rows + rows).min(len)));
        // SAFETY: the chunks' ranges are disjoint; every part is dropped in the loop below.
        let parts: Vec<(usize, usize, O::Part)> =
            bounds.map(|(c0, c1)| (c0, c1, unsafe { outs.part(c0, c1) })).collect();
        let complete = parts
            .into_par_iter()
            .map(|(c0, c1, part)| O::is_complete(&level.enter(ChainChunk { c0, c1, part, f: &f })))
            .collect::<Vec<bool>>();
        assert!(complete.iter().all(|&c| c), "loopfuse: a chain's blocks do not cover its axis");
    }
    outs.finish(len);
}

/// One chunk of a chain: indices `c0..c1`, with its parts.
struct ChainChunk<'f, P, F> {
    c0: usize,
    c1: usize,
    part: P,
    f: &'f F,
}

impl<P, F: Fn(usize, usize, &mut P)> Work for ChainChunk<'_, P, F> {
    type Output = P;
    #[inline(always)]
    fn run(self) -> P {
        let mut part = self.part;
        (self.f)(self.c0, self.c1, &mut part);
        part
    }
}

// ---- passes and axis reductions ---------------------------------------------------------------

/// [`super::pass`] on rayon's pool (the elementwise passes of a `strict` kernel: without a
/// reduction the order does not matter), as [`pass_staged`].
#[inline(always)]
pub fn pass<L, Src, R, S, B>(level: L, shape: Shape, sources: Src, reducers: R, sinks: S, body: B) -> R::Outputs
where
    L: Enter + Sync,
    Src: ParNdSources,
    R: Reducers + Sync,
    R::Accs: Send,
    S: ParNdSinks,
    B: Fn(Src::Items) -> (R::Items, S::Items) + Copy + Sync,
{
    pass_staged(level, shape, sources, (), reducers, sinks, |_| (), move |items, ()| body(items))
}

/// [`super::pass_staged`] on rayon's pool, with the same result and outputs for every
/// thread count (module docs); `level` is the clone's token.
///
/// ```
/// use loopfuse_runtime::level::{Generic, Level};
/// use loopfuse_runtime::nd::{self, NdOut, NdView, Shape};
/// use loopfuse_runtime::reduce::Sum;
/// let x: Vec<f64> = (0..300_000).map(|i| (i % 7) as f64 * 0.1).collect();
/// let v = NdView::from_slice(&x, Shape::new(&[600, 500])).reversed_axes();
/// let g = Generic::try_new().unwrap();
/// let (serial,) = nd::pass(v.shape(), (v,), (Sum::new(),), (), |(x,)| ((x * x,), ()));
/// let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
/// let mut y = NdOut::new(v.shape(), true);
/// let (par,) = pool.install(|| {
///     nd::par::pass_staged(g, v.shape(), (v,), (), (Sum::new(),), (&mut y,), |_| (), |(x,), ()| ((x * x,), (x + 1.0,)))
/// });
/// assert_eq!(serial.to_bits(), par.to_bits());
/// let y: ndarray::Array2<f64> = y.into_array();
/// assert_eq!(y[[3, 2]], x[2 * 500 + 3] + 1.0);
/// ```
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn pass_staged<L, Src, M, R, S, A, B>(
    level: L,
    shape: Shape,
    sources: Src,
    stages: M,
    reducers: R,
    mut sinks: S,
    args: A,
    body: B,
) -> R::Outputs
where
    L: Enter + Sync,
    Src: ParNdSources,
    M: Stages + Clone + Sync,
    R: Reducers + Sync,
    R::Accs: Send,
    S: ParNdSinks,
    A: Fn(Src::Items) -> M::Args + Copy + Sync,
    B: Fn(Src::Items, M::Values) -> (R::Items, S::Items) + Copy + Sync,
{
    sources.check(shape);
    sinks.check(shape);
    let n = shape.len();
    // The serial driver runs over the shared forms too: one instantiation of it, for the
    // chunks and for the whole pass (the macro's output builds in half the time).
    let (src, snk) = (sources.part(), sinks.part());
    if serial(n) {
        let out = super::pass_staged(shape, src, stages, &reducers, snk, args, body);
        sinks.done();
        return out;
    }
    let threads = rayon::current_num_threads();
    let out = if R::NONE {
        let axis = Order::outermost(shape, &src, &snk, None).expect("n > 1: an axis longer than 1");
        let len = shape.dims()[axis];
        let rows = chunk_len(len, n / len, threads);
        let (stages, reducers) = (&stages, &reducers);
        (0..len.div_ceil(rows)).into_par_iter().for_each(|c| {
            let (i0, i1) = (c * rows, (c * rows + rows).min(len));
            let (src, sinks, shape) = (src.cut(axis, i0, i1), snk.cut(axis, i0, i1), shape.block(axis, i0, i1));
            level.enter(Block { shape, src, sinks, stages, reducers, args, body });
        });
        reducers.finish(reducers.identity(), n)
    } else {
        flat(level, threads, shape, src, &stages, &reducers, snk, args, body)
    };
    sinks.done();
    out
}

/// One chunk of an elementwise pass: the serial driver over its block.
struct Block<'p, Src, S, M, R, A, B> {
    shape: Shape,
    src: Src,
    sinks: S,
    stages: &'p M,
    reducers: &'p R,
    args: A,
    body: B,
}

impl<Src, S, M, R, A, B> Work for Block<'_, Src, S, M, R, A, B>
where
    Src: NdSources,
    S: NdSinks,
    M: Stages + Clone,
    R: Reducers,
    A: Fn(Src::Items) -> M::Args + Copy,
    B: Fn(Src::Items, M::Values) -> (R::Items, S::Items) + Copy,
{
    type Output = ();
    #[inline(always)]
    fn run(self) {
        super::pass_staged(self.shape, self.src, self.stages.clone(), self.reducers, self.sinks, self.args, self.body);
    }
}

/// A pass with whole reductions: chunks of `2^k` blocks of the flat C index (module docs).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn flat<L, Src, M, R, S, A, B>(
    level: L,
    threads: usize,
    shape: Shape,
    src: Src,
    stages: &M,
    reducers: &R,
    mut snk: S,
    mut args: A,
    mut body: B,
) -> R::Outputs
where
    L: Enter + Sync,
    Src: NdSources + Copy + Send + Sync,
    M: Stages + Clone + Sync,
    R: Reducers + Sync,
    R::Accs: Send,
    S: NdSinks + Copy + Send + Sync,
    A: Fn(Src::Items) -> M::Args + Copy + Sync,
    B: Fn(Src::Items, M::Values) -> (R::Items, S::Items) + Copy + Sync,
{
    let n = shape.len();
    // With every operand C-contiguous, one loop of n (the serial fast path's order).
    debug_assert!(!all_c(shape, &src, &snk) || Order::logical(shape, &src, &snk).rank == 1);
    let order = Order::logical(shape, &src, &snk);
    let groups_end = n - n % LANES;
    let len = chunk_blocks(groups_end.div_ceil(BLOCK), threads) * BLOCK;
    let chunks: Vec<[R::Accs; LANES]> = (0..groups_end.div_ceil(len))
        .into_par_iter()
        .map(|c| {
            let (lo, hi) = (c * len, (c * len + len).min(groups_end));
            level.enter(Flat { order, lo, hi, src, snk, stages, reducers, args, body })
        })
        .collect();
    let merge = merge_lanes(reducers);
    let (last, full) = chunks.split_last().expect("n >= THRESHOLD: at least one chunk");
    let mut cascade = Cascade::new();
    for &c in full {
        cascade.push(c, &merge);
    }
    let acc = combine_lanes(reducers, &cascade.finish_onto(*last, &merge));
    // The tail, in order onto the lanes' total, on the calling thread (in the clone).
    let mut flow = Flow::at(reducers, groups_end, groups_end, acc);
    let mut stages = stages.clone();
    feed_range(&order, groups_end, n, &src, &mut snk, &mut stages, reducers, &mut args, &mut body, &mut flow);
    flow.finish(reducers, n)
}

/// The lane groups `lo..hi` (flat indices, whole blocks from `lo`) of a pass with whole
/// reductions: their cascade's value.
struct Flat<'p, Src, S, M, R, A, B> {
    order: Order,
    lo: usize,
    hi: usize,
    src: Src,
    snk: S,
    stages: &'p M,
    reducers: &'p R,
    args: A,
    body: B,
}

impl<Src, S, M, R, A, B> Work for Flat<'_, Src, S, M, R, A, B>
where
    Src: NdSources,
    S: NdSinks,
    M: Stages + Clone,
    R: Reducers,
    A: Fn(Src::Items) -> M::Args + Copy,
    B: Fn(Src::Items, M::Values) -> (R::Items, S::Items) + Copy,
{
    type Output = [R::Accs; LANES];
    #[inline(always)]
    fn run(self) -> [R::Accs; LANES] {
        // Everything the loop reads, in locals of this chunk.
        let (src, mut snk, mut stages, mut args, mut body) =
            (self.src, self.snk, self.stages.clone(), self.args, self.body);
        let mut flow = Flow::at(self.reducers, self.lo, self.hi, self.reducers.identity());
        feed_range(
            &self.order,
            self.lo,
            self.hi,
            &src,
            &mut snk,
            &mut stages,
            self.reducers,
            &mut args,
            &mut body,
            &mut flow,
        );
        flow.top
    }
}

/// Feeds the elements of flat (logical C) indices `lo..hi` into `flow`, row by row along
/// the innermost loop of `order` (the first and last rows maybe partial). `order.rank >= 1`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn feed_range<Src: NdSources, M: Stages, R: Reducers, S: NdSinks>(
    order: &Order,
    lo: usize,
    hi: usize,
    sources: &Src,
    sinks: &mut S,
    stages: &mut M,
    reducers: &R,
    args: &mut impl FnMut(Src::Items) -> M::Args,
    body: &mut impl FnMut(Src::Items, M::Values) -> (R::Items, S::Items),
    flow: &mut Flow<R>,
) {
    let r = order.rank;
    let (inner, row_len) = (order.axes[r - 1], order.lens[r - 1]);
    let (outer_axes, outer_lens) = order.outer();
    // The row's start: the outer loops' indices, then the index along the inner loop.
    let mut axes = [0usize; MAX_RANK];
    axes[..r - 1].copy_from_slice(outer_axes);
    axes[r - 1] = inner;
    let mut idx = [0usize; MAX_RANK];
    let mut q = lo / row_len;
    for k in (0..r - 1).rev() {
        idx[k] = q % outer_lens[k];
        q /= outer_lens[k];
    }
    idx[r - 1] = lo % row_len;
    let mut bufs = Src::Bufs::default();
    let mut g = lo;
    while g < hi {
        let m = (row_len - idx[r - 1]).min(hi - g);
        // SAFETY: every index is below its loop's length (`order`: index i of a loop is the
        // offset i * stride of its axis in every operand), and the m elements along the
        // inner loop from idx[r - 1] are indices of it (m <= row_len - idx[r - 1]); the rows
        // are used in this iteration only.
        let (rows, sink_rows) = unsafe {
            (
                sources.unit_rows(&axes[..r], &idx[..r], Along::Axis(inner), m, &mut bufs),
                sinks.row(&axes[..r], &idx[..r], Along::Axis(inner), m),
            )
        };
        if rows.is_unit_stride() && sink_rows.is_unit_stride() {
            // SAFETY: both are unit-stride, just checked.
            let (rows, sink_rows) = unsafe { (rows.into_flat(), sink_rows.into_flat()) };
            flow.feed(reducers, m, rows, stages, sink_rows, args, body);
        } else {
            flow.feed(reducers, m, rows, stages, sink_rows, args, body);
        }
        g += m;
        // The next row: the last outer loop moves fastest.
        idx[r - 1] = 0;
        let mut k = r - 1;
        while k > 0 {
            k -= 1;
            idx[k] += 1;
            if idx[k] < outer_lens[k] {
                break;
            }
            idx[k] = 0;
        }
    }
}

/// [`super::axis_pass_staged`] on rayon's pool, with the same results for every thread
/// count (module docs).
///
/// ```
/// use loopfuse_runtime::level::{Generic, Level};
/// use loopfuse_runtime::nd::{self, NdOut, NdView, Shape};
/// use loopfuse_runtime::reduce::Sum;
/// let x: Vec<f64> = (0..300_000).map(|i| (i % 7) as f64 * 0.1).collect();
/// let v = NdView::from_slice(&x, Shape::new(&[300, 1000]));
/// let mut s = NdOut::new(Shape::new(&[1000]), false);
/// let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
/// pool.install(|| {
///     let g = Generic::try_new().unwrap();
///     nd::par::axis_pass_staged(g, v.shape(), 0, (v,), (), (Sum::new(),), (&mut s,), |_| (), |(x,), ()| ((x,), ()))
/// });
/// let mut t = NdOut::new(Shape::new(&[1000]), false);
/// nd::axis_pass(v.shape(), 0, (v,), (Sum::new(),), (&mut t,), |(x,)| ((x,), ()));
/// let (s, t): (ndarray::Array1<f64>, ndarray::Array1<f64>) = (s.into_array(), t.into_array());
/// assert!(s.iter().zip(&t).all(|(s, t)| s.to_bits() == t.to_bits()));
/// ```
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn axis_pass_staged<L, Src, M, R, O, A, B>(
    level: L,
    shape: Shape,
    axis: usize,
    sources: Src,
    stages: M,
    reducers: R,
    mut outs: O,
    args: A,
    body: B,
) where
    L: Enter + Sync,
    Src: ParNdSources,
    M: Stages + Clone + Sync,
    R: Reducers + Sync,
    O: ParNdSinks<Items = R::Outputs>,
    A: Fn(Src::Items) -> M::Args + Copy + Sync,
    B: Fn(Src::Items, M::Values) -> (R::Items, ()) + Copy + Sync,
{
    check(shape, axis, &sources, &outs);
    let n = shape.len();
    let split = if serial(n) { None } else { Order::outermost(shape, &sources, &(), Some(axis)) };
    // The shared forms in the serial case too (see `pass_staged`).
    let (src, part) = (sources.part(), outs.part());
    let Some(a) = split else {
        super::axis_pass_staged(shape, axis, src, stages, &reducers, part, args, body);
        outs.done();
        return;
    };
    let (len, oa) = (shape.dims()[a], out_axis(a, axis));
    let rows = chunk_len(len, n / len, rayon::current_num_threads());
    let (stages, reducers) = (&stages, &reducers);
    (0..len.div_ceil(rows)).into_par_iter().for_each(|c| {
        let (i0, i1) = (c * rows, (c * rows + rows).min(len));
        let (src, outs, shape) = (src.cut(a, i0, i1), part.cut(oa, i0, i1), shape.block(a, i0, i1));
        level.enter(AxisBlock { shape, axis, src, outs, stages, reducers, args, body });
    });
    outs.done();
}

/// [`super::axis_pass_then`] on rayon's pool (see [`axis_pass_staged`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn axis_pass_then<L, Src, M, R, O, A, B, T>(
    level: L,
    shape: Shape,
    axis: usize,
    sources: Src,
    stages: M,
    reducers: R,
    outs: O,
    args: A,
    body: B,
    then: T,
) where
    L: Enter + Sync,
    Src: ParNdSources,
    M: Stages + Clone + Sync,
    R: Reducers + Sync,
    O: ParNdSinks,
    A: Fn(Src::Items) -> M::Args + Copy + Sync,
    B: Fn(Src::Items, M::Values) -> (R::Items, ()) + Copy + Sync,
    T: FnMut(R::Outputs) -> O::Items + Copy + Send + Sync,
{
    axis_pass_staged(level, shape, axis, sources, stages, reducers, Mapped::new(outs, then), args, body)
}

/// One chunk of an axis reduction: the serial driver over its block.
struct AxisBlock<'p, Src, O, M, R, A, B> {
    shape: Shape,
    axis: usize,
    src: Src,
    outs: O,
    stages: &'p M,
    reducers: &'p R,
    args: A,
    body: B,
}

impl<Src, O, M, R, A, B> Work for AxisBlock<'_, Src, O, M, R, A, B>
where
    Src: NdSources,
    M: Stages + Clone,
    R: Reducers,
    O: NdSinks<Items = R::Outputs>,
    A: Fn(Src::Items) -> M::Args + Copy,
    B: Fn(Src::Items, M::Values) -> (R::Items, ()) + Copy,
{
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let (shape, axis, stages) = (self.shape, self.axis, self.stages.clone());
        super::axis_pass_staged(shape, axis, self.src, stages, self.reducers, self.outs, self.args, self.body);
    }
}
