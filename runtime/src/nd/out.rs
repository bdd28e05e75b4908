//! Fresh N-d results: an [`OutBuf`] (uninitialized, huge pages past 2 MiB) with a shape and
//! an order.
//!
//! # The contract
//! - An [`NdOut`] is written exactly once, by one pass, through the rows the drivers cut out
//!   of it ([`RowMut`]); the pass marks it written when every element has been written
//!   (the drivers visit every multi-index of the shape exactly once).
//! - Only then may it be read: [`NdOut::view`] for a later pass, [`NdOut::into_array`] for the
//!   kernel's result. Both panic before (a bug in the generated code, never user input), so
//!   no uninitialized element is ever visible.
//! - Its strides are the C or F strides of its shape; rows cut out of it address elements of
//!   the buffer only, and nothing else accesses the buffer during the pass (the pass holds
//!   the `&mut NdOut`).

use super::shape::Shape;
use super::shape::MAX_RANK;
use super::view::{c_strides, f_strides, offset, Along, NdView};
use crate::output::OutBuf;
use crate::pass::Sink;

/// A fresh N-d result (or a reduced buffer): allocated uninitialized, in C or F order,
/// written exactly once by a pass (module docs).
///
/// ```
/// use loopfuse_runtime::nd::{pass, NdOut, NdView, Shape};
/// let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let shape = Shape::new(&[2, 3]);
/// let x = NdView::from_slice(&x, shape);
/// let mut y = NdOut::new(shape, true);
/// pass(shape, (x,), (), (&mut y,), |(x,)| ((), (x * 10.0,)));
/// let y: ndarray::Array2<f64> = y.into_array();
/// assert_eq!(y, ndarray::array![[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]]);
/// assert!(y.t().is_standard_layout());
/// ```
pub struct NdOut<T> {
    buf: OutBuf<T>,
    shape: Shape,
    strides: [isize; MAX_RANK],
    f_order: bool,
    /// Where the blocks written so far end, along the chain's axis (`super::block`).
    rows_done: usize,
}

impl<T: Copy> NdOut<T> {
    /// Reserves the elements of `shape`, uninitialized, in F order if `f_order`, else C.
    pub fn new(shape: Shape, f_order: bool) -> Self {
        let strides = if f_order { f_strides(shape) } else { c_strides(shape) };
        NdOut { buf: OutBuf::new(shape.len()), shape, strides, f_order, rows_done: 0 }
    }

    /// The shape.
    #[inline(always)]
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// `true` for F order.
    #[inline(always)]
    pub fn is_f_order(&self) -> bool {
        self.f_order
    }

    /// The written elements as a view, for later passes.
    ///
    /// ```
    /// use loopfuse_runtime::nd::{pass, NdOut, Shape};
    /// use loopfuse_runtime::reduce::Sum;
    /// let shape = Shape::new(&[2, 2]);
    /// let mut y = NdOut::<f64>::new(shape, false);
    /// pass(shape, (), (), (&mut y,), |()| ((), (1.5,)));
    /// let (s,) = pass(shape, (y.view(),), (Sum::new(),), (), |(y,)| ((y,), ()));
    /// assert_eq!(s, 6.0);
    /// ```
    ///
    /// # Panics
    /// If no pass wrote it (a bug in the generated code).
    #[track_caller]
    pub fn view(&self) -> NdView<'_, T> {
        assert!(self.buf.is_written(), "loopfuse: output read before its pass wrote it");
        // SAFETY: the buffer holds shape.len() written elements (checked just above), laid
        // out by `strides` (C or F of `shape`), borrowed for the view's lifetime; its pointer
        // is non-null and aligned even when empty (a Vec's).
        unsafe { NdView::from_raw_parts(self.buf.as_ptr(), self.shape, &self.strides[..self.shape.rank()]) }
    }

    /// A 1-D result as a `Vec`, no copy (a kernel returning `Vec<T>` from a per-row loop).
    ///
    /// ```
    /// use loopfuse_runtime::nd::{pass, NdOut, Shape};
    /// let mut y = NdOut::new(Shape::new(&[3]), false);
    /// pass(Shape::new(&[3]), (), (), (&mut y,), |()| ((), (2.0,)));
    /// assert_eq!(y.into_vec(), vec![2.0; 3]);
    /// ```
    ///
    /// # Panics
    /// If the result is not 1-D or no pass wrote it (bugs in the generated code).
    #[track_caller]
    pub fn into_vec(self) -> Vec<T> {
        assert_eq!(self.shape.rank(), 1, "loopfuse: a result of shape {} returned as a Vec", self.shape);
        assert!(self.buf.is_written(), "loopfuse: output read before its pass wrote it");
        self.buf.into_vec()
    }

    /// The result as an ndarray array of dimension `D` (`Ix1`..`Ix6` or `IxDyn`), in the
    /// buffer's order, no copy.
    ///
    /// ```
    /// use loopfuse_runtime::nd::{pass, NdOut, Shape};
    /// let shape = Shape::new(&[2, 1, 3]);
    /// let mut y = NdOut::new(shape, false);
    /// pass(shape, (), (), (&mut y,), |()| ((), (7u8,)));
    /// let y: ndarray::ArrayD<u8> = y.into_array();
    /// assert_eq!(y.shape(), &[2, 1, 3]);
    /// ```
    ///
    /// # Panics
    /// If `D`'s rank differs from the shape's, or if no pass wrote it (bugs in the
    /// generated code).
    #[cfg(feature = "ndarray")]
    #[track_caller]
    pub fn into_array<D: ndarray::Dimension>(self) -> ndarray::Array<T, D> {
        use ndarray::ShapeBuilder;
        if let Some(rank) = D::NDIM {
            assert_eq!(rank, self.shape.rank(), "loopfuse: a result of shape {} returned with rank {rank}", self.shape);
        }
        let dims = ndarray::IxDyn(self.shape.dims());
        let (shape, f) = (self.shape, self.f_order);
        let vec = self.buf.into_vec();
        let a =
            if f { ndarray::ArrayD::from_shape_vec(dims.f(), vec) } else { ndarray::ArrayD::from_shape_vec(dims, vec) };
        let a = a.unwrap_or_else(|e| panic!("loopfuse: result of shape {shape}: {e}"));
        a.into_dimensionality::<D>().unwrap_or_else(|e| panic!("loopfuse: result of shape {shape}: {e}"))
    }
}

/// A row of an output as the 1-D driver writes it: `len` elements `stride` apart from
/// `ptr`, written through the raw pointer. Made only by the N-d drivers, from an [`NdOut`]
/// they hold `&mut` (module docs), so every element is a distinct element of its buffer.
pub struct RowMut<T> {
    ptr: *mut T,
    len: usize,
    stride: isize,
}

/// A unit-stride [`RowMut`] ([`Sink::into_flat`]): element `i` at `ptr + i`.
pub struct UnitRowMut<T> {
    ptr: *mut T,
    len: usize,
}

impl<T> RowMut<T> {
    /// A row of `len` elements `stride` apart from `ptr` (the callers' contract: each is a
    /// distinct element of one output, valid for reads and writes through raw pointers).
    #[inline(always)]
    pub(crate) fn new(ptr: *mut T, len: usize, stride: isize) -> Self {
        RowMut { ptr, len, stride }
    }

    /// The same row `by` elements further on, for reading (an in-place output as a source).
    ///
    /// # Safety
    /// The moved row's elements are elements of the same output.
    #[inline(always)]
    pub(crate) unsafe fn moved(&self, by: isize) -> Self {
        if self.len == 0 {
            return RowMut { ..*self };
        }
        // SAFETY: the caller's contract.
        RowMut { ptr: unsafe { self.ptr.offset(by) }, ..*self }
    }
}

/// The current elements of an in-place output a pass also writes (`y += e`): read through
/// the raw pointer, element `i` before the pass writes it (`super::inout`).
impl<T: Copy> crate::pass::Source for RowMut<T> {
    type Item = T;
    type Flat = UnitRowMut<T>;
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        self.stride == 1 || self.len <= 1
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> UnitRowMut<T> {
        UnitRowMut { ptr: self.ptr, len: self.len }
    }
    #[inline(always)]
    unsafe fn get(&self, i: usize) -> T {
        // SAFETY: i < len (caller): an element of the output, read through the raw pointer.
        unsafe { self.ptr.offset(i as isize * self.stride).read() }
    }
}

impl<T: Copy> crate::pass::Source for UnitRowMut<T> {
    type Item = T;
    type Flat = Self;
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        true
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> Self {
        self
    }
    #[inline(always)]
    unsafe fn get(&self, i: usize) -> T {
        // SAFETY: i < len (caller), unit stride: as RowMut::get.
        unsafe { self.ptr.add(i).read() }
    }
}

impl<T> Sink for RowMut<T> {
    type Item = T;
    type Flat = UnitRowMut<T>;
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        self.stride == 1 || self.len <= 1
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> UnitRowMut<T> {
        UnitRowMut { ptr: self.ptr, len: self.len }
    }
    #[inline(always)]
    unsafe fn put(&mut self, i: usize, value: T) {
        // SAFETY: i < len (caller): an element of the output's buffer (module docs), written
        // through the raw pointer derived from the pass's `&mut NdOut`.
        unsafe { self.ptr.offset(i as isize * self.stride).write(value) }
    }
}

impl<T> Sink for UnitRowMut<T> {
    type Item = T;
    type Flat = Self;
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }
    #[inline(always)]
    fn is_unit_stride(&self) -> bool {
        true
    }
    #[inline(always)]
    unsafe fn into_flat(self) -> Self {
        self
    }
    #[inline(always)]
    unsafe fn put(&mut self, i: usize, value: T) {
        // SAFETY: i < len (caller) and unit stride (into_flat's contract): as RowMut::put.
        unsafe { self.ptr.add(i).write(value) }
    }
}

impl<T: Copy> NdOut<T> {
    /// The row along `along` from the element at `idx[k]` of axis `axes[k]` (as
    /// `NdView::row`), for writing.
    ///
    /// # Safety
    /// As `NdView::row`: indices in bounds, `len` elements along the axis (or the whole
    /// C-contiguous buffer for `Along::Flat`).
    #[inline(always)]
    pub(crate) unsafe fn row(&mut self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> RowMut<T> {
        let stride = match along {
            Along::Flat => 1,
            Along::Axis(a) => self.strides[a],
        };
        let ptr = self.buf.as_mut_ptr();
        if len == 0 {
            return RowMut { ptr, len, stride };
        }
        // SAFETY: len > 0 and the indices are in bounds (caller), so the offset is the one of
        // an element of the buffer (C or F strides of the shape).
        RowMut { ptr: unsafe { ptr.offset(offset(&self.strides, axes, idx)) }, len, stride }
    }

    /// The strides of the buffer's order.
    #[inline(always)]
    pub(crate) fn strides(&self) -> &[isize] {
        &self.strides[..self.shape.rank()]
    }

    /// Records that a pass wrote every element.
    #[inline(always)]
    pub(crate) fn mark_written(&mut self) {
        self.buf.mark_written();
    }

    /// The strides as the fixed array (`strides[rank..]` are 0).
    #[inline(always)]
    pub(crate) fn strides_array(&self) -> &[isize; MAX_RANK] {
        &self.strides
    }

    /// The buffer's first element, for reading.
    #[inline(always)]
    pub(crate) fn base(&self) -> *const T {
        self.buf.as_ptr()
    }

    /// The buffer's first element, for writing.
    #[inline(always)]
    pub(crate) fn base_mut(&mut self) -> *mut T {
        self.buf.as_mut_ptr()
    }

    /// Where the blocks written so far end.
    #[inline(always)]
    pub(crate) fn rows_done(&self) -> usize {
        self.rows_done
    }

    /// A block wrote rows up to `i1`.
    #[inline(always)]
    pub(crate) fn set_rows_done(&mut self, i1: usize) {
        self.rows_done = i1;
    }

    /// Where the blocks written so far end, to be set by a block's pass.
    #[inline(always)]
    pub(crate) fn rows_done_mut(&mut self) -> &mut usize {
        &mut self.rows_done
    }
}

#[cfg(all(test, feature = "ndarray"))]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "read before its pass wrote it")]
    fn unwritten_view_panics() {
        NdOut::<f64>::new(Shape::new(&[2]), false).view();
    }

    #[test]
    #[should_panic(expected = "a result of shape [2, 2] returned with rank 3")]
    fn wrong_rank_panics() {
        let _: ndarray::Array3<f64> = NdOut::<f64>::new(Shape::new(&[2, 2]), false).into_array();
    }

    #[test]
    fn strides_of_orders() {
        let s = Shape::new(&[2, 3, 4]);
        assert_eq!(NdOut::<u8>::new(s, false).strides(), &[12, 4, 1]);
        assert_eq!(NdOut::<u8>::new(s, true).strides(), &[1, 2, 6]);
    }
}
