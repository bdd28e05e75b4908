//! Row blocks: a chain of passes run block by block along axis 0, so that each block of
//! rows is read from memory once and re-read from cache by the chain's later passes
//! (`x / (x * x).sum_axis(Axis(1)).sqrt().insert_axis(Axis(1))`: the sums of a block of
//! rows, then the block's quotients, while the rows are in L2).
//!
//! # The contract
//! - A chain is a run of passes over one shape whose axis reductions all reduce an axis
//!   other than 0, with no whole reduction (the plan decides, `macros/src/plan.rs`). Each
//!   result of an axis reduction then depends on its own row alone, and each element of an
//!   elementwise pass on its own position: running the passes block by block computes the
//!   same bits as running each over the whole shape.
//! - The blocks are `[i0, i1)` along axis 0, in order, [`block_rows`] rows each. Sources are
//!   broadcast to the whole shape first and then cut ([`NdView::rows`]), so a leaf that
//!   broadcasts along axis 0 (stride 0) is read the same in every block.
//! - The outputs of the chain ([`NdOut`]: fresh results and reduction buffers) are written
//!   through [`NdOut::block`], each block exactly once and in order; a later pass of the
//!   chain reads the rows already written ([`NdOut::rows_view`]); after the last block
//!   [`NdOut::finish_blocks`] marks them written. Each step checks the order, so a bug in
//!   the generated code panics instead of reading uninitialized memory.

use super::operand::{sealed::Sealed, NdSink};
use super::out::{NdOut, RowMut};
use super::shape::{Shape, MAX_RANK};
use super::view::{offset, Along, NdView};

/// Bytes of one block of rows of each source: L2-sized, so the chain's later passes find
/// the block in cache (256 KiB; L2 is 1-2 MiB per core on the x86 machines here).
const BLOCK_BYTES: usize = 256 << 10;

/// Rows per block for a chain over `shape` whose sources have elements of `elem_bytes`:
/// at least 1, at most the whole axis.
///
/// ```
/// use loopfuse_runtime::nd::{block_rows, Shape};
/// assert_eq!(block_rows(Shape::new(&[1000, 1000]), 8), 32);
/// assert_eq!(block_rows(Shape::new(&[10, 4]), 8), 10);
/// assert_eq!(block_rows(Shape::new(&[3, 1 << 20]), 8), 1);
/// ```
pub fn block_rows(shape: Shape, elem_bytes: usize) -> usize {
    let dims = shape.dims();
    let row: usize = dims[1..].iter().product::<usize>().max(1) * elem_bytes.max(1);
    (BLOCK_BYTES / row).clamp(1, dims.first().copied().unwrap_or(1).max(1))
}

impl Shape {
    /// The shape of rows `i0..i1` of axis 0.
    ///
    /// # Panics
    /// Unless `i0 <= i1 <= dims[0]`.
    #[inline]
    #[track_caller]
    pub fn block(&self, i0: usize, i1: usize) -> Shape {
        let dims = self.dims();
        assert!(!dims.is_empty() && i0 <= i1 && i1 <= dims[0], "loopfuse: rows {i0}..{i1} of a shape {self}");
        let mut d = [0usize; MAX_RANK];
        d[..dims.len()].copy_from_slice(dims);
        d[0] = i1 - i0;
        Shape::new(&d[..dims.len()])
    }
}

/// The offset of row `i0` of axis 0, or 0 where no element is addressed (an empty block
/// or shape: the pointer stays the view's, valid and aligned).
#[inline(always)]
fn row_offset(shape: Shape, strides: &[isize; MAX_RANK], i0: usize, i1: usize) -> isize {
    if i0 == i1 || shape.is_empty() {
        0
    } else {
        offset(strides, &[0], &[i0])
    }
}

impl<'a, T> NdView<'a, T> {
    /// Rows `i0..i1` of axis 0.
    ///
    /// ```
    /// use loopfuse_runtime::nd::{NdView, Shape};
    /// let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
    /// let v = NdView::from_slice(&x, Shape::new(&[3, 2])).rows(1, 3);
    /// assert_eq!((v.shape().dims(), v.strides()), (&[2, 2][..], &[2, 1][..]));
    /// ```
    ///
    /// # Panics
    /// Unless `i0 <= i1 <= dims[0]`.
    #[inline]
    #[track_caller]
    pub fn rows(self, i0: usize, i1: usize) -> Self {
        let shape = self.shape().block(i0, i1);
        let off = row_offset(self.shape(), self.strides_array(), i0, i1);
        // SAFETY: i0 < dims[0] when off != 0 (checked by `block`), so `off` is the offset of
        // an element of the view, and the rows i0..i1 are elements of it: the invariant holds
        // for the same strides and the shorter axis 0.
        unsafe { NdView::from_raw_parts(self.ptr().offset(off), shape, self.strides()) }
    }
}

/// Rows `i0..i1` of an [`NdOut`], written by one pass of a chain (module docs).
pub struct NdBlock<'o, T> {
    out: &'o mut NdOut<T>,
    ptr: *mut T,
    shape: Shape,
    i1: usize,
}

impl<T: Copy> NdOut<T> {
    /// The next block of rows, `i0..i1` of axis 0, for one pass to write.
    ///
    /// ```
    /// use loopfuse_runtime::nd::{pass, NdOut, Shape};
    /// let shape = Shape::new(&[3, 2]);
    /// let mut y = NdOut::<f64>::new(shape, false);
    /// for (i0, i1) in [(0, 2), (2, 3)] {
    ///     pass(shape.block(i0, i1), (), (), (&mut y.block(i0, i1),), |()| ((), (i0 as f64,)));
    ///     assert_eq!(y.rows_view(i0, i1).shape(), shape.block(i0, i1));
    /// }
    /// y.finish_blocks();
    /// let y: ndarray::Array2<f64> = y.into_array();
    /// assert_eq!(y, ndarray::array![[0.0, 0.0], [0.0, 0.0], [2.0, 2.0]]);
    /// ```
    ///
    /// # Panics
    /// Unless `i0` is where the written rows end and `i1 <= dims[0]`: blocks are written
    /// once each, in order (bugs in the generated code).
    #[track_caller]
    pub fn block(&mut self, i0: usize, i1: usize) -> NdBlock<'_, T> {
        assert_eq!(i0, self.rows_done(), "loopfuse: output rows written out of order");
        let shape = self.shape().block(i0, i1);
        let off = row_offset(self.shape(), self.strides_array(), i0, i1);
        // SAFETY: as `NdView::rows`: `off` is the offset of an element of the buffer when
        // non-zero.
        let ptr = unsafe { self.base_mut().offset(off) };
        NdBlock { out: self, ptr, shape, i1 }
    }

    /// Rows `i0..i1` of axis 0, already written by blocks.
    ///
    /// # Panics
    /// Unless `i0 <= i1 <=` the rows written so far.
    #[track_caller]
    pub fn rows_view(&self, i0: usize, i1: usize) -> NdView<'_, T> {
        assert!(i0 <= i1 && i1 <= self.rows_done(), "loopfuse: output rows {i0}..{i1} read before they were written");
        let shape = self.shape().block(i0, i1);
        let off = row_offset(self.shape(), self.strides_array(), i0, i1);
        // SAFETY: rows i0..i1 were written (checked), laid out by the buffer's strides, and
        // borrowed for the view's lifetime; `off` as in `block`.
        unsafe { NdView::from_raw_parts(self.base().offset(off), shape, self.strides()) }
    }

    /// After the last block: every row written, so the whole output may be read.
    ///
    /// # Panics
    /// Unless the blocks covered axis 0.
    #[track_caller]
    pub fn finish_blocks(&mut self) {
        let n = self.shape().dims().first().copied().unwrap_or(1);
        assert_eq!(self.rows_done(), n, "loopfuse: output blocks do not cover its rows");
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
        f(self.out.strides())
    }
    #[inline(always)]
    unsafe fn row(&mut self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> RowMut<T> {
        let stride = match along {
            Along::Flat => 1,
            Along::Axis(a) => self.out.strides()[a],
        };
        if len == 0 {
            return RowMut::new(self.ptr, 0, stride);
        }
        // SAFETY: len > 0 and the indices are in bounds of the block (caller), so the offset
        // is the one of an element of the block's rows of the buffer.
        RowMut::new(unsafe { self.ptr.offset(offset(self.out.strides_array(), axes, idx)) }, len, stride)
    }
    #[inline]
    fn done(&mut self) {
        self.out.set_rows_done(self.i1);
    }
}
