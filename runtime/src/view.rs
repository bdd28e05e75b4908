//! Views: array inputs and outputs as `(ptr, len, stride)`, read and written where they lie.
//!
//! # The contract
//! A [`View<'a, T>`] (input) or [`ViewMut<'a, T>`] (output) is a pointer `ptr`, a length
//! `len` and a `stride` in elements (an `isize`: negative for a reversed view, `0` for a
//! broadcast input). Element `i` is at `ptr.offset(i * stride)`. The layout is read once,
//! when the view is built from what the user passed, and never changes.
//!
//! - **Accepted layouts.** `View`: `&[T]`, `&Vec<T>`, `&[T; N]` (stride 1), ndarray
//!   `ArrayView1` / `&Array1` of any stride, negative and zero included. `ViewMut`:
//!   `&mut [T]`, `&mut Vec<T>` (stride 1), ndarray `ArrayViewMut1` / `&mut Array1` of any
//!   stride but 0 (ndarray never hands out a mutable view whose elements alias). A view of
//!   `len` 0 or 1 is contiguous whatever its stride says.
//! - **The invariant** every constructor establishes, and every method keeps: for each
//!   `i < len`, `ptr.offset(i * stride)` is in bounds of one live allocation, aligned, and
//!   valid for reads during `'a` (`View`: the elements are shared, nobody writes them) or
//!   for reads and writes during `'a` and through this view only (`ViewMut`: it stands for
//!   the unique borrow it was made from). `i * stride` cannot overflow: it is the element
//!   offset inside one allocation.
//! - **Unchecked access.** The pass driver reads element `i` with no bounds check: it checked
//!   once, before the loop, that `n <= len` for every view of the pass, and only reads
//!   `i < n`. Everything else (`Index`, [`ViewMut::get`] / [`ViewMut::set`], `window`,
//!   `split_at`) checks and panics as a slice would.
//! - **Reading and writing one output in one pass** (`y += x` reads and writes `y`): the pass
//!   holds two shared references to the same `ViewMut`, one as a [`crate::pass::Sink`] and
//!   one as a [`crate::pass::Current`] source. Both go through the raw pointer derived from
//!   the unique borrow, and no `&`/`&mut` to an element is ever created, so the read of
//!   element `i` and its write never conflict (element `i` is read before it is written,
//!   in the same iteration). This is why `ViewMut::set` takes `&self`, like `Cell::set`, and
//!   why `ViewMut` is `Send` but not `Sync`; [`ViewMut::split_at`] (by value) cuts it into
//!   disjoint halves that can go to two threads.
//! - **Layout fast path.** The driver asks once per pass whether every view is unit-stride
//!   ([`crate::pass::Source::is_unit_stride`]); if so it runs the loop over slices and raw
//!   unit-stride pointers ([`crate::pass::Source::Flat`]), the very loop the slice API
//!   compiles to; otherwise one strided loop, still without a copy or an allocation.
//!
//! N-d views ([`crate::nd::NdView`]) are `dims` + `strides` with the same invariant per
//! multi-index; the 1-D views here are the rows of those loops, so nothing here assumes a
//! whole array is 1-D.

use crate::__private::window_fail;
use std::marker::PhantomData;

/// A read-only 1-D view: element `i` at `ptr + i * stride` (module docs).
///
/// ```
/// use loopfuse_runtime::view::View;
/// let x = [1.0, 2.0, 3.0, 4.0];
/// let v = View::from(&x[..]);
/// assert_eq!((v.len(), v[2], v.is_contiguous()), (4, 3.0, true));
/// let (a, b) = v.split_at(1);
/// assert_eq!((a.len(), b[0]), (1, 2.0));
/// ```
pub struct View<'a, T> {
    ptr: *const T,
    len: usize,
    stride: isize,
    life: PhantomData<&'a [T]>,
}

impl<T> Clone for View<'_, T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for View<'_, T> {}

// SAFETY: a View is a shared borrow of `T`s (as `&[T]`), so it may cross and be shared
// between threads when `&T` may, i.e. `T: Sync`.
unsafe impl<T: Sync> Send for View<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for View<'_, T> {}

impl<'a, T> From<&'a [T]> for View<'a, T> {
    #[inline(always)]
    fn from(s: &'a [T]) -> Self {
        View { ptr: s.as_ptr(), len: s.len(), stride: 1, life: PhantomData }
    }
}

#[cfg(feature = "ndarray")]
impl<'a, T> From<ndarray::ArrayView1<'a, T>> for View<'a, T> {
    /// Any stride, negative and zero included: `as_ptr` is logical element 0.
    #[inline(always)]
    fn from(v: ndarray::ArrayView1<'a, T>) -> Self {
        View { ptr: v.as_ptr(), len: v.len(), stride: v.strides()[0], life: PhantomData }
    }
}

impl<'a, T> View<'a, T> {
    /// A view from its parts (the N-d runtime cuts rows out of an [`crate::nd::NdView`]).
    ///
    /// # Safety
    /// The module invariant: for each `i < len`, `ptr.offset(i * stride)` is in bounds of one
    /// live allocation, aligned, and valid for reads during `'a`; `ptr` is non-null and
    /// aligned even for `len` 0.
    #[inline(always)]
    pub(crate) unsafe fn from_raw_parts(ptr: *const T, len: usize, stride: isize) -> Self {
        View { ptr, len, stride, life: PhantomData }
    }

    /// The same row `by` elements further on (the N-d drivers step a row along an axis).
    ///
    /// # Safety
    /// The moved view satisfies the invariant of [`View::from_raw_parts`].
    #[inline(always)]
    pub(crate) unsafe fn moved(self, by: isize) -> Self {
        if self.len == 0 {
            return self;
        }
        // SAFETY: the caller's contract: the moved start is an element of the allocation.
        View { ptr: unsafe { self.ptr.offset(by) }, ..self }
    }

    /// The number of elements.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when there is no element.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The distance between consecutive elements, in elements.
    #[inline(always)]
    pub fn stride(&self) -> isize {
        self.stride
    }

    /// The address of element 0 (a pack remembers where its rows started).
    #[inline(always)]
    pub(crate) fn as_ptr(&self) -> *const T {
        self.ptr
    }

    /// `true` when the elements are consecutive in memory, in order (stride 1, or at most
    /// one element).
    #[inline(always)]
    pub fn is_contiguous(&self) -> bool {
        self.stride == 1 || self.len <= 1
    }

    /// The elements as a slice, when they are contiguous.
    #[inline(always)]
    pub fn as_slice(&self) -> Option<&'a [T]> {
        if self.is_contiguous() {
            // SAFETY: contiguous: elements 0..len are consecutive from ptr and valid for
            // reads during 'a (invariant); ptr is non-null and aligned even for len 0 (it
            // comes from a slice or an ndarray view).
            Some(unsafe { std::slice::from_raw_parts(self.ptr, self.len) })
        } else {
            None
        }
    }

    /// Element `i`, or `None` past the end.
    #[inline(always)]
    pub fn get(&self, i: usize) -> Option<&'a T> {
        if i < self.len {
            // SAFETY: i < len (invariant).
            Some(unsafe { &*self.at(i) })
        } else {
            None
        }
    }

    /// The elements in order, as `slice::iter` (a loop that runs in order iterates an input
    /// this way in the strided body: `for v in x.iter()`, `for v in x`).
    ///
    /// ```
    /// use loopfuse_runtime::view::View;
    /// let x = [1, 2, 3, 4];
    /// let v = View::from(&x[..]).split_at(1).1;
    /// assert_eq!(v.iter().copied().collect::<Vec<_>>(), [2, 3, 4]);
    /// ```
    #[inline(always)]
    pub fn iter(&self) -> Iter<'a, T> {
        Iter { view: *self, next: 0 }
    }

    /// The elements, copied into `buf` (cleared first): a strided view packed for a loop over
    /// a slice.
    ///
    /// ```
    /// use loopfuse_runtime::view::View;
    /// let x = [1, 2, 3, 4, 5];
    /// let col = View::from(ndarray::ArrayView1::from(&x[..]).slice_move(ndarray::s![..;2]));
    /// let mut buf = vec![9; 7];
    /// col.copy_into(&mut buf);
    /// assert_eq!(buf, [1, 3, 5]);
    /// ```
    #[inline]
    pub fn copy_into(&self, buf: &mut Vec<T>)
    where
        T: Copy,
    {
        buf.clear();
        buf.reserve(self.len);
        let dst = buf.as_mut_ptr();
        for i in 0..self.len {
            // SAFETY: i < len, so `at(i)` is valid for reads (invariant); `reserve` made room
            // for `len` elements at `dst`.
            unsafe { dst.add(i).write(*self.at(i)) };
        }
        // SAFETY: the first `len` elements were written just above (`T: Copy`, no drop).
        unsafe { buf.set_len(self.len) };
    }

    /// The address of element 0 (`crate::packing` compares windows by address).
    #[inline(always)]
    pub(crate) fn ptr(&self) -> *const T {
        self.ptr
    }

    /// Element `i`, unchecked.
    ///
    /// # Safety
    /// `i < self.len()`.
    #[inline(always)]
    pub unsafe fn get_unchecked(&self, i: usize) -> &'a T {
        // SAFETY: i < len (caller), so the element is valid for reads during 'a (invariant).
        unsafe { &*self.at(i) }
    }

    /// The address of element `i`.
    ///
    /// # Safety
    /// `i < self.len()`.
    #[inline(always)]
    unsafe fn at(&self, i: usize) -> *const T {
        // SAFETY: i < len: the offset stays inside the allocation (invariant).
        unsafe { self.ptr.offset(i as isize * self.stride) }
    }

    /// Elements `..mid` and `mid..`.
    ///
    /// # Panics
    /// If `mid > len`, as `slice::split_at`.
    #[inline]
    #[track_caller]
    pub fn split_at(self, mid: usize) -> (Self, Self) {
        assert!(mid <= self.len, "mid > len");
        // An empty right half keeps `ptr`: element `mid` may lie past the allocation.
        let right = if mid < self.len {
            // SAFETY: mid < len.
            unsafe { self.at(mid) }
        } else {
            self.ptr
        };
        (View { len: mid, ..self }, View { ptr: right, len: self.len - mid, ..self })
    }

    /// The elements an explicit loop `for i in lo..hi` reads as `x[i + k]`: element `j` of
    /// the result is `x[lo + k + j]`. Checked once, with the same rule and panic text as
    /// [`crate::__private::window`]; an empty range reads nothing and never panics.
    ///
    /// ```
    /// use loopfuse_runtime::view::View;
    /// let x = [0, 1, 2, 3, 4];
    /// let w = View::from(&x[..]).window("k", "x", 1, 4, -1);
    /// assert_eq!((w.len(), w[0], w[2]), (3, 0, 2));
    /// ```
    ///
    /// # Panics
    /// With the index range and the length, if the loop would index out of bounds.
    #[inline]
    pub fn window(self, kernel: &str, name: &str, lo: usize, hi: usize, k: isize) -> Self {
        match window_range(self.len, lo, hi, k) {
            Ok(None) => View { len: 0, ..self },
            // SAFETY: first <= last < len.
            Ok(Some((first, last))) => View { ptr: unsafe { self.at(first) }, len: last - first + 1, ..self },
            Err(()) => window_fail(kernel, name, self.len, lo, hi, k),
        }
    }
}

/// The elements of a [`View`] in order ([`View::iter`]).
pub struct Iter<'a, T> {
    view: View<'a, T>,
    /// Elements `..next` were returned; `next <= view.len`.
    next: usize,
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;
    #[inline(always)]
    fn next(&mut self) -> Option<&'a T> {
        let e = self.view.get(self.next)?;
        self.next += 1;
        Some(e)
    }
    #[inline(always)]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let rest = self.view.len - self.next;
        (rest, Some(rest))
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}

impl<'a, T> IntoIterator for View<'a, T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;
    #[inline(always)]
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<'a, T> IntoIterator for &View<'a, T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;
    #[inline(always)]
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> std::ops::Index<usize> for View<'_, T> {
    type Output = T;
    /// # Panics
    /// Past the end, with a slice's message.
    #[inline(always)]
    #[track_caller]
    fn index(&self, i: usize) -> &T {
        match self.get(i) {
            Some(x) => x,
            None => index_fail(i, self.len),
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for View<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries((0..self.len).map(|i| &self[i])).finish()
    }
}

/// The index range `first..=last` of a window, `None` when empty, `Err` out of bounds.
#[inline(always)]
fn window_range(len: usize, lo: usize, hi: usize, k: isize) -> Result<Option<(usize, usize)>, ()> {
    if hi <= lo {
        return Ok(None);
    }
    // In i128: no index range or offset near the ends of usize can wrap.
    let first = lo as i128 + k as i128;
    let last = hi as i128 - 1 + k as i128;
    if first < 0 || last >= len as i128 {
        return Err(());
    }
    Ok(Some((first as usize, last as usize)))
}

#[cold]
#[inline(never)]
#[track_caller]
fn index_fail(index: usize, len: usize) -> ! {
    panic!("index out of bounds: the len is {len} but the index is {index}")
}

/// A writable 1-D view: element `i` at `ptr + i * stride`, standing for a unique borrow
/// (module docs). Not `Copy`, not `Sync`; `Send`, and [`ViewMut::split_at`] cuts it in two.
///
/// ```
/// use loopfuse_runtime::view::ViewMut;
/// let mut y = [1.0, 2.0, 3.0];
/// let v = ViewMut::from(&mut y[..]);
/// v.set(0, v.get(2) * 2.0);
/// let (a, b) = v.split_at(1);
/// b.set(0, a.get(0));
/// assert_eq!(y, [6.0, 6.0, 3.0]);
/// ```
pub struct ViewMut<'a, T> {
    ptr: *mut T,
    len: usize,
    stride: isize,
    life: PhantomData<&'a mut T>,
}

// SAFETY: a ViewMut is a unique borrow of `T`s (as `&mut [T]`), so it may move to another
// thread when `T` may. It is not Sync: `set` takes `&self`.
unsafe impl<T: Send> Send for ViewMut<'_, T> {}

impl<'a, T> From<&'a mut [T]> for ViewMut<'a, T> {
    #[inline(always)]
    fn from(s: &'a mut [T]) -> Self {
        ViewMut { ptr: s.as_mut_ptr(), len: s.len(), stride: 1, life: PhantomData }
    }
}

#[cfg(feature = "ndarray")]
impl<'a, T> From<ndarray::ArrayViewMut1<'a, T>> for ViewMut<'a, T> {
    /// Any stride: `as_mut_ptr` is logical element 0, and ndarray never aliases the
    /// elements of a mutable view (stride 0 only with at most one element).
    #[inline(always)]
    fn from(mut v: ndarray::ArrayViewMut1<'a, T>) -> Self {
        let (len, stride) = (v.len(), v.strides()[0]);
        debug_assert!(stride != 0 || len <= 1);
        ViewMut { ptr: v.as_mut_ptr(), len, stride, life: PhantomData }
    }
}

impl<'a, T> ViewMut<'a, T> {
    /// The number of elements.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when there is no element.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The distance between consecutive elements, in elements.
    #[inline(always)]
    pub fn stride(&self) -> isize {
        self.stride
    }

    /// `true` when the elements are consecutive in memory, in order.
    #[inline(always)]
    pub fn is_contiguous(&self) -> bool {
        self.stride == 1 || self.len <= 1
    }

    /// The address of element `i`.
    ///
    /// # Safety
    /// `i < self.len()`.
    #[inline(always)]
    pub(crate) unsafe fn at(&self, i: usize) -> *mut T {
        // SAFETY: i < len: the offset stays inside the allocation (invariant).
        unsafe { self.ptr.offset(i as isize * self.stride) }
    }

    /// The address of element 0 (the pass's unit-stride loop adds `i` to it).
    #[inline(always)]
    pub(crate) fn ptr(&self) -> *mut T {
        self.ptr
    }

    /// The elements as cells, when they are contiguous: what the contiguous clone body
    /// takes (`&[Cell<T>]`, as the slice API), so that a kernel whose views are all
    /// contiguous runs exactly today's loop.
    ///
    /// ```
    /// use loopfuse_runtime::view::ViewMut;
    /// let mut y = [1, 2];
    /// let v = ViewMut::from(&mut y[..]);
    /// v.as_cells().unwrap()[1].set(5);
    /// assert_eq!(v.get(1), 5);
    /// ```
    #[inline(always)]
    pub fn as_cells(&self) -> Option<&[std::cell::Cell<T>]> {
        if self.is_contiguous() {
            // SAFETY: contiguous: elements 0..len are consecutive from ptr, valid for reads
            // and writes through this view (invariant); Cell<T> has T's layout, and cells
            // may alias each other and the view's raw-pointer accesses (all are interior
            // mutability, and neither is Sync). ptr is non-null and aligned for len 0 too.
            Some(unsafe { std::slice::from_raw_parts(self.ptr.cast::<std::cell::Cell<T>>(), self.len) })
        } else {
            None
        }
    }

    /// Reads element `i`.
    ///
    /// # Panics
    /// Past the end, with a slice's message.
    #[inline(always)]
    #[track_caller]
    pub fn get(&self, i: usize) -> T
    where
        T: Copy,
    {
        if i >= self.len {
            index_fail(i, self.len)
        }
        // SAFETY: i < len; a read through the raw pointer, no reference to the element.
        unsafe { self.at(i).read() }
    }

    /// Writes element `i` (`&self`, as `Cell::set`: the view is not `Sync`).
    ///
    /// # Panics
    /// Past the end, with a slice's message.
    #[inline(always)]
    #[track_caller]
    pub fn set(&self, i: usize, value: T)
    where
        T: Copy,
    {
        if i >= self.len {
            index_fail(i, self.len)
        }
        // SAFETY: i < len; valid for writes through this view only (invariant), and no
        // reference to the element exists (every access goes through the raw pointer).
        // T: Copy, so the old value needs no drop.
        unsafe { self.at(i).write(value) }
    }

    /// Elements `..mid` and `mid..`, disjoint: each may go to its own thread.
    ///
    /// # Panics
    /// If `mid > len`, as `slice::split_at_mut`.
    #[inline]
    #[track_caller]
    pub fn split_at(self, mid: usize) -> (Self, Self) {
        assert!(mid <= self.len, "mid > len");
        // An empty right half keeps `ptr`: element `mid` may lie past the allocation.
        let right = if mid < self.len {
            // SAFETY: mid < len.
            unsafe { self.at(mid) }
        } else {
            self.ptr
        };
        let rest = self.len - mid;
        (ViewMut { len: mid, ..self }, ViewMut { ptr: right, len: rest, stride: self.stride, life: PhantomData })
    }

    /// The elements an explicit loop `for i in lo..hi` writes as `out[i + k]` (element `j`
    /// of the result is `out[lo + k + j]`), reborrowed for the loop. Same checks and panic
    /// text as [`View::window`].
    ///
    /// ```
    /// use loopfuse_runtime::view::ViewMut;
    /// let mut y = [0; 5];
    /// let mut v = ViewMut::from(&mut y[..]);
    /// let w = v.window("k", "y", 0, 4, 1);
    /// for j in 0..w.len() {
    ///     w.set(j, j as i32 + 10);
    /// }
    /// assert_eq!(y, [0, 10, 11, 12, 13]);
    /// ```
    ///
    /// # Panics
    /// With the index range and the length, if the loop would index out of bounds.
    #[inline]
    pub fn window(&mut self, kernel: &str, name: &str, lo: usize, hi: usize, k: isize) -> ViewMut<'_, T> {
        let (ptr, len) = match window_range(self.len, lo, hi, k) {
            Ok(None) => (self.ptr, 0),
            // SAFETY: first <= last < len.
            Ok(Some((first, last))) => (unsafe { self.at(first) }, last - first + 1),
            Err(()) => window_fail(kernel, name, self.len, lo, hi, k),
        };
        ViewMut { ptr, len, stride: self.stride, life: PhantomData }
    }
}

impl<'a, T> ViewMut<'a, T> {
    /// The elements a pass reads as `y[i + k]` for `i in lo..hi` while it may also write `y`
    /// (element `j` is `y[lo + k + j]`): a shared borrow of the view, read through its raw
    /// pointer, for [`crate::pass::Current`]. Same checks and panic text as
    /// [`View::window`]. (A `View` or a `ViewMut` of it would be `Send` while the parent
    /// still writes: this is neither.)
    ///
    /// ```
    /// use loopfuse_runtime::pass::{pass, Current};
    /// use loopfuse_runtime::view::ViewMut;
    /// let mut y = [1.0, 2.0, 3.0, 4.0];
    /// let v = ViewMut::from(&mut y[..]);
    /// // for i in 0..3 { z[i] = y[i + 1] }, and y[i] = 0 in the same pass
    /// let mut z = [0.0; 3];
    /// let zv = ViewMut::from(&mut z[..]);
    /// pass(3, (Current(v.shifted("k", "y", 0, 3, 1)),), (), (&zv, &v), |(next,)| ((), (next, 0.0)));
    /// assert_eq!((z, y), ([2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 4.0]));
    /// ```
    ///
    /// # Panics
    /// With the index range and the length, if the loop would index out of bounds.
    #[inline]
    pub fn shifted(&self, kernel: &str, name: &str, lo: usize, hi: usize, k: isize) -> Shifted<'_, 'a, T> {
        let (first, len) = match window_range(self.len, lo, hi, k) {
            Ok(None) => (0, 0),
            Ok(Some((first, last))) => (first, last - first + 1),
            Err(()) => window_fail(kernel, name, self.len, lo, hi, k),
        };
        Shifted { view: self, first, len }
    }
}

/// Elements `first..first + len` of a [`ViewMut`], read by a pass that may also write the
/// view ([`ViewMut::shifted`]).
pub struct Shifted<'v, 'a, T> {
    pub(crate) view: &'v ViewMut<'a, T>,
    /// In bounds: `first + len <= view.len()`.
    pub(crate) first: usize,
    pub(crate) len: usize,
}

impl<T> Shifted<'_, '_, T> {
    /// The number of elements.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when there is no element.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T: Copy + std::fmt::Debug> std::fmt::Debug for ViewMut<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries((0..self.len).map(|i| self.get(i))).finish()
    }
}
