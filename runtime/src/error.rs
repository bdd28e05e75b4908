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
    /// Two N-d operands whose shapes do not broadcast together (NumPy's rule: aligned on
    /// trailing axes, an axis of length 1 stretches). `left` is the operand that does not
    /// fit, `right` the earlier one that fixed the conflicting length.
    ///
    /// ```
    /// use loopfuse_runtime::KernelError;
    /// let e = KernelError::Broadcast {
    ///     kernel: "f",
    ///     left: "w",
    ///     left_shape: "[5]".into(),
    ///     right: "x",
    ///     right_shape: "[3, 4]".into(),
    /// };
    /// assert_eq!(e.to_string(), "kernel `f`: cannot broadcast `w` with shape [5] against `x` with shape [3, 4]");
    /// ```
    Broadcast {
        /// The kernel's name.
        kernel: &'static str,
        /// The operand that does not fit, as written in the kernel.
        left: &'static str,
        /// Its shape, as `[3, 4]`.
        left_shape: String,
        /// The operand it conflicts with.
        right: &'static str,
        /// Its shape.
        right_shape: String,
    },
    /// An axis given at run time (an `IxDyn` array's `sum_axis(Axis(k))`) at or past the
    /// array's rank.
    ///
    /// ```
    /// use loopfuse_runtime::KernelError;
    /// let e = KernelError::Axis { kernel: "f", text: "x.sum_axis(Axis(2))", axis: 2, rank: 2 };
    /// assert_eq!(e.to_string(), "kernel `f`: `x.sum_axis(Axis(2))`: axis 2 is out of bounds for an array of rank 2");
    /// ```
    Axis {
        /// The kernel's name.
        kernel: &'static str,
        /// The reduction, as written in the kernel.
        text: &'static str,
        /// The axis asked for.
        axis: usize,
        /// The array's rank.
        rank: usize,
    },
    /// A slice of an input outside a loop (`x[1..]`, `x.slice(s![..n - 1])`) past the
    /// array's end, or with its start past its end.
    ///
    /// ```
    /// use loopfuse_runtime::KernelError;
    /// let e = KernelError::Slice { kernel: "diff", text: "x[1..]", start: 1, end: 0, len: 0 };
    /// assert_eq!(e.to_string(), "kernel `diff`: slice `x[1..]` starts at 1, past its end 0 (the array has 0 elements)");
    /// ```
    Slice {
        /// The kernel's name.
        kernel: &'static str,
        /// The slice, as written in the kernel.
        text: &'static str,
        /// Its first index.
        start: usize,
        /// One past its last index.
        end: usize,
        /// The length of the array sliced.
        len: usize,
    },
    /// An element read outside a loop (`x[0]`, `x[x.len() - 1]`) past the array's end.
    ///
    /// ```
    /// use loopfuse_runtime::KernelError;
    /// let e = KernelError::Index { kernel: "ewma", text: "x[0]", index: 0, len: 0 };
    /// assert_eq!(e.to_string(), "kernel `ewma`: index out of bounds: `x[0]` reads index 0 of an array of 0 elements");
    /// ```
    Index {
        /// The kernel's name.
        kernel: &'static str,
        /// The read, as written in the kernel.
        text: &'static str,
        /// The index.
        index: usize,
        /// The array's length.
        len: usize,
    },
    /// An access in a loop nest (`u[[i + 1, j]]`) that reaches past an axis for some
    /// iteration: checked once, before the nest runs ([`crate::nd::window`]).
    ///
    /// ```
    /// use loopfuse_runtime::KernelError;
    /// let e = KernelError::Window { kernel: "laplacian", text: "u[[i + 1, j]]", axis: 0, first: 2, last: 5, shape: "[5, 6]".into() };
    /// assert_eq!(e.to_string(), "kernel `laplacian`: index out of bounds: `u[[i + 1, j]]` accesses indices 2..=5 of axis 0, of an array of shape [5, 6]");
    /// ```
    Window {
        /// The kernel's name.
        kernel: &'static str,
        /// The access, as written in the kernel.
        text: &'static str,
        /// The axis it reaches past.
        axis: usize,
        /// The first and last index it reads along that axis, over the nest's ranges.
        first: i128,
        /// See `first`.
        last: i128,
        /// The array's shape, as `[5, 6]`.
        shape: String,
    },
    /// An element of an N-d array read or written by index in a loop (`x[[i, j]]`), past the
    /// end of an axis: the first axis out of range is named.
    ///
    /// ```
    /// use loopfuse_runtime::KernelError;
    /// let e = KernelError::NdIndex {
    ///     kernel: "row_argmax",
    ///     text: "x[[i, j]]",
    ///     write: false,
    ///     index: vec![3, 0],
    ///     shape: "[3, 4]".into(),
    ///     axis: 0,
    /// };
    /// assert_eq!(e.to_string(), "kernel `row_argmax`: index out of bounds: `x[[i, j]]` reads index [3, 0] of an array of shape [3, 4] (axis 0)");
    /// ```
    NdIndex {
        /// The kernel's name.
        kernel: &'static str,
        /// The access, as written in the kernel.
        text: &'static str,
        /// A write (`out[[i, j]] = v`, `+=`, ..) rather than a read.
        write: bool,
        /// The index.
        index: Vec<usize>,
        /// The array's shape, as `[3, 4]`.
        shape: String,
        /// The first axis whose index is out of range.
        axis: usize,
    },
    /// An N-d array indexed with another number of indices than its rank (an `IxDyn` array:
    /// where the rank is in the type, this is a compile error).
    ///
    /// ```
    /// use loopfuse_runtime::KernelError;
    /// let e = KernelError::IndexRank { kernel: "f", text: "x[[i, j]]", given: 2, shape: "[2, 3, 4]".into(), rank: 3 };
    /// assert_eq!(e.to_string(), "kernel `f`: `x[[i, j]]` gives 2 indices for an array of shape [2, 3, 4] (rank 3)");
    /// ```
    IndexRank {
        /// The kernel's name.
        kernel: &'static str,
        /// The access, as written in the kernel.
        text: &'static str,
        /// The number of indices given.
        given: usize,
        /// The array's shape, as `[2, 3, 4]`.
        shape: String,
        /// The array's rank.
        rank: usize,
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
            KernelError::Broadcast { kernel, left, left_shape, right, right_shape } => write!(
                f,
                "kernel `{kernel}`: cannot broadcast `{left}` with shape {left_shape} against `{right}` with shape {right_shape}"
            ),
            KernelError::Axis { kernel, text, axis, rank } => {
                write!(f, "kernel `{kernel}`: `{text}`: axis {axis} is out of bounds for an array of rank {rank}")
            }
            KernelError::Slice { kernel, text, start, end, len } if start > end => {
                write!(f, "kernel `{kernel}`: slice `{text}` starts at {start}, past its end {end} (the array has {len} elements)")
            }
            KernelError::Slice { kernel, text, start, end, len } => {
                write!(f, "kernel `{kernel}`: slice `{text}` is {start}..{end}, out of bounds of an array of {len} elements")
            }
            KernelError::Index { kernel, text, index, len } => {
                write!(f, "kernel `{kernel}`: index out of bounds: `{text}` reads index {index} of an array of {len} elements")
            }
            KernelError::Window { kernel, text, axis, first, last, shape } if first == last => {
                write!(f, "kernel `{kernel}`: index out of bounds: `{text}` accesses index {first} of axis {axis}, of an array of shape {shape}")
            }
            KernelError::Window { kernel, text, axis, first, last, shape } => {
                write!(f, "kernel `{kernel}`: index out of bounds: `{text}` accesses indices {first}..={last} of axis {axis}, of an array of shape {shape}")
            }
            KernelError::NdIndex { kernel, text, write, index, shape, axis } => {
                let verb = if *write { "writes" } else { "reads" };
                write!(f, "kernel `{kernel}`: index out of bounds: `{text}` {verb} index {index:?} of an array of shape {shape} (axis {axis})")
            }
            KernelError::IndexRank { kernel, text, given, shape, rank } => {
                write!(f, "kernel `{kernel}`: `{text}` gives {given} indices for an array of shape {shape} (rank {rank})")
            }
        }
    }
}

impl std::error::Error for KernelError {}
