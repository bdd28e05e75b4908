//! Outputs: fresh arrays written once (uninitialized, huge pages when large) and `&mut`
//! parameters written in place.

use crate::private::Sealed;
use crate::view::ViewMut;

/// Outputs at least this large get transparent huge pages on Linux.
pub const HUGE_PAGE_THRESHOLD: usize = 2 << 20;

/// A fresh output of `len` elements, allocated uninitialized and filled by one pass.
///
/// Only the pass driver writes it; [`OutBuf::into_vec`] hands out the elements once the
/// driver has written all of them, so no uninitialized element is ever visible.
pub struct OutBuf<T> {
    vec: Vec<T>,
    len: usize,
    written: bool,
}

impl<T> OutBuf<T> {
    /// Reserves `len` elements without initializing them.
    pub fn new(len: usize) -> Self {
        let vec: Vec<T> = Vec::with_capacity(len);
        advise_huge_pages(vec.as_ptr().cast(), len.saturating_mul(std::mem::size_of::<T>()));
        OutBuf { vec, len, written: false }
    }

    /// The number of elements the pass must write.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when the output has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Writes element `i`.
    ///
    /// # Safety
    /// `i < self.len()`.
    #[inline(always)]
    pub(crate) unsafe fn write(&mut self, i: usize, value: T) {
        // SAFETY: the caller guarantees i < len <= capacity.
        unsafe { self.vec.as_mut_ptr().add(i).write(value) }
    }

    /// The address of element 0 (valid for writes of `len` elements).
    #[inline(always)]
    pub(crate) fn as_mut_ptr(&mut self) -> *mut T {
        self.vec.as_mut_ptr()
    }

    /// The address of element 0, for reads once [`OutBuf::is_written`].
    #[inline(always)]
    pub(crate) fn as_ptr(&self) -> *const T {
        self.vec.as_ptr()
    }

    /// Whether a pass wrote every element.
    #[inline(always)]
    pub(crate) fn is_written(&self) -> bool {
        self.written
    }

    /// Records that elements `0..len` have all been written.
    pub(crate) fn mark_written(&mut self) {
        self.written = true;
    }

    /// The written elements.
    ///
    /// # Panics
    /// If no pass filled the buffer (a bug in the generated code, never user input).
    pub fn into_vec(mut self) -> Vec<T> {
        assert!(self.written, "loopfuse: output read before its pass wrote it");
        // SAFETY: `written` is set only by the pass driver after it wrote every index in
        // 0..len, and len <= capacity.
        unsafe { self.vec.set_len(self.len) };
        self.vec
    }

    /// The written elements as an `ndarray::Array1`.
    #[cfg(feature = "ndarray")]
    pub fn into_array1(self) -> ndarray::Array1<T> {
        ndarray::Array1::from_vec(self.into_vec())
    }

    /// The written elements as a 1-D array of the dimension type the kernel returns
    /// (`ArrayD<T>`, `Array<T, Ix1>`).
    ///
    /// # Panics
    /// If `D` has a fixed rank other than 1 (the macro rejects such a kernel first).
    #[cfg(feature = "ndarray")]
    pub fn into_array_nd<D: ndarray::Dimension>(self) -> ndarray::Array<T, D> {
        self.into_array1().into_dimensionality().expect("loopfuse: a 1-D result returned with another rank")
    }
}

/// A selection returned as an array (`x[x > 0.0]` as a kernel's result), compacted into one
/// allocation of its exact length.
///
/// Sized by counting first: the kernel's earlier pass counts the mask (a vectorized
/// reduction), this output reserves exactly `count` elements, and the writing pass offers
/// each of the `n` elements with its mask bit; the kept ones are written one after the
/// other. The alternative, reserving `n` and truncating, would hold the input's length of
/// memory for a result that may be a few elements, or copy to shrink it; counting costs one
/// more read of the mask's inputs and never over-allocates.
///
/// ```
/// use loopfuse_runtime::{output::Compact, pass::pass};
/// let x: &[f64] = &[1.0, -2.0, 3.0];
/// let mut out = Compact::new(2, 3);
/// pass(3, (x,), (), (&mut out,), |(x,)| ((), ((x > 0.0, x),)));
/// assert_eq!(out.into_vec(), [1.0, 3.0]);
/// ```
pub struct Compact<T> {
    out: OutBuf<T>,
    /// Elements offered by the pass.
    offered: usize,
    /// Elements kept so far.
    next: usize,
}

impl<T> Compact<T> {
    /// An output for `count` kept elements out of `offered`.
    pub fn new(count: usize, offered: usize) -> Self {
        Compact { out: OutBuf::new(count), offered, next: 0 }
    }

    /// The elements offered by the pass (the pass's length).
    pub fn offered(&self) -> usize {
        self.offered
    }

    /// Keeps `value` after the ones kept before.
    ///
    /// # Panics
    /// If more elements are kept than were counted (the mask gave another answer in the
    /// counting pass: a bug in the generated code, never user input).
    #[inline(always)]
    pub(crate) fn keep(&mut self, value: T) {
        assert!(self.next < self.out.len(), "loopfuse: a selection kept more elements than it counted");
        // SAFETY: next < len, just checked.
        unsafe { self.out.write(self.next, value) };
        self.next += 1;
    }

    /// Records that the pass is done; every counted element must have been kept.
    pub(crate) fn finish(&mut self) {
        assert_eq!(self.next, self.out.len(), "loopfuse: a selection kept fewer elements than it counted");
        self.out.mark_written();
    }

    /// The kept elements.
    pub fn into_vec(self) -> Vec<T> {
        self.out.into_vec()
    }

    /// The kept elements as an `ndarray::Array1`.
    #[cfg(feature = "ndarray")]
    pub fn into_array1(self) -> ndarray::Array1<T> {
        self.out.into_array1()
    }
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *const u8, bytes: usize) {
    const HUGE: usize = 2 << 20;
    if bytes < HUGE_PAGE_THRESHOLD {
        return;
    }
    let start = (ptr as usize).next_multiple_of(HUGE);
    let end = (ptr as usize + bytes) & !(HUGE - 1);
    if end > start {
        // SAFETY: [start, end) lies inside the allocation just made; MADV_HUGEPAGE only
        // changes how the kernel backs the pages, never their contents, and a failure
        // (THP disabled) is harmless, so the result is ignored.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_ptr: *const u8, _bytes: usize) {}

/// A value a kernel accepts as a `&mut` output parameter.
///
/// Written in place, any stride, never staged: `into_view_mut` is what the kernel holds.
///
/// ```
/// use loopfuse_runtime::KernelOutput;
/// let mut y = vec![1.0, 2.0];
/// (&mut y).into_view_mut().set(0, 5.0);
/// assert_eq!(y, [5.0, 2.0]);
/// ```
///
/// Sealed, as [`crate::KernelInput`] is.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a loopfuse output",
    label = "not a 1-D output",
    note = "outputs are `&mut [T]`, `&mut Vec<T>`, `ArrayViewMut1<T>`, `&mut Array1<T>`"
)]
pub trait KernelOutput<'a>: Sealed {
    /// The element type.
    type Elem: Copy;
    /// The output where it lies, any stride, never staged ([`crate::view`]).
    ///
    /// ```
    /// use loopfuse_runtime::KernelOutput;
    /// let mut y = vec![1.0, 2.0];
    /// let v = (&mut y).into_view_mut();
    /// v.set(1, v.get(0) + 5.0);
    /// assert_eq!(y, [1.0, 6.0]);
    /// ```
    fn into_view_mut(self) -> ViewMut<'a, Self::Elem>;
}

impl<T: Copy> Sealed for &mut [T] {}
impl<'a, T: Copy> KernelOutput<'a> for &'a mut [T] {
    type Elem = T;
    #[inline(always)]
    fn into_view_mut(self) -> ViewMut<'a, T> {
        ViewMut::from(self)
    }
}

impl<T: Copy> Sealed for &mut Vec<T> {}
impl<'a, T: Copy> KernelOutput<'a> for &'a mut Vec<T> {
    type Elem = T;
    #[inline(always)]
    fn into_view_mut(self) -> ViewMut<'a, T> {
        ViewMut::from(self.as_mut_slice())
    }
}

#[cfg(feature = "ndarray")]
impl<T: Copy> Sealed for ndarray::ArrayViewMut1<'_, T> {}
#[cfg(feature = "ndarray")]
impl<'a, T: Copy> KernelOutput<'a> for ndarray::ArrayViewMut1<'a, T> {
    type Elem = T;
    #[inline(always)]
    fn into_view_mut(self) -> ViewMut<'a, T> {
        ViewMut::from(self)
    }
}

#[cfg(feature = "ndarray")]
impl<T: Copy> Sealed for &mut ndarray::Array1<T> {}
#[cfg(feature = "ndarray")]
impl<'a, T: Copy> KernelOutput<'a> for &'a mut ndarray::Array1<T> {
    type Elem = T;
    #[inline(always)]
    fn into_view_mut(self) -> ViewMut<'a, T> {
        ViewMut::from(ndarray::ArrayBase::view_mut(self))
    }
}
