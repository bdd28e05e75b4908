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
use super::shape::Shape;
use super::view::NdView;
use crate::error::KernelError;

/// The element offset of `idx`, or the error naming the first axis out of range. One branch
/// for the common case: every index compared, the offset summed (wrapping: it is used only
/// when every index is in range, module contract), then one test.
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
        return Err(rank_error(kernel, text, N, Shape::new(dims)));
    }
    let (mut off, mut bad) = (0isize, false);
    for k in 0..N {
        bad |= idx[k] >= dims[k];
        off = off.wrapping_add((idx[k] as isize).wrapping_mul(strides[k]));
    }
    if bad {
        let axis = (0..N).find(|&k| idx[k] >= dims[k]).unwrap_or(0);
        return Err(index_error(kernel, text, write, idx, Shape::new(dims), axis));
    }
    Ok(off)
}

#[cold]
#[inline(never)]
fn index_error(
    kernel: &'static str,
    text: &'static str,
    write: bool,
    idx: &[usize],
    shape: Shape,
    axis: usize,
) -> KernelError {
    KernelError::NdIndex { kernel, text, write, index: idx.to_vec(), shape: shape.to_string(), axis }
}

#[cold]
#[inline(never)]
fn rank_error(kernel: &'static str, text: &'static str, given: usize, shape: Shape) -> KernelError {
    KernelError::IndexRank { kernel, text, given, shape: shape.to_string(), rank: shape.rank() }
}

/// `x[idx]` of an N-d input, or the error.
///
/// ```
/// use loopfuse_runtime::nd::{index, NdView, Shape};
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let x = NdView::from_slice(&a, Shape::new(&[2, 3]));
/// assert_eq!(index::at("f", "x[[i, j]]", x, [1, 2]), Ok(6.0));
/// let e = index::at("f", "x[[i, j]]", x, [2, 0]).unwrap_err();
/// assert_eq!(e.to_string(), "kernel `f`: index out of bounds: `x[[i, j]]` reads index [2, 0] of an array of shape [2, 3] (axis 0)");
/// let e = index::at("f", "x[[i]]", x, [0]).unwrap_err();
/// assert_eq!(e.to_string(), "kernel `f`: `x[[i]]` gives 1 indices for an array of shape [2, 3] (rank 2)");
/// ```
#[inline(always)]
pub fn at<T: Copy, const N: usize>(
    kernel: &'static str,
    text: &'static str,
    x: NdView<'_, T>,
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
    out: &NdViewMut<'_, T>,
    idx: [usize; N],
) -> Result<T, KernelError> {
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
    out: &NdViewMut<'_, T>,
    idx: [usize; N],
    value: T,
) -> Result<(), KernelError> {
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
    out: &NdViewMut<'_, T>,
    idx: [usize; N],
    f: impl FnOnce(T) -> T,
) -> Result<(), KernelError> {
    let off = offset(kernel, text, true, out.dims(), out.strides(), &idx)?;
    // SAFETY: an element of the view (module contract), read then written through the raw
    // pointer; no reference to it is held while `f` runs.
    unsafe {
        let p = out.ptr().offset(off);
        p.write(f(p.read()));
    }
    Ok(())
}
