//! Elements of N-d arrays by index, as a kernel's loops that run in order read and write
//! them (`x[[i, j]]`, `out[[i, j]] = v`, `out[[i, j]] += v`): checked at every access, with
//! the kernel's name, the access as written, the index and the shape in the error.
//!
//! # The contract
//! `offset` returns the element offset of `idx` only when `idx` has one index per axis and
//! each is below its axis's length. Then, by the invariant of [`NdView`] (and of
//! [`NdViewMut`], `crate::nd::inout`), `ptr.offset(off)` is an element of the view: valid
//! for reads (and, for an `NdViewMut`, writes). Outputs are read and written through the raw
//! pointer, never through a reference to an element, as the passes do; `&NdViewMut` is not
//! `Sync`, so the one thread holding it is the only one touching its elements.

use super::inout::NdViewMut;
use super::shape::{Shape, MAX_RANK};
use super::view::NdView;
use crate::error::KernelError;

/// What a loop writes by index: an N-d output, or the rows of a chunk of a parallel loop
/// (`crate::rows`), where every access's first index must be one of the chunk's.
pub trait Target<T> {
    /// The output's view, and the first indices an access may have (`None`: any).
    fn target(&self) -> (&NdViewMut<'_, T>, Option<std::ops::Range<usize>>);
}

impl<T> Target<T> for NdViewMut<'_, T> {
    #[inline(always)]
    fn target(&self) -> (&NdViewMut<'_, T>, Option<std::ops::Range<usize>>) {
        (self, None)
    }
}

impl<T> Target<T> for crate::rows::Row<'_, NdViewMut<'_, T>> {
    #[inline(always)]
    fn target(&self) -> (&NdViewMut<'_, T>, Option<std::ops::Range<usize>>) {
        (self.view(), Some(self.rows()))
    }
}

/// The view of `out`, for an access at `idx`: a parallel loop's chunk keeps to its rows.
///
/// # Panics
/// If a row's access has another first index (never, in generated code: `crate::rows`).
#[inline(always)]
#[track_caller]
fn view_for<'o, T, const N: usize>(out: &'o impl Target<T>, idx: &[usize; N]) -> &'o NdViewMut<'o, T> {
    let (view, row) = out.target();
    if let Some(rows) = row {
        assert!(
            N > 0 && rows.contains(&idx[0]),
            "loopfuse: the iterations {rows:?} of a parallel loop reached index {idx:?}"
        );
    }
    view
}

/// The element offset of `idx`, or the error naming the first axis out of range. One branch
/// for the common case: every index compared, the offset summed (wrapping: it is used only
/// when every index is in range, module contract), then one test. The errors are built from
/// copies passed by value: a pointer into the view or the index handed to the cold path
/// made LLVM keep both in memory, stored again at every access of a loop.
#[inline(always)]
fn offset<const N: usize>(
    kernel: &'static str,
    text: &'static str,
    write: bool,
    dims: &[usize],
    strides: &[isize],
    idx: &[usize; N],
) -> Result<isize, KernelError> {
    if N != dims.len() {
        return Err(rank_error(kernel, text, N, dims_copy(dims), dims.len()));
    }
    let (mut off, mut bad) = (0isize, false);
    for k in 0..N {
        bad |= idx[k] >= dims[k];
        off = off.wrapping_add((idx[k] as isize).wrapping_mul(strides[k]));
    }
    if bad {
        return Err(index_error(kernel, text, write, *idx, dims_copy(dims)));
    }
    Ok(off)
}

/// The axis lengths by value, for the errors.
#[inline(always)]
fn dims_copy(dims: &[usize]) -> [usize; MAX_RANK] {
    let mut d = [0; MAX_RANK];
    for (a, &b) in d.iter_mut().zip(dims) {
        *a = b;
    }
    d
}

#[cold]
#[inline(never)]
fn index_error<const N: usize>(
    kernel: &'static str,
    text: &'static str,
    write: bool,
    idx: [usize; N],
    dims: [usize; MAX_RANK],
) -> KernelError {
    let shape = Shape::new(&dims[..N]);
    let axis = (0..N).find(|&k| idx[k] >= dims[k]).unwrap_or(0);
    KernelError::NdIndex { kernel, text, write, index: idx.to_vec(), shape: shape.to_string(), axis }
}

#[cold]
#[inline(never)]
fn rank_error(
    kernel: &'static str,
    text: &'static str,
    given: usize,
    dims: [usize; MAX_RANK],
    rank: usize,
) -> KernelError {
    let shape = Shape::new(&dims[..rank.min(MAX_RANK)]);

    KernelError::IndexRank { kernel, text, given, shape: shape.to_string(), rank: shape.rank() }
}

/// `x[idx]` of an N-d input, or the error.
///
/// ```
/// use loopfuse_runtime::nd::{index, NdView, Shape};
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let x = NdView::from_slice(&a, Shape::new(&[2, 3]));
/// assert_eq!(index::at("f", "x[[i, j]]", &x, [1, 2]), Ok(6.0));
/// let e = index::at("f", "x[[i, j]]", &x, [2, 0]).unwrap_err();
/// assert_eq!(e.to_string(), "kernel `f`: index out of bounds: `x[[i, j]]` reads index [2, 0] of an array of shape [2, 3] (axis 0)");
/// let e = index::at("f", "x[[i]]", &x, [0]).unwrap_err();
/// assert_eq!(e.to_string(), "kernel `f`: `x[[i]]` gives 1 indices for an array of shape [2, 3] (rank 2)");
/// ```
#[inline(always)]
pub fn at<T: Copy, const N: usize>(
    kernel: &'static str,
    text: &'static str,
    x: &NdView<'_, T>,
    idx: [usize; N],
) -> Result<T, KernelError> {
    let off = offset(kernel, text, false, x.dims(), x.strides(), &idx)?;
    // SAFETY: `off` is the offset of an element of the view (module contract), valid for
    // reads during the view's lifetime.
    Ok(unsafe { *x.ptr().offset(off) })
}

/// `out[idx]` of an N-d output (its current value), or the error.
///
/// ```
/// use loopfuse_runtime::nd::{index, NdOutput};
/// let mut a = ndarray::array![[1, 2], [3, 4]];
/// let out = NdOutput::into_nd_mut(&mut a);
/// assert_eq!(index::get("f", "out[[i, j]]", &out, [1, 0]), Ok(3));
/// assert!(index::get("f", "out[[i, j]]", &out, [0, 2]).is_err());
/// ```
#[inline(always)]
pub fn get<T: Copy, const N: usize>(
    kernel: &'static str,
    text: &'static str,
    out: &impl Target<T>,
    idx: [usize; N],
) -> Result<T, KernelError> {
    let out = view_for(out, &idx);
    let off = offset(kernel, text, false, out.dims(), out.strides(), &idx)?;
    // SAFETY: an element of the view (module contract), read through the raw pointer.
    Ok(unsafe { out.ptr().offset(off).read() })
}

/// `out[idx] = value` of an N-d output, or the error (nothing is written then).
///
/// ```
/// use loopfuse_runtime::nd::{index, NdOutput};
/// let mut a = ndarray::Array2::<f64>::zeros((2, 3));
/// let out = NdOutput::into_nd_mut(&mut a);
/// index::set("f", "out[[i, j]]", &out, [1, 2], 7.0).unwrap();
/// let e = index::set("f", "out[[i, j]]", &out, [1, 3], 7.0).unwrap_err();
/// assert_eq!(e.to_string(), "kernel `f`: index out of bounds: `out[[i, j]]` writes index [1, 3] of an array of shape [2, 3] (axis 1)");
/// assert_eq!(a[[1, 2]], 7.0);
/// ```
#[inline(always)]
pub fn set<T: Copy, const N: usize>(
    kernel: &'static str,
    text: &'static str,
    out: &impl Target<T>,
    idx: [usize; N],
    value: T,
) -> Result<(), KernelError> {
    let out = view_for(out, &idx);
    let off = offset(kernel, text, true, out.dims(), out.strides(), &idx)?;
    // SAFETY: an element of the view (module contract), written through the raw pointer.
    unsafe { out.ptr().offset(off).write(value) };
    Ok(())
}

/// `out[idx] op= v`: the element replaced by `f` of its value, one check for both.
///
/// ```
/// use loopfuse_runtime::nd::{index, NdOutput};
/// let mut a = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
/// let out = NdOutput::into_nd_mut(&mut a);
/// index::update("f", "out[[i, j]]", &out, [0, 1], |o| o + 0.5).unwrap();
/// assert_eq!(a[[0, 1]], 2.5);
/// ```
#[inline(always)]
pub fn update<T: Copy, const N: usize>(
    kernel: &'static str,
    text: &'static str,
    out: &impl Target<T>,
    idx: [usize; N],
    f: impl FnOnce(T) -> T,
) -> Result<(), KernelError> {
    let out = view_for(out, &idx);
    let off = offset(kernel, text, true, out.dims(), out.strides(), &idx)?;
    // SAFETY: an element of the view (module contract), read then written through the raw
    // pointer; no reference to it is held while `f` runs.
    unsafe {
        let p = out.ptr().offset(off);
        p.write(f(p.read()));
    }
    Ok(())
}
