//! Strided windows as slices, for the runs of an inner loop (`macros/src/lower/inner_pass.rs`).
//!
//! Each run of an inner loop reads its windows as slices, so that it takes the vectorized
//! contiguous body: a contiguous window is its own slice; a strided one (a column of a C-order
//! matrix) is copied into a [`Pack`], one per window of the loop, kept from run to run.
//!
//! # The contract
//! - A pack holds a copy of the elements of one strided line of an input: the address of
//!   its first element, the stride, and the values. Inputs are not written while the kernel
//!   runs (they are shared borrows for its whole call), so the copy stays equal to them.
//! - A window on the same line, with the same stride, whose elements all lie in the copy is
//!   read from the copy, with no new one: the runs of `for j in (i + 1)..n` over `pos[[j, 0]]`
//!   copy the column once, not once per run (`n` elements in all, not `n² / 2`).
//! - Any other window replaces the copy. Addresses are compared as integers, never
//!   dereferenced outside the view they come from.

use crate::view::View;

/// The copy of a strided line (module docs).
pub struct Pack<T> {
    buf: Vec<T>,
    /// The address of `buf[0]`'s element in the input.
    first: usize,
    /// The stride of the copied line, in elements (0 before any copy).
    stride: isize,
}

impl<T> Default for Pack<T> {
    fn default() -> Self {
        Pack { buf: Vec::new(), first: 0, stride: 0 }
    }
}

impl<T: Copy> Pack<T> {
    /// `x` as a slice: itself when contiguous, else from this pack's copy of its line
    /// (module docs).
    ///
    /// ```
    /// use loopfuse_runtime::{packing::Pack, view::View};
    /// let m = ndarray::Array2::from_shape_fn((5, 3), |(i, k)| (10 * i + k) as f64);
    /// let col = |lo| View::from(m.column(0).slice_move(ndarray::s![lo..]));
    /// let mut pack = Pack::default();
    /// assert_eq!(pack.slice(col(1)), [10.0, 20.0, 30.0, 40.0]);
    /// assert_eq!(pack.slice(col(3)), [30.0, 40.0]); // from the same copy
    /// assert_eq!(pack.slice(View::from(m.column(2))), [2.0, 12.0, 22.0, 32.0, 42.0]);
    /// ```
    #[inline]
    pub fn slice<'p>(&'p mut self, x: View<'p, T>) -> &'p [T] {
        if let Some(s) = x.as_slice() {
            return s;
        }
        // Where `x` starts in the copy, if it lies there whole (a broadcast, stride 0, is
        // copied again: it is one element anyway).
        let step = x.stride() as i128 * std::mem::size_of::<T>() as i128;
        let gap = x.ptr() as usize as i128 - self.first as i128;
        let from = (x.stride() == self.stride && step != 0 && gap % step == 0)
            .then(|| gap / step)
            .filter(|&from| from >= 0 && from + x.len() as i128 <= self.buf.len() as i128);
        match from {
            Some(from) => &self.buf[from as usize..from as usize + x.len()],
            None => {
                x.copy_into(&mut self.buf);
                (self.first, self.stride) = (x.ptr() as usize, x.stride());
                &self.buf
            }
        }
    }
}
