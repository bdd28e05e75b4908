//! N-d input views: `ptr`, a [`Shape`] and strides, read where the array lies.
//!
//! # The contract
//! An [`NdView<'a, T>`] is a pointer `ptr` (logical element `[0, .., 0]`), a shape and one
//! stride per axis, in elements (`isize`: `0` for a broadcast axis, negative for a reversed
//! one). Element `idx` is at `ptr.offset(Σ idx[k] * strides[k])`.
//!
//! - **The invariant** (the one of [`crate::view`], per multi-index): for every `idx` with
//!   `idx[k] < shape[k]`, that address is in bounds of one live allocation, aligned, and valid
//!   for reads during `'a`; nobody writes the elements meanwhile. The sum cannot overflow (it
//!   is an element offset inside one allocation), and every partial sum over a subset of the
//!   axes is one too, so the drivers may add the terms in any order. `ptr` is non-null and
//!   aligned even when the view has no element.
//! - Every method keeps it: [`NdView::insert_axis`] and [`NdView::broadcast_to`] add axes of
//!   stride 0 (or turn a length-1 axis into one: index 0 was valid, so every index is),
//!   [`NdView::reversed_axes`] permutes the axes.
//! - The drivers cut rows out of a view ([`crate::nd::NdSource`]): a 1-D [`View`] along one
//!   axis from the element of a multi-index, which satisfies the 1-D invariant because every
//!   element of the row is an element of the N-d view.

use super::shape::{fits, Shape, MAX_RANK};
use crate::view::View;
use std::marker::PhantomData;

/// A read-only N-d view (module docs): `ptr`, shape, strides in elements.
///
/// ```
/// use loopfuse_runtime::nd::{NdInput, Shape};
/// let a = ndarray::array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
/// let a = &a; // as a kernel's `&Array2<f64>` parameter
/// let v = NdInput::as_nd(&a);
/// assert_eq!((v.shape(), v.strides()), (Shape::new(&[2, 3]), &[3, 1][..]));
/// assert!(v.is_standard_layout() && !v.is_f_layout());
/// let t = v.reversed_axes();
/// assert_eq!((t.shape(), t.strides(), t.is_f_layout()), (Shape::new(&[3, 2]), &[1, 3][..], true));
/// let b = v.insert_axis(0).broadcast_to(Shape::new(&[4, 2, 3]));
/// assert_eq!(b.strides(), &[0, 3, 1]);
/// ```
pub struct NdView<'a, T> {
    ptr: *const T,
    shape: Shape,
    /// `strides[shape.rank()..]` are 0.
    strides: [isize; MAX_RANK],
    life: PhantomData<&'a [T]>,
}

impl<T> Clone for NdView<'_, T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for NdView<'_, T> {}

// SAFETY: an NdView is a shared borrow of `T`s (as `&[T]`), so it may cross and be shared
// between threads when `&T` may, i.e. `T: Sync` (as View).
unsafe impl<T: Sync> Send for NdView<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for NdView<'_, T> {}

impl<'a, T> NdView<'a, T> {
    /// A view from its parts.
    ///
    /// # Safety
    /// The module invariant for `ptr`, `shape` and `strides[..shape.rank()]`.
    #[inline(always)]
    pub(crate) unsafe fn from_raw_parts(ptr: *const T, shape: Shape, strides: &[isize]) -> Self {
        debug_assert_eq!(strides.len(), shape.rank());
        let mut s = [0; MAX_RANK];
        s[..strides.len()].copy_from_slice(strides);
        NdView { ptr, shape, strides: s, life: PhantomData }
    }

    /// A C-order (row-major) view of a slice.
    ///
    /// ```
    /// use loopfuse_runtime::nd::{NdView, Shape};
    /// let x = [1, 2, 3, 4, 5, 6];
    /// let v = NdView::from_slice(&x, Shape::new(&[2, 3]));
    /// assert_eq!(v.strides(), &[3, 1]);
    /// ```
    ///
    /// # Panics
    /// If the slice's length is not the shape's.
    #[track_caller]
    pub fn from_slice(x: &'a [T], shape: Shape) -> Self {
        assert_eq!(x.len(), shape.len(), "loopfuse: a slice of {} elements viewed with shape {shape}", x.len());
        let strides = c_strides(shape);
        // SAFETY: C strides of `shape` address exactly 0..len elements of the slice, which is
        // borrowed for 'a; its pointer is non-null and aligned even when empty.
        unsafe { NdView::from_raw_parts(x.as_ptr(), shape, &strides[..shape.rank()]) }
    }

    /// The shape.
    #[inline(always)]
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The axis lengths, borrowed from the view: what ndarray's `shape()` returns, for the
    /// shape queries of a kernel's loops (`x.shape()[1]`; see [`crate::nd::index`]).
    ///
    /// ```
    /// use loopfuse_runtime::nd::{NdView, Shape};
    /// let x = [0.0; 6];
    /// assert_eq!(NdView::from_slice(&x, Shape::new(&[2, 3])).dims(), &[2, 3]);
    /// ```
    #[inline(always)]
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// The strides as the fixed array (`strides[rank..]` are 0).
    #[inline(always)]
    pub(crate) fn strides_array(&self) -> &[isize; MAX_RANK] {
        &self.strides
    }

    /// The pointer to logical element 0.
    #[inline(always)]
    pub(crate) fn ptr(&self) -> *const T {
        self.ptr
    }

    /// The strides, in elements, one per axis.
    #[inline(always)]
    pub fn strides(&self) -> &[isize] {
        &self.strides[..self.shape.rank()]
    }

    /// The same view with a new axis of length 1 (stride 0) before axis `axis`.
    ///
    /// ```
    /// use loopfuse_runtime::nd::{NdView, Shape};
    /// let x = [1.0, 2.0];
    /// let v = NdView::from_slice(&x, Shape::new(&[2])).insert_axis(1);
    /// assert_eq!((v.shape().dims(), v.strides()), (&[2, 1][..], &[1, 0][..]));
    /// ```
    ///
    /// # Panics
    /// As [`Shape::insert_axis`].
    #[inline]
    #[track_caller]
    pub fn insert_axis(self, axis: usize) -> Self {
        let shape = self.shape.insert_axis(axis);
        let mut strides = self.strides;
        strides.copy_within(axis..self.shape.rank(), axis + 1);
        strides[axis] = 0;
        NdView { shape, strides, ..self }
    }

    /// The transpose (axes in reverse order), no copy.
    ///
    /// ```
    /// use loopfuse_runtime::nd::{NdView, Shape};
    /// let x = [0u8; 6];
    /// let v = NdView::from_slice(&x, Shape::new(&[2, 3])).reversed_axes();
    /// assert_eq!((v.shape().dims(), v.strides()), (&[3, 2][..], &[1, 3][..]));
    /// ```
    #[inline]
    pub fn reversed_axes(self) -> Self {
        let mut strides = self.strides;
        strides[..self.shape.rank()].reverse();
        NdView { shape: self.shape.reversed(), strides, ..self }
    }

    /// The view broadcast to `target`: aligned on trailing axes, stretched (stride 0) where
    /// the view has length 1, new leading axes of stride 0.
    ///
    /// ```
    /// use loopfuse_runtime::nd::{NdView, Shape};
    /// let b = [1.0, 2.0, 3.0];
    /// let v = NdView::from_slice(&b, Shape::new(&[3])).broadcast_to(Shape::new(&[2, 3]));
    /// assert_eq!(v.strides(), &[0, 1]);
    /// ```
    ///
    /// # Panics
    /// If the view does not fit `target`: a bug in the generated code, which checked the
    /// shapes ([`crate::nd::broadcast`]) before.
    #[inline]
    #[track_caller]
    pub fn broadcast_to(self, target: Shape) -> Self {
        assert!(fits(self.shape, target), "loopfuse: a view of shape {} broadcast to {target}", self.shape);
        let (rank, t) = (self.shape.rank(), target.rank());
        let mut strides = [0; MAX_RANK];
        for back in 0..rank {
            let (from, to) = (rank - 1 - back, t - 1 - back);
            // A length-1 axis keeps stride 0 unless the target has length 1 there too (either
            // is fine then: only index 0 exists).
            if self.shape.dims()[from] == target.dims()[to] {
                strides[to] = self.strides[from];
            }
        }
        NdView { shape: target, strides, ..self }
    }

    /// `true` when the view is C-contiguous (row-major, no gap, no broadcast): axes of length
    /// 1 are ignored, as their stride is never used. An empty view is contiguous.
    ///
    /// ```
    /// use loopfuse_runtime::nd::{NdView, Shape};
    /// let x = [0.0; 6];
    /// assert!(NdView::from_slice(&x, Shape::new(&[2, 3])).insert_axis(0).is_standard_layout());
    /// ```
    #[inline]
    pub fn is_standard_layout(&self) -> bool {
        is_c_contiguous(self.shape, self.strides())
    }

    /// `true` when the view is F-contiguous (column-major), with the same rules as
    /// [`NdView::is_standard_layout`].
    ///
    /// ```
    /// use loopfuse_runtime::nd::{NdView, Shape};
    /// let x = [0.0; 6];
    /// assert!(NdView::from_slice(&x, Shape::new(&[2, 3])).reversed_axes().is_f_layout());
    /// ```
    #[inline]
    pub fn is_f_layout(&self) -> bool {
        let mut s = *self;
        s = s.reversed_axes();
        s.is_standard_layout()
    }

    /// `true` when some axis of length > 1 has stride 0.
    #[inline]
    pub(crate) fn is_broadcast(&self) -> bool {
        self.shape.dims().iter().zip(self.strides()).any(|(&len, &s)| len > 1 && s == 0)
    }

    /// The same layout with the element type erased, for [`crate::nd::prefers_f`] (which looks
    /// at shapes and strides only, for views of different element types).
    ///
    /// ```
    /// use loopfuse_runtime::nd::{prefers_f, NdView, Shape};
    /// let x = [0.0f64; 6];
    /// let m = [0u8; 6];
    /// let x = NdView::from_slice(&x, Shape::new(&[3, 2])).reversed_axes();
    /// let m = NdView::from_slice(&m, Shape::new(&[3, 2])).reversed_axes();
    /// assert!(prefers_f(&[x.erase(), m.erase()]));
    /// ```
    #[inline(always)]
    pub fn erase(self) -> NdView<'a, ()> {
        NdView { ptr: self.ptr.cast(), shape: self.shape, strides: self.strides, life: PhantomData }
    }

    /// The row along `along` (from the element at index `idx[k]` of axis `axes[k]`, every
    /// other axis at 0): `len` elements, or the whole view as one unit-stride run for
    /// [`Along::Flat`].
    ///
    /// # Safety
    /// `idx[k] < shape[axes[k]]` (axes distinct, none equal to the row's axis);
    /// `Along::Axis(a)`: `len <= shape[a]` (`len` elements from index 0 of axis `a`);
    /// `Along::Flat`: the view is C-contiguous and `len <= shape.len()`.
    #[inline(always)]
    pub(crate) unsafe fn row(&self, axes: &[usize], idx: &[usize], along: Along, len: usize) -> View<'a, T> {
        let stride = match along {
            Along::Flat => 1,
            Along::Axis(a) => self.strides[a],
        };
        if len == 0 {
            // No element is read; the start may not exist (a row along an empty axis of a
            // view with no element), so keep `ptr`, which is valid and aligned.
            // SAFETY: a View of no element only needs a non-null, aligned pointer.
            return unsafe { View::from_raw_parts(self.ptr, 0, stride) };
        }
        // SAFETY: len > 0 and the indices are in bounds (caller), so `offset` is the offset of
        // an element of the view (invariant), and the row's elements are elements of the
        // view: the 1-D invariant holds.
        unsafe { View::from_raw_parts(self.ptr.offset(offset(&self.strides, axes, idx)), len, stride) }
    }
}

/// How a driver cuts a row out of an operand.
#[derive(Clone, Copy, Debug)]
pub enum Along {
    /// The whole C-contiguous operand, as one unit-stride run.
    Flat,
    /// Along this axis, from index 0, with the axis's stride.
    Axis(usize),
}

/// `Σ idx[k] * strides[axes[k]]`.
#[inline(always)]
pub(crate) fn offset(strides: &[isize; MAX_RANK], axes: &[usize], idx: &[usize]) -> isize {
    let mut off = 0;
    for (&a, &i) in axes.iter().zip(idx) {
        off += i as isize * strides[a];
    }
    off
}

/// The C-order strides of `shape` (slots past the rank are 0).
#[inline]
pub(crate) fn c_strides(shape: Shape) -> [isize; MAX_RANK] {
    let mut s = [0; MAX_RANK];
    let mut step = 1isize;
    for k in (0..shape.rank()).rev() {
        s[k] = step;
        step *= shape.dims()[k] as isize;
    }
    s
}

/// The F-order strides of `shape`.
#[inline]
pub(crate) fn f_strides(shape: Shape) -> [isize; MAX_RANK] {
    let mut s = [0; MAX_RANK];
    let mut step = 1isize;
    for (s, &len) in s.iter_mut().zip(shape.dims()) {
        *s = step;
        step *= len as isize;
    }
    s
}

/// C-contiguous: axes of length 1 ignored, empty is contiguous.
#[inline]
pub(crate) fn is_c_contiguous(shape: Shape, strides: &[isize]) -> bool {
    if shape.is_empty() {
        return true;
    }
    let mut step = 1isize;
    for k in (0..shape.rank()).rev() {
        let len = shape.dims()[k];
        if len != 1 {
            if strides[k] != step {
                return false;
            }
            step *= len as isize;
        }
    }
    true
}

/// Whether a fresh result should be F order: every given view (already broadcast to the
/// result's shape) that is not broadcast on any axis is F-contiguous and not C-contiguous,
/// and at least one such view exists. NumPy's "K order" for the common cases: elementwise
/// results of F inputs are F, so the loops over them stay unit-stride.
///
/// The views are type-erased ([`NdView::erase`]) so that one slice holds views of different
/// element types: the generated code writes `prefers_f(&[x.erase(), m.erase()])`.
///
/// ```
/// use loopfuse_runtime::nd::{prefers_f, NdView, Shape};
/// let a = [0.0; 6];
/// let c = NdView::from_slice(&a, Shape::new(&[2, 3]));
/// let f = NdView::from_slice(&a, Shape::new(&[3, 2])).reversed_axes();
/// let row = NdView::from_slice(&a[..3], Shape::new(&[3])).broadcast_to(Shape::new(&[2, 3]));
/// assert!(prefers_f(&[f.erase(), row.erase()]));
/// assert!(!prefers_f(&[f.erase(), c.erase()]));
/// assert!(!prefers_f(&[row.erase()]));
/// ```
pub fn prefers_f(views: &[NdView<'_, ()>]) -> bool {
    let mut any = false;
    for v in views.iter().filter(|v| !v.is_broadcast()) {
        if !v.is_f_layout() || v.is_standard_layout() {
            return false;
        }
        any = true;
    }
    any
}

pub(crate) mod sealed {
    /// The seal of [`super::NdInput`] (as [`crate::private::Sealed`] for the 1-D inputs; a
    /// separate trait, because `ArrayView<T, Ix1>` is sealed there already).
    pub trait NdSealed {}
}

/// What a kernel accepts as an N-d input: an ndarray array or view of any dimension
/// (`Ix1`..`Ix6`, `IxDyn`), any strides, read where it lies.
///
/// Generated code writes `let x = __lf::nd::NdInput::as_nd(&x);` for a parameter `x` that is
/// an `ArrayView<T, D>` (by value), or a reference to any array (`&Array<T, D>`,
/// `&ArrayView<T, D>`, `&ArcArray<T, D>`).
///
/// ```
/// use loopfuse_runtime::nd::NdInput;
/// use ndarray::{Array2, ArrayView2, ArrayViewD};
/// let a = Array2::<f64>::zeros((2, 3));
/// fn by_view(x: ArrayView2<f64>) -> usize { NdInput::as_nd(&x).shape().len() }
/// fn by_ref(x: &Array2<f64>) -> usize { NdInput::as_nd(&x).shape().len() }
/// fn by_ref_view(x: &ArrayView2<f64>) -> usize { NdInput::as_nd(&x).shape().len() }
/// fn dyn_view(x: ArrayViewD<f64>) -> usize { NdInput::as_nd(&x).shape().rank() }
/// assert_eq!((by_view(a.view()), by_ref(&a), by_ref_view(&a.view()), dyn_view(a.view().into_dyn())), (6, 6, 6, 2));
/// ```
///
/// Sealed: the drivers trust what a view says about its memory.
///
/// ```compile_fail
/// struct Mine;
/// impl loopfuse_runtime::nd::NdInput for Mine {
///     type Elem = f64;
///     fn as_nd(&self) -> loopfuse_runtime::nd::NdView<'_, f64> { unimplemented!() }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a loopfuse N-d array input",
    label = "not an N-d array input",
    note = "an N-d array parameter is `ArrayView<T, D>`, `&Array<T, D>`, `ArrayViewD<T>` or `&ArrayD<T>` (any dimension `Ix1`..`Ix6`, `IxDyn`)"
)]
pub trait NdInput: sealed::NdSealed {
    /// The element type.
    type Elem: Copy;
    /// The elements where they lie, any strides, never copied. The view borrows `self`: bind
    /// it (`let x = NdInput::as_nd(&x);`), do not call it on a temporary.
    ///
    /// # Panics
    /// If an `IxDyn` array has more than [`MAX_RANK`] axes.
    fn as_nd(&self) -> NdView<'_, Self::Elem>;
}

#[cfg(feature = "ndarray")]
mod ndarray_impls {
    use super::*;
    use ndarray::{ArrayBase, ArrayView, Data, Dimension};

    impl<'a, T, D: Dimension> From<ArrayView<'a, T, D>> for NdView<'a, T> {
        /// Any strides, negative and zero included: `as_ptr` is logical element 0.
        ///
        /// # Panics
        /// Past [`MAX_RANK`] axes.
        #[inline]
        #[track_caller]
        fn from(v: ArrayView<'a, T, D>) -> Self {
            let shape = Shape::new(v.shape());
            // SAFETY: an ndarray view upholds the invariant: every multi-index in bounds
            // addresses an element of its allocation, borrowed for 'a, and its pointer is
            // non-null and aligned even when empty (ndarray's own invariant).
            unsafe { NdView::from_raw_parts(v.as_ptr(), shape, v.strides()) }
        }
    }

    impl<T: Copy, D: Dimension> sealed::NdSealed for ArrayView<'_, T, D> {}

    impl<T: Copy, D: Dimension> NdInput for ArrayView<'_, T, D> {
        type Elem = T;
        #[inline]
        fn as_nd(&self) -> NdView<'_, T> {
            NdView::from(self.view())
        }
    }

    impl<T: Copy, S: Data<Elem = T>, D: Dimension> sealed::NdSealed for &ArrayBase<S, D> {}

    impl<T: Copy, S: Data<Elem = T>, D: Dimension> NdInput for &ArrayBase<S, D> {
        type Elem = T;
        #[inline]
        fn as_nd(&self) -> NdView<'_, T> {
            NdView::from((**self).view())
        }
    }
}

#[cfg(all(test, feature = "ndarray"))]
mod tests {
    use super::*;
    use ndarray::{s, Array2, Array3, ShapeBuilder};

    #[test]
    fn from_ndarray_layouts() {
        let a = Array2::<f64>::zeros((3, 4));
        let a = &a;
        let v = NdInput::as_nd(&a);
        assert!(v.is_standard_layout());
        let f = Array2::<f64>::zeros((3, 4).f());
        let f = &f;
        let v = NdInput::as_nd(&f);
        assert!(v.is_f_layout() && !v.is_standard_layout());
        let r = a.slice(s![..;-1, ..;2]);
        let v = NdInput::as_nd(&r);
        assert_eq!(v.strides(), &[-4, 2]);
        assert!(!v.is_standard_layout() && !v.is_f_layout());
        // Length-1 axes are ignored by the layout checks.
        let c = Array3::<f64>::zeros((3, 1, 4));
        let c = &c;
        let v = NdInput::as_nd(&c);
        assert!(v.is_standard_layout());
        let col = a.slice(s![.., 1..2]);
        // A column of a C matrix: its elements are 4 apart, in neither order.
        assert!(!NdInput::as_nd(&col).is_standard_layout() && !NdInput::as_nd(&col).is_f_layout());
    }

    #[test]
    fn broadcast_strides() {
        let a = Array2::<f64>::zeros((3, 1));
        let a = &a;
        let v = NdInput::as_nd(&a).broadcast_to(Shape::new(&[2, 3, 5]));
        assert_eq!(v.strides(), &[0, 1, 0]);
        assert!(v.is_broadcast());
        assert!(!prefers_f(&[v.erase()]));
    }

    #[test]
    #[should_panic(expected = "broadcast to")]
    fn broadcast_misfit_panics() {
        let a = Array2::<f64>::zeros((3, 2));
        NdInput::as_nd(&&a).broadcast_to(Shape::new(&[3, 4]));
    }
}
