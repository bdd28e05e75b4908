//! Errors a kernel reports for bad input.

use std::fmt;

/// Why a kernel could not run on its inputs.
///
/// A kernel whose return type is `Result<_, KernelError>` returns it; any other kernel panics
/// with its [`Display`](fmt::Display) text.
///
/// ```
/// use loopfuse_runtime::KernelError;
/// let e = KernelError::LengthMismatch { kernel: "hypot", left: "x", left_len: 1000, right: "y", right_len: 999 };
/// assert_eq!(e.to_string(), "kernel `hypot`: `x` has 1000 elements but `y` has 999");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KernelError {
    /// Two arrays combined elementwise have different lengths.
    LengthMismatch {
        /// The kernel's name.
        kernel: &'static str,
        /// The first operand, as written in the kernel.
        left: &'static str,
        /// Its length.
        left_len: usize,
        /// The second operand.
        right: &'static str,
        /// Its length.
        right_len: usize,
    },
    /// `min`, `max`, `argmin` or `argmax` of an empty array.
    Empty {
        /// The kernel's name.
        kernel: &'static str,
        /// The reduction, as written in the kernel (`x.min()`).
        reduction: &'static str,
    },
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelError::LengthMismatch { kernel, left, left_len, right, right_len } => {
                write!(f, "kernel `{kernel}`: `{left}` has {left_len} elements but `{right}` has {right_len}")
            }
            KernelError::Empty { kernel, reduction } => {
                write!(f, "kernel `{kernel}`: `{reduction}` of an empty array has no value")
            }
        }
    }
}

impl std::error::Error for KernelError {}
