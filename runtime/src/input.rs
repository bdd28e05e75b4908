//! Array inputs: anything 1-D the user holds, seen by the kernel as a [`View`] (any stride,
//! never copied).

use crate::private::Sealed;
use crate::view::View;

/// A value a kernel accepts as a 1-D array input.
///
/// Every input is read where it lies: a contiguous one by the kernel's contiguous body (a
/// slice loop), a strided or reversed ndarray view by its strided body, element by element
/// through the view. Nothing is copied.
///
/// ```
/// use loopfuse_runtime::KernelInput;
/// let v = vec![1.0, 2.0];
/// assert_eq!((&v).as_view().as_slice(), Some(&[1.0, 2.0][..]));
/// ```
///
/// The trait is sealed: the pass driver trusts what an input's view says about its memory,
/// so only this crate implements it.
///
/// ```compile_fail
/// struct Mine;
/// impl loopfuse_runtime::KernelInput for Mine {
///     type Elem = f64;
///     fn as_view(&self) -> loopfuse_runtime::view::View<'_, f64> { unimplemented!() }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a loopfuse array input",
    label = "not a 1-D array input",
    note = "a kernel parameter is a scalar (f32, f64, i8..i64, u8..u64, isize, usize, bool) or an array: `&[T]`, `&Vec<T>`, `&[T; N]`, `ArrayView1<T>`, `&Array1<T>`; outputs are `&mut [T]`, `&mut Vec<T>`, `ArrayViewMut1<T>`, `&mut Array1<T>`"
)]
pub trait KernelInput: Sealed {
    /// The element type.
    type Elem: Copy;
    /// The elements where they lie, any stride, never copied ([`crate::view`]). The view
    /// borrows `self`, the user's reference: bind it (`let x = KernelInput::as_view(&x);`
    /// shadows the parameter and keeps it alive), do not call it on a temporary.
    ///
    /// ```
    /// use loopfuse_runtime::KernelInput;
    /// let x = [1, 2, 3];
    /// let x = &x;
    /// let v = x.as_view();
    /// assert_eq!((v.len(), v[1], v.stride()), (3, 2, 1));
    /// ```
    fn as_view(&self) -> View<'_, Self::Elem>;
}

impl<T: Copy> Sealed for &[T] {}

impl<T: Copy> KernelInput for &[T] {
    type Elem = T;
    #[inline(always)]
    fn as_view(&self) -> View<'_, T> {
        View::from(*self)
    }
}

impl<T: Copy> Sealed for &Vec<T> {}

impl<T: Copy> KernelInput for &Vec<T> {
    type Elem = T;
    #[inline(always)]
    fn as_view(&self) -> View<'_, T> {
        View::from(self.as_slice())
    }
}

impl<T: Copy, const N: usize> Sealed for &[T; N] {}

impl<T: Copy, const N: usize> KernelInput for &[T; N] {
    type Elem = T;
    #[inline(always)]
    fn as_view(&self) -> View<'_, T> {
        View::from(self.as_slice())
    }
}

#[cfg(feature = "ndarray")]
mod nd {
    use super::*;
    use ndarray::{Array1, ArrayBase, ArrayView1};

    impl<T: Copy> Sealed for ArrayView1<'_, T> {}

    impl<T: Copy> KernelInput for ArrayView1<'_, T> {
        type Elem = T;
        #[inline(always)]
        fn as_view(&self) -> View<'_, T> {
            View::from(ArrayBase::view(self))
        }
    }

    impl<T: Copy> Sealed for &ArrayView1<'_, T> {}

    impl<T: Copy> KernelInput for &ArrayView1<'_, T> {
        type Elem = T;
        #[inline(always)]
        fn as_view(&self) -> View<'_, T> {
            View::from(ArrayBase::view(*self))
        }
    }

    impl<T: Copy> Sealed for &Array1<T> {}

    impl<T: Copy> KernelInput for &Array1<T> {
        type Elem = T;
        #[inline(always)]
        fn as_view(&self) -> View<'_, T> {
            View::from(ArrayBase::view(*self))
        }
    }
}
