//! `&mut` N-d outputs written in place: `out[..] = e`, `y += e` on an `ArrayViewMut2`,
//! `&mut Array3`, ...
//!
//! # The contract
//! An [`NdViewMut`] stands for the unique borrow it was made from ([`NdOutput`]): `ptr`,
//! shape and strides as an [`NdView`], every multi-index a distinct element (ndarray never
//! hands out a mutable view whose elements alias: no stride 0 on an axis longer than 1),
//! valid for reads and writes during `'a` through this view only. A pass writes it as a sink
//! (`&NdViewMut`) and, for `y += e`, reads it as a source ([`crate::pass::Current`]): both
//! go through the raw pointer and never make a reference to an element, and the pass reads
//! element `i` before it writes it, in the same iteration (as the 1-D `ViewMut`,
//! `crate::view`).

use super::axis::GROUP;
use super::operand::{NdSink, NdSource};
use super::out::RowMut;
use super::shape::{Shape, MAX_RANK};
use super::view::{offset, Along};
use crate::pass::Current;
use std::marker::PhantomData;

/// A `&mut` N-d output (module docs).
pub struct NdViewMut<'a, T> {
    ptr: *mut T,
    shape: Shape,
    /// `strides[shape.rank()..]` are 0.
    strides: [isize; MAX_RANK],
    life: PhantomData<&'a mut [T]>,
}

// SAFETY: the unique borrow of `T`s it stands for may move to another thread when `T: Send`
// (as `&mut [T]`); not `Sync`: passes read and write it through `&self` (module docs).
unsafe impl<T: Send> Send for NdViewMut<'_, T> {}

impl<'a, T> NdViewMut<'a, T> {
    /// A view from its parts.
    ///
    /// # Safety
    /// The invariant of this module's views for `ptr`, `shape` and `strides`, and the
    /// elements borrowed uniquely for `'a`.
    #[inline(always)]
    pub(crate) unsafe fn from_raw_parts(ptr: *mut T, shape: Shape, strides: &[isize]) -> Self {
        let mut s = [0; MAX_RANK];
        s[..strides.len()].copy_from_slice(strides);
        NdViewMut { ptr, shape, strides: s, life: PhantomData }
    }

    /// The shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The axis lengths, borrowed from the view (ndarray's `shape()`).
    ///
    /// ```
    /// let mut a = ndarray::Array2::<f64>::zeros((2, 3));
    /// let v = loopfuse_runtime::nd::NdOutput::into_nd_mut(&mut a);
    /// assert_eq!(v.dims(), &[2, 3]);
    /// ```
    #[inline(always)]
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// The strides, in elements.
    pub fn strides(&self) -> &[isize] {
        &self.strides[..self.shape.rank()]
    }

    /// Logical element 0, for the parallel drivers' shared parts (`nd::par`).
    #[inline(always)]
    pub(crate) fn ptr(&self) -> *mut T {
        self.ptr
    }

    /// The row along `along` from the element at `idx[k]` of axis `axes[k]`.
    ///
    /// # Safety
    /// As `NdView::row`: indices in bounds, `len` elements along the axis (or every element,
    /// C-contiguous, for `Along::Flat`).
    #[inline(always)]
    unsafe fn row(&self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> RowMut<T> {
        let stride = match along {
            Along::Flat => 1,
            Along::Axis(a) => self.strides[a],
        };
        if len == 0 {
            return RowMut::new(self.ptr, 0, stride);
        }
        // SAFETY: len > 0 and the indices are in bounds (caller): the offset of an element of
        // the view (invariant).
        RowMut::new(unsafe { self.ptr.offset(offset(&self.strides, axes, idx)) }, len, stride)
    }
}

/// What a kernel accepts as an N-d `&mut` output: `ArrayViewMut<T, D>` and
/// `&mut ArrayBase<S: DataMut, D>`, any `D`.
///
/// ```
/// use loopfuse_runtime::nd::NdOutput;
/// let mut a = ndarray::Array2::<f64>::zeros((2, 3));
/// let v = NdOutput::into_nd_mut(&mut a);
/// assert_eq!((v.shape().dims(), v.strides()), (&[2, 3][..], &[3, 1][..]));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a loopfuse N-d output",
    note = "N-d outputs are `ArrayViewMut<T, D>` (`ArrayViewMut2<T>`, ..) and `&mut Array<T, D>`"
)]
pub trait NdOutput<'a>: sealed::OutputSealed {
    /// The element type.
    type Elem: Copy;
    /// The output as a view, for the kernel's passes.
    fn into_nd_mut(self) -> NdViewMut<'a, Self::Elem>;
}

mod sealed {
    /// Only this module implements [`super::NdOutput`]: passes trust what its view says.
    pub trait OutputSealed {}
}

#[cfg(feature = "ndarray")]
mod nd_impls {
    use super::*;
    use ndarray::{ArrayBase, ArrayViewMut, DataMut, Dimension};

    impl<'a, T, D: Dimension> From<ArrayViewMut<'a, T, D>> for NdViewMut<'a, T> {
        #[inline]
        #[track_caller]
        fn from(mut v: ArrayViewMut<'a, T, D>) -> Self {
            let shape = Shape::new(v.shape());
            let mut strides = [0isize; MAX_RANK];
            strides[..shape.rank()].copy_from_slice(v.strides());
            NdViewMut { ptr: v.as_mut_ptr(), shape, strides, life: PhantomData }
        }
    }

    impl<T: Copy, D: Dimension> super::sealed::OutputSealed for ArrayViewMut<'_, T, D> {}
    impl<'a, T: Copy, D: Dimension> NdOutput<'a> for ArrayViewMut<'a, T, D> {
        type Elem = T;
        #[inline]
        fn into_nd_mut(self) -> NdViewMut<'a, T> {
            NdViewMut::from(self)
        }
    }

    impl<T: Copy, S: DataMut<Elem = T>, D: Dimension> super::sealed::OutputSealed for &mut ArrayBase<S, D> {}
    impl<'a, T: Copy, S: DataMut<Elem = T>, D: Dimension> NdOutput<'a> for &'a mut ArrayBase<S, D> {
        type Elem = T;
        #[inline]
        fn into_nd_mut(self) -> NdViewMut<'a, T> {
            NdViewMut::from(self.view_mut())
        }
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn shape_fail(got: Shape, want: Shape) -> ! {
    panic!("loopfuse: an output of shape {got} in a pass over shape {want}")
}

impl<T> super::operand::sealed::Sealed for &NdViewMut<'_, T> {}

impl<T: Copy> NdSink for &NdViewMut<'_, T> {
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
        f(self.strides())
    }
    #[inline(always)]
    unsafe fn row(&mut self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> RowMut<T> {
        // SAFETY: forwarded contract.
        unsafe { NdViewMut::row(self, axes, idx, along, len) }
    }
    #[inline]
    fn done(&mut self) {}
}

impl<T> super::operand::sealed::Sealed for Current<&NdViewMut<'_, T>> {}

/// The current elements of an output a pass also writes (`y += e`).
impl<T: Copy> NdSource for Current<&NdViewMut<'_, T>> {
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
        f(self.0.strides())
    }
    #[inline(always)]
    unsafe fn row(&self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> RowMut<T> {
        // SAFETY: forwarded contract.
        unsafe { NdViewMut::row(self.0, axes, idx, along, len) }
    }
    #[inline(always)]
    unsafe fn shift(&self, row: &RowMut<T>, axis: usize, by: usize) -> RowMut<T> {
        // SAFETY: forwarded contract: the moved row is in the view (read only: a source).
        unsafe { row.moved(by as isize * self.0.strides()[axis]) }
    }
    type Buf = ();
    #[inline(always)]
    unsafe fn unit_row(&self, axes: &[usize], idx: &[usize], along: Along, len: usize, _: &mut ()) -> RowMut<T> {
        // SAFETY: forwarded contract (an output never has stride 0 on a longer axis).
        unsafe { NdViewMut::row(self.0, axes, idx, along, len) }
    }
    type Pack = ();
    #[inline(always)]
    unsafe fn group_rows(&self, row: &RowMut<T>, axis: usize, g: usize, _: usize, _: &mut ()) -> [RowMut<T>; GROUP] {
        // Not packed: the pass writes this output, so no pack of it may be reused.
        super::operand::shifted_group!(self, row, axis, g)
    }
}
