//! Slices and element reads of a kernel's inputs outside loops (`x[1..]`, `x[0]`), and the
//! deferred emptiness check of a `min`/`max`/`argmin`/`argmax` whose value is used.
//!
//! A slice is a view of its input (no copy): `&x[1..] - &x[..x.len() - 1]` is one pass over
//! two views of `x`, cut once, checked once, before the pass. The generated body calls these
//! through `__lf::`, with the contiguous body's slices or the strided body's [`View`]s.

use crate::error::KernelError;
use crate::view::View;

/// What [`sub`] and [`at`] read: a contiguous body's `&[T]`, a strided body's [`View`].
pub trait Elems: Copy {
    /// The element type.
    type Elem: Copy;
    /// The number of elements.
    fn count(&self) -> usize;
    /// Elements `lo..hi`, with `lo <= hi <= count()`.
    fn range(self, lo: usize, hi: usize) -> Self;
    /// Element `i < count()`.
    fn elem(&self, i: usize) -> Self::Elem;
}

impl<T: Copy> Elems for &[T] {
    type Elem = T;
    #[inline(always)]
    fn count(&self) -> usize {
        self.len()
    }
    #[inline(always)]
    fn range(self, lo: usize, hi: usize) -> Self {
        &self[lo..hi]
    }
    #[inline(always)]
    fn elem(&self, i: usize) -> T {
        self[i]
    }
}

impl<T: Copy> Elems for View<'_, T> {
    type Elem = T;
    #[inline(always)]
    fn count(&self) -> usize {
        self.len()
    }
    #[inline(always)]
    fn range(self, lo: usize, hi: usize) -> Self {
        View::window(self, "", "", lo, hi, 0)
    }
    #[inline(always)]
    fn elem(&self, i: usize) -> T {
        *self.get(i).expect("checked by `at`")
    }
}

/// `x[lo..hi]` as a view of `x`, or the error naming the kernel and the slice as written.
///
/// ```
/// use loopfuse_runtime::__private::{sub, KernelError};
/// let x: &[f64] = &[1.0, 2.0, 3.0];
/// assert_eq!(sub("diff", "x[1..]", x, 1, 3), Ok(&x[1..]));
/// assert!(matches!(sub("diff", "x[..4]", x, 0, 4), Err(KernelError::Slice { end: 4, len: 3, .. })));
/// ```
#[inline]
pub fn sub<E: Elems>(kernel: &'static str, text: &'static str, x: E, lo: usize, hi: usize) -> Result<E, KernelError> {
    let len = x.count();
    if lo <= hi && hi <= len {
        Ok(x.range(lo, hi))
    } else {
        Err(KernelError::Slice { kernel, text, start: lo, end: hi, len })
    }
}

/// `x[i]`, or the error naming the kernel, the read as written, the index and the length.
///
/// ```
/// use loopfuse_runtime::__private::at;
/// let x: &[f64] = &[1.0, 2.0];
/// assert_eq!(at("f", "x[1]", x, 1), Ok(2.0));
/// assert_eq!(at("f", "x[2]", x, 2).unwrap_err().to_string(), "kernel `f`: index out of bounds: `x[2]` reads index 2 of an array of 2 elements");
/// ```
#[inline]
pub fn at<E: Elems>(kernel: &'static str, text: &'static str, x: E, i: usize) -> Result<E::Elem, KernelError> {
    let len = x.count();
    if i < len {
        Ok(x.elem(i))
    } else {
        Err(KernelError::Index { kernel, text, index: i, len })
    }
}

/// The value of `min`/`max`/`argmin`/`argmax` over `n` elements, where it is used: an error
/// if there were none. Checked at the use, not before the kernel runs, so a reduction in a
/// branch that is not taken (`if x.is_empty() { 0.0 } else { x.max() }`) does not fail.
///
/// ```
/// use loopfuse_runtime::__private::{nonempty, KernelError};
/// assert_eq!(nonempty("f", "x.max()", 3, 2.0), Ok(2.0));
/// assert_eq!(nonempty("f", "x.max()", 0, f64::NEG_INFINITY), Err(KernelError::Empty { kernel: "f", reduction: "x.max()" }));
/// ```
#[inline]
pub fn nonempty<T>(kernel: &'static str, reduction: &'static str, n: usize, value: T) -> Result<T, KernelError> {
    if n > 0 {
        Ok(value)
    } else {
        Err(KernelError::Empty { kernel, reduction })
    }
}
