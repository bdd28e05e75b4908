//! Windows: what one access of a loop nest reads, as a view over the nest's index space.
//!
//! ```text
//! for i in 1..n - 1 { for j in 1..m - 1 { out[[i, j]] = u[[i - 1, j]] + .. } }
//! ```
//! reads `u[[i - 1, j]]` for every `(i, j)` of `1..n - 1 × 1..m - 1`: the view of `u` whose
//! element `[a, b]` is `u[[1 + a - 1, 1 + b]]`. Each access of the nest becomes one such view,
//! all of the nest's shape, and the nest becomes an N-d pass over them.
//!
//! # The contract
//! - [`Win`] says, per axis of the array, which loop of the nest indexes it (with a constant
//!   offset) or which fixed index it takes. A loop that no axis names is a broadcast axis of
//!   the window (stride 0); a loop names at most one axis (the macro keeps `x[[i, i]]` in
//!   order).
//! - The check is the checked loop's panic condition, computed once: when every range of
//!   the nest is non-empty, each axis is read at indices `lo + offset ..= hi - 1 + offset`
//!   (or at the fixed index), and every one must lie in `0..len`. When some range is empty
//!   the nest runs no iteration, reads nothing and never fails: the window is empty.
//! - The window then satisfies the view invariant of [`super::view`]: each of its elements
//!   is an element of the array, so its pointer and strides address only the array.

use super::inout::NdViewMut;
use super::shape::{Shape, MAX_RANK};
use super::view::NdView;
use crate::error::KernelError;
use crate::view::View;

/// How one axis of an array is indexed in a loop nest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Win {
    /// By loop `k` of the nest (outermost 0) plus a constant: `u[[i - 1, ..]]` is `Loop(0, -1)`.
    Loop(usize, isize),
    /// At a fixed index, the same for every iteration: `pos[[i, 0]]`'s `At(0)`.
    At(usize),
}

/// Where a window starts (in elements from the array's element 0), its shape and strides.
struct Cut {
    start: isize,
    shape: Shape,
    strides: [isize; MAX_RANK],
}

/// The window of an array of `shape`/`strides` read by `axes` over the nest `ranges`
/// (`(lo, hi)` per loop): checked as the module docs say. Inlined: an inner loop's windows
/// are cut once per run, with the axes and the range count known where they are.
#[inline]
fn cut(
    kernel: &'static str,
    text: &'static str,
    shape: Shape,
    strides: &[isize],
    axes: &[Win],
    ranges: &[(usize, usize)],
) -> Result<Cut, KernelError> {
    check_rank(kernel, text, axes, shape);
    assert!(
        ranges.len() <= MAX_RANK,
        "loopfuse: kernel `{kernel}`: a nest of {} loops, more than {MAX_RANK}",
        ranges.len()
    );
    // No allocation: an inner loop's window is cut once per run of it.
    let mut lens = [0; MAX_RANK];
    for (len, &(lo, hi)) in lens.iter_mut().zip(ranges) {
        *len = hi.saturating_sub(lo);
    }
    let lens = &lens[..ranges.len()];
    let mut out = Cut { start: 0, shape: Shape::new(lens), strides: [0; MAX_RANK] };
    if lens.contains(&0) {
        return Ok(out);
    }
    let strides_out = &mut out.strides;
    out.start = start(kernel, text, shape, strides, axes, ranges, |k, stride| strides_out[k] = stride)?;
    Ok(out)
}

/// `axes` has one entry per axis of `shape`.
///
/// # Panics
/// If not (the macro checks it).
#[inline(always)]
#[track_caller]
fn check_rank(kernel: &str, text: &str, axes: &[Win], shape: Shape) {
    assert_eq!(
        axes.len(),
        shape.rank(),
        "loopfuse: kernel `{kernel}`: `{text}` indexes {} axes of an array of shape {shape}",
        axes.len()
    );
}

/// Where a window starts (in elements from the array's element 0), every axis checked over
/// the nest `ranges` (all non-empty): the module's check, for [`cut`] and
/// [`NdView::window1`]. `on_loop(k, stride)` for each axis that loop `k` indexes.
#[inline(always)]
fn start(
    kernel: &'static str,
    text: &'static str,
    shape: Shape,
    strides: &[isize],
    axes: &[Win],
    ranges: &[(usize, usize)],
    mut on_loop: impl FnMut(usize, isize),
) -> Result<isize, KernelError> {
    let mut start = 0isize;
    for (axis, (&w, &stride)) in axes.iter().zip(strides).enumerate() {
        let (first, last) = match w {
            Win::Loop(k, offset) => {
                let (lo, hi) = ranges[k];
                (lo as i128 + offset as i128, hi as i128 - 1 + offset as i128)
            }
            Win::At(i) => (i as i128, i as i128),
        };
        if first < 0 || last >= shape.dims()[axis] as i128 {
            return Err(window_error(kernel, text, axis, first, last, shape));
        }
        // In bounds: an element offset inside the array, which fits isize.
        start += first as isize * stride;
        if let Win::Loop(k, _) = w {
            on_loop(k, stride);
        }
    }
    Ok(start)
}

#[cold]
#[inline(never)]
fn window_error(
    kernel: &'static str,
    text: &'static str,
    axis: usize,
    first: i128,
    last: i128,
    shape: Shape,
) -> KernelError {
    KernelError::Window { kernel, text, axis, first, last, shape: shape.to_string() }
}

impl<'a, T> NdView<'a, T> {
    /// The window `axes` reads over the nest `ranges` (module docs), or the access that
    /// reaches past the array.
    ///
    /// ```
    /// use loopfuse_runtime::nd::{window::Win, NdView, Shape};
    /// let u: Vec<f64> = (0..20).map(f64::from).collect();
    /// let u = NdView::from_slice(&u, Shape::new(&[4, 5]));
    /// // u[[i - 1, j + 1]] for i in 1..3, j in 0..4
    /// let w = u.window("k", "u[[i - 1, j + 1]]", &[Win::Loop(0, -1), Win::Loop(1, 1)], &[(1, 3), (0, 4)]).unwrap();
    /// assert_eq!((w.shape().dims(), w.strides()), (&[2, 4][..], &[5, 1][..]));
    /// // one more row reads past the last one
    /// let e = u.window("k", "u[[i + 1, j]]", &[Win::Loop(0, 1), Win::Loop(1, 0)], &[(0, 4), (0, 5)]).err().unwrap();
    /// assert_eq!(e.to_string(), "kernel `k`: index out of bounds: `u[[i + 1, j]]` accesses indices 1..=4 of axis 0, of an array of shape [4, 5]");
    /// ```
    ///
    /// # Errors
    /// [`KernelError::Window`], when some access of a non-empty nest is out of bounds.
    ///
    /// # Panics
    /// If `axes` does not have one entry per axis (the macro checks it).
    #[track_caller]
    #[inline]
    pub fn window(
        self,
        kernel: &'static str,
        text: &'static str,
        axes: &[Win],
        ranges: &[(usize, usize)],
    ) -> Result<NdView<'a, T>, KernelError> {
        let c = cut(kernel, text, self.shape(), self.strides(), axes, ranges)?;
        if c.shape.is_empty() {
            // SAFETY: an empty view addresses no element; `ptr` is non-null and aligned.
            return Ok(unsafe { NdView::from_raw_parts(self.ptr(), c.shape, &c.strides[..c.shape.rank()]) });
        }
        // SAFETY: `cut` checked every index the window reads against the array's shape, so
        // `start` is the offset of an element of the array and each window element is an
        // element of the array (module contract): the view invariant holds.
        unsafe { Ok(NdView::from_raw_parts(self.ptr().offset(c.start), c.shape, &c.strides[..c.shape.rank()])) }
    }
}

impl<'a, T> NdView<'a, T> {
    /// The window of an access in a single loop (`range`), as a 1-D view: what an inner loop
    /// of a loop that runs in order reads, handed to its vectorized pass
    /// (`macros/src/lower/inner_pass.rs`). Checked as [`NdView::window`].
    ///
    /// ```
    /// use loopfuse_runtime::nd::{window::Win, NdView, Shape};
    /// let pos: Vec<f64> = (0..12).map(f64::from).collect();
    /// let pos = NdView::from_slice(&pos, Shape::new(&[4, 3]));
    /// // pos[[j, 1]] for j in 2..4: a column, stride 3
    /// let w = pos.window1("k", "pos[[j, 1]]", &[Win::Loop(0, 0), Win::At(1)], (2, 4)).unwrap();
    /// assert_eq!((w.len(), w[0], w[1]), (2, 7.0, 10.0));
    /// let e = pos.window1("k", "pos[[j, 3]]", &[Win::Loop(0, 0), Win::At(3)], (2, 4)).err().unwrap();
    /// assert_eq!(e.to_string(), "kernel `k`: index out of bounds: `pos[[j, 3]]` accesses index 3 of axis 1, of an array of shape [4, 3]");
    /// ```
    ///
    /// # Errors
    /// [`KernelError::Window`], as [`NdView::window`].
    ///
    /// # Panics
    /// If `axes` does not have one entry per axis (the macro checks it).
    #[track_caller]
    #[inline(always)]
    pub fn window1(
        self,
        kernel: &'static str,
        text: &'static str,
        axes: &[Win],
        range: (usize, usize),
    ) -> Result<View<'a, T>, KernelError> {
        // `cut` for one loop, without its N-d shape: an inner loop's windows are cut once
        // per run.
        check_rank(kernel, text, axes, self.shape());
        let len = range.1.saturating_sub(range.0);
        if len == 0 {
            // SAFETY: an empty view addresses no element; `ptr` is non-null and aligned.
            return Ok(unsafe { View::from_raw_parts(self.ptr(), 0, 1) });
        }
        let mut step = 0;
        let start = start(kernel, text, self.shape(), self.strides(), axes, &[range], |_, stride| step = stride)?;
        // SAFETY: `start` checked every index the window reads against the shape, so it is
        // the offset of an element and each of the `len` elements `start + k * step` is an
        // element of the array: the 1-D view invariant holds.
        Ok(unsafe { View::from_raw_parts(self.ptr().offset(start), len, step) })
    }
}

impl<T> NdViewMut<'_, T> {
    /// The window of an output the nest writes (`out[[i, j]] = ..`), as [`NdView::window`];
    /// it borrows the output uniquely while it lives. Every loop of the nest names one axis,
    /// so every element of the window is a distinct element of the output.
    ///
    /// ```
    /// use loopfuse_runtime::nd::{window::Win, NdOutput};
    /// let mut a = ndarray::Array2::<f64>::zeros((3, 4));
    /// let mut out = NdOutput::into_nd_mut(&mut a);
    /// let w = out.window_mut("k", "out[[i, j]]", &[Win::Loop(0, 0), Win::Loop(1, 0)], &[(1, 2), (1, 3)]).unwrap();
    /// assert_eq!((w.shape().dims(), w.strides()), (&[1, 2][..], &[4, 1][..]));
    /// ```
    ///
    /// # Errors
    /// [`KernelError::Window`], as [`NdView::window`].
    ///
    /// # Panics
    /// If `axes` does not have one entry per axis, or does not name every loop exactly once.
    #[track_caller]
    pub fn window_mut(
        &mut self,
        kernel: &'static str,
        text: &'static str,
        axes: &[Win],
        ranges: &[(usize, usize)],
    ) -> Result<NdViewMut<'_, T>, KernelError> {
        // A loop no axis names would write one element from many iterations: the macro keeps
        // such a nest in order, so this is a bug of the generated code.
        let named = |k| axes.iter().filter(|w| matches!(w, Win::Loop(j, _) if *j == k)).count() == 1;
        assert!(
            (0..ranges.len()).all(named),
            "loopfuse: kernel `{kernel}`: `{text}` does not name every loop of its nest once"
        );
        let c = cut(kernel, text, self.shape(), self.strides(), axes, ranges)?;
        let ptr = if c.shape.is_empty() {
            self.ptr()
        } else {
            // SAFETY: as in `NdView::window`: `start` is the offset of an element.
            unsafe { self.ptr().offset(c.start) }
        };
        // SAFETY: every element of the window is an element of the output (checked by `cut`,
        // or none for an empty window), which `&mut self` borrows uniquely for the window's
        // lifetime: the invariant of `NdViewMut`.
        Ok(unsafe { NdViewMut::from_raw_parts(ptr, c.shape, &c.strides[..c.shape.rank()]) })
    }
}
