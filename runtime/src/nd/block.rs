//! Blocks: a chain of passes run block by block along one axis, so that each block is read
//! from memory once and re-read from cache by the chain's later passes (`x / (x *
//! x).sum_axis(Axis(1)).sqrt().insert_axis(Axis(1))`: the sums of a block of rows, then the
//! block's quotients, while the rows are in L2; `standardize_cols` of an F matrix by blocks
//! of columns).
//!
//! # The contract
//! - A chain is a run of passes over one shape whose axis reductions all reduce an axis
//!   other than the block axis, with no whole reduction (the plan decides,
//!   `macros/src/plan.rs`). Each result of an axis reduction then depends on its own lane
//!   alone, and each element of an elementwise pass on its own position: running the passes
//!   block by block computes the same bits as running each over the whole shape.
//! - The blocks are `[i0, i1)` along the block axis, in order, [`block_len`] indices each:
//!   L2-sized where the axis is the outermost in memory, else one block (cutting along an
//!   inner axis would read short strided segments). Sources are broadcast to the whole shape
//!   first and then cut ([`NdView::cut`]), so a leaf that broadcasts along the axis (stride
//!   0) is read the same in every block.
//! - The outputs of the chain ([`NdOut`]: fresh results and reduction buffers) are written
//!   through [`NdOut::block`], each block exactly once and in order along the output's axis
//!   for the block axis; a later pass of the chain reads the part already written
//!   ([`NdOut::written`]); after the last block [`NdOut::finish_blocks`] marks them written. Each step checks the order, so a bug in
//!   the generated code panics instead of reading uninitialized memory.

use super::operand::{sealed::Sealed, NdSink};
use super::out::{NdOut, RowMut};
use super::shape::{Shape, MAX_RANK};
use super::view::{offset, Along, NdView};

/// Bytes of one block of rows of each source: L2-sized, so the chain's later passes find
/// the block in cache (256 KiB; L2 is 1-2 MiB per core on the x86 machines here).
const BLOCK_BYTES: usize = 256 << 10;

/// Indices per block along `axis` for a chain over `shape` whose sources are `views` (as
/// [`crate::nd::prefers_f`] takes them), with elements of `elem_bytes`: at least 1, and the
/// whole axis unless `axis` has the largest stride of the sources (module docs).
///
/// ```
/// use loopfuse_runtime::nd::{block_len, NdView, Shape};
/// let a = vec![0.0f64; 1_000_000];
/// let c = NdView::from_slice(&a, Shape::new(&[1000, 1000]));
/// let f = c.reversed_axes();
/// assert_eq!(block_len(c.shape(), 0, &[c.erase()], 8), 32);
/// assert_eq!(block_len(c.shape(), 1, &[c.erase()], 8), 1000);
/// assert_eq!(block_len(f.shape(), 1, &[f.erase()], 8), 32);
/// ```
pub fn block_len(shape: Shape, axis: usize, views: &[NdView<'_, ()>], elem_bytes: usize) -> usize {
    let dims = shape.dims();
    let n = dims[axis].max(1);
    let outer = views.iter().all(|v| {
        let s = v.strides();
        let b = s[axis].unsigned_abs();
        (0..s.len()).all(|a| a == axis || dims[a] <= 1 || s[a].unsigned_abs() <= b)
    });
    if !outer {
        return n;
    }
    let per: usize = dims.iter().enumerate().filter(|&(a, _)| a != axis).map(|(_, &d)| d).product::<usize>().max(1);
    (BLOCK_BYTES / (per * elem_bytes.max(1))).clamp(1, n)
}

impl Shape {
    /// The shape of indices `i0..i1` of `axis`.
    ///
    /// # Panics
    /// Unless `axis < rank` and `i0 <= i1 <= dims[axis]`.
    #[inline]
    #[track_caller]
    pub fn block(&self, axis: usize, i0: usize, i1: usize) -> Shape {
        let dims = self.dims();
        assert!(
            axis < dims.len() && i0 <= i1 && i1 <= dims[axis],
            "loopfuse: indices {i0}..{i1} of axis {axis} of a shape {self}"
        );
        let mut d = [0usize; MAX_RANK];
        d[..dims.len()].copy_from_slice(dims);
        d[axis] = i1 - i0;
        Shape::new(&d[..dims.len()])
    }
}

/// The offset of index `i0` of `axis`, or 0 where no element is addressed (an empty block
/// or shape: the pointer stays the view's, valid and aligned).
#[inline(always)]
pub(crate) fn cut_offset(shape: Shape, strides: &[isize; MAX_RANK], axis: usize, i0: usize, i1: usize) -> isize {
    if i0 == i1 || shape.is_empty() {
        0
    } else {
        offset(strides, &[axis], &[i0])
    }
}

impl<'a, T> NdView<'a, T> {
    /// Indices `i0..i1` of `axis`.
    ///
    /// ```
    /// use loopfuse_runtime::nd::{NdView, Shape};
    /// let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
    /// let v = NdView::from_slice(&x, Shape::new(&[3, 2])).cut(0, 1, 3);
    /// assert_eq!((v.shape().dims(), v.strides()), (&[2, 2][..], &[2, 1][..]));
    /// ```
    ///
    /// # Panics
    /// Unless `axis < rank` and `i0 <= i1 <= dims[axis]`.
    #[inline]
    #[track_caller]
    pub fn cut(self, axis: usize, i0: usize, i1: usize) -> Self {
        let shape = self.shape().block(axis, i0, i1);
        let off = cut_offset(self.shape(), self.strides_array(), axis, i0, i1);
        // SAFETY: i0 < dims[axis] when off != 0 (checked by `block`), so `off` is the offset
        // of an element of the view, and the indices i0..i1 are elements of it: the invariant
        // holds for the same strides and the shorter axis.
        unsafe { NdView::from_raw_parts(self.ptr().offset(off), shape, self.strides()) }
    }
}

/// Indices `i0..i1` of an axis of an [`NdOut`] (or of an [`NdOutPart`]), written by one
/// pass of a chain (module docs).
pub struct NdBlock<'o, T> {
    /// The output's strides.
    strides: [isize; MAX_RANK],
    /// The output's count of written indices, set to `i1` when the pass is done.
    rows_done: &'o mut usize,
    ptr: *mut T,
    shape: Shape,
    i1: usize,
}

impl<T: Copy> NdOut<T> {
    /// The next block, indices `i0..i1` of `axis`, for one pass to write.
    ///
    /// ```
    /// use loopfuse_runtime::nd::{pass, NdOut, Shape};
    /// let shape = Shape::new(&[2, 3]);
    /// let mut y = NdOut::<f64>::new(shape, false);
    /// for (i0, i1) in [(0, 2), (2, 3)] {
    ///     pass(shape.block(1, i0, i1), (), (), (&mut y.block(1, i0, i1),), |()| ((), (i0 as f64,)));
    ///     assert_eq!(y.written(1, i0, i1).shape(), shape.block(1, i0, i1));
    /// }
    /// y.finish_blocks(1);
    /// let y: ndarray::Array2<f64> = y.into_array();
    /// assert_eq!(y, ndarray::array![[0.0, 0.0, 2.0], [0.0, 0.0, 2.0]]);
    /// ```
    ///
    /// # Panics
    /// Unless `i0` is where the written blocks end and `i1 <= dims[axis]`: blocks are
    /// written once each, in order (bugs in the generated code).
    #[track_caller]
    pub fn block(&mut self, axis: usize, i0: usize, i1: usize) -> NdBlock<'_, T> {
        assert_eq!(i0, self.rows_done(), "loopfuse: output blocks written out of order");
        let shape = self.shape().block(axis, i0, i1);
        let off = cut_offset(self.shape(), self.strides_array(), axis, i0, i1);
        // SAFETY: as `NdView::rows`: `off` is the offset of an element of the buffer when
        // non-zero.
        let ptr = unsafe { self.base_mut().offset(off) };
        let strides = *self.strides_array();
        NdBlock { strides, rows_done: self.rows_done_mut(), ptr, shape, i1 }
    }

    /// Indices `i0..i1` of `axis`, already written by blocks.
    ///
    /// # Panics
    /// Unless `i0 <= i1 <=` the end of the blocks written so far.
    #[track_caller]
    pub fn written(&self, axis: usize, i0: usize, i1: usize) -> NdView<'_, T> {
        assert!(i0 <= i1 && i1 <= self.rows_done(), "loopfuse: output block {i0}..{i1} read before it was written");
        let shape = self.shape().block(axis, i0, i1);
        let off = cut_offset(self.shape(), self.strides_array(), axis, i0, i1);
        // SAFETY: indices i0..i1 of the axis were written (checked), laid out by the buffer's
        // strides, and borrowed for the view's lifetime; `off` as in `block`.
        unsafe { NdView::from_raw_parts(self.base().offset(off), shape, self.strides()) }
    }

    /// After the last block along `axis`: every element written, so the whole output may be
    /// read.
    ///
    /// # Panics
    /// Unless the blocks covered the axis.
    #[track_caller]
    pub fn finish_blocks(&mut self, axis: usize) {
        let n = self.shape().dims()[axis];
        assert_eq!(self.rows_done(), n, "loopfuse: output blocks do not cover its axis {axis}");
        self.mark_written();
    }
}

impl<T> Sealed for &mut NdBlock<'_, T> {}

impl<T: Copy> NdSink for &mut NdBlock<'_, T> {
    type Item = T;
    type Row = RowMut<T>;
    #[inline]
    #[track_caller]
    fn check(&self, shape: Shape) {
        assert!(self.shape == shape, "loopfuse: an output block of shape {} in a pass over shape {shape}", self.shape);
    }
    #[inline(always)]
    fn visit(&self, f: &mut impl FnMut(&[isize])) {
        f(&self.strides[..self.shape.rank()])
    }
    #[inline(always)]
    unsafe fn row(&mut self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> RowMut<T> {
        let stride = match along {
            Along::Flat => 1,
            Along::Axis(a) => self.strides[a],
        };
        if len == 0 {
            return RowMut::new(self.ptr, 0, stride);
        }
        // SAFETY: len > 0 and the indices are in bounds of the block (caller), so the offset
        // is the one of an element of the block's rows of the buffer.
        RowMut::new(unsafe { self.ptr.offset(offset(&self.strides, axes, idx)) }, len, stride)
    }
    #[inline]
    fn done(&mut self) {
        *self.rows_done = self.i1;
    }
}

/// Indices `start..end` of the chain's axis of an [`NdOut`], for one chunk of a parallel
/// chain (`nd::par::chain`) to write block by block and read back, as [`NdOut::block`] and
/// [`NdOut::written`] do for the whole axis, with the same checks inside the chunk's range.
/// The chunks' ranges are disjoint, so each element is written by one thread and read only
/// by the thread that wrote it.
pub struct NdOutPart<'o, T> {
    base: *mut T,
    shape: Shape,
    strides: [isize; MAX_RANK],
    /// Where the blocks written so far end (from `start`).
    rows_done: usize,
    start: usize,
    end: usize,
    life: std::marker::PhantomData<&'o mut NdOut<T>>,
}

// SAFETY: a part stands for the unique borrow of its range of the output (`NdOut::part`):
// it may move to another thread when `T: Send`, as `&mut [T]` may.
unsafe impl<T: Send> Send for NdOutPart<'_, T> {}

impl<T: Copy> NdOut<T> {
    /// Indices `start..end` of the chain's axis as a part for one chunk.
    ///
    /// # Safety
    /// The parts made from one output have disjoint ranges and are all dropped before the
    /// output is used again (the caller holds `&'o mut` for their whole life).
    pub(crate) unsafe fn part<'o>(&mut self, start: usize, end: usize) -> NdOutPart<'o, T> {
        NdOutPart {
            base: self.base_mut(),
            shape: self.shape(),
            strides: *self.strides_array(),
            rows_done: start,
            start,
            end,
            life: std::marker::PhantomData,
        }
    }
}

impl<T: Copy> NdOutPart<'_, T> {
    /// As [`NdOut::block`], inside the part's range.
    ///
    /// # Panics
    /// Unless `i0` is where the part's written blocks end and `i1 <=` its end.
    #[track_caller]
    pub fn block(&mut self, axis: usize, i0: usize, i1: usize) -> NdBlock<'_, T> {
        assert!(i0 == self.rows_done && i1 <= self.end, "loopfuse: output blocks written out of order");
        let shape = self.shape.block(axis, i0, i1);
        let off = cut_offset(self.shape, &self.strides, axis, i0, i1);
        // SAFETY: `off` is the offset of an element of the buffer when non-zero (as
        // `NdOut::block`), and the indices i0..i1 are in the part's range.
        let ptr = unsafe { self.base.offset(off) };
        NdBlock { strides: self.strides, rows_done: &mut self.rows_done, ptr, shape, i1 }
    }

    /// As [`NdOut::written`], inside the part's range.
    ///
    /// # Panics
    /// Unless `start <= i0 <= i1 <=` the end of the part's blocks written so far.
    #[track_caller]
    pub fn written(&self, axis: usize, i0: usize, i1: usize) -> NdView<'_, T> {
        assert!(
            self.start <= i0 && i0 <= i1 && i1 <= self.rows_done,
            "loopfuse: output block {i0}..{i1} read before it was written"
        );
        let shape = self.shape.block(axis, i0, i1);
        let off = cut_offset(self.shape, &self.strides, axis, i0, i1);
        // SAFETY: indices i0..i1 of the axis are in the part's range and were written by
        // this part (checked); `off` as in `block`.
        unsafe { NdView::from_raw_parts(self.base.offset(off), shape, &self.strides[..self.shape.rank()]) }
    }

    /// Whether the part's blocks cover its range.
    pub(crate) fn is_complete(&self) -> bool {
        self.rows_done == self.end
    }
}
