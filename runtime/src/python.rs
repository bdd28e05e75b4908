//! Kernels as NumPy functions: what the wrappers of `#[kernel(python)]` call (feature
//! `python`). Not a public API: it changes without notice.
//!
//! A wrapper takes every argument as a Python object and converts it here, so that each
//! wrong argument is an exception that names the kernel, the parameter, what it got and
//! what it accepts:
//!
//! - an array parameter is a NumPy array of the kernel's dtype and rank, in any layout,
//!   borrowed in place ([`array`], [`array_mut`]: rust-numpy's borrow guards, so an output
//!   that shares memory with another argument is refused rather than aliased);
//! - a scalar parameter is a Python (or NumPy) number ([`scalar`]);
//! - a generic `T: Float` kernel runs at the float type of its first array argument
//!   ([`float_of`]).
//!
//! [`run`] calls the kernel with the GIL released and turns a panic (a shape mismatch, an
//! empty `max`) into a `ValueError` with its message; [`IntoPython`] hands the result back
//! without copying it: a `Vec<T>` or an `Array<T, D>` becomes the buffer of the NumPy array.

pub use ndarray;
pub use numpy;
pub use pyo3;

use crate::error::KernelError;
use numpy::{
    BorrowError, Element, PyArray, PyArray1, PyArrayDescrMethods, PyArrayMethods, PyReadonlyArray, PyReadwriteArray,
    PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::IntoPyObjectExt;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};

/// The float type a generic kernel is called at.
pub enum FloatKind {
    F32,
    F64,
}

/// What `obj` is, for an error message: `a 2-d int64 array`, `a float`.
fn describe(obj: &Bound<'_, PyAny>) -> String {
    match obj.cast::<PyUntypedArray>() {
        Ok(a) => format!("a {}-d {} array", a.ndim(), a.dtype()),
        Err(_) => {
            let ty = obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
            let hint = if ty == "list" || ty == "tuple" { " (convert it with `numpy.asarray`)" } else { "" };
            format!("a `{ty}`{hint}")
        }
    }
}

fn type_error(obj: &Bound<'_, PyAny>, kernel: &str, param: &str, accepts: &str) -> PyErr {
    PyTypeError::new_err(format!("kernel `{kernel}`: parameter `{param}` accepts {accepts}, got {}", describe(obj)))
}

/// An array input: a NumPy array of dtype `T` and dimension `D`, any layout, not copied.
pub fn array<'py, T: Element, D: ndarray::Dimension>(
    obj: &Bound<'py, PyAny>,
    kernel: &str,
    param: &str,
    accepts: &str,
) -> PyResult<PyReadonlyArray<'py, T, D>> {
    let a = obj.cast::<PyArray<T, D>>().map_err(|_| type_error(obj, kernel, param, accepts))?;
    a.try_readonly().map_err(|e| borrow_error(e, kernel, param))
}

/// An output written in place: a writable NumPy array of dtype `T` and dimension `D`, any
/// layout, that no other argument is borrowing.
pub fn array_mut<'py, T: Element, D: ndarray::Dimension>(
    obj: &Bound<'py, PyAny>,
    kernel: &str,
    param: &str,
    accepts: &str,
) -> PyResult<PyReadwriteArray<'py, T, D>> {
    let a = obj.cast::<PyArray<T, D>>().map_err(|_| type_error(obj, kernel, param, accepts))?;
    a.try_readwrite().map_err(|e| borrow_error(e, kernel, param))
}

fn borrow_error(e: BorrowError, kernel: &str, param: &str) -> PyErr {
    let why = match e {
        BorrowError::NotWriteable => "is written in place but is a read-only array",
        _ => "shares memory with an array the kernel writes in place",
    };
    PyValueError::new_err(format!("kernel `{kernel}`: parameter `{param}` {why}"))
}

/// A scalar parameter from a Python or NumPy number.
pub fn scalar<'py, T: FromPyObjectOwned<'py>>(
    obj: &Bound<'py, PyAny>,
    kernel: &str,
    param: &str,
    accepts: &str,
) -> PyResult<T> {
    obj.extract::<T>().map_err(|_| type_error(obj, kernel, param, accepts))
}

/// The float type of the array a generic kernel dispatches on: float64 or float32.
pub fn float_of(obj: &Bound<'_, PyAny>, kernel: &str, param: &str, accepts: &str) -> PyResult<FloatKind> {
    if let Ok(a) = obj.cast::<PyUntypedArray>() {
        let (py, dtype) = (obj.py(), a.dtype());
        if dtype.is_equiv_to(&numpy::dtype::<f64>(py)) {
            return Ok(FloatKind::F64);
        }
        if dtype.is_equiv_to(&numpy::dtype::<f32>(py)) {
            return Ok(FloatKind::F32);
        }
    }
    Err(type_error(obj, kernel, param, accepts))
}

thread_local! {
    /// Set while this thread runs a kernel for Python: its panic becomes the exception, so
    /// the panic hook stays quiet instead of printing it too.
    static IN_KERNEL: Cell<bool> = const { Cell::new(false) };
}

/// Installs (once) a panic hook that passes every panic to the previous hook except those
/// of kernels run by [`run`].
fn quiet_kernel_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !IN_KERNEL.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs a kernel call with the GIL released; a panic becomes a `ValueError` with the
/// panic's message (a kernel's own messages start with ``kernel `name`:``).
pub fn run<R: Send>(py: Python<'_>, kernel: &str, call: impl FnOnce() -> R + Send) -> PyResult<R> {
    quiet_kernel_panics();
    let r = py.detach(|| {
        IN_KERNEL.with(|f| f.set(true));
        let r = panic::catch_unwind(AssertUnwindSafe(call));
        IN_KERNEL.with(|f| f.set(false));
        r
    });
    r.map_err(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the kernel panicked".into());
        let msg = if msg.starts_with("kernel `") { msg } else { format!("kernel `{kernel}`: {msg}") };
        PyValueError::new_err(msg)
    })
}

/// A kernel's result as a Python object: scalars as Python numbers, arrays as NumPy arrays
/// that own the kernel's buffer (no copy), tuples as tuples, `()` as `None`, and
/// `Err(KernelError)` as a `ValueError`.
pub trait IntoPython {
    fn into_python(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>>;
}

macro_rules! scalars {
    ($($t:ty)*) => {$(
        impl IntoPython for $t {
            #[inline]
            fn into_python(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
                self.into_bound_py_any(py)
            }
        }
    )*};
}
scalars!(f32 f64 i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize bool);

impl IntoPython for () {
    #[inline]
    fn into_python(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        Ok(py.None().into_bound(py))
    }
}

impl<T: Element> IntoPython for Vec<T> {
    #[inline]
    fn into_python(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        Ok(PyArray1::from_vec(py, self).into_any())
    }
}

impl<T: Element, D: ndarray::Dimension> IntoPython for ndarray::Array<T, D> {
    #[inline]
    fn into_python(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        Ok(PyArray::from_owned_array(py, self).into_any())
    }
}

impl<X: IntoPython> IntoPython for Result<X, KernelError> {
    #[inline]
    fn into_python(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        match self {
            Ok(x) => x.into_python(py),
            Err(e) => Err(PyValueError::new_err(e.to_string())),
        }
    }
}

macro_rules! tuples {
    ($(($($x:ident)+))*) => {$(
        impl<$($x: IntoPython),+> IntoPython for ($($x,)+) {
            #[allow(non_snake_case)]
            fn into_python(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
                let ($($x,)+) = self;
                Ok(PyTuple::new(py, [$($x.into_python(py)?),+])?.into_any())
            }
        }
    )*};
}
tuples!((A) (A B) (A B C) (A B C D) (A B C D E) (A B C D E F));
